use super::*;
use crate::checks::reconcile::test_support::*;
use crate::checks::test_support::*;

fn ids(ids: &[Option<i64>]) -> Vec<Row> {
    ids.iter().map(|id| Row { id: *id, ..row(0) }).collect()
}

#[tokio::test]
async fn passes_when_keys_match() {
    // Duplicates on one side do not matter: keys are compared as sets.
    let scope = events_pair(
        &ids(&[Some(1), Some(2), Some(2)]),
        &ids(&[Some(2), Some(1)]),
    );
    let r = run_one(KeyParityCheck::new("silver.events", ["id"]), &scope).await;
    assert!(r.passed, "{r:?}");
    assert_eq!((r.failed_count, r.total_count), (0, 2));
}

#[tokio::test]
async fn fails_keys_missing_in_either_direction() {
    let scope = events_pair(
        &ids(&[Some(1), Some(2), Some(3)]),
        &ids(&[Some(2), Some(4)]),
    );
    let r = run_one(KeyParityCheck::new("silver.events", ["id"]), &scope).await;
    assert!(!r.passed);
    assert_eq!((r.failed_count, r.total_count), (3, 4));
    assert_eq!(
        r.samples,
        vec![
            serde_json::json!({ "id": 1, "missing_from": "silver.events" }),
            serde_json::json!({ "id": 3, "missing_from": "silver.events" }),
            serde_json::json!({ "id": 4, "missing_from": "bronze.events" }),
        ]
    );
    assert_eq!(
        r.message.as_deref(),
        Some(
            "3 of 4 keys are on one side only: 2 missing from silver.events (same scope), \
             1 missing from bronze.events"
        )
    );
    assert_eq!(count_rows(&scope, &r.repro_sql).await, 3);
}

#[tokio::test]
async fn composite_keys_and_scoping() {
    let mut mine = ids(&[Some(1), Some(1)]);
    mine[1].category = Some("b");
    let mut theirs = mine.clone();
    theirs.push(Row {
        date: other_day(),
        ..row(9)
    }); // outside the scope
    let scope = events_pair(&mine, &theirs);
    let r = run_one(
        KeyParityCheck::new("silver.events", ["id", "category"]),
        &scope,
    )
    .await;
    assert!(r.passed, "{r:?}");
    assert_eq!(r.total_count, 2);
    theirs[1].category = Some("c");
    let scope = events_pair(&mine, &theirs);
    let r = run_one(
        KeyParityCheck::new("silver.events", ["id", "category"]),
        &scope,
    )
    .await;
    assert_eq!((r.failed_count, r.total_count), (2, 3));
}

#[tokio::test]
async fn exactly_at_the_threshold_passes() {
    let scope = events_pair(
        &ids(&[Some(1), Some(2), Some(3), Some(4)]),
        &ids(&[Some(1), Some(2), Some(3)]),
    );
    let at = run_one(
        KeyParityCheck::new("silver.events", ["id"]).allow_threshold(0.25),
        &scope,
    )
    .await;
    assert!(at.passed, "{at:?}");
    let below = run_one(
        KeyParityCheck::new("silver.events", ["id"]).allow_threshold(0.24),
        &scope,
    )
    .await;
    assert!(!below.passed);
}

#[tokio::test]
async fn empty_scope_and_null_keys() {
    let r = run_one(
        KeyParityCheck::new("silver.events", ["id"]),
        &events_pair(&[], &[]),
    )
    .await;
    assert!(r.passed);
    assert_eq!((r.failed_count, r.total_count), (0, 0));
    let r = run_one(
        KeyParityCheck::new("silver.events", ["id"]),
        &events_pair(&ids(&[None]), &[]),
    )
    .await;
    assert!(r.passed, "null keys are ignored: {r:?}");
    assert_eq!(r.total_count, 0);
}

#[tokio::test]
async fn missing_columns_are_failed_results() {
    let scope = events_pair(&rows(1), &rows(1));
    assert_missing_column(
        &run_one(KeyParityCheck::new("silver.events", ["nope"]), &scope).await,
        "nope",
    );
    let lookup = with_totals(&rows(1), &[]);
    let r = run_one(KeyParityCheck::new("silver.lookup", ["id"]), &lookup).await;
    assert!(
        r.message
            .unwrap_or_default()
            .contains("column `id` does not exist in `silver.lookup`")
    );
    let none = run_one(
        KeyParityCheck::new("silver.events", Vec::<String>::new()),
        &scope,
    )
    .await;
    assert!(
        none.message
            .unwrap_or_default()
            .contains("at least one key column")
    );
}

#[tokio::test]
async fn samples_are_bounded_at_full_failure() {
    let r = run_one(
        KeyParityCheck::new("silver.events", ["id"]),
        &events_pair(&rows(100), &[]),
    )
    .await;
    assert_eq!((r.failed_count, r.total_count), (100, 100));
    assert_eq!(r.samples.len(), crate::checks::MAX_SAMPLES);
}
