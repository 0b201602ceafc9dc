//! `CustomSqlCheck`: a user query that counts failures or returns a verdict per row.

use arrow::array::{Array, AsArray};
use arrow::datatypes::DataType;
use async_trait::async_trait;
use datafusion::execution::context::SQLOptions;
use futures::StreamExt;

use super::common::{CheckOptions, check_options, scalar_i128};
use crate::{Check, CheckScope, Error, Evaluation, Result, Severity};

/// Runs a read-only SQL query through the scope's session (every warehouse table is
/// registered as `ns.table`). Two shapes are accepted:
///
/// - **one row, one integer column**: the number of failing rows. `failed_count` is that
///   number; the check passes iff it equals [`expect`](Self::expect) (default 0). There is
///   no denominator (`total_count` is 0) and the threshold does not apply.
/// - **one boolean column**, one row per checked unit: `failed_count` is the number of
///   `false` rows, `total_count` the number of rows; nulls are not failures (element
///   checks ignore nulls). The threshold applies as usual.
///
/// Anything else — several columns, another type, zero or several rows of integers, a
/// null or negative count — is [`Error::Config`]. DDL and DML are refused (the session
/// runs the query read-only). The result is streamed, never collected.
///
/// ```rust
/// use phlo_quality::{Check, CustomSqlCheck};
/// let check = CustomSqlCheck::new(
///     "no_negative",
///     "SELECT count(*) FROM bronze.events WHERE value < 0",
/// )
/// .expect(0);
/// assert_eq!(check.name(), "custom_sql_check(no_negative)");
/// ```
#[derive(Debug, Clone)]
pub struct CustomSqlCheck {
    name: String,
    sql: String,
    expect: i64,
    options: CheckOptions,
}

impl CustomSqlCheck {
    /// A check called `name` that runs `sql`.
    pub fn new(name: impl Into<String>, sql: impl Into<String>) -> Self {
        CustomSqlCheck {
            name: name.into(),
            sql: sql.into(),
            expect: 0,
            options: CheckOptions::default(),
        }
    }

    /// The count the query must return (integer queries only; default 0).
    #[must_use]
    pub fn expect(mut self, count: i64) -> Self {
        self.expect = count;
        self
    }

    fn config(&self, reason: impl Into<String>) -> Error {
        Error::Config {
            check: self.name(),
            reason: reason.into(),
        }
    }

    async fn count(
        &self,
        mut stream: datafusion::physical_plan::SendableRecordBatchStream,
    ) -> Result<Evaluation> {
        let mut value: Option<i128> = None;
        let mut rows = 0usize;
        while let Some(batch) = stream.next().await {
            let batch = batch?;
            if batch.num_rows() == 0 {
                continue;
            }
            rows += batch.num_rows();
            if rows > 1 {
                return Err(self.config("the count query returned more than one row"));
            }
            let scalar = datafusion::scalar::ScalarValue::try_from_array(batch.column(0), 0)?;
            value = scalar_i128(&scalar).flatten();
            if value.is_none() {
                return Err(self.config("the count query returned null"));
            }
        }
        let Some(n) = value else {
            return Err(self.config("the count query returned no row"));
        };
        let count = u64::try_from(n)
            .map_err(|_| self.config(format!("the count query returned {n}, a negative count")))?;
        let passed = n == i128::from(self.expect);
        Ok(Evaluation {
            failed_count: count,
            total_count: 0,
            samples: Vec::new(),
            repro_sql: self.sql.clone(),
            message: Some(format!("the query returned {n}; expected {}", self.expect)),
            passed_override: Some(passed),
        })
    }

    async fn verdicts(
        &self,
        mut stream: datafusion::physical_plan::SendableRecordBatchStream,
    ) -> Result<Evaluation> {
        let (mut failed, mut total) = (0u64, 0u64);
        while let Some(batch) = stream.next().await {
            let batch = batch?;
            let verdicts = batch
                .column(0)
                .as_boolean_opt()
                .ok_or_else(|| self.config("the query's column is not boolean"))?;
            total += batch.num_rows() as u64;
            let trues = verdicts.true_count() as u64;
            let nulls = verdicts.null_count() as u64;
            failed += batch.num_rows() as u64 - trues - nulls;
        }
        let message = (failed > 0).then(|| format!("{failed} of {total} rows are false"));
        Ok(Evaluation {
            failed_count: failed,
            total_count: total,
            samples: Vec::new(),
            repro_sql: self.sql.clone(),
            message,
            passed_override: None,
        })
    }
}

check_options!(CustomSqlCheck);

#[async_trait]
impl Check for CustomSqlCheck {
    fn name(&self) -> String {
        format!("custom_sql_check({})", self.name)
    }

    fn severity(&self) -> Severity {
        self.options.severity
    }

    fn threshold(&self) -> f64 {
        self.options.threshold
    }

    async fn evaluate(&self, scope: &CheckScope) -> Result<Evaluation> {
        let read_only = SQLOptions::new()
            .with_allow_ddl(false)
            .with_allow_dml(false)
            .with_allow_statements(false);
        let df = scope.ctx().sql_with_options(&self.sql, read_only).await?;
        let fields = df.schema().fields().clone();
        let shape = fields
            .iter()
            .map(|f| format!("{}: {}", f.name(), f.data_type()))
            .collect::<Vec<_>>()
            .join(", ");
        let data_type = match fields.iter().next() {
            Some(f) if fields.len() == 1 => f.data_type().clone(),
            _ => {
                return Err(self.config(format!(
                    "the query must return one integer column (a count of failing rows) or one \
                     boolean column (a verdict per row); it returned ({shape})"
                )));
            }
        };
        let stream = df.execute_stream().await?;
        match data_type {
            DataType::Boolean => self.verdicts(stream).await,
            t if t.is_integer() => self.count(stream).await,
            _ => Err(self.config(format!(
                "the query must return one integer column (a count of failing rows) or one \
                 boolean column (a verdict per row); it returned ({shape})"
            ))),
        }
    }
}

#[cfg(test)]
mod tests;
