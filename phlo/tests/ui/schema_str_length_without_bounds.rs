use phlo::prelude::*;

#[derive(Schema)]
struct Event {
    #[phlo(str_length())]
    code: String,
}

fn main() {}
