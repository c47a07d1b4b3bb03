//! Domain errors, and the one place where they become `tonic::Status`.
//!
//! Domain code returns [`Error`]: a gRPC-neutral [`Code`], a stable [`Reason`]
//! (which carries its class) and, for bad input, field violations. The API layer
//! converts with `Status::from(error)`, which attaches `google.rpc.ErrorInfo`
//! (domain `kpilink`) and `google.rpc.BadRequest`.

use std::fmt;
use std::time::Duration;

use kpilink_connector::ConnectorError;
pub use kpilink_connector::{ErrorClass, Reason};
use tonic::{Code as GrpcCode, Status};
use tonic_types::{ErrorDetails, StatusExt};

pub const ERROR_DOMAIN: &str = "kpilink";

/// What kind of failure, independent of gRPC.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Code {
    InvalidArgument,
    NotFound,
    AlreadyExists,
    FailedPrecondition,
    PermissionDenied,
    Unauthenticated,
    Unavailable,
    DeadlineExceeded,
    ResourceExhausted,
    Unimplemented,
    Internal,
}

/// One bad field of a request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Violation {
    pub field: String,
    pub description: String,
    pub reason: Reason,
}

impl Violation {
    pub fn new(field: impl Into<String>, reason: Reason, description: impl Into<String>) -> Self {
        Violation {
            field: field.into(),
            description: description.into(),
            reason,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct Error {
    pub code: Code,
    pub reason: Reason,
    /// Short, lowercase, actionable; never a secret.
    pub message: String,
    pub violations: Vec<Violation>,
    pub retry_after: Option<Duration>,
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.reason, self.message)
    }
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    pub fn new(code: Code, reason: Reason, message: impl Into<String>) -> Self {
        Error {
            code,
            reason,
            message: message.into(),
            violations: Vec::new(),
            retry_after: None,
        }
    }

    /// `INVALID_ARGUMENT` listing every violation; the reason is the first one's.
    pub fn invalid(violations: Vec<Violation>) -> Self {
        let first = violations
            .first()
            .expect("an invalid-argument error names at least one violation");
        let message = if violations.len() == 1 {
            format!("{}: {}", first.field, first.description)
        } else {
            format!(
                "{}: {} (and {} more)",
                first.field,
                first.description,
                violations.len() - 1
            )
        };
        Error {
            code: Code::InvalidArgument,
            reason: first.reason,
            message,
            violations,
            retry_after: None,
        }
    }

    pub fn field(field: &str, reason: Reason, description: impl Into<String>) -> Self {
        Error::invalid(vec![Violation::new(field, reason, description)])
    }

    pub fn internal(message: impl Into<String>) -> Self {
        Error::new(Code::Internal, Reason::Internal, message)
    }

    pub fn class(&self) -> ErrorClass {
        self.reason.class()
    }
}

impl From<ConnectorError> for Error {
    fn from(error: ConnectorError) -> Self {
        let code = match error.reason {
            Reason::SourceAuthFailed => Code::FailedPrecondition,
            Reason::SourceUnreachable => Code::Unavailable,
            Reason::SourceTimeout => Code::DeadlineExceeded,
            Reason::SourceRateLimited => Code::ResourceExhausted,
            Reason::DashboardNotFound
            | Reason::TileNotFound
            | Reason::LookNotFound
            | Reason::FieldNotFound
            | Reason::PivotNotFound
            | Reason::RowNotFound => Code::NotFound,
            Reason::ChartUnsupported | Reason::ValueNotNumeric | Reason::ValueMissing => {
                Code::FailedPrecondition
            }
            Reason::UrlNotAllowed
            | Reason::FieldRequired
            | Reason::FieldInvalid
            | Reason::PageTokenInvalid
            | Reason::ConnectorKindUnknown => Code::InvalidArgument,
            _ => Code::Internal,
        };
        Error {
            code,
            reason: error.reason,
            message: error.message,
            violations: Vec::new(),
            retry_after: error.retry_after,
        }
    }
}

fn grpc_code(code: Code) -> GrpcCode {
    match code {
        Code::InvalidArgument => GrpcCode::InvalidArgument,
        Code::NotFound => GrpcCode::NotFound,
        Code::AlreadyExists => GrpcCode::AlreadyExists,
        Code::FailedPrecondition => GrpcCode::FailedPrecondition,
        Code::PermissionDenied => GrpcCode::PermissionDenied,
        Code::Unauthenticated => GrpcCode::Unauthenticated,
        Code::Unavailable => GrpcCode::Unavailable,
        Code::DeadlineExceeded => GrpcCode::DeadlineExceeded,
        Code::ResourceExhausted => GrpcCode::ResourceExhausted,
        Code::Unimplemented => GrpcCode::Unimplemented,
        Code::Internal => GrpcCode::Internal,
    }
}

impl From<Error> for Status {
    fn from(error: Error) -> Self {
        let mut details = ErrorDetails::with_error_info(
            error.reason.as_str(),
            ERROR_DOMAIN,
            [("class".to_owned(), error.class().as_str().to_owned())],
        );
        for violation in &error.violations {
            details.add_bad_request_violation(&violation.field, &violation.description);
        }
        if let Some(retry_after) = error.retry_after {
            details.set_retry_info(Some(retry_after));
        }
        Status::with_error_details(grpc_code(error.code), error.message, details)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn status_carries_error_info_and_field_violations() {
        let error = Error::invalid(vec![
            Violation::new("display_name", Reason::FieldRequired, "must not be empty"),
            Violation::new("settings.server_url", Reason::FieldInvalid, "not a url"),
        ]);
        let status = Status::from(error);
        assert_eq!(status.code(), GrpcCode::InvalidArgument);
        assert_eq!(
            status.message(),
            "display_name: must not be empty (and 1 more)"
        );
        let info = status.get_details_error_info().expect("error info");
        assert_eq!(info.reason, "FIELD_REQUIRED");
        assert_eq!(info.domain, "kpilink");
        assert_eq!(
            info.metadata.get("class").map(String::as_str),
            Some("CONFIG")
        );
        let bad_request = status.get_details_bad_request().expect("bad request");
        let fields: Vec<&str> = bad_request
            .field_violations
            .iter()
            .map(|v| v.field.as_str())
            .collect();
        assert_eq!(fields, ["display_name", "settings.server_url"]);
    }

    #[test]
    fn connector_errors_keep_reason_and_retry_after() {
        let error = Error::from(
            ConnectorError::new(Reason::SourceRateLimited, "looker is rate limiting")
                .with_retry_after(Duration::from_secs(7)),
        );
        let status = Status::from(error);
        assert_eq!(status.code(), GrpcCode::ResourceExhausted);
        let info = status.get_details_error_info().expect("error info");
        assert_eq!(info.reason, "SOURCE_RATE_LIMITED");
        assert_eq!(info.metadata["class"], "TRANSIENT");
        let retry = status.get_details_retry_info().expect("retry info");
        assert_eq!(retry.retry_delay, Some(Duration::from_secs(7)));
    }
}
