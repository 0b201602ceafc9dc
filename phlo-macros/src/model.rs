//! Typed model of what the user wrote: built by `parse`, checked by `validate`, turned into
//! tokens by `expand`. Values keep the user's tokens (`origin`) so later phases can point at them.

use std::cmp::Ordering;
use std::fmt;

use proc_macro2::{Group, Span, TokenStream};
use syn::{Attribute, Expr, Generics, Ident, LitStr, Path, PathSegment, Signature, Type};

/// Whether an item declares generic parameters or a `where` clause.
pub(crate) fn is_generic(generics: &Generics) -> bool {
    !generics.params.is_empty() || generics.where_clause.is_some()
}

/// `::phlo`, the prefix of every generated path unless `crate = "…"` overrides it.
pub(crate) fn default_crate_path() -> Path {
    Path {
        leading_colon: Some(Default::default()),
        segments: std::iter::once(PathSegment::from(Ident::new("phlo", Span::call_site())))
            .collect(),
    }
}

// ---------------------------------------------------------------------------------------------
// Values

/// A finite `f64`: the only kind of float the expansion can write as a literal.
#[derive(Clone, Copy, Debug, PartialEq, PartialOrd)]
pub(crate) struct Finite(f64);

impl Finite {
    pub(crate) fn new(value: f64) -> Option<Self> {
        value.is_finite().then_some(Self(value))
    }

    pub(crate) fn get(self) -> f64 {
        self.0
    }
}

/// A numeric literal as written, sign included.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) enum Number {
    Int(i64),
    Float(Finite),
}

impl Number {
    pub(crate) fn to_finite(self) -> Finite {
        match self {
            // Every i64 converts to a finite f64 (possibly rounded).
            Self::Int(value) => Finite(value as f64),
            Self::Float(value) => value,
        }
    }
}

impl PartialOrd for Number {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        match (self, other) {
            (Self::Int(a), Self::Int(b)) => Some(a.cmp(b)),
            _ => self.to_finite().partial_cmp(&other.to_finite()),
        }
    }
}

impl fmt::Display for Number {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Int(value) => write!(f, "{value}"),
            Self::Float(value) => write!(f, "{:?}", value.get()),
        }
    }
}

/// A literal of an `isin`/`notin` list.
#[derive(Clone, Debug)]
pub(crate) enum Scalar {
    Str(LitStr),
    Num(Number),
    Bool(bool),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum ScalarKind {
    Str,
    Int,
    Float,
    Bool,
}

impl Scalar {
    pub(crate) fn kind(&self) -> ScalarKind {
        match self {
            Self::Str(_) => ScalarKind::Str,
            Self::Num(Number::Int(_)) => ScalarKind::Int,
            Self::Num(Number::Float(_)) => ScalarKind::Float,
            Self::Bool(_) => ScalarKind::Bool,
        }
    }
}

impl ScalarKind {
    pub(crate) fn described(self) -> &'static str {
        match self {
            Self::Str => "a string",
            Self::Int => "an integer",
            Self::Float => "a float",
            Self::Bool => "a bool",
        }
    }
}

/// A number the user wrote, kept with its tokens for diagnostics.
#[derive(Clone, Debug)]
pub(crate) struct Measure {
    pub(crate) value: Finite,
    pub(crate) origin: TokenStream,
}

/// One of a closed set of string options (`dedup = "last"`), with the literal for diagnostics.
#[derive(Clone, Debug)]
pub(crate) struct Choice<T> {
    pub(crate) value: T,
    pub(crate) lit: LitStr,
}

// ---------------------------------------------------------------------------------------------
// #[derive(Schema)]

/// A struct deriving `Schema`.
pub(crate) struct Schema {
    pub(crate) krate: Path,
    pub(crate) ident: Ident,
    pub(crate) generics: Generics,
    pub(crate) policy: SchemaPolicy,
    pub(crate) fields: Vec<Field>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum SchemaPolicy {
    Strict,
    DropExtra,
    Additive,
}

/// A named field and the constraints of its `#[phlo(...)]` attributes, in the order written.
pub(crate) struct Field {
    pub(crate) ident: Ident,
    pub(crate) ty: Type,
    pub(crate) constraints: Vec<Constraint>,
}

pub(crate) struct Constraint {
    pub(crate) kind: ConstraintKind,
    /// What the user wrote, e.g. `ge = 0`.
    pub(crate) origin: TokenStream,
}

#[derive(Debug)]
pub(crate) enum ConstraintKind {
    Unique,
    Bound(Bound, Number),
    IsIn(Vec<Scalar>),
    NotIn(Vec<Scalar>),
    Regex(LitStr),
    StrLength {
        min: Option<usize>,
        max: Option<usize>,
    },
    Custom(Path),
}

impl ConstraintKind {
    pub(crate) fn key(&self) -> &'static str {
        match self {
            Self::Unique => "unique",
            Self::Bound(bound, _) => bound.key(),
            Self::IsIn(_) => "isin",
            Self::NotIn(_) => "notin",
            Self::Regex(_) => "regex",
            Self::StrLength { .. } => "str_length",
            Self::Custom(_) => "check",
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Bound {
    Ge,
    Gt,
    Le,
    Lt,
}

impl Bound {
    pub(crate) fn key(self) -> &'static str {
        match self {
            Self::Ge => "ge",
            Self::Gt => "gt",
            Self::Le => "le",
            Self::Lt => "lt",
        }
    }

    /// Name of the runtime's `Constraint` variant.
    pub(crate) fn variant(self) -> &'static str {
        match self {
            Self::Ge => "Ge",
            Self::Gt => "Gt",
            Self::Le => "Le",
            Self::Lt => "Lt",
        }
    }

    pub(crate) fn operator(self) -> &'static str {
        match self {
            Self::Ge => ">=",
            Self::Gt => ">",
            Self::Le => "<=",
            Self::Lt => "<",
        }
    }

    pub(crate) fn is_lower(self) -> bool {
        matches!(self, Self::Ge | Self::Gt)
    }

    pub(crate) fn is_strict(self) -> bool {
        matches!(self, Self::Gt | Self::Lt)
    }
}

// ---------------------------------------------------------------------------------------------
// #[ingestion(...)]

/// The arguments of `#[ingestion(...)]`.
pub(crate) struct Ingestion {
    pub(crate) krate: Path,
    pub(crate) table: LitStr,
    pub(crate) schema: Path,
    pub(crate) options: IngestionOptions,
    /// Everything inside `#[ingestion(...)]`, to point at when a rule spans several keys.
    pub(crate) args: TokenStream,
}

/// The optional keys; `None` (or an empty `unique_key`) means "not written".
#[derive(Default)]
pub(crate) struct IngestionOptions {
    pub(crate) unique_key: Vec<LitStr>,
    pub(crate) group: Option<LitStr>,
    pub(crate) cron: Option<LitStr>,
    pub(crate) freshness_hours: Option<Freshness>,
    pub(crate) merge_strategy: Option<Choice<MergeStrategy>>,
    pub(crate) dedup: Option<Choice<Dedup>>,
    pub(crate) order_by: Option<LitStr>,
    pub(crate) max_retries: Option<u32>,
    pub(crate) retry_delay_seconds: Option<Measure>,
    pub(crate) max_runtime_seconds: Option<Measure>,
    pub(crate) validate: Option<bool>,
    pub(crate) strict_validation: Option<bool>,
    pub(crate) add_metadata_columns: Option<bool>,
    /// `partitioned = true | false`.
    pub(crate) partitioned: Option<Written<bool>>,
    /// `partitions = hourly(...)`.
    pub(crate) partitions: Option<Partitions>,
    /// `static_keys = ["eu", "us"]`.
    pub(crate) static_keys: Option<StaticKeys>,
    /// `materialized = "…"` (`#[transform]` only).
    pub(crate) materialized: Option<Choice<Materialized>>,
    /// `tags = [...]` (`#[transform]` only).
    pub(crate) tags: Vec<LitStr>,
}

impl IngestionOptions {
    /// How the asset is partitioned, from the keys that say it. Once validated, at most one
    /// of `partitions` and `static_keys` is given, and never with `partitioned = false`.
    pub(crate) fn partitioning(&self) -> Partitioning<'_> {
        match (&self.partitions, &self.static_keys, &self.partitioned) {
            (Some(partitions), _, _) => Partitioning::Time(partitions),
            (None, Some(keys), _) => Partitioning::Static(keys),
            (None, None, Some(Written { value: false, .. })) => Partitioning::None,
            (None, None, _) => Partitioning::Default,
        }
    }
}

/// How an asset is partitioned, as the three keys together declare it.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Partitioning<'a> {
    /// Nothing said, or `partitioned = true`: the runtime's default (daily, UTC).
    Default,
    /// `partitioned = false`.
    None,
    /// `partitions = …`.
    Time(&'a Partitions),
    /// `static_keys = [...]`.
    Static(&'a StaticKeys),
}

/// `partitions = daily`, `partitions = hourly(start = "…", end = "…", tz = "…", end_offset = 1)`.
/// Unwritten arguments are `None`: `tz` then means UTC, `end_offset` 0, a bound unbounded.
/// The literals keep their spans, for the rules of `validate` to point at.
#[derive(Clone, Debug)]
pub(crate) struct Partitions {
    pub(crate) cadence: Cadence,
    pub(crate) start: Option<LitStr>,
    pub(crate) end: Option<LitStr>,
    pub(crate) tz: Option<LitStr>,
    pub(crate) end_offset: Option<Written<i32>>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Cadence {
    Hourly,
    Daily,
    Monthly,
}

impl Cadence {
    pub(crate) const ALL: [Cadence; 3] = [Cadence::Hourly, Cadence::Daily, Cadence::Monthly];

    /// The name written in `partitions = …`.
    pub(crate) fn name(self) -> &'static str {
        match self {
            Self::Hourly => "hourly",
            Self::Daily => "daily",
            Self::Monthly => "monthly",
        }
    }
}

/// `static_keys = ["eu", "us"]`: the keys in the order written (possibly none, which
/// `validate` rejects).
#[derive(Clone, Debug)]
pub(crate) struct StaticKeys {
    pub(crate) keys: Vec<LitStr>,
    /// `static_keys = [...]` as written.
    pub(crate) origin: TokenStream,
}

/// `freshness_hours = (warn, error)`.
#[derive(Clone, Debug)]
pub(crate) struct Freshness {
    pub(crate) warn: Measure,
    pub(crate) error: Measure,
    pub(crate) origin: TokenStream,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum MergeStrategy {
    Merge,
    Append,
    ReplacePartition,
}

/// How a transform's result is kept.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Materialized {
    Table,
    Incremental,
    ReplacePartition,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Dedup {
    Last,
    First,
    Hash,
    None,
}

/// The signature of the function under `#[ingestion]`; its body is never parsed.
pub(crate) struct IngestionFn {
    pub(crate) attrs: Vec<Attribute>,
    pub(crate) sig: Signature,
}

impl IngestionFn {
    /// `#[cfg(...)]` attributes, repeated on every generated item so they come and go together.
    pub(crate) fn cfg_attrs(&self) -> impl Iterator<Item = &Attribute> {
        self.attrs.iter().filter(|attr| attr.path().is_ident("cfg"))
    }
}

// ---------------------------------------------------------------------------------------------
// #[transform(...)]

/// The arguments of `#[transform(...)]`: `#[ingestion]`'s, with `materialized` and `tags`
/// for `merge_strategy`, and an optional `schema`.
pub(crate) struct Transform {
    pub(crate) krate: Path,
    pub(crate) table: LitStr,
    pub(crate) schema: Option<Path>,
    pub(crate) options: IngestionOptions,
}

/// The function under `#[transform]`: its signature with phlo's parameter attributes
/// removed, and what they and the parameters say.
pub(crate) struct TransformFn {
    pub(crate) attrs: Vec<Attribute>,
    pub(crate) vis: syn::Visibility,
    pub(crate) sig: Signature,
    pub(crate) body: Group,
    /// The parameters after the context, in order.
    pub(crate) inputs: Vec<TransformInput>,
}

impl TransformFn {
    /// `#[cfg(...)]` attributes, repeated on every generated item so they come and go together.
    pub(crate) fn cfg_attrs(&self) -> impl Iterator<Item = &Attribute> {
        self.attrs.iter().filter(|attr| attr.path().is_ident("cfg"))
    }
}

/// One upstream parameter: `name: DataFrame`, possibly `#[phlo(mapping = "…")]`.
pub(crate) struct TransformInput {
    /// The parameter's name: the upstream asset (`None` when it is not a plain name).
    pub(crate) ident: Option<Ident>,
    /// The whole parameter, to point at.
    pub(crate) origin: TokenStream,
    /// Its type.
    pub(crate) ty: Type,
    /// `mapping = "…"`, when written.
    pub(crate) mapping: Option<LitStr>,
}

// ---------------------------------------------------------------------------------------------
// #[quality(...)]

/// A value the user wrote, kept with its tokens so a later rule can point at it.
#[derive(Clone, Debug)]
pub(crate) struct Written<T> {
    pub(crate) value: T,
    pub(crate) origin: TokenStream,
}

/// The arguments of `#[quality(...)]`.
pub(crate) struct Quality {
    pub(crate) krate: Path,
    pub(crate) table: LitStr,
    /// `checks = [...]`, when written.
    pub(crate) checks: Option<Checks>,
    /// `schema = T`, when written.
    pub(crate) schema: Option<Path>,
    pub(crate) options: QualityOptions,
}

/// The optional keys; `None` means "not written" (the runtime's `QualitySpec::DEFAULT` applies).
#[derive(Default)]
pub(crate) struct QualityOptions {
    pub(crate) blocking: Option<bool>,
    pub(crate) partition_aware: Option<Written<bool>>,
    pub(crate) partition_column: Option<LitStr>,
    pub(crate) rolling_window_days: Option<Written<u32>>,
    pub(crate) full_table: Option<Written<bool>>,
    pub(crate) group: Option<LitStr>,
}

/// `checks = [a, b, …]`: each element as written, and what the macro recognised in it.
pub(crate) struct Checks {
    pub(crate) elems: Vec<CheckExpr>,
}

/// One element of `checks = [...]`.
pub(crate) struct CheckExpr {
    pub(crate) expr: Expr,
    /// `T` when the element is `SchemaCheck::of::<T>()` (possibly followed by method calls).
    pub(crate) schema_of: Option<Type>,
    /// The columns a built-in column check names, when written as string literals.
    pub(crate) columns: Option<NamedColumns>,
}

/// `NullCheck::new(["id", "ts"])…`: the check's type name and the column literals.
pub(crate) struct NamedColumns {
    pub(crate) check: Ident,
    pub(crate) columns: Vec<LitStr>,
}

/// The function under `#[quality]`: its signature, and its body kept as tokens (never parsed),
/// only to tell an empty body from one that does something.
pub(crate) struct QualityFn {
    pub(crate) attrs: Vec<Attribute>,
    pub(crate) sig: Signature,
    pub(crate) body: Group,
}

impl QualityFn {
    /// `#[cfg(...)]` attributes, repeated on every generated item so they come and go together.
    pub(crate) fn cfg_attrs(&self) -> impl Iterator<Item = &Attribute> {
        self.attrs.iter().filter(|attr| attr.path().is_ident("cfg"))
    }

    /// Whether the function takes the scope (a custom check) or nothing (a list of checks).
    pub(crate) fn takes_scope(&self) -> bool {
        !self.sig.inputs.is_empty()
    }
}

// ---------------------------------------------------------------------------------------------
// dbt_schema!(...)

/// The arguments of `dbt_schema!("path.yml", "model", name = Type)`.
pub(crate) struct DbtSchema {
    pub(crate) krate: Path,
    /// The YAML file, relative to the crate root.
    pub(crate) path: LitStr,
    /// The dbt model's name.
    pub(crate) model: LitStr,
    /// The struct's name, when not derived from the model's.
    pub(crate) name: Option<Ident>,
}

#[cfg(test)]
mod tests;
