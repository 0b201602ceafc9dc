use phlo::prelude::*;

#[derive(Schema)]
struct Event {
    id: String,
}

#[ingestion(table = "events", unique_key = "id", schema = Event, partitions = daily(start = "2025-1-1"))]
async fn events(_ctx: &PartitionContext) -> phlo::Result<Vec<RecordBatch>> {
    Ok(vec![])
}

fn main() {}
