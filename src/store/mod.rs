//! Durable state behind a narrow [`Store`] trait.
//!
//! The trait speaks in records and the operations the domain needs, not in
//! sled's API, so a shared database backend can be added later. Every mutating
//! method returns only after the write is on disk.

mod keys;
mod migrate;
mod records;
mod sled_store;

use async_trait::async_trait;

pub use records::{ConnectionRecord, ConnectionTestRecord, SealedSecret};
pub use sled_store::SledStore;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// Another connection of the org already has this display name.
    #[error("display name taken")]
    NameTaken,
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
}
