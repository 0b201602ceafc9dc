//! One scheduler per warehouse: `<warehouse>/_phlo/scheduler.lock` holds the holder's pid,
//! host, start and heartbeat (JSON). A lock is **stale** — and taken over — when its
//! process is dead on this host, or its heartbeat is older than the stale threshold (a
//! holder on another host, or a hung one). The decision is pure ([`decide`]); the file
//! work is in [`SchedulerLock`].

use std::path::{Path, PathBuf};
use std::time::Duration;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::{Error, Result};

/// What the lock file says.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LockInfo {
    /// The holder's process id.
    pub pid: u32,
    /// The holder's host name.
    pub host: String,
    /// When it took the lock.
    pub started_at: DateTime<Utc>,
    /// Its last heartbeat.
    pub heartbeat: DateTime<Utc>,
    /// A token unique to this holding (two schedulers in one process differ by it).
    pub token: String,
}

impl std::fmt::Display for LockInfo {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "pid {} on {}, started {}, last heartbeat {}",
            self.pid,
            self.host,
            self.started_at.to_rfc3339(),
            self.heartbeat.to_rfc3339()
        )
    }
}

/// Why a lock is stale.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StaleReason {
    /// Its process no longer runs on this host.
    DeadProcess,
    /// Its heartbeat is older than the threshold.
    OldHeartbeat,
    /// The file could not be read as a lock (a crash while writing it).
    Unreadable,
}

/// What to do about the lock file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LockDecision {
    /// No lock: take it.
    Free,
    /// Held by a live scheduler: refuse.
    Held(LockInfo),
    /// Held by a gone one: take it over.
    Stale(StaleReason),
}

/// Decides about an existing lock file (`None`: none; `Some(None)`: unreadable), seen from
/// `host` at `now`.
pub fn decide(
    existing: Option<Option<&LockInfo>>,
    host: &str,
    now: DateTime<Utc>,
    stale_after: Duration,
    alive: impl Fn(u32) -> bool,
) -> LockDecision {
    let Some(existing) = existing else {
        return LockDecision::Free;
    };
    let Some(info) = existing else {
        return LockDecision::Stale(StaleReason::Unreadable);
    };
    if info.host == host && !alive(info.pid) {
        return LockDecision::Stale(StaleReason::DeadProcess);
    }
    let age = (now - info.heartbeat).to_std().unwrap_or(Duration::ZERO);
    if age > stale_after {
        return LockDecision::Stale(StaleReason::OldHeartbeat);
    }
    LockDecision::Held(info.clone())
}

/// This machine's host name.
pub fn host_name() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .ok()
        .map(|h| h.trim().to_string())
        .filter(|h| !h.is_empty())
        .or_else(|| std::env::var("HOSTNAME").ok())
        .unwrap_or_else(|| "localhost".to_string())
}

/// Whether process `pid` runs on this host (`/proc/<pid>` exists). Where `/proc` is
/// absent every process counts as alive, and only the heartbeat makes a lock stale.
pub fn process_alive(pid: u32) -> bool {
    let proc_dir = Path::new("/proc");
    !proc_dir.join("self").exists() || proc_dir.join(pid.to_string()).exists()
}

/// A held lock; released by [`SchedulerLock::release`] (or left for the stale check).
#[derive(Debug)]
pub struct SchedulerLock {
    path: PathBuf,
    info: LockInfo,
}

fn io_error(path: &Path, source: std::io::Error) -> Error {
    Error::Core(phlo_core::Error::Io {
        path: path.display().to_string(),
        source,
    })
}

fn read(path: &Path) -> Result<Option<Option<LockInfo>>> {
    match std::fs::read_to_string(path) {
        Ok(text) => Ok(Some(serde_json::from_str(&text).ok())),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(io_error(path, e)),
    }
}

/// Writes `info` beside `path` and links it into place: the lock appears whole or not at
/// all, and only when no lock file exists (`replace = false`), or replaces it.
fn write(path: &Path, info: &LockInfo, replace: bool) -> Result<bool> {
    let tmp = path.with_extension(format!("lock.{}.tmp", info.token));
    let json = serde_json::to_string(info)?;
    std::fs::write(&tmp, json).map_err(|e| io_error(&tmp, e))?;
    let placed = if replace {
        std::fs::rename(&tmp, path).map_err(|e| io_error(path, e))?;
        true
    } else {
        let linked = std::fs::hard_link(&tmp, path);
        let _ = std::fs::remove_file(&tmp);
        match linked {
            Ok(()) => true,
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => false,
            Err(e) => return Err(io_error(path, e)),
        }
    };
    Ok(placed)
}

impl SchedulerLock {
    /// The lock file of a warehouse.
    pub fn path_in(warehouse: &Path) -> PathBuf {
        warehouse.join("_phlo").join("scheduler.lock")
    }

    /// Takes the warehouse's lock at `now`, taking over a stale one; refuses with
    /// [`Error::SchedulerLocked`] naming the holder when a live scheduler has it.
    pub fn acquire(warehouse: &Path, now: DateTime<Utc>, stale_after: Duration) -> Result<Self> {
        let path = Self::path_in(warehouse);
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).map_err(|e| io_error(dir, e))?;
        }
        let info = LockInfo {
            pid: std::process::id(),
            host: host_name(),
            started_at: now,
            heartbeat: now,
            token: uuid_token(),
        };
        // Twice: a stale lock is removed, then taken like a free one (a racing scheduler
        // that links first wins, and this one is refused).
        for _ in 0..2 {
            if write(&path, &info, false)? {
                tracing::info!(path = %path.display(), pid = info.pid, host = %info.host, "scheduler lock taken");
                return Ok(SchedulerLock { path, info });
            }
            let existing = read(&path)?;
            match decide(
                existing.as_ref().map(Option::as_ref),
                &info.host,
                now,
                stale_after,
                process_alive,
            ) {
                LockDecision::Free => continue,
                LockDecision::Held(holder) => {
                    return Err(Error::SchedulerLocked {
                        path: path.display().to_string(),
                        holder: holder.to_string(),
                    });
                }
                LockDecision::Stale(reason) => {
                    tracing::warn!(path = %path.display(), ?reason, previous = ?existing.flatten(), "stale scheduler lock taken over");
                    match std::fs::remove_file(&path) {
                        Ok(()) => {}
                        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                        Err(e) => return Err(io_error(&path, e)),
                    }
                }
            }
        }
        let holder = read(&path)?
            .flatten()
            .map_or_else(|| "unknown".to_string(), |h| h.to_string());
        Err(Error::SchedulerLocked {
            path: path.display().to_string(),
            holder,
        })
    }

    /// What this lock says.
    pub fn info(&self) -> &LockInfo {
        &self.info
    }

    /// Records a heartbeat at `now`. Fails with [`Error::SchedulerLocked`] when the lock is
    /// no longer this scheduler's (taken over as stale): the scheduler must stop.
    pub fn heartbeat(&mut self, now: DateTime<Utc>) -> Result<()> {
        match read(&self.path)? {
            Some(Some(current)) if current.token == self.info.token => {}
            other => {
                return Err(Error::SchedulerLocked {
                    path: self.path.display().to_string(),
                    holder: other.flatten().map_or_else(
                        || "nobody (the lock file is gone)".into(),
                        |h| h.to_string(),
                    ),
                });
            }
        }
        self.info.heartbeat = now;
        write(&self.path, &self.info, true)?;
        Ok(())
    }

    /// Removes the lock file if it is still this scheduler's.
    pub fn release(self) -> Result<()> {
        if let Some(Some(current)) = read(&self.path)?
            && current.token == self.info.token
        {
            std::fs::remove_file(&self.path).map_err(|e| io_error(&self.path, e))?;
            tracing::info!(path = %self.path.display(), "scheduler lock released");
        }
        Ok(())
    }
}

fn uuid_token() -> String {
    use std::sync::atomic::{AtomicU64, Ordering};
    static NEXT: AtomicU64 = AtomicU64::new(0);
    let n = NEXT.fetch_add(1, Ordering::Relaxed);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    format!("{}-{nanos:x}-{n}", std::process::id())
}
