//! # phlo-core
//!
//! The vocabulary every other phlo crate speaks, and the storage layer:
//!
//! ```text
//!  schema  (SchemaDef, FieldDef, Constraint, ArrowField, Schema)   ← #[derive(Schema)]
//!  spec    (IngestionSpec, MergeStrategy, Dedup, Location)         ← #[ingestion]
//!  names   (TableName: `ns.table`, validated)
//!  partition (PartitionKey, PartitionContext)
//!  clock   (Clock, RunIdGenerator: time and ids are injected)
//!  storage (TableStore trait → DeltaStore on a local directory)
//! ```
//!
//! Nothing here knows about ingestion rules (those live in `phlo-ingest`) or checks
//! (`phlo-quality`); the facade crate `phlo` wires them together.

pub mod clock;
pub mod error;
pub mod keys;
pub mod metadata;
pub mod names;
pub mod parallel;
pub mod partition;
pub mod schema;
pub mod spec;
pub mod storage;

pub use error::{Error, Result};
