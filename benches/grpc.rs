//! gRPC benchmark: `GetBinding` and `ListBindings(page_size=100)` on the real
//! daemon (in-process, fake Looker behind it, ~200 bindings) against a bare
//! tonic service that returns a pre-built message of the same size, in one run,
//! with the same client code, concurrency and duration.
//!
//! Run with `cargo bench --bench grpc`.

mod support;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use kpilink::config::ServeConfig;
use kpilink::proto::binding_service_client::BindingServiceClient;
use kpilink::proto::binding_service_server::{BindingService, BindingServiceServer};
use kpilink::proto::connection_service_client::ConnectionServiceClient;
use kpilink::proto::*;
use kpilink::server::Daemon;
use kpilink_looker_fake::{FakeLooker, FakeLookerConfig};
use prost::Message as _;
use support::{Bearer, bearer};
use tokio::net::TcpListener;
use tonic::service::interceptor::InterceptedService;
use tonic::transport::{Channel, Server};
use tonic::{Request, Response, Status};

const ORG: &str = "acme";
const BINDINGS: usize = 200;
const PAGE_SIZE: i32 = 100;
const CONCURRENCY: [usize; 3] = [1, 16, 64];
/// Tasks per HTTP/2 connection: 1 channel at concurrency 1 and 16, 4 at 64.
const TASKS_PER_CHANNEL: usize = 16;
/// Each cell alternates daemon and bare this many times, so drift in the
/// machine's speed hits both alike; the measured time adds up to 3 s each.
const ROUNDS: u32 = 3;
const WARM_UP: Duration = Duration::from_millis(250);
const MEASURE: Duration = Duration::from_secs(1);
/// GetBinding at concurrency 64 must reach this share of the bare throughput.
const TARGET_RATIO: f64 = 0.70;

type Client = BindingServiceClient<InterceptedService<Channel, Bearer>>;

async fn channel(addr: SocketAddr) -> Channel {
    Channel::from_shared(format!("http://{addr}"))
        .unwrap()
        .connect()
        .await
        .expect("connect")
}

/// The baseline: the generated service with canned answers, no auth layer.
struct Bare {
    get: GetBindingResponse,
    list: ListBindingsResponse,
}

#[tonic::async_trait]
impl BindingService for Bare {
    type WatchUpdatesStream = tokio_stream::Empty<Result<WatchUpdatesResponse, Status>>;

    async fn create_binding(
        &self,
        _: Request<CreateBindingRequest>,
    ) -> Result<Response<CreateBindingResponse>, Status> {
        Err(Status::unimplemented("bare"))
    }

    async fn get_binding(
        &self,
        _: Request<GetBindingRequest>,
    ) -> Result<Response<GetBindingResponse>, Status> {
        Ok(Response::new(self.get.clone()))
    }

    async fn list_bindings(
        &self,
        _: Request<ListBindingsRequest>,
    ) -> Result<Response<ListBindingsResponse>, Status> {
        Ok(Response::new(self.list.clone()))
    }

    async fn update_binding(
        &self,
        _: Request<UpdateBindingRequest>,
    ) -> Result<Response<UpdateBindingResponse>, Status> {
        Err(Status::unimplemented("bare"))
    }

    async fn delete_binding(
        &self,
        _: Request<DeleteBindingRequest>,
    ) -> Result<Response<DeleteBindingResponse>, Status> {
        Err(Status::unimplemented("bare"))
    }

    async fn sync_binding(
        &self,
        _: Request<SyncBindingRequest>,
    ) -> Result<Response<SyncBindingResponse>, Status> {
        Err(Status::unimplemented("bare"))
    }

    async fn list_binding_history(
        &self,
        _: Request<ListBindingHistoryRequest>,
    ) -> Result<Response<ListBindingHistoryResponse>, Status> {
        Err(Status::unimplemented("bare"))
    }

    async fn watch_updates(
        &self,
        _: Request<WatchUpdatesRequest>,
    ) -> Result<Response<Self::WatchUpdatesStream>, Status> {
        Err(Status::unimplemented("bare"))
    }
}

#[derive(Clone, Copy, PartialEq)]
enum Method {
    Get,
    List,
}

impl Method {
    fn name(self) -> &'static str {
        match self {
            Method::Get => "GetBinding",
            Method::List => "ListBindings(100)",
        }
    }
}

/// Latencies of the calls that started and finished inside measured windows.
#[derive(Default)]
struct Samples {
    latencies: Vec<Duration>,
    measured: Duration,
    errors: u64,
}

impl Samples {
    fn add(&mut self, mut other: Samples) {
        self.latencies.append(&mut other.latencies);
        self.measured += other.measured;
        self.errors += other.errors;
    }

    fn throughput(&self) -> f64 {
        self.latencies.len() as f64 / self.measured.as_secs_f64()
    }

    fn quantile(&mut self, q: f64) -> Duration {
        self.latencies.sort_unstable();
        let last = self.latencies.len().saturating_sub(1);
        self.latencies
            .get(((self.latencies.len() as f64 * q) as usize).min(last))
            .copied()
            .unwrap_or_default()
    }
}

/// Runs `concurrency` tasks calling `method` for the warm-up plus the measured
/// time; counts the calls that start and finish inside the measured window.
async fn run_cell(
    addr: SocketAddr,
    auth: &Bearer,
    method: Method,
    concurrency: usize,
    ids: Arc<Vec<String>>,
) -> Samples {
    let channels = concurrency.div_ceil(TASKS_PER_CHANNEL);
    let mut clients = Vec::new();
    for _ in 0..channels {
        clients.push(BindingServiceClient::with_interceptor(
            channel(addr).await,
            auth.clone(),
        ));
    }
    let start = Instant::now();
    let measure_start = start + WARM_UP;
    let measure_end = measure_start + MEASURE;
    let mut tasks = Vec::new();
    for task in 0..concurrency {
        let mut client: Client = clients[task % channels].clone();
        let ids = ids.clone();
        tasks.push(tokio::spawn(async move {
            let mut latencies = Vec::with_capacity(1 << 16);
            let mut errors = 0u64;
            let mut n = task;
            loop {
                let begin = Instant::now();
                if begin >= measure_end {
                    break;
                }
                let ok = match method {
                    Method::Get => client
                        .get_binding(GetBindingRequest {
                            org_id: ORG.into(),
                            binding_id: ids[n % ids.len()].clone(),
                        })
                        .await
                        .is_ok(),
                    Method::List => client
                        .list_bindings(ListBindingsRequest {
                            org_id: ORG.into(),
                            page_size: PAGE_SIZE,
                            ..Default::default()
                        })
                        .await
                        .is_ok(),
                };
                let done = Instant::now();
                n += 1;
                if begin >= measure_start && done <= measure_end {
                    if ok {
                        latencies.push(done - begin);
                    } else {
                        errors += 1;
                    }
                }
            }
            (latencies, errors)
        }));
    }
    let mut samples = Samples {
        measured: MEASURE,
        ..Samples::default()
    };
    for task in tasks {
        let (mut latencies, errors) = task.await.unwrap();
        samples.latencies.append(&mut latencies);
        samples.errors += errors;
    }
    samples
}

fn ms(d: Duration) -> String {
    format!("{:.3}", d.as_secs_f64() * 1e3)
}

fn main() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(bench());
}

/// A loopback listener. `nodelay` sets TCP_NODELAY on the listening socket,
/// which Linux passes on to every accepted connection; without it the sockets
/// are exactly what `TcpListener::bind` gives (what `kpilink serve` uses).
fn listener(nodelay: bool) -> TcpListener {
    let socket = tokio::net::TcpSocket::new_v4().unwrap();
    if nodelay {
        socket.set_nodelay(true).unwrap();
    }
    socket.bind("127.0.0.1:0".parse().unwrap()).unwrap();
    socket.listen(1024).unwrap()
}

/// A real daemon in a fresh data directory with a connection to the fake
/// Looker and the bindings, all created through the gRPC API.
struct RunningDaemon {
    addr: SocketAddr,
    auth: Bearer,
    ids: Arc<Vec<String>>,
    stop: tokio::sync::oneshot::Sender<()>,
    serving: tokio::task::JoinHandle<anyhow::Result<()>>,
    _dir: tempfile::TempDir,
}

async fn start_daemon(looker: &FakeLooker) -> RunningDaemon {
    let dir = tempfile::TempDir::new().unwrap();
    let mut config = ServeConfig::for_data_dir(dir.path());
    config.allow_http_sources = true;
    config.allow_source_cidrs = vec!["127.0.0.1/32".parse().unwrap()];
    let daemon = Daemon::open(&config).await.expect("daemon opens");
    // A plain listener, as `kpilink serve` binds it; the daemon sets TCP_NODELAY.
    let listener = listener(false);
    let addr = listener.local_addr().unwrap();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let serving = tokio::spawn(daemon.serve(listener, async {
        let _ = stopped.await;
    }));
    let token = std::fs::read_to_string(dir.path().join(kpilink::security::ADMIN_TOKEN_FILE))
        .expect("admin token")
        .trim()
        .to_owned();
    let auth = bearer(&token);

    let setup = channel(addr).await;
    let connection = ConnectionServiceClient::with_interceptor(setup.clone(), auth.clone())
        .create_connection(CreateConnectionRequest {
            org_id: ORG.into(),
            display_name: "Bench Looker".into(),
            kind: "looker".into(),
            settings: [
                ("server_url".to_owned(), looker.base_url()),
                ("client_id".to_owned(), "demo-client-id".to_owned()),
            ]
            .into(),
            secrets: [("client_secret".to_owned(), "demo-client-secret".to_owned())].into(),
            query_timeout: None,
        })
        .await
        .expect("connection created")
        .into_inner()
        .connection
        .unwrap();
    let mut client = BindingServiceClient::with_interceptor(setup, auth.clone());
    let created = Instant::now();
    let mut ids = Vec::with_capacity(BINDINGS);
    for i in 0..BINDINGS {
        let binding = client
            .create_binding(CreateBindingRequest {
                org_id: ORG.into(),
                key_result_id: format!("kr-{i:04}"),
                connection_id: connection.id.clone(),
                source: Some(Source {
                    source: Some(source::Source::DashboardTile(DashboardTileRef {
                        dashboard_id: "1".into(),
                        tile_id: "101".into(),
                    })),
                }),
                selection: Some(Selection::default()),
                enabled: Some(true),
                sync_interval: Some(prost_types::Duration {
                    seconds: 3600,
                    nanos: 0,
                }),
                backfill_since: None,
            })
            .await
            .expect("binding created")
            .into_inner()
            .binding
            .unwrap();
        ids.push(binding.id);
    }
    println!(
        "daemon: created {BINDINGS} bindings in {:.1} s",
        created.elapsed().as_secs_f64()
    );
    RunningDaemon {
        addr,
        auth,
        ids: Arc::new(ids),
        stop,
        serving,
        _dir: dir,
    }
}

/// The bare tonic baseline on a listener like the daemon's.
fn start_bare(
    get: GetBindingResponse,
    list: ListBindingsResponse,
    nodelay: bool,
) -> (SocketAddr, tokio::task::JoinHandle<()>) {
    let listener = listener(nodelay);
    let addr = listener.local_addr().unwrap();
    let task = tokio::spawn(async move {
        Server::builder()
            .add_service(BindingServiceServer::new(Bare { get, list }))
            .serve_with_incoming(tonic::transport::server::TcpIncoming::from(listener))
            .await
            .unwrap();
    });
    (addr, task)
}

/// Runs every cell on a daemon and its bare baseline; returns the GetBinding
/// ratio at concurrency 64.
async fn compare(title: &str, daemon: &RunningDaemon, bare: SocketAddr) -> f64 {
    println!("\n### {title}\n");
    println!(
        "| method | conc. | daemon req/s | daemon p50 ms | daemon p99 ms | bare req/s | bare p50 ms | bare p99 ms | throughput ratio daemon/bare |"
    );
    println!("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |");
    let mut target = None;
    for method in [Method::Get, Method::List] {
        for concurrency in CONCURRENCY {
            let (mut d, mut b) = (Samples::default(), Samples::default());
            for _ in 0..ROUNDS {
                let ids = daemon.ids.clone();
                d.add(run_cell(daemon.addr, &daemon.auth, method, concurrency, ids.clone()).await);
                b.add(run_cell(bare, &daemon.auth, method, concurrency, ids).await);
            }
            assert_eq!(d.errors + b.errors, 0, "calls failed");
            let ratio = d.throughput() / b.throughput();
            println!(
                "| {} | {} | {:.0} | {} | {} | {:.0} | {} | {} | {:.2} |",
                method.name(),
                concurrency,
                d.throughput(),
                ms(d.quantile(0.50)),
                ms(d.quantile(0.99)),
                b.throughput(),
                ms(b.quantile(0.50)),
                ms(b.quantile(0.99)),
                ratio
            );
            if method == Method::Get && concurrency == 64 {
                target = Some(ratio);
            }
        }
    }
    let ratio = target.unwrap();
    println!(
        "\ntarget: GetBinding at concurrency 64 >= {:.0} % of bare throughput: {:.0} % -> {}",
        TARGET_RATIO * 100.0,
        ratio * 100.0,
        if ratio >= TARGET_RATIO {
            "MET"
        } else {
            "NOT MET"
        }
    );
    ratio
}

async fn bench() {
    // The fake Looker the connections point at.
    let looker = FakeLooker::start(
        FakeLookerConfig::default(),
        TcpListener::bind("127.0.0.1:0").await.unwrap(),
    )
    .await
    .expect("fake looker starts");

    // The daemon as `kpilink serve` runs it (it sets TCP_NODELAY on accepted
    // sockets itself), against bare tonic with TCP_NODELAY as tonic's own
    // `Server::serve(addr)` sets it.
    let daemon = start_daemon(&looker).await;

    // The baseline answers with what the daemon answered.
    let mut client =
        BindingServiceClient::with_interceptor(channel(daemon.addr).await, daemon.auth.clone());
    let get = client
        .get_binding(GetBindingRequest {
            org_id: ORG.into(),
            binding_id: daemon.ids[0].clone(),
        })
        .await
        .unwrap()
        .into_inner();
    let list = client
        .list_bindings(ListBindingsRequest {
            org_id: ORG.into(),
            page_size: PAGE_SIZE,
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(list.bindings.len(), PAGE_SIZE as usize);
    println!(
        "response sizes: GetBinding {} bytes, ListBindings(page_size={PAGE_SIZE}) {} bytes",
        get.encoded_len(),
        list.encoded_len()
    );
    let (bare, bare_task) = start_bare(get, list, true);

    println!(
        "each cell: {ROUNDS} rounds of (daemon, then bare: {} ms warm-up + {} s measured); \
         {} tasks per channel",
        WARM_UP.as_millis(),
        MEASURE.as_secs(),
        TASKS_PER_CHANNEL
    );
    compare(
        "`kpilink serve` vs bare tonic (TCP_NODELAY on both)",
        &daemon,
        bare,
    )
    .await;

    bare_task.abort();
    let _ = daemon.stop.send(());
    let _ = daemon.serving.await;
    drop(looker);
}
