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

/// A microbatch model's header: time partitions (the batch size), an `event_time`, and a
/// `lookback` of at least 0.
fn microbatch_checks(model: &SqlModel, partitions: &PartitionsDef) -> Result<()> {
    let c = &model.config;
    if partitions.time().is_none() {
        return Err(invalid(
            &model.name,
            &model.path,
            "`materialized = \"microbatch\"` runs one batch per time window: add `partitions = \"daily\"` (or hourly, monthly; the batch size) and `start = \"YYYY-MM-DD\"` (dbt's `begin`)".into(),
        ));
    }
    if c.event_time.is_none() {
        return Err(invalid(
            &model.name,
            &model.path,
            "`materialized = \"microbatch\"` needs `event_time = \"<column>\"`: the column of its result (and of the upstreams it filters) holding each row's event time".into(),
        ));
    }
    if let Some(n) = c.lookback
        && (n < 0 || u32::try_from(n).is_err())
    {
        return Err(invalid(
            &model.name,
            &model.path,
            format!("`lookback = {n}`: the number of earlier batches re-run must be 0 or more"),
        ));
    }
    Ok(())
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
        Materialized::Microbatch => {
            microbatch_checks(&model, &partitions)?;
            MergeStrategy::ReplacePartition
        }
        Materialized::Table | Materialized::ReplacePartition => MergeStrategy::ReplacePartition,
        Materialized::Incremental => MergeStrategy::Merge,
        Materialized::View => MergeStrategy::Append,
    };
    if model.config.materialized != Materialized::Microbatch && model.config.lookback.is_some() {
        return Err(invalid(
            &model.name,
            &model.path,
            "`lookback` re-runs earlier batches of a `materialized = \"microbatch\"` model; this model is not one: remove it".into(),
        ));
    }
    if let Some(column) = &model.config.event_time
        && column.trim().is_empty()
    {
        return Err(invalid(
            &model.name,
            &model.path,
            "`event_time = \"\"`: name the column holding each row's event time".into(),
        ));
    }
    let table = super::asset_table(&model.table)
        .map_err(|reason| invalid(&model.name, &model.path, reason))?;
    let keys: Vec<&'static str> = model.config.unique_key.iter().map(|k| leak(k)).collect();
    let spec = IngestionSpec {
        table: leak(&model.table),
        unique_key: Box::leak(keys.into_boxed_slice()),
        group: model.config.group.as_deref().map(leak),
        merge_strategy: strategy,
        dedup: None,
        partitions: spec_partitions,
        strict_validation: model.config.strict_validation,
        ..IngestionSpec::DEFAULT
    };
    let schema = match &model.config.schema {
        Some(name) => {
            super::schema_named(name).map_err(|reason| invalid(&model.name, &model.path, reason))?
        }
        None => &QUERY_COLUMNS,
    };
    let descriptor = IngestionDescriptor {
        name: leak(&model.name),
        spec,
        schema,
        fetch: not_fetched,
        location: at(&model.path),
    };
    if model.config.schema.is_some() {
        super::validate_declared(&descriptor)?;
    }
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

/// A `#[transform]` as an asset: its partitions resolved, its materialization checked.
fn transform_asset(d: &'static crate::transform::rust::TransformDescriptor) -> Result<Asset> {
    let invalid = |reason: String| Error::InvalidAsset {
        asset: d.name.to_string(),
        location: d.location,
        reason,
    };
    let partitions =
        PartitionsDef::resolve(&d.spec.partitions).map_err(|e| invalid(e.to_string()))?;
    let keyed = !d.spec.unique_key.is_empty();
    let materialized = d.materialized.unwrap_or_else(|| {
        crate::transform::rust::default_materialized(partitions.is_partitioned(), keyed)
    });
    let strategy =
        crate::transform::rust::strategy(materialized, partitions.is_partitioned(), keyed)
            .map_err(invalid)?;
    let descriptor = IngestionDescriptor {
        name: d.name,
        spec: IngestionSpec {
            merge_strategy: strategy,
            ..d.spec
        },
        schema: d.schema.unwrap_or(&QUERY_COLUMNS),
        fetch: not_fetched,
        location: d.location,
    };
    let table = super::asset_table(d.spec.table).map_err(invalid)?;
    // A declared contract gets an ingestion asset's checks (keys are its fields, …); an
    // undeclared one is checked against the result when the transform runs.
    if d.schema.is_some() {
        super::validate_declared(&descriptor)?;
    }
    Ok(Asset {
        descriptor,
        table,
        partitions,
        tags: d.tags.iter().map(|t| t.to_string()).collect(),
        source: AssetSource::Rust(d),
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
            self.insert_asset(a)?;
        }
        // Edges: refs name assets; sources name tables (an edge when an asset writes it);
        // a Rust transform's parameters name assets.
        let names: Vec<&'static str> = self.assets.keys().copied().collect();
        for name in names {
            let Some(asset) = self.assets.get(name) else {
                continue;
            };
            let deps = match &asset.source {
                AssetSource::Sql(model) => self.model_deps(asset, model)?,
                AssetSource::Rust(t) => self.transform_deps(asset, t)?,
                AssetSource::Fetch | AssetSource::Seed(_) => continue,
            };
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

    /// A model's edges: its refs, then the assets writing its sources, each once.
    fn model_deps(&self, asset: &Asset, model: &SqlModel) -> Result<Vec<Dependency>> {
        let name = asset.descriptor.name;
        let mut upstream: Vec<String> = model.refs.clone();
        for source in &model.sources {
            let table =
                TableName::parse(source).map_err(|e| invalid(name, &model.path, e.to_string()))?;
            if let Some(writer) = self.assets.values().find(|a| a.table == table) {
                upstream.push(writer.descriptor.name.to_string());
            }
        }
        for named in model.config.mappings.keys() {
            if !upstream.contains(named) {
                return Err(invalid(
                    name,
                    &model.path,
                    format!("`mappings` names `{named}`, which the model does not read"),
                ));
            }
        }
        let mut seen = BTreeSet::new();
        upstream
            .into_iter()
            .filter(|u| seen.insert(u.clone()))
            .map(|up| {
                let written = model.config.mappings.get(&up).map(String::as_str);
                self.dependency(asset, up, written, |reason| {
                    invalid(name, &model.path, reason)
                })
            })
            .collect()
    }

    /// A Rust transform's edges: one per parameter, in order.
    fn transform_deps(
        &self,
        asset: &Asset,
        t: &crate::transform::rust::TransformDescriptor,
    ) -> Result<Vec<Dependency>> {
        t.inputs
            .iter()
            .map(|input| {
                self.dependency(asset, input.asset.to_string(), input.mapping, |reason| {
                    Error::InvalidAsset {
                        asset: t.name.to_string(),
                        location: t.location,
                        reason,
                    }
                })
            })
            .collect()
    }

    /// The edge from `up` to `asset`: the written mapping, or the default for the two
    /// partitions definitions. An unknown `up` is left to the graph, which names the
    /// closest asset.
    fn dependency(
        &self,
        asset: &Asset,
        up: String,
        written: Option<&str>,
        invalid: impl Fn(String) -> Error,
    ) -> Result<Dependency> {
        if let Some(text) = written {
            let mapping = PartitionMapping::parse(text).ok_or_else(|| {
                let written = match asset.source {
                    AssetSource::Sql(_) => format!("`mappings.{up} = \"{text}\"`"),
                    _ => format!("the mapping of `{up}` is \"{text}\""),
                };
                invalid(format!(
                    "{written}: use \"identity\", \"time_window\", \"all\" or \"offset(-1)\""
                ))
            })?;
            return Ok(Dependency { asset: up, mapping });
        }
        let mapping = match self.assets.get(up.as_str()) {
            // A microbatch model reads its upstreams by event time, not partition keys: an
            // upstream whose partitions do not map to its batches is read as a whole.
            Some(u) if asset.is_microbatch() => {
                crate::graph::default_mapping(&u.partitions, &asset.partitions)
                    .map(PartitionMapping::from_graph)
                    .unwrap_or(PartitionMapping::All)
            }
            Some(u) => crate::graph::default_mapping(&u.partitions, &asset.partitions)
                .map(PartitionMapping::from_graph)
                .map_err(|e| invalid(format!("cannot read `{up}` partition by partition: {e}")))?,
            None => PartitionMapping::All,
        };
        Ok(Dependency { asset: up, mapping })
    }

    /// Adds `#[transform]` assets (their edges are resolved with the project's, by
    /// [`Registry::with_project`]).
    pub fn with_transforms(
        mut self,
        descriptors: impl IntoIterator<Item = &'static crate::transform::rust::TransformDescriptor>,
    ) -> Result<Self> {
        let mut all: Vec<&'static crate::transform::rust::TransformDescriptor> =
            descriptors.into_iter().collect();
        all.sort_by_key(|d| (d.name, d.location.file, d.location.line));
        for d in all {
            let a = transform_asset(d)?;
            self.insert_asset(a)?;
        }
        Ok(self)
    }

    /// Inserts an asset with a name and a table of its own.
    fn insert_asset(&mut self, a: Asset) -> Result<()> {
        let name = a.descriptor.name;
        if let Some(first) = self.assets.get(name) {
            return Err(Error::DuplicateAsset {
                name: name.to_string(),
                first: first.descriptor.location,
                second: a.descriptor.location,
            });
        }
        if let Some(other) = self.assets.values().find(|o| o.table == a.table) {
            return Err(Error::InvalidAsset {
                asset: name.to_string(),
                location: a.descriptor.location,
                reason: format!(
                    "writes `{}`, which `{}` ({}) writes too; give it its own `table`",
                    a.table, other.descriptor.name, other.descriptor.location
                ),
            });
        }
        self.assets.insert(name, a);
        Ok(())
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
        for p in self.publications.values() {
            let mut g = GraphNode::new(
                p.name,
                "publish",
                format!("postgres:{}", p.to),
                PartitionsDef::None,
            )
            .with_dep(p.from, crate::graph::Mapping::All);
            if let Some(group) = p.group {
                g = g.with_group(group);
            }
            nodes.push(g);
        }
        AssetGraph::new(nodes).map_err(|e| Error::Graph(Box::new(e)))
    }
}
