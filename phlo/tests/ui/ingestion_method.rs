use phlo::prelude::*;

#[derive(Schema)]
struct Event {
    id: String,
}

struct Source;

impl Source {
    #[ingestion(table = "events", unique_key = "id", schema = Event)]
    async fn events(&self, _ctx: &PartitionContext) -> phlo::Result<Vec<RecordBatch>> {
        Ok(vec![])
    }
}

fn main() {}
