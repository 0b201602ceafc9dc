//! Retries fire on transient errors only, with exponential backoff.

use phlo::{Error, RunStatus};
use phlo_tests::{Fixture, events, set_fixture};

use crate::support::*;

const DAY: &str = "2025-01-15";

#[tokio::test]
async fn transient_errors_are_retried_with_backoff() -> phlo::Result<()> {
    let dir = tempfile::tempdir()?;
    let (rt, clock) = runtime("flaky", dir.path()).await;
    set_fixture(
        "flaky",
        Fixture::FlakyThen(
            2,
            vec![events(&[("e1", "2025-01-15T01:00:00Z", 1.0, "a", None)])],
        ),
    );
    let r = rt.materialize("events_flaky", DAY).await?;
    assert_eq!(
        (r.status, r.attempts, r.rows_inserted),
        (RunStatus::Success, 3, 1)
    );
    let sleeps = clock.sleeps();
    assert_eq!(sleeps.len(), 2);
    // retry_delay_seconds = 2: 2 s × 2^(n-1) × jitter in [0.5, 1.5).
    assert!(
        sleeps[0].as_secs_f64() >= 1.0 && sleeps[0].as_secs_f64() < 3.0,
        "{sleeps:?}"
    );
    assert!(
        sleeps[1].as_secs_f64() >= 2.0 && sleeps[1].as_secs_f64() < 6.0,
        "{sleeps:?}"
    );
    Ok(())
}

#[tokio::test]
async fn retries_stop_after_max_retries() -> phlo::Result<()> {
    let dir = tempfile::tempdir()?;
    let (rt, clock) = runtime("always_down", dir.path()).await;
    set_fixture("always_down", Fixture::AlwaysTransient);
    let err = rt.materialize("events_flaky", DAY).await;
    assert!(
        matches!(
            &err,
            Err(Error::Asset {
                transient: true,
                ..
            })
        ),
        "{err:?}"
    );
    let last = rt.runs().await?.pop().unwrap_or_else(|| panic!("no run"));
    assert_eq!(last.attempts, 4, "one call and max_retries = 3 retries");
    assert_eq!(clock.sleeps().len(), 3);
    assert_eq!(version(&rt, "bronze.events_flaky").await, None);
    Ok(())
}

#[tokio::test]
async fn deterministic_failures_are_not_retried() -> phlo::Result<()> {
    let dir = tempfile::tempdir()?;
    let (rt, clock) = runtime("not_retried", dir.path()).await;
    input(
        "not_retried",
        vec![events(&[("e1", "2025-01-15T01:00:00Z", 1000.0, "a", None)])],
    );
    let err = rt.materialize("events_flaky", DAY).await;
    assert!(
        err.as_ref()
            .err()
            .and_then(Error::validation_report)
            .is_some(),
        "{err:?}"
    );
    set_fixture("not_retried", Fixture::Fail("bad request".into()));
    let err = rt.materialize("events_flaky", DAY).await;
    assert!(
        matches!(
            &err,
            Err(Error::Asset {
                transient: false,
                ..
            })
        ),
        "{err:?}"
    );
    let attempts: Vec<u32> = rt.runs().await?.iter().map(|r| r.attempts).collect();
    assert_eq!(attempts, [1, 1]);
    assert!(clock.sleeps().is_empty());
    Ok(())
}
