use std::collections::BTreeMap;
use std::sync::Arc;

use tonic::{Request, Response, Status};

use super::{authorize, convert};
use crate::bindings::Bindings;
use crate::connections::{ConnectionPatch, Connections, MapPatch, NewConnection};
use crate::error::{Error, Reason, Result};
use crate::proto::connection_service_server::ConnectionService;
use crate::proto::*;

pub struct ConnectionApi {
    connections: Arc<Connections>,
    /// Updates and deletes go through bindings, which re-arm or disable theirs.
    bindings: Arc<Bindings>,
}

impl ConnectionApi {
    pub fn new(connections: Arc<Connections>, bindings: Arc<Bindings>) -> Self {
        ConnectionApi {
            connections,
            bindings,
        }
    }
}

#[tonic::async_trait]
impl ConnectionService for ConnectionApi {
    async fn list_connector_kinds(
        &self,
        _request: Request<ListConnectorKindsRequest>,
    ) -> Result<Response<ListConnectorKindsResponse>, Status> {
        let kinds = self
            .connections
            .registry()
            .kinds()
            .map(|factory| convert::connector_kind(factory.as_ref()))
            .collect();
        Ok(Response::new(ListConnectorKindsResponse { kinds }))
    }

    async fn create_connection(
        &self,
        request: Request<CreateConnectionRequest>,
    ) -> Result<Response<CreateConnectionResponse>, Status> {
        let org_id = request.get_ref().org_id.clone();
        authorize(&request, &org_id)?;
        let request = request.into_inner();
        let input = NewConnection {
            display_name: request.display_name,
            kind: request.kind,
            settings: convert::settings(request.settings),
            secrets: convert::secrets(request.secrets),
            query_timeout: convert::optional_duration(
                "query_timeout",
                request.query_timeout.as_ref(),
            )?,
        };
        let record = self.connections.create(&org_id, input).await?;
        Ok(Response::new(CreateConnectionResponse {
            connection: Some(convert::connection(record)),
        }))
    }

    async fn get_connection(
        &self,
        request: Request<GetConnectionRequest>,
    ) -> Result<Response<GetConnectionResponse>, Status> {
        authorize(&request, &request.get_ref().org_id)?;
        let request = request.into_inner();
        let record = self
            .connections
            .get(&request.org_id, &request.connection_id)
            .await?;
        Ok(Response::new(GetConnectionResponse {
            connection: Some(convert::connection(record)),
        }))
    }

    async fn list_connections(
        &self,
        request: Request<ListConnectionsRequest>,
    ) -> Result<Response<ListConnectionsResponse>, Status> {
        authorize(&request, &request.get_ref().org_id)?;
        let request = request.into_inner();
        let (records, next_page_token) = self
            .connections
            .list(&request.org_id, request.page_size, &request.page_token)
            .await?;
        Ok(Response::new(ListConnectionsResponse {
            connections: records.into_iter().map(convert::connection).collect(),
            next_page_token,
        }))
    }

    async fn update_connection(
        &self,
        request: Request<UpdateConnectionRequest>,
    ) -> Result<Response<UpdateConnectionResponse>, Status> {
        authorize(&request, &request.get_ref().org_id)?;
        let request = request.into_inner();
        let (org_id, connection_id) = (request.org_id.clone(), request.connection_id.clone());
        let patch = connection_patch(request)?;
        let record = self
            .bindings
            .update_connection(&org_id, &connection_id, patch)
            .await?;
        Ok(Response::new(UpdateConnectionResponse {
            connection: Some(convert::connection(record)),
        }))
    }

    async fn delete_connection(
        &self,
        request: Request<DeleteConnectionRequest>,
    ) -> Result<Response<DeleteConnectionResponse>, Status> {
        authorize(&request, &request.get_ref().org_id)?;
        let request = request.into_inner();
        let disabled = self
            .bindings
            .delete_connection(&request.org_id, &request.connection_id, request.force)
            .await?;
        Ok(Response::new(DeleteConnectionResponse {
            disabled_bindings: i32::try_from(disabled).unwrap_or(i32::MAX),
        }))
    }

    async fn test_connection(
        &self,
        request: Request<TestConnectionRequest>,
    ) -> Result<Response<TestConnectionResponse>, Status> {
        authorize(&request, &request.get_ref().org_id)?;
        let request = request.into_inner();
        let test = self
            .connections
            .test(&request.org_id, &request.connection_id)
            .await?;
        Ok(Response::new(TestConnectionResponse {
            result: Some(convert::test_result(test)),
        }))
    }
}

/// Turns the request and its field mask into a patch (see the proto for the paths).
fn connection_patch(request: UpdateConnectionRequest) -> Result<ConnectionPatch> {
    let query_timeout =
        convert::optional_duration("query_timeout", request.query_timeout.as_ref())?;
    let mut settings = convert::settings(request.settings);
    let mut secrets = convert::secrets(request.secrets);
    let paths = request
        .update_mask
        .map(|mask| mask.paths)
        .unwrap_or_default();

    if paths.is_empty() {
        // No mask: every field set in the request, maps merged key by key.
        return Ok(ConnectionPatch {
            display_name: Some(request.display_name).filter(|name| !name.is_empty()),
            settings: merge_all(settings),
            secrets: merge_all(secrets),
            query_timeout: query_timeout.map(Some),
        });
    }

    let mut patch = ConnectionPatch {
        display_name: None,
        settings: MapPatch::Keep,
        secrets: MapPatch::Keep,
        query_timeout: None,
    };
    for path in &paths {
        match path.split_once('.') {
            None if path == "display_name" => {
                patch.display_name = Some(request.display_name.clone());
            }
            None if path == "query_timeout" => patch.query_timeout = Some(query_timeout),
            None if path == "settings" => {
                patch.settings = MapPatch::Replace(std::mem::take(&mut settings));
            }
            None if path == "secrets" => {
                patch.secrets = MapPatch::Replace(std::mem::take(&mut secrets));
            }
            Some(("settings", name)) if !name.is_empty() => {
                merge_one(&mut patch.settings, name, settings.remove(name));
            }
            Some(("secrets", name)) if !name.is_empty() => {
                merge_one(&mut patch.secrets, name, secrets.remove(name));
            }
            _ => {
                return Err(Error::field(
                    "update_mask",
                    Reason::FieldInvalid,
                    format!(
                        "unknown path {path:?}; use display_name, settings, settings.<name>, \
                         secrets, secrets.<name> or query_timeout"
                    ),
                ));
            }
        }
    }
    Ok(patch)
}

fn merge_all<V>(map: BTreeMap<String, V>) -> MapPatch<V> {
    if map.is_empty() {
        return MapPatch::Keep;
    }
    MapPatch::Merge(map.into_iter().map(|(k, v)| (k, Some(v))).collect())
}

fn merge_one<V>(patch: &mut MapPatch<V>, name: &str, value: Option<V>) {
    match patch {
        MapPatch::Merge(changes) => {
            changes.insert(name.to_owned(), value);
        }
        // A whole-map replacement already covers this key.
        MapPatch::Replace(_) => {}
        MapPatch::Keep => {
            *patch = MapPatch::Merge(BTreeMap::from([(name.to_owned(), value)]));
        }
    }
}
