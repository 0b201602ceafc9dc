//! `cargo run --release -p phlo-bench --bin postgres [-- --rows N]`: publishing to and
//! reading from PostgreSQL (the loopback server of `scripts/postgres.sh`), against `psql
//! \copy` of the same rows as CSV (PostgreSQL's own bulk load, the floor a publisher is
//! measured against). Prints a table.

use std::sync::Arc;
use std::time::Instant;

use phlo::arrow::array::{
    Date32Array, Decimal128Array, Float64Array, Int64Array, StringArray, TimestampMicrosecondArray,
};
use phlo::arrow::datatypes::{DataType, Field, Schema, SchemaRef, TimeUnit};
use phlo::arrow::record_batch::RecordBatch;
use phlo::postgres::{PgTable, PublishRequest, ReadOptions};

fn schema() -> SchemaRef {
    Arc::new(Schema::new(vec![
        Field::new("id", DataType::Int64, false),
        Field::new("well_code", DataType::Utf8, false),
        Field::new("oil_bbl", DataType::Float64, true),
        Field::new("revenue", DataType::Decimal128(14, 2), true),
        Field::new("day", DataType::Date32, false),
        Field::new(
            "updated_at",
            DataType::Timestamp(TimeUnit::Microsecond, Some("UTC".into())),
            false,
        ),
    ]))
}

fn batches(rows: usize) -> Vec<RecordBatch> {
    let per = 65_536;
    (0..rows.div_ceil(per))
        .map(|b| {
            let ids: Vec<i64> = (b * per..((b + 1) * per).min(rows))
                .map(|i| i as i64)
                .collect();
            RecordBatch::try_new(
                schema(),
                vec![
                    Arc::new(Int64Array::from(ids.clone())),
                    Arc::new(StringArray::from(
                        ids.iter()
                            .map(|i| format!("W-{:05}", i % 5000))
                            .collect::<Vec<_>>(),
                    )),
                    Arc::new(Float64Array::from(
                        ids.iter()
                            .map(|i| (*i % 997) as f64 * 1.25)
                            .collect::<Vec<_>>(),
                    )),
                    Arc::new(
                        Decimal128Array::from(
                            ids.iter()
                                .map(|i| i128::from(*i * 731 % 10_000_000))
                                .collect::<Vec<_>>(),
                        )
                        .with_precision_and_scale(14, 2)
                        .unwrap_or_else(|e| panic!("{e}")),
                    ),
                    Arc::new(Date32Array::from(
                        ids.iter()
                            .map(|i| 20_000 + (*i % 365) as i32)
                            .collect::<Vec<_>>(),
                    )),
                    Arc::new(
                        TimestampMicrosecondArray::from(
                            ids.iter()
                                .map(|i| 1_736_942_400_000_000 + i * 1_000_003)
                                .collect::<Vec<_>>(),
                        )
                        .with_timezone("UTC"),
                    ),
                ],
            )
            .unwrap_or_else(|e| panic!("{e}"))
        })
        .collect()
}

fn main() {
    let mut rows = 1_000_000usize;
    let args: Vec<String> = std::env::args().collect();
    if let Some(i) = args.iter().position(|a| a == "--rows") {
        rows = args
            .get(i + 1)
            .and_then(|r| r.parse().ok())
            .unwrap_or_else(|| panic!("--rows N"));
    }
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let url = phlo::postgres::testing::server_url()
        .unwrap_or_else(|e| panic!("{e}"))
        .to_string();
    let rt = tokio::runtime::Runtime::new().unwrap_or_else(|e| panic!("{e}"));
    let data = batches(rows);
    let mut table = Vec::new();
    rt.block_on(async {
        let mut client = phlo::postgres::connect(&url)
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        client
            .batch_execute("DROP SCHEMA IF EXISTS bench CASCADE")
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        let request = PublishRequest {
            target: PgTable::parse("bench.wells").unwrap_or_else(|e| panic!("{e}")),
            partition: None,
            partition_key: None,
            source_table: "gold.wells".into(),
            source_version: Some(1),
            published_at: phlo::chrono::Utc::now(),
            run_id: "bench".into(),
        };
        for label in ["publish (new table)", "publish (replace)"] {
            let stream = futures_stream(data.clone());
            let t = Instant::now();
            let r = phlo::postgres::publish(&mut client, schema(), stream, &request)
                .await
                .unwrap_or_else(|e| panic!("{e}"));
            table.push((
                label.to_string(),
                t.elapsed().as_secs_f64(),
                r.rows as usize,
            ));
        }
        let t = Instant::now();
        let back = phlo::postgres::read_query(
            &client,
            "SELECT * FROM bench.wells",
            &ReadOptions::default(),
        )
        .await
        .unwrap_or_else(|e| panic!("{e}"));
        let n: usize = back.iter().map(RecordBatch::num_rows).sum();
        table.push(("read_query (all rows)".into(), t.elapsed().as_secs_f64(), n));
    });

    // psql \copy of the same rows as CSV into an empty table: PostgreSQL's own bulk load.
    let csv = root.join("target/bench-wells.csv");
    {
        let file = std::fs::File::create(&csv).unwrap_or_else(|e| panic!("{e}"));
        let mut w = phlo::arrow::csv::WriterBuilder::new()
            .with_header(false)
            .with_timestamp_tz_format("%Y-%m-%d %H:%M:%S%.6f+00".to_string())
            .build(file);
        for b in &data {
            w.write(b).unwrap_or_else(|e| panic!("{e}"));
        }
    }
    let psql = |sql: &str| {
        let s = std::process::Command::new("psql")
            .args([url.as_str(), "-q", "-v", "ON_ERROR_STOP=1", "-c", sql])
            .status()
            .unwrap_or_else(|e| panic!("psql: {e}"));
        assert!(s.success(), "{sql}");
    };
    psql("DROP TABLE IF EXISTS bench.wells_csv; CREATE TABLE bench.wells_csv (LIKE bench.wells)");
    let t = Instant::now();
    psql(&format!(
        "\\copy bench.wells_csv FROM '{}' WITH (FORMAT csv)",
        csv.display()
    ));
    table.push((
        "psql \\copy CSV (load only)".into(),
        t.elapsed().as_secs_f64(),
        rows,
    ));
    let _ = std::fs::remove_file(&csv);

    println!("| step ({rows} rows × 6 columns) | seconds | rows/s |");
    println!("|---|---|---|");
    for (label, secs, n) in table {
        println!("| {label} | {secs:.2} | {:.0} |", n as f64 / secs);
    }
}

fn futures_stream(
    batches: Vec<RecordBatch>,
) -> impl futures::Stream<Item = Result<RecordBatch, String>> + Unpin {
    futures::stream::iter(batches.into_iter().map(Ok))
}
