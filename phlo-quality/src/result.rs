//! Check results, as recorded in run reports and `_phlo.check_results`.

use serde::{Deserialize, Serialize};

/// How much a failing check matters.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    /// Blocks publication when the check's asset is blocking (the default).
    #[default]
    Error,
    /// Recorded, never blocks.
    Warn,
}

/// The outcome of one check instance.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CheckResult {
    /// Unique per check instance, e.g. `null_check(id,ts)`.
    pub name: String,
    /// Whether `failed_count / total_count ≤ threshold`.
    pub passed: bool,
    /// Severity.
    pub severity: Severity,
    /// Failing rows.
    pub failed_count: u64,
    /// The denominator.
    pub total_count: u64,
    /// `failed_count / total_count` (0 when the denominator is 0).
    pub failure_fraction: f64,
    /// Allowed failure fraction.
    pub threshold: f64,
    /// Up to 20 failing rows, rendered as JSON objects with key columns.
    pub samples: Vec<serde_json::Value>,
    /// A query that reproduces the failing rows.
    pub repro_sql: String,
    /// A message (e.g. a missing column).
    pub message: Option<String>,
    /// Time spent, in milliseconds.
    pub elapsed_ms: f64,
}

/// All results of one quality run.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct QualityReport {
    /// Table checked.
    pub table: String,
    /// Partition, when scoped.
    pub partition: Option<String>,
    /// Results, in declaration order.
    pub results: Vec<CheckResult>,
}

impl QualityReport {
    /// Whether any `error` check failed.
    pub fn has_blocking_failure(&self) -> bool {
        self.results
            .iter()
            .any(|r| !r.passed && r.severity == Severity::Error)
    }
}
