//! `SchemaCheck`: the table still honours a `#[derive(Schema)]` contract.

mod eval;
mod rules;

use async_trait::async_trait;
use phlo_core::schema::{Schema, SchemaDef};

use super::common::{CheckOptions, check_options, table_schema};
use crate::{Check, CheckScope, Evaluation, Result, Severity};

/// Verifies the checked table against a schema:
///
/// - **structure**: every field exists with the right Arrow type (`Utf8`, `LargeUtf8` and
///   `Utf8View` are equivalent; timestamps compare unit and UTC). A missing field or a type
///   mismatch fails the check whatever the threshold, with a message listing them; the
///   rows are still checked against the fields that match.
/// - **rows**: a non-nullable field has no nulls in scope, and every constraint of every
///   field holds (`ge`/`gt`/`le`/`lt`, `isin`/`notin`, `regex` (full match), `str_length`,
///   `unique` within the scope, and `Constraint::Custom` functions, which get the column
///   streamed batch by batch).
///
/// `failed_count` is the number of rows failing **at least one** rule (so it never exceeds
/// the denominator); the message lists the failing rows per rule. Denominator: every row in
/// scope. An empty scope with the right structure passes (0 of 0). Samples show the key
/// columns and the constrained columns of up to 20 failing rows.
///
/// ```rust
/// use phlo_core::schema::{Constraint, FieldDef, FieldType, Lit, SchemaDef, SchemaPolicy};
/// use phlo_quality::{Check, SchemaCheck};
///
/// // What `#[derive(Schema)]` generates for `struct Event { id: i64, value: Option<f64> }`
/// // with `#[phlo(ge = 0)]` on `value`; usually written `SchemaCheck::of::<Event>()`.
/// static EVENT: SchemaDef = SchemaDef {
///     name: "Event",
///     fields: &[
///         FieldDef { name: "id", field_type: FieldType::Int64, nullable: false, constraints: &[] },
///         FieldDef {
///             name: "value",
///             field_type: FieldType::Float64,
///             nullable: true,
///             constraints: &[Constraint::Ge { bound: Lit::Int(0) }],
///         },
///     ],
///     policy: SchemaPolicy::Strict,
/// };
/// let check = SchemaCheck::new(&EVENT).warn();
/// assert_eq!(check.name(), "schema_check(Event)");
/// ```
#[derive(Debug, Clone)]
pub struct SchemaCheck {
    schema: &'static SchemaDef,
    options: CheckOptions,
}

impl SchemaCheck {
    /// A check of `T`'s schema (a type deriving `Schema`).
    pub fn of<T: Schema>() -> Self {
        Self::new(T::SCHEMA)
    }

    /// A check of `schema`.
    pub fn new(schema: &'static SchemaDef) -> Self {
        SchemaCheck {
            schema,
            options: CheckOptions::default(),
        }
    }
}

check_options!(SchemaCheck);

#[async_trait]
impl Check for SchemaCheck {
    fn name(&self) -> String {
        format!("schema_check({})", self.schema.name)
    }

    fn severity(&self) -> Severity {
        self.options.severity
    }

    fn threshold(&self) -> f64 {
        self.options.threshold
    }

    fn columns(&self) -> Vec<String> {
        self.schema
            .fields
            .iter()
            .map(|f| f.name.to_string())
            .collect()
    }

    async fn evaluate(&self, scope: &CheckScope) -> Result<Evaluation> {
        let table = table_schema(scope.ctx(), scope.table()).await?;
        let mut problems = Vec::new();
        let mut rules = Vec::new();
        for field in self.schema.fields {
            let Ok(actual) = table.field_with_name(field.name) else {
                problems.push(format!("missing column `{}`", field.name));
                continue;
            };
            if !rules::type_matches(field.field_type, actual.data_type()) {
                problems.push(format!(
                    "`{}` is {}, expected {}",
                    field.name,
                    actual.data_type(),
                    field.field_type.data_type()
                ));
                continue;
            }
            rules.extend(rules::field_rules(
                &self.name(),
                field,
                actual.data_type(),
                rules.len(),
            )?);
        }
        let mut evaluation = eval::evaluate_rules(&self.name(), scope, &rules).await?;
        if !problems.is_empty() {
            let structure = problems.join("; ");
            evaluation.message = Some(match evaluation.message {
                Some(rows) => format!("{structure}; {rows}"),
                None => structure,
            });
            evaluation.passed_override = Some(false);
        }
        Ok(evaluation)
    }
}

#[cfg(test)]
mod tests;
