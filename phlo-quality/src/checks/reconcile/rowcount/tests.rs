use super::*;
use crate::checks::reconcile::test_support::*;
use crate::checks::test_support::*;

fn outside(n: i64) -> Vec<Row> {
    (0..n)
        .map(|i| Row {
            date: other_day(),
            ..row(100 + i)
        })
        .collect()
}

#[tokio::test]
async fn parity_passes_on_equal_counts_in_the_same_scope() {
    let mut other = rows(5);
    other.extend(outside(3)); // other partitions of silver.events are not compared
    let scope = events_pair(&rows(5), &other);
    let r = run_one(ReconciliationCheck::new("silver.events"), &scope).await;
    assert!(r.passed, "{r:?}");
    assert_eq!(r.name, "reconciliation_check(silver.events)");
    assert_eq!((r.failed_count, r.total_count), (0, 5));
    assert_eq!(
        r.message.as_deref(),
        Some(
            "bronze.events has 5 rows in scope, silver.events has 5 (same scope): \
             a difference of 0, 0 allowed"
        )
    );
    assert_eq!(count_rows(&scope, &r.repro_sql).await, 1);
}

#[tokio::test]
async fn parity_fails_on_a_difference_either_way() {
    let more = run_one(
        ReconciliationCheck::new("silver.events"),
        &events_pair(&rows(6), &rows(5)),
    )
    .await;
    assert!(!more.passed);
    assert_eq!((more.failed_count, more.total_count), (1, 5));
    let fewer = run_one(
        ReconciliationCheck::new("silver.events"),
        &events_pair(&rows(4), &rows(5)),
    )
    .await;
    assert!(!fewer.passed);
}

#[tokio::test]
async fn gte_allows_more_rows_only() {
    let more = run_one(
        ReconciliationCheck::new("silver.events").rowcount_gte(),
        &events_pair(&rows(6), &rows(5)),
    )
    .await;
    assert!(more.passed, "{more:?}");
    assert_eq!(more.failed_count, 0);
    let fewer = run_one(
        ReconciliationCheck::new("silver.events").rowcount_gte(),
        &events_pair(&rows(3), &rows(5)),
    )
    .await;
    assert!(!fewer.passed);
    assert_eq!(fewer.failed_count, 2);
    assert!(
        fewer
            .message
            .unwrap_or_default()
            .contains("a shortfall of 2")
    );
}

#[tokio::test]
async fn tolerances_exactly_at_the_limit_pass() {
    let scope = events_pair(&rows(8), &rows(10));
    let abs = run_one(
        ReconciliationCheck::new("silver.events").tolerance_abs(2),
        &scope,
    )
    .await;
    assert!(abs.passed, "{abs:?}");
    let rel = run_one(
        ReconciliationCheck::new("silver.events").tolerance_rel(0.2),
        &scope,
    )
    .await;
    assert!(rel.passed, "{rel:?}");
    let tight = run_one(
        ReconciliationCheck::new("silver.events").tolerance_rel(0.19),
        &scope,
    )
    .await;
    assert!(!tight.passed);
    // The threshold does not apply: tolerances decide.
    let threshold = run_one(
        ReconciliationCheck::new("silver.events").allow_threshold(1.0),
        &scope,
    )
    .await;
    assert!(!threshold.passed);
}

#[tokio::test]
async fn empty_scopes() {
    let both = run_one(
        ReconciliationCheck::new("silver.events"),
        &events_pair(&[], &outside(2)),
    )
    .await;
    assert!(both.passed, "{both:?}");
    assert_eq!((both.failed_count, both.total_count), (0, 0));
    let mine = run_one(
        ReconciliationCheck::new("silver.events"),
        &events_pair(&[], &rows(2)),
    )
    .await;
    assert!(!mine.passed);
}

#[tokio::test]
async fn all_null_rows_still_count() {
    let nulls: Vec<Row> = rows(3)
        .into_iter()
        .map(|r| Row {
            id: None,
            value: None,
            ..r
        })
        .collect();
    let r = run_one(
        ReconciliationCheck::new("silver.events"),
        &events_pair(&nulls, &rows(3)),
    )
    .await;
    assert!(r.passed, "{r:?}");
}

#[tokio::test]
async fn unpartitioned_other_tables_are_compared_whole() {
    let scope = with_totals(&rows(2), &[("a", 1.0, 1), ("b", 2.0, 1)]);
    let r = run_one(ReconciliationCheck::new("silver.lookup"), &scope).await;
    assert!(r.passed, "{r:?}");
    assert!(r.message.unwrap_or_default().contains("(whole table)"));
}

#[tokio::test]
async fn missing_tables_are_failed_results() {
    let r = run_one(
        ReconciliationCheck::new("silver.nope"),
        &scope_with(&rows(1)),
    )
    .await;
    assert!(!r.passed);
    assert_eq!(
        r.message.as_deref(),
        Some("table `silver.nope` does not exist")
    );
}

#[tokio::test]
async fn no_samples_at_full_failure() {
    let r = run_one(
        ReconciliationCheck::new("silver.events"),
        &events_pair(&[], &rows(100)),
    )
    .await;
    assert_eq!((r.failed_count, r.total_count), (100, 100));
    assert!(r.samples.is_empty());
}
