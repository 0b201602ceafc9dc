//! The registry of asset kinds: every `#[ingestion]` submits an [`IngestionDescriptor`],
//! every `#[quality]` a [`QualityDescriptor`].
//!
//! [`Registry::global`] collects them into a snapshot **sorted by name** (inventory's
//! order is unspecified) and validates it in one place ([`Registry::from_parts`]): names
//! unique across kinds, valid table names, keys and `order_by` that are fields of the
//! schema, one schema per table, partitions definitions that resolve, quality assets on
//! tables some asset writes. Each asset is also seen as an [`AssetNode`] — kind, table,
//! partitions definition, upstream dependencies — the form the plan and (next) the asset
//! graph work with.

use std::collections::BTreeMap;

use phlo_core::names::TableName;
use phlo_core::partition::PartitionsDef;
use phlo_core::schema::SchemaDef;
use phlo_core::spec::{IngestionSpec, Location, MergeStrategy};
use serde::Serialize;

use crate::error::SchemaConflict;
use crate::fetch::FetchFn;
use crate::{Error, Result};

mod publication;
pub use publication::{DEFAULT_URL_ENV, Publication};

/// One ingestion asset, as `#[ingestion]` registers it.
#[derive(Debug, Clone, Copy)]
pub struct IngestionDescriptor {
    /// The asset's name (the function's name).
    pub name: &'static str,
    /// Its options.
    pub spec: IngestionSpec,
    /// The schema of its table.
    pub schema: &'static SchemaDef,
    /// The adapted function.
    pub fetch: FetchFn,
    /// Where it is defined.
    pub location: Location,
}

inventory::collect!(IngestionDescriptor);

/// The options of a `#[quality]` asset.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct QualitySpec {
    /// The checked table, `name` (namespace `bronze`) or `ns.name`.
    pub table: &'static str,
    /// Whether a failing `error` check blocks publication (the default).
    pub blocking: bool,
    /// Whether checks are scoped to a partition (the default) or a rolling window.
    pub partition_aware: bool,
    /// The column a partition scope filters on; `None`: the checked table's partition key
    /// column (`_phlo_partition_date`, `_phlo_partition_hour` or `_phlo_partition_key`).
    pub partition_column: Option<&'static str>,
    /// Days in the window when no partition is given.
    pub rolling_window_days: u32,
    /// Whether checks always cover the whole table.
    pub full_table: bool,
    /// Asset group.
    pub group: Option<&'static str>,
}

impl QualitySpec {
    /// The defaults; the macro fills in what the user set.
    pub const DEFAULT: QualitySpec = QualitySpec {
        table: "",
        blocking: true,
        partition_aware: true,
        partition_column: None,
        rolling_window_days: 7,
        full_table: false,
        group: None,
    };
}

/// One quality asset, as `#[quality]` registers it.
#[derive(Debug, Clone, Copy)]
pub struct QualityDescriptor {
    /// The asset's name (the function's name).
    pub name: &'static str,
    /// Its options.
    pub spec: QualitySpec,
    /// The built-in checks of `checks = [...]` (empty for a custom-function asset).
    pub checks: fn() -> Vec<Box<dyn phlo_quality::Check>>,
    /// The user function, for an asset whose function has a body.
    pub custom: Option<crate::quality::CustomCheckFn>,
    /// Where it is defined.
    pub location: Location,
}

inventory::collect!(QualityDescriptor);

/// A struct deriving `Schema`, registered by its name so that a SQL model's header can
/// declare it as its contract (`-- phlo: schema = "StgWellProduction"`).
#[derive(Debug, Clone, Copy)]
pub struct SchemaRegistration {
    /// The struct's name.
    pub name: &'static str,
    /// The module it is defined in (`module_path!()`).
    pub module: &'static str,
    /// Its contract.
    pub schema: &'static SchemaDef,
}

inventory::collect!(SchemaRegistration);

/// The registered schema a model header names: a struct's name (`"StgWellProduction"`) or,
/// when two modules define one of that name, its path (`"app::staging::StgWellProduction"`).
pub fn schema_named(name: &str) -> std::result::Result<&'static SchemaDef, String> {
    let all: Vec<&SchemaRegistration> = inventory::iter::<SchemaRegistration>
        .into_iter()
        .filter(|r| r.name == name || format!("{}::{}", r.module, r.name) == name)
        .collect();
    match all.as_slice() {
        [one] => Ok(one.schema),
        [] => {
            let mut known: Vec<&str> = inventory::iter::<SchemaRegistration>
                .into_iter()
                .map(|r| r.name)
                .collect();
            known.sort_unstable();
            known.dedup();
            let hint = crate::graph::suggest::closest(name, known.iter().copied())
                .map(|c| format!("; did you mean `{c}`?"))
                .unwrap_or_default();
            Err(format!(
                "`schema = \"{name}\"` names no struct deriving `Schema` in this binary{hint}"
            ))
        }
        many => {
            let mut paths: Vec<String> = many
                .iter()
                .map(|r| format!("{}::{}", r.module, r.name))
                .collect();
            paths.sort();
            Err(format!(
                "`schema = \"{name}\"` is ambiguous: write one of {}",
                paths.join(", ")
            ))
        }
    }
}

/// The kinds of asset the registry holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum AssetKind {
    /// `#[ingestion]`: a function's rows merged into a table.
    Ingestion,
    /// `#[quality]`: checks over a table, gating its publication.
    Quality,
    /// A SQL model (a `.sql` file of the project).
    Sql,
    /// A CSV seed (a `.csv` file of the project).
    Seed,
    /// A singular data test (a `.sql` file whose query must return no rows).
    Test,
    /// `#[transform]`: a Rust function over its upstream assets' tables.
    Rust,
    /// `phlo::publish!`: an asset's table copied into PostgreSQL.
    Publish,
}

impl std::fmt::Display for AssetKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            AssetKind::Ingestion => "ingestion",
            AssetKind::Quality => "quality",
            AssetKind::Sql => "sql",
            AssetKind::Seed => "seed",
            AssetKind::Test => "test",
            AssetKind::Rust => "rust",
            AssetKind::Publish => "publish",
        })
    }
}

/// How a downstream partition maps to its upstream's partitions.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum PartitionMapping {
    /// The same key (equal definitions).
    Identity,
    /// Every upstream window inside the downstream's (hourly → daily, daily → monthly).
    TimeWindow,
    /// Every partition of the upstream (an unpartitioned downstream).
    All,
    /// The upstream partition `n` partitions away (`-1`: the previous one).
    Offset(i64),
}

impl PartitionMapping {
    /// Parses a model header's mapping: `identity`, `time_window`, `all`, `offset(N)`.
    pub fn parse(text: &str) -> Option<Self> {
        match text.trim() {
            "identity" => Some(PartitionMapping::Identity),
            "time_window" => Some(PartitionMapping::TimeWindow),
            "all" => Some(PartitionMapping::All),
            other => other
                .strip_prefix("offset(")
                .and_then(|r| r.strip_suffix(')'))
                .and_then(|n| n.trim().parse().ok())
                .map(PartitionMapping::Offset),
        }
    }

    /// The graph's form.
    pub fn graph(self) -> crate::graph::Mapping {
        match self {
            PartitionMapping::Identity => crate::graph::Mapping::Identity,
            PartitionMapping::TimeWindow => crate::graph::Mapping::TimeWindow,
            PartitionMapping::All => crate::graph::Mapping::All,
            PartitionMapping::Offset(n) => crate::graph::Mapping::Offset(n),
        }
    }

    fn from_graph(m: crate::graph::Mapping) -> Self {
        match m {
            crate::graph::Mapping::Identity => PartitionMapping::Identity,
            crate::graph::Mapping::TimeWindow => PartitionMapping::TimeWindow,
            crate::graph::Mapping::Offset(n) => PartitionMapping::Offset(n),
            _ => PartitionMapping::All,
        }
    }
}

/// Where an asset's rows come from.
#[derive(Debug, Clone)]
pub enum AssetSource {
    /// The user function of `#[ingestion]`.
    Fetch,
    /// A SQL model's query.
    Sql(std::sync::Arc<crate::transform::SqlModel>),
    /// A seed's CSV.
    Seed(std::sync::Arc<crate::transform::Seed>),
    /// A `#[transform]` function.
    Rust(&'static crate::transform::rust::TransformDescriptor),
}

/// An edge of the asset graph: `asset` is upstream of the node holding it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Dependency {
    /// The upstream asset.
    pub asset: String,
    /// How partitions map across the edge.
    pub mapping: PartitionMapping,
}

/// Any asset, as the plan and the graph see it.
#[derive(Debug, Clone, PartialEq)]
pub struct AssetNode {
    /// Name.
    pub name: &'static str,
    /// Kind.
    pub kind: AssetKind,
    /// The table it writes (ingestion) or checks (quality).
    pub table: TableName,
    /// Its partitions definition (a quality asset has its table's).
    pub partitions: PartitionsDef,
    /// Group.
    pub group: Option<&'static str>,
    /// Upstream assets.
    pub deps: Vec<Dependency>,
    /// Definition site.
    pub location: Location,
}

/// A validated quality asset.
#[derive(Debug, Clone)]
pub struct QualityAsset {
    /// The descriptor.
    pub descriptor: QualityDescriptor,
    /// The parsed table.
    pub table: TableName,
    /// The checked table's partitions definition.
    pub partitions: PartitionsDef,
    /// The column a partition scope filters on.
    pub partition_column: &'static str,
}

impl QualityAsset {
    /// The asset's checks, in declaration order (the custom function last).
    pub fn checks(&self) -> Vec<Box<dyn phlo_quality::Check>> {
        let mut checks = (self.descriptor.checks)();
        if let Some(f) = self.descriptor.custom {
            checks.push(Box::new(crate::quality::FnCheck::new(
                self.descriptor.name,
                f,
            )));
        }
        checks
    }
}

/// An asset as listed by [`crate::Runtime::assets`].
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AssetInfo {
    /// Name.
    pub name: String,
    /// Kind.
    pub kind: AssetKind,
    /// Target table, `ns.name`.
    pub table: String,
    /// Group.
    pub group: Option<String>,
    /// Write strategy.
    pub merge_strategy: MergeStrategy,
    /// Deduplication in force.
    pub dedup: phlo_core::spec::Dedup,
    /// Key columns.
    pub unique_key: Vec<String>,
    /// Whether partitioned.
    pub partitioned: bool,
    /// The partitions definition: `daily`, `hourly(Europe/London)`, `static(eu,us)`, `none`.
    pub partitions: String,
    /// Schedule.
    pub cron: Option<String>,
    /// Schema type.
    pub schema: String,
    /// Definition site.
    pub location: String,
}

/// A validated ingestion asset: the descriptor, its parsed table and partitions.
#[derive(Debug, Clone)]
pub struct Asset {
    /// The descriptor.
    pub descriptor: IngestionDescriptor,
    /// The parsed table.
    pub table: TableName,
    /// The resolved partitions definition.
    pub partitions: PartitionsDef,
    /// Where its rows come from.
    pub source: AssetSource,
    /// Its upstream assets.
    pub deps: Vec<Dependency>,
    /// Tags (selection `tag:`).
    pub tags: Vec<String>,
}

impl Asset {
    /// Its kind.
    pub fn kind(&self) -> AssetKind {
        match self.source {
            AssetSource::Fetch => AssetKind::Ingestion,
            AssetSource::Sql(_) => AssetKind::Sql,
            AssetSource::Seed(_) => AssetKind::Seed,
            AssetSource::Rust(_) => AssetKind::Rust,
        }
    }

    /// Whether its contract is declared (`schema = T`), rather than its result's columns.
    pub fn declares_schema(&self) -> bool {
        match &self.source {
            AssetSource::Fetch => true,
            AssetSource::Rust(t) => t.schema.is_some(),
            AssetSource::Sql(m) => m.config.schema.is_some(),
            AssetSource::Seed(_) => false,
        }
    }

    /// Whether it is a `materialized = "microbatch"` SQL model.
    pub fn is_microbatch(&self) -> bool {
        matches!(&self.source, AssetSource::Sql(m) if m.config.materialized == crate::transform::Materialized::Microbatch)
    }

    /// The column a microbatch downstream filters this asset's rows on, when it declares
    /// one (a SQL model's `event_time`).
    pub fn event_time(&self) -> Option<&str> {
        match &self.source {
            AssetSource::Sql(m) => m.config.event_time.as_deref(),
            _ => None,
        }
    }

    /// Whether it stores nothing (a SQL view).
    pub fn is_view(&self) -> bool {
        matches!(&self.source, AssetSource::Sql(m) if m.config.materialized == crate::transform::Materialized::View)
    }

    /// The listing form.
    pub fn info(&self) -> AssetInfo {
        let d = &self.descriptor;
        AssetInfo {
            name: d.name.to_string(),
            kind: self.kind(),
            table: self.table.to_string(),
            group: d.spec.group.map(str::to_string),
            merge_strategy: d.spec.merge_strategy,
            dedup: d.spec.effective_dedup(),
            unique_key: d.spec.unique_key.iter().map(|k| k.to_string()).collect(),
            partitioned: self.partitions.is_partitioned(),
            partitions: self.partitions.describe(),
            cron: d.spec.cron.map(str::to_string),
            schema: d.schema.name.to_string(),
            location: d.location.to_string(),
        }
    }

    /// The graph form.
    pub fn node(&self) -> AssetNode {
        AssetNode {
            name: self.descriptor.name,
            kind: self.kind(),
            table: self.table.clone(),
            partitions: self.partitions.clone(),
            group: self.descriptor.spec.group,
            deps: self.deps.clone(),
            location: self.descriptor.location,
        }
    }
}

/// A sorted, validated snapshot of assets.
#[derive(Debug, Clone, Default)]
pub struct Registry {
    assets: BTreeMap<&'static str, Asset>,
    quality: BTreeMap<&'static str, QualityAsset>,
    /// Singular data tests, by name.
    data_tests: BTreeMap<String, std::sync::Arc<crate::transform::DataTest>>,
    /// Publications, by name.
    publications: BTreeMap<&'static str, Publication>,
}

fn by_name_and_site<T>(all: &mut [T], key: impl Fn(&T) -> (&'static str, Location)) {
    all.sort_by(|a, b| {
        let (an, al) = key(a);
        let (bn, bl) = key(b);
        (an, al.file, al.line).cmp(&(bn, bl.file, bl.line))
    });
}

impl Registry {
    /// Every asset registered in this binary: `#[ingestion]`, `#[transform]`, `#[quality]`,
    /// and the models, seeds and tests of `phlo::register_project!`.
    pub fn global() -> Result<Self> {
        Self::global_with_project(crate::transform::Project::default())
    }

    /// Every `#[transform]` registered in this binary, sorted by name (to build a registry
    /// of some of them with [`Registry::with_transforms`]).
    pub fn registered_transforms() -> Vec<&'static crate::transform::rust::TransformDescriptor> {
        let mut all: Vec<_> = inventory::iter::<crate::transform::rust::TransformDescriptor>
            .into_iter()
            .collect();
        all.sort_by_key(|d| d.name);
        all
    }

    /// Every registered asset (the registered projects' included) plus `project`'s models
    /// and seeds; `#[quality]` assets may check the models' tables.
    pub fn global_with_project(project: crate::transform::Project) -> Result<Self> {
        let project = crate::transform::Project::registered().merged(project);
        Self::from_descriptors(inventory::iter::<IngestionDescriptor>.into_iter().copied())?
            .with_transforms(inventory::iter::<crate::transform::rust::TransformDescriptor>)?
            .with_project(project)?
            .with_quality(inventory::iter::<QualityDescriptor>.into_iter().copied())?
            .with_publications(inventory::iter::<Publication>.into_iter().copied())
    }

    /// A registry of exactly these descriptors, validated together.
    pub fn from_parts(
        ingestion: impl IntoIterator<Item = IngestionDescriptor>,
        quality: impl IntoIterator<Item = QualityDescriptor>,
    ) -> Result<Self> {
        Self::from_descriptors(ingestion)?.with_quality(quality)
    }

    /// A registry of exactly these ingestion descriptors (tests, embedding).
    pub fn from_descriptors(
        descriptors: impl IntoIterator<Item = IngestionDescriptor>,
    ) -> Result<Self> {
        let mut all: Vec<IngestionDescriptor> = descriptors.into_iter().collect();
        by_name_and_site(&mut all, |d| (d.name, d.location));
        let mut assets: BTreeMap<&'static str, Asset> = BTreeMap::new();
        let mut tables: BTreeMap<TableName, &'static str> = BTreeMap::new();
        for d in all {
            if let Some(first) = assets.get(d.name) {
                return Err(Error::DuplicateAsset {
                    name: d.name.to_string(),
                    first: first.descriptor.location,
                    second: d.location,
                });
            }
            let (table, partitions) = validate_ingestion(&d)?;
            let other = tables.get(&table).and_then(|n| assets.get(n));
            if let Some(other) = other {
                let invalid = |reason: String| Error::InvalidAsset {
                    asset: d.name.to_string(),
                    location: d.location,
                    reason,
                };
                if !other.descriptor.schema.same_columns(d.schema) {
                    return Err(Error::ConflictingSchemas(Box::new(SchemaConflict {
                        table: table.to_string(),
                        first_asset: other.descriptor.name.to_string(),
                        first: other.descriptor.location,
                        first_schema: other.descriptor.schema.name.to_string(),
                        second_asset: d.name.to_string(),
                        second: d.location,
                        second_schema: d.schema.name.to_string(),
                    })));
                }
                if other.partitions != partitions {
                    return Err(invalid(format!(
                        "writes `{table}` partitioned as {partitions}, but `{}` ({}) writes it partitioned as {}",
                        other.descriptor.name, other.descriptor.location, other.partitions
                    )));
                }
            }
            tables.insert(table.clone(), d.name);
            assets.insert(
                d.name,
                Asset {
                    descriptor: d,
                    table,
                    partitions,
                    source: AssetSource::Fetch,
                    deps: Vec::new(),
                    tags: Vec::new(),
                },
            );
        }
        Ok(Registry {
            assets,
            quality: BTreeMap::new(),
            data_tests: BTreeMap::new(),
            publications: BTreeMap::new(),
        })
    }

    /// Adds quality assets: names unique among all assets, each on a table an ingestion
    /// asset of this registry writes (`name` means `bronze.name`, as for ingestion).
    pub fn with_quality(
        mut self,
        descriptors: impl IntoIterator<Item = QualityDescriptor>,
    ) -> Result<Self> {
        let mut all: Vec<QualityDescriptor> = descriptors.into_iter().collect();
        by_name_and_site(&mut all, |d| (d.name, d.location));
        for d in all {
            let first = self
                .assets
                .get(d.name)
                .map(|a| a.descriptor.location)
                .or_else(|| self.quality.get(d.name).map(|q| q.descriptor.location));
            if let Some(first) = first {
                return Err(Error::DuplicateAsset {
                    name: d.name.to_string(),
                    first,
                    second: d.location,
                });
            }
            let q = self.validate_quality(&d)?;
            self.quality.insert(d.name, q);
        }
        Ok(self)
    }

    fn validate_quality(&self, d: &QualityDescriptor) -> Result<QualityAsset> {
        let invalid = |reason: String| Error::InvalidAsset {
            asset: d.name.to_string(),
            location: d.location,
            reason,
        };
        let table = TableName::parse(d.spec.table).map_err(|e| invalid(e.to_string()))?;
        if d.spec.rolling_window_days == 0 {
            return Err(invalid("rolling_window_days must be at least 1".into()));
        }
        let Some(writer) = self.writer_of(&table) else {
            let known: Vec<String> = self.tables().iter().map(ToString::to_string).collect();
            return Err(invalid(format!(
                "checks table `{table}`, which no registered asset writes; written tables: {}",
                if known.is_empty() {
                    "none".to_string()
                } else {
                    known.join(", ")
                }
            )));
        };
        // Plan-time validation: every column a check says it reads is a column of the
        // table (its schema's fields and the metadata columns), unless the table may grow
        // columns at run time (`schema_policy = "additive"`).
        // A model's or seed's columns are its result's, known when it runs: its checks'
        // columns are checked then (`require_columns`).
        let schema = writer.descriptor.schema;
        let declared = writer.declares_schema();
        if declared && schema.policy != phlo_core::schema::SchemaPolicy::Additive {
            let mut columns: Vec<String> =
                schema.fields.iter().map(|f| f.name.to_string()).collect();
            if writer.descriptor.spec.add_metadata_columns {
                columns.extend(
                    phlo_ingest::metadata::metadata_fields(&writer.partitions)
                        .iter()
                        .map(|f| f.name().clone()),
                );
            } else {
                columns.extend(
                    writer
                        .partitions
                        .metadata_fields()
                        .iter()
                        .map(|f| f.name().clone()),
                );
            }
            for check in (d.checks)() {
                for column in check.columns() {
                    if !columns.contains(&column) {
                        return Err(invalid(format!(
                            "check `{}` reads column `{column}`, which `{table}` does not have; its columns: {}",
                            check.name(),
                            columns.join(", ")
                        )));
                    }
                }
            }
        }
        let partitions = writer.partitions.clone();
        let partition_column = d
            .spec
            .partition_column
            .or_else(|| partitions.key_column().map(|(c, _)| c))
            .unwrap_or(phlo_core::metadata::PARTITION_DATE);
        Ok(QualityAsset {
            descriptor: *d,
            table,
            partitions,
            partition_column,
        })
    }

    /// The tables ingestion assets write, sorted.
    pub fn tables(&self) -> Vec<TableName> {
        let mut t: Vec<TableName> = self.assets.values().map(|a| a.table.clone()).collect();
        t.sort();
        t.dedup();
        t
    }

    /// The first (by name) ingestion asset writing `table`.
    pub fn writer_of(&self, table: &TableName) -> Option<&Asset> {
        self.assets.values().find(|a| &a.table == table)
    }

    /// Quality assets checking `table`, sorted by name.
    pub fn quality_for(&self, table: &TableName) -> Vec<&QualityAsset> {
        self.quality
            .values()
            .filter(|q| &q.table == table)
            .collect()
    }

    /// Every quality asset, sorted by name.
    pub fn quality(&self) -> impl Iterator<Item = &QualityAsset> {
        self.quality.values()
    }

    /// The ingestion asset called `name`.
    pub fn get(&self, name: &str) -> Result<&Asset> {
        // An asset of a kind that writes no table of its own: say what it is and how it runs.
        let how = if let Some(q) = self.quality.get(name) {
            Some(format!(
                "a quality asset of `{}`: it runs as the audit of that table's writes, or with `check {}`",
                q.table, q.table
            ))
        } else if let Some(p) = self.publications.get(name) {
            Some(format!(
                "a publication of `{}` into PostgreSQL `{}`: run it with `publish {name}` or in a `build`",
                p.from, p.to
            ))
        } else if self.data_tests.contains_key(name) {
            Some("a data test: it runs in a `build`".to_string())
        } else {
            None
        };
        if let Some(how) = how {
            return Err(Error::InvalidArgument {
                message: format!("`{name}` is {how}; it writes no warehouse table of its own"),
            });
        }
        self.assets.get(name).ok_or_else(|| Error::UnknownAsset {
            name: name.to_string(),
            known: self.assets.keys().map(|k| k.to_string()).collect(),
        })
    }

    /// Every asset of every kind as a graph node, sorted by name. A quality asset depends
    /// on the ingestion assets writing its table, partition by partition.
    pub fn nodes(&self) -> Vec<AssetNode> {
        let mut nodes: Vec<AssetNode> = self.assets.values().map(Asset::node).collect();
        for q in self.quality.values() {
            let deps = self
                .assets
                .values()
                .filter(|a| a.table == q.table)
                .map(|a| Dependency {
                    asset: a.descriptor.name.to_string(),
                    mapping: PartitionMapping::Identity,
                })
                .collect();
            nodes.push(AssetNode {
                name: q.descriptor.name,
                kind: AssetKind::Quality,
                table: q.table.clone(),
                partitions: q.partitions.clone(),
                group: q.descriptor.spec.group,
                deps,
                location: q.descriptor.location,
            });
        }
        nodes.sort_by_key(|n| n.name);
        nodes
    }

    /// Ingestion assets sorted by name.
    pub fn iter(&self) -> impl Iterator<Item = &Asset> {
        self.assets.values()
    }

    /// Number of ingestion assets.
    pub fn len(&self) -> usize {
        self.assets.len()
    }

    /// Whether there are no ingestion assets.
    pub fn is_empty(&self) -> bool {
        self.assets.is_empty()
    }
}

/// The table an asset writes: a valid name outside phlo's own namespace.
fn asset_table(text: &str) -> std::result::Result<TableName, String> {
    let table = TableName::parse(text).map_err(|e| e.to_string())?;
    if table.namespace() == phlo_core::names::PHLO_NAMESPACE {
        return Err("namespace `_phlo` is reserved for phlo's own tables".into());
    }
    Ok(table)
}

/// Checks what the macro cannot see across items (or what a hand-built descriptor got wrong).
fn validate_ingestion(d: &IngestionDescriptor) -> Result<(TableName, PartitionsDef)> {
    let invalid = |reason: String| Error::InvalidAsset {
        asset: d.name.to_string(),
        location: d.location,
        reason,
    };
    let table = asset_table(d.spec.table).map_err(invalid)?;
    let spec = &d.spec;
    if spec.unique_key.is_empty() && spec.merge_strategy != MergeStrategy::Append {
        return Err(invalid(format!(
            "`{:?}` needs a `unique_key`",
            spec.merge_strategy
        )));
    }
    validate_declared(d).map(|partitions| (table, partitions))
}

/// The rules of an asset with a declared schema, whatever writes it: keys and `order_by`
/// are its fields, no field is a metadata column, durations are sane, partitions resolve.
fn validate_declared(d: &IngestionDescriptor) -> Result<PartitionsDef> {
    let invalid = |reason: String| Error::InvalidAsset {
        asset: d.name.to_string(),
        location: d.location,
        reason,
    };
    let spec = &d.spec;
    for k in spec.unique_key {
        if d.schema.field(k).is_none() {
            return Err(invalid(format!(
                "unique_key `{k}` is not a field of `{}`",
                d.schema.name
            )));
        }
    }
    if let Some(o) = spec.order_by.filter(|o| d.schema.field(o).is_none()) {
        return Err(invalid(format!(
            "order_by `{o}` is not a field of `{}`",
            d.schema.name
        )));
    }
    for f in d.schema.fields {
        if phlo_core::metadata::is_metadata(f.name) {
            return Err(invalid(format!(
                "field `{}` uses the reserved prefix `_phlo_`",
                f.name
            )));
        }
    }
    if !(spec.retry_delay_seconds >= 0.0 && spec.retry_delay_seconds.is_finite()) {
        return Err(invalid("retry_delay_seconds must be ≥ 0".into()));
    }
    if !(spec.max_runtime_seconds > 0.0 && spec.max_runtime_seconds.is_finite()) {
        return Err(invalid("max_runtime_seconds must be > 0".into()));
    }
    PartitionsDef::resolve(&spec.partitions).map_err(|e| invalid(e.to_string()))
}

mod project;

#[cfg(test)]
mod tests;

/// Descriptors for unit tests of the registry and the plan.
#[cfg(test)]
pub(crate) mod test_support {
    use phlo_core::schema::{FieldDef, FieldType, SchemaDef, SchemaPolicy};
    use phlo_core::spec::{IngestionSpec, Location};

    use super::{IngestionDescriptor, QualityDescriptor, QualitySpec};
    use crate::fetch::FetchFuture;

    /// `id: Utf8`, `value: Float64`.
    pub static SCHEMA: SchemaDef = SchemaDef {
        name: "Row",
        fields: &[
            FieldDef {
                name: "id",
                field_type: FieldType::Utf8,
                nullable: false,
                constraints: &[],
            },
            FieldDef {
                name: "value",
                field_type: FieldType::Float64,
                nullable: true,
                constraints: &[],
            },
        ],
        policy: SchemaPolicy::Strict,
    };

    fn nothing(_: phlo_core::partition::PartitionContext) -> FetchFuture {
        Box::pin(async { Ok(Vec::new()) })
    }

    fn no_checks() -> Vec<Box<dyn phlo_quality::Check>> {
        Vec::new()
    }

    pub fn at(line: u32) -> Location {
        Location {
            file: "src/assets.rs",
            line,
            column: 1,
            module: "app::assets",
        }
    }

    pub fn descriptor(name: &'static str, spec: IngestionSpec) -> IngestionDescriptor {
        IngestionDescriptor {
            name,
            spec,
            schema: &SCHEMA,
            fetch: nothing,
            location: at(name.len() as u32),
        }
    }

    pub fn quality(name: &'static str, table: &'static str) -> QualityDescriptor {
        QualityDescriptor {
            name,
            spec: QualitySpec {
                table,
                ..QualitySpec::DEFAULT
            },
            checks: no_checks,
            custom: None,
            location: at(100 + name.len() as u32),
        }
    }
}
