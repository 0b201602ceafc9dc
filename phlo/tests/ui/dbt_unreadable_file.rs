// A relative path is resolved against the crate root (then the source file's directory); an
// absolute one keeps this snapshot independent of where trybuild builds the test.
phlo::dbt_schema!("/nonexistent/phlo/models/schema.yml", "stg_orders");

fn main() {}
