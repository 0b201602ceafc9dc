//! The quality benchmark: the seven checks of the `#[quality]` example over the base table
//! (`--base-partitions` × `--rows` rows), scoped to one partition and to the full table.
//! Runs in its own child process (`--scenario checks`) so its peak RSS is its own.

use std::path::Path;
use std::time::Instant;

use phlo::Runtime;
use phlo::arrow::array::{Array, Date32Array};
use phlo::prelude::{DateTime, Utc};
use phlo::quality::{
    Check, CheckScope, CountCheck, CustomSqlCheck, FreshnessCheck, NullCheck, RangeCheck,
    SchemaCheck, ScopeWindow, UniqueCheck, run_checks,
};
use serde::{Deserialize, Serialize};

use crate::Event;
use crate::scenario::{BoxError, peak_rss_bytes, reset_peak};

/// One check's figures.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct CheckTiming {
    /// Result name.
    pub check: String,
    /// Wall time, milliseconds.
    pub ms: f64,
    /// Whether it passed.
    pub passed: bool,
    /// Rows in its denominator.
    pub total: u64,
}

/// All seven checks over one scope.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ScopeRun {
    /// `partition` or `full table`.
    pub scope: String,
    /// Rows in the scope.
    pub rows: u64,
    /// Wall time of the seven checks, seconds.
    pub wall_s: f64,
    /// Peak RSS during the checks, bytes.
    pub peak_rss_bytes: u64,
    /// Per check.
    pub checks: Vec<CheckTiming>,
}

fn seven() -> Vec<Box<dyn Check>> {
    vec![
        Box::new(NullCheck::new(["id", "ts"])),
        Box::new(
            RangeCheck::new("value")
                .min(0.0)
                .max(100.0)
                .allow_threshold(0.01),
        ),
        Box::new(UniqueCheck::new(["id"])),
        Box::new(CountCheck::new().min_rows(1)),
        Box::new(FreshnessCheck::new("ts").max_age_hours(24).warn()),
        Box::new(SchemaCheck::of::<Event>()),
        Box::new(
            CustomSqlCheck::new(
                "no_negative",
                "SELECT count(*) FROM bronze.events WHERE value < 0",
            )
            .expect(0),
        ),
    ]
}

/// Runs the seven checks over `warehouse`'s `bronze.events`, per scope.
pub async fn run(warehouse: &Path) -> Result<Vec<ScopeRun>, BoxError> {
    let rt = Runtime::open(warehouse).await?;
    let ctx = rt.session().await?;
    let first = ctx
        .sql("SELECT min(_phlo_partition_date) FROM bronze.events")
        .await?
        .collect()
        .await?;
    let day = first
        .first()
        .and_then(|b| {
            b.column(0)
                .as_any()
                .downcast_ref::<Date32Array>()
                .map(|a| a.value_as_date(0))
        })
        .flatten()
        .ok_or("bronze.events is empty")?;
    let now: DateTime<Utc> = day.and_hms_opt(23, 59, 0).unwrap_or_default().and_utc();
    let mut runs = Vec::new();
    for (label, window) in [
        ("partition", ScopeWindow::Partition(day.into())),
        ("full table", ScopeWindow::Full),
    ] {
        let scope = CheckScope::new(
            ctx.clone(),
            "bronze.events",
            window,
            "_phlo_partition_date",
            now,
            vec!["id".into()],
        );
        let checks = seven();
        reset_peak();
        let started = Instant::now();
        let report = run_checks(&checks, &scope).await?;
        let wall_s = started.elapsed().as_secs_f64();
        let peak = peak_rss_bytes();
        let rows = report
            .results
            .iter()
            .find(|r| r.name.starts_with("null_check"))
            .map_or(0, |r| r.total_count);
        for r in &report.results {
            if r.message
                .as_deref()
                .is_some_and(|m| m.contains("does not exist") || m.contains("failed:"))
            {
                return Err(format!("check {} could not run: {:?}", r.name, r.message).into());
            }
        }
        runs.push(ScopeRun {
            scope: label.into(),
            rows,
            wall_s,
            peak_rss_bytes: peak,
            checks: report
                .results
                .iter()
                .map(|r| CheckTiming {
                    check: r.name.clone(),
                    ms: r.elapsed_ms,
                    passed: r.passed,
                    total: r.total_count,
                })
                .collect(),
        });
    }
    Ok(runs)
}

/// Prints the checks' table.
pub fn print(runs: &[ScopeRun]) {
    println!();
    println!("quality checks (seven checks; target: all seven on 10M rows ≤ 2 s)");
    println!(
        "{:<11} {:>11} {:>8} {:>10}  per check (ms)",
        "scope", "rows", "wall s", "peak MiB"
    );
    for r in runs {
        let per: Vec<String> = r
            .checks
            .iter()
            .map(|c| format!("{} {:.0}", c.check, c.ms))
            .collect();
        println!(
            "{:<11} {:>11} {:>8.2} {:>10.0}  {}",
            r.scope,
            r.rows,
            r.wall_s,
            r.peak_rss_bytes as f64 / (1024.0 * 1024.0),
            per.join(", ")
        );
    }
}
