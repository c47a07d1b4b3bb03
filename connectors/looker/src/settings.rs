use kpilink_connector::{ConnectorFactory, SettingKind, SettingSpec};

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
}
