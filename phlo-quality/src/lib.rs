//! # phlo-quality
//!
//! Data-quality checks run through DataFusion over the scoped table (SEMANTICS §5).
//! This crate holds the result vocabulary the runtime records; the built-in checks and the
//! audit-before-publish step build on it.

pub mod result;

pub use result::{CheckResult, QualityReport, Severity};
