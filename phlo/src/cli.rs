//! The command line a user's binary gets from one call.
//!
//! ```no_run
//! fn main() -> std::process::ExitCode {
//!     phlo::cli::main()
//! }
//! ```
//!
//! ```text
//! app [--warehouse DIR] [--json] [-v|-q] list
//! app materialize ASSET [--partition KEY] [--explain]
//! app backfill [SELECTION] --from KEY --to KEY [--exclude SEL] [--parallel N] [--force]
//!              [--failed-only] [--explain]
//! app check TABLE [--partition KEY]
//! app sql "SELECT …"
//! app runs [--asset NAME] [--limit N]
//! app status [SELECTION]
//! app serve [--once] [--catch-up N | --skip-missed] [--eager SELECTION]
//! ```
//!
//! Keys are in the asset's partition form (`2025-01-15`, `2025-01-15T07`, `2025-01`, a
//! static key). The warehouse defaults to `$PHLO_WAREHOUSE`, then `./warehouse`. Human
//! output is aligned tables; `--json` prints JSON. The exit code is 0 on success, 1 when a
//! run or a blocking check failed, 2 on a usage or configuration error
//! ([`crate::Error::class`] decides). Logs (`tracing`) go to stderr: warnings by default,
//! `-v` info, `-vv` debug, `-q` errors only; `RUST_LOG` overrides.

use std::ffi::OsString;
use std::path::PathBuf;
use std::process::ExitCode;

use arrow::util::pretty::pretty_format_batches;
use clap::{Parser, Subcommand};
use comfy_table::{Table, presets::UTF8_FULL_CONDENSED};

use crate::{Error, ErrorClass, PartitionSelection, Result, RunReport, RunStatus, Runtime};

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
    /// More log output on stderr (-v info, -vv debug, -vvv trace).
    #[arg(short, long, global = true, action = clap::ArgAction::Count)]
    verbose: u8,
    /// Only errors on stderr.
    #[arg(short, long, global = true, conflicts_with = "verbose")]
    quiet: bool,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// List registered assets (those of a selection, in the order a build runs them).
    List {
        /// Only these assets (dbt's selection syntax: `name`, `+name`, `name+`,
        /// `group:g`, `tag:t`, `kind:sql`; space = union, comma = intersection).
        #[arg(long, short = 's')]
        select: Option<String>,
    },
    /// Build a selection: each asset in dependency order with its checks; a failure skips
    /// everything downstream (exit code 1 when anything failed).
    Build {
        /// The selection (default: every asset).
        #[arg(default_value = "*")]
        select: String,
        /// Assets to leave out (same syntax).
        #[arg(long)]
        exclude: Option<String>,
        /// Partition of the partitioned assets (default: each one's latest).
        #[arg(long)]
        partition: Option<String>,
        /// Assets run at once, each when its upstreams are done (default: the core count).
        #[arg(long)]
        parallel: Option<usize>,
        /// Rebuild only the stale partitions: those whose upstream partitions changed
        /// after they were built.
        #[arg(long, conflicts_with = "partition")]
        stale: bool,
    },
    /// Print the asset graph of a selection.
    Graph {
        /// The selection (default: every asset).
        #[arg(long, short = 's', default_value = "*")]
        select: String,
        /// mermaid, dot or json.
        #[arg(long, default_value = "mermaid")]
        format: String,
    },
    /// Describe an asset: kind, table, partitions, edges, columns, last run and, for a SQL
    /// model, which upstream columns each of its columns comes from.
    Describe {
        /// Asset name.
        asset: String,
    },
    /// Materialize one partition of an asset.
    Materialize {
        /// Asset name.
        asset: String,
        /// Partition key (YYYY-MM-DD, YYYY-MM-DDTHH, YYYY-MM or a static key, as the
        /// asset is partitioned); omit for unpartitioned assets.
        #[arg(long)]
        partition: Option<String>,
        /// Print the plan and exit without running it.
        #[arg(long)]
        explain: bool,
    },
    /// Backfill a selection over a partition range: each partition once the upstream
    /// partitions it maps to are done, up-to-date partitions skipped (exit code 1 when a
    /// partition failed, 130 when cancelled by Ctrl-C or SIGTERM; run it again to resume).
    Backfill {
        /// The selection (dbt's syntax, as `build` takes it; default: every asset).
        #[arg(default_value = "*")]
        select: String,
        /// First partition key (in the key form of the selected assets).
        #[arg(long)]
        from: String,
        /// Last partition key, inclusive.
        #[arg(long)]
        to: String,
        /// Assets to leave out (same syntax).
        #[arg(long)]
        exclude: Option<String>,
        /// Partitions run at once (default: the core count).
        #[arg(long)]
        parallel: Option<usize>,
        /// Run partitions even when their latest run succeeded on the same inputs.
        #[arg(long)]
        force: bool,
        /// Only partitions whose latest run failed (and what they had skipped).
        #[arg(long)]
        failed_only: bool,
        /// Print the plan and exit without running it.
        #[arg(long)]
        explain: bool,
    },
    /// Run the quality checks registered for a table (exit code 1 when a blocking check fails).
    Check {
        /// Table, `ns.name`.
        table: String,
        /// Partition key; without it, each asset's rolling window.
        #[arg(long)]
        partition: Option<String>,
    },
    /// Publish a table, or one partition of it, to PostgreSQL: loaded with binary COPY,
    /// read back and checksummed, swapped in atomically and recorded in
    /// `_phlo.publications` (exit code 1 when it fails; the PostgreSQL table is then as it
    /// was).
    Publish {
        /// A registered publication (`phlo::publish!`), or a warehouse table `ns.table`
        /// with `--to`.
        name: String,
        /// The PostgreSQL table (`schema.table`) to publish a warehouse table into.
        #[arg(long)]
        to: Option<String>,
        /// Only this partition, replacing its rows (its table must be partitioned).
        #[arg(long)]
        partition: Option<String>,
        /// The PostgreSQL URL (default: the publication's variable; for a table,
        /// $PHLO_POSTGRES_URL).
        #[arg(long)]
        url: Option<String>,
    },
    /// Run a SQL query over the warehouse (tables are `ns.table`).
    Sql {
        /// The query.
        query: String,
    },
    /// Freshness of each asset and partition (exit code 1 when any asset FAILs).
    Status {
        /// The assets (dbt's selection syntax, as `build`; default: every asset).
        #[arg(default_value = "*")]
        select: String,
        /// Only this asset (the same as giving its name as the selection).
        #[arg(long)]
        asset: Option<String>,
    },
    /// Run every asset's `cron` in-process (one scheduler per warehouse; a second one
    /// exits with code 2 naming the holder), and the eager assets on upstream change;
    /// SIGTERM or Ctrl-C stops it after the runs in flight. Prints the runs it made and
    /// exits 1 if one failed.
    Serve {
        /// Run what is due now and exit (for a system cron).
        #[arg(long)]
        once: bool,
        /// Run up to N ticks missed while no scheduler ran, the newest ones (default 1).
        #[arg(long, value_name = "N", conflicts_with = "skip_missed")]
        catch_up: Option<u32>,
        /// Run none of the ticks missed while no scheduler ran.
        #[arg(long)]
        skip_missed: bool,
        /// Also run these assets eagerly when an upstream partition changes (selection
        /// syntax; SQL models can say `automation = "eager"` in their header instead).
        #[arg(long)]
        eager: Option<String>,
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

/// Like [`main`], with the project's SQL models and seeds:
/// `phlo::cli::main_with(phlo::Project { models: phlo::models!("models"), seeds: phlo::seeds!("seeds"), tests: phlo::models!("tests") })`.
pub fn main_with(project: crate::Project) -> ExitCode {
    run_with(project, std::env::args_os())
}

/// Like [`main`], with explicit arguments (the first is the program name).
pub fn run<I, T>(args: I) -> ExitCode
where
    I: IntoIterator<Item = T>,
    T: Into<OsString> + Clone,
{
    run_with(crate::Project::default(), args)
}

/// Like [`run`], with the project's SQL models and seeds.
pub fn run_with<I, T>(project: crate::Project, args: I) -> ExitCode
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
    // `serve` reports its ticks at info level: shown unless asked to be quiet.
    let verbose = match cli.command {
        Command::Serve { .. } => cli.verbose.max(1),
        _ => cli.verbose,
    };
    install_logging(verbose, cli.quiet);
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
    match tokio.block_on(execute(cli, project)) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("{}", error_lines(&e));
            exit_code(&e)
        }
    }
}

/// The exit code of a failure: the one mapping from [`Error::class`].
pub fn exit_code(e: &Error) -> ExitCode {
    ExitCode::from(match e.class() {
        ErrorClass::RunFailed => 1,
        ErrorClass::Usage => 2,
    })
}

/// `error: …`, then each cause the message does not already say, one line each.
pub fn error_lines(e: &Error) -> String {
    let mut out = format!("error: {}", e.to_string().replace('\n', " "));
    let mut said = out.clone();
    let mut source = std::error::Error::source(e);
    while let Some(s) = source {
        let text = s.to_string().replace('\n', " ");
        if !said.contains(&text) {
            out.push_str(&format!("\n  caused by: {text}"));
            said.push_str(&text);
        }
        source = s.source();
    }
    out
}

/// A `tracing` subscriber on stderr: `RUST_LOG` when set, else by `-v`/`-q`. A subscriber
/// the program installed itself is kept.
fn install_logging(verbose: u8, quiet: bool) {
    use tracing_subscriber::EnvFilter;
    let level = match (quiet, verbose) {
        (true, _) => "error",
        (false, 0) => "warn",
        (false, 1) => "info",
        (false, 2) => "debug",
        (false, _) => "trace",
    };
    // phlo's own events at the chosen level; other crates' only when they are errors, and
    // deltalake's not at all (it logs expected conflicts and absent tables as errors).
    let default = format!(
        "error,deltalake_core=off,delta_kernel=off,phlo={level},phlo_runtime={level},phlo_ingest={level},\
         phlo_core={level},phlo_quality={level}"
    );
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(default));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_target(false)
        .try_init();
}

async fn execute(cli: Cli, project: crate::Project) -> Result<ExitCode> {
    let rt = Runtime::builder(&cli.warehouse)
        .project(project)
        .build()
        .await?;
    let code = command(&rt, cli).await;
    // Checkpoints due after the last commits are written before the process ends.
    rt.settle().await;
    code
}

async fn command(rt: &Runtime, cli: Cli) -> Result<ExitCode> {
    match cli.command {
        Command::Build {
            select,
            exclude,
            partition,
            parallel,
            stale,
        } => {
            let parallel = parallel.unwrap_or_else(|| {
                std::thread::available_parallelism().map_or(1, std::num::NonZeroUsize::get)
            });
            let report = if stale {
                rt.build_stale(&select, exclude.as_deref()).await?
            } else {
                rt.build_selection_with(&select, exclude.as_deref(), partition.as_deref(), parallel)
                    .await?
            };
            if cli.json {
                out(&serde_json::to_string_pretty(&report)?);
            } else {
                let mut t = table_of(&["asset", "kind", "status", "runs", "rows in", "detail"]);
                for a in &report.assets {
                    let (status, detail) = match &a.status {
                        crate::BuildStatus::Success => ("success".to_string(), String::new()),
                        crate::BuildStatus::Failed { error } => ("FAILED".into(), error.clone()),
                        crate::BuildStatus::Skipped { because } => {
                            ("skipped".into(), format!("upstream `{because}` failed"))
                        }
                    };
                    t.add_row(vec![
                        a.asset.clone(),
                        a.kind.to_string(),
                        status,
                        a.runs.len().to_string(),
                        a.runs.iter().map(|r| r.rows_in).sum::<u64>().to_string(),
                        detail,
                    ]);
                }
                out(&t.to_string());
            }
            Ok(if report.succeeded() {
                ExitCode::SUCCESS
            } else {
                ExitCode::from(1)
            })
        }
        Command::Graph { select, format } => {
            let graph = rt.graph();
            let chosen: std::collections::BTreeSet<String> =
                rt.select(&select, None)?.into_iter().collect();
            match format.as_str() {
                "mermaid" => out(&graph.to_mermaid(&chosen)),
                "dot" => out(&graph.to_dot(&chosen)),
                "json" => out(&serde_json::to_string_pretty(
                    &rt.graph_json(&chosen).await?,
                )?),
                other => {
                    return Err(Error::InvalidArgument {
                        message: format!("--format {other}: use mermaid, dot or json"),
                    });
                }
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Describe { asset } => {
            let d = rt.describe(&asset).await?;
            if cli.json {
                out(&serde_json::to_string_pretty(&d)?);
            } else {
                out(&describe_text(&d));
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::List { select } => {
            let mut assets = rt.assets();
            if let Some(select) = select {
                let order = rt.select(&select, None)?;
                assets.retain(|a| order.contains(&a.name));
                assets.sort_by_key(|a| order.iter().position(|n| *n == a.name));
            }
            if cli.json {
                out(&serde_json::to_string_pretty(&assets)?);
            } else {
                let mut t = table_of(&[
                    "asset",
                    "kind",
                    "table",
                    "group",
                    "strategy",
                    "dedup",
                    "key",
                    "partitions",
                    "schema",
                ]);
                for a in assets {
                    t.add_row(vec![
                        a.name,
                        a.kind.to_string(),
                        a.table,
                        a.group.unwrap_or_default(),
                        format!("{:?}", a.merge_strategy).to_lowercase(),
                        format!("{:?}", a.dedup).to_lowercase(),
                        a.unique_key.join(","),
                        a.partitions,
                        a.schema,
                    ]);
                }
                out(&t.to_string());
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Materialize {
            asset,
            partition,
            explain,
        } => {
            let selection = match partition {
                Some(p) => PartitionSelection::Key(p),
                None => PartitionSelection::Unpartitioned,
            };
            let plan = rt.plan(&asset, &selection).await?;
            if explain {
                print_plan(&plan, cli.json)?;
                return Ok(ExitCode::SUCCESS);
            }
            let mut outcomes = rt.run_plan(&plan).await;
            match outcomes.pop() {
                Some(Ok(report)) => {
                    print_reports(std::slice::from_ref(&report), cli.json)?;
                    Ok(ExitCode::SUCCESS)
                }
                Some(Err(failure)) => {
                    // With --json, the failed run's report goes to stdout, the error to stderr.
                    if cli.json {
                        print_reports(std::slice::from_ref(&failure.report), true)?;
                    }
                    Err(failure.error)
                }
                None => Err(Error::InvalidArgument {
                    message: "the plan has no step".into(),
                }),
            }
        }
        Command::Backfill {
            select,
            from,
            to,
            exclude,
            parallel,
            force,
            failed_only,
            explain,
        } => {
            if explain {
                let mut plan = crate::RunPlan::default();
                for asset in rt.select(&select, exclude.as_deref())? {
                    if rt.registry().get(&asset).is_err() {
                        continue;
                    }
                    let selection = PartitionSelection::Range {
                        from: from.clone(),
                        to: to.clone(),
                    };
                    plan.steps.extend(rt.plan(&asset, &selection).await?.steps);
                }
                print_plan(&plan, cli.json)?;
                return Ok(ExitCode::SUCCESS);
            }
            let cancel = crate::Cancellation::new();
            let on_signal = cancel.clone();
            tokio::spawn(async move {
                stop_signal().await;
                eprintln!(
                    "cancelling: no new partition starts, running ones finish (again to stop at once)"
                );
                on_signal.cancel();
                stop_signal().await;
                std::process::exit(130);
            });
            let mut options = crate::BackfillOptions::new()
                .force(force)
                .failed_only(failed_only)
                .cancellation(cancel);
            if let Some(n) = parallel {
                options = options.parallel(n);
            }
            if let Some(exclude) = exclude {
                options = options.exclude(exclude);
            }
            let bar = (!cli.quiet).then(|| {
                BackfillProgressView::new(std::io::IsTerminal::is_terminal(&std::io::stderr()))
            });
            if let Some(bar) = bar.clone() {
                options = options.on_progress(move |p| bar.show(p));
            }
            let report = rt.backfill_selection(&select, &from, &to, &options).await?;
            if let Some(bar) = &bar {
                bar.finish();
            }
            if cli.json {
                out(&serde_json::to_string_pretty(&report)?);
            } else {
                let mut t = table_of(&[
                    "asset",
                    "partitions",
                    "succeeded",
                    "failed",
                    "up to date",
                    "upstream failed",
                    "not run",
                    "rows in",
                ]);
                for (asset, c) in report.by_asset() {
                    let rows: u64 = report
                        .runs
                        .iter()
                        .filter(|r| r.asset == asset)
                        .map(|r| r.rows_in)
                        .sum();
                    t.add_row(vec![
                        asset,
                        c.done().to_string(),
                        c.succeeded.to_string(),
                        c.failed.to_string(),
                        c.up_to_date.to_string(),
                        c.upstream_failed.to_string(),
                        c.not_run.to_string(),
                        rows.to_string(),
                    ]);
                }
                out(&t.to_string());
                for p in &report.partitions {
                    if let crate::Outcome::Failed { error, .. } = &p.outcome {
                        out(&format!(
                            "{} {}: {error}",
                            p.asset,
                            p.partition.as_deref().unwrap_or("-")
                        ));
                    }
                }
                if report.cancelled {
                    out(&format!(
                        "cancelled: {} partitions not run; run the same backfill again to resume",
                        report.counts().not_run
                    ));
                }
            }
            Ok(if report.cancelled {
                ExitCode::from(130)
            } else if report.all_succeeded() {
                ExitCode::SUCCESS
            } else {
                ExitCode::from(1)
            })
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
        Command::Publish {
            name,
            to,
            partition,
            url,
        } => {
            let registered = rt.registry().publication(&name).copied();
            let receipt = match (registered, to) {
                (Some(_), None) => match url {
                    None => rt.publish(&name, partition.as_deref()).await?,
                    Some(url) => {
                        rt.publish_with_url(&name, partition.as_deref(), &url)
                            .await?
                    }
                },
                (Some(_), Some(_)) => {
                    return Err(phlo_runtime::Error::InvalidArgument {
                        message: format!(
                            "`{name}` is a publication with its own target; leave out --to"
                        ),
                    });
                }
                (None, Some(to)) => {
                    let url = match url {
                        Some(u) => u,
                        None => rt.connection_url(phlo_runtime::registry::DEFAULT_URL_ENV)?,
                    };
                    rt.publish_table(&name, &to, &url, partition.as_deref())
                        .await?
                }
                (None, None) => {
                    return Err(phlo_runtime::Error::InvalidArgument {
                        message: format!(
                            "`{name}` is not a registered publication; to publish a table, add --to schema.table"
                        ),
                    });
                }
            };
            if cli.json {
                out(&serde_json::to_string_pretty(&receipt)?);
            } else {
                let mut t = table_of(&[
                    "postgres table",
                    "partition",
                    "rows",
                    "checksum",
                    "source",
                    "version",
                ]);
                t.add_row(vec![
                    receipt.table.clone(),
                    receipt
                        .partition
                        .clone()
                        .unwrap_or_else(|| "(whole)".into()),
                    receipt.rows.to_string(),
                    receipt.checksum.clone(),
                    receipt.source_table.clone(),
                    receipt
                        .source_version
                        .map_or_else(String::new, |v| v.to_string()),
                ]);
                out(&t.to_string());
            }
            Ok(ExitCode::SUCCESS)
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
        Command::Serve {
            once,
            catch_up,
            skip_missed,
            eager,
        } => {
            let missed = match (catch_up, skip_missed) {
                (_, true) => crate::schedule::MissedTicks::Skip,
                (Some(n), false) => crate::schedule::MissedTicks::CatchUp(n),
                (None, false) => crate::schedule::MissedTicks::default(),
            };
            let mut options = crate::schedule::ScheduleOptions::default().missed(missed);
            if let Some(select) = eager {
                for name in rt.select(&select, None)? {
                    if rt.registry().get(&name).is_ok() {
                        options = options.eager(name);
                    }
                }
            }
            let scheduler = crate::schedule::Scheduler::new(rt, options)?;
            let runs = if once {
                scheduler.run_once().await?
            } else {
                scheduler.serve(shutdown_signal()).await?
            };
            if cli.json {
                out(&serde_json::to_string_pretty(&runs)?);
            } else {
                let mut t = table_of(&["asset", "cause", "partition", "status", "run", "error"]);
                for r in &runs {
                    t.add_row(vec![
                        r.asset.clone(),
                        match r.cause {
                            crate::schedule::Cause::Tick { at } => {
                                format!("tick {}", at.to_rfc3339())
                            }
                            crate::schedule::Cause::Eager => "eager".into(),
                        },
                        r.partition.clone().unwrap_or_else(|| "-".into()),
                        r.status.to_string(),
                        r.run_id.clone().unwrap_or_default(),
                        r.error.clone().unwrap_or_default(),
                    ]);
                }
                out(&t.to_string());
            }
            Ok(if runs.iter().any(|r| r.status == RunStatus::Failed) {
                ExitCode::from(1)
            } else {
                ExitCode::SUCCESS
            })
        }
        Command::Status { select, asset } => {
            let select = asset.unwrap_or(select);
            let statuses: Vec<crate::AssetStatus> = rt.status_of(&select).await?;
            if cli.json {
                out(&serde_json::to_string_pretty(&statuses)?);
            } else {
                let mut t = table_of(&[
                    "asset",
                    "partition",
                    "freshness",
                    "last success",
                    "age (h)",
                    "stale",
                ]);
                let text = |f: Option<crate::Freshness>| f.map_or("-".into(), |f| f.to_string());
                for s in &statuses {
                    t.add_row(vec![
                        s.asset.clone(),
                        s.latest_partition
                            .clone()
                            .map_or_else(|| "(asset)".into(), |p| format!("latest: {p}")),
                        text(s.freshness),
                        s.last_commit
                            .map(|t| format!("commit {}", t.to_rfc3339()))
                            .unwrap_or_default(),
                        String::new(),
                        String::new(),
                    ]);
                    for p in &s.partitions {
                        t.add_row(vec![
                            String::new(),
                            p.partition.clone().unwrap_or_else(|| "-".into()),
                            text(p.freshness),
                            p.last_success.map(|t| t.to_rfc3339()).unwrap_or_default(),
                            p.age_hours.map(|a| format!("{a:.1}")).unwrap_or_default(),
                            if p.stale {
                                "stale".into()
                            } else {
                                String::new()
                            },
                        ]);
                    }
                }
                out(&t.to_string());
            }
            let failing = statuses
                .iter()
                .any(|s| s.freshness == Some(crate::Freshness::Fail));
            Ok(if failing {
                ExitCode::from(1)
            } else {
                ExitCode::SUCCESS
            })
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

/// `describe`'s text: a header of facts, then the columns with their lineage.
fn describe_text(d: &crate::AssetDescription) -> String {
    let i = &d.info;
    let mut lines = vec![
        format!("{} ({})", i.name, i.kind),
        format!("  table         {}", i.table),
        format!("  partitions    {}", i.partitions),
    ];
    if let Some(m) = &d.materialized {
        lines.push(format!("  materialized  {m}"));
    } else {
        lines.push(format!("  strategy      {:?}", i.merge_strategy));
    }
    if !i.unique_key.is_empty() {
        lines.push(format!("  unique_key    {}", i.unique_key.join(", ")));
    }
    if let Some(g) = &i.group {
        lines.push(format!("  group         {g}"));
    }
    if !d.tags.is_empty() {
        lines.push(format!("  tags          {}", d.tags.join(", ")));
    }
    lines.push(format!("  schema        {}", i.schema));
    lines.push(format!("  defined at    {}", i.location));
    let ups: Vec<String> = d
        .upstream
        .iter()
        .map(|u| {
            let mapping = serde_json::to_value(u.mapping)
                .map(|v| v.to_string().trim_matches('"').to_string())
                .unwrap_or_default();
            format!("{} ({mapping})", u.asset)
        })
        .collect();
    lines.push(format!(
        "  upstream      {}",
        if ups.is_empty() {
            "-".into()
        } else {
            ups.join(", ")
        }
    ));
    lines.push(format!(
        "  downstream    {}",
        if d.downstream.is_empty() {
            "-".into()
        } else {
            d.downstream.join(", ")
        }
    ));
    lines.push(format!(
        "  version       {}",
        d.table_version
            .map_or_else(|| "(no table yet)".to_string(), |v| v.to_string())
    ));
    if let Some(r) = &d.last_run {
        lines.push(format!(
            "  last run      {} {} {}",
            r.run_id,
            r.partition.as_deref().unwrap_or("-"),
            r.status
        ));
    }
    let mut t = table_of(&["column", "type", "nullable", "from"]);
    for c in &d.columns {
        let from = d
            .lineage
            .as_ref()
            .and_then(|l| l.iter().find(|l| l.column == c.name))
            .map(|l| {
                l.sources
                    .iter()
                    .map(|s| format!("{}.{}", s.asset.as_deref().unwrap_or(&s.table), s.column))
                    .collect::<Vec<_>>()
                    .join(", ")
            })
            .unwrap_or_default();
        t.add_row(vec![
            c.name.clone(),
            c.data_type.clone(),
            c.nullable.to_string(),
            from,
        ]);
    }
    lines.push(t.to_string());
    if let Some(why) = &d.lineage_unavailable {
        lines.push(format!("column lineage unavailable: {why}"));
    }
    lines.join("\n")
}

/// Completes on SIGTERM or SIGINT (Ctrl-C). The handlers are installed at once, so a
/// signal during the first runs is not lost. If they cannot be installed, the future never
/// completes and the log says so.
fn shutdown_signal() -> impl std::future::Future<Output = ()> {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        let handlers = (
            signal(SignalKind::terminate()),
            signal(SignalKind::interrupt()),
        );
        async move {
            match handlers {
                (Ok(mut term), Ok(mut int)) => {
                    tokio::select! {
                        _ = term.recv() => tracing::info!("SIGTERM received"),
                        _ = int.recv() => tracing::info!("SIGINT received"),
                    }
                }
                (Err(e), _) | (_, Err(e)) => {
                    tracing::warn!(error = %e, "signal handlers could not be installed");
                    std::future::pending::<()>().await;
                }
            }
        }
    }
    #[cfg(not(unix))]
    {
        async move {
            if let Err(e) = tokio::signal::ctrl_c().await {
                tracing::warn!(error = %e, "Ctrl-C handler could not be installed");
                std::future::pending::<()>().await;
            }
        }
    }
}

fn print_plan(plan: &crate::RunPlan, json: bool) -> Result<()> {
    if json {
        out(&serde_json::to_string_pretty(&plan.to_json())?);
    } else {
        out(plan.explain().trim_end());
    }
    Ok(())
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

/// Resolves on Ctrl-C or SIGTERM; never when signals cannot be listened to.
async fn stop_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        if let Ok(mut term) = signal(SignalKind::terminate()) {
            tokio::select! {
                r = tokio::signal::ctrl_c() => {
                    if r.is_err() {
                        term.recv().await;
                    }
                }
                _ = term.recv() => {}
            }
            return;
        }
    }
    if tokio::signal::ctrl_c().await.is_err() {
        std::future::pending::<()>().await;
    }
}

/// A backfill's progress on stderr: a bar (done, failed, skipped, rate, ETA) on a
/// terminal, one line per partition otherwise.
#[derive(Clone)]
struct BackfillProgressView {
    bar: Option<indicatif::ProgressBar>,
}

impl BackfillProgressView {
    fn new(terminal: bool) -> Self {
        let bar = terminal.then(|| {
            let bar = indicatif::ProgressBar::new(0);
            if let Ok(style) = indicatif::ProgressStyle::with_template(
                "{bar:30} {pos}/{len} {msg} · {per_sec} · eta {eta}",
            ) {
                bar.set_style(style);
            }
            bar
        });
        BackfillProgressView { bar }
    }

    fn show(&self, p: &crate::BackfillProgress) {
        let c = &p.counts;
        match &self.bar {
            Some(bar) => {
                bar.set_length(p.total as u64);
                bar.set_position(c.done() as u64);
                bar.set_message(format!(
                    "done {} · failed {} · skipped {}",
                    c.succeeded,
                    c.failed,
                    c.skipped()
                ));
            }
            None => {
                let status = match &p.last.outcome {
                    crate::Outcome::Success { .. } => "success".to_string(),
                    crate::Outcome::Failed { error, .. } => format!("failed: {error}"),
                    crate::Outcome::Skipped { reason, because } => match because {
                        Some(b) => format!("skipped ({reason}: {b})"),
                        None => format!("skipped ({reason})"),
                    },
                    crate::Outcome::NotRun => "not run".to_string(),
                };
                eprintln!(
                    "backfill [{}/{}] {} {} {status}",
                    c.done(),
                    p.total,
                    p.last.asset,
                    p.last.partition.as_deref().unwrap_or("-")
                );
            }
        }
    }

    fn finish(&self) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
    }
}
