//! The durable update log: events are appended with their binding change (in
//! the store's transaction) and followed by watchers.
//!
//! Watchers read the log itself, never a lossy channel: a `watch` of the newest
//! *durable* sequence only wakes them. A slow watcher therefore never blocks
//! syncing and never loses an event; it reads on from where it is.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use tokio::sync::{mpsc, watch};

use crate::security::OrgScope;
use crate::store::{Store, UpdateRecord};

/// Events read from the store per batch while a watcher catches up.
const READ_BATCH: usize = 256;

pub struct UpdateLog {
    store: Arc<dyn Store>,
    durable: watch::Sender<u64>,
    watchers: Arc<AtomicU64>,
}

/// Counts a watcher while it lives.
struct Watching(Arc<AtomicU64>);

impl Drop for Watching {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::Relaxed);
    }
}

/// Which orgs a watcher follows.
#[derive(Debug, Clone)]
pub enum Audience {
    Org(String),
    Scope(OrgScope),
}

impl Audience {
    fn sees(&self, org_id: &str) -> bool {
        match self {
            Audience::Org(org) => org == org_id,
            Audience::Scope(scope) => scope.allows(org_id),
        }
    }
}

impl UpdateLog {
    pub async fn open(store: Arc<dyn Store>) -> anyhow::Result<Self> {
        let last = store.last_sequence().await?;
        Ok(UpdateLog {
            store,
            durable: watch::channel(last).0,
            watchers: Arc::new(AtomicU64::new(0)),
        })
    }

    /// Announces that every event up to `sequence` is on disk.
    pub fn published(&self, sequence: u64) {
        self.durable.send_if_modified(|durable| {
            if sequence > *durable {
                *durable = sequence;
                true
            } else {
                false
            }
        });
    }

    /// Open watchers.
    pub fn watchers(&self) -> u64 {
        self.watchers.load(Ordering::Relaxed)
    }

    /// Streams the events after `after` for `audience`: the log first, then live.
    /// The stream ends when the receiver is dropped.
    pub fn follow(
        self: &Arc<Self>,
        audience: Audience,
        after: u64,
    ) -> mpsc::Receiver<anyhow::Result<UpdateRecord>> {
        let (sender, receiver) = mpsc::channel(READ_BATCH);
        let log = self.clone();
        self.watchers.fetch_add(1, Ordering::Relaxed);
        let watching = Watching(self.watchers.clone());
        // Long work never lives in a handler future: this task ends when the
        // client goes (send fails) or the daemon stops.
        tokio::spawn(async move {
            let _watching = watching;
            let mut durable = log.durable.subscribe();
            let mut position = after;
            loop {
                let up_to = *durable.borrow_and_update();
                while position < up_to {
                    let batch = match log.store.updates(position, up_to, READ_BATCH).await {
                        Ok(batch) => batch,
                        Err(error) => {
                            let _ = sender
                                .send(Err(anyhow::anyhow!("cannot read the update log: {error}")))
                                .await;
                            return;
                        }
                    };
                    if batch.is_empty() {
                        // Pruned by retention: nothing more below `up_to`.
                        position = up_to;
                        break;
                    }
                    for event in batch {
                        position = event.sequence;
                        if audience.sees(&event.org_id) && sender.send(Ok(event)).await.is_err() {
                            return;
                        }
                    }
                }
                tokio::select! {
                    changed = durable.changed() => if changed.is_err() { return },
                    _ = sender.closed() => return,
                }
            }
        });
        receiver
    }
}
