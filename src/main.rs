use std::io::Read;

use anyhow::Context;
use clap::Parser;
use kpilink::config::{Cli, Command, ServeConfig};
use kpilink::server::Daemon;
use tokio::net::TcpListener;
use tokio::signal::unix::{SignalKind, signal};

fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    match cli.command {
        Command::Serve(args) => serve(ServeConfig::resolve(*args)?),
        Command::HashToken => hash_token(),
        Command::Demo(args) => {
            kpilink::logging::init(args.log_format, "info")?;
            tokio::runtime::Runtime::new()?.block_on(kpilink::demo::run(args, shutdown_signal()))
        }
        Command::FakeLooker(args) => {
            kpilink::logging::init(kpilink::config::LogFormat::Text, "info")?;
            tokio::runtime::Runtime::new()?.block_on(kpilink_looker_fake::run(args))
        }
    }
}

fn serve(config: ServeConfig) -> anyhow::Result<()> {
    kpilink::logging::init(config.log_format, &config.log_level)?;
    let runtime = tokio::runtime::Runtime::new()?;
    runtime.block_on(async {
        let daemon = Daemon::open(&config).await.inspect_err(|error| {
            tracing::error!("cannot start: {error:#}");
        })?;
        let listener = TcpListener::bind(config.listen)
            .await
            .with_context(|| format!("cannot listen on {}", config.listen))?;
        let metrics = match config.metrics_addr {
            Some(addr) => Some(
                TcpListener::bind(addr)
                    .await
                    .with_context(|| format!("cannot serve metrics on {addr}"))?,
            ),
            None => None,
        };
        daemon
            .serve_with_metrics(listener, metrics, shutdown_signal())
            .await
    })
}

/// Resolves on SIGTERM or SIGINT.
async fn shutdown_signal() {
    let (Ok(mut term), Ok(mut int)) = (
        signal(SignalKind::terminate()),
        signal(SignalKind::interrupt()),
    ) else {
        tracing::error!("cannot install signal handlers; stop with SIGKILL");
        return std::future::pending().await;
    };
    tokio::select! {
        _ = term.recv() => tracing::info!("SIGTERM: shutting down"),
        _ = int.recv() => tracing::info!("SIGINT: shutting down"),
    }
}

fn hash_token() -> anyhow::Result<()> {
    let mut token = String::new();
    std::io::stdin().read_to_string(&mut token)?;
    let token = token.trim();
    anyhow::ensure!(!token.is_empty(), "give the token on stdin");
    println!("{}", hex::encode(kpilink::security::hash_token(token)));
    Ok(())
}
