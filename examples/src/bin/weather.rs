//! The weather pipeline's command line (the API must be running: `--bin weather_api`):
//!
//! ```text
//! WEATHER_API_TOKEN=demo-token cargo run -p phlo-examples --bin weather -- \
//!     --warehouse ./warehouse backfill weather_observations --from 2025-01-13 --to 2025-01-15
//! ```

fn main() -> std::process::ExitCode {
    phlo_examples::register();
    phlo::cli::main()
}
