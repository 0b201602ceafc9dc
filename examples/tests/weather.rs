//! The weather pipeline end to end: the example API on a loopback port, a 3-day backfill
//! through the REST source into a temporary warehouse, a re-run that changes nothing, and
//! a wrong token that fails the run and writes nothing.

use std::sync::Arc;

use phlo::arrow::util::pretty::pretty_format_batches;
use phlo::crates::core::names::TableName;
use phlo::prelude::*;
use phlo::{FixedClock, SequentialRunIds};
use phlo_examples::weather;

type TestResult = Result<(), Box<dyn std::error::Error>>;

const TABLE: &str = "bronze.weather_observations";

#[tokio::test]
async fn three_days_from_the_api_then_a_rerun_and_a_wrong_token() -> TestResult {
    let server = weather::serve("127.0.0.1:0").await?;
    weather::configure(server.url(), weather::DEMO_TOKEN);
    let dir = tempfile::tempdir()?;
    let now = DateTime::from_timestamp(1_737_000_000, 0).unwrap_or_default();
    let rt = Runtime::builder(dir.path())
        .project(phlo_examples::PROJECT)
        .clock(Arc::new(FixedClock::new(now)))
        .run_ids(Arc::new(SequentialRunIds::new("weather")))
        .build()
        .await?;

    let report = rt
        .backfill("weather_observations", "2025-01-13", "2025-01-15")
        .await?;
    assert!(report.all_succeeded(), "{report:?}");
    let rows = pretty_format_batches(
        &rt.sql(&format!(
            "SELECT count(*) AS n, count(DISTINCT station) AS stations, count(wind_kph) AS wind, \
             min(observed_at) AS first, max(observed_at) AS last FROM {TABLE}"
        ))
        .await?,
    )?
    .to_string();
    // 4 stations × 24 hours × 3 days; KDEN reports no wind for 6 hours a day.
    assert!(
        rows.contains("| 288 | 4        | 270  | 2025-01-13T00:00:00Z | 2025-01-15T23:00:00Z |"),
        "{rows}"
    );
    // 96 records a day in pages of 25: 4 requests a day.
    assert_eq!(server.requests().len(), 12);

    // The same day again: the API answers the same, nothing is rewritten.
    let name = TableName::parse(TABLE)?;
    let before = rt.store().version(&name).await?;
    let again = rt.materialize("weather_observations", "2025-01-14").await?;
    assert_eq!((again.rows_in, again.rows_unchanged), (96, 96));
    assert_eq!(rt.store().version(&name).await?, before);

    // A wrong token: 401, a typed error, the table as it was.
    weather::configure(server.url(), "expired");
    let err = rt
        .materialize("weather_observations", "2025-01-12")
        .await
        .expect_err("401");
    assert!(err.to_string().contains("401"), "{err}");
    assert_eq!(rt.store().version(&name).await?, before);
    weather::configure(server.url(), weather::DEMO_TOKEN);
    Ok(())
}
