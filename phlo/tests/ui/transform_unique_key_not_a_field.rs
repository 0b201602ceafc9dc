use phlo::prelude::*;

#[derive(Schema)]
struct Total {
    well_code: String,
    total: f64,
}

#[transform(table = "gold.totals", schema = Total, unique_key = "well")]
async fn totals(_ctx: &PartitionContext, events: DataFrame) -> phlo::Result<DataFrame> {
    Ok(events)
}

fn main() {}
