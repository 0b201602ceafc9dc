//! Fallback: what a macro emits when the input has errors. The `compile_error!`s, plus what
//! keeps the rest of the crate compiling — the user's function untouched for `#[ingestion]`
//! (IDEs keep working), a constraint-free `Schema` impl for `#[derive(Schema)]` (code that uses
//! the struct adds no "trait not implemented" errors). One mistake, one error.

use proc_macro2::TokenStream;

use crate::expand;
use crate::model::{Schema, is_generic};

pub(crate) fn ingestion(item: TokenStream, errors: &syn::Error) -> TokenStream {
    let mut tokens = item;
    tokens.extend(errors.to_compile_error());
    tokens
}

pub(crate) fn schema(schema: &Schema, errors: &syn::Error) -> TokenStream {
    let mut tokens = errors.to_compile_error();
    // A generic struct's impl would need the generics that were just rejected.
    if !is_generic(&schema.generics) {
        tokens.extend(expand::schema_skeleton(schema));
    }
    tokens
}
