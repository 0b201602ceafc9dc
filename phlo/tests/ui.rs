//! Compile-fail tests: one per diagnostic of phlo's macros.
#[test]
fn ui() {
    let t = trybuild::TestCases::new();
    t.compile_fail("tests/ui/*.rs");
}
