use phlo::prelude::*;

#[quality(table = "bronze.events")]
async fn categories_balanced(scope: CheckScope) -> phlo::Result<CheckOutcome> {
    let _ = scope;
    Ok(CheckOutcome::pass())
}

fn main() {}
