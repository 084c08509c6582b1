//! The embedded core served on a real loopback listener and called with the gateway's own
//! client (`core_bridge::CoreClient`), as the gateway does when `api_base_url = "embedded"`.

mod common;

use std::time::Duration;

use common::*;
use core_bridge::api::*;
use core_bridge::{CoreClient, CoreError};
use embedded_core::{EmbeddedCore, MessageStatus};

async fn start(
    core: EmbeddedCore,
) -> (
    CoreClient,
    tokio::sync::oneshot::Sender<()>,
    tokio::task::JoinHandle<std::io::Result<()>>,
) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let task = tokio::spawn(embedded_core::serve(listener, core, async move {
        let _ = stopped.await;
    }));
    let client = CoreClient::new(&format!("http://{addr}"), true, Duration::from_secs(5)).unwrap();
    (client, stop, task)
}

#[tokio::test]
async fn the_gateway_client_drives_a_whole_mt_with_its_receipt() {
    let h = Harness::new("loopback");
    let (client, stop, task) = start(h.core.clone()).await;

    assert_eq!(client.health().await.unwrap().status, "ok");
    let reg = FrontendRegistration {
        frontend: "host_partner_1".into(),
        bind_name: "partner_1".into(),
        bind_mode: BindMode::Server,
        smsc_name: "smppgw".into(),
    };
    assert!(client.register(&reg).await.unwrap().ok);

    let m = mt(&id(1), "+33612345678", 1, "over the wire");
    let ans = client.post_messages(vec![m.clone()]).await.unwrap();
    assert_eq!(
        ans.accepted,
        vec![Accepted {
            id: id(1),
            status: AcceptStatus::Stored
        }]
    );
    let ans = client.post_messages(vec![m]).await.unwrap();
    assert_eq!(ans.accepted[0].status, AcceptStatus::Duplicate);

    let req = ClaimRequest {
        frontend: "host_carrier_b".into(),
        dest_smsc: Some("carrier_b".into()),
        source_smsc: None,
        limit: 10,
        lease_seconds: None,
        wait_ms: None,
    };
    let claimed = client.claim(&req).await.unwrap().messages;
    assert_eq!(claimed.len(), 1);
    assert_eq!(claimed[0].id, id(1));
    assert_eq!(claimed[0].payload.0, b"over the wire".to_vec());

    client
        .post_events(vec![submitted(&id(1), "carrier_b", "9001")])
        .await
        .unwrap();
    // The carrier wrote the id in hex in its receipt: 9001 = 0x2329.
    client
        .post_messages(vec![receipt(
            &id(100),
            "carrier_b",
            "2329",
            Some(2),
            "DELIVRD",
        )])
        .await
        .unwrap();
    assert_eq!(
        h.core.message(&id(1)).unwrap().unwrap().status,
        MessageStatus::Delivered
    );

    let req = ClaimRequest {
        dest_smsc: None,
        source_smsc: Some("partner_1".into()),
        ..req
    };
    let receipts = client.claim(&req).await.unwrap().messages;
    assert_eq!(receipts.len(), 1);
    assert_eq!(receipts[0].kind, Direction::Receipt);
    let text = String::from_utf8(receipts[0].payload.0.clone()).unwrap();
    assert!(text.starts_with(&format!("id:{} ", id(1))), "{text}");
    assert!(text.contains("stat:DELIVRD"), "{text}");

    // A 4xx is not retryable, and says why.
    let err = client
        .claim(&ClaimRequest {
            frontend: "f".into(),
            dest_smsc: None,
            source_smsc: None,
            limit: 1,
            lease_seconds: None,
            wait_ms: None,
        })
        .await
        .unwrap_err();
    match &err {
        CoreError::Status {
            status: 400, body, ..
        } => assert!(body.contains("dest_smsc"), "{body}"),
        other => panic!("unexpected {other}"),
    }
    assert!(!err.is_retryable());
    let err = client
        .post_events(vec![submitted("unknown", "carrier_b", "1")])
        .await
        .unwrap_err();
    assert!(
        matches!(err, CoreError::Status { status: 404, .. }),
        "{err}"
    );

    stop.send(()).unwrap();
    task.await.unwrap().unwrap();
    // Stopped: the client now sees an unreachable core, which is retryable.
    let err = client.health().await.unwrap_err();
    assert!(err.is_retryable(), "{err}");
}
