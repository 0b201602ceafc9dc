//! Reconciliation: compare the scoped table with another warehouse table (registered in
//! the scope's session as `ns.table`).
//!
//! **Scoping the other table**: when it has the scope's partition column, it is filtered
//! by the same predicate as the checked table (same partition or rolling window);
//! otherwise the whole other table is compared. Messages say which.

mod aggregate;
mod checksum;
mod key_parity;
mod rowcount;

#[cfg(test)]
mod test_support;

pub use aggregate::AggregateConsistencyCheck;
pub use checksum::ChecksumReconciliationCheck;
pub use key_parity::KeyParityCheck;
pub use rowcount::ReconciliationCheck;

use arrow::datatypes::SchemaRef;

use super::common::{count_at, query_row, quoted_list, require_other_columns, table_schema};
use crate::scope::{quote_ident, quote_table};
use crate::{CheckScope, Result};

/// Relative and absolute tolerances: a difference is allowed up to
/// `max(abs, rel × |reference|)`.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub(crate) struct Tolerance {
    pub(crate) rel: f64,
    pub(crate) abs: f64,
}

impl Tolerance {
    /// The allowed difference for `reference`.
    pub(crate) fn allowed(&self, reference: f64) -> f64 {
        self.abs.max(self.rel * reference.abs())
    }
}

/// The other side of a reconciliation.
#[derive(Debug, Clone)]
pub(crate) struct Other {
    name: String,
    schema: SchemaRef,
    where_sql: String,
    scoped: bool,
}

impl Other {
    /// Looks `name` up in the scope's session and decides how it is scoped.
    pub(crate) async fn resolve(scope: &CheckScope, name: &str) -> Result<Other> {
        let schema = table_schema(scope.ctx(), name).await?;
        // A full-table scope has no predicate to share; otherwise the other table is scoped
        // the same way when it has the partition column.
        let scoped = *scope.window() != crate::ScopeWindow::Full
            && schema.field_with_name(scope.partition_column()).is_ok();
        Ok(Other {
            name: name.to_string(),
            schema,
            where_sql: if scoped {
                scope.where_sql()
            } else {
                "TRUE".to_string()
            },
            scoped,
        })
    }

    /// The table, `ns.table`.
    pub(crate) fn name(&self) -> &str {
        &self.name
    }

    /// Fails with `MissingColumn` unless the other table has every one of `columns`.
    pub(crate) async fn require_columns(
        &self,
        scope: &CheckScope,
        columns: &[String],
    ) -> Result<()> {
        require_other_columns(scope.ctx(), &self.name, columns).await?;
        Ok(())
    }

    /// The other table's column names.
    pub(crate) fn columns(&self) -> Vec<String> {
        self.schema
            .fields()
            .iter()
            .map(|f| f.name().clone())
            .collect()
    }

    /// `SELECT <projection> FROM <other> WHERE <scope if applicable> [AND <predicate>]`.
    pub(crate) fn select_sql(&self, projection: &str, predicate: Option<&str>) -> String {
        let mut sql = format!(
            "SELECT {projection} FROM {} WHERE {}",
            quote_table(&self.name),
            self.where_sql
        );
        if let Some(p) = predicate {
            sql.push_str(&format!(" AND ({p})"));
        }
        sql
    }

    /// `same scope` or `whole table`, for messages.
    pub(crate) fn scoping(&self) -> &'static str {
        if self.scoped {
            "same scope"
        } else {
            "whole table"
        }
    }
}

/// The presence flags every reconciliation join exposes, over sides `a` (the checked
/// table) and `b` (the other).
pub(crate) const PRESENCE: &str = "a.\"_phlo_present\" IS NOT NULL AS \"_phlo_in_checked\", \
     b.\"_phlo_present\" IS NOT NULL AS \"_phlo_in_other\"";

/// What a reconciliation join found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct SideCounts {
    /// Units (groups, keys) on either side.
    pub(crate) total: u64,
    /// Failing units.
    pub(crate) failed: u64,
    /// Units only in the checked table.
    pub(crate) only_checked: u64,
    /// Units only in the other table.
    pub(crate) only_other: u64,
}

/// Counts the units of `joined` (a query exposing [`PRESENCE`]) and those where `failing`.
pub(crate) async fn side_counts(
    scope: &CheckScope,
    joined: &str,
    failing: &str,
) -> Result<SideCounts> {
    let sql = format!(
        "SELECT count(*) AS total, count(*) FILTER (WHERE {failing}) AS failed, \
         count(*) FILTER (WHERE NOT \"_phlo_in_other\") AS only_checked, \
         count(*) FILTER (WHERE NOT \"_phlo_in_checked\") AS only_other FROM ({joined})"
    );
    let row = query_row(scope.ctx(), &sql).await?;
    Ok(SideCounts {
        total: count_at(&row, 0)?,
        failed: count_at(&row, 1)?,
        only_checked: count_at(&row, 2)?,
        only_other: count_at(&row, 3)?,
    })
}

/// `SELECT <keys>, <shown> FROM (<joined>) WHERE <failing> ORDER BY <keys>`: the repro query
/// and, with a `LIMIT`, the samples.
pub(crate) fn failing_sql(joined: &str, keys: &[String], shown: &[&str], failing: &str) -> String {
    let mut columns: Vec<String> = keys.iter().map(|k| quote_ident(k)).collect();
    columns.extend(shown.iter().map(|s| s.to_string()));
    format!(
        "SELECT {} FROM ({joined}) WHERE {failing}{}",
        columns.join(", "),
        order_by(keys)
    )
}

/// `a."k1" IS NOT DISTINCT FROM b."k1" AND …` (`TRUE` for no keys).
pub(crate) fn join_on(keys: &[String]) -> String {
    if keys.is_empty() {
        return "TRUE".to_string();
    }
    keys.iter()
        .map(|k| {
            let k = quote_ident(k);
            format!("(a.{k} IS NOT DISTINCT FROM b.{k})")
        })
        .collect::<Vec<_>>()
        .join(" AND ")
}

/// `coalesce(a."k1", b."k1") AS "k1", …` (with a trailing comma, empty for no keys).
pub(crate) fn merged_keys(keys: &[String]) -> String {
    keys.iter()
        .map(|k| {
            let k = quote_ident(k);
            format!("coalesce(a.{k}, b.{k}) AS {k}, ")
        })
        .collect()
}

/// `"k1" IS NOT NULL AND …` (`TRUE` for no keys).
pub(crate) fn keys_not_null(keys: &[String]) -> String {
    if keys.is_empty() {
        return "TRUE".to_string();
    }
    keys.iter()
        .map(|k| format!("({} IS NOT NULL)", quote_ident(k)))
        .collect::<Vec<_>>()
        .join(" AND ")
}

/// `ORDER BY "k1" ASC NULLS LAST, …` (empty for no keys).
pub(crate) fn order_by(keys: &[String]) -> String {
    if keys.is_empty() {
        return String::new();
    }
    let list = keys
        .iter()
        .map(|k| format!("{} ASC NULLS LAST", quote_ident(k)))
        .collect::<Vec<_>>()
        .join(", ");
    format!(" ORDER BY {list}")
}

/// `GROUP BY "k1", …` (empty for no keys).
pub(crate) fn group_by(keys: &[String]) -> String {
    if keys.is_empty() {
        String::new()
    } else {
        format!(" GROUP BY {}", quoted_list(keys))
    }
}

/// `"k1", "k2", ` (with a trailing comma, empty for no keys).
pub(crate) fn key_prefix(keys: &[String]) -> String {
    keys.iter()
        .map(|k| format!("{}, ", quote_ident(k)))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tolerance_takes_the_larger_allowance() {
        let t = Tolerance {
            rel: 0.01,
            abs: 2.0,
        };
        assert_eq!(t.allowed(100.0), 2.0);
        assert_eq!(t.allowed(-1000.0), 10.0);
        assert_eq!(Tolerance::default().allowed(5.0), 0.0);
    }
}
