//! Drawings: exact Mermaid, DOT and JSON for a small graph.

use super::*;

/// ```text
///  group wells: raw_wells ──▶ stg_wells ──all──▶ report ◀──all── dim-region
///                              └──offset(-1)──▶ stg_wells_lag      report ──▶ check_report
/// ```
fn small() -> AssetGraph {
    AssetGraph::new(vec![
        GraphNode::new("raw_wells", "ingestion", "bronze.wells", daily())
            .with_group("wells")
            .with_tag("daily"),
        GraphNode::new("stg_wells", "sql", "silver.wells", daily())
            .with_group("wells")
            .with_dep("raw_wells", Mapping::Identity),
        GraphNode::new("stg_wells_lag", "rust", "silver.wells_lag", daily())
            .with_group("wells")
            .with_dep("stg_wells", Mapping::Offset(-1)),
        GraphNode::new("dim-region", "seed", "seeds.region", PartitionsDef::None),
        GraphNode::new("report", "sql", "gold.report", PartitionsDef::None)
            .with_tag("daily")
            .with_tag("finance")
            .with_dep("stg_wells", Mapping::All)
            .with_dep("dim-region", Mapping::All),
        GraphNode::new(
            "check_report",
            "quality",
            "gold.report",
            PartitionsDef::None,
        )
        .with_dep("report", Mapping::Identity),
    ])
    .expect("graph")
}

#[test]
fn mermaid_of_the_whole_graph() {
    let g = small();
    let expected = r##"flowchart LR
    subgraph group_wells["wells"]
        raw_wells[("raw_wells<br/>ingestion · daily")]
        stg_wells["stg_wells<br/>sql · daily"]
        stg_wells_lag[["stg_wells_lag<br/>rust · daily"]]
    end
    check_report{{"check_report<br/>quality · none"}}
    n1[/"dim-region<br/>seed · none"/]
    report["report<br/>sql · none"]
    n1 -->|"all"| report
    raw_wells --> stg_wells
    report --> check_report
    stg_wells -->|"all"| report
    stg_wells -->|"offset(-1)"| stg_wells_lag
    classDef ingestion fill:#dbeafe,stroke:#1d4ed8
    class raw_wells ingestion
    classDef quality fill:#fef9c3,stroke:#a16207
    class check_report quality
    classDef rust fill:#ffedd5,stroke:#c2410c
    class stg_wells_lag rust
    classDef seed fill:#f3e8ff,stroke:#7e22ce
    class n1 seed
    classDef sql fill:#dcfce7,stroke:#15803d
    class report,stg_wells sql
"##;
    assert_eq!(g.to_mermaid(&g.names()), expected);
}

#[test]
fn dot_of_the_whole_graph() {
    let g = small();
    let expected = r##"digraph phlo {
    rankdir=LR;
    node [fontname="Helvetica", style=filled];
    subgraph "cluster_wells" {
        label="wells";
        "raw_wells" [label="raw_wells\ningestion · daily", shape=cylinder, fillcolor="#dbeafe", color="#1d4ed8"];
        "stg_wells" [label="stg_wells\nsql · daily", shape=box, fillcolor="#dcfce7", color="#15803d"];
        "stg_wells_lag" [label="stg_wells_lag\nrust · daily", shape=component, fillcolor="#ffedd5", color="#c2410c"];
    }
    "check_report" [label="check_report\nquality · none", shape=hexagon, fillcolor="#fef9c3", color="#a16207"];
    "dim-region" [label="dim-region\nseed · none", shape=note, fillcolor="#f3e8ff", color="#7e22ce"];
    "report" [label="report\nsql · none", shape=box, fillcolor="#dcfce7", color="#15803d"];
    "dim-region" -> "report" [label="all"];
    "raw_wells" -> "stg_wells";
    "report" -> "check_report";
    "stg_wells" -> "report" [label="all"];
    "stg_wells" -> "stg_wells_lag" [label="offset(-1)"];
}
"##;
    assert_eq!(g.to_dot(&g.names()), expected);
}

#[test]
fn json_of_the_whole_graph() {
    let g = small();
    let value = g.to_json(&g.names());
    let node =
        |name: &str, kind: &str, table: &str, group: Option<&str>, tags: &[&str], p: &str| {
            serde_json::json!({
                "name": name, "kind": kind, "table": table, "group": group, "tags": tags,
                "partitions": p,
            })
        };
    let edge = |up: &str, down: &str, mapping: &str| serde_json::json!({"upstream": up, "downstream": down, "mapping": mapping});
    assert_eq!(
        value,
        serde_json::json!({
            "nodes": [
                node("check_report", "quality", "gold.report", None, &[], "none"),
                node("dim-region", "seed", "seeds.region", None, &[], "none"),
                node("raw_wells", "ingestion", "bronze.wells", Some("wells"), &["daily"], "daily"),
                node("report", "sql", "gold.report", None, &["daily", "finance"], "none"),
                node("stg_wells", "sql", "silver.wells", Some("wells"), &[], "daily"),
                node("stg_wells_lag", "rust", "silver.wells_lag", Some("wells"), &[], "daily"),
            ],
            "edges": [
                edge("dim-region", "report", "all"),
                edge("raw_wells", "stg_wells", "identity"),
                edge("report", "check_report", "identity"),
                edge("stg_wells", "report", "all"),
                edge("stg_wells", "stg_wells_lag", "offset(-1)"),
            ],
        })
    );
    // The text too: keys in alphabetical order whatever serde_json's map keeps.
    let text = value.to_string();
    assert!(text.starts_with(
        r##"{"edges":[{"downstream":"report","mapping":"all","upstream":"dim-region"},"##
    ));
    assert!(text.ends_with(
        r##"{"group":"wells","kind":"rust","name":"stg_wells_lag","partitions":"daily","table":"silver.wells_lag","tags":[]}]}"##
    ));
}

#[test]
fn a_selection_draws_only_its_nodes_and_the_edges_between_them() {
    let g = small();
    let selection = g.select("stg_wells+1", Some("report")).expect("selection");
    assert_eq!(
        g.to_mermaid(&selection),
        r##"flowchart LR
    subgraph group_wells["wells"]
        stg_wells["stg_wells<br/>sql · daily"]
        stg_wells_lag[["stg_wells_lag<br/>rust · daily"]]
    end
    stg_wells -->|"offset(-1)"| stg_wells_lag
    classDef rust fill:#ffedd5,stroke:#c2410c
    class stg_wells_lag rust
    classDef sql fill:#dcfce7,stroke:#15803d
    class stg_wells sql
"##
    );
    let selection = set(&["report", "check_report", "not_an_asset"]);
    assert_eq!(
        g.to_dot(&selection),
        r##"digraph phlo {
    rankdir=LR;
    node [fontname="Helvetica", style=filled];
    "check_report" [label="check_report\nquality · none", shape=hexagon, fillcolor="#fef9c3", color="#a16207"];
    "report" [label="report\nsql · none", shape=box, fillcolor="#dcfce7", color="#15803d"];
    "report" -> "check_report";
}
"##
    );
    assert_eq!(
        g.to_json(&BTreeSet::new()),
        serde_json::json!({"nodes": [], "edges": []})
    );
}

#[test]
fn names_are_escaped_and_unknown_kinds_drawn_plainly() {
    let g = AssetGraph::new(vec![
        GraphNode::new("end", "python", "t.end", daily()).with_group("my group"),
        GraphNode::new("b", "sql", "t.b", daily())
            .with_group("say \"hi\"")
            .with_dep("end", Mapping::Identity),
    ])
    .expect("graph");
    assert_eq!(
        g.to_mermaid(&g.names()),
        r##"flowchart LR
    subgraph group0["my group"]
        n1("end<br/>python · daily")
    end
    subgraph group1["say #quot;hi#quot;"]
        b["b<br/>sql · daily"]
    end
    n1 --> b
    classDef other fill:#f1f5f9,stroke:#475569
    class n1 other
    classDef sql fill:#dcfce7,stroke:#15803d
    class b sql
"##
    );
    let dot = g.to_dot(&g.names());
    assert!(
        dot.contains(
            "    subgraph \"cluster_say \\\"hi\\\"\" {\n        label=\"say \\\"hi\\\"\";\n"
        ),
        "{dot}"
    );
    assert!(
        dot.contains("\"end\" [label=\"end\\npython · daily\", shape=ellipse"),
        "{dot}"
    );
}

#[test]
fn drawings_do_not_depend_on_declaration_order() {
    let g = small();
    let mut nodes: Vec<GraphNode> = g.nodes().cloned().collect();
    nodes.reverse();
    for node in &mut nodes {
        node.deps.reverse();
    }
    let again = AssetGraph::new(nodes).expect("graph");
    assert_eq!(again.to_mermaid(&again.names()), g.to_mermaid(&g.names()));
    assert_eq!(again.to_dot(&again.names()), g.to_dot(&g.names()));
    assert_eq!(again.to_json(&again.names()), g.to_json(&g.names()));
}
