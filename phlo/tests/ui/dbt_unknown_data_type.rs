// Found next to this file: trybuild builds it in a crate of its own, under `target/`.
phlo::dbt_schema!("../fixtures/dbt/invalid.yml", "stg_payments");

fn main() {}
