//! `cargo run --release -p phlo-bench --bin rest [-- --records N --page P]`: a REST API on
//! loopback (a child process of this binary, serving pre-built pages of `P` records,
//! `?page=N`, with `total_pages`) read into a local table by phlo — the REST source, then
//! the whole ingestion (coerce, validate, merge into Delta) — and by dlt's `rest_api`
//! source into DuckDB (`bench/contenders/rest_dlt.py`, when `scripts/python-env.sh --bench`
//! has made `.venv-bench`). Prints a table: seconds, records per second, peak RSS.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::sync::{Arc, OnceLock};
use std::time::Instant;

use phlo::prelude::*;
use phlo::sources::rest::testing::{Reply, Server};
use phlo::sources::rest::{Paginator, Resource, RestApi};
use phlo::{FixedClock, Registry, SequentialRunIds};

/// One event of the API.
#[derive(Schema)]
pub struct BenchEvent {
    /// Event id.
    id: i64,
    /// Who.
    user_id: String,
    /// What.
    kind: String,
    /// How much.
    value: f64,
    /// When.
    updated_at: DateTime<Utc>,
}

static BASE: OnceLock<(String, usize)> = OnceLock::new();

fn resource() -> Resource {
    let (base, page) = BASE.get().cloned().unwrap_or_default();
    RestApi::new(base)
        .resource("events")
        .param("limit", page.to_string())
        .data_selector("data")
        .paginator(Paginator::page_number("page").total_path("total_pages"))
}

/// Every event of the API, merged by id.
#[ingestion(table = "bench.rest_events", unique_key = "id", schema = BenchEvent, partitioned = false)]
pub async fn rest_events(ctx: &PartitionContext) -> phlo::Result<Vec<RecordBatch>> {
    resource().read::<BenchEvent>(ctx).await
}

fn pages(records: usize, per_page: usize) -> Vec<Vec<u8>> {
    let total = records.div_ceil(per_page);
    (0..total)
        .map(|p| {
            let data: Vec<serde_json::Value> = (p * per_page..((p + 1) * per_page).min(records))
                .map(|i| {
                    let kind = ["click", "view", "purchase", "signup"][i % 4];
                    serde_json::json!({
                        "id": i,
                        "user_id": format!("u-{:06}", i % 50_000),
                        "kind": kind,
                        "value": (i % 1000) as f64 * 0.25,
                        "updated_at": format!("2025-01-{:02}T{:02}:{:02}:{:02}Z", 1 + i % 28, i % 24, i % 60, (i / 60) % 60),
                    })
                })
                .collect();
            serde_json::json!({"data": data, "page": p + 1, "total_pages": total})
                .to_string()
                .into_bytes()
        })
        .collect()
}

fn peak_rss_mib() -> f64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines().find(|l| l.starts_with("VmHWM:")).and_then(|l| {
                l.split_whitespace()
                    .nth(1)
                    .and_then(|k| k.parse::<f64>().ok())
            })
        })
        .map_or(0.0, |kb| kb / 1024.0)
}

fn arg(args: &[String], name: &str, default: usize) -> usize {
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1))
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let records = arg(&args, "--records", 1_000_000);
    let per_page = arg(&args, "--page", 1_000);
    let rt = tokio::runtime::Runtime::new().unwrap_or_else(|e| panic!("{e}"));
    if args.iter().any(|a| a == "--serve") {
        // The API: pages built once, then served until stdin closes.
        let bodies = Arc::new(pages(records, per_page));
        rt.block_on(async move {
            let server = Server::start(move |r| {
                let page: usize = r.query("page").and_then(|p| p.parse().ok()).unwrap_or(1);
                match bodies.get(page.saturating_sub(1)) {
                    Some(b) => Reply::json(b.clone()),
                    None => Reply::json(r#"{"data": [], "total_pages": 0}"#),
                }
            })
            .await
            .unwrap_or_else(|e| panic!("{e}"));
            println!("{}", server.url());
            let _ = tokio::task::spawn_blocking(|| std::io::stdin().read_line(&mut String::new()))
                .await;
        });
        return;
    }

    let mut child = Command::new(std::env::current_exe().unwrap_or_else(|e| panic!("{e}")))
        .args([
            "--serve",
            "--records",
            &records.to_string(),
            "--page",
            &per_page.to_string(),
        ])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("{e}"));
    let mut url = String::new();
    BufReader::new(child.stdout.take().unwrap_or_else(|| panic!("no stdout")))
        .read_line(&mut url)
        .unwrap_or_else(|e| panic!("{e}"));
    let url = url.trim().to_string();
    let _ = BASE.set((url.clone(), per_page));

    let mut table: Vec<(String, f64, usize, Option<f64>)> = Vec::new();
    rt.block_on(async {
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        let descriptor = Registry::global()
            .and_then(|r| Ok(r.get("rest_events")?.descriptor))
            .unwrap_or_else(|e| panic!("{e}"));
        let phlo_rt = Runtime::builder(dir.path())
            .registry(Registry::from_descriptors([descriptor]).unwrap_or_else(|e| panic!("{e}")))
            .clock(Arc::new(FixedClock::new(Utc::now())))
            .run_ids(Arc::new(SequentialRunIds::new("bench")))
            .build()
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        let t = Instant::now();
        let report = phlo_rt
            .materialize("rest_events", Unpartitioned)
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        table.push((
            "phlo: ingestion (REST → coerce → validate → merge into Delta)".into(),
            t.elapsed().as_secs_f64(),
            report.rows_inserted as usize,
            Some(peak_rss_mib()),
        ));
        let ctx = PartitionContext::new("rest_events", None, "bench", 1, Utc::now());
        let t = Instant::now();
        let batches = resource()
            .read::<BenchEvent>(&ctx)
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        let n = batches.iter().map(RecordBatch::num_rows).sum();
        table.push((
            "phlo: REST source alone (pages → Arrow)".into(),
            t.elapsed().as_secs_f64(),
            n,
            None,
        ));
    });

    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let python = root.join(".venv-bench/bin/python");
    if python.exists() {
        let out = Command::new(&python)
            .arg(root.join("bench/contenders/rest_dlt.py"))
            .args([url.as_str(), &per_page.to_string()])
            .output()
            .unwrap_or_else(|e| panic!("{e}"));
        let text = String::from_utf8_lossy(&out.stdout);
        match text
            .lines()
            .last()
            .and_then(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        {
            Some(v) => table.push((
                "dlt rest_api → DuckDB (merge by id)".into(),
                v["seconds"].as_f64().unwrap_or(f64::NAN),
                v["rows"].as_u64().unwrap_or(0) as usize,
                v["rss_mib"].as_f64(),
            )),
            None => eprintln!("dlt: {}{}", text, String::from_utf8_lossy(&out.stderr)),
        }
    } else {
        eprintln!("dlt: skipped (run scripts/python-env.sh --bench)");
    }
    drop(child.stdin.take());
    let _ = child.wait();

    println!(
        "| {records} records, {per_page} a page, loopback | seconds | records/s | peak RSS MiB |"
    );
    println!("|---|---|---|---|");
    for (label, secs, n, rss) in &table {
        let rss = rss.map_or("–".to_string(), |r| format!("{r:.0}"));
        println!("| {label} | {secs:.2} | {:.0} | {rss} |", *n as f64 / secs);
    }
    if let (Some(p), Some(d)) = (table.first(), table.iter().find(|t| t.0.starts_with("dlt"))) {
        println!("\nphlo's ingestion is {:.1}× faster than dlt's", d.1 / p.1);
    }
}
