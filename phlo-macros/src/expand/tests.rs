use proc_macro2::TokenStream;
use quote::quote;

use crate::test_support::{derive_schema, ingestion};

fn assert_tokens(actual: TokenStream, expected: TokenStream) {
    assert_eq!(actual.to_string(), expected.to_string());
}

fn expand_ingestion(args: TokenStream, item: TokenStream) -> TokenStream {
    ingestion(args, item).unwrap()
}

#[test]
fn schema_expands_as_in_the_contract() {
    let actual = derive_schema(quote! {
        #[phlo(schema_policy = "drop_extra")]
        struct Event {
            #[phlo(unique)] id: String,
            #[phlo(ge = 0.0, le = 100.0)] value: f64,
            #[phlo(isin = ["a", "b"])] category: String,
            #[phlo(regex = "^[a-z]+$", str_length(min = 1, max = 10))] code: String,
            #[phlo(check = my_mod::positive)] score: Option<i64>,
            #[phlo(gt = -3, notin = [-1.5, 2.0], lt = 7)] r#type: i32,
        }
    })
    .unwrap();
    let expected = quote! {
        impl ::phlo::Schema for Event {
            const SCHEMA: &'static ::phlo::__private::SchemaDef = &::phlo::__private::SchemaDef {
                name: "Event",
                fields: &[
                    ::phlo::__private::FieldDef {
                        name: "id",
                        field_type: <String as ::phlo::__private::ArrowField>::FIELD_TYPE,
                        nullable: <String as ::phlo::__private::ArrowField>::NULLABLE,
                        constraints: &[::phlo::__private::Constraint::Unique],
                    },
                    ::phlo::__private::FieldDef {
                        name: "value",
                        field_type: <f64 as ::phlo::__private::ArrowField>::FIELD_TYPE,
                        nullable: <f64 as ::phlo::__private::ArrowField>::NULLABLE,
                        constraints: &[
                            ::phlo::__private::Constraint::Ge { bound: ::phlo::__private::Lit::Float(0.0) },
                            ::phlo::__private::Constraint::Le { bound: ::phlo::__private::Lit::Float(100.0) }
                        ],
                    },
                    ::phlo::__private::FieldDef {
                        name: "category",
                        field_type: <String as ::phlo::__private::ArrowField>::FIELD_TYPE,
                        nullable: <String as ::phlo::__private::ArrowField>::NULLABLE,
                        constraints: &[::phlo::__private::Constraint::IsIn {
                            values: &[::phlo::__private::Lit::Str("a"), ::phlo::__private::Lit::Str("b")]
                        }],
                    },
                    ::phlo::__private::FieldDef {
                        name: "code",
                        field_type: <String as ::phlo::__private::ArrowField>::FIELD_TYPE,
                        nullable: <String as ::phlo::__private::ArrowField>::NULLABLE,
                        constraints: &[
                            ::phlo::__private::Constraint::Regex { pattern: "^[a-z]+$" },
                            ::phlo::__private::Constraint::StrLength {
                                min: ::core::option::Option::Some(1),
                                max: ::core::option::Option::Some(10)
                            }
                        ],
                    },
                    ::phlo::__private::FieldDef {
                        name: "score",
                        field_type: <Option<i64> as ::phlo::__private::ArrowField>::FIELD_TYPE,
                        nullable: <Option<i64> as ::phlo::__private::ArrowField>::NULLABLE,
                        constraints: &[::phlo::__private::Constraint::Custom {
                            name: "my_mod::positive",
                            check: my_mod::positive as ::phlo::__private::ColumnCheckFn
                        }],
                    },
                    ::phlo::__private::FieldDef {
                        name: "type",
                        field_type: <i32 as ::phlo::__private::ArrowField>::FIELD_TYPE,
                        nullable: <i32 as ::phlo::__private::ArrowField>::NULLABLE,
                        constraints: &[
                            ::phlo::__private::Constraint::Gt { bound: ::phlo::__private::Lit::Int(-3) },
                            ::phlo::__private::Constraint::NotIn {
                                values: &[::phlo::__private::Lit::Float(-1.5), ::phlo::__private::Lit::Float(2.0)]
                            },
                            ::phlo::__private::Constraint::Lt { bound: ::phlo::__private::Lit::Int(7) }
                        ],
                    }
                ],
                policy: ::phlo::__private::SchemaPolicy::DropExtra,
            };
            fn to_record_batch(
                rows: &[Self],
            ) -> ::core::result::Result<
                ::phlo::arrow::record_batch::RecordBatch,
                ::phlo::arrow::error::ArrowError,
            > {
                ::phlo::__private::batch_from_columns(Self::SCHEMA, ::std::vec![
                    ::phlo::__private::column(rows, |r: &Self| &r.id),
                    ::phlo::__private::column(rows, |r: &Self| &r.value),
                    ::phlo::__private::column(rows, |r: &Self| &r.category),
                    ::phlo::__private::column(rows, |r: &Self| &r.code),
                    ::phlo::__private::column(rows, |r: &Self| &r.score),
                    ::phlo::__private::column(rows, |r: &Self| &r.r#type)
                ])
            }
        }
        ::phlo::__private::inventory::submit! {
            ::phlo::__private::SchemaRegistration {
                name: "Event",
                module: ::core::module_path!(),
                schema: <Event as ::phlo::Schema>::SCHEMA,
            }
        }
    };
    assert_tokens(actual, expected);
}

#[test]
fn schema_uses_the_crate_override() {
    let actual = derive_schema(quote!(
        #[phlo(crate = "my_phlo")]
        struct E {
            #[phlo(isin = [true])]
            b: bool,
        }
    ))
    .unwrap()
    .to_string();
    assert!(
        actual.starts_with(&quote!(impl my_phlo::Schema for E).to_string()),
        "{actual}"
    );
    assert!(
        actual.contains(&quote!(my_phlo::__private::Lit::Bool(true)).to_string()),
        "{actual}"
    );
    assert!(!actual.contains(":: phlo ::"), "{actual}");
}

#[test]
fn fallback_skeleton_keeps_fields_but_drops_constraints() {
    let input = syn::parse_quote!(
        struct E {
            #[phlo(ge = "x")]
            v: i64,
        }
    );
    let cx = crate::ctxt::Ctxt::new();
    let schema = crate::parse::schema(&cx, &input);
    let errors = cx.check().unwrap_err();
    let actual = crate::fallback::schema(&schema, &errors).to_string();
    assert!(actual.starts_with(":: core :: compile_error"), "{actual}");
    assert!(actual.contains("name : \"v\""), "{actual}");
    assert!(actual.contains("constraints : & []"), "{actual}");
}

#[test]
fn fallback_skeleton_of_an_enum_has_no_field() {
    let input = syn::parse_quote!(
        enum E {
            A,
        }
    );
    let cx = crate::ctxt::Ctxt::new();
    let schema = crate::parse::schema(&cx, &input);
    let actual = crate::fallback::schema(&schema, &cx.check().unwrap_err()).to_string();
    assert!(actual.contains("fields : & []"), "{actual}");
    assert!(actual.contains("_rows"), "{actual}");
}

#[test]
fn async_ingestion_expands_as_in_the_contract() {
    let item = quote! {
        pub async fn api_events(ctx: &PartitionContext) -> phlo::Result<Vec<RecordBatch>> { todo!() }
    };
    let actual = expand_ingestion(
        quote!(table = "events", unique_key = "id", schema = Event),
        item.clone(),
    );
    let expected = quote! {
        #item
        #[doc(hidden)]
        #[allow(non_snake_case)]
        fn __phlo_fetch_api_events(ctx: ::phlo::PartitionContext) -> ::phlo::__private::FetchFuture {
            ::phlo::__private::fetch_async(async move { api_events(&ctx).await })
        }
        const _: () = {
            if !::phlo::__private::has_field(<Event as ::phlo::Schema>::SCHEMA, "id") {
                ::core::panic!("`unique_key` names `id`, which is not a field of `Event`");
            }
        };
        ::phlo::__private::inventory::submit! {
            ::phlo::__private::IngestionDescriptor {
                name: "api_events",
                spec: ::phlo::__private::IngestionSpec {
                    table: "events",
                    unique_key: &["id"],
                    ..::phlo::__private::IngestionSpec::DEFAULT
                },
                schema: <Event as ::phlo::Schema>::SCHEMA,
                fetch: __phlo_fetch_api_events,
                location: ::phlo::__private::Location {
                    file: ::core::file!(),
                    line: ::core::line!(),
                    column: ::core::column!(),
                    module: ::core::module_path!(),
                },
            }
        }
    };
    assert_tokens(actual, expected);
}

#[test]
fn sync_ingestion_uses_fetch_sync() {
    let actual = expand_ingestion(
        quote!(table = "t", merge_strategy = "append", schema = E),
        quote!(
            fn load(ctx: &PartitionContext) -> phlo::Result<Vec<RecordBatch>> {
                todo!()
            }
        ),
    )
    .to_string();
    let call = quote!(::phlo::__private::fetch_sync(ctx, |ctx| load(ctx))).to_string();
    assert!(actual.contains(&call), "{actual}");
    assert!(
        !actual.contains("has_field"),
        "no column named, no check: {actual}"
    );
}

#[test]
fn every_set_key_reaches_the_spec() {
    let actual = expand_ingestion(
        quote! {
            table = "silver.events", unique_key = ["id", "day"], schema = models::Event, group = "api",
            cron = "@daily", freshness_hours = (24, 48.5), merge_strategy = "replace_partition",
            dedup = "hash", order_by = "ts", max_retries = 3, retry_delay_seconds = 0.5,
            max_runtime_seconds = 600, validate = false, strict_validation = false,
            add_metadata_columns = true, partitioned = false
        },
        quote!(async fn events(ctx: &PartitionContext) -> R { x }),
    )
    .to_string();
    let spec = quote! {
        spec: ::phlo::__private::IngestionSpec {
            table: "silver.events",
            unique_key: &["id", "day"],
            group: ::core::option::Option::Some("api"),
            cron: ::core::option::Option::Some("@daily"),
            freshness_hours: ::core::option::Option::Some((24.0, 48.5)),
            merge_strategy: ::phlo::__private::MergeStrategy::ReplacePartition,
            dedup: ::core::option::Option::Some(::phlo::__private::Dedup::Hash),
            order_by: ::core::option::Option::Some("ts"),
            max_retries: 3,
            retry_delay_seconds: 0.5,
            max_runtime_seconds: 600.0,
            validate: false,
            strict_validation: false,
            add_metadata_columns: true,
            partitions: ::phlo::__private::PartitionsSpec::None,
            ..::phlo::__private::IngestionSpec::DEFAULT
        },
        schema: <models::Event as ::phlo::Schema>::SCHEMA,
    };
    assert!(actual.contains(&spec.to_string()), "{actual}");
    for (key, column) in [
        ("unique_key", "id"),
        ("unique_key", "day"),
        ("order_by", "ts"),
    ] {
        let message = format!("`{key}` names `{column}`, which is not a field of `models::Event`");
        assert!(actual.contains(&message), "{message} in {actual}");
    }
}

/// The `partitions` field `written` expands to, or `None` when the spec leaves it to `DEFAULT`.
fn partitions_field(written: TokenStream) -> Option<String> {
    let actual = expand_ingestion(
        quote!(table = "t", unique_key = "id", schema = E, #written),
        quote!(
            async fn events(ctx: &PartitionContext) -> R {
                x
            }
        ),
    )
    .to_string();
    let start = actual.find("partitions :")?;
    let end = actual[start..].find(".. :: phlo")? + start;
    Some(
        actual[start..end]
            .trim_end()
            .trim_end_matches(',')
            .trim_end()
            .to_string(),
    )
}

#[test]
fn partitions_reach_the_spec() {
    assert_eq!(partitions_field(quote!()), None);
    assert_eq!(partitions_field(quote!(partitioned = true)), None);
    let expected = |tokens: TokenStream| Some(quote!(partitions: #tokens).to_string());
    assert_eq!(
        partitions_field(quote!(partitioned = false)),
        expected(quote!(::phlo::__private::PartitionsSpec::None))
    );
    assert_eq!(
        partitions_field(quote!(partitions = daily)),
        expected(quote! {
            ::phlo::__private::PartitionsSpec::Time {
                cadence: ::phlo::__private::Cadence::Daily,
                start: ::core::option::Option::None,
                end: ::core::option::Option::None,
                timezone: "UTC",
                end_offset: 0,
            }
        })
    );
    assert_eq!(
        partitions_field(quote! {
            partitions = hourly(start = "2025-01-01T00", end = "2026-01-01T00", tz = "Europe/London", end_offset = -1),
            partitioned = true
        }),
        expected(quote! {
            ::phlo::__private::PartitionsSpec::Time {
                cadence: ::phlo::__private::Cadence::Hourly,
                start: ::core::option::Option::Some("2025-01-01T00"),
                end: ::core::option::Option::Some("2026-01-01T00"),
                timezone: "Europe/London",
                end_offset: -1,
            }
        })
    );
    assert_eq!(
        partitions_field(quote!(partitions = monthly(start = "2020-01"))),
        expected(quote! {
            ::phlo::__private::PartitionsSpec::Time {
                cadence: ::phlo::__private::Cadence::Monthly,
                start: ::core::option::Option::Some("2020-01"),
                end: ::core::option::Option::None,
                timezone: "UTC",
                end_offset: 0,
            }
        })
    );
    assert_eq!(
        partitions_field(quote!(static_keys = ["eu", "us"])),
        expected(quote!(::phlo::__private::PartitionsSpec::Static {
            keys: &["eu", "us"]
        }))
    );
}

#[test]
fn cfg_attributes_follow_the_function() {
    let actual = expand_ingestion(
        quote!(table = "t", unique_key = "id", schema = E),
        quote!(
            #[cfg(feature = "x")]
            async fn f(ctx: &PartitionContext) -> R {
                x
            }
        ),
    )
    .to_string();
    // The function, the adapter, the check and the descriptor.
    assert_eq!(
        actual
            .matches(&quote!(#[cfg(feature = "x")]).to_string())
            .count(),
        4,
        "{actual}"
    );
}

#[test]
fn check_messages_escape_braces() {
    let actual = expand_ingestion(
        quote!(table = "t", unique_key = "a{b}", schema = E),
        quote!(
            async fn f(ctx: &PartitionContext) -> R {
                x
            }
        ),
    )
    .to_string();
    assert!(actual.contains("names `a{{b}}`"), "{actual}");
}

#[test]
fn ingestion_uses_the_crate_override() {
    let actual = expand_ingestion(
        quote!(
            table = "t",
            unique_key = "id",
            schema = E,
            crate = "::renamed"
        ),
        quote!(
            async fn f(ctx: &PartitionContext) -> R {
                x
            }
        ),
    )
    .to_string();
    assert!(
        actual.contains(&quote!(::renamed::__private::inventory::submit!).to_string()),
        "{actual}"
    );
    assert!(!actual.contains(":: phlo ::"), "{actual}");
}

#[test]
fn fallback_reemits_the_function_untouched() {
    let item = quote!(
        pub async fn f() -> R {
            body
        }
    );
    let errors = crate::expand_ingestion(quote!(table = "t"), &item).unwrap_err();
    let actual = crate::fallback::ingestion(item.clone(), &errors).to_string();
    assert!(actual.starts_with(&item.to_string()), "{actual}");
    // The missing `schema` and the missing parameter.
    assert_eq!(actual.matches("compile_error").count(), 2, "{actual}");
}
