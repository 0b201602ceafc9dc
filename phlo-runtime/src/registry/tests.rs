use phlo_core::spec::{Cadence, IngestionSpec, PartitionsSpec};

use super::test_support::{SCHEMA, at, descriptor, quality};
use super::*;

fn spec(table: &'static str) -> IngestionSpec {
    IngestionSpec {
        table,
        unique_key: &["id"],
        ..IngestionSpec::DEFAULT
    }
}

#[test]
fn names_are_unique_across_kinds() {
    let err = Registry::from_parts(
        [descriptor("events", spec("events"))],
        [quality("events", "bronze.events")],
    );
    assert!(
        matches!(&err, Err(Error::DuplicateAsset { name, .. }) if name == "events"),
        "{err:?}"
    );
    let err = Registry::from_parts(
        [descriptor("events", spec("events"))],
        [
            quality("checks", "bronze.events"),
            QualityDescriptor {
                location: at(999),
                ..quality("checks", "bronze.events")
            },
        ],
    );
    assert!(matches!(&err, Err(Error::DuplicateAsset { .. })), "{err:?}");
}

#[test]
fn a_quality_asset_must_check_a_table_some_asset_writes() {
    let err = Registry::from_parts(
        [descriptor("events", spec("events"))],
        [quality("checks", "silver.nothing")],
    );
    match err {
        Err(Error::InvalidAsset { asset, reason, .. }) => {
            assert_eq!(asset, "checks");
            assert!(reason.contains("`silver.nothing`"), "{reason}");
            assert!(reason.contains("bronze.events"), "{reason}");
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn quality_tables_may_be_bare_names_as_for_ingestion() -> Result<()> {
    let r = Registry::from_parts(
        [descriptor("events", spec("events"))],
        [quality("checks", "events")],
    )?;
    let t = TableName::parse("bronze.events")?;
    assert_eq!(r.quality_for(&t).len(), 1);
    Ok(())
}

#[test]
fn one_table_has_one_schema_and_one_partitions_definition() {
    let hourly = IngestionSpec {
        partitions: PartitionsSpec::Time {
            cadence: Cadence::Hourly,
            start: None,
            end: None,
            timezone: "UTC",
            end_offset: 0,
        },
        ..spec("events")
    };
    let err =
        Registry::from_descriptors([descriptor("a", spec("events")), descriptor("b", hourly)]);
    match err {
        Err(Error::InvalidAsset { asset, reason, .. }) => {
            assert_eq!(asset, "b");
            assert!(reason.contains("hourly"), "{reason}");
            assert!(reason.contains("`a`"), "{reason}");
        }
        other => panic!("{other:?}"),
    }
    static OTHER: SchemaDef = SchemaDef {
        name: "Other",
        fields: &[],
        policy: phlo_core::schema::SchemaPolicy::Strict,
    };
    let other_schema = IngestionDescriptor {
        schema: &OTHER,
        ..descriptor(
            "b",
            IngestionSpec {
                unique_key: &[],
                merge_strategy: MergeStrategy::Append,
                ..spec("events")
            },
        )
    };
    let err = Registry::from_descriptors([descriptor("a", spec("events")), other_schema]);
    assert!(matches!(&err, Err(Error::ConflictingSchemas(_))), "{err:?}");
}

#[test]
fn partitions_definitions_are_resolved_when_registering() {
    let bad = IngestionSpec {
        partitions: PartitionsSpec::Time {
            cadence: Cadence::Daily,
            start: None,
            end: None,
            timezone: "Europe/Atlantis",
            end_offset: 0,
        },
        ..spec("events")
    };
    match Registry::from_descriptors([descriptor("events", bad)]) {
        Err(Error::InvalidAsset { reason, .. }) => {
            assert!(reason.contains("Europe/Atlantis"), "{reason}");
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn nodes_carry_kind_partitions_and_upstream_dependencies() -> Result<()> {
    let monthly = IngestionSpec {
        partitions: PartitionsSpec::Time {
            cadence: Cadence::Monthly,
            start: Some("2020-01"),
            end: None,
            timezone: "UTC",
            end_offset: 0,
        },
        ..spec("silver.wells")
    };
    let r = Registry::from_parts(
        [
            descriptor("wells", monthly),
            descriptor("events", spec("events")),
        ],
        [quality("wells_checks", "silver.wells")],
    )?;
    let nodes = r.nodes();
    let names: Vec<&str> = nodes.iter().map(|n| n.name).collect();
    assert_eq!(names, ["events", "wells", "wells_checks"]);
    let checks = &nodes[2];
    assert_eq!(checks.kind, AssetKind::Quality);
    assert_eq!(checks.partitions.describe(), "monthly");
    assert_eq!(
        checks.deps,
        [Dependency {
            asset: "wells".into(),
            mapping: PartitionMapping::Identity
        }]
    );
    let q = r.quality().next().map(|q| q.partition_column);
    assert_eq!(q, Some("_phlo_partition_date"));
    assert_eq!(SCHEMA.fields.len(), 2);
    Ok(())
}

#[test]
fn check_columns_are_validated_against_the_table_when_registering() -> Result<()> {
    fn checks() -> Vec<Box<dyn phlo_quality::Check>> {
        vec![
            Box::new(phlo_quality::NullCheck::new(["id", "_phlo_partition_date"])),
            Box::new(phlo_quality::RangeCheck::new("price").min(0.0)),
        ]
    }
    fn good() -> Vec<Box<dyn phlo_quality::Check>> {
        vec![Box::new(phlo_quality::NullCheck::new([
            "id",
            "value",
            "_phlo_row_hash",
        ]))]
    }
    let bad = QualityDescriptor {
        checks,
        ..quality("checks", "events")
    };
    match Registry::from_parts([descriptor("events", spec("events"))], [bad]) {
        Err(Error::InvalidAsset { reason, .. }) => {
            assert!(reason.contains("`price`"), "{reason}");
            assert!(
                reason.contains("id, value, _phlo_partition_date"),
                "{reason}"
            );
        }
        other => panic!("{other:?}"),
    }
    let ok = QualityDescriptor {
        checks: good,
        ..quality("checks", "events")
    };
    Registry::from_parts([descriptor("events", spec("events"))], [ok])?;
    Ok(())
}
