//! Turning a user function into something the runtime can call.

use std::future::Future;
use std::pin::Pin;

use arrow::record_batch::RecordBatch;
use phlo_core::partition::PartitionContext;
use phlo_core::schema::IntoBatches;

use crate::Error;
use crate::error::BoxError;

/// What an adapted ingestion function returns: its batches, or its own error, boxed.
pub type FetchResult = std::result::Result<Vec<RecordBatch>, BoxError>;

/// The future an adapted ingestion function returns.
pub type FetchFuture = Pin<Box<dyn Future<Output = FetchResult> + Send + 'static>>;

/// An adapted ingestion function.
pub type FetchFn = fn(PartitionContext) -> FetchFuture;

/// What an ingestion function may return: `Result<T, E>` where `T` is one batch, several,
/// or typed rows, and `E` is any error (`phlo::Error`, `std::io::Error`, an error type of
/// the user's own, …): it is kept as the function's error, boxed, in [`Error::Asset`].
#[diagnostic::on_unimplemented(
    message = "an ingestion function cannot return `{Self}`",
    note = "return `phlo::Result<RecordBatch>`, `phlo::Result<Vec<RecordBatch>>` or `phlo::Result<Vec<T>>` where `T` derives `Schema`"
)]
pub trait FetchOutput {
    /// The batches, in arrival order.
    fn into_fetch(self) -> FetchResult;
}

impl<T: IntoBatches, E: Into<BoxError>> FetchOutput for std::result::Result<T, E> {
    fn into_fetch(self) -> FetchResult {
        self.map_err(Into::into)?
            .into_batches()
            .map_err(|e| Box::new(Error::from(e)) as BoxError)
    }
}

/// Adapts the future of an `async fn` ingestion function.
pub fn fetch_async<F, R>(fut: F) -> FetchFuture
where
    F: Future<Output = R> + Send + 'static,
    R: FetchOutput,
{
    Box::pin(async move { fut.await.into_fetch() })
}

/// Adapts a synchronous ingestion function: it runs on tokio's blocking pool, so a slow
/// function does not stall other work and the run's timeout still applies.
pub fn fetch_sync<F, R>(ctx: PartitionContext, f: F) -> FetchFuture
where
    F: FnOnce(&PartitionContext) -> R + Send + 'static,
    R: FetchOutput + Send + 'static,
{
    let asset = ctx.asset().to_string();
    Box::pin(async move {
        match tokio::task::spawn_blocking(move || f(&ctx).into_fetch()).await {
            Ok(result) => result,
            Err(join) => Err(Box::new(Error::Panicked {
                asset,
                message: panic_message(join),
            }) as BoxError),
        }
    })
}

/// The message of a panicked task.
pub fn panic_message(join: tokio::task::JoinError) -> String {
    if !join.is_panic() {
        return "task was cancelled".into();
    }
    let payload = join.into_panic();
    payload
        .downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "non-string panic payload".into())
}
