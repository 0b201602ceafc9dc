//! Sources an ingestion function reads from: [`files`] (CSV, NDJSON and Parquet, one file
//! or a glob, paths templated by the partition), [`postgres`] (a query or a table) and
//! [`rest`] (a REST API's paginated JSON).

pub mod files;
pub mod postgres;
pub mod rest;
