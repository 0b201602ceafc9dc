use phlo::prelude::*;

#[derive(Schema)]
enum Event {
    Click,
    View,
}

fn main() {}
