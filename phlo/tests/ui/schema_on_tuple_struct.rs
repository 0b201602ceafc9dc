use phlo::prelude::*;

#[derive(Schema)]
struct Event(String, i64);

fn main() {}
