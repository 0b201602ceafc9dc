//! The glucose pipeline end to end: the 7-day backfill of `examples/README.md` in a
//! temporary warehouse, with an injected clock and run ids, and its table contents.

use std::path::Path;
use std::sync::Arc;

use phlo::arrow::util::pretty::pretty_format_batches;
use phlo::crates::core::names::TableName;
use phlo::prelude::*;
use phlo::{BackfillReport, FixedClock, SequentialRunIds};

/// Tests return any error: phlo's, I/O, or a message.
type TestResult = Result<(), Box<dyn std::error::Error>>;

const TABLE: &str = "bronze.glucose_readings";
const QUARANTINE: &str = "bronze.glucose_readings__quarantine";

async fn runtime(dir: &Path) -> phlo::Result<Runtime> {
    // 2025-01-20T06:00:00Z, the morning after the last day.
    let now = DateTime::from_timestamp(1_737_352_800, 0).unwrap_or_default();
    Runtime::builder(dir)
        .project(phlo_examples::PROJECT)
        .clock(Arc::new(FixedClock::new(now)))
        .run_ids(Arc::new(SequentialRunIds::new("glucose")))
        .build()
        .await
}

async fn backfill(rt: &Runtime) -> phlo::Result<BackfillReport> {
    rt.backfill("glucose_readings", "2025-01-13", "2025-01-19")
        .await
}

async fn query(rt: &Runtime, sql: &str) -> phlo::Result<String> {
    Ok(pretty_format_batches(&rt.sql(sql).await?)?.to_string())
}

async fn version(rt: &Runtime, table: &str) -> phlo::Result<Option<i64>> {
    let name = TableName::parse(table)?;
    Ok(rt.store().version(&name).await?)
}

/// (partition, status, in, invalid, quarantined, dupes, inserted, updated, unchanged) per run.
type Counts = (String, RunStatus, u64, u64, u64, u64, u64, u64, u64);

fn counts(report: &BackfillReport) -> Vec<Counts> {
    report
        .runs
        .iter()
        .map(|r| {
            (
                r.partition.clone().unwrap_or_default(),
                r.status,
                r.rows_in,
                r.rows_invalid,
                r.rows_quarantined,
                r.duplicates_dropped,
                r.rows_inserted,
                r.rows_updated,
                r.rows_unchanged,
            )
        })
        .collect()
}

/// A successful run's counts: [in, invalid, quarantined, dupes, inserted, updated, unchanged].
fn row(day: &str, n: [u64; 7]) -> Counts {
    let status = RunStatus::Success;
    (day.into(), status, n[0], n[1], n[2], n[3], n[4], n[5], n[6])
}

/// A day the quality gate blocked: read and validated, nothing written.
fn blocked(day: &str, rows_in: u64) -> Counts {
    (day.into(), RunStatus::Failed, rows_in, 0, 0, 0, 0, 0, 0)
}

fn lines(text: &str) -> Vec<&str> {
    text.lines().collect()
}

#[tokio::test]
async fn seven_day_backfill() -> TestResult {
    let dir = tempfile::tempdir()?;
    let rt = runtime(dir.path()).await?;
    let report = backfill(&rt).await?;

    //                         in invalid quar. dupes ins. upd. unch.
    assert_eq!(
        counts(&report),
        vec![
            row("2025-01-13", [170, 0, 0, 0, 170, 0, 0]),
            row("2025-01-14", [172, 0, 0, 2, 170, 0, 0]),
            row("2025-01-15", [174, 4, 4, 0, 170, 0, 0]),
            row("2025-01-16", [171, 0, 0, 0, 170, 1, 0]),
            row("2025-01-17", [166, 1, 1, 0, 165, 0, 0]),
            row("2025-01-18", [171, 1, 1, 0, 170, 0, 0]),
            // An upload gap: 99 readings < 150, the blocking count check stops the commit.
            blocked("2025-01-19", 99),
        ]
    );
    let gate = &report.runs[6];
    assert!(
        gate.error
            .as_deref()
            .unwrap_or_default()
            .contains("count_check"),
        "{:?}",
        gate.error
    );
    let count = gate.checks.iter().find(|c| c.name == "count_check");
    assert_eq!(count.map(|c| (c.passed, c.failed_count)), Some((false, 1)));
    // The warn check fires on every day (first readings have no trend) and never blocks.
    for r in &report.runs {
        let trend = r.checks.iter().find(|c| c.name == "null_check(trend)");
        assert_eq!(
            trend.map(|c| (c.passed, c.severity)),
            Some((false, phlo::quality::Severity::Warn)),
            "{}",
            r.partition.as_deref().unwrap_or_default()
        );
    }
    let run_ids: Vec<&str> = report.runs.iter().map(|r| r.run_id.as_str()).collect();
    assert_eq!(run_ids[0], "glucose-000001");
    assert_eq!(run_ids[6], "glucose-000007");
    // Diagnostics fields are dropped, listed in every report, absent from the table.
    for r in &report.runs {
        assert_eq!(r.dropped_columns, ["battery_pct", "firmware", "rssi_dbm"]);
    }
    assert_eq!(
        version(&rt, TABLE).await?,
        Some(5),
        "the blocked day made no version"
    );

    assert_eq!(
        lines(&query(&rt, "SELECT count(*) AS n FROM bronze.glucose_readings").await?),
        ["+------+", "| n    |", "+------+", "| 1015 |", "+------+",]
    );
    assert_eq!(
        lines(&query(&rt, "SELECT count(*) AS n FROM bronze.glucose_readings WHERE _phlo_partition_date = DATE '2025-01-19'").await?),
        ["+---+", "| n |", "+---+", "| 0 |", "+---+",]
    );
    let batches = rt
        .sql("SELECT * FROM bronze.glucose_readings LIMIT 1")
        .await?;
    let names: Vec<String> = batches
        .first()
        .map(|b| {
            b.schema()
                .fields()
                .iter()
                .map(|f| f.name().clone())
                .collect()
        })
        .unwrap_or_default();
    assert_eq!(
        names,
        [
            "reading_id",
            "device_id",
            "measured_at",
            "mg_dl",
            "source",
            "device_serial",
            "trend",
            "note",
            "_phlo_partition_date",
            "_phlo_ingested_at",
            "_phlo_run_id",
            "_phlo_row_hash",
        ]
    );

    // 2025-01-14: the correction (flushed before the original, stamped 40 s later) wins
    // on `measured_at`; the plain retry of 12:00 collapses into one row.
    // 2025-01-16: yesterday's 19:00 reading re-sent with a corrected value updates the
    // row, which now carries the later partition date and run.
    // GX-2077 sends local time (+01:00): stored in UTC.
    assert_eq!(
        lines(
            &query(
                &rt,
                "SELECT reading_id, measured_at, mg_dl, note, _phlo_partition_date AS day, \
                        _phlo_run_id AS run \
                 FROM bronze.glucose_readings \
                 WHERE reading_id IN ('GX-1042-20250114-0830', 'GX-1042-20250114-1200', \
                                      'GX-2077-20250115-1900', 'GX-2077-20250114-1200') \
                 ORDER BY reading_id"
            )
            .await?
        ),
        [
            "+-----------------------+----------------------+-------+--------------+------------+----------------+",
            "| reading_id            | measured_at          | mg_dl | note         | day        | run            |",
            "+-----------------------+----------------------+-------+--------------+------------+----------------+",
            "| GX-1042-20250114-0830 | 2025-01-14T08:30:40Z | 151.5 | calibrated   | 2025-01-14 | glucose-000002 |",
            "| GX-1042-20250114-1200 | 2025-01-14T12:00:00Z | 101.3 |              | 2025-01-14 | glucose-000002 |",
            "| GX-2077-20250114-1200 | 2025-01-14T12:00:00Z | 172.9 |              | 2025-01-14 | glucose-000002 |",
            "| GX-2077-20250115-1900 | 2025-01-15T19:00:40Z | 168.0 | recalibrated | 2025-01-16 | glucose-000004 |",
            "+-----------------------+----------------------+-------+--------------+------------+----------------+",
        ]
    );
    // 2025-01-19 (blocked) re-sent yesterday's 23:45 reading: it stays as 2025-01-18 wrote it.
    assert_eq!(
        lines(
            &query(
                &rt,
                "SELECT _phlo_partition_date AS day, _phlo_run_id AS run \
                 FROM bronze.glucose_readings WHERE reading_id = 'GX-1042-20250118-2345'"
            )
            .await?
        ),
        [
            "+------------+----------------+",
            "| day        | run            |",
            "+------------+----------------+",
            "| 2025-01-18 | glucose-000006 |",
            "+------------+----------------+",
        ]
    );

    // Six invalid rows, each with the checks it failed; none reached the main table.
    assert_eq!(
        lines(
            &query(
                &rt,
                "SELECT reading_id, _phlo_failed_checks AS failed, _phlo_partition_date AS day \
                 FROM bronze.glucose_readings__quarantine ORDER BY reading_id"
            )
            .await?
        ),
        [
            "+--------------------------+--------------------------------------------------+------------+",
            "| reading_id               | failed                                           | day        |",
            "+--------------------------+--------------------------------------------------+------------+",
            "| GX-1042-20250115-0307    | [ge(mg_dl, 20.0)]                                | 2025-01-15 |",
            "| GX-1042-20250115-0308    | [le(mg_dl, 600.0)]                               | 2025-01-15 |",
            "| GX-1042-20250115-0400b   | [cast(measured_at, Utf8 -> Timestamp(µs, UTC))]  | 2025-01-15 |",
            "| GX-1042-20250118-0252    | [not_null(mg_dl)]                                | 2025-01-18 |",
            "| MA-gx2077-20250117-1005  | [regex(device_serial, \"[A-Z]{2}-[0-9]{4}\")]      | 2025-01-17 |",
            "| PU-GX-2077-20250115-1300 | [isin(source, [\"cgm\", \"fingerstick\", \"manual\"])] | 2025-01-15 |",
            "+--------------------------+--------------------------------------------------+------------+",
        ]
    );
    assert_eq!(
        lines(
            &query(
                &rt,
                "SELECT count(*) AS n FROM bronze.glucose_readings g \
                 JOIN bronze.glucose_readings__quarantine q ON g.reading_id = q.reading_id"
            )
            .await?
        ),
        ["+---+", "| n |", "+---+", "| 0 |", "+---+"]
    );
    Ok(())
}

#[tokio::test]
async fn second_backfill_changes_nothing_but_the_replayed_correction() -> TestResult {
    let dir = tempfile::tempdir()?;
    let rt = runtime(dir.path()).await?;
    backfill(&rt).await?;
    let snapshot = "SELECT reading_id, device_id, measured_at, mg_dl, source, device_serial, \
                           trend, note, _phlo_partition_date, _phlo_row_hash \
                    FROM bronze.glucose_readings ORDER BY reading_id";
    let quarantine = "SELECT * FROM bronze.glucose_readings__quarantine ORDER BY reading_id";
    let (table_before, quarantine_before) =
        (query(&rt, snapshot).await?, query(&rt, quarantine).await?);
    let versions_before = (version(&rt, TABLE).await?, version(&rt, QUARANTINE).await?);

    let again = backfill(&rt).await?;

    // Every day's rows are already there, unchanged — except the 2025-01-15 reading that
    // 2025-01-16 corrected: replaying 2025-01-15 puts its original value back (a merge
    // replaces a matched row whatever its `measured_at`), and replaying 2025-01-16
    // corrects it again. Hence two commits; the table ends exactly as it was.
    assert_eq!(
        counts(&again),
        vec![
            row("2025-01-13", [170, 0, 0, 0, 0, 0, 170]),
            row("2025-01-14", [172, 0, 0, 2, 0, 0, 170]),
            row("2025-01-15", [174, 4, 4, 0, 0, 1, 169]),
            row("2025-01-16", [171, 0, 0, 0, 0, 1, 170]),
            row("2025-01-17", [166, 1, 1, 0, 0, 0, 165]),
            row("2025-01-18", [171, 1, 1, 0, 0, 0, 170]),
            blocked("2025-01-19", 99),
        ]
    );
    assert_eq!(query(&rt, snapshot).await?, table_before);
    assert_eq!(query(&rt, quarantine).await?, quarantine_before);
    let replayed_correction_commits = 2;
    assert_eq!(
        (version(&rt, TABLE).await?, version(&rt, QUARANTINE).await?),
        (
            versions_before.0.map(|v| v + replayed_correction_commits),
            versions_before.1
        )
    );

    // From the correcting day on, re-running is a no-op: no new version anywhere.
    let versions = (version(&rt, TABLE).await?, version(&rt, QUARANTINE).await?);
    let tail = rt
        .backfill("glucose_readings", "2025-01-16", "2025-01-19")
        .await?;
    let statuses: Vec<RunStatus> = tail.runs.iter().map(|r| r.status).collect();
    assert_eq!(
        statuses,
        [
            RunStatus::Success,
            RunStatus::Success,
            RunStatus::Success,
            RunStatus::Failed
        ]
    );
    assert!(
        tail.runs
            .iter()
            .all(|r| r.rows_inserted + r.rows_updated == 0)
    );
    assert_eq!(
        (version(&rt, TABLE).await?, version(&rt, QUARANTINE).await?),
        versions
    );
    assert_eq!(query(&rt, snapshot).await?, table_before);
    Ok(())
}

#[tokio::test]
async fn a_day_without_a_file_is_no_data() -> TestResult {
    let dir = tempfile::tempdir()?;
    let rt = runtime(dir.path()).await?;
    let report = rt.materialize("glucose_readings", "2025-01-12").await?;
    assert_eq!(report.status, RunStatus::NoData);
    assert_eq!(version(&rt, TABLE).await?, None);
    Ok(())
}

#[test]
fn the_binary_sees_the_asset() {
    assert!(phlo_examples::register().contains(&"glucose_readings"));
    let names: Vec<String> = phlo::Registry::global_with_project(phlo_examples::PROJECT)
        .map(|r| r.iter().map(|a| a.info().name).collect())
        .unwrap_or_default();
    assert!(names.iter().any(|n| n == "glucose_readings"), "{names:?}");
}

#[tokio::test]
async fn replaying_a_day_creates_no_table_version() -> TestResult {
    // The laws of `phlo::testing`, in a throwaway warehouse of the same assets and clock.
    let w = phlo::testing::TestWarehouse::builder()
        .now(DateTime::from_timestamp(1_737_352_800, 0).unwrap_or_default())
        .run_ids("glucose")
        .build()
        .await?;
    for day in ["2025-01-13", "2025-01-15", "2025-01-16"] {
        w.assert_idempotent("glucose_readings", day).await?;
    }
    Ok(())
}
