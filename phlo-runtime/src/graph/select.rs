//! Selections (`+stg_wells`, `tag:daily,group:wells`, …): parsed once into a
//! [`Selection`], then resolved against a graph. The grammar is in the module docs of
//! [`crate::graph`].

use std::collections::BTreeSet;
use std::fmt;

use super::suggest::closest;
use super::{AssetGraph, SelectionError, SyntaxProblem};

/// A parsed selection: the union of its terms. No term selects every asset.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Selection {
    /// The space-separated terms, united.
    pub terms: Vec<Term>,
}

/// One space-separated term: the intersection of its comma-separated selectors.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Term {
    /// The selectors, intersected (never empty).
    pub selectors: Vec<Selector>,
}

/// One selector: a set of assets, widened along the graph.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Selector {
    /// The assets the selector starts from.
    pub base: Base,
    /// How it widens along the graph.
    pub graph: GraphOp,
}

/// What a selector starts from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Base {
    /// `*`: every asset.
    All,
    /// An asset name.
    Name(String),
    /// `group:NAME`: the assets of a group.
    Group(String),
    /// `tag:NAME`: the assets with a tag.
    Tag(String),
    /// `kind:NAME`: the assets of a kind (`ingestion`, `sql`, …).
    Kind(String),
}

/// How a selector widens along the graph.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GraphOp {
    /// `[N]+base+[N]`: the base, its ancestors (leading `+`) and descendants (trailing
    /// `+`), each up to a depth; both `None` for the base alone.
    Plus {
        /// Leading `+`: ancestors, up to this depth.
        ancestors: Option<Depth>,
        /// Trailing `+`: descendants, up to this depth.
        descendants: Option<Depth>,
    },
    /// `@base`: the base, all its descendants, and all the ancestors of those (what a run
    /// of the descendants needs built).
    At,
}

/// How far a `+` reaches.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Depth {
    /// `+`: any distance.
    Unlimited,
    /// `2+` / `+2`: at most this many edges away (at least 1).
    Max(usize),
}

impl Selection {
    /// Parses a selection. Empty text (or only whitespace) and `*` select every asset.
    pub fn parse(input: &str) -> Result<Selection, SelectionError> {
        let tokens = tokenize(input);
        let syntax = |at: usize, fragment: &str, problem| SelectionError::Syntax {
            input: input.to_string(),
            column: input.get(..at).map_or(1, |s| s.chars().count() + 1),
            fragment: fragment.to_string(),
            problem,
        };
        let mut terms = Vec::new();
        let mut i = 0;
        while let Some(token) = tokens.get(i) {
            let (at, word) = match *token {
                Token::Word(at, word) => (at, word),
                Token::Comma(at) => return Err(syntax(at, ",", SyntaxProblem::DanglingComma)),
            };
            let mut selectors = vec![parse_selector(input, at, word)?];
            i += 1;
            while let Some(Token::Comma(comma)) = tokens.get(i) {
                match tokens.get(i + 1) {
                    Some(Token::Word(at, word)) => {
                        selectors.push(parse_selector(input, *at, word)?)
                    }
                    _ => return Err(syntax(*comma, ",", SyntaxProblem::DanglingComma)),
                }
                i += 2;
            }
            terms.push(Term { selectors });
        }
        Ok(Selection { terms })
    }

    /// Whether the selection selects every asset (empty, or a lone `*`).
    pub fn is_all(&self) -> bool {
        self.terms.is_empty()
            || self
                .terms
                .iter()
                .any(|t| t.selectors.iter().all(|s| s.base == Base::All))
    }
}

impl fmt::Display for Selection {
    /// The canonical text: terms separated by one space, selectors by `,`; `*` when empty.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.terms.is_empty() {
            return f.write_str("*");
        }
        for (i, term) in self.terms.iter().enumerate() {
            if i > 0 {
                f.write_str(" ")?;
            }
            for (j, selector) in term.selectors.iter().enumerate() {
                if j > 0 {
                    f.write_str(",")?;
                }
                write!(f, "{selector}")?;
            }
        }
        Ok(())
    }
}

impl fmt::Display for Selector {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let depth = |d: Depth| match d {
            Depth::Unlimited => String::new(),
            Depth::Max(n) => n.to_string(),
        };
        match self.graph {
            GraphOp::At => write!(f, "@{}", self.base),
            GraphOp::Plus {
                ancestors,
                descendants,
            } => {
                if let Some(d) = ancestors {
                    write!(f, "{}+", depth(d))?;
                }
                write!(f, "{}", self.base)?;
                if let Some(d) = descendants {
                    write!(f, "+{}", depth(d))?;
                }
                Ok(())
            }
        }
    }
}

impl fmt::Display for Base {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Base::All => f.write_str("*"),
            Base::Name(n) => f.write_str(n),
            Base::Group(v) => write!(f, "group:{v}"),
            Base::Tag(v) => write!(f, "tag:{v}"),
            Base::Kind(v) => write!(f, "kind:{v}"),
        }
    }
}

#[derive(Debug, Clone, Copy)]
enum Token<'a> {
    /// A selector's text at a byte offset.
    Word(usize, &'a str),
    /// A comma at a byte offset.
    Comma(usize),
}

/// Words and commas; whitespace separates words and is otherwise dropped (so `a , b` is
/// `a,b`).
fn tokenize(input: &str) -> Vec<Token<'_>> {
    let mut tokens = Vec::new();
    let mut word_start: Option<usize> = None;
    for (i, c) in input.char_indices() {
        if c.is_whitespace() || c == ',' {
            if let Some(s) = word_start.take()
                && let Some(word) = input.get(s..i)
            {
                tokens.push(Token::Word(s, word));
            }
            if c == ',' {
                tokens.push(Token::Comma(i));
            }
        } else if word_start.is_none() {
            word_start = Some(i);
        }
    }
    if let Some(s) = word_start
        && let Some(word) = input.get(s..)
    {
        tokens.push(Token::Word(s, word));
    }
    tokens
}

/// One selector, `word` starting at byte `offset` of `input`.
fn parse_selector(input: &str, offset: usize, word: &str) -> Result<Selector, SelectionError> {
    let err = |at: usize, problem: SyntaxProblem| SelectionError::Syntax {
        input: input.to_string(),
        column: input
            .get(..offset + at)
            .map_or(1, |s| s.chars().count() + 1),
        fragment: word.to_string(),
        problem,
    };
    let rest = |from: usize| word.get(from..).unwrap_or("");
    let digits = |from: usize| from + rest(from).bytes().take_while(u8::is_ascii_digit).count();

    let at = word.starts_with('@');
    let mut pos = usize::from(at);
    let mut ancestors = None;
    let lead = digits(pos);
    if rest(lead).starts_with('+') {
        if at {
            return Err(err(lead, SyntaxProblem::AtWithPlus));
        }
        ancestors =
            Some(depth(word.get(pos..lead)).ok_or_else(|| err(pos, SyntaxProblem::BadDepth))?);
        pos = lead + 1;
    }
    let body_end = rest(pos).find('+').map_or(word.len(), |i| pos + i);
    let mut descendants = None;
    if body_end < word.len() {
        if at {
            return Err(err(body_end, SyntaxProblem::AtWithPlus));
        }
        let after = body_end + 1;
        let end = digits(after);
        descendants =
            Some(depth(word.get(after..end)).ok_or_else(|| err(after, SyntaxProblem::BadDepth))?);
        if let Some(found) = rest(end).chars().next() {
            return Err(err(end, SyntaxProblem::UnexpectedChar { found }));
        }
    }
    let body = word.get(pos..body_end).unwrap_or("");
    let base = parse_base(body).map_err(|(i, problem)| err(pos + i, problem))?;
    let graph = if at {
        GraphOp::At
    } else {
        GraphOp::Plus {
            ancestors,
            descendants,
        }
    };
    if base == Base::All
        && graph
            != (GraphOp::Plus {
                ancestors: None,
                descendants: None,
            })
    {
        return Err(err(0, SyntaxProblem::OperatorOnStar));
    }
    Ok(Selector { base, graph })
}

/// `""` → unlimited; `"2"` → at most 2; `"0"` or too large → `None`.
fn depth(digits: Option<&str>) -> Option<Depth> {
    match digits {
        None | Some("") => Some(Depth::Unlimited),
        Some(d) => d.parse::<usize>().ok().filter(|n| *n > 0).map(Depth::Max),
    }
}

/// The base of a selector; the error carries the byte offset in `body`.
fn parse_base(body: &str) -> Result<Base, (usize, SyntaxProblem)> {
    if body.is_empty() {
        return Err((0, SyntaxProblem::MissingName));
    }
    if body == "*" {
        return Ok(Base::All);
    }
    if let Some(star) = body.find('*') {
        return Err((star, SyntaxProblem::Glob));
    }
    let Some(colon) = body.find(':') else {
        check_chars(body, 0)?;
        return Ok(Base::Name(body.to_string()));
    };
    let (method, value) = (&body[..colon], &body[colon + 1..]);
    let make: fn(String) -> Base = match method {
        "group" => Base::Group,
        "tag" => Base::Tag,
        "kind" => Base::Kind,
        _ => {
            return Err((
                0,
                SyntaxProblem::UnknownMethod {
                    method: method.to_string(),
                },
            ));
        }
    };
    if value.is_empty() {
        return Err((
            colon + 1,
            SyntaxProblem::EmptyValue {
                method: method.to_string(),
            },
        ));
    }
    check_chars(value, colon + 1)?;
    Ok(make(value.to_string()))
}

fn check_chars(text: &str, offset: usize) -> Result<(), (usize, SyntaxProblem)> {
    match text
        .char_indices()
        .find(|(_, c)| !(c.is_alphanumeric() || matches!(c, '_' | '-' | '.' | '/')))
    {
        Some((i, found)) => Err((offset + i, SyntaxProblem::UnexpectedChar { found })),
        None => Ok(()),
    }
}

/// The indices of the assets `selection` selects in `graph`.
pub(super) fn resolve(
    graph: &AssetGraph,
    selection: &Selection,
) -> Result<BTreeSet<usize>, SelectionError> {
    if selection.terms.is_empty() {
        return Ok((0..graph.nodes.len()).collect());
    }
    let mut out = BTreeSet::new();
    for term in &selection.terms {
        let mut acc: Option<BTreeSet<usize>> = None;
        for selector in &term.selectors {
            let set = resolve_selector(graph, selector)?;
            acc = Some(match acc {
                None => set,
                Some(prev) => prev.intersection(&set).copied().collect(),
            });
        }
        out.extend(acc.unwrap_or_default());
    }
    Ok(out)
}

fn resolve_selector(
    graph: &AssetGraph,
    selector: &Selector,
) -> Result<BTreeSet<usize>, SelectionError> {
    let nodes = &graph.nodes;
    let matching = |method: &'static str,
                    value: &str,
                    values: &dyn Fn(&super::GraphNode) -> Vec<&str>|
     -> Result<BTreeSet<usize>, SelectionError> {
        let set: BTreeSet<usize> = (0..nodes.len())
            .filter(|&i| values(&nodes[i]).contains(&value))
            .collect();
        if set.is_empty() {
            let known: BTreeSet<&str> = nodes.iter().flat_map(values).collect();
            return Err(SelectionError::NoMatch {
                method,
                value: value.to_string(),
                suggestion: closest(value, known),
            });
        }
        Ok(set)
    };
    let base: BTreeSet<usize> = match &selector.base {
        Base::All => (0..nodes.len()).collect(),
        Base::Name(name) => match graph.index.get(name) {
            Some(&i) => BTreeSet::from([i]),
            None => {
                return Err(SelectionError::UnknownAsset {
                    name: name.clone(),
                    suggestion: closest(name, graph.index.keys().map(String::as_str)),
                });
            }
        },
        Base::Group(v) => matching("group", v, &|n| n.group.as_deref().into_iter().collect())?,
        Base::Tag(v) => matching("tag", v, &|n| n.tags.iter().map(String::as_str).collect())?,
        Base::Kind(v) => matching("kind", v, &|n| vec![n.kind.as_str()])?,
    };
    Ok(match selector.graph {
        GraphOp::At => {
            let mut down = graph.walk(&base, false, None);
            down.extend(&base);
            let up = graph.walk(&down, true, None);
            down.extend(up);
            down
        }
        GraphOp::Plus {
            ancestors,
            descendants,
        } => {
            let mut out = base.clone();
            let limit = |d: Depth| match d {
                Depth::Unlimited => None,
                Depth::Max(n) => Some(n),
            };
            if let Some(d) = ancestors {
                out.extend(graph.walk(&base, true, limit(d)));
            }
            if let Some(d) = descendants {
                out.extend(graph.walk(&base, false, limit(d)));
            }
            out
        }
    })
}
