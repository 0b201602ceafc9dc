//! The pure parts of a backfill: its partitions, their order and the resume decision.

use chrono::{DateTime, Utc};
use phlo_core::partition::{PartitionKey, PartitionsDef};
use phlo_core::spec::{Cadence, PartitionsSpec};

use super::*;
use crate::graph::{AssetGraph, GraphNode, Mapping};

fn monthly() -> PartitionsDef {
    PartitionsDef::resolve(&PartitionsSpec::Time {
        cadence: Cadence::Monthly,
        start: None,
        end: None,
        timezone: "UTC",
        end_offset: 0,
    })
    .expect("valid partitions")
}

/// `days` (daily) → `months` (monthly, time window) → `total` (unpartitioned, all), and
/// `other` (daily, unrelated).
fn graph() -> AssetGraph {
    AssetGraph::new(vec![
        GraphNode::new("days", "ingestion", "t.days", PartitionsDef::daily_utc()),
        GraphNode::new("months", "sql", "t.months", monthly())
            .with_dep("days", Mapping::TimeWindow),
        GraphNode::new("total", "sql", "t.total", PartitionsDef::None)
            .with_dep("months", Mapping::All),
        GraphNode::new("other", "ingestion", "t.other", PartitionsDef::daily_utc()),
    ])
    .expect("valid graph")
}

fn key(def: &PartitionsDef, text: &str) -> PartitionKey {
    def.parse_key(text).expect("a key")
}

fn texts(keys: &[Option<PartitionKey>]) -> Vec<String> {
    keys.iter()
        .map(|k| {
            k.as_ref()
                .map_or_else(|| "-".to_string(), ToString::to_string)
        })
        .collect()
}

#[test]
fn a_range_in_another_key_form_runs_the_partitions_its_upstreams_map_to() {
    let g = graph();
    let (daily, months) = (PartitionsDef::daily_utc(), monthly());
    let assets = [
        ("days", &daily),
        ("months", &months),
        ("total", &PartitionsDef::None),
    ];
    let keys = backfill_keys(&g, &assets, "2025-01-30", "2025-02-02").expect("keys");
    assert_eq!(
        texts(&keys[0]),
        ["2025-01-30", "2025-01-31", "2025-02-01", "2025-02-02"]
    );
    assert_eq!(texts(&keys[1]), ["2025-01", "2025-02"]);
    assert_eq!(texts(&keys[2]), ["-"]);
    // The same range in the monthly form alone: its own keys.
    let own = backfill_keys(&g, &[("months", &months)], "2025-01", "2025-03").expect("keys");
    assert_eq!(texts(&own[0]), ["2025-01", "2025-02", "2025-03"]);
}

#[test]
fn a_range_no_selected_asset_can_read_is_an_error_naming_the_asset() {
    let g = graph();
    let months = monthly();
    let e = backfill_keys(&g, &[("months", &months)], "2025-01-01", "2025-01-31")
        .err()
        .map(|e| e.to_string())
        .unwrap_or_default();
    assert!(e.contains("`months`") && e.contains("YYYY-MM"), "{e}");
    let daily = PartitionsDef::daily_utc();
    let e = backfill_keys(&g, &[("days", &daily)], "2025-01-05", "2025-01-01")
        .err()
        .map(|e| e.to_string())
        .unwrap_or_default();
    assert!(e.contains("the range is empty"), "{e}");
}

fn tasks_of(g: &AssetGraph, names: &[&str], from: &str, to: &str) -> Vec<Task> {
    let defs: Vec<(&str, &PartitionsDef)> = names
        .iter()
        .map(|n| (*n, &g.node(n).expect("node").partitions))
        .collect();
    backfill_keys(g, &defs, from, to)
        .expect("keys")
        .into_iter()
        .enumerate()
        .flat_map(|(asset, ks)| ks.into_iter().map(move |key| Task { asset, key }))
        .collect()
}

#[test]
fn a_partition_waits_for_the_upstream_partitions_it_maps_to() {
    let g = graph();
    let names = ["days", "months", "total"];
    let tasks = tasks_of(&g, &names, "2025-01-30", "2025-02-02");
    // 0..=3 days, 4 = 2025-01, 5 = 2025-02, 6 = total.
    let deps = task_deps(&g, &names, &tasks).expect("deps");
    assert!(deps[..4].iter().all(Vec::is_empty));
    assert_eq!(deps[4], [0, 1]);
    assert_eq!(deps[5], [2, 3]);
    assert_eq!(deps[6], [4, 5]);
    // Without the monthly asset selected, `total` waits for nothing of this backfill.
    let names = ["days", "total"];
    let tasks = tasks_of(&g, &names, "2025-01-30", "2025-01-31");
    let deps = task_deps(&g, &names, &tasks).expect("deps");
    assert!(deps.len() == 3 && deps.iter().all(Vec::is_empty));
}

#[test]
fn the_schedule_runs_the_lowest_ready_partition_once_its_upstreams_are_done() {
    let g = graph();
    let names = ["days", "months", "total"];
    let tasks = tasks_of(&g, &names, "2025-01-30", "2025-02-02");
    let deps = task_deps(&g, &names, &tasks).expect("deps");
    let mut s = Schedule::new(&deps);
    // One at a time: asset by asset, key by key.
    let mut order = Vec::new();
    while let Some(id) = s.pop_ready() {
        order.push(id);
        s.succeed(id);
    }
    assert_eq!(order, [0, 1, 2, 3, 4, 5, 6]);
    assert!(s.unstarted().is_empty());
    // A month is ready as soon as its own days are done, whatever the other month's.
    let mut s = Schedule::new(&deps);
    let (a, b) = (s.pop_ready(), s.pop_ready());
    assert_eq!((a, b), (Some(0), Some(1)));
    s.succeed(1);
    s.succeed(0);
    assert_eq!(s.pop_ready(), Some(2));
    assert_eq!(s.pop_ready(), Some(3));
    assert_eq!(s.pop_ready(), Some(4), "2025-01's days are done");
    assert_eq!(s.pop_ready(), None, "2025-02 waits for its days");
    s.succeed(2);
    s.succeed(3);
    assert_eq!(s.pop_ready(), Some(5));
    assert_eq!(s.pop_ready(), None, "total waits for both months");
}

#[test]
fn a_failed_partition_skips_what_maps_to_it_and_nothing_else() {
    let g = graph();
    let names = ["days", "months", "total"];
    let tasks = tasks_of(&g, &names, "2025-01-30", "2025-02-02");
    let deps = task_deps(&g, &names, &tasks).expect("deps");
    let mut s = Schedule::new(&deps);
    for _ in 0..4 {
        s.pop_ready();
    }
    // 2025-01-31 fails: 2025-01 and, through it, total are skipped; 2025-02 runs.
    assert_eq!(s.fail(1), [(4, 1), (6, 4)]);
    s.succeed(0);
    s.succeed(2);
    s.succeed(3);
    assert_eq!(s.pop_ready(), Some(5));
    s.succeed(5);
    assert_eq!(s.pop_ready(), None);
    assert!(s.unstarted().is_empty(), "blocked tasks are not unstarted");
    // Cancelled before anything ran: everything is unstarted.
    let s = Schedule::new(&deps);
    assert_eq!(s.unstarted(), [0, 1, 2, 3, 4, 5, 6]);
}

fn run(asset: &str, partition: Option<&str>, status: RunStatus, cv: &str) -> RunReport {
    let at = DateTime::<Utc>::from_timestamp(0, 0).unwrap_or_default();
    let mut r = RunReport::new(asset, "t.x", partition.map(str::to_string), "r", at);
    r.status = status;
    r.code_version = cv.to_string();
    r
}

fn committed(mut r: RunReport, before: Option<i64>, after: i64) -> RunReport {
    r.table_version_before = before;
    r.table_version_after = Some(after);
    r
}

#[test]
fn a_partition_is_up_to_date_when_its_latest_run_succeeded_on_the_same_inputs() {
    let g = graph();
    let daily = PartitionsDef::daily_utc();
    let jan1 = key(&daily, "2025-01-01");
    let up = |h: &History, cv: &str| h.up_to_date(&g, "days", Some(&jan1), cv).expect("decide");
    // Never ran; ran with another code version; ran before code versions were recorded.
    assert!(!up(&History::default(), "v1"));
    let ok = committed(
        run("days", Some("2025-01-01"), RunStatus::Success, "v1"),
        None,
        0,
    );
    let h = History::new([&ok]);
    assert!(up(&h, "v1"));
    assert!(!up(&h, "v2"), "the definition changed");
    let old = run("days", Some("2025-01-01"), RunStatus::Success, "");
    assert!(!up(&History::new([&old]), ""));
    // The latest run decides: a failure after a success is not up to date, and a run
    // with no data is.
    let failed = run("days", Some("2025-01-01"), RunStatus::Failed, "v1");
    assert!(!up(&History::new([&ok, &failed]), "v1"));
    assert!(History::new([&ok, &failed]).latest_failed("days", Some("2025-01-01")));
    assert!(!History::new([&failed, &ok]).latest_failed("days", Some("2025-01-01")));
    let empty = run("days", Some("2025-01-01"), RunStatus::NoData, "v1");
    assert!(up(&History::new([&failed, &empty]), "v1"));
}

#[test]
fn a_downstream_partition_is_stale_only_when_a_partition_it_reads_was_committed_since() {
    let g = graph();
    let months = monthly();
    let jan = key(&months, "2025-01");
    let day = |d: &str, before: Option<i64>, after: i64| {
        committed(run("days", Some(d), RunStatus::Success, "d"), before, after)
    };
    let mut built = run("months", Some("2025-01"), RunStatus::Success, "m");
    built.upstream_versions.insert("days".into(), Some(1));
    let mut h = History::new([
        &day("2025-01-01", None, 0),
        &day("2025-01-02", Some(0), 1),
        &built,
    ]);
    let decide = |h: &History| h.up_to_date(&g, "months", Some(&jan), "m").expect("decide");
    assert!(decide(&h));
    // A day of another month commits: January is still up to date.
    h.record(&day("2025-02-01", Some(1), 2));
    assert!(decide(&h));
    // A January day re-runs without a change: no commit, still up to date.
    h.record(&committed(
        run("days", Some("2025-01-02"), RunStatus::Success, "d"),
        Some(2),
        2,
    ));
    assert!(decide(&h));
    // A January day commits a change: stale.
    h.record(&day("2025-01-02", Some(2), 3));
    assert!(!decide(&h));
    // An unpartitioned downstream reading every month: any month's commit makes it stale.
    let mut total = run("total", None, RunStatus::Success, "t");
    total.upstream_versions.insert("months".into(), Some(5));
    let mut h = History::new([
        &committed(
            run("months", Some("2025-01"), RunStatus::Success, "m"),
            Some(4),
            5,
        ),
        &total,
    ]);
    assert!(h.up_to_date(&g, "total", None, "t").expect("decide"));
    h.record(&committed(
        run("months", Some("2025-03"), RunStatus::Success, "m"),
        Some(5),
        6,
    ));
    assert!(!h.up_to_date(&g, "total", None, "t").expect("decide"));
}

#[test]
fn code_versions_are_stable_and_follow_the_definition() {
    let a =
        crate::registry::Registry::from_descriptors([crate::registry::test_support::descriptor(
            "a",
            phlo_core::spec::IngestionSpec {
                table: "a",
                unique_key: &["id"],
                ..phlo_core::spec::IngestionSpec::DEFAULT
            },
        )])
        .expect("registry");
    let b =
        crate::registry::Registry::from_descriptors([crate::registry::test_support::descriptor(
            "a",
            phlo_core::spec::IngestionSpec {
                table: "a",
                unique_key: &["id"],
                max_retries: 7,
                ..phlo_core::spec::IngestionSpec::DEFAULT
            },
        )])
        .expect("registry");
    let cv = |r: &crate::registry::Registry| code_version(r.get("a").expect("asset"));
    assert_eq!(cv(&a), cv(&a));
    assert_eq!(cv(&a).len(), 16);
    assert_ne!(cv(&a), cv(&b));
}

#[test]
fn a_backfill_report_counts_its_outcomes() {
    let p = |asset: &str, outcome: Outcome| PartitionOutcome {
        asset: asset.into(),
        partition: Some("2025-01-01".into()),
        outcome,
    };
    let report = BackfillReport {
        selection: "a+".into(),
        from: "2025-01-01".into(),
        to: "2025-01-01".into(),
        partitions: vec![
            p(
                "a",
                Outcome::Success {
                    run_id: "r1".into(),
                },
            ),
            p(
                "a",
                Outcome::Skipped {
                    reason: SkipReason::UpToDate,
                    because: None,
                },
            ),
            p(
                "b",
                Outcome::Failed {
                    error: "x".into(),
                    run_id: Some("r2".into()),
                },
            ),
            p("b", Outcome::NotRun),
        ],
        runs: Vec::new(),
        cancelled: true,
    };
    let c = report.counts();
    assert_eq!(
        (c.succeeded, c.up_to_date, c.failed, c.not_run),
        (1, 1, 1, 1)
    );
    assert!(!report.all_succeeded());
    let by: Vec<(String, usize)> = report
        .by_asset()
        .into_iter()
        .map(|(a, c)| (a, c.done()))
        .collect();
    assert_eq!(by, [("a".to_string(), 2), ("b".to_string(), 2)]);
    let json = serde_json::to_value(&report.partitions[1]).expect("json");
    assert_eq!(
        json,
        serde_json::json!({"asset": "a", "partition": "2025-01-01", "status": "skipped", "reason": "up_to_date"})
    );
}
