//! Test harness: a fake Looker on 127.0.0.1:0 in-process, and a logged-in HTTP client.
#![allow(dead_code, unreachable_pub)]

use std::time::Duration;

use kpilink_looker_fake::{FakeLooker, FakeLookerConfig};
use reqwest::StatusCode;
use serde_json::Value;

pub const SLOW: Duration = Duration::from_millis(800);

pub struct Harness {
    pub fake: FakeLooker,
    pub http: reqwest::Client,
    pub base: String,
    pub api: String,
    pub token: String,
}

pub fn config() -> FakeLookerConfig {
    FakeLookerConfig {
        slow_query: SLOW,
        ..FakeLookerConfig::default()
    }
}

pub async fn start() -> Harness {
    start_with(config()).await
}

pub async fn start_with(config: FakeLookerConfig) -> Harness {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let (id, secret) = (config.client_id.clone(), config.client_secret.clone());
    let fake = FakeLooker::start(config, listener).await.expect("start");
    let base = fake.base_url();
    let api = format!("{base}/api/4.0");
    let http = reqwest::Client::new();
    let login: Value = http
        .post(format!("{api}/login"))
        .form(&[
            ("client_id", id.as_str()),
            ("client_secret", secret.as_str()),
        ])
        .send()
        .await
        .expect("login")
        .json()
        .await
        .expect("login json");
    let token = login["access_token"].as_str().expect("token").to_string();
    Harness {
        fake,
        http,
        base,
        api,
        token,
    }
}

impl Harness {
    pub fn auth(&self, request: reqwest::RequestBuilder) -> reqwest::RequestBuilder {
        request.header("Authorization", format!("token {}", self.token))
    }

    pub async fn get_raw(&self, path: &str) -> reqwest::Response {
        self.auth(self.http.get(format!("{}{path}", self.api)))
            .send()
            .await
            .expect("request")
    }

    /// GET an API path; returns status and JSON body (Null when the body is not JSON).
    pub async fn get(&self, path: &str) -> (StatusCode, Value) {
        let response = self.get_raw(path).await;
        let status = response.status();
        let text = response.text().await.unwrap_or_default();
        (status, serde_json::from_str(&text).unwrap_or(Value::Null))
    }

    pub async fn ok(&self, path: &str) -> Value {
        let (status, body) = self.get(path).await;
        assert_eq!(status, StatusCode::OK, "GET {path}: {body}");
        body
    }

    pub async fn post(&self, path: &str, body: &Value) -> (StatusCode, Value) {
        let response = self
            .auth(self.http.post(format!("{}{path}", self.api)))
            .json(body)
            .send()
            .await
            .expect("post");
        let status = response.status();
        let text = response.text().await.unwrap_or_default();
        (status, serde_json::from_str(&text).unwrap_or(Value::Null))
    }

    pub async fn control_post(&self, path: &str, body: &Value) -> (StatusCode, Value) {
        let response = self
            .http
            .post(format!("{}/control{path}", self.base))
            .json(body)
            .send()
            .await
            .expect("control");
        let status = response.status();
        let text = response.text().await.unwrap_or_default();
        (status, serde_json::from_str(&text).unwrap_or(Value::Null))
    }

    pub async fn control_get(&self, path: &str) -> Value {
        self.http
            .get(format!("{}/control{path}", self.base))
            .send()
            .await
            .expect("control")
            .json()
            .await
            .expect("json")
    }

    /// A query result value: `run_query` in plain `json`, first row, one field.
    pub async fn first_value(&self, query_id: &str, field: &str) -> Value {
        let rows = self.ok(&format!("/queries/{query_id}/run/json")).await;
        rows[0][field].clone()
    }
}

pub fn ids(items: &Value) -> Vec<String> {
    items
        .as_array()
        .expect("array")
        .iter()
        .map(|i| i["id"].as_str().expect("string id").to_string())
        .collect()
}
