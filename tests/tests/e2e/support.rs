//! Helpers shared by the end-to-end tests.

use std::path::Path;
use std::sync::Arc;

use phlo::arrow::util::pretty::pretty_format_batches;
use phlo::prelude::*;
use phlo::{FixedClock, SequentialRunIds};
use phlo_tests::{Fixture, set_fixture};

/// The instant every test run happens at.
pub fn now() -> DateTime<Utc> {
    DateTime::from_timestamp(1_736_942_400, 0).unwrap_or_default() // 2025-01-15T12:00:00Z
}

/// A runtime over `dir` whose runs are named `test-000001`, … and stopped at [`now`].
pub async fn runtime(test: &str, dir: &Path) -> (Runtime, Arc<FixedClock>) {
    let clock = Arc::new(FixedClock::new(now()));
    let rt = Runtime::builder(dir)
        .clock(clock.clone())
        .run_ids(Arc::new(SequentialRunIds::new(test)))
        .build()
        .await
        .unwrap_or_else(|e| panic!("runtime: {e}"));
    (rt, clock)
}

/// Sets the input of the next runs of `test`.
pub fn input(test: &str, batches: Vec<RecordBatch>) {
    set_fixture(test, Fixture::Batches(batches));
}

/// The query's result as a pretty table.
pub async fn query(rt: &Runtime, sql: &str) -> String {
    let batches = rt.sql(sql).await.unwrap_or_else(|e| panic!("{sql}: {e}"));
    pretty_format_batches(&batches)
        .map(|t| t.to_string())
        .unwrap_or_else(|e| panic!("{e}"))
}

/// The table's current version.
pub async fn version(rt: &Runtime, table: &str) -> Option<i64> {
    let name = phlo::crates::core::names::TableName::parse(table).unwrap_or_else(|e| panic!("{e}"));
    rt.store()
        .version(&name)
        .await
        .unwrap_or_else(|e| panic!("{e}"))
}
