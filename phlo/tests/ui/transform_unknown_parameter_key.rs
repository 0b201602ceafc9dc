use phlo::prelude::*;

#[transform(table = "gold.totals")]
async fn totals(
    _ctx: &PartitionContext,
    #[phlo(asset = "events")] raw: DataFrame,
) -> phlo::Result<DataFrame> {
    Ok(raw)
}

fn main() {}
