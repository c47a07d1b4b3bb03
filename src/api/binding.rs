use std::pin::Pin;
use std::sync::Arc;

use tokio_stream::Stream;
use tokio_stream::StreamExt;
use tokio_stream::wrappers::ReceiverStream;
use tonic::{Request, Response, Status};

use super::{authorize, caller, convert};
use crate::bindings::{BindingPatch, Bindings, NewBinding};
use crate::error::{Error, Reason, Result};
use crate::proto::binding_service_server::BindingService;
use crate::proto::*;
use crate::store::BindingFilter;
use crate::sync::Audience;

pub struct BindingApi {
    bindings: Arc<Bindings>,
}

impl BindingApi {
    pub fn new(bindings: Arc<Bindings>) -> Self {
        BindingApi { bindings }
    }
}

type UpdateStream = Pin<Box<dyn Stream<Item = Result<WatchUpdatesResponse, Status>> + Send>>;

fn one(binding: crate::store::BindingRecord) -> Option<Binding> {
    Some(convert::binding(binding))
}

#[tonic::async_trait]
impl BindingService for BindingApi {
    type WatchUpdatesStream = UpdateStream;

    async fn create_binding(
        &self,
        request: Request<CreateBindingRequest>,
    ) -> Result<Response<CreateBindingResponse>, Status> {
        authorize(&request, &request.get_ref().org_id)?;
        let r = request.into_inner();
        let input = NewBinding {
            key_result_id: r.key_result_id,
            connection_id: r.connection_id,
            source: convert::source_ref(r.source.as_ref())?,
            selection: convert::selection(r.selection.as_ref()),
            enabled: r.enabled.unwrap_or(true),
            sync_interval: convert::optional_duration("sync_interval", r.sync_interval.as_ref())?,
            backfill_since: r
                .backfill_since
                .map(|t| {
                    std::time::SystemTime::try_from(t).map_err(|_| {
                        Error::field(
                            "backfill_since",
                            Reason::FieldInvalid,
                            "is not a valid time",
                        )
                    })
                })
                .transpose()?,
        };
        let binding = self.bindings.create(&r.org_id, input).await?;
        Ok(Response::new(CreateBindingResponse {
            binding: one(binding),
        }))
    }

    async fn get_binding(
        &self,
        request: Request<GetBindingRequest>,
    ) -> Result<Response<GetBindingResponse>, Status> {
        authorize(&request, &request.get_ref().org_id)?;
        let r = request.into_inner();
        let binding = self.bindings.get(&r.org_id, &r.binding_id).await?;
        Ok(Response::new(GetBindingResponse {
            binding: one(binding),
        }))
    }

    async fn list_bindings(
        &self,
        request: Request<ListBindingsRequest>,
    ) -> Result<Response<ListBindingsResponse>, Status> {
        authorize(&request, &request.get_ref().org_id)?;
        let r = request.into_inner();
        let filter = BindingFilter {
            key_result_id: Some(r.key_result_id.clone()).filter(|s| !s.is_empty()),
            connection_id: Some(r.connection_id.clone()).filter(|s| !s.is_empty()),
            enabled: r.enabled,
            state: convert::state_filter(r.state()),
        };
        let (bindings, next_page_token) = self
            .bindings
            .list(&r.org_id, filter, r.page_size, &r.page_token)
            .await?;
        Ok(Response::new(ListBindingsResponse {
            bindings: bindings.into_iter().map(convert::binding).collect(),
            next_page_token,
        }))
    }

    async fn update_binding(
        &self,
        request: Request<UpdateBindingRequest>,
    ) -> Result<Response<UpdateBindingResponse>, Status> {
        authorize(&request, &request.get_ref().org_id)?;
        let r = request.into_inner();
        let patch = binding_patch(&r)?;
        let binding = self
            .bindings
            .update(&r.org_id, &r.binding_id, patch)
            .await?;
        Ok(Response::new(UpdateBindingResponse {
            binding: one(binding),
        }))
    }

    async fn delete_binding(
        &self,
        request: Request<DeleteBindingRequest>,
    ) -> Result<Response<DeleteBindingResponse>, Status> {
        authorize(&request, &request.get_ref().org_id)?;
        let r = request.into_inner();
        self.bindings.delete(&r.org_id, &r.binding_id).await?;
        Ok(Response::new(DeleteBindingResponse {}))
    }

    async fn sync_binding(
        &self,
        request: Request<SyncBindingRequest>,
    ) -> Result<Response<SyncBindingResponse>, Status> {
        authorize(&request, &request.get_ref().org_id)?;
        let r = request.into_inner();
        let binding = self.bindings.sync_now(&r.org_id, &r.binding_id).await?;
        Ok(Response::new(SyncBindingResponse {
            binding: one(binding),
        }))
    }

    async fn list_binding_history(
        &self,
        request: Request<ListBindingHistoryRequest>,
    ) -> Result<Response<ListBindingHistoryResponse>, Status> {
        authorize(&request, &request.get_ref().org_id)?;
        let r = request.into_inner();
        let (entries, next_page_token) = self
            .bindings
            .history(&r.org_id, &r.binding_id, r.page_size, &r.page_token)
            .await?;
        Ok(Response::new(ListBindingHistoryResponse {
            entries: entries.into_iter().map(convert::history_entry).collect(),
            next_page_token,
        }))
    }

    async fn watch_updates(
        &self,
        request: Request<WatchUpdatesRequest>,
    ) -> Result<Response<Self::WatchUpdatesStream>, Status> {
        // An empty org means "every org the token may see".
        let audience = if request.get_ref().org_id.is_empty() {
            Audience::Scope(caller(&request)?.scope().clone())
        } else {
            authorize(&request, &request.get_ref().org_id)?;
            Audience::Org(request.get_ref().org_id.clone())
        };
        let receiver = self
            .bindings
            .watch(audience, request.get_ref().after_sequence);
        let stream = ReceiverStream::new(receiver).map(|event| match event {
            Ok(event) => Ok(WatchUpdatesResponse {
                update: Some(convert::update(event)),
            }),
            Err(error) => {
                tracing::error!(%error, "update stream failed");
                Err(Status::from(Error::internal(
                    "the update log cannot be read; reconnect",
                )))
            }
        });
        Ok(Response::new(Box::pin(stream)))
    }
}

fn binding_patch(r: &UpdateBindingRequest) -> Result<BindingPatch> {
    let paths = r
        .update_mask
        .as_ref()
        .map(|m| m.paths.clone())
        .unwrap_or_default();
    let interval = convert::optional_duration("sync_interval", r.sync_interval.as_ref())?;
    let mut patch = BindingPatch::default();
    if paths.is_empty() {
        return Err(Error::field(
            "update_mask",
            Reason::FieldRequired,
            "name the fields to change: enabled, source, selection, sync_interval",
        ));
    }
    for path in &paths {
        match path.as_str() {
            "enabled" => patch.enabled = Some(r.enabled),
            "source" => patch.source = Some(convert::source_ref(r.source.as_ref())?),
            "selection" => patch.selection = Some(convert::selection(r.selection.as_ref())),
            "sync_interval" => patch.sync_interval = Some(interval),
            other => {
                return Err(Error::field(
                    "update_mask",
                    Reason::FieldInvalid,
                    format!(
                        "unknown path {other:?}; use enabled, source, selection or sync_interval"
                    ),
                ));
            }
        }
    }
    Ok(patch)
}
