//! Helpers shared by the end-to-end tests.

use std::path::Path;
use std::sync::Arc;

use phlo::arrow::util::pretty::pretty_format_batches;
use phlo::crates::core::Result as CoreResult;
use phlo::crates::core::names::TableName;
use phlo::crates::core::storage::{
    CommitOutcome, Compacted, Compaction, DeltaStore, TableStore, Write,
};
use phlo::datafusion::catalog::TableProvider;
use phlo::prelude::*;
use phlo::{FixedClock, SequentialRunIds};
use phlo_tests::{Fixture, set_fixture};

/// The instant every test run happens at.
pub fn now() -> DateTime<Utc> {
    DateTime::from_timestamp(1_736_942_400, 0).unwrap_or_default() // 2025-01-15T12:00:00Z
}

/// A runtime over `dir` whose runs are named `test-000001`, … and stopped at [`now`].
pub async fn runtime(test: &str, dir: &Path) -> (Runtime, Arc<FixedClock>) {
    let clock = Arc::new(FixedClock::new(now()));
    let rt = Runtime::builder(dir)
        .clock(clock.clone())
        .run_ids(Arc::new(SequentialRunIds::new(test)))
        .build()
        .await
        .unwrap_or_else(|e| panic!("runtime: {e}"));
    (rt, clock)
}

/// Sets the input of the next runs of `test`.
pub fn input(test: &str, batches: Vec<RecordBatch>) {
    set_fixture(test, Fixture::Batches(batches));
}

/// The query's result as a pretty table.
pub async fn query(rt: &Runtime, sql: &str) -> String {
    let batches = rt.sql(sql).await.unwrap_or_else(|e| panic!("{sql}: {e}"));
    pretty_format_batches(&batches)
        .map(|t| t.to_string())
        .unwrap_or_else(|e| panic!("{e}"))
}

/// The table's current version.
pub async fn version(rt: &Runtime, table: &str) -> Option<i64> {
    let name = phlo::crates::core::names::TableName::parse(table).unwrap_or_else(|e| panic!("{e}"));
    rt.store()
        .version(&name)
        .await
        .unwrap_or_else(|e| panic!("{e}"))
}

/// What a test store does around the Delta store it wraps: `provider` may answer (or fail)
/// a read before the store does, `commit` decides how a commit reaches the store.
#[async_trait::async_trait]
pub trait StoreHooks: Send + Sync + std::fmt::Debug {
    /// Runs before a read of `table`; `Some` answers it instead of the store.
    async fn provider(
        &self,
        _table: &TableName,
    ) -> Option<CoreResult<Option<Arc<dyn TableProvider>>>> {
        None
    }

    /// Commits `write` to `table`, through `store` (or not).
    async fn commit(
        &self,
        store: &DeltaStore,
        table: &TableName,
        write: Write,
    ) -> CoreResult<CommitOutcome> {
        store.commit(table, write).await
    }
}

/// A Delta store with test hooks; it dereferences to them.
#[derive(Debug)]
pub struct Hooked<H> {
    /// The real store.
    pub inner: DeltaStore,
    /// The hooks.
    pub hooks: H,
}

impl<H> Hooked<H> {
    /// `hooks` around a Delta store on `dir`.
    pub fn new(dir: &Path, hooks: H) -> Arc<Self> {
        Arc::new(Hooked {
            inner: DeltaStore::open(dir).unwrap_or_else(|e| panic!("{e}")),
            hooks,
        })
    }
}

impl<H> std::ops::Deref for Hooked<H> {
    type Target = H;
    fn deref(&self) -> &H {
        &self.hooks
    }
}

#[async_trait::async_trait]
impl<H: StoreHooks> TableStore for Hooked<H> {
    fn location(&self) -> String {
        self.inner.location()
    }
    async fn settle(&self) {
        self.inner.settle().await;
    }
    async fn version(&self, table: &TableName) -> CoreResult<Option<i64>> {
        self.inner.version(table).await
    }
    async fn provider(&self, table: &TableName) -> CoreResult<Option<Arc<dyn TableProvider>>> {
        match self.hooks.provider(table).await {
            Some(answer) => answer,
            None => self.inner.provider(table).await,
        }
    }
    async fn list_tables(&self) -> CoreResult<Vec<TableName>> {
        self.inner.list_tables().await
    }
    async fn app_transaction(&self, table: &TableName, app_id: &str) -> CoreResult<Option<i64>> {
        self.inner.app_transaction(table, app_id).await
    }
    async fn compact(&self, table: &TableName, compaction: &Compaction) -> CoreResult<Compacted> {
        self.inner.compact(table, compaction).await
    }
    async fn commit(&self, table: &TableName, write: Write) -> CoreResult<CommitOutcome> {
        self.hooks.commit(&self.inner, table, write).await
    }
}
