//! Prometheus metrics: counters and latency histograms kept in memory and
//! rendered in the text exposition format on `GET /metrics`.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::Mutex;
use std::time::Duration;

use kpilink_connector::http::HttpObserver;

/// Latency buckets in seconds, from 1 ms to 10 min.
const BUCKETS: &[f64] = &[
    0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 600.0,
];

#[derive(Debug, Clone, Default)]
struct Histogram {
    counts: Vec<u64>,
    sum: f64,
    count: u64,
}

impl Histogram {
    fn observe(&mut self, seconds: f64) {
        if self.counts.is_empty() {
            self.counts = vec![0; BUCKETS.len()];
        }
        for (bucket, limit) in self.counts.iter_mut().zip(BUCKETS) {
            if seconds <= *limit {
                *bucket += 1;
            }
        }
        self.sum += seconds;
        self.count += 1;
    }
}

#[derive(Default)]
struct Series {
    rpc_requests: BTreeMap<(String, String), u64>,
    rpc_latency: BTreeMap<String, Histogram>,
    syncs: BTreeMap<String, u64>,
    source_requests: BTreeMap<(String, String), u64>,
    source_latency: BTreeMap<String, Histogram>,
}

/// Values read at scrape time rather than counted.
pub struct Gauges {
    pub bindings_by_state: BTreeMap<&'static str, u64>,
    pub update_log_events: u64,
    pub update_log_last_sequence: u64,
    pub watchers: u64,
}

#[derive(Default)]
pub struct Metrics {
    series: Mutex<Series>,
}

impl Metrics {
    pub fn rpc(&self, method: &str, code: &str, elapsed: Duration) {
        let mut series = self.series.lock().expect("metrics lock");
        *series
            .rpc_requests
            .entry((method.to_owned(), code.to_owned()))
            .or_default() += 1;
        series
            .rpc_latency
            .entry(method.to_owned())
            .or_default()
            .observe(elapsed.as_secs_f64());
    }

    /// One binding sync's outcome: `ok`, or the failure's class.
    pub fn sync(&self, outcome: &str) {
        *self
            .series
            .lock()
            .expect("metrics lock")
            .syncs
            .entry(outcome.to_owned())
            .or_default() += 1;
    }

    pub fn render(&self, gauges: &Gauges) -> String {
        let series = self.series.lock().expect("metrics lock");
        let mut out = String::new();
        counter(
            &mut out,
            "kpilink_rpc_requests_total",
            "gRPC calls by method and status code.",
            series
                .rpc_requests
                .iter()
                .map(|((method, code), n)| (format!("method=\"{method}\",code=\"{code}\""), *n)),
        );
        histogram(
            &mut out,
            "kpilink_rpc_duration_seconds",
            "gRPC call latency by method.",
            "method",
            &series.rpc_latency,
        );
        counter(
            &mut out,
            "kpilink_syncs_total",
            "Binding syncs by outcome (ok, or the failure class).",
            series
                .syncs
                .iter()
                .map(|(outcome, n)| (format!("outcome=\"{outcome}\""), *n)),
        );
        counter(
            &mut out,
            "kpilink_source_requests_total",
            "Requests to data sources (Looker) by route and HTTP status (or error).",
            series
                .source_requests
                .iter()
                .map(|((route, status), n)| (format!("route=\"{route}\",status=\"{status}\""), *n)),
        );
        histogram(
            &mut out,
            "kpilink_source_request_duration_seconds",
            "Latency of requests to data sources by route.",
            "route",
            &series.source_latency,
        );
        gauge(
            &mut out,
            "kpilink_bindings",
            "Bindings by state.",
            gauges
                .bindings_by_state
                .iter()
                .map(|(state, n)| (format!("state=\"{state}\""), *n)),
        );
        gauge(
            &mut out,
            "kpilink_update_log_events",
            "Events held in the update log.",
            [(String::new(), gauges.update_log_events)].into_iter(),
        );
        gauge(
            &mut out,
            "kpilink_update_log_last_sequence",
            "Sequence of the newest update event.",
            [(String::new(), gauges.update_log_last_sequence)].into_iter(),
        );
        gauge(
            &mut out,
            "kpilink_watchers",
            "Open WatchUpdates streams.",
            [(String::new(), gauges.watchers)].into_iter(),
        );
        out
    }
}

impl HttpObserver for Metrics {
    fn observe(&self, route: &str, status: Option<u16>, elapsed: Duration) {
        let status = status.map_or_else(|| "error".to_owned(), |s| s.to_string());
        let mut series = self.series.lock().expect("metrics lock");
        *series
            .source_requests
            .entry((route.to_owned(), status))
            .or_default() += 1;
        series
            .source_latency
            .entry(route.to_owned())
            .or_default()
            .observe(elapsed.as_secs_f64());
    }
}

fn labels(text: &str) -> String {
    if text.is_empty() {
        String::new()
    } else {
        format!("{{{text}}}")
    }
}

fn counter(out: &mut String, name: &str, help: &str, values: impl Iterator<Item = (String, u64)>) {
    let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} counter");
    for (label, value) in values {
        let _ = writeln!(out, "{name}{} {value}", labels(&label));
    }
}

fn gauge(out: &mut String, name: &str, help: &str, values: impl Iterator<Item = (String, u64)>) {
    let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} gauge");
    for (label, value) in values {
        let _ = writeln!(out, "{name}{} {value}", labels(&label));
    }
}

fn histogram(
    out: &mut String,
    name: &str,
    help: &str,
    key: &str,
    series: &BTreeMap<String, Histogram>,
) {
    let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} histogram");
    for (value, histogram) in series {
        for (limit, count) in BUCKETS.iter().zip(&histogram.counts) {
            let _ = writeln!(
                out,
                "{name}_bucket{{{key}=\"{value}\",le=\"{limit}\"}} {count}"
            );
        }
        let _ = writeln!(
            out,
            "{name}_bucket{{{key}=\"{value}\",le=\"+Inf\"}} {}",
            histogram.count
        );
        let _ = writeln!(out, "{name}_sum{{{key}=\"{value}\"}} {}", histogram.sum);
        let _ = writeln!(out, "{name}_count{{{key}=\"{value}\"}} {}", histogram.count);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_counters_histograms_and_gauges() {
        let metrics = Metrics::default();
        metrics.rpc(
            "/kpilink.v1.BindingService/GetBinding",
            "OK",
            Duration::from_millis(3),
        );
        metrics.rpc(
            "/kpilink.v1.BindingService/GetBinding",
            "NotFound",
            Duration::from_millis(1),
        );
        metrics.sync("ok");
        metrics.observe("dashboards/{id}", Some(200), Duration::from_millis(20));
        metrics.observe("login", None, Duration::from_millis(5));
        let text = metrics.render(&Gauges {
            bindings_by_state: BTreeMap::from([("OK", 3)]),
            update_log_events: 7,
            update_log_last_sequence: 9,
            watchers: 2,
        });
        for line in [
            "kpilink_rpc_requests_total{method=\"/kpilink.v1.BindingService/GetBinding\",code=\"OK\"} 1",
            "kpilink_rpc_duration_seconds_bucket{method=\"/kpilink.v1.BindingService/GetBinding\",le=\"0.005\"} 2",
            "kpilink_rpc_duration_seconds_count{method=\"/kpilink.v1.BindingService/GetBinding\"} 2",
            "kpilink_syncs_total{outcome=\"ok\"} 1",
            "kpilink_source_requests_total{route=\"dashboards/{id}\",status=\"200\"} 1",
            "kpilink_source_requests_total{route=\"login\",status=\"error\"} 1",
            "kpilink_bindings{state=\"OK\"} 3",
            "kpilink_update_log_events 7",
            "kpilink_watchers 2",
        ] {
            assert!(text.contains(line), "missing {line}\n{text}");
        }
    }
}

/// What a scrape reads besides the counters.
pub struct Scrape {
    pub metrics: std::sync::Arc<Metrics>,
    pub store: std::sync::Arc<dyn crate::store::Store>,
    pub log: std::sync::Arc<crate::sync::UpdateLog>,
}

impl Scrape {
    pub async fn render(&self) -> String {
        let counts = self.store.binding_state_counts().await.unwrap_or_default();
        let (first, last) = self.store.update_log_bounds().await.unwrap_or((0, 0));
        self.metrics.render(&Gauges {
            bindings_by_state: counts,
            update_log_events: if last == 0 {
                0
            } else {
                last + 1 - first.max(1)
            },
            update_log_last_sequence: last,
            watchers: self.log.watchers(),
        })
    }
}

/// Serves `GET /metrics` (Prometheus text format) on `listener` until the
/// task is dropped. A minimal HTTP/1.1 responder: one request per connection.
pub async fn serve(listener: tokio::net::TcpListener, scrape: std::sync::Arc<Scrape>) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    loop {
        let Ok((mut socket, _)) = listener.accept().await else {
            continue;
        };
        let scrape = scrape.clone();
        tokio::spawn(async move {
            let mut head = Vec::with_capacity(1024);
            let mut buffer = [0u8; 1024];
            while !head.windows(4).any(|w| w == b"\r\n\r\n") && head.len() < 8192 {
                match socket.read(&mut buffer).await {
                    Ok(0) | Err(_) => return,
                    Ok(n) => head.extend_from_slice(&buffer[..n]),
                }
            }
            let request_line = String::from_utf8_lossy(&head);
            let mut parts = request_line.split_whitespace();
            let (status, body) = match (parts.next(), parts.next()) {
                (Some("GET"), Some("/metrics")) => ("200 OK", scrape.render().await),
                _ => (
                    "404 Not Found",
                    "only GET /metrics is served here\n".to_owned(),
                ),
            };
            let response = format!(
                "HTTP/1.1 {status}\r\ncontent-type: text/plain; version=0.0.4\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                body.len()
            );
            let _ = socket.write_all(response.as_bytes()).await;
            let _ = socket.shutdown().await;
        });
    }
}

/// Tower layer counting gRPC calls by method and status code, with latency.
#[derive(Clone)]
pub struct RpcMetricsLayer {
    metrics: std::sync::Arc<Metrics>,
}

impl RpcMetricsLayer {
    pub fn new(metrics: std::sync::Arc<Metrics>) -> Self {
        RpcMetricsLayer { metrics }
    }
}

impl<S> tower::Layer<S> for RpcMetricsLayer {
    type Service = RpcMetricsService<S>;

    fn layer(&self, inner: S) -> Self::Service {
        RpcMetricsService {
            inner,
            metrics: self.metrics.clone(),
        }
    }
}

#[derive(Clone)]
pub struct RpcMetricsService<S> {
    inner: S,
    metrics: std::sync::Arc<Metrics>,
}

impl<S, ReqBody, ResBody> tower::Service<http::Request<ReqBody>> for RpcMetricsService<S>
where
    S: tower::Service<http::Request<ReqBody>, Response = http::Response<ResBody>>
        + Clone
        + Send
        + 'static,
    S::Future: Send + 'static,
    ReqBody: Send + 'static,
{
    type Response = S::Response;
    type Error = S::Error;
    type Future = std::pin::Pin<
        Box<dyn std::future::Future<Output = Result<Self::Response, Self::Error>> + Send>,
    >;

    fn poll_ready(
        &mut self,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: http::Request<ReqBody>) -> Self::Future {
        let method = request.uri().path().to_owned();
        let metrics = self.metrics.clone();
        let clone = self.inner.clone();
        let mut inner = std::mem::replace(&mut self.inner, clone);
        let started = std::time::Instant::now();
        Box::pin(async move {
            let response = inner.call(request).await?;
            // Errors are trailers-only responses with the status in the headers;
            // a successful unary call carries it in the trailers, so absent = OK.
            let code = response
                .headers()
                .get("grpc-status")
                .and_then(|value| value.to_str().ok())
                .and_then(|value| value.parse::<i32>().ok())
                .map_or(tonic::Code::Ok, tonic::Code::from_i32);
            metrics.rpc(&method, &format!("{code:?}"), started.elapsed());
            Ok(response)
        })
    }
}
