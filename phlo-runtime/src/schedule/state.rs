//! The scheduler's cursor per asset — the instant its ticks were last planned up to —
//! kept in `<warehouse>/_phlo/scheduler_state.json`, so a restarted `serve` or the next
//! `serve --once` knows which ticks it missed.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::{Error, Result};

/// The cursors.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SchedulerState {
    /// Per asset: ticks at or before this instant were run or skipped.
    pub cursors: BTreeMap<String, DateTime<Utc>>,
}

impl SchedulerState {
    /// The state file of a warehouse.
    pub fn path_in(warehouse: &Path) -> PathBuf {
        warehouse.join("_phlo").join("scheduler_state.json")
    }

    /// Reads it; none yet (or unreadable: logged) is an empty state.
    pub fn load(warehouse: &Path) -> Self {
        let path = Self::path_in(warehouse);
        match std::fs::read_to_string(&path) {
            Ok(text) => serde_json::from_str(&text).unwrap_or_else(|e| {
                tracing::warn!(path = %path.display(), error = %e, "scheduler state unreadable; starting without cursors");
                SchedulerState::default()
            }),
            Err(_) => SchedulerState::default(),
        }
    }

    /// Writes it whole (a temporary file renamed into place).
    pub fn save(&self, warehouse: &Path) -> Result<()> {
        let path = Self::path_in(warehouse);
        let io = |p: &Path, source| {
            Error::Core(phlo_core::Error::Io {
                path: p.display().to_string(),
                source,
            })
        };
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).map_err(|e| io(dir, e))?;
        }
        let tmp = path.with_extension("json.tmp");
        std::fs::write(&tmp, serde_json::to_string_pretty(self)?).map_err(|e| io(&tmp, e))?;
        std::fs::rename(&tmp, &path).map_err(|e| io(&path, e))?;
        Ok(())
    }
}
