//! The well production example end to end, in a temporary warehouse with an injected
//! clock and run ids: the backfill and build of `examples/README.md` from an empty
//! warehouse, the marts against figures computed here from the fixture files and seeds,
//! the late corrections and the missing day, the checks and the data test, an idempotent
//! rebuild, and the graph's edges.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::sync::Arc;

use phlo::arrow::array::{Array, Float64Array, Int64Array};
use phlo::arrow::compute::cast;
use phlo::arrow::datatypes::DataType;
use phlo::crates::core::names::TableName;
use phlo::prelude::*;
use phlo::{BuildStatus, FixedClock, SequentialRunIds};
use phlo_examples::wells;

type TestResult = Result<(), Box<dyn std::error::Error>>;

const TABLES: &[&str] = &[
    "bronze.well_production",
    "seeds.fields",
    "seeds.prices",
    "seeds.currency_rates",
    "staging.stg_well_production",
    "intermediate.int_production_cumsum",
    "intermediate.int_decline_curves",
    "intermediate.int_moving_averages",
    "marts.mart_production_monthly",
    "marts.mart_production_yearly",
    "marts.mart_revenue",
];

async fn runtime(dir: &Path) -> phlo::Result<Runtime> {
    // 2025-05-01T06:00:00Z: the fixtures' last day is the latest complete partition.
    let now = DateTime::from_timestamp(1_746_079_200, 0).unwrap_or_default();
    Runtime::builder(dir)
        .project(wells::PROJECT)
        .clock(Arc::new(FixedClock::new(now)))
        .run_ids(Arc::new(SequentialRunIds::new("wells")))
        .build()
        .await
}

/// The README's command: every day of the fixtures, then the whole graph.
async fn backfill_and_build(rt: &Runtime) -> Result<phlo::BuildReport, Box<dyn std::error::Error>> {
    let backfill = rt
        .backfill("well_production", wells::FIRST_DAY, wells::LAST_DAY)
        .await?;
    assert!(backfill.all_succeeded(), "{backfill:?}");
    assert_eq!(backfill.runs.len(), 120);
    Ok(rt.build_selection(wells::SELECTION, None, None).await?)
}

/// The first column of the first row, as f64 (null: NaN).
async fn scalar(rt: &Runtime, sql: &str) -> Result<f64, Box<dyn std::error::Error>> {
    let batches = rt.sql(sql).await?;
    let batch = batches
        .iter()
        .find(|b| b.num_rows() > 0)
        .ok_or_else(|| format!("no rows: {sql}"))?;
    let col = cast(batch.column(0), &DataType::Float64)?;
    let col = col
        .as_any()
        .downcast_ref::<Float64Array>()
        .ok_or("not a float")?;
    Ok(if col.is_null(0) {
        f64::NAN
    } else {
        col.value(0)
    })
}

async fn count(rt: &Runtime, sql: &str) -> Result<i64, Box<dyn std::error::Error>> {
    let batches = rt.sql(sql).await?;
    let col = cast(batches[0].column(0), &DataType::Int64)?;
    Ok(col
        .as_any()
        .downcast_ref::<Int64Array>()
        .ok_or("not an int")?
        .value(0))
}

async fn versions(rt: &Runtime) -> phlo::Result<Vec<Option<i64>>> {
    let mut out = Vec::new();
    for t in TABLES {
        out.push(rt.store().version(&TableName::parse(t)?).await?);
    }
    Ok(out)
}

/// One line of a fixture file.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Line {
    oil: f64,
    gas: f64,
    revision: i64,
}

/// (well, day) → (first report, last report).
type Reports = BTreeMap<(String, NaiveDate), (Line, Line)>;

/// The fixture files read with plain string splitting, in file (= day) order:
/// (well, day) → (first report, last report).
fn fixtures() -> Result<Reports, Box<dyn std::error::Error>> {
    let dir = wells::fixtures_dir().join("wells");
    let mut files: Vec<_> = std::fs::read_dir(&dir)?
        .map(|e| e.map(|e| e.path()))
        .collect::<Result<_, _>>()?;
    files.sort();
    assert_eq!(files.len(), 120);
    let mut out = Reports::new();
    for f in files {
        for l in std::fs::read_to_string(&f)?.lines().skip(1) {
            let v: Vec<&str> = l.split(',').collect();
            let key = (v[0].to_string(), v[2].parse::<NaiveDate>()?);
            let line = Line {
                oil: v[4].parse()?,
                gas: v[5].parse()?,
                revision: v[7].parse()?,
            };
            out.entry(key)
                .and_modify(|e| e.1 = line)
                .or_insert((line, line));
        }
    }
    Ok(out)
}

fn day(s: &str) -> NaiveDate {
    s.parse().unwrap_or_default()
}

fn round(x: f64, digits: i32) -> f64 {
    let p = 10f64.powi(digits);
    (x * p).round() / p
}

/// A seed's rows as maps of column → text.
fn seed(name: &str) -> Vec<BTreeMap<String, String>> {
    let file = wells::PROJECT
        .seeds
        .iter()
        .find(|f| f.path == format!("{name}.csv"))
        .unwrap_or_else(|| panic!("seed {name}"));
    let mut lines = file.text.lines();
    let header: Vec<&str> = lines.next().unwrap_or_default().split(',').collect();
    lines
        .map(|l| {
            header
                .iter()
                .zip(l.split(','))
                .map(|(h, v)| (h.to_string(), v.to_string()))
                .collect()
        })
        .collect()
}

/// Oil and gas of one well over [from, to], as the fixtures finally report them.
fn volumes(fx: &Reports, well: &str, from: NaiveDate, to: NaiveDate) -> (f64, f64, usize) {
    let days: Vec<&Line> = fx
        .iter()
        .filter(|((w, d), _)| w == well && *d >= from && *d <= to)
        .map(|(_, (_, last))| last)
        .collect();
    (
        days.iter().map(|l| l.oil).sum(),
        days.iter().map(|l| l.gas).sum(),
        days.len(),
    )
}

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() < 1e-6
}

#[tokio::test]
async fn the_whole_graph_builds_from_an_empty_warehouse() -> TestResult {
    let dir = tempfile::tempdir()?;
    let rt = runtime(dir.path()).await?;
    assert!(versions(&rt).await?.iter().all(Option::is_none));
    let report = backfill_and_build(&rt).await?;
    assert!(report.succeeded(), "{report:#?}");

    // Every asset of the example, in dependency order; quality assets audit writes.
    let built: Vec<(&str, String)> = report
        .assets
        .iter()
        .map(|a| (a.asset.as_str(), a.kind.to_string()))
        .collect();
    let position = |name: &str| built.iter().position(|(a, _)| *a == name);
    for (up, down) in [
        ("well_production", "stg_well_production"),
        ("fields", "stg_well_production"),
        ("stg_well_production", "int_production_cumsum"),
        ("int_production_cumsum", "int_decline_curves"),
        ("int_decline_curves", "int_moving_averages"),
        ("int_production_cumsum", "int_moving_averages"),
        ("int_moving_averages", "mart_production_monthly"),
        ("mart_production_monthly", "mart_production_yearly"),
        ("mart_production_monthly", "mart_revenue"),
        ("prices", "mart_revenue"),
        ("currency_rates", "mart_revenue"),
        ("mart_revenue", "assert_no_negative_revenue"),
    ] {
        assert!(
            position(up) < position(down),
            "{up} before {down}: {built:?}"
        );
        assert!(position(up).is_some());
    }
    let kinds: BTreeSet<(&str, &str)> = built.iter().map(|(a, k)| (*a, k.as_str())).collect();
    assert!(kinds.contains(&("assert_no_negative_revenue", "test")));
    assert!(kinds.contains(&("well_production", "ingestion")));
    assert!(kinds.contains(&("prices", "seed")));
    assert!(kinds.contains(&("int_decline_curves", "rust")));
    assert_eq!(built.len(), 12, "{built:?}");
    // The build runs the ingestion's latest partition only: the fixtures' last day.
    let ingest = report.get("well_production").ok_or("no ingestion")?;
    assert_eq!(ingest.runs[0].partition.as_deref(), Some(wells::LAST_DAY));

    // Every check of every write passed, and the data test found no negative revenue.
    let mut checks = BTreeSet::new();
    for a in &report.assets {
        for r in &a.runs {
            for c in &r.checks {
                assert!(c.passed, "{}: {c:?}", a.asset);
                checks.insert(c.name.clone());
            }
        }
    }
    for name in [
        "relationships(field_code → seeds.fields.field_code)",
        "relationships(production_month → seeds.prices.price_month)",
        "unique_check(well_code,production_month)",
        "range_check(revenue_usd)",
        "cumulative_oil_never_decreases",
        "relationships(well_code → staging.stg_well_production.well_code)",
        "range_check(b)",
    ] {
        assert!(checks.contains(name), "{name} in {checks:?}");
    }
    let test = report
        .get("assert_no_negative_revenue")
        .ok_or("no data test")?;
    assert!(matches!(test.status, BuildStatus::Success), "{test:?}");
    assert_eq!(
        count(
            &rt,
            "SELECT count(*) FROM marts.mart_revenue WHERE revenue_usd < 0"
        )
        .await?,
        0
    );
    Ok(())
}

#[tokio::test]
async fn marts_match_the_fixtures_with_corrections_and_a_missing_day() -> TestResult {
    let dir = tempfile::tempdir()?;
    let rt = runtime(dir.path()).await?;
    let backfill = rt
        .backfill("well_production", wells::FIRST_DAY, wells::LAST_DAY)
        .await?;
    // The late corrections are merged as updates of the earlier day's row.
    let updated: Vec<(String, u64, u64)> = backfill
        .runs
        .iter()
        .filter(|r| r.rows_updated > 0)
        .map(|r| {
            (
                r.partition.clone().unwrap_or_default(),
                r.rows_inserted,
                r.rows_updated,
            )
        })
        .collect();
    assert_eq!(
        updated,
        [
            ("2025-03-10".to_string(), 6, 1),
            ("2025-04-02".to_string(), 6, 1)
        ]
    );
    let report = rt.build_selection(wells::SELECTION, None, None).await?;
    assert!(report.succeeded(), "{report:#?}");

    let fx = fixtures()?;
    // 6 wells × 120 days, less W-05's missing day.
    assert_eq!(fx.len(), 719);
    assert_eq!(
        count(&rt, "SELECT count(*) FROM staging.stg_well_production").await?,
        719
    );

    // W-02's 2025-03-07 was first reported at 40% of its oil and corrected three days
    // later: the mart holds the corrected March.
    let (first, last) = fx[&("W-02".to_string(), day("2025-03-07"))];
    assert_eq!((first.revision, last.revision), (0, 1));
    assert!(
        close(first.oil, 307.4) && close(last.oil, 768.5),
        "{first:?} {last:?}"
    );
    let (oil, _, days) = volumes(&fx, "W-02", day("2025-03-01"), day("2025-03-31"));
    assert_eq!(days, 31);
    let mart_oil = scalar(
        &rt,
        "SELECT oil_bbl FROM marts.mart_production_monthly \
         WHERE well_code = 'W-02' AND production_month = DATE '2025-03-01'",
    )
    .await?;
    assert!(close(mart_oil, round(oil, 1)), "{mart_oil} vs {oil}");
    assert!(close(
        mart_oil - round(oil - last.oil + first.oil, 1),
        461.1
    ));
    assert_eq!(
        count(
            &rt,
            "SELECT revision FROM staging.stg_well_production \
             WHERE well_code = 'W-02' AND production_date = DATE '2025-03-07'"
        )
        .await?,
        1
    );

    // W-04's 2025-03-31 was corrected in April's file: it counts in March, priced at
    // March's prices and converted at March's CAD rate.
    let (oil4, gas4, _) = volumes(&fx, "W-04", day("2025-03-01"), day("2025-03-31"));
    let prices = seed("prices");
    let march = prices
        .iter()
        .find(|p| p["price_month"] == "2025-03-01")
        .ok_or("no March price")?;
    let (oil_price, gas_price): (f64, f64) = (
        march["oil_usd_per_bbl"].parse()?,
        march["gas_usd_per_mcf"].parse()?,
    );
    let rates = seed("currency_rates");
    let cad: f64 = rates
        .iter()
        .find(|r| r["rate_month"] == "2025-03-01" && r["currency"] == "CAD")
        .ok_or("no March CAD rate")?["usd_to_local"]
        .parse()?;
    let usd = round(oil4, 1) * oil_price + round(gas4, 1) * gas_price;
    let revenue = |col: &str| {
        format!(
            "SELECT {col} FROM marts.mart_revenue \
             WHERE well_code = 'W-04' AND production_month = DATE '2025-03-01'"
        )
    };
    assert!(close(
        scalar(&rt, &revenue("revenue_usd")).await?,
        round(usd, 2)
    ));
    assert!(close(
        scalar(&rt, &revenue("revenue_local")).await?,
        round(usd * cad, 2)
    ));
    assert!(close(
        scalar(&rt, &revenue("oil_bbl")).await?,
        round(oil4, 1)
    ));
    let corrected = fx[&("W-04".to_string(), day("2025-03-31"))];
    assert!(corrected.1.oil > corrected.0.oil);

    // W-05 sent nothing for 2025-02-14: 27 days in its February, 28 for the others; the
    // 30-day windows that span the gap hold 29 days, averaged over those.
    assert_eq!(
        count(
            &rt,
            "SELECT days_reported FROM marts.mart_production_monthly \
             WHERE well_code = 'W-05' AND production_month = DATE '2025-02-01'"
        )
        .await?,
        27
    );
    assert_eq!(
        count(
            &rt,
            "SELECT count(*) FROM marts.mart_production_monthly \
             WHERE production_month = DATE '2025-02-01' AND days_reported = 28"
        )
        .await?,
        5
    );
    let (window_oil, _, window_days) = volumes(&fx, "W-05", day("2025-02-14"), day("2025-03-15"));
    assert_eq!(window_days, 29);
    let ma = "SELECT days_in_window, oil_ma_30d FROM intermediate.int_moving_averages \
              WHERE well_code = 'W-05' AND production_date = DATE '2025-03-15'";
    assert_eq!(count(&rt, ma).await?, 29);
    let avg = scalar(
        &rt,
        "SELECT oil_ma_30d FROM intermediate.int_moving_averages \
         WHERE well_code = 'W-05' AND production_date = DATE '2025-03-15'",
    )
    .await?;
    assert!(close(avg, window_oil / 29.0), "{avg}");

    // Cumulative oil at the last day is the well's total; the yearly mart sums the months.
    let (all_oil, _, _) = volumes(&fx, "W-01", day("2025-01-01"), day("2025-04-30"));
    let cum = scalar(
        &rt,
        "SELECT cum_oil_bbl FROM intermediate.int_production_cumsum \
         WHERE well_code = 'W-01' AND production_date = DATE '2025-04-30'",
    )
    .await?;
    assert!((cum - all_oil).abs() < 1e-6, "{cum} vs {all_oil}");
    let year = scalar(
        &rt,
        "SELECT oil_bbl FROM marts.mart_production_yearly \
         WHERE well_code = 'W-01' AND production_year = 2025",
    )
    .await?;
    let months: f64 = [
        ("01-01", "01-31"),
        ("02-01", "02-28"),
        ("03-01", "03-31"),
        ("04-01", "04-30"),
    ]
    .iter()
    .map(|(a, b)| {
        let (o, _, _) = volumes(
            &fx,
            "W-01",
            day(&format!("2025-{a}")),
            day(&format!("2025-{b}")),
        );
        round(o, 1)
    })
    .sum();
    assert!(close(year, round(months, 1)), "{year} vs {months}");
    assert_eq!(
        count(&rt, "SELECT count(*) FROM marts.mart_revenue").await?,
        24
    );
    Ok(())
}

#[tokio::test]
async fn a_rebuild_changes_nothing() -> TestResult {
    let dir = tempfile::tempdir()?;
    let rt = runtime(dir.path()).await?;
    assert!(backfill_and_build(&rt).await?.succeeded());
    let before = versions(&rt).await?;
    assert!(before.iter().all(Option::is_some), "{before:?}");
    let again = rt.build_selection(wells::SELECTION, None, None).await?;
    assert!(again.succeeded(), "{again:#?}");
    assert_eq!(versions(&rt).await?, before, "no table got a new version");
    for a in &again.assets {
        for r in &a.runs {
            assert_eq!((r.rows_inserted, r.rows_updated), (0, 0), "{}", a.asset);
        }
    }
    Ok(())
}

#[tokio::test]
async fn the_graph_has_the_expected_edges() -> TestResult {
    let dir = tempfile::tempdir()?;
    let rt = runtime(dir.path()).await?;
    let selected: BTreeSet<String> = rt.select(wells::SELECTION, None)?.into_iter().collect();
    let graph = rt.graph();
    let mut edges = BTreeSet::new();
    for n in graph.nodes().filter(|n| selected.contains(&n.name)) {
        for d in &n.deps {
            edges.insert((d.upstream.clone(), n.name.clone()));
        }
    }
    let expected: BTreeSet<(String, String)> = [
        ("currency_rates", "mart_revenue"),
        ("fields", "stg_well_production"),
        ("int_decline_curves", "int_decline_curves_quality"),
        ("int_decline_curves", "int_moving_averages"),
        ("int_moving_averages", "mart_production_monthly"),
        ("int_production_cumsum", "cumulative_oil_never_decreases"),
        ("int_production_cumsum", "int_decline_curves"),
        ("int_production_cumsum", "int_moving_averages"),
        ("mart_production_monthly", "mart_production_monthly_quality"),
        ("mart_production_monthly", "mart_production_yearly"),
        ("mart_production_monthly", "mart_revenue"),
        ("mart_production_yearly", "mart_production_yearly_quality"),
        ("mart_revenue", "assert_no_negative_revenue"),
        ("mart_revenue", "mart_revenue_quality"),
        ("prices", "mart_revenue"),
        ("stg_well_production", "int_production_cumsum"),
        ("stg_well_production", "stg_well_production_quality"),
        ("well_production", "stg_well_production"),
        ("well_production", "well_production_quality"),
    ]
    .iter()
    .map(|(a, b)| (a.to_string(), b.to_string()))
    .collect();
    assert_eq!(edges, expected);
    // The selection is exactly the example: nothing of the glucose pipeline.
    assert_eq!(selected.len(), 19, "{selected:?}");
    assert!(!selected.contains("glucose_readings"));
    let mermaid = graph.to_mermaid(&selected);
    assert!(
        mermaid.contains("well_production -->|\"all\"| stg_well_production"),
        "{mermaid}"
    );
    Ok(())
}

/// The curves the fixture generator drew each well's oil from: (well, model, qi, D, b).
const DRAWN: &[(&str, &str, f64, f64, f64)] = &[
    ("W-01", "exponential", 1200.0, 0.0080, 0.0),
    ("W-02", "hyperbolic", 2000.0, 0.0200, 0.6),
    ("W-03", "exponential", 900.0, 0.0040, 0.0),
    ("W-04", "hyperbolic", 1500.0, 0.0300, 0.9),
    ("W-05", "exponential", 700.0, 0.0060, 0.0),
    ("W-06", "hyperbolic", 2500.0, 0.0150, 0.3),
];

#[tokio::test]
async fn decline_fits_recover_the_curves_the_fixtures_were_drawn_from() -> TestResult {
    let dir = tempfile::tempdir()?;
    let rt = runtime(dir.path()).await?;
    assert!(backfill_and_build(&rt).await?.succeeded());
    // The transform's table holds what the fit gives over its upstream.
    let upstream = rt
        .session()
        .await?
        .table("intermediate.int_production_cumsum")
        .await?;
    let curves = wells::fit_declines(upstream).await?;
    assert_eq!(curves.len(), 6);
    for c in &curves {
        let stored = scalar(
            &rt,
            &format!(
                "SELECT qi_bbl_d FROM intermediate.int_decline_curves WHERE well_code = '{}' \
                 AND model = '{}' AND points = {}",
                c.well_code,
                c.model.as_deref().unwrap_or_default(),
                c.points
            ),
        )
        .await?;
        assert_eq!(Some(stored), c.qi_bbl_d, "{}", c.well_code);
    }
    // Downstream, the moving averages carry the curve: at t = 0 it is qi.
    let fitted = scalar(
        &rt,
        "SELECT oil_fitted_bbl_d FROM intermediate.int_moving_averages \
         WHERE well_code = 'W-02' AND production_date = DATE '2025-01-01'",
    )
    .await?;
    assert!(
        close(fitted, curves[1].qi_bbl_d.unwrap_or_default()),
        "{fitted}"
    );
    for (c, (well, model, qi, d, b)) in curves.iter().zip(DRAWN) {
        assert_eq!(c.well_code, *well);
        assert_eq!(
            (c.fit_status.as_str(), c.model.as_deref()),
            ("fitted", Some(*model)),
            "{well}"
        );
        let (fqi, fd, fb) = (
            c.qi_bbl_d.unwrap_or_default(),
            c.di_per_day.unwrap_or_default(),
            c.b.unwrap_or_default(),
        );
        // ±2% noise and the odd short day (22.5 h): within a few percent of the drawn curve.
        assert!((fqi / qi - 1.0).abs() < 0.03, "{well} qi {fqi}");
        assert!((fd / d - 1.0).abs() < 0.15, "{well} D {fd}");
        assert!((fb - b).abs() < 0.25, "{well} b {fb}");
        // W-03's shut-in day is left out of its fit; W-05 has its missing day.
        let expected_points = match *well {
            "W-03" | "W-05" => 119,
            _ => 120,
        };
        assert_eq!(c.points, expected_points, "{well}");
        assert_eq!(c.last_date, day("2025-04-30"));
        assert_eq!(c.forecast_days, wells::FORECAST_DAYS as i64);
        let end = c.forecast_end_rate_bbl_d.unwrap_or_default();
        assert!(end > 0.0 && end < fqi, "{well} {end}");
    }
    Ok(())
}

/// The project with `prices.csv` replaced: a negative gas price for April.
fn project_with_bad_prices() -> phlo::Project {
    let seeds: Vec<phlo::ProjectFile> = wells::PROJECT
        .seeds
        .iter()
        .map(|f| {
            if f.path == "prices.csv" {
                let text = f
                    .text
                    .replace("2025-04-01,68.20,3.28", "2025-04-01,68.20,-90.00");
                assert_ne!(text, f.text, "the April price line is in the seed");
                phlo::ProjectFile {
                    path: f.path,
                    text: Box::leak(text.into_boxed_str()),
                }
            } else {
                *f
            }
        })
        .collect();
    phlo::Project {
        seeds: Box::leak(seeds.into_boxed_slice()),
        ..wells::PROJECT
    }
}

#[tokio::test]
async fn negative_revenue_is_never_published() -> TestResult {
    let dir = tempfile::tempdir()?;
    let rt = runtime(dir.path()).await?;
    assert!(backfill_and_build(&rt).await?.succeeded());
    let before = versions(&rt).await?;
    let revenue_before = scalar(&rt, "SELECT sum(revenue_usd) FROM marts.mart_revenue").await?;

    // The same warehouse, with a price that makes April's revenue negative.
    let now = DateTime::from_timestamp(1_746_082_800, 0).unwrap_or_default();
    let bad = Runtime::builder(dir.path())
        .project(project_with_bad_prices())
        .clock(Arc::new(FixedClock::new(now)))
        .run_ids(Arc::new(SequentialRunIds::new("bad-prices")))
        .build()
        .await?;
    let report = bad.build_selection(wells::SELECTION, None, None).await?;
    assert!(!report.succeeded());
    let revenue = report.get("mart_revenue").ok_or("no mart_revenue")?;
    let BuildStatus::Failed { error } = &revenue.status else {
        panic!("mart_revenue should fail: {revenue:?}");
    };
    assert!(error.contains("range_check(revenue_usd)"), "{error}");
    let failed: Vec<&str> = revenue.runs[0]
        .checks
        .iter()
        .filter(|c| !c.passed)
        .map(|c| c.name.as_str())
        .collect();
    assert_eq!(
        failed,
        ["range_check(revenue_usd)", "range_check(revenue_local)"]
    );
    // The data test after it is skipped, the other marts are built as before.
    let test = report.get("assert_no_negative_revenue").ok_or("no test")?;
    assert!(
        matches!(&test.status, BuildStatus::Skipped { because } if because == "mart_revenue"),
        "{test:?}"
    );
    assert!(matches!(
        report.get("mart_production_yearly").map(|a| &a.status),
        Some(BuildStatus::Success)
    ));
    // The price seed changed; the revenue mart is at its previous version, with the
    // previous figures.
    let after = versions(&bad).await?;
    let index = |t: &str| TABLES.iter().position(|x| *x == t).unwrap_or_default();
    assert_ne!(after[index("seeds.prices")], before[index("seeds.prices")]);
    assert_eq!(
        after[index("marts.mart_revenue")],
        before[index("marts.mart_revenue")]
    );
    let revenue_after = scalar(&bad, "SELECT sum(revenue_usd) FROM marts.mart_revenue").await?;
    assert!(close(revenue_after, revenue_before));
    assert_eq!(
        count(
            &bad,
            "SELECT count(*) FROM marts.mart_revenue WHERE revenue_usd < 0"
        )
        .await?,
        0
    );
    Ok(())
}

#[tokio::test]
async fn the_pipeline_keeps_the_laws_over_three_days() -> TestResult {
    // The laws of `phlo::testing` on a short range: a replayed day and a rebuilt mart
    // create no table version; the incremental staging model and a mart built after each
    // day equal one build after all three.
    let w = phlo::testing::TestWarehouse::builder()
        .project(wells::PROJECT)
        .now(DateTime::from_timestamp(1_746_079_200, 0).unwrap_or_default())
        .run_ids("wells-laws")
        .build()
        .await?;
    let days = w
        .materialize_range("well_production", "2025-01-01"..="2025-01-03")
        .await?;
    assert!(days.all_succeeded(), "{days:?}");
    w.assert_idempotent("well_production", "2025-01-02").await?;
    let built = w
        .build_selection("+mart_production_monthly", None, None)
        .await?;
    assert!(built.succeeded(), "{built:?}");
    w.assert_idempotent("mart_production_monthly", phlo::Unpartitioned)
        .await?;
    w.assert_incremental_equals_full("stg_well_production", "2025-01-01"..="2025-01-03")
        .await?;
    w.assert_incremental_equals_full("mart_production_monthly", "2025-01-01"..="2025-01-03")
        .await?;
    Ok(())
}
