//! The plan: what a run will do, as data, decided without I/O.
//!
//! [`plan`] is a pure function of the registry, an asset, a partition selection, the
//! table state the executor read (versions) and the instant "now" (for `latest`). It
//! parses and range-checks every key before anything runs, so a bad key is a typed error
//! before a user function is called, and it fixes per step the partition scope, the
//! commit's application id, the strategy and the table layout handed to storage.
//! [`RunPlan::explain`] prints it.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use chrono::{DateTime, Utc};
use phlo_core::metadata::ROW_HASH;
use phlo_core::names::TableName;
use phlo_core::partition::{PartitionKey, PartitionScope, PartitionsDef};
use phlo_core::spec::MergeStrategy;
use phlo_core::storage::TableLayout;
use serde::Serialize;

use crate::registry::{Asset, AssetKind, Registry};
use crate::{Error, Result};

/// Which partitions of an asset a run covers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PartitionSelection {
    /// No partition: an unpartitioned asset.
    Unpartitioned,
    /// One key, in its text form (`2025-01-15`, `2025-01-15T07`, `2025-01`, `eu`).
    Key(String),
    /// Every key from `from` to `to`, inclusive.
    Range {
        /// First key.
        from: String,
        /// Last key.
        to: String,
    },
    /// The latest partition at the plan's instant (the last complete window).
    Latest,
}

/// The table state a plan is made against: each table's version (`None`: not created).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TableState {
    versions: BTreeMap<TableName, Option<i64>>,
}

impl TableState {
    /// An empty state: every table unknown (planned as not existing).
    pub fn new() -> Self {
        TableState::default()
    }

    /// Records `table` at `version`.
    pub fn with(mut self, table: TableName, version: Option<i64>) -> Self {
        self.versions.insert(table, version);
        self
    }

    /// The recorded version of `table`.
    pub fn version(&self, table: &TableName) -> Option<i64> {
        self.versions.get(table).copied().flatten()
    }
}

/// One run of one asset over one partition.
#[derive(Debug, Clone, PartialEq)]
pub struct PlanStep {
    /// The asset.
    pub asset: &'static str,
    /// Its kind.
    pub kind: AssetKind,
    /// The table it writes.
    pub table: TableName,
    /// The partition (`None`: unpartitioned).
    pub partition: Option<PartitionKey>,
    /// The rows of the table the partition covers.
    pub scope: PartitionScope,
    /// The Delta application id of its commits: one per asset and partition.
    pub app_id: String,
    /// How the load is written.
    pub strategy: MergeStrategy,
    /// The table's layout, handed to storage.
    pub layout: TableLayout,
    /// The table version the plan was made against (`None`: no table yet).
    pub expected_version: Option<i64>,
    /// Quality assets that audit the staged result before the commit.
    pub audited_by: Vec<&'static str>,
}

/// The steps of a run, in order.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct RunPlan {
    /// Steps, in execution order.
    pub steps: Vec<PlanStep>,
}

/// A plan as JSON and in `explain`.
#[derive(Debug, Clone, Serialize)]
struct StepView<'a> {
    asset: &'a str,
    kind: AssetKind,
    table: String,
    partition: Option<String>,
    scope: String,
    app_id: &'a str,
    strategy: MergeStrategy,
    partition_columns: &'a [String],
    expected_version: Option<i64>,
    audited_by: &'a [&'static str],
}

impl RunPlan {
    /// A readable description, one line per step.
    ///
    /// ```
    /// # use phlo_runtime::plan::RunPlan;
    /// assert_eq!(RunPlan::default().explain(), "plan: nothing to run\n");
    /// ```
    pub fn explain(&self) -> String {
        let mut out = String::new();
        if self.steps.is_empty() {
            out.push_str("plan: nothing to run\n");
            return out;
        }
        let _ = writeln!(
            out,
            "plan: {} step{}",
            self.steps.len(),
            if self.steps.len() == 1 { "" } else { "s" }
        );
        for (i, s) in self.steps.iter().enumerate() {
            let version = s
                .expected_version
                .map_or_else(|| "new table".to_string(), |v| format!("at v{v}"));
            let _ = write!(
                out,
                "  {}. {} {} → {} [{}] {} ({}, {}; app {})",
                i + 1,
                s.kind,
                s.asset,
                s.table,
                s.partition
                    .as_ref()
                    .map_or_else(|| "unpartitioned".to_string(), ToString::to_string),
                strategy_name(s.strategy),
                s.scope.sql(),
                version,
                s.app_id
            );
            if !s.audited_by.is_empty() {
                let _ = write!(out, "; audited by {}", s.audited_by.join(", "));
            }
            out.push('\n');
        }
        out
    }

    /// The plan as JSON (for `--json` and logs).
    pub fn to_json(&self) -> serde_json::Value {
        let steps: Vec<StepView<'_>> = self
            .steps
            .iter()
            .map(|s| StepView {
                asset: s.asset,
                kind: s.kind,
                table: s.table.to_string(),
                partition: s.partition.as_ref().map(ToString::to_string),
                scope: s.scope.sql(),
                app_id: &s.app_id,
                strategy: s.strategy,
                partition_columns: &s.layout.partition_columns,
                expected_version: s.expected_version,
                audited_by: &s.audited_by,
            })
            .collect();
        serde_json::json!({ "steps": steps })
    }
}

fn strategy_name(s: MergeStrategy) -> &'static str {
    match s {
        MergeStrategy::Merge => "merge",
        MergeStrategy::Append => "append",
        MergeStrategy::ReplacePartition => "replace_partition",
    }
}

/// The application id of an asset's commits for one partition (`phlo:<asset>:<key>`).
pub fn app_id(asset: &str, partition: Option<&PartitionKey>) -> String {
    format!(
        "phlo:{asset}:{}",
        partition.map_or_else(|| "unpartitioned".to_string(), ToString::to_string)
    )
}

/// The layout of an ingestion asset's table: partitioned by its definition's physical
/// column, the key without dictionary, the row hash stored as opaque bytes.
pub fn layout(asset: &Asset) -> TableLayout {
    let spec = &asset.descriptor.spec;
    TableLayout {
        partition_columns: asset
            .partitions
            .physical_column()
            .map(|c| vec![c.to_string()])
            .unwrap_or_default(),
        distinct_columns: if spec.merge_strategy == MergeStrategy::Append {
            Vec::new()
        } else {
            spec.unique_key.iter().map(|k| k.to_string()).collect()
        },
        opaque_columns: if spec.add_metadata_columns {
            vec![ROW_HASH.to_string()]
        } else {
            Vec::new()
        },
    }
}

/// The keys `selection` names, parsed and range-checked against `def`.
pub fn select_keys(
    asset: &str,
    def: &PartitionsDef,
    selection: &PartitionSelection,
    now: DateTime<Utc>,
) -> Result<Vec<Option<PartitionKey>>> {
    let mismatch = |reason: String| -> Error {
        phlo_core::Error::PartitionMismatch {
            asset: asset.to_string(),
            reason,
        }
        .into()
    };
    match (def, selection) {
        (PartitionsDef::None, PartitionSelection::Unpartitioned) => Ok(vec![None]),
        (PartitionsDef::None, _) => Err(mismatch(
            "is not partitioned: materialize it without a partition".into(),
        )),
        (_, PartitionSelection::Unpartitioned) => Err(mismatch(format!(
            "is partitioned ({def}): pass a partition key, {}",
            def.key_form()
        ))),
        (_, PartitionSelection::Key(k)) => Ok(vec![Some(def.parse_key(k)?)]),
        (_, PartitionSelection::Range { from, to }) => {
            let (from, to) = (def.parse_key(from)?, def.parse_key(to)?);
            if from > to {
                return Err(Error::InvalidArgument {
                    message: format!("the range is empty: {from} is after {to}"),
                });
            }
            Ok(def
                .keys_between(&from, &to)?
                .into_iter()
                .map(Some)
                .collect())
        }
        (_, PartitionSelection::Latest) => match def.latest(now) {
            Some(k) => Ok(vec![Some(k)]),
            None => Err(Error::InvalidArgument {
                message: format!(
                    "asset `{asset}` has no complete partition yet at {}",
                    now.to_rfc3339()
                ),
            }),
        },
    }
}

/// Plans `selection` of the ingestion asset `asset`: one step per partition, in order.
pub fn plan(
    registry: &Registry,
    asset: &str,
    selection: &PartitionSelection,
    state: &TableState,
    now: DateTime<Utc>,
) -> Result<RunPlan> {
    let a = registry.get(asset)?;
    let keys = select_keys(a.descriptor.name, &a.partitions, selection, now)?;
    let audited_by: Vec<&'static str> = registry
        .quality_for(&a.table)
        .iter()
        .map(|q| q.descriptor.name)
        .collect();
    let layout = layout(a);
    let steps = keys
        .into_iter()
        .map(|partition| PlanStep {
            asset: a.descriptor.name,
            kind: AssetKind::Ingestion,
            table: a.table.clone(),
            scope: a.partitions.scope(partition.as_ref()),
            app_id: app_id(a.descriptor.name, partition.as_ref()),
            partition,
            strategy: a.descriptor.spec.merge_strategy,
            layout: layout.clone(),
            expected_version: state.version(&a.table),
            audited_by: audited_by.clone(),
        })
        .collect();
    Ok(RunPlan { steps })
}

#[cfg(test)]
mod tests;
