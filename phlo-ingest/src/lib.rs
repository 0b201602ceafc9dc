//! # phlo-ingest
//!
//! The rules of one materialization (SEMANTICS §4 steps 2–6), as plain functions over Arrow:
//!
//! ```text
//! batches ─▶ coerce ─▶ validate ─▶ metadata ─▶ dedup ─▶ write plan ─▶ one commit
//!            (cast,    (lazy, all   (_phlo_*,   (first/   (merge: skip
//!             policy)   failures)    row hash)   last/     unchanged rows;
//!                                                hash)     replace; append)
//! ```
//!
//! Each step is a module with its own unit tests; [`prepare`] chains the pure steps and
//! [`write`] plans and applies the commit through a [`phlo_core::storage::TableStore`].

pub mod coerce;
pub mod dedup;
pub mod error;
pub mod hash;
pub mod metadata;
pub mod prepare;
pub mod validate;
pub mod write;

pub use error::{Error, Result};
pub use prepare::{PrepareOptions, Prepared, prepare, prepare_owned};
pub use validate::{CheckFailures, FailureSample, ValidationReport};
pub use write::{WriteRequest, WriteSummary, write};
