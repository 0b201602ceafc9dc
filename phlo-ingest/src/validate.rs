//! Step 3: validate every constraint of the schema, column-wise, lazily (SEMANTICS §4.3).
//!
//! All failures are collected. Element checks ignore nulls; nullability is its own check
//! (`not_null(col)`); key columns are never nullable. The report counts failing rows per
//! check and keeps at most [`MAX_SAMPLES`] samples per check, whatever the failure rate.

use std::collections::BTreeMap;

use arrow::array::{Array, ArrayRef, AsArray, BooleanArray, Float64Array, Int64Array, RecordBatch};
use arrow::compute::cast;
use arrow::datatypes::DataType;
use arrow::util::display::array_value_to_string;
use phlo_core::schema::{Constraint, FieldDef, FieldType, Lit, SchemaDef};
use serde::{Deserialize, Serialize};

use crate::coerce::CastFailure;
use crate::{Error, Result};

/// Samples kept per check.
pub const MAX_SAMPLES: usize = 20;

/// One failing row, as reported.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FailureSample {
    /// Row ordinal in the load (arrival order, 0-based).
    pub row: u64,
    /// Values of the key columns (`None` for null), in key order.
    pub key: Vec<Option<String>>,
    /// The offending value (`None` for null).
    pub value: Option<String>,
}

/// The failures of one check.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CheckFailures {
    /// The check, e.g. `ge(value, 0.0)`.
    pub check: String,
    /// The column it applies to.
    pub column: String,
    /// How many rows fail it.
    pub failing_rows: u64,
    /// The first failing rows (at most [`MAX_SAMPLES`]).
    pub samples: Vec<FailureSample>,
}

/// What validation found.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct ValidationReport {
    /// Rows validated.
    pub rows_checked: u64,
    /// Rows failing at least one check.
    pub rows_failed: u64,
    /// Checks evaluated.
    pub checks_evaluated: u64,
    /// Key columns used in samples.
    pub key_columns: Vec<String>,
    /// Failing checks, in schema order.
    pub failures: Vec<CheckFailures>,
}

impl ValidationReport {
    /// `check: n rows` for each failing check.
    pub fn summary(&self) -> String {
        self.failures
            .iter()
            .map(|f| format!("{}: {} rows", f.check, f.failing_rows))
            .collect::<Vec<_>>()
            .join(", ")
    }

    /// Whether every row passed.
    pub fn passed(&self) -> bool {
        self.rows_failed == 0
    }

    /// Adds the failures of `other` (validated over the same rows).
    pub fn absorb(&mut self, other: ValidationReport, rows_failed_total: u64) {
        self.checks_evaluated += other.checks_evaluated;
        self.failures.extend(other.failures);
        self.rows_failed = rows_failed_total;
    }
}

/// The outcome: the report plus the failing rows of each check.
#[derive(Debug, Clone, Default)]
pub struct Validation {
    /// The report.
    pub report: ValidationReport,
    /// Each failing check's name and failing rows (ascending), in report order.
    pub failing: Vec<(String, Vec<u32>)>,
}

impl Validation {
    /// Failing row → names of the checks it failed (ascending rows). Built on demand: a
    /// load that is only counted never pays for a per-row structure.
    pub fn failed_rows(&self) -> BTreeMap<u32, Vec<String>> {
        let mut out: BTreeMap<u32, Vec<String>> = BTreeMap::new();
        for (check, rows) in &self.failing {
            for &r in rows {
                out.entry(r).or_default().push(check.clone());
            }
        }
        out
    }

    /// Whether each of `n` rows failed a check.
    pub fn failed_mask(&self, n: usize) -> Vec<bool> {
        let mut mask = vec![false; n];
        for (_, rows) in &self.failing {
            for &r in rows {
                if let Some(m) = mask.get_mut(r as usize) {
                    *m = true;
                }
            }
        }
        mask
    }

    /// Keeps only the checks `keep` accepts, in the report and the row lists, and
    /// recounts the failing rows over `n` rows.
    pub fn retain_checks(&mut self, n: usize, keep: impl Fn(&str) -> bool) {
        self.failing.retain(|(c, _)| keep(c));
        self.report.failures.retain(|f| keep(&f.check));
        self.report.rows_failed = self.failed_mask(n).iter().filter(|f| **f).count() as u64;
    }
}

/// Accumulates failures check by check.
struct Collector<'a> {
    batch: &'a RecordBatch,
    keys: Vec<ArrayRef>,
    ordinals: Option<&'a [u32]>,
    out: Validation,
}

impl<'a> Collector<'a> {
    fn new(batch: &'a RecordBatch, key_columns: &[String], ordinals: Option<&'a [u32]>) -> Self {
        let keys = key_columns
            .iter()
            .filter_map(|k| batch.column_by_name(k).cloned())
            .collect();
        Collector {
            batch,
            keys,
            ordinals,
            out: Validation {
                report: ValidationReport {
                    rows_checked: batch.num_rows() as u64,
                    key_columns: key_columns.to_vec(),
                    ..Default::default()
                },
                failing: Vec::new(),
            },
        }
    }

    fn value(array: &dyn Array, row: usize) -> Result<Option<String>> {
        if array.is_null(row) {
            return Ok(None);
        }
        Ok(Some(array_value_to_string(array, row)?))
    }

    /// Records `check` failing on `rows` (ascending); `value_of` renders a sample's value.
    fn record(
        &mut self,
        check: String,
        column: &str,
        rows: Vec<u32>,
        value_of: &dyn Fn(usize, u32) -> Result<Option<String>>,
    ) -> Result<()> {
        self.out.report.checks_evaluated += 1;
        if rows.is_empty() {
            return Ok(());
        }
        let mut samples = Vec::with_capacity(rows.len().min(MAX_SAMPLES));
        for (n, &row) in rows.iter().take(MAX_SAMPLES).enumerate() {
            let key = self
                .keys
                .iter()
                .map(|k| Self::value(k.as_ref(), row as usize))
                .collect::<Result<Vec<_>>>()?;
            samples.push(FailureSample {
                row: u64::from(self.ordinal(row)),
                key,
                value: value_of(n, row)?,
            });
        }
        self.out.report.failures.push(CheckFailures {
            check: check.clone(),
            column: column.to_string(),
            failing_rows: rows.len() as u64,
            samples,
        });
        self.out.failing.push((check, rows));
        Ok(())
    }

    fn ordinal(&self, row: u32) -> u32 {
        self.ordinals
            .and_then(|o| o.get(row as usize).copied())
            .unwrap_or(row)
    }

    fn finish(mut self) -> Validation {
        let n = self.batch.num_rows();
        self.out.report.rows_failed = if self.out.failing.len() == 1 {
            self.out.failing[0].1.len() as u64
        } else {
            self.out.failed_mask(n).iter().filter(|f| **f).count() as u64
        };
        let _ = self.batch;
        self.out
    }
}

fn rows_where(mask: &BooleanArray) -> Vec<u32> {
    // A null in a failure mask means "not failing".
    let failing = match mask.nulls() {
        Some(nulls) => mask.values() & nulls.inner(),
        None => mask.values().clone(),
    };
    failing.set_indices().map(|i| i as u32).collect()
}

/// Validates the element constraints (everything but `unique`) and nullability of
/// `batch` against `schema`. Rows already failed by a cast are reported under the cast
/// check, not again as null.
pub fn validate(
    schema: &SchemaDef,
    batch: &RecordBatch,
    key_columns: &[String],
    cast_failures: &[CastFailure],
) -> Result<Validation> {
    let mut c = Collector::new(batch, key_columns, None);
    for f in cast_failures {
        let values = f.values.clone();
        c.record(f.check.clone(), &f.column, f.rows.clone(), &|n, _| {
            Ok(values.get(n).cloned())
        })?;
    }
    for field in schema.fields {
        let Some(array) = batch.column_by_name(field.name) else {
            continue;
        };
        let cast_failed: Vec<u32> = cast_failures
            .iter()
            .filter(|f| f.column == field.name)
            .flat_map(|f| f.rows.iter().copied())
            .collect();
        if !field.nullable || key_columns.iter().any(|k| k == field.name) {
            let rows: Vec<u32> = match array.logical_nulls() {
                Some(nulls) if nulls.null_count() > 0 => (!nulls.inner())
                    .set_indices()
                    .map(|i| i as u32)
                    .filter(|r| cast_failed.binary_search(r).is_err())
                    .collect(),
                _ => Vec::new(),
            };
            c.record(
                format!("not_null({})", field.name),
                field.name,
                rows,
                &|_, _| Ok(None),
            )?;
        }
        for constraint in field.constraints {
            if matches!(constraint, Constraint::Unique) {
                continue;
            }
            let mask = failure_mask(schema, field, constraint, array)?;
            let name = constraint.check_name(field.name);
            let arr = array.clone();
            c.record(name, field.name, rows_where(&mask), &|_, row| {
                Collector::value(arr.as_ref(), row as usize)
            })?;
        }
    }
    Ok(c.finish())
}

/// Validates `unique` constraints over `batch` (the deduplicated load). `ordinals` maps
/// rows back to load ordinals. A column that alone is the unique key is skipped when
/// deduplication already guarantees it.
pub fn validate_unique(
    schema: &SchemaDef,
    batch: &RecordBatch,
    key_columns: &[String],
    keys_deduplicated: bool,
    ordinals: &[u32],
) -> Result<Validation> {
    let mut c = Collector::new(batch, key_columns, Some(ordinals));
    for field in schema.fields {
        if !field
            .constraints
            .iter()
            .any(|k| matches!(k, Constraint::Unique))
        {
            continue;
        }
        if keys_deduplicated && key_columns.len() == 1 && key_columns[0] == field.name {
            continue;
        }
        let Some(array) = batch.column_by_name(field.name) else {
            continue;
        };
        let rows = duplicated_rows(std::slice::from_ref(array))?;
        let arr = array.clone();
        c.record(
            Constraint::Unique.check_name(field.name),
            field.name,
            rows,
            &|_, row| Collector::value(arr.as_ref(), row as usize),
        )?;
    }
    Ok(c.finish())
}

/// Rows (ascending) whose non-null values in `columns` occur more than once (the shared
/// key index's rule, [`phlo_core::keys::duplicated_rows`]).
pub fn duplicated_rows(columns: &[ArrayRef]) -> Result<Vec<u32>> {
    Ok(phlo_core::keys::duplicated_rows(columns)?)
}

/// `true` where the (non-null) value violates `constraint`.
fn failure_mask(
    schema: &SchemaDef,
    field: &FieldDef,
    constraint: &Constraint,
    array: &ArrayRef,
) -> Result<BooleanArray> {
    let invalid = |reason: String| Error::InvalidConstraint {
        schema: schema.name.to_string(),
        field: field.name.to_string(),
        reason,
    };
    let n = array.len();
    let mask: BooleanArray = match constraint {
        Constraint::Unique => BooleanArray::from(vec![false; n]),
        Constraint::Ge { bound }
        | Constraint::Gt { bound }
        | Constraint::Le { bound }
        | Constraint::Lt { bound } => {
            if !field.field_type.is_numeric() {
                return Err(invalid(format!(
                    "`{}` applies to numeric fields",
                    constraint.check_name(field.name)
                )));
            }
            let b = bound
                .as_f64()
                .ok_or_else(|| invalid("range bounds must be numbers".into()))?;
            let pass: fn(f64, f64) -> bool = match constraint {
                Constraint::Ge { .. } => |v, b| v >= b,
                Constraint::Gt { .. } => |v, b| v > b,
                Constraint::Le { .. } => |v, b| v <= b,
                _ => |v, b| v < b,
            };
            match (field.field_type, bound) {
                (FieldType::Int32 | FieldType::Int64, Lit::Int(bi)) => {
                    let ints = cast(array, &DataType::Int64)?;
                    let ints: &Int64Array = ints.as_primitive();
                    let bi = *bi;
                    let pass_i: fn(i64, i64) -> bool = match constraint {
                        Constraint::Ge { .. } => |v, b| v >= b,
                        Constraint::Gt { .. } => |v, b| v > b,
                        Constraint::Le { .. } => |v, b| v <= b,
                        _ => |v, b| v < b,
                    };
                    ints.iter().map(|v| v.map(|v| !pass_i(v, bi))).collect()
                }
                _ => {
                    let floats = cast(array, &DataType::Float64)?;
                    let floats: &Float64Array = floats.as_primitive();
                    // NaN is never within a range.
                    floats.iter().map(|v| v.map(|v| !pass(v, b))).collect()
                }
            }
        }
        Constraint::IsIn { values } | Constraint::NotIn { values } => {
            let want_in = matches!(constraint, Constraint::IsIn { .. });
            let member = membership(array, values).map_err(invalid)?;
            member.iter().map(|m| m.map(|m| m != want_in)).collect()
        }
        Constraint::Regex { pattern } => {
            let re = regex::Regex::new(&format!("^(?:{pattern})$"))
                .map_err(|e| invalid(format!("invalid regex {pattern:?}: {e}")))?;
            let strings = array
                .as_string_opt::<i32>()
                .ok_or_else(|| invalid("`regex` applies to String fields".into()))?;
            strings.iter().map(|v| v.map(|s| !re.is_match(s))).collect()
        }
        Constraint::StrLength { min, max } => {
            let strings = array
                .as_string_opt::<i32>()
                .ok_or_else(|| invalid("`str_length` applies to String fields".into()))?;
            strings
                .iter()
                .map(|v| {
                    v.map(|s| {
                        let len = s.chars().count();
                        min.is_some_and(|m| len < m) || max.is_some_and(|m| len > m)
                    })
                })
                .collect()
        }
        Constraint::Custom { name, check } => {
            let custom = |reason: String| Error::CustomCheck {
                check: (*name).to_string(),
                column: field.name.to_string(),
                reason,
            };
            let valid = check(array).map_err(|e| custom(e.to_string()))?;
            if valid.len() != n {
                return Err(custom(format!(
                    "returned a mask of {} values for {n} rows",
                    valid.len()
                )));
            }
            (0..n)
                .map(|i| {
                    if array.is_null(i) {
                        None
                    } else {
                        // A null verdict counts as a failure: the check could not vouch for the value.
                        Some(!(valid.is_valid(i) && valid.value(i)))
                    }
                })
                .collect()
        }
    };
    Ok(mask)
}

/// Whether each value is one of `values`.
fn membership(array: &ArrayRef, values: &[Lit]) -> std::result::Result<BooleanArray, String> {
    if let Some(strings) = array.as_string_opt::<i32>() {
        let set: Vec<&str> = values
            .iter()
            .filter_map(|v| if let Lit::Str(s) = v { Some(*s) } else { None })
            .collect();
        if set.len() != values.len() {
            return Err("`isin`/`notin` on a String field takes string values".into());
        }
        // A short list is faster to scan than to hash into.
        if set.len() <= 8 {
            return Ok(strings
                .iter()
                .map(|v| v.map(|s| set.contains(&s)))
                .collect());
        }
        let set: hashbrown::HashSet<&str> = set.into_iter().collect();
        return Ok(strings.iter().map(|v| v.map(|s| set.contains(s))).collect());
    }
    if let Some(bools) = array.as_boolean_opt() {
        let set: Vec<bool> = values
            .iter()
            .filter_map(|v| if let Lit::Bool(b) = v { Some(*b) } else { None })
            .collect();
        return Ok(bools.iter().map(|v| v.map(|b| set.contains(&b))).collect());
    }
    if array.data_type().is_numeric() {
        let set: Vec<f64> = values.iter().filter_map(|v| v.as_f64()).collect();
        if set.len() != values.len() {
            return Err("`isin`/`notin` on a numeric field takes numbers".into());
        }
        let floats = cast(array, &DataType::Float64).map_err(|e| e.to_string())?;
        let floats: &Float64Array = floats.as_primitive();
        return Ok(floats.iter().map(|v| v.map(|x| set.contains(&x))).collect());
    }
    Err(format!(
        "`isin`/`notin` cannot apply to {}",
        array.data_type()
    ))
}

#[cfg(test)]
mod tests;

/// Validation alone, without writing: coerces `batches` (in arrival order) to `schema` and
/// checks casts, nullability and every element constraint (`unique` is a property of the
/// deduplicated table, checked when writing). Batches are validated in parallel, one
/// thread per core; the report is bounded like every other ([`MAX_SAMPLES`] per check,
/// sample rows are ordinals in the whole load). `table` names the target in errors.
pub fn validate_batches(
    table: &str,
    schema: &SchemaDef,
    batches: &[RecordBatch],
) -> Result<ValidationReport> {
    let workers = phlo_core::parallel::workers_for(batches.len(), 1);
    let partials = phlo_core::parallel::run(workers, |w| {
        let share = phlo_core::parallel::share(batches.len(), workers, w);
        validate_chunk(table, schema, &batches[share])
    })
    .ok_or(Error::WorkerPanicked {
        what: "validation".into(),
    })?;
    let mut total = ValidationReport::default();
    for partial in partials {
        let offset = total.rows_checked;
        merge_report(&mut total, partial?, offset);
    }
    total.failures.sort_by_key(|f| check_rank(schema, f));
    Ok(total)
}

/// Validates `batches` one by one (no concatenation), as one report.
fn validate_chunk(
    table: &str,
    schema: &SchemaDef,
    batches: &[RecordBatch],
) -> Result<ValidationReport> {
    let mut total = ValidationReport::default();
    for batch in batches {
        let coerced = crate::coerce::coerce(table, schema, std::slice::from_ref(batch))?;
        let v = validate(schema, &coerced.batch, &[], &coerced.cast_failures)?;
        let offset = total.rows_checked;
        merge_report(&mut total, v.report, offset);
    }
    Ok(total)
}

/// Adds `part` (whose rows start at ordinal `offset`) to `total`, keeping the first
/// [`MAX_SAMPLES`] samples of each check.
fn merge_report(total: &mut ValidationReport, part: ValidationReport, offset: u64) {
    total.rows_checked += part.rows_checked;
    total.rows_failed += part.rows_failed;
    total.checks_evaluated = total.checks_evaluated.max(part.checks_evaluated);
    if total.key_columns.is_empty() {
        total.key_columns = part.key_columns;
    }
    for mut f in part.failures {
        for s in &mut f.samples {
            s.row += offset;
        }
        match total.failures.iter_mut().find(|t| t.check == f.check) {
            Some(t) => {
                t.failing_rows += f.failing_rows;
                let room = MAX_SAMPLES.saturating_sub(t.samples.len());
                t.samples.extend(f.samples.into_iter().take(room));
            }
            None => total.failures.push(f),
        }
    }
}

/// Report order: by column in schema order, then cast, nullability, constraints in
/// declaration order.
fn check_rank(schema: &SchemaDef, f: &CheckFailures) -> (usize, usize) {
    let Some(column) = schema.fields.iter().position(|d| d.name == f.column) else {
        return (usize::MAX, 0);
    };
    let rank = if f.check.starts_with("cast(") {
        0
    } else if f.check.starts_with("not_null(") {
        1
    } else {
        schema.fields[column]
            .constraints
            .iter()
            .position(|c| c.check_name(&f.column) == f.check)
            .map_or(usize::MAX, |i| i + 2)
    };
    (column, rank)
}
