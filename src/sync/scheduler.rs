//! When each enabled binding syncs next: an in-memory agenda rebuilt from the
//! persisted `next_sync_time` at start, so a restart resumes without a burst.

use std::collections::{BTreeSet, HashMap};
use std::sync::Mutex;
use std::time::Duration;

use kpilink_connector::SourceRef;
use tokio::sync::Notify;

use crate::time::{UnixMicros, now_micros};

/// A binding, by org and id.
pub(super) type BindingKey = (String, String);

#[derive(Default)]
pub(super) struct Scheduler {
    agenda: Mutex<Agenda>,
    changed: Notify,
}

/// A due binding, with the connection and source it had when it was planned
/// (so a cycle can group and resolve before loading any binding).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct DueBinding {
    pub(super) key: BindingKey,
    pub(super) connection_id: String,
    pub(super) source: SourceRef,
}

struct Planned {
    at: UnixMicros,
    connection_id: String,
    source: SourceRef,
}

#[derive(Default)]
struct Agenda {
    by_time: BTreeSet<(UnixMicros, BindingKey)>,
    by_key: HashMap<BindingKey, Planned>,
}

impl Scheduler {
    /// Plans (or re-plans) a binding's next sync.
    pub(super) fn plan(
        &self,
        key: BindingKey,
        connection_id: &str,
        source: &SourceRef,
        at: UnixMicros,
    ) {
        let mut agenda = self.agenda.lock().expect("agenda lock");
        let planned = Planned {
            at,
            connection_id: connection_id.to_owned(),
            source: source.clone(),
        };
        if let Some(previous) = agenda.by_key.insert(key.clone(), planned) {
            agenda.by_time.remove(&(previous.at, key.clone()));
        }
        agenda.by_time.insert((at, key));
        drop(agenda);
        self.changed.notify_one();
    }

    pub(super) fn cancel(&self, key: &BindingKey) {
        let mut agenda = self.agenda.lock().expect("agenda lock");
        if let Some(previous) = agenda.by_key.remove(key) {
            agenda.by_time.remove(&(previous.at, key.clone()));
        }
    }

    pub(super) fn planned(&self) -> usize {
        self.agenda.lock().expect("agenda lock").by_key.len()
    }

    /// Waits until at least one binding is due and takes every one due within
    /// `window` of now: bindings due close together sync in one cycle, so
    /// those reading the same query share one run.
    pub(super) async fn due(&self, window: Duration) -> Vec<DueBinding> {
        loop {
            let notified = self.changed.notified();
            let wait = {
                let mut agenda = self.agenda.lock().expect("agenda lock");
                let now = now_micros();
                let horizon = now + i64::try_from(window.as_micros()).unwrap_or(i64::MAX);
                let mut due = Vec::new();
                let first_due = agenda.by_time.first().is_some_and(|(at, _)| *at <= now);
                while let Some((at, _)) = agenda.by_time.first() {
                    if !first_due || *at > horizon {
                        break;
                    }
                    let (_, key) = agenda.by_time.pop_first().expect("first exists");
                    let planned = agenda.by_key.remove(&key).expect("indexed");
                    due.push(DueBinding {
                        key,
                        connection_id: planned.connection_id,
                        source: planned.source,
                    });
                }
                if !due.is_empty() {
                    return due;
                }
                agenda
                    .by_time
                    .first()
                    .map(|(at, _)| Duration::from_micros((at - now).max(0) as u64))
            };
            match wait {
                Some(wait) => {
                    tokio::select! {
                        _ = tokio::time::sleep(wait) => {}
                        _ = notified => {}
                    }
                }
                None => notified.await,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(id: &str) -> BindingKey {
        ("org".into(), id.into())
    }

    fn source() -> SourceRef {
        SourceRef::Look {
            look_id: "1".into(),
        }
    }

    fn due(keys: &[BindingKey]) -> Vec<DueBinding> {
        keys.iter()
            .map(|key| DueBinding {
                key: key.clone(),
                connection_id: "con".to_owned(),
                source: source(),
            })
            .collect()
    }

    impl Scheduler {
        fn plan_at(&self, key: BindingKey, at: UnixMicros) {
            self.plan(key, "con", &source(), at);
        }
    }

    #[tokio::test]
    async fn due_bindings_come_out_together_and_replans_move_them() {
        let scheduler = Scheduler::default();
        let now = now_micros();
        scheduler.plan_at(key("a"), now - 10);
        scheduler.plan_at(key("b"), now - 5);
        scheduler.plan_at(key("c"), now + 60_000_000);
        let mut due = scheduler.due(Duration::ZERO).await;
        due.sort_by(|a, b| a.key.cmp(&b.key));
        assert_eq!(due, self::due(&[key("a"), key("b")]));
        assert_eq!(scheduler.planned(), 1);
        // Moving c into the past wakes the waiter.
        scheduler.plan_at(key("c"), now);
        assert_eq!(scheduler.due(Duration::ZERO).await, self::due(&[key("c")]));
        // Bindings due within the window come along with a due one.
        scheduler.plan_at(key("e"), now);
        scheduler.plan_at(key("f"), now + 1_000_000);
        scheduler.plan_at(key("g"), now + 60_000_000);
        let mut due = scheduler.due(Duration::from_secs(2)).await;
        due.sort_by(|a, b| a.key.cmp(&b.key));
        assert_eq!(due, self::due(&[key("e"), key("f")]));
        scheduler.cancel(&key("g"));
        scheduler.plan_at(key("d"), now);
        scheduler.cancel(&key("d"));
        assert_eq!(scheduler.planned(), 0);
    }
}
