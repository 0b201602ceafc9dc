//! Assets written the way a user crate would write them, driven by per-test fixtures.
//!
//! Each test opens its own warehouse with `SequentialRunIds::new(<test name>)`; the
//! assets look their input up by that prefix, so tests run in parallel without sharing
//! input.

use std::collections::HashMap;
use std::sync::{Mutex, OnceLock};
use std::time::Duration;

use phlo::arrow::array::{ArrayRef, Float64Array, RecordBatch, StringArray};
use phlo::arrow::datatypes::{DataType, Field, Schema as ArrowSchema};
use phlo::prelude::*;

/// The contract of the example.
#[derive(Schema)]
pub struct Event {
    /// Key.
    #[phlo(unique)]
    pub id: String,
    /// Event time.
    pub ts: DateTime<Utc>,
    /// A percentage.
    #[phlo(ge = 0.0, le = 100.0)]
    pub value: f64,
    /// One of four categories.
    #[phlo(isin = ["a", "b", "c", "d"])]
    pub category: String,
    /// Free text.
    pub note: Option<String>,
}

/// Same columns, extra input columns dropped.
#[derive(Schema)]
#[phlo(schema_policy = "drop_extra")]
pub struct EventDropExtra {
    /// Key.
    pub id: String,
    /// Event time.
    pub ts: DateTime<Utc>,
    /// A percentage.
    #[phlo(ge = 0.0, le = 100.0)]
    pub value: f64,
    /// Category.
    pub category: String,
    /// Free text.
    pub note: Option<String>,
}

/// Same columns, extra input columns added to the table.
#[derive(Schema)]
#[phlo(schema_policy = "additive")]
pub struct EventAdditive {
    /// Key.
    pub id: String,
    /// Event time.
    pub ts: DateTime<Utc>,
    /// A percentage.
    pub value: f64,
    /// Category.
    pub category: String,
    /// Free text.
    pub note: Option<String>,
}

/// A reading keyed by two columns.
#[derive(Schema)]
pub struct Reading {
    /// Sensor id.
    pub sensor: String,
    /// Region.
    pub region: String,
    /// Reading time.
    pub ts: DateTime<Utc>,
    /// Value.
    pub value: f64,
}

/// What an asset returns in a test.
#[derive(Debug, Clone)]
pub enum Fixture {
    /// These batches.
    Batches(Vec<RecordBatch>),
    /// Fail with a transient error on the first `n` attempts, then return the batches.
    FlakyThen(u32, Vec<RecordBatch>),
    /// Always fail with a transient error.
    AlwaysTransient,
    /// Fail with a plain error.
    Fail(String),
    /// Sleep this long, then return nothing.
    Sleep(Duration),
    /// Panic.
    Panic,
}

fn fixtures() -> &'static Mutex<HashMap<String, Fixture>> {
    static F: OnceLock<Mutex<HashMap<String, Fixture>>> = OnceLock::new();
    F.get_or_init(|| Mutex::new(HashMap::new()))
}

/// Sets what assets return for runs whose id starts with `test`.
pub fn set_fixture(test: &str, fixture: Fixture) {
    if let Ok(mut f) = fixtures().lock() {
        f.insert(test.to_string(), fixture);
    }
}

fn fixture_for(ctx: &PartitionContext) -> Fixture {
    let prefix = ctx
        .run_id()
        .rsplit_once('-')
        .map_or(ctx.run_id(), |(p, _)| p);
    fixtures()
        .lock()
        .ok()
        .and_then(|f| f.get(prefix).cloned())
        .unwrap_or(Fixture::Batches(Vec::new()))
}

async fn serve(ctx: &PartitionContext) -> phlo::Result<Vec<RecordBatch>> {
    match fixture_for(ctx) {
        Fixture::Batches(b) => Ok(b),
        Fixture::FlakyThen(n, b) if ctx.attempt() <= n => {
            let _ = b;
            Err(phlo::Error::transient(std::io::Error::other(
                "503 Service Unavailable",
            )))
        }
        Fixture::FlakyThen(_, b) => Ok(b),
        Fixture::AlwaysTransient => Err(phlo::Error::transient(std::io::Error::other(
            "upstream down",
        ))),
        Fixture::Fail(msg) => Err(phlo::Error::msg(msg)),
        Fixture::Sleep(d) => {
            tokio::time::sleep(d).await;
            Ok(Vec::new())
        }
        Fixture::Panic => panic!("asset bug"),
    }
}

/// The example asset: merge, dedup last by ts.
#[ingestion(table = "events", unique_key = "id", schema = Event, group = "api",
            merge_strategy = "merge", dedup = "last", order_by = "ts", freshness_hours = (24, 48))]
pub async fn api_events(ctx: &PartitionContext) -> phlo::Result<Vec<RecordBatch>> {
    serve(ctx).await
}

/// `first` by ts.
#[ingestion(table = "events_first", unique_key = "id", schema = Event, dedup = "first", order_by = "ts")]
pub async fn events_first(ctx: &PartitionContext) -> phlo::Result<Vec<RecordBatch>> {
    serve(ctx).await
}

/// `last` without order_by.
#[ingestion(table = "events_last_arrival", unique_key = "id", schema = Event, dedup = "last")]
pub async fn events_last_arrival(ctx: &PartitionContext) -> phlo::Result<Vec<RecordBatch>> {
    serve(ctx).await
}

/// `hash` dedup.
#[ingestion(table = "events_hash", unique_key = "id", schema = Event, dedup = "hash")]
pub async fn events_hash(ctx: &PartitionContext) -> phlo::Result<Vec<RecordBatch>> {
    serve(ctx).await
}

/// No dedup: duplicate keys are an error with merge.
#[ingestion(table = "events_nodedup", unique_key = "id", schema = Event, dedup = "none")]
pub async fn events_nodedup(ctx: &PartitionContext) -> phlo::Result<Vec<RecordBatch>> {
    serve(ctx).await
}

/// Append.
#[ingestion(table = "events_log", schema = Event, merge_strategy = "append")]
pub async fn events_append(ctx: &PartitionContext) -> phlo::Result<Vec<RecordBatch>> {
    serve(ctx).await
}

/// Replace the partition.
#[ingestion(table = "events_daily", unique_key = "id", schema = Event, merge_strategy = "replace_partition", order_by = "ts")]
pub async fn events_replace(ctx: &PartitionContext) -> phlo::Result<Vec<RecordBatch>> {
    serve(ctx).await
}

/// Lenient validation: invalid rows are quarantined.
#[ingestion(table = "silver.events_lenient", unique_key = "id", schema = Event, order_by = "ts", strict_validation = false)]
pub async fn events_lenient(ctx: &PartitionContext) -> phlo::Result<Vec<RecordBatch>> {
    serve(ctx).await
}

/// Validation disabled: constraints are not checked.
#[ingestion(table = "events_unvalidated", unique_key = "id", schema = Event, validate = false)]
pub async fn events_unvalidated(ctx: &PartitionContext) -> phlo::Result<Vec<RecordBatch>> {
    serve(ctx).await
}

/// Extra columns dropped.
#[ingestion(table = "events_drop", unique_key = "id", schema = EventDropExtra)]
pub async fn events_drop_extra(ctx: &PartitionContext) -> phlo::Result<Vec<RecordBatch>> {
    serve(ctx).await
}

/// Extra columns added.
#[ingestion(table = "events_additive", unique_key = "id", schema = EventAdditive)]
pub async fn events_additive(ctx: &PartitionContext) -> phlo::Result<Vec<RecordBatch>> {
    serve(ctx).await
}

/// Composite key.
#[ingestion(table = "readings", unique_key = ["sensor", "region"], schema = Reading, order_by = "ts")]
pub async fn readings(ctx: &PartitionContext) -> phlo::Result<Vec<RecordBatch>> {
    serve(ctx).await
}

/// Retries: quick backoff for tests (the clock's sleep is injected anyway).
#[ingestion(table = "events_flaky", unique_key = "id", schema = Event, max_retries = 3, retry_delay_seconds = 2)]
pub async fn events_flaky(ctx: &PartitionContext) -> phlo::Result<Vec<RecordBatch>> {
    serve(ctx).await
}

/// A run bounded to one second.
#[ingestion(table = "events_slow", unique_key = "id", schema = Event, max_runtime_seconds = 1)]
pub async fn events_slow(ctx: &PartitionContext) -> phlo::Result<Vec<RecordBatch>> {
    serve(ctx).await
}

/// A synchronous function bounded to one second.
#[ingestion(table = "events_slow_sync", unique_key = "id", schema = Event, max_runtime_seconds = 1)]
pub fn events_slow_sync(ctx: &PartitionContext) -> phlo::Result<RecordBatch> {
    let _ = ctx;
    std::thread::sleep(Duration::from_secs(3));
    Ok(RecordBatch::new_empty(std::sync::Arc::new(
        ArrowSchema::empty(),
    )))
}

/// Typed rows from a synchronous function.
#[ingestion(table = "events_typed", unique_key = "id", schema = Event, order_by = "ts")]
pub fn events_typed(ctx: &PartitionContext) -> phlo::Result<Vec<Event>> {
    let day = ctx.partition_date();
    let at = |h: u32| {
        day.and_hms_opt(h, 0, 0)
            .map(|t| t.and_utc())
            .unwrap_or_default()
    };
    Ok(vec![
        Event {
            id: "t1".into(),
            ts: at(1),
            value: 1.0,
            category: "a".into(),
            note: None,
        },
        Event {
            id: "t2".into(),
            ts: at(2),
            value: 2.0,
            category: "b".into(),
            note: Some("typed".into()),
        },
        Event {
            id: "t1".into(),
            ts: at(3),
            value: 3.0,
            category: "c".into(),
            note: None,
        },
    ])
}

/// An unpartitioned reference table.
#[ingestion(table = "ref.categories", unique_key = "id", schema = Event, partitioned = false)]
pub async fn categories(ctx: &PartitionContext) -> phlo::Result<Vec<RecordBatch>> {
    serve(ctx).await
}

/// Names of every asset this crate registers.
pub const ASSETS: &[&str] = &[
    "api_events",
    "categories",
    "events_additive",
    "events_append",
    "events_audited",
    "events_by_region",
    "events_drop_extra",
    "events_first",
    "events_flaky",
    "events_hash",
    "events_hourly",
    "events_last_arrival",
    "events_lenient",
    "events_monthly",
    "events_nodedup",
    "events_replace",
    "events_slow",
    "events_slow_sync",
    "events_typed",
    "events_unvalidated",
    "readings",
];

/// Hourly partitions in a time zone with daylight saving.
#[ingestion(table = "events_hourly", unique_key = "id", schema = Event, order_by = "ts",
            partitions = hourly(start = "2025-01-01T00", tz = "Europe/London"))]
pub async fn events_hourly(ctx: &PartitionContext) -> phlo::Result<Vec<RecordBatch>> {
    serve(ctx).await
}

/// Monthly partitions.
#[ingestion(table = "events_monthly", unique_key = "id", schema = Event, order_by = "ts",
            partitions = monthly(start = "2024-01"))]
pub async fn events_monthly(ctx: &PartitionContext) -> phlo::Result<Vec<RecordBatch>> {
    serve(ctx).await
}

/// Static partitions, each replaced whole.
#[ingestion(table = "events_by_region", unique_key = "id", schema = Event,
            merge_strategy = "replace_partition", static_keys = ["eu", "us"])]
pub async fn events_by_region(ctx: &PartitionContext) -> phlo::Result<Vec<RecordBatch>> {
    serve(ctx).await
}

/// A row of `Event` as loosely typed input: (id, ts, value, category, note).
pub type Row<'a> = (&'a str, &'a str, f64, &'a str, Option<&'a str>);

/// A batch of event rows; `ts` as ISO-8601 strings (coerced by the runtime).
pub fn events(rows: &[Row<'_>]) -> RecordBatch {
    let schema = std::sync::Arc::new(ArrowSchema::new(vec![
        Field::new("id", DataType::Utf8, true),
        Field::new("ts", DataType::Utf8, true),
        Field::new("value", DataType::Float64, true),
        Field::new("category", DataType::Utf8, true),
        Field::new("note", DataType::Utf8, true),
    ]));
    let columns: Vec<ArrayRef> = vec![
        std::sync::Arc::new(StringArray::from_iter_values(rows.iter().map(|r| r.0))),
        std::sync::Arc::new(StringArray::from_iter_values(rows.iter().map(|r| r.1))),
        std::sync::Arc::new(Float64Array::from_iter_values(rows.iter().map(|r| r.2))),
        std::sync::Arc::new(StringArray::from_iter_values(rows.iter().map(|r| r.3))),
        std::sync::Arc::new(rows.iter().map(|r| r.4).collect::<StringArray>()),
    ];
    match RecordBatch::try_new(schema, columns) {
        Ok(b) => b,
        Err(e) => panic!("test batch: {e}"),
    }
}

/// An audited table: blocking range check with a threshold, a warn null check, a custom check.
#[ingestion(table = "events_audited", unique_key = "id", schema = Event, order_by = "ts")]
pub async fn events_audited(ctx: &PartitionContext) -> phlo::Result<Vec<RecordBatch>> {
    serve(ctx).await
}

/// Blocking checks on `bronze.events_audited`.
#[quality(table = "bronze.events_audited", schema = Event, checks = [
    phlo::quality::RangeCheck::new("value").max(50.0).allow_threshold(0.34),
    phlo::quality::NullCheck::new(["note"]).warn(),
    phlo::quality::CountCheck::new().min_rows(1),
])]
pub fn events_audited_quality() {}

/// A custom, non-blocking check: fails when category `d` appears.
#[quality(table = "bronze.events_audited", blocking = false)]
pub async fn no_category_d(scope: &CheckScope) -> phlo::Result<CheckOutcome> {
    let sql = scope.select_sql("count(*) AS n", Some("category = 'd'"));
    let batches = scope.ctx().sql(&sql).await?.collect().await?;
    let n = batches
        .first()
        .and_then(|b| {
            b.column(0)
                .as_any()
                .downcast_ref::<phlo::arrow::array::Int64Array>()
        })
        .map_or(0, |a| a.value(0));
    Ok(if n == 0 {
        CheckOutcome::pass()
    } else {
        CheckOutcome::fail(format!("{n} rows of category d"))
    })
}
