use std::sync::Arc;

use arrow::array::{
    ArrayRef, AsArray, BooleanArray, Int32Array, RecordBatch, StringViewArray,
    TimestampMicrosecondArray, TimestampNanosecondArray,
};
use arrow::datatypes::{DataType, Field, Int64Type, Schema as ArrowSchema};
use arrow::error::ArrowError;
use phlo_core::schema::{Constraint, FieldDef, FieldType, Lit, Schema, SchemaDef, SchemaPolicy};

use super::*;
use crate::checks::test_support::*;

const fn field(
    name: &'static str,
    field_type: FieldType,
    nullable: bool,
    constraints: &'static [Constraint],
) -> FieldDef {
    FieldDef {
        name,
        field_type,
        nullable,
        constraints,
    }
}

static EVENT: SchemaDef = SchemaDef {
    name: "Event",
    fields: &[
        field("id", FieldType::Int64, false, &[Constraint::Unique]),
        field("ts", FieldType::TimestampMicrosUtc, false, &[]),
        field(
            "value",
            FieldType::Float64,
            true,
            &[
                Constraint::Ge {
                    bound: Lit::Float(0.0),
                },
                Constraint::Le {
                    bound: Lit::Int(100),
                },
            ],
        ),
        field(
            "category",
            FieldType::Utf8,
            true,
            &[
                Constraint::IsIn {
                    values: &[Lit::Str("a"), Lit::Str("b")],
                },
                Constraint::StrLength {
                    min: Some(1),
                    max: Some(1),
                },
            ],
        ),
        field(
            "email",
            FieldType::Utf8,
            true,
            &[Constraint::Regex {
                pattern: "[^@]+@[^@]+",
            }],
        ),
    ],
    policy: SchemaPolicy::Strict,
};

fn even(a: &ArrayRef) -> Result<BooleanArray, ArrowError> {
    let ints = a
        .as_primitive_opt::<Int64Type>()
        .ok_or_else(|| ArrowError::ComputeError("not Int64".into()))?;
    Ok(ints.iter().map(|v| v.map(|v| v % 2 == 0)).collect())
}

fn short(a: &ArrayRef) -> Result<BooleanArray, ArrowError> {
    let s = a
        .as_string_opt::<i32>()
        .ok_or_else(|| ArrowError::ComputeError("not Utf8".into()))?;
    Ok(s.iter().map(|v| v.map(|v| v.len() < 3)).collect())
}

static CUSTOM: SchemaDef = SchemaDef {
    name: "Custom",
    fields: &[
        field(
            "id",
            FieldType::Int64,
            true,
            &[Constraint::Custom {
                name: "even",
                check: even,
            }],
        ),
        field(
            "value",
            FieldType::Float64,
            true,
            &[Constraint::Ge { bound: Lit::Int(0) }],
        ),
    ],
    policy: SchemaPolicy::Strict,
};

/// A type deriving `Schema` by hand.
struct Event;

impl Schema for Event {
    const SCHEMA: &'static SchemaDef = &EVENT;
    fn to_record_batch(_: &[Self]) -> Result<RecordBatch, ArrowError> {
        Err(ArrowError::ComputeError("unused".into()))
    }
}

#[tokio::test]
async fn passes_on_conforming_rows() {
    let r = run_one(SchemaCheck::of::<Event>(), &scope_with(&rows(5))).await;
    assert!(r.passed, "{r:?}");
    assert_eq!(r.name, "schema_check(Event)");
    assert_eq!((r.failed_count, r.total_count), (0, 5));
    assert_eq!(
        SchemaCheck::of::<Event>().columns(),
        ["id", "ts", "value", "category", "email"]
    );
}

#[tokio::test]
async fn counts_rows_failing_any_constraint_once() {
    let mut data = rows(8);
    data[1].value = Some(-1.0); // ge
    data[2].value = Some(101.0); // le
    data[3].category = Some("c"); // isin
    data[4].category = Some("ab"); // isin and str_length: one row
    data[5].email = Some("a@b@c"); // regex (full match)
    data[6].ts = None; // not_null
    data[7].id = Some(0); // unique: rows 0 and 7
    data.push(Row {
        id: Some(1),
        date: other_day(),
        ..row(1)
    }); // duplicate outside the scope: ignored
    let scope = scope_with(&data);
    let r = run_one(SchemaCheck::new(&EVENT), &scope).await;
    assert!(!r.passed);
    assert_eq!((r.failed_count, r.total_count), (8, 8));
    assert_eq!(
        r.message.as_deref(),
        Some(
            "8 of 8 rows fail the schema (unique(id): 2 rows, not_null(ts): 1 row, \
             ge(value, 0.0): 1 row, le(value, 100): 1 row, isin(category, [\"a\", \"b\"]): 2 rows, \
             str_length(category, 1, 1): 1 row, regex(email, \"[^@]+@[^@]+\"): 1 row)"
        )
    );
    assert_eq!(
        r.samples[0],
        serde_json::json!({
            "id": 0, "ts": "2025-01-15T11:00:00Z", "value": 0.0, "category": "a",
            "email": "x@example.com"
        })
    );
    assert_eq!(count_rows(&scope, &r.repro_sql).await, 8);
}

#[tokio::test]
async fn repeated_constraints_are_each_counted() {
    static TWICE: SchemaDef = SchemaDef {
        name: "Twice",
        fields: &[field(
            "value",
            FieldType::Float64,
            true,
            &[
                Constraint::Ge { bound: Lit::Int(0) },
                Constraint::Ge { bound: Lit::Int(0) },
            ],
        )],
        policy: SchemaPolicy::Strict,
    };
    let mut data = rows(3);
    data[0].value = Some(-1.0);
    let r = run_one(SchemaCheck::new(&TWICE), &scope_with(&data)).await;
    assert_eq!((r.failed_count, r.total_count), (1, 3), "{r:?}");
    assert_eq!(
        r.message.as_deref(),
        Some("1 of 3 rows fail the schema (ge(value, 0): 1 row, ge(value, 0): 1 row)")
    );
}

#[tokio::test]
async fn nan_is_outside_every_range() {
    let mut data = rows(2);
    data[1].value = Some(f64::NAN);
    let r = run_one(SchemaCheck::new(&EVENT), &scope_with(&data)).await;
    assert_eq!(r.failed_count, 1, "{r:?}");
}

#[tokio::test]
async fn exactly_at_the_threshold_passes() {
    let mut data = rows(4);
    data[0].value = Some(-1.0);
    let scope = scope_with(&data);
    let at = run_one(SchemaCheck::new(&EVENT).allow_threshold(0.25), &scope).await;
    assert!(at.passed, "{at:?}");
    let below = run_one(SchemaCheck::new(&EVENT).allow_threshold(0.24), &scope).await;
    assert!(!below.passed);
}

#[tokio::test]
async fn empty_scope_passes_with_total_zero() {
    for schema in [&EVENT, &CUSTOM] {
        let r = run_one(SchemaCheck::new(schema), &scope_with(&[])).await;
        assert!(r.passed, "{r:?}");
        assert_eq!((r.failed_count, r.total_count), (0, 0));
    }
}

#[tokio::test]
async fn all_null_columns() {
    let data: Vec<Row> = rows(3)
        .into_iter()
        .map(|r| Row {
            value: None,
            ts: None,
            ..r
        })
        .collect();
    // `value` is nullable: its nulls pass; `ts` is not.
    let r = run_one(SchemaCheck::new(&EVENT), &scope_with(&data)).await;
    assert_eq!((r.failed_count, r.total_count), (3, 3));
    assert!(
        r.message
            .unwrap_or_default()
            .contains("(not_null(ts): 3 rows)")
    );
}

fn register_batch(columns: Vec<(&str, ArrayRef)>) -> crate::CheckScope {
    let mut fields: Vec<Field> = columns
        .iter()
        .map(|(n, a)| Field::new(*n, a.data_type().clone(), true))
        .collect();
    let mut arrays: Vec<ArrayRef> = columns.into_iter().map(|(_, a)| a).collect();
    let len = arrays.first().map_or(0, |a| a.len());
    fields.push(Field::new("_phlo_partition_date", DataType::Date32, true));
    arrays.push(Arc::new(arrow::array::Date32Array::from(vec![
        arrow::datatypes::Date32Type::from_naive_date(day());
        len
    ])));
    let batch = RecordBatch::try_new(Arc::new(ArrowSchema::new(fields)), arrays)
        .unwrap_or_else(|e| panic!("{e}"));
    let ctx = datafusion::prelude::SessionContext::new();
    register(&ctx, "bronze.events", batch);
    scope(ctx)
}

#[tokio::test]
async fn structure_problems_fail_with_a_list() {
    let micros = TimestampMicrosecondArray::from(vec![Some(0), Some(1)]);
    let scope = register_batch(vec![
        ("id", Arc::new(Int32Array::from(vec![Some(1), Some(1)]))),
        (
            "ts",
            Arc::new(TimestampNanosecondArray::from(vec![Some(0), Some(1)]).with_timezone("UTC")),
        ),
        (
            "value",
            Arc::new(arrow::array::Float64Array::from(vec![
                Some(1.0),
                Some(-1.0),
            ])),
        ),
        (
            "category",
            Arc::new(StringViewArray::from(vec![Some("a"), Some("b")])),
        ),
        ("email", Arc::new(micros)),
    ]);
    let r = run_one(SchemaCheck::new(&EVENT).allow_threshold(1.0), &scope).await;
    assert!(!r.passed);
    // Rows are still checked against the fields that match.
    assert_eq!((r.failed_count, r.total_count), (1, 2));
    assert_eq!(
        r.message.as_deref(),
        Some(
            "`id` is Int32, expected Int64; `ts` is Timestamp(ns, \"UTC\"), expected \
             Timestamp(µs, \"UTC\"); `email` is Timestamp(µs), expected Utf8; \
             1 of 2 rows fail the schema (ge(value, 0.0): 1 row)"
        )
    );
}

#[tokio::test]
async fn equivalent_types_pass() {
    let scope = register_batch(vec![
        (
            "id",
            Arc::new(arrow::array::Int64Array::from(vec![Some(1), Some(2)])),
        ),
        (
            "ts",
            Arc::new(
                TimestampMicrosecondArray::from(vec![Some(0), Some(1)]).with_timezone("+00:00"),
            ),
        ),
        (
            "category",
            Arc::new(StringViewArray::from(vec![Some("a"), None])),
        ),
        (
            "email",
            Arc::new(arrow::array::LargeStringArray::from(vec![
                Some("a@b"),
                None,
            ])),
        ),
        (
            "value",
            Arc::new(arrow::array::Float64Array::from(vec![None, Some(2.0)])),
        ),
    ]);
    let r = run_one(SchemaCheck::new(&EVENT), &scope).await;
    assert!(r.passed, "{r:?}");
}

#[tokio::test]
async fn missing_columns_are_a_failed_result() {
    let scope = register_batch(vec![(
        "id",
        Arc::new(arrow::array::Int64Array::from(vec![Some(1)])),
    )]);
    let r = run_one(SchemaCheck::new(&EVENT), &scope).await;
    assert!(!r.passed);
    assert_eq!(
        r.message.as_deref(),
        Some(
            "missing column `ts`; missing column `value`; missing column `category`; missing column `email`"
        )
    );
}

#[tokio::test]
async fn custom_constraints_are_streamed() {
    let mut data = rows(6);
    data[4].id = None; // null: skipped by the custom function
    data[5].value = Some(-2.0);
    let scope = scope_with(&data);
    let r = run_one(SchemaCheck::new(&CUSTOM), &scope).await;
    assert!(!r.passed);
    // Odd ids 1 and 3 fail `even`; row 5 (id 5) fails both rules: counted once.
    assert_eq!((r.failed_count, r.total_count), (3, 6));
    assert_eq!(
        r.message.as_deref(),
        Some("3 of 6 rows fail the schema (check(id, even): 3 rows, ge(value, 0): 1 row)")
    );
    assert_eq!(r.samples[0], serde_json::json!({ "id": 1, "value": 1.0 }));
    assert_eq!(r.samples.len(), 3);
}

#[tokio::test]
async fn custom_functions_get_the_schema_type() {
    static SHORT: SchemaDef = SchemaDef {
        name: "Short",
        fields: &[field(
            "category",
            FieldType::Utf8,
            true,
            &[Constraint::Custom {
                name: "short",
                check: short,
            }],
        )],
        policy: SchemaPolicy::Strict,
    };
    let scope = register_batch(vec![(
        "category",
        Arc::new(StringViewArray::from(vec![Some("a"), Some("long"), None])),
    )]);
    let r = run_one(SchemaCheck::new(&SHORT), &scope).await;
    assert_eq!((r.failed_count, r.total_count), (1, 3), "{r:?}");
    // A function that errors, or returns a mask of the wrong length, is a failed result
    // naming it.
    fn broken(_: &ArrayRef) -> Result<BooleanArray, ArrowError> {
        Err(ArrowError::ComputeError("boom".into()))
    }
    fn short_mask(_: &ArrayRef) -> Result<BooleanArray, ArrowError> {
        Ok(BooleanArray::from(vec![true]))
    }
    static BROKEN: SchemaDef = SchemaDef {
        name: "Broken",
        fields: &[field(
            "id",
            FieldType::Int64,
            true,
            &[Constraint::Custom {
                name: "broken",
                check: broken,
            }],
        )],
        policy: SchemaPolicy::Strict,
    };
    static SHORT_MASK: SchemaDef = SchemaDef {
        name: "ShortMask",
        fields: &[field(
            "id",
            FieldType::Int64,
            true,
            &[Constraint::Custom {
                name: "short_mask",
                check: short_mask,
            }],
        )],
        policy: SchemaPolicy::Strict,
    };
    let scope = scope_with(&rows(3));
    let r = run_one(SchemaCheck::new(&BROKEN), &scope).await;
    assert!(!r.passed);
    assert_eq!(
        r.message.as_deref(),
        Some("custom check failed: `check(id, broken)`: Compute error: boom")
    );
    let r = run_one(SchemaCheck::new(&SHORT_MASK), &scope).await;
    assert!(
        r.message
            .unwrap_or_default()
            .contains("returned a mask of 1 values for 3 rows")
    );
}

#[tokio::test]
async fn misdeclared_constraints_are_config_errors() {
    static BAD: SchemaDef = SchemaDef {
        name: "Bad",
        fields: &[field(
            "id",
            FieldType::Int64,
            true,
            &[Constraint::Regex { pattern: "x" }],
        )],
        policy: SchemaPolicy::Strict,
    };
    static BAD_REGEX: SchemaDef = SchemaDef {
        name: "BadRegex",
        fields: &[field(
            "email",
            FieldType::Utf8,
            true,
            &[Constraint::Regex { pattern: "(" }],
        )],
        policy: SchemaPolicy::Strict,
    };
    let scope = scope_with(&rows(1));
    let r = run_one(SchemaCheck::new(&BAD), &scope).await;
    assert!(
        r.message
            .unwrap_or_default()
            .contains("`regex` applies to String fields")
    );
    let r = run_one(SchemaCheck::new(&BAD_REGEX), &scope).await;
    assert!(r.message.unwrap_or_default().contains("invalid pattern"));
}

#[tokio::test]
async fn samples_are_bounded_at_full_failure() {
    let data: Vec<Row> = rows(100)
        .into_iter()
        .map(|r| Row {
            value: Some(-1.0),
            ..r
        })
        .collect();
    let scope = scope_with(&data);
    for schema in [&EVENT, &CUSTOM] {
        let r = run_one(SchemaCheck::new(schema), &scope).await;
        assert_eq!((r.failed_count, r.total_count), (100, 100));
        assert_eq!(r.samples.len(), crate::checks::MAX_SAMPLES);
    }
}
