//! Live connectors, one per connection, kept while the connection is unchanged
//! so that a source session (e.g. a Looker access token) is reused.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};

use kpilink_connector::http::HttpObserver;
use kpilink_connector::{ConnectionConfig, Connector, Registry, SourcePolicy};
use secrecy::SecretString;

use crate::error::{Error, Result};
use crate::security::{Sealer, SecretSlot};
use crate::store::ConnectionRecord;
use crate::time::UnixMicros;

type Key = (String, String);
/// A connector and the connection version (`update_time`) it was built from.
type Versioned = (UnixMicros, Arc<dyn Connector>);

pub struct SourcePool {
    registry: Arc<Registry>,
    sealer: Arc<Sealer>,
    policy: SourcePolicy,
    body_cap: usize,
    observer: Option<Arc<dyn HttpObserver>>,
    live: Mutex<HashMap<Key, Versioned>>,
}

impl SourcePool {
    pub fn new(
        registry: Arc<Registry>,
        sealer: Arc<Sealer>,
        policy: SourcePolicy,
        body_cap: usize,
        observer: Option<Arc<dyn HttpObserver>>,
    ) -> Self {
        SourcePool {
            registry,
            sealer,
            policy,
            body_cap,
            observer,
            live: Mutex::new(HashMap::new()),
        }
    }

    pub fn registry(&self) -> &Registry {
        &self.registry
    }

    pub fn policy(&self) -> &SourcePolicy {
        &self.policy
    }

    /// The connector of this version of the connection, built on first use.
    pub fn connector(&self, record: &ConnectionRecord) -> Result<Arc<dyn Connector>> {
        let key = (record.org_id.clone(), record.id.clone());
        if let Some((version, connector)) = self.live.lock().expect("pool lock").get(&key)
            && *version == record.update_time
        {
            return Ok(connector.clone());
        }
        let factory = self.registry.get(&record.kind).ok_or_else(|| {
            Error::internal(format!(
                "connector kind {:?} is not registered",
                record.kind
            ))
        })?;
        let config = ConnectionConfig {
            settings: record.settings.clone(),
            secrets: self.open_secrets(record)?,
            policy: self.policy.clone(),
            body_cap: self.body_cap,
            observer: self.observer.clone(),
        };
        let connector = factory.connect(config)?;
        let replaced = self
            .live
            .lock()
            .expect("pool lock")
            .insert(key, (record.update_time, connector.clone()));
        if let Some((_, old)) = replaced {
            close_later(old);
        }
        Ok(connector)
    }

    /// Drops the connection's connector and ends its source session (logout).
    pub fn forget(&self, org_id: &str, connection_id: &str) {
        let removed = self
            .live
            .lock()
            .expect("pool lock")
            .remove(&(org_id.to_owned(), connection_id.to_owned()));
        if let Some((_, connector)) = removed {
            close_later(connector);
        }
    }

    fn open_secrets(&self, record: &ConnectionRecord) -> Result<BTreeMap<String, SecretString>> {
        record
            .secrets
            .iter()
            .map(|(field, sealed)| {
                let slot = SecretSlot {
                    org_id: &record.org_id,
                    connection_id: &record.id,
                    field,
                };
                let secret = self.sealer.open(slot, sealed).map_err(|error| {
                    tracing::error!(connection_id = %record.id, field, %error, "a stored secret does not open");
                    Error::internal("a stored secret cannot be read; see the daemon log")
                })?;
                Ok((field.clone(), secret))
            })
            .collect()
    }
}

/// Closing talks to the source; it must not hold up the caller.
fn close_later(connector: Arc<dyn Connector>) {
    if let Ok(runtime) = tokio::runtime::Handle::try_current() {
        runtime.spawn(async move { connector.close().await });
    }
}
