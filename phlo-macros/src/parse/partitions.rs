//! `partitions = hourly(start = "…", end = "…", tz = "…", end_offset = 1)` and
//! `static_keys = ["eu", "us"]`, read into the model. Whether the bounds, the time zone and
//! the keys are well formed, and whether the keys agree, is `validate`'s business.

use proc_macro2::{Group, TokenStream};
use quote::{ToTokens, quote};
use syn::ext::IdentExt;
use syn::meta::ParseNestedMeta;
use syn::parse::{ParseStream, Parser};
use syn::{Expr, Ident, Lit, LitStr, Path, Token, token};

use super::keys::{self, Key, KeySet};
use super::value;
use crate::ctxt::Ctxt;
use crate::model::{Cadence, Partitions, StaticKeys, Written};
use crate::suggest;

#[derive(Clone, Copy)]
enum Argument {
    Start,
    End,
    Tz,
    EndOffset,
}

/// The arguments of one cadence; only the examples of the bounds differ.
const fn arguments(start: &'static str, end: &'static str) -> [Key<Argument>; 4] {
    [
        Key::value(Argument::Start, "start", start),
        Key::value(Argument::End, "end", end),
        Key::value(Argument::Tz, "tz", "tz = \"Europe/London\""),
        Key::value(Argument::EndOffset, "end_offset", "end_offset = 1"),
    ]
}

static HOURLY_ARGUMENTS: [Key<Argument>; 4] =
    arguments("start = \"2025-01-01T00\"", "end = \"2026-01-01T00\"");
static DAILY_ARGUMENTS: [Key<Argument>; 4] =
    arguments("start = \"2025-01-01\"", "end = \"2026-01-01\"");
static MONTHLY_ARGUMENTS: [Key<Argument>; 4] =
    arguments("start = \"2020-01\"", "end = \"2030-01\"");

static HOURLY: KeySet<Argument> = KeySet {
    place: "in `hourly(...)`",
    keys: &HOURLY_ARGUMENTS,
    elsewhere: None,
};
static DAILY: KeySet<Argument> = KeySet {
    place: "in `daily(...)`",
    keys: &DAILY_ARGUMENTS,
    elsewhere: None,
};
static MONTHLY: KeySet<Argument> = KeySet {
    place: "in `monthly(...)`",
    keys: &MONTHLY_ARGUMENTS,
    elsewhere: None,
};

fn argument_keys(cadence: Cadence) -> &'static KeySet<Argument> {
    match cadence {
        Cadence::Hourly => &HOURLY,
        Cadence::Daily => &DAILY,
        Cadence::Monthly => &MONTHLY,
    }
}

const CADENCES: &str = "`hourly`, `daily` or `monthly`";
const EXAMPLE: &str = "`partitions = daily` or `partitions = hourly(start = \"2025-01-01T00\", \
                       tz = \"Europe/London\")`";

/// Reads the value of `partitions`: a cadence written bare, optionally with arguments.
/// A value of another kind is recorded in `cx` (`Ok(None)`); `Err` is for tokens that cannot
/// be read at all.
pub(super) fn partitions<K>(
    cx: &Ctxt,
    input: ParseStream,
    key: &Key<K>,
) -> syn::Result<Option<Partitions>> {
    let bare_word = input.peek(Ident::peek_any) && !input.peek(Lit) && !input.peek2(Token![::]);
    if !bare_word {
        let expr: Expr = input.parse()?;
        cx.error_spanned_by(&expr, not_a_cadence(&expr, key));
        return Ok(None);
    }
    let ident = Ident::parse_any(input)?;
    let list: Option<Group> = if input.peek(token::Paren) {
        Some(input.parse()?)
    } else {
        None
    };
    let Some(cadence) = Cadence::ALL
        .into_iter()
        .find(|cadence| ident == cadence.name())
    else {
        cx.error_spanned_by(&ident, unknown_cadence(&ident));
        return Ok(None);
    };
    let mut arguments = Arguments::new(cadence);
    if let Some(entries) = list.as_ref().map(Group::stream).filter(|s| !s.is_empty()) {
        syn::meta::parser(|meta| arguments.read(cx, &meta)).parse2(entries)?;
    }
    let Arguments {
        start,
        end,
        tz,
        end_offset,
        all_read,
        ..
    } = arguments;
    Ok(all_read.then(|| Partitions {
        cadence,
        start,
        end,
        tz,
        end_offset,
    }))
}

fn not_a_cadence<K>(expr: &Expr, key: &Key<K>) -> String {
    let name = key.name;
    match expr {
        Expr::Lit(lit) => match &lit.lit {
            Lit::Str(text) if Cadence::ALL.iter().any(|c| c.name() == text.value()) => {
                format!(
                    "write the cadence without quotes: `{name} = {}`",
                    text.value()
                )
            }
            Lit::Bool(_) => format!(
                "`{name}` takes a cadence, not a bool: write `partitioned = false` to leave the \
                 asset unpartitioned, or e.g. `{name} = daily`"
            ),
            _ => format!("`{name}` takes a cadence, {CADENCES}, e.g. {EXAMPLE}"),
        },
        _ => format!("`{name}` takes a cadence, {CADENCES}, e.g. {EXAMPLE}"),
    }
}

fn unknown_cadence(ident: &Ident) -> String {
    let written = ident.unraw().to_string();
    let names = Cadence::ALL.map(Cadence::name);
    let mut message = format!("unknown cadence `{written}`; ");
    if let Some(hint) = suggest::did_you_mean(&suggest::closest(&written, names)) {
        message.push_str(&hint);
        message.push(' ');
    }
    message.push_str(&format!(
        "`partitions` takes {CADENCES}, optionally with arguments, e.g. {EXAMPLE}"
    ));
    message
}

/// What `hourly(...)` holds so far.
struct Arguments {
    cadence: Cadence,
    start: Option<LitStr>,
    end: Option<LitStr>,
    tz: Option<LitStr>,
    end_offset: Option<Written<i32>>,
    seen: Vec<&'static str>,
    /// False once an argument was rejected: the partitions are then dropped, not half-built.
    all_read: bool,
}

impl Arguments {
    fn new(cadence: Cadence) -> Self {
        Self {
            cadence,
            start: None,
            end: None,
            tz: None,
            end_offset: None,
            seen: Vec::new(),
            all_read: true,
        }
    }

    fn read(&mut self, cx: &Ctxt, meta: &ParseNestedMeta) -> syn::Result<()> {
        let set = argument_keys(self.cadence);
        if !set.keys.iter().any(|key| meta.path.is_ident(key.name)) {
            cx.error_spanned_by(&meta.path, self.unknown_message(&meta.path));
            self.all_read = false;
            return keys::skip_value(meta);
        }
        let Some(key) = keys::accept(cx, meta, set, &mut self.seen)? else {
            self.all_read = false;
            return Ok(());
        };
        let expr: Expr = meta.value()?.parse()?;
        let read = match key.id {
            Argument::Start => {
                self.start = cx.ok(value::string(&expr, key));
                self.start.is_some()
            }
            Argument::End => {
                self.end = cx.ok(value::string(&expr, key));
                self.end.is_some()
            }
            Argument::Tz => {
                self.tz = cx.ok(value::string(&expr, key));
                self.tz.is_some()
            }
            Argument::EndOffset => {
                self.end_offset = cx.ok(value::integer(&expr, key)).map(|value| Written {
                    value,
                    origin: expr.to_token_stream(),
                });
                self.end_offset.is_some()
            }
        };
        self.all_read &= read;
        Ok(())
    }

    fn unknown_message(&self, path: &Path) -> String {
        let written = path.to_token_stream().to_string().replace(' ', "");
        let names: Vec<&str> = argument_keys(self.cadence)
            .keys
            .iter()
            .map(|key| key.name)
            .collect();
        let mut message = format!(
            "unknown argument `{written}` of `{}(...)`; ",
            self.cadence.name()
        );
        let hint = match written.as_str() {
            "timezone" | "time_zone" | "zone" => suggest::did_you_mean(&["tz"]),
            "offset" => suggest::did_you_mean(&["end_offset"]),
            _ => suggest::did_you_mean(&suggest::closest(&written, names.iter().copied())),
        };
        if let Some(hint) = hint {
            message.push_str(&hint);
            message.push(' ');
        }
        message.push_str(&format!("valid arguments are: {}", names.join(", ")));
        message
    }
}

/// Reads the value of `static_keys`: a list of strings (possibly empty, which `validate`
/// reports with the rules a key follows).
pub(super) fn static_keys<K>(path: &Path, expr: &Expr, key: &Key<K>) -> syn::Result<StaticKeys> {
    let list = |expr: &Expr| -> Option<Vec<Expr>> {
        match expr {
            Expr::Array(array) if array.attrs.is_empty() => {
                Some(array.elems.iter().cloned().collect())
            }
            Expr::Group(group) => match &*group.expr {
                Expr::Array(array) => Some(array.elems.iter().cloned().collect()),
                _ => None,
            },
            _ => None,
        }
    };
    let Some(elems) = list(expr) else {
        let message = format!(
            "`{}` takes a list of strings, e.g. `{}`",
            key.name, key.example
        );
        return Err(syn::Error::new_spanned(expr, message));
    };
    let keys = elems
        .iter()
        .map(|elem| {
            value::string(elem, key).map_err(|_| {
                let message = format!("each static key is a string, e.g. `{}`", key.example);
                syn::Error::new_spanned(elem, message)
            })
        })
        .collect::<syn::Result<Vec<LitStr>>>()?;
    Ok(StaticKeys {
        keys,
        origin: quote!(#path = #expr),
    })
}

/// `partitioned = <expr>` as written, for a rule that points at the whole key.
pub(super) fn written_key(path: &Path, expr: &Expr) -> TokenStream {
    quote!(#path = #expr)
}
