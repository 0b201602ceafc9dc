//! Procedural macros of [phlo](https://example.invalid/phlo): `#[derive(Schema)]` and
//! `#[ingestion(...)]`.
//!
//! Use them through the `phlo` crate (`use phlo::prelude::*;`), never directly: the generated
//! code names `::phlo::__private` items, as fixed by `docs/design/macro-contract.md`.
//!
//! Each macro runs the same phases: `parse` the attributes into a typed `model`, check the
//! rules in `validate`, then `expand` to tokens — or, on any error, emit the `fallback`:
//! every diagnostic at once (collected by `ctxt::Ctxt`) plus what keeps the crate compiling.

extern crate proc_macro;

mod cron;
mod ctxt;
mod expand;
mod fallback;
mod model;
mod parse;
mod validate;

#[cfg(test)]
mod test_support;

use proc_macro::TokenStream;
use syn::{DeriveInput, parse_macro_input};

use crate::ctxt::Ctxt;

/// Derives `phlo::Schema` for a struct with named fields: one column per field, in
/// declaration order, typed by the field's Rust type (`String`, `i32`, `i64`, `f32`, `f64`,
/// `bool`, `NaiveDate`, `DateTime<Utc>`, and `Option` of these for nullable columns).
///
/// ```text
/// #[derive(Schema)]
/// #[phlo(schema_policy = "drop_extra")]      // strict (default) | drop_extra | additive
/// struct Event {
///     #[phlo(unique)] id: String,
///     #[phlo(ge = 0.0, le = 100.0)] value: f64,
///     #[phlo(isin = ["a", "b"])] category: String,
///     #[phlo(regex = "^[a-z]+$", str_length(min = 1, max = 10))] code: String,
///     #[phlo(check = my_checks::positive)] score: Option<i64>,
///     note: Option<String>,
/// }
/// ```
///
/// Struct keys: `schema_policy`, and `crate = "path"` when phlo is renamed in `Cargo.toml`.
/// Field keys: `unique`; bounds `ge`, `gt`, `le`, `lt` (numeric fields); `isin = [..]` and
/// `notin = [..]` (literals of one type); `regex = ".."` and `str_length(min = .., max = ..)`
/// (`String` fields); `check = path::to_fn`, a `ColumnCheckFn`.
///
/// Mistakes are compile errors that point at the offending key: an unknown or repeated key,
/// a value of the wrong type, contradictory bounds, a constraint on a field of the wrong type,
/// an enum, a tuple struct or a generic struct.
#[proc_macro_derive(Schema, attributes(phlo))]
pub fn derive_schema(input: TokenStream) -> TokenStream {
    let input = parse_macro_input!(input as DeriveInput);
    let cx = Ctxt::new();
    let schema = parse::schema(&cx, &input);
    validate::schema(&cx, &schema);
    let tokens = match cx.check() {
        Ok(()) => expand::schema(&schema),
        Err(errors) => fallback::schema(&schema, &errors),
    };
    tokens.into()
}

/// Registers a function as an ingestion asset: phlo calls it once per partition and writes
/// the batches it returns to a Delta table, validated against `schema` and deduplicated by
/// `unique_key`.
///
/// ```text
/// #[ingestion(table = "bronze.events", unique_key = "id", schema = Event, cron = "0 * * * *")]
/// async fn events(ctx: &PartitionContext) -> phlo::Result<Vec<RecordBatch>> {
///     /* fetch the partition's rows into batches */
/// }
/// ```
///
/// Keys: `table` (required; `name` or `namespace.name`, each `[a-z_][a-z0-9_]*`), `schema`
/// (required; a struct deriving `Schema`), `unique_key` (a column or a list; required unless
/// `merge_strategy = "append"`), `merge_strategy` (`"merge"`, `"append"`,
/// `"replace_partition"`), `dedup` (`"last"`, `"first"`, `"hash"`, `"none"`), `order_by`,
/// `group`, `cron` (5 fields or `@daily`-style), `freshness_hours = (warn, error)`,
/// `max_retries`, `retry_delay_seconds`, `max_runtime_seconds`, `validate`,
/// `strict_validation`, `add_metadata_columns`, `partitioned`, and `crate = "path"` when phlo
/// is renamed.
///
/// The function may be `async` or not, takes exactly one `&PartitionContext` and is re-emitted
/// unchanged. Columns named by `unique_key` and `order_by` are checked against the schema at
/// compile time. Every mistake is a compile error pointing at the offending token; the
/// function is still emitted, so the rest of the crate keeps compiling.
#[proc_macro_attribute]
pub fn ingestion(args: TokenStream, item: TokenStream) -> TokenStream {
    let item = proc_macro2::TokenStream::from(item);
    let tokens = match expand_ingestion(args.into(), &item) {
        Ok(tokens) => tokens,
        Err(errors) => fallback::ingestion(item, &errors),
    };
    tokens.into()
}

fn expand_ingestion(
    args: proc_macro2::TokenStream,
    item: &proc_macro2::TokenStream,
) -> syn::Result<proc_macro2::TokenStream> {
    let cx = Ctxt::new();
    let ingestion = parse::ingestion_args(&cx, args);
    let func = parse::ingestion_fn(&cx, item);
    if let Some(ingestion) = &ingestion {
        validate::ingestion(&cx, ingestion);
    }
    if let Some(func) = &func {
        validate::signature(&cx, func);
    }
    let (ingestion, func) = cx.finish(ingestion.zip(func))?;
    Ok(expand::ingestion(item, &ingestion, &func))
}
