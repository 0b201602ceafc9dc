use quote::quote;

use crate::test_support::{quality, quality_errors, quality_fn_errors};

const EXPECTED: &str = "expected `fn name() {}` with `checks = [...]`, or a custom check \
                        `async fn name(scope: &CheckScope) -> phlo::Result<CheckOutcome>`";

#[test]
fn a_complete_quality_asset_is_valid() {
    let errors = quality_errors(quote! {
        table = "bronze.events", blocking = true, partition_aware = false,
        rolling_window_days = 3, group = "g", schema = Event,
        checks = [NullCheck::new(["id"]), SchemaCheck::of::<Event>()],
    });
    assert!(errors.is_empty(), "{errors:?}");
    let errors = quality_errors(quote! {
        table = "_x.y1", full_table = true, partition_aware = false, checks = [CountCheck::new()]
    });
    assert!(errors.is_empty(), "{errors:?}");
}

#[test]
fn the_table_is_a_valid_name_bare_or_in_full() {
    // A bare name means `bronze.name`, as for `#[ingestion]`.
    assert!(quality_errors(quote!(table = "events", checks = [CountCheck::new()])).is_empty());
    for invalid in [
        "Bronze.events",
        "bronze.",
        "a.b.c",
        "bronze/events",
        ".events",
        "1a.b",
    ] {
        assert_eq!(
            quality_errors(quote!(table = #invalid, checks = [CountCheck::new()])),
            [format!(
                "invalid table name \"{invalid}\": write `name` or `namespace.name`, e.g. \
                 `bronze.events`, each part made of lowercase letters, digits and `_`, not \
                 starting with a digit (`[a-z_][a-z0-9_]*`)"
            )],
        );
    }
}

#[test]
fn partition_column_is_a_column_name() {
    assert_eq!(
        quality_errors(quote!(
            table = "a.b",
            checks = [C],
            partition_column = "event date"
        )),
        [
            "`partition_column` names a column, \"event date\" is not one: letters, digits and `_`, \
          not starting with a digit, e.g. `partition_column = \"event_date\"`"
        ]
    );
}

#[test]
fn the_window_has_at_least_a_day() {
    assert_eq!(
        quality_errors(quote!(table = "a.b", checks = [C], rolling_window_days = 0)),
        [
            "`rolling_window_days` must be at least 1: without a partition, checks cover that many \
          days back from the run"
        ]
    );
}

#[test]
fn full_table_leaves_the_other_scopes_unused() {
    let fix = "checks of a `full_table = true` asset always cover the whole table; remove one";
    assert_eq!(
        quality_errors(quote! {
            table = "a.b", checks = [C], full_table = true, partition_aware = true,
            rolling_window_days = 3, partition_column = "day"
        }),
        [
            format!("`partition_aware = true` contradicts `full_table = true`: {fix}"),
            format!("`rolling_window_days` is unused with `full_table = true`: {fix}"),
            format!("`partition_column` is unused with `full_table = true`: {fix}"),
        ]
    );
    assert_eq!(
        quality_errors(quote! {
            table = "a.b", checks = [C], partition_aware = false, partition_column = "day"
        }),
        [
            "`partition_column` is unused with `partition_aware = false`: checks then cover a \
          rolling window, not a partition; remove one"
        ]
    );
}

#[test]
fn custom_checks_may_be_async_or_not() {
    for item in [
        quote!(
            async fn f(scope: &CheckScope) -> phlo::Result<CheckOutcome> {
                body
            }
        ),
        quote!(
            pub fn f(_: &phlo::quality::CheckScope) -> R {
                body
            }
        ),
    ] {
        let errors = quality_fn_errors(item);
        assert!(errors.is_empty(), "{errors:?}");
    }
}

#[test]
fn a_list_asset_needs_checks() {
    assert_eq!(
        quality_fn_errors(quote!(
            fn f() {}
        )),
        [
            "a quality asset needs `checks = [...]` or a function taking `scope: &CheckScope`: add \
          `checks = [NullCheck::new([\"id\"])]` to `#[quality(...)]`, or write a custom check \
          here, `(scope: &CheckScope) -> phlo::Result<CheckOutcome>`"
        ]
    );
    // Missing checks is the one mistake reported, even with a body.
    assert_eq!(
        quality_fn_errors(quote!(
            fn f() {
                body
            }
        ))
        .len(),
        1
    );
}

#[test]
fn the_body_of_a_list_asset_is_never_called() {
    let errors = quality(
        quote!(table = "a.b", checks = [C]),
        quote!(
            async fn f() {
                body
            }
        ),
    )
    .unwrap_err();
    assert_eq!(
        errors,
        [
            "this body is never called: a `#[quality]` function without parameter only registers \
          its `checks`; leave the body empty (`{}`), or take `scope: &CheckScope` and return \
          `phlo::Result<CheckOutcome>` to run it as a custom check"
        ]
    );
}

#[test]
fn the_scope_is_borrowed_shared() {
    assert_eq!(
        quality_fn_errors(quote!(
            fn f(scope: CheckScope) -> R {
                x
            }
        )),
        [format!(
            "a custom quality check borrows the scope: write `scope: &CheckScope`; {EXPECTED}"
        )]
    );
    assert_eq!(
        quality_fn_errors(quote!(
            fn f(scope: &mut CheckScope) -> R {
                x
            }
        )),
        [format!(
            "borrow the scope shared: `&CheckScope`, not `&mut`; {EXPECTED}"
        )]
    );
}

#[test]
fn one_parameter_and_a_return_type() {
    assert_eq!(
        quality_fn_errors(quote!(
            async fn f(scope: &CheckScope, n: u8) {}
        )),
        [
            format!(
                "a custom quality check takes exactly one parameter, `scope: &CheckScope`; \
                 remove the others; {EXPECTED}"
            ),
            format!(
                "a custom quality check returns its outcome: add `-> phlo::Result<CheckOutcome>`; \
                 {EXPECTED}"
            ),
        ]
    );
}

#[test]
fn methods_generics_and_unsafe_are_rejected() {
    assert_eq!(
        quality_fn_errors(quote!(
            unsafe fn f<T>(&self) -> R {
                x
            }
        )),
        [
            format!("a `#[quality]` function cannot be `unsafe`; {EXPECTED}"),
            format!(
                "a `#[quality]` function cannot be generic: phlo calls it with a `&CheckScope` \
                 and needs one concrete return type; {EXPECTED}"
            ),
            format!(
                "`#[quality]` goes on a free function, not a method: move it out of the `impl` \
                 block; {EXPECTED}"
            ),
        ]
    );
}

#[test]
fn argument_and_signature_errors_are_reported_together() {
    let errors = quality(
        quote!(table = "bronze/events", checks = [C]),
        quote!(
            fn f(scope: CheckScope) -> R {
                x
            }
        ),
    )
    .unwrap_err();
    assert_eq!(errors.len(), 2, "{errors:?}");
}
