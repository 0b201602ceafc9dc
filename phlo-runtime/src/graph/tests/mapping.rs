//! Partition mappings across edges, both directions, DST days included.

use super::*;

/// An edge `up → down` with `mapping`.
fn edge(up: PartitionsDef, down: PartitionsDef, mapping: Mapping) -> AssetGraph {
    AssetGraph::new(vec![
        node("up", "ingestion", up),
        node("down", "sql", down).with_dep("up", mapping),
    ])
    .expect("graph")
}

fn upstream(graph: &AssetGraph, key: &PartitionKey) -> Vec<String> {
    texts(&graph.upstream_keys("down", "up", key).expect("keys"))
}

fn downstream(graph: &AssetGraph, key: &PartitionKey) -> Vec<String> {
    texts(&graph.downstream_keys("up", "down", key).expect("keys"))
}

#[test]
fn identity_reads_the_same_key() {
    let graph = edge(daily(), daily(), Mapping::Identity);
    let k = key(&daily(), "2025-01-15");
    assert_eq!(upstream(&graph, &k), ["2025-01-15"]);
    assert_eq!(downstream(&graph, &k), ["2025-01-15"]);

    let graph = edge(regions(), regions(), Mapping::Identity);
    assert_eq!(upstream(&graph, &key(&regions(), "us")), ["us"]);
}

#[test]
fn identity_outside_the_other_range_is_empty() {
    let later = time(Cadence::Daily, "UTC", Some("2025-01-10"), None);
    let graph = edge(later.clone(), daily(), Mapping::Identity);
    assert!(upstream(&graph, &key(&daily(), "2025-01-09")).is_empty());
    assert_eq!(
        upstream(&graph, &key(&daily(), "2025-01-10")),
        ["2025-01-10"]
    );
    let graph = edge(daily(), later, Mapping::Identity);
    assert!(downstream(&graph, &key(&daily(), "2025-01-09")).is_empty());
}

#[test]
fn a_month_reads_all_its_days() {
    let graph = edge(daily(), monthly(), Mapping::TimeWindow);
    let days = upstream(&graph, &key(&monthly(), "2024-02"));
    assert_eq!(days.len(), 29);
    assert_eq!(days.first().map(String::as_str), Some("2024-02-01"));
    assert_eq!(days.last().map(String::as_str), Some("2024-02-29"));
    assert_eq!(upstream(&graph, &key(&monthly(), "2025-02")).len(), 28);
    // Each day affects its month.
    assert_eq!(
        downstream(&graph, &key(&daily(), "2024-02-29")),
        ["2024-02"]
    );
    assert_eq!(
        downstream(&graph, &key(&daily(), "2024-03-01")),
        ["2024-03"]
    );
}

#[test]
fn a_month_reads_only_the_days_in_range() {
    let from_the_10th = time(Cadence::Daily, "UTC", Some("2024-02-10"), None);
    let graph = edge(from_the_10th, monthly(), Mapping::TimeWindow);
    let days = upstream(&graph, &key(&monthly(), "2024-02"));
    assert_eq!(days.len(), 20);
    assert_eq!(days.first().map(String::as_str), Some("2024-02-10"));
    assert!(upstream(&graph, &key(&monthly(), "2024-01")).is_empty());
}

#[test]
fn a_month_reads_all_its_hours() {
    let graph = edge(hourly("UTC"), monthly(), Mapping::TimeWindow);
    let hours = upstream(&graph, &key(&monthly(), "2024-02"));
    assert_eq!(hours.len(), 29 * 24);
    assert_eq!(hours.first().map(String::as_str), Some("2024-02-01T00"));
    assert_eq!(hours.last().map(String::as_str), Some("2024-02-29T23"));
}

#[test]
fn a_london_day_reads_23_24_or_25_utc_hours() {
    let london = daily_in("Europe/London");
    let graph = edge(hourly("UTC"), london.clone(), Mapping::TimeWindow);

    let spring = upstream(&graph, &key(&london, "2025-03-30"));
    assert_eq!(spring.len(), 23);
    assert_eq!(spring.first().map(String::as_str), Some("2025-03-30T00"));
    assert_eq!(spring.last().map(String::as_str), Some("2025-03-30T22"));

    let autumn = upstream(&graph, &key(&london, "2025-10-26"));
    assert_eq!(autumn.len(), 25);
    assert_eq!(autumn.first().map(String::as_str), Some("2025-10-25T23"));
    assert_eq!(autumn.last().map(String::as_str), Some("2025-10-26T23"));

    let summer = upstream(&graph, &key(&london, "2025-07-01"));
    assert_eq!(summer.len(), 24);
    assert_eq!(summer.first().map(String::as_str), Some("2025-06-30T23"));

    // The inverse: 23:00 UTC on 30 March is already 31 March in London.
    let utc = hourly("UTC");
    assert_eq!(
        downstream(&graph, &key(&utc, "2025-03-30T22")),
        ["2025-03-30"]
    );
    assert_eq!(
        downstream(&graph, &key(&utc, "2025-03-30T23")),
        ["2025-03-31"]
    );
    assert_eq!(
        downstream(&graph, &key(&utc, "2025-10-25T23")),
        ["2025-10-26"]
    );
}

#[test]
fn a_london_day_reads_its_london_hours_with_the_repeated_one_twice() {
    let london = daily_in("Europe/London");
    let hours = hourly("Europe/London");
    let graph = edge(hours.clone(), london.clone(), Mapping::TimeWindow);
    let autumn = upstream(&graph, &key(&london, "2025-10-26"));
    assert_eq!(autumn.len(), 25);
    assert_eq!(
        autumn[..4],
        [
            "2025-10-26T00",
            "2025-10-26T01+01:00",
            "2025-10-26T01+00:00",
            "2025-10-26T02"
        ]
    );
    let spring = upstream(&graph, &key(&london, "2025-03-30"));
    assert_eq!(spring.len(), 23);
    assert!(!spring.iter().any(|h| h.starts_with("2025-03-30T01")));
    assert_eq!(
        downstream(&graph, &key(&hours, "2025-10-26T01+00:00")),
        ["2025-10-26"]
    );
}

#[test]
fn offset_minus_one_reads_the_previous_partition() {
    let graph = edge(daily(), daily(), Mapping::Offset(-1));
    assert_eq!(
        upstream(&graph, &key(&daily(), "2025-01-02")),
        ["2025-01-01"]
    );
    assert_eq!(
        upstream(&graph, &key(&daily(), "2025-03-01")),
        ["2025-02-28"]
    );
    // The inverse: a day affects the next one.
    assert_eq!(
        downstream(&graph, &key(&daily(), "2025-01-01")),
        ["2025-01-02"]
    );

    let m = monthly();
    let graph = edge(m.clone(), m.clone(), Mapping::Offset(-1));
    assert_eq!(upstream(&graph, &key(&m, "2025-01")), ["2024-12"]);
    let graph = edge(m.clone(), m.clone(), Mapping::Offset(13));
    assert_eq!(upstream(&graph, &key(&m, "2025-01")), ["2026-02"]);
}

#[test]
fn offset_at_the_range_start_is_empty() {
    let from_2025 = time(Cadence::Daily, "UTC", Some("2025-01-01"), None);
    let graph = edge(from_2025.clone(), from_2025.clone(), Mapping::Offset(-1));
    assert!(upstream(&graph, &key(&from_2025, "2025-01-01")).is_empty());
    assert_eq!(
        upstream(&graph, &key(&from_2025, "2025-01-02")),
        ["2025-01-01"]
    );

    let january = time(
        Cadence::Daily,
        "UTC",
        Some("2025-01-01"),
        Some("2025-02-01"),
    );
    let graph = edge(january.clone(), january.clone(), Mapping::Offset(1));
    assert!(upstream(&graph, &key(&january, "2025-01-31")).is_empty());
    assert!(downstream(&graph, &key(&january, "2025-01-01")).is_empty());
}

#[test]
fn offsets_past_the_calendar_are_empty_not_a_panic() {
    use chrono::TimeZone;
    let instant = chrono::Utc
        .with_ymd_and_hms(2025, 6, 1, 12, 0, 0)
        .single()
        .expect("instant");
    for def in [daily(), monthly(), hourly("UTC")] {
        for n in [i64::MAX, i64::MIN, 1 << 40, -(1 << 40)] {
            let graph = edge(def.clone(), def.clone(), Mapping::Offset(n));
            let k = def.latest(instant).expect("a partition");
            assert!(upstream(&graph, &k).is_empty(), "{def} {n}");
            assert!(downstream(&graph, &k).is_empty(), "{def} {n}");
        }
    }
}

#[test]
fn an_hourly_offset_steps_through_the_repeated_hour() {
    let hours = hourly("Europe/London");
    let graph = edge(hours.clone(), hours.clone(), Mapping::Offset(-1));
    assert_eq!(
        upstream(&graph, &key(&hours, "2025-10-26T01+00:00")),
        ["2025-10-26T01+01:00"]
    );
    assert_eq!(
        upstream(&graph, &key(&hours, "2025-10-26T02")),
        ["2025-10-26T01+00:00"]
    );
    // The skipped hour: 02:00 BST follows 00:00 GMT.
    assert_eq!(
        upstream(&graph, &key(&hours, "2025-03-30T02")),
        ["2025-03-30T00"]
    );
}

#[test]
fn a_london_day_offset_spans_the_short_day() {
    let london = daily_in("Europe/London");
    let graph = edge(london.clone(), london.clone(), Mapping::Offset(-1));
    assert_eq!(
        upstream(&graph, &key(&london, "2025-03-31")),
        ["2025-03-30"]
    );
    assert_eq!(
        downstream(&graph, &key(&london, "2025-03-30")),
        ["2025-03-31"]
    );
}

#[test]
fn all_reads_everything() {
    let graph = edge(daily(), PartitionsDef::None, Mapping::All);
    let any = key(&daily(), "2025-01-15");
    assert_eq!(
        graph.upstream_keys("down", "up", &any).expect("keys"),
        MappedKeys::All
    );
    assert_eq!(
        graph.downstream_keys("up", "down", &any).expect("keys"),
        MappedKeys::All
    );
    // An unpartitioned upstream is read whole by every partition.
    let graph = edge(PartitionsDef::None, daily(), Mapping::All);
    assert_eq!(upstream(&graph, &any), ["<all>"]);
    let graph = edge(PartitionsDef::None, PartitionsDef::None, Mapping::Identity);
    assert_eq!(upstream(&graph, &any), ["<all>"]);
    assert_eq!(downstream(&graph, &any), ["<all>"]);
}

#[test]
fn a_key_of_another_asset_is_an_error() {
    let graph = edge(daily(), monthly(), Mapping::TimeWindow);
    let err = graph
        .upstream_keys("down", "up", &key(&daily(), "2024-02-03"))
        .expect_err("a day is not a month");
    assert_eq!(
        err,
        GraphError::KeyNotInAsset {
            asset: "down".to_string(),
            key: "2024-02-03".to_string(),
            expected: "a month as YYYY-MM".to_string(),
        }
    );
    assert_eq!(
        err.to_string(),
        "`2024-02-03` is not a partition of asset `down`: expected a month as YYYY-MM"
    );
    let err = graph
        .downstream_keys("up", "down", &key(&monthly(), "2024-02"))
        .expect_err("a month is not a day");
    assert!(matches!(err, GraphError::KeyNotInAsset { asset, .. } if asset == "up"));
    // Out of the downstream's range.
    let from_2025 = time(Cadence::Daily, "UTC", Some("2025-01-01"), None);
    let graph = edge(daily(), from_2025, Mapping::Identity);
    assert!(
        graph
            .upstream_keys("down", "up", &key(&daily(), "2024-12-31"))
            .is_err()
    );
}

#[test]
fn unknown_assets_and_missing_edges_are_errors() {
    let graph = edge(daily(), daily(), Mapping::Identity);
    let k = key(&daily(), "2025-01-15");
    let err = graph.upstream_keys("dwn", "up", &k).expect_err("unknown");
    assert_eq!(
        err,
        GraphError::UnknownAsset {
            name: "dwn".to_string(),
            suggestion: Some("down".to_string()),
        }
    );
    assert_eq!(err.to_string(), "unknown asset `dwn`; did you mean `down`?");
    let err = graph
        .upstream_keys("up", "down", &k)
        .expect_err("wrong way");
    assert_eq!(
        err.to_string(),
        "asset `up` does not depend on `down`: ask about one of its declared dependencies"
    );
    assert!(matches!(
        graph.downstream_keys("down", "up", &k),
        Err(GraphError::NotADependency { .. })
    ));
}
