//! File sources: CSV, NDJSON and Parquet, one file or a glob, paths templated by the
//! partition, read in parallel into an ingestion's declared schema.
//!
//! ```no_run
//! use arrow::record_batch::RecordBatch;
//! use phlo_core::partition::PartitionContext;
//! use phlo_core::schema::{FieldDef, FieldType, SchemaDef, SchemaPolicy};
//! use phlo_runtime::sources::files::FileSource;
//!
//! // What `#[derive(phlo::Schema)] struct Weather { station: String }` declares.
//! static WEATHER: SchemaDef = SchemaDef {
//!     name: "Weather",
//!     fields: &[FieldDef { name: "station", field_type: FieldType::Utf8, nullable: false, constraints: &[] }],
//!     policy: SchemaPolicy::Strict,
//! };
//!
//! async fn weather(ctx: &PartitionContext) -> phlo_runtime::Result<Vec<RecordBatch>> {
//!     FileSource::new("data/raw/weather/weather_{date}.parquet")
//!         .read_schema(ctx, &WEATHER)
//!         .await
//! }
//! ```
//!
//! With the facade, an ingestion calls `FileSource::new(pattern).read::<Weather>(ctx)` or
//! `phlo::sources::files::read::<Weather>(ctx, pattern)` (see the guide, §2).
//!
//! What a file gives is what the load holds: Parquet columns keep their types; CSV
//! values, and NDJSON values of declared columns, are read as text and marked
//! [`TEXT_ORIGIN`], so the load's coercion parses them into the declared types and a value
//! that does not parse fails its row (strict validation fails the run, lenient
//! quarantines the row) instead of failing the file. Nothing is inferred from the data.

mod template;

use std::collections::HashMap;
use std::fs::File;
use std::io::{BufReader, Seek, SeekFrom};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use arrow::datatypes::{DataType, Field, Schema as ArrowSchema, SchemaRef};
use arrow::record_batch::RecordBatch;
use futures::{StreamExt, TryStreamExt};
use phlo_core::partition::PartitionContext;
use phlo_core::schema::{Schema, SchemaDef};
pub use phlo_ingest::coerce::TEXT_ORIGIN;

pub use template::{Placeholder, Template};

use crate::Result;

/// Schema-metadata key on every batch read: the file it came from.
pub const SOURCE_FILE: &str = "phlo.source_file";

/// Rows per batch handed back.
pub const BATCH_ROWS: usize = 64 * 1024;

/// Files read at once unless [`FileSource::parallelism`] says otherwise.
pub const DEFAULT_PARALLELISM: usize = 4;

/// What went wrong reading files. Each variant names the pattern or the file.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum FileError {
    /// The pattern does not parse (a stray brace, a bad glob). Its author must fix it.
    #[error("file pattern `{pattern}`: {reason}")]
    Pattern {
        /// The pattern.
        pattern: String,
        /// What is wrong.
        reason: String,
    },
    /// The pattern names a placeholder phlo does not know.
    #[error(
        "file pattern `{pattern}` has an unknown placeholder `{{{placeholder}}}`; known: {{date}}, {{hour}}, {{month}}, {{key}}, {{start}}, {{end}}"
    )]
    UnknownPlaceholder {
        /// The pattern.
        pattern: String,
        /// The name between braces.
        placeholder: String,
    },
    /// The partition cannot fill a placeholder (`{date}` of an unpartitioned asset, `{hour}`
    /// of a daily one). The pattern must match the asset's partitions.
    #[error(
        "file pattern `{pattern}`: partition `{partition}` cannot fill `{{{placeholder}}}`: {reason}"
    )]
    Placeholder {
        /// The pattern.
        pattern: String,
        /// The placeholder.
        placeholder: &'static str,
        /// The partition key (`(none)` when unpartitioned).
        partition: String,
        /// Why.
        reason: &'static str,
    },
    /// The pattern names a store other than the local file system.
    #[error(
        "file pattern `{pattern}`: `{scheme}://` is not supported; use a local path or `file://`"
    )]
    UnsupportedScheme {
        /// The pattern.
        pattern: String,
        /// The scheme.
        scheme: String,
    },
    /// [`FileSource::required`] was set and no file matched.
    #[error("no file matches `{pattern}` (required)")]
    NoFiles {
        /// The pattern, as rendered for the partition.
        pattern: String,
    },
    /// The format cannot be told from the file's extension. Name it explicitly
    /// ([`FileSource::csv`], …).
    #[error("`{}`: unknown file format (extensions: .csv, .ndjson, .jsonl, .parquet); choose one with FileSource::csv/ndjson/parquet", .file.display())]
    UnknownFormat {
        /// The file.
        file: PathBuf,
    },
    /// A required (non-`Option`) column of the schema is not in the file.
    #[error("`{}` has no column `{column}` (required by schema `{schema}`)", .file.display())]
    MissingColumn {
        /// The file.
        file: PathBuf,
        /// The column.
        column: String,
        /// The schema type.
        schema: &'static str,
    },
    /// The file could not be parsed as its format. Whoever produced it must fix it.
    #[error("`{}` could not be read as {format}: {reason}", .file.display())]
    Read {
        /// The file.
        file: PathBuf,
        /// The format.
        format: FileFormat,
        /// The reader's words.
        reason: String,
    },
    /// The file or a directory of the glob could not be opened or listed.
    #[error("`{}`: {source}", .file.display())]
    Io {
        /// The file or directory.
        file: PathBuf,
        /// The error.
        #[source]
        source: std::io::Error,
    },
}

impl FileError {
    /// Whether retrying may help: an I/O error of an interruption or network kind.
    pub fn is_transient(&self) -> bool {
        use std::io::ErrorKind::*;
        matches!(self, FileError::Io { source, .. } if matches!(
            source.kind(),
            ConnectionRefused | ConnectionReset | ConnectionAborted | NotConnected
                | TimedOut | Interrupted | BrokenPipe | WouldBlock
        ))
    }
}

impl From<FileError> for crate::Error {
    fn from(e: FileError) -> Self {
        crate::Error::Files(Box::new(e))
    }
}

/// A file format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FileFormat {
    /// Comma-separated values with a header row ([`FileSource::delimiter`] changes the
    /// separator). Every value is read as text.
    Csv,
    /// Newline-delimited JSON, one object a line. Declared columns are read as text
    /// (numbers and booleans as written); other keys keep their JSON types.
    Ndjson,
    /// Apache Parquet. Columns keep their types.
    Parquet,
}

impl FileFormat {
    /// The format of `path` by its extension: `.csv`; `.ndjson` or `.jsonl`; `.parquet`
    /// or `.pq` (case-insensitive). `None` otherwise.
    pub fn from_path(path: &Path) -> Option<Self> {
        let ext = path.extension()?.to_str()?.to_ascii_lowercase();
        match ext.as_str() {
            "csv" => Some(FileFormat::Csv),
            "ndjson" | "jsonl" => Some(FileFormat::Ndjson),
            "parquet" | "pq" => Some(FileFormat::Parquet),
            _ => None,
        }
    }
}

impl std::fmt::Display for FileFormat {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            FileFormat::Csv => "CSV",
            FileFormat::Ndjson => "NDJSON",
            FileFormat::Parquet => "Parquet",
        })
    }
}

/// Reads the files `pattern` matches for `ctx`'s partition into batches for `T`:
/// [`FileSource::new`]`(pattern).read::<T>(ctx)`, the format told by each file's
/// extension, relative paths against the current directory.
pub async fn read<T: Schema>(ctx: &PartitionContext, pattern: &str) -> Result<Vec<RecordBatch>> {
    FileSource::new(pattern).read::<T>(ctx).await
}

/// Files to read: a path pattern with its options.
///
/// The pattern is one file or a glob (`*` within a directory, `**` across directories, `?`,
/// `[a-z]`), with placeholders filled from the partition (see [`Placeholder`]); `{{` and
/// `}}` are literal braces. A relative pattern is resolved against [`FileSource::base`],
/// by default the process's current directory. A `file://` prefix is allowed.
#[derive(Debug, Clone)]
pub struct FileSource {
    pattern: String,
    format: Option<FileFormat>,
    delimiter: u8,
    base: Option<PathBuf>,
    required: bool,
    parallelism: usize,
}

impl FileSource {
    /// Files matching `pattern`, each read in the format its extension names.
    pub fn new(pattern: impl Into<String>) -> Self {
        FileSource {
            pattern: pattern.into(),
            format: None,
            delimiter: b',',
            base: None,
            required: false,
            parallelism: DEFAULT_PARALLELISM,
        }
    }

    /// CSV files matching `pattern`, whatever their extension.
    pub fn csv(pattern: impl Into<String>) -> Self {
        Self::new(pattern).format(FileFormat::Csv)
    }

    /// NDJSON files matching `pattern`, whatever their extension.
    pub fn ndjson(pattern: impl Into<String>) -> Self {
        Self::new(pattern).format(FileFormat::Ndjson)
    }

    /// Parquet files matching `pattern`, whatever their extension.
    pub fn parquet(pattern: impl Into<String>) -> Self {
        Self::new(pattern).format(FileFormat::Parquet)
    }

    /// Reads every file as `format` instead of telling it by extension.
    pub fn format(mut self, format: FileFormat) -> Self {
        self.format = Some(format);
        self
    }

    /// The CSV field separator (default `,`).
    pub fn delimiter(mut self, delimiter: u8) -> Self {
        self.delimiter = delimiter;
        self
    }

    /// The directory a relative pattern is resolved against.
    pub fn base(mut self, dir: impl Into<PathBuf>) -> Self {
        self.base = Some(dir.into());
        self
    }

    /// Whether matching no file is an error ([`FileError::NoFiles`]) rather than no data
    /// for the partition (the default: the run reports `NoData`).
    pub fn required(mut self, required: bool) -> Self {
        self.required = required;
        self
    }

    /// How many files are read at once (at least 1; default [`DEFAULT_PARALLELISM`]).
    pub fn parallelism(mut self, files: usize) -> Self {
        self.parallelism = files.max(1);
        self
    }

    /// The files matched for `ctx`'s partition, sorted by path.
    pub fn paths(&self, ctx: &PartitionContext) -> Result<Vec<PathBuf>> {
        Ok(self.matches(ctx)?.1)
    }

    /// The rendered pattern and the files it matches.
    fn matches(&self, ctx: &PartitionContext) -> Result<(String, Vec<PathBuf>), FileError> {
        let pattern = match self.pattern.split_once("://") {
            Some(("file", rest)) => rest,
            Some((scheme, _))
                if !scheme.is_empty()
                    && scheme
                        .chars()
                        .all(|c| c.is_ascii_alphanumeric() || c == '+') =>
            {
                return Err(FileError::UnsupportedScheme {
                    pattern: self.pattern.clone(),
                    scheme: scheme.to_string(),
                });
            }
            _ => self.pattern.as_str(),
        };
        let template = Template::parse(pattern)?;
        let glob = template.is_glob();
        let rendered = template.render(ctx.partition(), glob)?;
        let base = self
            .base
            .as_ref()
            .filter(|_| !Path::new(&rendered).is_absolute());
        if !glob {
            let path = match base {
                Some(b) => b.join(&rendered),
                None => PathBuf::from(&rendered),
            };
            let shown = path.display().to_string();
            return match std::fs::metadata(&path) {
                Ok(m) if m.is_file() => Ok((shown, vec![path])),
                Ok(_) => Err(FileError::Pattern {
                    pattern: self.pattern.clone(),
                    reason: format!(
                        "`{shown}` is a directory; match its files with a glob (`…/*.parquet`)"
                    ),
                }),
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok((shown, Vec::new())),
                Err(source) => Err(FileError::Io { file: path, source }),
            };
        }
        let full = match base {
            Some(b) => {
                let dir = glob::Pattern::escape(&b.to_string_lossy());
                format!("{}/{rendered}", dir.trim_end_matches('/'))
            }
            None => rendered,
        };
        let options = glob::MatchOptions {
            case_sensitive: true,
            require_literal_separator: true,
            require_literal_leading_dot: true,
        };
        let entries = glob::glob_with(&full, options).map_err(|e| FileError::Pattern {
            pattern: self.pattern.clone(),
            reason: e.to_string(),
        })?;
        let mut files = Vec::new();
        for entry in entries {
            let path = entry.map_err(|e| FileError::Io {
                file: e.path().to_path_buf(),
                source: e.into(),
            })?;
            if path.is_file() {
                files.push(path);
            }
        }
        files.sort();
        Ok((full, files))
    }

    /// Reads the matched files into batches for `T`, in path order.
    pub async fn read<T: Schema>(&self, ctx: &PartitionContext) -> Result<Vec<RecordBatch>> {
        self.read_schema(ctx, T::SCHEMA).await
    }

    /// [`FileSource::read`] for a schema given as a value.
    ///
    /// Each file is checked against `schema` (a required column it lacks is a
    /// [`FileError::MissingColumn`] naming the file); columns the schema does not declare
    /// are passed on, for the schema's `schema_policy` to keep, drop or reject. Every batch
    /// carries its file in its schema metadata ([`SOURCE_FILE`]).
    pub async fn read_schema(
        &self,
        ctx: &PartitionContext,
        schema: &'static SchemaDef,
    ) -> Result<Vec<RecordBatch>> {
        let (pattern, files) = self.matches(ctx)?;
        if files.is_empty() {
            if self.required {
                return Err(FileError::NoFiles { pattern }.into());
            }
            return Ok(Vec::new());
        }
        let jobs = files
            .into_iter()
            .map(|file| {
                let format = match self.format.or_else(|| FileFormat::from_path(&file)) {
                    Some(f) => f,
                    None => return Err(FileError::UnknownFormat { file }),
                };
                Ok(ReadJob {
                    file,
                    format,
                    delimiter: self.delimiter,
                    schema,
                })
            })
            .collect::<Result<Vec<_>, FileError>>()?;
        let per_file: Vec<Vec<RecordBatch>> =
            futures::stream::iter(jobs.into_iter().map(|job| async move {
                let file = job.file.clone();
                let format = job.format;
                tokio::task::spawn_blocking(move || job.run())
                    .await
                    .map_err(|e| FileError::Read {
                        file,
                        format,
                        reason: format!("the reader task failed: {e}"),
                    })?
            }))
            .buffered(self.parallelism)
            .try_collect()
            .await?;
        Ok(per_file.into_iter().flatten().collect())
    }
}

/// One file to read.
struct ReadJob {
    file: PathBuf,
    format: FileFormat,
    delimiter: u8,
    schema: &'static SchemaDef,
}

impl ReadJob {
    fn run(self) -> Result<Vec<RecordBatch>, FileError> {
        let mut handle = File::open(&self.file).map_err(|source| self.io(source))?;
        let empty = handle.metadata().map_err(|source| self.io(source))?.len() == 0;
        if empty && self.format != FileFormat::Parquet {
            return Ok(Vec::new());
        }
        let batches = match self.format {
            FileFormat::Csv => self.csv(handle)?,
            FileFormat::Ndjson => {
                let mut reader = BufReader::new(handle);
                let (inferred, _) = arrow::json::reader::infer_json_schema(&mut reader, None)
                    .map_err(|e| self.read_error(e))?;
                handle = reader.into_inner();
                handle
                    .seek(SeekFrom::Start(0))
                    .map_err(|source| self.io(source))?;
                self.ndjson(handle, &inferred)?
            }
            FileFormat::Parquet => self.parquet(handle)?,
        };
        // Tag every batch with its file.
        batches
            .into_iter()
            .map(|b| {
                let mut metadata = b.schema().metadata().clone();
                metadata.insert(SOURCE_FILE.to_string(), self.file.display().to_string());
                let schema = Arc::new(b.schema().as_ref().clone().with_metadata(metadata));
                b.with_schema(schema).map_err(|e| self.read_error(e))
            })
            .collect()
    }

    fn io(&self, source: std::io::Error) -> FileError {
        FileError::Io {
            file: self.file.clone(),
            source,
        }
    }

    fn read_error(&self, e: impl std::fmt::Display) -> FileError {
        FileError::Read {
            file: self.file.clone(),
            format: self.format,
            reason: e.to_string(),
        }
    }

    /// A required column of the schema that `names` lacks.
    fn check_columns<'a>(
        &self,
        names: impl Iterator<Item = &'a str> + Clone,
    ) -> Result<(), FileError> {
        match self
            .schema
            .fields
            .iter()
            .find(|f| !f.nullable && !names.clone().any(|n| n == f.name))
        {
            Some(f) => Err(FileError::MissingColumn {
                file: self.file.clone(),
                column: f.name.to_string(),
                schema: self.schema.name,
            }),
            None => Ok(()),
        }
    }

    fn csv(&self, mut handle: File) -> Result<Vec<RecordBatch>, FileError> {
        let format = arrow::csv::reader::Format::default()
            .with_header(true)
            .with_delimiter(self.delimiter);
        let (header, _) = format
            .infer_schema(&mut handle, Some(0))
            .map_err(|e| self.read_error(e))?;
        handle
            .seek(SeekFrom::Start(0))
            .map_err(|source| self.io(source))?;
        self.check_columns(header.fields().iter().map(|f| f.name().as_str()))?;
        let schema: SchemaRef = Arc::new(ArrowSchema::new(
            header
                .fields()
                .iter()
                .map(|f| text_field(f.name()))
                .collect::<Vec<_>>(),
        ));
        let reader = arrow::csv::ReaderBuilder::new(schema)
            .with_header(true)
            .with_delimiter(self.delimiter)
            .with_batch_size(BATCH_ROWS)
            .build(handle)
            .map_err(|e| self.read_error(e))?;
        reader.map(|b| b.map_err(|e| self.read_error(e))).collect()
    }

    fn ndjson(&self, handle: File, inferred: &ArrowSchema) -> Result<Vec<RecordBatch>, FileError> {
        self.check_columns(inferred.fields().iter().map(|f| f.name().as_str()))?;
        let fields: Vec<Field> = inferred
            .fields()
            .iter()
            .map(|f| match self.schema.field(f.name()) {
                Some(_) => text_field(f.name()),
                None => f.as_ref().clone(),
            })
            .collect();
        let reader = arrow::json::ReaderBuilder::new(Arc::new(ArrowSchema::new(fields)))
            .with_coerce_primitive(true)
            .with_batch_size(BATCH_ROWS)
            .build(BufReader::new(handle))
            .map_err(|e| self.read_error(e))?;
        reader.map(|b| b.map_err(|e| self.read_error(e))).collect()
    }

    fn parquet(&self, handle: File) -> Result<Vec<RecordBatch>, FileError> {
        let builder =
            parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder::try_new(handle)
                .map_err(|e| self.read_error(e))?;
        self.check_columns(builder.schema().fields().iter().map(|f| f.name().as_str()))?;
        let reader = builder
            .with_batch_size(BATCH_ROWS)
            .build()
            .map_err(|e| self.read_error(e))?;
        reader.map(|b| b.map_err(|e| self.read_error(e))).collect()
    }
}

/// A nullable text column marked [`TEXT_ORIGIN`].
fn text_field(name: &str) -> Field {
    Field::new(name, DataType::Utf8, true).with_metadata(HashMap::from([(
        TEXT_ORIGIN.to_string(),
        "true".to_string(),
    )]))
}

#[cfg(test)]
mod tests;
