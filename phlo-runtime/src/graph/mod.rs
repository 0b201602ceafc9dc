//! The asset graph: validated dependencies, topological order, selections, partition
//! mappings across edges, and drawings. Pure: no I/O, no registry types — the runtime
//! turns its registry into [`GraphNode`]s and asks the graph.
//!
//! ```text
//!  Vec<GraphNode> ──AssetGraph::new──▶ AssetGraph   (names unique, deps exist, no cycle,
//!                                        │             every mapping fits its partitions)
//!        select("+stg_wells tag:daily", exclude) ──▶ BTreeSet<String>
//!        order() / layers() / ready(selected, done, running) / downstream_of(failed)
//!        upstream_keys(down, up, key) / downstream_keys(up, down, key)
//!        to_mermaid / to_dot / to_json (selection)
//! ```
//!
//! # Selection syntax
//!
//! dbt's rules: **space = union, comma = intersection**.
//!
//! ```text
//! selection := term (WHITESPACE term)*         union; empty or `*` = every asset
//! term      := selector ("," selector)*        intersection (spaces around `,` are ignored)
//! selector  := [N] "+" base "+" [N]            ancestors / descendants, each optional
//!            | "@" base                        base, its descendants, and their ancestors
//!            | "*"                             every asset
//! base      := NAME | "group:" NAME | "tag:" NAME | "kind:" NAME
//! N         := a whole number ≥ 1, the depth (edges away); no N = any depth
//! NAME      := letters, digits, `_`, `-`, `.`, `/`
//! ```
//!
//! | selection                | selects                                             |
//! |--------------------------|-----------------------------------------------------|
//! | `stg_wells`              | that asset                                          |
//! | `+stg_wells`             | it and all its ancestors                            |
//! | `stg_wells+`             | it and all its descendants                          |
//! | `2+stg_wells+1`          | it, ancestors up to 2 edges up, children            |
//! | `@stg_wells`             | it, its descendants, and every ancestor of those    |
//! | `group:wells`            | the assets of group `wells`                         |
//! | `tag:daily kind:sql`     | tagged `daily`, or of kind `sql` (union)            |
//! | `tag:daily,group:wells`  | tagged `daily` and in group `wells` (intersection)  |
//! | `+tag:daily`             | the tagged assets and all their ancestors           |
//!
//! `select(selection, Some(exclude))` removes what `exclude` selects (an empty exclude
//! removes nothing). A name that is not an asset is an error suggesting the closest
//! name; so is a `group:`/`tag:`/`kind:` value no asset has (a typo is likelier than an
//! intentionally empty selection). Parse errors give the column and the selector.
//!
//! # Partition mappings
//!
//! Each edge carries a [`Mapping`]; [`default_mapping`] gives the one implied by the two
//! partitions definitions. [`AssetGraph::upstream_keys`] answers "which upstream
//! partitions does this partition read", [`AssetGraph::downstream_keys`] the inverse
//! ("which partitions does a change here affect"). Windows are compared by their UTC
//! instants, so the two sides may use different time zones.
//!
//! # Scheduling
//!
//! [`AssetGraph::ready`] gives the selected assets that can start now: every selected
//! ancestor — also through unselected assets in between — is done. Independent assets
//! are ready together and may run in parallel. When an asset fails, mark
//! [`AssetGraph::downstream_of`] it as skipped and count both as done.
//!
//! ```
//! use std::collections::BTreeSet;
//! use phlo_core::partition::PartitionsDef;
//! use phlo_runtime::graph::{AssetGraph, GraphNode, Mapping};
//!
//! let daily = PartitionsDef::daily_utc();
//! let graph = AssetGraph::new(vec![
//!     GraphNode::new("raw_wells", "ingestion", "bronze.wells", daily.clone()).with_group("wells"),
//!     GraphNode::new("stg_wells", "sql", "silver.wells", daily.clone())
//!         .with_group("wells")
//!         .with_dep("raw_wells", Mapping::Identity),
//!     GraphNode::new("report", "sql", "gold.report", PartitionsDef::None)
//!         .with_tag("daily")
//!         .with_dep("stg_wells", Mapping::All),
//! ])?;
//! assert_eq!(graph.order(), ["raw_wells", "stg_wells", "report"]);
//! let selected = graph.select("+report", Some("raw_wells"))?;
//! assert_eq!(selected, BTreeSet::from(["report".to_string(), "stg_wells".to_string()]));
//! let err = graph.select("stg_well", None).unwrap_err();
//! assert_eq!(err.to_string(), "selection names unknown asset `stg_well`; did you mean `stg_wells`?");
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

mod error;
mod mapping;
mod render;
mod select;
pub(crate) mod suggest;

use std::collections::{BTreeMap, BTreeSet};

use phlo_core::partition::{PartitionKey, PartitionsDef};

pub use error::{GraphError, MappingError, SelectionError, SyntaxProblem};
pub use mapping::{DownstreamKeys, MappedKeys, Mapping, UpstreamKeys, default_mapping};
pub use select::{Base, Depth, GraphOp, Selection, Selector, Term};

/// One asset as the graph sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GraphNode {
    /// The asset's name, unique in the graph.
    pub name: String,
    /// Its kind: `ingestion`, `sql`, `rust`, `seed`, `quality`, …
    pub kind: String,
    /// The table it writes.
    pub table: String,
    /// Its group, if any.
    pub group: Option<String>,
    /// Its tags.
    pub tags: Vec<String>,
    /// How it is partitioned.
    pub partitions: PartitionsDef,
    /// The assets it reads, each with its partition mapping.
    pub deps: Vec<Edge>,
}

impl GraphNode {
    /// A node without group, tags or dependencies.
    pub fn new(
        name: impl Into<String>,
        kind: impl Into<String>,
        table: impl Into<String>,
        partitions: PartitionsDef,
    ) -> Self {
        GraphNode {
            name: name.into(),
            kind: kind.into(),
            table: table.into(),
            group: None,
            tags: Vec::new(),
            partitions,
            deps: Vec::new(),
        }
    }

    /// Puts the node in `group`.
    pub fn with_group(mut self, group: impl Into<String>) -> Self {
        self.group = Some(group.into());
        self
    }

    /// Adds a tag.
    pub fn with_tag(mut self, tag: impl Into<String>) -> Self {
        self.tags.push(tag.into());
        self
    }

    /// Adds a dependency on `upstream` with `mapping`.
    pub fn with_dep(mut self, upstream: impl Into<String>, mapping: Mapping) -> Self {
        self.deps.push(Edge {
            upstream: upstream.into(),
            mapping,
        });
        self
    }
}

/// A dependency: the upstream asset and how partitions map across the edge.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Edge {
    /// The upstream asset's name.
    pub upstream: String,
    /// How downstream partitions map to upstream ones.
    pub mapping: Mapping,
}

/// A validated asset graph: unique names, known dependencies, no cycle, and every
/// mapping fitting the partitions on its two sides. Nodes are kept sorted by name, each
/// node's dependencies sorted by upstream name.
#[derive(Debug, Clone)]
pub struct AssetGraph {
    /// Sorted by name; an asset's index is its rank by name.
    nodes: Vec<GraphNode>,
    index: BTreeMap<String, usize>,
    /// Direct upstreams of each node, sorted.
    upstream: Vec<Vec<usize>>,
    /// Direct downstreams of each node, sorted.
    downstream: Vec<Vec<usize>>,
    /// Topological order, ties by name.
    order: Vec<usize>,
}

impl AssetGraph {
    /// Validates `nodes` into a graph. The first problem found is returned, assets taken
    /// by name: duplicate names; then each asset's unknown dependencies (with the closest
    /// name suggested) and upstreams listed twice; cycles (with the cycle's path); then
    /// mappings that do not fit the two assets' partitions.
    pub fn new(mut nodes: Vec<GraphNode>) -> Result<AssetGraph, GraphError> {
        nodes.sort_by(|a, b| a.name.cmp(&b.name));
        let mut index = BTreeMap::new();
        for (i, node) in nodes.iter().enumerate() {
            if index.insert(node.name.clone(), i).is_some() {
                return Err(GraphError::DuplicateAsset {
                    name: node.name.clone(),
                });
            }
        }
        let mut upstream = vec![Vec::new(); nodes.len()];
        let mut downstream = vec![Vec::new(); nodes.len()];
        for (i, node) in nodes.iter_mut().enumerate() {
            node.deps.sort_by(|a, b| a.upstream.cmp(&b.upstream));
            for (k, edge) in node.deps.iter().enumerate() {
                let Some(&u) = index.get(&edge.upstream) else {
                    return Err(GraphError::UnknownUpstream {
                        downstream: node.name.clone(),
                        upstream: edge.upstream.clone(),
                        suggestion: suggest::closest(
                            &edge.upstream,
                            index.keys().map(String::as_str).filter(|n| *n != node.name),
                        ),
                    });
                };
                if k > 0
                    && node
                        .deps
                        .get(k - 1)
                        .is_some_and(|e| e.upstream == edge.upstream)
                {
                    return Err(GraphError::DuplicateEdge {
                        downstream: node.name.clone(),
                        upstream: edge.upstream.clone(),
                    });
                }
                upstream[i].push(u);
                downstream[u].push(i);
            }
        }
        for list in &mut downstream {
            list.sort_unstable();
        }
        let order = topological(&upstream, &downstream).map_err(|cycle| GraphError::Cycle {
            path: cycle
                .iter()
                .filter_map(|&i| nodes.get(i).map(|n| n.name.clone()))
                .collect(),
        })?;
        for node in &nodes {
            for edge in &node.deps {
                let up = index.get(&edge.upstream).and_then(|&u| nodes.get(u));
                if let Some(up) = up {
                    mapping::check(edge.mapping, &up.partitions, &node.partitions).map_err(
                        |reason| GraphError::IncompatibleMapping {
                            downstream: node.name.clone(),
                            upstream: up.name.clone(),
                            mapping: edge.mapping,
                            reason,
                        },
                    )?;
                }
            }
        }
        Ok(AssetGraph {
            nodes,
            index,
            upstream,
            downstream,
            order,
        })
    }

    /// The number of assets.
    pub fn len(&self) -> usize {
        self.nodes.len()
    }

    /// Whether the graph has no asset.
    pub fn is_empty(&self) -> bool {
        self.nodes.is_empty()
    }

    /// The asset named `name`.
    pub fn node(&self, name: &str) -> Option<&GraphNode> {
        self.index.get(name).and_then(|&i| self.nodes.get(i))
    }

    /// Every asset, by name.
    pub fn nodes(&self) -> impl Iterator<Item = &GraphNode> {
        self.nodes.iter()
    }

    /// Every asset name, sorted (a selection of everything).
    pub fn names(&self) -> BTreeSet<String> {
        self.index.keys().cloned().collect()
    }

    /// The direct downstreams of `name`, by name (empty for an unknown name).
    pub fn children(&self, name: &str) -> Vec<&str> {
        self.index
            .get(name)
            .and_then(|&i| self.downstream.get(i))
            .map(|d| d.iter().map(|&j| self.name(j)).collect())
            .unwrap_or_default()
    }

    /// Every asset in dependency order (an asset after all its upstreams); among assets
    /// whose upstreams are all placed, the smallest name first.
    pub fn order(&self) -> Vec<&str> {
        self.order.iter().map(|&i| self.name(i)).collect()
    }

    /// Every asset in waves that can each run in parallel once the previous waves are
    /// done: [`AssetGraph::schedule`] of the whole graph.
    pub fn layers(&self) -> Vec<Vec<String>> {
        self.schedule(&self.names())
    }

    /// The selected assets in waves: each wave is what [`AssetGraph::ready`] gives once
    /// every earlier wave is done. Names not in the graph are ignored.
    pub fn schedule(&self, selected: &BTreeSet<String>) -> Vec<Vec<String>> {
        let mut done = BTreeSet::new();
        let mut waves = Vec::new();
        loop {
            let wave = self.ready(selected, &done, &BTreeSet::new());
            if wave.is_empty() {
                return waves;
            }
            done.extend(wave.iter().cloned());
            waves.push(wave);
        }
    }

    /// The selected assets that can start now, by name: not done, not running, and no
    /// selected ancestor (at any distance, also through unselected assets) that is not
    /// done. `done` holds every finished asset — succeeded, failed or skipped. Names not
    /// in the graph are ignored.
    pub fn ready(
        &self,
        selected: &BTreeSet<String>,
        done: &BTreeSet<String>,
        running: &BTreeSet<String>,
    ) -> Vec<String> {
        let pending: BTreeSet<usize> = selected
            .iter()
            .filter(|n| !done.contains(*n))
            .filter_map(|n| self.index.get(n).copied())
            .collect();
        pending
            .iter()
            .filter(|&&i| !running.contains(self.name(i)))
            .filter(|&&i| {
                self.walk(&BTreeSet::from([i]), true, None)
                    .is_disjoint(&pending)
            })
            .map(|&i| self.name(i).to_string())
            .collect()
    }

    /// Every asset downstream of `name` at any distance, without `name` itself (empty
    /// for an unknown name): what to skip when `name` fails.
    pub fn downstream_of(&self, name: &str) -> BTreeSet<String> {
        self.related(name, false)
    }

    /// Every asset upstream of `name` at any distance, without `name` itself (empty for
    /// an unknown name).
    pub fn upstream_of(&self, name: &str) -> BTreeSet<String> {
        self.related(name, true)
    }

    /// The assets `select` selects, minus those `exclude` selects. Both are parsed before
    /// either is resolved, so a syntax error is reported before an unknown name. See the
    /// [module docs](self) for the grammar.
    pub fn select(
        &self,
        select: &str,
        exclude: Option<&str>,
    ) -> Result<BTreeSet<String>, SelectionError> {
        let selection = Selection::parse(select)?;
        let exclusion = match exclude {
            Some(text) if !text.trim().is_empty() => Some(Selection::parse(text)?),
            _ => None,
        };
        self.resolve(&selection, exclusion.as_ref())
    }

    /// [`AssetGraph::select`] for parsed selections.
    pub fn resolve(
        &self,
        selection: &Selection,
        exclude: Option<&Selection>,
    ) -> Result<BTreeSet<String>, SelectionError> {
        let mut chosen = select::resolve(self, selection)?;
        if let Some(exclude) = exclude {
            let removed = select::resolve(self, exclude)?;
            chosen.retain(|i| !removed.contains(i));
        }
        Ok(chosen
            .into_iter()
            .map(|i| self.name(i).to_string())
            .collect())
    }

    /// The upstream partitions that partition `key` of `downstream` reads from its
    /// dependency `upstream`. `All` for an `all` mapping or an unpartitioned upstream
    /// (any key is then accepted); otherwise `key` must be a partition of `downstream`,
    /// and a mapped key outside the upstream's range is left out (an empty list, not an
    /// error).
    pub fn upstream_keys(
        &self,
        downstream: &str,
        upstream: &str,
        key: &PartitionKey,
    ) -> Result<UpstreamKeys, GraphError> {
        let (up, down, mapping) = self.edge(downstream, upstream)?;
        mapping::upstream_keys(mapping, &up.partitions, &down.partitions, key)
            .ok_or_else(|| not_a_key(down, key))
    }

    /// The partitions of `downstream` that read partition `key` of its dependency
    /// `upstream`: which become stale when that partition changes. `All` for an `all`
    /// mapping or when either side is unpartitioned (any key is then accepted);
    /// otherwise `key` must be a partition of `upstream`.
    pub fn downstream_keys(
        &self,
        upstream: &str,
        downstream: &str,
        key: &PartitionKey,
    ) -> Result<DownstreamKeys, GraphError> {
        let (up, down, mapping) = self.edge(downstream, upstream)?;
        mapping::downstream_keys(mapping, &up.partitions, &down.partitions, key)
            .ok_or_else(|| not_a_key(up, key))
    }

    /// The selected assets and the edges between them as a Mermaid flowchart: groups as
    /// subgraphs, shapes and colours by kind, non-identity mappings on the edges.
    pub fn to_mermaid(&self, selection: &BTreeSet<String>) -> String {
        render::mermaid(self, &self.indices(selection))
    }

    /// The selected assets and the edges between them as Graphviz DOT: groups as
    /// clusters, shapes and colours by kind, non-identity mappings as edge labels.
    pub fn to_dot(&self, selection: &BTreeSet<String>) -> String {
        render::dot(self, &self.indices(selection))
    }

    /// The selected assets and the edges between them as JSON:
    /// `{"edges": [{"downstream", "mapping", "upstream"}], "nodes": [{"group", "kind",
    /// "name", "partitions", "table", "tags"}]}`, nodes by name, edges by (upstream,
    /// downstream); `mapping` and `partitions` in their text forms (`offset(-1)`,
    /// `hourly(Europe/London)`).
    pub fn to_json(&self, selection: &BTreeSet<String>) -> serde_json::Value {
        render::json(self, &self.indices(selection))
    }

    fn name(&self, i: usize) -> &str {
        self.nodes.get(i).map_or("", |n| n.name.as_str())
    }

    fn indices(&self, names: &BTreeSet<String>) -> BTreeSet<usize> {
        names
            .iter()
            .filter_map(|n| self.index.get(n).copied())
            .collect()
    }

    fn related(&self, name: &str, up: bool) -> BTreeSet<String> {
        let Some(&i) = self.index.get(name) else {
            return BTreeSet::new();
        };
        self.walk(&BTreeSet::from([i]), up, None)
            .into_iter()
            .map(|j| self.name(j).to_string())
            .collect()
    }

    /// The nodes reached from `from` going up (ancestors) or down (descendants), at most
    /// `depth` edges away (`None`: any distance). A start node is included only when it
    /// is reached from another one.
    fn walk(&self, from: &BTreeSet<usize>, up: bool, depth: Option<usize>) -> BTreeSet<usize> {
        let adjacency = if up { &self.upstream } else { &self.downstream };
        let mut seen = BTreeSet::new();
        let mut frontier: Vec<usize> = from.iter().copied().collect();
        let mut level = 0;
        while !frontier.is_empty() && depth.is_none_or(|d| level < d) {
            level += 1;
            let mut next = Vec::new();
            for i in frontier {
                for &j in adjacency.get(i).map_or(&[][..], Vec::as_slice) {
                    if seen.insert(j) {
                        next.push(j);
                    }
                }
            }
            frontier = next;
        }
        seen
    }

    /// Every edge between two selected nodes: (upstream, downstream, mapping), sorted.
    fn edges_within(&self, selected: &BTreeSet<usize>) -> Vec<(usize, usize, Mapping)> {
        let mut edges: Vec<(usize, usize, Mapping)> = selected
            .iter()
            .filter_map(|&d| self.nodes.get(d).map(|n| (d, n)))
            .flat_map(|(d, n)| {
                n.deps
                    .iter()
                    .filter_map(move |e| self.index.get(&e.upstream).map(|&u| (u, d, e.mapping)))
            })
            .filter(|(u, _, _)| selected.contains(u))
            .collect();
        edges.sort_by_key(|&(u, d, _)| (u, d));
        edges
    }

    /// The nodes of the edge `upstream → downstream` and its mapping.
    fn edge(
        &self,
        downstream: &str,
        upstream: &str,
    ) -> Result<(&GraphNode, &GraphNode, Mapping), GraphError> {
        let down = self.lookup(downstream)?;
        let up = self.lookup(upstream)?;
        let mapping = down
            .deps
            .iter()
            .find(|e| e.upstream == upstream)
            .map(|e| e.mapping)
            .ok_or_else(|| GraphError::NotADependency {
                downstream: downstream.to_string(),
                upstream: upstream.to_string(),
            })?;
        Ok((up, down, mapping))
    }

    fn lookup(&self, name: &str) -> Result<&GraphNode, GraphError> {
        self.node(name).ok_or_else(|| GraphError::UnknownAsset {
            name: name.to_string(),
            suggestion: suggest::closest(name, self.index.keys().map(String::as_str)),
        })
    }
}

fn not_a_key(node: &GraphNode, key: &PartitionKey) -> GraphError {
    GraphError::KeyNotInAsset {
        asset: node.name.clone(),
        key: key.to_string(),
        expected: node.partitions.key_form(),
    }
}

/// Kahn's algorithm, the smallest ready index first. `Err`: a cycle, as indices in the
/// direction data flows, the first repeated at the end and the smallest first.
fn topological(
    upstream: &[Vec<usize>],
    downstream: &[Vec<usize>],
) -> Result<Vec<usize>, Vec<usize>> {
    let mut missing: Vec<usize> = upstream.iter().map(Vec::len).collect();
    let mut ready: BTreeSet<usize> = (0..upstream.len()).filter(|&i| missing[i] == 0).collect();
    let mut order = Vec::with_capacity(upstream.len());
    while let Some(i) = ready.pop_first() {
        order.push(i);
        for &j in downstream.get(i).map_or(&[][..], Vec::as_slice) {
            if let Some(m) = missing.get_mut(j) {
                *m -= 1;
                if *m == 0 {
                    ready.insert(j);
                }
            }
        }
    }
    if order.len() == upstream.len() {
        return Ok(order);
    }
    // Every node left has an upstream left: walk upstream from the smallest until a node
    // repeats; the walk from its first visit is the cycle, against the flow.
    let left = |i: usize| missing.get(i).is_some_and(|&m| m > 0);
    let Some(start) = (0..upstream.len()).find(|&i| left(i)) else {
        return Ok(order);
    };
    let mut path = vec![start];
    let mut current = start;
    loop {
        let Some(&next) = upstream
            .get(current)
            .and_then(|ups| ups.iter().find(|&&u| left(u)))
        else {
            return Err(path);
        };
        if let Some(first) = path.iter().position(|&p| p == next) {
            let mut cycle: Vec<usize> = path.split_off(first);
            cycle.reverse();
            // Rotate so the smallest index leads, then close the loop.
            if let Some(min) = cycle
                .iter()
                .enumerate()
                .min_by_key(|(_, i)| **i)
                .map(|(k, _)| k)
            {
                cycle.rotate_left(min);
            }
            if let Some(&head) = cycle.first() {
                cycle.push(head);
            }
            return Err(cycle);
        }
        path.push(next);
        current = next;
    }
}

#[cfg(test)]
mod tests;
