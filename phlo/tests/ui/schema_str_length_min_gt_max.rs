use phlo::prelude::*;

#[derive(Schema)]
struct Event {
    #[phlo(str_length(min = 10, max = 2))]
    code: String,
}

fn main() {}
