use phlo::prelude::*;

#[derive(Schema)]
struct Event {
    #[phlo(isin = [1, 2.5])]
    level: f64,
}

fn main() {}
