//! The compile-time check of `cron = "…"`: the expression must parse with **croner**, the
//! crate the scheduler runs it with, configured as the scheduler configures it (5 fields,
//! no seconds, no year), so what compiles is what runs.
//!
//! croner decides; this module only words its refusals. Fields: minute (0-59), hour (0-23),
//! day-of-month (1-31), month (1-12 or `JAN`-`DEC`), day-of-week (0-7, 0 and 7 both
//! Sunday, or `SUN`-`SAT`); names are case-insensitive. Each field is a comma list of `*`,
//! `n`, `a-b`, `*/n` or `a-b/n`; croner also takes `L`, `W`, `#` and a `+` day-of-week
//! prefix. The macros `@hourly`, `@daily`, `@weekly`, `@monthly`, `@yearly` and
//! `@annually` stand for a whole expression. When croner rejects an expression, the first
//! field found at fault is named with what to write instead; when no rule here explains
//! the refusal, croner's own message is given.

use std::fmt;

/// Why an expression was rejected; the message names the offending field.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct CronError {
    field: Option<&'static str>,
    message: String,
}

impl CronError {
    fn whole(message: String) -> Self {
        Self {
            field: None,
            message,
        }
    }

    /// The field at fault (`"hour"`), when the fault is within one field.
    #[cfg(test)]
    fn field(&self) -> Option<&'static str> {
        self.field
    }
}

impl fmt::Display for CronError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.field {
            Some(field) => write!(
                f,
                "invalid cron expression: in the {field} field, {}",
                self.message
            ),
            None => write!(f, "invalid cron expression: {}", self.message),
        }
    }
}

/// One of the five fields.
struct FieldSpec {
    name: &'static str,
    min: u32,
    max: u32,
    /// Names standing for `names_from`, `names_from + 1`, …
    names: &'static [&'static str],
    names_from: u32,
}

const FIELDS: [FieldSpec; 5] = [
    FieldSpec {
        name: "minute",
        min: 0,
        max: 59,
        names: &[],
        names_from: 0,
    },
    FieldSpec {
        name: "hour",
        min: 0,
        max: 23,
        names: &[],
        names_from: 0,
    },
    FieldSpec {
        name: "day-of-month",
        min: 1,
        max: 31,
        names: &[],
        names_from: 0,
    },
    FieldSpec {
        name: "month",
        min: 1,
        max: 12,
        names: &MONTHS,
        names_from: 1,
    },
    FieldSpec {
        name: "day-of-week",
        min: 0,
        max: 7,
        names: &WEEKDAYS,
        names_from: 0,
    },
];

const MONTHS: [&str; 12] = [
    "JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC",
];
const WEEKDAYS: [&str; 7] = ["SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"];
const MACROS: [&str; 6] = [
    "@hourly",
    "@daily",
    "@weekly",
    "@monthly",
    "@yearly",
    "@annually",
];
const SYNTAX: &str =
    "each field takes `*`, a number, `a-b`, `*/n`, `a-b/n` or a comma list of these";

/// The parser the scheduler uses (`phlo_runtime::schedule`): 5 fields, no seconds, no
/// year. Keep the two in step.
fn parser() -> croner::parser::CronParser {
    croner::parser::CronParser::builder()
        .seconds(croner::parser::Seconds::Disallowed)
        .year(croner::parser::Year::Disallowed)
        .build()
}

/// Accepts what croner accepts, or says what is wrong with the expression.
pub(crate) fn check(expression: &str) -> Result<(), CronError> {
    let refusal = match parser().parse(expression) {
        Ok(_) => return Ok(()),
        Err(e) => e,
    };
    match explain(expression) {
        Err(worded) => Err(worded),
        Ok(()) => Err(CronError::whole(refusal.to_string())),
    }
}

/// Words a refusal: the first field at fault and what to write instead.
fn explain(expression: &str) -> Result<(), CronError> {
    let expression = expression.trim();
    if expression.starts_with('@') {
        return check_macro(expression);
    }
    let fields: Vec<&str> = expression.split_whitespace().collect();
    if fields.len() != FIELDS.len() {
        return Err(CronError::whole(field_count_message(fields.len())));
    }
    for (spec, text) in FIELDS.iter().zip(fields) {
        check_field(spec, text).map_err(|message| CronError {
            field: Some(spec.name),
            message,
        })?;
    }
    Ok(())
}

fn check_macro(expression: &str) -> Result<(), CronError> {
    if MACROS
        .iter()
        .any(|name| name.eq_ignore_ascii_case(expression))
    {
        return Ok(());
    }
    let message = format!(
        "unknown macro `{expression}`; use one of {}",
        MACROS.join(", ")
    );
    Err(CronError::whole(message))
}

fn field_count_message(found: usize) -> String {
    let expected = "a cron expression has 5 fields: minute hour day-of-month month day-of-week";
    match found {
        0 => format!("the expression is empty; {expected}, e.g. `0 * * * *`"),
        6 => format!("{expected}, found 6 (seconds are not supported)"),
        _ => format!("{expected}, found {found}"),
    }
}

fn check_field(spec: &FieldSpec, text: &str) -> Result<(), String> {
    text.split(',').try_for_each(|item| check_item(spec, item))
}

/// What a step applies to.
#[derive(PartialEq)]
enum Base {
    Any,
    Single,
    Range,
}

fn check_item(spec: &FieldSpec, item: &str) -> Result<(), String> {
    if item.is_empty() {
        return Err("a comma list has an empty entry".to_owned());
    }
    let (base, step) = match item.split_once('/') {
        Some((base, step)) => (base, Some(step)),
        None => (item, None),
    };
    let base_kind = check_base(spec, base)?;
    let Some(step) = step else {
        return Ok(());
    };
    if base_kind == Base::Single {
        return Err(format!(
            "`{item}` steps from a single value; write `*/{step}` or `{base}-{}/{step}`",
            spec.max
        ));
    }
    match number(step) {
        Some(n) if (1..=spec.max).contains(&n) => Ok(()),
        _ => Err(format!(
            "the step `{step}` must be a number from 1 to {}",
            spec.max
        )),
    }
}

fn check_base(spec: &FieldSpec, base: &str) -> Result<Base, String> {
    if base == "*" {
        return Ok(Base::Any);
    }
    let Some((from, to)) = base.split_once('-') else {
        return value(spec, base).map(|_| Base::Single);
    };
    if value(spec, from)? > value(spec, to)? {
        return Err(format!(
            "the range `{base}` goes backwards; write the smaller value first"
        ));
    }
    Ok(Base::Range)
}

fn value(spec: &FieldSpec, text: &str) -> Result<u32, String> {
    if let Some(value) = name_value(spec, text) {
        return Ok(value);
    }
    if !is_digits(text) {
        let names = match spec.names.first().zip(spec.names.last()) {
            Some((first, last)) => format!(" or a name {first}-{last}"),
            None => String::new(),
        };
        return Err(format!("`{text}` is not a number{names}; {SYNTAX}"));
    }
    match text.parse() {
        Ok(value) if (spec.min..=spec.max).contains(&value) => Ok(value),
        _ => Err(format!(
            "`{text}` is out of range {}-{}",
            spec.min, spec.max
        )),
    }
}

fn name_value(spec: &FieldSpec, text: &str) -> Option<u32> {
    let index = spec
        .names
        .iter()
        .position(|name| name.eq_ignore_ascii_case(text))?;
    u32::try_from(index)
        .ok()
        .map(|index| spec.names_from + index)
}

/// Plain decimal digits only: no sign, no spaces.
fn is_digits(text: &str) -> bool {
    !text.is_empty() && text.bytes().all(|b| b.is_ascii_digit())
}

fn number(text: &str) -> Option<u32> {
    is_digits(text).then(|| text.parse().ok()).flatten()
}

#[cfg(test)]
mod tests;
