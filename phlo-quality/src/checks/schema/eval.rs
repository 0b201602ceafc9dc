//! Evaluates schema rules over the scope: one aggregate query when every rule is SQL, a
//! single streamed pass (batch by batch, never collected) when a custom function is
//! involved.

use arrow::array::{Array, ArrayRef, AsArray, BooleanArray, RecordBatch};
use arrow::compute::{cast, filter_record_batch};
use futures::StreamExt;

use super::rules::{Rule, RuleKind};
use crate::checks::common::{
    MAX_SAMPLES, batches_to_json, count_at, internal, query_row, quoted_list, sample_columns,
    samples, validate_regex,
};
use crate::scope::{quote_ident, quote_table};
use crate::{CheckScope, Error, Evaluation, Result};

/// The flag column of SQL rule `i`.
fn flag(i: usize) -> String {
    quote_ident(&format!("_phlo_rule_{i}"))
}

/// The queries the rules compile to.
struct Plan {
    /// `SELECT <shown>, <flags> FROM (<scope with windows>)`.
    flags: String,
    /// `flag_0 OR flag_1 …` over the SQL rules (`FALSE` when none).
    any_sql: String,
    /// The rows failing a SQL rule, all columns and flags.
    repro: String,
    /// The columns shown in samples.
    shown: Vec<String>,
}

async fn plan(scope: &CheckScope, rules: &[Rule]) -> Result<Plan> {
    let mut columns: Vec<String> = Vec::new();
    for r in rules {
        if !columns.contains(&r.column) {
            columns.push(r.column.clone());
        }
    }
    let shown = sample_columns(scope, &columns).await?;
    // `unique` rules: a grouped subquery per column (hash aggregate) joined back, instead of
    // a window over the scope, which sorts every row.
    let table = quote_table(scope.table());
    let where_sql = scope.where_sql();
    let mut projection = vec!["t.*".to_string()];
    let mut joins = String::new();
    for (n, (col, count)) in rules.iter().filter_map(|r| r.window.as_ref()).enumerate() {
        let key = quote_ident(&format!("_phlo_key_{n}"));
        let count = quote_ident(count);
        projection.push(format!("d{n}.{count}"));
        joins.push_str(&format!(
            " LEFT JOIN (SELECT {col} AS {key}, count(*) AS {count} FROM {table} WHERE {where_sql} \
             GROUP BY {col} HAVING count(*) > 1) d{n} ON t.{col} = d{n}.{key}"
        ));
    }
    let inner = format!(
        "SELECT {} FROM {table} t{joins} WHERE {where_sql}",
        projection.join(", ")
    );
    let mut flags = Vec::new();
    let mut any = Vec::new();
    for (i, r) in rules.iter().enumerate() {
        if let RuleKind::Sql(pred) = &r.kind {
            flags.push(format!("coalesce(({pred}), FALSE) AS {}", flag(i)));
            any.push(flag(i));
        }
    }
    let any_sql = if any.is_empty() {
        "FALSE".to_string()
    } else {
        any.join(" OR ")
    };
    let with_flags = |head: &str| {
        let mut cols = vec![head.to_string()];
        cols.extend(flags.iter().cloned());
        format!("SELECT {} FROM ({inner})", cols.join(", "))
    };
    Ok(Plan {
        flags: with_flags(&quoted_list(&shown)),
        repro: format!("SELECT * FROM ({}) WHERE {any_sql}", with_flags("*")),
        any_sql,
        shown,
    })
}

/// Evaluates `rules` over the scope: failed = rows failing at least one rule, total =
/// rows in scope; the message lists failing rows per rule.
pub(super) async fn evaluate_rules(
    check: &str,
    scope: &CheckScope,
    rules: &[Rule],
) -> Result<Evaluation> {
    for regex in rules.iter().filter_map(|r| r.regex.as_ref()) {
        validate_regex(scope, check, regex).await?;
    }
    let plan = plan(scope, rules).await?;
    let has_custom = rules.iter().any(|r| matches!(r.kind, RuleKind::Custom(..)));
    let counts = if has_custom {
        streamed(scope, rules, &plan).await?
    } else {
        aggregated(scope, rules, &plan).await?
    };
    let per_rule: Vec<String> = rules
        .iter()
        .zip(&counts.per_rule)
        .filter(|(_, n)| **n > 0)
        .map(|(r, n)| format!("{}: {n} {}", r.name, if *n == 1 { "row" } else { "rows" }))
        .collect();
    let message = (counts.failed > 0).then(|| {
        format!(
            "{} of {} rows fail the schema ({})",
            counts.failed,
            counts.total,
            per_rule.join(", ")
        )
    });
    Ok(Evaluation {
        failed_count: counts.failed,
        total_count: counts.total,
        samples: counts.samples,
        repro_sql: plan.repro,
        message,
        passed_override: None,
    })
}

struct Counts {
    total: u64,
    failed: u64,
    per_rule: Vec<u64>,
    samples: Vec<serde_json::Value>,
}

/// Every rule is SQL: one aggregate query, then a top-k sample query if anything failed.
async fn aggregated(scope: &CheckScope, rules: &[Rule], plan: &Plan) -> Result<Counts> {
    // Aliased: two identical rules would otherwise be two identical expressions.
    let mut aggs = vec!["count(*) AS \"total\"".to_string()];
    aggs.extend(
        (0..rules.len()).map(|i| format!("count(*) FILTER (WHERE {}) AS \"n{i}\"", flag(i))),
    );
    aggs.push(format!(
        "count(*) FILTER (WHERE {}) AS \"failed\"",
        plan.any_sql
    ));
    let sql = format!("SELECT {} FROM ({})", aggs.join(", "), plan.flags);
    let row = query_row(scope.ctx(), &sql).await?;
    let total = count_at(&row, 0)?;
    let per_rule = (0..rules.len())
        .map(|i| count_at(&row, i + 1))
        .collect::<Result<Vec<_>>>()?;
    let failed = count_at(&row, rules.len() + 1)?;
    let samples = if failed > 0 {
        let shown = quoted_list(&plan.shown);
        let order = plan
            .shown
            .iter()
            .map(|c| format!("{} ASC NULLS LAST", quote_ident(c)))
            .collect::<Vec<_>>()
            .join(", ");
        let sql = format!(
            "SELECT {shown} FROM ({}) WHERE {} ORDER BY {order}",
            plan.flags, plan.any_sql
        );
        samples(scope.ctx(), &sql).await?
    } else {
        Vec::new()
    };
    Ok(Counts {
        total,
        failed,
        per_rule,
        samples,
    })
}

/// A custom function is involved: stream the flags and the columns batch by batch, call the
/// functions, and count (never collecting the table).
async fn streamed(scope: &CheckScope, rules: &[Rule], plan: &Plan) -> Result<Counts> {
    let mut stream = scope.ctx().sql(&plan.flags).await?.execute_stream().await?;
    let mut counts = Counts {
        total: 0,
        failed: 0,
        per_rule: vec![0; rules.len()],
        samples: Vec::new(),
    };
    let mut kept: Vec<RecordBatch> = Vec::new();
    let mut kept_rows = 0usize;
    while let Some(batch) = stream.next().await {
        let batch = batch?;
        let n = batch.num_rows();
        counts.total += n as u64;
        let mut any = vec![false; n];
        for (i, rule) in rules.iter().enumerate() {
            let failing = failing_rows(&batch, i, rule)?;
            let mut count = 0u64;
            for (j, f) in failing.iter().enumerate() {
                if *f {
                    count += 1;
                    if let Some(a) = any.get_mut(j) {
                        *a = true;
                    }
                }
            }
            if let Some(c) = counts.per_rule.get_mut(i) {
                *c += count;
            }
        }
        let any = BooleanArray::from(any);
        counts.failed += any.true_count() as u64;
        if kept_rows < MAX_SAMPLES && any.true_count() > 0 {
            let shown = batch.project(&(0..plan.shown.len()).collect::<Vec<_>>())?;
            let failing = filter_record_batch(&shown, &any)?;
            let take = failing.num_rows().min(MAX_SAMPLES - kept_rows);
            kept.push(failing.slice(0, take));
            kept_rows += take;
        }
    }
    counts.samples = batches_to_json(&kept)?;
    Ok(counts)
}

/// Which rows of `batch` fail rule `i`.
fn failing_rows(batch: &RecordBatch, i: usize, rule: &Rule) -> Result<Vec<bool>> {
    match &rule.kind {
        RuleKind::Sql(_) => {
            let name = format!("_phlo_rule_{i}");
            let flags = batch
                .column_by_name(&name)
                .and_then(|c| c.as_boolean_opt())
                .ok_or_else(|| internal(format!("flag column `{name}` is missing")))?;
            Ok((0..flags.len())
                .map(|j| flags.is_valid(j) && flags.value(j))
                .collect())
        }
        RuleKind::Custom(f, data_type) => {
            let column: &ArrayRef = batch.column_by_name(&rule.column).ok_or_else(|| {
                internal(format!(
                    "column `{}` is missing from the stream",
                    rule.column
                ))
            })?;
            let column = cast(column, data_type)?;
            let custom = |reason: String| Error::Custom(format!("`{}`: {reason}", rule.name));
            let valid = f(&column).map_err(|e| custom(e.to_string()))?;
            if valid.len() != column.len() {
                return Err(custom(format!(
                    "returned a mask of {} values for {} rows",
                    valid.len(),
                    column.len()
                )));
            }
            Ok((0..column.len())
                .map(|j| column.is_valid(j) && !(valid.is_valid(j) && valid.value(j)))
                .collect())
        }
    }
}
