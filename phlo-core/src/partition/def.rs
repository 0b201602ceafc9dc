//! A partitions definition: which keys exist, how they parse, what windows they cover.

use std::fmt;

use arrow::datatypes::{DataType, Field, TimeUnit};
use chrono::offset::LocalResult;
use chrono::{DateTime, Datelike, Duration, NaiveDate, NaiveDateTime, Offset, TimeZone, Utc};
use chrono_tz::Tz;
use datafusion::common::ScalarValue;

use super::key::{PartitionKey, TimeWindow, format_offset};
use super::scope::PartitionScope;
use crate::metadata::{PARTITION_DATE, PARTITION_HOUR, PARTITION_KEY};
use crate::schema::UTC;
use crate::spec::{Cadence, PartitionsSpec};
use crate::{Error, Result};

/// Time windows of one cadence in one time zone.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TimeWindows {
    cadence: Cadence,
    tz: Tz,
    /// First window's start instant; `None`: unbounded.
    start: Option<DateTime<Utc>>,
    /// Windows starting at or after this are out of range; `None`: unbounded.
    end: Option<DateTime<Utc>>,
    end_offset: i32,
}

/// How an asset is partitioned, resolved and validated from its [`PartitionsSpec`]
/// (SEMANTICS §2). Every layer — the plan, storage scopes, quality windows, metadata
/// columns, reports — takes its keys from here.
///
/// ```
/// use phlo_core::partition::PartitionsDef;
/// use phlo_core::spec::{Cadence, PartitionsSpec};
///
/// let def = PartitionsDef::resolve(&PartitionsSpec::Time {
///     cadence: Cadence::Hourly,
///     start: Some("2025-01-01"),
///     end: None,
///     timezone: "Europe/London",
///     end_offset: 0,
/// })?;
/// // The hour the clocks repeat (2025-10-26, 01:00 local) needs its UTC offset.
/// assert!(def.parse_key("2025-10-26T01").is_err());
/// let first = def.parse_key("2025-10-26T01+01:00")?;
/// let second = def.parse_key("2025-10-26T01+00:00")?;
/// assert!(first < second);
/// // The hour they skip does not exist.
/// assert!(def.parse_key("2025-03-30T01").is_err());
/// # Ok::<(), phlo_core::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PartitionsDef {
    /// Unpartitioned: one run covers the whole table.
    None,
    /// Hourly, daily or monthly windows.
    Time(TimeWindows),
    /// A fixed list of keys, in declaration order.
    Static(Vec<String>),
}

impl PartitionsDef {
    /// The default: daily windows in UTC, unbounded.
    pub fn daily_utc() -> Self {
        PartitionsDef::Time(TimeWindows {
            cadence: Cadence::Daily,
            tz: Tz::UTC,
            start: None,
            end: None,
            end_offset: 0,
        })
    }

    /// Validates a declared spec: the time zone exists, bounds parse in the cadence's
    /// form, `start` is before `end`, static keys are non-empty and distinct.
    pub fn resolve(spec: &PartitionsSpec) -> Result<Self> {
        let invalid = |reason: String| Error::InvalidPartitions { reason };
        match *spec {
            PartitionsSpec::None => Ok(PartitionsDef::None),
            PartitionsSpec::Static { keys } => {
                if keys.is_empty() {
                    return Err(invalid("static_keys needs at least one key".into()));
                }
                let mut out: Vec<String> = Vec::with_capacity(keys.len());
                for k in keys {
                    if k.is_empty()
                        || !k
                            .chars()
                            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.'))
                    {
                        return Err(invalid(format!(
                            "static key `{k}` must be non-empty and made of letters, digits, `_`, `-` and `.`"
                        )));
                    }
                    if out.iter().any(|o| o == k) {
                        return Err(invalid(format!("static key `{k}` is listed twice")));
                    }
                    out.push((*k).to_string());
                }
                Ok(PartitionsDef::Static(out))
            }
            PartitionsSpec::Time {
                cadence,
                start,
                end,
                timezone,
                end_offset,
            } => {
                let tz: Tz = timezone.parse().map_err(|_| {
                    invalid(format!(
                        "unknown time zone `{timezone}`: use an IANA name such as `UTC` or `Europe/London`"
                    ))
                })?;
                let mut def = TimeWindows {
                    cadence,
                    tz,
                    start: None,
                    end: None,
                    end_offset,
                };
                let bound = |text: &str, what: &str| -> Result<DateTime<Utc>> {
                    let local = parse_bound(cadence, text).ok_or_else(|| {
                        invalid(format!("{what} `{text}` is not {}", bound_form(cadence)))
                    })?;
                    Ok(def.resolve_local_floor(local))
                };
                let start_at = start.map(|s| bound(s, "start")).transpose()?;
                let end_at = end.map(|e| bound(e, "end")).transpose()?;
                def.start = start_at;
                def.end = end_at;
                if let (Some(s), Some(e)) = (def.start, def.end)
                    && s >= e
                {
                    return Err(invalid(format!(
                        "start `{}` is not before end `{}`",
                        start.unwrap_or_default(),
                        end.unwrap_or_default()
                    )));
                }
                Ok(PartitionsDef::Time(def))
            }
        }
    }

    /// Whether the asset is partitioned.
    pub fn is_partitioned(&self) -> bool {
        !matches!(self, PartitionsDef::None)
    }

    /// The time windows, for a time definition.
    pub fn time(&self) -> Option<&TimeWindows> {
        match self {
            PartitionsDef::Time(t) => Some(t),
            _ => None,
        }
    }

    /// The expected text form of a key, for messages.
    pub fn key_form(&self) -> String {
        match self {
            PartitionsDef::None => "no partition (the asset is unpartitioned)".into(),
            PartitionsDef::Time(t) => match t.cadence {
                Cadence::Daily => "a date as YYYY-MM-DD".into(),
                Cadence::Monthly => "a month as YYYY-MM".into(),
                Cadence::Hourly => "an hour as YYYY-MM-DDTHH (with the UTC offset, e.g. \
                                    YYYY-MM-DDTHH+01:00, where the time zone repeats the hour)"
                    .into(),
            },
            PartitionsDef::Static(keys) => format!("one of {}", keys.join(", ")),
        }
    }

    /// Parses `text` strictly as a key of this definition, range-checked.
    pub fn parse_key(&self, text: &str) -> Result<PartitionKey> {
        let invalid = || Error::InvalidPartitionKey {
            key: text.to_string(),
            expected: self.key_form(),
        };
        match self {
            PartitionsDef::None => Err(invalid()),
            PartitionsDef::Static(keys) => keys
                .iter()
                .find(|k| k.as_str() == text)
                .map(|k| PartitionKey::Static(k.clone()))
                .ok_or_else(invalid),
            PartitionsDef::Time(t) => {
                let window = t.parse(text)?.ok_or_else(invalid)?;
                t.check_range(&window, text)?;
                Ok(PartitionKey::Window(window))
            }
        }
    }

    /// Every key from `from` to `to`, inclusive, in order (empty when `from` is after `to`).
    pub fn keys_between(
        &self,
        from: &PartitionKey,
        to: &PartitionKey,
    ) -> Result<Vec<PartitionKey>> {
        match (self, from, to) {
            (PartitionsDef::Static(keys), PartitionKey::Static(a), PartitionKey::Static(b)) => {
                let pos = |k: &str| keys.iter().position(|x| x == k);
                match (pos(a), pos(b)) {
                    (Some(i), Some(j)) if i <= j => Ok(keys[i..=j]
                        .iter()
                        .map(|k| PartitionKey::Static(k.clone()))
                        .collect()),
                    (Some(_), Some(_)) => Ok(Vec::new()),
                    _ => Err(Error::InvalidPartitionKey {
                        key: format!("{a}..{b}"),
                        expected: self.key_form(),
                    }),
                }
            }
            (PartitionsDef::Time(t), PartitionKey::Window(a), PartitionKey::Window(b)) => {
                let mut out = Vec::new();
                let mut w = *a;
                while w.start <= b.start {
                    out.push(PartitionKey::Window(w));
                    w = t.next(&w);
                }
                Ok(out)
            }
            _ => Err(Error::InvalidPartitionKey {
                key: format!("{from}..{to}"),
                expected: self.key_form(),
            }),
        }
    }

    /// The latest partition at `now`: for time windows the last complete one shifted by the
    /// end offset (Dagster's semantics), `None` before the first; for static keys the last.
    pub fn latest(&self, now: DateTime<Utc>) -> Option<PartitionKey> {
        match self {
            PartitionsDef::None => None,
            PartitionsDef::Static(keys) => keys.last().map(|k| PartitionKey::Static(k.clone())),
            PartitionsDef::Time(t) => t.latest(now).map(PartitionKey::Window),
        }
    }

    /// The first partition, when the definition has a start (or static keys).
    pub fn first(&self) -> Option<PartitionKey> {
        match self {
            PartitionsDef::None => None,
            PartitionsDef::Static(keys) => keys.first().map(|k| PartitionKey::Static(k.clone())),
            PartitionsDef::Time(t) => t
                .start
                .map(|s| PartitionKey::Window(t.window_containing(s))),
        }
    }

    /// The column holding a row's partition key, and its type (SEMANTICS §2).
    pub fn key_column(&self) -> Option<(&'static str, DataType)> {
        match self {
            PartitionsDef::None => None,
            PartitionsDef::Time(t) => Some(match t.cadence {
                Cadence::Daily | Cadence::Monthly => (PARTITION_DATE, DataType::Date32),
                Cadence::Hourly => (
                    PARTITION_HOUR,
                    DataType::Timestamp(TimeUnit::Microsecond, Some(UTC.into())),
                ),
            }),
            PartitionsDef::Static(_) => Some((PARTITION_KEY, DataType::Utf8)),
        }
    }

    /// The column the table is physically partitioned by (docs/adr/0008): the day for
    /// every time cadence (an hourly table keeps a day's hours in one directory, so a year
    /// is 365 directories that `optimize` compacts, not 8,760), the key for static keys.
    pub fn physical_column(&self) -> Option<&'static str> {
        match self {
            PartitionsDef::None => None,
            PartitionsDef::Time(_) => Some(PARTITION_DATE),
            PartitionsDef::Static(_) => Some(PARTITION_KEY),
        }
    }

    /// The partition metadata fields of a row, in table order: `_phlo_partition_date`
    /// (null when unpartitioned, the day for time windows), then `_phlo_partition_hour`
    /// for hourly tables; `_phlo_partition_key` for static keys.
    pub fn metadata_fields(&self) -> Vec<Field> {
        let ts = DataType::Timestamp(TimeUnit::Microsecond, Some(UTC.into()));
        match self {
            PartitionsDef::None => vec![Field::new(PARTITION_DATE, DataType::Date32, true)],
            PartitionsDef::Time(t) if t.cadence == Cadence::Hourly => vec![
                Field::new(PARTITION_DATE, DataType::Date32, true),
                Field::new(PARTITION_HOUR, ts, true),
            ],
            PartitionsDef::Time(_) => vec![Field::new(PARTITION_DATE, DataType::Date32, true)],
            PartitionsDef::Static(_) => vec![Field::new(PARTITION_KEY, DataType::Utf8, true)],
        }
    }

    /// The values of [`Self::metadata_fields`] for the rows of `key` (nulls when `None`).
    pub fn metadata_values(&self, key: Option<&PartitionKey>) -> Vec<ScalarValue> {
        match (self, key) {
            (PartitionsDef::Static(_), k) => {
                vec![ScalarValue::Utf8(
                    k.and_then(|k| k.static_value()).map(str::to_string),
                )]
            }
            (PartitionsDef::Time(t), Some(PartitionKey::Window(w)))
                if t.cadence == Cadence::Hourly =>
            {
                vec![date_value(Some(w.date())), hour_value(Some(w.start))]
            }
            (PartitionsDef::Time(t), None) if t.cadence == Cadence::Hourly => {
                vec![date_value(None), hour_value(None)]
            }
            (_, k) => vec![date_value(k.and_then(PartitionKey::date))],
        }
    }

    /// The rows of a table that `key` covers (`None`: the whole, unpartitioned table).
    pub fn scope(&self, key: Option<&PartitionKey>) -> PartitionScope {
        let Some(key) = key else {
            return PartitionScope::Whole;
        };
        let Some((column, _)) = self.key_column() else {
            return PartitionScope::Whole;
        };
        let values = self.metadata_values(Some(key));
        let fields = self.metadata_fields();
        let value_of = |name: &str| {
            fields
                .iter()
                .position(|f| f.name() == name)
                .and_then(|i| values.get(i).cloned())
        };
        let Some(value) = value_of(column) else {
            return PartitionScope::Whole;
        };
        let file_partition = self
            .physical_column()
            .and_then(|p| value_of(p).and_then(|v| partition_value_text(&v).map(|text| (p, text))));
        PartitionScope::Key {
            column,
            value,
            file_partition,
        }
    }

    /// A short description for listings: `daily`, `hourly(Europe/London)`, `static(eu,us)`.
    pub fn describe(&self) -> String {
        match self {
            PartitionsDef::None => "none".into(),
            PartitionsDef::Time(t) if t.tz == Tz::UTC => t.cadence.name().into(),
            PartitionsDef::Time(t) => format!("{}({})", t.cadence.name(), t.tz.name()),
            PartitionsDef::Static(keys) => format!("static({})", keys.join(",")),
        }
    }
}

impl fmt::Display for PartitionsDef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.describe())
    }
}

fn date_value(date: Option<NaiveDate>) -> ScalarValue {
    ScalarValue::Date32(date.map(arrow::datatypes::Date32Type::from_naive_date))
}

fn hour_value(start: Option<DateTime<Utc>>) -> ScalarValue {
    ScalarValue::TimestampMicrosecond(start.map(|s| s.timestamp_micros()), Some(UTC.into()))
}

/// The text Delta Lake stores as a partition value (`2025-01-15`, `eu`).
pub(crate) fn partition_value_text(value: &ScalarValue) -> Option<String> {
    match value {
        ScalarValue::Date32(Some(d)) => arrow::datatypes::Date32Type::to_naive_date_opt(*d)
            .map(|d| d.format("%Y-%m-%d").to_string()),
        ScalarValue::Utf8(Some(s)) => Some(s.clone()),
        _ => None,
    }
}

/// The UTC day of `date` (the default definition's key).
pub(crate) fn utc_day(date: NaiveDate) -> PartitionKey {
    let start = date.and_time(chrono::NaiveTime::MIN);
    let next = date
        .succ_opt()
        .unwrap_or(date)
        .and_time(chrono::NaiveTime::MIN);
    PartitionKey::Window(TimeWindow {
        cadence: Cadence::Daily,
        start: start.and_utc(),
        end: next.and_utc(),
        local_start: start,
        offset_seconds: 0,
        ambiguous: false,
    })
}

fn bound_form(cadence: Cadence) -> &'static str {
    match cadence {
        Cadence::Daily => "a date as YYYY-MM-DD",
        Cadence::Monthly => "a month as YYYY-MM",
        Cadence::Hourly => "an hour as YYYY-MM-DDTHH or a date as YYYY-MM-DD",
    }
}

/// Whether `text` is exactly `pattern` with `9` standing for a digit.
fn shaped(text: &str, pattern: &str) -> bool {
    text.len() == pattern.len()
        && text.bytes().zip(pattern.bytes()).all(|(t, p)| match p {
            b'9' => t.is_ascii_digit(),
            _ => t == p,
        })
}

fn parse_date(text: &str) -> Option<NaiveDate> {
    shaped(text, "9999-99-99")
        .then(|| NaiveDate::parse_from_str(text, "%Y-%m-%d").ok())
        .flatten()
}

fn parse_month(text: &str) -> Option<NaiveDate> {
    if !shaped(text, "9999-99") {
        return None;
    }
    let year: i32 = text.get(0..4)?.parse().ok()?;
    let month: u32 = text.get(5..7)?.parse().ok()?;
    NaiveDate::from_ymd_opt(year, month, 1)
}

fn parse_hour(text: &str) -> Option<NaiveDateTime> {
    if !shaped(text, "9999-99-99T99") {
        return None;
    }
    let date = parse_date(text.get(0..10)?)?;
    let hour: u32 = text.get(11..13)?.parse().ok()?;
    date.and_hms_opt(hour, 0, 0)
}

/// `+HH:MM` / `-HH:MM` / `Z` → seconds east of UTC.
fn parse_offset(text: &str) -> Option<i32> {
    if text == "Z" {
        return Some(0);
    }
    if !shaped(&text.replace('-', "+"), "+99:99") {
        return None;
    }
    let sign = if text.starts_with('-') { -1 } else { 1 };
    let h: i32 = text.get(1..3)?.parse().ok()?;
    let m: i32 = text.get(4..6)?.parse().ok()?;
    (h <= 18 && m < 60).then_some(sign * (h * 3600 + m * 60))
}

/// A definition bound as a local wall-clock instant.
fn parse_bound(cadence: Cadence, text: &str) -> Option<NaiveDateTime> {
    let midnight = |d: NaiveDate| d.and_time(chrono::NaiveTime::MIN);
    match cadence {
        Cadence::Daily => parse_date(text).map(midnight),
        Cadence::Monthly => parse_month(text).map(midnight),
        Cadence::Hourly => parse_hour(text).or_else(|| parse_date(text).map(midnight)),
    }
}

fn offset_of(dt: &DateTime<Tz>) -> i32 {
    dt.offset().fix().local_minus_utc()
}

impl TimeWindows {
    /// The cadence.
    pub fn cadence(&self) -> Cadence {
        self.cadence
    }

    /// The time zone.
    pub fn timezone(&self) -> Tz {
        self.tz
    }

    /// The end offset.
    pub fn end_offset(&self) -> i32 {
        self.end_offset
    }

    /// The instant a local wall-clock time maps to, taking the earlier one when the clocks
    /// repeat it and the first existing instant after it when they skip it.
    fn resolve_local_floor(&self, local: NaiveDateTime) -> DateTime<Utc> {
        let mut probe = local;
        // Gaps are at most a few hours; step in quarter hours until a time exists.
        for _ in 0..(4 * 24) {
            match self.tz.from_local_datetime(&probe) {
                LocalResult::Single(dt) => return dt.with_timezone(&Utc),
                LocalResult::Ambiguous(a, _) => return a.with_timezone(&Utc),
                LocalResult::None => probe += Duration::minutes(15),
            }
        }
        local.and_utc()
    }

    /// The window of this cadence containing `instant`.
    pub fn window_containing(&self, instant: DateTime<Utc>) -> TimeWindow {
        let local = instant.with_timezone(&self.tz);
        match self.cadence {
            Cadence::Hourly => {
                let offset = offset_of(&local);
                let naive = local.naive_local();
                let floor = naive
                    .date()
                    .and_hms_opt(chrono::Timelike::hour(&naive), 0, 0)
                    .unwrap_or(naive);
                let start = (floor - Duration::seconds(i64::from(offset))).and_utc();
                let ambiguous = matches!(
                    self.tz.from_local_datetime(&floor),
                    LocalResult::Ambiguous(..)
                );
                TimeWindow {
                    cadence: Cadence::Hourly,
                    start,
                    end: start + Duration::hours(1),
                    local_start: floor,
                    offset_seconds: offset,
                    ambiguous,
                }
            }
            Cadence::Daily => self.day_window(local.date_naive()),
            Cadence::Monthly => {
                let d = local.date_naive();
                self.month_window(d.with_day(1).unwrap_or(d))
            }
        }
    }

    fn day_window(&self, date: NaiveDate) -> TimeWindow {
        let midnight = date.and_time(chrono::NaiveTime::MIN);
        let next = date
            .succ_opt()
            .unwrap_or(date)
            .and_time(chrono::NaiveTime::MIN);
        self.calendar_window(Cadence::Daily, midnight, next)
    }

    fn month_window(&self, first: NaiveDate) -> TimeWindow {
        let next = first
            .checked_add_months(chrono::Months::new(1))
            .unwrap_or(first);
        self.calendar_window(
            Cadence::Monthly,
            first.and_time(chrono::NaiveTime::MIN),
            next.and_time(chrono::NaiveTime::MIN),
        )
    }

    fn calendar_window(
        &self,
        cadence: Cadence,
        local_start: NaiveDateTime,
        local_next: NaiveDateTime,
    ) -> TimeWindow {
        let start = self.resolve_local_floor(local_start);
        let offset = offset_of(&start.with_timezone(&self.tz));
        TimeWindow {
            cadence,
            start,
            end: self.resolve_local_floor(local_next),
            local_start,
            offset_seconds: offset,
            ambiguous: false,
        }
    }

    /// The window after `w`.
    pub fn next(&self, w: &TimeWindow) -> TimeWindow {
        self.window_containing(w.end)
    }

    /// The window before `w`.
    pub fn prev(&self, w: &TimeWindow) -> TimeWindow {
        self.window_containing(w.start - Duration::microseconds(1))
    }

    fn latest(&self, now: DateTime<Utc>) -> Option<TimeWindow> {
        let current = self.window_containing(now);
        let mut w = self.prev(&current);
        for _ in 0..self.end_offset.max(0) {
            w = self.next(&w);
        }
        for _ in 0..(-self.end_offset).max(0) {
            w = self.prev(&w);
        }
        if let Some(end) = self.end {
            while w.start >= end {
                w = self.prev(&w);
            }
        }
        match self.start {
            Some(s) if w.start < s => None,
            _ => Some(w),
        }
    }

    fn check_range(&self, w: &TimeWindow, text: &str) -> Result<()> {
        let before = self.start.is_some_and(|s| w.start < s);
        let after = self.end.is_some_and(|e| w.start >= e);
        if before || after {
            let fmt = |i: Option<DateTime<Utc>>| {
                i.map(|i| self.window_containing(i).to_string())
                    .unwrap_or_else(|| "…".into())
            };
            return Err(Error::PartitionOutOfRange {
                key: text.to_string(),
                range: format!(
                    "{} partitions from {} to before {}",
                    self.cadence.name(),
                    fmt(self.start),
                    fmt(self.end)
                ),
            });
        }
        Ok(())
    }

    /// `Ok(None)`: not of the cadence's form.
    fn parse(&self, text: &str) -> Result<Option<TimeWindow>> {
        match self.cadence {
            Cadence::Daily => Ok(parse_date(text).map(|d| self.day_window(d))),
            Cadence::Monthly => Ok(parse_month(text).map(|d| self.month_window(d))),
            Cadence::Hourly => {
                let (hour_text, offset_text) = match text.get(13..) {
                    Some(rest) if !rest.is_empty() => (&text[..13], Some(rest)),
                    _ => (text, None),
                };
                let Some(local) = parse_hour(hour_text) else {
                    return Ok(None);
                };
                let offset = match offset_text {
                    Some(o) => match parse_offset(o) {
                        Some(o) => Some(o),
                        None => return Ok(None),
                    },
                    None => None,
                };
                let tz = self.tz.name().to_string();
                let window = |dt: DateTime<Tz>, ambiguous: bool| {
                    let start = dt.with_timezone(&Utc);
                    TimeWindow {
                        cadence: Cadence::Hourly,
                        start,
                        end: start + Duration::hours(1),
                        local_start: local,
                        offset_seconds: offset_of(&dt),
                        ambiguous,
                    }
                };
                let wrong_offset = |o: i32, expected: String| Error::InvalidPartitionKey {
                    key: text.to_string(),
                    expected: format!(
                        "{expected} ({} is not the UTC offset of that hour in {tz})",
                        format_offset(o)
                    ),
                };
                match self.tz.from_local_datetime(&local) {
                    LocalResult::None => Err(Error::NonexistentPartition {
                        key: text.to_string(),
                        timezone: tz,
                    }),
                    LocalResult::Single(dt) => match offset {
                        Some(o) if o != offset_of(&dt) => {
                            Err(wrong_offset(o, hour_text.to_string()))
                        }
                        _ => Ok(Some(window(dt, false))),
                    },
                    LocalResult::Ambiguous(a, b) => {
                        let (first, second) = (window(a, true), window(b, true));
                        match offset {
                            Some(o) if o == offset_of(&a) => Ok(Some(first)),
                            Some(o) if o == offset_of(&b) => Ok(Some(second)),
                            Some(o) => Err(wrong_offset(o, format!("`{first}` or `{second}`"))),
                            None => Err(Error::AmbiguousPartition {
                                key: text.to_string(),
                                timezone: tz,
                                first: first.to_string(),
                                second: second.to_string(),
                            }),
                        }
                    }
                }
            }
        }
    }
}
