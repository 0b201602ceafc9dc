//! Authentication: bearer token, API key in a header or the query, HTTP basic, OAuth2
//! client credentials. Secrets are read from the environment when the source runs (or
//! given as values) and never printed.

use std::fmt;
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde::Deserialize;
use tokio::sync::Mutex;

use super::error::RestError;

/// A secret: a value, or the environment variable that holds it when the source runs.
#[derive(Clone, PartialEq, Eq)]
pub enum Secret {
    /// Read from this environment variable when the source runs.
    Env(String),
    /// The value itself.
    Value(String),
}

impl Secret {
    /// The secret in environment variable `name`.
    pub fn env(name: impl Into<String>) -> Self {
        Secret::Env(name.into())
    }

    /// The secret `value`.
    pub fn value(value: impl Into<String>) -> Self {
        Secret::Value(value.into())
    }

    pub(crate) fn resolve(&self, what: &'static str) -> Result<String, RestError> {
        match self {
            Secret::Value(v) => Ok(v.clone()),
            Secret::Env(env) => std::env::var(env).map_err(|_| RestError::MissingSecret {
                env: env.clone(),
                what,
            }),
        }
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Secret::Env(env) => write!(f, "Secret::Env({env:?})"),
            Secret::Value(_) => f.write_str("Secret::Value(***)"),
        }
    }
}

/// Where an API key goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyLocation {
    /// A request header.
    Header,
    /// A query parameter.
    Query,
}

/// How requests authenticate.
#[derive(Debug, Clone, Default)]
pub enum Auth {
    /// No authentication.
    #[default]
    None,
    /// `Authorization: Bearer <token>`.
    Bearer(Secret),
    /// An API key in header or query parameter `name`.
    ApiKey {
        /// The header or parameter name.
        name: String,
        /// The key.
        key: Secret,
        /// Where it goes.
        location: KeyLocation,
    },
    /// HTTP basic authentication.
    Basic {
        /// The user name.
        username: String,
        /// The password.
        password: Secret,
    },
    /// OAuth2 client credentials: a token is fetched from `token_url` (a form POST with
    /// `grant_type=client_credentials`, the client id and secret, and the scope when
    /// given), cached until a minute before it expires, and fetched again once when a
    /// request answers 401.
    OAuth2(Arc<OAuth2>),
}

impl Auth {
    /// `Authorization: Bearer <token>`.
    pub fn bearer(token: Secret) -> Self {
        Auth::Bearer(token)
    }

    /// An API key in header `name`.
    pub fn api_key_header(name: impl Into<String>, key: Secret) -> Self {
        Auth::ApiKey {
            name: name.into(),
            key,
            location: KeyLocation::Header,
        }
    }

    /// An API key in query parameter `name`.
    pub fn api_key_query(name: impl Into<String>, key: Secret) -> Self {
        Auth::ApiKey {
            name: name.into(),
            key,
            location: KeyLocation::Query,
        }
    }

    /// HTTP basic authentication.
    pub fn basic(username: impl Into<String>, password: Secret) -> Self {
        Auth::Basic {
            username: username.into(),
            password,
        }
    }

    /// OAuth2 client credentials from `token_url`.
    pub fn oauth2_client_credentials(
        token_url: impl Into<String>,
        client_id: impl Into<String>,
        client_secret: Secret,
        scope: Option<&str>,
    ) -> Self {
        Auth::OAuth2(Arc::new(OAuth2 {
            token_url: token_url.into(),
            client_id: client_id.into(),
            client_secret,
            scope: scope.map(str::to_string),
            token: Mutex::new(None),
        }))
    }

    /// Checks that every secret can be read, before the first request.
    pub(crate) fn check(&self) -> Result<(), RestError> {
        match self {
            Auth::None => Ok(()),
            Auth::Bearer(s) => s.resolve("bearer token").map(drop),
            Auth::ApiKey { key, .. } => key.resolve("API key").map(drop),
            Auth::Basic { password, .. } => password.resolve("password").map(drop),
            Auth::OAuth2(o) => o.client_secret.resolve("OAuth2 client secret").map(drop),
        }
    }

    /// Adds the credentials to `request`.
    pub(crate) async fn apply(
        &self,
        client: &reqwest::Client,
        request: reqwest::RequestBuilder,
        timeout: Duration,
    ) -> Result<reqwest::RequestBuilder, RestError> {
        Ok(match self {
            Auth::None => request,
            Auth::Bearer(s) => request.bearer_auth(s.resolve("bearer token")?),
            Auth::ApiKey {
                name,
                key,
                location: KeyLocation::Header,
            } => request.header(name.as_str(), key.resolve("API key")?),
            Auth::ApiKey {
                name,
                key,
                location: KeyLocation::Query,
            } => request.query(&[(name.as_str(), key.resolve("API key")?)]),
            Auth::Basic { username, password } => {
                request.basic_auth(username, Some(password.resolve("password")?))
            }
            Auth::OAuth2(o) => request.bearer_auth(o.token(client, timeout).await?),
        })
    }

    /// After a 401: forgets an OAuth2 token so the next attempt fetches a new one.
    /// Whether that can help.
    pub(crate) async fn invalidate(&self) -> bool {
        match self {
            Auth::OAuth2(o) => {
                *o.token.lock().await = None;
                true
            }
            _ => false,
        }
    }

    /// The query parameter names that carry secrets (redacted in messages).
    pub(crate) fn secret_query_param(&self) -> Option<&str> {
        match self {
            Auth::ApiKey {
                name,
                location: KeyLocation::Query,
                ..
            } => Some(name),
            _ => None,
        }
    }
}

/// OAuth2 client-credentials settings and the cached token.
pub struct OAuth2 {
    token_url: String,
    client_id: String,
    client_secret: Secret,
    scope: Option<String>,
    token: Mutex<Option<(String, Option<Instant>)>>,
}

impl fmt::Debug for OAuth2 {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OAuth2")
            .field("token_url", &self.token_url)
            .field("client_id", &self.client_id)
            .field("client_secret", &self.client_secret)
            .field("scope", &self.scope)
            .finish_non_exhaustive()
    }
}

#[derive(Deserialize)]
struct TokenResponse {
    access_token: String,
    #[serde(default)]
    expires_in: Option<u64>,
}

impl OAuth2 {
    async fn token(
        &self,
        client: &reqwest::Client,
        timeout: Duration,
    ) -> Result<String, RestError> {
        let mut cached = self.token.lock().await;
        if let Some((token, expires)) = cached.as_ref()
            && expires.is_none_or(|e| Instant::now() < e)
        {
            return Ok(token.clone());
        }
        let error = |reason: String| RestError::Token {
            url: self.token_url.clone(),
            reason,
        };
        let secret = self.client_secret.resolve("OAuth2 client secret")?;
        let mut form = vec![
            ("grant_type", "client_credentials".to_string()),
            ("client_id", self.client_id.clone()),
            ("client_secret", secret),
        ];
        if let Some(scope) = &self.scope {
            form.push(("scope", scope.clone()));
        }
        let response = client
            .post(&self.token_url)
            .timeout(timeout)
            .form(&form)
            .send()
            .await
            .map_err(|e| error(super::http::describe(e)))?;
        let status = response.status();
        let body = response
            .bytes()
            .await
            .map_err(|e| error(super::http::describe(e)))?;
        if !status.is_success() {
            return Err(error(format!(
                "answered {status}: {}",
                super::http::excerpt(&body)
            )));
        }
        let parsed: TokenResponse = serde_json::from_slice(&body)
            .map_err(|e| error(format!("the answer has no `access_token`: {e}")))?;
        // Refresh a minute early (or at half the lifetime of a short-lived token).
        let expires = parsed.expires_in.map(|s| {
            let lifetime = Duration::from_secs(s);
            Instant::now() + lifetime.saturating_sub(Duration::from_secs(60).min(lifetime / 2))
        });
        *cached = Some((parsed.access_token.clone(), expires));
        Ok(parsed.access_token)
    }
}
