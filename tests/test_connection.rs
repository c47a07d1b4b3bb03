//! TestConnection through the daemon: each outcome, and the SSRF guard.

mod common;

use std::time::{Duration, Instant};

use common::*;
use kpilink::proto::*;
use tonic::Code;

async fn test_result(
    daemon: &TestDaemon,
    server_url: &str,
    timeout_secs: i64,
) -> ConnectionTestResult {
    let mut request = looker_at(
        "acme",
        &format!("c-{server_url}"),
        server_url,
        "id",
        "secret",
    );
    request.query_timeout = Some(prost_types::Duration {
        seconds: timeout_secs,
        nanos: 0,
    });
    let connection = create(&daemon.clients, request).await;
    daemon
        .clients
        .connections()
        .test_connection(TestConnectionRequest {
            org_id: "acme".into(),
            connection_id: connection.id,
        })
        .await
        .unwrap()
        .into_inner()
        .result
        .unwrap()
}

#[tokio::test]
async fn a_closed_port_is_unreachable() {
    let daemon = local_daemon().await;
    let addr = closed_port().await;
    let result = test_result(&daemon, &format!("http://{addr}"), 5).await;
    assert!(!result.success);
    assert_eq!(result.reason, "SOURCE_UNREACHABLE");
    assert_eq!(result.outcome(), ConnectionTestOutcome::Unreachable);
}

#[tokio::test]
async fn a_silent_server_times_out_within_the_query_timeout() {
    let daemon = local_daemon().await;
    let addr = silent_server().await;
    let started = Instant::now();
    let result = test_result(&daemon, &format!("http://{addr}"), 1).await;
    let elapsed = started.elapsed();
    assert_eq!(result.reason, "SOURCE_TIMEOUT");
    assert_eq!(result.outcome(), ConnectionTestOutcome::Timeout);
    assert!(
        elapsed < Duration::from_secs(3),
        "took {elapsed:?} for a 1 s deadline"
    );
}

#[tokio::test]
async fn a_server_that_is_not_looker_is_a_wrong_url() {
    let daemon = local_daemon().await;
    let html = canned_http(
        "HTTP/1.1 200 OK\r\ncontent-type: text/html\r\ncontent-length: 15\r\nconnection: close\r\n\r\n<html>hi</html>",
    )
    .await;
    let result = test_result(&daemon, &format!("http://{html}"), 5).await;
    assert_eq!(
        result.outcome(),
        ConnectionTestOutcome::WrongUrl,
        "{result:?}"
    );
    assert!(
        result.message.contains("no Looker API"),
        "{}",
        result.message
    );
    // Looker answers 403 on a wrong path or port.
    let forbidden =
        canned_http("HTTP/1.1 403 Forbidden\r\ncontent-length: 0\r\nconnection: close\r\n\r\n")
            .await;
    let result = test_result(&daemon, &format!("http://{forbidden}"), 5).await;
    assert_eq!(
        result.outcome(),
        ConnectionTestOutcome::WrongUrl,
        "{result:?}"
    );
}

#[tokio::test]
async fn a_redirect_to_an_internal_address_is_not_followed() {
    let daemon = local_daemon().await;
    let redirect = canned_http(
        "HTTP/1.1 302 Found\r\nlocation: http://169.254.169.254/latest/meta-data/\r\ncontent-length: 0\r\nconnection: close\r\n\r\n",
    )
    .await;
    let result = test_result(&daemon, &format!("http://{redirect}"), 5).await;
    assert!(!result.success);
    assert_eq!(result.reason, "URL_NOT_ALLOWED", "{result:?}");
    assert!(result.message.contains("redirect"), "{}", result.message);
}

#[tokio::test]
async fn internal_literals_are_refused_at_create_and_names_at_call_time() {
    let daemon = TestDaemon::start_with(|config| config.allow_http_sources = true).await;
    let mut api = daemon.clients.connections();
    for url in [
        "http://127.0.0.1:9999",
        "https://169.254.169.254",
        "https://[::ffff:127.0.0.1]",
        "https://10.0.0.7",
    ] {
        let error = api
            .create_connection(looker_at("acme", "x", url, "id", "s"))
            .await
            .expect_err(url);
        assert_error(&error, Code::InvalidArgument, "URL_NOT_ALLOWED");
        assert_eq!(violated_fields(&error), ["settings.server_url"]);
    }
    // A name is vetted when it resolves: localhost is loopback.
    let listening =
        canned_http("HTTP/1.1 200 OK\r\ncontent-length: 2\r\nconnection: close\r\n\r\n{}").await;
    let result = test_result(
        &daemon,
        &format!("http://localhost:{}", listening.port()),
        5,
    )
    .await;
    assert_eq!(result.reason, "URL_NOT_ALLOWED", "{result:?}");
    assert_eq!(result.outcome(), ConnectionTestOutcome::UrlNotAllowed);
}
