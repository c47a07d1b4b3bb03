//! The daemon's surface: health, reflection, authentication of every service,
//! and the RPCs whose issues have not landed.

mod common;

use common::*;
use kpilink::proto::*;
use tokio_stream::StreamExt;
use tonic::Code;
use tonic_health::pb::HealthCheckRequest;
use tonic_health::pb::health_check_response::ServingStatus;
use tonic_health::pb::health_client::HealthClient;

#[tokio::test]
async fn health_answers_without_a_token() {
    let daemon = TestDaemon::start().await;
    let mut health = HealthClient::new(channel(daemon.addr).await);
    for service in [
        "",
        "kpilink.v1.ConnectionService",
        "kpilink.v1.DiscoveryService",
        "kpilink.v1.BindingService",
    ] {
        let response = health
            .check(HealthCheckRequest {
                service: service.into(),
            })
            .await
            .unwrap()
            .into_inner();
        assert_eq!(response.status(), ServingStatus::Serving, "{service:?}");
    }
}

#[tokio::test]
async fn reflection_v1_and_v1alpha_list_the_three_services() {
    use tonic_reflection::pb::{v1, v1alpha};

    let daemon = TestDaemon::start().await;
    let expected = [
        "kpilink.v1.BindingService",
        "kpilink.v1.ConnectionService",
        "kpilink.v1.DiscoveryService",
    ];

    let mut client =
        v1::server_reflection_client::ServerReflectionClient::new(channel(daemon.addr).await);
    let request = v1::ServerReflectionRequest {
        host: String::new(),
        message_request: Some(v1::server_reflection_request::MessageRequest::ListServices(
            String::new(),
        )),
    };
    let mut stream = client
        .server_reflection_info(tokio_stream::iter([request]))
        .await
        .unwrap()
        .into_inner();
    let response = stream.next().await.unwrap().unwrap();
    let Some(v1::server_reflection_response::MessageResponse::ListServicesResponse(list)) =
        response.message_response
    else {
        panic!("unexpected reflection response");
    };
    let names: Vec<String> = list.service.into_iter().map(|s| s.name).collect();
    for name in expected {
        assert!(
            names.iter().any(|n| n == name),
            "{name} missing from {names:?}"
        );
    }

    let mut client =
        v1alpha::server_reflection_client::ServerReflectionClient::new(channel(daemon.addr).await);
    let requests = [
        v1alpha::ServerReflectionRequest {
            host: String::new(),
            message_request: Some(
                v1alpha::server_reflection_request::MessageRequest::ListServices(String::new()),
            ),
        },
        // grpcurl resolves error details by name: google.rpc.ErrorInfo must be known.
        v1alpha::ServerReflectionRequest {
            host: String::new(),
            message_request: Some(
                v1alpha::server_reflection_request::MessageRequest::FileContainingSymbol(
                    "google.rpc.ErrorInfo".into(),
                ),
            ),
        },
    ];
    let mut stream = client
        .server_reflection_info(tokio_stream::iter(requests))
        .await
        .unwrap()
        .into_inner();
    let Some(v1alpha::server_reflection_response::MessageResponse::ListServicesResponse(list)) =
        stream.next().await.unwrap().unwrap().message_response
    else {
        panic!("unexpected reflection response");
    };
    let names: Vec<String> = list.service.into_iter().map(|s| s.name).collect();
    for name in expected {
        assert!(
            names.iter().any(|n| n == name),
            "{name} missing from {names:?}"
        );
    }
    let Some(v1alpha::server_reflection_response::MessageResponse::FileDescriptorResponse(files)) =
        stream.next().await.unwrap().unwrap().message_response
    else {
        panic!("google.rpc.ErrorInfo is not known to reflection");
    };
    assert!(!files.file_descriptor_proto.is_empty());
}

#[tokio::test]
async fn every_service_requires_a_token() {
    let daemon = TestDaemon::start().await;
    let anonymous = daemon.clients.with_token("");
    let error = anonymous
        .discovery()
        .list_tiles(ListTilesRequest {
            org_id: "acme".into(),
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert_error(&error, Code::Unauthenticated, "TOKEN_MISSING");
    let error = anonymous
        .bindings()
        .get_binding(GetBindingRequest {
            org_id: "acme".into(),
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert_error(&error, Code::Unauthenticated, "TOKEN_MISSING");
}

#[tokio::test]
async fn malformed_requests_are_refused_before_any_work() {
    let daemon = TestDaemon::start().await;
    let clients = &daemon.clients;
    let error = clients
        .discovery()
        .preview_value(PreviewValueRequest {
            org_id: "acme".into(),
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert_error(&error, Code::InvalidArgument, "FIELD_REQUIRED");
    assert_eq!(violated_fields(&error), ["source"]);
    let error = clients
        .bindings()
        .create_binding(CreateBindingRequest {
            org_id: "acme".into(),
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert_error(&error, Code::InvalidArgument, "FIELD_REQUIRED");
    let error = clients
        .bindings()
        .update_binding(UpdateBindingRequest {
            org_id: "acme".into(),
            binding_id: "bnd_x".into(),
            update_mask: Some(prost_types::FieldMask {
                paths: vec!["colour".into()],
            }),
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert_error(&error, Code::InvalidArgument, "FIELD_INVALID");
    // Bad org ids are refused before anything else.
    let error = clients
        .discovery()
        .search_looks(SearchLooksRequest {
            org_id: String::new(),
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert_error(&error, Code::InvalidArgument, "FIELD_REQUIRED");
}

#[tokio::test]
async fn a_scoped_token_watches_only_its_orgs() {
    let daemon = TestDaemon::start_with_tokens(&[("acme-token", &["acme"])]).await;
    let acme = daemon.clients.with_token("acme-token");
    let error = acme
        .bindings()
        .watch_updates(WatchUpdatesRequest {
            org_id: "globex".into(),
            after_sequence: 0,
        })
        .await
        .unwrap_err();
    assert_error(&error, Code::PermissionDenied, "ORG_NOT_PERMITTED");
    // An empty org follows every org the token may see: the stream opens.
    acme.bindings()
        .watch_updates(WatchUpdatesRequest::default())
        .await
        .unwrap();
}
