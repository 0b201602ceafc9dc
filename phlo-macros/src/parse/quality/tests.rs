use quote::quote;

use super::*;
use crate::test_support::{messages, quality_errors};

fn parse(args: TokenStream) -> Result<Quality, Vec<String>> {
    let cx = Ctxt::new();
    let quality = self::args(&cx, args);
    cx.finish(quality).map_err(messages)
}

fn tokens(value: &impl ToTokens) -> String {
    value.to_token_stream().to_string()
}

#[test]
fn reads_every_key() {
    let quality = parse(quote! {
        table = "bronze.events", checks = [NullCheck::new(["id"]), CountCheck::new()],
        blocking = false, partition_aware = false, partition_column = "day",
        rolling_window_days = 14, full_table = false, group = "bronze", schema = models::Event,
        crate = "renamed"
    })
    .unwrap();
    let options = &quality.options;
    assert_eq!(quality.table.value(), "bronze.events");
    assert_eq!(quality.checks.as_ref().map(|c| c.elems.len()), Some(2));
    assert_eq!(options.blocking, Some(false));
    assert_eq!(
        options.partition_aware.as_ref().map(|f| f.value),
        Some(false)
    );
    assert_eq!(
        options
            .partition_column
            .as_ref()
            .map(LitStr::value)
            .as_deref(),
        Some("day")
    );
    assert_eq!(
        options.rolling_window_days.as_ref().map(|d| d.value),
        Some(14)
    );
    assert_eq!(options.full_table.as_ref().map(|f| f.value), Some(false));
    assert_eq!(
        options.group.as_ref().map(LitStr::value).as_deref(),
        Some("bronze")
    );
    assert_eq!(
        quality.schema.as_ref().map(tokens),
        Some(tokens(&quote!(models::Event)))
    );
    assert_eq!(tokens(&quality.krate), "renamed");
}

#[test]
fn only_table_is_required() {
    let quality = parse(quote!(table = "bronze.events")).unwrap();
    assert!(quality.checks.is_none() && quality.schema.is_none());
    assert_eq!(
        parse(quote!(blocking = true)).err().unwrap(),
        [
            "`#[quality]` needs the `table` it checks: add `table = \"bronze.events\"` (`namespace.name`)"
        ]
    );
}

#[test]
fn unknown_keys_list_the_valid_ones() {
    assert_eq!(
        quality_errors(quote!(
            table = "bronze.events",
            check = [NullCheck::new("id")]
        )),
        [
            "unknown phlo attribute `check`; valid keys are: table, checks, blocking, \
          partition_aware, partition_column, rolling_window_days, full_table, group, schema, crate"
        ]
    );
}

#[test]
fn wrong_value_types_teach_the_form() {
    assert_eq!(
        quality_errors(quote! {
            table = bronze.events, blocking = "yes", rolling_window_days = -1,
            partition_column = day, schema = "Event", group = 1,
            checks = NullCheck::new("id"),
        }),
        [
            "`table` takes a string, e.g. `table = \"bronze.events\"`",
            "`blocking` takes `true` or `false`, e.g. `blocking = false`",
            "`rolling_window_days` takes a whole number, e.g. `rolling_window_days = 7`",
            "`partition_column` takes a string, e.g. `partition_column = \"event_date\"`",
            "`schema` takes the path of a struct that derives `Schema`, e.g. `schema = Event`",
            "`group` takes a string, e.g. `group = \"bronze\"`",
            "`checks` takes a list of checks in brackets, e.g. \
             `checks = [NullCheck::new([\"id\"]), CountCheck::new().min_rows(1)]`",
        ]
    );
}

#[test]
fn checks_cannot_be_empty() {
    assert_eq!(
        quality_errors(quote!(table = "bronze.events", checks = [])),
        ["`checks = []` lists no check: name at least one, e.g. \
          `checks = [NullCheck::new([\"id\"]), CountCheck::new().min_rows(1)]`, or remove \
          `checks` and take `scope: &CheckScope` to write the check as a function"]
    );
}

fn checks(list: TokenStream) -> Vec<CheckExpr> {
    parse(quote!(table = "a.b", checks = #list))
        .unwrap()
        .checks
        .unwrap()
        .elems
}

fn columns(check: &CheckExpr) -> Option<(String, Vec<String>)> {
    check.columns.as_ref().map(|named| {
        (
            named.check.to_string(),
            named.columns.iter().map(LitStr::value).collect(),
        )
    })
}

#[test]
fn recognises_the_columns_of_built_in_checks() {
    let found = checks(quote!([
        NullCheck::new(["id", "ts"]),
        RangeCheck::new("value")
            .min(0.0)
            .max(100.0)
            .allow_threshold(0.01),
        phlo::quality::UniqueCheck::new(["id"]),
        (FreshnessCheck::new("ts")).max_age_hours(24).warn(),
        PatternCheck::new("code", "^[a-z]+$"),
        AcceptedValuesCheck::new("category", ["a", "b"]),
        UniqueCheck::new(["id", KEY]),
    ]));
    let found: Vec<_> = found.iter().map(columns).collect();
    let expected = [
        ("NullCheck", vec!["id", "ts"]),
        ("RangeCheck", vec!["value"]),
        ("UniqueCheck", vec!["id"]),
        ("FreshnessCheck", vec!["ts"]),
        ("PatternCheck", vec!["code"]),
        ("AcceptedValuesCheck", vec!["category"]),
        ("UniqueCheck", vec!["id"]),
    ];
    let expected: Vec<_> = expected
        .into_iter()
        .map(|(check, columns)| {
            Some((
                check.to_string(),
                columns.into_iter().map(str::to_string).collect(),
            ))
        })
        .collect();
    assert_eq!(found, expected);
}

#[test]
fn other_checks_name_no_column() {
    let found = checks(quote!([
        CountCheck::new().min_rows(1),
        CustomSqlCheck::new("no_negative", "SELECT 1").expect(0),
        NullCheck::new(COLUMNS),
        NullCheck::with(["id"]),
        my_checks(),
        NullCheck::new([]),
    ]));
    assert!(found.iter().all(|check| check.columns.is_none()));
}

#[test]
fn recognises_schema_check_of() {
    let found = checks(quote!([
        SchemaCheck::of::<Event>(),
        phlo::quality::SchemaCheck::of::<models::Event>().warn(),
        SchemaCheck::of::<Event>(extra),
        SchemaCheck::new(),
        OtherCheck::of::<Event>(),
    ]));
    let schemas: Vec<Option<String>> = found
        .iter()
        .map(|check| check.schema_of.as_ref().map(tokens))
        .collect();
    assert_eq!(
        schemas,
        [
            Some(tokens(&quote!(Event))),
            Some(tokens(&quote!(models::Event))),
            None,
            None,
            None
        ]
    );
}

#[test]
fn anything_but_a_function_is_rejected() {
    let cx = Ctxt::new();
    assert!(
        function(
            &cx,
            &quote!(
                struct S;
            )
        )
        .is_none()
    );
    assert_eq!(
        messages(cx.check().unwrap_err()),
        [
            "`#[quality]` goes on a function: `fn events_quality() {}` with `checks = [...]`, or a \
          custom check `async fn name(scope: &CheckScope) -> phlo::Result<CheckOutcome> { … }`"
        ]
    );
}

#[test]
fn keeps_the_body_as_tokens() {
    let cx = Ctxt::new();
    let func = function(&cx, &quote!(fn f() { this is not rust })).unwrap();
    assert_eq!(func.body.stream().to_string(), "this is not rust");
}
