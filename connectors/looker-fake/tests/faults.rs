//! Fault injection over real HTTP: status codes, 429 with Retry-After, malformed and oversized
//! bodies, connection resets, latency, a seeded error rate, and the HTTP control of faults.

mod common;

use std::time::{Duration, Instant};

use common::{config, start, start_with};
use kpilink_looker_fake::{FakeLookerConfig, Fault, FaultKind};
use reqwest::StatusCode;
use serde_json::{Value, json};

#[tokio::test]
async fn next_n_requests_on_a_route_answer_5xx_then_recover() {
    let h = start().await;
    h.fake.control().add_fault(Fault::next(
        "run_query",
        2,
        FaultKind::Status { status: 503 },
    ));
    for _ in 0..2 {
        let (status, body) = h.get("/queries/501/run/json_detail").await;
        assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(body["documentation_url"], "http://docs.looker.com/");
    }
    assert_eq!(
        h.get("/looks/1").await.0,
        StatusCode::OK,
        "other routes are not affected"
    );
    assert_eq!(
        h.get("/queries/501/run/json_detail").await.0,
        StatusCode::OK
    );
    assert!(h.fake.control().faults().is_empty(), "used up");
    assert_eq!(
        h.fake.control().route_count("run_query"),
        3,
        "faulted requests are counted"
    );
}

#[tokio::test]
async fn rate_limit_answers_429_with_retry_after() {
    let h = start().await;
    h.fake.control().add_fault(Fault::next(
        "search_dashboards",
        1,
        FaultKind::RateLimit {
            retry_after_secs: 7,
        },
    ));
    let response = h.get_raw("/dashboards/search?title=%25revenue%25").await;
    assert_eq!(response.status(), StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(response.headers()["retry-after"], "7");
    let body: Value = response.json().await.unwrap();
    assert!(body["message"].is_string());
    assert_eq!(h.get("/dashboards/search").await.0, StatusCode::OK);
}

#[tokio::test]
async fn malformed_bodies_are_truncated_json() {
    let h = start().await;
    h.fake
        .control()
        .add_fault(Fault::next("dashboard", 1, FaultKind::Malformed));
    let response = h.get_raw("/dashboards/1").await;
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(response.headers()["content-type"], "application/json");
    let text = response.text().await.unwrap();
    assert!(text.starts_with('{') && text.len() > 100);
    assert!(
        serde_json::from_str::<Value>(&text).is_err(),
        "not valid JSON"
    );
    assert!(
        serde_json::from_str::<Value>(&h.get_raw("/dashboards/1").await.text().await.unwrap())
            .is_ok()
    );
}

#[tokio::test]
async fn oversized_bodies_are_megabytes_of_valid_json() {
    let h = start().await;
    h.fake.control().add_fault(Fault::next(
        "search_looks",
        1,
        FaultKind::Oversized { mib: 3 },
    ));
    let response = h.get_raw("/looks/search").await;
    assert_eq!(response.status(), StatusCode::OK);
    let length: u64 = response.headers()["content-length"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    let bytes = response.bytes().await.unwrap();
    assert_eq!(bytes.len() as u64, length);
    assert!(bytes.len() >= 3 * 1024 * 1024);
    let parsed: Value = serde_json::from_slice(&bytes).unwrap();
    assert!(parsed.as_array().unwrap().len() > 1000);
}

#[tokio::test]
async fn connection_resets_close_the_socket_without_a_response() {
    let h = start().await;
    h.fake
        .control()
        .add_fault(Fault::next("look", 1, FaultKind::Reset));
    let error = h
        .auth(h.http.get(format!("{}/looks/1", h.api)))
        .send()
        .await
        .expect_err("no response");
    assert!(
        error.status().is_none(),
        "a transport error, not an HTTP status: {error}"
    );
    assert_eq!(
        h.get("/looks/1").await.0,
        StatusCode::OK,
        "the next request is served"
    );
}

#[tokio::test]
async fn latency_applies_globally_and_per_route() {
    let h = start_with(FakeLookerConfig {
        latency: Duration::from_millis(150),
        ..config()
    })
    .await;
    let started = Instant::now();
    assert_eq!(h.get("/looks/1").await.0, StatusCode::OK);
    assert!(started.elapsed() >= Duration::from_millis(150));
    h.fake.control().set_latency(Duration::ZERO);
    h.fake
        .control()
        .add_fault(Fault::always("dashboard", FaultKind::Latency { ms: 300 }));
    let started = Instant::now();
    h.get("/looks/1").await;
    assert!(
        started.elapsed() < Duration::from_millis(250),
        "other routes are fast"
    );
    let started = Instant::now();
    h.get("/dashboards/1").await;
    assert!(started.elapsed() >= Duration::from_millis(300));
}

#[tokio::test]
async fn a_seeded_error_rate_repeats_exactly() {
    async fn pattern(seed: u64) -> Vec<u16> {
        let h = start().await;
        h.fake.control().add_fault(Fault::always(
            "look",
            FaultKind::ErrorRate {
                rate: 0.5,
                status: 500,
                seed,
            },
        ));
        let mut out = Vec::new();
        for _ in 0..20 {
            out.push(h.get("/looks/1").await.0.as_u16());
        }
        out
    }
    let first = pattern(7).await;
    assert_eq!(first, pattern(7).await);
    assert!(first.contains(&500) && first.contains(&200), "{first:?}");
}

#[tokio::test]
async fn faults_and_token_expiry_over_the_control_endpoint() {
    let h = start().await;
    let (status, list) = h
        .control_post(
            "/faults",
            &json!([
                {"route": "login", "kind": "status", "status": 500, "count": 1},
                {"kind": "latency", "ms": 1}
            ]),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(list.as_array().unwrap().len(), 2);
    let login = h
        .http
        .post(format!("{}/login", h.api))
        .form(&[
            ("client_id", "demo-client-id"),
            ("client_secret", "demo-client-secret"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(login.status(), StatusCode::INTERNAL_SERVER_ERROR);
    assert_eq!(
        h.control_get("/faults").await,
        json!([{"route": null, "kind": "latency", "ms": 1, "count": null}])
    );
    let cleared = h
        .http
        .delete(format!("{}/control/faults", h.base))
        .send()
        .await
        .unwrap();
    assert_eq!(cleared.status(), StatusCode::NO_CONTENT);
    assert_eq!(h.control_get("/faults").await, json!([]));
    assert_eq!(
        h.control_post("/faults", &json!({"kind": "nonsense"}))
            .await
            .0,
        StatusCode::UNPROCESSABLE_ENTITY
    );

    assert_eq!(h.get("/looks/1").await.0, StatusCode::OK);
    assert_eq!(
        h.control_post("/tokens/expire", &json!({})).await.0,
        StatusCode::NO_CONTENT
    );
    assert_eq!(h.get("/looks/1").await.0, StatusCode::UNAUTHORIZED);
    let settings = h
        .control_post("/settings", &json!({"token_ttl_secs": 5, "latency_ms": 0}))
        .await
        .1;
    assert_eq!(settings["token_ttl_secs"], 5);
    let login: Value = h
        .http
        .post(format!("{}/login", h.api))
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
    assert_eq!(login["expires_in"], 5);
}
