//! Step 2: coerce the input to the schema (SEMANTICS §4.2).
//!
//! Columns match by name; input order does not matter. Only lossless casts are applied:
//! integer and float widening, integer → float, string views/dictionaries → `Utf8`,
//! ISO-8601 strings → `Date32` / `Timestamp(µs, UTC)`, and timestamps of any unit and time
//! zone → µs UTC (a zone-less timestamp is read as UTC; a nanosecond value with sub-µs
//! digits would lose precision and fails its row). A column marked as read from text
//! ([`TEXT_ORIGIN`], set by phlo's file sources on CSV and NDJSON columns) is also parsed
//! into integers, floats and booleans. A value that cannot be cast fails its row
//! (validation), it does not fail the load. Anything else is a [`Error::ColumnType`].

use std::sync::Arc;

use arrow::array::{Array, ArrayRef, TimestampNanosecondArray, new_null_array};
use arrow::compute::{CastOptions, cast_with_options, concat_batches};
use arrow::datatypes::{DataType, Field, Schema, SchemaRef, TimeUnit};
use arrow::record_batch::{RecordBatch, RecordBatchOptions};
use arrow::util::display::array_value_to_string;
use phlo_core::metadata::is_metadata;
use phlo_core::schema::{SchemaDef, SchemaPolicy};

use crate::{Error, Result};

/// Field-metadata key marking a column whose values are text read from a file (CSV,
/// NDJSON) rather than typed by the producer: such a `Utf8` column is parsed into the
/// declared integer, float or boolean type, each value that does not parse failing its
/// row. Without the mark a `Utf8` column declared numeric is a [`Error::ColumnType`]: a
/// function that builds typed batches must build them with the declared types.
pub const TEXT_ORIGIN: &str = "phlo.text_origin";

/// Values of one column that could not be cast: each fails its row.
#[derive(Debug, Clone, PartialEq)]
pub struct CastFailure {
    /// Column.
    pub column: String,
    /// The check's name, e.g. `cast(ts, Utf8 -> Timestamp(µs, UTC))`.
    pub check: String,
    /// Failing row ordinals (ascending).
    pub rows: Vec<u32>,
    /// The original values of the first failing rows (at most [`crate::validate::MAX_SAMPLES`]).
    pub values: Vec<String>,
}

/// The coerced load.
#[derive(Debug, Clone)]
pub struct Coerced {
    /// One batch: the schema's columns in declaration order, then kept extra columns.
    pub batch: RecordBatch,
    /// Extra columns dropped under `drop_extra`, sorted.
    pub dropped_columns: Vec<String>,
    /// Extra columns kept under `additive` (nullable), sorted; they follow the schema's.
    pub added_columns: Vec<String>,
    /// Values that could not be cast.
    pub cast_failures: Vec<CastFailure>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum CastKind {
    /// Same type, or a cast that cannot fail or lose information.
    Lossless,
    /// A parse (string → date/time) that may fail per value.
    Parse,
    /// Nanoseconds → microseconds: fails values with sub-µs digits.
    NanosToMicros,
}

fn cast_kind(from: &DataType, to: &DataType, text: bool) -> Option<CastKind> {
    use DataType::*;
    if from == to || *from == Null {
        return Some(CastKind::Lossless);
    }
    let stringy = |t: &DataType| {
        matches!(t, Utf8 | LargeUtf8 | Utf8View)
            || matches!(t, Dictionary(_, v) if matches!(**v, Utf8 | LargeUtf8 | Utf8View))
    };
    if text && stringy(from) && matches!(to, Int32 | Int64 | Float32 | Float64 | Boolean) {
        return Some(CastKind::Parse);
    }
    match to {
        Int32 => matches!(from, Int8 | Int16 | UInt8 | UInt16).then_some(CastKind::Lossless),
        Int64 => matches!(from, Int8 | Int16 | Int32 | UInt8 | UInt16 | UInt32)
            .then_some(CastKind::Lossless),
        Float32 => {
            matches!(from, Int8 | Int16 | UInt8 | UInt16 | Float16).then_some(CastKind::Lossless)
        }
        Float64 => matches!(
            from,
            Int8 | Int16 | Int32 | Int64 | UInt8 | UInt16 | UInt32 | UInt64 | Float16 | Float32
        )
        .then_some(CastKind::Lossless),
        Utf8 => stringy(from).then_some(CastKind::Lossless),
        Date32 => stringy(from).then_some(CastKind::Parse),
        Timestamp(TimeUnit::Microsecond, _) => match from {
            Timestamp(TimeUnit::Nanosecond, _) => Some(CastKind::NanosToMicros),
            Timestamp(_, _) => Some(CastKind::Lossless),
            t if stringy(t) => Some(CastKind::Parse),
            _ => None,
        },
        _ => None,
    }
}

/// Short, stable names for types in check names and errors.
pub fn type_name(t: &DataType) -> String {
    match t {
        DataType::Timestamp(TimeUnit::Microsecond, Some(tz)) => format!("Timestamp(µs, {tz})"),
        other => other.to_string(),
    }
}

/// Casts `array` to `to`, returning the result and the rows whose value could not be cast.
fn cast_column(
    table: &str,
    column: &str,
    array: &ArrayRef,
    to: &DataType,
    text: bool,
) -> Result<(ArrayRef, Option<CastFailure>)> {
    let from = array.data_type();
    let kind = cast_kind(from, to, text).ok_or_else(|| Error::ColumnType {
        table: table.to_string(),
        column: column.to_string(),
        expected: type_name(to),
        found: type_name(from),
    })?;
    if from == to {
        return Ok((array.clone(), None));
    }
    let options = CastOptions {
        safe: true,
        ..Default::default()
    };
    let cast = cast_with_options(array, to, &options)?;
    let failed: Vec<u32> = match kind {
        CastKind::Lossless => Vec::new(),
        CastKind::Parse => (0..array.len())
            .filter(|&i| array.is_valid(i) && cast.is_null(i))
            .map(|i| i as u32)
            .collect(),
        CastKind::NanosToMicros => {
            match array.as_any().downcast_ref::<TimestampNanosecondArray>() {
                Some(ns) => (0..ns.len())
                    .filter(|&i| ns.is_valid(i) && ns.value(i) % 1000 != 0)
                    .map(|i| i as u32)
                    .collect(),
                None => Vec::new(),
            }
        }
    };
    if failed.is_empty() {
        return Ok((cast, None));
    }
    let values = failed
        .iter()
        .take(crate::validate::MAX_SAMPLES)
        .map(|&i| array_value_to_string(array, i as usize))
        .collect::<std::result::Result<_, _>>()?;
    // A value that could not be cast is null in the coerced column: nulls never
    // pass for the wrong reason, because its row is already failed.
    let cast = if kind == CastKind::NanosToMicros {
        let mut mask = vec![true; array.len()];
        for &i in &failed {
            mask[i as usize] = false;
        }
        let keep = arrow::array::BooleanArray::from(mask);
        arrow::compute::nullif(&cast, &arrow::compute::not(&keep)?)?
    } else {
        cast
    };
    Ok((
        cast,
        Some(CastFailure {
            column: column.to_string(),
            check: format!("cast({column}, {} -> {})", type_name(from), type_name(to)),
            rows: failed,
            values,
        }),
    ))
}

/// Coerces `batches` (in arrival order) to `schema` for `table`.
pub fn coerce(table: &str, schema: &SchemaDef, batches: &[RecordBatch]) -> Result<Coerced> {
    // Undeclared input columns, sorted by name so the output does not depend on input order.
    let mut extras: Vec<(String, DataType)> = Vec::new();
    for batch in batches {
        for field in batch.schema().fields() {
            let name = field.name();
            if is_metadata(name) {
                return Err(Error::ReservedColumn {
                    table: table.to_string(),
                    column: name.clone(),
                });
            }
            if schema.field(name).is_none() && !extras.iter().any(|(n, _)| n == name) {
                extras.push((name.clone(), field.data_type().clone()));
            }
        }
    }
    extras.sort_by(|a, b| a.0.cmp(&b.0));
    let (kept, dropped) = match schema.policy {
        SchemaPolicy::Strict if !extras.is_empty() => {
            return Err(Error::ExtraColumns {
                table: table.to_string(),
                columns: extras.into_iter().map(|(n, _)| n).collect(),
            });
        }
        SchemaPolicy::Strict => (Vec::new(), Vec::new()),
        SchemaPolicy::DropExtra => (Vec::new(), extras.into_iter().map(|(n, _)| n).collect()),
        SchemaPolicy::Additive => (extras, Vec::new()),
    };

    // Every column is nullable here: a null in a required column is a validation failure
    // of its row, not a crash. [`with_declared_nullability`] restores the contract on the
    // rows that are written.
    let mut fields: Vec<Field> = schema
        .fields
        .iter()
        .map(|f| f.arrow_field().with_nullable(true))
        .collect();
    fields.extend(
        kept.iter()
            .map(|(n, t)| Field::new(n, storage_type(t), true)),
    );
    let target: SchemaRef = Arc::new(Schema::new(fields));

    let mut coerced = Vec::with_capacity(batches.len());
    let mut failures: Vec<CastFailure> = Vec::new();
    let mut offset: u32 = 0;
    for batch in batches {
        let mut columns: Vec<ArrayRef> = Vec::with_capacity(target.fields().len());
        for (i, field) in target.fields().iter().enumerate() {
            let required = schema.fields.get(i).is_some_and(|f| !f.nullable);
            let input = batch.schema();
            let column = match batch.column_by_name(field.name()) {
                Some(array) => {
                    let text = input
                        .field_with_name(field.name())
                        .is_ok_and(|f| f.metadata().get(TEXT_ORIGIN).is_some_and(|v| v == "true"));
                    let (cast, failure) =
                        cast_column(table, field.name(), array, field.data_type(), text)?;
                    if let Some(f) = failure {
                        merge_failure(&mut failures, f, offset);
                    }
                    cast
                }
                None if required => {
                    return Err(Error::MissingColumn {
                        table: table.to_string(),
                        column: field.name().clone(),
                    });
                }
                None => new_null_array(field.data_type(), batch.num_rows()),
            };
            columns.push(column);
        }
        let options = RecordBatchOptions::new().with_row_count(Some(batch.num_rows()));
        coerced.push(RecordBatch::try_new_with_options(
            target.clone(),
            columns,
            &options,
        )?);
        offset = offset.saturating_add(batch.num_rows() as u32);
    }
    let batch = concat_batches(&target, &coerced)?;
    Ok(Coerced {
        batch,
        dropped_columns: dropped,
        added_columns: kept.into_iter().map(|(n, _)| n).collect(),
        cast_failures: failures,
    })
}

/// `batch` (coerced, validated rows) with the schema's declared nullability.
pub fn with_declared_nullability(schema: &SchemaDef, batch: &RecordBatch) -> Result<RecordBatch> {
    let fields: Vec<Field> = batch
        .schema()
        .fields()
        .iter()
        .map(|f| {
            let nullable = schema.field(f.name()).is_none_or(|d| d.nullable);
            f.as_ref().clone().with_nullable(nullable)
        })
        .collect();
    Ok(RecordBatch::try_new(
        Arc::new(Schema::new(fields)),
        batch.columns().to_vec(),
    )?)
}

/// The type an additive column is stored as (views and dictionaries become plain strings).
fn storage_type(t: &DataType) -> DataType {
    match t {
        DataType::Utf8View | DataType::LargeUtf8 => DataType::Utf8,
        DataType::Dictionary(_, v) => storage_type(v),
        DataType::Timestamp(_, _) => {
            DataType::Timestamp(TimeUnit::Microsecond, Some(phlo_core::schema::UTC.into()))
        }
        DataType::Null => DataType::Utf8,
        other => other.clone(),
    }
}

fn merge_failure(all: &mut Vec<CastFailure>, mut f: CastFailure, offset: u32) {
    for r in &mut f.rows {
        *r += offset;
    }
    match all.iter_mut().find(|a| a.check == f.check) {
        Some(a) => {
            a.rows.extend(f.rows);
            let room = crate::validate::MAX_SAMPLES.saturating_sub(a.values.len());
            a.values.extend(f.values.into_iter().take(room));
        }
        None => all.push(f),
    }
}

#[cfg(test)]
mod tests;
