//! One partition: a time window or a static key.

use std::cmp::Ordering;
use std::fmt;

use chrono::{DateTime, Duration, NaiveDate, NaiveDateTime, Utc};

use crate::spec::Cadence;

/// A half-open window `[start, end)` of one cadence, in its definition's time zone.
///
/// Windows order by their start instant. A daily window in `Europe/London` is 23 or 25
/// hours long on daylight-saving days; an hourly window is always one hour, and the hour
/// the clocks repeat gives two windows with the same local start (told apart in the key's
/// text by the UTC offset).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct TimeWindow {
    pub(crate) cadence: Cadence,
    pub(crate) start: DateTime<Utc>,
    pub(crate) end: DateTime<Utc>,
    /// The local wall-clock start (midnight, the first of the month, the hour).
    pub(crate) local_start: NaiveDateTime,
    /// The UTC offset at the start, in seconds.
    pub(crate) offset_seconds: i32,
    /// Whether the local start hour occurs twice (the key's text carries the offset).
    pub(crate) ambiguous: bool,
}

impl TimeWindow {
    /// The window's cadence.
    pub fn cadence(&self) -> Cadence {
        self.cadence
    }

    /// The first instant of the window.
    pub fn start(&self) -> DateTime<Utc> {
        self.start
    }

    /// The first instant after the window.
    pub fn end(&self) -> DateTime<Utc> {
        self.end
    }

    /// The window's length.
    pub fn duration(&self) -> Duration {
        self.end - self.start
    }

    /// The local date the window starts on (for a month, its first day).
    pub fn date(&self) -> NaiveDate {
        self.local_start.date()
    }

    /// The local wall-clock start.
    pub fn local_start(&self) -> NaiveDateTime {
        self.local_start
    }

    /// Whether `instant` lies in the window.
    pub fn contains(&self, instant: DateTime<Utc>) -> bool {
        self.start <= instant && instant < self.end
    }
}

impl Ord for TimeWindow {
    fn cmp(&self, other: &Self) -> Ordering {
        (self.start, self.end, self.cadence).cmp(&(other.start, other.end, other.cadence))
    }
}

impl PartialOrd for TimeWindow {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl fmt::Display for TimeWindow {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.cadence {
            Cadence::Daily => write!(f, "{}", self.local_start.format("%Y-%m-%d")),
            Cadence::Monthly => write!(f, "{}", self.local_start.format("%Y-%m")),
            Cadence::Hourly => {
                write!(f, "{}", self.local_start.format("%Y-%m-%dT%H"))?;
                if self.ambiguous {
                    write!(f, "{}", format_offset(self.offset_seconds))?;
                }
                Ok(())
            }
        }
    }
}

/// `+01:00`, `-05:00`, `+05:30`.
pub(crate) fn format_offset(seconds: i32) -> String {
    let sign = if seconds < 0 { '-' } else { '+' };
    let s = seconds.unsigned_abs();
    format!("{sign}{:02}:{:02}", s / 3600, (s % 3600) / 60)
}

/// One partition of an asset: a time window, or a value of a static list.
///
/// Parse keys with [`crate::partition::PartitionsDef::parse_key`] (strict, range-checked);
/// [`PartitionKey::parse`] is the shortcut for the default daily UTC definition.
///
/// ```
/// use phlo_core::partition::PartitionKey;
/// let key = PartitionKey::parse("2025-01-15")?;
/// assert_eq!(key.to_string(), "2025-01-15");
/// assert_eq!(key.window().map(|w| w.duration().num_hours()), Some(24));
/// assert!(PartitionKey::parse("2025-02-30").is_err());
/// # Ok::<(), phlo_core::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum PartitionKey {
    /// A time window (hourly, daily or monthly).
    Window(TimeWindow),
    /// A value of a static list.
    Static(String),
}

impl PartitionKey {
    /// Parses a key of the default definition (daily, UTC): `YYYY-MM-DD`, strictly
    /// (zero-padded, a real calendar date).
    pub fn parse(text: &str) -> crate::Result<Self> {
        super::PartitionsDef::daily_utc().parse_key(text)
    }

    /// The daily UTC window of `date`.
    pub fn day(date: NaiveDate) -> Self {
        super::def::utc_day(date)
    }

    /// The time window, for a time partition.
    pub fn window(&self) -> Option<&TimeWindow> {
        match self {
            PartitionKey::Window(w) => Some(w),
            PartitionKey::Static(_) => None,
        }
    }

    /// The local date a time partition starts on (`None` for a static key).
    pub fn date(&self) -> Option<NaiveDate> {
        self.window().map(TimeWindow::date)
    }

    /// The key's value in its key column: the day (`Date32`) for daily and monthly
    /// windows, the start instant (`Timestamp(µs, UTC)`) for hourly ones, the text for a
    /// static key.
    pub fn column_value(&self) -> datafusion::common::ScalarValue {
        use datafusion::common::ScalarValue;
        match self {
            PartitionKey::Window(w) if w.cadence == Cadence::Hourly => {
                ScalarValue::TimestampMicrosecond(
                    Some(w.start.timestamp_micros()),
                    Some(crate::schema::UTC.into()),
                )
            }
            PartitionKey::Window(w) => ScalarValue::Date32(Some(
                arrow::datatypes::Date32Type::from_naive_date(w.date()),
            )),
            PartitionKey::Static(v) => ScalarValue::Utf8(Some(v.clone())),
        }
    }

    /// The value of a static key.
    pub fn static_value(&self) -> Option<&str> {
        match self {
            PartitionKey::Static(v) => Some(v),
            PartitionKey::Window(_) => None,
        }
    }
}

impl From<NaiveDate> for PartitionKey {
    fn from(date: NaiveDate) -> Self {
        PartitionKey::day(date)
    }
}

impl fmt::Display for PartitionKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PartitionKey::Window(w) => w.fmt(f),
            PartitionKey::Static(v) => f.write_str(v),
        }
    }
}
