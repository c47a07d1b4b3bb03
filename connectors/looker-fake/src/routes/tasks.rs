//! Async query tasks.

use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use serde_json::{Map, Value, json};

use crate::auth;
use crate::errors::{ApiError, json_response};
use crate::formats;
use crate::params::{Params, project};
use crate::query_tasks::{self, TaskStatus};
use crate::state::{AppState, lock};

pub(super) async fn create_query_task(
    State(shared): State<AppState>,
    headers: HeaderMap,
    RawQuery(raw): RawQuery,
    body: Bytes,
) -> Result<Response, ApiError> {
    auth::require(&shared, &headers)?;
    let params = Params::parse(raw.as_deref())?;
    let body: Value = serde_json::from_slice(&body)
        .map_err(|e| ApiError::BadRequest(format!("Request body is not valid JSON: {e}")))?;
    let task = query_tasks::create(&shared, &body, &params).await?;
    Ok(json_response(
        StatusCode::OK,
        &project(task, params.fields().as_deref()),
    ))
}

pub(super) async fn query_task(
    State(shared): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
    RawQuery(raw): RawQuery,
) -> Result<Response, ApiError> {
    auth::require(&shared, &headers)?;
    let params = Params::parse(raw.as_deref())?;
    let mut tasks = lock(&shared.tasks);
    let task = tasks.get_mut(&id).ok_or(ApiError::NotFound)?;
    task.expire_if_due();
    Ok(json_response(
        StatusCode::OK,
        &project(task.to_json(&shared), params.fields().as_deref()),
    ))
}

/// The rendered results of a finished task, or what to answer instead.
fn results_of(shared: &AppState, id: &str) -> Result<Result<formats::Body, TaskStatus>, ApiError> {
    let (status, outcome, format, query_id) = {
        let mut tasks = lock(&shared.tasks);
        let task = tasks.get_mut(id).ok_or(ApiError::NotFound)?;
        task.expire_if_due();
        (
            task.status,
            task.outcome.clone(),
            task.result_format.clone(),
            task.query_id.clone(),
        )
    };
    let def = shared
        .catalog
        .read()
        .query(&query_id)
        .map(|q| q.def.clone())
        .ok_or(ApiError::NotFound)?;
    match (status, outcome) {
        (TaskStatus::Complete | TaskStatus::Error, Some((execution, from_cache))) => Ok(Ok(
            formats::body(&format, &execution, from_cache, &query_id, &def)?,
        )),
        (status, _) => Ok(Err(status)),
    }
}

pub(super) async fn query_task_results(
    State(shared): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    auth::require(&shared, &headers)?;
    match results_of(&shared, &id)? {
        Ok(body) => Ok(body.into_response()),
        Err(TaskStatus::Added | TaskStatus::Running) => {
            // The body of a 202 is not documented; a small JSON status object is harmless.
            Ok(json_response(
                StatusCode::ACCEPTED,
                &json!({"status": "running"}),
            ))
        }
        Err(TaskStatus::Expired) => Err(ApiError::NotFound),
        Err(_) => Err(ApiError::BadRequest("The query failed".into())),
    }
}

/// `GET /query_tasks/multi_results?query_task_ids=a,b` → `{id: {status, data?}}`.
pub(super) async fn multi_results(
    State(shared): State<AppState>,
    headers: HeaderMap,
    RawQuery(raw): RawQuery,
) -> Result<Response, ApiError> {
    auth::require(&shared, &headers)?;
    let params = Params::parse(raw.as_deref())?;
    let ids = params
        .get("query_task_ids")
        .ok_or_else(|| ApiError::BadRequest("query_task_ids is required".into()))?;
    let mut out = Map::new();
    for id in ids.split(',').map(str::trim).filter(|s| !s.is_empty()) {
        let entry = match results_of(&shared, id) {
            Err(_) => json!({"status": "missing"}),
            Ok(Ok(body)) => {
                let status = lock(&shared.tasks)
                    .get(id)
                    .map_or("complete", |t| t.status.as_str());
                json!({"status": status, "data": body.into_value()})
            }
            Ok(Err(status)) => json!({"status": status.as_str()}),
        };
        out.insert(id.to_string(), entry);
    }
    Ok(json_response(StatusCode::OK, &Value::Object(out)))
}
