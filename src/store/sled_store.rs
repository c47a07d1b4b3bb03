//! The sled implementation of [`Store`].

use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};

use async_trait::async_trait;
use sled::Transactional;
use sled::transaction::{ConflictableTransactionError, TransactionError, TransactionalTree};

use super::keys;
use super::migrate;
use super::records::{BindingFilter, BindingRecord, HistoryRecord, UpdateRecord};
use super::records::{ConnectionRecord, decode, encode};
use super::sled_bindings::BindingTrees;
use super::{BindingWrite, Store, StoreError, StoreResult};

/// sled's page cache; the default (1 GiB) is far more than kpilink's records need.
const CACHE_CAPACITY_BYTES: u64 = 64 * 1024 * 1024;

/// sled 0.34 guards every tree with one process-wide lock: transactions take it
/// exclusively, and a flush holds it shared while it waits for the disk. A
/// transaction queued behind a flush blocks sled's IO threads from taking the
/// lock, so the flush never finishes and the process deadlocks (seen with 64
/// concurrent writers). Writes and flushes therefore never overlap: both pass
/// this gate, process-wide like sled's lock, and one flush makes every write
/// before it durable (group commit).
static WRITE_GATE: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

pub struct SledStore {
    db: sled::Db,
    meta: sled::Tree,
    connections: sled::Tree,
    connection_names: sled::Tree,
    bindings: BindingTrees,
    /// Writes made so far, and how many of them are known to be on disk.
    written: AtomicU64,
    durable: AtomicU64,
}

impl SledStore {
    /// Opens (or creates) the database in `dir` and migrates it to the current
    /// schema. Fails if another process holds the directory.
    pub fn open(dir: &Path) -> StoreResult<Self> {
        let db = sled::Config::new()
            .path(dir)
            .cache_capacity(CACHE_CAPACITY_BYTES)
            // Every acknowledged write flushes through the gate; sled's own
            // timed flusher would be a flush outside it.
            .flush_every_ms(None)
            .open()?;
        let found = migrate::read_version(&db)?;
        migrate::migrate(&db, found)?;
        db.flush()?;
        Ok(SledStore {
            meta: db.open_tree("meta")?,
            connections: db.open_tree("connections")?,
            connection_names: db.open_tree("connection_names")?,
            bindings: BindingTrees::open(&db)?,
            db,
            written: AtomicU64::new(0),
            durable: AtomicU64::new(0),
        })
    }

    /// Makes a change through the write gate; [`SledStore::flush`] makes it durable.
    async fn change<T>(&self, write: impl FnOnce() -> StoreResult<T>) -> StoreResult<T> {
        let _gate = WRITE_GATE.lock().await;
        // A batch of a sync cycle takes tens of milliseconds: the worker hands
        // its other tasks (serving, Looker calls) to another thread meanwhile.
        let result = match tokio::runtime::Handle::current().runtime_flavor() {
            tokio::runtime::RuntimeFlavor::MultiThread => tokio::task::block_in_place(write),
            _ => write(),
        };
        self.written.fetch_add(1, Ordering::SeqCst);
        result
    }

    /// Waits until every write so far is durable. Writers waiting together
    /// share one flush.
    async fn flush(&self) -> StoreResult<()> {
        let wanted = self.written.load(Ordering::SeqCst);
        if self.durable.load(Ordering::SeqCst) >= wanted {
            return Ok(());
        }
        let _gate = WRITE_GATE.lock().await;
        if self.durable.load(Ordering::SeqCst) >= wanted {
            return Ok(());
        }
        // No write happens while the gate is held: this flush covers them all.
        let covered = self.written.load(Ordering::SeqCst);
        self.db.flush_async().await?;
        self.durable.fetch_max(covered, Ordering::SeqCst);
        Ok(())
    }
}

/// Runs a two-tree transaction whose closure aborts with a [`StoreError`].
fn transact<T>(
    trees: (&sled::Tree, &sled::Tree),
    body: impl Fn(
        &TransactionalTree,
        &TransactionalTree,
    ) -> Result<T, ConflictableTransactionError<StoreError>>,
) -> StoreResult<T> {
    trees
        .transaction(|(a, b)| body(a, b))
        .map_err(|error| match error {
            TransactionError::Abort(error) => error,
            TransactionError::Storage(error) => StoreError::from(error),
        })
}

fn abort<T>(error: StoreError) -> Result<T, ConflictableTransactionError<StoreError>> {
    Err(ConflictableTransactionError::Abort(error))
}

#[async_trait]
impl Store for SledStore {
    async fn get_meta(&self, key: &str) -> StoreResult<Option<Vec<u8>>> {
        Ok(self.meta.get(key)?.map(|value| value.to_vec()))
    }

    async fn put_meta(&self, key: &str, value: &[u8]) -> StoreResult<()> {
        self.change(|| Ok(self.meta.insert(key, value).map(drop)?))
            .await?;
        self.flush().await
    }

    async fn insert_connection(&self, record: &ConnectionRecord) -> StoreResult<()> {
        let key = keys::scoped(&record.org_id, &record.id);
        let name_key = keys::connection_name(&record.org_id, &record.display_name);
        let value = encode(record);
        self.change(|| {
            transact(
                (&self.connections, &self.connection_names),
                |conns, names| {
                    if names.get(&name_key)?.is_some() {
                        return abort(StoreError::NameTaken);
                    }
                    names.insert(name_key.as_slice(), record.id.as_bytes())?;
                    conns.insert(key.as_slice(), value.as_slice())?;
                    Ok(())
                },
            )
        })
        .await?;
        self.flush().await
    }

    async fn get_connection(
        &self,
        org_id: &str,
        connection_id: &str,
    ) -> StoreResult<Option<ConnectionRecord>> {
        self.connections
            .get(keys::scoped(org_id, connection_id))?
            .map(|bytes| decode(&bytes))
            .transpose()
    }

    async fn list_connections(
        &self,
        org_id: &str,
        after_id: Option<&str>,
        limit: usize,
    ) -> StoreResult<Vec<ConnectionRecord>> {
        let prefix = keys::org_prefix(org_id);
        let start = match after_id {
            // The smallest key after `org \0 after_id`.
            Some(after) => {
                let mut key = keys::scoped(org_id, after);
                key.push(0);
                key
            }
            None => prefix.clone(),
        };
        let mut records = Vec::new();
        for entry in self.connections.range(start..) {
            let (key, value) = entry?;
            if !key.starts_with(&prefix) || records.len() == limit {
                break;
            }
            records.push(decode(&value)?);
        }
        Ok(records)
    }

    async fn replace_connection(
        &self,
        current: &ConnectionRecord,
        updated: &ConnectionRecord,
    ) -> StoreResult<()> {
        let key = keys::scoped(&current.org_id, &current.id);
        let expected = encode(current);
        let value = encode(updated);
        let old_name = keys::connection_name(&current.org_id, &current.display_name);
        let new_name = keys::connection_name(&updated.org_id, &updated.display_name);
        self.change(|| {
            transact(
                (&self.connections, &self.connection_names),
                |conns, names| {
                    if conns.get(&key)?.as_deref() != Some(expected.as_slice()) {
                        return abort(StoreError::Changed);
                    }
                    if new_name != old_name {
                        if names.get(&new_name)?.is_some() {
                            return abort(StoreError::NameTaken);
                        }
                        names.remove(old_name.as_slice())?;
                        names.insert(new_name.as_slice(), updated.id.as_bytes())?;
                    }
                    conns.insert(key.as_slice(), value.as_slice())?;
                    Ok(())
                },
            )
        })
        .await?;
        self.flush().await
    }

    async fn delete_connection(&self, org_id: &str, connection_id: &str) -> StoreResult<bool> {
        let key = keys::scoped(org_id, connection_id);
        let existed = self
            .change(|| {
                transact(
                    (&self.connections, &self.connection_names),
                    |conns, names| {
                        let Some(bytes) = conns.remove(key.as_slice())? else {
                            return Ok(false);
                        };
                        let record: ConnectionRecord =
                            decode(&bytes).map_err(ConflictableTransactionError::Abort)?;
                        names.remove(keys::connection_name(org_id, &record.display_name))?;
                        Ok(true)
                    },
                )
            })
            .await?;
        if existed {
            self.flush().await?;
        }
        Ok(existed)
    }

    async fn write_bindings(&self, writes: &[BindingWrite<'_>]) -> StoreResult<Vec<Option<u64>>> {
        let entries: usize = writes.iter().map(|w| w.history.len()).sum();
        let sequences = self
            .change(|| {
                // History ids: sled's generator is unique and monotonic across restarts.
                let history_ids = (0..entries)
                    .map(|_| self.db.generate_id())
                    .collect::<Result<Vec<u64>, _>>()?;
                self.bindings.write(writes, &history_ids)
            })
            .await?;
        self.flush().await?;
        Ok(sequences)
    }

    async fn get_binding(
        &self,
        org_id: &str,
        binding_id: &str,
    ) -> StoreResult<Option<BindingRecord>> {
        self.bindings.get(org_id, binding_id)
    }

    async fn binding_for_key_result(
        &self,
        org_id: &str,
        key_result_id: &str,
    ) -> StoreResult<Option<String>> {
        self.bindings.for_key_result(org_id, key_result_id)
    }

    async fn list_bindings(
        &self,
        org_id: &str,
        after_id: Option<&str>,
        limit: usize,
        filter: &BindingFilter,
    ) -> StoreResult<Vec<BindingRecord>> {
        self.bindings.list(org_id, after_id, limit, filter)
    }

    async fn bindings_of_connection(
        &self,
        org_id: &str,
        connection_id: &str,
    ) -> StoreResult<Vec<BindingRecord>> {
        self.bindings.of_connection(org_id, connection_id)
    }

    async fn all_bindings(&self) -> StoreResult<Vec<BindingRecord>> {
        self.bindings.all()
    }

    async fn history(
        &self,
        org_id: &str,
        binding_id: &str,
        before: Option<u64>,
        limit: usize,
    ) -> StoreResult<Vec<(u64, HistoryRecord)>> {
        self.bindings.history(org_id, binding_id, before, limit)
    }

    async fn updates(
        &self,
        after: u64,
        up_to: u64,
        limit: usize,
    ) -> StoreResult<Vec<UpdateRecord>> {
        self.bindings.updates(after, up_to, limit)
    }

    async fn last_sequence(&self) -> StoreResult<u64> {
        self.bindings.last_sequence()
    }

    async fn binding_state_counts(
        &self,
    ) -> StoreResult<std::collections::BTreeMap<&'static str, u64>> {
        Ok(self.bindings.state_counts())
    }

    async fn update_log_bounds(&self) -> StoreResult<(u64, u64)> {
        self.bindings.update_bounds()
    }

    async fn prune_updates(&self, before: crate::time::UnixMicros) -> StoreResult<usize> {
        let removed = self.change(|| self.bindings.prune(before)).await?;
        if removed > 0 {
            self.flush().await?;
        }
        Ok(removed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    fn record(org: &str, id: &str, name: &str) -> ConnectionRecord {
        ConnectionRecord {
            id: id.into(),
            org_id: org.into(),
            display_name: name.into(),
            kind: "looker".into(),
            settings: BTreeMap::new(),
            secrets: BTreeMap::new(),
            query_timeout_ms: 40_000,
            create_time: 1,
            update_time: 1,
            last_test: None,
        }
    }

    #[tokio::test]
    async fn names_are_unique_per_org_ignoring_case_and_freed_on_rename_and_delete() {
        let dir = tempfile::tempdir().unwrap();
        let store = SledStore::open(dir.path()).unwrap();
        store
            .insert_connection(&record("a", "c1", "Prod"))
            .await
            .unwrap();
        assert!(matches!(
            store.insert_connection(&record("a", "c2", "PROD")).await,
            Err(StoreError::NameTaken)
        ));
        // Another org may use the name.
        store
            .insert_connection(&record("b", "c3", "Prod"))
            .await
            .unwrap();

        let current = record("a", "c1", "Prod");
        let renamed = record("a", "c1", "Staging");
        store.replace_connection(&current, &renamed).await.unwrap();
        store
            .insert_connection(&record("a", "c4", "prod"))
            .await
            .unwrap();
        // A stale read is refused.
        assert!(matches!(
            store.replace_connection(&current, &renamed).await,
            Err(StoreError::Changed)
        ));
        assert!(store.delete_connection("a", "c1").await.unwrap());
        assert!(!store.delete_connection("a", "c1").await.unwrap());
        store
            .insert_connection(&record("a", "c5", "staging"))
            .await
            .unwrap();
    }

    #[tokio::test]
    async fn listing_pages_through_one_org_only() {
        let dir = tempfile::tempdir().unwrap();
        let store = SledStore::open(dir.path()).unwrap();
        for id in ["c1", "c2", "c3"] {
            store
                .insert_connection(&record("org", id, id))
                .await
                .unwrap();
        }
        store
            .insert_connection(&record("org2", "c0", "x"))
            .await
            .unwrap();
        let first = store.list_connections("org", None, 2).await.unwrap();
        let ids: Vec<_> = first.iter().map(|r| r.id.as_str()).collect();
        assert_eq!(ids, ["c1", "c2"]);
        let rest = store.list_connections("org", Some("c2"), 2).await.unwrap();
        let ids: Vec<_> = rest.iter().map(|r| r.id.as_str()).collect();
        assert_eq!(ids, ["c3"]);
    }

    fn binding(index: usize) -> BindingRecord {
        BindingRecord {
            id: format!("bnd_{index:06}"),
            org_id: "acme".into(),
            key_result_id: format!("kr-{index}"),
            connection_id: "con_1".into(),
            source: kpilink_connector::SourceRef::Look {
                look_id: "1".into(),
            },
            selection: Default::default(),
            enabled: true,
            sync_interval_ms: 60_000,
            current: None,
            status: crate::store::StatusRecord {
                state: crate::store::BindingState::Pending,
                reason: String::new(),
                message: String::new(),
                since: 0,
            },
            last_sync_time: None,
            next_sync_time: None,
            create_time: 0,
            update_time: 0,
            failures: 0,
        }
    }

    /// sled 0.34 deadlocked here without the write gate: transactions queued
    /// behind concurrent flushes.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn many_concurrent_writers_with_history_all_finish_and_are_counted() {
        const WRITERS: usize = 64;
        const EACH: usize = 150;
        let dir = tempfile::tempdir().unwrap();
        let store = std::sync::Arc::new(SledStore::open(dir.path()).unwrap());
        let mut writers = tokio::task::JoinSet::new();
        for writer in 0..WRITERS {
            let store = store.clone();
            writers.spawn(async move {
                for n in 0..EACH {
                    let mut record = binding(writer * EACH + n);
                    store
                        .write_binding(None, Some(&record), &[], None)
                        .await
                        .unwrap();
                    let before = record.clone();
                    record.status.state = crate::store::BindingState::Ok;
                    let event = UpdateRecord {
                        sequence: 0,
                        org_id: record.org_id.clone(),
                        binding_id: record.id.clone(),
                        key_result_id: record.key_result_id.clone(),
                        value: Some("1".into()),
                        previous_value: None,
                        status: record.status.clone(),
                        observed_at: 1,
                    };
                    let history = crate::store::HistoryRecord {
                        value: crate::store::ValueRecord {
                            exact: "1".into(),
                            raw: "1".into(),
                            rendered: None,
                            data_as_of: None,
                            fetched_at: 1,
                            from_cache: false,
                            x_value: None,
                            y_field: "f".into(),
                            pivot_key: None,
                        },
                        backfilled: false,
                    };
                    store
                        .write_binding(Some(&before), Some(&record), &[history], Some(&event))
                        .await
                        .unwrap();
                }
            });
        }
        let all = async {
            while let Some(writer) = writers.join_next().await {
                writer.unwrap();
            }
        };
        tokio::time::timeout(std::time::Duration::from_secs(120), all)
            .await
            .expect("every write finishes (no deadlock)");
        let total = (WRITERS * EACH) as u64;
        assert_eq!(store.last_sequence().await.unwrap(), total);
        let counts = store.binding_state_counts().await.unwrap();
        assert_eq!(counts, BTreeMap::from([("OK", total)]));
        assert_eq!(store.all_bindings().await.unwrap().len() as u64, total);
    }

    #[tokio::test]
    async fn a_newer_schema_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        {
            let db = sled::open(dir.path()).unwrap();
            db.open_tree("meta")
                .unwrap()
                .insert(migrate::SCHEMA_VERSION_KEY, &99u32.to_be_bytes())
                .unwrap();
            db.flush().unwrap();
        }
        let error = SledStore::open(dir.path()).err().expect("refused");
        assert!(error.to_string().contains("schema version 99"), "{error}");
    }
}
