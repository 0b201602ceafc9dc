//! The command line a user's binary gets from one call: `fn main() -> ExitCode { phlo::cli::main() }`.
//!
//! ```text
//! app [--warehouse DIR] [--json] list
//! app materialize ASSET [--partition YYYY-MM-DD]
//! app backfill ASSET --from YYYY-MM-DD --to YYYY-MM-DD
//! app sql "SELECT …"
//! app runs [--asset NAME] [--limit N]
//! ```

pub fn main() -> std::process::ExitCode {
    std::process::ExitCode::SUCCESS
}
