//! A connection's settings checked against its connector kind's schema.

use std::collections::BTreeMap;

use kpilink_connector::{ConnectorFactory, SettingKind, SourcePolicy};
use secrecy::{ExposeSecret, SecretString};
use url::Url;

use crate::error::{Reason, Violation};

const MAX_SETTING_CHARS: usize = 2048;
const MAX_SECRET_BYTES: usize = 4096;

/// Trims values and drops empty ones (an empty value is an absent setting).
pub(super) fn clean(settings: BTreeMap<String, String>) -> BTreeMap<String, String> {
    settings
        .into_iter()
        .map(|(name, value)| (name, value.trim().to_owned()))
        .filter(|(_, value)| !value.is_empty())
        .collect()
}

pub(super) fn clean_secrets(
    secrets: BTreeMap<String, SecretString>,
) -> BTreeMap<String, SecretString> {
    secrets
        .into_iter()
        .filter(|(_, value)| !value.expose_secret().is_empty())
        .collect()
}

/// Checks names, required settings and values; `secret_names` are the secrets
/// the connection will have (stored or new).
pub(super) fn check(
    factory: &dyn ConnectorFactory,
    policy: &SourcePolicy,
    settings: &BTreeMap<String, String>,
    secret_names: &[&str],
    violations: &mut Vec<Violation>,
) {
    for (name, value) in settings {
        let field = format!("settings.{name}");
        let Some(spec) = factory.setting(name) else {
            violations.push(unknown_setting(&field, factory));
            continue;
        };
        if spec.secret {
            violations.push(Violation::new(
                field,
                Reason::FieldInvalid,
                format!("{name} is a secret; pass it in secrets"),
            ));
            continue;
        }
        if value.chars().count() > MAX_SETTING_CHARS || value.chars().any(char::is_control) {
            violations.push(Violation::new(
                field,
                Reason::FieldInvalid,
                format!(
                    "must be at most {MAX_SETTING_CHARS} characters without control characters"
                ),
            ));
            continue;
        }
        if spec.kind == SettingKind::SourceUrl
            && let Err(violation) = check_source_url(&field, value, policy)
        {
            violations.push(violation);
        }
    }
    for name in secret_names {
        let field = format!("secrets.{name}");
        match factory.setting(name) {
            None => violations.push(unknown_setting(&field, factory)),
            Some(spec) if !spec.secret => violations.push(Violation::new(
                field,
                Reason::FieldInvalid,
                format!("{name} is not a secret; pass it in settings"),
            )),
            Some(_) => {}
        }
    }
    for spec in factory.settings().iter().filter(|spec| spec.required) {
        let present = if spec.secret {
            secret_names.contains(&spec.name)
        } else {
            settings.contains_key(spec.name)
        };
        if !present {
            let map = if spec.secret { "secrets" } else { "settings" };
            violations.push(Violation::new(
                format!("{map}.{}", spec.name),
                Reason::FieldRequired,
                format!(
                    "{} is required for a {} connection",
                    spec.name,
                    factory.kind()
                ),
            ));
        }
    }
}

pub(super) fn check_secret_values(
    secrets: &BTreeMap<String, SecretString>,
    violations: &mut Vec<Violation>,
) {
    for (name, value) in secrets {
        if value.expose_secret().len() > MAX_SECRET_BYTES {
            violations.push(Violation::new(
                format!("secrets.{name}"),
                Reason::FieldInvalid,
                format!("must be at most {MAX_SECRET_BYTES} bytes"),
            ));
        }
    }
}

fn unknown_setting(field: &str, factory: &dyn ConnectorFactory) -> Violation {
    let known: Vec<&str> = factory.settings().iter().map(|spec| spec.name).collect();
    Violation::new(
        field,
        Reason::FieldInvalid,
        format!(
            "unknown setting for a {} connection; known: {}",
            factory.kind(),
            known.join(", ")
        ),
    )
}

/// An absolute URL the source policy allows, of a host only: without
/// credentials, path, query or fragment.
fn check_source_url(field: &str, value: &str, policy: &SourcePolicy) -> Result<(), Violation> {
    let invalid = |description: &str| Violation::new(field, Reason::FieldInvalid, description);
    let url = Url::parse(value)
        .map_err(|_| invalid("must be an absolute URL such as https://acme.cloud.looker.com"))?;
    // Scheme, and the address when the host is an IP literal (SSRF guard).
    policy
        .check_url(&url)
        .map_err(|error| Violation::new(field, error.reason, error.message))?;
    if !url.username().is_empty() || url.password().is_some() {
        return Err(invalid(
            "must not contain credentials; use client_id and secrets",
        ));
    }
    if url.path() != "/" || url.query().is_some() || url.fragment().is_some() {
        return Err(invalid(
            "must be the host only, without a path such as /api/4.0 (e.g. https://acme.cloud.looker.com:19999)",
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn url_reason(value: &str, allow_http: bool) -> Option<Reason> {
        let policy = SourcePolicy {
            allow_http,
            allowed_cidrs: vec![],
        };
        check_source_url("settings.server_url", value, &policy)
            .err()
            .map(|v| v.reason)
    }

    #[test]
    fn source_urls() {
        assert_eq!(url_reason("https://acme.cloud.looker.com", false), None);
        assert_eq!(url_reason("https://acme.looker.com:19999/", false), None);
        assert_eq!(url_reason("http://acme.looker.com", true), None);
        assert_eq!(
            url_reason("http://acme.looker.com", false),
            Some(Reason::UrlNotAllowed)
        );
        assert_eq!(
            url_reason("ftp://acme.looker.com", true),
            Some(Reason::UrlNotAllowed)
        );
        assert_eq!(
            url_reason("acme.looker.com", false),
            Some(Reason::FieldInvalid)
        );
        assert_eq!(
            url_reason("https://u:p@acme.looker.com", false),
            Some(Reason::FieldInvalid)
        );
        assert_eq!(
            url_reason("https://acme.looker.com/api/4.0", false),
            Some(Reason::FieldInvalid)
        );
        assert_eq!(
            url_reason("https://acme.looker.com/?x=1", false),
            Some(Reason::FieldInvalid)
        );
        assert_eq!(
            url_reason("https://169.254.169.254", false),
            Some(Reason::UrlNotAllowed)
        );
    }
}
