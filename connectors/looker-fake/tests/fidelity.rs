//! Fidelity: the official Python `looker-sdk` drives the fake, and the fake's responses are
//! validated against the OpenAPI spec in `spec/`. Both fail (never skip) when Python or its
//! packages are missing: `pip install -r connectors/looker-fake/fidelity/requirements.txt`.

mod common;

use std::process::Stdio;
use std::time::Duration;

use kpilink_looker_fake::{FakeLooker, FakeLookerConfig};

const SLOW_SECS: u64 = 1;

async fn start() -> FakeLooker {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let config = FakeLookerConfig {
        slow_query: Duration::from_secs(SLOW_SECS),
        ..FakeLookerConfig::default()
    };
    FakeLooker::start(config, listener).await.unwrap()
}

async fn require_python_module(module: &str) {
    let output = tokio::process::Command::new("python3")
        .args(["-c", &format!("import {module}")])
        .output()
        .await
        .unwrap_or_else(|e| panic!("python3 is needed for the fidelity tests: {e}"));
    assert!(
        output.status.success(),
        "python module {module} is not importable; run: pip install -r connectors/looker-fake/fidelity/requirements.txt \
         (pip install looker-sdk jsonschema)\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
}

async fn run_script(script: &str, envs: &[(&str, String)]) -> String {
    let dir = env!("CARGO_MANIFEST_DIR");
    let output = tokio::time::timeout(
        Duration::from_secs(90),
        tokio::process::Command::new("python3")
            .arg(format!("{dir}/fidelity/{script}"))
            .envs(envs.iter().map(|(k, v)| (*k, v.as_str())))
            .stdin(Stdio::null())
            .kill_on_drop(true)
            .output(),
    )
    .await
    .expect("script timed out")
    .expect("python3 runs");
    let stdout = String::from_utf8_lossy(&output.stdout).to_string();
    assert!(
        output.status.success(),
        "{script} failed:\n{stdout}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    stdout
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_official_python_sdk_drives_the_fake() {
    require_python_module("looker_sdk").await;
    let fake = start().await;
    let out = run_script(
        "sdk_check.py",
        &[
            ("LOOKERSDK_BASE_URL", fake.base_url()),
            ("LOOKERSDK_CLIENT_ID", "demo-client-id".into()),
            ("LOOKERSDK_CLIENT_SECRET", "demo-client-secret".into()),
            ("LOOKERSDK_VERIFY_SSL", "false".into()),
            ("FAKE_LOOKER_SLOW_QUERY_SECS", SLOW_SECS.to_string()),
        ],
    )
    .await;
    assert!(out.contains("checks passed"), "{out}");
    let counters = fake.control().counters();
    for route in [
        "login",
        "search_dashboards",
        "dashboard_dashboard_elements",
        "look",
        "search_looks",
        "run_query",
        "create_query_task",
        "query_task",
        "query_task_results",
        "logout",
    ] {
        assert!(
            counters.route(route) > 0,
            "the SDK called {route}: {counters:?}"
        );
    }
    fake.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn responses_conform_to_the_openapi_spec() {
    require_python_module("jsonschema").await;
    require_python_module("requests").await;
    let fake = start().await;
    let out = run_script(
        "openapi_check.py",
        &[
            ("FAKE_LOOKER_BASE_URL", fake.base_url()),
            ("FAKE_LOOKER_CLIENT_ID", "demo-client-id".into()),
            ("FAKE_LOOKER_CLIENT_SECRET", "demo-client-secret".into()),
        ],
    )
    .await;
    assert!(out.contains("across 22 operations"), "{out}");
    fake.shutdown().await;
}
