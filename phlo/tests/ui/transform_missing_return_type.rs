use phlo::prelude::*;

#[transform(table = "gold.totals")]
async fn totals(_ctx: &PartitionContext, events: DataFrame) {
    drop(events);
}

fn main() {}
