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
    assert_eq!(v.failed_rows.get(&3).map(Vec::len), Some(5));
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
