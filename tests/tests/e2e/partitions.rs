//! Every kind of partition on real tables: hourly across daylight saving, monthly, static
//! keys, unpartitioned; strict keys rejected before the user function runs.

use phlo::Error;
use phlo::crates::core::Error as CoreError;

use phlo_tests::events;

use crate::support::{input, query, runtime, version};

#[tokio::test]
async fn hourly_partitions_tell_the_repeated_hour_apart_and_share_their_days_files()
-> phlo::Result<()> {
    let dir = tempfile::tempdir()?;
    let (rt, _) = runtime("hourly", dir.path()).await;
    input(
        "hourly",
        vec![events(&[("h1", "2025-10-26T00:30:00Z", 1.0, "a", None)])],
    );
    let first = rt
        .materialize("events_hourly", "2025-10-26T01+01:00")
        .await?;
    assert_eq!(first.partition.as_deref(), Some("2025-10-26T01+01:00"));
    input(
        "hourly",
        vec![events(&[("h2", "2025-10-26T01:30:00Z", 2.0, "b", None)])],
    );
    let second = rt
        .materialize("events_hourly", "2025-10-26T01+00:00")
        .await?;
    assert_eq!(second.rows_inserted, 1);
    // Two distinct hours: 00:00 and 01:00 UTC, both on the local day 2025-10-26.
    assert_eq!(
        query(
            &rt,
            "SELECT id, CAST(_phlo_partition_hour AS VARCHAR) AS hour, \
             CAST(_phlo_partition_date AS VARCHAR) AS day \
             FROM bronze.events_hourly ORDER BY id"
        )
        .await,
        "+----+----------------------+------------+\n\
         | id | hour                 | day        |\n\
         +----+----------------------+------------+\n\
         | h1 | 2025-10-26T00:00:00Z | 2025-10-26 |\n\
         | h2 | 2025-10-26T01:00:00Z | 2025-10-26 |\n\
         +----+----------------------+------------+"
    );
    // Physically one directory per day, not per hour.
    let table_dir = dir.path().join("bronze").join("events_hourly");
    let mut dirs: Vec<String> = std::fs::read_dir(&table_dir)?
        .flatten()
        .map(|e| e.file_name().to_string_lossy().to_string())
        .filter(|n| n.starts_with("_phlo"))
        .collect();
    dirs.sort();
    assert_eq!(dirs, ["_phlo_partition_date=2025-10-26"]);
    // Re-running the second hour is idempotent.
    let again = rt
        .materialize("events_hourly", "2025-10-26T01+00:00")
        .await?;
    assert_eq!(again.table_version_after, second.table_version_after);
    assert_eq!(again.rows_unchanged, 1);
    Ok(())
}

#[tokio::test]
async fn strict_hourly_keys_fail_before_the_function_runs() -> phlo::Result<()> {
    let dir = tempfile::tempdir()?;
    let (rt, _) = runtime("hourly_bad", dir.path()).await;
    let ambiguous = rt.materialize("events_hourly", "2025-10-26T01").await;
    assert!(
        matches!(
            &ambiguous,
            Err(Error::Core(CoreError::AmbiguousPartition { first, second, .. }))
                if first == "2025-10-26T01+01:00" && second == "2025-10-26T01+00:00"
        ),
        "{ambiguous:?}"
    );
    let missing = rt.materialize("events_hourly", "2025-03-30T01").await;
    assert!(
        matches!(
            &missing,
            Err(Error::Core(CoreError::NonexistentPartition { .. }))
        ),
        "{missing:?}"
    );
    let early = rt.materialize("events_hourly", "2024-12-31T23").await;
    assert!(
        matches!(
            &early,
            Err(Error::Core(CoreError::PartitionOutOfRange { .. }))
        ),
        "{early:?}"
    );
    let daily_key = rt.materialize("events_hourly", "2025-01-15").await;
    assert!(
        matches!(
            &daily_key,
            Err(Error::Core(CoreError::InvalidPartitionKey { .. }))
        ),
        "{daily_key:?}"
    );
    assert!(rt.runs().await?.is_empty(), "no run started");
    Ok(())
}

#[tokio::test]
async fn an_hourly_backfill_over_the_day_the_clocks_go_back_runs_25_hours() -> phlo::Result<()> {
    let dir = tempfile::tempdir()?;
    let (rt, _) = runtime("hourly_fill", dir.path()).await;
    input(
        "hourly_fill",
        vec![events(&[("x", "2025-10-26T12:00:00Z", 1.0, "a", None)])],
    );
    let report = rt
        .backfill("events_hourly", "2025-10-26T00", "2025-10-26T23")
        .await?;
    assert_eq!(report.runs.len(), 25);
    assert!(report.all_succeeded());
    let keys: Vec<&str> = report
        .runs
        .iter()
        .take(3)
        .filter_map(|r| r.partition.as_deref())
        .collect();
    assert_eq!(
        keys,
        [
            "2025-10-26T00",
            "2025-10-26T01+01:00",
            "2025-10-26T01+00:00"
        ]
    );
    // One key merged hour after hour: the first hour inserts it, every later hour finds it
    // unchanged (the row hash covers user columns only) and commits nothing.
    assert_eq!(report.runs[0].rows_inserted, 1);
    assert!(
        report.runs[1..]
            .iter()
            .all(|r| r.rows_unchanged == 1 && r.rows_inserted == 0)
    );
    assert_eq!(
        query(
            &rt,
            "SELECT id, CAST(_phlo_partition_hour AS VARCHAR) AS hour FROM bronze.events_hourly"
        )
        .await,
        "+----+----------------------+\n\
         | id | hour                 |\n\
         +----+----------------------+\n\
         | x  | 2025-10-25T23:00:00Z |\n\
         +----+----------------------+"
    );
    Ok(())
}

#[tokio::test]
async fn monthly_partitions_carry_the_first_day_of_their_month() -> phlo::Result<()> {
    let dir = tempfile::tempdir()?;
    let (rt, _) = runtime("monthly", dir.path()).await;
    input(
        "monthly",
        vec![events(&[("m1", "2024-02-10T00:00:00Z", 1.0, "a", None)])],
    );
    let r = rt.materialize("events_monthly", "2024-02").await?;
    assert_eq!(r.partition.as_deref(), Some("2024-02"));
    assert_eq!(
        query(
            &rt,
            "SELECT id, CAST(_phlo_partition_date AS VARCHAR) AS month FROM bronze.events_monthly"
        )
        .await,
        "+----+------------+\n\
         | id | month      |\n\
         +----+------------+\n\
         | m1 | 2024-02-01 |\n\
         +----+------------+"
    );
    for bad in ["2023-12", "2024-02-01", "2024-2"] {
        assert!(
            rt.materialize("events_monthly", bad).await.is_err(),
            "{bad}"
        );
    }
    Ok(())
}

#[tokio::test]
async fn static_partitions_are_replaced_one_key_at_a_time() -> phlo::Result<()> {
    let dir = tempfile::tempdir()?;
    let (rt, _) = runtime("regions", dir.path()).await;
    input(
        "regions",
        vec![events(&[
            ("e1", "2025-01-15T00:00:00Z", 1.0, "a", None),
            ("e2", "2025-01-15T00:00:00Z", 2.0, "a", None),
        ])],
    );
    rt.materialize("events_by_region", "eu").await?;
    input(
        "regions",
        vec![events(&[("u1", "2025-01-15T00:00:00Z", 3.0, "b", None)])],
    );
    rt.materialize("events_by_region", "us").await?;
    // eu loses a row upstream: replacing eu leaves us alone.
    input(
        "regions",
        vec![events(&[("e1", "2025-01-15T00:00:00Z", 1.0, "a", None)])],
    );
    // A key held in a `String` is passed by reference.
    let key = String::from("eu");
    let eu = rt.materialize("events_by_region", &key).await?;
    assert_eq!(eu.rows_deleted, 2);
    assert_eq!(
        query(
            &rt,
            "SELECT _phlo_partition_key AS k, id FROM bronze.events_by_region ORDER BY k, id"
        )
        .await,
        "+----+----+\n\
         | k  | id |\n\
         +----+----+\n\
         | eu | e1 |\n\
         | us | u1 |\n\
         +----+----+"
    );
    assert!(
        dir.path()
            .join("bronze/events_by_region/_phlo_partition_key=eu")
            .is_dir()
    );
    let unknown = rt.materialize("events_by_region", "apac").await;
    assert!(
        matches!(&unknown, Err(Error::Core(CoreError::InvalidPartitionKey { expected, .. })) if expected == "one of eu, us"),
        "{unknown:?}"
    );
    assert_eq!(version(&rt, "bronze.events_by_region").await, Some(2));
    Ok(())
}

#[tokio::test]
async fn plans_explain_what_will_run_without_running_it() -> phlo::Result<()> {
    let dir = tempfile::tempdir()?;
    let (rt, _) = runtime("explain", dir.path()).await;
    let plan = rt
        .plan(
            "events_hourly",
            &phlo::PartitionSelection::Range {
                from: "2025-03-30T00".into(),
                to: "2025-03-30T03".into(),
            },
        )
        .await?;
    let keys: Vec<String> = plan
        .steps
        .iter()
        .filter_map(|s| s.partition.as_ref().map(ToString::to_string))
        .collect();
    assert_eq!(keys, ["2025-03-30T00", "2025-03-30T02", "2025-03-30T03"]);
    assert!(plan.explain().contains("new table"), "{}", plan.explain());
    assert!(rt.runs().await?.is_empty());
    Ok(())
}
