use phlo::prelude::*;

#[transform(table = "gold.totals")]
async fn totals(_ctx: &PartitionContext, events: DataFrame) -> phlo::Result<String> {
    drop(events);
    Ok(String::new())
}

fn main() {}
