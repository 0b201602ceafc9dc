//! Topological order, waves, and the scheduling helpers.

use super::*;

/// ```text
///  raw_a ──▶ stg_a ──┐
///                    ├──▶ fct ──▶ report
///  raw_b ──▶ stg_b ──┘
///  seed (alone)
/// ```
fn diamond(reverse: bool) -> AssetGraph {
    let mut nodes = vec![
        node("raw_a", "ingestion", daily()),
        node("raw_b", "ingestion", daily()),
        node("stg_a", "sql", daily()).with_dep("raw_a", Mapping::Identity),
        node("stg_b", "sql", daily()).with_dep("raw_b", Mapping::Identity),
        node("fct", "rust", daily())
            .with_dep("stg_b", Mapping::Identity)
            .with_dep("stg_a", Mapping::Identity),
        node("report", "sql", PartitionsDef::None).with_dep("fct", Mapping::All),
        node("seed", "seed", PartitionsDef::None),
    ];
    if reverse {
        nodes.reverse();
    }
    AssetGraph::new(nodes).expect("graph")
}

#[test]
fn order_is_topological_with_ties_by_name() {
    let expected = ["raw_a", "raw_b", "seed", "stg_a", "stg_b", "fct", "report"];
    assert_eq!(diamond(false).order(), expected);
    assert_eq!(diamond(true).order(), expected);
}

#[test]
fn order_prefers_the_smallest_ready_name() {
    // `b` becomes ready after `z`, but `a_late` waits for `z`: smallest ready first.
    let graph = AssetGraph::new(vec![
        node("z", "sql", daily()),
        node("a_late", "sql", daily()).with_dep("z", Mapping::Identity),
        node("b", "sql", daily()),
    ])
    .expect("graph");
    assert_eq!(graph.order(), ["b", "z", "a_late"]);
}

#[test]
fn layers_group_what_can_run_in_parallel() {
    let graph = diamond(false);
    assert_eq!(
        graph.layers(),
        vec![
            vec!["raw_a", "raw_b", "seed"],
            vec!["stg_a", "stg_b"],
            vec!["fct"],
            vec!["report"],
        ]
    );
}

#[test]
fn schedule_of_a_selection_keeps_transitive_order() {
    let graph = diamond(false);
    // stg_* are not selected, yet fct still waits for raw_a and raw_b.
    assert_eq!(
        graph.schedule(&set(&["raw_a", "raw_b", "fct", "unknown"])),
        vec![vec!["raw_a", "raw_b"], vec!["fct"]]
    );
    assert!(graph.schedule(&BTreeSet::new()).is_empty());
}

#[test]
fn ready_waits_for_selected_ancestors_and_skips_running_ones() {
    let graph = diamond(false);
    let all = graph.names();
    let none = BTreeSet::new();
    assert_eq!(graph.ready(&all, &none, &none), ["raw_a", "raw_b", "seed"]);
    // raw_a is running: stg_a waits; the others keep their turn.
    assert_eq!(
        graph.ready(&all, &set(&["raw_b", "seed"]), &set(&["raw_a"])),
        ["stg_b"]
    );
    assert_eq!(
        graph.ready(&all, &set(&["raw_a", "raw_b", "seed"]), &set(&["stg_b"])),
        ["stg_a"]
    );
    // A selection through an unselected asset: report waits for raw_a.
    let selected = set(&["raw_a", "report"]);
    assert_eq!(graph.ready(&selected, &none, &none), ["raw_a"]);
    assert_eq!(graph.ready(&selected, &set(&["raw_a"]), &none), ["report"]);
    assert!(graph.ready(&selected, &selected, &none).is_empty());
}

#[test]
fn downstream_of_is_transitive_and_marks_what_to_skip() {
    let graph = diamond(false);
    assert_eq!(
        graph.downstream_of("raw_a"),
        set(&["stg_a", "fct", "report"])
    );
    assert_eq!(graph.downstream_of("report"), BTreeSet::new());
    assert_eq!(graph.downstream_of("nope"), BTreeSet::new());
    assert_eq!(
        graph.upstream_of("fct"),
        set(&["raw_a", "raw_b", "stg_a", "stg_b"])
    );
    assert_eq!(graph.upstream_of("nope"), BTreeSet::new());

    // A run: raw_a fails, its descendants are skipped, the rest runs to the end.
    let all = graph.names();
    let running = BTreeSet::new();
    let mut done = BTreeSet::new();
    let mut ran = Vec::new();
    loop {
        let wave = graph.ready(&all, &done, &running);
        if wave.is_empty() {
            break;
        }
        for asset in wave {
            if asset == "raw_a" {
                done.extend(graph.downstream_of(&asset));
            } else {
                ran.push(asset.clone());
            }
            done.insert(asset);
        }
    }
    assert_eq!(ran, ["raw_b", "seed", "stg_b"]);
    assert_eq!(done, all);
}
