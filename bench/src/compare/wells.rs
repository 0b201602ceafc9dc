//! Scenario S5's input: a daily well production table as Parquet (wells × days, generated
//! once per size, a manifest next to it says which), the seeds, and the same models as a
//! phlo project and as a dbt project (dbt-duckdb), mirroring `examples/wells/models/`:
//!
//! ```text
//! WORK/manifest.json
//! WORK/well_production.parquet     ROWS rows: one per well and day, every well every day
//! WORK/phlo/models/…, seeds/…       read by `phlo-bench contender phlo s5 --project WORK/phlo`
//! WORK/dbt/dbt_project.yml, profiles.yml, models/…, seeds/…   (dbt build --project-dir)
//! ```
//!
//! The models (all `table`): `stg_well_production` (+ field names and currency from the
//! `fields` seed, water cut), `int_production_cumsum` (cumulative volumes per well, window
//! functions), `int_moving_averages` (30-calendar-day moving averages), the monthly and
//! yearly marts and `mart_revenue` (monthly volumes at the month's prices, converted at the
//! month's rate: the `prices` and `currency_rates` seeds). The SQL is the same text for both
//! tools (the dialects agree on all of it); only the production table's relation differs:
//! phlo `ref`s its ingestion of the Parquet file, dbt reads it as a `source` whose
//! `external_location` is `read_parquet('…')`.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use phlo::arrow::array::{ArrayRef, Date32Array, Float64Array, Int64Array, StringArray};
use phlo::arrow::datatypes::{DataType, Field, Schema as ArrowSchema};
use phlo::arrow::record_batch::RecordBatch;
use phlo::chrono::{Datelike, Days, NaiveDate};
use phlo::datafusion::parquet::arrow::ArrowWriter;
use phlo::datafusion::parquet::basic::Compression;
use phlo::datafusion::parquet::file::properties::WriterProperties;
use serde::{Deserialize, Serialize};

use super::workload::ROW_GROUP_ROWS;
use crate::scenario::BoxError;

/// Rows of the full-size production table.
pub const FULL_ROWS: u64 = 10_000_000;
/// Days of the full-size table (ten years from [`first_day`]).
pub const FULL_DAYS: u64 = 3_650;
/// Bumped when the generated files change.
const FORMAT: u32 = 1;
/// The fields: code, name, country, currency, the currency's rate to USD in 2015.
const FIELDS: [(&str, &str, &str, &str, f64); 4] = [
    ("AB", "Alberta Basin", "CA", "CAD", 1.25),
    ("NS", "North Sea Alpha", "NO", "NOK", 8.10),
    ("PB", "Permian Block", "US", "USD", 1.0),
    ("CS", "Celtic Shelf", "GB", "GBP", 0.66),
];
/// The model the phlo ingestion of the Parquet file is (`ref`ed by the staging model).
pub const PHLO_PRODUCTION: &str = "{{ ref('s5_well_production') }}";
/// dbt's relation for the Parquet file.
pub const DBT_PRODUCTION: &str = "{{ source('raw', 'well_production') }}";

/// The tables both tools build, by model name (phlo's namespace is the first directory).
pub const MODELS: [(&str, &str); 6] = [
    ("staging", "stg_well_production"),
    ("intermediate", "int_production_cumsum"),
    ("intermediate", "int_moving_averages"),
    ("marts", "mart_production_monthly"),
    ("marts", "mart_production_yearly"),
    ("marts", "mart_revenue"),
];

/// Where the generated files are.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Wells {
    /// Rows asked for (the table has `wells × days`, at least that many).
    pub rows_asked: u64,
    /// Rows in the table.
    pub rows: u64,
    /// Wells.
    pub wells: u64,
    /// Days per well.
    pub days: u64,
    /// The production table.
    pub production: PathBuf,
    /// The phlo project's directory (`models/`, `seeds/`).
    pub phlo: PathBuf,
    /// The dbt project's directory.
    pub dbt: PathBuf,
    /// The generator's format.
    pub format: u32,
    /// dbt's `threads`.
    pub threads: usize,
}

/// The first production day.
pub fn first_day() -> NaiveDate {
    NaiveDate::from_ymd_opt(2015, 1, 1).unwrap_or_default()
}

/// Wells and days for about `rows` rows: ten years of days (fewer for small sizes, at
/// least 31, so every well has a month), and as many wells as it takes.
pub fn shape(rows: u64) -> (u64, u64) {
    let days = FULL_DAYS.min((rows / 10).max(31));
    (rows.div_ceil(days).max(1), days)
}

/// A deterministic value in [0, 1) from `(a, b, salt)` (splitmix64).
fn unit(a: u64, b: u64, salt: u64) -> f64 {
    let mut z = a
        .wrapping_mul(0x9E37_79B9_7F4A_7C15)
        .wrapping_add(b.wrapping_mul(0xBF58_476D_1CE4_E5B9))
        .wrapping_add(salt);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^= z >> 31;
    (z >> 11) as f64 / (1u64 << 53) as f64
}

fn round1(x: f64) -> f64 {
    (x * 10.0).round() / 10.0
}

/// Rows of wells `wells` over `days` days, one batch.
fn batch(wells: std::ops::Range<u64>, days: u64) -> Result<RecordBatch, BoxError> {
    let first = first_day();
    let n = usize::try_from((wells.end - wells.start) * days)?;
    let (mut code, mut field) = (Vec::with_capacity(n), Vec::with_capacity(n));
    let (mut date, mut hours) = (Vec::with_capacity(n), Vec::with_capacity(n));
    let (mut oil, mut gas, mut water) = (
        Vec::with_capacity(n),
        Vec::with_capacity(n),
        Vec::with_capacity(n),
    );
    let epoch = NaiveDate::from_ymd_opt(1970, 1, 1).ok_or("bad epoch")?;
    let first32 = i32::try_from((first - epoch).num_days())?;
    for w in wells {
        let name = format!("W-{w:05}");
        let f = FIELDS[usize::try_from(w)? % FIELDS.len()].0;
        let qi = 200.0 + 800.0 * unit(w, 0, 1);
        let decline = 0.0002 + 0.001 * unit(w, 0, 2);
        let gor = 0.5 + 2.0 * unit(w, 0, 3);
        for d in 0..days {
            let shut_in = unit(w, d, 4) < 0.02;
            let h = if shut_in {
                0.0
            } else {
                round1(18.0 + 6.0 * unit(w, d, 5))
            };
            let rate = qi * (-decline * d as f64).exp() * (0.9 + 0.2 * unit(w, d, 6));
            let o = if shut_in {
                0.0
            } else {
                round1(rate * h / 24.0)
            };
            code.push(name.clone());
            field.push(f);
            date.push(first32 + i32::try_from(d)?);
            hours.push(h);
            oil.push(o);
            gas.push(round1(o * gor));
            water.push(if shut_in {
                0.0
            } else {
                round1(o * (0.1 + d as f64 / days as f64) * (0.8 + 0.4 * unit(w, d, 7)))
            });
        }
    }
    let revision = vec![0i64; code.len()];
    let columns: Vec<ArrayRef> = vec![
        Arc::new(StringArray::from(code)),
        Arc::new(StringArray::from(field)),
        Arc::new(Date32Array::from(date)),
        Arc::new(Float64Array::from(hours)),
        Arc::new(Float64Array::from(oil)),
        Arc::new(Float64Array::from(gas)),
        Arc::new(Float64Array::from(water)),
        Arc::new(Int64Array::from(revision)),
    ];
    Ok(RecordBatch::try_new(schema(), columns)?)
}

fn schema() -> Arc<ArrowSchema> {
    let f = |name: &str, t: DataType| Field::new(name, t, false);
    Arc::new(ArrowSchema::new(vec![
        f("well_code", DataType::Utf8),
        f("field_code", DataType::Utf8),
        f("production_date", DataType::Date32),
        f("hours_on", DataType::Float64),
        f("oil_bbl", DataType::Float64),
        f("gas_mcf", DataType::Float64),
        f("water_bbl", DataType::Float64),
        f("revision", DataType::Int64),
    ]))
}

/// Writes the production table, a batch of whole wells at a time.
fn write_production(path: &Path, wells: u64, days: u64) -> Result<u64, BoxError> {
    let props = WriterProperties::builder()
        .set_compression(Compression::SNAPPY)
        .set_max_row_group_row_count(Some(ROW_GROUP_ROWS))
        .build();
    let mut writer = ArrowWriter::try_new(std::fs::File::create(path)?, schema(), Some(props))?;
    let per_batch = (ROW_GROUP_ROWS as u64 / days).max(1);
    let mut rows = 0;
    let mut w = 0;
    while w < wells {
        let b = batch(w..(w + per_batch).min(wells), days)?;
        rows += b.num_rows() as u64;
        writer.write(&b)?;
        w += per_batch;
    }
    writer.close()?;
    Ok(rows)
}

/// The first day of each month from `first` through `last`.
fn months(first: NaiveDate, last: NaiveDate) -> Vec<NaiveDate> {
    let mut out = Vec::new();
    let mut m = first.with_day(1).unwrap_or(first);
    while m <= last {
        out.push(m);
        m = m
            .checked_add_months(phlo::chrono::Months::new(1))
            .unwrap_or(last + Days::new(1));
        if out.len() > 10_000 {
            break;
        }
    }
    out
}

/// The three seeds, as `(file name, text)`.
fn seeds(last_day: NaiveDate) -> Vec<(&'static str, String)> {
    let ms = months(first_day(), last_day);
    let mut fields = String::from("field_code,field_name,country,currency\n");
    for (code, name, country, currency, _) in FIELDS {
        fields.push_str(&format!("{code},{name},{country},{currency}\n"));
    }
    let mut prices = String::from("price_month,oil_usd_per_bbl,gas_usd_per_mcf\n");
    let mut rates = String::from("rate_month,currency,usd_to_local\n");
    for (i, m) in ms.iter().enumerate() {
        let i = i as u64;
        prices.push_str(&format!(
            "{m},{:.2},{:.2}\n",
            45.0 + 50.0 * unit(i, 0, 11),
            2.0 + 3.0 * unit(i, 0, 12)
        ));
        for (_, _, _, currency, base) in FIELDS {
            let rate = if currency == "USD" {
                1.0
            } else {
                base * (0.9 + 0.2 * unit(i, base.to_bits(), 13))
            };
            rates.push_str(&format!("{m},{currency},{rate:.4}\n"));
        }
    }
    vec![
        ("fields.csv", fields),
        ("prices.csv", prices),
        ("currency_rates.csv", rates),
    ]
}

/// The models, as `(path under models/, SQL)`, reading the production table as
/// `production` (see [`PHLO_PRODUCTION`], [`DBT_PRODUCTION`]); `header` is put first in
/// each file (phlo's `-- phlo:` line, nothing for dbt).
pub fn models(production: &str, header: &str) -> Vec<(String, String)> {
    let stg = format!(
        "{header}-- Every reported day of every well, with its field and water cut.
SELECT
    p.well_code,
    p.field_code,
    f.field_name,
    f.currency,
    p.production_date,
    p.hours_on,
    p.oil_bbl,
    p.gas_mcf,
    p.water_bbl,
    CASE WHEN p.oil_bbl + p.water_bbl > 0
         THEN p.water_bbl / (p.oil_bbl + p.water_bbl) END AS water_cut,
    p.revision
FROM {production} p
LEFT JOIN {{{{ ref('fields') }}}} f ON f.field_code = p.field_code
"
    );
    let cumsum = format!(
        "{header}-- Cumulative volumes per well, in day order.
SELECT
    well_code,
    field_code,
    currency,
    production_date,
    hours_on,
    oil_bbl,
    gas_mcf,
    water_bbl,
    water_cut,
    revision,
    CAST(ROW_NUMBER() OVER w AS BIGINT) AS days_on,
    SUM(oil_bbl) OVER w AS cum_oil_bbl,
    SUM(gas_mcf) OVER w AS cum_gas_mcf,
    SUM(water_bbl) OVER w AS cum_water_bbl
FROM {{{{ ref('stg_well_production') }}}}
WINDOW w AS (PARTITION BY well_code ORDER BY production_date
             ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW)
"
    );
    let moving = format!(
        "{header}-- 30-day moving averages per well over the calendar days [day - 29, day].
SELECT
    well_code,
    field_code,
    currency,
    production_date,
    oil_bbl,
    gas_mcf,
    water_bbl,
    cum_oil_bbl,
    cum_gas_mcf,
    cum_water_bbl,
    COUNT(*) OVER w AS days_in_window,
    AVG(oil_bbl) OVER w AS oil_ma_30d,
    AVG(gas_mcf) OVER w AS gas_ma_30d,
    AVG(water_bbl) OVER w AS water_ma_30d
FROM {{{{ ref('int_production_cumsum') }}}}
WINDOW w AS (PARTITION BY well_code ORDER BY production_date
             RANGE BETWEEN INTERVAL '29' DAY PRECEDING AND CURRENT ROW)
"
    );
    let monthly = format!(
        "{header}-- Volumes per well and calendar month.
SELECT
    well_code,
    field_code,
    currency,
    CAST(date_trunc('month', production_date) AS DATE) AS production_month,
    COUNT(*) AS days_reported,
    ROUND(SUM(oil_bbl), 1) AS oil_bbl,
    ROUND(SUM(gas_mcf), 1) AS gas_mcf,
    ROUND(SUM(water_bbl), 1) AS water_bbl,
    ROUND(MAX(cum_oil_bbl), 1) AS cum_oil_bbl,
    ROUND(AVG(oil_ma_30d), 1) AS avg_oil_ma_30d
FROM {{{{ ref('int_moving_averages') }}}}
GROUP BY well_code, field_code, currency, CAST(date_trunc('month', production_date) AS DATE)
"
    );
    let yearly = format!(
        "{header}-- Volumes per well and calendar year, from the monthly mart.
SELECT
    well_code,
    field_code,
    CAST(date_part('year', production_month) AS BIGINT) AS production_year,
    COUNT(*) AS months_reported,
    SUM(days_reported) AS days_reported,
    ROUND(SUM(oil_bbl), 1) AS oil_bbl,
    ROUND(SUM(gas_mcf), 1) AS gas_mcf,
    ROUND(SUM(water_bbl), 1) AS water_bbl
FROM {{{{ ref('mart_production_monthly') }}}}
GROUP BY well_code, field_code, CAST(date_part('year', production_month) AS BIGINT)
"
    );
    let revenue = format!(
        "{header}-- Revenue per well and month at the month's prices (USD) and rate.
SELECT
    m.well_code,
    m.field_code,
    m.production_month,
    m.oil_bbl,
    m.gas_mcf,
    p.oil_usd_per_bbl,
    p.gas_usd_per_mcf,
    ROUND(m.oil_bbl * p.oil_usd_per_bbl + m.gas_mcf * p.gas_usd_per_mcf, 2) AS revenue_usd,
    m.currency,
    r.usd_to_local,
    ROUND((m.oil_bbl * p.oil_usd_per_bbl + m.gas_mcf * p.gas_usd_per_mcf) * r.usd_to_local, 2)
        AS revenue_local
FROM {{{{ ref('mart_production_monthly') }}}} m
LEFT JOIN {{{{ ref('prices') }}}} p ON p.price_month = m.production_month
LEFT JOIN {{{{ ref('currency_rates') }}}} r
    ON r.rate_month = m.production_month AND r.currency = m.currency
"
    );
    let texts = [stg, cumsum, moving, monthly, yearly, revenue];
    MODELS
        .iter()
        .zip(texts)
        .map(|((dir, name), text)| (format!("{dir}/{name}.sql"), text))
        .collect()
}

fn write_files(dir: &Path, files: &[(String, String)]) -> Result<(), BoxError> {
    for (path, text) in files {
        let p = dir.join(path);
        if let Some(parent) = p.parent() {
            std::fs::create_dir_all(parent)?;
        }
        std::fs::write(p, text)?;
    }
    Ok(())
}

/// The dbt project's own files: `dbt_project.yml`, `profiles.yml` (a duckdb target whose
/// database file is `$PHLO_S5_DUCKDB`), and the source over the Parquet file.
fn dbt_files(production: &Path, threads: usize) -> Vec<(String, String)> {
    let project = "name: wells_bench
version: '1.0'
config-version: 2
profile: wells_bench
model-paths: [\"models\"]
seed-paths: [\"seeds\"]
models:
  wells_bench:
    +materialized: table
"
    .to_string();
    let profiles = format!(
        "wells_bench:
  target: bench
  outputs:
    bench:
      type: duckdb
      path: \"{{{{ env_var('PHLO_S5_DUCKDB') }}}}\"
      threads: {threads}
"
    );
    let sources = format!(
        "version: 2
sources:
  - name: raw
    tables:
      - name: well_production
        meta:
          external_location: \"read_parquet('{}')\"
",
        production.display()
    );
    vec![
        ("dbt_project.yml".into(), project),
        ("profiles.yml".into(), profiles),
        ("models/sources.yml".into(), sources),
    ]
}

/// The S5 input for about `rows` rows under `dir`, generated unless its manifest says it
/// already is.
pub fn ensure(dir: &Path, rows: u64) -> Result<Wells, BoxError> {
    let manifest = dir.join("manifest.json");
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    if let Ok(text) = std::fs::read_to_string(&manifest)
        && let Ok(w) = serde_json::from_str::<Wells>(&text)
        && w.rows_asked == rows
        && w.format == FORMAT
        && w.threads == threads
    {
        return Ok(w);
    }
    if dir.exists() {
        std::fs::remove_dir_all(dir)?;
    }
    std::fs::create_dir_all(dir)?;
    let started = std::time::Instant::now();
    let (wells, days) = shape(rows);
    let production = std::path::absolute(dir.join("well_production.parquet"))?;
    let written = write_production(&production, wells, days)?;
    let last_day = first_day() + Days::new(days - 1);
    let seed_files: Vec<(String, String)> = seeds(last_day)
        .into_iter()
        .map(|(name, text)| (format!("seeds/{name}"), text))
        .collect();
    let phlo_dir = dir.join("phlo");
    let phlo_models: Vec<(String, String)> = models(
        PHLO_PRODUCTION,
        "-- phlo: materialized = \"table\", group = \"wells\"\n",
    )
    .into_iter()
    .map(|(p, t)| (format!("models/{p}"), t))
    .collect();
    write_files(&phlo_dir, &phlo_models)?;
    write_files(&phlo_dir, &seed_files)?;
    let dbt_dir = dir.join("dbt");
    let dbt_models: Vec<(String, String)> = models(DBT_PRODUCTION, "")
        .into_iter()
        .map(|(p, t)| (format!("models/{p}"), t))
        .collect();
    write_files(&dbt_dir, &dbt_models)?;
    write_files(&dbt_dir, &seed_files)?;
    write_files(&dbt_dir, &dbt_files(&production, threads))?;
    let w = Wells {
        rows_asked: rows,
        rows: written,
        wells,
        days,
        production,
        phlo: std::path::absolute(phlo_dir)?,
        dbt: std::path::absolute(dbt_dir)?,
        format: FORMAT,
        threads,
    };
    std::fs::write(&manifest, serde_json::to_string_pretty(&w)?)?;
    eprintln!(
        "phlo-bench: generated the well production input ({written} rows, {wells} wells × \
         {days} days) in {} ({:.1} s)",
        dir.display(),
        started.elapsed().as_secs_f64()
    );
    Ok(w)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_shape_covers_the_rows() {
        assert_eq!(shape(FULL_ROWS), (2_740, FULL_DAYS));
        let (w, d) = shape(5_000);
        assert!(w * d >= 5_000 && d >= 31);
        assert_eq!(shape(1), (1, 31));
    }

    #[test]
    fn seeds_price_every_month_of_the_table() {
        let last = first_day() + Days::new(FULL_DAYS - 1);
        let s = seeds(last);
        let prices = &s[1].1;
        assert_eq!(prices.lines().count(), 1 + 120);
        assert!(prices.contains("\n2024-12-01,"));
        // Four currencies a month.
        assert_eq!(s[2].1.lines().count(), 1 + 4 * 120);
    }

    #[test]
    fn the_two_projects_differ_only_in_the_production_relation_and_header() {
        let phlo = models(PHLO_PRODUCTION, "-- phlo: materialized = \"table\"\n");
        let dbt = models(DBT_PRODUCTION, "");
        for ((pp, pt), (dp, dt)) in phlo.iter().zip(&dbt) {
            assert_eq!(pp, dp);
            let pt = pt
                .trim_start_matches("-- phlo: materialized = \"table\"\n")
                .replace(PHLO_PRODUCTION, DBT_PRODUCTION);
            assert_eq!(&pt, dt);
        }
        assert!(phlo[0].1.contains("ref('s5_well_production')"));
    }

    #[test]
    fn a_batch_holds_every_day_of_its_wells() {
        let b = batch(0..3, 40).unwrap();
        assert_eq!(b.num_rows(), 120);
        assert_eq!(b.schema().field(2).data_type(), &DataType::Date32);
    }
}
