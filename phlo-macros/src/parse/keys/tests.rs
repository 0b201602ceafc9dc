use super::*;
use syn::parse::Parser;

#[derive(Clone, Copy, Debug, PartialEq)]
enum K {
    A,
    B,
    C,
}

static SET: KeySet<K> = KeySet {
    place: "here",
    keys: &[
        Key::flag(K::A, "a"),
        Key::value(K::B, "b", "b = 1"),
        Key::list(K::C, "c", "c(x)"),
    ],
    elsewhere: Some(&OTHER),
};
static OTHER: KeySet<K> = KeySet {
    place: "there",
    keys: &[Key::flag(K::A, "z")],
    elsewhere: None,
};

/// Accepted key ids and error messages for `tokens`.
fn run(tokens: proc_macro2::TokenStream) -> (Vec<K>, Vec<String>) {
    let cx = Ctxt::new();
    let mut seen = Vec::new();
    let mut accepted = Vec::new();
    let parser = syn::meta::parser(|meta| {
        if let Some(key) = accept(&cx, &meta, &SET, &mut seen)? {
            accepted.push(key.id);
            if key.shape != Shape::Flag {
                skip_value(&meta)?;
            }
        }
        Ok(())
    });
    parser.parse2(tokens).unwrap();
    let errors = cx
        .check()
        .err()
        .map(|e| e.into_iter().map(|e| e.to_string()).collect());
    (accepted, errors.unwrap_or_default())
}

#[test]
fn accepts_keys_in_their_shape() {
    let (keys, errors) = run(quote::quote!(a, b = 1, c(x)));
    assert_eq!(keys, [K::A, K::B, K::C]);
    assert!(errors.is_empty());
}

#[test]
fn unknown_key_lists_valid_keys_and_reading_goes_on() {
    let (keys, errors) = run(quote::quote!(nope = [1, 2], b = 2));
    assert_eq!(keys, [K::B]);
    assert_eq!(
        errors,
        ["unknown phlo attribute `nope`; valid keys are: a, b, c"]
    );
}

#[test]
fn misplaced_key_says_where_it_goes() {
    let (_, errors) = run(quote::quote!(z));
    assert_eq!(errors, ["`z` goes there, not here"]);
}

#[test]
fn duplicate_and_wrong_shape_are_reported_together() {
    let (keys, errors) = run(quote::quote!(a, a, b, c = 1));
    assert_eq!(keys, [K::A]);
    assert_eq!(
        errors,
        [
            "duplicate phlo attribute `a`; give it once",
            "`b` takes a value: write `b = 1`",
            "`c` takes a parenthesized list: write `c(x)`",
        ]
    );
}

#[test]
fn flag_with_a_value_is_rejected() {
    let (_, errors) = run(quote::quote!(a = true));
    assert_eq!(errors, ["`a` is a flag and takes no value: write `a`"]);
}
