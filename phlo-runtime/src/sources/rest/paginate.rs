//! Paginators: how the next page is asked for, and when there is none. [`Paginator::Auto`]
//! looks at the first page as dlt's detector does: a `Link: <…>; rel="next"` header, a
//! next-page URL in the body, a cursor in the body, a total page count — in that order —
//! else the response is one page.

use reqwest::header::{HeaderMap, LINK};
use serde_json::Value;
use url::Url;

use super::error::RestError;
use super::json::{JsonPath, Scan};

/// How a resource pages.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum Paginator {
    /// Detected from the first page (the default).
    #[default]
    Auto,
    /// One request, one page.
    Single,
    /// `?page=N` from `base` (usually 1), until a page has no records, the page count at
    /// `total_path` is reached, or `max_page`.
    PageNumber {
        /// The query parameter.
        param: String,
        /// The first page's number.
        base: i64,
        /// Where the response says how many pages there are.
        total_path: Option<String>,
        /// The last page to ask for.
        max_page: Option<i64>,
    },
    /// `?offset=N&limit=L`, until a page has no records or the offset reaches the total
    /// at `total_path`. The offset advances by the records received, so an API that caps
    /// the limit below `limit` loses nothing.
    OffsetLimit {
        /// The offset parameter.
        offset_param: String,
        /// The limit parameter.
        limit_param: String,
        /// Records per page asked for.
        limit: u64,
        /// Where the response says how many records there are.
        total_path: Option<String>,
    },
    /// A cursor (or next-page token) in the body at `cursor_path`, sent back as query
    /// parameter `param`, until it is missing, null or empty.
    Cursor {
        /// Where the cursor is.
        cursor_path: String,
        /// The query parameter that carries it.
        param: String,
    },
    /// The next page's URL in the body at `path` (absolute, or relative to the page's),
    /// until it is missing, null or empty.
    NextUrl {
        /// Where the URL is.
        path: String,
    },
    /// The next page's URL in the `Link` header (`rel="next"`, RFC 8288), until there is
    /// none.
    HeaderLink,
}

impl Paginator {
    /// `?page=N` from 1.
    pub fn page_number(param: impl Into<String>) -> Self {
        Paginator::PageNumber {
            param: param.into(),
            base: 1,
            total_path: None,
            max_page: None,
        }
    }

    /// `?offset=N&limit=limit`.
    pub fn offset_limit(limit: u64) -> Self {
        Paginator::OffsetLimit {
            offset_param: "offset".into(),
            limit_param: "limit".into(),
            limit: limit.max(1),
            total_path: None,
        }
    }

    /// A cursor at `cursor_path`, sent back as `param`.
    pub fn cursor(cursor_path: impl Into<String>, param: impl Into<String>) -> Self {
        Paginator::Cursor {
            cursor_path: cursor_path.into(),
            param: param.into(),
        }
    }

    /// The next URL at `path` in the body.
    pub fn next_url(path: impl Into<String>) -> Self {
        Paginator::NextUrl { path: path.into() }
    }

    /// The `Link` header.
    pub fn header_link() -> Self {
        Paginator::HeaderLink
    }

    /// For [`Paginator::PageNumber`] and [`Paginator::OffsetLimit`]: where the response
    /// gives the page count (page number) or the record count (offset).
    pub fn total_path(mut self, path: impl Into<String>) -> Self {
        match &mut self {
            Paginator::PageNumber { total_path, .. }
            | Paginator::OffsetLimit { total_path, .. } => {
                *total_path = Some(path.into());
            }
            _ => {}
        }
        self
    }

    /// For [`Paginator::PageNumber`]: the first page's number (default 1).
    pub fn base_page(mut self, first: i64) -> Self {
        if let Paginator::PageNumber { base, .. } = &mut self {
            *base = first;
        }
        self
    }

    /// For [`Paginator::PageNumber`]: the last page to ask for.
    pub fn max_page(mut self, last: i64) -> Self {
        if let Paginator::PageNumber { max_page, .. } = &mut self {
            *max_page = Some(last);
        }
        self
    }

    /// For [`Paginator::OffsetLimit`]: the parameters' names (default `offset`, `limit`).
    pub fn params(mut self, offset: impl Into<String>, limit: impl Into<String>) -> Self {
        if let Paginator::OffsetLimit {
            offset_param,
            limit_param,
            ..
        } = &mut self
        {
            *offset_param = offset.into();
            *limit_param = limit.into();
        }
        self
    }

    /// The paginator to run, or `None` for [`Paginator::Auto`].
    pub(crate) fn compile(&self) -> Result<Option<Pager>, RestError> {
        let path = |p: &str| JsonPath::parse(p);
        let total = |t: &Option<String>| t.as_deref().map(JsonPath::parse).transpose();
        Ok(Some(match self {
            Paginator::Auto => return Ok(None),
            Paginator::Single => Pager::Single,
            Paginator::PageNumber {
                param,
                base,
                total_path,
                max_page,
            } => Pager::Page {
                param: param.clone(),
                base: *base,
                page: *base,
                total: total(total_path)?,
                max: *max_page,
            },
            Paginator::OffsetLimit {
                offset_param,
                limit_param,
                limit,
                total_path,
            } => Pager::Offset {
                offset_param: offset_param.clone(),
                limit_param: limit_param.clone(),
                limit: *limit,
                offset: 0,
                total: total(total_path)?,
            },
            Paginator::Cursor { cursor_path, param } => Pager::Cursor {
                path: path(cursor_path)?,
                param: param.clone(),
            },
            Paginator::NextUrl { path: p } => Pager::NextUrl { path: path(p)? },
            Paginator::HeaderLink => Pager::HeaderLink,
        }))
    }
}

/// A paginator running.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Pager {
    Single,
    Page {
        param: String,
        base: i64,
        page: i64,
        total: Option<JsonPath>,
        max: Option<i64>,
    },
    Offset {
        offset_param: String,
        limit_param: String,
        limit: u64,
        offset: u64,
        total: Option<JsonPath>,
    },
    Cursor {
        path: JsonPath,
        param: String,
    },
    NextUrl {
        path: JsonPath,
    },
    HeaderLink,
}

/// The next request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Next {
    /// The first request's URL with these query parameters set.
    Params(Vec<(String, String)>),
    /// This URL.
    Url(Url),
}

/// Candidate places of a next-page URL, a cursor and a page count, as dlt's detector has
/// them (cursor candidates with the parameter that sends them back).
const NEXT_URL_PATHS: &[&str] = &[
    "next",
    "next_url",
    "nextUrl",
    "next_page_url",
    "nextPageUrl",
    "links.next",
    "pagination.next",
    "paging.next",
    "meta.next",
];
const CURSOR_PATHS: &[(&str, &str)] = &[
    ("next_cursor", "cursor"),
    ("nextCursor", "cursor"),
    ("cursor", "cursor"),
    ("meta.next_cursor", "cursor"),
    ("pagination.next_cursor", "cursor"),
    ("next_page_token", "page_token"),
    ("nextPageToken", "pageToken"),
];
const TOTAL_PAGES_PATHS: &[&str] = &[
    "total_pages",
    "totalPages",
    "page_count",
    "meta.total_pages",
    "pagination.total_pages",
];

/// Every path [`detect`] looks at.
pub(crate) fn candidates() -> Vec<JsonPath> {
    NEXT_URL_PATHS
        .iter()
        .copied()
        .chain(CURSOR_PATHS.iter().map(|(p, _)| *p))
        .chain(TOTAL_PAGES_PATHS.iter().copied())
        .filter_map(|p| JsonPath::parse(p).ok())
        .collect()
}

fn looks_like_url(s: &str) -> bool {
    s.starts_with("http://")
        || s.starts_with("https://")
        || s.starts_with('/')
        || s.starts_with('?')
}

/// The paginator the first page suggests.
pub(crate) fn detect(scan: &Scan, headers: &HeaderMap) -> Pager {
    if headers.get(LINK).is_some() {
        return Pager::HeaderLink;
    }
    let at = |p: &str| JsonPath::parse(p).ok().and_then(|p| scan.values.get(&p));
    for p in NEXT_URL_PATHS {
        match at(p) {
            Some(Value::String(s)) if looks_like_url(s) => {
                return Pager::NextUrl {
                    path: JsonPath::parse(p).unwrap_or_else(|_| JsonPath::root()),
                };
            }
            // Present but null: this API pages by next URL, and this is its last page.
            Some(Value::Null) => {
                return Pager::NextUrl {
                    path: JsonPath::parse(p).unwrap_or_else(|_| JsonPath::root()),
                };
            }
            _ => {}
        }
    }
    for (p, param) in CURSOR_PATHS {
        if let Some(Value::String(_) | Value::Number(_) | Value::Null) = at(p) {
            return Pager::Cursor {
                path: JsonPath::parse(p).unwrap_or_else(|_| JsonPath::root()),
                param: (*param).to_string(),
            };
        }
    }
    for p in TOTAL_PAGES_PATHS {
        if let Some(Value::Number(_)) = at(p) {
            return Pager::Page {
                param: "page".into(),
                base: 1,
                page: 1,
                total: JsonPath::parse(p).ok(),
                max: None,
            };
        }
    }
    Pager::Single
}

impl Pager {
    /// The query parameters of the first request.
    pub(crate) fn first_params(&self) -> Vec<(String, String)> {
        match self {
            Pager::Page { param, base, .. } => vec![(param.clone(), base.to_string())],
            Pager::Offset {
                offset_param,
                limit_param,
                limit,
                ..
            } => vec![
                (offset_param.clone(), "0".into()),
                (limit_param.clone(), limit.to_string()),
            ],
            _ => Vec::new(),
        }
    }

    /// The body values the paginator reads.
    pub(crate) fn wanted(&self) -> Vec<JsonPath> {
        match self {
            Pager::Page { total: Some(t), .. } | Pager::Offset { total: Some(t), .. } => {
                vec![t.clone()]
            }
            Pager::Cursor { path, .. } | Pager::NextUrl { path } => vec![path.clone()],
            _ => Vec::new(),
        }
    }

    /// For a page-number paginator that knows the page count after the first page: its
    /// parameter and the numbers of the pages left, so they can be fetched at once.
    pub(crate) fn remaining_pages(
        &self,
        scan: &Scan,
    ) -> Result<Option<(String, Vec<i64>)>, String> {
        let Pager::Page {
            param,
            base,
            page,
            total: Some(path),
            max,
        } = self
        else {
            return Ok(None);
        };
        if scan.records == 0 || page != base {
            return Ok(None);
        }
        let Some(pages) = count(scan, path)? else {
            return Ok(None);
        };
        let mut last = base.saturating_add(pages.max(0)).saturating_sub(1);
        if let Some(m) = max {
            last = last.min(*m);
        }
        Ok(Some((param.clone(), (base + 1..=last).collect())))
    }

    /// The next request after a page at `url` with `records` records, or `None` when
    /// that was the last page.
    pub(crate) fn next(
        &mut self,
        url: &Url,
        shown: &str,
        scan: &Scan,
        headers: &HeaderMap,
    ) -> Result<Option<Next>, RestError> {
        let error = |reason: String| RestError::Paginator {
            url: shown.to_string(),
            reason,
        };
        let records = scan.records;
        Ok(match self {
            Pager::Single => None,
            Pager::Page {
                param,
                base,
                page,
                total,
                max,
            } => {
                if records == 0 {
                    return Ok(None);
                }
                let next = *page + 1;
                if let Some(path) = total {
                    let pages = count(scan, path).map_err(error)?;
                    if let Some(pages) = pages
                        && next - *base >= pages
                    {
                        return Ok(None);
                    }
                }
                if max.is_some_and(|m| next > m) {
                    return Ok(None);
                }
                *page = next;
                Some(Next::Params(vec![(param.clone(), next.to_string())]))
            }
            Pager::Offset {
                offset_param,
                limit_param,
                limit,
                offset,
                total,
            } => {
                if records == 0 {
                    return Ok(None);
                }
                *offset += records as u64;
                if let Some(path) = total {
                    let all = count(scan, path).map_err(error)?;
                    if all.is_some_and(|n| *offset >= n.max(0) as u64) {
                        return Ok(None);
                    }
                }
                Some(Next::Params(vec![
                    (offset_param.clone(), offset.to_string()),
                    (limit_param.clone(), limit.to_string()),
                ]))
            }
            Pager::Cursor { path, param } => match scan.values.get(path) {
                None | Some(Value::Null) => None,
                Some(Value::String(s)) if s.is_empty() => None,
                Some(Value::String(s)) => Some(Next::Params(vec![(param.clone(), s.clone())])),
                Some(Value::Number(n)) => Some(Next::Params(vec![(param.clone(), n.to_string())])),
                Some(other) => {
                    return Err(error(format!(
                        "the cursor at `{path}` is {other}, not a string or number"
                    )));
                }
            },
            Pager::NextUrl { path } => match scan.values.get(path) {
                None | Some(Value::Null) => None,
                Some(Value::String(s)) if s.is_empty() => None,
                Some(Value::String(s)) => Some(Next::Url(url.join(s).map_err(|e| {
                    RestError::InvalidUrl {
                        url: s.clone(),
                        reason: e.to_string(),
                    }
                })?)),
                Some(other) => {
                    return Err(error(format!(
                        "the next URL at `{path}` is {other}, not a string"
                    )));
                }
            },
            Pager::HeaderLink => match next_link(headers) {
                None => None,
                Some(link) => Some(Next::Url(url.join(&link).map_err(|e| {
                    RestError::InvalidUrl {
                        url: link.clone(),
                        reason: e.to_string(),
                    }
                })?)),
            },
        })
    }
}

/// An integer count at `path` (a number, or a string of digits), `None` when absent.
fn count(scan: &Scan, path: &JsonPath) -> Result<Option<i64>, String> {
    match scan.values.get(path) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Number(n)) => n
            .as_i64()
            .map(Some)
            .ok_or_else(|| format!("the count at `{path}` is {n}, not an integer")),
        Some(Value::String(s)) => s
            .trim()
            .parse()
            .map(Some)
            .map_err(|_| format!("the count at `{path}` is \"{s}\", not an integer")),
        Some(other) => Err(format!("the count at `{path}` is {other}, not an integer")),
    }
}

/// The `rel="next"` target of the `Link` headers (RFC 8288).
pub(crate) fn next_link(headers: &HeaderMap) -> Option<String> {
    for value in headers.get_all(LINK) {
        let Ok(text) = value.to_str() else { continue };
        for link in split_links(text) {
            let Some((target, params)) = link.trim().split_once('>') else {
                continue;
            };
            let target = target.trim().trim_start_matches('<');
            let next = params.split(';').any(|p| {
                let p = p.trim();
                p.split_once('=').is_some_and(|(k, v)| {
                    k.trim().eq_ignore_ascii_case("rel")
                        && v.trim()
                            .trim_matches('"')
                            .split_ascii_whitespace()
                            .any(|r| r.eq_ignore_ascii_case("next"))
                })
            });
            if next {
                return Some(target.to_string());
            }
        }
    }
    None
}

/// Splits a `Link` header at the commas between links (not those inside `<…>`).
fn split_links(text: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let mut depth = false;
    let mut start = 0;
    for (i, c) in text.char_indices() {
        match c {
            '<' => depth = true,
            '>' => depth = false,
            ',' if !depth => {
                out.push(&text[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    out.push(&text[start..]);
    out
}
