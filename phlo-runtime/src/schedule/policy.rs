//! Which ticks run: the missed-tick policy and the partition a tick materializes. Pure.

use chrono::{DateTime, Utc};
use phlo_core::partition::{PartitionKey, PartitionsDef};
use serde::{Deserialize, Serialize};

use super::cron::CronSchedule;

/// What happens to ticks that fell while no scheduler was running (the machine was off,
/// `serve` was stopped, the system cron did not call `serve --once`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MissedTicks {
    /// Run the newest `n` missed ticks, oldest first; the older ones are skipped
    /// (`serve --catch-up N`). The default is `CatchUp(1)`: after an outage the newest
    /// missed tick runs, so the latest partition is not left behind.
    CatchUp(u32),
    /// Run none of them; wait for the next tick (`serve --skip-missed`).
    Skip,
}

impl Default for MissedTicks {
    fn default() -> Self {
        MissedTicks::CatchUp(1)
    }
}

/// When the ticks are planned.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TickMode {
    /// `serve` starting: ticks after the recorded cursor and up to now were missed. With
    /// no cursor (the first `serve` on this warehouse) nothing was missed.
    Start,
    /// `serve --once`: the newest tick at or before now is due now (even with no
    /// cursor); the ones before it, after the cursor, were missed.
    Once,
    /// `serve` running: every tick after the cursor became due while it ran, and runs.
    Running,
}

/// The ticks to run and the ones skipped.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TickPlan {
    /// Ticks to run, oldest first.
    pub run: Vec<DateTime<Utc>>,
    /// Ticks missed and not run (counted up to [`super::cron::TICK_COUNT_CAP`]).
    pub skipped: usize,
}

impl MissedTicks {
    fn keep(self) -> usize {
        match self {
            MissedTicks::CatchUp(n) => n as usize,
            MissedTicks::Skip => 0,
        }
    }
}

/// The ticks of `schedule` to run at `now`, given the last instant the ticks were planned
/// up to (`cursor`), the mode and the policy.
pub fn plan_ticks(
    schedule: &CronSchedule,
    cursor: Option<DateTime<Utc>>,
    now: DateTime<Utc>,
    mode: TickMode,
    policy: MissedTicks,
) -> TickPlan {
    match (mode, cursor) {
        (TickMode::Start, None) => TickPlan {
            run: Vec::new(),
            skipped: 0,
        },
        (TickMode::Running, None) => TickPlan {
            run: Vec::new(),
            skipped: 0,
        },
        (TickMode::Running, Some(c)) => TickPlan {
            run: schedule.ticks_between(c, now),
            skipped: 0,
        },
        (TickMode::Start, Some(c)) => {
            let due = schedule.due(c, now, policy.keep());
            let mut run = due.newest;
            run.reverse();
            TickPlan {
                skipped: due.total - run.len(),
                run,
            }
        }
        (TickMode::Once, None) => TickPlan {
            run: schedule.latest_at_or_before(now).into_iter().collect(),
            skipped: 0,
        },
        (TickMode::Once, Some(c)) => {
            let due = schedule.due(c, now, policy.keep() + 1);
            let mut run = due.newest;
            // The newest is due now; the rest are the missed ticks the policy keeps.
            run.reverse();
            TickPlan {
                skipped: due.total - run.len(),
                run,
            }
        }
    }
}

/// What one tick materializes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TickTarget {
    /// The unpartitioned table.
    Unpartitioned,
    /// These partitions: the window the tick completes (the definition's latest at the
    /// tick, end offset included), or every key of a static definition.
    Keys(Vec<PartitionKey>),
    /// Nothing: the tick is before the definition's first complete window.
    Nothing,
}

/// The partition a tick at `tick` materializes (SEMANTICS §7): the last complete window of
/// the asset's partitions at the tick, in the definition's time zone, shifted by its end
/// offset; every key of a static definition; the table of an unpartitioned asset.
pub fn partition_for_tick(partitions: &PartitionsDef, tick: DateTime<Utc>) -> TickTarget {
    match partitions {
        PartitionsDef::None => TickTarget::Unpartitioned,
        PartitionsDef::Static(keys) => TickTarget::Keys(
            keys.iter()
                .map(|k| PartitionKey::Static(k.clone()))
                .collect(),
        ),
        def => match def.latest(tick) {
            Some(k) => TickTarget::Keys(vec![k]),
            None => TickTarget::Nothing,
        },
    }
}
