//! The generated gRPC types of `kpilink.v1`, and the descriptor sets served by
//! reflection.

use std::collections::HashMap;
use std::fmt;

tonic::include_proto!("kpilink.v1");

/// Descriptor set of `kpilink.v1`, for server reflection.
pub const FILE_DESCRIPTOR_SET: &[u8] = tonic::include_file_descriptor_set!("kpilink_descriptor");

/// Lists secret names, never their values.
struct Redacted<'a>(&'a HashMap<String, String>);

impl fmt::Debug for Redacted<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut names: Vec<&str> = self.0.keys().map(String::as_str).collect();
        names.sort_unstable();
        f.debug_map()
            .entries(names.into_iter().map(|name| (name, "[redacted]")))
            .finish()
    }
}

impl fmt::Debug for Connection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Connection")
            .field("id", &self.id)
            .field("org_id", &self.org_id)
            .field("display_name", &self.display_name)
            .field("kind", &self.kind)
            .field("settings", &self.settings)
            .field("secrets", &Redacted(&self.secrets))
            .field("secrets_set", &self.secrets_set)
            .field("query_timeout", &self.query_timeout)
            .field("create_time", &self.create_time)
            .field("update_time", &self.update_time)
            .field("last_test", &self.last_test)
            .finish()
    }
}

impl fmt::Debug for CreateConnectionRequest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CreateConnectionRequest")
            .field("org_id", &self.org_id)
            .field("display_name", &self.display_name)
            .field("kind", &self.kind)
            .field("settings", &self.settings)
            .field("secrets", &Redacted(&self.secrets))
            .field("query_timeout", &self.query_timeout)
            .finish()
    }
}

impl fmt::Debug for UpdateConnectionRequest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("UpdateConnectionRequest")
            .field("org_id", &self.org_id)
            .field("connection_id", &self.connection_id)
            .field("display_name", &self.display_name)
            .field("settings", &self.settings)
            .field("secrets", &Redacted(&self.secrets))
            .field("query_timeout", &self.query_timeout)
            .field("update_mask", &self.update_mask)
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_output_never_shows_secret_values() {
        let secrets = HashMap::from([("client_secret".to_owned(), "hunter2-value".to_owned())]);
        let create = CreateConnectionRequest {
            secrets: secrets.clone(),
            ..Default::default()
        };
        let update = UpdateConnectionRequest {
            secrets: secrets.clone(),
            ..Default::default()
        };
        let connection = Connection {
            secrets,
            ..Default::default()
        };
        for printed in [
            format!("{create:?}"),
            format!("{update:?}"),
            format!("{connection:?}"),
        ] {
            assert!(!printed.contains("hunter2-value"), "{printed}");
            assert!(printed.contains("client_secret"), "{printed}");
        }
    }
}
