//! Example pipelines written the way a user crate would write them: each module is one
//! user story, importing only `phlo::`.
//!
//! - [`glucose`]: continuous glucose monitor readings, one NDJSON file per day, merged by
//!   reading id with corrections, retries and invalid rows (see `examples/README.md`).
//! - [`wells`]: daily oil, gas and water per well, through SQL models, seeds, checks and an
//!   Arps decline fit to monthly and yearly marts and revenue (see `examples/README.md`).
//! - [`weather`]: hourly observations from a REST API (a loopback server the crate
//!   provides, `--bin weather_api`), read page by page through `phlo::sources::rest`.
//!
//! A binary serving these assets through phlo's CLI:
//!
//! ```no_run
//! fn main() -> std::process::ExitCode {
//!     phlo_examples::register();
//!     phlo::cli::main()
//! }
//! ```

pub mod glucose;
pub mod weather;
pub mod wells;

pub use glucose::{GlucoseReading, glucose_readings};

/// The crate's SQL models, seeds and data tests (those of [`wells`]), registered with the
/// crate: every runtime over its assets has them (the Rust transform `int_decline_curves`
/// reads the model `int_production_cumsum`), and `phlo::cli::main` serves them.
pub const PROJECT: phlo::Project = wells::PROJECT;

phlo::register_project!(PROJECT);

/// Names of the ingestion and transform assets this crate registers.
pub const ASSETS: &[&str] = &[
    "glucose_readings",
    "well_production",
    "int_decline_curves",
    "weather_observations",
];

/// Makes sure this crate is linked into the calling binary, and with it the assets its
/// `#[ingestion]` functions register: a binary that never names a library crate does not
/// link it, and its registrations silently vanish. Returns the registered asset names.
pub fn register() -> &'static [&'static str] {
    std::hint::black_box(ASSETS)
}
