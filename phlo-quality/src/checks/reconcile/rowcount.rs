//! `ReconciliationCheck`: the scoped row count matches another table's.

use async_trait::async_trait;

use super::{Other, Tolerance};
use crate::checks::common::{CheckOptions, check_options, count_at, query_row};
use crate::{Check, CheckScope, Evaluation, Result, Severity};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mode {
    Parity,
    Gte,
}

/// Compares the checked table's row count in scope with another table's row count (scoped
/// the same way when it has the partition column, else the whole table).
///
/// - [`rowcount_parity`](Self::rowcount_parity) (the default): the counts differ by at
///   most the tolerance.
/// - [`rowcount_gte`](Self::rowcount_gte): the checked table has at least as many rows as
///   the other (minus the tolerance), e.g. a silver table against its bronze source.
///
/// The allowed difference is `max(tolerance_abs, tolerance_rel × other_count)` (default 0).
/// The tolerances decide pass or fail (the threshold does not apply); `failed_count` is the
/// difference in rows (for `gte`, the rows missing) and `total_count` the other table's
/// count. Two empty scopes pass.
///
/// ```rust
/// use phlo_quality::{Check, ReconciliationCheck};
/// let check = ReconciliationCheck::new("bronze.events").rowcount_gte().tolerance_rel(0.01);
/// assert_eq!(check.name(), "reconciliation_check(bronze.events,gte)");
/// ```
#[derive(Debug, Clone)]
pub struct ReconciliationCheck {
    other: String,
    mode: Mode,
    tolerance: Tolerance,
    options: CheckOptions,
}

impl ReconciliationCheck {
    /// Compares row counts with `other` (`ns.table`).
    pub fn new(other: impl Into<String>) -> Self {
        ReconciliationCheck {
            other: other.into(),
            mode: Mode::Parity,
            tolerance: Tolerance::default(),
            options: CheckOptions::default(),
        }
    }

    /// The counts must match (within the tolerance). The default.
    #[must_use]
    pub fn rowcount_parity(mut self) -> Self {
        self.mode = Mode::Parity;
        self
    }

    /// The checked table must have at least as many rows as the other (within the
    /// tolerance).
    #[must_use]
    pub fn rowcount_gte(mut self) -> Self {
        self.mode = Mode::Gte;
        self
    }

    /// Allows a difference of `fraction` × the other table's count.
    #[must_use]
    pub fn tolerance_rel(mut self, fraction: f64) -> Self {
        self.tolerance.rel = fraction;
        self
    }

    /// Allows a difference of `rows` rows.
    #[must_use]
    pub fn tolerance_abs(mut self, rows: u64) -> Self {
        self.tolerance.abs = rows as f64;
        self
    }
}

check_options!(ReconciliationCheck);

#[async_trait]
impl Check for ReconciliationCheck {
    fn name(&self) -> String {
        match self.mode {
            Mode::Parity => format!("reconciliation_check({})", self.other),
            Mode::Gte => format!("reconciliation_check({},gte)", self.other),
        }
    }

    fn severity(&self) -> Severity {
        self.options.severity
    }

    fn threshold(&self) -> f64 {
        self.options.threshold
    }

    async fn evaluate(&self, scope: &CheckScope) -> Result<Evaluation> {
        let other = Other::resolve(scope, &self.other).await?;
        let sql = format!(
            "SELECT a.n, b.n FROM ({}) a CROSS JOIN ({}) b",
            scope.select_sql("count(*) AS n", None),
            other.select_sql("count(*) AS n", None)
        );
        let row = query_row(scope.ctx(), &sql).await?;
        let (mine, theirs) = (count_at(&row, 0)?, count_at(&row, 1)?);
        let allowed = self.tolerance.allowed(theirs as f64);
        let failed = match self.mode {
            Mode::Parity => mine.abs_diff(theirs),
            Mode::Gte => theirs.saturating_sub(mine),
        };
        let passed = failed as f64 <= allowed;
        let relation = match self.mode {
            Mode::Parity => "a difference",
            Mode::Gte => "a shortfall",
        };
        let message = format!(
            "{} has {mine} rows in scope, {} has {theirs} ({}): {relation} of {failed}, \
             {allowed} allowed",
            scope.table(),
            other.name(),
            other.scoping()
        );
        Ok(Evaluation {
            failed_count: failed,
            total_count: theirs,
            samples: Vec::new(),
            repro_sql: sql,
            message: Some(message),
            passed_override: Some(passed),
        })
    }
}

#[cfg(test)]
mod tests;
