//! The graph is pure: every test builds nodes in memory.

mod build;
mod mapping;
mod order;
mod render;
mod select;

use std::collections::BTreeSet;

use phlo_core::partition::{PartitionKey, PartitionsDef};
use phlo_core::spec::{Cadence, PartitionsSpec};

use super::*;

pub(super) fn time(
    cadence: Cadence,
    timezone: &'static str,
    start: Option<&'static str>,
    end: Option<&'static str>,
) -> PartitionsDef {
    PartitionsDef::resolve(&PartitionsSpec::Time {
        cadence,
        start,
        end,
        timezone,
        end_offset: 0,
    })
    .expect("valid partitions")
}

pub(super) fn daily() -> PartitionsDef {
    PartitionsDef::daily_utc()
}

pub(super) fn hourly(tz: &'static str) -> PartitionsDef {
    time(Cadence::Hourly, tz, None, None)
}

pub(super) fn daily_in(tz: &'static str) -> PartitionsDef {
    time(Cadence::Daily, tz, None, None)
}

pub(super) fn monthly() -> PartitionsDef {
    time(Cadence::Monthly, "UTC", None, None)
}

pub(super) fn regions() -> PartitionsDef {
    PartitionsDef::resolve(&PartitionsSpec::Static {
        keys: &["eu", "us"],
    })
    .expect("valid keys")
}

pub(super) fn node(name: &str, kind: &str, partitions: PartitionsDef) -> GraphNode {
    GraphNode::new(name, kind, format!("t.{name}"), partitions)
}

pub(super) fn set(names: &[&str]) -> BTreeSet<String> {
    names.iter().map(|n| (*n).to_string()).collect()
}

pub(super) fn key(def: &PartitionsDef, text: &str) -> PartitionKey {
    def.parse_key(text).expect("valid key")
}

pub(super) fn texts(keys: &UpstreamKeys) -> Vec<String> {
    match keys {
        MappedKeys::All => vec!["<all>".to_string()],
        MappedKeys::Keys(keys) => keys.iter().map(ToString::to_string).collect(),
    }
}

/// The module docs' example, kept compiling here.
#[test]
fn module_docs_example() -> Result<(), Box<dyn std::error::Error>> {
    let daily = PartitionsDef::daily_utc();
    let graph = AssetGraph::new(vec![
        GraphNode::new("raw_wells", "ingestion", "bronze.wells", daily.clone()).with_group("wells"),
        GraphNode::new("stg_wells", "sql", "silver.wells", daily.clone())
            .with_group("wells")
            .with_dep("raw_wells", Mapping::Identity),
        GraphNode::new("report", "sql", "gold.report", PartitionsDef::None)
            .with_tag("daily")
            .with_dep("stg_wells", Mapping::All),
    ])?;
    assert_eq!(graph.order(), ["raw_wells", "stg_wells", "report"]);
    let selected = graph.select("+report", Some("raw_wells"))?;
    assert_eq!(
        selected,
        BTreeSet::from(["report".to_string(), "stg_wells".to_string()])
    );
    let err = graph.select("stg_well", None).unwrap_err();
    assert_eq!(
        err.to_string(),
        "selection names unknown asset `stg_well`; did you mean `stg_wells`?"
    );
    Ok(())
}

/// The `default_mapping` docs' example, kept compiling here.
#[test]
fn default_mapping_docs_example() {
    assert_eq!(
        default_mapping(&daily(), &monthly()),
        Ok(Mapping::TimeWindow)
    );
    assert_eq!(
        default_mapping(&daily(), &PartitionsDef::None),
        Ok(Mapping::All)
    );
    assert!(default_mapping(&monthly(), &daily()).is_err());
}

#[test]
fn suggestions_use_edit_distance() {
    use super::suggest::{closest, distance};
    assert_eq!(distance("", ""), 0);
    assert_eq!(distance("dialy", "daily"), 2);
    assert_eq!(distance("abc", ""), 3);
    let names = ["stg_wells", "stg_well_production", "raw_wells"];
    assert_eq!(
        closest("stg_well_prodution", names).as_deref(),
        Some("stg_well_production")
    );
    assert_eq!(closest("STG_WELLS", names).as_deref(), Some("stg_wells"));
    assert_eq!(closest("revenue", names), None);
    // Equal distance: the first given wins.
    assert_eq!(closest("ab", ["ac", "ad"]).as_deref(), Some("ac"));
}
