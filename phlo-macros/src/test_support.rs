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
