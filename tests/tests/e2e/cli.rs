//! The CLI a user's binary gets from `phlo::cli::main()`: exit codes per outcome.

use std::process::ExitCode;

fn run(dir: &std::path::Path, args: &[&str]) -> String {
    let mut argv = vec!["app", "--warehouse"];
    let dir = dir.to_string_lossy().to_string();
    argv.push(&dir);
    argv.extend_from_slice(args);
    format!("{:?}", phlo::cli::run(argv))
}

fn code(n: u8) -> String {
    format!("{:?}", ExitCode::from(n))
}

#[test]
fn exit_codes_tell_success_run_failure_and_usage_errors() -> std::io::Result<()> {
    let dir = tempfile::tempdir()?;
    let d = dir.path();
    assert_eq!(run(d, &["list"]), code(0));
    assert_eq!(run(d, &["--json", "list"]), code(0));
    // No fixture for CLI run ids: the asset returns no rows → no_data, success.
    assert_eq!(
        run(
            d,
            &["materialize", "api_events", "--partition", "2025-01-15"]
        ),
        code(0)
    );
    assert_eq!(
        run(
            d,
            &[
                "backfill",
                "api_events",
                "--from",
                "2025-01-15",
                "--to",
                "2025-01-16"
            ]
        ),
        code(0)
    );
    assert_eq!(run(d, &["runs", "--limit", "2"]), code(0));
    assert_eq!(
        run(d, &["status"]),
        code(0),
        "nothing has succeeded yet: UNKNOWN"
    );
    assert_eq!(run(d, &["--json", "runs"]), code(0));
    assert_eq!(run(d, &["sql", "SELECT count(*) FROM _phlo.runs"]), code(0));
    assert_eq!(
        run(d, &["--json", "sql", "SELECT status FROM _phlo.runs"]),
        code(0)
    );
    // A run that fails (timeout) → 1.
    assert_eq!(
        run(
            d,
            &[
                "materialize",
                "events_slow_sync",
                "--partition",
                "2025-01-15"
            ]
        ),
        code(1)
    );
    // Configuration and usage errors → 2.
    assert_eq!(
        run(d, &["materialize", "nope", "--partition", "2025-01-15"]),
        code(2)
    );
    assert_eq!(
        run(
            d,
            &["materialize", "api_events", "--partition", "15/01/2025"]
        ),
        code(2)
    );
    assert_eq!(run(d, &["sql", "SELEC nonsense"]), code(2));
    assert_eq!(run(d, &["frobnicate"]), code(2));
    assert_eq!(run(d, &["check", "bronze.nope"]), code(2));
    Ok(())
}

#[test]
fn each_failure_class_reaches_its_exit_code() -> std::io::Result<()> {
    let dir = tempfile::tempdir()?;
    let d = dir.path();
    // A blocking check that fails on data already in the table → 1.
    let tokio = tokio::runtime::Runtime::new()?;
    tokio.block_on(async {
        let (rt, _) = crate::support::runtime("cli_block", d).await;
        crate::support::input(
            "cli_block",
            vec![phlo_tests::events(&[
                ("e1", "2025-01-15T01:00:00Z", 10.0, "a", Some("x")),
                ("e2", "2025-01-15T02:00:00Z", 20.0, "b", Some("x")),
            ])],
        );
        rt.materialize("events_audited", "2025-01-15")
            .await
            .unwrap_or_else(|e| panic!("seed: {e}"));
        rt.materialize("api_events", "2025-01-15")
            .await
            .unwrap_or_else(|e| panic!("seed: {e}"));
    });
    // api_events declares freshness_hours = (24, 48); by the system clock its latest day
    // has never run → FAIL → 1.
    assert_eq!(run(d, &["status", "--asset", "api_events"]), code(1));
    assert_eq!(
        run(d, &["--json", "status", "--asset", "events_first"]),
        code(0)
    );
    assert_eq!(
        run(
            d,
            &[
                "check",
                "bronze.events_audited",
                "--partition",
                "2025-01-15"
            ]
        ),
        code(0)
    );
    assert_eq!(
        run(
            d,
            &[
                "check",
                "bronze.events_audited",
                "--partition",
                "2025-01-16"
            ]
        ),
        code(1),
        "an empty partition fails the blocking count check"
    );
    // Keys are parsed in the asset's own form: an ambiguous hour is a usage error → 2.
    assert_eq!(
        run(
            d,
            &[
                "materialize",
                "events_hourly",
                "--partition",
                "2025-10-26T01"
            ]
        ),
        code(2)
    );
    // Plans are printed without running anything → 0.
    assert_eq!(
        run(
            d,
            &[
                "backfill",
                "events_hourly",
                "--from",
                "2025-10-26T00",
                "--to",
                "2025-10-26T03",
                "--explain"
            ]
        ),
        code(0)
    );
    assert_eq!(
        run(
            d,
            &[
                "--json",
                "materialize",
                "events_by_region",
                "--partition",
                "eu",
                "--explain"
            ]
        ),
        code(0)
    );
    // -v and -q are accepted, together they are a usage error.
    assert_eq!(run(d, &["-v", "list"]), code(0));
    assert_eq!(run(d, &["-q", "-v", "list"]), code(2));
    Ok(())
}

#[test]
fn error_lines_say_each_cause_once() {
    let e = phlo::Error::Asset {
        asset: "a".into(),
        transient: false,
        error: Box::new(phlo::Error::msg("upstream said 400")),
    };
    let text = phlo::cli::error_lines(&e);
    assert_eq!(text, "error: asset `a` failed: upstream said 400");
    assert_eq!(format!("{:?}", phlo::cli::exit_code(&e)), code(1));
    let usage = phlo::Error::InvalidArgument {
        message: "bad".into(),
    };
    assert_eq!(format!("{:?}", phlo::cli::exit_code(&usage)), code(2));
}
