//! Bad input: a typed error, and the table stays at its previous version with its rows.

use std::sync::Arc;
use std::time::Duration;

use phlo::arrow::array::{ArrayRef, Float64Array, StringArray};
use phlo::arrow::datatypes::{Field, Schema};
use phlo::crates::core::Error as CoreError;
use phlo::crates::ingest::Error as IngestError;
use phlo::prelude::*;
use phlo::{Error, RunStatus};
use phlo_tests::{Fixture, events, set_fixture};

use crate::support::*;

const DAY: &str = "2025-01-15";
const GOOD_ROWS: &str = "+----+-------+\n\
                         | id | value |\n\
                         +----+-------+\n\
                         | e1 | 10.0  |\n\
                         | e2 | 20.0  |\n\
                         +----+-------+";

/// A runtime whose `api_events` table holds two good rows at version 0.
async fn seeded(test: &str, dir: &std::path::Path) -> Runtime {
    let (rt, _) = runtime(test, dir).await;
    input(
        test,
        vec![events(&[
            ("e1", "2025-01-15T01:00:00Z", 10.0, "a", None),
            ("e2", "2025-01-15T02:00:00Z", 20.0, "b", None),
        ])],
    );
    if let Err(e) = rt.materialize("api_events", DAY).await {
        panic!("seeding failed: {e}");
    }
    rt
}

/// The table is untouched and the failed run is recorded.
async fn assert_untouched(rt: &Runtime) {
    assert_eq!(version(rt, "bronze.events").await, Some(0));
    assert_eq!(
        query(rt, "SELECT id, value FROM bronze.events ORDER BY id").await,
        GOOD_ROWS
    );
}

async fn assert_failed_run_recorded(rt: &Runtime) {
    let runs = rt.runs().await.unwrap_or_else(|e| panic!("{e}"));
    let last = runs.last().unwrap_or_else(|| panic!("no runs"));
    assert_eq!(last.status, RunStatus::Failed);
    assert!(last.error.is_some());
    assert_eq!(last.table_version_after, Some(0));
}

fn raw(columns: Vec<(&str, ArrayRef)>) -> RecordBatch {
    let fields: Vec<Field> = columns
        .iter()
        .map(|(n, a)| Field::new(*n, a.data_type().clone(), true))
        .collect();
    RecordBatch::try_new(
        Arc::new(Schema::new(fields)),
        columns.into_iter().map(|(_, a)| a).collect(),
    )
    .unwrap_or_else(|e| panic!("{e}"))
}

fn strings(v: &[&str]) -> ArrayRef {
    Arc::new(StringArray::from_iter_values(v.iter().copied()))
}

#[tokio::test]
async fn null_key_fails_validation() -> phlo::Result<()> {
    let dir = tempfile::tempdir()?;
    let rt = seeded("bad_null_key", dir.path()).await;
    input(
        "bad_null_key",
        vec![raw(vec![
            ("id", Arc::new(StringArray::from(vec![Some("e1"), None]))),
            (
                "ts",
                strings(&["2025-01-15T01:00:00Z", "2025-01-15T01:00:00Z"]),
            ),
            ("value", Arc::new(Float64Array::from(vec![99.0, 1.0]))),
            ("category", strings(&["a", "a"])),
        ])],
    );
    let err = rt.materialize("api_events", DAY).await.err();
    let report = err
        .as_ref()
        .and_then(Error::validation_report)
        .unwrap_or_else(|| panic!("{err:?}"));
    assert_eq!(report.failures[0].check, "not_null(id)");
    assert_eq!(report.failures[0].samples[0].row, 1);
    assert_untouched(&rt).await;
    assert_failed_run_recorded(&rt).await;
    Ok(())
}

#[tokio::test]
async fn value_of_the_wrong_type_is_a_schema_error() -> phlo::Result<()> {
    let dir = tempfile::tempdir()?;
    let rt = seeded("bad_type", dir.path()).await;
    input(
        "bad_type",
        vec![raw(vec![
            ("id", strings(&["e1"])),
            ("ts", strings(&["2025-01-15T01:00:00Z"])),
            ("value", strings(&["ninety-nine"])),
            ("category", strings(&["a"])),
        ])],
    );
    let err = rt.materialize("api_events", DAY).await;
    assert!(
        matches!(&err, Err(Error::Ingest(IngestError::ColumnType { column, .. })) if column == "value"),
        "{err:?}"
    );
    assert_untouched(&rt).await;
    assert_failed_run_recorded(&rt).await;
    Ok(())
}

#[tokio::test]
async fn unparseable_value_fails_its_row() -> phlo::Result<()> {
    let dir = tempfile::tempdir()?;
    let rt = seeded("bad_cast", dir.path()).await;
    input(
        "bad_cast",
        vec![raw(vec![
            ("id", strings(&["e1"])),
            ("ts", strings(&["not a time"])),
            ("value", Arc::new(Float64Array::from(vec![1.0]))),
            ("category", strings(&["a"])),
        ])],
    );
    let err = rt.materialize("api_events", DAY).await.err();
    let report = err
        .as_ref()
        .and_then(Error::validation_report)
        .unwrap_or_else(|| panic!("{err:?}"));
    assert_eq!(
        report.failures[0].check,
        "cast(ts, Utf8 -> Timestamp(µs, UTC))"
    );
    assert_eq!(
        report.failures[0].samples[0].value.as_deref(),
        Some("not a time")
    );
    assert_untouched(&rt).await;
    Ok(())
}

#[tokio::test]
async fn missing_required_column_is_a_schema_error() -> phlo::Result<()> {
    let dir = tempfile::tempdir()?;
    let rt = seeded("bad_missing", dir.path()).await;
    input(
        "bad_missing",
        vec![raw(vec![
            ("id", strings(&["e1"])),
            ("ts", strings(&["2025-01-15T01:00:00Z"])),
        ])],
    );
    let err = rt.materialize("api_events", DAY).await;
    assert!(
        matches!(&err, Err(Error::Ingest(IngestError::MissingColumn { column, .. })) if column == "value"),
        "{err:?}"
    );
    assert_untouched(&rt).await;
    Ok(())
}

#[tokio::test]
async fn extra_column_under_strict_is_a_schema_error() -> phlo::Result<()> {
    let dir = tempfile::tempdir()?;
    let rt = seeded("bad_extra", dir.path()).await;
    input(
        "bad_extra",
        vec![raw(vec![
            ("id", strings(&["e1"])),
            ("ts", strings(&["2025-01-15T01:00:00Z"])),
            ("value", Arc::new(Float64Array::from(vec![1.0]))),
            ("category", strings(&["a"])),
            ("debug_blob", strings(&["x"])),
        ])],
    );
    let err = rt.materialize("api_events", DAY).await;
    assert!(
        matches!(&err, Err(Error::Ingest(IngestError::ExtraColumns { columns, .. })) if columns == &["debug_blob".to_string()]),
        "{err:?}"
    );
    assert_untouched(&rt).await;
    Ok(())
}

#[tokio::test]
async fn invalid_rows_fail_the_whole_load_in_strict_mode() -> phlo::Result<()> {
    let dir = tempfile::tempdir()?;
    let rt = seeded("bad_strict", dir.path()).await;
    input(
        "bad_strict",
        vec![events(&[
            ("e1", "2025-01-15T01:00:00Z", 50.0, "a", None),
            ("e3", "2025-01-15T01:00:00Z", 150.0, "z", None),
        ])],
    );
    let err = rt.materialize("api_events", DAY).await.err();
    let report = err
        .as_ref()
        .and_then(Error::validation_report)
        .unwrap_or_else(|| panic!("{err:?}"));
    let checks: Vec<&str> = report.failures.iter().map(|f| f.check.as_str()).collect();
    assert_eq!(
        checks,
        [
            "le(value, 100.0)",
            "isin(category, [\"a\", \"b\", \"c\", \"d\"])"
        ]
    );
    assert_untouched(&rt).await;
    Ok(())
}

#[tokio::test]
async fn duplicate_keys_without_dedup_are_an_error_naming_keys() -> phlo::Result<()> {
    let dir = tempfile::tempdir()?;
    let (rt, _) = runtime("bad_dupes", dir.path()).await;
    input(
        "bad_dupes",
        vec![events(&[("e1", "2025-01-15T01:00:00Z", 1.0, "a", None)])],
    );
    rt.materialize("events_nodedup", DAY).await?;
    input(
        "bad_dupes",
        vec![events(&[
            ("e7", "2025-01-15T01:00:00Z", 1.0, "a", None),
            ("e7", "2025-01-15T02:00:00Z", 2.0, "a", None),
        ])],
    );
    let err = rt.materialize("events_nodedup", DAY).await;
    assert!(
        matches!(&err, Err(Error::Ingest(IngestError::DuplicateKeys { samples, duplicate_rows: 2, .. })) if samples == &["e7".to_string()]),
        "{err:?}"
    );
    assert_eq!(version(&rt, "bronze.events_nodedup").await, Some(0));
    Ok(())
}

#[tokio::test]
async fn invalid_partition_key_is_rejected_before_the_function_runs() -> phlo::Result<()> {
    let dir = tempfile::tempdir()?;
    let rt = seeded("bad_partition", dir.path()).await;
    set_fixture("bad_partition", Fixture::Panic); // would fail differently if called
    for key in ["2025-1-15", "2025-02-30", "yesterday", "../etc", ""] {
        let err = rt.materialize("api_events", key).await;
        assert!(
            matches!(
                &err,
                Err(Error::Core(CoreError::InvalidPartitionKey { .. }))
            ),
            "{key}: {err:?}"
        );
    }
    let err = rt.materialize("api_events", Unpartitioned).await;
    assert!(
        matches!(&err, Err(Error::Core(CoreError::PartitionMismatch { .. }))),
        "{err:?}"
    );
    assert_eq!(rt.runs().await?.len(), 1, "rejected before a run starts");
    assert_untouched(&rt).await;
    Ok(())
}

#[tokio::test]
async fn user_function_error_fails_the_run_without_retrying() -> phlo::Result<()> {
    let dir = tempfile::tempdir()?;
    let rt = seeded("bad_fn", dir.path()).await;
    set_fixture(
        "bad_fn",
        Fixture::Fail("upstream returned 400 Bad Request".into()),
    );
    let err = rt.materialize("api_events", DAY).await;
    assert!(
        matches!(
            &err,
            Err(Error::Asset {
                transient: false,
                ..
            })
        ),
        "{err:?}"
    );
    assert!(
        err.as_ref()
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default()
            .contains("400 Bad Request")
    );
    let last = rt.runs().await?.pop().unwrap_or_else(|| panic!("no run"));
    assert_eq!(last.attempts, 1);
    assert_untouched(&rt).await;
    assert_failed_run_recorded(&rt).await;
    Ok(())
}

#[tokio::test]
async fn a_panicking_function_is_an_error_not_a_crash() -> phlo::Result<()> {
    let dir = tempfile::tempdir()?;
    let rt = seeded("bad_panic", dir.path()).await;
    set_fixture("bad_panic", Fixture::Panic);
    let err = rt.materialize("api_events", DAY).await;
    assert!(
        matches!(&err, Err(Error::Panicked { message, .. }) if message == "asset bug"),
        "{err:?}"
    );
    assert_untouched(&rt).await;
    Ok(())
}

#[tokio::test]
async fn exceeding_max_runtime_writes_nothing() -> phlo::Result<()> {
    let dir = tempfile::tempdir()?;
    let (rt, _) = runtime("bad_slow", dir.path()).await;
    input(
        "bad_slow",
        vec![events(&[("e1", "2025-01-15T01:00:00Z", 1.0, "a", None)])],
    );
    rt.materialize("events_slow", DAY).await?;
    set_fixture("bad_slow", Fixture::Sleep(Duration::from_secs(5)));
    let started = std::time::Instant::now();
    let err = rt.materialize("events_slow", DAY).await;
    assert!(matches!(&err, Err(Error::Timeout { .. })), "{err:?}");
    assert!(
        started.elapsed() < Duration::from_secs(4),
        "the run is cut at its limit"
    );
    assert_eq!(version(&rt, "bronze.events_slow").await, Some(0));
    // A synchronous function is bounded too.
    let err = rt.materialize("events_slow_sync", DAY).await;
    assert!(matches!(&err, Err(Error::Timeout { .. })), "{err:?}");
    assert_eq!(version(&rt, "bronze.events_slow_sync").await, None);
    Ok(())
}
