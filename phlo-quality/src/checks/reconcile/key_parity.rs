//! `KeyParityCheck`: the same keys on both sides.

use async_trait::async_trait;

use super::{
    Other, PRESENCE, failing_sql, join_on, key_prefix, keys_not_null, merged_keys, side_counts,
};
use crate::checks::common::{CheckOptions, check_options, samples, sql_str, strings};
use crate::{Check, CheckScope, Error, Evaluation, Result, Severity};

/// Fails keys (one column or several) present on one side and not the other, in both
/// directions: the checked table in scope against another table (scoped the same way when
/// it has the partition column, else whole). Keys with a null column are ignored.
///
/// Denominator: the distinct keys on either side. Two empty sides pass (0 of 0). Samples
/// show the failing keys and the side they are missing from.
///
/// ```rust
/// use phlo_quality::{Check, KeyParityCheck};
/// let check = KeyParityCheck::new("silver.events", ["id"]);
/// assert_eq!(check.name(), "key_parity_check(silver.events,id)");
/// ```
#[derive(Debug, Clone)]
pub struct KeyParityCheck {
    other: String,
    keys: Vec<String>,
    options: CheckOptions,
}

impl KeyParityCheck {
    /// Compares the keys `keys` with `other` (`ns.table`, same key column names).
    pub fn new(
        other: impl Into<String>,
        keys: impl IntoIterator<Item = impl Into<String>>,
    ) -> Self {
        KeyParityCheck {
            other: other.into(),
            keys: strings(keys),
            options: CheckOptions::default(),
        }
    }

    /// Every key on either side, with the side it is missing from (null when on both).
    fn joined_sql(&self, scope: &CheckScope, other: &Other) -> String {
        let projection = format!("DISTINCT {}1 AS \"_phlo_present\"", key_prefix(&self.keys));
        let not_null = keys_not_null(&self.keys);
        let a = scope.select_sql(&projection, Some(&not_null));
        let b = other.select_sql(&projection, Some(&not_null));
        format!(
            "SELECT {}CASE WHEN a.\"_phlo_present\" IS NULL THEN {} \
             WHEN b.\"_phlo_present\" IS NULL THEN {} END AS missing_from, {PRESENCE} \
             FROM ({a}) a FULL OUTER JOIN ({b}) b ON {}",
            merged_keys(&self.keys),
            sql_str(scope.table()),
            sql_str(other.name()),
            join_on(&self.keys)
        )
    }
}

check_options!(KeyParityCheck);

/// A key on one side only.
const FAILING: &str = "NOT (\"_phlo_in_checked\" AND \"_phlo_in_other\")";

#[async_trait]
impl Check for KeyParityCheck {
    fn name(&self) -> String {
        format!("key_parity_check({},{})", self.other, self.keys.join(","))
    }

    fn severity(&self) -> Severity {
        self.options.severity
    }

    fn threshold(&self) -> f64 {
        self.options.threshold
    }

    fn columns(&self) -> Vec<String> {
        self.keys.clone()
    }

    async fn evaluate(&self, scope: &CheckScope) -> Result<Evaluation> {
        if self.keys.is_empty() {
            return Err(Error::Config {
                check: self.name(),
                reason: "name at least one key column".into(),
            });
        }
        let other = Other::resolve(scope, &self.other).await?;
        scope
            .require_columns(&self.keys.iter().map(String::as_str).collect::<Vec<_>>())
            .await?;
        other.require_columns(scope, &self.keys).await?;
        let joined = self.joined_sql(scope, &other);
        let counts = side_counts(scope, &joined, FAILING).await?;
        let (total, failed) = (counts.total, counts.failed);
        let (only_mine, only_theirs) = (counts.only_checked, counts.only_other);
        let repro_sql = failing_sql(&joined, &self.keys, &["missing_from"], FAILING);
        let samples = if failed > 0 {
            samples(scope.ctx(), &repro_sql).await?
        } else {
            Vec::new()
        };
        let message = (failed > 0).then(|| {
            format!(
                "{failed} of {total} keys are on one side only: {only_mine} missing from {} \
                 ({}), {only_theirs} missing from {}",
                other.name(),
                other.scoping(),
                scope.table()
            )
        });
        Ok(Evaluation {
            failed_count: failed,
            total_count: total,
            samples,
            repro_sql,
            message,
            passed_override: None,
        })
    }
}

#[cfg(test)]
mod tests;
