//! The `Check` trait: one data-quality rule evaluated over a [`CheckScope`].

use async_trait::async_trait;

use crate::{CheckScope, Result, Severity};

/// What evaluating a check found.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Evaluation {
    /// Failing rows (or failing units: groups, keys — as the check documents).
    pub failed_count: u64,
    /// The denominator the failure fraction is computed over.
    pub total_count: u64,
    /// Up to 20 failing rows as JSON objects (key columns and the offending value).
    pub samples: Vec<serde_json::Value>,
    /// A query that shows the failing rows.
    pub repro_sql: String,
    /// Extra explanation (e.g. "the scope is empty").
    pub message: Option<String>,
    /// Set when pass/fail is not a matter of the fraction (an empty scope fails
    /// `CountCheck` and `FreshnessCheck`).
    pub passed_override: Option<bool>,
}

/// A data-quality check. Built-in checks are builders (`NullCheck::new(["id"]).warn()`);
/// implement this trait for your own.
#[async_trait]
pub trait Check: Send + Sync + std::fmt::Debug {
    /// The result's name, e.g. `null_check(id,ts)`; the runner makes names unique.
    fn name(&self) -> String;
    /// `Error` (the default) or `Warn`.
    fn severity(&self) -> Severity;
    /// Allowed failure fraction: the check passes iff `failed / total ≤ threshold`.
    fn threshold(&self) -> f64;
    /// Columns of the checked table the check reads (for plan-time validation).
    fn columns(&self) -> Vec<String> {
        Vec::new()
    }
    /// Evaluates the check; DataFusion aggregates only, never collecting the table.
    async fn evaluate(&self, scope: &CheckScope) -> Result<Evaluation>;
}
