/// How the daemon validates a setting's value before storing it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SettingKind {
    Text,
    /// An absolute URL of the source; checked against the daemon's source policy
    /// (https only unless http is allowed; SSRF rules).
    SourceUrl,
}

/// One setting of a connector kind, as `ListConnectorKinds` shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SettingSpec {
    pub name: &'static str,
    pub label: &'static str,
    pub required: bool,
    /// Secret settings are sealed at rest and never returned.
    pub secret: bool,
    pub kind: SettingKind,
    pub description: &'static str,
    pub example: &'static str,
}
