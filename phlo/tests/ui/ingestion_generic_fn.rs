use phlo::prelude::*;

#[derive(Schema)]
struct Event {
    id: String,
}

#[ingestion(table = "events", unique_key = "id", schema = Event)]
async fn events<T: Default>(_ctx: &PartitionContext) -> phlo::Result<Vec<RecordBatch>> {
    let _ = T::default();
    Ok(vec![])
}

fn main() {}
