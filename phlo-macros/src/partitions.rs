//! The grammar of what `#[ingestion]` says about partitions, checked at compile time: the
//! `start`/`end` of time partitions, the `tz` and the `static_keys`.
//!
//! Bounds are strict — zero-padded, real calendar dates, no time zone suffix:
//! hourly `YYYY-MM-DDTHH` (hour 00-23) or `YYYY-MM-DD` (its midnight), daily `YYYY-MM-DD`,
//! monthly `YYYY-MM`. Time zones are IANA names, as `chrono-tz` knows them. Static keys are
//! non-empty and made of `[A-Za-z0-9_.-]`: they become Delta partition values and CLI arguments.

use std::fmt::Write as _;

use crate::model::Cadence;
use crate::suggest;

/// The instant a bound stands for, in the partitions' own time zone; ordered by time.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) struct Instant {
    year: u32,
    month: u32,
    day: u32,
    hour: u32,
}

/// The fields of a bound as written, before the cadence or the calendar is consulted.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Fields {
    year: u32,
    month: u32,
    day: Option<u32>,
    hour: Option<u32>,
}

/// Reads `text`, the value of `key` (`start` or `end`) of `cadence` partitions; the error says
/// which shape the cadence takes, with an example made from what was written when possible.
pub(crate) fn bound(cadence: Cadence, key: &str, text: &str) -> Result<Instant, String> {
    let fields = fields(text);
    let fits = fields.is_some_and(|fields| match cadence {
        Cadence::Hourly => fields.day.is_some(),
        Cadence::Daily => fields.day.is_some() && fields.hour.is_none(),
        Cadence::Monthly => fields.day.is_none(),
    });
    let Some(fields) = fields.filter(|_| fits) else {
        return Err(shape_message(cadence, key, text, fields));
    };
    calendar(fields).map_err(|problem| format!("`{key} = \"{text}\"` is not a real {problem}"))
}

/// `YYYY-MM`, `YYYY-MM-DD` or `YYYY-MM-DDTHH`, all digits ASCII and zero-padded.
fn fields(text: &str) -> Option<Fields> {
    let bytes = text.as_bytes();
    let separators: &[(usize, u8)] = match bytes.len() {
        7 => &[(4, b'-')],
        10 => &[(4, b'-'), (7, b'-')],
        13 => &[(4, b'-'), (7, b'-'), (10, b'T')],
        _ => return None,
    };
    let well_formed = bytes.iter().enumerate().all(|(index, byte)| {
        match separators.iter().find(|(at, _)| *at == index) {
            Some((_, separator)) => byte == separator,
            None => byte.is_ascii_digit(),
        }
    });
    if !well_formed {
        return None;
    }
    let number = |range: std::ops::Range<usize>| text.get(range)?.parse::<u32>().ok();
    Some(Fields {
        year: number(0..4)?,
        month: number(5..7)?,
        day: if bytes.len() >= 10 {
            Some(number(8..10)?)
        } else {
            None
        },
        hour: if bytes.len() == 13 {
            Some(number(11..13)?)
        } else {
            None
        },
    })
}

fn shape_message(cadence: Cadence, key: &str, text: &str, written: Option<Fields>) -> String {
    // An example in the right shape, from what was written when it could be read.
    let example = written.and_then(|fields| calendar(fields).ok());
    let Instant {
        year,
        month,
        day,
        hour,
    } = example.unwrap_or(Instant {
        year: 2025,
        month: 1,
        day: 1,
        hour: 0,
    });
    let mut message = format!("`{key} = \"{text}\"` is not ");
    let shape = match cadence {
        Cadence::Hourly => {
            "an hour: hourly partitions are bounded by `YYYY-MM-DDTHH` (hour 00 to 23), or by a \
             date `YYYY-MM-DD` meaning its midnight, zero-padded"
        }
        Cadence::Daily => "a day: daily partitions are bounded by a date `YYYY-MM-DD`, zero-padded",
        Cadence::Monthly => {
            "a month: monthly partitions are bounded by `YYYY-MM` (a month, not a date), \
             zero-padded"
        }
    };
    message.push_str(shape);
    let _ = match cadence {
        Cadence::Hourly => write!(
            message,
            ", e.g. `{key} = \"{year:04}-{month:02}-{day:02}T{hour:02}\"`"
        ),
        Cadence::Daily => write!(
            message,
            ", e.g. `{key} = \"{year:04}-{month:02}-{day:02}\"`"
        ),
        Cadence::Monthly => write!(message, ", e.g. `{key} = \"{year:04}-{month:02}\"`"),
    };
    message
}

/// The instant of well-shaped fields, or what is wrong with them ("month: …").
fn calendar(fields: Fields) -> Result<Instant, String> {
    let Fields {
        year,
        month,
        day,
        hour,
    } = fields;
    let Some(name) = month
        .checked_sub(1)
        .and_then(|index| MONTH_NAMES.get(index as usize))
    else {
        return Err(format!(
            "month: months run from 01 to {:02}",
            MONTH_NAMES.len()
        ));
    };
    let day = day.unwrap_or(1);
    let days = days_in_month(year, month);
    if day == 0 || day > days {
        return Err(format!("date: {name} {year} has {days} days"));
    }
    let hour = hour.unwrap_or(0);
    if hour > 23 {
        return Err("hour: hours run from 00 to 23".to_string());
    }
    Ok(Instant {
        year,
        month,
        day,
        hour,
    })
}

const MONTH_NAMES: [&str; 12] = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
];

fn days_in_month(year: u32, month: u32) -> u32 {
    let leap = year.is_multiple_of(4) && (!year.is_multiple_of(100) || year.is_multiple_of(400));
    match month {
        2 if leap => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Accepts an IANA time zone name; otherwise says so, with the closest known names.
pub(crate) fn time_zone(name: &str) -> Result<(), String> {
    if name.parse::<chrono_tz::Tz>().is_ok() {
        return Ok(());
    }
    let mut message = format!("unknown time zone {name:?}; ");
    let (similar, same_but_case) = similar_zones(name);
    match suggest::did_you_mean(&similar) {
        Some(hint) if same_but_case => {
            let _ = write!(message, "{hint} (time zone names are case-sensitive)");
        }
        Some(hint) => message.push_str(&hint),
        None => message.push_str(
            "`tz` takes an IANA time zone name, e.g. `tz = \"UTC\"`, `tz = \"Europe/London\"` \
             or `tz = \"America/New_York\"` (they are listed at \
             https://en.wikipedia.org/wiki/List_of_tz_database_time_zones)",
        ),
    }
    Err(message)
}

/// Known zones that differ from `name` only by case or spaces (then `true`), or else share its
/// city, or else are a few edits away.
fn similar_zones(name: &str) -> (Vec<&'static str>, bool) {
    let zones = || chrono_tz::TZ_VARIANTS.iter().map(|zone| zone.name());
    let normalized = name.trim().replace(' ', "_");
    let exact: Vec<&str> = zones()
        .filter(|zone| zone.eq_ignore_ascii_case(&normalized))
        .collect();
    if !exact.is_empty() {
        return (exact, true);
    }
    let city = |zone: &str| zone.rsplit('/').next().unwrap_or(zone).to_ascii_lowercase();
    let written_city = city(&normalized);
    let same_city: Vec<&str> = zones()
        .filter(|zone| zone.contains('/') && city(zone) == written_city)
        .take(3)
        .collect();
    if !same_city.is_empty() {
        return (same_city, false);
    }
    (suggest::closest(&normalized, zones()), false)
}

/// Accepts a static partition key: non-empty, made of `[A-Za-z0-9_.-]`.
pub(crate) fn static_key(key: &str) -> Result<(), String> {
    const WHY: &str = "static keys become Delta partition values and CLI arguments";
    if key.is_empty() {
        return Err(format!(
            "a static key cannot be empty, as {WHY}; e.g. `static_keys = [\"eu\", \"us\"]`"
        ));
    }
    match key.chars().find(|c| !is_key_char(*c)) {
        None => Ok(()),
        Some(c) => Err(format!(
            "static key {key:?} contains {}: use only ASCII letters, digits, `_`, `.` and `-`, \
             as {WHY}",
            describe(c)
        )),
    }
}

fn is_key_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-')
}

fn describe(c: char) -> String {
    match c {
        ' ' => "a space".to_string(),
        c if c.is_whitespace() || c.is_control() => format!("the character {c:?}"),
        c => format!("`{c}`"),
    }
}

#[cfg(test)]
mod tests;
