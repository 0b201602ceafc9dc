use phlo::prelude::*;

#[transform(table = "gold.totals")]
struct Totals;

fn main() {}
