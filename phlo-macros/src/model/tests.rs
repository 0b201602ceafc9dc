use super::*;

fn float(value: f64) -> Number {
    Number::Float(Finite::new(value).unwrap())
}

#[test]
fn finite_rejects_infinity_and_nan() {
    assert!(Finite::new(f64::INFINITY).is_none());
    assert!(Finite::new(f64::NAN).is_none());
    assert_eq!(Finite::new(1.5).map(Finite::get), Some(1.5));
}

#[test]
fn numbers_compare_across_kinds() {
    assert!(Number::Int(10) > Number::Int(5));
    assert!(Number::Int(1) < float(1.5));
    assert_eq!(
        Number::Int(2).partial_cmp(&float(2.0)),
        Some(Ordering::Equal)
    );
    assert!(Number::Int(i64::MAX) > Number::Int(i64::MAX - 1));
}

#[test]
fn numbers_display_as_written() {
    assert_eq!(Number::Int(-3).to_string(), "-3");
    assert_eq!(float(10.0).to_string(), "10.0");
}

#[test]
fn default_crate_path_is_absolute_phlo() {
    let path = default_crate_path();
    assert!(path.leading_colon.is_some());
    assert!(path.segments.len() == 1 && path.segments[0].ident == "phlo");
}
