//! Sources an ingestion function reads from: [`files`] (CSV, NDJSON and Parquet, one file
//! or a glob, paths templated by the partition).

pub mod files;
pub mod postgres;
