//! Reading a PostgreSQL query into Arrow batches: the query's result columns give the
//! Arrow schema, and its rows stream in binary `COPY` chunks into column builders, a batch
//! every [`ReadOptions::batch_rows`] rows.

use arrow::record_batch::RecordBatch;
use futures::StreamExt;
use tokio_postgres::Client;

use crate::copy::{Decoder, TupleReader};
use crate::error::{PostgresError, Result};
use crate::types::PgType;

/// How a query is read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReadOptions {
    /// Rows per batch (default 65,536).
    pub batch_rows: usize,
}

impl Default for ReadOptions {
    fn default() -> Self {
        ReadOptions { batch_rows: 65_536 }
    }
}

/// The result columns of `sql`: names and types, or the first column phlo does not read.
pub async fn describe(client: &Client, sql: &str) -> Result<Vec<(String, PgType)>> {
    let statement = client
        .prepare(sql)
        .await
        .map_err(|e| PostgresError::query(sql, &e))?;
    statement
        .columns()
        .iter()
        .map(|c| {
            PgType::from_oid(c.type_().oid())
                .map(|t| (c.name().to_string(), t))
                .ok_or_else(|| PostgresError::UnreadableType {
                    column: c.name().to_string(),
                    pg_type: c.type_().name().to_string(),
                })
        })
        .collect()
}

/// Every row of `sql` (a `SELECT` without parameters), in batches. The rows are never held
/// as row objects: each arriving chunk of the binary stream goes into column builders.
pub async fn read_query(
    client: &Client,
    sql: &str,
    options: &ReadOptions,
) -> Result<Vec<RecordBatch>> {
    let columns = describe(client, sql).await?;
    if columns.is_empty() {
        return Err(PostgresError::Query {
            statement: sql.chars().take(160).collect(),
            reason: "the query returns no columns".into(),
            code: None,
        });
    }
    let copy = format!(
        "COPY ({}) TO STDOUT (FORMAT binary)",
        sql.trim().trim_end_matches(';')
    );
    let stream = client
        .copy_out(&copy)
        .await
        .map_err(|e| PostgresError::query(&copy, &e))?;
    futures::pin_mut!(stream);
    let mut reader = TupleReader::default();
    let mut decoder = Decoder::new(&columns);
    let mut batches = Vec::new();
    let batch_rows = options.batch_rows.max(1);
    while let Some(chunk) = stream.next().await {
        let chunk = chunk.map_err(|e| PostgresError::query(&copy, &e))?;
        reader.feed(&chunk);
        while let Some(tuple) = reader.next_tuple()? {
            decoder.push(&tuple)?;
            if decoder.buffered() >= batch_rows {
                batches.push(decoder.finish()?);
            }
        }
    }
    if !reader.ended() {
        return Err(PostgresError::Protocol(
            "the COPY stream ended early".into(),
        ));
    }
    if decoder.buffered() > 0 || batches.is_empty() {
        batches.push(decoder.finish()?);
    }
    Ok(batches)
}
