use proc_macro2::TokenStream;
use quote::quote;

use crate::test_support::quality;

fn expand(args: TokenStream, item: TokenStream) -> String {
    quality(args, item).unwrap().to_string()
}

#[test]
fn list_asset_expands_as_in_the_contract() {
    let item = quote!(
        fn events_quality() {}
    );
    let actual = quality(
        quote! {
            table = "bronze.events", blocking = true, checks = [
                NullCheck::new(["id", "ts"]),
                CountCheck::new().min_rows(1),
            ]
        },
        item.clone(),
    )
    .unwrap();
    let expected = quote! {
        #item
        #[doc(hidden)]
        #[allow(non_snake_case)]
        fn __phlo_checks_events_quality() -> ::std::vec::Vec<::std::boxed::Box<dyn ::phlo::quality::Check>> {
            let _ = events_quality;
            ::std::vec![
                ::phlo::__private::boxed_check(NullCheck::new(["id", "ts"])),
                ::phlo::__private::boxed_check(CountCheck::new().min_rows(1))
            ]
        }
        ::phlo::__private::inventory::submit! {
            ::phlo::__private::QualityDescriptor {
                name: "events_quality",
                spec: ::phlo::__private::QualitySpec {
                    table: "bronze.events",
                    blocking: true,
                    ..::phlo::__private::QualitySpec::DEFAULT
                },
                checks: __phlo_checks_events_quality,
                custom: ::core::option::Option::None,
                location: ::phlo::__private::Location {
                    file: ::core::file!(),
                    line: ::core::line!(),
                    column: ::core::column!(),
                    module: ::core::module_path!(),
                },
            }
        }
    };
    assert_eq!(actual.to_string(), expected.to_string());
}

#[test]
fn async_custom_check_gets_an_adapter() {
    let actual = expand(
        quote!(table = "bronze.events"),
        quote!(
            async fn categories_balanced(scope: &CheckScope) -> phlo::Result<CheckOutcome> {
                todo!()
            }
        ),
    );
    let adapter = quote! {
        #[doc(hidden)]
        #[allow(non_snake_case)]
        fn __phlo_check_categories_balanced(scope: ::phlo::quality::CheckScope) -> ::phlo::quality::CheckFuture {
            ::phlo::__private::check_async(async move { categories_balanced(&scope).await })
        }
    };
    assert!(actual.contains(&adapter.to_string()), "{actual}");
    let custom = quote!(custom: ::core::option::Option::Some(__phlo_check_categories_balanced),);
    assert!(actual.contains(&custom.to_string()), "{actual}");
    // No checks listed: an empty list, and the function is used by its adapter.
    let checks = quote! {
        fn __phlo_checks_categories_balanced() -> ::std::vec::Vec<::std::boxed::Box<dyn ::phlo::quality::Check>> {
            ::std::vec![]
        }
    };
    assert!(actual.contains(&checks.to_string()), "{actual}");
}

#[test]
fn sync_custom_check_uses_check_sync() {
    let actual = expand(
        quote!(table = "a.b", checks = [CountCheck::new()]),
        quote!(
            fn check(scope: &CheckScope) -> phlo::Result<CheckOutcome> {
                todo!()
            }
        ),
    );
    let call = quote!(::phlo::__private::check_sync(scope, |scope| check(scope))).to_string();
    assert!(actual.contains(&call), "{actual}");
    assert!(
        actual.contains(&quote!(boxed_check(CountCheck::new())).to_string()),
        "{actual}"
    );
}

#[test]
fn every_set_key_reaches_the_spec() {
    let actual = expand(
        quote! {
            table = "silver.events", checks = [C], blocking = false, partition_aware = false,
            rolling_window_days = 3, group = "g"
        },
        quote!(
            fn q() {}
        ),
    );
    let spec = quote! {
        spec: ::phlo::__private::QualitySpec {
            table: "silver.events",
            blocking: false,
            partition_aware: false,
            rolling_window_days: 3,
            group: ::core::option::Option::Some("g"),
            ..::phlo::__private::QualitySpec::DEFAULT
        },
    };
    assert!(actual.contains(&spec.to_string()), "{actual}");
    let actual = expand(
        quote!(table = "a.b", checks = [C], full_table = true),
        quote!(
            fn q() {}
        ),
    );
    assert!(actual.contains("full_table : true"), "{actual}");
    let actual = expand(
        quote!(table = "a.b", checks = [C], partition_column = "day"),
        quote!(
            fn q() {}
        ),
    );
    assert!(
        actual.contains("partition_column : :: core :: option :: Option :: Some (\"day\")"),
        "{actual}"
    );
}

#[test]
fn columns_are_checked_against_schema_key() {
    let actual = expand(
        quote! {
            table = "a.b", schema = models::Event, checks = [
                NullCheck::new(["id", "_phlo_ingested_at"]),
                RangeCheck::new("value").min(0.0),
                CountCheck::new(),
                CustomSqlCheck::new("x", "SELECT 1"),
            ]
        },
        quote!(
            fn q() {}
        ),
    );
    let assertion = quote! {
        const _: &'static ::phlo::__private::SchemaDef = <models::Event as ::phlo::Schema>::SCHEMA;
    };
    assert!(actual.contains(&assertion.to_string()), "{actual}");
    let check = quote! {
        const _: () = {
            if !::phlo::__private::has_field(<models::Event as ::phlo::Schema>::SCHEMA, "id") {
                ::core::panic!("`NullCheck` names `id`, which is not a field of `models::Event`");
            }
        };
    };
    assert!(actual.contains(&check.to_string()), "{actual}");
    assert!(
        actual.contains("`RangeCheck` names `value`, which is not a field of `models::Event`"),
        "{actual}"
    );
    assert_eq!(actual.matches("has_field").count(), 2, "{actual}");
}

#[test]
fn columns_are_checked_against_schema_check_of() {
    let actual = expand(
        quote! {
            table = "a.b", checks = [
                UniqueCheck::new(["id"]),
                SchemaCheck::of::<Event>(),
                phlo::quality::SchemaCheck::of::<Event>(),
            ]
        },
        quote!(
            fn q() {}
        ),
    );
    assert!(
        actual.contains("`UniqueCheck` names `id`, which is not a field of `Event`"),
        "{actual}"
    );
    // One check per column and distinct schema; no assertion without `schema = T`.
    assert_eq!(actual.matches("has_field").count(), 1, "{actual}");
    assert!(!actual.contains("SchemaDef ="), "{actual}");
}

#[test]
fn without_a_schema_no_column_is_checked() {
    let actual = expand(
        quote!(table = "a.b", checks = [NullCheck::new("id")]),
        quote!(
            fn q() {}
        ),
    );
    assert!(!actual.contains("has_field"), "{actual}");
}

#[test]
fn check_messages_escape_braces() {
    let actual = expand(
        quote!(table = "a.b", schema = E, checks = [NullCheck::new("a{b}")]),
        quote!(
            fn q() {}
        ),
    );
    assert!(actual.contains("names `a{{b}}`"), "{actual}");
}

#[test]
fn cfg_attributes_follow_the_function() {
    let actual = expand(
        quote!(table = "a.b", schema = E, checks = [NullCheck::new("id")]),
        quote!(
            #[cfg(feature = "x")]
            async fn f(scope: &CheckScope) -> R {
                x
            }
        ),
    );
    // The function, the checks, the adapter, the assertion, the column check, the descriptor.
    assert_eq!(
        actual
            .matches(&quote!(#[cfg(feature = "x")]).to_string())
            .count(),
        6,
        "{actual}"
    );
}

#[test]
fn quality_uses_the_crate_override() {
    let actual = expand(
        quote!(table = "a.b", crate = "::renamed"),
        quote!(
            async fn f(scope: &CheckScope) -> R {
                x
            }
        ),
    );
    assert!(
        actual.contains(&quote!(::renamed::__private::inventory::submit!).to_string()),
        "{actual}"
    );
    assert!(!actual.contains(":: phlo ::"), "{actual}");
}

#[test]
fn fallback_reemits_the_function_untouched() {
    let item = quote!(
        pub fn q() {
            body
        }
    );
    let errors = crate::expand_quality(quote!(table = "Events"), &item).unwrap_err();
    let actual = crate::fallback::quality(item.clone(), &[], &errors).to_string();
    assert!(actual.starts_with(&item.to_string()), "{actual}");
    // The invalid table name and the missing checks.
    assert_eq!(actual.matches("compile_error").count(), 2, "{actual}");
    assert!(!actual.contains("__phlo_checks"), "{actual}");
}

#[test]
fn fallback_keeps_the_listed_checks_named() {
    let args = quote!(
        table = "events",
        blocks = [x],
        checks = [NullCheck::new("id"), SchemaCheck::of::<E>()]
    );
    let checks = crate::parse::quality_written_checks(args.clone());
    let item = quote!(
        fn q() {}
    );
    let errors = crate::expand_quality(args, &item).unwrap_err();
    let actual = crate::fallback::quality(item, &checks, &errors).to_string();
    let named = quote! {
        const _: () = {
            #[allow(dead_code)]
            fn __phlo_checks() {
                let _ = (NullCheck::new("id"), SchemaCheck::of::<E>(),);
            }
        };
    };
    assert!(actual.contains(&named.to_string()), "{actual}");
    // Unreadable arguments name nothing.
    assert!(crate::parse::quality_written_checks(quote!(checks = [a], = =)).len() <= 1);
    assert!(crate::parse::quality_written_checks(quote!(checks = NullCheck::new("id"))).is_empty());
}
