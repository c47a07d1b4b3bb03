use std::fmt;
use std::time::Duration;

/// Who must act on an error (SPEC §5).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ErrorClass {
    /// The user must change something (settings, credentials, the request).
    Config,
    /// Retried automatically (the source is down, slow or rate limiting).
    Transient,
    /// The chart changed: a tile, field, pivot or row is gone.
    Source,
}

impl ErrorClass {
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorClass::Config => "CONFIG",
            ErrorClass::Transient => "TRANSIENT",
            ErrorClass::Source => "SOURCE",
        }
    }
}

macro_rules! reasons {
    ($($variant:ident => $text:literal, $class:ident;)*) => {
        /// The stable reasons of the kpilink API (`google.rpc.ErrorInfo.reason`).
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum Reason {
            $($variant,)*
        }

        impl Reason {
            pub const ALL: &'static [Reason] = &[$(Reason::$variant,)*];

            pub fn as_str(self) -> &'static str {
                match self {
                    $(Reason::$variant => $text,)*
                }
            }

            pub fn class(self) -> ErrorClass {
                match self {
                    $(Reason::$variant => ErrorClass::$class,)*
                }
            }
        }
    };
}

reasons! {
    // Requests the caller must fix.
    FieldRequired => "FIELD_REQUIRED", Config;
    FieldInvalid => "FIELD_INVALID", Config;
    PageTokenInvalid => "PAGE_TOKEN_INVALID", Config;
    ConnectorKindUnknown => "CONNECTOR_KIND_UNKNOWN", Config;
    UrlNotAllowed => "URL_NOT_ALLOWED", Config;
    // Caller identity.
    TokenMissing => "TOKEN_MISSING", Config;
    TokenInvalid => "TOKEN_INVALID", Config;
    OrgNotPermitted => "ORG_NOT_PERMITTED", Config;
    // Resources.
    ConnectionNotFound => "CONNECTION_NOT_FOUND", Config;
    ConnectionNameTaken => "CONNECTION_NAME_TAKEN", Config;
    ConnectionInUse => "CONNECTION_IN_USE", Config;
    BindingNotFound => "BINDING_NOT_FOUND", Config;
    BindingExists => "BINDING_EXISTS", Config;
    BindingDisabled => "BINDING_DISABLED", Config;
    // The source.
    SourceAuthFailed => "SOURCE_AUTH_FAILED", Config;
    SourceUnreachable => "SOURCE_UNREACHABLE", Transient;
    SourceTimeout => "SOURCE_TIMEOUT", Transient;
    SourceRateLimited => "SOURCE_RATE_LIMITED", Transient;
    // The source answered, but not with what its API promises (malformed or oversized).
    SourceResponseInvalid => "SOURCE_RESPONSE_INVALID", Transient;
    // The source refused a request about the chart (e.g. its query is no longer valid).
    SourceRejected => "SOURCE_REJECTED", Source;
    // The chart.
    DashboardNotFound => "DASHBOARD_NOT_FOUND", Source;
    TileNotFound => "TILE_NOT_FOUND", Source;
    LookNotFound => "LOOK_NOT_FOUND", Source;
    ChartUnsupported => "CHART_UNSUPPORTED", Source;
    FieldNotFound => "FIELD_NOT_FOUND", Source;
    PivotNotFound => "PIVOT_NOT_FOUND", Source;
    RowNotFound => "ROW_NOT_FOUND", Source;
    ValueNotNumeric => "VALUE_NOT_NUMERIC", Source;
    ValueMissing => "VALUE_MISSING", Source;
    // The daemon itself.
    Internal => "INTERNAL", Transient;
}

impl fmt::Display for Reason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A typed failure of a connector call: a stable reason (which implies the
/// class) and a short, lowercase, secret-free message.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{reason}: {message}")]
pub struct ConnectorError {
    pub reason: Reason,
    pub message: String,
    /// How long the source asked us to wait (HTTP 429 `Retry-After`).
    pub retry_after: Option<Duration>,
}

impl ConnectorError {
    pub fn new(reason: Reason, message: impl Into<String>) -> Self {
        ConnectorError {
            reason,
            message: message.into(),
            retry_after: None,
        }
    }

    pub fn with_retry_after(mut self, retry_after: Duration) -> Self {
        self.retry_after = Some(retry_after);
        self
    }

    pub fn class(&self) -> ErrorClass {
        self.reason.class()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn reason_strings_are_unique_and_upper_snake_case() {
        let mut seen = HashSet::new();
        for reason in Reason::ALL {
            let text = reason.as_str();
            assert!(seen.insert(text), "duplicate reason {text}");
            assert!(
                text.chars().all(|c| c.is_ascii_uppercase() || c == '_'),
                "{text}"
            );
        }
    }

    #[test]
    fn spec_reasons_have_the_spec_classes() {
        assert_eq!(Reason::SourceAuthFailed.class(), ErrorClass::Config);
        assert_eq!(Reason::SourceRateLimited.class(), ErrorClass::Transient);
        assert_eq!(Reason::PivotNotFound.class(), ErrorClass::Source);
        assert_eq!(ErrorClass::Source.as_str(), "SOURCE");
    }
}
