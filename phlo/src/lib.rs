//! # phlo
//!
//! Partitioned, validated, deduplicating ingestion into Delta Lake tables, from plain
//! Rust functions.
//!
//! ```no_run
//! use phlo::prelude::*;
//!
//! #[derive(Schema)]
//! struct Event {
//!     #[phlo(unique)]
//!     id: String,
//!     ts: DateTime<Utc>,
//!     #[phlo(ge = 0.0, le = 100.0)]
//!     value: f64,
//!     note: Option<String>,
//! }
//!
//! #[ingestion(table = "events", unique_key = "id", schema = Event, order_by = "ts")]
//! async fn api_events(ctx: &PartitionContext) -> phlo::Result<Vec<Event>> {
//!     let ts = ctx.partition_date().and_hms_opt(12, 0, 0).unwrap_or_default().and_utc();
//!     Ok(vec![Event { id: "e1".into(), ts, value: 1.0, note: None }])
//! }
//!
//! # async fn demo() -> phlo::Result<()> {
//! let rt = Runtime::open("./warehouse").await?;
//! let report = rt.materialize("api_events", "2025-01-15").await?;
//! println!("{} rows inserted", report.rows_inserted);
//! # Ok(()) }
//! ```
//!
//! ## Architecture
//!
//! ```text
//!  #[derive(Schema)] ─┐        phlo-macros: parse → model → validate → expand
//!  #[ingestion]  ─────┴─▶ inventory::submit!(IngestionDescriptor)
//!                                   │
//!  Runtime::open ── Registry::global (sorted, validated snapshot)
//!      │
//!      ├─ materialize ─▶ fetch (retries, timeout) ─▶ phlo_ingest::prepare
//!      │                 (coerce → validate → metadata → dedup) ─▶ phlo_ingest::write
//!      │                 (plan vs table → one Delta commit) ─▶ _phlo.runs
//!      ├─ backfill, sql (DataFusion over every `ns.table`), runs
//!      ├─ schedule::Scheduler: serve (cron ticks, eager automation) on the Clock
//!      └─ cli::main: list | build | materialize | backfill | sql | runs | status | serve
//! ```

pub mod cli;
pub mod io;
pub mod testing;

pub use phlo_runtime::fetch::{FetchFuture, FetchOutput};
pub use phlo_runtime::transform::rust::{TransformDescriptor, TransformOutput};
pub use phlo_runtime::{BoxError, Error, ErrorClass, Result, SchemaConflict};

/// Data-quality checks: `#[quality]` assets, the built-in checks and their results.
///
/// ```no_run
/// use phlo::prelude::*;
/// use phlo::quality::{CountCheck, NullCheck, RangeCheck};
///
/// #[quality(table = "bronze.events", checks = [
///     NullCheck::new(["id", "ts"]),
///     RangeCheck::new("value").min(0.0).max(100.0).allow_threshold(0.01),
///     CountCheck::new().min_rows(1),
/// ])]
/// fn events_quality() {}
/// # fn main() {}
/// ```
pub mod quality {
    pub use phlo_runtime::quality::*;
}

/// The registry of assets: descriptors, validation, the graph's nodes.
pub mod registry {
    pub use phlo_runtime::registry::*;
}

/// The scheduler behind `serve`: cron ticks, missed-tick policy, the warehouse lock, eager
/// automation.
pub mod schedule {
    pub use phlo_runtime::schedule::*;
}

/// Sources an ingestion reads from: files (CSV, NDJSON, Parquet; one file or a glob,
/// templated by the partition; [`sources::files`]), PostgreSQL ([`sources::postgres`]) and
/// REST APIs ([`sources::rest`], with a loopback test server in
/// [`sources::rest::testing`]).
pub mod sources {
    pub use phlo_runtime::sources::*;
}

/// The plan: what a run will do, decided before anything runs.
pub mod plan {
    pub use phlo_runtime::plan::*;
}
pub use phlo_core::clock::{
    Clock, FixedClock, RunIdGenerator, SequentialRunIds, SystemClock, UuidRunIds, VirtualClock,
};
pub use phlo_core::partition::{
    PartitionContext, PartitionKey, PartitionScope, PartitionsDef, TimeWindow,
};
pub use phlo_core::schema::{IntoBatches, Schema};
pub use phlo_core::spec::{Dedup, MergeStrategy};
pub use phlo_ingest::{CheckFailures, FailureSample, ValidationReport};

/// Validates `batches` against `T`'s contract without writing anything: casts,
/// nullability and every element constraint (`unique` is checked against the deduplicated
/// load when writing). Lazy and bounded like a materialization's validation: every failing
/// row is counted, at most 20 samples are kept per check. Batches are validated in
/// parallel.
///
/// ```
/// use phlo::arrow::array::{Float64Array, RecordBatch, StringArray};
/// use phlo::arrow::datatypes::{DataType, Field, Schema as ArrowSchema};
/// use std::sync::Arc;
///
/// #[derive(phlo::Schema)]
/// struct Reading {
///     id: String,
///     #[phlo(ge = 0.0, le = 100.0)]
///     value: f64,
/// }
///
/// let schema = Arc::new(ArrowSchema::new(vec![
///     Field::new("id", DataType::Utf8, true),
///     Field::new("value", DataType::Float64, true),
/// ]));
/// let batch = RecordBatch::try_new(schema, vec![
///     Arc::new(StringArray::from(vec![Some("a"), None, Some("c")])),
///     Arc::new(Float64Array::from(vec![50.0, 1.0, 120.0])),
/// ])?;
/// let report = phlo::validate::<Reading>(&[batch])?;
/// assert_eq!((report.rows_checked, report.rows_failed), (3, 2));
/// assert_eq!(report.summary(), "not_null(id): 1 rows, le(value, 100.0): 1 rows");
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn validate<T: Schema>(
    batches: &[arrow::record_batch::RecordBatch],
) -> Result<ValidationReport> {
    Ok(phlo_ingest::validate::validate_batches(
        T::SCHEMA.name,
        T::SCHEMA,
        batches,
    )?)
}
pub use phlo_macros::{Schema, dbt_schema, ingestion, models, quality, seeds, transform};
pub use phlo_runtime::exec::{
    AssetDescription, BuildOutcome, BuildReport, BuildStatus, ColumnInfo,
};
pub use phlo_runtime::exec::{AssetStatus, Freshness, PartitionStatus, Session};
pub use phlo_runtime::exec::{
    BackfillCounts, BackfillOptions, BackfillProgress, Cancellation, Outcome, PartitionOutcome,
    SkipReason,
};
pub use phlo_runtime::registry::{AssetInfo, Publication, QualityDescriptor, QualitySpec};

/// PostgreSQL, both ways: [`postgres::read_query`] and the publisher behind
/// [`Runtime::publish`] (binary COPY straight from and into Arrow). A source for ingestion
/// functions is [`sources::postgres::PostgresQuery`].
pub mod postgres {
    pub use phlo_postgres::*;
}
pub use phlo_runtime::transform::lineage::{ColumnLineage, SourceColumn};
pub use phlo_runtime::transform::{Project, ProjectFile};
pub use phlo_runtime::{
    AssetKind, AssetNode, BackfillReport, PartitionArg, PartitionSelection, PlanStep, QualityRun,
    Registry, RunFailure, RunPlan, RunReport, RunStatus, Runtime, RuntimeBuilder, StepTimings,
    Unpartitioned,
};

/// Arrow, at the version phlo uses: match it in your crate through this re-export.
pub use arrow;
/// chrono, at the version phlo uses.
pub use chrono;
/// DataFusion, at the version phlo uses.
pub use datafusion;

/// The sub-crates, for advanced use.
pub mod crates {
    pub use phlo_core as core;
    pub use phlo_ingest as ingest;
    pub use phlo_quality as quality;
    pub use phlo_runtime as runtime;
}

/// Everything an asset module needs.
pub mod prelude {
    pub use crate::arrow::record_batch::RecordBatch;
    pub use crate::chrono::{DateTime, NaiveDate, Utc};
    pub use crate::datafusion::dataframe::DataFrame;
    pub use crate::quality::{CheckOutcome, CheckResult, CheckScope, QualityReport};
    pub use crate::{
        PartitionContext, PartitionKey, RunReport, RunStatus, Runtime, Schema, Unpartitioned,
        ingestion, quality, transform,
    };
}

/// Registers a project's models, seeds and data tests with the binary, so that every
/// registry built from the binary's assets — `Runtime::open`, `phlo::cli::main`,
/// `Registry::global` — has them, and a `#[transform]` may read a model:
///
/// ```no_run
/// const PROJECT: phlo::Project = phlo::Project {
///     models: phlo::models!("../tests/project/models"),
///     seeds: phlo::seeds!("../tests/project/seeds"),
///     tests: phlo::models!("../tests/project/tests"),
/// };
/// phlo::register_project!(PROJECT);
/// # fn main() {}
/// ```
#[macro_export]
macro_rules! register_project {
    ($project:expr) => {
        $crate::__private::inventory::submit! {
            $crate::__private::ProjectRegistration { project: $project }
        }
    };
}

/// Registers a publication: an asset that copies another asset's table into PostgreSQL
/// (binary COPY, verified by a read-back checksum, swapped in atomically), downstream of it
/// in the graph, so `build` publishes after the table is written and checked. The URL is
/// read from `PHLO_POSTGRES_URL` (or `.url_env("VAR")`) when it runs.
///
/// ```
/// phlo::publish!(
///     phlo::Publication::postgres("pg_orders", "orders", "marts.orders")
///         .url_env("MARTS_PG_URL")
///         .group("marts")
/// );
/// # fn main() {}
/// ```
#[macro_export]
macro_rules! publish {
    ($publication:expr $(,)?) => {
        $crate::__private::inventory::submit! {
            $crate::Publication::at($publication, file!(), line!())
        }
    };
}

/// Items used by code that phlo's macros generate. Not a public API.
#[doc(hidden)]
pub mod __private {
    pub use inventory;
    pub use phlo_core::schema::{
        ArrowField, ColumnCheckFn, Constraint, FieldDef, FieldType, Lit, SchemaDef, SchemaPolicy,
        batch_from_columns, column, has_field,
    };
    pub use phlo_core::spec::{
        Cadence, Dedup, IngestionSpec, Location, MergeStrategy, PartitionsSpec,
    };
    pub use phlo_runtime::fetch::{FetchFn, FetchFuture, fetch_async, fetch_sync};
    pub use phlo_runtime::quality::{boxed_check, check_async, check_sync};
    pub use phlo_runtime::registry::{IngestionDescriptor, SchemaRegistration};
    pub use phlo_runtime::registry::{QualityDescriptor, QualitySpec};
    pub use phlo_runtime::transform::rust::{
        TransformDescriptor, TransformFuture, TransformInput, transform_async, transform_failed,
        transform_inputs, transform_sync,
    };
    pub use phlo_runtime::transform::{Materialized, ProjectRegistration};
    pub type DataFrame = datafusion::dataframe::DataFrame;
}

/// The user guide (`docs/guide.md`); its code blocks are compiled as doc tests.
#[doc = include_str!("../../docs/guide.md")]
pub mod guide {}
