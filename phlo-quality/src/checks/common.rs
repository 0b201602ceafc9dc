//! Shared pieces of the built-in checks: options every check has, SQL helpers that run
//! aggregates through DataFusion, and the bounded sample reader.

use arrow::array::RecordBatch;
use arrow::datatypes::{DataType, SchemaRef, TimeUnit};
use datafusion::prelude::SessionContext;
use datafusion::scalar::ScalarValue;

use crate::scope::quote_ident;
use crate::{CheckScope, Error, Result, Severity};

/// Samples kept per check result.
pub const MAX_SAMPLES: usize = 20;

/// The options every built-in check has: the allowed failure fraction and the severity.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub(crate) struct CheckOptions {
    pub(crate) threshold: f64,
    pub(crate) severity: Severity,
}

/// Adds `allow_threshold`, `warn` and `error` to a check builder with an `options` field.
macro_rules! check_options {
    ($ty:ty) => {
        impl $ty {
            /// Allows a fraction of failures: the check passes iff `failed / total ≤ threshold`
            /// (default `0.0`).
            #[must_use]
            pub fn allow_threshold(mut self, threshold: f64) -> Self {
                self.options.threshold = threshold;
                self
            }

            /// Makes the check a warning: recorded, never blocking.
            #[must_use]
            pub fn warn(mut self) -> Self {
                self.options.severity = $crate::Severity::Warn;
                self
            }

            /// Makes the check an error (the default): a failure blocks a blocking asset.
            #[must_use]
            pub fn error(mut self) -> Self {
                self.options.severity = $crate::Severity::Error;
                self
            }
        }
    };
}
pub(crate) use check_options;

/// Collects column names from `impl IntoIterator<Item = impl Into<String>>`.
pub(crate) fn strings(items: impl IntoIterator<Item = impl Into<String>>) -> Vec<String> {
    items.into_iter().map(Into::into).collect()
}

/// Quotes `s` as a SQL string literal.
pub(crate) fn sql_str(s: &str) -> String {
    format!("'{}'", s.replace('\'', "''"))
}

/// A float as a SQL literal; non-finite values are a configuration error.
pub(crate) fn sql_f64(check: &str, v: f64) -> Result<String> {
    if !v.is_finite() {
        return Err(Error::Config {
            check: check.to_string(),
            reason: format!("bound {v} is not a finite number"),
        });
    }
    Ok(format!("CAST({v:?} AS DOUBLE)"))
}

/// `"a", "b"`.
pub(crate) fn quoted_list(columns: &[String]) -> String {
    columns
        .iter()
        .map(|c| quote_ident(c))
        .collect::<Vec<_>>()
        .join(", ")
}

/// The Arrow schema of a registered `ns.table`.
pub(crate) async fn table_schema(ctx: &SessionContext, table: &str) -> Result<SchemaRef> {
    let provider = ctx
        .table_provider(table)
        .await
        .map_err(|_| Error::MissingTable {
            table: table.to_string(),
        })?;
    Ok(provider.schema())
}

/// The type of `column` in the checked table (after `require_columns`).
pub(crate) async fn column_type(scope: &CheckScope, column: &str) -> Result<DataType> {
    let schema = table_schema(scope.ctx(), scope.table()).await?;
    let field = schema
        .field_with_name(column)
        .map_err(|_| Error::MissingColumn {
            table: scope.table().to_string(),
            column: column.to_string(),
            available: schema.fields().iter().map(|f| f.name().clone()).collect(),
        })?;
    Ok(field.data_type().clone())
}

/// Fails with [`Error::MissingColumn`] unless `table` (not the checked table) has every one
/// of `columns`.
pub(crate) async fn require_other_columns(
    ctx: &SessionContext,
    table: &str,
    columns: &[String],
) -> Result<SchemaRef> {
    let schema = table_schema(ctx, table).await?;
    for c in columns {
        if schema.field_with_name(c).is_err() {
            return Err(Error::MissingColumn {
                table: table.to_string(),
                column: c.clone(),
                available: schema.fields().iter().map(|f| f.name().clone()).collect(),
            });
        }
    }
    Ok(schema)
}

/// Whether values of `t` are strings.
pub(crate) fn is_string(t: &DataType) -> bool {
    matches!(t, DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View)
}

/// Whether values of `t` are floats (and may be NaN).
pub(crate) fn is_float(t: &DataType) -> bool {
    t.is_floating()
}

/// Runs `sql`, which must return exactly one row (an aggregate), and returns its values.
pub(crate) async fn query_row(ctx: &SessionContext, sql: &str) -> Result<Vec<ScalarValue>> {
    let batches = ctx.sql(sql).await?.collect().await?;
    let batch = batches
        .iter()
        .find(|b| b.num_rows() > 0)
        .ok_or_else(|| internal(format!("aggregate query returned no row: {sql}")))?;
    batch
        .columns()
        .iter()
        .map(|c| ScalarValue::try_from_array(c, 0).map_err(Error::from))
        .collect()
}

/// A count from an aggregate row (nulls count as 0).
pub(crate) fn count_at(row: &[ScalarValue], i: usize) -> Result<u64> {
    let v = row
        .get(i)
        .ok_or_else(|| internal(format!("aggregate row has no column {i}")))?;
    scalar_u64(v).ok_or_else(|| internal(format!("aggregate column {i} is not a count: {v:?}")))
}

/// A non-negative integer scalar as `u64` (`Some(0)` for null).
pub(crate) fn scalar_u64(v: &ScalarValue) -> Option<u64> {
    scalar_i128(v).and_then(|n| u64::try_from(n.unwrap_or(0)).ok())
}

/// An integer scalar: `Some(None)` for a null integer, `None` when not an integer.
pub(crate) fn scalar_i128(v: &ScalarValue) -> Option<Option<i128>> {
    Some(match v {
        ScalarValue::Int8(n) => n.map(i128::from),
        ScalarValue::Int16(n) => n.map(i128::from),
        ScalarValue::Int32(n) => n.map(i128::from),
        ScalarValue::Int64(n) => n.map(i128::from),
        ScalarValue::UInt8(n) => n.map(i128::from),
        ScalarValue::UInt16(n) => n.map(i128::from),
        ScalarValue::UInt32(n) => n.map(i128::from),
        ScalarValue::UInt64(n) => n.map(i128::from),
        _ => return None,
    })
}

/// A timestamp or date scalar as microseconds since the epoch (`None` for null).
pub(crate) fn scalar_micros(v: &ScalarValue) -> Option<Option<i64>> {
    Some(match v {
        ScalarValue::TimestampSecond(n, _) => n.map(|n| n.saturating_mul(1_000_000)),
        ScalarValue::TimestampMillisecond(n, _) => n.map(|n| n.saturating_mul(1_000)),
        ScalarValue::TimestampMicrosecond(n, _) => *n,
        ScalarValue::TimestampNanosecond(n, _) => n.map(|n| n / 1_000),
        ScalarValue::Date32(n) => n.map(|d| i64::from(d).saturating_mul(86_400_000_000)),
        ScalarValue::Date64(n) => n.map(|ms| ms.saturating_mul(1_000)),
        ScalarValue::Null => None,
        _ => return None,
    })
}

/// Whether `t` is a point in time (a timestamp of any unit or a date).
pub(crate) fn is_temporal(t: &DataType) -> bool {
    matches!(
        t,
        DataType::Timestamp(
            TimeUnit::Second | TimeUnit::Millisecond | TimeUnit::Microsecond | TimeUnit::Nanosecond,
            _
        ) | DataType::Date32
            | DataType::Date64
    )
}

/// A query we built returned something of another shape (a bug in phlo: please report).
pub(crate) fn internal(reason: String) -> Error {
    Error::Query(Box::new(datafusion::error::DataFusionError::Execution(
        format!("{reason} (a bug in phlo-quality; please report it)"),
    )))
}

/// The columns shown in samples: the scope's key columns present in the table, then
/// `checked` (each once, in that order).
pub(crate) async fn sample_columns(scope: &CheckScope, checked: &[String]) -> Result<Vec<String>> {
    let available = scope.columns().await?;
    let mut out: Vec<String> = Vec::new();
    for c in scope.key_columns().iter().chain(checked) {
        if available.contains(c) && !out.contains(c) {
            out.push(c.clone());
        }
    }
    Ok(out)
}

/// Runs `sql` (a query without `LIMIT`) with `LIMIT 20` appended and renders the rows as
/// JSON objects (nulls kept).
pub(crate) async fn samples(ctx: &SessionContext, sql: &str) -> Result<Vec<serde_json::Value>> {
    let limited = format!("{sql} LIMIT {MAX_SAMPLES}");
    let batches = ctx.sql(&limited).await?.collect().await?;
    batches_to_json(&batches)
}

/// Renders batches as JSON objects, one per row (nulls kept as `null`).
pub(crate) fn batches_to_json(batches: &[RecordBatch]) -> Result<Vec<serde_json::Value>> {
    let mut writer = arrow::json::WriterBuilder::new()
        .with_explicit_nulls(true)
        .build::<_, arrow::json::writer::JsonArray>(Vec::new());
    for b in batches.iter().filter(|b| b.num_rows() > 0) {
        writer.write(b)?;
    }
    writer.finish()?;
    let bytes = writer.into_inner();
    let rows: Vec<serde_json::Value> = serde_json::from_slice(&bytes)
        .map_err(|e| internal(format!("samples are not valid JSON: {e}")))?;
    Ok(rows)
}

/// `Some("the scope is empty")` when `total` is 0.
pub(crate) fn empty_message(total: u64) -> Option<String> {
    (total == 0).then(|| "the scope is empty".to_string())
}

/// `Some("no non-null `col` in scope")` when `total` (the non-null values) is 0.
pub(crate) fn no_values_message(total: u64, column: &str) -> Option<String> {
    (total == 0).then(|| format!("no non-null `{column}` in scope"))
}

/// Up to 20 rows of the scope matching `predicate`, showing the key columns and `checked`,
/// ordered by the shown columns (deterministic across runs; a top-k, not a full sort).
pub(crate) async fn failing_rows(
    scope: &CheckScope,
    checked: &[String],
    predicate: &str,
) -> Result<Vec<serde_json::Value>> {
    let columns = sample_columns(scope, checked).await?;
    let shown = quoted_list(&columns);
    let order = columns
        .iter()
        .map(|c| format!("{} ASC NULLS LAST", quote_ident(c)))
        .collect::<Vec<_>>()
        .join(", ");
    let sql = format!(
        "{} ORDER BY {order}",
        scope.select_sql(&shown, Some(predicate))
    );
    samples(scope.ctx(), &sql).await
}

/// Fails with [`Error::Config`] unless DataFusion's `regexp_like` compiles `regex`.
pub(crate) async fn validate_regex(scope: &CheckScope, check: &str, regex: &str) -> Result<()> {
    let sql = format!("SELECT regexp_like('', {})", sql_str(regex));
    let checked = match scope.ctx().sql(&sql).await {
        Ok(df) => df.collect().await.map(|_| ()),
        Err(e) => Err(e),
    };
    checked.map_err(|e| Error::Config {
        check: check.to_string(),
        reason: format!("invalid pattern {regex:?}: {}", e.find_root()),
    })
}

/// Evaluates a value check over the non-null values of `column`: `failing` is the SQL
/// predicate of a failing row. One aggregate counts both (denominator = non-null values);
/// samples and the repro query show the failing rows; `describe(failed, total)` words the
/// failure. Shared by the range, pattern and accepted-values checks.
pub(crate) async fn evaluate_non_null(
    scope: &CheckScope,
    column: &str,
    sample_columns: &[String],
    failing: &str,
    describe: impl FnOnce(u64, u64) -> String,
) -> Result<crate::Evaluation> {
    let col = quote_ident(column);
    let sql = scope.select_sql(
        &format!("count({col}), count(*) FILTER (WHERE {failing})"),
        None,
    );
    let row = query_row(scope.ctx(), &sql).await?;
    let (total, failed) = (count_at(&row, 0)?, count_at(&row, 1)?);
    let samples = if failed > 0 {
        failing_rows(scope, sample_columns, failing).await?
    } else {
        Vec::new()
    };
    let message = if failed > 0 {
        Some(describe(failed, total))
    } else {
        no_values_message(total, column)
    };
    Ok(crate::Evaluation {
        failed_count: failed,
        total_count: total,
        samples,
        repro_sql: scope.select_sql("*", Some(failing)),
        message,
        passed_override: None,
    })
}
