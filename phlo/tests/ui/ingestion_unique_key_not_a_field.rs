use phlo::prelude::*;

#[derive(Schema)]
struct Event {
    id: String,
    ts: DateTime<Utc>,
}

#[ingestion(table = "events", unique_key = "idx", schema = Event)]
async fn events(_ctx: &PartitionContext) -> phlo::Result<Vec<RecordBatch>> {
    Ok(vec![])
}

fn main() {}
