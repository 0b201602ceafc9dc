use super::*;
use crate::checks::test_support::*;

fn with_categories(categories: &[Option<&'static str>]) -> Vec<Row> {
    categories
        .iter()
        .enumerate()
        .map(|(i, c)| Row {
            category: *c,
            ..row(i as i64)
        })
        .collect()
}

#[tokio::test]
async fn passes_when_every_value_is_accepted() {
    let scope = scope_with(&with_categories(&[Some("a"), Some("b"), None]));
    let r = run_one(AcceptedValuesCheck::new("category", ["a", "b"]), &scope).await;
    assert!(r.passed, "{r:?}");
    assert_eq!((r.failed_count, r.total_count), (0, 2));
}

#[tokio::test]
async fn fails_other_values() {
    let scope = scope_with(&with_categories(&[
        Some("a"),
        Some("c"),
        Some("it's"),
        None,
    ]));
    let r = run_one(AcceptedValuesCheck::new("category", ["a", "b"]), &scope).await;
    assert!(!r.passed);
    assert_eq!((r.failed_count, r.total_count), (2, 3));
    assert_eq!(
        r.samples[0],
        serde_json::json!({ "id": 1, "category": "c" })
    );
    assert_eq!(count_rows(&scope, &r.repro_sql).await, 2);
    assert_eq!(
        r.message.as_deref(),
        Some("2 of 3 non-null values of category are not in [\"a\", \"b\"]")
    );
    // A quote in an accepted value is escaped.
    let quoted = run_one(
        AcceptedValuesCheck::new("category", ["a", "c", "it's"]),
        &scope,
    )
    .await;
    assert!(quoted.passed, "{quoted:?}");
}

#[tokio::test]
async fn numbers_and_an_empty_set() {
    let scope = scope_with(&rows(4));
    let ints = run_one(AcceptedValuesCheck::new("id", [0, 1, 2]), &scope).await;
    assert_eq!((ints.failed_count, ints.total_count), (1, 4));
    let floats = run_one(AcceptedValuesCheck::new("value", [0.0, 1.0]), &scope).await;
    assert_eq!(floats.failed_count, 2);
    let none = run_one(AcceptedValuesCheck::new("id", Vec::<i64>::new()), &scope).await;
    assert_eq!((none.failed_count, none.total_count), (4, 4));
    let nan = run_one(AcceptedValuesCheck::new("value", [f64::NAN]), &scope).await;
    assert!(
        nan.message
            .unwrap_or_default()
            .contains("not a finite number")
    );
}

#[tokio::test]
async fn exactly_at_the_threshold_passes() {
    let scope = scope_with(&with_categories(&[
        Some("a"),
        Some("z"),
        Some("a"),
        Some("a"),
    ]));
    let at = run_one(
        AcceptedValuesCheck::new("category", ["a"]).allow_threshold(0.25),
        &scope,
    )
    .await;
    assert!(at.passed, "{at:?}");
    let below = run_one(
        AcceptedValuesCheck::new("category", ["a"]).allow_threshold(0.2),
        &scope,
    )
    .await;
    assert!(!below.passed);
}

#[tokio::test]
async fn empty_scope_and_all_null_pass_with_total_zero() {
    let r = run_one(
        AcceptedValuesCheck::new("category", ["a"]),
        &scope_with(&[]),
    )
    .await;
    assert!(r.passed);
    assert_eq!(r.total_count, 0);
    let r = run_one(
        AcceptedValuesCheck::new("category", ["a"]),
        &scope_with(&with_categories(&[None])),
    )
    .await;
    assert!(r.passed);
    assert_eq!((r.failed_count, r.total_count), (0, 0));
}

#[tokio::test]
async fn missing_column_is_a_failed_result() {
    let r = run_one(
        AcceptedValuesCheck::new("nope", ["a"]),
        &scope_with(&rows(1)),
    )
    .await;
    assert_missing_column(&r, "nope");
}

#[tokio::test]
async fn samples_are_bounded_at_full_failure() {
    let categories: Vec<Option<&'static str>> = (0..100).map(|_| Some("z")).collect();
    let r = run_one(
        AcceptedValuesCheck::new("category", ["a"]),
        &scope_with(&with_categories(&categories)),
    )
    .await;
    assert_eq!((r.failed_count, r.total_count), (100, 100));
    assert_eq!(r.samples.len(), crate::checks::MAX_SAMPLES);
}

#[test]
fn long_value_lists_are_shortened_in_messages() {
    let check = AcceptedValuesCheck::new("n", 0..12);
    assert_eq!(check.values().len(), 12);
    assert_eq!(
        check.shown_values(),
        "[0, 1, 2, 3, 4, 5, 6, 7, 8, 9, … (12 values)]"
    );
    assert_eq!(AcceptedValue::from(true).to_string(), "true");
    assert_eq!(
        AcceptedValue::from(String::from("x")),
        AcceptedValue::Str("x".into())
    );
}
