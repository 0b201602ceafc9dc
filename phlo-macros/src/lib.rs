//! Procedural macros of [phlo](https://example.invalid/phlo): `#[derive(Schema)]`,
//! `#[ingestion(...)]`, `#[transform(...)]`, `#[quality(...)]`, `dbt_schema!(...)`,
//! `models!` and `seeds!`.
//!
//! Use them through the `phlo` crate (`use phlo::prelude::*;`), never directly: the generated
//! code names `::phlo::__private` items, as fixed by `docs/adr/0002-macro-expansion-contract.md`.
//!
//! Each macro runs the same phases: `parse` the attributes into a typed `model`, check the
//! rules in `validate`, then `expand` to tokens — or, on any error, emit the `fallback`:
//! every diagnostic at once (collected by `ctxt::Ctxt`) plus what keeps the crate compiling.

extern crate proc_macro;

mod cron;
mod ctxt;
mod dbt;
mod embed;
mod expand;
mod fallback;
mod model;
mod parse;
mod partitions;
mod suggest;
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
/// `strict_validation`, `add_metadata_columns`, the partitioning keys below, and
/// `crate = "path"` when phlo is renamed.
///
/// Partitions are daily in UTC unless declared otherwise, with at most one of:
/// `partitioned = false` (one run covers the whole table); `partitions = hourly`, `daily` or
/// `monthly`, bare or with optional arguments —
/// `hourly(start = "2025-01-01T00", end = "2026-01-01T00", tz = "Europe/London", end_offset = 1)`,
/// `daily(start = "2025-01-01")`, `monthly(start = "2020-01")`; or a fixed list of keys,
/// `static_keys = ["eu", "us"]`. Bounds are zero-padded real dates in the cadence's shape
/// (`YYYY-MM-DDTHH` or `YYYY-MM-DD` for hourly, `YYYY-MM-DD` for daily, `YYYY-MM` for
/// monthly), `start` before `end` (exclusive); `tz` is an IANA name (default `"UTC"`);
/// `end_offset` a whole number of windows added to the latest partition (default 0). Static
/// keys are distinct, non-empty and made of `[A-Za-z0-9_.-]`.
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

/// Registers a Rust transform: an asset computed from other assets' tables. Each parameter
/// after the context names an upstream asset and receives its table — scoped to the
/// partitions the run's partition maps to, without phlo's `_phlo_*` columns — as a DataFusion
/// `DataFrame`; the function's result is written to `table` like an ingestion load
/// (validated against `schema` when given, deduplicated and merged by `unique_key`).
///
/// ```text
/// #[transform(table = "silver.well_decline", schema = WellDecline, unique_key = "well_code",
///             partitions = monthly(start = "2020-01"), group = "wells")]
/// async fn well_decline(
///     ctx: &PartitionContext,
///     stg_well_production: DataFrame,
///     #[phlo(mapping = "offset(-1)")] well_decline_previous: DataFrame,
/// ) -> phlo::Result<DataFrame> { … }
/// ```
///
/// Keys: those of `#[ingestion]` (`table` required; `schema` optional — without it the
/// result's columns are the contract), except `merge_strategy`: a transform says
/// `materialized = "table"` (the whole table replaced in one commit; unpartitioned only),
/// `"incremental"` (merged by `unique_key`, unchanged rows skipped) or
/// `"replace_partition"` (the partition's rows replaced). Without it, a transform with a
/// `unique_key` is incremental, a partitioned one replaces its partition, and any other
/// rebuilds its table. `tags = ["…"]` are matched by `tag:` selections. A transform is
/// **unpartitioned** unless `partitions` or `static_keys` says otherwise.
///
/// The function may be `async` or not; it takes `&PartitionContext` first, then one
/// `name: DataFrame` per upstream asset, each optionally marked
/// `#[phlo(mapping = "identity" | "time_window" | "all" | "offset(N)")]` (default: the one
/// the two partitions definitions imply), and returns `Result<T, E>` where `T` is a
/// `DataFrame`, a `RecordBatch`, a `Vec<RecordBatch>` or a `Vec<S>` of a `Schema` struct.
/// It is re-emitted without the `#[phlo(...)]` parameter attributes. A parameter that is
/// not a plain name, not a `DataFrame`, or names the transform itself is a compile error;
/// an unknown upstream is an error when the registry is built, naming the closest asset.
#[proc_macro_attribute]
pub fn transform(args: TokenStream, item: TokenStream) -> TokenStream {
    let item = proc_macro2::TokenStream::from(item);
    let cx = Ctxt::new();
    let transform = parse::transform_args(&cx, args.into());
    let func = parse::transform_function(&cx, &item);
    if let Some(transform) = &transform {
        validate::transform(&cx, transform);
    }
    if let Some(func) = &func {
        validate::transform_signature(&cx, func);
    }
    let tokens = match cx.finish(transform.zip(func.as_ref())) {
        Ok((transform, func)) => expand::transform(&transform, func),
        Err(errors) => {
            // The function is still emitted (without phlo's parameter attributes, which
            // would not compile), so the rest of the crate keeps compiling.
            let mut tokens = match &func {
                Some(func) => expand::transform_item(func),
                None => item,
            };
            tokens.extend(errors.to_compile_error());
            tokens
        }
    };
    tokens.into()
}

/// Registers a quality asset: checks phlo runs over a table after each materialization (scoped
/// to the partition), or on demand.
///
/// ```text
/// #[quality(table = "bronze.events", checks = [
///     NullCheck::new(["id", "ts"]),
///     RangeCheck::new("value").min(0.0).max(100.0).allow_threshold(0.01),
///     SchemaCheck::of::<Event>(),
/// ])]
/// fn events_quality() {}
///
/// // A custom check is a plain function over the scoped data:
/// #[quality(table = "bronze.events")]
/// async fn categories_balanced(scope: &CheckScope) -> phlo::Result<CheckOutcome> { … }
/// ```
///
/// Keys: `table` (required; `namespace.name`, each part `[a-z_][a-z0-9_]*`), `checks` (a list
/// `[...]` of check expressions), `blocking` (default `true`: a failing `error` check stops
/// publication), `partition_aware` (default `true`), `partition_column`,
/// `rolling_window_days` (≥ 1, the window without a partition), `full_table`, `group`, `schema`
/// (a struct deriving `Schema`: the table's columns) and `crate = "path"` when phlo is renamed.
///
/// The function takes no parameter and has an empty body (`checks` is then required), or takes
/// exactly one `&CheckScope`, may be `async`, and returns `phlo::Result<CheckOutcome>` — a custom
/// check run after the listed ones. It is re-emitted unchanged.
///
/// When the schema is known (`schema = T`, or `SchemaCheck::of::<T>()` among the checks), the
/// columns that `NullCheck`, `RangeCheck`, `UniqueCheck`, `FreshnessCheck`, `PatternCheck` and
/// `AcceptedValuesCheck` name as string literals in their `new(..)` are checked against it at
/// compile time (metadata columns `_phlo_*` aside). Every mistake is a compile error pointing at
/// the offending token.
#[proc_macro_attribute]
pub fn quality(args: TokenStream, item: TokenStream) -> TokenStream {
    let (args, item) = (args.into(), proc_macro2::TokenStream::from(item));
    let tokens = match expand_quality(proc_macro2::TokenStream::clone(&args), &item) {
        Ok(tokens) => tokens,
        Err(errors) => fallback::quality(item, &parse::quality_written_checks(args), &errors),
    };
    tokens.into()
}

fn expand_quality(
    args: proc_macro2::TokenStream,
    item: &proc_macro2::TokenStream,
) -> syn::Result<proc_macro2::TokenStream> {
    let cx = Ctxt::new();
    let quality = parse::quality_args(&cx, args);
    let func = parse::quality_fn(&cx, item);
    if let Some(quality) = &quality {
        validate::quality(&cx, quality);
    }
    if let Some(func) = &func {
        validate::quality_signature(&cx, func);
    }
    if let (Some(quality), Some(func)) = (&quality, &func) {
        validate::quality_form(&cx, quality, func);
    }
    let (quality, func) = cx.finish(quality.zip(func))?;
    Ok(expand::quality(item, &quality, &func))
}

/// Declares a struct deriving `Schema` from a dbt model's `columns:` in a dbt YAML file
/// (`schema.yml`), read at compile time.
///
/// ```text
/// dbt_schema!("models/staging/schema.yml", "stg_orders");          // pub struct StgOrders { … }
/// dbt_schema!("models/staging/schema.yml", "stg_orders", name = Order);
/// ```
///
/// The path is relative to the crate root (the directory of its `Cargo.toml`); a path not found
/// there is looked up next to the invoking source file, as `include_str!` does. Cargo rebuilds
/// the crate when the file changes. The struct is named after the model in `CamelCase` unless
/// `name = Type` is given, is `pub`, derives `Debug`, `Clone`, `PartialEq` and `Schema`, and
/// carries the model's and columns' `description`s as docs. `crate = "path"` is accepted when
/// phlo is renamed.
///
/// Column types come from `data_type` (`varchar` → `String`, `int` → `i32`, `bigint` → `i64`,
/// `real` → `f32`, `float`/`double`/`numeric`/`decimal` → `f64`, `boolean` → `bool`, `date` →
/// `NaiveDate`, `timestamp` → `DateTime<Utc>`, case and parameters ignored), or without it from
/// the column's name (`*_id` → `String`, `*_at` → `DateTime<Utc>`, `*_date` → `NaiveDate`,
/// `is_*` → `bool`, `*_count` → `i64`, `*_amount` → `f64`, otherwise `String`). A column is
/// `Option<T>` unless it has a `not_null` test. `unique`, `accepted_values`,
/// `dbt_utils.accepted_range` and `dbt_expectations.expect_column_values_to_be_between` become
/// `#[phlo(unique)]`, `#[phlo(isin = [..])]` and `ge`/`gt`/`le`/`lt`, in both the plain and the
/// `arguments:` forms, from `data_tests:` or `tests:`. Other tests, tests with
/// `severity: warn` or a `where:` filter, and `_phlo_*` columns are left out.
///
/// An unreadable file, invalid YAML, an unknown model (the error lists the file's models), a
/// model without columns, an unknown `data_type` or a column name that cannot be a Rust field
/// are compile errors at the path or the model's name.
#[proc_macro]
pub fn dbt_schema(input: TokenStream) -> TokenStream {
    let source_dir = proc_macro::Span::call_site()
        .local_file()
        .and_then(|file| file.parent().map(std::path::Path::to_path_buf));
    let manifest_dir = parse::manifest_dir();
    let tokens =
        match expand_dbt_schema(input.into(), manifest_dir.as_deref(), source_dir.as_deref()) {
            Ok(tokens) => tokens,
            Err(errors) => fallback::dbt_schema(&errors),
        };
    tokens.into()
}

fn expand_dbt_schema(
    input: proc_macro2::TokenStream,
    manifest_dir: Option<&std::path::Path>,
    source_dir: Option<&std::path::Path>,
) -> syn::Result<proc_macro2::TokenStream> {
    let cx = Ctxt::new();
    let args = parse::dbt_args(&cx, input);
    let args = cx.finish(args)?;
    let at_path = |message: String| syn::Error::new_spanned(&args.path, message);
    let file =
        parse::read_dbt_file(&args.path.value(), manifest_dir, source_dir).map_err(at_path)?;
    let include = parse::path_literal(&file.path, args.path.span()).map_err(at_path)?;
    let cx = Ctxt::new();
    let model = dbt::model(&file.text, &args.model.value())
        .map_err(|problems| {
            for problem in problems {
                match problem.site {
                    dbt::Site::File => cx.error_spanned_by(&args.path, problem),
                    dbt::Site::Model => cx.error_spanned_by(&args.model, problem),
                }
            }
        })
        .ok();
    let ident = match &args.name {
        Some(name) => Some(name.clone()),
        None => dbt::struct_name(&args.model.value())
            .map(|name| syn::Ident::new(&name, proc_macro2::Span::call_site()))
            .map_err(|message| cx.error_spanned_by(&args.model, message))
            .ok(),
    };
    let (model, ident) = cx.finish(model.zip(ident))?;
    Ok(expand::dbt_schema(&args, &model, &ident, &include))
}

/// The SQL models of a directory, embedded in the binary: `phlo::models!("models")` is a
/// `&'static [phlo::ProjectFile]` of every `.sql` file under `models/` (relative to the
/// crate's `Cargo.toml`), for [`RuntimeBuilder::project`](../phlo/struct.RuntimeBuilder.html).
/// A missing directory is a compile error at the path.
#[proc_macro]
pub fn models(input: TokenStream) -> TokenStream {
    let manifest_dir = parse::manifest_dir();
    match embed::expand(input.into(), manifest_dir.as_deref(), "sql", "models") {
        Ok(t) => t.into(),
        Err(e) => {
            let e = e.to_compile_error();
            quote::quote!({ #e; &[] as &[::phlo::ProjectFile] }).into()
        }
    }
}

/// The CSV seeds of a directory, embedded in the binary: `phlo::seeds!("seeds")` is a
/// `&'static [phlo::ProjectFile]` of every `.csv` file under `seeds/`.
/// A missing directory is a compile error at the path.
#[proc_macro]
pub fn seeds(input: TokenStream) -> TokenStream {
    let manifest_dir = parse::manifest_dir();
    match embed::expand(input.into(), manifest_dir.as_deref(), "csv", "seeds") {
        Ok(t) => t.into(),
        Err(e) => {
            let e = e.to_compile_error();
            quote::quote!({ #e; &[] as &[::phlo::ProjectFile] }).into()
        }
    }
}
