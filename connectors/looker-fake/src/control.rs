//! The in-process control handle and its HTTP mirror under `/control` (no auth, JSON): change
//! data so a tile's number moves, remove and restore tiles, inject faults, read and reset
//! counters, expire tokens and tasks, clear the cache.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::content::Source;
use crate::dataset;
use crate::faults::Fault;
use crate::model::{Agg, Cell, FieldKind, Val};
use crate::query_engine::{self, RunOptions};
use crate::query_tasks::TaskStatus;
use crate::state::{AppState, Settings, Shared, lock};

/// Per-route request counts (by Looker operation id) and real query executions.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Counters {
    /// Requests per route, e.g. `{"login": 1, "run_query": 3}`; faulted requests count too.
    pub routes: BTreeMap<String, u64>,
    /// Queries actually executed against the data (cache misses).
    pub query_runs: u64,
}

impl Counters {
    /// Requests seen on one route (0 if none).
    pub fn route(&self, route: &str) -> u64 {
        self.routes.get(route).copied().unwrap_or(0)
    }
}

/// Which cell to change. Give one of `dashboard_element_id`, `look_id` or `query_id`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct SetValue {
    /// A tile; its query (or its Look's query) selects the cell.
    pub dashboard_element_id: Option<String>,
    /// A Look; its query selects the cell.
    pub look_id: Option<String>,
    /// A query id.
    pub query_id: Option<String>,
    /// Measure to change; default: the first measure not in the vis config's `hidden_fields`.
    pub field: Option<String>,
    /// Row: the row's dimension values joined by `|` (e.g. `2026-05`, `EMEA|Software`);
    /// default: the newest row (by the first time dimension) whose cell is not NULL.
    pub row: Option<String>,
    /// Pivot key, required for pivoted queries (e.g. `EMEA`).
    pub pivot: Option<String>,
    /// New value; `None` makes the cell NULL (sum and average measures only).
    pub value: Option<f64>,
}

/// What `set_value` changed.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SetValueOutcome {
    /// The query whose cell was set.
    pub query_id: String,
    /// The row's dimension values joined by `|` (empty for a query without dimensions).
    pub row: String,
    /// The measure set.
    pub field: String,
    /// The pivot key, for pivoted queries.
    pub pivot: Option<String>,
    /// The value before.
    pub previous: Option<f64>,
    /// The value now.
    pub value: Option<f64>,
}

/// Why a control operation was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ControlError {
    /// No such tile, Look, query, row, field or pivot.
    NotFound(String),
    /// The request cannot be carried out (e.g. a count-distinct measure, a text tile).
    Invalid(String),
}

impl std::fmt::Display for ControlError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ControlError::NotFound(m) | ControlError::Invalid(m) => f.write_str(m),
        }
    }
}

impl std::error::Error for ControlError {}

/// In-process handle to everything the `/control` endpoint does.
#[derive(Clone)]
pub struct Control {
    shared: Arc<Shared>,
    initial: Settings,
}

impl std::fmt::Debug for Control {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Control")
            .field("base_url", &self.shared.base_url)
            .finish()
    }
}

impl Control {
    pub(crate) fn new(shared: Arc<Shared>) -> Control {
        let initial = shared.settings();
        Control { shared, initial }
    }

    /// Per-route request counts and the number of real query executions.
    pub fn counters(&self) -> Counters {
        Counters {
            routes: lock(&self.shared.counters).clone(),
            query_runs: self.query_runs(),
        }
    }

    /// Requests seen on one route (by operation id, e.g. `run_query`).
    pub fn route_count(&self, route: &str) -> u64 {
        lock(&self.shared.counters).get(route).copied().unwrap_or(0)
    }

    /// Queries executed against the data (cache misses), since the last reset.
    pub fn query_runs(&self) -> u64 {
        self.shared.executor.query_runs()
    }

    /// Zeroes the request counters and `query_runs`.
    pub fn reset_counters(&self) {
        lock(&self.shared.counters).clear();
        self.shared.executor.reset_runs();
    }

    /// Adds a fault rule.
    pub fn add_fault(&self, fault: Fault) {
        lock(&self.shared.faults).add(fault);
    }

    /// The fault rules still active (with their remaining counts).
    pub fn faults(&self) -> Vec<Fault> {
        lock(&self.shared.faults).list()
    }

    /// Removes every fault rule.
    pub fn clear_faults(&self) {
        lock(&self.shared.faults).clear();
    }

    /// Invalidates every access token now; the next API call answers 401.
    pub fn expire_tokens(&self) {
        lock(&self.shared.tokens).revoke_all();
    }

    /// Lifetime of tokens issued from now on (`expires_in` of login).
    pub fn set_token_ttl(&self, ttl: Duration) {
        lock(&self.shared.settings).token_ttl = ttl;
    }

    /// Latency added to every API response.
    pub fn set_latency(&self, latency: Duration) {
        lock(&self.shared.settings).latency = latency;
    }

    /// Cold runtime of queries on the slow explore.
    pub fn set_slow_query(&self, runtime: Duration) {
        lock(&self.shared.settings).slow_query = runtime;
    }

    /// Drops every cached result, so every query runs cold again.
    pub fn clear_query_cache(&self) {
        self.shared.executor.clear_cache();
    }

    /// Expires finished query tasks: their results answer 404 from now on.
    pub fn expire_query_tasks(&self) {
        for task in lock(&self.shared.tasks).values_mut() {
            if task.finished.is_some() {
                task.status = TaskStatus::Expired;
                task.outcome = None;
            }
        }
    }

    /// Removes a tile from its dashboard (it answers 404 until restored).
    pub fn remove_tile(&self, dashboard_element_id: &str) -> Result<(), ControlError> {
        self.set_removed(dashboard_element_id, true)
    }

    /// Restores a removed tile.
    pub fn restore_tile(&self, dashboard_element_id: &str) -> Result<(), ControlError> {
        self.set_removed(dashboard_element_id, false)
    }

    fn set_removed(&self, id: &str, removed: bool) -> Result<(), ControlError> {
        let mut catalog = self.shared.catalog.write();
        let element = catalog
            .element_any(id)
            .ok_or_else(|| ControlError::NotFound(format!("no tile {id}")))?;
        element.removed = removed;
        Ok(())
    }

    /// Back to the start: demo data and tiles restored, counters, faults, cache, tasks and
    /// tokens cleared, settings as configured. Queries created meanwhile are kept.
    pub fn reset(&self) {
        {
            // Built before taking the lock: generated content can take a while.
            let fresh = crate::demo::pristine_explores(self.shared.demo, self.shared.bulk.as_ref());
            let mut catalog = self.shared.catalog.write();
            for (explore, pristine) in catalog.explores.iter_mut().zip(fresh) {
                explore.rows = pristine.rows;
                explore.row_index = pristine.row_index;
                explore.version += 1;
            }
            catalog.restore_all_elements();
        }
        *lock(&self.shared.settings) = self.initial.clone();
        self.clear_faults();
        self.reset_counters();
        self.clear_query_cache();
        lock(&self.shared.tasks).clear();
        lock(&self.shared.tokens).revoke_all();
    }

    /// Changes the data behind one cell of a tile's (or Look's, or query's) result, so that
    /// every query over the same rows sees the new number; cached results become stale.
    pub fn set_value(&self, request: SetValue) -> Result<SetValueOutcome, ControlError> {
        let not_found = |m: String| ControlError::NotFound(m);
        let mut catalog = self.shared.catalog.write_explores();
        let query_id = match (
            &request.dashboard_element_id,
            &request.look_id,
            &request.query_id,
        ) {
            (Some(e), _, _) => {
                let element = catalog
                    .element(e)
                    .ok_or_else(|| not_found(format!("no tile {e}")))?;
                match &element.source {
                    Source::Query(q) => q.clone(),
                    Source::Look(l) => catalog
                        .look(l)
                        .map(|l| l.query_id.clone())
                        .ok_or_else(|| not_found(format!("no look {l}")))?,
                    _ => {
                        return Err(ControlError::Invalid(format!(
                            "tile {e} has no query of its own"
                        )));
                    }
                }
            }
            (None, Some(l), _) => catalog
                .look(l)
                .map(|l| l.query_id.clone())
                .ok_or_else(|| not_found(format!("no look {l}")))?,
            (None, None, Some(q)) => q.clone(),
            (None, None, None) => {
                return Err(ControlError::Invalid(
                    "give dashboard_element_id, look_id or query_id".into(),
                ));
            }
        };
        let def = catalog
            .query(&query_id)
            .map(|q| q.def.clone())
            .ok_or_else(|| not_found(format!("no query {query_id}")))?;
        let explore = catalog
            .explore_mut(&def.model, &def.view)
            .ok_or_else(|| not_found(format!("no explore {}/{}", def.model, def.view)))?;
        let options = RunOptions {
            limit_override: Some(-1),
            today: dataset::today(),
        };
        let result = query_engine::run(explore, &def, options);
        if let Some(error) = result.error {
            return Err(ControlError::Invalid(error));
        }
        let hidden: Vec<String> = def
            .vis_config
            .as_ref()
            .and_then(|v| v.get("hidden_fields"))
            .and_then(Value::as_array)
            .map(|a| {
                a.iter()
                    .filter_map(|v| v.as_str().map(str::to_string))
                    .collect()
            })
            .unwrap_or_default();
        let measure_index = match &request.field {
            Some(f) => result.measures.iter().position(|m| &m.def.name == f),
            None => result
                .measures
                .iter()
                .position(|m| !hidden.contains(&m.def.name))
                .or(Some(0)),
        }
        .filter(|i| *i < result.measures.len())
        .ok_or_else(|| {
            not_found(format!(
                "no measure {:?} in query {query_id}",
                request.field
            ))
        })?;
        let measure = result.measures[measure_index].def.clone();
        let col = if result.is_pivoted() {
            let key = request
                .pivot
                .as_deref()
                .ok_or_else(|| ControlError::Invalid("the query is pivoted: give pivot".into()))?;
            result
                .pivot_cols
                .iter()
                .position(|c| c.key == key && !c.is_total)
                .ok_or_else(|| not_found(format!("no pivot {key}")))?
        } else {
            0
        };
        let row_key = |dims: &[Val]| dims.iter().map(Val::key_text).collect::<Vec<_>>().join("|");
        let row = match &request.row {
            Some(wanted) => result.rows.iter().find(|r| &row_key(&r.dims) == wanted),
            None => {
                let time_dim = result
                    .dimensions
                    .iter()
                    .position(|d| d.def.timeframe().is_some());
                let mut candidates: Vec<_> = result
                    .rows
                    .iter()
                    .filter(|r| r.measures[measure_index][col] != Val::Null)
                    .collect();
                if let Some(t) = time_dim {
                    candidates.sort_by(|a, b| b.dims[t].compare(&a.dims[t]));
                }
                candidates.first().copied()
            }
        }
        .ok_or_else(|| {
            not_found(format!(
                "no row {:?} with a value in query {query_id}",
                request.row
            ))
        })?;
        let previous = row.measures[measure_index][col].as_f64();
        let mut cell_dims: Vec<(String, Val)> = result
            .dimensions
            .iter()
            .map(|d| d.def.name.clone())
            .zip(row.dims.iter().cloned())
            .collect();
        if result.is_pivoted() {
            let pivot_col = &result.pivot_cols[col];
            cell_dims.extend(
                result
                    .pivots
                    .iter()
                    .map(|p| p.def.name.clone())
                    .zip(pivot_col.values.iter().cloned()),
            );
        }
        let rows = query_engine::rows_behind_cell(explore, &def, dataset::today(), &cell_dims)
            .map_err(ControlError::Invalid)?;
        let FieldKind::Measure { agg, .. } = &measure.kind else {
            return Err(ControlError::Invalid(format!(
                "{} is not a measure",
                measure.name
            )));
        };
        apply(&mut explore.rows, &rows, agg, request.value)?;
        explore.version += 1;
        Ok(SetValueOutcome {
            query_id,
            row: row_key(&row.dims),
            field: measure.name,
            pivot: request.pivot.filter(|_| result.is_pivoted()),
            previous,
            value: request.value,
        })
    }
}

/// Rewrites table rows so the aggregate over `rows` becomes `value`.
fn apply(
    table: &mut [Vec<Cell>],
    rows: &[usize],
    agg: &Agg,
    value: Option<f64>,
) -> Result<(), ControlError> {
    let Some((&first, rest)) = rows.split_first() else {
        return Err(ControlError::NotFound(
            "no data rows behind that cell".into(),
        ));
    };
    let sum = |table: &[Vec<Cell>], col: usize, which: &[usize]| {
        which
            .iter()
            .filter_map(|&r| table[r][col].num())
            .sum::<f64>()
    };
    let set_all = |table: &mut [Vec<Cell>], col: usize, cell: Cell| {
        rows.iter().for_each(|&r| table[r][col] = cell.clone())
    };
    let as_cell = |v: Option<f64>| v.map_or(Cell::Null, Cell::Num);
    match (agg, value) {
        (Agg::Count(c) | Agg::Sum(c), None) => set_all(table, *c, Cell::Null),
        (Agg::Count(c) | Agg::Sum(c), Some(v)) => {
            table[first][*c] = Cell::Num(v - sum(table, *c, rest))
        }
        (
            Agg::Average(c) | Agg::Min(c) | Agg::Max(c) | Agg::Median(c) | Agg::Percentile(c, _),
            v,
        ) => {
            set_all(table, *c, as_cell(v));
        }
        (Agg::Ratio(num, _), None) => set_all(table, *num, Cell::Null),
        (Agg::Ratio(num, den), Some(v)) => {
            let total = sum(table, *den, rows);
            if total == 0.0 {
                return Err(ControlError::Invalid(
                    "the ratio's denominator is zero there".into(),
                ));
            }
            table[first][*num] = Cell::Num(v * total - sum(table, *num, rest));
        }
        (Agg::Margin(revenue, cost), Some(v)) => {
            if rows.iter().all(|&r| table[r][*revenue].num().is_none()) {
                return Err(ControlError::Invalid(
                    "revenue is NULL there, so the margin cannot be set".into(),
                ));
            }
            let target_cost = sum(table, *revenue, rows) * (1.0 - v);
            table[first][*cost] = Cell::Num(target_cost - sum(table, *cost, rest));
        }
        (Agg::Margin(..), None) | (Agg::CountDistinct(_), _) => {
            return Err(ControlError::Invalid(
                "this measure cannot be set to that value".into(),
            ));
        }
    }
    Ok(())
}

fn control_error(error: ControlError) -> Response {
    let status = match error {
        ControlError::NotFound(_) => StatusCode::NOT_FOUND,
        ControlError::Invalid(_) => StatusCode::UNPROCESSABLE_ENTITY,
    };
    (status, Json(json!({"error": error.to_string()}))).into_response()
}

fn control(shared: &AppState) -> Control {
    Control::new(shared.clone())
}

/// Settings changeable over HTTP; absent fields are left as they are.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct SettingsPatch {
    latency_ms: Option<u64>,
    slow_query_ms: Option<u64>,
    token_ttl_secs: Option<u64>,
}

/// One rule or a list of rules.
#[derive(Deserialize)]
#[serde(untagged)]
enum Faults {
    One(Fault),
    Many(Vec<Fault>),
}

pub(crate) fn router() -> Router<AppState> {
    Router::new()
        .route("/", get(index))
        .route(
            "/counters",
            get(|State(s): State<AppState>| async move { Json(control(&s).counters()) }),
        )
        .route(
            "/counters/reset",
            post(|State(s): State<AppState>| async move {
                control(&s).reset_counters();
                StatusCode::NO_CONTENT
            }),
        )
        .route(
            "/values",
            post(
                |State(s): State<AppState>, Json(request): Json<SetValue>| async move {
                    match control(&s).set_value(request) {
                        Ok(outcome) => Json(outcome).into_response(),
                        Err(e) => control_error(e),
                    }
                },
            ),
        )
        .route(
            "/tiles/{id}/remove",
            post(
                |State(s): State<AppState>, Path(id): Path<String>| async move {
                    control(&s)
                        .remove_tile(&id)
                        .map_or_else(control_error, |()| StatusCode::NO_CONTENT.into_response())
                },
            ),
        )
        .route(
            "/tiles/{id}/restore",
            post(
                |State(s): State<AppState>, Path(id): Path<String>| async move {
                    control(&s)
                        .restore_tile(&id)
                        .map_or_else(control_error, |()| StatusCode::NO_CONTENT.into_response())
                },
            ),
        )
        .route(
            "/faults",
            get(|State(s): State<AppState>| async move { Json(control(&s).faults()) })
                .post(
                    |State(s): State<AppState>, Json(faults): Json<Faults>| async move {
                        let c = control(&s);
                        match faults {
                            Faults::One(f) => c.add_fault(f),
                            Faults::Many(fs) => fs.into_iter().for_each(|f| c.add_fault(f)),
                        }
                        Json(c.faults())
                    },
                )
                .delete(|State(s): State<AppState>| async move {
                    control(&s).clear_faults();
                    StatusCode::NO_CONTENT
                }),
        )
        .route(
            "/tokens/expire",
            post(|State(s): State<AppState>| async move {
                control(&s).expire_tokens();
                StatusCode::NO_CONTENT
            }),
        )
        .route("/settings", get(settings).post(patch_settings))
        .route(
            "/cache/clear",
            post(|State(s): State<AppState>| async move {
                control(&s).clear_query_cache();
                StatusCode::NO_CONTENT
            }),
        )
        .route(
            "/query_tasks/expire",
            post(|State(s): State<AppState>| async move {
                control(&s).expire_query_tasks();
                StatusCode::NO_CONTENT
            }),
        )
        .route(
            "/reset",
            post(|State(s): State<AppState>| async move {
                control(&s).reset();
                StatusCode::NO_CONTENT
            }),
        )
        .fallback(|| async {
            (
                StatusCode::NOT_FOUND,
                Json(json!({"error": "no such control endpoint; GET /control lists them"})),
            )
        })
}

async fn settings(State(s): State<AppState>) -> Json<Value> {
    let settings = s.settings();
    Json(json!({
        "client_id": settings.client_id,
        "latency_ms": settings.latency.as_millis() as u64,
        "slow_query_ms": settings.slow_query.as_millis() as u64,
        "token_ttl_secs": settings.token_ttl.as_secs(),
    }))
}

async fn patch_settings(
    State(s): State<AppState>,
    Json(patch): Json<SettingsPatch>,
) -> Json<Value> {
    let c = control(&s);
    if let Some(ms) = patch.latency_ms {
        c.set_latency(Duration::from_millis(ms));
    }
    if let Some(ms) = patch.slow_query_ms {
        c.set_slow_query(Duration::from_millis(ms));
    }
    if let Some(secs) = patch.token_ttl_secs {
        c.set_token_ttl(Duration::from_secs(secs));
    }
    settings(State(s)).await
}

async fn index(State(s): State<AppState>) -> Json<Value> {
    let explores: Vec<String> = s
        .catalog
        .read()
        .explores
        .iter()
        .map(|e| format!("{}/{}", e.model, e.name))
        .collect();
    Json(json!({
        "api": format!("{}/api/4.0", s.base_url),
        "explores": explores,
        "endpoints": {
            "GET /control/counters": "per-route request counts and query_runs",
            "POST /control/counters/reset": "zero the counters",
            "POST /control/values": "set a cell: {dashboard_element_id|look_id|query_id, field?, row?, pivot?, value}",
            "POST /control/tiles/{id}/remove": "remove a tile",
            "POST /control/tiles/{id}/restore": "restore a tile",
            "GET|POST|DELETE /control/faults": "list, add ({route?, kind, count?, ...}) or clear fault rules",
            "POST /control/tokens/expire": "expire every access token now",
            "GET|POST /control/settings": "read or change {latency_ms, slow_query_ms, token_ttl_secs}",
            "POST /control/cache/clear": "drop cached query results",
            "POST /control/query_tasks/expire": "expire finished query tasks",
            "POST /control/reset": "restore data, tiles and settings; clear everything else",
        }
    }))
}
