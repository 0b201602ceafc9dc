use phlo::prelude::*;

#[derive(Schema)]
struct Event {
    #[phlo(primary_key)]
    id: String,
}

fn main() {}
