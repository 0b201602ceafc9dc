//! Step 5: deduplicate the load by its unique key (SEMANTICS §4.5).
//!
//! Keys and `order_by` values are read in place when they are one string column and an
//! integer-like column without nulls (the common case), else encoded with `arrow-row`
//! (byte order = sort order, nulls lowest); duplicates are resolved with one hash-table
//! pass per shard of the key space, shards in parallel: O(n), no sort, no DataFusion
//! window.

use std::cmp::Ordering;
use std::hash::BuildHasher;

use arrow::array::{
    Array, ArrayRef, AsArray, Int64Array, RecordBatch, StringArray, StringViewArray,
};
use arrow::compute::{SortOptions, cast};
use arrow::datatypes::{DataType, Int64Type};
use arrow_row::{RowConverter, Rows, SortField};
use hashbrown::{DefaultHashBuilder, HashTable};
use phlo_core::parallel;
use phlo_core::spec::Dedup;

use crate::{Error, Result};

/// Which rows survive, in arrival order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DedupOutcome {
    /// Surviving row indices, ascending.
    pub kept: Vec<u32>,
    /// Rows dropped.
    pub duplicates_dropped: u64,
}

/// Keys that occur more than once (for `dedup = "none"`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Duplicates {
    /// Rows that share their key with another row.
    pub rows: u64,
    /// Up to 5 duplicated keys, rendered.
    pub samples: Vec<String>,
}

fn encode(columns: &[ArrayRef]) -> Result<Rows> {
    let fields = columns
        .iter()
        .map(|c| {
            SortField::new_with_options(
                c.data_type().clone(),
                SortOptions {
                    descending: false,
                    nulls_first: true,
                },
            )
        })
        .collect();
    let converter = RowConverter::new(fields)?;
    Ok(converter.convert_columns(columns)?)
}

fn column_indices(batch: &RecordBatch, names: &[&str]) -> Vec<ArrayRef> {
    names
        .iter()
        .filter_map(|n| batch.column_by_name(n).cloned())
        .collect()
}

/// The key of each row, as bytes that are equal exactly when the keys are.
enum KeyView<'a> {
    /// One string column without nulls: its values.
    Utf8(&'a StringArray),
    /// One string-view column without nulls.
    Utf8View(&'a StringViewArray),
    /// Anything else: `arrow-row` encodings.
    Rows(Rows),
}

impl KeyView<'_> {
    #[inline]
    fn get(&self, row: usize) -> &[u8] {
        match self {
            KeyView::Utf8(a) => a.value(row).as_bytes(),
            KeyView::Utf8View(a) => a.value(row).as_bytes(),
            KeyView::Rows(r) => r.row(row).data(),
        }
    }
}

fn key_view(columns: &[ArrayRef]) -> Result<KeyView<'_>> {
    if let [c] = columns
        && c.null_count() == 0
    {
        if let Some(a) = c.as_string_opt::<i32>() {
            return Ok(KeyView::Utf8(a));
        }
        if let Some(a) = c.as_string_view_opt() {
            return Ok(KeyView::Utf8View(a));
        }
    }
    Ok(KeyView::Rows(encode(columns)?))
}

/// The `order_by` value of each row, comparable.
enum OrderView {
    /// Integer-like values without nulls (integers, timestamps, dates) as `i64`.
    Int(Int64Array),
    /// Anything else: `arrow-row` encodings (nulls lowest).
    Rows(Rows),
}

impl OrderView {
    #[inline]
    fn cmp(&self, a: usize, b: usize) -> Ordering {
        match self {
            OrderView::Int(v) => v.value(a).cmp(&v.value(b)),
            OrderView::Rows(r) => r.row(a).cmp(&r.row(b)),
        }
    }
}

fn order_view(column: &ArrayRef) -> Result<OrderView> {
    let integer_like = matches!(
        column.data_type(),
        DataType::Int8
            | DataType::Int16
            | DataType::Int32
            | DataType::Int64
            | DataType::UInt8
            | DataType::UInt16
            | DataType::UInt32
            | DataType::Date32
            | DataType::Date64
            | DataType::Timestamp(_, _)
    );
    if integer_like && column.null_count() == 0 {
        let ints = cast(column, &DataType::Int64)?;
        if let Some(v) = ints.as_primitive_opt::<Int64Type>() {
            return Ok(OrderView::Int(v.clone()));
        }
    }
    Ok(OrderView::Rows(encode(std::slice::from_ref(column))?))
}

/// Loads smaller than this are resolved on one thread.
const PARALLEL_ROWS: usize = 64 * 1024;

/// Resolves duplicate keys of `batch` by `key` with `dedup`. `hashes` are the rows'
/// `_phlo_row_hash` values (used by `Dedup::Hash`). `Dedup::None` keeps every row.
///
/// Keys are hashed once; rows are then split into shards by key hash, one per core, and
/// each shard keeps its winners in a table of row positions — the same result as one
/// pass over one map, since a key lives in exactly one shard.
pub fn dedup(
    batch: &RecordBatch,
    key: &[&str],
    order_by: Option<&str>,
    dedup: Dedup,
    hashes: &[u128],
) -> Result<DedupOutcome> {
    let n = batch.num_rows();
    if dedup == Dedup::None || key.is_empty() {
        return Ok(DedupOutcome {
            kept: (0..n as u32).collect(),
            duplicates_dropped: 0,
        });
    }
    let key_columns = column_indices(batch, key);
    let keys = key_view(&key_columns)?;
    let order = match order_by.and_then(|c| batch.column_by_name(c)) {
        Some(col) => Some(order_view(col)?),
        None => None,
    };
    // Hash: drop exact repeats of a key's earlier row first.
    let candidates: Vec<u32> = if dedup == Dedup::Hash {
        let mut seen: hashbrown::HashSet<(&[u8], u128)> = hashbrown::HashSet::with_capacity(n);
        (0..n as u32)
            .filter(|&i| {
                let h = hashes.get(i as usize).copied().unwrap_or_default();
                seen.insert((keys.get(i as usize), h))
            })
            .collect()
    } else {
        (0..n as u32).collect()
    };
    let keep_later = matches!(dedup, Dedup::Last | Dedup::Hash);
    let state = DefaultHashBuilder::default();
    let key_hashes: Vec<u64> = candidates
        .iter()
        .map(|&i| state.hash_one(keys.get(i as usize)))
        .collect();
    let shards = parallel::workers_for(candidates.len(), PARALLEL_ROWS);
    let resolve = |shard: usize| -> Vec<u32> {
        let mut table: HashTable<u32> = HashTable::with_capacity(candidates.len() / shards + 1);
        for (c, &i) in candidates.iter().enumerate() {
            let h = key_hashes[c];
            if shards > 1 && ((h >> 32) as usize) % shards != shard {
                continue;
            }
            let k = keys.get(i as usize);
            match table.entry(
                h,
                |&w| keys.get(candidates[w as usize] as usize) == k,
                |&w| key_hashes[w as usize],
            ) {
                hashbrown::hash_table::Entry::Vacant(v) => {
                    v.insert(c as u32);
                }
                hashbrown::hash_table::Entry::Occupied(mut o) => {
                    let current = candidates[*o.get() as usize] as usize;
                    let replace = match &order {
                        // Later arrival wins ties for `last`; earlier arrival keeps them
                        // for `first`.
                        Some(order) => {
                            let by = order.cmp(i as usize, current);
                            if keep_later { by.is_ge() } else { by.is_lt() }
                        }
                        None => keep_later,
                    };
                    if replace {
                        *o.get_mut() = c as u32;
                    }
                }
            }
        }
        table.into_iter().map(|c| candidates[c as usize]).collect()
    };
    let mut kept: Vec<u32> = parallel::run(shards, resolve)
        .ok_or(Error::WorkerPanicked {
            what: "deduplication".into(),
        })?
        .into_iter()
        .flatten()
        .collect();
    kept.sort_unstable();
    Ok(DedupOutcome {
        duplicates_dropped: (n - kept.len()) as u64,
        kept,
    })
}

/// The keys of `batch` that occur more than once.
pub fn find_duplicates(batch: &RecordBatch, key: &[&str]) -> Result<Option<Duplicates>> {
    let columns = column_indices(batch, key);
    if columns.is_empty() {
        return Ok(None);
    }
    let rows = crate::validate::duplicated_rows(&columns)?;
    if rows.is_empty() {
        return Ok(None);
    }
    let mut samples: Vec<String> = Vec::new();
    for &r in &rows {
        let rendered = columns
            .iter()
            .map(|c| arrow::util::display::array_value_to_string(c, r as usize))
            .collect::<std::result::Result<Vec<_>, _>>()?
            .join(", ");
        if !samples.contains(&rendered) {
            samples.push(rendered);
        }
        if samples.len() == 5 {
            break;
        }
    }
    Ok(Some(Duplicates {
        rows: rows.len() as u64,
        samples,
    }))
}

#[cfg(test)]
mod tests;
