use phlo::prelude::*;

#[quality(table = "bronze.events", blocking = false)]
fn events_quality() {}

fn main() {}
