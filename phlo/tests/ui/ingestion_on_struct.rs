use phlo::prelude::*;

#[derive(Schema)]
struct Event {
    id: String,
}

#[ingestion(table = "events", unique_key = "id", schema = Event)]
struct Events;

fn main() {}
