//! Errors of quality checks. A failing check is data (a `CheckResult`), not an error; these
//! are the cases where a check could not be evaluated at all.

/// Result with [`Error`] as the default error type.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Why a check could not be evaluated. The runner turns each into a failed result with a
/// clear message; it never aborts the other checks.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The check names a column the table does not have. The check's author must fix it.
    #[error("column `{column}` does not exist in `{table}`; its columns are: {}", .available.join(", "))]
    MissingColumn {
        /// The table.
        table: String,
        /// The missing column.
        column: String,
        /// The table's columns.
        available: Vec<String>,
    },
    /// The check is misconfigured (e.g. an invalid pattern, a query of the wrong shape).
    #[error("check `{check}` is misconfigured: {reason}")]
    Config {
        /// The check.
        check: String,
        /// What is wrong.
        reason: String,
    },
    /// A table the check reads does not exist.
    #[error("table `{table}` does not exist")]
    MissingTable {
        /// The table.
        table: String,
    },
    /// DataFusion failed while evaluating the check.
    #[error("query failed: {0}")]
    Query(Box<datafusion::error::DataFusionError>),
    /// An Arrow computation failed.
    #[error(transparent)]
    Arrow(#[from] arrow::error::ArrowError),
    /// The checked data could not be read: a missing or unreadable data file, a storage
    /// failure. This is a fault of the run, never a failed check; whoever manages the
    /// warehouse must act.
    #[error("table `{table}` could not be read: {reason}")]
    Storage {
        /// The table.
        table: String,
        /// What the storage layer said (naming the file where it can).
        reason: String,
    },
    /// A user-written check failed.
    #[error("custom check failed: {0}")]
    Custom(String),
}

impl From<datafusion::error::DataFusionError> for Error {
    fn from(e: datafusion::error::DataFusionError) -> Self {
        Error::Query(Box::new(e))
    }
}

pub use phlo_core::error::storage_fault;
