use std::sync::Arc;

use arrow::array::{ArrayRef, AsArray, Float64Array, StringArray};
use arrow::datatypes::{DataType, Field, Schema};
use arrow::record_batch::RecordBatch;
use chrono::{DateTime, NaiveDate};
use phlo_core::names::TableName;
use phlo_core::schema::{Constraint, FieldDef, FieldType, Lit, SchemaDef, SchemaPolicy};
use phlo_core::spec::{Dedup, MergeStrategy};

use super::*;
use crate::metadata::RunStamp;

const FIELDS: &[FieldDef] = &[
    FieldDef {
        name: "id",
        field_type: FieldType::Utf8,
        nullable: false,
        constraints: &[],
    },
    FieldDef {
        name: "value",
        field_type: FieldType::Float64,
        nullable: false,
        constraints: &[Constraint::Ge {
            bound: Lit::Float(0.0),
        }],
    },
    FieldDef {
        name: "email",
        field_type: FieldType::Utf8,
        nullable: true,
        constraints: &[Constraint::Unique],
    },
];
static SCHEMA: SchemaDef = SchemaDef {
    name: "Row",
    fields: FIELDS,
    policy: SchemaPolicy::Strict,
};

fn batch(rows: &[(&str, f64, Option<&str>)]) -> RecordBatch {
    let schema = Arc::new(Schema::new(vec![
        Field::new("id", DataType::Utf8, false),
        Field::new("value", DataType::Float64, false),
        Field::new("email", DataType::Utf8, true),
    ]));
    let cols: Vec<ArrayRef> = vec![
        Arc::new(StringArray::from_iter_values(rows.iter().map(|r| r.0))),
        Arc::new(Float64Array::from_iter_values(rows.iter().map(|r| r.1))),
        Arc::new(rows.iter().map(|r| r.2).collect::<StringArray>()),
    ];
    RecordBatch::try_new(schema, cols).unwrap_or_else(|e| panic!("{e}"))
}

fn opts(table: &TableName, strict: bool) -> PrepareOptions<'_> {
    PrepareOptions {
        table,
        schema: &SCHEMA,
        key: &["id"],
        order_by: None,
        dedup: Dedup::Last,
        strategy: MergeStrategy::Merge,
        validate: true,
        strict,
        metadata: true,
        stamp: RunStamp {
            partitions: phlo_core::partition::PartitionsDef::daily_utc(),
            partition: NaiveDate::from_ymd_opt(2025, 1, 15).map(Into::into),
            ingested_at: DateTime::from_timestamp(1_736_899_200, 0).unwrap_or_default(),
            run_id: "run-1".into(),
        },
    }
}

fn ids(b: &RecordBatch) -> Vec<String> {
    b.column(0)
        .as_string::<i32>()
        .iter()
        .map(|s| s.unwrap_or_default().to_string())
        .collect()
}

#[test]
fn strict_validation_fails_the_load_with_the_report() -> Result<()> {
    let t = TableName::parse("events")?;
    let err = prepare(
        &[batch(&[("a", 1.0, None), ("b", -1.0, None)])],
        &opts(&t, true),
    );
    match err {
        Err(Error::Validation { report, .. }) => {
            assert_eq!(report.rows_failed, 1);
            assert_eq!(report.failures[0].check, "ge(value, 0.0)");
        }
        other => panic!("expected a validation error, got {other:?}"),
    }
    Ok(())
}

#[test]
fn lenient_validation_quarantines_invalid_rows_and_keeps_valid_ones() -> Result<()> {
    let t = TableName::parse("events")?;
    let p = prepare(
        &[batch(&[
            ("a", 1.0, Some("x@")),
            ("b", -1.0, None),
            ("c", 2.0, Some("x@")),
            ("a", 3.0, Some("y@")),
        ])],
        &opts(&t, false),
    )?;
    // b fails ge; after dedup (a → row 3), `c` and nothing else shares email x@ … a@row0 was dropped by dedup.
    assert_eq!(ids(&p.load), vec!["c", "a"]);
    assert_eq!(p.duplicates_dropped, 1);
    let q = p.quarantine.as_ref().map(ids).unwrap_or_default();
    assert_eq!(q, vec!["b"]);
    assert_eq!(p.rows_invalid, 1);
    let names: Vec<String> = p
        .load
        .schema()
        .fields()
        .iter()
        .map(|f| f.name().clone())
        .collect();
    assert_eq!(
        names,
        [
            "id",
            "value",
            "email",
            "_phlo_partition_date",
            "_phlo_ingested_at",
            "_phlo_run_id",
            "_phlo_row_hash"
        ]
    );
    Ok(())
}

#[test]
fn unique_is_checked_after_dedup_and_quarantines_every_member() -> Result<()> {
    let t = TableName::parse("events")?;
    let p = prepare(
        &[batch(&[
            ("a", 1.0, Some("dup")),
            ("b", 1.0, Some("dup")),
            ("c", 1.0, None),
        ])],
        &opts(&t, false),
    )?;
    assert_eq!(ids(&p.load), vec!["c"]);
    let q = p.quarantine.as_ref().map(ids).unwrap_or_default();
    assert_eq!(q, vec!["a", "b"]);
    let strict = prepare(
        &[batch(&[("a", 1.0, Some("dup")), ("b", 1.0, Some("dup"))])],
        &opts(&t, true),
    );
    assert!(matches!(strict, Err(Error::Validation { .. })));
    Ok(())
}

#[test]
fn duplicate_keys_without_dedup_are_an_error_for_merge() -> Result<()> {
    let t = TableName::parse("events")?;
    let mut o = opts(&t, true);
    o.dedup = Dedup::None;
    let err = prepare(&[batch(&[("a", 1.0, None), ("a", 2.0, None)])], &o);
    assert!(
        matches!(&err, Err(Error::DuplicateKeys { samples, .. }) if samples == &["a".to_string()]),
        "{err:?}"
    );
    o.strategy = MergeStrategy::Append;
    let ok = prepare(&[batch(&[("a", 1.0, None), ("a", 2.0, None)])], &o)?;
    assert_eq!(ok.load.num_rows(), 2);
    Ok(())
}

#[test]
fn row_hash_ignores_input_column_order() -> Result<()> {
    let t = TableName::parse("events")?;
    let b = batch(&[("a", 1.0, None)]);
    let reordered = b.project(&[2, 0, 1])?;
    let h1 = prepare(&[b], &opts(&t, true))?;
    let h2 = prepare(&[reordered], &opts(&t, true))?;
    assert_eq!(h1.load.column(6).as_ref(), h2.load.column(6).as_ref());
    Ok(())
}
