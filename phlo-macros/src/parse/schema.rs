//! `#[derive(Schema)]`: the struct's shape and its `#[phlo(...)]` attributes.

use proc_macro2::{TokenStream, TokenTree};
use quote::{ToTokens, quote};
use syn::meta::ParseNestedMeta;
use syn::parse::Parser;
use syn::{Attribute, Data, DeriveInput, Expr, Fields, parenthesized};

use super::keys::{self, Key, KeySet};
use super::value;
use crate::ctxt::Ctxt;
use crate::model::{self, Bound, Constraint, ConstraintKind, SchemaPolicy};

#[derive(Clone, Copy)]
enum StructKey {
    SchemaPolicy,
    Crate,
}

static STRUCT_KEYS: KeySet<StructKey> = KeySet {
    place: "on the struct",
    keys: &[
        Key::value(
            StructKey::SchemaPolicy,
            "schema_policy",
            "schema_policy = \"strict\"",
        ),
        Key::value(StructKey::Crate, "crate", "crate = \"::phlo\""),
    ],
    elsewhere: Some(&FIELD_KEYS),
};

const POLICIES: &[(&str, SchemaPolicy)] = &[
    ("strict", SchemaPolicy::Strict),
    ("drop_extra", SchemaPolicy::DropExtra),
    ("additive", SchemaPolicy::Additive),
];

#[derive(Clone, Copy)]
enum FieldKey {
    Unique,
    Bound(Bound),
    IsIn,
    NotIn,
    Regex,
    StrLength,
    Check,
}

static FIELD_KEYS: KeySet<FieldKey> = KeySet {
    place: "on a field",
    keys: &[
        Key::flag(FieldKey::Unique, "unique"),
        Key::value(FieldKey::Bound(Bound::Ge), "ge", "ge = 0"),
        Key::value(FieldKey::Bound(Bound::Gt), "gt", "gt = 0"),
        Key::value(FieldKey::Bound(Bound::Le), "le", "le = 100"),
        Key::value(FieldKey::Bound(Bound::Lt), "lt", "lt = 100"),
        Key::value(FieldKey::IsIn, "isin", "isin = [\"a\", \"b\"]"),
        Key::value(FieldKey::NotIn, "notin", "notin = [\"a\", \"b\"]"),
        Key::value(FieldKey::Regex, "regex", "regex = \"^[a-z]+$\""),
        Key::list(
            FieldKey::StrLength,
            "str_length",
            "str_length(min = 1, max = 10)",
        ),
        Key::value(FieldKey::Check, "check", "check = my_checks::positive"),
    ],
    elsewhere: Some(&STRUCT_KEYS),
};

#[derive(Clone, Copy)]
enum LengthKey {
    Min,
    Max,
}

static LENGTH_KEYS: KeySet<LengthKey> = KeySet {
    place: "in `str_length(...)`",
    keys: &[
        Key::value(LengthKey::Min, "min", "min = 1"),
        Key::value(LengthKey::Max, "max", "max = 10"),
    ],
    elsewhere: None,
};

/// Reads the whole input. Always yields a model (an enum gets no fields), so that the fallback
/// can still emit a placeholder impl; whatever is wrong is recorded in `cx`.
pub(crate) fn schema(cx: &Ctxt, input: &DeriveInput) -> model::Schema {
    let (krate, policy) = struct_attrs(cx, &input.attrs);
    model::Schema {
        krate: krate.unwrap_or_else(model::default_crate_path),
        ident: input.ident.clone(),
        generics: input.generics.clone(),
        policy: policy.unwrap_or(SchemaPolicy::Strict),
        fields: fields(cx, input),
    }
}

fn phlo_attrs(attrs: &[Attribute]) -> impl Iterator<Item = &Attribute> {
    attrs.iter().filter(|attr| attr.path().is_ident("phlo"))
}

fn struct_attrs(cx: &Ctxt, attrs: &[Attribute]) -> (Option<syn::Path>, Option<SchemaPolicy>) {
    let (mut krate, mut policy) = (None, None);
    let mut seen = Vec::new();
    for attr in phlo_attrs(attrs) {
        let parsed = attr.parse_nested_meta(|meta| {
            let Some(key) = keys::accept(cx, &meta, &STRUCT_KEYS, &mut seen)? else {
                return Ok(());
            };
            let expr: Expr = meta.value()?.parse()?;
            match key.id {
                StructKey::SchemaPolicy => {
                    policy = cx
                        .ok(value::choice(&expr, key, POLICIES))
                        .map(|choice| choice.value);
                }
                StructKey::Crate => krate = cx.ok(value::path_in_string(&expr, key)),
            }
            Ok(())
        });
        cx.ok(parsed);
    }
    (krate, policy)
}

fn fields(cx: &Ctxt, input: &DeriveInput) -> Vec<model::Field> {
    let ident = &input.ident;
    let message = "`Schema` can only be derived for a struct with named fields, \
                   e.g. `struct Event { id: String }`";
    match &input.data {
        Data::Struct(data) => match &data.fields {
            Fields::Named(named) if named.named.is_empty() => {
                cx.error_spanned_by(
                    named,
                    "`Schema` needs at least one field: each field is a column",
                );
                Vec::new()
            }
            Fields::Named(named) => named
                .named
                .iter()
                .filter_map(|field| self::field(cx, field))
                .collect(),
            Fields::Unnamed(unnamed) => {
                cx.error_spanned_by(unnamed, message);
                Vec::new()
            }
            Fields::Unit => {
                cx.error_spanned_by(quote!(#ident), message);
                Vec::new()
            }
        },
        Data::Enum(data) => {
            let token = data.enum_token;
            cx.error_spanned_by(
                quote!(#token #ident),
                format!("{message}; `{ident}` is an enum"),
            );
            Vec::new()
        }
        Data::Union(data) => {
            let token = data.union_token;
            cx.error_spanned_by(
                quote!(#token #ident),
                format!("{message}; `{ident}` is a union"),
            );
            Vec::new()
        }
    }
}

fn field(cx: &Ctxt, field: &syn::Field) -> Option<model::Field> {
    let ident = field.ident.clone()?;
    let mut constraints = Vec::new();
    let mut seen = Vec::new();
    for attr in phlo_attrs(&field.attrs) {
        let parsed = attr.parse_nested_meta(|meta| {
            if let Some(key) = keys::accept(cx, &meta, &FIELD_KEYS, &mut seen)? {
                constraints.extend(constraint(cx, &meta, key)?);
            }
            Ok(())
        });
        cx.ok(parsed);
    }
    Some(model::Field {
        ident,
        ty: field.ty.clone(),
        constraints,
    })
}

/// Reads the value of one accepted field key. A bad value is recorded in `cx` (`Ok(None)`);
/// `Err` is kept for tokens that cannot be read at all.
fn constraint(
    cx: &Ctxt,
    meta: &ParseNestedMeta,
    key: &Key<FieldKey>,
) -> syn::Result<Option<Constraint>> {
    match key.id {
        FieldKey::Unique => {
            let origin = meta.path.to_token_stream();
            Ok(Some(Constraint {
                kind: ConstraintKind::Unique,
                origin,
            }))
        }
        FieldKey::StrLength => str_length(cx, meta),
        FieldKey::Bound(bound) => valued(cx, meta, |expr| {
            Ok(ConstraintKind::Bound(bound, value::number(expr, key)?))
        }),
        FieldKey::IsIn => valued(cx, meta, |expr| {
            value::scalars(expr, key).map(ConstraintKind::IsIn)
        }),
        FieldKey::NotIn => valued(cx, meta, |expr| {
            value::scalars(expr, key).map(ConstraintKind::NotIn)
        }),
        FieldKey::Regex => valued(cx, meta, |expr| {
            value::string(expr, key).map(ConstraintKind::Regex)
        }),
        FieldKey::Check => valued(cx, meta, |expr| {
            value::path(expr, key, "the path of a check function").map(ConstraintKind::Custom)
        }),
    }
}

/// Reads `= value` with `read`; a value `read` rejects is recorded in `cx`.
fn valued(
    cx: &Ctxt,
    meta: &ParseNestedMeta,
    read: impl FnOnce(&Expr) -> syn::Result<ConstraintKind>,
) -> syn::Result<Option<Constraint>> {
    let expr: Expr = meta.value()?.parse()?;
    let path = &meta.path;
    let origin = quote!(#path = #expr);
    Ok(cx.ok(read(&expr)).map(|kind| Constraint { kind, origin }))
}

/// `str_length(min = 1, max = 10)`; whether the bounds make sense is `validate`'s business.
/// `str_length()` is read as "no bounds" (reported by `validate`), not as a syntax error.
fn str_length(cx: &Ctxt, meta: &ParseNestedMeta) -> syn::Result<Option<Constraint>> {
    let path = &meta.path;
    let list: TokenTree = meta.input.fork().parse()?;
    let origin = quote!(#path #list);
    let content;
    parenthesized!(content in meta.input);
    let entries: TokenStream = content.parse()?;
    let mut bounds = LengthBounds::default();
    if !entries.is_empty() {
        syn::meta::parser(|inner| bounds.read(cx, &inner)).parse2(entries)?;
    }
    let LengthBounds {
        min, max, all_read, ..
    } = bounds;
    Ok(all_read.then_some(Constraint {
        kind: ConstraintKind::StrLength { min, max },
        origin,
    }))
}

/// What `str_length(...)` holds so far.
struct LengthBounds {
    min: Option<usize>,
    max: Option<usize>,
    seen: Vec<&'static str>,
    /// False once an entry was rejected: the constraint is then dropped, not half-built.
    all_read: bool,
}

impl Default for LengthBounds {
    fn default() -> Self {
        Self {
            min: None,
            max: None,
            seen: Vec::new(),
            all_read: true,
        }
    }
}

impl LengthBounds {
    fn read(&mut self, cx: &Ctxt, meta: &ParseNestedMeta) -> syn::Result<()> {
        let Some(key) = keys::accept(cx, meta, &LENGTH_KEYS, &mut self.seen)? else {
            self.all_read = false;
            return Ok(());
        };
        let expr: Expr = meta.value()?.parse()?;
        let bound = cx.ok(value::whole::<usize, _>(&expr, key));
        self.all_read &= bound.is_some();
        match key.id {
            LengthKey::Min => self.min = bound,
            LengthKey::Max => self.max = bound,
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests;
