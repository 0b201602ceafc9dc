use std::time::Duration;

use arrow::array::{Array, AsArray};
use reqwest::header::{HeaderMap, HeaderValue};

use super::json::{Kind, RecordDecoder, scan};
use super::paginate::{Next, Pager, detect, next_link};
use super::*;

fn path(p: &str) -> JsonPath {
    JsonPath::parse(p).expect("path")
}

fn column(batch: &RecordBatch, name: &str) -> Vec<Option<String>> {
    let a = batch
        .column_by_name(name)
        .expect("column")
        .as_string::<i32>();
    (0..a.len())
        .map(|i| a.is_valid(i).then(|| a.value(i).to_string()))
        .collect()
}

#[test]
fn json_paths_are_dotted_keys_or_the_root() {
    assert!(path("$").is_root());
    assert!(path("").is_root());
    assert_eq!(path("$.data.items"), path("data.items"));
    assert_eq!(path("data.items").to_string(), "data.items");
    for bad in ["data[0]", "a..b", "items.*"] {
        let err = JsonPath::parse(bad).expect_err(bad);
        assert!(err.to_string().contains("dots"), "{err}");
    }
}

#[test]
fn a_page_is_read_in_one_pass_into_text_columns() {
    let body = br#"{"meta": {"next_cursor": "c2", "total": 3},
        "data": [
          {"id": 1, "name": "a\"b", "score": 1.5, "ok": true, "tags": ["x", 1], "extra": null},
          {"name": "b", "id": -2, "nested": {"k": [1, 2]}},
          {"id": 18446744073709551615, "id": 7}
        ]}"#;
    let mut decoder = RecordDecoder::new(["id", "name", "absent"], 2);
    let s = scan(
        body,
        Some(&path("data")),
        &[path("meta.next_cursor")],
        &mut decoder,
    )
    .expect("scans");
    assert_eq!(s.records, 3);
    assert!(s.found_data);
    assert_eq!(s.keys, ["meta", "data"]);
    assert_eq!(
        s.values[&path("meta.next_cursor")],
        Value::String("c2".into())
    );
    let batches = decoder.finish().expect("batches");
    assert_eq!(batches.len(), 2, "cut at batch_rows");
    let names: Vec<String> = batches[0]
        .schema()
        .fields()
        .iter()
        .map(|f| f.name().clone())
        .collect();
    // Declared first (even when absent), then the rest in the order first seen.
    assert_eq!(
        names,
        [
            "id", "name", "absent", "score", "ok", "tags", "extra", "nested"
        ]
    );
    for f in batches[0].schema().fields() {
        assert_eq!(
            f.metadata().get(TEXT_ORIGIN_KEY).map(String::as_str),
            Some("true")
        );
    }
    let all = arrow::compute::concat_batches(&batches[0].schema(), &batches).expect("concat");
    assert_eq!(
        column(&all, "id"),
        [
            Some("1".to_string()),
            Some("-2".to_string()),
            Some("18446744073709551615".to_string())
        ],
        "a repeated key keeps its first value"
    );
    assert_eq!(
        column(&all, "name"),
        [Some("a\"b".into()), Some("b".to_string()), None]
    );
    assert_eq!(column(&all, "absent"), [None, None, None]);
    assert_eq!(column(&all, "score"), [Some("1.5".to_string()), None, None]);
    assert_eq!(column(&all, "ok"), [Some("true".to_string()), None, None]);
    assert_eq!(
        column(&all, "tags"),
        [Some(r#"["x",1]"#.to_string()), None, None]
    );
    assert_eq!(column(&all, "extra"), [None, None, None]);
    assert_eq!(
        column(&all, "nested"),
        [None, Some(r#"{"k":[1,2]}"#.to_string()), None]
    );
}

const TEXT_ORIGIN_KEY: &str = phlo_ingest::coerce::TEXT_ORIGIN;

#[test]
fn a_root_array_a_single_object_and_null_data_are_records_too() {
    let mut d = RecordDecoder::new(["id"], 10);
    let s = scan(
        br#"[{"id": 1}, {"id": 2}]"#,
        Some(&JsonPath::root()),
        &[],
        &mut d,
    )
    .expect("root");
    assert_eq!((s.records, s.root), (2, Kind::Array));
    let s = scan(br#"{"data": {"id": 3}}"#, Some(&path("data")), &[], &mut d).expect("object");
    assert_eq!(s.records, 1);
    let s = scan(br#"{"data": null}"#, Some(&path("data")), &[], &mut d).expect("null");
    assert_eq!((s.records, s.found_data), (0, true));
    let s = scan(br#"{"other": []}"#, Some(&path("data")), &[], &mut d).expect("absent");
    assert!(!s.found_data);
    assert_eq!(d.total_rows(), 3);
}

#[test]
fn malformed_json_and_records_that_are_not_objects_are_errors() {
    let mut d = RecordDecoder::new(["id"], 10);
    let bad_pages: [&[u8]; 4] = [
        br#"{"data": [{"id": 1}, {"id": 2"#,
        br#"{"data": [1, 2]}"#,
        br#"<html>oops</html>"#,
        br#"{"data": []} trailing"#,
    ];
    for bad in bad_pages {
        assert!(
            scan(bad, Some(&path("data")), &[], &mut d).is_err(),
            "{}",
            String::from_utf8_lossy(bad)
        );
    }
}

#[test]
fn records_are_found_as_dlt_finds_them() {
    let look = |body: &[u8]| {
        let mut none = RecordDecoder::new([], 1);
        let s = scan(body, None, &paginate::candidates(), &mut none).expect("scans");
        find_records(&s).map(|p| p.to_string())
    };
    assert_eq!(look(br#"[{"id": 1}]"#).as_deref(), Some("$"));
    assert_eq!(
        look(br#"{"meta": [], "results": [{"id": 1}], "data": []}"#).as_deref(),
        Some("data")
    );
    assert_eq!(
        look(br#"{"links": [], "events": [{"id": 1}]}"#).as_deref(),
        Some("events")
    );
    assert_eq!(look(br#"{"a": [], "b": []}"#), None, "ambiguous");
    assert_eq!(look(br#"{"count": 1}"#), None);
}

fn scan_of(body: &[u8], pager: &Pager, records_at: &str) -> json::Scan {
    let mut d = RecordDecoder::new([], 100);
    scan(body, Some(&path(records_at)), &pager.wanted(), &mut d).expect("scans")
}

#[test]
fn page_number_stops_at_an_empty_page_the_total_or_the_maximum() {
    let url = Url::parse("http://h/x?a=1").expect("url");
    let mut p = Paginator::page_number("page")
        .compile()
        .expect("ok")
        .expect("pager");
    assert_eq!(p.first_params(), [("page".to_string(), "1".to_string())]);
    let full = scan_of(br#"{"data": [{}]}"#, &p, "data");
    assert_eq!(
        p.next(&url, "u", &full, &HeaderMap::new()).expect("next"),
        Some(Next::Params(vec![("page".into(), "2".into())]))
    );
    let empty = scan_of(br#"{"data": []}"#, &p, "data");
    assert_eq!(
        p.next(&url, "u", &empty, &HeaderMap::new()).expect("next"),
        None
    );

    let mut t = Paginator::page_number("p")
        .base_page(0)
        .total_path("meta.pages")
        .compile()
        .expect("ok")
        .expect("pager");
    let two = scan_of(br#"{"meta": {"pages": 2}, "data": [{}]}"#, &t, "data");
    assert!(
        t.next(&url, "u", &two, &HeaderMap::new())
            .expect("next")
            .is_some(),
        "0 → 1"
    );
    assert_eq!(
        t.next(&url, "u", &two, &HeaderMap::new()).expect("next"),
        None,
        "2 pages: 0, 1"
    );
    let bad = scan_of(br#"{"meta": {"pages": "many"}, "data": [{}]}"#, &t, "data");
    assert!(t.next(&url, "u", &bad, &HeaderMap::new()).is_err());

    let mut m = Paginator::page_number("page")
        .max_page(2)
        .compile()
        .expect("ok")
        .expect("pager");
    assert!(
        m.next(&url, "u", &full, &HeaderMap::new())
            .expect("next")
            .is_some()
    );
    assert_eq!(
        m.next(&url, "u", &full, &HeaderMap::new()).expect("next"),
        None
    );
}

#[test]
fn offset_advances_by_the_records_received_and_stops_at_the_total() {
    let url = Url::parse("http://h/x").expect("url");
    let mut p = Paginator::offset_limit(3)
        .params("skip", "take")
        .total_path("total")
        .compile()
        .expect("ok")
        .expect("pager");
    assert_eq!(
        p.first_params(),
        [
            ("skip".to_string(), "0".to_string()),
            ("take".to_string(), "3".to_string())
        ]
    );
    // The API caps the page at 2 records: nothing is skipped.
    let two = scan_of(br#"{"total": 5, "data": [{}, {}]}"#, &p, "data");
    assert_eq!(
        p.next(&url, "u", &two, &HeaderMap::new()).expect("next"),
        Some(Next::Params(vec![
            ("skip".into(), "2".into()),
            ("take".into(), "3".into())
        ]))
    );
    assert!(
        p.next(&url, "u", &two, &HeaderMap::new())
            .expect("next")
            .is_some(),
        "4 < 5"
    );
    assert_eq!(
        p.next(&url, "u", &two, &HeaderMap::new()).expect("next"),
        None,
        "6 ≥ 5"
    );
}

#[test]
fn cursor_and_next_url_stop_when_missing_null_or_empty() {
    let url = Url::parse("http://h/api/x?page=1").expect("url");
    let mut c = Paginator::cursor("meta.next", "after")
        .compile()
        .expect("ok")
        .expect("pager");
    let cases: [(&[u8], Option<Next>); 5] = [
        (
            br#"{"meta": {"next": "abc"}, "data": [{}]}"#,
            Some(Next::Params(vec![("after".into(), "abc".into())])),
        ),
        (
            br#"{"meta": {"next": 42}, "data": []}"#,
            Some(Next::Params(vec![("after".into(), "42".into())])),
        ),
        (br#"{"meta": {"next": null}, "data": [{}]}"#, None),
        (br#"{"meta": {"next": ""}, "data": [{}]}"#, None),
        (br#"{"data": [{}]}"#, None),
    ];
    for (body, want) in cases {
        let s = scan_of(body, &c, "data");
        assert_eq!(
            c.next(&url, "u", &s, &HeaderMap::new()).expect("next"),
            want
        );
    }
    let s = scan_of(br#"{"meta": {"next": {"a": 1}}, "data": []}"#, &c, "data");
    assert!(c.next(&url, "u", &s, &HeaderMap::new()).is_err());

    let mut n = Paginator::next_url("links.next")
        .compile()
        .expect("ok")
        .expect("pager");
    let s = scan_of(
        br#"{"links": {"next": "/api/x?page=2"}, "data": [{}]}"#,
        &n,
        "data",
    );
    assert_eq!(
        n.next(&url, "u", &s, &HeaderMap::new()).expect("next"),
        Some(Next::Url(Url::parse("http://h/api/x?page=2").expect("url")))
    );
    let s = scan_of(
        br#"{"links": {"next": "https://other/p3"}, "data": [{}]}"#,
        &n,
        "data",
    );
    assert_eq!(
        n.next(&url, "u", &s, &HeaderMap::new()).expect("next"),
        Some(Next::Url(Url::parse("https://other/p3").expect("url")))
    );
    let s = scan_of(br#"{"links": {"next": null}, "data": [{}]}"#, &n, "data");
    assert_eq!(
        n.next(&url, "u", &s, &HeaderMap::new()).expect("next"),
        None
    );
}

#[test]
fn link_headers_are_parsed_as_rfc_8288_says() {
    let mut h = HeaderMap::new();
    h.append(
        "link",
        HeaderValue::from_static(
            r#"<https://h/x?page=1>; rel="prev", <https://h/x?a=1,2&page=3>; rel="next last""#,
        ),
    );
    assert_eq!(next_link(&h).as_deref(), Some("https://h/x?a=1,2&page=3"));
    let mut last = HeaderMap::new();
    last.append(
        "link",
        HeaderValue::from_static(r#"<https://h/x?page=1>; rel=first"#),
    );
    assert_eq!(next_link(&last), None);
}

#[test]
fn the_paginator_is_detected_from_the_first_page() {
    let look = |body: &[u8], headers: &HeaderMap| {
        let mut none = RecordDecoder::new([], 1);
        let s = scan(body, None, &paginate::candidates(), &mut none).expect("scans");
        detect(&s, headers)
    };
    let none = HeaderMap::new();
    let mut link = HeaderMap::new();
    link.append(
        "link",
        HeaderValue::from_static(r#"<http://h/x?page=2>; rel="next""#),
    );
    assert_eq!(look(br#"[{"id": 1}]"#, &link), Pager::HeaderLink);
    assert_eq!(
        look(br#"{"data": [], "next": "http://h/x?page=2"}"#, &none),
        Pager::NextUrl { path: path("next") }
    );
    assert_eq!(
        look(br#"{"data": [], "links": {"next": null}}"#, &none),
        Pager::NextUrl {
            path: path("links.next")
        }
    );
    assert_eq!(
        look(br#"{"data": [], "next": "opaque-token"}"#, &none),
        Pager::Single,
        "a `next` that is no URL is not a next URL"
    );
    assert_eq!(
        look(br#"{"items": [], "nextPageToken": "t"}"#, &none),
        Pager::Cursor {
            path: path("nextPageToken"),
            param: "pageToken".into()
        }
    );
    assert_eq!(
        look(br#"{"data": [], "meta": {"next_cursor": "c"}}"#, &none),
        Pager::Cursor {
            path: path("meta.next_cursor"),
            param: "cursor".into()
        }
    );
    assert!(matches!(
        look(br#"{"data": [], "total_pages": 4}"#, &none),
        Pager::Page { .. }
    ));
    assert_eq!(look(br#"{"data": []}"#, &none), Pager::Single);
}

#[test]
fn retry_after_is_seconds_or_a_date_against_the_servers_clock() {
    let mut h = HeaderMap::new();
    h.insert("retry-after", HeaderValue::from_static("3"));
    assert_eq!(http::retry_after(&h), Some(Duration::from_secs(3)));
    h.insert(
        "retry-after",
        HeaderValue::from_static("Wed, 21 Oct 2026 07:28:30 GMT"),
    );
    h.insert(
        "date",
        HeaderValue::from_static("Wed, 21 Oct 2026 07:28:00 GMT"),
    );
    assert_eq!(http::retry_after(&h), Some(Duration::from_secs(30)));
    h.insert("retry-after", HeaderValue::from_static("soon"));
    assert_eq!(http::retry_after(&h), None);
    let policy = RetryPolicy {
        attempts: 5,
        base_delay: Duration::from_millis(100),
        max_delay: Duration::from_millis(350),
    };
    let delays: Vec<u64> = (1..=4)
        .map(|a| policy.backoff(a).as_millis() as u64)
        .collect();
    assert_eq!(delays, [100, 200, 350, 350]);
}

#[test]
fn query_secrets_are_redacted_in_messages() {
    let url = Url::parse("http://h/x?page=2&api_key=s3cret").expect("url");
    assert_eq!(
        http::redact(&url, Some("api_key")),
        "http://h/x?page=2&api_key=***"
    );
    assert_eq!(http::redact(&url, None), url.to_string());
    assert_eq!(
        format!("{:?}", Secret::value("s3cret")),
        "Secret::Value(***)"
    );
}

#[test]
fn the_cursor_is_the_largest_value_by_number_instant_or_text() {
    let decode = |body: &str| {
        let mut d = RecordDecoder::new([], 10);
        scan(body.as_bytes(), Some(&JsonPath::root()), &[], &mut d).expect("scans");
        d
    };
    let mut ints = decode(r#"[{"v": 9}, {"v": 10}, {"v": null}, {}]"#);
    assert_eq!(
        max_cursor(&mut ints, &path("v")).expect("max").as_deref(),
        Some("10")
    );
    let mut times = decode(
        r#"[{"v": "2025-01-01T10:00:00+02:00"}, {"v": "2025-01-01T09:00:00Z"}, {"v": "2025-01-01T08:30:00Z"}]"#,
    );
    assert_eq!(
        max_cursor(&mut times, &path("v")).expect("max").as_deref(),
        Some("2025-01-01T09:00:00Z"),
        "by instant, not by text"
    );
    let mut nested = decode(r#"[{"m": {"at": "b"}}, {"m": {"at": "c"}}, {"m": 1}]"#);
    assert_eq!(
        max_cursor(&mut nested, &path("m.at"))
            .expect("max")
            .as_deref(),
        Some("c")
    );
    let mut none = decode(r#"[{"x": 1}]"#);
    assert_eq!(max_cursor(&mut none, &path("v")).expect("max"), None);
}

#[test]
fn a_lookback_moves_a_time_cursor_back() {
    let inc =
        Incremental::new("updated_at", "2025-01-01T00:00:00Z").lookback(Duration::from_secs(3600));
    assert_eq!(
        inc.shifted("2025-01-02T00:30:00Z").expect("ts"),
        "2025-01-01T23:30:00Z"
    );
    assert_eq!(inc.shifted("2025-01-02").expect("date"), "2025-01-01");
    assert!(inc.shifted("12345").is_err());
    let plain = Incremental::new("id", "0");
    assert_eq!(plain.shifted("12345").expect("as is"), "12345");
}

#[test]
fn parameters_replace_their_namesakes_and_paths_are_encoded() {
    let url = Url::parse("http://h/x?a=1&page=1").expect("url");
    let next = with_params(&url, &[("page".into(), "2".into())]);
    assert_eq!(next.as_str(), "http://h/x?a=1&page=2");
    assert_eq!(encode_segment("eu west/ü%"), "eu%20west%2F%C3%BC%25");
}

#[tokio::test]
async fn the_first_url_fills_the_partition_and_the_cursor() {
    use phlo_core::partition::{PartitionContext, PartitionKey};
    let at = chrono::DateTime::UNIX_EPOCH;
    let ctx = PartitionContext::new(
        "events",
        Some(PartitionKey::parse("2025-01-15").expect("key")),
        "run",
        1,
        at,
    );
    let api = RestApi::new("http://127.0.0.1:9/api/");
    let r = api
        .resource("events")
        .path("/days/{date}")
        .param("from", "{start}")
        .incremental(Incremental::new("ts", "2025-01-01T00:00:00Z").param("since"));
    let url = r.url_for(&ctx, Some("2025-01-14T12:00:00Z")).expect("url");
    assert_eq!(
        url.as_str(),
        "http://127.0.0.1:9/api/days/2025-01-15?from=2025-01-15T00%3A00%3A00Z&since=2025-01-14T12%3A00%3A00Z"
    );
    let region = PartitionContext::new(
        "events",
        Some(PartitionKey::Static("eu/west 1".into())),
        "run",
        1,
        at,
    );
    let by_region = api
        .resource("events")
        .path("/regions/{key}/events")
        .param("region", "{key}");
    assert_eq!(
        by_region.url_for(&region, None).expect("url").as_str(),
        "http://127.0.0.1:9/api/regions/eu%2Fwest%201/events?region=eu%2Fwest+1",
        "a value is one path segment, and the query encodes its own"
    );
    let bad = api.resource("x").path("/{nope}");
    assert!(matches!(
        bad.url_for(&ctx, None),
        Err(RestError::Template { .. })
    ));
    let unpartitioned = PartitionContext::new("events", None, "run", 1, at);
    let err = r.url_for(&unpartitioned, None).expect_err("no date");
    assert!(err.to_string().contains("date"), "{err}");
}

#[test]
fn a_known_page_count_lists_the_pages_left() {
    let p = Paginator::page_number("page")
        .total_path("pages")
        .compile()
        .expect("ok")
        .expect("pager");
    let s = scan_of(br#"{"pages": 4, "data": [{}]}"#, &p, "data");
    assert_eq!(
        p.remaining_pages(&s).expect("count"),
        Some(("page".to_string(), vec![2, 3, 4]))
    );
    let capped = Paginator::page_number("page")
        .total_path("pages")
        .max_page(3)
        .compile()
        .expect("ok")
        .expect("pager");
    assert_eq!(
        capped.remaining_pages(&s).expect("count").map(|(_, n)| n),
        Some(vec![2, 3])
    );
    let empty = scan_of(br#"{"pages": 4, "data": []}"#, &p, "data");
    assert_eq!(p.remaining_pages(&empty).expect("count"), None);
    let unknown = Paginator::page_number("page")
        .compile()
        .expect("ok")
        .expect("pager");
    assert_eq!(unknown.remaining_pages(&s).expect("count"), None);
}
