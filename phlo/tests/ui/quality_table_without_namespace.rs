use phlo::prelude::*;
use phlo::quality::NullCheck;

#[quality(table = "events", checks = [NullCheck::new(["id"])])]
fn events_quality() {}

fn main() {}
