//! Compile-fail tests: one per diagnostic of phlo's macros; pass tests: what valid
//! attributes expand to.
#[test]
fn ui() {
    let t = trybuild::TestCases::new();
    t.compile_fail("tests/ui/*.rs");
    t.pass("tests/ui/pass/*.rs");
}
