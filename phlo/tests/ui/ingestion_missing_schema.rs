use phlo::prelude::*;

#[ingestion(table = "events", unique_key = "id")]
async fn events(_ctx: &PartitionContext) -> phlo::Result<Vec<RecordBatch>> {
    Ok(vec![])
}

fn main() {}
