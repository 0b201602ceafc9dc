//! What can go wrong reading a REST API. Each variant names the URL (with query secrets
//! redacted) or the setting, and who must act.

/// A REST source's error.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum RestError {
    /// The base URL, a path or a next-page URL is not a URL. Its author must fix it.
    #[error("REST source: `{url}` is not a valid URL: {reason}")]
    InvalidUrl {
        /// The text.
        url: String,
        /// Why.
        reason: String,
    },
    /// A JSON path (data selector, cursor, paginator field) does not parse.
    #[error("REST source: JSON path `{path}`: {reason}")]
    InvalidPath {
        /// The path as written.
        path: String,
        /// What is wrong.
        reason: String,
    },
    /// A path or parameter template does not parse, or the partition cannot fill it.
    #[error("REST source: {what}: {reason}")]
    Template {
        /// Which template.
        what: String,
        /// What is wrong.
        reason: String,
    },
    /// A secret is read from an environment variable that is not set.
    #[error(
        "REST source: the environment variable `{env}` (the {what}) is not set; set it before running"
    )]
    MissingSecret {
        /// The variable.
        env: String,
        /// What it holds (`bearer token`, `API key`, ...).
        what: &'static str,
    },
    /// The server answered with a status that retrying cannot fix (a 4xx other than 408
    /// and 429). A 401 or 403 means the credentials are wrong or lack a permission.
    #[error("REST source: GET {url} answered {status}{hint}: {body}")]
    Status {
        /// The request's URL.
        url: String,
        /// The status code.
        status: u16,
        /// What the status usually means.
        hint: &'static str,
        /// The start of the response body.
        body: String,
    },
    /// The response is not JSON by its `Content-Type`.
    #[error(
        "REST source: GET {url} answered with Content-Type `{content_type}`, not JSON; check the endpoint's path"
    )]
    ContentType {
        /// The request's URL.
        url: String,
        /// What the server said.
        content_type: String,
    },
    /// The response body is not valid JSON.
    #[error("REST source: GET {url}: page {page} is not valid JSON: {reason}")]
    Json {
        /// The request's URL.
        url: String,
        /// The page number (1 is the first page).
        page: usize,
        /// Where and why (serde_json's message with line and column).
        reason: String,
    },
    /// The data selector is not in the response, or the response has no records array
    /// phlo can find on its own.
    #[error("REST source: GET {url}: {reason}")]
    NoData {
        /// The request's URL.
        url: String,
        /// What is missing and how to say where the records are.
        reason: String,
    },
    /// A value the paginator reads is not of the kind it needs.
    #[error("REST source: GET {url}: paginator: {reason}")]
    Paginator {
        /// The request's URL.
        url: String,
        /// What is wrong.
        reason: String,
    },
    /// The OAuth2 token endpoint refused or gave no token.
    #[error("REST source: OAuth2 token from {url}: {reason}")]
    Token {
        /// The token URL.
        url: String,
        /// Why.
        reason: String,
    },
    /// The incremental cursor cannot be read or shifted.
    #[error("REST source: incremental cursor `{path}`: {reason}")]
    Cursor {
        /// The cursor's path.
        path: String,
        /// Why.
        reason: String,
    },
    /// Every attempt of a request failed with a transient error (a timeout, a refused or
    /// dropped connection, a 408, 429 or 5xx, a body cut short).
    #[error("REST source: GET {url} failed {attempts} times, last: {last}")]
    Exhausted {
        /// The request's URL.
        url: String,
        /// Attempts made.
        attempts: u32,
        /// The last failure.
        last: String,
    },
    /// The pagination did not end within the page limit (a paginator that never stops).
    #[error(
        "REST source: GET {url}: more than {limit} pages; the paginator does not stop (raise RestApi::max_pages if the API really has that many)"
    )]
    TooManyPages {
        /// The last request's URL.
        url: String,
        /// The limit.
        limit: usize,
    },
    /// The HTTP client could not be built (its TLS setup failed).
    #[error("REST source: the HTTP client: {reason}")]
    Client {
        /// Why.
        reason: String,
    },
    /// Building the batches failed.
    #[error("REST source: {0}")]
    Arrow(#[from] arrow::error::ArrowError),
}

impl RestError {
    /// Whether running again may succeed: only [`RestError::Exhausted`] (the source has
    /// already retried each request; the asset's retry policy decides whether to run the
    /// partition again).
    pub fn is_transient(&self) -> bool {
        matches!(self, RestError::Exhausted { .. })
    }

    /// Whether the error is the configuration's (the CLI exits 2).
    pub fn is_usage(&self) -> bool {
        matches!(
            self,
            RestError::InvalidUrl { .. }
                | RestError::InvalidPath { .. }
                | RestError::Template { .. }
                | RestError::MissingSecret { .. }
        )
    }
}

/// What a status usually means, for the error message.
pub(crate) fn status_hint(status: u16) -> &'static str {
    match status {
        400 => " (Bad Request: check the parameters)",
        401 => " (Unauthorized: check the credentials)",
        403 => " (Forbidden: the credentials lack a permission)",
        404 => " (Not Found: check the base URL and the resource's path)",
        405 => " (Method Not Allowed)",
        410 => " (Gone)",
        422 => " (Unprocessable: check the parameters)",
        _ => "",
    }
}
