//! What a check sees: the scoped table, the rest of the warehouse, and the clock.

use chrono::{DateTime, Duration, NaiveDate, Utc};
use datafusion::dataframe::DataFrame;
use datafusion::prelude::SessionContext;
use phlo_core::partition::{PartitionKey, sql_literal};

use crate::{Error, Result};

/// Which rows of the table a check covers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ScopeWindow {
    /// One partition: `partition_column = <the key's value>` (`DATE '2025-01-15'` for a
    /// day or a month, the window's start instant for an hour, the text for a static key).
    Partition(PartitionKey),
    /// The `days` days ending with `until` (inclusive).
    Rolling {
        /// Number of days.
        days: u32,
        /// Last day of the window.
        until: NaiveDate,
    },
    /// Every row.
    Full,
}

/// The data a check runs over.
#[derive(Clone)]
pub struct CheckScope {
    ctx: SessionContext,
    table: String,
    window: ScopeWindow,
    partition_column: String,
    now: DateTime<Utc>,
    key_columns: Vec<String>,
}

impl std::fmt::Debug for CheckScope {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CheckScope")
            .field("table", &self.table)
            .field("window", &self.window)
            .field("partition_column", &self.partition_column)
            .field("now", &self.now)
            .field("key_columns", &self.key_columns)
            .finish_non_exhaustive()
    }
}

/// Quotes an identifier for SQL (`"name"`).
pub fn quote_ident(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

/// Quotes a `ns.table` name for SQL.
pub fn quote_table(table: &str) -> String {
    table
        .split('.')
        .map(quote_ident)
        .collect::<Vec<_>>()
        .join(".")
}

impl CheckScope {
    /// A scope over `table` (registered in `ctx` as `ns.table`).
    pub fn new(
        ctx: SessionContext,
        table: impl Into<String>,
        window: ScopeWindow,
        partition_column: impl Into<String>,
        now: DateTime<Utc>,
        key_columns: Vec<String>,
    ) -> Self {
        CheckScope {
            ctx,
            table: table.into(),
            window,
            partition_column: partition_column.into(),
            now,
            key_columns,
        }
    }

    /// The session: every warehouse table as `ns.table` (in an audit, the target table is
    /// the staged result).
    pub fn ctx(&self) -> &SessionContext {
        &self.ctx
    }

    /// The checked table, `ns.table`.
    pub fn table(&self) -> &str {
        &self.table
    }

    /// The window.
    pub fn window(&self) -> &ScopeWindow {
        &self.window
    }

    /// The partition, when the scope is one partition.
    pub fn partition(&self) -> Option<&PartitionKey> {
        match &self.window {
            ScopeWindow::Partition(k) => Some(k),
            _ => None,
        }
    }

    /// The partition column the window filters on.
    pub fn partition_column(&self) -> &str {
        &self.partition_column
    }

    /// The instant checks treat as "now" (the runtime's clock).
    pub fn now(&self) -> DateTime<Utc> {
        self.now
    }

    /// Key columns used in samples (the asset's unique key when known).
    pub fn key_columns(&self) -> &[String] {
        &self.key_columns
    }

    /// The scope as a SQL predicate over the table (`TRUE` for the full table).
    pub fn where_sql(&self) -> String {
        let col = quote_ident(&self.partition_column);
        match &self.window {
            ScopeWindow::Partition(k) => format!("{col} = {}", sql_literal(&k.column_value())),
            ScopeWindow::Rolling { days, until } => {
                let from = *until - Duration::days(i64::from((*days).max(1)) - 1);
                format!(
                    "{col} BETWEEN DATE '{}' AND DATE '{}'",
                    from.format("%Y-%m-%d"),
                    until.format("%Y-%m-%d")
                )
            }
            ScopeWindow::Full => "TRUE".to_string(),
        }
    }

    /// `SELECT … FROM <table> WHERE <scope> [AND <predicate>]`, the form of every repro query.
    pub fn select_sql(&self, projection: &str, predicate: Option<&str>) -> String {
        let mut sql = format!(
            "SELECT {projection} FROM {} WHERE {}",
            quote_table(&self.table),
            self.where_sql()
        );
        if let Some(p) = predicate {
            sql.push_str(&format!(" AND ({p})"));
        }
        sql
    }

    /// The scoped rows as a DataFrame (lazy: nothing is read until it is executed).
    pub async fn df(&self) -> Result<DataFrame> {
        Ok(self.ctx.sql(&self.select_sql("*", None)).await?)
    }

    /// The table's column names.
    pub async fn columns(&self) -> Result<Vec<String>> {
        let provider = self
            .ctx
            .table_provider(self.table.as_str())
            .await
            .map_err(|_| Error::MissingTable {
                table: self.table.clone(),
            })?;
        Ok(provider
            .schema()
            .fields()
            .iter()
            .map(|f| f.name().clone())
            .collect())
    }

    /// Fails with [`Error::MissingColumn`] unless every one of `columns` exists.
    pub async fn require_columns(&self, columns: &[&str]) -> Result<()> {
        let available = self.columns().await?;
        for c in columns {
            if !available.iter().any(|a| a == c) {
                return Err(Error::MissingColumn {
                    table: self.table.clone(),
                    column: (*c).to_string(),
                    available,
                });
            }
        }
        Ok(())
    }
}
