//! Validate phase: the rules a value cannot check alone — contradictions between keys, a key
//! against its field's type, a string against its grammar, the function's signature.
//! Runs only on what was read cleanly (a rejected value is absent from the model, a rejected
//! `#[ingestion(...)]` yields no model), so it never reports a consequence of a parse error.

use std::cmp::Ordering;

use proc_macro2::TokenStream;
use quote::quote;
use syn::{FnArg, Generics, LitStr, PatType, Path, PathArguments, ReturnType, Signature, Type};

use crate::cron;
use crate::ctxt::Ctxt;
use crate::model::{
    Bound, Cadence, Choice, ConstraintKind, Dedup, Field, Freshness, Ingestion, IngestionFn,
    IngestionOptions, Materialized, MergeStrategy, Number, Partitioning, Partitions, Schema,
    StaticKeys, Transform, TransformFn, TransformInput, Written, is_generic,
};
use crate::partitions::Instant;

// ---------------------------------------------------------------------------------------------
// #[derive(Schema)]

pub(crate) fn schema(cx: &Ctxt, schema: &Schema) {
    if is_generic(&schema.generics) {
        let message = "`Schema` cannot be derived for generic structs: a schema is one fixed set of \
                       columns; give the struct concrete field types";
        cx.error_spanned_by(generics_tokens(&schema.generics), message);
    }
    for field in &schema.fields {
        self::field(cx, field);
    }
}

fn generics_tokens(generics: &Generics) -> TokenStream {
    let where_clause = &generics.where_clause;
    quote!(#generics #where_clause)
}

fn field(cx: &Ctxt, field: &Field) {
    let class = TypeClass::of(&field.ty);
    for constraint in &field.constraints {
        if let Some(wanted) =
            wanted_class(&constraint.kind).filter(|wanted| class.contradicts(*wanted))
        {
            let message = format!(
                "`{}` applies to {} fields, and `{}` is {}",
                constraint.kind.key(),
                wanted.plural(),
                field.ident,
                class.described(),
            );
            cx.error_spanned_by(&constraint.origin, message);
        }
        if let ConstraintKind::StrLength { min, max } = constraint.kind {
            str_length(cx, &constraint.origin, min, max);
        }
    }
    bounds(cx, field);
}

/// The kind of field a constraint makes sense on, when it is picky.
fn wanted_class(kind: &ConstraintKind) -> Option<TypeClass> {
    match kind {
        ConstraintKind::Regex(_) | ConstraintKind::StrLength { .. } => Some(TypeClass::Text),
        ConstraintKind::Bound(..) => Some(TypeClass::Numeric),
        _ => None,
    }
}

fn str_length(cx: &Ctxt, origin: &TokenStream, min: Option<usize>, max: Option<usize>) {
    match (min, max) {
        (None, None) => {
            let message =
                "`str_length` needs `min`, `max` or both, e.g. `str_length(min = 1, max = 10)`";
            cx.error_spanned_by(origin, message);
        }
        (Some(min), Some(max)) if min > max => {
            let message =
                format!("`str_length` has `min = {min}` above `max = {max}`, so no string fits");
            cx.error_spanned_by(origin, message);
        }
        _ => {}
    }
}

/// A lower bound (`ge`/`gt`) above an upper bound (`le`/`lt`) admits no value; the error goes on
/// whichever of the two was written last.
fn bounds(cx: &Ctxt, field: &Field) {
    let bounds: Vec<(Bound, Number, &TokenStream)> = field
        .constraints
        .iter()
        .filter_map(|constraint| match constraint.kind {
            ConstraintKind::Bound(bound, number) => Some((bound, number, &constraint.origin)),
            _ => None,
        })
        .collect();
    for (index, later) in bounds.iter().enumerate() {
        for earlier in bounds.iter().take(index) {
            let (lower, upper) = match (earlier.0.is_lower(), later.0.is_lower()) {
                (true, false) => (earlier, later),
                (false, true) => (later, earlier),
                _ => continue,
            };
            if admits_nothing((lower.0, lower.1), (upper.0, upper.1)) {
                let message = format!(
                    "`{lk} = {lv}` contradicts `{uk} = {uv}`: no value is {lo} {lv} and {uo} {uv}",
                    lk = lower.0.key(),
                    lv = lower.1,
                    lo = lower.0.operator(),
                    uk = upper.0.key(),
                    uv = upper.1,
                    uo = upper.0.operator(),
                );
                cx.error_spanned_by(later.2, message);
            }
        }
    }
}

fn admits_nothing(lower: (Bound, Number), upper: (Bound, Number)) -> bool {
    match lower.1.partial_cmp(&upper.1) {
        Some(Ordering::Greater) => true,
        Some(Ordering::Equal) => lower.0.is_strict() || upper.0.is_strict(),
        _ => false,
    }
}

/// What a field's type clearly is, judged from its spelling alone (`Unknown` when unsure).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum TypeClass {
    Text,
    Numeric,
    Bool,
    Date,
    Timestamp,
    Unknown,
}

impl TypeClass {
    fn of(ty: &Type) -> Self {
        match ty {
            Type::Group(group) => Self::of(&group.elem),
            Type::Paren(paren) => Self::of(&paren.elem),
            Type::Path(path) if path.qself.is_none() => Self::of_path(&path.path),
            _ => Self::Unknown,
        }
    }

    fn of_path(path: &Path) -> Self {
        let Some(last) = path.segments.last() else {
            return Self::Unknown;
        };
        if last.ident == "Option" {
            return option_inner(&last.arguments).map_or(Self::Unknown, Self::of);
        }
        match last.ident.to_string().as_str() {
            "String" => Self::Text,
            "i8" | "i16" | "i32" | "i64" | "i128" | "isize" | "u8" | "u16" | "u32" | "u64"
            | "u128" | "usize" | "f32" | "f64" => Self::Numeric,
            "bool" => Self::Bool,
            "NaiveDate" => Self::Date,
            "DateTime" => Self::Timestamp,
            _ => Self::Unknown,
        }
    }

    /// True when the type is known and is not `wanted`.
    fn contradicts(self, wanted: Self) -> bool {
        self != Self::Unknown && self != wanted
    }

    fn plural(self) -> &'static str {
        match self {
            Self::Text => "String",
            Self::Numeric => "numeric",
            Self::Bool => "bool",
            Self::Date => "date",
            Self::Timestamp => "timestamp",
            Self::Unknown => "other",
        }
    }

    fn described(self) -> &'static str {
        match self {
            Self::Text => "a `String`",
            Self::Numeric => "a number",
            Self::Bool => "a `bool`",
            Self::Date => "a date (`NaiveDate`)",
            Self::Timestamp => "a timestamp (`DateTime`)",
            Self::Unknown => "of another type",
        }
    }
}

/// `T` of `Option<T>`.
fn option_inner(arguments: &PathArguments) -> Option<&Type> {
    let PathArguments::AngleBracketed(arguments) = arguments else {
        return None;
    };
    match (arguments.args.first(), arguments.args.len()) {
        (Some(syn::GenericArgument::Type(inner)), 1) => Some(inner),
        _ => None,
    }
}

// ---------------------------------------------------------------------------------------------
// #[ingestion(...)]

pub(crate) fn ingestion(cx: &Ctxt, ingestion: &Ingestion) {
    let options = &ingestion.options;
    common(cx, &ingestion.table, options);
    strategy_has_key(cx, options, &ingestion.args);
    dedup_has_key(cx, options);
}

/// The rules `#[ingestion]` and `#[transform]` share.
fn common(cx: &Ctxt, table: &LitStr, options: &IngestionOptions) {
    table_name(cx, table);
    distinct_columns(cx, &options.unique_key);
    if let Some(expression) = &options.cron {
        cron(cx, expression);
    }
    if let Some(freshness) = &options.freshness_hours {
        self::freshness(cx, freshness);
    }
    durations(cx, options);
    partitioning(cx, options);
}

// ---------------------------------------------------------------------------------------------
// #[transform(...)]

pub(crate) fn transform(cx: &Ctxt, transform: &Transform) {
    let options = &transform.options;
    common(cx, &transform.table, options);
    let partitioned = !matches!(
        options.partitioning(),
        Partitioning::Default | Partitioning::None
    );
    let Some(Choice { value, lit }) = &options.materialized else {
        return;
    };
    match value {
        Materialized::Table if partitioned => {
            let message = "`materialized = \"table\"` rebuilds the whole table, so it takes no \
                           partitions: remove the partitions, or use `\"incremental\"` (with a \
                           `unique_key`) or `\"replace_partition\"`";
            cx.error_spanned_by(lit, message);
        }
        Materialized::ReplacePartition if !partitioned => {
            let message = "`materialized = \"replace_partition\"` replaces one partition's rows, \
                           and a transform is unpartitioned unless it says otherwise: add \
                           `partitions = daily` (or hourly, monthly, `static_keys`), or use \
                           `\"table\"`";
            cx.error_spanned_by(lit, message);
        }
        Materialized::Incremental if options.unique_key.is_empty() => {
            let message = "`materialized = \"incremental\"` merges the result by key: add \
                           `unique_key = \"<column>\"`";
            cx.error_spanned_by(lit, message);
        }
        _ => {}
    }
}

const TRANSFORM_EXPECTED: &str = "expected `async fn name(ctx: &PartitionContext, upstream: DataFrame, …) -> phlo::Result<DataFrame>`";

pub(crate) fn transform_signature(cx: &Ctxt, func: &TransformFn) {
    let sig = &func.sig;
    if let Some(token) = &sig.unsafety {
        cx.error_spanned_by(
            token,
            format!("a `#[transform]` function cannot be `unsafe`; {TRANSFORM_EXPECTED}"),
        );
    }
    if is_generic(&sig.generics) {
        let message = format!(
            "a `#[transform]` function cannot be generic: phlo calls it with a \
             `&PartitionContext` and one `DataFrame` per upstream; {TRANSFORM_EXPECTED}"
        );
        cx.error_spanned_by(generics_tokens(&sig.generics), message);
    }
    match sig.inputs.first() {
        None => {
            let message = format!(
                "a `#[transform]` function takes the partition's context first: add `ctx: &PartitionContext`; {TRANSFORM_EXPECTED}"
            );
            cx.error_at(sig.paren_token.span.join(), message);
        }
        Some(FnArg::Receiver(receiver)) => {
            let message = format!(
                "`#[transform]` goes on a free function, not a method: move it out of the `impl` block; {TRANSFORM_EXPECTED}"
            );
            cx.error_spanned_by(receiver, message);
            return;
        }
        Some(FnArg::Typed(arg)) => match &*arg.ty {
            Type::Reference(reference) if reference.mutability.is_none() => {}
            ty => {
                let message = format!(
                    "a `#[transform]` function takes the context first, by shared reference: \
                     `ctx: &PartitionContext`; {TRANSFORM_EXPECTED}"
                );
                cx.error_spanned_by(ty, message);
            }
        },
    }
    for input in &func.inputs {
        transform_input(cx, func, input);
    }
    if let ReturnType::Default = sig.output {
        let message = format!(
            "a `#[transform]` function returns its result: add `-> phlo::Result<DataFrame>`; {TRANSFORM_EXPECTED}"
        );
        cx.error_spanned_by(sig, message);
    }
}

fn transform_input(cx: &Ctxt, func: &TransformFn, input: &TransformInput) {
    let Some(ident) = &input.ident else {
        let message = "name each upstream parameter after the asset it reads, e.g. \
                       `stg_orders: DataFrame`: the name is the upstream";
        cx.error_spanned_by(&input.origin, message);
        return;
    };
    if *ident == func.sig.ident {
        let message = format!(
            "`{ident}` cannot read itself: a parameter names an upstream asset, and this one \
             is the transform's own name (a cycle)"
        );
        cx.error_spanned_by(ident, message);
    }
    let is_frame = match &input.ty {
        Type::Path(path) if path.qself.is_none() => path
            .path
            .segments
            .last()
            .is_some_and(|s| s.ident == "DataFrame" && s.arguments.is_empty()),
        _ => false,
    };
    if !is_frame {
        let message = format!(
            "`{ident}` names an upstream asset and receives its table: its type is `DataFrame` \
             (`phlo::datafusion::dataframe::DataFrame`)"
        );
        cx.error_spanned_by(&input.ty, message);
    }
    if let Some(mapping) = &input.mapping {
        let text = mapping.value();
        let text = text.trim();
        let offset = text
            .strip_prefix("offset(")
            .and_then(|r| r.strip_suffix(')'))
            .map(|n| n.trim().parse::<i64>().is_ok());
        if !(matches!(text, "identity" | "time_window" | "all") || offset == Some(true)) {
            let message = format!(
                "unknown partition mapping \"{}\": use \"identity\", \"time_window\", \"all\" \
                 or \"offset(N)\" (e.g. \"offset(-1)\", the previous partition)",
                mapping.value()
            );
            cx.error_spanned_by(mapping, message);
        }
    }
}

fn table_name(cx: &Ctxt, lit: &LitStr) {
    let name = lit.value();
    let (namespace, table) = match name.split_once('.') {
        Some((namespace, table)) => (Some(namespace), table),
        None => (None, name.as_str()),
    };
    if !(namespace.is_none_or(is_name_part) && is_name_part(table)) {
        let message = format!(
            "invalid table name \"{name}\": write `name` or `namespace.name`, each part made of \
             lowercase letters, digits and `_`, not starting with a digit (`[a-z_][a-z0-9_]*`)"
        );
        cx.error_spanned_by(lit, message);
    } else if namespace == Some("_phlo") {
        let message =
            "the namespace `_phlo` is reserved for phlo's own tables; choose another namespace";
        cx.error_spanned_by(lit, message);
    }
}

/// `[a-z_][a-z0-9_]*`
fn is_name_part(part: &str) -> bool {
    let mut chars = part.chars();
    let is_start = |c: char| c == '_' || c.is_ascii_lowercase();
    chars.next().is_some_and(is_start) && chars.all(|c| is_start(c) || c.is_ascii_digit())
}

fn distinct_columns(cx: &Ctxt, columns: &[LitStr]) {
    for (index, column) in columns.iter().enumerate() {
        if columns
            .iter()
            .take(index)
            .any(|earlier| earlier.value() == column.value())
        {
            let message = format!(
                "`{}` is listed twice in `unique_key`; list each column once",
                column.value()
            );
            cx.error_spanned_by(column, message);
        }
    }
}

fn cron(cx: &Ctxt, expression: &LitStr) {
    if let Err(error) = cron::check(&expression.value()) {
        cx.error_spanned_by(expression, error);
    }
}

fn freshness(cx: &Ctxt, freshness: &Freshness) {
    let mut positive = true;
    for hours in [&freshness.warn, &freshness.error] {
        if hours.value.get() <= 0.0 {
            cx.error_spanned_by(
                &hours.origin,
                "freshness thresholds are hours and must be greater than zero",
            );
            positive = false;
        }
    }
    if positive && freshness.warn.value >= freshness.error.value {
        let message = "warn threshold must be smaller than error threshold: write \
                       `freshness_hours = (warn, error)`, e.g. `freshness_hours = (24, 48)`";
        cx.error_spanned_by(&freshness.origin, message);
    }
}

/// Every strategy but `append` matches rows by key.
fn strategy_has_key(cx: &Ctxt, options: &IngestionOptions, args: &TokenStream) {
    if !options.unique_key.is_empty() {
        return;
    }
    let fix = "add `unique_key = \"<column>\"`, or use `merge_strategy = \"append\"`";
    match &options.merge_strategy {
        Some(Choice {
            value: MergeStrategy::Append,
            ..
        }) => {}
        Some(Choice { lit, .. }) => {
            let message = format!(
                "`merge_strategy = \"{}\"` needs a `unique_key`: {fix}",
                lit.value()
            );
            cx.error_spanned_by(lit, message);
        }
        None => {
            let message =
                format!("`merge_strategy = \"merge\"` (the default) needs a `unique_key`: {fix}");
            cx.error_spanned_by(args, message);
        }
    }
}

/// Deduplicating keeps one row per key, so an append without a key cannot deduplicate.
/// (Without `append`, the missing key is already reported by [`strategy_has_key`].)
fn dedup_has_key(cx: &Ctxt, options: &IngestionOptions) {
    let appends = matches!(
        &options.merge_strategy,
        Some(Choice {
            value: MergeStrategy::Append,
            ..
        })
    );
    if !options.unique_key.is_empty() || !appends {
        return;
    }
    if let Some(Choice { lit, value }) = &options.dedup
        && *value != Dedup::None
    {
        let message = format!(
            "`dedup = \"{}\"` keeps one row per `unique_key`, but there is none: add \
             `unique_key = \"<column>\"`, or use `dedup = \"none\"`",
            lit.value()
        );
        cx.error_spanned_by(lit, message);
    }
}

fn durations(cx: &Ctxt, options: &IngestionOptions) {
    if let Some(delay) = &options.retry_delay_seconds
        && delay.value.get() < 0.0
    {
        cx.error_spanned_by(
            &delay.origin,
            "`retry_delay_seconds` cannot be negative; use 0 to retry at once",
        );
    }
    if let Some(runtime) = &options.max_runtime_seconds
        && runtime.value.get() <= 0.0
    {
        cx.error_spanned_by(
            &runtime.origin,
            "`max_runtime_seconds` must be greater than zero",
        );
    }
}

/// `partitioned`, `partitions` and `static_keys` say one thing, and each says it well.
fn partitioning(cx: &Ctxt, options: &IngestionOptions) {
    let declared = options
        .partitions
        .as_ref()
        .map(|partitions| format!("`partitions = {}`", partitions.cadence.name()));
    let declared = declared.into_iter().chain(
        options
            .static_keys
            .as_ref()
            .map(|_| "`static_keys`".to_string()),
    );
    if let Some(Written {
        value: false,
        origin,
    }) = &options.partitioned
    {
        for declared in declared {
            let message = format!(
                "`partitioned = false` contradicts {declared}: remove `partitioned = false` to \
                 partition the asset as declared, or remove {declared} to leave it unpartitioned"
            );
            cx.error_spanned_by(origin, message);
        }
    }
    if let (Some(partitions), Some(keys)) = (&options.partitions, &options.static_keys) {
        let message = format!(
            "an asset is partitioned by time or by a list of keys, not both: remove \
             `partitions = {}` or `static_keys`",
            partitions.cadence.name()
        );
        cx.error_spanned_by(&keys.origin, message);
    }
    if let Some(partitions) = &options.partitions {
        time_partitions(cx, partitions);
    }
    if let Some(keys) = &options.static_keys {
        static_keys(cx, keys);
    }
}

fn time_partitions(cx: &Ctxt, partitions: &Partitions) {
    let cadence = partitions.cadence;
    let start = bound(cx, cadence, "start", partitions.start.as_ref());
    let end = bound(cx, cadence, "end", partitions.end.as_ref());
    if let (Some((start, start_lit)), Some((end, end_lit))) = (start, end)
        && start >= end
    {
        let message = format!(
            "`start = \"{}\"` is not before `end = \"{}\"`, so no partition is in range: \
             `end` is the first partition out of range, and must come after `start`",
            start_lit.value(),
            end_lit.value()
        );
        cx.error_spanned_by(quote!(#start_lit #end_lit), message);
    }
    if let Some(tz) = &partitions.tz
        && let Err(message) = crate::partitions::time_zone(&tz.value())
    {
        cx.error_spanned_by(tz, message);
    }
}

/// The instant of a `start` or `end` that was written and is well formed.
fn bound<'a>(
    cx: &Ctxt,
    cadence: Cadence,
    key: &str,
    lit: Option<&'a LitStr>,
) -> Option<(Instant, &'a LitStr)> {
    let lit = lit?;
    crate::partitions::bound(cadence, key, &lit.value())
        .map_err(|message| cx.error_spanned_by(lit, message))
        .ok()
        .map(|instant| (instant, lit))
}

fn static_keys(cx: &Ctxt, keys: &StaticKeys) {
    if keys.keys.is_empty() {
        let message = "`static_keys` needs at least one key, e.g. `static_keys = [\"eu\", \"us\"]`; \
                       to leave the asset unpartitioned, write `partitioned = false`";
        cx.error_spanned_by(&keys.origin, message);
    }
    for (index, key) in keys.keys.iter().enumerate() {
        let text = key.value();
        if let Err(message) = crate::partitions::static_key(&text) {
            cx.error_spanned_by(key, message);
        } else if keys
            .keys
            .iter()
            .take(index)
            .any(|earlier| earlier.value() == text)
        {
            let message =
                format!("static key {text:?} is listed twice in `static_keys`; list each key once");
            cx.error_spanned_by(key, message);
        }
    }
}

// ---------------------------------------------------------------------------------------------
// The function under #[ingestion]

const EXPECTED: &str =
    "expected `async fn name(ctx: &PartitionContext) -> phlo::Result<Vec<RecordBatch>>`";

pub(crate) fn signature(cx: &Ctxt, func: &IngestionFn) {
    let sig = &func.sig;
    if let Some(token) = &sig.unsafety {
        cx.error_spanned_by(
            token,
            format!("an `#[ingestion]` function cannot be `unsafe`; {EXPECTED}"),
        );
    }
    if is_generic(&sig.generics) {
        let message = format!(
            "an `#[ingestion]` function cannot be generic: phlo calls it with a `&PartitionContext` \
             and needs one concrete return type; {EXPECTED}"
        );
        cx.error_spanned_by(generics_tokens(&sig.generics), message);
    }
    parameters(cx, sig);
    if let ReturnType::Default = sig.output {
        let message = format!(
            "an `#[ingestion]` function returns its batches: add `-> phlo::Result<Vec<RecordBatch>>`; {EXPECTED}"
        );
        cx.error_spanned_by(sig, message);
    }
}

fn parameters(cx: &Ctxt, sig: &Signature) {
    let mut inputs = sig.inputs.iter();
    match inputs.next() {
        None => {
            let message = format!(
                "an `#[ingestion]` function takes the partition's context: add `ctx: &PartitionContext`; {EXPECTED}"
            );
            cx.error_at(sig.paren_token.span.join(), message);
        }
        Some(FnArg::Receiver(receiver)) => {
            let message = format!(
                "`#[ingestion]` goes on a free function, not a method: move it out of the `impl` block; {EXPECTED}"
            );
            cx.error_spanned_by(receiver, message);
            return;
        }
        Some(FnArg::Typed(arg)) => context_parameter(cx, arg),
    }
    let extra: Vec<&FnArg> = inputs.collect();
    if !extra.is_empty() {
        let message = format!(
            "an `#[ingestion]` function takes exactly one parameter, `ctx: &PartitionContext`; \
             remove the others; {EXPECTED}"
        );
        cx.error_spanned_by(quote!(#(#extra),*), message);
    }
}

fn context_parameter(cx: &Ctxt, arg: &PatType) {
    match &*arg.ty {
        Type::Reference(reference) if reference.mutability.is_none() => {}
        Type::Reference(reference) => {
            let message =
                format!("borrow the context shared: `&PartitionContext`, not `&mut`; {EXPECTED}");
            cx.error_spanned_by(reference, message);
        }
        ty => {
            let message =
                format!("take the context by reference: `ctx: &PartitionContext`; {EXPECTED}");
            cx.error_spanned_by(ty, message);
        }
    }
}

mod quality;

pub(crate) use self::quality::{form as quality_form, quality, signature as quality_signature};

#[cfg(test)]
mod tests;
