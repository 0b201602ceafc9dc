//! What a run reports: [`RunReport`] (serde-serialisable), also stored in `_phlo.runs`.

use chrono::{DateTime, Utc};
use phlo_ingest::ValidationReport;
use phlo_quality::CheckResult;
use serde::{Deserialize, Serialize};

/// How a run ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RunStatus {
    /// The commit landed, or nothing needed to change.
    Success,
    /// The function returned no rows: nothing was written.
    NoData,
    /// The run failed: the table is at its previous version.
    Failed,
}

impl std::fmt::Display for RunStatus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            RunStatus::Success => "success",
            RunStatus::NoData => "no_data",
            RunStatus::Failed => "failed",
        })
    }
}

/// Time spent per step, in milliseconds.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct StepTimings {
    /// Calling the user function (all attempts, backoff included).
    pub fetch_ms: f64,
    /// Coercion.
    pub coerce_ms: f64,
    /// Validation.
    pub validate_ms: f64,
    /// Metadata and deduplication.
    pub dedup_ms: f64,
    /// Planning and committing the write (quarantine included).
    pub write_ms: f64,
    /// Appending to `_phlo.runs` (0 in the stored copy: it is measured after storing).
    pub record_ms: f64,
    /// The whole run up to recording it.
    pub total_ms: f64,
}

/// The report of one materialization (SEMANTICS §4.8).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunReport {
    /// Asset.
    pub asset: String,
    /// Table, `ns.name`.
    pub table: String,
    /// Partition key, `None` when unpartitioned.
    pub partition: Option<String>,
    /// Run id.
    pub run_id: String,
    /// Outcome.
    pub status: RunStatus,
    /// The run's instant (injected clock).
    pub started_at: DateTime<Utc>,
    /// Calls of the user function.
    pub attempts: u32,
    /// Rows the function returned.
    pub rows_in: u64,
    /// Rows failing validation.
    pub rows_invalid: u64,
    /// Rows written to the quarantine table.
    pub rows_quarantined: u64,
    /// Rows dropped by deduplication.
    pub duplicates_dropped: u64,
    /// Rows inserted.
    pub rows_inserted: u64,
    /// Rows replaced.
    pub rows_updated: u64,
    /// Matched rows left as they were.
    pub rows_unchanged: u64,
    /// Rows deleted (`replace_partition`).
    pub rows_deleted: u64,
    /// Input columns dropped (`drop_extra`), and a model's table columns its result no
    /// longer has, dropped from the table (`sync_all_columns`).
    pub dropped_columns: Vec<String>,
    /// Input columns added to the table (`additive`; a model's `append_new_columns` and
    /// `sync_all_columns`).
    pub added_columns: Vec<String>,
    /// Table version before the run (`None`: no table yet).
    pub table_version_before: Option<i64>,
    /// Table version after the run.
    pub table_version_after: Option<i64>,
    /// The validation report.
    pub validation: ValidationReport,
    /// Quality check results.
    pub checks: Vec<CheckResult>,
    /// The error, when the run failed.
    pub error: Option<String>,
    /// Time per step.
    pub timings: StepTimings,
    /// The table version of each upstream asset when a model read it (its data version:
    /// what `stale` compares against).
    #[serde(default)]
    pub upstream_versions: std::collections::BTreeMap<String, Option<i64>>,
    /// The fingerprint of the asset's definition the run used (its spec, schema and, for
    /// a SQL model or seed, its file's text): a backfill skips a partition whose latest
    /// run succeeded with this version on the same upstream versions. Empty in runs
    /// recorded before it was.
    #[serde(default)]
    pub code_version: String,
    /// Commits lost to concurrent writers of the table, each followed by planning the
    /// write again.
    #[serde(default)]
    pub conflicts: u32,
    /// The commit started before the run's deadline (`max_runtime_seconds`) and landed
    /// after it: a commit is never cut, so the run succeeded, late.
    #[serde(default)]
    pub overran_deadline: bool,
    /// Incremental cursors the run advanced (resource → value), kept because it
    /// succeeded; the next run's sources read from them.
    #[serde(default, skip_serializing_if = "std::collections::BTreeMap::is_empty")]
    pub cursors: std::collections::BTreeMap<String, String>,
}

impl RunReport {
    pub(crate) fn new(
        asset: &str,
        table: &str,
        partition: Option<String>,
        run_id: &str,
        started_at: DateTime<Utc>,
    ) -> Self {
        RunReport {
            asset: asset.to_string(),
            table: table.to_string(),
            partition,
            run_id: run_id.to_string(),
            status: RunStatus::Failed,
            started_at,
            attempts: 0,
            rows_in: 0,
            rows_invalid: 0,
            rows_quarantined: 0,
            duplicates_dropped: 0,
            rows_inserted: 0,
            rows_updated: 0,
            rows_unchanged: 0,
            rows_deleted: 0,
            dropped_columns: Vec::new(),
            added_columns: Vec::new(),
            table_version_before: None,
            table_version_after: None,
            validation: ValidationReport::default(),
            checks: Vec::new(),
            error: None,
            timings: StepTimings::default(),
            upstream_versions: Default::default(),
            code_version: String::new(),
            conflicts: 0,
            overran_deadline: false,
            cursors: std::collections::BTreeMap::new(),
        }
    }
}

pub use crate::exec::{BackfillReport, PartitionOutcome};
