use super::*;
use crate::checks::test_support::*;

fn with_ids(ids: &[Option<i64>]) -> Vec<Row> {
    ids.iter()
        .enumerate()
        .map(|(i, id)| Row {
            id: *id,
            value: Some(i as f64),
            ..row(0)
        })
        .collect()
}

#[tokio::test]
async fn passes_when_unique() {
    let r = run_one(UniqueCheck::new(["id"]), &scope_with(&rows(5))).await;
    assert!(r.passed, "{r:?}");
    assert_eq!((r.failed_count, r.total_count), (0, 5));
}

#[tokio::test]
async fn counts_every_row_of_a_duplicated_key() {
    let scope = scope_with(&with_ids(&[
        Some(1),
        Some(1),
        Some(1),
        Some(2),
        Some(2),
        Some(3),
        None,
        None,
    ]));
    let r = run_one(UniqueCheck::new(["id"]), &scope).await;
    assert!(!r.passed);
    assert_eq!((r.failed_count, r.total_count), (5, 8));
    assert_eq!(
        r.samples,
        vec![
            serde_json::json!({ "id": 1, "count": 3 }),
            serde_json::json!({ "id": 2, "count": 2 }),
        ]
    );
    let message = r.message.unwrap_or_default();
    assert!(
        message.contains("2 duplicated keys of (id) cover 5 of 8 rows"),
        "{message}"
    );
    assert_eq!(count_rows(&scope, &r.repro_sql).await, 5);
}

#[tokio::test]
async fn composite_keys() {
    let mut data = with_ids(&[Some(1), Some(1), Some(2)]);
    data[1].category = Some("b");
    data[2].category = Some("b");
    let scope = scope_with(&data);
    let r = run_one(UniqueCheck::new(["id", "category"]), &scope).await;
    assert!(r.passed, "{r:?}");
    data[0].category = Some("b");
    let scope = scope_with(&data);
    let r = run_one(UniqueCheck::new(["id", "category"]), &scope).await;
    assert_eq!((r.failed_count, r.total_count), (2, 3));
    assert_eq!(r.name, "unique_check(id,category)");
    assert_eq!(
        r.samples,
        vec![serde_json::json!({ "id": 1, "category": "b", "count": 2 })]
    );
}

#[tokio::test]
async fn exactly_at_the_threshold_passes() {
    let scope = scope_with(&with_ids(&[Some(1), Some(1), Some(2), Some(3)]));
    let at = run_one(UniqueCheck::new(["id"]).allow_threshold(0.5), &scope).await;
    assert!(at.passed, "{at:?}");
    let below = run_one(UniqueCheck::new(["id"]).allow_threshold(0.49), &scope).await;
    assert!(!below.passed);
}

#[tokio::test]
async fn empty_scope_and_all_null_keys_pass() {
    let r = run_one(UniqueCheck::new(["id"]), &scope_with(&[])).await;
    assert!(r.passed);
    assert_eq!((r.failed_count, r.total_count), (0, 0));
    let r = run_one(
        UniqueCheck::new(["id"]),
        &scope_with(&with_ids(&[None, None])),
    )
    .await;
    assert!(r.passed);
    assert_eq!((r.failed_count, r.total_count), (0, 2));
}

#[tokio::test]
async fn missing_column_is_a_failed_result() {
    let r = run_one(UniqueCheck::new(["nope"]), &scope_with(&rows(2))).await;
    assert_missing_column(&r, "nope");
}

#[tokio::test]
async fn samples_are_bounded_at_full_failure() {
    let ids: Vec<Option<i64>> = (0..100).map(|i| Some(i / 2)).collect();
    let r = run_one(UniqueCheck::new(["id"]), &scope_with(&with_ids(&ids))).await;
    assert_eq!((r.failed_count, r.total_count), (100, 100));
    assert_eq!(r.samples.len(), crate::checks::MAX_SAMPLES);
    assert!(
        r.message
            .unwrap_or_default()
            .starts_with("50 duplicated keys")
    );
}
