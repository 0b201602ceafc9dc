use chrono::Duration;

use super::*;
use crate::checks::test_support::*;

fn aged(hours: &[Option<i64>]) -> Vec<Row> {
    hours
        .iter()
        .enumerate()
        .map(|(i, h)| Row {
            ts: h.map(|h| now() - Duration::hours(h)),
            ..row(i as i64)
        })
        .collect()
}

#[tokio::test]
async fn passes_when_recent() {
    let r = run_one(
        FreshnessCheck::new("ts").max_age_hours(2),
        &scope_with(&aged(&[Some(30), Some(1), None])),
    )
    .await;
    assert!(r.passed, "{r:?}");
    assert_eq!((r.failed_count, r.total_count), (0, 1));
    assert_eq!(
        r.message.as_deref(),
        Some(
            "newest `ts` (2025-01-15T11:00:00+00:00) is 1h 0m old at \
             2025-01-15T12:00:00+00:00; max age 2h 0m"
        )
    );
}

#[tokio::test]
async fn fails_when_stale() {
    let scope = scope_with(&aged(&[Some(30), Some(26)]));
    let r = run_one(FreshnessCheck::new("ts").max_age_hours(24), &scope).await;
    assert!(!r.passed);
    assert_eq!((r.failed_count, r.total_count), (1, 1));
    let message = r.message.unwrap_or_default();
    assert!(message.contains("is 1d 2h 0m old"), "{message}");
    assert!(message.contains("max age 1d 0h 0m"), "{message}");
    assert_eq!(count_rows(&scope, &r.repro_sql).await, 1);
}

#[tokio::test]
async fn exactly_max_age_passes() {
    let scope = scope_with(&aged(&[Some(24)]));
    let r = run_one(FreshnessCheck::new("ts").max_age_hours(24), &scope).await;
    assert!(r.passed, "{r:?}");
    let r = run_one(
        FreshnessCheck::new("ts").max_age_minutes(24 * 60 - 1),
        &scope,
    )
    .await;
    assert!(!r.passed);
    // The threshold applies to the single unit: 1.0 lets a stale scope pass.
    let r = run_one(
        FreshnessCheck::new("ts")
            .max_age_hours(1)
            .allow_threshold(1.0),
        &scope,
    )
    .await;
    assert!(r.passed);
}

#[tokio::test]
async fn future_values_are_fresh() {
    let r = run_one(
        FreshnessCheck::new("ts").max_age_hours(1),
        &scope_with(&aged(&[Some(-5)])),
    )
    .await;
    assert!(r.passed, "{r:?}");
    assert!(r.message.unwrap_or_default().contains("is -5h 0m old"));
}

#[tokio::test]
async fn empty_scope_and_all_null_fail_whatever_the_threshold() {
    let empty = run_one(
        FreshnessCheck::new("ts").allow_threshold(1.0),
        &scope_with(&[]),
    )
    .await;
    assert!(!empty.passed);
    assert_eq!((empty.failed_count, empty.total_count), (1, 1));
    assert!(
        empty
            .message
            .unwrap_or_default()
            .starts_with("the scope is empty")
    );
    let nulls = run_one(FreshnessCheck::new("ts"), &scope_with(&aged(&[None, None]))).await;
    assert!(!nulls.passed);
}

#[tokio::test]
async fn dates_are_midnight_utc() {
    // The partition column is a Date32: 2025-01-15 00:00 is 12h before the clock.
    let scope = scope_with(&rows(1));
    let fresh = run_one(
        FreshnessCheck::new("_phlo_partition_date").max_age_hours(12),
        &scope,
    )
    .await;
    assert!(fresh.passed, "{fresh:?}");
    let stale = run_one(
        FreshnessCheck::new("_phlo_partition_date").max_age_hours(11),
        &scope,
    )
    .await;
    assert!(!stale.passed);
}

#[tokio::test]
async fn missing_and_wrong_type_columns() {
    let scope = scope_with(&rows(1));
    assert_missing_column(&run_one(FreshnessCheck::new("nope"), &scope).await, "nope");
    let r = run_one(FreshnessCheck::new("value"), &scope).await;
    assert!(
        r.message
            .unwrap_or_default()
            .contains("not a timestamp or date")
    );
}

#[tokio::test]
async fn samples_stay_empty_at_full_failure() {
    let old: Vec<Option<i64>> = (0..100).map(|_| Some(100)).collect();
    let r = run_one(FreshnessCheck::new("ts"), &scope_with(&aged(&old))).await;
    assert!(!r.passed);
    assert!(r.samples.len() <= crate::checks::MAX_SAMPLES);
}

#[test]
fn ages_read_well() {
    assert_eq!(human(Duration::seconds(5)), "5s");
    assert_eq!(human(Duration::seconds(65)), "1m 5s");
    assert_eq!(human(Duration::minutes(125)), "2h 5m");
    assert_eq!(human(Duration::hours(49)), "2d 1h 0m");
}
