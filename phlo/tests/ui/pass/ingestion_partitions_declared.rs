//! Every way of declaring partitions expands to the `PartitionsSpec` it says.
use phlo::__private::{Cadence, IngestionDescriptor, PartitionsSpec, inventory};
use phlo::prelude::*;

#[derive(Schema)]
struct Event {
    id: String,
}

#[ingestion(table = "default_daily", unique_key = "id", schema = Event)]
async fn default_daily(_ctx: &PartitionContext) -> phlo::Result<Vec<RecordBatch>> {
    Ok(vec![])
}

#[ingestion(table = "still_daily", unique_key = "id", schema = Event, partitioned = true)]
async fn still_daily(_ctx: &PartitionContext) -> phlo::Result<Vec<RecordBatch>> {
    Ok(vec![])
}

#[ingestion(table = "whole", unique_key = "id", schema = Event, partitioned = false, merge_strategy = "replace_partition")]
async fn whole(_ctx: &PartitionContext) -> phlo::Result<Vec<RecordBatch>> {
    Ok(vec![])
}

#[ingestion(table = "monthly", unique_key = "id", schema = Event, partitions = monthly)]
async fn monthly(_ctx: &PartitionContext) -> phlo::Result<Vec<RecordBatch>> {
    Ok(vec![])
}

#[ingestion(
    table = "hourly",
    unique_key = "id",
    schema = Event,
    partitions = hourly(start = "2025-01-01T00", end = "2026-01-01", tz = "Europe/London", end_offset = -1)
)]
async fn hourly(_ctx: &PartitionContext) -> phlo::Result<Vec<RecordBatch>> {
    Ok(vec![])
}

#[ingestion(table = "new_york", unique_key = "id", schema = Event, partitions = daily(start = "2025-01-01", tz = "America/New_York"))]
fn new_york(_ctx: &PartitionContext) -> phlo::Result<Vec<RecordBatch>> {
    Ok(vec![])
}

#[ingestion(table = "regions", unique_key = "id", schema = Event, static_keys = ["eu", "us-east-1"])]
async fn regions(_ctx: &PartitionContext) -> phlo::Result<Vec<RecordBatch>> {
    Ok(vec![])
}

fn partitions(name: &str) -> Option<PartitionsSpec> {
    inventory::iter::<IngestionDescriptor>
        .into_iter()
        .find(|descriptor| descriptor.name == name)
        .map(|descriptor| descriptor.spec.partitions)
}

fn main() {
    assert_eq!(partitions("default_daily"), Some(PartitionsSpec::DAILY));
    assert_eq!(partitions("still_daily"), Some(PartitionsSpec::DAILY));
    assert_eq!(partitions("whole"), Some(PartitionsSpec::None));
    let time = |cadence, start, end, timezone, end_offset| {
        Some(PartitionsSpec::Time { cadence, start, end, timezone, end_offset })
    };
    assert_eq!(partitions("monthly"), time(Cadence::Monthly, None, None, "UTC", 0));
    assert_eq!(
        partitions("hourly"),
        time(Cadence::Hourly, Some("2025-01-01T00"), Some("2026-01-01"), "Europe/London", -1)
    );
    assert_eq!(
        partitions("new_york"),
        time(Cadence::Daily, Some("2025-01-01"), None, "America/New_York", 0)
    );
    assert_eq!(
        partitions("regions"),
        Some(PartitionsSpec::Static { keys: &["eu", "us-east-1"] })
    );
}
