use quote::quote;

use super::*;
use crate::model::{Cadence, Partitions};
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
            options.partitioned.as_ref().map(|p| p.value)
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
             max_runtime_seconds, validate, strict_validation, add_metadata_columns, partitioned, \
             partitions, static_keys, crate",
        ]
    );
}

fn partitions(written: TokenStream) -> Partitions {
    let ingestion = parse(quote!(table = "t", schema = E, #written)).unwrap();
    ingestion.options.partitions.unwrap()
}

#[test]
fn reads_a_bare_cadence() {
    for (written, cadence) in [
        (quote!(partitions = hourly), Cadence::Hourly),
        (quote!(partitions = daily), Cadence::Daily),
        (quote!(partitions = monthly()), Cadence::Monthly),
    ] {
        let partitions = partitions(written);
        assert_eq!(partitions.cadence, cadence);
        assert!(partitions.start.is_none() && partitions.end.is_none());
        assert!(partitions.tz.is_none() && partitions.end_offset.is_none());
    }
}

#[test]
fn reads_the_cadence_s_arguments() {
    let partitions = partitions(quote! {
        partitions = hourly(start = "2025-01-01T00", end = "2026-01-01T00", tz = "Europe/London", end_offset = -2)
    });
    assert_eq!(partitions.cadence, Cadence::Hourly);
    let value = |lit: &Option<LitStr>| lit.as_ref().map(LitStr::value);
    assert_eq!(value(&partitions.start).as_deref(), Some("2025-01-01T00"));
    assert_eq!(value(&partitions.end).as_deref(), Some("2026-01-01T00"));
    assert_eq!(value(&partitions.tz).as_deref(), Some("Europe/London"));
    assert_eq!(partitions.end_offset.map(|offset| offset.value), Some(-2));
}

#[test]
fn reads_static_keys_and_partitioned() {
    let ingestion = parse(quote!(
        table = "t",
        schema = E,
        static_keys = ["eu", "us"],
        partitioned = true
    ))
    .unwrap();
    let keys = ingestion.options.static_keys.unwrap();
    assert_eq!(
        keys.keys.iter().map(LitStr::value).collect::<Vec<_>>(),
        ["eu", "us"]
    );
    assert_eq!(
        keys.origin.to_string(),
        quote!(static_keys = ["eu", "us"]).to_string()
    );
    let partitioned = ingestion.options.partitioned.unwrap();
    assert!(partitioned.value);
    assert_eq!(
        partitioned.origin.to_string(),
        quote!(partitioned = true).to_string()
    );
    // An empty list is read; `validate` explains what a key must be.
    let ingestion = parse(quote!(table = "t", schema = E, static_keys = [])).unwrap();
    assert!(ingestion.options.static_keys.unwrap().keys.is_empty());
}

#[test]
fn a_wrong_cadence_lists_the_cadences() {
    let cadences = "`partitions` takes `hourly`, `daily` or `monthly`, optionally with arguments, \
                    e.g. `partitions = daily` or `partitions = hourly(start = \"2025-01-01T00\", \
                    tz = \"Europe/London\")`";
    assert_eq!(
        ingestion_errors(quote!(table = "t", schema = E, partitions = weekly)),
        [format!("unknown cadence `weekly`; {cadences}")]
    );
    assert_eq!(
        ingestion_errors(quote!(
            table = "t",
            schema = E,
            partitions = dialy(tz = "UTC")
        )),
        [format!(
            "unknown cadence `dialy`; did you mean `daily`? {cadences}"
        )]
    );
    assert_eq!(
        ingestion_errors(quote!(table = "t", schema = E, partitions = "daily")),
        ["write the cadence without quotes: `partitions = daily`"]
    );
    assert_eq!(
        ingestion_errors(quote!(table = "t", schema = E, partitions = false)),
        [
            "`partitions` takes a cadence, not a bool: write `partitioned = false` to leave the \
          asset unpartitioned, or e.g. `partitions = daily`"
        ]
    );
    let other = "`partitions` takes a cadence, `hourly`, `daily` or `monthly`, e.g. \
                 `partitions = daily` or `partitions = hourly(start = \"2025-01-01T00\", \
                 tz = \"Europe/London\")`";
    for written in [
        quote!(partitions = Cadence::Daily),
        quote!(partitions = 1),
        quote!(partitions = ["daily"]),
    ] {
        assert_eq!(
            ingestion_errors(quote!(table = "t", schema = E, #written)),
            [other],
            "{written}"
        );
    }
}

#[test]
fn a_wrong_argument_lists_the_arguments() {
    assert_eq!(
        ingestion_errors(quote! {
            table = "t", schema = E,
            partitions = hourly(strat = "2025-01-01T00", timezone = "UTC", colour = 1, start = "2025-01-01")
        }),
        [
            "unknown argument `strat` of `hourly(...)`; did you mean `start`? valid arguments \
             are: start, end, tz, end_offset",
            "unknown argument `timezone` of `hourly(...)`; did you mean `tz`? valid arguments \
             are: start, end, tz, end_offset",
            "unknown argument `colour` of `hourly(...)`; valid arguments are: start, end, tz, \
             end_offset",
        ]
    );
    assert_eq!(
        ingestion_errors(quote! {
            table = "t", schema = E,
            partitions = daily(start = 2025, tz = "UTC", tz = "UTC", end, end_offset = 1.5)
        }),
        [
            "`start` takes a string, e.g. `start = \"2025-01-01\"`",
            "duplicate phlo attribute `tz`; give it once",
            "`end` takes a value: write `end = \"2026-01-01\"`",
            "`end_offset` takes a whole number, possibly negative, e.g. `end_offset = 1`",
        ]
    );
}

#[test]
fn static_keys_are_a_list_of_strings() {
    assert_eq!(
        ingestion_errors(quote!(table = "t", schema = E, static_keys = "eu")),
        ["`static_keys` takes a list of strings, e.g. `static_keys = [\"eu\", \"us\"]`"]
    );
    assert_eq!(
        ingestion_errors(quote!(table = "t", schema = E, static_keys = ["eu", 1])),
        ["each static key is a string, e.g. `static_keys = [\"eu\", \"us\"]`"]
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
