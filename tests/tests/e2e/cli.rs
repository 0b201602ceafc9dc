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
