//! phlo's own copy-on-write merge (ADR 0003): instead of deltalake's MERGE (a join of the
//! whole scoped target with the source, repartitioned, then one writer per partition),
//! the files that hold a matched key are found with a key-column-only read, rewritten
//! without their matched rows in parallel (one task per file, memory bounded by a file),
//! the source is written next to them, and one commit removes the old files and adds the
//! new ones, with the run's app transaction — the same single atomic commit.
//!
//! Used for the common case only; [`plan`] says when deltalake's MERGE must do it
//! instead (schema changes, column mapping, deletion vectors, unexpected partitioning).

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use arrow::array::{Array, ArrayRef, BooleanArray, Date32Array, RecordBatch, new_null_array};
use arrow::compute::{cast, filter_record_batch};
use arrow::datatypes::{DataType, Date32Type, SchemaRef};
use arrow_row::{RowConverter, SortField};
use chrono::NaiveDate;
use deltalake::DeltaTable;
use deltalake::datafile::writer::{DeltaWriter, WriterConfig};
use deltalake::kernel::Action;
use deltalake::kernel::transaction::{CommitBuilder, CommitProperties};
use deltalake::logstore::ObjectStoreRef;
use deltalake::operations::write::configs::WriterStatsConfig;
use deltalake::parquet::arrow::ProjectionMask;
use deltalake::parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use deltalake::parquet::file::properties::WriterProperties;
use deltalake::protocol::{DeltaOperation, MergePredicate};
use futures::{StreamExt, TryStreamExt};

use super::PartitionScope;
use crate::metadata::PARTITION_DATE;
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
    /// Its partition date (`None`: unpartitioned table, or a null partition).
    date: Option<NaiveDate>,
    /// The Remove action, should it be rewritten.
    remove: deltalake::kernel::Remove,
}

/// The copy-on-write plan: `None` when deltalake's MERGE must handle this write.
pub struct Plan {
    schema: SchemaRef,
    partitioned: bool,
    candidates: Vec<Candidate>,
    writer: WriterConfig,
    store: ObjectStoreRef,
}

/// Decides whether the copy-on-write path applies, and lists the files it may rewrite:
/// those of `target_partitions` (all files when `None`).
pub async fn plan(
    table: &str,
    delta: &DeltaTable,
    root: &Path,
    source: &RecordBatch,
    target_partitions: Option<&[PartitionScope]>,
    writer_properties: WriterProperties,
) -> Result<Option<Plan>> {
    let storage = |e| Error::storage(table, e);
    let state = delta.snapshot().map_err(storage)?;
    let metadata = state.metadata();
    let partition_columns: Vec<String> = metadata.partition_columns().to_vec();
    let partitioned = match partition_columns.as_slice() {
        [] => false,
        [p] if p == PARTITION_DATE => true,
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
    if partitioned
        && schema
            .field_with_name(PARTITION_DATE)
            .map(|f| f.data_type() != &DataType::Date32)
            .unwrap_or(true)
    {
        return Ok(None);
    }
    let wanted: Option<HashSet<Option<NaiveDate>>> = target_partitions.map(|scopes| {
        scopes
            .iter()
            .map(|s| match s {
                PartitionScope::Date(d) => Some(*d),
                PartitionScope::Unpartitioned => None,
            })
            .collect()
    });
    let mut candidates = Vec::new();
    let mut files = delta.get_active_add_actions_by_partitions(&[]);
    while let Some(file) = files.try_next().await.map_err(storage)? {
        if file.deletion_vector_descriptor().is_some() {
            return Ok(None);
        }
        let date = match file
            .partition_values_map()
            .get(PARTITION_DATE)
            .cloned()
            .flatten()
        {
            Some(v) => Some(
                v.parse::<NaiveDate>()
                    .map_err(|e| Error::internal(format!("partition value {v:?}: {e}")))?,
            ),
            None => None,
        };
        if wanted.as_ref().is_some_and(|w| !w.contains(&date)) {
            continue;
        }
        candidates.push(Candidate {
            local: root.join(file.path().as_ref()),
            date,
            remove: file.remove_action(true),
        });
    }
    let stats = WriterStatsConfig::from_config(state.snapshot().table_configuration());
    let writer = WriterConfig::new(
        schema.clone(),
        partition_columns,
        Some(writer_properties),
        None,
        None,
        stats.num_indexed_cols,
        stats.stats_columns,
    );
    Ok(Some(Plan {
        schema,
        partitioned,
        candidates,
        writer,
        store: delta.object_store(),
    }))
}

/// `batch` in the table's schema: columns by name, cast to the table's types; columns the
/// file predates are null; the partition column is the file's partition value.
fn to_table_schema(
    schema: &SchemaRef,
    batch: &RecordBatch,
    partitioned: bool,
    date: Option<NaiveDate>,
) -> Result<RecordBatch> {
    let n = batch.num_rows();
    let mut columns: Vec<ArrayRef> = Vec::with_capacity(schema.fields().len());
    for field in schema.fields() {
        let column = if partitioned && field.name() == PARTITION_DATE {
            let day = date.map(Date32Type::from_naive_date);
            Arc::new(Date32Array::from(vec![day; n])) as ArrayRef
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

/// The row encoder of the key columns (same encoding on both sides).
fn key_converter(schema: &SchemaRef, keys: &[String]) -> Result<(RowConverter, Vec<usize>)> {
    let mut fields = Vec::with_capacity(keys.len());
    let mut indices = Vec::with_capacity(keys.len());
    for k in keys {
        let i = schema
            .index_of(k)
            .map_err(|_| Error::internal(format!("merge key `{k}` is not a table column")))?;
        fields.push(SortField::new(schema.field(i).data_type().clone()));
        indices.push(i);
    }
    Ok((RowConverter::new(fields)?, indices))
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

fn read_error(path: &Path, e: impl std::fmt::Display) -> Error {
    Error::internal(format!("reading {}: {e}", path.display()))
}

/// Rewrites `c` without the rows whose key is in `source_keys`; leaves it alone when it
/// holds none of them.
async fn rewrite_file(
    c: Candidate,
    plan: Arc<PlanShared>,
    source_keys: Arc<HashSet<Vec<u8>>>,
) -> Result<FileOutcome> {
    let bytes = tokio::fs::read(&c.local)
        .await
        .map_err(|e| read_error(&c.local, e))?;
    let bytes = bytes::Bytes::from(bytes);
    // Pass 1: the key columns only.
    let builder = ParquetRecordBatchReaderBuilder::try_new(bytes.clone())
        .map_err(|e| read_error(&c.local, e))?;
    let file_schema = builder.schema().clone();
    let key_leaves: Vec<usize> = plan
        .key_indices
        .iter()
        .filter_map(|&i| file_schema.index_of(plan.schema.field(i).name()).ok())
        .collect();
    if key_leaves.len() != plan.key_indices.len() {
        return Err(Error::internal(format!(
            "{} lacks a key column",
            c.local.display()
        )));
    }
    let mask = ProjectionMask::roots(builder.parquet_schema(), key_leaves);
    let reader = builder
        .with_projection(mask)
        .with_batch_size(READ_BATCH_ROWS)
        .build()
        .map_err(|e| read_error(&c.local, e))?;
    let converter = plan.converter()?;
    let mut drop_rows: Vec<BooleanArray> = Vec::new();
    let mut matched = 0u64;
    for batch in reader {
        let batch = batch?;
        let keys = key_columns(&batch, &plan.key_indices, &plan.schema)?;
        let rows = converter.convert_columns(&keys)?;
        let keep: BooleanArray = (0..rows.num_rows())
            .map(|r| Some(!source_keys.contains(rows.row(r).data())))
            .collect();
        matched += keep.false_count() as u64;
        drop_rows.push(keep);
    }
    if matched == 0 {
        return Ok(FileOutcome {
            remove: None,
            adds: Vec::new(),
            matched: 0,
            copied: 0,
        });
    }
    // Pass 2: every column, minus the matched rows, into a new file.
    let reader = ParquetRecordBatchReaderBuilder::try_new(bytes)
        .map_err(|e| read_error(&c.local, e))?
        .with_batch_size(READ_BATCH_ROWS)
        .build()
        .map_err(|e| read_error(&c.local, e))?;
    let mut writer = DeltaWriter::new(plan.store.clone(), plan.writer.clone());
    let mut copied = 0u64;
    for (batch, keep) in reader.zip(drop_rows) {
        let kept = filter_record_batch(&batch?, &keep)?;
        if kept.num_rows() == 0 {
            continue;
        }
        copied += kept.num_rows() as u64;
        let kept = to_table_schema(&plan.schema, &kept, plan.partitioned, c.date)?;
        writer
            .write(&kept)
            .await
            .map_err(|e| Error::storage(&plan.table, e))?;
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

/// What every file task shares.
struct PlanShared {
    table: String,
    schema: SchemaRef,
    partitioned: bool,
    writer: WriterConfig,
    store: ObjectStoreRef,
    key_indices: Vec<usize>,
    key_fields: Vec<SortField>,
}

impl PlanShared {
    fn converter(&self) -> Result<RowConverter> {
        Ok(RowConverter::new(self.key_fields.clone())?)
    }
}

/// Runs `plan`: rewrites the touched files and writes `source` (in the table's schema,
/// keys unique), then commits removes and adds in one commit with `props`.
pub async fn execute(
    table: &str,
    delta: &DeltaTable,
    plan: Plan,
    source: RecordBatch,
    keys: &[String],
    props: CommitProperties,
    predicate: String,
) -> Result<Rewritten> {
    let storage = |e| Error::storage(table, e);
    let (converter, key_indices) = key_converter(&plan.schema, keys)?;
    let source = to_table_schema_source(&plan.schema, &source)?;
    let source_keys: HashSet<Vec<u8>> = {
        let rows = converter.convert_columns(&key_columns(&source, &key_indices, &plan.schema)?)?;
        (0..rows.num_rows())
            .map(|r| rows.row(r).data().to_vec())
            .collect()
    };
    let source_keys = Arc::new(source_keys);
    let key_fields = key_indices
        .iter()
        .map(|&i| SortField::new(plan.schema.field(i).data_type().clone()))
        .collect();
    let shared = Arc::new(PlanShared {
        table: table.to_string(),
        schema: plan.schema.clone(),
        partitioned: plan.partitioned,
        writer: plan.writer.clone(),
        store: plan.store.clone(),
        key_indices,
        key_fields,
    });
    let workers = std::thread::available_parallelism().map_or(1, |n| n.get());

    // The source, written while the first files are rewritten.
    let source_rows = source.num_rows() as u64;
    let source_task = {
        let shared = shared.clone();
        tokio::spawn(async move {
            let mut writer = DeltaWriter::new(shared.store.clone(), shared.writer.clone());
            let mut offset = 0;
            while offset < source.num_rows() {
                let len = READ_BATCH_ROWS.min(source.num_rows() - offset);
                writer
                    .write(&source.slice(offset, len))
                    .await
                    .map_err(|e| Error::storage(&shared.table, e))?;
                offset += len;
            }
            writer
                .close()
                .await
                .map_err(|e| Error::storage(&shared.table, e))
        })
    };
    let outcomes: Vec<FileOutcome> = futures::stream::iter(plan.candidates)
        .map(|c| {
            let shared = shared.clone();
            let keys = source_keys.clone();
            tokio::spawn(rewrite_file(c, shared, keys))
        })
        .buffer_unordered(workers)
        .map(|joined| match joined {
            Ok(r) => r,
            Err(e) => Err(Error::internal(format!("a rewrite task failed: {e}"))),
        })
        .try_collect()
        .await?;
    let source_adds = source_task
        .await
        .map_err(|e| Error::internal(format!("the source write task failed: {e}")))??;

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
    Ok(Rewritten {
        version,
        inserted: source_rows.saturating_sub(updated),
        updated,
        copied,
    })
}

/// The source in the table's schema (same columns, the table's types and field order).
fn to_table_schema_source(schema: &SchemaRef, source: &RecordBatch) -> Result<RecordBatch> {
    let mut columns = Vec::with_capacity(schema.fields().len());
    for field in schema.fields() {
        let c = source
            .column_by_name(field.name())
            .ok_or_else(|| Error::internal(format!("source lacks `{}`", field.name())))?;
        columns.push(if c.data_type() == field.data_type() {
            c.clone()
        } else {
            cast(c, field.data_type())?
        });
    }
    Ok(RecordBatch::try_new(schema.clone(), columns)?)
}
