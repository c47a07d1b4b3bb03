//! Bearer-token authentication as a tower layer.
//!
//! Tokens are configured as SHA-256 hashes, each allowed for a set of orgs or
//! all. The layer checks the `authorization` header in constant time and puts
//! the [`Caller`] into the request's extensions; handlers then check the org of
//! each request. Only health checks and server reflection (which serves the
//! public schema, no data) are answered without a token.

use std::collections::BTreeSet;
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;
use tonic::Status;

use crate::error::{Code, Error, Reason};

/// Services answered without a token: they expose no org's data.
const OPEN_SERVICES: &[&str] = &[
    "/grpc.health.v1.Health/",
    "/grpc.reflection.v1.ServerReflection/",
    "/grpc.reflection.v1alpha.ServerReflection/",
];

fn is_open(path: &str) -> bool {
    OPEN_SERVICES.iter().any(|prefix| path.starts_with(prefix))
}

/// The orgs a token may act for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OrgScope {
    All,
    Orgs(BTreeSet<String>),
}

impl OrgScope {
    pub fn allows(&self, org_id: &str) -> bool {
        match self {
            OrgScope::All => true,
            OrgScope::Orgs(orgs) => orgs.contains(org_id),
        }
    }
}

/// One accepted token: the SHA-256 of the token and its scope.
#[derive(Clone, PartialEq, Eq)]
pub struct TokenGrant {
    pub sha256: [u8; 32],
    pub scope: OrgScope,
}

impl fmt::Debug for TokenGrant {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // A hash prefix is enough to tell grants apart in logs.
        f.debug_struct("TokenGrant")
            .field("sha256", &format!("{}…", hex::encode(&self.sha256[..4])))
            .field("scope", &self.scope)
            .finish()
    }
}

impl TokenGrant {
    /// Parses `HEX:*` or `HEX:org1,org2` (the `--token-hash` form).
    pub fn parse(text: &str) -> anyhow::Result<Self> {
        let (hash, orgs) = text
            .split_once(':')
            .ok_or_else(|| anyhow::anyhow!("a token hash is SHA256HEX:* or SHA256HEX:org1,org2"))?;
        let orgs: Vec<String> = orgs
            .split(',')
            .map(str::trim)
            .filter(|org| !org.is_empty())
            .map(str::to_owned)
            .collect();
        Self::new(hash, &orgs)
    }

    pub fn new(sha256_hex: &str, orgs: &[String]) -> anyhow::Result<Self> {
        let mut sha256 = [0u8; 32];
        hex::decode_to_slice(sha256_hex.trim(), &mut sha256)
            .map_err(|_| anyhow::anyhow!("a token hash is 64 hex characters (SHA-256)"))?;
        if orgs.is_empty() {
            anyhow::bail!("a token needs a scope: \"*\" or a list of org ids");
        }
        let scope = if orgs.iter().any(|org| org == "*") {
            OrgScope::All
        } else {
            OrgScope::Orgs(orgs.iter().cloned().collect())
        };
        Ok(TokenGrant { sha256, scope })
    }
}

pub fn hash_token(token: &str) -> [u8; 32] {
    Sha256::digest(token.as_bytes()).into()
}

/// Who is calling: what the matching token allows.
#[derive(Debug, Clone)]
pub struct Caller {
    scope: OrgScope,
}

impl Caller {
    pub fn new(scope: OrgScope) -> Self {
        Caller { scope }
    }

    /// `PERMISSION_DENIED` unless the token may act for `org_id`.
    pub fn check_org(&self, org_id: &str) -> Result<(), Error> {
        if self.scope.allows(org_id) {
            return Ok(());
        }
        Err(Error::new(
            Code::PermissionDenied,
            Reason::OrgNotPermitted,
            format!("this token may not act for org {org_id:?}"),
        ))
    }

    pub fn scope(&self) -> &OrgScope {
        &self.scope
    }
}

pub struct Authenticator {
    grants: Vec<TokenGrant>,
}

impl Authenticator {
    pub fn new(grants: Vec<TokenGrant>) -> Self {
        Authenticator { grants }
    }

    /// Checks an `authorization` header value against every grant; the
    /// comparison takes the same time whichever grant matches, if any.
    pub fn authenticate(&self, header: Option<&[u8]>) -> Result<Caller, Error> {
        let Some(header) = header else {
            return Err(unauthenticated(
                Reason::TokenMissing,
                "missing authorization header; send \"authorization: Bearer <token>\"",
            ));
        };
        let token = std::str::from_utf8(header)
            .ok()
            .and_then(|value| {
                let (scheme, token) = value.trim().split_once(' ')?;
                scheme.eq_ignore_ascii_case("bearer").then(|| token.trim())
            })
            .filter(|token| !token.is_empty())
            .ok_or_else(|| {
                unauthenticated(
                    Reason::TokenInvalid,
                    "the authorization header must be \"Bearer <token>\"",
                )
            })?;
        let presented = hash_token(token);
        let mut matched: Option<&TokenGrant> = None;
        for grant in &self.grants {
            if bool::from(grant.sha256.ct_eq(&presented)) {
                matched = Some(grant);
            }
        }
        matched
            .map(|grant| Caller::new(grant.scope.clone()))
            .ok_or_else(|| unauthenticated(Reason::TokenInvalid, "the token is not valid"))
    }
}

fn unauthenticated(reason: Reason, message: &str) -> Error {
    Error::new(Code::Unauthenticated, reason, message)
}

/// Tower layer that authenticates every request but those to [`OPEN_SERVICES`].
#[derive(Clone)]
pub struct AuthLayer {
    authenticator: Arc<Authenticator>,
}

impl AuthLayer {
    pub fn new(authenticator: Arc<Authenticator>) -> Self {
        AuthLayer { authenticator }
    }
}

impl<S> tower::Layer<S> for AuthLayer {
    type Service = AuthService<S>;

    fn layer(&self, inner: S) -> Self::Service {
        AuthService {
            inner,
            authenticator: self.authenticator.clone(),
        }
    }
}

#[derive(Clone)]
pub struct AuthService<S> {
    inner: S,
    authenticator: Arc<Authenticator>,
}

type BoxFuture<T, E> = Pin<Box<dyn Future<Output = Result<T, E>> + Send>>;

impl<S, ReqBody, ResBody> tower::Service<http::Request<ReqBody>> for AuthService<S>
where
    S: tower::Service<http::Request<ReqBody>, Response = http::Response<ResBody>>
        + Clone
        + Send
        + 'static,
    S::Future: Send + 'static,
    ReqBody: Send + 'static,
    ResBody: Default + Send + 'static,
{
    type Response = S::Response;
    type Error = S::Error;
    type Future = BoxFuture<Self::Response, Self::Error>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, mut request: http::Request<ReqBody>) -> Self::Future {
        if !is_open(request.uri().path()) {
            let header = request
                .headers()
                .get(http::header::AUTHORIZATION)
                .map(|value| value.as_bytes());
            match self.authenticator.authenticate(header) {
                Ok(caller) => {
                    request.extensions_mut().insert(caller);
                }
                Err(error) => {
                    tracing::info!(
                        method = request.uri().path(),
                        reason = error.reason.as_str(),
                        "request refused"
                    );
                    let response = Status::from(error).into_http::<ResBody>();
                    return Box::pin(async move { Ok(response) });
                }
            }
        }
        // The clone that was made ready is the one called (tower's readiness contract).
        let clone = self.inner.clone();
        let mut inner = std::mem::replace(&mut self.inner, clone);
        Box::pin(inner.call(request))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn grant(token: &str, orgs: &[&str]) -> TokenGrant {
        let orgs: Vec<String> = orgs.iter().map(|org| org.to_string()).collect();
        TokenGrant::new(&hex::encode(hash_token(token)), &orgs).unwrap()
    }

    #[test]
    fn tokens_authenticate_with_their_scope() {
        let auth = Authenticator::new(vec![grant("admin", &["*"]), grant("acme", &["acme"])]);
        let admin = auth.authenticate(Some(b"Bearer admin")).unwrap();
        assert!(admin.check_org("anything").is_ok());
        let acme = auth.authenticate(Some(b"bearer  acme ")).unwrap();
        assert!(acme.check_org("acme").is_ok());
        let denied = acme.check_org("globex").unwrap_err();
        assert_eq!(denied.code, Code::PermissionDenied);
        assert_eq!(denied.reason, Reason::OrgNotPermitted);
    }

    #[test]
    fn missing_malformed_and_wrong_tokens_are_unauthenticated() {
        let auth = Authenticator::new(vec![grant("admin", &["*"])]);
        for (header, reason) in [
            (None, Reason::TokenMissing),
            (Some(&b"admin"[..]), Reason::TokenInvalid),
            (Some(&b"Basic admin"[..]), Reason::TokenInvalid),
            (Some(&b"Bearer "[..]), Reason::TokenInvalid),
            (Some(&b"Bearer nope"[..]), Reason::TokenInvalid),
        ] {
            let error = auth.authenticate(header).unwrap_err();
            assert_eq!(error.code, Code::Unauthenticated);
            assert_eq!(error.reason, reason);
        }
    }

    #[test]
    fn grants_parse_from_flags() {
        let hash = "ab".repeat(32);
        assert_eq!(
            TokenGrant::parse(&format!("{hash}:*")).unwrap().scope,
            OrgScope::All
        );
        let scoped = TokenGrant::parse(&format!("{hash}:a, b")).unwrap();
        assert!(scoped.scope.allows("b") && !scoped.scope.allows("c"));
        assert!(TokenGrant::parse(&hash).is_err());
        assert!(TokenGrant::parse(&format!("{hash}:")).is_err());
        assert!(TokenGrant::parse("xyz:*").is_err());
    }
}
