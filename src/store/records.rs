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

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn arb_text() -> impl Strategy<Value = String> {
        // Any Unicode, including quotes, backslashes and control characters.
        any::<String>()
    }

    fn arb_value() -> impl Strategy<Value = ValueRecord> {
        (
            "-?[0-9]{1,20}(\\.[0-9]{1,20})?",
            arb_text(),
            proptest::option::of(arb_text()),
            proptest::option::of(any::<i64>()),
            any::<i64>(),
            any::<bool>(),
            proptest::option::of(arb_text()),
            arb_text(),
            proptest::option::of(arb_text()),
        )
            .prop_map(
                |(
                    exact,
                    raw,
                    rendered,
                    data_as_of,
                    fetched_at,
                    from_cache,
                    x_value,
                    y_field,
                    pivot_key,
                )| ValueRecord {
                    exact,
                    raw,
                    rendered,
                    data_as_of,
                    fetched_at,
                    from_cache,
                    x_value,
                    y_field,
                    pivot_key,
                },
            )
    }

    fn arb_state() -> impl Strategy<Value = BindingState> {
        prop_oneof![
            Just(BindingState::Ok),
            Just(BindingState::Pending),
            Just(BindingState::Error),
            Just(BindingState::Broken),
            Just(BindingState::Disabled),
        ]
    }

    fn arb_binding() -> impl Strategy<Value = BindingRecord> {
        (
            (arb_text(), arb_text(), arb_text(), arb_text()),
            (arb_text(), arb_text(), any::<bool>()),
            (
                any::<bool>(),
                any::<u64>(),
                proptest::option::of(arb_value()),
            ),
            (arb_state(), arb_text(), arb_text(), any::<i64>()),
            (
                proptest::option::of(any::<i64>()),
                proptest::option::of(any::<i64>()),
                any::<i64>(),
                any::<u32>(),
            ),
        )
            .prop_map(|(ids, source, flags, status, times)| BindingRecord {
                id: ids.0,
                org_id: ids.1,
                key_result_id: ids.2,
                connection_id: ids.3,
                source: if source.2 {
                    kpilink_connector::SourceRef::DashboardTile {
                        dashboard_id: source.0,
                        tile_id: source.1.clone(),
                    }
                } else {
                    kpilink_connector::SourceRef::Look { look_id: source.0 }
                },
                selection: crate::selection::Selection {
                    x_field: Some(source.1.clone()).filter(|_| flags.0),
                    x: if flags.0 {
                        crate::selection::XChoice::Latest
                    } else {
                        crate::selection::XChoice::Value(source.1)
                    },
                    ..Default::default()
                },
                enabled: flags.0,
                sync_interval_ms: flags.1,
                current: flags.2,
                status: StatusRecord {
                    state: status.0,
                    reason: status.1,
                    message: status.2,
                    since: status.3,
                },
                last_sync_time: times.0,
                next_sync_time: times.1,
                create_time: times.2,
                update_time: times.2,
                failures: times.3,
            })
    }

    proptest! {
        #[test]
        fn binding_records_round_trip_exactly(record in arb_binding()) {
            let decoded: BindingRecord = decode(&encode(&record)).unwrap();
            prop_assert_eq!(decoded, record);
        }

        #[test]
        fn history_and_update_records_round_trip_exactly(value in arb_value(), backfilled: bool, sequence: u64, state in arb_state()) {
            let entry = HistoryRecord { value: value.clone(), backfilled };
            prop_assert_eq!(decode::<HistoryRecord>(&encode(&entry)).unwrap(), entry);
            let event = UpdateRecord {
                sequence,
                org_id: value.y_field.clone(),
                binding_id: value.raw.clone(),
                key_result_id: value.exact.clone(),
                value: Some(value.exact.clone()),
                previous_value: value.x_value.clone(),
                status: StatusRecord { state, reason: String::new(), message: value.raw.clone(), since: value.fetched_at },
                observed_at: value.fetched_at,
            };
            prop_assert_eq!(decode::<UpdateRecord>(&encode(&event)).unwrap(), event);
        }

        #[test]
        fn garbage_bytes_never_panic_the_decoder(bytes: Vec<u8>) {
            // Either an error or a real record; never a panic.
            let _ = decode::<BindingRecord>(&bytes);
            let _ = decode::<ConnectionRecord>(&bytes);
        }

        #[test]
        fn one_orgs_keys_never_fall_under_another_orgs_prefix(
            org in "[^\\x00]{1,12}", other in "[^\\x00]{1,12}", id in "[^\\x00]{0,12}"
        ) {
            let key = super::super::keys::scoped(&org, &id);
            prop_assert!(key.starts_with(&super::super::keys::org_prefix(&org)));
            if org != other {
                prop_assert!(!key.starts_with(&super::super::keys::org_prefix(&other)));
            }
        }
    }
}
