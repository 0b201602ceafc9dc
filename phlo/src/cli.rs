//! The command line a user's binary gets from one call.
//!
//! ```no_run
//! fn main() -> std::process::ExitCode {
//!     phlo::cli::main()
//! }
//! ```
//!
//! ```text
//! app [--warehouse DIR] [--json] list
//! app materialize ASSET [--partition YYYY-MM-DD]
//! app backfill ASSET --from YYYY-MM-DD --to YYYY-MM-DD
//! app check TABLE [--partition YYYY-MM-DD]
//! app sql "SELECT …"
//! app runs [--asset NAME] [--limit N]
//! ```
//!
//! The warehouse defaults to `$PHLO_WAREHOUSE`, then `./warehouse`. Human output is aligned
//! tables; `--json` prints JSON. The exit code is 0 on success, 1 when a run failed, 2 on
//! a usage or configuration error.

use std::ffi::OsString;
use std::path::PathBuf;
use std::process::ExitCode;

use arrow::util::pretty::pretty_format_batches;
use clap::{Parser, Subcommand};
use comfy_table::{Table, presets::UTF8_FULL_CONDENSED};

use crate::report::{RunReport, RunStatus};
use crate::runtime::Unpartitioned;
use crate::{Error, Result, Runtime};

#[derive(Debug, Parser)]
#[command(about = "phlo: partitioned, validated ingestion into Delta Lake tables")]
struct Cli {
    /// Warehouse directory.
    #[arg(
        long,
        global = true,
        env = "PHLO_WAREHOUSE",
        default_value = "warehouse"
    )]
    warehouse: PathBuf,
    /// Print JSON instead of tables.
    #[arg(long, global = true)]
    json: bool,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// List registered assets.
    List,
    /// Materialize one partition of an asset.
    Materialize {
        /// Asset name.
        asset: String,
        /// Partition key (YYYY-MM-DD); omit for unpartitioned assets.
        #[arg(long)]
        partition: Option<String>,
    },
    /// Materialize every day of a range, in order.
    Backfill {
        /// Asset name.
        asset: String,
        /// First day (YYYY-MM-DD).
        #[arg(long)]
        from: String,
        /// Last day (YYYY-MM-DD), inclusive.
        #[arg(long)]
        to: String,
    },
    /// Run the quality checks registered for a table (exit code 1 when a blocking check fails).
    Check {
        /// Table, `ns.name`.
        table: String,
        /// Partition key (YYYY-MM-DD); without it, each asset's rolling window.
        #[arg(long)]
        partition: Option<String>,
    },
    /// Run a SQL query over the warehouse (tables are `ns.table`).
    Sql {
        /// The query.
        query: String,
    },
    /// Show recorded runs, newest last.
    Runs {
        /// Only this asset's runs.
        #[arg(long)]
        asset: Option<String>,
        /// At most this many (the newest).
        #[arg(long, default_value_t = 50)]
        limit: usize,
    },
}

/// Parses `std::env::args`, runs the command on a new tokio runtime, and returns the
/// exit code.
pub fn main() -> ExitCode {
    run(std::env::args_os())
}

/// Like [`main`], with explicit arguments (the first is the program name).
pub fn run<I, T>(args: I) -> ExitCode
where
    I: IntoIterator<Item = T>,
    T: Into<OsString> + Clone,
{
    let cli = match Cli::try_parse_from(args) {
        Ok(cli) => cli,
        Err(e) => {
            let code = if e.use_stderr() { 2 } else { 0 };
            let _ = e.print();
            return ExitCode::from(code);
        }
    };
    let tokio = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::from(2);
        }
    };
    match tokio.block_on(execute(cli)) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e}");
            let mut source = std::error::Error::source(&e);
            while let Some(s) = source {
                eprintln!("  caused by: {s}");
                source = s.source();
            }
            ExitCode::from(match e {
                Error::Asset { .. }
                | Error::Timeout { .. }
                | Error::Panicked { .. }
                | Error::Ingest(_) => 1,
                _ => 2,
            })
        }
    }
}

async fn execute(cli: Cli) -> Result<ExitCode> {
    let rt = Runtime::open(&cli.warehouse).await?;
    match cli.command {
        Command::List => {
            let assets = rt.assets();
            if cli.json {
                out(&serde_json::to_string_pretty(&assets)?);
            } else {
                let mut t = table_of(&[
                    "asset",
                    "table",
                    "group",
                    "strategy",
                    "dedup",
                    "key",
                    "partitioned",
                    "schema",
                ]);
                for a in assets {
                    t.add_row(vec![
                        a.name,
                        a.table,
                        a.group.unwrap_or_default(),
                        format!("{:?}", a.merge_strategy).to_lowercase(),
                        format!("{:?}", a.dedup).to_lowercase(),
                        a.unique_key.join(","),
                        a.partitioned.to_string(),
                        a.schema,
                    ]);
                }
                out(&t.to_string());
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Materialize { asset, partition } => {
            let runs_before = if cli.json { rt.runs().await?.len() } else { 0 };
            let result = match partition {
                Some(p) => rt.materialize(&asset, p).await,
                None => rt.materialize(&asset, Unpartitioned).await,
            };
            match result {
                Ok(report) => {
                    print_reports(std::slice::from_ref(&report), cli.json)?;
                    Ok(ExitCode::SUCCESS)
                }
                Err(e) => {
                    // With --json, the failed run's report (when a run was recorded) goes to stdout.
                    let recorded = if cli.json {
                        rt.runs().await?.split_off(runs_before)
                    } else {
                        Vec::new()
                    };
                    if !recorded.is_empty() {
                        print_reports(&recorded, true)?;
                    }
                    Err(e)
                }
            }
        }
        Command::Backfill { asset, from, to } => {
            let report = rt.backfill(&asset, &from, &to).await?;
            print_reports(&report.runs, cli.json)?;
            if report.all_succeeded() {
                Ok(ExitCode::SUCCESS)
            } else {
                if !cli.json {
                    for r in report.failed() {
                        eprintln!(
                            "failed: {} {}: {}",
                            r.asset,
                            r.partition.as_deref().unwrap_or("-"),
                            r.error.as_deref().unwrap_or("")
                        );
                    }
                }
                Ok(ExitCode::from(1))
            }
        }
        Command::Check { table, partition } => {
            let run = rt.check(&table, partition.as_deref()).await?;
            if cli.json {
                out(&serde_json::to_string_pretty(&run)?);
            } else {
                let mut t = table_of(&[
                    "check",
                    "passed",
                    "severity",
                    "failed",
                    "total",
                    "fraction",
                    "threshold",
                    "message",
                ]);
                for r in &run.report.results {
                    t.add_row(vec![
                        r.name.clone(),
                        r.passed.to_string(),
                        format!("{:?}", r.severity).to_lowercase(),
                        r.failed_count.to_string(),
                        r.total_count.to_string(),
                        format!("{:.4}", r.failure_fraction),
                        r.threshold.to_string(),
                        r.message.clone().unwrap_or_default(),
                    ]);
                }
                out(&t.to_string());
            }
            Ok(if run.blocked {
                ExitCode::from(1)
            } else {
                ExitCode::SUCCESS
            })
        }
        Command::Sql { query } => {
            let batches = rt.sql(&query).await?;
            if cli.json {
                let mut buf = Vec::new();
                {
                    let mut w = arrow::json::ArrayWriter::new(&mut buf);
                    for b in &batches {
                        w.write(b)?;
                    }
                    w.finish()?;
                }
                out(&String::from_utf8_lossy(&buf));
            } else {
                out(&pretty_format_batches(&batches)?.to_string());
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Runs { asset, limit } => {
            let mut runs: Vec<RunReport> = rt
                .runs()
                .await?
                .into_iter()
                .filter(|r| asset.as_deref().is_none_or(|a| r.asset == a))
                .collect();
            let skip = runs.len().saturating_sub(limit);
            runs.drain(..skip);
            print_reports(&runs, cli.json)?;
            Ok(ExitCode::SUCCESS)
        }
    }
}

/// Prints a line to stdout; a closed pipe (`app runs | head`) ends output quietly.
fn out(text: &str) {
    use std::io::Write;
    let mut stdout = std::io::stdout().lock();
    let _ = writeln!(stdout, "{text}");
}

fn table_of(header: &[&str]) -> Table {
    let mut t = Table::new();
    t.load_preset(UTF8_FULL_CONDENSED);
    t.set_header(header.to_vec());
    t
}

fn print_reports(reports: &[RunReport], json: bool) -> Result<()> {
    if json {
        out(&serde_json::to_string_pretty(reports)?);
        return Ok(());
    }
    let mut t = table_of(&[
        "asset",
        "partition",
        "status",
        "in",
        "invalid",
        "dupes",
        "inserted",
        "updated",
        "unchanged",
        "deleted",
        "version",
        "ms",
        "run",
    ]);
    for r in reports {
        let version = match (r.table_version_before, r.table_version_after) {
            (b, a) if b == a => a.map_or_else(|| "-".into(), |v| v.to_string()),
            (b, a) => format!(
                "{}→{}",
                b.map_or_else(|| "∅".into(), |v| v.to_string()),
                a.map_or_else(|| "-".into(), |v| v.to_string())
            ),
        };
        t.add_row(vec![
            r.asset.clone(),
            r.partition.clone().unwrap_or_else(|| "-".into()),
            r.status.to_string(),
            r.rows_in.to_string(),
            r.rows_invalid.to_string(),
            r.duplicates_dropped.to_string(),
            r.rows_inserted.to_string(),
            r.rows_updated.to_string(),
            r.rows_unchanged.to_string(),
            r.rows_deleted.to_string(),
            version,
            format!("{:.0}", r.timings.total_ms),
            r.run_id.clone(),
        ]);
    }
    out(&t.to_string());
    for r in reports.iter().filter(|r| r.status == RunStatus::Failed) {
        if let Some(e) = &r.error {
            out(&format!(
                "{} {}: {e}",
                r.asset,
                r.partition.as_deref().unwrap_or("-")
            ));
        }
    }
    Ok(())
}
