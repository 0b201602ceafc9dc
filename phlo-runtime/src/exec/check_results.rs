//! `_phlo.check_results`: one row per check result.

use std::sync::Arc;

use arrow::array::{
    ArrayRef, BooleanArray, Float64Array, RecordBatch, StringArray, TimestampMicrosecondArray,
    UInt64Array,
};
use arrow::datatypes::{DataType, Field, Schema, TimeUnit};
use phlo_core::names::TableName;
use phlo_core::partition::PartitionKey;
use phlo_core::schema::UTC;
use phlo_quality::CheckResult;

use super::Runtime;
use crate::Result;

fn schema() -> Arc<Schema> {
    let ts = DataType::Timestamp(TimeUnit::Microsecond, Some(UTC.into()));
    Arc::new(Schema::new(vec![
        Field::new("checked_at", ts, false),
        Field::new("run_id", DataType::Utf8, true),
        Field::new("asset", DataType::Utf8, false),
        Field::new("table_name", DataType::Utf8, false),
        Field::new("partition", DataType::Utf8, true),
        Field::new("check_name", DataType::Utf8, false),
        Field::new("passed", DataType::Boolean, false),
        Field::new("severity", DataType::Utf8, false),
        Field::new("blocking", DataType::Boolean, false),
        Field::new("failed_count", DataType::UInt64, false),
        Field::new("total_count", DataType::UInt64, false),
        Field::new("failure_fraction", DataType::Float64, false),
        Field::new("threshold", DataType::Float64, false),
        Field::new("message", DataType::Utf8, true),
        Field::new("repro_sql", DataType::Utf8, false),
        Field::new("samples", DataType::Utf8, false),
        Field::new("elapsed_ms", DataType::Float64, false),
    ]))
}

/// One recorded result: the quality asset, whether it blocks, the result.
pub type Recorded = (String, bool, CheckResult);

/// Appends `results` (asset, blocking, result) to `_phlo.check_results` in one commit.
pub async fn record(
    rt: &Runtime,
    table: &TableName,
    partition: Option<&PartitionKey>,
    run_id: Option<&str>,
    results: &[Recorded],
) -> Result<()> {
    if results.is_empty() {
        return Ok(());
    }
    let n = results.len();
    let now = rt.clock.now().timestamp_micros();
    let partition = partition.map(ToString::to_string);
    let strings = |f: &dyn Fn(&Recorded) -> Option<String>| -> ArrayRef {
        Arc::new(results.iter().map(f).collect::<StringArray>())
    };
    let severity = |r: &CheckResult| {
        serde_json::to_value(r.severity)
            .ok()
            .and_then(|v| v.as_str().map(str::to_string))
    };
    let columns: Vec<ArrayRef> = vec![
        Arc::new(TimestampMicrosecondArray::from(vec![now; n]).with_timezone(UTC)),
        Arc::new(StringArray::from(vec![run_id; n])),
        strings(&|(a, _, _)| Some(a.clone())),
        Arc::new(StringArray::from(vec![table.to_string(); n])),
        Arc::new(StringArray::from(vec![partition.clone(); n])),
        strings(&|(_, _, r)| Some(r.name.clone())),
        Arc::new(BooleanArray::from(
            results.iter().map(|(_, _, r)| r.passed).collect::<Vec<_>>(),
        )),
        strings(&|(_, _, r)| severity(r)),
        Arc::new(BooleanArray::from(
            results.iter().map(|(_, b, _)| *b).collect::<Vec<_>>(),
        )),
        Arc::new(UInt64Array::from(
            results
                .iter()
                .map(|(_, _, r)| r.failed_count)
                .collect::<Vec<_>>(),
        )),
        Arc::new(UInt64Array::from(
            results
                .iter()
                .map(|(_, _, r)| r.total_count)
                .collect::<Vec<_>>(),
        )),
        Arc::new(Float64Array::from(
            results
                .iter()
                .map(|(_, _, r)| r.failure_fraction)
                .collect::<Vec<_>>(),
        )),
        Arc::new(Float64Array::from(
            results
                .iter()
                .map(|(_, _, r)| r.threshold)
                .collect::<Vec<_>>(),
        )),
        strings(&|(_, _, r)| r.message.clone()),
        strings(&|(_, _, r)| Some(r.repro_sql.clone())),
        strings(&|(_, _, r)| serde_json::to_string(&r.samples).ok()),
        Arc::new(Float64Array::from(
            results
                .iter()
                .map(|(_, _, r)| r.elapsed_ms)
                .collect::<Vec<_>>(),
        )),
    ];
    let batch = RecordBatch::try_new(schema(), columns)?;
    super::runs::append_log(
        rt,
        &TableName::phlo("check_results")?,
        batch,
        ("phlo.table", serde_json::json!(table.to_string())),
    )
    .await
}
