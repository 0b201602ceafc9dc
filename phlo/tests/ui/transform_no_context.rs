use phlo::prelude::*;

#[transform(table = "gold.totals")]
async fn totals() -> phlo::Result<DataFrame> {
    unimplemented!()
}

fn main() {}
