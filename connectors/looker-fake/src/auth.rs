//! Access tokens: login issues them, `Authorization: token X` or `Bearer X` presents them, and
//! expiry, logout and the control endpoint revoke them.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use axum::http::HeaderMap;
use axum::http::header::AUTHORIZATION;

use crate::errors::ApiError;
use crate::state::{Shared, lock};

#[derive(Default)]
pub(crate) struct Tokens {
    expiry: HashMap<String, Instant>,
    issued: u64,
}

impl Tokens {
    pub(crate) fn issue(&mut self, ttl: Duration) -> String {
        self.issued += 1;
        let token = new_token(self.issued);
        self.expiry.insert(token.clone(), Instant::now() + ttl);
        token
    }

    pub(crate) fn is_valid(&mut self, token: &str) -> bool {
        match self.expiry.get(token) {
            Some(expires) if *expires > Instant::now() => true,
            Some(_) => {
                self.expiry.remove(token);
                false
            }
            None => false,
        }
    }

    pub(crate) fn revoke(&mut self, token: &str) -> bool {
        self.expiry.remove(token).is_some()
    }

    pub(crate) fn revoke_all(&mut self) {
        self.expiry.clear();
    }
}

/// 40 characters like Looker's tokens; unguessable enough for a loopback test server.
fn new_token(counter: u64) -> String {
    use std::hash::{BuildHasher, Hasher};
    let mut out = String::new();
    while out.len() < 40 {
        let mut hasher = std::collections::hash_map::RandomState::new().build_hasher();
        hasher.write_u64(counter);
        hasher.write_u128(
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap_or_default()
                .as_nanos(),
        );
        out.push_str(&crate::query::slug(
            &format!("{:x}{counter}", hasher.finish()),
            20,
        ));
    }
    out.truncate(40);
    out
}

/// The token from `Authorization: token X` (the documented form) or `Bearer X` (the SDKs).
pub(crate) fn presented_token(headers: &HeaderMap) -> Option<String> {
    let value = headers.get(AUTHORIZATION)?.to_str().ok()?.trim();
    let (scheme, token) = value.split_once(char::is_whitespace)?;
    let scheme = scheme.to_ascii_lowercase();
    (scheme == "token" || scheme == "bearer").then(|| token.trim().to_string())
}

pub(crate) fn require(shared: &Shared, headers: &HeaderMap) -> Result<String, ApiError> {
    let token = presented_token(headers).ok_or(ApiError::Unauthorized)?;
    if lock(&shared.tokens).is_valid(&token) {
        Ok(token)
    } else {
        Err(ApiError::Unauthorized)
    }
}
