use phlo::prelude::*;

#[derive(Schema)]
struct Event {}

fn main() {}
