//! `NullCheck`: rows where any of the listed columns is null.

use async_trait::async_trait;

use super::common::{
    CheckOptions, check_options, count_at, empty_message, failing_rows, query_row, strings,
};
use crate::scope::quote_ident;
use crate::{Check, CheckScope, Error, Evaluation, Result, Severity};

/// Fails rows where any of the columns is null.
///
/// Denominator: every row in scope. An empty scope passes (0 of 0).
///
/// ```rust
/// use phlo_quality::NullCheck;
/// let check = NullCheck::new(["id", "ts"]).allow_threshold(0.01);
/// # use phlo_quality::Check;
/// assert_eq!(check.name(), "null_check(id,ts)");
/// ```
#[derive(Debug, Clone)]
pub struct NullCheck {
    columns: Vec<String>,
    options: CheckOptions,
}

impl NullCheck {
    /// A check that none of `columns` is null.
    pub fn new(columns: impl IntoIterator<Item = impl Into<String>>) -> Self {
        NullCheck {
            columns: strings(columns),
            options: CheckOptions::default(),
        }
    }

    fn predicate(&self) -> String {
        self.columns
            .iter()
            .map(|c| format!("{} IS NULL", quote_ident(c)))
            .collect::<Vec<_>>()
            .join(" OR ")
    }
}

check_options!(NullCheck);

#[async_trait]
impl Check for NullCheck {
    fn name(&self) -> String {
        format!("null_check({})", self.columns.join(","))
    }

    fn severity(&self) -> Severity {
        self.options.severity
    }

    fn threshold(&self) -> f64 {
        self.options.threshold
    }

    fn columns(&self) -> Vec<String> {
        self.columns.clone()
    }

    async fn evaluate(&self, scope: &CheckScope) -> Result<Evaluation> {
        if self.columns.is_empty() {
            return Err(Error::Config {
                check: self.name(),
                reason: "name at least one column".into(),
            });
        }
        let cols: Vec<&str> = self.columns.iter().map(String::as_str).collect();
        scope.require_columns(&cols).await?;
        let pred = self.predicate();
        let sql = scope.select_sql(&format!("count(*), count(*) FILTER (WHERE {pred})"), None);
        let row = query_row(scope.ctx(), &sql).await?;
        let (total, failed) = (count_at(&row, 0)?, count_at(&row, 1)?);
        let repro_sql = scope.select_sql("*", Some(&pred));
        let samples = if failed > 0 {
            failing_rows(scope, &self.columns, &pred).await?
        } else {
            Vec::new()
        };
        let message = (failed > 0).then(|| {
            format!(
                "{failed} of {total} rows have a null in {}",
                self.columns.join(" or ")
            )
        });
        Ok(Evaluation {
            failed_count: failed,
            total_count: total,
            samples,
            repro_sql,
            message: message.or_else(|| empty_message(total)),
            passed_override: None,
        })
    }
}

#[cfg(test)]
mod tests;
