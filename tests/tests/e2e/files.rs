//! File sources on real Delta tables: CSV, NDJSON and Parquet fixtures written into a
//! temporary directory, a glob over several files, a path templated by the partition
//! across two days, a value that does not cast failing its row (strict: the run fails and
//! the table is unchanged; lenient: the row is quarantined), a missing column, and no file
//! matched.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, OnceLock};

use phlo::arrow::array::{Float64Array, StringArray};
use phlo::arrow::datatypes::{DataType, Field, Schema as ArrowSchema};
use phlo::prelude::*;
use phlo::sources::files::{FileError, FileSource};

use crate::support::*;

/// A weather reading as the files carry it.
#[derive(Schema)]
pub struct Weather {
    /// Station code.
    station: String,
    /// When it was read.
    ts: DateTime<Utc>,
    /// Degrees Celsius.
    temp_c: f64,
    /// A remark, when there is one.
    note: Option<String>,
}

/// The directory each test's files are in, by the test's run-id prefix.
fn bases() -> &'static Mutex<HashMap<String, PathBuf>> {
    static B: OnceLock<Mutex<HashMap<String, PathBuf>>> = OnceLock::new();
    B.get_or_init(|| Mutex::new(HashMap::new()))
}

fn base(ctx: &PartitionContext) -> PathBuf {
    let test = ctx
        .run_id()
        .rsplit_once('-')
        .map_or(ctx.run_id(), |(p, _)| p);
    bases()
        .lock()
        .ok()
        .and_then(|b| b.get(test).cloned())
        .unwrap_or_default()
}

/// A runtime over `dir/warehouse` whose assets read files under `dir/files`.
async fn setup(test: &str, dir: &Path) -> (Runtime, PathBuf) {
    let files = dir.join("files");
    std::fs::create_dir_all(&files).unwrap();
    if let Ok(mut b) = bases().lock() {
        b.insert(test.to_string(), files.clone());
    }
    let (rt, _) = runtime(test, &dir.join("warehouse")).await;
    (rt, files)
}

fn write(dir: &Path, name: &str, text: &str) {
    let path = dir.join(name);
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, text).unwrap();
}

fn write_parquet(dir: &Path, name: &str, rows: &[(&str, &str, f64)]) {
    let schema = Arc::new(ArrowSchema::new(vec![
        Field::new("station", DataType::Utf8, false),
        Field::new("ts", DataType::Utf8, false),
        Field::new("temp_c", DataType::Float64, false),
    ]));
    let batch = RecordBatch::try_new(
        schema.clone(),
        vec![
            Arc::new(StringArray::from_iter_values(rows.iter().map(|r| r.0))),
            Arc::new(StringArray::from_iter_values(rows.iter().map(|r| r.1))),
            Arc::new(Float64Array::from_iter_values(rows.iter().map(|r| r.2))),
        ],
    )
    .unwrap();
    let path = dir.join(name);
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    let mut w =
        parquet::arrow::ArrowWriter::try_new(std::fs::File::create(path).unwrap(), schema, None)
            .unwrap();
    w.write(&batch).unwrap();
    w.close().unwrap();
}

/// The file error inside an asset's failure.
fn file_error(err: &phlo::Error) -> &FileError {
    match err
        .user_error()
        .and_then(|e| e.downcast_ref::<phlo::Error>())
    {
        Some(phlo::Error::Files(e)) => e,
        _ => panic!("not a file error: {err:?}"),
    }
}

/// A day's CSV file, templated by the partition.
#[ingestion(table = "files.weather", unique_key = ["station", "ts"], schema = Weather)]
pub async fn files_weather(ctx: &PartitionContext) -> phlo::Result<Vec<RecordBatch>> {
    FileSource::new("csv/weather_{date}.csv")
        .base(base(ctx))
        .read::<Weather>(ctx)
        .await
}

/// The same files, lenient: a row whose value does not cast is quarantined.
#[ingestion(table = "files.weather_lenient", unique_key = ["station", "ts"], schema = Weather,
            strict_validation = false)]
pub async fn files_weather_lenient(ctx: &PartitionContext) -> phlo::Result<Vec<RecordBatch>> {
    FileSource::new("csv/weather_{date}.csv")
        .base(base(ctx))
        .read::<Weather>(ctx)
        .await
}

/// A day's NDJSON file.
#[ingestion(table = "files.weather_ndjson", unique_key = ["station", "ts"], schema = Weather)]
pub async fn files_weather_ndjson(ctx: &PartitionContext) -> phlo::Result<Vec<RecordBatch>> {
    FileSource::new("ndjson/{date}.jsonl")
        .base(base(ctx))
        .read::<Weather>(ctx)
        .await
}

/// Every Parquet file under a day's directory, at any depth, read two at a time.
#[ingestion(table = "files.weather_parquet", unique_key = ["station", "ts"], schema = Weather)]
pub async fn files_weather_parquet(ctx: &PartitionContext) -> phlo::Result<Vec<RecordBatch>> {
    FileSource::parquet("parquet/{date}/**/*.parquet")
        .base(base(ctx))
        .parallelism(2)
        .read::<Weather>(ctx)
        .await
}

/// A day's file that must be there.
#[ingestion(table = "files.weather_required", unique_key = ["station", "ts"], schema = Weather)]
pub async fn files_weather_required(ctx: &PartitionContext) -> phlo::Result<Vec<RecordBatch>> {
    FileSource::new("csv/weather_{date}.csv")
        .base(base(ctx))
        .required(true)
        .read::<Weather>(ctx)
        .await
}

const DAY: &str = "2025-01-15";

const CSV_15: &str = "ts,station,temp_c,note\n\
2025-01-15T06:00:00Z,oslo,-3.5,\n\
2025-01-15T06:00:00Z,rome,9,sunny\n";

#[tokio::test]
async fn csv_file_is_read_into_the_declared_types_idempotently() -> phlo::Result<()> {
    let dir = tempfile::tempdir()?;
    let (rt, files) = setup("files_csv", dir.path()).await;
    write(&files, "csv/weather_2025-01-15.csv", CSV_15);
    let r = rt.materialize("files_weather", DAY).await?;
    assert_eq!(
        (r.status, r.rows_in, r.rows_inserted),
        (RunStatus::Success, 2, 2)
    );
    let expected = "+---------+----------------------+--------+-------+\n\
                    | station | ts                   | temp_c | note  |\n\
                    +---------+----------------------+--------+-------+\n\
                    | oslo    | 2025-01-15T06:00:00Z | -3.5   |       |\n\
                    | rome    | 2025-01-15T06:00:00Z | 9.0    | sunny |\n\
                    +---------+----------------------+--------+-------+";
    let sql = "SELECT station, ts, temp_c, note FROM files.weather ORDER BY station";
    assert_eq!(query(&rt, sql).await, expected);
    assert_eq!(
        query(
            &rt,
            "SELECT arrow_typeof(temp_c) AS t FROM files.weather LIMIT 1"
        )
        .await,
        "+---------+\n| t       |\n+---------+\n| Float64 |\n+---------+"
    );
    let v = version(&rt, "files.weather").await;
    let again = rt.materialize("files_weather", DAY).await?;
    assert_eq!(again.rows_inserted + again.rows_updated, 0);
    assert_eq!(version(&rt, "files.weather").await, v);
    assert_eq!(query(&rt, sql).await, expected);
    Ok(())
}

#[tokio::test]
async fn ndjson_file_is_read_into_the_declared_types() -> phlo::Result<()> {
    let dir = tempfile::tempdir()?;
    let (rt, files) = setup("files_ndjson", dir.path()).await;
    write(
        &files,
        "ndjson/2025-01-15.jsonl",
        "{\"station\":\"oslo\",\"ts\":\"2025-01-15T06:00:00Z\",\"temp_c\":-3.5}\n\
         {\"station\":\"rome\",\"ts\":\"2025-01-15T06:00:00Z\",\"temp_c\":9,\"note\":\"sunny\"}\n",
    );
    let r = rt.materialize("files_weather_ndjson", DAY).await?;
    assert_eq!((r.status, r.rows_inserted), (RunStatus::Success, 2));
    assert_eq!(
        query(
            &rt,
            "SELECT station, temp_c, note FROM files.weather_ndjson ORDER BY station"
        )
        .await,
        "+---------+--------+-------+\n\
         | station | temp_c | note  |\n\
         +---------+--------+-------+\n\
         | oslo    | -3.5   |       |\n\
         | rome    | 9.0    | sunny |\n\
         +---------+--------+-------+"
    );
    Ok(())
}

#[tokio::test]
async fn parquet_glob_reads_every_matching_file_of_the_day() -> phlo::Result<()> {
    let dir = tempfile::tempdir()?;
    let (rt, files) = setup("files_parquet", dir.path()).await;
    write_parquet(
        &files,
        "parquet/2025-01-15/a.parquet",
        &[("oslo", "2025-01-15T06:00:00Z", -3.5)],
    );
    write_parquet(
        &files,
        "parquet/2025-01-15/b.parquet",
        &[("rome", "2025-01-15T06:00:00Z", 9.0)],
    );
    write_parquet(
        &files,
        "parquet/2025-01-15/late/c.parquet",
        &[
            ("oslo", "2025-01-15T07:00:00Z", -2.0),
            ("bern", "2025-01-15T07:00:00Z", 1.0),
        ],
    );
    // Another day's file and a file of another extension are not matched.
    write_parquet(
        &files,
        "parquet/2025-01-16/a.parquet",
        &[("oslo", "2025-01-16T06:00:00Z", 0.0)],
    );
    write(&files, "parquet/2025-01-15/notes.txt", "not data");
    let r = rt.materialize("files_weather_parquet", DAY).await?;
    assert_eq!(
        (r.status, r.rows_in, r.rows_inserted),
        (RunStatus::Success, 4, 4)
    );
    assert_eq!(
        query(
            &rt,
            "SELECT station, ts, temp_c FROM files.weather_parquet ORDER BY ts, station"
        )
        .await,
        "+---------+----------------------+--------+\n\
         | station | ts                   | temp_c |\n\
         +---------+----------------------+--------+\n\
         | oslo    | 2025-01-15T06:00:00Z | -3.5   |\n\
         | rome    | 2025-01-15T06:00:00Z | 9.0    |\n\
         | bern    | 2025-01-15T07:00:00Z | 1.0    |\n\
         | oslo    | 2025-01-15T07:00:00Z | -2.0   |\n\
         +---------+----------------------+--------+"
    );
    Ok(())
}

#[tokio::test]
async fn templated_path_reads_each_days_own_file() -> phlo::Result<()> {
    let dir = tempfile::tempdir()?;
    let (rt, files) = setup("files_days", dir.path()).await;
    write(&files, "csv/weather_2025-01-15.csv", CSV_15);
    write(
        &files,
        "csv/weather_2025-01-16.csv",
        "station,ts,temp_c\noslo,2025-01-16T06:00:00Z,-1.0\n",
    );
    rt.materialize("files_weather", "2025-01-15").await?;
    let r = rt.materialize("files_weather", "2025-01-16").await?;
    assert_eq!(r.rows_inserted, 1);
    assert_eq!(
        query(&rt, "SELECT _phlo_partition_date AS day, station, temp_c FROM files.weather ORDER BY day, station").await,
        "+------------+---------+--------+\n\
         | day        | station | temp_c |\n\
         +------------+---------+--------+\n\
         | 2025-01-15 | oslo    | -3.5   |\n\
         | 2025-01-15 | rome    | 9.0    |\n\
         | 2025-01-16 | oslo    | -1.0   |\n\
         +------------+---------+--------+"
    );
    Ok(())
}

const BAD_CSV: &str = "station,ts,temp_c\n\
oslo,2025-01-15T06:00:00Z,-3.5\n\
rome,2025-01-15T06:00:00Z,warm\n";

#[tokio::test]
async fn a_value_that_does_not_cast_fails_its_row_and_strict_leaves_the_table() -> phlo::Result<()>
{
    let dir = tempfile::tempdir()?;
    let (rt, files) = setup("files_bad_strict", dir.path()).await;
    write(&files, "csv/weather_2025-01-15.csv", CSV_15);
    rt.materialize("files_weather", DAY).await?;
    let before = version(&rt, "files.weather").await;
    let sql = "SELECT station, temp_c FROM files.weather ORDER BY station";
    let rows = query(&rt, sql).await;
    write(&files, "csv/weather_2025-01-15.csv", BAD_CSV);
    let err = rt.materialize("files_weather", DAY).await;
    let report = err
        .as_ref()
        .err()
        .and_then(phlo::Error::validation_report)
        .unwrap_or_else(|| panic!("{err:?}"));
    assert_eq!(report.rows_failed, 1);
    assert_eq!(report.failures[0].check, "cast(temp_c, Utf8 -> Float64)");
    assert_eq!(report.failures[0].samples[0].row, 1);
    assert_eq!(version(&rt, "files.weather").await, before);
    assert_eq!(query(&rt, sql).await, rows);
    Ok(())
}

#[tokio::test]
async fn a_value_that_does_not_cast_is_quarantined_when_lenient() -> phlo::Result<()> {
    let dir = tempfile::tempdir()?;
    let (rt, files) = setup("files_bad_lenient", dir.path()).await;
    write(&files, "csv/weather_2025-01-15.csv", BAD_CSV);
    let r = rt.materialize("files_weather_lenient", DAY).await?;
    assert_eq!(
        (r.status, r.rows_in, r.rows_quarantined, r.rows_inserted),
        (RunStatus::Success, 2, 1, 1)
    );
    assert_eq!(
        query(&rt, "SELECT station FROM files.weather_lenient").await,
        "+---------+\n| station |\n+---------+\n| oslo    |\n+---------+"
    );
    assert_eq!(
        query(
            &rt,
            "SELECT station, _phlo_failed_checks AS failed FROM files.weather_lenient__quarantine"
        )
        .await,
        "+---------+---------------------------------+\n\
         | station | failed                          |\n\
         +---------+---------------------------------+\n\
         | rome    | [cast(temp_c, Utf8 -> Float64)] |\n\
         +---------+---------------------------------+"
    );
    Ok(())
}

#[tokio::test]
async fn a_missing_column_names_the_file_and_the_column() -> phlo::Result<()> {
    let dir = tempfile::tempdir()?;
    let (rt, files) = setup("files_missing", dir.path()).await;
    write(&files, "csv/weather_2025-01-15.csv", CSV_15);
    rt.materialize("files_weather", DAY).await?;
    let before = version(&rt, "files.weather").await;
    write(
        &files,
        "csv/weather_2025-01-15.csv",
        "station,ts\noslo,2025-01-15T06:00:00Z\n",
    );
    let err = rt.materialize("files_weather", DAY).await.unwrap_err();
    let path = files.join("csv/weather_2025-01-15.csv");
    assert!(
        matches!(file_error(&err), FileError::MissingColumn { file, column, .. } if *file == path && column == "temp_c"),
        "{err:?}"
    );
    assert!(
        err.to_string()
            .contains(&format!("`{}` has no column `temp_c`", path.display())),
        "{err}"
    );
    assert_eq!(version(&rt, "files.weather").await, before);
    Ok(())
}

#[tokio::test]
async fn no_file_matched_is_no_data_unless_required() -> phlo::Result<()> {
    let dir = tempfile::tempdir()?;
    let (rt, _files) = setup("files_none", dir.path()).await;
    let r = rt.materialize("files_weather", DAY).await?;
    assert_eq!((r.status, r.rows_in), (RunStatus::NoData, 0));
    assert_eq!(version(&rt, "files.weather").await, None);
    let err = rt
        .materialize("files_weather_required", DAY)
        .await
        .unwrap_err();
    assert!(
        matches!(file_error(&err), FileError::NoFiles { pattern } if pattern.ends_with("csv/weather_2025-01-15.csv")),
        "{err:?}"
    );
    Ok(())
}

#[tokio::test]
async fn columns_not_in_the_schema_follow_its_policy() -> phlo::Result<()> {
    let dir = tempfile::tempdir()?;
    let (rt, files) = setup("files_extra", dir.path()).await;
    write(
        &files,
        "csv/weather_2025-01-15.csv",
        "station,ts,temp_c,source\noslo,2025-01-15T06:00:00Z,-3.5,radio\n",
    );
    // `Weather` keeps the default `schema_policy = "strict"`: an extra column is an error.
    let err = rt.materialize("files_weather", DAY).await;
    assert!(
        matches!(&err, Err(phlo::Error::Ingest(phlo::crates::ingest::Error::ExtraColumns { columns, .. })) if columns == &["source".to_string()]),
        "{err:?}"
    );
    assert_eq!(version(&rt, "files.weather").await, None);
    Ok(())
}
