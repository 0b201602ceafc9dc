//! The printed tables and the per-scenario figures behind them.

use phlo::{RunReport, StepTimings};
use serde::Serialize;

use crate::scenario::Outcome;
use crate::{Config, overhead};

const MIB: f64 = 1024.0 * 1024.0;

/// Fresh target: rows per second, end to end.
const FRESH_ROWS_PER_S: f64 = 1_000_000.0;
/// Upsert target: seconds per million rows upserted (into a table ten times larger).
const UPSERT_S_PER_M_ROWS: f64 = 5.0;
/// Memory target: peak RSS over the Arrow size of the input.
const RSS_OVER_ARROW: f64 = 3.0;

/// One line of the main table.
#[derive(Debug, Clone, Serialize)]
pub struct Row {
    /// Scenario.
    pub scenario: String,
    /// Rows handed to phlo.
    pub rows: u64,
    /// Rows in the table before.
    pub table_rows_before: u64,
    /// Wall time, seconds.
    pub total_s: f64,
    /// Rows per second, end to end.
    pub rows_per_s: f64,
    /// Step times (summed over the scenario's runs), milliseconds.
    pub timings: StepTimings,
    /// RSS before the step, MiB.
    pub rss_before_mib: f64,
    /// Peak RSS, MiB.
    pub peak_rss_mib: f64,
    /// Arrow size of the input, MiB.
    pub input_arrow_mib: f64,
    /// Peak RSS over input Arrow size.
    pub rss_over_arrow: f64,
    /// The time target, as text.
    pub target: String,
    /// Whether the time target is met (`None`: no target).
    pub time_met: Option<bool>,
    /// Whether the memory target is met (`None`: no target).
    pub rss_met: Option<bool>,
}

fn sum_timings(reports: &[RunReport]) -> StepTimings {
    reports.iter().fold(StepTimings::default(), |a, r| {
        let t = &r.timings;
        StepTimings {
            fetch_ms: a.fetch_ms + t.fetch_ms,
            coerce_ms: a.coerce_ms + t.coerce_ms,
            validate_ms: a.validate_ms + t.validate_ms,
            dedup_ms: a.dedup_ms + t.dedup_ms,
            write_ms: a.write_ms + t.write_ms,
            record_ms: a.record_ms + t.record_ms,
            total_ms: a.total_ms + t.total_ms,
        }
    })
}

/// The figures of `o`, with its targets.
pub fn row(cfg: &Config, o: &Outcome) -> Row {
    let rows_per_s = if o.wall_s > 0.0 {
        o.rows as f64 / o.wall_s
    } else {
        0.0
    };
    let rss_over_arrow = if o.input_arrow_bytes > 0 {
        o.peak_rss_bytes as f64 / o.input_arrow_bytes as f64
    } else {
        0.0
    };
    let upsert_limit = UPSERT_S_PER_M_ROWS * cfg.rows as f64 / 1e6;
    let (target, time_met) = match o.scenario.as_str() {
        "fresh" => (
            format!("≥{:.2}M rows/s", FRESH_ROWS_PER_S / 1e6),
            Some(rows_per_s >= FRESH_ROWS_PER_S),
        ),
        "upsert" => (
            format!("≤{upsert_limit:.2} s"),
            Some(o.wall_s <= upsert_limit),
        ),
        _ => ("(not measured)".to_string(), None),
    };
    let rss_met = (o.scenario != "upsert-setup").then_some(rss_over_arrow <= RSS_OVER_ARROW);
    Row {
        scenario: o.scenario.clone(),
        rows: o.rows,
        table_rows_before: o.table_rows_before,
        total_s: o.wall_s,
        rows_per_s,
        timings: sum_timings(&o.reports),
        rss_before_mib: o.rss_before_bytes as f64 / MIB,
        peak_rss_mib: o.peak_rss_bytes as f64 / MIB,
        input_arrow_mib: o.input_arrow_bytes as f64 / MIB,
        rss_over_arrow,
        target,
        time_met,
        rss_met,
    }
}

fn met(m: Option<bool>) -> String {
    match m {
        Some(true) => "yes".into(),
        Some(false) => "NO".into(),
        None => "-".into(),
    }
}

/// `n` with thousands separators.
pub(crate) fn count(n: u64) -> String {
    let s = n.to_string();
    let mut out = String::new();
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

fn version(v: Option<i64>) -> String {
    v.map_or_else(|| "-".into(), |v| v.to_string())
}

/// Prints `cells` as an aligned table: text columns left, the others right.
pub(crate) fn print_table(header: &[&str], cells: &[Vec<String>], left: usize) {
    let mut widths: Vec<usize> = header.iter().map(|h| h.chars().count()).collect();
    for row in cells {
        for (w, c) in widths.iter_mut().zip(row) {
            *w = (*w).max(c.chars().count());
        }
    }
    let line = |row: &[String]| {
        let parts: Vec<String> = row
            .iter()
            .zip(&widths)
            .enumerate()
            .map(|(i, (c, &w))| {
                if i < left {
                    format!("{c:<w$}")
                } else {
                    format!("{c:>w$}")
                }
            })
            .collect();
        println!("{}", parts.join("  ").trim_end());
    };
    let header: Vec<String> = header.iter().map(|h| h.to_string()).collect();
    line(&header);
    let total: usize = widths.iter().sum::<usize>() + 2 * widths.len().saturating_sub(1);
    println!("{}", "-".repeat(total));
    for row in cells {
        line(row);
    }
}

/// Prints the main table, the counters and notes.
pub fn print(cfg: &Config, rows: &[Row], outcomes: &[Outcome], all_runs: &[Outcome]) {
    println!();
    println!(
        "phlo-bench: {} rows per load, {} base partitions, {:.0}% duplicates (fresh), \
         {:.0}% updates (upsert), {} cores",
        count(cfg.rows),
        cfg.base_partitions,
        cfg.dup_fraction * 100.0,
        cfg.update_fraction * 100.0,
        std::thread::available_parallelism().map_or(0, |n| n.get()),
    );
    println!();
    let header = [
        "scenario",
        "rows",
        "table before",
        "total s",
        "rows/s",
        "fetch ms",
        "coerce ms",
        "validate ms",
        "dedup ms",
        "write ms",
        "record ms",
        "RSS before MiB",
        "peak RSS MiB",
        "input Arrow MiB",
        "RSS/Arrow",
        "target",
        "met?",
        "RSS ≤3×?",
    ];
    let cells: Vec<Vec<String>> = rows
        .iter()
        .map(|r| {
            vec![
                r.scenario.clone(),
                count(r.rows),
                count(r.table_rows_before),
                format!("{:.3}", r.total_s),
                count(r.rows_per_s.round() as u64),
                format!("{:.0}", r.timings.fetch_ms),
                format!("{:.0}", r.timings.coerce_ms),
                format!("{:.0}", r.timings.validate_ms),
                format!("{:.0}", r.timings.dedup_ms),
                format!("{:.0}", r.timings.write_ms),
                format!("{:.0}", r.timings.record_ms),
                if r.rss_before_mib > 0.0 {
                    format!("{:.0}", r.rss_before_mib)
                } else {
                    "-".into()
                },
                format!("{:.0}", r.peak_rss_mib),
                format!("{:.1}", r.input_arrow_mib),
                format!("{:.2}", r.rss_over_arrow),
                r.target.clone(),
                met(r.time_met),
                met(r.rss_met),
            ]
        })
        .collect();
    print_table(&header, &cells, 1);

    println!();
    let header = [
        "scenario",
        "runs",
        "rows_in",
        "duplicates_dropped",
        "inserted",
        "updated",
        "unchanged",
        "table rows after",
        "version",
        "as generated?",
    ];
    let cells: Vec<Vec<String>> = outcomes
        .iter()
        .map(|o| {
            let sum = |f: fn(&RunReport) -> u64| o.reports.iter().map(f).sum::<u64>();
            let before = o.reports.first().and_then(|r| r.table_version_before);
            let after = o.reports.last().and_then(|r| r.table_version_after);
            vec![
                o.scenario.clone(),
                o.reports.len().to_string(),
                count(sum(|r| r.rows_in)),
                count(sum(|r| r.duplicates_dropped)),
                count(sum(|r| r.rows_inserted)),
                count(sum(|r| r.rows_updated)),
                count(sum(|r| r.rows_unchanged)),
                count(o.table_rows_after),
                format!("{} → {}", version(before), version(after)),
                // The child fails unless every report matches what it generated.
                "yes".into(),
            ]
        })
        .collect();
    print_table(&header, &cells, 1);

    println!();
    for o in outcomes {
        println!(
            "{}: input generated in {:.2} s (not measured); process peak RSS {:.0} MiB; \
             peak RSS {}",
            o.scenario,
            o.generate_s,
            o.process_peak_rss_bytes as f64 / MIB,
            if o.peak_reset {
                "measured over the step only (VmHWM reset before it; input batches resident)"
            } else {
                "of the whole child process"
            },
        );
    }
    if cfg.repeat > 1 {
        for name in ["fresh", "upsert"] {
            let walls: Vec<String> = all_runs
                .iter()
                .filter(|o| o.scenario == name)
                .map(|o| format!("{:.3}", o.wall_s))
                .collect();
            if !walls.is_empty() {
                println!(
                    "{name}: {} runs, wall s {} (the table shows the median)",
                    walls.len(),
                    walls.join(", ")
                );
            }
        }
    }
    println!(
        "targets: fresh ≥1M rows/s end to end; upsert ≤{UPSERT_S_PER_M_ROWS} s per 1M rows \
         (1M into 10M); peak RSS ≤{RSS_OVER_ARROW}× the input's Arrow size"
    );
}

/// Prints the runtime-overhead figures (figure | value | target | met?), the step medians
/// behind them and each scenario's process.
pub fn print_overhead(
    cfg: &Config,
    figures: &[overhead::Figure],
    steps: &(Vec<String>, Vec<Vec<String>>),
    outcomes: &[overhead::Sampled],
) {
    let scaled = cfg.days != overhead::FULL_DAYS
        || cfg.other_tables != overhead::FULL_OTHER_TABLES
        || cfg.samples != overhead::FULL_SAMPLES
        || cfg.day_rows != overhead::DAY_ROWS;
    let size = if cfg.quick {
        " (quick)"
    } else if scaled {
        " (scaled)"
    } else {
        ""
    };
    println!();
    println!(
        "phlo-bench runtime overhead{size}: {} rows per daily partition; {} other tables, {} \
         measured partitions per case (after {} warm-up); {} days of history, sequential; {} cores",
        count(cfg.day_rows),
        cfg.other_tables,
        cfg.samples,
        overhead::WARMUP,
        cfg.days,
        std::thread::available_parallelism().map_or(0, |n| n.get()),
    );
    if scaled {
        println!(
            "  scaled down: the targets are stated for {} other tables, {} days, {} samples \
             and {} rows a day; a `met` at this size is not the figure",
            overhead::FULL_OTHER_TABLES,
            overhead::FULL_DAYS,
            overhead::FULL_SAMPLES,
            count(overhead::DAY_ROWS),
        );
    }
    println!();
    let cells: Vec<Vec<String>> = figures
        .iter()
        .map(|f| {
            let mut m = met(f.met);
            if f.met.is_some() && !size.is_empty() {
                m.push_str(size);
            }
            vec![f.figure.clone(), f.value.clone(), f.target.clone(), m]
        })
        .collect();
    print_table(&["figure", "value", "target", "met?"], &cells, 1);

    println!();
    let header: Vec<&str> = steps.0.iter().map(String::as_str).collect();
    print_table(&header, &steps.1, 1);

    if let Some(h) = outcomes.iter().find(|o| o.scenario == "history") {
        println!();
        print_table(
            &[
                "history days",
                "wall ms (median)",
                "write ms",
                "record ms",
                "table version after",
            ],
            &overhead::history_profile(h),
            1,
        );
    }

    println!();
    let cells: Vec<Vec<String>> = outcomes
        .iter()
        .map(|o| {
            vec![
                o.scenario.clone(),
                o.runs.len().to_string(),
                count(o.table_rows_after),
                o.delta_tables.to_string(),
                format!("{:.0}", o.process_peak_rss_bytes as f64 / MIB),
            ]
        })
        .collect();
    print_table(
        &[
            "scenario",
            "measured runs",
            "table rows after",
            "Delta tables in warehouse",
            "process peak RSS MiB",
        ],
        &cells,
        1,
    );
    println!(
        "wall = the `materialize` call (plan, run, _phlo.runs record); total_ms excludes the \
         record; encode = arrow-rs ArrowWriter, snappy, into a Vec<u8>, of the partition's rows \
         as written (user + _phlo_* columns, read back after the backfill), mean of {} encodes",
        overhead::ENCODE_REPS
    );
}
