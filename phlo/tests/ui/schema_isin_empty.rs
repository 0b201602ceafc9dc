use phlo::prelude::*;

#[derive(Schema)]
struct Event {
    #[phlo(isin = [])]
    category: String,
}

fn main() {}
