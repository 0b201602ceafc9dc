use phlo::prelude::*;
use phlo::quality::{NullCheck, RangeCheck};

#[derive(Schema)]
struct Event {
    id: String,
    value: f64,
}

#[quality(table = "bronze.events", schema = Event, checks = [
    NullCheck::new(["id", "ts"]),
    RangeCheck::new("value").min(0.0),
])]
fn events_quality() {}

fn main() {}
