//! BindingService and the sync engine through a real daemon against the fake
//! Looker, with short intervals.

mod common;

use std::time::Duration;

use common::*;
use kpilink::proto::selection::X;
use kpilink::proto::*;
use kpilink::sync::SyncSettings;
use kpilink_looker_fake::{FakeLookerConfig, Fault, FaultKind, SetValue};
use tokio_stream::StreamExt;
use tonic::Code;

const INTERVAL: Duration = Duration::from_secs(2);

struct Env {
    daemon: TestDaemon,
    fake: kpilink_looker_fake::FakeLooker,
    connection_id: String,
}

async fn env() -> Env {
    let fake = fake_looker(FakeLookerConfig::default()).await;
    let daemon = TestDaemon::start_with(|config| {
        config.allow_http_sources = true;
        config.allow_source_cidrs = vec!["127.0.0.1/32".parse().unwrap()];
        config.sync = SyncSettings {
            default_interval: INTERVAL,
            min_interval: Duration::from_secs(1),
            coalesce_window: Duration::from_millis(1500),
            ..SyncSettings::default()
        };
    })
    .await;
    let connection_id = connect_fake(&daemon, &fake, "demo-client-secret", None).await;
    Env {
        daemon,
        fake,
        connection_id,
    }
}

fn latest() -> Selection {
    Selection {
        x: Some(X::Latest(true)),
        ..Default::default()
    }
}

impl Env {
    fn create_request(
        &self,
        key_result_id: &str,
        source: Source,
        selection: Selection,
    ) -> CreateBindingRequest {
        CreateBindingRequest {
            org_id: "acme".into(),
            key_result_id: key_result_id.into(),
            connection_id: self.connection_id.clone(),
            source: Some(source),
            selection: Some(selection),
            enabled: None,
            sync_interval: Some(prost_types::Duration {
                seconds: INTERVAL.as_secs() as i64,
                nanos: 0,
            }),
            backfill_since: None,
        }
    }

    async fn create(&self, key_result_id: &str, source: Source, selection: Selection) -> Binding {
        self.daemon
            .clients
            .bindings()
            .create_binding(self.create_request(key_result_id, source, selection))
            .await
            .unwrap()
            .into_inner()
            .binding
            .unwrap()
    }

    async fn get(&self, binding_id: &str) -> Binding {
        self.daemon
            .clients
            .bindings()
            .get_binding(GetBindingRequest {
                org_id: "acme".into(),
                binding_id: binding_id.into(),
            })
            .await
            .unwrap()
            .into_inner()
            .binding
            .unwrap()
    }

    /// Polls until `check` holds for the binding (at most `within`).
    async fn until(
        &self,
        binding_id: &str,
        within: Duration,
        check: impl Fn(&Binding) -> bool,
    ) -> Binding {
        let deadline = tokio::time::Instant::now() + within;
        loop {
            let binding = self.get(binding_id).await;
            if check(&binding) {
                return binding;
            }
            assert!(
                tokio::time::Instant::now() < deadline,
                "condition not reached: {binding:?}"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    async fn watch(&self, after_sequence: u64) -> tonic::Streaming<WatchUpdatesResponse> {
        self.daemon
            .clients
            .bindings()
            .watch_updates(WatchUpdatesRequest {
                org_id: "acme".into(),
                after_sequence,
            })
            .await
            .unwrap()
            .into_inner()
    }

    fn set_revenue(&self, value: f64) {
        self.fake
            .control()
            .set_value(SetValue {
                dashboard_element_id: Some("102".into()),
                look_id: None,
                query_id: None,
                field: None,
                row: None,
                pivot: None,
                value: Some(value),
            })
            .unwrap();
    }
}

async fn next_update(
    stream: &mut tonic::Streaming<WatchUpdatesResponse>,
    within: Duration,
) -> BindingUpdate {
    tokio::time::timeout(within, stream.next())
        .await
        .expect("an update within the deadline")
        .expect("the stream is open")
        .expect("no stream error")
        .update
        .unwrap()
}

fn state(binding: &Binding) -> BindingState {
    binding.status.as_ref().unwrap().state()
}

fn value(binding: &Binding) -> String {
    binding
        .current
        .as_ref()
        .map(|c| c.exact_value.clone())
        .unwrap_or_default()
}

#[tokio::test]
async fn bindings_crud_with_one_binding_per_key_result() {
    let env = env().await;
    let mut api = env.daemon.clients.bindings();
    let created = env.create("kr-1", tile_source("1", "102"), latest()).await;
    assert_eq!(value(&created), "3060725.83");
    assert_eq!(state(&created), BindingState::Ok);
    assert!(created.enabled && created.next_sync_time.is_some());

    let error = api
        .create_binding(env.create_request("kr-1", tile_source("1", "101"), Selection::default()))
        .await
        .unwrap_err();
    assert_error(&error, Code::AlreadyExists, "BINDING_EXISTS");
    // The selection is validated by reading once; a bad one stores nothing.
    let error = api
        .create_binding(env.create_request("kr-2", tile_source("1", "103"), latest()))
        .await
        .unwrap_err();
    assert_error(&error, Code::InvalidArgument, "FIELD_REQUIRED");
    let mut too_fast = env.create_request("kr-2", tile_source("1", "101"), Selection::default());
    too_fast.sync_interval = Some(prost_types::Duration {
        seconds: 0,
        nanos: 100,
    });
    assert_error(
        &api.create_binding(too_fast).await.unwrap_err(),
        Code::InvalidArgument,
        "FIELD_INVALID",
    );

    let single = env
        .create("kr-2", tile_source("1", "101"), Selection::default())
        .await;
    assert_eq!(value(&single), "29320299.79");

    let listed = api
        .list_bindings(ListBindingsRequest {
            org_id: "acme".into(),
            key_result_id: "kr-2".into(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner()
        .bindings;
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0].id, single.id);

    let disabled = api
        .update_binding(UpdateBindingRequest {
            org_id: "acme".into(),
            binding_id: single.id.clone(),
            enabled: false,
            update_mask: Some(prost_types::FieldMask {
                paths: vec!["enabled".into()],
            }),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner()
        .binding
        .unwrap();
    assert_eq!(state(&disabled), BindingState::Disabled);
    let error = api
        .sync_binding(SyncBindingRequest {
            org_id: "acme".into(),
            binding_id: single.id.clone(),
        })
        .await
        .unwrap_err();
    assert_error(&error, Code::FailedPrecondition, "BINDING_DISABLED");
    assert_eq!(
        value(&disabled),
        "29320299.79",
        "a disabled binding keeps its value"
    );
    let only_enabled = api
        .list_bindings(ListBindingsRequest {
            org_id: "acme".into(),
            enabled: Some(true),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner()
        .bindings;
    assert_eq!(only_enabled.len(), 1);
    assert_eq!(only_enabled[0].id, created.id);

    // A new selection is read at once.
    let moved = api
        .update_binding(UpdateBindingRequest {
            org_id: "acme".into(),
            binding_id: created.id.clone(),
            selection: Some(Selection {
                x: Some(X::XValue("2026-04".into())),
                ..Default::default()
            }),
            update_mask: Some(prost_types::FieldMask {
                paths: vec!["selection".into()],
            }),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner()
        .binding
        .unwrap();
    assert_eq!(value(&moved), "2843386.24");

    api.delete_binding(DeleteBindingRequest {
        org_id: "acme".into(),
        binding_id: created.id.clone(),
    })
    .await
    .unwrap();
    let error = api
        .get_binding(GetBindingRequest {
            org_id: "acme".into(),
            binding_id: created.id.clone(),
        })
        .await
        .unwrap_err();
    assert_error(&error, Code::NotFound, "BINDING_NOT_FOUND");
    let error = api
        .get_binding(GetBindingRequest {
            org_id: "other".into(),
            binding_id: single.id.clone(),
        })
        .await
        .unwrap_err();
    assert_error(&error, Code::NotFound, "BINDING_NOT_FOUND");

    // The connection is in use until forced; forcing disables its bindings.
    let mut connections = env.daemon.clients.connections();
    let error = connections
        .delete_connection(DeleteConnectionRequest {
            org_id: "acme".into(),
            connection_id: env.connection_id.clone(),
            force: false,
        })
        .await
        .unwrap_err();
    assert_error(&error, Code::FailedPrecondition, "CONNECTION_IN_USE");
    api.update_binding(UpdateBindingRequest {
        org_id: "acme".into(),
        binding_id: single.id.clone(),
        enabled: true,
        update_mask: Some(prost_types::FieldMask {
            paths: vec!["enabled".into()],
        }),
        ..Default::default()
    })
    .await
    .unwrap();
    let forced = connections
        .delete_connection(DeleteConnectionRequest {
            org_id: "acme".into(),
            connection_id: env.connection_id.clone(),
            force: true,
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(forced.disabled_bindings, 1);
    let orphan = env.get(&single.id).await;
    assert!(!orphan.enabled);
    assert_eq!(state(&orphan), BindingState::Disabled);
}

#[tokio::test]
async fn a_changed_value_reaches_watch_updates_within_one_interval() {
    let env = env().await;
    let binding = env
        .create("kr-watch", tile_source("1", "102"), latest())
        .await;
    let mut stream = env.watch(0).await;
    let first = next_update(&mut stream, Duration::from_secs(2)).await;
    assert_eq!(
        (first.binding_id.as_str(), first.value),
        (binding.id.as_str(), Some(3060725.83))
    );
    assert_eq!(first.previous_value, None);

    env.set_revenue(3_200_000.0);
    let update = next_update(&mut stream, INTERVAL * 3).await;
    assert_eq!(update.value, Some(3_200_000.0));
    assert_eq!(update.previous_value, Some(3060725.83));
    assert_eq!(
        (
            update.exact_value.as_str(),
            update.previous_exact_value.as_str()
        ),
        ("3200000", "3060725.83")
    );
    assert_eq!(update.key_result_id, "kr-watch");
    assert!(update.sequence > first.sequence);
    assert_eq!(value(&env.get(&binding.id).await), "3200000");

    let history = env
        .daemon
        .clients
        .bindings()
        .list_binding_history(ListBindingHistoryRequest {
            org_id: "acme".into(),
            binding_id: binding.id.clone(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner()
        .entries;
    let values: Vec<&str> = history.iter().map(|e| e.exact_value.as_str()).collect();
    assert_eq!(
        values,
        ["3200000", "3060725.83"],
        "newest first, one entry per distinct value"
    );
    assert_eq!(history[0].x_value, "2026-05");
}

#[tokio::test]
async fn bindings_reading_the_same_tiles_share_one_query_run_per_cycle() {
    let env = env().await;
    let tiles = [
        ("1", "102"),
        ("1", "104"),
        ("2", "111"),
        ("4", "131"),
        ("9", "183"),
    ];
    for i in 0..50 {
        let (dashboard, tile) = tiles[i % tiles.len()];
        let selection = match tile {
            "111" => Selection {
                x: Some(X::Latest(true)),
                pivot_key: "EMEA".into(),
                ..Default::default()
            },
            "131" => Selection::default(),
            _ => latest(),
        };
        env.create(&format!("kr-{i}"), tile_source(dashboard, tile), selection)
            .await;
    }
    let disabled = {
        let mut request =
            env.create_request("kr-off", tile_source("1", "101"), Selection::default());
        request.enabled = Some(false);
        env.daemon
            .clients
            .bindings()
            .create_binding(request)
            .await
            .unwrap()
            .into_inner()
            .binding
            .unwrap()
    };
    assert_eq!(state(&disabled), BindingState::Disabled);

    env.fake.control().reset_counters();
    let started = kpilink::time::now_micros();
    // Watch Looker's query runs arrive: each sync cycle is a burst of runs,
    // cycles at least the coalescing window apart.
    let mut bursts: Vec<u64> = Vec::new();
    let (mut seen, mut last_change) = (0, tokio::time::Instant::now());
    let watch_until = tokio::time::Instant::now() + INTERVAL * 2 + Duration::from_millis(900);
    while tokio::time::Instant::now() < watch_until {
        let now_count = env.fake.control().route_count("run_query");
        if now_count > seen {
            // A cycle's runs start within milliseconds; cycles are at least the
            // coalescing window (1.5 s) apart.
            if bursts.is_empty() || last_change.elapsed() > Duration::from_millis(400) {
                bursts.push(0);
            }
            *bursts.last_mut().unwrap() += now_count - seen;
            seen = now_count;
            last_change = tokio::time::Instant::now();
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let runs = env.fake.control().route_count("run_query");

    // Every enabled binding synced in the window…
    let listed = env
        .daemon
        .clients
        .bindings()
        .list_bindings(ListBindingsRequest {
            org_id: "acme".into(),
            page_size: 100,
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner()
        .bindings;
    let synced = listed
        .iter()
        .filter(|b| b.enabled)
        .filter(|b| {
            let t = b.last_sync_time.unwrap();
            t.seconds * 1_000_000 + i64::from(t.nanos) / 1000 > started
        })
        .count();
    assert_eq!(synced, 50, "every enabled binding synced at least once");
    // …yet Looker ran each of the 5 queries once per cycle, not once per binding:
    // at most 3 cycles fit in the window (5 s at a 2 s interval), and bindings
    // created a moment apart may form two cohorts.
    assert!(
        (5..=25).contains(&runs),
        "query runs: {runs} for 50 bindings over 5 tiles"
    );
    // Per cycle: one run per distinct query, however many bindings read it.
    assert!(bursts.len() >= 2, "cycles seen: {bursts:?}");
    assert!(
        bursts.iter().all(|&runs| runs <= 5),
        "runs per cycle: {bursts:?}"
    );
    assert!(
        bursts.contains(&5),
        "a full cycle runs the 5 queries: {bursts:?}"
    );
    // The disabled binding was never fetched.
    let untouched = env.get(&disabled.id).await;
    assert_eq!(untouched.last_sync_time, disabled.last_sync_time);
}

#[tokio::test]
async fn a_watcher_that_reconnects_gets_exactly_the_missed_events_in_order() {
    let env = env().await;
    let a = env.create("kr-a", tile_source("1", "102"), latest()).await;
    env.create("kr-b", tile_source("1", "101"), Selection::default())
        .await;
    let mut stream = env.watch(0).await;
    let first = next_update(&mut stream, Duration::from_secs(2)).await;
    let second = next_update(&mut stream, Duration::from_secs(2)).await;
    assert!(second.sequence > first.sequence);
    drop(stream);

    // Events happen while nobody watches.
    for (revenue, expected) in [(3_300_000.0, "3300000"), (3_400_000.0, "3400000")] {
        env.set_revenue(revenue);
        env.until(&a.id, INTERVAL * 4, |b| value(b) == expected)
            .await;
    }
    let mut stream = env.watch(second.sequence).await;
    let missed_1 = next_update(&mut stream, Duration::from_secs(2)).await;
    let missed_2 = next_update(&mut stream, Duration::from_secs(2)).await;
    assert_eq!(
        (missed_1.value, missed_2.value),
        (Some(3_300_000.0), Some(3_400_000.0))
    );
    assert!(second.sequence < missed_1.sequence && missed_1.sequence < missed_2.sequence);
    // And nothing else.
    assert!(
        tokio::time::timeout(Duration::from_millis(300), stream.next())
            .await
            .is_err()
    );
}

#[tokio::test]
async fn transient_faults_are_retried_to_success() {
    let env = env().await;
    let binding = env
        .create("kr-faults", tile_source("1", "102"), latest())
        .await;
    let control = env.fake.control();
    control.add_fault(Fault::next(
        "run_query",
        2,
        FaultKind::Status { status: 503 },
    ));
    control.add_fault(Fault::next(
        "run_query",
        1,
        FaultKind::RateLimit {
            retry_after_secs: 1,
        },
    ));
    control.expire_tokens();
    env.set_revenue(3_500_000.0);
    let synced = env
        .until(&binding.id, INTERVAL * 8, |b| value(b) == "3500000")
        .await;
    assert_eq!(state(&synced), BindingState::Ok);
}

#[tokio::test]
async fn a_removed_tile_breaks_the_binding_and_restoring_it_recovers() {
    let env = env().await;
    let binding = env
        .create(
            "kr-broken",
            tile_source("1", "103"),
            Selection {
                x: Some(X::Latest(true)),
                pivot_key: "EMEA".into(),
                ..Default::default()
            },
        )
        .await;
    let kept = value(&binding);
    env.fake.control().remove_tile("103").unwrap();
    let broken = env
        .until(&binding.id, INTERVAL * 4, |b| {
            state(b) == BindingState::Broken
        })
        .await;
    let status = broken.status.clone().unwrap();
    assert_eq!(status.reason, "TILE_NOT_FOUND");
    assert!(status.message.contains("103"), "{}", status.message);
    assert_eq!(value(&broken), kept, "the last good value is kept");

    env.fake.control().restore_tile("103").unwrap();
    let ok = env
        .until(&binding.id, INTERVAL * 4, |b| state(b) == BindingState::Ok)
        .await;
    assert_eq!(value(&ok), kept);
}

#[tokio::test]
async fn an_auth_failure_is_an_error_until_the_connection_is_fixed() {
    let env = env().await;
    let binding = env
        .create("kr-auth", tile_source("1", "101"), Selection::default())
        .await;
    let mut connections = env.daemon.clients.connections();
    let set_secret = |secret: &str| UpdateConnectionRequest {
        org_id: "acme".into(),
        connection_id: env.connection_id.clone(),
        secrets: [("client_secret".to_owned(), secret.to_owned())].into(),
        ..Default::default()
    };
    connections
        .update_connection(set_secret("rotated-wrong"))
        .await
        .unwrap();
    let failed = env
        .until(&binding.id, INTERVAL * 4, |b| {
            state(b) == BindingState::Error
        })
        .await;
    assert_eq!(failed.status.clone().unwrap().reason, "SOURCE_AUTH_FAILED");
    assert_eq!(
        failed.next_sync_time, None,
        "not retried until the connection changes"
    );
    let logins = env.fake.control().route_count("login");
    tokio::time::sleep(INTERVAL * 2).await;
    assert_eq!(
        env.fake.control().route_count("login"),
        logins,
        "no retries meanwhile"
    );

    connections
        .update_connection(set_secret("demo-client-secret"))
        .await
        .unwrap();
    let fixed = env
        .until(&binding.id, INTERVAL * 4, |b| state(b) == BindingState::Ok)
        .await;
    assert_eq!(value(&fixed), "29320299.79");
}

#[tokio::test]
async fn sync_now_returns_the_fresh_value_and_concurrent_calls_share_one_fetch() {
    let env = env().await;
    let binding = env
        .create("kr-now", tile_source("1", "102"), latest())
        .await;
    env.set_revenue(3_600_000.0);
    env.fake.control().reset_counters();
    let sync = || {
        let mut api = env.daemon.clients.bindings();
        let request = SyncBindingRequest {
            org_id: "acme".into(),
            binding_id: binding.id.clone(),
        };
        async move {
            api.sync_binding(request)
                .await
                .unwrap()
                .into_inner()
                .binding
                .unwrap()
        }
    };
    let (a, b, c) = tokio::join!(sync(), sync(), sync());
    for synced in [&a, &b, &c] {
        assert_eq!(value(synced), "3600000");
    }
    assert_eq!(
        env.fake.control().route_count("create_query_task"),
        1,
        "one fetch for three calls"
    );
}

#[tokio::test]
async fn backfill_imports_earlier_periods_into_the_history() {
    let env = env().await;
    let mut request = env.create_request("kr-backfill", tile_source("1", "102"), latest());
    request.backfill_since = Some(prost_types::Timestamp {
        seconds: 1_767_225_600,
        nanos: 0,
    }); // 2026-01-01
    let binding = env
        .daemon
        .clients
        .bindings()
        .create_binding(request)
        .await
        .unwrap()
        .into_inner()
        .binding
        .unwrap();
    let history = env
        .daemon
        .clients
        .bindings()
        .list_binding_history(ListBindingHistoryRequest {
            org_id: "acme".into(),
            binding_id: binding.id.clone(),
            page_size: 3,
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    let first_page: Vec<(&str, bool)> = history
        .entries
        .iter()
        .map(|e| (e.x_value.as_str(), e.backfilled))
        .collect();
    assert_eq!(
        first_page,
        [("2026-05", false), ("2026-04", true), ("2026-03", true)]
    );
    assert_eq!(history.entries[1].exact_value, "2843386.24");
    let rest = env
        .daemon
        .clients
        .bindings()
        .list_binding_history(ListBindingHistoryRequest {
            org_id: "acme".into(),
            binding_id: binding.id.clone(),
            page_size: 3,
            page_token: history.next_page_token,
        })
        .await
        .unwrap()
        .into_inner();
    let periods: Vec<&str> = rest.entries.iter().map(|e| e.x_value.as_str()).collect();
    assert_eq!(
        periods,
        ["2026-02", "2026-01"],
        "nothing before backfill_since"
    );
    assert!(rest.next_page_token.is_empty());
}

#[tokio::test]
async fn background_syncs_have_a_long_budget_so_slow_dashboards_sync() {
    let fake = fake_looker(FakeLookerConfig {
        slow_query: Duration::from_millis(2500),
        ..FakeLookerConfig::default()
    })
    .await;
    let daemon = TestDaemon::start_with(|config| {
        config.allow_http_sources = true;
        config.allow_source_cidrs = vec!["127.0.0.1/32".parse().unwrap()];
        config.sync = SyncSettings {
            min_interval: Duration::from_secs(1),
            coalesce_window: Duration::from_millis(500),
            ..SyncSettings::default()
        };
    })
    .await;
    // Interactive calls give up after 1 s; the slow query takes 2.5 s cold.
    let connection_id = connect_fake(
        &daemon,
        &fake,
        "demo-client-secret",
        Some(Duration::from_secs(1)),
    )
    .await;
    let env = Env {
        daemon,
        fake,
        connection_id,
    };
    let request = env.create_request("kr-slow", tile_source("7", "161"), Selection::default());
    let error = env
        .daemon
        .clients
        .bindings()
        .create_binding(request.clone())
        .await
        .unwrap_err();
    assert_error(&error, Code::DeadlineExceeded, "SOURCE_TIMEOUT");
    tokio::time::sleep(Duration::from_millis(2600)).await;
    // The query finished in Looker; the retry is served from its cache.
    let binding = env
        .daemon
        .clients
        .bindings()
        .create_binding(request)
        .await
        .unwrap()
        .into_inner()
        .binding
        .unwrap();
    assert_eq!(state(&binding), BindingState::Ok);

    // New data makes the cache stale: the background sync runs the cold 2.5 s
    // query, far past the 1 s interactive deadline, and gets the new value.
    env.fake
        .control()
        .set_value(SetValue {
            dashboard_element_id: Some("161".into()),
            look_id: None,
            query_id: None,
            field: None,
            row: None,
            pivot: None,
            value: Some(123_456.0),
        })
        .unwrap();
    let synced = env
        .until(&binding.id, Duration::from_secs(12), |b| {
            value(b) == "123456"
        })
        .await;
    assert_eq!(state(&synced), BindingState::Ok);
}

#[tokio::test]
async fn watching_every_org_shows_only_the_orgs_of_the_token() {
    let fake = fake_looker(FakeLookerConfig::default()).await;
    let daemon = TestDaemon::start_with(|config| {
        config.allow_http_sources = true;
        config.allow_source_cidrs = vec!["127.0.0.1/32".parse().unwrap()];
        config.tokens = vec![
            kpilink::security::TokenGrant::new(
                &hex::encode(kpilink::security::hash_token("root")),
                &["*".into()],
            )
            .unwrap(),
            kpilink::security::TokenGrant::new(
                &hex::encode(kpilink::security::hash_token("acme")),
                &["acme".into()],
            )
            .unwrap(),
        ];
    })
    .await;
    let root = daemon.clients.with_token("root");
    for org in ["acme", "globex"] {
        let connection = create(
            &root,
            looker_at(
                org,
                "fake",
                &fake.base_url(),
                "demo-client-id",
                "demo-client-secret",
            ),
        )
        .await;
        root.bindings()
            .create_binding(CreateBindingRequest {
                org_id: org.into(),
                key_result_id: format!("kr-{org}"),
                connection_id: connection.id,
                source: Some(tile_source("1", "101")),
                ..Default::default()
            })
            .await
            .unwrap();
    }
    let mut everything = root
        .bindings()
        .watch_updates(WatchUpdatesRequest::default())
        .await
        .unwrap()
        .into_inner();
    let orgs = [
        next_update(&mut everything, Duration::from_secs(2))
            .await
            .org_id,
        next_update(&mut everything, Duration::from_secs(2))
            .await
            .org_id,
    ];
    assert_eq!(orgs, ["acme", "globex"]);
    let mut scoped = daemon
        .clients
        .with_token("acme")
        .bindings()
        .watch_updates(WatchUpdatesRequest::default())
        .await
        .unwrap()
        .into_inner();
    assert_eq!(
        next_update(&mut scoped, Duration::from_secs(2))
            .await
            .org_id,
        "acme"
    );
    assert!(
        tokio::time::timeout(Duration::from_millis(300), scoped.next())
            .await
            .is_err(),
        "globex stays hidden"
    );
}
