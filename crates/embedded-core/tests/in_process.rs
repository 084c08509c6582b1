//! The embedded core called in process (`core_bridge::InProcessCore`, what the gateway's own
//! binds use) answers as its HTTP API does: the same results, and the same errors as the
//! `CoreError::Status` a `CoreClient` would make of the HTTP answer (status, JSON body,
//! retryability).

mod common;

use std::sync::Arc;
use std::time::Duration;

use axum::http::StatusCode;
use common::*;
use core_bridge::api::*;
use core_bridge::{CoreClient, CoreError, InProcessCore};

/// A client calling `h`'s core in process.
fn client(h: &Harness) -> CoreClient {
    let local: Arc<dyn InProcessCore> = Arc::new(h.core.clone());
    CoreClient::in_process("http://127.0.0.1:9", local, Duration::from_secs(5)).unwrap()
}

fn status_of(e: &CoreError) -> (u16, serde_json::Value) {
    match e {
        CoreError::Status { status, body, .. } => (*status, serde_json::from_str(body).unwrap()),
        other => panic!("not a status error: {other}"),
    }
}

#[tokio::test]
async fn hand_over_claim_and_events_in_process_match_the_http_api() {
    let h = Harness::new("in-process");
    let c = client(&h);
    assert!(c.is_in_process());
    let answer = c
        .post_messages(vec![mt(&id(1), "33123456789", 1, "hello")])
        .await
        .unwrap();
    assert_eq!(answer.accepted.len(), 1);
    assert_eq!(answer.accepted[0].status, AcceptStatus::Stored);
    // A hand-over again: a duplicate, as over HTTP.
    let again = c
        .post_messages(vec![mt(&id(1), "33123456789", 1, "hello")])
        .await
        .unwrap();
    assert_eq!(again.accepted[0].status, AcceptStatus::Duplicate);
    // What was stored in process is what HTTP sees.
    let (st, v) = h.get(&format!("/api/v1/messages/{}", id(1))).await;
    assert_eq!(st, StatusCode::OK, "{v}");

    let claimed = c
        .claim(&ClaimRequest {
            frontend: "host_gw".into(),
            dest_smsc: Some("carrier_a".into()),
            source_smsc: None,
            limit: 10,
            lease_seconds: None,
            wait_ms: None,
        })
        .await
        .unwrap();
    assert_eq!(claimed.messages.len(), 1);
    assert_eq!(claimed.messages[0].id, id(1));

    let ack = c
        .post_events(vec![submitted(&id(1), "carrier_a", "abc")])
        .await
        .unwrap();
    assert!(ack.ok);
    assert_eq!(
        h.record(&id(1)).await.smsc_message_id.as_deref(),
        Some("abc")
    );

    let reg: FrontendRegistration = serde_json::from_value(serde_json::json!({
        "frontend": "host_gw", "bind_name": "carrier_a", "bind_mode": "client", "smsc_name": "gw"
    }))
    .unwrap();
    let reg = c.register(&reg).await.unwrap();
    assert!(reg.ok);
    let (_, list) = h.get("/api/v1/frontends").await;
    assert!(list.to_string().contains("host_gw"), "{list}");
}

#[tokio::test]
async fn refusals_in_process_are_the_http_apis_errors() {
    let h = Harness::new("in-process-errors");
    let c = client(&h);
    // An empty id: 400 naming the field, not retryable.
    let e = c
        .post_messages(vec![mt("", "33123456789", 0, "x")])
        .await
        .unwrap_err();
    assert!(!e.is_retryable());
    let (st, body) = status_of(&e);
    assert_eq!(st, 400);
    assert_eq!(body["field"], "messages[0].id");
    // A claim naming both queues.
    let e = c
        .claim(&ClaimRequest {
            frontend: "host_gw".into(),
            dest_smsc: Some("carrier_a".into()),
            source_smsc: Some("partner_mo".into()),
            limit: 10,
            lease_seconds: None,
            wait_ms: None,
        })
        .await
        .unwrap_err();
    assert_eq!(status_of(&e).0, 400);
    assert_eq!(status_of(&e).1["field"], "source_smsc");
    // An event about an unknown message: 404, as over HTTP.
    let e = c
        .post_events(vec![event(
            "nobody",
            "carrier_a",
            EventKind::DeliveredToEsme,
        )])
        .await
        .unwrap_err();
    assert_eq!(status_of(&e).0, 404);
    assert_eq!(status_of(&e).1["field"], "events[0].message_id");
    // The HTTP API answers the same body.
    let (st, v) = h
        .post(
            PATH_EVENTS,
            serde_json::json!({"events": [{"message_id": "nobody", "frontend": "host_gw",
                "bind_name": "carrier_a", "type": "delivered_to_esme", "at_ms": T0}]}),
        )
        .await;
    assert_eq!((st.as_u16(), v.clone()), status_of(&e), "{v}");
}
