//! The graph of a selection as Mermaid, Graphviz DOT and JSON. Output is deterministic:
//! groups by name, then nodes by name, then edges by (upstream, downstream).

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;

use serde_json::{Map, Value, json};

use super::{AssetGraph, GraphNode, Mapping};

/// How a kind of asset is drawn.
struct Style {
    /// The Mermaid class name.
    class: &'static str,
    /// Graphviz shape.
    shape: &'static str,
    fill: &'static str,
    stroke: &'static str,
}

fn style(kind: &str) -> Style {
    let (class, shape, fill, stroke) = match kind {
        "ingestion" => ("ingestion", "cylinder", "#dbeafe", "#1d4ed8"),
        "sql" => ("sql", "box", "#dcfce7", "#15803d"),
        "rust" => ("rust", "component", "#ffedd5", "#c2410c"),
        "seed" => ("seed", "note", "#f3e8ff", "#7e22ce"),
        "quality" => ("quality", "hexagon", "#fef9c3", "#a16207"),
        _ => ("other", "ellipse", "#f1f5f9", "#475569"),
    };
    Style {
        class,
        shape,
        fill,
        stroke,
    }
}

/// The selected nodes: by group (groups by name), then the ungrouped; each by name.
fn layout<'g>(
    graph: &'g AssetGraph,
    selected: &BTreeSet<usize>,
) -> (BTreeMap<&'g str, Vec<usize>>, Vec<usize>) {
    let mut groups: BTreeMap<&str, Vec<usize>> = BTreeMap::new();
    let mut loose = Vec::new();
    for &i in selected {
        match graph.nodes.get(i).and_then(|n| n.group.as_deref()) {
            Some(g) => groups.entry(g).or_default().push(i),
            None => loose.push(i),
        }
    }
    (groups, loose)
}

fn label_parts(node: &GraphNode) -> (String, String) {
    (
        node.name.clone(),
        format!("{} · {}", node.kind, node.partitions.describe()),
    )
}

const MERMAID_KEYWORDS: &[&str] = &[
    "end",
    "graph",
    "subgraph",
    "flowchart",
    "style",
    "class",
    "classDef",
    "click",
    "linkStyle",
    "direction",
    "default",
];

fn mermaid_safe(name: &str) -> bool {
    let mut chars = name.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
        && !MERMAID_KEYWORDS.contains(&name)
}

fn mermaid_id(graph: &AssetGraph, i: usize) -> String {
    match graph.nodes.get(i) {
        Some(n) if mermaid_safe(&n.name) => n.name.clone(),
        _ => format!("n{i}"),
    }
}

fn mermaid_text(text: &str) -> String {
    text.replace('"', "#quot;")
        .replace('<', "#lt;")
        .replace('>', "#gt;")
}

pub(super) fn mermaid(graph: &AssetGraph, selected: &BTreeSet<usize>) -> String {
    let mut out = String::from("flowchart LR\n");
    let node_line = |out: &mut String, indent: &str, i: usize| {
        let Some(node) = graph.nodes.get(i) else {
            return;
        };
        let (name, detail) = label_parts(node);
        let label = format!("\"{}<br/>{}\"", mermaid_text(&name), mermaid_text(&detail));
        let (open, close) = match style(&node.kind).class {
            "ingestion" => ("[(", ")]"),
            "sql" => ("[", "]"),
            "rust" => ("[[", "]]"),
            "seed" => ("[/", "/]"),
            "quality" => ("{{", "}}"),
            _ => ("(", ")"),
        };
        let _ = writeln!(out, "{indent}{}{open}{label}{close}", mermaid_id(graph, i));
    };
    let (groups, loose) = layout(graph, selected);
    for (g, (group, members)) in groups.iter().enumerate() {
        let id = if mermaid_safe(group) {
            format!("group_{group}")
        } else {
            format!("group{g}")
        };
        let _ = writeln!(out, "    subgraph {id}[\"{}\"]", mermaid_text(group));
        for &i in members {
            node_line(&mut out, "        ", i);
        }
        out.push_str("    end\n");
    }
    for &i in &loose {
        node_line(&mut out, "    ", i);
    }
    for (up, down, mapping) in graph.edges_within(selected) {
        let (up, down) = (mermaid_id(graph, up), mermaid_id(graph, down));
        match mapping {
            Mapping::Identity => {
                let _ = writeln!(out, "    {up} --> {down}");
            }
            m => {
                let _ = writeln!(out, "    {up} -->|\"{m}\"| {down}");
            }
        }
    }
    let mut classes: BTreeMap<&'static str, (Style, Vec<String>)> = BTreeMap::new();
    for &i in selected {
        if let Some(node) = graph.nodes.get(i) {
            let s = style(&node.kind);
            classes
                .entry(s.class)
                .or_insert_with(|| (s, Vec::new()))
                .1
                .push(mermaid_id(graph, i));
        }
    }
    for (class, (s, ids)) in &classes {
        let _ = writeln!(
            out,
            "    classDef {class} fill:{},stroke:{}",
            s.fill, s.stroke
        );
        let _ = writeln!(out, "    class {} {class}", ids.join(","));
    }
    out
}

fn dot_text(text: &str) -> String {
    text.replace('\\', "\\\\").replace('"', "\\\"")
}

pub(super) fn dot(graph: &AssetGraph, selected: &BTreeSet<usize>) -> String {
    let mut out = String::from(
        "digraph phlo {\n    rankdir=LR;\n    node [fontname=\"Helvetica\", style=filled];\n",
    );
    let node_line = |out: &mut String, indent: &str, i: usize| {
        let Some(node) = graph.nodes.get(i) else {
            return;
        };
        let (name, detail) = label_parts(node);
        let s = style(&node.kind);
        let _ = writeln!(
            out,
            "{indent}\"{}\" [label=\"{}\\n{}\", shape={}, fillcolor=\"{}\", color=\"{}\"];",
            dot_text(&node.name),
            dot_text(&name),
            dot_text(&detail),
            s.shape,
            s.fill,
            s.stroke
        );
    };
    let (groups, loose) = layout(graph, selected);
    for (group, members) in &groups {
        let _ = writeln!(out, "    subgraph \"cluster_{}\" {{", dot_text(group));
        let _ = writeln!(out, "        label=\"{}\";", dot_text(group));
        for &i in members {
            node_line(&mut out, "        ", i);
        }
        out.push_str("    }\n");
    }
    for &i in &loose {
        node_line(&mut out, "    ", i);
    }
    for (up, down, mapping) in graph.edges_within(selected) {
        let name = |i: usize| graph.nodes.get(i).map_or("", |n| n.name.as_str());
        let (up, down) = (dot_text(name(up)), dot_text(name(down)));
        match mapping {
            Mapping::Identity => {
                let _ = writeln!(out, "    \"{up}\" -> \"{down}\";");
            }
            m => {
                let _ = writeln!(out, "    \"{up}\" -> \"{down}\" [label=\"{m}\"];");
            }
        }
    }
    out.push_str("}\n");
    out
}

pub(super) fn json(graph: &AssetGraph, selected: &BTreeSet<usize>) -> Value {
    // Keys are inserted in alphabetical order so the text is the same whether or not
    // serde_json preserves insertion order.
    let nodes: Vec<Value> = selected
        .iter()
        .filter_map(|&i| graph.nodes.get(i))
        .map(|n| {
            let mut m = Map::new();
            m.insert("group".into(), json!(n.group));
            m.insert("kind".into(), json!(n.kind));
            m.insert("name".into(), json!(n.name));
            m.insert("partitions".into(), json!(n.partitions.describe()));
            m.insert("table".into(), json!(n.table));
            m.insert("tags".into(), json!(n.tags));
            Value::Object(m)
        })
        .collect();
    let edges: Vec<Value> = graph
        .edges_within(selected)
        .into_iter()
        .map(|(up, down, mapping)| {
            let name = |i: usize| graph.nodes.get(i).map_or("", |n| n.name.as_str());
            let mut m = Map::new();
            m.insert("downstream".into(), json!(name(down)));
            m.insert("mapping".into(), json!(mapping.to_string()));
            m.insert("upstream".into(), json!(name(up)));
            Value::Object(m)
        })
        .collect();
    let mut top = Map::new();
    top.insert("edges".into(), Value::Array(edges));
    top.insert("nodes".into(), Value::Array(nodes));
    Value::Object(top)
}
