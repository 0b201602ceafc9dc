//! Quality checks: standalone (`Runtime::check`) and as the audit before publish.
//!
//! The audit runs the checks registered for a table on the **staged result**: a DataFusion
//! view of the table as it would be after the commit (the target's rows the load does not
//! replace, plus the load), registered under the table's own name so checks and custom SQL
//! see the post-commit state. Nothing is written until the blocking checks pass.

use arrow::record_batch::RecordBatch;
use chrono::NaiveDate;
use datafusion::common::JoinType;
use datafusion::prelude::{SessionContext, col};
use phlo_core::metadata::PARTITION_DATE;
use phlo_core::names::TableName;
use phlo_core::partition::{PartitionKey, PartitionScope};
use phlo_core::spec::MergeStrategy;
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
            .run_quality(&ctx, &table, partition.as_ref(), None, |a| {
                window(a, partition.as_ref(), today)
            })
            .await?;
        Ok(QualityRun { report, blocked })
    }

    /// Runs the quality assets of `table` in `ctx`, records the results, and returns them
    /// with whether they block publication (a failed `error` check of a blocking asset).
    async fn run_quality(
        &self,
        ctx: &SessionContext,
        table: &TableName,
        partition: Option<&PartitionKey>,
        run_id: Option<&str>,
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

    /// The audit: runs the table's checks on the staged result of `load` before the commit.
    pub(crate) async fn audit(
        &self,
        table: &TableName,
        load: &RecordBatch,
        strategy: MergeStrategy,
        key: &[&str],
        step: &PlanStep,
        run_id: &str,
    ) -> Result<Option<(QualityReport, bool)>> {
        if self.registry.quality_for(table).is_empty() {
            return Ok(None);
        }
        let scope = &step.scope;
        let ctx = self.session().await?;
        let staged = ctx.read_batch(load.clone())?;
        let staged = match self.store.provider(table).await? {
            None => staged,
            Some(target) => {
                let target = ctx.read_table(target)?;
                let kept = match strategy {
                    MergeStrategy::Append => target,
                    MergeStrategy::ReplacePartition => match scope {
                        PartitionScope::Whole => target.limit(0, Some(0))?,
                        PartitionScope::Key { .. } => {
                            target.filter(scope.predicate().is_not_true())?
                        }
                    },
                    MergeStrategy::Merge => {
                        let keys = ctx.read_batch(
                            load.project(
                                &key.iter()
                                    .filter_map(|k| load.schema().index_of(k).ok())
                                    .collect::<Vec<_>>(),
                            )?,
                        )?;
                        let renamed: Vec<String> =
                            key.iter().map(|k| format!("__phlo_key_{k}")).collect();
                        let keys = keys.select(
                            key.iter()
                                .zip(&renamed)
                                .map(|(k, r)| col(*k).alias(r))
                                .collect::<Vec<_>>(),
                        )?;
                        let left: Vec<&str> = key.to_vec();
                        let right: Vec<&str> = renamed.iter().map(String::as_str).collect();
                        target.join(keys, JoinType::LeftAnti, &left, &right, None)?
                    }
                };
                kept.union_by_name(staged)?
            }
        };
        let staged_ctx = self
            .session
            .context_with(vec![(table.clone(), staged.into_view())])
            .await?;
        let partition = step.partition.as_ref();
        let staged_window = match partition {
            Some(k) => ScopeWindow::Partition(k.clone()),
            None => ScopeWindow::Full,
        };
        let today = self.clock.now().date_naive();
        let outcome = self
            .run_quality(&staged_ctx, table, partition, Some(run_id), |a| {
                if a.descriptor.spec.full_table || !a.descriptor.spec.partition_aware {
                    window(a, partition, today)
                } else {
                    staged_window.clone()
                }
            })
            .await?;
        Ok(Some(outcome))
    }
}
