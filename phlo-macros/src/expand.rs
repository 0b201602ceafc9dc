//! Expand phase: a validated model into the tokens fixed by `docs/adr/0002-macro-expansion-contract.md`.
//! Generated code names only `<crate>::…` (default `::phlo`) and `::core`/`::std` paths, and
//! calls runtime code instead of generating logic.

use proc_macro2::{Ident, Literal, Span, TokenStream};
use quote::{ToTokens, format_ident, quote, quote_spanned};
use syn::ext::IdentExt;
use syn::spanned::Spanned;
use syn::{LitStr, Path, ReturnType};

use crate::model::{
    Cadence, Constraint, ConstraintKind, Dedup, Field, Finite, Ingestion, IngestionFn,
    IngestionOptions, MergeStrategy, Number, Partitioning, Scalar, Schema, SchemaPolicy,
};

// ---------------------------------------------------------------------------------------------
// #[derive(Schema)]

/// The `Schema` impl, constraints included.
pub(crate) fn schema(schema: &Schema) -> TokenStream {
    schema_impl(schema, true)
}

/// The `Schema` impl without constraints: what the fallback emits next to the errors, so that
/// code using the struct does not pile up "`Schema` is not implemented" errors.
pub(crate) fn schema_skeleton(schema: &Schema) -> TokenStream {
    schema_impl(schema, false)
}

fn schema_impl(schema: &Schema, with_constraints: bool) -> TokenStream {
    let krate = &schema.krate;
    let private = quote!(#krate::__private);
    let ident = &schema.ident;
    let name = name_literal(ident);
    let policy = policy(&private, schema.policy);
    let fields = schema
        .fields
        .iter()
        .map(|field| field_def(&private, field, with_constraints));
    // `rows` is unused when there is no field (only in the fallback's skeleton for an enum).
    let rows = if schema.fields.is_empty() {
        format_ident!("_rows")
    } else {
        format_ident!("rows")
    };
    let columns = schema.fields.iter().map(|field| {
        let member = &field.ident;
        // Spanned at the type, like `field_def`: an unsupported type is reported on the field.
        let span = field.ty.span();
        let column = respan(quote!(#private::column), span);
        quote_spanned!(span=> #column(#rows, |r: &Self| &r.#member))
    });
    quote! {
        impl #krate::Schema for #ident {
            const SCHEMA: &'static #private::SchemaDef = &#private::SchemaDef {
                name: #name,
                fields: &[#(#fields),*],
                policy: #policy,
            };
            fn to_record_batch(
                #rows: &[Self],
            ) -> ::core::result::Result<
                #krate::arrow::record_batch::RecordBatch,
                #krate::arrow::error::ArrowError,
            > {
                #private::batch_from_columns(Self::SCHEMA, ::std::vec![#(#columns),*])
            }
        }
    }
}

/// The name users see: the identifier without `r#`.
pub(crate) fn name_literal(ident: &Ident) -> LitStr {
    LitStr::new(&ident.unraw().to_string(), ident.span())
}

fn policy(private: &TokenStream, policy: SchemaPolicy) -> TokenStream {
    let variant = match policy {
        SchemaPolicy::Strict => quote!(Strict),
        SchemaPolicy::DropExtra => quote!(DropExtra),
        SchemaPolicy::Additive => quote!(Additive),
    };
    quote!(#private::SchemaPolicy::#variant)
}

fn field_def(private: &TokenStream, field: &Field, with_constraints: bool) -> TokenStream {
    let name = name_literal(&field.ident);
    let ty = &field.ty;
    // Spanned at the type: an unsupported type is reported on the field, not on the derive.
    let arrow = quote_spanned!(ty.span()=> <#ty as #private::ArrowField>);
    let constraints = field
        .constraints
        .iter()
        .filter(|_| with_constraints)
        .map(|c| constraint(private, c));
    quote! {
        #private::FieldDef {
            name: #name,
            field_type: #arrow::FIELD_TYPE,
            nullable: #arrow::NULLABLE,
            constraints: &[#(#constraints),*],
        }
    }
}

fn constraint(private: &TokenStream, constraint: &Constraint) -> TokenStream {
    let path = quote!(#private::Constraint);
    match &constraint.kind {
        ConstraintKind::Unique => quote!(#path::Unique),
        ConstraintKind::Bound(bound, number) => {
            let variant = Ident::new(bound.variant(), Span::call_site());
            let lit = lit(private, &Scalar::Num(*number));
            quote!(#path::#variant { bound: #lit })
        }
        ConstraintKind::IsIn(values) => {
            let values = values.iter().map(|value| lit(private, value));
            quote!(#path::IsIn { values: &[#(#values),*] })
        }
        ConstraintKind::NotIn(values) => {
            let values = values.iter().map(|value| lit(private, value));
            quote!(#path::NotIn { values: &[#(#values),*] })
        }
        ConstraintKind::Regex(pattern) => quote!(#path::Regex { pattern: #pattern }),
        ConstraintKind::StrLength { min, max } => {
            let (min, max) = (
                option(min.map(usize_literal)),
                option(max.map(usize_literal)),
            );
            quote!(#path::StrLength { min: #min, max: #max })
        }
        ConstraintKind::Custom(check) => {
            let name = check.to_token_stream().to_string().replace(' ', "");
            // Spanned at the path: a function of the wrong type is reported where it is named.
            let span = check.span();
            let fn_type = respan(quote!(#private::ColumnCheckFn), span);
            let cast = quote_spanned!(span=> #check as #fn_type);
            quote!(#path::Custom { name: #name, check: #cast })
        }
    }
}

fn lit(private: &TokenStream, value: &Scalar) -> TokenStream {
    match value {
        Scalar::Str(value) => quote!(#private::Lit::Str(#value)),
        Scalar::Num(Number::Int(value)) => {
            let value = int(*value);
            quote!(#private::Lit::Int(#value))
        }
        Scalar::Num(Number::Float(value)) => {
            let value = float(*value);
            quote!(#private::Lit::Float(#value))
        }
        Scalar::Bool(value) => quote!(#private::Lit::Bool(#value)),
    }
}

/// An unsuffixed integer, its sign as a separate token.
fn int(value: i64) -> TokenStream {
    let magnitude = Literal::u64_unsuffixed(value.unsigned_abs());
    if value < 0 {
        quote!(-#magnitude)
    } else {
        quote!(#magnitude)
    }
}

/// An unsuffixed float (`1.0`, never `1`), its sign as a separate token.
fn float(value: Finite) -> TokenStream {
    let value = value.get();
    let magnitude = Literal::f64_unsuffixed(value.abs());
    if value.is_sign_negative() {
        quote!(-#magnitude)
    } else {
        quote!(#magnitude)
    }
}

fn usize_literal(value: usize) -> TokenStream {
    Literal::usize_unsuffixed(value).into_token_stream()
}

pub(crate) fn option(value: Option<TokenStream>) -> TokenStream {
    match value {
        Some(value) => quote!(::core::option::Option::Some(#value)),
        None => quote!(::core::option::Option::None),
    }
}

// ---------------------------------------------------------------------------------------------
// #[ingestion(...)]

/// The user's function untouched, its adapter, one compile-time check per named column, and
/// the descriptor submitted to the registry.
pub(crate) fn ingestion(
    item: &TokenStream,
    ingestion: &Ingestion,
    func: &IngestionFn,
) -> TokenStream {
    let cfg: Vec<_> = func.cfg_attrs().collect();
    let adapter_ident = format_ident!("__phlo_fetch_{}", func.sig.ident);
    let adapter = adapter(ingestion, func, &adapter_ident);
    let checks = column_checks(ingestion)
        .into_iter()
        .map(|check| quote!(#(#cfg)* #check));
    let descriptor = descriptor(ingestion, func, &adapter_ident);
    quote! {
        #item
        #(#cfg)*
        #adapter
        #(#checks)*
        #(#cfg)*
        #descriptor
    }
}

fn adapter(ingestion: &Ingestion, func: &IngestionFn, adapter_ident: &Ident) -> TokenStream {
    let krate = &ingestion.krate;
    let name = &func.sig.ident;
    // Mixed-site hygiene: `ctx` cannot collide with a user item, even a function named `ctx`.
    let ctx = Ident::new("ctx", Span::mixed_site());
    // The call is placed at the return type: a function returning the wrong type is reported
    // there (the runtime's `FetchOutput` bound fails), not on the attribute.
    let output = match &func.sig.output {
        ReturnType::Type(_, ty) => ty.span(),
        ReturnType::Default => func.sig.output.span(),
    };
    let call = match func.sig.asyncness {
        Some(_) => {
            let fetch = respan(quote!(#krate::__private::fetch_async), output);
            quote_spanned!(output=> #fetch(async move { #name(&#ctx).await }))
        }
        None => {
            let fetch = respan(quote!(#krate::__private::fetch_sync), output);
            // The closure keeps the macro's span: clippy leaves generated closures alone.
            let closure = quote!(|#ctx| #name(#ctx));
            quote_spanned!(output=> #fetch(#ctx, #closure))
        }
    };
    quote! {
        #[doc(hidden)]
        #[allow(non_snake_case)]
        fn #adapter_ident(#ctx: #krate::PartitionContext) -> #krate::__private::FetchFuture {
            #call
        }
    }
}

/// `tokens`, every one placed at `span`: lets an error about the call point at user code.
pub(crate) fn respan(tokens: TokenStream, span: Span) -> TokenStream {
    tokens
        .into_iter()
        .map(|mut token| {
            token.set_span(span);
            token
        })
        .collect()
}

/// `const _: () = { if !has_field(..) { panic!(..) } };` for each `unique_key` column and for
/// `order_by`, spanned at the string literal so the const-eval error points at it.
fn column_checks(ingestion: &Ingestion) -> Vec<TokenStream> {
    let options = &ingestion.options;
    let unique_key = options
        .unique_key
        .iter()
        .map(|column| ("unique_key", column));
    let order_by = options.order_by.iter().map(|column| ("order_by", column));
    unique_key
        .chain(order_by)
        .map(|(key, column)| column_check(ingestion, key, column))
        .collect()
}

fn column_check(ingestion: &Ingestion, key: &str, column: &LitStr) -> TokenStream {
    schema_column_check(&ingestion.krate, &ingestion.schema, key, column)
}

/// `const _: () = { if !has_field(..) { panic!(..) } };`: `column` is a field of `schema`.
pub(crate) fn schema_column_check(
    krate: &Path,
    schema: &Path,
    key: &str,
    column: &LitStr,
) -> TokenStream {
    let schema_name = schema.to_token_stream().to_string().replace(' ', "");
    let message = format!(
        "`{key}` names `{}`, which is not a field of `{schema_name}`",
        column.value()
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

fn descriptor(ingestion: &Ingestion, func: &IngestionFn, adapter_ident: &Ident) -> TokenStream {
    let Ingestion { krate, schema, .. } = ingestion;
    let private = quote!(#krate::__private);
    let name = name_literal(&func.sig.ident);
    let spec = spec_fields(&private, ingestion);
    let schema = quote_spanned!(schema.span()=> <#schema as #krate::Schema>::SCHEMA);
    quote! {
        #private::inventory::submit! {
            #private::IngestionDescriptor {
                name: #name,
                spec: #private::IngestionSpec {
                    #(#spec,)*
                    ..#private::IngestionSpec::DEFAULT
                },
                schema: #schema,
                fetch: #adapter_ident,
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
fn spec_fields(private: &TokenStream, ingestion: &Ingestion) -> Vec<TokenStream> {
    options_fields(private, &ingestion.table, &ingestion.options)
}

/// `field: value` of an `IngestionSpec` for `table` and each key of `options` the user set.
pub(crate) fn options_fields(
    private: &TokenStream,
    table: &LitStr,
    options: &IngestionOptions,
) -> Vec<TokenStream> {
    let some = |value: TokenStream| option(Some(value));
    let string = |value: &Option<LitStr>| value.as_ref().map(|value| some(value.to_token_stream()));
    let boolean = |value: Option<bool>| value.map(|value| value.to_token_stream());
    let unique_key = &options.unique_key;
    let set = [
        ("table", Some(table.to_token_stream())),
        (
            "unique_key",
            (!unique_key.is_empty()).then(|| quote!(&[#(#unique_key),*])),
        ),
        ("group", string(&options.group)),
        ("cron", string(&options.cron)),
        (
            "freshness_hours",
            options.freshness_hours.as_ref().map(|hours| {
                let (warn, error) = (float(hours.warn.value), float(hours.error.value));
                some(quote!((#warn, #error)))
            }),
        ),
        (
            "merge_strategy",
            options
                .merge_strategy
                .as_ref()
                .map(|c| merge_strategy(private, c.value)),
        ),
        (
            "dedup",
            options
                .dedup
                .as_ref()
                .map(|c| some(dedup(private, c.value))),
        ),
        ("order_by", string(&options.order_by)),
        (
            "max_retries",
            options
                .max_retries
                .map(|n| Literal::u32_unsuffixed(n).into_token_stream()),
        ),
        (
            "retry_delay_seconds",
            options.retry_delay_seconds.as_ref().map(|s| float(s.value)),
        ),
        (
            "max_runtime_seconds",
            options.max_runtime_seconds.as_ref().map(|s| float(s.value)),
        ),
        ("validate", boolean(options.validate)),
        ("strict_validation", boolean(options.strict_validation)),
        (
            "add_metadata_columns",
            boolean(options.add_metadata_columns),
        ),
        ("partitions", partitions(private, options.partitioning())),
    ];
    set.into_iter()
        .filter_map(|(field, value)| {
            let field = Ident::new(field, Span::call_site());
            value.map(|value| quote!(#field: #value))
        })
        .collect()
}

/// `PartitionsSpec::…`, every field written out; nothing for the default.
fn partitions(private: &TokenStream, partitioning: Partitioning) -> Option<TokenStream> {
    let spec = quote!(#private::PartitionsSpec);
    match partitioning {
        Partitioning::Default => None,
        Partitioning::None => Some(quote!(#spec::None)),
        Partitioning::Time(partitions) => {
            let cadence = Ident::new(
                match partitions.cadence {
                    Cadence::Hourly => "Hourly",
                    Cadence::Daily => "Daily",
                    Cadence::Monthly => "Monthly",
                },
                Span::call_site(),
            );
            let bound = |lit: &Option<LitStr>| option(lit.as_ref().map(ToTokens::to_token_stream));
            let (start, end) = (bound(&partitions.start), bound(&partitions.end));
            let timezone = match &partitions.tz {
                Some(tz) => tz.to_token_stream(),
                None => quote!("UTC"),
            };
            let end_offset = int(partitions
                .end_offset
                .as_ref()
                .map_or(0, |offset| i64::from(offset.value)));
            Some(quote! {
                #spec::Time {
                    cadence: #private::Cadence::#cadence,
                    start: #start,
                    end: #end,
                    timezone: #timezone,
                    end_offset: #end_offset,
                }
            })
        }
        Partitioning::Static(keys) => {
            let keys = &keys.keys;
            Some(quote!(#spec::Static { keys: &[#(#keys),*] }))
        }
    }
}

fn merge_strategy(private: &TokenStream, strategy: MergeStrategy) -> TokenStream {
    let variant = match strategy {
        MergeStrategy::Merge => quote!(Merge),
        MergeStrategy::Append => quote!(Append),
        MergeStrategy::ReplacePartition => quote!(ReplacePartition),
    };
    quote!(#private::MergeStrategy::#variant)
}

fn dedup(private: &TokenStream, dedup: Dedup) -> TokenStream {
    let variant = match dedup {
        Dedup::Last => quote!(Last),
        Dedup::First => quote!(First),
        Dedup::Hash => quote!(Hash),
        Dedup::None => quote!(None),
    };
    quote!(#private::Dedup::#variant)
}

mod dbt;
mod quality;
mod transform;

pub(crate) use dbt::dbt_schema;
pub(crate) use quality::quality;
pub(crate) use transform::{item as transform_item, transform};

#[cfg(test)]
mod tests;
