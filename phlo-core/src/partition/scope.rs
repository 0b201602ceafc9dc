//! Which rows of a table one partition covers.

use datafusion::common::ScalarValue;
use datafusion::prelude::{Expr, col, lit};

/// The rows one partition covers, as storage and checks see them: a column and a value,
/// plus the physical partition (column and value text, as Delta Lake stores it) whose
/// files can hold them. Storage knows this layout, not what the columns mean.
#[derive(Debug, Clone, PartialEq)]
pub enum PartitionScope {
    /// Every row of the table (an unpartitioned asset).
    Whole,
    /// The rows whose `column` equals `value`.
    Key {
        /// The key column (`_phlo_partition_date`, `_phlo_partition_hour`, …).
        column: &'static str,
        /// The partition's value in it.
        value: ScalarValue,
        /// The physical partition holding those rows, when the table is partitioned.
        file_partition: Option<(&'static str, String)>,
    },
}

impl PartitionScope {
    /// The rows as a DataFusion predicate (`TRUE` for the whole table).
    pub fn predicate(&self) -> Expr {
        match self {
            PartitionScope::Whole => lit(true),
            PartitionScope::Key { column, value, .. } => col(*column).eq(lit(value.clone())),
        }
    }

    /// The rows as a SQL predicate (`TRUE` for the whole table), for checks and repro
    /// queries.
    pub fn sql(&self) -> String {
        match self {
            PartitionScope::Whole => "TRUE".into(),
            PartitionScope::Key { column, value, .. } => {
                format!("{} = {}", quote_ident(column), sql_literal(value))
            }
        }
    }

    /// The physical partition (column, Delta partition value) holding the rows.
    pub fn file_partition(&self) -> Option<(&str, &str)> {
        match self {
            PartitionScope::Key {
                file_partition: Some((c, v)),
                ..
            } => Some((c, v.as_str())),
            _ => None,
        }
    }
}

/// `"name"`, with embedded quotes doubled.
pub fn quote_ident(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

/// A SQL literal DataFusion parses back to `value`'s type (or one it coerces from).
pub fn sql_literal(value: &ScalarValue) -> String {
    let quoted = |s: &str| format!("'{}'", s.replace('\'', "''"));
    match value {
        ScalarValue::Date32(Some(d)) => arrow::datatypes::Date32Type::to_naive_date_opt(*d)
            .map_or_else(
                || "NULL".into(),
                |d| format!("DATE '{}'", d.format("%Y-%m-%d")),
            ),
        ScalarValue::TimestampMicrosecond(Some(us), _) => {
            chrono::DateTime::from_timestamp_micros(*us).map_or_else(
                || "NULL".into(),
                |t| format!("TIMESTAMP '{}'", t.format("%Y-%m-%dT%H:%M:%S%.6fZ")),
            )
        }
        ScalarValue::Utf8(Some(s))
        | ScalarValue::LargeUtf8(Some(s))
        | ScalarValue::Utf8View(Some(s)) => quoted(s),
        v if v.is_null() => "NULL".into(),
        v => quoted(&v.to_string()),
    }
}
