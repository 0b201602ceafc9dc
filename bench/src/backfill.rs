//! Backfill scenarios (`--only backfill`), each in its own child process:
//!
//! - `backfill-daily-1` / `backfill-daily-2`: a `--days`-partition (365) daily backfill of
//!   `--day-rows` (1,000) rows a partition into one table through
//!   `Runtime::backfill_selection`, at `--parallel 1` (phlo's overhead per partition:
//!   `total_ms − fetch_ms`, median and p90) and at 2 (wall time against 1).
//! - `backfill-hourly`: 10,000 hourly partitions of 10 rows: it completes (every
//!   partition succeeds, `_phlo.runs` read once), and its peak RSS.

use std::path::Path;
use std::sync::Arc;
use std::time::Instant;

use phlo::chrono::{Duration, NaiveDate, TimeZone};
use phlo::prelude::*;
use phlo::{BackfillOptions, FixedClock, Registry, SequentialRunIds};
use serde::{Deserialize, Serialize};

use crate::Config;
use crate::scenario::{BoxError, peak_rss_bytes};

/// Partitions of the hourly scenario.
pub const HOURS: u64 = 10_000;

/// Rows a partition of the hourly scenario.
pub const HOUR_ROWS: u64 = 10;

/// The backfilled rows.
#[derive(Schema)]
pub struct BackfillRow {
    /// Key.
    #[phlo(unique)]
    id: String,
    /// A value.
    value: f64,
}

/// `--day-rows` rows a day, read from the bench's size (a static: the asset has no state).
static DAY_ROWS: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(1_000);

fn rows(prefix: String, n: u64) -> Vec<BackfillRow> {
    (0..n)
        .map(|i| BackfillRow {
            id: format!("{prefix}-{i}"),
            value: i as f64,
        })
        .collect()
}

/// A daily partition of `--day-rows` rows.
#[ingestion(table = "bench_backfill_days", unique_key = "id", schema = BackfillRow,
            partitions = daily(start = "2024-01-01"))]
async fn bench_backfill_days(ctx: &PartitionContext) -> phlo::Result<Vec<BackfillRow>> {
    let n = DAY_ROWS.load(std::sync::atomic::Ordering::Relaxed);
    Ok(rows(ctx.partition_date().to_string(), n))
}

/// An hourly partition of ten rows.
#[ingestion(table = "bench_backfill_hours", unique_key = "id", schema = BackfillRow,
            partitions = hourly(start = "2024-01-01T00"))]
async fn bench_backfill_hours(ctx: &PartitionContext) -> phlo::Result<Vec<BackfillRow>> {
    let start = ctx.window_start().unwrap_or_default();
    Ok(rows(start.format("%Y-%m-%dT%H").to_string(), HOUR_ROWS))
}

/// What one backfill scenario measured.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct BackfillRun {
    /// The scenario.
    pub scenario: String,
    /// Partitions backfilled.
    pub partitions: usize,
    /// Partitions that succeeded.
    pub succeeded: usize,
    /// `--parallel`.
    pub parallel: usize,
    /// Wall time of the whole backfill.
    pub wall_ms: f64,
    /// phlo's own time per partition (`total_ms − fetch_ms`), median.
    pub overhead_median_ms: f64,
    /// The same, 90th percentile.
    pub overhead_p90_ms: f64,
    /// Peak RSS of the process.
    pub peak_rss_bytes: u64,
}

async fn runtime(warehouse: &Path, asset: &str) -> Result<Runtime, BoxError> {
    let now = Utc
        .with_ymd_and_hms(2026, 6, 1, 0, 0, 0)
        .single()
        .ok_or("bad clock instant")?;
    let descriptor = Registry::global()?.get(asset)?.descriptor;
    Ok(Runtime::builder(warehouse)
        .registry(Registry::from_descriptors([descriptor])?)
        .clock(Arc::new(FixedClock::new(now)))
        .run_ids(Arc::new(SequentialRunIds::new("bench")))
        .build()
        .await?)
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let i = ((sorted.len() - 1) as f64 * p).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}

async fn measure(
    name: &str,
    rt: &Runtime,
    asset: &str,
    (from, to): (String, String),
    parallel: usize,
) -> Result<BackfillRun, BoxError> {
    let t0 = Instant::now();
    let report = rt
        .backfill_selection(
            asset,
            &from,
            &to,
            &BackfillOptions::new().parallel(parallel),
        )
        .await?;
    let wall_ms = t0.elapsed().as_secs_f64() * 1000.0;
    let mut overhead: Vec<f64> = report
        .runs
        .iter()
        .map(|r| r.timings.total_ms - r.timings.fetch_ms)
        .collect();
    overhead.sort_by(f64::total_cmp);
    Ok(BackfillRun {
        scenario: name.to_string(),
        partitions: report.partitions.len(),
        succeeded: report.counts().succeeded,
        parallel,
        wall_ms,
        overhead_median_ms: percentile(&overhead, 0.5),
        overhead_p90_ms: percentile(&overhead, 0.9),
        peak_rss_bytes: peak_rss_bytes(),
    })
}

/// `backfill-daily-N`: `--days` daily partitions of `--day-rows` rows at `--parallel N`.
pub async fn daily(
    cfg: &Config,
    warehouse: &Path,
    parallel: usize,
) -> Result<BackfillRun, BoxError> {
    DAY_ROWS.store(cfg.day_rows, std::sync::atomic::Ordering::Relaxed);
    let rt = runtime(warehouse, "bench_backfill_days").await?;
    let first = NaiveDate::from_ymd_opt(2024, 1, 1).ok_or("bad date")?;
    let last = first + Duration::days(cfg.days.saturating_sub(1) as i64);
    let name = format!("backfill-daily-{parallel}");
    measure(
        &name,
        &rt,
        "bench_backfill_days",
        (first.to_string(), last.to_string()),
        parallel,
    )
    .await
}

/// `backfill-hourly`: 10,000 hourly partitions of ten rows at the default parallelism.
pub async fn hourly(warehouse: &Path) -> Result<BackfillRun, BoxError> {
    let rt = runtime(warehouse, "bench_backfill_hours").await?;
    let first = Utc
        .with_ymd_and_hms(2024, 1, 1, 0, 0, 0)
        .single()
        .ok_or("bad instant")?;
    let last = first + Duration::hours(HOURS as i64 - 1);
    let key = |t: DateTime<Utc>| t.format("%Y-%m-%dT%H").to_string();
    let parallel = BackfillOptions::new().parallelism();
    measure(
        "backfill-hourly",
        &rt,
        "bench_backfill_hours",
        (key(first), key(last)),
        parallel,
    )
    .await
}

/// Runs the three scenarios in child processes and prints their figures.
pub fn run(cfg: &Config, root: &Path) -> Result<Vec<BackfillRun>, BoxError> {
    let mut runs: Vec<BackfillRun> = Vec::new();
    for name in ["backfill-daily-1", "backfill-daily-2", "backfill-hourly"] {
        crate::settle();
        runs.push(crate::spawn(cfg, name, &root.join(name))?);
    }
    println!(
        "scenario           partitions  ok      parallel  wall (s)  phlo ms/partition (median, p90)  peak RSS (MiB)"
    );
    for r in &runs {
        println!(
            "{:<18} {:>10}  {:>6}  {:>8}  {:>8.1}  {:>14.1}, {:>6.1}  {:>14.0}",
            r.scenario,
            r.partitions,
            r.succeeded,
            r.parallel,
            r.wall_ms / 1000.0,
            r.overhead_median_ms,
            r.overhead_p90_ms,
            r.peak_rss_bytes as f64 / (1024.0 * 1024.0)
        );
    }
    if let (Some(one), Some(two)) = (runs.first(), runs.get(1)) {
        println!(
            "daily backfill wall time at --parallel 2 / --parallel 1: {:.2}",
            two.wall_ms / one.wall_ms.max(f64::MIN_POSITIVE)
        );
    }
    Ok(runs)
}
