//! The merge rule, fed target batches directly: no table, no I/O.

use std::sync::Arc;

use arrow::array::{ArrayRef, Date32Array, Int32Array, Int64Array, RecordBatch, StringArray};
use arrow::datatypes::{DataType, Field, Schema};

use super::*;

fn strings(v: &[Option<&str>]) -> ArrayRef {
    Arc::new(StringArray::from(v.to_vec()))
}

/// A load of `(id, hash)` rows.
fn load(rows: &[(&str, &str)]) -> RecordBatch {
    let schema = Arc::new(Schema::new(vec![
        Field::new("id", DataType::Utf8, false),
        Field::new(ROW_HASH, DataType::Utf8, false),
    ]));
    let ids: Vec<Option<&str>> = rows.iter().map(|r| Some(r.0)).collect();
    let hashes: Vec<Option<&str>> = rows.iter().map(|r| Some(r.1)).collect();
    RecordBatch::try_new(schema, vec![strings(&ids), strings(&hashes)])
        .unwrap_or_else(|e| panic!("{e}"))
}

fn ids(b: &RecordBatch) -> Vec<String> {
    let c = b.column(0).as_string::<i32>();
    (0..b.num_rows()).map(|i| c.value(i).to_string()).collect()
}

#[test]
fn matched_changed_rows_are_written_unchanged_ones_are_not_new_ones_are_inserted() -> Result<()> {
    let l = load(&[("a", "h1"), ("b", "h2"), ("c", "h3")]);
    let mut rule = MergeRule::new(&l, &["id"], &[None])?;
    // Target: a unchanged (same hash) on day 1, b changed on day 2, x not in the load.
    let day: ArrayRef = Arc::new(Date32Array::from(vec![1, 2, 3]));
    rule.observe(
        &[strings(&[Some("a"), Some("b"), Some("x")])],
        Some(&strings(&[Some("h1"), Some("old"), Some("hx")])),
        Some(&day),
    )?;
    let plan = rule.finish()?;
    assert_eq!((plan.new, plan.changed, plan.unchanged), (1, 1, 1));
    assert_eq!(ids(&plan.source), ["b", "c"]);
    // Only the changed row's partition is rewritten; x's day is never touched (the merge
    // deletes nothing: target rows without a load key stay).
    assert_eq!(plan.target_partitions, [Some("1970-01-03".to_string())]);
    Ok(())
}

#[test]
fn without_row_hashes_every_matched_row_is_changed() -> Result<()> {
    let l = load(&[("a", "h1")]);
    let mut rule = MergeRule::new(&l, &["id"], &[None])?;
    rule.observe(&[strings(&[Some("a")])], None, None)?;
    let plan = rule.finish()?;
    assert_eq!((plan.new, plan.changed, plan.unchanged), (0, 1, 0));
    assert_eq!(plan.target_partitions, [None], "an unpartitioned table");
    Ok(())
}

#[test]
fn null_target_keys_never_match() -> Result<()> {
    let l = load(&[("a", "h1")]);
    let mut rule = MergeRule::new(&l, &["id"], &[None])?;
    rule.observe(&[strings(&[None])], Some(&strings(&[Some("h1")])), None)?;
    assert_eq!(rule.finish()?.new, 1);
    Ok(())
}

#[test]
fn composite_keys_of_mixed_types_match_whole_keys_only() -> Result<()> {
    let schema = Arc::new(Schema::new(vec![
        Field::new("sensor", DataType::Utf8, false),
        Field::new("n", DataType::Int64, false),
        Field::new(ROW_HASH, DataType::Utf8, false),
    ]));
    let l = RecordBatch::try_new(
        schema,
        vec![
            strings(&[Some("s1"), Some("s1"), Some("s2")]),
            Arc::new(Int64Array::from(vec![1, 2, 1])),
            strings(&[Some("h"), Some("h"), Some("h")]),
        ],
    )?;
    // The table stores `n` as Int32: the load's keys are cast to it once.
    let mut rule = MergeRule::new(
        &l,
        &["sensor", "n"],
        &[Some(DataType::Utf8), Some(DataType::Int32)],
    )?;
    let target_n: ArrayRef = Arc::new(Int32Array::from(vec![2, 1, 1]));
    rule.observe(
        &[strings(&[Some("s1"), Some("s3"), Some("s2")]), target_n],
        Some(&strings(&[Some("h"), Some("h"), Some("other")])),
        None,
    )?;
    let plan = rule.finish()?;
    // (s1,2) unchanged; (s2,1) changed; (s1,1) new — (s3,1) shares only half a key.
    assert_eq!((plan.new, plan.changed, plan.unchanged), (1, 1, 1));
    Ok(())
}

#[test]
fn a_key_seen_in_several_target_batches_ends_in_its_last_state() -> Result<()> {
    let l = load(&[("a", "h1")]);
    let mut rule = MergeRule::new(&l, &["id"], &[None])?;
    rule.observe(
        &[strings(&[Some("zz")])],
        Some(&strings(&[Some("h")])),
        None,
    )?;
    rule.observe(
        &[strings(&[Some("a")])],
        Some(&strings(&[Some("h1")])),
        None,
    )?;
    let plan = rule.finish()?;
    assert_eq!((plan.new, plan.changed, plan.unchanged), (0, 0, 1));
    assert_eq!(plan.source.num_rows(), 0, "nothing to commit");
    Ok(())
}
