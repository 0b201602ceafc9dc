//! Rules of `#[quality(...)]`: the table's full name, keys that contradict each other, the
//! function's signature, and which of the two forms the asset takes (a list of `checks` on an
//! empty function, or a custom check function over `&CheckScope`).

use quote::quote;
use syn::{FnArg, LitStr, ReturnType, Signature, Type};

use super::{generics_tokens, is_name_part};
use crate::ctxt::Ctxt;
use crate::model::{Quality, QualityFn, Written, is_generic};

pub(crate) fn quality(cx: &Ctxt, quality: &Quality) {
    table_name(cx, &quality.table);
    let options = &quality.options;
    if let Some(column) = &options.partition_column {
        partition_column(cx, column);
    }
    if let Some(days) = options
        .rolling_window_days
        .as_ref()
        .filter(|days| days.value == 0)
    {
        let message = "`rolling_window_days` must be at least 1: without a partition, checks \
                       cover that many days back from the run";
        cx.error_spanned_by(&days.origin, message);
    }
    scopes(cx, quality);
}

/// `name` (namespace `bronze`, as for `#[ingestion]`) or `ns.name`.
fn table_name(cx: &Ctxt, lit: &LitStr) {
    let name = lit.value();
    match name.split_once('.') {
        Some((namespace, table)) if is_name_part(namespace) && is_name_part(table) => {}
        None if is_name_part(&name) => {}
        _ => {
            let message = format!(
                "invalid table name \"{name}\": write `name` or `namespace.name`, e.g. \
                 `bronze.events`, each part made of lowercase letters, digits and `_`, not \
                 starting with a digit (`[a-z_][a-z0-9_]*`)"
            );
            cx.error_spanned_by(lit, message);
        }
    }
}

fn partition_column(cx: &Ctxt, lit: &LitStr) {
    let name = lit.value();
    let mut chars = name.chars();
    let is_start = |c: char| c == '_' || c.is_ascii_alphabetic();
    if !(chars.next().is_some_and(is_start) && chars.all(|c| is_start(c) || c.is_ascii_digit())) {
        let message = format!(
            "`partition_column` names a column, \"{name}\" is not one: letters, digits and `_`, \
             not starting with a digit, e.g. `partition_column = \"event_date\"`"
        );
        cx.error_spanned_by(lit, message);
    }
}

/// Keys that choose the checks' scope, and combinations that leave one of them unused.
fn scopes(cx: &Ctxt, quality: &Quality) {
    let options = &quality.options;
    let is_true = |flag: &Option<Written<bool>>| flag.as_ref().filter(|flag| flag.value).cloned();
    let is_false = |flag: &Option<Written<bool>>| flag.as_ref().filter(|flag| !flag.value).cloned();
    if is_true(&options.full_table).is_some() {
        let fix = "checks of a `full_table = true` asset always cover the whole table; remove one";
        if let Some(aware) = is_true(&options.partition_aware) {
            let message =
                format!("`partition_aware = true` contradicts `full_table = true`: {fix}");
            cx.error_spanned_by(&aware.origin, message);
        }
        if let Some(days) = &options.rolling_window_days {
            let message =
                format!("`rolling_window_days` is unused with `full_table = true`: {fix}");
            cx.error_spanned_by(&days.origin, message);
        }
        if let Some(column) = &options.partition_column {
            let message = format!("`partition_column` is unused with `full_table = true`: {fix}");
            cx.error_spanned_by(column, message);
        }
    } else if let (Some(_), Some(column)) = (
        is_false(&options.partition_aware),
        &options.partition_column,
    ) {
        let message = "`partition_column` is unused with `partition_aware = false`: checks then \
                       cover a rolling window, not a partition; remove one";
        cx.error_spanned_by(column, message);
    }
}

// ---------------------------------------------------------------------------------------------
// The function under #[quality]

const EXPECTED: &str = "expected `fn name() {}` with `checks = [...]`, or a custom check \
                        `async fn name(scope: &CheckScope) -> phlo::Result<CheckOutcome>`";

pub(crate) fn signature(cx: &Ctxt, func: &QualityFn) {
    let sig = &func.sig;
    if let Some(token) = &sig.unsafety {
        cx.error_spanned_by(
            token,
            format!("a `#[quality]` function cannot be `unsafe`; {EXPECTED}"),
        );
    }
    if is_generic(&sig.generics) {
        let message = format!(
            "a `#[quality]` function cannot be generic: phlo calls it with a `&CheckScope` and \
             needs one concrete return type; {EXPECTED}"
        );
        cx.error_spanned_by(generics_tokens(&sig.generics), message);
    }
    parameters(cx, sig);
}

fn parameters(cx: &Ctxt, sig: &Signature) {
    let mut inputs = sig.inputs.iter();
    match inputs.next() {
        None => return,
        Some(FnArg::Receiver(receiver)) => {
            let message = format!(
                "`#[quality]` goes on a free function, not a method: move it out of the `impl` \
                 block; {EXPECTED}"
            );
            cx.error_spanned_by(receiver, message);
            return;
        }
        Some(FnArg::Typed(arg)) => scope_parameter(cx, &arg.ty),
    }
    let extra: Vec<&FnArg> = inputs.collect();
    if !extra.is_empty() {
        let message = format!(
            "a custom quality check takes exactly one parameter, `scope: &CheckScope`; remove \
             the others; {EXPECTED}"
        );
        cx.error_spanned_by(quote!(#(#extra),*), message);
    }
    if let ReturnType::Default = sig.output {
        let message = format!(
            "a custom quality check returns its outcome: add `-> phlo::Result<CheckOutcome>`; \
             {EXPECTED}"
        );
        cx.error_spanned_by(sig, message);
    }
}

fn scope_parameter(cx: &Ctxt, ty: &Type) {
    match ty {
        Type::Reference(reference) if reference.mutability.is_none() => {}
        Type::Reference(reference) => {
            let message = format!("borrow the scope shared: `&CheckScope`, not `&mut`; {EXPECTED}");
            cx.error_spanned_by(reference, message);
        }
        ty => {
            let message = format!(
                "a custom quality check borrows the scope: write `scope: &CheckScope`; {EXPECTED}"
            );
            cx.error_spanned_by(ty, message);
        }
    }
}

/// Which form the asset takes: without a parameter, it needs `checks` and its (empty) body is
/// never called; with one, the function is a custom check, `checks` being optional.
pub(crate) fn form(cx: &Ctxt, quality: &Quality, func: &QualityFn) {
    if func.takes_scope() {
        return;
    }
    if quality.checks.is_none() {
        let message = "a quality asset needs `checks = [...]` or a function taking \
                       `scope: &CheckScope`: add `checks = [NullCheck::new([\"id\"])]` to \
                       `#[quality(...)]`, or write a custom check here, \
                       `(scope: &CheckScope) -> phlo::Result<CheckOutcome>`";
        cx.error_at(func.sig.paren_token.span.join(), message);
    } else if !func.body.stream().is_empty() {
        let message = "this body is never called: a `#[quality]` function without parameter only \
                       registers its `checks`; leave the body empty (`{}`), or take \
                       `scope: &CheckScope` and return `phlo::Result<CheckOutcome>` to run it \
                       as a custom check";
        cx.error_spanned_by(&func.body, message);
    }
}

#[cfg(test)]
mod tests;
