//! Dashboards, dashboard elements, Looks and merge queries.

use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use serde_json::Value;

use crate::auth;
use crate::errors::{ApiError, json_response};
use crate::params::{Params, project};
use crate::render;
use crate::search::{self, DASHBOARDS, LOOKS};
use crate::state::{AppState, read};

fn ok(value: Value) -> Response {
    json_response(StatusCode::OK, &value)
}

fn prepare(
    shared: &AppState,
    headers: &HeaderMap,
    raw: Option<String>,
) -> Result<Params, ApiError> {
    auth::require(shared, headers)?;
    Params::parse(raw.as_deref())
}

pub(super) async fn all_dashboards(
    State(shared): State<AppState>,
    headers: HeaderMap,
    RawQuery(raw): RawQuery,
) -> Result<Response, ApiError> {
    let params = prepare(&shared, &headers, raw)?;
    let catalog = read(&shared.catalog);
    let items: Vec<Value> = catalog
        .dashboards
        .iter()
        .filter(|d| !d.deleted)
        .map(|d| Value::Object(render::dashboard_base(&catalog, d)))
        .collect();
    Ok(ok(project(Value::Array(items), params.fields().as_deref())))
}

pub(super) async fn search_dashboards(
    State(shared): State<AppState>,
    headers: HeaderMap,
    RawQuery(raw): RawQuery,
) -> Result<Response, ApiError> {
    let params = prepare(&shared, &headers, raw)?;
    let items: Vec<Value> = {
        let catalog = read(&shared.catalog);
        // Only user-defined dashboards: LookML dashboards are not searchable (Looker's API docs).
        catalog
            .dashboards
            .iter()
            .filter(|d| d.lookml_model.is_none())
            .map(|d| render::dashboard(&catalog, d, &shared.base_url))
            .collect()
    };
    Ok(ok(search::search(items, &params, &DASHBOARDS)?))
}

pub(super) async fn dashboard(
    State(shared): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
    RawQuery(raw): RawQuery,
) -> Result<Response, ApiError> {
    let params = prepare(&shared, &headers, raw)?;
    let catalog = read(&shared.catalog);
    let d = catalog.dashboard(&id).ok_or(ApiError::NotFound)?;
    Ok(ok(project(
        render::dashboard(&catalog, d, &shared.base_url),
        params.fields().as_deref(),
    )))
}

pub(super) async fn dashboard_elements(
    State(shared): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
    RawQuery(raw): RawQuery,
) -> Result<Response, ApiError> {
    let params = prepare(&shared, &headers, raw)?;
    let catalog = read(&shared.catalog);
    let d = catalog.dashboard(&id).ok_or(ApiError::NotFound)?;
    let items: Vec<Value> = d
        .element_ids
        .iter()
        .filter_map(|e| catalog.element(e))
        .map(|e| render::element(&catalog, e, &shared.base_url))
        .collect();
    Ok(ok(project(Value::Array(items), params.fields().as_deref())))
}

pub(super) async fn dashboard_element(
    State(shared): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
    RawQuery(raw): RawQuery,
) -> Result<Response, ApiError> {
    let params = prepare(&shared, &headers, raw)?;
    let catalog = read(&shared.catalog);
    let e = catalog.element(&id).ok_or(ApiError::NotFound)?;
    Ok(ok(project(
        render::element(&catalog, e, &shared.base_url),
        params.fields().as_deref(),
    )))
}

/// `GET /dashboard_elements/search`: `dashboard_id`, `look_id`, `title`, `deleted`, `filter_or`.
pub(super) async fn search_dashboard_elements(
    State(shared): State<AppState>,
    headers: HeaderMap,
    RawQuery(raw): RawQuery,
) -> Result<Response, ApiError> {
    let params = prepare(&shared, &headers, raw)?;
    let catalog = read(&shared.catalog);
    let filter_or = params.bool("filter_or")?.unwrap_or(false);
    let deleted = params.bool("deleted")?.unwrap_or(false);
    let items: Vec<Value> = catalog
        .elements
        .iter()
        .filter(|e| !e.removed && !deleted)
        .map(|e| render::element(&catalog, e, &shared.base_url))
        .filter(|item| {
            let checks: Vec<bool> = ["dashboard_id", "look_id", "title"]
                .iter()
                .filter_map(|k| params.get(k).map(|p| (k, p)))
                .map(|(k, p)| match &item[*k] {
                    Value::String(s) if *k == "title" => crate::like::like_ci(p, s),
                    Value::String(s) => p.split(',').any(|x| x.trim() == s),
                    _ => false,
                })
                .collect();
            checks.is_empty()
                || if filter_or {
                    checks.iter().any(|c| *c)
                } else {
                    checks.iter().all(|c| *c)
                }
        })
        .collect();
    Ok(ok(project(Value::Array(items), params.fields().as_deref())))
}

pub(super) async fn all_looks(
    State(shared): State<AppState>,
    headers: HeaderMap,
    RawQuery(raw): RawQuery,
) -> Result<Response, ApiError> {
    let params = prepare(&shared, &headers, raw)?;
    let catalog = read(&shared.catalog);
    let items: Vec<Value> = catalog
        .looks
        .iter()
        .filter(|l| !l.deleted)
        .map(|l| render::look(&catalog, l, &shared.base_url))
        .collect();
    Ok(ok(project(Value::Array(items), params.fields().as_deref())))
}

pub(super) async fn search_looks(
    State(shared): State<AppState>,
    headers: HeaderMap,
    RawQuery(raw): RawQuery,
) -> Result<Response, ApiError> {
    let params = prepare(&shared, &headers, raw)?;
    let items: Vec<Value> = {
        let catalog = read(&shared.catalog);
        catalog
            .looks
            .iter()
            .map(|l| render::look(&catalog, l, &shared.base_url))
            .collect()
    };
    Ok(ok(search::search(items, &params, &LOOKS)?))
}

pub(super) async fn look(
    State(shared): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
    RawQuery(raw): RawQuery,
) -> Result<Response, ApiError> {
    let params = prepare(&shared, &headers, raw)?;
    let catalog = read(&shared.catalog);
    let l = catalog.look(&id).ok_or(ApiError::NotFound)?;
    Ok(ok(project(
        render::look_with_query(&catalog, l, &shared.base_url),
        params.fields().as_deref(),
    )))
}

pub(super) async fn merge_query(
    State(shared): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
    RawQuery(raw): RawQuery,
) -> Result<Response, ApiError> {
    let params = prepare(&shared, &headers, raw)?;
    let catalog = read(&shared.catalog);
    let m = catalog.merge(&id).ok_or(ApiError::NotFound)?;
    Ok(ok(project(
        render::merge_query(m, &catalog),
        params.fields().as_deref(),
    )))
}
