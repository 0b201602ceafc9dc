//! Publishing Arrow batches into a PostgreSQL table, atomically and verified.
//!
//! - **Whole table**: rows go into a staging table with binary `COPY`, are read back and
//!   checksummed, then the staging table replaces the target (`DROP` + `RENAME`) and the
//!   publication is recorded: all in one transaction, so readers see the old table until
//!   the commit and the new one after it.
//! - **One partition**: in one transaction, the target's rows of that partition are
//!   deleted, the partition's rows loaded, read back and checksummed, and the publication
//!   recorded. Publications of one table are serialised by a table lock that readers do not
//!   wait on.
//!
//! Every publication is recorded in `_phlo.publications` in the same transaction: target,
//! partition, source table and version, rows, checksum, time, run id.

use bytes::BytesMut;
use chrono::{DateTime, NaiveDate, Utc};
use futures::{SinkExt, Stream, StreamExt};
use tokio_postgres::Client;

use arrow::datatypes::SchemaRef;
use arrow::record_batch::RecordBatch;

use crate::copy::{Checksum, Encoder, TupleReader};
use crate::error::{PostgresError, Result};
use crate::types::PgType;
use crate::{quote_ident, quote_literal};

/// Bytes sent per `COPY` chunk.
const CHUNK: usize = 1 << 20;
/// The suffix of a target's staging table.
const STAGING_SUFFIX: &str = "__phlo_staging";

/// A PostgreSQL table: `schema.name` (`public` when no schema is given).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PgTable {
    schema: String,
    name: String,
}

impl PgTable {
    /// Parses `schema.table` or `table`: lowercase letters, digits and `_`, starting with a
    /// letter or `_`, each part short enough for its staging table's name (49 bytes).
    pub fn parse(text: &str) -> Result<Self> {
        let invalid = |reason: &str| PostgresError::InvalidName {
            name: text.to_string(),
            reason: reason.to_string(),
        };
        let (schema, name) = match text.split_once('.') {
            Some((s, n)) => (s, n),
            None => ("public", text),
        };
        for (part, max) in [(schema, 63), (name, 63 - STAGING_SUFFIX.len())] {
            let mut chars = part.chars();
            let first_ok = chars
                .next()
                .is_some_and(|c| c.is_ascii_lowercase() || c == '_');
            if !first_ok
                || !part
                    .chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
            {
                return Err(invalid(
                    "use `schema.table` in lowercase letters, digits and `_`, starting with a letter",
                ));
            }
            if part.len() > max {
                return Err(invalid(&format!("`{part}` is longer than {max} bytes")));
            }
        }
        if name.ends_with(STAGING_SUFFIX) {
            return Err(invalid("names ending in `__phlo_staging` are phlo's own"));
        }
        Ok(PgTable {
            schema: schema.to_string(),
            name: name.to_string(),
        })
    }

    /// The schema.
    pub fn schema(&self) -> &str {
        &self.schema
    }

    /// The table's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    fn quoted(&self) -> String {
        format!("{}.{}", quote_ident(&self.schema), quote_ident(&self.name))
    }

    fn staging(&self) -> String {
        format!(
            "{}.{}",
            quote_ident(&self.schema),
            quote_ident(&format!("{}{STAGING_SUFFIX}", self.name))
        )
    }
}

impl std::fmt::Display for PgTable {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}.{}", self.schema, self.name)
    }
}

/// A partition's value in its key column, rendered as a PostgreSQL literal of the column's
/// type.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PartitionValue {
    /// A `date` column (daily and monthly partitions).
    Date(NaiveDate),
    /// A `timestamptz` column (hourly partitions: the window's start).
    Timestamp(DateTime<Utc>),
    /// A `text` column (static partitions).
    Text(String),
}

impl PartitionValue {
    fn literal(&self) -> String {
        match self {
            PartitionValue::Date(d) => format!("DATE '{}'", d.format("%Y-%m-%d")),
            PartitionValue::Timestamp(t) => {
                format!("TIMESTAMPTZ '{}'", t.format("%Y-%m-%d %H:%M:%S%.6f+00"))
            }
            PartitionValue::Text(s) => quote_literal(s),
        }
    }
}

/// What to publish, and where.
#[derive(Debug, Clone)]
pub struct PublishRequest {
    /// The PostgreSQL table.
    pub target: PgTable,
    /// `None`: the whole table; else the key column and the partition's value in it.
    pub partition: Option<(String, PartitionValue)>,
    /// The partition's key as phlo writes it (recorded).
    pub partition_key: Option<String>,
    /// The warehouse table published (recorded).
    pub source_table: String,
    /// Its Delta version read (recorded).
    pub source_version: Option<i64>,
    /// The publication's instant, from the runtime's clock (recorded).
    pub published_at: DateTime<Utc>,
    /// The run's id (recorded).
    pub run_id: String,
}

/// What a publication did.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct PublishReceipt {
    /// The PostgreSQL table.
    pub table: String,
    /// The partition replaced (`None`: the whole table).
    pub partition: Option<String>,
    /// Rows published (verified by reading them back).
    pub rows: u64,
    /// The rows' checksum (see [`Checksum`]), equal on both sides.
    pub checksum: String,
    /// The warehouse table and version published.
    pub source_table: String,
    /// Its Delta version.
    pub source_version: Option<i64>,
    /// The run id recorded with it.
    pub run_id: String,
}

/// Publishes `batches` (of `schema`) as `request` says, in one transaction. On any error
/// the transaction is rolled back and the PostgreSQL table is as it was.
pub async fn publish<S, E>(
    client: &mut Client,
    schema: SchemaRef,
    batches: S,
    request: &PublishRequest,
) -> Result<PublishReceipt>
where
    S: Stream<Item = std::result::Result<RecordBatch, E>> + Unpin,
    E: std::fmt::Display,
{
    let mut encoder = Encoder::new(&schema)?;
    let columns: Vec<(String, PgType)> =
        encoder.columns().map(|(n, t)| (n.to_string(), t)).collect();
    if let Some((column, _)) = &request.partition
        && !columns.iter().any(|(n, _)| n == column)
    {
        return Err(PostgresError::internal(format!(
            "the partition column `{column}` is not among the published columns"
        )));
    }
    let target = &request.target;
    ensure_schemas(client, target.schema()).await?;
    let column_list = columns
        .iter()
        .map(|(n, _)| quote_ident(n))
        .collect::<Vec<_>>()
        .join(", ");
    let ddl_columns = columns
        .iter()
        .map(|(n, t)| format!("{} {}", quote_ident(n), t.sql()))
        .collect::<Vec<_>>()
        .join(", ");

    let tx = client
        .transaction()
        .await
        .map_err(|e| PostgresError::query("BEGIN", &e))?;
    let exec = |sql: String| {
        let tx = &tx;
        async move {
            tx.batch_execute(&sql)
                .await
                .map_err(|e| PostgresError::query(&sql, &e))
        }
    };
    let (load_into, read_back) = match &request.partition {
        None => {
            exec(format!("DROP TABLE IF EXISTS {}", target.staging())).await?;
            exec(format!("CREATE TABLE {} ({ddl_columns})", target.staging())).await?;
            (
                target.staging(),
                format!("SELECT {column_list} FROM {}", target.staging()),
            )
        }
        Some((column, value)) => {
            exec(format!(
                "CREATE TABLE IF NOT EXISTS {} ({ddl_columns})",
                target.quoted()
            ))
            .await?;
            exec(format!(
                "LOCK TABLE {} IN SHARE ROW EXCLUSIVE MODE",
                target.quoted()
            ))
            .await?;
            check_columns(&tx, target, &columns).await?;
            let predicate = format!("{} = {}", quote_ident(column), value.literal());
            exec(format!("DELETE FROM {} WHERE {predicate}", target.quoted())).await?;
            (
                target.quoted(),
                format!(
                    "SELECT {column_list} FROM {} WHERE {predicate}",
                    target.quoted()
                ),
            )
        }
    };

    // Load.
    let copy_in = format!("COPY {load_into} ({column_list}) FROM STDIN (FORMAT binary)");
    let sink = tx
        .copy_in::<_, bytes::Bytes>(&copy_in)
        .await
        .map_err(|e| PostgresError::query(&copy_in, &e))?;
    futures::pin_mut!(sink);
    let mut buf = BytesMut::with_capacity(CHUNK + CHUNK / 4);
    Encoder::header(&mut buf);
    let mut batches = batches;
    while let Some(batch) = batches.next().await {
        let batch = batch.map_err(|e| PostgresError::Source(e.to_string()))?;
        encoder.encode(&batch, &mut buf)?;
        if buf.len() >= CHUNK {
            sink.send(buf.split().freeze())
                .await
                .map_err(|e| PostgresError::query(&copy_in, &e))?;
        }
    }
    Encoder::trailer(&mut buf);
    sink.send(buf.split().freeze())
        .await
        .map_err(|e| PostgresError::query(&copy_in, &e))?;
    let loaded = sink
        .as_mut()
        .finish()
        .await
        .map_err(|e| PostgresError::query(&copy_in, &e))?;
    let sent = encoder.checksum();

    // Verify: what PostgreSQL holds, in its own binary encoding, against what was sent.
    let copy_out = format!("COPY ({read_back}) TO STDOUT (FORMAT binary)");
    let stored = read_checksum(&tx, &copy_out).await?;
    if stored != sent || loaded != sent.rows() {
        return Err(PostgresError::Verify {
            table: target.to_string(),
            sent_rows: sent.rows(),
            sent: sent.hex(),
            stored_rows: stored.rows(),
            stored: stored.hex(),
        });
    }

    // Swap.
    if request.partition.is_none() {
        exec(format!("DROP TABLE IF EXISTS {}", target.quoted())).await?;
        exec(format!(
            "ALTER TABLE {} RENAME TO {}",
            target.staging(),
            quote_ident(target.name())
        ))
        .await?;
    }
    let record = "INSERT INTO \"_phlo\".\"publications\" \
        (target, partition_key, source_table, source_version, rows, checksum, published_at, run_id) \
        VALUES ($1, $2, $3, $4, $5, $6, $7, $8)";
    let rows = i64::try_from(sent.rows()).map_err(|_| PostgresError::internal("row count"))?;
    tx.execute(
        record,
        &[
            &target.to_string(),
            &request.partition_key,
            &request.source_table,
            &request.source_version,
            &rows,
            &sent.hex(),
            &request.published_at,
            &request.run_id,
        ],
    )
    .await
    .map_err(|e| PostgresError::query(record, &e))?;
    tx.commit()
        .await
        .map_err(|e| PostgresError::query("COMMIT", &e))?;
    Ok(PublishReceipt {
        table: target.to_string(),
        partition: request.partition_key.clone(),
        rows: sent.rows(),
        checksum: sent.hex(),
        source_table: request.source_table.clone(),
        source_version: request.source_version,
        run_id: request.run_id.clone(),
    })
}

/// The checksum of what `copy_out` returns.
async fn read_checksum(tx: &tokio_postgres::Transaction<'_>, copy_out: &str) -> Result<Checksum> {
    let stream = tx
        .copy_out(copy_out)
        .await
        .map_err(|e| PostgresError::query(copy_out, &e))?;
    futures::pin_mut!(stream);
    let mut reader = TupleReader::default();
    let mut sum = Checksum::default();
    while let Some(chunk) = stream.next().await {
        let chunk = chunk.map_err(|e| PostgresError::query(copy_out, &e))?;
        reader.feed(&chunk);
        while let Some(t) = reader.next_tuple()? {
            sum.add(t.bytes());
        }
    }
    if !reader.ended() {
        return Err(PostgresError::Protocol(
            "the COPY stream ended early".into(),
        ));
    }
    Ok(sum)
}

/// The target's schema and phlo's record table, made when missing. Run outside the
/// publication's transaction: two first publications racing to create them both succeed.
async fn ensure_schemas(client: &Client, schema: &str) -> Result<()> {
    let statements = [
        format!("CREATE SCHEMA IF NOT EXISTS {}", quote_ident(schema)),
        "CREATE SCHEMA IF NOT EXISTS \"_phlo\"".to_string(),
        "CREATE TABLE IF NOT EXISTS \"_phlo\".\"publications\" (\
            target text NOT NULL, partition_key text, source_table text NOT NULL, \
            source_version bigint, rows bigint NOT NULL, checksum text NOT NULL, \
            published_at timestamptz NOT NULL, run_id text NOT NULL)"
            .to_string(),
    ];
    for sql in statements {
        if let Err(e) = client.batch_execute(&sql).await {
            // A concurrent creator won the race: what we wanted exists.
            let raced = e
                .as_db_error()
                .is_some_and(|db| matches!(db.code().code(), "23505" | "42P06" | "42P07"));
            if !raced {
                return Err(PostgresError::query(&sql, &e));
            }
        }
    }
    Ok(())
}

/// Refuses a partition publication into a table with other columns.
async fn check_columns(
    tx: &tokio_postgres::Transaction<'_>,
    target: &PgTable,
    columns: &[(String, PgType)],
) -> Result<()> {
    let sql = "SELECT a.attname::text, format_type(a.atttypid, a.atttypmod) \
        FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid \
        JOIN pg_namespace n ON n.oid = c.relnamespace \
        WHERE n.nspname = $1 AND c.relname = $2 AND a.attnum > 0 AND NOT a.attisdropped \
        ORDER BY a.attnum";
    let rows = tx
        .query(sql, &[&target.schema(), &target.name()])
        .await
        .map_err(|e| PostgresError::query(sql, &e))?;
    let existing: Vec<(String, String)> = rows
        .iter()
        .map(|r| (r.get::<_, String>(0), r.get::<_, String>(1)))
        .collect();
    let wanted: Vec<(String, String)> = columns
        .iter()
        .map(|(n, t)| (n.clone(), canonical_type(&t.sql())))
        .collect();
    if existing != wanted {
        let show = |cols: &[(String, String)]| {
            cols.iter()
                .map(|(n, t)| format!("{n} {t}"))
                .collect::<Vec<_>>()
                .join(", ")
        };
        return Err(PostgresError::SchemaMismatch {
            table: target.to_string(),
            existing: show(&existing),
            publishing: show(&wanted),
        });
    }
    Ok(())
}

/// A type as `format_type` spells it.
fn canonical_type(sql: &str) -> String {
    match sql {
        "timestamp" => "timestamp without time zone".into(),
        "timestamptz" => "timestamp with time zone".into(),
        "time" => "time without time zone".into(),
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_names_default_to_public_and_refuse_what_postgres_would_fold_or_truncate() {
        let t = PgTable::parse("marts.revenue").expect("valid");
        assert_eq!((t.schema(), t.name()), ("marts", "revenue"));
        assert_eq!(PgTable::parse("revenue").expect("valid").schema(), "public");
        for bad in [
            "Marts.revenue",
            "marts.rev-enue",
            "1marts.revenue",
            "",
            "marts.",
            "x.revenue__phlo_staging",
            &format!("marts.{}", "a".repeat(50)),
        ] {
            assert!(PgTable::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn partition_values_render_as_typed_literals() {
        let d = NaiveDate::from_ymd_opt(2026, 3, 1).expect("date");
        assert_eq!(PartitionValue::Date(d).literal(), "DATE '2026-03-01'");
        let t = d.and_hms_opt(5, 0, 0).expect("time").and_utc();
        assert_eq!(
            PartitionValue::Timestamp(t).literal(),
            "TIMESTAMPTZ '2026-03-01 05:00:00.000000+00'"
        );
        assert_eq!(PartitionValue::Text("o'x".into()).literal(), "'o''x'");
    }
}
