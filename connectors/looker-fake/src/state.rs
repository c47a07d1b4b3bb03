//! Shared server state: settings, content, tokens, the query executor, tasks, counters, faults.

use std::collections::{BTreeMap, HashMap};
use std::ops::Deref;
use std::sync::{Arc, Mutex, MutexGuard, RwLock, RwLockReadGuard, RwLockWriteGuard};
use std::time::Duration;

use crate::auth::Tokens;
use crate::content::Catalog;
use crate::executor::Executor;
use crate::faults::FaultState;
use crate::model::Explore;
use crate::query_tasks::Task;
use crate::render_cache::RenderCache;

/// Settings that the control endpoint may change while the server runs.
#[derive(Clone, Debug)]
pub(crate) struct Settings {
    pub(crate) client_id: String,
    pub(crate) client_secret: String,
    pub(crate) latency: Duration,
    pub(crate) slow_query: Duration,
    pub(crate) token_ttl: Duration,
}

pub(crate) struct Shared {
    pub(crate) base_url: String,
    pub(crate) demo: bool,
    pub(crate) bulk: Option<crate::BulkContent>,
    pub(crate) settings: Mutex<Settings>,
    pub(crate) catalog: CatalogLock,
    pub(crate) rendered: RenderCache,
    pub(crate) tokens: Mutex<Tokens>,
    pub(crate) executor: Executor,
    pub(crate) tasks: Mutex<HashMap<String, Task>>,
    pub(crate) counters: Mutex<BTreeMap<String, u64>>,
    pub(crate) faults: Mutex<FaultState>,
}

pub(crate) type AppState = Arc<Shared>;

/// Locks that survive a panicked holder: the fake must keep serving (the data stays usable).
pub(crate) fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// The catalog behind a lock whose every write access bumps the catalog's version, so that
/// no mutation path can leave a cached rendering (keyed by version) stale.
pub(crate) struct CatalogLock(RwLock<Catalog>);

impl CatalogLock {
    pub(crate) fn new(catalog: Catalog) -> Self {
        CatalogLock(RwLock::new(catalog))
    }

    pub(crate) fn read(&self) -> RwLockReadGuard<'_, Catalog> {
        self.0.read().unwrap_or_else(|e| e.into_inner())
    }

    pub(crate) fn write(&self) -> RwLockWriteGuard<'_, Catalog> {
        let mut catalog = self.0.write().unwrap_or_else(|e| e.into_inner());
        catalog.bump_version();
        catalog
    }

    /// Write access to the explores only, which no cached rendering reads: changing data
    /// (`set_value`) keeps the cached dashboards.
    pub(crate) fn write_explores(&self) -> ExploresWriteGuard<'_> {
        ExploresWriteGuard(self.0.write().unwrap_or_else(|e| e.into_inner()))
    }
}

pub(crate) struct ExploresWriteGuard<'a>(RwLockWriteGuard<'a, Catalog>);

impl Deref for ExploresWriteGuard<'_> {
    type Target = Catalog;

    fn deref(&self) -> &Catalog {
        &self.0
    }
}

impl ExploresWriteGuard<'_> {
    pub(crate) fn explore_mut(&mut self, model: &str, view: &str) -> Option<&mut Explore> {
        self.0.explore_mut(model, view)
    }
}

impl Shared {
    pub(crate) fn settings(&self) -> Settings {
        lock(&self.settings).clone()
    }
}
