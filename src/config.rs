//! Command line and configuration: flags > `KPILINK_*` environment > TOML file
//! (`--config`) > defaults.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::Context;
use clap::{Args, Parser, Subcommand, ValueEnum};
use secrecy::SecretString;
use serde::Deserialize;

use crate::security::{MasterKeySource, TokenGrant};
use crate::sync::SyncSettings;

pub const DEFAULT_LISTEN: &str = "127.0.0.1:50051";
pub const DEFAULT_DATA_DIR: &str = "./kpilink-data";
pub const DEFAULT_METRICS_ADDR: &str = "127.0.0.1:9464";
pub const DEFAULT_LOG_LEVEL: &str = "info";
pub const MASTER_KEY_ENV: &str = "KPILINK_MASTER_KEY";

#[derive(Debug, Parser)]
#[command(
    name = "kpilink",
    version,
    about = "Links OKR key results to numbers in BI tools and keeps them current"
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the daemon.
    Serve(Box<ServeArgs>),
    /// Read a token from stdin and print its SHA-256, for --token-hash.
    HashToken,
    /// Run a fake Looker API 4.0 server with a demo instance (for trying kpilink
    /// without a Looker account, tests and benchmarks).
    FakeLooker(kpilink_looker_fake::FakeLookerArgs),
    /// Run the fake Looker's demo instance and the daemon together, ready for the
    /// README's walk-through (http to 127.0.0.1 allowed, 10 s minimum interval).
    Demo(crate::demo::DemoArgs),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    Text,
    Json,
}

#[derive(Debug, Default, Args)]
#[command(
    after_help = "The master key that seals secrets is read, in this order, from \
KPILINK_MASTER_KEY (64 hex characters), from --master-key-file, or from \
<data-dir>/master.key, which is generated (mode 0600) on first start.

With no token configured, the first start generates an admin token for all orgs into \
<data-dir>/admin.token (mode 0600); only its hash is stored."
)]
pub struct ServeArgs {
    /// TOML configuration file; flags and KPILINK_* variables override it.
    #[arg(long, env = "KPILINK_CONFIG", value_name = "FILE")]
    pub config: Option<PathBuf>,

    /// Address to serve gRPC on [default: 127.0.0.1:50051].
    #[arg(long, env = "KPILINK_LISTEN", value_name = "ADDR")]
    pub listen: Option<SocketAddr>,

    /// Directory of the database, the generated master key and admin token
    /// [default: ./kpilink-data].
    #[arg(long, env = "KPILINK_DATA_DIR", value_name = "DIR")]
    pub data_dir: Option<PathBuf>,

    /// Address of the Prometheus endpoint (GET /metrics), or "off"
    /// [default: 127.0.0.1:9464].
    #[arg(long, env = "KPILINK_METRICS_ADDR", value_name = "ADDR|off")]
    pub metrics_addr: Option<String>,

    /// Log format [default: text].
    #[arg(long, env = "KPILINK_LOG_FORMAT", value_enum)]
    pub log_format: Option<LogFormat>,

    /// Log filter, e.g. "info" or "info,kpilink=debug" [default: info].
    #[arg(long, env = "KPILINK_LOG_LEVEL", value_name = "FILTER")]
    pub log_level: Option<String>,

    /// File holding the master key (64 hex characters).
    #[arg(long, env = "KPILINK_MASTER_KEY_FILE", value_name = "FILE")]
    pub master_key_file: Option<PathBuf>,

    /// Accept http:// source URLs besides https:// [default: false].
    #[arg(long, env = "KPILINK_ALLOW_HTTP_SOURCES", num_args = 0..=1, default_missing_value = "true", value_name = "BOOL")]
    pub allow_http_sources: Option<bool>,

    /// An internal address range sources may live in (the SSRF guard refuses
    /// loopback, private, link-local, CGNAT and ULA addresses otherwise).
    /// Repeatable; in KPILINK_ALLOW_SOURCE_CIDRS separate them with ','.
    #[arg(
        long = "allow-source-cidr",
        env = "KPILINK_ALLOW_SOURCE_CIDRS",
        value_delimiter = ',',
        value_name = "CIDR"
    )]
    pub allow_source_cidrs: Vec<ipnet::IpNet>,

    /// Largest response body accepted from a source, in MiB [default: 64].
    #[arg(long, env = "KPILINK_MAX_SOURCE_BODY_MIB", value_name = "MIB")]
    pub max_source_body_mib: Option<usize>,

    /// Sync interval of bindings created without one [default: 15m].
    #[arg(long, env = "KPILINK_DEFAULT_SYNC_INTERVAL", value_parser = humantime::parse_duration, value_name = "DURATION")]
    pub default_sync_interval: Option<Duration>,

    /// Shortest sync interval a binding may have [default: 60s].
    #[arg(long, env = "KPILINK_MIN_SYNC_INTERVAL", value_parser = humantime::parse_duration, value_name = "DURATION")]
    pub min_sync_interval: Option<Duration>,

    /// Query budget of background syncs, so cold dashboards still sync [default: 10m].
    #[arg(long, env = "KPILINK_BACKGROUND_QUERY_BUDGET", value_parser = humantime::parse_duration, value_name = "DURATION")]
    pub background_query_budget: Option<Duration>,

    /// Concurrent source queries per connection (Looker allows 15 per user) [default: 4].
    #[arg(
        long,
        env = "KPILINK_SYNC_CONCURRENCY_PER_CONNECTION",
        value_name = "N"
    )]
    pub sync_concurrency_per_connection: Option<usize>,

    /// Concurrent source queries in all [default: 64].
    #[arg(long, env = "KPILINK_SYNC_CONCURRENCY", value_name = "N")]
    pub sync_concurrency: Option<usize>,

    /// Bindings due within this window of each other sync in one cycle, sharing
    /// query runs [default: 30s].
    #[arg(long, env = "KPILINK_SYNC_COALESCE_WINDOW", value_parser = humantime::parse_duration, value_name = "DURATION")]
    pub sync_coalesce_window: Option<Duration>,

    /// How long update events are kept for WatchUpdates replays [default: 30days].
    #[arg(long, env = "KPILINK_UPDATE_RETENTION", value_parser = humantime::parse_duration, value_name = "DURATION")]
    pub update_retention: Option<Duration>,

    /// An accepted bearer token, as SHA256HEX:* (all orgs) or SHA256HEX:org1,org2.
    /// Repeatable; in KPILINK_TOKEN_HASHES separate them with ';'.
    /// Make the hash with `kpilink hash-token`.
    #[arg(
        long = "token-hash",
        env = "KPILINK_TOKEN_HASHES",
        value_delimiter = ';',
        value_name = "HASH:ORGS"
    )]
    pub token_hashes: Vec<String>,
}

/// The TOML file. Every key is optional.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileConfig {
    listen: Option<SocketAddr>,
    metrics_addr: Option<String>,
    data_dir: Option<PathBuf>,
    log_format: Option<LogFormat>,
    log_level: Option<String>,
    master_key_file: Option<PathBuf>,
    allow_http_sources: Option<bool>,
    #[serde(default)]
    allow_source_cidrs: Vec<ipnet::IpNet>,
    max_source_body_mib: Option<usize>,
    #[serde(default, with = "humantime_serde")]
    default_sync_interval: Option<Duration>,
    #[serde(default, with = "humantime_serde")]
    min_sync_interval: Option<Duration>,
    #[serde(default, with = "humantime_serde")]
    background_query_budget: Option<Duration>,
    sync_concurrency_per_connection: Option<usize>,
    sync_concurrency: Option<usize>,
    #[serde(default, with = "humantime_serde")]
    update_retention: Option<Duration>,
    #[serde(default, with = "humantime_serde")]
    sync_coalesce_window: Option<Duration>,
    #[serde(default)]
    tokens: Vec<FileToken>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileToken {
    sha256: String,
    orgs: Vec<String>,
}

/// Everything `serve` needs, resolved.
pub struct ServeConfig {
    pub listen: SocketAddr,
    /// `None`: no metrics endpoint.
    pub metrics_addr: Option<SocketAddr>,
    pub data_dir: PathBuf,
    pub log_format: LogFormat,
    pub log_level: String,
    pub master_key: MasterKeySource,
    pub allow_http_sources: bool,
    pub allow_source_cidrs: Vec<ipnet::IpNet>,
    /// Largest response body accepted from a source, in bytes.
    pub source_body_cap: usize,
    pub sync: SyncSettings,
    /// Empty: generate an admin token in the data directory.
    pub tokens: Vec<TokenGrant>,
}

impl ServeConfig {
    /// Defaults for a data directory: what `kpilink serve --data-dir DIR` would use
    /// with no other configuration.
    pub fn for_data_dir(data_dir: &Path) -> Self {
        ServeConfig {
            listen: DEFAULT_LISTEN.parse().expect("default address parses"),
            metrics_addr: Some(
                DEFAULT_METRICS_ADDR
                    .parse()
                    .expect("default address parses"),
            ),
            data_dir: data_dir.to_owned(),
            log_format: LogFormat::Text,
            log_level: DEFAULT_LOG_LEVEL.to_owned(),
            master_key: MasterKeySource::DataDir(data_dir.to_owned()),
            allow_http_sources: false,
            allow_source_cidrs: Vec::new(),
            source_body_cap: kpilink_connector::http::DEFAULT_BODY_CAP,
            sync: SyncSettings::default(),
            tokens: Vec::new(),
        }
    }

    /// Merges flags and environment (already in `args`) over the TOML file and defaults.
    pub fn resolve(args: ServeArgs) -> anyhow::Result<Self> {
        let file = match &args.config {
            Some(path) => {
                let text = std::fs::read_to_string(path)
                    .with_context(|| format!("cannot read config file {}", path.display()))?;
                toml::from_str::<FileConfig>(&text)
                    .with_context(|| format!("invalid config file {}", path.display()))?
            }
            None => FileConfig::default(),
        };
        let data_dir = args
            .data_dir
            .or(file.data_dir)
            .unwrap_or_else(|| PathBuf::from(DEFAULT_DATA_DIR));
        let master_key = match std::env::var(MASTER_KEY_ENV) {
            Ok(hex) if !hex.is_empty() => MasterKeySource::Env(SecretString::from(hex)),
            _ => match args.master_key_file.or(file.master_key_file) {
                Some(path) => MasterKeySource::File(path),
                None => MasterKeySource::DataDir(data_dir.clone()),
            },
        };
        let tokens = if args.token_hashes.is_empty() {
            file.tokens
                .iter()
                .map(|token| TokenGrant::new(&token.sha256, &token.orgs))
                .collect::<anyhow::Result<Vec<_>>>()
                .context("invalid [[tokens]] in the config file")?
        } else {
            args.token_hashes
                .iter()
                .map(|text| TokenGrant::parse(text))
                .collect::<anyhow::Result<Vec<_>>>()
                .context("invalid --token-hash")?
        };
        let metrics_addr = match args.metrics_addr.or(file.metrics_addr).as_deref() {
            None => Some(
                DEFAULT_METRICS_ADDR
                    .parse()
                    .expect("default address parses"),
            ),
            Some("off") => None,
            Some(text) => Some(
                text.parse::<SocketAddr>()
                    .with_context(|| format!("invalid metrics address {text:?}"))?,
            ),
        };
        let source_body_cap = args
            .max_source_body_mib
            .or(file.max_source_body_mib)
            .map_or(kpilink_connector::http::DEFAULT_BODY_CAP, |mib| {
                mib.saturating_mul(1 << 20)
            });
        Ok(ServeConfig {
            metrics_addr,
            source_body_cap,
            listen: args
                .listen
                .or(file.listen)
                .unwrap_or_else(|| DEFAULT_LISTEN.parse().expect("default address parses")),
            log_format: args
                .log_format
                .or(file.log_format)
                .unwrap_or(LogFormat::Text),
            log_level: args
                .log_level
                .or(file.log_level)
                .unwrap_or_else(|| DEFAULT_LOG_LEVEL.to_owned()),
            master_key,
            allow_http_sources: args
                .allow_http_sources
                .or(file.allow_http_sources)
                .unwrap_or(false),
            sync: {
                let defaults = SyncSettings::default();
                SyncSettings {
                    default_interval: args
                        .default_sync_interval
                        .or(file.default_sync_interval)
                        .unwrap_or(defaults.default_interval),
                    min_interval: args
                        .min_sync_interval
                        .or(file.min_sync_interval)
                        .unwrap_or(defaults.min_interval),
                    background_budget: args
                        .background_query_budget
                        .or(file.background_query_budget)
                        .unwrap_or(defaults.background_budget),
                    per_connection: args
                        .sync_concurrency_per_connection
                        .or(file.sync_concurrency_per_connection)
                        .unwrap_or(defaults.per_connection),
                    global: args
                        .sync_concurrency
                        .or(file.sync_concurrency)
                        .unwrap_or(defaults.global),
                    retention: args
                        .update_retention
                        .or(file.update_retention)
                        .unwrap_or(defaults.retention),
                    coalesce_window: args
                        .sync_coalesce_window
                        .or(file.sync_coalesce_window)
                        .unwrap_or(defaults.coalesce_window),
                }
            },
            allow_source_cidrs: if args.allow_source_cidrs.is_empty() {
                file.allow_source_cidrs
            } else {
                args.allow_source_cidrs
            },
            tokens,
            data_dir,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(args: &[&str]) -> ServeArgs {
        let mut argv = vec!["kpilink", "serve"];
        argv.extend_from_slice(args);
        match Cli::try_parse_from(argv).unwrap().command {
            Command::Serve(args) => *args,
            _ => unreachable!("the tests parse serve only"),
        }
    }

    #[test]
    fn flags_win_over_the_file_which_wins_over_defaults() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("kpilink.toml");
        let hash = "ab".repeat(32);
        std::fs::write(
            &path,
            format!(
                "listen = \"127.0.0.1:7000\"\nlog_format = \"json\"\nallow_http_sources = true\n\
                 [[tokens]]\nsha256 = \"{hash}\"\norgs = [\"acme\"]\n"
            ),
        )
        .unwrap();
        let config = ServeConfig::resolve(parse(&[
            "--config",
            path.to_str().unwrap(),
            "--listen",
            "127.0.0.1:9000",
        ]))
        .unwrap();
        assert_eq!(config.listen, "127.0.0.1:9000".parse().unwrap());
        assert_eq!(config.log_format, LogFormat::Json);
        assert!(config.allow_http_sources);
        assert_eq!(config.tokens.len(), 1);
        assert_eq!(config.data_dir, PathBuf::from(DEFAULT_DATA_DIR));

        let config = ServeConfig::resolve(parse(&[
            "--config",
            path.to_str().unwrap(),
            "--allow-http-sources",
            "false",
        ]))
        .unwrap();
        assert!(!config.allow_http_sources);
        assert_eq!(config.listen, "127.0.0.1:7000".parse().unwrap());
    }

    #[test]
    fn unknown_file_keys_and_bad_tokens_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("kpilink.toml");
        std::fs::write(&path, "listne = \"127.0.0.1:7000\"\n").unwrap();
        assert!(ServeConfig::resolve(parse(&["--config", path.to_str().unwrap()])).is_err());
        assert!(ServeConfig::resolve(parse(&["--token-hash", "abc:*"])).is_err());
        let flag = parse(&["--allow-http-sources"]);
        assert_eq!(flag.allow_http_sources, Some(true));
    }
}
