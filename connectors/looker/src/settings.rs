use std::sync::Arc;

use kpilink_connector::http::GuardedClient;
use kpilink_connector::{
    ConnectionConfig, Connector, ConnectorError, ConnectorFactory, Reason, SettingKind, SettingSpec,
};
use url::Url;

use crate::client::LookerClient;
use crate::connector::LookerConnector;

pub const KIND: &str = "looker";

const SETTINGS: &[SettingSpec] = &[
    SettingSpec {
        name: "server_url",
        label: "Server URL",
        required: true,
        secret: false,
        kind: SettingKind::SourceUrl,
        description: "The Looker API host, without /api/4.0 (port 443 or 19999 on most instances)",
        example: "https://acme.cloud.looker.com",
    },
    SettingSpec {
        name: "client_id",
        label: "Client ID",
        required: true,
        secret: false,
        kind: SettingKind::Text,
        description: "The client id of a Looker API key (in Looker: Admin, Users, Edit Keys)",
        example: "gT3b8xXk2mY4Qn7Zc9Wd",
    },
    SettingSpec {
        name: "client_secret",
        label: "Client secret",
        required: true,
        secret: true,
        kind: SettingKind::Text,
        description: "The client secret of that API key; write-only",
        example: "",
    },
];

/// The `looker` connector kind.
#[derive(Debug, Default, Clone, Copy)]
pub struct LookerFactory;

impl ConnectorFactory for LookerFactory {
    fn kind(&self) -> &'static str {
        KIND
    }

    fn display_name(&self) -> &'static str {
        "Looker"
    }

    fn description(&self) -> &'static str {
        "Dashboard tiles and Looks of a Looker instance, through the Looker API 4.0"
    }

    fn settings(&self) -> &'static [SettingSpec] {
        SETTINGS
    }

    fn connect(&self, config: ConnectionConfig) -> Result<Arc<dyn Connector>, ConnectorError> {
        let setting = |name: &str| {
            config.settings.get(name).cloned().ok_or_else(|| {
                ConnectorError::new(
                    Reason::FieldRequired,
                    format!("the {name} setting is missing"),
                )
            })
        };
        let server_url = Url::parse(&setting("server_url")?)
            .map_err(|_| ConnectorError::new(Reason::FieldInvalid, "server_url is not a URL"))?;
        config.policy.check_url(&server_url)?;
        let client_secret = config
            .secrets
            .get("client_secret")
            .cloned()
            .ok_or_else(|| {
                ConnectorError::new(Reason::FieldRequired, "the client_secret secret is missing")
            })?;
        let http = GuardedClient::new(config.policy, config.body_cap)
            .map_err(|e| {
                ConnectorError::new(
                    Reason::Internal,
                    format!("cannot build the http client: {e}"),
                )
            })?
            .with_observer(config.observer);
        let client = LookerClient::new(http, &server_url, setting("client_id")?, client_secret)?;
        Ok(Arc::new(LookerConnector::new(client)))
    }
}
