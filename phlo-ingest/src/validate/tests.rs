use std::sync::Arc;

use arrow::array::{ArrayRef, BooleanArray, Float64Array, Int64Array, StringArray};
use arrow::datatypes::{DataType, Field, Schema};
use arrow::error::ArrowError;
use arrow::record_batch::RecordBatch;
use phlo_core::schema::{Constraint, FieldDef, FieldType, Lit, SchemaDef, SchemaPolicy};

use super::*;

fn even(a: &ArrayRef) -> std::result::Result<BooleanArray, ArrowError> {
    let ints = a
        .as_any()
        .downcast_ref::<Int64Array>()
        .ok_or_else(|| ArrowError::InvalidArgumentError("not i64".into()))?;
    Ok(ints.iter().map(|v| v.map(|v| v % 2 == 0)).collect())
}

const FIELDS: &[FieldDef] = &[
    FieldDef {
        name: "id",
        field_type: FieldType::Utf8,
        nullable: false,
        constraints: &[Constraint::Unique],
    },
    FieldDef {
        name: "value",
        field_type: FieldType::Float64,
        nullable: true,
        constraints: &[
            Constraint::Ge {
                bound: Lit::Float(0.0),
            },
            Constraint::Le {
                bound: Lit::Float(100.0),
            },
        ],
    },
    FieldDef {
        name: "category",
        field_type: FieldType::Utf8,
        nullable: false,
        constraints: &[
            Constraint::IsIn {
                values: &[Lit::Str("a"), Lit::Str("b")],
            },
            Constraint::Regex { pattern: "[a-z]" },
            Constraint::StrLength {
                min: Some(1),
                max: Some(1),
            },
        ],
    },
    FieldDef {
        name: "n",
        field_type: FieldType::Int64,
        nullable: true,
        constraints: &[
            Constraint::Gt { bound: Lit::Int(0) },
            Constraint::Custom {
                name: "even",
                check: even,
            },
        ],
    },
];
static SCHEMA: SchemaDef = SchemaDef {
    name: "Row",
    fields: FIELDS,
    policy: SchemaPolicy::Strict,
};

fn batch(
    ids: Vec<Option<&str>>,
    values: Vec<Option<f64>>,
    cats: Vec<Option<&str>>,
    n: Vec<Option<i64>>,
) -> RecordBatch {
    let schema = Arc::new(Schema::new(vec![
        Field::new("id", DataType::Utf8, true),
        Field::new("value", DataType::Float64, true),
        Field::new("category", DataType::Utf8, true),
        Field::new("n", DataType::Int64, true),
    ]));
    let cols: Vec<ArrayRef> = vec![
        Arc::new(StringArray::from(ids)),
        Arc::new(Float64Array::from(values)),
        Arc::new(StringArray::from(cats)),
        Arc::new(Int64Array::from(n)),
    ];
    RecordBatch::try_new(schema, cols).unwrap_or_else(|e| panic!("{e}"))
}

fn failures(v: &Validation) -> Vec<(String, u64)> {
    v.report
        .failures
        .iter()
        .map(|f| (f.check.clone(), f.failing_rows))
        .collect()
}

#[test]
fn every_failure_is_collected_and_nulls_are_ignored_by_element_checks() -> Result<()> {
    let b = batch(
        vec![Some("r0"), None, Some("r2"), Some("r3")],
        vec![Some(50.0), None, Some(-1.0), Some(101.0)],
        vec![Some("a"), Some("b"), Some("c"), Some("ab")],
        vec![Some(2), None, Some(3), Some(-2)],
    );
    let v = validate(&SCHEMA, &b, &["id".to_string()], &[])?;
    assert_eq!(
        failures(&v),
        vec![
            ("not_null(id)".to_string(), 1),
            ("ge(value, 0.0)".to_string(), 1),
            ("le(value, 100.0)".to_string(), 1),
            ("isin(category, [\"a\", \"b\"])".to_string(), 2),
            ("regex(category, \"[a-z]\")".to_string(), 1),
            ("str_length(category, 1, 1)".to_string(), 1),
            ("gt(n, 0)".to_string(), 1),
            ("check(n, even)".to_string(), 1),
        ]
    );
    assert_eq!(v.report.rows_failed, 3);
    assert_eq!(v.report.rows_checked, 4);
    assert_eq!(v.failed_rows().get(&3).map(Vec::len), Some(5));
    let sample = &v.report.failures[1].samples[0];
    assert_eq!(
        sample,
        &FailureSample {
            row: 2,
            key: vec![Some("r2".into())],
            value: Some("-1.0".into())
        }
    );
    Ok(())
}

#[test]
fn samples_are_bounded_whatever_the_failure_rate() -> Result<()> {
    let n = 10_000;
    let ids: Vec<String> = (0..n).map(|i| format!("k{i}")).collect();
    let b = batch(
        ids.iter().map(|s| Some(s.as_str())).collect(),
        vec![Some(-5.0); n],
        vec![Some("a"); n],
        vec![Some(2); n],
    );
    let v = validate(&SCHEMA, &b, &["id".to_string()], &[])?;
    assert_eq!(v.report.failures.len(), 1);
    assert_eq!(v.report.failures[0].failing_rows, n as u64);
    assert_eq!(v.report.failures[0].samples.len(), MAX_SAMPLES);
    assert_eq!(v.report.failures[0].samples[19].row, 19);
    Ok(())
}

#[test]
fn unique_counts_every_member_of_a_duplicated_group() -> Result<()> {
    let b = batch(
        vec![Some("x"), Some("y"), Some("x"), Some("x"), None],
        vec![None; 5],
        vec![Some("a"); 5],
        vec![None; 5],
    );
    let v = validate_unique(&SCHEMA, &b, &[], false, &[10, 11, 12, 13, 14])?;
    assert_eq!(failures(&v), vec![("unique(id)".to_string(), 3)]);
    assert_eq!(v.report.failures[0].samples[1].row, 12);
    // When `id` alone is the deduplicated key, uniqueness is already guaranteed.
    let skipped = validate_unique(&SCHEMA, &b, &["id".to_string()], true, &[0, 1, 2, 3, 4])?;
    assert!(skipped.report.failures.is_empty());
    Ok(())
}

#[test]
fn constraints_that_cannot_apply_are_clear_errors() {
    const BAD: &[FieldDef] = &[FieldDef {
        name: "s",
        field_type: FieldType::Utf8,
        nullable: false,
        constraints: &[Constraint::Ge { bound: Lit::Int(1) }],
    }];
    static BAD_SCHEMA: SchemaDef = SchemaDef {
        name: "Bad",
        fields: BAD,
        policy: SchemaPolicy::Strict,
    };
    let schema = Arc::new(Schema::new(vec![Field::new("s", DataType::Utf8, false)]));
    let b = RecordBatch::try_new(
        schema,
        vec![Arc::new(StringArray::from(vec!["x"])) as ArrayRef],
    )
    .unwrap_or_else(|e| panic!("{e}"));
    let err = validate(&BAD_SCHEMA, &b, &[], &[]);
    assert!(
        matches!(err, Err(Error::InvalidConstraint { .. })),
        "{err:?}"
    );
}

#[test]
fn validating_many_batches_reports_like_one_load() -> Result<()> {
    // Rows 0..40 in 4 batches of 10: every third row is out of range, row 25 is null.
    let schema = Arc::new(Schema::new(vec![
        Field::new("id", DataType::Utf8, true),
        Field::new("v", DataType::Int64, true),
    ]));
    let batches: Vec<RecordBatch> = (0..4)
        .map(|b| {
            let rows: Vec<i64> = (b * 10..b * 10 + 10).collect();
            let ids: Vec<Option<String>> = rows
                .iter()
                .map(|r| (*r != 25).then(|| format!("k{r}")))
                .collect();
            let v: Vec<i64> = rows
                .iter()
                .map(|r| if r % 3 == 0 { 500 } else { *r })
                .collect();
            RecordBatch::try_new(
                schema.clone(),
                vec![
                    Arc::new(StringArray::from(ids)) as ArrayRef,
                    Arc::new(Int64Array::from(v)),
                ],
            )
        })
        .collect::<std::result::Result<_, _>>()?;
    static FIELDS2: [FieldDef; 2] = [
        FieldDef {
            name: "id",
            field_type: FieldType::Utf8,
            nullable: false,
            constraints: &[Constraint::Unique],
        },
        FieldDef {
            name: "v",
            field_type: FieldType::Int64,
            nullable: false,
            constraints: &[Constraint::Le {
                bound: Lit::Int(100),
            }],
        },
    ];
    static DEF: SchemaDef = SchemaDef {
        name: "T",
        fields: &FIELDS2,
        policy: SchemaPolicy::Strict,
    };
    let report = validate_batches("t", &DEF, &batches)?;
    assert_eq!(report.rows_checked, 40);
    // Multiples of 3 in 0..40 (14 rows) plus row 25.
    assert_eq!(report.rows_failed, 15);
    let names: Vec<(&str, u64)> = report
        .failures
        .iter()
        .map(|f| (f.check.as_str(), f.failing_rows))
        .collect();
    assert_eq!(names, vec![("not_null(id)", 1), ("le(v, 100)", 14)]);
    // Samples carry load ordinals, in order, across batch boundaries.
    let le = &report.failures[1];
    let rows: Vec<u64> = le.samples.iter().map(|s| s.row).collect();
    assert_eq!(
        rows,
        vec![0, 3, 6, 9, 12, 15, 18, 21, 24, 27, 30, 33, 36, 39]
    );
    assert_eq!(report.failures[0].samples[0].row, 25);
    Ok(())
}

#[test]
fn validating_batches_bounds_samples_and_handles_no_input() -> Result<()> {
    let schema = Arc::new(Schema::new(vec![Field::new("v", DataType::Int64, true)]));
    let batches: Vec<RecordBatch> = (0..8)
        .map(|_| {
            RecordBatch::try_new(
                schema.clone(),
                vec![Arc::new(Int64Array::from(vec![500; 7])) as ArrayRef],
            )
        })
        .collect::<std::result::Result<_, _>>()?;
    static FIELDS1: [FieldDef; 1] = [FieldDef {
        name: "v",
        field_type: FieldType::Int64,
        nullable: false,
        constraints: &[Constraint::Le {
            bound: Lit::Int(100),
        }],
    }];
    static DEF: SchemaDef = SchemaDef {
        name: "T",
        fields: &FIELDS1,
        policy: SchemaPolicy::Strict,
    };
    let report = validate_batches("t", &DEF, &batches)?;
    assert_eq!((report.rows_checked, report.rows_failed), (56, 56));
    assert_eq!(report.failures[0].samples.len(), MAX_SAMPLES);
    let empty = validate_batches("t", &DEF, &[])?;
    assert_eq!((empty.rows_checked, empty.rows_failed), (0, 0));
    Ok(())
}
