use super::*;

fn int(value: i64) -> Number {
    Number::Int(value)
}

fn float(value: f64) -> Number {
    Number::Float(Finite::new(value).unwrap())
}

/// The one column of model `m` whose column entry is `column` (YAML, indented as a list item).
fn one_column(column: &str) -> Column {
    let yaml = format!("models:\n  - name: m\n    columns:\n{}", indent(column, 6));
    let mut model = model(&yaml, "m").unwrap();
    assert_eq!(model.columns.len(), 1);
    model.columns.remove(0)
}

fn indent(text: &str, by: usize) -> String {
    text.lines()
        .map(|line| format!("{}{line}\n", " ".repeat(by)))
        .collect()
}

fn problems(yaml: &str, name: &str) -> Vec<(Site, String)> {
    model(yaml, name)
        .unwrap_err()
        .into_iter()
        .map(|problem| (problem.site, problem.message))
        .collect()
}

const ORDERS: &str = r#"
version: 2
models:
  - name: customers
    columns:
      - name: id
  - name: stg_orders
    description: "  One row per order.  "
    columns:
      - name: order_id
        description: The order's key.
        data_type: varchar(36)
        data_tests: [not_null, unique]
      - name: amount
        data_type: NUMERIC(10, 2)
        tests:
          - not_null
          - dbt_utils.accepted_range:
              min_value: 0
              max_value: 10000.5
      - name: status
        data_type: text
        data_tests:
          - accepted_values:
              arguments:
                values: ['placed', 'shipped']
      - name: created_at
"#;

#[test]
fn maps_a_model() {
    let model = model(ORDERS, "stg_orders").unwrap();
    assert_eq!(model.name, "stg_orders");
    assert_eq!(model.description.as_deref(), Some("One row per order."));
    let [order_id, amount, status, created_at] = &model.columns[..] else {
        panic!("{model:?}");
    };
    assert_eq!(
        order_id,
        &Column {
            name: "order_id".into(),
            raw: false,
            description: Some("The order's key.".into()),
            ty: ColumnType::Text,
            data_type: Some("varchar(36)".into()),
            nullable: false,
            unique: true,
            accepted_values: None,
            bounds: vec![],
        }
    );
    assert_eq!(
        (amount.ty, amount.nullable, &amount.bounds),
        (
            ColumnType::Float64,
            false,
            &vec![(Bound::Ge, int(0)), (Bound::Le, float(10000.5))]
        )
    );
    assert_eq!(
        (status.nullable, &status.accepted_values),
        (
            true,
            &Some(vec![
                Value::Str("placed".into()),
                Value::Str("shipped".into())
            ])
        )
    );
    assert_eq!(
        (created_at.ty, created_at.nullable, &created_at.data_type),
        (ColumnType::Timestamp, true, &None)
    );
}

#[test]
fn data_types_map_case_and_parameters_aside() {
    let cases = [
        ("varchar", ColumnType::Text),
        ("VARCHAR(20)", ColumnType::Text),
        ("character varying(255)", ColumnType::Text),
        ("String", ColumnType::Text),
        ("text", ColumnType::Text),
        ("char(2)", ColumnType::Text),
        ("int", ColumnType::Int32),
        ("INTEGER", ColumnType::Int32),
        ("int32", ColumnType::Int32),
        ("smallint", ColumnType::Int32),
        ("bigint", ColumnType::Int64),
        ("int64", ColumnType::Int64),
        ("long", ColumnType::Int64),
        ("float", ColumnType::Float64),
        ("real", ColumnType::Float32),
        ("float32", ColumnType::Float32),
        ("double", ColumnType::Float64),
        ("double  precision", ColumnType::Float64),
        ("float64", ColumnType::Float64),
        ("numeric(10,2)", ColumnType::Float64),
        ("decimal(38, 9)", ColumnType::Float64),
        ("boolean", ColumnType::Bool),
        ("BOOL", ColumnType::Bool),
        ("date", ColumnType::Date),
        ("timestamp", ColumnType::Timestamp),
        ("timestamp(6)", ColumnType::Timestamp),
        ("timestamp_tz", ColumnType::Timestamp),
        ("TIMESTAMPTZ", ColumnType::Timestamp),
        ("datetime", ColumnType::Timestamp),
        ("timestamp(3) with time zone", ColumnType::Timestamp),
    ];
    for (written, expected) in cases {
        assert_eq!(data_type_of(written), Some(expected), "{written}");
    }
    for unknown in ["array<string>", "money", "", "struct(a int)", "variant"] {
        assert_eq!(data_type_of(unknown), None, "{unknown}");
    }
}

#[test]
fn names_type_columns_without_data_type() {
    let cases = [
        ("id", ColumnType::Text),
        ("customer_id", ColumnType::Text),
        ("created_at", ColumnType::Timestamp),
        ("event_ts", ColumnType::Timestamp),
        ("start_time", ColumnType::Timestamp),
        ("timestamp", ColumnType::Timestamp),
        ("order_date", ColumnType::Date),
        ("date", ColumnType::Date),
        ("is_active", ColumnType::Bool),
        ("has_refund", ColumnType::Bool),
        ("item_count", ColumnType::Int64),
        ("num_items", ColumnType::Int64),
        ("n_orders", ColumnType::Int64),
        ("total_amount", ColumnType::Float64),
        ("unit_price", ColumnType::Float64),
        ("metric_value", ColumnType::Float64),
        ("value", ColumnType::Float64),
        ("Order_ID", ColumnType::Text),
        ("status", ColumnType::Text),
        ("valid", ColumnType::Text),
    ];
    for (name, expected) in cases {
        assert_eq!(guess_from_name(name), expected, "{name}");
    }
}

#[test]
fn accepted_values_in_both_forms() {
    let plain =
        one_column("- name: status\n  tests:\n    - accepted_values:\n        values: [a, b]");
    let arguments = one_column(
        "- name: status\n  data_tests:\n    - accepted_values:\n        arguments:\n          values: [a, b]\n        config:\n          severity: error",
    );
    let expected = Some(vec![Value::Str("a".into()), Value::Str("b".into())]);
    assert_eq!(plain.accepted_values, expected);
    assert_eq!(arguments.accepted_values, expected);
}

#[test]
fn accepted_values_take_the_column_kind() {
    let text =
        one_column("- name: code\n  tests:\n    - accepted_values: {values: [1, 2.5, true]}");
    assert_eq!(
        text.accepted_values,
        Some(vec![
            Value::Str("1".into()),
            Value::Str("2.5".into()),
            Value::Str("true".into())
        ])
    );
    let ints = one_column(
        "- name: level\n  data_type: int\n  tests:\n    - accepted_values: {values: [1, '2']}",
    );
    assert_eq!(
        ints.accepted_values,
        Some(vec![Value::Num(int(1)), Value::Num(int(2))])
    );
    let mixed = one_column(
        "- name: level\n  data_type: double\n  tests:\n    - accepted_values: {values: [1, 2.5]}",
    );
    assert_eq!(
        mixed.accepted_values,
        Some(vec![Value::Num(float(1.0)), Value::Num(float(2.5))])
    );
    let flags = one_column(
        "- name: flag\n  data_type: boolean\n  tests:\n    - accepted_values: {values: [true, 'false']}",
    );
    assert_eq!(
        flags.accepted_values,
        Some(vec![Value::Bool(true), Value::Bool(false)])
    );
    let dates = one_column(
        "- name: day\n  data_type: date\n  tests:\n    - accepted_values: {values: ['2024-01-01']}",
    );
    assert_eq!(dates.accepted_values, None);
}

#[test]
fn accepted_values_of_another_kind_are_an_error() {
    let yaml = "models:\n  - name: m\n    columns:\n      - name: level\n        data_type: int\n        tests:\n          - accepted_values: {values: [1, high]}";
    assert_eq!(
        problems(yaml, "m"),
        [(
            Site::File,
            "`accepted_values` of column `level` in dbt model `m` lists `high`, which is not \
             of the column's type, `i32`; list values of that type"
                .to_string()
        )]
    );
}

#[test]
fn accepted_range_is_inclusive_by_default() {
    let inclusive = one_column(
        "- name: score\n  data_type: int\n  tests:\n    - dbt_utils.accepted_range:\n        min_value: -1\n        max_value: 5",
    );
    assert_eq!(
        inclusive.bounds,
        [(Bound::Ge, int(-1)), (Bound::Le, int(5))]
    );
    let exclusive = one_column(
        "- name: score\n  data_type: int\n  tests:\n    - dbt_utils.accepted_range:\n        arguments: {min_value: 0, inclusive: false}",
    );
    assert_eq!(exclusive.bounds, [(Bound::Gt, int(0))]);
}

#[test]
fn expect_between_is_inclusive_unless_strictly() {
    let between = one_column(
        "- name: ratio\n  data_type: float\n  data_tests:\n    - dbt_expectations.expect_column_values_to_be_between:\n        arguments: {min_value: 0, max_value: 1.5}",
    );
    assert_eq!(
        between.bounds,
        [(Bound::Ge, int(0)), (Bound::Le, float(1.5))]
    );
    let strictly = one_column(
        "- name: ratio\n  data_type: float\n  data_tests:\n    - dbt_expectations.expect_column_values_to_be_between:\n        max_value: '1'\n        strictly: true",
    );
    assert_eq!(strictly.bounds, [(Bound::Lt, int(1))]);
}

#[test]
fn ranges_keep_the_first_bound_of_each_kind_and_skip_what_phlo_cannot_check() {
    let twice = one_column(
        "- name: v\n  data_type: int\n  tests:\n    - dbt_utils.accepted_range: {max_value: 9}\n    - dbt_utils.accepted_range: {min_value: 1, max_value: 5}",
    );
    assert_eq!(twice.bounds, [(Bound::Ge, int(1)), (Bound::Le, int(9))]);
    let expression = one_column(
        "- name: v\n  data_type: int\n  tests:\n    - dbt_utils.accepted_range: {min_value: \"(select 1)\"}",
    );
    assert_eq!(expression.bounds, []);
    let on_text = one_column(
        "- name: v\n  data_type: date\n  tests:\n    - dbt_utils.accepted_range: {min_value: 0}",
    );
    assert_eq!(on_text.bounds, []);
}

#[test]
fn warnings_filters_and_unknown_tests_are_left_out() {
    let column = one_column(
        "- name: v\n  tests:\n    - not_null:\n        config: {severity: warn}\n    - unique:\n        where: \"v > 0\"\n    - relationships: {to: ref('x'), field: id}\n    - dbt_utils.not_empty_string",
    );
    assert!(column.nullable && !column.unique, "{column:?}");
    let hash_form = one_column("- name: v\n  tests:\n    - not_null:\n    - unique: {}");
    assert!(!hash_form.nullable && hash_form.unique, "{hash_form:?}");
}

#[test]
fn contract_constraints_count() {
    let key = one_column("- name: id\n  constraints:\n    - type: primary_key");
    assert!(!key.nullable && key.unique, "{key:?}");
    let not_null = one_column("- name: v\n  constraints:\n    - type: not_null\n    - type: check");
    assert!(!not_null.nullable && !not_null.unique, "{not_null:?}");
}

#[test]
fn keywords_become_raw_and_metadata_columns_are_left_out() {
    let yaml = "models:\n  - name: m\n    columns:\n      - name: type\n      - name: _phlo_ingested_at\n      - name: Total";
    let model = model(yaml, "m").unwrap();
    let names: Vec<(&str, bool)> = model
        .columns
        .iter()
        .map(|column| (column.name.as_str(), column.raw))
        .collect();
    assert_eq!(names, [("type", true), ("Total", false)]);
}

#[test]
fn identifiers() {
    assert_eq!(identifier("order_id"), Ok(false));
    assert_eq!(identifier("_x1"), Ok(false));
    assert_eq!(identifier("gen"), Ok(true));
    assert_eq!(identifier("match"), Ok(true));
    for invalid in [
        "", "1st", "order id", "a-b", "é", "r#x", "_", "self", "Self", "crate",
    ] {
        assert!(identifier(invalid).is_err(), "{invalid}");
    }
}

#[test]
fn every_column_problem_is_reported() {
    let yaml = "models:\n  - name: m\n    columns:\n      - name: order id\n      - name: amount\n        data_type: money\n      - name: amount\n      - data_type: int";
    assert_eq!(
        problems(yaml, "m"),
        [
            (
                Site::File,
                "dbt model `m` lists column `amount` twice; list each column once".to_string()
            ),
            (
                Site::File,
                "column `order id` of dbt model `m` cannot be a Rust field: a field name is \
                 ASCII letters, digits and `_`, not starting with a digit; rename the column \
                 (e.g. in the model's `select`) to `snake_case`"
                    .to_string()
            ),
            (
                Site::File,
                format!(
                    "column `amount` of dbt model `m` has `data_type: money`, which phlo cannot \
                     map to a Rust type; use {SUPPORTED_TYPES} (parameters such as `(10,2)` are \
                     ignored), or remove `data_type` to type the column by its name"
                )
            ),
            (
                Site::File,
                "a column of dbt model `m` has no `name`; write `- name: <column>`".to_string()
            ),
        ]
    );
}

#[test]
fn unknown_model_lists_the_models() {
    assert_eq!(
        problems(ORDERS, "orders"),
        [(
            Site::Model,
            "no dbt model `orders` in this file; its models are: `customers`, `stg_orders`"
                .to_string()
        )]
    );
    assert_eq!(
        problems("sources:\n  - name: raw\n", "orders"),
        [(
            Site::Model,
            "no dbt model `orders`: this file defines no models (a dbt `schema.yml` has \
             `models:` with one `- name:` per model)"
                .to_string()
        )]
    );
}

#[test]
fn models_need_columns() {
    for yaml in [
        "models:\n  - name: m\n",
        "models:\n  - name: m\n    columns: []\n",
    ] {
        assert_eq!(
            problems(yaml, "m"),
            [(
                Site::Model,
                "dbt model `m` lists no `columns`: `dbt_schema!` makes one field per column; \
                 add `columns:` with a `name` (and a `data_type`) for each"
                    .to_string()
            )]
        );
    }
    assert_eq!(
        problems(
            "models:\n  - name: m\n    columns:\n      - name: _phlo_run_id\n",
            "m"
        )[0]
        .0,
        Site::Model
    );
}

#[test]
fn invalid_yaml_says_where() {
    let found = problems("models:\n  - name: [unclosed\n", "m");
    assert_eq!(found.len(), 1);
    assert_eq!(found[0].0, Site::File);
    assert!(found[0].1.starts_with("invalid YAML: "), "{found:?}");
    assert!(found[0].1.contains("line"), "{found:?}");
}

#[test]
fn models_are_found_in_every_document() {
    let yaml = "models:\n  - name: a\n    columns: [{name: x}]\n---\nmodels:\n  - name: b\n    columns: [{name: y}]\n";
    assert_eq!(model(yaml, "b").unwrap().columns[0].name, "y");
}

#[test]
fn struct_names() {
    assert_eq!(struct_name("stg_orders").as_deref(), Ok("StgOrders"));
    assert_eq!(struct_name("fct-orders.v2").as_deref(), Ok("FctOrdersV2"));
    assert_eq!(struct_name("orders").as_deref(), Ok("Orders"));
    assert_eq!(struct_name("dimCustomer").as_deref(), Ok("DimCustomer"));
    for invalid in ["1_orders", "_", "", "self", "é"] {
        let error = struct_name(invalid).unwrap_err();
        assert!(error.contains("add `name = TypeName`"), "{error}");
    }
}
