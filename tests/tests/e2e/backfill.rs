//! Backfills of a selection: graph order across a daily → monthly → unpartitioned chain,
//! failures skipping what maps to them, `failed_only`, cancellation and resume (nothing
//! lost, nothing run twice), concurrent partitions of one table through conflicting
//! commits, `_phlo.runs` read once, and the laws of `phlo::testing`.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock};

use phlo::crates::core::names::TableName;
use phlo::crates::core::storage::{CommitOutcome, DeltaStore, TableStore, Write};
use phlo::datafusion::catalog::TableProvider;
use phlo::prelude::*;
use phlo::testing::{LawViolation, TestWarehouse};
use phlo::{
    BackfillOptions, Cancellation, FixedClock, Outcome, Project, ProjectFile, Registry, RunStatus,
    SequentialRunIds, SkipReason,
};

use crate::support::{Hooked, StoreHooks, now, query, version};

/// A day's row of the backfill tests.
#[derive(Schema)]
pub struct DayRow {
    /// Key: `<day>-<n>`.
    id: String,
    /// The partition's day.
    day: NaiveDate,
    /// The day of the month.
    value: f64,
}

/// What the assets of one test (by run-id prefix) do.
#[derive(Default)]
struct Knobs {
    /// Days that fail.
    fail: BTreeSet<NaiveDate>,
    /// Cancel this handle when this day is fetched.
    cancel_at: Option<(NaiveDate, Cancellation)>,
}

fn knobs() -> &'static Mutex<HashMap<String, Knobs>> {
    static K: OnceLock<Mutex<HashMap<String, Knobs>>> = OnceLock::new();
    K.get_or_init(|| Mutex::new(HashMap::new()))
}

fn prefix(ctx: &PartitionContext) -> String {
    ctx.run_id()
        .rsplit_once('-')
        .map_or(ctx.run_id(), |(p, _)| p)
        .to_string()
}

fn set_knobs(test: &str, k: Knobs) {
    if let Ok(mut all) = knobs().lock() {
        all.insert(test.to_string(), k);
    }
}

/// Three rows a day that depend only on the day; fails or cancels as the test's knobs say.
#[ingestion(table = "bf.days", unique_key = "id", schema = DayRow,
            partitions = daily(start = "2025-01-01"))]
pub async fn bf_days(ctx: &PartitionContext) -> phlo::Result<Vec<DayRow>> {
    let day = ctx.partition_date();
    if let Ok(all) = knobs().lock()
        && let Some(k) = all.get(&prefix(ctx))
    {
        if let Some((at, cancel)) = &k.cancel_at
            && *at == day
        {
            cancel.cancel();
        }
        if k.fail.contains(&day) {
            return Err(phlo::Error::msg(format!("{day} is unavailable")));
        }
    }
    let value = f64::from(day.format("%d").to_string().parse::<u32>().unwrap_or(0));
    Ok((0..3)
        .map(|n| DayRow {
            id: format!("{day}-{n}"),
            day,
            value,
        })
        .collect())
}

/// One row an hour.
#[ingestion(table = "bf.hours", unique_key = "id", schema = DayRow,
            partitions = hourly(start = "2025-01-01T00"))]
pub async fn bf_hours(ctx: &PartitionContext) -> phlo::Result<Vec<DayRow>> {
    let start = ctx.window_start().unwrap_or_default();
    Ok(vec![DayRow {
        id: start.to_rfc3339(),
        day: start.date_naive(),
        value: 1.0,
    }])
}

/// Order-dependent on purpose: every partition writes the same key, the last one wins.
#[ingestion(table = "bf.last_writer", unique_key = "id", schema = DayRow,
            partitions = daily(start = "2025-01-01"))]
pub async fn bf_last_writer(ctx: &PartitionContext) -> phlo::Result<Vec<DayRow>> {
    let day = ctx.partition_date();
    Ok(vec![DayRow {
        id: "latest".into(),
        day,
        value: 1.0,
    }])
}

static CALLS: AtomicU64 = AtomicU64::new(0);

/// Not idempotent on purpose: every run writes a new value.
#[ingestion(table = "bf.counter", unique_key = "id", schema = DayRow,
            partitions = daily(start = "2025-01-01"))]
pub async fn bf_counter(ctx: &PartitionContext) -> phlo::Result<Vec<DayRow>> {
    Ok(vec![DayRow {
        id: "calls".into(),
        day: ctx.partition_date(),
        value: CALLS.fetch_add(1, Ordering::SeqCst) as f64,
    }])
}

fn file(path: &'static str, text: &'static str) -> ProjectFile {
    ProjectFile { path, text }
}

fn project() -> Project {
    let models = vec![
        file(
            "marts/bf_monthly.sql",
            "-- phlo: materialized = \"replace_partition\", partitions = \"monthly\", start = \"2025-01\"\n\
             SELECT count(*) AS rows_read, sum(value) AS total FROM {{ ref('bf_days') }}",
        ),
        file(
            "marts/bf_total.sql",
            "-- phlo: materialized = \"incremental\", unique_key = \"k\"\n\
             SELECT 'all' AS k, count(*) AS months, sum(total) AS total FROM {{ ref('bf_monthly') }}",
        ),
        // Wrong on purpose: its incremental runs count only the days after the last one
        // it saw, and overwrite the total with that.
        file(
            "marts/bf_days_seen.sql",
            "-- phlo: materialized = \"incremental\", unique_key = \"k\"\n\
             SELECT 'all' AS k, count(*) AS n, max(day) AS last_day FROM {{ ref('bf_days') }}\n\
             {% if is_incremental() %}WHERE day > (SELECT max(last_day) FROM {{ this }}){% endif %}",
        ),
    ];
    Project {
        models: Box::leak(models.into_boxed_slice()),
        seeds: &[],
        tests: &[],
    }
}

fn registry() -> Registry {
    let global = Registry::global().unwrap_or_else(|e| panic!("{e}"));
    let d = |n: &str| global.get(n).unwrap_or_else(|e| panic!("{e}")).descriptor;
    Registry::from_descriptors([
        d("bf_days"),
        d("bf_hours"),
        d("bf_last_writer"),
        d("bf_counter"),
    ])
    .and_then(|r| r.with_project(project()))
    .unwrap_or_else(|e| panic!("{e}"))
}

/// A runtime over `dir` whose runs are `<test>-000001`, …; `store` replaces the Delta store.
async fn runtime(test: &str, dir: &std::path::Path, store: Option<Arc<dyn TableStore>>) -> Runtime {
    let mut b = Runtime::builder(dir)
        .registry(registry())
        .clock(Arc::new(FixedClock::new(now())))
        .run_ids(Arc::new(SequentialRunIds::new(test)));
    if let Some(s) = store {
        b = b.store(s);
    }
    b.build().await.unwrap_or_else(|e| panic!("runtime: {e}"))
}

/// Runs per (asset, partition, status), from `_phlo.runs`.
async fn run_counts(rt: &Runtime) -> BTreeMap<(String, String, String), usize> {
    let mut out = BTreeMap::new();
    for r in rt.runs().await.unwrap_or_else(|e| panic!("{e}")) {
        *out.entry((
            r.asset,
            r.partition.unwrap_or_else(|| "-".into()),
            r.status.to_string(),
        ))
        .or_default() += 1;
    }
    out
}

fn outcome_kinds(report: &phlo::BackfillReport) -> Vec<(String, String, String)> {
    report
        .partitions
        .iter()
        .map(|p| {
            let kind = match &p.outcome {
                Outcome::Success { .. } => "success".to_string(),
                Outcome::Failed { .. } => "failed".to_string(),
                Outcome::Skipped { reason, .. } => format!("skipped:{reason}"),
                Outcome::NotRun => "not_run".to_string(),
            };
            (
                p.asset.clone(),
                p.partition.clone().unwrap_or_else(|| "-".into()),
                kind,
            )
        })
        .collect()
}

fn row(asset: &str, partition: &str, kind: &str) -> (String, String, String) {
    (asset.into(), partition.into(), kind.into())
}

#[tokio::test]
async fn a_monthly_rollup_runs_after_its_days_and_an_unpartitioned_total_after_every_month() {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let rt = runtime("bf-graph", dir.path(), None).await;
    let report = rt
        .backfill_selection(
            "bf_days bf_monthly bf_total",
            "2025-01-30",
            "2025-02-02",
            &BackfillOptions::new().parallel(4),
        )
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert!(report.all_succeeded(), "{report:?}");
    assert_eq!(
        outcome_kinds(&report),
        [
            row("bf_days", "2025-01-30", "success"),
            row("bf_days", "2025-01-31", "success"),
            row("bf_days", "2025-02-01", "success"),
            row("bf_days", "2025-02-02", "success"),
            row("bf_monthly", "2025-01", "success"),
            row("bf_monthly", "2025-02", "success"),
            row("bf_total", "-", "success"),
        ]
    );
    // Run ids are taken when a run starts: each month started after its days ended, the
    // total after both months.
    let id = |asset: &str, p: Option<&str>| {
        report
            .runs
            .iter()
            .find(|r| r.asset == asset && r.partition.as_deref() == p)
            .map(|r| r.run_id.clone())
            .unwrap_or_else(|| panic!("no run of {asset} {p:?}"))
    };
    for (month, days) in [
        ("2025-01", ["2025-01-30", "2025-01-31"]),
        ("2025-02", ["2025-02-01", "2025-02-02"]),
    ] {
        for day in days {
            assert!(id("bf_days", Some(day)) < id("bf_monthly", Some(month)));
        }
        assert!(id("bf_monthly", Some(month)) < id("bf_total", None));
    }
    assert_eq!(
        query(
            &rt,
            "SELECT rows_read, total, _phlo_partition_date FROM marts.bf_monthly ORDER BY 3"
        )
        .await,
        "+-----------+-------+----------------------+\n\
         | rows_read | total | _phlo_partition_date |\n\
         +-----------+-------+----------------------+\n\
         | 6         | 183.0 | 2025-01-01           |\n\
         | 6         | 9.0   | 2025-02-01           |\n\
         +-----------+-------+----------------------+"
    );
    assert!(
        query(&rt, "SELECT months, total FROM marts.bf_total")
            .await
            .contains("| 2      | 192.0 |")
    );
    // Again: everything is up to date, nothing runs.
    let again = rt
        .backfill_selection(
            "bf_days bf_monthly bf_total",
            "2025-01-30",
            "2025-02-02",
            &BackfillOptions::new(),
        )
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert!(again.runs.is_empty(), "{again:?}");
    assert_eq!(again.counts().up_to_date, 7);
}

#[tokio::test]
async fn a_failed_day_skips_its_month_and_the_total_and_failed_only_runs_just_those() {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let rt = runtime("bf-fail", dir.path(), None).await;
    let bad = NaiveDate::from_ymd_opt(2025, 1, 31).unwrap_or_default();
    set_knobs(
        "bf-fail",
        Knobs {
            fail: [bad].into(),
            ..Knobs::default()
        },
    );
    let sel = "bf_days bf_monthly bf_total";
    let first = rt
        .backfill_selection(
            sel,
            "2025-01-30",
            "2025-02-02",
            &BackfillOptions::new().parallel(2),
        )
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert!(!first.all_succeeded());
    assert_eq!(
        outcome_kinds(&first),
        [
            row("bf_days", "2025-01-30", "success"),
            row("bf_days", "2025-01-31", "failed"),
            row("bf_days", "2025-02-01", "success"),
            row("bf_days", "2025-02-02", "success"),
            row("bf_monthly", "2025-01", "skipped:upstream_failed"),
            row("bf_monthly", "2025-02", "success"),
            row("bf_total", "-", "skipped:upstream_failed"),
        ]
    );
    assert_eq!(
        first.outcome("bf_monthly", Some("2025-01")),
        Some(&Outcome::Skipped {
            reason: SkipReason::UpstreamFailed,
            because: Some("bf_days 2025-01-31".into())
        })
    );
    assert_eq!(first.failed().count(), 1);

    // The day is back: --failed-only runs it and what it had skipped, nothing else.
    set_knobs("bf-fail", Knobs::default());
    let retry = rt
        .backfill_selection(
            sel,
            "2025-01-30",
            "2025-02-02",
            &BackfillOptions::new().parallel(2).failed_only(true),
        )
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(
        outcome_kinds(&retry),
        [
            row("bf_days", "2025-01-31", "success"),
            row("bf_monthly", "2025-01", "success"),
            row("bf_total", "-", "success"),
        ]
    );
    let counts = run_counts(&rt).await;
    let n =
        |a: &str, p: &str, s: RunStatus| counts.get(&(a.into(), p.into(), s.to_string())).copied();
    assert_eq!(n("bf_days", "2025-01-31", RunStatus::Failed), Some(1));
    for day in ["2025-01-30", "2025-01-31", "2025-02-01", "2025-02-02"] {
        assert_eq!(n("bf_days", day, RunStatus::Success), Some(1), "{day}");
    }
    assert_eq!(n("bf_monthly", "2025-02", RunStatus::Success), Some(1));
    assert_eq!(n("bf_monthly", "2025-01", RunStatus::Success), Some(1));
    assert_eq!(n("bf_total", "-", RunStatus::Success), Some(1));
    assert!(
        query(&rt, "SELECT months, total FROM marts.bf_total")
            .await
            .contains("| 2      | 192.0 |")
    );
    // Nothing failed any more: --failed-only has nothing to do.
    let none = rt
        .backfill_selection(
            sel,
            "2025-01-30",
            "2025-02-02",
            &BackfillOptions::new().failed_only(true),
        )
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert!(
        none.partitions.is_empty() && none.runs.is_empty(),
        "{none:?}"
    );
}

#[tokio::test]
async fn a_cancelled_backfill_resumes_where_it_stopped_losing_nothing_and_running_nothing_twice() {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let rt = runtime("bf-cancel", dir.path(), None).await;
    let cancel = Cancellation::new();
    set_knobs(
        "bf-cancel",
        Knobs {
            cancel_at: Some((
                NaiveDate::from_ymd_opt(2025, 1, 5).unwrap_or_default(),
                cancel.clone(),
            )),
            ..Knobs::default()
        },
    );
    let first = rt
        .backfill_selection(
            "bf_days",
            "2025-01-01",
            "2025-01-12",
            &BackfillOptions::new().parallel(1).cancellation(cancel),
        )
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert!(first.cancelled);
    let c = first.counts();
    // The day being fetched when the cancel came finished and committed.
    assert_eq!((c.succeeded, c.not_run, c.failed), (5, 7, 0), "{first:?}");
    assert_eq!(
        first.outcome("bf_days", Some("2025-01-06")),
        Some(&Outcome::NotRun)
    );
    assert_eq!(
        query(
            &rt,
            "SELECT count(*) AS n, count(DISTINCT day) AS days FROM bf.days"
        )
        .await,
        "+----+------+\n| n  | days |\n+----+------+\n| 15 | 5    |\n+----+------+"
    );
    assert_eq!(
        rt.runs().await.unwrap_or_default().len(),
        5,
        "no trace of what did not run"
    );

    set_knobs("bf-cancel", Knobs::default());
    let resumed = rt
        .backfill_selection(
            "bf_days",
            "2025-01-01",
            "2025-01-12",
            &BackfillOptions::new().parallel(3),
        )
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert!(resumed.all_succeeded() && !resumed.cancelled, "{resumed:?}");
    let c = resumed.counts();
    assert_eq!((c.up_to_date, c.succeeded), (5, 7));
    let counts = run_counts(&rt).await;
    assert_eq!(counts.len(), 12, "{counts:?}");
    assert!(
        counts
            .iter()
            .all(|((a, _, s), n)| a == "bf_days" && s == "success" && *n == 1),
        "{counts:?}"
    );
    assert_eq!(
        query(
            &rt,
            "SELECT count(*) AS n, count(DISTINCT day) AS days FROM bf.days"
        )
        .await,
        "+----+------+\n| n  | days |\n+----+------+\n| 36 | 12   |\n+----+------+"
    );
    // --force redoes every day (and changes nothing).
    let before = version(&rt, "bf.days").await;
    let forced = rt
        .backfill_selection(
            "bf_days",
            "2025-01-01",
            "2025-01-12",
            &BackfillOptions::new().force(true),
        )
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(forced.counts().succeeded, 12);
    assert_eq!(version(&rt, "bf.days").await, before);
}

#[tokio::test]
async fn a_backfill_cancelled_before_it_starts_runs_nothing() {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let rt = runtime("bf-cancel0", dir.path(), None).await;
    let cancel = Cancellation::new();
    cancel.cancel();
    let report = rt
        .backfill_selection(
            "bf_days+",
            "2025-01-01",
            "2025-01-03",
            &BackfillOptions::new().cancellation(cancel),
        )
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert!(report.cancelled && report.runs.is_empty());
    // 3 days, 1 month, the total and the days-seen model.
    assert_eq!(report.counts().not_run, 6, "{report:?}");
    assert_eq!(version(&rt, "bf.days").await, None);
    assert!(rt.runs().await.unwrap_or_default().is_empty());
}

/// A Delta store that counts reads of `_phlo.runs` and holds the first `n` commits to one
/// table until all `n` have arrived, so they were all planned against the same version.
#[derive(Debug)]
struct Instrumented {
    runs_reads: AtomicU32,
    hold: Option<(TableName, tokio::sync::Barrier, AtomicU32, u32)>,
}

#[async_trait::async_trait]
impl StoreHooks for Instrumented {
    async fn provider(
        &self,
        table: &TableName,
    ) -> Option<phlo::crates::core::Result<Option<Arc<dyn TableProvider>>>> {
        if table.namespace() == "_phlo" && table.name() == "runs" {
            self.runs_reads.fetch_add(1, Ordering::SeqCst);
        }
        None
    }
    async fn commit(
        &self,
        store: &DeltaStore,
        table: &TableName,
        write: Write,
    ) -> phlo::crates::core::Result<CommitOutcome> {
        if let Some((held, barrier, seen, n)) = &self.hold
            && held == table
            && seen.fetch_add(1, Ordering::SeqCst) < *n
        {
            barrier.wait().await;
        }
        store.commit(table, write).await
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_partitions_of_one_table_replan_their_conflicting_commits_and_lose_nothing() {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let n = 6u32;
    let store = Hooked::new(
        dir.path(),
        Instrumented {
            runs_reads: AtomicU32::new(0),
            hold: Some((
                TableName::parse("bf.days").unwrap_or_else(|e| panic!("{e}")),
                tokio::sync::Barrier::new(n as usize),
                AtomicU32::new(0),
                n,
            )),
        },
    );
    let rt = runtime("bf-conflict", dir.path(), Some(store.clone())).await;
    let report = rt
        .backfill_selection(
            "bf_days",
            "2025-01-01",
            "2025-01-06",
            &BackfillOptions::new().parallel(n as usize),
        )
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert!(report.all_succeeded(), "{report:?}");
    // All six were planned against "no table": one created it, the others conflicted
    // (each at least once) and were planned again.
    let conflicts: Vec<u32> = report.runs.iter().map(|r| r.conflicts).collect();
    assert_eq!(
        conflicts.iter().filter(|c| **c == 0).count(),
        1,
        "{conflicts:?}"
    );
    assert!(conflicts.iter().sum::<u32>() >= n - 1, "{conflicts:?}");
    assert_eq!(
        query(&rt, "SELECT count(*) AS n, count(DISTINCT id) AS ids, count(DISTINCT day) AS days FROM bf.days").await,
        "+----+-----+------+\n| n  | ids | days |\n+----+-----+------+\n| 18 | 18  | 6    |\n+----+-----+------+"
    );
    // One commit per partition, one run per partition.
    assert_eq!(version(&rt, "bf.days").await, Some(i64::from(n) - 1));
    let counts = run_counts(&rt).await;
    assert_eq!(counts.len(), 6);
    assert!(counts.values().all(|c| *c == 1));
}

#[tokio::test]
async fn a_backfill_reads_the_run_log_once_however_many_partitions_it_has() {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let store = Hooked::new(
        dir.path(),
        Instrumented {
            runs_reads: AtomicU32::new(0),
            hold: None,
        },
    );
    let rt = runtime("bf-reads", dir.path(), Some(store.clone())).await;
    // Ten days of hours.
    let first = rt
        .backfill_selection(
            "bf_hours",
            "2025-01-01T00",
            "2025-01-10T23",
            &BackfillOptions::new(),
        )
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(first.counts().succeeded, 240);
    assert_eq!(
        store.runs_reads.load(Ordering::SeqCst),
        0,
        "no log yet: nothing to read"
    );
    let again = rt
        .backfill_selection(
            "bf_hours",
            "2025-01-01T00",
            "2025-01-10T23",
            &BackfillOptions::new(),
        )
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(again.counts().up_to_date, 240);
    assert_eq!(store.runs_reads.load(Ordering::SeqCst), 1);
    let forced = rt
        .backfill_selection(
            "bf_hours",
            "2025-01-10T00",
            "2025-01-10T23",
            &BackfillOptions::new().force(true),
        )
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(forced.counts().succeeded, 24);
    assert_eq!(
        store.runs_reads.load(Ordering::SeqCst),
        2,
        "one more backfill, one more read"
    );
}

fn law(test: &str) -> phlo::testing::TestWarehouseBuilder {
    TestWarehouse::builder().registry(registry()).run_ids(test)
}

fn violated(r: Result<(), LawViolation>, law_name: &str) -> String {
    match r {
        Err(LawViolation::Violated { law, detail, .. }) if law == law_name => detail,
        other => panic!("expected the law {law_name} to be broken, got {other:?}"),
    }
}

#[tokio::test]
async fn the_idempotency_law_holds_for_a_merge_and_catches_a_counter() {
    let w = law("law-idem")
        .build()
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    w.assert_idempotent("bf_days", "2025-01-03")
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let detail = violated(
        w.assert_idempotent("bf_counter", "2025-01-03").await,
        "idempotent",
    );
    assert!(
        detail.contains("from version 0 to 1") && detail.contains("only after the second (1)"),
        "{detail}"
    );
}

#[tokio::test]
async fn the_backfill_law_holds_for_a_graph_and_catches_a_last_writer_wins_asset() {
    let w = law("law-seq")
        .build()
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    w.assert_backfill_is_sequential("bf_days bf_monthly bf_total", "2025-01-28", "2025-02-03")
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let detail = violated(
        w.assert_backfill_is_sequential("bf_last_writer", "2025-01-01", "2025-01-04")
            .await,
        "backfill_is_sequential",
    );
    assert!(
        detail.contains("day=2025-01-04") && detail.contains("day=2025-01-01"),
        "{detail}"
    );
}

#[tokio::test]
async fn the_incremental_law_holds_for_a_rollup_and_catches_a_wrong_incremental_filter() {
    let w = law("law-incr")
        .build()
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    w.assert_incremental_equals_full("bf_total", "2025-01-30"..="2025-02-02")
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let detail = violated(
        w.assert_incremental_equals_full("bf_days_seen", "2025-01-01"..="2025-01-03")
            .await,
        "incremental_equals_full",
    );
    assert!(detail.contains("n=9") && detail.contains("n=3"), "{detail}");
    // An ingestion asset is not a transform.
    assert!(matches!(
        w.assert_incremental_equals_full("bf_days", "2025-01-01"..="2025-01-02")
            .await,
        Err(LawViolation::Run(_))
    ));
}

#[test]
fn the_cli_backfills_a_selection_and_exits_by_outcome() {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let d = dir.path().to_string_lossy().to_string();
    let run = |args: &[&str]| {
        let mut argv = vec!["app", "--warehouse", d.as_str()];
        argv.extend_from_slice(args);
        format!("{:?}", phlo::cli::run(argv))
    };
    let code = |n: u8| format!("{:?}", std::process::ExitCode::from(n));
    let range = ["--from", "2025-01-01", "--to", "2025-01-03"];
    let mut args = vec!["--json", "backfill", "bf_days", "--parallel", "2"];
    args.extend_from_slice(&range);
    assert_eq!(run(&args), code(0));
    let mut args = vec!["backfill", "bf_days", "--failed-only", "--force"];
    args.extend_from_slice(&range);
    assert_eq!(run(&args), code(0));
    let mut args = vec!["backfill", "bf_nope"];
    args.extend_from_slice(&range);
    assert_eq!(run(&args), code(2), "an unknown asset is a usage error");
    let mut args = vec!["backfill", "bf_days", "--explain", "--exclude", "bf_hours"];
    args.extend_from_slice(&range);
    assert_eq!(run(&args), code(0));
}
