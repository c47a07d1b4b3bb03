//! What is stored, encoded as JSON (self-describing, so records can gain
//! fields without a migration).

use std::collections::BTreeMap;
use std::fmt;

use serde::{Deserialize, Serialize};

use crate::time::UnixMicros;

/// A secret sealed with the master key (nonce and ciphertext, base64).
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct SealedSecret(pub String);

impl fmt::Debug for SealedSecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SealedSecret(..)")
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConnectionRecord {
    pub id: String,
    pub org_id: String,
    pub display_name: String,
    pub kind: String,
    pub settings: BTreeMap<String, String>,
    pub secrets: BTreeMap<String, SealedSecret>,
    pub query_timeout_ms: u64,
    pub create_time: UnixMicros,
    pub update_time: UnixMicros,
    #[serde(default)]
    pub last_test: Option<ConnectionTestRecord>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConnectionTestRecord {
    pub test_time: UnixMicros,
    pub success: bool,
    pub reason: String,
    pub message: String,
    pub latency_ms: u64,
    /// `SUCCESS`, `BAD_CREDENTIALS`, … (the proto enum without its prefix).
    #[serde(default)]
    pub outcome: String,
    #[serde(default)]
    pub source_version: Option<String>,
}

pub(super) fn encode<T: Serialize>(record: &T) -> Vec<u8> {
    serde_json::to_vec(record).expect("records serialize to JSON")
}

pub(super) fn decode<T: for<'de> Deserialize<'de>>(bytes: &[u8]) -> super::StoreResult<T> {
    serde_json::from_slice(bytes).map_err(|error| super::StoreError::Corrupt(error.to_string()))
}

/// The health of a binding, as stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum BindingState {
    Ok,
    Pending,
    Error,
    Broken,
    Disabled,
}

impl BindingState {
    pub fn name(self) -> &'static str {
        match self {
            BindingState::Ok => "OK",
            BindingState::Pending => "PENDING",
            BindingState::Error => "ERROR",
            BindingState::Broken => "BROKEN",
            BindingState::Disabled => "DISABLED",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StatusRecord {
    pub state: BindingState,
    /// The stable reason of an ERROR or BROKEN state; empty otherwise.
    pub reason: String,
    pub message: String,
    pub since: UnixMicros,
}

/// A value read from a chart, with where and when.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ValueRecord {
    /// The exact decimal after the result format.
    pub exact: String,
    pub raw: String,
    pub rendered: Option<String>,
    pub data_as_of: Option<UnixMicros>,
    pub fetched_at: UnixMicros,
    pub from_cache: bool,
    pub x_value: Option<String>,
    pub y_field: String,
    pub pivot_key: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BindingRecord {
    pub id: String,
    pub org_id: String,
    pub key_result_id: String,
    pub connection_id: String,
    pub source: kpilink_connector::SourceRef,
    pub selection: crate::selection::Selection,
    pub enabled: bool,
    pub sync_interval_ms: u64,
    /// The last good value; kept through errors.
    pub current: Option<ValueRecord>,
    pub status: StatusRecord,
    pub last_sync_time: Option<UnixMicros>,
    pub next_sync_time: Option<UnixMicros>,
    pub create_time: UnixMicros,
    pub update_time: UnixMicros,
    /// Transient failures in a row (drives the retry backoff).
    #[serde(default)]
    pub failures: u32,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HistoryRecord {
    pub value: ValueRecord,
    /// Imported from an earlier period at creation (`backfill_since`).
    #[serde(default)]
    pub backfilled: bool,
}

/// One event of the durable update log.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UpdateRecord {
    /// Assigned by the store in commit order.
    pub sequence: u64,
    pub org_id: String,
    pub binding_id: String,
    pub key_result_id: String,
    pub value: Option<String>,
    pub previous_value: Option<String>,
    pub status: StatusRecord,
    pub observed_at: UnixMicros,
}

/// Which bindings a listing returns; empty parts match all.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BindingFilter {
    pub key_result_id: Option<String>,
    pub connection_id: Option<String>,
    pub enabled: Option<bool>,
    pub state: Option<BindingState>,
}

impl BindingFilter {
    pub fn matches(&self, record: &BindingRecord) -> bool {
        self.key_result_id
            .as_ref()
            .is_none_or(|kr| *kr == record.key_result_id)
            && self
                .connection_id
                .as_ref()
                .is_none_or(|c| *c == record.connection_id)
            && self.enabled.is_none_or(|e| e == record.enabled)
            && self.state.is_none_or(|s| s == record.status.state)
    }
}
