//! phlo's own writes of data files (ADR 0003): the copy-on-write merge and the parallel
//! create.
//!
//! **Merge by copy-on-write**: instead of deltalake's MERGE (a join of the whole scoped
//! target with the source, repartitioned, then one writer per partition), each candidate
//! file is streamed once and rewritten without its matched rows — files in parallel, one
//! task per file, so memory is bounded by a file; a file without a matched key is left
//! alone. The source is written next to them, and one commit removes the old files and
//! adds the new ones with the run's app transaction: the same single atomic commit.
//! [`plan`] says when deltalake's MERGE must do it instead (schema changes, column
//! mapping, deletion vectors, more than one partition column).
//!
//! **Create**: a merge into a table that does not exist yet encodes its files with one
//! writer per core and commits protocol, metadata and adds together ([`create`]).

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use arrow::array::{Array, ArrayRef, RecordBatch, StringArray, new_null_array};
use arrow::compute::{cast, filter_record_batch};
use arrow::datatypes::{DataType, SchemaRef};
use deltalake::DeltaTable;
use deltalake::datafile::writer::{DeltaWriter, WriterConfig};
use deltalake::kernel::Action;
use deltalake::kernel::transaction::{CommitBuilder, CommitProperties};
use deltalake::logstore::ObjectStoreRef;
use deltalake::operations::write::configs::WriterStatsConfig;
use deltalake::parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use deltalake::protocol::{DeltaOperation, MergePredicate};
use futures::TryStreamExt;
use tokio::task::JoinSet;

use super::encoding::writer_properties;
use crate::keys::KeyIndex;
use crate::names::TableName;
use crate::storage::TableLayout;
use crate::{Error, Result};

/// Rows per decoded batch when reading a target file.
const READ_BATCH_ROWS: usize = 64 * 1024;

/// What the rewrite did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rewritten {
    /// The version the commit created.
    pub version: i64,
    /// Source rows whose key was not in the table.
    pub inserted: u64,
    /// Target rows replaced by a source row.
    pub updated: u64,
    /// Target rows copied unchanged into rewritten files.
    pub copied: u64,
}

/// One target file the merge may touch.
struct Candidate {
    /// Its path on disk.
    local: PathBuf,
    /// Its value of the partition column (`None`: unpartitioned table, or a null value).
    partition: Option<String>,
    /// The Remove action, should it be rewritten.
    remove: deltalake::kernel::Remove,
}

/// The copy-on-write plan: the table's schema and writer settings, and the files the
/// merge may rewrite.
pub struct Plan {
    schema: SchemaRef,
    /// The table's one partition column, if any.
    partition_column: Option<String>,
    candidates: Vec<Candidate>,
    writer: WriterConfig,
    store: ObjectStoreRef,
}

/// Decides whether the copy-on-write path applies (`None`: deltalake's MERGE must handle
/// this write), and lists the files it may rewrite: those of `target_partitions` (values
/// of the table's partition column; all files when `None`).
pub(super) async fn plan(
    table: &TableName,
    delta: &DeltaTable,
    root: &Path,
    source: &RecordBatch,
    target_partitions: Option<&[Option<String>]>,
    layout: &TableLayout,
) -> Result<Option<Plan>> {
    let storage = |e| Error::storage(table, e);
    let state = delta.snapshot().map_err(storage)?;
    let metadata = state.metadata();
    let partition_columns: Vec<String> = metadata.partition_columns().to_vec();
    let partition_column = match partition_columns.as_slice() {
        [] => None,
        [p] => Some(p.clone()),
        _ => return Ok(None),
    };
    if metadata
        .configuration()
        .get("delta.columnMapping.mode")
        .is_some_and(|m| m != "none")
    {
        return Ok(None);
    }
    let schema = state.snapshot().arrow_schema();
    // Same columns on both sides (a schema change goes through MERGE's schema merge).
    let names = |s: &arrow::datatypes::Schema| -> HashSet<String> {
        s.fields().iter().map(|f| f.name().clone()).collect()
    };
    if names(&schema) != names(&source.schema()) {
        return Ok(None);
    }
    let wanted: Option<HashSet<Option<String>>> =
        target_partitions.map(|values| values.iter().cloned().collect());
    let mut candidates = Vec::new();
    let mut files = delta.get_active_add_actions_by_partitions(&[]);
    while let Some(file) = files.try_next().await.map_err(storage)? {
        if file.deletion_vector_descriptor().is_some() {
            return Ok(None);
        }
        let partition = partition_column
            .as_ref()
            .and_then(|p| file.partition_values_map().get(p).cloned().flatten());
        if wanted.as_ref().is_some_and(|w| !w.contains(&partition)) {
            continue;
        }
        candidates.push(Candidate {
            local: root.join(file.path().as_ref()),
            partition,
            remove: file.remove_action(true),
        });
    }
    let stats = WriterStatsConfig::from_config(state.snapshot().table_configuration());
    let writer = WriterConfig::new(
        schema.clone(),
        partition_columns,
        Some(writer_properties(layout)),
        None,
        None,
        stats.num_indexed_cols,
        stats.stats_columns,
    );
    Ok(Some(Plan {
        schema,
        partition_column,
        candidates,
        writer,
        store: delta.object_store(),
    }))
}

/// `batch` in the table's schema: columns by name, cast to the table's types; columns the
/// file predates are null; the partition column, when given, is the file's partition value
/// (Delta keeps it out of the data files).
fn to_table_schema(
    schema: &SchemaRef,
    batch: &RecordBatch,
    partition: Option<(&str, Option<&str>)>,
) -> Result<RecordBatch> {
    let n = batch.num_rows();
    let mut columns: Vec<ArrayRef> = Vec::with_capacity(schema.fields().len());
    for field in schema.fields() {
        let column = if let Some((_, value)) = partition.filter(|(c, _)| c == field.name()) {
            match value {
                Some(v) => cast(
                    &(Arc::new(StringArray::from(vec![v; n])) as ArrayRef),
                    field.data_type(),
                )?,
                None => new_null_array(field.data_type(), n),
            }
        } else {
            match batch.column_by_name(field.name()) {
                Some(c) if c.data_type() == field.data_type() => c.clone(),
                Some(c) => cast(c, field.data_type())?,
                None => new_null_array(field.data_type(), n),
            }
        };
        columns.push(column);
    }
    Ok(RecordBatch::try_new(schema.clone(), columns)?)
}

/// Positions of the key columns in the table's schema.
fn key_indices(schema: &SchemaRef, keys: &[String]) -> Result<Vec<usize>> {
    keys.iter()
        .map(|k| {
            schema
                .index_of(k)
                .map_err(|_| Error::internal(format!("merge key `{k}` is not a table column")))
        })
        .collect()
}

fn key_columns(
    batch: &RecordBatch,
    indices: &[usize],
    schema: &SchemaRef,
) -> Result<Vec<ArrayRef>> {
    indices
        .iter()
        .map(|&i| {
            let name = schema.field(i).name();
            let c = batch
                .column_by_name(name)
                .ok_or_else(|| Error::internal(format!("file without key column `{name}`")))?;
            let want = schema.field(i).data_type();
            Ok(if c.data_type() == want {
                c.clone()
            } else {
                cast(c, want)?
            })
        })
        .collect()
}

/// One rewritten file: its Adds, how many rows it lost and kept.
struct FileOutcome {
    remove: Option<deltalake::kernel::Remove>,
    adds: Vec<deltalake::kernel::Add>,
    matched: u64,
    copied: u64,
}

fn read_error(table: &str, path: &Path, e: impl std::fmt::Display) -> Error {
    Error::DataFile {
        table: table.to_string(),
        path: path.display().to_string(),
        reason: e.to_string(),
    }
}

/// Rewrites `c` without the rows whose key is in `source_keys`, in one streaming pass;
/// leaves it alone (and drops what was encoded) when it holds none of them.
async fn rewrite_file(
    c: Candidate,
    plan: Arc<PlanShared>,
    source_keys: Arc<KeyIndex>,
) -> Result<FileOutcome> {
    let bytes = tokio::fs::read(&c.local)
        .await
        .map_err(|e| read_error(&plan.table, &c.local, e))?;
    let reader = ParquetRecordBatchReaderBuilder::try_new(bytes::Bytes::from(bytes))
        .map_err(|e| read_error(&plan.table, &c.local, e))?
        .with_batch_size(READ_BATCH_ROWS)
        .build()
        .map_err(|e| read_error(&plan.table, &c.local, e))?;
    let mut writer = DeltaWriter::new(plan.store.clone(), plan.writer.clone());
    let (mut matched, mut copied) = (0u64, 0u64);
    for batch in reader {
        let batch = batch.map_err(|e| read_error(&plan.table, &c.local, e))?;
        let keep = source_keys.keep_mask(&key_columns(&batch, &plan.key_indices, &plan.schema)?)?;
        matched += keep.false_count() as u64;
        let kept = filter_record_batch(&batch, &keep)?;
        if kept.num_rows() == 0 {
            continue;
        }
        copied += kept.num_rows() as u64;
        let partition = plan
            .partition_column
            .as_deref()
            .map(|p| (p, c.partition.as_deref()));
        let kept = to_table_schema(&plan.schema, &kept, partition)?;
        writer
            .write(&kept)
            .await
            .map_err(|e| Error::storage(&plan.table, e))?;
    }
    if matched == 0 {
        writer
            .abort()
            .await
            .map_err(|e| Error::storage(&plan.table, e))?;
        return Ok(FileOutcome {
            remove: None,
            adds: Vec::new(),
            matched: 0,
            copied: 0,
        });
    }
    let adds = writer
        .close()
        .await
        .map_err(|e| Error::storage(&plan.table, e))?;
    Ok(FileOutcome {
        remove: Some(c.remove),
        adds,
        matched,
        copied,
    })
}

/// What a task of the rewrite produced.
enum Done {
    /// The source's files.
    Source(Vec<deltalake::kernel::Add>),
    /// One candidate file, rewritten or left alone.
    File(Box<FileOutcome>),
}

/// What every file task shares.
struct PlanShared {
    table: String,
    schema: SchemaRef,
    partition_column: Option<String>,
    writer: WriterConfig,
    store: ObjectStoreRef,
    key_indices: Vec<usize>,
}

/// Runs `plan`: rewrites the touched files and writes `source` (in the table's schema,
/// keys unique), then commits removes and adds in one commit with `props`.
pub(super) async fn execute(
    table: &TableName,
    delta: &DeltaTable,
    plan: Plan,
    source: RecordBatch,
    keys: &[String],
    props: CommitProperties,
) -> Result<(Rewritten, DeltaTable)> {
    let storage = |e| Error::storage(table, e);
    let predicate = keys
        .iter()
        .map(|k| format!("target.{k} = source.{k}"))
        .collect::<Vec<_>>()
        .join(" AND ");
    let key_indices = key_indices(&plan.schema, keys)?;
    // Same columns (checked by `plan`), in the table's order and types.
    let source = to_table_schema(&plan.schema, &source, None)?;
    let source_keys = Arc::new(KeyIndex::build(&key_columns(
        &source,
        &key_indices,
        &plan.schema,
    )?)?);
    let shared = Arc::new(PlanShared {
        table: table.to_string(),
        schema: plan.schema.clone(),
        partition_column: plan.partition_column.clone(),
        writer: plan.writer.clone(),
        store: plan.store.clone(),
        key_indices,
    });
    let workers = crate::parallel::cores();

    // The source, written by one writer while the files are rewritten (the cores are
    // busy with those; more writers would only hold more buffers at once).
    // Every task lives in one JoinSet: if this write is abandoned (a timeout, an error of
    // another task), dropping the set aborts them all, so no writer outlives the write.
    let source_rows = source.num_rows() as u64;
    let mut tasks: JoinSet<Result<Done>> = JoinSet::new();
    {
        let (table, store, writer) = (table.to_string(), plan.store.clone(), plan.writer.clone());
        tasks.spawn(async move {
            write_files(table, store, writer, source, 1)
                .await
                .map(Done::Source)
        });
    }
    let mut pending = plan.candidates.into_iter();
    let mut outcomes: Vec<FileOutcome> = Vec::new();
    let mut source_adds = Vec::new();
    loop {
        // The source writer plus up to one rewrite per core.
        while tasks.len() <= workers {
            let Some(c) = pending.next() else { break };
            let (shared, keys) = (shared.clone(), source_keys.clone());
            tasks.spawn(async move {
                rewrite_file(c, shared, keys)
                    .await
                    .map(|o| Done::File(Box::new(o)))
            });
        }
        let Some(joined) = tasks.join_next().await else {
            break;
        };
        match joined.map_err(|e| Error::internal(format!("a rewrite task failed: {e}")))?? {
            Done::Source(adds) => source_adds = adds,
            Done::File(o) => outcomes.push(*o),
        }
    }
    // Completion order is not deterministic; the commit's actions are.
    outcomes.sort_by(|a, b| {
        let path = |o: &FileOutcome| o.remove.as_ref().map(|r| r.path.clone());
        path(a).cmp(&path(b))
    });

    let mut actions: Vec<Action> = Vec::new();
    let (mut updated, mut copied) = (0u64, 0u64);
    for o in outcomes {
        updated += o.matched;
        copied += o.copied;
        if let Some(r) = o.remove {
            actions.push(Action::Remove(r));
        }
        actions.extend(o.adds.into_iter().map(Action::Add));
    }
    actions.extend(source_adds.into_iter().map(Action::Add));
    let operation = DeltaOperation::Merge {
        predicate: Some(predicate.clone()),
        merge_predicate: Some(predicate),
        matched_predicates: vec![MergePredicate {
            action_type: "update".into(),
            predicate: None,
        }],
        not_matched_predicates: vec![MergePredicate {
            action_type: "insert".into(),
            predicate: None,
        }],
        not_matched_by_source_predicates: Vec::new(),
    };
    let state = delta.snapshot().map_err(storage)?;
    let commit = CommitBuilder::from(props)
        .with_actions(actions)
        .build(Some(state), delta.log_store(), operation)
        .await
        .map_err(|e| Error::commit(table, e))?;
    let version = i64::try_from(commit.version())
        .map_err(|_| Error::internal("table version out of range"))?;
    // The table as of the commit: the state deltalake brought forward while committing.
    let mut after = delta.clone();
    after.state = Some(commit.snapshot());
    Ok((
        Rewritten {
            version,
            inserted: source_rows.saturating_sub(updated),
            updated,
            copied,
        },
        after,
    ))
}

/// Rows below which one writer is enough.
const PARALLEL_WRITE_ROWS: usize = 128 * 1024;

/// Writes `batch` (the table's full schema, partition columns included) as data files,
/// up to `max_writers` writers over contiguous slices, so the Parquet encoding of one
/// partition can be spread over the cores instead of running on one. Returns the Adds.
async fn write_files(
    table: String,
    store: ObjectStoreRef,
    config: WriterConfig,
    batch: RecordBatch,
    max_writers: usize,
) -> Result<Vec<deltalake::kernel::Add>> {
    let rows = batch.num_rows();
    let workers = max_writers.min(rows.div_ceil(PARALLEL_WRITE_ROWS)).max(1);
    let per = rows.div_ceil(workers).max(1);
    let mut tasks: JoinSet<Result<(usize, Vec<deltalake::kernel::Add>)>> = JoinSet::new();
    let mut offset = 0;
    while offset < rows {
        let len = per.min(rows - offset);
        let slice = batch.slice(offset, len);
        let (store, config, table) = (store.clone(), config.clone(), table.clone());
        let at_offset = offset;
        tasks.spawn(async move {
            let mut writer = DeltaWriter::new(store, config);
            let mut at = 0;
            while at < slice.num_rows() {
                let n = READ_BATCH_ROWS.min(slice.num_rows() - at);
                writer
                    .write(&slice.slice(at, n))
                    .await
                    .map_err(|e| Error::storage(&table, e))?;
                at += n;
            }
            let adds = writer
                .close()
                .await
                .map_err(|e| Error::storage(&table, e))?;
            Ok((at_offset, adds))
        });
        offset += len;
    }
    let mut parts = Vec::new();
    while let Some(joined) = tasks.join_next().await {
        parts.push(joined.map_err(|e| Error::internal(format!("a write task failed: {e}")))??);
    }
    // In slice order, whatever order the writers finished in.
    parts.sort_by_key(|(at, _)| *at);
    Ok(parts.into_iter().flat_map(|(_, adds)| adds).collect())
}

/// Creates the table with `batch` as its first data, in one commit (protocol, metadata
/// and the data files' Adds), the files encoded in parallel; schemas with types deltalake
/// normalises first go through its own write path.
pub(super) async fn create(
    table: &TableName,
    delta: DeltaTable,
    batch: RecordBatch,
    layout: &TableLayout,
    props: CommitProperties,
) -> Result<DeltaTable> {
    use deltalake::kernel::StructType;
    use deltalake::kernel::engine::arrow_conversion::TryIntoKernel;
    let plain = batch.schema().fields().iter().all(|f| {
        matches!(
            f.data_type(),
            DataType::Utf8
                | DataType::Boolean
                | DataType::Int8
                | DataType::Int16
                | DataType::Int32
                | DataType::Int64
                | DataType::Float32
                | DataType::Float64
                | DataType::Date32
                | DataType::Timestamp(arrow::datatypes::TimeUnit::Microsecond, Some(_))
        )
    });
    let delta_schema: Option<StructType> = if plain {
        batch.schema().as_ref().try_into_kernel().ok()
    } else {
        None
    };
    let Some(delta_schema) = delta_schema else {
        return super::append::append(table, delta, vec![batch], layout, false, props).await;
    };
    let stats = WriterStatsConfig::new(Default::default(), None);
    let config = WriterConfig::new(
        batch.schema(),
        layout.partition_columns.clone(),
        Some(writer_properties(layout)),
        None,
        None,
        stats.num_indexed_cols,
        stats.stats_columns,
    );
    let adds = write_files(
        table.to_string(),
        delta.object_store(),
        config,
        batch,
        crate::parallel::cores(),
    )
    .await?;
    deltalake::operations::create::CreateBuilder::new()
        .with_log_store(delta.log_store())
        .with_columns(delta_schema.fields().cloned())
        .with_partition_columns(layout.partition_columns.clone())
        .with_configuration(super::created_table_configuration())
        .with_actions(adds.into_iter().map(Action::Add))
        .with_commit_properties(props)
        .await
        .map_err(|e| Error::commit(table, e))
}
