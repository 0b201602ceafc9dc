//! dbt's `schema.yml` → the columns of one model, typed and constrained the way
//! `#[derive(Schema)]` spells them. Pure: text in, model or problems out (like [`cron`]), so
//! every mapping rule has a plain unit test; `parse::dbt` reads the file, `expand::dbt`
//! writes the struct.
//!
//! [`cron`]: crate::cron
//!
//! # Types
//!
//! A column's `data_type`, case-insensitive, parameters ignored (`varchar(20)`, `numeric(10,2)`):
//!
//! | `data_type` | Rust |
//! |---|---|
//! | `varchar`, `string`, `text`, `char`, `character`, `character varying`, `nvarchar`, `nchar`, `uuid` | `String` |
//! | `int`, `integer`, `int32`, `int4`, `smallint`, `int2`, `tinyint` | `i32` |
//! | `bigint`, `int64`, `int8`, `long` | `i64` |
//! | `real`, `float4`, `float32` | `f32` |
//! | `float`, `float8`, `float64`, `double`, `double precision`, `numeric`, `decimal`, `number` | `f64` |
//! | `boolean`, `bool` | `bool` |
//! | `date` | `NaiveDate` |
//! | `timestamp`, `timestamp_tz`, `timestamptz`, `timestamp_ntz`, `timestamp_ltz`, `datetime`, `timestamp with[out] time zone` | `DateTime<Utc>` |
//!
//! `float` is `f64`: most warehouses (Snowflake, BigQuery, Postgres' `float`) make it a double.
//! Timestamps without a zone are read as UTC (phlo has one timestamp type). Any other type is an
//! error that names the column.
//!
//! Without `data_type`, the column's name decides, first match wins: `id`, `*_id` → `String`;
//! `*_at`, `*_ts`, `*_time`, `timestamp` → `DateTime<Utc>`; `*_date`, `date` → `NaiveDate`;
//! `is_*`, `has_*` → `bool`; `*_count`, `num_*`, `n_*` → `i64`; `*_amount`, `*_price`,
//! `*_value`, `value` → `f64`; anything else → `String`.
//!
//! # Tests
//!
//! Tests come from `data_tests:` and `tests:` (both read), and column `constraints:`:
//! `not_null` (and constraint `not_null`/`primary_key`) makes the field non-`Option`, every other
//! column is `Option<T>`; `unique` (and constraint `unique`/`primary_key`) → `#[phlo(unique)]`;
//! `accepted_values` → `#[phlo(isin = [...])]`; `dbt_utils.accepted_range` (`min_value`,
//! `max_value`, `inclusive`, default true) and
//! `dbt_expectations.expect_column_values_to_be_between` (`min_value`, `max_value`, `strictly`,
//! default false) → `ge`/`le` or `gt`/`lt`. Arguments may sit under `arguments:` (dbt ≥ 1.10) or
//! directly under the test. Left out, as phlo could not enforce them the way dbt does: unknown
//! tests, tests with `severity: warn` or a `where:` filter, bounds that are SQL expressions,
//! ranges on non-numeric columns, accepted values of date and timestamp columns, and columns
//! named `_phlo_*` (phlo's metadata columns, added by the runtime).

use std::fmt;

use yaml_rust2::{Yaml, YamlLoader};

use crate::model::{Bound, Finite, Number};

/// The columns of one dbt model.
#[derive(Debug, PartialEq)]
pub(crate) struct Model {
    pub(crate) name: String,
    pub(crate) description: Option<String>,
    pub(crate) columns: Vec<Column>,
}

/// One column, mapped.
#[derive(Debug, PartialEq)]
pub(crate) struct Column {
    pub(crate) name: String,
    /// Whether the field must be written `r#name` (a Rust keyword).
    pub(crate) raw: bool,
    pub(crate) description: Option<String>,
    pub(crate) ty: ColumnType,
    /// The `data_type` as written, `None` when the name decided the type.
    pub(crate) data_type: Option<String>,
    pub(crate) nullable: bool,
    pub(crate) unique: bool,
    pub(crate) accepted_values: Option<Vec<Value>>,
    /// At most one bound of each kind, in the order `ge`, `gt`, `le`, `lt`.
    pub(crate) bounds: Vec<(Bound, Number)>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum ColumnType {
    Text,
    Int32,
    Int64,
    Float32,
    Float64,
    Bool,
    Date,
    Timestamp,
}

impl ColumnType {
    fn is_numeric(self) -> bool {
        matches!(
            self,
            Self::Int32 | Self::Int64 | Self::Float32 | Self::Float64
        )
    }

    pub(crate) fn rust(self) -> &'static str {
        match self {
            Self::Text => "String",
            Self::Int32 => "i32",
            Self::Int64 => "i64",
            Self::Float32 => "f32",
            Self::Float64 => "f64",
            Self::Bool => "bool",
            Self::Date => "NaiveDate",
            Self::Timestamp => "DateTime<Utc>",
        }
    }
}

/// An accepted value, already of the column's kind.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum Value {
    Str(String),
    Num(Number),
    Bool(bool),
}

/// Which literal of `dbt_schema!(path, model)` a problem belongs to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Site {
    /// The file's content: reported at the path.
    File,
    /// The model's choice: reported at the model's name.
    Model,
}

/// What is wrong with the file or the model, worded for the user.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Problem {
    pub(crate) site: Site,
    pub(crate) message: String,
}

impl Problem {
    fn file(message: String) -> Self {
        Self {
            site: Site::File,
            message,
        }
    }

    fn model(message: String) -> Self {
        Self {
            site: Site::Model,
            message,
        }
    }
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

/// The model called `name` in the dbt YAML `source`, or every problem found.
pub(crate) fn model(source: &str, name: &str) -> Result<Model, Vec<Problem>> {
    let documents = YamlLoader::load_from_str(source)
        .map_err(|error| vec![Problem::file(format!("invalid YAML: {error}"))])?;
    let models: Vec<&Yaml> = documents
        .iter()
        .filter_map(|document| get(document, "models").and_then(Yaml::as_vec))
        .flatten()
        .collect();
    let Some(found) = models
        .iter()
        .find(|model| get(model, "name").and_then(Yaml::as_str) == Some(name))
    else {
        return Err(vec![unknown_model(name, &models)]);
    };
    let columns = get(found, "columns")
        .and_then(Yaml::as_vec)
        .filter(|columns| !columns.is_empty())
        .ok_or_else(|| {
            vec![Problem::model(format!(
                "dbt model `{name}` lists no `columns`: `dbt_schema!` makes one field per column; \
                 add `columns:` with a `name` (and a `data_type`) for each"
            ))]
        })?;
    let mut problems = Vec::new();
    let mut seen: Vec<String> = Vec::new();
    for written in columns
        .iter()
        .filter_map(|column| get(column, "name").and_then(text))
    {
        if seen.contains(&written) {
            problems.push(Problem::file(format!(
                "dbt model `{name}` lists column `{written}` twice; list each column once"
            )));
        }
        seen.push(written);
    }
    let mut mapped: Vec<Column> = Vec::new();
    for yaml in columns {
        match column(name, yaml) {
            Ok(column) => mapped.extend(column),
            Err(mut found) => problems.append(&mut found),
        }
    }
    if mapped.is_empty() && problems.is_empty() {
        problems.push(Problem::model(format!(
            "dbt model `{name}` has only phlo metadata columns (`_phlo_*`), which the runtime \
             adds itself: list the model's own columns"
        )));
    }
    if !problems.is_empty() {
        return Err(problems);
    }
    Ok(Model {
        name: name.to_string(),
        description: description(found),
        columns: mapped,
    })
}

fn unknown_model(name: &str, models: &[&Yaml]) -> Problem {
    let names: Vec<String> = models
        .iter()
        .filter_map(|model| get(model, "name").and_then(Yaml::as_str))
        .map(|name| format!("`{name}`"))
        .collect();
    let message = if names.is_empty() {
        format!(
            "no dbt model `{name}`: this file defines no models (a dbt `schema.yml` has \
             `models:` with one `- name:` per model)"
        )
    } else {
        format!(
            "no dbt model `{name}` in this file; its models are: {}",
            names.join(", ")
        )
    };
    Problem::model(message)
}

/// The value of `key` in a mapping.
fn get<'a>(yaml: &'a Yaml, key: &str) -> Option<&'a Yaml> {
    yaml.as_hash()?.get(&Yaml::String(key.to_string()))
}

/// A scalar as text: YAML reads `name: 2024` as a number, dbt as a name.
fn text(yaml: &Yaml) -> Option<String> {
    match yaml {
        Yaml::String(text) | Yaml::Real(text) => Some(text.clone()),
        Yaml::Integer(number) => Some(number.to_string()),
        Yaml::Boolean(flag) => Some(flag.to_string()),
        _ => None,
    }
}

fn description(yaml: &Yaml) -> Option<String> {
    get(yaml, "description")
        .and_then(Yaml::as_str)
        .map(str::trim)
        .filter(|text| !text.is_empty())
        .map(str::to_string)
}

/// One column; `Ok(None)` for a metadata column, left out.
fn column(model: &str, yaml: &Yaml) -> Result<Option<Column>, Vec<Problem>> {
    let Some(name) = get(yaml, "name").and_then(text) else {
        return Err(vec![Problem::file(format!(
            "a column of dbt model `{model}` has no `name`; write `- name: <column>`"
        ))]);
    };
    if name.starts_with("_phlo_") {
        return Ok(None);
    }
    let mut problems = Vec::new();
    let raw = match identifier(&name) {
        Ok(raw) => raw,
        Err(reason) => {
            problems.push(Problem::file(format!(
                "column `{name}` of dbt model `{model}` cannot be a Rust field: {reason}; \
                 rename the column (e.g. in the model's `select`) to `snake_case`"
            )));
            false
        }
    };
    let data_type = get(yaml, "data_type").and_then(text);
    let ty = match &data_type {
        Some(written) => data_type_of(written).unwrap_or_else(|| {
            problems.push(Problem::file(format!(
                "column `{name}` of dbt model `{model}` has `data_type: {written}`, which phlo \
                 cannot map to a Rust type; use {SUPPORTED_TYPES} (parameters such as `(10,2)` \
                 are ignored), or remove `data_type` to type the column by its name"
            )));
            ColumnType::Text
        }),
        None => guess_from_name(&name),
    };
    let mut column = Column {
        name,
        raw,
        description: description(yaml),
        ty,
        data_type,
        nullable: true,
        unique: false,
        accepted_values: None,
        bounds: Vec::new(),
    };
    for test in tests(yaml) {
        if let Err(problem) = apply(model, &mut column, &test) {
            problems.push(problem);
        }
    }
    constraints(yaml, &mut column);
    if problems.is_empty() {
        Ok(Some(column))
    } else {
        Err(problems)
    }
}

const SUPPORTED_TYPES: &str = "varchar/string/text, int/integer, bigint, float/double/numeric/\
                               decimal, real, boolean, date or timestamp";

/// `Ok(raw)` for a name usable as a field (`raw` when it is a Rust keyword), or why not.
pub(crate) fn identifier(name: &str) -> Result<bool, &'static str> {
    let mut chars = name.chars();
    let starts = chars
        .next()
        .is_some_and(|c| c == '_' || c.is_ascii_alphabetic());
    if !starts || !chars.all(|c| c == '_' || c.is_ascii_alphanumeric()) {
        return Err("a field name is ASCII letters, digits and `_`, not starting with a digit");
    }
    if name == "_" {
        return Err("`_` is not a name");
    }
    if UNRAWABLE.contains(&name) {
        return Err("it is a Rust keyword that cannot be used as a field name");
    }
    Ok(KEYWORDS.contains(&name))
}

/// Keywords `r#` cannot escape.
const UNRAWABLE: &[&str] = &["crate", "self", "Self", "super"];

/// Keywords of every edition, written `r#name` as fields.
const KEYWORDS: &[&str] = &[
    "abstract", "as", "async", "await", "become", "box", "break", "const", "continue", "do", "dyn",
    "else", "enum", "extern", "false", "final", "fn", "for", "gen", "if", "impl", "in", "let",
    "loop", "macro", "match", "mod", "move", "mut", "override", "priv", "pub", "ref", "return",
    "static", "struct", "trait", "true", "try", "type", "typeof", "unsafe", "unsized", "use",
    "virtual", "where", "while", "yield",
];

/// The Rust type of a `data_type`, parameters and case ignored.
pub(crate) fn data_type_of(written: &str) -> Option<ColumnType> {
    let mut bare = String::new();
    let mut depth = 0usize;
    for c in written.chars() {
        match c {
            '(' => depth += 1,
            ')' => depth = depth.saturating_sub(1),
            _ if depth == 0 => bare.push(c.to_ascii_lowercase()),
            _ => {}
        }
    }
    let bare = bare.split_whitespace().collect::<Vec<_>>().join(" ");
    let ty = match bare.as_str() {
        "varchar" | "string" | "text" | "char" | "character" | "character varying" | "nvarchar"
        | "nchar" | "uuid" => ColumnType::Text,
        "int" | "integer" | "int32" | "int4" | "smallint" | "int2" | "tinyint" => ColumnType::Int32,
        "bigint" | "int64" | "int8" | "long" => ColumnType::Int64,
        "real" | "float4" | "float32" => ColumnType::Float32,
        "float" | "float8" | "float64" | "double" | "double precision" | "numeric" | "decimal"
        | "number" => ColumnType::Float64,
        "boolean" | "bool" => ColumnType::Bool,
        "date" => ColumnType::Date,
        "timestamp"
        | "timestamp_tz"
        | "timestamptz"
        | "timestamp_ntz"
        | "timestamp_ltz"
        | "datetime"
        | "timestamp with time zone"
        | "timestamp without time zone" => ColumnType::Timestamp,
        _ => return None,
    };
    Some(ty)
}

/// The type of a column without `data_type`, from its name (rules in the module docs).
pub(crate) fn guess_from_name(name: &str) -> ColumnType {
    let name = name.to_ascii_lowercase();
    let is = |exact: &[&str], prefixes: &[&str], suffixes: &[&str]| {
        exact.contains(&name.as_str())
            || prefixes.iter().any(|prefix| name.starts_with(prefix))
            || suffixes.iter().any(|suffix| name.ends_with(suffix))
    };
    if is(&["id"], &[], &["_id"]) {
        ColumnType::Text
    } else if is(&["timestamp"], &[], &["_at", "_ts", "_time"]) {
        ColumnType::Timestamp
    } else if is(&["date"], &[], &["_date"]) {
        ColumnType::Date
    } else if is(&[], &["is_", "has_"], &[]) {
        ColumnType::Bool
    } else if is(&[], &["num_", "n_"], &["_count"]) {
        ColumnType::Int64
    } else if is(&["value"], &[], &["_amount", "_price", "_value"]) {
        ColumnType::Float64
    } else {
        ColumnType::Text
    }
}

/// One test of a column: its name and its arguments (`Null` for a bare `- unique`).
struct Test<'a> {
    name: &'a str,
    args: &'a Yaml,
}

static NO_ARGS: Yaml = Yaml::Null;

/// The tests under `data_tests:` then `tests:`.
fn tests(column: &Yaml) -> Vec<Test<'_>> {
    let mut tests = Vec::new();
    for key in ["data_tests", "tests"] {
        for entry in get(column, key)
            .and_then(Yaml::as_vec)
            .into_iter()
            .flatten()
        {
            match entry {
                Yaml::String(name) => tests.push(Test {
                    name,
                    args: &NO_ARGS,
                }),
                Yaml::Hash(hash) => {
                    tests.extend(hash.iter().filter_map(|(name, args)| {
                        Some(Test {
                            name: name.as_str()?,
                            args,
                        })
                    }));
                }
                _ => {}
            }
        }
    }
    tests
}

/// An argument of a test: under `arguments:` (dbt ≥ 1.10) or directly under the test.
fn argument<'a>(test: &Test<'a>, key: &str) -> Option<&'a Yaml> {
    get(test.args, "arguments")
        .and_then(|arguments| get(arguments, key))
        .or_else(|| get(test.args, key))
        .filter(|value| !value.is_null())
}

/// A config of a test: under `config:` or, in older projects, directly under the test.
fn config<'a>(test: &Test<'a>, key: &str) -> Option<&'a Yaml> {
    get(test.args, "config")
        .and_then(|config| get(config, key))
        .or_else(|| get(test.args, key))
        .filter(|value| !value.is_null())
}

/// A test that only warns, or checks only some rows, does not constrain every row.
fn constrains_every_row(test: &Test) -> bool {
    let warns = config(test, "severity")
        .and_then(Yaml::as_str)
        .is_some_and(|severity| severity.eq_ignore_ascii_case("warn"));
    !warns && config(test, "where").is_none()
}

fn apply(model: &str, column: &mut Column, test: &Test) -> Result<(), Problem> {
    if !constrains_every_row(test) {
        return Ok(());
    }
    match test.name {
        "not_null" => column.nullable = false,
        "unique" => column.unique = true,
        "accepted_values" => accepted_values(model, column, test)?,
        "dbt_utils.accepted_range" => {
            let inclusive = argument(test, "inclusive")
                .and_then(Yaml::as_bool)
                .unwrap_or(true);
            range(column, test, !inclusive);
        }
        "dbt_expectations.expect_column_values_to_be_between" => {
            let strictly = argument(test, "strictly")
                .and_then(Yaml::as_bool)
                .unwrap_or(false);
            range(column, test, strictly);
        }
        _ => {}
    }
    Ok(())
}

/// Column `constraints:` of a dbt model contract.
fn constraints(yaml: &Yaml, column: &mut Column) {
    for constraint in get(yaml, "constraints")
        .and_then(Yaml::as_vec)
        .into_iter()
        .flatten()
    {
        match get(constraint, "type").and_then(Yaml::as_str) {
            Some("not_null") => column.nullable = false,
            Some("unique") => column.unique = true,
            Some("primary_key") => {
                column.nullable = false;
                column.unique = true;
            }
            _ => {}
        }
    }
}

fn accepted_values(model: &str, column: &mut Column, test: &Test) -> Result<(), Problem> {
    let Some(values) = argument(test, "values").and_then(Yaml::as_vec) else {
        return Ok(());
    };
    if values.is_empty()
        || matches!(column.ty, ColumnType::Date | ColumnType::Timestamp)
        || column.accepted_values.is_some()
    {
        return Ok(());
    }
    let mismatch = |value: &Yaml| {
        Problem::file(format!(
            "`accepted_values` of column `{}` in dbt model `{model}` lists `{}`, which is not \
             of the column's type, `{}`; list values of that type",
            column.name,
            text(value).unwrap_or_else(|| "~".to_string()),
            column.ty.rust(),
        ))
    };
    let mut accepted = Vec::with_capacity(values.len());
    for value in values {
        let converted = match column.ty {
            // dbt quotes accepted values by default: compare them as text.
            ColumnType::Text => text(value).map(Value::Str),
            ColumnType::Bool => match value {
                Yaml::Boolean(flag) => Some(Value::Bool(*flag)),
                Yaml::String(written) => written.parse().ok().map(Value::Bool),
                _ => None,
            },
            _ => number(value).map(Value::Num),
        };
        accepted.push(converted.ok_or_else(|| mismatch(value))?);
    }
    // One literal kind per list: a float among integers makes them all floats.
    if accepted
        .iter()
        .any(|value| matches!(value, Value::Num(Number::Float(_))))
    {
        for value in &mut accepted {
            if let Value::Num(number) = value {
                *number = Number::Float(number.to_finite());
            }
        }
    }
    column.accepted_values = Some(accepted);
    Ok(())
}

/// A number written as a YAML number or as a string holding one; `None` for an SQL expression.
fn number(yaml: &Yaml) -> Option<Number> {
    match yaml {
        Yaml::Integer(value) => Some(Number::Int(*value)),
        Yaml::Real(written) => written
            .parse()
            .ok()
            .and_then(Finite::new)
            .map(Number::Float),
        Yaml::String(written) => {
            let written = written.trim();
            written.parse().map(Number::Int).ok().or_else(|| {
                written
                    .parse()
                    .ok()
                    .and_then(Finite::new)
                    .map(Number::Float)
            })
        }
        _ => None,
    }
}

fn range(column: &mut Column, test: &Test, strict: bool) {
    if !column.ty.is_numeric() {
        return;
    }
    let (lower, upper) = if strict {
        (Bound::Gt, Bound::Lt)
    } else {
        (Bound::Ge, Bound::Le)
    };
    for (key, bound) in [("min_value", lower), ("max_value", upper)] {
        if let Some(value) = argument(test, key).and_then(number)
            && !column.bounds.iter().any(|(kind, _)| *kind == bound)
        {
            column.bounds.push((bound, value));
        }
    }
    column.bounds.sort_by_key(|(bound, _)| match bound {
        Bound::Ge => 0,
        Bound::Gt => 1,
        Bound::Le => 2,
        Bound::Lt => 3,
    });
}

/// `stg_orders` → `StgOrders`: the struct's name, or why the model's name cannot make one.
pub(crate) fn struct_name(model: &str) -> Result<String, String> {
    let name: String = model
        .split(|c: char| !c.is_ascii_alphanumeric())
        .flat_map(|part| {
            let mut chars = part.chars();
            chars
                .next()
                .map(|first| first.to_ascii_uppercase())
                .into_iter()
                .chain(chars)
        })
        .collect();
    if name.starts_with(|c: char| c.is_ascii_alphabetic()) && name != "Self" {
        Ok(name)
    } else {
        Err(format!(
            "cannot name a struct after dbt model `{model}`: add `name = TypeName`, e.g. \
             `dbt_schema!(\"models/schema.yml\", \"{model}\", name = Row)`"
        ))
    }
}

#[cfg(test)]
mod tests;
