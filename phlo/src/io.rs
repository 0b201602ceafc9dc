//! Reading inputs: Parquet files into Arrow batches, ready to return from an ingestion
//! function.
//!
//! ```no_run
//! use phlo::prelude::*;
//!
//! # #[derive(phlo::Schema)] struct Event { id: String }
//! #[phlo::ingestion(table = "events", unique_key = "id", schema = Event)]
//! fn events(ctx: &PartitionContext) -> phlo::Result<Vec<RecordBatch>> {
//!     phlo::io::read_parquet(format!("landing/events/{}", ctx.partition_date()))
//! }
//! ```

use std::path::{Path, PathBuf};

use arrow::record_batch::RecordBatch;
use parquet::arrow::arrow_reader::{ArrowReaderMetadata, ParquetRecordBatchReaderBuilder};
use parquet::errors::ParquetError;

use crate::{Error, Result};

/// Rows per batch handed back (the reader's default of 1024 would make the per-batch
/// work of coercion and validation dominate).
pub const BATCH_ROWS: usize = 64 * 1024;

/// Reads a Parquet file, or every `*.parquet` file of a directory (in name order), into
/// batches in file and row order. Row groups are decoded in parallel, one thread per core.
///
/// Errors: [`Error::Io`] when the path cannot be listed or opened, [`Error::Parquet`] when
/// a file is not valid Parquet, and [`Error::InvalidArgument`] for a directory without
/// Parquet files.
pub fn read_parquet(path: impl AsRef<Path>) -> Result<Vec<RecordBatch>> {
    let files = parquet_files(path.as_ref())?;
    // (file, its metadata, row group) for every row group of every file, in order.
    let mut units: Vec<(PathBuf, ArrowReaderMetadata, usize)> = Vec::new();
    for file in files {
        let handle = std::fs::File::open(&file)?;
        let meta = ArrowReaderMetadata::load(&handle, Default::default())
            .map_err(|source| parquet_error(&file, source))?;
        for group in 0..meta.metadata().num_row_groups() {
            units.push((file.clone(), meta.clone(), group));
        }
    }
    let workers = phlo_core::parallel::workers_for(units.len(), 1);
    let results = phlo_core::parallel::run(workers, |w| {
        read_units(&units[phlo_core::parallel::share(units.len(), workers, w)])
    })
    .ok_or_else(|| Error::msg("a Parquet reader thread panicked"))?;
    let mut batches = Vec::new();
    for r in results {
        batches.extend(r?);
    }
    Ok(batches)
}

fn read_units(units: &[(PathBuf, ArrowReaderMetadata, usize)]) -> Result<Vec<RecordBatch>> {
    let mut out = Vec::new();
    for (file, meta, group) in units {
        let handle = std::fs::File::open(file)?;
        let reader = ParquetRecordBatchReaderBuilder::new_with_metadata(handle, meta.clone())
            .with_row_groups(vec![*group])
            .with_batch_size(BATCH_ROWS)
            .build()
            .map_err(|source| parquet_error(file, source))?;
        for batch in reader {
            out.push(batch?);
        }
    }
    Ok(out)
}

fn parquet_error(path: &Path, source: ParquetError) -> Error {
    Error::Parquet {
        path: path.to_path_buf(),
        source,
    }
}

fn parquet_files(path: &Path) -> Result<Vec<PathBuf>> {
    if !path.is_dir() {
        return Ok(vec![path.to_path_buf()]);
    }
    let mut files = Vec::new();
    for entry in std::fs::read_dir(path)? {
        let p = entry?.path();
        if p.is_file() && p.extension().is_some_and(|e| e == "parquet") {
            files.push(p);
        }
    }
    if files.is_empty() {
        return Err(Error::InvalidArgument {
            message: format!("`{}` holds no *.parquet files", path.display()),
        });
    }
    files.sort();
    Ok(files)
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use arrow::array::{Int64Array, StringArray};
    use arrow::datatypes::{DataType, Field, Schema};
    use parquet::arrow::ArrowWriter;
    use parquet::file::properties::WriterProperties;

    use super::*;

    fn write(path: &Path, from: i64, rows: i64, group_rows: usize) {
        let schema = Arc::new(Schema::new(vec![
            Field::new("n", DataType::Int64, false),
            Field::new("s", DataType::Utf8, true),
        ]));
        let n: Vec<i64> = (from..from + rows).collect();
        let s: Vec<String> = n.iter().map(|v| format!("v{v}")).collect();
        let batch = RecordBatch::try_new(
            schema.clone(),
            vec![
                Arc::new(Int64Array::from(n)),
                Arc::new(StringArray::from(s)),
            ],
        )
        .expect("batch");
        let props = WriterProperties::builder()
            .set_max_row_group_row_count(Some(group_rows))
            .build();
        let file = std::fs::File::create(path).expect("create");
        let mut w = ArrowWriter::try_new(file, schema, Some(props)).expect("writer");
        w.write(&batch).expect("write");
        w.close().expect("close");
    }

    fn values(batches: &[RecordBatch]) -> Vec<i64> {
        batches
            .iter()
            .flat_map(|b| {
                b.column(0)
                    .as_any()
                    .downcast_ref::<Int64Array>()
                    .expect("int64")
                    .values()
                    .to_vec()
            })
            .collect()
    }

    #[test]
    fn reads_a_directory_in_file_and_row_order_across_row_groups() {
        let dir = tempfile::tempdir().expect("tempdir");
        write(&dir.path().join("b.parquet"), 1000, 2500, 700);
        write(&dir.path().join("a.parquet"), 0, 1000, 300);
        std::fs::write(dir.path().join("_SUCCESS"), b"").expect("marker");
        let batches = read_parquet(dir.path()).expect("read");
        assert_eq!(values(&batches), (0..3500).collect::<Vec<_>>());
        let one = read_parquet(dir.path().join("b.parquet")).expect("read file");
        assert_eq!(values(&one), (1000..3500).collect::<Vec<_>>());
    }

    #[test]
    fn bad_inputs_are_typed_errors() {
        let dir = tempfile::tempdir().expect("tempdir");
        assert!(matches!(
            read_parquet(dir.path()),
            Err(Error::InvalidArgument { .. })
        ));
        let junk = dir.path().join("junk.parquet");
        std::fs::write(&junk, b"not parquet at all").expect("junk");
        match read_parquet(&junk) {
            Err(Error::Parquet { path, .. }) => assert_eq!(path, junk),
            other => panic!("expected a Parquet error, got {other:?}"),
        }
        assert!(matches!(
            read_parquet(dir.path().join("missing.parquet")),
            Err(Error::Io(_))
        ));
    }
}
