//! A faithful fake Looker API 4.0 server, for the daemon's tests, the demo and benchmarks.
//!
//! It serves `/api/4.0` over HTTP/JSON as Looker documents it (string ids, Looker's error
//! bodies, search semantics, `json_detail` results computed from in-memory data, async query
//! tasks with a results cache), a deterministic demo instance (see the crate README), fault
//! injection, and a `/control` endpoint mirrored by [`Control`].
//!
//! ```no_run
//! # async fn demo() -> std::io::Result<()> {
//! use kpilink_looker_fake::{FakeLooker, FakeLookerConfig};
//! let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
//! let fake = FakeLooker::start(FakeLookerConfig::default(), listener).await?;
//! println!("Looker at {}", fake.base_url());
//! fake.shutdown().await;
//! # Ok(()) }
//! ```

// The large `json!` literals of Looker objects need more macro recursion than the default.
#![recursion_limit = "256"]

mod auth;
mod bulk;
mod cli;
mod content;
mod control;
mod dataset;
mod dates;
mod demo;
mod errors;
mod executor;
mod faults;
mod filters;
mod formats;
mod json_detail;
mod like;
mod model;
mod params;
mod query;
mod query_engine;
mod query_tasks;
mod render;
mod render_cache;
mod routes;
mod search;
mod server;
mod state;
mod table_calcs;
mod value_format;

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio::task::JoinHandle;

pub use cli::{FakeLookerArgs, run};
pub use control::{Control, ControlError, Counters, SetValue, SetValueOutcome};
pub use faults::{Fault, FaultKind};

/// How the fake behaves.
#[derive(Clone, Debug)]
pub struct FakeLookerConfig {
    /// API client id accepted by `POST /login`.
    pub client_id: String,
    /// API client secret accepted by `POST /login`.
    pub client_secret: String,
    /// Added to every API response.
    pub latency: Duration,
    /// Runtime of a cold (uncached) query on the slow dashboard's explore.
    pub slow_query: Duration,
    /// Lifetime of access tokens (`expires_in`).
    pub token_ttl: Duration,
    /// Load the demo instance; without it the fake has no content but `bulk`.
    pub demo: bool,
    /// Generated dashboards of single-value tiles, for benchmarks (see the crate README).
    pub bulk: Option<BulkContent>,
}

/// How much generated content to serve: `dashboards` dashboards (ids `10001`…) of
/// `tiles_per_dashboard` single-value tiles each (ids `1000001`…), every tile with its own
/// query (ids `5000001`…). Tile number `k` (from 1) shows the value `k`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BulkContent {
    /// Number of generated dashboards.
    pub dashboards: usize,
    /// Tiles on each generated dashboard.
    pub tiles_per_dashboard: usize,
}

impl Default for FakeLookerConfig {
    fn default() -> Self {
        FakeLookerConfig {
            client_id: "demo-client-id".into(),
            client_secret: "demo-client-secret".into(),
            latency: Duration::ZERO,
            slow_query: Duration::from_secs(45),
            token_ttl: Duration::from_secs(3600),
            demo: true,
            bulk: None,
        }
    }
}

/// A running fake Looker server.
#[derive(Debug)]
pub struct FakeLooker {
    addr: SocketAddr,
    base_url: String,
    control: Control,
    shutdown: watch::Sender<bool>,
    task: JoinHandle<()>,
}

impl FakeLooker {
    /// Serves on `listener` until [`FakeLooker::shutdown`] (or drop of the runtime).
    pub async fn start(
        config: FakeLookerConfig,
        listener: TcpListener,
    ) -> std::io::Result<FakeLooker> {
        let addr = listener.local_addr()?;
        let base_url = format!("http://{addr}");
        let catalog = demo::catalog(config.demo, config.bulk.as_ref());
        let shared = Arc::new(state::Shared {
            base_url: base_url.clone(),
            demo: config.demo,
            bulk: config.bulk,
            settings: Mutex::new(state::Settings {
                client_id: config.client_id,
                client_secret: config.client_secret,
                latency: config.latency,
                slow_query: config.slow_query,
                token_ttl: config.token_ttl,
            }),
            catalog: state::CatalogLock::new(catalog),
            rendered: render_cache::RenderCache::default(),
            tokens: Mutex::default(),
            executor: executor::Executor::default(),
            tasks: Mutex::default(),
            counters: Mutex::default(),
            faults: Mutex::default(),
        });
        let (shutdown, shutdown_rx) = watch::channel(false);
        let router = routes::router(shared.clone());
        let task = tokio::spawn(server::serve(listener, router, shutdown_rx));
        Ok(FakeLooker {
            addr,
            base_url,
            control: Control::new(shared),
            shutdown,
            task,
        })
    }

    /// The bound address.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `http://127.0.0.1:PORT`, without `/api/4.0` (like an SDK's `base_url`).
    pub fn base_url(&self) -> String {
        self.base_url.clone()
    }

    /// The in-process control handle.
    pub fn control(&self) -> &Control {
        &self.control
    }

    /// Stops accepting, closes open connections and waits for the accept loop to end.
    pub async fn shutdown(self) {
        let _ = self.shutdown.send(true);
        let _ = self.task.await;
    }
}
