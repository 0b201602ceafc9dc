//! phlo's side of the side-by-side bench, and the Parquet-write floor: the same command
//! line and JSON protocol as the Python contenders in `bench/contenders/`.
//!
//! ```text
//! phlo-bench contender phlo  setup --input BASE_DIR --target WAREHOUSE
//! phlo-bench contender phlo  s1|s2 --input FILE     --target WAREHOUSE
//! phlo-bench contender phlo  s3    --input DIR
//! phlo-bench contender phlo  s4    --target WAREHOUSE --now RFC3339
//! phlo-bench contender phlo  s5    --input PARQUET    --project DIR --target WAREHOUSE
//! phlo-bench contender floor s1|s2 --input FILE     --target DIR
//! ```
//!
//! The last line on stdout is the JSON result; `seconds` covers opening the runtime,
//! reading the input and the write up to the commit (or the validation, or the checks; in
//! S5 the ingestion of the production table and the build of the graph).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use phlo::Runtime;
use phlo::arrow::array::{Array, AsArray, RecordBatch, UInt32Array};
use phlo::arrow::compute::{concat_batches, take_record_batch};
use phlo::arrow::datatypes::{DataType, TimestampMicrosecondType};
use phlo::chrono::NaiveDate;
use phlo::prelude::*;
use phlo::quality::{
    Check, CheckScope, CountCheck, CustomSqlCheck, FreshnessCheck, NullCheck, RangeCheck,
    SchemaCheck, ScopeWindow, UniqueCheck, run_checks,
};
use phlo::{ProjectFile, Registry, RunStatus, SequentialRunIds, Unpartitioned};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use crate::Event;
use crate::compare::workload::write_parquet;
use crate::scenario::BoxError;

/// The file the next materialization reads.
static INPUT: Mutex<Option<PathBuf>> = Mutex::new(None);

fn input() -> phlo::Result<PathBuf> {
    INPUT
        .lock()
        .map_err(|_| phlo::Error::msg("input path poisoned"))?
        .clone()
        .ok_or_else(|| phlo::Error::msg("no input file set"))
}

/// The compared pipeline, as a user writes it: read the day's Parquet file; phlo
/// validates, deduplicates (keep last by `ts`) and merges by `id`.
#[ingestion(table = "events", unique_key = "id", schema = Event, order_by = "ts", dedup = "last")]
fn cmp_events(_ctx: &PartitionContext) -> phlo::Result<Vec<RecordBatch>> {
    phlo::io::read_parquet(input()?)
}

/// Builds the base table day by day (setup, not measured): `replace_partition` skips
/// the merge's scan of the keys already in the table.
#[ingestion(table = "events", unique_key = "id", schema = Event, order_by = "ts",
            merge_strategy = "replace_partition")]
fn cmp_events_seed(_ctx: &PartitionContext) -> phlo::Result<Vec<RecordBatch>> {
    phlo::io::read_parquet(input()?)
}

/// One well's production on one day (S5's production table).
#[derive(Schema)]
pub struct S5Production {
    /// The well.
    pub well_code: String,
    /// Its field (`seeds.fields`).
    pub field_code: String,
    /// The day.
    pub production_date: NaiveDate,
    /// Hours on production.
    #[phlo(ge = 0.0, le = 24.0)]
    pub hours_on: f64,
    /// Oil, barrels.
    #[phlo(ge = 0.0)]
    pub oil_bbl: f64,
    /// Gas, thousand cubic feet.
    #[phlo(ge = 0.0)]
    pub gas_mcf: f64,
    /// Water, barrels.
    #[phlo(ge = 0.0)]
    pub water_bbl: f64,
    /// 0: the first report of the day.
    pub revision: i64,
}

/// S5's ingestion: the whole production table from its Parquet file, validated and
/// merged by (well, day) into `bronze.well_production`.
#[ingestion(table = "bronze.well_production", unique_key = ["well_code", "production_date"],
            schema = S5Production, group = "wells", partitioned = false)]
fn s5_well_production(_ctx: &PartitionContext) -> phlo::Result<Vec<RecordBatch>> {
    phlo::io::read_parquet(input()?)
}

/// Parsed command line of a contender.
struct Args {
    command: String,
    input: Option<PathBuf>,
    target: Option<PathBuf>,
    now: Option<String>,
    project: Option<PathBuf>,
}

fn parse(args: &[String]) -> Result<Args, BoxError> {
    let mut it = args.iter();
    let command = it.next().ok_or("contender: missing command")?.clone();
    let mut a = Args {
        command,
        input: None,
        target: None,
        now: None,
        project: None,
    };
    while let Some(flag) = it.next() {
        let value = it.next().ok_or_else(|| format!("{flag} needs a value"))?;
        match flag.as_str() {
            "--input" => a.input = Some(value.into()),
            "--target" => a.target = Some(value.into()),
            "--now" => a.now = Some(value.clone()),
            "--project" => a.project = Some(value.into()),
            other => return Err(format!("contender: unknown flag `{other}`").into()),
        }
    }
    Ok(a)
}

impl Args {
    fn input(&self) -> Result<&Path, BoxError> {
        self.input
            .as_deref()
            .ok_or_else(|| "--input is required".into())
    }
    fn target(&self) -> Result<&Path, BoxError> {
        self.target
            .as_deref()
            .ok_or_else(|| "--target is required".into())
    }
}

/// The day a load file holds, from its name (`2025-01-11.parquet`).
fn file_day(path: &Path) -> Result<NaiveDate, BoxError> {
    let stem = path
        .file_stem()
        .and_then(|s| s.to_str())
        .ok_or_else(|| format!("{}: no file name", path.display()))?;
    Ok(stem.parse()?)
}

/// `sha256` over the ids sorted by bytes, each followed by `\n` (as `common.py`).
pub fn keys_sha256(mut ids: Vec<&str>) -> String {
    ids.sort_unstable();
    let mut h = Sha256::new();
    for id in ids {
        h.update(id.as_bytes());
        h.update(b"\n");
    }
    h.finalize().iter().map(|b| format!("{b:02x}")).collect()
}

fn strings(batches: &[RecordBatch]) -> Result<Vec<&str>, BoxError> {
    let mut out = Vec::new();
    for b in batches {
        let c = b.column(0);
        match c.data_type() {
            DataType::Utf8 => out.extend(c.as_string::<i32>().iter().flatten()),
            DataType::LargeUtf8 => out.extend(c.as_string::<i64>().iter().flatten()),
            DataType::Utf8View => out.extend(c.as_string_view().iter().flatten()),
            other => return Err(format!("id is {other}, expected a string").into()),
        }
    }
    Ok(out)
}

/// Rows and key fingerprint of the warehouse's `bronze.events`.
async fn table_keys(rt: &Runtime) -> Result<(u64, String), BoxError> {
    let batches = rt.sql("SELECT id FROM bronze.events").await?;
    let ids = strings(&batches)?;
    Ok((ids.len() as u64, keys_sha256(ids)))
}

async fn runtime(warehouse: &Path) -> Result<Runtime, BoxError> {
    Ok(Runtime::builder(warehouse)
        .run_ids(Arc::new(SequentialRunIds::new("bench")))
        .build()
        .await?)
}

async fn setup(args: &Args) -> Result<Value, BoxError> {
    let rt = runtime(args.target()?).await?;
    let mut files: Vec<PathBuf> = std::fs::read_dir(args.input()?)?
        .map(|e| e.map(|e| e.path()))
        .collect::<Result<_, _>>()?;
    files.sort();
    let t = Instant::now();
    for f in files {
        *INPUT.lock().map_err(|_| "poisoned")? = Some(f.clone());
        let report = rt.materialize("cmp_events_seed", file_day(&f)?).await?;
        if report.status != RunStatus::Success {
            return Err(format!("setup {}: {:?}", f.display(), report.error).into());
        }
    }
    let seconds = t.elapsed().as_secs_f64();
    let (rows, _) = table_keys(&rt).await?;
    Ok(json!({"seconds": seconds, "rows_out": rows}))
}

async fn load(args: &Args) -> Result<Value, BoxError> {
    let file = args.input()?.to_path_buf();
    let day = file_day(&file)?;
    *INPUT.lock().map_err(|_| "poisoned")? = Some(file);
    let t = Instant::now();
    let rt = runtime(args.target()?).await?;
    let report = rt.materialize("cmp_events", day).await?;
    let seconds = t.elapsed().as_secs_f64();
    if report.status != RunStatus::Success {
        return Err(format!(
            "the load was rejected ({}): {}",
            report.status,
            report.error.as_deref().unwrap_or("")
        )
        .into());
    }
    let (rows_out, keys) = table_keys(&rt).await?;
    Ok(json!({
        "seconds": seconds,
        "rows_in": report.rows_in,
        "invalid": report.rows_invalid,
        "rows_out": rows_out,
        "keys_sha256": keys,
        "inserted": report.rows_inserted,
        "updated": report.rows_updated,
        "duplicates_dropped": report.duplicates_dropped,
        "timings_ms": report.timings,
    }))
}

async fn validate_only(args: &Args) -> Result<Value, BoxError> {
    let t = Instant::now();
    let batches = phlo::io::read_parquet(args.input()?)?;
    let read_s = t.elapsed().as_secs_f64();
    let report = phlo::validate::<Event>(&batches)?;
    let seconds = t.elapsed().as_secs_f64();
    let mut failures: BTreeMap<&str, u64> = [
        ("not_null(id)", 0),
        ("not_null(ts)", 0),
        ("range(value)", 0),
        ("isin(category)", 0),
    ]
    .into_iter()
    .collect();
    for f in &report.failures {
        let name = match (f.column.as_str(), f.check.split('(').next()) {
            (_, Some("not_null")) if f.column == "id" => "not_null(id)",
            (_, Some("not_null")) if f.column == "ts" => "not_null(ts)",
            ("value", Some("ge" | "le")) => "range(value)",
            ("category", Some("isin")) => "isin(category)",
            _ => return Err(format!("unexpected failing check {}", f.check).into()),
        };
        *failures.entry(name).or_default() += f.failing_rows;
    }
    let report_rows: usize = report.failures.iter().map(|f| f.samples.len()).sum();
    Ok(json!({
        "seconds": seconds,
        "rows_in": report.rows_checked,
        "invalid": report.rows_failed,
        "failures": failures,
        "report_rows": report_rows,
        "read_s": read_s,
    }))
}

fn seven() -> Vec<(&'static str, Box<dyn Check>)> {
    vec![
        ("null", Box::new(NullCheck::new(["id", "ts"]))),
        (
            "range",
            Box::new(
                RangeCheck::new("value")
                    .min(0.0)
                    .max(100.0)
                    .allow_threshold(0.01),
            ),
        ),
        ("unique", Box::new(UniqueCheck::new(["id"]))),
        ("count", Box::new(CountCheck::new().min_rows(1))),
        (
            "freshness",
            Box::new(FreshnessCheck::new("ts").max_age_hours(24)),
        ),
        ("schema", Box::new(SchemaCheck::of::<Event>())),
        (
            "custom_sql",
            Box::new(
                CustomSqlCheck::new(
                    "no_negative",
                    "SELECT count(*) FROM bronze.events WHERE value < 0",
                )
                .expect(0),
            ),
        ),
    ]
}

async fn checks(args: &Args) -> Result<Value, BoxError> {
    let now: DateTime<Utc> = args.now.as_deref().ok_or("--now is required")?.parse()?;
    let (names, checks): (Vec<&str>, Vec<Box<dyn Check>>) = seven().into_iter().unzip();
    let t = Instant::now();
    let rt = Runtime::open(args.target()?).await?;
    let scope = CheckScope::new(
        rt.session().await?,
        "bronze.events",
        ScopeWindow::Full,
        "_phlo_partition_date",
        now,
        vec!["id".into()],
    );
    let report = run_checks(&checks, &scope).await?;
    let seconds = t.elapsed().as_secs_f64();
    let mut passed = BTreeMap::new();
    let mut rows = 0;
    for (name, r) in names.iter().zip(&report.results) {
        if r.message
            .as_deref()
            .is_some_and(|m| m.contains("does not exist") || m.contains("failed:"))
        {
            return Err(format!("check {} could not run: {:?}", r.name, r.message).into());
        }
        if *name == "null" {
            rows = r.total_count;
        }
        passed.insert(*name, r.passed);
    }
    Ok(json!({"seconds": seconds, "rows": rows, "checks": passed}))
}

/// The `.sql` (under `models/`) or `.csv` (under `seeds/`) files of `dir`, leaked as a
/// project's files, paths relative to that directory.
fn project_files(dir: &Path, ext: &str) -> Result<&'static [ProjectFile], BoxError> {
    fn walk(
        root: &Path,
        dir: &Path,
        ext: &str,
        out: &mut Vec<ProjectFile>,
    ) -> Result<(), BoxError> {
        let mut entries: Vec<PathBuf> = std::fs::read_dir(dir)?
            .map(|e| e.map(|e| e.path()))
            .collect::<Result<_, _>>()?;
        entries.sort();
        for p in entries {
            if p.is_dir() {
                walk(root, &p, ext, out)?;
            } else if p.extension().is_some_and(|e| e == ext) {
                let rel = p.strip_prefix(root)?.to_string_lossy().replace('\\', "/");
                out.push(ProjectFile {
                    path: Box::leak(rel.into_boxed_str()),
                    text: Box::leak(std::fs::read_to_string(&p)?.into_boxed_str()),
                });
            }
        }
        Ok(())
    }
    let mut out = Vec::new();
    walk(dir, dir, ext, &mut out)?;
    Ok(Box::leak(out.into_boxed_slice()))
}

/// The first column of the first row of `sql`, as i64.
async fn scalar(rt: &Runtime, sql: &str) -> Result<i64, BoxError> {
    let batches = rt.sql(sql).await?;
    let batch = batches
        .iter()
        .find(|b| b.num_rows() > 0)
        .ok_or_else(|| format!("no rows: {sql}"))?;
    let col = phlo::arrow::compute::cast(batch.column(0), &DataType::Int64)?;
    Ok(col
        .as_primitive::<phlo::arrow::datatypes::Int64Type>()
        .value(0))
}

/// What S5's contenders must agree on: rows per model and three rounded sums, from the
/// built tables (`table(ns, name)` names one), as `bench/contenders/dbt_duckdb.py` does.
pub async fn s5_summary(rt: &Runtime) -> Result<Value, BoxError> {
    let mut tables = serde_json::Map::new();
    for (ns, name) in crate::compare::wells::MODELS {
        let n = scalar(rt, &format!("SELECT count(*) FROM {ns}.{name}")).await?;
        tables.insert(name.to_string(), json!(n));
    }
    let revenue = scalar(
        rt,
        "SELECT CAST(ROUND(SUM(revenue_usd)) AS BIGINT) FROM marts.mart_revenue",
    )
    .await?;
    let local = scalar(
        rt,
        "SELECT CAST(ROUND(SUM(revenue_local)) AS BIGINT) FROM marts.mart_revenue",
    )
    .await?;
    let ma = scalar(
        rt,
        "SELECT CAST(ROUND(SUM(oil_ma_30d)) AS BIGINT) FROM intermediate.int_moving_averages",
    )
    .await?;
    Ok(json!({
        "tables": tables,
        "revenue_usd": revenue,
        "revenue_local": local,
        "oil_ma_30d": ma,
    }))
}

/// S5: the production table ingested from its Parquet file, then `build` of the graph
/// (the seeds and the models) into an empty warehouse.
async fn wells(args: &Args) -> Result<Value, BoxError> {
    let dir = args.project.as_deref().ok_or("--project is required")?;
    *INPUT.lock().map_err(|_| "poisoned")? = Some(args.input()?.to_path_buf());
    let t = Instant::now();
    let project = phlo::Project {
        models: project_files(&dir.join("models"), "sql")?,
        seeds: project_files(&dir.join("seeds"), "csv")?,
        tests: &[],
    };
    let ingestion = Registry::global()?.get("s5_well_production")?.descriptor;
    let rt = Runtime::builder(args.target()?)
        .registry(Registry::from_descriptors([ingestion])?)
        .project(project)
        .run_ids(Arc::new(SequentialRunIds::new("bench")))
        .build()
        .await?;
    let ingest = rt.materialize("s5_well_production", Unpartitioned).await?;
    if ingest.status != RunStatus::Success {
        return Err(format!("the ingestion ended {}: {:?}", ingest.status, ingest.error).into());
    }
    let ingest_s = t.elapsed().as_secs_f64();
    let report = rt.build_selection("kind:sql kind:seed", None, None).await?;
    let seconds = t.elapsed().as_secs_f64();
    if !report.succeeded() {
        let failed: Vec<String> = report
            .assets
            .iter()
            .filter(|a| !matches!(a.status, phlo::BuildStatus::Success))
            .map(|a| format!("{}: {:?}", a.asset, a.status))
            .collect();
        return Err(format!("the build failed: {}", failed.join("; ")).into());
    }
    let mut result = s5_summary(&rt).await?;
    let steps: serde_json::Map<String, Value> = report
        .assets
        .iter()
        .map(|a| {
            let ms: f64 = a.runs.iter().map(|r| r.timings.total_ms).sum();
            (a.asset.clone(), json!(ms))
        })
        .collect();
    if let Some(m) = result.as_object_mut() {
        m.insert("seconds".into(), json!(seconds));
        m.insert("ingest_s".into(), json!(ingest_s));
        m.insert("build_s".into(), json!(seconds - ingest_s));
        m.insert("rows_in".into(), json!(ingest.rows_in));
        m.insert("assets_total_ms".into(), Value::Object(steps));
    }
    Ok(result)
}

/// Keeps the last row by `ts` of each `id` (no validation: the floor's input is valid).
fn dedup_last(batch: &RecordBatch) -> Result<RecordBatch, BoxError> {
    let ids = strings(std::slice::from_ref(batch))?;
    let ts = batch
        .column_by_name("ts")
        .ok_or("no ts column")?
        .as_primitive_opt::<TimestampMicrosecondType>()
        .ok_or("ts is not a microsecond timestamp")?;
    if ids.len() != batch.num_rows() || ts.null_count() > 0 {
        return Err("the floor needs valid input (no null id or ts)".into());
    }
    let mut best: std::collections::HashMap<&str, u32> =
        std::collections::HashMap::with_capacity(ids.len());
    for (i, id) in ids.iter().enumerate() {
        let row = i as u32;
        best.entry(id)
            .and_modify(|b| {
                if ts.value(i) > ts.value(*b as usize) {
                    *b = row;
                }
            })
            .or_insert(row);
    }
    let mut rows: Vec<u32> = best.into_values().collect();
    rows.sort_unstable();
    Ok(take_record_batch(batch, &UInt32Array::from(rows))?)
}

/// The physical floor: arrow-rs writing the load's deduplicated rows as one Parquet file
/// (snappy). Reading and deduplicating are not timed.
fn floor(args: &Args) -> Result<Value, BoxError> {
    let batches = phlo::io::read_parquet(args.input()?)?;
    let first = batches.first().ok_or("empty input")?;
    let rows_in: usize = batches.iter().map(|b| b.num_rows()).sum();
    let batch = concat_batches(&first.schema(), &batches)?;
    drop(batches);
    let out = dedup_last(&batch)?;
    drop(batch);
    let dir = args.target()?;
    std::fs::create_dir_all(dir)?;
    let t = Instant::now();
    write_parquet(&dir.join("part-0.parquet"), std::slice::from_ref(&out))?;
    let seconds = t.elapsed().as_secs_f64();
    let ids = strings(std::slice::from_ref(&out))?;
    Ok(json!({
        "seconds": seconds,
        "rows_in": rows_in,
        "rows_out": out.num_rows(),
        "keys_sha256": keys_sha256(ids),
    }))
}

/// `phlo-bench contender phlo|floor COMMAND …`: runs one contender step and prints its
/// JSON result.
pub async fn main(args: &[String]) -> Result<(), BoxError> {
    let (who, rest) = args.split_first().ok_or("contender: phlo or floor?")?;
    let a = parse(rest)?;
    let result = match (who.as_str(), a.command.as_str()) {
        ("phlo", "setup") => setup(&a).await?,
        ("phlo", "s1" | "s2") => load(&a).await?,
        ("phlo", "s3") => validate_only(&a).await?,
        ("phlo", "s4") => checks(&a).await?,
        ("phlo", "s5") => wells(&a).await?,
        ("floor", "s1" | "s2") => floor(&a)?,
        (w, c) => {
            eprintln!("contender {w} does not run `{c}`");
            std::process::exit(2);
        }
    };
    println!("{result}");
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_fingerprint_matches_the_python_definition() {
        // sha256(b"a\nb\n"), as bench/contenders/common.py computes it: order-independent.
        let want = "911169ddaaf146aff539f58c26c489af3b892dff0fe283c1c264c65ae5aa59a2";
        assert_eq!(keys_sha256(vec!["b", "a"]), want);
        assert_eq!(keys_sha256(vec!["a", "b"]), want);
    }

    #[test]
    fn load_files_are_named_by_their_day() {
        assert_eq!(
            file_day(Path::new("/w/s1/2025-01-11.parquet")).ok(),
            NaiveDate::from_ymd_opt(2025, 1, 11)
        );
        assert!(file_day(Path::new("/w/s1/input.parquet")).is_err());
    }
}
