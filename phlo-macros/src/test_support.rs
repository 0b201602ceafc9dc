//! Helpers for the unit tests: run a macro's phases on quoted input and read the diagnostics.

use proc_macro2::TokenStream;
use syn::DeriveInput;

use crate::ctxt::Ctxt;
use crate::{expand, parse, validate};

/// The messages of `errors`, in order.
pub(crate) fn messages(errors: syn::Error) -> Vec<String> {
    errors.into_iter().map(|error| error.to_string()).collect()
}

/// `#[derive(Schema)]` on `input`: the expansion, or every message.
pub(crate) fn derive_schema(input: TokenStream) -> Result<TokenStream, Vec<String>> {
    let input: DeriveInput = syn::parse2(input).map_err(messages)?;
    let cx = Ctxt::new();
    let schema = parse::schema(&cx, &input);
    validate::schema(&cx, &schema);
    cx.check().map_err(messages)?;
    Ok(expand::schema(&schema))
}

/// `#[ingestion(args)] item`: the expansion, or every message.
pub(crate) fn ingestion(args: TokenStream, item: TokenStream) -> Result<TokenStream, Vec<String>> {
    crate::expand_ingestion(args, &item).map_err(messages)
}

/// The messages `#[derive(Schema)]` reports on `input` (none when it expands).
pub(crate) fn schema_errors(input: TokenStream) -> Vec<String> {
    derive_schema(input).err().unwrap_or_default()
}

/// The messages `#[ingestion(args)]` reports on a well-formed async function.
pub(crate) fn ingestion_errors(args: TokenStream) -> Vec<String> {
    let item = quote::quote! {
        async fn events(ctx: &PartitionContext) -> phlo::Result<Vec<RecordBatch>> { Ok(vec![]) }
    };
    ingestion(args, item).err().unwrap_or_default()
}

/// The messages `#[ingestion]` with valid arguments reports on `item`.
pub(crate) fn signature_errors(item: TokenStream) -> Vec<String> {
    let args = quote::quote!(table = "events", unique_key = "id", schema = Event);
    ingestion(args, item).err().unwrap_or_default()
}

/// `#[quality(args)] item`: the expansion, or every message.
pub(crate) fn quality(args: TokenStream, item: TokenStream) -> Result<TokenStream, Vec<String>> {
    crate::expand_quality(args, &item).map_err(messages)
}

/// The messages `#[quality(args)]` reports on a function with no parameter and an empty body.
pub(crate) fn quality_errors(args: TokenStream) -> Vec<String> {
    quality(
        args,
        quote::quote!(
            fn events_quality() {}
        ),
    )
    .err()
    .unwrap_or_default()
}

/// The messages `#[quality]` with valid arguments (a table, no checks) reports on `item`.
pub(crate) fn quality_fn_errors(item: TokenStream) -> Vec<String> {
    quality(quote::quote!(table = "bronze.events"), item)
        .err()
        .unwrap_or_default()
}

/// `dbt_schema!(input)` with paths relative to `dir`: the expansion, or every message.
pub(crate) fn dbt_schema(
    input: TokenStream,
    dir: &std::path::Path,
) -> Result<TokenStream, Vec<String>> {
    crate::expand_dbt_schema(input, Some(dir), None).map_err(messages)
}
