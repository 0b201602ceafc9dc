//! End-to-end tests: real merges into real Delta tables in temporary warehouses, written
//! the way a user crate would test its assets.

mod audit;
mod backfill;
mod bad_input;
mod cli;
mod deadlines;
mod dedup;
mod files;
mod lenient;
mod misc;
mod partitions;
mod postgres;
mod registry;
mod rest;
mod retries;
mod rust_transforms;
mod schedule;
mod storage;
mod strategies;
mod support;
mod tracing;
mod transforms;
