//! Time and run ids are injected, so the same input gives the same table.

use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use chrono::{DateTime, Utc};
use futures::future::BoxFuture;

/// The source of "now" and of waiting.
pub trait Clock: Send + Sync + std::fmt::Debug {
    /// The current instant.
    fn now(&self) -> DateTime<Utc>;
    /// Waits for `duration` (retry backoff).
    fn sleep(&self, duration: Duration) -> BoxFuture<'static, ()>;
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
