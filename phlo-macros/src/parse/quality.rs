//! `#[quality(...)]`: the attribute's keys, the checks it lists (recognised syntactically, never
//! evaluated), and the function's signature (never its body).

use proc_macro2::TokenStream;
use quote::ToTokens;
use syn::meta::ParseNestedMeta;
use syn::parse::Parser;
use syn::{Expr, ExprCall, GenericArgument, Ident, Lit, LitStr, Path, PathArguments, Type};

use super::item::FnItem;
use super::keys::{self, Key, KeySet};
use super::value;
use crate::ctxt::Ctxt;
use crate::model::{CheckExpr, Checks, NamedColumns, Quality, QualityFn, QualityOptions, Written};

#[derive(Clone, Copy)]
enum QualityKey {
    Table,
    Checks,
    Blocking,
    PartitionAware,
    PartitionColumn,
    RollingWindowDays,
    FullTable,
    Group,
    Schema,
    Crate,
}

static QUALITY_KEYS: KeySet<QualityKey> = KeySet {
    place: "in `#[quality(...)]`",
    keys: &[
        Key::value(QualityKey::Table, "table", "table = \"bronze.events\""),
        Key::value(
            QualityKey::Checks,
            "checks",
            "checks = [NullCheck::new([\"id\"]), CountCheck::new().min_rows(1)]",
        ),
        Key::value(QualityKey::Blocking, "blocking", "blocking = false"),
        Key::value(
            QualityKey::PartitionAware,
            "partition_aware",
            "partition_aware = false",
        ),
        Key::value(
            QualityKey::PartitionColumn,
            "partition_column",
            "partition_column = \"event_date\"",
        ),
        Key::value(
            QualityKey::RollingWindowDays,
            "rolling_window_days",
            "rolling_window_days = 7",
        ),
        Key::value(QualityKey::FullTable, "full_table", "full_table = true"),
        Key::value(QualityKey::Group, "group", "group = \"bronze\""),
        Key::value(QualityKey::Schema, "schema", "schema = Event"),
        Key::value(QualityKey::Crate, "crate", "crate = \"::phlo\""),
    ],
    elsewhere: None,
};

/// The built-in checks whose first argument names columns, checked against the schema.
pub(crate) const COLUMN_CHECKS: &[&str] = &[
    "NullCheck",
    "RangeCheck",
    "UniqueCheck",
    "FreshnessCheck",
    "PatternCheck",
    "AcceptedValuesCheck",
];

/// The keys read so far; `table` becomes required when the model is built.
#[derive(Default)]
struct Args {
    krate: Option<Path>,
    table: Option<LitStr>,
    checks: Option<Checks>,
    schema: Option<Path>,
    options: QualityOptions,
}

/// Reads `#[quality(...)]`'s arguments. The model is built only when every key was read
/// cleanly, so that validation never reports a consequence of a parse error.
pub(crate) fn args(cx: &Ctxt, tokens: TokenStream) -> Option<Quality> {
    let local = Ctxt::new();
    let args = read_args(&local, &tokens);
    local.check().map_err(|errors| cx.syn_error(errors)).ok()?;
    let args = args?;
    Some(Quality {
        krate: args.krate.unwrap_or_else(crate::model::default_crate_path),
        table: args.table?,
        checks: args.checks,
        schema: args.schema,
        options: args.options,
    })
}

fn read_args(cx: &Ctxt, tokens: &TokenStream) -> Option<Args> {
    let mut args = Args::default();
    let mut seen = Vec::new();
    let parser = syn::meta::parser(|meta| {
        if let Some(key) = keys::accept(cx, &meta, &QUALITY_KEYS, &mut seen)? {
            read_key(cx, &meta, key, &mut args)?;
        }
        Ok(())
    });
    // When the list could not be read to its end, later keys are unknown: don't call them missing.
    cx.ok(parser.parse2(tokens.clone()))?;
    if args.table.is_none() && !seen.contains(&"table") {
        let message = "`#[quality]` needs the `table` it checks: add `table = \"bronze.events\"` \
                       (`namespace.name`)";
        cx.error_spanned_by(tokens, message);
    }
    Some(args)
}

/// Reads the value of one accepted key; a bad value is recorded in `cx`, `Err` is kept for
/// tokens that cannot be read at all.
fn read_key(
    cx: &Ctxt,
    meta: &ParseNestedMeta,
    key: &Key<QualityKey>,
    args: &mut Args,
) -> syn::Result<()> {
    let expr = || -> syn::Result<Expr> { meta.value()?.parse() };
    let options = &mut args.options;
    match key.id {
        QualityKey::Table => args.table = cx.ok(value::string(&expr()?, key)),
        QualityKey::Checks => args.checks = cx.ok(checks(&expr()?, key)),
        QualityKey::Schema => args.schema = cx.ok(value::type_path(meta.value()?, key)?),
        QualityKey::Crate => args.krate = cx.ok(value::path_in_string(&expr()?, key)),
        QualityKey::Blocking => options.blocking = cx.ok(value::boolean(&expr()?, key)),
        QualityKey::PartitionAware => {
            let expr = expr()?;
            options.partition_aware = cx
                .ok(value::boolean(&expr, key))
                .map(|value| written(&expr, value));
        }
        QualityKey::PartitionColumn => {
            options.partition_column = cx.ok(value::string(&expr()?, key));
        }
        QualityKey::RollingWindowDays => {
            let expr = expr()?;
            options.rolling_window_days = cx
                .ok(value::whole(&expr, key))
                .map(|value| written(&expr, value));
        }
        QualityKey::FullTable => {
            let expr = expr()?;
            options.full_table = cx
                .ok(value::boolean(&expr, key))
                .map(|value| written(&expr, value));
        }
        QualityKey::Group => options.group = cx.ok(value::string(&expr()?, key)),
    }
    Ok(())
}

/// A value with the tokens it was read from.
fn written<T>(expr: &Expr, value: T) -> Written<T> {
    Written {
        value,
        origin: expr.to_token_stream(),
    }
}

/// `checks = [a, b, …]`: a bracketed, non-empty list of expressions.
fn checks(expr: &Expr, key: &Key<QualityKey>) -> syn::Result<Checks> {
    let Expr::Array(array) = ungroup(expr) else {
        let message = format!(
            "`checks` takes a list of checks in brackets, e.g. `{}`",
            key.example
        );
        return Err(syn::Error::new_spanned(expr, message));
    };
    if array.elems.is_empty() {
        let message = format!(
            "`checks = []` lists no check: name at least one, e.g. `{}`, or remove `checks` and \
             take `scope: &CheckScope` to write the check as a function",
            key.example
        );
        return Err(syn::Error::new_spanned(expr, message));
    }
    Ok(Checks {
        elems: array.elems.iter().map(check).collect(),
    })
}

fn check(expr: &Expr) -> CheckExpr {
    let base = base_call(expr);
    CheckExpr {
        expr: expr.clone(),
        schema_of: base.and_then(schema_of),
        columns: base.and_then(named_columns),
    }
}

/// The invisible groups `macro_rules!` adds, and parentheses, do not change an expression.
fn ungroup(expr: &Expr) -> &Expr {
    match expr {
        Expr::Group(group) => ungroup(&group.expr),
        Expr::Paren(paren) => ungroup(&paren.expr),
        _ => expr,
    }
}

/// The call a builder chain starts from: `NullCheck::new(..)` in `NullCheck::new(..).warn()`.
fn base_call(expr: &Expr) -> Option<&ExprCall> {
    match ungroup(expr) {
        Expr::MethodCall(call) => base_call(&call.receiver),
        Expr::Call(call) => Some(call),
        _ => None,
    }
}

/// The last two segments of a call's path: `(NullCheck, new)` for `phlo::quality::NullCheck::new`.
fn type_and_function(call: &ExprCall) -> Option<(&syn::PathSegment, &syn::PathSegment)> {
    let Expr::Path(path) = ungroup(&call.func) else {
        return None;
    };
    if path.qself.is_some() {
        return None;
    }
    let mut segments = path.path.segments.iter().rev();
    let function = segments.next()?;
    let ty = segments.next()?;
    Some((ty, function))
}

/// `T` of `SchemaCheck::of::<T>()`.
fn schema_of(call: &ExprCall) -> Option<Type> {
    let (ty, function) = type_and_function(call)?;
    if ty.ident != "SchemaCheck" || function.ident != "of" || !call.args.is_empty() {
        return None;
    }
    let PathArguments::AngleBracketed(generics) = &function.arguments else {
        return None;
    };
    let mut args = generics.args.iter();
    match (args.next(), args.next()) {
        (Some(GenericArgument::Type(schema)), None) => Some(schema.clone()),
        _ => None,
    }
}

/// The column literals of `NullCheck::new(["id", "ts"])`, `RangeCheck::new("value")`, ….
fn named_columns(call: &ExprCall) -> Option<NamedColumns> {
    let (ty, function) = type_and_function(call)?;
    if function.ident != "new" || !COLUMN_CHECKS.iter().any(|name| ty.ident == name) {
        return None;
    }
    let columns: Vec<LitStr> = match ungroup(call.args.first()?) {
        Expr::Array(array) => array.elems.iter().filter_map(string_literal).collect(),
        first => string_literal(first).into_iter().collect(),
    };
    (!columns.is_empty()).then(|| NamedColumns {
        check: Ident::clone(&ty.ident),
        columns,
    })
}

fn string_literal(expr: &Expr) -> Option<LitStr> {
    match ungroup(expr) {
        Expr::Lit(lit) => match &lit.lit {
            Lit::Str(lit) => Some(lit.clone()),
            _ => None,
        },
        _ => None,
    }
}

/// The elements of `checks = [...]` as written, read leniently for the fallback: whatever else
/// is wrong was reported by [`args`]. Naming them in the fallback keeps their imports used.
pub(crate) fn written_checks(tokens: TokenStream) -> Vec<Expr> {
    let mut found = Vec::new();
    let parser = syn::meta::parser(|meta| {
        if meta.path.is_ident("checks") && meta.input.peek(syn::Token![=]) {
            if let Expr::Array(array) = ungroup(&meta.value()?.parse()?) {
                found.extend(array.elems.iter().cloned());
            }
            return Ok(());
        }
        keys::skip_value(&meta)
    });
    // An error here was already reported, with a better message, by `args`.
    let _ = parser.parse2(tokens);
    found
}

/// Reads the item under `#[quality]`; anything but a function is recorded as an error.
pub(crate) fn function(cx: &Ctxt, item: &TokenStream) -> Option<QualityFn> {
    match syn::parse2::<FnItem>(item.clone()) {
        Ok(FnItem {
            attrs, sig, body, ..
        }) => Some(QualityFn { attrs, sig, body }),
        Err(_) => {
            let message = "`#[quality]` goes on a function: `fn events_quality() {}` with \
                           `checks = [...]`, or a custom check \
                           `async fn name(scope: &CheckScope) -> phlo::Result<CheckOutcome> { … }`";
            cx.error_spanned_by(item, message);
            None
        }
    }
}

#[cfg(test)]
mod tests;
