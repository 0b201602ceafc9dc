//! Errors of ingestion: bad input (the user's data or schema must change) and storage.

use crate::validate::ValidationReport;

/// Result with [`Error`] as the default error type.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// What can go wrong while preparing or writing a load. Nothing is written when any of
/// these is returned.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// An input column has a type that cannot be cast losslessly to the schema's.
    /// The source must produce the declared type (or the schema must change).
    #[error(
        "table `{table}`: column `{column}` is {found}, but the schema declares {expected}; only lossless casts are applied"
    )]
    ColumnType {
        /// Target table.
        table: String,
        /// Column.
        column: String,
        /// Declared type.
        expected: String,
        /// Input type.
        found: String,
    },
    /// A non-nullable column is missing from the input.
    #[error("table `{table}`: required column `{column}` is missing from the input")]
    MissingColumn {
        /// Target table.
        table: String,
        /// Column.
        column: String,
    },
    /// Under `schema_policy = "strict"`, the input has columns the schema does not declare.
    #[error(
        "table `{table}`: input has undeclared columns {columns:?}; declare them in the schema, or set `schema_policy = \"drop_extra\"` or `\"additive\"`"
    )]
    ExtraColumns {
        /// Target table.
        table: String,
        /// The undeclared columns.
        columns: Vec<String>,
    },
    /// The input carries a column named like phlo's metadata (`_phlo_*`).
    #[error("table `{table}`: input column `{column}` uses the reserved prefix `_phlo_`")]
    ReservedColumn {
        /// Target table.
        table: String,
        /// Column.
        column: String,
    },
    /// Rows failed validation under `strict_validation = true`; the report lists them.
    #[error("table `{table}`: {} of {} rows failed validation: {}", report.rows_failed, report.rows_checked, report.summary())]
    Validation {
        /// Target table.
        table: String,
        /// The full report.
        report: Box<ValidationReport>,
    },
    /// The run's deadline (`max_runtime_seconds`) passed before this write's commit
    /// started: nothing was written. A commit once started is never cut.
    #[error(
        "table `{table}`: the run's deadline passed before the commit started; nothing was written"
    )]
    Deadline {
        /// Target table.
        table: String,
    },
    /// `dedup = "none"` with a strategy that needs unique keys, and the load repeats keys.
    #[error(
        "table `{table}`: {duplicate_rows} rows share a key {key:?} with another row (e.g. {samples:?}); set `dedup = \"last\"`, \"first\" or \"hash\", or fix the source"
    )]
    DuplicateKeys {
        /// Target table.
        table: String,
        /// Key columns.
        key: Vec<String>,
        /// Rows involved in duplicated keys.
        duplicate_rows: u64,
        /// Sample duplicated keys.
        samples: Vec<String>,
    },
    /// A custom column check misbehaved (wrong length, or it failed).
    #[error("custom check `{check}` on `{column}` failed: {reason}")]
    CustomCheck {
        /// The check's function.
        check: String,
        /// Column.
        column: String,
        /// What went wrong.
        reason: String,
    },
    /// A schema constraint cannot apply to its field (e.g. `ge` on a string, bad regex).
    #[error("schema `{schema}`, field `{field}`: {reason}")]
    InvalidConstraint {
        /// Schema type.
        schema: String,
        /// Field.
        field: String,
        /// Why.
        reason: String,
    },
    /// The core layer failed (storage, names, partitions).
    #[error(transparent)]
    Core(#[from] phlo_core::Error),
    /// An Arrow computation failed.
    #[error(transparent)]
    Arrow(#[from] arrow::error::ArrowError),
    /// A worker thread panicked: a bug in phlo, to be reported to its maintainers.
    #[error("a {what} thread panicked (a bug in phlo; please report it)")]
    WorkerPanicked {
        /// What the thread was doing.
        what: String,
    },
    /// A query over the target table failed.
    #[error("query error on `{table}`: {source}")]
    Query {
        /// Table.
        table: String,
        /// DataFusion's error.
        #[source]
        source: Box<datafusion::error::DataFusionError>,
    },
}
