//! Step 6: plan the write against the table as it is, then apply it in one commit.
//!
//! - `merge`: the target's keys and row hashes are streamed once (only those columns) and
//!   probed against the load; rows whose key exists with the same `_phlo_row_hash` are
//!   **unchanged** and left out of the commit. When nothing changes, nothing is committed.
//!   Only partitions that hold a matched key are scanned by the merge itself.
//! - `replace_partition`: when the partition already holds exactly the load's rows (same
//!   multiset of row hashes), nothing is committed; otherwise one commit deletes the
//!   partition and inserts the load.
//! - `append`: one commit inserts the load.

use std::collections::BTreeSet;
use std::sync::Arc;

use arrow::array::{Array, ArrayRef, AsArray, BooleanArray, RecordBatch};
use arrow::compute::filter_record_batch;
use datafusion::prelude::SessionContext;
use futures::StreamExt;
use phlo_core::keys::{self, KeyIndex, Strings};
use phlo_core::metadata::ROW_HASH;
use phlo_core::names::TableName;
use phlo_core::spec::MergeStrategy;
use phlo_core::storage::{
    AppTransaction, CommitTag, PartitionScope, ReadVersion, TableLayout, TableStore, Write, WriteOp,
};

use crate::{Error, Result};

/// What to write and how.
#[derive(Debug, Clone)]
pub struct WriteRequest<'a> {
    /// Target table.
    pub table: &'a TableName,
    /// The prepared rows (one per key unless appending).
    pub load: RecordBatch,
    /// Strategy.
    pub strategy: MergeStrategy,
    /// Key columns.
    pub key: &'a [&'a str],
    /// The partition this load covers.
    pub scope: PartitionScope,
    /// The table's layout (partition columns, encodings).
    pub layout: TableLayout,
    /// Whether the commit may add columns (`schema_policy = "additive"`).
    pub allow_new_columns: bool,
    /// Whether the commit replaces the table's schema with the load's, dropping the
    /// columns it lacks (only a whole-table `replace_partition` write can).
    pub replace_schema: bool,
    /// Application id of the commit; its version is the table's last one plus one.
    pub app_id: String,
    /// Commit metadata.
    pub metadata: Vec<(String, serde_json::Value)>,
}

/// What the write did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct WriteSummary {
    /// Rows inserted.
    pub rows_inserted: u64,
    /// Rows replaced.
    pub rows_updated: u64,
    /// Matched rows left as they were.
    pub rows_unchanged: u64,
    /// Rows deleted (`replace_partition`).
    pub rows_deleted: u64,
    /// Table version before (`None`: no table).
    pub version_before: Option<i64>,
    /// Table version after (equal to before when nothing was committed).
    pub version_after: Option<i64>,
    /// Times the write was planned again after a concurrent writer committed first.
    pub replans: u32,
}

/// A query error while reading `table` — or, when reading its files failed (a missing or
/// unreadable data file), a storage error naming the file.
fn query_err(table: &TableName) -> impl Fn(datafusion::error::DataFusionError) -> Error + '_ {
    move |source| match phlo_core::error::storage_fault(&source) {
        Some(reason) => Error::Core(phlo_core::Error::DataFile {
            table: table.to_string(),
            path: phlo_core::error::faulty_file(&reason).unwrap_or_default(),
            reason,
        }),
        None => Error::Query {
            table: table.to_string(),
            source: Box::new(source),
        },
    }
}

/// Streams `columns` of `table` (read through `provider`), optionally restricted to
/// `scope` and to a key range, into `visit`.
async fn scan(
    provider: Arc<dyn datafusion::catalog::TableProvider>,
    table: &TableName,
    columns: &[&str],
    scope: Option<&PartitionScope>,
    key_range: Option<datafusion::prelude::Expr>,
    mut visit: impl FnMut(&RecordBatch) -> Result<()>,
) -> Result<()> {
    let ctx = SessionContext::new();
    let mut df = ctx.read_table(provider).map_err(query_err(table))?;
    if let Some(scope @ PartitionScope::Key { .. }) = scope {
        df = df.filter(scope.predicate()).map_err(query_err(table))?;
    }
    if let Some(range) = key_range {
        df = df.filter(range).map_err(query_err(table))?;
    }
    let df = df.select_columns(columns).map_err(query_err(table))?;
    let mut stream = df.execute_stream().await.map_err(query_err(table))?;
    while let Some(batch) = stream.next().await {
        visit(&batch.map_err(query_err(table))?)?;
    }
    Ok(())
}

fn table_has_column(schema: &arrow::datatypes::Schema, name: &str) -> bool {
    schema.field_with_name(name).is_ok()
}

/// How often a write is re-planned after losing a race with a concurrent writer.
pub const MAX_CONFLICT_RETRIES: u32 = 5;

/// How often a commit that failed in storage (and did not land) is tried again.
pub const MAX_STORAGE_RETRIES: u32 = 2;

/// One try of a write.
enum Attempt {
    /// Committed (or nothing to commit).
    Done(WriteSummary),
    /// Plan again and retry: a concurrent writer won, or storage failed before the commit
    /// landed.
    Again(Error),
}

/// A write planned against the table as it is: what the commit will carry, and the
/// counts it will report. The audit's staged view is made from it ([`WritePlan::staged`]),
/// so what the checks see is what the commit writes.
#[derive(Debug, Clone)]
pub struct WritePlan {
    /// The counts the commit will report (`version_after` is filled in by the commit).
    pub summary: WriteSummary,
    /// The commit's operation; `None` when nothing changes (no commit is made).
    pub op: Option<WriteOp>,
    /// For a merge into an existing table: the index of the rows it writes, by key.
    pub index: Option<Arc<KeyIndex>>,
}

/// What the table will hold after a planned write, relative to what it holds now.
#[derive(Debug, Clone)]
pub enum Staged<'a> {
    /// Nothing changes.
    Unchanged,
    /// The table's rows plus these.
    Added(&'a RecordBatch),
    /// The table's rows outside `scope`, plus these.
    Replaced(&'a PartitionScope, &'a RecordBatch),
    /// The table's rows whose key the index does not hold, plus the indexed rows.
    Merged(&'a Arc<KeyIndex>, &'a RecordBatch),
}

impl WritePlan {
    /// The staged result of this write, for the audit.
    pub fn staged(&self) -> Staged<'_> {
        match (&self.op, &self.index) {
            (None, _) => Staged::Unchanged,
            (Some(WriteOp::Merge { source, .. }), Some(index)) => Staged::Merged(index, source),
            (Some(WriteOp::Merge { source, .. }), None) => Staged::Added(source),
            (Some(WriteOp::Append { batches }), _) => match batches.first() {
                Some(b) => Staged::Added(b),
                None => Staged::Unchanged,
            },
            (Some(WriteOp::ReplacePartition { batches, scope }), _) => match batches.first() {
                Some(b) => Staged::Replaced(scope, b),
                None => Staged::Unchanged,
            },
        }
    }
}

/// Plans and applies `req` in one commit (or none when nothing changes). When a concurrent
/// writer commits first and Delta reports a conflict, the write is planned again against the
/// new table state and retried, up to [`MAX_CONFLICT_RETRIES`] times. When storage fails
/// during the commit, the table's application transaction tells whether the commit
/// landed: if it did, the write is done (a landed commit is never applied twice); if not,
/// it is tried again up to [`MAX_STORAGE_RETRIES`] times. Never a partial write.
pub async fn write(store: &dyn TableStore, req: WriteRequest<'_>) -> Result<WriteSummary> {
    let first = plan(store, &req).await?;
    write_planned(store, req, first).await
}

/// [`write`], starting from a plan already made (and audited) against the table.
pub async fn write_planned(
    store: &dyn TableStore,
    req: WriteRequest<'_>,
    first: WritePlan,
) -> Result<WriteSummary> {
    write_planned_until(store, req, first, None).await
}

/// [`write_planned`], bounded by `deadline`: no commit starts once it has passed, and a
/// re-plan after a conflict is cut at it; either way [`Error::Deadline`] says that this
/// write committed nothing. A commit in flight is never cut: it lands whole, or fails
/// whole, even past the deadline.
pub async fn write_planned_until(
    store: &dyn TableStore,
    req: WriteRequest<'_>,
    first: WritePlan,
    deadline: Option<tokio::time::Instant>,
) -> Result<WriteSummary> {
    let passed = || Error::Deadline {
        table: req.table.to_string(),
    };
    let (mut conflicts, mut failures) = (0, 0);
    let mut planned = Some(first);
    loop {
        let p = match (planned.take(), deadline) {
            (Some(p), _) => p,
            (None, None) => plan(store, &req).await?,
            (None, Some(d)) => tokio::time::timeout_at(d, plan(store, &req))
                .await
                .map_err(|_| passed())??,
        };
        if p.op.is_some() && deadline.is_some_and(|d| tokio::time::Instant::now() >= d) {
            return Err(passed());
        }
        match commit_planned(store, &req, p).await? {
            Attempt::Done(mut summary) => {
                summary.replans = conflicts;
                return Ok(summary);
            }
            Attempt::Again(e @ Error::Core(phlo_core::Error::Conflict { .. })) => {
                conflicts += 1;
                if conflicts > MAX_CONFLICT_RETRIES {
                    return Err(e);
                }
            }
            Attempt::Again(e) => {
                failures += 1;
                if failures > MAX_STORAGE_RETRIES {
                    return Err(e);
                }
            }
        }
    }
}

/// Plans `req` against the table's current version: nothing is written.
pub async fn plan(store: &dyn TableStore, req: &WriteRequest<'_>) -> Result<WritePlan> {
    let table = req.table;
    let version_before = store.version(table).await?;
    let mut summary = WriteSummary {
        version_before,
        version_after: version_before,
        ..Default::default()
    };
    let has_hash = table_has_column(&req.load.schema(), ROW_HASH);
    let op = match (req.strategy, version_before) {
        (MergeStrategy::Append, _) | (_, None) => {
            summary.rows_inserted = req.load.num_rows() as u64;
            match req.strategy {
                MergeStrategy::Merge => WriteOp::Merge {
                    source: req.load.clone(),
                    keys: req.key.iter().map(|k| k.to_string()).collect(),
                    target_partitions: None,
                },
                _ => WriteOp::Append {
                    batches: vec![req.load.clone()],
                },
            }
        }
        (MergeStrategy::Merge, Some(_)) => {
            let plan = plan_merge(store, table, req, has_hash).await?;
            summary.rows_unchanged = plan.unchanged;
            summary.rows_inserted = plan.new;
            summary.rows_updated = plan.changed;
            if plan.source.num_rows() == 0 {
                return Ok(WritePlan {
                    summary,
                    op: None,
                    index: None,
                });
            }
            let index = KeyIndex::build(&keys::key_columns(&plan.source, req.key)?)?;
            return Ok(WritePlan {
                summary,
                op: Some(WriteOp::Merge {
                    source: plan.source,
                    keys: req.key.iter().map(|k| k.to_string()).collect(),
                    target_partitions: Some(plan.target_partitions),
                }),
                index: Some(Arc::new(index)),
            });
        }
        (MergeStrategy::ReplacePartition, Some(_)) => {
            let existing = partition_hashes(store, table, &req.scope, has_hash).await?;
            summary.rows_deleted = existing.count;
            if has_hash && existing.hashes.is_some() {
                let mut load_hashes = hash_values(&req.load)?;
                load_hashes.sort_unstable();
                if existing.hashes.as_ref() == Some(&load_hashes) {
                    summary.rows_deleted = 0;
                    summary.rows_unchanged = load_hashes.len() as u64;
                    return Ok(WritePlan {
                        summary,
                        op: None,
                        index: None,
                    });
                }
            }
            summary.rows_inserted = req.load.num_rows() as u64;
            WriteOp::ReplacePartition {
                batches: vec![req.load.clone()],
                scope: req.scope.clone(),
            }
        }
    };
    Ok(WritePlan {
        summary,
        op: Some(op),
        index: None,
    })
}

/// Commits `plan` (planned against `plan.summary.version_before`).
async fn commit_planned(
    store: &dyn TableStore,
    req: &WriteRequest<'_>,
    plan: WritePlan,
) -> Result<Attempt> {
    let table = req.table;
    let WritePlan {
        mut summary, op, ..
    } = plan;
    let Some(op) = op else {
        return Ok(Attempt::Done(summary));
    };
    let version_before = summary.version_before;
    // The version this commit creates: increases with every commit of the table, so with
    // every commit of `app_id`, and needs no read of the log.
    let txn_version = version_before.map_or(0, |v| v + 1);
    let committed = store
        .commit(
            table,
            Write {
                op,
                layout: req.layout.clone(),
                allow_new_columns: req.allow_new_columns,
                replace_schema: req.replace_schema,
                tag: CommitTag {
                    transaction: Some(AppTransaction {
                        app_id: req.app_id.clone(),
                        version: txn_version,
                    }),
                    metadata: req.metadata.clone(),
                },
                read_version: ReadVersion::Exactly(version_before),
            },
        )
        .await;
    let outcome = match committed {
        Ok(outcome) => outcome,
        Err(e @ phlo_core::Error::Conflict { .. }) => return Ok(Attempt::Again(e.into())),
        Err(e) if e.is_uncertain_commit() => {
            // The commit may have landed before storage failed: its application
            // transaction says. Landed → done (never applied twice); else try again.
            return match store.app_transaction(table, &req.app_id).await {
                Ok(Some(v)) if v >= txn_version => {
                    summary.version_after = store.version(table).await?;
                    Ok(Attempt::Done(summary))
                }
                _ => Ok(Attempt::Again(e.into())),
            };
        }
        Err(e) => return Err(e.into()),
    };
    if req.strategy == MergeStrategy::Merge && version_before.is_some() {
        summary.rows_inserted = outcome.rows_inserted;
        summary.rows_updated = outcome.rows_updated;
    }
    summary.version_after = Some(outcome.version_after);
    Ok(Attempt::Done(summary))
}

/// `array` as `Utf8` (tables may be read back as `Utf8View`).
fn utf8(array: &Arc<dyn Array>) -> Result<Arc<dyn Array>> {
    Ok(arrow::compute::cast(
        array,
        &arrow::datatypes::DataType::Utf8,
    )?)
}

/// The `_phlo_row_hash` values of `batch`, parsed from hex (empty without the column).
fn hash_values(batch: &RecordBatch) -> Result<Vec<u128>> {
    let Some(col) = batch.column_by_name(ROW_HASH) else {
        return Ok(Vec::new());
    };
    let col = utf8(col)?;
    let strings = col
        .as_string_opt::<i32>()
        .ok_or_else(|| phlo_core::Error::internal("_phlo_row_hash is not a string column"))?;
    Ok(strings
        .iter()
        .map(|s| {
            s.and_then(|s| u128::from_str_radix(s, 16).ok())
                .unwrap_or_default()
        })
        .collect())
}

struct PartitionHashes {
    count: u64,
    hashes: Option<Vec<u128>>,
}

async fn partition_hashes(
    store: &dyn TableStore,
    table: &TableName,
    scope: &PartitionScope,
    has_hash: bool,
) -> Result<PartitionHashes> {
    let mut count = 0u64;
    let mut hashes = Vec::new();
    let columns: &[&str] = if has_hash { &[ROW_HASH] } else { &[] };
    let Some(provider) = store.provider(table).await? else {
        return Ok(PartitionHashes {
            count: 0,
            hashes: has_hash.then(Vec::new),
        });
    };
    scan(provider, table, columns, Some(scope), None, |b| {
        count += b.num_rows() as u64;
        if has_hash {
            hashes.extend(hash_values(b)?);
        }
        Ok(())
    })
    .await?;
    hashes.sort_unstable();
    Ok(PartitionHashes {
        count,
        hashes: has_hash.then_some(hashes),
    })
}

struct MergePlan {
    source: RecordBatch,
    unchanged: u64,
    /// Load rows whose key is not in the table.
    new: u64,
    /// Load rows replacing a different target row.
    changed: u64,
    /// Values of the physical partition column holding changed rows (Delta's text form).
    target_partitions: Vec<Option<String>>,
}

/// The merge rule (SEMANTICS §4 step 6): each load row is **new** (its key is not in the
/// table), **changed** (a target row has its key with another row hash: it is replaced,
/// and the target row's physical partition is one the merge must rewrite) or
/// **unchanged** (same key, same hash: left out of the commit). Fed the target's rows batch
/// by batch, it needs no I/O of its own.
pub struct MergeRule<'a> {
    load: &'a RecordBatch,
    index: KeyIndex,
    /// The target's key types the load's keys were cast to.
    load_hashes: Option<ArrayRef>,
    /// 0 = new, 1 = changed, 2 = unchanged, per load row.
    state: Vec<u8>,
    partitions: BTreeSet<Option<String>>,
}

impl<'a> MergeRule<'a> {
    /// A rule for `load` keyed by `key`, probing targets whose key columns have the types
    /// `target_types` (the load's keys are cast to them once, not every target batch).
    pub fn new(
        load: &'a RecordBatch,
        key: &[&str],
        target_types: &[Option<arrow::datatypes::DataType>],
    ) -> Result<Self> {
        let columns: Vec<ArrayRef> = keys::key_columns(load, key)?
            .into_iter()
            .zip(target_types.iter().chain(std::iter::repeat(&None)))
            .map(|(c, t)| match t {
                Some(t) if t != c.data_type() => Ok(arrow::compute::cast(&c, t)?),
                _ => Ok(c),
            })
            .collect::<Result<_>>()?;
        let load_hashes = match load.column_by_name(ROW_HASH) {
            Some(c) => Some(utf8(c)?),
            None => None,
        };
        Ok(MergeRule {
            load,
            index: KeyIndex::build(&columns)?,
            load_hashes,
            state: vec![0u8; load.num_rows()],
            partitions: BTreeSet::new(),
        })
    }

    /// Classifies against one batch of target rows: their key columns, row hashes (when
    /// the table has them) and physical partition values (when partitioned).
    pub fn observe(
        &mut self,
        target_keys: &[ArrayRef],
        target_hashes: Option<&ArrayRef>,
        target_partitions: Option<&ArrayRef>,
    ) -> Result<()> {
        let matched = self.index.probe(target_keys)?;
        let hashes = target_hashes.and_then(|h| Strings::of(h.as_ref()));
        let load_hashes = self
            .load_hashes
            .as_ref()
            .and_then(|h| Strings::of(h.as_ref()));
        let physical = match target_partitions {
            Some(p) => Some(utf8(p)?),
            None => None,
        };
        let physical = physical.as_ref().and_then(|p| Strings::of(p.as_ref()));
        for (i, m) in matched.iter().enumerate() {
            let Some(j) = *m else { continue };
            let j = j as usize;
            let same = match (&hashes, &load_hashes) {
                (Some(h), Some(l)) => h.get(i).is_some() && h.get(i) == l.get(j),
                _ => false,
            };
            if same {
                self.state[j] = 2;
            } else {
                self.state[j] = 1;
                self.partitions
                    .insert(physical.as_ref().and_then(|p| p.get(i).map(str::to_string)));
            }
        }
        Ok(())
    }

    /// The rows to write (new and changed), the counts, and the physical partitions the
    /// merge must rewrite.
    fn finish(self) -> Result<MergePlan> {
        let count = |v: u8| self.state.iter().filter(|s| **s == v).count() as u64;
        let (new, changed, unchanged) = (count(0), count(1), count(2));
        let mask = BooleanArray::from(self.state.iter().map(|s| *s != 2).collect::<Vec<_>>());
        Ok(MergePlan {
            source: filter_record_batch(self.load, &mask)?,
            unchanged,
            new,
            changed,
            target_partitions: self.partitions.into_iter().collect(),
        })
    }
}

/// `key BETWEEN min AND max` over the load's values of `key` (in the target's type), for
/// string and integer keys; `None` for other types or an empty load.
fn key_range(
    load: &RecordBatch,
    key: &str,
    target_type: Option<arrow::datatypes::DataType>,
) -> Result<Option<datafusion::prelude::Expr>> {
    use arrow::datatypes::{DataType, Int32Type, Int64Type};
    use datafusion::common::ScalarValue;
    use datafusion::prelude::{col, lit};
    let Some(column) = load.column_by_name(key) else {
        return Ok(None);
    };
    let bounds: Option<(ScalarValue, ScalarValue)> = match column.data_type() {
        DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View => {
            let text = utf8(column)?;
            let Some(text) = text.as_string_opt::<i32>() else {
                return Ok(None);
            };
            match (
                arrow::compute::min_string(text),
                arrow::compute::max_string(text),
            ) {
                (Some(a), Some(b)) => Some((
                    ScalarValue::Utf8(Some(a.to_string())),
                    ScalarValue::Utf8(Some(b.to_string())),
                )),
                _ => None,
            }
        }
        DataType::Int64 => {
            let a = column.as_primitive::<Int64Type>();
            arrow::compute::min(a)
                .zip(arrow::compute::max(a))
                .map(|(a, b)| (ScalarValue::Int64(Some(a)), ScalarValue::Int64(Some(b))))
        }
        DataType::Int32 => {
            let a = column.as_primitive::<Int32Type>();
            arrow::compute::min(a)
                .zip(arrow::compute::max(a))
                .map(|(a, b)| (ScalarValue::Int32(Some(a)), ScalarValue::Int32(Some(b))))
        }
        _ => None,
    };
    let Some((low, high)) = bounds else {
        return Ok(None);
    };
    // Compared in the table's type (a table read back as Utf8View, an Int32 key column).
    let typed = |v: ScalarValue| match &target_type {
        Some(t) if &v.data_type() != t => v.cast_to(t).ok(),
        _ => Some(v),
    };
    Ok(typed(low)
        .zip(typed(high))
        .map(|(low, high)| col(key).between(lit(low), lit(high))))
}

/// Classifies the load against the target: new, changed (and where it lives), unchanged.
async fn plan_merge(
    store: &dyn TableStore,
    table: &TableName,
    req: &WriteRequest<'_>,
    has_hash: bool,
) -> Result<MergePlan> {
    // Opened once: its schema types the keys, and the same snapshot is scanned.
    let provider = store
        .provider(table)
        .await?
        .ok_or_else(|| phlo_core::Error::internal("merge target vanished"))?;
    let provider_schema = provider.schema();
    let target_types: Vec<Option<arrow::datatypes::DataType>> = req
        .key
        .iter()
        .map(|k| {
            provider_schema
                .field_with_name(k)
                .ok()
                .map(|f| f.data_type().clone())
        })
        .collect();
    let mut rule = MergeRule::new(&req.load, req.key, &target_types)?;
    let target_has_hash = has_hash && table_has_column(&provider_schema, ROW_HASH);
    let physical = req
        .layout
        .partition_columns
        .first()
        .map(String::as_str)
        .filter(|p| table_has_column(&provider_schema, p));
    let mut columns: Vec<&str> = req.key.to_vec();
    if target_has_hash {
        columns.push(ROW_HASH);
    }
    if let Some(p) = physical {
        columns.push(p);
    }
    let n_keys = req.key.len();
    // Only target rows whose key lies between the load's smallest and largest can match:
    // files whose key statistics fall outside are never read (keys that grow with time,
    // as most do, make a day's merge read only the files that can hold its keys).
    let range = match req.key {
        [k] => key_range(&req.load, k, target_types.first().cloned().flatten())?,
        _ => None,
    };
    scan(provider, table, &columns, None, range, |b| {
        let keys = &b.columns()[..n_keys];
        let hashes = target_has_hash.then(|| b.column(n_keys));
        let partitions = physical.map(|_| b.column(b.num_columns() - 1));
        rule.observe(keys, hashes, partitions)
    })
    .await?;
    rule.finish()
}

#[cfg(test)]
mod tests;
