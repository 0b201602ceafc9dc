//! Building a graph: every validation error, and the default mappings.

use super::*;

fn build(nodes: Vec<GraphNode>) -> GraphError {
    AssetGraph::new(nodes).expect_err("graph should be rejected")
}

#[test]
fn duplicate_names_are_rejected() {
    let err = build(vec![
        node("b", "sql", daily()),
        node("a", "sql", daily()),
        node("a", "rust", daily()),
    ]);
    assert_eq!(
        err,
        GraphError::DuplicateAsset {
            name: "a".to_string()
        }
    );
    assert_eq!(
        err.to_string(),
        "asset `a` is declared twice: asset names must be unique, rename one of them"
    );
}

#[test]
fn unknown_upstream_suggests_the_closest_name() {
    let err = build(vec![
        node("stg_well_production", "sql", daily()),
        node("stg_wells", "sql", daily()),
        node("fct_production", "rust", daily()).with_dep("stg_well_prodution", Mapping::Identity),
    ]);
    assert_eq!(
        err,
        GraphError::UnknownUpstream {
            downstream: "fct_production".to_string(),
            upstream: "stg_well_prodution".to_string(),
            suggestion: Some("stg_well_production".to_string()),
        }
    );
    assert_eq!(
        err.to_string(),
        "asset `fct_production` depends on unknown asset `stg_well_prodution`; did you mean `stg_well_production`?"
    );
}

#[test]
fn unknown_upstream_without_a_close_name() {
    let err = build(vec![
        node("a", "sql", daily()).with_dep("revenue", Mapping::Identity),
        node("stg_wells", "sql", daily()),
    ]);
    assert_eq!(
        err.to_string(),
        "asset `a` depends on unknown asset `revenue`: declare that asset, or remove the dependency"
    );
}

#[test]
fn an_upstream_listed_twice_is_rejected() {
    let err = build(vec![
        node("a", "sql", daily()),
        node("b", "sql", daily())
            .with_dep("a", Mapping::Identity)
            .with_dep("a", Mapping::Offset(-1)),
    ]);
    assert_eq!(
        err,
        GraphError::DuplicateEdge {
            downstream: "b".to_string(),
            upstream: "a".to_string()
        }
    );
    assert_eq!(
        err.to_string(),
        "asset `b` lists `a` as a dependency twice: keep one, with the mapping it needs"
    );
}

#[test]
fn a_cycle_is_reported_with_its_path() {
    // x feeds the cycle and y hangs off it: neither is part of the path.
    let err = build(vec![
        node("c", "sql", daily()).with_dep("b", Mapping::Identity),
        node("y", "sql", daily()).with_dep("c", Mapping::Identity),
        node("b", "sql", daily()).with_dep("a", Mapping::Identity),
        node("a", "sql", daily())
            .with_dep("c", Mapping::Identity)
            .with_dep("x", Mapping::Identity),
        node("x", "sql", daily()),
    ]);
    assert_eq!(
        err,
        GraphError::Cycle {
            path: ["a", "b", "c", "a"].map(String::from).to_vec()
        }
    );
    assert_eq!(
        err.to_string(),
        "dependency cycle a → b → c → a: an asset cannot depend on itself, remove one of these dependencies"
    );
}

#[test]
fn a_cycle_starts_at_its_smallest_name() {
    let err = build(vec![
        node("m", "sql", daily()).with_dep("z", Mapping::Identity),
        node("z", "sql", daily()).with_dep("k", Mapping::Identity),
        node("k", "sql", daily()).with_dep("m", Mapping::Identity),
        node("a", "sql", daily()).with_dep("k", Mapping::Identity),
    ]);
    assert_eq!(
        err,
        GraphError::Cycle {
            path: ["k", "z", "m", "k"].map(String::from).to_vec()
        }
    );
}

#[test]
fn a_self_dependency_is_a_cycle() {
    let err = build(vec![
        node("a", "sql", daily()).with_dep("a", Mapping::Offset(-1)),
    ]);
    assert_eq!(
        err.to_string().split(':').next(),
        Some("dependency cycle a → a")
    );
}

fn incompatible(up: PartitionsDef, down: PartitionsDef, mapping: Mapping) -> GraphError {
    build(vec![
        node("up", "ingestion", up),
        node("down", "sql", down).with_dep("up", mapping),
    ])
}

#[test]
fn identity_between_daily_and_static_is_rejected() {
    let err = incompatible(daily(), regions(), Mapping::Identity);
    assert_eq!(
        err,
        GraphError::IncompatibleMapping {
            downstream: "down".to_string(),
            upstream: "up".to_string(),
            mapping: Mapping::Identity,
            reason: MappingError::IdentityNeedsSamePartitions {
                upstream: "daily".to_string(),
                downstream: "static(eu,us)".to_string(),
            },
        }
    );
    assert_eq!(
        err.to_string(),
        "asset `down` cannot read `up` with mapping `identity`: `identity` needs the same partitions on both sides, found `daily` upstream and `static(eu,us)` downstream; use `time_window` between time partitions, or `all`"
    );
}

#[test]
fn identity_needs_one_cadence_and_time_zone() {
    for (up, down) in [
        (daily(), monthly()),
        (hourly("UTC"), hourly("Europe/London")),
        (daily(), PartitionsDef::None),
        (PartitionsDef::None, daily()),
    ] {
        let err = incompatible(up, down, Mapping::Identity);
        assert!(
            matches!(
                err,
                GraphError::IncompatibleMapping {
                    reason: MappingError::IdentityNeedsSamePartitions { .. },
                    ..
                }
            ),
            "{err}"
        );
    }
}

#[test]
fn identity_accepts_other_bounds_and_a_subset_of_static_keys() {
    let eu = PartitionsDef::resolve(&PartitionsSpec::Static { keys: &["eu"] }).expect("keys");
    for (up, down) in [
        (
            daily(),
            time(Cadence::Daily, "UTC", Some("2025-01-01"), None),
        ),
        (regions(), eu.clone()),
        (PartitionsDef::None, PartitionsDef::None),
    ] {
        assert!(
            AssetGraph::new(vec![
                node("up", "ingestion", up),
                node("down", "sql", down).with_dep("up", Mapping::Identity),
            ])
            .is_ok()
        );
    }
    let err = incompatible(eu, regions(), Mapping::Identity);
    assert!(
        err.to_string().contains("found `static(eu)` upstream"),
        "{err}"
    );
}

#[test]
fn time_window_from_a_coarser_upstream_is_rejected() {
    let err = incompatible(monthly(), daily(), Mapping::TimeWindow);
    assert_eq!(
        err,
        GraphError::IncompatibleMapping {
            downstream: "down".to_string(),
            upstream: "up".to_string(),
            mapping: Mapping::TimeWindow,
            reason: MappingError::NotAUnion {
                upstream: "monthly".to_string(),
                downstream: "daily".to_string(),
            },
        }
    );
    assert_eq!(
        err.to_string(),
        "asset `down` cannot read `up` with mapping `time_window`: a `daily` window is not a union of `monthly` windows; `time_window` needs the downstream cadence equal or coarser (hourly → daily → monthly) and window boundaries that line up (the same time zone, or whole-hour offsets from an hourly upstream)"
    );
}

#[test]
fn time_window_needs_boundaries_that_line_up() {
    // A London day is not a union of UTC days; an Indian day does not start on a UTC hour.
    for (up, down) in [
        (daily(), daily_in("Europe/London")),
        (hourly("UTC"), daily_in("Asia/Kolkata")),
        (daily_in("Europe/London"), monthly()),
    ] {
        let err = incompatible(up, down, Mapping::TimeWindow);
        assert!(
            matches!(
                err,
                GraphError::IncompatibleMapping {
                    reason: MappingError::NotAUnion { .. },
                    ..
                }
            ),
            "{err}"
        );
    }
    // Whole-hour offsets from an hourly upstream line up, whatever the zones.
    for (up, down) in [
        (hourly("UTC"), daily_in("Europe/London")),
        (hourly("America/New_York"), monthly()),
        (hourly("Asia/Kolkata"), daily_in("Asia/Kolkata")),
        (daily(), monthly()),
        (hourly("UTC"), hourly("Europe/London")),
    ] {
        assert!(
            AssetGraph::new(vec![
                node("up", "ingestion", up),
                node("down", "sql", down).with_dep("up", Mapping::TimeWindow),
            ])
            .is_ok()
        );
    }
}

#[test]
fn time_window_needs_time_partitions() {
    let err = incompatible(regions(), daily(), Mapping::TimeWindow);
    assert_eq!(
        err.to_string(),
        "asset `down` cannot read `up` with mapping `time_window`: `time_window` needs time partitions on both sides, found `static(eu,us)` upstream and `daily` downstream; use `all` to read the whole upstream"
    );
}

#[test]
fn offset_on_static_or_unpartitioned_assets_is_rejected() {
    for (up, down) in [
        (regions(), regions()),
        (PartitionsDef::None, PartitionsDef::None),
        (daily(), PartitionsDef::None),
        (hourly("UTC"), daily()),
    ] {
        let err = incompatible(up, down, Mapping::Offset(-1));
        assert!(
            matches!(
                err,
                GraphError::IncompatibleMapping {
                    mapping: Mapping::Offset(-1),
                    reason: MappingError::OffsetNeedsSameCadence { .. },
                    ..
                }
            ),
            "{err}"
        );
    }
    let err = incompatible(regions(), regions(), Mapping::Offset(-1));
    assert_eq!(
        err.to_string(),
        "asset `down` cannot read `up` with mapping `offset(-1)`: `offset` needs time partitions of the same cadence and time zone on both sides, found `static(eu,us)` upstream and `static(eu,us)` downstream; use `time_window` or `all`"
    );
}

#[test]
fn all_fits_any_partitions() {
    for (up, down) in [
        (regions(), daily()),
        (daily(), PartitionsDef::None),
        (monthly(), hourly("UTC")),
    ] {
        assert!(
            AssetGraph::new(vec![
                node("up", "ingestion", up),
                node("down", "sql", down).with_dep("up", Mapping::All),
            ])
            .is_ok()
        );
    }
}

#[test]
fn default_mappings() {
    let cases: Vec<(PartitionsDef, PartitionsDef, Mapping)> = vec![
        (daily(), daily(), Mapping::Identity),
        (regions(), regions(), Mapping::Identity),
        (PartitionsDef::None, PartitionsDef::None, Mapping::Identity),
        (daily(), PartitionsDef::None, Mapping::All),
        (regions(), PartitionsDef::None, Mapping::All),
        (PartitionsDef::None, daily(), Mapping::All),
        (hourly("UTC"), daily(), Mapping::TimeWindow),
        (daily(), monthly(), Mapping::TimeWindow),
        (hourly("UTC"), monthly(), Mapping::TimeWindow),
        (
            hourly("UTC"),
            daily_in("Europe/London"),
            Mapping::TimeWindow,
        ),
        (
            daily(),
            time(Cadence::Daily, "UTC", Some("2025-01-01"), None),
            Mapping::TimeWindow,
        ),
    ];
    for (up, down, expected) in cases {
        assert_eq!(default_mapping(&up, &down), Ok(expected), "{up} → {down}");
    }
}

#[test]
fn no_default_mapping_must_be_declared() {
    for (up, down) in [
        (monthly(), daily()),
        (regions(), daily()),
        (daily(), regions()),
        (hourly("UTC"), regions()),
    ] {
        let err = default_mapping(&up, &down).expect_err("no default");
        assert!(matches!(err, MappingError::NoDefault { .. }), "{err}");
    }
    assert_eq!(
        default_mapping(&monthly(), &daily())
            .expect_err("no default")
            .to_string(),
        "no default partition mapping from `monthly` to `daily`; declare one (`all` reads the whole upstream for every partition)"
    );
    // Coarser but misaligned: the reason is the alignment.
    assert!(matches!(
        default_mapping(&daily(), &daily_in("Europe/London")),
        Err(MappingError::NotAUnion { .. })
    ));
}

#[test]
fn nodes_and_edges_are_kept_sorted() {
    let graph = AssetGraph::new(vec![
        node("c", "sql", daily())
            .with_dep("b", Mapping::Identity)
            .with_dep("a", Mapping::Identity),
        node("b", "sql", daily()),
        node("a", "sql", daily()),
    ])
    .expect("graph");
    let names: Vec<&str> = graph.nodes().map(|n| n.name.as_str()).collect();
    assert_eq!(names, ["a", "b", "c"]);
    let deps: Vec<&str> = graph
        .node("c")
        .map(|n| n.deps.iter().map(|e| e.upstream.as_str()).collect())
        .unwrap_or_default();
    assert_eq!(deps, ["a", "b"]);
    assert_eq!(graph.len(), 3);
    assert!(!graph.is_empty());
    assert_eq!(graph.children("a"), ["c"]);
    assert!(graph.children("nope").is_empty());
    assert!(AssetGraph::new(Vec::new()).expect("empty").is_empty());
}

#[test]
fn mappings_print_as_declared() {
    assert_eq!(Mapping::Identity.to_string(), "identity");
    assert_eq!(Mapping::TimeWindow.to_string(), "time_window");
    assert_eq!(Mapping::Offset(-1).to_string(), "offset(-1)");
    assert_eq!(Mapping::Offset(2).to_string(), "offset(2)");
    assert_eq!(Mapping::All.to_string(), "all");
}
