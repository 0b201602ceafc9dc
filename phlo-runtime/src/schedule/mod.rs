//! The scheduler behind `serve`: every asset's `cron`, in-process, one scheduler per
//! warehouse.
//!
//! ```text
//!  Scheduler::new(rt, options)   each asset's cron parsed (croner) in its partitions' zone
//!   │  serve(shutdown) / run_once()
//!   ├─ lock       _phlo/scheduler.lock (pid, host, start, heartbeat); stale → taken over
//!   ├─ cursors    _phlo/scheduler_state.json: per asset, ticks planned up to here
//!   ├─ plan       policy::plan_ticks: missed ticks (catch_up N | skip), due ticks
//!   ├─ tick       policy::partition_for_tick → Runtime::materialize (the window the tick
//!   │             completes, in the definition's zone; unpartitioned: the table)
//!   ├─ eager      when _phlo.runs changed: eager::partitions_to_run per eager asset
//!   ├─ freshness  Runtime::status after each tick that ran: logged, kept in the Monitor
//!   └─ sleep      Clock::sleep_until(min(next tick, next heartbeat)); shutdown ends the
//!                 wait, never a run in flight
//! ```
//!
//! The pure parts — [`cron`], [`policy`], [`lock::decide`], [`eager`] — have unit tests;
//! the loop only sleeps on the runtime's [`phlo_core::clock::Clock`], so a
//! [`phlo_core::clock::VirtualClock`] drives it tick by tick.

pub mod cron;
pub mod eager;
pub mod lock;
pub mod policy;
pub mod state;

#[cfg(test)]
mod tests;

use std::collections::{BTreeMap, BTreeSet};
use std::future::Future;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::{DateTime, Utc};
use serde::Serialize;

pub use cron::CronSchedule;
pub use lock::{LockInfo, SchedulerLock};
pub use policy::{MissedTicks, TickMode, TickPlan, TickTarget, partition_for_tick, plan_ticks};
pub use state::SchedulerState;

use crate::exec::{AssetStatus, Freshness, Unpartitioned};
use crate::registry::{Asset, AssetSource};
use crate::report::RunStatus;
use crate::{Error, Result, Runtime};

/// The `cron` of an asset: `#[ingestion(cron = …)]`, or a SQL model's `cron` header key.
pub fn cron_of(asset: &Asset) -> Option<&str> {
    asset.descriptor.spec.cron.or(match &asset.source {
        AssetSource::Sql(model) => model.config.cron.as_deref(),
        _ => None,
    })
}

/// Whether a SQL model's header says `automation = "eager"`.
pub fn eager_in_header(asset: &Asset) -> bool {
    matches!(&asset.source, AssetSource::Sql(m)
        if m.config.automation == Some(crate::transform::Automation::Eager))
}

/// How the scheduler runs.
#[derive(Debug, Clone, PartialEq)]
pub struct ScheduleOptions {
    /// Missed ticks (default: catch up the newest one).
    pub missed: MissedTicks,
    /// Assets run eagerly on upstream change, besides SQL models whose header says
    /// `automation = "eager"` (macro assets are named here).
    pub eager: Vec<String>,
    /// How often the lock's heartbeat is written and eager assets are evaluated (30 s).
    pub interval: Duration,
    /// A lock whose heartbeat is older than this is stale (5 min).
    pub stale_lock_after: Duration,
}

impl Default for ScheduleOptions {
    fn default() -> Self {
        ScheduleOptions {
            missed: MissedTicks::default(),
            eager: Vec::new(),
            interval: Duration::from_secs(30),
            stale_lock_after: Duration::from_secs(300),
        }
    }
}

impl ScheduleOptions {
    /// With this missed-tick policy.
    pub fn missed(mut self, missed: MissedTicks) -> Self {
        self.missed = missed;
        self
    }

    /// With `asset` run eagerly when an upstream partition gets a new table version.
    pub fn eager(mut self, asset: impl Into<String>) -> Self {
        self.eager.push(asset.into());
        self
    }

    /// With this heartbeat and evaluation interval.
    pub fn interval(mut self, interval: Duration) -> Self {
        self.interval = interval;
        self
    }

    /// With this stale-lock threshold.
    pub fn stale_lock_after(mut self, after: Duration) -> Self {
        self.stale_lock_after = after;
        self
    }
}

/// Why the scheduler ran something.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case", tag = "cause")]
pub enum Cause {
    /// A cron tick at this instant.
    Tick {
        /// The tick.
        at: DateTime<Utc>,
    },
    /// An upstream change of an eager asset.
    Eager,
}

/// One run the scheduler made.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ScheduledRun {
    /// The asset.
    pub asset: String,
    /// Why.
    pub cause: Cause,
    /// The partition (`None`: unpartitioned).
    pub partition: Option<String>,
    /// The run's outcome (`failed` when it failed, or could not be planned).
    pub status: RunStatus,
    /// The run id, when a run was made.
    pub run_id: Option<String>,
    /// Why it failed.
    pub error: Option<String>,
}

/// What a scheduler has done so far; shared with whoever watches it.
#[derive(Debug, Default)]
pub struct Monitor {
    wakeups: AtomicU64,
    inner: Mutex<MonitorState>,
}

#[derive(Debug, Default)]
struct MonitorState {
    runs: Vec<ScheduledRun>,
    skipped: BTreeMap<String, usize>,
    freshness: BTreeMap<String, AssetStatus>,
}

impl Monitor {
    fn with<T>(&self, f: impl FnOnce(&mut MonitorState) -> T) -> T {
        let mut guard = match self.inner.lock() {
            Ok(g) => g,
            Err(p) => p.into_inner(),
        };
        f(&mut guard)
    }

    /// How many times the loop woke up (ticks, heartbeats, shutdown).
    pub fn wakeups(&self) -> u64 {
        self.wakeups.load(Ordering::Relaxed)
    }

    /// Every run made, in order.
    pub fn runs(&self) -> Vec<ScheduledRun> {
        self.with(|s| s.runs.clone())
    }

    /// Missed ticks skipped by the policy, per asset.
    pub fn skipped(&self) -> BTreeMap<String, usize> {
        self.with(|s| s.skipped.clone())
    }

    /// The latest freshness of each asset, recorded after the ticks that ran.
    pub fn freshness(&self) -> BTreeMap<String, AssetStatus> {
        self.with(|s| s.freshness.clone())
    }
}

#[derive(Debug, Clone)]
struct Scheduled {
    asset: String,
    schedule: CronSchedule,
}

/// The scheduler of one runtime's warehouse. Clones share one [`Monitor`].
#[derive(Debug, Clone)]
pub struct Scheduler {
    rt: Runtime,
    options: ScheduleOptions,
    scheduled: Vec<Scheduled>,
    eager: Vec<String>,
    monitor: Arc<Monitor>,
}

/// What the loop remembers between wake-ups.
struct Loop {
    state: SchedulerState,
    runs_version: Option<Option<i64>>,
    /// Ids of the runs the eager evaluation has seen in this process.
    seen: Option<BTreeSet<String>>,
    /// Eager partitions whose rebuild failed: not retried until an upstream changes again.
    failed: BTreeSet<(String, Option<String>)>,
}

impl Scheduler {
    /// A scheduler of every asset of `rt` with a `cron`, and of the eager ones. Fails on a
    /// cron croner rejects ([`Error::InvalidSchedule`]) and on an eager name that is no
    /// materialized asset.
    pub fn new(rt: &Runtime, options: ScheduleOptions) -> Result<Self> {
        let order: Vec<String> = rt.graph().order().into_iter().map(str::to_string).collect();
        let mut scheduled = Vec::new();
        let mut eager = Vec::new();
        let named: BTreeSet<&str> = options.eager.iter().map(String::as_str).collect();
        for name in &named {
            rt.registry().get(name)?;
        }
        for name in &order {
            let Ok(asset) = rt.registry().get(name) else {
                continue;
            };
            if let Some(expression) = cron_of(asset) {
                let tz = asset
                    .partitions
                    .time()
                    .map_or(chrono_tz::UTC, |t| t.timezone());
                let schedule = CronSchedule::parse(expression, tz).map_err(|reason| {
                    Error::InvalidSchedule {
                        asset: name.clone(),
                        cron: expression.to_string(),
                        reason,
                    }
                })?;
                scheduled.push(Scheduled {
                    asset: name.clone(),
                    schedule,
                });
            }
            if (named.contains(name.as_str()) || eager_in_header(asset)) && !asset.is_view() {
                eager.push(name.clone());
            }
        }
        Ok(Scheduler {
            rt: rt.clone(),
            options,
            scheduled,
            eager,
            monitor: Arc::new(Monitor::default()),
        })
    }

    /// What the scheduler has done, shared (watch it while [`Scheduler::serve`] runs).
    pub fn monitor(&self) -> Arc<Monitor> {
        self.monitor.clone()
    }

    /// The scheduled assets and their cron, in dependency order.
    pub fn schedules(&self) -> Vec<(&str, &CronSchedule)> {
        self.scheduled
            .iter()
            .map(|s| (s.asset.as_str(), &s.schedule))
            .collect()
    }

    /// The eager assets, in dependency order.
    pub fn eager_assets(&self) -> &[String] {
        &self.eager
    }

    /// `serve --once`: takes the lock, runs what is due now (the newest tick of each
    /// schedule at or before now, plus the missed ones the policy keeps, and the eager
    /// assets' changed partitions), records the cursors, releases the lock. Returns the
    /// runs it made.
    pub async fn run_once(&self) -> Result<Vec<ScheduledRun>> {
        let clock = self.rt.clock().clone();
        let lock = SchedulerLock::acquire(
            self.rt.warehouse(),
            clock.now(),
            self.options.stale_lock_after,
        )?;
        let before = self.monitor.with(|m| m.runs.len());
        let mut lp = self.start_loop();
        let result = self.evaluate(&mut lp, TickMode::Once).await;
        let released = lock.release();
        result?;
        released?;
        Ok(self
            .monitor
            .with(|m| m.runs[before.min(m.runs.len())..].to_vec()))
    }

    /// `serve`: takes the lock, runs missed ticks by the policy, then each tick as it comes
    /// and the eager assets on upstream change, until `shutdown` completes; a run in
    /// flight finishes first. Releases the lock. Returns the runs it made.
    pub async fn serve<F: Future<Output = ()>>(&self, shutdown: F) -> Result<Vec<ScheduledRun>> {
        let clock = self.rt.clock().clone();
        let mut lock = SchedulerLock::acquire(
            self.rt.warehouse(),
            clock.now(),
            self.options.stale_lock_after,
        )?;
        tracing::info!(
            schedules = self.scheduled.len(),
            eager = self.eager.len(),
            missed = ?self.options.missed,
            "scheduler started"
        );
        let before = self.monitor.with(|m| m.runs.len());
        let outcome = self.serve_locked(&mut lock, shutdown).await;
        clock.done();
        let released = lock.release();
        tracing::info!("scheduler stopped");
        outcome?;
        released?;
        Ok(self
            .monitor
            .with(|m| m.runs[before.min(m.runs.len())..].to_vec()))
    }

    async fn serve_locked<F: Future<Output = ()>>(
        &self,
        lock: &mut SchedulerLock,
        shutdown: F,
    ) -> Result<()> {
        let clock = self.rt.clock().clone();
        let mut lp = self.start_loop();
        self.evaluate(&mut lp, TickMode::Start).await?;
        let mut next_beat = clock.now() + interval(self.options.interval);
        let mut early = 0u32;
        tokio::pin!(shutdown);
        loop {
            let next_tick = self
                .scheduled
                .iter()
                .filter_map(|s| {
                    let cursor = lp.state.cursors.get(&s.asset).copied()?;
                    s.schedule.next_after(cursor)
                })
                .min();
            let wake = next_tick.map_or(next_beat, |t| t.min(next_beat));
            tokio::select! {
                biased;
                () = &mut shutdown => {
                    tracing::info!("shutdown requested");
                    return Ok(());
                }
                () = clock.sleep_until(wake) => {}
            }
            self.monitor.wakeups.fetch_add(1, Ordering::Relaxed);
            let now = clock.now();
            if now < wake {
                // Woken before the deadline: sleep again. A clock that never advances
                // (`FixedClock`) would spin here; say so instead.
                early += 1;
                if early >= EARLY_WAKE_LIMIT {
                    return Err(Error::InvalidArgument {
                        message: format!(
                            "the runtime's clock does not advance (woken {early} times before {wake}); \
                             serve needs a clock that moves, such as SystemClock or VirtualClock"
                        ),
                    });
                }
                continue;
            }
            early = 0;
            if now >= next_beat {
                lock.heartbeat(now)?;
                next_beat = now + interval(self.options.interval);
            }
            self.evaluate(&mut lp, TickMode::Running).await?;
        }
    }

    fn start_loop(&self) -> Loop {
        Loop {
            state: SchedulerState::load(self.rt.warehouse()),
            seen: None,
            runs_version: None,
            failed: BTreeSet::new(),
        }
    }

    /// Plans and runs the due ticks of every schedule, then the eager assets.
    async fn evaluate(&self, lp: &mut Loop, mode: TickMode) -> Result<()> {
        let now = self.rt.clock().now();
        let mut ran_ticks = false;
        let mut moved = false;
        for s in &self.scheduled {
            let cursor = lp.state.cursors.get(&s.asset).copied();
            let plan = plan_ticks(&s.schedule, cursor, now, mode, self.options.missed);
            // The file changes only when a tick passed (or on the first look): idle
            // wake-ups write nothing.
            moved |= cursor.is_none() || !plan.run.is_empty() || plan.skipped > 0;
            if plan.skipped > 0 {
                tracing::warn!(asset = %s.asset, skipped = plan.skipped, policy = ?self.options.missed, "missed ticks skipped");
                self.monitor
                    .with(|m| *m.skipped.entry(s.asset.clone()).or_default() += plan.skipped);
            }
            for tick in &plan.run {
                self.run_tick(&s.asset, *tick).await;
                ran_ticks = true;
            }
            lp.state.cursors.insert(s.asset.clone(), now);
        }
        if moved {
            lp.state.save(self.rt.warehouse())?;
        }
        let ran_eager = self.evaluate_eager(lp).await?;
        if ran_ticks || ran_eager {
            self.record_freshness().await;
        }
        Ok(())
    }

    async fn run_tick(&self, asset: &str, tick: DateTime<Utc>) {
        let Ok(a) = self.rt.registry().get(asset) else {
            return;
        };
        tracing::info!(asset, tick = %tick.to_rfc3339(), "tick");
        let keys: Vec<Option<String>> = match partition_for_tick(&a.partitions, tick) {
            TickTarget::Unpartitioned => vec![None],
            TickTarget::Keys(keys) => {
                // A microbatch model's tick re-runs its `lookback` batches too, once each.
                let mut batches: Vec<Option<String>> = Vec::new();
                for k in keys {
                    let text = k.to_string();
                    let widened = self
                        .rt
                        .lookback_batches(asset, &text)
                        .unwrap_or_else(|_| vec![text]);
                    for b in widened {
                        if !batches.iter().any(|x| x.as_deref() == Some(b.as_str())) {
                            batches.push(Some(b));
                        }
                    }
                }
                batches
            }
            TickTarget::Nothing => {
                tracing::info!(asset, tick = %tick.to_rfc3339(), "tick before the first partition: nothing to run");
                Vec::new()
            }
        };
        for key in keys {
            self.run_one(asset, Cause::Tick { at: tick }, key).await;
        }
    }

    /// Runs one partition and records it; returns whether it succeeded.
    async fn run_one(&self, asset: &str, cause: Cause, partition: Option<String>) -> bool {
        let outcome = match &partition {
            Some(k) => self.rt.materialize(asset, k.as_str()).await,
            None => self.rt.materialize(asset, Unpartitioned).await,
        };
        let run = match outcome {
            Ok(report) => {
                tracing::info!(asset, partition = ?partition, ?cause, status = %report.status, run_id = %report.run_id, rows_in = report.rows_in, "scheduled run done");
                ScheduledRun {
                    asset: asset.to_string(),
                    cause,
                    partition,
                    status: report.status,
                    run_id: Some(report.run_id),
                    error: None,
                }
            }
            Err(e) => {
                tracing::error!(asset, partition = ?partition, ?cause, error = %e, "scheduled run failed");
                ScheduledRun {
                    asset: asset.to_string(),
                    cause,
                    partition,
                    status: RunStatus::Failed,
                    run_id: None,
                    error: Some(e.to_string()),
                }
            }
        };
        let succeeded = run.status != RunStatus::Failed;
        self.monitor.with(|m| m.runs.push(run));
        succeeded
    }

    /// Runs the eager assets' partitions when `_phlo.runs` changed since the last look.
    /// Returns whether anything ran.
    async fn evaluate_eager(&self, lp: &mut Loop) -> Result<bool> {
        if self.eager.is_empty() {
            return Ok(false);
        }
        let runs_table = crate::exec::runs_table()?;
        let version = self.rt.store().version(&runs_table).await?;
        if lp.runs_version == Some(version) {
            return Ok(false);
        }
        let mut runs = self.rt.runs().await?;
        let seen: BTreeSet<String> = match lp.seen.take() {
            Some(seen) => seen,
            // The first look of this process: the runs an earlier scheduler saw (by the
            // watermark it left), or, on a warehouse never served, every run recorded so
            // far — those are not "new"; stale partitions still are.
            None => match &lp.state.runs_seen {
                Some(watermark) => runs
                    .iter()
                    .filter(|r| watermark.contains(r))
                    .map(|r| r.run_id.clone())
                    .collect(),
                None => runs.iter().map(|r| r.run_id.clone()).collect(),
            },
        };
        let mut ran = false;
        for name in &self.eager {
            let asset = self.rt.registry().get(name)?;
            let latest = asset
                .partitions
                .latest(self.rt.clock().now())
                .map(|k| k.to_string());
            // A new upstream change clears an earlier failure of the partitions it maps to;
            // a stale partition whose rebuild failed waits for one.
            let changed =
                eager::partitions_to_run(asset, self.rt.graph(), &runs, &seen, Vec::new(), latest)?;
            for p in &changed {
                lp.failed.remove(&(name.clone(), p.clone()));
            }
            let stale: Vec<Option<String>> = self
                .rt
                .stale_in(name, &runs)?
                .into_iter()
                .filter(|p| !lp.failed.contains(&(name.clone(), p.clone())))
                .collect();
            let partitions: BTreeSet<Option<String>> = changed.into_iter().chain(stale).collect();
            if partitions.is_empty() {
                continue;
            }
            tracing::info!(asset = %name, partitions = ?partitions, "upstream changed: eager run");
            for p in partitions {
                if !self.run_one(name, Cause::Eager, p.clone()).await {
                    lp.failed.insert((name.clone(), p));
                }
            }
            ran = true;
            runs = self.rt.runs().await?;
        }
        let watermark = state::RunsSeen::all_of(&runs);
        if lp.state.runs_seen.as_ref() != Some(&watermark) {
            lp.state.runs_seen = Some(watermark);
            lp.state.save(self.rt.warehouse())?;
        }
        lp.seen = Some(runs.iter().map(|r| r.run_id.clone()).collect());
        lp.runs_version = Some(self.rt.store().version(&runs_table).await?);
        Ok(ran)
    }

    /// Judges every asset's freshness now, logs it and keeps it in the monitor.
    async fn record_freshness(&self) {
        match self.rt.status().await {
            Ok(statuses) => {
                for s in statuses {
                    match s.freshness {
                        Some(Freshness::Fail) => {
                            tracing::warn!(asset = %s.asset, freshness = "FAIL", latest = ?s.latest_partition, "freshness")
                        }
                        Some(f) => {
                            tracing::info!(asset = %s.asset, freshness = %f, latest = ?s.latest_partition, "freshness")
                        }
                        None => {}
                    }
                    self.monitor
                        .with(|m| m.freshness.insert(s.asset.clone(), s));
                }
            }
            Err(e) => tracing::warn!(error = %e, "freshness could not be judged"),
        }
    }
}

/// Wake-ups before the deadline in a row after which the clock is deemed stopped.
const EARLY_WAKE_LIMIT: u32 = 1000;

fn interval(d: Duration) -> chrono::Duration {
    chrono::Duration::from_std(d.max(Duration::from_secs(1))).unwrap_or(chrono::Duration::MAX)
}
