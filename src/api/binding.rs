use std::pin::Pin;

use tokio_stream::Stream;
use tonic::{Request, Response, Status};

use super::{authorize, unimplemented};
use crate::error::Error;
use crate::proto::binding_service_server::BindingService;
use crate::proto::*;

/// Bindings arrive with the sync engine; until then every RPC answers
/// `UNIMPLEMENTED` (after authorizing the org, so errors stay consistent).
#[derive(Default)]
pub struct BindingApi;

type UpdateStream = Pin<Box<dyn Stream<Item = Result<WatchUpdatesResponse, Status>> + Send>>;

#[tonic::async_trait]
impl BindingService for BindingApi {
    type WatchUpdatesStream = UpdateStream;

    async fn create_binding(
        &self,
        request: Request<CreateBindingRequest>,
    ) -> Result<Response<CreateBindingResponse>, Status> {
        unimplemented(&request, &request.get_ref().org_id, "CreateBinding")
    }

    async fn get_binding(
        &self,
        request: Request<GetBindingRequest>,
    ) -> Result<Response<GetBindingResponse>, Status> {
        unimplemented(&request, &request.get_ref().org_id, "GetBinding")
    }

    async fn list_bindings(
        &self,
        request: Request<ListBindingsRequest>,
    ) -> Result<Response<ListBindingsResponse>, Status> {
        unimplemented(&request, &request.get_ref().org_id, "ListBindings")
    }

    async fn update_binding(
        &self,
        request: Request<UpdateBindingRequest>,
    ) -> Result<Response<UpdateBindingResponse>, Status> {
        unimplemented(&request, &request.get_ref().org_id, "UpdateBinding")
    }

    async fn delete_binding(
        &self,
        request: Request<DeleteBindingRequest>,
    ) -> Result<Response<DeleteBindingResponse>, Status> {
        unimplemented(&request, &request.get_ref().org_id, "DeleteBinding")
    }

    async fn sync_binding(
        &self,
        request: Request<SyncBindingRequest>,
    ) -> Result<Response<SyncBindingResponse>, Status> {
        unimplemented(&request, &request.get_ref().org_id, "SyncBinding")
    }

    async fn list_binding_history(
        &self,
        request: Request<ListBindingHistoryRequest>,
    ) -> Result<Response<ListBindingHistoryResponse>, Status> {
        unimplemented(&request, &request.get_ref().org_id, "ListBindingHistory")
    }

    async fn watch_updates(
        &self,
        request: Request<WatchUpdatesRequest>,
    ) -> Result<Response<Self::WatchUpdatesStream>, Status> {
        // An empty org means "every org the token may see", so only a named org is checked.
        let org_id = request.get_ref().org_id.clone();
        if !org_id.is_empty() {
            authorize(&request, &org_id)?;
        }
        Err(Error::unimplemented("WatchUpdates").into())
    }
}
