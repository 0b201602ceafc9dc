//! Quality checks: standalone (`Runtime::check`) and as the audit before publish.
//!
//! The audit runs the checks registered for a table on the **staged result**: a DataFusion
//! view of the table as it would be after the commit (the target's rows the load does not
//! replace, plus the load), registered under the table's own name so checks and custom SQL
//! see the post-commit state. Nothing is written until the blocking checks pass.

use std::sync::Arc;

use arrow::record_batch::RecordBatch;
use chrono::NaiveDate;
use datafusion::common::JoinType;
use datafusion::prelude::{SessionContext, col};
use phlo_core::names::TableName;
use phlo_core::spec::MergeStrategy;
use phlo_core::storage::{PartitionScope, scope_predicate};
use phlo_quality::{CheckScope, QualityReport, ScopeWindow, run_checks};

use super::Runtime;
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

/// The scope of a standalone check, from the asset's options.
fn window(asset: &QualityAsset, partition: Option<NaiveDate>, today: NaiveDate) -> ScopeWindow {
    let spec = &asset.descriptor.spec;
    match partition {
        _ if spec.full_table || !spec.partition_aware => ScopeWindow::Full,
        Some(d) => ScopeWindow::Partition(d),
        None => ScopeWindow::Rolling {
            days: spec.rolling_window_days,
            until: today,
        },
    }
}

impl Runtime {
    /// Runs every quality asset registered for `table` (`ns.name`) over the table as it is,
    /// scoped to `partition` (`YYYY-MM-DD`) or, without one, to each asset's rolling window
    /// (or the full table when the asset says so). Results are appended to
    /// `_phlo.check_results`; a failing check is data in the report, not an error.
    pub async fn check(&self, table: &str, partition: Option<&str>) -> Result<QualityRun> {
        let table = TableName::parse(table)?;
        let partition = partition
            .map(phlo_core::partition::PartitionKey::parse)
            .transpose()?
            .map(|k| k.date());
        if self.store.version(&table).await?.is_none() {
            return Err(Error::UnknownTable {
                table: table.to_string(),
            });
        }
        let ctx = self.session().await?;
        let today = self.clock.now().date_naive();
        let (report, blocked) = self
            .run_quality(&ctx, &table, partition, None, |a| {
                window(a, partition, today)
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
        partition: Option<NaiveDate>,
        run_id: Option<&str>,
        window_of: impl Fn(&QualityAsset) -> ScopeWindow,
    ) -> Result<(QualityReport, bool)> {
        let now = self.clock.now();
        let mut report = QualityReport {
            table: table.to_string(),
            partition: partition.map(|d| d.format("%Y-%m-%d").to_string()),
            results: Vec::new(),
        };
        let mut recorded: Vec<super::check_results::Recorded> = Vec::new();
        let mut blocked = false;
        let keys = self.key_columns(table);
        for asset in self.registry.quality_for(table) {
            let scope = CheckScope::new(
                ctx.clone(),
                table.to_string(),
                window_of(asset),
                asset.descriptor.spec.partition_column,
                now,
                keys.clone(),
            );
            let checks = asset.checks();
            let part = run_checks(&checks, &scope).await;
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
            .iter()
            .find(|a| &a.table == table)
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
        scope: PartitionScope,
        run_id: &str,
    ) -> Result<Option<(QualityReport, bool)>> {
        if self.registry.quality_for(table).is_empty() {
            return Ok(None);
        }
        let ctx = self.session().await?;
        let staged = ctx.read_batch(load.clone())?;
        let staged = match self.store.provider(table).await? {
            None => staged,
            Some(target) => {
                let target = ctx.read_table(target)?;
                let kept = match strategy {
                    MergeStrategy::Append => target,
                    MergeStrategy::ReplacePartition => {
                        target.filter(scope_predicate(scope).is_not_true())?
                    }
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
        let schema = ctx
            .catalog("datafusion")
            .and_then(|c| c.schema(table.namespace()))
            .ok_or_else(|| phlo_core::Error::internal("audit session lost a namespace"));
        let schema = match schema {
            Ok(s) => s,
            Err(_) => {
                let s: Arc<dyn datafusion::catalog::SchemaProvider> =
                    Arc::new(datafusion::catalog::MemorySchemaProvider::new());
                ctx.catalog("datafusion")
                    .ok_or_else(|| phlo_core::Error::internal("default catalog missing"))?
                    .register_schema(table.namespace(), s.clone())
                    .map_err(Error::sql)?;
                s
            }
        };
        schema.deregister_table(table.name()).map_err(Error::sql)?;
        schema
            .register_table(table.name().to_string(), staged.into_view())
            .map_err(Error::sql)?;
        let (partition, staged_window) = match scope {
            PartitionScope::Date(d) => (Some(d), ScopeWindow::Partition(d)),
            PartitionScope::Unpartitioned => (None, ScopeWindow::Full),
        };
        let today = self.clock.now().date_naive();
        let outcome = self
            .run_quality(&ctx, table, partition, Some(run_id), |a| {
                if a.descriptor.spec.full_table || !a.descriptor.spec.partition_aware {
                    window(a, partition, today)
                } else {
                    staged_window
                }
            })
            .await?;
        Ok(Some(outcome))
    }
}
