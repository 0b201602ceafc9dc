use quote::quote;

use super::*;
use crate::test_support::{ingestion_errors, messages};

fn parse(args: TokenStream) -> Result<Ingestion, Vec<String>> {
    let cx = Ctxt::new();
    let ingestion = self::args(&cx, args);
    cx.finish(ingestion).map_err(messages)
}

#[test]
fn reads_every_key() {
    let ingestion = parse(quote! {
        table = "silver.events", unique_key = ["id", "day"], schema = models::Event<u8>, group = "api",
        cron = "@daily", freshness_hours = (24, 48.5), merge_strategy = "replace_partition",
        dedup = "hash", order_by = "ts", max_retries = 3, retry_delay_seconds = 0.5,
        max_runtime_seconds = 600, validate = false, strict_validation = false,
        add_metadata_columns = true, partitioned = false, crate = "renamed"
    })
    .unwrap();
    let options = &ingestion.options;
    assert_eq!(ingestion.table.value(), "silver.events");
    assert_eq!(
        ingestion.schema.to_token_stream().to_string(),
        quote!(models::Event<u8>).to_string()
    );
    assert_eq!(
        options
            .unique_key
            .iter()
            .map(LitStr::value)
            .collect::<Vec<_>>(),
        ["id", "day"]
    );
    assert_eq!(
        options.group.as_ref().map(LitStr::value).as_deref(),
        Some("api")
    );
    assert_eq!(
        options.cron.as_ref().map(LitStr::value).as_deref(),
        Some("@daily")
    );
    let freshness = options.freshness_hours.as_ref().unwrap();
    assert_eq!(
        (freshness.warn.value.get(), freshness.error.value.get()),
        (24.0, 48.5)
    );
    assert_eq!(
        options.merge_strategy.as_ref().map(|c| c.value),
        Some(MergeStrategy::ReplacePartition)
    );
    assert_eq!(options.dedup.as_ref().map(|c| c.value), Some(Dedup::Hash));
    assert_eq!(
        options.order_by.as_ref().map(LitStr::value).as_deref(),
        Some("ts")
    );
    assert_eq!(options.max_retries, Some(3));
    assert_eq!(
        options.retry_delay_seconds.as_ref().map(|s| s.value.get()),
        Some(0.5)
    );
    assert_eq!(
        options.max_runtime_seconds.as_ref().map(|s| s.value.get()),
        Some(600.0)
    );
    assert_eq!(
        (
            options.validate,
            options.strict_validation,
            options.add_metadata_columns,
            options.partitioned
        ),
        (Some(false), Some(false), Some(true), Some(false))
    );
    assert_eq!(ingestion.krate.to_token_stream().to_string(), "renamed");
}

#[test]
fn table_and_schema_are_required() {
    assert_eq!(
        parse(quote!(unique_key = "id")).err().unwrap(),
        [
            "`#[ingestion]` needs a `table`: add `table = \"events\"` or `table = \"namespace.events\"`",
            "`#[ingestion]` needs a `schema`: add `schema = Event`, naming a struct that derives `Schema`",
        ]
    );
}

#[test]
fn a_bad_required_key_is_not_also_missing() {
    assert_eq!(
        parse(quote!(table = events, schema = "Event"))
            .err()
            .unwrap(),
        [
            "`table` takes a string, e.g. `table = \"events\"`",
            "`schema` takes the path of a struct that derives `Schema`, e.g. `schema = Event`",
        ]
    );
}

#[test]
fn unreadable_tokens_stop_reading_without_missing_key_noise() {
    let errors = parse(quote!(group = "a" "b", table = "events"))
        .err()
        .unwrap();
    assert_eq!(errors, ["expected `,`"]);
}

#[test]
fn wrong_values_teach_the_expected_one() {
    assert_eq!(
        ingestion_errors(quote! {
            table = "events", schema = Event, unique_key = 1, dedup = "latest", merge_strategy = merge,
            max_retries = -1, validate = "yes", freshness_hours = 24, colour = "red"
        }),
        [
            "`unique_key` takes a string or a list of strings, e.g. `unique_key = \"id\"`",
            "`dedup` takes \"last\", \"first\", \"hash\" or \"none\"",
            "`merge_strategy` takes \"merge\", \"append\" or \"replace_partition\"",
            "`max_retries` takes a whole number, e.g. `max_retries = 3`",
            "`validate` takes `true` or `false`, e.g. `validate = true`",
            "`freshness_hours` takes a pair of numbers, e.g. `freshness_hours = (24, 48)`",
            "unknown phlo attribute `colour`; valid keys are: table, unique_key, schema, group, cron, \
             freshness_hours, merge_strategy, dedup, order_by, max_retries, retry_delay_seconds, \
             max_runtime_seconds, validate, strict_validation, add_metadata_columns, partitioned, crate",
        ]
    );
}

#[test]
fn only_functions_take_the_attribute() {
    let cx = Ctxt::new();
    assert!(
        function(
            &cx,
            &quote!(
                struct Event;
            )
        )
        .is_none()
    );
    let errors = messages(cx.check().unwrap_err());
    assert!(
        errors[0].starts_with("`#[ingestion]` goes on a function"),
        "{errors:?}"
    );
}

#[test]
fn reads_the_signature_and_attributes_only() {
    let cx = Ctxt::new();
    let item =
        quote!(#[cfg(feature = "x")] #[inline] pub fn events(ctx: &C) -> R { this is not rust });
    let func = function(&cx, &item).unwrap();
    assert!(cx.check().is_ok());
    assert_eq!(func.sig.ident, "events");
    assert_eq!(func.cfg_attrs().count(), 1);
}
