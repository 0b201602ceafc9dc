//! Reading one value (`= value`) into a typed model value. Each reader either succeeds or
//! returns an error at the value that says what the key takes, with the key's example.

use std::fmt::Display;
use std::str::FromStr;

use quote::ToTokens;
use syn::parse::ParseStream;
use syn::{Expr, ExprLit, Lit, LitStr, Path, Type, UnOp};

use super::keys::Key;
use crate::model::{Choice, Finite, Measure, Number, Scalar};

/// "`key` takes <what>, e.g. `<example>`", at `tokens`.
fn expected<K>(tokens: impl ToTokens, key: &Key<K>, what: &str) -> syn::Error {
    let message = format!("`{}` takes {what}, e.g. `{}`", key.name, key.example);
    syn::Error::new_spanned(tokens, message)
}

/// The literal of `expr`, looking through the invisible groups `macro_rules!` adds.
fn literal(expr: &Expr) -> Option<&Lit> {
    match expr {
        Expr::Lit(ExprLit { lit, attrs }) if attrs.is_empty() => Some(lit),
        Expr::Group(group) => literal(&group.expr),
        _ => None,
    }
}

pub(crate) fn string<K>(expr: &Expr, key: &Key<K>) -> syn::Result<LitStr> {
    match literal(expr) {
        Some(Lit::Str(lit)) => Ok(lit.clone()),
        _ => Err(expected(expr, key, "a string")),
    }
}

pub(crate) fn boolean<K>(expr: &Expr, key: &Key<K>) -> syn::Result<bool> {
    match literal(expr) {
        Some(Lit::Bool(lit)) => Ok(lit.value),
        _ => Err(expected(expr, key, "`true` or `false`")),
    }
}

/// A whole number that fits `T` (`u32`, `usize`); no sign, no fraction.
pub(crate) fn whole<T, K>(expr: &Expr, key: &Key<K>) -> syn::Result<T>
where
    T: FromStr,
    T::Err: Display,
{
    match literal(expr) {
        Some(Lit::Int(lit)) => lit
            .base10_parse()
            .map_err(|_| expected(expr, key, "a whole number")),
        _ => Err(expected(expr, key, "a whole number")),
    }
}

/// An integer that fits `T` (`i32`), possibly negative (`-1`); no fraction.
pub(crate) fn integer<T, K>(expr: &Expr, key: &Key<K>) -> syn::Result<T>
where
    T: TryFrom<i64>,
{
    let what = "a whole number, possibly negative";
    let too_large = || {
        let what = format!("{what}, that fits in an `{}`", std::any::type_name::<T>());
        expected(expr, key, &what)
    };
    match number(expr, key) {
        Ok(Number::Int(value)) => T::try_from(value).map_err(|_| too_large()),
        // An integer literal beyond `i64`.
        Err(_) if is_integer_literal(expr) => Err(too_large()),
        _ => Err(expected(expr, key, what)),
    }
}

/// `12` or `-12`, whatever its size.
fn is_integer_literal(expr: &Expr) -> bool {
    let lit = match expr {
        Expr::Unary(unary) if matches!(unary.op, UnOp::Neg(_)) => literal(&unary.expr),
        _ => literal(expr),
    };
    matches!(lit, Some(Lit::Int(_)))
}

/// An integer or float literal, possibly negative (`-1.5`).
pub(crate) fn number<K>(expr: &Expr, key: &Key<K>) -> syn::Result<Number> {
    let (negative, lit) = match expr {
        Expr::Unary(unary) if matches!(unary.op, UnOp::Neg(_)) => (true, literal(&unary.expr)),
        _ => (false, literal(expr)),
    };
    let sign = if negative { "-" } else { "" };
    match lit {
        Some(Lit::Int(lit)) => format!("{sign}{}", lit.base10_digits())
            .parse()
            .map(Number::Int)
            .map_err(|_| syn::Error::new_spanned(expr, "this integer does not fit in an i64")),
        Some(Lit::Float(lit)) => format!("{sign}{}", lit.base10_digits())
            .parse()
            .ok()
            .and_then(Finite::new)
            .map(Number::Float)
            .ok_or_else(|| syn::Error::new_spanned(expr, "this number is too large for an f64")),
        _ => Err(expected(expr, key, "a number")),
    }
}

/// A number converted to `f64`, kept with its tokens (seconds, hours).
pub(crate) fn measure<K>(expr: &Expr, key: &Key<K>) -> syn::Result<Measure> {
    let value = number(expr, key)?.to_finite();
    Ok(Measure {
        value,
        origin: expr.to_token_stream(),
    })
}

/// `(a, b)`: a pair of numbers.
pub(crate) fn pair<K>(expr: &Expr, key: &Key<K>) -> syn::Result<(Measure, Measure)> {
    let what = "a pair of numbers";
    let Expr::Tuple(tuple) = expr else {
        return Err(expected(expr, key, what));
    };
    let mut elems = tuple.elems.iter();
    match (elems.next(), elems.next(), elems.next()) {
        (Some(first), Some(second), None) => Ok((measure(first, key)?, measure(second, key)?)),
        _ => Err(expected(expr, key, what)),
    }
}

/// A path, written bare: `Event`, `crate::models::Event`, `checks::positive`.
pub(crate) fn path<K>(expr: &Expr, key: &Key<K>, what: &str) -> syn::Result<Path> {
    match expr {
        Expr::Path(path) if path.qself.is_none() && path.attrs.is_empty() => Ok(path.path.clone()),
        Expr::Group(group) => path(&group.expr, key, what),
        _ => Err(expected(expr, key, what)),
    }
}

/// A type written as a plain path (`Event`, `models::Event`, `Wrapper<Event>`), read from the
/// tokens after `=` as a type so that generic arguments read as part of it. The outer `Err`
/// is for tokens that cannot be read at all; the inner one for a value of another kind.
pub(crate) fn type_path<K>(input: ParseStream, key: &Key<K>) -> syn::Result<syn::Result<Path>> {
    let what = "the path of a struct that derives `Schema`";
    if input.fork().parse::<Type>().is_err() {
        let expr: Expr = input.parse()?;
        return Ok(Err(expected(&expr, key, what)));
    }
    Ok(match input.parse::<Type>()? {
        Type::Path(path) if path.qself.is_none() => Ok(path.path),
        ty => Err(expected(&ty, key, what)),
    })
}

/// A path written as a string: `crate = "::my_phlo"`.
pub(crate) fn path_in_string<K>(expr: &Expr, key: &Key<K>) -> syn::Result<Path> {
    let what = "the path of the phlo crate as a string";
    let lit = string(expr, key).map_err(|_| expected(expr, key, what))?;
    lit.parse().map_err(|_| expected(&lit, key, what))
}

/// One of `options`, written as a string.
pub(crate) fn choice<T: Copy, K>(
    expr: &Expr,
    key: &Key<K>,
    options: &[(&str, T)],
) -> syn::Result<Choice<T>> {
    let lit = match literal(expr) {
        Some(Lit::Str(lit)) => Some(lit),
        _ => None,
    };
    let chosen = lit.and_then(|lit| {
        let written = lit.value();
        let (_, value) = options.iter().find(|(name, _)| *name == written)?;
        Some(Choice {
            value: *value,
            lit: lit.clone(),
        })
    });
    chosen.ok_or_else(|| {
        let names: Vec<String> = options
            .iter()
            .map(|(name, _)| format!("\"{name}\""))
            .collect();
        let message = format!("`{}` takes {}", key.name, one_of(&names));
        syn::Error::new_spanned(expr, message)
    })
}

/// `a`, `a or b`, `a, b or c`.
fn one_of(names: &[String]) -> String {
    match names.split_last() {
        Some((last, rest)) if !rest.is_empty() => format!("{} or {last}", rest.join(", ")),
        Some((last, _)) => last.clone(),
        None => String::new(),
    }
}

/// A string, or a non-empty list of strings: `"id"`, `["id", "day"]`.
pub(crate) fn strings<K>(expr: &Expr, key: &Key<K>) -> syn::Result<Vec<LitStr>> {
    let what = "a string or a list of strings";
    if let Some(Lit::Str(lit)) = literal(expr) {
        return Ok(vec![lit.clone()]);
    }
    let Expr::Array(array) = expr else {
        return Err(expected(expr, key, what));
    };
    if array.elems.is_empty() {
        return Err(expected(expr, key, "at least one string"));
    }
    array
        .elems
        .iter()
        .map(|elem| string(elem, key).map_err(|_| expected(elem, key, what)))
        .collect()
}

/// A non-empty list of literals of one kind: `["a", "b"]`, `[1, 2]`, `[-0.5, 1.5]`, `[true]`.
pub(crate) fn scalars<K>(expr: &Expr, key: &Key<K>) -> syn::Result<Vec<Scalar>> {
    let what = "a list of strings, numbers or bools";
    let Expr::Array(array) = expr else {
        return Err(expected(expr, key, what));
    };
    let mut values = Vec::with_capacity(array.elems.len());
    for elem in &array.elems {
        let value = scalar(elem).ok_or_else(|| expected(elem, key, what))?;
        if let Some(first) = values
            .first()
            .map(Scalar::kind)
            .filter(|kind| *kind != value.kind())
        {
            let message = format!(
                "`{}` values must all have the same type: this is {}, the first one is {}",
                key.name,
                value.kind().described(),
                first.described(),
            );
            return Err(syn::Error::new_spanned(elem, message));
        }
        values.push(value);
    }
    if values.is_empty() {
        return Err(expected(expr, key, "at least one value"));
    }
    Ok(values)
}

fn scalar(expr: &Expr) -> Option<Scalar> {
    match literal(expr) {
        Some(Lit::Str(lit)) => Some(Scalar::Str(lit.clone())),
        Some(Lit::Bool(lit)) => Some(Scalar::Bool(lit.value)),
        _ => number(expr, &ANY).ok().map(Scalar::Num),
    }
}

/// Key used when only the value matters (the caller reports its own error).
const ANY: Key<()> = Key::value((), "value", "value");

#[cfg(test)]
mod tests;
