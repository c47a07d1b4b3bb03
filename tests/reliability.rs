//! Crash safety under load: a SIGKILL loop during concurrent creates, updates
//! and syncs, and many watchers during mutations.

mod common;

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use common::*;
use kpilink::proto::*;
use kpilink_looker_fake::FakeLookerConfig;
use tokio::sync::Mutex;

const ROUNDS: usize = 10;

fn binding_request(connection_id: &str, key_result_id: &str) -> CreateBindingRequest {
    CreateBindingRequest {
        org_id: "acme".into(),
        key_result_id: key_result_id.into(),
        connection_id: connection_id.into(),
        source: Some(tile_source("1", "101")),
        sync_interval: Some(prost_types::Duration {
            seconds: 3600,
            nanos: 0,
        }),
        ..Default::default()
    }
}

fn toggle(binding_id: &str, enabled: bool) -> UpdateBindingRequest {
    UpdateBindingRequest {
        org_id: "acme".into(),
        binding_id: binding_id.into(),
        enabled,
        update_mask: Some(prost_types::FieldMask {
            paths: vec!["enabled".into()],
        }),
        ..Default::default()
    }
}

/// What the clients were told, and what may have happened without a reply.
#[derive(Default)]
struct Acknowledged {
    created: Vec<String>,
    /// Binding → (last acknowledged `enabled`, value of an update in flight).
    enabled: HashMap<String, (bool, Option<bool>)>,
    /// Events a watcher received: (sequence, binding id).
    events: Vec<(u64, String)>,
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigkill_during_creates_updates_and_syncs_loses_nothing_acknowledged() {
    let fake = fake_looker(FakeLookerConfig::default()).await;
    let dir = tempfile::TempDir::new().unwrap();
    let args = [
        "--allow-http-sources",
        "--allow-source-cidr",
        "127.0.0.1/32",
    ];
    let first = ChildDaemon::start(dir.path(), &args, &[]);
    let token = read_admin_token(dir.path());
    let connection_id = create(
        &Clients::connect(first.addr, &token).await,
        looker_at(
            "acme",
            "fake",
            &fake.base_url(),
            "demo-client-id",
            "demo-client-secret",
        ),
    )
    .await
    .id;
    let mut daemon = Some(first);
    let acked = Arc::new(Mutex::new(Acknowledged::default()));

    for round in 0..ROUNDS {
        let running = daemon.take().unwrap();
        let clients = Clients::connect(running.addr, &token).await;

        // A watcher records every event it is sent.
        let watcher = {
            let (clients, acked) = (clients.clone(), acked.clone());
            let after = acked.lock().await.events.last().map_or(0, |e| e.0);
            tokio::spawn(async move {
                let Ok(stream) = clients
                    .bindings()
                    .watch_updates(WatchUpdatesRequest {
                        org_id: "acme".into(),
                        after_sequence: after,
                    })
                    .await
                else {
                    return;
                };
                let mut stream = stream.into_inner();
                while let Ok(Some(message)) = stream.message().await {
                    let update = message.update.unwrap();
                    acked
                        .lock()
                        .await
                        .events
                        .push((update.sequence, update.binding_id));
                }
            })
        };
        let creator = {
            let (clients, acked, connection_id) =
                (clients.clone(), acked.clone(), connection_id.clone());
            tokio::spawn(async move {
                for i in 0.. {
                    let request = binding_request(&connection_id, &format!("kr-{round}-{i}"));
                    let Ok(response) = clients.bindings().create_binding(request).await else {
                        return;
                    };
                    let id = response.into_inner().binding.unwrap().id;
                    let mut acked = acked.lock().await;
                    acked.created.push(id.clone());
                    acked.enabled.insert(id, (true, None));
                }
            })
        };
        let updater = {
            let (clients, acked) = (clients.clone(), acked.clone());
            tokio::spawn(async move {
                for i in 0usize.. {
                    let target = {
                        let mut acked = acked.lock().await;
                        if acked.created.is_empty() {
                            None
                        } else {
                            let id = acked.created[i % acked.created.len()].clone();
                            let entry = acked.enabled.get_mut(&id).unwrap();
                            let wanted = !entry.0;
                            entry.1 = Some(wanted);
                            Some((id, wanted))
                        }
                    };
                    let Some((id, wanted)) = target else {
                        tokio::time::sleep(Duration::from_millis(5)).await;
                        continue;
                    };
                    match clients.bindings().update_binding(toggle(&id, wanted)).await {
                        Ok(_) => {
                            acked.lock().await.enabled.insert(id, (wanted, None));
                        }
                        Err(status)
                            if status.code() == tonic::Code::Unavailable
                                && status.message().contains("concurrently") => {}
                        Err(_) => return,
                    }
                }
            })
        };
        let syncer = {
            let (clients, acked) = (clients.clone(), acked.clone());
            tokio::spawn(async move {
                for i in 0usize.. {
                    let id = {
                        let acked = acked.lock().await;
                        acked.created.get(i % acked.created.len().max(1)).cloned()
                    };
                    let Some(id) = id else {
                        tokio::time::sleep(Duration::from_millis(5)).await;
                        continue;
                    };
                    let request = SyncBindingRequest {
                        org_id: "acme".into(),
                        binding_id: id,
                    };
                    if let Err(status) = clients.bindings().sync_binding(request).await
                        && matches!(
                            status.code(),
                            tonic::Code::Unavailable
                                | tonic::Code::Unknown
                                | tonic::Code::Cancelled
                        )
                    {
                        return;
                    }
                }
            })
        };

        // Kill at a different point each round.
        let wanted = (round + 1) * 4;
        while acked.lock().await.created.len() < wanted {
            tokio::time::sleep(Duration::from_millis(2)).await;
        }
        tokio::time::sleep(Duration::from_millis(7 * round as u64)).await;
        running.kill9();
        for task in [creator, updater, syncer, watcher] {
            let _ = tokio::time::timeout(Duration::from_secs(10), task).await;
        }

        // After the restart everything acknowledged is there.
        let restarted = ChildDaemon::start(dir.path(), &args, &[]);
        let clients = Clients::connect(restarted.addr, &token).await;
        let acked_now = acked.lock().await;
        for id in &acked_now.created {
            let binding = clients
                .bindings()
                .get_binding(GetBindingRequest {
                    org_id: "acme".into(),
                    binding_id: id.clone(),
                })
                .await
                .unwrap_or_else(|e| panic!("round {round}: acknowledged binding {id} lost: {e:?}"))
                .into_inner()
                .binding
                .unwrap();
            let (last, in_flight) = acked_now.enabled[id];
            assert!(
                binding.enabled == last || Some(binding.enabled) == in_flight,
                "round {round}: {id} enabled={} but the last acknowledged update said {last}",
                binding.enabled
            );
        }
        // The log holds every event a watcher saw, with the same sequence, in order.
        let mut stream = clients
            .bindings()
            .watch_updates(WatchUpdatesRequest {
                org_id: "acme".into(),
                after_sequence: 0,
            })
            .await
            .unwrap()
            .into_inner();
        let mut replayed = Vec::new();
        while replayed.len() < acked_now.events.len() {
            let update = tokio::time::timeout(Duration::from_secs(5), stream.message())
                .await
                .unwrap_or_else(|_| panic!("round {round}: the log ended early"))
                .unwrap()
                .unwrap()
                .update
                .unwrap();
            replayed.push((update.sequence, update.binding_id));
        }
        let mut seen: Vec<(u64, String)> = acked_now.events.clone();
        seen.sort();
        seen.dedup();
        for event in &seen {
            assert!(
                replayed.contains(event),
                "round {round}: event {event:?} lost"
            );
        }
        assert!(
            replayed.windows(2).all(|w| w[0].0 < w[1].0),
            "round {round}: log out of order"
        );
        drop(acked_now);
        daemon = Some(restarted);
    }
    let acked = acked.lock().await;
    assert!(
        acked.created.len() >= ROUNDS * 4,
        "{} creates acknowledged",
        acked.created.len()
    );
    assert!(
        acked.events.len() >= ROUNDS,
        "the watchers saw {} events",
        acked.events.len()
    );
}

/// `kpilink_update_log_last_sequence` from the metrics endpoint.
async fn scrape_last_sequence(addr: std::net::SocketAddr) -> u64 {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut socket = tokio::net::TcpStream::connect(addr).await.unwrap();
    socket
        .write_all(b"GET /metrics HTTP/1.1\r\nhost: x\r\n\r\n")
        .await
        .unwrap();
    let mut body = String::new();
    socket.read_to_string(&mut body).await.unwrap();
    body.lines()
        .find_map(|line| line.strip_prefix("kpilink_update_log_last_sequence "))
        .and_then(|value| value.trim().parse().ok())
        .unwrap()
}

/// Resident memory of this process, in KiB.
fn rss_kib() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    status
        .lines()
        .find_map(|line| line.strip_prefix("VmRSS:"))
        .and_then(|rest| rest.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn five_hundred_watchers_under_30_s_of_mutations_get_every_event_in_bounded_memory() {
    const WATCHERS: usize = 500;
    const LOAD: Duration = Duration::from_secs(30);
    let fake = fake_looker(FakeLookerConfig::default()).await;
    let daemon = local_daemon().await;
    let connection_id = connect_fake(&daemon, &fake, "demo-client-secret", None).await;
    let mut ids = Vec::new();
    for i in 0..20 {
        let binding = daemon
            .clients
            .bindings()
            .create_binding(binding_request(&connection_id, &format!("kr-{i}")))
            .await
            .unwrap()
            .into_inner()
            .binding
            .unwrap();
        ids.push(binding.id);
    }
    // Every watcher replays from the start and then follows live, checking order,
    // until it has seen as many events as the load produced (known at the end).
    let received = Arc::new(std::sync::atomic::AtomicU64::new(0));
    let target = Arc::new(std::sync::atomic::AtomicU64::new(u64::MAX));
    let mut readers = Vec::new();
    for _ in 0..WATCHERS {
        let mut stream = daemon
            .clients
            .bindings()
            .watch_updates(WatchUpdatesRequest {
                org_id: "acme".into(),
                after_sequence: 0,
            })
            .await
            .unwrap()
            .into_inner();
        let (received, target) = (received.clone(), target.clone());
        readers.push(tokio::spawn(async move {
            let (mut last, mut count) = (0u64, 0u64);
            while count < target.load(std::sync::atomic::Ordering::Relaxed) {
                let Ok(message) =
                    tokio::time::timeout(Duration::from_millis(500), stream.message()).await
                else {
                    continue;
                };
                let sequence = message
                    .expect("no stream error")
                    .expect("the stream stays open")
                    .update
                    .unwrap()
                    .sequence;
                assert!(sequence > last, "events in order");
                last = sequence;
                count += 1;
                received.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            }
            (last, count)
        }));
    }
    let rss_before = rss_kib();

    // 30 s of mutations: each acknowledged toggle is exactly one event.
    let started = tokio::time::Instant::now();
    let mut events = ids.len() as u64;
    let mut enabled = vec![true; ids.len()];
    let mut i = 0;
    while started.elapsed() < LOAD {
        let index = i % ids.len();
        enabled[index] = !enabled[index];
        daemon
            .clients
            .bindings()
            .update_binding(toggle(&ids[index], enabled[index]))
            .await
            .unwrap();
        events += 1;
        i += 1;
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    // Re-enabled bindings sync at once (PENDING, then OK): wait until the log is
    // quiet, then every watcher must have every event of it.
    let mut last_sequence = 0;
    loop {
        tokio::time::sleep(Duration::from_millis(1500)).await;
        let now = scrape_last_sequence(daemon.metrics_addr).await;
        if now == last_sequence {
            break;
        }
        last_sequence = now;
    }
    assert!(
        last_sequence >= events,
        "{last_sequence} events logged, {events} acknowledged changes"
    );
    let events = last_sequence;
    target.store(events, std::sync::atomic::Ordering::Relaxed);
    let expected = events * WATCHERS as u64;
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    while received.load(std::sync::atomic::Ordering::Relaxed) < expected {
        assert!(
            tokio::time::Instant::now() < deadline,
            "watchers received {} of {expected} events",
            received.load(std::sync::atomic::Ordering::Relaxed)
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let rss_after = rss_kib();
    assert!(
        rss_after < rss_before + 256 * 1024,
        "memory grew from {rss_before} KiB to {rss_after} KiB"
    );
    for reader in readers {
        let (last, count) = reader.await.unwrap();
        assert_eq!(count, events, "a watcher missed events");
        assert_eq!(last, events, "sequences are gap-free from 1");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_fault_matrix_ends_in_the_right_states_and_loses_no_events() {
    use kpilink::sync::SyncSettings;
    use kpilink_looker_fake::{Fault, FaultKind, SetValue};

    let fake = fake_looker(FakeLookerConfig::default()).await;
    let daemon = TestDaemon::start_with(|config| {
        config.allow_http_sources = true;
        config.allow_source_cidrs = vec!["127.0.0.1/32".parse().unwrap()];
        config.source_body_cap = 1 << 20;
        config.sync = SyncSettings {
            min_interval: Duration::from_secs(1),
            coalesce_window: Duration::from_millis(200),
            ..SyncSettings::default()
        };
    })
    .await;
    let connection_id = connect_fake(&daemon, &fake, "demo-client-secret", None).await;
    let mut request = binding_request(&connection_id, "kr-faults");
    request.source = Some(tile_source("1", "102"));
    request.selection = Some(Selection {
        x: Some(kpilink::proto::selection::X::Latest(true)),
        ..Default::default()
    });
    request.sync_interval = Some(prost_types::Duration {
        seconds: 1,
        nanos: 0,
    });
    daemon
        .clients
        .bindings()
        .create_binding(request)
        .await
        .unwrap();
    let mut stream = daemon
        .clients
        .bindings()
        .watch_updates(WatchUpdatesRequest {
            org_id: "acme".into(),
            after_sequence: 0,
        })
        .await
        .unwrap()
        .into_inner();
    let created = next_event(&mut stream).await;
    let mut last_sequence = created.sequence;

    let faults: Vec<(&str, Option<FaultKind>)> = vec![
        ("latency spike", Some(FaultKind::Latency { ms: 1500 })),
        ("500", Some(FaultKind::Status { status: 500 })),
        ("503", Some(FaultKind::Status { status: 503 })),
        (
            "429",
            Some(FaultKind::RateLimit {
                retry_after_secs: 1,
            }),
        ),
        ("malformed body", Some(FaultKind::Malformed)),
        ("oversized body", Some(FaultKind::Oversized { mib: 2 })),
        ("connection reset", Some(FaultKind::Reset)),
        ("token expiry", None),
    ];
    for (index, (name, fault)) in faults.into_iter().enumerate() {
        match fault {
            Some(kind) => fake.control().add_fault(Fault::next("run_query", 2, kind)),
            None => fake.control().expire_tokens(),
        }
        let value = 3_000_000 + index as u64 * 1000;
        fake.control()
            .set_value(SetValue {
                dashboard_element_id: Some("102".into()),
                look_id: None,
                query_id: None,
                field: None,
                row: None,
                pivot: None,
                value: Some(value as f64),
            })
            .unwrap();
        // Exactly one event: the new value, still OK (transient faults are retried silently).
        let update = next_event(&mut stream).await;
        assert_eq!(
            update.exact_value,
            value.to_string(),
            "after the {name} fault"
        );
        assert_eq!(
            update.status.unwrap().state(),
            BindingState::Ok,
            "after the {name} fault"
        );
        assert_eq!(
            update.sequence,
            last_sequence + 1,
            "no event lost or repeated ({name})"
        );
        last_sequence = update.sequence;
    }

    // A source change: BROKEN with its reason and the last value, then OK again.
    fake.control().remove_tile("102").unwrap();
    let broken = next_event(&mut stream).await;
    let status = broken.status.unwrap();
    assert_eq!(
        (status.state(), status.reason.as_str()),
        (BindingState::Broken, "TILE_NOT_FOUND")
    );
    assert_eq!(
        broken.exact_value, broken.previous_exact_value,
        "the last value is kept"
    );
    fake.control().restore_tile("102").unwrap();
    let recovered = next_event(&mut stream).await;
    assert_eq!(recovered.status.unwrap().state(), BindingState::Ok);
    assert_eq!(recovered.sequence, broken.sequence + 1);
}

async fn next_event(stream: &mut tonic::Streaming<WatchUpdatesResponse>) -> BindingUpdate {
    tokio::time::timeout(Duration::from_secs(20), stream.message())
        .await
        .expect("an event within 20 s")
        .unwrap()
        .unwrap()
        .update
        .unwrap()
}
