use super::*;
use crate::checks::test_support::*;

fn with_values(values: &[Option<f64>]) -> Vec<Row> {
    values
        .iter()
        .enumerate()
        .map(|(i, v)| Row {
            value: *v,
            ..row(i as i64)
        })
        .collect()
}

#[tokio::test]
async fn passes_within_inclusive_bounds() {
    let scope = scope_with(&with_values(&[Some(0.0), Some(50.0), Some(100.0), None]));
    let r = run_one(RangeCheck::new("value").min(0.0).max(100.0), &scope).await;
    assert!(r.passed, "{r:?}");
    assert_eq!((r.failed_count, r.total_count), (0, 3));
}

#[tokio::test]
async fn fails_values_outside_and_nan() {
    let scope = scope_with(&with_values(&[
        Some(-1.0),
        Some(5.0),
        Some(101.0),
        Some(f64::NAN),
        None,
    ]));
    let r = run_one(RangeCheck::new("value").min(0.0).max(100.0), &scope).await;
    assert!(!r.passed);
    assert_eq!((r.failed_count, r.total_count), (3, 4));
    assert_eq!(r.samples[0], serde_json::json!({ "id": 0, "value": -1.0 }));
    assert_eq!(count_rows(&scope, &r.repro_sql).await, 3);
    let message = r.message.unwrap_or_default();
    assert!(
        message.contains("3 of 4 non-null values of value are outside [0, 100]"),
        "{message}"
    );
}

#[tokio::test]
async fn one_sided_bounds() {
    let scope = scope_with(&with_values(&[Some(-1.0), Some(5.0), Some(1e9)]));
    let min_only = run_one(RangeCheck::new("value").min(0.0), &scope).await;
    assert_eq!(min_only.failed_count, 1);
    let max_only = run_one(RangeCheck::new("value").max(10.0), &scope).await;
    assert_eq!(max_only.failed_count, 1);
    // Integer columns compare against float bounds.
    let ids = run_one(RangeCheck::new("id").max(1.0), &scope).await;
    assert_eq!((ids.failed_count, ids.total_count), (1, 3));
}

#[tokio::test]
async fn exactly_at_the_threshold_passes() {
    let scope = scope_with(&with_values(&[Some(-1.0), Some(1.0), Some(2.0), Some(3.0)]));
    let at = run_one(
        RangeCheck::new("value").min(0.0).allow_threshold(0.25),
        &scope,
    )
    .await;
    assert!(at.passed, "{at:?}");
    let below = run_one(
        RangeCheck::new("value").min(0.0).allow_threshold(0.24),
        &scope,
    )
    .await;
    assert!(!below.passed);
}

#[tokio::test]
async fn empty_scope_and_all_null_pass_with_total_zero() {
    let empty = scope_with(&[]);
    let r = run_one(RangeCheck::new("value").min(0.0), &empty).await;
    assert!(r.passed);
    assert_eq!((r.failed_count, r.total_count), (0, 0));
    let nulls = scope_with(&with_values(&[None, None]));
    let r = run_one(RangeCheck::new("value").min(0.0), &nulls).await;
    assert!(r.passed);
    assert_eq!((r.failed_count, r.total_count), (0, 0));
    assert_eq!(r.message.as_deref(), Some("no non-null `value` in scope"));
}

#[tokio::test]
async fn missing_column_and_bad_config() {
    let scope = scope_with(&rows(2));
    assert_missing_column(
        &run_one(RangeCheck::new("nope").min(0.0), &scope).await,
        "nope",
    );
    let no_bounds = run_one(RangeCheck::new("value"), &scope).await;
    assert!(
        no_bounds
            .message
            .unwrap_or_default()
            .contains("set `min`, `max` or both")
    );
    let inverted = run_one(RangeCheck::new("value").min(2.0).max(1.0), &scope).await;
    assert!(!inverted.passed);
    let text = run_one(RangeCheck::new("category").min(0.0), &scope).await;
    assert!(text.message.unwrap_or_default().contains("not a number"));
    let inf = run_one(RangeCheck::new("value").min(f64::NEG_INFINITY), &scope).await;
    assert!(
        inf.message
            .unwrap_or_default()
            .contains("not a finite number")
    );
}

#[tokio::test]
async fn samples_are_bounded_at_full_failure() {
    let values: Vec<Option<f64>> = (0..100).map(|_| Some(-5.0)).collect();
    let r = run_one(
        RangeCheck::new("value").min(0.0),
        &scope_with(&with_values(&values)),
    )
    .await;
    assert_eq!((r.failed_count, r.total_count), (100, 100));
    assert_eq!(r.samples.len(), crate::checks::MAX_SAMPLES);
}

#[tokio::test]
async fn two_range_checks_keep_separate_results() {
    let scope = scope_with(&with_values(&[Some(-1.0), Some(5.0)]));
    let report = run(
        vec![
            Box::new(RangeCheck::new("value").min(0.0)),
            Box::new(RangeCheck::new("id").max(0.0)),
            Box::new(RangeCheck::new("value").max(1.0)),
        ],
        &scope,
    )
    .await;
    let names: Vec<&str> = report.results.iter().map(|r| r.name.as_str()).collect();
    assert_eq!(
        names,
        [
            "range_check(value)",
            "range_check(id)",
            "range_check(value)#2"
        ]
    );
    let failed: Vec<u64> = report.results.iter().map(|r| r.failed_count).collect();
    assert_eq!(failed, [1, 1, 1]);
    assert_eq!(
        report.results[0].samples[0]["value"],
        serde_json::json!(-1.0)
    );
    assert_eq!(
        report.results[2].samples[0]["value"],
        serde_json::json!(5.0)
    );
}
