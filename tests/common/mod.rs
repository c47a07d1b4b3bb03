//! Test kit: a real daemon on 127.0.0.1:0, in-process or as a child process, and
//! generated gRPC clients that send a bearer token.

#![allow(dead_code, unreachable_pub)]

use std::collections::HashMap;
use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use kpilink::config::ServeConfig;
use kpilink::proto::binding_service_client::BindingServiceClient;
use kpilink::proto::connection_service_client::ConnectionServiceClient;
use kpilink::proto::discovery_service_client::DiscoveryServiceClient;
use kpilink::proto::{CreateConnectionRequest, CreateConnectionResponse};
use kpilink::security::{OrgScope, TokenGrant, hash_token};
use kpilink::server::Daemon;
use tempfile::TempDir;
use tokio::net::TcpListener;
use tokio::sync::oneshot;
use tonic::metadata::MetadataValue;
use tonic::service::Interceptor;
use tonic::service::interceptor::InterceptedService;
use tonic::transport::Channel;
use tonic::{Code, Request, Status};
use tonic_types::StatusExt;

/// Adds `authorization: Bearer <token>` to every call (none when empty).
#[derive(Clone)]
pub struct Bearer(pub String);

impl Interceptor for Bearer {
    fn call(&mut self, mut request: Request<()>) -> Result<Request<()>, Status> {
        if !self.0.is_empty() {
            let value = MetadataValue::try_from(format!("Bearer {}", self.0))
                .map_err(|_| Status::internal("bad token"))?;
            request.metadata_mut().insert("authorization", value);
        }
        Ok(request)
    }
}

pub type Authed = InterceptedService<Channel, Bearer>;

pub async fn channel(addr: SocketAddr) -> Channel {
    Channel::from_shared(format!("http://{addr}"))
        .unwrap()
        .connect()
        .await
        .expect("connect to the daemon")
}

/// Clients for one daemon and one token.
#[derive(Clone)]
pub struct Clients {
    pub channel: Channel,
    pub token: String,
}

impl Clients {
    pub async fn connect(addr: SocketAddr, token: &str) -> Self {
        Clients {
            channel: channel(addr).await,
            token: token.to_owned(),
        }
    }

    pub fn with_token(&self, token: &str) -> Self {
        Clients {
            channel: self.channel.clone(),
            token: token.to_owned(),
        }
    }

    pub fn connections(&self) -> ConnectionServiceClient<Authed> {
        ConnectionServiceClient::with_interceptor(self.channel.clone(), Bearer(self.token.clone()))
    }

    pub fn discovery(&self) -> DiscoveryServiceClient<Authed> {
        DiscoveryServiceClient::with_interceptor(self.channel.clone(), Bearer(self.token.clone()))
    }

    pub fn bindings(&self) -> BindingServiceClient<Authed> {
        BindingServiceClient::with_interceptor(self.channel.clone(), Bearer(self.token.clone()))
    }
}

/// A daemon running in this process on 127.0.0.1:0.
pub struct TestDaemon {
    pub addr: SocketAddr,
    /// Where GET /metrics is served.
    pub metrics_addr: SocketAddr,
    /// The generated admin token, or the first configured one.
    pub token: String,
    pub data_dir: PathBuf,
    pub clients: Clients,
    _dir: Option<TempDir>,
    shutdown: Option<oneshot::Sender<()>>,
    task: Option<tokio::task::JoinHandle<anyhow::Result<()>>>,
}

impl TestDaemon {
    /// Defaults of `kpilink serve` in a fresh data directory.
    pub async fn start() -> Self {
        Self::start_with(|_| {}).await
    }

    /// A fresh data directory, with the configuration adjusted by `adjust`.
    pub async fn start_with(adjust: impl FnOnce(&mut ServeConfig)) -> Self {
        let dir = TempDir::new().unwrap();
        let mut config = ServeConfig::for_data_dir(dir.path());
        adjust(&mut config);
        let mut daemon = Self::start_config(config, String::new()).await;
        daemon._dir = Some(dir);
        daemon
    }

    /// With `tokens` (plain tokens and their org scopes) configured instead of
    /// the generated admin token.
    pub async fn start_with_tokens(tokens: &[(&str, &[&str])]) -> Self {
        let grants = tokens
            .iter()
            .map(|(token, orgs)| TokenGrant {
                sha256: hash_token(token),
                scope: if orgs.contains(&"*") {
                    OrgScope::All
                } else {
                    OrgScope::Orgs(orgs.iter().map(|org| org.to_string()).collect())
                },
            })
            .collect();
        Self::start_with(|config| config.tokens = grants).await
    }

    async fn start_config(config: ServeConfig, token: String) -> Self {
        let configured = config.tokens.clone();
        let data_dir = config.data_dir.clone();
        let daemon = Daemon::open(&config).await.expect("daemon opens");
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let (shutdown, stop) = oneshot::channel::<()>();
        let metrics = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let metrics_addr = metrics.local_addr().unwrap();
        let task = tokio::spawn(daemon.serve_with_metrics(listener, Some(metrics), async {
            let _ = stop.await;
        }));
        let token = if !token.is_empty() || !configured.is_empty() {
            token
        } else {
            read_admin_token(&data_dir)
        };
        let clients = Clients::connect(addr, &token).await;
        TestDaemon {
            addr,
            metrics_addr,
            token,
            data_dir,
            clients,
            _dir: None,
            shutdown: Some(shutdown),
            task: Some(task),
        }
    }

    /// Graceful shutdown; fails the test if serving failed. Returns the data
    /// directory, which lives until the caller drops it.
    pub async fn stop(mut self) -> Option<TempDir> {
        if let Some(shutdown) = self.shutdown.take() {
            let _ = shutdown.send(());
        }
        if let Some(task) = self.task.take() {
            task.await.unwrap().unwrap();
        }
        self._dir.take()
    }
}

impl Drop for TestDaemon {
    fn drop(&mut self) {
        if let Some(shutdown) = self.shutdown.take() {
            let _ = shutdown.send(());
        }
    }
}

pub fn read_admin_token(data_dir: &Path) -> String {
    std::fs::read_to_string(data_dir.join(kpilink::security::ADMIN_TOKEN_FILE))
        .expect("admin token file")
        .trim()
        .to_owned()
}

/// The `kpilink serve` binary as a child process, for restarts and SIGKILL.
pub struct ChildDaemon {
    pub addr: SocketAddr,
    child: Child,
    logs: Arc<Mutex<Vec<String>>>,
}

impl ChildDaemon {
    /// Starts `kpilink serve` on 127.0.0.1:0 in `data_dir` with extra args and
    /// environment, and waits until it serves.
    pub fn start(data_dir: &Path, args: &[&str], env: &[(&str, &str)]) -> Self {
        Self::try_start(data_dir, args, env)
            .unwrap_or_else(|logs| panic!("daemon did not start:\n{logs}"))
    }

    /// Like [`ChildDaemon::start`], but returns the logs if it exits instead.
    pub fn try_start(data_dir: &Path, args: &[&str], env: &[(&str, &str)]) -> Result<Self, String> {
        let mut command = Command::new(env!("CARGO_BIN_EXE_kpilink"));
        command
            .args([
                "serve",
                "--listen",
                "127.0.0.1:0",
                "--metrics-addr",
                "127.0.0.1:0",
                "--log-format",
                "json",
                "--data-dir",
            ])
            .arg(data_dir)
            .args(args)
            .env_remove("KPILINK_MASTER_KEY")
            .envs(env.iter().copied())
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped());
        let mut child = command.spawn().expect("spawn kpilink");
        let stderr = child.stderr.take().unwrap();
        let logs = Arc::new(Mutex::new(Vec::new()));
        let (addr_tx, addr_rx) = std::sync::mpsc::channel();
        let sink = logs.clone();
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                if let Ok(event) = serde_json::from_str::<serde_json::Value>(&line)
                    && event["message"] == "serving gRPC"
                    && let Some(addr) = event["addr"].as_str()
                {
                    let _ = addr_tx.send(addr.parse::<SocketAddr>().unwrap());
                }
                sink.lock().unwrap().push(line);
            }
        });
        match addr_rx.recv_timeout(Duration::from_secs(30)) {
            Ok(addr) => Ok(ChildDaemon { addr, child, logs }),
            Err(_) => {
                let _ = child.kill();
                let _ = child.wait();
                // Let the reader thread take the last lines.
                std::thread::sleep(Duration::from_millis(100));
                Err(logs.lock().unwrap().join("\n"))
            }
        }
    }

    pub fn logs(&self) -> String {
        self.logs.lock().unwrap().join("\n")
    }

    pub fn kill9(mut self) -> String {
        self.child.kill().unwrap();
        self.child.wait().unwrap();
        self.logs()
    }

    /// SIGTERM, then waits for a clean exit.
    pub fn terminate(mut self) -> String {
        let pid = self.child.id() as i32;
        // SAFETY: plain kill(2) on our own child.
        unsafe { libc::kill(pid, libc::SIGTERM) };
        let status = self.child.wait().unwrap();
        assert!(
            status.success(),
            "daemon exited with {status}:\n{}",
            self.logs()
        );
        self.logs()
    }
}

impl Drop for ChildDaemon {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A valid Looker connection request.
pub fn looker_connection(org_id: &str, name: &str, secret: &str) -> CreateConnectionRequest {
    CreateConnectionRequest {
        org_id: org_id.to_owned(),
        display_name: name.to_owned(),
        kind: "looker".to_owned(),
        settings: HashMap::from([
            (
                "server_url".to_owned(),
                "https://acme.cloud.looker.com".to_owned(),
            ),
            ("client_id".to_owned(), "client-abc".to_owned()),
        ]),
        secrets: HashMap::from([("client_secret".to_owned(), secret.to_owned())]),
        query_timeout: None,
    }
}

pub async fn create(
    clients: &Clients,
    request: CreateConnectionRequest,
) -> kpilink::proto::Connection {
    let CreateConnectionResponse { connection } = clients
        .connections()
        .create_connection(request)
        .await
        .expect("create connection")
        .into_inner();
    connection.expect("connection in response")
}

/// Asserts a gRPC error's code, `ErrorInfo` reason and domain.
pub fn assert_error(status: &Status, code: Code, reason: &str) {
    assert_eq!(status.code(), code, "{status:?}");
    let info = status
        .get_details_error_info()
        .unwrap_or_else(|| panic!("no ErrorInfo in {status:?}"));
    assert_eq!(info.reason, reason, "{status:?}");
    assert_eq!(info.domain, "kpilink");
    assert!(info.metadata.contains_key("class"), "{status:?}");
}

/// The fields named by the `BadRequest` details.
pub fn violated_fields(status: &Status) -> Vec<String> {
    status
        .get_details_bad_request()
        .map(|bad| bad.field_violations.into_iter().map(|v| v.field).collect())
        .unwrap_or_default()
}

/// Every file under `dir`, recursively.
pub fn files_under(dir: &Path) -> Vec<PathBuf> {
    let mut files = Vec::new();
    let mut stack = vec![dir.to_owned()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                stack.push(path);
            } else {
                files.push(path);
            }
        }
    }
    files
}

pub fn contains_bytes(haystack: &[u8], needle: &[u8]) -> bool {
    haystack
        .windows(needle.len())
        .any(|window| window == needle)
}

/// A server on 127.0.0.1 that answers every request with `response` (raw HTTP).
pub async fn canned_http(response: &'static str) -> SocketAddr {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        while let Ok((mut socket, _)) = listener.accept().await {
            tokio::spawn(async move {
                let mut buffer = vec![0u8; 16 * 1024];
                // One read takes the request head and a small form body.
                let _ = socket.read(&mut buffer).await;
                let _ = socket.write_all(response.as_bytes()).await;
                let _ = socket.shutdown().await;
            });
        }
    });
    addr
}

/// A server on 127.0.0.1 that accepts connections and never answers.
pub async fn silent_server() -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((socket, _)) = listener.accept().await {
            held.push(socket);
        }
    });
    addr
}

/// A port on 127.0.0.1 where nothing listens.
pub async fn closed_port() -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    listener.local_addr().unwrap()
}

/// A Looker connection request pointing at `server_url`.
pub fn looker_at(
    org_id: &str,
    name: &str,
    server_url: &str,
    client_id: &str,
    secret: &str,
) -> CreateConnectionRequest {
    let mut request = looker_connection(org_id, name, secret);
    request
        .settings
        .insert("server_url".to_owned(), server_url.to_owned());
    request
        .settings
        .insert("client_id".to_owned(), client_id.to_owned());
    request
}

/// A fake Looker on 127.0.0.1 with the demo instance.
pub async fn fake_looker(
    config: kpilink_looker_fake::FakeLookerConfig,
) -> kpilink_looker_fake::FakeLooker {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    kpilink_looker_fake::FakeLooker::start(config, listener)
        .await
        .unwrap()
}

/// A daemon that may reach sources on 127.0.0.1 over http (where fakes live).
pub async fn local_daemon() -> TestDaemon {
    TestDaemon::start_with(|config| {
        config.allow_http_sources = true;
        config.allow_source_cidrs = vec!["127.0.0.1/32".parse().unwrap()];
    })
    .await
}

/// Creates a connection of org `acme` to the fake with the demo credentials
/// (or `secret`) and returns its id.
pub async fn connect_fake(
    daemon: &TestDaemon,
    fake: &kpilink_looker_fake::FakeLooker,
    secret: &str,
    query_timeout: Option<std::time::Duration>,
) -> String {
    let mut request = looker_at(
        "acme",
        &format!("fake-{}", uuid_like()),
        &fake.base_url(),
        "demo-client-id",
        secret,
    );
    request.query_timeout = query_timeout.map(|t| prost_types::Duration {
        seconds: t.as_secs() as i64,
        nanos: t.subsec_nanos() as i32,
    });
    create(&daemon.clients, request).await.id
}

fn uuid_like() -> String {
    use std::sync::atomic::{AtomicU64, Ordering};
    static NEXT: AtomicU64 = AtomicU64::new(0);
    format!(
        "{}-{}",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::SeqCst)
    )
}

pub fn tile_source(dashboard_id: &str, tile_id: &str) -> kpilink::proto::Source {
    kpilink::proto::Source {
        source: Some(kpilink::proto::source::Source::DashboardTile(
            kpilink::proto::DashboardTileRef {
                dashboard_id: dashboard_id.into(),
                tile_id: tile_id.into(),
            },
        )),
    }
}

pub fn look_source(look_id: &str) -> kpilink::proto::Source {
    kpilink::proto::Source {
        source: Some(kpilink::proto::source::Source::Look(
            kpilink::proto::LookRef {
                look_id: look_id.into(),
            },
        )),
    }
}
