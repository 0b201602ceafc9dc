//! Audit before publish: blocking checks gate the commit on the staged result.

use phlo::{Error, RunStatus};
use phlo_tests::events;

use crate::support::*;

const DAY: &str = "2025-01-15";

#[tokio::test]
async fn a_blocking_failure_publishes_nothing() -> phlo::Result<()> {
    let dir = tempfile::tempdir()?;
    let (rt, _) = runtime("audit_block", dir.path()).await;
    input(
        "audit_block",
        vec![events(&[
            ("e1", "2025-01-15T01:00:00Z", 60.0, "a", Some("x")),
            ("e2", "2025-01-15T02:00:00Z", 70.0, "b", Some("x")),
        ])],
    );
    let err = rt.materialize("events_audited", DAY).await;
    let report = match &err {
        Err(Error::QualityGate { report, .. }) => report.clone(),
        other => panic!("expected a quality gate, got {other:?}"),
    };
    let range = report
        .results
        .iter()
        .find(|r| r.name.starts_with("range_check"))
        .unwrap_or_else(|| panic!("{report:?}"));
    assert!(!range.passed);
    assert_eq!((range.failed_count, range.total_count), (2, 2));
    assert_eq!(
        version(&rt, "bronze.events_audited").await,
        None,
        "nothing was published"
    );
    assert!(
        rt.sql("SELECT * FROM bronze.events_audited").await.is_err(),
        "the staged data is not readable"
    );
    let run = rt.runs().await?.pop().unwrap_or_else(|| panic!("no run"));
    assert_eq!(run.status, RunStatus::Failed);
    assert_eq!(run.checks.len(), report.results.len());
    assert_eq!(
        query(&rt, "SELECT check_name, passed, blocking FROM _phlo.check_results WHERE check_name LIKE 'range%'").await,
        "+--------------------+--------+----------+\n\
         | check_name         | passed | blocking |\n\
         +--------------------+--------+----------+\n\
         | range_check(value) | false  | true     |\n\
         +--------------------+--------+----------+"
    );
    Ok(())
}

#[tokio::test]
async fn warn_failures_and_non_blocking_assets_publish() -> phlo::Result<()> {
    let dir = tempfile::tempdir()?;
    let (rt, _) = runtime("audit_warn", dir.path()).await;
    input(
        "audit_warn",
        vec![events(&[
            ("e1", "2025-01-15T01:00:00Z", 10.0, "a", None),
            ("e2", "2025-01-15T02:00:00Z", 20.0, "d", None),
        ])],
    );
    let r = rt.materialize("events_audited", DAY).await?;
    assert_eq!((r.status, r.rows_inserted), (RunStatus::Success, 2));
    let failed: Vec<(&str, bool)> = r
        .checks
        .iter()
        .filter(|c| !c.passed)
        .map(|c| (c.name.as_str(), c.severity == phlo::quality::Severity::Warn))
        .collect();
    assert_eq!(
        failed,
        [("null_check(note)", true), ("no_category_d", false)]
    );
    assert_eq!(version(&rt, "bronze.events_audited").await, Some(0));
    Ok(())
}

#[tokio::test]
async fn checks_see_the_post_merge_state() -> phlo::Result<()> {
    let dir = tempfile::tempdir()?;
    let (rt, _) = runtime("audit_state", dir.path()).await;
    // 1 of 3 rows above 50: 33% ≤ 34% allowed → published.
    input(
        "audit_state",
        vec![events(&[
            ("e1", "2025-01-15T01:00:00Z", 60.0, "a", Some("n")),
            ("e2", "2025-01-15T02:00:00Z", 20.0, "b", Some("n")),
            ("e3", "2025-01-15T03:00:00Z", 30.0, "c", Some("n")),
        ])],
    );
    rt.materialize("events_audited", DAY).await?;
    // A new bad row: the staged partition has 2 of 4 bad (50%) → blocked.
    input(
        "audit_state",
        vec![events(&[(
            "e4",
            "2025-01-15T04:00:00Z",
            90.0,
            "a",
            Some("n"),
        )])],
    );
    assert!(matches!(
        rt.materialize("events_audited", DAY).await,
        Err(Error::QualityGate { .. })
    ));
    assert_eq!(version(&rt, "bronze.events_audited").await, Some(0));
    // The same new row plus a fix of e1: the merge replaces e1, 1 of 4 bad (25%) → published.
    input(
        "audit_state",
        vec![events(&[
            ("e1", "2025-01-15T01:00:00Z", 40.0, "a", Some("fixed")),
            ("e4", "2025-01-15T04:00:00Z", 90.0, "a", Some("n")),
        ])],
    );
    let r = rt.materialize("events_audited", DAY).await?;
    let range = r
        .checks
        .iter()
        .find(|c| c.name == "range_check(value)")
        .unwrap_or_else(|| panic!("{:?}", r.checks));
    assert_eq!(
        (range.failed_count, range.total_count, range.passed),
        (1, 4, true)
    );
    assert_eq!(version(&rt, "bronze.events_audited").await, Some(1));
    Ok(())
}

#[tokio::test]
async fn standalone_checks_run_on_the_table_as_it_is() -> phlo::Result<()> {
    let dir = tempfile::tempdir()?;
    let (rt, _) = runtime("audit_standalone", dir.path()).await;
    input(
        "audit_standalone",
        vec![events(&[(
            "e1",
            "2025-01-15T01:00:00Z",
            10.0,
            "a",
            Some("n"),
        )])],
    );
    rt.materialize("events_audited", DAY).await?;
    let run = rt.check("bronze.events_audited", Some(DAY)).await?;
    assert!(!run.blocked);
    assert!(
        run.report.results.iter().all(|r| r.passed),
        "{:?}",
        run.report.results
    );
    // An empty partition fails the blocking CountCheck.
    let empty = rt
        .check("bronze.events_audited", Some("2025-01-16"))
        .await?;
    assert!(empty.blocked);
    let count = empty
        .report
        .results
        .iter()
        .find(|r| r.name.starts_with("count_check"))
        .unwrap_or_else(|| panic!("no count check"));
    assert!(!count.passed);
    assert!(matches!(
        rt.check("bronze.nope", None).await,
        Err(Error::UnknownTable { .. })
    ));
    Ok(())
}
