//! Well production: daily oil, gas and water per well, from one CSV file a day to monthly
//! revenue, through SQL models, seeds, checks and an Arps decline fit.
//!
//! ```text
//!  fixtures/wells/2025-03-10.csv ─▶ well_production ─▶ stg_well_production ─▶ int_production_cumsum
//!   one line per well and day,        merged by           + field names,          cumulative sums
//!   plus late corrections of          (well_code,         water cut               per well (window
//!   earlier days (revision 1)         production_date)    (seeds.fields)          functions)
//!                                                                                      │
//!   int_moving_averages ◀── int_decline_curves ◀────────────────────────────────────────┘
//!   30 days, measured        Arps fit per well, a Rust transform (decline.rs)
//!   and fitted oil
//!        │
//!        ▼
//!   mart_production_monthly ─┬─▶ mart_production_yearly
//!                            └─▶ mart_revenue ◀── seeds.prices, seeds.currency_rates
//!                                     │
//!                                     ▼
//!                           assert_no_negative_revenue (data test)
//! ```
//!
//! The SQL is in `examples/wells/models/`, the seeds in `examples/wells/seeds/`, the data
//! test in `examples/wells/tests/`; [`PROJECT`] embeds them. Everything of this example is
//! in the group `wells`, so `@group:wells` selects its whole graph.

pub mod decline;

use std::fs::File;
use std::io::{self, BufReader, ErrorKind};
use std::path::PathBuf;
use std::sync::Arc;

use phlo::Project;
use phlo::arrow::array::{Array, Date32Array, Float64Array, StringArray};
use phlo::arrow::compute::cast;
use phlo::arrow::csv::ReaderBuilder;
use phlo::arrow::datatypes::{DataType, Field, Schema as ArrowSchema, SchemaRef};
use phlo::arrow::error::ArrowError;
use phlo::prelude::*;
use phlo::quality::{NullCheck, RangeCheck, RelationshipsCheck, UniqueCheck};

use decline::Outcome;

/// The example's SQL models, seeds and data tests, embedded in the binary.
pub const PROJECT: Project = Project {
    models: phlo::models!("wells/models"),
    seeds: phlo::seeds!("wells/seeds"),
    tests: phlo::models!("wells/tests"),
};

/// The selection of this example's whole graph: its group, everything downstream of it
/// (the data test) and everything those read (the seeds).
pub const SELECTION: &str = "@group:wells";

/// The first day of the fixtures (the ingestion's first partition; its definition ends
/// before 2025-05-01, so 2025-04-30 is its latest).
pub const FIRST_DAY: &str = "2025-01-01";
/// The last day of the fixtures (the ingestion's latest partition).
pub const LAST_DAY: &str = "2025-04-30";

/// Days forecast by `int_decline_curves`.
pub const FORECAST_DAYS: usize = 90;

/// One well's production on one day, as the operator reports it.
#[derive(Schema)]
pub struct WellProduction {
    /// The well, e.g. `W-04`.
    #[phlo(regex = "W-[0-9]{2}")]
    pub well_code: String,
    /// The field the well produces from (`seeds.fields`).
    #[phlo(regex = "[A-Z]{2}")]
    pub field_code: String,
    /// The production day.
    pub production_date: NaiveDate,
    /// Hours on production that day.
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
    /// 0 for the first report of the day, 1 for a correction sent later.
    #[phlo(ge = 0)]
    pub revision: i64,
}

/// One day's file, merged by (well, day). A correction of an earlier day arrives in a
/// later day's file with `revision = 1`; the merge updates the stored row, which then
/// belongs to the later partition. A day without a file is `no_data`.
#[ingestion(table = "bronze.well_production", unique_key = ["well_code", "production_date"],
            schema = WellProduction, group = "wells", order_by = "revision", dedup = "last",
            partitions = daily(start = "2025-01-01", end = "2025-05-01"))]
pub async fn well_production(ctx: &PartitionContext) -> phlo::Result<Vec<RecordBatch>> {
    let path = day_file(ctx.partition_date());
    let file = match File::open(&path) {
        Ok(file) => file,
        Err(e) if e.kind() == ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(io::Error::new(e.kind(), format!("{}: {e}", path.display())).into()),
    };
    Ok(read_batches(BufReader::new(file))?)
}

/// The ingestion's gate, on each day's staged rows: no nulls, one row per well and day,
/// volumes not negative and hours within a day.
#[quality(table = "bronze.well_production", schema = WellProduction, group = "wells", checks = [
    NullCheck::new(["well_code", "field_code", "production_date", "oil_bbl", "gas_mcf", "water_bbl"]),
    UniqueCheck::new(["well_code", "production_date"]),
    RangeCheck::new("oil_bbl").min(0.0),
    RangeCheck::new("gas_mcf").min(0.0),
    RangeCheck::new("water_bbl").min(0.0),
    RangeCheck::new("hours_on").min(0.0).max(24.0),
])]
pub fn well_production_quality() {}

/// The staged wells: every field code is a known field (`relationships`), one row per
/// well and day, a water cut between 0 and 1.
#[quality(table = "staging.stg_well_production", group = "wells", checks = [
    RelationshipsCheck::new("field_code", "seeds.fields", "field_code"),
    UniqueCheck::new(["well_code", "production_date"]),
    NullCheck::new(["field_name", "currency"]),
    RangeCheck::new("water_cut").min(0.0).max(1.0),
])]
pub fn stg_well_production_quality() {}

/// Cumulative volumes never go down within a well: a custom SQL check over the scope.
#[quality(table = "intermediate.int_production_cumsum", group = "wells")]
pub async fn cumulative_oil_never_decreases(scope: &CheckScope) -> phlo::Result<CheckOutcome> {
    let rows = scope.select_sql(
        "well_code, production_date, cum_oil_bbl, \
         lag(cum_oil_bbl) OVER (PARTITION BY well_code ORDER BY production_date) AS previous",
        None,
    );
    let sql = format!("SELECT count(*) AS n FROM ({rows}) WHERE cum_oil_bbl < previous");
    let batches = scope.ctx().sql(&sql).await?.collect().await?;
    let n = batches
        .first()
        .and_then(|b| {
            b.column(0)
                .as_any()
                .downcast_ref::<phlo::arrow::array::Int64Array>()
        })
        .map_or(0, |a| a.value(0));
    Ok(if n == 0 {
        CheckOutcome::pass()
    } else {
        CheckOutcome::fail(format!("{n} days where cumulative oil fell"))
    })
}

/// One row per well and month, keyed by both.
#[quality(table = "marts.mart_production_monthly", group = "wells", checks = [
    NullCheck::new(["well_code", "production_month", "oil_bbl", "gas_mcf", "water_bbl"]),
    UniqueCheck::new(["well_code", "production_month"]),
    RangeCheck::new("days_reported").min(1.0).max(31.0),
])]
pub fn mart_production_monthly_quality() {}

/// One row per well and year.
#[quality(table = "marts.mart_production_yearly", group = "wells", checks = [
    NullCheck::new(["well_code", "production_year", "oil_bbl"]),
    UniqueCheck::new(["well_code", "production_year"]),
])]
pub fn mart_production_yearly_quality() {}

/// Every month is priced and converted (no nulls, a price month that exists), and no
/// revenue is negative.
#[quality(table = "marts.mart_revenue", group = "wells", checks = [
    NullCheck::new(["well_code", "production_month", "revenue_usd", "revenue_local", "currency"]),
    UniqueCheck::new(["well_code", "production_month"]),
    RelationshipsCheck::new("production_month", "seeds.prices", "price_month"),
    RangeCheck::new("revenue_usd").min(0.0),
    RangeCheck::new("revenue_local").min(0.0),
])]
pub fn mart_revenue_quality() {}

/// The fixtures directory: `$PHLO_EXAMPLE_FIXTURES`, else this crate's `fixtures/`.
pub fn fixtures_dir() -> PathBuf {
    crate::glucose::fixtures_dir()
}

/// The file of one day: `<fixtures>/wells/YYYY-MM-DD.csv`.
pub fn day_file(day: NaiveDate) -> PathBuf {
    fixtures_dir().join("wells").join(format!("{day}.csv"))
}

/// The files' columns: the date as a string (phlo parses it and fails only its row if it
/// cannot), volumes as floats.
pub fn input_schema() -> SchemaRef {
    let f = |name: &str, t: DataType| Field::new(name, t, true);
    Arc::new(ArrowSchema::new(vec![
        f("well_code", DataType::Utf8),
        f("field_code", DataType::Utf8),
        f("production_date", DataType::Utf8),
        f("hours_on", DataType::Float64),
        f("oil_bbl", DataType::Float64),
        f("gas_mcf", DataType::Float64),
        f("water_bbl", DataType::Float64),
        f("revision", DataType::Int64),
    ]))
}

/// Parses one day's CSV (header row first) into batches of [`input_schema`].
pub fn read_batches(input: impl io::Read) -> Result<Vec<RecordBatch>, ArrowError> {
    ReaderBuilder::new(input_schema())
        .with_header(true)
        .with_batch_size(1024)
        .build(input)?
        .collect()
}

/// The decline curve of one well, as `intermediate.int_decline_curves` keeps it.
#[derive(Schema)]
pub struct DeclineCurve {
    /// The well.
    #[phlo(unique)]
    pub well_code: String,
    /// `fitted`, or why not: `too_few_points`, `no_production`, `not_declining`.
    #[phlo(isin = ["fitted", "too_few_points", "no_production", "not_declining"])]
    pub fit_status: String,
    /// `exponential` or `hyperbolic` (fitted wells).
    #[phlo(isin = ["exponential", "hyperbolic"])]
    pub model: Option<String>,
    /// Initial oil rate at `first_date`, bbl/day.
    pub qi_bbl_d: Option<f64>,
    /// Initial decline, per day.
    pub di_per_day: Option<f64>,
    /// Hyperbolic exponent (0 for the exponential).
    pub b: Option<f64>,
    /// Root mean square residual of the fit, bbl/day.
    pub rmse_bbl_d: Option<f64>,
    /// Days with oil used by the fit (days with no oil are left out).
    pub points: i64,
    /// The well's first day: `t = 0` of the curve.
    pub first_date: NaiveDate,
    /// The well's last reported day.
    pub last_date: NaiveDate,
    /// Days forecast after `last_date`.
    pub forecast_days: i64,
    /// The curve's rate on the last forecast day, bbl/day.
    pub forecast_end_rate_bbl_d: Option<f64>,
    /// Oil over the forecast days, bbl.
    pub forecast_oil_bbl: Option<f64>,
}

/// An Arps decline curve per well, fitted to the oil of every day of
/// `int_production_cumsum` (unpartitioned, so it reads the whole table), with a
/// [`FORECAST_DAYS`]-day forecast. Merged by well: a rebuild over unchanged days fits the
/// same curves and writes nothing.
#[transform(table = "intermediate.int_decline_curves", schema = DeclineCurve,
            unique_key = "well_code", group = "wells", tags = ["intermediate", "rust"])]
pub async fn int_decline_curves(
    _ctx: &PartitionContext,
    int_production_cumsum: DataFrame,
) -> phlo::Result<Vec<DeclineCurve>> {
    fit_declines(int_production_cumsum).await
}

/// Every well has a curve, with `b` within Arps' bounds.
#[quality(table = "intermediate.int_decline_curves", schema = DeclineCurve, group = "wells", checks = [
    NullCheck::new(["well_code", "fit_status", "first_date", "last_date"]),
    UniqueCheck::new(["well_code"]),
    RelationshipsCheck::new("well_code", "staging.stg_well_production", "well_code"),
    RangeCheck::new("b").min(0.0).max(1.0),
    RangeCheck::new("qi_bbl_d").min(0.0),
])]
pub fn int_decline_curves_quality() {}

/// The body of `int_decline_curves`: the upstream's rows fitted per well, with a
/// [`FORECAST_DAYS`]-day forecast.
pub async fn fit_declines(upstream: DataFrame) -> phlo::Result<Vec<DeclineCurve>> {
    let batches = upstream
        .select_columns(&["well_code", "production_date", "oil_bbl"])?
        .collect()
        .await?;
    Ok(decline_curves(&batches, FORECAST_DAYS)?)
}

/// A column of `batch` cast to `to`.
fn column(batch: &RecordBatch, name: &str, to: &DataType) -> Result<Arc<dyn Array>, ArrowError> {
    let index = batch.schema().index_of(name)?;
    cast(batch.column(index), to)
}

/// Fits every well's oil in `batches` (columns `well_code`, `production_date`, `oil_bbl`;
/// others are ignored) and forecasts `forecast_days` days after its last day. Wells are in
/// name order; a well whose series cannot be fitted gets its [`Outcome`]'s status and no
/// parameters.
pub fn decline_curves(
    batches: &[RecordBatch],
    forecast_days: usize,
) -> Result<Vec<DeclineCurve>, ArrowError> {
    let mut wells: std::collections::BTreeMap<String, Vec<(NaiveDate, f64)>> =
        std::collections::BTreeMap::new();
    for batch in batches {
        let codes = column(batch, "well_code", &DataType::Utf8)?;
        let dates = column(batch, "production_date", &DataType::Date32)?;
        let oil = column(batch, "oil_bbl", &DataType::Float64)?;
        let codes = downcast::<StringArray>(&codes)?;
        let dates = downcast::<Date32Array>(&dates)?;
        let oil = downcast::<Float64Array>(&oil)?;
        for i in 0..batch.num_rows() {
            if codes.is_null(i) || dates.is_null(i) {
                continue;
            }
            let Some(day) = dates.value_as_date(i) else {
                continue;
            };
            let q = if oil.is_null(i) {
                f64::NAN
            } else {
                oil.value(i)
            };
            wells
                .entry(codes.value(i).to_string())
                .or_default()
                .push((day, q));
        }
    }
    Ok(wells
        .into_iter()
        .filter_map(|(well, mut days)| {
            days.sort_by_key(|d| d.0);
            let (first, last) = (days.first()?.0, days.last()?.0);
            let t = |d: NaiveDate| (d - first).num_days() as f64;
            let points: Vec<(f64, f64)> = days.iter().map(|(d, q)| (t(*d), *q)).collect();
            Some(curve_row(
                well,
                first,
                last,
                &decline::fit(&points),
                t(last),
                forecast_days,
            ))
        })
        .collect())
}

fn curve_row(
    well_code: String,
    first_date: NaiveDate,
    last_date: NaiveDate,
    outcome: &Outcome,
    last_t: f64,
    forecast_days: usize,
) -> DeclineCurve {
    let fit = outcome.fit();
    let forecast = fit.map(|f| f.forecast(last_t, forecast_days));
    let points = match outcome {
        Outcome::Fitted(f) => f.points,
        Outcome::TooFewPoints { points, .. } => *points,
        Outcome::NoProduction | Outcome::NotDeclining { .. } => 0,
    };
    DeclineCurve {
        well_code,
        fit_status: outcome.status().to_string(),
        model: fit.map(|f| f.model.as_str().to_string()),
        qi_bbl_d: fit.map(|f| f.qi),
        di_per_day: fit.map(|f| f.d),
        b: fit.map(|f| f.b),
        rmse_bbl_d: fit.map(|f| f.rmse),
        points: points as i64,
        first_date,
        last_date,
        forecast_days: forecast_days as i64,
        forecast_end_rate_bbl_d: forecast.as_ref().and_then(|f| f.last().copied()),
        forecast_oil_bbl: forecast.map(|f| f.iter().sum()),
    }
}

fn downcast<T: 'static>(a: &Arc<dyn Array>) -> Result<&T, ArrowError> {
    a.as_any()
        .downcast_ref::<T>()
        .ok_or_else(|| ArrowError::CastError(format!("unexpected column type {}", a.data_type())))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn curves_are_fitted_per_well_from_batches() {
        let day = |i: i64| {
            NaiveDate::from_ymd_opt(2025, 1, 1).unwrap_or_default()
                + phlo::chrono::Duration::days(i)
        };
        let mut rows = Vec::new();
        for i in 0..60 {
            rows.push(("A", day(i), 800.0 * (-0.01 * i as f64).exp()));
            rows.push(("B", day(i), 0.0));
        }
        rows.push(("C", day(3), 120.0));
        let schema = Arc::new(ArrowSchema::new(vec![
            Field::new("well_code", DataType::Utf8View, true),
            Field::new("production_date", DataType::Date32, true),
            Field::new("oil_bbl", DataType::Float64, true),
        ]));
        let codes: Vec<&str> = rows.iter().map(|r| r.0).collect();
        let batch = RecordBatch::try_new(
            schema,
            vec![
                Arc::new(phlo::arrow::array::StringViewArray::from(codes)),
                Arc::new(Date32Array::from(
                    rows.iter()
                        .map(|r| phlo::arrow::datatypes::Date32Type::from_naive_date(r.1))
                        .collect::<Vec<_>>(),
                )),
                Arc::new(Float64Array::from(
                    rows.iter().map(|r| r.2).collect::<Vec<_>>(),
                )),
            ],
        )
        .unwrap();
        let curves = decline_curves(&[batch], 30).unwrap();
        let summary: Vec<(&str, &str, i64)> = curves
            .iter()
            .map(|c| (c.well_code.as_str(), c.fit_status.as_str(), c.points))
            .collect();
        assert_eq!(
            summary,
            [
                ("A", "fitted", 60),
                ("B", "no_production", 0),
                ("C", "too_few_points", 1)
            ]
        );
        let a = &curves[0];
        assert_eq!(a.model.as_deref(), Some("exponential"));
        assert!((a.qi_bbl_d.unwrap() - 800.0).abs() < 1e-6);
        assert!((a.di_per_day.unwrap() - 0.01).abs() < 1e-9);
        let expected: f64 = (60..90).map(|t| 800.0 * (-0.01 * f64::from(t)).exp()).sum();
        assert!((a.forecast_oil_bbl.unwrap() - expected).abs() < 1e-6);
        assert_eq!((a.first_date, a.last_date), (day(0), day(59)));
        assert!(curves[1].qi_bbl_d.is_none() && curves[1].forecast_oil_bbl.is_none());
        // A batch without the columns is an error, not a panic.
        let empty = RecordBatch::new_empty(Arc::new(ArrowSchema::empty()));
        assert!(decline_curves(&[empty], 30).is_err());
    }

    #[test]
    fn the_fixture_files_parse() {
        let f = File::open(day_file(NaiveDate::from_ymd_opt(2025, 3, 10).unwrap())).unwrap();
        let batches = read_batches(BufReader::new(f)).unwrap();
        assert_eq!(batches.iter().map(|b| b.num_rows()).sum::<usize>(), 7);
    }
}
