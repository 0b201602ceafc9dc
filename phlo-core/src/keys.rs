//! The key index: "which row of the load has this key", answered in one place.
//!
//! Merge planning (which target rows a load replaces), the copy-on-write rewrite (which
//! rows of a file to drop) and the audit (the staged view: target rows the load does not
//! replace) all probe the same [`KeyIndex`], built once over the load's key columns.
//!
//! One string key — the common case — is hashed and compared as text, read in place from
//! `Utf8`, `LargeUtf8` or `Utf8View` arrays on either side; any other key (several
//! columns, integers, dates, mixed types) is encoded with `arrow-row` in the index's
//! types, the probe's columns cast to them. Null keys are never indexed and never match.

use std::hash::BuildHasher;
use std::sync::Arc;

use arrow::array::{Array, ArrayRef, AsArray, BooleanArray};
use arrow::buffer::BooleanBuffer;
use arrow::compute::cast;
use arrow::datatypes::DataType;
use arrow_row::{RowConverter, SortField};
use hashbrown::{DefaultHashBuilder, HashTable};

use crate::Result;

/// Read access to a string column of any layout, without copying it.
#[derive(Debug, Clone, Copy)]
pub enum Strings<'a> {
    /// `Utf8`.
    Utf8(&'a arrow::array::StringArray),
    /// `LargeUtf8`.
    Large(&'a arrow::array::LargeStringArray),
    /// `Utf8View`.
    View(&'a arrow::array::StringViewArray),
}

impl<'a> Strings<'a> {
    /// The column as strings, when it is one.
    pub fn of(array: &'a dyn Array) -> Option<Self> {
        array
            .as_string_opt::<i32>()
            .map(Strings::Utf8)
            .or_else(|| array.as_string_opt::<i64>().map(Strings::Large))
            .or_else(|| array.as_string_view_opt().map(Strings::View))
    }

    /// The value of row `i` (`None` when null).
    pub fn get(&self, i: usize) -> Option<&'a str> {
        match self {
            Strings::Utf8(a) => a.is_valid(i).then(|| a.value(i)),
            Strings::Large(a) => a.is_valid(i).then(|| a.value(i)),
            Strings::View(a) => a.is_valid(i).then(|| a.value(i)),
        }
    }

    /// Rows.
    pub fn len(&self) -> usize {
        match self {
            Strings::Utf8(a) => a.len(),
            Strings::Large(a) => a.len(),
            Strings::View(a) => a.len(),
        }
    }

    /// Whether there are no rows.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

fn is_string(t: &DataType) -> bool {
    matches!(t, DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View)
}

enum Index {
    /// One string key: the load's column, a table of its row positions.
    Text {
        values: ArrayRef,
        table: HashTable<u32>,
        state: DefaultHashBuilder,
    },
    /// Anything else: `arrow-row` encodings in the index's types.
    Rows {
        fields: Vec<SortField>,
        types: Vec<DataType>,
        table: hashbrown::HashMap<Box<[u8]>, u32>,
    },
}

/// An index of the rows of one batch by their key (at most one row per key is expected;
/// with duplicates, the last row wins).
pub struct KeyIndex {
    index: Index,
    len: usize,
}

impl std::fmt::Debug for KeyIndex {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KeyIndex")
            .field("rows", &self.len)
            .finish_non_exhaustive()
    }
}

impl KeyIndex {
    /// Indexes the rows of `keys` (the key columns of one batch, in key order).
    pub fn build(keys: &[ArrayRef]) -> Result<Self> {
        let len = keys.first().map_or(0, |c| c.len());
        if let [c] = keys
            && is_string(c.data_type())
        {
            let values = c.clone();
            let strings = Strings::of(values.as_ref())
                .ok_or_else(|| crate::Error::internal("a string key is not a string column"))?;
            let state = DefaultHashBuilder::default();
            let mut table: HashTable<u32> = HashTable::with_capacity(len);
            for i in 0..len {
                let Some(k) = strings.get(i) else { continue };
                let h = state.hash_one(k);
                let found = table.find_mut(h, |&j| strings.get(j as usize) == Some(k));
                match found {
                    Some(slot) => *slot = i as u32,
                    None => {
                        table.insert_unique(h, i as u32, |&j| {
                            state.hash_one(strings.get(j as usize).unwrap_or_default())
                        });
                    }
                }
            }
            return Ok(KeyIndex {
                index: Index::Text {
                    values,
                    table,
                    state,
                },
                len,
            });
        }
        let types: Vec<DataType> = keys.iter().map(|c| c.data_type().clone()).collect();
        let fields: Vec<SortField> = types.iter().cloned().map(SortField::new).collect();
        let rows = RowConverter::new(fields.clone())?.convert_columns(keys)?;
        let mut table = hashbrown::HashMap::with_capacity(len);
        for i in 0..rows.num_rows() {
            if keys.iter().any(|c| c.is_null(i)) {
                continue;
            }
            table.insert(rows.row(i).data().into(), i as u32);
        }
        Ok(KeyIndex {
            index: Index::Rows {
                fields,
                types,
                table,
            },
            len,
        })
    }

    /// Rows of the indexed batch.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether the indexed batch had no rows.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// For each row of `keys` (the same key columns of another batch), the indexed row with
    /// the same key, if any.
    pub fn probe(&self, keys: &[ArrayRef]) -> Result<Vec<Option<u32>>> {
        let n = keys.first().map_or(0, |c| c.len());
        match &self.index {
            Index::Text {
                values,
                table,
                state,
            } => {
                let mine = Strings::of(values.as_ref())
                    .ok_or_else(|| crate::Error::internal("string index without strings"))?;
                let probe_col = match keys {
                    [c] if is_string(c.data_type()) => c.clone(),
                    [c] => cast(c, &DataType::Utf8)?,
                    _ => return Err(crate::Error::internal("probe has the wrong key arity")),
                };
                let theirs = Strings::of(probe_col.as_ref())
                    .ok_or_else(|| crate::Error::internal("probe key is not a string column"))?;
                Ok((0..n)
                    .map(|i| {
                        let k = theirs.get(i)?;
                        table
                            .find(state.hash_one(k), |&j| mine.get(j as usize) == Some(k))
                            .copied()
                    })
                    .collect())
            }
            Index::Rows {
                fields,
                types,
                table,
            } => {
                if keys.len() != types.len() {
                    return Err(crate::Error::internal("probe has the wrong key arity"));
                }
                let cast_keys: Vec<ArrayRef> = keys
                    .iter()
                    .zip(types)
                    .map(|(c, t)| {
                        if c.data_type() == t {
                            Ok(c.clone())
                        } else {
                            cast(c, t)
                        }
                    })
                    .collect::<std::result::Result<_, _>>()?;
                let rows = RowConverter::new(fields.clone())?.convert_columns(&cast_keys)?;
                Ok((0..n)
                    .map(|i| {
                        if cast_keys.iter().any(|c| c.is_null(i)) {
                            return None;
                        }
                        table.get(rows.row(i).data()).copied()
                    })
                    .collect())
            }
        }
    }

    /// `true` for the rows of `keys` whose key is **not** indexed (null keys included).
    pub fn keep_mask(&self, keys: &[ArrayRef]) -> Result<BooleanArray> {
        let matched = self.probe(keys)?;
        Ok(BooleanArray::new(
            BooleanBuffer::collect_bool(matched.len(), |i| matched[i].is_none()),
            None,
        ))
    }
}

/// The rows (ascending) whose non-null key in `keys` occurs more than once — what unique
/// validation and the no-dedup duplicate check report. Same encodings as [`KeyIndex`]:
/// one string key compared as text in place, anything else as `arrow-row` bytes.
pub fn duplicated_rows(keys: &[ArrayRef]) -> Result<Vec<u32>> {
    let n = keys.first().map_or(0, |c| c.len());
    let valid = |i: usize| keys.iter().all(|c| c.is_valid(i));
    if let [c] = keys
        && let Some(strings) = Strings::of(c.as_ref())
    {
        let state = DefaultHashBuilder::default();
        // (first row, occurrences) per distinct value.
        let mut table: HashTable<(u32, u32)> = HashTable::with_capacity(n);
        let mut slot_of: Vec<u32> = vec![u32::MAX; n];
        for (i, slot) in slot_of.iter_mut().enumerate() {
            let Some(k) = strings.get(i) else { continue };
            let h = state.hash_one(k);
            match table.find_mut(h, |&(j, _)| strings.get(j as usize) == Some(k)) {
                Some(entry) => {
                    entry.1 += 1;
                    *slot = entry.0;
                }
                None => {
                    table.insert_unique(h, (i as u32, 1), |&(j, _)| {
                        state.hash_one(strings.get(j as usize).unwrap_or_default())
                    });
                    *slot = i as u32;
                }
            }
        }
        let count_of = |first: u32| {
            let k = strings.get(first as usize).unwrap_or_default();
            table
                .find(state.hash_one(k), |&(j, _)| j == first)
                .map_or(0, |&(_, c)| c)
        };
        return Ok((0..n)
            .filter(|&i| slot_of[i] != u32::MAX && count_of(slot_of[i]) > 1)
            .map(|i| i as u32)
            .collect());
    }
    let fields = keys
        .iter()
        .map(|a| SortField::new(a.data_type().clone()))
        .collect();
    let rows = RowConverter::new(fields)?.convert_columns(keys)?;
    let mut counts: hashbrown::HashMap<&[u8], u32> = hashbrown::HashMap::with_capacity(n);
    for i in 0..rows.num_rows() {
        if valid(i) {
            *counts.entry(rows.row(i).data()).or_insert(0) += 1;
        }
    }
    Ok((0..rows.num_rows())
        .filter(|&i| valid(i) && counts.get(rows.row(i).data()).copied().unwrap_or(0) > 1)
        .map(|i| i as u32)
        .collect())
}

/// The key columns `names` of `batch`, in key order.
pub fn key_columns(
    batch: &arrow::record_batch::RecordBatch,
    names: &[&str],
) -> Result<Vec<ArrayRef>> {
    names
        .iter()
        .map(|k| {
            batch
                .column_by_name(k)
                .cloned()
                .ok_or_else(|| crate::Error::internal(format!("key column `{k}` is missing")))
        })
        .collect()
}

/// A shared index.
pub type SharedKeyIndex = Arc<KeyIndex>;

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use arrow::array::{
        ArrayRef, Date32Array, Int32Array, Int64Array, StringArray, StringViewArray,
    };

    use super::*;

    fn s(v: &[Option<&str>]) -> ArrayRef {
        Arc::new(StringArray::from(v.to_vec()))
    }

    #[test]
    fn one_string_key_matches_across_string_layouts_and_never_on_null() -> Result<()> {
        let index = KeyIndex::build(&[s(&[Some("a"), Some("b"), None])])?;
        let view: ArrayRef = Arc::new(StringViewArray::from(vec![
            Some("b"),
            Some("z"),
            None,
            Some("a"),
        ]));
        assert_eq!(
            index.probe(std::slice::from_ref(&view))?,
            [Some(1), None, None, Some(0)]
        );
        let keep = index.keep_mask(&[view])?;
        assert_eq!(
            keep.values().iter().collect::<Vec<_>>(),
            [false, true, true, false]
        );
        Ok(())
    }

    #[test]
    fn composite_and_mixed_type_keys_are_cast_to_the_index_types() -> Result<()> {
        let ids: ArrayRef = Arc::new(Int64Array::from(vec![1, 2, 2]));
        let days: ArrayRef = Arc::new(Date32Array::from(vec![10, 10, 11]));
        let index = KeyIndex::build(&[ids, days])?;
        // The probe's ids are Int32 (another file's type): cast to the index's Int64.
        let probe_ids: ArrayRef = Arc::new(Int32Array::from(vec![2, 2, 3, 1]));
        let probe_days: ArrayRef = Arc::new(Date32Array::from(vec![11, 12, 10, 10]));
        assert_eq!(
            index.probe(&[probe_ids, probe_days])?,
            [Some(2), None, None, Some(0)]
        );
        Ok(())
    }

    #[test]
    fn with_duplicate_keys_the_last_row_wins() -> Result<()> {
        let index = KeyIndex::build(&[s(&[Some("a"), Some("a")])])?;
        assert_eq!(index.probe(&[s(&[Some("a")])])?, [Some(1)]);
        let ints: ArrayRef = Arc::new(Int64Array::from(vec![Some(5), Some(5), None]));
        let index = KeyIndex::build(&[ints])?;
        let probe: ArrayRef = Arc::new(Int64Array::from(vec![Some(5), None]));
        assert_eq!(index.probe(&[probe])?, [Some(1), None]);
        Ok(())
    }

    #[test]
    fn duplicated_rows_are_every_row_of_a_repeated_non_null_key() -> Result<()> {
        let text = s(&[
            Some("a"),
            Some("b"),
            Some("a"),
            None,
            None,
            Some("c"),
            Some("a"),
        ]);
        assert_eq!(duplicated_rows(&[text])?, [0, 2, 6]);
        let ids: ArrayRef = Arc::new(Int64Array::from(vec![Some(1), None, Some(1), None]));
        let days: ArrayRef = Arc::new(Date32Array::from(vec![5, 5, 5, 6]));
        assert_eq!(duplicated_rows(&[ids, days])?, [0, 2]);
        Ok(())
    }

    #[test]
    fn a_non_string_single_key_probed_by_strings_is_cast() -> Result<()> {
        let index = KeyIndex::build(&[s(&[Some("7")])])?;
        let ints: ArrayRef = Arc::new(Int64Array::from(vec![7, 8]));
        assert_eq!(index.probe(&[ints])?, [Some(0), None]);
        Ok(())
    }
}
