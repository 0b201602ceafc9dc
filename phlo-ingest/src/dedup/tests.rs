//! The dedup matrix of SEMANTICS §4.5: strategy × order_by × ties, composite keys.

use std::sync::Arc;

use arrow::array::{ArrayRef, Int64Array, RecordBatch, StringArray};
use arrow::datatypes::{DataType, Field, Schema};
use phlo_core::spec::Dedup;

use super::*;
use crate::hash::row_hashes;

/// Rows as (id, region, ts, payload); `ts` may be null.
fn batch(rows: &[(&str, &str, Option<i64>, &str)]) -> RecordBatch {
    let schema = Arc::new(Schema::new(vec![
        Field::new("id", DataType::Utf8, false),
        Field::new("region", DataType::Utf8, false),
        Field::new("ts", DataType::Int64, true),
        Field::new("payload", DataType::Utf8, false),
    ]));
    let cols: Vec<ArrayRef> = vec![
        Arc::new(StringArray::from_iter_values(rows.iter().map(|r| r.0))),
        Arc::new(StringArray::from_iter_values(rows.iter().map(|r| r.1))),
        Arc::new(rows.iter().map(|r| r.2).collect::<Int64Array>()),
        Arc::new(StringArray::from_iter_values(rows.iter().map(|r| r.3))),
    ];
    RecordBatch::try_new(schema, cols).unwrap_or_else(|e| panic!("{e}"))
}

fn kept(b: &RecordBatch, key: &[&str], order: Option<&str>, d: Dedup) -> Vec<u32> {
    let hashes = row_hashes(b, &[0, 1, 2, 3]).unwrap_or_else(|e| panic!("{e}"));
    dedup(b, key, order, d, &hashes)
        .unwrap_or_else(|e| panic!("{e}"))
        .kept
}

#[test]
fn last_with_order_by_keeps_greatest_and_later_wins_ties() {
    let b = batch(&[
        ("a", "x", Some(3), "a@3"),
        ("a", "x", Some(5), "a@5"),
        ("a", "x", Some(4), "a@4"),
        ("b", "x", Some(1), "b@1 first"),
        ("b", "x", Some(1), "b@1 later"),
        ("c", "x", None, "c@null"),
        ("c", "x", Some(0), "c@0"),
    ]);
    assert_eq!(kept(&b, &["id"], Some("ts"), Dedup::Last), vec![1, 4, 6]);
}

#[test]
fn last_without_order_by_keeps_later_arrival() {
    let b = batch(&[
        ("a", "x", Some(9), "1"),
        ("b", "x", None, "2"),
        ("a", "x", Some(1), "3"),
    ]);
    assert_eq!(kept(&b, &["id"], None, Dedup::Last), vec![1, 2]);
}

#[test]
fn first_with_order_by_keeps_smallest_and_earlier_wins_ties() {
    let b = batch(&[
        ("a", "x", Some(3), "a@3"),
        ("a", "x", Some(1), "a@1 first"),
        ("a", "x", Some(1), "a@1 later"),
        ("c", "x", Some(0), "c@0"),
        ("c", "x", None, "c@null sorts lowest"),
    ]);
    assert_eq!(kept(&b, &["id"], Some("ts"), Dedup::First), vec![1, 4]);
}

#[test]
fn first_without_order_by_keeps_earliest_arrival() {
    let b = batch(&[
        ("a", "x", Some(9), "1"),
        ("b", "x", None, "2"),
        ("a", "x", Some(1), "3"),
    ]);
    assert_eq!(kept(&b, &["id"], None, Dedup::First), vec![0, 1]);
}

#[test]
fn hash_drops_exact_repeats_then_applies_last() {
    // a: v1, v2, v1 again → the repeat of v1 is dropped, then last → v2 (row 1).
    // Plain `last` would pick row 2 (the repeat of v1).
    let b = batch(&[
        ("a", "x", Some(1), "v1"),
        ("a", "x", Some(1), "v2"),
        ("a", "x", Some(1), "v1"),
        ("b", "x", Some(1), "same"),
        ("b", "x", Some(1), "same"),
    ]);
    assert_eq!(kept(&b, &["id"], None, Dedup::Hash), vec![1, 3]);
    assert_eq!(kept(&b, &["id"], None, Dedup::Last), vec![2, 4]);
}

#[test]
fn hash_with_order_by_and_ties() {
    let b = batch(&[
        ("a", "x", Some(2), "v1"),
        ("a", "x", Some(1), "v2"),
        ("a", "x", Some(2), "v1"),
        ("a", "x", Some(2), "v3"),
    ]);
    // v1 repeat (row 2) dropped; among rows 0 (ts 2), 1 (ts 1), 3 (ts 2): greatest ts, later wins → 3.
    assert_eq!(kept(&b, &["id"], Some("ts"), Dedup::Hash), vec![3]);
}

#[test]
fn none_keeps_everything() {
    let b = batch(&[("a", "x", Some(1), "1"), ("a", "x", Some(1), "1")]);
    assert_eq!(kept(&b, &["id"], None, Dedup::None), vec![0, 1]);
    let d = find_duplicates(&b, &["id"]).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(
        d,
        Some(Duplicates {
            rows: 2,
            samples: vec!["a".into()]
        })
    );
}

#[test]
fn composite_keys_distinguish_each_part() {
    let b = batch(&[
        ("a", "eu", Some(1), "a/eu@1"),
        ("a", "us", Some(1), "a/us@1"),
        ("a", "eu", Some(2), "a/eu@2"),
        ("b", "eu", Some(1), "b/eu@1"),
    ]);
    assert_eq!(
        kept(&b, &["id", "region"], Some("ts"), Dedup::Last),
        vec![1, 2, 3]
    );
    assert_eq!(
        kept(&b, &["id", "region"], Some("ts"), Dedup::First),
        vec![0, 1, 3]
    );
    let outcome =
        dedup(&b, &["id", "region"], None, Dedup::Last, &[0; 4]).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(outcome.duplicates_dropped, 1);
}

#[test]
fn dedup_is_deterministic_across_runs() {
    let rows: Vec<(String, Option<i64>)> = (0..2000)
        .map(|i| (format!("k{}", i % 97), Some(i64::from(i % 7))))
        .collect();
    let b = batch(
        &rows
            .iter()
            .map(|(k, t)| (k.as_str(), "x", *t, "p"))
            .collect::<Vec<_>>(),
    );
    let first = kept(&b, &["id"], Some("ts"), Dedup::Last);
    for _ in 0..3 {
        assert_eq!(kept(&b, &["id"], Some("ts"), Dedup::Last), first);
    }
    assert_eq!(first.len(), 97);
}

/// The rule of SEMANTICS §4.5 written plainly: per key, the winner by (order, arrival).
fn reference(rows: &[(String, Option<i64>)], d: Dedup) -> Vec<u32> {
    let mut winner: std::collections::BTreeMap<&str, usize> = std::collections::BTreeMap::new();
    for (i, (k, ts)) in rows.iter().enumerate() {
        match winner.get(k.as_str()) {
            None => {
                winner.insert(k, i);
            }
            Some(&w) => {
                // `None` sorts lowest, like arrow-row's nulls-first encoding.
                let (new, old) = (ts, &rows[w].1);
                let replace = match d {
                    Dedup::Last => new >= old,
                    Dedup::First => new < old,
                    _ => unreachable!("reference covers first and last"),
                };
                if replace {
                    winner.insert(k, i);
                }
            }
        }
    }
    let mut kept: Vec<u32> = winner.into_values().map(|i| i as u32).collect();
    kept.sort_unstable();
    kept
}

#[test]
fn large_loads_resolved_in_shards_match_the_plain_rule() {
    // 150k rows over 60k keys, ts with frequent ties; once without nulls (in-place
    // integer order, parallel shards) and once with null ts (arrow-row order).
    let mut state = 0x2545_F491_4F6C_DD1D_u64;
    let mut next = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    for with_nulls in [false, true] {
        let rows: Vec<(String, Option<i64>)> = (0..150_000)
            .map(|_| {
                let k = format!("k{}", next() % 60_000);
                let ts = next() % 50;
                let ts = (!(with_nulls && ts == 0)).then_some(ts as i64);
                (k, ts)
            })
            .collect();
        let b = batch(
            &rows
                .iter()
                .map(|(k, ts)| (k.as_str(), "x", *ts, "p"))
                .collect::<Vec<_>>(),
        );
        for d in [Dedup::Last, Dedup::First] {
            assert_eq!(
                kept(&b, &["id"], Some("ts"), d),
                reference(&rows, d),
                "{d:?}, nulls: {with_nulls}"
            );
        }
        // Composite key (arrow-row keys) resolves the same way: region is constant.
        assert_eq!(
            kept(&b, &["id", "region"], Some("ts"), Dedup::Last),
            reference(&rows, Dedup::Last)
        );
    }
}
