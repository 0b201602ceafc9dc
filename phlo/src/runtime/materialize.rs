//! One materialization, step by step (SEMANTICS §4).

use std::time::{Duration, Instant};

use arrow::record_batch::RecordBatch;
use chrono::NaiveDate;
use phlo_core::metadata::PARTITION_DATE;
use phlo_core::names::TableName;
use phlo_core::partition::{PartitionContext, PartitionKey};
use phlo_core::storage::PartitionScope;
use phlo_ingest::metadata::RunStamp;
use phlo_ingest::{PrepareOptions, Prepared, WriteRequest};

use super::{Runtime, Unpartitioned};
use crate::registry::Asset;
use crate::report::{RunReport, RunStatus};
use crate::{Error, Result};

/// A partition argument: a `YYYY-MM-DD` string, a date, a key, or [`Unpartitioned`].
pub trait PartitionArg {
    /// The parsed partition (`None`: unpartitioned).
    fn partition(&self) -> Result<Option<PartitionKey>>;
}

impl PartitionArg for &str {
    fn partition(&self) -> Result<Option<PartitionKey>> {
        Ok(Some(PartitionKey::parse(self)?))
    }
}

impl PartitionArg for String {
    fn partition(&self) -> Result<Option<PartitionKey>> {
        self.as_str().partition()
    }
}

impl PartitionArg for NaiveDate {
    fn partition(&self) -> Result<Option<PartitionKey>> {
        Ok(Some(PartitionKey::from(*self)))
    }
}

impl PartitionArg for PartitionKey {
    fn partition(&self) -> Result<Option<PartitionKey>> {
        Ok(Some(*self))
    }
}

impl PartitionArg for Unpartitioned {
    fn partition(&self) -> Result<Option<PartitionKey>> {
        Ok(None)
    }
}

impl PartitionArg for Option<PartitionKey> {
    fn partition(&self) -> Result<Option<PartitionKey>> {
        Ok(*self)
    }
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

impl Runtime {
    /// Materializes one partition of `asset`: fetch, coerce, validate, deduplicate, and
    /// write in one atomic commit; the run is recorded in `_phlo.runs` whatever happens.
    ///
    /// On failure the table is at its previous version and the error says why.
    pub async fn materialize(
        &self,
        asset: &str,
        partition: impl PartitionArg,
    ) -> Result<RunReport> {
        let asset = self.registry.get(asset)?.clone();
        let partition = partition.partition()?;
        match (asset.descriptor.spec.partitioned, partition) {
            (true, None) => {
                return Err(phlo_core::Error::PartitionMismatch {
                    asset: asset.descriptor.name.to_string(),
                    reason: "is partitioned by day: pass a partition key YYYY-MM-DD",
                }
                .into());
            }
            (false, Some(_)) => {
                return Err(phlo_core::Error::PartitionMismatch {
                    asset: asset.descriptor.name.to_string(),
                    reason: "is not partitioned: materialize it without a partition",
                }
                .into());
            }
            _ => {}
        }
        let run_id = self.run_ids.next_id();
        let started_at = self.clock.now();
        let mut report = RunReport::new(
            asset.descriptor.name,
            &asset.table.to_string(),
            partition.map(|p| p.to_string()),
            &run_id,
            started_at,
        );
        let t0 = Instant::now();
        let outcome = self.run(&asset, partition, &mut report).await;
        if let Err(e) = &outcome {
            report.status = RunStatus::Failed;
            report.error = Some(e.to_string());
            report.table_version_after = report.table_version_before;
        }
        report.timings.total_ms = ms(t0.elapsed());
        let t = Instant::now();
        let recorded = super::runs::record_run(self, &report).await;
        report.timings.record_ms = ms(t.elapsed());
        outcome?;
        recorded?;
        Ok(report)
    }

    async fn run(
        &self,
        asset: &Asset,
        partition: Option<PartitionKey>,
        report: &mut RunReport,
    ) -> Result<()> {
        let spec = &asset.descriptor.spec;
        let table = &asset.table;
        report.table_version_before = self.store.version(table).await?;
        report.table_version_after = report.table_version_before;
        let limit = Duration::from_secs_f64(spec.max_runtime_seconds);
        let deadline = tokio::time::Instant::now() + limit;
        let timeout = || Error::Timeout {
            asset: asset.descriptor.name.to_string(),
            limit,
        };

        // 1. Fetch (retries inside), bounded by the deadline.
        let t = Instant::now();
        let batches = tokio::time::timeout_at(deadline, self.fetch(asset, partition, report))
            .await
            .map_err(|_| timeout())??;
        report.timings.fetch_ms = ms(t.elapsed());

        // 2–5. Prepare, still bounded by the deadline (it runs on the blocking pool).
        let stamp = RunStamp {
            partition: partition.map(PartitionKey::date),
            ingested_at: report.started_at,
            run_id: report.run_id.clone(),
        };
        let prepared = {
            let descriptor = asset.descriptor;
            let table = table.clone();
            let job =
                tokio::task::spawn_blocking(move || prepare(&descriptor, &table, stamp, batches));
            match tokio::time::timeout_at(deadline, job).await {
                Err(_) => return Err(timeout()),
                Ok(Err(join)) => {
                    return Err(phlo_core::Error::internal(format!(
                        "preparing the load panicked: {}",
                        crate::fetch::panic_message(join)
                    ))
                    .into());
                }
                Ok(Ok(prepared)) => prepared?,
            }
        };
        if tokio::time::Instant::now() >= deadline {
            return Err(timeout());
        }
        report.rows_in = prepared.rows_in;
        report.rows_invalid = prepared.rows_invalid;
        report.duplicates_dropped = prepared.duplicates_dropped;
        report.dropped_columns = prepared.dropped_columns.clone();
        report.added_columns = prepared.added_columns.clone();
        report.validation = prepared.validation.clone();
        report.timings.coerce_ms = ms(prepared.timings.coerce);
        report.timings.validate_ms = ms(prepared.timings.validate);
        report.timings.dedup_ms = ms(prepared.timings.dedup);

        // 6. Write: one commit on the table (none when nothing changes).
        let t = Instant::now();
        let scope = partition.map_or(PartitionScope::Unpartitioned, |p| {
            PartitionScope::Date(p.date())
        });
        let partition_columns: Vec<String> = if spec.partitioned {
            vec![PARTITION_DATE.to_string()]
        } else {
            Vec::new()
        };
        let app_id = format!(
            "phlo:{}:{}",
            asset.descriptor.name,
            partition.map_or_else(|| "unpartitioned".to_string(), |p| p.to_string())
        );
        let metadata = vec![
            (
                "phlo.asset".to_string(),
                serde_json::json!(asset.descriptor.name),
            ),
            (
                "phlo.partition".to_string(),
                serde_json::json!(report.partition),
            ),
            ("phlo.run_id".to_string(), serde_json::json!(report.run_id)),
        ];
        // 7. Audit before publish: blocking checks on the staged result gate the commit.
        if prepared.load.num_rows() > 0 {
            let audit = self
                .audit(
                    table,
                    &prepared.load,
                    spec.merge_strategy,
                    spec.unique_key,
                    scope,
                    &report.run_id,
                )
                .await?;
            if let Some((quality, blocked)) = audit {
                report.checks = quality.results.clone();
                if blocked {
                    return Err(Error::QualityGate {
                        table: table.to_string(),
                        report: Box::new(quality),
                    });
                }
            }
            if tokio::time::Instant::now() >= deadline {
                return Err(timeout());
            }
        }
        if prepared.load.num_rows() == 0 {
            report.status = RunStatus::NoData;
        } else {
            let summary = phlo_ingest::write(
                self.store.as_ref(),
                WriteRequest {
                    table,
                    load: prepared.load.clone(),
                    strategy: spec.merge_strategy,
                    key: spec.unique_key,
                    scope,
                    partition_columns: partition_columns.clone(),
                    allow_new_columns: !prepared.added_columns.is_empty(),
                    app_id: app_id.clone(),
                    metadata: metadata.clone(),
                },
            )
            .await?;
            report.rows_inserted = summary.rows_inserted;
            report.rows_updated = summary.rows_updated;
            report.rows_unchanged = summary.rows_unchanged;
            report.rows_deleted = summary.rows_deleted;
            report.table_version_after = summary.version_after;
            report.status = RunStatus::Success;
        }

        // Invalid rows of this partition, replacing the previous run's (idempotent).
        self.write_quarantine(
            table,
            &prepared,
            scope,
            partition_columns,
            app_id,
            metadata,
            report,
        )
        .await?;
        report.timings.write_ms = ms(t.elapsed());
        Ok(())
    }

    /// Calls the user function, retrying transient failures with backoff.
    async fn fetch(
        &self,
        asset: &Asset,
        partition: Option<PartitionKey>,
        report: &mut RunReport,
    ) -> Result<Vec<RecordBatch>> {
        let spec = &asset.descriptor.spec;
        let name = asset.descriptor.name;
        let mut attempt = 0u32;
        loop {
            attempt += 1;
            report.attempts = attempt;
            let ctx = PartitionContext::new(
                name,
                partition,
                report.run_id.clone(),
                attempt,
                report.started_at,
            );
            let call = tokio::spawn((asset.descriptor.fetch)(ctx));
            let result = match call.await {
                Ok(r) => r,
                Err(join) => Err(Error::Panicked {
                    asset: name.to_string(),
                    message: crate::fetch::panic_message(join),
                }),
            };
            match result {
                Ok(batches) => return Ok(batches),
                Err(e) if e.is_transient() && attempt <= spec.max_retries => {
                    let delay =
                        super::retry::backoff(spec.retry_delay_seconds, attempt, &report.run_id);
                    self.clock.sleep(delay).await;
                }
                Err(e @ Error::Panicked { .. }) => return Err(e),
                Err(e) => {
                    return Err(Error::Asset {
                        asset: name.to_string(),
                        transient: e.is_transient(),
                        source: Box::new(e),
                    });
                }
            }
        }
    }

    #[allow(clippy::too_many_arguments)]
    async fn write_quarantine(
        &self,
        table: &TableName,
        prepared: &Prepared,
        scope: PartitionScope,
        partition_columns: Vec<String>,
        app_id: String,
        metadata: Vec<(String, serde_json::Value)>,
        report: &mut RunReport,
    ) -> Result<()> {
        let quarantine = table.quarantine();
        let rows = match &prepared.quarantine {
            Some(q) => q.clone(),
            // Clear stale rows of an earlier run only when the table exists.
            None if self.store.version(&quarantine).await?.is_some() => {
                let schema = self
                    .store
                    .provider(&quarantine)
                    .await?
                    .map(|p| p.schema())
                    .ok_or_else(|| phlo_core::Error::internal("quarantine table vanished"))?;
                RecordBatch::new_empty(schema)
            }
            None => return Ok(()),
        };
        report.rows_quarantined = rows.num_rows() as u64;
        phlo_ingest::write(
            self.store.as_ref(),
            WriteRequest {
                table: &quarantine,
                load: rows,
                strategy: phlo_core::spec::MergeStrategy::ReplacePartition,
                key: &[],
                scope,
                partition_columns,
                allow_new_columns: true,
                app_id: format!("{app_id}:quarantine"),
                metadata,
            },
        )
        .await?;
        Ok(())
    }
}

fn prepare(
    descriptor: &crate::registry::IngestionDescriptor,
    table: &TableName,
    stamp: RunStamp,
    batches: Vec<RecordBatch>,
) -> Result<Prepared> {
    let spec = &descriptor.spec;
    let opts = PrepareOptions {
        table,
        schema: descriptor.schema,
        key: spec.unique_key,
        order_by: spec.order_by,
        dedup: spec.effective_dedup(),
        strategy: spec.merge_strategy,
        validate: spec.validate,
        strict: spec.strict_validation,
        metadata: spec.add_metadata_columns,
        partitioned: spec.partitioned,
        stamp,
    };
    Ok(phlo_ingest::prepare_owned(batches, &opts)?)
}
