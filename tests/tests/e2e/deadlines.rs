//! `max_runtime_seconds` bounds every step before the commit — fetch, a transform's
//! query, prepare, the write plan, the audit — and a timeout in any of them leaves the
//! table at its version and rows; no commit starts after the deadline; a commit in flight
//! lands whole and the run reports the overrun (docs/adr/0013-run-deadlines.md).
//! Slowness is injected through a `TableStore` wrapper, a slow fetch, a slow transform and
//! a slow custom check. Each table is first written by an asset with the default bound,
//! then by a second writer of the same table bounded to one second: each test waits about
//! one real second, the bound (1.4 s for the slow commit and the slow validation).

use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use phlo::arrow::array::{ArrayRef, BooleanArray, Float64Array, RecordBatch, StringArray};
use phlo::arrow::datatypes::{DataType, Field, Schema as ArrowSchema};
use phlo::arrow::error::ArrowError;
use phlo::crates::core::names::TableName;
use phlo::crates::core::partition::PartitionScope;
use phlo::crates::core::storage::{CommitOutcome, DeltaStore, TableLayout, TableStore, Write};
use phlo::crates::ingest::WriteRequest;
use phlo::datafusion::catalog::TableProvider;
use phlo::prelude::*;
use phlo::{Error, FixedClock, MergeStrategy, Project, ProjectFile, RunStatus, SequentialRunIds};

use crate::support::{Hooked, StoreHooks, now, query, version};

/// A row of the deadline tests.
#[derive(Schema)]
pub struct Tick {
    /// Key.
    #[phlo(unique)]
    id: String,
    /// A value.
    value: f64,
}

/// A custom column check that takes 1.4 s of real time when a value is negative.
fn slow_when_negative(values: &ArrayRef) -> Result<BooleanArray, ArrowError> {
    let floats = values
        .as_any()
        .downcast_ref::<Float64Array>()
        .ok_or_else(|| ArrowError::InvalidArgumentError("expected Float64".into()))?;
    if floats.iter().flatten().any(|v| v < 0.0) {
        std::thread::sleep(Duration::from_millis(1400));
    }
    Ok(floats.iter().map(|v| v.map(|_| true)).collect())
}

/// [`Tick`] whose validation is slow on negative values.
#[derive(Schema)]
pub struct SlowTick {
    /// Key.
    #[phlo(unique)]
    id: String,
    /// A value.
    #[phlo(check = slow_when_negative)]
    value: f64,
}

/// What the assets of one test (by run-id prefix) return, and how long the fetch waits.
#[derive(Default, Clone)]
struct Knob {
    rows: Vec<(&'static str, f64)>,
    fetch_delay: Option<Duration>,
}

fn knobs() -> &'static Mutex<HashMap<String, Knob>> {
    static K: OnceLock<Mutex<HashMap<String, Knob>>> = OnceLock::new();
    K.get_or_init(|| Mutex::new(HashMap::new()))
}

fn set_knob(test: &str, knob: Knob) {
    if let Ok(mut all) = knobs().lock() {
        all.insert(test.to_string(), knob);
    }
}

async fn serve(ctx: &PartitionContext) -> Vec<(&'static str, f64)> {
    let prefix = ctx
        .run_id()
        .rsplit_once('-')
        .map_or(ctx.run_id(), |(p, _)| p)
        .to_string();
    let knob = knobs()
        .lock()
        .ok()
        .and_then(|k| k.get(&prefix).cloned())
        .unwrap_or_default();
    if let Some(d) = knob.fetch_delay {
        tokio::time::sleep(d).await;
    }
    knob.rows
}

async fn ticks(ctx: &PartitionContext) -> Vec<Tick> {
    serve(ctx)
        .await
        .into_iter()
        .map(|(id, value)| Tick {
            id: id.into(),
            value,
        })
        .collect()
}

/// The first writer of `dl.ticks` (the default bound).
#[ingestion(table = "dl.ticks", unique_key = "id", schema = Tick, partitioned = false)]
pub async fn dl_ticks(ctx: &PartitionContext) -> phlo::Result<Vec<Tick>> {
    Ok(ticks(ctx).await)
}

/// The second writer of `dl.ticks`, bounded to one second.
#[ingestion(table = "dl.ticks", unique_key = "id", schema = Tick, partitioned = false,
            max_runtime_seconds = 1)]
pub async fn dl_ticks_bounded(ctx: &PartitionContext) -> phlo::Result<Vec<Tick>> {
    Ok(ticks(ctx).await)
}

/// The first writer of `dl.audited`.
#[ingestion(table = "dl.audited", unique_key = "id", schema = Tick, partitioned = false)]
pub async fn dl_audited(ctx: &PartitionContext) -> phlo::Result<Vec<Tick>> {
    Ok(ticks(ctx).await)
}

/// The second writer of `dl.audited`, bounded to one second.
#[ingestion(table = "dl.audited", unique_key = "id", schema = Tick, partitioned = false,
            max_runtime_seconds = 1)]
pub async fn dl_audited_bounded(ctx: &PartitionContext) -> phlo::Result<Vec<Tick>> {
    Ok(ticks(ctx).await)
}

/// A transform of `dl.ticks` that waits as long as the run's knob says first.
#[transform(table = "dl.transformed", unique_key = "id", max_runtime_seconds = 1)]
pub async fn dl_transformed(
    ctx: &PartitionContext,
    dl_ticks: DataFrame,
) -> phlo::Result<DataFrame> {
    let _ = serve(ctx).await;
    Ok(dl_ticks)
}

/// A check that takes three seconds when the staged rows hold `slow`.
#[quality(table = "dl.audited")]
async fn dl_slow_check(scope: &CheckScope) -> phlo::Result<CheckOutcome> {
    let sql = scope.select_sql("id", Some("id = 'slow'"));
    let batches = scope.ctx().sql(&sql).await?.collect().await?;
    if batches.iter().any(|b| b.num_rows() > 0) {
        tokio::time::sleep(Duration::from_secs(3)).await;
    }
    Ok(CheckOutcome::pass())
}

#[ingestion(table = "dl.prepare_slow", unique_key = "id", schema = SlowTick,
            partitioned = false, max_runtime_seconds = 1)]
pub async fn dl_prepare_slow(ctx: &PartitionContext) -> phlo::Result<Vec<SlowTick>> {
    Ok(serve(ctx)
        .await
        .into_iter()
        .map(|(id, value)| SlowTick {
            id: id.into(),
            value,
        })
        .collect())
}

fn project() -> Project {
    let models = vec![ProjectFile {
        path: "dl/dl_doubled.sql",
        text: "-- phlo: materialized = \"table\"\n\
               SELECT id, value * 2 AS doubled FROM {{ ref('dl_ticks') }}",
    }];
    Project {
        models: Box::leak(models.into_boxed_slice()),
        seeds: &[],
        tests: &[],
    }
}

/// What the wrapper does to calls on one table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Slowdown {
    /// `provider` waits this long first.
    Provider(Duration),
    /// `provider` fails with a transient (connection-reset) I/O error.
    ProviderFails,
    /// `commit` waits this long first, then commits.
    Commit(Duration),
}

/// A Delta store that slows down (or fails) calls on one table when armed, and counts
/// the `provider` calls it failed.
#[derive(Debug)]
struct Slow {
    armed: Mutex<Option<(TableName, Slowdown)>>,
    failed_reads: std::sync::atomic::AtomicU32,
}

impl Slow {
    fn new(dir: &std::path::Path) -> Arc<Hooked<Self>> {
        Hooked::new(
            dir,
            Slow {
                armed: Mutex::new(None),
                failed_reads: Default::default(),
            },
        )
    }
    fn arm(&self, table: &str, slowdown: Option<Slowdown>) {
        let table = TableName::parse(table).unwrap_or_else(|e| panic!("{e}"));
        if let Ok(mut a) = self.armed.lock() {
            *a = slowdown.map(|s| (table, s));
        }
    }
    fn on(&self, table: &TableName) -> Option<Slowdown> {
        self.armed
            .lock()
            .ok()
            .and_then(|a| a.as_ref().filter(|(t, _)| t == table).map(|(_, s)| *s))
    }
}

#[async_trait::async_trait]
impl StoreHooks for Slow {
    async fn provider(
        &self,
        table: &TableName,
    ) -> Option<phlo::crates::core::Result<Option<Arc<dyn TableProvider>>>> {
        match self.on(table) {
            Some(Slowdown::Provider(d)) => tokio::time::sleep(d).await,
            Some(Slowdown::ProviderFails) => {
                self.failed_reads
                    .fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                return Some(Err(phlo::crates::core::Error::Io {
                    path: table.to_string(),
                    source: std::io::Error::new(
                        std::io::ErrorKind::ConnectionReset,
                        "connection reset by the object store",
                    ),
                }));
            }
            _ => {}
        }
        None
    }
    async fn commit(
        &self,
        store: &DeltaStore,
        table: &TableName,
        write: Write,
    ) -> phlo::crates::core::Result<CommitOutcome> {
        if let Some(Slowdown::Commit(d)) = self.on(table) {
            tokio::time::sleep(d).await;
        }
        store.commit(table, write).await
    }
}

/// A runtime over `dir` through `store`, with the test's project; runs `<test>-000001`, ….
async fn runtime(
    test: &str,
    store: Arc<Hooked<Slow>>,
    dir: &std::path::Path,
) -> (Runtime, Arc<FixedClock>) {
    let clock = Arc::new(FixedClock::new(now()));
    let rt = Runtime::builder(dir)
        .project(project())
        .store(store)
        .clock(clock.clone())
        .run_ids(Arc::new(SequentialRunIds::new(test)))
        .build()
        .await
        .unwrap_or_else(|e| panic!("runtime: {e}"));
    (rt, clock)
}

const BEFORE: &[(&str, f64)] = &[("a", 1.0), ("b", 2.0)];
const AFTER: &[(&str, f64)] = &[("a", 10.0), ("c", 3.0), ("slow", -1.0)];

/// The first run (all in time), then the second run's input.
async fn seeded(
    test: &str,
    asset: &str,
    store: &Arc<Hooked<Slow>>,
    dir: &std::path::Path,
) -> (Runtime, Arc<FixedClock>) {
    let (rt, clock) = runtime(test, store.clone(), dir).await;
    set_knob(
        test,
        Knob {
            rows: BEFORE.to_vec(),
            fetch_delay: None,
        },
    );
    let first = rt
        .materialize(asset, Unpartitioned)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(first.status, RunStatus::Success);
    set_knob(
        test,
        Knob {
            rows: AFTER.to_vec(),
            fetch_delay: None,
        },
    );
    (rt, clock)
}

async fn rows(rt: &Runtime, table: &str) -> String {
    query(rt, &format!("SELECT id, value FROM {table} ORDER BY id")).await
}

const ROWS_BEFORE: &str = "+----+-------+\n| id | value |\n+----+-------+\n| a  | 1.0   |\n| b  | 2.0   |\n+----+-------+";

/// The run timed out during `step` and wrote nothing: the table is at version 0 with the
/// first run's rows, and the failed run is recorded with the error.
async fn assert_timed_out_in(
    rt: &Runtime,
    result: phlo::Result<phlo::RunReport>,
    table: &str,
    step: &str,
) {
    match &result {
        Err(Error::Timeout { step: s, limit, .. }) => {
            assert_eq!(*s, step, "{result:?}");
            assert!(limit.as_secs_f64() > 0.0);
        }
        other => panic!("expected a timeout during {step}, got {other:?}"),
    }
    assert_eq!(version(rt, table).await, Some(0), "no commit landed");
    assert_eq!(rows(rt, table).await, ROWS_BEFORE);
    let last = rt
        .runs()
        .await
        .unwrap_or_else(|e| panic!("{e}"))
        .pop()
        .unwrap_or_else(|| panic!("no run recorded"));
    assert_eq!(last.status, RunStatus::Failed);
    assert_eq!(
        (last.table_version_before, last.table_version_after),
        (Some(0), Some(0))
    );
    assert!(
        last.error.as_deref().is_some_and(
            |e| e.contains(&format!("during {step}")) && e.contains("nothing was written")
        ),
        "{:?}",
        last.error
    );
}

#[tokio::test]
async fn a_slow_fetch_times_out_and_writes_nothing() {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let store = Slow::new(dir.path());
    let (rt, _) = seeded("dl-fetch", "dl_ticks", &store, dir.path()).await;
    set_knob(
        "dl-fetch",
        Knob {
            rows: AFTER.to_vec(),
            fetch_delay: Some(Duration::from_secs(3)),
        },
    );
    let result = rt.materialize("dl_ticks_bounded", Unpartitioned).await;
    assert_timed_out_in(&rt, result, "dl.ticks", "fetch").await;
}

#[tokio::test]
async fn a_slow_write_plan_times_out_and_writes_nothing() {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let store = Slow::new(dir.path());
    let (rt, _) = seeded("dl-plan", "dl_ticks", &store, dir.path()).await;
    // Planning a merge into the table reads it: that read takes a minute.
    store.arm("dl.ticks", Some(Slowdown::Provider(Duration::from_secs(3))));
    let result = rt.materialize("dl_ticks_bounded", Unpartitioned).await;
    store.arm("dl.ticks", None);
    assert_timed_out_in(&rt, result, "dl.ticks", "write plan").await;
}

#[tokio::test]
async fn a_slow_audit_times_out_writes_nothing_and_records_no_check() {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let store = Slow::new(dir.path());
    let (rt, _) = seeded("dl-audit", "dl_audited", &store, dir.path()).await;
    let checks_before = query(&rt, "SELECT count(*) AS n FROM _phlo.check_results").await;
    // The staged rows hold `slow`: the custom check takes three seconds.
    let result = rt.materialize("dl_audited_bounded", Unpartitioned).await;
    assert_timed_out_in(&rt, result, "dl.audited", "audit").await;
    assert_eq!(
        query(&rt, "SELECT count(*) AS n FROM _phlo.check_results").await,
        checks_before,
        "a cut audit records no result"
    );
}

#[tokio::test]
async fn a_slow_transform_times_out_and_writes_nothing() {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let store = Slow::new(dir.path());
    let (rt, _) = seeded("dl-query", "dl_ticks", &store, dir.path()).await;
    set_knob(
        "dl-query",
        Knob {
            rows: AFTER.to_vec(),
            fetch_delay: Some(Duration::from_secs(3)),
        },
    );
    let result = rt.materialize("dl_transformed", Unpartitioned).await;
    assert!(
        matches!(&result, Err(Error::Timeout { step: "query", .. })),
        "{result:?}"
    );
    assert_eq!(version(&rt, "dl.transformed").await, None);
    let last = rt
        .runs()
        .await
        .unwrap_or_else(|e| panic!("{e}"))
        .pop()
        .unwrap_or_else(|| panic!("no run"));
    assert_eq!(
        (last.asset.as_str(), last.status),
        ("dl_transformed", RunStatus::Failed)
    );
}

#[tokio::test]
async fn a_commit_in_flight_at_the_deadline_lands_whole_and_reports_the_overrun() {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let store = Slow::new(dir.path());
    let (rt, _) = seeded("dl-commit", "dl_ticks", &store, dir.path()).await;
    // The commit starts in time and takes a minute: the deadline passes while it is in
    // flight. It is never cut.
    store.arm(
        "dl.ticks",
        Some(Slowdown::Commit(Duration::from_millis(1400))),
    );
    let report = rt
        .materialize("dl_ticks_bounded", Unpartitioned)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    store.arm("dl.ticks", None);
    assert_eq!(report.status, RunStatus::Success);
    assert!(report.overran_deadline, "{report:?}");
    assert_eq!(
        (report.table_version_before, report.table_version_after),
        (Some(0), Some(1))
    );
    assert_eq!(version(&rt, "dl.ticks").await, Some(1));
    assert_eq!(
        rows(&rt, "dl.ticks").await,
        "+------+-------+\n| id   | value |\n+------+-------+\n| a    | 10.0  |\n| b    | 2.0   |\n| c    | 3.0   |\n| slow | -1.0  |\n+------+-------+"
    );
    // Recorded as it happened.
    let last = rt
        .runs()
        .await
        .unwrap_or_else(|e| panic!("{e}"))
        .pop()
        .unwrap_or_else(|| panic!("no run"));
    assert!(last.overran_deadline && last.status == RunStatus::Success);
    // A run in time reports no overrun.
    let again = rt
        .materialize("dl_ticks_bounded", Unpartitioned)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert!(!again.overran_deadline);
}

#[tokio::test]
async fn a_slow_prepare_times_out_and_writes_nothing() {
    // Validation runs on the blocking pool, which tokio's paused clock does not see: this
    // one waits one real second (the bound) while a custom check takes 1.4 s.
    // (Unseeded: a first run would have to fit in the bound of real time too.)
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let (rt, _) = runtime("dl-prepare", Slow::new(dir.path()), dir.path()).await;
    set_knob(
        "dl-prepare",
        Knob {
            rows: AFTER.to_vec(),
            fetch_delay: None,
        },
    );
    // Validation would pass, after 1.4 s: the run is cut at 1 s instead.
    let result = rt.materialize("dl_prepare_slow", Unpartitioned).await;
    assert!(
        matches!(
            &result,
            Err(Error::Timeout {
                step: "prepare",
                ..
            })
        ),
        "{result:?}"
    );
    assert_eq!(version(&rt, "dl.prepare_slow").await, None);
    let runs = rt.runs().await.unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(runs.len(), 1);
    assert_eq!(runs[0].status, RunStatus::Failed);
}

#[tokio::test]
async fn no_commit_starts_after_the_deadline() {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let store = Slow::new(dir.path());
    let table = TableName::parse("dl.gate").unwrap_or_else(|e| panic!("{e}"));
    let schema = Arc::new(ArrowSchema::new(vec![
        Field::new("id", DataType::Utf8, false),
        Field::new("value", DataType::Float64, false),
    ]));
    let load = RecordBatch::try_new(
        schema,
        vec![
            Arc::new(StringArray::from(vec!["a"])) as ArrayRef,
            Arc::new(Float64Array::from(vec![1.0])),
        ],
    )
    .unwrap_or_else(|e| panic!("{e}"));
    let request = || WriteRequest {
        table: &table,
        load: load.clone(),
        strategy: MergeStrategy::Append,
        key: &[],
        scope: PartitionScope::Whole,
        layout: TableLayout::plain(),
        allow_new_columns: false,
        replace_schema: false,
        app_id: "dl-gate".into(),
        metadata: Vec::new(),
    };
    let planned = phlo::crates::ingest::write::plan(store.as_ref(), &request())
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    // Planned in time; the deadline passes before the commit would start.
    let deadline = tokio::time::Instant::now();
    tokio::time::sleep(Duration::from_millis(1)).await;
    let late = phlo::crates::ingest::write::write_planned_until(
        store.as_ref(),
        request(),
        planned.clone(),
        Some(deadline),
    )
    .await;
    assert!(
        matches!(&late, Err(phlo::crates::ingest::Error::Deadline { table }) if table == "dl.gate"),
        "{late:?}"
    );
    assert_eq!(
        store
            .version(&table)
            .await
            .unwrap_or_else(|e| panic!("{e}")),
        None
    );
    // In time, the same plan commits.
    let in_time = phlo::crates::ingest::write::write_planned_until(
        store.as_ref(),
        request(),
        planned,
        Some(tokio::time::Instant::now() + Duration::from_secs(10)),
    )
    .await
    .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(in_time.version_after, Some(0));
}

#[tokio::test]
async fn a_transient_storage_failure_in_a_models_query_is_not_retried() {
    // A model's query reads the warehouse's own tables: a failure there is the storage's
    // (whose client retries its own requests) or the query's, and is reported at once;
    // `max_retries` retries user functions only.
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let store = Slow::new(dir.path());
    let (rt2, clock) = seeded("dl-transient", "dl_ticks", &store, dir.path()).await;
    store.arm("dl.ticks", Some(Slowdown::ProviderFails));
    let result = rt2.materialize("dl_doubled", Unpartitioned).await;
    store.arm("dl.ticks", None);
    let err = result.err().unwrap_or_else(|| panic!("the read failed"));
    assert!(
        err.to_string().contains("connection reset"),
        "the storage's error is reported: {err}"
    );
    assert_eq!(
        store.failed_reads.load(std::sync::atomic::Ordering::SeqCst),
        1,
        "read once, not retried"
    );
    assert!(
        clock.sleeps().is_empty(),
        "no backoff: {:?}",
        clock.sleeps()
    );
    assert_eq!(version(&rt2, "dl.dl_doubled").await, None);
    let last = rt2
        .runs()
        .await
        .unwrap_or_else(|e| panic!("{e}"))
        .pop()
        .unwrap_or_else(|| panic!("no run"));
    assert_eq!(last.status, RunStatus::Failed);
}
