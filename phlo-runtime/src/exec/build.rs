//! `build SELECTION`: each selected asset in dependency order, its checks gating it (the
//! audit of every write); a failed asset skips everything downstream of it, and independent
//! branches go on.

use std::collections::BTreeSet;

use serde::Serialize;

use super::{RunFailure, Runtime};
use crate::plan::PartitionSelection;
use crate::registry::AssetKind;
use crate::report::RunReport;
use crate::{Error, Result};

/// What became of one asset of a build.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case", tag = "status")]
pub enum BuildStatus {
    /// Every planned partition ran (or needed nothing).
    Success,
    /// A run failed (its report says why); downstream assets were skipped.
    Failed {
        /// The error, one line.
        error: String,
    },
    /// Not run: an upstream asset failed or was skipped.
    Skipped {
        /// The failed upstream that caused it.
        because: String,
    },
}

/// One asset of a build.
#[derive(Debug, Clone, Serialize)]
pub struct BuildOutcome {
    /// The asset.
    pub asset: String,
    /// Its kind.
    pub kind: AssetKind,
    /// Its outcome.
    pub status: BuildStatus,
    /// The runs made (one per partition).
    pub runs: Vec<RunReport>,
}

/// What a build did, in the order it ran.
#[derive(Debug, Clone, Serialize)]
pub struct BuildReport {
    /// Every selected asset, in dependency order.
    pub assets: Vec<BuildOutcome>,
}

impl BuildReport {
    /// Whether every asset succeeded.
    pub fn succeeded(&self) -> bool {
        self.assets
            .iter()
            .all(|a| matches!(a.status, BuildStatus::Success))
    }

    /// The outcome of `asset`.
    pub fn get(&self, asset: &str) -> Option<&BuildOutcome> {
        self.assets.iter().find(|a| a.asset == asset)
    }
}

impl Runtime {
    /// The assets a selection means (dbt's syntax: `name`, `+name`, `name+`, `2+name`,
    /// `group:g`, `tag:t`, `kind:sql`, space = union, comma = intersection), in the order a
    /// build runs them.
    pub fn select(&self, select: &str, exclude: Option<&str>) -> Result<Vec<String>> {
        let graph = self.registry.graph()?;
        let chosen = graph
            .select(select, exclude)
            .map_err(|e| Error::Selection(Box::new(e)))?;
        Ok(graph
            .order()
            .into_iter()
            .filter(|n| chosen.contains(*n))
            .map(str::to_string)
            .collect())
    }

    /// Builds the selection: each asset in dependency order, for `partition` where it is
    /// partitioned (else its latest complete partition); quality assets run as the audit
    /// of their table's writes. A failed asset marks every asset downstream of it
    /// skipped.
    pub async fn build_selection(
        &self,
        select: &str,
        exclude: Option<&str>,
        partition: Option<&str>,
    ) -> Result<BuildReport> {
        let graph = self.registry.graph()?;
        let order = self.select(select, exclude)?;
        let mut skipped: BTreeSet<String> = BTreeSet::new();
        let mut because: std::collections::BTreeMap<String, String> = Default::default();
        let mut assets = Vec::new();
        for name in order {
            let Ok(asset) = self.registry.get(&name) else {
                // A quality asset: it runs inside the writes it audits.
                continue;
            };
            let kind = asset.kind();
            if skipped.contains(&name) {
                assets.push(BuildOutcome {
                    asset: name.clone(),
                    kind,
                    status: BuildStatus::Skipped {
                        because: because.get(&name).cloned().unwrap_or_default(),
                    },
                    runs: Vec::new(),
                });
                continue;
            }
            let selection = if !asset.partitions.is_partitioned() {
                PartitionSelection::Unpartitioned
            } else {
                match partition {
                    Some(key) => PartitionSelection::Key(key.to_string()),
                    None => PartitionSelection::Latest,
                }
            };
            let mut runs = Vec::new();
            let mut failure = None;
            match self.plan(&name, &selection).await {
                Err(e) => failure = Some(e.to_string()),
                Ok(plan) => {
                    for outcome in self.run_plan(&plan).await {
                        match outcome {
                            Ok(report) => runs.push(report),
                            Err(RunFailure { report, error }) => {
                                runs.push(*report);
                                failure.get_or_insert(error.to_string());
                            }
                        }
                    }
                }
            }
            let status = match failure {
                None => BuildStatus::Success,
                Some(error) => {
                    for d in graph.downstream_of(&name) {
                        because.entry(d.clone()).or_insert_with(|| name.clone());
                        skipped.insert(d);
                    }
                    BuildStatus::Failed { error }
                }
            };
            assets.push(BuildOutcome {
                asset: name,
                kind,
                status,
                runs,
            });
        }
        Ok(BuildReport { assets })
    }
}
