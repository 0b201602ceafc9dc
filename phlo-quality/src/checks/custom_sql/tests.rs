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

const NEGATIVES: &str = "SELECT count(*) FROM bronze.events WHERE value < 0";
const VERDICTS: &str = "SELECT value >= 0 FROM bronze.events";

#[tokio::test]
async fn count_query_passes_at_the_expected_count() {
    let scope = scope_with(&with_values(&[Some(1.0), Some(2.0)]));
    let r = run_one(CustomSqlCheck::new("no_negative", NEGATIVES), &scope).await;
    assert!(r.passed, "{r:?}");
    assert_eq!(r.name, "custom_sql_check(no_negative)");
    assert_eq!((r.failed_count, r.total_count), (0, 0));
    assert_eq!(r.repro_sql, NEGATIVES);
}

#[tokio::test]
async fn count_query_fails_otherwise() {
    let scope = scope_with(&with_values(&[Some(-1.0), Some(-2.0), Some(3.0)]));
    let r = run_one(CustomSqlCheck::new("no_negative", NEGATIVES), &scope).await;
    assert!(!r.passed);
    assert_eq!(r.failed_count, 2);
    assert_eq!(
        r.message.as_deref(),
        Some("the query returned 2; expected 0")
    );
    let expected = run_one(CustomSqlCheck::new("two", NEGATIVES).expect(2), &scope).await;
    assert!(expected.passed, "{expected:?}");
    // The threshold does not apply to counts.
    let lenient = run_one(
        CustomSqlCheck::new("x", NEGATIVES).allow_threshold(1.0),
        &scope,
    )
    .await;
    assert!(!lenient.passed);
}

#[tokio::test]
async fn boolean_query_counts_false_rows() {
    let scope = scope_with(&with_values(&[
        Some(-1.0),
        Some(2.0),
        Some(3.0),
        Some(4.0),
        None,
    ]));
    let r = run_one(CustomSqlCheck::new("non_negative", VERDICTS), &scope).await;
    assert!(!r.passed);
    // Nulls are not failures.
    assert_eq!((r.failed_count, r.total_count), (1, 5));
    let at = run_one(
        CustomSqlCheck::new("non_negative", VERDICTS).allow_threshold(0.2),
        &scope,
    )
    .await;
    assert!(at.passed, "{at:?}");
    let below = run_one(
        CustomSqlCheck::new("non_negative", VERDICTS).allow_threshold(0.19),
        &scope,
    )
    .await;
    assert!(!below.passed);
}

#[tokio::test]
async fn empty_results() {
    let scope = scope_with(&[]);
    let verdicts = run_one(CustomSqlCheck::new("v", VERDICTS), &scope).await;
    assert!(verdicts.passed);
    assert_eq!((verdicts.failed_count, verdicts.total_count), (0, 0));
    let count = run_one(CustomSqlCheck::new("c", NEGATIVES), &scope).await;
    assert!(count.passed);
    let no_row = run_one(
        CustomSqlCheck::new("c", "SELECT id FROM bronze.events WHERE id IS NOT NULL"),
        &scope,
    )
    .await;
    assert!(
        no_row
            .message
            .unwrap_or_default()
            .contains("returned no row")
    );
}

#[tokio::test]
async fn all_null_values() {
    let scope = scope_with(&with_values(&[None, None]));
    let r = run_one(CustomSqlCheck::new("v", VERDICTS), &scope).await;
    assert!(r.passed);
    assert_eq!((r.failed_count, r.total_count), (0, 2));
    let null_count = run_one(
        CustomSqlCheck::new("n", "SELECT max(id) FROM bronze.events WHERE id < 0"),
        &scope,
    )
    .await;
    assert!(
        null_count
            .message
            .unwrap_or_default()
            .contains("returned null")
    );
}

#[tokio::test]
async fn wrong_shapes_are_config_errors() {
    let scope = scope_with(&rows(3));
    for (sql, expected) in [
        (
            "SELECT id, value FROM bronze.events",
            "it returned (id: Int64, value: Float64)",
        ),
        (
            "SELECT category FROM bronze.events",
            "it returned (category: Utf8)",
        ),
        ("SELECT id FROM bronze.events", "more than one row"),
        ("SELECT -1", "a negative count"),
        ("CREATE TABLE bronze.x AS SELECT 1", "query failed"),
    ] {
        let r = run_one(CustomSqlCheck::new("shape", sql), &scope).await;
        assert!(!r.passed);
        let message = r.message.unwrap_or_default();
        assert!(message.contains(expected), "{sql}: {message}");
    }
    assert!(scope.ctx().table_provider("bronze.x").await.is_err());
}

#[tokio::test]
async fn missing_column_is_a_failed_result() {
    let r = run_one(
        CustomSqlCheck::new("m", "SELECT count(*) FROM bronze.events WHERE nope < 0"),
        &scope_with(&rows(1)),
    )
    .await;
    assert!(!r.passed);
    assert!(r.message.unwrap_or_default().contains("nope"));
}

#[tokio::test]
async fn boolean_queries_over_many_rows_keep_no_samples() {
    let values: Vec<Option<f64>> = (0..100).map(|_| Some(-1.0)).collect();
    let r = run_one(
        CustomSqlCheck::new("v", VERDICTS),
        &scope_with(&with_values(&values)),
    )
    .await;
    assert_eq!((r.failed_count, r.total_count), (100, 100));
    assert!(r.samples.len() <= crate::checks::MAX_SAMPLES);
}
