//! Sync-engine benchmark: one full cycle of 100,000 bindings over 10,000
//! distinct tiles (500 dashboards × 20) on 10 connections, the fake Looker
//! answering every call after 50 ms, 8 Looker calls at a time per connection.
//!
//! The figure is the cycle's wall time — from the moment the bindings fall due
//! to the moment the last one's value is on disk — against:
//! - the ideal, ceil(10,000 / (10 × 8)) × 50 ms: only the query runs, back to
//!   back, with no other cost;
//! - a bare HTTP client measured in the same run, making exactly the Looker
//!   calls one cycle needs (a dashboard read per dashboard, a run per tile) with
//!   the same concurrency and nothing else.
//!
//! The bindings are seeded straight into the store (through the store's own
//! write path) from templates the daemon created over gRPC, because creating
//! 100,000 bindings over gRPC reads 100,000 values first. The daemon runs as
//! `kpilink serve`, a child process.
//!
//! Run with `cargo bench --bench sync_engine`.

mod support;

use std::sync::Arc;
use std::time::{Duration, Instant};

use kpilink::proto::*;
use kpilink::store::{BindingRecord, SledStore, Store};
use kpilink::time::now_micros;
use kpilink_connector::SourceRef;
use kpilink_looker_fake::{BulkContent, FakeLooker, FakeLookerConfig};
use support::{Daemon, admin_token, binding_id, clients, cpu_of, metric_sum, scrape, seed};
use tokio::net::TcpListener;

const ORG: &str = "bench";
const CONNECTIONS: usize = 10;
const DASHBOARDS: usize = 500;
const TILES_PER_DASHBOARD: usize = 20;
const TILES: usize = DASHBOARDS * TILES_PER_DASHBOARD;
const BINDINGS_PER_TILE: usize = 10;
const BINDINGS: usize = TILES * BINDINGS_PER_TILE;
const PER_CONNECTION: usize = 8;
const LATENCY: Duration = Duration::from_millis(50);
const FIRST_DASHBOARD: usize = 10001;
const FIRST_TILE: usize = 1_000_001;
const TARGET_RATIO: f64 = 1.2;

fn tile(index: usize) -> SourceRef {
    SourceRef::DashboardTile {
        dashboard_id: (FIRST_DASHBOARD + index / TILES_PER_DASHBOARD).to_string(),
        tile_id: (FIRST_TILE + index).to_string(),
    }
}

/// What the seeded bindings hold as their last value.
#[derive(Clone, Copy, PartialEq)]
enum Seeded {
    /// The value each tile shows (tile k shows k): the cycle only notes the
    /// sync, as in most cycles.
    Current,
    /// Another value: every binding gets a new value, a history entry and an
    /// update event.
    Stale,
}

struct Cycle {
    wall: Duration,
    last_read: Duration,
    synced: usize,
    ok: usize,
    events: u64,
    daemon_cpu: Duration,
    own_cpu: Duration,
    counters: kpilink_looker_fake::Counters,
}

#[tokio::main]
async fn main() {
    let fake = FakeLooker::start(
        FakeLookerConfig {
            demo: false,
            bulk: Some(BulkContent {
                dashboards: DASHBOARDS,
                tiles_per_dashboard: TILES_PER_DASHBOARD,
            }),
            ..FakeLookerConfig::default()
        },
        TcpListener::bind("127.0.0.1:0").await.unwrap(),
    )
    .await
    .unwrap();
    let steady = cycle(&fake, Seeded::Current).await;
    let changing = cycle(&fake, Seeded::Stale).await;
    fresh_fake(&fake);
    let bare = bare_cycle(&fake).await;
    let bare_counters = fake.control().counters();

    let ideal = LATENCY * TILES.div_ceil(CONNECTIONS * PER_CONNECTION) as u32;
    println!();
    println!(
        "sync cycle: {BINDINGS} bindings, {TILES} tiles on {DASHBOARDS} dashboards, \
         {CONNECTIONS} connections × {PER_CONNECTION}, Looker latency {} ms",
        LATENCY.as_millis()
    );
    println!(
        "  ideal ceil({TILES}/({CONNECTIONS}×{PER_CONNECTION}))×{} ms: {:.2} s",
        LATENCY.as_millis(),
        ideal.as_secs_f64()
    );
    println!(
        "  bare HTTP client making the same Looker calls: {:.2} s ({:.3}× ideal; run_query {}, dashboard {})",
        bare.as_secs_f64(),
        bare.as_secs_f64() / ideal.as_secs_f64(),
        bare_counters.route("run_query"),
        bare_counters.route("dashboard")
    );
    for (name, cycle) in [
        ("values unchanged (a usual cycle)", &steady),
        ("every value changed", &changing),
    ] {
        let ratio = cycle.wall.as_secs_f64() / ideal.as_secs_f64();
        println!("  daemon cycle, {name}:");
        println!(
            "    due → last value durable {:.2} s: {ratio:.3}× ideal (target ≤ {TARGET_RATIO}: {}), {:.3}× bare",
            cycle.wall.as_secs_f64(),
            if ratio <= TARGET_RATIO {
                "met"
            } else {
                "MISSED"
            },
            cycle.wall.as_secs_f64() / bare.as_secs_f64()
        );
        println!(
            "    {} synced, {} OK, {} update events; last value read at +{:.2} s",
            cycle.synced,
            cycle.ok,
            cycle.events,
            cycle.last_read.as_secs_f64()
        );
        println!(
            "    Looker calls: run_query {}, dashboard {}, login {}",
            cycle.counters.route("run_query"),
            cycle.counters.route("dashboard"),
            cycle.counters.route("login")
        );
        println!(
            "    CPU: daemon {:.2} s, fake Looker and poller {:.2} s (of {:.2} s on 2 cores)",
            cycle.daemon_cpu.as_secs_f64(),
            cycle.own_cpu.as_secs_f64(),
            2.0 * cycle.wall.as_secs_f64()
        );
        assert_eq!(cycle.synced, BINDINGS, "every binding syncs in the cycle");
        assert_eq!(
            cycle.counters.route("run_query"),
            TILES as u64,
            "one Looker query run per distinct query"
        );
    }
    fake.shutdown().await;
}

/// The fake as if new (no cached results or dashboards), answering after `LATENCY`.
fn fresh_fake(fake: &FakeLooker) {
    fake.control().reset();
    fake.control().set_latency(LATENCY);
}

/// Seeds 100,000 bindings due at one moment, starts the daemon and waits until
/// every binding has synced.
async fn cycle(fake: &FakeLooker, seeded: Seeded) -> Cycle {
    let dir = tempfile::tempdir().unwrap();
    let templates = create_templates(fake, dir.path()).await;

    let store = Arc::new(SledStore::open(&dir.path().join("db")).expect("open the store"));
    for template in &templates {
        store
            .write_binding(Some(template), None, &[], None)
            .await
            .unwrap();
    }
    // Due far enough ahead that seeding and start-up finish first (a binding
    // already overdue at start is spread over 30 s instead, as after a restart).
    let per_binding = calibrate().await;
    let margin = per_binding.mul_f64(BINDINGS as f64 * 1.5) + Duration::from_secs(8);
    let due = now_micros() + margin.as_micros() as i64;
    let mut records = Vec::with_capacity(BINDINGS);
    for index in 0..BINDINGS {
        let tile_index = index / BINDINGS_PER_TILE;
        let connection = tile_index * CONNECTIONS / TILES;
        let mut record = templates[connection].clone();
        record.id = binding_id();
        record.key_result_id = format!("kr-{index}");
        record.source = tile(tile_index);
        record.next_sync_time = Some(due);
        if seeded == Seeded::Current {
            let value = record.current.as_mut().expect("templates have a value");
            value.exact = (tile_index + 1).to_string();
            value.raw = value.exact.clone();
        }
        records.push((record, Vec::new()));
    }
    let seeded_in = seed(store.clone(), records, 64).await;
    drop(store);
    println!(
        "seeded {BINDINGS} bindings in {:.1} s",
        seeded_in.as_secs_f64()
    );

    fresh_fake(fake);
    let daemon = Daemon::start(dir.path(), &daemon_args());
    let starts_in = Duration::from_micros((due - now_micros()).max(0) as u64);
    assert!(
        starts_in > Duration::from_secs(1),
        "seeding and start-up overran the due time; rerun"
    );
    let events_before = metric_sum(
        &scrape(daemon.metrics_addr).await,
        "kpilink_update_log_last_sequence",
    );
    tokio::time::sleep(starts_in).await;
    let (daemon_cpu, own_cpu) = (cpu_of(daemon.pid()), cpu_of(std::process::id()));
    let wall = wait_for_cycle(&daemon).await;
    let daemon_cpu = cpu_of(daemon.pid()) - daemon_cpu;
    let own_cpu = cpu_of(std::process::id()) - own_cpu;
    let counters = fake.control().counters();
    let events = metric_sum(
        &scrape(daemon.metrics_addr).await,
        "kpilink_update_log_last_sequence",
    ) - events_before;
    daemon.stop();

    let store = SledStore::open(&dir.path().join("db")).expect("reopen the store");
    let bindings = store.all_bindings().await.unwrap();
    let synced: Vec<&BindingRecord> = bindings
        .iter()
        .filter(|b| b.last_sync_time.is_some_and(|t| t >= due))
        .collect();
    let ok = synced
        .iter()
        .filter(|b| b.status.state == kpilink::store::BindingState::Ok)
        .count();
    let last_read = synced
        .iter()
        .filter_map(|b| b.last_sync_time)
        .max()
        .unwrap_or(due);
    Cycle {
        wall,
        last_read: Duration::from_micros((last_read - due).max(0) as u64),
        synced: synced.len(),
        ok,
        events: events as u64,
        daemon_cpu,
        own_cpu,
        counters,
    }
}

fn daemon_args() -> Vec<&'static str> {
    vec![
        "--allow-http-sources",
        "--allow-source-cidr",
        "127.0.0.1/32",
        "--sync-concurrency-per-connection",
        "8",
        // The global limit must not bind below 10 × 8.
        "--sync-concurrency",
        "80",
        "--log-level",
        support::QUIET,
    ]
}

/// Ten connections to the fake, each with one binding created over gRPC (the
/// template of that connection's seeded bindings); returns the stored records.
async fn create_templates(fake: &FakeLooker, data_dir: &std::path::Path) -> Vec<BindingRecord> {
    let daemon = Daemon::start(data_dir, &daemon_args());
    let (mut connections, mut bindings) = clients(daemon.addr, &admin_token(data_dir)).await;
    let mut ids = Vec::new();
    for connection in 0..CONNECTIONS {
        let connection_id = support::connect_fake(
            &mut connections,
            ORG,
            &format!("Looker {connection}"),
            &fake.base_url(),
        )
        .await;
        let SourceRef::DashboardTile {
            dashboard_id,
            tile_id,
        } = tile(connection * TILES / CONNECTIONS)
        else {
            unreachable!()
        };
        let binding = bindings
            .create_binding(CreateBindingRequest {
                org_id: ORG.into(),
                key_result_id: format!("template-{connection}"),
                connection_id,
                source: Some(Source {
                    source: Some(source::Source::DashboardTile(DashboardTileRef {
                        dashboard_id,
                        tile_id,
                    })),
                }),
                ..Default::default()
            })
            .await
            .expect("create a template binding")
            .into_inner()
            .binding
            .unwrap();
        ids.push(binding.id);
    }
    daemon.stop();
    let store = SledStore::open(&data_dir.join("db")).unwrap();
    let mut templates = Vec::new();
    for id in ids {
        templates.push(store.get_binding(ORG, &id).await.unwrap().unwrap());
    }
    templates
}

/// Seeding time per binding, measured on a scratch store.
async fn calibrate() -> Duration {
    const SAMPLE: usize = 5_000;
    let dir = tempfile::tempdir().unwrap();
    let store = Arc::new(SledStore::open(&dir.path().join("db")).unwrap());
    let template = BindingRecord {
        id: String::new(),
        org_id: ORG.into(),
        key_result_id: String::new(),
        connection_id: "con_calibration".into(),
        source: tile(0),
        selection: Default::default(),
        enabled: true,
        sync_interval_ms: 900_000,
        current: None,
        status: kpilink::store::StatusRecord {
            state: kpilink::store::BindingState::Pending,
            reason: String::new(),
            message: String::new(),
            since: 0,
        },
        last_sync_time: None,
        next_sync_time: None,
        create_time: 0,
        update_time: 0,
        failures: 0,
    };
    let records = (0..SAMPLE)
        .map(|index| {
            let mut record = template.clone();
            record.id = binding_id();
            record.key_result_id = format!("kr-{index}");
            (record, Vec::new())
        })
        .collect();
    seed(store, records, 64).await / SAMPLE as u32
}

/// Polls the daemon's metrics until every binding's sync is counted (counted
/// only once durable); returns the time since the bindings fell due.
async fn wait_for_cycle(daemon: &Daemon) -> Duration {
    let started = Instant::now();
    let mut next_report = Duration::from_secs(1);
    loop {
        let text = scrape(daemon.metrics_addr).await;
        let synced = metric_sum(&text, "kpilink_syncs_total");
        if started.elapsed() >= next_report {
            let runs = metric_sum(&text, "kpilink_source_requests_total");
            println!(
                "  +{:>4.1} s: {synced:>6} bindings synced, {runs:>6} Looker requests",
                started.elapsed().as_secs_f64()
            );
            next_report += Duration::from_secs(1);
        }
        if synced >= BINDINGS as f64 {
            return started.elapsed();
        }
        assert!(
            started.elapsed() < Duration::from_secs(300),
            "the cycle did not finish in 300 s:\n{text}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// The Looker calls of one cycle with nothing around them: per connection, a
/// login, then 8 workers reading each dashboard and running each tile's query.
async fn bare_cycle(fake: &FakeLooker) -> Duration {
    let started = Instant::now();
    let mut connections = tokio::task::JoinSet::new();
    for connection in 0..CONNECTIONS {
        let base = format!("{}/api/4.0", fake.base_url());
        connections.spawn(async move {
            let http = reqwest::Client::new();
            let login: serde_json::Value = http
                .post(format!("{base}/login"))
                .form(&[
                    ("client_id", "demo-client-id"),
                    ("client_secret", "demo-client-secret"),
                ])
                .send()
                .await
                .unwrap()
                .json()
                .await
                .unwrap();
            let auth = format!("token {}", login["access_token"].as_str().unwrap());
            let per = DASHBOARDS / CONNECTIONS;
            let dashboards: Vec<usize> = (connection * per..(connection + 1) * per).collect();
            let queue = Arc::new(std::sync::Mutex::new(dashboards));
            let query_ids = Arc::new(std::sync::Mutex::new(Vec::new()));
            let mut workers = tokio::task::JoinSet::new();
            for _ in 0..PER_CONNECTION {
                let (http, auth, base, queue, query_ids) = (
                    http.clone(),
                    auth.clone(),
                    base.clone(),
                    queue.clone(),
                    query_ids.clone(),
                );
                workers.spawn(async move {
                    loop {
                        let Some(dashboard) = queue.lock().unwrap().pop() else {
                            break;
                        };
                        let body: serde_json::Value = http
                            .get(format!("{base}/dashboards/{}", FIRST_DASHBOARD + dashboard))
                            .header("authorization", &auth)
                            .send()
                            .await
                            .unwrap()
                            .json()
                            .await
                            .unwrap();
                        let ids = body["dashboard_elements"]
                            .as_array()
                            .unwrap()
                            .iter()
                            .map(|e| e["query_id"].as_str().unwrap().to_owned());
                        query_ids.lock().unwrap().extend(ids);
                    }
                });
            }
            while workers.join_next().await.is_some() {}
            let mut workers = tokio::task::JoinSet::new();
            for _ in 0..PER_CONNECTION {
                let (http, auth, base, query_ids) =
                    (http.clone(), auth.clone(), base.clone(), query_ids.clone());
                workers.spawn(async move {
                    loop {
                        let Some(query) = query_ids.lock().unwrap().pop() else {
                            break;
                        };
                        let response = http
                            .get(format!("{base}/queries/{query}/run/json_detail?cache=true"))
                            .header("authorization", &auth)
                            .send()
                            .await
                            .unwrap();
                        assert!(response.status().is_success());
                        response.bytes().await.unwrap();
                    }
                });
            }
            while workers.join_next().await.is_some() {}
        });
    }
    while let Some(done) = connections.join_next().await {
        done.unwrap();
    }
    started.elapsed()
}
