//! `serve`: cron ticks on a virtual clock (missed-tick policies, daylight saving in
//! London, `--once`), the warehouse's scheduler lock, eager automation on upstream change,
//! freshness with `status` exit codes, and a loop that does not spin.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use phlo::prelude::*;
use phlo::schedule::{Cause, MissedTicks, ScheduleOptions, ScheduledRun, Scheduler, SchedulerLock};
use phlo::{Freshness, Project, ProjectFile, Registry, RunStatus, SequentialRunIds, VirtualClock};

/// One row per run: the partition's text and when the window starts.
#[derive(Schema)]
pub struct Stamp {
    /// The partition (or `table` when unpartitioned).
    #[phlo(unique)]
    id: String,
    /// The window's start (the run's instant when unpartitioned).
    at: DateTime<Utc>,
}

fn stamp(ctx: &PartitionContext) -> Vec<Stamp> {
    let id = ctx
        .partition()
        .map_or_else(|| "table".to_string(), ToString::to_string);
    let at = ctx
        .window_start()
        .unwrap_or_else(|| DateTime::from_timestamp(0, 0).unwrap_or_default());
    vec![Stamp { id, at }]
}

#[ingestion(table = "sched.hourly_london", unique_key = "id", schema = Stamp, cron = "0 * * * *",
            partitions = hourly(start = "2025-01-01T00", tz = "Europe/London"), freshness_hours = (2, 4))]
pub async fn sched_hourly(ctx: &PartitionContext) -> phlo::Result<Vec<Stamp>> {
    Ok(stamp(ctx))
}

#[ingestion(table = "sched.daily_london", unique_key = "id", schema = Stamp, cron = "0 0 * * *",
            partitions = daily(start = "2025-01-01", tz = "Europe/London"), freshness_hours = (24, 48))]
pub async fn sched_daily(ctx: &PartitionContext) -> phlo::Result<Vec<Stamp>> {
    Ok(stamp(ctx))
}

#[ingestion(table = "sched.snapshot", unique_key = "id", schema = Stamp, cron = "*/15 * * * *",
            partitioned = false, freshness_hours = (24, 48))]
pub async fn sched_snapshot(ctx: &PartitionContext) -> phlo::Result<Vec<Stamp>> {
    Ok(stamp(ctx))
}

/// A correction of the readings, seen only by the runs of the staleness test (`eager2-…`).
static CORRECTION: std::sync::atomic::AtomicI64 = std::sync::atomic::AtomicI64::new(0);

/// Upstream of the eager model: no cron, materialized by hand.
#[ingestion(table = "sched.readings", unique_key = "id", schema = Stamp)]
pub async fn sched_readings(ctx: &PartitionContext) -> phlo::Result<Vec<Stamp>> {
    let mut rows = stamp(ctx);
    if ctx.run_id().starts_with("eager2-") {
        let seconds = CORRECTION.load(std::sync::atomic::Ordering::SeqCst);
        for r in &mut rows {
            r.at += phlo::chrono::Duration::seconds(seconds);
        }
    }
    Ok(rows)
}

fn t(text: &str) -> DateTime<Utc> {
    text.parse().unwrap_or_else(|e| panic!("{text}: {e}"))
}

fn leaked(files: Vec<ProjectFile>) -> &'static [ProjectFile] {
    Box::leak(files.into_boxed_slice())
}

/// A runtime over `dir` with only `assets` (and `project`), on `clock`.
async fn runtime(
    test: &str,
    dir: &std::path::Path,
    assets: &[&str],
    project: Project,
    clock: &Arc<VirtualClock>,
) -> Runtime {
    let global = Registry::global().unwrap_or_else(|e| panic!("{e}"));
    let descriptors = assets
        .iter()
        .map(|a| global.get(a).unwrap_or_else(|e| panic!("{e}")).descriptor);
    let registry = Registry::from_descriptors(descriptors)
        .and_then(|r| r.with_project(project))
        .unwrap_or_else(|e| panic!("{e}"));
    Runtime::builder(dir)
        .registry(registry)
        .clock(clock.clone())
        .run_ids(Arc::new(SequentialRunIds::new(test)))
        .build()
        .await
        .unwrap_or_else(|e| panic!("runtime: {e}"))
}

/// A scheduler serving in a task until the returned sender fires.
struct Serving {
    stop: tokio::sync::oneshot::Sender<()>,
    task: tokio::task::JoinHandle<phlo::Result<Vec<ScheduledRun>>>,
}

async fn serve(scheduler: &Scheduler, clock: &Arc<VirtualClock>) -> Serving {
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let s = scheduler.clone();
    let task = tokio::spawn(async move {
        s.serve(async move {
            let _ = stopped.await;
        })
        .await
    });
    clock.sleeping().await;
    Serving { stop, task }
}

impl Serving {
    async fn stop(self) -> Vec<ScheduledRun> {
        let _ = self.stop.send(());
        self.task
            .await
            .unwrap_or_else(|e| panic!("{e}"))
            .unwrap_or_else(|e| panic!("{e}"))
    }
}

/// `(tick instant, partition)` of each tick run of `asset`.
/// The ticks a scheduler serving `asset` alone makes from `start` over `span` of a virtual
/// clock (waking at least every `interval`), and the runtime it served.
async fn serve_ticks(
    test: &str,
    dir: &std::path::Path,
    asset: &str,
    start: &str,
    interval: Duration,
    span: Duration,
) -> (Runtime, Vec<(String, String)>) {
    let clock = Arc::new(VirtualClock::new(t(start)));
    let rt = runtime(test, dir, &[asset], Project::default(), &clock).await;
    let scheduler = Scheduler::new(&rt, ScheduleOptions::default().interval(interval))
        .unwrap_or_else(|e| panic!("{e}"));
    let serving = serve(&scheduler, &clock).await;
    clock.advance(span).await;
    let ticks = ticks(&serving.stop().await, asset);
    (rt, ticks)
}

fn ticks(runs: &[ScheduledRun], asset: &str) -> Vec<(String, String)> {
    runs.iter()
        .filter(|r| r.asset == asset)
        .filter_map(|r| match r.cause {
            Cause::Tick { at } => Some((
                at.format("%m-%dT%H:%MZ").to_string(),
                r.partition.clone().unwrap_or_default(),
            )),
            Cause::Eager => None,
        })
        .collect()
}

fn hours(n: u64) -> Duration {
    Duration::from_secs(n * 3600)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn catch_up_runs_the_newest_missed_ticks_after_an_outage() {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let clock = Arc::new(VirtualClock::new(t("2025-01-15T00:30:00Z")));
    let rt = runtime(
        "catchup",
        dir.path(),
        &["sched_hourly"],
        Project::default(),
        &clock,
    )
    .await;
    let options = ScheduleOptions::default().missed(MissedTicks::CatchUp(2));
    let first = Scheduler::new(&rt, options.clone()).unwrap_or_else(|e| panic!("{e}"));
    let serving = serve(&first, &clock).await;
    clock.advance(hours(2)).await;
    let runs = serving.stop().await;
    // London is on GMT in January: each tick completes the hour before it.
    assert_eq!(
        ticks(&runs, "sched_hourly"),
        [
            ("01-15T01:00Z".into(), "2025-01-15T00".into()),
            ("01-15T02:00Z".into(), "2025-01-15T01".into())
        ]
    );
    assert!(
        !SchedulerLock::path_in(dir.path()).exists(),
        "lock released on shutdown"
    );
    // Off for five hours: ticks 03:00 … 07:00 are missed; the newest two run on start.
    clock.jump(hours(5));
    let second = Scheduler::new(&rt, options).unwrap_or_else(|e| panic!("{e}"));
    let monitor = second.monitor();
    let serving = serve(&second, &clock).await;
    assert_eq!(monitor.skipped().get("sched_hourly"), Some(&3));
    clock.advance(hours(1)).await;
    let runs = serving.stop().await;
    assert_eq!(
        ticks(&runs, "sched_hourly"),
        [
            ("01-15T06:00Z".into(), "2025-01-15T05".into()),
            ("01-15T07:00Z".into(), "2025-01-15T06".into()),
            ("01-15T08:00Z".into(), "2025-01-15T07".into())
        ]
    );
    assert!(
        runs.iter().all(|r| r.status == RunStatus::Success),
        "{runs:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn skip_missed_waits_for_the_next_tick() {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let clock = Arc::new(VirtualClock::new(t("2025-01-15T00:30:00Z")));
    let rt = runtime(
        "skip",
        dir.path(),
        &["sched_hourly"],
        Project::default(),
        &clock,
    )
    .await;
    let options = ScheduleOptions::default().missed(MissedTicks::Skip);
    let first = Scheduler::new(&rt, options.clone()).unwrap_or_else(|e| panic!("{e}"));
    let serving = serve(&first, &clock).await;
    clock.advance(hours(1)).await;
    assert_eq!(serving.stop().await.len(), 1);
    clock.jump(hours(5)); // 02:00 … 06:00 missed
    let second = Scheduler::new(&rt, options).unwrap_or_else(|e| panic!("{e}"));
    let monitor = second.monitor();
    let serving = serve(&second, &clock).await;
    assert_eq!(monitor.skipped().get("sched_hourly"), Some(&5));
    assert!(monitor.runs().is_empty(), "nothing missed runs");
    clock.advance(hours(1)).await;
    let runs = serving.stop().await;
    assert_eq!(
        ticks(&runs, "sched_hourly"),
        [("01-15T07:00Z".into(), "2025-01-15T06".into())]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hourly_ticks_across_both_london_dst_days() {
    // Spring forward: 00:00 GMT, then 02:00 BST — local 01:00 does not exist.
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let (_rt, served) = serve_ticks(
        "dsthour",
        dir.path(),
        "sched_hourly",
        "2025-03-29T23:30:00Z",
        hours(1),
        Duration::from_secs(4 * 3600),
    )
    .await;
    assert_eq!(
        served,
        [
            ("03-30T00:00Z".into(), "2025-03-29T23".into()),
            ("03-30T01:00Z".into(), "2025-03-30T00".into()),
            ("03-30T02:00Z".into(), "2025-03-30T02".into()),
            ("03-30T03:00Z".into(), "2025-03-30T03".into())
        ]
    );
    // Fall back: local 01:00 happens twice, and each gets its tick and its partition.
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let (rt, served) = serve_ticks(
        "dsthour2",
        dir.path(),
        "sched_hourly",
        "2025-10-25T23:30:00Z",
        hours(1),
        Duration::from_secs(3 * 3600),
    )
    .await;
    assert_eq!(
        served,
        [
            ("10-26T00:00Z".into(), "2025-10-26T00".into()),
            ("10-26T01:00Z".into(), "2025-10-26T01+01:00".into()),
            ("10-26T02:00Z".into(), "2025-10-26T01+00:00".into())
        ]
    );
    let rows = crate::support::query(&rt, "SELECT id FROM sched.hourly_london ORDER BY at").await;
    assert!(
        rows.contains("2025-10-26T01+01:00") && rows.contains("2025-10-26T01+00:00"),
        "{rows}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn daily_ticks_across_both_london_dst_days() {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let (_rt, served) = serve_ticks(
        "dstday",
        dir.path(),
        "sched_daily",
        "2025-03-29T12:00:00Z",
        hours(6),
        hours(60),
    )
    .await;
    // Local midnight is 00:00Z before the change and 23:00Z after; the 23-hour day
    // 2025-03-30 is materialized at the midnight that ends it.
    assert_eq!(
        served,
        [
            ("03-30T00:00Z".into(), "2025-03-29".into()),
            ("03-30T23:00Z".into(), "2025-03-30".into()),
            ("03-31T23:00Z".into(), "2025-03-31".into())
        ]
    );
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let (_rt, served) = serve_ticks(
        "dstday2",
        dir.path(),
        "sched_daily",
        "2025-10-25T12:00:00Z",
        hours(6),
        hours(48),
    )
    .await;
    // The 25-hour day 2025-10-26 runs from 23:00Z to 00:00Z two days later.
    assert_eq!(
        served,
        [
            ("10-25T23:00Z".into(), "2025-10-25".into()),
            ("10-27T00:00Z".into(), "2025-10-26".into())
        ]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_second_scheduler_is_refused_naming_the_holder_and_a_stale_lock_is_taken_over() {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let clock = Arc::new(VirtualClock::new(t("2025-01-15T00:30:00Z")));
    let rt = runtime(
        "lock",
        dir.path(),
        &["sched_snapshot"],
        Project::default(),
        &clock,
    )
    .await;
    let first = Scheduler::new(&rt, ScheduleOptions::default()).unwrap_or_else(|e| panic!("{e}"));
    let serving = serve(&first, &clock).await;
    let second = Scheduler::new(&rt, ScheduleOptions::default()).unwrap_or_else(|e| panic!("{e}"));
    match second.run_once().await {
        Err(e @ phlo::Error::SchedulerLocked { .. }) => {
            let text = e.to_string();
            assert!(
                text.contains(&format!("pid {}", std::process::id())),
                "{text}"
            );
            assert!(text.contains("started 2025-01-15T00:30:00+00:00"), "{text}");
            assert_eq!(e.class(), phlo::ErrorClass::Usage, "exit code 2");
        }
        other => panic!("{other:?}"),
    }
    // The holder's heartbeats keep it alive across a long run of virtual time.
    clock.advance(hours(1)).await;
    assert!(matches!(
        second.run_once().await,
        Err(phlo::Error::SchedulerLocked { .. })
    ));
    serving.stop().await;
    // A lock left by a process that is gone on this host is taken over (its heartbeat is
    // recent: the dead pid alone decides).
    clock.jump(Duration::from_secs(15 * 60));
    let path = SchedulerLock::path_in(dir.path());
    let host = phlo::schedule::lock::host_name();
    let dead = format!(
        r#"{{"pid":4000000000,"host":"{host}","started_at":"2025-01-14T00:00:00Z","heartbeat":"2025-01-15T01:45:00Z","token":"gone"}}"#
    );
    std::fs::write(&path, dead).unwrap_or_else(|e| panic!("{e}"));
    let runs = second.run_once().await.unwrap_or_else(|e| panic!("{e}"));
    assert!(!runs.is_empty());
    assert!(!path.exists(), "released after --once");
    // So is one from another host whose heartbeat is older than the threshold.
    let old = r#"{"pid":1,"host":"elsewhere","started_at":"2025-01-14T00:00:00Z","heartbeat":"2025-01-15T00:00:00Z","token":"old"}"#;
    std::fs::write(&path, old).unwrap_or_else(|e| panic!("{e}"));
    second.run_once().await.unwrap_or_else(|e| panic!("{e}"));
    // …but not one from another host with a recent heartbeat.
    let recent = r#"{"pid":1,"host":"elsewhere","started_at":"2025-01-14T00:00:00Z","heartbeat":"2025-01-15T01:44:00Z","token":"live"}"#;
    std::fs::write(&path, recent).unwrap_or_else(|e| panic!("{e}"));
    match second.run_once().await {
        Err(phlo::Error::SchedulerLocked { holder, .. }) => {
            assert!(holder.contains("pid 1 on elsewhere"), "{holder}")
        }
        other => panic!("{other:?}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn once_runs_what_is_due_now_and_then_nothing() {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let clock = Arc::new(VirtualClock::new(t("2025-01-15T12:00:10Z")));
    let rt = runtime(
        "once",
        dir.path(),
        &["sched_hourly", "sched_daily", "sched_snapshot"],
        Project::default(),
        &clock,
    )
    .await;
    let scheduler =
        Scheduler::new(&rt, ScheduleOptions::default()).unwrap_or_else(|e| panic!("{e}"));
    let runs = scheduler.run_once().await.unwrap_or_else(|e| panic!("{e}"));
    let summary: Vec<(String, Option<String>)> = runs
        .iter()
        .map(|r| (r.asset.clone(), r.partition.clone()))
        .collect();
    assert_eq!(
        summary,
        [
            ("sched_daily".to_string(), Some("2025-01-14".to_string())),
            (
                "sched_hourly".to_string(),
                Some("2025-01-15T11".to_string())
            ),
            ("sched_snapshot".to_string(), None),
        ]
    );
    // Called again a minute later (a system cron every minute): nothing is due.
    clock.jump(Duration::from_secs(60));
    let again = Scheduler::new(&rt, ScheduleOptions::default()).unwrap_or_else(|e| panic!("{e}"));
    assert!(
        again
            .run_once()
            .await
            .unwrap_or_else(|e| panic!("{e}"))
            .is_empty()
    );
    // Called three hours later with the default policy: the tick due now plus the newest
    // missed one.
    clock.jump(hours(3));
    let later = Scheduler::new(&rt, ScheduleOptions::default()).unwrap_or_else(|e| panic!("{e}"));
    let runs = later.run_once().await.unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(
        ticks(&runs, "sched_hourly"),
        [
            ("01-15T14:00Z".into(), "2025-01-15T13".into()),
            ("01-15T15:00Z".into(), "2025-01-15T14".into())
        ]
    );
}

#[test]
fn serve_once_from_the_command_line() -> std::io::Result<()> {
    let dir = tempfile::tempdir()?;
    let d = dir.path().to_string_lossy().to_string();
    let run = |args: &[&str]| {
        let mut argv = vec!["app", "--warehouse", d.as_str()];
        argv.extend_from_slice(args);
        format!("{:?}", phlo::cli::run(argv))
    };
    let code = |n: u8| format!("{:?}", std::process::ExitCode::from(n));
    assert_eq!(run(&["serve", "--once", "--skip-missed"]), code(0));
    assert!(!SchedulerLock::path_in(dir.path()).exists());
    // A live holder (this process, heartbeat ahead of any clock) → refused with code 2.
    let host = phlo::schedule::lock::host_name();
    let pid = std::process::id();
    let held = format!(
        r#"{{"pid":{pid},"host":"{host}","started_at":"2999-01-01T00:00:00Z","heartbeat":"2999-01-01T00:00:00Z","token":"t"}}"#
    );
    std::fs::write(SchedulerLock::path_in(dir.path()), held)?;
    assert_eq!(run(&["serve", "--once"]), code(2));
    assert_eq!(
        run(&["serve", "--catch-up", "1", "--skip-missed"]),
        code(2),
        "usage error"
    );
    Ok(())
}

const EAGER_MODEL: &str = "-- phlo: materialized = \"incremental\", unique_key = \"id\", partitions = \"daily\", start = \"2025-01-01\"
-- phlo: automation = \"eager\", freshness_hours = [24, 48]
SELECT id, at FROM {{ ref('sched_readings') }}
";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_eager_model_runs_its_mapped_partition_after_an_upstream_change() {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let clock = Arc::new(VirtualClock::new(t("2025-01-15T12:00:00Z")));
    let project = Project {
        models: leaked(vec![ProjectFile {
            path: "marts/sched_mart.sql",
            text: EAGER_MODEL,
        }]),
        seeds: &[],
        tests: &[],
    };
    let rt = runtime("eager", dir.path(), &["sched_readings"], project, &clock).await;
    let scheduler =
        Scheduler::new(&rt, ScheduleOptions::default()).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(scheduler.eager_assets(), ["sched_mart"]);
    let serving = serve(&scheduler, &clock).await;
    rt.materialize("sched_readings", "2025-01-14")
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    // The next evaluation (30 s) runs the model's partition that reads it.
    clock.advance(Duration::from_secs(30)).await;
    let monitor = scheduler.monitor();
    let eager: Vec<(String, Option<String>, RunStatus)> = monitor
        .runs()
        .iter()
        .map(|r| (r.asset.clone(), r.partition.clone(), r.status))
        .collect();
    assert_eq!(
        eager,
        [(
            "sched_mart".to_string(),
            Some("2025-01-14".to_string()),
            RunStatus::Success
        )]
    );
    // Nothing changed since: the next evaluations run nothing.
    clock.advance(Duration::from_secs(120)).await;
    assert_eq!(monitor.runs().len(), 1);
    // The scheduler recorded the model's freshness after its run.
    let freshness = monitor.freshness();
    assert_eq!(
        freshness.get("sched_mart").map(|s| s.partitions.len()),
        Some(1)
    );
    serving.stop().await;
    let rows = crate::support::query(&rt, "SELECT id FROM marts.sched_mart").await;
    assert!(rows.contains("2025-01-14"), "{rows}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_macro_asset_named_eager_in_the_options_and_a_stale_partition_is_rebuilt() {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let clock = Arc::new(VirtualClock::new(t("2025-01-15T12:00:00Z")));
    let plain = "-- phlo: materialized = \"incremental\", unique_key = \"id\", partitions = \"daily\", start = \"2025-01-01\"
SELECT id, at FROM {{ ref('sched_readings') }}
";
    let project = Project {
        models: leaked(vec![ProjectFile {
            path: "marts/sched_plain.sql",
            text: plain,
        }]),
        seeds: &[],
        tests: &[],
    };
    let rt = runtime("eager2", dir.path(), &["sched_readings"], project, &clock).await;
    // Built once, before the scheduler starts.
    rt.materialize("sched_readings", "2025-01-13")
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    rt.materialize("sched_plain", "2025-01-13")
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let options = ScheduleOptions::default().eager("sched_plain");
    let scheduler = Scheduler::new(&rt, options).unwrap_or_else(|e| panic!("{e}"));
    let serving = serve(&scheduler, &clock).await;
    assert!(
        scheduler.monitor().runs().is_empty(),
        "nothing is stale at start"
    );
    // Moving a day on rewrites nothing for 2025-01-13 (same rows): no new version, so
    // nothing is stale; 2025-01-12 is new upstream and never built.
    rt.materialize("sched_readings", "2025-01-12")
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    clock.advance(Duration::from_secs(30)).await;
    let runs: Vec<Option<String>> = scheduler
        .monitor()
        .runs()
        .iter()
        .map(|r| r.partition.clone())
        .collect();
    assert_eq!(runs, [Some("2025-01-12".to_string())]);
    // A correction of 2025-01-13 upstream (a new table version) makes the built
    // partition stale: the next evaluation rebuilds it, and only it.
    CORRECTION.store(60, std::sync::atomic::Ordering::SeqCst);
    let fix = rt
        .materialize("sched_readings", "2025-01-13")
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(fix.rows_updated, 1);
    assert_eq!(
        rt.stale("sched_plain")
            .await
            .unwrap_or_else(|e| panic!("{e}")),
        [Some("2025-01-13".to_string())]
    );
    clock.advance(Duration::from_secs(30)).await;
    let runs: Vec<(Option<String>, RunStatus)> = scheduler
        .monitor()
        .runs()
        .iter()
        .map(|r| (r.partition.clone(), r.status))
        .collect();
    assert_eq!(
        runs,
        [
            (Some("2025-01-12".to_string()), RunStatus::Success),
            (Some("2025-01-13".to_string()), RunStatus::Success)
        ]
    );
    assert!(
        rt.stale("sched_plain")
            .await
            .unwrap_or_else(|e| panic!("{e}"))
            .is_empty()
    );
    serving.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_loop_sleeps_until_the_next_tick() {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let clock = Arc::new(VirtualClock::new(t("2025-01-15T00:00:30Z")));
    let rt = runtime(
        "nospin",
        dir.path(),
        &["sched_hourly"],
        Project::default(),
        &clock,
    )
    .await;
    let interval = Duration::from_secs(600);
    let scheduler = Scheduler::new(&rt, ScheduleOptions::default().interval(interval))
        .unwrap_or_else(|e| panic!("{e}"));
    let monitor = scheduler.monitor();
    let serving = serve(&scheduler, &clock).await;
    let sleeps = clock.sleeps_requested();
    // 59 minutes to the next tick: woken only by the heartbeat, every 10 minutes.
    clock.advance(Duration::from_secs(59 * 60)).await;
    assert!(monitor.runs().is_empty());
    assert!(monitor.wakeups() <= 6, "{} wake-ups", monitor.wakeups());
    assert!(clock.sleeps_requested() - sleeps <= 6);
    clock.advance(Duration::from_secs(60)).await;
    assert_eq!(monitor.runs().len(), 1, "the 01:00 tick ran");
    let runs = serving.stop().await;
    assert_eq!(
        ticks(&runs, "sched_hourly"),
        [("01-15T01:00Z".into(), "2025-01-15T00".into())]
    );
}

/// An asset's verdict and its partitions'.
type Verdicts = (Option<Freshness>, Vec<(Option<String>, Option<Freshness>)>);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn freshness_per_partition_and_by_the_tables_commit_time() {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let clock = Arc::new(VirtualClock::new(t("2025-01-15T12:00:00Z")));
    let rt = runtime(
        "freshsched",
        dir.path(),
        &["sched_daily", "sched_snapshot"],
        Project::default(),
        &clock,
    )
    .await;
    let verdicts = |s: &[phlo::AssetStatus]| -> BTreeMap<String, Verdicts> {
        s.iter()
            .map(|a| {
                (
                    a.asset.clone(),
                    (
                        a.freshness,
                        a.partitions
                            .iter()
                            .map(|p| (p.partition.clone(), p.freshness))
                            .collect(),
                    ),
                )
            })
            .collect()
    };
    let before = rt
        .status_of("sched_daily sched_snapshot")
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(
        verdicts(&before).get("sched_snapshot").map(|v| v.0),
        Some(Some(Freshness::Unknown))
    );
    rt.materialize("sched_daily", "2025-01-13")
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    rt.materialize("sched_snapshot", Unpartitioned)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    clock.jump(hours(30));
    // 30 hours on, 2025-01-14 (the latest complete day at 18:00 on the 16th is the 15th).
    rt.materialize("sched_daily", "2025-01-15")
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    clock.jump(hours(20));
    // The snapshot runs again and finds the same row: a successful run, no commit.
    let again = rt
        .materialize("sched_snapshot", Unpartitioned)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(again.table_version_before, again.table_version_after);
    let status = rt
        .status_of("sched_daily sched_snapshot")
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let v = verdicts(&status);
    // Daily: 2025-01-13 is 50 h old (FAIL), 2025-01-15 20 h (PASS); the latest complete
    // day at 2025-01-17T08:00Z is 2025-01-16, never run → the asset FAILs.
    assert_eq!(
        v.get("sched_daily"),
        Some(&(
            Some(Freshness::Fail),
            vec![
                (Some("2025-01-13".to_string()), Some(Freshness::Fail)),
                (Some("2025-01-15".to_string()), Some(Freshness::Pass)),
            ]
        ))
    );
    // Snapshot: its run is fresh (PASS), but its table last changed 50 h ago → FAIL.
    assert_eq!(
        v.get("sched_snapshot"),
        Some(&(Some(Freshness::Fail), vec![(None, Some(Freshness::Pass))]))
    );
    let snapshot = status.iter().find(|s| s.asset == "sched_snapshot");
    assert_eq!(
        snapshot.and_then(|s| s.last_commit),
        Some(t("2025-01-15T12:00:00Z"))
    );
}

#[test]
fn status_takes_a_selection_and_exits_1_on_fail() -> std::io::Result<()> {
    let dir = tempfile::tempdir()?;
    let d = dir.path().to_string_lossy().to_string();
    let run = |args: &[&str]| {
        let mut argv = vec!["app", "--warehouse", d.as_str()];
        argv.extend_from_slice(args);
        format!("{:?}", phlo::cli::run(argv))
    };
    let code = |n: u8| format!("{:?}", std::process::ExitCode::from(n));
    // Never materialized: UNKNOWN → 0.
    assert_eq!(run(&["status", "sched_snapshot"]), code(0));
    // Materialized now (the CLI's clock is the system clock): PASS → 0.
    assert_eq!(run(&["materialize", "sched_snapshot"]), code(0));
    assert_eq!(run(&["--json", "status", "sched_snapshot"]), code(0));
    assert_eq!(run(&["status", "--asset", "sched_snapshot"]), code(0));
    // A day materialized long ago: its latest complete day never ran → FAIL → 1.
    assert_eq!(
        run(&["materialize", "sched_daily", "--partition", "2025-01-02"]),
        code(0)
    );
    assert_eq!(run(&["status", "sched_daily sched_snapshot"]), code(1));
    assert_eq!(
        run(&["status", "nope"]),
        code(2),
        "an unknown asset is a usage error"
    );
    Ok(())
}

#[tokio::test]
async fn a_bad_model_cron_or_an_unknown_eager_name_is_a_typed_error_before_anything_runs() {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let clock = Arc::new(VirtualClock::new(t("2025-01-15T12:00:00Z")));
    let bad = "-- phlo: materialized = \"table\", cron = \"0 25 * * *\"
SELECT id, at FROM {{ ref('sched_readings') }}
";
    let project = Project {
        models: leaked(vec![ProjectFile {
            path: "marts/sched_bad_cron.sql",
            text: bad,
        }]),
        seeds: &[],
        tests: &[],
    };
    let rt = runtime("badcron", dir.path(), &["sched_readings"], project, &clock).await;
    match Scheduler::new(&rt, ScheduleOptions::default()) {
        Err(e @ phlo::Error::InvalidSchedule { .. }) => {
            let text = e.to_string();
            assert!(
                text.contains("`sched_bad_cron`") && text.contains("0 25 * * *"),
                "{text}"
            );
            assert_eq!(e.class(), phlo::ErrorClass::Usage);
        }
        other => panic!("{other:?}"),
    }
    let rt = runtime(
        "badeager",
        dir.path(),
        &["sched_readings"],
        Project::default(),
        &clock,
    )
    .await;
    assert!(matches!(
        Scheduler::new(&rt, ScheduleOptions::default().eager("nope")),
        Err(phlo::Error::UnknownAsset { .. })
    ));
    // Nothing ran: no runs log, no lock, no state.
    assert!(rt.runs().await.unwrap_or_else(|e| panic!("{e}")).is_empty());
    assert!(!SchedulerLock::path_in(dir.path()).exists());
    assert!(!phlo::schedule::SchedulerState::path_in(dir.path()).exists());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_scheduler_whose_lock_was_taken_over_stops_at_its_next_heartbeat() {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let clock = Arc::new(VirtualClock::new(t("2025-01-15T00:30:00Z")));
    let rt = runtime(
        "stolen",
        dir.path(),
        &["sched_hourly"],
        Project::default(),
        &clock,
    )
    .await;
    let scheduler =
        Scheduler::new(&rt, ScheduleOptions::default()).unwrap_or_else(|e| panic!("{e}"));
    let serving = serve(&scheduler, &clock).await;
    // Another host judged this lock stale and took it.
    let other = r#"{"pid":1,"host":"elsewhere","started_at":"2025-01-15T00:30:00Z","heartbeat":"2025-01-15T00:30:00Z","token":"theirs"}"#;
    std::fs::write(SchedulerLock::path_in(dir.path()), other).unwrap_or_else(|e| panic!("{e}"));
    clock.advance(Duration::from_secs(30)).await;
    let _ = serving.stop.send(());
    let outcome = serving.task.await.unwrap_or_else(|e| panic!("{e}"));
    match outcome {
        Err(phlo::Error::SchedulerLocked { holder, .. }) => {
            assert!(holder.contains("pid 1 on elsewhere"), "{holder}")
        }
        other => panic!("{other:?}"),
    }
    // The other holder's lock is left in place.
    let left = std::fs::read_to_string(SchedulerLock::path_in(dir.path())).unwrap_or_default();
    assert!(left.contains("theirs"), "{left}");
}

#[tokio::test]
async fn serve_on_a_clock_that_never_moves_is_an_error_not_a_spin() {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let rt = Runtime::builder(dir.path())
        .registry(
            Registry::from_descriptors([Registry::global()
                .and_then(|g| g.get("sched_hourly").map(|a| a.descriptor))
                .unwrap_or_else(|e| panic!("{e}"))])
            .unwrap_or_else(|e| panic!("{e}")),
        )
        .clock(Arc::new(phlo::FixedClock::new(t("2025-01-15T00:30:00Z"))))
        .build()
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let scheduler =
        Scheduler::new(&rt, ScheduleOptions::default()).unwrap_or_else(|e| panic!("{e}"));
    let outcome = scheduler.serve(std::future::pending()).await;
    assert!(
        matches!(&outcome, Err(phlo::Error::InvalidArgument { message }) if message.contains("does not advance")),
        "{outcome:?}"
    );
    assert!(
        !SchedulerLock::path_in(dir.path()).exists(),
        "the lock is released"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sql_model_with_a_cron_in_its_header_ticks_like_an_ingestion_asset() {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let clock = Arc::new(VirtualClock::new(t("2025-01-14T23:00:00Z")));
    let model = "-- phlo: materialized = \"incremental\", unique_key = \"id\", partitions = \"daily\", start = \"2025-01-01\"
-- phlo: cron = \"0 0 * * *\", freshness_hours = [24, 48]
SELECT id, at FROM {{ ref('sched_readings') }}
";
    let project = Project {
        models: leaked(vec![ProjectFile {
            path: "marts/sched_nightly.sql",
            text: model,
        }]),
        seeds: &[],
        tests: &[],
    };
    let rt = runtime(
        "modelcron",
        dir.path(),
        &["sched_readings"],
        project,
        &clock,
    )
    .await;
    rt.materialize("sched_readings", "2025-01-14")
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let scheduler =
        Scheduler::new(&rt, ScheduleOptions::default()).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(
        scheduler
            .schedules()
            .iter()
            .map(|(a, s)| (a.to_string(), s.expression().to_string()))
            .collect::<Vec<_>>(),
        [("sched_nightly".to_string(), "0 0 * * *".to_string())]
    );
    let serving = serve(&scheduler, &clock).await;
    clock.advance(hours(2)).await;
    let runs = serving.stop().await;
    assert_eq!(
        ticks(&runs, "sched_nightly"),
        [("01-15T00:00Z".into(), "2025-01-14".into())]
    );
    let status = rt
        .status_of("sched_nightly")
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(
        status.first().and_then(|s| s.freshness),
        Some(Freshness::Pass)
    );
    assert_eq!(status.first().map(|s| s.kind), Some(phlo::AssetKind::Sql));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn once_from_a_system_cron_sees_upstream_changes_made_between_calls() {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let clock = Arc::new(VirtualClock::new(t("2025-01-15T12:00:00Z")));
    let project = Project {
        models: leaked(vec![ProjectFile {
            path: "marts/sched_mart.sql",
            text: EAGER_MODEL,
        }]),
        seeds: &[],
        tests: &[],
    };
    let rt = runtime(
        "eageronce",
        dir.path(),
        &["sched_readings"],
        project,
        &clock,
    )
    .await;
    // Each call is a new process: a new scheduler, reading the state the last one left.
    let once = || async {
        Scheduler::new(&rt, ScheduleOptions::default())
            .unwrap_or_else(|e| panic!("{e}"))
            .run_once()
            .await
            .unwrap_or_else(|e| panic!("{e}"))
    };
    assert!(once().await.is_empty());
    clock.jump(Duration::from_secs(60));
    rt.materialize("sched_readings", "2025-01-14")
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    clock.jump(Duration::from_secs(60));
    let runs = once().await;
    let got: Vec<(String, Option<String>, Cause)> = runs
        .iter()
        .map(|r| (r.asset.clone(), r.partition.clone(), r.cause))
        .collect();
    assert_eq!(
        got,
        [(
            "sched_mart".to_string(),
            Some("2025-01-14".to_string()),
            Cause::Eager
        )]
    );
    clock.jump(Duration::from_secs(60));
    assert!(once().await.is_empty(), "seen: not run again");
}

#[tokio::test]
async fn a_microbatch_tick_reruns_its_lookback_batches() {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let clock = Arc::new(VirtualClock::new(t("2025-01-15T06:00:10Z")));
    let project = Project {
        models: leaked(vec![ProjectFile {
            path: "marts/sched_batches.sql",
            text: "-- phlo: materialized = \"microbatch\", event_time = \"d\", lookback = 2\n\
                   -- phlo: partitions = \"daily\", start = \"2025-01-01\", cron = \"0 6 * * *\"\n\
                   SELECT {{ partition_start }} AS d",
        }]),
        seeds: &[],
        tests: &[],
    };
    let rt = runtime("mb-tick", dir.path(), &[], project, &clock).await;
    let scheduler =
        Scheduler::new(&rt, ScheduleOptions::default()).unwrap_or_else(|e| panic!("{e}"));
    let runs = scheduler.run_once().await.unwrap_or_else(|e| panic!("{e}"));
    let ran: Vec<(String, RunStatus)> = runs
        .iter()
        .map(|r| (r.partition.clone().unwrap_or_default(), r.status))
        .collect();
    // The 06:00 tick completes 2025-01-14; lookback 2 re-runs the two days before it.
    assert_eq!(
        ran,
        [
            ("2025-01-12".to_string(), RunStatus::Success),
            ("2025-01-13".to_string(), RunStatus::Success),
            ("2025-01-14".to_string(), RunStatus::Success),
        ]
    );
}

#[tokio::test]
async fn a_test_warehouse_serves_deterministically_on_a_virtual_clock() {
    let global = Registry::global().unwrap_or_else(|e| panic!("{e}"));
    let registry = Registry::from_descriptors([global
        .get("sched_hourly")
        .unwrap_or_else(|e| panic!("{e}"))
        .descriptor])
    .unwrap_or_else(|e| panic!("{e}"));
    let w = phlo::testing::TestWarehouse::builder()
        .registry(registry)
        .now(t("2025-10-25T23:30:00Z"))
        .run_ids("tw-serve")
        .build()
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    // One run made before serving: the scheduler's run ids continue the sequence.
    w.materialize("sched_hourly", "2025-10-25T10")
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let runs = w
        .serve_for(ScheduleOptions::default(), Duration::from_secs(3 * 3600))
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(
        ticks(&runs, "sched_hourly"),
        [
            ("10-26T00:00Z".to_string(), "2025-10-26T00".to_string()),
            (
                "10-26T01:00Z".to_string(),
                "2025-10-26T01+01:00".to_string()
            ),
            (
                "10-26T02:00Z".to_string(),
                "2025-10-26T01+00:00".to_string()
            ),
        ]
    );
    let ids: Vec<String> = runs.iter().filter_map(|r| r.run_id.clone()).collect();
    assert_eq!(
        ids,
        ["tw-serve-000002", "tw-serve-000003", "tw-serve-000004"]
    );
    // The warehouse sees what the scheduler wrote.
    let rows = w
        .rows("sched.hourly_london")
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(rows.len(), 4, "{rows:?}");
}
