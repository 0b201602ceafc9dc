//! A REST API source, declarative like dlt's `rest_api`: a base URL with its auth,
//! headers, paginator, timeout and retries ([`RestApi`]), and resources — endpoints whose
//! path and parameters may use the partition ([`Resource`]) — read page by page straight
//! into text columns typed by the asset's schema.
//!
//! ```no_run
//! # use phlo_runtime::sources::rest::{Auth, Incremental, Paginator, RestApi, Secret};
//! # use phlo_core::schema::SchemaDef;
//! # async fn demo(ctx: &phlo_core::partition::PartitionContext, schema: &'static SchemaDef)
//! #     -> phlo_runtime::Result<()> {
//! let api = RestApi::new("https://api.example.com/v1")
//!     .auth(Auth::bearer(Secret::env("EXAMPLE_TOKEN")))
//!     .paginator(Paginator::cursor("meta.next_cursor", "cursor"));
//! let batches = api
//!     .resource("events")
//!     .param("day", "{date}")
//!     .data_selector("data")
//!     .incremental(Incremental::new("updated_at", "2025-01-01T00:00:00Z").param("since"))
//!     .read_schema(ctx, schema)
//!     .await?;
//! # Ok(()) }
//! ```
//!
//! - **Templates**: a resource's path and parameter values may hold the partition's
//!   placeholders (`{date}`, `{hour}`, `{month}`, `{key}`, `{start}`, `{end}`, as the file
//!   sources have them); `{{` and `}}` are literal braces.
//! - **Records** are the array at the data selector (a dotted JSON path; by default found
//!   as dlt finds it: the root array, else a `data`, `items`, `results`… array, else the
//!   only array). Each record's values become text — numbers and booleans as written,
//!   objects and arrays as JSON text — and the load's coercion parses them into the
//!   declared types, so a value that does not parse fails its row as validation does. Keys
//!   the schema does not declare are passed on for its `schema_policy`. No
//!   `serde_json::Value` is built per record: a page is read in one pass into Arrow
//!   builders, and only the batches are kept.
//! - **Incremental**: [`Incremental`] names a cursor field; the largest value read is
//!   kept per asset and resource (`rest:<resource>`) in the run's record, only when the
//!   run's commit lands, and sent as a parameter on the next run.
//! - **Failures**: a timeout, a dropped connection, a body cut short, 408, 429 and 5xx are
//!   retried ([`RetryPolicy`], `Retry-After` honoured); when every attempt fails the error
//!   is transient (the asset's retry policy may run the partition again). Other statuses,
//!   a response that is not JSON, a page that does not parse and a missing data selector
//!   are errors at once. Whatever the error, nothing is written and no cursor moves.

mod auth;
mod error;
mod http;
mod json;
mod paginate;
pub mod testing;

use std::sync::{Arc, OnceLock};
use std::time::Duration;

use arrow::record_batch::RecordBatch;
use futures::StreamExt;
use phlo_core::partition::PartitionContext;
use phlo_core::schema::{Schema, SchemaDef};
use serde_json::Value;
use url::Url;

pub use auth::{Auth, KeyLocation, OAuth2, Secret};
pub use error::RestError;
pub use http::RetryPolicy;
pub use json::JsonPath;
pub use paginate::Paginator;

use super::files::Template;
use crate::Result;
use json::RecordDecoder;
use paginate::{Next, Pager};

/// Rows per batch handed back.
pub const BATCH_ROWS: usize = 64 * 1024;

/// Pages one read may fetch unless [`RestApi::max_pages`] says otherwise.
pub const MAX_PAGES: usize = 100_000;

/// An API: base URL, auth, headers, default paginator, timeout and retries, shared by its
/// resources. Cheap to clone; one HTTP client (and its connection pool) per `RestApi`.
#[derive(Debug, Clone)]
pub struct RestApi {
    base: String,
    auth: Auth,
    headers: Vec<(String, String)>,
    paginator: Paginator,
    timeout: Duration,
    connect_timeout: Duration,
    retry: RetryPolicy,
    batch_rows: usize,
    max_pages: usize,
    concurrency: usize,
    client: Arc<OnceLock<reqwest::Client>>,
}

impl RestApi {
    /// The API at `base_url` (`https://api.example.com/v1`). Defaults: no auth, an
    /// auto-detected paginator, 30 s per request, 10 s to connect, [`RetryPolicy`]'s
    /// defaults (5 attempts, 0.5 s doubling up to 60 s).
    pub fn new(base_url: impl Into<String>) -> Self {
        RestApi {
            base: base_url.into(),
            auth: Auth::None,
            headers: Vec::new(),
            paginator: Paginator::Auto,
            timeout: Duration::from_secs(30),
            connect_timeout: Duration::from_secs(10),
            retry: RetryPolicy::default(),
            batch_rows: BATCH_ROWS,
            max_pages: MAX_PAGES,
            concurrency: 1,
            client: Arc::new(OnceLock::new()),
        }
    }

    /// How requests authenticate.
    pub fn auth(mut self, auth: Auth) -> Self {
        self.auth = auth;
        self
    }

    /// A header sent with every request.
    pub fn header(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.headers.push((name.into(), value.into()));
        self
    }

    /// The resources' paginator unless a resource names its own.
    pub fn paginator(mut self, paginator: Paginator) -> Self {
        self.paginator = paginator;
        self
    }

    /// The longest a request may take, body included.
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// How requests are retried.
    pub fn retry(mut self, retry: RetryPolicy) -> Self {
        self.retry = retry;
        self
    }

    /// Rows per batch (default 65,536).
    pub fn batch_rows(mut self, rows: usize) -> Self {
        self.batch_rows = rows.max(1);
        self
    }

    /// The most pages one read fetches before it fails (default 100,000), against a
    /// paginator that never stops.
    pub fn max_pages(mut self, pages: usize) -> Self {
        self.max_pages = pages.max(1);
        self
    }

    /// Requests in flight at once (default 1) for a page-number paginator whose first
    /// page gives the page count (`total_path`): the other pages are then fetched
    /// `requests` at a time, and their records still kept in page order. Other paginators
    /// need each page to find the next, and always fetch one at a time.
    pub fn concurrency(mut self, requests: usize) -> Self {
        self.concurrency = requests.max(1);
        self
    }

    /// The resource `name`, at path `/name` unless [`Resource::path`] says otherwise.
    pub fn resource(&self, name: impl Into<String>) -> Resource {
        let name = name.into();
        Resource {
            api: self.clone(),
            path: name.clone(),
            name,
            params: Vec::new(),
            data_selector: None,
            paginator: None,
            incremental: None,
        }
    }

    fn client(&self) -> Result<reqwest::Client, RestError> {
        if let Some(c) = self.client.get() {
            return Ok(c.clone());
        }
        let client = reqwest::Client::builder()
            .connect_timeout(self.connect_timeout)
            .user_agent(concat!("phlo/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| RestError::Client {
                reason: http::describe(e),
            })?;
        Ok(self.client.get_or_init(|| client).clone())
    }
}

/// An incremental cursor: the field whose largest value read is kept, and the parameter
/// that sends it on the next run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Incremental {
    cursor_path: String,
    initial: String,
    param: Option<String>,
    lookback: Option<chrono::Duration>,
}

impl Incremental {
    /// A cursor on the records' field `cursor_path` (a dotted path into the record),
    /// starting from `initial_value` when no successful run kept one.
    pub fn new(cursor_path: impl Into<String>, initial_value: impl Into<String>) -> Self {
        Incremental {
            cursor_path: cursor_path.into(),
            initial: initial_value.into(),
            param: None,
            lookback: None,
        }
    }

    /// The query parameter that carries the cursor's value (`?since=…`).
    pub fn param(mut self, name: impl Into<String>) -> Self {
        self.param = Some(name.into());
        self
    }

    /// Sends the cursor moved back by `lookback`, for late-arriving records of a
    /// timestamp (RFC 3339) or date cursor; the merge by `unique_key` makes the overlap
    /// idempotent.
    pub fn lookback(mut self, lookback: Duration) -> Self {
        self.lookback = chrono::Duration::from_std(lookback).ok();
        self
    }

    /// The value to send for the kept cursor `last`.
    fn shifted(&self, last: &str) -> Result<String, RestError> {
        let Some(lookback) = self.lookback else {
            return Ok(last.to_string());
        };
        if let Ok(t) = chrono::DateTime::parse_from_rfc3339(last) {
            return Ok((t - lookback).to_rfc3339_opts(chrono::SecondsFormat::AutoSi, true));
        }
        if let Ok(d) = chrono::NaiveDate::parse_from_str(last, "%Y-%m-%d") {
            let start = d.and_hms_opt(0, 0, 0).unwrap_or_default() - lookback;
            return Ok(start.date().format("%Y-%m-%d").to_string());
        }
        Err(RestError::Cursor {
            path: self.cursor_path.clone(),
            reason: format!(
                "a lookback needs an RFC 3339 timestamp or a date, and the cursor is `{last}`"
            ),
        })
    }
}

/// One endpoint of a [`RestApi`].
#[derive(Debug, Clone)]
pub struct Resource {
    api: RestApi,
    name: String,
    path: String,
    params: Vec<(String, String)>,
    data_selector: Option<String>,
    paginator: Option<Paginator>,
    incremental: Option<Incremental>,
}

impl Resource {
    /// The endpoint's path, relative to the base URL (`/events/{date}`), or an absolute
    /// URL.
    pub fn path(mut self, path: impl Into<String>) -> Self {
        self.path = path.into();
        self
    }

    /// A query parameter; its value may hold the partition's placeholders.
    pub fn param(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.params.push((name.into(), value.into()));
        self
    }

    /// Where the records are: a dotted JSON path (`data`, `response.items`, `$` for a
    /// root array). Default: found on the first page.
    pub fn data_selector(mut self, path: impl Into<String>) -> Self {
        self.data_selector = Some(path.into());
        self
    }

    /// This resource's paginator (default: the API's).
    pub fn paginator(mut self, paginator: Paginator) -> Self {
        self.paginator = Some(paginator);
        self
    }

    /// Reads incrementally by a cursor.
    pub fn incremental(mut self, incremental: Incremental) -> Self {
        self.incremental = Some(incremental);
        self
    }

    /// The cursor's resource name: `rest:<resource>`.
    pub fn cursor_resource(&self) -> String {
        format!("rest:{}", self.name)
    }

    /// Reads every page for `ctx`'s partition into `T`'s columns.
    pub async fn read<T: Schema>(&self, ctx: &PartitionContext) -> Result<Vec<RecordBatch>> {
        self.read_schema(ctx, T::SCHEMA).await
    }

    /// [`Resource::read`] for a schema given as a value.
    pub async fn read_schema(
        &self,
        ctx: &PartitionContext,
        schema: &'static SchemaDef,
    ) -> Result<Vec<RecordBatch>> {
        let after = match &self.incremental {
            Some(inc) => {
                let kept = ctx.cursor(&self.cursor_resource()).await?;
                Some(kept.unwrap_or_else(|| inc.initial.clone()))
            }
            None => None,
        };
        let (batches, cursor) = self
            .fetch(ctx, schema.fields.iter().map(|f| f.name), after.as_deref())
            .await
            .map_err(crate::Error::from)?;
        if let Some(max) = cursor {
            ctx.advance_cursor(&self.cursor_resource(), max);
        }
        Ok(batches)
    }

    /// The first request's URL for `ctx`'s partition and the cursor value `after`.
    pub fn url_for(&self, ctx: &PartitionContext, after: Option<&str>) -> Result<Url, RestError> {
        // The partition's values are encoded where they are put in: as one path segment
        // each (a static key `eu/west` is `eu%2Fwest`), or by the query's own encoding;
        // the text around them is the user's, kept as written.
        let template = |what: String, text: &str, segment: bool| {
            Template::parse(text)
                .and_then(|t| {
                    t.render_with(ctx.partition(), |_, value| {
                        if segment {
                            encode_segment(&value)
                        } else {
                            value
                        }
                    })
                })
                .map_err(|e| RestError::Template {
                    what,
                    reason: e.to_string(),
                })
        };
        let path = template(
            format!("the path of resource `{}`", self.name),
            &self.path,
            true,
        )?;
        let text = if path.starts_with("http://") || path.starts_with("https://") {
            path
        } else {
            format!(
                "{}/{}",
                self.api.base.trim_end_matches('/'),
                path.trim_start_matches('/')
            )
        };
        let mut url = Url::parse(&text).map_err(|e| RestError::InvalidUrl {
            url: text.clone(),
            reason: e.to_string(),
        })?;
        let mut params = Vec::with_capacity(self.params.len() + 1);
        for (name, value) in &self.params {
            params.push((
                name.clone(),
                template(
                    format!("parameter `{name}` of resource `{}`", self.name),
                    value,
                    false,
                )?,
            ));
        }
        if let (Some(inc), Some(after)) = (&self.incremental, after)
            && let Some(param) = &inc.param
        {
            params.push((param.clone(), inc.shifted(after)?));
        }
        if !params.is_empty() {
            url.query_pairs_mut().extend_pairs(params);
        }
        Ok(url)
    }

    /// The paginator `page` and `headers` suggest (the first page of [`Paginator::Auto`]).
    fn detected(&self, page: &json::Scan, headers: &reqwest::header::HeaderMap) -> Pager {
        let detected = paginate::detect(page, headers);
        tracing::debug!(resource = %self.name, paginator = ?detected, "paginator detected");
        detected
    }

    /// Fetches every page: the batches, and the cursor's new value when incremental.
    async fn fetch<'a>(
        &self,
        ctx: &PartitionContext,
        declared: impl IntoIterator<Item = &'a str>,
        after: Option<&str>,
    ) -> Result<(Vec<RecordBatch>, Option<String>), RestError> {
        let api = &self.api;
        api.auth.check()?;
        let client = api.client()?;
        let request = http::Request {
            client: &client,
            auth: &api.auth,
            headers: &api.headers,
            timeout: api.timeout,
            retry: api.retry,
        };
        let first = self.url_for(ctx, after)?;
        let mut data = self
            .data_selector
            .as_deref()
            .map(JsonPath::parse)
            .transpose()?;
        let mut pager = self
            .paginator
            .as_ref()
            .unwrap_or(&api.paginator)
            .compile()?;
        let cursor = self
            .incremental
            .as_ref()
            .map(|i| JsonPath::parse(&i.cursor_path))
            .transpose()?;
        let mut decoder = RecordDecoder::new(declared, api.batch_rows);
        let secret = api.auth.secret_query_param();
        let mut url = with_params(
            &first,
            &pager.as_ref().map(Pager::first_params).unwrap_or_default(),
        );
        let mut page = 0;
        loop {
            page += 1;
            if page > api.max_pages {
                return Err(RestError::TooManyPages {
                    url: http::redact(&url, secret),
                    limit: api.max_pages,
                });
            }
            let shown = http::redact(&url, secret);
            let fetched = request.get(&url).await?;
            let json_error = |e: serde_json::Error| RestError::Json {
                url: shown.clone(),
                page,
                reason: e.to_string(),
            };
            if data.is_none() {
                // The first page, and the records' place is to be found: look first (the
                // only page read twice). The same look detects the paginator if need be.
                let mut none = RecordDecoder::new([], 1);
                let look = json::scan(&fetched.body, None, &paginate::candidates(), &mut none)
                    .map_err(json_error)?;
                data = Some(find_records(&look).ok_or_else(|| RestError::NoData {
                    url: shown.clone(),
                    reason: format!(
                        "no array of records found (top-level keys: {}); say where they are with Resource::data_selector(\"…\")",
                        if look.keys.is_empty() { "none".to_string() } else { look.keys.join(", ") }
                    ),
                })?);
                if pager.is_none() {
                    pager = Some(self.detected(&look, &fetched.headers));
                }
            }
            let Some(selector) = &data else {
                return Err(RestError::NoData {
                    url: shown,
                    reason: "no data selector".into(),
                });
            };
            // With the paginator still to detect, the records' pass picks up the
            // candidates' values too: no second pass.
            let wanted = pager
                .as_ref()
                .map_or_else(paginate::candidates, Pager::wanted);
            let scan = json::scan(&fetched.body, Some(selector), &wanted, &mut decoder)
                .map_err(json_error)?;
            let pg = pager.get_or_insert_with(|| self.detected(&scan, &fetched.headers));
            if !scan.found_data {
                return Err(RestError::NoData {
                    url: shown,
                    reason: format!(
                        "the data selector `{selector}` is not in page {page} (top-level keys: {})",
                        scan.keys.join(", ")
                    ),
                });
            }
            if page == 1 && api.concurrency > 1 {
                let remaining =
                    pg.remaining_pages(&scan)
                        .map_err(|reason| RestError::Paginator {
                            url: shown.clone(),
                            reason,
                        })?;
                if let Some((param, numbers)) = remaining {
                    if numbers.len() >= api.max_pages {
                        return Err(RestError::TooManyPages {
                            url: shown,
                            limit: api.max_pages,
                        });
                    }
                    let request = &request;
                    let mut pages = futures::stream::iter(
                        numbers
                            .into_iter()
                            .map(|n| with_params(&first, &[(param.clone(), n.to_string())])),
                    )
                    .map(|u| async move {
                        let fetched = request.get(&u).await;
                        (u, fetched)
                    })
                    .buffered(api.concurrency);
                    while let Some((u, fetched)) = pages.next().await {
                        page += 1;
                        let shown = http::redact(&u, secret);
                        let fetched = fetched?;
                        let scan = json::scan(&fetched.body, Some(selector), &[], &mut decoder)
                            .map_err(|e| RestError::Json {
                                url: shown.clone(),
                                page,
                                reason: e.to_string(),
                            })?;
                        if !scan.found_data {
                            return Err(RestError::NoData {
                                url: shown,
                                reason: format!(
                                    "the data selector `{selector}` is not in page {page}"
                                ),
                            });
                        }
                    }
                    break;
                }
            }
            match pg.next(&url, &shown, &scan, &fetched.headers)? {
                None => break,
                Some(Next::Url(next)) => url = next,
                Some(Next::Params(params)) => url = with_params(&first, &params),
            }
        }
        let max = match &cursor {
            Some(path) => max_cursor(&mut decoder, path)?,
            None => None,
        };
        Ok((decoder.finish()?, max))
    }
}

/// `url` with `params` set (replacing parameters of the same name).
fn with_params(url: &Url, params: &[(String, String)]) -> Url {
    if params.is_empty() {
        return url.clone();
    }
    let mut out = url.clone();
    let kept: Vec<(String, String)> = url
        .query_pairs()
        .filter(|(k, _)| !params.iter().any(|(p, _)| p == k))
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect();
    out.query_pairs_mut()
        .clear()
        .extend_pairs(kept)
        .extend_pairs(params.iter().map(|(k, v)| (k.as_str(), v.as_str())));
    out
}

/// Percent-encodes everything but RFC 3986's unreserved characters: a value becomes
/// exactly one path segment.
fn encode_segment(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for b in value.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                out.push(b as char)
            }
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

/// Where the records are, as dlt finds them: the root array; else the first of the usual
/// keys holding an array; else the only top-level array.
fn find_records(scan: &json::Scan) -> Option<JsonPath> {
    const RECORD_KEYS: &[&str] = &[
        "data", "items", "results", "records", "entries", "rows", "entities", "objects", "values",
        "content", "payload", "hits",
    ];
    const NOT_RECORDS: &[&str] = &[
        "meta",
        "links",
        "_links",
        "metadata",
        "pagination",
        "paging",
        "extra",
    ];
    if scan.root == json::Kind::Array {
        return Some(JsonPath::root());
    }
    if let Some(k) = RECORD_KEYS
        .iter()
        .find(|k| scan.array_keys.iter().any(|a| a == *k))
    {
        return JsonPath::parse(k).ok();
    }
    let arrays: Vec<&String> = scan
        .array_keys
        .iter()
        .filter(|k| !NOT_RECORDS.contains(&k.as_str()))
        .collect();
    match arrays.as_slice() {
        [only] => JsonPath::parse(only).ok(),
        _ => None,
    }
}

/// The largest value of the cursor field over the records read: by number when every
/// value is an integer, by instant when every value is an RFC 3339 timestamp, else by
/// text. The value is kept as the API wrote it.
fn max_cursor(decoder: &mut RecordDecoder, path: &JsonPath) -> Result<Option<String>, RestError> {
    let text = path.to_string();
    let mut parts = text.splitn(2, '.');
    let top = parts.next().unwrap_or_default().to_string();
    let rest = parts.next().map(JsonPath::parse).transpose()?;
    let mut values = decoder.values_of(&top);
    if let Some(rest) = rest {
        values = values
            .iter()
            .filter_map(|v| serde_json::from_str::<Value>(v).ok())
            .filter_map(|v| {
                json::lookup(&v, &rest).and_then(|x| match x {
                    Value::String(s) => Some(s.clone()),
                    Value::Number(n) => Some(n.to_string()),
                    _ => None,
                })
            })
            .collect();
    }
    if values.is_empty() {
        return Ok(None);
    }
    // The value (as written) whose parsed form is the largest, when every value parses.
    fn largest<T: Ord, E>(
        values: &[String],
        parse: impl Fn(&str) -> Result<T, E>,
    ) -> Option<String> {
        let parsed = values
            .iter()
            .map(|v| parse(v))
            .collect::<Result<Vec<T>, E>>()
            .ok()?;
        let i = parsed
            .iter()
            .enumerate()
            .max_by(|a, b| a.1.cmp(b.1))
            .map(|(i, _)| i)?;
        values.get(i).cloned()
    }
    if let Some(max) = largest(&values, str::parse::<i64>) {
        return Ok(Some(max));
    }
    if let Some(max) = largest(&values, chrono::DateTime::parse_from_rfc3339) {
        return Ok(Some(max));
    }
    Ok(values.into_iter().max())
}

#[cfg(test)]
mod tests;
