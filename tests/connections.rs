//! ConnectionService through a real daemon on 127.0.0.1:0.

mod common;

use std::collections::{HashMap, HashSet};

use common::*;
use kpilink::proto::*;
use prost::Message;
use tonic::Code;

#[tokio::test]
async fn lists_the_looker_kind_with_its_settings_schema() {
    let daemon = TestDaemon::start().await;
    let kinds = daemon
        .clients
        .connections()
        .list_connector_kinds(ListConnectorKindsRequest {})
        .await
        .unwrap()
        .into_inner()
        .kinds;
    let looker = kinds
        .iter()
        .find(|k| k.kind == "looker")
        .expect("looker kind");
    let settings: HashMap<&str, &SettingSpec> = looker
        .settings
        .iter()
        .map(|s| (s.name.as_str(), s))
        .collect();
    for name in ["server_url", "client_id", "client_secret"] {
        assert!(settings[name].required, "{name} is required");
        assert!(!settings[name].label.is_empty());
    }
    assert!(settings["client_secret"].secret);
    assert!(!settings["server_url"].secret && !settings["client_id"].secret);
    assert!(settings["server_url"].example.starts_with("https://"));
}

#[tokio::test]
async fn create_get_update_delete_round_trip() {
    let daemon = TestDaemon::start().await;
    let mut api = daemon.clients.connections();
    let created = create(
        &daemon.clients,
        looker_connection("acme", "Production", "secret-1"),
    )
    .await;
    assert!(created.id.starts_with("con_"));
    assert_eq!(created.org_id, "acme");
    assert_eq!(created.display_name, "Production");
    assert_eq!(created.kind, "looker");
    assert_eq!(
        created.settings["server_url"],
        "https://acme.cloud.looker.com"
    );
    assert_eq!(created.secrets_set, ["client_secret"]);
    assert!(created.secrets.is_empty());
    assert_eq!(created.query_timeout.unwrap().seconds, 40);
    assert_eq!(created.create_time, created.update_time);

    let got = api
        .get_connection(GetConnectionRequest {
            org_id: "acme".into(),
            connection_id: created.id.clone(),
        })
        .await
        .unwrap()
        .into_inner()
        .connection
        .unwrap();
    assert_eq!(got, created);

    // Rename, change one setting and the timeout; the mask leaves the rest alone.
    let updated = api
        .update_connection(UpdateConnectionRequest {
            org_id: "acme".into(),
            connection_id: created.id.clone(),
            display_name: "  Production EU ".into(),
            settings: HashMap::from([(
                "server_url".into(),
                "https://acme.looker.com:19999".into(),
            )]),
            query_timeout: Some(prost_types::Duration {
                seconds: 90,
                nanos: 0,
            }),
            update_mask: Some(prost_types::FieldMask {
                paths: vec![
                    "display_name".into(),
                    "settings.server_url".into(),
                    "query_timeout".into(),
                ],
            }),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner()
        .connection
        .unwrap();
    assert_eq!(updated.display_name, "Production EU");
    assert_eq!(
        updated.settings["server_url"],
        "https://acme.looker.com:19999"
    );
    assert_eq!(updated.settings["client_id"], "client-abc");
    assert_eq!(updated.query_timeout.unwrap().seconds, 90);
    assert_eq!(updated.secrets_set, ["client_secret"]);
    assert_eq!(updated.create_time, created.create_time);
    let micros = |t: Option<prost_types::Timestamp>| {
        t.map(|t| t.seconds * 1_000_000 + i64::from(t.nanos) / 1000)
    };
    assert!(micros(updated.update_time) > micros(created.update_time));

    // Without a mask: only the fields set in the request change.
    let replaced = api
        .update_connection(UpdateConnectionRequest {
            org_id: "acme".into(),
            connection_id: created.id.clone(),
            secrets: HashMap::from([("client_secret".into(), "secret-2".into())]),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner()
        .connection
        .unwrap();
    assert_eq!(replaced.display_name, "Production EU");
    assert_eq!(replaced.query_timeout.unwrap().seconds, 90);
    assert_eq!(replaced.secrets_set, ["client_secret"]);

    // Restoring the default timeout: the path without a value.
    let defaulted = api
        .update_connection(UpdateConnectionRequest {
            org_id: "acme".into(),
            connection_id: created.id.clone(),
            update_mask: Some(prost_types::FieldMask {
                paths: vec!["query_timeout".into()],
            }),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner()
        .connection
        .unwrap();
    assert_eq!(defaulted.query_timeout.unwrap().seconds, 40);

    let deleted = api
        .delete_connection(DeleteConnectionRequest {
            org_id: "acme".into(),
            connection_id: created.id.clone(),
            force: false,
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(deleted.disabled_bindings, 0);
    for _ in 0..2 {
        let error = api
            .get_connection(GetConnectionRequest {
                org_id: "acme".into(),
                connection_id: created.id.clone(),
            })
            .await
            .unwrap_err();
        assert_error(&error, Code::NotFound, "CONNECTION_NOT_FOUND");
    }
    let error = api
        .delete_connection(DeleteConnectionRequest {
            org_id: "acme".into(),
            connection_id: created.id.clone(),
            force: false,
        })
        .await
        .unwrap_err();
    assert_error(&error, Code::NotFound, "CONNECTION_NOT_FOUND");
    // The name is free again.
    create(
        &daemon.clients,
        looker_connection("acme", "production eu", "s"),
    )
    .await;
}

#[tokio::test]
async fn lists_in_creation_order_across_pages() {
    let daemon = TestDaemon::start().await;
    let mut created = Vec::new();
    for i in 0..7 {
        created.push(
            create(
                &daemon.clients,
                looker_connection("acme", &format!("c{i}"), "s"),
            )
            .await
            .id,
        );
    }
    create(&daemon.clients, looker_connection("other-org", "x", "s")).await;

    let mut api = daemon.clients.connections();
    let mut seen = Vec::new();
    let mut page_token = String::new();
    let mut pages = 0;
    loop {
        let page = api
            .list_connections(ListConnectionsRequest {
                org_id: "acme".into(),
                page_size: 3,
                page_token: page_token.clone(),
            })
            .await
            .unwrap()
            .into_inner();
        pages += 1;
        assert!(page.connections.len() <= 3);
        seen.extend(page.connections.into_iter().map(|c| c.id));
        if page.next_page_token.is_empty() {
            break;
        }
        page_token = page.next_page_token;
    }
    assert_eq!(pages, 3);
    assert_eq!(seen, created);

    let all = api
        .list_connections(ListConnectionsRequest {
            org_id: "acme".into(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(all.connections.len(), 7);
    assert!(all.next_page_token.is_empty());

    for (page_size, page_token, reason) in [
        (-1, String::new(), "FIELD_INVALID"),
        (3, "not-a-token".to_owned(), "PAGE_TOKEN_INVALID"),
    ] {
        let error = api
            .list_connections(ListConnectionsRequest {
                org_id: "acme".into(),
                page_size,
                page_token,
            })
            .await
            .unwrap_err();
        assert_error(&error, Code::InvalidArgument, reason);
    }
}

/// One invalid create: what to change, the reason, and the violated field.
struct Case {
    name: &'static str,
    change: fn(&mut CreateConnectionRequest),
    reason: &'static str,
    field: &'static str,
}

#[tokio::test]
async fn every_invalid_create_names_its_field_and_reason() {
    let cases = [
        Case {
            name: "no org",
            change: |r| r.org_id.clear(),
            reason: "FIELD_REQUIRED",
            field: "org_id",
        },
        Case {
            name: "org with space",
            change: |r| r.org_id = "a b".into(),
            reason: "FIELD_INVALID",
            field: "org_id",
        },
        Case {
            name: "long org",
            change: |r| r.org_id = "o".repeat(129),
            reason: "FIELD_INVALID",
            field: "org_id",
        },
        Case {
            name: "empty name",
            change: |r| r.display_name = "   ".into(),
            reason: "FIELD_REQUIRED",
            field: "display_name",
        },
        Case {
            name: "long name",
            change: |r| r.display_name = "n".repeat(201),
            reason: "FIELD_INVALID",
            field: "display_name",
        },
        Case {
            name: "control char",
            change: |r| r.display_name = "a\u{7}b".into(),
            reason: "FIELD_INVALID",
            field: "display_name",
        },
        Case {
            name: "no kind",
            change: |r| r.kind.clear(),
            reason: "FIELD_REQUIRED",
            field: "kind",
        },
        Case {
            name: "unknown kind",
            change: |r| r.kind = "tableau".into(),
            reason: "CONNECTOR_KIND_UNKNOWN",
            field: "kind",
        },
        Case {
            name: "no url",
            change: |r| {
                r.settings.remove("server_url");
            },
            reason: "FIELD_REQUIRED",
            field: "settings.server_url",
        },
        Case {
            name: "empty client id",
            change: |r| {
                r.settings.insert("client_id".into(), " ".into());
            },
            reason: "FIELD_REQUIRED",
            field: "settings.client_id",
        },
        Case {
            name: "no secret",
            change: |r| r.secrets.clear(),
            reason: "FIELD_REQUIRED",
            field: "secrets.client_secret",
        },
        Case {
            name: "secret as setting",
            change: |r| {
                r.settings.insert("client_secret".into(), "x".into());
            },
            reason: "FIELD_INVALID",
            field: "settings.client_secret",
        },
        Case {
            name: "setting as secret",
            change: |r| {
                r.secrets.insert("client_id".into(), "x".into());
            },
            reason: "FIELD_INVALID",
            field: "secrets.client_id",
        },
        Case {
            name: "unknown setting",
            change: |r| {
                r.settings.insert("colour".into(), "red".into());
            },
            reason: "FIELD_INVALID",
            field: "settings.colour",
        },
        Case {
            name: "http url",
            change: |r| {
                r.settings
                    .insert("server_url".into(), "http://acme.looker.com".into());
            },
            reason: "URL_NOT_ALLOWED",
            field: "settings.server_url",
        },
        Case {
            name: "ftp url",
            change: |r| {
                r.settings
                    .insert("server_url".into(), "ftp://acme.looker.com".into());
            },
            reason: "URL_NOT_ALLOWED",
            field: "settings.server_url",
        },
        Case {
            name: "relative url",
            change: |r| {
                r.settings
                    .insert("server_url".into(), "acme.looker.com".into());
            },
            reason: "FIELD_INVALID",
            field: "settings.server_url",
        },
        Case {
            name: "url with path",
            change: |r| {
                r.settings.insert(
                    "server_url".into(),
                    "https://acme.looker.com/api/4.0".into(),
                );
            },
            reason: "FIELD_INVALID",
            field: "settings.server_url",
        },
        Case {
            name: "short timeout",
            change: |r| {
                r.query_timeout = Some(prost_types::Duration {
                    seconds: 0,
                    nanos: 500_000_000,
                })
            },
            reason: "FIELD_INVALID",
            field: "query_timeout",
        },
        Case {
            name: "long timeout",
            change: |r| {
                r.query_timeout = Some(prost_types::Duration {
                    seconds: 601,
                    nanos: 0,
                })
            },
            reason: "FIELD_INVALID",
            field: "query_timeout",
        },
        Case {
            name: "negative timeout",
            change: |r| {
                r.query_timeout = Some(prost_types::Duration {
                    seconds: -5,
                    nanos: 0,
                })
            },
            reason: "FIELD_INVALID",
            field: "query_timeout",
        },
    ];
    let daemon = TestDaemon::start_with_tokens(&[("admin", &["*"])]).await;
    let mut api = daemon.clients.with_token("admin").connections();
    for case in &cases {
        let mut request = looker_connection("acme", "Prod", "s");
        (case.change)(&mut request);
        let error = api.create_connection(request).await.expect_err(case.name);
        assert_error(&error, Code::InvalidArgument, case.reason);
        assert_eq!(violated_fields(&error)[0], case.field, "{}", case.name);
        assert!(!error.message().is_empty());
    }
    // Several problems at once are all reported.
    let mut request = looker_connection("acme", "", "s");
    request.settings.clear();
    let error = api.create_connection(request).await.unwrap_err();
    let fields: HashSet<String> = violated_fields(&error).into_iter().collect();
    for field in ["display_name", "settings.server_url", "settings.client_id"] {
        assert!(fields.contains(field), "{fields:?}");
    }
    // Nothing was stored by the failed calls.
    let listed = api
        .list_connections(ListConnectionsRequest {
            org_id: "acme".into(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    assert!(listed.connections.is_empty());
}

#[tokio::test]
async fn names_are_unique_per_org_and_updates_are_validated() {
    let daemon = TestDaemon::start().await;
    let mut api = daemon.clients.connections();
    let prod = create(&daemon.clients, looker_connection("acme", "Prod", "s")).await;
    let staging = create(&daemon.clients, looker_connection("acme", "Staging", "s")).await;
    create(&daemon.clients, looker_connection("globex", "Prod", "s")).await;

    let error = api
        .create_connection(looker_connection("acme", "PROD", "s"))
        .await
        .unwrap_err();
    assert_error(&error, Code::AlreadyExists, "CONNECTION_NAME_TAKEN");

    let update = |mask: &[&str], change: fn(&mut UpdateConnectionRequest)| {
        let mut request = UpdateConnectionRequest {
            org_id: "acme".into(),
            connection_id: staging.id.clone(),
            update_mask: Some(prost_types::FieldMask {
                paths: mask.iter().map(|p| p.to_string()).collect(),
            }),
            ..Default::default()
        };
        change(&mut request);
        request
    };
    let error = api
        .update_connection(update(&["display_name"], |r| {
            r.display_name = "prod".into()
        }))
        .await
        .unwrap_err();
    assert_error(&error, Code::AlreadyExists, "CONNECTION_NAME_TAKEN");

    for (request, reason, field) in [
        (update(&["colour"], |_| {}), "FIELD_INVALID", "update_mask"),
        (
            update(&["display_name"], |_| {}),
            "FIELD_REQUIRED",
            "display_name",
        ),
        (
            update(&["settings.client_id"], |_| {}),
            "FIELD_REQUIRED",
            "settings.client_id",
        ),
        (
            update(&["secrets"], |_| {}),
            "FIELD_REQUIRED",
            "secrets.client_secret",
        ),
        (
            update(&["settings.server_url"], |r| {
                r.settings
                    .insert("server_url".into(), "http://x.example".into());
            }),
            "URL_NOT_ALLOWED",
            "settings.server_url",
        ),
        (
            update(&["query_timeout"], |r| {
                r.query_timeout = Some(prost_types::Duration {
                    seconds: 3600,
                    nanos: 0,
                })
            }),
            "FIELD_INVALID",
            "query_timeout",
        ),
    ] {
        let error = api.update_connection(request).await.unwrap_err();
        assert_error(&error, Code::InvalidArgument, reason);
        assert_eq!(violated_fields(&error), [field]);
    }

    // The failed updates changed nothing.
    let unchanged = api
        .get_connection(GetConnectionRequest {
            org_id: "acme".into(),
            connection_id: staging.id.clone(),
        })
        .await
        .unwrap()
        .into_inner()
        .connection
        .unwrap();
    assert_eq!(unchanged, staging);
    assert_ne!(prod.id, staging.id);

    let error = api
        .get_connection(GetConnectionRequest {
            org_id: "acme".into(),
            connection_id: String::new(),
        })
        .await
        .unwrap_err();
    assert_error(&error, Code::InvalidArgument, "FIELD_REQUIRED");
}

#[tokio::test]
async fn http_sources_are_accepted_when_the_operator_allows_them() {
    let daemon = TestDaemon::start_with(|config| config.allow_http_sources = true).await;
    let mut request = looker_connection("acme", "Local", "s");
    request
        .settings
        .insert("server_url".into(), "http://looker.internal:9999".into());
    let created = create(&daemon.clients, request).await;
    assert_eq!(
        created.settings["server_url"],
        "http://looker.internal:9999"
    );
}

#[tokio::test]
async fn one_org_cannot_see_or_touch_another_orgs_connection() {
    let daemon = TestDaemon::start().await;
    let mut api = daemon.clients.connections();
    let theirs = create(&daemon.clients, looker_connection("org-a", "Prod", "s")).await;

    let error = api
        .get_connection(GetConnectionRequest {
            org_id: "org-b".into(),
            connection_id: theirs.id.clone(),
        })
        .await
        .unwrap_err();
    assert_error(&error, Code::NotFound, "CONNECTION_NOT_FOUND");
    let error = api
        .update_connection(UpdateConnectionRequest {
            org_id: "org-b".into(),
            connection_id: theirs.id.clone(),
            display_name: "Mine now".into(),
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert_error(&error, Code::NotFound, "CONNECTION_NOT_FOUND");
    let error = api
        .delete_connection(DeleteConnectionRequest {
            org_id: "org-b".into(),
            connection_id: theirs.id.clone(),
            force: true,
        })
        .await
        .unwrap_err();
    assert_error(&error, Code::NotFound, "CONNECTION_NOT_FOUND");
    let listed = api
        .list_connections(ListConnectionsRequest {
            org_id: "org-b".into(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    assert!(listed.connections.is_empty());

    // Org A's connection is untouched.
    let still = api
        .get_connection(GetConnectionRequest {
            org_id: "org-a".into(),
            connection_id: theirs.id.clone(),
        })
        .await
        .unwrap()
        .into_inner()
        .connection
        .unwrap();
    assert_eq!(still, theirs);
}

#[tokio::test]
async fn tokens_are_checked_and_scoped_to_their_orgs() {
    let daemon = TestDaemon::start_with_tokens(&[
        ("root-token", &["*"]),
        ("acme-token", &["acme", "acme-eu"]),
    ])
    .await;
    let root = daemon.clients.with_token("root-token");
    let acme = daemon.clients.with_token("acme-token");
    let globex = create(&root, looker_connection("globex", "Prod", "s")).await;
    create(&acme, looker_connection("acme", "Prod", "s")).await;
    create(&acme, looker_connection("acme-eu", "Prod", "s")).await;

    let error = acme
        .connections()
        .create_connection(looker_connection("globex", "Mine", "s"))
        .await
        .unwrap_err();
    assert_error(&error, Code::PermissionDenied, "ORG_NOT_PERMITTED");
    let error = acme
        .connections()
        .get_connection(GetConnectionRequest {
            org_id: "globex".into(),
            connection_id: globex.id.clone(),
        })
        .await
        .unwrap_err();
    assert_error(&error, Code::PermissionDenied, "ORG_NOT_PERMITTED");
    let error = acme
        .connections()
        .list_connections(ListConnectionsRequest {
            org_id: "globex".into(),
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert_error(&error, Code::PermissionDenied, "ORG_NOT_PERMITTED");
    let error = acme
        .discovery()
        .search_dashboards(SearchDashboardsRequest {
            org_id: "globex".into(),
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert_error(&error, Code::PermissionDenied, "ORG_NOT_PERMITTED");

    for (token, reason) in [("", "TOKEN_MISSING"), ("wrong-token", "TOKEN_INVALID")] {
        let error = daemon
            .clients
            .with_token(token)
            .connections()
            .list_connector_kinds(ListConnectorKindsRequest {})
            .await
            .unwrap_err();
        assert_error(&error, Code::Unauthenticated, reason);
    }
    // A malformed scheme is refused too.
    let mut raw = kpilink::proto::connection_service_client::ConnectionServiceClient::new(
        daemon.clients.channel.clone(),
    );
    let mut request = tonic::Request::new(ListConnectorKindsRequest {});
    request
        .metadata_mut()
        .insert("authorization", "Basic root-token".parse().unwrap());
    let error = raw.list_connector_kinds(request).await.unwrap_err();
    assert_error(&error, Code::Unauthenticated, "TOKEN_INVALID");

    // Root sees every org.
    let listed = root
        .connections()
        .list_connections(ListConnectionsRequest {
            org_id: "acme-eu".into(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(listed.connections.len(), 1);
}

#[tokio::test]
async fn secrets_never_leave_and_are_not_stored_in_plaintext() {
    let secret = "kpl-test-secret-7f3a9c1e-never-shown";
    let daemon = TestDaemon::start().await;
    let mut api = daemon.clients.connections();
    let created = create(&daemon.clients, looker_connection("acme", "Prod", secret)).await;
    let mut responses: Vec<Vec<u8>> = vec![created.encode_to_vec()];
    let rotated = "kpl-test-secret-rotated-55b1";
    let updated = api
        .update_connection(UpdateConnectionRequest {
            org_id: "acme".into(),
            connection_id: created.id.clone(),
            secrets: HashMap::from([("client_secret".into(), rotated.into())]),
            update_mask: Some(prost_types::FieldMask {
                paths: vec!["secrets.client_secret".into()],
            }),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    responses.push(updated.encode_to_vec());
    responses.push(
        api.get_connection(GetConnectionRequest {
            org_id: "acme".into(),
            connection_id: created.id.clone(),
        })
        .await
        .unwrap()
        .into_inner()
        .encode_to_vec(),
    );
    responses.push(
        api.list_connections(ListConnectionsRequest {
            org_id: "acme".into(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner()
        .encode_to_vec(),
    );
    // Errors do not echo secrets either.
    let mut bad = looker_connection("acme", "", secret);
    bad.secrets.insert("client_id".into(), secret.into());
    let error = api.create_connection(bad).await.unwrap_err();
    responses.push(error.message().as_bytes().to_vec());
    responses.push(error.details().to_vec());

    for response in &responses {
        for plaintext in [secret, rotated] {
            assert!(
                !contains_bytes(response, plaintext.as_bytes()),
                "a response leaked a secret"
            );
        }
    }
    assert_eq!(updated.connection.unwrap().secrets_set, ["client_secret"]);

    // Nothing under the data directory holds a secret in plaintext, while running
    // (acknowledged writes are on disk) and after a clean stop.
    let data_dir = daemon.data_dir.clone();
    let check_files = || {
        let files = files_under(&data_dir);
        assert!(
            files.len() >= 3,
            "expected the database, key and token files"
        );
        // The check can see record data: the non-secret client id is stored as is.
        assert!(
            files
                .iter()
                .any(|file| contains_bytes(&std::fs::read(file).unwrap(), b"client-abc")),
            "no file holds the connection record"
        );
        for file in files {
            let bytes = std::fs::read(&file).unwrap();
            for plaintext in [secret, rotated] {
                assert!(
                    !contains_bytes(&bytes, plaintext.as_bytes()),
                    "{} holds a secret in plaintext",
                    file.display()
                );
            }
        }
    };
    check_files();
    let _dir = daemon.stop().await;
    check_files();
}
