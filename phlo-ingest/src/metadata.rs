//! Step 4: the `_phlo_*` metadata columns (SEMANTICS §3).

use std::sync::Arc;

use arrow::array::{ArrayRef, Date32Array, StringArray, TimestampMicrosecondArray};
use arrow::datatypes::{DataType, Date32Type, Field, Schema, SchemaRef, TimeUnit};
use arrow::record_batch::RecordBatch;
use chrono::{DateTime, NaiveDate, Utc};
use phlo_core::metadata::{INGESTED_AT, PARTITION_DATE, ROW_HASH, RUN_ID};
use phlo_core::schema::UTC;

use crate::Result;
use crate::hash::hex_array;

/// The values shared by every row of one run.
#[derive(Debug, Clone, PartialEq)]
pub struct RunStamp {
    /// The partition's date; `None` for unpartitioned assets.
    pub partition: Option<NaiveDate>,
    /// The run's instant (injected clock).
    pub ingested_at: DateTime<Utc>,
    /// The run's id.
    pub run_id: String,
}

/// The metadata fields, in table order. Only `_phlo_partition_date` is nullable.
pub fn metadata_fields() -> Vec<Field> {
    vec![
        Field::new(PARTITION_DATE, DataType::Date32, true),
        Field::new(
            INGESTED_AT,
            DataType::Timestamp(TimeUnit::Microsecond, Some(UTC.into())),
            false,
        ),
        Field::new(RUN_ID, DataType::Utf8, false),
        Field::new(ROW_HASH, DataType::Utf8, false),
    ]
}

/// `batch`'s columns followed by the metadata columns.
pub fn with_metadata(
    batch: &RecordBatch,
    hashes: &[u128],
    stamp: &RunStamp,
) -> Result<RecordBatch> {
    let n = batch.num_rows();
    let mut fields: Vec<Field> = batch
        .schema()
        .fields()
        .iter()
        .map(|f| f.as_ref().clone())
        .collect();
    fields.extend(metadata_fields());
    let schema: SchemaRef = Arc::new(Schema::new(fields));
    let date = stamp.partition.map(Date32Type::from_naive_date);
    let mut columns: Vec<ArrayRef> = batch.columns().to_vec();
    columns.push(Arc::new(Date32Array::from(vec![date; n])));
    columns.push(Arc::new(
        TimestampMicrosecondArray::from(vec![stamp.ingested_at.timestamp_micros(); n])
            .with_timezone(UTC),
    ));
    columns.push(Arc::new(StringArray::from_iter_values(
        std::iter::repeat_n(stamp.run_id.as_str(), n),
    )));
    columns.push(Arc::new(hex_array(hashes)));
    Ok(RecordBatch::try_new(schema, columns)?)
}
