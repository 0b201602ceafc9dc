use quote::quote;

use super::*;
use crate::test_support::{messages, schema_errors};

/// The model and the messages of the parse phase alone.
fn parse(input: proc_macro2::TokenStream) -> (model::Schema, Vec<String>) {
    let input: DeriveInput = syn::parse2(input).unwrap();
    let cx = Ctxt::new();
    let schema = schema(&cx, &input);
    (schema, cx.check().err().map(messages).unwrap_or_default())
}

fn keys(field: &model::Field) -> Vec<&'static str> {
    field
        .constraints
        .iter()
        .map(|constraint| constraint.kind.key())
        .collect()
}

#[test]
fn reads_struct_and_field_keys_in_order() {
    let (schema, errors) = parse(quote! {
        #[phlo(schema_policy = "drop_extra", crate = "::my_phlo")]
        struct Event {
            #[phlo(unique)]
            #[phlo(ge = -1, lt = 2.5)]
            id: i64,
            #[phlo(isin = ["a"], notin = ["b"], regex = "^a$", str_length(min = 1), check = m::f)]
            name: String,
            plain: bool,
        }
    });
    assert!(errors.is_empty(), "{errors:?}");
    assert_eq!(schema.policy, SchemaPolicy::DropExtra);
    assert_eq!(
        schema.krate.to_token_stream().to_string(),
        quote!(::my_phlo).to_string()
    );
    assert_eq!(keys(&schema.fields[0]), ["unique", "ge", "lt"]);
    assert_eq!(
        keys(&schema.fields[1]),
        ["isin", "notin", "regex", "str_length", "check"]
    );
    assert!(schema.fields[2].constraints.is_empty());
    assert_eq!(
        schema.fields[0].constraints[1].origin.to_string(),
        quote!(ge = -1).to_string()
    );
}

#[test]
fn defaults_to_strict_and_phlo() {
    let (schema, _) = parse(quote!(
        struct Event {
            id: String,
        }
    ));
    assert_eq!(schema.policy, SchemaPolicy::Strict);
    assert_eq!(schema.krate, model::default_crate_path());
}

#[test]
fn unknown_field_key_lists_the_valid_ones() {
    assert_eq!(
        schema_errors(quote!(
            struct Event {
                #[phlo(uniq)]
                id: String,
            }
        )),
        [
            "unknown phlo attribute `uniq`; valid keys are: unique, ge, gt, le, lt, isin, notin, regex, \
          str_length, check"
        ]
    );
}

#[test]
fn misplaced_keys_say_where_they_go() {
    assert_eq!(
        schema_errors(quote!(
            #[phlo(unique)]
            struct Event {
                #[phlo(schema_policy = "strict")]
                id: String,
            }
        )),
        [
            "`unique` goes on a field, not on the struct",
            "`schema_policy` goes on the struct, not on a field"
        ]
    );
}

#[test]
fn every_bad_key_is_reported_at_once() {
    let errors = schema_errors(quote! {
        #[phlo(schema_policy = "loose")]
        struct Event {
            #[phlo(ge = "0", unique = true, regex = 3)]
            #[phlo(ge = 1)]
            a: i64,
            #[phlo(isin = [], check = "f", str_length(min = -1, len = 3))]
            b: String,
        }
    });
    assert_eq!(
        errors,
        [
            "`schema_policy` takes \"strict\", \"drop_extra\" or \"additive\"",
            "`ge` takes a number, e.g. `ge = 0`",
            "`unique` is a flag and takes no value: write `unique`",
            "`regex` takes a string, e.g. `regex = \"^[a-z]+$\"`",
            "duplicate phlo attribute `ge`; give it once",
            "`isin` takes at least one value, e.g. `isin = [\"a\", \"b\"]`",
            "`check` takes the path of a check function, e.g. `check = my_checks::positive`",
            "`min` takes a whole number, e.g. `min = 1`",
            "unknown phlo attribute `len`; valid keys are: min, max",
        ]
    );
}

#[test]
fn a_bad_str_length_entry_drops_the_constraint() {
    let (schema, errors) = parse(quote!(
        struct Event {
            #[phlo(str_length(min = "1"))]
            code: String,
        }
    ));
    assert_eq!(errors.len(), 1);
    assert!(schema.fields[0].constraints.is_empty());
}

#[test]
fn bad_crate_path_is_reported() {
    assert_eq!(
        schema_errors(quote!(
            #[phlo(crate = "not a path")]
            struct Event {
                id: String,
            }
        )),
        ["`crate` takes the path of the phlo crate as a string, e.g. `crate = \"::phlo\"`"]
    );
}

#[test]
fn only_structs_with_named_fields() {
    let named = "`Schema` can only be derived for a struct with named fields, e.g. `struct Event { id: String }`";
    assert_eq!(
        schema_errors(quote!(
            enum Event {
                A,
            }
        )),
        [format!("{named}; `Event` is an enum")]
    );
    assert_eq!(
        schema_errors(quote!(union Event { a: u8 })),
        [format!("{named}; `Event` is a union")]
    );
    assert_eq!(
        schema_errors(quote!(
            struct Event(String);
        )),
        [named]
    );
    assert_eq!(
        schema_errors(quote!(
            struct Event;
        )),
        [named]
    );
    assert_eq!(
        schema_errors(quote!(
            struct Event {}
        )),
        ["`Schema` needs at least one field: each field is a column"]
    );
}

#[test]
fn other_attributes_are_ignored() {
    assert!(
        schema_errors(quote!(
            #[serde(rename = "x")]
            struct Event {
                #[doc = "id"]
                id: String,
            }
        ))
        .is_empty()
    );
}
