//! A project's models and seeds added to the registry, and the asset graph of it all.

use std::collections::BTreeSet;
use std::sync::Arc;

use phlo_core::names::TableName;
use phlo_core::partition::PartitionsDef;
use phlo_core::schema::{SchemaDef, SchemaPolicy};
use phlo_core::spec::{Cadence, IngestionSpec, Location, MergeStrategy, PartitionsSpec};

use super::{Asset, AssetSource, Dependency, IngestionDescriptor, PartitionMapping, Registry};
use crate::graph::{AssetGraph, GraphNode};
use crate::transform::{self, Materialized, Project, Seed, SqlModel, leak};
use crate::{Error, Result};

/// The placeholder contract of a model without a declared schema: the real one is its
/// query's columns, derived when it runs ([`transform::derived_schema`]).
static QUERY_COLUMNS: SchemaDef = SchemaDef {
    name: "(its query's columns)",
    fields: &[],
    policy: SchemaPolicy::Strict,
};

/// Models and seeds are not fetched: their rows come from [`AssetSource`].
fn not_fetched(ctx: phlo_core::partition::PartitionContext) -> crate::fetch::FetchFuture {
    let asset = ctx.asset().to_string();
    Box::pin(async move {
        Err(format!("asset `{asset}` is a model or seed: it has no fetch function").into())
    })
}

fn at(path: &str) -> Location {
    Location {
        file: leak(path),
        line: 1,
        column: 1,
        module: "project",
    }
}

fn invalid(name: &str, path: &str, reason: String) -> Error {
    Error::InvalidAsset {
        asset: name.to_string(),
        location: at(path),
        reason,
    }
}

/// A model header's partitions.
fn partitions_spec(model: &SqlModel) -> Result<PartitionsSpec> {
    let c = &model.config;
    let cadence = match c.partitions.as_deref() {
        None | Some("none") => return Ok(PartitionsSpec::None),
        Some("daily") => Cadence::Daily,
        Some("hourly") => Cadence::Hourly,
        Some("monthly") => Cadence::Monthly,
        Some(other) => {
            return Err(invalid(
                &model.name,
                &model.path,
                format!(
                    "`partitions = \"{other}\"`: use \"daily\", \"hourly\", \"monthly\" or \"none\""
                ),
            ));
        }
    };
    Ok(PartitionsSpec::Time {
        cadence,
        start: c.start.as_deref().map(leak),
        end: c.end.as_deref().map(leak),
        timezone: leak(c.timezone.as_deref().unwrap_or("UTC")),
        end_offset: 0,
    })
}

fn model_asset(model: SqlModel) -> Result<Asset> {
    let spec_partitions = partitions_spec(&model)?;
    let partitions = PartitionsDef::resolve(&spec_partitions)
        .map_err(|e| invalid(&model.name, &model.path, e.to_string()))?;
    let strategy = match model.config.materialized {
        Materialized::Table if partitions.is_partitioned() => {
            return Err(invalid(
                &model.name,
                &model.path,
                "`materialized = \"table\"` rebuilds the whole table, so it takes no partitions; use \"incremental\" or \"replace_partition\" for a partitioned model".into(),
            ));
        }
        Materialized::ReplacePartition if !partitions.is_partitioned() => {
            return Err(invalid(
                &model.name,
                &model.path,
                "`materialized = \"replace_partition\"` needs `partitions = \"daily\"` (or hourly, monthly)".into(),
            ));
        }
        Materialized::Table | Materialized::ReplacePartition => MergeStrategy::ReplacePartition,
        Materialized::Incremental => MergeStrategy::Merge,
        Materialized::View => MergeStrategy::Append,
    };
    let table = TableName::parse(&model.table)
        .map_err(|e| invalid(&model.name, &model.path, e.to_string()))?;
    if table.namespace() == phlo_core::names::PHLO_NAMESPACE {
        return Err(invalid(
            &model.name,
            &model.path,
            "namespace `_phlo` is reserved for phlo's own tables".into(),
        ));
    }
    let keys: Vec<&'static str> = model.config.unique_key.iter().map(|k| leak(k)).collect();
    let spec = IngestionSpec {
        table: leak(&model.table),
        unique_key: Box::leak(keys.into_boxed_slice()),
        group: model.config.group.as_deref().map(leak),
        merge_strategy: strategy,
        dedup: None,
        partitions: spec_partitions,
        ..IngestionSpec::DEFAULT
    };
    let descriptor = IngestionDescriptor {
        name: leak(&model.name),
        spec,
        schema: &QUERY_COLUMNS,
        fetch: not_fetched,
        location: at(&model.path),
    };
    Ok(Asset {
        descriptor,
        table,
        partitions,
        tags: model.config.tags.clone(),
        source: AssetSource::Sql(Arc::new(model)),
        deps: Vec::new(),
    })
}

fn seed_asset(seed: Seed) -> Result<Asset> {
    let table = TableName::parse(&seed.table)
        .map_err(|e| invalid(&seed.name, &seed.path, e.to_string()))?;
    let spec = IngestionSpec {
        table: leak(&seed.table),
        unique_key: &[],
        merge_strategy: MergeStrategy::ReplacePartition,
        dedup: None,
        partitions: PartitionsSpec::None,
        ..IngestionSpec::DEFAULT
    };
    Ok(Asset {
        descriptor: IngestionDescriptor {
            name: leak(&seed.name),
            spec,
            schema: &QUERY_COLUMNS,
            fetch: not_fetched,
            location: at(&seed.path),
        },
        table,
        partitions: PartitionsDef::None,
        tags: Vec::new(),
        source: AssetSource::Seed(Arc::new(seed)),
        deps: Vec::new(),
    })
}

impl Registry {
    /// Adds a project's models and seeds, resolves their `ref`s and `source`s into edges
    /// (with the default partition mapping of each pair), and validates the whole graph:
    /// unknown refs (with the closest name), cycles, incompatible partitions.
    pub fn with_project(mut self, project: Project) -> Result<Self> {
        let mut added = Vec::new();
        for f in project.seeds {
            added.push(seed_asset(
                transform::parse_seed(f).map_err(Error::Project)?,
            )?);
        }
        for f in project.models {
            added.push(model_asset(
                transform::parse_model(f.path, f.text).map_err(Error::Project)?,
            )?);
        }
        for a in added {
            let name = a.descriptor.name;
            if let Some(first) = self.assets.get(name) {
                return Err(Error::DuplicateAsset {
                    name: name.to_string(),
                    first: first.descriptor.location,
                    second: a.descriptor.location,
                });
            }
            if let Some(other) = self.assets.values().find(|o| o.table == a.table) {
                return Err(invalid(
                    name,
                    a.descriptor.location.file,
                    format!(
                        "writes `{}`, which `{}` ({}) writes too; give it its own `table`",
                        a.table, other.descriptor.name, other.descriptor.location
                    ),
                ));
            }
            self.assets.insert(name, a);
        }
        // Edges: refs name assets; sources name tables (an edge when an asset writes it).
        let names: Vec<&'static str> = self.assets.keys().copied().collect();
        for name in names {
            let Some(asset) = self.assets.get(name) else {
                continue;
            };
            let AssetSource::Sql(model) = &asset.source else {
                continue;
            };
            let mut upstream: Vec<String> = model.refs.clone();
            for source in &model.sources {
                let table = TableName::parse(source)
                    .map_err(|e| invalid(name, &model.path, e.to_string()))?;
                if let Some(writer) = self.assets.values().find(|a| a.table == table) {
                    upstream.push(writer.descriptor.name.to_string());
                }
            }
            let mut seen = BTreeSet::new();
            let mut deps = Vec::new();
            for named in model.config.mappings.keys() {
                if !upstream.contains(named) {
                    return Err(invalid(
                        name,
                        &model.path,
                        format!("`mappings` names `{named}`, which the model does not read"),
                    ));
                }
            }
            for up in upstream.into_iter().filter(|u| seen.insert(u.clone())) {
                if let Some(text) = model.config.mappings.get(&up) {
                    let mapping = PartitionMapping::parse(text).ok_or_else(|| {
                        invalid(
                            name,
                            &model.path,
                            format!("`mappings.{up} = \"{text}\"`: use \"identity\", \"time_window\", \"all\" or \"offset(-1)\""),
                        )
                    })?;
                    deps.push(Dependency { asset: up, mapping });
                    continue;
                }
                let mapping = match self.assets.get(up.as_str()) {
                    Some(u) => crate::graph::default_mapping(&u.partitions, &asset.partitions)
                        .map(PartitionMapping::from_graph)
                        .map_err(|e| {
                            invalid(
                                name,
                                &model.path,
                                format!("cannot read `{up}` partition by partition: {e}"),
                            )
                        })?,
                    // Unknown: the graph reports it with the closest name.
                    None => PartitionMapping::All,
                };
                deps.push(Dependency { asset: up, mapping });
            }
            if let Some(a) = self.assets.get_mut(name) {
                a.deps = deps;
            }
        }
        for f in project.tests {
            let test = transform::parse_data_test(f).map_err(Error::Project)?;
            if self.assets.contains_key(test.name.as_str())
                || self.data_tests.contains_key(&test.name)
            {
                return Err(invalid(
                    &test.name,
                    &test.path,
                    "a data test needs a name of its own: an asset or another test has it".into(),
                ));
            }
            self.data_tests.insert(test.name.clone(), Arc::new(test));
        }
        self.graph()?;
        Ok(self)
    }

    /// The singular data test `name`.
    pub fn data_test(&self, name: &str) -> Option<&Arc<crate::transform::DataTest>> {
        self.data_tests.get(name)
    }

    /// The asset graph: every asset, quality assets included, with their edges.
    pub fn graph(&self) -> Result<AssetGraph> {
        let nodes = self
            .nodes()
            .into_iter()
            .map(|n| {
                let mut g = GraphNode::new(
                    n.name,
                    n.kind.to_string(),
                    n.table.to_string(),
                    n.partitions.clone(),
                );
                if let Some(group) = n.group {
                    g = g.with_group(group);
                }
                if let Some(a) = self.assets.get(n.name) {
                    for t in &a.tags {
                        g = g.with_tag(t.as_str());
                    }
                }
                for d in &n.deps {
                    g = g.with_dep(d.asset.as_str(), d.mapping.graph());
                }
                g
            })
            .collect::<Vec<_>>();
        let mut nodes = nodes;
        for t in self.data_tests.values() {
            let mut g = GraphNode::new(t.name.as_str(), "test", "", PartitionsDef::None);
            let mut upstream = t.refs.clone();
            for source in &t.sources {
                if let Ok(table) = TableName::parse(source)
                    && let Some(w) = self.assets.values().find(|a| a.table == table)
                {
                    upstream.push(w.descriptor.name.to_string());
                }
            }
            let mut seen = BTreeSet::new();
            for up in upstream.into_iter().filter(|u| seen.insert(u.clone())) {
                g = g.with_dep(up.as_str(), crate::graph::Mapping::All);
            }
            nodes.push(g);
        }
        AssetGraph::new(nodes).map_err(|e| Error::Graph(Box::new(e)))
    }
}
