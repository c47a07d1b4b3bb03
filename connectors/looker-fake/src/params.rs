//! Query-string parameters with Looker's validation: booleans are only `true`/`false`,
//! integers must parse, and malformed input is a 400, never a panic.

use serde_json::Value;

use crate::errors::ApiError;
use crate::executor::CacheMode;

pub(crate) struct Params(Vec<(String, String)>);

impl Params {
    pub(crate) fn parse(raw: Option<&str>) -> Result<Params, ApiError> {
        serde_urlencoded::from_str::<Vec<(String, String)>>(raw.unwrap_or(""))
            .map(Params)
            .map_err(|e| ApiError::BadRequest(format!("Malformed query string: {e}")))
    }

    pub(crate) fn get(&self, key: &str) -> Option<&str> {
        self.0
            .iter()
            .rev()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }

    pub(crate) fn bool(&self, key: &str) -> Result<Option<bool>, ApiError> {
        match self.get(key) {
            None | Some("") => Ok(None),
            Some("true") => Ok(Some(true)),
            Some("false") => Ok(Some(false)),
            Some(other) => Err(ApiError::BadRequest(format!(
                "{key} must be true or false, got {other:?}"
            ))),
        }
    }

    pub(crate) fn int(&self, key: &str) -> Result<Option<i64>, ApiError> {
        match self.get(key) {
            None | Some("") => Ok(None),
            Some(v) => {
                v.trim().parse().map(Some).map_err(|_| {
                    ApiError::BadRequest(format!("{key} must be an integer, got {v:?}"))
                })
            }
        }
    }

    /// `cache_only` wins over `cache`; without either the query runs against the data.
    pub(crate) fn cache_mode(&self) -> Result<CacheMode, ApiError> {
        Ok(if self.bool("cache_only")? == Some(true) {
            CacheMode::Only
        } else if self.bool("cache")? == Some(true) {
            CacheMode::Prefer
        } else {
            CacheMode::Fresh
        })
    }

    pub(crate) fn fields(&self) -> Option<Vec<String>> {
        self.get("fields")
            .filter(|f| !f.trim().is_empty())
            .map(|f| {
                f.split(',')
                    .map(|s| s.trim().to_string())
                    .filter(|s| !s.is_empty())
                    .collect()
            })
    }
}

/// The `fields` parameter: keep only the listed top-level attributes.
pub(crate) fn project(value: Value, fields: Option<&[String]>) -> Value {
    let Some(fields) = fields else { return value };
    match value {
        Value::Array(items) => Value::Array(
            items
                .into_iter()
                .map(|v| project(v, Some(fields)))
                .collect(),
        ),
        Value::Object(map) => Value::Object(
            map.into_iter()
                .filter(|(k, _)| fields.contains(k))
                .collect(),
        ),
        other => other,
    }
}
