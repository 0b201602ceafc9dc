//! The runtime's own overhead on small daily partitions, three figures:
//!
//! 1. **Other tables don't cost** (`no-other-tables`, `other-tables-setup`, `other-tables`):
//!    `--samples` materializations of one `--day-rows`-row daily partition (after two warm-up
//!    partitions, in one process) into an otherwise empty warehouse, then into a warehouse
//!    that also holds `--other-tables` one-commit Delta tables (written by as many tiny
//!    assets in a setup process, not timed; the measured runtime registers them too, as the
//!    binary of a project with that many tables would). Median wall time of each, and their
//!    ratio. Writing those tables also leaves as many entries in `_phlo.runs`, so a control
//!    (`one-other-table-setup`, `one-other-table`) writes one other table with as many runs:
//!    same run log, one table.
//! 2. **Cost does not grow with history** (`history`): `--days` sequential daily partitions
//!    of `--day-rows` rows of the README's `Event` contract merged into one table, one
//!    `materialize` call each, in one process. Median wall time of the first and of the
//!    last 30 partitions, and their ratio.
//! 3. **phlo's own overhead per partition**, from the same runs: `total_ms − fetch_ms −
//!    parquet_encode_ms`, where `parquet_encode_ms` is the time arrow-rs takes to encode the
//!    partition's rows as written (user columns and `_phlo_*` columns, read back from the
//!    table after the backfill) to snappy Parquet in memory, averaged over
//!    [`ENCODE_REPS`] encodes in the same process.
//!
//! The user function only hands over batches generated before the timer starts (seeded by
//! the partition's index, every `ts` inside the partition's day); it reads no file.

use std::ops::Range;
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use phlo::arrow::array::{ArrayRef, RecordBatch};
use phlo::arrow::compute::cast;
use phlo::arrow::datatypes::{DataType, Field, Schema as ArrowSchema};
use phlo::chrono::{NaiveDate, TimeZone};
use phlo::datafusion::parquet::arrow::ArrowWriter;
use phlo::datafusion::parquet::basic::Compression;
use phlo::datafusion::parquet::file::properties::WriterProperties;
use phlo::prelude::*;
use phlo::registry::IngestionDescriptor;
use phlo::{FixedClock, Registry, SequentialRunIds};
use serde::{Deserialize, Serialize};

use crate::Config;
use crate::generate::{LoadSpec, generate};
use crate::scenario::{
    BoxError, Expected, MERGE_ASSET, check, day, fill_slot, fresh_dir, peak_rss_bytes, table_rows,
};

/// Days of the full history figure (the target is stated for this many).
pub const FULL_DAYS: u64 = 365;
/// Other tables of the full first figure (the target is stated for this many).
pub const FULL_OTHER_TABLES: u64 = 300;
/// Measured partitions per case of the first figure, full size.
pub const FULL_SAMPLES: u64 = 20;
/// Rows per daily partition.
pub const DAY_ROWS: u64 = 1_000;
/// Partitions of the history figure's first and last windows (fewer when `--days` < 60).
pub const WINDOW: usize = 30;
/// Partitions materialized (and not counted) before the first figure's measured ones: the
/// first creates the table, the second is the first merge.
pub const WARMUP: u64 = 2;
/// Parquet encodes averaged per partition.
pub const ENCODE_REPS: usize = 5;

/// Target: other tables' ratio (with / without).
pub const OTHER_TABLES_RATIO: f64 = 1.2;
/// Target: last / first window of the history.
pub const HISTORY_RATIO: f64 = 1.5;
/// Target: phlo's own time per partition, milliseconds.
pub const OVERHEAD_MS: f64 = 20.0;

/// The asset whose copies fill the warehouse with other tables.
const TINY_ASSET: &str = "bench_tiny";

/// The other tables' contract: three rows each.
#[derive(Schema)]
pub struct Tiny {
    /// Key.
    #[phlo(unique)]
    id: String,
    /// A value.
    value: f64,
}

/// Three rows for any partition; copied into `--other-tables` assets with their own tables.
#[ingestion(table = "bench_tiny", unique_key = "id", schema = Tiny)]
async fn bench_tiny(ctx: &PartitionContext) -> phlo::Result<Vec<Tiny>> {
    let day = ctx.partition_date();
    Ok((0..3)
        .map(|i| Tiny {
            id: format!("{day}-{i}"),
            value: f64::from(i),
        })
        .collect())
}

/// One materialization.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Sample {
    /// Partition key.
    pub partition: String,
    /// Wall time of the `materialize` call (planning and recording included), ms.
    pub wall_ms: f64,
    /// Its report.
    pub report: RunReport,
}

/// What one of these scenarios measured (the child prints it as JSON).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Sampled {
    /// Scenario name.
    pub scenario: String,
    /// Other tables in the warehouse while measuring.
    pub other_tables: u64,
    /// Runs before the measured ones (not counted).
    pub warmup: Vec<Sample>,
    /// The measured runs, in order.
    pub runs: Vec<Sample>,
    /// Per measured run (history only): arrow-rs snappy Parquet encode of its rows, ms.
    pub encode_ms: Vec<f64>,
    /// Time to generate the input (not measured), seconds.
    pub generate_s: f64,
    /// Peak RSS of the whole child process, bytes.
    pub process_peak_rss_bytes: u64,
    /// Rows in the measured table after the runs.
    pub table_rows_after: u64,
    /// Directories `<warehouse>/<ns>/<name>/_delta_log` after the runs.
    pub delta_tables: u64,
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

fn leak(s: String) -> &'static str {
    Box::leak(s.into_boxed_str())
}

fn other_name(i: u64) -> String {
    format!("other_{i:04}")
}

/// `n` copies of the tiny asset, `bench_other_NNNN` writing `bronze.other_NNNN`.
fn other_descriptors(global: &Registry, n: u64) -> Result<Vec<IngestionDescriptor>, BoxError> {
    let template = global.get(TINY_ASSET)?.descriptor;
    Ok((0..n)
        .map(|i| {
            let mut d = template;
            d.name = leak(format!("bench_{}", other_name(i)));
            d.spec.table = leak(format!("bronze.{}", other_name(i)));
            d
        })
        .collect())
}

/// A runtime over `warehouse` with exactly `descriptors`, a fixed clock and sequential ids.
async fn runtime(
    warehouse: &Path,
    descriptors: Vec<IngestionDescriptor>,
) -> Result<Runtime, BoxError> {
    let now = Utc
        .with_ymd_and_hms(2026, 6, 1, 0, 0, 0)
        .single()
        .ok_or("bad clock instant")?;
    Ok(Runtime::builder(warehouse)
        .registry(Registry::from_descriptors(descriptors)?)
        .clock(Arc::new(FixedClock::new(now)))
        .run_ids(Arc::new(SequentialRunIds::new("bench")))
        .build()
        .await?)
}

/// Counts `<warehouse>/<ns>/<name>/_delta_log` directories.
fn count_delta_tables(warehouse: &Path) -> Result<u64, BoxError> {
    let mut n = 0;
    for ns in std::fs::read_dir(warehouse)? {
        let ns = ns?;
        if !ns.file_type()?.is_dir() {
            continue;
        }
        for table in std::fs::read_dir(ns.path())? {
            let table = table?;
            if table.file_type()?.is_dir() && table.path().join("_delta_log").is_dir() {
                n += 1;
            }
        }
    }
    Ok(n)
}

/// A partition's day and the batches its function hands over.
type DayLoad = (NaiveDate, Vec<RecordBatch>);

/// The loads of partitions `days` and the seconds generating them took: `rows` new keys
/// each (`d·rows .. (d+1)·rows`), no duplicates, generated now (before any timer starts).
fn loads(days: Range<u64>, rows: u64) -> Result<(Vec<DayLoad>, f64), BoxError> {
    let t = Instant::now();
    let mut out = Vec::new();
    for d in days {
        let spec = LoadSpec {
            day: day(d)?,
            seed: 10_000 + d,
            new_keys: d * rows..(d + 1) * rows,
            updates: 0,
            existing: 0..0,
            duplicates: 0,
            invalid: 0.0,
        };
        out.push((spec.day, generate(&spec)?.batches));
    }
    Ok((out, t.elapsed().as_secs_f64()))
}

/// Materializes each load, one `materialize` call per partition, checking every report.
async fn materialize_all(
    rt: &Runtime,
    loads: Vec<DayLoad>,
    rows: u64,
    progress: &str,
) -> Result<Vec<Sample>, BoxError> {
    let expected = Expected {
        rows_in: rows,
        inserted: rows,
        ..Expected::default()
    };
    let total = loads.len();
    let mut out = Vec::with_capacity(total);
    for (i, (d, batches)) in loads.into_iter().enumerate() {
        fill_slot(d, batches)?;
        let t = Instant::now();
        let report = rt.materialize(MERGE_ASSET, d).await?;
        let wall_ms = ms(t.elapsed());
        check(&format!("{progress} {d}"), &report, expected)?;
        if (i + 1) % 50 == 0 || i + 1 == total {
            eprintln!(
                "phlo-bench: {progress}: {}/{total} partitions, last {wall_ms:.1} ms",
                i + 1
            );
        }
        out.push(Sample {
            partition: d.to_string(),
            wall_ms,
            report,
        });
    }
    Ok(out)
}

/// What the first figure's warehouse holds besides the measured table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Others {
    /// Nothing (`no-other-tables`).
    None,
    /// `--other-tables` one-commit tables (`other-tables`).
    Many,
    /// The control (`one-other-table`): one table written by as many runs, so phlo's run
    /// log is as long as with `Many` but the warehouse holds one other table.
    Control,
}

impl Others {
    /// The scenario's name.
    pub fn scenario(self) -> &'static str {
        match self {
            Others::None => "no-other-tables",
            Others::Many => "other-tables",
            Others::Control => "one-other-table",
        }
    }

    /// Other tables (besides phlo's own) it leaves in the warehouse.
    fn tables(self, cfg: &Config) -> u64 {
        match self {
            Others::None => 0,
            Others::Many => cfg.other_tables,
            Others::Control => 1,
        }
    }

    /// The tiny assets writing them.
    fn descriptors(
        self,
        cfg: &Config,
        global: &Registry,
    ) -> Result<Vec<IngestionDescriptor>, BoxError> {
        other_descriptors(global, self.tables(cfg))
    }
}

/// `other-tables-setup` / `one-other-table-setup` (not measured): `--other-tables` tiny
/// assets, one partition each, so the warehouse holds that many one-commit Delta tables;
/// or, for the control, one tiny asset materialized for `--other-tables` partitions.
pub async fn tables_setup(
    cfg: &Config,
    warehouse: &Path,
    others: Others,
) -> Result<Sampled, BoxError> {
    fresh_dir(warehouse)?;
    let global = Registry::global()?;
    let descriptors = others.descriptors(cfg, &global)?;
    let names: Vec<&'static str> = descriptors.iter().map(|d| d.name).collect();
    let rt = runtime(warehouse, descriptors).await?;
    let steps: Vec<(&'static str, NaiveDate)> = match others {
        Others::Many => names
            .iter()
            .map(|n| day(0).map(|d| (*n, d)))
            .collect::<Result<_, _>>()?,
        Others::Control => {
            let name = names.first().copied().ok_or("no tiny asset")?;
            (0..cfg.other_tables)
                .map(|i| day(i).map(|d| (name, d)))
                .collect::<Result<_, _>>()?
        }
        Others::None => Vec::new(),
    };
    let t = Instant::now();
    let mut runs = Vec::with_capacity(steps.len());
    for (name, d) in steps {
        let t = Instant::now();
        let report = rt.materialize(name, d).await?;
        let wall_ms = ms(t.elapsed());
        check(
            &format!("{name} {d}"),
            &report,
            Expected {
                rows_in: 3,
                inserted: 3,
                ..Expected::default()
            },
        )?;
        runs.push(Sample {
            partition: d.to_string(),
            wall_ms,
            report,
        });
    }
    eprintln!(
        "phlo-bench: setup: {} other tables, {} runs in {:.1} s",
        others.tables(cfg),
        runs.len(),
        t.elapsed().as_secs_f64()
    );
    for i in 0..others.tables(cfg) {
        let log = warehouse
            .join("bronze")
            .join(other_name(i))
            .join("_delta_log");
        if !log.is_dir() {
            return Err(format!("setup: {} is not a Delta table", log.display()).into());
        }
    }
    Ok(Sampled {
        scenario: format!("{}-setup", others.scenario()),
        other_tables: others.tables(cfg),
        warmup: Vec::new(),
        runs,
        encode_ms: Vec::new(),
        generate_s: 0.0,
        process_peak_rss_bytes: peak_rss_bytes(),
        table_rows_after: 0,
        delta_tables: count_delta_tables(warehouse)?,
    })
}

/// `no-other-tables` (a fresh warehouse), `other-tables` or `one-other-table` (over its
/// setup's warehouse, whose tiny assets the runtime also registers): two warm-up
/// partitions, then `--samples` measured ones.
pub async fn tables(cfg: &Config, warehouse: &Path, others: Others) -> Result<Sampled, BoxError> {
    let name = others.scenario();
    let global = Registry::global()?;
    let mut descriptors = vec![global.get(MERGE_ASSET)?.descriptor];
    if others == Others::None {
        fresh_dir(warehouse)?;
    } else {
        // The setup's tables, besides phlo's own run log.
        let found = count_delta_tables(warehouse)?;
        if found < others.tables(cfg) {
            return Err(format!(
                "{name}: {found} tables under {}, expected {}: run {name}-setup first",
                warehouse.display(),
                others.tables(cfg)
            )
            .into());
        }
        descriptors.extend(others.descriptors(cfg, &global)?);
    }
    let rt = runtime(warehouse, descriptors).await?;
    let (mut all, generate_s) = loads(0..WARMUP + cfg.samples, cfg.day_rows)?;
    let measured = all.split_off(usize::try_from(WARMUP)?);
    let warmup = materialize_all(&rt, all, cfg.day_rows, &format!("{name} warm-up")).await?;
    let runs = materialize_all(&rt, measured, cfg.day_rows, name).await?;
    let peak = peak_rss_bytes();
    let table_rows_after = table_rows(&rt).await?;
    let expected = (WARMUP + cfg.samples) * cfg.day_rows;
    if table_rows_after != expected {
        return Err(
            format!("{name}: table holds {table_rows_after} rows, expected {expected}").into(),
        );
    }
    Ok(Sampled {
        scenario: name.into(),
        other_tables: others.tables(cfg),
        warmup,
        runs,
        encode_ms: Vec::new(),
        generate_s,
        process_peak_rss_bytes: peak,
        table_rows_after,
        delta_tables: count_delta_tables(warehouse)?,
    })
}

/// Utf8View / BinaryView columns as read back become Utf8 / Binary, as phlo writes them.
fn as_written(batch: &RecordBatch) -> Result<RecordBatch, BoxError> {
    let mut fields = Vec::with_capacity(batch.num_columns());
    let mut columns: Vec<ArrayRef> = Vec::with_capacity(batch.num_columns());
    for (f, c) in batch.schema().fields().iter().zip(batch.columns()) {
        let to = match f.data_type() {
            DataType::Utf8View => Some(DataType::Utf8),
            DataType::BinaryView => Some(DataType::Binary),
            _ => None,
        };
        match to {
            Some(t) => {
                columns.push(cast(c, &t)?);
                fields.push(Field::new(f.name(), t, f.is_nullable()));
            }
            None => {
                columns.push(c.clone());
                fields.push(f.as_ref().clone());
            }
        }
    }
    Ok(RecordBatch::try_new(
        Arc::new(ArrowSchema::new(fields)),
        columns,
    )?)
}

/// Encodes `batches` to snappy Parquet in memory (arrow-rs `ArrowWriter` into a `Vec<u8>`),
/// once untimed, then `reps` times; the mean, ms.
fn encode_ms(batches: &[RecordBatch], reps: usize) -> Result<f64, BoxError> {
    let schema = batches
        .first()
        .map(RecordBatch::schema)
        .ok_or("no rows to encode")?;
    let props = WriterProperties::builder()
        .set_compression(Compression::SNAPPY)
        .build();
    let encode = || -> Result<usize, BoxError> {
        let mut buf = Vec::new();
        let mut w = ArrowWriter::try_new(&mut buf, schema.clone(), Some(props.clone()))?;
        for b in batches {
            w.write(b)?;
        }
        w.close()?;
        Ok(buf.len())
    };
    std::hint::black_box(encode()?);
    let t = Instant::now();
    for _ in 0..reps {
        std::hint::black_box(encode()?);
    }
    Ok(ms(t.elapsed()) / reps.max(1) as f64)
}

/// `history`: `--days` partitions merged one by one into one table, then each partition's
/// rows read back and encoded to Parquet (timed apart).
pub async fn history(cfg: &Config, warehouse: &Path) -> Result<Sampled, BoxError> {
    fresh_dir(warehouse)?;
    let global = Registry::global()?;
    let rt = runtime(warehouse, vec![global.get(MERGE_ASSET)?.descriptor]).await?;
    let (all, generate_s) = loads(0..cfg.days, cfg.day_rows)?;
    let runs = materialize_all(&rt, all, cfg.day_rows, "history").await?;
    let peak = peak_rss_bytes();
    let table_rows_after = table_rows(&rt).await?;
    if table_rows_after != cfg.days * cfg.day_rows {
        return Err(format!(
            "history: table holds {table_rows_after} rows, expected {}",
            cfg.days * cfg.day_rows
        )
        .into());
    }
    let mut encode = Vec::with_capacity(runs.len());
    for s in &runs {
        let batches = rt
            .sql(&format!(
                "SELECT * FROM bronze.events WHERE _phlo_partition_date = DATE '{}'",
                s.partition
            ))
            .await?;
        let batches: Vec<RecordBatch> = batches
            .iter()
            .filter(|b| b.num_rows() > 0)
            .map(as_written)
            .collect::<Result<_, _>>()?;
        let rows: usize = batches.iter().map(RecordBatch::num_rows).sum();
        if rows as u64 != cfg.day_rows {
            return Err(format!(
                "history: partition {} holds {rows} rows, expected {}",
                s.partition, cfg.day_rows
            )
            .into());
        }
        encode.push(encode_ms(&batches, ENCODE_REPS)?);
    }
    Ok(Sampled {
        scenario: "history".into(),
        other_tables: 0,
        warmup: Vec::new(),
        runs,
        encode_ms: encode,
        generate_s,
        process_peak_rss_bytes: peak,
        table_rows_after,
        delta_tables: count_delta_tables(warehouse)?,
    })
}

/// The median of `v` (the mean of the two middle values for an even count; 0 when empty).
pub fn median(v: &[f64]) -> f64 {
    let mut s = v.to_vec();
    s.sort_by(f64::total_cmp);
    match s.len() {
        0 => 0.0,
        n if n % 2 == 1 => s[n / 2],
        n => (s[n / 2 - 1] + s[n / 2]) / 2.0,
    }
}

/// The `p`-th percentile of `v` by nearest rank (0 when empty).
pub fn percentile(v: &[f64], p: f64) -> f64 {
    let mut s = v.to_vec();
    s.sort_by(f64::total_cmp);
    if s.is_empty() {
        return 0.0;
    }
    let rank = ((p / 100.0) * s.len() as f64).ceil() as usize;
    s[rank.clamp(1, s.len()) - 1]
}

/// One line of the figures table.
#[derive(Debug, Clone, Serialize)]
pub struct Figure {
    /// What is measured.
    pub figure: String,
    /// The value, as printed.
    pub value: String,
    /// The number behind it (ms or a ratio).
    pub number: f64,
    /// The target, as printed (`-`: none).
    pub target: String,
    /// Whether the target is met (`None`: no target).
    pub met: Option<bool>,
}

fn info(figure: String, ms: f64) -> Figure {
    Figure {
        figure,
        value: format!("{ms:.1} ms"),
        number: ms,
        target: "-".into(),
        met: None,
    }
}

/// The history's first and last windows (`WINDOW` each, fewer for short histories).
pub fn windows(runs: &[Sample]) -> (&[Sample], &[Sample]) {
    let w = WINDOW.min(runs.len() / 2).max(1).min(runs.len());
    (&runs[..w], &runs[runs.len() - w..])
}

/// Per measured run of the history: `total_ms − fetch_ms − encode_ms` and the same from the
/// wall time (planning and the `_phlo.runs` record included).
pub fn overheads(h: &Sampled) -> (Vec<f64>, Vec<f64>) {
    h.runs
        .iter()
        .zip(&h.encode_ms)
        .map(|(s, e)| {
            let t = &s.report.timings;
            (t.total_ms - t.fetch_ms - e, s.wall_ms - t.fetch_ms - e)
        })
        .unzip()
}

/// The scenarios the figures are made of (whichever ran).
#[derive(Debug, Clone, Copy, Default)]
pub struct Sets<'a> {
    /// `no-other-tables`.
    pub empty: Option<&'a Sampled>,
    /// `other-tables`.
    pub many: Option<&'a Sampled>,
    /// `one-other-table` (the control).
    pub control: Option<&'a Sampled>,
    /// `history`.
    pub history: Option<&'a Sampled>,
}

fn walls(s: &[Sample]) -> Vec<f64> {
    s.iter().map(|r| r.wall_ms).collect()
}

fn ratio(a: f64, b: f64) -> f64 {
    if a > 0.0 { b / a } else { 0.0 }
}

/// The figures of whatever ran.
pub fn figures(cfg: &Config, sets: Sets<'_>) -> Vec<Figure> {
    let mut out = Vec::new();
    if let (Some(e), Some(m)) = (sets.empty, sets.many) {
        let (a, b) = (median(&walls(&e.runs)), median(&walls(&m.runs)));
        out.push(info(
            format!(
                "1. materialize {} rows, empty warehouse (median of {})",
                crate::report::count(cfg.day_rows),
                e.runs.len()
            ),
            a,
        ));
        out.push(info(
            format!(
                "1. same, warehouse with {} other tables (median of {})",
                m.other_tables,
                m.runs.len()
            ),
            b,
        ));
        let r = ratio(a, b);
        out.push(Figure {
            figure: format!("1. ratio with / without {} other tables", m.other_tables),
            value: format!("{r:.2}×"),
            number: r,
            target: format!("≤ {OTHER_TABLES_RATIO:.1} ({FULL_OTHER_TABLES} tables)"),
            met: Some(r <= OTHER_TABLES_RATIO),
        });
        if let Some(c) = sets.control {
            let runs = c.runs.len();
            let setup_runs = cfg.other_tables;
            let b = median(&walls(&c.runs));
            out.push(info(
                format!(
                    "1. control: 1 other table written by {setup_runs} runs (median of {runs})"
                ),
                b,
            ));
            let r = ratio(a, b);
            out.push(Figure {
                figure: "1. control ratio (same run-log length, 1 other table)".into(),
                value: format!("{r:.2}×"),
                number: r,
                target: "-".into(),
                met: None,
            });
        }
    }
    if let Some(h) = sets.history {
        let (first, last) = windows(&h.runs);
        let (a, b) = (median(&walls(first)), median(&walls(last)));
        out.push(info(
            format!(
                "2. run time, first {} of {} days (median)",
                first.len(),
                h.runs.len()
            ),
            a,
        ));
        out.push(info(
            format!(
                "2. run time, last {} of {} days (median)",
                last.len(),
                h.runs.len()
            ),
            b,
        ));
        let r = ratio(a, b);
        out.push(Figure {
            figure: "2. ratio last / first".into(),
            value: format!("{r:.2}×"),
            number: r,
            target: format!("≤ {HISTORY_RATIO:.1} ({FULL_DAYS} days)"),
            met: Some(r <= HISTORY_RATIO),
        });
        let (own, own_wall) = overheads(h);
        let target = format!("< {OVERHEAD_MS:.0} ms");
        let with_target = |figure: String, ms: f64| Figure {
            figure,
            value: format!("{ms:.1} ms"),
            number: ms,
            target: target.clone(),
            met: Some(ms < OVERHEAD_MS),
        };
        out.push(with_target(
            "3. phlo overhead (total − fetch − encode), median".into(),
            median(&own),
        ));
        out.push(with_target(
            "3. phlo overhead (total − fetch − encode), p90".into(),
            percentile(&own, 90.0),
        ));
        let w = first.len();
        out.push(info(
            format!("3. phlo overhead, median of the first {w} days"),
            median(&own[..w]),
        ));
        out.push(info(
            format!("3. phlo overhead, median of the last {w} days"),
            median(&own[own.len() - w..]),
        ));
        out.push(with_target(
            "3. overhead with plan + run record (wall − fetch − encode), median".into(),
            median(&own_wall),
        ));
        out.push(with_target(
            "3. overhead with plan + run record, p90".into(),
            percentile(&own_wall, 90.0),
        ));
    }
    out
}

/// The step-time medians: one column per measured set.
pub fn step_table(sets: Sets<'_>) -> (Vec<String>, Vec<Vec<String>>) {
    let mut header = vec!["step (median ms)".to_string()];
    let mut cols: Vec<(&[Sample], Option<&[f64]>)> = Vec::new();
    if let Some(e) = sets.empty {
        header.push("empty warehouse".into());
        cols.push((&e.runs, None));
    }
    if let Some(m) = sets.many {
        header.push(format!("{} other tables", m.other_tables));
        cols.push((&m.runs, None));
    }
    if let Some(c) = sets.control {
        header.push("control: 1 other table".into());
        cols.push((&c.runs, None));
    }
    if let Some(h) = sets.history {
        let (first, last) = windows(&h.runs);
        let w = first.len();
        header.push(format!("history, all {}", h.runs.len()));
        header.push(format!("history, first {w}"));
        header.push(format!("history, last {w}"));
        cols.push((&h.runs, Some(&h.encode_ms)));
        cols.push((first, h.encode_ms.get(..w)));
        cols.push((last, h.encode_ms.get(h.encode_ms.len().saturating_sub(w)..)));
    }
    type Step = fn(&Sample) -> f64;
    let steps: [(&str, Step); 8] = [
        ("fetch (user fn)", |s| s.report.timings.fetch_ms),
        ("coerce", |s| s.report.timings.coerce_ms),
        ("validate", |s| s.report.timings.validate_ms),
        ("dedup (+ metadata)", |s| s.report.timings.dedup_ms),
        ("write (plan merge + commit)", |s| s.report.timings.write_ms),
        ("record (_phlo.runs)", |s| s.report.timings.record_ms),
        ("total_ms (all but plan, record)", |s| {
            s.report.timings.total_ms
        }),
        ("wall (materialize call)", |s| s.wall_ms),
    ];
    let mut rows: Vec<Vec<String>> = steps
        .iter()
        .map(|(name, f)| {
            let mut row = vec![(*name).to_string()];
            for (runs, _) in &cols {
                row.push(format!(
                    "{:.2}",
                    median(&runs.iter().map(f).collect::<Vec<_>>())
                ));
            }
            row
        })
        .collect();
    let mut encode = vec!["Parquet encode of the rows (arrow-rs, snappy)".to_string()];
    for (_, e) in &cols {
        encode.push(e.map_or_else(|| "-".into(), |e| format!("{:.2}", median(e))));
    }
    rows.push(encode);
    (header, rows)
}

/// The history by blocks of [`WINDOW`] days: median wall, write and record time, and the
/// run log's and table's versions at the block's end.
pub fn history_profile(h: &Sampled) -> Vec<Vec<String>> {
    h.runs
        .chunks(WINDOW)
        .enumerate()
        .map(|(i, block)| {
            let m = |f: fn(&Sample) -> f64| median(&block.iter().map(f).collect::<Vec<_>>());
            let version = block
                .last()
                .and_then(|s| s.report.table_version_after)
                .map_or_else(|| "-".into(), |v| v.to_string());
            vec![
                format!("{}–{}", i * WINDOW + 1, i * WINDOW + block.len()),
                format!("{:.1}", m(|s| s.wall_ms)),
                format!("{:.1}", m(|s| s.report.timings.write_ms)),
                format!("{:.1}", m(|s| s.report.timings.record_ms)),
                version,
            ]
        })
        .collect()
}
