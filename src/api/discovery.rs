use tonic::{Request, Response, Status};

use super::unimplemented;
use crate::proto::discovery_service_server::DiscoveryService;
use crate::proto::*;

/// Discovery arrives with the Looker connector; until then every RPC answers
/// `UNIMPLEMENTED` (after authorizing the org, so errors stay consistent).
#[derive(Default)]
pub struct DiscoveryApi;

#[tonic::async_trait]
impl DiscoveryService for DiscoveryApi {
    async fn search_dashboards(
        &self,
        request: Request<SearchDashboardsRequest>,
    ) -> Result<Response<SearchDashboardsResponse>, Status> {
        unimplemented(&request, &request.get_ref().org_id, "SearchDashboards")
    }

    async fn list_tiles(
        &self,
        request: Request<ListTilesRequest>,
    ) -> Result<Response<ListTilesResponse>, Status> {
        unimplemented(&request, &request.get_ref().org_id, "ListTiles")
    }

    async fn search_looks(
        &self,
        request: Request<SearchLooksRequest>,
    ) -> Result<Response<SearchLooksResponse>, Status> {
        unimplemented(&request, &request.get_ref().org_id, "SearchLooks")
    }

    async fn describe_chart(
        &self,
        request: Request<DescribeChartRequest>,
    ) -> Result<Response<DescribeChartResponse>, Status> {
        unimplemented(&request, &request.get_ref().org_id, "DescribeChart")
    }

    async fn preview_value(
        &self,
        request: Request<PreviewValueRequest>,
    ) -> Result<Response<PreviewValueResponse>, Status> {
        unimplemented(&request, &request.get_ref().org_id, "PreviewValue")
    }
}
