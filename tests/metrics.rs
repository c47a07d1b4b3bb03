//! The Prometheus endpoint, scraped over HTTP from a real daemon.

mod common;

use std::time::Duration;

use common::*;
use kpilink::proto::*;
use kpilink::sync::SyncSettings;
use kpilink_looker_fake::FakeLookerConfig;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

async fn scrape(addr: std::net::SocketAddr, path: &str) -> (String, String) {
    let mut socket = tokio::net::TcpStream::connect(addr).await.unwrap();
    socket
        .write_all(format!("GET {path} HTTP/1.1\r\nhost: x\r\n\r\n").as_bytes())
        .await
        .unwrap();
    let mut response = String::new();
    socket.read_to_string(&mut response).await.unwrap();
    let (head, body) = response.split_once("\r\n\r\n").unwrap();
    (head.lines().next().unwrap().to_owned(), body.to_owned())
}

#[tokio::test]
async fn metrics_count_rpcs_syncs_source_calls_bindings_and_watchers() {
    let fake = fake_looker(FakeLookerConfig::default()).await;
    let daemon = TestDaemon::start_with(|config| {
        config.allow_http_sources = true;
        config.allow_source_cidrs = vec!["127.0.0.1/32".parse().unwrap()];
        config.sync = SyncSettings {
            min_interval: Duration::from_secs(1),
            coalesce_window: Duration::from_millis(200),
            ..SyncSettings::default()
        };
    })
    .await;
    let connection_id = connect_fake(&daemon, &fake, "demo-client-secret", None).await;
    let mut bindings = daemon.clients.bindings();
    bindings
        .create_binding(CreateBindingRequest {
            org_id: "acme".into(),
            key_result_id: "kr-metrics".into(),
            connection_id,
            source: Some(tile_source("1", "101")),
            sync_interval: Some(prost_types::Duration {
                seconds: 1,
                nanos: 0,
            }),
            ..Default::default()
        })
        .await
        .unwrap();
    bindings
        .get_binding(GetBindingRequest {
            org_id: "acme".into(),
            binding_id: "bnd_missing".into(),
        })
        .await
        .unwrap_err();
    let _watch = bindings
        .watch_updates(WatchUpdatesRequest {
            org_id: "acme".into(),
            after_sequence: 0,
        })
        .await
        .unwrap();
    tokio::time::sleep(Duration::from_millis(1800)).await;

    let (status, body) = scrape(daemon.metrics_addr, "/metrics").await;
    assert_eq!(status, "HTTP/1.1 200 OK");
    for line in [
        "kpilink_rpc_requests_total{method=\"/kpilink.v1.BindingService/CreateBinding\",code=\"Ok\"} 1",
        "kpilink_rpc_requests_total{method=\"/kpilink.v1.BindingService/GetBinding\",code=\"NotFound\"} 1",
        "kpilink_rpc_duration_seconds_count{method=\"/kpilink.v1.ConnectionService/CreateConnection\"} 1",
        "kpilink_source_requests_total{route=\"login\",status=\"200\"} 1",
        "kpilink_bindings{state=\"OK\"} 1",
        "kpilink_update_log_events 1",
        "kpilink_watchers 1",
    ] {
        assert!(body.contains(line), "missing {line}\n{body}");
    }
    assert!(
        body.contains("kpilink_source_request_duration_seconds_count{route=\"dashboards/{id}\"}"),
        "{body}"
    );
    assert!(
        body.contains("kpilink_syncs_total{outcome=\"ok\"}"),
        "a background sync ran: {body}"
    );

    let (status, _) = scrape(daemon.metrics_addr, "/other").await;
    assert_eq!(status, "HTTP/1.1 404 Not Found");
}
