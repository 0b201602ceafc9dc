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
mod local;

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use datafusion::catalog::TableProvider;
use deltalake::DeltaTable;
use deltalake::kernel::Transaction;
use deltalake::kernel::transaction::CommitProperties;
use url::Url;

use super::{CommitOutcome, Compacted, Compaction, ReadVersion, TableStore, Write, WriteOp};
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
    opened: Arc<Mutex<HashMap<TableName, Opened>>>,
    /// The file system the tables are read and written through.
    files: Arc<local::LocalLog>,
    /// Checkpoints (and the log cleanup after them) written after their commit returned.
    maintenance: Arc<Mutex<tokio::task::JoinSet<()>>>,
}

/// A cached table and the identity of the log entry of its version.
#[derive(Debug, Clone)]
struct Opened {
    delta: DeltaTable,
    /// Size and modification time of `_delta_log/<version>.json` when it was cached.
    entry: Option<LogEntry>,
}

/// What identifies a log entry on disk (a table dropped and re-created reuses the name).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct LogEntry {
    len: u64,
    modified: Option<std::time::SystemTime>,
}

/// A cached table against its log on disk.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Cached {
    /// No commit landed since.
    Current,
    /// Commits landed since: bring it forward.
    Behind,
    /// Not the same log any more: open it afresh.
    Replaced,
}

/// `_delta_log/<version>.json` of the table at `dir`.
fn log_entry_path(dir: &Path, version: u64) -> PathBuf {
    dir.join("_delta_log").join(format!("{version:020}.json"))
}

fn log_entry(dir: &Path, version: u64) -> Option<LogEntry> {
    std::fs::metadata(log_entry_path(dir, version))
        .ok()
        .map(|m| LogEntry {
            len: m.len(),
            modified: m.modified().ok(),
        })
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
            files: local::LocalLog::new(),
            maintenance: Arc::new(Mutex::new(tokio::task::JoinSet::new())),
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

    /// A builder of `table` through this store's file system.
    fn builder(&self, table: &TableName) -> Result<deltalake::DeltaTableBuilder> {
        let url = self.table_url(table)?;
        let files: Arc<dyn object_store::ObjectStore> = self.files.clone();
        Ok(deltalake::DeltaTableBuilder::from_url(url.clone())
            .map_err(|e| Error::storage(table, e))?
            .with_storage_backend(files, url))
    }

    fn cached(&self, table: &TableName) -> Option<Opened> {
        self.opened.lock().ok().and_then(|m| m.get(table).cloned())
    }

    fn remember(&self, table: &TableName, delta: &DeltaTable) {
        let entry = delta
            .version()
            .and_then(|v| log_entry(&self.table_dir(table), v));
        if let Ok(mut m) = self.opened.lock() {
            m.insert(
                table.clone(),
                Opened {
                    delta: delta.clone(),
                    entry,
                },
            );
        }
    }

    fn forget(&self, table: &TableName) {
        if let Ok(mut m) = self.opened.lock() {
            m.remove(table);
        }
    }

    /// What became of a cached table's log since it was cached, from two `stat`s instead of
    /// a log listing (deltalake lists the whole `_delta_log` directory on every update, and
    /// it grows by a file per commit).
    fn freshness(&self, table: &TableName, opened: &Opened) -> Cached {
        let Some(version) = opened.delta.version() else {
            return Cached::Replaced;
        };
        let dir = self.table_dir(table);
        if opened.entry.is_none() || log_entry(&dir, version) != opened.entry {
            // The entry it was cached at is gone or another one: the table was dropped and
            // re-created (or its log rewritten).
            return Cached::Replaced;
        }
        if log_entry_path(&dir, version + 1).exists() {
            Cached::Behind
        } else {
            Cached::Current
        }
    }

    /// Brings the cached table forward to a commit this store just made. The table
    /// deltalake returns from a commit is not kept: reads of its file list replay the log
    /// since the table was opened (measured: a merge's cost rose from 8 to 46 ms over 300
    /// commits with it, and stays near 12 ms updating the cached table instead).
    ///
    /// A commit whose version is due a checkpoint (every `delta.checkpointInterval`
    /// commits) gets it in a task of its own, with the log cleanup it allows, so the run
    /// that made the commit does not wait for it; [`TableStore::settle`] waits for them.
    /// A checkpoint is an optimisation of reads: one that never gets written (the process
    /// ends first) leaves the table as correct as before.
    async fn caught_up(&self, table: &TableName, after: DeltaTable) -> Result<()> {
        let due = after.version().and_then(|v| {
            use deltalake::table::config::TablePropertiesExt;
            let interval = after
                .snapshot()
                .ok()?
                .table_config()
                .checkpoint_interval()
                .get();
            (v + 1).is_multiple_of(interval).then_some(v)
        });
        match due {
            Some(version) => {
                let table = table.clone();
                let opened = self.opened.clone();
                let task = async move {
                    match deltalake::checkpoints::create_checkpoint(&after, None).await {
                        Ok(()) => {
                            // The cached table was brought forward before the checkpoint
                            // existed, and an incremental update only lists the entries
                            // after its version: it would never start from this
                            // checkpoint, and its log segment (and every read's replay)
                            // would grow with the table's history. The next read opens
                            // the table from the checkpoint instead.
                            if let Ok(mut m) = opened.lock() {
                                m.remove(&table);
                            }
                            cleanup_expired_logs(&table, &after, version).await;
                        }
                        Err(e) => {
                            tracing::warn!(table = %table, version, error = %e, "checkpoint failed; the next one covers it")
                        }
                    }
                };
                if let Ok(mut set) = self.maintenance.lock() {
                    // Finished tasks are reaped as new ones come.
                    while set.try_join_next().is_some() {}
                    set.spawn(task);
                }
            }
            None => drop(after),
        }
        self.load(table).await?;
        Ok(())
    }

    /// Waits for the checkpoints still being written.
    async fn settle_maintenance(&self) {
        let mut set = match self.maintenance.lock() {
            Ok(mut set) => std::mem::take(&mut *set),
            Err(_) => return,
        };
        while set.join_next().await.is_some() {}
    }

    /// The table at its latest version, or `None` when it does not exist yet. A table this
    /// store opened before is brought forward from its cached version.
    async fn load(&self, table: &TableName) -> Result<Option<DeltaTable>> {
        if !self.table_dir(table).join("_delta_log").is_dir() {
            self.forget(table);
            return Ok(None);
        }
        if let Some(opened) = self.cached(table) {
            let freshness = self.freshness(table, &opened);
            let mut cached = opened.delta;
            match freshness {
                Cached::Current => return Ok(Some(cached)),
                Cached::Replaced => self.forget(table),
                Cached::Behind => match cached.update_incremental(None).await {
                    Ok(()) => {
                        self.remember(table, &cached);
                        return Ok(Some(cached));
                    }
                    // The log was rewritten under us: open it afresh.
                    Err(_) => self.forget(table),
                },
            }
        }
        let loaded = self
            .builder(table)?
            .load()
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
        self.builder(table)?
            .build()
            .map_err(|e| Error::storage(table, e))
    }

    /// One try of [`TableStore::commit`].
    async fn commit_once(&self, table: &TableName, write: Write) -> Result<CommitOutcome> {
        let delta = self.load_for(table, write.read_version).await?;
        let version_before = delta.version().map(|v| v as i64);
        let props = commit_properties(&write);
        let (outcome, after) = match write.op {
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
                (inserted(table, version_before, &after, rows)?, after)
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
                    write.replace_schema,
                    props,
                )
                .await?;
                (inserted(table, version_before, &after, rows)?, after)
            }
            WriteOp::Merge {
                source,
                keys,
                target_partitions,
            } => {
                let rows = source.num_rows() as u64;
                if version_before.is_none() {
                    let after = cow::create(table, delta, source, &write.layout, props).await?;
                    (inserted(table, version_before, &after, rows)?, after)
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
                            let (r, after) =
                                cow::execute(table, &delta, plan, source, &keys, props).await?;
                            let outcome = CommitOutcome {
                                version_before,
                                version_after: r.version,
                                rows_inserted: r.inserted,
                                rows_updated: r.updated,
                                rows_copied: r.copied,
                            };
                            (outcome, after)
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
                            let outcome = CommitOutcome {
                                version_before,
                                version_after: version_of(table, &after)?,
                                rows_inserted: m.inserted,
                                rows_updated: m.updated,
                                rows_copied: m.copied,
                            };
                            (outcome, after)
                        }
                    }
                }
            }
        };
        self.caught_up(table, after).await?;
        Ok(outcome)
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

/// Commit properties without deltalake's log cleanup, which lists the whole `_delta_log`
/// after every commit; [`DeltaStore`] cleans up after the commits that checkpoint instead
/// (the only ones after which there is anything to clean).
fn quiet_commit() -> CommitProperties {
    CommitProperties::default()
        .with_cleanup_expired_logs(Some(false))
        .with_create_checkpoint(false)
}

/// The commit's app transaction and metadata; a planned write never rebases onto another
/// version (it fails as a conflict and is planned again).
fn commit_properties(write: &Write) -> CommitProperties {
    let mut props = quiet_commit().with_metadata(write.tag.metadata.clone());
    if let Some(t) = &write.tag.transaction {
        props = props.with_application_transaction(Transaction::new(&t.app_id, t.version));
    }
    match write.read_version {
        ReadVersion::Latest => props,
        ReadVersion::Exactly(_) => props.with_max_retries(0),
    }
}

/// Removes the log entries older than the table's log retention (`delta.logRetentionDuration`,
/// 30 days by default) that the checkpoint at `version` makes unnecessary, as deltalake's
/// own post-commit cleanup does. The commit has landed: a failure here is only logged.
async fn cleanup_expired_logs(table: &TableName, delta: &DeltaTable, version: u64) {
    use deltalake::table::config::TablePropertiesExt;
    let Ok(state) = delta.snapshot() else {
        return;
    };
    if !state.table_config().enable_expired_log_cleanup() {
        return;
    }
    let retention = state.table_config().log_retention_duration();
    let cutoff = chrono::Utc::now().timestamp_millis()
        - i64::try_from(retention.as_millis()).unwrap_or(i64::MAX);
    match deltalake::checkpoints::cleanup_expired_logs_for(
        version,
        delta.log_store().as_ref(),
        cutoff,
        None,
    )
    .await
    {
        Ok(n) if n > 0 => {
            tracing::debug!(table = %table, removed = n, "expired log entries removed")
        }
        Ok(_) => {}
        Err(e) => tracing::warn!(table = %table, error = %e, "log cleanup failed"),
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
    async fn settle(&self) {
        self.settle_maintenance().await;
    }

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
        let existed = self.table_dir(table).join("_delta_log").is_dir();
        match self.commit_once(table, write).await {
            // Two writers created the table at once and the other one won: a conflict
            // like any other (the caller plans again against the table it created).
            Err(Error::Storage { .. })
                if !existed && matches!(self.load(table).await, Ok(Some(_))) =>
            {
                Err(Error::Conflict {
                    table: table.to_string(),
                    source: Box::new(deltalake::DeltaTableError::VersionAlreadyExists(0)),
                })
            }
            other => other,
        }
    }

    async fn compact(&self, table: &TableName, compaction: &Compaction) -> Result<Compacted> {
        let Some(delta) = self.load(table).await? else {
            return Ok(Compacted::default());
        };
        let files = delta
            .snapshot()
            .map_err(|e| Error::storage(table, e))?
            .log_data()
            .num_files();
        if files < compaction.min_files {
            return Ok(Compacted::default());
        }
        let target = std::num::NonZeroU64::new(compaction.target_file_bytes.max(1))
            .ok_or_else(|| Error::internal("compaction target of zero bytes"))?;
        let (after, metrics) = delta
            .optimize()
            .with_target_size(target)
            .with_max_concurrent_tasks(crate::parallel::cores())
            .with_commit_properties(quiet_commit())
            .await
            .map_err(|e| Error::commit(table, e))?;
        let compacted = Compacted {
            files_removed: metrics.num_files_removed,
            files_added: metrics.num_files_added,
            version_after: if metrics.num_files_removed > 0 {
                Some(version_of(table, &after)?)
            } else {
                None
            },
        };
        self.caught_up(table, after).await?;
        Ok(compacted)
    }
}
