use std::sync::Arc;

use arrow::array::{
    ArrayRef, Float64Array, Int32Array, Int64Array, StringArray, TimestampNanosecondArray,
};
use arrow::datatypes::{DataType, Field, Schema, TimeUnit};
use arrow::record_batch::RecordBatch;
use arrow::util::pretty::pretty_format_batches;
use phlo_core::schema::{FieldDef, FieldType, SchemaDef, SchemaPolicy};

use super::*;

const FIELDS: &[FieldDef] = &[
    FieldDef {
        name: "id",
        field_type: FieldType::Utf8,
        nullable: false,
        constraints: &[],
    },
    FieldDef {
        name: "ts",
        field_type: FieldType::TimestampMicrosUtc,
        nullable: false,
        constraints: &[],
    },
    FieldDef {
        name: "value",
        field_type: FieldType::Float64,
        nullable: false,
        constraints: &[],
    },
    FieldDef {
        name: "note",
        field_type: FieldType::Utf8,
        nullable: true,
        constraints: &[],
    },
];

fn schema(policy: SchemaPolicy) -> &'static SchemaDef {
    Box::leak(Box::new(SchemaDef {
        name: "Event",
        fields: FIELDS,
        policy,
    }))
}

fn batch(cols: Vec<(&str, ArrayRef)>) -> RecordBatch {
    let fields: Vec<Field> = cols
        .iter()
        .map(|(n, a)| Field::new(*n, a.data_type().clone(), true))
        .collect();
    RecordBatch::try_new(
        Arc::new(Schema::new(fields)),
        cols.into_iter().map(|(_, a)| a).collect(),
    )
    .unwrap_or_else(|e| panic!("{e}"))
}

fn text(b: &RecordBatch) -> String {
    pretty_format_batches(std::slice::from_ref(b))
        .map(|t| t.to_string())
        .unwrap_or_else(|e| panic!("{e}"))
}

#[test]
fn matches_by_name_widens_parses_and_fills_nullable() -> Result<()> {
    let b = batch(vec![
        ("value", Arc::new(Int32Array::from(vec![1, 2]))),
        (
            "ts",
            Arc::new(StringArray::from(vec![
                "2025-01-15T10:00:00Z",
                "2025-01-15T12:00:00+02:00",
            ])),
        ),
        ("id", Arc::new(StringArray::from(vec!["a", "b"]))),
    ]);
    let c = coerce("bronze.events", schema(SchemaPolicy::Strict), &[b])?;
    assert!(c.cast_failures.is_empty());
    assert_eq!(
        text(&c.batch),
        "+----+----------------------+-------+------+\n\
         | id | ts                   | value | note |\n\
         +----+----------------------+-------+------+\n\
         | a  | 2025-01-15T10:00:00Z | 1.0   |      |\n\
         | b  | 2025-01-15T10:00:00Z | 2.0   |      |\n\
         +----+----------------------+-------+------+"
    );
    Ok(())
}

#[test]
fn unparseable_values_fail_their_rows_not_the_load() -> Result<()> {
    let b = batch(vec![
        ("id", Arc::new(StringArray::from(vec!["a", "b", "c"]))),
        (
            "ts",
            Arc::new(StringArray::from(vec![
                Some("2025-01-15T10:00:00Z"),
                Some("yesterday"),
                None,
            ])),
        ),
        ("value", Arc::new(Float64Array::from(vec![1.0, 2.0, 3.0]))),
    ]);
    let c = coerce("bronze.events", schema(SchemaPolicy::Strict), &[b])?;
    assert_eq!(c.cast_failures.len(), 1);
    let f = &c.cast_failures[0];
    assert_eq!(f.check, "cast(ts, Utf8 -> Timestamp(µs, UTC))");
    assert_eq!(f.rows, vec![1]);
    assert_eq!(f.values, vec!["yesterday".to_string()]);
    Ok(())
}

#[test]
fn lossy_or_foreign_types_are_schema_errors() {
    let b = batch(vec![
        ("id", Arc::new(StringArray::from(vec!["a"]))),
        ("ts", Arc::new(StringArray::from(vec!["2025-01-15"]))),
        ("value", Arc::new(StringArray::from(vec!["1.5"]))),
    ]);
    let err = coerce("bronze.events", schema(SchemaPolicy::Strict), &[b]);
    assert!(
        matches!(&err, Err(Error::ColumnType { column, expected, found, .. }) if column == "value" && expected == "Float64" && found == "Utf8"),
        "{err:?}"
    );
}

#[test]
fn missing_required_column_is_an_error() {
    let b = batch(vec![(
        "id",
        Arc::new(StringArray::from(vec!["a"])) as ArrayRef,
    )]);
    let err = coerce("bronze.events", schema(SchemaPolicy::Strict), &[b]);
    assert!(
        matches!(&err, Err(Error::MissingColumn { column, .. }) if column == "ts"),
        "{err:?}"
    );
}

fn with_extra() -> RecordBatch {
    batch(vec![
        ("zeta", Arc::new(Int64Array::from(vec![7]))),
        ("id", Arc::new(StringArray::from(vec!["a"]))),
        ("ts", Arc::new(StringArray::from(vec!["2025-01-15"]))),
        ("value", Arc::new(Float64Array::from(vec![1.0]))),
        ("alpha", Arc::new(StringArray::from(vec!["x"]))),
    ])
}

#[test]
fn schema_policies_handle_extra_columns() -> Result<()> {
    let strict = coerce(
        "bronze.events",
        schema(SchemaPolicy::Strict),
        &[with_extra()],
    );
    assert!(
        matches!(&strict, Err(Error::ExtraColumns { columns, .. }) if columns == &["alpha".to_string(), "zeta".to_string()]),
        "{strict:?}"
    );
    let dropped = coerce(
        "bronze.events",
        schema(SchemaPolicy::DropExtra),
        &[with_extra()],
    )?;
    assert_eq!(dropped.dropped_columns, ["alpha", "zeta"]);
    assert_eq!(dropped.batch.num_columns(), 4);
    let added = coerce(
        "bronze.events",
        schema(SchemaPolicy::Additive),
        &[with_extra()],
    )?;
    assert_eq!(added.added_columns, ["alpha", "zeta"]);
    let names: Vec<String> = added
        .batch
        .schema()
        .fields()
        .iter()
        .map(|f| f.name().clone())
        .collect();
    assert_eq!(names, ["id", "ts", "value", "note", "alpha", "zeta"]);
    Ok(())
}

#[test]
fn reserved_prefix_is_rejected() {
    let b = batch(vec![(
        "_phlo_run_id",
        Arc::new(StringArray::from(vec!["x"])) as ArrayRef,
    )]);
    assert!(matches!(
        coerce("t", schema(SchemaPolicy::Additive), &[b]),
        Err(Error::ReservedColumn { .. })
    ));
}

#[test]
fn nanosecond_timestamps_keep_exact_micros_and_fail_sub_micro_digits() -> Result<()> {
    let ns =
        TimestampNanosecondArray::from(vec![1_736_935_200_000_000_000, 1_736_935_200_000_000_001])
            .with_timezone("+02:00");
    let b = batch(vec![
        ("id", Arc::new(StringArray::from(vec!["a", "b"]))),
        ("ts", Arc::new(ns)),
        ("value", Arc::new(Float64Array::from(vec![1.0, 2.0]))),
    ]);
    let c = coerce("t", schema(SchemaPolicy::Strict), &[b])?;
    assert_eq!(
        c.batch.column(1).data_type(),
        &DataType::Timestamp(TimeUnit::Microsecond, Some("UTC".into()))
    );
    assert_eq!(c.cast_failures.len(), 1);
    assert_eq!(c.cast_failures[0].rows, vec![1]);
    Ok(())
}

#[test]
fn batches_concatenate_in_arrival_order_with_row_ordinals() -> Result<()> {
    let b1 = batch(vec![
        ("id", Arc::new(StringArray::from(vec!["a"]))),
        ("ts", Arc::new(StringArray::from(vec!["bad"]))),
        ("value", Arc::new(Float64Array::from(vec![1.0]))),
    ]);
    let b2 = batch(vec![
        ("value", Arc::new(Int64Array::from(vec![2, 3]))),
        ("id", Arc::new(StringArray::from(vec!["b", "c"]))),
        (
            "ts",
            Arc::new(StringArray::from(vec!["2025-01-15", "worse"])),
        ),
    ]);
    let c = coerce("t", schema(SchemaPolicy::Strict), &[b1, b2])?;
    assert_eq!(c.batch.num_rows(), 3);
    assert_eq!(c.cast_failures[0].rows, vec![0, 2]);
    assert_eq!(
        c.cast_failures[0].values,
        vec!["bad".to_string(), "worse".to_string()]
    );
    Ok(())
}

#[test]
fn text_from_files_is_parsed_and_a_value_that_does_not_parse_fails_its_row() -> Result<()> {
    let mark = |name: &str| {
        Field::new(name, DataType::Utf8, true).with_metadata(
            [(TEXT_ORIGIN.to_string(), "true".to_string())]
                .into_iter()
                .collect(),
        )
    };
    let b = RecordBatch::try_new(
        Arc::new(Schema::new(vec![mark("id"), mark("ts"), mark("value")])),
        vec![
            Arc::new(StringArray::from(vec!["a", "b", "c"])),
            Arc::new(StringArray::from(vec![
                "2025-01-15T10:00:00Z",
                "2025-01-15T11:00:00Z",
                "2025-01-15T12:00:00Z",
            ])),
            Arc::new(StringArray::from(vec![Some("1.5"), Some("warm"), None])),
        ],
    )?;
    let c = coerce("bronze.events", schema(SchemaPolicy::Strict), &[b])?;
    assert_eq!(
        c.cast_failures,
        vec![CastFailure {
            column: "value".into(),
            check: "cast(value, Utf8 -> Float64)".into(),
            rows: vec![1],
            values: vec!["warm".into()],
        }]
    );
    let values = c
        .batch
        .column_by_name("value")
        .and_then(|a| a.as_any().downcast_ref::<Float64Array>())
        .map(|a| {
            (0..a.len())
                .map(|i| a.is_valid(i).then(|| a.value(i)))
                .collect::<Vec<_>>()
        });
    assert_eq!(values, Some(vec![Some(1.5), None, None]));
    Ok(())
}
