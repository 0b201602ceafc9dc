//! A cron expression in a time zone, read by croner (5 fields, no seconds, no year — the
//! grammar `#[ingestion(cron = …)]` checks at compile time with the same parser).
//!
//! Daylight saving follows croner's documented rules: a fixed-time job whose local time
//! falls in a spring-forward gap fires right after the gap; in a fall-back overlap a
//! fixed-time job fires once, while a job on every hour (`0 * * * *`) fires at both
//! repeated hours — so every hour of real time gets its tick.

use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use croner::Cron;
use croner::parser::{CronParser, Seconds, Year};

/// At most this many ticks are counted between two instants (a minutely schedule off for a
/// year has half a million): past it the count says "at least".
pub const TICK_COUNT_CAP: usize = 10_000;

/// A parsed schedule: when it fires, in which zone.
#[derive(Debug, Clone)]
pub struct CronSchedule {
    expression: String,
    cron: Cron,
    timezone: Tz,
}

/// The ticks in a span, newest first.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DueTicks {
    /// The newest ticks, newest first, at most the number asked for.
    pub newest: Vec<DateTime<Utc>>,
    /// How many ticks the span holds in all (at most [`TICK_COUNT_CAP`]).
    pub total: usize,
}

impl CronSchedule {
    /// Parses `expression` (croner's grammar, 5 fields) for the zone `timezone`.
    ///
    /// ```
    /// use phlo_runtime::schedule::CronSchedule;
    /// let s = CronSchedule::parse("0 6 * * *", chrono_tz::Europe::London)?;
    /// let t = "2025-07-01T00:00:00Z".parse::<chrono::DateTime<chrono::Utc>>()?;
    /// // 06:00 in London in summer is 05:00 UTC.
    /// assert_eq!(s.next_after(t).map(|t| t.to_rfc3339()).as_deref(), Some("2025-07-01T05:00:00+00:00"));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn parse(expression: &str, timezone: Tz) -> Result<Self, String> {
        let parser = CronParser::builder()
            .seconds(Seconds::Disallowed)
            .year(Year::Disallowed)
            .build();
        let cron = parser.parse(expression).map_err(|e| e.to_string())?;
        Ok(CronSchedule {
            expression: expression.trim().to_string(),
            cron,
            timezone,
        })
    }

    /// The expression as written.
    pub fn expression(&self) -> &str {
        &self.expression
    }

    /// The zone the expression is read in.
    pub fn timezone(&self) -> Tz {
        self.timezone
    }

    /// The first tick strictly after `t` (`None`: the expression never fires again).
    pub fn next_after(&self, t: DateTime<Utc>) -> Option<DateTime<Utc>> {
        self.cron
            .find_next_occurrence(&t.with_timezone(&self.timezone), false)
            .ok()
            .map(|t| t.with_timezone(&Utc))
    }

    /// The last tick at or before `t`.
    pub fn latest_at_or_before(&self, t: DateTime<Utc>) -> Option<DateTime<Utc>> {
        self.cron
            .find_previous_occurrence(&t.with_timezone(&self.timezone), true)
            .ok()
            .map(|t| t.with_timezone(&Utc))
    }

    /// The ticks in `(after, until]`: the newest `keep` of them, newest first, and how many
    /// there are (counted up to [`TICK_COUNT_CAP`]).
    pub fn due(&self, after: DateTime<Utc>, until: DateTime<Utc>, keep: usize) -> DueTicks {
        let mut newest = Vec::new();
        let mut total = 0;
        let mut cursor = self.latest_at_or_before(until);
        while let Some(t) = cursor {
            if t <= after || total >= TICK_COUNT_CAP {
                break;
            }
            if newest.len() < keep {
                newest.push(t);
            }
            total += 1;
            cursor = self
                .cron
                .find_previous_occurrence(&t.with_timezone(&self.timezone), false)
                .ok()
                .map(|t| t.with_timezone(&Utc));
        }
        DueTicks { newest, total }
    }

    /// Every tick in `(after, until]`, oldest first (at most [`TICK_COUNT_CAP`]).
    pub fn ticks_between(&self, after: DateTime<Utc>, until: DateTime<Utc>) -> Vec<DateTime<Utc>> {
        let mut out = self.due(after, until, TICK_COUNT_CAP).newest;
        out.reverse();
        out
    }
}
