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
