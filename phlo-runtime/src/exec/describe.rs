//! What an asset is: `describe` (its definition, edges, columns, last run and, for a SQL
//! model, the column-level lineage of its query) and the graph's JSON with that lineage.

use std::collections::BTreeSet;

use serde::Serialize;

use super::Runtime;
use crate::registry::{AssetInfo, AssetSource, Dependency};
use crate::report::RunReport;
use crate::transform::lineage::{ColumnLineage, column_lineage};
use crate::{Error, Result};

/// One column of an asset's table (or of its declared contract before the first write).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ColumnInfo {
    /// Name.
    pub name: String,
    /// Arrow type.
    pub data_type: String,
    /// Whether nulls are allowed.
    pub nullable: bool,
}

/// Everything `describe ASSET` shows.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AssetDescription {
    /// The listing form: kind, table, partitions, strategy, key, schema, location.
    pub info: AssetInfo,
    /// A model's or transform's materialization (`table`, `incremental`, …).
    pub materialized: Option<String>,
    /// Tags.
    pub tags: Vec<String>,
    /// Its upstream assets and their partition mappings.
    pub upstream: Vec<Dependency>,
    /// The assets reading it directly (quality assets and data tests included).
    pub downstream: Vec<String>,
    /// The table's columns, or the declared contract's when there is no table yet.
    pub columns: Vec<ColumnInfo>,
    /// The table's version (`None`: not written yet).
    pub table_version: Option<i64>,
    /// Its latest run.
    pub last_run: Option<RunReport>,
    /// A SQL model's column-level lineage.
    pub lineage: Option<Vec<ColumnLineage>>,
    /// Why a SQL model's lineage could not be derived (an upstream without a table yet).
    pub lineage_unavailable: Option<String>,
}

impl Runtime {
    /// The column-level lineage of SQL model `asset`: for each output column, the upstream
    /// columns it is computed from, read off DataFusion's plan of its query (partition
    /// filters and join keys are not sources of a value). Upstream tables must exist (the
    /// query is planned against them).
    pub async fn column_lineage(&self, asset: &str) -> Result<Vec<ColumnLineage>> {
        let a = self.registry.get(asset)?;
        let AssetSource::Sql(model) = &a.source else {
            return Err(Error::InvalidArgument {
                message: format!(
                    "`{asset}` is a {} asset: column lineage is derived from a SQL model's query",
                    a.kind()
                ),
            });
        };
        let df = self.model_frame(a, model, None, false).await?;
        let mut lineage = column_lineage(df.logical_plan());
        for column in &mut lineage {
            for source in &mut column.sources {
                let writer = phlo_core::names::TableName::parse(&source.table)
                    .ok()
                    .and_then(|t| self.registry.writer_of(&t));
                source.asset = writer.map(|w| w.descriptor.name.to_string());
            }
        }
        Ok(lineage)
    }

    /// The graph of `selection` as JSON (`AssetGraph::to_json`), each SQL model's node with
    /// its `columns` lineage where its upstream tables exist.
    pub async fn graph_json(&self, selection: &BTreeSet<String>) -> Result<serde_json::Value> {
        let mut value = self.graph.to_json(selection);
        if let Some(nodes) = value.get_mut("nodes").and_then(|n| n.as_array_mut()) {
            for node in nodes {
                let Some(name) = node
                    .get("name")
                    .and_then(|n| n.as_str())
                    .map(str::to_string)
                else {
                    continue;
                };
                let is_model = self
                    .registry
                    .get(&name)
                    .is_ok_and(|a| matches!(a.source, AssetSource::Sql(_)));
                if !is_model {
                    continue;
                }
                if let (Ok(lineage), Some(map)) =
                    (self.column_lineage(&name).await, node.as_object_mut())
                {
                    map.insert("columns".into(), serde_json::to_value(lineage)?);
                }
            }
        }
        Ok(value)
    }

    /// What `asset` is, where its data comes from and goes, its columns and its last run.
    pub async fn describe(&self, asset: &str) -> Result<AssetDescription> {
        let a = self.registry.get(asset)?;
        let materialized = match &a.source {
            AssetSource::Sql(m) => Some(m.config.materialized),
            AssetSource::Rust(t) => Some(t.materialized.unwrap_or_else(|| {
                crate::transform::rust::default_materialized(
                    a.partitions.is_partitioned(),
                    !t.spec.unique_key.is_empty(),
                )
            })),
            AssetSource::Fetch | AssetSource::Seed(_) => None,
        }
        .map(|m| {
            serde_json::to_value(m)
                .ok()
                .and_then(|v| v.as_str().map(str::to_string))
                .unwrap_or_default()
        });
        let columns = match self.store.provider(&a.table).await? {
            Some(provider) => provider
                .schema()
                .fields()
                .iter()
                .map(|f| ColumnInfo {
                    name: f.name().clone(),
                    data_type: f.data_type().to_string(),
                    nullable: f.is_nullable(),
                })
                .collect(),
            None => a
                .descriptor
                .schema
                .arrow_schema()
                .fields()
                .iter()
                .map(|f| ColumnInfo {
                    name: f.name().clone(),
                    data_type: f.data_type().to_string(),
                    nullable: f.is_nullable(),
                })
                .collect(),
        };
        let last_run = self
            .runs()
            .await?
            .into_iter()
            .rev()
            .find(|r| r.asset == asset);
        let (lineage, lineage_unavailable) = match &a.source {
            AssetSource::Sql(_) => match self.column_lineage(asset).await {
                Ok(l) => (Some(l), None),
                Err(e) => (None, Some(e.to_string())),
            },
            _ => (None, None),
        };
        Ok(AssetDescription {
            info: a.info(),
            materialized,
            tags: a.tags.clone(),
            upstream: a.deps.clone(),
            downstream: self
                .graph
                .children(asset)
                .into_iter()
                .map(str::to_string)
                .collect(),
            columns,
            table_version: self.store.version(&a.table).await?,
            last_run,
            lineage,
            lineage_unavailable,
        })
    }
}
