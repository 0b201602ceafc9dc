use phlo::prelude::*;

#[derive(Schema)]
struct Event {
    id: String,
    day: NaiveDate,
}

#[ingestion(table = "events", unique_key = ["id", "day", "id"], schema = Event)]
async fn events(_ctx: &PartitionContext) -> phlo::Result<Vec<RecordBatch>> {
    Ok(vec![])
}

fn main() {}
