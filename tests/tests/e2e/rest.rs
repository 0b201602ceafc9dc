//! The REST source against a real HTTP server on loopback
//! (`phlo::sources::rest::testing::Server`): every paginator, explicit and detected, every
//! kind of auth, a 429 storm, a server that dies mid-page or hangs, and bad input — bad
//! credentials, a wrong content type, a page that is not JSON, a missing data selector,
//! an unreachable server — each a typed error that leaves the table and the cursor as
//! they were.

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use phlo::prelude::*;
use phlo::sources::rest::testing::{Reply, Request, Server};
use phlo::sources::rest::{
    Auth, Incremental, Paginator, Resource, RestApi, RestError, RetryPolicy, Secret,
};
use phlo::{FixedClock, Registry, SequentialRunIds};
use serde_json::{Value, json};

use crate::support::{now, query, version};

/// A record of the test API.
#[derive(Schema)]
pub struct ApiEvent {
    /// Event id.
    id: i64,
    /// What happened (required: a null fails validation).
    kind: String,
    /// A measurement.
    value: f64,
    /// When it was last updated.
    updated_at: DateTime<Utc>,
}

fn event(id: i64, kind: &str, updated_at: &str) -> Value {
    json!({"id": id, "kind": kind, "value": id as f64 / 2.0, "updated_at": updated_at})
}

fn events(n: i64) -> Vec<Value> {
    (1..=n)
        .map(|i| event(i, "created", &format!("2025-01-15T{:02}:00:00Z", i % 24)))
        .collect()
}

/// The test API: `/{style}/events` pages `records` in the style named, `per_page` at a
/// time (`?limit=` or `?per_page=` to change it).
fn paged(records: &[Value], request: &Request) -> Reply {
    let style = request
        .path
        .trim_start_matches('/')
        .split('/')
        .next()
        .unwrap_or_default();
    let per_page: usize = request
        .query("limit")
        .or(request.query("per_page"))
        .and_then(|v| v.parse().ok())
        .unwrap_or(3);
    let since = request.query("since").map(str::to_string);
    let records: Vec<&Value> = records
        .iter()
        .filter(|r| {
            since
                .as_deref()
                .is_none_or(|s| r["updated_at"].as_str().is_some_and(|u| u > s))
        })
        .collect();
    let total = records.len();
    let pages = total.div_ceil(per_page);
    let slice = |from: usize| -> Vec<&Value> {
        records.iter().skip(from).take(per_page).copied().collect()
    };
    let base = format!("/{style}/events");
    match style {
        "page" => {
            let page: usize = request
                .query("page")
                .and_then(|p| p.parse().ok())
                .unwrap_or(1);
            let body = json!({"data": slice((page.max(1) - 1) * per_page), "page": page, "total_pages": pages});
            Reply::json(body.to_string())
        }
        "offset" => {
            let offset: usize = request
                .query("offset")
                .and_then(|p| p.parse().ok())
                .unwrap_or(0);
            Reply::json(json!({"items": slice(offset), "total": total}).to_string())
        }
        "cursor" => {
            let from: usize = request
                .query("cursor")
                .and_then(|p| p.parse().ok())
                .unwrap_or(0);
            let next = (from + per_page < total).then(|| (from + per_page).to_string());
            Reply::json(json!({"data": slice(from), "meta": {"next_cursor": next}}).to_string())
        }
        "next" => {
            let from: usize = request
                .query("from")
                .and_then(|p| p.parse().ok())
                .unwrap_or(0);
            let next = (from + per_page < total)
                .then(|| format!("{base}?from={}&limit={per_page}", from + per_page));
            Reply::json(json!({"results": slice(from), "links": {"next": next}}).to_string())
        }
        "link" => {
            let from: usize = request
                .query("from")
                .and_then(|p| p.parse().ok())
                .unwrap_or(0);
            let mut reply =
                Reply::json(Value::Array(slice(from).into_iter().cloned().collect()).to_string());
            if from + per_page < total {
                reply = reply.header(
                    "link",
                    format!(
                        "<{base}?from={}&limit={per_page}>; rel=\"next\", <{base}>; rel=\"first\"",
                        from + per_page
                    ),
                );
            }
            reply
        }
        "single" => Reply::json(json!({"data": records}).to_string()),
        _ => Reply::status(404, "no such endpoint"),
    }
}

async fn server(records: Vec<Value>) -> Server {
    Server::start(move |r| paged(&records, r))
        .await
        .unwrap_or_else(|e| panic!("{e}"))
}

fn ctx(key: Option<&str>) -> PartitionContext {
    PartitionContext::new(
        "rest_test",
        key.map(|k| PartitionKey::parse(k).unwrap_or_else(|e| panic!("{e}"))),
        "run",
        1,
        now(),
    )
}

async fn ids(resource: &Resource) -> Result<Vec<i64>, phlo::Error> {
    let batches = resource.read::<ApiEvent>(&ctx(None)).await?;
    let mut out = Vec::new();
    for b in &batches {
        let col = b
            .column_by_name("id")
            .unwrap_or_else(|| panic!("no id column"));
        let strings = phlo::arrow::array::AsArray::as_string::<i32>(col.as_ref());
        out.extend(
            strings
                .iter()
                .map(|v| v.and_then(|s| s.parse::<i64>().ok()).unwrap_or(-1)),
        );
    }
    Ok(out)
}

fn rest_error(e: &phlo::Error) -> &RestError {
    match e {
        phlo::Error::Rest(r) => r,
        other => panic!("not a REST error: {other:?}"),
    }
}

#[tokio::test]
async fn every_paginator_reads_every_record_once_explicit_or_detected() {
    let s = server(events(10)).await;
    let api = RestApi::new(s.url());
    let all: Vec<i64> = (1..=10).collect();
    let cases = [
        (
            "page",
            Paginator::page_number("page").total_path("total_pages"),
        ),
        ("page", Paginator::page_number("page")),
        ("offset", Paginator::offset_limit(4).total_path("total")),
        ("offset", Paginator::offset_limit(4)),
        ("cursor", Paginator::cursor("meta.next_cursor", "cursor")),
        ("next", Paginator::next_url("links.next")),
        ("link", Paginator::header_link()),
        ("single", Paginator::Single),
    ];
    for (style, paginator) in cases {
        let r = api
            .resource("events")
            .path(format!("/{style}/events"))
            .paginator(paginator.clone());
        assert_eq!(
            ids(&r).await.unwrap_or_else(|e| panic!("{style}: {e}")),
            all,
            "{style} {paginator:?}"
        );
    }
    let before = s.requests().len();
    // Detected: page count, cursor, next URL, Link header, one page.
    for style in ["page", "cursor", "next", "link", "single"] {
        let r = api.resource("events").path(format!("/{style}/events"));
        assert_eq!(
            ids(&r).await.unwrap_or_else(|e| panic!("{style}: {e}")),
            all,
            "auto {style}"
        );
    }
    // 4 + 4 + 4 + 4 + 1 pages, each asked for once.
    assert_eq!(s.requests().len() - before, 17);
    // Offsets detected from a total are not guessed: with no paginator given, an offset
    // API answers one page (dlt does the same), so it must be named.
    let r = api.resource("events").path("/offset/events");
    assert_eq!(ids(&r).await.unwrap_or_else(|e| panic!("{e}")), [1, 2, 3]);
}

#[tokio::test]
async fn every_auth_is_sent_and_bad_credentials_are_typed_errors() {
    let tokens = Arc::new(AtomicUsize::new(0));
    let issued = tokens.clone();
    let records = events(5);
    let s = Server::start(move |r| {
        let bearer = |t: &str| r.header("authorization") == Some(&format!("Bearer {t}"));
        let ok = match r.path.split('/').nth(1).unwrap_or_default() {
            "bearer" => bearer("t0k3n"),
            "header" => r.header("x-api-key") == Some("k3y"),
            "query" => r.query("api_key") == Some("k3y"),
            // alice:pa55 in base64
            "basic" => r.header("authorization") == Some("Basic YWxpY2U6cGE1NQ=="),
            // Only the latest token issued is valid.
            "oauth" => bearer(&format!("access-{}", issued.load(Ordering::SeqCst))),
            "token" => {
                let form = r.form();
                if form.get("client_secret").map(String::as_str) != Some("s3cret")
                    || form.get("grant_type").map(String::as_str) != Some("client_credentials")
                {
                    return Reply::status(401, r#"{"error": "invalid_client"}"#);
                }
                let n = issued.fetch_add(1, Ordering::SeqCst) + 1;
                return Reply::json(
                    json!({"access_token": format!("access-{n}"), "expires_in": 3600}).to_string(),
                );
            }
            _ => false,
        };
        if !ok {
            return Reply::status(401, r#"{"error": "unauthorized"}"#)
                .header("content-type", "application/json");
        }
        let mut inner = r.clone();
        inner.path = "/page/events".into();
        paged(&records, &inner)
    })
    .await
    .unwrap_or_else(|e| panic!("{e}"));
    let all: Vec<i64> = (1..=5).collect();
    let read = |auth: Auth, style: &str| {
        RestApi::new(s.url())
            .auth(auth)
            .resource("events")
            .path(format!("/{style}/events"))
            .paginator(Paginator::page_number("page"))
    };
    assert_eq!(
        ids(&read(Auth::bearer(Secret::value("t0k3n")), "bearer"))
            .await
            .unwrap_or_else(|e| panic!("{e}")),
        all
    );
    assert_eq!(
        ids(&read(
            Auth::api_key_header("X-API-Key", Secret::value("k3y")),
            "header"
        ))
        .await
        .unwrap_or_else(|e| panic!("{e}")),
        all
    );
    assert_eq!(
        ids(&read(
            Auth::api_key_query("api_key", Secret::value("k3y")),
            "query"
        ))
        .await
        .unwrap_or_else(|e| panic!("{e}")),
        all
    );
    assert_eq!(
        ids(&read(Auth::basic("alice", Secret::value("pa55")), "basic"))
            .await
            .unwrap_or_else(|e| panic!("{e}")),
        all
    );

    // OAuth2: a token is fetched with the client's credentials and scope, once, and
    // reused for every page.
    let oauth = Auth::oauth2_client_credentials(
        format!("{}/token", s.url()),
        "phlo",
        Secret::value("s3cret"),
        Some("read"),
    );
    assert_eq!(
        ids(&read(oauth.clone(), "oauth"))
            .await
            .unwrap_or_else(|e| panic!("{e}")),
        all
    );
    let token_requests = s.requests().iter().filter(|r| r.path == "/token").count();
    assert_eq!(token_requests, 1, "one token for all pages");
    assert_eq!(tokens.load(Ordering::SeqCst), 1);
    let form = s
        .requests()
        .into_iter()
        .find(|r| r.path == "/token")
        .map(|r| r.form())
        .unwrap_or_default();
    assert_eq!(form.get("scope").map(String::as_str), Some("read"));

    // Bad credentials: 401, a typed error that says to check them, secrets not shown.
    let err = ids(&read(Auth::bearer(Secret::value("wrong")), "bearer"))
        .await
        .expect_err("401");
    match rest_error(&err) {
        RestError::Status { status: 401, .. } => {}
        other => panic!("{other:?}"),
    }
    assert!(err.to_string().contains("check the credentials"), "{err}");
    let err = ids(&read(
        Auth::api_key_query("api_key", Secret::value("n0pe")),
        "query",
    ))
    .await
    .expect_err("401");
    assert!(
        !err.to_string().contains("n0pe"),
        "the key is not shown: {err}"
    );
    assert_eq!(err.class(), phlo::ErrorClass::RunFailed);
    let bad_client = Auth::oauth2_client_credentials(
        format!("{}/token", s.url()),
        "phlo",
        Secret::value("wrong"),
        None,
    );
    let err = ids(&read(bad_client, "oauth"))
        .await
        .expect_err("token refused");
    assert!(matches!(rest_error(&err), RestError::Token { .. }), "{err}");
    // A secret from an unset variable: a usage error before any request.
    let before = s.requests().len();
    let err = ids(&read(
        Auth::bearer(Secret::env("PHLO_E2E_UNSET_TOKEN")),
        "bearer",
    ))
    .await
    .expect_err("unset");
    assert!(
        matches!(rest_error(&err), RestError::MissingSecret { .. }),
        "{err}"
    );
    assert_eq!(err.class(), phlo::ErrorClass::Usage);
    assert_eq!(s.requests().len(), before, "nothing was sent");
}

#[tokio::test]
async fn an_oauth2_token_refused_mid_run_is_fetched_again_once() {
    let issued = Arc::new(AtomicUsize::new(0));
    let counter = issued.clone();
    let records = events(6);
    let s = Server::start(move |r| {
        if r.path == "/token" {
            let n = counter.fetch_add(1, Ordering::SeqCst) + 1;
            return Reply::json(json!({"access_token": format!("access-{n}")}).to_string());
        }
        // Page 2 revokes the first token.
        let page = r.query("page").unwrap_or("1");
        let token = r.header("authorization").unwrap_or_default();
        if page != "1" && token == "Bearer access-1" {
            return Reply::status(401, "expired");
        }
        let mut inner = r.clone();
        inner.path = "/page/events".into();
        paged(&records, &inner)
    })
    .await
    .unwrap_or_else(|e| panic!("{e}"));
    let r = RestApi::new(s.url())
        .auth(Auth::oauth2_client_credentials(
            format!("{}/token", s.url()),
            "id",
            Secret::value("x"),
            None,
        ))
        .resource("events")
        .paginator(Paginator::page_number("page"));
    assert_eq!(
        ids(&r).await.unwrap_or_else(|e| panic!("{e}")),
        (1..=6).collect::<Vec<_>>()
    );
    assert_eq!(issued.load(Ordering::SeqCst), 2);
}

#[tokio::test]
async fn a_429_storm_is_retried_honouring_retry_after_and_5xx_too() {
    let hits = Arc::new(Mutex::new(HashMap::<String, usize>::new()));
    let seen = hits.clone();
    let records = events(9);
    let s = Server::start(move |r| {
        if r.path != "/events" {
            return Reply::status(404, "no such endpoint");
        }
        let page = r.query("page").unwrap_or("1").to_string();
        let n = {
            let mut h = seen.lock().unwrap_or_else(|e| e.into_inner());
            let n = h.entry(page.clone()).or_default();
            *n += 1;
            *n
        };
        match (page.as_str(), n) {
            // Page 2: three 429s, the first asking for a second's wait.
            ("2", 1) => Reply::status(429, "slow down").header("retry-after", "1"),
            ("2", 2 | 3) => Reply::status(429, "slow down").header("retry-after", "0"),
            // Page 3: a 503 and a 502 before it answers.
            ("3", 1) => Reply::status(503, "unavailable"),
            ("3", 2) => Reply::status(502, "bad gateway"),
            _ => {
                let mut inner = r.clone();
                inner.path = "/page/events".into();
                paged(&records, &inner)
            }
        }
    })
    .await
    .unwrap_or_else(|e| panic!("{e}"));
    let retry = RetryPolicy {
        attempts: 5,
        base_delay: Duration::from_millis(10),
        max_delay: Duration::from_secs(5),
    };
    let api = RestApi::new(s.url()).retry(retry);
    let r = api
        .resource("events")
        .paginator(Paginator::page_number("page"));
    assert_eq!(
        ids(&r).await.unwrap_or_else(|e| panic!("{e}")),
        (1..=9).collect::<Vec<_>>()
    );
    let page2: Vec<Duration> = s
        .requests()
        .iter()
        .filter(|q| q.query("page") == Some("2"))
        .map(|q| q.at)
        .collect();
    assert_eq!(page2.len(), 4);
    assert!(
        page2[1] - page2[0] >= Duration::from_millis(990),
        "Retry-After: 1 honoured: {page2:?}"
    );

    // A storm that does not end: the error says so, is transient, and nothing is read.
    let storm = Server::start(|_| Reply::status(429, "no").header("retry-after", "0"))
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let err = ids(&RestApi::new(storm.url()).retry(retry).resource("events"))
        .await
        .expect_err("exhausted");
    match rest_error(&err) {
        RestError::Exhausted {
            attempts: 5, last, ..
        } => assert!(last.starts_with("429"), "{last}"),
        other => panic!("{other:?}"),
    }
    assert!(err.is_transient());
    assert_eq!(storm.requests().len(), 5);

    // A 404 is not retried.
    let err = ids(&api.resource("events").path("/nowhere"))
        .await
        .expect_err("404");
    assert!(
        matches!(rest_error(&err), RestError::Status { status: 404, .. }),
        "{err}"
    );
    assert!(!err.is_transient());
}

#[tokio::test]
async fn a_server_that_dies_mid_page_hangs_or_is_gone() {
    let cut = Arc::new(AtomicUsize::new(0));
    let cuts = cut.clone();
    let records = events(6);
    let s = Server::start(move |r| {
        let mut inner = r.clone();
        inner.path = "/page/events".into();
        let reply = paged(&records, &inner);
        match r.path.as_str() {
            "/dead" => Reply::drop_connection(),
            "/hang" => reply.after(Duration::from_secs(3)),
            _ if r.query("page") == Some("2") && cuts.fetch_add(1, Ordering::SeqCst) == 0 => {
                reply.cut_after(40)
            }
            _ => reply,
        }
    })
    .await
    .unwrap_or_else(|e| panic!("{e}"));
    let retry = RetryPolicy {
        attempts: 3,
        base_delay: Duration::from_millis(10),
        max_delay: Duration::from_millis(50),
    };
    let api = RestApi::new(s.url())
        .retry(retry)
        .timeout(Duration::from_millis(300));
    let r = api
        .resource("events")
        .paginator(Paginator::page_number("page"));
    assert_eq!(
        ids(&r).await.unwrap_or_else(|e| panic!("{e}")),
        (1..=6).collect::<Vec<_>>(),
        "page 2 read again"
    );

    for (path, what) in [("/dead", ""), ("/hang", "timed out")] {
        let err = ids(&api
            .resource("events")
            .path(path)
            .paginator(Paginator::Single))
        .await
        .expect_err(path);
        match rest_error(&err) {
            RestError::Exhausted {
                attempts: 3, last, ..
            } => assert!(last.contains(what), "{path}: {last}"),
            other => panic!("{path}: {other:?}"),
        }
    }
    // Nothing listens: refused, retried, transient.
    let gone = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap_or_else(|e| panic!("{e}"));
        listener.local_addr().unwrap_or_else(|e| panic!("{e}"))
    };
    let err = ids(&RestApi::new(format!("http://{gone}"))
        .retry(retry)
        .resource("events"))
    .await
    .expect_err("refused");
    assert!(
        matches!(rest_error(&err), RestError::Exhausted { .. }),
        "{err}"
    );
    assert!(err.is_transient());
}

// ---- through the runtime: the table and the cursor ----------------------------------

static URLS: Mutex<Option<HashMap<&'static str, String>>> = Mutex::new(None);

fn set_url(asset: &'static str, url: String) {
    URLS.lock()
        .unwrap_or_else(|e| e.into_inner())
        .get_or_insert_with(HashMap::new)
        .insert(asset, url);
}

fn url_of(asset: &str) -> String {
    URLS.lock()
        .unwrap_or_else(|e| e.into_inner())
        .as_ref()
        .and_then(|m| m.get(asset).cloned())
        .unwrap_or_else(|| panic!("no server for {asset}"))
}

/// A day of events, read incrementally by `updated_at` from `/cursor/events`.
#[ingestion(table = "bronze.rest_api_events", unique_key = "id", schema = ApiEvent)]
pub async fn rest_api_events(ctx: &PartitionContext) -> phlo::Result<Vec<RecordBatch>> {
    RestApi::new(url_of("rest_api_events"))
        .retry(RetryPolicy {
            attempts: 2,
            base_delay: Duration::from_millis(5),
            max_delay: Duration::from_millis(5),
        })
        .resource("events")
        .path("/cursor/events")
        .param("day", "{date}")
        .data_selector("data")
        .incremental(Incremental::new("updated_at", "2025-01-01T00:00:00Z").param("since"))
        .read::<ApiEvent>(ctx)
        .await
}

async fn runtime(test: &str, dir: &std::path::Path) -> Runtime {
    let descriptor = Registry::global()
        .and_then(|r| Ok(r.get("rest_api_events")?.descriptor))
        .unwrap_or_else(|e| panic!("{e}"));
    Runtime::builder(dir)
        .registry(Registry::from_descriptors([descriptor]).unwrap_or_else(|e| panic!("{e}")))
        .clock(Arc::new(FixedClock::new(now())))
        .run_ids(Arc::new(SequentialRunIds::new(test)))
        .build()
        .await
        .unwrap_or_else(|e| panic!("runtime: {e}"))
}

#[tokio::test]
async fn the_cursor_advances_only_when_the_commit_lands_and_bad_pages_write_nothing() {
    #[derive(Clone, Copy, PartialEq)]
    enum Mode {
        Good,
        NotJson,
        Html,
        NoSelector,
        Forbidden,
    }
    let records = Arc::new(Mutex::new(events(7)));
    let mode = Arc::new(Mutex::new(Mode::Good));
    let (data, current) = (records.clone(), mode.clone());
    let s = Server::start(move |r| {
        let m = *current.lock().unwrap_or_else(|e| e.into_inner());
        let good = paged(&data.lock().unwrap_or_else(|e| e.into_inner()), r);
        match (m, r.query("cursor")) {
            (Mode::Good, _) | (_, None) => good,
            // The second page goes wrong.
            (Mode::NotJson, Some(_)) => Reply::json(r#"{"data": [{"id": 4, "kind": "x""#),
            (Mode::Html, Some(_)) => {
                Reply::status(200, "<html>maintenance</html>").header("content-type", "text/html")
            }
            (Mode::NoSelector, Some(_)) => Reply::json(r#"{"rows": []}"#),
            (Mode::Forbidden, Some(_)) => Reply::status(403, "forbidden"),
        }
    })
    .await
    .unwrap_or_else(|e| panic!("{e}"));
    set_url("rest_api_events", s.url());
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let rt = runtime("restcursor", dir.path()).await;

    let first = rt
        .materialize("rest_api_events", "2025-01-15")
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!((first.rows_in, first.rows_inserted), (7, 7));
    assert_eq!(
        first.cursors.get("rest:events").map(String::as_str),
        Some("2025-01-15T07:00:00Z")
    );
    let day = s
        .requests()
        .iter()
        .filter_map(|r| r.query("day").map(str::to_string))
        .next();
    assert_eq!(
        day.as_deref(),
        Some("2025-01-15"),
        "the partition fills the parameter"
    );
    let v1 = version(&rt, "bronze.rest_api_events").await;

    // Four new records and one update: only those five are asked for (`since` is the
    // cursor) and read.
    {
        let mut r = records.lock().unwrap_or_else(|e| e.into_inner());
        r.extend((8..=11).map(|i| event(i, "created", &format!("2025-01-15T{:02}:30:00Z", i))));
        r[2] = event(3, "changed", "2025-01-15T12:00:00Z");
    }
    let second = rt
        .materialize("rest_api_events", "2025-01-15")
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(
        (second.rows_in, second.rows_inserted, second.rows_updated),
        (5, 4, 1)
    );
    assert_eq!(
        second.cursors.get("rest:events").map(String::as_str),
        Some("2025-01-15T12:00:00Z")
    );
    let since: Vec<String> = s
        .requests()
        .iter()
        .filter_map(|r| r.query("since").map(str::to_string))
        .collect();
    assert!(
        since.contains(&"2025-01-15T07:00:00Z".to_string()),
        "{since:?}"
    );
    let v2 = version(&rt, "bronze.rest_api_events").await;
    assert_ne!(v1, v2);

    // New records arrive; each bad second page fails the run with a typed error, writes
    // nothing, and keeps the cursor: the next good run reads the same records again.
    records
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .extend((12..=16).map(|i| event(i, "created", "2025-01-15T13:00:00Z")));
    for (bad, check) in [
        (Mode::NotJson, "not valid JSON"),
        (Mode::Html, "Content-Type `text/html`"),
        (Mode::NoSelector, "data selector `data` is not in page 2"),
        (Mode::Forbidden, "403"),
    ] {
        *mode.lock().unwrap_or_else(|e| e.into_inner()) = bad;
        let err = rt
            .materialize("rest_api_events", "2025-01-15")
            .await
            .expect_err("bad page");
        assert!(err.to_string().contains(check), "{err}");
        assert_eq!(err.class(), phlo::ErrorClass::RunFailed);
        assert_eq!(
            version(&rt, "bronze.rest_api_events").await,
            v2,
            "nothing written"
        );
    }
    // A record that fails validation fails the run the same way.
    *mode.lock().unwrap_or_else(|e| e.into_inner()) = Mode::Good;
    records.lock().unwrap_or_else(|e| e.into_inner()).push(
        json!({"id": 17, "kind": null, "value": "n/a", "updated_at": "2025-01-15T14:00:00Z"}),
    );
    rt.materialize("rest_api_events", "2025-01-15")
        .await
        .expect_err("invalid record");
    assert_eq!(version(&rt, "bronze.rest_api_events").await, v2);
    let runs = query(&rt, "SELECT status FROM _phlo.runs ORDER BY started_at").await;
    assert!(runs.contains("failed"), "{runs}");

    // Fixed: the records since the kept cursor are read again, all of them.
    records.lock().unwrap_or_else(|e| e.into_inner())[16] =
        event(17, "fixed", "2025-01-15T14:00:00Z");
    let fixed = rt
        .materialize("rest_api_events", "2025-01-15")
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!((fixed.rows_in, fixed.rows_inserted), (6, 6));
    assert_eq!(
        fixed.cursors.get("rest:events").map(String::as_str),
        Some("2025-01-15T14:00:00Z")
    );
    let rows = query(
        &rt,
        "SELECT count(*) AS n, sum(value) AS v FROM bronze.rest_api_events",
    )
    .await;
    assert!(rows.contains("| 17 | 76.5 |"), "{rows}");
}

/// Rejects the next commit to a data table once armed.
#[derive(Debug, Default)]
struct RejectNextCommit {
    armed: std::sync::atomic::AtomicBool,
}

#[async_trait::async_trait]
impl crate::support::StoreHooks for RejectNextCommit {
    async fn commit(
        &self,
        store: &phlo::crates::core::storage::DeltaStore,
        table: &phlo::crates::core::names::TableName,
        write: phlo::crates::core::storage::Write,
    ) -> phlo::crates::core::Result<phlo::crates::core::storage::CommitOutcome> {
        if table.namespace() != "_phlo" && self.armed.swap(false, Ordering::SeqCst) {
            return Err(phlo::crates::core::Error::Arrow(
                phlo::arrow::error::ArrowError::InvalidArgumentError("commit rejected".into()),
            ));
        }
        phlo::crates::core::storage::TableStore::commit(store, table, write).await
    }
}

#[tokio::test]
async fn a_commit_that_fails_keeps_the_cursor_and_the_records_are_read_again() {
    let records = Arc::new(Mutex::new(events(4)));
    let data = records.clone();
    let s = Server::start(move |r| paged(&data.lock().unwrap_or_else(|e| e.into_inner()), r))
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    set_url("rest_api_events_commit", s.url());
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let store = crate::support::Hooked::new(dir.path(), RejectNextCommit::default());
    let descriptor = Registry::global()
        .and_then(|r| Ok(r.get("rest_api_events_commit")?.descriptor))
        .unwrap_or_else(|e| panic!("{e}"));
    let rt = Runtime::builder(dir.path())
        .store(store.clone())
        .registry(Registry::from_descriptors([descriptor]).unwrap_or_else(|e| panic!("{e}")))
        .clock(Arc::new(FixedClock::new(now())))
        .run_ids(Arc::new(SequentialRunIds::new("restcommit")))
        .build()
        .await
        .unwrap_or_else(|e| panic!("runtime: {e}"));
    let first = rt
        .materialize("rest_api_events_commit", Unpartitioned)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(
        first.cursors.get("rest:events").map(String::as_str),
        Some("2025-01-15T04:00:00Z")
    );

    records
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .extend((5..=6).map(|i| event(i, "created", &format!("2025-01-15T{:02}:00:00Z", i))));
    store.armed.store(true, Ordering::SeqCst);
    let err = rt
        .materialize("rest_api_events_commit", Unpartitioned)
        .await
        .expect_err("commit rejected");
    assert!(err.to_string().contains("commit rejected"), "{err}");
    // The rejected run read records 5 and 6; its cursor was not kept, so they are asked
    // for again (since the first run's cursor) and land now.
    let again = rt
        .materialize("rest_api_events_commit", Unpartitioned)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!((again.rows_in, again.rows_inserted), (2, 2));
    assert_eq!(
        again.cursors.get("rest:events").map(String::as_str),
        Some("2025-01-15T06:00:00Z")
    );
    let since: Vec<String> = s
        .requests()
        .iter()
        .filter_map(|r| r.query("since").map(str::to_string))
        .collect();
    // Each run asks from the cursor its predecessor kept: the initial value, then the
    // first run's cursor twice (the rejected run's was not kept).
    let mut asked: Vec<&str> = since.iter().map(String::as_str).collect();
    asked.dedup();
    assert_eq!(
        asked,
        ["2025-01-01T00:00:00Z", "2025-01-15T04:00:00Z"],
        "{since:?}"
    );
    assert_eq!(
        since
            .iter()
            .filter(|s| s.as_str() == "2025-01-15T04:00:00Z")
            .count(),
        2,
        "one page each: {since:?}"
    );
    let rows = query(
        &rt,
        "SELECT count(*) AS n FROM bronze.rest_api_events_commit",
    )
    .await;
    assert!(rows.contains("| 6 |"), "{rows}");
}

/// All events, read incrementally from `/cursor/events` (the commit-failure test's).
#[ingestion(table = "bronze.rest_api_events_commit", unique_key = "id", schema = ApiEvent, partitioned = false)]
pub async fn rest_api_events_commit(ctx: &PartitionContext) -> phlo::Result<Vec<RecordBatch>> {
    RestApi::new(url_of("rest_api_events_commit"))
        .resource("events")
        .path("/cursor/events")
        .incremental(Incremental::new("updated_at", "2025-01-01T00:00:00Z").param("since"))
        .read::<ApiEvent>(ctx)
        .await
}

#[tokio::test]
async fn known_page_counts_are_fetched_concurrently_and_kept_in_page_order() {
    let records = events(10);
    let s = Server::start(move |r| {
        let mut inner = r.clone();
        inner.path = "/page/events".into();
        let reply = paged(&records, &inner);
        // Page 2 answers a second late: pages 3 and 4 must not wait for it.
        if r.query("page") == Some("2") {
            reply.after(Duration::from_secs(1))
        } else {
            reply
        }
    })
    .await
    .unwrap_or_else(|e| panic!("{e}"));
    let r = RestApi::new(s.url())
        .concurrency(3)
        .resource("events")
        .paginator(Paginator::page_number("page").total_path("total_pages"));
    assert_eq!(
        ids(&r).await.unwrap_or_else(|e| panic!("{e}")),
        (1..=10).collect::<Vec<_>>()
    );
    let at = |page: &str| {
        s.requests()
            .iter()
            .find(|q| q.query("page") == Some(page))
            .map(|q| q.at)
            .unwrap_or_else(|| panic!("page {page} was not asked for"))
    };
    assert_eq!(s.requests().len(), 4, "1 + 3 pages, none past the count");
    assert!(
        at("4") < at("2") + Duration::from_millis(900),
        "page 4 did not wait for page 2"
    );
}
