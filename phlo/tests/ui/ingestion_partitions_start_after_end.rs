use phlo::prelude::*;

#[derive(Schema)]
struct Event {
    id: String,
}

#[ingestion(
    table = "events",
    unique_key = "id",
    schema = Event,
    partitions = hourly(start = "2026-01-01T00", end = "2025-01-01T00")
)]
async fn events(_ctx: &PartitionContext) -> phlo::Result<Vec<RecordBatch>> {
    Ok(vec![])
}

fn main() {}
