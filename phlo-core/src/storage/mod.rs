//! Storage behind a small trait: the ingestion code never names Delta Lake.
//!
//! [`TableStore`] is what an object-store or Iceberg backend would implement.
//! [`DeltaStore`] is the embedded default: Delta tables in a local directory,
//! `<warehouse>/<ns>/<name>/`.

mod delta;
mod rewrite;

use std::sync::Arc;

use arrow::datatypes::Date32Type;
use arrow::record_batch::RecordBatch;
use async_trait::async_trait;
use chrono::NaiveDate;
use datafusion::catalog::TableProvider;
use datafusion::common::ScalarValue;
use datafusion::prelude::{Expr, col, lit};

pub use delta::DeltaStore;

use crate::Result;
use crate::metadata::PARTITION_DATE;
use crate::names::TableName;

/// A `Date32` literal for DataFusion expressions.
pub fn date_literal(date: NaiveDate) -> Expr {
    lit(ScalarValue::Date32(Some(Date32Type::from_naive_date(date))))
}

/// The predicate selecting the rows of `scope`.
pub fn scope_predicate(scope: PartitionScope) -> Expr {
    match scope {
        PartitionScope::Date(d) => col(PARTITION_DATE).eq(date_literal(d)),
        PartitionScope::Unpartitioned => col(PARTITION_DATE).is_null(),
    }
}

/// Which rows of a table one partition covers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PartitionScope {
    /// Rows whose `_phlo_partition_date` is this date.
    Date(NaiveDate),
    /// Rows whose `_phlo_partition_date` is null (unpartitioned assets).
    Unpartitioned,
}

/// The identity a commit carries (Delta application transaction + commit info).
#[derive(Debug, Clone, PartialEq)]
pub struct CommitTag {
    /// Application id: one per asset and partition.
    pub app_id: String,
    /// The transaction version: increases by one per commit of `app_id`.
    pub txn_version: i64,
    /// Free-form commit metadata (asset, partition, run id).
    pub metadata: Vec<(String, serde_json::Value)>,
}

/// One write, applied in exactly one atomic commit.
#[derive(Debug, Clone)]
pub enum WriteOp {
    /// Insert every row (creates the table when missing).
    Append {
        /// Rows to insert.
        batches: Vec<RecordBatch>,
    },
    /// Upsert by key: every source row replaces the target row with its key, or is inserted.
    /// The source has at most one row per key.
    Merge {
        /// Rows to upsert.
        source: RecordBatch,
        /// Key columns.
        keys: Vec<String>,
        /// When known, the only partitions holding rows that match source keys:
        /// target files elsewhere are not scanned.
        target_partitions: Option<Vec<PartitionScope>>,
    },
    /// Delete the scope's rows and insert `batches`.
    ReplacePartition {
        /// Rows to insert.
        batches: Vec<RecordBatch>,
        /// Rows to delete.
        scope: PartitionScope,
    },
}

/// Which table state a write was planned against.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReadVersion {
    /// A blind append: it may land on whatever the latest version is.
    Latest,
    /// The write was planned against this version (`None`: the table did not exist). If
    /// another commit landed since, the commit fails with [`crate::Error::Conflict`] and the
    /// caller plans again.
    Exactly(Option<i64>),
}

/// A write and how the commit is made.
#[derive(Debug, Clone)]
pub struct Write {
    /// What to write.
    pub op: WriteOp,
    /// Partition columns used when the write creates the table.
    pub partition_columns: Vec<String>,
    /// Whether new columns may be added to the table's schema in this commit.
    pub allow_new_columns: bool,
    /// Identity of the commit.
    pub tag: CommitTag,
    /// The table state the write was planned against.
    pub read_version: ReadVersion,
}

/// What a commit did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct CommitOutcome {
    /// The table version before the commit (`None`: the commit created the table).
    pub version_before: Option<i64>,
    /// The version the commit created.
    pub version_after: i64,
    /// Rows inserted.
    pub rows_inserted: u64,
    /// Rows updated.
    pub rows_updated: u64,
    /// Rows copied unchanged while rewriting files.
    pub rows_copied: u64,
}

/// A warehouse of tables.
#[async_trait]
pub trait TableStore: Send + Sync + std::fmt::Debug {
    /// A human-readable location of the warehouse.
    fn location(&self) -> String;

    /// The table's current version; `None` when it does not exist.
    async fn version(&self, table: &TableName) -> Result<Option<i64>>;

    /// A DataFusion provider over the table's current version; `None` when it does not exist.
    async fn provider(&self, table: &TableName) -> Result<Option<Arc<dyn TableProvider>>>;

    /// Every table of the warehouse, sorted.
    async fn list_tables(&self) -> Result<Vec<TableName>>;

    /// The last transaction version committed under `app_id`, if any.
    async fn app_transaction(&self, table: &TableName, app_id: &str) -> Result<Option<i64>>;

    /// Applies `write` in one atomic commit.
    async fn commit(&self, table: &TableName, write: Write) -> Result<CommitOutcome>;
}

#[cfg(test)]
mod tests;
