//! How Looker's answers become typed connector errors.

use std::time::Duration;

use kpilink_connector::http::{HttpError, HttpResponse};
use kpilink_connector::{ConnectorError, Reason};

use crate::models::ErrorBody;

/// What a 404 means for the call that got it.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Missing {
    Dashboard,
    Look,
    /// A query or query task: the chart's data is gone.
    Query,
    /// A search or listing: never a 404 in practice.
    Other,
}

const DEFAULT_RETRY_AFTER: Duration = Duration::from_secs(1);

/// The error for a non-success response.
pub(crate) fn from_status(response: &HttpResponse, missing: Missing, what: &str) -> ConnectorError {
    let status = response.status.as_u16();
    let looker_message = serde_json::from_slice::<ErrorBody>(&response.body)
        .ok()
        .and_then(|body| body.message)
        .map(|message| message.chars().take(200).collect::<String>())
        .unwrap_or_default();
    match status {
        401 | 403 => ConnectorError::new(
            Reason::SourceAuthFailed,
            format!("looker refused {what} ({status}); check the API key and its permissions"),
        ),
        404 => {
            let (reason, thing) = match missing {
                Missing::Dashboard => (Reason::DashboardNotFound, "dashboard"),
                Missing::Look => (Reason::LookNotFound, "look"),
                Missing::Query => (Reason::SourceRejected, "query"),
                Missing::Other => (Reason::SourceRejected, "resource"),
            };
            ConnectorError::new(reason, format!("looker has no such {thing} ({what})"))
        }
        429 => ConnectorError::new(
            Reason::SourceRateLimited,
            format!("looker is rate limiting {what}"),
        )
        .with_retry_after(retry_after(response).unwrap_or(DEFAULT_RETRY_AFTER)),
        500..=599 => ConnectorError::new(
            Reason::SourceUnreachable,
            format!("looker answered {status} to {what}"),
        ),
        300..=399 => ConnectorError::new(
            Reason::UrlNotAllowed,
            format!(
                "looker redirected {what} ({status}); redirects are not followed, use the final URL as server_url"
            ),
        ),
        _ if looker_message.is_empty() => ConnectorError::new(
            Reason::SourceRejected,
            format!("looker rejected {what} ({status})"),
        ),
        _ => ConnectorError::new(
            Reason::SourceRejected,
            format!(
                "looker rejected {what} ({status}): {}",
                looker_message.to_lowercase()
            ),
        ),
    }
}

/// `Retry-After` in seconds (the HTTP-date form is rare from Looker and ignored).
fn retry_after(response: &HttpResponse) -> Option<Duration> {
    let value = response.headers.get("retry-after")?.to_str().ok()?;
    value.trim().parse::<u64>().ok().map(Duration::from_secs)
}

/// The error for a request that got no usable response.
pub(crate) fn from_http(error: HttpError, what: &str) -> ConnectorError {
    match error {
        HttpError::NotAllowed(error) => error,
        HttpError::Timeout(deadline) => ConnectorError::new(
            Reason::SourceTimeout,
            format!(
                "looker did not answer {what} within {}",
                humantime::format_duration(deadline)
            ),
        ),
        HttpError::Tls(detail) => ConnectorError::new(
            Reason::SourceUnreachable,
            format!("tls failure talking to looker ({what}): {}", short(&detail)),
        ),
        HttpError::Connect(detail) => ConnectorError::new(
            Reason::SourceUnreachable,
            format!("cannot reach looker ({what}): {}", short(&detail)),
        ),
        HttpError::BodyTooLarge(cap) => ConnectorError::new(
            Reason::SourceResponseInvalid,
            format!(
                "looker's answer to {what} is larger than {} MiB",
                cap / (1024 * 1024)
            ),
        ),
        HttpError::Other(detail) => ConnectorError::new(
            Reason::SourceUnreachable,
            format!(
                "http failure talking to looker ({what}): {}",
                short(&detail)
            ),
        ),
    }
}

pub(crate) fn malformed(what: &str, error: &serde_json::Error) -> ConnectorError {
    ConnectorError::new(
        Reason::SourceResponseInvalid,
        format!("looker's answer to {what} is not the expected json: {error}"),
    )
}

fn short(text: &str) -> String {
    text.chars().take(300).collect()
}
