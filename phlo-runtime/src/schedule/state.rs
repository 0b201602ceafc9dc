//! The scheduler's cursor per asset — the instant its ticks were last planned up to — and
//! the runs its eager evaluation has seen, kept in `<warehouse>/_phlo/scheduler_state.json`,
//! so a restarted `serve` or the next `serve --once` knows which ticks it missed and which
//! upstream runs are new.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::{Error, Result};

/// The cursors.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SchedulerState {
    /// Per asset: ticks at or before this instant were run or skipped.
    pub cursors: BTreeMap<String, DateTime<Utc>>,
    /// The runs the eager evaluation has seen (`None`: never evaluated).
    #[serde(default)]
    pub runs_seen: Option<RunsSeen>,
}

/// Which recorded runs a scheduler had seen when it last looked, for the next process:
/// every run started before `until`, and those started at `until` whose ids are listed.
/// Within one process the scheduler remembers run ids exactly; across processes a run that
/// started before the watermark but was recorded after it counts as seen (its partitions
/// still run if they are stale).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RunsSeen {
    /// The latest start seen.
    pub until: Option<DateTime<Utc>>,
    /// The runs started at `until` that were seen.
    pub ids_at_until: BTreeSet<String>,
}

impl RunsSeen {
    /// Everything in `runs` seen.
    pub fn all_of(runs: &[crate::report::RunReport]) -> Self {
        let until = runs.iter().map(|r| r.started_at).max();
        let ids_at_until = runs
            .iter()
            .filter(|r| Some(r.started_at) == until)
            .map(|r| r.run_id.clone())
            .collect();
        RunsSeen {
            until,
            ids_at_until,
        }
    }

    /// Whether `run` was seen.
    pub fn contains(&self, run: &crate::report::RunReport) -> bool {
        match self.until {
            None => false,
            Some(until) => {
                run.started_at < until
                    || (run.started_at == until && self.ids_at_until.contains(&run.run_id))
            }
        }
    }
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
