use phlo::prelude::*;

#[derive(Schema)]
struct Event {
    #[phlo(regex = "^[0-9]+$")]
    amount: i64,
}

fn main() {}
