//! login, logout, versions and me.

use axum::Json;
use axum::extract::{RawQuery, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use serde_json::{Value, json};

use crate::auth;
use crate::errors::{ApiError, json_response};
use crate::params::Params;
use crate::state::{AppState, lock};

/// `POST /login`: credentials in a form body (what the SDKs send) or in query parameters.
pub(super) async fn login(
    State(shared): State<AppState>,
    RawQuery(raw): RawQuery,
    body: Bytes,
) -> Result<Response, ApiError> {
    let query = Params::parse(raw.as_deref())?;
    // A body that is not a form simply carries no credentials.
    let form: Vec<(String, String)> = serde_urlencoded::from_bytes(&body).unwrap_or_default();
    let find = |key: &str| {
        form.iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.clone())
            .or_else(|| query.get(key).map(str::to_string))
    };
    let settings = shared.settings();
    let valid = find("client_id").as_deref() == Some(settings.client_id.as_str())
        && find("client_secret").as_deref() == Some(settings.client_secret.as_str());
    if !valid {
        // Looker answers bad credentials with 404 (Looker's API docs).
        return Err(ApiError::NotFound);
    }
    let token = lock(&shared.tokens).issue(settings.token_ttl);
    Ok(json_response(
        StatusCode::OK,
        &json!({"access_token": token, "token_type": "Bearer", "expires_in": settings.token_ttl.as_secs(),
                "refresh_token": null}),
    ))
}

pub(super) async fn logout(
    State(shared): State<AppState>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let token = auth::require(&shared, &headers)?;
    lock(&shared.tokens).revoke(&token);
    Ok(StatusCode::NO_CONTENT.into_response())
}

/// `GET /versions` needs no token on Looker.
pub(super) async fn versions(State(shared): State<AppState>) -> Json<Value> {
    let version = |v: &str, full: &str, status: &str| {
        json!({"version": v, "full_version": full, "status": status,
               "swagger_url": format!("{}/api/{v}/swagger.json", shared.base_url)})
    };
    Json(json!({
        "looker_release_version": "26.12.3",
        "current_version": version("4.0", "4.0.26.12", "current"),
        "supported_versions": [version("4.0", "4.0.26.12", "current")],
        "api_server_url": shared.base_url,
        "web_server_url": shared.base_url,
    }))
}

pub(super) async fn me(
    State(shared): State<AppState>,
    headers: HeaderMap,
    RawQuery(raw): RawQuery,
) -> Result<Response, ApiError> {
    auth::require(&shared, &headers)?;
    let params = Params::parse(raw.as_deref())?;
    let client_id = shared.settings().client_id;
    let value = crate::params::project(crate::render::me(&client_id), params.fields().as_deref());
    Ok(json_response(StatusCode::OK, &value))
}
