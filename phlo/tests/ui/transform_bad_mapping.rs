use phlo::prelude::*;

#[transform(table = "gold.totals", partitions = daily)]
async fn totals(
    _ctx: &PartitionContext,
    #[phlo(mapping = "yesterday")] events: DataFrame,
) -> phlo::Result<DataFrame> {
    Ok(events)
}

fn main() {}
