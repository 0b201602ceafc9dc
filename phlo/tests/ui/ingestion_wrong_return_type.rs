use phlo::prelude::*;

#[derive(Schema)]
struct Event {
    id: String,
}

#[ingestion(table = "events", unique_key = "id", schema = Event)]
async fn events(_ctx: &PartitionContext) -> Vec<RecordBatch> {
    vec![]
}

fn main() {}
