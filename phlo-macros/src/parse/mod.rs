//! Parse phase: attributes and items into the typed [`model`](crate::model).
//!
//! Every key goes through [`keys::accept`] (known, given once, right shape), then a reader of
//! [`value`] turns its value into a model value. Errors are recorded in the
//! [`Ctxt`](crate::ctxt::Ctxt) and reading continues, so one pass reports every mistake.

mod dbt;
mod ingestion;
mod item;
mod keys;
mod partitions;
mod quality;
mod schema;
mod value;

pub(crate) use dbt::{args as dbt_args, manifest_dir, path_literal, read as read_dbt_file};
pub(crate) use ingestion::{
    args as ingestion_args, function as ingestion_fn, transform_args, transform_function,
};
pub(crate) use quality::{
    args as quality_args, function as quality_fn, written_checks as quality_written_checks,
};
pub(crate) use schema::schema;
