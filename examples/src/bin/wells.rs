//! The well production pipeline's command line: `build`, `graph`, `list`, `sql`, … over
//! the ingestion, the SQL models, seeds and data tests of `examples/wells/`.
//!
//! ```text
//! cargo run -p phlo-examples --bin wells -- --warehouse ./warehouse \
//!     backfill well_production --from 2025-01-01 --to 2025-04-30 --parallel 1
//! cargo run -p phlo-examples --bin wells -- --warehouse ./warehouse build @group:wells
//! cargo run -p phlo-examples --bin wells -- graph --select @group:wells --format mermaid
//! ```

fn main() -> std::process::ExitCode {
    phlo_examples::register();
    // The project is registered with the crate (`phlo::register_project!`).
    phlo::cli::main()
}
