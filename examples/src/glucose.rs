//! Continuous glucose monitor (CGM) readings: one NDJSON file per day, merged into
//! `bronze.glucose_readings`.
//!
//! ```text
//!  fixtures/glucose/2025-01-15.ndjson ─▶ glucose_readings(ctx) ─▶ phlo
//!    one JSON object a line                read the day's file      coerce (ISO-8601 → µs UTC,
//!    + diagnostics fields                  as Arrow batches         extra fields dropped)
//!                                                                   validate (bad rows → quarantine)
//!                                                                   dedup last by measured_at
//!                                                                   merge by reading_id
//! ```
//!
//! The devices send diagnostics (`battery_pct`, `firmware`, `rssi_dbm`) the table does not
//! keep: the schema's `drop_extra` policy drops them and the run report lists them.
//! Invalid readings (out of range, unknown source, malformed serial, unparseable time,
//! missing value) do not fail the run (`strict_validation = false`): they land in
//! `bronze.glucose_readings__quarantine` with the names of the checks they failed.

use std::fs::File;
use std::io::{self, BufRead, BufReader, ErrorKind};
use std::path::PathBuf;
use std::sync::Arc;

use phlo::arrow::datatypes::{DataType, Field, Schema as ArrowSchema, SchemaRef};
use phlo::arrow::error::ArrowError;
use phlo::arrow::json::ReaderBuilder;
use phlo::prelude::*;
use phlo::quality::{CountCheck, NullCheck, RangeCheck, UniqueCheck};

/// Environment variable naming the fixtures directory (the one holding `glucose/`).
pub const FIXTURES_ENV: &str = "PHLO_EXAMPLE_FIXTURES";

/// One reading, as the table keeps it.
#[derive(Schema)]
#[phlo(schema_policy = "drop_extra")] // the devices send diagnostics fields we don't keep
pub struct GlucoseReading {
    /// Assigned by the device; a re-sent reading keeps its id.
    #[phlo(unique)]
    pub reading_id: String,
    /// The wearer's device.
    pub device_id: String,
    /// When the value was measured (devices send ISO-8601 with any offset; stored as UTC).
    pub measured_at: DateTime<Utc>,
    /// Blood glucose, mg/dL, within what a sensor can report.
    #[phlo(ge = 20.0, le = 600.0)]
    pub mg_dl: f64,
    /// How the value was taken.
    #[phlo(isin = ["cgm", "fingerstick", "manual"])]
    pub source: String,
    /// Sensor serial, e.g. `GX-1042`.
    #[phlo(regex = "[A-Z]{2}-[0-9]{4}")]
    pub device_serial: String,
    /// Direction of change since the previous reading (CGM only).
    #[phlo(isin = ["rising_fast", "rising", "steady", "falling", "falling_fast"])]
    pub trend: Option<String>,
    /// Free text from the wearer or the device.
    pub note: Option<String>,
}

/// The readings of one day, merged by `reading_id`. A device that re-sends a reading
/// (a retry, or a calibration correction) keeps its id: within a day the latest
/// `measured_at` wins, and a reading re-sent on a later day updates the stored row.
#[ingestion(table = "glucose_readings", unique_key = "reading_id", schema = GlucoseReading,
            group = "health", cron = "15 * * * *", order_by = "measured_at", dedup = "last",
            freshness_hours = (26, 50),
            strict_validation = false)]
pub async fn glucose_readings(ctx: &PartitionContext) -> phlo::Result<Vec<RecordBatch>> {
    let path = day_file(ctx.partition_date());
    // The files are small and local: read inline. An HTTP source would be awaited here.
    let file = match File::open(&path) {
        Ok(file) => file,
        // No file, no readings: phlo writes nothing and reports the run as `no_data`.
        Err(e) if e.kind() == ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(io::Error::new(e.kind(), format!("{}: {e}", path.display())).into()),
    };
    Ok(read_batches(BufReader::new(file))?)
}

/// The table's quality gate, run on each day's staged result before it is published:
///
/// - a day must hold at least 150 readings (two devices every 15 minutes give 192): a day
///   with an upload gap is **blocked** instead of published half-empty — 2025-01-19 is;
/// - the trend arrow may be missing: a `warn` check records how often and never blocks;
/// - reading ids are unique, and 98% of readings are in a plausible 40–400 mg/dL range.
#[quality(table = "bronze.glucose_readings", schema = GlucoseReading, group = "health", checks = [
    CountCheck::new().min_rows(150),
    NullCheck::new(["trend"]).warn(),
    UniqueCheck::new(["reading_id"]),
    RangeCheck::new("mg_dl").min(40.0).max(400.0).allow_threshold(0.02),
])]
pub fn glucose_quality() {}

/// The fixtures directory: `$PHLO_EXAMPLE_FIXTURES`, else this crate's `fixtures/`.
pub fn fixtures_dir() -> PathBuf {
    std::env::var_os(FIXTURES_ENV)
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("fixtures"))
}

/// The file holding one day's uploads: `<fixtures>/glucose/YYYY-MM-DD.ndjson`.
pub fn day_file(day: NaiveDate) -> PathBuf {
    fixtures_dir().join("glucose").join(format!("{day}.ndjson"))
}

/// How the files are read: every field the devices send, times as strings (phlo parses
/// them, and an unparseable one fails only its row), diagnostics included (the schema
/// drops them). Fields missing from a line are null; fields not listed here are ignored.
pub fn input_schema() -> SchemaRef {
    let utf8 = |name: &str| Field::new(name, DataType::Utf8, true);
    Arc::new(ArrowSchema::new(vec![
        utf8("reading_id"),
        utf8("device_id"),
        utf8("device_serial"),
        utf8("measured_at"),
        Field::new("mg_dl", DataType::Float64, true),
        utf8("source"),
        utf8("trend"),
        utf8("note"),
        Field::new("battery_pct", DataType::Int64, true),
        utf8("firmware"),
        Field::new("rssi_dbm", DataType::Int64, true),
    ]))
}

/// Parses NDJSON into batches of [`input_schema`].
pub fn read_batches(input: impl BufRead) -> Result<Vec<RecordBatch>, ArrowError> {
    ReaderBuilder::new(input_schema())
        .with_batch_size(1024)
        .build(input)?
        .collect()
}
