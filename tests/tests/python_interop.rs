//! Another Delta reader sees exactly what phlo wrote: Python `deltalake` reads a table phlo
//! merged into (twice) and must find the same version, columns and values — metadata
//! columns included — as phlo's own SQL.
//!
//! Needs `python3`: `scripts/python-env.sh` makes `<repo>/.venv` with pinned `deltalake`
//! and `pyarrow` on the first run; without `python3` the test prints `SKIPPED` and passes.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;

use phlo::arrow::array::{Array, ArrayRef, AsArray, RecordBatch};
use phlo::arrow::compute::cast;
use phlo::arrow::datatypes::{
    DataType, Date32Type, Float64Type, TimeUnit, TimestampMicrosecondType,
};
use phlo::chrono::{DateTime, NaiveDateTime, Timelike};
use phlo::crates::core::names::TableName;
use phlo::{FixedClock, Runtime, SequentialRunIds};
use phlo_tests::{Fixture, events, set_fixture};
use serde_json::{Map, Value, json};

/// Tests return any error: phlo's, I/O, or a message.
type TestResult<T = ()> = Result<T, Box<dyn std::error::Error>>;

const TEST: &str = "python_interop";

fn repo_root() -> PathBuf {
    // This crate lives in `<repo>/tests`.
    let manifest = Path::new(env!("CARGO_MANIFEST_DIR"));
    manifest.parent().unwrap_or(manifest).to_path_buf()
}

/// `2025-01-15T02:30:00.250000Z`, or `2025-01-15T01:00:00Z` without fractional seconds:
/// the format `scripts/read_delta.py` prints.
fn iso_utc(t: NaiveDateTime) -> String {
    let fraction = match t.nanosecond() / 1000 {
        0 => String::new(),
        micros => format!(".{micros:06}"),
    };
    format!("{}{fraction}Z", t.format("%Y-%m-%dT%H:%M:%S"))
}

/// Row `i` of `column` as `read_delta.py` formats it (strings, `null` for nulls).
fn text(column: &ArrayRef, i: usize) -> TestResult<Value> {
    if column.is_null(i) {
        return Ok(Value::Null);
    }
    let s = match column.data_type() {
        DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View => cast(column, &DataType::Utf8)?
            .as_string::<i32>()
            .value(i)
            .to_string(),
        DataType::Float64 => format!("{:?}", column.as_primitive::<Float64Type>().value(i)),
        DataType::Date32 => column
            .as_primitive::<Date32Type>()
            .value_as_date(i)
            .ok_or("date out of range")?
            .to_string(),
        DataType::Timestamp(TimeUnit::Microsecond, _) => iso_utc(
            DateTime::from_timestamp_micros(
                column.as_primitive::<TimestampMicrosecondType>().value(i),
            )
            .ok_or("timestamp out of range")?
            .naive_utc(),
        ),
        other => return Err(format!("no text format for {other} in this test").into()),
    };
    Ok(Value::String(s))
}

/// Rows as `read_delta.py` prints them: one object per row, column name → text.
fn rows(batches: &[RecordBatch]) -> TestResult<Vec<Value>> {
    let mut out = Vec::new();
    for batch in batches {
        let schema = batch.schema();
        for i in 0..batch.num_rows() {
            let mut row = Map::new();
            for (field, column) in schema.fields().iter().zip(batch.columns()) {
                row.insert(field.name().clone(), text(column, i)?);
            }
            out.push(Value::Object(row));
        }
    }
    Ok(out)
}

fn python3_available() -> bool {
    Command::new("python3").arg("--version").output().is_ok()
}

/// Runs `scripts/python-env.sh`, then `read_delta.py` on `table_dir`; its JSON output.
fn read_with_python(table_dir: &Path) -> TestResult<Value> {
    let root = repo_root();
    let setup = Command::new("bash")
        .arg(root.join("scripts/python-env.sh"))
        .output()?;
    if !setup.status.success() {
        return Err(format!(
            "scripts/python-env.sh failed ({}):\n{}",
            setup.status,
            String::from_utf8_lossy(&setup.stderr)
        )
        .into());
    }
    let venv = std::env::var_os("PHLO_VENV").map_or_else(|| root.join(".venv"), PathBuf::from);
    let read = Command::new(venv.join("bin/python"))
        .arg(root.join("scripts/read_delta.py"))
        .arg(table_dir)
        .output()?;
    if !read.status.success() {
        return Err(format!(
            "read_delta.py failed ({}):\n{}",
            read.status,
            String::from_utf8_lossy(&read.stderr)
        )
        .into());
    }
    Ok(serde_json::from_slice(&read.stdout)?)
}

#[tokio::test]
async fn python_deltalake_reads_what_phlo_wrote() -> TestResult {
    let dir = tempfile::tempdir()?;
    let now = DateTime::from_timestamp(1_736_942_400, 123_456_000).ok_or("clock")?; // 2025-01-15T12:00:00.123456Z
    let rt = Runtime::builder(dir.path())
        .clock(Arc::new(FixedClock::new(now)))
        .run_ids(Arc::new(SequentialRunIds::new(TEST)))
        .build()
        .await?;

    // Day one: a duplicate key (the later `ts` wins), non-ASCII text, a null note next to
    // an empty one, an offset normalised to UTC.
    set_fixture(
        TEST,
        Fixture::Batches(vec![events(&[
            ("e1", "2025-01-15T01:00:00Z", 10.0, "a", None),
            ("e2", "2025-01-15T02:30:00Z", 20.5, "b", Some("café")),
            ("e3", "2025-01-15T05:00:00+02:00", 30.0, "c", Some("")),
            (
                "e1",
                "2025-01-15T04:00:00Z",
                40.0,
                "d",
                Some("später ☕ 東京"),
            ),
        ])]),
    );
    let first = rt.materialize("api_events", "2025-01-15").await?;
    assert_eq!(
        (first.rows_in, first.duplicates_dropped, first.rows_inserted),
        (4, 1, 3)
    );
    // Day two updates e2 (fractional seconds, non-ASCII) and adds e4.
    set_fixture(
        TEST,
        Fixture::Batches(vec![events(&[
            (
                "e2",
                "2025-01-16T06:00:00.25Z",
                99.5,
                "d",
                Some("mis à jour ✓"),
            ),
            ("e4", "2025-01-16T07:00:00Z", 0.0, "a", None),
        ])]),
    );
    let second = rt.materialize("api_events", "2025-01-16").await?;
    assert_eq!((second.rows_inserted, second.rows_updated), (1, 1));

    let version = rt
        .store()
        .version(&TableName::parse("bronze.events")?)
        .await?
        .ok_or("bronze.events has no version")?;
    let phlo_batches = rt.sql("SELECT * FROM bronze.events ORDER BY id").await?;
    let phlo_rows = rows(&phlo_batches)?;
    let phlo_columns: Vec<String> = phlo_batches
        .first()
        .map(|b| {
            b.schema()
                .fields()
                .iter()
                .map(|f| f.name().clone())
                .collect()
        })
        .unwrap_or_default();

    if !python3_available() {
        println!("SKIPPED: python3 not found; the Delta read-back needs it");
        return Ok(());
    }
    let python = read_with_python(&dir.path().join("bronze").join("events"))?;

    assert_eq!(python["version"], json!(version));
    assert_eq!(python["num_rows"], json!(phlo_rows.len()));
    assert_eq!(python["columns"], json!(phlo_columns));
    assert_eq!(
        phlo_columns,
        [
            "id",
            "ts",
            "value",
            "category",
            "note",
            "_phlo_partition_date",
            "_phlo_ingested_at",
            "_phlo_run_id",
            "_phlo_row_hash",
        ]
    );
    let python_rows = python["rows"].as_array().ok_or("rows is not an array")?;
    assert_eq!(python_rows.len(), phlo_rows.len());
    for (py, ours) in python_rows.iter().zip(&phlo_rows) {
        assert_eq!(py, ours, "python (left) and phlo (right) disagree on a row");
    }

    // The comparison is not vacuous: pin what both sides read.
    let ids: Vec<&str> = python_rows
        .iter()
        .filter_map(|r| r["id"].as_str())
        .collect();
    assert_eq!(ids, ["e1", "e2", "e3", "e4"]);
    let (e1, e2, e3, e4) = (
        &python_rows[0],
        &python_rows[1],
        &python_rows[2],
        &python_rows[3],
    );
    assert_eq!(
        (&e1["value"], &e1["note"], &e1["ts"]),
        (
            &json!("40.0"),
            &json!("später ☕ 東京"),
            &json!("2025-01-15T04:00:00Z")
        )
    );
    assert_eq!(
        (
            &e2["ts"],
            &e2["note"],
            &e2["_phlo_partition_date"],
            &e2["_phlo_run_id"]
        ),
        (
            &json!("2025-01-16T06:00:00.250000Z"),
            &json!("mis à jour ✓"),
            &json!("2025-01-16"),
            &json!("python_interop-000002")
        )
    );
    assert_eq!(
        (&e3["ts"], &e3["note"], &e4["note"]),
        (&json!("2025-01-15T03:00:00Z"), &json!(""), &Value::Null)
    );
    assert_eq!(
        e1["_phlo_ingested_at"],
        json!("2025-01-15T12:00:00.123456Z")
    );
    for row in python_rows {
        let hash = row["_phlo_row_hash"].as_str().ok_or("row hash")?;
        assert!(
            hash.len() == 32
                && hash
                    .bytes()
                    .all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase()),
            "{hash}"
        );
    }
    Ok(())
}
