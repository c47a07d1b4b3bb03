//! What a sync's result does to a binding: the new record, its history entry and
//! its update event. Pure functions; the engine writes what they return.

use std::time::Duration;

use crate::error::{Error, ErrorClass};
use crate::store::{
    BindingRecord, BindingState, HistoryRecord, StatusRecord, UpdateRecord, ValueRecord,
};
use crate::time::UnixMicros;

/// The first retry of a transient failure waits this long, doubling after.
pub const RETRY_BASE: Duration = Duration::from_secs(5);

/// A binding change to write atomically.
#[derive(Debug, Clone)]
pub struct Change {
    pub updated: BindingRecord,
    pub history: Vec<HistoryRecord>,
    pub event: Option<UpdateRecord>,
}

/// The binding after a good read: the value, `OK`, the next sync.
pub fn succeeded(
    current: &BindingRecord,
    value: ValueRecord,
    now: UnixMicros,
    next: UnixMicros,
) -> Change {
    if !current.enabled {
        return unchanged(current);
    }
    let value_changed = current.current.as_ref().map(|v| &v.exact) != Some(&value.exact);
    let mut updated = current.clone();
    if current.status.state != BindingState::Ok {
        updated.status = status(BindingState::Ok, "", "", now);
    }
    updated.current = Some(value.clone());
    updated.last_sync_time = Some(now);
    updated.next_sync_time = Some(next);
    updated.failures = 0;
    let history = if value_changed {
        vec![HistoryRecord {
            value,
            backfilled: false,
        }]
    } else {
        Vec::new()
    };
    finish(current, updated, history, now)
}

/// The binding after a failed read. The last good value is always kept.
/// - `TRANSIENT`: retried with exponential backoff and jitter (honouring
///   `Retry-After`), the state unchanged;
/// - `CONFIG`: `ERROR` with the reason, not retried until the binding or its
///   connection changes;
/// - `SOURCE`: `BROKEN`, naming what broke, checked again every interval so it
///   recovers by itself.
pub fn failed(current: &BindingRecord, error: &Error, now: UnixMicros, jitter: f64) -> Change {
    if !current.enabled {
        return unchanged(current);
    }
    let mut updated = current.clone();
    updated.last_sync_time = Some(now);
    let interval = Duration::from_millis(current.sync_interval_ms);
    match error.class() {
        ErrorClass::Transient => {
            updated.failures = current.failures.saturating_add(1);
            // Short intervals (tests, demos) retry proportionally sooner.
            let base = RETRY_BASE.min(interval / 4);
            let backoff = base
                .saturating_mul(1 << updated.failures.saturating_sub(1).min(16))
                .min(interval);
            let wait = backoff
                .mul_f64(jitter)
                .max(error.retry_after.unwrap_or_default());
            updated.next_sync_time = Some(now + micros(wait));
        }
        ErrorClass::Config => {
            updated.failures = 0;
            updated.status = status_for(current, BindingState::Error, error, now);
            updated.next_sync_time = None;
        }
        ErrorClass::Source => {
            updated.failures = 0;
            updated.status = status_for(current, BindingState::Broken, error, now);
            updated.next_sync_time = Some(now + micros(interval.mul_f64(jitter)));
        }
    }
    finish(current, updated, Vec::new(), now)
}

/// A read that finished after the binding was disabled changes nothing: a
/// disabled binding keeps its state until it is enabled again.
fn unchanged(current: &BindingRecord) -> Change {
    Change {
        updated: current.clone(),
        history: Vec::new(),
        event: None,
    }
}

/// A state set by the user or a connection change (DISABLED, PENDING).
pub fn restated(current: &BindingRecord, updated: BindingRecord, now: UnixMicros) -> Change {
    finish(current, updated, Vec::new(), now)
}

pub fn status(state: BindingState, reason: &str, message: &str, now: UnixMicros) -> StatusRecord {
    StatusRecord {
        state,
        reason: reason.to_owned(),
        message: message.to_owned(),
        since: now,
    }
}

/// Keeps `since` when the state and reason stay the same.
fn status_for(
    current: &BindingRecord,
    state: BindingState,
    error: &Error,
    now: UnixMicros,
) -> StatusRecord {
    if current.status.state == state && current.status.reason == error.reason.as_str() {
        return StatusRecord {
            message: error.message.clone(),
            ..current.status.clone()
        };
    }
    status(state, error.reason.as_str(), &error.message, now)
}

/// Adds the event when the value or the status changed.
fn finish(
    current: &BindingRecord,
    updated: BindingRecord,
    history: Vec<HistoryRecord>,
    now: UnixMicros,
) -> Change {
    let value = updated.current.as_ref().map(|v| v.exact.clone());
    let previous_value = current.current.as_ref().map(|v| v.exact.clone());
    let status_changed = current.status.state != updated.status.state
        || current.status.reason != updated.status.reason;
    let event = (value != previous_value || status_changed).then(|| UpdateRecord {
        sequence: 0,
        org_id: updated.org_id.clone(),
        binding_id: updated.id.clone(),
        key_result_id: updated.key_result_id.clone(),
        value,
        previous_value,
        status: updated.status.clone(),
        observed_at: now,
    });
    Change {
        updated,
        history,
        event,
    }
}

pub fn micros(duration: Duration) -> i64 {
    i64::try_from(duration.as_micros()).unwrap_or(i64::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::{Code, Reason};
    use crate::selection::Selection;
    use kpilink_connector::{ConnectorError, SourceRef};

    fn binding(value: Option<&str>, state: BindingState) -> BindingRecord {
        BindingRecord {
            id: "b".into(),
            org_id: "o".into(),
            key_result_id: "kr".into(),
            connection_id: "c".into(),
            source: SourceRef::Look {
                look_id: "1".into(),
            },
            selection: Selection::default(),
            enabled: true,
            sync_interval_ms: 60_000,
            current: value.map(value_record),
            status: status(state, "", "", 0),
            last_sync_time: None,
            next_sync_time: None,
            create_time: 0,
            update_time: 0,
            failures: 0,
        }
    }

    fn value_record(exact: &str) -> ValueRecord {
        ValueRecord {
            exact: exact.into(),
            raw: exact.into(),
            rendered: None,
            data_as_of: None,
            fetched_at: 0,
            from_cache: false,
            x_value: None,
            y_field: "m".into(),
            pivot_key: None,
        }
    }

    #[test]
    fn an_event_only_when_the_value_or_status_changes() {
        let ok = binding(Some("1"), BindingState::Ok);
        let same = succeeded(&ok, value_record("1"), 10, 20);
        assert!(same.event.is_none() && same.history.is_empty());
        let changed = succeeded(&ok, value_record("2"), 10, 20);
        let event = changed.event.unwrap();
        assert_eq!(
            (event.value.as_deref(), event.previous_value.as_deref()),
            (Some("2"), Some("1"))
        );
        assert_eq!(changed.history.len(), 1);

        let broken = binding(Some("1"), BindingState::Broken);
        let recovered = succeeded(&broken, value_record("1"), 10, 20);
        assert_eq!(recovered.event.unwrap().status.state, BindingState::Ok);

        // A sync that finishes after the binding was disabled changes nothing.
        let mut disabled = binding(Some("1"), BindingState::Disabled);
        disabled.enabled = false;
        let late = succeeded(&disabled, value_record("2"), 10, 20);
        assert_eq!(late.updated, disabled);
        assert!(late.event.is_none());
        let gone = Error::from(ConnectorError::new(Reason::TileNotFound, "x"));
        assert_eq!(failed(&disabled, &gone, 10, 1.0).updated, disabled);
    }

    #[test]
    fn failures_by_class_keep_the_last_value() {
        let ok = binding(Some("7"), BindingState::Ok);
        let transient = Error::from(
            ConnectorError::new(Reason::SourceRateLimited, "slow down")
                .with_retry_after(Duration::from_secs(30)),
        );
        let change = failed(&ok, &transient, 0, 1.0);
        assert!(
            change.event.is_none(),
            "a transient failure changes nothing visible"
        );
        assert_eq!(
            change.updated.next_sync_time,
            Some(30_000_000),
            "Retry-After wins over the 5 s backoff"
        );
        assert_eq!(change.updated.current.as_ref().unwrap().exact, "7");
        let again = failed(
            &change.updated,
            &Error::from(ConnectorError::new(Reason::SourceUnreachable, "503")),
            0,
            1.0,
        );
        assert_eq!(
            again.updated.next_sync_time,
            Some(10_000_000),
            "backoff doubles"
        );

        let auth = Error::from(ConnectorError::new(Reason::SourceAuthFailed, "bad secret"));
        let change = failed(&ok, &auth, 5, 1.0);
        assert_eq!(change.updated.status.state, BindingState::Error);
        assert_eq!(
            change.updated.next_sync_time, None,
            "not retried until the connection changes"
        );
        assert_eq!(change.event.unwrap().value.as_deref(), Some("7"));

        let gone = Error::from(ConnectorError::new(Reason::TileNotFound, "tile 3 is gone"));
        let change = failed(&ok, &gone, 5, 1.0);
        assert_eq!(change.updated.status.state, BindingState::Broken);
        assert_eq!(change.updated.status.reason, "TILE_NOT_FOUND");
        assert_eq!(change.updated.next_sync_time, Some(60_000_005));
        let still = failed(&change.updated, &gone, 9, 1.0);
        assert!(
            still.event.is_none(),
            "still broken the same way: no new event"
        );
        assert_eq!(still.updated.status.since, 5);
        assert_eq!(
            Error::from(ConnectorError::new(Reason::TileNotFound, "x")).code,
            Code::NotFound
        );
    }
}
