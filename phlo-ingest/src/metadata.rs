//! Step 4: the `_phlo_*` metadata columns (SEMANTICS §3).

use std::sync::Arc;

use arrow::array::{ArrayRef, StringArray, TimestampMicrosecondArray};
use arrow::datatypes::{DataType, Field, Schema, SchemaRef, TimeUnit};
use arrow::record_batch::RecordBatch;
use chrono::{DateTime, Utc};
use phlo_core::metadata::{INGESTED_AT, ROW_HASH, RUN_ID};
use phlo_core::partition::{PartitionKey, PartitionsDef};
use phlo_core::schema::UTC;

use crate::Result;
use crate::hash::hex_array;

/// The values shared by every row of one run.
#[derive(Debug, Clone, PartialEq)]
pub struct RunStamp {
    /// The asset's partitions definition (which partition columns rows carry).
    pub partitions: PartitionsDef,
    /// The partition; `None` for unpartitioned assets.
    pub partition: Option<PartitionKey>,
    /// The run's instant (injected clock).
    pub ingested_at: DateTime<Utc>,
    /// The run's id.
    pub run_id: String,
}

/// The metadata fields of `partitions`' rows, in table order: the partition columns
/// (nullable), then the run's columns.
pub fn metadata_fields(partitions: &PartitionsDef) -> Vec<Field> {
    let mut fields = partitions.metadata_fields();
    fields.extend([
        Field::new(
            INGESTED_AT,
            DataType::Timestamp(TimeUnit::Microsecond, Some(UTC.into())),
            false,
        ),
        Field::new(RUN_ID, DataType::Utf8, false),
        Field::new(ROW_HASH, DataType::Utf8, false),
    ]);
    fields
}

/// The partition columns of `stamp`'s rows, `n` rows long.
pub fn partition_columns(stamp: &RunStamp, n: usize) -> Result<Vec<ArrayRef>> {
    stamp
        .partitions
        .metadata_values(stamp.partition.as_ref())
        .iter()
        .map(|v| {
            v.to_array_of_size(n)
                .map_err(|e| phlo_core::Error::internal(format!("partition column: {e}")).into())
        })
        .collect()
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
    fields.extend(metadata_fields(&stamp.partitions));
    let schema: SchemaRef = Arc::new(Schema::new(fields));
    let mut columns: Vec<ArrayRef> = batch.columns().to_vec();
    columns.extend(partition_columns(stamp, n)?);
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
