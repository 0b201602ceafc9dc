//! Step 5: deduplicate the load by its unique key (SEMANTICS §4.5).
//!
//! Keys and `order_by` values are encoded with `arrow-row` (byte order = sort order, nulls
//! lowest) and resolved with one hash map pass: O(n), no sort, no DataFusion window.

use arrow::array::{ArrayRef, RecordBatch};
use arrow::compute::SortOptions;
use arrow_row::{RowConverter, Rows, SortField};
use hashbrown::HashMap;
use hashbrown::hash_map::Entry;
use phlo_core::spec::Dedup;

use crate::Result;

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

/// Resolves duplicate keys of `batch` by `key` with `dedup`. `hashes` are the rows'
/// `_phlo_row_hash` values (used by `Dedup::Hash`). `Dedup::None` keeps every row.
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
    let keys = encode(&column_indices(batch, key))?;
    let order = match order_by {
        Some(col) => Some(encode(&column_indices(batch, &[col]))?),
        None => None,
    };
    // Hash: drop exact repeats of a key's earlier row first.
    let candidates: Vec<u32> = if dedup == Dedup::Hash {
        let mut seen: hashbrown::HashSet<(&[u8], u128)> = hashbrown::HashSet::with_capacity(n);
        (0..n as u32)
            .filter(|&i| {
                let h = hashes.get(i as usize).copied().unwrap_or_default();
                seen.insert((keys.row(i as usize).data(), h))
            })
            .collect()
    } else {
        (0..n as u32).collect()
    };
    let keep_later = matches!(dedup, Dedup::Last | Dedup::Hash);
    let mut winner: HashMap<&[u8], u32> = HashMap::with_capacity(candidates.len());
    for &i in &candidates {
        match winner.entry(keys.row(i as usize).data()) {
            Entry::Vacant(v) => {
                v.insert(i);
            }
            Entry::Occupied(mut o) => {
                let current = *o.get();
                let replace = match &order {
                    // Later arrival wins ties for `last`; earlier arrival keeps them for `first`.
                    Some(order) => {
                        let (new, old) = (order.row(i as usize), order.row(current as usize));
                        if keep_later { new >= old } else { new < old }
                    }
                    None => keep_later,
                };
                if replace {
                    o.insert(i);
                }
            }
        }
    }
    let mut kept: Vec<u32> = winner.into_values().collect();
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
