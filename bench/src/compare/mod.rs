//! `phlo-bench compare`: phlo side by side with the tools a user would pick instead, on
//! the same generated Parquet input, on the same machine, in one run.
//!
//! ```text
//! bench/compare.sh [--quick]     # creates .venv-bench, builds in release, runs this
//! ```
//!
//! Scenarios (each timed end to end inside the contender's process, median of `--repeat`
//! runs, contenders interleaved round by round; peak RSS from `/usr/bin/time -v`):
//!
//! - S1 fresh: read the load → validate 4 constraints → dedup last by `ts` → a new table;
//! - S2 upsert: the same into a copy of the base table (merge by `id`);
//! - S3 validation only: the 4 constraints over the base files (0% invalid) and over
//!   the same shape with 50% invalid rows;
//! - S4 quality: seven checks over the whole base table;
//! - S5 well-production graph (`wells.rs`): a generated daily production table of
//!   `--wells-rows` rows (10M; `--quick`: 1M) as Parquet, the models of
//!   `examples/wells/models/` (staging, cumulative sums, 30-day moving averages, monthly and
//!   yearly marts, revenue joined with the price and currency seeds), the same SQL for
//!   both: phlo ingests the file and builds the graph; dbt-duckdb runs `dbt build` of a
//!   generated dbt project reading the file as a `source` (`read_parquet`).
//!
//! Contenders: phlo (this binary, `contender phlo`), Polars with deltalake, DuckDB, pandas
//! with Pandera (S3), dbt-core with dbt-duckdb (S5) — scripts in `bench/contenders/` run by
//! `.venv-bench` — and the
//! floor: arrow-rs writing the load's deduplicated rows as Parquet. Results agree or the run
//! says where they do not (row counts and key fingerprints, failing-row counts, check
//! outcomes).

pub mod contender;
pub mod wells;
pub mod workload;

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use serde::Serialize;
use serde_json::{Value, json};

use crate::scenario::BoxError;
use crate::{copy_dir, settle};
use workload::{Workload, WorkloadConfig};

const MIB: f64 = 1024.0 * 1024.0;

const USAGE: &str = "usage: phlo-bench compare [--quick] [--repeat N] [--only s1,s2,s3,s4,s5] \
[--python PATH] [--work DIR] [--json PATH] [--rows N] [--wells-rows N]";

/// Options of a compare run.
#[derive(Debug, Clone, Serialize)]
struct Options {
    quick: bool,
    repeat: usize,
    only: Vec<String>,
    python: PathBuf,
    work: PathBuf,
    json: PathBuf,
    workload: WorkloadConfig,
    /// S5: rows of the production table.
    wells_rows: u64,
}

fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .map_or_else(|| PathBuf::from("."), Path::to_path_buf)
}

fn parse(args: &[String]) -> Result<Options, BoxError> {
    let root = repo_root();
    let mut quick = false;
    let mut repeat = 3;
    let mut only = vec![
        "s1".into(),
        "s2".into(),
        "s3".into(),
        "s4".into(),
        "s5".into(),
    ];
    let mut python = root.join(".venv-bench/bin/python");
    let mut work = None;
    let mut json = None;
    let mut rows = None;
    let mut wells_rows = None;
    let mut it = args.iter();
    while let Some(flag) = it.next() {
        let mut value = || {
            it.next()
                .ok_or_else(|| format!("{flag} needs a value\n{USAGE}"))
        };
        match flag.as_str() {
            "--quick" => quick = true,
            "--repeat" => repeat = value()?.parse()?,
            "--only" => only = value()?.split(',').map(str::to_string).collect(),
            "--python" => python = value()?.into(),
            "--work" => work = Some(PathBuf::from(value()?)),
            "--json" => json = Some(PathBuf::from(value()?)),
            "--rows" => rows = Some(value()?.replace('_', "").parse::<u64>()?),
            "--wells-rows" => wells_rows = Some(value()?.replace('_', "").parse::<u64>()?),
            "-h" | "--help" => {
                println!("{USAGE}");
                std::process::exit(0);
            }
            other => return Err(format!("unknown argument `{other}`\n{USAGE}").into()),
        }
    }
    if repeat == 0 {
        return Err("--repeat must be positive".into());
    }
    let rows = rows.unwrap_or(if quick { 100_000 } else { 1_000_000 });
    let wells_rows = wells_rows.unwrap_or(if quick {
        wells::FULL_ROWS / 10
    } else {
        wells::FULL_ROWS
    });
    if rows == 0 || wells_rows == 0 {
        return Err("--rows and --wells-rows must be positive".into());
    }
    let label = if quick { "quick" } else { "full" };
    let workload = WorkloadConfig {
        rows,
        partitions: 10,
        duplicates: 0.10,
        updates: 0.30,
        invalid: 0.0,
        s3_invalid: 0.5,
        format: 1,
    };
    Ok(Options {
        quick,
        repeat,
        only,
        python,
        work: work.unwrap_or_else(|| root.join("target/phlo-compare").join(label)),
        json: json.unwrap_or_else(|| {
            root.join("bench/results")
                .join(format!("compare{}.json", if quick { "-quick" } else { "" }))
        }),
        workload,
        wells_rows,
    })
}

/// One contender: how to start it.
#[derive(Debug, Clone)]
struct Contender {
    /// Shown name.
    name: &'static str,
    /// Program and leading arguments.
    program: PathBuf,
    args: Vec<String>,
    /// A DuckDB database is a file in its directory; the others are directories.
    file_target: bool,
}

impl Contender {
    fn target(&self, dir: &Path) -> PathBuf {
        if self.file_target {
            dir.join("events.duckdb")
        } else {
            dir.to_path_buf()
        }
    }

    fn slug(&self) -> String {
        self.name
            .chars()
            .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
            .collect()
    }
}

/// One measured process.
#[derive(Debug, Clone, Serialize)]
struct Run {
    seconds: f64,
    peak_rss_bytes: u64,
    result: Value,
}

/// Runs `c` with `args` (untimed setup): only success matters.
fn run_setup(c: &Contender, args: &[String]) -> Result<f64, BoxError> {
    let t = std::time::Instant::now();
    let out = Command::new(&c.program)
        .args(&c.args)
        .args(args)
        .stdin(Stdio::null())
        .output()?;
    if !out.status.success() {
        return Err(format!(
            "{} {} failed ({}):\n{}",
            c.name,
            args.join(" "),
            out.status,
            String::from_utf8_lossy(&out.stderr)
        )
        .into());
    }
    Ok(t.elapsed().as_secs_f64())
}

fn run(c: &Contender, args: &[String]) -> Result<Run, BoxError> {
    let out = Command::new("/usr/bin/time")
        .arg("-v")
        .arg(&c.program)
        .args(&c.args)
        .args(args)
        .stdin(Stdio::null())
        .output()
        .map_err(|e| format!("could not start /usr/bin/time (GNU time is needed): {e}"))?;
    let stderr = String::from_utf8_lossy(&out.stderr);
    if !out.status.success() {
        let tail: Vec<&str> = stderr.lines().rev().take(30).collect();
        let tail: Vec<&str> = tail.into_iter().rev().collect();
        return Err(format!(
            "{} {} failed ({}):\n{}",
            c.name,
            args.join(" "),
            out.status,
            tail.join("\n")
        )
        .into());
    }
    let kb = stderr
        .lines()
        .find_map(|l| l.trim().strip_prefix("Maximum resident set size (kbytes):"))
        .and_then(|v| v.trim().parse::<u64>().ok())
        .ok_or("no peak RSS in /usr/bin/time's output")?;
    let stdout = String::from_utf8_lossy(&out.stdout);
    let line = stdout
        .lines()
        .rev()
        .find(|l| l.trim_start().starts_with('{'))
        .ok_or_else(|| format!("{} {} printed no JSON result", c.name, args.join(" ")))?;
    let result: Value = serde_json::from_str(line)?;
    let seconds = result
        .get("seconds")
        .and_then(Value::as_f64)
        .ok_or("result without seconds")?;
    Ok(Run {
        seconds,
        peak_rss_bytes: kb * 1024,
        result,
    })
}

/// A contender's figures in one scenario.
#[derive(Debug, Clone, Serialize)]
struct Line {
    contender: String,
    /// Median wall seconds.
    seconds: f64,
    rows_per_s: f64,
    /// Peak RSS of the median run.
    peak_rss_mib: f64,
    /// Contender seconds over phlo seconds (> 1: phlo is faster).
    ratio_to_phlo: Option<f64>,
    /// Contender peak RSS over phlo's.
    rss_ratio_to_phlo: Option<f64>,
    /// The median run's result.
    result: Value,
    /// Every run.
    runs: Vec<Run>,
}

/// One target and whether it is met.
#[derive(Debug, Clone, Serialize)]
struct Target {
    what: String,
    met: bool,
    figure: String,
}

/// One scenario's table.
#[derive(Debug, Clone, Serialize)]
struct ScenarioResult {
    id: String,
    title: String,
    rows: u64,
    lines: Vec<Line>,
    /// `None` when every contender's result agrees; else what differs.
    disagreement: Option<String>,
    targets: Vec<Target>,
}

impl ScenarioResult {
    fn line(&self, name: &str) -> Option<&Line> {
        self.lines.iter().find(|l| l.contender == name)
    }
}

fn median(runs: &[Run]) -> Option<&Run> {
    let mut sorted: Vec<&Run> = runs.iter().collect();
    sorted.sort_by(|a, b| a.seconds.total_cmp(&b.seconds));
    sorted.get(sorted.len() / 2).copied()
}

/// What must agree across contenders, by scenario.
fn verdict(lines: &[Line], fields: &[&str], skip: &[&str]) -> Option<String> {
    let mut reference: Option<(&str, Vec<&Value>)> = None;
    let mut diffs = Vec::new();
    for l in lines
        .iter()
        .filter(|l| !skip.contains(&l.contender.as_str()))
    {
        for r in &l.runs {
            let got: Vec<&Value> = fields
                .iter()
                .map(|f| r.result.get(*f).unwrap_or(&Value::Null))
                .collect();
            match &reference {
                None => reference = Some((l.contender.as_str(), got)),
                Some((who, want)) if *want != got => {
                    diffs.push(format!("{} {:?} vs {} {:?}", l.contender, got, who, want));
                }
                Some(_) => {}
            }
        }
    }
    (!diffs.is_empty()).then(|| diffs.join("; "))
}

struct Bench {
    opts: Options,
    /// S1–S4's input (generated only when one of them runs).
    workload: Option<Workload>,
    phlo: Contender,
    floor: Contender,
    polars: Contender,
    duckdb: Contender,
    pandera: Contender,
    dbt: Contender,
    /// S5's input (generated only when S5 runs).
    wells: Option<wells::Wells>,
    runs_dir: PathBuf,
}

impl Bench {
    fn workload(&self) -> Result<&Workload, BoxError> {
        self.workload
            .as_ref()
            .ok_or_else(|| "S1–S4's input was not generated".into())
    }

    /// Builds (or reuses) `c`'s base table; returns the directory holding it.
    fn base(&self, c: &Contender) -> Result<PathBuf, BoxError> {
        let dir = self.runs_dir.join(c.slug()).join("base");
        let stamp = self.runs_dir.join(c.slug()).join("base.stamp");
        let program = c.args.first().map_or(c.program.clone(), PathBuf::from);
        let modified = std::fs::metadata(&program)
            .and_then(|m| m.modified())
            .map(|t| format!("{t:?}"))
            .unwrap_or_default();
        let key = format!("{:?} {modified}", self.workload()?.config);
        if dir.exists() && std::fs::read_to_string(&stamp).is_ok_and(|s| s == key) {
            return Ok(dir);
        }
        if dir.exists() {
            std::fs::remove_dir_all(&dir)?;
        }
        std::fs::create_dir_all(&dir)?;
        eprintln!(
            "phlo-bench: building {}'s base table (not measured) ...",
            c.name
        );
        let seconds = run_setup(
            c,
            &[
                "setup".into(),
                "--input".into(),
                self.workload()?.base.display().to_string(),
                "--target".into(),
                c.target(&dir).display().to_string(),
            ],
        )?;
        eprintln!("phlo-bench:   done in {seconds:.1} s");
        std::fs::write(&stamp, key)?;
        Ok(dir)
    }

    /// Runs `contenders` round-robin `repeat` times; `args(c, i)` prepares run `i` of
    /// `c` (untimed) and returns its arguments.
    fn measure(
        &self,
        contenders: &[&Contender],
        rows: u64,
        args: &dyn Fn(&Contender) -> Result<Vec<String>, BoxError>,
    ) -> Result<Vec<Line>, BoxError> {
        let mut runs: Vec<Vec<Run>> = vec![Vec::new(); contenders.len()];
        for round in 0..self.opts.repeat {
            for (c, out) in contenders.iter().zip(runs.iter_mut()) {
                let a = args(c)?;
                settle();
                let r = run(c, &a)?;
                eprintln!(
                    "phlo-bench:   round {} {:<20} {:>8.3} s {:>8.0} MiB",
                    round + 1,
                    c.name,
                    r.seconds,
                    r.peak_rss_bytes as f64 / MIB
                );
                out.push(r);
            }
        }
        let phlo = contenders
            .iter()
            .zip(&runs)
            .find(|(c, _)| c.name == "phlo")
            .and_then(|(_, r)| median(r))
            .cloned();
        let mut lines = Vec::new();
        for (c, rs) in contenders.iter().zip(runs) {
            let m = median(&rs).ok_or("no runs")?.clone();
            lines.push(Line {
                contender: c.name.into(),
                seconds: m.seconds,
                rows_per_s: rows as f64 / m.seconds,
                peak_rss_mib: m.peak_rss_bytes as f64 / MIB,
                ratio_to_phlo: phlo.as_ref().map(|p| m.seconds / p.seconds),
                rss_ratio_to_phlo: phlo
                    .as_ref()
                    .map(|p| m.peak_rss_bytes as f64 / p.peak_rss_bytes as f64),
                result: m.result,
                runs: rs,
            });
        }
        Ok(lines)
    }

    fn fresh_dir(&self, c: &Contender, name: &str) -> Result<PathBuf, BoxError> {
        let dir = self.runs_dir.join(c.slug()).join(name);
        if dir.exists() {
            std::fs::remove_dir_all(&dir)?;
        }
        Ok(dir)
    }

    fn s1(&self) -> Result<ScenarioResult, BoxError> {
        let w = self.workload()?;
        let contenders = [&self.phlo, &self.polars, &self.duckdb, &self.floor];
        eprintln!("phlo-bench: S1 fresh ...");
        let lines = self.measure(&contenders, w.s1_rows, &|c| {
            let dir = self.fresh_dir(c, "s1")?;
            if c.file_target {
                std::fs::create_dir_all(&dir)?;
            }
            Ok(vec![
                "s1".into(),
                "--input".into(),
                w.s1.display().to_string(),
                "--target".into(),
                c.target(&dir).display().to_string(),
            ])
        })?;
        let mut s = ScenarioResult {
            id: "S1".into(),
            title: format!(
                "fresh: {} rows ({:.0}% in-batch duplicate keys) into a new table",
                w.s1_rows,
                w.config.duplicates * 100.0
            ),
            rows: w.s1_rows,
            disagreement: verdict(&lines, &["rows_out", "keys_sha256"], &[]),
            lines,
            targets: Vec::new(),
        };
        s.targets = load_targets(&s, true, w.config.rows);
        Ok(s)
    }

    fn s2(&self) -> Result<ScenarioResult, BoxError> {
        let w = self.workload()?;
        let contenders = [&self.phlo, &self.polars, &self.duckdb];
        let mut bases = Vec::new();
        for c in contenders {
            bases.push((c.name, self.base(c)?));
        }
        eprintln!("phlo-bench: S2 upsert ...");
        let mut contenders = contenders.to_vec();
        contenders.push(&self.floor);
        let lines = self.measure(&contenders, w.s2_rows, &|c| {
            let dir = self.fresh_dir(c, "s2")?;
            if let Some((_, base)) = bases.iter().find(|(n, _)| *n == c.name) {
                copy_dir(base, &dir)?;
            }
            Ok(vec![
                "s2".into(),
                "--input".into(),
                w.s2.display().to_string(),
                "--target".into(),
                c.target(&dir).display().to_string(),
            ])
        })?;
        let mut s = ScenarioResult {
            id: "S2".into(),
            title: format!(
                "upsert: {} rows ({:.0}% keys already in the table, {:.0}% duplicates) into {} rows",
                w.s2_rows,
                w.config.updates * 100.0,
                w.config.duplicates * 100.0,
                w.base_rows
            ),
            rows: w.s2_rows,
            disagreement: verdict(&lines, &["rows_out", "keys_sha256"], &["floor"]),
            lines,
            targets: Vec::new(),
        };
        s.targets = load_targets(&s, false, w.config.rows);
        Ok(s)
    }

    fn s3(&self, invalid: bool) -> Result<ScenarioResult, BoxError> {
        let w = self.workload()?;
        let contenders = [&self.phlo, &self.pandera, &self.polars, &self.duckdb];
        let (input, rows, pct) = if invalid {
            (
                &w.s3_invalid,
                w.s3_invalid_rows,
                w.config.s3_invalid * 100.0,
            )
        } else {
            (&w.base, w.base_rows, 0.0)
        };
        eprintln!("phlo-bench: S3 validation, {pct:.0}% invalid ...");
        let lines = self.measure(&contenders, rows, &|_| {
            Ok(vec![
                "s3".into(),
                "--input".into(),
                input.display().to_string(),
            ])
        })?;
        let mut s = ScenarioResult {
            id: format!("S3 {pct:.0}%"),
            title: format!("validation only: 4 constraints over {rows} rows, {pct:.0}% invalid"),
            rows,
            disagreement: verdict(&lines, &["rows_in", "invalid", "failures"], &[]),
            lines,
            targets: Vec::new(),
        };
        let need = if invalid { 10.0 } else { 5.0 };
        if let Some(p) = s.line("pandas + pandera") {
            let ratio = p.ratio_to_phlo.unwrap_or(0.0);
            s.targets.push(Target {
                what: format!("phlo ≥ {need}× pandas + Pandera"),
                met: ratio >= need,
                figure: format!("{ratio:.1}×"),
            });
        }
        if let Some(p) = s.line("phlo") {
            let kept = p.result.get("report_rows").and_then(Value::as_u64);
            s.targets.push(Target {
                what: "phlo's report is bounded (≤ 20 samples per check)".into(),
                met: kept.is_some_and(|k| k <= 20 * 5),
                figure: format!("{} samples", kept.unwrap_or(0)),
            });
        }
        Ok(s)
    }

    fn s4(&self) -> Result<ScenarioResult, BoxError> {
        let w = self.workload()?;
        let contenders = [&self.phlo, &self.polars, &self.duckdb];
        let mut bases = Vec::new();
        for c in contenders {
            bases.push((c.name, self.base(c)?));
        }
        eprintln!("phlo-bench: S4 quality checks ...");
        let lines = self.measure(&contenders, w.base_rows, &|c| {
            let base = bases
                .iter()
                .find(|(n, _)| *n == c.name)
                .map(|(_, b)| b)
                .ok_or("no base table")?;
            Ok(vec![
                "s4".into(),
                "--target".into(),
                c.target(base).display().to_string(),
                "--now".into(),
                w.now.clone(),
            ])
        })?;
        Ok(ScenarioResult {
            id: "S4".into(),
            title: format!("quality: seven checks over the {}-row table", w.base_rows),
            rows: w.base_rows,
            disagreement: verdict(&lines, &["rows", "checks"], &[]),
            lines,
            targets: Vec::new(),
        })
    }
}

impl Bench {
    fn s5(&self) -> Result<ScenarioResult, BoxError> {
        let w = self.wells.as_ref().ok_or("S5's input was not generated")?;
        let contenders = [&self.phlo, &self.dbt];
        eprintln!("phlo-bench: S5 well-production graph ...");
        let lines = self.measure(&contenders, w.rows, &|c| {
            let dir = self.fresh_dir(c, "s5")?;
            std::fs::create_dir_all(&dir)?;
            let project = if c.name == "phlo" { &w.phlo } else { &w.dbt };
            Ok(vec![
                "s5".into(),
                "--input".into(),
                w.production.display().to_string(),
                "--project".into(),
                project.display().to_string(),
                "--target".into(),
                dir.display().to_string(),
            ])
        })?;
        let find = |name: &str| lines.iter().find(|l| l.contender == name);
        let mut targets = Vec::new();
        let mut split = String::new();
        if let (Some(p), Some(d)) = (find("phlo"), find("dbt-duckdb")) {
            let r = p.seconds / d.seconds;
            targets.push(Target {
                what: "phlo faster than dbt-duckdb (phlo / dbt-duckdb < 1)".into(),
                met: r < 1.0,
                figure: format!("phlo / dbt-duckdb {r:.2}"),
            });
            let rss = p.peak_rss_mib / d.peak_rss_mib;
            targets.push(Target {
                what: "phlo's peak RSS lower than dbt-duckdb's".into(),
                met: rss < 1.0,
                figure: format!(
                    "phlo {:.0} MiB, dbt-duckdb {:.0} MiB ({rss:.2})",
                    p.peak_rss_mib, d.peak_rss_mib
                ),
            });
            let part = |k: &str| p.result.get(k).and_then(Value::as_f64);
            if let (Some(i), Some(b)) = (part("ingest_s"), part("build_s")) {
                split = format!("; phlo: ingestion {i:.2} s + build {b:.2} s");
            }
        }
        let s = ScenarioResult {
            id: "S5".into(),
            title: format!(
                "well-production graph: {} rows ({} wells × {} days) → 3 seeds + 6 models{split}",
                w.rows, w.wells, w.days
            ),
            rows: w.rows,
            disagreement: verdict(
                &lines,
                &["tables", "revenue_usd", "revenue_local", "oil_ma_30d"],
                &[],
            ),
            lines,
            targets,
        };
        Ok(s)
    }
}

/// S1 and S2 targets.
fn load_targets(s: &ScenarioResult, fresh: bool, rows_per_load: u64) -> Vec<Target> {
    let mut t = Vec::new();
    let Some(phlo) = s.line("phlo") else {
        return t;
    };
    let peers: Vec<&Line> = s
        .lines
        .iter()
        .filter(|l| l.contender != "phlo" && l.contender != "floor")
        .collect();
    let scale = rows_per_load as f64 / 1_000_000.0;
    if fresh {
        t.push(Target {
            what: "phlo ≥ 1M rows/s".into(),
            met: phlo.rows_per_s >= 1_000_000.0,
            figure: format!("{:.2}M rows/s", phlo.rows_per_s / 1e6),
        });
        t.push(Target {
            what: "phlo faster than every contender".into(),
            met: peers.iter().all(|l| l.ratio_to_phlo.unwrap_or(0.0) > 1.0),
            figure: peers
                .iter()
                .map(|l| format!("{} {:.2}×", l.contender, l.ratio_to_phlo.unwrap_or(0.0)))
                .collect::<Vec<_>>()
                .join(", "),
        });
        if let Some(f) = s.line("floor") {
            let r = phlo.seconds / f.seconds;
            t.push(Target {
                what: "phlo within 2× of the Parquet-write floor".into(),
                met: r <= 2.0,
                figure: format!("{r:.1}×"),
            });
        }
    } else {
        t.push(Target {
            what: format!("phlo ≤ {:.1} s", 5.0 * scale),
            met: phlo.seconds <= 5.0 * scale,
            figure: format!("{:.2} s", phlo.seconds),
        });
        for l in &peers {
            let r = l.ratio_to_phlo.unwrap_or(0.0);
            t.push(Target {
                what: format!("phlo ≥ 1.5× {}", l.contender),
                met: r >= 1.5,
                figure: format!("{r:.2}×"),
            });
        }
    }
    t.push(Target {
        what: "phlo's peak RSS lowest".into(),
        met: peers
            .iter()
            .all(|l| l.rss_ratio_to_phlo.unwrap_or(0.0) > 1.0),
        figure: format!(
            "phlo {:.0} MiB; {}",
            phlo.peak_rss_mib,
            peers
                .iter()
                .map(|l| format!("{} {:.0} MiB", l.contender, l.peak_rss_mib))
                .collect::<Vec<_>>()
                .join(", ")
        ),
    });
    t
}

fn human(n: f64) -> String {
    if n >= 1e6 {
        format!("{:.2}M", n / 1e6)
    } else if n >= 1e3 {
        format!("{:.0}k", n / 1e3)
    } else {
        format!("{n:.0}")
    }
}

fn print(s: &ScenarioResult) {
    println!();
    println!("{}  {}", s.id, s.title);
    println!(
        "{:<20} {:>9} {:>10} {:>10} {:>14} {:>12}",
        "contender", "wall s", "rows/s", "peak MiB", "time / phlo", "RSS / phlo"
    );
    for l in &s.lines {
        let name = if l.contender == "floor" {
            "floor: arrow-rs write"
        } else {
            &l.contender
        };
        println!(
            "{:<20} {:>9.3} {:>10} {:>10.0} {:>14} {:>12}",
            name,
            l.seconds,
            human(l.rows_per_s),
            l.peak_rss_mib,
            l.ratio_to_phlo.map_or("-".into(), |r| format!("{r:.2}×")),
            l.rss_ratio_to_phlo
                .map_or("-".into(), |r| format!("{r:.2}×")),
        );
    }
    match &s.disagreement {
        None => println!("results agree across contenders"),
        Some(d) => println!("RESULTS DISAGREE: {d}"),
    }
    for t in &s.targets {
        println!(
            "  [{}] {} — {}",
            if t.met { "met" } else { "MISSED" },
            t.what,
            t.figure
        );
    }
}

fn text(cmd: &mut Command) -> String {
    cmd.output()
        .ok()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
        .unwrap_or_default()
}

fn machine() -> Value {
    let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
    let model = cpuinfo
        .lines()
        .find_map(|l| l.strip_prefix("model name"))
        .map(|m| m.trim_start_matches([' ', '\t', ':']).to_string());
    let meminfo = std::fs::read_to_string("/proc/meminfo").unwrap_or_default();
    let mem = meminfo
        .lines()
        .find_map(|l| l.strip_prefix("MemTotal:"))
        .map(|m| m.trim().to_string());
    json!({
        "cpus": std::thread::available_parallelism().map_or(0, |n| n.get()),
        "cpu_model": model,
        "memory": mem,
        "kernel": text(Command::new("uname").arg("-sr")),
    })
}

/// `phlo-bench compare …`.
pub fn main(args: &[String]) -> Result<(), BoxError> {
    let opts = parse(args)?;
    if !opts.python.exists() {
        return Err(format!(
            "{} not found: run bench/compare.sh, or scripts/python-env.sh --bench first",
            opts.python.display()
        )
        .into());
    }
    let workload = if ["s1", "s2", "s3", "s4"]
        .iter()
        .any(|s| opts.only.iter().any(|o| o == s))
    {
        Some(workload::ensure(&opts.work.join("input"), &opts.workload)?)
    } else {
        None
    };
    let exe = std::env::current_exe()?;
    let scripts = repo_root().join("bench/contenders");
    let py = |name: &'static str, script: &str, file_target: bool| Contender {
        name,
        program: opts.python.clone(),
        args: vec![scripts.join(script).display().to_string()],
        file_target,
    };
    let bench = Bench {
        phlo: Contender {
            name: "phlo",
            program: exe.clone(),
            args: vec!["contender".into(), "phlo".into()],
            file_target: false,
        },
        floor: Contender {
            name: "floor",
            program: exe,
            args: vec!["contender".into(), "floor".into()],
            file_target: false,
        },
        polars: py("polars + deltalake", "polars_delta.py", false),
        duckdb: py("duckdb", "duckdb_sql.py", true),
        pandera: py("pandas + pandera", "pandas_pandera.py", false),
        dbt: py("dbt-duckdb", "dbt_duckdb.py", false),
        wells: if opts.only.iter().any(|o| o == "s5") {
            Some(wells::ensure(
                &opts.work.join("input-wells"),
                opts.wells_rows,
            )?)
        } else {
            None
        },
        runs_dir: opts.work.join("runs"),
        workload,
        opts: opts.clone(),
    };
    let versions: Value = serde_json::from_str(&text(Command::new(&opts.python).args([
        "-c",
        "import importlib.metadata as m, json, sys; print(json.dumps({'python': sys.version.split()[0], **{p: m.version(p) for p in ['polars', 'deltalake', 'duckdb', 'pandas', 'pandera', 'pyarrow', 'dbt-core', 'dbt-duckdb']}}))",
    ])))
    .unwrap_or(Value::Null);
    let mut results = Vec::new();
    let wants = |s: &str| opts.only.iter().any(|o| o == s);
    let mut scenarios: Vec<Box<dyn Fn() -> Result<ScenarioResult, BoxError>>> = Vec::new();
    if wants("s1") {
        scenarios.push(Box::new(|| bench.s1()));
    }
    if wants("s2") {
        scenarios.push(Box::new(|| bench.s2()));
    }
    if wants("s3") {
        scenarios.push(Box::new(|| bench.s3(false)));
        scenarios.push(Box::new(|| bench.s3(true)));
    }
    if wants("s4") {
        scenarios.push(Box::new(|| bench.s4()));
    }
    if wants("s5") {
        scenarios.push(Box::new(|| bench.s5()));
    }
    for s in scenarios {
        let r = s()?;
        print(&r);
        results.push(r);
    }
    let doc = json!({
        "machine": machine(),
        "versions": versions,
        "options": opts,
        "workload": bench.workload,
        "wells": bench.wells,
        "scenarios": results,
    });
    if let Some(dir) = opts.json.parent() {
        std::fs::create_dir_all(dir)?;
    }
    std::fs::write(&opts.json, serde_json::to_string_pretty(&doc)?)?;
    eprintln!("phlo-bench: wrote {}", opts.json.display());
    if results.iter().any(|r| r.disagreement.is_some()) {
        return Err("contenders disagree on the results (see above)".into());
    }
    Ok(())
}
