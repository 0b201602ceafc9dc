//! The registry: assets from another crate are all registered; conflicts name both sides.

use phlo::__private::{IngestionDescriptor, IngestionSpec, Location};
use phlo::prelude::*;
use phlo::{Error, FetchFuture, Registry};
use phlo_tests::{ASSETS, Event, Reading};

fn nothing(_: PartitionContext) -> FetchFuture {
    Box::pin(async { Ok(Vec::new()) })
}

fn descriptor(name: &'static str, table: &'static str, line: u32) -> IngestionDescriptor {
    IngestionDescriptor {
        name,
        spec: IngestionSpec {
            table,
            unique_key: &["id"],
            ..IngestionSpec::DEFAULT
        },
        schema: <Event as Schema>::SCHEMA,
        fetch: nothing,
        location: Location {
            file: "src/assets.rs",
            line,
            column: 1,
            module: "app::assets",
        },
    }
}

#[test]
fn every_asset_of_a_separate_crate_is_registered_in_name_order() -> phlo::Result<()> {
    let registry = Registry::global()?;
    // The test binary registers assets of its own too (`transforms.rs`): only the
    // separate crate's are listed here.
    let names: Vec<&str> = registry
        .iter()
        .filter(|a| a.descriptor.location.module.starts_with("phlo_tests"))
        .map(|a| a.descriptor.name)
        .collect();
    assert_eq!(names, ASSETS);
    Ok(())
}

#[tokio::test]
async fn assets_are_listed_with_their_options() -> phlo::Result<()> {
    let dir = tempfile::tempdir()?;
    let rt = Runtime::open(dir.path()).await?;
    let api = rt
        .assets()
        .into_iter()
        .find(|a| a.name == "api_events")
        .unwrap_or_else(|| panic!("missing"));
    assert_eq!(api.table, "bronze.events");
    assert_eq!(api.group.as_deref(), Some("api"));
    assert_eq!(api.unique_key, ["id"]);
    assert_eq!(api.schema, "Event");
    assert!(
        api.location.contains("tests/src/lib.rs"),
        "{}",
        api.location
    );
    Ok(())
}

#[test]
fn duplicate_names_name_both_definitions() {
    let err = Registry::from_descriptors([
        descriptor("orders", "orders", 10),
        descriptor("orders", "orders_v2", 20),
    ]);
    match err {
        Err(e @ Error::DuplicateAsset { .. }) => {
            let msg = e.to_string();
            assert!(
                msg.contains("src/assets.rs:10") && msg.contains("src/assets.rs:20"),
                "{msg}"
            );
        }
        other => panic!("expected DuplicateAsset, got {other:?}"),
    }
}

#[test]
fn one_table_two_schemas_is_an_error_naming_both() {
    let mut other = descriptor("readings_too", "events", 30);
    other.schema = <Reading as Schema>::SCHEMA;
    other.spec.unique_key = &["sensor"];
    let err = Registry::from_descriptors([descriptor("events_a", "events", 10), other]);
    match err {
        Err(e @ Error::ConflictingSchemas(_)) => {
            let msg = e.to_string();
            assert!(
                msg.contains("events_a")
                    && msg.contains("readings_too")
                    && msg.contains("`Event` vs `Reading`"),
                "{msg}"
            );
        }
        other => panic!("expected ConflictingSchemas, got {other:?}"),
    }
    // Same schema, same table: fine.
    assert!(
        Registry::from_descriptors([descriptor("a", "events", 1), descriptor("b", "events", 2)])
            .is_ok()
    );
}

#[tokio::test]
async fn invalid_table_names_are_configuration_errors_not_paths() -> phlo::Result<()> {
    for table in [
        "../etc",
        "a/b",
        "Events",
        "a.b.c",
        "_phlo.runs",
        "with space",
    ] {
        let err = Registry::from_descriptors([descriptor("x", table, 1)]);
        assert!(
            matches!(&err, Err(Error::InvalidAsset { .. })),
            "{table}: {err:?}"
        );
    }
    let dir = tempfile::tempdir()?;
    let bad = Registry::from_descriptors([descriptor("x", "../escape", 1)]);
    assert!(bad.is_err());
    assert!(
        std::fs::read_dir(dir.path())?.next().is_none(),
        "nothing was created"
    );
    Ok(())
}
