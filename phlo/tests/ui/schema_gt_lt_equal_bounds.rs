use phlo::prelude::*;

#[derive(Schema)]
struct Event {
    #[phlo(gt = -1.5, lt = -1.5)]
    delta: f64,
}

fn main() {}
