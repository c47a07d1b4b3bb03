//! The sled side of bindings, their history and the update log.

use std::collections::BTreeMap;
use std::sync::Mutex;

use sled::Transactional;
use sled::transaction::{ConflictableTransactionError, TransactionError};

use super::BindingWrite;
use super::keys;
use super::records::{
    BindingFilter, BindingRecord, BindingState, HistoryRecord, UpdateRecord, decode, encode,
};
use super::{StoreError, StoreResult};

pub(super) const UPDATE_SEQUENCE_KEY: &str = "update_sequence";

pub(super) struct BindingTrees {
    pub(super) bindings: sled::Tree,
    /// `org \0 key_result_id` → binding id (one binding per key result).
    pub(super) key_results: sled::Tree,
    /// `org \0 connection_id \0 binding_id` → ().
    pub(super) by_connection: sled::Tree,
    /// `org \0 binding_id \0 u64` → history entry (ids grow with time).
    pub(super) history: sled::Tree,
    /// `u64 sequence` → update event.
    pub(super) updates: sled::Tree,
    pub(super) meta: sled::Tree,
    /// Bindings per state, counted at open and kept with every write, so a
    /// metrics scrape does not decode every binding.
    census: Mutex<BTreeMap<&'static str, u64>>,
}

/// Just the state of a stored binding (decoding it skips the rest).
#[derive(serde::Deserialize)]
struct StateOnly {
    status: StatusOnly,
}

#[derive(serde::Deserialize)]
struct StatusOnly {
    state: BindingState,
}

impl BindingTrees {
    pub(super) fn open(db: &sled::Db) -> StoreResult<Self> {
        let bindings = db.open_tree("bindings")?;
        let mut census = BTreeMap::new();
        for entry in bindings.iter() {
            let (_, value) = entry?;
            let binding: StateOnly = decode(&value)?;
            *census.entry(binding.status.state.name()).or_default() += 1;
        }
        Ok(BindingTrees {
            census: Mutex::new(census),
            bindings,
            key_results: db.open_tree("binding_key_results")?,
            by_connection: db.open_tree("binding_connections")?,
            history: db.open_tree("binding_history")?,
            updates: db.open_tree("updates")?,
            meta: db.open_tree("meta")?,
        })
    }

    /// Applies `writes` in one transaction: all or none (any `current` that is
    /// no longer stored aborts the batch with [`StoreError::Changed`]). Each
    /// write's history entries take their ids from `history_ids`, in order.
    pub(super) fn write(
        &self,
        writes: &[BindingWrite<'_>],
        history_ids: &[u64],
    ) -> StoreResult<Vec<Option<u64>>> {
        struct Encoded<'w> {
            write: &'w BindingWrite<'w>,
            key: Vec<u8>,
            expected: Option<Vec<u8>>,
            value: Option<Vec<u8>>,
            history: Vec<(Vec<u8>, Vec<u8>)>,
        }
        let mut ids = history_ids.iter();
        let encoded: Vec<Encoded<'_>> = writes
            .iter()
            .map(|write| {
                let subject = write.subject();
                Encoded {
                    write,
                    key: keys::scoped(&subject.org_id, &subject.id),
                    expected: write.current.map(encode),
                    value: write.updated.map(encode),
                    // Ids grow with time, so entries given oldest first sort oldest first.
                    history: write
                        .history
                        .iter()
                        .map(|entry| {
                            let id = ids.next().expect("an id per history entry");
                            (
                                history_key(&subject.org_id, &subject.id, *id),
                                encode(entry),
                            )
                        })
                        .collect(),
                }
            })
            .collect();
        let trees = (
            &self.bindings,
            &self.key_results,
            &self.by_connection,
            &self.history,
            &self.updates,
            &self.meta,
        );
        let result = trees.transaction(|(bindings, krs, conns, hist, updates, meta)| {
            let abort = |error| Err(ConflictableTransactionError::Abort(error));
            let mut sequence = meta
                .get(UPDATE_SEQUENCE_KEY)?
                .map(|bytes| read_u64(&bytes))
                .unwrap_or(0);
            let mut sequences = Vec::with_capacity(encoded.len());
            for item in &encoded {
                let write = item.write;
                match &item.expected {
                    None => {
                        let subject = write.subject();
                        let kr = keys::scoped(&subject.org_id, &subject.key_result_id);
                        if krs.get(&kr)?.is_some() {
                            return abort(StoreError::KeyResultTaken);
                        }
                        if bindings.get(&item.key)?.is_some() {
                            return abort(StoreError::Changed);
                        }
                    }
                    Some(expected) => {
                        if bindings.get(&item.key)?.as_deref() != Some(expected.as_slice()) {
                            return abort(StoreError::Changed);
                        }
                    }
                }
                // The indexes change only when what they index does (a sync
                // changes neither), so most writes skip them.
                let old_kr = write
                    .current
                    .map(|c| keys::scoped(&c.org_id, &c.key_result_id));
                let new_kr = write
                    .updated
                    .map(|u| keys::scoped(&u.org_id, &u.key_result_id));
                if old_kr != new_kr {
                    if let Some(old) = &old_kr {
                        krs.remove(old.as_slice())?;
                    }
                    if let (Some(new), Some(updated)) = (&new_kr, write.updated) {
                        krs.insert(new.as_slice(), updated.id.as_bytes())?;
                    }
                }
                let old_conn = write.current.map(connection_key);
                let new_conn = write.updated.map(connection_key);
                if old_conn != new_conn {
                    if let Some(old) = &old_conn {
                        conns.remove(old.as_slice())?;
                    }
                    if let Some(new) = &new_conn {
                        conns.insert(new.as_slice(), &[])?;
                    }
                }
                match (write.updated, &item.value) {
                    (Some(_), Some(value)) => {
                        bindings.insert(item.key.as_slice(), value.as_slice())?;
                    }
                    _ => {
                        bindings.remove(item.key.as_slice())?;
                    }
                }
                for (key, value) in &item.history {
                    hist.insert(key.as_slice(), value.as_slice())?;
                }
                let Some(event) = write.event else {
                    sequences.push(None);
                    continue;
                };
                sequence += 1;
                let stored = UpdateRecord {
                    sequence,
                    ..event.clone()
                };
                updates.insert(&sequence.to_be_bytes(), encode(&stored))?;
                sequences.push(Some(sequence));
            }
            if sequences.iter().any(Option::is_some) {
                meta.insert(UPDATE_SEQUENCE_KEY, &sequence.to_be_bytes())?;
            }
            Ok(sequences)
        });
        let sequences = result.map_err(|error| match error {
            TransactionError::Abort(error) => error,
            TransactionError::Storage(error) => StoreError::from(error),
        })?;
        for write in writes {
            self.count(write.current, -1);
            self.count(write.updated, 1);
            if write.updated.is_none() {
                // History goes with its binding; outside the transaction because it
                // is a range, and harmless if interrupted (no binding points at it).
                let subject = write.subject();
                for entry in self
                    .history
                    .scan_prefix(history_prefix(&subject.org_id, &subject.id))
                {
                    let (key, _) = entry?;
                    self.history.remove(key)?;
                }
            }
        }
        Ok(sequences)
    }

    pub(super) fn get(&self, org_id: &str, binding_id: &str) -> StoreResult<Option<BindingRecord>> {
        self.bindings
            .get(keys::scoped(org_id, binding_id))?
            .map(|bytes| decode(&bytes))
            .transpose()
    }

    pub(super) fn for_key_result(
        &self,
        org_id: &str,
        key_result_id: &str,
    ) -> StoreResult<Option<String>> {
        Ok(self
            .key_results
            .get(keys::scoped(org_id, key_result_id))?
            .map(|id| String::from_utf8_lossy(&id).into_owned()))
    }

    pub(super) fn list(
        &self,
        org_id: &str,
        after_id: Option<&str>,
        limit: usize,
        filter: &BindingFilter,
    ) -> StoreResult<Vec<BindingRecord>> {
        let prefix = keys::org_prefix(org_id);
        let start = match after_id {
            Some(after) => {
                let mut key = keys::scoped(org_id, after);
                key.push(0);
                key
            }
            None => prefix.clone(),
        };
        let mut records = Vec::new();
        for entry in self.bindings.range(start..) {
            let (key, value) = entry?;
            if !key.starts_with(&prefix) || records.len() == limit {
                break;
            }
            let record: BindingRecord = decode(&value)?;
            if filter.matches(&record) {
                records.push(record);
            }
        }
        Ok(records)
    }

    pub(super) fn of_connection(
        &self,
        org_id: &str,
        connection_id: &str,
    ) -> StoreResult<Vec<BindingRecord>> {
        let mut prefix = keys::scoped(org_id, connection_id);
        prefix.push(0);
        let mut records = Vec::new();
        for entry in self.by_connection.scan_prefix(&prefix) {
            let (key, _) = entry?;
            let binding_id = String::from_utf8_lossy(&key[prefix.len()..]).into_owned();
            if let Some(record) = self.get(org_id, &binding_id)? {
                records.push(record);
            }
        }
        Ok(records)
    }

    pub(super) fn all(&self) -> StoreResult<Vec<BindingRecord>> {
        self.bindings
            .iter()
            .map(|entry| {
                let (_, value) = entry?;
                decode(&value)
            })
            .collect()
    }

    pub(super) fn history(
        &self,
        org_id: &str,
        binding_id: &str,
        before: Option<u64>,
        limit: usize,
    ) -> StoreResult<Vec<(u64, HistoryRecord)>> {
        let prefix = history_prefix(org_id, binding_id);
        let end = history_key(org_id, binding_id, before.unwrap_or(u64::MAX));
        let mut entries = Vec::new();
        for entry in self.history.range(prefix.clone()..end).rev() {
            let (key, value) = entry?;
            if entries.len() == limit {
                break;
            }
            entries.push((read_u64(&key[prefix.len()..]), decode(&value)?));
        }
        Ok(entries)
    }

    pub(super) fn updates(
        &self,
        after: u64,
        up_to: u64,
        limit: usize,
    ) -> StoreResult<Vec<UpdateRecord>> {
        if up_to <= after {
            return Ok(Vec::new());
        }
        let start = (after + 1).to_be_bytes();
        let end = up_to.to_be_bytes();
        self.updates
            .range(start..=end)
            .take(limit)
            .map(|entry| {
                let (_, value) = entry?;
                decode(&value)
            })
            .collect()
    }

    pub(super) fn last_sequence(&self) -> StoreResult<u64> {
        Ok(self
            .meta
            .get(UPDATE_SEQUENCE_KEY)?
            .map(|bytes| read_u64(&bytes))
            .unwrap_or(0))
    }

    pub(super) fn state_counts(&self) -> BTreeMap<&'static str, u64> {
        let mut counts = self.census.lock().expect("census lock").clone();
        counts.retain(|_, count| *count > 0);
        counts
    }

    fn count(&self, binding: Option<&BindingRecord>, delta: i64) {
        if let Some(binding) = binding {
            let mut census = self.census.lock().expect("census lock");
            let count = census.entry(binding.status.state.name()).or_default();
            *count = count.saturating_add_signed(delta);
        }
    }

    pub(super) fn update_bounds(&self) -> StoreResult<(u64, u64)> {
        let first = self
            .updates
            .first()?
            .map(|(key, _)| read_u64(&key))
            .unwrap_or(0);
        Ok((first, self.last_sequence()?))
    }

    pub(super) fn prune(&self, before: i64) -> StoreResult<usize> {
        let mut removed = 0;
        for entry in self.updates.iter() {
            let (key, value) = entry?;
            let event: UpdateRecord = decode(&value)?;
            if event.observed_at >= before {
                break;
            }
            self.updates.remove(key)?;
            removed += 1;
        }
        Ok(removed)
    }
}

fn connection_key(record: &BindingRecord) -> Vec<u8> {
    let mut key = keys::scoped(&record.org_id, &record.connection_id);
    key.push(0);
    key.extend_from_slice(record.id.as_bytes());
    key
}

fn history_prefix(org_id: &str, binding_id: &str) -> Vec<u8> {
    let mut key = keys::scoped(org_id, binding_id);
    key.push(0);
    key
}

fn history_key(org_id: &str, binding_id: &str, id: u64) -> Vec<u8> {
    let mut key = history_prefix(org_id, binding_id);
    key.extend_from_slice(&id.to_be_bytes());
    key
}

fn read_u64(bytes: &[u8]) -> u64 {
    let mut buffer = [0u8; 8];
    let len = bytes.len().min(8);
    buffer[8 - len..].copy_from_slice(&bytes[bytes.len() - len..]);
    u64::from_be_bytes(buffer)
}
