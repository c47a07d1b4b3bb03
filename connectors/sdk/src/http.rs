//! The guarded HTTP client every connector uses to reach its source.
//!
//! Per-request deadline, a response body cap, no redirects, no system proxy,
//! https unless allowed, and every address vetted by [`SourcePolicy`] — IP
//! literals before the request, names on every connect (so DNS rebinding
//! cannot slip an internal address in).

use std::error::Error as StdError;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use bytes::{Bytes, BytesMut};
use reqwest::dns::{Addrs, Name, Resolve, Resolving};

use crate::{ConnectorError, SourcePolicy};

pub const DEFAULT_BODY_CAP: usize = 64 * 1024 * 1024;
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// A response read whole (within the body cap).
#[derive(Debug)]
pub struct HttpResponse {
    pub status: http::StatusCode,
    pub headers: http::HeaderMap,
    pub body: Bytes,
}

/// Why a request got no response. Connectors turn these into [`ConnectorError`]s
/// with their own wording.
#[derive(Debug, thiserror::Error)]
pub enum HttpError {
    #[error("{0}")]
    NotAllowed(ConnectorError),
    #[error("no response within {0:?}")]
    Timeout(Duration),
    #[error("tls failure: {0}")]
    Tls(String),
    #[error("cannot connect: {0}")]
    Connect(String),
    #[error("response body larger than {0} bytes")]
    BodyTooLarge(usize),
    #[error("http failure: {0}")]
    Other(String),
}

/// Sees every request to a source: its route (the URL path with ids replaced by
/// `{id}`), its HTTP status (`None` when no response came) and its latency.
pub trait HttpObserver: Send + Sync {
    fn observe(&self, route: &str, status: Option<u16>, elapsed: Duration);
}

#[derive(Clone)]
pub struct GuardedClient {
    client: reqwest::Client,
    policy: Arc<SourcePolicy>,
    body_cap: usize,
    observer: Option<Arc<dyn HttpObserver>>,
}

impl GuardedClient {
    pub fn new(policy: SourcePolicy, body_cap: usize) -> Result<Self, HttpError> {
        let policy = Arc::new(policy);
        let client = reqwest::Client::builder()
            .no_proxy()
            .redirect(reqwest::redirect::Policy::none())
            .connect_timeout(CONNECT_TIMEOUT)
            .dns_resolver(Arc::new(VettingResolver {
                policy: policy.clone(),
            }))
            .user_agent(concat!("kpilink/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| HttpError::Other(e.to_string()))?;
        Ok(GuardedClient {
            client,
            policy,
            body_cap,
            observer: None,
        })
    }

    pub fn with_observer(mut self, observer: Option<Arc<dyn HttpObserver>>) -> Self {
        self.observer = observer;
        self
    }

    /// Starts a request; send it with [`GuardedClient::send`].
    pub fn request(&self, method: reqwest::Method, url: url::Url) -> reqwest::RequestBuilder {
        self.client.request(method, url)
    }

    pub fn policy(&self) -> &SourcePolicy {
        &self.policy
    }

    /// Sends `request` and reads the whole body, all within `deadline`.
    pub async fn send(
        &self,
        request: reqwest::RequestBuilder,
        deadline: Duration,
    ) -> Result<HttpResponse, HttpError> {
        let request = request
            .timeout(deadline)
            .build()
            .map_err(|e| HttpError::Other(e.to_string()))?;
        self.policy
            .check_url(request.url())
            .map_err(HttpError::NotAllowed)?;
        let route = self.observer.as_ref().map(|_| route_of(request.url()));
        let started = std::time::Instant::now();
        let exchange = async {
            let mut response = self
                .client
                .execute(request)
                .await
                .map_err(|e| classify(&e, deadline))?;
            let status = response.status();
            let headers = response.headers().clone();
            if let Some(length) = response.content_length()
                && length > self.body_cap as u64
            {
                return Err(HttpError::BodyTooLarge(self.body_cap));
            }
            let mut body = BytesMut::new();
            while let Some(chunk) = response.chunk().await.map_err(|e| classify(&e, deadline))? {
                if body.len() + chunk.len() > self.body_cap {
                    return Err(HttpError::BodyTooLarge(self.body_cap));
                }
                body.extend_from_slice(&chunk);
            }
            Ok(HttpResponse {
                status,
                headers,
                body: body.freeze(),
            })
        };
        // reqwest's timeout covers the body too; this outer one is a backstop.
        let result = tokio::time::timeout(deadline + Duration::from_millis(50), exchange)
            .await
            .unwrap_or(Err(HttpError::Timeout(deadline)));
        if let (Some(observer), Some(route)) = (&self.observer, route) {
            let status = result
                .as_ref()
                .ok()
                .map(|response| response.status.as_u16());
            observer.observe(&route, status, started.elapsed());
        }
        result
    }
}

/// The URL path without its API prefix, with id-like segments (anything but
/// lowercase words) replaced by `{id}`: `/api/4.0/dashboards/12` → `dashboards/{id}`.
fn route_of(url: &url::Url) -> String {
    let segments: Vec<&str> = url
        .path_segments()
        .map(|segments| segments.filter(|s| !s.is_empty()).collect())
        .unwrap_or_default();
    let skip = match segments.as_slice() {
        ["api", version, ..] if version.starts_with(|c: char| c.is_ascii_digit()) => 2,
        _ => 0,
    };
    segments[skip..]
        .iter()
        .map(|segment| {
            if segment.chars().all(|c| c.is_ascii_lowercase() || c == '_') {
                *segment
            } else {
                "{id}"
            }
        })
        .collect::<Vec<_>>()
        .join("/")
}

/// Sorts a reqwest failure into refused / timeout / TLS / connect / other.
fn classify(error: &reqwest::Error, deadline: Duration) -> HttpError {
    if error.is_timeout() {
        return HttpError::Timeout(deadline);
    }
    let mut source: Option<&(dyn StdError + 'static)> = Some(error);
    let mut chain = Vec::new();
    while let Some(current) = source {
        if let Some(refused) = current.downcast_ref::<RefusedAddress>() {
            return HttpError::NotAllowed(refused.0.clone());
        }
        chain.push(current.to_string());
        source = current.source();
    }
    // The innermost causes say what happened; the outer ones repeat the URL.
    let text = chain[chain.len().saturating_sub(2)..].join(": ");
    let lower = chain.join(": ").to_lowercase();
    if lower.contains("certificate") || lower.contains("tls") || lower.contains("handshake") {
        HttpError::Tls(text)
    } else if error.is_connect() || lower.contains("dns error") {
        HttpError::Connect(text)
    } else {
        HttpError::Other(text)
    }
}

#[derive(Debug)]
struct RefusedAddress(ConnectorError);

impl std::fmt::Display for RefusedAddress {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", self.0.message)
    }
}

impl StdError for RefusedAddress {}

/// Resolves names with the system resolver, keeping only allowed addresses.
struct VettingResolver {
    policy: Arc<SourcePolicy>,
}

impl Resolve for VettingResolver {
    fn resolve(&self, name: Name) -> Resolving {
        let policy = self.policy.clone();
        Box::pin(async move {
            let host = name.as_str().to_owned();
            let resolved: Vec<SocketAddr> =
                tokio::net::lookup_host((host.as_str(), 0)).await?.collect();
            let mut refusal = None;
            let allowed: Vec<SocketAddr> = resolved
                .into_iter()
                .filter(|addr| match policy.check_ip(addr.ip()) {
                    Ok(()) => true,
                    Err(error) => {
                        refusal.get_or_insert(error);
                        false
                    }
                })
                .collect();
            if allowed.is_empty() {
                let error = refusal.unwrap_or_else(|| {
                    ConnectorError::new(
                        crate::Reason::SourceUnreachable,
                        format!("{host} has no address"),
                    )
                });
                return Err(Box::new(RefusedAddress(ConnectorError {
                    message: format!("{host} {}", error.message),
                    ..error
                })) as Box<dyn StdError + Send + Sync>);
            }
            Ok(Box::new(allowed.into_iter()) as Addrs)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn routes_hide_ids() {
        for (url, route) in [
            (
                "https://x.looker.com/api/4.0/dashboards/12",
                "dashboards/{id}",
            ),
            (
                "https://x.looker.com/api/4.0/dashboards/demo_model::kpi",
                "dashboards/{id}",
            ),
            (
                "https://x.looker.com/api/4.0/queries/7pQmRg/run/json_detail",
                "queries/{id}/run/json_detail",
            ),
            ("https://x.looker.com/api/4.0/login", "login"),
        ] {
            assert_eq!(route_of(&url::Url::parse(url).unwrap()), route, "{url}");
        }
    }
}
