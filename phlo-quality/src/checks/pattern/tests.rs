use super::*;
use crate::checks::test_support::*;

fn with_emails(emails: &[Option<&'static str>]) -> Vec<Row> {
    emails
        .iter()
        .enumerate()
        .map(|(i, e)| Row {
            email: *e,
            ..row(i as i64)
        })
        .collect()
}

#[tokio::test]
async fn passes_on_full_matches() {
    let scope = scope_with(&with_emails(&[Some("a@b"), Some("x@y.z"), None]));
    let r = run_one(PatternCheck::new("email", r"[^@]+@[^@]+"), &scope).await;
    assert!(r.passed, "{r:?}");
    assert_eq!((r.failed_count, r.total_count), (0, 2));
}

#[tokio::test]
async fn full_match_is_the_default() {
    // "a@b@c" contains a match but does not fully match.
    let scope = scope_with(&with_emails(&[Some("a@b"), Some("a@b@c"), Some("nope")]));
    let full = run_one(PatternCheck::new("email", r"[^@]+@[^@]+"), &scope).await;
    assert_eq!((full.failed_count, full.total_count), (2, 3));
    assert_eq!(
        full.samples[0],
        serde_json::json!({ "id": 1, "email": "a@b@c" })
    );
    assert_eq!(count_rows(&scope, &full.repro_sql).await, 2);
    let search = run_one(PatternCheck::new("email", r"[^@]+@[^@]+").search(), &scope).await;
    assert_eq!(search.failed_count, 1);
    let prefix = run_one(PatternCheck::new("email", "a@").prefix(), &scope).await;
    assert_eq!(prefix.failed_count, 1);
    let digits = run_one(PatternCheck::new("email", r"\w@\w").search(), &scope).await;
    assert_eq!(digits.failed_count, 1, "{digits:?}");
}

#[tokio::test]
async fn patterns_with_quotes_are_escaped() {
    let scope = scope_with(&with_emails(&[Some("o'neil@x")]));
    let r = run_one(PatternCheck::new("email", "o'neil@x"), &scope).await;
    assert!(r.passed, "{r:?}");
}

#[tokio::test]
async fn exactly_at_the_threshold_passes() {
    let scope = scope_with(&with_emails(&[
        Some("bad"),
        Some("a@b"),
        Some("c@d"),
        Some("e@f"),
    ]));
    let at = run_one(
        PatternCheck::new("email", "[^@]+@[^@]+").allow_threshold(0.25),
        &scope,
    )
    .await;
    assert!(at.passed, "{at:?}");
    let below = run_one(
        PatternCheck::new("email", "[^@]+@[^@]+").allow_threshold(0.2),
        &scope,
    )
    .await;
    assert!(!below.passed);
}

#[tokio::test]
async fn empty_scope_and_all_null_pass_with_total_zero() {
    let r = run_one(PatternCheck::new("email", "x"), &scope_with(&[])).await;
    assert!(r.passed);
    assert_eq!(r.total_count, 0);
    let r = run_one(
        PatternCheck::new("email", "x"),
        &scope_with(&with_emails(&[None, None])),
    )
    .await;
    assert!(r.passed);
    assert_eq!((r.failed_count, r.total_count), (0, 0));
}

#[tokio::test]
async fn invalid_pattern_missing_and_non_string_columns() {
    let scope = scope_with(&rows(2));
    let bad = run_one(PatternCheck::new("email", "("), &scope).await;
    assert!(!bad.passed);
    let message = bad.message.unwrap_or_default();
    assert!(
        message
            .contains("check `pattern_check(email)` is misconfigured: invalid pattern \"^(?:()$\""),
        "{message}"
    );
    assert_missing_column(
        &run_one(PatternCheck::new("nope", "x"), &scope).await,
        "nope",
    );
    let number = run_one(PatternCheck::new("value", "x"), &scope).await;
    assert!(number.message.unwrap_or_default().contains("not a string"));
}

#[tokio::test]
async fn samples_are_bounded_at_full_failure() {
    let emails: Vec<Option<&'static str>> = (0..100).map(|_| Some("bad")).collect();
    let r = run_one(
        PatternCheck::new("email", "[^@]+@[^@]+"),
        &scope_with(&with_emails(&emails)),
    )
    .await;
    assert_eq!((r.failed_count, r.total_count), (100, 100));
    assert_eq!(r.samples.len(), crate::checks::MAX_SAMPLES);
}
