//! Conversions between proto messages and domain values.

use std::collections::{BTreeMap, HashMap};
use std::time::Duration;

use kpilink_connector::ConnectorFactory;
use secrecy::SecretString;

use crate::error::{Error, Reason, Result};
use crate::proto;
use crate::store::{ConnectionRecord, ConnectionTestRecord};
use crate::time::to_timestamp;

pub(super) fn connection(record: ConnectionRecord) -> proto::Connection {
    proto::Connection {
        secrets_set: record.secrets.keys().cloned().collect(),
        id: record.id,
        org_id: record.org_id,
        display_name: record.display_name,
        kind: record.kind,
        settings: record.settings.into_iter().collect(),
        secrets: HashMap::new(),
        query_timeout: Some(duration_to_proto(Duration::from_millis(
            record.query_timeout_ms,
        ))),
        create_time: Some(to_timestamp(record.create_time)),
        update_time: Some(to_timestamp(record.update_time)),
        last_test: record.last_test.map(test_result),
    }
}

pub(super) fn test_result(test: ConnectionTestRecord) -> proto::ConnectionTestResult {
    proto::ConnectionTestResult {
        test_time: Some(to_timestamp(test.test_time)),
        success: test.success,
        reason: test.reason,
        message: test.message,
        latency: Some(duration_to_proto(Duration::from_millis(test.latency_ms))),
        outcome: proto::ConnectionTestOutcome::from_str_name(&format!(
            "CONNECTION_TEST_OUTCOME_{}",
            test.outcome
        ))
        .unwrap_or(proto::ConnectionTestOutcome::Unspecified) as i32,
        source_version: test.source_version.unwrap_or_default(),
    }
}

pub(super) fn connector_kind(factory: &dyn ConnectorFactory) -> proto::ConnectorKind {
    proto::ConnectorKind {
        kind: factory.kind().to_owned(),
        display_name: factory.display_name().to_owned(),
        description: factory.description().to_owned(),
        settings: factory
            .settings()
            .iter()
            .map(|spec| proto::SettingSpec {
                name: spec.name.to_owned(),
                label: spec.label.to_owned(),
                required: spec.required,
                secret: spec.secret,
                description: spec.description.to_owned(),
                example: spec.example.to_owned(),
            })
            .collect(),
    }
}

pub(super) fn settings(map: HashMap<String, String>) -> BTreeMap<String, String> {
    map.into_iter().collect()
}

pub(super) fn secrets(map: HashMap<String, String>) -> BTreeMap<String, SecretString> {
    map.into_iter()
        .map(|(name, value)| (name, SecretString::from(value)))
        .collect()
}

/// A proto duration as a std one; `field` names it in the error.
pub(super) fn duration(field: &str, value: &prost_types::Duration) -> Result<Duration> {
    if value.seconds < 0 || value.nanos < 0 || value.nanos >= 1_000_000_000 {
        return Err(Error::field(
            field,
            Reason::FieldInvalid,
            "must be a positive duration",
        ));
    }
    Ok(Duration::new(value.seconds as u64, value.nanos as u32))
}

pub(super) fn optional_duration(
    field: &str,
    value: Option<&prost_types::Duration>,
) -> Result<Option<Duration>> {
    value.map(|value| duration(field, value)).transpose()
}

pub(super) fn duration_to_proto(duration: Duration) -> prost_types::Duration {
    prost_types::Duration {
        seconds: duration.as_secs() as i64,
        nanos: duration.subsec_nanos() as i32,
    }
}
