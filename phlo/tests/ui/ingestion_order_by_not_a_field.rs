use phlo::prelude::*;

#[derive(Schema)]
struct Event {
    id: String,
    ts: DateTime<Utc>,
}

#[ingestion(table = "events", unique_key = "id", schema = Event, order_by = "updated_at")]
async fn events(_ctx: &PartitionContext) -> phlo::Result<Vec<RecordBatch>> {
    Ok(vec![])
}

fn main() {}
