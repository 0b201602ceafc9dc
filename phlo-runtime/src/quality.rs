//! Data-quality checks: `#[quality]` assets, the built-in checks and their results
//! (re-exported by the facade as `phlo::quality`, where the guide's examples live).

use std::future::Future;
use std::pin::Pin;

pub use phlo_quality::checks::*;
pub use phlo_quality::{
    Check, CheckResult, CheckScope, Evaluation, QualityReport, ScopeWindow, Severity, run_checks,
};

use crate::{Error, Result};

/// The future an adapted custom check function returns.
pub type CheckFuture = Pin<Box<dyn Future<Output = Result<CheckOutcome>> + Send + 'static>>;

/// An adapted custom check function.
pub type CustomCheckFn = fn(CheckScope) -> CheckFuture;

/// A check made of a user function over the scope (`#[quality]` on a function with a body).
#[derive(Debug, Clone, Copy)]
pub struct FnCheck {
    name: &'static str,
    f: CustomCheckFn,
}

impl FnCheck {
    /// A check named `name` calling `f`.
    pub fn new(name: &'static str, f: CustomCheckFn) -> Self {
        FnCheck { name, f }
    }
}

#[async_trait::async_trait]
impl Check for FnCheck {
    fn name(&self) -> String {
        self.name.to_string()
    }
    fn severity(&self) -> Severity {
        Severity::Error
    }
    fn threshold(&self) -> f64 {
        0.0
    }
    async fn evaluate(&self, scope: &CheckScope) -> phlo_quality::Result<Evaluation> {
        let outcome = tokio::spawn((self.f)(scope.clone()))
            .await
            .map_err(|e| phlo_quality::Error::Custom(crate::fetch::panic_message(e)))?
            .map_err(|e| phlo_quality::Error::Custom(e.to_string()))?;
        Ok(outcome.into())
    }
}

/// Adapts the future of an `async fn` custom check.
pub fn check_async<F>(fut: F) -> CheckFuture
where
    F: Future<Output = Result<CheckOutcome>> + Send + 'static,
{
    Box::pin(fut)
}

/// Adapts a synchronous custom check (it runs on the blocking pool).
pub fn check_sync<F>(scope: CheckScope, f: F) -> CheckFuture
where
    F: FnOnce(&CheckScope) -> Result<CheckOutcome> + Send + 'static,
{
    Box::pin(async move {
        tokio::task::spawn_blocking(move || f(&scope))
            .await
            .map_err(|e| Error::Panicked {
                asset: "quality check".into(),
                message: crate::fetch::panic_message(e),
            })?
    })
}

/// Boxes a check expression of a `#[quality(checks = [...])]` list.
pub fn boxed_check<C: Check + 'static>(check: C) -> Box<dyn Check> {
    Box::new(check)
}
