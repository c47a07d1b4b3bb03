//! `kpilink fake-looker`: command-line flags and the serve-until-signal loop.

use std::net::SocketAddr;
use std::time::Duration;

use crate::{BulkContent, FakeLooker, FakeLookerConfig};

/// Flags of `kpilink fake-looker`.
#[derive(Clone, Debug, clap::Args)]
pub struct FakeLookerArgs {
    /// Address to listen on (loopback by default; Looker's classic API port is 19999).
    #[arg(long, default_value = "127.0.0.1:19999")]
    pub listen: SocketAddr,
    /// API client id accepted by login.
    #[arg(long, default_value = "demo-client-id")]
    pub client_id: String,
    /// API client secret accepted by login.
    #[arg(long, default_value = "demo-client-secret")]
    pub client_secret: String,
    /// Latency added to every API response, in milliseconds.
    #[arg(long, default_value_t = 0)]
    pub latency_ms: u64,
    /// Runtime of the slow dashboard's query when it is not cached, in seconds.
    #[arg(long, default_value_t = 45)]
    pub slow_query_secs: u64,
    /// Lifetime of access tokens, in seconds.
    #[arg(long, default_value_t = 3600)]
    pub token_ttl_secs: u64,
    /// Start without the demo instance (no dashboards, Looks or data).
    #[arg(long)]
    pub no_demo: bool,
    /// Also serve this many generated dashboards of single-value tiles (ids 10001…), for
    /// benchmarks; 0 = none.
    #[arg(long, default_value_t = 0)]
    pub bulk_dashboards: usize,
    /// Tiles on each generated dashboard.
    #[arg(long, default_value_t = 20)]
    pub bulk_tiles_per_dashboard: usize,
}

impl FakeLookerArgs {
    /// The server configuration these flags describe.
    pub fn config(&self) -> FakeLookerConfig {
        FakeLookerConfig {
            client_id: self.client_id.clone(),
            client_secret: self.client_secret.clone(),
            latency: Duration::from_millis(self.latency_ms),
            slow_query: Duration::from_secs(self.slow_query_secs),
            token_ttl: Duration::from_secs(self.token_ttl_secs),
            demo: !self.no_demo,
            bulk: (self.bulk_dashboards > 0).then_some(BulkContent {
                dashboards: self.bulk_dashboards,
                tiles_per_dashboard: self.bulk_tiles_per_dashboard,
            }),
        }
    }
}

/// Starts the fake, prints its settings, and serves until SIGINT or SIGTERM.
pub async fn run(args: FakeLookerArgs) -> anyhow::Result<()> {
    let listener = tokio::net::TcpListener::bind(args.listen)
        .await
        .map_err(|e| anyhow::anyhow!("cannot listen on {}: {e}", args.listen))?;
    let fake = FakeLooker::start(args.config(), listener).await?;
    let url = fake.base_url();
    // Demo credentials, so printing them is the point: a newcomer copies them into kpilink.
    println!("fake Looker API 4.0 listening");
    println!("  base url:      {url}   (API at {url}/api/4.0)");
    println!("  client id:     {}", args.client_id);
    println!("  client secret: {}", args.client_secret);
    println!("  latency:       {} ms", args.latency_ms);
    println!(
        "  slow query:    {} s (dashboard 7, Data Warehouse Health, when not cached)",
        args.slow_query_secs
    );
    println!("  token ttl:     {} s", args.token_ttl_secs);
    println!(
        "  demo content:  {}",
        if args.no_demo { "off" } else { "on" }
    );
    match args.config().bulk {
        Some(bulk) => println!("  bulk content:  {}", crate::bulk::describe(&bulk)),
        None => println!("  bulk content:  none"),
    }
    println!("  control:       {url}/control   (e.g. curl {url}/control/counters)");
    wait_for_signal().await?;
    println!("fake Looker shutting down");
    fake.shutdown().await;
    Ok(())
}

#[cfg(unix)]
async fn wait_for_signal() -> anyhow::Result<()> {
    use tokio::signal::unix::{SignalKind, signal};
    let mut term = signal(SignalKind::terminate())?;
    tokio::select! {
        result = tokio::signal::ctrl_c() => result?,
        _ = term.recv() => {}
    }
    Ok(())
}

#[cfg(not(unix))]
async fn wait_for_signal() -> anyhow::Result<()> {
    tokio::signal::ctrl_c().await?;
    Ok(())
}
