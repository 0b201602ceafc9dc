use super::*;
use crate::checks::test_support::*;

#[tokio::test]
async fn passes_without_nulls() {
    let scope = scope_with(&rows(5));
    let r = run_one(NullCheck::new(["id", "ts"]), &scope).await;
    assert!(r.passed, "{r:?}");
    assert_eq!((r.failed_count, r.total_count), (0, 5));
    assert_eq!(r.name, "null_check(id,ts)");
    assert!(r.samples.is_empty());
}

#[tokio::test]
async fn fails_rows_with_a_null_in_any_column() {
    let mut data = rows(10);
    data[2].id = None;
    data[5].ts = None;
    data[7].id = None;
    data[7].ts = None;
    // Outside the scope: not counted.
    data.push(Row {
        id: None,
        date: other_day(),
        ..row(99)
    });
    let scope = scope_with(&data);
    let r = run_one(NullCheck::new(["id", "ts"]), &scope).await;
    assert!(!r.passed);
    assert_eq!((r.failed_count, r.total_count), (3, 10));
    assert_eq!(r.samples.len(), 3);
    assert_eq!(r.samples[0], serde_json::json!({ "id": 5, "ts": null }));
    assert_eq!(r.samples[1]["id"], serde_json::Value::Null);
    assert_eq!(count_rows(&scope, &r.repro_sql).await, 3);
    assert!(r.message.unwrap_or_default().contains("3 of 10 rows"));
}

#[tokio::test]
async fn exactly_at_the_threshold_passes() {
    let mut data = rows(10);
    data[0].id = None;
    data[1].id = None;
    let scope = scope_with(&data);
    let at = run_one(NullCheck::new(["id"]).allow_threshold(0.2), &scope).await;
    assert!(at.passed, "{at:?}");
    let below = run_one(NullCheck::new(["id"]).allow_threshold(0.19), &scope).await;
    assert!(!below.passed);
}

#[tokio::test]
async fn empty_scope_passes_with_total_zero() {
    let scope = scope_with(&[Row {
        date: other_day(),
        ..row(1)
    }]);
    let r = run_one(NullCheck::new(["id"]), &scope).await;
    assert!(r.passed);
    assert_eq!((r.failed_count, r.total_count), (0, 0));
    assert_eq!(r.message.as_deref(), Some("the scope is empty"));
}

#[tokio::test]
async fn all_null_column_fails_every_row() {
    let data: Vec<Row> = rows(4).into_iter().map(|r| Row { ts: None, ..r }).collect();
    let r = run_one(NullCheck::new(["ts"]), &scope_with(&data)).await;
    assert!(!r.passed);
    assert_eq!((r.failed_count, r.total_count), (4, 4));
}

#[tokio::test]
async fn missing_column_is_a_failed_result() {
    let r = run_one(NullCheck::new(["id", "nope"]), &scope_with(&rows(3))).await;
    assert_missing_column(&r, "nope");
}

#[tokio::test]
async fn no_columns_is_a_config_error() {
    let r = run_one(NullCheck::new(Vec::<String>::new()), &scope_with(&rows(3))).await;
    assert!(!r.passed);
    assert!(r.message.unwrap_or_default().contains("misconfigured"));
}

#[tokio::test]
async fn samples_are_bounded_at_full_failure() {
    let data: Vec<Row> = rows(100)
        .into_iter()
        .map(|r| Row { ts: None, ..r })
        .collect();
    let r = run_one(NullCheck::new(["ts"]), &scope_with(&data)).await;
    assert_eq!((r.failed_count, r.total_count), (100, 100));
    assert_eq!(r.samples.len(), crate::checks::MAX_SAMPLES);
}

#[tokio::test]
async fn warn_and_error_set_the_severity() {
    let c = NullCheck::new(["id"]).warn();
    assert_eq!(c.severity(), Severity::Warn);
    assert_eq!(c.error().severity(), Severity::Error);
    assert_eq!(NullCheck::new(["id"]).columns(), vec!["id".to_string()]);
}
