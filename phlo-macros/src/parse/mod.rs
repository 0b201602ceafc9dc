//! Parse phase: attributes and items into the typed [`model`](crate::model).
//!
//! Every key goes through [`keys::accept`] (known, given once, right shape), then a reader of
//! [`value`] turns its value into a model value. Errors are recorded in the
//! [`Ctxt`](crate::ctxt::Ctxt) and reading continues, so one pass reports every mistake.

mod ingestion;
mod keys;
mod schema;
mod value;

pub(crate) use ingestion::{args as ingestion_args, function as ingestion_fn};
pub(crate) use schema::schema;
