//! The row rules a schema implies: nullability and every constraint of every field, as SQL
//! predicates over the scoped table or, for `Constraint::Custom`, a Rust function.

use arrow::datatypes::{DataType, TimeUnit};
use phlo_core::schema::{ColumnCheckFn, Constraint, FieldDef, FieldType, Lit};

use crate::checks::common::{is_float, is_string, sql_f64, sql_str};
use crate::scope::quote_ident;
use crate::{Error, Result};

/// How a rule finds failing rows.
#[derive(Debug, Clone)]
pub(super) enum RuleKind {
    /// A SQL predicate, true on failing rows (already guarded against nulls).
    Sql(String),
    /// A user function returning the valid rows, called with the column cast to the
    /// schema's type; nulls in the column are skipped, a null verdict on a value fails.
    Custom(ColumnCheckFn, DataType),
}

/// One rule: its report name (`ge(value, 0.0)`), the column it reads and how it fails.
#[derive(Debug, Clone)]
pub(super) struct Rule {
    pub(super) name: String,
    pub(super) column: String,
    pub(super) kind: RuleKind,
    /// For `unique`: the quoted column and the name of the duplicate-count column the
    /// predicate reads, computed by a grouped subquery joined back to the scope.
    pub(super) window: Option<(String, String)>,
    /// A regex DataFusion must compile.
    pub(super) regex: Option<String>,
}

/// Whether the table's `actual` type stores the schema's `expected` type: strings of any
/// width are equivalent; timestamps compare unit and UTC.
pub(super) fn type_matches(expected: FieldType, actual: &DataType) -> bool {
    match expected {
        FieldType::Utf8 => is_string(actual),
        FieldType::TimestampMicrosUtc => matches!(
            actual,
            DataType::Timestamp(TimeUnit::Microsecond, Some(tz)) if is_utc(tz)
        ),
        other => &other.data_type() == actual,
    }
}

fn is_utc(tz: &str) -> bool {
    ["UTC", "+00:00", "Z", "Etc/UTC"]
        .iter()
        .any(|u| u.eq_ignore_ascii_case(tz))
}

/// The rules of `field` (present in the table with type `actual`), numbered from `first`.
pub(super) fn field_rules(
    check: &str,
    field: &FieldDef,
    actual: &DataType,
    first: usize,
) -> Result<Vec<Rule>> {
    let col = quote_ident(field.name);
    let mut rules = Vec::new();
    if !field.nullable {
        rules.push(Rule {
            name: format!("not_null({})", field.name),
            column: field.name.to_string(),
            kind: RuleKind::Sql(format!("{col} IS NULL")),
            window: None,
            regex: None,
        });
    }
    for constraint in field.constraints {
        let n = first + rules.len();
        rules.push(constraint_rule(check, field, actual, constraint, n)?);
    }
    Ok(rules)
}

fn constraint_rule(
    check: &str,
    field: &FieldDef,
    actual: &DataType,
    constraint: &Constraint,
    n: usize,
) -> Result<Rule> {
    let name = constraint.check_name(field.name);
    let invalid = |reason: &str| Error::Config {
        check: check.to_string(),
        reason: format!("`{name}`: {reason}"),
    };
    let col = quote_ident(field.name);
    let mut rule = Rule {
        name: name.clone(),
        column: field.name.to_string(),
        kind: RuleKind::Sql(String::new()),
        window: None,
        regex: None,
    };
    let failing = match constraint {
        Constraint::Unique => {
            let count = format!("_phlo_count_{n}");
            let pred = format!("{} > 1", quote_ident(&count));
            rule.window = Some((col.clone(), count));
            pred
        }
        Constraint::Ge { bound }
        | Constraint::Gt { bound }
        | Constraint::Le { bound }
        | Constraint::Lt { bound } => {
            if !field.field_type.is_numeric() {
                return Err(invalid("range bounds apply to numeric fields"));
            }
            let b = match bound {
                Lit::Int(i) => i.to_string(),
                Lit::Float(f) => sql_f64(check, *f)?,
                Lit::Str(_) | Lit::Bool(_) => return Err(invalid("range bounds must be numbers")),
            };
            let op = match constraint {
                Constraint::Ge { .. } => ">=",
                Constraint::Gt { .. } => ">",
                Constraint::Le { .. } => "<=",
                _ => "<",
            };
            let nan = if is_float(actual) {
                format!(" OR isnan({col})")
            } else {
                String::new()
            };
            format!("NOT ({col} {op} {b}){nan}")
        }
        Constraint::IsIn { values } | Constraint::NotIn { values } => {
            let is_in = matches!(constraint, Constraint::IsIn { .. });
            if values.is_empty() {
                // Nothing is in an empty set.
                return Ok(sql_rule(rule, &col, if is_in { "TRUE" } else { "FALSE" }));
            }
            let list = values
                .iter()
                .map(|v| lit_sql(check, field, *v).map_err(|r| invalid(&r)))
                .collect::<Result<Vec<_>>>()?
                .join(", ");
            let not = if is_in { "NOT " } else { "" };
            format!("{col} {not}IN ({list})")
        }
        Constraint::Regex { pattern } => {
            if field.field_type != FieldType::Utf8 {
                return Err(invalid("`regex` applies to String fields"));
            }
            let regex = format!("^(?:{pattern})$");
            let pred = format!("NOT regexp_like({col}, {})", sql_str(&regex));
            rule.regex = Some(regex);
            pred
        }
        Constraint::StrLength { min, max } => {
            if field.field_type != FieldType::Utf8 {
                return Err(invalid("`str_length` applies to String fields"));
            }
            let mut out = Vec::new();
            if let Some(min) = min {
                out.push(format!("character_length({col}) < {min}"));
            }
            if let Some(max) = max {
                out.push(format!("character_length({col}) > {max}"));
            }
            if out.is_empty() {
                "FALSE".to_string()
            } else {
                out.join(" OR ")
            }
        }
        Constraint::Custom { check, .. } => {
            rule.kind = RuleKind::Custom(*check, field.field_type.data_type());
            return Ok(rule);
        }
    };
    Ok(sql_rule(rule, &col, &failing))
}

/// Completes `rule` with the predicate `failing` guarded so nulls never fail.
fn sql_rule(mut rule: Rule, col: &str, failing: &str) -> Rule {
    rule.kind = RuleKind::Sql(format!("{col} IS NOT NULL AND ({failing})"));
    rule
}

/// A literal of `field`'s type as SQL.
fn lit_sql(check: &str, field: &FieldDef, v: Lit) -> std::result::Result<String, String> {
    let t = field.field_type;
    match v {
        Lit::Str(s) if t == FieldType::Utf8 => Ok(sql_str(s)),
        Lit::Int(i) if t.is_numeric() => Ok(i.to_string()),
        Lit::Float(f) if t.is_numeric() => sql_f64(check, f).map_err(|e| e.to_string()),
        Lit::Bool(b) if t == FieldType::Boolean => Ok(b.to_string().to_uppercase()),
        other => Err(format!("{other} does not fit a {t:?} field")),
    }
}
