use std::path::Path;

use quote::quote;

use super::*;
use crate::test_support::messages;

fn parse(tokens: TokenStream) -> Result<DbtSchema, Vec<String>> {
    let cx = Ctxt::new();
    let args = self::args(&cx, tokens);
    cx.finish(args).map_err(messages)
}

#[test]
fn reads_the_file_the_model_and_the_options() {
    let args = parse(quote!("models/schema.yml", "stg_orders")).unwrap();
    assert_eq!(
        (args.path.value(), args.model.value(), args.name.is_none()),
        (
            "models/schema.yml".to_string(),
            "stg_orders".to_string(),
            true
        )
    );
    let args = parse(quote!("a.yml", "m", name = Order, crate = "::renamed",)).unwrap();
    assert_eq!(
        args.name.map(|name| name.to_string()).as_deref(),
        Some("Order")
    );
    assert_eq!(
        quote::ToTokens::to_token_stream(&args.krate).to_string(),
        ":: renamed"
    );
}

#[test]
fn positional_arguments_are_string_literals() {
    let usage = "write `dbt_schema!(\"models/schema.yml\", \"orders\")`: the dbt YAML file \
                 (relative to the crate root), then the model";
    assert_eq!(
        parse(quote!()).err().unwrap(),
        [format!("`dbt_schema!` needs a file and a model: {usage}")]
    );
    assert_eq!(
        parse(quote!("a.yml")).err().unwrap(),
        [format!(
            "`dbt_schema!` needs the model's name after the file: {usage}"
        )]
    );
    assert_eq!(
        parse(quote!(models_yml, orders)).err().unwrap(),
        [
            format!(
                "`dbt_schema!` takes, first, the path of the dbt YAML file, as a string literal: {usage}"
            ),
            format!(
                "`dbt_schema!` takes, second, the name of the dbt model, as a string literal: {usage}"
            ),
        ]
    );
}

#[test]
fn options_are_checked_like_attribute_keys() {
    assert_eq!(
        parse(quote!("a.yml", "m", named = X, name = "X", name = a::B))
            .err()
            .unwrap(),
        [
            "unknown phlo attribute `named`; valid keys are: name, crate",
            "`name` takes the struct's name, e.g. `name = Order`",
            "duplicate phlo attribute `name`; give it once",
        ]
    );
    assert_eq!(
        parse(quote!("a.yml", "m", name = a::B)).err().unwrap(),
        ["`name` takes the struct's name, a plain identifier, e.g. `name = Order`"]
    );
}

fn temp_file(name: &str, text: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("phlo-macros-{}-read", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join(name), text).unwrap();
    dir
}

#[test]
fn reads_relative_to_the_crate_root_then_the_source() {
    let dir = temp_file("m.yml", "models: []");
    let found = read("m.yml", Some(&dir), None).unwrap();
    assert_eq!(found.text, "models: []");
    assert!(found.path.is_absolute());
    let found = read("m.yml", Some(Path::new("/nonexistent-phlo")), Some(&dir)).unwrap();
    assert_eq!(found.text, "models: []");
    let absolute = dir.join("m.yml");
    let found = read(absolute.to_str().unwrap(), None, None).unwrap();
    assert_eq!(found.text, "models: []");
}

#[test]
fn unreadable_files_name_the_paths_tried_and_the_os_error() {
    let error = read("missing.yml", Some(Path::new("/nonexistent-phlo")), None).unwrap_err();
    assert!(
        error.starts_with("cannot read the dbt file `/nonexistent-phlo/missing.yml`: "),
        "{error}"
    );
    assert!(error.contains("os error"), "{error}");
    assert!(
        error
            .ends_with("; the path is relative to the crate root, the directory of its Cargo.toml"),
        "{error}"
    );
    let error = read(
        "missing.yml",
        Some(Path::new("/nonexistent-a")),
        Some(Path::new("/nonexistent-b")),
    )
    .unwrap_err();
    assert!(
        error.contains("(also tried `/nonexistent-b/missing.yml`)"),
        "{error}"
    );
    let error = read("/nonexistent-phlo/missing.yml", None, None).unwrap_err();
    assert!(
        error.starts_with("cannot read the dbt file `/nonexistent-phlo/missing.yml`: "),
        "{error}"
    );
    assert!(!error.contains("crate root"), "{error}");
    let error = read("missing.yml", None, None).unwrap_err();
    assert!(error.contains("`CARGO_MANIFEST_DIR` is not set"), "{error}");
    // A directory is not a file: reported at once, with its OS error.
    let dir = temp_file("x.yml", "");
    let error = read(".", Some(&dir), None).unwrap_err();
    assert!(error.starts_with("cannot read the dbt file `"), "{error}");
}
