use phlo::prelude::*;

#[transform(table = "gold.totals")]
async fn totals(_ctx: &PartitionContext, _: DataFrame) -> phlo::Result<Vec<RecordBatch>> {
    Ok(vec![])
}

fn main() {}
