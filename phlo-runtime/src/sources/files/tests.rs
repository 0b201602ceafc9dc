use std::sync::Arc;

use arrow::array::{Array, Float64Array, Int64Array, StringArray};
use arrow::datatypes::{DataType, Field, Schema as ArrowSchema};
use chrono::DateTime;
use phlo_core::partition::{PartitionContext, PartitionKey, PartitionsDef};
use phlo_core::schema::{FieldDef, FieldType, SchemaPolicy};
use phlo_core::spec::{Cadence, PartitionsSpec};

use super::*;

fn key(cadence: Cadence, text: &str) -> PartitionKey {
    let def = PartitionsDef::resolve(&PartitionsSpec::Time {
        cadence,
        start: None,
        end: None,
        timezone: "UTC",
        end_offset: 0,
    })
    .unwrap();
    def.parse_key(text).unwrap()
}

fn ctx(partition: Option<PartitionKey>) -> PartitionContext {
    PartitionContext::new(
        "weather",
        partition,
        "run-1",
        1,
        DateTime::from_timestamp(1_736_942_400, 0).unwrap(),
    )
}

const FIELDS: &[FieldDef] = &[
    FieldDef {
        name: "station",
        field_type: FieldType::Utf8,
        nullable: false,
        constraints: &[],
    },
    FieldDef {
        name: "temp",
        field_type: FieldType::Float64,
        nullable: true,
        constraints: &[],
    },
];

static WEATHER: SchemaDef = SchemaDef {
    name: "Weather",
    fields: FIELDS,
    policy: SchemaPolicy::Strict,
};

fn render(pattern: &str, partition: Option<&PartitionKey>) -> Result<String, FileError> {
    Template::parse(pattern)?.render(partition, false)
}

#[test]
fn placeholders_are_filled_from_the_partition() {
    let day = key(Cadence::Daily, "2025-01-15");
    assert_eq!(
        render("raw/w_{date}.parquet", Some(&day)).unwrap(),
        "raw/w_2025-01-15.parquet"
    );
    assert_eq!(
        render("{month}/{key}/{start}..{end}", Some(&day)).unwrap(),
        "2025-01/2025-01-15/2025-01-15T00:00:00Z..2025-01-16T00:00:00Z"
    );
    let hour = key(Cadence::Hourly, "2025-01-15T07");
    assert_eq!(
        render("{date}/{hour}/{key}.csv", Some(&hour)).unwrap(),
        "2025-01-15/07/2025-01-15T07.csv"
    );
    let month = key(Cadence::Monthly, "2025-02");
    assert_eq!(
        render("{month}-{key}", Some(&month)).unwrap(),
        "2025-02-2025-02"
    );
    let region = PartitionKey::Static("eu".into());
    assert_eq!(
        render("by_region/{key}.csv", Some(&region)).unwrap(),
        "by_region/eu.csv"
    );
    assert_eq!(
        render("{{literal}}_{date}", Some(&day)).unwrap(),
        "{literal}_2025-01-15"
    );
}

#[test]
fn a_placeholder_the_partition_cannot_fill_is_a_typed_error() {
    let cases: [(&str, Option<PartitionKey>, &str); 5] = [
        ("{date}.csv", None, "date"),
        (
            "{hour}.csv",
            Some(key(Cadence::Daily, "2025-01-15")),
            "hour",
        ),
        ("{date}.csv", Some(key(Cadence::Monthly, "2025-01")), "date"),
        (
            "{start}.csv",
            Some(PartitionKey::Static("eu".into())),
            "start",
        ),
        (
            "{month}.csv",
            Some(PartitionKey::Static("eu".into())),
            "month",
        ),
    ];
    for (pattern, partition, name) in cases {
        let err = render(pattern, partition.as_ref()).unwrap_err();
        assert!(
            matches!(&err, FileError::Placeholder { placeholder, pattern: p, .. } if *placeholder == name && p == pattern),
            "{pattern}: {err:?}"
        );
    }
    let err = render("{date}.csv", None).unwrap_err();
    assert_eq!(
        err.to_string(),
        "file pattern `{date}.csv`: partition `(none)` cannot fill `{date}`: the asset is unpartitioned"
    );
}

#[test]
fn unknown_placeholders_and_stray_braces_are_pattern_errors() {
    let err = Template::parse("raw/{day}.csv").unwrap_err();
    assert!(
        matches!(&err, FileError::UnknownPlaceholder { placeholder, .. } if placeholder == "day"),
        "{err:?}"
    );
    assert!(err.to_string().contains("known: {date}, {hour}"), "{err}");
    for bad in ["raw/{date.csv", "raw/date}.csv"] {
        assert!(
            matches!(Template::parse(bad), Err(FileError::Pattern { .. })),
            "{bad}"
        );
    }
}

#[test]
fn globs_are_told_by_their_literal_text_and_values_are_escaped() {
    assert!(Template::parse("raw/*.csv").unwrap().is_glob());
    assert!(Template::parse("raw/**/x_{date}.csv").unwrap().is_glob());
    assert!(!Template::parse("raw/x_{date}.csv").unwrap().is_glob());
    let t = Template::parse("raw/{key}/*.csv").unwrap();
    let odd = PartitionKey::Static("a[1]".into());
    assert_eq!(t.render(Some(&odd), true).unwrap(), "raw/a[[]1[]]/*.csv");
}

fn write(dir: &Path, name: &str, text: &str) {
    let path = dir.join(name);
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent).unwrap();
    }
    std::fs::write(path, text).unwrap();
}

fn names(dir: &Path, paths: &[PathBuf]) -> Vec<String> {
    paths
        .iter()
        .map(|p| p.strip_prefix(dir).unwrap().display().to_string())
        .collect()
}

#[test]
fn globs_match_files_sorted_within_and_across_directories() {
    let dir = tempfile::tempdir().unwrap();
    for name in [
        "b.csv",
        "a.csv",
        "c.txt",
        "sub/d.csv",
        "sub/deeper/e.csv",
        ".hidden.csv",
    ] {
        write(dir.path(), name, "station\n");
    }
    let c = ctx(Some(key(Cadence::Daily, "2025-01-15")));
    let star = FileSource::new("*.csv").base(dir.path()).paths(&c).unwrap();
    assert_eq!(names(dir.path(), &star), ["a.csv", "b.csv"]);
    let deep = FileSource::new("**/*.csv")
        .base(dir.path())
        .paths(&c)
        .unwrap();
    assert_eq!(
        names(dir.path(), &deep),
        ["a.csv", "b.csv", "sub/d.csv", "sub/deeper/e.csv"]
    );
    let none = FileSource::new("nothing/*.csv")
        .base(dir.path())
        .paths(&c)
        .unwrap();
    assert!(none.is_empty());
    let absent = FileSource::new("x_{date}.csv")
        .base(dir.path())
        .paths(&c)
        .unwrap();
    assert!(absent.is_empty());
    let bad = FileSource::new("**.csv").base(dir.path()).paths(&c);
    assert!(
        matches!(&bad, Err(crate::Error::Files(e)) if matches!(**e, FileError::Pattern { .. })),
        "{bad:?}"
    );
    let dir_err = FileSource::new("sub").base(dir.path()).paths(&c);
    assert!(
        matches!(&dir_err, Err(crate::Error::Files(e)) if matches!(**e, FileError::Pattern { .. })),
        "{dir_err:?}"
    );
    let s3 = FileSource::new("s3://bucket/x.csv").paths(&c);
    assert!(
        matches!(&s3, Err(crate::Error::Files(e)) if matches!(&**e, FileError::UnsupportedScheme { scheme, .. } if scheme == "s3")),
        "{s3:?}"
    );
    let url = format!("file://{}/a.csv", dir.path().display());
    assert_eq!(
        names(dir.path(), &FileSource::new(url).paths(&c).unwrap()),
        ["a.csv"]
    );
}

#[test]
fn formats_are_told_by_extension() {
    assert_eq!(
        FileFormat::from_path(Path::new("a.CSV")),
        Some(FileFormat::Csv)
    );
    assert_eq!(
        FileFormat::from_path(Path::new("a.jsonl")),
        Some(FileFormat::Ndjson)
    );
    assert_eq!(
        FileFormat::from_path(Path::new("a.ndjson")),
        Some(FileFormat::Ndjson)
    );
    assert_eq!(
        FileFormat::from_path(Path::new("a.pq")),
        Some(FileFormat::Parquet)
    );
    assert_eq!(FileFormat::from_path(Path::new("a.json")), None);
    assert_eq!(FileFormat::from_path(Path::new("a")), None);
}

fn strings(batch: &RecordBatch, column: &str) -> Vec<Option<String>> {
    let a = batch
        .column_by_name(column)
        .unwrap()
        .as_any()
        .downcast_ref::<StringArray>()
        .unwrap();
    (0..a.len())
        .map(|i| a.is_valid(i).then(|| a.value(i).to_string()))
        .collect()
}

fn is_text(batch: &RecordBatch, column: &str) -> bool {
    let schema = batch.schema();
    let field = schema.field_with_name(column).unwrap();
    field.data_type() == &DataType::Utf8
        && field.metadata().get(TEXT_ORIGIN).map(String::as_str) == Some("true")
}

#[tokio::test]
async fn csv_is_read_as_text_with_its_delimiter_and_tagged_with_its_file() {
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        "w.csv",
        "temp;station;extra\n1.5;a;x\nwarm;b;\n",
    );
    let c = ctx(None);
    let batches = FileSource::csv("w.csv")
        .delimiter(b';')
        .base(dir.path())
        .read_schema(&c, &WEATHER)
        .await
        .unwrap();
    assert_eq!(batches.len(), 1);
    let b = &batches[0];
    assert!(is_text(b, "temp") && is_text(b, "station") && is_text(b, "extra"));
    assert_eq!(
        strings(b, "temp"),
        [Some("1.5".into()), Some("warm".into())]
    );
    assert_eq!(strings(b, "extra"), [Some("x".into()), None]);
    assert_eq!(
        b.schema().metadata().get(SOURCE_FILE),
        Some(&dir.path().join("w.csv").display().to_string())
    );
}

#[tokio::test]
async fn ndjson_declared_columns_are_text_and_other_keys_keep_json_types() {
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        "w.ndjson",
        "{\"station\":\"a\",\"temp\":1.5,\"n\":3}\n{\"station\":\"b\",\"temp\":\"warm\"}\n{\"station\":7,\"temp\":null}\n",
    );
    let batches = FileSource::new("w.ndjson")
        .base(dir.path())
        .read_schema(&ctx(None), &WEATHER)
        .await
        .unwrap();
    let b = &batches[0];
    assert!(is_text(b, "temp") && is_text(b, "station"));
    assert_eq!(
        strings(b, "station"),
        [Some("a".into()), Some("b".into()), Some("7".into())]
    );
    assert_eq!(
        strings(b, "temp"),
        [Some("1.5".into()), Some("warm".into()), None]
    );
    let n = b
        .column_by_name("n")
        .unwrap()
        .as_any()
        .downcast_ref::<Int64Array>()
        .unwrap();
    assert_eq!((n.value(0), n.is_null(1), n.is_null(2)), (3, true, true));
}

#[tokio::test]
async fn parquet_keeps_its_types_and_files_are_read_in_path_order() {
    let dir = tempfile::tempdir().unwrap();
    for (name, station, temp) in [("2.parquet", "b", 2.0), ("1.parquet", "a", 1.0)] {
        let schema = Arc::new(ArrowSchema::new(vec![
            Field::new("station", DataType::Utf8, false),
            Field::new("temp", DataType::Float64, true),
        ]));
        let batch = RecordBatch::try_new(
            schema.clone(),
            vec![
                Arc::new(StringArray::from(vec![station])),
                Arc::new(Float64Array::from(vec![temp])),
            ],
        )
        .unwrap();
        let file = File::create(dir.path().join(name)).unwrap();
        let mut w = parquet::arrow::ArrowWriter::try_new(file, schema, None).unwrap();
        w.write(&batch).unwrap();
        w.close().unwrap();
    }
    let batches = FileSource::new("*.parquet")
        .base(dir.path())
        .parallelism(2)
        .read_schema(&ctx(None), &WEATHER)
        .await
        .unwrap();
    let stations: Vec<_> = batches.iter().flat_map(|b| strings(b, "station")).collect();
    assert_eq!(stations, [Some("a".into()), Some("b".into())]);
    assert_eq!(
        batches[0]
            .schema()
            .field_with_name("temp")
            .unwrap()
            .data_type(),
        &DataType::Float64
    );
}

#[tokio::test]
async fn a_missing_required_column_names_the_file_and_a_missing_optional_one_does_not_fail() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "ok.csv", "station\na\n");
    write(dir.path(), "z_bad.csv", "temp\n1.0\n");
    let err = FileSource::new("*.csv")
        .base(dir.path())
        .read_schema(&ctx(None), &WEATHER)
        .await
        .unwrap_err();
    let file = dir.path().join("z_bad.csv");
    assert!(
        matches!(&err, crate::Error::Files(e) if matches!(&**e, FileError::MissingColumn { file: f, column, .. } if *f == file && column == "station")),
        "{err:?}"
    );
    assert!(
        err.to_string()
            .contains("z_bad.csv` has no column `station`"),
        "{err}"
    );
    let ok = FileSource::new("ok.csv")
        .base(dir.path())
        .read_schema(&ctx(None), &WEATHER)
        .await
        .unwrap();
    assert_eq!(ok[0].num_rows(), 1);
}

#[tokio::test]
async fn no_file_is_no_data_unless_required_and_unknown_formats_name_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let c = ctx(Some(key(Cadence::Daily, "2025-01-15")));
    let none = FileSource::new("w_{date}.csv")
        .base(dir.path())
        .read_schema(&c, &WEATHER)
        .await
        .unwrap();
    assert!(none.is_empty());
    let err = FileSource::new("w_{date}.csv")
        .base(dir.path())
        .required(true)
        .read_schema(&c, &WEATHER)
        .await
        .unwrap_err();
    assert!(
        matches!(&err, crate::Error::Files(e) if matches!(&**e, FileError::NoFiles { pattern } if pattern.ends_with("w_2025-01-15.csv"))),
        "{err:?}"
    );
    write(dir.path(), "w.txt", "station\na\n");
    let err = FileSource::new("w.txt")
        .base(dir.path())
        .read_schema(&c, &WEATHER)
        .await
        .unwrap_err();
    assert!(
        matches!(&err, crate::Error::Files(e) if matches!(&**e, FileError::UnknownFormat { .. })),
        "{err:?}"
    );
    write(dir.path(), "broken.parquet", "not parquet");
    let err = FileSource::new("broken.parquet")
        .base(dir.path())
        .read_schema(&c, &WEATHER)
        .await
        .unwrap_err();
    assert!(
        matches!(&err, crate::Error::Files(e) if matches!(&**e, FileError::Read { format: FileFormat::Parquet, file, .. } if file.ends_with("broken.parquet"))),
        "{err:?}"
    );
}

#[tokio::test]
async fn empty_files_and_header_only_csv_give_no_rows() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "a_empty.csv", "");
    write(dir.path(), "b_header.csv", "station,temp\n");
    write(dir.path(), "c_empty.ndjson", "");
    let batches = FileSource::new("*.*")
        .base(dir.path())
        .read_schema(&ctx(None), &WEATHER)
        .await
        .unwrap();
    assert_eq!(batches.iter().map(RecordBatch::num_rows).sum::<usize>(), 0);
}

#[test]
fn only_interruptions_and_network_failures_are_transient() {
    let io = |kind| FileError::Io {
        file: PathBuf::from("x.csv"),
        source: std::io::Error::new(kind, "x"),
    };
    assert!(io(std::io::ErrorKind::TimedOut).is_transient());
    assert!(crate::Error::from(io(std::io::ErrorKind::ConnectionReset)).is_transient());
    assert!(!io(std::io::ErrorKind::NotFound).is_transient());
    assert!(
        !crate::Error::from(FileError::NoFiles {
            pattern: "x".into()
        })
        .is_transient()
    );
}
