//! Incremental cursors: a source's last value per asset and resource, kept in the run
//! record (`_phlo.runs`) of the run that advanced it. A cursor is kept exactly when its
//! run succeeded, so only after the run's commit landed; a failed run (a fetch error,
//! failed validation, a lost commit) leaves the cursor where it was and the next run reads
//! the same rows again, which the merge makes idempotent.

use std::collections::BTreeMap;
use std::sync::Mutex;

use phlo_core::partition::Cursors;

use super::Runtime;
use crate::report::RunStatus;

/// The cursors of one attempt of one run.
#[derive(Debug)]
pub(crate) struct RunCursors {
    rt: Runtime,
    asset: String,
    staged: Mutex<BTreeMap<String, String>>,
}

impl RunCursors {
    pub(crate) fn new(rt: Runtime, asset: &str) -> Self {
        RunCursors {
            rt,
            asset: asset.to_string(),
            staged: Mutex::new(BTreeMap::new()),
        }
    }

    /// What the attempt staged.
    pub(crate) fn take(&self) -> BTreeMap<String, String> {
        self.staged
            .lock()
            .map(|mut s| std::mem::take(&mut *s))
            .unwrap_or_default()
    }
}

#[async_trait::async_trait]
impl Cursors for RunCursors {
    async fn last(&self, resource: &str) -> phlo_core::Result<Option<String>> {
        // Only this asset's kept runs that carry cursors are parsed.
        let predicate = format!(
            "asset = {} AND status <> {} AND report LIKE '%\"cursors\"%'",
            phlo_core::partition::sql_literal(&self.asset.as_str().into()),
            phlo_core::partition::sql_literal(&RunStatus::Failed.to_string().as_str().into()),
        );
        let runs = super::runs::read_runs_where(&self.rt, &predicate)
            .await
            .map_err(|e| {
                phlo_core::Error::internal(format!("reading the cursors of `{}`: {e}", self.asset))
            })?;
        Ok(runs
            .iter()
            .rev()
            .find_map(|r| r.cursors.get(resource).cloned()))
    }

    fn advance(&self, resource: &str, value: String) {
        if let Ok(mut s) = self.staged.lock() {
            s.insert(resource.to_string(), value);
        }
    }
}
