//! The built-in checks. Each is a builder (`NullCheck::new(["id"]).warn()`) that compiles
//! to DataFusion aggregates over the scoped table; none collects the table to count.
//!
//! | check | fails | denominator |
//! |---|---|---|
//! | [`NullCheck`] | rows with a null in any listed column | all rows |
//! | [`RangeCheck`] | non-null values outside `[min, max]` | non-null rows |

mod accepted_values;
mod common;
mod count;
mod custom_sql;
mod freshness;
mod null;
mod range;
mod unique;
mod outcome;
mod pattern;

#[cfg(test)]
pub(crate) mod test_support;

pub use accepted_values::{AcceptedValue, AcceptedValuesCheck};
pub use common::MAX_SAMPLES;
pub use count::CountCheck;
pub use custom_sql::CustomSqlCheck;
pub use freshness::FreshnessCheck;
pub use null::NullCheck;
pub use range::RangeCheck;
pub use unique::UniqueCheck;
pub use outcome::CheckOutcome;
pub use pattern::{MatchMode, PatternCheck};
