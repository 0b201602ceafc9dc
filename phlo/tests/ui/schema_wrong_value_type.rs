use phlo::prelude::*;

#[derive(Schema)]
struct Event {
    #[phlo(ge = "0")]
    amount: i64,
}

fn main() {}
