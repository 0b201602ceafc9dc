//! The side-by-side bench's input: Parquet files every contender reads, generated once
//! per configuration (a manifest next to them says which) by the seeded generator.
//!
//! ```text
//! WORK/manifest.json
//! WORK/s1/2025-01-11.parquet            S1 load: ROWS rows, 10% in-batch duplicate keys
//! WORK/base/2025-01-01.parquet … -10    the base table: PARTITIONS days of ROWS unique keys
//! WORK/s2/2025-01-11.parquet            S2 load: 30% keys of the base table, 10% duplicates
//! WORK/s3-invalid/2025-01-01.parquet …  like base, with 50% invalid rows (S3; base is 0%)
//! ```
//!
//! Files are named by their day (every `ts` of a file falls in it) and written with
//! snappy compression in row groups of 128Ki rows, like most writers' defaults.

use std::path::{Path, PathBuf};

use phlo::arrow::array::RecordBatch;
use phlo::chrono::{Days, NaiveDate};
use phlo::datafusion::parquet::arrow::ArrowWriter;
use phlo::datafusion::parquet::basic::Compression;
use phlo::datafusion::parquet::file::properties::WriterProperties;
use serde::{Deserialize, Serialize};

use crate::generate::{Load, LoadSpec, generate};
use crate::scenario::BoxError;

/// Rows per row group of the input files.
pub const ROW_GROUP_ROWS: usize = 128 * 1024;

/// What to generate.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WorkloadConfig {
    /// Rows per load and per base partition.
    pub rows: u64,
    /// Days in the base table.
    pub partitions: u64,
    /// Fraction of a load's rows repeating one of its keys.
    pub duplicates: f64,
    /// Fraction of the S2 load's rows whose key is in the base table.
    pub updates: f64,
    /// Fraction of invalid rows in the S1 and S2 loads.
    pub invalid: f64,
    /// Fraction of invalid rows in S3's second input.
    pub s3_invalid: f64,
    /// Bumped when the generator's output changes.
    pub format: u32,
}

/// Where the generated files are, and what they hold.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Workload {
    /// The configuration.
    pub config: WorkloadConfig,
    /// S1's load.
    pub s1: PathBuf,
    /// The base table's files (also S3's 0%-invalid input).
    pub base: PathBuf,
    /// S2's load.
    pub s2: PathBuf,
    /// S3's invalid input.
    pub s3_invalid: PathBuf,
    /// Rows in S1's load.
    pub s1_rows: u64,
    /// Rows in the base table.
    pub base_rows: u64,
    /// Rows in S2's load.
    pub s2_rows: u64,
    /// Rows in S3's invalid input.
    pub s3_invalid_rows: u64,
    /// Invalid rows in S3's invalid input.
    pub s3_invalid_invalid: u64,
    /// The instant freshness is judged at in S4: the start of the day after the base.
    pub now: String,
}

/// Day `i` of the workload (the base table starts on 2025-01-01).
pub fn day(i: u64) -> Result<NaiveDate, BoxError> {
    NaiveDate::from_ymd_opt(2025, 1, 1)
        .and_then(|d| d.checked_add_days(Days::new(i)))
        .ok_or_else(|| "day out of range".into())
}

fn rounded(n: u64, fraction: f64) -> u64 {
    (n as f64 * fraction).round() as u64
}

/// Writes `load` as one Parquet file.
pub fn write_parquet(path: &Path, batches: &[RecordBatch]) -> Result<(), BoxError> {
    let first = batches.first().ok_or("nothing to write")?;
    let props = WriterProperties::builder()
        .set_compression(Compression::SNAPPY)
        .set_max_row_group_row_count(Some(ROW_GROUP_ROWS))
        .build();
    let file = std::fs::File::create(path)?;
    let mut writer = ArrowWriter::try_new(file, first.schema(), Some(props))?;
    for b in batches {
        writer.write(b)?;
    }
    writer.close()?;
    Ok(())
}

fn emit(dir: &Path, day: NaiveDate, spec: &LoadSpec) -> Result<Load, BoxError> {
    let load = generate(spec)?;
    std::fs::create_dir_all(dir)?;
    write_parquet(&dir.join(format!("{day}.parquet")), &load.batches)?;
    Ok(load)
}

/// The workload `config` describes under `dir`, generated unless the manifest there says
/// it already is.
pub fn ensure(dir: &Path, config: &WorkloadConfig) -> Result<Workload, BoxError> {
    let manifest = dir.join("manifest.json");
    if let Ok(text) = std::fs::read_to_string(&manifest)
        && let Ok(w) = serde_json::from_str::<Workload>(&text)
        && &w.config == config
    {
        return Ok(w);
    }
    if dir.exists() {
        std::fs::remove_dir_all(dir)?;
    }
    let started = std::time::Instant::now();
    let c = config;
    let load_day = day(c.partitions)?;
    let dups = rounded(c.rows, c.duplicates);

    let s1 = emit(
        &dir.join("s1"),
        load_day,
        &LoadSpec {
            day: load_day,
            seed: 1,
            new_keys: 0..c.rows - dups,
            updates: 0,
            existing: 0..0,
            duplicates: dups as usize,
            invalid: c.invalid,
        },
    )?;

    let base_rows = c.partitions * c.rows;
    let (mut s3_rows, mut s3_bad) = (0, 0);
    for p in 0..c.partitions {
        let d = day(p)?;
        let keys = p * c.rows..(p + 1) * c.rows;
        let spec = |seed: u64, invalid: f64| LoadSpec {
            day: d,
            seed,
            new_keys: keys.clone(),
            updates: 0,
            existing: 0..0,
            duplicates: 0,
            invalid,
        };
        emit(&dir.join("base"), d, &spec(100 + p, 0.0))?;
        let bad = emit(&dir.join("s3-invalid"), d, &spec(200 + p, c.s3_invalid))?;
        s3_rows += bad.rows;
        s3_bad += bad.invalid;
    }

    let updates = rounded(c.rows, c.updates).min(c.rows - dups);
    let s2 = emit(
        &dir.join("s2"),
        load_day,
        &LoadSpec {
            day: load_day,
            seed: 7,
            new_keys: base_rows..base_rows + (c.rows - dups - updates),
            updates: updates as usize,
            existing: 0..base_rows,
            duplicates: dups as usize,
            invalid: c.invalid,
        },
    )?;

    let w = Workload {
        config: c.clone(),
        s1: dir.join("s1").join(format!("{load_day}.parquet")),
        base: dir.join("base"),
        s2: dir.join("s2").join(format!("{load_day}.parquet")),
        s3_invalid: dir.join("s3-invalid"),
        s1_rows: s1.rows,
        base_rows,
        s2_rows: s2.rows,
        s3_invalid_rows: s3_rows,
        s3_invalid_invalid: s3_bad,
        now: format!("{load_day}T00:00:00Z"),
    };
    std::fs::write(&manifest, serde_json::to_string_pretty(&w)?)?;
    eprintln!(
        "phlo-bench: generated the workload in {} ({:.1} s)",
        dir.display(),
        started.elapsed().as_secs_f64()
    );
    Ok(w)
}
