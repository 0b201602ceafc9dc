//! Compile-fail tests: one per diagnostic of phlo's macros. Only compile-fail cases
//! live here, so trybuild runs `cargo check` (no code generation) on its own copy of
//! the dependency tree; what valid attributes expand to is tested in `expand.rs`.
#[test]
fn ui() {
    let t = trybuild::TestCases::new();
    t.compile_fail("tests/ui/*.rs");
}
