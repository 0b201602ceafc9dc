use phlo::prelude::*;

#[transform(table = "gold.totals", merge_strategy = "append")]
async fn totals(_ctx: &PartitionContext, events: DataFrame) -> phlo::Result<DataFrame> {
    Ok(events)
}

fn main() {}
