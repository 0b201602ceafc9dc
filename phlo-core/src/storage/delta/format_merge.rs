//! deltalake's own MERGE: the path for what phlo's copy-on-write does not cover (schema
//! changes, column mapping, deletion vectors, unusual partitioning).

use arrow::record_batch::RecordBatch;
use datafusion::common::Column;
use datafusion::logical_expr::cast;
use datafusion::prelude::{Expr, SessionContext, lit};
use deltalake::DeltaTable;
use deltalake::kernel::transaction::CommitProperties;

use super::encoding::writer_properties;
use crate::names::TableName;
use crate::storage::TableLayout;
use crate::{Error, Result};

/// What the MERGE reported.
pub(super) struct Merged {
    pub inserted: u64,
    pub updated: u64,
    pub copied: u64,
}

fn qualified(relation: &str, name: &str) -> Expr {
    Expr::Column(Column::new(Some(relation), name))
}

/// Upserts `source` by `keys` in one commit; only files of `target_partitions` (values of
/// the layout's first partition column) are scanned when given.
#[allow(clippy::too_many_arguments)]
pub(super) async fn merge(
    table: &TableName,
    delta: DeltaTable,
    source: RecordBatch,
    keys: &[String],
    target_partitions: Option<&[Option<String>]>,
    layout: &TableLayout,
    allow_new_columns: bool,
    props: CommitProperties,
) -> Result<(DeltaTable, Merged)> {
    let storage = |e| Error::commit(table, e);
    let columns: Vec<String> = source
        .schema()
        .fields()
        .iter()
        .map(|f| f.name().clone())
        .collect();
    let mut predicate = keys
        .iter()
        .map(|k| qualified("target", k).eq(qualified("source", k)))
        .reduce(Expr::and)
        .ok_or_else(|| Error::internal("merge without key columns"))?;
    let partition_column = layout.partition_columns.first();
    if let (Some(values), Some(column)) = (target_partitions, partition_column) {
        let data_type = source
            .schema()
            .field_with_name(column)
            .map(|f| f.data_type().clone())
            .map_err(|_| Error::internal(format!("partition column `{column}` not in the load")))?;
        let target_col = qualified("target", column);
        let listed: Vec<Expr> = values
            .iter()
            .flatten()
            .map(|v| cast(lit(v.clone()), data_type.clone()))
            .collect();
        let in_list = (!listed.is_empty()).then(|| target_col.clone().in_list(listed, false));
        let is_null = values.contains(&None).then(|| target_col.is_null());
        let scope = match (in_list, is_null) {
            (Some(a), Some(b)) => Some(a.or(b)),
            (a, b) => a.or(b),
        };
        // With no matched partitions no target row can match: a false predicate turns
        // the merge into a pure insert.
        predicate = predicate.and(scope.unwrap_or(lit(false)));
    }
    let ctx = SessionContext::new();
    let df = ctx.read_batch(source).map_err(|e| Error::query(table, e))?;
    let set_all = columns.clone();
    let insert_all = columns;
    let (after, metrics) = delta
        .merge(df, predicate)
        .with_source_alias("source")
        .with_target_alias("target")
        .with_merge_schema(allow_new_columns)
        .with_writer_properties(writer_properties(layout))
        .with_commit_properties(props)
        .when_matched_update(|u| {
            set_all
                .iter()
                .fold(u, |u, c| u.update(c.as_str(), qualified("source", c)))
        })
        .map_err(storage)?
        .when_not_matched_insert(|i| {
            insert_all
                .iter()
                .fold(i, |i, c| i.set(c.as_str(), qualified("source", c)))
        })
        .map_err(storage)?
        .await
        .map_err(storage)?;
    Ok((
        after,
        Merged {
            inserted: metrics.num_target_rows_inserted as u64,
            updated: metrics.num_target_rows_updated as u64,
            copied: metrics.num_target_rows_copied as u64,
        },
    ))
}
