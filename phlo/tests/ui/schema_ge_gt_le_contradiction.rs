use phlo::prelude::*;

#[derive(Schema)]
struct Event {
    #[phlo(ge = 10, le = 5)]
    amount: i64,
}

fn main() {}
