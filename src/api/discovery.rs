use std::sync::Arc;

use tonic::{Request, Response, Status};

use super::{authorize, convert};
use crate::discovery::Discovery;
use crate::proto::discovery_service_server::DiscoveryService;
use crate::proto::*;

pub struct DiscoveryApi {
    discovery: Arc<Discovery>,
}

impl DiscoveryApi {
    pub fn new(discovery: Arc<Discovery>) -> Self {
        DiscoveryApi { discovery }
    }
}

#[tonic::async_trait]
impl DiscoveryService for DiscoveryApi {
    async fn search_dashboards(
        &self,
        request: Request<SearchDashboardsRequest>,
    ) -> Result<Response<SearchDashboardsResponse>, Status> {
        authorize(&request, &request.get_ref().org_id)?;
        let r = request.into_inner();
        let (found, next_page_token) = self
            .discovery
            .search_dashboards(
                &r.org_id,
                &r.connection_id,
                &r.query,
                r.page_size,
                &r.page_token,
            )
            .await?;
        Ok(Response::new(SearchDashboardsResponse {
            dashboards: found.into_iter().map(convert::dashboard).collect(),
            next_page_token,
        }))
    }

    async fn list_tiles(
        &self,
        request: Request<ListTilesRequest>,
    ) -> Result<Response<ListTilesResponse>, Status> {
        authorize(&request, &request.get_ref().org_id)?;
        let r = request.into_inner();
        let tiles = self
            .discovery
            .list_tiles(&r.org_id, &r.connection_id, &r.dashboard_id)
            .await?;
        Ok(Response::new(ListTilesResponse {
            dashboard_title: tiles.title,
            tiles: tiles.tiles.into_iter().map(convert::tile).collect(),
        }))
    }

    async fn search_looks(
        &self,
        request: Request<SearchLooksRequest>,
    ) -> Result<Response<SearchLooksResponse>, Status> {
        authorize(&request, &request.get_ref().org_id)?;
        let r = request.into_inner();
        let (found, next_page_token) = self
            .discovery
            .search_looks(
                &r.org_id,
                &r.connection_id,
                &r.query,
                r.page_size,
                &r.page_token,
            )
            .await?;
        Ok(Response::new(SearchLooksResponse {
            looks: found.into_iter().map(convert::look).collect(),
            next_page_token,
        }))
    }

    async fn describe_chart(
        &self,
        request: Request<DescribeChartRequest>,
    ) -> Result<Response<DescribeChartResponse>, Status> {
        authorize(&request, &request.get_ref().org_id)?;
        let r = request.into_inner();
        let source = convert::source_ref(r.source.as_ref())?;
        let view = self
            .discovery
            .describe(&r.org_id, &r.connection_id, &source)
            .await?;
        Ok(Response::new(convert::chart_description(view)))
    }

    async fn preview_value(
        &self,
        request: Request<PreviewValueRequest>,
    ) -> Result<Response<PreviewValueResponse>, Status> {
        authorize(&request, &request.get_ref().org_id)?;
        let r = request.into_inner();
        let source = convert::source_ref(r.source.as_ref())?;
        let selection = convert::selection(r.selection.as_ref());
        let preview = self
            .discovery
            .preview(&r.org_id, &r.connection_id, &source, &selection)
            .await?;
        Ok(Response::new(convert::preview(preview)))
    }
}
