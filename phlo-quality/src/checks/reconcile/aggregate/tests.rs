use super::*;
use crate::checks::reconcile::test_support::*;
use crate::checks::test_support::*;

/// ids 0..4: categories a, a, b, b with values 0, 1, 2, 3 → a = 1, b = 5.
fn source() -> Vec<Row> {
    let mut data = rows(4);
    data[2].category = Some("b");
    data[3].category = Some("b");
    data
}

fn by_category() -> AggregateConsistencyCheck {
    AggregateConsistencyCheck::new("silver.daily_totals")
        .group_by(["category"])
        .sum("value")
        .other_column("total")
}

#[tokio::test]
async fn passes_when_every_group_matches() {
    let scope = with_totals(&source(), &[("a", 1.0, 2), ("b", 5.0, 2)]);
    let r = run_one(by_category(), &scope).await;
    assert!(r.passed, "{r:?}");
    assert_eq!((r.failed_count, r.total_count), (0, 2));
    // Counts against a pre-aggregated count column.
    let counts = AggregateConsistencyCheck::new("silver.daily_totals")
        .group_by(["category"])
        .other_column("n");
    let r = run_one(counts, &scope).await;
    assert!(r.passed, "{r:?}");
}

#[tokio::test]
async fn fails_different_and_missing_groups() {
    let scope = with_totals(&source(), &[("a", 1.5, 2), ("c", 7.0, 1)]);
    let r = run_one(by_category(), &scope).await;
    assert!(!r.passed);
    assert_eq!((r.failed_count, r.total_count), (3, 3));
    assert_eq!(
        r.message.as_deref(),
        Some(
            "3 of 3 groups differ in sum(value): 1 only in bronze.events, 1 only in \
             silver.daily_totals (same scope), 1 with different values"
        )
    );
    assert_eq!(
        r.samples,
        vec![
            serde_json::json!({ "category": "a", "checked_value": 1.0, "other_value": 1.5,
                                "missing_from": null }),
            serde_json::json!({ "category": "b", "checked_value": 5.0, "other_value": null,
                                "missing_from": "silver.daily_totals" }),
            serde_json::json!({ "category": "c", "checked_value": null, "other_value": 7.0,
                                "missing_from": "bronze.events" }),
        ]
    );
    assert_eq!(count_rows(&scope, &r.repro_sql).await, 3);
}

#[tokio::test]
async fn tolerance_and_threshold_edges() {
    let scope = with_totals(&source(), &[("a", 1.1, 2), ("b", 5.0, 2)]);
    let abs = run_one(by_category().tolerance_abs(0.2), &scope).await;
    assert!(abs.passed, "{abs:?}");
    let rel = run_one(by_category().tolerance_rel(0.2), &scope).await;
    assert!(rel.passed, "{rel:?}");
    let strict = run_one(by_category(), &scope).await;
    assert_eq!((strict.failed_count, strict.total_count), (1, 2));
    let at = run_one(by_category().allow_threshold(0.5), &scope).await;
    assert!(at.passed, "{at:?}");
    let below = run_one(by_category().allow_threshold(0.49), &scope).await;
    assert!(!below.passed);
}

#[tokio::test]
async fn without_groups_the_whole_scope_is_one_group() {
    let scope = with_totals(&source(), &[("a", 1.0, 2), ("b", 5.0, 2)]);
    let total = AggregateConsistencyCheck::new("silver.daily_totals")
        .sum("value")
        .other_column("total");
    let r = run_one(total, &scope).await;
    assert!(r.passed, "{r:?}");
    assert_eq!(r.total_count, 1);
    let lookup = AggregateConsistencyCheck::new("silver.lookup")
        .sum("value")
        .other_column("total");
    let r = run_one(lookup, &scope).await;
    assert!(r.passed, "{r:?}");
}

#[tokio::test]
async fn empty_scope() {
    let scope = with_totals(&[], &[]);
    let r = run_one(by_category(), &scope).await;
    assert!(r.passed, "{r:?}");
    assert_eq!((r.failed_count, r.total_count), (0, 0));
    let global = AggregateConsistencyCheck::new("silver.daily_totals")
        .sum("value")
        .other_column("total");
    let r = run_one(global, &scope).await;
    assert!(r.passed, "{r:?}");
    assert_eq!((r.failed_count, r.total_count), (0, 1));
    // An empty checked side against a non-empty other fails its groups.
    let r = run_one(by_category(), &with_totals(&[], &[("a", 1.0, 1)])).await;
    assert_eq!((r.failed_count, r.total_count), (1, 1));
}

#[tokio::test]
async fn null_values_and_null_groups() {
    let mut data = source();
    for r in &mut data {
        r.value = None;
    }
    data[0].category = None;
    // Sums of nulls are null on one side, numbers on the other: they differ.
    let scope = with_totals(&data, &[("a", 1.0, 2), ("b", 5.0, 2)]);
    let r = run_one(by_category(), &scope).await;
    assert_eq!((r.failed_count, r.total_count), (3, 3), "{r:?}");
}

#[tokio::test]
async fn missing_columns_are_failed_results() {
    let scope = with_totals(&source(), &[("a", 1.0, 2)]);
    assert_missing_column(&run_one(by_category().sum("nope"), &scope).await, "nope");
    let r = run_one(by_category().other_column("nope"), &scope).await;
    assert!(!r.passed);
    assert!(
        r.message
            .unwrap_or_default()
            .contains("column `nope` does not exist in `silver.daily_totals`")
    );
}

#[tokio::test]
async fn samples_are_bounded_at_full_failure() {
    let scope = events_pair(&rows(100), &[]);
    let check = AggregateConsistencyCheck::new("silver.events")
        .group_by(["id"])
        .sum("value");
    let r = run_one(check, &scope).await;
    assert_eq!((r.failed_count, r.total_count), (100, 100));
    assert_eq!(r.samples.len(), crate::checks::MAX_SAMPLES);
    assert_eq!(r.samples[0]["id"], serde_json::json!(0));
}
