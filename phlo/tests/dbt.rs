//! `dbt_schema!`: the schema generated from `tests/fixtures/dbt/models.yml`, field by field.

use phlo::crates::core::schema::{FieldType, SchemaDef, SchemaPolicy};
use phlo::prelude::*;

phlo::dbt_schema!("tests/fixtures/dbt/models.yml", "stg_orders");
phlo::dbt_schema!(
    "tests/fixtures/dbt/models.yml",
    "stg_customers",
    name = Customer
);

/// `(name, type, nullable, constraints as reported)` for each field.
fn fields(schema: &SchemaDef) -> Vec<(&'static str, FieldType, bool, Vec<String>)> {
    schema
        .fields
        .iter()
        .map(|field| {
            let constraints = field
                .constraints
                .iter()
                .map(|constraint| constraint.check_name(field.name))
                .collect();
            (field.name, field.field_type, field.nullable, constraints)
        })
        .collect()
}

fn names(checks: &[&str]) -> Vec<String> {
    checks.iter().map(|check| check.to_string()).collect()
}

#[test]
fn the_model_becomes_a_schema() {
    let schema = <StgOrders as phlo::Schema>::SCHEMA;
    assert_eq!(schema.name, "StgOrders");
    assert_eq!(schema.policy, SchemaPolicy::Strict);
    let expected = vec![
        (
            "order_id",
            FieldType::Utf8,
            false,
            names(&["unique(order_id)"]),
        ),
        ("customer_id", FieldType::Utf8, false, names(&[])),
        (
            "status",
            FieldType::Utf8,
            false,
            names(&[r#"isin(status, ["placed", "shipped", "returned"])"#]),
        ),
        (
            "channel",
            FieldType::Utf8,
            true,
            names(&[r#"isin(channel, ["web", "store"])"#]),
        ),
        (
            "amount",
            FieldType::Float64,
            false,
            names(&["ge(amount, 0)", "le(amount, 10000)"]),
        ),
        (
            "discount",
            FieldType::Float64,
            true,
            names(&["gt(discount, 0)", "lt(discount, 1)"]),
        ),
        (
            "quantity",
            FieldType::Int32,
            false,
            names(&["ge(quantity, 1)", "le(quantity, 100)"]),
        ),
        (
            "weight_kg",
            FieldType::Float32,
            true,
            names(&["gt(weight_kg, 0.5)"]),
        ),
        ("line_count", FieldType::Int64, true, names(&[])),
        (
            "is_gift",
            FieldType::Boolean,
            true,
            names(&["isin(is_gift, [true, false])"]),
        ),
        ("order_date", FieldType::Date32, false, names(&[])),
        (
            "created_at",
            FieldType::TimestampMicrosUtc,
            false,
            names(&[]),
        ),
        (
            "shipped_at",
            FieldType::TimestampMicrosUtc,
            true,
            names(&[]),
        ),
        ("total_amount", FieldType::Float64, true, names(&[])),
        ("note", FieldType::Utf8, true, names(&[])),
    ];
    assert_eq!(fields(schema), expected);
}

#[test]
fn name_overrides_the_struct_name_and_keywords_become_raw_fields() {
    let schema = <Customer as phlo::Schema>::SCHEMA;
    assert_eq!(schema.name, "Customer");
    assert_eq!(
        fields(schema),
        [
            (
                "customer_id",
                FieldType::Utf8,
                false,
                names(&["unique(customer_id)"])
            ),
            ("type", FieldType::Utf8, true, names(&[])),
        ]
    );
    let customer = Customer {
        customer_id: "c1".into(),
        r#type: None,
    };
    assert_eq!(customer.clone(), customer);
}

#[test]
fn rows_of_the_generated_struct_make_batches() {
    let day = NaiveDate::from_ymd_opt(2025, 1, 15).unwrap_or_default();
    let created = day.and_hms_opt(9, 30, 0).unwrap_or_default().and_utc();
    let order = StgOrders {
        order_id: "o1".into(),
        customer_id: "c1".into(),
        status: "placed".into(),
        channel: Some("web".into()),
        amount: 12.5,
        discount: None,
        quantity: 2,
        weight_kg: Some(1.5),
        line_count: Some(2),
        is_gift: Some(false),
        order_date: day,
        created_at: created,
        shipped_at: None,
        total_amount: Some(25.0),
        note: None,
    };
    let batch = StgOrders::to_record_batch(std::slice::from_ref(&order)).unwrap();
    assert_eq!((batch.num_rows(), batch.num_columns()), (1, 15));
    assert!(format!("{order:?}").starts_with("StgOrders { order_id: \"o1\""));
}
