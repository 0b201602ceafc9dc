//! The dedup matrix of SEMANTICS §4.5, through the whole runtime.

use phlo::prelude::*;
use phlo_tests::events;

use crate::support::*;

const DAY: &str = "2025-01-15";

#[tokio::test]
async fn user_story_from_the_issue() -> phlo::Result<()> {
    let dir = tempfile::tempdir()?;
    let (rt, _) = runtime("user_story", dir.path()).await;
    input(
        "user_story",
        vec![events(&[
            ("e1", "2025-01-15T01:00:00Z", 10.0, "a", None),
            ("e2", "2025-01-15T02:00:00Z", 20.0, "b", Some("n")),
            ("e1", "2025-01-15T03:00:00Z", 30.0, "c", None),
            ("e3", "2025-01-15T04:00:00Z", 40.0, "d", None),
        ])],
    );
    let report = rt.materialize("api_events", DAY).await?;
    assert_eq!(report.rows_inserted, 3);
    assert_eq!(report.duplicates_dropped, 1);
    assert_eq!(report.status, RunStatus::Success);
    assert_eq!(
        query(&rt, "SELECT count(*) AS n FROM bronze.events").await,
        "+---+\n| n |\n+---+\n| 3 |\n+---+"
    );
    Ok(())
}

/// Rows with ties on `ts` and out-of-order arrivals.
fn matrix_input() -> Vec<RecordBatch> {
    vec![
        events(&[
            ("a", "2025-01-15T03:00:00Z", 3.0, "a", Some("a@3")),
            ("a", "2025-01-15T05:00:00Z", 5.0, "a", Some("a@5")),
            ("b", "2025-01-15T01:00:00Z", 1.0, "b", Some("b@1 first")),
        ]),
        // A second batch: arrival order continues across batches.
        events(&[
            ("a", "2025-01-15T04:00:00Z", 4.0, "a", Some("a@4")),
            ("b", "2025-01-15T01:00:00Z", 1.0, "b", Some("b@1 later")),
            ("c", "2025-01-15T02:00:00Z", 2.0, "c", Some("c only")),
        ]),
    ]
}

async fn notes(test: &str, asset: &str, table: &str) -> phlo::Result<String> {
    let dir = tempfile::tempdir()?;
    let (rt, _) = runtime(test, dir.path()).await;
    input(test, matrix_input());
    let report = rt.materialize(asset, DAY).await?;
    assert_eq!(report.rows_inserted, 3);
    assert_eq!(report.duplicates_dropped, 3);
    Ok(query(&rt, &format!("SELECT id, note FROM {table} ORDER BY id")).await)
}

#[tokio::test]
async fn last_with_order_by_keeps_greatest_and_later_arrival_wins_ties() -> phlo::Result<()> {
    let got = notes("matrix_last", "api_events", "bronze.events").await?;
    assert_eq!(
        got,
        "+----+-----------+\n\
         | id | note      |\n\
         +----+-----------+\n\
         | a  | a@5       |\n\
         | b  | b@1 later |\n\
         | c  | c only    |\n\
         +----+-----------+"
    );
    Ok(())
}

#[tokio::test]
async fn first_with_order_by_keeps_smallest_and_earlier_arrival_wins_ties() -> phlo::Result<()> {
    let got = notes("matrix_first", "events_first", "bronze.events_first").await?;
    assert_eq!(
        got,
        "+----+-----------+\n\
         | id | note      |\n\
         +----+-----------+\n\
         | a  | a@3       |\n\
         | b  | b@1 first |\n\
         | c  | c only    |\n\
         +----+-----------+"
    );
    Ok(())
}

#[tokio::test]
async fn last_without_order_by_keeps_the_later_arrival() -> phlo::Result<()> {
    let got = notes(
        "matrix_arrival",
        "events_last_arrival",
        "bronze.events_last_arrival",
    )
    .await?;
    assert_eq!(
        got,
        "+----+-----------+\n\
         | id | note      |\n\
         +----+-----------+\n\
         | a  | a@4       |\n\
         | b  | b@1 later |\n\
         | c  | c only    |\n\
         +----+-----------+"
    );
    Ok(())
}

#[tokio::test]
async fn hash_drops_exact_repeats_before_keeping_the_last_version() -> phlo::Result<()> {
    let dir = tempfile::tempdir()?;
    let (rt, _) = runtime("matrix_hash", dir.path()).await;
    input(
        "matrix_hash",
        vec![events(&[
            ("a", "2025-01-15T01:00:00Z", 1.0, "a", Some("v1")),
            ("a", "2025-01-15T01:00:00Z", 1.0, "a", Some("v2")),
            ("a", "2025-01-15T01:00:00Z", 1.0, "a", Some("v1")), // exact repeat of the first row
            ("b", "2025-01-15T01:00:00Z", 1.0, "b", Some("same")),
            ("b", "2025-01-15T01:00:00Z", 1.0, "b", Some("same")),
        ])],
    );
    let report = rt.materialize("events_hash", DAY).await?;
    assert_eq!(report.duplicates_dropped, 3);
    // Plain `last` would keep the repeat of v1; `hash` keeps v2.
    assert_eq!(
        query(&rt, "SELECT id, note FROM bronze.events_hash ORDER BY id").await,
        "+----+------+\n\
         | id | note |\n\
         +----+------+\n\
         | a  | v2   |\n\
         | b  | same |\n\
         +----+------+"
    );
    Ok(())
}

#[tokio::test]
async fn composite_keys_upsert_on_every_part() -> phlo::Result<()> {
    use std::sync::Arc;

    use phlo::arrow::array::{ArrayRef, Float64Array, StringArray};
    use phlo::arrow::datatypes::{DataType, Field, Schema};

    let batch = |rows: &[(&str, &str, &str, f64)]| -> phlo::Result<RecordBatch> {
        let schema = Arc::new(Schema::new(vec![
            Field::new("sensor", DataType::Utf8, false),
            Field::new("region", DataType::Utf8, false),
            Field::new("ts", DataType::Utf8, false),
            Field::new("value", DataType::Float64, false),
        ]));
        let cols: Vec<ArrayRef> = vec![
            Arc::new(StringArray::from_iter_values(rows.iter().map(|r| r.0))),
            Arc::new(StringArray::from_iter_values(rows.iter().map(|r| r.1))),
            Arc::new(StringArray::from_iter_values(rows.iter().map(|r| r.2))),
            Arc::new(Float64Array::from_iter_values(rows.iter().map(|r| r.3))),
        ];
        Ok(RecordBatch::try_new(schema, cols)?)
    };
    let dir = tempfile::tempdir()?;
    let (rt, _) = runtime("composite", dir.path()).await;
    input(
        "composite",
        vec![batch(&[
            ("s1", "eu", "2025-01-15T01:00:00Z", 1.0),
            ("s1", "us", "2025-01-15T01:00:00Z", 2.0),
            ("s1", "eu", "2025-01-15T02:00:00Z", 3.0),
            ("s2", "eu", "2025-01-15T01:00:00Z", 4.0),
        ])?],
    );
    let first = rt.materialize("readings", DAY).await?;
    assert_eq!((first.rows_inserted, first.duplicates_dropped), (3, 1));
    input(
        "composite",
        vec![batch(&[
            ("s1", "us", "2025-01-16T01:00:00Z", 20.0),
            ("s2", "us", "2025-01-16T01:00:00Z", 5.0),
        ])?],
    );
    let second = rt.materialize("readings", "2025-01-16").await?;
    assert_eq!((second.rows_inserted, second.rows_updated), (1, 1));
    assert_eq!(
        query(&rt, "SELECT sensor, region, value, _phlo_partition_date AS day FROM bronze.readings ORDER BY sensor, region").await,
        "+--------+--------+-------+------------+\n\
         | sensor | region | value | day        |\n\
         +--------+--------+-------+------------+\n\
         | s1     | eu     | 3.0   | 2025-01-15 |\n\
         | s1     | us     | 20.0  | 2025-01-16 |\n\
         | s2     | eu     | 4.0   | 2025-01-15 |\n\
         | s2     | us     | 5.0   | 2025-01-16 |\n\
         +--------+--------+-------+------------+"
    );
    Ok(())
}
