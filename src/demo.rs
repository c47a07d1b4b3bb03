//! `kpilink demo`: the fake Looker with its demo instance and the daemon, in one
//! process, set up so that a newcomer can follow the README with grpcurl.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use anyhow::Context;
use clap::Args;
use kpilink_looker_fake::{FakeLooker, FakeLookerConfig};
use tokio::net::TcpListener;

use crate::config::ServeConfig;
use crate::server::Daemon;

#[derive(Debug, Args)]
pub struct DemoArgs {
    /// Address of the daemon's gRPC server.
    #[arg(long, default_value = "127.0.0.1:50051")]
    pub listen: SocketAddr,
    /// Address of the fake Looker.
    #[arg(long, default_value = "127.0.0.1:19999")]
    pub looker_listen: SocketAddr,
    /// Data directory of the demo daemon.
    #[arg(long, default_value = "./kpilink-demo-data")]
    pub data_dir: PathBuf,
    /// Address of the metrics endpoint, or "off".
    #[arg(long, default_value = "127.0.0.1:9464")]
    pub metrics_addr: String,
    /// Log format.
    #[arg(long, value_enum, default_value = "text")]
    pub log_format: crate::config::LogFormat,
    /// Cold runtime of the slow dashboard's query, in seconds.
    #[arg(long, default_value_t = 45)]
    pub slow_query_secs: u64,
}

/// Runs the fake Looker and the daemon until `shutdown` completes.
pub async fn run(args: DemoArgs, shutdown: impl Future<Output = ()> + Send) -> anyhow::Result<()> {
    let looker_listener = TcpListener::bind(args.looker_listen)
        .await
        .with_context(|| format!("cannot listen on {}", args.looker_listen))?;
    let fake = FakeLooker::start(
        FakeLookerConfig {
            slow_query: Duration::from_secs(args.slow_query_secs),
            ..FakeLookerConfig::default()
        },
        looker_listener,
    )
    .await?;
    let mut config = ServeConfig::for_data_dir(&args.data_dir);
    config.listen = args.listen;
    // The fake lives on loopback over http: allow exactly that.
    config.allow_http_sources = true;
    config.allow_source_cidrs = vec!["127.0.0.1/32".parse().expect("a valid CIDR")];
    config.sync.min_interval = Duration::from_secs(10);
    let daemon = Daemon::open(&config).await?;
    let listener = TcpListener::bind(config.listen)
        .await
        .with_context(|| format!("cannot listen on {}", config.listen))?;
    let metrics = match args.metrics_addr.as_str() {
        "off" => None,
        addr => Some(
            TcpListener::bind(addr)
                .await
                .with_context(|| format!("cannot serve metrics on {addr}"))?,
        ),
    };
    let defaults = FakeLookerConfig::default();
    tracing::info!(
        looker_url = %fake.base_url(),
        client_id = %defaults.client_id,
        client_secret = %defaults.client_secret,
        "demo Looker ready (its credentials are public demo values)"
    );
    tracing::info!(
        token_file = %args.data_dir.join(crate::security::ADMIN_TOKEN_FILE).display(),
        "demo daemon ready: follow the README's walk-through"
    );
    let result = daemon.serve_with_metrics(listener, metrics, shutdown).await;
    fake.shutdown().await;
    result
}
