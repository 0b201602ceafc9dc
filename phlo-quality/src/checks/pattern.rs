//! `PatternCheck`: non-null strings that do not match a regular expression.

use async_trait::async_trait;

use super::common::{
    CheckOptions, check_options, column_type, evaluate_non_null, is_string, sql_str, validate_regex,
};
use crate::scope::quote_ident;
use crate::{Check, CheckScope, Error, Evaluation, Result, Severity};

/// How a [`PatternCheck`] matches.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum MatchMode {
    /// The whole value matches: `^(?:pattern)$` (the default).
    #[default]
    Full,
    /// The value starts with a match: `^(?:pattern)`.
    Prefix,
    /// A match anywhere in the value: `pattern`.
    Search,
}

/// Fails non-null values that do not match `pattern` (Rust `regex` syntax, as DataFusion's
/// `regexp_like`). The match is **full** unless [`prefix`](Self::prefix) or
/// [`search`](Self::search) asks otherwise. An invalid pattern is [`Error::Config`].
///
/// Denominator: the non-null values in scope. An empty scope, or an all-null column,
/// passes (0 of 0).
///
/// ```rust
/// use phlo_quality::{Check, PatternCheck};
/// let check = PatternCheck::new("email", r"[^@]+@[^@]+");
/// assert_eq!(check.name(), "pattern_check(email)");
/// assert_eq!(check.regex(), r"^(?:[^@]+@[^@]+)$");
/// ```
#[derive(Debug, Clone)]
pub struct PatternCheck {
    column: String,
    pattern: String,
    mode: MatchMode,
    options: CheckOptions,
}

impl PatternCheck {
    /// Values of `column` must fully match `pattern`.
    pub fn new(column: impl Into<String>, pattern: impl Into<String>) -> Self {
        PatternCheck {
            column: column.into(),
            pattern: pattern.into(),
            mode: MatchMode::Full,
            options: CheckOptions::default(),
        }
    }

    /// Values must start with a match.
    #[must_use]
    pub fn prefix(mut self) -> Self {
        self.mode = MatchMode::Prefix;
        self
    }

    /// Values must contain a match anywhere.
    #[must_use]
    pub fn search(mut self) -> Self {
        self.mode = MatchMode::Search;
        self
    }

    /// The regular expression evaluated, anchored per the [`MatchMode`].
    pub fn regex(&self) -> String {
        let p = &self.pattern;
        match self.mode {
            MatchMode::Full => format!("^(?:{p})$"),
            MatchMode::Prefix => format!("^(?:{p})"),
            MatchMode::Search => p.clone(),
        }
    }
}

check_options!(PatternCheck);

#[async_trait]
impl Check for PatternCheck {
    fn name(&self) -> String {
        format!("pattern_check({})", self.column)
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
        if !is_string(&data_type) {
            return Err(Error::Config {
                check: self.name(),
                reason: format!("`{}` is {data_type}, not a string", self.column),
            });
        }
        validate_regex(scope, &self.name(), &self.regex()).await?;
        let col = quote_ident(&self.column);
        let pred = format!(
            "{col} IS NOT NULL AND NOT regexp_like({col}, {})",
            sql_str(&self.regex())
        );
        evaluate_non_null(
            scope,
            &self.column,
            &self.columns(),
            &pred,
            |failed, total| {
                format!(
                    "{failed} of {total} non-null values of {} do not match {}",
                    self.column,
                    self.regex()
                )
            },
        )
        .await
    }
}

#[cfg(test)]
mod tests;
