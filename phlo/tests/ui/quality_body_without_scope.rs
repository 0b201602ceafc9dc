use phlo::prelude::*;
use phlo::quality::CountCheck;

#[quality(table = "bronze.events", checks = [CountCheck::new().min_rows(1)])]
fn events_quality() {
    println!("checking events");
}

fn main() {}
