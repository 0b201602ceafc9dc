//! Partition keys and the context a user function receives.

use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, NaiveDate, Utc};

use crate::{Error, Result};

/// A daily partition key, `YYYY-MM-DD`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct PartitionKey(NaiveDate);

impl PartitionKey {
    /// Parses `YYYY-MM-DD` strictly (zero-padded, a real calendar date).
    ///
    /// ```
    /// use phlo_core::partition::PartitionKey;
    /// assert!(PartitionKey::parse("2025-01-15").is_ok());
    /// assert!(PartitionKey::parse("2025-1-15").is_err());
    /// assert!(PartitionKey::parse("2025-02-30").is_err());
    /// ```
    pub fn parse(text: &str) -> Result<Self> {
        let invalid = || Error::InvalidPartitionKey {
            key: text.to_string(),
        };
        let bytes = text.as_bytes();
        let shape_ok = bytes.len() == 10
            && bytes.iter().enumerate().all(|(i, b)| match i {
                4 | 7 => *b == b'-',
                _ => b.is_ascii_digit(),
            });
        if !shape_ok {
            return Err(invalid());
        }
        NaiveDate::parse_from_str(text, "%Y-%m-%d")
            .map(PartitionKey)
            .map_err(|_| invalid())
    }

    /// The date.
    pub fn date(self) -> NaiveDate {
        self.0
    }

    /// Every day from `from` to `to`, inclusive.
    pub fn range(from: PartitionKey, to: PartitionKey) -> Vec<PartitionKey> {
        from.0
            .iter_days()
            .take_while(|d| *d <= to.0)
            .map(PartitionKey)
            .collect()
    }
}

impl From<NaiveDate> for PartitionKey {
    fn from(date: NaiveDate) -> Self {
        PartitionKey(date)
    }
}

impl FromStr for PartitionKey {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        Self::parse(s)
    }
}

impl fmt::Display for PartitionKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0.format("%Y-%m-%d"))
    }
}

/// What a user function knows about the run it is part of.
#[derive(Debug, Clone)]
pub struct PartitionContext {
    asset: String,
    partition: Option<PartitionKey>,
    run_id: String,
    attempt: u32,
    started_at: DateTime<Utc>,
}

impl PartitionContext {
    /// A context (the runtime makes these; tests of user functions may too).
    pub fn new(
        asset: impl Into<String>,
        partition: Option<PartitionKey>,
        run_id: impl Into<String>,
        attempt: u32,
        started_at: DateTime<Utc>,
    ) -> Self {
        PartitionContext {
            asset: asset.into(),
            partition,
            run_id: run_id.into(),
            attempt,
            started_at,
        }
    }

    /// The asset being materialized.
    pub fn asset(&self) -> &str {
        &self.asset
    }

    /// The partition, `None` for an unpartitioned asset.
    pub fn partition(&self) -> Option<PartitionKey> {
        self.partition
    }

    /// The partition's date; for an unpartitioned asset, the UTC date the run started.
    pub fn partition_date(&self) -> NaiveDate {
        self.partition
            .map_or_else(|| self.started_at.date_naive(), PartitionKey::date)
    }

    /// The run's id.
    pub fn run_id(&self) -> &str {
        &self.run_id
    }

    /// The attempt number, 1 for the first call.
    pub fn attempt(&self) -> u32 {
        self.attempt
    }

    /// The run's instant (from the runtime's clock).
    pub fn started_at(&self) -> DateTime<Utc> {
        self.started_at
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_strict() {
        for bad in [
            "",
            "2025-1-01",
            "20250101",
            "2025-13-01",
            "2025-02-29",
            "2025-01-01T00",
            " 2025-01-01",
            "abcd-ef-gh",
        ] {
            assert!(PartitionKey::parse(bad).is_err(), "{bad:?}");
        }
        assert_eq!(
            PartitionKey::parse("2024-02-29")
                .map(|k| k.to_string())
                .ok(),
            Some("2024-02-29".into())
        );
    }

    #[test]
    fn ranges_are_inclusive() -> Result<()> {
        let r = PartitionKey::range(
            PartitionKey::parse("2025-01-30")?,
            PartitionKey::parse("2025-02-02")?,
        );
        let r: Vec<String> = r.iter().map(|k| k.to_string()).collect();
        assert_eq!(r, ["2025-01-30", "2025-01-31", "2025-02-01", "2025-02-02"]);
        Ok(())
    }
}
