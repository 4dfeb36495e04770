//! Why a fetch failed, and how the crawler treats each kind.

use std::time::Duration;

/// Why one request (with its retries and redirects) gave no usable response.
#[derive(Debug, Clone, thiserror::Error)]
pub enum FetchError {
    #[error("{url}: not an http(s) address")]
    Scheme { url: String },
    #[error("{url}: disallowed by robots.txt")]
    Disallowed { url: String },
    #[error("{url}: robots.txt of this host cannot be read ({why}); nothing is fetched from it until it can")]
    RobotsUnreachable { url: String, why: String },
    #[error("{url}: refused, {why} is a loopback or private address (set allow_private = true to fetch it)")]
    Private { url: String, why: String },
    #[error("{url}: no answer within {}s", after.as_secs_f32())]
    Timeout { url: String, after: Duration },
    #[error("{url}: cannot connect ({why})")]
    Connect { url: String, why: String },
    #[error("{url}: host {host} is not answering (every request slot is waiting on an unanswered request)")]
    Unresponsive { url: String, host: String },
    #[error("{url}: HTTP {status}")]
    Status { url: String, status: u16 },
    #[error("{url}: rate-limited (HTTP {status}){}", retry_after.map(|d| format!(", asked to come back in {}s", d.as_secs())).unwrap_or_default())]
    RateLimited {
        url: String,
        status: u16,
        retry_after: Option<Duration>,
    },
    #[error("{url}: more than {max} redirects")]
    TooManyRedirects { url: String, max: usize },
    #[error("{url}: redirect without a usable Location ({location:?})")]
    BadRedirect { url: String, location: String },
    #[error("{url}: reading the body failed ({why})")]
    Body { url: String, why: String },
    #[error("{url}: not {expected} (Content-Type {content_type})")]
    Unsupported {
        url: String,
        expected: &'static str,
        content_type: String,
    },
    #[error("{url}: {why}")]
    Other { url: String, why: String },
}

impl FetchError {
    /// A short stable name for counting errors by kind.
    pub fn kind(&self) -> &'static str {
        match self {
            FetchError::Scheme { .. } => "bad-url",
            FetchError::Disallowed { .. } => "robots",
            FetchError::RobotsUnreachable { .. } => "robots-unreachable",
            FetchError::Private { .. } => "private-address",
            FetchError::Timeout { .. } => "timeout",
            FetchError::Connect { .. } => "connect",
            FetchError::Unresponsive { .. } => "unresponsive",
            FetchError::Status { status, .. } if *status >= 500 => "http-5xx",
            FetchError::Status { .. } => "http-4xx",
            FetchError::RateLimited { .. } => "rate-limited",
            FetchError::TooManyRedirects { .. } | FetchError::BadRedirect { .. } => "redirect",
            FetchError::Body { .. } => "body",
            FetchError::Unsupported { .. } => "unsupported-type",
            FetchError::Other { .. } => "other",
        }
    }

    /// Whether asking again later may succeed: the server or the network had a problem, not
    /// the address. Items whose page failed this way are left for the next poll.
    pub fn is_transient(&self) -> bool {
        match self {
            FetchError::Timeout { .. }
            | FetchError::Connect { .. }
            | FetchError::Unresponsive { .. }
            | FetchError::RateLimited { .. }
            | FetchError::RobotsUnreachable { .. }
            | FetchError::Body { .. } => true,
            FetchError::Status { status, .. } => *status >= 500 || *status == 408,
            _ => false,
        }
    }

    /// How long the server asked us to stay away, if it did.
    pub fn retry_after(&self) -> Option<Duration> {
        match self {
            FetchError::RateLimited { retry_after, .. } => *retry_after,
            _ => None,
        }
    }
}
