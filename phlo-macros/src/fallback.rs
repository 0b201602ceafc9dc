//! Fallback: what a macro emits when the input has errors. The `compile_error!`s, plus what
//! keeps the rest of the crate compiling — the user's function untouched for `#[ingestion]` and
//! `#[quality]` (IDEs keep working), a constraint-free `Schema` impl for `#[derive(Schema)]` (code that uses
//! the struct adds no "trait not implemented" errors). One mistake, one error.

use proc_macro2::TokenStream;
use quote::quote;
use syn::Expr;

use crate::expand;
use crate::model::{Schema, is_generic};

pub(crate) fn ingestion(item: TokenStream, errors: &syn::Error) -> TokenStream {
    let mut tokens = item;
    tokens.extend(errors.to_compile_error());
    tokens
}

/// `#[quality]`: like `#[ingestion]`, the function untouched plus the errors, and the checks
/// the user listed, named in a function never called: the imports they use stay used, so a
/// mistake in the attribute does not also warn about every `use phlo::quality::…`.
pub(crate) fn quality(item: TokenStream, checks: &[Expr], errors: &syn::Error) -> TokenStream {
    let mut tokens = item;
    if !checks.is_empty() {
        tokens.extend(quote! {
            const _: () = {
                #[allow(dead_code)]
                fn __phlo_checks() {
                    let _ = (#(#checks,)*);
                }
            };
        });
    }
    tokens.extend(errors.to_compile_error());
    tokens
}

/// `dbt_schema!`: only the errors. Without a readable model there are no fields to declare, and
/// a placeholder struct would turn each use of a field into one more error.
pub(crate) fn dbt_schema(errors: &syn::Error) -> TokenStream {
    errors.to_compile_error()
}

pub(crate) fn schema(schema: &Schema, errors: &syn::Error) -> TokenStream {
    let mut tokens = errors.to_compile_error();
    // A generic struct's impl would need the generics that were just rejected.
    if !is_generic(&schema.generics) {
        tokens.extend(expand::schema_skeleton(schema));
    }
    tokens
}
