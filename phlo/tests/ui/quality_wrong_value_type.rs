use phlo::prelude::*;
use phlo::quality::NullCheck;

#[quality(table = "bronze.events", checks = [NullCheck::new(["id"])], blocking = "yes")]
fn events_quality() {}

fn main() {}
