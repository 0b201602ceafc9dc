//! Test helpers: an in-memory warehouse with `bronze.events` and a partition scope.

use std::sync::Arc;

use arrow::array::{
    ArrayRef, Date32Array, Float64Array, Int64Array, RecordBatch, StringArray,
    TimestampMicrosecondArray,
};
use arrow::datatypes::{DataType, Field, Schema, TimeUnit};
use chrono::{DateTime, NaiveDate, Utc};
use datafusion::catalog::MemorySchemaProvider;
use datafusion::datasource::MemTable;
use datafusion::prelude::SessionContext;

use crate::{Check, CheckResult, CheckScope, QualityReport, ScopeWindow, run_checks};

/// The partition every scope covers.
pub(crate) fn day() -> NaiveDate {
    NaiveDate::from_ymd_opt(2025, 1, 15).unwrap_or_default()
}

/// Another partition, outside the scope.
pub(crate) fn other_day() -> NaiveDate {
    NaiveDate::from_ymd_opt(2025, 1, 14).unwrap_or_default()
}

/// The scope's clock: 2025-01-15T12:00:00Z.
pub(crate) fn now() -> DateTime<Utc> {
    DateTime::from_timestamp(1_736_942_400, 0).unwrap_or_default()
}

/// One row of `events`.
#[derive(Debug, Clone)]
pub(crate) struct Row {
    pub id: Option<i64>,
    pub ts: Option<DateTime<Utc>>,
    pub value: Option<f64>,
    pub category: Option<&'static str>,
    pub email: Option<&'static str>,
    pub date: NaiveDate,
}

/// A valid row with id `id` in the scoped partition.
pub(crate) fn row(id: i64) -> Row {
    Row {
        id: Some(id),
        ts: Some(now() - chrono::Duration::hours(1)),
        value: Some(id as f64),
        category: Some("a"),
        email: Some("x@example.com"),
        date: day(),
    }
}

/// `n` valid rows with ids `0..n`.
pub(crate) fn rows(n: i64) -> Vec<Row> {
    (0..n).map(row).collect()
}

/// The schema of `events`.
pub(crate) fn events_schema() -> Arc<Schema> {
    Arc::new(Schema::new(vec![
        Field::new("id", DataType::Int64, true),
        Field::new(
            "ts",
            DataType::Timestamp(TimeUnit::Microsecond, Some("UTC".into())),
            true,
        ),
        Field::new("value", DataType::Float64, true),
        Field::new("category", DataType::Utf8, true),
        Field::new("email", DataType::Utf8, true),
        Field::new("_phlo_partition_date", DataType::Date32, true),
    ]))
}

/// `rows` as a batch of `events`.
pub(crate) fn events(rows: &[Row]) -> RecordBatch {
    let columns: Vec<ArrayRef> = vec![
        Arc::new(rows.iter().map(|r| r.id).collect::<Int64Array>()),
        Arc::new(
            rows.iter()
                .map(|r| r.ts.map(|t| t.timestamp_micros()))
                .collect::<TimestampMicrosecondArray>()
                .with_timezone("UTC"),
        ),
        Arc::new(rows.iter().map(|r| r.value).collect::<Float64Array>()),
        Arc::new(rows.iter().map(|r| r.category).collect::<StringArray>()),
        Arc::new(rows.iter().map(|r| r.email).collect::<StringArray>()),
        Arc::new(
            rows.iter()
                .map(|r| Some(arrow::datatypes::Date32Type::from_naive_date(r.date)))
                .collect::<Date32Array>(),
        ),
    ];
    RecordBatch::try_new(events_schema(), columns).unwrap_or_else(|e| panic!("test batch: {e}"))
}

/// Registers `batch` as `ns.name` in `ctx` (creating the schema `ns` if needed).
pub(crate) fn register(ctx: &SessionContext, table: &str, batch: RecordBatch) {
    let (ns, name) = table.split_once('.').unwrap_or(("bronze", table));
    let catalog = ctx
        .catalog("datafusion")
        .unwrap_or_else(|| panic!("default catalog"));
    let schema = match catalog.schema(ns) {
        Some(s) => s,
        None => {
            let s = Arc::new(MemorySchemaProvider::new());
            catalog
                .register_schema(ns, s.clone())
                .unwrap_or_else(|e| panic!("register schema: {e}"));
            s
        }
    };
    let mem = MemTable::try_new(batch.schema(), vec![vec![batch]])
        .unwrap_or_else(|e| panic!("mem table: {e}"));
    schema
        .register_table(name.to_string(), Arc::new(mem))
        .unwrap_or_else(|e| panic!("register table: {e}"));
}

/// A session with `bronze.events` holding `rows`.
pub(crate) fn ctx_with(rows: &[Row]) -> SessionContext {
    let ctx = SessionContext::new();
    register(&ctx, "bronze.events", events(rows));
    ctx
}

/// The scope over `bronze.events`, partition [`day`], keyed by `id`.
pub(crate) fn scope(ctx: SessionContext) -> CheckScope {
    CheckScope::new(
        ctx,
        "bronze.events",
        ScopeWindow::Partition(day().into()),
        "_phlo_partition_date",
        now(),
        vec!["id".into()],
    )
}

/// A scope over `bronze.events` holding `rows`.
pub(crate) fn scope_with(rows: &[Row]) -> CheckScope {
    scope(ctx_with(rows))
}

/// Runs `checks` through [`run_checks`].
pub(crate) async fn run(checks: Vec<Box<dyn Check>>, scope: &CheckScope) -> QualityReport {
    run_checks(&checks, scope)
        .await
        .unwrap_or_else(|e| panic!("storage fault: {e}"))
}

/// Runs one check through [`run_checks`] and returns its result.
pub(crate) async fn run_one(check: impl Check + 'static, scope: &CheckScope) -> CheckResult {
    let report = run(vec![Box::new(check)], scope).await;
    report
        .results
        .into_iter()
        .next()
        .unwrap_or_else(|| panic!("one result"))
}

/// Asserts the missing-column result shape.
pub(crate) fn assert_missing_column(result: &CheckResult, column: &str) {
    assert!(!result.passed, "{result:?}");
    let message = result.message.clone().unwrap_or_default();
    assert!(
        message.contains(&format!(
            "column `{column}` does not exist in `bronze.events`"
        )),
        "{message}"
    );
}

/// Executes `sql` and returns the number of rows it yields.
pub(crate) async fn count_rows(scope: &CheckScope, sql: &str) -> usize {
    let batches = scope
        .ctx()
        .sql(sql)
        .await
        .unwrap_or_else(|e| panic!("{sql}: {e}"))
        .collect()
        .await
        .unwrap_or_else(|e| panic!("{sql}: {e}"));
    batches.iter().map(RecordBatch::num_rows).sum()
}
