use phlo::prelude::*;

#[transform(unique_key = "id")]
async fn totals(_ctx: &PartitionContext, events: DataFrame) -> phlo::Result<DataFrame> {
    Ok(events)
}

fn main() {}
