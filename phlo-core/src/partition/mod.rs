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

/// Incremental cursors of an asset: the last value a source read up to, per resource,
/// kept by the runtime between runs. A value staged with [`Cursors::advance`] is kept
/// only when the run that staged it succeeds, i.e. when its commit has landed.
#[async_trait::async_trait]
pub trait Cursors: Send + Sync + std::fmt::Debug {
    /// The last kept value of `resource`, `None` before the first successful run.
    async fn last(&self, resource: &str) -> crate::Result<Option<String>>;
    /// Stages `value` as `resource`'s new cursor.
    fn advance(&self, resource: &str, value: String);
}

/// What a user function knows about the run it is part of.
#[derive(Debug, Clone)]
pub struct PartitionContext {
    asset: String,
    partition: Option<PartitionKey>,
    run_id: String,
    attempt: u32,
    started_at: DateTime<Utc>,
    cursors: Option<std::sync::Arc<dyn Cursors>>,
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
            cursors: None,
        }
    }

    /// The context with incremental cursors (the runtime attaches its own).
    pub fn with_cursors(mut self, cursors: std::sync::Arc<dyn Cursors>) -> Self {
        self.cursors = Some(cursors);
        self
    }

    /// The last kept value of cursor `resource` (`None` before the first successful run,
    /// or when the context has no cursors, as one made by hand in a unit test).
    pub async fn cursor(&self, resource: &str) -> crate::Result<Option<String>> {
        match &self.cursors {
            Some(c) => c.last(resource).await,
            None => Ok(None),
        }
    }

    /// Stages `value` as cursor `resource`'s new value: kept when this run succeeds.
    pub fn advance_cursor(&self, resource: &str, value: impl Into<String>) {
        if let Some(c) = &self.cursors {
            c.advance(resource, value.into());
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
