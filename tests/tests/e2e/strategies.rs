//! merge vs append vs replace_partition, idempotency, skip-unchanged.

use phlo::prelude::*;
use phlo_tests::events;

use crate::support::*;

const D1: &str = "2025-01-15";
const D2: &str = "2025-01-16";

fn day1() -> RecordBatch {
    events(&[
        ("e1", "2025-01-15T01:00:00Z", 10.0, "a", None),
        ("e2", "2025-01-15T02:00:00Z", 20.0, "b", None),
        ("e3", "2025-01-15T03:00:00Z", 30.0, "c", None),
    ])
}

#[tokio::test]
async fn merge_upserts_across_partitions_and_leaves_other_rows() -> phlo::Result<()> {
    let dir = tempfile::tempdir()?;
    let (rt, _) = runtime("merge_across", dir.path()).await;
    input("merge_across", vec![day1()]);
    rt.materialize("api_events", D1).await?;
    // Day 2 re-sends e2 corrected, and brings e4.
    input(
        "merge_across",
        vec![events(&[
            ("e2", "2025-01-16T00:30:00Z", 21.0, "b", Some("corrected")),
            ("e4", "2025-01-16T01:00:00Z", 40.0, "d", None),
        ])],
    );
    let r = rt.materialize("api_events", D2).await?;
    assert_eq!(
        (r.rows_inserted, r.rows_updated, r.rows_unchanged),
        (1, 1, 0)
    );
    assert_eq!(
        (r.table_version_before, r.table_version_after),
        (Some(0), Some(1))
    );
    assert_eq!(
        query(&rt, "SELECT id, value, note, _phlo_partition_date AS day, _phlo_run_id AS run FROM bronze.events ORDER BY id").await,
        "+----+-------+-----------+------------+---------------------+\n\
         | id | value | note      | day        | run                 |\n\
         +----+-------+-----------+------------+---------------------+\n\
         | e1 | 10.0  |           | 2025-01-15 | merge_across-000001 |\n\
         | e2 | 21.0  | corrected | 2025-01-16 | merge_across-000002 |\n\
         | e3 | 30.0  |           | 2025-01-15 | merge_across-000001 |\n\
         | e4 | 40.0  |           | 2025-01-16 | merge_across-000002 |\n\
         +----+-------+-----------+------------+---------------------+"
    );
    Ok(())
}

#[tokio::test]
async fn merge_rewrites_only_changed_rows_and_is_idempotent() -> phlo::Result<()> {
    let dir = tempfile::tempdir()?;
    let (rt, _) = runtime("merge_idem", dir.path()).await;
    input("merge_idem", vec![day1()]);
    rt.materialize("api_events", D1).await?;
    let again = rt.materialize("api_events", D1).await?;
    assert_eq!(
        (
            again.rows_inserted,
            again.rows_updated,
            again.rows_unchanged
        ),
        (0, 0, 3)
    );
    assert_eq!(
        (again.table_version_before, again.table_version_after),
        (Some(0), Some(0))
    );
    assert_eq!(
        version(&rt, "bronze.events").await,
        Some(0),
        "no second table version"
    );
    // Same rows, other column order and batch split: still unchanged (stable row hash).
    let reordered = day1().project(&[4, 3, 2, 1, 0])?;
    input(
        "merge_idem",
        vec![reordered.slice(0, 1), reordered.slice(1, 2)],
    );
    let split = rt.materialize("api_events", D1).await?;
    assert_eq!(split.rows_unchanged, 3);
    assert_eq!(version(&rt, "bronze.events").await, Some(0));
    // One changed row: only it is rewritten.
    input(
        "merge_idem",
        vec![events(&[
            ("e1", "2025-01-15T01:00:00Z", 10.0, "a", None),
            ("e2", "2025-01-15T02:00:00Z", 22.0, "b", None),
            ("e3", "2025-01-15T03:00:00Z", 30.0, "c", None),
        ])],
    );
    let one = rt.materialize("api_events", D1).await?;
    assert_eq!(
        (one.rows_inserted, one.rows_updated, one.rows_unchanged),
        (0, 1, 2)
    );
    assert_eq!(version(&rt, "bronze.events").await, Some(1));
    assert_eq!(
        query(
            &rt,
            "SELECT id, value, _phlo_run_id AS run FROM bronze.events ORDER BY id"
        )
        .await,
        "+----+-------+-------------------+\n\
         | id | value | run               |\n\
         +----+-------+-------------------+\n\
         | e1 | 10.0  | merge_idem-000001 |\n\
         | e2 | 22.0  | merge_idem-000004 |\n\
         | e3 | 30.0  | merge_idem-000001 |\n\
         +----+-------+-------------------+"
    );
    Ok(())
}

#[tokio::test]
async fn append_inserts_every_row_every_time() -> phlo::Result<()> {
    let dir = tempfile::tempdir()?;
    let (rt, _) = runtime("append", dir.path()).await;
    input(
        "append",
        vec![events(&[
            ("e1", "2025-01-15T01:00:00Z", 10.0, "a", None),
            ("e2", "2025-01-15T01:00:00Z", 10.0, "a", None),
        ])],
    );
    let first = rt.materialize("events_append", D1).await?;
    assert_eq!((first.rows_inserted, first.duplicates_dropped), (2, 0));
    let second = rt.materialize("events_append", D1).await?;
    assert_eq!(second.rows_inserted, 2);
    assert_eq!(
        (second.table_version_before, second.table_version_after),
        (Some(0), Some(1))
    );
    assert_eq!(
        query(
            &rt,
            "SELECT id, count(*) AS n FROM bronze.events_log GROUP BY id ORDER BY id"
        )
        .await,
        "+----+---+\n| id | n |\n+----+---+\n| e1 | 2 |\n| e2 | 2 |\n+----+---+"
    );
    // `#[phlo(unique)]` still holds within one load.
    input(
        "append",
        vec![events(&[
            ("e3", "2025-01-15T01:00:00Z", 10.0, "a", None),
            ("e3", "2025-01-15T02:00:00Z", 10.0, "a", None),
        ])],
    );
    let err = rt.materialize("events_append", D1).await.err();
    let report = err
        .as_ref()
        .and_then(phlo::Error::validation_report)
        .unwrap_or_else(|| panic!("{err:?}"));
    assert_eq!(
        (
            report.failures[0].check.as_str(),
            report.failures[0].failing_rows
        ),
        ("unique(id)", 2)
    );
    Ok(())
}

#[tokio::test]
async fn replace_partition_swaps_the_partition_in_one_commit_and_is_idempotent() -> phlo::Result<()>
{
    let dir = tempfile::tempdir()?;
    let (rt, _) = runtime("replace", dir.path()).await;
    input("replace", vec![day1()]);
    rt.materialize("events_replace", D1).await?;
    input(
        "replace",
        vec![events(&[("x1", "2025-01-16T01:00:00Z", 1.0, "a", None)])],
    );
    rt.materialize("events_replace", D2).await?;
    // Upstream removed e3 and changed e2.
    input(
        "replace",
        vec![events(&[
            ("e1", "2025-01-15T01:00:00Z", 10.0, "a", None),
            ("e2", "2025-01-15T02:00:00Z", 25.0, "b", None),
        ])],
    );
    let r = rt.materialize("events_replace", D1).await?;
    assert_eq!((r.rows_deleted, r.rows_inserted), (3, 2));
    assert_eq!(
        (r.table_version_before, r.table_version_after),
        (Some(1), Some(2))
    );
    let again = rt.materialize("events_replace", D1).await?;
    assert_eq!(
        (
            again.rows_deleted,
            again.rows_inserted,
            again.rows_unchanged
        ),
        (0, 0, 2)
    );
    assert_eq!(
        version(&rt, "bronze.events_daily").await,
        Some(2),
        "no new version when nothing changed"
    );
    assert_eq!(
        query(
            &rt,
            "SELECT id, value, _phlo_partition_date AS day FROM bronze.events_daily ORDER BY id"
        )
        .await,
        "+----+-------+------------+\n\
         | id | value | day        |\n\
         +----+-------+------------+\n\
         | e1 | 10.0  | 2025-01-15 |\n\
         | e2 | 25.0  | 2025-01-15 |\n\
         | x1 | 1.0   | 2025-01-16 |\n\
         +----+-------+------------+"
    );
    Ok(())
}

#[tokio::test]
async fn an_empty_load_writes_nothing_and_reports_no_data() -> phlo::Result<()> {
    let dir = tempfile::tempdir()?;
    let (rt, _) = runtime("no_data", dir.path()).await;
    input("no_data", vec![]);
    let r = rt.materialize("api_events", D1).await?;
    assert_eq!(r.status, RunStatus::NoData);
    assert_eq!(
        version(&rt, "bronze.events").await,
        None,
        "no table is created"
    );
    input("no_data", vec![day1()]);
    rt.materialize("api_events", D1).await?;
    input("no_data", vec![day1().slice(0, 0)]);
    let r = rt.materialize("api_events", D1).await?;
    assert_eq!(r.status, RunStatus::NoData);
    assert_eq!(version(&rt, "bronze.events").await, Some(0));
    Ok(())
}

#[tokio::test]
async fn concurrent_writers_on_one_table_both_land_whole() -> phlo::Result<()> {
    let dir = tempfile::tempdir()?;
    let (rt, _) = runtime("concurrent", dir.path()).await;
    input("concurrent", vec![day1()]);
    rt.materialize("api_events", D1).await?;
    // Two runs commit to the same table at once; each re-plans on conflict.
    input(
        "concurrent",
        vec![events(&[
            ("e2", "2025-01-16T01:00:00Z", 99.0, "d", Some("update")),
            ("e9", "2025-01-16T01:00:00Z", 9.0, "a", None),
        ])],
    );
    let (a, b) = tokio::join!(
        rt.materialize("api_events", D2),
        rt.materialize("api_events", "2025-01-17")
    );
    let (a, b) = (a?, b?);
    assert_eq!(a.rows_inserted + b.rows_inserted, 1, "e9 is inserted once");
    assert_eq!(
        query(&rt, "SELECT id, value FROM bronze.events ORDER BY id").await,
        "+----+-------+\n\
         | id | value |\n\
         +----+-------+\n\
         | e1 | 10.0  |\n\
         | e2 | 99.0  |\n\
         | e3 | 30.0  |\n\
         | e9 | 9.0   |\n\
         +----+-------+"
    );
    Ok(())
}
