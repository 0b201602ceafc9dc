//! Errors of the core layer: configuration, partitions and storage.

/// Result with [`Error`] as the default error type.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// What can go wrong in the core layer. Each variant says who must act.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A table name is not `name` or `ns.name` with parts matching `[a-z_][a-z0-9_]*`.
    /// The user must fix the name.
    #[error(
        "invalid table name `{name}`: {reason}; use `name` or `ns.name` where each part matches [a-z_][a-z0-9_]*"
    )]
    InvalidTableName {
        /// The name as given.
        name: String,
        /// Why it is rejected.
        reason: &'static str,
    },
    /// A partition key does not have the form its partitions definition expects. The user
    /// must pass a valid key.
    #[error("invalid partition key `{key}`: expected {expected}")]
    InvalidPartitionKey {
        /// The key as given.
        key: String,
        /// The expected form (`a date as YYYY-MM-DD`, `one of eu, us`, …).
        expected: String,
    },
    /// A well-formed key outside the definition's `start`/`end`. The user must pass a key
    /// in range or widen the definition.
    #[error("partition `{key}` is outside the partitions definition ({range})")]
    PartitionOutOfRange {
        /// The key.
        key: String,
        /// The definition's range, as text.
        range: String,
    },
    /// An hourly key naming a local hour the time zone skips (the clocks go forward).
    #[error("partition `{key}` does not exist in {timezone}: the clocks skip that hour")]
    NonexistentPartition {
        /// The key.
        key: String,
        /// The time zone.
        timezone: String,
    },
    /// An hourly key naming a local hour the time zone repeats, without the UTC offset that
    /// tells the two apart. The user must add the offset.
    #[error("partition `{key}` occurs twice in {timezone}: write `{first}` or `{second}`")]
    AmbiguousPartition {
        /// The key.
        key: String,
        /// The time zone.
        timezone: String,
        /// The earlier hour's key.
        first: String,
        /// The later hour's key.
        second: String,
    },
    /// A partitions definition that cannot be resolved (unknown time zone, bad bounds).
    /// The asset's declaration must be fixed.
    #[error("invalid partitions definition: {reason}")]
    InvalidPartitions {
        /// What is wrong.
        reason: String,
    },
    /// A partition was given for an unpartitioned asset, or none for a partitioned one.
    #[error("asset `{asset}` {reason}")]
    PartitionMismatch {
        /// The asset.
        asset: String,
        /// What does not match.
        reason: String,
    },
    /// The storage layer (Delta Lake) failed.
    #[error("storage error on table `{table}`: {source}")]
    Storage {
        /// The table being read or written.
        table: String,
        /// The Delta Lake error.
        #[source]
        source: Box<deltalake::DeltaTableError>,
    },
    /// A data file of a table is missing or cannot be read (deleted, truncated, not
    /// Parquet). Whoever manages the warehouse's files must restore it; phlo never reports
    /// this as a failed check.
    #[error("table `{table}`: data file `{path}` cannot be read: {reason}")]
    DataFile {
        /// The table.
        table: String,
        /// The file.
        path: String,
        /// The reader's error.
        reason: String,
    },
    /// A concurrent writer committed first and the conflict could not be resolved by
    /// re-planning. Nothing was written; run again.
    #[error("table `{table}`: a concurrent commit conflicted with this write: {source}")]
    Conflict {
        /// The table.
        table: String,
        /// The Delta Lake error.
        #[source]
        source: Box<deltalake::DeltaTableError>,
    },
    /// A query over a table failed.
    #[error("query error on `{table}`: {source}")]
    Query {
        /// The table being queried.
        table: String,
        /// The DataFusion error.
        #[source]
        source: Box<datafusion::error::DataFusionError>,
    },
    /// An Arrow computation failed.
    #[error(transparent)]
    Arrow(#[from] arrow::error::ArrowError),
    /// A file-system operation on the warehouse failed.
    #[error("warehouse I/O error at `{path}`: {source}")]
    Io {
        /// The path.
        path: String,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
    /// A phlo invariant was broken: this is a bug in phlo, please report it.
    #[error("internal error (please report this as a phlo bug): {message}")]
    Internal {
        /// What went wrong.
        message: String,
    },
}

impl Error {
    /// Wraps a Delta Lake error for `table`.
    pub fn storage(table: impl std::fmt::Display, source: deltalake::DeltaTableError) -> Self {
        Error::Storage {
            table: table.to_string(),
            source: Box::new(source),
        }
    }

    /// Wraps a Delta Lake error of a commit on `table`, telling conflicts with concurrent
    /// writers apart (they are re-planned and retried).
    pub fn commit(table: impl std::fmt::Display, source: deltalake::DeltaTableError) -> Self {
        use deltalake::DeltaTableError as D;
        use deltalake::kernel::transaction::TransactionError as T;
        let conflict = matches!(
            &source,
            D::VersionAlreadyExists(_)
                | D::Transaction {
                    source: T::CommitConflict(_)
                        | T::MaxCommitAttempts(_)
                        | T::VersionAlreadyExists(_)
                }
        );
        if conflict {
            Error::Conflict {
                table: table.to_string(),
                source: Box::new(source),
            }
        } else {
            Error::storage(table, source)
        }
    }

    /// Wraps a DataFusion error for `table`.
    pub fn query(
        table: impl std::fmt::Display,
        source: datafusion::error::DataFusionError,
    ) -> Self {
        Error::Query {
            table: table.to_string(),
            source: Box::new(source),
        }
    }

    /// Whether a commit that failed with this error may nonetheless have landed, or may land
    /// when tried again: the storage or the network failed (an object store error, an I/O
    /// error), as opposed to a conflict or a rejected write. The caller reads the table's
    /// application transaction to tell.
    pub fn is_uncertain_commit(&self) -> bool {
        use deltalake::DeltaTableError as D;
        use deltalake::kernel::transaction::TransactionError as T;
        match self {
            Error::Io { .. } => true,
            Error::Storage { source, .. } => matches!(
                source.as_ref(),
                D::ObjectStore { .. }
                    | D::Transaction {
                        source: T::ObjectStore { .. }
                    }
            ),
            _ => false,
        }
    }

    /// An internal error: a bug in phlo.
    pub fn internal(message: impl Into<String>) -> Self {
        Error::Internal {
            message: message.into(),
        }
    }
}

/// Whether a DataFusion error comes from reading storage (a missing or unreadable data
/// file, an I/O error) rather than from the check's query: the reason when it does.
pub fn storage_fault(error: &datafusion::error::DataFusionError) -> Option<String> {
    use datafusion::error::DataFusionError as D;
    fn external(e: &(dyn std::error::Error + Send + Sync + 'static)) -> bool {
        e.downcast_ref::<std::io::Error>().is_some()
            || e.downcast_ref::<arrow::error::ArrowError>()
                .is_some_and(|a| matches!(a, arrow::error::ArrowError::IoError(..)))
            || e.downcast_ref::<Error>().is_some_and(|c| {
                matches!(
                    c,
                    Error::Storage { .. } | Error::DataFile { .. } | Error::Io { .. }
                )
            })
    }
    let mut current = Some(error);
    while let Some(e) = current {
        match e {
            D::ObjectStore(_) | D::IoError(_) | D::ParquetError(_) => return Some(e.to_string()),
            D::External(inner) if external(inner.as_ref()) => return Some(e.to_string()),
            D::ArrowError(a, _) if matches!(a.as_ref(), arrow::error::ArrowError::IoError(..)) => {
                return Some(e.to_string());
            }
            D::Context(_, inner) => current = Some(inner.as_ref()),
            D::Shared(inner) => current = Some(inner.as_ref()),
            _ => current = None,
        }
    }
    None
}

/// The file a storage fault names (`Object at location <path> not found`), when it does.
pub fn faulty_file(reason: &str) -> Option<String> {
    let start = reason.find("location ")? + "location ".len();
    let rest = reason.get(start..)?;
    let end = rest.find(" not found").unwrap_or(rest.len());
    rest.get(..end).map(|p| p.trim_end_matches(':').to_string())
}
