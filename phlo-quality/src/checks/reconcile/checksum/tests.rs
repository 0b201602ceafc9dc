use super::*;
use crate::checks::reconcile::test_support::*;
use crate::checks::test_support::*;

fn check() -> ChecksumReconciliationCheck {
    ChecksumReconciliationCheck::new("silver.events", ["id"])
}

#[tokio::test]
async fn passes_on_identical_rows() {
    let r = run_one(check(), &events_pair(&rows(5), &rows(5))).await;
    assert!(r.passed, "{r:?}");
    assert_eq!((r.failed_count, r.total_count), (0, 5));
}

#[tokio::test]
async fn fails_changed_and_missing_keys() {
    let mine = rows(4);
    let mut theirs = rows(3);
    theirs[1].value = Some(42.0);
    theirs[2].email = None;
    theirs.push(row(7));
    let scope = events_pair(&mine, &theirs);
    let r = run_one(check(), &scope).await;
    assert!(!r.passed);
    assert_eq!((r.failed_count, r.total_count), (4, 5));
    assert_eq!(
        r.samples,
        vec![
            serde_json::json!({ "id": 1, "problem": "different values" }),
            serde_json::json!({ "id": 2, "problem": "different values" }),
            serde_json::json!({ "id": 3, "problem": "missing from silver.events" }),
            serde_json::json!({ "id": 7, "problem": "missing from bronze.events" }),
        ]
    );
    assert_eq!(
        r.message.as_deref(),
        Some(
            "4 of 5 keys differ over (ts, value, category, email): 1 missing from \
             silver.events (same scope), 1 missing from bronze.events, 2 with different values"
        )
    );
    assert_eq!(count_rows(&scope, &r.repro_sql).await, 4);
    // Restricted to the columns named, only `value` differs.
    let value_only = run_one(check().columns(["value"]), &scope).await;
    assert_eq!(value_only.failed_count, 3);
}

#[tokio::test]
async fn metadata_columns_are_never_compared() {
    let mine = rows(2);
    let theirs: Vec<Row> = rows(2)
        .into_iter()
        .map(|r| Row {
            date: other_day(),
            ..r
        })
        .collect();
    // Unpartitioned comparison would see different `_phlo_partition_date`s; it is skipped.
    let scope = events_pair(&mine, &theirs);
    let full = crate::CheckScope::new(
        scope.ctx().clone(),
        "bronze.events",
        crate::ScopeWindow::Full,
        "_phlo_partition_date",
        now(),
        vec![],
    );
    let r = run_one(check(), &full).await;
    assert!(r.passed, "{r:?}");
    let named = run_one(check().columns(["_phlo_partition_date"]), &full).await;
    assert!(
        named
            .message
            .unwrap_or_default()
            .contains("`_phlo_partition_date` is a phlo metadata column")
    );
}

#[tokio::test]
async fn null_differs_from_empty_and_boundaries_are_kept() {
    let mut mine = rows(2);
    let mut theirs = rows(2);
    mine[0].email = None;
    theirs[0].email = Some("");
    // ("ab", "c") vs ("a", "bc") must not collide.
    mine[1].category = Some("ab");
    mine[1].email = Some("c");
    theirs[1].category = Some("a");
    theirs[1].email = Some("bc");
    let r = run_one(
        check().columns(["category", "email"]),
        &events_pair(&mine, &theirs),
    )
    .await;
    assert_eq!((r.failed_count, r.total_count), (2, 2), "{r:?}");
}

#[tokio::test]
async fn exactly_at_the_threshold_passes() {
    let mut theirs = rows(4);
    theirs[0].value = Some(-1.0);
    let scope = events_pair(&rows(4), &theirs);
    let at = run_one(check().allow_threshold(0.25), &scope).await;
    assert!(at.passed, "{at:?}");
    let below = run_one(check().allow_threshold(0.24), &scope).await;
    assert!(!below.passed);
}

#[tokio::test]
async fn empty_scope_and_all_null_columns() {
    let r = run_one(check(), &events_pair(&[], &[])).await;
    assert!(r.passed);
    assert_eq!((r.failed_count, r.total_count), (0, 0));
    let nulls: Vec<Row> = rows(3)
        .into_iter()
        .map(|r| Row { value: None, ..r })
        .collect();
    let same = run_one(check().columns(["value"]), &events_pair(&nulls, &nulls)).await;
    assert!(same.passed, "{same:?}");
    let differ = run_one(check().columns(["value"]), &events_pair(&nulls, &rows(3))).await;
    assert_eq!(differ.failed_count, 3);
}

#[tokio::test]
async fn missing_columns_are_failed_results() {
    let scope = events_pair(&rows(1), &rows(1));
    assert_missing_column(&run_one(check().columns(["nope"]), &scope).await, "nope");
    let lookup = with_totals(&rows(1), &[]);
    let r = run_one(
        ChecksumReconciliationCheck::new("silver.lookup", ["category"]),
        &lookup,
    )
    .await;
    // Shared columns besides the key: `total`? no — only `category` is shared, and it is the key.
    assert!(
        r.message
            .unwrap_or_default()
            .contains("share no column to compare")
    );
    let r = run_one(
        ChecksumReconciliationCheck::new("silver.lookup", ["id"]).columns(["value"]),
        &lookup,
    )
    .await;
    assert!(
        r.message
            .unwrap_or_default()
            .contains("does not exist in `silver.lookup`")
    );
}

#[tokio::test]
async fn samples_are_bounded_at_full_failure() {
    let theirs: Vec<Row> = rows(100)
        .into_iter()
        .map(|r| Row {
            value: Some(-1.0),
            ..r
        })
        .collect();
    let r = run_one(check(), &events_pair(&rows(100), &theirs)).await;
    assert_eq!((r.failed_count, r.total_count), (100, 100));
    assert_eq!(r.samples.len(), crate::checks::MAX_SAMPLES);
}
