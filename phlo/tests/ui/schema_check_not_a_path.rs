use phlo::prelude::*;

#[derive(Schema)]
struct Event {
    #[phlo(check = "checks::positive")]
    amount: i64,
}

fn main() {}
