use phlo::prelude::*;
use phlo::quality::{RangeCheck, SchemaCheck};

#[derive(Schema)]
struct Event {
    id: String,
    value: f64,
}

#[quality(table = "bronze.events", checks = [
    SchemaCheck::of::<Event>(),
    RangeCheck::new("amount").min(0.0).max(100.0),
])]
fn events_quality() {}

fn main() {}
