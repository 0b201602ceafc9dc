//! Delta Lake tables in a local directory, through `deltalake`.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use async_trait::async_trait;
use datafusion::catalog::TableProvider;
use datafusion::common::Column;
use datafusion::prelude::{Expr, SessionContext, lit};
use deltalake::DeltaTable;
use deltalake::kernel::Transaction;
use deltalake::kernel::transaction::CommitProperties;
use deltalake::operations::write::SchemaMode;
use deltalake::parquet::basic::Compression;
use deltalake::parquet::file::properties::{EnabledStatistics, WriterProperties};
use deltalake::parquet::schema::types::ColumnPath;
use deltalake::protocol::SaveMode;
use url::Url;

use super::rewrite;
use super::{
    CommitOutcome, PartitionScope, ReadVersion, TableStore, Write, WriteOp, date_literal,
    scope_predicate,
};
use crate::metadata::{PARTITION_DATE, ROW_HASH};
use crate::names::{TableName, check_identifier};
use crate::{Error, Result};

/// Delta tables under a local warehouse directory: `<root>/<ns>/<name>/`.
#[derive(Debug, Clone)]
pub struct DeltaStore {
    root: PathBuf,
}

impl DeltaStore {
    /// A store rooted at `root`. The directory is created by the first write, so reading an
    /// empty warehouse leaves no trace.
    pub fn open(root: impl AsRef<Path>) -> Result<Self> {
        let root = root.as_ref();
        let root = std::path::absolute(root).map_err(|source| Error::Io {
            path: root.display().to_string(),
            source,
        })?;
        Ok(DeltaStore { root })
    }

    /// The directory of `table`.
    pub fn table_dir(&self, table: &TableName) -> PathBuf {
        self.root.join(table.namespace()).join(table.name())
    }

    fn table_url(&self, table: &TableName) -> Result<Url> {
        let dir = self.table_dir(table);
        Url::from_directory_path(&dir)
            .map_err(|()| Error::internal(format!("not an absolute path: {}", dir.display())))
    }

    /// Opens the table, or `None` when it does not exist yet.
    async fn load(&self, table: &TableName) -> Result<Option<DeltaTable>> {
        if !self.table_dir(table).join("_delta_log").is_dir() {
            return Ok(None);
        }
        let url = self.table_url(table)?;
        let loaded = deltalake::open_table(url)
            .await
            .map_err(|e| Error::storage(table, e))?;
        Ok(Some(loaded))
    }

    /// The table, loaded or fresh at its location (a write creates it).
    async fn load_or_new(&self, table: &TableName) -> Result<DeltaTable> {
        if let Some(t) = self.load(table).await? {
            return Ok(t);
        }
        let dir = self.table_dir(table);
        std::fs::create_dir_all(&dir).map_err(|source| Error::Io {
            path: dir.display().to_string(),
            source,
        })?;
        DeltaTable::try_from_url(self.table_url(table)?)
            .await
            .map_err(|e| Error::storage(table, e))
    }
}

/// How phlo's data files are encoded (ADR 0007): snappy, as Spark and most Delta writers
/// do (DataFusion's default, zstd, costs about twice the encoding time for a few percent
/// of size), and no dictionary for columns whose values are (nearly) all distinct — the
/// row hash and the unique key — where building one is wasted work before the writer
/// falls back to plain encoding.
fn writer_properties(distinct_columns: &[&str]) -> WriterProperties {
    let mut b = WriterProperties::builder()
        .set_compression(Compression::SNAPPY)
        .set_column_dictionary_enabled(ColumnPath::from(ROW_HASH), false)
        // Random hex: snappy saves ~10% for its full cost on write and read, and min/max
        // statistics of hashes skip nothing.
        .set_column_compression(ColumnPath::from(ROW_HASH), Compression::UNCOMPRESSED)
        .set_column_statistics_enabled(ColumnPath::from(ROW_HASH), EnabledStatistics::None);
    for c in distinct_columns {
        b = b.set_column_dictionary_enabled(ColumnPath::from(*c), false);
    }
    b.build()
}

fn commit_properties(write: &Write) -> CommitProperties {
    let props = CommitProperties::default()
        .with_metadata(write.tag.metadata.clone())
        .with_application_transaction(Transaction::new(&write.tag.app_id, write.tag.txn_version));
    match write.read_version {
        ReadVersion::Latest => props,
        // Planned against one version: never let the commit rebase onto another one.
        ReadVersion::Exactly(_) => props.with_max_retries(0),
    }
}

fn qualified(relation: &str, name: &str) -> Expr {
    Expr::Column(Column::new(Some(relation), name))
}

#[async_trait]
impl TableStore for DeltaStore {
    fn location(&self) -> String {
        self.root.display().to_string()
    }

    async fn version(&self, table: &TableName) -> Result<Option<i64>> {
        Ok(self
            .load(table)
            .await?
            .and_then(|t| t.version())
            .map(|v| v as i64))
    }

    async fn provider(&self, table: &TableName) -> Result<Option<Arc<dyn TableProvider>>> {
        let Some(t) = self.load(table).await? else {
            return Ok(None);
        };
        let provider = t
            .table_provider()
            .await
            .map_err(|e| Error::query(table, e))?;
        Ok(Some(provider))
    }

    async fn list_tables(&self) -> Result<Vec<TableName>> {
        let mut tables = Vec::new();
        let read = |p: &Path| {
            std::fs::read_dir(p).map_err(|source| Error::Io {
                path: p.display().to_string(),
                source,
            })
        };
        if !self.root.is_dir() {
            return Ok(tables);
        }
        for ns in read(&self.root)?.flatten() {
            let ns_name = ns.file_name().to_string_lossy().to_string();
            if check_identifier(&ns_name).is_err() || !ns.path().is_dir() {
                continue;
            }
            for t in read(&ns.path())?.flatten() {
                let name = t.file_name().to_string_lossy().to_string();
                if !t.path().join("_delta_log").is_dir() {
                    continue;
                }
                if let Ok(table) = TableName::parse(&format!("{ns_name}.{name}")) {
                    tables.push(table);
                }
            }
        }
        tables.sort();
        Ok(tables)
    }

    async fn app_transaction(&self, table: &TableName, app_id: &str) -> Result<Option<i64>> {
        let Some(t) = self.load(table).await? else {
            return Ok(None);
        };
        let state = t.snapshot().map_err(|e| Error::storage(table, e))?;
        state
            .transaction_version(t.log_store().as_ref(), app_id)
            .await
            .map_err(|e| Error::storage(table, e))
    }

    async fn commit(&self, table: &TableName, write: Write) -> Result<CommitOutcome> {
        let delta = match write.read_version {
            ReadVersion::Latest => self.load_or_new(table).await?,
            ReadVersion::Exactly(None) => match self.load(table).await? {
                // Created by someone else since the write was planned.
                Some(t) => {
                    let version = t.version().unwrap_or_default();
                    return Err(Error::commit(
                        table,
                        deltalake::DeltaTableError::VersionAlreadyExists(version),
                    ));
                }
                None => self.load_or_new(table).await?,
            },
            ReadVersion::Exactly(Some(v)) => {
                let version = u64::try_from(v)
                    .map_err(|_| Error::internal(format!("negative table version {v}")))?;
                deltalake::open_table_with_version(self.table_url(table)?, version)
                    .await
                    .map_err(|e| Error::storage(table, e))?
            }
        };
        let version_before = delta.version().map(|v| v as i64);
        let props = commit_properties(&write);
        let schema_mode = write.allow_new_columns.then_some(SchemaMode::Merge);
        let storage = |e| Error::commit(table, e);
        let (after, inserted, updated, copied) = match write.op {
            WriteOp::Append { batches } => {
                let rows = batches.iter().map(|b| b.num_rows() as u64).sum();
                let mut builder = delta
                    .write(batches)
                    .with_save_mode(SaveMode::Append)
                    .with_partition_columns(write.partition_columns.clone())
                    .with_writer_properties(writer_properties(&[]))
                    .with_commit_properties(props);
                if let Some(mode) = schema_mode {
                    builder = builder.with_schema_mode(mode);
                }
                (builder.await.map_err(storage)?, rows, 0, 0)
            }
            WriteOp::ReplacePartition { batches, scope } => {
                let rows = batches.iter().map(|b| b.num_rows() as u64).sum();
                let mut builder = delta
                    .write(batches)
                    .with_save_mode(SaveMode::Overwrite)
                    .with_partition_columns(write.partition_columns.clone())
                    .with_writer_properties(writer_properties(&[]))
                    .with_commit_properties(props);
                if version_before.is_some() {
                    builder = builder.with_replace_where(scope_predicate(scope));
                }
                if let Some(mode) = schema_mode {
                    builder = builder.with_schema_mode(mode);
                }
                (builder.await.map_err(storage)?, rows, 0, 0)
            }
            WriteOp::Merge {
                source,
                keys,
                target_partitions,
            } => {
                let key_refs: Vec<&str> = keys.iter().map(String::as_str).collect();
                let properties = writer_properties(&key_refs);
                if version_before.is_none() {
                    let rows = source.num_rows() as u64;
                    let (delta, source) = match rewrite::create(
                        &table.to_string(),
                        delta,
                        source,
                        write.partition_columns.clone(),
                        properties.clone(),
                        props.clone(),
                    )
                    .await?
                    {
                        Ok(created) => {
                            let version_after =
                                created.version().map(|v| v as i64).ok_or_else(|| {
                                    Error::internal(format!(
                                        "table {table} has no version after a commit"
                                    ))
                                })?;
                            return Ok(CommitOutcome {
                                version_before,
                                version_after,
                                rows_inserted: rows,
                                rows_updated: 0,
                                rows_copied: 0,
                            });
                        }
                        Err(back) => back,
                    };
                    let t = delta
                        .write(vec![source])
                        .with_save_mode(SaveMode::Append)
                        .with_partition_columns(write.partition_columns.clone())
                        .with_writer_properties(properties)
                        .with_commit_properties(props)
                        .await
                        .map_err(storage)?;
                    (t, rows, 0, 0)
                } else {
                    let planned = matches!(write.read_version, ReadVersion::Exactly(Some(_)));
                    if planned && !write.allow_new_columns {
                        let root = self.table_dir(table);
                        let plan = rewrite::plan(
                            &table.to_string(),
                            &delta,
                            &root,
                            &source,
                            target_partitions.as_deref(),
                            properties.clone(),
                        )
                        .await?;
                        if let Some(plan) = plan {
                            let predicate = keys
                                .iter()
                                .map(|k| format!("target.{k} = source.{k}"))
                                .collect::<Vec<_>>()
                                .join(" AND ");
                            let r = rewrite::execute(
                                &table.to_string(),
                                &delta,
                                plan,
                                source,
                                &keys,
                                props,
                                predicate,
                            )
                            .await?;
                            return Ok(CommitOutcome {
                                version_before,
                                version_after: r.version,
                                rows_inserted: r.inserted,
                                rows_updated: r.updated,
                                rows_copied: r.copied,
                            });
                        }
                    }
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
                    if let Some(scopes) = target_partitions {
                        let dates: Vec<Expr> = scopes
                            .iter()
                            .filter_map(|s| match s {
                                PartitionScope::Date(d) => Some(date_literal(*d)),
                                PartitionScope::Unpartitioned => None,
                            })
                            .collect();
                        let has_null = scopes.contains(&PartitionScope::Unpartitioned);
                        let target_col = qualified("target", PARTITION_DATE);
                        let in_dates =
                            (!dates.is_empty()).then(|| target_col.clone().in_list(dates, false));
                        let is_null = has_null.then(|| target_col.is_null());
                        let scope = match (in_dates, is_null) {
                            (Some(a), Some(b)) => Some(a.or(b)),
                            (a, b) => a.or(b),
                        };
                        // With no matched partitions no target row can match: a
                        // false predicate turns the merge into a pure insert.
                        predicate = predicate.and(scope.unwrap_or(lit(false)));
                    }
                    let ctx = SessionContext::new();
                    let df = ctx.read_batch(source).map_err(|e| Error::query(table, e))?;
                    let set_all = columns.clone();
                    let insert_all = columns;
                    let (t, metrics) = delta
                        .merge(df, predicate)
                        .with_source_alias("source")
                        .with_target_alias("target")
                        .with_merge_schema(write.allow_new_columns)
                        .with_writer_properties(properties)
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
                    (
                        t,
                        metrics.num_target_rows_inserted as u64,
                        metrics.num_target_rows_updated as u64,
                        metrics.num_target_rows_copied as u64,
                    )
                }
            }
        };
        let version_after = after.version().map(|v| v as i64).ok_or_else(|| {
            Error::internal(format!("table {table} has no version after a commit"))
        })?;
        Ok(CommitOutcome {
            version_before,
            version_after,
            rows_inserted: inserted,
            rows_updated: updated,
            rows_copied: copied,
        })
    }
}
