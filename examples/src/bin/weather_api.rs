//! The example weather API on loopback, for the `weather_observations` ingestion:
//!
//! ```text
//! cargo run -p phlo-examples --bin weather_api            # http://127.0.0.1:8765
//! cargo run -p phlo-examples --bin weather_api -- 127.0.0.1:9000
//! ```
//!
//! It answers `GET /v1/observations?date=YYYY-MM-DD[&cursor=N]` with the bearer token
//! `demo-token`, until Ctrl-C.

#[tokio::main]
async fn main() -> std::io::Result<()> {
    let addr = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "127.0.0.1:8765".to_string());
    let server = phlo_examples::weather::serve(&addr).await?;
    println!(
        "weather API on {} (token: {})",
        server.url(),
        phlo_examples::weather::DEMO_TOKEN
    );
    tokio::signal::ctrl_c().await
}
