//! Runs checks and turns evaluations into results.

use std::time::Instant;

use crate::error::storage_fault;
use crate::{Check, CheckResult, CheckScope, Error, QualityReport, Result, Severity};

/// Runs `checks` over `scope`, in order. A check that cannot be evaluated (a missing column,
/// a bad query) becomes a failed result with the reason in `message`; the others still run.
/// Names are made unique: a repeated name gets `#2`, `#3`, … appended.
///
/// A check that fails because the table cannot be read (a missing or corrupt data file)
/// stops the run with [`Error::Storage`]: that is a fault of the run, not of the data.
pub async fn run_checks(checks: &[Box<dyn Check>], scope: &CheckScope) -> Result<QualityReport> {
    let mut results: Vec<CheckResult> = Vec::with_capacity(checks.len());
    for check in checks {
        let started = Instant::now();
        let base = check.name();
        let name = unique_name(&base, &results);
        let threshold = check.threshold();
        let severity = check.severity();
        let result = match check.evaluate(scope).await {
            Ok(e) => {
                let fraction = if e.total_count == 0 {
                    0.0
                } else {
                    e.failed_count as f64 / e.total_count as f64
                };
                CheckResult {
                    name,
                    passed: e.passed_override.unwrap_or(fraction <= threshold),
                    severity,
                    failed_count: e.failed_count,
                    total_count: e.total_count,
                    failure_fraction: fraction,
                    threshold,
                    samples: e.samples,
                    repro_sql: e.repro_sql,
                    message: e.message,
                    elapsed_ms: started.elapsed().as_secs_f64() * 1000.0,
                }
            }
            Err(Error::Query(e)) if storage_fault(&e).is_some() => {
                return Err(Error::Storage {
                    table: scope.table().to_string(),
                    reason: storage_fault(&e).unwrap_or_default(),
                });
            }
            Err(err @ Error::Storage { .. }) => return Err(err),
            Err(err) => CheckResult {
                name,
                passed: false,
                severity,
                failed_count: 0,
                total_count: 0,
                failure_fraction: 0.0,
                threshold,
                samples: Vec::new(),
                repro_sql: String::new(),
                message: Some(err.to_string()),
                elapsed_ms: started.elapsed().as_secs_f64() * 1000.0,
            },
        };
        results.push(result);
    }
    Ok(QualityReport {
        table: scope.table().to_string(),
        partition: scope.partition().map(ToString::to_string),
        results,
    })
}

fn unique_name(base: &str, existing: &[CheckResult]) -> String {
    if !existing.iter().any(|r| r.name == base) {
        return base.to_string();
    }
    (2..)
        .map(|n| format!("{base}#{n}"))
        .find(|candidate| !existing.iter().any(|r| &r.name == candidate))
        .unwrap_or_else(|| base.to_string())
}

impl QualityReport {
    /// Failed results with severity `error`.
    pub fn blocking_failures(&self) -> impl Iterator<Item = &CheckResult> {
        self.results
            .iter()
            .filter(|r| !r.passed && r.severity == Severity::Error)
    }
}
