//! SQL models and seeds: registration, graph errors, selection, `build` in dependency
//! order with skip-downstream, every materialization and its incremental-equals-full law.

use std::sync::Arc;

use phlo::prelude::*;
use phlo::registry::AssetKind;
use phlo::{BuildStatus, FixedClock, Project, ProjectFile, Registry, SequentialRunIds};

use crate::support::{now, query, version};

/// One day's readings of three wells.
#[derive(Schema)]
pub struct WellReading {
    /// Well.
    well_code: String,
    /// Day.
    day: NaiveDate,
    /// Barrels.
    oil: f64,
}

/// A correction of the readings, seen only by the staleness test's runs (`stale-…`), so
/// the tests running beside it read the same rows as ever.
static CORRECTION: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);

/// Readings that depend only on the day: well C is shut in (0 bbl) on even days.
#[ingestion(table = "bronze.well_readings", unique_key = ["well_code", "day"], schema = WellReading)]
pub async fn well_readings(ctx: &PartitionContext) -> phlo::Result<Vec<WellReading>> {
    let day = ctx.partition_date();
    let correction = if ctx.run_id().starts_with("stale-") {
        f64::from(CORRECTION.load(std::sync::atomic::Ordering::SeqCst))
    } else {
        0.0
    };
    let n = f64::from(day.format("%d").to_string().parse::<u32>().unwrap_or(1)) + correction;
    Ok(["A", "B", "C"]
        .iter()
        .enumerate()
        .map(|(i, w)| WellReading {
            well_code: (*w).to_string(),
            day,
            oil: if *w == "C" && (n as u32).is_multiple_of(2) {
                0.0
            } else {
                10.0 * n + i as f64
            },
        })
        .collect())
}

const PROJECT: Project = Project {
    models: phlo::models!("project/models"),
    seeds: phlo::seeds!("project/seeds"),
    tests: phlo::models!("project/tests"),
};

const BROKEN: Project = Project {
    models: phlo::models!("project_broken/models"),
    seeds: &[],
    tests: phlo::models!("project_broken/tests"),
};

/// A registry of the readings asset and `project`.
fn registry(project: Project) -> phlo::Result<Registry> {
    let readings = Registry::global()?.get("well_readings")?.descriptor;
    Registry::from_descriptors([readings])?.with_project(project)
}

async fn runtime(test: &str, dir: &std::path::Path, project: Project) -> Runtime {
    Runtime::builder(dir)
        .registry(registry(project).unwrap_or_else(|e| panic!("{e}")))
        .clock(Arc::new(FixedClock::new(now())))
        .run_ids(Arc::new(SequentialRunIds::new(test)))
        .build()
        .await
        .unwrap_or_else(|e| panic!("runtime: {e}"))
}

fn file(path: &'static str, text: &'static str) -> ProjectFile {
    ProjectFile { path, text }
}

fn leaked(files: Vec<ProjectFile>) -> &'static [ProjectFile] {
    Box::leak(files.into_boxed_slice())
}

#[tokio::test]
async fn a_project_registers_models_and_seeds_with_their_edges() {
    let r = registry(PROJECT).unwrap_or_else(|e| panic!("{e}"));
    let stg = r.get("stg_readings").unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(stg.kind(), AssetKind::Sql);
    assert_eq!(stg.table.to_string(), "staging.stg_readings");
    let deps: Vec<(&str, String)> = stg
        .deps
        .iter()
        .map(|d| (d.asset.as_str(), format!("{:?}", d.mapping)))
        .collect();
    assert_eq!(
        deps,
        [
            ("well_readings", "TimeWindow".to_string()),
            ("well_prices", "All".to_string())
        ]
    );
    let seed = r.get("well_prices").unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(
        (seed.kind(), seed.table.to_string().as_str()),
        (AssetKind::Seed, "seeds.well_prices")
    );
    let totals = r.get("mart_well_totals").unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(totals.deps[0].asset, "stg_readings");
    assert_eq!(format!("{:?}", totals.deps[0].mapping), "All");
}

#[tokio::test]
async fn graph_mistakes_are_errors_naming_the_assets() {
    let unknown = Project {
        models: leaked(vec![file(
            "m.sql",
            "SELECT * FROM {{ ref('well_reading') }}",
        )]),
        seeds: &[],
        tests: &[],
    };
    let e = registry(unknown)
        .err()
        .map(|e| e.to_string())
        .unwrap_or_default();
    assert!(
        e.contains("well_reading") && e.contains("did you mean") && e.contains("well_readings"),
        "{e}"
    );
    let cycle = Project {
        models: leaked(vec![
            file("a.sql", "SELECT * FROM {{ ref('b') }}"),
            file("b.sql", "SELECT * FROM {{ ref('c') }}"),
            file("c.sql", "SELECT * FROM {{ ref('a') }}"),
        ]),
        seeds: &[],
        tests: &[],
    };
    let e = registry(cycle)
        .err()
        .map(|e| e.to_string())
        .unwrap_or_default();
    assert!(e.contains("a → c → b → a"), "{e}");
    let bad_header = Project {
        models: leaked(vec![file(
            "m.sql",
            "-- phlo: materialized = \"incremental\"\nSELECT 1 AS x",
        )]),
        seeds: &[],
        tests: &[],
    };
    let e = registry(bad_header)
        .err()
        .map(|e| e.to_string())
        .unwrap_or_default();
    assert!(e.contains("unique_key"), "{e}");
    let partitioned_table = Project {
        models: leaked(vec![file(
            "m.sql",
            "-- phlo: partitions = \"daily\"\nSELECT 1 AS x",
        )]),
        seeds: &[],
        tests: &[],
    };
    let e = registry(partitioned_table)
        .err()
        .map(|e| e.to_string())
        .unwrap_or_default();
    assert!(e.contains("replace_partition"), "{e}");
    let clash = Project {
        models: leaked(vec![file(
            "m.sql",
            "-- phlo: table = \"bronze.well_readings\"\nSELECT 1 AS x",
        )]),
        seeds: &[],
        tests: &[],
    };
    let e = registry(clash)
        .err()
        .map(|e| e.to_string())
        .unwrap_or_default();
    assert!(
        e.contains("bronze.well_readings") && e.contains("well_readings"),
        "{e}"
    );
}

#[tokio::test]
async fn selections_mean_what_dbt_users_expect() {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let rt = runtime("select", dir.path(), PROJECT).await;
    let sel = |s: &str| rt.select(s, None).unwrap_or_else(|e| panic!("{s}: {e}"));
    assert_eq!(
        sel("+mart_well_totals"),
        [
            "well_prices",
            "well_readings",
            "stg_readings",
            "mart_well_totals"
        ]
    );
    assert_eq!(
        sel("stg_readings+"),
        [
            "stg_readings",
            "assert_no_negative_revenue",
            "mart_well_totals",
            "v_active_wells",
            "mart_active_count"
        ]
    );
    assert_eq!(sel("kind:test"), ["assert_no_negative_revenue"]);
    assert_eq!(sel("tag:mart"), ["mart_well_totals"]);
    assert_eq!(sel("kind:seed"), ["well_prices"]);
    let mut wells = sel("group:wells,kind:sql");
    wells.sort();
    assert_eq!(
        wells,
        ["mart_well_totals", "stg_readings", "stg_readings_full"]
    );
    assert_eq!(
        sel("1+stg_readings"),
        ["well_prices", "well_readings", "stg_readings"]
    );
    assert_eq!(
        rt.select("stg_readings+", Some("mart_active_count v_active_wells"))
            .unwrap_or_else(|e| panic!("{e}")),
        [
            "stg_readings",
            "assert_no_negative_revenue",
            "mart_well_totals"
        ]
    );
    let e = rt
        .select("stg_reading", None)
        .err()
        .map(|e| e.to_string())
        .unwrap_or_default();
    assert!(e.contains("stg_readings"), "{e}");
}

#[tokio::test]
async fn build_runs_the_graph_in_order_and_incremental_equals_full() {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let rt = runtime("build", dir.path(), PROJECT).await;
    for day in ["2025-01-01", "2025-01-02", "2025-01-03"] {
        let report = rt
            .build_selection("*", None, Some(day))
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        assert!(report.succeeded(), "{day}: {report:?}");
        let order: Vec<&str> = report.assets.iter().map(|a| a.asset.as_str()).collect();
        let at = |n: &str| order.iter().position(|x| *x == n).unwrap_or(usize::MAX);
        assert!(at("well_readings") < at("stg_readings"));
        assert!(at("well_prices") < at("stg_readings"));
        assert!(at("stg_readings") < at("mart_well_totals"));
        assert!(at("v_active_wells") < at("mart_active_count"));
        assert!(at("stg_readings") < at("assert_no_negative_revenue"));
        assert_eq!(
            report.get("assert_no_negative_revenue").map(|a| a.kind),
            Some(AssetKind::Test)
        );
    }
    // Incremental (one partition merged per build) equals the full rebuild.
    let incremental = query(
        &rt,
        "SELECT well_code, day, oil, revenue FROM staging.stg_readings ORDER BY well_code, day",
    )
    .await;
    let full = query(
        &rt,
        "SELECT well_code, day, oil, revenue FROM staging.stg_readings_full ORDER BY well_code, day",
    )
    .await;
    assert_eq!(incremental, full);
    assert!(
        incremental.contains("| A         | 2025-01-03 | 30.0 | 2115.0  |"),
        "{incremental}"
    );
    // Replace-partition holds each day once.
    let replaced = query(
        &rt,
        "SELECT COUNT(*) AS n, COUNT(DISTINCT day) AS days FROM staging.stg_readings_replaced",
    )
    .await;
    assert!(replaced.contains("| 9 | 3    |"), "{replaced}");
    // The mart over all partitions, and the count through the view (nothing stored for it).
    let totals = query(
        &rt,
        "SELECT well_code, total_oil, days FROM marts.mart_well_totals ORDER BY well_code",
    )
    .await;
    assert!(
        totals.contains("| A         | 60.0      | 3    |"),
        "{totals}"
    );
    assert!(
        totals.contains("| C         | 44.0      | 3    |"),
        "{totals}"
    );
    let active = query(&rt, "SELECT active_wells FROM marts.mart_active_count").await;
    assert!(active.contains("| 3            |"), "{active}");
    assert_eq!(version(&rt, "marts.v_active_wells").await, None);
    // `sql` reads a view model as it reads a stored table.
    let view = query(
        &rt,
        "SELECT well_code FROM marts.v_active_wells ORDER BY well_code",
    )
    .await;
    assert!(view.contains("| A ") && view.contains("| C "), "{view}");
    // Re-running a day is idempotent: nothing changes in the incremental model.
    let before = version(&rt, "staging.stg_readings").await;
    let again = rt
        .build_selection("stg_readings", None, Some("2025-01-02"))
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert!(again.succeeded());
    assert_eq!(again.assets[0].runs[0].rows_inserted, 0);
    assert_eq!(again.assets[0].runs[0].rows_updated, 0);
    assert_eq!(version(&rt, "staging.stg_readings").await, before);
}

#[tokio::test]
async fn a_failed_model_skips_its_downstream_and_independent_branches_go_on() {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let rt = runtime("broken", dir.path(), BROKEN).await;
    // One at a time: the same outcome as in parallel, in the same (dependency) order.
    let report = rt
        .build_selection_with("*", None, Some("2025-01-01"), 1)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let order: Vec<&str> = report.assets.iter().map(|a| a.asset.as_str()).collect();
    let serial_order: Vec<String> = order.iter().map(|s| s.to_string()).collect();
    assert!(!report.succeeded());
    let status = |n: &str| report.get(n).map(|a| a.status.clone());
    assert_eq!(status("well_readings"), Some(BuildStatus::Success));
    assert_eq!(status("good_branch"), Some(BuildStatus::Success));
    assert!(
        matches!(status("assert_no_oil"), Some(BuildStatus::Failed { error })
            if error.contains("returned 3 rows") && error.contains("| A ")),
        "{report:?}"
    );
    assert!(
        matches!(status("bad_model"), Some(BuildStatus::Failed { error }) if error.contains("no_such_column")),
        "{report:?}"
    );
    assert_eq!(
        status("after_bad"),
        Some(BuildStatus::Skipped {
            because: "bad_model".into()
        })
    );
    assert_eq!(version(&rt, "main.bad_model").await, None);
    assert_eq!(version(&rt, "main.after_bad").await, None);
    assert!(version(&rt, "main.good_branch").await.is_some());
    let parallel = rt
        .build_selection_with("*", None, Some("2025-01-01"), 4)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let again: Vec<String> = parallel.assets.iter().map(|a| a.asset.clone()).collect();
    assert_eq!(again, serial_order);
    assert_eq!(
        parallel.get("after_bad").map(|a| a.status.clone()),
        Some(BuildStatus::Skipped {
            because: "bad_model".into()
        })
    );
}

#[tokio::test]
async fn the_graph_draws_as_mermaid_dot_and_json() {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let rt = runtime("graph", dir.path(), PROJECT).await;
    let graph = rt.registry().graph().unwrap_or_else(|e| panic!("{e}"));
    let chosen: std::collections::BTreeSet<String> = rt
        .select("+mart_well_totals", None)
        .unwrap_or_else(|e| panic!("{e}"))
        .into_iter()
        .collect();
    let mermaid = graph.to_mermaid(&chosen);
    assert!(
        mermaid.contains("stg_readings") && mermaid.contains("-->"),
        "{mermaid}"
    );
    assert!(!mermaid.contains("v_active_wells"), "{mermaid}");
    let dot = graph.to_dot(&chosen);
    assert!(dot.starts_with("digraph"), "{dot}");
    let json = graph.to_json(&chosen);
    assert_eq!(json["nodes"].as_array().map(Vec::len), Some(4), "{json}");
}

#[tokio::test]
async fn column_lineage_and_describe_say_where_each_column_comes_from() {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let rt = runtime("lineage", dir.path(), PROJECT).await;
    // Before the upstream tables exist, describe still answers, and says why there is no
    // lineage yet.
    let before = rt
        .describe("stg_readings")
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert!(before.lineage.is_none());
    assert!(
        before
            .lineage_unavailable
            .as_deref()
            .is_some_and(|w| w.contains("materialize it first")),
        "{before:?}"
    );
    let report = rt
        .build_selection("+mart_well_totals", None, Some("2025-01-02"))
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert!(report.succeeded(), "{report:?}");
    let lineage = |asset: &'static str| {
        let rt = &rt;
        async move {
            rt.column_lineage(asset)
                .await
                .unwrap_or_else(|e| panic!("{e}"))
                .into_iter()
                .map(|l| {
                    let sources: Vec<String> = l
                        .sources
                        .iter()
                        .map(|s| {
                            format!(
                                "{}.{}",
                                s.asset.clone().unwrap_or_else(|| s.table.clone()),
                                s.column
                            )
                        })
                        .collect();
                    (l.column, sources)
                })
                .collect::<Vec<_>>()
        }
    };
    let s = |v: &[&str]| v.iter().map(|x| x.to_string()).collect::<Vec<_>>();
    assert_eq!(
        lineage("stg_readings").await,
        [
            ("well_code".to_string(), s(&["well_readings.well_code"])),
            ("day".to_string(), s(&["well_readings.day"])),
            ("oil".to_string(), s(&["well_readings.oil"])),
            (
                "revenue".to_string(),
                s(&["well_readings.oil", "well_prices.price"])
            ),
        ]
    );
    assert_eq!(
        lineage("mart_well_totals").await,
        [
            ("well_code".to_string(), s(&["stg_readings.well_code"])),
            ("total_oil".to_string(), s(&["stg_readings.oil"])),
            ("total_revenue".to_string(), s(&["stg_readings.revenue"])),
            ("days".to_string(), s(&[])),
        ]
    );
    let not_sql = rt
        .column_lineage("well_readings")
        .await
        .err()
        .map(|e| e.to_string())
        .unwrap_or_default();
    assert!(not_sql.contains("SQL model"), "{not_sql}");

    let d = rt
        .describe("mart_well_totals")
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(d.materialized.as_deref(), Some("table"));
    assert_eq!(d.upstream.len(), 1);
    assert_eq!(d.upstream[0].asset, "stg_readings");
    assert_eq!(d.tags, ["mart"]);
    assert_eq!(d.table_version, Some(0));
    assert!(d.last_run.is_some());
    let columns: Vec<&str> = d.columns.iter().map(|c| c.name.as_str()).collect();
    assert!(
        columns.starts_with(&["well_code", "total_oil", "total_revenue", "days"]),
        "{columns:?}"
    );
    let stg = rt
        .describe("stg_readings")
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert!(
        stg.downstream.contains(&"mart_well_totals".to_string()),
        "{:?}",
        stg.downstream
    );

    // The graph's JSON carries each model's column lineage.
    let chosen: std::collections::BTreeSet<String> =
        ["stg_readings".to_string(), "mart_well_totals".to_string()].into();
    let json = rt
        .graph_json(&chosen)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let nodes = json["nodes"].as_array().cloned().unwrap_or_default();
    let mart = nodes
        .iter()
        .find(|n| n["name"] == "mart_well_totals")
        .unwrap_or_else(|| panic!("{json}"));
    assert_eq!(mart["columns"][1]["column"], "total_oil", "{json}");
    assert_eq!(
        mart["columns"][1]["sources"][0]["asset"], "stg_readings",
        "{json}"
    );
}

#[tokio::test]
async fn a_changed_result_is_refused_unless_the_model_allows_new_columns() {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let project = |sql: &'static str| Project {
        models: leaked(vec![file("m.sql", sql)]),
        seeds: &[],
        tests: &[],
    };
    let first = runtime("schema", dir.path(), project("SELECT 1 AS a")).await;
    assert!(
        first
            .build_selection("m", None, None)
            .await
            .unwrap_or_else(|e| panic!("{e}"))
            .succeeded()
    );
    let v = version(&first, "main.m").await;
    let wider = runtime("schema2", dir.path(), project("SELECT 1 AS a, 2 AS b")).await;
    let report = wider
        .build_selection("m", None, None)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert!(
        matches!(&report.assets[0].status, BuildStatus::Failed { error }
            if error.contains("new: `b`") && error.contains("append_new_columns")),
        "{report:?}"
    );
    assert_eq!(version(&wider, "main.m").await, v);
    let allowed = runtime(
        "schema3",
        dir.path(),
        project("-- phlo: on_schema_change = \"append_new_columns\"\nSELECT 1 AS a, 2 AS b"),
    )
    .await;
    let report = allowed
        .build_selection("m", None, None)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert!(report.succeeded(), "{report:?}");
    let rows = query(&allowed, "SELECT a, b FROM main.m").await;
    assert!(rows.contains("| 1 | 2 |"), "{rows}");
    let narrower = runtime(
        "schema4",
        dir.path(),
        project("-- phlo: on_schema_change = \"append_new_columns\"\nSELECT 2 AS b"),
    )
    .await;
    let report = narrower
        .build_selection("m", None, None)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert!(
        matches!(&report.assets[0].status, BuildStatus::Failed { error } if error.contains("missing: `a`")),
        "{report:?}"
    );
}

#[tokio::test]
async fn a_changed_upstream_makes_its_downstream_partitions_stale_and_build_stale_rebuilds_them() {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let rt = runtime("stale", dir.path(), PROJECT).await;
    for day in ["2025-01-01", "2025-01-02"] {
        let report = rt
            .build_selection("*", None, Some(day))
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        assert!(report.succeeded(), "{report:?}");
    }
    let stale = |asset: &'static str| {
        let rt = rt.clone();
        async move { rt.stale(asset).await.unwrap_or_else(|e| panic!("{e}")) }
    };
    assert!(stale("stg_readings").await.is_empty());
    assert!(stale("mart_well_totals").await.is_empty());
    // Each run recorded the upstream versions it read.
    let runs = rt.runs().await.unwrap_or_else(|e| panic!("{e}"));
    let last = runs
        .iter()
        .rev()
        .find(|r| r.asset == "stg_readings")
        .unwrap_or_else(|| panic!("no run"));
    assert!(
        last.upstream_versions.contains_key("well_readings"),
        "{last:?}"
    );
    assert!(
        last.upstream_versions.contains_key("well_prices"),
        "{last:?}"
    );

    // Day 1 of the readings re-run on the same rows: no commit, nothing stale.
    let before = version(&rt, "bronze.well_readings").await;
    let report = rt
        .materialize("well_readings", "2025-01-01")
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(report.table_version_after, before, "same rows: no commit");
    assert!(stale("stg_readings").await.is_empty());
    // The seed rebuilt from the same file: no commit either.
    rt.materialize("well_prices", phlo::Unpartitioned)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert!(stale("stg_readings_full").await.is_empty());
    // Day 1 corrected: day 1 of the staging model (identity by day) and the unpartitioned
    // models reading the readings become stale; day 2 does not.
    CORRECTION.store(100, std::sync::atomic::Ordering::SeqCst);
    rt.materialize("well_readings", "2025-01-01")
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(
        stale("stg_readings").await,
        [Some("2025-01-01".to_string())]
    );
    assert_eq!(stale("stg_readings_full").await, [None]);
    assert_eq!(
        stale("stg_readings_replaced").await,
        [Some("2025-01-01".to_string())]
    );
    assert!(
        stale("mart_well_totals").await.is_empty(),
        "not until staging changes"
    );
    // `status` says the same per partition.
    let status = rt.status().await.unwrap_or_else(|e| panic!("{e}"));
    let stg = status
        .iter()
        .find(|s| s.asset == "stg_readings")
        .unwrap_or_else(|| panic!("no status"));
    let flags: Vec<(Option<&str>, bool)> = stg
        .partitions
        .iter()
        .map(|p| (p.partition.as_deref(), p.stale))
        .collect();
    assert_eq!(
        flags,
        [(Some("2025-01-01"), true), (Some("2025-01-02"), false)]
    );
    let rebuilt = rt
        .build_stale("*", None)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert!(rebuilt.succeeded(), "{rebuilt:?}");
    let runs_of = |n: &str| rebuilt.get(n).map(|a| a.runs.len()).unwrap_or_default();
    assert_eq!(runs_of("stg_readings"), 1);
    assert_eq!(runs_of("stg_readings_full"), 1);
    assert_eq!(runs_of("stg_readings_replaced"), 1);
    // The staging model changed, so the mart over it was stale in turn and rebuilt.
    assert_eq!(runs_of("mart_well_totals"), 1);
    for asset in [
        "stg_readings",
        "stg_readings_full",
        "stg_readings_replaced",
        "mart_well_totals",
    ] {
        assert!(stale(asset).await.is_empty(), "{asset}");
    }
    let totals = query(
        &rt,
        "SELECT total_oil FROM marts.mart_well_totals WHERE well_code = 'A'",
    )
    .await;
    assert!(totals.contains("| 1030.0    |"), "{totals}");
}

fn prices_checks() -> Vec<Box<dyn phlo::quality::Check>> {
    vec![Box::new(phlo::quality::RelationshipsCheck::new(
        "well_code",
        "seeds.prices",
        "well_code",
    ))]
}

/// A model checked by a `relationships` check against a seed: blocking, so a well
/// without a price is never published.
fn checked_registry(prices: &'static str) -> phlo::Result<Registry> {
    let readings = Registry::global()?.get("well_readings")?.descriptor;
    let project = Project {
        models: leaked(vec![file(
            "staging/r.sql",
            "-- phlo: materialized = \"replace_partition\", partitions = \"daily\"\n\
             SELECT well_code, day, oil FROM {{ ref('well_readings') }}",
        )]),
        seeds: leaked(vec![file("prices.csv", prices)]),
        tests: &[],
    };
    Registry::from_descriptors([readings])?
        .with_project(project)?
        .with_quality([phlo::QualityDescriptor {
            name: "r_checks",
            spec: phlo::QualitySpec {
                table: "staging.r",
                ..phlo::QualitySpec::DEFAULT
            },
            checks: prices_checks,
            custom: None,
            location: phlo::__private::Location {
                file: "tests/e2e/transforms.rs",
                line: 1,
                column: 1,
                module: "e2e::transforms",
            },
        }])
}

#[tokio::test]
async fn quality_checks_gate_a_model_and_relationships_find_orphans() {
    for (prices, publishes) in [
        ("well_code,price\nA,1\nB,2\nC,3\n", true),
        ("well_code,price\nA,1\nB,2\n", false),
    ] {
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        let rt = Runtime::builder(dir.path())
            .registry(checked_registry(prices).unwrap_or_else(|e| panic!("{e}")))
            .clock(Arc::new(FixedClock::new(now())))
            .run_ids(Arc::new(SequentialRunIds::new("checked")))
            .build()
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        let report = rt
            .build_selection("*", None, Some("2025-01-01"))
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        let r = report.get("r").unwrap_or_else(|| panic!("{report:?}"));
        let checks = &r.runs[0].checks;
        assert_eq!(checks.len(), 1, "{r:?}");
        assert_eq!(checks[0].passed, publishes, "{checks:?}");
        if publishes {
            assert!(report.succeeded(), "{report:?}");
            assert!(version(&rt, "staging.r").await.is_some());
        } else {
            assert_eq!((checks[0].failed_count, checks[0].total_count), (1, 3));
            assert_eq!(checks[0].samples[0]["well_code"], "C");
            assert!(
                matches!(&r.status, BuildStatus::Failed { error } if error.contains("relationships"))
            );
            assert_eq!(version(&rt, "staging.r").await, None, "nothing published");
        }
    }
}

#[tokio::test]
async fn an_offset_mapping_reads_the_previous_partition() {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let project = Project {
        models: leaked(vec![file(
            "staging/prev_day.sql",
            "-- phlo: materialized = \"replace_partition\", partitions = \"daily\", start = \"2025-01-01\"\n\
             -- phlo: mappings = { well_readings = \"offset(-1)\" }\n\
             SELECT well_code, day AS read_day, oil FROM {{ ref('well_readings') }}",
        )]),
        seeds: &[],
        tests: &[],
    };
    let rt = runtime("offset", dir.path(), project).await;
    let dep = &rt
        .registry()
        .get("prev_day")
        .unwrap_or_else(|e| panic!("{e}"))
        .deps[0];
    assert_eq!(format!("{:?}", dep.mapping), "Offset(-1)");
    for day in ["2025-01-01", "2025-01-02", "2025-01-03"] {
        rt.materialize("well_readings", day)
            .await
            .unwrap_or_else(|e| panic!("{e}"));
    }
    // Day 1 has no previous partition: nothing to read, nothing written.
    let first = rt
        .materialize("prev_day", "2025-01-01")
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(first.rows_in, 0);
    rt.materialize("prev_day", "2025-01-03")
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let rows = query(
        &rt,
        "SELECT DISTINCT read_day, _phlo_partition_date FROM staging.prev_day",
    )
    .await;
    assert!(rows.contains("| 2025-01-02 | 2025-01-03 "), "{rows}");
    // A mapping for an asset the model does not read, or one that does not parse.
    for header in [
        "-- phlo: mappings = { nope = \"all\" }\nSELECT * FROM {{ ref('well_readings') }}",
        "-- phlo: mappings = { well_readings = \"sideways\" }\nSELECT * FROM {{ ref('well_readings') }}",
    ] {
        let bad = Project {
            models: leaked(vec![file("m.sql", header)]),
            seeds: &[],
            tests: &[],
        };
        let e = registry(bad)
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(e.contains("mappings"), "{e}");
    }
}

/// Daily events of wells A and B: `production_date` is their event time by name.
const EVENTS_V1: &str = "-- phlo: materialized = \"table\"\n\
     SELECT column1 AS well, CAST(column2 AS DATE) AS production_date, column3 AS oil FROM (VALUES\n\
     ('A', '2025-01-01', 10.0), ('B', '2025-01-01', 20.0),\n\
     ('A', '2025-01-02', 11.0), ('B', '2025-01-02', 21.0),\n\
     ('A', '2025-01-03', 12.0))";

/// The same events with late-arriving corrections of days 1 and 2, and day 4.
const EVENTS_V2: &str = "-- phlo: materialized = \"table\"\n\
     SELECT column1 AS well, CAST(column2 AS DATE) AS production_date, column3 AS oil FROM (VALUES\n\
     ('A', '2025-01-01', 100.0), ('B', '2025-01-01', 20.0),\n\
     ('A', '2025-01-02', 111.0), ('B', '2025-01-02', 21.0),\n\
     ('A', '2025-01-03', 12.0), ('A', '2025-01-04', 13.0))";

/// Meter readings of well C: they declare their event time, a timestamp (23:30 is still
/// day 1, midnight is day 2).
const METER: &str = "-- phlo: materialized = \"table\", event_time = \"read_at\"\n\
     SELECT column1 AS well, CAST(column2 AS TIMESTAMP) AS read_at, column3 AS oil FROM (VALUES\n\
     ('C', '2025-01-01T23:30:00', 5.0), ('C', '2025-01-02T00:00:00', 6.0),\n\
     ('C', '2025-01-03T12:00:00', 7.0))";

/// No event time: read whole by every batch.
const PRICES: &str = "-- phlo: materialized = \"table\"\n\
     SELECT column1 AS well, column2 AS price FROM (VALUES ('A', 2.0), ('B', 3.0), ('C', 4.0))";

/// The revenue query, shared by the microbatch model and its `table` twin.
macro_rules! revenue_sql {
    ($header:literal) => {
        concat!(
            $header,
            "\nSELECT e.well, e.production_date, e.oil * p.price AS revenue\n\
             FROM (\n\
               SELECT well, production_date, oil FROM {{ ref('events') }}\n\
               UNION ALL\n\
               SELECT well, CAST(read_at AS DATE) AS production_date, oil FROM {{ ref('meter') }}\n\
             ) e JOIN {{ ref('prices') }} p ON p.well = e.well"
        )
    };
}

fn microbatch_project(events: &'static str) -> Project {
    Project {
        models: leaked(vec![
            file("raw/events.sql", events),
            file("raw/meter.sql", METER),
            file("raw/prices.sql", PRICES),
            file(
                "silver/mb_revenue.sql",
                revenue_sql!(
                    "-- phlo: materialized = \"microbatch\", event_time = \"production_date\"\n\
                     -- phlo: partitions = \"daily\", begin = \"2025-01-01\", lookback = 2"
                ),
            ),
            file(
                "silver/full_revenue.sql",
                revenue_sql!("-- phlo: materialized = \"table\""),
            ),
            file(
                "silver/mb_read.sql",
                "-- phlo: materialized = \"microbatch\", event_time = \"production_date\", lookback = 0\n\
                 -- phlo: partitions = \"daily\", start = \"2025-01-01\"\n\
                 SELECT COUNT(*) AS rows_read, MIN(production_date) AS first_day,\n\
                 MAX(production_date) AS last_day FROM {{ ref('events') }}",
            ),
            file(
                "raw/v_events.sql",
                "-- phlo: materialized = \"view\"\nSELECT * FROM {{ ref('events') }}",
            ),
            file(
                "silver/mb_view_read.sql",
                "-- phlo: materialized = \"microbatch\", event_time = \"production_date\", lookback = 0\n\
                 -- phlo: partitions = \"daily\", start = \"2025-01-01\"\n\
                 SELECT COUNT(*) AS rows_read FROM {{ ref('v_events') }}",
            ),
        ]),
        seeds: &[],
        tests: &[],
    }
}

/// The partitions a build ran of `asset`, in order.
fn built(report: &phlo::BuildReport, asset: &str) -> Vec<String> {
    report
        .get(asset)
        .map(|o| {
            o.runs
                .iter()
                .map(|r| r.partition.clone().unwrap_or_default())
                .collect()
        })
        .unwrap_or_default()
}

const REVENUE_ROWS: &str = "SELECT well, production_date, revenue FROM";

#[tokio::test]
async fn microbatch_filters_batches_by_event_time_and_equals_the_full_table() {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let rt = runtime("mb", dir.path(), microbatch_project(EVENTS_V1)).await;
    let day2 = rt
        .build_selection("*", None, Some("2025-01-02"))
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert!(day2.succeeded(), "{day2:?}");
    // lookback = 0: only the batch itself; it read day 2's events alone (2 of 5 rows).
    assert_eq!(built(&day2, "mb_read"), ["2025-01-02"]);
    let read = query(
        &rt,
        "SELECT rows_read, first_day, last_day, _phlo_partition_date FROM silver.mb_read",
    )
    .await;
    assert!(
        read.contains("| 2         | 2025-01-02 | 2025-01-02 | 2025-01-02 "),
        "{read}"
    );
    // A view upstream is filtered the same way.
    let read = query(&rt, "SELECT rows_read FROM silver.mb_view_read").await;
    assert!(read.contains("| 2         |"), "{read}");
    // lookback = 2 from day 2 reaches back only to `begin`.
    assert_eq!(built(&day2, "mb_revenue"), ["2025-01-01", "2025-01-02"]);
    // What a build (or a scheduled tick) of a batch runs; other assets run just the key.
    let batches = |asset: &str, key: &str| {
        rt.lookback_batches(asset, key)
            .unwrap_or_else(|e| panic!("{e}"))
    };
    assert_eq!(
        batches("mb_revenue", "2025-01-10"),
        ["2025-01-08", "2025-01-09", "2025-01-10"]
    );
    assert_eq!(batches("mb_read", "2025-01-10"), ["2025-01-10"]);
    assert_eq!(batches("well_readings", "2025-01-10"), ["2025-01-10"]);
    // Each batch holds its own day's rows only: the timestamp upstream's 23:30 reading is
    // day 1, its midnight one day 2; the unfiltered prices joined every batch.
    let per_batch = query(
        &rt,
        "SELECT COUNT(*) AS rows_kept, SUM(CASE WHEN production_date = _phlo_partition_date \
         THEN 0 ELSE 1 END) AS foreign_rows FROM silver.mb_revenue",
    )
    .await;
    assert!(
        per_batch.contains("| 6         | 0            |"),
        "{per_batch}"
    );
    let c = query(
        &rt,
        "SELECT production_date, revenue FROM silver.mb_revenue WHERE well = 'C' ORDER BY 1",
    )
    .await;
    assert!(
        c.contains("| 2025-01-01      | 20.0    |") && c.contains("| 2025-01-02      | 24.0    |"),
        "{c}"
    );
    // Batch by batch (day 3 re-runs days 1 and 2) equals the `table` model of the same SQL.
    let day3 = rt
        .build_selection("*", None, Some("2025-01-03"))
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert!(day3.succeeded(), "{day3:?}");
    assert_eq!(
        built(&day3, "mb_revenue"),
        ["2025-01-01", "2025-01-02", "2025-01-03"]
    );
    let incremental = query(
        &rt,
        &format!("{REVENUE_ROWS} silver.mb_revenue ORDER BY 1, 2"),
    )
    .await;
    let full = query(
        &rt,
        &format!("{REVENUE_ROWS} silver.full_revenue ORDER BY 1, 2"),
    )
    .await;
    assert_eq!(incremental, full);
    assert_eq!(incremental.lines().count(), 4 + 8, "{incremental}");
}

#[tokio::test]
async fn microbatch_lookback_reruns_earlier_batches_and_picks_up_late_data() {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let first = runtime("mb-late", dir.path(), microbatch_project(EVENTS_V1)).await;
    let report = first
        .build_selection("*", None, Some("2025-01-03"))
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert!(report.succeeded(), "{report:?}");
    // Corrections of days 1 and 2 arrive late, with day 4's events.
    let late = runtime("mb-late2", dir.path(), microbatch_project(EVENTS_V2)).await;
    let report = late
        .build_selection("*", None, Some("2025-01-04"))
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert!(report.succeeded(), "{report:?}");
    // Day 4 and the 2 batches before it, each at most one commit replacing its partition
    // (day 3's rows did not change: no commit).
    assert_eq!(
        built(&report, "mb_revenue"),
        ["2025-01-02", "2025-01-03", "2025-01-04"]
    );
    let commits: Vec<_> = report
        .get("mb_revenue")
        .map(|o| {
            o.runs
                .iter()
                .map(|r| (r.table_version_before, r.table_version_after))
                .collect()
        })
        .unwrap_or_default();
    assert_eq!(
        commits,
        [(Some(2), Some(3)), (Some(3), Some(3)), (Some(3), Some(4))]
    );
    let a = query(
        &late,
        "SELECT production_date, revenue FROM silver.mb_revenue WHERE well = 'A' ORDER BY 1",
    )
    .await;
    // Day 2's correction is picked up; day 1 lies outside the lookback and keeps its rows.
    assert!(a.contains("| 2025-01-02      | 222.0   |"), "{a}");
    assert!(a.contains("| 2025-01-01      | 20.0    |"), "{a}");
    assert!(a.contains("| 2025-01-04      | 26.0    |"), "{a}");
    // Re-running day 3 with lookback 2 reaches day 1 too: then it equals the full table.
    let report = late
        .build_selection("mb_revenue", None, Some("2025-01-03"))
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert!(report.succeeded(), "{report:?}");
    let missing_day4 = query(
        &late,
        &format!("{REVENUE_ROWS} silver.full_revenue WHERE production_date < DATE '2025-01-04' ORDER BY 1, 2"),
    )
    .await;
    let incremental = query(
        &late,
        &format!("{REVENUE_ROWS} silver.mb_revenue WHERE production_date < DATE '2025-01-04' ORDER BY 1, 2"),
    )
    .await;
    assert_eq!(incremental, missing_day4);
    assert!(incremental.contains("| 200.0 "), "{incremental}");
}

#[tokio::test]
async fn microbatch_headers_are_validated() {
    for (header, says) in [
        (
            "-- phlo: materialized = \"microbatch\", event_time = \"d\"\nSELECT 1 AS d",
            "partitions",
        ),
        (
            "-- phlo: materialized = \"microbatch\", partitions = \"daily\", start = \"2025-01-01\"\nSELECT 1 AS d",
            "event_time",
        ),
        (
            "-- phlo: materialized = \"microbatch\", partitions = \"daily\", event_time = \"d\", lookback = -1\nSELECT 1 AS d",
            "lookback = -1",
        ),
        (
            "-- phlo: materialized = \"table\", lookback = 1\nSELECT 1 AS d",
            "lookback",
        ),
    ] {
        let bad = Project {
            models: leaked(vec![file("m.sql", header)]),
            seeds: &[],
            tests: &[],
        };
        let e = registry(bad)
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(e.contains(says) && e.contains("m.sql"), "{header}: {e}");
    }
    // A daily model cannot read a monthly upstream partition by partition; a microbatch
    // one reads it by event time, so the edge maps to all of it.
    let monthly = "-- phlo: materialized = \"replace_partition\", partitions = \"monthly\", start = \"2025-01\"\nSELECT DATE '2025-01-01' AS d";
    let over_monthly = |header: &'static str| Project {
        models: leaked(vec![
            file("raw/monthly.sql", monthly),
            file("m.sql", header),
        ]),
        seeds: &[],
        tests: &[],
    };
    let e = registry(over_monthly(
        "-- phlo: materialized = \"replace_partition\", partitions = \"daily\", start = \"2025-01-01\"\nSELECT d FROM {{ ref('monthly') }}",
    ))
    .err()
    .map(|e| e.to_string())
    .unwrap_or_default();
    assert!(e.contains("cannot read `monthly`"), "{e}");
    let r = registry(over_monthly(
        "-- phlo: materialized = \"microbatch\", event_time = \"d\", partitions = \"daily\", start = \"2025-01-01\"\nSELECT d FROM {{ ref('monthly') }}",
    ))
    .unwrap_or_else(|e| panic!("{e}"));
    let dep = &r.get("m").unwrap_or_else(|e| panic!("{e}")).deps[0];
    assert_eq!(format!("{:?}", dep.mapping), "All");
}

#[tokio::test]
async fn sync_all_columns_adds_and_drops_columns_and_reports_them() {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let project = |path: &'static str, sql: &'static str| Project {
        models: leaked(vec![file(path, sql)]),
        seeds: &[],
        tests: &[],
    };
    let first = runtime(
        "sync",
        dir.path(),
        project("m.sql", "SELECT 1 AS a, 2 AS b"),
    )
    .await;
    assert!(
        first
            .build_selection("m", None, None)
            .await
            .unwrap_or_else(|e| panic!("{e}"))
            .succeeded()
    );
    let v = version(&first, "main.m").await;
    let synced = runtime(
        "sync2",
        dir.path(),
        project(
            "m.sql",
            "-- phlo: on_schema_change = \"sync_all_columns\"\nSELECT 1 AS a, 3 AS c",
        ),
    )
    .await;
    let report = synced
        .build_selection("m", None, None)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert!(report.succeeded(), "{report:?}");
    let run = &report.assets[0].runs[0];
    assert_eq!(run.added_columns, ["c"]);
    assert_eq!(run.dropped_columns, ["b"]);
    // One commit rewrote the table with its new columns.
    assert_eq!(run.table_version_before, v);
    assert_eq!(run.table_version_after, v.map(|v| v + 1));
    let rows = query(&synced, "SELECT * FROM main.m").await;
    assert!(
        rows.contains("| a | c |") && !rows.contains("| b"),
        "{rows}"
    );
    assert!(rows.contains("| 1 | 3 |"), "{rows}");

    // A partitioned model adds columns; a drop would leave the other partitions' rows
    // with the column, so it is refused and nothing is written.
    let part = |sql: &'static str| project("p.sql", sql);
    let p1 = runtime(
        "sync3",
        dir.path(),
        part("-- phlo: materialized = \"replace_partition\", partitions = \"daily\", start = \"2025-01-01\", on_schema_change = \"sync_all_columns\"\nSELECT 1 AS a, 2 AS b"),
    )
    .await;
    p1.materialize("p", "2025-01-01")
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let p2 = runtime(
        "sync4",
        dir.path(),
        part("-- phlo: materialized = \"replace_partition\", partitions = \"daily\", start = \"2025-01-01\", on_schema_change = \"sync_all_columns\"\nSELECT 1 AS a, 2 AS b, 3 AS c"),
    )
    .await;
    let added = p2
        .materialize("p", "2025-01-02")
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(added.added_columns, ["c"]);
    assert!(added.dropped_columns.is_empty());
    let v = version(&p2, "main.p").await;
    let p3 = runtime(
        "sync5",
        dir.path(),
        part("-- phlo: materialized = \"replace_partition\", partitions = \"daily\", start = \"2025-01-01\", on_schema_change = \"sync_all_columns\"\nSELECT 1 AS a, 3 AS c"),
    )
    .await;
    let e = p3
        .materialize("p", "2025-01-03")
        .await
        .err()
        .map(|e| e.to_string())
        .unwrap_or_default();
    assert!(
        e.contains("sync_all_columns")
            && e.contains("`b`")
            && e.contains("materialized = \"table\""),
        "{e}"
    );
    assert_eq!(version(&p3, "main.p").await, v);
}
