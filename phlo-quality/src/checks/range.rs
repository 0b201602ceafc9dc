//! `RangeCheck`: non-null numeric values outside inclusive bounds.

use async_trait::async_trait;

use super::common::{
    CheckOptions, check_options, column_type, evaluate_non_null, is_float, sql_f64,
};
use crate::scope::quote_ident;
use crate::{Check, CheckScope, Error, Evaluation, Result, Severity};

/// Fails non-null values outside `[min, max]` (both bounds inclusive, each optional but at
/// least one required). `NaN` is never within a range.
///
/// Denominator: the non-null values in scope. An empty scope, or an all-null column,
/// passes (0 of 0).
///
/// ```rust
/// use phlo_quality::{Check, RangeCheck};
/// let check = RangeCheck::new("value").min(0.0).max(100.0);
/// assert_eq!(check.name(), "range_check(value)");
/// ```
#[derive(Debug, Clone)]
pub struct RangeCheck {
    column: String,
    min: Option<f64>,
    max: Option<f64>,
    options: CheckOptions,
}

impl RangeCheck {
    /// A range check on `column`; set bounds with [`min`](Self::min) and
    /// [`max`](Self::max).
    pub fn new(column: impl Into<String>) -> Self {
        RangeCheck {
            column: column.into(),
            min: None,
            max: None,
            options: CheckOptions::default(),
        }
    }

    /// Values must be ≥ `min`.
    #[must_use]
    pub fn min(mut self, min: f64) -> Self {
        self.min = Some(min);
        self
    }

    /// Values must be ≤ `max`.
    #[must_use]
    pub fn max(mut self, max: f64) -> Self {
        self.max = Some(max);
        self
    }

    /// The failing-row predicate, for a column of float type or not.
    fn predicate(&self, float: bool) -> Result<String> {
        let name = self.name();
        let col = quote_ident(&self.column);
        let mut within = Vec::new();
        if let Some(min) = self.min {
            within.push(format!("{col} >= {}", sql_f64(&name, min)?));
        }
        if let Some(max) = self.max {
            within.push(format!("{col} <= {}", sql_f64(&name, max)?));
        }
        if within.is_empty() {
            return Err(Error::Config {
                check: name,
                reason: "set `min`, `max` or both".into(),
            });
        }
        if let (Some(min), Some(max)) = (self.min, self.max)
            && min > max
        {
            return Err(Error::Config {
                check: name,
                reason: format!("min {min} is greater than max {max}"),
            });
        }
        let nan = if float {
            format!(" OR isnan({col})")
        } else {
            String::new()
        };
        Ok(format!(
            "{col} IS NOT NULL AND (NOT ({}){nan})",
            within.join(" AND ")
        ))
    }

    fn bounds(&self) -> String {
        match (self.min, self.max) {
            (Some(lo), Some(hi)) => format!("[{lo}, {hi}]"),
            (Some(lo), None) => format!("[{lo}, ∞)"),
            (None, Some(hi)) => format!("(-∞, {hi}]"),
            (None, None) => "(-∞, ∞)".to_string(),
        }
    }
}

check_options!(RangeCheck);

#[async_trait]
impl Check for RangeCheck {
    fn name(&self) -> String {
        format!("range_check({})", self.column)
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
        let data_type = column_type(scope, &self.column).await?;
        if !data_type.is_numeric() {
            return Err(Error::Config {
                check: self.name(),
                reason: format!("`{}` is {data_type}, not a number", self.column),
            });
        }
        let pred = self.predicate(is_float(&data_type))?;
        evaluate_non_null(
            scope,
            &self.column,
            &self.columns(),
            &pred,
            |failed, total| {
                format!(
                    "{failed} of {total} non-null values of {} are outside {}",
                    self.column,
                    self.bounds()
                )
            },
        )
        .await
    }
}

#[cfg(test)]
mod tests;
