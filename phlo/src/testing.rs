//! Testing a pipeline: throwaway warehouses and the laws every asset should keep.
//!
//! [`TestWarehouse`] is a warehouse in a temporary directory (removed on drop) with a
//! fixed clock and sequential run ids (`<prefix>-000001`, …), so runs are reproducible;
//! it dereferences to its [`Runtime`]. The law helpers run an asset in fresh warehouses
//! of the same definition and compare the tables' rows — every column but
//! `_phlo_run_id` and `_phlo_ingested_at`, which depend on the run:
//!
//! | helper | the law |
//! |---|---|
//! | [`TestWarehouse::assert_idempotent`] | running a partition again creates no table version |
//! | [`TestWarehouse::assert_backfill_is_sequential`] | a parallel backfill equals running the partitions one by one, in order (and in reverse order: partitions of one asset may commit in any order) |
//! | [`TestWarehouse::assert_incremental_equals_full`] | a model built incrementally, after each upstream partition, equals one full build |
//!
//! [`TestWarehouse::serve_for`] runs a scheduler over the warehouse on a [`VirtualClock`]
//! for a span of virtual time: every tick due in it fires at its instant, with no real
//! waiting.
//!
//! Each law helper returns `Result<(), LawViolation>` and never panics: a broken law is
//! [`LawViolation::Violated`] with a readable diff, a run that could not be made is
//! [`LawViolation::Run`]. In a test, `?` it (a test returning
//! `Result<(), Box<dyn std::error::Error>>`) or `unwrap` it.
//!
//! ```no_run
//! use phlo::testing::TestWarehouse;
//!
//! # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
//! let w = TestWarehouse::builder().build().await?;
//! w.materialize_range("api_events", "2025-01-01"..="2025-01-07").await?;
//! w.assert_idempotent("api_events", "2025-01-03").await?;
//! w.assert_backfill_is_sequential("api_events", "2025-01-01", "2025-01-07").await?;
//! # Ok(()) }
//! ```

use std::collections::BTreeMap;
use std::ops::{Deref, RangeInclusive};
use std::path::Path;
use std::sync::Arc;

use arrow::record_batch::RecordBatch;
use chrono::{DateTime, Utc};
use phlo_core::clock::{FixedClock, SequentialRunIds};
use phlo_core::metadata::{INGESTED_AT, RUN_ID};

use crate::{BackfillOptions, BackfillReport, Error, PartitionArg, Project, Registry, Runtime};

/// The clock that moves only when told, for driving a scheduler (`phlo::schedule`) or
/// anything else that waits on the runtime's clock without real sleeping (the same type
/// as `phlo::VirtualClock`).
pub use phlo_core::clock::VirtualClock;

/// A law an asset broke, or a run the law needed that could not be made.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum LawViolation {
    /// Setting up or running the law failed (the asset's own error, a bad key, …).
    #[error("the law could not be checked: {0}")]
    Run(#[from] Error),
    /// The asset broke the law: `detail` says how, with the rows that differ.
    #[error("`{asset}` breaks the law {law}: {detail}")]
    Violated {
        /// The law (`idempotent`, `backfill_is_sequential`, `incremental_equals_full`).
        law: &'static str,
        /// The asset (or selection).
        asset: String,
        /// What differs.
        detail: String,
    },
}

/// What a [`TestWarehouse`] is made of; fresh warehouses of the laws use the same.
#[derive(Debug, Clone)]
struct Definition {
    registry: Option<Registry>,
    project: Project,
    now: DateTime<Utc>,
    prefix: String,
}

/// Configures a [`TestWarehouse`].
#[derive(Debug, Clone)]
pub struct TestWarehouseBuilder {
    def: Definition,
}

impl TestWarehouseBuilder {
    /// These assets instead of every registered one.
    pub fn registry(mut self, registry: Registry) -> Self {
        self.def.registry = Some(registry);
        self
    }

    /// A project's SQL models and seeds, added to the registry.
    pub fn project(mut self, project: Project) -> Self {
        self.def.project = project;
        self
    }

    /// The clock's instant (default 2025-01-15T12:00:00Z).
    pub fn now(mut self, now: DateTime<Utc>) -> Self {
        self.def.now = now;
        self
    }

    /// The run ids' prefix (default `test`): runs are `<prefix>-000001`, ….
    pub fn run_ids(mut self, prefix: impl Into<String>) -> Self {
        self.def.prefix = prefix.into();
        self
    }

    /// Creates the temporary directory and opens the runtime over it.
    pub async fn build(self) -> crate::Result<TestWarehouse> {
        TestWarehouse::open(self.def).await
    }
}

/// A warehouse in a temporary directory with a fixed clock and sequential run ids.
#[derive(Debug)]
pub struct TestWarehouse {
    runtime: Runtime,
    clock: Arc<FixedClock>,
    run_ids: Arc<SequentialRunIds>,
    def: Definition,
    // Last: the directory outlives the runtime's handles on it.
    dir: tempfile::TempDir,
}

impl Deref for TestWarehouse {
    type Target = Runtime;
    fn deref(&self) -> &Runtime {
        &self.runtime
    }
}

fn noon_2025_01_15() -> DateTime<Utc> {
    DateTime::from_timestamp(1_736_942_400, 0).unwrap_or_default()
}

impl TestWarehouse {
    /// A builder: every registered asset, no project, the clock at 2025-01-15T12:00Z,
    /// run ids `test-000001`, ….
    pub fn builder() -> TestWarehouseBuilder {
        TestWarehouseBuilder {
            def: Definition {
                registry: None,
                project: Project::default(),
                now: noon_2025_01_15(),
                prefix: "test".into(),
            },
        }
    }

    async fn open(def: Definition) -> crate::Result<TestWarehouse> {
        let dir = tempfile::tempdir()?;
        let clock = Arc::new(FixedClock::new(def.now));
        let run_ids = Arc::new(SequentialRunIds::new(def.prefix.clone()));
        let runtime = Self::runtime_over(&def, dir.path(), clock.clone(), run_ids.clone()).await?;
        Ok(TestWarehouse {
            runtime,
            clock,
            run_ids,
            def,
            dir,
        })
    }

    async fn runtime_over(
        def: &Definition,
        dir: &Path,
        clock: Arc<dyn phlo_core::clock::Clock>,
        run_ids: Arc<SequentialRunIds>,
    ) -> crate::Result<Runtime> {
        let mut builder = Runtime::builder(dir)
            .project(def.project)
            .clock(clock)
            .run_ids(run_ids);
        if let Some(r) = &def.registry {
            builder = builder.registry(r.clone());
        }
        builder.build().await
    }

    /// Runs a scheduler (`serve`) over this warehouse on a [`VirtualClock`] that starts
    /// at the warehouse's instant and is advanced by `span`: every tick due within it
    /// fires at its own instant, in order, with no real waiting; then the scheduler is
    /// stopped. Returns the runs it made (their ids continue this warehouse's sequence).
    pub async fn serve_for(
        &self,
        options: crate::schedule::ScheduleOptions,
        span: std::time::Duration,
    ) -> crate::Result<Vec<crate::schedule::ScheduledRun>> {
        let clock = Arc::new(VirtualClock::new(self.def.now));
        let rt = Self::runtime_over(
            &self.def,
            self.dir.path(),
            clock.clone(),
            self.run_ids.clone(),
        )
        .await?;
        let scheduler = crate::schedule::Scheduler::new(&rt, options)?;
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let mut serving = tokio::spawn(async move {
            scheduler
                .serve(async {
                    let _ = stopped.await;
                })
                .await
        });
        let joined = |r: Result<crate::Result<_>, tokio::task::JoinError>| {
            r.map_err(|e| {
                Error::Core(phlo_core::Error::internal(format!(
                    "the scheduler task failed: {e}"
                )))
            })?
        };
        // A scheduler that ends before it first sleeps (it could not start) says why.
        tokio::select! {
            _ = clock.sleeping() => {}
            ended = &mut serving => return joined(ended),
        }
        clock.advance(span).await;
        let _ = stop.send(());
        joined(serving.await)
    }

    /// Another, empty warehouse of the same assets, clock and run-id prefix.
    pub async fn fresh(&self) -> crate::Result<TestWarehouse> {
        TestWarehouse::open(self.def.clone()).await
    }

    /// The runtime.
    pub fn runtime(&self) -> &Runtime {
        &self.runtime
    }

    /// The warehouse directory.
    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    /// The fixed clock (its `sleeps` show retry backoffs).
    pub fn clock(&self) -> &Arc<FixedClock> {
        &self.clock
    }

    /// Materializes `asset`'s partitions `from..=to` one by one, in order, every one of
    /// them (none is skipped as up to date); the report lists them.
    pub async fn materialize_range(
        &self,
        asset: &str,
        range: RangeInclusive<&str>,
    ) -> crate::Result<BackfillReport> {
        self.runtime
            .backfill(asset, range.start(), range.end())
            .await
    }

    /// `table`'s rows as sorted lines (`column=value, …`), without `_phlo_run_id` and
    /// `_phlo_ingested_at`; empty when the table does not exist.
    pub async fn rows(&self, table: &str) -> crate::Result<Vec<String>> {
        let name = phlo_core::names::TableName::parse(table)?;
        if self.runtime.store().version(&name).await?.is_none() {
            return Ok(Vec::new());
        }
        let batches = self
            .runtime
            .sql(&format!(
                "SELECT * FROM \"{}\".\"{}\"",
                name.namespace(),
                name.name()
            ))
            .await?;
        rows_of(&batches)
    }

    /// The law of idempotency: running `asset`'s `partition` again, here, creates no new
    /// version of its table (the first run is made here too).
    pub async fn assert_idempotent(
        &self,
        asset: &str,
        partition: impl PartitionArg,
    ) -> Result<(), LawViolation> {
        let key = partition.partition_text();
        let table = self.runtime.registry().get(asset)?.table.to_string();
        self.runtime.materialize(asset, key.clone()).await?;
        let (before, rows_before) = (self.version_of(&table).await?, self.rows(&table).await?);
        let again = self.runtime.materialize(asset, key.clone()).await?;
        let after = self.version_of(&table).await?;
        if before == after {
            return Ok(());
        }
        let diff = diff_rows(
            "after the first run",
            &rows_before,
            "after the second",
            &self.rows(&table).await?,
        );
        Err(LawViolation::Violated {
            law: "idempotent",
            asset: asset.to_string(),
            detail: format!(
                "running partition {} again moved `{table}` from version {} to {} (run {}: {} inserted, {} updated, {} deleted){diff}",
                key.as_deref().unwrap_or("-"),
                show(before),
                show(after),
                again.run_id,
                again.rows_inserted,
                again.rows_updated,
                again.rows_deleted,
            ),
        })
    }

    /// The law of backfills: `selection` backfilled over `from..=to` in parallel, in one
    /// fresh warehouse, equals the same partitions run one by one in order in another —
    /// and in a third, each asset's partitions in reverse order (a parallel backfill may
    /// commit the partitions of one asset in any order). Every selected asset's table is
    /// compared.
    pub async fn assert_backfill_is_sequential(
        &self,
        selection: &str,
        from: &str,
        to: &str,
    ) -> Result<(), LawViolation> {
        let in_order = self.fresh().await?;
        let sequential = in_order
            .backfill_selection(
                selection,
                from,
                to,
                &BackfillOptions::new().parallel(1).force(true),
            )
            .await?;
        let parallel = self.fresh().await?;
        parallel
            .backfill_selection(
                selection,
                from,
                to,
                &BackfillOptions::new()
                    .parallel(phlo_core::parallel::cores().max(4))
                    .force(true),
            )
            .await?;
        let reversed = self.fresh().await?;
        let mut by_asset: Vec<(String, Vec<Option<String>>)> = Vec::new();
        for p in &sequential.partitions {
            match by_asset.last_mut() {
                Some((a, keys)) if *a == p.asset => keys.push(p.partition.clone()),
                _ => by_asset.push((p.asset.clone(), vec![p.partition.clone()])),
            }
        }
        for (asset, keys) in &by_asset {
            for key in keys.iter().rev() {
                if let Err(e) = reversed.materialize(asset, key.clone()).await {
                    tracing::debug!(asset, error = %e, "a partition failed in reverse order");
                }
            }
        }
        for (asset, _) in &by_asset {
            let table = self.runtime.registry().get(asset)?.table.to_string();
            let expected = in_order.rows(&table).await?;
            for (how, other) in [("in reverse order", &reversed), ("in parallel", &parallel)] {
                let got = other.rows(&table).await?;
                if got != expected {
                    return Err(LawViolation::Violated {
                        law: "backfill_is_sequential",
                        asset: selection.to_string(),
                        detail: format!(
                            "`{table}` backfilled {how} differs from the partitions run one by one in order{}",
                            diff_rows("in order", &expected, how, &got)
                        ),
                    });
                }
            }
        }
        Ok(())
    }

    /// The law of incremental models: `model` built after each upstream partition of
    /// `range` lands (so every run after the first is incremental), in one fresh
    /// warehouse, equals one build after all of them, in another.
    pub async fn assert_incremental_equals_full(
        &self,
        model: &str,
        range: RangeInclusive<&str>,
    ) -> Result<(), LawViolation> {
        let asset = self.runtime.registry().get(model)?;
        if matches!(asset.source, crate::registry::AssetSource::Fetch) {
            return Err(Error::InvalidArgument {
                message: format!("`{model}` is an ingestion asset, not a transform"),
            }
            .into());
        }
        let table = asset.table.to_string();
        let selection = format!("+{model}");
        let (from, to) = (*range.start(), *range.end());
        // The range's keys, in the form of the first selected asset that takes them.
        let mut keys = Vec::new();
        for name in self.runtime.select(&selection, None)? {
            let Ok(a) = self.runtime.registry().get(&name) else {
                continue;
            };
            if let (Ok(f), Ok(t)) = (a.partitions.parse_key(from), a.partitions.parse_key(to)) {
                keys = a
                    .partitions
                    .keys_between(&f, &t)
                    .map_err(Error::from)?
                    .iter()
                    .map(ToString::to_string)
                    .collect();
                break;
            }
        }
        if keys.is_empty() {
            return Err(Error::InvalidArgument {
                message: format!("no asset of `{selection}` takes keys `{from}`..`{to}`"),
            }
            .into());
        }
        let incremental = self.fresh().await?;
        let one_by_one = BackfillOptions::new().parallel(1).force(true);
        for key in &keys {
            incremental
                .backfill_selection(&selection, key, key, &one_by_one)
                .await?;
        }
        let full = self.fresh().await?;
        full.backfill_selection(&selection, from, to, &BackfillOptions::new().parallel(1))
            .await?;
        let (expected, got) = (full.rows(&table).await?, incremental.rows(&table).await?);
        if expected == got {
            return Ok(());
        }
        Err(LawViolation::Violated {
            law: "incremental_equals_full",
            asset: model.to_string(),
            detail: format!(
                "`{table}` built after each of {} upstream partitions differs from one full build{}",
                keys.len(),
                diff_rows("full", &expected, "incremental", &got)
            ),
        })
    }

    async fn version_of(&self, table: &str) -> crate::Result<Option<i64>> {
        let name = phlo_core::names::TableName::parse(table)?;
        Ok(self.runtime.store().version(&name).await?)
    }
}

fn show(v: Option<i64>) -> String {
    v.map_or_else(|| "none".into(), |v| v.to_string())
}

/// Rows as sorted `column=value, …` lines, without the run-dependent metadata columns.
fn rows_of(batches: &[RecordBatch]) -> crate::Result<Vec<String>> {
    use arrow::util::display::{ArrayFormatter, FormatOptions};
    let options = FormatOptions::default().with_null("null");
    let mut rows = Vec::new();
    for b in batches {
        let schema = b.schema();
        let mut columns = Vec::new();
        for (i, f) in schema.fields().iter().enumerate() {
            if f.name() == RUN_ID || f.name() == INGESTED_AT {
                continue;
            }
            columns.push((
                f.name().clone(),
                ArrayFormatter::try_new(b.column(i).as_ref(), &options)?,
            ));
        }
        for r in 0..b.num_rows() {
            let cells: Vec<String> = columns
                .iter()
                .map(|(name, fmt)| format!("{name}={}", fmt.value(r)))
                .collect();
            rows.push(cells.join(", "));
        }
    }
    rows.sort();
    Ok(rows)
}

/// The rows only one side has (at most 10 each), as indented lines.
fn diff_rows(left: &str, a: &[String], right: &str, b: &[String]) -> String {
    fn count(rows: &[String]) -> BTreeMap<&str, i64> {
        let mut m: BTreeMap<&str, i64> = BTreeMap::new();
        for r in rows {
            *m.entry(r.as_str()).or_default() += 1;
        }
        m
    }
    let (ca, cb) = (count(a), count(b));
    let only = |x: &BTreeMap<&str, i64>, y: &BTreeMap<&str, i64>| -> Vec<String> {
        x.iter()
            .flat_map(|(row, n)| {
                let extra = n - y.get(row).copied().unwrap_or(0);
                std::iter::repeat_n((*row).to_string(), extra.max(0) as usize)
            })
            .collect()
    };
    let mut out = format!(" ({} rows {left}, {} {right})", a.len(), b.len());
    for (label, rows) in [(left, only(&ca, &cb)), (right, only(&cb, &ca))] {
        if rows.is_empty() {
            continue;
        }
        out.push_str(&format!("\n  only {label} ({}):", rows.len()));
        for r in rows.iter().take(10) {
            out.push_str(&format!("\n    {r}"));
        }
        if rows.len() > 10 {
            out.push_str(&format!("\n    … {} more", rows.len() - 10));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::diff_rows;

    #[test]
    fn a_diff_lists_the_rows_only_one_side_has() {
        let a = vec!["id=1".to_string(), "id=2".to_string(), "id=2".to_string()];
        let b = vec!["id=2".to_string(), "id=3".to_string()];
        assert_eq!(
            diff_rows("left", &a, "right", &b),
            " (3 rows left, 2 right)\n  only left (2):\n    id=1\n    id=2\n  only right (1):\n    id=3"
        );
    }
}
