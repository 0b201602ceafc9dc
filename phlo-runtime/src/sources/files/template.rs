//! Paths templated by the partition: `data/raw/weather_{date}.parquet`.

use phlo_core::partition::PartitionKey;
use phlo_core::spec::Cadence;

use super::FileError;

/// A value of the partition a path can name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Placeholder {
    /// `{date}`: the local date a daily or hourly window starts on, `YYYY-MM-DD`.
    Date,
    /// `{hour}`: the local hour an hourly window starts at, `HH`.
    Hour,
    /// `{month}`: the local month a time window starts in, `YYYY-MM`.
    Month,
    /// `{key}`: the partition key as written (`2025-01-15`, `2025-01-15T07`, `eu`).
    Key,
    /// `{start}`: the window's first instant, UTC, `YYYY-MM-DDTHH:MM:SSZ`.
    Start,
    /// `{end}`: the first instant after the window, UTC, `YYYY-MM-DDTHH:MM:SSZ`.
    End,
}

impl Placeholder {
    /// Every placeholder, in the order the docs list them.
    pub const ALL: [Placeholder; 6] = [
        Placeholder::Date,
        Placeholder::Hour,
        Placeholder::Month,
        Placeholder::Key,
        Placeholder::Start,
        Placeholder::End,
    ];

    /// The name written between braces.
    pub fn name(self) -> &'static str {
        match self {
            Placeholder::Date => "date",
            Placeholder::Hour => "hour",
            Placeholder::Month => "month",
            Placeholder::Key => "key",
            Placeholder::Start => "start",
            Placeholder::End => "end",
        }
    }

    fn parse(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|p| p.name() == name)
    }

    /// This placeholder's text for `partition`, or why it has none.
    fn fill(self, partition: Option<&PartitionKey>) -> Result<String, &'static str> {
        let Some(key) = partition else {
            return Err("the asset is unpartitioned");
        };
        if self == Placeholder::Key {
            return Ok(key.to_string());
        }
        let Some(window) = key.window() else {
            return Err("a static partition has no time window; use {key}");
        };
        let utc = |t: chrono::DateTime<chrono::Utc>| t.format("%Y-%m-%dT%H:%M:%SZ").to_string();
        match (self, window.cadence()) {
            (Placeholder::Date, Cadence::Monthly) => {
                Err("a monthly partition has no single date; use {month}")
            }
            (Placeholder::Date, _) => Ok(window.date().format("%Y-%m-%d").to_string()),
            (Placeholder::Hour, Cadence::Hourly) => {
                Ok(window.local_start().format("%H").to_string())
            }
            (Placeholder::Hour, _) => Err("only an hourly partition has an hour"),
            (Placeholder::Month, _) => Ok(window.date().format("%Y-%m").to_string()),
            (Placeholder::Start, _) => Ok(utc(window.start())),
            (Placeholder::End, _) => Ok(utc(window.end())),
            (Placeholder::Key, _) => Ok(key.to_string()),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Segment {
    Literal(String),
    Value(Placeholder),
}

/// A parsed path pattern: literal text (glob characters included) and placeholders.
/// `{{` and `}}` stand for literal braces.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Template {
    pattern: String,
    segments: Vec<Segment>,
}

impl Template {
    /// Parses `pattern`. Errors: [`FileError::UnknownPlaceholder`] for a name not in
    /// [`Placeholder::ALL`], [`FileError::Pattern`] for an unclosed or stray brace.
    pub fn parse(pattern: &str) -> Result<Self, FileError> {
        let bad = |reason: &str| FileError::Pattern {
            pattern: pattern.to_string(),
            reason: reason.to_string(),
        };
        let mut segments = Vec::new();
        let mut literal = String::new();
        let mut chars = pattern.chars().peekable();
        while let Some(c) = chars.next() {
            match c {
                '{' if chars.peek() == Some(&'{') => {
                    chars.next();
                    literal.push('{');
                }
                '}' if chars.peek() == Some(&'}') => {
                    chars.next();
                    literal.push('}');
                }
                '}' => {
                    return Err(bad(
                        "a `}` without its `{` (write `}}` for a literal brace)",
                    ));
                }
                '{' => {
                    let mut name = String::new();
                    loop {
                        match chars.next() {
                            Some('}') => break,
                            Some(c) => name.push(c),
                            None => return Err(bad("a `{` without its `}`")),
                        }
                    }
                    let placeholder =
                        Placeholder::parse(&name).ok_or_else(|| FileError::UnknownPlaceholder {
                            pattern: pattern.to_string(),
                            placeholder: name.clone(),
                        })?;
                    if !literal.is_empty() {
                        segments.push(Segment::Literal(std::mem::take(&mut literal)));
                    }
                    segments.push(Segment::Value(placeholder));
                }
                c => literal.push(c),
            }
        }
        if !literal.is_empty() {
            segments.push(Segment::Literal(literal));
        }
        Ok(Template {
            pattern: pattern.to_string(),
            segments,
        })
    }

    /// The pattern as written.
    pub fn pattern(&self) -> &str {
        &self.pattern
    }

    /// Whether the literal text holds glob characters (`*`, `?`, `[`).
    pub fn is_glob(&self) -> bool {
        self.segments.iter().any(|s| match s {
            Segment::Literal(l) => l.contains(['*', '?', '[']),
            Segment::Value(_) => false,
        })
    }

    /// The path for `partition`. With `escape`, the partition's values are escaped for a
    /// glob (a static key `a*b` matches only itself). Errors:
    /// [`FileError::Placeholder`] when the partition cannot fill a placeholder.
    pub fn render(
        &self,
        partition: Option<&PartitionKey>,
        escape: bool,
    ) -> Result<String, FileError> {
        self.render_with(partition, |_, value| {
            if escape {
                glob::Pattern::escape(&value)
            } else {
                value
            }
        })
    }

    /// The text for `partition`, each placeholder's value passed through `wrap` (a SQL
    /// query's sources wrap them as typed literals). Errors as [`Template::render`].
    pub fn render_with(
        &self,
        partition: Option<&PartitionKey>,
        wrap: impl Fn(Placeholder, String) -> String,
    ) -> Result<String, FileError> {
        let mut out = String::new();
        for segment in &self.segments {
            match segment {
                Segment::Literal(l) => out.push_str(l),
                Segment::Value(p) => {
                    let value = p.fill(partition).map_err(|reason| FileError::Placeholder {
                        pattern: self.pattern.clone(),
                        placeholder: p.name(),
                        partition: partition
                            .map_or_else(|| "(none)".to_string(), ToString::to_string),
                        reason,
                    })?;
                    out.push_str(&wrap(*p, value));
                }
            }
        }
        Ok(out)
    }
}
