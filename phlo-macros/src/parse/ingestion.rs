//! `#[ingestion(...)]`: the attribute's keys and the function's signature (never its body).

use proc_macro2::TokenStream;
use quote::ToTokens;
use syn::meta::ParseNestedMeta;
use syn::parse::Parser;
use syn::{Expr, LitStr, Path};

use super::item::FnItem;
use super::keys::{self, Key, KeySet};
use super::{partitions, value};
use crate::ctxt::Ctxt;
use crate::model::{
    Dedup, Freshness, Ingestion, IngestionFn, IngestionOptions, MergeStrategy, Written,
};

#[derive(Clone, Copy)]
enum IngestionKey {
    Table,
    UniqueKey,
    Schema,
    Group,
    Cron,
    FreshnessHours,
    MergeStrategy,
    Dedup,
    OrderBy,
    MaxRetries,
    RetryDelaySeconds,
    MaxRuntimeSeconds,
    Validate,
    StrictValidation,
    AddMetadataColumns,
    Partitioned,
    Partitions,
    StaticKeys,
    Crate,
}

static INGESTION_KEYS: KeySet<IngestionKey> = KeySet {
    place: "in `#[ingestion(...)]`",
    keys: &[
        Key::value(IngestionKey::Table, "table", "table = \"events\""),
        Key::value(IngestionKey::UniqueKey, "unique_key", "unique_key = \"id\""),
        Key::value(IngestionKey::Schema, "schema", "schema = Event"),
        Key::value(IngestionKey::Group, "group", "group = \"api\""),
        Key::value(IngestionKey::Cron, "cron", "cron = \"0 * * * *\""),
        Key::value(
            IngestionKey::FreshnessHours,
            "freshness_hours",
            "freshness_hours = (24, 48)",
        ),
        Key::value(
            IngestionKey::MergeStrategy,
            "merge_strategy",
            "merge_strategy = \"merge\"",
        ),
        Key::value(IngestionKey::Dedup, "dedup", "dedup = \"last\""),
        Key::value(
            IngestionKey::OrderBy,
            "order_by",
            "order_by = \"updated_at\"",
        ),
        Key::value(IngestionKey::MaxRetries, "max_retries", "max_retries = 3"),
        Key::value(
            IngestionKey::RetryDelaySeconds,
            "retry_delay_seconds",
            "retry_delay_seconds = 5",
        ),
        Key::value(
            IngestionKey::MaxRuntimeSeconds,
            "max_runtime_seconds",
            "max_runtime_seconds = 600",
        ),
        Key::value(IngestionKey::Validate, "validate", "validate = true"),
        Key::value(
            IngestionKey::StrictValidation,
            "strict_validation",
            "strict_validation = true",
        ),
        Key::value(
            IngestionKey::AddMetadataColumns,
            "add_metadata_columns",
            "add_metadata_columns = true",
        ),
        Key::value(
            IngestionKey::Partitioned,
            "partitioned",
            "partitioned = false",
        ),
        Key::value(
            IngestionKey::Partitions,
            "partitions",
            "partitions = hourly(tz = \"Europe/London\")",
        ),
        Key::value(
            IngestionKey::StaticKeys,
            "static_keys",
            "static_keys = [\"eu\", \"us\"]",
        ),
        Key::value(IngestionKey::Crate, "crate", "crate = \"::phlo\""),
    ],
    elsewhere: None,
};

const MERGE_STRATEGIES: &[(&str, MergeStrategy)] = &[
    ("merge", MergeStrategy::Merge),
    ("append", MergeStrategy::Append),
    ("replace_partition", MergeStrategy::ReplacePartition),
];

const DEDUPS: &[(&str, Dedup)] = &[
    ("last", Dedup::Last),
    ("first", Dedup::First),
    ("hash", Dedup::Hash),
    ("none", Dedup::None),
];

/// The keys read so far; `table` and `schema` become required when the model is built.
#[derive(Default)]
struct Args {
    krate: Option<Path>,
    table: Option<LitStr>,
    schema: Option<Path>,
    options: IngestionOptions,
}

/// Reads `#[ingestion(...)]`'s arguments. The model is built only when every key was read
/// cleanly, so that validation never reports a consequence of a parse error.
pub(crate) fn args(cx: &Ctxt, tokens: TokenStream) -> Option<Ingestion> {
    let local = Ctxt::new();
    let args = read_args(&local, &tokens);
    local.check().map_err(|errors| cx.syn_error(errors)).ok()?;
    let args = args?;
    Some(Ingestion {
        krate: args.krate.unwrap_or_else(crate::model::default_crate_path),
        table: args.table?,
        schema: args.schema?,
        options: args.options,
        args: tokens,
    })
}

fn read_args(cx: &Ctxt, tokens: &TokenStream) -> Option<Args> {
    let mut args = Args::default();
    let mut seen = Vec::new();
    let parser = syn::meta::parser(|meta| {
        if let Some(key) = keys::accept(cx, &meta, &INGESTION_KEYS, &mut seen)? {
            read_key(cx, &meta, key, &mut args)?;
        }
        Ok(())
    });
    // When the list could not be read to its end, later keys are unknown: don't call them missing.
    cx.ok(parser.parse2(tokens.clone()))?;
    if args.table.is_none() && !seen.contains(&"table") {
        let message = "`#[ingestion]` needs a `table`: add `table = \"events\"` or `table = \"namespace.events\"`";
        cx.error_spanned_by(tokens, message);
    }
    if args.schema.is_none() && !seen.contains(&"schema") {
        let message = "`#[ingestion]` needs a `schema`: add `schema = Event`, naming a struct that derives `Schema`";
        cx.error_spanned_by(tokens, message);
    }
    Some(args)
}

/// Reads the value of one accepted key; a bad value is recorded in `cx`, `Err` is kept for
/// tokens that cannot be read at all.
fn read_key(
    cx: &Ctxt,
    meta: &ParseNestedMeta,
    key: &Key<IngestionKey>,
    args: &mut Args,
) -> syn::Result<()> {
    let expr = || -> syn::Result<Expr> { meta.value()?.parse() };
    let options = &mut args.options;
    match key.id {
        IngestionKey::Table => args.table = cx.ok(value::string(&expr()?, key)),
        IngestionKey::Schema => args.schema = cx.ok(value::type_path(meta.value()?, key)?),
        IngestionKey::Crate => args.krate = cx.ok(value::path_in_string(&expr()?, key)),
        IngestionKey::UniqueKey => {
            options.unique_key = cx.ok(value::strings(&expr()?, key)).unwrap_or_default();
        }
        IngestionKey::Group => options.group = cx.ok(value::string(&expr()?, key)),
        IngestionKey::Cron => options.cron = cx.ok(value::string(&expr()?, key)),
        IngestionKey::FreshnessHours => options.freshness_hours = cx.ok(freshness(&expr()?, key)),
        IngestionKey::MergeStrategy => {
            options.merge_strategy = cx.ok(value::choice(&expr()?, key, MERGE_STRATEGIES));
        }
        IngestionKey::Dedup => options.dedup = cx.ok(value::choice(&expr()?, key, DEDUPS)),
        IngestionKey::OrderBy => options.order_by = cx.ok(value::string(&expr()?, key)),
        IngestionKey::MaxRetries => options.max_retries = cx.ok(value::whole(&expr()?, key)),
        IngestionKey::RetryDelaySeconds => {
            options.retry_delay_seconds = cx.ok(value::measure(&expr()?, key));
        }
        IngestionKey::MaxRuntimeSeconds => {
            options.max_runtime_seconds = cx.ok(value::measure(&expr()?, key));
        }
        IngestionKey::Validate => options.validate = cx.ok(value::boolean(&expr()?, key)),
        IngestionKey::StrictValidation => {
            options.strict_validation = cx.ok(value::boolean(&expr()?, key));
        }
        IngestionKey::AddMetadataColumns => {
            options.add_metadata_columns = cx.ok(value::boolean(&expr()?, key));
        }
        IngestionKey::Partitioned => {
            let expr = expr()?;
            options.partitioned = cx.ok(value::boolean(&expr, key)).map(|value| Written {
                value,
                origin: partitions::written_key(&meta.path, &expr),
            });
        }
        IngestionKey::Partitions => {
            options.partitions = partitions::partitions(cx, meta.value()?, key)?;
        }
        IngestionKey::StaticKeys => {
            options.static_keys = cx.ok(partitions::static_keys(&meta.path, &expr()?, key));
        }
    }
    Ok(())
}

fn freshness(expr: &Expr, key: &Key<IngestionKey>) -> syn::Result<Freshness> {
    let (warn, error) = value::pair(expr, key)?;
    Ok(Freshness {
        warn,
        error,
        origin: expr.to_token_stream(),
    })
}

/// Reads the item under `#[ingestion]`; anything but a function is recorded as an error.
pub(crate) fn function(cx: &Ctxt, item: &TokenStream) -> Option<IngestionFn> {
    match syn::parse2::<FnItem>(item.clone()) {
        Ok(FnItem { attrs, sig, .. }) => Some(IngestionFn { attrs, sig }),
        Err(_) => {
            let message = "`#[ingestion]` goes on a function: \
                           `async fn name(ctx: &PartitionContext) -> phlo::Result<Vec<RecordBatch>> { … }`";
            cx.error_spanned_by(item, message);
            None
        }
    }
}

#[cfg(test)]
mod tests;
