//! A PostgreSQL source: a table or a query, scoped to the partition being materialized,
//! read in chunks straight into Arrow (binary `COPY`, see [`phlo_postgres::source`]).
//!
//! ```no_run
//! # use phlo_runtime::sources::postgres::PostgresQuery;
//! # async fn demo(ctx: &phlo_core::partition::PartitionContext) -> phlo_runtime::Result<()> {
//! let orders = PostgresQuery::new(
//!     "SELECT id, customer, amount, updated_at FROM shop.orders \
//!      WHERE updated_at >= {start} AND updated_at < {end}",
//! )?
//! .url_env("SHOP_PG_URL");
//! let batches = orders.read(ctx).await?;
//! # Ok(()) }
//! ```
//!
//! Placeholders are the file sources' (`{date}`, `{hour}`, `{month}`, `{key}`, `{start}`,
//! `{end}`), each replaced by a typed SQL literal of the partition's value —
//! `TIMESTAMPTZ '2026-03-01 00:00:00+00'` for `{start}`, `DATE '2026-03-01'` for `{date}`,
//! a quoted string for the others — never by text spliced into the query. `{{` and `}}`
//! are literal braces. Result columns read as [`phlo_postgres::PgType::arrow`] says
//! (`numeric`, `uuid` and `json` as text); the asset's schema then coerces them as it
//! does any load.

use arrow::record_batch::RecordBatch;
use phlo_core::partition::{PartitionContext, PartitionKey};
use phlo_postgres::{PostgresError, ReadOptions, quote_literal};

use super::files::{Placeholder, Template};
use crate::registry::DEFAULT_URL_ENV;
use crate::{Error, Result};

/// Where the connection URL comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Url {
    Env(String),
    Given(String),
}

/// A query (or a table) of a PostgreSQL database, templated by the partition.
#[derive(Debug, Clone)]
pub struct PostgresQuery {
    sql: Template,
    url: Url,
    options: ReadOptions,
    cursor: Option<Incremental>,
}

/// An incremental cursor: only rows whose `column` is above the last value read.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Incremental {
    column: String,
    initial: String,
    lookback: Option<String>,
}

impl PostgresQuery {
    /// The query `sql`, with placeholders. The URL is read from `PHLO_POSTGRES_URL` unless
    /// [`PostgresQuery::url`] or [`PostgresQuery::url_env`] says otherwise.
    pub fn new(sql: &str) -> Result<Self> {
        let sql = Template::parse(sql).map_err(|e| Error::InvalidArgument {
            message: format!("the PostgreSQL query: {e}"),
        })?;
        Ok(PostgresQuery {
            sql,
            url: Url::Env(DEFAULT_URL_ENV.to_string()),
            options: ReadOptions::default(),
            cursor: None,
        })
    }

    /// Every row of table `table` (`schema.table`), or with `time_column` the rows whose
    /// value falls in the partition's window (`>= {start} AND < {end}`).
    pub fn table(table: &str, time_column: Option<&str>) -> Result<Self> {
        let target = phlo_postgres::PgTable::parse(table)?;
        let from = format!(
            "{}.{}",
            phlo_postgres::quote_ident(target.schema()),
            phlo_postgres::quote_ident(target.name())
        );
        let sql = match time_column {
            None => format!("SELECT * FROM {from}"),
            Some(c) => {
                let c = phlo_postgres::quote_ident(c)
                    .replace('{', "{{")
                    .replace('}', "}}");
                format!("SELECT * FROM {from} WHERE {c} >= {{start}} AND {c} < {{end}}")
            }
        };
        Self::new(&sql)
    }

    /// Connects to `url`.
    pub fn url(mut self, url: impl Into<String>) -> Self {
        self.url = Url::Given(url.into());
        self
    }

    /// Reads the URL from environment variable `env` when it runs.
    pub fn url_env(mut self, env: impl Into<String>) -> Self {
        self.url = Url::Env(env.into());
        self
    }

    /// Rows per batch (default 65,536).
    pub fn batch_rows(mut self, rows: usize) -> Self {
        self.options.batch_rows = rows.max(1);
        self
    }

    /// Reads incrementally by `column` (an integer, date, timestamp or text column of the
    /// result): only rows whose value is above the cursor — the largest value a
    /// successful run of this asset read, else `initial_value` — and, after a read,
    /// stages the largest value read as the new cursor. The cursor is kept only when the
    /// run succeeds (its commit landed); a failed run reads the same rows again.
    pub fn incremental(mut self, column: &str, initial_value: impl Into<String>) -> Self {
        self.cursor = Some(Incremental {
            column: column.to_string(),
            initial: initial_value.into(),
            lookback: None,
        });
        self
    }

    /// Re-reads the rows up to `interval` (`"2 hours"`, a PostgreSQL interval) before the
    /// cursor as well, for late-arriving rows of a date or timestamp cursor column; the
    /// merge by `unique_key` makes the overlap idempotent. Without
    /// [`PostgresQuery::incremental`] it does nothing.
    pub fn lookback(mut self, interval: &str) -> Self {
        if let Some(c) = &mut self.cursor {
            c.lookback = Some(interval.to_string());
        }
        self
    }

    /// The cursor's resource name: `postgres:<column>`.
    pub fn cursor_resource(&self) -> Option<String> {
        self.cursor
            .as_ref()
            .map(|c| format!("postgres:{}", c.column))
    }

    /// The query for `partition` and cursor value `after` (for an incremental query).
    pub fn sql_after(
        &self,
        partition: Option<&PartitionKey>,
        after: Option<&str>,
    ) -> Result<String> {
        let sql = self.sql_for(partition)?;
        Ok(match (&self.cursor, after) {
            (Some(c), Some(after)) => {
                let column = phlo_postgres::quote_ident(&c.column);
                let shifted = match &c.lookback {
                    Some(i) => format!("{column} + INTERVAL {}", quote_literal(i)),
                    None => column,
                };
                format!(
                    "SELECT * FROM ({}) AS phlo_source WHERE {shifted} > {}",
                    sql.trim().trim_end_matches(';'),
                    quote_literal(after)
                )
            }
            _ => sql,
        })
    }

    /// The query for `partition`, every placeholder a typed literal.
    pub fn sql_for(&self, partition: Option<&PartitionKey>) -> Result<String> {
        self.sql
            .render_with(partition, |p, value| match p {
                Placeholder::Start | Placeholder::End => {
                    // `2026-03-01T00:00:00Z` → a timestamptz literal PostgreSQL reads as UTC.
                    format!("TIMESTAMPTZ {}", quote_literal(&value))
                }
                Placeholder::Date => format!("DATE {}", quote_literal(&value)),
                Placeholder::Hour | Placeholder::Month | Placeholder::Key => quote_literal(&value),
            })
            .map_err(|e| Error::Files(Box::new(e)))
    }

    /// Reads the rows of `ctx`'s partition.
    pub async fn read(&self, ctx: &PartitionContext) -> Result<Vec<RecordBatch>> {
        let resource = self.cursor_resource();
        let after = match (&self.cursor, &resource) {
            (Some(c), Some(r)) => Some(ctx.cursor(r).await?.unwrap_or_else(|| c.initial.clone())),
            _ => None,
        };
        let sql = self.sql_after(ctx.partition(), after.as_deref())?;
        let url = match &self.url {
            Url::Given(u) => u.clone(),
            Url::Env(env) => std::env::var(env)
                .map_err(|_| Error::from(PostgresError::MissingUrl { env: env.clone() }))?,
        };
        let client = phlo_postgres::connect(&url).await?;
        let batches = phlo_postgres::read_query(&client, &sql, &self.options).await?;
        if let (Some(c), Some(r)) = (&self.cursor, &resource)
            && let Some(max) = max_value(&batches, &c.column)?
        {
            ctx.advance_cursor(r, max);
        }
        mark_decimal_text(batches)
    }
}

/// The largest value of `column` over `batches`, as PostgreSQL reads it back in a literal
/// (`2025-01-13 05:00:00.000000+00` for a timestamptz), `None` when there are no values.
fn max_value(batches: &[RecordBatch], column: &str) -> Result<Option<String>> {
    use arrow::array::{Array, AsArray};
    use arrow::compute::{max, max_string};
    use arrow::datatypes::{DataType, Date32Type, Int64Type, TimeUnit, TimestampMicrosecondType};
    let invalid = |what: String| Error::InvalidArgument {
        message: format!("the incremental cursor `{column}` {what}"),
    };
    let Some(first) = batches.first() else {
        return Ok(None);
    };
    let field = first
        .schema()
        .field_with_name(column)
        .map_err(|_| invalid("is not a column of the query's result".into()))?
        .clone();
    if field
        .metadata()
        .get(phlo_postgres::PG_TYPE_METADATA)
        .is_some_and(|t| t == "numeric")
    {
        return Err(invalid(
            "is numeric: cast it to bigint in the query, or use a timestamp column".into(),
        ));
    }
    let arrays: Vec<&dyn Array> = batches
        .iter()
        .filter_map(|b| b.column_by_name(column).map(|a| a.as_ref()))
        .collect();
    let all = arrow::compute::concat(&arrays)?;
    Ok(match field.data_type() {
        DataType::Int16 | DataType::Int32 | DataType::Int64 => {
            let ints = arrow::compute::cast(&all, &DataType::Int64)?;
            max(ints.as_primitive::<Int64Type>()).map(|v| v.to_string())
        }
        DataType::Date32 => max(all.as_primitive::<Date32Type>())
            .and_then(Date32Type::to_naive_date_opt)
            .map(|d| d.format("%Y-%m-%d").to_string()),
        DataType::Timestamp(TimeUnit::Microsecond, tz) => {
            let zone = if tz.is_some() { "+00" } else { "" };
            max(all.as_primitive::<TimestampMicrosecondType>())
                .and_then(chrono::DateTime::from_timestamp_micros)
                .map(|t| format!("{}{zone}", t.format("%Y-%m-%d %H:%M:%S%.6f")))
        }
        DataType::Utf8 => max_string(all.as_string::<i32>()).map(str::to_string),
        other => {
            return Err(invalid(format!(
                "is {other}: use an integer, date, timestamp or text column"
            )));
        }
    })
}

/// Marks the columns read from `numeric` as text to parse ([`super::files::TEXT_ORIGIN`]),
/// so the asset's schema coerces `12.50` into a float or decimal as it does for a CSV.
fn mark_decimal_text(batches: Vec<RecordBatch>) -> Result<Vec<RecordBatch>> {
    let Some(first) = batches.first() else {
        return Ok(batches);
    };
    let fields: Vec<arrow::datatypes::Field> = first
        .schema()
        .fields()
        .iter()
        .map(|f| {
            let numeric = f
                .metadata()
                .get(phlo_postgres::PG_TYPE_METADATA)
                .is_some_and(|t| t == "numeric");
            let mut metadata = f.metadata().clone();
            if numeric {
                metadata.insert(super::files::TEXT_ORIGIN.to_string(), "true".to_string());
            }
            f.as_ref().clone().with_metadata(metadata)
        })
        .collect();
    let schema = std::sync::Arc::new(arrow::datatypes::Schema::new(fields));
    batches
        .into_iter()
        .map(|b| RecordBatch::try_new(schema.clone(), b.columns().to_vec()).map_err(Error::from))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use phlo_core::partition::PartitionsDef;
    use phlo_core::spec::{Cadence, PartitionsSpec};

    fn key(def: &str, text: &str) -> PartitionKey {
        let spec = match def {
            "daily" | "hourly" => PartitionsSpec::Time {
                cadence: if def == "daily" {
                    Cadence::Daily
                } else {
                    Cadence::Hourly
                },
                start: None,
                end: None,
                timezone: "UTC",
                end_offset: 0,
            },
            _ => PartitionsSpec::Static {
                keys: &["eu", "eu-west.2"],
            },
        };
        PartitionsDef::resolve(&spec)
            .expect("definition")
            .parse_key(text)
            .expect("key")
    }

    #[test]
    fn placeholders_become_typed_literals_of_the_partition() {
        let q = PostgresQuery::new(
            "SELECT * FROM t WHERE ts >= {start} AND ts < {end} AND d = {date} AND j = '{{}}'",
        )
        .expect("parses");
        let sql = q
            .sql_for(Some(&key("daily", "2026-03-01")))
            .expect("renders");
        assert_eq!(
            sql,
            "SELECT * FROM t WHERE ts >= TIMESTAMPTZ '2026-03-01T00:00:00Z' AND ts < TIMESTAMPTZ '2026-03-02T00:00:00Z' AND d = DATE '2026-03-01' AND j = '{}'"
        );
        let s = PostgresQuery::new("SELECT * FROM t WHERE region = {key}").expect("parses");
        let sql = s
            .sql_for(Some(&key("static", "eu-west.2")))
            .expect("renders");
        assert_eq!(sql, "SELECT * FROM t WHERE region = 'eu-west.2'");
    }

    #[test]
    fn a_table_source_filters_its_time_column_by_the_window() {
        let q = PostgresQuery::table("shop.orders", Some("updated_at")).expect("valid");
        let sql = q
            .sql_for(Some(&key("hourly", "2026-03-01T05")))
            .expect("renders");
        assert_eq!(
            sql,
            "SELECT * FROM \"shop\".\"orders\" WHERE \"updated_at\" >= TIMESTAMPTZ '2026-03-01T05:00:00Z' AND \"updated_at\" < TIMESTAMPTZ '2026-03-01T06:00:00Z'"
        );
        assert!(PostgresQuery::table("Shop.Orders", None).is_err());
    }

    #[test]
    fn an_incremental_query_reads_above_the_cursor_and_its_maximum_is_the_next_cursor() {
        use arrow::array::{Int64Array, StringArray, TimestampMicrosecondArray};
        use arrow::datatypes::{DataType, Field, Schema, TimeUnit};
        use std::sync::Arc;
        let q = PostgresQuery::table("shop.orders", None)
            .expect("valid")
            .incremental("updated_at", "1970-01-01 00:00:00+00");
        assert_eq!(q.cursor_resource().as_deref(), Some("postgres:updated_at"));
        assert_eq!(
            q.sql_after(None, Some("2025-01-13 05:00:00.000000+00"))
                .expect("renders"),
            "SELECT * FROM (SELECT * FROM \"shop\".\"orders\") AS phlo_source WHERE \"updated_at\" > '2025-01-13 05:00:00.000000+00'"
        );
        let late = q.clone().lookback("2 hours");
        assert!(
            late.sql_after(None, Some("2025-01-13 05:00:00+00"))
                .expect("renders")
                .ends_with("WHERE \"updated_at\" + INTERVAL '2 hours' > '2025-01-13 05:00:00+00'")
        );
        let schema = Arc::new(Schema::new(vec![
            Field::new("id", DataType::Int64, true),
            Field::new(
                "updated_at",
                DataType::Timestamp(TimeUnit::Microsecond, Some("UTC".into())),
                true,
            ),
            Field::new("code", DataType::Utf8, true),
        ]));
        let batch = |ids: Vec<Option<i64>>, ts: Vec<Option<i64>>, codes: Vec<Option<&str>>| {
            RecordBatch::try_new(
                schema.clone(),
                vec![
                    Arc::new(Int64Array::from(ids)),
                    Arc::new(TimestampMicrosecondArray::from(ts).with_timezone("UTC")),
                    Arc::new(StringArray::from(codes)),
                ],
            )
            .expect("batch")
        };
        let batches = vec![
            batch(
                vec![Some(9), None],
                vec![Some(1_736_744_400_000_000), None],
                vec![Some("b"), None],
            ),
            batch(
                vec![Some(12)],
                vec![Some(1_736_744_399_000_001)],
                vec![Some("a")],
            ),
        ];
        assert_eq!(
            max_value(&batches, "id").expect("max").as_deref(),
            Some("12")
        );
        assert_eq!(
            max_value(&batches, "updated_at").expect("max").as_deref(),
            Some("2025-01-13 05:00:00.000000+00")
        );
        assert_eq!(
            max_value(&batches, "code").expect("max").as_deref(),
            Some("b")
        );
        assert_eq!(max_value(&[], "id").expect("none"), None);
        assert!(max_value(&batches, "nope").is_err());
    }

    #[test]
    fn a_placeholder_the_partition_cannot_fill_is_an_error_naming_it() {
        let q = PostgresQuery::new("SELECT * FROM t WHERE d = {date}").expect("parses");
        let err = q.sql_for(None).expect_err("unpartitioned");
        assert!(err.to_string().contains("date"), "{err}");
        assert!(PostgresQuery::new("SELECT {nope}").is_err());
    }
}
