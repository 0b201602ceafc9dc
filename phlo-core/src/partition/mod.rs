//! Partitions (SEMANTICS §2): one vocabulary for every layer.
//!
//! ```text
//!  PartitionsSpec (declared, 'static)  ──resolve──▶  PartitionsDef (validated)
//!                                                      │ parse_key / keys_between / latest
//!                                                      ▼
//!                                        PartitionKey: TimeWindow [start, end) | Static
//!                                                      │ scope / metadata_values
//!                                                      ▼
//!                          PartitionScope (column = value, physical file partition)
//! ```

mod def;
mod key;
mod scope;

use chrono::{DateTime, NaiveDate, Utc};

pub use def::{PartitionsDef, TimeWindows};
pub use key::{PartitionKey, TimeWindow};
pub use scope::{PartitionScope, quote_ident, sql_literal};

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
    pub fn partition(&self) -> Option<&PartitionKey> {
        self.partition.as_ref()
    }

    /// The partition's time window, for a time-partitioned asset.
    pub fn window(&self) -> Option<&TimeWindow> {
        self.partition.as_ref().and_then(PartitionKey::window)
    }

    /// The window's first instant (time partitions).
    pub fn window_start(&self) -> Option<DateTime<Utc>> {
        self.window().map(TimeWindow::start)
    }

    /// The first instant after the window (time partitions).
    pub fn window_end(&self) -> Option<DateTime<Utc>> {
        self.window().map(TimeWindow::end)
    }

    /// The static key, for an asset partitioned by `static_keys`.
    pub fn static_key(&self) -> Option<&str> {
        self.partition.as_ref().and_then(PartitionKey::static_value)
    }

    /// The local date the partition's window starts on; for an unpartitioned or
    /// statically partitioned asset, the UTC date the run started.
    pub fn partition_date(&self) -> NaiveDate {
        self.partition
            .as_ref()
            .and_then(PartitionKey::date)
            .unwrap_or_else(|| self.started_at.date_naive())
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
mod tests;
