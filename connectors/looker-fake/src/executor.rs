//! Runs queries like Looker's query runner: a results cache keyed by what the query selects,
//! single-flight execution (identical concurrent queries share one run), and slow explores
//! that take `slow_query` when cold. Runs are detached tasks, so a client that gives up does
//! not cancel the query: its results still land in the cache, as on a real instance.

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant, SystemTime};

use tokio::sync::watch;

use crate::dataset;
use crate::query::QueryDef;
use crate::query_engine::{self, QueryResult, RunOptions};
use crate::state::{Shared, lock};

pub(crate) struct Execution {
    pub(crate) result: QueryResult,
    pub(crate) ran_at: String,
    pub(crate) runtime_secs: f64,
    pub(crate) explore_label: String,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum CacheMode {
    /// `cache` absent or false: run against the data.
    Fresh,
    /// `cache=true`: serve unexpired cached results if any.
    Prefer,
    /// `cache_only=true`: serve cached results even if stale; never run.
    Only,
}

#[derive(Debug)]
pub(crate) enum ExecError {
    UnknownExplore,
    NotCached,
}

struct CacheEntry {
    version: u64,
    execution: Arc<Execution>,
}

type Pending = watch::Receiver<Option<Arc<Execution>>>;

#[derive(Default)]
pub(crate) struct Executor {
    cache: std::sync::Mutex<HashMap<String, CacheEntry>>,
    inflight: std::sync::Mutex<HashMap<String, Pending>>,
    runs: AtomicU64,
}

impl Executor {
    pub(crate) fn query_runs(&self) -> u64 {
        self.runs.load(Ordering::Relaxed)
    }

    pub(crate) fn reset_runs(&self) {
        self.runs.store(0, Ordering::Relaxed);
    }

    pub(crate) fn clear_cache(&self) {
        lock(&self.cache).clear();
    }

    /// Whether fresh (unexpired) results exist for the query.
    pub(crate) fn is_cached(&self, shared: &Shared, def: &QueryDef, limit: Option<i64>) -> bool {
        let Some(version) = explore_version(shared, def) else {
            return false;
        };
        lock(&self.cache)
            .get(&cache_key(def, limit))
            .is_some_and(|e| e.version == version)
    }
}

fn cache_key(def: &QueryDef, limit: Option<i64>) -> String {
    format!(
        "{}#{}",
        def.data_key(),
        limit.map(|l| l.to_string()).unwrap_or_default()
    )
}

fn explore_version(shared: &Shared, def: &QueryDef) -> Option<u64> {
    shared
        .catalog
        .read()
        .explore(&def.model, &def.view)
        .map(|e| e.version)
}

/// Returns the execution and whether it came from the cache.
pub(crate) async fn execute(
    shared: &Arc<Shared>,
    def: &QueryDef,
    limit: Option<i64>,
    mode: CacheMode,
) -> Result<(Arc<Execution>, bool), ExecError> {
    let version = explore_version(shared, def).ok_or(ExecError::UnknownExplore)?;
    let key = cache_key(def, limit);
    if let Some(entry) = lock(&shared.executor.cache).get(&key) {
        let fresh = entry.version == version;
        if (mode == CacheMode::Prefer && fresh) || mode == CacheMode::Only {
            return Ok((entry.execution.clone(), true));
        }
    }
    if mode == CacheMode::Only {
        return Err(ExecError::NotCached);
    }
    let mut pending = {
        let mut inflight = lock(&shared.executor.inflight);
        match inflight.get(&key) {
            Some(rx) => rx.clone(),
            None => {
                let (tx, rx) = watch::channel(None);
                inflight.insert(key.clone(), rx.clone());
                tokio::spawn(run_detached(shared.clone(), def.clone(), limit, key, tx));
                rx
            }
        }
    };
    let execution = pending
        .wait_for(Option::is_some)
        .await
        .map_err(|_| ExecError::UnknownExplore)?
        .clone()
        .ok_or(ExecError::UnknownExplore)?;
    Ok((execution, false))
}

/// Removes the in-flight entry however the run ends (even by a panic), so later identical
/// queries start a new run instead of waiting forever.
struct InflightGuard {
    shared: Arc<Shared>,
    key: String,
}

impl Drop for InflightGuard {
    fn drop(&mut self) {
        lock(&self.shared.executor.inflight).remove(&self.key);
    }
}

async fn run_detached(
    shared: Arc<Shared>,
    def: QueryDef,
    limit: Option<i64>,
    key: String,
    tx: watch::Sender<Option<Arc<Execution>>>,
) {
    let guard = InflightGuard {
        shared: shared.clone(),
        key: key.clone(),
    };
    let started = Instant::now();
    let ran_at = crate::dates::timestamp(SystemTime::now());
    let slow = shared
        .catalog
        .read()
        .explore(&def.model, &def.view)
        .is_some_and(|e| e.slow);
    if slow {
        tokio::time::sleep(shared.settings().slow_query).await;
    }
    let computed = {
        let catalog = shared.catalog.read();
        catalog.explore(&def.model, &def.view).map(|explore| {
            let options = RunOptions {
                limit_override: limit,
                today: dataset::today(),
            };
            (
                query_engine::run(explore, &def, options),
                explore.version,
                explore.label.clone(),
            )
        })
    };
    let execution = computed.map(|(result, version, explore_label)| {
        let execution = Arc::new(Execution {
            result,
            ran_at,
            runtime_secs: started
                .elapsed()
                .max(Duration::from_millis(1))
                .as_secs_f64(),
            explore_label,
        });
        shared.executor.runs.fetch_add(1, Ordering::Relaxed);
        // Failed queries are not cached, as on Looker.
        if execution.result.error.is_none() {
            lock(&shared.executor.cache).insert(
                key.clone(),
                CacheEntry {
                    version,
                    execution: execution.clone(),
                },
            );
        }
        execution
    });
    drop(guard);
    // Receivers see a closed channel (an error) if the explore vanished meanwhile.
    if let Some(execution) = execution {
        let _ = tx.send(Some(execution));
    }
}
