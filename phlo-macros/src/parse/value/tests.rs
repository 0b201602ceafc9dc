use super::*;
use syn::parse_quote;

const KEY: Key<()> = Key::value((), "k", "k = 1");

fn message<T: std::fmt::Debug>(result: syn::Result<T>) -> String {
    result.unwrap_err().to_string()
}

#[test]
fn numbers_keep_their_sign_and_kind() {
    assert_eq!(number(&parse_quote!(-3), &KEY).unwrap(), Number::Int(-3));
    assert_eq!(number(&parse_quote!(7u8), &KEY).unwrap(), Number::Int(7));
    let float = number(&parse_quote!(-1.5), &KEY).unwrap();
    assert_eq!(float, Number::Float(Finite::new(-1.5).unwrap()));
    assert_eq!(
        number(&parse_quote!(-9223372036854775808), &KEY).unwrap(),
        Number::Int(i64::MIN)
    );
}

#[test]
fn bad_numbers_teach() {
    assert_eq!(
        message(number(&parse_quote!("3"), &KEY)),
        "`k` takes a number, e.g. `k = 1`"
    );
    assert_eq!(
        message(number(&parse_quote!(99999999999999999999), &KEY)),
        "this integer does not fit in an i64"
    );
    assert_eq!(
        message(number(&parse_quote!(1e999), &KEY)),
        "this number is too large for an f64"
    );
}

#[test]
fn whole_numbers_reject_signs_and_fractions() {
    assert_eq!(whole::<u32, ()>(&parse_quote!(3), &KEY).unwrap(), 3);
    assert!(whole::<u32, ()>(&parse_quote!(-3), &KEY).is_err());
    assert!(whole::<u32, ()>(&parse_quote!(3.0), &KEY).is_err());
    assert!(whole::<u32, ()>(&parse_quote!(4294967296), &KEY).is_err());
}

#[test]
fn integers_keep_their_sign_and_reject_fractions() {
    assert_eq!(integer::<i32, ()>(&parse_quote!(-3), &KEY).unwrap(), -3);
    assert_eq!(integer::<i32, ()>(&parse_quote!(2), &KEY).unwrap(), 2);
    for fraction in [quote::quote!(1.5), quote::quote!(-1.0), quote::quote!("1")] {
        let expr: Expr = syn::parse2(fraction).unwrap();
        assert_eq!(
            message(integer::<i32, ()>(&expr, &KEY)),
            "`k` takes a whole number, possibly negative, e.g. `k = 1`"
        );
    }
    for too_large in [
        quote::quote!(2147483648),
        quote::quote!(-2147483649),
        quote::quote!(99999999999999999999),
    ] {
        let expr: Expr = syn::parse2(too_large).unwrap();
        assert_eq!(
            message(integer::<i32, ()>(&expr, &KEY)),
            "`k` takes a whole number, possibly negative, that fits in an `i32`, e.g. `k = 1`"
        );
    }
}

#[test]
fn choice_lists_the_options() {
    let options = [("a", 1), ("b", 2), ("c", 3)];
    assert_eq!(choice(&parse_quote!("b"), &KEY, &options).unwrap().value, 2);
    assert_eq!(
        message(choice(&parse_quote!("d"), &KEY, &options)),
        "`k` takes \"a\", \"b\" or \"c\""
    );
    assert_eq!(
        message(choice(&parse_quote!(a), &KEY, &options[..1])),
        "`k` takes \"a\""
    );
}

#[test]
fn strings_accept_one_or_a_list() {
    let one = strings(&parse_quote!("id"), &KEY).unwrap();
    assert_eq!(one.iter().map(LitStr::value).collect::<Vec<_>>(), ["id"]);
    let two = strings(&parse_quote!(["id", "day"]), &KEY).unwrap();
    assert_eq!(
        two.iter().map(LitStr::value).collect::<Vec<_>>(),
        ["id", "day"]
    );
    assert_eq!(
        message(strings(&parse_quote!([]), &KEY)),
        "`k` takes at least one string, e.g. `k = 1`"
    );
    assert!(strings(&parse_quote!(["id", 1]), &KEY).is_err());
}

#[test]
fn scalars_must_share_a_type() {
    let values = scalars(&parse_quote!([-1, 2]), &KEY).unwrap();
    assert_eq!(values.len(), 2);
    assert_eq!(
        message(scalars(&parse_quote!(["a", 1.5]), &KEY)),
        "`k` values must all have the same type: this is a float, the first one is a string"
    );
    assert_eq!(
        message(scalars(&parse_quote!([]), &KEY)),
        "`k` takes at least one value, e.g. `k = 1`"
    );
    assert!(scalars(&parse_quote!("a"), &KEY).is_err());
    assert!(scalars(&parse_quote!([x]), &KEY).is_err());
}

#[test]
fn pairs_have_exactly_two_numbers() {
    let (warn, error) = pair(&parse_quote!((1, 2.5)), &KEY).unwrap();
    assert_eq!((warn.value.get(), error.value.get()), (1.0, 2.5));
    assert!(pair(&parse_quote!((1, 2, 3)), &KEY).is_err());
    assert!(pair(&parse_quote!((1,)), &KEY).is_err());
    assert!(pair(&parse_quote!(1), &KEY).is_err());
}

#[test]
fn paths_bare_or_in_strings() {
    assert!(path(&parse_quote!(a::b), &KEY, "a path").is_ok());
    assert_eq!(
        message(path(&parse_quote!("a"), &KEY, "a path")),
        "`k` takes a path, e.g. `k = 1`"
    );
    assert!(path_in_string(&parse_quote!("::my_phlo"), &KEY).is_ok());
    assert!(path_in_string(&parse_quote!("not a path"), &KEY).is_err());
    assert!(path_in_string(&parse_quote!(my_phlo), &KEY).is_err());
}

#[test]
fn booleans_and_strings() {
    assert!(boolean(&parse_quote!(true), &KEY).unwrap());
    assert_eq!(
        message(boolean(&parse_quote!("true"), &KEY)),
        "`k` takes `true` or `false`, e.g. `k = 1`"
    );
    assert_eq!(string(&parse_quote!("x"), &KEY).unwrap().value(), "x");
    assert!(string(&parse_quote!(x), &KEY).is_err());
}

#[test]
fn type_paths_read_generic_arguments() {
    use syn::parse::Parser;
    let read = |tokens: proc_macro2::TokenStream| {
        (|input: ParseStream| type_path(input, &KEY))
            .parse2(tokens)
            .unwrap()
    };
    assert!(read(quote::quote!(Wrapper<Event>)).is_ok());
    assert!(read(quote::quote!(models::Event)).is_ok());
    assert_eq!(
        message(read(quote::quote!("Event"))),
        "`k` takes the path of a struct that derives `Schema`, e.g. `k = 1`"
    );
    assert!(read(quote::quote!(&Event)).is_err());
}
