//! The global registry: every `#[ingestion]` submits one [`IngestionDescriptor`].
//!
//! [`Registry::global`] collects them into a snapshot **sorted by name** (inventory's
//! order is unspecified) and validates it: unique names, valid table names, keys and
//! `order_by` that are fields of the schema, one schema per table.

use std::collections::BTreeMap;

use phlo_core::names::TableName;
use phlo_core::schema::SchemaDef;
use phlo_core::spec::{IngestionSpec, Location, MergeStrategy};
use serde::Serialize;

use crate::error::SchemaConflict;
use crate::fetch::FetchFn;
use crate::{Error, Result};

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
    /// The checked table, `ns.name`.
    pub table: &'static str,
    /// Whether a failing `error` check blocks publication (the default).
    pub blocking: bool,
    /// Whether checks are scoped to a partition (the default) or a rolling window.
    pub partition_aware: bool,
    /// The partition column.
    pub partition_column: &'static str,
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
        partition_column: phlo_core::metadata::PARTITION_DATE,
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

/// A validated quality asset.
#[derive(Debug, Clone)]
pub struct QualityAsset {
    /// The descriptor.
    pub descriptor: QualityDescriptor,
    /// The parsed table.
    pub table: TableName,
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
    /// Whether partitioned by day.
    pub partitioned: bool,
    /// Schedule.
    pub cron: Option<String>,
    /// Schema type.
    pub schema: String,
    /// Definition site.
    pub location: String,
}

/// A validated asset: the descriptor and its parsed table name.
#[derive(Debug, Clone)]
pub struct Asset {
    /// The descriptor.
    pub descriptor: IngestionDescriptor,
    /// The parsed table.
    pub table: TableName,
}

impl Asset {
    /// The listing form.
    pub fn info(&self) -> AssetInfo {
        let d = &self.descriptor;
        AssetInfo {
            name: d.name.to_string(),
            table: self.table.to_string(),
            group: d.spec.group.map(str::to_string),
            merge_strategy: d.spec.merge_strategy,
            dedup: d.spec.effective_dedup(),
            unique_key: d.spec.unique_key.iter().map(|k| k.to_string()).collect(),
            partitioned: d.spec.partitioned,
            cron: d.spec.cron.map(str::to_string),
            schema: d.schema.name.to_string(),
            location: d.location.to_string(),
        }
    }
}

/// A sorted, validated snapshot of assets.
#[derive(Debug, Clone, Default)]
pub struct Registry {
    assets: BTreeMap<&'static str, Asset>,
    quality: BTreeMap<&'static str, QualityAsset>,
}

impl Registry {
    /// Every asset registered in this binary by `#[ingestion]` and `#[quality]`.
    pub fn global() -> Result<Self> {
        Self::from_descriptors(inventory::iter::<IngestionDescriptor>.into_iter().copied())?
            .with_quality(inventory::iter::<QualityDescriptor>.into_iter().copied())
    }

    /// Adds quality assets; names must be unique among all assets, tables must be `ns.name`.
    pub fn with_quality(
        mut self,
        descriptors: impl IntoIterator<Item = QualityDescriptor>,
    ) -> Result<Self> {
        let mut all: Vec<QualityDescriptor> = descriptors.into_iter().collect();
        all.sort_by(|a, b| {
            (a.name, a.location.file, a.location.line).cmp(&(
                b.name,
                b.location.file,
                b.location.line,
            ))
        });
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
            let invalid = |reason: String| Error::InvalidAsset {
                asset: d.name.to_string(),
                location: d.location,
                reason,
            };
            if !d.spec.table.contains('.') {
                return Err(invalid(format!(
                    "table `{}` must be `ns.name`",
                    d.spec.table
                )));
            }
            let table = TableName::parse(d.spec.table).map_err(|e| invalid(e.to_string()))?;
            if d.spec.rolling_window_days == 0 {
                return Err(invalid("rolling_window_days must be at least 1".into()));
            }
            self.quality.insert(
                d.name,
                QualityAsset {
                    descriptor: d,
                    table,
                },
            );
        }
        Ok(self)
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

    /// A registry of exactly these descriptors (tests, embedding).
    pub fn from_descriptors(
        descriptors: impl IntoIterator<Item = IngestionDescriptor>,
    ) -> Result<Self> {
        let mut all: Vec<IngestionDescriptor> = descriptors.into_iter().collect();
        all.sort_by(|a, b| {
            (a.name, a.location.file, a.location.line).cmp(&(
                b.name,
                b.location.file,
                b.location.line,
            ))
        });
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
            let table = validate(&d)?;
            let other = tables.get(&table).and_then(|n| assets.get(n));
            if let Some(other) = other.filter(|o| !o.descriptor.schema.same_columns(d.schema)) {
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
            tables.insert(table.clone(), d.name);
            assets.insert(
                d.name,
                Asset {
                    descriptor: d,
                    table,
                },
            );
        }
        Ok(Registry {
            assets,
            quality: BTreeMap::new(),
        })
    }

    /// The asset called `name`.
    pub fn get(&self, name: &str) -> Result<&Asset> {
        self.assets.get(name).ok_or_else(|| Error::UnknownAsset {
            name: name.to_string(),
            known: self.assets.keys().map(|k| k.to_string()).collect(),
        })
    }

    /// Assets sorted by name.
    pub fn iter(&self) -> impl Iterator<Item = &Asset> {
        self.assets.values()
    }

    /// Number of assets.
    pub fn len(&self) -> usize {
        self.assets.len()
    }

    /// Whether there are no assets.
    pub fn is_empty(&self) -> bool {
        self.assets.is_empty()
    }
}

/// Checks what the macro cannot see across items (or what a hand-built descriptor got wrong).
fn validate(d: &IngestionDescriptor) -> Result<TableName> {
    let invalid = |reason: String| Error::InvalidAsset {
        asset: d.name.to_string(),
        location: d.location,
        reason,
    };
    let table = TableName::parse(d.spec.table).map_err(|e| invalid(e.to_string()))?;
    if table.namespace() == phlo_core::names::PHLO_NAMESPACE {
        return Err(invalid(
            "namespace `_phlo` is reserved for phlo's own tables".into(),
        ));
    }
    let spec = &d.spec;
    if spec.unique_key.is_empty() && spec.merge_strategy != MergeStrategy::Append {
        return Err(invalid(format!(
            "`{:?}` needs a `unique_key`",
            spec.merge_strategy
        )));
    }
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
    Ok(table)
}
