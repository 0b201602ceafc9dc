//! The schema contract: what `#[derive(Schema)]` produces and the runtime enforces.
//!
//! A [`SchemaDef`] is plain `'static` data (it lives in a `const`), so macros can build
//! it and `inventory` can hold references to it.

use std::sync::Arc;

use arrow::array::{
    ArrayBuilder, ArrayRef, BooleanArray, BooleanBuilder, Date32Builder, Float32Builder,
    Float64Builder, Int32Builder, Int64Builder, StringBuilder, TimestampMicrosecondBuilder,
};
use arrow::datatypes::{DataType, Field, Schema as ArrowSchema, SchemaRef, TimeUnit};
use arrow::error::ArrowError;
use arrow::record_batch::RecordBatch;
use chrono::{DateTime, NaiveDate, Utc};

/// The time zone every phlo timestamp is stored in.
pub const UTC: &str = "UTC";

/// The Arrow type of a schema field.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum FieldType {
    /// `Utf8` (Rust `String`).
    Utf8,
    /// `Int32` (Rust `i32`).
    Int32,
    /// `Int64` (Rust `i64`).
    Int64,
    /// `Float32` (Rust `f32`).
    Float32,
    /// `Float64` (Rust `f64`).
    Float64,
    /// `Boolean` (Rust `bool`).
    Boolean,
    /// `Date32` (Rust `chrono::NaiveDate`).
    Date32,
    /// `Timestamp(Microsecond, "UTC")` (Rust `chrono::DateTime<Utc>`).
    TimestampMicrosUtc,
}

impl FieldType {
    /// The Arrow data type.
    pub fn data_type(self) -> DataType {
        match self {
            FieldType::Utf8 => DataType::Utf8,
            FieldType::Int32 => DataType::Int32,
            FieldType::Int64 => DataType::Int64,
            FieldType::Float32 => DataType::Float32,
            FieldType::Float64 => DataType::Float64,
            FieldType::Boolean => DataType::Boolean,
            FieldType::Date32 => DataType::Date32,
            FieldType::TimestampMicrosUtc => {
                DataType::Timestamp(TimeUnit::Microsecond, Some(UTC.into()))
            }
        }
    }

    /// Whether values of this type are numbers (range bounds apply).
    pub fn is_numeric(self) -> bool {
        matches!(
            self,
            FieldType::Int32 | FieldType::Int64 | FieldType::Float32 | FieldType::Float64
        )
    }
}

/// A literal in a constraint (`ge = 0.0`, `isin = ["a", "b"]`).
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Lit {
    /// A string literal.
    Str(&'static str),
    /// An integer literal.
    Int(i64),
    /// A float literal.
    Float(f64),
    /// A boolean literal.
    Bool(bool),
}

impl Lit {
    /// The value as a float, for numeric literals.
    pub fn as_f64(self) -> Option<f64> {
        match self {
            Lit::Int(v) => Some(v as f64),
            Lit::Float(v) => Some(v),
            Lit::Str(_) | Lit::Bool(_) => None,
        }
    }
}

impl std::fmt::Display for Lit {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Lit::Str(s) => write!(f, "{s:?}"),
            Lit::Int(v) => write!(f, "{v}"),
            Lit::Float(v) => write!(f, "{v:?}"),
            Lit::Bool(v) => write!(f, "{v}"),
        }
    }
}

/// A user-written column check: returns `true` for every valid row (nulls are ignored).
pub type ColumnCheckFn = fn(&ArrayRef) -> Result<BooleanArray, ArrowError>;

/// A constraint on one field. Element constraints ignore nulls.
#[derive(Debug, Clone, Copy)]
pub enum Constraint {
    /// Values are unique within the load (after deduplication).
    Unique,
    /// Value ≥ bound.
    Ge {
        /// The bound.
        bound: Lit,
    },
    /// Value > bound.
    Gt {
        /// The bound.
        bound: Lit,
    },
    /// Value ≤ bound.
    Le {
        /// The bound.
        bound: Lit,
    },
    /// Value < bound.
    Lt {
        /// The bound.
        bound: Lit,
    },
    /// Value is one of `values`.
    IsIn {
        /// The accepted values.
        values: &'static [Lit],
    },
    /// Value is none of `values`.
    NotIn {
        /// The rejected values.
        values: &'static [Lit],
    },
    /// Value fully matches the regular expression.
    Regex {
        /// The pattern (matched in full: `^(?:pattern)$`).
        pattern: &'static str,
    },
    /// String length (in characters) within `[min, max]`.
    StrLength {
        /// Minimum length, inclusive.
        min: Option<usize>,
        /// Maximum length, inclusive.
        max: Option<usize>,
    },
    /// A user function returning a validity mask.
    Custom {
        /// The function's path as written, used as the check's name.
        name: &'static str,
        /// The function.
        check: ColumnCheckFn,
    },
}

impl Constraint {
    /// The check's name for `column`, as it appears in reports (`ge(value, 0.0)`).
    pub fn check_name(&self, column: &str) -> String {
        let list = |values: &[Lit]| {
            values
                .iter()
                .map(|v| v.to_string())
                .collect::<Vec<_>>()
                .join(", ")
        };
        match self {
            Constraint::Unique => format!("unique({column})"),
            Constraint::Ge { bound } => format!("ge({column}, {bound})"),
            Constraint::Gt { bound } => format!("gt({column}, {bound})"),
            Constraint::Le { bound } => format!("le({column}, {bound})"),
            Constraint::Lt { bound } => format!("lt({column}, {bound})"),
            Constraint::IsIn { values } => format!("isin({column}, [{}])", list(values)),
            Constraint::NotIn { values } => format!("notin({column}, [{}])", list(values)),
            Constraint::Regex { pattern } => format!("regex({column}, {pattern:?})"),
            Constraint::StrLength { min, max } => {
                let b = |v: &Option<usize>| v.map_or_else(|| "-".to_string(), |v| v.to_string());
                format!("str_length({column}, {}, {})", b(min), b(max))
            }
            Constraint::Custom { name, .. } => format!("check({column}, {name})"),
        }
    }
}

/// What happens to input columns the schema does not declare.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SchemaPolicy {
    /// Extra columns are a schema error naming them (the default).
    #[default]
    Strict,
    /// Extra columns are dropped and listed in the run report.
    DropExtra,
    /// Extra columns are added to the table as nullable columns in the same commit.
    Additive,
}

/// One field of a schema.
#[derive(Debug, Clone, Copy)]
pub struct FieldDef {
    /// Column name.
    pub name: &'static str,
    /// Arrow type.
    pub field_type: FieldType,
    /// Whether nulls are allowed (`Option<T>`).
    pub nullable: bool,
    /// Constraints, in declaration order.
    pub constraints: &'static [Constraint],
}

impl FieldDef {
    /// The Arrow field.
    pub fn arrow_field(&self) -> Field {
        Field::new(self.name, self.field_type.data_type(), self.nullable)
    }
}

/// A table's contract: the Pandera `DataFrameModel` equivalent.
#[derive(Debug, Clone, Copy)]
pub struct SchemaDef {
    /// The Rust type's name.
    pub name: &'static str,
    /// Fields in declaration order.
    pub fields: &'static [FieldDef],
    /// Policy for undeclared input columns.
    pub policy: SchemaPolicy,
}

impl SchemaDef {
    /// The field called `name`.
    pub fn field(&self, name: &str) -> Option<&FieldDef> {
        self.fields.iter().find(|f| f.name == name)
    }

    /// The Arrow schema of the user columns, declaration order.
    pub fn arrow_schema(&self) -> SchemaRef {
        Arc::new(ArrowSchema::new(
            self.fields
                .iter()
                .map(FieldDef::arrow_field)
                .collect::<Vec<_>>(),
        ))
    }

    /// Whether two definitions describe the same columns (names, types, nullability).
    pub fn same_columns(&self, other: &SchemaDef) -> bool {
        self.fields.len() == other.fields.len()
            && self.fields.iter().zip(other.fields).all(|(a, b)| {
                a.name == b.name && a.field_type == b.field_type && a.nullable == b.nullable
            })
    }
}

/// Whether `schema` has a field called `name` (usable in `const` checks).
pub const fn has_field(schema: &SchemaDef, name: &str) -> bool {
    let mut i = 0;
    while i < schema.fields.len() {
        if str_eq(schema.fields[i].name, name) {
            return true;
        }
        i += 1;
    }
    false
}

const fn str_eq(a: &str, b: &str) -> bool {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    if a.len() != b.len() {
        return false;
    }
    let mut i = 0;
    while i < a.len() {
        if a[i] != b[i] {
            return false;
        }
        i += 1;
    }
    true
}

/// A struct that describes a table: implemented by `#[derive(Schema)]`.
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not a phlo schema",
    label = "does not derive `Schema`",
    note = "add `#[derive(phlo::Schema)]` to `{Self}`"
)]
pub trait Schema: Sized {
    /// The contract.
    const SCHEMA: &'static SchemaDef;

    /// Converts typed rows into one Arrow batch of the schema's columns.
    fn to_record_batch(rows: &[Self]) -> Result<RecordBatch, ArrowError>;
}

/// A Rust type that maps to an Arrow column.
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot be a phlo schema field",
    label = "unsupported field type",
    note = "supported: String, i32, i64, f32, f64, bool, chrono::NaiveDate, chrono::DateTime<Utc>, and Option<T> of these"
)]
pub trait ArrowField {
    /// The Arrow type.
    const FIELD_TYPE: FieldType;
    /// Whether the column is nullable.
    const NULLABLE: bool;
    /// The builder used to make a column of this type.
    type Builder: ArrayBuilder;
    /// A new builder with room for `capacity` values.
    fn new_builder(capacity: usize) -> Self::Builder;
    /// Appends this value.
    fn append_to(&self, builder: &mut Self::Builder);
    /// Appends a null.
    fn append_null_to(builder: &mut Self::Builder);
}

macro_rules! arrow_field {
    ($ty:ty, $ft:ident, $builder:ty, |$v:ident| $conv:expr) => {
        impl ArrowField for $ty {
            const FIELD_TYPE: FieldType = FieldType::$ft;
            const NULLABLE: bool = false;
            type Builder = $builder;
            fn new_builder(capacity: usize) -> Self::Builder {
                <$builder>::with_capacity(capacity)
            }
            fn append_to(&self, builder: &mut Self::Builder) {
                let $v = self;
                builder.append_value($conv);
            }
            fn append_null_to(builder: &mut Self::Builder) {
                builder.append_null();
            }
        }
    };
}

arrow_field!(i32, Int32, Int32Builder, |v| *v);
arrow_field!(i64, Int64, Int64Builder, |v| *v);
arrow_field!(f32, Float32, Float32Builder, |v| *v);
arrow_field!(f64, Float64, Float64Builder, |v| *v);
arrow_field!(bool, Boolean, BooleanBuilder, |v| *v);
arrow_field!(NaiveDate, Date32, Date32Builder, |v| {
    arrow::datatypes::Date32Type::from_naive_date(*v)
});

impl ArrowField for String {
    const FIELD_TYPE: FieldType = FieldType::Utf8;
    const NULLABLE: bool = false;
    type Builder = StringBuilder;
    fn new_builder(capacity: usize) -> Self::Builder {
        StringBuilder::with_capacity(capacity, capacity * 16)
    }
    fn append_to(&self, builder: &mut Self::Builder) {
        builder.append_value(self);
    }
    fn append_null_to(builder: &mut Self::Builder) {
        builder.append_null();
    }
}

impl ArrowField for DateTime<Utc> {
    const FIELD_TYPE: FieldType = FieldType::TimestampMicrosUtc;
    const NULLABLE: bool = false;
    type Builder = TimestampMicrosecondBuilder;
    fn new_builder(capacity: usize) -> Self::Builder {
        TimestampMicrosecondBuilder::with_capacity(capacity).with_timezone(UTC)
    }
    fn append_to(&self, builder: &mut Self::Builder) {
        builder.append_value(self.timestamp_micros());
    }
    fn append_null_to(builder: &mut Self::Builder) {
        builder.append_null();
    }
}

impl<T: ArrowField> ArrowField for Option<T> {
    const FIELD_TYPE: FieldType = T::FIELD_TYPE;
    const NULLABLE: bool = true;
    type Builder = T::Builder;
    fn new_builder(capacity: usize) -> Self::Builder {
        T::new_builder(capacity)
    }
    fn append_to(&self, builder: &mut Self::Builder) {
        match self {
            Some(v) => v.append_to(builder),
            None => T::append_null_to(builder),
        }
    }
    fn append_null_to(builder: &mut Self::Builder) {
        T::append_null_to(builder);
    }
}

/// Builds one column from typed rows (used by `#[derive(Schema)]`).
pub fn column<R, T: ArrowField>(rows: &[R], get: impl Fn(&R) -> &T) -> ArrayRef {
    let mut builder = T::new_builder(rows.len());
    for row in rows {
        get(row).append_to(&mut builder);
    }
    builder.finish()
}

/// Assembles the columns built by [`column`] into a batch of `schema`'s Arrow schema.
pub fn batch_from_columns(
    schema: &'static SchemaDef,
    columns: Vec<ArrayRef>,
) -> Result<RecordBatch, ArrowError> {
    RecordBatch::try_new(schema.arrow_schema(), columns)
}

/// What an ingestion function may return: one batch, several, or typed rows.
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not something an ingestion function can return",
    note = "return `phlo::Result<RecordBatch>`, `phlo::Result<Vec<RecordBatch>>` or `phlo::Result<Vec<T>>` where `T` derives `Schema`"
)]
pub trait IntoBatches {
    /// Converts into batches, in arrival order.
    fn into_batches(self) -> Result<Vec<RecordBatch>, ArrowError>;
}

impl IntoBatches for RecordBatch {
    fn into_batches(self) -> Result<Vec<RecordBatch>, ArrowError> {
        Ok(vec![self])
    }
}

impl IntoBatches for Vec<RecordBatch> {
    fn into_batches(self) -> Result<Vec<RecordBatch>, ArrowError> {
        Ok(self)
    }
}

impl<T: Schema> IntoBatches for Vec<T> {
    fn into_batches(self) -> Result<Vec<RecordBatch>, ArrowError> {
        Ok(vec![T::to_record_batch(&self)?])
    }
}

/// What a transform returns: a DataFusion plan, still to run, or batches.
#[derive(Debug)]
pub enum Rows {
    /// A plan; the runtime runs it (and keeps its columns when it yields no rows).
    Frame(Box<datafusion::dataframe::DataFrame>),
    /// Batches, in order.
    Batches(Vec<RecordBatch>),
}

/// What a `#[transform]` function may return: a `DataFrame`, or anything an ingestion
/// function may return ([`IntoBatches`]).
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not something a transform function can return",
    note = "return `phlo::Result<DataFrame>`, `phlo::Result<RecordBatch>`, `phlo::Result<Vec<RecordBatch>>` or `phlo::Result<Vec<T>>` where `T` derives `Schema`"
)]
pub trait IntoRows {
    /// Converts into rows.
    fn into_rows(self) -> Result<Rows, ArrowError>;
}

impl IntoRows for datafusion::dataframe::DataFrame {
    fn into_rows(self) -> Result<Rows, ArrowError> {
        Ok(Rows::Frame(Box::new(self)))
    }
}

impl<T: IntoBatches> IntoRows for T {
    fn into_rows(self) -> Result<Rows, ArrowError> {
        self.into_batches().map(Rows::Batches)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use arrow::util::pretty::pretty_format_batches;

    struct Row {
        id: String,
        at: DateTime<Utc>,
        n: Option<i64>,
    }

    const FIELDS: &[FieldDef] = &[
        FieldDef {
            name: "id",
            field_type: <String as ArrowField>::FIELD_TYPE,
            nullable: <String as ArrowField>::NULLABLE,
            constraints: &[Constraint::Unique],
        },
        FieldDef {
            name: "at",
            field_type: <DateTime<Utc> as ArrowField>::FIELD_TYPE,
            nullable: false,
            constraints: &[],
        },
        FieldDef {
            name: "n",
            field_type: <Option<i64> as ArrowField>::FIELD_TYPE,
            nullable: <Option<i64> as ArrowField>::NULLABLE,
            constraints: &[Constraint::Ge { bound: Lit::Int(0) }],
        },
    ];
    static SCHEMA: SchemaDef = SchemaDef {
        name: "Row",
        fields: FIELDS,
        policy: SchemaPolicy::Strict,
    };

    #[test]
    fn typed_rows_become_a_batch() -> Result<(), ArrowError> {
        let at = DateTime::from_timestamp(1_736_899_200, 0)
            .ok_or_else(|| ArrowError::ComputeError("bad test timestamp".into()))?;
        let rows = vec![
            Row {
                id: "a".into(),
                at,
                n: Some(1),
            },
            Row {
                id: "b".into(),
                at,
                n: None,
            },
        ];
        let batch = batch_from_columns(
            &SCHEMA,
            vec![
                column(&rows, |r: &Row| &r.id),
                column(&rows, |r: &Row| &r.at),
                column(&rows, |r: &Row| &r.n),
            ],
        )?;
        let text = pretty_format_batches(&[batch])?.to_string();
        assert_eq!(
            text,
            "+----+----------------------+---+\n\
             | id | at                   | n |\n\
             +----+----------------------+---+\n\
             | a  | 2025-01-15T00:00:00Z | 1 |\n\
             | b  | 2025-01-15T00:00:00Z |   |\n\
             +----+----------------------+---+"
        );
        Ok(())
    }

    #[test]
    fn has_field_is_exact() {
        assert!(has_field(&SCHEMA, "id"));
        assert!(has_field(&SCHEMA, "n"));
        assert!(!has_field(&SCHEMA, "i"));
        assert!(!has_field(&SCHEMA, "idx"));
    }

    #[test]
    fn check_names_are_readable() {
        assert_eq!(
            Constraint::Ge {
                bound: Lit::Float(0.0)
            }
            .check_name("v"),
            "ge(v, 0.0)"
        );
        assert_eq!(
            Constraint::IsIn {
                values: &[Lit::Str("a"), Lit::Str("b")]
            }
            .check_name("c"),
            "isin(c, [\"a\", \"b\"])"
        );
        assert_eq!(
            Constraint::StrLength {
                min: Some(1),
                max: None
            }
            .check_name("s"),
            "str_length(s, 1, -)"
        );
    }
}
