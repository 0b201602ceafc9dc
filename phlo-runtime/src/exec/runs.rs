//! `_phlo.runs`: one row per run, success or not.

use std::sync::Arc;

use arrow::array::{
    ArrayRef, AsArray, Int64Array, RecordBatch, StringArray, TimestampMicrosecondArray,
    UInt32Array, UInt64Array,
};
use arrow::datatypes::{DataType, Field, Schema, TimeUnit};
use phlo_core::names::TableName;
use phlo_core::schema::UTC;
use phlo_core::storage::{CommitTag, Compaction, ReadVersion, TableLayout, Write, WriteOp};

use super::Runtime;
use crate::Result;
use crate::report::RunReport;

/// The runs table's name.
pub fn runs_table() -> Result<TableName> {
    Ok(TableName::phlo("runs")?)
}

fn schema() -> Arc<Schema> {
    let ts = DataType::Timestamp(TimeUnit::Microsecond, Some(UTC.into()));
    Arc::new(Schema::new(vec![
        Field::new("run_id", DataType::Utf8, false),
        Field::new("asset", DataType::Utf8, false),
        Field::new("table_name", DataType::Utf8, false),
        Field::new("partition", DataType::Utf8, true),
        Field::new("status", DataType::Utf8, false),
        Field::new("started_at", ts, false),
        Field::new("attempts", DataType::UInt32, false),
        Field::new("rows_in", DataType::UInt64, false),
        Field::new("rows_invalid", DataType::UInt64, false),
        Field::new("rows_inserted", DataType::UInt64, false),
        Field::new("rows_updated", DataType::UInt64, false),
        Field::new("rows_unchanged", DataType::UInt64, false),
        Field::new("rows_deleted", DataType::UInt64, false),
        Field::new("table_version_before", DataType::Int64, true),
        Field::new("table_version_after", DataType::Int64, true),
        Field::new("error", DataType::Utf8, true),
        Field::new("report", DataType::Utf8, false),
    ]))
}

/// Appends `report` to `_phlo.runs` (one commit).
pub async fn record_run(rt: &Runtime, report: &RunReport) -> Result<()> {
    let json = serde_json::to_string(report)?;
    let u = |v: u64| Arc::new(UInt64Array::from(vec![v])) as ArrayRef;
    let columns: Vec<ArrayRef> = vec![
        Arc::new(StringArray::from(vec![report.run_id.as_str()])),
        Arc::new(StringArray::from(vec![report.asset.as_str()])),
        Arc::new(StringArray::from(vec![report.table.as_str()])),
        Arc::new(StringArray::from(vec![report.partition.as_deref()])),
        Arc::new(StringArray::from(vec![report.status.to_string()])),
        Arc::new(
            TimestampMicrosecondArray::from(vec![report.started_at.timestamp_micros()])
                .with_timezone(UTC),
        ),
        Arc::new(UInt32Array::from(vec![report.attempts])),
        u(report.rows_in),
        u(report.rows_invalid),
        u(report.rows_inserted),
        u(report.rows_updated),
        u(report.rows_unchanged),
        u(report.rows_deleted),
        Arc::new(Int64Array::from(vec![report.table_version_before])),
        Arc::new(Int64Array::from(vec![report.table_version_after])),
        Arc::new(StringArray::from(vec![report.error.as_deref()])),
        Arc::new(StringArray::from(vec![json.as_str()])),
    ];
    let batch = RecordBatch::try_new(schema(), columns)?;
    append_log(
        rt,
        &runs_table()?,
        batch,
        ("phlo.run_id", serde_json::json!(report.run_id)),
    )
    .await?;
    Ok(())
}

/// How often an append to one of phlo's logs is tried again after a conflict.
const LOG_CONFLICT_RETRIES: u32 = 16;

/// Appends `batch` to one of phlo's own logs (`_phlo.runs`, `_phlo.check_results`): a blind
/// append with no application transaction, so concurrent runs never conflict on it.
pub(crate) async fn append_log(
    rt: &Runtime,
    table: &TableName,
    batch: RecordBatch,
    metadata: (&str, serde_json::Value),
) -> Result<()> {
    let write = Write {
        op: WriteOp::Append {
            batches: vec![batch],
        },
        layout: TableLayout::plain(),
        allow_new_columns: false,
        replace_schema: false,
        tag: CommitTag {
            transaction: None,
            metadata: vec![(metadata.0.to_string(), metadata.1)],
        },
        read_version: ReadVersion::Latest,
    };
    // A blind append conflicts only with a concurrent creation of the log or a change of
    // its metadata: nothing landed, so append again.
    let mut conflicts = 0;
    loop {
        match rt.store.commit(table, write.clone()).await {
            Ok(_) => break,
            Err(phlo_core::Error::Conflict { .. }) if conflicts < LOG_CONFLICT_RETRIES => {
                conflicts += 1;
            }
            Err(e) => return Err(e.into()),
        }
    }
    // One small file per run: keep the log's file count (and so every commit's and
    // checkpoint's cost) bounded. The rows are already committed, so a failed compaction
    // costs nothing but the next run's try.
    match rt.store.compact(table, &Compaction::LOG).await {
        Ok(c) if c.files_removed > 0 => tracing::debug!(
            table = %table,
            files_removed = c.files_removed,
            files_added = c.files_added,
            version = c.version_after,
            "compacted"
        ),
        Ok(_) => {}
        Err(e) => {
            tracing::warn!(table = %table, error = %e, "compaction failed; retried after the next run")
        }
    }
    Ok(())
}

/// Every recorded run, in the order they were recorded.
pub async fn read_runs(rt: &Runtime) -> Result<Vec<RunReport>> {
    read_runs_where(rt, "TRUE").await
}

/// The recorded runs whose row matches SQL `predicate` (over `_phlo.runs`' columns), in
/// the order they were recorded: only their reports are parsed.
pub(crate) async fn read_runs_where(rt: &Runtime, predicate: &str) -> Result<Vec<RunReport>> {
    let table = runs_table()?;
    if rt.store.version(&table).await?.is_none() {
        return Ok(Vec::new());
    }
    let batches = rt
        .sql(&format!("SELECT report FROM _phlo.runs WHERE {predicate}"))
        .await?;
    let mut runs = Vec::new();
    for b in &batches {
        let col = arrow::compute::cast(b.column(0), &DataType::Utf8)?;
        let Some(col) = col.as_string_opt::<i32>() else {
            continue;
        };
        for json in col.iter().flatten() {
            runs.push(serde_json::from_str::<RunReport>(json)?);
        }
    }
    // Stable order: by start instant, then run id (ids are time-ordered by default).
    runs.sort_by(|a, b| (a.started_at, &a.run_id).cmp(&(b.started_at, &b.run_id)));
    Ok(runs)
}
