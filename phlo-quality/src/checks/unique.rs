//! `UniqueCheck`: every row of a key group that occurs more than once.

use async_trait::async_trait;

use super::common::{
    CheckOptions, check_options, count_at, empty_message, query_row, quoted_list, samples, strings,
};
use crate::scope::quote_ident;
use crate::{Check, CheckScope, Error, Evaluation, Result, Severity};

/// Fails **every row** of a key (one column or several) that occurs more than once in
/// scope. Rows with a null in any key column are ignored (never duplicates).
///
/// Denominator: every row in scope. Samples are the duplicated keys with their `count`
/// (most duplicated first); the message says how many keys are duplicated. An empty scope
/// passes (0 of 0).
///
/// ```rust
/// use phlo_quality::{Check, UniqueCheck};
/// assert_eq!(UniqueCheck::new(["id"]).name(), "unique_check(id)");
/// assert_eq!(UniqueCheck::new(["day", "store"]).name(), "unique_check(day,store)");
/// ```
#[derive(Debug, Clone)]
pub struct UniqueCheck {
    columns: Vec<String>,
    options: CheckOptions,
}

impl UniqueCheck {
    /// A check that the combination of `columns` is unique.
    pub fn new(columns: impl IntoIterator<Item = impl Into<String>>) -> Self {
        UniqueCheck {
            columns: strings(columns),
            options: CheckOptions::default(),
        }
    }

    /// `SELECT <keys>, count(*) AS count … GROUP BY <keys> HAVING count(*) > 1`.
    fn duplicated_keys_sql(&self, scope: &CheckScope) -> String {
        let keys = quoted_list(&self.columns);
        let mut sql = scope.select_sql(
            &format!("{keys}, count(*) AS \"count\""),
            Some(&self.not_null()),
        );
        sql.push_str(&format!(" GROUP BY {keys} HAVING count(*) > 1"));
        sql
    }

    fn not_null(&self) -> String {
        self.columns
            .iter()
            .map(|c| format!("{} IS NOT NULL", quote_ident(c)))
            .collect::<Vec<_>>()
            .join(" AND ")
    }

    /// The failing rows: every row of a duplicated key.
    fn repro_sql(&self, scope: &CheckScope) -> String {
        let keys = quoted_list(&self.columns);
        let inner = scope.select_sql(
            &format!("*, count(*) OVER (PARTITION BY {keys}) AS \"_phlo_key_count\""),
            Some(&self.not_null()),
        );
        format!("SELECT * FROM ({inner}) WHERE \"_phlo_key_count\" > 1")
    }
}

check_options!(UniqueCheck);

#[async_trait]
impl Check for UniqueCheck {
    fn name(&self) -> String {
        format!("unique_check({})", self.columns.join(","))
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
                reason: "name at least one key column".into(),
            });
        }
        let cols: Vec<&str> = self.columns.iter().map(String::as_str).collect();
        scope.require_columns(&cols).await?;
        let dups = self.duplicated_keys_sql(scope);
        let sql = format!(
            "SELECT t.total, d.keys, d.rows FROM ({}) t CROSS JOIN \
             (SELECT count(*) AS keys, coalesce(sum(\"count\"), 0) AS rows FROM ({dups})) d",
            scope.select_sql("count(*) AS total", None)
        );
        let row = query_row(scope.ctx(), &sql).await?;
        let (total, keys, failed) = (count_at(&row, 0)?, count_at(&row, 1)?, count_at(&row, 2)?);
        let samples = if keys > 0 {
            let order = quoted_list(&self.columns);
            samples(
                scope.ctx(),
                &format!("{dups} ORDER BY \"count\" DESC, {order}"),
            )
            .await?
        } else {
            Vec::new()
        };
        let message = if keys > 0 {
            Some(format!(
                "{keys} duplicated {} of ({}) cover {failed} of {total} rows",
                if keys == 1 { "key" } else { "keys" },
                self.columns.join(", ")
            ))
        } else {
            empty_message(total)
        };
        Ok(Evaluation {
            failed_count: failed,
            total_count: total,
            samples,
            repro_sql: self.repro_sql(scope),
            message,
            passed_override: None,
        })
    }
}

#[cfg(test)]
mod tests;
