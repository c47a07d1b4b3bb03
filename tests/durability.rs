//! The `kpilink serve` binary as a child process: restarts, SIGKILL, master keys,
//! generated token, logs.

mod common;

use std::collections::HashSet;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use common::*;
use kpilink::proto::*;
use tokio::sync::Mutex;

async fn list_all(clients: &Clients, org_id: &str) -> Vec<Connection> {
    let mut api = clients.connections();
    let mut all = Vec::new();
    let mut page_token = String::new();
    loop {
        let page = api
            .list_connections(ListConnectionsRequest {
                org_id: org_id.into(),
                page_size: 1000,
                page_token,
            })
            .await
            .unwrap()
            .into_inner();
        all.extend(page.connections);
        if page.next_page_token.is_empty() {
            return all;
        }
        page_token = page.next_page_token;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_restart_on_the_same_data_dir_keeps_everything() {
    let dir = tempfile::TempDir::new().unwrap();
    let secret = "restart-secret-4411-never-logged";
    let daemon = ChildDaemon::start(dir.path(), &[], &[]);
    let token = read_admin_token(dir.path());
    let clients = Clients::connect(daemon.addr, &token).await;
    let first = create(&clients, looker_connection("acme", "Prod", secret)).await;
    create(&clients, looker_connection("acme", "Staging", secret)).await;
    create(&clients, looker_connection("globex", "Prod", secret)).await;
    clients
        .connections()
        .update_connection(UpdateConnectionRequest {
            org_id: "acme".into(),
            connection_id: first.id.clone(),
            display_name: "Production".into(),
            ..Default::default()
        })
        .await
        .unwrap();
    let before = (
        list_all(&clients, "acme").await,
        list_all(&clients, "globex").await,
    );
    let logs = daemon.terminate();
    assert!(logs.contains("SIGTERM"), "graceful shutdown is logged");

    let daemon = ChildDaemon::start(dir.path(), &[], &[]);
    // The generated token and the master key are reused, not regenerated.
    assert_eq!(read_admin_token(dir.path()), token);
    let clients = Clients::connect(daemon.addr, &token).await;
    let after = (
        list_all(&clients, "acme").await,
        list_all(&clients, "globex").await,
    );
    assert_eq!(before, after);
    assert_eq!(after.0.len(), 2);
    assert_eq!(after.0[0].display_name, "Production");
    // Secrets still open with the reloaded key: a secret-only update succeeds.
    clients
        .connections()
        .update_connection(UpdateConnectionRequest {
            org_id: "acme".into(),
            connection_id: first.id.clone(),
            secrets: [("client_secret".to_owned(), "new".to_owned())].into(),
            ..Default::default()
        })
        .await
        .unwrap();
    let logs = daemon.terminate();
    assert!(!logs.contains(secret), "a secret reached the logs");
    assert!(!logs.contains(&token), "the token reached the logs");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigkill_loses_no_acknowledged_create() {
    const ACKNOWLEDGED: usize = 60;
    let dir = tempfile::TempDir::new().unwrap();
    let daemon = ChildDaemon::start(dir.path(), &[], &[]);
    let token = read_admin_token(dir.path());
    let clients = Clients::connect(daemon.addr, &token).await;

    // Four writers create concurrently; the daemon dies with writes in flight.
    let acknowledged = Arc::new(Mutex::new(Vec::<String>::new()));
    let counter = Arc::new(AtomicUsize::new(0));
    let mut writers = Vec::new();
    for writer in 0..4 {
        let clients = clients.clone();
        let acknowledged = acknowledged.clone();
        let counter = counter.clone();
        writers.push(tokio::spawn(async move {
            for i in 0.. {
                let request = looker_connection("acme", &format!("w{writer}-{i}"), "s");
                match clients.connections().create_connection(request).await {
                    Ok(response) => {
                        let id = response.into_inner().connection.unwrap().id;
                        acknowledged.lock().await.push(id);
                        counter.fetch_add(1, Ordering::SeqCst);
                    }
                    Err(_) => return,
                }
            }
        }));
    }
    while counter.load(Ordering::SeqCst) < ACKNOWLEDGED {
        tokio::time::sleep(std::time::Duration::from_millis(2)).await;
    }
    let snapshot: Vec<String> = acknowledged.lock().await.clone();
    daemon.kill9();
    for writer in writers {
        writer.await.unwrap();
    }
    let acknowledged: Vec<String> = acknowledged.lock().await.clone();
    assert!(acknowledged.len() >= snapshot.len());

    let daemon = ChildDaemon::start(dir.path(), &[], &[]);
    let clients = Clients::connect(daemon.addr, &token).await;
    let stored: HashSet<String> = list_all(&clients, "acme")
        .await
        .into_iter()
        .map(|c| c.id)
        .collect();
    for id in &acknowledged {
        assert!(stored.contains(id), "acknowledged create {id} was lost");
    }
    assert!(stored.len() >= ACKNOWLEDGED);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_wrong_master_key_is_refused_at_start() {
    let dir = tempfile::TempDir::new().unwrap();
    let key_a = "11".repeat(32);
    let key_b = "22".repeat(32);
    let daemon = ChildDaemon::start(dir.path(), &[], &[("KPILINK_MASTER_KEY", &key_a)]);
    let token = read_admin_token(dir.path());
    let clients = Clients::connect(daemon.addr, &token).await;
    create(&clients, looker_connection("acme", "Prod", "s")).await;
    daemon.terminate();
    // No key file was generated: the key came from the environment.
    assert!(
        !dir.path()
            .join(kpilink::security::GENERATED_KEY_FILE)
            .exists()
    );

    let logs = ChildDaemon::try_start(dir.path(), &[], &[("KPILINK_MASTER_KEY", &key_b)])
        .err()
        .expect("a wrong key must not start");
    assert!(logs.contains("master key does not match"), "{logs}");
    assert!(
        !logs.contains(&key_b) && !logs.contains(&key_a),
        "a key reached the logs"
    );

    // A key file with the right key works.
    let key_file = dir.path().join("key.hex");
    std::fs::write(&key_file, format!("{key_a}\n")).unwrap();
    let daemon = ChildDaemon::start(
        dir.path(),
        &["--master-key-file", key_file.to_str().unwrap()],
        &[],
    );
    let clients = Clients::connect(daemon.addr, &token).await;
    assert_eq!(list_all(&clients, "acme").await.len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_generated_admin_token_is_private_and_its_path_is_logged() {
    use std::os::unix::fs::PermissionsExt;

    let dir = tempfile::TempDir::new().unwrap();
    let daemon = ChildDaemon::start(dir.path(), &[], &[]);
    let path = dir.path().join(kpilink::security::ADMIN_TOKEN_FILE);
    let mode = std::fs::metadata(&path).unwrap().permissions().mode();
    assert_eq!(mode & 0o777, 0o600);
    let token = read_admin_token(dir.path());
    assert!(
        daemon.logs().contains(path.to_str().unwrap()),
        "{}",
        daemon.logs()
    );
    assert!(!daemon.logs().contains(&token));
    drop(daemon);

    // A configured token replaces the generated one.
    let configured = "operator-token-1";
    let hash = hex::encode(kpilink::security::hash_token(configured));
    let daemon = ChildDaemon::start(dir.path(), &["--token-hash", &format!("{hash}:*")], &[]);
    let error = Clients::connect(daemon.addr, &token)
        .await
        .connections()
        .list_connector_kinds(ListConnectorKindsRequest {})
        .await
        .unwrap_err();
    assert_error(&error, tonic::Code::Unauthenticated, "TOKEN_INVALID");
    Clients::connect(daemon.addr, configured)
        .await
        .connections()
        .list_connector_kinds(ListConnectorKindsRequest {})
        .await
        .unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bindings_values_schedule_and_update_log_survive_sigkill() {
    let fake = fake_looker(kpilink_looker_fake::FakeLookerConfig::default()).await;
    let dir = tempfile::TempDir::new().unwrap();
    let args = [
        "--allow-http-sources",
        "--allow-source-cidr",
        "127.0.0.1/32",
        "--min-sync-interval",
        "1s",
        "--sync-coalesce-window",
        "1s",
    ];
    let daemon = ChildDaemon::start(dir.path(), &args, &[]);
    let token = read_admin_token(dir.path());
    let clients = Clients::connect(daemon.addr, &token).await;
    let connection = create(
        &clients,
        looker_at(
            "acme",
            "fake",
            &fake.base_url(),
            "demo-client-id",
            "demo-client-secret",
        ),
    )
    .await;
    let mut created = Vec::new();
    for (kr, tile) in [("kr-1", "101"), ("kr-2", "102"), ("kr-3", "104")] {
        let request = CreateBindingRequest {
            org_id: "acme".into(),
            key_result_id: kr.into(),
            connection_id: connection.id.clone(),
            source: Some(tile_source("1", tile)),
            selection: Some(Selection {
                x: (tile != "101").then_some(kpilink::proto::selection::X::Latest(true)),
                ..Default::default()
            }),
            sync_interval: Some(prost_types::Duration {
                seconds: 3600,
                nanos: 0,
            }),
            ..Default::default()
        };
        let binding = clients
            .bindings()
            .create_binding(request)
            .await
            .unwrap()
            .into_inner()
            .binding
            .unwrap();
        created.push(binding);
    }
    let mut stream = clients
        .bindings()
        .watch_updates(WatchUpdatesRequest {
            org_id: "acme".into(),
            after_sequence: 0,
        })
        .await
        .unwrap()
        .into_inner();
    let mut sequences = Vec::new();
    for _ in 0..3 {
        let update = stream.message().await.unwrap().unwrap().update.unwrap();
        sequences.push(update.sequence);
    }
    drop(stream);
    daemon.kill9();

    let daemon = ChildDaemon::start(dir.path(), &args, &[]);
    let clients = Clients::connect(daemon.addr, &token).await;
    for before in &created {
        let after = clients
            .bindings()
            .get_binding(GetBindingRequest {
                org_id: "acme".into(),
                binding_id: before.id.clone(),
            })
            .await
            .unwrap()
            .into_inner()
            .binding
            .unwrap();
        assert_eq!(&after, before, "binding, value and schedule intact");
    }
    // The log replays exactly what was acknowledged, then continues after it.
    let mut stream = clients
        .bindings()
        .watch_updates(WatchUpdatesRequest {
            org_id: "acme".into(),
            after_sequence: 0,
        })
        .await
        .unwrap()
        .into_inner();
    for expected in &sequences {
        let update = stream.message().await.unwrap().unwrap().update.unwrap();
        assert_eq!(update.sequence, *expected);
    }
    let sync = clients
        .bindings()
        .update_binding(UpdateBindingRequest {
            org_id: "acme".into(),
            binding_id: created[0].id.clone(),
            enabled: false,
            update_mask: Some(prost_types::FieldMask {
                paths: vec!["enabled".into()],
            }),
            ..Default::default()
        })
        .await;
    sync.unwrap();
    let next = tokio::time::timeout(std::time::Duration::from_secs(5), stream.message())
        .await
        .unwrap()
        .unwrap()
        .unwrap()
        .update
        .unwrap();
    assert_eq!(
        next.sequence,
        sequences.last().unwrap() + 1,
        "the log continues from the last sequence"
    );
    assert_eq!(next.status.unwrap().state(), BindingState::Disabled);
}
