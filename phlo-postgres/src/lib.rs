//! # phlo-postgres
//!
//! phlo's PostgreSQL edge, both ways, in PostgreSQL's binary `COPY` format straight from
//! and into Arrow columns (no row objects in between):
//!
//! ```text
//!  read     a table or a query ─ COPY (…) TO STDOUT (FORMAT binary) ─▶ Decoder ─▶ RecordBatch chunks
//!  publish  RecordBatch stream ─▶ Encoder ─ COPY … FROM STDIN (FORMAT binary) ─▶ staging table
//!           ─ read back, checksum compared ─▶ swap (or partition replace) ─▶ one COMMIT
//! ```
//!
//! A dashboard reading the published table sees the previous rows or the new ones, never a
//! half-loaded table: the load, its verification and the swap are one transaction.

pub mod copy;
pub mod error;
pub mod publish;
pub mod source;
pub mod testing;
pub mod types;

pub use copy::{Checksum, PG_TYPE_METADATA};
pub use error::{PostgresError, Result};
pub use publish::{PartitionValue, PgTable, PublishReceipt, PublishRequest, publish};
pub use source::{ReadOptions, read_query};
pub use types::PgType;

pub use tokio_postgres::Client;

/// Connects to `url` (`postgres://user:password@host:port/db`, or the key=value form) and
/// drives the connection on the current tokio runtime.
pub async fn connect(url: &str) -> Result<Client> {
    let (client, connection) = tokio_postgres::connect(url, tokio_postgres::NoTls)
        .await
        .map_err(|e| PostgresError::Connect {
            target: redact(url),
            reason: e.to_string(),
        })?;
    tokio::spawn(async move {
        if let Err(e) = connection.await {
            tracing::warn!(error = %e, "PostgreSQL connection ended with an error");
        }
    });
    Ok(client)
}

/// The URL without its password, for messages.
pub fn redact(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url
            .split_whitespace()
            .filter(|kv| !kv.starts_with("password="))
            .collect::<Vec<_>>()
            .join(" ");
    };
    match rest.split_once('@') {
        Some((userinfo, host)) => {
            let user = userinfo.split(':').next().unwrap_or_default();
            format!("{scheme}://{user}@{host}")
        }
        None => url.to_string(),
    }
}

/// `"name"`, with embedded quotes doubled.
pub fn quote_ident(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

/// `'text'`, with embedded quotes doubled.
pub fn quote_literal(text: &str) -> String {
    format!("'{}'", text.replace('\'', "''"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_lose_their_password_in_messages() {
        assert_eq!(
            redact("postgres://bi:s3cret@db:5432/marts"),
            "postgres://bi@db:5432/marts"
        );
        assert_eq!(redact("host=db password=s3cret user=bi"), "host=db user=bi");
        assert_eq!(redact("postgres://db/marts"), "postgres://db/marts");
    }

    #[test]
    fn identifiers_and_literals_are_quoted() {
        assert_eq!(quote_ident("a\"b"), "\"a\"\"b\"");
        assert_eq!(quote_literal("o'neil"), "'o''neil'");
    }
}
