//! The sync engine: takes due bindings from the scheduler, reads their values
//! with one Looker run per distinct query, and writes what changed.
//!
//! Per cycle, due bindings are grouped by connection; within a connection the
//! sources of each container (a dashboard's tiles) are resolved together with
//! one call and each distinct query runs once, under the per-connection and
//! global concurrency limits. Bindings are loaded only when their query's
//! result is in; each selects its own cell from the shared result, and one
//! committer writes the results in batches (one transaction and one flush for
//! many bindings).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use kpilink_connector::{
    ChartInfo, Connector, ConnectorError, QueryRef, Reason, ResultTable, RunMode, SourceRef,
};
use tokio::sync::{Semaphore, mpsc, oneshot};
use tokio::task::JoinSet;

use super::outcome::{self, Change, micros};
use super::scheduler::Scheduler;
use super::updates::UpdateLog;
use crate::connections::Connections;
use crate::error::{Error, Result};
use crate::metrics::Metrics;
use crate::selection::{self, Reading};
use crate::store::{BindingRecord, BindingWrite, Store, StoreError, ValueRecord};
use crate::time::{UnixMicros, now_micros};

/// How many times a write that raced another is recomputed.
const WRITE_ATTEMPTS: usize = 5;

/// At most this many bindings' results go into one store write: sled's cost
/// per binding falls steeply with the batch (one transaction, one flush).
const COMMIT_BATCH: usize = 1000;

/// Finished reads waiting to be stored, and whom to tell once they are.
type Pending = (Vec<(BindingRecord, Read)>, oneshot::Sender<()>);

#[derive(Debug, Clone)]
pub struct SyncSettings {
    pub default_interval: Duration,
    pub min_interval: Duration,
    /// Query budget of background syncs (slow dashboards still sync).
    pub background_budget: Duration,
    pub per_connection: usize,
    pub global: usize,
    /// How long update events are kept.
    pub retention: Duration,
    /// Bindings due within this window of each other sync in one cycle.
    pub coalesce_window: Duration,
}

impl Default for SyncSettings {
    fn default() -> Self {
        SyncSettings {
            default_interval: Duration::from_secs(15 * 60),
            min_interval: Duration::from_secs(60),
            background_budget: Duration::from_secs(600),
            per_connection: 4,
            global: 64,
            retention: Duration::from_secs(30 * 24 * 3600),
            coalesce_window: Duration::from_secs(30),
        }
    }
}

pub struct Engine {
    metrics: Arc<Metrics>,
    store: Arc<dyn Store>,
    connections: Arc<Connections>,
    scheduler: Scheduler,
    log: Arc<UpdateLog>,
    settings: SyncSettings,
    global: Arc<Semaphore>,
    per_connection: Mutex<HashMap<(String, String), Arc<Semaphore>>>,
    results: mpsc::UnboundedSender<Pending>,
    /// Taken by [`Engine::start`], which runs the committer.
    results_rx: Mutex<Option<mpsc::UnboundedReceiver<Pending>>>,
}

/// `[0.9, 1.1)`: spreads syncs planned together.
fn jitter() -> f64 {
    0.9 + rand::random::<f64>() * 0.2
}

impl Engine {
    pub fn new(
        store: Arc<dyn Store>,
        connections: Arc<Connections>,
        log: Arc<UpdateLog>,
        settings: SyncSettings,
        metrics: Arc<Metrics>,
    ) -> Self {
        let (results, results_rx) = mpsc::unbounded_channel();
        Engine {
            results,
            results_rx: Mutex::new(Some(results_rx)),
            metrics,
            global: Arc::new(Semaphore::new(settings.global.max(1))),
            store,
            connections,
            scheduler: Scheduler::default(),
            log,
            settings,
            per_connection: Mutex::new(HashMap::new()),
        }
    }

    pub fn settings(&self) -> &SyncSettings {
        &self.settings
    }

    pub fn log(&self) -> &Arc<UpdateLog> {
        &self.log
    }

    /// Plans every enabled binding at its persisted time, then syncs forever.
    /// Bindings overdue after a restart are spread over a short window instead of
    /// all firing at once.
    pub async fn start(self: Arc<Self>) -> anyhow::Result<tokio::task::JoinHandle<()>> {
        let now = now_micros();
        let bindings = self.store.all_bindings().await?;
        let overdue_window = micros(Duration::from_secs(30));
        for binding in &bindings {
            if let (true, Some(at)) = (binding.enabled, binding.next_sync_time) {
                let at = if at < now {
                    now + (rand::random::<f64>() * overdue_window as f64) as i64
                } else {
                    at
                };
                self.plan(binding, at);
            }
        }
        tracing::info!(
            bindings = bindings.len(),
            planned = self.scheduler.planned(),
            "sync engine started"
        );
        if let Some(results) = self.results_rx.lock().expect("results lock").take() {
            let committer = self.clone();
            tokio::spawn(async move { committer.commit_results(results).await });
        }
        let engine = self.clone();
        let cycles = tokio::spawn(async move { engine.run().await });
        let pruner = self.clone();
        tokio::spawn(async move { pruner.prune_forever().await });
        Ok(cycles)
    }

    pub fn plan(&self, binding: &BindingRecord, at: UnixMicros) {
        self.scheduler.plan(
            (binding.org_id.clone(), binding.id.clone()),
            &binding.connection_id,
            &binding.source,
            at,
        );
    }

    pub fn cancel(&self, org_id: &str, binding_id: &str) {
        self.scheduler
            .cancel(&(org_id.to_owned(), binding_id.to_owned()));
    }

    /// When the next regular sync of a binding is due.
    pub fn next_time(&self, binding: &BindingRecord, now: UnixMicros) -> UnixMicros {
        now + micros(Duration::from_millis(binding.sync_interval_ms).mul_f64(jitter()))
    }

    async fn run(self: Arc<Self>) {
        loop {
            let due = self.scheduler.due(self.settings.coalesce_window).await;
            let mut groups: HashMap<(String, String), Vec<(String, SourceRef)>> = HashMap::new();
            for due in due {
                let (org_id, binding_id) = due.key;
                groups
                    .entry((org_id, due.connection_id))
                    .or_default()
                    .push((binding_id, due.source));
            }
            for ((org_id, connection_id), due) in groups {
                let engine = self.clone();
                tokio::spawn(
                    async move { engine.sync_connection(&org_id, &connection_id, due).await },
                );
            }
        }
    }

    fn connection_limit(&self, org_id: &str, connection_id: &str) -> Arc<Semaphore> {
        self.per_connection
            .lock()
            .expect("limits lock")
            .entry((org_id.to_owned(), connection_id.to_owned()))
            .or_insert_with(|| Arc::new(Semaphore::new(self.settings.per_connection.max(1))))
            .clone()
    }

    /// Syncs the due bindings of one connection: one resolve per container of
    /// sources (a dashboard), one run per query. Bindings are loaded only once
    /// their query's result is in, so the cycle starts with Looker calls.
    async fn sync_connection(
        self: Arc<Self>,
        org_id: &str,
        connection_id: &str,
        due: Vec<(String, SourceRef)>,
    ) {
        tracing::debug!(
            org_id,
            connection_id,
            bindings = due.len(),
            "syncing due bindings"
        );
        let budget = self.settings.background_budget;
        let connector = match self.connections.connector(org_id, connection_id).await {
            Ok((connector, _)) => connector,
            Err(error) => {
                let bindings = self.load(org_id, connection_id, due).await;
                self.record(failed(bindings, &error)).await;
                return;
            }
        };
        let limit = self.connection_limit(org_id, connection_id);

        let mut by_source: HashMap<SourceRef, Vec<String>> = HashMap::new();
        for (binding_id, source) in due {
            by_source.entry(source).or_default().push(binding_id);
        }
        // Sources in one container (the tiles of a dashboard) resolve with one call.
        let mut by_container: HashMap<(&'static str, String), Vec<SourceGroup>> = HashMap::new();
        for (source, members) in by_source {
            let (kind, id) = source.container();
            by_container
                .entry((kind, id.to_owned()))
                .or_default()
                .push((source, members));
        }
        let mut resolves = JoinSet::new();
        for group in by_container.into_values() {
            let (connector, limit, global) =
                (connector.clone(), limit.clone(), self.global.clone());
            resolves.spawn(async move {
                let sources: Vec<SourceRef> = group.iter().map(|(s, _)| s.clone()).collect();
                let resolved = {
                    let _permits = permits(&limit, &global).await;
                    connector.resolve_many(&sources, budget).await
                };
                resolved.into_iter().zip(group).collect::<Vec<_>>()
            });
        }
        let mut by_query: HashMap<QueryRef, Vec<(SourceGroup, ChartInfo)>> = HashMap::new();
        let mut unresolved = Vec::new();
        while let Some(joined) = resolves.join_next().await {
            let Ok(group) = joined else {
                continue;
            };
            for (resolved, (source, members)) in group {
                let error = match resolved {
                    Ok(resolved) => match resolved.query {
                        Some(query) => {
                            by_query
                                .entry(query)
                                .or_default()
                                .push(((source, members), resolved.chart));
                            continue;
                        }
                        None => {
                            let reason = resolved.chart.unsupported_reason.unwrap_or_default();
                            Error::from(ConnectorError::new(Reason::ChartUnsupported, reason))
                        }
                    },
                    Err(error) => Error::from(error),
                };
                let bindings = self
                    .load(org_id, connection_id, tagged(source, members))
                    .await;
                unresolved.extend(failed(bindings, &error));
            }
        }
        self.record(unresolved).await;
        let mut runs = JoinSet::new();
        for (query, sources) in by_query {
            let (connector, limit, engine) = (connector.clone(), limit.clone(), self.clone());
            let (org_id, connection_id) = (org_id.to_owned(), connection_id.to_owned());
            runs.spawn(async move {
                let table = {
                    let _permits = permits(&limit, &engine.global).await;
                    connector.run(&query, RunMode::Background, budget).await
                };
                let mut reads = Vec::new();
                for ((source, members), chart) in sources {
                    let bindings = engine
                        .load(&org_id, &connection_id, tagged(source, members))
                        .await;
                    reads.extend(bindings.into_iter().map(|binding| {
                        let read = match &table {
                            Ok(table) => match selection::select(&chart, table, &binding.selection)
                            {
                                Ok(reading) => {
                                    Read::Value(value_record(&reading, table, now_micros()))
                                }
                                Err(error) => Read::Failed(error),
                            },
                            Err(error) => Read::Failed(Error::from(error.clone())),
                        };
                        (binding, read)
                    }));
                }
                engine.record(reads).await;
            });
        }
        while runs.join_next().await.is_some() {}
    }

    /// The due bindings that still read `source` through `connection_id` and
    /// are enabled; one changed since it was planned is planned again as it is now.
    async fn load(
        &self,
        org_id: &str,
        connection_id: &str,
        due: Vec<(String, SourceRef)>,
    ) -> Vec<BindingRecord> {
        let mut bindings = Vec::with_capacity(due.len());
        for (binding_id, source) in due {
            match self.store.get_binding(org_id, &binding_id).await {
                Ok(Some(binding))
                    if binding.enabled
                        && binding.connection_id == connection_id
                        && binding.source == source =>
                {
                    bindings.push(binding)
                }
                Ok(Some(binding)) => self.replan(&binding),
                Ok(None) => {}
                Err(error) => tracing::error!(%error, binding_id, "cannot load a due binding"),
            }
        }
        bindings
    }

    /// What a read did to a binding, as a change to its current record.
    fn apply(&self, current: &BindingRecord, read: &Read) -> Change {
        let now = now_micros();
        match read {
            Read::Value(value) => {
                outcome::succeeded(current, value.clone(), now, self.next_time(current, now))
            }
            Read::Failed(error) => outcome::failed(current, error, now, jitter()),
        }
    }

    /// Stores what a sync read for these bindings, together with the results
    /// of other syncs finishing meanwhile; returns once they are durable.
    async fn record(&self, reads: Vec<(BindingRecord, Read)>) {
        if reads.is_empty() {
            return;
        }
        for (binding, read) in &reads {
            if let Read::Failed(error) = read {
                tracing::info!(binding_id = %binding.id, reason = error.reason.as_str(), "sync failed");
            }
        }
        let (done, stored) = oneshot::channel();
        if self.results.send((reads, done)).is_ok() {
            let _ = stored.await;
        }
    }

    /// Writes pending results in batches, one at a time: whatever finished
    /// while the previous batch was written goes into the next.
    async fn commit_results(&self, mut results: mpsc::UnboundedReceiver<Pending>) {
        while let Some(first) = results.recv().await {
            let (mut reads, mut waiting) = (first.0, vec![first.1]);
            while reads.len() < COMMIT_BATCH {
                match results.try_recv() {
                    Ok((more, done)) => {
                        reads.extend(more);
                        waiting.push(done);
                    }
                    Err(_) => break,
                }
            }
            self.store_reads(reads).await;
            for done in waiting {
                let _ = done.send(());
            }
        }
    }

    /// One store write for all `reads`; a binding changed meanwhile makes the
    /// batch retry one by one.
    async fn store_reads(&self, reads: Vec<(BindingRecord, Read)>) {
        let changes = reads
            .iter()
            .map(|(binding, read)| (Some(binding), self.apply(binding, read)))
            .collect();
        match self.write_all(changes).await {
            Ok(_) => reads.iter().for_each(|(_, read)| self.count(read)),
            Err(StoreError::Changed) => {
                for (binding, read) in &reads {
                    match self
                        .commit(binding, |current| self.apply(current, read))
                        .await
                    {
                        Ok(_) => self.count(read),
                        Err(error) => {
                            tracing::error!(%error, binding_id = %binding.id, "cannot store a sync result")
                        }
                    }
                }
            }
            Err(error) => {
                tracing::error!(%error, bindings = reads.len(), "cannot store sync results")
            }
        }
    }

    /// Counted once durable, so the metric never runs ahead of the store.
    fn count(&self, read: &Read) {
        match read {
            Read::Value(_) => self.metrics.sync("ok"),
            Read::Failed(error) => self.metrics.sync(&error.class().as_str().to_lowercase()),
        }
    }

    /// Writes one binding change (`current: None` inserts), publishes its event
    /// once durable and plans the binding's next sync.
    pub async fn write(
        &self,
        current: Option<&BindingRecord>,
        change: Change,
    ) -> Result<BindingRecord, StoreError> {
        let mut written = self.write_all(vec![(current, change)]).await?;
        Ok(written.pop().expect("one write, one record"))
    }

    /// [`Engine::write`] of several changes, atomically.
    async fn write_all(
        &self,
        changes: Vec<(Option<&BindingRecord>, Change)>,
    ) -> Result<Vec<BindingRecord>, StoreError> {
        let writes: Vec<BindingWrite<'_>> = changes
            .iter()
            .map(|(current, change)| BindingWrite {
                current: *current,
                updated: Some(&change.updated),
                history: &change.history,
                event: change.event.as_ref(),
            })
            .collect();
        let sequences = self.store.write_bindings(&writes).await?;
        if let Some(last) = sequences.into_iter().flatten().max() {
            self.log.published(last);
        }
        Ok(changes
            .into_iter()
            .map(|(_, change)| {
                self.replan(&change.updated);
                change.updated
            })
            .collect())
    }

    /// Writes the change `apply` makes to the stored binding, recomputing it when
    /// another write got there first; publishes its event and plans the next sync.
    pub async fn commit(
        &self,
        binding: &BindingRecord,
        apply: impl Fn(&BindingRecord) -> Change,
    ) -> Result<BindingRecord> {
        let mut current = binding.clone();
        for _ in 0..WRITE_ATTEMPTS {
            match self.write(Some(&current), apply(&current)).await {
                Ok(updated) => return Ok(updated),
                Err(StoreError::Changed) => {
                    current = self
                        .store
                        .get_binding(&binding.org_id, &binding.id)
                        .await
                        .map_err(crate::connections::store_failure)?
                        .ok_or_else(|| crate::bindings::not_found(&binding.id))?;
                }
                Err(error) => return Err(crate::connections::store_failure(error)),
            }
        }
        Err(Error::internal(
            "the binding is being changed concurrently; retry",
        ))
    }

    /// Puts a stored binding on the agenda as its record says.
    pub fn replan(&self, binding: &BindingRecord) {
        match (binding.enabled, binding.next_sync_time) {
            (true, Some(at)) => self.plan(binding, at),
            _ => self.cancel(&binding.org_id, &binding.id),
        }
    }

    async fn prune_forever(&self) {
        let mut every = tokio::time::interval(Duration::from_secs(3600));
        loop {
            every.tick().await;
            let before = now_micros() - micros(self.settings.retention);
            match self.store.prune_updates(before).await {
                Ok(0) => {}
                Ok(removed) => tracing::info!(removed, "pruned update events past retention"),
                Err(error) => tracing::warn!(%error, "cannot prune the update log"),
            }
        }
    }

    /// Reads one binding's value now (Sync now), with `budget`.
    pub async fn read_now(
        &self,
        connector: &Arc<dyn Connector>,
        binding: &BindingRecord,
        budget: Duration,
    ) -> Result<(Reading, ResultTable)> {
        let resolved = connector.resolve(&binding.source, budget).await?;
        let Some(query) = resolved.query else {
            let reason = resolved.chart.unsupported_reason.unwrap_or_default();
            return Err(ConnectorError::new(Reason::ChartUnsupported, reason).into());
        };
        let table = connector.run(&query, RunMode::Interactive, budget).await?;
        let reading = selection::select(&resolved.chart, &table, &binding.selection)?;
        Ok((reading, table))
    }
}

/// A source and the ids of the due bindings that read it.
type SourceGroup = (SourceRef, Vec<String>);

fn tagged(source: SourceRef, members: Vec<String>) -> Vec<(String, SourceRef)> {
    members
        .into_iter()
        .map(|binding_id| (binding_id, source.clone()))
        .collect()
}

/// What one sync read for one binding.
enum Read {
    Value(ValueRecord),
    Failed(Error),
}

fn failed(
    bindings: impl IntoIterator<Item = BindingRecord>,
    error: &Error,
) -> Vec<(BindingRecord, Read)> {
    bindings
        .into_iter()
        .map(|binding| (binding, Read::Failed(error.clone())))
        .collect()
}

async fn permits<'a>(
    limit: &'a Semaphore,
    global: &'a Semaphore,
) -> (
    tokio::sync::SemaphorePermit<'a>,
    tokio::sync::SemaphorePermit<'a>,
) {
    let connection = limit.acquire().await.expect("semaphores are never closed");
    let global = global.acquire().await.expect("semaphores are never closed");
    (connection, global)
}

pub fn value_record(reading: &Reading, table: &ResultTable, now: UnixMicros) -> ValueRecord {
    ValueRecord {
        exact: reading.value.to_string(),
        raw: reading.raw.clone(),
        rendered: reading.rendered.clone(),
        data_as_of: table.data_as_of.map(system_micros),
        fetched_at: now,
        from_cache: table.from_cache,
        x_value: reading.x_value.clone(),
        y_field: reading.y_field.clone(),
        pivot_key: reading.pivot_key.clone(),
    }
}

fn system_micros(time: std::time::SystemTime) -> UnixMicros {
    time.duration_since(std::time::UNIX_EPOCH)
        .map(micros)
        .unwrap_or_default()
}
