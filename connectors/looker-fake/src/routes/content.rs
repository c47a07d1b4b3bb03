//! Dashboards, dashboard elements, Looks and merge queries.

use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use serde_json::Value;

use crate::auth;
use crate::content::Source;
use crate::errors::{ApiError, json_bytes, json_bytes_response, json_response};
use crate::params::{Params, project};
use crate::render;
use crate::render_cache::View;
use crate::search::{self, DASHBOARDS, LOOKS};
use crate::state::AppState;

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
    let catalog = shared.catalog.read();
    let items: Vec<Value> = catalog
        .dashboards()
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
    let catalog = shared.catalog.read();
    // Only user-defined dashboards: LookML dashboards are not searchable (Looker's API docs).
    let items: Vec<_> = catalog
        .dashboards()
        .iter()
        .filter(|d| d.lookml_model.is_none())
        .map(|d| {
            (
                render::dashboard_without_tiles(&catalog, d, &shared.base_url),
                d,
            )
        })
        .collect();
    // Tiles are rendered only for the dashboards returned, and only when `fields` keeps them.
    let fields = params.fields();
    let tiles_kept = fields.as_ref().is_none_or(|f| {
        f.iter()
            .any(|k| k == "dashboard_elements" || k == "dashboard_layouts")
    });
    let found = search::search_then_render(items, &params, &DASHBOARDS, |view, d| {
        if tiles_kept {
            render::dashboard(&catalog, d, &shared.base_url)
        } else {
            view
        }
    })?;
    Ok(ok(found))
}

pub(super) async fn dashboard(
    State(shared): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
    RawQuery(raw): RawQuery,
) -> Result<Response, ApiError> {
    let params = prepare(&shared, &headers, raw)?;
    let fields = params.fields();
    let catalog = shared.catalog.read();
    let body = shared.rendered.get_or_render(
        catalog.version(),
        View::Dashboard,
        &id,
        fields.as_deref(),
        || {
            let d = catalog.dashboard(&id).ok_or(ApiError::NotFound)?;
            let value = render::dashboard(&catalog, d, &shared.base_url);
            Ok(json_bytes(&project(value, fields.as_deref())))
        },
    )?;
    Ok(json_bytes_response(StatusCode::OK, body))
}

pub(super) async fn dashboard_elements(
    State(shared): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
    RawQuery(raw): RawQuery,
) -> Result<Response, ApiError> {
    let params = prepare(&shared, &headers, raw)?;
    let fields = params.fields();
    let catalog = shared.catalog.read();
    let body = shared.rendered.get_or_render(
        catalog.version(),
        View::Elements,
        &id,
        fields.as_deref(),
        || {
            let d = catalog.dashboard(&id).ok_or(ApiError::NotFound)?;
            let items: Vec<Value> = d
                .element_ids
                .iter()
                .filter_map(|e| catalog.element(e))
                .map(|e| render::element(&catalog, e, &shared.base_url))
                .collect();
            Ok(json_bytes(&project(Value::Array(items), fields.as_deref())))
        },
    )?;
    Ok(json_bytes_response(StatusCode::OK, body))
}

pub(super) async fn dashboard_element(
    State(shared): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
    RawQuery(raw): RawQuery,
) -> Result<Response, ApiError> {
    let params = prepare(&shared, &headers, raw)?;
    let catalog = shared.catalog.read();
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
    let catalog = shared.catalog.read();
    let filter_or = params.bool("filter_or")?.unwrap_or(false);
    let deleted = params.bool("deleted")?.unwrap_or(false);
    // Filtered on the tile's own attributes (as rendered: look_id only for Look tiles), so
    // only the tiles found are rendered.
    let items: Vec<Value> = catalog
        .elements()
        .iter()
        .filter(|e| !e.removed && !deleted)
        .filter(|e| {
            let look_id = match &e.source {
                Source::Look(l) => Some(l.as_str()),
                _ => None,
            };
            let checks: Vec<bool> = [
                ("dashboard_id", Some(e.dashboard_id.as_str())),
                ("look_id", look_id),
                ("title", e.title.as_deref()),
            ]
            .iter()
            .filter_map(|(k, v)| params.get(k).map(|p| (k, p, v)))
            .map(|(k, p, v)| match v {
                Some(s) if *k == "title" => crate::like::like_ci(p, s),
                Some(s) => p.split(',').any(|x| x.trim() == *s),
                None => false,
            })
            .collect();
            checks.is_empty()
                || if filter_or {
                    checks.iter().any(|c| *c)
                } else {
                    checks.iter().all(|c| *c)
                }
        })
        .map(|e| render::element(&catalog, e, &shared.base_url))
        .collect();
    Ok(ok(project(Value::Array(items), params.fields().as_deref())))
}

pub(super) async fn all_looks(
    State(shared): State<AppState>,
    headers: HeaderMap,
    RawQuery(raw): RawQuery,
) -> Result<Response, ApiError> {
    let params = prepare(&shared, &headers, raw)?;
    let catalog = shared.catalog.read();
    let items: Vec<Value> = catalog
        .looks()
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
        let catalog = shared.catalog.read();
        catalog
            .looks()
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
    let catalog = shared.catalog.read();
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
    let catalog = shared.catalog.read();
    let m = catalog.merge(&id).ok_or(ApiError::NotFound)?;
    Ok(ok(project(
        render::merge_query(m, &catalog),
        params.fields().as_deref(),
    )))
}
