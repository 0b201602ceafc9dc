//! The scenarios, each run in its own child process so its peak RSS is its own.
//!
//! - `fresh`: one load with in-batch duplicates into a table that does not exist yet.
//! - `upsert-setup`: builds the base table, one partition per materialization (not measured).
//! - `upsert`: one load, part of whose keys are already in the base table, merged into it.

use std::error::Error;
use std::path::Path;
use std::sync::Mutex;
use std::time::Instant;

use phlo::arrow::array::{AsArray, RecordBatch};
use phlo::arrow::datatypes::Int64Type;
use phlo::chrono::{Days, NaiveDate};
use phlo::prelude::*;
use phlo::{RunReport, RunStatus};
use serde::{Deserialize, Serialize};

use crate::generate::{Load, LoadSpec, generate};
use crate::{Config, Event};

/// A boxed error: the bench propagates everything to `main`.
pub type BoxError = Box<dyn Error>;

/// The asset measured: the README's example, merge with keep-last by `ts`.
pub const MERGE_ASSET: &str = "bench_events";
/// The asset that seeds the base table partition by partition (`replace_partition`).
pub const SEED_ASSET: &str = "bench_events_seed";

/// What the bench hands the next materialization: its partition and batches.
static SLOT: Mutex<Option<(NaiveDate, Vec<RecordBatch>)>> = Mutex::new(None);

pub(crate) fn fill_slot(day: NaiveDate, batches: Vec<RecordBatch>) -> Result<(), BoxError> {
    let mut slot = SLOT.lock().map_err(|_| "bench slot poisoned")?;
    *slot = Some((day, batches));
    Ok(())
}

/// Hands over the batches the bench prepared for this partition (moved, not cloned).
fn take_slot(ctx: &PartitionContext) -> Result<Vec<RecordBatch>, String> {
    let taken = SLOT
        .lock()
        .map_err(|_| "bench slot poisoned".to_string())?
        .take();
    match taken {
        Some((day, batches)) if day == ctx.partition_date() => Ok(batches),
        Some((day, _)) => Err(format!(
            "bench slot holds {day}, asked for {}",
            ctx.partition_date()
        )),
        None => Err("bench slot is empty".into()),
    }
}

/// The measured asset: validate, dedup keep-last by `ts`, merge by `id`.
#[ingestion(table = "events", unique_key = "id", schema = Event, order_by = "ts", dedup = "last")]
async fn bench_events(ctx: &PartitionContext) -> phlo::Result<Vec<RecordBatch>> {
    take_slot(ctx).map_err(phlo::Error::msg)
}

/// Same table, `replace_partition`: seeds the base table of the upsert scenario without
/// the full-table key scan every merge does (setup only, never measured).
#[ingestion(table = "events", unique_key = "id", schema = Event, order_by = "ts",
            merge_strategy = "replace_partition")]
async fn bench_events_seed(ctx: &PartitionContext) -> phlo::Result<Vec<RecordBatch>> {
    take_slot(ctx).map_err(phlo::Error::msg)
}

/// The counters a correct run reports.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Expected {
    /// Rows the function returns.
    pub rows_in: u64,
    /// Rows inserted.
    pub inserted: u64,
    /// Rows updated.
    pub updated: u64,
    /// Matched rows left as they were.
    pub unchanged: u64,
    /// Rows dropped by dedup.
    pub duplicates_dropped: u64,
}

impl Expected {
    fn of(report: &RunReport) -> Self {
        Expected {
            rows_in: report.rows_in,
            inserted: report.rows_inserted,
            updated: report.rows_updated,
            unchanged: report.rows_unchanged,
            duplicates_dropped: report.duplicates_dropped,
        }
    }
}

/// What one scenario measured (the child prints it as JSON).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Outcome {
    /// Scenario name.
    pub scenario: String,
    /// Rows handed to phlo (all materializations).
    pub rows: u64,
    /// Wall time of the materialization(s), recording the run included, seconds.
    pub wall_s: f64,
    /// Time to generate the input (not measured), seconds.
    pub generate_s: f64,
    /// Arrow size of the input batches of one materialization, bytes.
    pub input_arrow_bytes: u64,
    /// RSS right before the measured materialization, bytes.
    pub rss_before_bytes: u64,
    /// Peak RSS while materializing (VmHWM, reset before the step when the kernel allows).
    pub peak_rss_bytes: u64,
    /// Whether the peak was reset before the step (else it is the whole process's peak).
    pub peak_reset: bool,
    /// Peak RSS of the whole child process, generation included, bytes.
    pub process_peak_rss_bytes: u64,
    /// Rows in the table before.
    pub table_rows_before: u64,
    /// Rows in the table after (counted with SQL after the peak was read).
    pub table_rows_after: u64,
    /// What the load implies the reports must say (summed over materializations).
    pub expected: Expected,
    /// The run reports.
    pub reports: Vec<RunReport>,
}

/// A `/proc/self/status` figure, bytes.
fn status_bytes(field: &str) -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix(field)?.strip_prefix(':'))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
        .map_or(0, |kb| kb * 1024)
}

/// Peak RSS of this process so far (VmHWM), bytes.
pub(crate) fn peak_rss_bytes() -> u64 {
    status_bytes("VmHWM")
}

/// Resets VmHWM to the current RSS (`echo 5 > /proc/self/clear_refs`, Linux ≥ 4.0).
pub(crate) fn reset_peak() -> bool {
    std::fs::write("/proc/self/clear_refs", "5").is_ok()
}

pub(crate) fn check(what: &str, report: &RunReport, expected: Expected) -> Result<(), BoxError> {
    if report.status != RunStatus::Success {
        return Err(format!("{what}: run ended {} ({:?})", report.status, report.error).into());
    }
    let got = Expected::of(report);
    if got != expected {
        return Err(format!("{what}: report says {got:?}, the load implies {expected:?}").into());
    }
    Ok(())
}

pub(crate) async fn table_rows(rt: &Runtime) -> Result<u64, BoxError> {
    if rt.store().list_tables().await?.is_empty() {
        return Ok(0);
    }
    let batches = rt.sql("SELECT count(*) FROM bronze.events").await?;
    let n = batches
        .first()
        .and_then(|b| b.column(0).as_primitive_opt::<Int64Type>())
        .filter(|c| !c.is_empty())
        .map_or(0, |c| c.value(0));
    Ok(u64::try_from(n).unwrap_or(0))
}

/// The day of partition `i` of the base table (the measured load goes on day `base`).
pub(crate) fn day(i: u64) -> Result<NaiveDate, BoxError> {
    NaiveDate::from_ymd_opt(2025, 1, 1)
        .and_then(|d| d.checked_add_days(Days::new(i)))
        .ok_or_else(|| "partition day out of range".into())
}

fn round(n: u64, fraction: f64) -> u64 {
    (n as f64 * fraction).round() as u64
}

/// One measured materialization of `load`.
struct Measured {
    report: RunReport,
    wall_s: f64,
    arrow_bytes: u64,
    rss_before: u64,
    peak: u64,
    peak_reset: bool,
}

async fn measure(
    rt: &Runtime,
    asset: &str,
    day: NaiveDate,
    load: Load,
) -> Result<Measured, BoxError> {
    let arrow_bytes = load.arrow_bytes();
    fill_slot(day, load.batches)?;
    let peak_reset = reset_peak();
    let rss_before = status_bytes("VmRSS");
    let t = Instant::now();
    let report = rt.materialize(asset, day).await?;
    let wall_s = t.elapsed().as_secs_f64();
    let peak = status_bytes("VmHWM");
    Ok(Measured {
        report,
        wall_s,
        arrow_bytes,
        rss_before,
        peak,
        peak_reset,
    })
}

pub(crate) fn fresh_dir(dir: &Path) -> Result<(), BoxError> {
    if dir.exists() {
        std::fs::remove_dir_all(dir)?;
    }
    std::fs::create_dir_all(dir)?;
    Ok(())
}

/// `fresh`: `rows` rows, a `dup_fraction` of them repeating a key, into an empty table.
pub async fn fresh(cfg: &Config, warehouse: &Path) -> Result<Outcome, BoxError> {
    fresh_dir(warehouse)?;
    let rt = Runtime::open(warehouse).await?;
    let duplicates = round(cfg.rows, cfg.dup_fraction);
    let spec = LoadSpec {
        day: day(0)?,
        seed: 1,
        new_keys: 0..cfg.rows - duplicates,
        updates: 0,
        existing: 0..0,
        duplicates: duplicates as usize,
        invalid: 0.0,
    };
    let t = Instant::now();
    let load = generate(&spec)?;
    let generate_s = t.elapsed().as_secs_f64();
    let expected = Expected {
        rows_in: load.rows,
        inserted: load.unique_keys,
        updated: 0,
        unchanged: 0,
        duplicates_dropped: load.duplicates,
    };
    let m = measure(&rt, MERGE_ASSET, spec.day, load).await?;
    check("fresh", &m.report, expected)?;
    let process_peak = status_bytes("VmHWM");
    let table_rows_after = table_rows(&rt).await?;
    if table_rows_after != expected.inserted {
        return Err(format!(
            "fresh: table holds {table_rows_after} rows, expected {}",
            expected.inserted
        )
        .into());
    }
    Ok(Outcome {
        scenario: "fresh".into(),
        rows: m.report.rows_in,
        wall_s: m.wall_s,
        generate_s,
        input_arrow_bytes: m.arrow_bytes,
        rss_before_bytes: m.rss_before,
        peak_rss_bytes: m.peak,
        peak_reset: m.peak_reset,
        process_peak_rss_bytes: process_peak.max(m.peak),
        table_rows_before: 0,
        table_rows_after,
        expected,
        reports: vec![m.report],
    })
}

/// `upsert-setup`: `base_partitions` partitions of `rows` unique keys each, keys
/// `p·rows .. (p+1)·rows`, seeded with `replace_partition` (or the merge asset).
pub async fn upsert_setup(cfg: &Config, warehouse: &Path) -> Result<Outcome, BoxError> {
    fresh_dir(warehouse)?;
    let rt = Runtime::open(warehouse).await?;
    let asset = if cfg.seed_with_merge {
        MERGE_ASSET
    } else {
        SEED_ASSET
    };
    let (mut wall_s, mut generate_s, mut arrow) = (0.0, 0.0, 0);
    let mut reports = Vec::new();
    let mut total = Expected::default();
    for p in 0..cfg.base_partitions {
        let spec = LoadSpec {
            day: day(p)?,
            seed: 100 + p,
            new_keys: p * cfg.rows..(p + 1) * cfg.rows,
            updates: 0,
            existing: 0..0,
            duplicates: 0,
            invalid: 0.0,
        };
        let t = Instant::now();
        let load = generate(&spec)?;
        generate_s += t.elapsed().as_secs_f64();
        let expected = Expected {
            rows_in: load.rows,
            inserted: load.rows,
            ..Expected::default()
        };
        let m = measure(&rt, asset, spec.day, load).await?;
        check(
            &format!("setup partition {}", spec.day),
            &m.report,
            expected,
        )?;
        eprintln!(
            "phlo-bench: setup {} ({}): {} rows in {:.2} s",
            spec.day, asset, m.report.rows_in, m.wall_s
        );
        wall_s += m.wall_s;
        arrow = arrow.max(m.arrow_bytes);
        total.rows_in += expected.rows_in;
        total.inserted += expected.inserted;
        reports.push(m.report);
    }
    let peak = status_bytes("VmHWM");
    Ok(Outcome {
        scenario: "upsert-setup".into(),
        rows: total.rows_in,
        wall_s,
        generate_s,
        input_arrow_bytes: arrow,
        rss_before_bytes: 0,
        peak_rss_bytes: peak,
        peak_reset: false,
        process_peak_rss_bytes: peak,
        table_rows_before: 0,
        table_rows_after: table_rows(&rt).await?,
        expected: total,
        reports,
    })
}

/// `upsert`: `rows` rows into the base table: an `update_fraction` of them carry keys
/// drawn from every base partition, a `upsert_dup_fraction` repeat a key of the load,
/// the rest are new keys.
pub async fn upsert(cfg: &Config, warehouse: &Path) -> Result<Outcome, BoxError> {
    let rt = Runtime::open(warehouse).await?;
    let base_rows = cfg.base_partitions * cfg.rows;
    // The base table is counted after the step (before + inserted), not before it: a
    // query here would leave DataFusion's allocations in the measured process.
    if rt.store().list_tables().await?.is_empty() {
        return Err("upsert: no base table: run upsert-setup first".into());
    }
    let table_rows_before = base_rows;
    let duplicates = round(cfg.rows, cfg.upsert_dup_fraction);
    let updates = round(cfg.rows, cfg.update_fraction).min(cfg.rows - duplicates);
    let spec = LoadSpec {
        day: day(cfg.base_partitions)?,
        seed: 7,
        new_keys: base_rows..base_rows + (cfg.rows - duplicates - updates),
        updates: updates as usize,
        existing: 0..base_rows,
        duplicates: duplicates as usize,
        invalid: 0.0,
    };
    let t = Instant::now();
    let load = generate(&spec)?;
    let generate_s = t.elapsed().as_secs_f64();
    // Updated rows move to the new day, so their ts (and row hash) always differ.
    let expected = Expected {
        rows_in: load.rows,
        inserted: load.unique_keys - load.updates,
        updated: load.updates,
        unchanged: 0,
        duplicates_dropped: load.duplicates,
    };
    let m = measure(&rt, MERGE_ASSET, spec.day, load).await?;
    check("upsert", &m.report, expected)?;
    let process_peak = status_bytes("VmHWM");
    let table_rows_after = table_rows(&rt).await?;
    if table_rows_after != base_rows + expected.inserted {
        return Err(format!(
            "upsert: table holds {table_rows_after} rows after, expected {}",
            base_rows + expected.inserted
        )
        .into());
    }
    Ok(Outcome {
        scenario: "upsert".into(),
        rows: m.report.rows_in,
        wall_s: m.wall_s,
        generate_s,
        input_arrow_bytes: m.arrow_bytes,
        rss_before_bytes: m.rss_before,
        peak_rss_bytes: m.peak,
        peak_reset: m.peak_reset,
        process_peak_rss_bytes: process_peak.max(m.peak),
        table_rows_before,
        table_rows_after,
        expected,
        reports: vec![m.report],
    })
}
