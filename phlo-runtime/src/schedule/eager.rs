//! Eager automation: an asset marked eager runs the partitions an upstream change maps to.
//! Pure over the run log and the graph.

use std::collections::BTreeSet;

use crate::graph::{AssetGraph, MappedKeys};
use crate::registry::Asset;
use crate::report::{RunReport, RunStatus};
use crate::{Error, Result};

/// The partitions of the eager `asset` to run now (`None`: its unpartitioned table), in key
/// order: its **stale** partitions (`stale`, from [`crate::Runtime::stale`]: built, then an
/// upstream partition they read changed), and the partitions that an upstream run whose
/// id is not in `seen` changed (a new table version) and that never succeeded. An upstream change that
/// maps to every partition of a partitioned asset runs its `latest` one.
pub fn partitions_to_run(
    asset: &Asset,
    graph: &AssetGraph,
    runs: &[RunReport],
    seen: &BTreeSet<String>,
    stale: Vec<Option<String>>,
    latest: Option<String>,
) -> Result<Vec<Option<String>>> {
    let name = asset.descriptor.name;
    let built: BTreeSet<Option<String>> = runs
        .iter()
        .filter(|r| r.asset == name && r.status == RunStatus::Success)
        .map(|r| r.partition.clone())
        .collect();
    let mut out: BTreeSet<Option<String>> = stale.into_iter().collect();
    let partitioned = asset.partitions.is_partitioned();
    for dep in &asset.deps {
        for r in runs.iter().filter(|r| {
            r.asset == dep.asset
                && r.status == RunStatus::Success
                && r.table_version_after > r.table_version_before
                && !seen.contains(&r.run_id)
        }) {
            let mapped = match (&r.partition, partitioned) {
                (_, false) => MappedKeys::All,
                (None, true) => MappedKeys::All,
                (Some(text), true) => {
                    let upstream = graph
                        .node(&dep.asset)
                        .map(|n| n.partitions.clone())
                        .unwrap_or(phlo_core::partition::PartitionsDef::None);
                    let key = upstream.parse_key(text)?;
                    graph
                        .downstream_keys(&dep.asset, name, &key)
                        .map_err(|e| Error::Graph(Box::new(e)))?
                }
            };
            let wanted: Vec<Option<String>> = match (mapped, partitioned) {
                (_, false) => vec![None],
                (MappedKeys::All, true) => latest.iter().cloned().map(Some).collect(),
                (MappedKeys::Keys(keys), true) => {
                    keys.iter().map(|k| Some(k.to_string())).collect()
                }
            };
            out.extend(wanted.into_iter().filter(|p| !built.contains(p)));
        }
    }
    Ok(out.into_iter().collect())
}
