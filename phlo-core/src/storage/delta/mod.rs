//! Delta Lake tables in a local directory, through `deltalake`.
//!
//! One module per write path: [`append`] (append and replace-partition), [`cow`] (phlo's
//! copy-on-write merge and the parallel create), [`format_merge`] (deltalake's MERGE, for
//! what copy-on-write does not cover). Opened tables are cached and brought up to date
//! incrementally ([`DeltaTable::update_incremental`] reads only the commits since the
//! cached version), so a run's cost does not grow with the table's history.

mod append;
mod cow;
mod encoding;
mod format_merge;

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use datafusion::catalog::TableProvider;
use deltalake::DeltaTable;
use deltalake::kernel::Transaction;
use deltalake::kernel::transaction::CommitProperties;
use url::Url;

use super::{CommitOutcome, ReadVersion, TableStore, Write, WriteOp};
use crate::names::{TableName, check_identifier};
use crate::{Error, Result};

/// Commits between two checkpoints of a table phlo creates (`delta.checkpointInterval`).
/// Every read of a table replays its log from the last checkpoint: with Delta's default of
/// 100, each of a backfill's runs paid about a millisecond per commit since the last
/// checkpoint on each of its tables (measured: 20 → 70 ms over 100 daily runs), and the
/// run that wrote the checkpoint paid for all of them at once. A checkpoint every 10 commits
/// bounds the replay; writing one costs a few milliseconds for tables of hundreds of files.
pub const CHECKPOINT_INTERVAL: u32 = 10;

/// The table properties of tables phlo creates.
pub(crate) fn created_table_configuration() -> [(String, Option<String>); 1] {
    [(
        "delta.checkpointInterval".to_string(),
        Some(CHECKPOINT_INTERVAL.to_string()),
    )]
}

/// Delta tables under a local warehouse directory: `<root>/<ns>/<name>/`.
#[derive(Debug, Clone)]
pub struct DeltaStore {
    root: PathBuf,
    /// Tables opened by this store (shared by its clones), kept up to date incrementally.
    opened: Arc<Mutex<HashMap<TableName, DeltaTable>>>,
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
        Ok(DeltaStore {
            root,
            opened: Arc::new(Mutex::new(HashMap::new())),
        })
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

    fn cached(&self, table: &TableName) -> Option<DeltaTable> {
        self.opened.lock().ok().and_then(|m| m.get(table).cloned())
    }

    fn remember(&self, table: &TableName, delta: &DeltaTable) {
        if let Ok(mut m) = self.opened.lock() {
            m.insert(table.clone(), delta.clone());
        }
    }

    fn forget(&self, table: &TableName) {
        if let Ok(mut m) = self.opened.lock() {
            m.remove(table);
        }
    }

    /// The table at its latest version, or `None` when it does not exist yet. A table this
    /// store opened before is brought forward from its cached version.
    async fn load(&self, table: &TableName) -> Result<Option<DeltaTable>> {
        if !self.table_dir(table).join("_delta_log").is_dir() {
            self.forget(table);
            return Ok(None);
        }
        if let Some(mut cached) = self.cached(table) {
            match cached.update_incremental(None).await {
                Ok(()) => {
                    self.remember(table, &cached);
                    return Ok(Some(cached));
                }
                // The log was rewritten under us (a table dropped and re-created):
                // open it afresh.
                Err(_) => self.forget(table),
            }
        }
        let url = self.table_url(table)?;
        let loaded = deltalake::open_table(url)
            .await
            .map_err(|e| Error::storage(table, e))?;
        self.remember(table, &loaded);
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
        // An uninitialised table at the location: the first commit creates it.
        deltalake::DeltaTableBuilder::from_url(self.table_url(table)?)
            .and_then(|b| b.build())
            .map_err(|e| Error::storage(table, e))
    }

    /// The table as the write was planned against: a conflict when another commit landed
    /// (or the table appeared) since.
    async fn load_for(&self, table: &TableName, read: ReadVersion) -> Result<DeltaTable> {
        match read {
            ReadVersion::Latest => self.load_or_new(table).await,
            ReadVersion::Exactly(planned) => {
                let current = self.load(table).await?;
                let version = current.as_ref().and_then(|t| t.version()).map(|v| v as i64);
                if version != planned {
                    return Err(Error::commit(
                        table,
                        deltalake::DeltaTableError::VersionAlreadyExists(
                            version.map_or(0, |v| v as u64),
                        ),
                    ));
                }
                match current {
                    Some(t) => Ok(t),
                    None => self.load_or_new(table).await,
                }
            }
        }
    }
}

/// The commit's app transaction and metadata; a planned write never rebases onto another
/// version (it fails as a conflict and is planned again).
fn commit_properties(write: &Write) -> CommitProperties {
    let mut props = CommitProperties::default().with_metadata(write.tag.metadata.clone());
    if let Some(t) = &write.tag.transaction {
        props = props.with_application_transaction(Transaction::new(&t.app_id, t.version));
    }
    match write.read_version {
        ReadVersion::Latest => props,
        ReadVersion::Exactly(_) => props.with_max_retries(0),
    }
}

/// The outcome of a commit that only added `rows`.
fn inserted(
    table: &TableName,
    version_before: Option<i64>,
    after: &DeltaTable,
    rows: u64,
) -> Result<CommitOutcome> {
    Ok(CommitOutcome {
        version_before,
        version_after: version_of(table, after)?,
        rows_inserted: rows,
        ..Default::default()
    })
}

fn version_of(table: &TableName, delta: &DeltaTable) -> Result<i64> {
    delta
        .version()
        .map(|v| v as i64)
        .ok_or_else(|| Error::internal(format!("table {table} has no version after a commit")))
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
        let delta = self.load_for(table, write.read_version).await?;
        let version_before = delta.version().map(|v| v as i64);
        let props = commit_properties(&write);
        let outcome = match write.op {
            WriteOp::Append { batches } => {
                let rows = batches.iter().map(|b| b.num_rows() as u64).sum();
                let after = append::append(
                    table,
                    delta,
                    batches,
                    &write.layout,
                    write.allow_new_columns,
                    props,
                )
                .await?;
                inserted(table, version_before, &after, rows)?
            }
            WriteOp::ReplacePartition { batches, scope } => {
                let rows = batches.iter().map(|b| b.num_rows() as u64).sum();
                let after = append::replace(
                    table,
                    delta,
                    batches,
                    &scope,
                    &write.layout,
                    write.allow_new_columns,
                    props,
                )
                .await?;
                inserted(table, version_before, &after, rows)?
            }
            WriteOp::Merge {
                source,
                keys,
                target_partitions,
            } => {
                let rows = source.num_rows() as u64;
                if version_before.is_none() {
                    let after = cow::create(table, delta, source, &write.layout, props).await?;
                    inserted(table, version_before, &after, rows)?
                } else {
                    let planned = matches!(write.read_version, ReadVersion::Exactly(Some(_)));
                    let cow_plan = if planned && !write.allow_new_columns {
                        cow::plan(
                            table,
                            &delta,
                            &self.table_dir(table),
                            &source,
                            target_partitions.as_deref(),
                            &write.layout,
                        )
                        .await?
                    } else {
                        None
                    };
                    match cow_plan {
                        Some(plan) => {
                            let r = cow::execute(table, &delta, plan, source, &keys, props).await?;
                            CommitOutcome {
                                version_before,
                                version_after: r.version,
                                rows_inserted: r.inserted,
                                rows_updated: r.updated,
                                rows_copied: r.copied,
                            }
                        }
                        None => {
                            let (after, m) = format_merge::merge(
                                table,
                                delta,
                                source,
                                &keys,
                                target_partitions.as_deref(),
                                &write.layout,
                                write.allow_new_columns,
                                props,
                            )
                            .await?;
                            CommitOutcome {
                                version_before,
                                version_after: version_of(table, &after)?,
                                rows_inserted: m.inserted,
                                rows_updated: m.updated,
                                rows_copied: m.copied,
                            }
                        }
                    }
                }
            }
        };
        // Bring the cached snapshot forward to the commit just made (one log entry).
        self.load(table).await?;
        Ok(outcome)
    }
}
