//! End-to-end tests: real merges into real Delta tables in temporary warehouses.

mod smoke;
mod support;
