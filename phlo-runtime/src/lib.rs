//! # phlo-runtime
//!
//! The runtime below the `phlo` facade: what is registered, what a run will do, and doing
//! it.
//!
//! ```text
//!  registry   descriptors of every asset kind (ingestion, quality; transforms next),
//!             validated in one place into a sorted snapshot of AssetNodes with their
//!             tables, partitions definitions and upstream dependencies
//!     │
//!  plan       pure: (registry, asset, partition selection, table state) → RunPlan of
//!             steps (asset, key, scope, app id, strategy, layout, expected version);
//!             explain() prints it; no I/O
//!     │
//!  graph      pure: nodes and edges with partition mappings → validated AssetGraph;
//!             order, ready waves, selections (`+name tag:daily,group:wells`), the
//!             partitions an edge maps, Mermaid / DOT / JSON drawings
//!     │
//!  schedule   cron ticks (croner, in each asset's time zone) → the partition each tick
//!             completes; missed-tick policy; the warehouse's scheduler lock; eager
//!             automation on upstream change; the loop sleeps on the runtime's Clock
//!     │
//!  exec       runs a plan: RunContext per step (ids, clock, deadline, timings) apart from
//!             the RunReport it fills; one Session owns DataFusion over a lazy catalog;
//!             a failed step returns its report with the error
//!     ▼
//!  phlo-ingest (rules) · phlo-quality (checks) · phlo-core (vocabulary, TableStore)
//! ```
//!
//! Users depend on `phlo`, which re-exports what is public here.

pub mod error;
pub mod exec;
pub mod fetch;
pub mod graph;
pub mod plan;
pub mod quality;
pub mod registry;
pub mod report;
pub mod schedule;
pub mod sources;
pub mod transform;

pub use error::{BoxError, Error, ErrorClass, Result, SchemaConflict};
pub use exec::{PartitionArg, QualityRun, RunFailure, Runtime, RuntimeBuilder, Unpartitioned};
pub use plan::{PartitionSelection, PlanStep, RunPlan};
pub use registry::{AssetInfo, AssetKind, AssetNode, Registry};
pub use report::{BackfillReport, RunReport, RunStatus, StepTimings};
