//! The side-by-side bench end to end at a tiny size: every contender script runs every
//! scenario it supports on the same generated input, and `phlo-bench compare` exits
//! successfully only when all of them agree (row counts, key fingerprints, failure
//! counts, check outcomes). Timings at this size mean nothing; agreement does, and it
//! keeps the Python contenders from rotting.
//!
//! Needs `python3`: `scripts/python-env.sh --bench` makes `<repo>/.venv-bench` with the
//! pinned contenders on the first run; without `python3` the test prints `SKIPPED`.

use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;

type TestResult = Result<(), Box<dyn std::error::Error>>;

fn repo_root() -> PathBuf {
    let manifest = Path::new(env!("CARGO_MANIFEST_DIR"));
    manifest.parent().unwrap_or(manifest).to_path_buf()
}

#[test]
fn every_contender_agrees_on_every_scenario() -> TestResult {
    if Command::new("python3").arg("--version").output().is_err() {
        println!("SKIPPED: python3 not found; the contenders need it");
        return Ok(());
    }
    let root = repo_root();
    let env = Command::new("bash")
        .arg(root.join("scripts/python-env.sh"))
        .arg("--bench")
        .output()?;
    assert!(
        env.status.success(),
        "scripts/python-env.sh --bench failed:\n{}",
        String::from_utf8_lossy(&env.stderr)
    );
    let work = tempfile::tempdir()?;
    let json = work.path().join("out.json");
    let out = Command::new(env!("CARGO_BIN_EXE_phlo-bench"))
        .args([
            "compare",
            "--rows",
            "3000",
            "--wells-rows",
            "3000",
            "--repeat",
            "1",
            "--work",
        ])
        .arg(work.path())
        .arg("--json")
        .arg(&json)
        .output()?;
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "compare failed:\n{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let doc: Value = serde_json::from_str(&std::fs::read_to_string(&json)?)?;
    let scenarios = doc["scenarios"].as_array().ok_or("no scenarios")?;
    let ids: Vec<&str> = scenarios.iter().filter_map(|s| s["id"].as_str()).collect();
    assert_eq!(ids, ["S1", "S2", "S3 0%", "S3 50%", "S4", "S5"]);
    let contenders = |i: usize| -> Vec<&str> {
        scenarios[i]["lines"]
            .as_array()
            .map(|l| l.iter().filter_map(|l| l["contender"].as_str()).collect())
            .unwrap_or_default()
    };
    assert_eq!(
        contenders(0),
        ["phlo", "polars + deltalake", "duckdb", "floor"]
    );
    assert_eq!(
        contenders(2),
        ["phlo", "pandas + pandera", "polars + deltalake", "duckdb"]
    );
    assert_eq!(contenders(4), ["phlo", "polars + deltalake", "duckdb"]);
    assert_eq!(contenders(5), ["phlo", "dbt-duckdb"]);
    for s in scenarios {
        assert!(
            s["disagreement"].is_null(),
            "{}: {}",
            s["id"],
            s["disagreement"]
        );
    }
    // The generated truth: S1 keeps 90% of its rows, S2 adds 60% of its rows as new keys,
    // S3 at 50% finds about half the rows invalid, S4 passes every check.
    let phlo = |i: usize| &scenarios[i]["lines"][0]["result"];
    assert_eq!(phlo(0)["rows_out"], 2700);
    assert_eq!(phlo(1)["rows_out"], 30_000 + 1800);
    assert_eq!(phlo(2)["invalid"], 0);
    let invalid = phlo(3)["invalid"].as_u64().ok_or("no invalid count")?;
    assert!(
        (13_500..16_500).contains(&invalid),
        "{invalid} of 30000 invalid"
    );
    let checks = phlo(4)["checks"].as_object().ok_or("no checks")?;
    assert_eq!(checks.len(), 7);
    assert!(checks.values().all(|v| v == true), "{checks:?}");
    // S5: 10 wells × 300 days from 2015-01-01 (to 2015-10-27): 10 months and 1 year a well.
    let tables = &phlo(5)["tables"];
    assert_eq!(phlo(5)["rows_in"], 3000);
    assert_eq!(tables["stg_well_production"], 3000);
    assert_eq!(tables["int_moving_averages"], 3000);
    assert_eq!(tables["mart_production_monthly"], 100);
    assert_eq!(tables["mart_revenue"], 100);
    assert_eq!(tables["mart_production_yearly"], 10);
    Ok(())
}
