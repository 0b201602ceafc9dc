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

use arrow::array::{Array, AsArray, BooleanArray, RecordBatch};
use arrow::compute::filter_record_batch;
use arrow_row::{RowConverter, SortField};
use datafusion::prelude::SessionContext;
use futures::StreamExt;
use hashbrown::HashMap;
use phlo_core::metadata::ROW_HASH;
use phlo_core::names::TableName;
use phlo_core::spec::MergeStrategy;
use phlo_core::storage::{
    CommitTag, PartitionScope, ReadVersion, TableLayout, TableStore, Write, WriteOp,
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
}

fn query_err(table: &TableName) -> impl Fn(datafusion::error::DataFusionError) -> Error + '_ {
    move |source| Error::Query {
        table: table.to_string(),
        source: Box::new(source),
    }
}

/// Streams `columns` of `table`, optionally restricted to `scope`, into `visit`.
async fn scan(
    store: &dyn TableStore,
    table: &TableName,
    columns: &[&str],
    scope: Option<&PartitionScope>,
    mut visit: impl FnMut(&RecordBatch) -> Result<()>,
) -> Result<()> {
    let Some(provider) = store.provider(table).await? else {
        return Ok(());
    };
    let ctx = SessionContext::new();
    let mut df = ctx.read_table(provider).map_err(query_err(table))?;
    if let Some(scope @ PartitionScope::Key { .. }) = scope {
        df = df.filter(scope.predicate()).map_err(query_err(table))?;
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

/// Plans and applies `req` in one commit (or none when nothing changes). When a concurrent
/// writer commits first and Delta reports a conflict, the write is planned again against the
/// new table state and retried, up to [`MAX_CONFLICT_RETRIES`] times. When storage fails
/// during the commit, the table's application transaction tells whether the commit
/// landed: if it did, the write is done (a landed commit is never applied twice); if not,
/// it is tried again up to [`MAX_STORAGE_RETRIES`] times. Never a partial write.
pub async fn write(store: &dyn TableStore, req: WriteRequest<'_>) -> Result<WriteSummary> {
    let (mut conflicts, mut failures) = (0, 0);
    loop {
        match write_once(store, &req).await? {
            Attempt::Done(summary) => return Ok(summary),
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

async fn write_once(store: &dyn TableStore, req: &WriteRequest<'_>) -> Result<Attempt> {
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
                return Ok(Attempt::Done(summary));
            }
            WriteOp::Merge {
                source: plan.source,
                keys: req.key.iter().map(|k| k.to_string()).collect(),
                target_partitions: Some(plan.target_partitions),
            }
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
                    return Ok(Attempt::Done(summary));
                }
            }
            summary.rows_inserted = req.load.num_rows() as u64;
            WriteOp::ReplacePartition {
                batches: vec![req.load.clone()],
                scope: req.scope.clone(),
            }
        }
    };
    let txn_version = store
        .app_transaction(table, &req.app_id)
        .await?
        .map_or(1, |v| v + 1);
    let committed = store
        .commit(
            table,
            Write {
                op,
                layout: req.layout.clone(),
                allow_new_columns: req.allow_new_columns,
                tag: CommitTag {
                    app_id: req.app_id.clone(),
                    txn_version,
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

/// Read access to a string column of either layout, without copying it.
enum Strings<'a> {
    Utf8(&'a arrow::array::StringArray),
    View(&'a arrow::array::StringViewArray),
}

impl<'a> Strings<'a> {
    fn of(array: &'a dyn Array) -> Option<Self> {
        array
            .as_string_opt::<i32>()
            .map(Strings::Utf8)
            .or_else(|| array.as_string_view_opt().map(Strings::View))
    }

    fn get(&self, i: usize) -> Option<&'a str> {
        match self {
            Strings::Utf8(a) => a.is_valid(i).then(|| a.value(i)),
            Strings::View(a) => a.is_valid(i).then(|| a.value(i)),
        }
    }
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
    scan(store, table, columns, Some(scope), |b| {
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

/// Classifies the load against the target: new, changed (and where it lives), unchanged.
async fn plan_merge(
    store: &dyn TableStore,
    table: &TableName,
    req: &WriteRequest<'_>,
    has_hash: bool,
) -> Result<MergePlan> {
    let load = &req.load;
    let provider_schema = match store.provider(table).await? {
        Some(p) => p.schema(),
        None => return Err(phlo_core::Error::internal("merge target vanished").into()),
    };
    // Keys are encoded in the target's types (e.g. Utf8View as read back): the 1M-row load
    // is cast once instead of every scanned target batch.
    let key_cols: Vec<Arc<dyn Array>> = req
        .key
        .iter()
        .map(|k| {
            let column = load.column_by_name(k).ok_or_else(|| {
                Error::Core(phlo_core::Error::internal(format!(
                    "key column `{k}` missing from load"
                )))
            })?;
            match provider_schema.field_with_name(k) {
                Ok(f) if f.data_type() != column.data_type() => {
                    Ok(arrow::compute::cast(column, f.data_type())?)
                }
                _ => Ok(column.clone()),
            }
        })
        .collect::<Result<_>>()?;
    let converter = RowConverter::new(
        key_cols
            .iter()
            .map(|c| SortField::new(c.data_type().clone()))
            .collect(),
    )?;
    // One string key (the common case) is looked up as text; other keys as arrow-row bytes.
    let load_strings = match key_cols.as_slice() {
        [c] if c.null_count() == 0 => Strings::of(c.as_ref()),
        _ => None,
    };
    let load_rows = match load_strings {
        Some(_) => None,
        None => Some(converter.convert_columns(&key_cols)?),
    };
    let mut index: HashMap<&[u8], u32> = HashMap::with_capacity(load.num_rows());
    match (&load_strings, &load_rows) {
        (Some(strings), _) => {
            for i in 0..load.num_rows() {
                if let Some(k) = strings.get(i) {
                    index.insert(k.as_bytes(), i as u32);
                }
            }
        }
        (None, Some(rows)) => {
            for i in 0..rows.num_rows() {
                index.insert(rows.row(i).data(), i as u32);
            }
        }
        (None, None) => {}
    }
    // Compared as hex text: parsing millions of target hashes back to numbers costs more.
    let load_hash_column = match load.column_by_name(ROW_HASH) {
        Some(c) => Some(utf8(c)?),
        None => None,
    };
    let load_hashes = load_hash_column
        .as_ref()
        .and_then(|c| c.as_string_opt::<i32>());
    // 0 = new, 1 = changed, 2 = unchanged
    let mut state = vec![0u8; load.num_rows()];
    let mut partitions: BTreeSet<Option<String>> = BTreeSet::new();

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
    scan(store, table, &columns, None, |b| {
        let target_keys: Vec<Arc<dyn Array>> = b.columns()[..n_keys]
            .iter()
            .zip(&key_cols)
            .map(|(t, l)| {
                if t.data_type() == l.data_type() {
                    Ok(t.clone())
                } else {
                    arrow::compute::cast(t, l.data_type())
                }
            })
            .collect::<std::result::Result<_, _>>()?;
        let target_strings = match (&load_strings, target_keys.as_slice()) {
            (Some(_), [c]) => Strings::of(c.as_ref()),
            _ => None,
        };
        let rows = match target_strings {
            Some(_) => None,
            None => Some(converter.convert_columns(&target_keys)?),
        };
        let hashes = if target_has_hash {
            Strings::of(b.column(n_keys).as_ref())
        } else {
            None
        };
        // Physical partition values as Delta writes them (`2025-01-15`, `eu`).
        let physical_values = match physical {
            Some(_) => Some(utf8(b.column(b.num_columns() - 1))?),
            None => None,
        };
        let physical_values = physical_values
            .as_ref()
            .and_then(|c| c.as_string_opt::<i32>());
        for i in 0..b.num_rows() {
            let key = match (&target_strings, &rows) {
                (Some(t), _) => t.get(i).map(str::as_bytes),
                (None, Some(r)) => Some(r.row(i).data()),
                (None, None) => None,
            };
            let Some(&j) = key.and_then(|k| index.get(k)) else {
                continue;
            };
            let same = match (&hashes, load_hashes) {
                (Some(h), Some(l)) => h.get(i) == Some(l.value(j as usize)),
                _ => false,
            };
            if same {
                state[j as usize] = 2;
            } else {
                state[j as usize] = 1;
                partitions.insert(
                    physical_values.and_then(|d| d.is_valid(i).then(|| d.value(i).to_string())),
                );
            }
        }
        Ok(())
    })
    .await?;
    let unchanged = state.iter().filter(|s| **s == 2).count() as u64;
    let changed = state.iter().filter(|s| **s == 1).count() as u64;
    let new = state.iter().filter(|s| **s == 0).count() as u64;
    let mask = BooleanArray::from(state.iter().map(|s| *s != 2).collect::<Vec<_>>());
    let source = filter_record_batch(load, &mask)?;
    Ok(MergePlan {
        source,
        unchanged,
        new,
        changed,
        target_partitions: partitions.into_iter().collect(),
    })
}
