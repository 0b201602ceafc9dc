use phlo::prelude::*;

mod checks {
    pub fn positive(value: i64) -> bool {
        value > 0
    }
}

#[derive(Schema)]
struct Event {
    #[phlo(check = checks::positive)]
    amount: i64,
}

fn main() {}
