//! `RelationshipsCheck`: dbt's `relationships` test, referential integrity against another
//! table.

use async_trait::async_trait;

use super::common::{
    CheckOptions, check_options, count_at, empty_message, failing_rows, query_row,
};
use crate::scope::{quote_ident, quote_table};
use crate::{Check, CheckScope, Error, Evaluation, Result, Severity};

/// Fails rows whose `column` has a value that `to_column` of table `to` does not hold
/// (every row of `to`, whatever the checked table's scope).
///
/// Denominator: the rows in scope where `column` is not null; nulls are not failures (as in
/// dbt). An empty scope passes (0 of 0).
///
/// ```rust
/// use phlo_quality::{Check, RelationshipsCheck};
/// let check = RelationshipsCheck::new("well_code", "seeds.well_prices", "well_code");
/// assert_eq!(check.name(), "relationships(well_code → seeds.well_prices.well_code)");
/// ```
#[derive(Debug, Clone)]
pub struct RelationshipsCheck {
    column: String,
    to: String,
    to_column: String,
    options: CheckOptions,
}

impl RelationshipsCheck {
    /// Every non-null `column` must be a value of `to_column` in table `to` (`ns.table`).
    pub fn new(
        column: impl Into<String>,
        to: impl Into<String>,
        to_column: impl Into<String>,
    ) -> Self {
        RelationshipsCheck {
            column: column.into(),
            to: to.into(),
            to_column: to_column.into(),
            options: CheckOptions::default(),
        }
    }

    fn predicate(&self) -> String {
        let to_col = quote_ident(&self.to_column);
        format!(
            "{col} IS NOT NULL AND {col} NOT IN (SELECT {to_col} FROM {to} WHERE {to_col} IS NOT NULL)",
            col = quote_ident(&self.column),
            to = quote_table(&self.to),
        )
    }
}

check_options!(RelationshipsCheck);

#[async_trait]
impl Check for RelationshipsCheck {
    fn name(&self) -> String {
        format!(
            "relationships({} → {}.{})",
            self.column, self.to, self.to_column
        )
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
        if scope.ctx().table_provider(self.to.as_str()).await.is_err() {
            return Err(Error::Config {
                check: self.name(),
                reason: format!("the referenced table `{}` does not exist", self.to),
            });
        }
        let not_null = format!("{} IS NOT NULL", quote_ident(&self.column));
        let total = count_at(
            &query_row(scope.ctx(), &scope.select_sql("count(*)", Some(&not_null))).await?,
            0,
        )?;
        let pred = self.predicate();
        let failed = count_at(
            &query_row(scope.ctx(), &scope.select_sql("count(*)", Some(&pred))).await?,
            0,
        )?;
        let samples = if failed > 0 {
            failing_rows(scope, std::slice::from_ref(&self.column), &pred).await?
        } else {
            Vec::new()
        };
        let message = (failed > 0).then(|| {
            format!(
                "{failed} of {total} rows have a `{}` that `{}.{}` does not hold",
                self.column, self.to, self.to_column
            )
        });
        Ok(Evaluation {
            failed_count: failed,
            total_count: total,
            samples,
            repro_sql: scope.select_sql("*", Some(&pred)),
            message: message.or_else(|| empty_message(total)),
            passed_override: None,
        })
    }
}
