use phlo::prelude::*;

#[transform(table = "gold.totals")]
async fn totals(_ctx: &PartitionContext, events: Vec<RecordBatch>) -> phlo::Result<Vec<RecordBatch>> {
    Ok(events)
}

fn main() {}
