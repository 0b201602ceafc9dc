//! Rust transforms: a `#[transform]` function whose parameters after the context name its
//! upstream assets. phlo hands each one that upstream's table, scoped to the partitions the
//! run's partition maps to and without phlo's metadata columns, as a DataFusion
//! [`DataFrame`]; what the function returns is the asset's result, written as a model's is.

use std::future::Future;
use std::pin::Pin;

use datafusion::dataframe::DataFrame;
use phlo_core::partition::PartitionContext;
use phlo_core::schema::{IntoRows, Rows, SchemaDef};
use phlo_core::spec::{IngestionSpec, Location};

use crate::Error;
use crate::error::BoxError;
use crate::transform::Materialized;

/// What an adapted transform returns: its rows, or its own error, boxed.
pub type TransformResult = std::result::Result<Rows, BoxError>;

/// The future an adapted transform returns.
pub type TransformFuture = Pin<Box<dyn Future<Output = TransformResult> + Send + 'static>>;

/// An adapted transform: the context and one `DataFrame` per input, in declaration order.
pub type TransformFn = fn(PartitionContext, Vec<DataFrame>) -> TransformFuture;

/// One parameter of a transform: the upstream asset it names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TransformInput {
    /// The upstream asset (the parameter's name).
    pub asset: &'static str,
    /// Its partition mapping as written (`#[phlo(mapping = "offset(-1)")]`); `None`: the
    /// default for the two partitions definitions.
    pub mapping: Option<&'static str>,
}

/// One Rust transform, as `#[transform]` registers it.
#[derive(Debug, Clone, Copy)]
pub struct TransformDescriptor {
    /// The asset's name (the function's name).
    pub name: &'static str,
    /// Its options: table, key, partitions, group, schedule, freshness, validation. The
    /// write strategy follows from `materialized`.
    pub spec: IngestionSpec,
    /// `materialized = "…"` when written; `None`: `incremental` with a `unique_key`, else
    /// `replace_partition` when partitioned, else `table`.
    pub materialized: Option<Materialized>,
    /// The declared contract (`schema = T`); `None`: the result's columns.
    pub schema: Option<&'static SchemaDef>,
    /// The upstream assets, in parameter order.
    pub inputs: &'static [TransformInput],
    /// Tags (selection `tag:`).
    pub tags: &'static [&'static str],
    /// The adapted function.
    pub run: TransformFn,
    /// Where it is defined.
    pub location: Location,
}

inventory::collect!(TransformDescriptor);

/// What a transform function may return: `Result<T, E>` where `T` is a `DataFrame`, a
/// batch, several, or typed rows, and `E` is any error.
#[diagnostic::on_unimplemented(
    message = "a transform function cannot return `{Self}`",
    note = "return `phlo::Result<DataFrame>`, `phlo::Result<RecordBatch>`, `phlo::Result<Vec<RecordBatch>>` or `phlo::Result<Vec<T>>` where `T` derives `Schema`"
)]
pub trait TransformOutput {
    /// The rows.
    fn into_transform(self) -> TransformResult;
}

impl<T: IntoRows, E: Into<BoxError>> TransformOutput for std::result::Result<T, E> {
    fn into_transform(self) -> TransformResult {
        self.map_err(Into::into)?
            .into_rows()
            .map_err(|e| Box::new(Error::from(e)) as BoxError)
    }
}

/// The inputs of a transform with `N` parameters after the context, in order.
pub fn transform_inputs<const N: usize>(
    ctx: &PartitionContext,
    inputs: Vec<DataFrame>,
) -> std::result::Result<[DataFrame; N], BoxError> {
    let given = inputs.len();
    <[DataFrame; N]>::try_from(inputs).map_err(|_| {
        Box::new(phlo_core::Error::internal(format!(
            "transform `{}` takes {N} inputs, and was given {given}",
            ctx.asset()
        ))) as BoxError
    })
}

/// A transform that failed before its function was called.
pub fn transform_failed(error: BoxError) -> TransformFuture {
    Box::pin(async move { Err(error) })
}

/// Adapts the future of an `async fn` transform.
pub fn transform_async<F, R>(fut: F) -> TransformFuture
where
    F: Future<Output = R> + Send + 'static,
    R: TransformOutput,
{
    Box::pin(async move { fut.await.into_transform() })
}

/// Adapts a synchronous transform: it runs on tokio's blocking pool.
pub fn transform_sync<F, R>(ctx: PartitionContext, f: F) -> TransformFuture
where
    F: FnOnce(&PartitionContext) -> R + Send + 'static,
    R: TransformOutput + Send + 'static,
{
    let asset = ctx.asset().to_string();
    Box::pin(async move {
        match tokio::task::spawn_blocking(move || f(&ctx).into_transform()).await {
            Ok(result) => result,
            Err(join) => Err(Box::new(Error::Panicked {
                asset,
                message: crate::fetch::panic_message(join),
            }) as BoxError),
        }
    })
}

/// The write strategy of a materialization, and whether it is allowed with these partitions
/// and key (the message says how to fix it when not).
pub(crate) fn strategy(
    materialized: Materialized,
    partitioned: bool,
    keyed: bool,
) -> std::result::Result<phlo_core::spec::MergeStrategy, String> {
    use phlo_core::spec::MergeStrategy;
    match materialized {
        Materialized::Table if partitioned => Err(
            "`materialized = \"table\"` rebuilds the whole table, so it takes no partitions; use \"incremental\" or \"replace_partition\" for a partitioned transform".into(),
        ),
        Materialized::ReplacePartition if !partitioned => Err(
            "`materialized = \"replace_partition\"` needs partitions (`partitions = daily`, hourly, monthly or `static_keys`)".into(),
        ),
        Materialized::Incremental if !keyed => Err(
            "`materialized = \"incremental\"` merges by key: add `unique_key = \"<column>\"`".into(),
        ),
        Materialized::Microbatch => Err(
            "`materialized = \"microbatch\"` is for SQL models (their upstreams are filtered by event time): use \"replace_partition\" for a partitioned transform".into(),
        ),
        Materialized::View => Err(
            "a Rust transform is stored: use \"table\", \"incremental\" or \"replace_partition\"".into(),
        ),
        Materialized::Table | Materialized::ReplacePartition => Ok(MergeStrategy::ReplacePartition),
        Materialized::Incremental => Ok(MergeStrategy::Merge),
    }
}

/// The materialization a transform gets when it writes none.
pub(crate) fn default_materialized(partitioned: bool, keyed: bool) -> Materialized {
    match (keyed, partitioned) {
        (true, _) => Materialized::Incremental,
        (false, true) => Materialized::ReplacePartition,
        (false, false) => Materialized::Table,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use phlo_core::spec::MergeStrategy;

    #[test]
    fn defaults_follow_key_and_partitions() {
        assert_eq!(default_materialized(false, true), Materialized::Incremental);
        assert_eq!(default_materialized(true, true), Materialized::Incremental);
        assert_eq!(
            default_materialized(true, false),
            Materialized::ReplacePartition
        );
        assert_eq!(default_materialized(false, false), Materialized::Table);
    }

    #[test]
    fn strategies_and_their_rules() {
        assert_eq!(
            strategy(Materialized::Table, false, false),
            Ok(MergeStrategy::ReplacePartition)
        );
        assert_eq!(
            strategy(Materialized::Incremental, true, true),
            Ok(MergeStrategy::Merge)
        );
        assert_eq!(
            strategy(Materialized::ReplacePartition, true, false),
            Ok(MergeStrategy::ReplacePartition)
        );
        let table = strategy(Materialized::Table, true, false).unwrap_err();
        assert!(table.contains("takes no partitions"), "{table}");
        let replace = strategy(Materialized::ReplacePartition, false, true).unwrap_err();
        assert!(replace.contains("needs partitions"), "{replace}");
        let incremental = strategy(Materialized::Incremental, false, false).unwrap_err();
        assert!(incremental.contains("unique_key"), "{incremental}");
        assert!(strategy(Materialized::View, false, false).is_err());
    }

    #[test]
    fn inputs_are_taken_in_order_and_counted() {
        let ctx = PartitionContext::new(
            "t",
            None,
            "run",
            1,
            chrono::DateTime::<chrono::Utc>::UNIX_EPOCH,
        );
        let s = datafusion::prelude::SessionContext::new();
        let frames = vec![s.read_empty().unwrap(), s.read_empty().unwrap()];
        assert!(transform_inputs::<2>(&ctx, frames.clone()).is_ok());
        let wrong = transform_inputs::<1>(&ctx, frames).unwrap_err();
        assert!(
            wrong
                .to_string()
                .contains("takes 1 inputs, and was given 2")
        );
    }
}
