//! Queries: get, create (deduplicated), and the synchronous run endpoints.

use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use serde_json::Value;

use crate::auth;
use crate::errors::{ApiError, FieldError, json_response};
use crate::executor::{self, ExecError};
use crate::formats;
use crate::params::{Params, project};
use crate::query::{QueryDef, StoredQuery};
use crate::state::AppState;

fn parse_body(body: &Bytes) -> Result<QueryDef, ApiError> {
    let value: Value = serde_json::from_slice(body)
        .map_err(|e| ApiError::BadRequest(format!("Request body is not valid JSON: {e}")))?;
    QueryDef::from_json(&value).map_err(ApiError::Validation)
}

fn check_explore(shared: &AppState, def: &QueryDef) -> Result<(), ApiError> {
    if shared
        .catalog
        .read()
        .explore(&def.model, &def.view)
        .is_some()
    {
        Ok(())
    } else {
        Err(ApiError::Validation(vec![FieldError::new(
            "view",
            "invalid",
            &format!("Unknown model or explore: {}/{}", def.model, def.view),
        )]))
    }
}

pub(super) async fn query(
    State(shared): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
    RawQuery(raw): RawQuery,
) -> Result<Response, ApiError> {
    auth::require(&shared, &headers)?;
    let params = Params::parse(raw.as_deref())?;
    let catalog = shared.catalog.read();
    let q = catalog.query(&id).ok_or(ApiError::NotFound)?;
    Ok(json_response(
        StatusCode::OK,
        &project(q.to_json(&shared.base_url), params.fields().as_deref()),
    ))
}

/// create_query's lookup-or-insert, taking the write lock (which drops the cached dashboard
/// renderings) only for a new query.
fn save_query<T>(shared: &AppState, def: QueryDef, out: impl Fn(&StoredQuery) -> T) -> T {
    if let Some(found) = shared.catalog.read().find_query(&def).map(&out) {
        return found;
    }
    out(shared.catalog.write().create_query(def))
}

pub(super) async fn create_query(
    State(shared): State<AppState>,
    headers: HeaderMap,
    RawQuery(raw): RawQuery,
    body: Bytes,
) -> Result<Response, ApiError> {
    auth::require(&shared, &headers)?;
    let params = Params::parse(raw.as_deref())?;
    let def = parse_body(&body)?;
    check_explore(&shared, &def)?;
    let value = save_query(&shared, def, |q| q.to_json(&shared.base_url));
    Ok(json_response(
        StatusCode::OK,
        &project(value, params.fields().as_deref()),
    ))
}

async fn run(
    shared: &AppState,
    query_id: &str,
    def: &QueryDef,
    format: &str,
    params: &Params,
) -> Result<Response, ApiError> {
    formats::check(format)?;
    let mode = params.cache_mode()?;
    let limit = params.int("limit")?;
    for flag in [
        "apply_formatting",
        "apply_vis",
        "generate_drill_links",
        "force_production",
        "rebuild_pdts",
        "server_table_calcs",
    ] {
        params.bool(flag)?;
    }
    let (execution, from_cache) =
        executor::execute(shared, def, limit, mode)
            .await
            .map_err(|e| match e {
                ExecError::UnknownExplore => ApiError::NotFound,
                ExecError::NotCached => ApiError::NotFound,
            })?;
    Ok(formats::body(format, &execution, from_cache, query_id, def)?.into_response())
}

pub(super) async fn run_query(
    State(shared): State<AppState>,
    headers: HeaderMap,
    Path((id, format)): Path<(String, String)>,
    RawQuery(raw): RawQuery,
) -> Result<Response, ApiError> {
    auth::require(&shared, &headers)?;
    let params = Params::parse(raw.as_deref())?;
    let def = shared
        .catalog
        .read()
        .query(&id)
        .map(|q| q.def.clone())
        .ok_or(ApiError::NotFound)?;
    run(&shared, &id, &def, &format, &params).await
}

pub(super) async fn run_look(
    State(shared): State<AppState>,
    headers: HeaderMap,
    Path((id, format)): Path<(String, String)>,
    RawQuery(raw): RawQuery,
) -> Result<Response, ApiError> {
    auth::require(&shared, &headers)?;
    let params = Params::parse(raw.as_deref())?;
    let (query_id, def) = {
        let catalog = shared.catalog.read();
        let look = catalog.look(&id).ok_or(ApiError::NotFound)?;
        let q = catalog.query(&look.query_id).ok_or(ApiError::NotFound)?;
        (q.id.clone(), q.def.clone())
    };
    run(&shared, &query_id, &def, &format, &params).await
}

/// `POST /queries/run/{format}`: the body is a Query; it is saved like create_query does.
pub(super) async fn run_inline_query(
    State(shared): State<AppState>,
    headers: HeaderMap,
    Path(format): Path<String>,
    RawQuery(raw): RawQuery,
    body: Bytes,
) -> Result<Response, ApiError> {
    auth::require(&shared, &headers)?;
    let params = Params::parse(raw.as_deref())?;
    let def = parse_body(&body)?;
    check_explore(&shared, &def)?;
    let id = save_query(&shared, def.clone(), |q| q.id.clone());
    run(&shared, &id, &def, &format, &params).await
}
