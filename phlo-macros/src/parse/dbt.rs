//! `dbt_schema!("path/to/schema.yml", "model", name = Type)`: the arguments, and the file they
//! name (mapping its content is [`crate::dbt`]'s business).

use std::path::{Path as FsPath, PathBuf};

use proc_macro2::{Span, TokenStream};
use syn::parse::{ParseStream, Parser};
use syn::{Expr, ExprLit, Ident, Lit, LitStr, Token};

use super::keys::{self, Key, KeySet};
use super::value;
use crate::ctxt::Ctxt;
use crate::model::DbtSchema;

const USAGE: &str = "write `dbt_schema!(\"models/schema.yml\", \"orders\")`: the dbt YAML file \
                     (relative to the crate root), then the model";

#[derive(Clone, Copy)]
enum DbtKey {
    Name,
    Crate,
}

static DBT_KEYS: KeySet<DbtKey> = KeySet {
    place: "in `dbt_schema!(...)`",
    keys: &[
        Key::value(DbtKey::Name, "name", "name = Order"),
        Key::value(DbtKey::Crate, "crate", "crate = \"::phlo\""),
    ],
    elsewhere: None,
};

/// Reads the macro's input. `None` when something was recorded in `cx`.
pub(crate) fn args(cx: &Ctxt, tokens: TokenStream) -> Option<DbtSchema> {
    let local = Ctxt::new();
    let read = (|input: ParseStream| read_args(&local, input)).parse2(tokens);
    let args = local.ok(read).flatten();
    local.check().map_err(|errors| cx.syn_error(errors)).ok()?;
    args
}

fn read_args(cx: &Ctxt, input: ParseStream) -> syn::Result<Option<DbtSchema>> {
    if input.is_empty() {
        let message = format!("`dbt_schema!` needs a file and a model: {USAGE}");
        return Err(syn::Error::new(Span::call_site(), message));
    }
    let path = positional(cx, input, "first, the path of the dbt YAML file");
    if !input.is_empty() {
        input.parse::<Token![,]>()?;
    }
    if input.is_empty() {
        let message = format!("`dbt_schema!` needs the model's name after the file: {USAGE}");
        cx.error_spanned_by(&path, message);
        return Ok(None);
    }
    let model = positional(cx, input, "second, the name of the dbt model");
    let (mut name, mut krate) = (None, None);
    if !input.is_empty() {
        input.parse::<Token![,]>()?;
        let mut seen = Vec::new();
        let rest: TokenStream = input.parse()?;
        let parser = syn::meta::parser(|meta| {
            let Some(key) = keys::accept(cx, &meta, &DBT_KEYS, &mut seen)? else {
                return Ok(());
            };
            let expr: Expr = meta.value()?.parse()?;
            match key.id {
                DbtKey::Name => name = cx.ok(struct_name(&expr, key)),
                DbtKey::Crate => krate = cx.ok(value::path_in_string(&expr, key)),
            }
            Ok(())
        });
        cx.ok(parser.parse2(rest));
    }
    Ok(path.zip(model).map(|(path, model)| DbtSchema {
        krate: krate.unwrap_or_else(crate::model::default_crate_path),
        path,
        model,
        name,
    }))
}

/// A positional string literal; anything else is recorded, and read past up to the next comma.
fn positional(cx: &Ctxt, input: ParseStream, what: &str) -> Option<LitStr> {
    let expr = cx.ok(input.parse::<Expr>())?;
    if let Expr::Lit(ExprLit {
        lit: Lit::Str(lit), ..
    }) = &expr
    {
        return Some(lit.clone());
    }
    let message = format!("`dbt_schema!` takes, {what}, as a string literal: {USAGE}");
    cx.error_spanned_by(&expr, message);
    None
}

/// `name = Order`: a plain identifier.
fn struct_name(expr: &Expr, key: &Key<DbtKey>) -> syn::Result<Ident> {
    let path = value::path(expr, key, "the struct's name")?;
    match path.get_ident() {
        Some(ident) => Ok(ident.clone()),
        None => Err(syn::Error::new_spanned(
            &path,
            "`name` takes the struct's name, a plain identifier, e.g. `name = Order`",
        )),
    }
}

/// The file's text and its absolute path (for `include_str!`), or the message saying why not.
#[derive(Debug)]
pub(crate) struct DbtFile {
    pub(crate) path: PathBuf,
    pub(crate) text: String,
}

/// Reads `written`: relative to `manifest_dir` (the crate root) first; when no file is there,
/// relative to `source_dir` (the directory of the invoking source file), as `include_str!`
/// would. The error names every path tried and the OS error.
pub(crate) fn read(
    written: &str,
    manifest_dir: Option<&FsPath>,
    source_dir: Option<&FsPath>,
) -> Result<DbtFile, String> {
    let relative = FsPath::new(written);
    let mut candidates: Vec<PathBuf> = Vec::new();
    if relative.is_absolute() {
        candidates.push(relative.to_path_buf());
    } else {
        candidates.extend(manifest_dir.map(|dir| dir.join(relative)));
        candidates.extend(source_dir.map(|dir| dir.join(relative)));
    }
    let mut first_error = None;
    for candidate in &candidates {
        match std::fs::read_to_string(candidate) {
            Ok(text) => {
                let path = std::fs::canonicalize(candidate).unwrap_or_else(|_| candidate.clone());
                return Ok(DbtFile { path, text });
            }
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => {
                first_error.get_or_insert(error);
            }
            Err(error) => {
                return Err(format!(
                    "cannot read the dbt file `{}`: {error}",
                    candidate.display()
                ));
            }
        }
    }
    let tried: Vec<String> = candidates
        .iter()
        .map(|path| format!("`{}`", path.display()))
        .collect();
    Err(match (first_error, tried.split_first()) {
        (Some(error), Some((first, rest))) => {
            let also = if rest.is_empty() {
                String::new()
            } else {
                format!(" (also tried {})", rest.join(", "))
            };
            let hint = if relative.is_absolute() {
                ""
            } else {
                "; the path is relative to the crate root, the directory of its Cargo.toml"
            };
            format!("cannot read the dbt file {first}{also}: {error}{hint}")
        }
        _ => "cannot locate the dbt file: `CARGO_MANIFEST_DIR` is not set; build with cargo, or \
              give an absolute path"
            .to_string(),
    })
}

/// The directory of the crate being compiled, as cargo sets it.
pub(crate) fn manifest_dir() -> Option<PathBuf> {
    std::env::var_os("CARGO_MANIFEST_DIR").map(PathBuf::from)
}

/// `include_str!` of the file makes cargo rebuild the crate when it changes.
pub(crate) fn path_literal(path: &FsPath, span: Span) -> Result<LitStr, String> {
    match path.to_str() {
        Some(path) => Ok(LitStr::new(path, span)),
        None => Err(format!(
            "the dbt file's path `{}` is not valid UTF-8; move the file to a UTF-8 path",
            path.display()
        )),
    }
}

#[cfg(test)]
mod tests;
