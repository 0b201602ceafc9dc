use phlo::prelude::*;

#[transform(table = "gold.totals", materialized = "view")]
async fn totals(_ctx: &PartitionContext, events: DataFrame) -> phlo::Result<DataFrame> {
    Ok(events)
}

fn main() {}
