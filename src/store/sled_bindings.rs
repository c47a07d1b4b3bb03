//! The sled side of bindings, their history and the update log.

use sled::Transactional;
use sled::transaction::{ConflictableTransactionError, TransactionError};

use super::keys;
use super::records::{BindingFilter, BindingRecord, HistoryRecord, UpdateRecord, decode, encode};
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
}

impl BindingTrees {
    pub(super) fn open(db: &sled::Db) -> StoreResult<Self> {
        Ok(BindingTrees {
            bindings: db.open_tree("bindings")?,
            key_results: db.open_tree("binding_key_results")?,
            by_connection: db.open_tree("binding_connections")?,
            history: db.open_tree("binding_history")?,
            updates: db.open_tree("updates")?,
            meta: db.open_tree("meta")?,
        })
    }

    pub(super) fn write(
        &self,
        history_ids: &[u64],
        current: Option<&BindingRecord>,
        updated: Option<&BindingRecord>,
        history: &[HistoryRecord],
        event: Option<&UpdateRecord>,
    ) -> StoreResult<Option<u64>> {
        let subject = updated
            .or(current)
            .expect("a binding write names a binding");
        let key = keys::scoped(&subject.org_id, &subject.id);
        let expected = current.map(encode);
        let value = updated.map(encode);
        let history_values: Vec<Vec<u8>> = history.iter().map(encode).collect();
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
            match (&expected, current) {
                (None, _) => {
                    let kr = keys::scoped(&subject.org_id, &subject.key_result_id);
                    if krs.get(&kr)?.is_some() {
                        return abort(StoreError::KeyResultTaken);
                    }
                    if bindings.get(&key)?.is_some() {
                        return abort(StoreError::Changed);
                    }
                }
                (Some(expected), Some(current)) => {
                    if bindings.get(&key)?.as_deref() != Some(expected.as_slice()) {
                        return abort(StoreError::Changed);
                    }
                    krs.remove(keys::scoped(&current.org_id, &current.key_result_id))?;
                    conns.remove(connection_key(current))?;
                }
                (Some(_), None) => unreachable!("expected bytes come from current"),
            }
            match (updated, &value) {
                (Some(updated), Some(value)) => {
                    bindings.insert(key.as_slice(), value.as_slice())?;
                    krs.insert(
                        keys::scoped(&updated.org_id, &updated.key_result_id),
                        updated.id.as_bytes(),
                    )?;
                    conns.insert(connection_key(updated), &[])?;
                }
                _ => {
                    bindings.remove(key.as_slice())?;
                }
            }
            // Ids grow with time, so entries given oldest first sort oldest first.
            for (id, history_value) in history_ids.iter().zip(&history_values) {
                hist.insert(
                    history_key(&subject.org_id, &subject.id, *id),
                    history_value.as_slice(),
                )?;
            }
            let Some(event) = event else {
                return Ok(None);
            };
            let last = meta
                .get(UPDATE_SEQUENCE_KEY)?
                .map(|bytes| read_u64(&bytes))
                .unwrap_or(0);
            let sequence = last + 1;
            let stored = UpdateRecord {
                sequence,
                ..event.clone()
            };
            updates.insert(&sequence.to_be_bytes(), encode(&stored))?;
            meta.insert(UPDATE_SEQUENCE_KEY, &sequence.to_be_bytes())?;
            Ok(Some(sequence))
        });
        let sequence = result.map_err(|error| match error {
            TransactionError::Abort(error) => error,
            TransactionError::Storage(error) => StoreError::from(error),
        })?;
        if updated.is_none() {
            // History goes with its binding; outside the transaction because it
            // is a range, and harmless if interrupted (no binding points at it).
            for entry in self
                .history
                .scan_prefix(history_prefix(&subject.org_id, &subject.id))
            {
                let (key, _) = entry?;
                self.history.remove(key)?;
            }
        }
        Ok(sequence)
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

    pub(super) fn state_counts(
        &self,
    ) -> StoreResult<std::collections::BTreeMap<&'static str, u64>> {
        let mut counts = std::collections::BTreeMap::new();
        for binding in self.all()? {
            *counts.entry(binding.status.state.name()).or_default() += 1;
        }
        Ok(counts)
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
