//! PostgreSQL's binary `COPY` format, both ways, straight from and into Arrow columns.
//!
//! ```text
//! header   "PGCOPY\n\xff\r\n\0", flags (i32 0), extension length (i32 0)
//! tuple    field count (i16), then per field: length (i32, -1 for NULL) and its bytes
//! trailer  -1 (i16)
//! ```
//!
//! A [`Checksum`] folds each tuple's bytes (everything after its field count), so the
//! checksum of the tuples phlo sent equals the checksum of the tuples PostgreSQL sends back
//! for the same rows, in any order, exactly when PostgreSQL stored every value as sent.

use std::sync::Arc;

use arrow::array::{
    Array, ArrayRef, BinaryArray, BinaryBuilder, BooleanArray, BooleanBuilder, Date32Array,
    Date32Builder, Decimal128Array, Float32Array, Float32Builder, Float64Array, Float64Builder,
    Int16Array, Int16Builder, Int32Array, Int32Builder, Int64Array, Int64Builder, StringArray,
    StringBuilder, Time64MicrosecondArray, Time64MicrosecondBuilder, TimestampMicrosecondArray,
    TimestampMicrosecondBuilder,
};
use arrow::datatypes::{DataType, Field, Schema, SchemaRef};
use arrow::record_batch::RecordBatch;
use bytes::{Buf, BufMut, BytesMut};

use crate::error::{PostgresError, Result};
use crate::types::PgType;

/// The 11-byte signature, the flags and the header extension length.
const HEADER: &[u8] = b"PGCOPY\n\xff\r\n\0\0\0\0\0\0\0\0\0";
/// Microseconds from 1970-01-01 to PostgreSQL's epoch, 2000-01-01.
const PG_EPOCH_MICROS: i64 = 946_684_800_000_000;
/// Days from 1970-01-01 to 2000-01-01.
const PG_EPOCH_DAYS: i32 = 10_957;

/// An order-independent checksum of published rows: their count and the wrapping sum of
/// each row's 128-bit xxh3 hash over its binary `COPY` encoding.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Checksum {
    rows: u64,
    sum: u128,
}

impl Checksum {
    /// Folds one tuple's bytes in.
    pub fn add(&mut self, tuple: &[u8]) {
        self.rows += 1;
        self.sum = self.sum.wrapping_add(xxhash_rust::xxh3::xxh3_128(tuple));
    }

    /// Rows folded in.
    pub fn rows(&self) -> u64 {
        self.rows
    }

    /// The checksum as 32 lowercase hex characters.
    pub fn hex(&self) -> String {
        format!("{:032x}", self.sum)
    }
}

/// Encodes Arrow batches as binary `COPY` tuples for one table's columns.
#[derive(Debug)]
pub struct Encoder {
    columns: Vec<(String, PgType, DataType)>,
    checksum: Checksum,
}

impl Encoder {
    /// An encoder for `schema`'s columns, or the first column PostgreSQL cannot hold.
    pub fn new(schema: &Schema) -> Result<Self> {
        let columns = schema
            .fields()
            .iter()
            .map(|f| {
                PgType::for_arrow(f.data_type())
                    .map(|(pg, dt)| (f.name().clone(), pg, dt))
                    .ok_or_else(|| PostgresError::UnsupportedType {
                        column: f.name().clone(),
                        arrow_type: f.data_type().to_string(),
                    })
            })
            .collect::<Result<Vec<_>>>()?;
        Ok(Encoder {
            columns,
            checksum: Checksum::default(),
        })
    }

    /// The columns: name and PostgreSQL type.
    pub fn columns(&self) -> impl Iterator<Item = (&str, PgType)> {
        self.columns.iter().map(|(n, t, _)| (n.as_str(), *t))
    }

    /// The stream's header.
    pub fn header(out: &mut BytesMut) {
        out.put_slice(HEADER);
    }

    /// The stream's trailer.
    pub fn trailer(out: &mut BytesMut) {
        out.put_i16(-1);
    }

    /// The checksum of every row encoded so far.
    pub fn checksum(&self) -> Checksum {
        self.checksum
    }

    /// Appends `batch`'s rows to `out`.
    pub fn encode(&mut self, batch: &RecordBatch, out: &mut BytesMut) -> Result<()> {
        if batch.num_columns() != self.columns.len() {
            return Err(PostgresError::internal(format!(
                "a batch of {} columns for a table of {}",
                batch.num_columns(),
                self.columns.len()
            )));
        }
        let arrays = batch
            .columns()
            .iter()
            .zip(&self.columns)
            .map(|(a, (name, _, dt))| {
                arrow::compute::cast(a, dt).map_err(|e| PostgresError::Encode {
                    column: name.clone(),
                    reason: e.to_string(),
                })
            })
            .collect::<Result<Vec<ArrayRef>>>()?;
        let width = i16::try_from(arrays.len())
            .map_err(|_| PostgresError::internal("more than 32767 columns"))?;
        for row in 0..batch.num_rows() {
            out.put_i16(width);
            let start = out.len();
            for (array, (name, pg, _)) in arrays.iter().zip(&self.columns) {
                encode_value(array.as_ref(), *pg, row, out).map_err(|reason| {
                    PostgresError::Encode {
                        column: name.clone(),
                        reason,
                    }
                })?;
            }
            self.checksum.add(&out[start..]);
        }
        Ok(())
    }
}

fn downcast<T: 'static>(array: &dyn Array) -> std::result::Result<&T, String> {
    array
        .as_any()
        .downcast_ref::<T>()
        .ok_or_else(|| format!("unexpected array type {}", array.data_type()))
}

fn put_field(out: &mut BytesMut, bytes: &[u8]) -> std::result::Result<(), String> {
    let len = i32::try_from(bytes.len()).map_err(|_| "a value above 2 GiB".to_string())?;
    out.put_i32(len);
    out.put_slice(bytes);
    Ok(())
}

fn encode_value(
    array: &dyn Array,
    pg: PgType,
    row: usize,
    out: &mut BytesMut,
) -> std::result::Result<(), String> {
    if array.is_null(row) {
        out.put_i32(-1);
        return Ok(());
    }
    match pg {
        PgType::Bool => {
            let v = downcast::<BooleanArray>(array)?.value(row);
            put_field(out, &[u8::from(v)])
        }
        PgType::Int2 => put_field(
            out,
            &downcast::<Int16Array>(array)?.value(row).to_be_bytes(),
        ),
        PgType::Int4 => put_field(
            out,
            &downcast::<Int32Array>(array)?.value(row).to_be_bytes(),
        ),
        PgType::Int8 => put_field(
            out,
            &downcast::<Int64Array>(array)?.value(row).to_be_bytes(),
        ),
        PgType::Float4 => put_field(
            out,
            &downcast::<Float32Array>(array)?.value(row).to_be_bytes(),
        ),
        PgType::Float8 => put_field(
            out,
            &downcast::<Float64Array>(array)?.value(row).to_be_bytes(),
        ),
        PgType::Text => {
            let s = downcast::<StringArray>(array)?.value(row);
            if s.contains('\0') {
                return Err("text holds a NUL character, which PostgreSQL text cannot".into());
            }
            put_field(out, s.as_bytes())
        }
        PgType::Bytea => put_field(out, downcast::<BinaryArray>(array)?.value(row)),
        PgType::Date => {
            let d = downcast::<Date32Array>(array)?.value(row);
            put_field(out, &(d - PG_EPOCH_DAYS).to_be_bytes())
        }
        PgType::Timestamp | PgType::Timestamptz => {
            let us = downcast::<TimestampMicrosecondArray>(array)?.value(row);
            let pg_us = us
                .checked_sub(PG_EPOCH_MICROS)
                .ok_or_else(|| format!("timestamp {us} µs is out of PostgreSQL's range"))?;
            put_field(out, &pg_us.to_be_bytes())
        }
        PgType::Time => put_field(
            out,
            &downcast::<Time64MicrosecondArray>(array)?
                .value(row)
                .to_be_bytes(),
        ),
        PgType::Numeric { scale, .. } => {
            let v = downcast::<Decimal128Array>(array)?.value(row);
            let bytes = numeric_bytes(v, scale)?;
            put_field(out, &bytes)
        }
        PgType::Uuid | PgType::Json { .. } => Err(format!("{} is not published", pg.sql())),
    }
}

/// `value × 10^-scale` in PostgreSQL's binary `numeric` form: digit count, weight (of the
/// first base-10000 digit), sign, display scale, then the digits, with leading and trailing
/// zero digits stripped as PostgreSQL stores them (zero: no digits, weight 0).
pub fn numeric_bytes(value: i128, scale: i8) -> std::result::Result<Vec<u8>, String> {
    let scale = u32::try_from(scale).map_err(|_| "a negative decimal scale".to_string())?;
    if scale > 38 {
        return Err("a decimal scale above 38".into());
    }
    let negative = value < 0;
    let magnitude = value.unsigned_abs();
    let pow = 10u128.pow(scale);
    let (int, frac) = (magnitude / pow, magnitude % pow);
    // Integer digits, most significant first.
    let mut int_groups = Vec::new();
    let mut rest = int;
    while rest > 0 {
        int_groups.push((rest % 10_000) as i16);
        rest /= 10_000;
    }
    int_groups.reverse();
    // Fraction digits, padded on the right to whole groups of four.
    let frac_groups_len = scale.div_ceil(4);
    let mut frac_groups = Vec::new();
    if frac_groups_len > 0 {
        let padded = frac * 10u128.pow(frac_groups_len * 4 - scale);
        let mut rest = padded;
        for _ in 0..frac_groups_len {
            frac_groups.push((rest % 10_000) as i16);
            rest /= 10_000;
        }
        frac_groups.reverse();
    }
    let mut weight = int_groups.len() as i32 - 1;
    let mut digits: Vec<i16> = int_groups;
    digits.extend(frac_groups);
    // Strip leading zeros (each moves the weight down) and trailing zeros.
    let lead = digits.iter().take_while(|d| **d == 0).count();
    if lead == digits.len() {
        digits.clear();
    } else {
        digits.drain(..lead);
        weight -= lead as i32;
        while digits.last() == Some(&0) {
            digits.pop();
        }
    }
    let (weight, sign) = if digits.is_empty() {
        (0, 0x0000u16)
    } else {
        (weight, if negative { 0x4000 } else { 0x0000 })
    };
    let mut out = Vec::with_capacity(8 + digits.len() * 2);
    out.extend_from_slice(&(digits.len() as i16).to_be_bytes());
    out.extend_from_slice(&(weight as i16).to_be_bytes());
    out.extend_from_slice(&sign.to_be_bytes());
    out.extend_from_slice(&(scale as i16).to_be_bytes());
    for d in digits {
        out.extend_from_slice(&d.to_be_bytes());
    }
    Ok(out)
}

/// A binary `numeric` value as its decimal text (`-12.50`), `NaN` and the infinities as
/// PostgreSQL spells them.
pub fn numeric_text(bytes: &[u8]) -> std::result::Result<String, String> {
    let short = || "a truncated numeric value".to_string();
    let word = |i: usize| -> std::result::Result<i16, String> {
        bytes
            .get(i..i + 2)
            .map(|b| i16::from_be_bytes([b[0], b[1]]))
            .ok_or_else(short)
    };
    let ndigits = usize::try_from(word(0)?).map_err(|_| short())?;
    let weight = i32::from(word(2)?);
    let sign = word(4)? as u16;
    let dscale = usize::try_from(word(6)?).map_err(|_| short())?;
    match sign {
        0xC000 => return Ok("NaN".into()),
        0xD000 => return Ok("Infinity".into()),
        0xF000 => return Ok("-Infinity".into()),
        _ => {}
    }
    let digits = (0..ndigits)
        .map(|i| word(8 + 2 * i))
        .collect::<std::result::Result<Vec<_>, _>>()?;
    let digit = |pos: i32| -> i16 {
        // The base-10000 digit of weight `pos`.
        let idx = weight - pos;
        usize::try_from(idx)
            .ok()
            .and_then(|i| digits.get(i).copied())
            .unwrap_or(0)
    };
    let mut int = String::new();
    for pos in (0..=weight.max(0)).rev() {
        let d = digit(pos);
        if int.is_empty() {
            if d != 0 || pos == 0 {
                int = d.to_string();
            }
        } else {
            int.push_str(&format!("{d:04}"));
        }
    }
    if int.is_empty() {
        int.push('0');
    }
    let mut frac = String::new();
    let mut pos = -1;
    while frac.len() < dscale {
        frac.push_str(&format!("{:04}", digit(pos)));
        pos -= 1;
    }
    frac.truncate(dscale);
    let negative = sign == 0x4000 && (int != "0" || frac.chars().any(|c| c != '0'));
    let mut text = String::new();
    if negative {
        text.push('-');
    }
    text.push_str(&int);
    if !frac.is_empty() {
        text.push('.');
        text.push_str(&frac);
    }
    Ok(text)
}

/// Splits a binary `COPY` stream, arriving in chunks, into tuples.
#[derive(Debug, Default)]
pub struct TupleReader {
    buf: BytesMut,
    header_seen: bool,
    ended: bool,
}

/// One tuple: each field's bytes, `None` for NULL, and the whole tuple's bytes after its
/// field count (what [`Checksum::add`] folds).
#[derive(Debug)]
pub struct Tuple {
    bytes: bytes::Bytes,
    fields: Vec<Option<(usize, usize)>>,
}

impl Tuple {
    /// The tuple's bytes after its field count.
    pub fn bytes(&self) -> &[u8] {
        &self.bytes
    }

    /// Field `i`'s bytes, `None` for NULL.
    pub fn field(&self, i: usize) -> Option<&[u8]> {
        self.fields
            .get(i)
            .copied()
            .flatten()
            .map(|(s, e)| &self.bytes[s..e])
    }

    /// Its number of fields.
    pub fn len(&self) -> usize {
        self.fields.len()
    }

    /// Whether it has no fields.
    pub fn is_empty(&self) -> bool {
        self.fields.is_empty()
    }
}

impl TupleReader {
    /// Appends a chunk of the stream.
    pub fn feed(&mut self, chunk: &[u8]) {
        self.buf.extend_from_slice(chunk);
    }

    /// Whether the trailer was read.
    pub fn ended(&self) -> bool {
        self.ended
    }

    /// The next complete tuple, `None` when more bytes are needed or the stream ended.
    pub fn next_tuple(&mut self) -> Result<Option<Tuple>> {
        if self.ended {
            return Ok(None);
        }
        if !self.header_seen {
            if self.buf.len() < HEADER.len() {
                return Ok(None);
            }
            if self.buf[..11] != HEADER[..11] {
                return Err(PostgresError::Protocol(
                    "the COPY stream does not start with the binary signature".into(),
                ));
            }
            let ext = u32::from_be_bytes([self.buf[15], self.buf[16], self.buf[17], self.buf[18]])
                as usize;
            if self.buf.len() < HEADER.len() + ext {
                return Ok(None);
            }
            self.buf.advance(HEADER.len() + ext);
            self.header_seen = true;
        }
        if self.buf.len() < 2 {
            return Ok(None);
        }
        let count = i16::from_be_bytes([self.buf[0], self.buf[1]]);
        if count == -1 {
            self.buf.advance(2);
            self.ended = true;
            return Ok(None);
        }
        let count = usize::try_from(count)
            .map_err(|_| PostgresError::Protocol(format!("a tuple of {count} fields")))?;
        let mut pos = 2;
        let mut fields = Vec::with_capacity(count);
        for _ in 0..count {
            let Some(len) = self.buf.get(pos..pos + 4) else {
                return Ok(None);
            };
            let len = i32::from_be_bytes([len[0], len[1], len[2], len[3]]);
            pos += 4;
            if len < 0 {
                fields.push(None);
                continue;
            }
            let len = len as usize;
            if self.buf.len() < pos + len {
                return Ok(None);
            }
            fields.push(Some((pos - 2, pos - 2 + len)));
            pos += len;
        }
        let mut tuple = self.buf.split_to(pos);
        tuple.advance(2);
        Ok(Some(Tuple {
            bytes: tuple.freeze(),
            fields,
        }))
    }
}

/// The field metadata key naming the PostgreSQL type a column was read from (`numeric`,
/// `uuid`, `jsonb`, …), so a reader can tell decimal text from plain text.
pub const PG_TYPE_METADATA: &str = "phlo.postgres_type";

/// Builds Arrow batches from tuples of known column types.
#[derive(Debug)]
pub struct Decoder {
    schema: SchemaRef,
    types: Vec<PgType>,
    builders: Vec<Builder>,
    rows: usize,
}

#[derive(Debug)]
enum Builder {
    Bool(BooleanBuilder),
    I16(Int16Builder),
    I32(Int32Builder),
    I64(Int64Builder),
    F32(Float32Builder),
    F64(Float64Builder),
    Text(StringBuilder),
    Bin(BinaryBuilder),
    Date(Date32Builder),
    Ts(TimestampMicrosecondBuilder, Option<Arc<str>>),
    Time(Time64MicrosecondBuilder),
}

impl Builder {
    fn new(dt: &DataType) -> Builder {
        match dt {
            DataType::Boolean => Builder::Bool(BooleanBuilder::new()),
            DataType::Int16 => Builder::I16(Int16Builder::new()),
            DataType::Int32 => Builder::I32(Int32Builder::new()),
            DataType::Int64 => Builder::I64(Int64Builder::new()),
            DataType::Float32 => Builder::F32(Float32Builder::new()),
            DataType::Float64 => Builder::F64(Float64Builder::new()),
            DataType::Binary => Builder::Bin(BinaryBuilder::new()),
            DataType::Date32 => Builder::Date(Date32Builder::new()),
            DataType::Timestamp(_, tz) => {
                Builder::Ts(TimestampMicrosecondBuilder::new(), tz.clone())
            }
            DataType::Time64(_) => Builder::Time(Time64MicrosecondBuilder::new()),
            _ => Builder::Text(StringBuilder::new()),
        }
    }

    fn finish(&mut self) -> ArrayRef {
        match self {
            Builder::Bool(b) => Arc::new(b.finish()),
            Builder::I16(b) => Arc::new(b.finish()),
            Builder::I32(b) => Arc::new(b.finish()),
            Builder::I64(b) => Arc::new(b.finish()),
            Builder::F32(b) => Arc::new(b.finish()),
            Builder::F64(b) => Arc::new(b.finish()),
            Builder::Text(b) => Arc::new(b.finish()),
            Builder::Bin(b) => Arc::new(b.finish()),
            Builder::Date(b) => Arc::new(b.finish()),
            Builder::Ts(b, tz) => Arc::new(b.finish().with_timezone_opt(tz.clone())),
            Builder::Time(b) => Arc::new(b.finish()),
        }
    }
}

fn fixed<const N: usize>(bytes: &[u8]) -> std::result::Result<[u8; N], String> {
    bytes
        .try_into()
        .map_err(|_| format!("a {}-byte value where {N} bytes were expected", bytes.len()))
}

impl Decoder {
    /// A decoder for columns `(name, type)`.
    pub fn new(columns: &[(String, PgType)]) -> Self {
        let fields: Vec<Field> = columns
            .iter()
            .map(|(n, t)| {
                Field::new(n, t.arrow(), true).with_metadata(
                    [(PG_TYPE_METADATA.to_string(), t.sql_base().to_string())].into(),
                )
            })
            .collect();
        let builders = fields.iter().map(|f| Builder::new(f.data_type())).collect();
        Decoder {
            schema: Arc::new(Schema::new(fields)),
            types: columns.iter().map(|(_, t)| *t).collect(),
            builders,
            rows: 0,
        }
    }

    /// The batches' schema.
    pub fn schema(&self) -> SchemaRef {
        self.schema.clone()
    }

    /// Rows buffered since the last batch.
    pub fn buffered(&self) -> usize {
        self.rows
    }

    /// Appends one tuple.
    pub fn push(&mut self, tuple: &Tuple) -> Result<()> {
        if tuple.len() != self.types.len() {
            return Err(PostgresError::Protocol(format!(
                "a tuple of {} fields for {} columns",
                tuple.len(),
                self.types.len()
            )));
        }
        for (i, (builder, pg)) in self.builders.iter_mut().zip(&self.types).enumerate() {
            let value = tuple.field(i);
            decode_value(builder, *pg, value).map_err(|reason| PostgresError::Decode {
                column: self.schema.field(i).name().clone(),
                reason,
            })?;
        }
        self.rows += 1;
        Ok(())
    }

    /// The buffered rows as a batch (empty when none).
    pub fn finish(&mut self) -> Result<RecordBatch> {
        let columns = self.builders.iter_mut().map(Builder::finish).collect();
        self.rows = 0;
        RecordBatch::try_new(self.schema.clone(), columns)
            .map_err(|e| PostgresError::internal(e.to_string()))
    }
}

fn decode_value(
    builder: &mut Builder,
    pg: PgType,
    value: Option<&[u8]>,
) -> std::result::Result<(), String> {
    let Some(v) = value else {
        match builder {
            Builder::Bool(b) => b.append_null(),
            Builder::I16(b) => b.append_null(),
            Builder::I32(b) => b.append_null(),
            Builder::I64(b) => b.append_null(),
            Builder::F32(b) => b.append_null(),
            Builder::F64(b) => b.append_null(),
            Builder::Text(b) => b.append_null(),
            Builder::Bin(b) => b.append_null(),
            Builder::Date(b) => b.append_null(),
            Builder::Ts(b, _) => b.append_null(),
            Builder::Time(b) => b.append_null(),
        }
        return Ok(());
    };
    match (builder, pg) {
        (Builder::Bool(b), _) => b.append_value(fixed::<1>(v)?[0] != 0),
        (Builder::I16(b), _) => b.append_value(i16::from_be_bytes(fixed(v)?)),
        (Builder::I32(b), _) => b.append_value(i32::from_be_bytes(fixed(v)?)),
        (Builder::I64(b), _) => b.append_value(i64::from_be_bytes(fixed(v)?)),
        (Builder::F32(b), _) => b.append_value(f32::from_be_bytes(fixed(v)?)),
        (Builder::F64(b), _) => b.append_value(f64::from_be_bytes(fixed(v)?)),
        (Builder::Bin(b), _) => b.append_value(v),
        (Builder::Date(b), _) => {
            let d = i32::from_be_bytes(fixed(v)?);
            if d == i32::MAX || d == i32::MIN {
                return Err("an infinite date has no Arrow value; filter or cast it".into());
            }
            b.append_value(d + PG_EPOCH_DAYS)
        }
        (Builder::Ts(b, _), _) => {
            let t = i64::from_be_bytes(fixed(v)?);
            if t == i64::MAX || t == i64::MIN {
                return Err("an infinite timestamp has no Arrow value; filter or cast it".into());
            }
            b.append_value(
                t.checked_add(PG_EPOCH_MICROS)
                    .ok_or("a timestamp out of Arrow's range")?,
            )
        }
        (Builder::Time(b), _) => b.append_value(i64::from_be_bytes(fixed(v)?)),
        (Builder::Text(b), PgType::Numeric { .. }) => b.append_value(numeric_text(v)?),
        (Builder::Text(b), PgType::Uuid) => {
            let u: [u8; 16] = fixed(v)?;
            let h: String = u.iter().map(|x| format!("{x:02x}")).collect();
            b.append_value(format!(
                "{}-{}-{}-{}-{}",
                &h[0..8],
                &h[8..12],
                &h[12..16],
                &h[16..20],
                &h[20..32]
            ))
        }
        (Builder::Text(b), PgType::Json { binary: true }) => {
            let rest = v.get(1..).ok_or("an empty jsonb value")?;
            b.append_value(std::str::from_utf8(rest).map_err(|e| e.to_string())?)
        }
        (Builder::Text(b), _) => b.append_value(std::str::from_utf8(v).map_err(|e| e.to_string())?),
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use arrow::array::{Decimal128Array, Int64Array, StringArray};

    fn numeric_round_trip(value: i128, scale: i8) -> String {
        let bytes = numeric_bytes(value, scale).expect("encodes");
        numeric_text(&bytes).expect("decodes")
    }

    #[test]
    fn numeric_values_encode_as_postgres_stores_them() {
        assert_eq!(numeric_round_trip(0, 2), "0.00");
        assert_eq!(numeric_round_trip(1250, 2), "12.50");
        assert_eq!(numeric_round_trip(-1250, 2), "-12.50");
        assert_eq!(numeric_round_trip(123_456_789, 0), "123456789");
        assert_eq!(numeric_round_trip(1, 6), "0.000001");
        assert_eq!(numeric_round_trip(100_000_000, 4), "10000.0000");
        assert_eq!(
            numeric_round_trip(i128::from(u64::MAX), 0),
            u64::MAX.to_string()
        );
        // Zero: no digits, weight 0, positive, the scale kept.
        assert_eq!(
            numeric_bytes(0, 3).expect("zero"),
            vec![0, 0, 0, 0, 0, 0, 0, 3]
        );
        // 12.50 at scale 2: digits [12, 5000], weight 0.
        assert_eq!(
            numeric_bytes(1250, 2).expect("12.50"),
            vec![0, 2, 0, 0, 0, 0, 0, 2, 0, 12, 0x13, 0x88]
        );
        // 0.0001: one digit [1] of weight -1.
        assert_eq!(
            numeric_bytes(1, 4).expect("0.0001"),
            vec![0, 1, 0xff, 0xff, 0, 0, 0, 4, 0, 1]
        );
        // 10000: one digit [1] of weight 1 (the trailing zero group stripped).
        assert_eq!(
            numeric_bytes(10_000, 0).expect("10000"),
            vec![0, 1, 0, 1, 0, 0, 0, 0, 0, 1]
        );
    }

    #[test]
    fn a_stream_in_arbitrary_chunks_gives_the_tuples_and_checksum_it_was_made_of() {
        let schema = Arc::new(Schema::new(vec![
            Field::new("id", DataType::Int64, false),
            Field::new("name", DataType::Utf8, true),
            Field::new("amount", DataType::Decimal128(10, 2), true),
        ]));
        let batch = RecordBatch::try_new(
            schema.clone(),
            vec![
                Arc::new(Int64Array::from(vec![1, 2, 3])),
                Arc::new(StringArray::from(vec![Some("a"), None, Some("ccc")])),
                Arc::new(
                    Decimal128Array::from(vec![Some(1250), Some(-3), None])
                        .with_precision_and_scale(10, 2)
                        .expect("decimal"),
                ),
            ],
        )
        .expect("batch");
        let mut enc = Encoder::new(&schema).expect("encodable");
        let mut out = BytesMut::new();
        Encoder::header(&mut out);
        enc.encode(&batch, &mut out).expect("encodes");
        Encoder::trailer(&mut out);
        let columns: Vec<(String, PgType)> =
            enc.columns().map(|(n, t)| (n.to_string(), t)).collect();
        let mut reader = TupleReader::default();
        let mut dec = Decoder::new(&columns);
        let mut sum = Checksum::default();
        for chunk in out.chunks(5) {
            reader.feed(chunk);
            while let Some(t) = reader.next_tuple().expect("parses") {
                sum.add(t.bytes());
                dec.push(&t).expect("decodes");
            }
        }
        assert!(reader.ended());
        assert_eq!(sum, enc.checksum());
        assert_eq!(sum.rows(), 3);
        let back = dec.finish().expect("batch");
        let names = back
            .column(1)
            .as_any()
            .downcast_ref::<StringArray>()
            .expect("text");
        assert_eq!(names.value(2), "ccc");
        assert!(names.is_null(1));
        let amounts = back
            .column(2)
            .as_any()
            .downcast_ref::<StringArray>()
            .expect("text");
        assert_eq!(amounts.value(0), "12.50");
        assert_eq!(amounts.value(1), "-0.03");
    }

    #[test]
    fn a_checksum_does_not_depend_on_row_order() {
        let (mut a, mut b) = (Checksum::default(), Checksum::default());
        a.add(b"one");
        a.add(b"two");
        b.add(b"two");
        b.add(b"one");
        assert_eq!(a, b);
        b.add(b"two");
        assert_ne!(a, b);
    }

    #[test]
    fn text_with_a_nul_is_refused_not_truncated() {
        let schema = Arc::new(Schema::new(vec![Field::new("s", DataType::Utf8, false)]));
        let batch = RecordBatch::try_new(
            schema.clone(),
            vec![Arc::new(StringArray::from(vec!["a\0b"]))],
        )
        .expect("batch");
        let mut enc = Encoder::new(&schema).expect("encodable");
        let err = enc.encode(&batch, &mut BytesMut::new()).expect_err("NUL");
        assert!(err.to_string().contains("NUL"), "{err}");
    }
}
