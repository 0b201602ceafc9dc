//! `#[quality(...)]`: the user's function untouched, then one function boxing the listed checks,
//! the adapter of a custom check function, one compile-time check per column a built-in check
//! names (when the schema is known), and the descriptor submitted to the registry.

use proc_macro2::{Ident, Literal, Span, TokenStream};
use quote::{ToTokens, format_ident, quote, quote_spanned};
use syn::spanned::Spanned;
use syn::{FnArg, LitStr, ReturnType, Type};

use super::{name_literal, option, respan};
use crate::model::{Quality, QualityFn};

pub(crate) fn quality(item: &TokenStream, quality: &Quality, func: &QualityFn) -> TokenStream {
    let name = &func.sig.ident;
    let checks_ident = format_ident!("__phlo_checks_{}", name);
    let adapter_ident = format_ident!("__phlo_check_{}", name);
    let custom = func.takes_scope().then_some(&adapter_ident);
    let mut generated = vec![checks_fn(quality, func, &checks_ident)];
    generated.extend(custom.map(|ident| adapter(quality, func, ident)));
    generated.extend(schema_assertion(quality));
    generated.extend(column_checks(quality));
    generated.push(descriptor(quality, func, &checks_ident, custom));
    let cfg: Vec<_> = func.cfg_attrs().collect();
    let generated = generated.iter().map(|tokens| quote!(#(#cfg)* #tokens));
    quote! {
        #item
        #(#generated)*
    }
}

/// `fn() -> Vec<Box<dyn Check>>` over `checks = [...]`, each element boxed where it is written
/// (a value that is not a check is reported on it). A function without parameter is never
/// called: naming it here keeps it from being reported as dead code.
fn checks_fn(quality: &Quality, func: &QualityFn, ident: &Ident) -> TokenStream {
    let krate = &quality.krate;
    let elems = quality.checks.iter().flat_map(|checks| &checks.elems);
    let boxed = elems.map(|check| {
        let span = check.expr.span();
        let boxed_check = respan(quote!(#krate::__private::boxed_check), span);
        let expr = &check.expr;
        quote_spanned!(span=> #boxed_check(#expr))
    });
    let name = &func.sig.ident;
    let mark_used = (!func.takes_scope()).then(|| quote!(let _ = #name;));
    quote! {
        #[doc(hidden)]
        #[allow(non_snake_case)]
        fn #ident() -> ::std::vec::Vec<::std::boxed::Box<dyn #krate::quality::Check>> {
            #mark_used
            ::std::vec![#(#boxed),*]
        }
    }
}

/// `fn(CheckScope) -> CheckFuture` calling the user's function with `&scope`.
fn adapter(quality: &Quality, func: &QualityFn, adapter_ident: &Ident) -> TokenStream {
    let krate = &quality.krate;
    let name = &func.sig.ident;
    // Mixed-site hygiene: `scope` cannot collide with a user item, even a function named `scope`.
    let scope = Ident::new("scope", Span::mixed_site());
    // The argument sits at the parameter's type, the call at the return type: a parameter or a
    // return value of the wrong type is reported there, not on the attribute.
    let parameter = match func.sig.inputs.first() {
        Some(FnArg::Typed(arg)) => arg.ty.span(),
        _ => func.sig.inputs.span(),
    };
    let argument = Ident::new("scope", Span::mixed_site().located_at(parameter));
    let output = match &func.sig.output {
        ReturnType::Type(_, ty) => ty.span(),
        ReturnType::Default => func.sig.output.span(),
    };
    let call = match func.sig.asyncness {
        Some(_) => {
            let check = respan(quote!(#krate::__private::check_async), output);
            let borrow = quote_spanned!(parameter=> &#argument);
            quote_spanned!(output=> #check(async move { #name(#borrow).await }))
        }
        None => {
            let check = respan(quote!(#krate::__private::check_sync), output);
            // The closure keeps the macro's span (clippy leaves generated closures alone); the
            // call in it sits at the return type, where a wrong one is then reported.
            let callee = respan(name.to_token_stream(), output);
            let call = quote_spanned!(output=> #callee(#argument));
            let closure = quote!(|#scope| #call);
            quote_spanned!(output=> #check(#scope, #closure))
        }
    };
    quote! {
        #[doc(hidden)]
        #[allow(non_snake_case)]
        fn #adapter_ident(#scope: #krate::quality::CheckScope) -> #krate::quality::CheckFuture {
            #call
        }
    }
}

/// `schema = T` must name a `Schema`, even when no column check uses it.
fn schema_assertion(quality: &Quality) -> Option<TokenStream> {
    let krate = &quality.krate;
    let schema = quality.schema.as_ref()?;
    let value = quote_spanned!(schema.span()=> <#schema as #krate::Schema>::SCHEMA);
    Some(quote! {
        const _: &'static #krate::__private::SchemaDef = #value;
    })
}

/// The schemas known for the table: `schema = T` and every `SchemaCheck::of::<T>()`, once each.
fn known_schemas(quality: &Quality) -> Vec<Type> {
    let from_key = quality.schema.iter().map(|path| {
        Type::Path(syn::TypePath {
            qself: None,
            path: path.clone(),
        })
    });
    let from_checks = quality
        .checks
        .iter()
        .flat_map(|checks| &checks.elems)
        .filter_map(|check| check.schema_of.clone());
    let mut schemas: Vec<Type> = Vec::new();
    for schema in from_key.chain(from_checks) {
        let written = type_name(&schema);
        if !schemas.iter().any(|known| type_name(known) == written) {
            schemas.push(schema);
        }
    }
    schemas
}

fn type_name(ty: &Type) -> String {
    ty.to_token_stream().to_string().replace(' ', "")
}

/// `const _: () = { if !has_field(..) { panic!(..) } };` for each column a built-in check names
/// (metadata columns `_phlo_*` aside) and each known schema, spanned at the column's literal so
/// that the const-evaluation error points at it.
fn column_checks(quality: &Quality) -> Vec<TokenStream> {
    let schemas = known_schemas(quality);
    let named = quality
        .checks
        .iter()
        .flat_map(|checks| &checks.elems)
        .filter_map(|check| check.columns.as_ref());
    let mut consts = Vec::new();
    for columns in named {
        for column in &columns.columns {
            if column.value().starts_with("_phlo_") {
                continue;
            }
            for schema in &schemas {
                consts.push(column_check(quality, &columns.check, column, schema));
            }
        }
    }
    consts
}

fn column_check(quality: &Quality, check: &Ident, column: &LitStr, schema: &Type) -> TokenStream {
    let krate = &quality.krate;
    let message = format!(
        "`{check}` names `{}`, which is not a field of `{}`",
        column.value(),
        type_name(schema)
    );
    // The message is a format string: escape braces.
    let message = message.replace('{', "{{").replace('}', "}}");
    quote_spanned! {column.span()=>
        const _: () = {
            if !#krate::__private::has_field(<#schema as #krate::Schema>::SCHEMA, #column) {
                ::core::panic!(#message);
            }
        };
    }
}

fn descriptor(
    quality: &Quality,
    func: &QualityFn,
    checks_ident: &Ident,
    custom: Option<&Ident>,
) -> TokenStream {
    let krate = &quality.krate;
    let private = quote!(#krate::__private);
    let name = name_literal(&func.sig.ident);
    let spec = spec_fields(quality);
    let custom = option(custom.map(ToTokens::to_token_stream));
    quote! {
        #private::inventory::submit! {
            #private::QualityDescriptor {
                name: #name,
                spec: #private::QualitySpec {
                    #(#spec,)*
                    ..#private::QualitySpec::DEFAULT
                },
                checks: #checks_ident,
                custom: #custom,
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

/// `field: value` for `table` and for each key the user set; the rest comes from `DEFAULT`.
fn spec_fields(quality: &Quality) -> Vec<TokenStream> {
    let options = &quality.options;
    let flag = |value: Option<bool>| value.map(|value| value.to_token_stream());
    let set = [
        ("table", Some(quality.table.to_token_stream())),
        ("blocking", flag(options.blocking)),
        (
            "partition_aware",
            flag(options.partition_aware.as_ref().map(|flag| flag.value)),
        ),
        (
            "partition_column",
            options
                .partition_column
                .as_ref()
                .map(|column| quote!(::core::option::Option::Some(#column))),
        ),
        (
            "rolling_window_days",
            options
                .rolling_window_days
                .as_ref()
                .map(|days| Literal::u32_unsuffixed(days.value).into_token_stream()),
        ),
        (
            "full_table",
            flag(options.full_table.as_ref().map(|flag| flag.value)),
        ),
        (
            "group",
            options
                .group
                .as_ref()
                .map(|group| option(Some(group.to_token_stream()))),
        ),
    ];
    set.into_iter()
        .filter_map(|(field, value)| {
            let field = Ident::new(field, Span::call_site());
            value.map(|value| quote!(#field: #value))
        })
        .collect()
}

#[cfg(test)]
mod tests;
