use phlo::prelude::*;

#[derive(Schema)]
struct Event {
    #[phlo(ge = 0)]
    name: String,
}

fn main() {}
