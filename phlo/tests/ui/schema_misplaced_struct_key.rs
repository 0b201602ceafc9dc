use phlo::prelude::*;

#[derive(Schema)]
struct Event {
    #[phlo(schema_policy = "strict")]
    id: String,
}

fn main() {}
