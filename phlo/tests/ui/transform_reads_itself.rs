use phlo::prelude::*;

#[transform(table = "gold.totals")]
async fn totals(_ctx: &PartitionContext, totals: DataFrame) -> phlo::Result<DataFrame> {
    Ok(totals)
}

fn main() {}
