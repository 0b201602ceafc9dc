//! Time and run ids are injected, so the same input gives the same table.

use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use chrono::{DateTime, Utc};
use futures::future::BoxFuture;

/// The source of "now" and of waiting.
///
/// Everything that waits — retry backoff, the scheduler between ticks — waits on the
/// runtime's clock, so a [`VirtualClock`] drives it without real sleeping.
pub trait Clock: Send + Sync + std::fmt::Debug {
    /// The current instant.
    fn now(&self) -> DateTime<Utc>;
    /// Waits for `duration` (retry backoff).
    fn sleep(&self, duration: Duration) -> BoxFuture<'static, ()>;
    /// Waits until `deadline` (the scheduler's next tick). Returns at once when it has
    /// passed. The default sleeps for the difference to [`Clock::now`].
    fn sleep_until(&self, deadline: DateTime<Utc>) -> BoxFuture<'static, ()> {
        let wait = (deadline - self.now()).to_std().unwrap_or(Duration::ZERO);
        self.sleep(wait)
    }
    /// Tells the clock that the calling task, woken from a sleep, ends without sleeping on
    /// it again (the scheduler calls it when it stops). A [`VirtualClock`] then stops
    /// waiting for that task; other clocks ignore it.
    fn done(&self) {}
}

/// The system clock and tokio's timer.
#[derive(Debug, Default, Clone, Copy)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> DateTime<Utc> {
        Utc::now()
    }
    fn sleep(&self, duration: Duration) -> BoxFuture<'static, ()> {
        Box::pin(tokio::time::sleep(duration))
    }
    fn sleep_until(&self, deadline: DateTime<Utc>) -> BoxFuture<'static, ()> {
        // Re-checked against the wall clock on waking: a clock set back or a suspended
        // machine wakes early or late, never at a wrong tick (the caller re-reads now).
        let wait = (deadline - Utc::now()).to_std().unwrap_or(Duration::ZERO);
        Box::pin(tokio::time::sleep(wait))
    }
}

/// A clock stopped at one instant whose `sleep` returns at once and records the request.
#[derive(Debug)]
pub struct FixedClock {
    now: DateTime<Utc>,
    sleeps: Mutex<Vec<Duration>>,
}

impl FixedClock {
    /// A clock stopped at `now`.
    pub fn new(now: DateTime<Utc>) -> Self {
        FixedClock {
            now,
            sleeps: Mutex::new(Vec::new()),
        }
    }

    /// The sleeps requested so far.
    pub fn sleeps(&self) -> Vec<Duration> {
        self.sleeps.lock().map(|s| s.clone()).unwrap_or_default()
    }
}

impl Clock for FixedClock {
    fn now(&self) -> DateTime<Utc> {
        self.now
    }
    fn sleep(&self, duration: Duration) -> BoxFuture<'static, ()> {
        if let Ok(mut sleeps) = self.sleeps.lock() {
            sleeps.push(duration);
        }
        Box::pin(std::future::ready(()))
    }
}

/// A clock that moves only when told: [`VirtualClock::advance`] moves it forward, waking
/// every sleeper whose deadline falls within the step **in deadline order**, at its
/// deadline, and waits for each woken task to go back to sleep (or to call
/// [`Clock::done`]) before moving on. So a
/// scheduler on it fires each due tick at the tick's instant, deterministically, with no
/// real sleeping. [`VirtualClock::jump`] moves time without waking anyone (a machine
/// that was off).
///
/// ```
/// # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
/// use std::sync::Arc;
/// use std::time::Duration;
/// use phlo_core::clock::{Clock, VirtualClock};
///
/// let start = chrono::DateTime::from_timestamp(0, 0).unwrap();
/// let clock = Arc::new(VirtualClock::new(start));
/// let c = clock.clone();
/// let task = tokio::spawn(async move {
///     c.sleep(Duration::from_secs(60)).await;
///     let woke = c.now();
///     c.done(); // this task will not wait again
///     woke
/// });
/// clock.sleeping().await; // the task is waiting
/// clock.advance(Duration::from_secs(3600)).await;
/// assert_eq!(task.await.unwrap(), start + chrono::Duration::seconds(60));
/// assert_eq!(clock.now(), start + chrono::Duration::seconds(3600));
/// # });
/// ```
#[derive(Debug)]
pub struct VirtualClock {
    state: Mutex<VirtualState>,
    /// Counts sleeps registered, so `advance` can wait for a woken task to sleep again.
    registered: tokio::sync::watch::Sender<u64>,
}

#[derive(Debug)]
struct VirtualState {
    now: DateTime<Utc>,
    next_seq: u64,
    sleepers: std::collections::BTreeMap<(DateTime<Utc>, u64), tokio::sync::oneshot::Sender<()>>,
}

impl VirtualClock {
    /// A clock standing at `now`.
    pub fn new(now: DateTime<Utc>) -> Self {
        VirtualClock {
            state: Mutex::new(VirtualState {
                now,
                next_seq: 0,
                sleepers: Default::default(),
            }),
            registered: tokio::sync::watch::Sender::new(0),
        }
    }

    fn with_state<T>(&self, f: impl FnOnce(&mut VirtualState) -> T) -> T {
        let mut guard = match self.state.lock() {
            Ok(g) => g,
            Err(poisoned) => poisoned.into_inner(),
        };
        f(&mut guard)
    }

    /// Moves the clock forward by `step`: each sleeper due within it is woken at its own
    /// deadline, earliest first, and the clock waits until the woken task sleeps on it
    /// again or calls [`Clock::done`].
    pub async fn advance(&self, step: Duration) {
        let target = self.now() + chrono::Duration::from_std(step).unwrap_or(chrono::Duration::MAX);
        loop {
            let next = self.with_state(|s| {
                let key = *s.sleepers.keys().next()?;
                if key.0 > target {
                    return None;
                }
                let tx = s.sleepers.remove(&key)?;
                s.now = s.now.max(key.0);
                Some(tx)
            });
            let Some(tx) = next else { break };
            let seen = *self.registered.borrow();
            if tx.send(()).is_ok() {
                let mut rx = self.registered.subscribe();
                let _ = rx.wait_for(|n| *n > seen).await;
            }
        }
        self.with_state(|s| s.now = s.now.max(target));
    }

    /// Moves the clock to `now + step` without waking anyone: sleepers due by then wake at
    /// the next [`VirtualClock::advance`], late (time that passed while a process was off).
    pub fn jump(&self, step: Duration) {
        let step = chrono::Duration::from_std(step).unwrap_or(chrono::Duration::MAX);
        self.with_state(|s| s.now += step);
    }

    /// Waits until some task is sleeping on the clock.
    pub async fn sleeping(&self) {
        let mut rx = self.registered.subscribe();
        loop {
            if self.with_state(|s| s.sleepers.values().any(|tx| !tx.is_closed())) {
                return;
            }
            if rx.changed().await.is_err() {
                return;
            }
        }
    }

    /// How many sleeps have been requested so far (and [`Clock::done`] calls).
    pub fn sleeps_requested(&self) -> u64 {
        *self.registered.borrow()
    }
}

impl Clock for VirtualClock {
    fn now(&self) -> DateTime<Utc> {
        self.with_state(|s| s.now)
    }

    fn sleep(&self, duration: Duration) -> BoxFuture<'static, ()> {
        let deadline =
            self.now() + chrono::Duration::from_std(duration).unwrap_or(chrono::Duration::MAX);
        self.sleep_until(deadline)
    }

    fn done(&self) {
        self.registered.send_modify(|n| *n += 1);
    }

    fn sleep_until(&self, deadline: DateTime<Utc>) -> BoxFuture<'static, ()> {
        let rx = self.with_state(|s| {
            if deadline <= s.now {
                return None;
            }
            let (tx, rx) = tokio::sync::oneshot::channel();
            s.sleepers.insert((deadline, s.next_seq), tx);
            s.next_seq += 1;
            Some(rx)
        });
        match rx {
            None => Box::pin(std::future::ready(())),
            Some(rx) => {
                self.registered.send_modify(|n| *n += 1);
                Box::pin(async move {
                    let _ = rx.await;
                })
            }
        }
    }
}

/// The source of run ids (unique per run).
pub trait RunIdGenerator: Send + Sync + std::fmt::Debug {
    /// The next id.
    fn next_id(&self) -> String;
}

/// Time-ordered UUIDv7 ids (the default).
#[derive(Debug, Default, Clone, Copy)]
pub struct UuidRunIds;

impl RunIdGenerator for UuidRunIds {
    fn next_id(&self) -> String {
        uuid::Uuid::now_v7().to_string()
    }
}

/// `prefix-000001`, `prefix-000002`, … for deterministic tests.
#[derive(Debug)]
pub struct SequentialRunIds {
    prefix: String,
    next: AtomicU64,
}

impl SequentialRunIds {
    /// Ids starting at `prefix-000001`.
    pub fn new(prefix: impl Into<String>) -> Self {
        SequentialRunIds {
            prefix: prefix.into(),
            next: AtomicU64::new(1),
        }
    }
}

impl RunIdGenerator for SequentialRunIds {
    fn next_id(&self) -> String {
        let n = self.next.fetch_add(1, Ordering::Relaxed);
        format!("{}-{n:06}", self.prefix)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t0() -> DateTime<Utc> {
        DateTime::from_timestamp(1_743_292_800, 0).unwrap_or_default()
    }

    #[tokio::test]
    async fn advance_wakes_sleepers_in_deadline_order_at_their_deadlines() {
        let clock = std::sync::Arc::new(VirtualClock::new(t0()));
        let c = clock.clone();
        let task = tokio::spawn(async move {
            let mut seen = Vec::new();
            for _ in 0..3 {
                c.sleep(Duration::from_secs(600)).await;
                seen.push(c.now());
            }
            c.done();
            seen
        });
        clock.sleeping().await;
        clock.advance(Duration::from_secs(1500)).await;
        // Two wake-ups within the step; the third sleeper waits for the next advance.
        assert_eq!(clock.now(), t0() + chrono::Duration::seconds(1500));
        clock.advance(Duration::from_secs(300)).await;
        let seen = task.await.unwrap_or_default();
        let minutes: Vec<i64> = seen.iter().map(|t| (*t - t0()).num_minutes()).collect();
        assert_eq!(minutes, [10, 20, 30]);
    }

    #[tokio::test]
    async fn jump_moves_time_without_waking() {
        let clock = std::sync::Arc::new(VirtualClock::new(t0()));
        let c = clock.clone();
        let task = tokio::spawn(async move {
            c.sleep(Duration::from_secs(60)).await;
            c.done();
            c.now()
        });
        clock.sleeping().await;
        clock.jump(Duration::from_secs(3600));
        assert!(!task.is_finished());
        clock.advance(Duration::ZERO).await;
        let woke = task.await.unwrap_or_default();
        assert_eq!(
            woke,
            t0() + chrono::Duration::seconds(3600),
            "woken late, at the jump"
        );
        assert!(clock.sleep_until(t0()).now_or_never_ready());
    }

    trait ReadyNow {
        fn now_or_never_ready(self) -> bool;
    }
    impl ReadyNow for BoxFuture<'static, ()> {
        fn now_or_never_ready(self) -> bool {
            futures::FutureExt::now_or_never(self).is_some()
        }
    }
}
