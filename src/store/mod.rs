//! Durable state behind a narrow [`Store`] trait.
//!
//! The trait speaks in records and the operations the domain needs, not in
//! sled's API, so a shared database backend can be added later. Every mutating
//! method returns only after the write is on disk.

mod keys;
mod migrate;
mod records;
mod sled_bindings;
mod sled_store;

use async_trait::async_trait;

pub use records::{
    BindingFilter, BindingRecord, BindingState, ConnectionRecord, ConnectionTestRecord,
    HistoryRecord, SealedSecret, StatusRecord, UpdateRecord, ValueRecord,
};
pub use sled_store::SledStore;

/// One binding change. `current: None` inserts (failing with
/// [`StoreError::KeyResultTaken`] when the key result is bound); otherwise
/// `current` must still be what is stored ([`StoreError::Changed`]).
/// `updated: None` deletes the binding and its history.
#[derive(Debug, Clone, Copy)]
pub struct BindingWrite<'a> {
    pub current: Option<&'a BindingRecord>,
    pub updated: Option<&'a BindingRecord>,
    pub history: &'a [HistoryRecord],
    pub event: Option<&'a UpdateRecord>,
}

impl BindingWrite<'_> {
    /// The binding the write is about.
    pub fn subject(&self) -> &BindingRecord {
        self.updated
            .or(self.current)
            .expect("a binding write names a binding")
    }
}

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// Another connection of the org already has this display name.
    #[error("display name taken")]
    NameTaken,
    /// The org already has a binding for this key result.
    #[error("key result already bound")]
    KeyResultTaken,
    /// The record changed since it was read; read it again and retry.
    #[error("record changed concurrently")]
    Changed,
    #[error("stored data is corrupt: {0}")]
    Corrupt(String),
    #[error("storage failure: {0}")]
    Backend(String),
}

impl From<sled::Error> for StoreError {
    fn from(error: sled::Error) -> Self {
        StoreError::Backend(error.to_string())
    }
}

pub type StoreResult<T> = Result<T, StoreError>;

#[async_trait]
pub trait Store: Send + Sync + 'static {
    /// Daemon-wide values (schema version, key check, generated token hash).
    async fn get_meta(&self, key: &str) -> StoreResult<Option<Vec<u8>>>;
    async fn put_meta(&self, key: &str, value: &[u8]) -> StoreResult<()>;

    /// Fails with [`StoreError::NameTaken`] when the org already has the name.
    async fn insert_connection(&self, record: &ConnectionRecord) -> StoreResult<()>;
    async fn get_connection(
        &self,
        org_id: &str,
        connection_id: &str,
    ) -> StoreResult<Option<ConnectionRecord>>;
    /// The org's connections in id (= creation) order, after `after_id`.
    async fn list_connections(
        &self,
        org_id: &str,
        after_id: Option<&str>,
        limit: usize,
    ) -> StoreResult<Vec<ConnectionRecord>>;
    /// Replaces `current` with `updated` if it is still what is stored
    /// ([`StoreError::Changed`] otherwise).
    async fn replace_connection(
        &self,
        current: &ConnectionRecord,
        updated: &ConnectionRecord,
    ) -> StoreResult<()>;
    /// Returns whether the connection existed.
    async fn delete_connection(&self, org_id: &str, connection_id: &str) -> StoreResult<bool>;

    /// Writes binding changes atomically (all or none), each with its history
    /// entries and its update event, and returns each event's sequence. See
    /// [`BindingWrite`] for what each write requires.
    async fn write_bindings(&self, writes: &[BindingWrite<'_>]) -> StoreResult<Vec<Option<u64>>>;

    /// [`Store::write_bindings`] of one change.
    async fn write_binding(
        &self,
        current: Option<&BindingRecord>,
        updated: Option<&BindingRecord>,
        history: &[HistoryRecord],
        event: Option<&UpdateRecord>,
    ) -> StoreResult<Option<u64>> {
        let write = BindingWrite {
            current,
            updated,
            history,
            event,
        };
        let mut sequences = self.write_bindings(&[write]).await?;
        Ok(sequences.pop().flatten())
    }
    /// The id of the org's binding for a key result, if any.
    async fn binding_for_key_result(
        &self,
        org_id: &str,
        key_result_id: &str,
    ) -> StoreResult<Option<String>>;
    async fn get_binding(
        &self,
        org_id: &str,
        binding_id: &str,
    ) -> StoreResult<Option<BindingRecord>>;
    /// The org's bindings in id order after `after_id` that match `filter`, at most `limit`.
    async fn list_bindings(
        &self,
        org_id: &str,
        after_id: Option<&str>,
        limit: usize,
        filter: &BindingFilter,
    ) -> StoreResult<Vec<BindingRecord>>;
    async fn bindings_of_connection(
        &self,
        org_id: &str,
        connection_id: &str,
    ) -> StoreResult<Vec<BindingRecord>>;
    /// Every binding of every org (the scheduler loads them at start).
    async fn all_bindings(&self) -> StoreResult<Vec<BindingRecord>>;
    /// A binding's history, newest first, before the entry `before` (an opaque key).
    async fn history(
        &self,
        org_id: &str,
        binding_id: &str,
        before: Option<u64>,
        limit: usize,
    ) -> StoreResult<Vec<(u64, HistoryRecord)>>;
    /// Update events with `after < sequence <= up_to`, in order, at most `limit`.
    async fn updates(&self, after: u64, up_to: u64, limit: usize)
    -> StoreResult<Vec<UpdateRecord>>;
    /// The sequence of the newest event (0 when the log is empty).
    async fn last_sequence(&self) -> StoreResult<u64>;
    /// How many bindings are in each state (by the state's name).
    async fn binding_state_counts(
        &self,
    ) -> StoreResult<std::collections::BTreeMap<&'static str, u64>>;
    /// The first and last sequence held in the update log (0, 0 when empty).
    async fn update_log_bounds(&self) -> StoreResult<(u64, u64)>;
    /// Drops events observed before `before`; returns how many.
    async fn prune_updates(&self, before: crate::time::UnixMicros) -> StoreResult<usize>;
}
