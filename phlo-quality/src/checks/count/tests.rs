use super::*;
use crate::checks::test_support::*;

#[tokio::test]
async fn passes_within_bounds() {
    let r = run_one(
        CountCheck::new().min_rows(3).max_rows(3),
        &scope_with(&rows(3)),
    )
    .await;
    assert!(r.passed, "{r:?}");
    assert_eq!((r.failed_count, r.total_count), (0, 1));
    assert_eq!(r.message.as_deref(), Some("3 rows"));
    assert_eq!(r.name, "count_check");
}

#[tokio::test]
async fn fails_outside_bounds() {
    let scope = scope_with(&rows(5));
    let few = run_one(CountCheck::new().min_rows(6), &scope).await;
    assert!(!few.passed);
    assert_eq!((few.failed_count, few.total_count), (1, 1));
    assert_eq!(
        few.message.as_deref(),
        Some("5 rows; expected at least 6 rows")
    );
    let many = run_one(CountCheck::new().max_rows(4), &scope).await;
    assert!(!many.passed);
    assert_eq!(
        many.message.as_deref(),
        Some("5 rows; expected between 1 and 4 rows")
    );
    assert_eq!(count_rows(&scope, &many.repro_sql).await, 1);
}

#[tokio::test]
async fn threshold_applies_to_the_single_unit() {
    let scope = scope_with(&rows(5));
    // 1 failed of 1: only a threshold of 1.0 lets it pass (exactly at the threshold).
    let at = run_one(CountCheck::new().min_rows(6).allow_threshold(1.0), &scope).await;
    assert!(at.passed, "{at:?}");
    let below = run_one(CountCheck::new().min_rows(6).allow_threshold(0.99), &scope).await;
    assert!(!below.passed);
}

#[tokio::test]
async fn empty_scope_fails_whatever_the_threshold() {
    let scope = scope_with(&[Row {
        date: other_day(),
        ..row(1)
    }]);
    let r = run_one(CountCheck::new().allow_threshold(1.0), &scope).await;
    assert!(!r.passed);
    assert_eq!((r.failed_count, r.total_count), (1, 1));
    assert_eq!(
        r.message.as_deref(),
        Some("the scope is empty; expected at least 1 rows")
    );
    let allowed = run_one(CountCheck::new().min_rows(0), &scope).await;
    assert!(allowed.passed);
}

#[tokio::test]
async fn all_null_rows_still_count() {
    let data: Vec<Row> = rows(2)
        .into_iter()
        .map(|r| Row {
            id: None,
            ts: None,
            value: None,
            category: None,
            email: None,
            ..r
        })
        .collect();
    let r = run_one(CountCheck::new().min_rows(2), &scope_with(&data)).await;
    assert!(r.passed);
}

#[tokio::test]
async fn bad_bounds_and_missing_table_are_failed_results() {
    let r = run_one(
        CountCheck::new().min_rows(5).max_rows(1),
        &scope_with(&rows(1)),
    )
    .await;
    assert!(!r.passed);
    assert!(
        r.message
            .unwrap_or_default()
            .contains("max_rows 1 is less than min_rows 5")
    );
    let ctx = datafusion::prelude::SessionContext::new();
    let r = run_one(CountCheck::new(), &scope(ctx)).await;
    assert!(!r.passed);
    assert!(r.message.unwrap_or_default().contains("query failed"));
    assert!(r.samples.is_empty());
}
