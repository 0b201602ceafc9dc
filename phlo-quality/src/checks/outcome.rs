//! `CheckOutcome`: what a user-written check (a plain function over a [`CheckScope`])
//! returns.
//!
//! [`CheckScope`]: crate::CheckScope

use super::common::MAX_SAMPLES;
use crate::Evaluation;

/// The outcome of a user-written check.
///
/// [`pass`](CheckOutcome::pass) and [`fail`](CheckOutcome::fail) decide the result outright;
/// [`counts`](CheckOutcome::counts) leaves it to the threshold (`failed / total ≤ threshold`).
///
/// ```rust
/// use phlo_quality::{CheckOutcome, Evaluation};
///
/// let outcome = CheckOutcome::counts(2, 100).message("2 orders without a customer");
/// let evaluation = Evaluation::from(outcome);
/// assert_eq!((evaluation.failed_count, evaluation.total_count), (2, 100));
/// assert_eq!(evaluation.passed_override, None);
///
/// let failed: Evaluation = CheckOutcome::fail("no orders today").into();
/// assert_eq!(failed.passed_override, Some(false));
/// ```
#[derive(Debug, Clone, PartialEq, Default)]
#[must_use]
pub struct CheckOutcome {
    passed: Option<bool>,
    failed_count: u64,
    total_count: u64,
    message: Option<String>,
    samples: Vec<serde_json::Value>,
    repro_sql: String,
}

impl CheckOutcome {
    /// The check passed.
    pub fn pass() -> Self {
        CheckOutcome {
            passed: Some(true),
            ..Default::default()
        }
    }

    /// The check failed, with a message saying why.
    pub fn fail(message: impl Into<String>) -> Self {
        CheckOutcome {
            passed: Some(false),
            message: Some(message.into()),
            ..Default::default()
        }
    }

    /// `failed` of `total` units failed; the threshold decides.
    pub fn counts(failed: u64, total: u64) -> Self {
        CheckOutcome {
            failed_count: failed,
            total_count: total,
            ..Default::default()
        }
    }

    /// Sets the message.
    pub fn message(mut self, message: impl Into<String>) -> Self {
        self.message = Some(message.into());
        self
    }

    /// Sets the failing samples (at most 20 are kept).
    pub fn samples(mut self, samples: impl IntoIterator<Item = serde_json::Value>) -> Self {
        self.samples = samples.into_iter().take(MAX_SAMPLES).collect();
        self
    }

    /// Sets a query that shows the failing rows.
    pub fn repro_sql(mut self, sql: impl Into<String>) -> Self {
        self.repro_sql = sql.into();
        self
    }
}

impl From<CheckOutcome> for Evaluation {
    fn from(o: CheckOutcome) -> Self {
        Evaluation {
            failed_count: o.failed_count,
            total_count: o.total_count,
            samples: o.samples,
            repro_sql: o.repro_sql,
            message: o.message,
            passed_override: o.passed,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pass_and_fail_override_the_threshold() {
        let pass = Evaluation::from(CheckOutcome::pass());
        assert_eq!(pass.passed_override, Some(true));
        assert_eq!((pass.failed_count, pass.total_count), (0, 0));
        let fail = Evaluation::from(CheckOutcome::fail("boom"));
        assert_eq!(fail.passed_override, Some(false));
        assert_eq!(fail.message.as_deref(), Some("boom"));
    }

    #[test]
    fn counts_leave_it_to_the_threshold() {
        let e = Evaluation::from(
            CheckOutcome::counts(3, 10)
                .message("three")
                .repro_sql("SELECT 1"),
        );
        assert_eq!(e.passed_override, None);
        assert_eq!((e.failed_count, e.total_count), (3, 10));
        assert_eq!(e.message.as_deref(), Some("three"));
        assert_eq!(e.repro_sql, "SELECT 1");
    }

    #[test]
    fn samples_are_bounded() {
        let many = (0..100).map(|i| serde_json::json!({ "id": i }));
        let e = Evaluation::from(CheckOutcome::counts(100, 100).samples(many));
        assert_eq!(e.samples.len(), MAX_SAMPLES);
        assert_eq!(e.samples[0], serde_json::json!({ "id": 0 }));
    }
}
