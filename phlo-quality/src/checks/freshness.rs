//! `FreshnessCheck`: the newest timestamp in scope is recent enough.

use async_trait::async_trait;
use chrono::{DateTime, Duration, Utc};

use super::common::{
    CheckOptions, check_options, column_type, is_temporal, query_row, scalar_micros,
};
use crate::scope::quote_ident;
use crate::{Check, CheckScope, Error, Evaluation, Result, Severity};

/// Fails when `max(column)` in scope is older than `max_age`, measured against the scope's
/// clock ([`CheckScope::now`], the runtime's injected clock — never the wall clock).
///
/// The scope is one unit: `failed_count` is 1 when stale, else 0; `total_count` is 1. An
/// empty scope (or a column that is null in every row) fails whatever the threshold. Dates
/// count as midnight UTC; timestamps without a time zone are read as UTC. A newest value in
/// the future is fresh. The message gives the age.
///
/// ```rust
/// use phlo_quality::{Check, FreshnessCheck};
/// let check = FreshnessCheck::new("ts").max_age_hours(24);
/// assert_eq!(check.name(), "freshness_check(ts)");
/// ```
#[derive(Debug, Clone)]
pub struct FreshnessCheck {
    column: String,
    max_age: Duration,
    options: CheckOptions,
}

impl FreshnessCheck {
    /// A freshness check on `column` (a timestamp or date), max age 24 hours.
    pub fn new(column: impl Into<String>) -> Self {
        FreshnessCheck {
            column: column.into(),
            max_age: Duration::hours(24),
            options: CheckOptions::default(),
        }
    }

    /// The newest value may be at most `hours` old.
    #[must_use]
    pub fn max_age_hours(self, hours: u32) -> Self {
        self.max_age(Duration::hours(i64::from(hours)))
    }

    /// The newest value may be at most `minutes` old.
    #[must_use]
    pub fn max_age_minutes(self, minutes: u32) -> Self {
        self.max_age(Duration::minutes(i64::from(minutes)))
    }

    /// The newest value may be at most `max_age` old.
    #[must_use]
    pub fn max_age(mut self, max_age: Duration) -> Self {
        self.max_age = max_age;
        self
    }
}

check_options!(FreshnessCheck);

/// `1d 2h 3m 4s`, leaving out leading zero units.
fn human(d: Duration) -> String {
    let secs = d.num_seconds();
    let sign = if secs < 0 { "-" } else { "" };
    let secs = secs.unsigned_abs();
    let (days, hours, minutes, seconds) = (
        secs / 86_400,
        secs % 86_400 / 3_600,
        secs % 3_600 / 60,
        secs % 60,
    );
    let text = if days > 0 {
        format!("{days}d {hours}h {minutes}m")
    } else if hours > 0 {
        format!("{hours}h {minutes}m")
    } else if minutes > 0 {
        format!("{minutes}m {seconds}s")
    } else {
        format!("{seconds}s")
    };
    format!("{sign}{text}")
}

#[async_trait]
impl Check for FreshnessCheck {
    fn name(&self) -> String {
        format!("freshness_check({})", self.column)
    }

    fn severity(&self) -> Severity {
        self.options.severity
    }

    fn threshold(&self) -> f64 {
        self.options.threshold
    }

    fn columns(&self) -> Vec<String> {
        vec![self.column.clone()]
    }

    async fn evaluate(&self, scope: &CheckScope) -> Result<Evaluation> {
        scope.require_columns(&[self.column.as_str()]).await?;
        let data_type = column_type(scope, &self.column).await?;
        if !is_temporal(&data_type) {
            return Err(Error::Config {
                check: self.name(),
                reason: format!("`{}` is {data_type}, not a timestamp or date", self.column),
            });
        }
        let sql = scope.select_sql(&format!("max({})", quote_ident(&self.column)), None);
        let row = query_row(scope.ctx(), &sql).await?;
        let newest = row
            .first()
            .and_then(scalar_micros)
            .flatten()
            .and_then(DateTime::<Utc>::from_timestamp_micros);
        let Some(newest) = newest else {
            return Ok(Evaluation {
                failed_count: 1,
                total_count: 1,
                repro_sql: sql,
                message: Some(format!(
                    "the scope is empty: no non-null `{}` to measure freshness",
                    self.column
                )),
                passed_override: Some(false),
                ..Default::default()
            });
        };
        let age = scope.now() - newest;
        let stale = age > self.max_age;
        let message = format!(
            "newest `{}` ({}) is {} old at {}; max age {}",
            self.column,
            newest.to_rfc3339(),
            human(age),
            scope.now().to_rfc3339(),
            human(self.max_age)
        );
        Ok(Evaluation {
            failed_count: u64::from(stale),
            total_count: 1,
            samples: Vec::new(),
            repro_sql: sql,
            message: Some(message),
            passed_override: None,
        })
    }
}

#[cfg(test)]
mod tests;
