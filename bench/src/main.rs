//! `phlo-bench`: release-mode benchmark of phlo's ingestion path.
//!
//! ```text
//! cargo run --release -p phlo-bench                 # 1M fresh; 1M upsert into 10M
//! cargo run --release -p phlo-bench -- --quick      # a tenth of the size
//! ```
//!
//! Scenarios (each in a child process: this binary re-executed with `--scenario NAME`,
//! reporting JSON on stdout, so peak RSS is per scenario):
//!
//! - `fresh`: `--rows` rows, 10% of them in-batch duplicate keys, validated, deduplicated
//!   (keep last by `ts`) and merged into a table that does not exist yet.
//! - `upsert-setup`: a base table of `--base-partitions` daily partitions of `--rows`
//!   unique keys each, seeded through phlo (not measured).
//! - `upsert`: `--rows` rows on a new day, 30% of whose keys already exist in the base
//!   table (spread over every partition), merged into it.
//! - runtime overhead on small daily partitions (`--only overhead`; see `overhead.rs`):
//!   `no-other-tables` / `other-tables-setup` / `other-tables` (`--only tables`): one
//!   1,000-row partition into an empty warehouse against one holding 300 other Delta
//!   tables, plus a control (`one-other-table-setup` / `one-other-table`: one other table
//!   written by 300 runs, so `_phlo.runs` is as long); `history` (`--only history`): a
//!   365-day sequential backfill of 1,000 rows a day into one table, first 30 against last
//!   30 partitions, and phlo's own time per partition (`total_ms − fetch_ms −` an arrow-rs
//!   Parquet encode of the same rows).
//! - backfills (`--only backfill`; see `backfill.rs`): a 365-day backfill of 1,000 rows a
//!   day at `--parallel` 1 and 2, and 10,000 hourly partitions of 10 rows (peak RSS).
//! - `scheduler-idle` (`--only idle`; see `idle.rs`): the CPU time `serve` spends over
//!   `--idle-seconds N` (60) of wall time with nothing due.
//! - `graph` (`--only graph`; see `graph.rs`): a generated project of `--models N` (200)
//!   SQL models in layers over one seed: load, template, plan and validate it, and plan
//!   every model's query over its materialized upstreams (`--graph-repeat N` rounds, 20);
//!   phlo's overhead per asset in a `build` of the graph (everything but query and write).
//!
//! Flags: `--rows N` (1,000,000), `--base-partitions N` (10), `--quick` (rows / 10),
//! `--json PATH`, `--warehouse DIR` (default: a temporary directory next to the binary,
//! under `target/`, removed afterwards), `--only fresh|upsert|tables|history|overhead|backfill|idle|graph`
//! (`overhead` = `tables` and `history`), `--repeat N` (1: measured
//! runs per scenario, the median by wall time is shown; the upsert's base table is built
//! once and copied before each run), `--dup-fraction F` (0.1), `--update-fraction F`
//! (0.3), `--upsert-dup-fraction F` (0), `--seed-with-merge` (build the base table with
//! the merge asset instead of `replace_partition`). Overhead sizes: `--days N` (365),
//! `--other-tables N` (300), `--samples N` (20 measured partitions per case of the
//! other-tables figure), `--day-rows N` (1,000); `--quick` makes them 60, 50 and 10
//! unless given. Graph: `--models N` (200), `--graph-repeat N` (20; `--quick`: 5).
//!
//! Targets (2-core machine): fresh ≥ 1M rows/s end to end; 1M-row upsert into 10M ≤ 5 s
//! (scaled linearly with `--rows`); peak RSS ≤ 3× the Arrow size of the input batches;
//! 300 other tables cost ≤ 1.2× an empty warehouse; the last 30 of 365 days ≤ 1.5× the
//! first 30; phlo's own time per 1,000-row partition < 20 ms (median and p90); a graph of
//! 200 SQL models loads, templates, plans and validates in < 1 s; phlo's overhead per
//! asset in `build` < 20 ms.

mod backfill;
mod checks;
mod compare;
mod generate;
mod graph;
mod idle;
mod overhead;
mod report;
mod scenario;

use std::error::Error;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use phlo::Schema;
use phlo::prelude::{DateTime, Utc};
use serde::Serialize;

use crate::overhead::Others;
use crate::scenario::{BoxError, Outcome};

/// The README's example contract.
#[derive(Schema)]
struct Event {
    /// Key.
    #[phlo(unique)]
    id: String,
    /// Event time, within the partition's day.
    ts: DateTime<Utc>,
    /// A percentage.
    #[phlo(ge = 0.0, le = 100.0)]
    value: f64,
    /// One of four categories.
    #[phlo(isin = ["a", "b", "c", "d"])]
    category: String,
    /// Free text, null half the time.
    note: Option<String>,
}

/// Sizes and options of a bench run.
#[derive(Debug, Clone, Serialize)]
pub struct Config {
    /// Rows per load (and per base partition).
    pub rows: u64,
    /// Partitions of the upsert's base table.
    pub base_partitions: u64,
    /// Fraction of the fresh load's rows repeating a key.
    pub dup_fraction: f64,
    /// Fraction of the upsert load's rows whose key is already in the table.
    pub update_fraction: f64,
    /// Fraction of the upsert load's rows repeating a key of the load.
    pub upsert_dup_fraction: f64,
    /// Seed the base table with the merge asset instead of `replace_partition`.
    pub seed_with_merge: bool,
    /// Warehouse root (`None`: a temporary directory).
    pub warehouse: Option<PathBuf>,
    /// Also write the results here.
    pub json: Option<PathBuf>,
    /// Run only this scenario group (`fresh` or `upsert`).
    pub only: Option<String>,
    /// Measured runs per scenario (the median by wall time is shown).
    pub repeat: usize,
    /// Overhead: days of the history backfill.
    pub days: u64,
    /// Overhead: other tables in the warehouse of the first figure.
    pub other_tables: u64,
    /// Overhead: measured partitions per case of the first figure.
    pub samples: u64,
    /// Overhead: rows per daily partition.
    pub day_rows: u64,
    /// `--quick` was given (sizes scaled down; printed with the targets).
    pub quick: bool,
    /// Idle scheduler: seconds measured.
    pub idle_seconds: u64,
    /// Graph: SQL models generated.
    pub graph_models: usize,
    /// Graph: rounds of load and plan.
    pub graph_repeat: usize,
    /// Internal: run this scenario and print its outcome as JSON.
    #[serde(skip)]
    pub scenario: Option<String>,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            rows: 1_000_000,
            base_partitions: 10,
            dup_fraction: 0.10,
            update_fraction: 0.30,
            upsert_dup_fraction: 0.0,
            seed_with_merge: false,
            warehouse: None,
            json: None,
            only: None,
            repeat: 1,
            days: overhead::FULL_DAYS,
            other_tables: overhead::FULL_OTHER_TABLES,
            samples: overhead::FULL_SAMPLES,
            day_rows: overhead::DAY_ROWS,
            quick: false,
            idle_seconds: idle::DEFAULT_SECONDS,
            graph_models: graph::FULL_MODELS,
            graph_repeat: graph::FULL_REPEAT,
            scenario: None,
        }
    }
}

const USAGE: &str = "usage: phlo-bench [--rows N] [--base-partitions N] [--quick] [--json PATH] \
[--warehouse DIR] [--only fresh|upsert|tables|history|overhead|backfill|idle|graph] [--idle-seconds N] [--repeat N] [--dup-fraction F] \
[--update-fraction F] [--upsert-dup-fraction F] [--seed-with-merge] [--days N] [--other-tables N] \
[--samples N] [--day-rows N] [--models N] [--graph-repeat N]";

/// Values of `--only`.
const GROUPS: [&str; 8] = [
    "fresh", "upsert", "tables", "history", "overhead", "backfill", "idle", "graph",
];

fn parse_args(args: impl IntoIterator<Item = String>) -> Result<Config, BoxError> {
    let mut cfg = Config::default();
    let mut quick = false;
    let (mut days, mut other_tables, mut samples) = (None, None, None);
    let mut graph_repeat = None;
    let mut args = args.into_iter();
    while let Some(flag) = args.next() {
        let mut value = || {
            args.next()
                .ok_or_else(|| format!("{flag} needs a value\n{USAGE}"))
        };
        match flag.as_str() {
            "--rows" => cfg.rows = value()?.replace('_', "").parse()?,
            "--base-partitions" => cfg.base_partitions = value()?.parse()?,
            "--dup-fraction" => cfg.dup_fraction = value()?.parse()?,
            "--update-fraction" => cfg.update_fraction = value()?.parse()?,
            "--upsert-dup-fraction" => cfg.upsert_dup_fraction = value()?.parse()?,
            "--json" => cfg.json = Some(value()?.into()),
            "--warehouse" => cfg.warehouse = Some(value()?.into()),
            "--only" => cfg.only = Some(value()?),
            "--repeat" => cfg.repeat = value()?.parse()?,
            "--scenario" => cfg.scenario = Some(value()?),
            "--idle-seconds" => cfg.idle_seconds = value()?.parse()?,
            "--seed-with-merge" => cfg.seed_with_merge = true,
            "--days" => days = Some(value()?.parse()?),
            "--other-tables" => other_tables = Some(value()?.parse()?),
            "--samples" => samples = Some(value()?.parse()?),
            "--day-rows" => cfg.day_rows = value()?.replace('_', "").parse()?,
            "--models" => cfg.graph_models = value()?.parse()?,
            "--graph-repeat" => graph_repeat = Some(value()?.parse()?),
            "--quick" => quick = true,
            "-h" | "--help" => {
                println!("{USAGE}");
                std::process::exit(0);
            }
            other => return Err(format!("unknown argument `{other}`\n{USAGE}").into()),
        }
    }
    if quick {
        cfg.rows = (cfg.rows / 10).max(1);
        cfg.quick = true;
    }
    cfg.days = days.unwrap_or(if quick { 60 } else { cfg.days });
    cfg.other_tables = other_tables.unwrap_or(if quick { 50 } else { cfg.other_tables });
    cfg.samples = samples.unwrap_or(if quick { 10 } else { cfg.samples });
    cfg.graph_repeat = graph_repeat.unwrap_or(if quick { 5 } else { cfg.graph_repeat });
    if cfg.graph_models == 0 || cfg.graph_repeat == 0 {
        return Err("--models and --graph-repeat must be positive".into());
    }
    for f in [
        cfg.dup_fraction,
        cfg.update_fraction,
        cfg.upsert_dup_fraction,
    ] {
        if !(0.0..1.0).contains(&f) {
            return Err(format!("fractions must be in [0, 1), got {f}").into());
        }
    }
    if cfg.rows == 0 || cfg.base_partitions == 0 || cfg.repeat == 0 {
        return Err("--rows, --base-partitions and --repeat must be positive".into());
    }
    if cfg.days < 2 || cfg.samples == 0 || cfg.day_rows == 0 {
        return Err("--days must be at least 2, --samples and --day-rows positive".into());
    }
    if let Some(only) = &cfg.only
        && !GROUPS.contains(&only.as_str())
    {
        return Err(format!("--only takes {}, got `{only}`", GROUPS.join(", ")).into());
    }
    Ok(cfg)
}

/// Runs one scenario in this process and prints its outcome as one JSON line.
async fn child(cfg: &Config, name: &str) -> Result<(), BoxError> {
    let warehouse = cfg
        .warehouse
        .clone()
        .ok_or("--scenario needs --warehouse")?;
    if name == "scheduler-idle" {
        let outcome = idle::run(&warehouse, cfg.idle_seconds).await?;
        println!("{}", serde_json::to_string(&outcome)?);
        return Ok(());
    }
    if name == "graph" {
        let outcome = graph::run(cfg, &warehouse).await?;
        println!("{}", serde_json::to_string(&outcome)?);
        return Ok(());
    }
    if name == "checks" {
        let runs = checks::run(&warehouse).await?;
        println!("{}", serde_json::to_string(&runs)?);
        return Ok(());
    }
    let sampled = match name {
        "no-other-tables" => Some(overhead::tables(cfg, &warehouse, Others::None).await?),
        "other-tables-setup" => Some(overhead::tables_setup(cfg, &warehouse, Others::Many).await?),
        "other-tables" => Some(overhead::tables(cfg, &warehouse, Others::Many).await?),
        "one-other-table-setup" => {
            Some(overhead::tables_setup(cfg, &warehouse, Others::Control).await?)
        }
        "one-other-table" => Some(overhead::tables(cfg, &warehouse, Others::Control).await?),
        "history" => Some(overhead::history(cfg, &warehouse).await?),
        _ => None,
    };
    let backfilled = match name {
        "backfill-daily-1" => Some(backfill::daily(cfg, &warehouse, 1).await?),
        "backfill-daily-2" => Some(backfill::daily(cfg, &warehouse, 2).await?),
        "backfill-hourly" => Some(backfill::hourly(&warehouse).await?),
        _ => None,
    };
    if let Some(b) = backfilled {
        println!("{}", serde_json::to_string(&b)?);
        return Ok(());
    }
    if let Some(s) = sampled {
        println!("{}", serde_json::to_string(&s)?);
        return Ok(());
    }
    let outcome = match name {
        "fresh" => scenario::fresh(cfg, &warehouse).await?,
        "upsert-setup" => scenario::upsert_setup(cfg, &warehouse).await?,
        "upsert" => scenario::upsert(cfg, &warehouse).await?,
        other => return Err(format!("unknown scenario `{other}`").into()),
    };
    println!("{}", serde_json::to_string(&outcome)?);
    Ok(())
}

/// Re-executes this binary for scenario `name` over `warehouse`.
fn spawn<T: serde::de::DeserializeOwned>(
    cfg: &Config,
    name: &str,
    warehouse: &Path,
) -> Result<T, BoxError> {
    eprintln!("phlo-bench: running {name} ...");
    let exe = std::env::current_exe()?;
    let mut cmd = Command::new(exe);
    cmd.arg("--scenario")
        .arg(name)
        .arg("--warehouse")
        .arg(warehouse)
        .arg("--rows")
        .arg(cfg.rows.to_string())
        .arg("--base-partitions")
        .arg(cfg.base_partitions.to_string())
        .arg("--dup-fraction")
        .arg(cfg.dup_fraction.to_string())
        .arg("--update-fraction")
        .arg(cfg.update_fraction.to_string())
        .arg("--upsert-dup-fraction")
        .arg(cfg.upsert_dup_fraction.to_string())
        .arg("--days")
        .arg(cfg.days.to_string())
        .arg("--other-tables")
        .arg(cfg.other_tables.to_string())
        .arg("--samples")
        .arg(cfg.samples.to_string())
        .arg("--idle-seconds")
        .arg(cfg.idle_seconds.to_string())
        .arg("--day-rows")
        .arg(cfg.day_rows.to_string())
        .arg("--models")
        .arg(cfg.graph_models.to_string())
        .arg("--graph-repeat")
        .arg(cfg.graph_repeat.to_string())
        .stdin(Stdio::null())
        .stderr(Stdio::inherit());
    if cfg.seed_with_merge {
        cmd.arg("--seed-with-merge");
    }
    let out = cmd.output()?;
    if !out.status.success() {
        return Err(format!("scenario {name} failed ({})", out.status).into());
    }
    let stdout = String::from_utf8(out.stdout)?;
    let line = stdout
        .lines()
        .rev()
        .find(|l| l.starts_with('{') || l.starts_with('['))
        .ok_or_else(|| format!("scenario {name} printed no result"))?;
    Ok(serde_json::from_str(line)?)
}

/// The run with the median wall time.
fn median(runs: &[Outcome]) -> Result<Outcome, BoxError> {
    let mut sorted: Vec<&Outcome> = runs.iter().collect();
    sorted.sort_by(|a, b| a.wall_s.total_cmp(&b.wall_s));
    sorted
        .get(sorted.len() / 2)
        .map(|o| (*o).clone())
        .ok_or_else(|| "no runs".into())
}

/// Copies the directory tree `from` to `to`.
pub(crate) fn copy_dir(from: &Path, to: &Path) -> Result<(), BoxError> {
    std::fs::create_dir_all(to)?;
    for entry in std::fs::read_dir(from)? {
        let entry = entry?;
        let target = to.join(entry.file_name());
        if entry.file_type()?.is_dir() {
            copy_dir(&entry.path(), &target)?;
        } else {
            std::fs::copy(entry.path(), &target)?;
        }
    }
    Ok(())
}

/// Flushes dirty pages (`sync`) so a run does not pay for the writeback of the setup or
/// of a copy made just before it. Best effort.
pub(crate) fn settle() {
    let _ = Command::new("sync").status();
}

/// Everything `--json` writes.
#[derive(Debug, Serialize)]
struct Results<'a> {
    /// Sizes and options.
    config: &'a Config,
    /// The table's lines (medians).
    rows: Vec<report::Row>,
    /// Every run, setup included.
    outcomes: &'a [Outcome],
    /// The quality checks over the base table.
    quality: &'a [checks::ScopeRun],
    /// The runtime-overhead figures.
    figures: Vec<overhead::Figure>,
    /// The runtime-overhead scenarios, every run.
    overhead: &'a [overhead::Sampled],
    /// The asset graph's figures, every round and build.
    graph: Option<&'a graph::GraphOutcome>,
}

async fn parent(cfg: &Config) -> Result<(), BoxError> {
    let temp;
    let root = match &cfg.warehouse {
        Some(dir) => dir.clone(),
        None => {
            let exe = std::env::current_exe()?;
            let under = exe.parent().unwrap_or(Path::new("."));
            temp = tempfile::Builder::new()
                .prefix("phlo-bench-")
                .tempdir_in(under)?;
            temp.path().to_path_buf()
        }
    };
    eprintln!("phlo-bench: warehouse {}", root.display());
    let mut outcomes = Vec::new();
    let mut all_runs = Vec::new();
    let mut quality = None;
    let runs_group = |group: &str| match cfg.only.as_deref() {
        None => true,
        Some("overhead") => group == "tables" || group == "history",
        Some(only) => only == group,
    };
    if runs_group("fresh") {
        let mut runs = Vec::new();
        for _ in 0..cfg.repeat {
            settle();
            runs.push(spawn(cfg, "fresh", &root.join("fresh"))?);
        }
        outcomes.push(median(&runs)?);
        all_runs.extend(runs);
    }
    if runs_group("upsert") {
        let base = root.join("upsert-base");
        let setup: Outcome = spawn(cfg, "upsert-setup", &base)?;
        outcomes.push(setup.clone());
        all_runs.push(setup);
        settle();
        quality = Some(spawn::<Vec<checks::ScopeRun>>(cfg, "checks", &base)?);
        let mut runs = Vec::new();
        for i in 0..cfg.repeat {
            // Every run starts from the same base table (the last one may consume it).
            let dir = if i + 1 == cfg.repeat {
                base.clone()
            } else {
                let dir = root.join("upsert-run");
                if dir.exists() {
                    std::fs::remove_dir_all(&dir)?;
                }
                copy_dir(&base, &dir)?;
                dir
            };
            settle();
            runs.push(spawn(cfg, "upsert", &dir)?);
        }
        outcomes.push(median(&runs)?);
        all_runs.extend(runs);
    }
    let mut sampled: Vec<overhead::Sampled> = Vec::new();
    if runs_group("tables") {
        settle();
        sampled.push(spawn(
            cfg,
            "no-other-tables",
            &root.join("no-other-tables"),
        )?);
        for name in ["other-tables", "one-other-table"] {
            let dir = root.join(name);
            sampled.push(spawn(cfg, &format!("{name}-setup"), &dir)?);
            settle();
            sampled.push(spawn(cfg, name, &dir)?);
        }
    }
    if runs_group("history") {
        settle();
        sampled.push(spawn(cfg, "history", &root.join("history"))?);
    }
    // Only when asked for: 10,000 hourly partitions take a while.
    if cfg.only.as_deref() == Some("backfill") {
        backfill::run(cfg, &root)?;
    }
    if runs_group("idle") {
        settle();
        let idle: idle::IdleOutcome = spawn(cfg, "scheduler-idle", &root.join("idle"))?;
        println!(
            "scheduler idle: {:.3} s CPU over {:.0} s ({:.3}% of a core, target < 1%), {} wake-ups, {} runs",
            idle.cpu_s,
            idle.wall_s,
            idle.core_fraction * 100.0,
            idle.wakeups,
            idle.runs
        );
    }
    let mut graphed = None;
    if runs_group("graph") {
        settle();
        let g: graph::GraphOutcome = spawn(cfg, "graph", &root.join("graph"))?;
        graph::print(cfg, &g);
        graphed = Some(g);
    }
    let find = |name: &str| sampled.iter().find(|s| s.scenario == name);
    let sets = overhead::Sets {
        empty: find("no-other-tables"),
        many: find("other-tables"),
        control: find("one-other-table"),
        history: find("history"),
    };
    let rows: Vec<report::Row> = outcomes.iter().map(|o| report::row(cfg, o)).collect();
    if !outcomes.is_empty() {
        report::print(cfg, &rows, &outcomes, &all_runs);
    }
    if let Some(q) = &quality {
        checks::print(q);
    }
    let figures = overhead::figures(cfg, sets);
    if !sampled.is_empty() {
        let steps = overhead::step_table(sets);
        report::print_overhead(cfg, &figures, &steps, &sampled);
    }
    if let Some(path) = &cfg.json {
        let results = Results {
            config: cfg,
            rows,
            outcomes: &all_runs,
            quality: quality.as_deref().unwrap_or_default(),
            figures,
            overhead: &sampled,
            graph: graphed.as_ref(),
        };
        std::fs::write(path, serde_json::to_string_pretty(&results)?)?;
        eprintln!("phlo-bench: wrote {}", path.display());
    }
    Ok(())
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.first().map(String::as_str) {
        Some("compare") => return tokio::task::block_in_place(|| compare::main(&args[1..])),
        Some("contender") => return compare::contender::main(&args[1..]).await,
        _ => {}
    }
    let cfg = parse_args(args)?;
    match cfg.scenario.clone() {
        Some(name) => child(&cfg, &name).await,
        None => parent(&cfg).await,
    }
}
