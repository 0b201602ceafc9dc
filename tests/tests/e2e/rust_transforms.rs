//! Rust transforms (`#[transform]`): registration and edges from parameters, each
//! materialization, a declared contract validated like an ingestion load, partition
//! mappings (identity, all, offset), a SQL model downstream of a Rust transform, a failing
//! transform skipping its downstream, and the incremental-equals-full law.

use std::sync::Arc;

use phlo::datafusion::functions_aggregate::expr_fn::{count, sum};
use phlo::datafusion::prelude::{col, lit};
use phlo::prelude::*;
use phlo::registry::AssetKind;
use phlo::{BuildStatus, FixedClock, Project, ProjectFile, Registry, SequentialRunIds};

use crate::support::{now, query, version};

/// Total oil per well over every day read: unpartitioned (it reads all of the daily
/// upstream's partitions) and incremental (merged by well).
#[transform(table = "gold.well_oil_totals", unique_key = "well_code", group = "wells",
            tags = ["rust", "mart"])]
pub async fn well_oil_totals(
    _ctx: &PartitionContext,
    well_readings: DataFrame,
) -> phlo::Result<DataFrame> {
    Ok(well_readings
        .aggregate(
            vec![col("well_code")],
            vec![
                sum(col("oil")).alias("total_oil"),
                count(col("day")).alias("days"),
            ],
        )?
        .sort(vec![col("well_code").sort(true, false)])?)
}

/// Daily oil in cubic metres, under a declared contract: a synchronous transform,
/// partitioned like its upstream (identity mapping).
#[derive(Schema)]
pub struct DailyOil {
    well_code: String,
    day: NaiveDate,
    #[phlo(ge = 0.0)]
    oil_m3: f64,
}

#[transform(table = "silver.daily_oil_m3", schema = DailyOil, unique_key = ["well_code", "day"],
            partitions = daily)]
pub fn daily_oil_m3(_ctx: &PartitionContext, well_readings: DataFrame) -> phlo::Result<DataFrame> {
    Ok(well_readings.select(vec![
        col("well_code"),
        col("day"),
        (col("oil") * lit(0.158_987)).alias("oil_m3"),
    ])?)
}

/// The same contract broken: negative volumes fail validation, and nothing is written.
#[transform(table = "silver.negative_oil", schema = DailyOil, unique_key = ["well_code", "day"],
            partitions = daily)]
pub fn negative_oil(_ctx: &PartitionContext, well_readings: DataFrame) -> phlo::Result<DataFrame> {
    Ok(well_readings.select(vec![
        col("well_code"),
        col("day"),
        (col("oil") * lit(-1.0)).alias("oil_m3"),
    ])?)
}

/// Each day's row carries the previous day's oil: an offset mapping.
#[transform(table = "silver.oil_previous_day", materialized = "replace_partition",
            partitions = daily)]
pub async fn oil_previous_day(
    ctx: &PartitionContext,
    #[phlo(mapping = "offset(-1)")] well_readings: DataFrame,
) -> phlo::Result<DataFrame> {
    let today = ctx.partition_date().to_string();
    Ok(well_readings.select(vec![
        col("well_code"),
        col("day").alias("previous_day"),
        lit(today).alias("day"),
        col("oil").alias("previous_oil"),
    ])?)
}

/// A transform whose function fails: its downstream is skipped.
#[transform(table = "gold.broken_totals")]
pub async fn broken_totals(
    _ctx: &PartitionContext,
    well_readings: DataFrame,
) -> Result<DataFrame, std::io::Error> {
    drop(well_readings);
    Err(std::io::Error::other("the upstream feed is malformed"))
}

fn file(path: &'static str, text: &'static str) -> ProjectFile {
    ProjectFile { path, text }
}

/// A SQL model over a Rust transform, and one over the failing transform.
fn project() -> Project {
    let models = vec![
        file(
            "marts/top_wells.sql",
            "-- phlo: table = \"gold.top_wells\"\nSELECT well_code, total_oil FROM {{ ref('well_oil_totals') }} WHERE total_oil > 50",
        ),
        file(
            "marts/after_broken.sql",
            "SELECT * FROM {{ ref('broken_totals') }}",
        ),
    ];
    Project {
        models: Box::leak(models.into_boxed_slice()),
        seeds: &[],
        tests: &[],
    }
}

/// The readings asset, these transforms, and `project`.
fn registry(names: &[&str], project: Project) -> phlo::Result<Registry> {
    let readings = Registry::global()?.get("well_readings")?.descriptor;
    let transforms = Registry::registered_transforms()
        .into_iter()
        .filter(|t| names.contains(&t.name));
    Registry::from_descriptors([readings])?
        .with_transforms(transforms)?
        .with_project(project)
}

const ALL: &[&str] = &[
    "well_oil_totals",
    "daily_oil_m3",
    "negative_oil",
    "oil_previous_day",
    "broken_totals",
];

async fn runtime(test: &str, dir: &std::path::Path, names: &[&str]) -> Runtime {
    Runtime::builder(dir)
        .registry(registry(names, project()).unwrap_or_else(|e| panic!("{e}")))
        .clock(Arc::new(FixedClock::new(now())))
        .run_ids(Arc::new(SequentialRunIds::new(test)))
        .build()
        .await
        .unwrap_or_else(|e| panic!("runtime: {e}"))
}

async fn readings(rt: &Runtime, days: &[&str]) {
    for day in days {
        rt.materialize("well_readings", *day)
            .await
            .unwrap_or_else(|e| panic!("readings {day}: {e}"));
    }
}

#[tokio::test]
async fn transforms_register_with_edges_from_their_parameters() {
    let r = registry(ALL, project()).unwrap_or_else(|e| panic!("{e}"));
    let totals = r.get("well_oil_totals").unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(totals.kind(), AssetKind::Rust);
    assert_eq!(totals.table.to_string(), "gold.well_oil_totals");
    assert!(!totals.partitions.is_partitioned());
    assert_eq!(
        totals.descriptor.spec.merge_strategy,
        phlo::MergeStrategy::Merge
    );
    assert_eq!(totals.tags, ["rust", "mart"]);
    let deps = |name: &str| -> Vec<(String, String)> {
        r.get(name)
            .unwrap_or_else(|e| panic!("{e}"))
            .deps
            .iter()
            .map(|d| (d.asset.clone(), format!("{:?}", d.mapping)))
            .collect()
    };
    assert_eq!(
        deps("well_oil_totals"),
        [("well_readings".to_string(), "All".to_string())]
    );
    assert_eq!(
        deps("daily_oil_m3"),
        [("well_readings".to_string(), "Identity".to_string())]
    );
    assert_eq!(
        deps("oil_previous_day"),
        [("well_readings".to_string(), "Offset(-1)".to_string())]
    );
    assert_eq!(
        deps("top_wells"),
        [("well_oil_totals".to_string(), "Identity".to_string())]
    );
    let daily = r.get("daily_oil_m3").unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(daily.descriptor.schema.name, "DailyOil");
    assert!(daily.declares_schema());
    let broken = r.get("broken_totals").unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(
        broken.descriptor.spec.merge_strategy,
        phlo::MergeStrategy::ReplacePartition,
        "an unkeyed, unpartitioned transform rebuilds its table"
    );

    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let rt = runtime("register", dir.path(), ALL).await;
    let sel = |s: &str| rt.select(s, None).unwrap_or_else(|e| panic!("{s}: {e}"));
    let mut rust = sel("kind:rust");
    rust.sort();
    assert_eq!(
        rust,
        [
            "broken_totals",
            "daily_oil_m3",
            "negative_oil",
            "oil_previous_day",
            "well_oil_totals"
        ]
    );
    assert_eq!(sel("tag:mart"), ["well_oil_totals"]);
    assert_eq!(
        sel("+top_wells"),
        ["well_readings", "well_oil_totals", "top_wells"]
    );
    let info = rt
        .assets()
        .into_iter()
        .find(|a| a.name == "daily_oil_m3")
        .unwrap_or_else(|| panic!("listed"));
    assert_eq!(
        (info.kind, info.partitions.as_str(), info.schema.as_str()),
        (AssetKind::Rust, "daily", "DailyOil")
    );
}

#[tokio::test]
async fn an_unpartitioned_transform_reads_every_partition_and_a_model_reads_it() {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let rt = runtime("totals", dir.path(), ALL).await;
    readings(&rt, &["2025-01-10", "2025-01-11", "2025-01-12"]).await;
    let report = rt
        .build_selection("well_oil_totals+", None, None)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert!(report.succeeded(), "{report:?}");
    let expected = query(
        &rt,
        "SELECT well_code, SUM(oil) AS total_oil, COUNT(day) AS days FROM bronze.well_readings GROUP BY well_code ORDER BY well_code",
    )
    .await;
    let got = query(
        &rt,
        "SELECT well_code, total_oil, days FROM gold.well_oil_totals ORDER BY well_code",
    )
    .await;
    assert_eq!(got, expected);
    assert!(got.contains("| A         | 330.0     | 3    |"), "{got}");
    // The model downstream reads the transform's table.
    let top = query(
        &rt,
        "SELECT well_code FROM gold.top_wells ORDER BY well_code",
    )
    .await;
    assert_eq!(
        top,
        query(
            &rt,
            "SELECT well_code FROM gold.well_oil_totals WHERE total_oil > 50 ORDER BY well_code"
        )
        .await
    );
    // The run recorded the upstream version it read.
    let runs = rt.runs().await.unwrap_or_else(|e| panic!("{e}"));
    let run = runs
        .iter()
        .rev()
        .find(|r| r.asset == "well_oil_totals")
        .unwrap_or_else(|| panic!("a run"));
    assert_eq!(
        run.upstream_versions.get("well_readings").copied(),
        Some(version(&rt, "bronze.well_readings").await)
    );
    // Re-running on the same inputs changes nothing: no new table version.
    let before = version(&rt, "gold.well_oil_totals").await;
    let again = rt
        .materialize("well_oil_totals", phlo::Unpartitioned)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(again.rows_unchanged, 3);
    assert_eq!(version(&rt, "gold.well_oil_totals").await, before);
}

#[tokio::test]
async fn incremental_transform_equals_a_full_rebuild() {
    let inc_dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let inc = runtime("inc", inc_dir.path(), ALL).await;
    for day in ["2025-01-10", "2025-01-11", "2025-01-12"] {
        readings(&inc, &[day]).await;
        inc.materialize("well_oil_totals", phlo::Unpartitioned)
            .await
            .unwrap_or_else(|e| panic!("{e}"));
    }
    let full_dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let full = runtime("full", full_dir.path(), ALL).await;
    readings(&full, &["2025-01-10", "2025-01-11", "2025-01-12"]).await;
    full.materialize("well_oil_totals", phlo::Unpartitioned)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let rows = "SELECT well_code, total_oil, days FROM gold.well_oil_totals ORDER BY well_code";
    assert_eq!(query(&inc, rows).await, query(&full, rows).await);
    // Three merges made three versions; the full rebuild one.
    assert_eq!(version(&inc, "gold.well_oil_totals").await, Some(2));
    assert_eq!(version(&full, "gold.well_oil_totals").await, Some(0));
}

#[tokio::test]
async fn a_declared_contract_is_validated_like_an_ingestion_load() {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let rt = runtime("contract", dir.path(), ALL).await;
    readings(&rt, &["2025-01-10", "2025-01-11"]).await;
    let report = rt
        .materialize("daily_oil_m3", "2025-01-11")
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(report.rows_inserted, 3);
    // Only the run's partition was read (identity mapping), and the columns are the
    // contract's, typed by it.
    let got = query(
        &rt,
        "SELECT well_code, CAST(day AS VARCHAR) AS day, ROUND(oil_m3, 4) AS oil_m3 FROM silver.daily_oil_m3 ORDER BY well_code",
    )
    .await;
    assert!(
        got.contains("| A         | 2025-01-11 | 17.4886 |"),
        "{got}"
    );
    assert!(!got.contains("2025-01-10"), "{got}");
    let types = query(
        &rt,
        "SELECT arrow_typeof(day) AS day, arrow_typeof(oil_m3) AS oil FROM silver.daily_oil_m3 LIMIT 1",
    )
    .await;
    assert!(
        types.contains("Date32") && types.contains("Float64"),
        "{types}"
    );

    // The broken contract: a typed validation error, and no table.
    let failure = rt
        .materialize("negative_oil", "2025-01-11")
        .await
        .err()
        .map(|e| e.to_string())
        .unwrap_or_default();
    assert!(
        failure.contains("oil_m3") && failure.contains("ge"),
        "{failure}"
    );
    assert_eq!(version(&rt, "silver.negative_oil").await, None);
}

#[tokio::test]
async fn an_offset_mapping_reads_the_previous_partition() {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let rt = runtime("offset", dir.path(), ALL).await;
    readings(&rt, &["2025-01-10", "2025-01-11"]).await;
    rt.materialize("oil_previous_day", "2025-01-11")
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let got = query(
        &rt,
        "SELECT well_code, CAST(previous_day AS VARCHAR) AS previous_day, day, previous_oil FROM silver.oil_previous_day ORDER BY well_code",
    )
    .await;
    let expected = query(
        &rt,
        "SELECT well_code, CAST(day AS VARCHAR) AS previous_day, '2025-01-11' AS day, oil AS previous_oil FROM bronze.well_readings WHERE day = DATE '2025-01-10' ORDER BY well_code",
    )
    .await;
    assert_eq!(got, expected);
    assert!(got.contains("2025-01-10"), "{got}");
}

#[tokio::test]
async fn a_failing_transform_skips_its_downstream_and_writes_nothing() {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let rt = runtime("broken", dir.path(), ALL).await;
    readings(&rt, &["2025-01-14"]).await;
    let report = rt
        .build_selection("broken_totals+ well_oil_totals", None, None)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let status = |name: &str| {
        report
            .get(name)
            .map(|o| o.status.clone())
            .unwrap_or_else(|| panic!("{name} in the report"))
    };
    match status("broken_totals") {
        BuildStatus::Failed { error } => {
            assert!(error.contains("the upstream feed is malformed"), "{error}")
        }
        other => panic!("{other:?}"),
    }
    assert!(
        matches!(status("after_broken"), BuildStatus::Skipped { .. }),
        "{:?}",
        status("after_broken")
    );
    assert_eq!(status("well_oil_totals"), BuildStatus::Success);
    assert_eq!(version(&rt, "gold.broken_totals").await, None);
}

fn never(
    _: PartitionContext,
    _: Vec<DataFrame>,
) -> phlo::crates::runtime::transform::rust::TransformFuture {
    phlo::crates::runtime::transform::rust::transform_failed("never called".into())
}

const fn descriptor(
    name: &'static str,
    table: &'static str,
    inputs: &'static [phlo::crates::runtime::transform::rust::TransformInput],
    materialized: Option<phlo::crates::runtime::transform::Materialized>,
    partitions: phlo::crates::core::spec::PartitionsSpec,
) -> phlo::TransformDescriptor {
    phlo::TransformDescriptor {
        name,
        spec: phlo::crates::core::spec::IngestionSpec {
            table,
            partitions,
            ..phlo::crates::core::spec::IngestionSpec::DEFAULT
        },
        materialized,
        schema: None,
        inputs,
        tags: &[],
        run: never,
        location: phlo::crates::core::spec::Location {
            file: "tests/e2e/rust_transforms.rs",
            line: 1,
            column: 1,
            module: "e2e::rust_transforms",
        },
    }
}

use phlo::crates::core::spec::PartitionsSpec;
use phlo::crates::runtime::transform::Materialized;
use phlo::crates::runtime::transform::rust::TransformInput;

static UNKNOWN: phlo::TransformDescriptor = descriptor(
    "t_unknown",
    "gold.t_unknown",
    &[TransformInput {
        asset: "well_reading",
        mapping: None,
    }],
    None,
    PartitionsSpec::None,
);
static CYCLE_A: phlo::TransformDescriptor = descriptor(
    "t_a",
    "gold.t_a",
    &[TransformInput {
        asset: "t_b",
        mapping: None,
    }],
    None,
    PartitionsSpec::None,
);
static CYCLE_B: phlo::TransformDescriptor = descriptor(
    "t_b",
    "gold.t_b",
    &[TransformInput {
        asset: "t_a",
        mapping: None,
    }],
    None,
    PartitionsSpec::None,
);
static BAD_MAPPING: phlo::TransformDescriptor = descriptor(
    "t_bad_mapping",
    "gold.t_bad_mapping",
    &[TransformInput {
        asset: "well_readings",
        mapping: Some("yesterday"),
    }],
    None,
    PartitionsSpec::None,
);
static PARTITIONED_TABLE: phlo::TransformDescriptor = descriptor(
    "t_partitioned_table",
    "gold.t_partitioned_table",
    &[],
    Some(Materialized::Table),
    PartitionsSpec::DAILY,
);
static CLASH: phlo::TransformDescriptor = descriptor(
    "t_clash",
    "bronze.well_readings",
    &[],
    None,
    PartitionsSpec::None,
);

fn error_of(transforms: &[&'static phlo::TransformDescriptor]) -> String {
    let readings = Registry::global()
        .and_then(|r| r.get("well_readings").map(|a| a.descriptor))
        .unwrap_or_else(|e| panic!("{e}"));
    Registry::from_descriptors([readings])
        .and_then(|r| r.with_transforms(transforms.iter().copied()))
        .and_then(|r| r.with_project(Project::default()))
        .err()
        .map(|e| e.to_string())
        .unwrap_or_default()
}

#[test]
fn registry_mistakes_name_the_transforms_involved() {
    let e = error_of(&[&UNKNOWN]);
    assert!(
        e.contains("well_reading") && e.contains("did you mean") && e.contains("well_readings"),
        "{e}"
    );
    let e = error_of(&[&CYCLE_A, &CYCLE_B]);
    assert!(
        e.contains("t_a") && e.contains("t_b") && e.contains("cycle"),
        "{e}"
    );
    let e = error_of(&[&BAD_MAPPING]);
    assert!(
        e.contains("t_bad_mapping") && e.contains("yesterday") && e.contains("offset(-1)"),
        "{e}"
    );
    let e = error_of(&[&PARTITIONED_TABLE]);
    assert!(
        e.contains("t_partitioned_table") && e.contains("takes no partitions"),
        "{e}"
    );
    let e = error_of(&[&CLASH]);
    assert!(
        e.contains("t_clash") && e.contains("bronze.well_readings"),
        "{e}"
    );
}
