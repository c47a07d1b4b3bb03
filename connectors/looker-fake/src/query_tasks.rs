//! Async query tasks (Looker's API docs): `added` → `running` → `complete`/`error`; results answer 202
//! while running and 404 once expired. A task whose query is fresh in the cache completes at
//! creation, which is what makes a "hot" dashboard instant.

use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::errors::ApiError;
use crate::executor::{self, CacheMode, ExecError, Execution};
use crate::params::Params;
use crate::state::{Shared, lock};

/// How long finished task results stay retrievable.
const TASK_TTL: Duration = Duration::from_secs(3600);

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum TaskStatus {
    Added,
    Running,
    Complete,
    Error,
    Expired,
}

impl TaskStatus {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            TaskStatus::Added => "added",
            TaskStatus::Running => "running",
            TaskStatus::Complete => "complete",
            TaskStatus::Error => "error",
            TaskStatus::Expired => "expired",
        }
    }
}

pub(crate) struct Task {
    pub(crate) id: String,
    pub(crate) query_id: String,
    pub(crate) result_format: String,
    pub(crate) source: Option<String>,
    pub(crate) look_id: Option<String>,
    pub(crate) dashboard_id: Option<String>,
    pub(crate) mode: CacheMode,
    pub(crate) generate_links: bool,
    pub(crate) force_production: bool,
    pub(crate) server_table_calcs: bool,
    pub(crate) rebuild_pdts: bool,
    pub(crate) path_prefix: Option<String>,
    pub(crate) status: TaskStatus,
    pub(crate) outcome: Option<(Arc<Execution>, bool)>,
    pub(crate) error: Option<String>,
    pub(crate) finished: Option<Instant>,
}

impl Task {
    pub(crate) fn expire_if_due(&mut self) {
        if self.finished.is_some_and(|f| f.elapsed() > TASK_TTL) {
            self.status = TaskStatus::Expired;
            self.outcome = None;
        }
    }

    pub(crate) fn to_json(&self, shared: &Shared) -> Value {
        let query = shared
            .catalog
            .read()
            .query(&self.query_id)
            .map_or(Value::Null, |q| q.to_json(&shared.base_url));
        let runtime = self.outcome.as_ref().map(|(e, _)| e.runtime_secs);
        let from_cache = self.outcome.as_ref().map(|(_, c)| *c);
        json!({
            "can": {"show": true, "create": true},
            "id": self.id,
            "query_id": self.query_id,
            "query": query,
            "generate_links": self.generate_links,
            "force_production": self.force_production,
            "path_prefix": self.path_prefix,
            "cache": self.mode == CacheMode::Prefer,
            "server_table_calcs": self.server_table_calcs,
            "cache_only": self.mode == CacheMode::Only,
            "cache_key": crate::query::slug(&format!("cache:{}", self.query_id), 32),
            "status": self.status.as_str(),
            "source": self.source,
            "runtime": runtime,
            "rebuild_pdts": self.rebuild_pdts,
            "result_source": from_cache.map(|c| if c { "cache" } else { "query" }),
            "look_id": self.look_id,
            "dashboard_id": self.dashboard_id,
            "result_format": self.result_format,
        })
    }
}

fn optional_string(body: &Value, key: &str) -> Option<String> {
    match body.get(key)? {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

pub(crate) async fn create(
    shared: &Arc<Shared>,
    body: &Value,
    params: &Params,
) -> Result<Value, ApiError> {
    use crate::errors::FieldError;
    let mut errors = Vec::new();
    let query_id = optional_string(body, "query_id");
    let result_format = optional_string(body, "result_format");
    if query_id.is_none() {
        errors.push(FieldError::new(
            "query_id",
            "missing_field",
            "This field is required.",
        ));
    }
    match result_format.as_deref() {
        None => errors.push(FieldError::new(
            "result_format",
            "missing_field",
            "This field is required.",
        )),
        Some(f) if !crate::formats::SUPPORTED.contains(&f) => errors.push(FieldError::new(
            "result_format",
            "invalid",
            &format!("The fake serves {}", crate::formats::SUPPORTED.join(", ")),
        )),
        Some(_) => {}
    }
    if !errors.is_empty() {
        return Err(ApiError::Validation(errors));
    }
    let (query_id, result_format) = (
        query_id.unwrap_or_default(),
        result_format.unwrap_or_default(),
    );
    let def = shared
        .catalog
        .read()
        .query(&query_id)
        .map(|q| q.def.clone())
        .ok_or(ApiError::NotFound)?;
    let mode = params.cache_mode()?;
    let limit = params.int("limit")?;
    let id = crate::query::slug(&format!("task:{}:{:?}", query_id, Instant::now()), 32);
    let task = Task {
        id: id.clone(),
        query_id,
        result_format,
        source: optional_string(body, "source"),
        look_id: optional_string(body, "look_id"),
        dashboard_id: optional_string(body, "dashboard_id"),
        mode,
        generate_links: params.bool("generate_drill_links")?.unwrap_or(false),
        force_production: params.bool("force_production")?.unwrap_or(false),
        server_table_calcs: params.bool("server_table_calcs")?.unwrap_or(false),
        rebuild_pdts: params.bool("rebuild_pdts")?.unwrap_or(false),
        path_prefix: params.get("path_prefix").map(str::to_string),
        status: TaskStatus::Added,
        outcome: None,
        error: None,
        finished: None,
    };
    lock(&shared.tasks).insert(id.clone(), task);
    let hot = mode == CacheMode::Only
        || (mode == CacheMode::Prefer && shared.executor.is_cached(shared, &def, limit));
    if hot {
        let outcome = executor::execute(shared, &def, limit, mode).await;
        finish(shared, &id, outcome);
    } else {
        let shared2 = shared.clone();
        let id2 = id.clone();
        tokio::spawn(async move {
            if let Some(task) = lock(&shared2.tasks).get_mut(&id2) {
                task.status = TaskStatus::Running;
            }
            let outcome = executor::execute(&shared2, &def, limit, mode).await;
            finish(&shared2, &id2, outcome);
        });
    }
    let tasks = lock(&shared.tasks);
    Ok(tasks
        .get(&id)
        .map(|t| t.to_json(shared))
        .unwrap_or(Value::Null))
}

fn finish(shared: &Shared, id: &str, outcome: Result<(Arc<Execution>, bool), ExecError>) {
    let mut tasks = lock(&shared.tasks);
    let Some(task) = tasks.get_mut(id) else {
        return;
    };
    task.finished = Some(Instant::now());
    match outcome {
        Ok((execution, from_cache)) => {
            task.status = if execution.result.error.is_some() {
                TaskStatus::Error
            } else {
                TaskStatus::Complete
            };
            task.error = execution.result.error.clone();
            task.outcome = Some((execution, from_cache));
        }
        Err(ExecError::NotCached) => {
            task.status = TaskStatus::Error;
            task.error = Some("No cached results for this query (cache_only=true)".into());
        }
        Err(ExecError::UnknownExplore) => {
            task.status = TaskStatus::Error;
            task.error = Some("Unknown model or explore".into());
        }
    }
}
