use phlo::prelude::*;

#[derive(Schema)]
struct Event {
    id: String,
    tags: Vec<String>,
}

fn main() {}
