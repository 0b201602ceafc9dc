//! The glucose pipeline's command line: `list`, `materialize`, `backfill`, `sql`, `runs`.
//!
//! ```text
//! cargo run -p phlo-examples --bin glucose -- --warehouse ./warehouse \
//!     backfill glucose_readings --from 2025-01-13 --to 2025-01-19 --parallel 1
//! ```

fn main() -> std::process::ExitCode {
    phlo_examples::register();
    phlo::cli::main()
}
