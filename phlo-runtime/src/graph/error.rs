//! What can be wrong with a graph, a partition mapping or a selection. Each message is
//! one line that names the assets involved and says how to fix it.

use super::Mapping;
use super::suggest::hint;

/// A graph that cannot be built, or a question about it that has no answer.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum GraphError {
    /// Two assets share a name.
    #[error("asset `{name}` is declared twice: asset names must be unique, rename one of them")]
    DuplicateAsset {
        /// The name.
        name: String,
    },
    /// An asset depends on an asset that does not exist.
    #[error(
        "asset `{downstream}` depends on unknown asset `{upstream}`{}",
        unknown_hint(suggestion)
    )]
    UnknownUpstream {
        /// The asset declaring the dependency.
        downstream: String,
        /// The name it gave.
        upstream: String,
        /// The existing name closest to `upstream`, when one is close.
        suggestion: Option<String>,
    },
    /// An asset lists the same upstream twice.
    #[error(
        "asset `{downstream}` lists `{upstream}` as a dependency twice: keep one, with the mapping it needs"
    )]
    DuplicateEdge {
        /// The asset declaring the dependencies.
        downstream: String,
        /// The upstream listed twice.
        upstream: String,
    },
    /// The dependencies form a cycle; `path` starts and ends with the same asset, in the
    /// direction data flows.
    #[error(
        "dependency cycle {}: an asset cannot depend on itself, remove one of these dependencies",
        .path.join(" → ")
    )]
    Cycle {
        /// The assets of the cycle, upstream first, the first repeated at the end.
        path: Vec<String>,
    },
    /// An edge's partition mapping does not fit the two assets' partitions.
    #[error("asset `{downstream}` cannot read `{upstream}` with mapping `{mapping}`: {reason}")]
    IncompatibleMapping {
        /// The asset declaring the dependency.
        downstream: String,
        /// The upstream.
        upstream: String,
        /// The declared mapping.
        mapping: Mapping,
        /// Why the mapping does not fit.
        reason: MappingError,
    },
    /// A name passed to a graph query is not an asset of the graph.
    #[error("unknown asset `{name}`{}", hint(suggestion))]
    UnknownAsset {
        /// The name.
        name: String,
        /// The existing name closest to `name`, when one is close.
        suggestion: Option<String>,
    },
    /// A partition mapping was asked for an edge that does not exist.
    #[error(
        "asset `{downstream}` does not depend on `{upstream}`: ask about one of its declared dependencies"
    )]
    NotADependency {
        /// The asset asked about.
        downstream: String,
        /// The asset it does not depend on.
        upstream: String,
    },
    /// A partition key that is not a partition of the asset it was given for.
    #[error("`{key}` is not a partition of asset `{asset}`: expected {expected}")]
    KeyNotInAsset {
        /// The asset.
        asset: String,
        /// The key's text.
        key: String,
        /// The keys the asset has.
        expected: String,
    },
}

fn unknown_hint(suggestion: &Option<String>) -> String {
    match suggestion {
        Some(s) => format!("; did you mean `{s}`?"),
        None => ": declare that asset, or remove the dependency".to_string(),
    }
}

/// Why a partition mapping does not fit two partitions definitions (each given in its
/// short form, as `daily`, `hourly(Europe/London)`, `static(eu,us)`).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum MappingError {
    /// `identity` between different partitions.
    #[error(
        "`identity` needs the same partitions on both sides, found `{upstream}` upstream and `{downstream}` downstream; use `time_window` between time partitions, or `all`"
    )]
    IdentityNeedsSamePartitions {
        /// The upstream's partitions.
        upstream: String,
        /// The downstream's partitions.
        downstream: String,
    },
    /// `time_window` where one side is not time-partitioned.
    #[error(
        "`time_window` needs time partitions on both sides, found `{upstream}` upstream and `{downstream}` downstream; use `all` to read the whole upstream"
    )]
    TimeWindowNeedsTime {
        /// The upstream's partitions.
        upstream: String,
        /// The downstream's partitions.
        downstream: String,
    },
    /// `time_window` where a downstream window is not a union of upstream windows.
    #[error(
        "a `{downstream}` window is not a union of `{upstream}` windows; `time_window` needs the downstream cadence equal or coarser (hourly → daily → monthly) and window boundaries that line up (the same time zone, or whole-hour offsets from an hourly upstream)"
    )]
    NotAUnion {
        /// The upstream's partitions.
        upstream: String,
        /// The downstream's partitions.
        downstream: String,
    },
    /// `offset` where the two sides are not time partitions of one cadence and time zone.
    #[error(
        "`offset` needs time partitions of the same cadence and time zone on both sides, found `{upstream}` upstream and `{downstream}` downstream; use `time_window` or `all`"
    )]
    OffsetNeedsSameCadence {
        /// The upstream's partitions.
        upstream: String,
        /// The downstream's partitions.
        downstream: String,
    },
    /// No mapping follows from the two definitions: one must be declared.
    #[error(
        "no default partition mapping from `{upstream}` to `{downstream}`; declare one (`all` reads the whole upstream for every partition)"
    )]
    NoDefault {
        /// The upstream's partitions.
        upstream: String,
        /// The downstream's partitions.
        downstream: String,
    },
}

/// A selection that cannot be parsed or names what does not exist.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SelectionError {
    /// The text is not a selection.
    #[error("cannot parse selection `{input}` at column {column} (`{fragment}`): {problem}")]
    Syntax {
        /// The whole selection as given.
        input: String,
        /// The 1-based character position of the problem.
        column: usize,
        /// The selector (space- and comma-delimited word) holding the problem.
        fragment: String,
        /// What is wrong.
        problem: SyntaxProblem,
    },
    /// A name that is not an asset.
    #[error(
        "selection names unknown asset `{name}`{}",
        unknown_selected_hint(suggestion)
    )]
    UnknownAsset {
        /// The name.
        name: String,
        /// The existing name closest to `name`, when one is close.
        suggestion: Option<String>,
    },
    /// A `group:`, `tag:` or `kind:` value no asset has.
    #[error(
        "selection `{method}:{value}` matches no asset{}",
        no_match_hint(method, suggestion)
    )]
    NoMatch {
        /// `group`, `tag` or `kind`.
        method: &'static str,
        /// The value given.
        value: String,
        /// The existing value closest to `value`, when one is close.
        suggestion: Option<String>,
    },
}

fn unknown_selected_hint(suggestion: &Option<String>) -> String {
    match suggestion {
        Some(s) => format!("; did you mean `{s}`?"),
        None => {
            ": no asset has a similar name (names are exact; `*` selects every asset)".to_string()
        }
    }
}

fn no_match_hint(method: &str, suggestion: &Option<String>) -> String {
    match suggestion {
        Some(s) => format!("; did you mean `{method}:{s}`?"),
        None => format!("; no asset has this {method}"),
    }
}

/// What is wrong at one place of a selection's text.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SyntaxProblem {
    /// A comma without a selector on one side.
    #[error(
        "a `,` intersects two selectors and needs one on each side, as in `tag:daily,group:wells`"
    )]
    DanglingComma,
    /// Graph operators with nothing to apply to.
    #[error("`+` and `@` need an asset name, `group:`, `tag:` or `kind:` beside them")]
    MissingName,
    /// A depth that is not a whole number of at least 1.
    #[error("a depth is a whole number of at least 1, as in `2+name` or `name+1`")]
    BadDepth,
    /// A method other than `group`, `tag` or `kind`.
    #[error("unknown method `{method}:`; use `group:`, `tag:` or `kind:`")]
    UnknownMethod {
        /// The method given.
        method: String,
    },
    /// A method without a value.
    #[error("`{method}:` needs a value after the colon")]
    EmptyValue {
        /// The method.
        method: String,
    },
    /// A glob other than a lone `*`.
    #[error("`*` works alone (every asset); globs such as `stg_*` are not supported")]
    Glob,
    /// Operators around `*`.
    #[error("`*` already selects every asset; drop the operators around it")]
    OperatorOnStar,
    /// `@` combined with `+`.
    #[error("`@name` already selects ancestors and descendants; drop the `+`")]
    AtWithPlus,
    /// A character that cannot appear in a selector.
    #[error("unexpected `{found}`: names and values are letters, digits, `_`, `-`, `.` and `/`")]
    UnexpectedChar {
        /// The character.
        found: char,
    },
}
