//! `CountCheck`: the number of rows in scope is within bounds.

use async_trait::async_trait;

use super::common::{CheckOptions, check_options, count_at, query_row};
use crate::{Check, CheckScope, Error, Evaluation, Result, Severity};

/// Fails when the number of rows in scope is outside `[min_rows, max_rows]`.
///
/// The scope is one unit: `failed_count` is 1 when the count is out of bounds, else 0, and
/// `total_count` is 1; the message gives the row count. `min_rows` defaults to 1, so
/// `CountCheck::new()` fails an empty scope. An empty scope with `min_rows ≥ 1` fails
/// whatever the threshold.
///
/// ```rust
/// use phlo_quality::{Check, CountCheck};
/// let check = CountCheck::new().min_rows(100).max_rows(1_000_000);
/// assert_eq!(check.name(), "count_check");
/// ```
#[derive(Debug, Clone)]
pub struct CountCheck {
    min_rows: u64,
    max_rows: Option<u64>,
    options: CheckOptions,
}

impl Default for CountCheck {
    fn default() -> Self {
        Self::new()
    }
}

impl CountCheck {
    /// At least one row, no maximum.
    pub fn new() -> Self {
        CountCheck {
            min_rows: 1,
            max_rows: None,
            options: CheckOptions::default(),
        }
    }

    /// At least `n` rows (`0` allows an empty scope).
    #[must_use]
    pub fn min_rows(mut self, n: u64) -> Self {
        self.min_rows = n;
        self
    }

    /// At most `n` rows.
    #[must_use]
    pub fn max_rows(mut self, n: u64) -> Self {
        self.max_rows = Some(n);
        self
    }

    fn bounds(&self) -> String {
        match self.max_rows {
            Some(max) => format!("between {} and {max}", self.min_rows),
            None => format!("at least {}", self.min_rows),
        }
    }
}

check_options!(CountCheck);

#[async_trait]
impl Check for CountCheck {
    fn name(&self) -> String {
        "count_check".to_string()
    }

    fn severity(&self) -> Severity {
        self.options.severity
    }

    fn threshold(&self) -> f64 {
        self.options.threshold
    }

    async fn evaluate(&self, scope: &CheckScope) -> Result<Evaluation> {
        if let Some(max) = self.max_rows
            && max < self.min_rows
        {
            return Err(Error::Config {
                check: self.name(),
                reason: format!("max_rows {max} is less than min_rows {}", self.min_rows),
            });
        }
        let sql = scope.select_sql("count(*)", None);
        let rows = count_at(&query_row(scope.ctx(), &sql).await?, 0)?;
        let within = rows >= self.min_rows && self.max_rows.is_none_or(|max| rows <= max);
        let empty_fails = rows == 0 && self.min_rows >= 1;
        let message = if empty_fails {
            format!("the scope is empty; expected {} rows", self.bounds())
        } else if within {
            format!("{rows} rows")
        } else {
            format!("{rows} rows; expected {} rows", self.bounds())
        };
        Ok(Evaluation {
            failed_count: u64::from(!within),
            total_count: 1,
            samples: Vec::new(),
            repro_sql: sql,
            message: Some(message),
            passed_override: empty_fails.then_some(false),
        })
    }
}

#[cfg(test)]
mod tests;
