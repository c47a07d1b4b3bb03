//! What the sync-engine and scale benchmarks share: the `kpilink serve` binary
//! as a child process, authenticated gRPC clients, a metrics scrape, and bulk
//! seeding of bindings straight into the store.

// Each benchmark uses its own part of this module, as a private module.
#![allow(dead_code, unreachable_pub)]

use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use kpilink::proto::binding_service_client::BindingServiceClient;
use kpilink::proto::connection_service_client::ConnectionServiceClient;
use kpilink::store::{BindingRecord, HistoryRecord, SledStore, Store};
use tonic::metadata::MetadataValue;
use tonic::service::Interceptor;
use tonic::service::interceptor::InterceptedService;
use tonic::transport::Channel;
use tonic::{Request, Status};

/// Warnings only, but the lines that say where the daemon serves.
pub const QUIET: &str = "warn,kpilink::server=info";

/// `kpilink serve` as a child process, as an operator runs it.
pub struct Daemon {
    pub addr: SocketAddr,
    pub metrics_addr: SocketAddr,
    child: Child,
    logs: Arc<Mutex<Vec<String>>>,
}

impl Daemon {
    /// Starts the daemon in `data_dir` and waits until it logs that it serves
    /// gRPC and metrics.
    pub fn start(data_dir: &Path, args: &[&str]) -> Daemon {
        let mut child = Command::new(env!("CARGO_BIN_EXE_kpilink"))
            .args(["serve", "--listen", "127.0.0.1:0"])
            .args(["--metrics-addr", "127.0.0.1:0", "--log-format", "json"])
            .arg("--data-dir")
            .arg(data_dir)
            .args(args)
            .env_remove("KPILINK_MASTER_KEY")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn kpilink serve");
        let stderr = child.stderr.take().expect("piped stderr");
        let logs = Arc::new(Mutex::new(Vec::new()));
        let (found, addresses) = std::sync::mpsc::channel();
        let sink = logs.clone();
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                if let Ok(event) = serde_json::from_str::<serde_json::Value>(&line) {
                    let addr = event["addr"].as_str().and_then(|a| a.parse().ok());
                    match (event["message"].as_str(), addr) {
                        (Some("serving gRPC"), Some(addr)) => found.send(("grpc", addr)).ok(),
                        (Some("serving metrics at /metrics"), Some(addr)) => {
                            found.send(("metrics", addr)).ok()
                        }
                        _ => None,
                    };
                }
                sink.lock().unwrap().push(line);
            }
        });
        let (mut addr, mut metrics_addr) = (None, None);
        while addr.is_none() || metrics_addr.is_none() {
            match addresses.recv_timeout(Duration::from_secs(60)) {
                Ok(("grpc", found)) => addr = Some(found),
                Ok((_, found)) => metrics_addr = Some(found),
                Err(_) => panic!(
                    "the daemon did not start:\n{}",
                    logs.lock().unwrap().join("\n")
                ),
            }
        }
        Daemon {
            addr: addr.unwrap(),
            metrics_addr: metrics_addr.unwrap(),
            child,
            logs,
        }
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Resident memory, from `/proc/<pid>/status`.
    pub fn rss_bytes(&self) -> u64 {
        rss_of(self.pid())
    }

    pub fn logs(&self) -> String {
        self.logs.lock().unwrap().join("\n")
    }

    /// SIGTERM and a clean exit.
    pub fn stop(mut self) {
        // SAFETY: kill(2) on our own child.
        unsafe { libc::kill(self.child.id() as i32, libc::SIGTERM) };
        let status = self.child.wait().expect("wait for the daemon");
        assert!(status.success(), "daemon exited with {status}");
    }
}

impl Drop for Daemon {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// CPU time (user + system) a process has used, from `/proc/<pid>/stat`.
pub fn cpu_of(pid: u32) -> Duration {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    // Fields after the command name (which may hold spaces) start after ')'.
    let fields: Vec<&str> = stat
        .rsplit_once(')')
        .map(|(_, rest)| rest.split_whitespace().collect())
        .unwrap_or_default();
    let ticks: u64 = [11, 12]
        .iter()
        .filter_map(|i| fields.get(*i)?.parse::<u64>().ok())
        .sum();
    // SAFETY: sysconf has no preconditions.
    let per_second = unsafe { libc::sysconf(libc::_SC_CLK_TCK) }.max(1) as u64;
    Duration::from_micros(ticks * 1_000_000 / per_second)
}

pub fn rss_of(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    status
        .lines()
        .find_map(|line| line.strip_prefix("VmRSS:"))
        .and_then(|rest| {
            rest.trim()
                .trim_end_matches("kB")
                .trim()
                .parse::<u64>()
                .ok()
        })
        .map(|kib| kib * 1024)
        .unwrap_or(0)
}

/// Bytes of all files under `dir`.
pub fn dir_size(dir: &Path) -> u64 {
    std::fs::read_dir(dir)
        .map(|entries| {
            entries
                .filter_map(Result::ok)
                .map(|entry| match entry.metadata() {
                    Ok(meta) if meta.is_dir() => dir_size(&entry.path()),
                    Ok(meta) => meta.len(),
                    Err(_) => 0,
                })
                .sum()
        })
        .unwrap_or(0)
}

/// The token the daemon generated in its data dir.
pub fn admin_token(data_dir: &Path) -> String {
    std::fs::read_to_string(data_dir.join("admin.token"))
        .expect("admin.token")
        .trim()
        .to_owned()
}

/// Adds `authorization: Bearer <token>` to every call.
#[derive(Clone)]
pub struct Bearer(MetadataValue<tonic::metadata::Ascii>);

impl Interceptor for Bearer {
    fn call(&mut self, mut request: Request<()>) -> Result<Request<()>, Status> {
        request
            .metadata_mut()
            .insert("authorization", self.0.clone());
        Ok(request)
    }
}

pub fn bearer(token: &str) -> Bearer {
    Bearer(format!("Bearer {token}").parse().unwrap())
}

pub type Connections = ConnectionServiceClient<InterceptedService<Channel, Bearer>>;
pub type Bindings = BindingServiceClient<InterceptedService<Channel, Bearer>>;

pub async fn clients(addr: SocketAddr, token: &str) -> (Connections, Bindings) {
    let channel = Channel::from_shared(format!("http://{addr}"))
        .unwrap()
        .connect()
        .await
        .expect("connect to the daemon");
    let bearer = bearer(token);
    (
        ConnectionServiceClient::with_interceptor(channel.clone(), bearer.clone()),
        BindingServiceClient::with_interceptor(channel, bearer),
    )
}

/// `GET /metrics`.
pub async fn scrape(addr: SocketAddr) -> String {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut socket = tokio::net::TcpStream::connect(addr).await.expect("metrics");
    socket
        .write_all(b"GET /metrics HTTP/1.1\r\nHost: kpilink\r\nConnection: close\r\n\r\n")
        .await
        .expect("send the scrape");
    let mut text = String::new();
    socket.read_to_string(&mut text).await.expect("scrape");
    text
}

/// The sum of every series of `name` in a Prometheus text scrape.
pub fn metric_sum(text: &str, name: &str) -> f64 {
    text.lines()
        .filter(|line| {
            line.strip_prefix(name)
                .is_some_and(|rest| rest.starts_with(' ') || rest.starts_with('{'))
        })
        .filter_map(|line| line.rsplit(' ').next()?.parse::<f64>().ok())
        .sum()
}

/// Writes bindings (with their history) through the store's own write path,
/// `concurrency` at a time, as the daemon would; returns how long it took.
pub async fn seed(
    store: Arc<SledStore>,
    records: Vec<(BindingRecord, Vec<HistoryRecord>)>,
    concurrency: usize,
) -> Duration {
    let started = Instant::now();
    let queue = Arc::new(Mutex::new(records));
    let mut writers = tokio::task::JoinSet::new();
    for _ in 0..concurrency {
        let (store, queue) = (store.clone(), queue.clone());
        writers.spawn(async move {
            loop {
                let Some((binding, history)) = queue.lock().unwrap().pop() else {
                    break;
                };
                store
                    .write_binding(None, Some(&binding), &history, None)
                    .await
                    .expect("seed a binding");
            }
        });
    }
    while let Some(writer) = writers.join_next().await {
        writer.expect("seeding task");
    }
    started.elapsed()
}

/// A new binding id in the daemon's format.
pub fn binding_id() -> String {
    format!("bnd_{}", uuid::Uuid::now_v7().simple())
}

pub fn mib(bytes: u64) -> f64 {
    bytes as f64 / (1024.0 * 1024.0)
}

/// Creates a Looker connection of `org_id` to the fake with its demo
/// credentials; returns its id.
pub async fn connect_fake(
    connections: &mut Connections,
    org_id: &str,
    name: &str,
    fake_url: &str,
) -> String {
    use kpilink::proto::CreateConnectionRequest;
    use std::collections::HashMap;
    connections
        .create_connection(CreateConnectionRequest {
            org_id: org_id.into(),
            display_name: name.into(),
            kind: "looker".into(),
            settings: HashMap::from([
                ("server_url".into(), fake_url.into()),
                ("client_id".into(), "demo-client-id".into()),
            ]),
            secrets: HashMap::from([("client_secret".into(), "demo-client-secret".into())]),
            query_timeout: None,
        })
        .await
        .expect("create a connection")
        .into_inner()
        .connection
        .expect("the created connection")
        .id
}
