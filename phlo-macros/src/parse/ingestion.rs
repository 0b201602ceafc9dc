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
    Dedup, Freshness, Ingestion, IngestionFn, IngestionOptions, Materialized, MergeStrategy,
    Transform, TransformFn, TransformInput, Written,
};

/// Which attribute is being read: the two share their keys but `merge_strategy` (a
/// transform says `materialized`), and a transform's `schema` is optional.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Mode {
    Ingestion,
    Transform,
}

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
    Materialized,
    Tags,
}

/// The keys `#[ingestion]` and `#[transform]` share, in the order messages list them,
/// around the ones that differ (the write strategy's keys).
macro_rules! attribute_keys {
    ($table_example:literal; $($own:expr),* $(,)?) => {
        &[
            Key::value(IngestionKey::Table, "table", $table_example),
            Key::value(IngestionKey::UniqueKey, "unique_key", "unique_key = \"id\""),
            Key::value(IngestionKey::Schema, "schema", "schema = Event"),
            Key::value(IngestionKey::Group, "group", "group = \"api\""),
            Key::value(IngestionKey::Cron, "cron", "cron = \"0 * * * *\""),
            Key::value(
                IngestionKey::FreshnessHours,
                "freshness_hours",
                "freshness_hours = (24, 48)",
            ),
            $($own,)*
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
        ]
    };
}

static INGESTION_KEYS: KeySet<IngestionKey> = KeySet {
    place: "in `#[ingestion(...)]`",
    keys: attribute_keys!("table = \"events\"";
        Key::value(
            IngestionKey::MergeStrategy,
            "merge_strategy",
            "merge_strategy = \"merge\"",
        ),
    ),
    elsewhere: None,
};

static TRANSFORM_KEYS: KeySet<IngestionKey> = KeySet {
    place: "in `#[transform(...)]`",
    keys: attribute_keys!("table = \"silver.events\"";
        Key::value(
            IngestionKey::Materialized,
            "materialized",
            "materialized = \"incremental\"",
        ),
        Key::value(IngestionKey::Tags, "tags", "tags = [\"daily\"]"),
    ),
    elsewhere: None,
};

const MERGE_STRATEGIES: &[(&str, MergeStrategy)] = &[
    ("merge", MergeStrategy::Merge),
    ("append", MergeStrategy::Append),
    ("replace_partition", MergeStrategy::ReplacePartition),
];

const MATERIALIZED: &[(&str, Materialized)] = &[
    ("table", Materialized::Table),
    ("incremental", Materialized::Incremental),
    ("replace_partition", Materialized::ReplacePartition),
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
    let args = read_args(&local, &tokens, Mode::Ingestion);
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

/// Reads `#[transform(...)]`'s arguments, like [`args`].
pub(crate) fn transform_args(cx: &Ctxt, tokens: TokenStream) -> Option<Transform> {
    let local = Ctxt::new();
    let args = read_args(&local, &tokens, Mode::Transform);
    local.check().map_err(|errors| cx.syn_error(errors)).ok()?;
    let args = args?;
    Some(Transform {
        krate: args.krate.unwrap_or_else(crate::model::default_crate_path),
        table: args.table?,
        schema: args.schema,
        options: args.options,
    })
}

fn read_args(cx: &Ctxt, tokens: &TokenStream, mode: Mode) -> Option<Args> {
    let mut args = Args::default();
    let mut seen = Vec::new();
    let set = match mode {
        Mode::Ingestion => &INGESTION_KEYS,
        Mode::Transform => &TRANSFORM_KEYS,
    };
    let parser = syn::meta::parser(|meta| {
        if let Some(key) = keys::accept(cx, &meta, set, &mut seen)? {
            read_key(cx, &meta, key, &mut args)?;
        }
        Ok(())
    });
    // When the list could not be read to its end, later keys are unknown: don't call them missing.
    cx.ok(parser.parse2(tokens.clone()))?;
    if args.table.is_none() && !seen.contains(&"table") {
        let message = match mode {
            Mode::Ingestion => {
                "`#[ingestion]` needs a `table`: add `table = \"events\"` or `table = \"namespace.events\"`"
            }
            Mode::Transform => "`#[transform]` needs a `table`: add `table = \"silver.events\"`",
        };
        cx.error_spanned_by(tokens, message);
    }
    if mode == Mode::Ingestion && args.schema.is_none() && !seen.contains(&"schema") {
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
        IngestionKey::Materialized => {
            options.materialized = cx.ok(value::choice(&expr()?, key, MATERIALIZED));
        }
        IngestionKey::Tags => {
            options.tags = cx.ok(value::strings(&expr()?, key)).unwrap_or_default();
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

/// The keys of `#[phlo(...)]` on a transform's parameter.
#[derive(Clone, Copy)]
enum InputKey {
    Mapping,
}

static INPUT_KEYS: KeySet<InputKey> = KeySet {
    place: "on a transform's parameter",
    keys: &[Key::value(
        InputKey::Mapping,
        "mapping",
        "mapping = \"offset(-1)\"",
    )],
    elsewhere: None,
};

/// Reads the item under `#[transform]`: its signature, and each parameter after the first
/// as an upstream input, with its `#[phlo(mapping = "…")]` taken off (the function is
/// re-emitted without it).
pub(crate) fn transform_function(cx: &Ctxt, item: &TokenStream) -> Option<TransformFn> {
    let Ok(FnItem {
        attrs,
        vis,
        mut sig,
        body,
    }) = syn::parse2::<FnItem>(item.clone())
    else {
        let message = "`#[transform]` goes on a function: \
                       `async fn name(ctx: &PartitionContext, upstream: DataFrame) -> phlo::Result<DataFrame> { … }`";
        cx.error_spanned_by(item, message);
        return None;
    };
    let mut inputs = Vec::new();
    for arg in sig.inputs.iter_mut().skip(1) {
        let syn::FnArg::Typed(arg) = arg else {
            continue;
        };
        let mut mapping = None;
        let mut kept = Vec::new();
        for attr in std::mem::take(&mut arg.attrs) {
            if !attr.path().is_ident("phlo") {
                kept.push(attr);
                continue;
            }
            let mut seen = Vec::new();
            let parsed = attr.parse_nested_meta(|meta| {
                if let Some(key) = keys::accept(cx, &meta, &INPUT_KEYS, &mut seen)? {
                    match key.id {
                        InputKey::Mapping => {
                            let expr: Expr = meta.value()?.parse()?;
                            mapping = cx.ok(value::string(&expr, key));
                        }
                    }
                }
                Ok(())
            });
            cx.ok(parsed);
        }
        arg.attrs = kept;
        let ident = match &*arg.pat {
            syn::Pat::Ident(p) if p.by_ref.is_none() && p.subpat.is_none() => Some(p.ident.clone()),
            _ => None,
        };
        inputs.push(TransformInput {
            ident,
            origin: arg.to_token_stream(),
            ty: (*arg.ty).clone(),
            mapping,
        });
    }
    Some(TransformFn {
        attrs,
        vis,
        sig,
        body,
        inputs,
    })
}

#[cfg(test)]
mod tests;
