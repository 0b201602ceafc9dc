//! The storage seam: an injected store that fails around its commits, and unreadable data
//! files. A landed commit is never applied twice; a storage fault is never a failed check.

use std::sync::Arc;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU32, Ordering};

use phlo::Error;
use phlo::crates::core::Error as CoreError;
use phlo::crates::core::names::TableName;
use phlo::crates::core::storage::{CommitOutcome, DeltaStore, TableStore, Write};
use phlo::prelude::*;
use phlo::{FixedClock, SequentialRunIds};

use phlo_tests::events;

use crate::support::{Hooked, StoreHooks, input, now, query, runtime};

const DAY: &str = "2025-01-15";

/// How the store misbehaves on commits to user tables.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Fault {
    /// Commit, then report a lost connection (the outcome looks unknown).
    AfterCommit,
    /// Report a lost connection without committing.
    BeforeCommit,
    /// Refuse with a deterministic error.
    Reject,
}

#[derive(Debug)]
struct Faulty {
    /// Faults still to inject, in order.
    faults: Mutex<Vec<Fault>>,
    /// Commits asked of the store on user tables.
    attempts: AtomicU32,
}

impl Faulty {
    fn new(dir: &std::path::Path, faults: Vec<Fault>) -> Arc<Hooked<Self>> {
        Hooked::new(
            dir,
            Faulty {
                faults: Mutex::new(faults),
                attempts: AtomicU32::new(0),
            },
        )
    }
}

fn lost_connection() -> CoreError {
    CoreError::Io {
        path: "s3://bucket/table/_delta_log".into(),
        source: std::io::Error::new(std::io::ErrorKind::ConnectionReset, "connection reset"),
    }
}

#[async_trait::async_trait]
impl StoreHooks for Faulty {
    async fn commit(
        &self,
        store: &DeltaStore,
        table: &TableName,
        write: Write,
    ) -> phlo::crates::core::Result<CommitOutcome> {
        if table.namespace() == "_phlo" {
            return store.commit(table, write).await;
        }
        self.attempts.fetch_add(1, Ordering::SeqCst);
        let fault = self.faults.lock().ok().and_then(|mut f| {
            if f.is_empty() {
                None
            } else {
                Some(f.remove(0))
            }
        });
        match fault {
            None => store.commit(table, write).await,
            Some(Fault::AfterCommit) => {
                store.commit(table, write).await?;
                Err(lost_connection())
            }
            Some(Fault::BeforeCommit) => Err(lost_connection()),
            Some(Fault::Reject) => Err(CoreError::Arrow(
                phlo::arrow::error::ArrowError::InvalidArgumentError("rejected".into()),
            )),
        }
    }
}

async fn runtime_on(test: &str, store: Arc<Hooked<Faulty>>) -> phlo::Result<Runtime> {
    Runtime::builder(store.location())
        .store(store)
        .clock(Arc::new(FixedClock::new(now())))
        .run_ids(Arc::new(SequentialRunIds::new(test)))
        .build()
        .await
}

fn two_rows() -> Vec<RecordBatch> {
    vec![events(&[
        ("e1", "2025-01-15T01:00:00Z", 10.0, "a", None),
        ("e2", "2025-01-15T02:00:00Z", 20.0, "b", None),
    ])]
}

#[tokio::test]
async fn a_commit_that_landed_before_storage_failed_is_not_applied_again() -> phlo::Result<()> {
    let dir = tempfile::tempdir()?;
    let store = Faulty::new(dir.path(), vec![Fault::AfterCommit]);
    let rt = runtime_on("landed", store.clone()).await?;
    input("landed", two_rows());
    // An append: applying it twice would duplicate both rows.
    let report = rt.materialize("events_append", DAY).await?;
    assert_eq!(report.status, RunStatus::Success);
    assert_eq!(report.table_version_after, Some(0));
    assert_eq!(store.attempts.load(Ordering::SeqCst), 1, "not retried");
    assert_eq!(
        query(&rt, "SELECT count(*) AS n FROM bronze.events_log").await,
        "+---+\n| n |\n+---+\n| 2 |\n+---+"
    );
    Ok(())
}

#[tokio::test]
async fn a_commit_lost_before_it_landed_is_retried_and_lands_once() -> phlo::Result<()> {
    let dir = tempfile::tempdir()?;
    let store = Faulty::new(dir.path(), vec![Fault::BeforeCommit]);
    let rt = runtime_on("lost", store.clone()).await?;
    input("lost", two_rows());
    let report = rt.materialize("events_append", DAY).await?;
    assert_eq!(report.table_version_after, Some(0));
    assert_eq!(store.attempts.load(Ordering::SeqCst), 2);
    assert_eq!(
        query(&rt, "SELECT count(*) AS n FROM bronze.events_log").await,
        "+---+\n| n |\n+---+\n| 2 |\n+---+"
    );
    Ok(())
}

#[tokio::test]
async fn a_rejected_commit_fails_the_run_at_once_and_keeps_the_table() -> phlo::Result<()> {
    let dir = tempfile::tempdir()?;
    let store = Faulty::new(dir.path(), vec![Fault::Reject]);
    let rt = runtime_on("rejected", store.clone()).await?;
    input("rejected", two_rows());
    let failed = rt
        .run_plan(
            &rt.plan("events_append", &phlo::PartitionSelection::Key(DAY.into()))
                .await?,
        )
        .await
        .pop();
    let failure = match failed {
        Some(Err(f)) => f,
        other => panic!("expected a failure, got {other:?}"),
    };
    assert_eq!(failure.report.status, RunStatus::Failed);
    assert!(
        failure
            .report
            .error
            .as_deref()
            .unwrap_or_default()
            .contains("rejected")
    );
    assert_eq!(failure.error.class(), phlo::ErrorClass::RunFailed);
    assert_eq!(
        store.attempts.load(Ordering::SeqCst),
        1,
        "deterministic: no retry"
    );
    assert_eq!(
        store
            .version(&TableName::parse("bronze.events_log")?)
            .await?,
        None
    );
    // The failed run is recorded too.
    assert_eq!(rt.runs().await?.len(), 1);
    Ok(())
}

#[tokio::test]
async fn a_missing_data_file_is_a_storage_error_never_a_failed_check() -> phlo::Result<()> {
    let dir = tempfile::tempdir()?;
    let (rt, _) = runtime("missing_file", dir.path()).await;
    input(
        "missing_file",
        vec![events(&[
            ("e1", "2025-01-15T01:00:00Z", 10.0, "a", Some("x")),
            ("e2", "2025-01-15T02:00:00Z", 20.0, "b", Some("x")),
        ])],
    );
    rt.materialize("events_audited", DAY).await?;
    let part = dir
        .path()
        .join("bronze/events_audited/_phlo_partition_date=2025-01-15");
    for f in std::fs::read_dir(&part)?.flatten() {
        std::fs::remove_file(f.path())?;
    }
    let checked = rt.check("bronze.events_audited", Some(DAY)).await;
    match &checked {
        Err(e @ Error::Unreadable { reason, .. }) => {
            assert!(reason.contains(".parquet"), "names the file: {reason}");
            assert_eq!(e.class(), phlo::ErrorClass::RunFailed);
        }
        other => panic!("expected a storage error, got {other:?}"),
    }
    input(
        "missing_file",
        vec![events(&[(
            "e3",
            "2025-01-15T03:00:00Z",
            30.0,
            "c",
            Some("x"),
        )])],
    );
    let run = rt.materialize("events_audited", DAY).await;
    match &run {
        Err(Error::Ingest(phlo::crates::ingest::Error::Core(CoreError::DataFile {
            path, ..
        })))
        | Err(Error::Core(CoreError::DataFile { path, .. })) => {
            assert!(path.ends_with(".parquet"), "{path}");
        }
        Err(Error::Unreadable { reason, .. }) => assert!(reason.contains(".parquet")),
        other => panic!("expected a storage error naming the file, got {other:?}"),
    }
    assert_eq!(
        run.as_ref().err().map(Error::class),
        Some(phlo::ErrorClass::RunFailed)
    );
    assert!(
        !matches!(&run, Err(Error::QualityGate { .. })),
        "never reported as failed checks"
    );
    Ok(())
}
