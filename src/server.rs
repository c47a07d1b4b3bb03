//! Assembles the daemon: store, keys, tokens, services, health, reflection and
//! the auth layer; serves until shutdown.

use std::future::Future;
use std::os::unix::fs::DirBuilderExt;
use std::path::Path;
use std::sync::Arc;

use anyhow::Context;
use tokio::net::TcpListener;
use tonic::transport::Server;
use tonic::transport::server::TcpIncoming;

use crate::api::{BindingApi, ConnectionApi, DiscoveryApi};
use crate::bindings::Bindings;
use crate::config::ServeConfig;
use crate::connections::Connections;
use crate::discovery::Discovery;
use crate::metrics::{Metrics, RpcMetricsLayer, Scrape};
use crate::proto::binding_service_server::BindingServiceServer;
use crate::proto::connection_service_server::ConnectionServiceServer;
use crate::proto::discovery_service_server::DiscoveryServiceServer;
use crate::security::{
    AuthLayer, Authenticator, MasterKey, Sealer, SecretSlot, TokenGrant, ensure_admin_token,
};
use crate::sources::SourcePool;
use crate::store::{SealedSecret, SledStore, Store};
use crate::sync::{Engine, UpdateLog};
use kpilink_connector::SourcePolicy;

/// Largest request message accepted (bounds memory per call).
const MAX_REQUEST_BYTES: usize = 4 * 1024 * 1024;
/// How long a shutdown waits for calls in flight.
const SHUTDOWN_GRACE: std::time::Duration = std::time::Duration::from_secs(10);
const KEY_CHECK_META: &str = "master_key_check";
const KEY_CHECK_TEXT: &str = "kpilink master key check";

/// The daemon's state, ready to serve.
pub struct Daemon {
    connections: Arc<Connections>,
    discovery: Arc<Discovery>,
    bindings: Arc<Bindings>,
    authenticator: Arc<Authenticator>,
    metrics: Arc<Metrics>,
    scrape: Arc<Scrape>,
}

impl Daemon {
    /// Opens the data directory and everything in it. Fails with a clear message
    /// when the directory is in use, the schema is newer, or the master key does
    /// not match the database.
    pub async fn open(config: &ServeConfig) -> anyhow::Result<Self> {
        create_private_dir(&config.data_dir)?;
        let store: Arc<dyn Store> = Arc::new(
            SledStore::open(&config.data_dir.join("db")).with_context(|| {
                format!(
                    "cannot open the database in {} (is another kpilink using it?)",
                    config.data_dir.display()
                )
            })?,
        );
        let (key, generated) = MasterKey::load(&config.master_key)?;
        if generated {
            tracing::info!(path = %config.data_dir.join(crate::security::GENERATED_KEY_FILE).display(), "generated a master key; back it up, secrets cannot be read without it");
        }
        let sealer = Arc::new(Sealer::new(&key));
        check_master_key(store.as_ref(), &sealer).await?;

        let mut grants: Vec<TokenGrant> = config.tokens.clone();
        if grants.is_empty() {
            grants.push(ensure_admin_token(store.as_ref(), &config.data_dir).await?);
        }

        let metrics = Arc::new(Metrics::default());
        let sources = Arc::new(SourcePool::new(
            Arc::new(crate::connectors::registry()),
            sealer.clone(),
            SourcePolicy {
                allow_http: config.allow_http_sources,
                allowed_cidrs: config.allow_source_cidrs.clone(),
            },
            config.source_body_cap,
            Some(metrics.clone() as Arc<dyn kpilink_connector::http::HttpObserver>),
        ));
        let connections = Arc::new(Connections::new(store.clone(), sealer, sources));
        let discovery = Arc::new(Discovery::new(connections.clone()));
        let log = Arc::new(UpdateLog::open(store.clone()).await?);
        let engine = Arc::new(Engine::new(
            store.clone(),
            connections.clone(),
            log.clone(),
            config.sync.clone(),
            metrics.clone(),
        ));
        let scrape = Arc::new(Scrape {
            metrics: metrics.clone(),
            store: store.clone(),
            log,
        });
        let bindings = Arc::new(Bindings::new(
            store,
            connections.clone(),
            discovery.clone(),
            engine,
        ));
        Ok(Daemon {
            discovery,
            bindings,
            connections,
            authenticator: Arc::new(Authenticator::new(grants)),
            metrics,
            scrape,
        })
    }

    /// Serves gRPC on `listener` until `shutdown` completes, without metrics.
    pub async fn serve(
        self,
        listener: TcpListener,
        shutdown: impl Future<Output = ()> + Send,
    ) -> anyhow::Result<()> {
        self.serve_with_metrics(listener, None, shutdown).await
    }

    /// Serves gRPC on `listener` (and Prometheus metrics on `metrics`, if given)
    /// until `shutdown` completes, then drains calls in flight.
    pub async fn serve_with_metrics(
        self,
        listener: TcpListener,
        metrics: Option<TcpListener>,
        shutdown: impl Future<Output = ()> + Send,
    ) -> anyhow::Result<()> {
        let metrics_task = match metrics {
            Some(metrics) => {
                tracing::info!(addr = %metrics.local_addr()?, "serving metrics at /metrics");
                Some(tokio::spawn(crate::metrics::serve(
                    metrics,
                    self.scrape.clone(),
                )))
            }
            None => None,
        };
        let (health, health_service) = tonic_health::server::health_reporter();
        health
            .set_serving::<ConnectionServiceServer<ConnectionApi>>()
            .await;
        health
            .set_serving::<DiscoveryServiceServer<DiscoveryApi>>()
            .await;
        health
            .set_serving::<BindingServiceServer<BindingApi>>()
            .await;

        let reflection_v1 = reflection_builder().build_v1()?;
        let reflection_v1alpha = reflection_builder().build_v1alpha()?;

        let connection_api = ConnectionServiceServer::new(ConnectionApi::new(
            self.connections,
            self.bindings.clone(),
        ))
        .max_decoding_message_size(MAX_REQUEST_BYTES);
        let discovery_api = DiscoveryServiceServer::new(DiscoveryApi::new(self.discovery))
            .max_decoding_message_size(MAX_REQUEST_BYTES);
        let binding_api = BindingServiceServer::new(BindingApi::new(self.bindings.clone()))
            .max_decoding_message_size(MAX_REQUEST_BYTES);

        let sync_cycles = self.bindings.engine().clone().start().await?;
        let addr = listener.local_addr()?;
        tracing::info!(%addr, "serving gRPC");
        let (stopping, stopped) = tokio::sync::oneshot::channel::<()>();
        let server = Server::builder()
            .trace_fn(|request| tracing::info_span!("rpc", method = request.uri().path()))
            .layer(RpcMetricsLayer::new(self.metrics.clone()))
            .layer(AuthLayer::new(self.authenticator))
            .add_service(health_service)
            .add_service(reflection_v1)
            .add_service(reflection_v1alpha)
            .add_service(connection_api)
            .add_service(discovery_api)
            .add_service(binding_api)
            // Without TCP_NODELAY every reply waits for the peer's delayed ACK (~40 ms).
            .serve_with_incoming_shutdown(
                TcpIncoming::from(listener).with_nodelay(Some(true)),
                async {
                    shutdown.await;
                    let _ = stopping.send(());
                },
            );
        tokio::pin!(server);
        // Calls in flight get a grace period; idle clients cannot hold the exit.
        tokio::select! {
            result = &mut server => result?,
            _ = async {
                if stopped.await.is_ok() {
                    tokio::time::sleep(SHUTDOWN_GRACE).await;
                } else {
                    std::future::pending::<()>().await;
                }
            } => tracing::warn!(grace = ?SHUTDOWN_GRACE, "calls still open after the grace period; stopping anyway"),
        }
        sync_cycles.abort();
        if let Some(task) = metrics_task {
            task.abort();
        }
        tracing::info!("stopped serving");
        Ok(())
    }
}

fn reflection_builder() -> tonic_reflection::server::Builder<'static> {
    tonic_reflection::server::Builder::configure()
        .register_encoded_file_descriptor_set(crate::proto::FILE_DESCRIPTOR_SET)
        // google.rpc error details, so grpcurl can print ErrorInfo and BadRequest.
        .register_encoded_file_descriptor_set(tonic_types::pb::FILE_DESCRIPTOR_SET)
        .register_encoded_file_descriptor_set(tonic_health::pb::FILE_DESCRIPTOR_SET)
}

fn create_private_dir(dir: &Path) -> anyhow::Result<()> {
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(dir)
        .with_context(|| format!("cannot create data directory {}", dir.display()))
}

/// Proves at start-up that the master key opens this database's secrets, so a
/// wrong key fails now and loudly instead of at the first sync.
async fn check_master_key(store: &dyn Store, sealer: &Sealer) -> anyhow::Result<()> {
    let slot = SecretSlot {
        org_id: "",
        connection_id: "",
        field: KEY_CHECK_META,
    };
    match store.get_meta(KEY_CHECK_META).await? {
        Some(bytes) => {
            let sealed = SealedSecret(String::from_utf8(bytes).context("corrupt key check")?);
            sealer.open(slot, &sealed).map_err(|_| {
                anyhow::anyhow!(
                    "the master key does not match the one this data directory was created \
                     with; start with the original key (KPILINK_MASTER_KEY, --master-key-file \
                     or <data-dir>/master.key)"
                )
            })?;
        }
        None => {
            let sealed = sealer.seal(slot, &KEY_CHECK_TEXT.to_owned().into());
            store.put_meta(KEY_CHECK_META, sealed.0.as_bytes()).await?;
        }
    }
    Ok(())
}
