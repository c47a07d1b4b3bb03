//! Connections to data sources: create, read, list, update, delete.
//!
//! Free of tonic: takes plain inputs, returns [`ConnectionRecord`]s or a domain
//! [`Error`]. Secrets are sealed before they reach the store and never leave it
//! in plaintext.

mod settings;

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use kpilink_connector::{CheckFailure, Registry};
use secrecy::SecretString;

use crate::error::{Code, Error, Reason, Result, Violation};
use crate::paging::{Page, finish_page};
use crate::security::{Sealer, SecretSlot};
use crate::sources::SourcePool;
use crate::store::{ConnectionRecord, ConnectionTestRecord, SealedSecret, Store, StoreError};
use crate::time::now_micros;
use crate::validate;

pub const DEFAULT_QUERY_TIMEOUT: Duration = Duration::from_secs(40);
pub const MIN_QUERY_TIMEOUT: Duration = Duration::from_secs(1);
pub const MAX_QUERY_TIMEOUT: Duration = Duration::from_secs(600);
pub const MAX_DISPLAY_NAME_CHARS: usize = 200;
const LIST: &str = "connections";
/// Retries of an update that raced with another write to the same connection.
const UPDATE_ATTEMPTS: usize = 5;

pub struct NewConnection {
    pub display_name: String,
    pub kind: String,
    pub settings: BTreeMap<String, String>,
    pub secrets: BTreeMap<String, SecretString>,
    pub query_timeout: Option<Duration>,
}

/// How an update changes a map: keep it, replace it whole, or set and remove keys.
pub enum MapPatch<V> {
    Keep,
    Replace(BTreeMap<String, V>),
    /// `None` removes the key.
    Merge(BTreeMap<String, Option<V>>),
}

pub struct ConnectionPatch {
    pub display_name: Option<String>,
    pub settings: MapPatch<String>,
    pub secrets: MapPatch<SecretString>,
    /// `Some(None)` restores the default.
    pub query_timeout: Option<Option<Duration>>,
}

pub struct Connections {
    store: Arc<dyn Store>,
    sealer: Arc<Sealer>,
    sources: Arc<SourcePool>,
}

impl Connections {
    pub fn new(store: Arc<dyn Store>, sealer: Arc<Sealer>, sources: Arc<SourcePool>) -> Self {
        Connections {
            store,
            sealer,
            sources,
        }
    }

    pub fn registry(&self) -> &Registry {
        self.sources.registry()
    }

    pub async fn create(&self, org_id: &str, input: NewConnection) -> Result<ConnectionRecord> {
        let mut violations = Vec::new();
        validate::id("org_id", org_id, &mut violations);
        let display_name = input.display_name.trim().to_owned();
        validate::text(
            "display_name",
            &display_name,
            MAX_DISPLAY_NAME_CHARS,
            &mut violations,
        );
        check_query_timeout(input.query_timeout, &mut violations);
        let factory = match input.kind.as_str() {
            "" => {
                violations.push(Violation::new("kind", Reason::FieldRequired, "is required"));
                None
            }
            kind => {
                let factory = self.registry().get(kind);
                if factory.is_none() {
                    violations.push(unknown_kind(kind, self.registry()));
                }
                factory
            }
        };
        let settings = settings::clean(input.settings);
        let secrets = settings::clean_secrets(input.secrets);
        if let Some(factory) = factory {
            let secret_names: Vec<&str> = secrets.keys().map(String::as_str).collect();
            settings::check(
                factory.as_ref(),
                self.sources.policy(),
                &settings,
                &secret_names,
                &mut violations,
            );
            settings::check_secret_values(&secrets, &mut violations);
        }
        validate::finish(violations)?;

        let id = new_connection_id();
        let now = now_micros();
        let record = ConnectionRecord {
            secrets: self.seal_all(org_id, &id, &secrets),
            id,
            org_id: org_id.to_owned(),
            display_name,
            kind: input.kind,
            settings,
            query_timeout_ms: millis(input.query_timeout.unwrap_or(DEFAULT_QUERY_TIMEOUT)),
            create_time: now,
            update_time: now,
            last_test: None,
        };
        match self.store.insert_connection(&record).await {
            Ok(()) => {
                tracing::info!(org_id, connection_id = %record.id, kind = %record.kind, "connection created");
                Ok(record)
            }
            Err(StoreError::NameTaken) => Err(name_taken(&record.display_name)),
            Err(error) => Err(store_failure(error)),
        }
    }

    pub async fn get(&self, org_id: &str, connection_id: &str) -> Result<ConnectionRecord> {
        check_ids(org_id, connection_id)?;
        self.store
            .get_connection(org_id, connection_id)
            .await
            .map_err(store_failure)?
            .ok_or_else(|| not_found(connection_id))
    }

    /// One page of the org's connections in creation order, and the next page's token.
    pub async fn list(
        &self,
        org_id: &str,
        page_size: i32,
        page_token: &str,
    ) -> Result<(Vec<ConnectionRecord>, String)> {
        let mut violations = Vec::new();
        validate::id("org_id", org_id, &mut violations);
        validate::finish(violations)?;
        let page = Page::parse(LIST, page_size, page_token)?;
        let records = self
            .store
            .list_connections(org_id, page.after.as_deref(), page.size + 1)
            .await
            .map_err(store_failure)?;
        Ok(finish_page(LIST, records, page.size, |r| r.id.as_str()))
    }

    pub async fn update(
        &self,
        org_id: &str,
        connection_id: &str,
        patch: ConnectionPatch,
    ) -> Result<ConnectionRecord> {
        check_ids(org_id, connection_id)?;
        for _ in 0..UPDATE_ATTEMPTS {
            let current = self.get(org_id, connection_id).await?;
            let updated = self.apply(&current, &patch)?;
            match self.store.replace_connection(&current, &updated).await {
                Ok(()) => {
                    tracing::info!(org_id, connection_id, "connection updated");
                    // The next call builds a connector with the new settings; the old
                    // one logs out.
                    self.sources.forget(org_id, connection_id);
                    return Ok(updated);
                }
                Err(StoreError::Changed) => continue,
                Err(StoreError::NameTaken) => return Err(name_taken(&updated.display_name)),
                Err(error) => return Err(store_failure(error)),
            }
        }
        Err(Error::new(
            Code::Unavailable,
            Reason::Internal,
            "the connection is being changed concurrently; retry",
        ))
    }

    /// Deletes the connection and ends its source session. The binding service
    /// checks first that no binding uses it (or disables them).
    pub async fn delete(&self, org_id: &str, connection_id: &str) -> Result<()> {
        check_ids(org_id, connection_id)?;
        let existed = self
            .store
            .delete_connection(org_id, connection_id)
            .await
            .map_err(store_failure)?;
        if !existed {
            return Err(not_found(connection_id));
        }
        self.sources.forget(org_id, connection_id);
        tracing::info!(org_id, connection_id, "connection deleted");
        Ok(())
    }

    /// The live connector of a connection and its interactive deadline.
    pub async fn connector(
        &self,
        org_id: &str,
        connection_id: &str,
    ) -> Result<(Arc<dyn kpilink_connector::Connector>, Duration)> {
        let record = self.get(org_id, connection_id).await?;
        let connector = self.sources.connector(&record)?;
        Ok((connector, Duration::from_millis(record.query_timeout_ms)))
    }

    /// Logs in to the source within the connection's query timeout and records
    /// the outcome as the connection's `last_test`.
    pub async fn test(&self, org_id: &str, connection_id: &str) -> Result<ConnectionTestRecord> {
        let record = self.get(org_id, connection_id).await?;
        let connector = self.sources.connector(&record)?;
        let started = Instant::now();
        let outcome = connector
            .check(Duration::from_millis(record.query_timeout_ms))
            .await;
        let latency_ms = u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX);
        let test = match outcome {
            Ok(info) => ConnectionTestRecord {
                test_time: now_micros(),
                success: true,
                reason: String::new(),
                message: "logged in".to_owned(),
                latency_ms,
                outcome: "SUCCESS".to_owned(),
                source_version: info.version,
            },
            Err(failure) => ConnectionTestRecord {
                test_time: now_micros(),
                success: false,
                reason: failure.error.reason.as_str().to_owned(),
                message: failure.error.message,
                latency_ms,
                outcome: outcome_name(failure.failure).to_owned(),
                source_version: None,
            },
        };
        tracing::info!(org_id, connection_id, outcome = %test.outcome, latency_ms, "connection tested");
        self.record_test(&record, &test).await?;
        Ok(test)
    }

    /// Stores `test` as the last test, unless the connection changed or went away
    /// meanwhile (then the test describes a version that no longer exists).
    async fn record_test(
        &self,
        tested: &ConnectionRecord,
        test: &ConnectionTestRecord,
    ) -> Result<()> {
        let updated = ConnectionRecord {
            last_test: Some(test.clone()),
            ..tested.clone()
        };
        match self.store.replace_connection(tested, &updated).await {
            Ok(()) | Err(StoreError::Changed) => Ok(()),
            Err(error) => Err(store_failure(error)),
        }
    }

    /// The record after `patch`, validated as a whole.
    fn apply(
        &self,
        current: &ConnectionRecord,
        patch: &ConnectionPatch,
    ) -> Result<ConnectionRecord> {
        let mut violations = Vec::new();
        let mut updated = current.clone();
        if let Some(name) = &patch.display_name {
            updated.display_name = name.trim().to_owned();
            validate::text(
                "display_name",
                &updated.display_name,
                MAX_DISPLAY_NAME_CHARS,
                &mut violations,
            );
        }
        if let Some(timeout) = patch.query_timeout {
            check_query_timeout(timeout, &mut violations);
            updated.query_timeout_ms = millis(timeout.unwrap_or(DEFAULT_QUERY_TIMEOUT));
        }
        match &patch.settings {
            MapPatch::Keep => {}
            MapPatch::Replace(settings) => updated.settings = settings::clean(settings.clone()),
            MapPatch::Merge(changes) => {
                for (name, value) in changes {
                    match value.as_deref().map(str::trim) {
                        Some(value) if !value.is_empty() => {
                            updated.settings.insert(name.clone(), value.to_owned());
                        }
                        _ => {
                            updated.settings.remove(name);
                        }
                    }
                }
            }
        }
        let new_secrets = match &patch.secrets {
            MapPatch::Keep => BTreeMap::new(),
            MapPatch::Replace(secrets) => {
                updated.secrets.clear();
                settings::clean_secrets(secrets.clone())
            }
            MapPatch::Merge(changes) => {
                let mut set = BTreeMap::new();
                for (name, value) in changes {
                    updated.secrets.remove(name);
                    if let Some(value) = value {
                        set.insert(name.clone(), value.clone());
                    }
                }
                settings::clean_secrets(set)
            }
        };
        settings::check_secret_values(&new_secrets, &mut violations);
        let factory = self.registry().get(&updated.kind).ok_or_else(|| {
            Error::internal(format!("stored kind {:?} is not registered", updated.kind))
        })?;
        let secret_names: Vec<&str> = updated
            .secrets
            .keys()
            .chain(new_secrets.keys())
            .map(String::as_str)
            .collect();
        settings::check(
            factory.as_ref(),
            self.sources.policy(),
            &updated.settings,
            &secret_names,
            &mut violations,
        );
        validate::finish(violations)?;
        updated
            .secrets
            .extend(self.seal_all(&current.org_id, &current.id, &new_secrets));
        updated.update_time = now_micros().max(current.update_time + 1);
        Ok(updated)
    }

    fn seal_all(
        &self,
        org_id: &str,
        connection_id: &str,
        secrets: &BTreeMap<String, SecretString>,
    ) -> BTreeMap<String, SealedSecret> {
        secrets
            .iter()
            .map(|(field, value)| {
                let slot = SecretSlot {
                    org_id,
                    connection_id,
                    field,
                };
                (field.clone(), self.sealer.seal(slot, value))
            })
            .collect()
    }
}

fn outcome_name(failure: CheckFailure) -> &'static str {
    match failure {
        CheckFailure::BadCredentials => "BAD_CREDENTIALS",
        CheckFailure::Unreachable => "UNREACHABLE",
        CheckFailure::Tls => "TLS_ERROR",
        CheckFailure::Timeout => "TIMEOUT",
        CheckFailure::WrongUrl => "WRONG_URL",
        CheckFailure::NotAllowed => "URL_NOT_ALLOWED",
        CheckFailure::RateLimited => "RATE_LIMITED",
        CheckFailure::Other => "OTHER",
    }
}

fn new_connection_id() -> String {
    // UUIDv7 sorts by creation time, so listing by key lists in creation order.
    format!("con_{}", uuid::Uuid::now_v7().simple())
}

fn millis(duration: Duration) -> u64 {
    u64::try_from(duration.as_millis()).unwrap_or(u64::MAX)
}

fn check_ids(org_id: &str, connection_id: &str) -> Result<()> {
    let mut violations = Vec::new();
    validate::id("org_id", org_id, &mut violations);
    validate::id("connection_id", connection_id, &mut violations);
    validate::finish(violations)
}

fn check_query_timeout(timeout: Option<Duration>, violations: &mut Vec<Violation>) {
    if let Some(timeout) = timeout
        && !(MIN_QUERY_TIMEOUT..=MAX_QUERY_TIMEOUT).contains(&timeout)
    {
        violations.push(Violation::new(
            "query_timeout",
            Reason::FieldInvalid,
            "must be between 1s and 10m",
        ));
    }
}

fn unknown_kind(kind: &str, registry: &Registry) -> Violation {
    let known: Vec<&str> = registry.kinds().map(|factory| factory.kind()).collect();
    Violation::new(
        "kind",
        Reason::ConnectorKindUnknown,
        format!(
            "unknown connector kind {kind:?}; known: {}",
            known.join(", ")
        ),
    )
}

fn not_found(connection_id: &str) -> Error {
    Error::new(
        Code::NotFound,
        Reason::ConnectionNotFound,
        format!("connection {connection_id:?} not found"),
    )
}

fn name_taken(display_name: &str) -> Error {
    Error::new(
        Code::AlreadyExists,
        Reason::ConnectionNameTaken,
        format!("a connection named {display_name:?} already exists in this org"),
    )
}

pub(crate) fn store_failure(error: StoreError) -> Error {
    tracing::error!(%error, "store operation failed");
    Error::internal("storage failure; see the daemon log")
}
