//! The built-in checks. Each is a builder (`NullCheck::new(["id"]).warn()`) with
//! `allow_threshold` (default `0.0`) and `warn` / `error` (default `error`), and compiles to
//! DataFusion aggregates over the scoped table: none collects the table to count. Samples
//! (at most [`MAX_SAMPLES`]) are read with `LIMIT`, and `repro_sql` shows the failing rows.
//!
//! | check | fails | denominator | empty scope |
//! |---|---|---|---|
//! | [`NullCheck`] | rows with a null in any listed column | all rows | passes, 0 of 0 |
//! | [`RangeCheck`] | non-null values outside `[min, max]` | non-null rows | passes, 0 of 0 |
//! | [`UniqueCheck`] | every row of a duplicated key | all rows | passes, 0 of 0 |
//! | [`CountCheck`] | the scope, when its row count is out of bounds | 1 | **fails** (`min_rows ≥ 1`) |
//! | [`FreshnessCheck`] | the scope, when `max(column)` is too old | 1 | **fails** |
//! | [`PatternCheck`] | non-null values not matching (full match) | non-null rows | passes, 0 of 0 |
//! | [`AcceptedValuesCheck`] | non-null values outside the set | non-null rows | passes, 0 of 0 |
//! | [`SchemaCheck`] | rows failing nullability or any constraint; wrong structure | all rows | passes, 0 of 0 |
//! | [`CustomSqlCheck`] | a count ≠ expected, or `false` rows | —, or rows | per query |
//! | [`ReconciliationCheck`] | row counts apart by more than the tolerance | other's count | passes when both empty |
//! | [`AggregateConsistencyCheck`] | groups missing or with different aggregates | groups | passes, 0 of 0 |
//! | [`KeyParityCheck`] | keys on one side only | keys | passes, 0 of 0 |
//! | [`ChecksumReconciliationCheck`] | keys missing or with different values | keys | passes, 0 of 0 |
//!
//! A user-written check is a plain function over a [`CheckScope`](crate::CheckScope)
//! returning a [`CheckOutcome`].

mod accepted_values;
mod common;
mod count;
mod custom_sql;
mod freshness;
mod null;
mod outcome;
mod pattern;
mod range;
mod reconcile;
mod relationships;
mod schema;
mod unique;

#[cfg(test)]
pub(crate) mod test_support;
#[cfg(test)]
mod tests;

pub use accepted_values::{AcceptedValue, AcceptedValuesCheck};
pub use common::MAX_SAMPLES;
pub use count::CountCheck;
pub use custom_sql::CustomSqlCheck;
pub use freshness::FreshnessCheck;
pub use null::NullCheck;
pub use outcome::CheckOutcome;
pub use pattern::{MatchMode, PatternCheck};
pub use range::RangeCheck;
pub use reconcile::{
    AggregateConsistencyCheck, ChecksumReconciliationCheck, KeyParityCheck, ReconciliationCheck,
};
pub use relationships::RelationshipsCheck;
pub use schema::SchemaCheck;
pub use unique::UniqueCheck;
