//! Hourly weather observations from a REST API, merged into `bronze.weather_observations`.
//!
//! ```text
//!  GET /v1/observations?date=2025-01-15   ─▶ weather_observations(ctx) ─▶ phlo
//!    Authorization: Bearer <token>            phlo::sources::rest           coerce (text → types)
//!    {"data": [...], "next_cursor": "25"}     cursor pages, retries          validate ranges
//!                                                                            merge by (station, observed_at)
//! ```
//!
//! The API is [`serve`]: a loopback server (`cargo run -p phlo-examples --bin weather_api`)
//! that answers a day's observations for four stations, 25 a page, behind a bearer
//! token. The ingestion reads the day its partition names through the REST source, with
//! the token from `WEATHER_API_TOKEN` and the base URL from `WEATHER_API_URL` (default
//! `http://127.0.0.1:8765`).

use std::sync::Mutex;

use phlo::chrono::SecondsFormat;
use phlo::prelude::*;
use phlo::sources::rest::testing::{Reply, Request, Server};
use phlo::sources::rest::{Auth, Paginator, RestApi, Secret};

/// Where the API listens unless `WEATHER_API_URL` says otherwise.
pub const DEFAULT_URL: &str = "http://127.0.0.1:8765";

/// The token the example API accepts.
pub const DEMO_TOKEN: &str = "demo-token";

/// The stations the API reports.
pub const STATIONS: &[&str] = &["KDEN", "KPDX", "KSEA", "KSFO"];

/// Observations per page.
pub const PAGE_SIZE: usize = 25;

/// One observation, as the table keeps it.
#[derive(Schema)]
pub struct Observation {
    /// ICAO station code.
    #[phlo(regex = "K[A-Z]{3}")]
    pub station: String,
    /// The hour observed (UTC).
    pub observed_at: DateTime<Utc>,
    /// Air temperature, °C.
    #[phlo(ge = -60.0, le = 60.0)]
    pub temperature_c: f64,
    /// Relative humidity, %.
    #[phlo(ge = 0, le = 100)]
    pub humidity_pct: i64,
    /// Wind speed, km/h (missing when the anemometer is down).
    #[phlo(ge = 0.0)]
    pub wind_kph: Option<f64>,
}

/// The base URL and token [`configure`] set, if any.
static CONFIGURED: Mutex<Option<(String, String)>> = Mutex::new(None);

/// Points the ingestion at `base_url` with `token` (tests, which must not change the
/// process's environment); otherwise both come from the environment.
pub fn configure(base_url: impl Into<String>, token: impl Into<String>) {
    if let Ok(mut c) = CONFIGURED.lock() {
        *c = Some((base_url.into(), token.into()));
    }
}

/// The API: base URL and token as [`configure`]d, else `WEATHER_API_URL` (default
/// [`DEFAULT_URL`]) and `WEATHER_API_TOKEN`.
pub fn api() -> RestApi {
    let configured = CONFIGURED.lock().ok().and_then(|c| c.clone());
    let (base, token) = match configured {
        Some((base, token)) => (base, Secret::value(token)),
        None => (
            std::env::var("WEATHER_API_URL").unwrap_or_else(|_| DEFAULT_URL.to_string()),
            Secret::env("WEATHER_API_TOKEN"),
        ),
    };
    RestApi::new(format!("{}/v1", base.trim_end_matches('/')))
        .auth(Auth::bearer(token))
        .paginator(Paginator::cursor("next_cursor", "cursor"))
}

/// A day of observations, merged by station and hour: re-running a day is idempotent, and
/// a correction the API makes to an hour updates that row.
#[ingestion(table = "bronze.weather_observations", unique_key = ["station", "observed_at"],
            schema = Observation, group = "weather", order_by = "observed_at")]
pub async fn weather_observations(ctx: &PartitionContext) -> phlo::Result<Vec<RecordBatch>> {
    api()
        .resource("observations")
        .param("date", "{date}")
        .data_selector("data")
        .read::<Observation>(ctx)
        .await
}

/// Serves the example API on `addr` (`127.0.0.1:8765`, or `127.0.0.1:0` for any port).
pub async fn serve(addr: &str) -> std::io::Result<Server> {
    Server::start_on(addr, answer).await
}

/// The API's answer to `request`.
pub fn answer(request: &Request) -> Reply {
    let json = |status: u16, body: String| {
        Reply::status(status, body).header("content-type", "application/json")
    };
    if request.header("authorization") != Some(&format!("Bearer {DEMO_TOKEN}")) {
        return json(401, r#"{"error": "a bearer token is required"}"#.into());
    }
    if request.path != "/v1/observations" {
        return json(404, r#"{"error": "no such resource"}"#.into());
    }
    let Some(date) = request
        .query("date")
        .and_then(|d| NaiveDate::parse_from_str(d, "%Y-%m-%d").ok())
    else {
        return json(400, r#"{"error": "date=YYYY-MM-DD is required"}"#.into());
    };
    let from: usize = request
        .query("cursor")
        .and_then(|c| c.parse().ok())
        .unwrap_or(0);
    let day = observations(date);
    let page: Vec<serde_json::Value> = day.iter().skip(from).take(PAGE_SIZE).cloned().collect();
    let next = (from + PAGE_SIZE < day.len()).then(|| (from + PAGE_SIZE).to_string());
    json(
        200,
        serde_json::json!({"data": page, "next_cursor": next}).to_string(),
    )
}

/// The observations of `date`: every station, every hour, the same on every call.
pub fn observations(date: NaiveDate) -> Vec<serde_json::Value> {
    let mut out = Vec::with_capacity(STATIONS.len() * 24);
    for (s, station) in STATIONS.iter().enumerate() {
        for hour in 0..24u32 {
            let n = u64::from(date.to_epoch_days().unsigned_abs()) * 97
                + s as u64 * 31
                + u64::from(hour);
            let noise = (n.wrapping_mul(2_654_435_761) % 1000) as f64 / 1000.0;
            let base = [-2.0, 6.0, 7.5, 12.0][s];
            let diurnal = 6.0 * (f64::from(hour) / 24.0 * std::f64::consts::TAU - 2.0).sin();
            let temperature = ((base + diurnal + noise * 2.0) * 10.0).round() / 10.0;
            let humidity = 40 + (n * 7 % 55) as i64;
            // Station KDEN's anemometer is down in the small hours.
            let wind = (s != 0 || hour >= 6).then(|| ((noise * 30.0) * 10.0).round() / 10.0);
            let at = date.and_hms_opt(hour, 0, 0).unwrap_or_default().and_utc();
            out.push(serde_json::json!({
                "station": station,
                "observed_at": at.to_rfc3339_opts(SecondsFormat::Secs, true),
                "temperature_c": temperature,
                "humidity_pct": humidity,
                "wind_kph": wind,
            }));
        }
    }
    out
}
