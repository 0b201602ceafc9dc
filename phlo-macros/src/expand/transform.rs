//! `#[transform]`: the function re-emitted (phlo's parameter attributes removed), an adapter
//! the runtime calls with the context and one `DataFrame` per upstream, the column checks
//! of a declared schema, and the descriptor submitted to the registry.

use proc_macro2::{Ident, Span, TokenStream};
use quote::{ToTokens, format_ident, quote, quote_spanned};
use syn::ReturnType;
use syn::spanned::Spanned;

use super::{name_literal, option, options_fields, respan, schema_column_check};
use crate::model::{Materialized, Partitioning, Transform, TransformFn};

pub(crate) fn transform(transform: &Transform, func: &TransformFn) -> TokenStream {
    let cfg: Vec<_> = func.cfg_attrs().collect();
    let item = item(func);
    let adapter_ident = format_ident!("__phlo_transform_{}", func.sig.ident);
    let adapter = adapter(transform, func, &adapter_ident);
    let checks = column_checks(transform)
        .into_iter()
        .map(|check| quote!(#(#cfg)* #check));
    let descriptor = descriptor(transform, func, &adapter_ident);
    quote! {
        #item
        #(#cfg)*
        #adapter
        #(#checks)*
        #(#cfg)*
        #descriptor
    }
}

/// The user's function, as written but for `#[phlo(...)]` on its parameters.
pub(crate) fn item(func: &TransformFn) -> TokenStream {
    let TransformFn {
        attrs,
        vis,
        sig,
        body,
        ..
    } = func;
    quote!(#(#attrs)* #vis #sig #body)
}

fn adapter(transform: &Transform, func: &TransformFn, adapter_ident: &Ident) -> TokenStream {
    let krate = &transform.krate;
    let private = quote!(#krate::__private);
    let name = &func.sig.ident;
    let ctx = Ident::new("ctx", Span::mixed_site());
    let inputs = Ident::new("inputs", Span::mixed_site());
    let error = Ident::new("error", Span::mixed_site());
    let frames: Vec<Ident> = (0..func.inputs.len())
        .map(|i| Ident::new(&format!("input_{i}"), Span::mixed_site()))
        .collect();
    let count = func.inputs.len();
    let output = match &func.sig.output {
        ReturnType::Type(_, ty) => ty.span(),
        ReturnType::Default => func.sig.output.span(),
    };
    let call = match func.sig.asyncness {
        Some(_) => {
            let run = respan(quote!(#private::transform_async), output);
            quote_spanned!(output=> #run(async move { #name(&#ctx, #(#frames),*).await }))
        }
        None => {
            let run = respan(quote!(#private::transform_sync), output);
            let closure = quote!(move |#ctx| #name(#ctx, #(#frames),*));
            quote_spanned!(output=> #run(#ctx, #closure))
        }
    };
    quote! {
        #[doc(hidden)]
        #[allow(non_snake_case)]
        fn #adapter_ident(
            #ctx: #krate::PartitionContext,
            #inputs: ::std::vec::Vec<#private::DataFrame>,
        ) -> #private::TransformFuture {
            let [#(#frames),*] = match #private::transform_inputs::<#count>(&#ctx, #inputs) {
                ::core::result::Result::Ok(frames) => frames,
                ::core::result::Result::Err(#error) => return #private::transform_failed(#error),
            };
            #call
        }
    }
}

/// With `schema = T`: `unique_key` and `order_by` name fields of `T`.
fn column_checks(transform: &Transform) -> Vec<TokenStream> {
    let Some(schema) = &transform.schema else {
        return Vec::new();
    };
    let options = &transform.options;
    let unique_key = options.unique_key.iter().map(|c| ("unique_key", c));
    let order_by = options.order_by.iter().map(|c| ("order_by", c));
    unique_key
        .chain(order_by)
        .map(|(key, column)| schema_column_check(&transform.krate, schema, key, column))
        .collect()
}

fn descriptor(transform: &Transform, func: &TransformFn, adapter_ident: &Ident) -> TokenStream {
    let krate = &transform.krate;
    let private = quote!(#krate::__private);
    let name = name_literal(&func.sig.ident);
    let mut spec = options_fields(&private, &transform.table, &transform.options);
    // A transform is unpartitioned unless it says otherwise.
    if let Partitioning::Default = transform.options.partitioning() {
        spec.push(quote!(partitions: #private::PartitionsSpec::None));
    }
    let schema = option(
        transform
            .schema
            .as_ref()
            .map(|schema| quote_spanned!(schema.span()=> <#schema as #krate::Schema>::SCHEMA)),
    );
    let materialized = option(transform.options.materialized.as_ref().map(|m| {
        let variant = match m.value {
            Materialized::Table => quote!(Table),
            Materialized::Incremental => quote!(Incremental),
            Materialized::ReplacePartition => quote!(ReplacePartition),
        };
        quote!(#private::Materialized::#variant)
    }));
    let inputs = func.inputs.iter().filter_map(|input| {
        let asset = name_literal(input.ident.as_ref()?);
        let mapping = option(input.mapping.as_ref().map(ToTokens::to_token_stream));
        Some(quote!(#private::TransformInput { asset: #asset, mapping: #mapping }))
    });
    let tags = &transform.options.tags;
    quote! {
        #private::inventory::submit! {
            #private::TransformDescriptor {
                name: #name,
                spec: #private::IngestionSpec {
                    #(#spec,)*
                    ..#private::IngestionSpec::DEFAULT
                },
                materialized: #materialized,
                schema: #schema,
                inputs: &[#(#inputs),*],
                tags: &[#(#tags),*],
                run: #adapter_ident,
                location: #private::Location {
                    file: ::core::file!(),
                    line: ::core::line!(),
                    column: ::core::column!(),
                    module: ::core::module_path!(),
                },
            }
        }
    }
}
