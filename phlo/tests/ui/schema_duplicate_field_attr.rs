use phlo::prelude::*;

#[derive(Schema)]
struct Event {
    #[phlo(ge = 0)]
    #[phlo(ge = 1)]
    amount: i64,
}

fn main() {}
