use phlo::prelude::*;

#[derive(Schema)]
struct Event<T> {
    id: String,
    payload: T,
}

fn main() {}
