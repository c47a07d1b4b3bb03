//! Bindings: one key result linked to one value, kept current by the sync engine.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime};

use kpilink_connector::{Reason, ResultTable, SourceRef};

use crate::connections::{ConnectionPatch, Connections, store_failure};
use crate::discovery::Discovery;
use crate::error::{Code, Error, Result, Violation};
use crate::paging::{Page, finish_page};
use crate::selection::{self, Reading, Selection, XChoice};
use crate::store::{
    BindingFilter, BindingRecord, BindingState, ConnectionRecord, HistoryRecord, Store, StoreError,
};
use crate::sync::{Audience, Engine, outcome, value_record};
use crate::time::{UnixMicros, now_micros};
use crate::validate;

const LIST: &str = "bindings";
const HISTORY_LIST: &str = "history";

pub struct NewBinding {
    pub key_result_id: String,
    pub connection_id: String,
    pub source: SourceRef,
    pub selection: Selection,
    pub enabled: bool,
    pub sync_interval: Option<Duration>,
    pub backfill_since: Option<SystemTime>,
}

#[derive(Default)]
pub struct BindingPatch {
    pub enabled: Option<bool>,
    pub source: Option<SourceRef>,
    pub selection: Option<Selection>,
    /// `Some(None)` restores the default.
    pub sync_interval: Option<Option<Duration>>,
}

pub struct Bindings {
    store: Arc<dyn Store>,
    connections: Arc<Connections>,
    discovery: Arc<Discovery>,
    engine: Arc<Engine>,
    /// One "Sync now" at a time per binding; concurrent callers share its result.
    syncing: Mutex<HashMap<(String, String), SyncTurn>>,
}

type SyncTurn = Arc<tokio::sync::Mutex<()>>;

impl Bindings {
    pub fn new(
        store: Arc<dyn Store>,
        connections: Arc<Connections>,
        discovery: Arc<Discovery>,
        engine: Arc<Engine>,
    ) -> Self {
        Bindings {
            store,
            connections,
            discovery,
            engine,
            syncing: Mutex::new(HashMap::new()),
        }
    }

    pub fn engine(&self) -> &Arc<Engine> {
        &self.engine
    }

    /// Runs the selection once, and stores the binding with its first value.
    pub async fn create(&self, org_id: &str, input: NewBinding) -> Result<BindingRecord> {
        let mut violations = Vec::new();
        validate::id("org_id", org_id, &mut violations);
        validate::id("key_result_id", &input.key_result_id, &mut violations);
        validate::id("connection_id", &input.connection_id, &mut violations);
        let interval = self.check_interval(input.sync_interval, &mut violations);
        validate::finish(violations)?;
        // Checked before the (possibly slow) first read; the store enforces it too.
        if self
            .store
            .binding_for_key_result(org_id, &input.key_result_id)
            .await
            .map_err(store_failure)?
            .is_some()
        {
            return Err(kr_taken(&input.key_result_id));
        }
        let (reading, table) = self
            .discovery
            .read(
                org_id,
                &input.connection_id,
                &input.source,
                &input.selection,
            )
            .await?;
        let now = now_micros();
        let value = value_record(&reading, &table, now);
        let mut history = match input.backfill_since {
            Some(since) => backfill(&reading, &table, since, now)?,
            None => Vec::new(),
        };
        history.push(HistoryRecord {
            value: value.clone(),
            backfilled: false,
        });
        let state = if input.enabled {
            outcome::status(BindingState::Ok, "", "", now)
        } else {
            outcome::status(BindingState::Disabled, "", "", now)
        };
        let record = BindingRecord {
            id: format!("bnd_{}", uuid::Uuid::now_v7().simple()),
            org_id: org_id.to_owned(),
            key_result_id: input.key_result_id,
            connection_id: input.connection_id,
            source: input.source,
            // The stored selection keeps the user's choices; defaults are resolved at each read.
            selection: input.selection,
            enabled: input.enabled,
            sync_interval_ms: millis(interval),
            current: Some(value.clone()),
            status: state.clone(),
            last_sync_time: Some(now),
            next_sync_time: None,
            create_time: now,
            update_time: now,
            failures: 0,
        };
        let record = BindingRecord {
            next_sync_time: record.enabled.then(|| self.engine.next_time(&record, now)),
            ..record
        };
        let event = crate::store::UpdateRecord {
            sequence: 0,
            org_id: record.org_id.clone(),
            binding_id: record.id.clone(),
            key_result_id: record.key_result_id.clone(),
            value: Some(value.exact),
            previous_value: None,
            status: state,
            observed_at: now,
        };
        let key_result_id = record.key_result_id.clone();
        let change = outcome::Change {
            updated: record,
            history,
            event: Some(event),
        };
        match self.engine.write(None, change).await {
            Ok(record) => {
                tracing::info!(org_id, binding_id = %record.id, key_result_id = %record.key_result_id, "binding created");
                Ok(record)
            }
            Err(StoreError::KeyResultTaken) => Err(kr_taken(&key_result_id)),
            Err(error) => Err(store_failure(error)),
        }
    }

    pub async fn get(&self, org_id: &str, binding_id: &str) -> Result<BindingRecord> {
        check_ids(org_id, binding_id)?;
        self.store
            .get_binding(org_id, binding_id)
            .await
            .map_err(store_failure)?
            .ok_or_else(|| not_found(binding_id))
    }

    pub async fn list(
        &self,
        org_id: &str,
        filter: BindingFilter,
        page_size: i32,
        page_token: &str,
    ) -> Result<(Vec<BindingRecord>, String)> {
        let mut violations = Vec::new();
        validate::id("org_id", org_id, &mut violations);
        validate::finish(violations)?;
        let page = Page::parse(LIST, page_size, page_token)?;
        let records = self
            .store
            .list_bindings(org_id, page.after.as_deref(), page.size + 1, &filter)
            .await
            .map_err(store_failure)?;
        Ok(finish_page(LIST, records, page.size, |r| r.id.as_str()))
    }

    pub async fn update(
        &self,
        org_id: &str,
        binding_id: &str,
        patch: BindingPatch,
    ) -> Result<BindingRecord> {
        let current = self.get(org_id, binding_id).await?;
        let mut violations = Vec::new();
        let interval = patch
            .sync_interval
            .map(|interval| self.check_interval(interval, &mut violations));
        validate::finish(violations)?;
        let now = now_micros();
        let mut updated = current.clone();
        updated.update_time = now.max(current.update_time + 1);
        if let Some(interval) = interval {
            updated.sync_interval_ms = millis(interval);
        }
        let rereads = patch.source.is_some() || patch.selection.is_some();
        if let Some(source) = patch.source {
            updated.source = source;
        }
        if let Some(selection) = patch.selection {
            updated.selection = selection;
        }
        let mut history = Vec::new();
        if rereads {
            // A new source or selection is validated like a new binding.
            let (reading, table) = self
                .discovery
                .read(
                    org_id,
                    &updated.connection_id,
                    &updated.source,
                    &updated.selection,
                )
                .await?;
            let value = value_record(&reading, &table, now);
            if updated.current.as_ref().map(|v| &v.exact) != Some(&value.exact) {
                history.push(HistoryRecord {
                    value: value.clone(),
                    backfilled: false,
                });
            }
            updated.current = Some(value);
            updated.last_sync_time = Some(now);
            updated.failures = 0;
            if updated.status.state != BindingState::Ok {
                updated.status = outcome::status(BindingState::Ok, "", "", now);
            }
        }
        match patch.enabled {
            Some(false) => {
                updated.enabled = false;
                updated.status = outcome::status(BindingState::Disabled, "", "", now);
                updated.next_sync_time = None;
            }
            Some(true) if !current.enabled => {
                updated.enabled = true;
                updated.status = outcome::status(BindingState::Pending, "", "", now);
                updated.next_sync_time = Some(now);
            }
            _ => {}
        }
        if updated.enabled && (interval.is_some() || rereads) && patch.enabled != Some(true) {
            updated.next_sync_time = Some(self.engine.next_time(&updated, now));
        }
        let mut change = outcome::restated(&current, updated, now);
        change.history.extend(history);
        let stored = self.write(&current, change).await?;
        tracing::info!(org_id, binding_id, "binding updated");
        Ok(stored)
    }

    pub async fn delete(&self, org_id: &str, binding_id: &str) -> Result<()> {
        let current = self.get(org_id, binding_id).await?;
        match self
            .store
            .write_binding(Some(&current), None, &[], None)
            .await
        {
            Ok(_) => {
                self.engine.cancel(org_id, binding_id);
                tracing::info!(org_id, binding_id, "binding deleted");
                Ok(())
            }
            Err(StoreError::Changed) => Err(Error::new(
                Code::Unavailable,
                Reason::Internal,
                "the binding changed while being deleted; retry",
            )),
            Err(error) => Err(store_failure(error)),
        }
    }

    /// "Sync now": reads the value within the connection's deadline and returns
    /// the fresh binding, or the typed error (which the binding's state also
    /// records). Concurrent calls for one binding share one fetch.
    pub async fn sync_now(&self, org_id: &str, binding_id: &str) -> Result<BindingRecord> {
        check_ids(org_id, binding_id)?;
        let asked_at = now_micros();
        let lock = self
            .syncing
            .lock()
            .expect("sync lock")
            .entry((org_id.to_owned(), binding_id.to_owned()))
            .or_default()
            .clone();
        let _turn = lock.lock().await;
        let binding = self.get(org_id, binding_id).await?;
        if !binding.enabled {
            return Err(Error::new(
                Code::FailedPrecondition,
                Reason::BindingDisabled,
                "the binding is disabled; enable it to sync",
            ));
        }
        // Someone synced it while this call waited: share that result.
        if binding.last_sync_time.is_some_and(|t| t >= asked_at) {
            return match binding.status.state {
                BindingState::Error | BindingState::Broken => Err(status_error(&binding)),
                _ => Ok(binding),
            };
        }
        let (connector, deadline) = self
            .connections
            .connector(org_id, &binding.connection_id)
            .await?;
        let started = Instant::now();
        let read = self.engine.read_now(&connector, &binding, deadline).await;
        tracing::debug!(binding_id, elapsed = ?started.elapsed(), "sync now");
        match read {
            Ok((reading, table)) => {
                let value = value_record(&reading, &table, now_micros());
                self.engine
                    .commit(&binding, |current| {
                        let now = now_micros();
                        let next = self.engine.next_time(current, now);
                        outcome::succeeded(current, value.clone(), now, next)
                    })
                    .await
            }
            Err(error) => {
                self.engine
                    .commit(&binding, |current| {
                        outcome::failed(current, &error, now_micros(), 1.0)
                    })
                    .await?;
                Err(error)
            }
        }
    }

    /// Every distinct value, newest first.
    pub async fn history(
        &self,
        org_id: &str,
        binding_id: &str,
        page_size: i32,
        page_token: &str,
    ) -> Result<(Vec<HistoryRecord>, String)> {
        self.get(org_id, binding_id).await?;
        let page = Page::parse(HISTORY_LIST, page_size, page_token)?;
        let before = match &page.after {
            Some(text) => Some(text.parse::<u64>().map_err(|_| {
                Error::field(
                    "page_token",
                    Reason::PageTokenInvalid,
                    "is not a token this list returned",
                )
            })?),
            None => None,
        };
        let entries = self
            .store
            .history(org_id, binding_id, before, page.size + 1)
            .await
            .map_err(store_failure)?;
        let mut keyed: Vec<(String, HistoryRecord)> = entries
            .into_iter()
            .map(|(id, entry)| (id.to_string(), entry))
            .collect();
        let next = if keyed.len() > page.size {
            keyed.truncate(page.size);
            keyed
                .last()
                .map(|(id, _)| Page::token_after(HISTORY_LIST, id))
                .unwrap_or_default()
        } else {
            String::new()
        };
        Ok((keyed.into_iter().map(|(_, entry)| entry).collect(), next))
    }

    pub fn watch(
        &self,
        audience: Audience,
        after_sequence: u64,
    ) -> tokio::sync::mpsc::Receiver<anyhow::Result<crate::store::UpdateRecord>> {
        self.engine.log().follow(audience, after_sequence)
    }

    /// Updates a connection; bindings that failed on its configuration
    /// (`ERROR`, e.g. bad credentials) are re-armed to sync now.
    pub async fn update_connection(
        &self,
        org_id: &str,
        connection_id: &str,
        patch: ConnectionPatch,
    ) -> Result<ConnectionRecord> {
        let record = self
            .connections
            .update(org_id, connection_id, patch)
            .await?;
        let bindings = self
            .store
            .bindings_of_connection(org_id, connection_id)
            .await
            .map_err(store_failure)?;
        for binding in bindings
            .iter()
            .filter(|b| b.enabled && b.status.state == BindingState::Error)
        {
            let rearmed = self
                .engine
                .commit(binding, |current| {
                    let now = now_micros();
                    let mut updated = current.clone();
                    updated.status = outcome::status(BindingState::Pending, "", "", now);
                    updated.next_sync_time = Some(now);
                    outcome::restated(current, updated, now)
                })
                .await;
            if let Err(error) = rearmed {
                tracing::warn!(%error, binding_id = %binding.id, "cannot re-arm a binding");
            }
        }
        Ok(record)
    }

    /// Deletes a connection: refused while bindings use it, unless `force`,
    /// which disables them first. Returns how many were disabled.
    pub async fn delete_connection(
        &self,
        org_id: &str,
        connection_id: &str,
        force: bool,
    ) -> Result<u32> {
        self.connections.get(org_id, connection_id).await?;
        let bindings = self
            .store
            .bindings_of_connection(org_id, connection_id)
            .await
            .map_err(store_failure)?;
        if !bindings.is_empty() && !force {
            return Err(Error::new(
                Code::FailedPrecondition,
                Reason::ConnectionInUse,
                format!(
                    "{} binding(s) use this connection; delete them or pass force to disable them",
                    bindings.len()
                ),
            ));
        }
        let mut disabled = 0;
        for binding in bindings.iter().filter(|b| b.enabled) {
            self.engine
                .commit(binding, |current| {
                    let now = now_micros();
                    let mut updated = current.clone();
                    updated.enabled = false;
                    updated.status = outcome::status(
                        BindingState::Disabled,
                        Reason::ConnectionNotFound.as_str(),
                        "its connection was deleted",
                        now,
                    );
                    updated.next_sync_time = None;
                    outcome::restated(current, updated, now)
                })
                .await?;
            disabled += 1;
        }
        self.connections.delete(org_id, connection_id).await?;
        Ok(disabled)
    }

    async fn write(
        &self,
        current: &BindingRecord,
        change: outcome::Change,
    ) -> Result<BindingRecord> {
        match self.engine.write(Some(current), change).await {
            Ok(updated) => Ok(updated),
            Err(StoreError::Changed) => Err(Error::new(
                Code::Unavailable,
                Reason::Internal,
                "the binding changed concurrently; retry",
            )),
            Err(error) => Err(store_failure(error)),
        }
    }

    fn check_interval(
        &self,
        interval: Option<Duration>,
        violations: &mut Vec<Violation>,
    ) -> Duration {
        let settings = self.engine.settings();
        let interval = interval.unwrap_or(settings.default_interval);
        if interval < settings.min_interval {
            violations.push(Violation::new(
                "sync_interval",
                Reason::FieldInvalid,
                format!(
                    "must be at least {}",
                    humantime::format_duration(settings.min_interval)
                ),
            ));
        }
        interval
    }
}

/// History entries for the periods of a time axis since `since`, before the
/// one the binding reads, oldest first.
fn backfill(
    reading: &Reading,
    table: &ResultTable,
    since: SystemTime,
    now: UnixMicros,
) -> Result<Vec<HistoryRecord>> {
    let Some(x_field) = reading.x_field.as_deref() else {
        return Err(Error::field(
            "backfill_since",
            Reason::FieldInvalid,
            "backfill needs a chart with a time x axis",
        ));
    };
    let field = table
        .field(x_field)
        .expect("the reading's x field is in its table");
    if !selection::is_time_field(field) {
        return Err(Error::field(
            "backfill_since",
            Reason::FieldInvalid,
            format!("backfill needs a time x axis; {x_field} is not one"),
        ));
    }
    let since_key = crate::time::civil_date(since);
    let mut periods: Vec<(Vec<i64>, String)> = table
        .rows
        .iter()
        .filter_map(|row| selection::row_period(row, field))
        .filter(|(key, _)| selection::period_start(key, field) >= since_key)
        .collect();
    periods.sort();
    let chosen = reading.x_value.clone();
    let mut entries = Vec::new();
    for (_, period) in periods {
        if Some(&period) == chosen.as_ref() {
            break;
        }
        let selection = Selection {
            x_field: Some(x_field.to_owned()),
            x: XChoice::Value(period.clone()),
            ..reading.resolved.clone()
        };
        // Empty or odd earlier periods are simply not imported.
        let chart = kpilink_connector::ChartInfo::default();
        if let Ok(earlier) = selection::select(&chart, table, &selection) {
            entries.push(HistoryRecord {
                value: value_record(&earlier, table, now),
                backfilled: true,
            });
        }
    }
    Ok(entries)
}

fn status_error(binding: &BindingRecord) -> Error {
    let reason = Reason::ALL
        .iter()
        .copied()
        .find(|r| r.as_str() == binding.status.reason)
        .unwrap_or(Reason::Internal);
    Error::from(kpilink_connector::ConnectorError::new(
        reason,
        binding.status.message.clone(),
    ))
}

fn check_ids(org_id: &str, binding_id: &str) -> Result<()> {
    let mut violations = Vec::new();
    validate::id("org_id", org_id, &mut violations);
    validate::id("binding_id", binding_id, &mut violations);
    validate::finish(violations)
}

pub(crate) fn not_found(binding_id: &str) -> Error {
    Error::new(
        Code::NotFound,
        Reason::BindingNotFound,
        format!("binding {binding_id:?} not found"),
    )
}

fn kr_taken(key_result_id: &str) -> Error {
    Error::new(
        Code::AlreadyExists,
        Reason::BindingExists,
        format!("key result {key_result_id:?} already has a binding"),
    )
}

fn millis(duration: Duration) -> u64 {
    u64::try_from(duration.as_millis()).unwrap_or(u64::MAX)
}
