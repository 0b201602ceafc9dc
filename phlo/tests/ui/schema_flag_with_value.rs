use phlo::prelude::*;

#[derive(Schema)]
struct Event {
    #[phlo(unique = true)]
    id: String,
}

fn main() {}
