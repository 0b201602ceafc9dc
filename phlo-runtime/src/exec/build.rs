//! `build SELECTION`: each selected asset in dependency order, its checks gating it (the
//! audit of every write); a failed asset skips everything downstream of it, and independent
//! branches go on.

use std::collections::{BTreeMap, BTreeSet};

use tokio::task::JoinSet;

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
        let chosen = self
            .graph
            .select(select, exclude)
            .map_err(|e| Error::Selection(Box::new(e)))?;
        Ok(self
            .graph
            .order()
            .into_iter()
            .filter(|n| chosen.contains(*n))
            .map(str::to_string)
            .collect())
    }

    /// Builds the selection: each asset once its upstreams are done, up to as many at a
    /// time as the machine has cores, for `partition` where it is partitioned (else its
    /// latest complete partition); quality assets run as the audit of their table's
    /// writes. A failed asset marks every asset downstream of it skipped; independent
    /// branches go on. The report lists the assets in dependency order.
    pub async fn build_selection(
        &self,
        select: &str,
        exclude: Option<&str>,
        partition: Option<&str>,
    ) -> Result<BuildReport> {
        self.build_selection_with(select, exclude, partition, phlo_core::parallel::cores())
            .await
    }

    /// [`Runtime::build_selection`] with at most `parallel` assets running at once.
    pub async fn build_selection_with(
        &self,
        select: &str,
        exclude: Option<&str>,
        partition: Option<&str>,
        parallel: usize,
    ) -> Result<BuildReport> {
        let graph = self.graph.clone();
        let order = self.select(select, exclude)?;
        let selected: BTreeSet<String> = order.iter().cloned().collect();
        let mut done: BTreeSet<String> = BTreeSet::new();
        let mut running: BTreeSet<String> = BTreeSet::new();
        let mut outcomes: BTreeMap<String, BuildOutcome> = BTreeMap::new();
        // Quality assets are not run on their own: they audit their table's writes.
        for name in &order {
            if self.registry.get(name).is_err() && self.registry.other_kind(name).is_none() {
                done.insert(name.clone());
            }
        }
        let mut tasks: JoinSet<BuildOutcome> = JoinSet::new();
        let partition = partition.map(str::to_string);
        loop {
            for name in graph.ready(&selected, &done, &running) {
                if running.len() >= parallel.max(1) {
                    break;
                }
                let Ok(asset) = self.registry.get(&name) else {
                    if let Some(test) = self.registry.data_test(&name).cloned() {
                        let rt = self.clone();
                        running.insert(name.clone());
                        tasks.spawn(async move { rt.run_data_test(&test).await });
                    } else if let Some(p) = self.registry.publication(&name).copied() {
                        let rt = self.clone();
                        let partition = partition.clone();
                        running.insert(name.clone());
                        tasks.spawn(async move { rt.run_publication(p, partition).await });
                    }
                    continue;
                };
                let selection = if !asset.partitions.is_partitioned() {
                    PartitionSelection::Unpartitioned
                } else {
                    self.with_lookback(
                        asset,
                        match &partition {
                            Some(key) => PartitionSelection::Key(key.clone()),
                            None => PartitionSelection::Latest,
                        },
                    )
                };
                let kind = asset.kind();
                let rt = self.clone();
                running.insert(name.clone());
                tasks.spawn(async move { rt.build_one(name, kind, selection).await });
            }
            let Some(joined) = tasks.join_next().await else {
                break;
            };
            let outcome = joined
                .map_err(|e| phlo_core::Error::internal(format!("a build task failed: {e}")))?;
            running.remove(&outcome.asset);
            done.insert(outcome.asset.clone());
            if matches!(outcome.status, BuildStatus::Failed { .. }) {
                for d in graph.downstream_of(&outcome.asset) {
                    if !selected.contains(&d) || done.contains(&d) || running.contains(&d) {
                        continue;
                    }
                    done.insert(d.clone());
                    let kind = match self.registry.get(&d) {
                        Ok(a) => Some(a.kind()),
                        Err(_) => self.registry.other_kind(&d),
                    };
                    if let Some(kind) = kind {
                        outcomes.insert(
                            d.clone(),
                            BuildOutcome {
                                asset: d.clone(),
                                kind,
                                status: BuildStatus::Skipped {
                                    because: outcome.asset.clone(),
                                },
                                runs: Vec::new(),
                            },
                        );
                    }
                }
            }
            outcomes.insert(outcome.asset.clone(), outcome);
        }
        let assets = order.iter().filter_map(|n| outcomes.remove(n)).collect();
        Ok(BuildReport { assets })
    }

    /// A build's batch of a microbatch model widened to the `lookback` batches before it
    /// (never before the first partition), oldest first, so late-arriving rows of those
    /// windows are picked up. Other assets' selections, and a key that does not parse
    /// (the plan reports it), are left as they are.
    pub(crate) fn with_lookback(
        &self,
        asset: &crate::registry::Asset,
        selection: PartitionSelection,
    ) -> PartitionSelection {
        use phlo_core::partition::PartitionKey;
        let (crate::registry::AssetSource::Sql(model), Some(windows)) =
            (&asset.source, asset.partitions.time())
        else {
            return selection;
        };
        if !asset.is_microbatch() {
            return selection;
        }
        let last = match &selection {
            PartitionSelection::Key(text) => asset.partitions.parse_key(text).ok(),
            PartitionSelection::Latest => asset.partitions.latest(self.clock.now()),
            _ => None,
        };
        let Some(PartitionKey::Window(last)) = last else {
            return selection;
        };
        let first = match asset.partitions.first() {
            Some(PartitionKey::Window(w)) => Some(w),
            _ => None,
        };
        let mut from = last;
        for _ in 0..model.config.lookback() {
            let prev = windows.prev(&from);
            if first.is_some_and(|f| prev.start() < f.start()) {
                break;
            }
            from = prev;
        }
        if from == last {
            return PartitionSelection::Key(PartitionKey::Window(last).to_string());
        }
        PartitionSelection::Range {
            from: PartitionKey::Window(from).to_string(),
            to: PartitionKey::Window(last).to_string(),
        }
    }

    /// The batches a build (or a scheduled run) of partition `key` of `asset` runs, oldest
    /// first: `key` and, for a microbatch model, the `lookback` batches before it.
    pub fn lookback_batches(&self, asset: &str, key: &str) -> Result<Vec<String>> {
        let a = self.registry.get(asset)?;
        let key = a.partitions.parse_key(key)?;
        let selection = self.with_lookback(a, PartitionSelection::Key(key.to_string()));
        let keys = match selection {
            PartitionSelection::Range { from, to } => a.partitions.keys_between(
                &a.partitions.parse_key(&from)?,
                &a.partitions.parse_key(&to)?,
            )?,
            _ => vec![key],
        };
        Ok(keys.iter().map(ToString::to_string).collect())
    }

    /// One asset of a build: its planned partitions, in order.
    async fn build_one(
        &self,
        name: String,
        kind: AssetKind,
        selection: PartitionSelection,
    ) -> BuildOutcome {
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
        BuildOutcome {
            asset: name,
            kind,
            status: match failure {
                None => BuildStatus::Success,
                Some(error) => BuildStatus::Failed { error },
            },
            runs,
        }
    }

    /// The partitions of `asset` (`None`: the unpartitioned table) whose latest successful
    /// build read an upstream partition that has changed since: a commit to the upstream's
    /// table, by a run of one of the upstream partitions this partition maps to, after the
    /// version the build recorded reading. Assets without upstreams are never stale.
    pub async fn stale(&self, asset: &str) -> Result<Vec<Option<String>>> {
        let runs = super::runs::read_runs(self).await?;
        self.stale_in(asset, &runs)
    }

    pub(crate) fn stale_in(&self, asset: &str, runs: &[RunReport]) -> Result<Vec<Option<String>>> {
        let a = self.registry.get(asset)?;
        if a.deps.is_empty() {
            return Ok(Vec::new());
        }
        let graph = &self.graph;
        // The latest successful run of each partition (runs are in recorded order).
        let mut latest: BTreeMap<Option<String>, &RunReport> = BTreeMap::new();
        for r in runs
            .iter()
            .filter(|r| r.asset == asset && r.status == crate::report::RunStatus::Success)
        {
            latest.insert(r.partition.clone(), r);
        }
        let mut stale = Vec::new();
        for (partition, built) in latest {
            let key = match &partition {
                Some(text) => Some(a.partitions.parse_key(text)?),
                None => None,
            };
            let mut changed = false;
            for dep in &a.deps {
                let read = built.upstream_versions.get(&dep.asset).copied().flatten();
                let mapped = match &key {
                    Some(k) => Some(
                        graph
                            .upstream_keys(asset, &dep.asset, k)
                            .map_err(|e| Error::Graph(Box::new(e)))?,
                    ),
                    None => None,
                };
                let wanted = |p: &Option<String>| match (&mapped, p) {
                    (None | Some(crate::graph::MappedKeys::All), _) => true,
                    (Some(crate::graph::MappedKeys::Keys(keys)), Some(p)) => {
                        keys.iter().any(|k| k.to_string() == *p)
                    }
                    (Some(crate::graph::MappedKeys::Keys(_)), None) => true,
                };
                changed |= runs.iter().any(|r| {
                    r.asset == dep.asset
                        && r.status == crate::report::RunStatus::Success
                        && r.table_version_after > r.table_version_before
                        && r.table_version_after > read
                        && wanted(&r.partition)
                });
            }
            if changed {
                stale.push(partition);
            }
        }
        Ok(stale)
    }

    /// `build --stale`: in dependency order, each selected asset's stale partitions
    /// rebuilt (so a rebuild that changes a table makes its downstream stale in turn).
    pub async fn build_stale(&self, select: &str, exclude: Option<&str>) -> Result<BuildReport> {
        let order = self.select(select, exclude)?;
        let mut assets = Vec::new();
        // Read again only after a rebuild ran (its runs can make downstream stale).
        let mut runs = super::runs::read_runs(self).await?;
        for name in order {
            let Ok(asset) = self.registry.get(&name) else {
                continue;
            };
            let stale = self.stale_in(&name, &runs)?;
            let mut outcome = BuildOutcome {
                asset: name.clone(),
                kind: asset.kind(),
                status: BuildStatus::Success,
                runs: Vec::new(),
            };
            for partition in stale {
                let selection = match partition {
                    Some(k) => PartitionSelection::Key(k),
                    None => PartitionSelection::Unpartitioned,
                };
                let one = self.build_one(name.clone(), asset.kind(), selection).await;
                outcome.runs.extend(one.runs);
                if let BuildStatus::Failed { .. } = one.status {
                    outcome.status = one.status;
                }
            }
            if !outcome.runs.is_empty() {
                runs = super::runs::read_runs(self).await?;
            }
            assets.push(outcome);
        }
        Ok(BuildReport { assets })
    }
}
