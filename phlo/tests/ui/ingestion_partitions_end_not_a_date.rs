use phlo::prelude::*;

#[derive(Schema)]
struct Event {
    id: String,
}

#[ingestion(table = "events", unique_key = "id", schema = Event, partitions = daily(end = "2025-02-30"))]
async fn events(_ctx: &PartitionContext) -> phlo::Result<Vec<RecordBatch>> {
    Ok(vec![])
}

fn main() {}
