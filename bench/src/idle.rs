//! `scheduler-idle` (`--only idle`): the CPU time the scheduler spends over a minute of
//! wall time with nothing due — one asset whose cron fires once a year, and one eager
//! asset with no upstream change — on the system clock. Measured as the process's CPU
//! time (`utime + stime` of `/proc/self/stat`, at the kernel's usual 100 ticks a second)
//! before and after. Target: under 1% of one core (0.6 s over 60 s).

use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use phlo::prelude::*;
use phlo::schedule::{ScheduleOptions, Scheduler};
use phlo::{Registry, SystemClock};
use serde::{Deserialize, Serialize};

use crate::scenario::BoxError;

/// Seconds the idle scheduler is measured for (`--idle-seconds`, default 60).
pub const DEFAULT_SECONDS: u64 = 60;

/// What the idle scenario measured.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct IdleOutcome {
    /// Scenario name.
    pub scenario: String,
    /// Wall time measured, seconds.
    pub wall_s: f64,
    /// CPU time of the process over it (every thread), seconds.
    pub cpu_s: f64,
    /// `cpu_s / wall_s`: the fraction of one core.
    pub core_fraction: f64,
    /// How often the scheduler's loop woke up.
    pub wakeups: u64,
    /// Runs made (expected: none).
    pub runs: usize,
}

/// A row a year: the schedule never fires while measured.
#[derive(Schema)]
pub struct IdleRow {
    /// Key.
    #[phlo(unique)]
    id: String,
}

/// Scheduled once a year (1 January, 00:00 UTC).
#[ingestion(table = "bench.idle_yearly", unique_key = "id", schema = IdleRow,
            cron = "0 0 1 1 *", partitioned = false)]
pub async fn idle_yearly(_ctx: &PartitionContext) -> phlo::Result<Vec<IdleRow>> {
    Ok(vec![IdleRow { id: "x".into() }])
}

/// Process CPU time (user + system, every thread), seconds, from `/proc/self/stat`.
fn cpu_seconds() -> Result<f64, BoxError> {
    let stat = std::fs::read_to_string("/proc/self/stat")?;
    // Fields after the command name (which may hold spaces) start at its closing paren.
    let rest = stat
        .rsplit_once(')')
        .map(|(_, r)| r)
        .ok_or("unreadable /proc/self/stat")?;
    let fields: Vec<&str> = rest.split_whitespace().collect();
    // utime and stime are fields 14 and 15 of the line, 12 and 13 after the paren.
    let ticks = |i: usize| -> Result<f64, BoxError> {
        Ok(fields
            .get(i)
            .ok_or("short /proc/self/stat")?
            .parse::<f64>()?)
    };
    Ok((ticks(11)? + ticks(12)?) / 100.0)
}

/// Serves `warehouse` for `seconds` with nothing due and measures the CPU it used.
pub async fn run(warehouse: &Path, seconds: u64) -> Result<IdleOutcome, BoxError> {
    let global = Registry::global()?;
    let registry = Registry::from_descriptors([global.get("idle_yearly")?.descriptor])?;
    let rt = Runtime::builder(warehouse)
        .registry(registry)
        .clock(Arc::new(SystemClock))
        .build()
        .await?;
    // Something for the heartbeat and the eager check to look at: one run in the log.
    rt.materialize("idle_yearly", Unpartitioned).await?;
    let scheduler = Scheduler::new(&rt, ScheduleOptions::default().eager("idle_yearly"))?;
    let monitor = scheduler.monitor();
    let before = cpu_seconds()?;
    let started = Instant::now();
    let runs = scheduler
        .serve(tokio::time::sleep(Duration::from_secs(seconds)))
        .await?;
    let wall_s = started.elapsed().as_secs_f64();
    let cpu_s = cpu_seconds()? - before;
    Ok(IdleOutcome {
        scenario: "scheduler-idle".into(),
        wall_s,
        cpu_s,
        core_fraction: cpu_s / wall_s.max(f64::EPSILON),
        wakeups: monitor.wakeups(),
        runs: runs.len(),
    })
}
