use phlo::prelude::*;

struct Event {
    id: String,
}

#[ingestion(table = "events", merge_strategy = "append", schema = Event)]
async fn events(_ctx: &PartitionContext) -> phlo::Result<Vec<RecordBatch>> {
    let _ = Event { id: String::new() }.id;
    Ok(vec![])
}

fn main() {}
