//! # phlo-quality
//!
//! Data-quality checks run through DataFusion over a scoped table (SEMANTICS §5).
//!
//! ```text
//! CheckScope (SessionContext with every table as ns.table, the target table, a window:
//!             one partition | a rolling window of days | the full table, the clock)
//!     │
//!     ├─ Check::evaluate ─▶ Evaluation { failed, total, samples ≤ 20, repro_sql }
//!     │      built-in checks compile to DataFusion aggregates: they never collect the
//!     │      table to count
//!     └─ run_checks ─▶ QualityReport { CheckResult per check, unique names,
//!                       passed = failed / total ≤ threshold, severity, elapsed }
//! ```

pub mod check;
pub mod checks;
pub mod error;
pub mod result;
pub mod runner;
pub mod scope;

pub use check::{Check, Evaluation};
pub use checks::{
    AcceptedValue, AcceptedValuesCheck, AggregateConsistencyCheck, CheckOutcome,
    ChecksumReconciliationCheck, CountCheck, CustomSqlCheck, FreshnessCheck, KeyParityCheck,
    MAX_SAMPLES, MatchMode, NullCheck, PatternCheck, RangeCheck, ReconciliationCheck,
    RelationshipsCheck, SchemaCheck, UniqueCheck,
};
pub use error::{Error, Result};
pub use result::{CheckResult, QualityReport, Severity};
pub use runner::run_checks;
pub use scope::{CheckScope, ScopeWindow};
