use phlo::prelude::*;

#[derive(Schema)]
#[phlo(schema_policy = "lenient")]
struct Event {
    id: String,
}

fn main() {}
