//! Freshness (SEMANTICS §7): `freshness_hours = (warn, error)` judged per asset and per
//! partition from the latest successful runs, read from `_phlo.runs` once.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde::Serialize;

use super::Runtime;
use crate::Result;
use crate::registry::Asset;
use crate::report::{RunReport, RunStatus};

/// How fresh an asset or a partition is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum Freshness {
    /// Its latest successful run is younger than `warn` hours.
    Pass,
    /// Younger than `error` hours.
    Warn,
    /// Older than `error` hours — or, for an asset, its latest partition never succeeded.
    Fail,
    /// Never materialized successfully.
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
    /// Its table.
    pub table: String,
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

impl Runtime {
    /// The freshness of every ingestion asset and of each of its partitions at the
    /// runtime's clock. An asset is judged by its **latest complete partition** (for
    /// static keys, by its stalest key), not by whichever partition ran last, so
    /// backfilling an old partition does not make a stale asset look fresh.
    pub async fn status(&self) -> Result<Vec<AssetStatus>> {
        let runs = self.runs().await?;
        let now = self.clock.now();
        let mut by_asset: BTreeMap<&str, Vec<&RunReport>> = BTreeMap::new();
        for r in &runs {
            by_asset.entry(r.asset.as_str()).or_default().push(r);
        }
        let mut out = Vec::new();
        for a in self.registry.iter() {
            let asset_runs = by_asset.get(a.descriptor.name).map_or(&[][..], |v| v);
            let mut status = asset_status(a, asset_runs, now);
            let stale = self.stale_in(a.descriptor.name, &runs)?;
            for p in &mut status.partitions {
                p.stale = stale.contains(&p.partition);
            }
            out.push(status);
        }
        Ok(out)
    }
}

fn asset_status(a: &Asset, runs: &[&RunReport], now: DateTime<Utc>) -> AssetStatus {
    let hours = a.descriptor.spec.freshness_hours;
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
    AssetStatus {
        asset: a.descriptor.name.to_string(),
        table: a.table.to_string(),
        freshness_hours: hours,
        latest_partition,
        freshness,
        partitions,
    }
}
