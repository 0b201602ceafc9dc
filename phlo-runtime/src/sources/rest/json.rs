//! One pass over a page of JSON: the records at the data selector go straight into text
//! columns (no `serde_json::Value` per record), and the few values the paginator and the
//! auto-detection need are picked up on the way.

use std::collections::HashMap;
use std::fmt;
use std::sync::Arc;

use arrow::array::{ArrayRef, StringBuilder, new_null_array};
use arrow::datatypes::{DataType, Field, Schema, SchemaRef};
use arrow::record_batch::RecordBatch;
use serde::de::{self, DeserializeSeed, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde_json::Value;

use super::error::RestError;
use phlo_ingest::coerce::TEXT_ORIGIN;

/// A dotted JSON path: `data`, `meta.next_cursor`; `$` (or an empty path) is the root.
/// A leading `$.` is allowed, so `$.data.items` is `data.items`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct JsonPath(Vec<String>);

impl JsonPath {
    /// Parses `text`. Errors name the path and say what is wrong.
    pub fn parse(text: &str) -> Result<Self, RestError> {
        let trimmed = text.trim();
        let body = trimmed
            .strip_prefix("$.")
            .or_else(|| (trimmed == "$").then_some(""))
            .unwrap_or(trimmed);
        if body.is_empty() {
            return Ok(JsonPath(Vec::new()));
        }
        let segments: Vec<String> = body.split('.').map(str::to_string).collect();
        if segments
            .iter()
            .any(|s| s.is_empty() || s.contains(['[', ']', '*']))
        {
            return Err(RestError::InvalidPath {
                path: text.to_string(),
                reason: "a path is keys separated by dots (`data.items`), or `$` for the root; \
                         indexes and wildcards are not supported"
                    .into(),
            });
        }
        Ok(JsonPath(segments))
    }

    /// The root.
    pub fn root() -> Self {
        JsonPath(Vec::new())
    }

    /// Whether this is the root.
    pub fn is_root(&self) -> bool {
        self.0.is_empty()
    }

    fn segments(&self) -> &[String] {
        &self.0
    }
}

impl fmt::Display for JsonPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.0.is_empty() {
            f.write_str("$")
        } else {
            f.write_str(&self.0.join("."))
        }
    }
}

/// Looks up `path` in `value`.
pub fn lookup<'v>(value: &'v Value, path: &JsonPath) -> Option<&'v Value> {
    path.segments()
        .iter()
        .try_fold(value, |v, key| v.as_object()?.get(key))
}

/// What one pass over a page found.
#[derive(Debug, Default)]
pub struct Scan {
    /// The values found at the wanted paths (absent paths are missing from the map; a
    /// JSON `null` is `Value::Null`).
    pub values: HashMap<JsonPath, Value>,
    /// Records read at the data selector (0 when there was none).
    pub records: usize,
    /// Whether the data selector was found.
    pub found_data: bool,
    /// The root's kind.
    pub root: Kind,
    /// Top-level keys whose value is an array, in document order (for auto-detection).
    pub array_keys: Vec<String>,
    /// Every top-level key, in document order.
    pub keys: Vec<String>,
}

/// A JSON value's kind.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// An object.
    #[default]
    Object,
    /// An array.
    Array,
    /// Anything else.
    Scalar,
}

/// Scans `body`: records at `data` (when given) go into `decoder`, the values at `wanted`
/// are returned. A document that is not JSON is [`RestError::Json`].
pub fn scan(
    body: &[u8],
    data: Option<&JsonPath>,
    wanted: &[JsonPath],
    decoder: &mut RecordDecoder,
) -> Result<Scan, serde_json::Error> {
    let mut ctx = Ctx {
        data,
        wanted,
        decoder,
        out: Scan::default(),
    };
    let mut path = Vec::new();
    let mut de = serde_json::Deserializer::from_slice(body);
    NodeSeed {
        path: &mut path,
        ctx: &mut ctx,
    }
    .deserialize(&mut de)?;
    de.end()?;
    Ok(ctx.out)
}

struct Ctx<'a> {
    data: Option<&'a JsonPath>,
    wanted: &'a [JsonPath],
    decoder: &'a mut RecordDecoder,
    out: Scan,
}

impl Ctx<'_> {
    fn is_data(&self, path: &[String]) -> bool {
        self.data.is_some_and(|d| d.segments() == path)
    }

    fn wants(&self, path: &[String]) -> bool {
        self.wanted.iter().any(|w| w.segments() == path)
    }

    /// Whether something of interest lies below `path`.
    fn below(&self, path: &[String]) -> bool {
        let under =
            |p: &JsonPath| p.segments().len() > path.len() && p.segments().starts_with(path);
        self.data.is_some_and(under) || self.wanted.iter().any(under)
    }
}

struct NodeSeed<'p, 'c, 'a> {
    path: &'p mut Vec<String>,
    ctx: &'c mut Ctx<'a>,
}

impl<'de> DeserializeSeed<'de> for NodeSeed<'_, '_, '_> {
    type Value = ();

    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_any(self)
    }
}

impl NodeSeed<'_, '_, '_> {
    fn scalar<E>(self) -> Result<(), E> {
        if self.path.is_empty() {
            self.ctx.out.root = Kind::Scalar;
        }
        Ok(())
    }
}

impl<'de> Visitor<'de> for NodeSeed<'_, '_, '_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON value")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        let top = self.path.is_empty();
        while let Some(key) = map.next_key::<String>()? {
            self.path.push(key);
            if top {
                self.ctx.out.keys.push(self.path[0].clone());
            }
            if self.ctx.is_data(self.path) {
                self.ctx.out.found_data = true;
                map.next_value_seed(DataSeed {
                    decoder: &mut *self.ctx.decoder,
                    records: &mut self.ctx.out.records,
                })?;
            } else if self.ctx.wants(self.path) {
                let value: Value = map.next_value()?;
                if top && value.is_array() {
                    self.ctx.out.array_keys.push(self.path[0].clone());
                }
                let path = JsonPath(self.path.clone());
                self.ctx.out.values.insert(path, value);
            } else if self.ctx.below(self.path) {
                map.next_value_seed(NodeSeed {
                    path: &mut *self.path,
                    ctx: &mut *self.ctx,
                })?;
            } else if top {
                if map.next_value_seed(KindSeed)? == Kind::Array {
                    self.ctx.out.array_keys.push(self.path[0].clone());
                }
            } else {
                map.next_value::<IgnoredAny>()?;
            }
            self.path.pop();
        }
        Ok(())
    }

    fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<(), A::Error> {
        if self.path.is_empty() {
            self.ctx.out.root = Kind::Array;
        }
        if self.ctx.is_data(self.path) {
            self.ctx.out.found_data = true;
            DataSeed {
                decoder: &mut *self.ctx.decoder,
                records: &mut self.ctx.out.records,
            }
            .visit_seq(seq)
        } else {
            IgnoredAny.visit_seq(seq).map(|_| ())
        }
    }

    fn visit_str<E>(self, _: &str) -> Result<(), E> {
        self.scalar()
    }
    fn visit_i64<E>(self, _: i64) -> Result<(), E> {
        self.scalar()
    }
    fn visit_u64<E>(self, _: u64) -> Result<(), E> {
        self.scalar()
    }
    fn visit_f64<E>(self, _: f64) -> Result<(), E> {
        self.scalar()
    }
    fn visit_bool<E>(self, _: bool) -> Result<(), E> {
        self.scalar()
    }
    fn visit_unit<E>(self) -> Result<(), E> {
        self.scalar()
    }
}

/// Skips a value, saying what kind it was.
struct KindSeed;

impl<'de> DeserializeSeed<'de> for KindSeed {
    type Value = Kind;
    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<Kind, D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for KindSeed {
    type Value = Kind;
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON value")
    }
    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Kind, A::Error> {
        IgnoredAny.visit_map(map).map(|_| Kind::Object)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<Kind, A::Error> {
        IgnoredAny.visit_seq(seq).map(|_| Kind::Array)
    }
    fn visit_str<E>(self, _: &str) -> Result<Kind, E> {
        Ok(Kind::Scalar)
    }
    fn visit_i64<E>(self, _: i64) -> Result<Kind, E> {
        Ok(Kind::Scalar)
    }
    fn visit_u64<E>(self, _: u64) -> Result<Kind, E> {
        Ok(Kind::Scalar)
    }
    fn visit_f64<E>(self, _: f64) -> Result<Kind, E> {
        Ok(Kind::Scalar)
    }
    fn visit_bool<E>(self, _: bool) -> Result<Kind, E> {
        Ok(Kind::Scalar)
    }
    fn visit_unit<E>(self) -> Result<Kind, E> {
        Ok(Kind::Scalar)
    }
}

/// The records: an array of objects (or one object, read as one record).
struct DataSeed<'d> {
    decoder: &'d mut RecordDecoder,
    records: &'d mut usize,
}

impl<'de> DeserializeSeed<'de> for DataSeed<'_> {
    type Value = ();
    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for DataSeed<'_> {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an array of records (objects)")
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        while seq
            .next_element_seed(RecordSeed {
                decoder: &mut *self.decoder,
            })?
            .is_some()
        {
            *self.records += 1;
        }
        Ok(())
    }
    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<(), A::Error> {
        RecordSeed {
            decoder: self.decoder,
        }
        .visit_map(map)?;
        *self.records += 1;
        Ok(())
    }
    fn visit_unit<E>(self) -> Result<(), E> {
        // `"data": null`: no records.
        Ok(())
    }
}

/// One record, an object: each key's value goes into its column.
struct RecordSeed<'d> {
    decoder: &'d mut RecordDecoder,
}

impl<'de> DeserializeSeed<'de> for RecordSeed<'_> {
    type Value = ();
    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for RecordSeed<'_> {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a record (a JSON object)")
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        let decoder = self.decoder;
        let mut position = 0;
        while let Some(column) = map.next_key_seed(KeySeed {
            decoder: &mut *decoder,
            position,
        })? {
            position += 1;
            map.next_value_seed(ValueSeed {
                decoder: &mut *decoder,
                column,
            })?;
        }
        decoder.end_row();
        Ok(())
    }
}

/// A record's key: the index of its column (a new column for a key not seen before).
struct KeySeed<'d> {
    decoder: &'d mut RecordDecoder,
    /// The key's position in its record.
    position: usize,
}

impl<'de> DeserializeSeed<'de> for KeySeed<'_> {
    type Value = usize;
    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<usize, D::Error> {
        d.deserialize_str(self)
    }
}

impl<'de> Visitor<'de> for KeySeed<'_> {
    type Value = usize;
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a key")
    }
    fn visit_str<E>(self, key: &str) -> Result<usize, E> {
        Ok(self.decoder.column_at(self.position, key))
    }
}

/// A value: text into its column (`null` is null; numbers and booleans as written;
/// objects and arrays as JSON text).
struct ValueSeed<'d> {
    decoder: &'d mut RecordDecoder,
    column: usize,
}

impl<'de> DeserializeSeed<'de> for ValueSeed<'_> {
    type Value = ();
    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for ValueSeed<'_> {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON value")
    }
    fn visit_str<E>(self, v: &str) -> Result<(), E> {
        self.decoder.set(self.column, v);
        Ok(())
    }
    fn visit_i64<E>(self, v: i64) -> Result<(), E> {
        self.decoder.set_display(self.column, v);
        Ok(())
    }
    fn visit_u64<E>(self, v: u64) -> Result<(), E> {
        self.decoder.set_display(self.column, v);
        Ok(())
    }
    fn visit_f64<E>(self, v: f64) -> Result<(), E> {
        // Rust's shortest round-trip form: `1.5`, and `5` for 5.0 (JSON does not tell
        // integers from floats, so an integer column takes it).
        self.decoder.set_display(self.column, v);
        Ok(())
    }
    fn visit_bool<E>(self, v: bool) -> Result<(), E> {
        self.decoder
            .set(self.column, if v { "true" } else { "false" });
        Ok(())
    }
    fn visit_unit<E>(self) -> Result<(), E> {
        Ok(())
    }
    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<(), A::Error> {
        let value: Value =
            de::Deserialize::deserialize(de::value::MapAccessDeserializer::new(map))?;
        self.decoder.set(self.column, &value.to_string());
        Ok(())
    }
    fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<(), A::Error> {
        let value: Value =
            de::Deserialize::deserialize(de::value::SeqAccessDeserializer::new(seq))?;
        self.decoder.set(self.column, &value.to_string());
        Ok(())
    }
}

/// Text columns built from records, cut into batches of `batch_rows`. The declared
/// columns come first, in declaration order, present even when no record has them; a key
/// the schema does not declare becomes a column of its own, in the order first seen, for
/// the schema's policy to keep, drop or reject. Every column is nullable `Utf8` marked
/// [`TEXT_ORIGIN`], so the load's coercion parses it into the declared type and a value
/// that does not parse fails its row.
#[derive(Debug)]
pub struct RecordDecoder {
    names: Vec<String>,
    index: HashMap<String, usize>,
    /// The column of each key position in the last record: records of one API mostly
    /// list their keys in the same order, so a key is compared with one name before it
    /// is hashed.
    order: Vec<usize>,
    builders: Vec<StringBuilder>,
    /// The row (within the current batch) each column last received a value in, plus one.
    filled: Vec<usize>,
    rows: usize,
    batch_rows: usize,
    done: Vec<(usize, Vec<ArrayRef>)>,
    scratch: String,
}

impl RecordDecoder {
    /// A decoder with the `declared` columns first.
    pub fn new<'a>(declared: impl IntoIterator<Item = &'a str>, batch_rows: usize) -> Self {
        let mut d = RecordDecoder {
            names: Vec::new(),
            index: HashMap::new(),
            order: Vec::new(),
            builders: Vec::new(),
            filled: Vec::new(),
            rows: 0,
            batch_rows: batch_rows.max(1),
            done: Vec::new(),
            scratch: String::new(),
        };
        for name in declared {
            d.column(name);
        }
        d
    }

    fn column_at(&mut self, position: usize, key: &str) -> usize {
        if let Some(&c) = self.order.get(position)
            && self.names[c] == key
        {
            return c;
        }
        let c = self.column(key);
        if position < self.order.len() {
            self.order[position] = c;
        } else {
            self.order.push(c);
        }
        c
    }

    fn column(&mut self, key: &str) -> usize {
        if let Some(&i) = self.index.get(key) {
            return i;
        }
        let i = self.names.len();
        let mut builder = StringBuilder::with_capacity(self.batch_rows, self.batch_rows * 8);
        for _ in 0..self.rows {
            builder.append_null();
        }
        self.names.push(key.to_string());
        self.index.insert(key.to_string(), i);
        self.builders.push(builder);
        self.filled.push(0);
        i
    }

    /// Sets column `i` of the current row; a key repeated within a record keeps its first
    /// value.
    fn set(&mut self, i: usize, value: &str) {
        if self.filled[i] == self.rows + 1 {
            return;
        }
        self.filled[i] = self.rows + 1;
        self.builders[i].append_value(value);
    }

    /// Sets column `i` to `value`'s text.
    fn set_display(&mut self, i: usize, value: impl fmt::Display) {
        use std::fmt::Write as _;
        if self.filled[i] == self.rows + 1 {
            return;
        }
        self.scratch.clear();
        let _ = write!(self.scratch, "{value}");
        self.filled[i] = self.rows + 1;
        self.builders[i].append_value(&self.scratch);
    }

    fn end_row(&mut self) {
        let row = self.rows + 1;
        for (builder, filled) in self.builders.iter_mut().zip(self.filled.iter_mut()) {
            if *filled != row {
                builder.append_null();
            }
        }
        self.rows += 1;
        if self.rows == self.batch_rows {
            self.cut();
        }
    }

    fn cut(&mut self) {
        if self.rows == 0 {
            return;
        }
        let arrays = self
            .builders
            .iter_mut()
            .map(|b| Arc::new(b.finish()) as ArrayRef)
            .collect();
        self.done.push((self.rows, arrays));
        self.rows = 0;
        self.filled.iter_mut().for_each(|f| *f = 0);
    }

    /// Rows decoded so far.
    #[cfg(test)]
    pub fn total_rows(&self) -> usize {
        self.done.iter().map(|(n, _)| n).sum::<usize>() + self.rows
    }

    /// The text of column `name` over every row decoded so far (for the cursor).
    pub fn values_of(&mut self, name: &str) -> Vec<String> {
        use arrow::array::{Array, AsArray};
        self.cut();
        let Some(&i) = self.index.get(name) else {
            return Vec::new();
        };
        let mut out = Vec::new();
        for (_, arrays) in &self.done {
            if let Some(a) = arrays.get(i) {
                let s = a.as_string::<i32>();
                out.extend(
                    (0..s.len())
                        .filter(|&r| s.is_valid(r))
                        .map(|r| s.value(r).to_string()),
                );
            }
        }
        out
    }

    /// The batches, every one with every column (null where a batch predates a key).
    pub fn finish(mut self) -> Result<Vec<RecordBatch>, arrow::error::ArrowError> {
        self.cut();
        let schema: SchemaRef = Arc::new(Schema::new(
            self.names
                .iter()
                .map(|n| {
                    Field::new(n, DataType::Utf8, true).with_metadata(HashMap::from([(
                        TEXT_ORIGIN.to_string(),
                        "true".to_string(),
                    )]))
                })
                .collect::<Vec<_>>(),
        ));
        let width = self.names.len();
        self.done
            .into_iter()
            .map(|(rows, mut arrays)| {
                while arrays.len() < width {
                    arrays.push(new_null_array(&DataType::Utf8, rows));
                }
                RecordBatch::try_new(schema.clone(), arrays)
            })
            .collect()
    }
}
