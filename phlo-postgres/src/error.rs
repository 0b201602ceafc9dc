//! The errors of phlo's PostgreSQL edge; each names what went wrong and who must act.

/// A result of this crate.
pub type Result<T, E = PostgresError> = std::result::Result<T, E>;

/// What can go wrong reading from or publishing to PostgreSQL.
#[derive(Debug, thiserror::Error)]
pub enum PostgresError {
    /// The server could not be reached or refused the connection: whoever runs the
    /// database, or the connection URL's owner, must act.
    #[error("cannot connect to PostgreSQL at {target}: {reason}")]
    Connect {
        /// The URL with its password removed.
        target: String,
        /// The driver's reason.
        reason: String,
    },
    /// No connection URL: set the environment variable, or pass a URL.
    #[error(
        "no PostgreSQL URL: set the environment variable `{env}` (postgres://user@host:port/db)"
    )]
    MissingUrl {
        /// The variable read.
        env: String,
    },
    /// A target table name PostgreSQL would not take as given.
    #[error("`{name}` is not a PostgreSQL table name phlo publishes to: {reason}")]
    InvalidName {
        /// The name.
        name: String,
        /// Why.
        reason: String,
    },
    /// A column whose Arrow type has no faithful PostgreSQL column (lists, structs, maps):
    /// leave it out of the published table, or flatten it in a model.
    #[error(
        "column `{column}` of type {arrow_type} cannot be published to PostgreSQL: flatten or cast it in a model, or leave it out"
    )]
    UnsupportedType {
        /// The column.
        column: String,
        /// Its Arrow type.
        arrow_type: String,
    },
    /// A result column of a type phlo does not read: cast it in the query (`col::text`).
    #[error(
        "column `{column}` has PostgreSQL type {pg_type}, which phlo does not read: cast it in the query (`{column}::text`)"
    )]
    UnreadableType {
        /// The column.
        column: String,
        /// Its PostgreSQL type.
        pg_type: String,
    },
    /// A value that could not be encoded for its column.
    #[error("column `{column}`: {reason}")]
    Encode {
        /// The column.
        column: String,
        /// Why.
        reason: String,
    },
    /// A value PostgreSQL sent that could not be read into Arrow.
    #[error("column `{column}`: {reason}")]
    Decode {
        /// The column.
        column: String,
        /// Why.
        reason: String,
    },
    /// A statement failed; the transaction was rolled back and nothing changed.
    #[error("PostgreSQL refused `{statement}`: {reason}")]
    Query {
        /// The statement (shortened).
        statement: String,
        /// PostgreSQL's message (with its detail and hint).
        reason: String,
        /// The SQLSTATE code, when the server sent one.
        code: Option<String>,
    },
    /// The table already published has other columns than this partition's rows: publish
    /// the whole table (which replaces it), or change the model back.
    #[error(
        "`{table}` in PostgreSQL has columns ({existing}), the partition to publish has ({publishing}): publish the whole table to replace it"
    )]
    SchemaMismatch {
        /// The PostgreSQL table.
        table: String,
        /// Its columns and types.
        existing: String,
        /// The publication's columns and types.
        publishing: String,
    },
    /// What PostgreSQL holds after loading differs from what was sent: the load was rolled
    /// back. Report it: it is a bug in phlo or in the server.
    #[error(
        "published rows did not verify in `{table}`: sent {sent_rows} rows (checksum {sent}), PostgreSQL holds {stored_rows} (checksum {stored}); rolled back"
    )]
    Verify {
        /// The PostgreSQL table.
        table: String,
        /// Rows sent.
        sent_rows: u64,
        /// Their checksum.
        sent: String,
        /// Rows read back.
        stored_rows: u64,
        /// Their checksum.
        stored: String,
    },
    /// The reading side failed while rows were being published; nothing was committed.
    #[error("reading the rows to publish failed: {0}")]
    Source(String),
    /// The wire protocol said something unexpected (a bug in phlo or the server).
    #[error("unexpected COPY data: {0}")]
    Protocol(String),
    /// A bug in phlo: please report it.
    #[error("internal error in phlo-postgres: {0}")]
    Internal(String),
}

impl PostgresError {
    /// An internal error.
    pub fn internal(message: impl Into<String>) -> Self {
        PostgresError::Internal(message.into())
    }

    /// A driver error of `statement`, with PostgreSQL's message, detail and hint.
    pub fn query(statement: &str, e: &tokio_postgres::Error) -> Self {
        let short: String = statement.chars().take(160).collect();
        let (reason, code) = match e.as_db_error() {
            Some(db) => {
                let mut r = db.message().to_string();
                if let Some(d) = db.detail() {
                    r.push_str(&format!(" ({d})"));
                }
                if let Some(h) = db.hint() {
                    r.push_str(&format!("; hint: {h}"));
                }
                (r, Some(db.code().code().to_string()))
            }
            None => (e.to_string(), None),
        };
        PostgresError::Query {
            statement: short,
            reason,
            code,
        }
    }

    /// Whether retrying may succeed (the connection failed, or the server is shutting down
    /// or out of connections); a refused statement or bad data is deterministic.
    pub fn is_transient(&self) -> bool {
        match self {
            PostgresError::Connect { .. } => true,
            PostgresError::Query { code: Some(c), .. } => {
                c.starts_with("08")
                    || c.starts_with("57P")
                    || c == "53300"
                    || c == "40001"
                    || c == "40P01"
            }
            _ => false,
        }
    }
}
