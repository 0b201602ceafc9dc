//! Metadata columns, typed rows, unpartitioned assets, schema policies, runs, backfill.

use std::sync::Arc;

use phlo::arrow::array::{ArrayRef, Float64Array, Int64Array, StringArray};
use phlo::arrow::datatypes::{DataType, Field, Schema};
use phlo::prelude::*;
use phlo_tests::{Fixture, events, set_fixture};

use crate::support::*;

const DAY: &str = "2025-01-15";

#[tokio::test]
async fn metadata_columns_carry_partition_instant_run_and_hash() -> phlo::Result<()> {
    let dir = tempfile::tempdir()?;
    let (rt, _) = runtime("metadata", dir.path()).await;
    input(
        "metadata",
        vec![events(&[(
            "e1",
            "2025-01-15T01:00:00+01:00",
            1.5,
            "a",
            Some(""),
        )])],
    );
    rt.materialize("api_events", DAY).await?;
    assert_eq!(
        query(&rt, "SELECT ts, _phlo_partition_date AS day, _phlo_ingested_at AS at, _phlo_run_id AS run, length(_phlo_row_hash) AS hash_len FROM bronze.events").await,
        "+----------------------+------------+----------------------+-----------------+----------+\n\
         | ts                   | day        | at                   | run             | hash_len |\n\
         +----------------------+------------+----------------------+-----------------+----------+\n\
         | 2025-01-15T00:00:00Z | 2025-01-15 | 2025-01-15T12:00:00Z | metadata-000001 | 32       |\n\
         +----------------------+------------+----------------------+-----------------+----------+"
    );
    Ok(())
}

#[tokio::test]
async fn the_same_input_gives_the_same_table() -> phlo::Result<()> {
    let mut tables = Vec::new();
    for _ in 0..2 {
        let dir = tempfile::tempdir()?;
        let (rt, _) = runtime("deterministic", dir.path()).await;
        input(
            "deterministic",
            vec![events(&[
                ("e2", "2025-01-15T02:00:00Z", 2.0, "b", None),
                ("e1", "2025-01-15T01:00:00Z", 1.0, "a", Some("x")),
            ])],
        );
        rt.materialize("api_events", DAY).await?;
        tables.push(query(&rt, "SELECT * FROM bronze.events ORDER BY id").await);
    }
    assert_eq!(tables[0], tables[1]);
    Ok(())
}

#[tokio::test]
async fn typed_rows_from_a_sync_function() -> phlo::Result<()> {
    let dir = tempfile::tempdir()?;
    let (rt, _) = runtime("typed", dir.path()).await;
    let r = rt.materialize("events_typed", DAY).await?;
    assert_eq!(
        (r.rows_in, r.duplicates_dropped, r.rows_inserted),
        (3, 1, 2)
    );
    assert_eq!(
        query(
            &rt,
            "SELECT id, ts, value, note FROM bronze.events_typed ORDER BY id"
        )
        .await,
        "+----+----------------------+-------+-------+\n\
         | id | ts                   | value | note  |\n\
         +----+----------------------+-------+-------+\n\
         | t1 | 2025-01-15T03:00:00Z | 3.0   |       |\n\
         | t2 | 2025-01-15T02:00:00Z | 2.0   | typed |\n\
         +----+----------------------+-------+-------+"
    );
    Ok(())
}

#[tokio::test]
async fn unpartitioned_assets_have_null_partition_dates() -> phlo::Result<()> {
    let dir = tempfile::tempdir()?;
    let (rt, _) = runtime("unpartitioned", dir.path()).await;
    input(
        "unpartitioned",
        vec![events(&[("c1", "2025-01-15T01:00:00Z", 1.0, "a", None)])],
    );
    let r = rt.materialize("categories", Unpartitioned).await?;
    assert_eq!(r.partition, None);
    let err = rt.materialize("categories", DAY).await;
    assert!(
        err.is_err(),
        "a partition for an unpartitioned asset is refused"
    );
    assert_eq!(
        query(
            &rt,
            "SELECT id, _phlo_partition_date IS NULL AS unpartitioned FROM ref.categories"
        )
        .await,
        "+----+---------------+\n| id | unpartitioned |\n+----+---------------+\n| c1 | true          |\n+----+---------------+"
    );
    Ok(())
}

fn with_extras() -> RecordBatch {
    let schema = Arc::new(Schema::new(vec![
        Field::new("id", DataType::Utf8, false),
        Field::new("ts", DataType::Utf8, false),
        Field::new("value", DataType::Float64, false),
        Field::new("category", DataType::Utf8, false),
        Field::new("firmware", DataType::Utf8, true),
        Field::new("battery", DataType::Int64, true),
    ]));
    let cols: Vec<ArrayRef> = vec![
        Arc::new(StringArray::from(vec!["e1"])),
        Arc::new(StringArray::from(vec!["2025-01-15T01:00:00Z"])),
        Arc::new(Float64Array::from(vec![1.0])),
        Arc::new(StringArray::from(vec!["a"])),
        Arc::new(StringArray::from(vec!["v2.1"])),
        Arc::new(Int64Array::from(vec![87])),
    ];
    RecordBatch::try_new(schema, cols).unwrap_or_else(|e| panic!("{e}"))
}

#[tokio::test]
async fn drop_extra_lists_dropped_columns_and_additive_adds_them() -> phlo::Result<()> {
    let dir = tempfile::tempdir()?;
    let (rt, _) = runtime("policies", dir.path()).await;
    input("policies", vec![with_extras()]);
    let dropped = rt.materialize("events_drop_extra", DAY).await?;
    assert_eq!(dropped.dropped_columns, ["battery", "firmware"]);
    let header = query(&rt, "SELECT * FROM bronze.events_drop").await;
    let header: Vec<&str> = header
        .lines()
        .nth(1)
        .unwrap_or_default()
        .split('|')
        .map(str::trim)
        .filter(|c| !c.is_empty())
        .collect();
    assert_eq!(
        header,
        [
            "id",
            "ts",
            "value",
            "category",
            "note",
            "_phlo_partition_date",
            "_phlo_ingested_at",
            "_phlo_run_id",
            "_phlo_row_hash"
        ]
    );
    // Additive: first a load without extras, then one with: the columns join the table.
    input(
        "policies",
        vec![events(&[("e0", "2025-01-15T00:00:00Z", 0.5, "b", None)])],
    );
    rt.materialize("events_additive", DAY).await?;
    input("policies", vec![with_extras()]);
    let added = rt.materialize("events_additive", DAY).await?;
    assert_eq!(added.added_columns, ["battery", "firmware"]);
    assert_eq!(
        added.table_version_after,
        Some(1),
        "added in the same commit"
    );
    assert_eq!(
        query(
            &rt,
            "SELECT id, battery, firmware FROM bronze.events_additive ORDER BY id"
        )
        .await,
        "+----+---------+----------+\n\
         | id | battery | firmware |\n\
         +----+---------+----------+\n\
         | e0 |         |          |\n\
         | e1 | 87      | v2.1     |\n\
         +----+---------+----------+"
    );
    Ok(())
}

#[tokio::test]
async fn backfill_runs_every_day_and_goes_on_after_a_failure() -> phlo::Result<()> {
    let dir = tempfile::tempdir()?;
    let (rt, _) = runtime("backfill", dir.path()).await;
    input(
        "backfill",
        vec![events(&[("e1", "2025-01-15T01:00:00Z", 1.0, "a", None)])],
    );
    let report = rt
        .backfill("api_events", "2025-01-14", "2025-01-16")
        .await?;
    let days: Vec<Option<&str>> = report.runs.iter().map(|r| r.partition.as_deref()).collect();
    assert_eq!(
        days,
        [Some("2025-01-14"), Some("2025-01-15"), Some("2025-01-16")]
    );
    assert!(report.all_succeeded());
    let unchanged: Vec<u64> = report.runs.iter().map(|r| r.rows_unchanged).collect();
    assert_eq!(unchanged, [0, 1, 1]);
    // An identical row is not rewritten: it stays where it was first loaded.
    assert_eq!(
        query(
            &rt,
            "SELECT id, _phlo_partition_date AS day FROM bronze.events"
        )
        .await,
        "+----+------------+\n| id | day        |\n+----+------------+\n| e1 | 2025-01-14 |\n+----+------------+"
    );
    set_fixture("backfill", Fixture::Fail("day unavailable".into()));
    let failing = rt
        .backfill("api_events", "2025-01-17", "2025-01-18")
        .await?;
    assert_eq!(failing.failed().count(), 2);
    assert!(
        failing.runs[0]
            .error
            .as_deref()
            .unwrap_or_default()
            .contains("day unavailable")
    );
    assert!(
        rt.backfill("api_events", "2025-01-18", "2025-01-17")
            .await
            .is_err()
    );
    Ok(())
}

#[tokio::test]
async fn runs_are_recorded_in_order_with_their_reports() -> phlo::Result<()> {
    let dir = tempfile::tempdir()?;
    let (rt, _) = runtime("runs", dir.path()).await;
    input(
        "runs",
        vec![events(&[("e1", "2025-01-15T01:00:00Z", 1.0, "a", None)])],
    );
    rt.materialize("api_events", DAY).await?;
    rt.materialize("api_events", DAY).await?;
    set_fixture("runs", Fixture::Fail("boom".into()));
    assert!(rt.materialize("api_events", DAY).await.is_err());
    let runs = rt.runs().await?;
    let summary: Vec<(String, RunStatus, u64, u64)> = runs
        .iter()
        .map(|r| {
            (
                r.run_id.clone(),
                r.status,
                r.rows_inserted,
                r.rows_unchanged,
            )
        })
        .collect();
    assert_eq!(
        summary,
        [
            ("runs-000001".to_string(), RunStatus::Success, 1, 0),
            ("runs-000002".to_string(), RunStatus::Success, 0, 1),
            ("runs-000003".to_string(), RunStatus::Failed, 0, 0),
        ]
    );
    assert_eq!(
        query(
            &rt,
            "SELECT status, count(*) AS n FROM _phlo.runs GROUP BY status ORDER BY status"
        )
        .await,
        "+---------+---+\n| status  | n |\n+---------+---+\n| failed  | 1 |\n| success | 2 |\n+---------+---+"
    );
    Ok(())
}

#[tokio::test]
async fn unknown_assets_and_bad_sql_are_clear_errors() -> phlo::Result<()> {
    let dir = tempfile::tempdir()?;
    let (rt, _) = runtime("unknown", dir.path()).await;
    let err = rt.materialize("nope", DAY).await;
    assert!(
        matches!(&err, Err(phlo::Error::UnknownAsset { known, .. }) if known.contains(&"api_events".to_string())),
        "{err:?}"
    );
    assert!(matches!(
        rt.sql("SELECT * FROM bronze.missing").await,
        Err(phlo::Error::Sql { .. })
    ));
    Ok(())
}

#[tokio::test]
async fn freshness_judges_each_partition_and_the_asset_by_its_latest_partition() -> phlo::Result<()>
{
    use phlo::Freshness;
    let dir = tempfile::tempdir()?;
    let (rt, _) = runtime("fresh", dir.path()).await;
    let api = |s: Vec<phlo::AssetStatus>| {
        s.into_iter()
            .find(|a| a.asset == "api_events")
            .unwrap_or_else(|| panic!("api_events is listed"))
    };
    assert_eq!(api(rt.status().await?).freshness, Some(Freshness::Unknown));
    // At 2025-01-15T12:00Z the latest complete day is 2025-01-14.
    input(
        "fresh",
        vec![events(&[("e1", "2025-01-14T01:00:00Z", 1.0, "a", None)])],
    );
    rt.materialize("api_events", "2025-01-14").await?;
    let fresh = api(rt.status().await?);
    assert_eq!(fresh.latest_partition.as_deref(), Some("2025-01-14"));
    assert_eq!(fresh.freshness, Some(Freshness::Pass));
    // 30 hours later: that day's run is 30 h old (WARN), and the asset FAILs because its
    // latest partition (2025-01-15) never ran — backfilling an old day does not help.
    let later = now() + phlo::chrono::Duration::hours(30);
    let rt = Runtime::builder(dir.path())
        .clock(std::sync::Arc::new(phlo::FixedClock::new(later)))
        .run_ids(std::sync::Arc::new(phlo::SequentialRunIds::new("fresh")))
        .build()
        .await?;
    rt.materialize("api_events", "2025-01-01").await?;
    let status = api(rt.status().await?);
    assert_eq!(status.latest_partition.as_deref(), Some("2025-01-15"));
    assert_eq!(status.freshness, Some(Freshness::Fail));
    let by_key: Vec<(Option<String>, Option<Freshness>)> = status
        .partitions
        .iter()
        .map(|p| (p.partition.clone(), p.freshness))
        .collect();
    assert_eq!(
        by_key,
        [
            (Some("2025-01-01".into()), Some(Freshness::Pass)),
            (Some("2025-01-14".into()), Some(Freshness::Warn)),
        ]
    );
    // Assets without freshness_hours are listed without a verdict.
    let other = rt
        .status()
        .await?
        .into_iter()
        .find(|a| a.asset == "events_first")
        .map(|a| a.freshness);
    assert_eq!(other, Some(None));
    Ok(())
}
