//! The plan is pure: these tests need no warehouse.

use chrono::{DateTime, TimeZone, Utc};
use phlo_core::names::TableName;
use phlo_core::spec::{Cadence, IngestionSpec, MergeStrategy, PartitionsSpec};

use super::*;
use crate::registry::test_support::{descriptor, quality};

fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2025, 3, 10, 15, 30, 0)
        .single()
        .unwrap_or_default()
}

fn registry() -> Registry {
    let hourly = IngestionSpec {
        table: "silver.meter",
        unique_key: &["id"],
        partitions: PartitionsSpec::Time {
            cadence: Cadence::Hourly,
            start: Some("2025-01-01"),
            end: None,
            timezone: "Europe/London",
            end_offset: 0,
        },
        ..IngestionSpec::DEFAULT
    };
    let regions = IngestionSpec {
        table: "regions",
        unique_key: &["id"],
        merge_strategy: MergeStrategy::ReplacePartition,
        partitions: PartitionsSpec::Static {
            keys: &["eu", "us"],
        },
        ..IngestionSpec::DEFAULT
    };
    let whole = IngestionSpec {
        table: "ref.codes",
        unique_key: &["id"],
        partitions: PartitionsSpec::None,
        ..IngestionSpec::DEFAULT
    };
    let daily = IngestionSpec {
        table: "events",
        unique_key: &["id"],
        ..IngestionSpec::DEFAULT
    };
    match Registry::from_parts(
        [
            descriptor("events", daily),
            descriptor("meter", hourly),
            descriptor("regions", regions),
            descriptor("codes", whole),
        ],
        [quality("events_checks", "bronze.events")],
    ) {
        Ok(r) => r,
        Err(e) => panic!("{e}"),
    }
}

fn events() -> TableName {
    TableName::parse("bronze.events").unwrap_or_else(|e| panic!("{e}"))
}

#[test]
fn a_daily_range_plans_one_step_per_day_with_its_scope_app_id_and_audit() -> Result<()> {
    let state = TableState::new().with(events(), Some(7));
    let plan = plan(
        &registry(),
        "events",
        &PartitionSelection::Range {
            from: "2025-01-30".into(),
            to: "2025-02-02".into(),
        },
        &state,
        now(),
    )?;
    let keys: Vec<String> = plan
        .steps
        .iter()
        .filter_map(|s| s.partition.as_ref().map(ToString::to_string))
        .collect();
    assert_eq!(
        keys,
        ["2025-01-30", "2025-01-31", "2025-02-01", "2025-02-02"]
    );
    let first = &plan.steps[0];
    assert_eq!(first.app_id, "phlo:events:2025-01-30");
    assert_eq!(first.expected_version, Some(7));
    assert_eq!(first.audited_by, ["events_checks"]);
    assert_eq!(
        first.layout.partition_columns,
        ["_phlo_partition_date".to_string()]
    );
    assert_eq!(first.layout.distinct_columns, ["id".to_string()]);
    assert_eq!(first.layout.opaque_columns, ["_phlo_row_hash".to_string()]);
    assert_eq!(
        first.scope.sql(),
        "\"_phlo_partition_date\" = DATE '2025-01-30'"
    );
    let text = plan.explain();
    assert!(text.starts_with("plan: 4 steps\n"), "{text}");
    assert!(
        text.contains(
            "1. ingestion events → bronze.events [2025-01-30] merge \
             (\"_phlo_partition_date\" = DATE '2025-01-30', at v7; app phlo:events:2025-01-30); \
             audited by events_checks"
        ),
        "{text}"
    );
    Ok(())
}

#[test]
fn bad_keys_are_rejected_before_anything_runs() {
    let r = registry();
    let s = TableState::new();
    let key = |asset: &str, k: &str| plan(&r, asset, &PartitionSelection::Key(k.into()), &s, now());
    assert!(matches!(
        key("events", "2025-1-5"),
        Err(Error::Core(phlo_core::Error::InvalidPartitionKey { .. }))
    ));
    assert!(matches!(
        key("meter", "2024-12-31T23"),
        Err(Error::Core(phlo_core::Error::PartitionOutOfRange { .. }))
    ));
    assert!(matches!(
        key("meter", "2025-03-30T01"),
        Err(Error::Core(phlo_core::Error::NonexistentPartition { .. }))
    ));
    assert!(matches!(
        key("regions", "apac"),
        Err(Error::Core(phlo_core::Error::InvalidPartitionKey { .. }))
    ));
    assert!(matches!(
        key("codes", "2025-01-01"),
        Err(Error::Core(phlo_core::Error::PartitionMismatch { .. }))
    ));
    assert!(matches!(
        plan(&r, "events", &PartitionSelection::Unpartitioned, &s, now()),
        Err(Error::Core(phlo_core::Error::PartitionMismatch { .. }))
    ));
    assert!(matches!(
        plan(
            &r,
            "events",
            &PartitionSelection::Range {
                from: "2025-02-02".into(),
                to: "2025-01-30".into()
            },
            &s,
            now()
        ),
        Err(Error::InvalidArgument { .. })
    ));
    assert!(matches!(
        key("nope", "2025-01-01"),
        Err(Error::UnknownAsset { .. })
    ));
}

#[test]
fn hourly_plans_cross_daylight_saving_in_the_assets_time_zone() -> Result<()> {
    let plan = plan(
        &registry(),
        "meter",
        &PartitionSelection::Range {
            from: "2025-10-26T00".into(),
            to: "2025-10-26T03".into(),
        },
        &TableState::new(),
        now(),
    )?;
    let keys: Vec<String> = plan
        .steps
        .iter()
        .filter_map(|s| s.partition.as_ref().map(ToString::to_string))
        .collect();
    assert_eq!(
        keys,
        [
            "2025-10-26T00",
            "2025-10-26T01+01:00",
            "2025-10-26T01+00:00",
            "2025-10-26T02",
            "2025-10-26T03"
        ]
    );
    // Both 01:00 hours are distinct partitions with distinct commits.
    assert_ne!(plan.steps[1].app_id, plan.steps[2].app_id);
    assert_ne!(plan.steps[1].scope, plan.steps[2].scope);
    // Files of an hour live in its local day's directory.
    assert_eq!(
        plan.steps[1].scope.file_partition(),
        Some(("_phlo_partition_date", "2025-10-26"))
    );
    assert_eq!(plan.steps[0].expected_version, None, "no table yet");
    Ok(())
}

#[test]
fn latest_is_the_last_complete_window_and_static_and_unpartitioned_plans_are_single() -> Result<()>
{
    let r = registry();
    let s = TableState::new();
    let latest = plan(&r, "meter", &PartitionSelection::Latest, &s, now())?;
    assert_eq!(
        latest.steps[0].partition.as_ref().map(ToString::to_string),
        Some("2025-03-10T14".into()),
        "15:30 UTC is 15:30 GMT: the 14:00 hour is the last complete one"
    );
    let eu = plan(
        &r,
        "regions",
        &PartitionSelection::Key("eu".into()),
        &s,
        now(),
    )?;
    assert_eq!(eu.steps[0].scope.sql(), "\"_phlo_partition_key\" = 'eu'");
    assert_eq!(
        eu.steps[0].layout.partition_columns,
        ["_phlo_partition_key".to_string()]
    );
    let whole = plan(&r, "codes", &PartitionSelection::Unpartitioned, &s, now())?;
    assert_eq!(whole.steps.len(), 1);
    assert_eq!(whole.steps[0].scope, PartitionScope::Whole);
    assert_eq!(whole.steps[0].app_id, "phlo:codes:unpartitioned");
    assert!(whole.steps[0].layout.partition_columns.is_empty());
    let json = whole.to_json();
    assert_eq!(json["steps"][0]["asset"], "codes");
    Ok(())
}
