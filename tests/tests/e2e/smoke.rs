use phlo_tests::events;

use crate::support::*;

#[tokio::test]
async fn smoke() -> phlo::Result<()> {
    let dir = tempfile::tempdir()?;
    let (rt, _) = runtime("smoke", dir.path()).await;
    input(
        "smoke",
        vec![events(&[
            ("e1", "2025-01-15T01:00:00Z", 10.0, "a", None),
            ("e2", "2025-01-15T02:00:00Z", 20.0, "b", Some("n")),
            ("e1", "2025-01-15T03:00:00Z", 30.0, "c", None),
            ("e3", "2025-01-15T04:00:00Z", 40.0, "d", None),
        ])],
    );
    let report = rt.materialize("api_events", "2025-01-15").await?;
    println!("{}", serde_json::to_string_pretty(&report)?);
    println!(
        "{}",
        query(&rt, "SELECT * FROM bronze.events ORDER BY id").await
    );
    let report = rt.materialize("api_events", "2025-01-15").await?;
    println!("{}", serde_json::to_string_pretty(&report)?);
    println!("{}", query(&rt, "SELECT * FROM _phlo.runs").await);
    Ok(())
}
