//! Steps 2–5 chained: coerce → validate → (split) → hash + dedup → unique → metadata.

use std::sync::Arc;
use std::time::{Duration, Instant};

use arrow::array::{ArrayRef, ListBuilder, StringBuilder, UInt32Array};
use arrow::compute::take_record_batch;
use arrow::datatypes::{DataType, Field, Schema};
use arrow::record_batch::RecordBatch;
use phlo_core::metadata::FAILED_CHECKS;
use phlo_core::names::TableName;
use phlo_core::schema::SchemaDef;
use phlo_core::spec::{Dedup, MergeStrategy};

use crate::coerce::coerce;
use crate::dedup::{dedup, find_duplicates};
use crate::hash::{row_hashes, row_hashes_parallel};
use crate::metadata::{RunStamp, with_metadata};
use crate::validate::{ValidationReport, validate, validate_unique};
use crate::{Error, Result};

/// How to prepare one load.
#[derive(Debug, Clone)]
pub struct PrepareOptions<'a> {
    /// Target table.
    pub table: &'a TableName,
    /// The contract.
    pub schema: &'static SchemaDef,
    /// Key columns.
    pub key: &'a [&'a str],
    /// Ordering column for `first` / `last`.
    pub order_by: Option<&'a str>,
    /// Deduplication in force.
    pub dedup: Dedup,
    /// Write strategy (decides whether duplicate keys may stay).
    pub strategy: MergeStrategy,
    /// Whether schema constraints are checked (casts and nullability always are).
    pub validate: bool,
    /// Whether a failing row fails the load (else it is quarantined).
    pub strict: bool,
    /// Whether `_ingested_at`, `_run_id` and `_row_hash` are added.
    pub metadata: bool,
    /// The run's stamp.
    pub stamp: RunStamp,
}

/// Time spent per step.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct PrepareTimings {
    /// Coercion.
    pub coerce: Duration,
    /// Validation (both passes).
    pub validate: Duration,
    /// Hashing, metadata and deduplication.
    pub dedup: Duration,
}

/// A load ready to write.
#[derive(Debug, Clone)]
pub struct Prepared {
    /// Rows to write: user columns, then metadata columns; one row per key.
    pub load: RecordBatch,
    /// Invalid rows (lenient mode): user columns, `_phlo_failed_checks`, metadata.
    pub quarantine: Option<RecordBatch>,
    /// Rows the function returned.
    pub rows_in: u64,
    /// Rows failing validation.
    pub rows_invalid: u64,
    /// Rows dropped by deduplication.
    pub duplicates_dropped: u64,
    /// Extra input columns dropped (`drop_extra`).
    pub dropped_columns: Vec<String>,
    /// Extra input columns added to the table (`additive`).
    pub added_columns: Vec<String>,
    /// The validation report.
    pub validation: ValidationReport,
    /// Time per step.
    pub timings: PrepareTimings,
}

fn take(batch: &RecordBatch, rows: &[u32]) -> Result<RecordBatch> {
    if rows.len() == batch.num_rows() {
        return Ok(batch.clone());
    }
    Ok(take_record_batch(batch, &UInt32Array::from(rows.to_vec()))?)
}

/// Adds the metadata columns the options ask for.
/// `batch` with the metadata columns the options ask for; `hashes` are its rows' hashes.
fn stamp(batch: &RecordBatch, hashes: &[u128], opts: &PrepareOptions<'_>) -> Result<RecordBatch> {
    Ok(if opts.metadata {
        with_metadata(batch, hashes, &opts.stamp)?
    } else if opts.stamp.partitions.is_partitioned() {
        let full = with_metadata(batch, hashes, &opts.stamp)?;
        let partition_columns = opts.stamp.partitions.metadata_fields().len();
        let keep: Vec<usize> = (0..batch.num_columns() + partition_columns).collect();
        full.project(&keep)?
    } else {
        batch.clone()
    })
}

/// A batch of `rows` of `batch` with a `_phlo_failed_checks` column and metadata.
fn quarantine_rows(
    batch: &RecordBatch,
    rows: &[(u32, Vec<String>)],
    opts: &PrepareOptions<'_>,
) -> Result<RecordBatch> {
    let indices: Vec<u32> = rows.iter().map(|(r, _)| *r).collect();
    let picked = take(batch, &indices)?;
    let mut list = ListBuilder::new(StringBuilder::new());
    for (_, checks) in rows {
        for c in checks {
            list.values().append_value(c);
        }
        list.append(true);
    }
    let mut fields: Vec<Field> = picked
        .schema()
        .fields()
        .iter()
        .map(|f| f.as_ref().clone())
        .collect();
    fields.push(Field::new(
        FAILED_CHECKS,
        DataType::List(Arc::new(Field::new("item", DataType::Utf8, true))),
        false,
    ));
    let mut columns: Vec<ArrayRef> = picked.columns().to_vec();
    columns.push(Arc::new(list.finish()));
    let with_checks = RecordBatch::try_new(Arc::new(Schema::new(fields)), columns)?;
    let hashes = row_hashes(&picked, &(0..picked.num_columns()).collect::<Vec<_>>())?;
    with_metadata(&with_checks, &hashes, &opts.stamp)
}

/// Runs steps 2–5 over the batches a user function returned.
pub fn prepare(batches: &[RecordBatch], opts: &PrepareOptions<'_>) -> Result<Prepared> {
    prepare_owned(batches.to_vec(), opts)
}

/// [`prepare`], taking the batches: they are released as soon as they are coerced, so
/// the input and its coerced copy are not both held through the rest of the steps.
pub fn prepare_owned(batches: Vec<RecordBatch>, opts: &PrepareOptions<'_>) -> Result<Prepared> {
    let table = opts.table.to_string();
    let t = Instant::now();
    let coerced = coerce(&table, opts.schema, &batches)?;
    drop(batches);
    let mut timings = PrepareTimings {
        coerce: t.elapsed(),
        ..Default::default()
    };
    let batch = coerced.batch;
    let rows_in = batch.num_rows() as u64;
    let key_names: Vec<String> = opts.key.iter().map(|k| k.to_string()).collect();

    // Step 3: element checks and nullability over the whole load.
    let t = Instant::now();
    let mut first = validate(opts.schema, &batch, &key_names, &coerced.cast_failures)?;
    if !opts.validate {
        // Constraints are skipped, structure is not: casts and nullability still apply.
        first.retain_checks(batch.num_rows(), |c| {
            c.starts_with("cast(") || c.starts_with("not_null(")
        });
    }
    timings.validate = t.elapsed();
    if opts.strict && !first.report.passed() {
        return Err(Error::Validation {
            table,
            report: Box::new(first.report),
        });
    }
    let failed = first.failed_mask(batch.num_rows());
    let valid_rows: Vec<u32> = (0..batch.num_rows() as u32)
        .filter(|&r| !failed[r as usize])
        .collect();
    let mut quarantined: Vec<(u32, Vec<String>)> = if first.failing.is_empty() {
        Vec::new()
    } else {
        first.failed_rows().into_iter().collect()
    };
    let mut report = first.report;
    let valid = take(&batch, &valid_rows)?;

    // Step 4–5: hashes, dedup.
    let t = Instant::now();
    let user: Vec<usize> = (0..valid.num_columns()).collect();
    let hashes = row_hashes_parallel(&valid, &user)?;
    let needs_unique_keys = opts.strategy != MergeStrategy::Append && !opts.key.is_empty();
    let duplicates = if opts.dedup == Dedup::None && needs_unique_keys {
        find_duplicates(&valid, opts.key)?
    } else {
        None
    };
    {
        if let Some(d) = duplicates {
            return Err(Error::DuplicateKeys {
                table,
                key: key_names,
                duplicate_rows: d.rows,
                samples: d.samples,
            });
        }
    }
    let outcome = dedup(&valid, opts.key, opts.order_by, opts.dedup, &hashes)?;
    let deduped = take(&valid, &outcome.kept)?;
    let ordinals: Vec<u32> = outcome
        .kept
        .iter()
        .filter_map(|&i| valid_rows.get(i as usize).copied())
        .collect();
    timings.dedup = t.elapsed();

    // Unique constraints hold over the deduplicated load.
    let t = Instant::now();
    let mut final_rows: Vec<u32> = (0..deduped.num_rows() as u32).collect();
    if opts.validate {
        let keys_deduplicated = opts.dedup != Dedup::None;
        let unique = validate_unique(
            opts.schema,
            &deduped,
            &key_names,
            keys_deduplicated,
            &ordinals,
        )?;
        let failed_total = report.rows_failed + unique.report.rows_failed;
        if !unique.report.passed() {
            if opts.strict {
                report.absorb(unique.report, failed_total);
                return Err(Error::Validation {
                    table,
                    report: Box::new(report),
                });
            }
            let unique_failed = unique.failed_rows();
            final_rows.retain(|r| !unique_failed.contains_key(r));
            for (row, checks) in &unique_failed {
                if let Some(&ordinal) = ordinals.get(*row as usize) {
                    quarantined.push((ordinal, checks.clone()));
                }
            }
        }
        report.absorb(unique.report, failed_total);
    }
    timings.validate += t.elapsed();

    let t = Instant::now();
    let kept =
        crate::coerce::with_declared_nullability(opts.schema, &take(&deduped, &final_rows)?)?;
    // Hashes were computed once, before dedup: pick the survivors' instead of rehashing.
    let kept_hashes: Vec<u128> = final_rows
        .iter()
        .filter_map(|&r| outcome.kept.get(r as usize))
        .filter_map(|&i| hashes.get(i as usize).copied())
        .collect();
    let load = stamp(&kept, &kept_hashes, opts)?;
    quarantined.sort_by_key(|(r, _)| *r);
    let quarantine = if quarantined.is_empty() {
        None
    } else {
        Some(quarantine_rows(&batch, &quarantined, opts)?)
    };
    timings.dedup += t.elapsed();
    Ok(Prepared {
        load,
        rows_invalid: quarantined.len() as u64,
        quarantine,
        rows_in,
        duplicates_dropped: outcome.duplicates_dropped,
        dropped_columns: coerced.dropped_columns,
        added_columns: coerced.added_columns,
        validation: report,
        timings,
    })
}

#[cfg(test)]
mod tests;
