//! Column-level lineage of a SQL model, read off DataFusion's logical plan of its query:
//! for each output column, the upstream table columns its value is computed from.
//!
//! The walk follows each output column down the plan: through a projection to the columns
//! its expression reads, through an aggregate to its group or aggregate expression,
//! through a window to its window expression (input columns pass through), through a join
//! to the side that holds it, through a union to every branch, and through filters, sorts,
//! limits and aliases unchanged, until table scans name the upstream tables. Columns a
//! filter or join condition reads are not sources of a column's value, and are not listed.

use std::collections::BTreeSet;

use datafusion::common::Column;
use datafusion::logical_expr::{Expr, LogicalPlan};
use serde::Serialize;

/// One upstream column.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct SourceColumn {
    /// The asset writing the table, when one does (filled in by the runtime).
    pub asset: Option<String>,
    /// The table, as the query's scan names it (`ns.table`).
    pub table: String,
    /// Its column.
    pub column: String,
}

/// One output column and where its values come from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ColumnLineage {
    /// The output column.
    pub column: String,
    /// The upstream columns it is computed from, sorted; empty for a constant.
    pub sources: Vec<SourceColumn>,
}

/// The lineage of every output column of `plan`, in output order.
pub fn column_lineage(plan: &LogicalPlan) -> Vec<ColumnLineage> {
    plan.schema()
        .fields()
        .iter()
        .enumerate()
        .map(|(i, field)| {
            let mut sources = BTreeSet::new();
            trace(plan, i, &mut sources, 0);
            ColumnLineage {
                column: field.name().clone(),
                sources: sources.into_iter().collect(),
            }
        })
        .collect()
}

/// Deeper than this, a plan is not a query a person wrote: stop rather than overflow.
const MAX_DEPTH: usize = 256;

fn trace(plan: &LogicalPlan, index: usize, out: &mut BTreeSet<SourceColumn>, depth: usize) {
    if depth > MAX_DEPTH {
        return;
    }
    let next = depth + 1;
    match plan {
        LogicalPlan::TableScan(scan) => {
            if let Some(field) = scan.projected_schema.fields().get(index) {
                // `ns.table`, whatever catalog qualifies it.
                let table = match scan.table_name.schema() {
                    Some(ns) => format!("{ns}.{}", scan.table_name.table()),
                    None => scan.table_name.table().to_string(),
                };
                out.insert(SourceColumn {
                    asset: None,
                    table,
                    column: field.name().clone(),
                });
            }
        }
        LogicalPlan::Projection(p) => {
            if let Some(expr) = p.expr.get(index) {
                through_expr(expr, &p.input, out, next);
            }
        }
        LogicalPlan::Aggregate(a) => {
            let groups = a.group_expr.len();
            let expr = if index < groups {
                a.group_expr.get(index)
            } else {
                a.aggr_expr.get(index - groups)
            };
            if let Some(expr) = expr {
                through_expr(expr, &a.input, out, next);
            }
        }
        LogicalPlan::Window(w) => {
            let passed = w.input.schema().fields().len();
            if index < passed {
                trace(&w.input, index, out, next);
            } else if let Some(expr) = w.window_expr.get(index - passed) {
                through_expr(expr, &w.input, out, next);
            }
        }
        LogicalPlan::Union(u) => {
            for input in &u.inputs {
                trace(input, index, out, next);
            }
        }
        LogicalPlan::Join(_) => {
            // The output is the left side's columns then the right's (one side for semi
            // and anti joins): find the column by its qualified name on either side.
            let (qualifier, field) = plan.schema().qualified_field(index);
            let column = Column::new(qualifier.cloned(), field.name());
            for input in plan.inputs() {
                if let Some(i) = input.schema().maybe_index_of_column(&column) {
                    trace(input, i, out, next);
                    return;
                }
            }
        }
        other => {
            // Filter, Sort, Limit, SubqueryAlias, Distinct, Repartition, …: an input with
            // the same columns in the same order; otherwise match by name.
            let inputs = other.inputs();
            let name = other.schema().field(index).name().clone();
            for input in inputs {
                let same_shape = input.schema().fields().len() == other.schema().fields().len();
                if same_shape {
                    trace(input, index, out, next);
                } else if let Some((i, _)) = input
                    .schema()
                    .fields()
                    .iter()
                    .enumerate()
                    .find(|(_, f)| *f.name() == name)
                {
                    trace(input, i, out, next);
                }
            }
        }
    }
}

/// The sources of the columns `expr` reads from `input`.
fn through_expr(expr: &Expr, input: &LogicalPlan, out: &mut BTreeSet<SourceColumn>, depth: usize) {
    for column in expr.column_refs() {
        if let Some(i) = input.schema().maybe_index_of_column(column) {
            trace(input, i, out, depth);
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use arrow::datatypes::{DataType, Field, Schema};
    use datafusion::datasource::MemTable;
    use datafusion::prelude::SessionContext;

    use super::*;

    async fn lineage(sql: &str) -> Vec<(String, Vec<String>)> {
        let ctx = SessionContext::new();
        let readings = Schema::new(vec![
            Field::new("well_code", DataType::Utf8, false),
            Field::new("day", DataType::Date32, false),
            Field::new("oil", DataType::Float64, true),
            Field::new("gas", DataType::Float64, true),
        ]);
        let prices = Schema::new(vec![
            Field::new("well_code", DataType::Utf8, false),
            Field::new("price", DataType::Float64, true),
        ]);
        let catalog = ctx.catalog("datafusion").unwrap();
        for (ns, name, schema) in [
            ("staging", "readings", readings),
            ("seeds", "prices", prices),
        ] {
            catalog
                .register_schema(
                    ns,
                    Arc::new(datafusion::catalog::MemorySchemaProvider::new()),
                )
                .unwrap();
            let table = MemTable::try_new(Arc::new(schema), vec![vec![]]).unwrap();
            ctx.register_table(
                datafusion::common::TableReference::partial(ns, name),
                Arc::new(table),
            )
            .unwrap();
        }
        let df = ctx.sql(sql).await.unwrap();
        column_lineage(df.logical_plan())
            .into_iter()
            .map(|l| {
                (
                    l.column,
                    l.sources
                        .into_iter()
                        .map(|s| format!("{}.{}", s.table, s.column))
                        .collect(),
                )
            })
            .collect()
    }

    fn c(column: &str, sources: &[&str]) -> (String, Vec<String>) {
        (
            column.to_string(),
            sources.iter().map(|s| s.to_string()).collect(),
        )
    }

    #[tokio::test]
    async fn projections_expressions_and_constants() {
        assert_eq!(
            lineage("SELECT oil + gas AS boe, 1 AS one, * FROM staging.readings WHERE oil > 0")
                .await,
            [
                c("boe", &["staging.readings.gas", "staging.readings.oil"]),
                c("one", &[]),
                c("well_code", &["staging.readings.well_code"]),
                c("day", &["staging.readings.day"]),
                c("oil", &["staging.readings.oil"]),
                c("gas", &["staging.readings.gas"]),
            ]
        );
    }

    #[tokio::test]
    async fn joins_aggregates_and_windows() {
        assert_eq!(
            lineage(
                "SELECT r.well_code, SUM(r.oil * p.price) AS revenue, COUNT(*) AS n
                 FROM staging.readings r JOIN seeds.prices p ON p.well_code = r.well_code
                 GROUP BY r.well_code"
            )
            .await,
            [
                c("well_code", &["staging.readings.well_code"]),
                c("revenue", &["seeds.prices.price", "staging.readings.oil"]),
                c("n", &[]),
            ]
        );
        assert_eq!(
            lineage(
                "SELECT well_code, SUM(oil) OVER (PARTITION BY well_code ORDER BY day) AS cum_oil
                 FROM staging.readings"
            )
            .await,
            [
                c("well_code", &["staging.readings.well_code"]),
                c(
                    "cum_oil",
                    &[
                        "staging.readings.day",
                        "staging.readings.oil",
                        "staging.readings.well_code"
                    ]
                ),
            ]
        );
    }

    #[tokio::test]
    async fn subqueries_ctes_and_unions() {
        assert_eq!(
            lineage(
                "WITH daily AS (SELECT well_code, oil AS o FROM staging.readings)
                 SELECT well_code, o FROM daily
                 UNION ALL SELECT well_code, price FROM seeds.prices"
            )
            .await,
            [
                c(
                    "well_code",
                    &["seeds.prices.well_code", "staging.readings.well_code"]
                ),
                c("o", &["seeds.prices.price", "staging.readings.oil"]),
            ]
        );
    }
}
