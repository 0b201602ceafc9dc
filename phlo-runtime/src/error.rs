//! The error users see: `phlo::Error`. Each variant says who must act, and
//! [`Error::class`] sorts every variant into one of the outcomes the CLI reports.

use std::time::Duration;

use phlo_core::spec::Location;

/// A boxed error from user code.
pub type BoxError = Box<dyn std::error::Error + Send + Sync + 'static>;

/// Result with [`Error`] as the default error type.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Everything that can go wrong in phlo.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The user function of `asset` failed (after retries, when the failure was transient).
    /// Its error is the function's own, boxed: any `std::error::Error` a function returns.
    #[error("asset `{asset}` failed{}: {error}", if *.transient { " (transient, retries exhausted)" } else { "" })]
    Asset {
        /// The asset.
        asset: String,
        /// Whether the failure was transient (retried).
        transient: bool,
        /// What the function returned (also reached through [`Error::user_error`]).
        error: BoxError,
    },
    /// A failure the user function marks as worth retrying (see [`Error::transient`]).
    #[error("transient failure: {source}")]
    Transient {
        /// The underlying error.
        #[source]
        source: BoxError,
    },
    /// A failure described by a message (see [`Error::msg`]).
    #[error("{message}")]
    Message {
        /// The message.
        message: String,
    },
    /// The user function panicked. The asset's code must be fixed.
    #[error("asset `{asset}` panicked: {message}")]
    Panicked {
        /// The asset.
        asset: String,
        /// The panic message.
        message: String,
    },
    /// The run exceeded `max_runtime_seconds` before its commit started; nothing was
    /// written (a commit once started is never cut, see `docs/adr/0013-run-deadlines.md`).
    /// Raise the limit, or make the slow step faster.
    #[error("asset `{asset}` exceeded max_runtime_seconds = {}s during {step}; nothing was written", .limit.as_secs_f64())]
    Timeout {
        /// The asset.
        asset: String,
        /// The limit.
        limit: Duration,
        /// The step the deadline passed in: `fetch`, `query`, `prepare`, `write plan`,
        /// `audit` or `commit` (the commit was not started).
        step: &'static str,
    },
    /// Blocking quality checks failed on the staged result: nothing was published.
    #[error("blocking quality checks failed on `{table}`, nothing was published: {}", .report.results.iter().filter(|r| !r.passed && r.severity == phlo_quality::Severity::Error).map(|r| r.name.as_str()).collect::<Vec<_>>().join(", "))]
    QualityGate {
        /// The table.
        table: String,
        /// Every check result of the audit.
        report: Box<phlo_quality::QualityReport>,
    },
    /// A table could not be read (a missing or corrupt data file, a storage failure) while
    /// checking it: a storage fault of the run, never a failed check. Whoever manages the
    /// warehouse's files must act.
    #[error("table `{table}` could not be read: {reason}")]
    Unreadable {
        /// The table.
        table: String,
        /// The storage layer's words, naming the file where it can.
        reason: String,
    },
    /// The warehouse has no such table.
    #[error("the warehouse has no table `{table}`")]
    UnknownTable {
        /// The table.
        table: String,
    },
    /// No asset of that name is registered.
    #[error("no asset named `{name}`; registered assets: {}", .known.join(", "))]
    UnknownAsset {
        /// The name asked for.
        name: String,
        /// The registered names.
        known: Vec<String>,
    },
    /// Two assets share a name. Rename one of them.
    #[error("two assets are named `{name}`: at {first} and at {second}")]
    DuplicateAsset {
        /// The name.
        name: String,
        /// First definition.
        first: Location,
        /// Second definition.
        second: Location,
    },
    /// Two assets write one table with different schemas. Make them agree or use two tables.
    #[error("{0}")]
    ConflictingSchemas(Box<SchemaConflict>),
    /// An asset's declaration is inconsistent. Fix the `#[ingestion]` attribute.
    #[error("asset `{asset}` ({location}): {reason}")]
    InvalidAsset {
        /// The asset.
        asset: String,
        /// Where it is defined.
        location: Location,
        /// What is wrong.
        reason: String,
    },
    /// A project file (SQL model, seed) is wrong. Fix the file it names.
    #[error("{0}")]
    Project(crate::transform::TransformError),
    /// The asset graph is inconsistent (unknown ref, cycle, incompatible partitions).
    /// Fix the assets it names.
    #[error("{0}")]
    Graph(Box<crate::graph::GraphError>),
    /// A selection (`--select`) does not parse or names no asset. Fix the selection.
    #[error("{0}")]
    Selection(Box<crate::graph::SelectionError>),
    /// An asset's `cron` does not parse (croner's grammar, 5 fields). Its author must fix it.
    #[error("asset `{asset}` has an invalid schedule `{cron}`: {reason}")]
    InvalidSchedule {
        /// The asset.
        asset: String,
        /// The expression.
        cron: String,
        /// croner's words.
        reason: String,
    },
    /// Another scheduler holds the warehouse's scheduler lock: stop it first, or, if that
    /// process is gone on another host, wait for its heartbeat to age out.
    #[error("another scheduler is serving this warehouse: {holder} (lock file {path})")]
    SchedulerLocked {
        /// The lock file.
        path: String,
        /// Who holds it: pid, host, start and last heartbeat.
        holder: String,
    },
    /// An invalid command-line or API argument. The caller must fix it.
    #[error("invalid argument: {message}")]
    InvalidArgument {
        /// What is wrong.
        message: String,
    },
    /// A SQL query failed (syntax, unknown table, …).
    #[error("query failed: {source}")]
    Sql {
        /// DataFusion's error.
        #[source]
        source: Box<datafusion::error::DataFusionError>,
    },
    /// The core layer failed (names, partitions, storage).
    #[error(transparent)]
    Core(#[from] phlo_core::Error),
    /// Ingestion rejected the load (schema, validation, duplicates) or could not write it.
    #[error(transparent)]
    Ingest(#[from] phlo_ingest::Error),
    /// An I/O error (from user code or the CLI).
    #[error(transparent)]
    Io(#[from] std::io::Error),
    /// An Arrow error (from user code).
    #[error(transparent)]
    Arrow(#[from] arrow::error::ArrowError),
    /// A DataFusion error (from user code).
    #[error(transparent)]
    DataFusion(Box<datafusion::error::DataFusionError>),
    /// An input file could not be read as Parquet ([`crate::io::read_parquet`]). Whoever
    /// produced the file must fix it, or the caller must pass the right path.
    #[error("`{}` could not be read as Parquet: {source}", .path.display())]
    Parquet {
        /// The file.
        path: std::path::PathBuf,
        /// The reader's error.
        #[source]
        source: parquet::errors::ParquetError,
    },
    /// A JSON error (reports, fixtures).
    #[error(transparent)]
    Json(#[from] serde_json::Error),
    /// Input files could not be matched or read ([`crate::sources::files`]). The error
    /// names the pattern or the file, and who must act.
    #[error(transparent)]
    Files(Box<crate::sources::files::FileError>),
    /// Reading from or publishing to PostgreSQL failed (the PostgreSQL table is as it was).
    #[error("{0}")]
    Postgres(Box<phlo_postgres::PostgresError>),
    /// Reading a REST API failed ([`crate::sources::rest`]); the error names the URL.
    #[error(transparent)]
    Rest(Box<crate::sources::rest::RestError>),
}

/// What kind of outcome an error is (see [`Error::class`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorClass {
    /// A run or a blocking check failed: the CLI exits 1.
    RunFailed,
    /// The command, an argument or the configuration is wrong: the CLI exits 2.
    Usage,
}

/// Whether a user function's boxed error is worth retrying: [`Error::transient`] (or a
/// phlo error that is), and I/O errors of a network or interruption kind.
pub fn is_transient_error(error: &(dyn std::error::Error + Send + Sync + 'static)) -> bool {
    if let Some(e) = error.downcast_ref::<Error>() {
        return e.is_transient();
    }
    if let Some(e) = error.downcast_ref::<std::io::Error>() {
        return Error::Io(std::io::Error::new(e.kind(), "")).is_transient();
    }
    false
}

/// Two assets that write one table with different schemas.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SchemaConflict {
    /// The table.
    pub table: String,
    /// First asset.
    pub first_asset: String,
    /// Its location.
    pub first: Location,
    /// Its schema type.
    pub first_schema: String,
    /// Second asset.
    pub second_asset: String,
    /// Its location.
    pub second: Location,
    /// Its schema type.
    pub second_schema: String,
}

impl std::fmt::Display for SchemaConflict {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "assets `{}` ({}) and `{}` ({}) both write `{}` but with different schemas (`{}` vs `{}`)",
            self.first_asset,
            self.first,
            self.second_asset,
            self.second,
            self.table,
            self.first_schema,
            self.second_schema
        )
    }
}

impl From<datafusion::error::DataFusionError> for Error {
    fn from(e: datafusion::error::DataFusionError) -> Self {
        Error::DataFusion(Box::new(e))
    }
}

impl Error {
    /// A failed SQL query.
    pub(crate) fn sql(source: datafusion::error::DataFusionError) -> Self {
        Error::Sql {
            source: Box::new(source),
        }
    }

    /// Marks `source` as transient: the runtime retries it with backoff.
    ///
    /// ```
    /// let e = phlo_runtime::Error::transient(std::io::Error::other("503 from upstream"));
    /// assert!(e.is_transient());
    /// ```
    pub fn transient(source: impl Into<BoxError>) -> Self {
        Error::Transient {
            source: source.into(),
        }
    }

    /// A plain failure with a message (not retried).
    pub fn msg(message: impl Into<String>) -> Self {
        Error::Message {
            message: message.into(),
        }
    }

    /// The user function's own error, for [`Error::Asset`].
    pub fn user_error(&self) -> Option<&(dyn std::error::Error + Send + Sync + 'static)> {
        match self {
            Error::Asset { error, .. } => Some(error.as_ref()),
            _ => None,
        }
    }

    /// Which outcome this error is: a failed run (the CLI exits 1) or a usage or
    /// configuration error (exit 2). The one place that decides it.
    pub fn class(&self) -> ErrorClass {
        use phlo_core::Error as C;
        match self {
            Error::Asset { .. }
            | Error::Transient { .. }
            | Error::Message { .. }
            | Error::Panicked { .. }
            | Error::Timeout { .. }
            | Error::QualityGate { .. }
            | Error::Unreadable { .. }
            | Error::Ingest(_)
            | Error::Io(_)
            | Error::Arrow(_)
            | Error::DataFusion(_)
            | Error::Parquet { .. }
            | Error::Files(_)
            | Error::Json(_) => ErrorClass::RunFailed,
            Error::Postgres(e) => match **e {
                phlo_postgres::PostgresError::MissingUrl { .. }
                | phlo_postgres::PostgresError::InvalidName { .. }
                | phlo_postgres::PostgresError::UnsupportedType { .. }
                | phlo_postgres::PostgresError::UnreadableType { .. } => ErrorClass::Usage,
                _ => ErrorClass::RunFailed,
            },
            Error::Rest(e) if e.is_usage() => ErrorClass::Usage,
            Error::Rest(_) => ErrorClass::RunFailed,
            Error::Core(
                C::Storage { .. }
                | C::Conflict { .. }
                | C::DataFile { .. }
                | C::Query { .. }
                | C::Arrow(_)
                | C::Io { .. }
                | C::Internal { .. },
            ) => ErrorClass::RunFailed,
            Error::Core(_)
            | Error::UnknownTable { .. }
            | Error::UnknownAsset { .. }
            | Error::DuplicateAsset { .. }
            | Error::ConflictingSchemas(_)
            | Error::InvalidAsset { .. }
            | Error::Project(_)
            | Error::Graph(_)
            | Error::Selection(_)
            | Error::InvalidArgument { .. }
            | Error::InvalidSchedule { .. }
            | Error::SchedulerLocked { .. }
            | Error::Sql { .. } => ErrorClass::Usage,
        }
    }

    /// Whether the runtime retries this failure of a user function: errors marked with
    /// [`Error::transient`], and I/O errors of a network or interruption kind.
    pub fn is_transient(&self) -> bool {
        use std::io::ErrorKind::*;
        match self {
            Error::Transient { .. } => true,
            Error::Files(e) => e.is_transient(),
            Error::Postgres(e) => e.is_transient(),
            Error::Rest(e) => e.is_transient(),
            Error::Io(e) => matches!(
                e.kind(),
                ConnectionRefused
                    | ConnectionReset
                    | ConnectionAborted
                    | NotConnected
                    | TimedOut
                    | Interrupted
                    | BrokenPipe
                    | WouldBlock
            ),
            _ => false,
        }
    }

    /// The validation report, when validation rejected the load.
    pub fn validation_report(&self) -> Option<&phlo_ingest::ValidationReport> {
        match self {
            Error::Ingest(phlo_ingest::Error::Validation { report, .. }) => Some(report),
            _ => None,
        }
    }
}

impl From<crate::sources::rest::RestError> for Error {
    fn from(e: crate::sources::rest::RestError) -> Self {
        Error::Rest(Box::new(e))
    }
}

impl From<phlo_postgres::PostgresError> for Error {
    fn from(e: phlo_postgres::PostgresError) -> Self {
        Error::Postgres(Box::new(e))
    }
}
