//! Arrow ⇄ PostgreSQL types: which PostgreSQL column an Arrow column is published as, the
//! Arrow form it is encoded from, and the Arrow column a PostgreSQL result column reads into.

use arrow::datatypes::{DataType, TimeUnit};

/// A PostgreSQL column type phlo writes or reads in the binary format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PgType {
    /// `boolean`
    Bool,
    /// `smallint`
    Int2,
    /// `integer`
    Int4,
    /// `bigint`
    Int8,
    /// `real`
    Float4,
    /// `double precision`
    Float8,
    /// `text` (also read from `varchar`, `char`, `name`)
    Text,
    /// `bytea`
    Bytea,
    /// `date`
    Date,
    /// `timestamp` (without time zone)
    Timestamp,
    /// `timestamptz`
    Timestamptz,
    /// `time`
    Time,
    /// `numeric(precision, scale)`
    Numeric {
        /// Total digits.
        precision: u8,
        /// Digits after the point.
        scale: i8,
    },
    /// `uuid` (read only, as text)
    Uuid,
    /// `json` / `jsonb` (read only, as text)
    Json {
        /// Whether `jsonb` (whose binary form carries a version byte).
        binary: bool,
    },
}

impl PgType {
    /// The column type as DDL writes it.
    pub fn sql(&self) -> String {
        match self {
            PgType::Bool => "boolean".into(),
            PgType::Int2 => "smallint".into(),
            PgType::Int4 => "integer".into(),
            PgType::Int8 => "bigint".into(),
            PgType::Float4 => "real".into(),
            PgType::Float8 => "double precision".into(),
            PgType::Text => "text".into(),
            PgType::Bytea => "bytea".into(),
            PgType::Date => "date".into(),
            PgType::Timestamp => "timestamp".into(),
            PgType::Timestamptz => "timestamptz".into(),
            PgType::Time => "time".into(),
            PgType::Numeric { precision, scale } => format!("numeric({precision},{scale})"),
            PgType::Uuid => "uuid".into(),
            PgType::Json { binary: true } => "jsonb".into(),
            PgType::Json { binary: false } => "json".into(),
        }
    }

    /// The type's name without modifiers (`numeric`, `timestamptz`).
    pub fn sql_base(&self) -> &'static str {
        match self {
            PgType::Bool => "boolean",
            PgType::Int2 => "smallint",
            PgType::Int4 => "integer",
            PgType::Int8 => "bigint",
            PgType::Float4 => "real",
            PgType::Float8 => "double precision",
            PgType::Text => "text",
            PgType::Bytea => "bytea",
            PgType::Date => "date",
            PgType::Timestamp => "timestamp",
            PgType::Timestamptz => "timestamptz",
            PgType::Time => "time",
            PgType::Numeric { .. } => "numeric",
            PgType::Uuid => "uuid",
            PgType::Json { binary: true } => "jsonb",
            PgType::Json { binary: false } => "json",
        }
    }

    /// The PostgreSQL column an Arrow column is published as, with the Arrow type its
    /// values are cast to before encoding; `None` when the type has no faithful column
    /// (lists, structs, maps, unions, decimals with a negative scale or above 38 digits).
    pub fn for_arrow(dt: &DataType) -> Option<(PgType, DataType)> {
        use DataType as D;
        let ts = |tz: &Option<std::sync::Arc<str>>| {
            let t = D::Timestamp(TimeUnit::Microsecond, tz.clone());
            if tz.is_some() {
                (PgType::Timestamptz, t)
            } else {
                (PgType::Timestamp, t)
            }
        };
        Some(match dt {
            D::Boolean => (PgType::Bool, D::Boolean),
            D::Int8 | D::Int16 | D::UInt8 => (PgType::Int2, D::Int16),
            D::Int32 | D::UInt16 => (PgType::Int4, D::Int32),
            D::Int64 | D::UInt32 => (PgType::Int8, D::Int64),
            D::UInt64 => (
                PgType::Numeric {
                    precision: 20,
                    scale: 0,
                },
                D::Decimal128(20, 0),
            ),
            D::Float16 | D::Float32 => (PgType::Float4, D::Float32),
            D::Float64 => (PgType::Float8, D::Float64),
            D::Utf8 | D::LargeUtf8 | D::Utf8View => (PgType::Text, D::Utf8),
            D::Dictionary(_, v) if matches!(**v, D::Utf8 | D::LargeUtf8 | D::Utf8View) => {
                (PgType::Text, D::Utf8)
            }
            D::Binary | D::LargeBinary | D::BinaryView | D::FixedSizeBinary(_) => {
                (PgType::Bytea, D::Binary)
            }
            D::Date32 | D::Date64 => (PgType::Date, D::Date32),
            D::Timestamp(_, tz) => ts(tz),
            D::Time32(_) | D::Time64(_) => (PgType::Time, D::Time64(TimeUnit::Microsecond)),
            D::Decimal128(p, s) if *s >= 0 && *p <= 38 => (
                PgType::Numeric {
                    precision: *p,
                    scale: *s,
                },
                D::Decimal128(*p, *s),
            ),
            _ => return None,
        })
    }

    /// The type of a PostgreSQL result column (by its type OID), `None` when phlo does not
    /// read it (cast it to `text` in the query).
    pub fn from_oid(oid: u32) -> Option<PgType> {
        Some(match oid {
            16 => PgType::Bool,
            21 => PgType::Int2,
            23 => PgType::Int4,
            20 => PgType::Int8,
            700 => PgType::Float4,
            701 => PgType::Float8,
            25 | 1043 | 1042 | 19 => PgType::Text,
            17 => PgType::Bytea,
            1082 => PgType::Date,
            1114 => PgType::Timestamp,
            1184 => PgType::Timestamptz,
            1083 => PgType::Time,
            // A result column's numeric has no fixed scale: read as its decimal text, which
            // the asset's schema casts.
            1700 => PgType::Numeric {
                precision: 0,
                scale: -1,
            },
            2950 => PgType::Uuid,
            114 => PgType::Json { binary: false },
            3802 => PgType::Json { binary: true },
            _ => return None,
        })
    }

    /// The Arrow type a result column of this type reads into.
    pub fn arrow(&self) -> DataType {
        match self {
            PgType::Bool => DataType::Boolean,
            PgType::Int2 => DataType::Int16,
            PgType::Int4 => DataType::Int32,
            PgType::Int8 => DataType::Int64,
            PgType::Float4 => DataType::Float32,
            PgType::Float8 => DataType::Float64,
            PgType::Text | PgType::Uuid | PgType::Json { .. } | PgType::Numeric { .. } => {
                DataType::Utf8
            }
            PgType::Bytea => DataType::Binary,
            PgType::Date => DataType::Date32,
            PgType::Timestamp => DataType::Timestamp(TimeUnit::Microsecond, None),
            PgType::Timestamptz => DataType::Timestamp(TimeUnit::Microsecond, Some("UTC".into())),
            PgType::Time => DataType::Time64(TimeUnit::Microsecond),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_publishable_arrow_type_has_a_column_and_an_encoding_form() {
        let cases = [
            (DataType::Int8, "smallint"),
            (DataType::UInt32, "bigint"),
            (DataType::UInt64, "numeric(20,0)"),
            (DataType::LargeUtf8, "text"),
            (DataType::Date64, "date"),
            (
                DataType::Timestamp(TimeUnit::Nanosecond, Some("UTC".into())),
                "timestamptz",
            ),
            (
                DataType::Timestamp(TimeUnit::Millisecond, None),
                "timestamp",
            ),
            (DataType::Decimal128(12, 2), "numeric(12,2)"),
        ];
        for (dt, sql) in cases {
            let (pg, _) = PgType::for_arrow(&dt).expect("publishable");
            assert_eq!(pg.sql(), sql, "{dt}");
        }
    }

    #[test]
    fn nested_and_negative_scale_types_are_refused() {
        let list = DataType::List(std::sync::Arc::new(arrow::datatypes::Field::new(
            "item",
            DataType::Int32,
            true,
        )));
        assert!(PgType::for_arrow(&list).is_none());
        assert!(PgType::for_arrow(&DataType::Decimal128(10, -2)).is_none());
    }

    #[test]
    fn result_columns_read_into_their_arrow_types() {
        assert_eq!(
            PgType::from_oid(1043).map(|t| t.arrow()),
            Some(DataType::Utf8)
        );
        assert_eq!(
            PgType::from_oid(1184).map(|t| t.arrow()),
            Some(DataType::Timestamp(
                TimeUnit::Microsecond,
                Some("UTC".into())
            ))
        );
        assert_eq!(
            PgType::from_oid(1700).map(|t| t.arrow()),
            Some(DataType::Utf8)
        );
        assert!(PgType::from_oid(600).is_none(), "point is not read");
    }
}
