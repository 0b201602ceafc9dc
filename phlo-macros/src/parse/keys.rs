//! The keys an attribute accepts, and the checks every key goes through before its value is
//! read: known key, not given twice, written in the right shape (`flag`, `key = value`,
//! `key(...)`). Each failure is recorded and its tokens skipped, so the next key is still read.

use proc_macro2::TokenTree;
use quote::ToTokens;
use syn::meta::ParseNestedMeta;
use syn::{Path, Token, token};

use crate::ctxt::Ctxt;

/// How a key is written.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Shape {
    /// `unique`
    Flag,
    /// `ge = 0`
    Value,
    /// `str_length(min = 1)`
    List,
}

/// One accepted key: its typed id, its spelling, its shape and an example used in messages.
pub(crate) struct Key<K: 'static> {
    pub(crate) id: K,
    pub(crate) name: &'static str,
    pub(crate) shape: Shape,
    pub(crate) example: &'static str,
}

impl<K> Key<K> {
    pub(crate) const fn flag(id: K, name: &'static str) -> Self {
        Self {
            id,
            name,
            shape: Shape::Flag,
            example: name,
        }
    }

    pub(crate) const fn value(id: K, name: &'static str, example: &'static str) -> Self {
        Self {
            id,
            name,
            shape: Shape::Value,
            example,
        }
    }

    pub(crate) const fn list(id: K, name: &'static str, example: &'static str) -> Self {
        Self {
            id,
            name,
            shape: Shape::List,
            example,
        }
    }

    fn shape_message(&self) -> String {
        let how = match self.shape {
            Shape::Flag => "is a flag and takes no value",
            Shape::Value => "takes a value",
            Shape::List => "takes a parenthesized list",
        };
        format!("`{}` {how}: write `{}`", self.name, self.example)
    }
}

/// Names of another key set, to say "this key goes elsewhere" instead of "unknown key".
pub(crate) trait KeyNames: Sync {
    fn place(&self) -> &'static str;
    fn has(&self, name: &str) -> bool;
}

/// All keys accepted in one place (on a struct, on a field, in `#[ingestion(...)]`).
pub(crate) struct KeySet<K: 'static> {
    /// Where these keys go, as in "`unique` goes on a field".
    pub(crate) place: &'static str,
    pub(crate) keys: &'static [Key<K>],
    /// Keys of a neighbouring place, for a better message when one is misplaced.
    pub(crate) elsewhere: Option<&'static dyn KeyNames>,
}

impl<K: Sync> KeyNames for KeySet<K> {
    fn place(&self) -> &'static str {
        self.place
    }

    fn has(&self, name: &str) -> bool {
        self.keys.iter().any(|key| key.name == name)
    }
}

impl<K> KeySet<K> {
    fn lookup(&self, path: &Path) -> Option<&'static Key<K>> {
        let ident = path.get_ident()?;
        self.keys.iter().find(|key| ident == key.name)
    }

    fn unknown_message(&self, path: &Path) -> String {
        let written = path.to_token_stream().to_string().replace(' ', "");
        if let Some(other) = self.elsewhere.filter(|other| other.has(&written)) {
            return format!("`{written}` goes {}, not {}", other.place(), self.place);
        }
        let valid: Vec<&str> = self.keys.iter().map(|key| key.name).collect();
        format!(
            "unknown phlo attribute `{written}`; valid keys are: {}",
            valid.join(", ")
        )
    }
}

/// Runs the checks common to every key. `Some(key)` means the caller may now read its value;
/// `None` means an error was recorded and the key's tokens were skipped. `seen` holds the keys
/// already given in this place (across several attributes on the same item).
pub(crate) fn accept<K>(
    cx: &Ctxt,
    meta: &ParseNestedMeta,
    set: &KeySet<K>,
    seen: &mut Vec<&'static str>,
) -> syn::Result<Option<&'static Key<K>>> {
    let Some(key) = set.lookup(&meta.path) else {
        cx.error_spanned_by(&meta.path, set.unknown_message(&meta.path));
        return skip_value(meta).map(|()| None);
    };
    if seen.contains(&key.name) {
        let message = format!("duplicate phlo attribute `{}`; give it once", key.name);
        cx.error_spanned_by(&meta.path, message);
        return skip_value(meta).map(|()| None);
    }
    seen.push(key.name);
    if !has_shape(meta, key.shape) {
        cx.error_spanned_by(&meta.path, key.shape_message());
        return skip_value(meta).map(|()| None);
    }
    Ok(Some(key))
}

fn has_shape(meta: &ParseNestedMeta, shape: Shape) -> bool {
    let input = meta.input;
    match shape {
        Shape::Flag => input.is_empty() || input.peek(Token![,]),
        Shape::Value => input.peek(Token![=]),
        Shape::List => input.peek(token::Paren),
    }
}

/// Consumes whatever follows a rejected key, up to the next top-level comma.
pub(crate) fn skip_value(meta: &ParseNestedMeta) -> syn::Result<()> {
    while !meta.input.is_empty() && !meta.input.peek(Token![,]) {
        meta.input.parse::<TokenTree>()?;
    }
    Ok(())
}

#[cfg(test)]
mod tests;
