use phlo::prelude::*;

// Every mistake is reported in one compilation, not one per build.
#[derive(Schema)]
#[phlo(schema_policy = "lenient")]
struct Event {
    #[phlo(primary_key)]
    id: String,
    #[phlo(ge = 10, le = 5)]
    amount: i64,
    #[phlo(regex = "^[a-z]+$")]
    count: i32,
}

fn main() {}
