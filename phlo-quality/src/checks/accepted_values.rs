//! `AcceptedValuesCheck`: non-null values outside a set.

use async_trait::async_trait;

use super::common::{CheckOptions, check_options, evaluate_non_null, sql_f64, sql_str};
use crate::scope::quote_ident;
use crate::{Check, CheckScope, Evaluation, Result, Severity};

/// A value an [`AcceptedValuesCheck`] accepts: strings, integers, floats or booleans.
#[derive(Debug, Clone, PartialEq)]
pub enum AcceptedValue {
    /// A string.
    Str(String),
    /// An integer.
    Int(i64),
    /// A float (must be finite).
    Float(f64),
    /// A boolean.
    Bool(bool),
}

impl From<&str> for AcceptedValue {
    fn from(v: &str) -> Self {
        AcceptedValue::Str(v.to_string())
    }
}

impl From<String> for AcceptedValue {
    fn from(v: String) -> Self {
        AcceptedValue::Str(v)
    }
}

impl From<i64> for AcceptedValue {
    fn from(v: i64) -> Self {
        AcceptedValue::Int(v)
    }
}

impl From<i32> for AcceptedValue {
    fn from(v: i32) -> Self {
        AcceptedValue::Int(i64::from(v))
    }
}

impl From<f64> for AcceptedValue {
    fn from(v: f64) -> Self {
        AcceptedValue::Float(v)
    }
}

impl From<bool> for AcceptedValue {
    fn from(v: bool) -> Self {
        AcceptedValue::Bool(v)
    }
}

impl AcceptedValue {
    fn sql(&self, check: &str) -> Result<String> {
        Ok(match self {
            AcceptedValue::Str(s) => sql_str(s),
            AcceptedValue::Int(i) => i.to_string(),
            AcceptedValue::Float(f) => sql_f64(check, *f)?,
            AcceptedValue::Bool(b) => b.to_string().to_uppercase(),
        })
    }
}

impl std::fmt::Display for AcceptedValue {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            AcceptedValue::Str(s) => write!(f, "{s:?}"),
            AcceptedValue::Int(v) => write!(f, "{v}"),
            AcceptedValue::Float(v) => write!(f, "{v:?}"),
            AcceptedValue::Bool(v) => write!(f, "{v}"),
        }
    }
}

/// Fails non-null values that are not one of the accepted values (an empty set fails every
/// non-null value). Values compare as SQL `IN` does, after DataFusion's type coercion.
///
/// Denominator: the non-null values in scope. An empty scope, or an all-null column,
/// passes (0 of 0).
///
/// ```rust
/// use phlo_quality::{AcceptedValuesCheck, Check};
/// let by_name = AcceptedValuesCheck::new("category", ["a", "b"]);
/// assert_eq!(by_name.name(), "accepted_values_check(category)");
/// let by_number = AcceptedValuesCheck::new("level", [1, 2, 3]);
/// ```
#[derive(Debug, Clone)]
pub struct AcceptedValuesCheck {
    column: String,
    values: Vec<AcceptedValue>,
    options: CheckOptions,
}

impl AcceptedValuesCheck {
    /// Values of `column` must be one of `values` (strings, integers, floats or booleans).
    pub fn new(
        column: impl Into<String>,
        values: impl IntoIterator<Item = impl Into<AcceptedValue>>,
    ) -> Self {
        AcceptedValuesCheck {
            column: column.into(),
            values: values.into_iter().map(Into::into).collect(),
            options: CheckOptions::default(),
        }
    }

    /// The accepted values.
    pub fn values(&self) -> &[AcceptedValue] {
        &self.values
    }

    fn predicate(&self) -> Result<String> {
        let col = quote_ident(&self.column);
        if self.values.is_empty() {
            return Ok(format!("{col} IS NOT NULL"));
        }
        let name = self.name();
        let list = self
            .values
            .iter()
            .map(|v| v.sql(&name))
            .collect::<Result<Vec<_>>>()?
            .join(", ");
        Ok(format!("{col} IS NOT NULL AND {col} NOT IN ({list})"))
    }

    fn shown_values(&self) -> String {
        const SHOWN: usize = 10;
        let mut text = self
            .values
            .iter()
            .take(SHOWN)
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join(", ");
        if self.values.len() > SHOWN {
            text.push_str(&format!(", … ({} values)", self.values.len()));
        }
        format!("[{text}]")
    }
}

check_options!(AcceptedValuesCheck);

#[async_trait]
impl Check for AcceptedValuesCheck {
    fn name(&self) -> String {
        format!("accepted_values_check({})", self.column)
    }

    fn severity(&self) -> Severity {
        self.options.severity
    }

    fn threshold(&self) -> f64 {
        self.options.threshold
    }

    fn columns(&self) -> Vec<String> {
        vec![self.column.clone()]
    }

    async fn evaluate(&self, scope: &CheckScope) -> Result<Evaluation> {
        scope.require_columns(&[self.column.as_str()]).await?;
        let pred = self.predicate()?;
        evaluate_non_null(
            scope,
            &self.column,
            &self.columns(),
            &pred,
            |failed, total| {
                format!(
                    "{failed} of {total} non-null values of {} are not in {}",
                    self.column,
                    self.shown_values()
                )
            },
        )
        .await
    }
}

#[cfg(test)]
mod tests;
