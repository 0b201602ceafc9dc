//! Quality checks: standalone (`Runtime::check`) and as the audit before publish.
//!
//! The audit runs the checks registered for a table on the **staged result**: a DataFusion
//! view of the table as it would be after the commit (the target's rows the load does not
//! replace, plus the load), registered under the table's own name so checks and custom SQL
//! see the post-commit state. Nothing is written until the blocking checks pass.

use chrono::NaiveDate;
use std::sync::Arc;

use datafusion::arrow::datatypes::DataType;
use datafusion::error::DataFusionError;
use datafusion::logical_expr::{ColumnarValue, ScalarUDF, Volatility, create_udf};
use datafusion::prelude::{SessionContext, col};
use phlo_core::keys::KeyIndex;
use phlo_core::metadata::PARTITION_DATE;
use phlo_core::names::TableName;
use phlo_core::partition::{PartitionKey, PartitionScope};
use phlo_ingest::write::{Staged, WritePlan};
use phlo_quality::{CheckScope, QualityReport, ScopeWindow, run_checks};

use super::Runtime;
use crate::plan::PlanStep;
use crate::registry::QualityAsset;
use crate::{Error, Result};

/// The outcome of [`Runtime::check`].
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct QualityRun {
    /// Every result, in asset and declaration order.
    pub report: QualityReport,
    /// Whether a failed `error` check of a blocking asset would block publication.
    pub blocked: bool,
}

/// The scope of a standalone check, from the asset's options: its partition, or without
/// one a rolling window of days (time-partitioned and unpartitioned tables; a statically
/// partitioned table has no days and is checked whole).
fn window(asset: &QualityAsset, partition: Option<&PartitionKey>, today: NaiveDate) -> ScopeWindow {
    let spec = &asset.descriptor.spec;
    match partition {
        _ if spec.full_table || !spec.partition_aware => ScopeWindow::Full,
        Some(k) => ScopeWindow::Partition(k.clone()),
        None if matches!(
            asset.partitions,
            phlo_core::partition::PartitionsDef::Static(_)
        ) =>
        {
            ScopeWindow::Full
        }
        None => ScopeWindow::Rolling {
            days: spec.rolling_window_days,
            until: today,
        },
    }
}

/// The column a window filters on: the asset's partition column for one partition, the
/// day for a rolling window.
fn window_column(asset: &QualityAsset, window: &ScopeWindow) -> &'static str {
    match window {
        ScopeWindow::Rolling { .. } if asset.descriptor.spec.partition_column.is_none() => {
            PARTITION_DATE
        }
        _ => asset.partition_column,
    }
}

impl Runtime {
    /// Runs every quality asset registered for `table` (`ns.name`) over the table as it is,
    /// scoped to `partition` (a key of the table's partitions definition) or, without one,
    /// to each asset's rolling window (or the full table when the asset says so). Results
    /// are appended to `_phlo.check_results`; a failing check is data in the report, not an
    /// error. A table that cannot be read is an error, never a failed check.
    pub async fn check(&self, table: &str, partition: Option<&str>) -> Result<QualityRun> {
        let table = TableName::parse(table)?;
        let partition = match (partition, self.registry.writer_of(&table)) {
            (Some(text), Some(writer)) => Some(writer.partitions.parse_key(text)?),
            (Some(text), None) => Some(PartitionKey::parse(text)?),
            (None, _) => None,
        };
        if self.store.version(&table).await?.is_none() {
            return Err(Error::UnknownTable {
                table: table.to_string(),
            });
        }
        let ctx = self.session().await?;
        let today = self.clock.now().date_naive();
        let (report, blocked) = self
            .run_quality(&ctx, &table, partition.as_ref(), None, None, |a| {
                window(a, partition.as_ref(), today)
            })
            .await?;
        Ok(QualityRun { report, blocked })
    }

    /// Runs the quality assets of `table` in `ctx`, records the results, and returns them
    /// with whether they block publication (a failed `error` check of a blocking asset).
    /// With a run, the checks are cut at its deadline (and nothing is recorded).
    async fn run_quality(
        &self,
        ctx: &SessionContext,
        table: &TableName,
        partition: Option<&PartitionKey>,
        run_id: Option<&str>,
        run: Option<&super::materialize::RunContext>,
        window_of: impl Fn(&QualityAsset) -> ScopeWindow,
    ) -> Result<(QualityReport, bool)> {
        let now = self.clock.now();
        let mut report = QualityReport {
            table: table.to_string(),
            partition: partition.map(ToString::to_string),
            results: Vec::new(),
        };
        let mut recorded: Vec<super::check_results::Recorded> = Vec::new();
        let mut blocked = false;
        let keys = self.key_columns(table);
        let checks = async {
            for asset in self.registry.quality_for(table) {
                let window = window_of(asset);
                let column = window_column(asset, &window);
                let scope = CheckScope::new(
                    ctx.clone(),
                    table.to_string(),
                    window,
                    column,
                    now,
                    keys.clone(),
                );
                let checks = asset.checks();
                let part = run_checks(&checks, &scope).await.map_err(|e| match e {
                    phlo_quality::Error::Storage { table, reason } => {
                        Error::Unreadable { table, reason }
                    }
                    other => Error::Core(phlo_core::Error::internal(other.to_string())),
                })?;
                let blocking = asset.descriptor.spec.blocking;
                blocked |= blocking && part.has_blocking_failure();
                for r in part.results {
                    recorded.push((asset.descriptor.name.to_string(), blocking, r.clone()));
                    report.results.push(r);
                }
            }
            Ok::<(), Error>(())
        };
        match run {
            Some(run) => run.bounded("audit", checks).await?,
            None => checks.await?,
        }
        super::check_results::record(self, table, partition, run_id, &recorded).await?;
        Ok((report, blocked))
    }

    /// The unique key of the ingestion asset writing `table`, for check samples.
    fn key_columns(&self, table: &TableName) -> Vec<String> {
        self.registry
            .writer_of(table)
            .map(|a| {
                a.descriptor
                    .spec
                    .unique_key
                    .iter()
                    .map(|k| k.to_string())
                    .collect()
            })
            .unwrap_or_default()
    }

    /// The audit: runs the table's checks on the staged result of the planned write — the
    /// table as the commit of `plan` will leave it — before that commit.
    pub(crate) async fn audit(
        &self,
        table: &TableName,
        plan: &WritePlan,
        key: &[&str],
        step: &PlanStep,
        run: &super::materialize::RunContext,
    ) -> Result<Option<(QualityReport, bool)>> {
        if self.registry.quality_for(table).is_empty() {
            return Ok(None);
        }
        let Some(staged_ctx) = run.bounded("audit", self.staged(table, plan, key)).await? else {
            return Ok(None);
        };
        let partition = step.partition.as_ref();
        let staged_window = match partition {
            Some(k) => ScopeWindow::Partition(k.clone()),
            None => ScopeWindow::Full,
        };
        let today = self.clock.now().date_naive();
        let outcome = self
            .run_quality(
                &staged_ctx,
                table,
                partition,
                Some(&run.run_id),
                Some(run),
                |a| {
                    if a.descriptor.spec.full_table || !a.descriptor.spec.partition_aware {
                        window(a, partition, today)
                    } else {
                        staged_window.clone()
                    }
                },
            )
            .await?;
        Ok(Some(outcome))
    }

    /// A session where `table` is the staged result of `plan` (`None`: no table, and the
    /// plan writes nothing).
    async fn staged(
        &self,
        table: &TableName,
        plan: &WritePlan,
        key: &[&str],
    ) -> Result<Option<SessionContext>> {
        let ctx = self.session().await?;
        let target = match self.store.provider(table).await? {
            Some(t) => Some(ctx.read_table(t)?),
            None => None,
        };
        let staged = match (plan.staged(), target) {
            (Staged::Unchanged, Some(target)) => target,
            (Staged::Unchanged, None) => return Ok(None),
            (Staged::Added(rows), None)
            | (Staged::Replaced(_, rows), None)
            | (Staged::Merged(_, rows), None) => ctx.read_batch(rows.clone())?,
            (Staged::Added(rows), Some(target)) => {
                target.union_by_name(ctx.read_batch(rows.clone())?)?
            }
            (Staged::Replaced(scope, rows), Some(target)) => {
                let rows = ctx.read_batch(rows.clone())?;
                match scope {
                    PartitionScope::Whole => rows,
                    PartitionScope::Key { .. } => target
                        .filter(scope.predicate().is_not_true())?
                        .union_by_name(rows)?,
                }
            }
            (Staged::Merged(index, rows), Some(target)) => {
                // The target's rows whose key the write does not replace, tested against
                // the same key index the commit's rewrite uses.
                let schema = target.schema().clone();
                let types = key
                    .iter()
                    .map(|k| {
                        schema
                            .field_with_unqualified_name(k)
                            .map(|f| f.data_type().clone())
                    })
                    .collect::<std::result::Result<Vec<_>, _>>()?;
                let not_replaced = not_in_index(index.clone(), types);
                let args = key.iter().map(|k| col(*k)).collect();
                target
                    .filter(not_replaced.call(args))?
                    .union_by_name(ctx.read_batch(rows.clone())?)?
            }
        };
        Ok(Some(
            self.session
                .context_with(vec![(table.clone(), staged.into_view())])
                .await?,
        ))
    }
}

/// A predicate over the key columns: `true` for rows whose key `index` does not hold.
fn not_in_index(index: Arc<KeyIndex>, types: Vec<DataType>) -> ScalarUDF {
    let fun = Arc::new(move |args: &[ColumnarValue]| {
        let arrays = ColumnarValue::values_to_arrays(args)?;
        let mask = index
            .keep_mask(&arrays)
            .map_err(|e| DataFusionError::External(Box::new(e)))?;
        Ok(ColumnarValue::Array(Arc::new(mask)))
    });
    create_udf(
        "phlo_not_replaced",
        types,
        DataType::Boolean,
        Volatility::Immutable,
        fun,
    )
}
