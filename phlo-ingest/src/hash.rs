//! The row hash `_phlo_row_hash` (SEMANTICS §3): 128 bits, 32 lowercase hex characters.
//!
//! ## Canonical encoding (stable; pinned by a golden test — never change it)
//!
//! The hash covers the **user** columns only, in schema declaration order (then additive
//! extra columns, sorted by name), so it is independent of the input's column order and of
//! batch boundaries. For each row a byte string is built, column after column:
//!
//! | value | bytes |
//! |---|---|
//! | null | `0x00` |
//! | string | `0x01`, length as u64 little-endian, UTF-8 bytes |
//! | i32, i64, date32 (days), timestamp (µs) | `0x01`, the value as i64 little-endian |
//! | f32, f64 | `0x01`, the value as f64 bits little-endian (`-0.0` → `0.0`, every NaN → one NaN) |
//! | bool | `0x01`, `0x00` or `0x01` |
//! | other types | `0x01`, Arrow's display string encoded as a string |
//!
//! and hashed with XXH3-128 (seed 0); the hex form is big-endian, lowercase.
//! Null (`0x00`) and the empty string (`0x01` + zero length) differ.

use arrow::array::{Array, AsArray, RecordBatch};
use arrow::datatypes::{
    DataType, Date32Type, Float32Type, Float64Type, Int32Type, Int64Type, TimeUnit,
    TimestampMicrosecondType,
};
use arrow::util::display::{ArrayFormatter, FormatOptions};
use phlo_core::parallel;
use xxhash_rust::xxh3::xxh3_128;

use crate::Result;

enum Col<'a> {
    Utf8(&'a arrow::array::StringArray),
    I32(&'a arrow::array::Int32Array),
    I64(&'a arrow::array::Int64Array),
    F32(&'a arrow::array::Float32Array),
    F64(&'a arrow::array::Float64Array),
    Bool(&'a arrow::array::BooleanArray),
    Date(&'a arrow::array::Date32Array),
    Ts(&'a arrow::array::TimestampMicrosecondArray),
    Other(&'a dyn Array, ArrayFormatter<'a>),
}

fn encode_f64(buf: &mut Vec<u8>, v: f64) {
    let v = if v == 0.0 {
        0.0
    } else if v.is_nan() {
        f64::NAN
    } else {
        v
    };
    buf.extend_from_slice(&v.to_bits().to_le_bytes());
}

fn encode_str(buf: &mut Vec<u8>, s: &str) {
    buf.extend_from_slice(&(s.len() as u64).to_le_bytes());
    buf.extend_from_slice(s.as_bytes());
}

/// Rows from which [`row_hashes`] splits the work over the cores.
const PARALLEL_ROWS: usize = 64 * 1024;

/// [`row_hashes`], the rows split into one contiguous slice per core (a row's hash
/// depends on that row alone, so the result is the same).
pub fn row_hashes_parallel(batch: &RecordBatch, columns: &[usize]) -> Result<Vec<u128>> {
    let n = batch.num_rows();
    let workers = parallel::workers_for(n, PARALLEL_ROWS);
    if workers == 1 {
        return row_hashes(batch, columns);
    }
    let parts = parallel::run(workers, |w| {
        let rows = parallel::share(n, workers, w);
        row_hashes(&batch.slice(rows.start, rows.len()), columns)
    })
    .ok_or(crate::Error::WorkerPanicked {
        what: "row hashing".into(),
    })?;
    let mut out = Vec::with_capacity(n);
    for p in parts {
        out.extend(p?);
    }
    Ok(out)
}

/// The 128-bit hashes of every row over `columns` of `batch` (indices, in order).
pub fn row_hashes(batch: &RecordBatch, columns: &[usize]) -> Result<Vec<u128>> {
    let options = FormatOptions::default();
    let mut cols = Vec::with_capacity(columns.len());
    for &i in columns {
        let a = batch.column(i).as_ref();
        let col = match a.data_type() {
            DataType::Utf8 => Col::Utf8(a.as_string::<i32>()),
            DataType::Int32 => Col::I32(a.as_primitive::<Int32Type>()),
            DataType::Int64 => Col::I64(a.as_primitive::<Int64Type>()),
            DataType::Float32 => Col::F32(a.as_primitive::<Float32Type>()),
            DataType::Float64 => Col::F64(a.as_primitive::<Float64Type>()),
            DataType::Boolean => Col::Bool(a.as_boolean()),
            DataType::Date32 => Col::Date(a.as_primitive::<Date32Type>()),
            DataType::Timestamp(TimeUnit::Microsecond, _) => {
                Col::Ts(a.as_primitive::<TimestampMicrosecondType>())
            }
            _ => Col::Other(a, ArrayFormatter::try_new(a, &options)?),
        };
        cols.push(col);
    }
    let mut out = Vec::with_capacity(batch.num_rows());
    let mut buf: Vec<u8> = Vec::with_capacity(64 * columns.len().max(1));
    for row in 0..batch.num_rows() {
        buf.clear();
        for col in &cols {
            let null = match col {
                Col::Utf8(a) => a.is_null(row),
                Col::I32(a) => a.is_null(row),
                Col::I64(a) => a.is_null(row),
                Col::F32(a) => a.is_null(row),
                Col::F64(a) => a.is_null(row),
                Col::Bool(a) => a.is_null(row),
                Col::Date(a) => a.is_null(row),
                Col::Ts(a) => a.is_null(row),
                Col::Other(a, _) => a.is_null(row),
            };
            if null {
                buf.push(0);
                continue;
            }
            buf.push(1);
            match col {
                Col::Utf8(a) => encode_str(&mut buf, a.value(row)),
                Col::I32(a) => buf.extend_from_slice(&i64::from(a.value(row)).to_le_bytes()),
                Col::I64(a) => buf.extend_from_slice(&a.value(row).to_le_bytes()),
                Col::F32(a) => encode_f64(&mut buf, f64::from(a.value(row))),
                Col::F64(a) => encode_f64(&mut buf, a.value(row)),
                Col::Bool(a) => buf.push(u8::from(a.value(row))),
                Col::Date(a) => buf.extend_from_slice(&i64::from(a.value(row)).to_le_bytes()),
                Col::Ts(a) => buf.extend_from_slice(&a.value(row).to_le_bytes()),
                Col::Other(_, f) => encode_str(&mut buf, &f.value(row).to_string()),
            }
        }
        out.push(xxh3_128(&buf));
    }
    Ok(out)
}

/// The 32-character lowercase hex form of a row hash.
pub fn to_hex(hash: u128) -> String {
    String::from_utf8_lossy(&hex_bytes(hash)).into_owned()
}

/// The hex digits of a row hash, without allocating.
pub fn hex_bytes(hash: u128) -> [u8; 32] {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut out = [0u8; 32];
    for (i, byte) in hash.to_be_bytes().iter().enumerate() {
        out[2 * i] = DIGITS[usize::from(byte >> 4)];
        out[2 * i + 1] = DIGITS[usize::from(byte & 0x0f)];
    }
    out
}

/// A `Utf8` column of the hex forms of `hashes`, built in one buffer.
pub fn hex_array(hashes: &[u128]) -> arrow::array::StringArray {
    let mut builder = arrow::array::StringBuilder::with_capacity(hashes.len(), hashes.len() * 32);
    for h in hashes {
        let digits = hex_bytes(*h);
        // The digits are ASCII, so this never fails.
        builder.append_value(std::str::from_utf8(&digits).unwrap_or_default());
    }
    builder.finish()
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use arrow::array::{ArrayRef, Float64Array, Int64Array, StringArray};
    use arrow::datatypes::{Field, Schema};

    use super::*;

    fn batch(ids: Vec<Option<&str>>, values: Vec<Option<f64>>, n: Vec<Option<i64>>) -> RecordBatch {
        let schema = Arc::new(Schema::new(vec![
            Field::new("id", DataType::Utf8, true),
            Field::new("value", DataType::Float64, true),
            Field::new("n", DataType::Int64, true),
        ]));
        let cols: Vec<ArrayRef> = vec![
            Arc::new(StringArray::from(ids)),
            Arc::new(Float64Array::from(values)),
            Arc::new(Int64Array::from(n)),
        ];
        RecordBatch::try_new(schema, cols).unwrap_or_else(|e| panic!("test batch: {e}"))
    }

    #[test]
    fn parallel_hashing_equals_sequential() -> Result<()> {
        let n = 200_003;
        let ids: Vec<String> = (0..n).map(|i| format!("k{i}")).collect();
        let b = batch(
            ids.iter().map(|s| Some(s.as_str())).collect(),
            (0..n)
                .map(|i| (i % 7 != 0).then_some(i as f64 / 3.0))
                .collect(),
            (0..n).map(|i| Some(i as i64)).collect(),
        );
        assert_eq!(
            row_hashes_parallel(&b, &[0, 1, 2])?,
            row_hashes(&b, &[0, 1, 2])?
        );
        Ok(())
    }

    #[test]
    fn golden_hashes_never_change() -> Result<()> {
        let b = batch(
            vec![Some("a"), Some(""), None, Some("é")],
            vec![Some(1.5), Some(-0.0), Some(0.0), None],
            vec![Some(1), None, Some(-7), Some(i64::MAX)],
        );
        let hex: Vec<String> = row_hashes(&b, &[0, 1, 2])?
            .into_iter()
            .map(to_hex)
            .collect();
        assert_eq!(hex, GOLDEN);
        assert!(hex.iter().all(|h| {
            h.len() == 32
                && h.chars()
                    .all(|c| c.is_ascii_hexdigit() && !c.is_ascii_uppercase())
        }));
        Ok(())
    }

    const GOLDEN: [&str; 4] = [
        "2f6d4c075e5f053726bab9f488589d14",
        "a5b234d8b5c573a6f535bc4ad316946b",
        "f1d6e939f32b769167f7bad3713908ad",
        "a3941f28559d61d22b09042eb9d0aa9c",
    ];

    #[test]
    fn hex_forms_agree() {
        for h in [
            0u128,
            1,
            u128::MAX,
            0x0123_4567_89ab_cdef_0011_2233_4455_6677,
        ] {
            assert_eq!(to_hex(h), format!("{h:032x}"));
        }
        assert_eq!(hex_array(&[255]).value(0), format!("{:032x}", 255));
    }

    #[test]
    fn null_differs_from_empty_and_zero_signs_agree() -> Result<()> {
        let b = batch(
            vec![Some(""), None, Some("x"), Some("x")],
            vec![Some(1.0), Some(1.0), Some(0.0), Some(-0.0)],
            vec![None, None, None, None],
        );
        let h = row_hashes(&b, &[0, 1, 2])?;
        assert_ne!(h[0], h[1]);
        assert_eq!(h[2], h[3]);
        Ok(())
    }

    #[test]
    fn column_boundaries_are_unambiguous() -> Result<()> {
        let schema = Arc::new(Schema::new(vec![
            Field::new("a", DataType::Utf8, true),
            Field::new("b", DataType::Utf8, true),
        ]));
        let b = RecordBatch::try_new(
            schema,
            vec![
                Arc::new(StringArray::from(vec!["ab", "a"])) as ArrayRef,
                Arc::new(StringArray::from(vec!["c", "bc"])) as ArrayRef,
            ],
        )?;
        let h = row_hashes(&b, &[0, 1])?;
        assert_ne!(h[0], h[1]);
        Ok(())
    }

    #[test]
    fn batch_splits_do_not_matter() -> Result<()> {
        let whole = batch(
            vec![Some("a"), Some("b"), Some("c")],
            vec![Some(1.0), Some(2.0), Some(3.0)],
            vec![Some(1), Some(2), Some(3)],
        );
        let all = row_hashes(&whole, &[0, 1, 2])?;
        let mut parts = row_hashes(&whole.slice(0, 1), &[0, 1, 2])?;
        parts.extend(row_hashes(&whole.slice(1, 2), &[0, 1, 2])?);
        assert_eq!(all, parts);
        Ok(())
    }
}
