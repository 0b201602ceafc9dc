//! Storage behind a small trait: the ingestion code never names Delta Lake.
//!
//! [`TableStore`] is what an object-store or Iceberg backend would implement.
//! [`DeltaStore`] is the embedded default: Delta tables in a local directory,
//! `<warehouse>/<ns>/<name>/`.
//!
//! Storage knows **layouts, not meanings**: a write carries a [`TableLayout`] (partition
//! columns, columns to encode without dictionary or statistics) and scopes are a column
//! and a value ([`PartitionScope`]); nothing here names a `_phlo_*` column.

mod delta;

use std::sync::Arc;

use arrow::record_batch::RecordBatch;
use async_trait::async_trait;
use datafusion::catalog::TableProvider;

pub use delta::DeltaStore;

use crate::Result;
use crate::names::TableName;
pub use crate::partition::PartitionScope;

/// A Delta application transaction: who committed, and how many times.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AppTransaction {
    /// Application id: one per asset and partition.
    pub app_id: String,
    /// The transaction version: increases by one per commit of `app_id`.
    pub version: i64,
}

/// The identity a commit carries (Delta application transaction + commit info).
#[derive(Debug, Clone, PartialEq)]
pub struct CommitTag {
    /// The application transaction; `None` for blind appends (phlo's own run and check
    /// logs, which many runs append to at once and which must never conflict).
    pub transaction: Option<AppTransaction>,
    /// Free-form commit metadata (asset, partition, run id).
    pub metadata: Vec<(String, serde_json::Value)>,
}

/// How a table's files are laid out and encoded, told to the store by the layer that
/// knows what the columns mean.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TableLayout {
    /// Columns the table is physically partitioned by (used when a write creates it).
    pub partition_columns: Vec<String>,
    /// Columns whose values are (nearly) all distinct, such as a unique key: no
    /// dictionary (building one is wasted work before the writer falls back to plain).
    pub distinct_columns: Vec<String>,
    /// Columns of incompressible random values, such as a hash: no dictionary, no
    /// compression and no statistics (min/max of hashes prune nothing).
    pub opaque_columns: Vec<String>,
}

impl TableLayout {
    /// An unpartitioned layout with default encodings.
    pub fn plain() -> Self {
        TableLayout::default()
    }
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
        /// When known, the only physical partitions (values of the layout's first
        /// partition column, as Delta stores them; `None` for a null value) holding rows
        /// that match source keys: target files elsewhere are not scanned.
        target_partitions: Option<Vec<Option<String>>>,
    },
    /// Delete the scope's rows and insert `batches` ([`PartitionScope::Whole`]: replace
    /// the whole table).
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
    /// The table's layout and encodings.
    pub layout: TableLayout,
    /// Whether new columns may be added to the table's schema in this commit.
    pub allow_new_columns: bool,
    /// Whether the commit replaces the table's schema with the batches' (columns the
    /// batches lack are dropped). Only a [`WriteOp::ReplacePartition`] of
    /// [`PartitionScope::Whole`] can: it rewrites every row in the same commit.
    pub replace_schema: bool,
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
///
/// Implementations keep opened tables and bring them up to date incrementally: a long
/// process (a backfill, a scheduler) must not replay a table's whole log per call.
#[async_trait]
pub trait TableStore: Send + Sync + std::fmt::Debug {
    /// A human-readable location of the warehouse.
    fn location(&self) -> String;

    /// Waits for the maintenance a store does after its commits returned (a Delta store's
    /// checkpoints). A process calls it before it exits; nothing is lost without it.
    async fn settle(&self) {}

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

    /// Rewrites the table's small files into fewer, larger ones in one commit, when it has
    /// at least `compaction.min_files` data files; the rows do not change.
    async fn compact(&self, table: &TableName, compaction: &Compaction) -> Result<Compacted>;
}

/// When and how far [`TableStore::compact`] compacts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Compaction {
    /// Compact only a table with at least this many data files.
    pub min_files: usize,
    /// Files smaller than this are rewritten, into files of about this size.
    pub target_file_bytes: u64,
}

impl Compaction {
    /// phlo's own logs (`_phlo.runs`, `_phlo.check_results`): one small file per run, so
    /// every 32 runs their files are rewritten into one. A snapshot's cost (the file list
    /// every update and commit materializes, each checkpoint) is linear in its files.
    pub const LOG: Compaction = Compaction {
        min_files: 32,
        target_file_bytes: 32 * 1024 * 1024,
    };
}

/// What a compaction did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Compacted {
    /// Files rewritten (and removed from the table).
    pub files_removed: u64,
    /// Files written in their place.
    pub files_added: u64,
    /// The version the compaction created; `None` when there was nothing to do.
    pub version_after: Option<i64>,
}

#[cfg(test)]
mod tests;
