//! The runtime: lists assets, materializes partitions, backfills ranges, answers SQL.
//!
//! ```text
//!  Runtime::materialize(asset, partition)
//!    ├─ fetch      user fn, retried on transient errors, bounded by max_runtime_seconds
//!    ├─ prepare    phlo_ingest::prepare: coerce → validate → metadata → dedup
//!    ├─ write      phlo_ingest::write: plan against the table → one atomic commit
//!    ├─ quarantine invalid rows → ns.<table>__quarantine (lenient mode)
//!    └─ record     one row in _phlo.runs; RunReport returned
//! ```

mod audit;
mod check_results;
mod materialize;
mod retry;
mod runs;

use std::path::{Path, PathBuf};
use std::sync::Arc;

use arrow::record_batch::RecordBatch;
use datafusion::catalog::{MemorySchemaProvider, SchemaProvider};
use datafusion::prelude::SessionContext;
use phlo_core::clock::{Clock, RunIdGenerator, SystemClock, UuidRunIds};
use phlo_core::partition::PartitionKey;
use phlo_core::storage::{DeltaStore, TableStore};

use crate::registry::{AssetInfo, Registry};
use crate::report::{BackfillReport, RunReport};
use crate::{Error, Result};

pub use audit::QualityRun;
pub use materialize::PartitionArg;

/// Marker for materializing an unpartitioned asset: `rt.materialize("x", Unpartitioned)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Unpartitioned;

/// The phlo runtime over one warehouse.
#[derive(Debug, Clone)]
pub struct Runtime {
    store: Arc<dyn TableStore>,
    registry: Arc<Registry>,
    clock: Arc<dyn Clock>,
    run_ids: Arc<dyn RunIdGenerator>,
    warehouse: PathBuf,
}

/// Configures a [`Runtime`]: registry, clock and run ids are injectable.
#[derive(Debug)]
pub struct RuntimeBuilder {
    warehouse: PathBuf,
    registry: Option<Registry>,
    clock: Arc<dyn Clock>,
    run_ids: Arc<dyn RunIdGenerator>,
}

impl RuntimeBuilder {
    /// Uses these assets instead of every `#[ingestion]` of the binary.
    pub fn registry(mut self, registry: Registry) -> Self {
        self.registry = Some(registry);
        self
    }

    /// Uses this clock (e.g. [`phlo_core::clock::FixedClock`] in tests).
    pub fn clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.clock = clock;
        self
    }

    /// Uses these run ids (e.g. [`phlo_core::clock::SequentialRunIds`] in tests).
    pub fn run_ids(mut self, run_ids: Arc<dyn RunIdGenerator>) -> Self {
        self.run_ids = run_ids;
        self
    }

    /// Opens the warehouse (created when missing) and validates the registry.
    pub async fn build(self) -> Result<Runtime> {
        let registry = match self.registry {
            Some(r) => r,
            None => Registry::global()?,
        };
        let store = DeltaStore::open(&self.warehouse)?;
        Ok(Runtime {
            store: Arc::new(store),
            registry: Arc::new(registry),
            clock: self.clock,
            run_ids: self.run_ids,
            warehouse: self.warehouse,
        })
    }
}

impl Runtime {
    /// Opens a local warehouse directory with every registered asset, the system clock and
    /// UUIDv7 run ids.
    ///
    /// ```no_run
    /// # async fn demo() -> phlo::Result<()> {
    /// let rt = phlo::Runtime::open("./warehouse").await?;
    /// for asset in rt.assets() {
    ///     println!("{} → {}", asset.name, asset.table);
    /// }
    /// # Ok(()) }
    /// ```
    pub async fn open(warehouse: impl AsRef<Path>) -> Result<Self> {
        Self::builder(warehouse).build().await
    }

    /// A builder for a runtime over `warehouse`.
    pub fn builder(warehouse: impl AsRef<Path>) -> RuntimeBuilder {
        RuntimeBuilder {
            warehouse: warehouse.as_ref().to_path_buf(),
            registry: None,
            clock: Arc::new(SystemClock),
            run_ids: Arc::new(UuidRunIds),
        }
    }

    /// The warehouse directory.
    pub fn warehouse(&self) -> &Path {
        &self.warehouse
    }

    /// The storage layer.
    pub fn store(&self) -> &Arc<dyn TableStore> {
        &self.store
    }

    /// Registered assets, sorted by name.
    pub fn assets(&self) -> Vec<AssetInfo> {
        self.registry.iter().map(|a| a.info()).collect()
    }

    /// Materializes every day from `from` to `to` (inclusive, `YYYY-MM-DD`), one run per
    /// partition, in order. A failing partition is reported and the backfill goes on.
    pub async fn backfill(&self, asset: &str, from: &str, to: &str) -> Result<BackfillReport> {
        self.registry.get(asset)?;
        let (from, to) = (PartitionKey::parse(from)?, PartitionKey::parse(to)?);
        if from > to {
            return Err(Error::InvalidArgument {
                message: format!("backfill range is empty: {from} is after {to}"),
            });
        }
        let mut runs = Vec::new();
        for key in PartitionKey::range(from, to) {
            let report = match self.materialize(asset, key).await {
                Ok(report) => report,
                Err(_) => self.last_failed_report(asset, &key.to_string()).await?,
            };
            runs.push(report);
        }
        Ok(BackfillReport {
            asset: asset.to_string(),
            runs,
        })
    }

    /// Runs `query` over every table of the warehouse, each named `ns.table`.
    ///
    /// ```no_run
    /// # async fn demo(rt: phlo::Runtime) -> phlo::Result<()> {
    /// let batches = rt.sql("SELECT count(*) FROM bronze.events").await?;
    /// # Ok(()) }
    /// ```
    pub async fn sql(&self, query: &str) -> Result<Vec<RecordBatch>> {
        let ctx = self.session().await?;
        let df = ctx.sql(query).await.map_err(Error::sql)?;
        df.collect().await.map_err(Error::sql)
    }

    /// A DataFusion session with every table registered as `ns.table`.
    pub async fn session(&self) -> Result<SessionContext> {
        let ctx = SessionContext::new();
        let catalog = ctx
            .catalog("datafusion")
            .ok_or_else(|| phlo_core::Error::internal("default catalog missing"))?;
        for table in self.store.list_tables().await? {
            let schema = match catalog.schema(table.namespace()) {
                Some(s) => s,
                None => {
                    let s: Arc<dyn SchemaProvider> = Arc::new(MemorySchemaProvider::new());
                    catalog
                        .register_schema(table.namespace(), s.clone())
                        .map_err(Error::sql)?;
                    s
                }
            };
            if let Some(provider) = self.store.provider(&table).await? {
                schema
                    .register_table(table.name().to_string(), provider)
                    .map_err(Error::sql)?;
            }
        }
        Ok(ctx)
    }

    /// Every recorded run, oldest first.
    pub async fn runs(&self) -> Result<Vec<RunReport>> {
        runs::read_runs(self).await
    }

    async fn last_failed_report(&self, asset: &str, partition: &str) -> Result<RunReport> {
        let runs = self.runs().await?;
        runs.into_iter()
            .rev()
            .find(|r| r.asset == asset && r.partition.as_deref() == Some(partition))
            .ok_or_else(|| phlo_core::Error::internal("failed run was not recorded").into())
    }
}
