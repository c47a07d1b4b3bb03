//! Generated bulk content (500 dashboards × 20 single-value tiles, demo off) over real HTTP:
//! ids, tiles, json_detail values, 404s past the end, control, and that latency is an async
//! sleep (concurrent requests overlap). `per_request_cost` is an ignored measurement:
//! `cargo test --release -p kpilink-looker-fake --test bulk -- --ignored --nocapture`.

mod common;

use std::time::{Duration, Instant};

use common::{Harness, ids, start_with};
use kpilink_looker_fake::{BulkContent, FakeLookerConfig};
use reqwest::StatusCode;
use serde_json::{Value, json};

const NOT_FOUND: &str = r#"{"documentation_url":"http://docs.looker.com/","message":"Not found"}"#;

fn bulk_config(latency: Duration) -> FakeLookerConfig {
    FakeLookerConfig {
        demo: false,
        latency,
        bulk: Some(BulkContent {
            dashboards: 500,
            tiles_per_dashboard: 20,
        }),
        ..FakeLookerConfig::default()
    }
}

/// The single value of a json_detail result, checking the shape on the way.
fn single_number(result: &Value) -> f64 {
    assert_eq!(result["status"], "complete", "{result}");
    let measures = result["fields"]["measures"].as_array().expect("measures");
    assert_eq!(measures.len(), 1, "{result}");
    assert_eq!(measures[0]["name"], "bulk_kpis.total_value");
    assert_eq!(result["fields"]["dimensions"], json!([]));
    let data = result["data"].as_array().expect("data");
    assert_eq!(data.len(), 1, "one row: {result}");
    let cell = &data[0]["bulk_kpis.total_value"];
    let value = cell["value"].as_f64().expect("a number");
    assert!(cell["rendered"].is_string(), "{cell}");
    value
}

async fn status_and_text(h: &Harness, path: &str) -> (StatusCode, String) {
    let response = h.get_raw(path).await;
    (response.status(), response.text().await.unwrap_or_default())
}

#[tokio::test]
async fn bulk_dashboards_tiles_and_queries_over_http() {
    let h = start_with(bulk_config(Duration::ZERO)).await;
    assert_eq!(h.token.len(), 40, "login works");

    // Dashboard 10001: 20 single-value tiles 1000001..1000020 with queries 5000001..5000020.
    let dashboard = h.ok("/dashboards/10001").await;
    assert_eq!(dashboard["title"], "Bulk KPIs 0001");
    assert_eq!(dashboard["folder"]["id"], "10");
    let elements = dashboard["dashboard_elements"].as_array().expect("tiles");
    assert_eq!(elements.len(), 20);
    for (i, e) in elements.iter().enumerate() {
        assert_eq!(e["id"], (1_000_001 + i).to_string());
        assert_eq!(e["query_id"], (5_000_001 + i).to_string());
        assert_eq!(e["type"], "vis");
        assert_eq!(e["query"]["vis_config"]["type"], "single_value");
        assert_eq!(
            e["query"]["filters"]["bulk_kpis.kpi_number"],
            (1 + i).to_string()
        );
    }
    let listed = h.ok("/dashboards/10001/dashboard_elements").await;
    assert_eq!(ids(&listed), ids(&dashboard["dashboard_elements"]));

    // A tile's query runs and returns one number: tile k shows k.
    let result = h.ok("/queries/5000007/run/json_detail").await;
    assert_eq!(single_number(&result), 7.0);
    assert_eq!(result["from_cache"], false);

    // The last dashboard and the last tile exist.
    let last = h.ok("/dashboards/10500").await;
    assert_eq!(last["title"], "Bulk KPIs 0500");
    assert_eq!(
        last["dashboard_elements"][19]["id"].as_str(),
        Some("1010000")
    );
    let tile = h.ok("/dashboard_elements/1010000").await;
    assert_eq!(tile["dashboard_id"], "10500");
    assert_eq!(tile["query_id"], "5010000");
    let result = h.ok("/queries/5010000/run/json_detail").await;
    assert_eq!(single_number(&result), 10_000.0);

    // Past the end (and the absent demo) answer Looker's 404.
    for path in [
        "/dashboards/10501",
        "/dashboards/10501/dashboard_elements",
        "/dashboards/10000",
        "/dashboards/1",
        "/dashboard_elements/1010001",
        "/queries/5010001",
        "/queries/5010001/run/json_detail",
    ] {
        assert_eq!(
            status_and_text(&h, path).await,
            (StatusCode::NOT_FOUND, NOT_FOUND.to_string()),
            "{path}"
        );
    }

    // Search finds a generated dashboard by title.
    let found = h.ok("/dashboards/search?title=Bulk%20KPIs%200250").await;
    assert_eq!(ids(&found), ["10250"]);

    // A query task on a tile's query completes with the same json_detail.
    let (status, task) = h
        .post(
            "/query_tasks",
            &json!({"query_id": "5000042", "result_format": "json_detail", "dashboard_id": "10003"}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{task}");
    let id = task["id"].as_str().expect("task id").to_string();
    let started = Instant::now();
    let results = loop {
        let (status, body) = h.get(&format!("/query_tasks/{id}/results")).await;
        if status == StatusCode::OK {
            break body;
        }
        assert_eq!(status, StatusCode::ACCEPTED);
        assert!(
            started.elapsed() < Duration::from_secs(5),
            "task never ended"
        );
        tokio::time::sleep(Duration::from_millis(5)).await;
    };
    assert_eq!(single_number(&results), 42.0);

    // Setting one tile's value changes that tile only; reset restores it.
    let (status, outcome) = h
        .control_post(
            "/values",
            &json!({"dashboard_element_id": "1000007", "value": 1234.5}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{outcome}");
    let value = |q: &'static str| {
        let h = &h;
        async move { single_number(&h.ok(&format!("/queries/{q}/run/json_detail")).await) }
    };
    assert_eq!(value("5000007").await, 1234.5);
    assert_eq!(value("5000008").await, 8.0);
    h.fake.control().reset();
    // Reset revokes tokens: log in again.
    let login: Value = h
        .http
        .post(format!("{}/login", h.api))
        .form(&[
            ("client_id", "demo-client-id"),
            ("client_secret", "demo-client-secret"),
        ])
        .send()
        .await
        .expect("login")
        .json()
        .await
        .expect("login json");
    let h = Harness {
        token: login["access_token"].as_str().expect("token").to_string(),
        ..h
    };
    assert_eq!(
        single_number(&h.ok("/queries/5000007/run/json_detail").await),
        7.0
    );
    h.fake.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn latency_is_an_async_sleep_so_concurrent_runs_overlap() {
    let h = start_with(bulk_config(Duration::from_millis(50))).await;
    let started = Instant::now();
    let mut runs = tokio::task::JoinSet::new();
    for k in 1..=80usize {
        let request = h.auth(h.http.get(format!(
            "{}/queries/{}/run/json_detail",
            h.api,
            5_000_000 + k
        )));
        runs.spawn(async move {
            let response = request.send().await.expect("run_query");
            assert_eq!(response.status(), StatusCode::OK);
            let body: Value = response.json().await.expect("json");
            (k, single_number(&body))
        });
    }
    while let Some(joined) = runs.join_next().await {
        let (k, value) = joined.expect("task");
        assert_eq!(value, k as f64);
    }
    let elapsed = started.elapsed();
    println!("80 concurrent run_query at 50 ms latency: {elapsed:?}");
    // Serialized, 80 × 50 ms would be 4 s; overlapping, about 50 ms. The bound is generous.
    assert!(elapsed < Duration::from_secs(1), "took {elapsed:?}");
    // Every tile is its own query: 80 real runs, no sharing.
    assert_eq!(h.fake.control().query_runs(), 80);
    h.fake.shutdown().await;
}

/// Per-request cost at latency 0, printed (a measurement, not an assertion).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "measurement; run with --ignored --nocapture, preferably --release"]
async fn per_request_cost() {
    let h = start_with(bulk_config(Duration::ZERO)).await;
    let time = |label: &str, n: usize, elapsed: Duration| {
        println!(
            "{label:<52} {n:>5} sequential requests: {:>8.1} µs/request",
            elapsed.as_secs_f64() * 1e6 / n as f64
        );
    };

    let n = 2_000;
    let started = Instant::now();
    for k in 1..=n {
        let response = h
            .get_raw(&format!("/queries/{}/run/json_detail", 5_000_000 + k))
            .await;
        assert_eq!(response.status(), StatusCode::OK);
        response.bytes().await.expect("body");
    }
    time(
        "run_query json_detail, cold (distinct queries)",
        n,
        started.elapsed(),
    );
    assert_eq!(h.fake.control().query_runs(), n as u64);

    let started = Instant::now();
    for k in 1..=n {
        let response = h
            .get_raw(&format!(
                "/queries/{}/run/json_detail?cache=true",
                5_000_000 + k
            ))
            .await;
        assert_eq!(response.status(), StatusCode::OK);
        response.bytes().await.expect("body");
    }
    time(
        "run_query json_detail, cache=true (hits)",
        n,
        started.elapsed(),
    );

    let started = Instant::now();
    for _ in 0..n {
        let response = h.get_raw("/user").await;
        assert_eq!(response.status(), StatusCode::OK);
        response.bytes().await.expect("body");
    }
    time("GET /user (HTTP baseline)", n, started.elapsed());

    // Each twice: rendered on the first request, then served from the cache.
    let dashboards = 500;
    for path in ["", "/dashboard_elements"] {
        for pass in ["rendered", "cached"] {
            let started = Instant::now();
            for d in 0..dashboards {
                let response = h
                    .get_raw(&format!("/dashboards/{}{path}", 10_001 + d))
                    .await;
                assert_eq!(response.status(), StatusCode::OK);
                response.bytes().await.expect("body");
            }
            time(
                &format!("GET /dashboards/{{id}}{path} ({pass})"),
                dashboards,
                started.elapsed(),
            );
        }
    }

    let searches = 10;
    let started = Instant::now();
    for _ in 0..searches {
        let response = h
            .get_raw("/dashboards/search?title=Bulk%20KPIs%200250")
            .await;
        assert_eq!(response.status(), StatusCode::OK);
        response.bytes().await.expect("body");
    }
    time(
        "GET /dashboards/search?title= (500 candidates)",
        searches,
        started.elapsed(),
    );
    h.fake.shutdown().await;
}
