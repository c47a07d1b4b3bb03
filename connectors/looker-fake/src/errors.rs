//! Looker-style error responses. Bodies use the older `documentation_url` value on purpose: the
//! Python SDK fetches error docs over the network for the newer `/r/err/` URLs (Looker's API docs).

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use serde_json::{Value, json};

pub(crate) const DOC_URL: &str = "http://docs.looker.com/";

#[derive(Clone, Debug, PartialEq)]
pub(crate) struct FieldError {
    pub(crate) field: String,
    pub(crate) code: String,
    pub(crate) message: String,
}

impl FieldError {
    pub(crate) fn new(field: &str, code: &str, message: &str) -> Self {
        FieldError {
            field: field.into(),
            code: code.into(),
            message: message.into(),
        }
    }
}

#[derive(Debug)]
pub(crate) enum ApiError {
    /// Unknown ids, bad credentials, and content the user may not see.
    NotFound,
    /// Missing, expired or logged-out token.
    Unauthorized,
    BadRequest(String),
    Validation(Vec<FieldError>),
    RateLimited {
        retry_after_secs: u64,
    },
    Status(StatusCode, String),
}

pub(crate) fn json_response(status: StatusCode, body: &Value) -> Response {
    json_bytes_response(status, json_bytes(body))
}

/// The same bytes as `Value::to_string`, about twice as fast (no `fmt` machinery).
pub(crate) fn json_bytes(body: &Value) -> Bytes {
    Bytes::from(serde_json::to_vec(body).expect("a Value always serializes"))
}

/// A response of already serialized JSON.
pub(crate) fn json_bytes_response(status: StatusCode, body: Bytes) -> Response {
    let mut response = (status, body).into_response();
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    response
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let error = |status: StatusCode, message: &str| {
            json_response(
                status,
                &json!({"message": message, "documentation_url": DOC_URL}),
            )
        };
        match self {
            ApiError::NotFound => error(StatusCode::NOT_FOUND, "Not found"),
            ApiError::Unauthorized => error(StatusCode::UNAUTHORIZED, "Requires authentication."),
            ApiError::BadRequest(message) => error(StatusCode::BAD_REQUEST, &message),
            ApiError::Status(status, message) => error(status, &message),
            ApiError::RateLimited { retry_after_secs } => {
                let mut response = error(StatusCode::TOO_MANY_REQUESTS, "Too Many Requests");
                response
                    .headers_mut()
                    .insert(header::RETRY_AFTER, HeaderValue::from(retry_after_secs));
                response
            }
            ApiError::Validation(errors) => {
                let errors: Vec<Value> = errors
                    .iter()
                    .map(|e| {
                        json!({"field": e.field, "code": e.code, "message": e.message,
                               "documentation_url": DOC_URL})
                    })
                    .collect();
                json_response(
                    StatusCode::UNPROCESSABLE_ENTITY,
                    &json!({"message": "Validation Failed", "errors": errors, "documentation_url": DOC_URL}),
                )
            }
        }
    }
}
