use phlo::prelude::*;

#[derive(Schema)]
struct Event {
    id: String,
}

// Every mistake is reported in one compilation: two bad values, and the signature.
#[ingestion(table = "events", unique_key = "id", schema = Event, dedup = "latest", validate = "yes")]
fn events() -> phlo::Result<Vec<RecordBatch>> {
    Ok(vec![])
}

fn main() {}
