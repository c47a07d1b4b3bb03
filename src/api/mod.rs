//! Thin gRPC adapters, one per service: authorize, convert, call the domain,
//! map the error.

mod binding;
mod connection;
mod convert;
mod discovery;

pub use binding::BindingApi;
pub use connection::ConnectionApi;
pub use discovery::DiscoveryApi;

use tonic::{Request, Status};

use crate::error::{Error, Result};
use crate::security::Caller;
use crate::validate;

/// The caller the auth layer attached to the request.
fn caller<T>(request: &Request<T>) -> Result<&Caller> {
    request
        .extensions()
        .get::<Caller>()
        .ok_or_else(|| Error::internal("request reached a service without authentication"))
}

/// Checks that `org_id` is well-formed and that the caller may act for it.
fn authorize<T>(request: &Request<T>, org_id: &str) -> Result<(), Status> {
    let mut violations = Vec::new();
    validate::id("org_id", org_id, &mut violations);
    validate::finish(violations)?;
    caller(request)?.check_org(org_id)?;
    Ok(())
}
