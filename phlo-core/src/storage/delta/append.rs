//! Write paths that add files: append, and replace a partition (or the whole table).

use arrow::record_batch::RecordBatch;
use deltalake::DeltaTable;
use deltalake::kernel::transaction::CommitProperties;
use deltalake::operations::write::SchemaMode;
use deltalake::protocol::SaveMode;

use super::encoding::writer_properties;
use crate::names::TableName;
use crate::storage::{PartitionScope, TableLayout};
use crate::{Error, Result};

/// Inserts `batches` in one commit (creating the table when it has no version yet).
pub(super) async fn append(
    table: &TableName,
    delta: DeltaTable,
    batches: Vec<RecordBatch>,
    layout: &TableLayout,
    allow_new_columns: bool,
    props: CommitProperties,
) -> Result<DeltaTable> {
    let creates = delta.version().is_none();
    let mut builder = delta
        .write(batches)
        .with_save_mode(SaveMode::Append)
        .with_partition_columns(layout.partition_columns.clone())
        .with_writer_properties(writer_properties(layout))
        .with_commit_properties(props);
    if creates {
        builder = builder.with_configuration(super::created_table_configuration());
    }
    if allow_new_columns {
        builder = builder.with_schema_mode(SchemaMode::Merge);
    }
    builder.await.map_err(|e| Error::commit(table, e))
}

/// Deletes the rows of `scope` and inserts `batches`, in one commit. With
/// `replace_schema` (only for [`PartitionScope::Whole`]) the table's schema becomes the
/// batches' in that commit: every row is rewritten, columns the batches lack are gone.
#[allow(clippy::too_many_arguments)]
pub(super) async fn replace(
    table: &TableName,
    delta: DeltaTable,
    batches: Vec<RecordBatch>,
    scope: &PartitionScope,
    layout: &TableLayout,
    allow_new_columns: bool,
    replace_schema: bool,
    props: CommitProperties,
) -> Result<DeltaTable> {
    let exists = delta.version().is_some();
    if replace_schema && !matches!(scope, PartitionScope::Whole) {
        return Err(Error::internal(format!(
            "replacing `{table}`'s schema needs the whole table rewritten, not one partition"
        )));
    }
    let mut builder = delta
        .write(batches)
        .with_save_mode(SaveMode::Overwrite)
        .with_partition_columns(layout.partition_columns.clone())
        .with_writer_properties(writer_properties(layout))
        .with_commit_properties(props);
    if exists && let PartitionScope::Key { .. } = scope {
        builder = builder.with_replace_where(scope.predicate());
    }
    if !exists {
        builder = builder.with_configuration(super::created_table_configuration());
    }
    if replace_schema && exists {
        builder = builder.with_schema_mode(SchemaMode::Overwrite);
    } else if allow_new_columns {
        builder = builder.with_schema_mode(SchemaMode::Merge);
    }
    builder.await.map_err(|e| Error::commit(table, e))
}
