//! The runtime: lists assets, plans and runs materializations and backfills, answers SQL.
//!
//! ```text
//!  Runtime::materialize(asset, key) / backfill(asset, from, to)
//!    ├─ plan        crate::plan::plan — keys parsed and range-checked, one step each
//!    └─ run_plan    for each step, a RunContext (run id, clock, deadline):
//!         ├─ fetch      user fn, retried on transient errors, bounded by max_runtime_seconds
//!         ├─ prepare    phlo_ingest::prepare: coerce → validate → metadata → dedup
//!         ├─ audit      blocking checks on the staged result (Session over a lazy catalog)
//!         ├─ write      phlo_ingest::write: plan against the table → one atomic commit
//!         ├─ quarantine invalid rows → ns.<table>__quarantine (lenient mode)
//!         └─ record     one row in _phlo.runs; the RunReport is returned, also on failure
//! ```

mod audit;
mod backfill;
mod build;
mod catalog;
mod check_results;
mod cursors;
mod describe;
mod materialize;
mod publish;
mod retry;
mod runs;
mod status;
mod transform;
pub use backfill::{
    BackfillCounts, BackfillOptions, BackfillProgress, BackfillReport, Cancellation, Outcome,
    PartitionOutcome, ProgressFn, SkipReason,
};
pub use build::{BuildOutcome, BuildReport, BuildStatus};
pub use describe::{AssetDescription, ColumnInfo};

use std::path::{Path, PathBuf};
use std::sync::Arc;

use arrow::record_batch::RecordBatch;
use chrono::NaiveDate;
use datafusion::prelude::SessionContext;
use phlo_core::clock::{Clock, RunIdGenerator, SystemClock, UuidRunIds};
use phlo_core::partition::PartitionKey;
use phlo_core::storage::{DeltaStore, TableStore};

use crate::plan::{PartitionSelection, RunPlan, TableState};
use crate::registry::{AssetInfo, Registry};
use crate::report::RunReport;
use crate::{Error, Result};

pub use audit::QualityRun;
pub use catalog::Session;
pub(crate) use runs::runs_table;
pub use status::{AssetStatus, Freshness, PartitionStatus, freshness_hours_of};

/// Marker for materializing an unpartitioned asset: `rt.materialize("x", Unpartitioned)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Unpartitioned;

/// A partition argument of [`Runtime::materialize`]: a key's text (`&str`, `String`,
/// `&String`), a [`PartitionKey`], a date (a day), or [`Unpartitioned`]. Whatever it is, it
/// is parsed against the asset's own partitions definition before anything runs.
pub trait PartitionArg {
    /// The key's text form (`None`: unpartitioned).
    fn partition_text(&self) -> Option<String>;
}

impl PartitionArg for str {
    fn partition_text(&self) -> Option<String> {
        Some(self.to_string())
    }
}

impl PartitionArg for String {
    fn partition_text(&self) -> Option<String> {
        Some(self.clone())
    }
}

impl PartitionArg for NaiveDate {
    fn partition_text(&self) -> Option<String> {
        Some(self.format("%Y-%m-%d").to_string())
    }
}

impl PartitionArg for PartitionKey {
    fn partition_text(&self) -> Option<String> {
        Some(self.to_string())
    }
}

impl PartitionArg for Unpartitioned {
    fn partition_text(&self) -> Option<String> {
        None
    }
}

impl<T: PartitionArg> PartitionArg for Option<T> {
    fn partition_text(&self) -> Option<String> {
        self.as_ref().and_then(PartitionArg::partition_text)
    }
}

impl<T: PartitionArg + ?Sized> PartitionArg for &T {
    fn partition_text(&self) -> Option<String> {
        (**self).partition_text()
    }
}

/// A run that failed: its report (status `failed`, recorded in `_phlo.runs`) and the error.
#[derive(Debug)]
pub struct RunFailure {
    /// The report of the failed run.
    pub report: Box<RunReport>,
    /// Why it failed.
    pub error: Error,
}

impl std::fmt::Display for RunFailure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.error.fmt(f)
    }
}

impl std::error::Error for RunFailure {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.error.source()
    }
}

/// The phlo runtime over one warehouse.
#[derive(Debug, Clone)]
pub struct Runtime {
    store: Arc<dyn TableStore>,
    session: Session,
    registry: Arc<Registry>,
    /// The registry's asset graph, built (and validated) once.
    graph: Arc<crate::graph::AssetGraph>,
    clock: Arc<dyn Clock>,
    run_ids: Arc<dyn RunIdGenerator>,
    warehouse: PathBuf,
    /// Each asset's [`RunReport::code_version`], computed once.
    code_versions: Arc<std::collections::BTreeMap<String, String>>,
    /// Connection URLs by the environment variable they stand in for.
    connections: Arc<std::collections::BTreeMap<String, String>>,
}

/// Configures a [`Runtime`]: registry, store, clock and run ids are injectable.
#[derive(Debug)]
pub struct RuntimeBuilder {
    warehouse: PathBuf,
    registry: Option<Registry>,
    project: crate::transform::Project,
    store: Option<Arc<dyn TableStore>>,
    clock: Arc<dyn Clock>,
    run_ids: Arc<dyn RunIdGenerator>,
    connections: std::collections::BTreeMap<String, String>,
}

impl RuntimeBuilder {
    /// Uses `url` wherever a publication reads environment variable `env` (tests, or URLs
    /// from a secret store rather than the environment).
    pub fn connection(mut self, env: impl Into<String>, url: impl Into<String>) -> Self {
        self.connections.insert(env.into(), url.into());
        self
    }

    /// Uses these assets instead of every `#[ingestion]` and `#[quality]` of the binary.
    pub fn registry(mut self, registry: Registry) -> Self {
        self.registry = Some(registry);
        self
    }

    /// Adds a project's SQL models and seeds (`phlo::models!("models")`,
    /// `phlo::seeds!("seeds")`) to the registry.
    pub fn project(mut self, project: crate::transform::Project) -> Self {
        self.project = project;
        self
    }

    /// Uses this store instead of a [`DeltaStore`] on the warehouse directory.
    pub fn store(mut self, store: Arc<dyn TableStore>) -> Self {
        self.store = Some(store);
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

    /// Opens the warehouse (created by the first write) and validates the registry.
    pub async fn build(self) -> Result<Runtime> {
        let has_project = self.project != crate::transform::Project::default();
        let registry = match self.registry {
            Some(r) if has_project => r.with_project(self.project)?,
            Some(r) => r,
            // The project's models first, so `#[quality]` assets may check their tables.
            None if has_project => Registry::global_with_project(self.project)?,
            None => Registry::global()?,
        };
        let store: Arc<dyn TableStore> = match self.store {
            Some(s) => s,
            None => Arc::new(DeltaStore::open(&self.warehouse)?),
        };
        let code_versions = registry
            .iter()
            .map(|a| (a.descriptor.name.to_string(), backfill::code_version(a)))
            .collect();
        Ok(Runtime {
            code_versions: Arc::new(code_versions),
            session: Session::new(store.clone()),
            store,
            graph: Arc::new(registry.graph()?),
            registry: Arc::new(registry),
            clock: self.clock,
            run_ids: self.run_ids,
            warehouse: self.warehouse,
            connections: Arc::new(self.connections),
        })
    }
}

impl Runtime {
    /// Opens a local warehouse directory with every registered asset, the system clock and
    /// UUIDv7 run ids.
    ///
    /// ```no_run
    /// # async fn demo() -> phlo_runtime::Result<()> {
    /// let rt = phlo_runtime::Runtime::open("./warehouse").await?;
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
            project: crate::transform::Project::default(),
            store: None,
            clock: Arc::new(SystemClock),
            run_ids: Arc::new(UuidRunIds),
            connections: std::collections::BTreeMap::new(),
        }
    }

    /// The clock runs and the scheduler read and wait on.
    pub fn clock(&self) -> &Arc<dyn Clock> {
        &self.clock
    }

    /// The warehouse directory.
    pub fn warehouse(&self) -> &Path {
        &self.warehouse
    }

    /// The storage layer.
    pub fn store(&self) -> &Arc<dyn TableStore> {
        &self.store
    }

    /// The registry.
    pub fn registry(&self) -> &Registry {
        &self.registry
    }

    /// Registered ingestion assets, sorted by name.
    pub fn assets(&self) -> Vec<AssetInfo> {
        self.registry.iter().map(|a| a.info()).collect()
    }

    /// The plan for `selection` of `asset` against the warehouse as it is now: keys
    /// parsed and range-checked, nothing run.
    pub async fn plan(&self, asset: &str, selection: &PartitionSelection) -> Result<RunPlan> {
        let a = self.registry.get(asset)?;
        let state = TableState::new().with(a.table.clone(), self.store.version(&a.table).await?);
        crate::plan::plan(&self.registry, asset, selection, &state, self.clock.now())
    }

    /// Runs every step of `plan`, in order; a failing step is reported and the rest go on.
    /// Each outcome is the step's report, or its failure with the report.
    pub async fn run_plan(
        &self,
        plan: &RunPlan,
    ) -> Vec<std::result::Result<RunReport, RunFailure>> {
        let mut out = Vec::with_capacity(plan.steps.len());
        for step in &plan.steps {
            out.push(self.run_step(step).await);
        }
        out
    }

    /// Runs `query` over the warehouse, each table named `ns.table` (opened only when
    /// the query names it).
    ///
    /// ```no_run
    /// # async fn demo(rt: phlo_runtime::Runtime) -> phlo_runtime::Result<()> {
    /// let batches = rt.sql("SELECT count(*) FROM bronze.events").await?;
    /// # Ok(()) }
    /// ```
    pub async fn sql(&self, query: &str) -> Result<Vec<RecordBatch>> {
        let ctx = self
            .session
            .context_with(self.views_named_in(query).await?)
            .await?;
        let df = ctx.sql(query).await.map_err(Error::sql)?;
        df.collect().await.map_err(Error::sql)
    }

    /// The view models `query` names (by their table, `ns.name`), each planned over its
    /// upstreams, so `sql` reads them as it reads stored tables.
    async fn views_named_in(
        &self,
        query: &str,
    ) -> Result<
        Vec<(
            phlo_core::names::TableName,
            Arc<dyn datafusion::catalog::TableProvider>,
        )>,
    > {
        let mut out = Vec::new();
        let named = |t: &phlo_core::names::TableName| {
            query.contains(&t.to_string())
                || query.contains(&format!("\"{}\".\"{}\"", t.namespace(), t.name()))
        };
        for asset in self
            .registry
            .iter()
            .filter(|a| a.is_view() && named(&a.table))
        {
            if let crate::registry::AssetSource::Sql(model) = &asset.source {
                let df = self.model_frame(asset, model, None, false).await?;
                out.push((asset.table.clone(), df.into_view()));
            }
        }
        Ok(out)
    }

    /// A DataFusion session where every table is `ns.table`, opened on first reference.
    pub async fn session(&self) -> Result<SessionContext> {
        self.session.context().await
    }

    /// Waits for the storage maintenance still running after commits returned (a Delta
    /// table's checkpoints, written off the run's path). The CLI calls it before exiting; a
    /// program that ends without it loses nothing but a checkpoint.
    pub async fn settle(&self) {
        self.store.settle().await;
    }

    /// The asset graph of the registry.
    pub fn graph(&self) -> &crate::graph::AssetGraph {
        &self.graph
    }

    /// The fingerprint of `asset`'s definition ([`RunReport::code_version`]); empty for
    /// a name the registry does not hold.
    pub fn code_version(&self, asset: &str) -> String {
        self.code_versions.get(asset).cloned().unwrap_or_default()
    }

    /// Every recorded run, oldest first.
    pub async fn runs(&self) -> Result<Vec<RunReport>> {
        runs::read_runs(self).await
    }
}
