//! Lenient validation: invalid rows go to `ns.<table>__quarantine`, never to the table.

use phlo::prelude::*;
use phlo_tests::events;

use crate::support::*;

const DAY: &str = "2025-01-15";

#[tokio::test]
async fn invalid_rows_are_quarantined_and_valid_rows_published() -> phlo::Result<()> {
    let dir = tempfile::tempdir()?;
    let (rt, _) = runtime("lenient", dir.path()).await;
    input(
        "lenient",
        vec![events(&[
            ("ok1", "2025-01-15T01:00:00Z", 10.0, "a", None),
            ("bad_range", "2025-01-15T02:00:00Z", 101.0, "b", None),
            ("bad_both", "2025-01-15T03:00:00Z", -1.0, "x", None),
            ("bad_time", "soon", 5.0, "c", None),
            ("ok2", "2025-01-15T04:00:00Z", 20.0, "d", None),
        ])],
    );
    let r = rt.materialize("events_lenient", DAY).await?;
    assert_eq!(r.status, RunStatus::Success);
    assert_eq!(
        (
            r.rows_in,
            r.rows_invalid,
            r.rows_quarantined,
            r.rows_inserted
        ),
        (5, 3, 3, 2)
    );
    assert_eq!(r.validation.rows_failed, 3);
    assert_eq!(
        query(&rt, "SELECT id FROM silver.events_lenient ORDER BY id").await,
        "+-----+\n| id  |\n+-----+\n| ok1 |\n| ok2 |\n+-----+"
    );
    assert_eq!(
        query(&rt, "SELECT id, ts, _phlo_failed_checks AS failed, _phlo_partition_date AS day FROM silver.events_lenient__quarantine ORDER BY id").await,
        "+-----------+----------------------+--------------------------------------------------------+------------+\n\
         | id        | ts                   | failed                                                 | day        |\n\
         +-----------+----------------------+--------------------------------------------------------+------------+\n\
         | bad_both  | 2025-01-15T03:00:00Z | [ge(value, 0.0), isin(category, [\"a\", \"b\", \"c\", \"d\"])] | 2025-01-15 |\n\
         | bad_range | 2025-01-15T02:00:00Z | [le(value, 100.0)]                                     | 2025-01-15 |\n\
         | bad_time  |                      | [cast(ts, Utf8 -> Timestamp(µs, UTC))]                 | 2025-01-15 |\n\
         +-----------+----------------------+--------------------------------------------------------+------------+"
    );
    // Re-running is idempotent for both tables; fixing the source clears the quarantine.
    let v = version(&rt, "silver.events_lenient__quarantine").await;
    rt.materialize("events_lenient", DAY).await?;
    assert_eq!(version(&rt, "silver.events_lenient__quarantine").await, v);
    input(
        "lenient",
        vec![events(&[("ok1", "2025-01-15T01:00:00Z", 10.0, "a", None)])],
    );
    let fixed = rt.materialize("events_lenient", DAY).await?;
    assert_eq!(fixed.rows_quarantined, 0);
    assert_eq!(
        query(
            &rt,
            "SELECT count(*) AS n FROM silver.events_lenient__quarantine"
        )
        .await,
        "+---+\n| n |\n+---+\n| 0 |\n+---+"
    );
    Ok(())
}

#[tokio::test]
async fn validate_false_skips_constraints_but_not_structure() -> phlo::Result<()> {
    let dir = tempfile::tempdir()?;
    let (rt, _) = runtime("unvalidated", dir.path()).await;
    input(
        "unvalidated",
        vec![events(&[(
            "e1",
            "2025-01-15T01:00:00Z",
            500.0,
            "zzz",
            None,
        )])],
    );
    let r = rt.materialize("events_unvalidated", DAY).await?;
    assert_eq!(r.rows_inserted, 1);
    input(
        "unvalidated",
        vec![events(&[("e2", "never", 1.0, "a", None)])],
    );
    let err = rt.materialize("events_unvalidated", DAY).await;
    assert!(
        err.as_ref()
            .err()
            .and_then(phlo::Error::validation_report)
            .is_some(),
        "{err:?}"
    );
    Ok(())
}
