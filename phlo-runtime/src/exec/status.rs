//! Freshness (SEMANTICS §7): `freshness_hours = (warn, error)` judged per asset and per
//! partition, read from `_phlo.runs` once.
//!
//! - A **partition** is judged by the age of its latest successful run: a run that found
//!   nothing new still says the partition is up to date.
//! - An **asset** is judged by its latest complete partition (static keys: the stalest
//!   key; unpartitioned: the table's latest run) **and by its table's latest commit**:
//!   the worse of the two verdicts. The commit's time is the start of the phlo run that
//!   made it (the injected clock); a table never committed is UNKNOWN whatever its runs
//!   say. So an asset whose runs keep succeeding while its table has not changed for
//!   longer than `error` hours FAILs, though each partition reads PASS.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde::Serialize;

use super::Runtime;
use crate::Result;
use crate::registry::{Asset, AssetKind, AssetSource};
use crate::report::{RunReport, RunStatus};

/// How fresh an asset or a partition is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum Freshness {
    /// Its latest successful run is younger than `warn` hours.
    Pass,
    /// Younger than `error` hours.
    Warn,
    /// Older than `error` hours — or, for an asset, its latest partition never succeeded
    /// or its table's latest commit is older than `error` hours.
    Fail,
    /// Never materialized successfully (for an asset: its table was never committed).
    Unknown,
}

impl std::fmt::Display for Freshness {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Freshness::Pass => "PASS",
            Freshness::Warn => "WARN",
            Freshness::Fail => "FAIL",
            Freshness::Unknown => "UNKNOWN",
        })
    }
}

/// One partition's freshness.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PartitionStatus {
    /// The key (`None`: unpartitioned).
    pub partition: Option<String>,
    /// When its latest successful run started (the runtime's clock).
    pub last_success: Option<DateTime<Utc>>,
    /// Hours since then.
    pub age_hours: Option<f64>,
    /// Its freshness (`None` when the asset declares no `freshness_hours`).
    pub freshness: Option<Freshness>,
    /// An upstream partition it maps to changed after its latest successful build
    /// ([`Runtime::stale`]).
    pub stale: bool,
}

/// An asset's freshness and its partitions'.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AssetStatus {
    /// Asset.
    pub asset: String,
    /// Its kind (ingestion, sql, seed).
    pub kind: AssetKind,
    /// Its table.
    pub table: String,
    /// When the table's latest commit by a phlo run was made (that run's start).
    pub last_commit: Option<DateTime<Utc>>,
    /// `(warn, error)` hours, when declared.
    pub freshness_hours: Option<(f64, f64)>,
    /// The partition the asset's freshness is judged by: the latest complete one.
    pub latest_partition: Option<String>,
    /// The asset's freshness: its latest partition's (`None` without `freshness_hours`).
    pub freshness: Option<Freshness>,
    /// Every partition that has run, in key order.
    pub partitions: Vec<PartitionStatus>,
}

fn judge(age_hours: Option<f64>, hours: Option<(f64, f64)>) -> Option<Freshness> {
    let (warn, error) = hours?;
    Some(match age_hours {
        None => Freshness::Unknown,
        Some(a) if a < warn => Freshness::Pass,
        Some(a) if a < error => Freshness::Warn,
        Some(_) => Freshness::Fail,
    })
}

/// The `freshness_hours` of an asset: `#[ingestion(freshness_hours = …)]`, or a SQL
/// model's `freshness_hours` header key.
pub fn freshness_hours_of(asset: &Asset) -> Option<(f64, f64)> {
    asset
        .descriptor
        .spec
        .freshness_hours
        .or(match &asset.source {
            AssetSource::Sql(model) => model.config.freshness_hours,
            _ => None,
        })
}

/// The worse of two verdicts: FAIL over WARN over PASS; UNKNOWN only when either is.
fn worse(a: Option<Freshness>, b: Option<Freshness>) -> Option<Freshness> {
    let rank = |f: Freshness| match f {
        Freshness::Pass => 0,
        Freshness::Warn => 1,
        Freshness::Fail => 2,
        Freshness::Unknown => 3,
    };
    match (a, b) {
        (Some(a), Some(b)) => Some(if rank(a) >= rank(b) { a } else { b }),
        (a, None) => a,
        (None, b) => b,
    }
}

impl Runtime {
    /// The freshness of every materialized asset — ingestion assets, SQL models (views
    /// store nothing and are left out), seeds — and of each of its partitions at the
    /// runtime's clock. An asset is judged by its **latest complete partition** (for
    /// static keys, by its stalest key), not by whichever partition ran last, so
    /// backfilling an old partition does not make a stale asset look fresh; and by its
    /// table's latest commit (the module's rules).
    pub async fn status(&self) -> Result<Vec<AssetStatus>> {
        self.status_of("*").await
    }

    /// [`Runtime::status`] of the assets of a selection (dbt's syntax, as `build`).
    pub async fn status_of(&self, select: &str) -> Result<Vec<AssetStatus>> {
        let chosen = self.select(select, None)?;
        let runs = self.runs().await?;
        let now = self.clock.now();
        let mut by_asset: BTreeMap<&str, Vec<&RunReport>> = BTreeMap::new();
        let mut last_commit: BTreeMap<&str, DateTime<Utc>> = BTreeMap::new();
        for r in &runs {
            by_asset.entry(r.asset.as_str()).or_default().push(r);
            if r.status == RunStatus::Success && r.table_version_after > r.table_version_before {
                let t = last_commit.entry(r.table.as_str()).or_insert(r.started_at);
                *t = (*t).max(r.started_at);
            }
        }
        let mut out = Vec::new();
        for a in self.registry.iter() {
            if a.is_view() || !chosen.iter().any(|n| n == a.descriptor.name) {
                continue;
            }
            let asset_runs = by_asset.get(a.descriptor.name).map_or(&[][..], |v| v);
            let table = a.table.to_string();
            let committed = self.store.version(&a.table).await?.is_some();
            let commit = last_commit.get(table.as_str()).copied();
            let mut status = asset_status(a, asset_runs, now, committed, commit);
            let stale = self.stale_in(a.descriptor.name, &runs)?;
            for p in &mut status.partitions {
                p.stale = stale.contains(&p.partition);
            }
            out.push(status);
        }
        Ok(out)
    }
}

fn asset_status(
    a: &Asset,
    runs: &[&RunReport],
    now: DateTime<Utc>,
    committed: bool,
    last_commit: Option<DateTime<Utc>>,
) -> AssetStatus {
    let hours = freshness_hours_of(a);
    let mut last: BTreeMap<Option<String>, Option<DateTime<Utc>>> = BTreeMap::new();
    for r in runs {
        let entry = last.entry(r.partition.clone()).or_insert(None);
        if r.status == RunStatus::Success {
            *entry = Some(entry.map_or(r.started_at, |t: DateTime<Utc>| t.max(r.started_at)));
        }
    }
    let age = |t: Option<DateTime<Utc>>| t.map(|t| (now - t).num_seconds() as f64 / 3600.0);
    let partitions: Vec<PartitionStatus> = last
        .iter()
        .map(|(p, t)| PartitionStatus {
            partition: p.clone(),
            last_success: *t,
            age_hours: age(*t),
            freshness: judge(age(*t), hours),
            stale: false,
        })
        .collect();
    let ever = partitions.iter().any(|p| p.last_success.is_some());
    let (latest_partition, freshness) = match &a.partitions {
        phlo_core::partition::PartitionsDef::None => {
            (None, judge(age(last.get(&None).copied().flatten()), hours))
        }
        phlo_core::partition::PartitionsDef::Static(keys) => {
            let worst = keys
                .iter()
                .map(|k| judge(age(last.get(&Some(k.clone())).copied().flatten()), hours))
                .max()
                .flatten();
            (None, worst)
        }
        def => {
            let latest = def.latest(now).map(|k| k.to_string());
            let t = latest
                .as_ref()
                .and_then(|k| last.get(&Some(k.clone())).copied().flatten());
            let f = match judge(age(t), hours) {
                // The latest partition never succeeded: stale if anything ever ran.
                Some(Freshness::Unknown) if ever => Some(Freshness::Fail),
                other => other,
            };
            (latest, f)
        }
    };
    // The table's side: never committed → UNKNOWN; its latest commit judged like a run
    // (a version no phlo run recorded has no known time and leaves the runs' verdict).
    let table_verdict = match (hours, committed, last_commit) {
        (None, _, _) => None,
        (Some(_), false, _) => Some(Freshness::Unknown),
        (Some(_), true, None) => None,
        (Some(_), true, Some(t)) => judge(age(Some(t)), hours),
    };
    let freshness = match table_verdict {
        Some(Freshness::Unknown) => Some(Freshness::Unknown),
        other => worse(freshness, other),
    };
    AssetStatus {
        asset: a.descriptor.name.to_string(),
        kind: a.kind(),
        table: a.table.to_string(),
        last_commit,
        freshness_hours: hours,
        latest_partition,
        freshness,
        partitions,
    }
}
