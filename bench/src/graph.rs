//! The asset graph's own cost (`--only graph`), in one child process (`graph`):
//!
//! 1. **Load, template, plan, validate** a generated project of `--models` (200) SQL models
//!    over one seed, in layers: staging models over the seed, then two intermediate layers
//!    (joins of two upstreams, window functions) and marts fanning three upstreams in
//!    (`UNION ALL`, `GROUP BY`). Each of `--graph-repeat` rounds times
//!    `Runtime::builder(..).project(..).build()` (every registered asset and the project:
//!    headers parsed, templates rendered for their `ref`s, the graph built and validated)
//!    and then, over tables materialized once before the rounds, the plan of every model:
//!    its run plan (`Runtime::plan`) and its query planned by DataFusion against its
//!    upstreams' tables (`Runtime::column_lineage`). Median and p90 of the rounds; target
//!    < 1 s for the sum.
//! 2. **phlo's overhead per asset in `build`**: a build of the whole graph, one asset at a
//!    time (`build_selection_with(.., 1)`), on small tables (the seed has `GRAPH_ROWS`
//!    rows). Per run: `total_ms + record_ms − fetch_ms − write_ms`, i.e. everything but the
//!    model's query (`fetch_ms`: the query, rendered and scoped, collected) and its write
//!    (`write_ms`: the write's plan and commit); and per asset of the build's wall time:
//!    `(wall − Σ (fetch_ms + write_ms)) / runs`, which adds the build's scheduling and
//!    each run's planning. Median and p90 against < 20 ms, for the first build (creating
//!    every table) and a rebuild (replacing them).

use std::path::Path;
use std::sync::Arc;
use std::time::Instant;

use phlo::chrono::TimeZone;
use phlo::prelude::*;
use phlo::{FixedClock, PartitionSelection, Project, ProjectFile, SequentialRunIds};
use serde::{Deserialize, Serialize};

use crate::Config;
use crate::overhead::{Figure, median, percentile};
use crate::report::print_table;
use crate::scenario::{BoxError, fresh_dir, peak_rss_bytes};

/// Models of the full-size figure (the target is stated for this many).
pub const FULL_MODELS: usize = 200;
/// Rounds of the load-and-plan figure, full size.
pub const FULL_REPEAT: usize = 20;
/// Rows of the seed every staging model reads.
pub const GRAPH_ROWS: usize = 200;
/// Target: load + plan of the whole graph, milliseconds.
pub const LOAD_PLAN_MS: f64 = 1000.0;
/// Target: phlo's overhead per asset in a build, milliseconds.
pub const OVERHEAD_MS: f64 = 20.0;
/// The selection a build of the generated graph runs.
pub const SELECTION: &str = "kind:sql kind:seed";
/// The seed's name.
const SEED: &str = "graph_events";

fn leak(s: String) -> &'static str {
    Box::leak(s.into_boxed_str())
}

/// How many models each layer has: staging, intermediate 1, intermediate 2, marts.
pub fn layers(models: usize) -> [usize; 4] {
    let staging = (models / 10).max(1);
    let rest = models.saturating_sub(staging);
    let (i1, i2) = (rest / 3, rest / 3);
    [staging, i1, i2, rest - i1 - i2]
}

/// The names of the generated models, by layer.
fn names(models: usize) -> [Vec<String>; 4] {
    let [s, i1, i2, m] = layers(models);
    [
        (0..s).map(|i| format!("stg_{i:03}")).collect(),
        (0..i1).map(|i| format!("int_a_{i:03}")).collect(),
        (0..i2).map(|i| format!("int_b_{i:03}")).collect(),
        (0..m).map(|i| format!("mart_{i:03}")).collect(),
    ]
}

/// The seed: `GRAPH_ROWS` rows of `id, grp, day, value, category`.
fn seed_csv() -> String {
    let mut out = String::from("id,grp,day,value,category\n");
    for i in 0..GRAPH_ROWS {
        let day = 1 + i % 28;
        out.push_str(&format!(
            "{i},g{},2025-01-{day:02},{}.5,{}\n",
            i % 7,
            (i * 37) % 101,
            ["a", "b", "c", "d"][i % 4]
        ));
    }
    out
}

/// The generated project: `models` SQL models in four layers over one seed.
pub fn project(models: usize) -> Project {
    let [stg, int_a, int_b, marts] = names(models);
    let header = |tag: &str| {
        format!("-- phlo: materialized = \"table\", group = \"graph\", tags = [\"{tag}\"]\n")
    };
    let pick = |v: &[String], i: usize| v[i % v.len()].clone();
    let mut files = Vec::new();
    for (i, name) in stg.iter().enumerate() {
        let text = format!(
            "{}SELECT id, grp, CAST(day AS DATE) AS day, value * {} AS value, category\n\
             FROM {{{{ ref('{SEED}') }}}}\nWHERE id % {} <> {}\n",
            header("staging"),
            i + 1,
            stg.len() + 1,
            i % (stg.len() + 1)
        );
        files.push((format!("staging/{name}.sql"), text));
    }
    for (i, name) in int_a.iter().enumerate() {
        let (a, b) = (pick(&stg, i), pick(&stg, i + 1));
        let text = format!(
            "{}SELECT a.id, a.grp, a.day, a.category, a.value + b.value AS value,\n\
             SUM(a.value) OVER (PARTITION BY a.grp ORDER BY a.day, a.id\n\
             ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS cum_value\n\
             FROM {{{{ ref('{a}') }}}} a\nJOIN {{{{ ref('{b}') }}}} b ON b.id = a.id\n",
            header("intermediate")
        );
        files.push((format!("intermediate/{name}.sql"), text));
    }
    for (i, name) in int_b.iter().enumerate() {
        let (a, b) = (pick(&int_a, i), pick(&int_a, i * 7 + 3));
        let text = format!(
            "{}SELECT a.id, a.grp, a.day, a.category, a.value, a.cum_value,\n\
             b.value AS other_value,\n\
             CAST(ROW_NUMBER() OVER (PARTITION BY a.grp ORDER BY a.day, a.id) AS BIGINT) AS rn,\n\
             AVG(a.value) OVER (PARTITION BY a.category ORDER BY a.day, a.id\n\
             ROWS BETWEEN 6 PRECEDING AND CURRENT ROW) AS value_ma_7\n\
             FROM {{{{ ref('{a}') }}}} a\nLEFT JOIN {{{{ ref('{b}') }}}} b ON b.id = a.id\n",
            header("intermediate")
        );
        files.push((format!("intermediate/{name}.sql"), text));
    }
    for (i, name) in marts.iter().enumerate() {
        let ups = [
            pick(&int_b, i),
            pick(&int_b, i * 5 + 1),
            pick(&int_b, i * 11 + 2),
        ];
        let union = ups
            .iter()
            .map(|u| format!("SELECT grp, category, value, value_ma_7 FROM {{{{ ref('{u}') }}}}"))
            .collect::<Vec<_>>()
            .join("\n    UNION ALL\n    ");
        let text = format!(
            "{}WITH u AS (\n    {union}\n)\nSELECT grp, category, COUNT(*) AS n,\n\
             SUM(value) AS total_value, AVG(value_ma_7) AS avg_ma_7\nFROM u\n\
             GROUP BY grp, category\n",
            header("mart")
        );
        files.push((format!("marts/{name}.sql"), text));
    }
    let models: Vec<ProjectFile> = files
        .into_iter()
        .map(|(path, text)| ProjectFile {
            path: leak(path),
            text: leak(text),
        })
        .collect();
    let seeds = vec![ProjectFile {
        path: leak(format!("{SEED}.csv")),
        text: leak(seed_csv()),
    }];
    Project {
        models: Box::leak(models.into_boxed_slice()),
        seeds: Box::leak(seeds.into_boxed_slice()),
        tests: &[],
    }
}

/// One round of the load-and-plan figure, milliseconds.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Round {
    /// `Runtime::builder(..).project(..).build()`.
    pub load_ms: f64,
    /// `Runtime::plan` of every model.
    pub run_plans_ms: f64,
    /// `Runtime::column_lineage` of every model (its query planned by DataFusion).
    pub query_plans_ms: f64,
}

impl Round {
    /// The whole round.
    pub fn total_ms(&self) -> f64 {
        self.load_ms + self.run_plans_ms + self.query_plans_ms
    }
}

/// One build of the graph.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct GraphBuild {
    /// What it was (`first build`, `rebuild`).
    pub label: String,
    /// Wall time of `build_selection_with(.., 1)`, ms.
    pub wall_ms: f64,
    /// Runs made.
    pub runs: usize,
    /// Per run: `total_ms + record_ms − fetch_ms − write_ms`.
    pub overhead_ms: Vec<f64>,
    /// Per run: `coerce_ms + validate_ms + dedup_ms` (part of the overhead).
    pub prepare_ms: Vec<f64>,
    /// Per run: `record_ms` (part of the overhead).
    pub record_ms: Vec<f64>,
    /// Σ `fetch_ms` (the queries, the seed's read).
    pub fetch_ms: f64,
    /// Σ `write_ms`.
    pub write_ms: f64,
}

impl GraphBuild {
    /// `(wall − Σ (fetch + write)) / runs`.
    pub fn wall_overhead_ms(&self) -> f64 {
        (self.wall_ms - self.fetch_ms - self.write_ms) / self.runs.max(1) as f64
    }
}

/// What the `graph` child measured.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct GraphOutcome {
    /// Models generated.
    pub models: usize,
    /// Assets in the registry (the seed, the models, and the bench's own assets).
    pub assets: usize,
    /// Models per layer.
    pub layers: [usize; 4],
    /// Edges of the graph.
    pub edges: usize,
    /// The load-and-plan rounds.
    pub rounds: Vec<Round>,
    /// The builds.
    pub builds: Vec<GraphBuild>,
    /// Peak RSS of the process, bytes.
    pub peak_rss_bytes: u64,
}

async fn runtime(warehouse: &Path, project: Project) -> Result<Runtime, BoxError> {
    let now = Utc
        .with_ymd_and_hms(2026, 6, 1, 0, 0, 0)
        .single()
        .ok_or("bad clock instant")?;
    Ok(Runtime::builder(warehouse)
        .project(project)
        .clock(Arc::new(FixedClock::new(now)))
        .run_ids(Arc::new(SequentialRunIds::new("bench")))
        .build()
        .await?)
}

async fn build(rt: &Runtime, label: &str) -> Result<GraphBuild, BoxError> {
    let t = Instant::now();
    let report = rt.build_selection_with(SELECTION, None, None, 1).await?;
    let wall_ms = t.elapsed().as_secs_f64() * 1000.0;
    if !report.succeeded() {
        let failed: Vec<String> = report
            .assets
            .iter()
            .filter(|a| !matches!(a.status, phlo::BuildStatus::Success))
            .map(|a| format!("{}: {:?}", a.asset, a.status))
            .take(5)
            .collect();
        return Err(format!("graph {label} failed: {}", failed.join("; ")).into());
    }
    let runs: Vec<&RunReport> = report.assets.iter().flat_map(|a| &a.runs).collect();
    let overhead_ms = runs
        .iter()
        .map(|r| {
            let t = &r.timings;
            t.total_ms + t.record_ms - t.fetch_ms - t.write_ms
        })
        .collect();
    eprintln!(
        "phlo-bench: graph {label}: {} runs in {:.1} s",
        runs.len(),
        wall_ms / 1000.0
    );
    Ok(GraphBuild {
        label: label.into(),
        wall_ms,
        runs: runs.len(),
        overhead_ms,
        prepare_ms: runs
            .iter()
            .map(|r| r.timings.coerce_ms + r.timings.validate_ms + r.timings.dedup_ms)
            .collect(),
        record_ms: runs.iter().map(|r| r.timings.record_ms).collect(),
        fetch_ms: runs.iter().map(|r| r.timings.fetch_ms).sum(),
        write_ms: runs.iter().map(|r| r.timings.write_ms).sum(),
    })
}

/// The `graph` child: builds the graph twice (the overhead figure), then times
/// `--graph-repeat` rounds of load and plan.
pub async fn run(cfg: &Config, warehouse: &Path) -> Result<GraphOutcome, BoxError> {
    fresh_dir(warehouse)?;
    let project = project(cfg.graph_models);
    let model_names: Vec<String> = names(cfg.graph_models).concat();
    let rt = runtime(warehouse, project).await?;
    let assets = rt.registry().iter().count();
    let edges = rt.graph().nodes().map(|n| n.deps.len()).sum::<usize>();
    let builds = vec![
        build(&rt, "first build").await?,
        build(&rt, "rebuild").await?,
    ];
    drop(rt);
    let mut rounds = Vec::with_capacity(cfg.graph_repeat);
    for i in 0..cfg.graph_repeat {
        let t = Instant::now();
        let rt = runtime(warehouse, project).await?;
        let load_ms = t.elapsed().as_secs_f64() * 1000.0;
        let t = Instant::now();
        for m in &model_names {
            std::hint::black_box(rt.plan(m, &PartitionSelection::Unpartitioned).await?);
        }
        let run_plans_ms = t.elapsed().as_secs_f64() * 1000.0;
        let t = Instant::now();
        let mut columns = 0;
        for m in &model_names {
            columns += rt.column_lineage(m).await?.len();
        }
        let query_plans_ms = t.elapsed().as_secs_f64() * 1000.0;
        if columns == 0 {
            return Err("graph: no model's query planned to a column".into());
        }
        let r = Round {
            load_ms,
            run_plans_ms,
            query_plans_ms,
        };
        eprintln!(
            "phlo-bench: graph round {}/{}: load {:.1} ms, run plans {:.1} ms, query plans {:.1} ms",
            i + 1,
            cfg.graph_repeat,
            r.load_ms,
            r.run_plans_ms,
            r.query_plans_ms
        );
        rounds.push(r);
    }
    Ok(GraphOutcome {
        models: cfg.graph_models,
        assets,
        layers: layers(cfg.graph_models),
        edges,
        rounds,
        builds,
        peak_rss_bytes: peak_rss_bytes(),
    })
}

fn figure(figure: String, ms: f64, target: f64) -> Figure {
    Figure {
        figure,
        value: format!("{ms:.1} ms"),
        number: ms,
        target: format!("< {target:.0} ms"),
        met: Some(ms < target),
    }
}

fn info(figure: String, ms: f64) -> Figure {
    Figure {
        figure,
        value: format!("{ms:.1} ms"),
        number: ms,
        target: "-".into(),
        met: None,
    }
}

/// The figures of the `graph` child.
pub fn figures(o: &GraphOutcome) -> Vec<Figure> {
    let mut out = Vec::new();
    let n = o.rounds.len();
    let of = |f: fn(&Round) -> f64| o.rounds.iter().map(f).collect::<Vec<_>>();
    let total = of(Round::total_ms);
    out.push(figure(
        format!("1. load + plan {} models (median of {n})", o.models),
        median(&total),
        LOAD_PLAN_MS,
    ));
    out.push(figure(
        "1. load + plan, p90".into(),
        percentile(&total, 90.0),
        LOAD_PLAN_MS,
    ));
    out.push(info(
        "1.   load: registry, templates, graph, validation (median)".into(),
        median(&of(|r| r.load_ms)),
    ));
    out.push(info(
        "1.   run plans of every model (median)".into(),
        median(&of(|r| r.run_plans_ms)),
    ));
    out.push(info(
        "1.   query plans of every model over its upstreams (median)".into(),
        median(&of(|r| r.query_plans_ms)),
    ));
    for b in &o.builds {
        out.push(figure(
            format!(
                "2. {}: phlo overhead per asset (total + record − query − write), median",
                b.label
            ),
            median(&b.overhead_ms),
            OVERHEAD_MS,
        ));
        out.push(figure(
            format!("2. {}: same, p90", b.label),
            percentile(&b.overhead_ms, 90.0),
            OVERHEAD_MS,
        ));
        out.push(info(
            "2.   of which coerce + validate + dedup (median)".into(),
            median(&b.prepare_ms),
        ));
        out.push(info(
            "2.   of which the _phlo.runs record (median)".into(),
            median(&b.record_ms),
        ));
        out.push(figure(
            format!(
                "2. {}: (wall − Σ query − Σ write) / {} runs",
                b.label, b.runs
            ),
            b.wall_overhead_ms(),
            OVERHEAD_MS,
        ));
        out.push(info(
            format!("2. {}: wall of the build, one asset at a time", b.label),
            b.wall_ms,
        ));
    }
    out
}

/// Prints the `graph` child's figures.
pub fn print(cfg: &Config, o: &GraphOutcome) {
    let scaled = o.models != FULL_MODELS;
    let size = if cfg.quick {
        " (quick)"
    } else if scaled {
        " (scaled)"
    } else {
        ""
    };
    println!();
    println!(
        "phlo-bench asset graph{size}: {} SQL models over one {}-row seed (layers {} staging, \
         {} + {} intermediate, {} marts; {} edges; {} assets registered); {} rounds; {} cores",
        o.models,
        GRAPH_ROWS,
        o.layers[0],
        o.layers[1],
        o.layers[2],
        o.layers[3],
        o.edges,
        o.assets,
        o.rounds.len(),
        std::thread::available_parallelism().map_or(0, |n| n.get()),
    );
    if scaled {
        println!(
            "  scaled down: the targets are stated for {FULL_MODELS} models; a `met` at this \
             size is not the figure"
        );
    }
    if cfg!(debug_assertions) {
        println!("  debug build: these figures are not the release figures the targets are for");
    }
    println!();
    let cells: Vec<Vec<String>> = figures(o)
        .iter()
        .map(|f| {
            let mut m = match f.met {
                None => "-".to_string(),
                Some(true) => "met".to_string(),
                Some(false) => "MISSED".to_string(),
            };
            if f.met.is_some() && !size.is_empty() {
                m.push_str(size);
            }
            vec![f.figure.clone(), f.value.clone(), f.target.clone(), m]
        })
        .collect();
    print_table(&["figure", "value", "target", "met?"], &cells, 1);
    println!(
        "query = a run's fetch_ms (the model's query rendered, scoped and collected; the seed's \
         file read); write = write_ms (the write's plan and commit); peak RSS {:.0} MiB",
        o.peak_rss_bytes as f64 / (1024.0 * 1024.0)
    );
}

#[cfg(test)]
mod tests {
    use super::*;
    use phlo::Registry;

    #[test]
    fn layers_add_up_to_the_models() {
        assert_eq!(layers(200), [20, 60, 60, 60]);
        assert_eq!(layers(40).iter().sum::<usize>(), 40);
        assert_eq!(layers(7).iter().sum::<usize>(), 7);
    }

    #[test]
    fn the_generated_project_refs_only_models_it_has() {
        let p = project(40);
        assert_eq!(p.models.len(), 40);
        assert_eq!(p.seeds.len(), 1);
        let names: Vec<&str> = p
            .models
            .iter()
            .filter_map(|f| f.path.rsplit('/').next()?.strip_suffix(".sql"))
            .chain([SEED])
            .collect();
        for f in p.models {
            for part in f.text.split("ref('").skip(1) {
                let name = part.split('\'').next().unwrap();
                assert!(names.contains(&name), "{} refs unknown {name}", f.path);
            }
        }
        let registry = Registry::from_descriptors([])
            .unwrap()
            .with_project(p)
            .unwrap();
        assert_eq!(registry.iter().count(), 41);
        assert!(registry.graph().is_ok());
    }
}
