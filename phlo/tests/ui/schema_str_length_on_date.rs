use phlo::prelude::*;

#[derive(Schema)]
struct Event {
    #[phlo(str_length(max = 10))]
    day: Option<NaiveDate>,
}

fn main() {}
