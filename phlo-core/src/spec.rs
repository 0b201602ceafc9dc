//! What `#[ingestion(...)]` declares: typed options, parsed once by the macro.

use serde::{Deserialize, Serialize};

/// How the load is written into the table (SEMANTICS §4 step 6).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MergeStrategy {
    /// Upsert by key over the whole table; unchanged rows are not rewritten.
    Merge,
    /// Insert every row.
    Append,
    /// Delete the partition's rows and insert the load, in one commit.
    ReplacePartition,
}

/// How duplicate keys within one load are resolved (SEMANTICS §4 step 5).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Dedup {
    /// Keep the row with the greatest `order_by`; ties go to the later arrival.
    Last,
    /// Keep the row with the smallest `order_by`; ties go to the earlier arrival.
    First,
    /// Drop exact repeats of a key's row, then apply `Last`.
    Hash,
    /// No deduplication; duplicate keys are an error unless appending.
    None,
}

impl MergeStrategy {
    /// The deduplication used when none is declared.
    pub fn default_dedup(self) -> Dedup {
        match self {
            MergeStrategy::Merge | MergeStrategy::ReplacePartition => Dedup::Last,
            MergeStrategy::Append => Dedup::None,
        }
    }
}

/// Where an asset was defined, for error messages naming both sides of a conflict.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Location {
    /// Source file.
    pub file: &'static str,
    /// Line.
    pub line: u32,
    /// Column.
    pub column: u32,
    /// Module path.
    pub module: &'static str,
}

impl std::fmt::Display for Location {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{}:{}:{} ({})",
            self.file, self.line, self.column, self.module
        )
    }
}

/// The options of one ingestion asset.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct IngestionSpec {
    /// Target table, `name` (namespace `bronze`) or `ns.name`.
    pub table: &'static str,
    /// Key columns (one or several).
    pub unique_key: &'static [&'static str],
    /// Asset group, for listing.
    pub group: Option<&'static str>,
    /// Schedule (5-field cron), for orchestration.
    pub cron: Option<&'static str>,
    /// Freshness thresholds `(warn, error)` in hours.
    pub freshness_hours: Option<(f64, f64)>,
    /// How the load is written.
    pub merge_strategy: MergeStrategy,
    /// Declared deduplication; `None` means the strategy's default.
    pub dedup: Option<Dedup>,
    /// Column ordering duplicates for `first`/`last`.
    pub order_by: Option<&'static str>,
    /// Retries of transient failures.
    pub max_retries: u32,
    /// Base delay of the exponential backoff, in seconds.
    pub retry_delay_seconds: f64,
    /// Bound on the whole run, in seconds.
    pub max_runtime_seconds: f64,
    /// Whether schema constraints are validated.
    pub validate: bool,
    /// Whether any validation failure fails the run (else: quarantine).
    pub strict_validation: bool,
    /// Whether the `_phlo_*` columns are added.
    pub add_metadata_columns: bool,
    /// How the asset is partitioned (daily in UTC by default).
    pub partitions: PartitionsSpec,
}

impl IngestionSpec {
    /// The defaults of SEMANTICS.md; the macro fills in what the user set.
    pub const DEFAULT: IngestionSpec = IngestionSpec {
        table: "",
        unique_key: &[],
        group: None,
        cron: None,
        freshness_hours: None,
        merge_strategy: MergeStrategy::Merge,
        dedup: None,
        order_by: None,
        max_retries: 3,
        retry_delay_seconds: 30.0,
        max_runtime_seconds: 300.0,
        validate: true,
        strict_validation: true,
        add_metadata_columns: true,
        partitions: PartitionsSpec::DAILY,
    };

    /// Whether the asset is partitioned at all.
    pub fn partitioned(&self) -> bool {
        !matches!(self.partitions, PartitionsSpec::None)
    }

    /// The deduplication in force.
    pub fn effective_dedup(&self) -> Dedup {
        self.dedup
            .unwrap_or_else(|| self.merge_strategy.default_dedup())
    }
}

/// The length of a time partition's window.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Cadence {
    /// One hour of local time (`YYYY-MM-DDTHH`).
    Hourly,
    /// One local day, midnight to midnight (`YYYY-MM-DD`).
    Daily,
    /// One local calendar month (`YYYY-MM`).
    Monthly,
}

impl Cadence {
    /// The name used in attributes and listings: `hourly`, `daily`, `monthly`.
    pub fn name(self) -> &'static str {
        match self {
            Cadence::Hourly => "hourly",
            Cadence::Daily => "daily",
            Cadence::Monthly => "monthly",
        }
    }
}

/// How an asset is partitioned, as declared (`partitions = hourly(start = "…", tz = "…")`,
/// `static_keys = [...]`, `partitioned = false`). Plain `'static` data so it can live in a
/// registered descriptor; [`crate::partition::PartitionsDef::resolve`] validates it (time
/// zone, bounds) into the definition the runtime works with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PartitionsSpec {
    /// Not partitioned: one run covers the whole table.
    None,
    /// Time windows of one cadence in a time zone.
    Time {
        /// Window length.
        cadence: Cadence,
        /// First partition (a key of the cadence, or a date); `None`: unbounded.
        start: Option<&'static str>,
        /// Partitions starting at or after this are out of range; `None`: unbounded.
        end: Option<&'static str>,
        /// IANA time zone name, `"UTC"` by default.
        timezone: &'static str,
        /// Windows added to the last complete one to give the latest partition
        /// (Dagster's `end_offset`; 0 = the last complete window, 1 = the one in progress).
        end_offset: i32,
    },
    /// A fixed list of keys (`static_keys = ["eu", "us"]`), in declaration order.
    Static {
        /// The keys.
        keys: &'static [&'static str],
    },
}

impl PartitionsSpec {
    /// The default: daily windows in UTC, unbounded, latest = the last complete day.
    pub const DAILY: PartitionsSpec = PartitionsSpec::Time {
        cadence: Cadence::Daily,
        start: None,
        end: None,
        timezone: "UTC",
        end_offset: 0,
    };
}
