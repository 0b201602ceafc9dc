//! A deterministic generator of event loads (no `rand`: a seeded SplitMix64).
//!
//! A load is described by which key ids it holds — fresh ids from a range, plus ids drawn
//! from keys already in the table — and how many extra rows repeat one of those keys
//! (in-batch duplicates). Rows come in a shuffled arrival order, cut into batches.

use std::collections::HashSet;
use std::fmt::Write as _;
use std::ops::Range;
use std::sync::Arc;

use phlo::Schema as _;
use phlo::arrow::array::{
    ArrayRef, Float64Builder, RecordBatch, StringBuilder, TimestampMicrosecondBuilder,
};
use phlo::arrow::datatypes::Schema;
use phlo::arrow::error::ArrowError;
use phlo::chrono::NaiveDate;

use crate::Event;

/// Rows per generated batch.
pub const BATCH_ROWS: usize = 64 * 1024;

/// Microseconds in a day.
const DAY_MICROS: u64 = 86_400_000_000;

/// SplitMix64: small, fast, good enough to spread keys and values.
#[derive(Debug, Clone)]
pub struct SplitMix(u64);

impl SplitMix {
    /// A generator from `seed`.
    pub fn new(seed: u64) -> Self {
        SplitMix(seed)
    }

    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A value in `0..n` (`n > 0`), by multiply-shift.
    pub fn below(&mut self, n: u64) -> u64 {
        ((u128::from(self.next_u64()) * u128::from(n)) >> 64) as u64
    }

    /// A value in `[0, 1)`.
    pub fn unit(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }
}

/// What one load holds.
#[derive(Debug, Clone)]
pub struct LoadSpec {
    /// The partition's day: every `ts` falls in it.
    pub day: NaiveDate,
    /// Seed of the load's randomness.
    pub seed: u64,
    /// Key ids not in the table yet.
    pub new_keys: Range<u64>,
    /// How many distinct keys to draw from `existing` (ids already in the table).
    pub updates: usize,
    /// Key ids already in the table, to draw `updates` from.
    pub existing: Range<u64>,
    /// Extra rows repeating a key of this load (in-batch duplicates).
    pub duplicates: usize,
    /// Fraction of rows made invalid, each breaking exactly one of the four constraints
    /// (null `id`, null `ts`, `value` outside [0, 100], `category` outside a–d).
    pub invalid: f64,
}

/// A generated load and what a correct run must report for it.
#[derive(Debug)]
pub struct Load {
    /// The batches, in arrival order.
    pub batches: Vec<RecordBatch>,
    /// Rows in all batches.
    pub rows: u64,
    /// Distinct keys in the load.
    pub unique_keys: u64,
    /// Distinct keys that already exist in the table.
    pub updates: u64,
    /// Rows a keep-one-per-key dedup drops.
    pub duplicates: u64,
    /// Rows made invalid.
    pub invalid: u64,
}

impl Load {
    /// In-memory Arrow size of the batches (`RecordBatch::get_array_memory_size`).
    pub fn arrow_bytes(&self) -> u64 {
        self.batches
            .iter()
            .map(|b| b.get_array_memory_size() as u64)
            .sum()
    }
}

/// `count` distinct ids from `range`, spread uniformly over it.
fn sample_distinct(rng: &mut SplitMix, range: &Range<u64>, count: usize) -> Vec<u64> {
    let span = range.end.saturating_sub(range.start);
    let count = count.min(usize::try_from(span).unwrap_or(usize::MAX));
    let mut seen = HashSet::with_capacity(count);
    let mut out = Vec::with_capacity(count);
    while out.len() < count {
        let id = range.start + rng.below(span);
        if seen.insert(id) {
            out.push(id);
        }
    }
    out
}

/// Generates the load `spec` describes.
pub fn generate(spec: &LoadSpec) -> Result<Load, ArrowError> {
    let mut rng = SplitMix::new(spec.seed);
    let mut ids: Vec<u64> = spec.new_keys.clone().collect();
    let drawn = sample_distinct(&mut rng, &spec.existing, spec.updates);
    let updates = drawn.len() as u64;
    ids.extend(drawn);
    let unique_keys = ids.len() as u64;
    if unique_keys > 0 {
        for _ in 0..spec.duplicates {
            let j = rng.below(unique_keys) as usize;
            ids.push(ids[j]);
        }
    }
    // Fisher–Yates: arrival order mixes new keys, updates and duplicates.
    for i in (1..ids.len()).rev() {
        let j = rng.below(i as u64 + 1) as usize;
        ids.swap(i, j);
    }
    let day_start = spec
        .day
        .and_hms_opt(0, 0, 0)
        .map(|t| t.and_utc().timestamp_micros())
        .unwrap_or_default();
    // Every column nullable, as files from elsewhere are: invalid rows hold nulls.
    let schema = Arc::new(Schema::new(
        Event::SCHEMA
            .arrow_schema()
            .fields()
            .iter()
            .map(|f| f.as_ref().clone().with_nullable(true))
            .collect::<Vec<_>>(),
    ));
    let mut invalid = 0u64;
    let mut batches = Vec::with_capacity(ids.len().div_ceil(BATCH_ROWS));
    let mut text = String::new();
    for chunk in ids.chunks(BATCH_ROWS) {
        let n = chunk.len();
        let mut id = StringBuilder::with_capacity(n, n * 13);
        let mut ts = TimestampMicrosecondBuilder::with_capacity(n).with_timezone("UTC");
        let mut value = Float64Builder::with_capacity(n);
        let mut category = StringBuilder::with_capacity(n, n);
        let mut note = StringBuilder::with_capacity(n, n * 4);
        for &k in chunk {
            // Which constraint this row breaks, if any (4 = none). No draw without
            // invalid rows, so valid loads do not depend on the option.
            let broken = if spec.invalid > 0.0 && rng.unit() < spec.invalid {
                invalid += 1;
                rng.below(4)
            } else {
                4
            };
            text.clear();
            write!(text, "e{k:012}").map_err(|e| ArrowError::ExternalError(Box::new(e)))?;
            if broken == 0 {
                id.append_null();
            } else {
                id.append_value(&text);
            }
            let t = day_start + rng.below(DAY_MICROS) as i64;
            if broken == 1 {
                ts.append_null();
            } else {
                ts.append_value(t);
            }
            let v = rng.unit() * 100.0;
            value.append_value(if broken == 2 { 100.5 + v } else { v });
            let bits = rng.next_u64();
            category.append_value(if broken == 3 {
                "z"
            } else {
                ["a", "b", "c", "d"][(bits & 3) as usize]
            });
            if bits & 4 == 0 {
                note.append_null();
            } else {
                text.clear();
                write!(text, "n{}", (bits >> 8) % 1000)
                    .map_err(|e| ArrowError::ExternalError(Box::new(e)))?;
                note.append_value(&text);
            }
        }
        let columns: Vec<ArrayRef> = vec![
            Arc::new(id.finish()),
            Arc::new(ts.finish()),
            Arc::new(value.finish()),
            Arc::new(category.finish()),
            Arc::new(note.finish()),
        ];
        batches.push(RecordBatch::try_new(schema.clone(), columns)?);
    }
    Ok(Load {
        rows: ids.len() as u64,
        unique_keys,
        updates,
        duplicates: ids.len() as u64 - unique_keys,
        invalid,
        batches,
    })
}
