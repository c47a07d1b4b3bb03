//! HTTP routes: the Looker API under `/api/4.0`, `/alive`, and `/control`. Every API route is
//! named by its Looker operation id, which keys the request counters and fault rules.

mod content;
mod queries;
mod session;
mod tasks;

use std::sync::Arc;

use axum::Router;
use axum::body::Body;
use axum::extract::{MatchedPath, Request, State};
use axum::http::{Method, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get, post};
use bytes::Bytes;

use crate::errors::ApiError;
use crate::faults::Action;
use crate::server::ConnectionHandle;
use crate::state::{AppState, Shared, lock};

/// Looker operation id of an API route (the counters' and faults' route names).
fn operation(method: &Method, path: &str) -> &'static str {
    let path = path.strip_prefix("/api/4.0").unwrap_or(path);
    match (method.as_str(), path) {
        (_, "/alive") => "alive",
        ("DELETE", "/api/logout") => "logout",
        ("POST", "/login") => "login",
        ("DELETE", "/logout") => "logout",
        (_, "/versions") => "versions",
        (_, "/user") => "me",
        (_, "/dashboards") => "all_dashboards",
        (_, "/dashboards/search") => "search_dashboards",
        (_, "/dashboards/{dashboard_id}") => "dashboard",
        (_, "/dashboards/{dashboard_id}/dashboard_elements") => "dashboard_dashboard_elements",
        (_, "/dashboard_elements/search") => "search_dashboard_elements",
        (_, "/dashboard_elements/{dashboard_element_id}") => "dashboard_element",
        (_, "/looks") => "all_looks",
        (_, "/looks/search") => "search_looks",
        (_, "/looks/{look_id}") => "look",
        (_, "/looks/{look_id}/run/{result_format}") => "run_look",
        ("POST", "/queries") => "create_query",
        (_, "/queries/{query_id}") => "query",
        (_, "/queries/{query_id}/run/{result_format}") => "run_query",
        (_, "/queries/run/{result_format}") => "run_inline_query",
        ("POST", "/query_tasks") => "create_query_task",
        (_, "/query_tasks/multi_results") => "query_task_multi_results",
        (_, "/query_tasks/{query_task_id}") => "query_task",
        (_, "/query_tasks/{query_task_id}/results") => "query_task_results",
        (_, "/merge_queries/{merge_query_id}") => "merge_query",
        _ => "unknown",
    }
}

pub(crate) fn router(state: AppState) -> Router {
    let api = Router::new()
        .route("/login", post(session::login))
        .route("/logout", delete(session::logout))
        .route("/versions", get(session::versions))
        .route("/user", get(session::me))
        .route("/dashboards", get(content::all_dashboards))
        .route("/dashboards/search", get(content::search_dashboards))
        .route("/dashboards/{dashboard_id}", get(content::dashboard))
        .route(
            "/dashboards/{dashboard_id}/dashboard_elements",
            get(content::dashboard_elements),
        )
        .route(
            "/dashboard_elements/search",
            get(content::search_dashboard_elements),
        )
        .route(
            "/dashboard_elements/{dashboard_element_id}",
            get(content::dashboard_element),
        )
        .route("/looks", get(content::all_looks))
        .route("/looks/search", get(content::search_looks))
        .route("/looks/{look_id}", get(content::look))
        .route(
            "/looks/{look_id}/run/{result_format}",
            get(queries::run_look),
        )
        .route("/queries", post(queries::create_query))
        .route("/queries/{query_id}", get(queries::query))
        .route(
            "/queries/{query_id}/run/{result_format}",
            get(queries::run_query),
        )
        .route(
            "/queries/run/{result_format}",
            post(queries::run_inline_query),
        )
        .route("/query_tasks", post(tasks::create_query_task))
        .route("/query_tasks/multi_results", get(tasks::multi_results))
        .route("/query_tasks/{query_task_id}", get(tasks::query_task))
        .route(
            "/query_tasks/{query_task_id}/results",
            get(tasks::query_task_results),
        )
        .route("/merge_queries/{merge_query_id}", get(content::merge_query))
        .route_layer(middleware::from_fn_with_state(state.clone(), edge))
        .fallback(|| async { ApiError::NotFound });
    Router::new()
        .route(
            "/alive",
            get(|| async { StatusCode::OK })
                .route_layer(middleware::from_fn_with_state(state.clone(), edge)),
        )
        // The Python SDK logs out at the unversioned `/api/logout` (rtl/auth_session.py).
        .route(
            "/api/logout",
            delete(session::logout)
                .route_layer(middleware::from_fn_with_state(state.clone(), edge)),
        )
        .nest("/api/4.0", api)
        .nest("/control", crate::control::router())
        // Looker answers 403 for URLs outside /api/<version>/ (Looker's API docs).
        .fallback(|| async { (StatusCode::FORBIDDEN, "Forbidden") })
        .with_state(state)
}

/// The edge of the fake: counts the request, adds latency, and applies fault rules, before
/// (or, for malformed bodies, after) the handler runs.
async fn edge(
    State(shared): State<Arc<Shared>>,
    matched: Option<MatchedPath>,
    request: Request,
    next: Next,
) -> Response {
    let path = matched.as_ref().map_or_else(
        || request.uri().path().to_string(),
        |m| m.as_str().to_string(),
    );
    let route = operation(request.method(), &path);
    *lock(&shared.counters).entry(route.to_string()).or_default() += 1;
    let (fault_latency, action) = lock(&shared.faults).decide(route);
    let latency = shared.settings().latency + fault_latency;
    if !latency.is_zero() {
        tokio::time::sleep(latency).await;
    }
    match action {
        None => next.run(request).await,
        Some(Action::Status(status)) => {
            let status = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
            let message = status.canonical_reason().unwrap_or("Error").to_string();
            ApiError::Status(status, message).into_response()
        }
        Some(Action::RateLimit(secs)) => ApiError::RateLimited {
            retry_after_secs: secs,
        }
        .into_response(),
        Some(Action::Oversized(mib)) => oversized(mib),
        Some(Action::Malformed) => {
            let response = next.run(request).await;
            let (parts, body) = response.into_parts();
            let bytes = axum::body::to_bytes(body, usize::MAX)
                .await
                .unwrap_or_default();
            // Cut in half: a truncated JSON document, as from a proxy that dropped the stream.
            let cut = if bytes.len() > 1 {
                bytes.slice(..bytes.len() / 2)
            } else {
                Bytes::from_static(b"{")
            };
            let mut response = Response::from_parts(parts, Body::from(cut));
            response.headers_mut().remove(header::CONTENT_LENGTH);
            response
        }
        Some(Action::Reset) => {
            if let Some(handle) = request.extensions().get::<Arc<ConnectionHandle>>() {
                handle.reset();
                // The connection task drops this request; never answer it.
                std::future::pending::<()>().await;
            }
            StatusCode::INTERNAL_SERVER_ERROR.into_response()
        }
    }
}

/// A valid JSON array of about `mib` MiB, streamed so the fake does not hold it in memory.
fn oversized(mib: u64) -> Response {
    let chunk: Bytes = {
        let item = format!("{{\"padding\":\"{}\"}},", "x".repeat(1000));
        Bytes::from(item.repeat(64))
    };
    let chunks = (mib * 1024 * 1024).div_ceil(chunk.len() as u64);
    let body = crate::server::ChunkedBody::new(
        Bytes::from_static(b"["),
        chunk,
        chunks,
        Bytes::from_static(b"{}]"),
    );
    let mut response = Response::new(Body::new(body));
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        header::HeaderValue::from_static("application/json"),
    );
    response
}
