//! Scale benchmark: the daemon holding 100,000 bindings and 1,000,000 history
//! entries (10 per binding) — its start-up time to serving, its resident memory
//! (RSS) and the size of its sled database — against the same daemon with an
//! empty database, measured in the same run.
//!
//! Start-up is from spawning `kpilink serve` to the first answered GetBinding;
//! RSS is read after start-up and again after every binding was listed and a
//! thousand histories were read. The bindings and their history are seeded
//! straight into the store (through its own write path) from a template the
//! daemon created over gRPC.
//!
//! Run with `cargo bench --bench scale`.

mod support;

use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use kpilink::proto::*;
use kpilink::store::{BindingRecord, HistoryRecord, SledStore, Store};
use kpilink::time::now_micros;
use kpilink_looker_fake::{FakeLooker, FakeLookerConfig};
use support::{Daemon, admin_token, binding_id, clients, dir_size, mib, seed};
use tokio::net::TcpListener;

const ORG: &str = "bench";
const BINDINGS: usize = 100_000;
const HISTORY_PER_BINDING: usize = 10;
const STARTS: usize = 3;
const START_TARGET: Duration = Duration::from_secs(2);
const RSS_TARGET_MIB: f64 = 300.0;

#[tokio::main]
async fn main() {
    let fake = FakeLooker::start(
        FakeLookerConfig::default(),
        TcpListener::bind("127.0.0.1:0").await.unwrap(),
    )
    .await
    .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let (template, probe) = create_template(&fake, dir.path()).await;
    let empty = measure(dir.path(), &probe, 1).await;

    let store = Arc::new(SledStore::open(&dir.path().join("db")).expect("open the store"));
    let mut records = Vec::with_capacity(BINDINGS);
    let mut logical = 0u64;
    let now = now_micros();
    for index in 0..BINDINGS {
        let mut record = template.clone();
        record.id = binding_id();
        record.key_result_id = format!("kr-{index:06}");
        // Planned after the measurement, so no sync runs during it.
        record.next_sync_time = Some(now + 3_600_000_000);
        let history: Vec<HistoryRecord> = (0..HISTORY_PER_BINDING)
            .map(|entry| {
                let mut value = template.current.clone().expect("the template has a value");
                let hours = (HISTORY_PER_BINDING - entry) as i64;
                value.fetched_at = now - hours * 3_600_000_000;
                value.exact = format!("{}.{entry:02}", 3_000_000 + index);
                value.raw = value.exact.clone();
                HistoryRecord {
                    value,
                    backfilled: false,
                }
            })
            .collect();
        logical += serde_json::to_vec(&record).unwrap().len() as u64
            + history
                .iter()
                .map(|h| serde_json::to_vec(h).unwrap().len() as u64)
                .sum::<u64>();
        records.push((record, history));
    }
    let seeded_in = seed(store.clone(), records, 64).await;
    drop(store);
    let sled_bytes = dir_size(dir.path());
    println!(
        "seeded {BINDINGS} bindings and {} history entries in {:.1} s",
        BINDINGS * HISTORY_PER_BINDING,
        seeded_in.as_secs_f64()
    );

    let full = measure(dir.path(), &probe, STARTS).await;

    println!();
    println!(
        "scale: {BINDINGS} bindings, {} history entries",
        BINDINGS * HISTORY_PER_BINDING
    );
    println!("                              empty db     loaded db     loaded/empty   target");
    println!(
        "  start-up to serving      {:>9.0} ms  {:>9.0} ms  {:>12.1}×   < {} ms ({})",
        ms(empty.start),
        ms(full.start),
        ms(full.start) / ms(empty.start),
        START_TARGET.as_millis(),
        verdict(full.start <= START_TARGET)
    );
    println!(
        "  RSS after start-up       {:>9.1} MiB {:>9.1} MiB {:>12.1}×",
        mib(empty.rss_started),
        mib(full.rss_started),
        full.rss_started as f64 / empty.rss_started as f64
    );
    println!(
        "  RSS after reading all    {:>9.1} MiB {:>9.1} MiB {:>12.1}×   < {RSS_TARGET_MIB} MiB ({})",
        mib(empty.rss_read),
        mib(full.rss_read),
        full.rss_read as f64 / empty.rss_read as f64,
        verdict(mib(full.rss_read.max(full.rss_started)) < RSS_TARGET_MIB)
    );
    println!(
        "  sled size                               {:>9.1} MiB   {:.2}× the records' JSON ({:.1} MiB)",
        mib(sled_bytes),
        sled_bytes as f64 / logical as f64,
        mib(logical)
    );
    println!(
        "  listed {} bindings in {:.2} s ({} pages of 100)",
        full.listed,
        full.list_time.as_secs_f64(),
        full.listed.div_ceil(100)
    );
    assert_eq!(full.listed, BINDINGS + 1, "every binding is listed");
    fake.shutdown().await;
}

fn ms(duration: Duration) -> f64 {
    duration.as_secs_f64() * 1000.0
}

fn verdict(met: bool) -> &'static str {
    if met { "met" } else { "MISSED" }
}

struct Measured {
    /// The median over the starts.
    start: Duration,
    rss_started: u64,
    rss_read: u64,
    listed: usize,
    list_time: Duration,
}

/// Starts the daemon `starts` times, timing spawn → first answered GetBinding
/// of `probe`; on the last start, reads RSS, lists every binding and reads a
/// thousand histories, and reads RSS again.
async fn measure(data_dir: &Path, probe: &str, starts: usize) -> Measured {
    let token = admin_token(data_dir);
    let mut times = Vec::new();
    for round in 0..starts {
        let spawned = Instant::now();
        let daemon = Daemon::start(data_dir, &["--log-level", support::QUIET]);
        let (_, mut bindings) = support::clients(daemon.addr, &token).await;
        loop {
            let answer = bindings
                .get_binding(GetBindingRequest {
                    org_id: ORG.into(),
                    binding_id: probe.into(),
                })
                .await;
            if answer.is_ok() {
                break;
            }
            tokio::time::sleep(Duration::from_millis(1)).await;
        }
        times.push(spawned.elapsed());
        if round + 1 < starts {
            daemon.stop();
            continue;
        }
        // Let start-up work that runs after serving (the scheduler) settle.
        tokio::time::sleep(Duration::from_secs(1)).await;
        let rss_started = daemon.rss_bytes();
        let listing = Instant::now();
        let mut ids = Vec::new();
        let mut page_token = String::new();
        loop {
            let page = bindings
                .list_bindings(ListBindingsRequest {
                    org_id: ORG.into(),
                    page_size: 100,
                    page_token: page_token.clone(),
                    ..Default::default()
                })
                .await
                .expect("list bindings")
                .into_inner();
            ids.extend(page.bindings.into_iter().map(|b| b.id));
            page_token = page.next_page_token;
            if page_token.is_empty() {
                break;
            }
        }
        let list_time = listing.elapsed();
        for id in ids.iter().step_by(ids.len().div_ceil(1000).max(1)) {
            bindings
                .list_binding_history(ListBindingHistoryRequest {
                    org_id: ORG.into(),
                    binding_id: id.clone(),
                    page_size: 100,
                    ..Default::default()
                })
                .await
                .expect("read a history");
        }
        let rss_read = daemon.rss_bytes();
        daemon.stop();
        times.sort();
        return Measured {
            start: times[times.len() / 2],
            rss_started,
            rss_read,
            listed: ids.len(),
            list_time,
        };
    }
    unreachable!("at least one start")
}

/// A connection to the fake and one binding created over gRPC; returns the
/// stored binding (the seeds' template) and its id.
async fn create_template(fake: &FakeLooker, data_dir: &Path) -> (BindingRecord, String) {
    let daemon = Daemon::start(
        data_dir,
        &[
            "--allow-http-sources",
            "--allow-source-cidr",
            "127.0.0.1/32",
        ],
    );
    let (mut connections, mut bindings) = clients(daemon.addr, &admin_token(data_dir)).await;
    let connection_id =
        support::connect_fake(&mut connections, ORG, "Looker", &fake.base_url()).await;
    // The demo's monthly revenue tile (a single value).
    let binding = bindings
        .create_binding(CreateBindingRequest {
            org_id: ORG.into(),
            key_result_id: "template".into(),
            connection_id,
            source: Some(Source {
                source: Some(source::Source::DashboardTile(DashboardTileRef {
                    dashboard_id: "1".into(),
                    tile_id: "101".into(),
                })),
            }),
            ..Default::default()
        })
        .await
        .expect("create the template binding")
        .into_inner()
        .binding
        .unwrap();
    daemon.stop();
    let store = SledStore::open(&data_dir.join("db")).unwrap();
    let template = store.get_binding(ORG, &binding.id).await.unwrap().unwrap();
    (template, binding.id)
}
