//! Reconciliation fixtures: `bronze.events` and other tables beside it.

use std::sync::Arc;

use arrow::array::{ArrayRef, Date32Array, Float64Array, Int64Array, RecordBatch, StringArray};
use arrow::datatypes::{DataType, Date32Type, Field, Schema};
use datafusion::prelude::SessionContext;

use crate::CheckScope;
use crate::checks::test_support::{Row, day, events, register, scope};

/// A scope over `bronze.events` = `checked`, with `silver.events` = `other`.
pub(crate) fn events_pair(checked: &[Row], other: &[Row]) -> CheckScope {
    let ctx = SessionContext::new();
    register(&ctx, "bronze.events", events(checked));
    register(&ctx, "silver.events", events(other));
    scope(ctx)
}

/// `silver.daily_totals(category, total, n)` in partition [`day`], plus an unpartitioned
/// `silver.lookup(category, total)` with the same rows.
pub(crate) fn with_totals(checked: &[Row], totals: &[(&'static str, f64, i64)]) -> CheckScope {
    let ctx = SessionContext::new();
    register(&ctx, "bronze.events", events(checked));
    let category: ArrayRef = Arc::new(totals.iter().map(|t| Some(t.0)).collect::<StringArray>());
    let total: ArrayRef = Arc::new(totals.iter().map(|t| Some(t.1)).collect::<Float64Array>());
    let n: ArrayRef = Arc::new(totals.iter().map(|t| Some(t.2)).collect::<Int64Array>());
    let date: ArrayRef = Arc::new(Date32Array::from(vec![
        Date32Type::from_naive_date(day());
        totals.len()
    ]));
    let schema = Arc::new(Schema::new(vec![
        Field::new("category", DataType::Utf8, true),
        Field::new("total", DataType::Float64, true),
        Field::new("n", DataType::Int64, true),
        Field::new("_phlo_partition_date", DataType::Date32, true),
    ]));
    let batch = RecordBatch::try_new(schema, vec![category.clone(), total.clone(), n, date])
        .unwrap_or_else(|e| panic!("{e}"));
    register(&ctx, "silver.daily_totals", batch);
    let lookup = RecordBatch::try_new(
        Arc::new(Schema::new(vec![
            Field::new("category", DataType::Utf8, true),
            Field::new("total", DataType::Float64, true),
        ])),
        vec![category, total],
    )
    .unwrap_or_else(|e| panic!("{e}"));
    register(&ctx, "silver.lookup", lookup);
    scope(ctx)
}
