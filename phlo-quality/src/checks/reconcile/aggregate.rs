//! `AggregateConsistencyCheck`: an aggregate per group matches another table's.

use async_trait::async_trait;

use super::{
    Other, PRESENCE, Tolerance, failing_sql, group_by, join_on, key_prefix, merged_keys,
    side_counts,
};
use crate::checks::common::{CheckOptions, check_options, samples, sql_f64, sql_str, strings};
use crate::scope::quote_ident;
use crate::{Check, CheckScope, Evaluation, Result, Severity};

/// The failing-group flag of the joined query.
const FAILING: &str = "\"_phlo_failing\"";

#[derive(Debug, Clone, PartialEq, Eq)]
enum Aggregate {
    Count,
    Sum(String),
}

/// Compares an aggregate per group between the checked table (in scope) and another table
/// (scoped the same way when it has the partition column, else whole), e.g. `sum(value)`
/// per `category` against a `silver.daily_totals` table.
///
/// - the aggregate: [`sum`](Self::sum)`(column)` or [`count`](Self::count) (the default,
///   `count(*)`); on the other side the same aggregate, or `sum(other_column)` with
///   [`other_column`](Self::other_column) (a pre-aggregated total or count).
/// - groups: [`group_by`](Self::group_by) columns present in both tables (none = one group
///   for the whole scope); null is a group like any other.
///
/// A group fails when it is missing on either side or its values differ by more than
/// `max(tolerance_abs, tolerance_rel × |other value|)` (default `tolerance_rel` is `1e-9`,
/// absorbing float summation order). Denominator: the groups on either side. Two empty
/// sides pass (0 of 0 groups, or 1 of 1 equal group without `group_by`). Samples show the
/// failing groups with both values and the side a group is missing from.
///
/// ```rust
/// use phlo_quality::{AggregateConsistencyCheck, Check};
/// let check = AggregateConsistencyCheck::new("silver.daily_totals")
///     .group_by(["category"])
///     .sum("value")
///     .other_column("total");
/// assert_eq!(
///     check.name(),
///     "aggregate_consistency_check(silver.daily_totals,sum(value))"
/// );
/// ```
#[derive(Debug, Clone)]
pub struct AggregateConsistencyCheck {
    other: String,
    group_by: Vec<String>,
    aggregate: Aggregate,
    other_column: Option<String>,
    tolerance: Tolerance,
    options: CheckOptions,
}

impl AggregateConsistencyCheck {
    /// Compares with `other` (`ns.table`); `count(*)` over one group until configured.
    pub fn new(other: impl Into<String>) -> Self {
        AggregateConsistencyCheck {
            other: other.into(),
            group_by: Vec::new(),
            aggregate: Aggregate::Count,
            other_column: None,
            tolerance: Tolerance {
                rel: 1e-9,
                abs: 0.0,
            },
            options: CheckOptions::default(),
        }
    }

    /// Groups by `columns` (in both tables).
    #[must_use]
    pub fn group_by(mut self, columns: impl IntoIterator<Item = impl Into<String>>) -> Self {
        self.group_by = strings(columns);
        self
    }

    /// Compares `sum(column)`.
    #[must_use]
    pub fn sum(mut self, column: impl Into<String>) -> Self {
        self.aggregate = Aggregate::Sum(column.into());
        self
    }

    /// Compares `count(*)` (the default).
    #[must_use]
    pub fn count(mut self) -> Self {
        self.aggregate = Aggregate::Count;
        self
    }

    /// On the other side, compares with `sum(column)` instead of the same aggregate.
    #[must_use]
    pub fn other_column(mut self, column: impl Into<String>) -> Self {
        self.other_column = Some(column.into());
        self
    }

    /// Allows a difference of `fraction` × |the other side's value| per group.
    #[must_use]
    pub fn tolerance_rel(mut self, fraction: f64) -> Self {
        self.tolerance.rel = fraction;
        self
    }

    /// Allows an absolute difference of `amount` per group.
    #[must_use]
    pub fn tolerance_abs(mut self, amount: f64) -> Self {
        self.tolerance.abs = amount;
        self
    }

    fn aggregate_sql(&self) -> (String, String) {
        let mine = match &self.aggregate {
            Aggregate::Count => "count(*)".to_string(),
            Aggregate::Sum(c) => format!("sum({})", quote_ident(c)),
        };
        let theirs = match &self.other_column {
            Some(c) => format!("sum({})", quote_ident(c)),
            None => mine.clone(),
        };
        (mine, theirs)
    }

    fn label(&self) -> String {
        match &self.aggregate {
            Aggregate::Count => "count(*)".to_string(),
            Aggregate::Sum(c) => format!("sum({c})"),
        }
    }

    /// Every group with both values and where it is missing; `WHERE failing` selects the
    /// failures.
    fn joined_sql(&self, scope: &CheckScope, other: &Other) -> Result<String> {
        let keys = key_prefix(&self.group_by);
        let (mine, theirs) = self.aggregate_sql();
        let grouped = |agg: &str| {
            format!("{keys}CAST({agg} AS DOUBLE) AS \"_phlo_value\", 1 AS \"_phlo_present\"")
        };
        let a = scope.select_sql(&grouped(&mine), None) + &group_by(&self.group_by);
        let b = other.select_sql(&grouped(&theirs), None) + &group_by(&self.group_by);
        let name = self.name();
        let tol = format!(
            "greatest({}, {} * abs(b.\"_phlo_value\"))",
            sql_f64(&name, self.tolerance.abs)?,
            sql_f64(&name, self.tolerance.rel)?
        );
        let join = if self.group_by.is_empty() {
            format!("({a}) a CROSS JOIN ({b}) b")
        } else {
            format!(
                "({a}) a FULL OUTER JOIN ({b}) b ON {}",
                join_on(&self.group_by)
            )
        };
        Ok(format!(
            "SELECT {}a.\"_phlo_value\" AS checked_value, b.\"_phlo_value\" AS other_value, \
             CASE WHEN a.\"_phlo_present\" IS NULL THEN {} \
             WHEN b.\"_phlo_present\" IS NULL THEN {} END AS missing_from, {PRESENCE}, \
             (a.\"_phlo_present\" IS NULL OR b.\"_phlo_present\" IS NULL \
             OR NOT coalesce((a.\"_phlo_value\" IS NOT DISTINCT FROM b.\"_phlo_value\") \
             OR (abs(a.\"_phlo_value\" - b.\"_phlo_value\") <= {tol}), FALSE)) \
             AS \"_phlo_failing\" FROM {join}",
            merged_keys(&self.group_by),
            sql_str(scope.table()),
            sql_str(other.name()),
        ))
    }
}

check_options!(AggregateConsistencyCheck);

#[async_trait]
impl Check for AggregateConsistencyCheck {
    fn name(&self) -> String {
        format!(
            "aggregate_consistency_check({},{})",
            self.other,
            self.label()
        )
    }

    fn severity(&self) -> Severity {
        self.options.severity
    }

    fn threshold(&self) -> f64 {
        self.options.threshold
    }

    fn columns(&self) -> Vec<String> {
        let mut columns = self.group_by.clone();
        if let Aggregate::Sum(c) = &self.aggregate {
            columns.push(c.clone());
        }
        columns
    }

    async fn evaluate(&self, scope: &CheckScope) -> Result<Evaluation> {
        let other = Other::resolve(scope, &self.other).await?;
        let mine = self.columns();
        scope
            .require_columns(&mine.iter().map(String::as_str).collect::<Vec<_>>())
            .await?;
        let mut theirs = self.group_by.clone();
        match (&self.other_column, &self.aggregate) {
            (Some(c), _) | (None, Aggregate::Sum(c)) => theirs.push(c.clone()),
            (None, Aggregate::Count) => {}
        }
        other.require_columns(scope, &theirs).await?;
        let joined = self.joined_sql(scope, &other)?;
        let counts = side_counts(scope, &joined, FAILING).await?;
        let (total, failed) = (counts.total, counts.failed);
        let (only_mine, only_theirs) = (counts.only_checked, counts.only_other);
        let repro_sql = failing_sql(
            &joined,
            &self.group_by,
            &["checked_value", "other_value", "missing_from"],
            FAILING,
        );
        let samples = if failed > 0 {
            samples(scope.ctx(), &repro_sql).await?
        } else {
            Vec::new()
        };
        let message = (failed > 0).then(|| {
            format!(
                "{failed} of {total} groups differ in {}: {only_mine} only in {}, \
                 {only_theirs} only in {} ({}), {} with different values",
                self.label(),
                scope.table(),
                other.name(),
                other.scoping(),
                failed - only_mine - only_theirs
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
