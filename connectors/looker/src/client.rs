//! The Looker API 4.0 HTTP client: login, a cached access token, one re-login
//! on 401, typed errors.

use std::time::{Duration, Instant};

use kpilink_connector::http::{GuardedClient, HttpResponse};
use kpilink_connector::{ConnectorError, Reason};
use reqwest::Method;
use secrecy::{ExposeSecret, SecretString};
use serde::de::DeserializeOwned;
use tokio::sync::Mutex;
use url::Url;

use crate::errors::{self, Missing};
use crate::models::AccessToken;

/// A token is renewed this long before Looker says it expires.
const TOKEN_SLACK: Duration = Duration::from_secs(60);
const DEFAULT_TOKEN_LIFETIME: Duration = Duration::from_secs(3600);

struct CachedToken {
    value: SecretString,
    renew_at: Instant,
}

/// Why a login failed, beyond its error: what "Test connection" reports.
#[derive(Debug)]
pub(crate) enum LoginFailure {
    BadCredentials(ConnectorError),
    NotLooker(ConnectorError),
    Other(ConnectorError),
}

impl LoginFailure {
    pub(crate) fn into_error(self) -> ConnectorError {
        match self {
            LoginFailure::BadCredentials(e)
            | LoginFailure::NotLooker(e)
            | LoginFailure::Other(e) => e,
        }
    }
}

pub(crate) struct LookerClient {
    http: GuardedClient,
    api: Url,
    client_id: String,
    client_secret: SecretString,
    // A tokio mutex: concurrent calls wait for one login instead of each logging in.
    token: Mutex<Option<CachedToken>>,
}

/// A request to send: method, path under `/api/4.0/`, query and optional JSON body.
pub(crate) struct Call<'a> {
    pub(crate) method: Method,
    pub(crate) path: String,
    pub(crate) query: Vec<(&'a str, String)>,
    pub(crate) body: Option<serde_json::Value>,
    /// Names the call in errors, e.g. "dashboard 12".
    pub(crate) what: String,
    pub(crate) missing: Missing,
}

impl<'a> Call<'a> {
    pub(crate) fn get(path: impl Into<String>, what: impl Into<String>, missing: Missing) -> Self {
        Call {
            method: Method::GET,
            path: path.into(),
            query: Vec::new(),
            body: None,
            what: what.into(),
            missing,
        }
    }

    pub(crate) fn post(
        path: impl Into<String>,
        body: serde_json::Value,
        what: impl Into<String>,
        missing: Missing,
    ) -> Self {
        Call {
            method: Method::POST,
            body: Some(body),
            ..Call::get(path, what, missing)
        }
    }

    pub(crate) fn query(mut self, name: &'a str, value: impl Into<String>) -> Self {
        self.query.push((name, value.into()));
        self
    }
}

impl LookerClient {
    pub(crate) fn new(
        http: GuardedClient,
        server_url: &Url,
        client_id: String,
        client_secret: SecretString,
    ) -> Result<Self, ConnectorError> {
        // The API lives at the root of the host, whatever path the URL has.
        let api = server_url.join("/api/4.0/").map_err(|_| {
            ConnectorError::new(Reason::FieldInvalid, "server_url is not a base URL")
        })?;
        Ok(LookerClient {
            http,
            api,
            client_id,
            client_secret,
            token: Mutex::new(None),
        })
    }

    fn url(&self, path: &str) -> Url {
        // Paths are built from ids; join percent-encodes what needs it.
        self.api
            .join(path.trim_start_matches('/'))
            .unwrap_or_else(|_| self.api.clone())
    }

    /// Logs in with the client id and secret (form body) and caches the token.
    pub(crate) async fn login(&self, deadline: Duration) -> Result<(), LoginFailure> {
        let mut guard = self.token.lock().await;
        *guard = None;
        let token = self.fetch_token(deadline).await?;
        *guard = Some(token);
        Ok(())
    }

    async fn fetch_token(&self, deadline: Duration) -> Result<CachedToken, LoginFailure> {
        let request = self.http.request(Method::POST, self.url("login")).form(&[
            ("client_id", self.client_id.as_str()),
            ("client_secret", self.client_secret.expose_secret()),
        ]);
        let response = self
            .http
            .send(request, deadline)
            .await
            .map_err(|e| LoginFailure::Other(errors::from_http(e, "login")))?;
        match response.status.as_u16() {
            200 => {}
            // Looker answers 404 to a wrong client id or secret.
            404 => {
                return Err(LoginFailure::BadCredentials(ConnectorError::new(
                    Reason::SourceAuthFailed,
                    "looker rejected the client id or secret",
                )));
            }
            // A wrong path or port answers 403; other 4xx mean no Looker API here.
            400..=499 if response.status.as_u16() != 429 => {
                return Err(LoginFailure::NotLooker(not_looker(&format!(
                    "the login answered {}",
                    response.status.as_u16()
                ))));
            }
            _ => {
                return Err(LoginFailure::Other(errors::from_status(
                    &response,
                    Missing::Other,
                    "login",
                )));
            }
        }
        let token: AccessToken = serde_json::from_slice(&response.body).map_err(|_| {
            LoginFailure::NotLooker(not_looker("the login answer is not a Looker access token"))
        })?;
        let lifetime = token
            .expires_in
            .map(Duration::from_secs)
            .unwrap_or(DEFAULT_TOKEN_LIFETIME);
        Ok(CachedToken {
            value: SecretString::from(token.access_token),
            renew_at: Instant::now() + lifetime.saturating_sub(TOKEN_SLACK),
        })
    }

    /// The cached token, logging in first when there is none or it is about to expire.
    async fn token(&self, deadline: Duration) -> Result<SecretString, ConnectorError> {
        let mut guard = self.token.lock().await;
        if let Some(token) = guard.as_ref()
            && Instant::now() < token.renew_at
        {
            return Ok(token.value.clone());
        }
        let token = self
            .fetch_token(deadline)
            .await
            .map_err(LoginFailure::into_error)?;
        let value = token.value.clone();
        *guard = Some(token);
        Ok(value)
    }

    /// Drops the cached token if it is still `stale`, so the next call logs in.
    async fn forget(&self, stale: &SecretString) {
        let mut guard = self.token.lock().await;
        if guard
            .as_ref()
            .is_some_and(|token| token.value.expose_secret() == stale.expose_secret())
        {
            *guard = None;
        }
    }

    /// Sends an authenticated call; a 401 triggers exactly one re-login.
    pub(crate) async fn send(
        &self,
        call: &Call<'_>,
        deadline: Duration,
    ) -> Result<HttpResponse, ConnectorError> {
        let started = Instant::now();
        let mut relogged = false;
        loop {
            let remaining = deadline.saturating_sub(started.elapsed());
            let token = self.token(remaining).await?;
            let mut request = self
                .http
                .request(call.method.clone(), self.url(&call.path))
                .header("authorization", format!("token {}", token.expose_secret()));
            if !call.query.is_empty() {
                request = request.query(&call.query);
            }
            if let Some(body) = &call.body {
                request = request
                    .header("content-type", "application/json")
                    .body(body.to_string());
            }
            let remaining = deadline.saturating_sub(started.elapsed());
            let response = self
                .http
                .send(request, remaining)
                .await
                .map_err(|e| errors::from_http(e, &call.what))?;
            if response.status.as_u16() == 401 {
                if relogged {
                    return Err(ConnectorError::new(
                        Reason::SourceAuthFailed,
                        format!(
                            "looker refused the access token for {} after a new login",
                            call.what
                        ),
                    ));
                }
                tracing::debug!(call = %call.what, "looker answered 401; logging in again");
                self.forget(&token).await;
                relogged = true;
                continue;
            }
            return Ok(response);
        }
    }

    /// Sends a call and parses a 2xx JSON answer.
    pub(crate) async fn json<T: DeserializeOwned>(
        &self,
        call: &Call<'_>,
        deadline: Duration,
    ) -> Result<T, ConnectorError> {
        let response = self.send(call, deadline).await?;
        if !response.status.is_success() {
            return Err(errors::from_status(&response, call.missing, &call.what));
        }
        serde_json::from_slice(&response.body).map_err(|e| errors::malformed(&call.what, &e))
    }

    /// Ends the session. Best effort: a failure only means the token expires by itself.
    pub(crate) async fn logout(&self, deadline: Duration) {
        let Some(token) = self.token.lock().await.take() else {
            return;
        };
        let request = self
            .http
            .request(Method::DELETE, self.url("logout"))
            .header(
                "authorization",
                format!("token {}", token.value.expose_secret()),
            );
        if let Err(error) = self.http.send(request, deadline).await {
            tracing::debug!(%error, "looker logout failed");
        }
    }
}

fn not_looker(detail: &str) -> ConnectorError {
    ConnectorError::new(
        Reason::SourceUnreachable,
        format!(
            "no Looker API at this server_url ({detail}); give the API host, e.g. https://acme.cloud.looker.com:19999"
        ),
    )
}
