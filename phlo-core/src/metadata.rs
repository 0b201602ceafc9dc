//! Names of the `_phlo_*` metadata columns (SEMANTICS §3).

/// The partition's day (`Date32`; the month's first day for monthly partitions, the hour's
/// local day for hourly ones, null when unpartitioned); the physical partition column of
/// every time-partitioned table.
pub const PARTITION_DATE: &str = "_phlo_partition_date";
/// An hourly partition's window start (`Timestamp(µs, UTC)`).
pub const PARTITION_HOUR: &str = "_phlo_partition_hour";
/// A static partition's key (`Utf8`), also the physical partition column.
pub const PARTITION_KEY: &str = "_phlo_partition_key";
/// One instant per run (`Timestamp(µs, UTC)`), from the injected clock.
pub const INGESTED_AT: &str = "_phlo_ingested_at";
/// The run's id (`Utf8`).
pub const RUN_ID: &str = "_phlo_run_id";
/// A 128-bit hash of the row's user columns, 32 lowercase hex characters.
pub const ROW_HASH: &str = "_phlo_row_hash";
/// In quarantine tables: the names of the checks a row failed (`List<Utf8>`).
pub const FAILED_CHECKS: &str = "_phlo_failed_checks";
/// Prefix reserved for phlo's columns; user columns may not start with it.
pub const PREFIX: &str = "_phlo_";

/// Whether `name` is a phlo metadata column.
pub fn is_metadata(name: &str) -> bool {
    name.starts_with(PREFIX)
}
