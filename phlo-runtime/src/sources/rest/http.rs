//! One GET with retries: timeouts, refused or dropped connections, bodies cut short, 408,
//! 429 and 5xx are retried (a 429's or 503's `Retry-After` is honoured, up to the
//! largest delay); other statuses are errors at once, since retrying cannot fix them.

use std::time::Duration;

use bytes::Bytes;
use reqwest::header::{CONTENT_TYPE, DATE, HeaderMap, RETRY_AFTER};
use url::Url;

use super::auth::Auth;
use super::error::{RestError, status_hint};

/// How requests are retried.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Attempts per request, the first included (at least 1).
    pub attempts: u32,
    /// The delay after the first failure; it doubles after each further one.
    pub base_delay: Duration,
    /// The longest delay, `Retry-After` included.
    pub max_delay: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            attempts: 5,
            base_delay: Duration::from_millis(500),
            max_delay: Duration::from_secs(60),
        }
    }
}

impl RetryPolicy {
    /// The delay after failed attempt `attempt` (1-based) without a `Retry-After`.
    pub fn backoff(&self, attempt: u32) -> Duration {
        let factor = 2u32.saturating_pow(attempt.saturating_sub(1));
        self.base_delay.saturating_mul(factor).min(self.max_delay)
    }
}

/// A successful response.
#[derive(Debug)]
pub(crate) struct Fetched {
    pub headers: HeaderMap,
    pub body: Bytes,
}

/// What one request needs.
pub(crate) struct Request<'a> {
    pub client: &'a reqwest::Client,
    pub auth: &'a Auth,
    pub headers: &'a [(String, String)],
    pub timeout: Duration,
    pub retry: RetryPolicy,
}

impl Request<'_> {
    /// GETs `url`, retrying transient failures.
    pub async fn get(&self, url: &Url) -> Result<Fetched, RestError> {
        let shown = redact(url, self.auth.secret_query_param());
        let attempts = self.retry.attempts.max(1);
        let mut attempt = 0;
        let mut refreshed = false;
        let mut last = String::new();
        while attempt < attempts {
            attempt += 1;
            let mut request = self.client.get(url.clone()).timeout(self.timeout);
            for (name, value) in self.headers {
                request = request.header(name.as_str(), value.as_str());
            }
            let request = self.auth.apply(self.client, request, self.timeout).await?;
            let wait = match request.send().await {
                Err(e) => {
                    last = describe(e);
                    self.retry.backoff(attempt)
                }
                Ok(response) => {
                    let status = response.status().as_u16();
                    if response.status().is_success() {
                        check_content_type(&shown, response.headers())?;
                        let headers = response.headers().clone();
                        match response.bytes().await {
                            Ok(body) => return Ok(Fetched { headers, body }),
                            Err(e) => {
                                last = format!("the body was cut short ({})", describe(e));
                                self.retry.backoff(attempt)
                            }
                        }
                    } else if status == 401 && !refreshed && self.auth.invalidate().await {
                        // A fresh OAuth2 token, once; the attempt does not count.
                        refreshed = true;
                        attempt -= 1;
                        continue;
                    } else if matches!(status, 408 | 429 | 500..=599) {
                        let headers = response.headers().clone();
                        let body = response.bytes().await.unwrap_or_default();
                        last = format!("{status}: {}", excerpt(&body));
                        retry_after(&headers)
                            .unwrap_or_else(|| self.retry.backoff(attempt))
                            .min(self.retry.max_delay)
                    } else {
                        let body = response.bytes().await.unwrap_or_default();
                        return Err(RestError::Status {
                            url: shown,
                            status,
                            hint: status_hint(status),
                            body: excerpt(&body),
                        });
                    }
                }
            };
            if attempt < attempts {
                tracing::warn!(url = %shown, attempt, wait_ms = wait.as_millis() as u64, error = %last, "REST request failed; retrying");
                tokio::time::sleep(wait).await;
            }
        }
        Err(RestError::Exhausted {
            url: shown,
            attempts,
            last,
        })
    }
}

/// A JSON `Content-Type` (`application/json`, `application/problem+json`, `text/json`...),
/// or none at all.
fn check_content_type(url: &str, headers: &HeaderMap) -> Result<(), RestError> {
    let Some(value) = headers.get(CONTENT_TYPE) else {
        return Ok(());
    };
    let text = value.to_str().unwrap_or_default().to_ascii_lowercase();
    let essence = text.split(';').next().unwrap_or_default().trim();
    if essence.ends_with("/json") || essence.ends_with("+json") {
        Ok(())
    } else {
        Err(RestError::ContentType {
            url: url.to_string(),
            content_type: text,
        })
    }
}

/// The delay a `Retry-After` asks for: seconds, or an HTTP date measured against the
/// response's own `Date` (so the server's clock, not this machine's, decides).
pub(crate) fn retry_after(headers: &HeaderMap) -> Option<Duration> {
    let value = headers.get(RETRY_AFTER)?.to_str().ok()?.trim();
    if let Ok(seconds) = value.parse::<u64>() {
        return Some(Duration::from_secs(seconds));
    }
    let at = chrono::DateTime::parse_from_rfc2822(value).ok()?;
    let now = headers
        .get(DATE)
        .and_then(|d| d.to_str().ok())
        .and_then(|d| chrono::DateTime::parse_from_rfc2822(d).ok())
        .map(|d| d.with_timezone(&chrono::Utc))
        .unwrap_or_else(chrono::Utc::now);
    Some(
        (at.with_timezone(&chrono::Utc) - now)
            .to_std()
            .unwrap_or_default(),
    )
}

/// `url` with the value of query parameter `secret` replaced by `***`.
pub(crate) fn redact(url: &Url, secret: Option<&str>) -> String {
    let Some(secret) = secret else {
        return url.to_string();
    };
    if !url.query_pairs().any(|(k, _)| k == secret) {
        return url.to_string();
    }
    let mut shown = url.clone();
    let pairs: Vec<(String, String)> = url
        .query_pairs()
        .map(|(k, v)| {
            let v = if k == secret {
                "***".into()
            } else {
                v.into_owned()
            };
            (k.into_owned(), v)
        })
        .collect();
    shown.query_pairs_mut().clear().extend_pairs(pairs);
    shown.to_string()
}

/// A request error with its causes: `error sending request: connection refused`.
pub(crate) fn describe(e: reqwest::Error) -> String {
    use std::error::Error as _;
    let e = e.without_url();
    let mut text = if e.is_timeout() {
        "timed out".to_string()
    } else {
        e.to_string()
    };
    let mut source = e.source();
    while let Some(s) = source {
        let s_text = s.to_string();
        if !text.contains(&s_text) {
            text.push_str(": ");
            text.push_str(&s_text);
        }
        source = s.source();
    }
    text
}

/// The first 200 characters of a body, for a message.
pub(crate) fn excerpt(body: &[u8]) -> String {
    let text = String::from_utf8_lossy(body);
    let text = text.trim();
    match text.char_indices().nth(200) {
        Some((i, _)) => format!("{}…", &text[..i]),
        None => text.to_string(),
    }
}
