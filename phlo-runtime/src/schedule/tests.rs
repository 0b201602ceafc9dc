use std::time::Duration;

use chrono::{DateTime, Utc};
use chrono_tz::Europe::London;
use phlo_core::partition::PartitionsDef;
use phlo_core::spec::{Cadence, PartitionsSpec};

use super::lock::{LockDecision, LockInfo, StaleReason, decide};
use super::*;

fn t(text: &str) -> DateTime<Utc> {
    text.parse().unwrap_or_else(|e| panic!("{text}: {e}"))
}

fn london(cadence: Cadence) -> PartitionsDef {
    PartitionsDef::resolve(&PartitionsSpec::Time {
        cadence,
        start: Some("2025-01-01"),
        end: None,
        timezone: "Europe/London",
        end_offset: 0,
    })
    .unwrap_or_else(|e| panic!("{e}"))
}

fn rfc(ts: &[DateTime<Utc>]) -> Vec<String> {
    ts.iter()
        .map(|t| t.format("%m-%dT%H:%MZ").to_string())
        .collect()
}

#[test]
fn hourly_ticks_on_spring_forward_day_in_london_are_every_real_hour() {
    let s = CronSchedule::parse("0 * * * *", London).unwrap_or_else(|e| panic!("{e}"));
    // Local 2025-03-30: 23 hours, 00:00 GMT → 24:00 BST.
    let ticks = s.ticks_between(t("2025-03-29T23:30:00Z"), t("2025-03-30T22:30:00Z"));
    assert_eq!(ticks.len(), 23);
    assert_eq!(
        rfc(&ticks[..3]),
        ["03-30T00:00Z", "03-30T01:00Z", "03-30T02:00Z"]
    );
    // Each tick materializes the local hour it completes; local 01:00 does not exist.
    let def = london(Cadence::Hourly);
    let keys: Vec<String> = ticks[..3]
        .iter()
        .map(|tick| match partition_for_tick(&def, *tick) {
            TickTarget::Keys(k) => k.iter().map(ToString::to_string).collect::<String>(),
            other => panic!("{other:?}"),
        })
        .collect();
    assert_eq!(keys, ["2025-03-29T23", "2025-03-30T00", "2025-03-30T02"]);
}

#[test]
fn hourly_ticks_on_fall_back_day_in_london_fire_both_repeated_hours() {
    let s = CronSchedule::parse("0 * * * *", London).unwrap_or_else(|e| panic!("{e}"));
    // Local 2025-10-26: 25 hours; 01:00 happens at 00:00Z (BST) and at 01:00Z (GMT).
    let ticks = s.ticks_between(t("2025-10-25T22:30:00Z"), t("2025-10-26T23:59:00Z"));
    assert_eq!(ticks.len(), 25);
    let def = london(Cadence::Hourly);
    let key = |tick: &str| match partition_for_tick(&def, t(tick)) {
        TickTarget::Keys(k) => k[0].to_string(),
        other => panic!("{other:?}"),
    };
    assert_eq!(key("2025-10-26T01:00:00Z"), "2025-10-26T01+01:00");
    assert_eq!(key("2025-10-26T02:00:00Z"), "2025-10-26T01+00:00");
}

#[test]
fn daily_ticks_in_london_materialize_the_local_day_just_completed() {
    let s = CronSchedule::parse("0 0 * * *", London).unwrap_or_else(|e| panic!("{e}"));
    let ticks = s.ticks_between(t("2025-03-29T12:00:00Z"), t("2025-04-01T12:00:00Z"));
    assert_eq!(
        rfc(&ticks),
        ["03-30T00:00Z", "03-30T23:00Z", "03-31T23:00Z"]
    );
    let def = london(Cadence::Daily);
    let days: Vec<String> = ticks
        .iter()
        .map(|tick| match partition_for_tick(&def, *tick) {
            TickTarget::Keys(k) => k[0].to_string(),
            other => panic!("{other:?}"),
        })
        .collect();
    assert_eq!(days, ["2025-03-29", "2025-03-30", "2025-03-31"]);
    // A fixed local time inside the gap fires right after it (croner's rule), once.
    let gap = CronSchedule::parse("30 1 * * *", London).unwrap_or_else(|e| panic!("{e}"));
    let fired = gap.ticks_between(t("2025-03-29T12:00:00Z"), t("2025-03-30T12:00:00Z"));
    assert_eq!(rfc(&fired), ["03-30T01:00Z"]);
    // …and inside the overlap, once.
    let fired = gap.ticks_between(t("2025-10-25T12:00:00Z"), t("2025-10-26T12:00:00Z"));
    assert_eq!(rfc(&fired), ["10-26T00:30Z"]);
}

#[test]
fn unpartitioned_and_static_assets_and_ticks_before_the_first_window() {
    assert_eq!(
        partition_for_tick(&PartitionsDef::None, t("2025-01-01T00:00:00Z")),
        TickTarget::Unpartitioned
    );
    let def = london(Cadence::Daily);
    assert_eq!(
        partition_for_tick(&def, t("2025-01-01T06:00:00Z")),
        TickTarget::Nothing,
        "the first day is not complete yet"
    );
}

#[test]
fn missed_ticks_follow_the_policy() {
    let s = CronSchedule::parse("0 * * * *", chrono_tz::UTC).unwrap_or_else(|e| panic!("{e}"));
    let cursor = Some(t("2025-01-15T06:30:00Z"));
    let now = t("2025-01-15T12:10:00Z"); // 07..12: six ticks missed
    let start = |p| plan_ticks(&s, cursor, now, TickMode::Start, p);
    let p = start(MissedTicks::CatchUp(2));
    assert_eq!(
        (rfc(&p.run), p.skipped),
        (vec!["01-15T11:00Z".into(), "01-15T12:00Z".into()], 4)
    );
    let p = start(MissedTicks::Skip);
    assert_eq!((p.run.len(), p.skipped), (0, 6));
    let p = start(MissedTicks::CatchUp(100));
    assert_eq!((p.run.len(), p.skipped), (6, 0));
    // The first serve on a warehouse missed nothing.
    let p = plan_ticks(&s, None, now, TickMode::Start, MissedTicks::CatchUp(5));
    assert_eq!((p.run.len(), p.skipped), (0, 0));
    // Running: every tick since the cursor runs, whatever the policy.
    let p = plan_ticks(&s, cursor, now, TickMode::Running, MissedTicks::Skip);
    assert_eq!(p.run.len(), 6);
}

#[test]
fn once_runs_the_tick_due_now_and_the_missed_ones_the_policy_keeps() {
    let s = CronSchedule::parse("0 * * * *", chrono_tz::UTC).unwrap_or_else(|e| panic!("{e}"));
    let now = t("2025-01-15T12:00:05Z");
    let p = plan_ticks(&s, None, now, TickMode::Once, MissedTicks::Skip);
    assert_eq!(rfc(&p.run), ["01-15T12:00Z"]);
    let cursor = Some(t("2025-01-15T09:00:05Z"));
    let p = plan_ticks(&s, cursor, now, TickMode::Once, MissedTicks::Skip);
    assert_eq!((rfc(&p.run), p.skipped), (vec!["01-15T12:00Z".into()], 2));
    let p = plan_ticks(&s, cursor, now, TickMode::Once, MissedTicks::CatchUp(1));
    assert_eq!(
        (rfc(&p.run), p.skipped),
        (vec!["01-15T11:00Z".into(), "01-15T12:00Z".into()], 1)
    );
    // Called again at once: nothing new is due.
    let p = plan_ticks(&s, Some(now), now, TickMode::Once, MissedTicks::CatchUp(1));
    assert!(p.run.is_empty());
}

#[test]
fn tick_counts_are_capped() {
    let s = CronSchedule::parse("* * * * *", chrono_tz::UTC).unwrap_or_else(|e| panic!("{e}"));
    let due = s.due(t("2024-01-01T00:00:00Z"), t("2025-01-01T00:00:00Z"), 1);
    assert_eq!((due.newest.len(), due.total), (1, cron::TICK_COUNT_CAP));
}

fn info(host: &str, pid: u32, heartbeat: &str) -> LockInfo {
    LockInfo {
        pid,
        host: host.into(),
        started_at: t("2025-01-15T00:00:00Z"),
        heartbeat: t(heartbeat),
        token: "x".into(),
    }
}

#[test]
fn lock_decisions() {
    let now = t("2025-01-15T12:00:00Z");
    let five = Duration::from_secs(300);
    let alive = |_| true;
    let dead = |_| false;
    assert_eq!(decide(None, "h", now, five, alive), LockDecision::Free);
    assert_eq!(
        decide(Some(None), "h", now, five, alive),
        LockDecision::Stale(StaleReason::Unreadable)
    );
    let fresh = info("h", 7, "2025-01-15T11:59:00Z");
    assert_eq!(
        decide(Some(Some(&fresh)), "h", now, five, alive),
        LockDecision::Held(fresh.clone())
    );
    assert_eq!(
        decide(Some(Some(&fresh)), "h", now, five, dead),
        LockDecision::Stale(StaleReason::DeadProcess)
    );
    // Another host's pid cannot be checked: only its heartbeat counts.
    let other = info("elsewhere", 7, "2025-01-15T11:59:00Z");
    assert_eq!(
        decide(Some(Some(&other)), "h", now, five, dead),
        LockDecision::Held(other)
    );
    let old = info("elsewhere", 7, "2025-01-15T11:00:00Z");
    assert_eq!(
        decide(Some(Some(&old)), "h", now, five, alive),
        LockDecision::Stale(StaleReason::OldHeartbeat)
    );
}

#[test]
fn the_lock_file_is_exclusive_and_released() -> crate::Result<()> {
    let dir = tempfile::tempdir()?;
    let now = t("2025-01-15T12:00:00Z");
    let first = SchedulerLock::acquire(dir.path(), now, Duration::from_secs(300))?;
    let second = SchedulerLock::acquire(dir.path(), now, Duration::from_secs(300));
    match second {
        Err(crate::Error::SchedulerLocked { holder, .. }) => {
            assert!(
                holder.contains(&format!("pid {}", std::process::id())),
                "{holder}"
            )
        }
        other => panic!("{other:?}"),
    }
    first.release()?;
    assert!(!SchedulerLock::path_in(dir.path()).exists());
    let again = SchedulerLock::acquire(dir.path(), now, Duration::from_secs(300))?;
    again.release()?;
    Ok(())
}

/// An hourly upstream in London and a daily model over it (a day reads its hours).
fn eager_registry() -> crate::Registry {
    use crate::registry::test_support::descriptor;
    use crate::transform::{Project, ProjectFile};
    const MODELS: &[ProjectFile] = &[ProjectFile {
        path: "marts/daily_totals.sql",
        text: "-- phlo: materialized = \"incremental\", unique_key = \"id\", partitions = \"daily\", start = \"2025-01-01\", timezone = \"Europe/London\", automation = \"eager\"\nSELECT id, value FROM {{ ref('hourly_up') }}\n",
    }];
    let hourly = phlo_core::spec::IngestionSpec {
        table: "hourly_up",
        unique_key: &["id"],
        partitions: PartitionsSpec::Time {
            cadence: Cadence::Hourly,
            start: Some("2025-01-01T00"),
            end: None,
            timezone: "Europe/London",
            end_offset: 0,
        },
        ..phlo_core::spec::IngestionSpec::DEFAULT
    };
    crate::Registry::from_descriptors([descriptor("hourly_up", hourly)])
        .and_then(|r| {
            r.with_project(Project {
                models: MODELS,
                seeds: &[],
                tests: &[],
            })
        })
        .unwrap_or_else(|e| panic!("{e}"))
}

fn run(asset: &str, partition: &str, id: &str, versions: (Option<i64>, Option<i64>)) -> RunReport {
    let mut r = RunReport::new(
        asset,
        "t",
        Some(partition.into()),
        id,
        t("2025-01-15T12:00:00Z"),
    );
    r.status = RunStatus::Success;
    r.table_version_before = versions.0;
    r.table_version_after = versions.1;
    r
}

use crate::report::{RunReport, RunStatus};

#[test]
fn eager_runs_the_day_an_unseen_upstream_hour_changed_unless_built() {
    let registry = eager_registry();
    let graph = registry.graph().unwrap_or_else(|e| panic!("{e}"));
    let model = registry
        .get("daily_totals")
        .unwrap_or_else(|e| panic!("{e}"));
    assert!(eager_in_header(model));
    let runs = vec![
        // Seen before the scheduler started: not new.
        run("hourly_up", "2025-01-13T10", "r1", (None, Some(0))),
        // New, changed the table: its day runs.
        run("hourly_up", "2025-01-14T23", "r2", (Some(0), Some(1))),
        // New, but wrote nothing: no change.
        run("hourly_up", "2025-01-12T05", "r3", (Some(1), Some(1))),
        // New and changed, but its day is built already (stale, if at all, is decided by
        // Runtime::stale and passed in).
        run("hourly_up", "2025-01-11T05", "r4", (Some(1), Some(2))),
        run("daily_totals", "2025-01-11", "r5", (None, Some(0))),
    ];
    let seen: std::collections::BTreeSet<String> = ["r1".to_string()].into();
    let got = eager::partitions_to_run(model, &graph, &runs, &seen, Vec::new(), None)
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(got, [Some("2025-01-14".to_string())]);
    // Stale partitions are added, in key order, once.
    let stale = vec![
        Some("2025-01-11".to_string()),
        Some("2025-01-14".to_string()),
    ];
    let got = eager::partitions_to_run(model, &graph, &runs, &seen, stale, None)
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(
        got,
        [
            Some("2025-01-11".to_string()),
            Some("2025-01-14".to_string())
        ]
    );
}
