use quote::quote;

use crate::test_support::{ingestion_errors, schema_errors, signature_errors};

// ---------------------------------------------------------------------------------------------
// #[derive(Schema)]

#[test]
fn a_plain_schema_is_valid() {
    let errors = schema_errors(quote! {
        struct Event {
            #[phlo(unique, regex = "^e", str_length(max = 8))] id: String,
            #[phlo(ge = -1.5, lt = 100)] value: Option<f64>,
            #[phlo(gt = 0, le = 0.5)] ratio: f32,
            #[phlo(ge = 3, le = 3)] exact: i64,
            #[phlo(regex = "x", ge = 0)] custom: my::Wrapped,
            ts: DateTime<Utc>,
        }
    });
    assert!(errors.is_empty(), "{errors:?}");
}

#[test]
fn contradictory_bounds_are_reported_on_the_later_one() {
    assert_eq!(
        schema_errors(quote!(
            struct E {
                #[phlo(ge = 10, le = 5)]
                v: i64,
            }
        )),
        ["`ge = 10` contradicts `le = 5`: no value is >= 10 and <= 5"]
    );
    assert_eq!(
        schema_errors(quote!(
            struct E {
                #[phlo(lt = 1.5)]
                #[phlo(gt = 1.5)]
                v: f64,
            }
        )),
        ["`gt = 1.5` contradicts `lt = 1.5`: no value is > 1.5 and < 1.5"]
    );
    assert_eq!(
        schema_errors(quote!(
            struct E {
                #[phlo(ge = -1, lt = -1.0)]
                v: f64,
            }
        )),
        ["`ge = -1` contradicts `lt = -1.0`: no value is >= -1 and < -1.0"]
    );
}

#[test]
fn string_constraints_on_other_types() {
    assert_eq!(
        schema_errors(quote!(
            struct E {
                #[phlo(regex = "^a")]
                amount: i64,
            }
        )),
        ["`regex` applies to String fields, and `amount` is a number"]
    );
    assert_eq!(
        schema_errors(quote!(
            struct E {
                #[phlo(str_length(min = 1))]
                day: Option<chrono::NaiveDate>,
            }
        )),
        ["`str_length` applies to String fields, and `day` is a date (`NaiveDate`)"]
    );
}

#[test]
fn bounds_on_other_types() {
    assert_eq!(
        schema_errors(quote! {
            struct E {
                #[phlo(ge = 0)] name: String,
                #[phlo(le = 1)] flag: Option<bool>,
                #[phlo(gt = 0)] ts: DateTime<Utc>,
            }
        }),
        [
            "`ge` applies to numeric fields, and `name` is a `String`",
            "`le` applies to numeric fields, and `flag` is a `bool`",
            "`gt` applies to numeric fields, and `ts` is a timestamp (`DateTime`)",
        ]
    );
}

#[test]
fn str_length_needs_a_sensible_range() {
    assert_eq!(
        schema_errors(quote!(
            struct E {
                #[phlo(str_length())]
                code: String,
            }
        )),
        ["`str_length` needs `min`, `max` or both, e.g. `str_length(min = 1, max = 10)`"]
    );
    assert_eq!(
        schema_errors(quote!(
            struct E {
                #[phlo(str_length(min = 5, max = 2))]
                code: String,
            }
        )),
        ["`str_length` has `min = 5` above `max = 2`, so no string fits"]
    );
}

#[test]
fn generic_structs_are_rejected() {
    let message = "`Schema` cannot be derived for generic structs: a schema is one fixed set of columns; \
                   give the struct concrete field types";
    assert_eq!(
        schema_errors(quote!(
            struct E<T> {
                v: T,
            }
        )),
        [message]
    );
    assert_eq!(
        schema_errors(quote!(
            struct E<'a> {
                v: &'a str,
            }
        )),
        [message]
    );
}

// ---------------------------------------------------------------------------------------------
// #[ingestion(...)]

#[test]
fn a_complete_ingestion_is_valid() {
    let errors = ingestion_errors(quote! {
        table = "silver.events_2024", unique_key = ["id", "day"], schema = Event, cron = "*/5 * * * MON-FRI",
        freshness_hours = (1, 1.5), dedup = "first", order_by = "ts", retry_delay_seconds = 0,
        max_runtime_seconds = 0.5
    });
    assert!(errors.is_empty(), "{errors:?}");
}

#[test]
fn table_names_follow_the_naming_rule() {
    for name in ["events", "_private", "bronze.events", "a1.b_2"] {
        assert!(
            ingestion_errors(quote!(table = #name, unique_key = "id", schema = E)).is_empty(),
            "{name}"
        );
    }
    for name in [
        "Events",
        "1events",
        "a.b.c",
        ".events",
        "events.",
        "../x",
        "my events",
        "",
    ] {
        let errors = ingestion_errors(quote!(table = #name, unique_key = "id", schema = E));
        assert_eq!(errors.len(), 1, "{name}");
        assert!(errors[0].contains("(`[a-z_][a-z0-9_]*`)"), "{errors:?}");
    }
    assert_eq!(
        ingestion_errors(quote!(table = "_phlo.runs", unique_key = "id", schema = E)),
        ["the namespace `_phlo` is reserved for phlo's own tables; choose another namespace"]
    );
}

#[test]
fn unique_key_columns_are_listed_once() {
    assert_eq!(
        ingestion_errors(quote!(
            table = "t",
            unique_key = ["id", "day", "id"],
            schema = E
        )),
        ["`id` is listed twice in `unique_key`; list each column once"]
    );
}

#[test]
fn cron_errors_name_the_field() {
    assert_eq!(
        ingestion_errors(quote!(
            table = "t",
            unique_key = "id",
            schema = E,
            cron = "0 25 * * *"
        )),
        ["invalid cron expression: in the hour field, `25` is out of range 0-23"]
    );
}

#[test]
fn freshness_thresholds_are_ordered_and_positive() {
    assert_eq!(
        ingestion_errors(quote!(
            table = "t",
            unique_key = "id",
            schema = E,
            freshness_hours = (48, 24)
        )),
        [
            "warn threshold must be smaller than error threshold: write `freshness_hours = (warn, error)`, \
          e.g. `freshness_hours = (24, 48)`"
        ]
    );
    assert_eq!(
        ingestion_errors(quote!(
            table = "t",
            unique_key = "id",
            schema = E,
            freshness_hours = (0, -1)
        )),
        ["freshness thresholds are hours and must be greater than zero"; 2]
    );
}

#[test]
fn keyed_strategies_need_a_unique_key() {
    assert_eq!(
        ingestion_errors(quote!(table = "t", schema = E)),
        [
            "`merge_strategy = \"merge\"` (the default) needs a `unique_key`: add `unique_key = \"<column>\"`, \
          or use `merge_strategy = \"append\"`"
        ]
    );
    assert_eq!(
        ingestion_errors(quote!(
            table = "t",
            schema = E,
            merge_strategy = "replace_partition"
        )),
        [
            "`merge_strategy = \"replace_partition\"` needs a `unique_key`: add `unique_key = \"<column>\"`, \
          or use `merge_strategy = \"append\"`"
        ]
    );
    assert!(
        ingestion_errors(quote!(table = "t", schema = E, merge_strategy = "append")).is_empty()
    );
}

#[test]
fn deduplicating_an_append_needs_a_unique_key() {
    assert_eq!(
        ingestion_errors(quote!(
            table = "t",
            schema = E,
            merge_strategy = "append",
            dedup = "hash"
        )),
        [
            "`dedup = \"hash\"` keeps one row per `unique_key`, but there is none: add `unique_key = \"<column>\"`, \
          or use `dedup = \"none\"`"
        ]
    );
    let none = quote!(
        table = "t",
        schema = E,
        merge_strategy = "append",
        dedup = "none"
    );
    assert!(ingestion_errors(none).is_empty());
    let keyed = quote!(
        table = "t",
        schema = E,
        merge_strategy = "append",
        unique_key = "id",
        dedup = "last"
    );
    assert!(ingestion_errors(keyed).is_empty());
}

#[test]
fn durations_have_a_sign() {
    assert_eq!(
        ingestion_errors(quote! {
            table = "t", unique_key = "id", schema = E, retry_delay_seconds = -1, max_runtime_seconds = 0
        }),
        [
            "`retry_delay_seconds` cannot be negative; use 0 to retry at once",
            "`max_runtime_seconds` must be greater than zero",
        ]
    );
}

#[test]
fn parse_errors_do_not_cascade_into_rules() {
    // The broken `unique_key` is not also reported as missing.
    assert_eq!(
        ingestion_errors(quote!(table = "t", schema = E, unique_key = id)),
        ["`unique_key` takes a string or a list of strings, e.g. `unique_key = \"id\"`"]
    );
}

// ---------------------------------------------------------------------------------------------
// Partitions

/// The messages of `#[ingestion]` with a table, a key, a schema and `written`.
fn partition_errors(written: proc_macro2::TokenStream) -> Vec<String> {
    ingestion_errors(quote!(table = "t", unique_key = "id", schema = E, #written))
}

#[test]
fn well_formed_partitions_are_valid() {
    for written in [
        quote!(partitioned = true),
        quote!(partitioned = false),
        quote!(partitions = daily),
        quote!(partitions = hourly, partitioned = true),
        quote!(
            partitions = hourly(
                start = "2025-01-01T00",
                end = "2026-01-01T00",
                tz = "Europe/London",
                end_offset = 1
            )
        ),
        quote!(partitions = hourly(start = "2025-01-01", end = "2025-01-01T01")),
        quote!(partitions = daily(start = "2025-01-01", tz = "America/New_York")),
        quote!(partitions = monthly(start = "2020-01", end_offset = -1)),
        quote!(static_keys = ["eu", "us-east-1", "v1.2_b"]),
        quote!(static_keys = ["eu"], partitioned = true),
        // `replace_partition` without partitions replaces the whole table: allowed.
        quote!(partitioned = false, merge_strategy = "replace_partition"),
    ] {
        assert_eq!(
            partition_errors(written.clone()),
            [] as [String; 0],
            "{written}"
        );
    }
}

#[test]
fn bounds_follow_the_cadence_s_shape() {
    assert_eq!(
        partition_errors(quote!(
            partitions = daily(start = "2025-1-1", end = "2025-02-30")
        )),
        [
            "`start = \"2025-1-1\"` is not a day: daily partitions are bounded by a date \
             `YYYY-MM-DD`, zero-padded, e.g. `start = \"2025-01-01\"`",
            "`end = \"2025-02-30\"` is not a real date: February 2025 has 28 days",
        ]
    );
    assert_eq!(
        partition_errors(quote!(partitions = monthly(start = "2020-01-01"))),
        [
            "`start = \"2020-01-01\"` is not a month: monthly partitions are bounded by `YYYY-MM` \
          (a month, not a date), zero-padded, e.g. `start = \"2020-01\"`"
        ]
    );
}

#[test]
fn start_comes_before_end() {
    for (start, end) in [("2026-01-01", "2025-01-01"), ("2025-01-01", "2025-01-01")] {
        assert_eq!(
            partition_errors(quote!(partitions = daily(start = #start, end = #end))),
            [format!(
                "`start = \"{start}\"` is not before `end = \"{end}\"`, so no partition is in \
                 range: `end` is the first partition out of range, and must come after `start`"
            )]
        );
    }
    // A date is its midnight: the same instant as its hour 00.
    assert_eq!(
        partition_errors(quote!(
            partitions = hourly(start = "2025-01-01T00", end = "2025-01-01")
        ))
        .len(),
        1
    );
}

#[test]
fn time_zones_are_checked() {
    assert_eq!(
        partition_errors(quote!(partitions = hourly(tz = "europe/london"))),
        [
            "unknown time zone \"europe/london\"; did you mean `Europe/London`? (time zone \
             names are case-sensitive)"
        ]
    );
}

#[test]
fn partitioned_false_contradicts_declared_partitions() {
    assert_eq!(
        partition_errors(quote!(partitioned = false, partitions = hourly)),
        [
            "`partitioned = false` contradicts `partitions = hourly`: remove `partitioned = false` \
          to partition the asset as declared, or remove `partitions = hourly` to leave it \
          unpartitioned"
        ]
    );
    assert_eq!(
        partition_errors(quote!(static_keys = ["eu"], partitioned = false)),
        [
            "`partitioned = false` contradicts `static_keys`: remove `partitioned = false` to \
          partition the asset as declared, or remove `static_keys` to leave it unpartitioned"
        ]
    );
}

#[test]
fn time_and_static_partitions_exclude_each_other() {
    assert_eq!(
        partition_errors(quote!(partitions = daily, static_keys = ["eu"])),
        [
            "an asset is partitioned by time or by a list of keys, not both: remove \
          `partitions = daily` or `static_keys`"
        ]
    );
}

#[test]
fn static_keys_are_distinct_and_safe() {
    assert_eq!(
        partition_errors(quote!(static_keys = [])),
        [
            "`static_keys` needs at least one key, e.g. `static_keys = [\"eu\", \"us\"]`; to \
          leave the asset unpartitioned, write `partitioned = false`"
        ]
    );
    assert_eq!(
        partition_errors(quote!(
            static_keys = ["eu", "us", "eu", "", "eu west", "eu"]
        )),
        [
            "static key \"eu\" is listed twice in `static_keys`; list each key once",
            "a static key cannot be empty, as static keys become Delta partition values and \
             CLI arguments; e.g. `static_keys = [\"eu\", \"us\"]`",
            "static key \"eu west\" contains a space: use only ASCII letters, digits, `_`, `.` \
             and `-`, as static keys become Delta partition values and CLI arguments",
            "static key \"eu\" is listed twice in `static_keys`; list each key once",
        ]
    );
}

#[test]
fn every_partition_mistake_is_reported_together() {
    let errors = partition_errors(quote! {
        partitioned = false,
        partitions = hourly(start = "2025-13-01", tz = "Mars/Base"),
        static_keys = ["a b"]
    });
    assert_eq!(errors.len(), 6, "{errors:?}");
}

// ---------------------------------------------------------------------------------------------
// The function

const EXPECTED: &str =
    "expected `async fn name(ctx: &PartitionContext) -> phlo::Result<Vec<RecordBatch>>`";

#[test]
fn async_and_sync_functions_are_accepted() {
    assert!(
        signature_errors(quote!(
            async fn f(ctx: &PartitionContext) -> R {
                x
            }
        ))
        .is_empty()
    );
    assert!(
        signature_errors(quote!(
            pub fn f(_: &phlo::PartitionContext) -> R {
                x
            }
        ))
        .is_empty()
    );
}

#[test]
fn exactly_one_parameter() {
    assert_eq!(
        signature_errors(quote!(
            async fn f() -> R {
                x
            }
        )),
        [format!(
            "an `#[ingestion]` function takes the partition's context: add `ctx: &PartitionContext`; {EXPECTED}"
        )]
    );
    assert_eq!(
        signature_errors(quote!(
            async fn f(ctx: &PartitionContext, n: u8, m: u8) -> R {
                x
            }
        )),
        [format!(
            "an `#[ingestion]` function takes exactly one parameter, `ctx: &PartitionContext`; \
             remove the others; {EXPECTED}"
        )]
    );
}

#[test]
fn the_parameter_is_a_shared_reference() {
    assert_eq!(
        signature_errors(quote!(
            async fn f(ctx: PartitionContext) -> R {
                x
            }
        )),
        [format!(
            "take the context by reference: `ctx: &PartitionContext`; {EXPECTED}"
        )]
    );
    assert_eq!(
        signature_errors(quote!(
            async fn f(ctx: &mut PartitionContext) -> R {
                x
            }
        )),
        [format!(
            "borrow the context shared: `&PartitionContext`, not `&mut`; {EXPECTED}"
        )]
    );
}

#[test]
fn methods_are_rejected_once() {
    assert_eq!(
        signature_errors(quote!(
            async fn f(&self, ctx: &PartitionContext) -> R {
                x
            }
        )),
        [format!(
            "`#[ingestion]` goes on a free function, not a method: move it out of the `impl` block; {EXPECTED}"
        )]
    );
}

#[test]
fn generic_unsafe_and_unit_functions_are_rejected_together() {
    assert_eq!(
        signature_errors(quote!(
            unsafe fn f<T>(ctx: &T) {
                x
            }
        )),
        [
            format!("an `#[ingestion]` function cannot be `unsafe`; {EXPECTED}"),
            format!(
                "an `#[ingestion]` function cannot be generic: phlo calls it with a `&PartitionContext` \
                 and needs one concrete return type; {EXPECTED}"
            ),
            format!(
                "an `#[ingestion]` function returns its batches: add `-> phlo::Result<Vec<RecordBatch>>`; \
                 {EXPECTED}"
            ),
        ]
    );
}

#[test]
fn argument_and_signature_errors_are_reported_together() {
    let errors = crate::test_support::ingestion(
        quote!(table = "T", schema = E),
        quote!(
            fn f() -> R {
                x
            }
        ),
    )
    .err()
    .unwrap();
    assert_eq!(errors.len(), 3, "{errors:?}");
}
