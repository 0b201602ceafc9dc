//! One step of a plan, materialized (SEMANTICS §4).

use std::time::{Duration, Instant};

use arrow::record_batch::RecordBatch;
use chrono::{DateTime, Utc};
use phlo_core::metadata::ROW_HASH;
use phlo_core::names::TableName;
use phlo_core::partition::PartitionContext;
use phlo_core::storage::TableLayout;
use phlo_ingest::metadata::RunStamp;
use phlo_ingest::{PrepareOptions, Prepared, WriteRequest};
use tracing::{Instrument, debug, info, info_span, warn};

use super::{PartitionArg, RunFailure, Runtime};
use crate::error::{BoxError, is_transient_error};
use crate::plan::{PartitionSelection, PlanStep};
use crate::registry::Asset;
use crate::report::{RunReport, RunStatus};
use crate::{Error, Result};

/// How many conflicting commits one run may lose before it fails with the conflict
/// (each one another writer's commit that landed first).
const MAX_CONFLICTS: u32 = 256;

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

/// What one run knows while it runs, apart from the report it fills.
#[derive(Debug, Clone)]
pub(crate) struct RunContext {
    /// The run's id.
    pub run_id: String,
    /// The run's instant (injected clock).
    pub started_at: DateTime<Utc>,
    /// When the run must be over (`max_runtime_seconds`).
    pub deadline: tokio::time::Instant,
    /// The bound itself, for the timeout error.
    pub limit: Duration,
    /// The asset, for the timeout error.
    pub asset: String,
}

impl RunContext {
    /// The run's timeout, the deadline having passed during `step`.
    pub(crate) fn timeout(&self, step: &'static str) -> Error {
        Error::Timeout {
            asset: self.asset.clone(),
            limit: self.limit,
            step,
        }
    }

    /// Whether the deadline has passed.
    pub(crate) fn passed(&self) -> bool {
        tokio::time::Instant::now() >= self.deadline
    }

    /// Runs `step` (which writes nothing) until the deadline: past it, the step is dropped
    /// and the run times out.
    pub(crate) async fn bounded<T>(
        &self,
        step: &'static str,
        work: impl std::future::Future<Output = Result<T>>,
    ) -> Result<T> {
        tokio::time::timeout_at(self.deadline, work)
            .await
            .map_err(|_| self.timeout(step))?
    }
}

impl Runtime {
    /// Materializes one partition of `asset`: fetch, coerce, validate, deduplicate, and
    /// write in one atomic commit; the run is recorded in `_phlo.runs` whatever happens.
    ///
    /// The partition is parsed against the asset's partitions definition before anything
    /// runs. On failure the table is at its previous version and the error says why;
    /// [`Runtime::run_plan`] returns the failed run's report with it.
    pub async fn materialize(
        &self,
        asset: &str,
        partition: impl PartitionArg,
    ) -> Result<RunReport> {
        let selection = match partition.partition_text() {
            Some(key) => PartitionSelection::Key(key),
            None => PartitionSelection::Unpartitioned,
        };
        let plan = self.plan(asset, &selection).await?;
        let step = plan
            .steps
            .first()
            .ok_or_else(|| phlo_core::Error::internal("a one-key plan has no step"))?;
        self.run_step(step).await.map_err(|f| f.error)
    }

    /// Runs one planned step and records it.
    pub(crate) async fn run_step(
        &self,
        step: &PlanStep,
    ) -> std::result::Result<RunReport, RunFailure> {
        let run_id = self.run_ids.next_id();
        let started_at = self.clock.now();
        let mut report = RunReport::new(
            step.asset,
            &step.table.to_string(),
            step.partition.as_ref().map(ToString::to_string),
            &run_id,
            started_at,
        );
        report.table_version_before = step.expected_version;
        report.table_version_after = step.expected_version;
        let span = info_span!(
            "run",
            asset = step.asset,
            partition = report.partition.as_deref().unwrap_or("-"),
            run_id = %run_id
        );
        let t0 = Instant::now();
        let outcome = async {
            let asset = self.registry.get(step.asset)?.clone();
            report.code_version = self.code_version(step.asset);
            let limit = Duration::from_secs_f64(asset.descriptor.spec.max_runtime_seconds);
            let ctx = RunContext {
                run_id: run_id.clone(),
                started_at,
                deadline: tokio::time::Instant::now() + limit,
                limit,
                asset: step.asset.to_string(),
            };
            self.execute(&asset, step, &ctx, &mut report).await
        }
        .instrument(span.clone())
        .await;
        if let Err(e) = &outcome {
            report.status = RunStatus::Failed;
            report.error = Some(e.to_string());
            // A failed run leaves the table as it was; a plan of many steps was made before
            // the first ran, so read the version the table is at now.
            if let Ok(v) = self.store.version(&step.table).await {
                report.table_version_before = v;
            }
            report.table_version_after = report.table_version_before;
        }
        report.timings.total_ms = ms(t0.elapsed());
        let t = Instant::now();
        let recorded = super::runs::record_run(self, &report)
            .instrument(span.clone())
            .await;
        report.timings.record_ms = ms(t.elapsed());
        span.in_scope(|| match &outcome {
            Ok(()) => info!(
                status = %report.status,
                rows_in = report.rows_in,
                inserted = report.rows_inserted,
                updated = report.rows_updated,
                unchanged = report.rows_unchanged,
                version = ?report.table_version_after,
                total_ms = report.timings.total_ms,
                "run finished"
            ),
            Err(e) => warn!(error = %e, total_ms = report.timings.total_ms, "run failed"),
        });
        match (outcome, recorded) {
            (Err(error), _) | (Ok(()), Err(error)) => Err(RunFailure {
                report: Box::new(report),
                error,
            }),
            (Ok(()), Ok(())) => Ok(report),
        }
    }

    async fn execute(
        &self,
        asset: &Asset,
        step: &PlanStep,
        ctx: &RunContext,
        report: &mut RunReport,
    ) -> Result<()> {
        let spec = &asset.descriptor.spec;
        let table = &asset.table;

        // A view stores nothing: its query is checked to plan, and read where it is used.
        if let crate::registry::AssetSource::Sql(model) = &asset.source
            && asset.is_view()
        {
            self.model_frame(asset, model, step.partition.as_ref(), false)
                .await?;
            report.status = RunStatus::NoData;
            return Ok(());
        }

        // The deadline bounds every step before the commit: a step it cuts is dropped,
        // and nothing has been written (docs/adr/0013-run-deadlines.md).
        // 1. Fetch (retries inside); a model runs its query.
        let t = Instant::now();
        let batches = match &asset.source {
            crate::registry::AssetSource::Fetch => {
                ctx.bounded("fetch", self.fetch(asset, step, ctx, report))
                    .instrument(info_span!("fetch"))
                    .await?
            }
            _ => {
                ctx.bounded("query", self.transform_rows(asset, step, ctx, report))
                    .instrument(info_span!("query"))
                    .await?
            }
        };
        // A model's or seed's contract (and a transform's without `schema = T`) is its
        // result's columns.
        let mut descriptor = asset.descriptor;
        let mut sync = super::transform::SchemaSync::default();
        if !asset.declares_schema() {
            let schema = batches
                .first()
                .map(|b| b.schema())
                .ok_or_else(|| phlo_core::Error::internal("a query returned no schema"))?;
            descriptor.schema = crate::transform::derived_schema(descriptor.name, &schema)
                .map_err(Error::Project)?;
            match &asset.source {
                crate::registry::AssetSource::Sql(model) => {
                    sync = ctx
                        .bounded(
                            "query",
                            self.check_schema_change(
                                asset,
                                model.config.on_schema_change,
                                descriptor.schema,
                            ),
                        )
                        .await?;
                }
                crate::registry::AssetSource::Rust(_) => {
                    ctx.bounded(
                        "query",
                        self.check_schema_change(
                            asset,
                            crate::transform::OnSchemaChange::Fail,
                            descriptor.schema,
                        ),
                    )
                    .await?;
                }
                _ => {}
            }
            for k in descriptor.spec.unique_key {
                if descriptor.schema.field(k).is_none() {
                    return Err(Error::InvalidAsset {
                        asset: descriptor.name.to_string(),
                        location: descriptor.location,
                        reason: format!(
                            "unique_key `{k}` is not a column of its result (columns: {})",
                            descriptor
                                .schema
                                .fields
                                .iter()
                                .map(|f| f.name)
                                .collect::<Vec<_>>()
                                .join(", ")
                        ),
                    });
                }
            }
        }
        report.timings.fetch_ms = ms(t.elapsed());
        debug!(
            batches = batches.len(),
            ms = report.timings.fetch_ms,
            "fetched"
        );

        // 2–5. Prepare, still bounded by the deadline (it runs on the blocking pool).
        let stamp = RunStamp {
            partitions: asset.partitions.clone(),
            partition: step.partition.clone(),
            ingested_at: ctx.started_at,
            run_id: ctx.run_id.clone(),
        };
        let prepared = {
            let table = table.clone();
            let job =
                tokio::task::spawn_blocking(move || prepare(&descriptor, &table, stamp, batches));
            match tokio::time::timeout_at(ctx.deadline, job).await {
                Err(_) => return Err(ctx.timeout("prepare")),
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
        if ctx.passed() {
            return Err(ctx.timeout("prepare"));
        }
        report.rows_in = prepared.rows_in;
        report.rows_invalid = prepared.rows_invalid;
        report.duplicates_dropped = prepared.duplicates_dropped;
        report.dropped_columns = [prepared.dropped_columns.clone(), sync.dropped.clone()].concat();
        report.added_columns = [prepared.added_columns.clone(), sync.added.clone()].concat();
        report.validation = prepared.validation.clone();
        report.timings.coerce_ms = ms(prepared.timings.coerce);
        report.timings.validate_ms = ms(prepared.timings.validate);
        report.timings.dedup_ms = ms(prepared.timings.dedup);
        debug!(
            rows_in = prepared.rows_in,
            rows_invalid = prepared.rows_invalid,
            duplicates_dropped = prepared.duplicates_dropped,
            rows_out = prepared.load.num_rows(),
            "prepared"
        );

        // 6. Write: one commit on the table (none when nothing changes).
        let t = Instant::now();
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
        let request = || WriteRequest {
            table,
            load: prepared.load.clone(),
            strategy: spec.merge_strategy,
            key: spec.unique_key,
            scope: step.scope.clone(),
            layout: step.layout.clone(),
            allow_new_columns: !prepared.added_columns.is_empty()
                || !sync.added.is_empty()
                || matches!(&asset.source, crate::registry::AssetSource::Sql(m)
                    if m.config.on_schema_change == crate::transform::OnSchemaChange::AppendNewColumns),
            replace_schema: !sync.dropped.is_empty(),
            app_id: step.app_id.clone(),
            metadata: metadata.clone(),
        };
        // Plan, audit, commit. A concurrent writer of the same table (another partition of
        // a parallel backfill) that commits first makes the commit conflict: the write is
        // planned again against the new version (inside `write_planned_until`, a few
        // times), and when that keeps losing, planned and audited again here, while the
        // run's deadline allows. Every conflict means another commit landed, so the
        // writers progress. The plan and the audit are cut at the deadline; no commit
        // starts after it; a commit in flight is never cut (it lands whole or not at all),
        // and one that lands after the deadline is reported as an overrun.
        let mut summary = None;
        let mut conflicts = 0u32;
        while prepared.load.num_rows() > 0 {
            let request = request();
            // The write's plan: what the commit will carry (new, changed, unchanged rows).
            let write_plan = ctx
                .bounded("write plan", async {
                    Ok(phlo_ingest::write::plan(self.store.as_ref(), &request).await?)
                })
                .instrument(info_span!("plan_write", table = %table))
                .await?;
            // 7. Audit before publish: blocking checks on the staged result of that plan
            // gate the commit.
            let audit = self
                .audit(table, &write_plan, spec.unique_key, step, ctx)
                .instrument(info_span!("audit"))
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
            match phlo_ingest::write::write_planned_until(
                self.store.as_ref(),
                request,
                write_plan,
                Some(ctx.deadline),
            )
            .instrument(info_span!("write", table = %table))
            .await
            {
                Ok(s) => {
                    conflicts += s.replans;
                    summary = Some(s);
                    break;
                }
                Err(phlo_ingest::Error::Deadline { .. }) => return Err(ctx.timeout("commit")),
                Err(phlo_ingest::Error::Core(phlo_core::Error::Conflict { .. }))
                    if conflicts < MAX_CONFLICTS && !ctx.passed() =>
                {
                    conflicts += phlo_ingest::write::MAX_CONFLICT_RETRIES + 1;
                    debug!(
                        conflicts,
                        "the table moved on while committing; planning again"
                    );
                }
                Err(phlo_ingest::Error::Core(phlo_core::Error::Conflict { .. }))
                    if ctx.passed() =>
                {
                    return Err(ctx.timeout("commit"));
                }
                Err(e) => return Err(e.into()),
            }
        }
        report.conflicts = conflicts;
        if let Some(summary) = &summary
            && summary.version_after != summary.version_before
            && ctx.passed()
        {
            // Started in time, landed late: the run reports what it did, and that it ran
            // over its bound.
            report.overran_deadline = true;
            warn!(
                table = %table,
                limit_s = ctx.limit.as_secs_f64(),
                "the commit started before the deadline and landed after it"
            );
        }
        if let Some(summary) = summary {
            report.rows_inserted = summary.rows_inserted;
            report.rows_updated = summary.rows_updated;
            report.rows_unchanged = summary.rows_unchanged;
            report.rows_deleted = summary.rows_deleted;
            report.table_version_before = summary.version_before;
            report.table_version_after = summary.version_after;
            report.status = RunStatus::Success;
            info!(
                table = %table,
                version_before = ?summary.version_before,
                version_after = ?summary.version_after,
                "committed"
            );
        } else {
            report.status = RunStatus::NoData;
        }

        // Invalid rows of this partition, replacing the previous run's (idempotent).
        self.write_quarantine(table, &prepared, step, metadata, report)
            .await?;
        report.timings.write_ms = ms(t.elapsed());
        Ok(())
    }

    /// Calls the user function, retrying transient failures with backoff.
    async fn fetch(
        &self,
        asset: &Asset,
        step: &PlanStep,
        ctx: &RunContext,
        report: &mut RunReport,
    ) -> Result<Vec<RecordBatch>> {
        let spec = &asset.descriptor.spec;
        let name = asset.descriptor.name;
        let mut attempt = 0u32;
        loop {
            attempt += 1;
            report.attempts = attempt;
            let cursors = std::sync::Arc::new(super::cursors::RunCursors::new(self.clone(), name));
            let pctx = PartitionContext::new(
                name,
                step.partition.clone(),
                ctx.run_id.clone(),
                attempt,
                ctx.started_at,
            )
            .with_cursors(cursors.clone());
            // In a JoinSet: when the run times out the set is dropped and the call aborted.
            let mut call = tokio::task::JoinSet::new();
            call.spawn((asset.descriptor.fetch)(pctx));
            let result: std::result::Result<Vec<RecordBatch>, BoxError> =
                match call.join_next().await {
                    Some(Ok(r)) => r,
                    Some(Err(join)) => Err(Box::new(Error::Panicked {
                        asset: name.to_string(),
                        message: crate::fetch::panic_message(join),
                    })),
                    None => Err(Box::new(phlo_core::Error::internal(
                        "the call was not spawned",
                    ))),
                };
            let error = match result {
                Ok(batches) => {
                    report.cursors = cursors.take();
                    return Ok(batches);
                }
                Err(e) => e,
            };
            let transient = is_transient_error(error.as_ref());
            if transient && attempt <= spec.max_retries {
                let delay = super::retry::backoff(spec.retry_delay_seconds, attempt, &ctx.run_id);
                warn!(attempt, delay_ms = ms(delay), error = %error, "transient failure, retrying");
                self.clock.sleep(delay).await;
                continue;
            }
            return Err(match error.downcast::<Error>() {
                Ok(e) if matches!(*e, Error::Panicked { .. }) => *e,
                Ok(e) => Error::Asset {
                    asset: name.to_string(),
                    transient,
                    error: e,
                },
                Err(e) => Error::Asset {
                    asset: name.to_string(),
                    transient,
                    error: e,
                },
            });
        }
    }

    async fn write_quarantine(
        &self,
        table: &TableName,
        prepared: &Prepared,
        step: &PlanStep,
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
        let layout = TableLayout {
            partition_columns: step.layout.partition_columns.clone(),
            distinct_columns: Vec::new(),
            opaque_columns: vec![ROW_HASH.to_string()],
        };
        phlo_ingest::write(
            self.store.as_ref(),
            WriteRequest {
                table: &quarantine,
                load: rows,
                strategy: phlo_core::spec::MergeStrategy::ReplacePartition,
                key: &[],
                scope: step.scope.clone(),
                layout,
                allow_new_columns: true,
                replace_schema: false,
                app_id: format!("{}:quarantine", step.app_id),
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
        stamp,
    };
    Ok(phlo_ingest::prepare_owned(batches, &opts)?)
}
