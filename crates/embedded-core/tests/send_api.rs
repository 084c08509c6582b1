//! The HTTP send API through the core's router: authentication (401, logged and counted),
//! input checks naming the field, rate limits, the life of a send from the request to the
//! carrier's receipt with its status callbacks, and the Android SMS gateway compatible calls.

mod common;

use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::body::Body;
use axum::http::{HeaderMap, Method, Request, StatusCode};
use base64::Engine as _;
use common::*;
use core_bridge::api::*;
use embedded_core::{ApiClient, EmbeddedConfig, MessageStatus, SendRecord};
use http_body_util::BodyExt as _;
use serde_json::{json, Value};
use tower::ServiceExt as _;

const ALERTS_BASIC: (&str, &str) = ("alerts", "s3cret");

fn clients() -> Vec<ApiClient> {
    vec![
        ApiClient {
            name: "alerts".into(),
            username: Some(ALERTS_BASIC.0.into()),
            password: Some(ALERTS_BASIC.1.into()),
            api_key: Some("key-alerts".into()),
            allowed_senders: vec!["ALERTS".into(), "+33612000000".into()],
            ..ApiClient::default()
        },
        ApiClient {
            name: "limited".into(),
            api_key: Some("key-limited".into()),
            rate_limit: Some(2.0),
            ..ApiClient::default()
        },
        ApiClient {
            name: "pinned".into(),
            api_key: Some("key-pinned".into()),
            dest_smsc: Some("carrier_c".into()),
            ..ApiClient::default()
        },
    ]
}

/// The common routes, `43` → `carrier_a` too, the clients above, at most 3 segments.
fn send_config() -> EmbeddedConfig {
    let mut cfg = EmbeddedConfig {
        api_clients: clients(),
        max_segments: 3,
        known_dest_smsc: vec!["carrier_a".into(), "carrier_b".into(), "carrier_c".into()],
        ..config()
    };
    cfg.routes.push(embedded_core::Route {
        prefix: "43".into(),
        dest_smsc: "carrier_a".into(),
    });
    cfg
}

fn harness(name: &str) -> Harness {
    Harness::with_config(name, send_config())
}

fn basic(user: &str, pass: &str) -> String {
    format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(format!("{user}:{pass}"))
    )
}

fn alerts() -> Vec<(&'static str, String)> {
    vec![("authorization", basic(ALERTS_BASIC.0, ALERTS_BASIC.1))]
}

fn key(k: &str) -> Vec<(&'static str, String)> {
    vec![("authorization", format!("Bearer {k}"))]
}

struct Answer {
    status: StatusCode,
    headers: HeaderMap,
    body: Value,
}

async fn call(
    h: &Harness,
    method: Method,
    path: &str,
    auth: &[(&'static str, String)],
    body: Option<Value>,
) -> Answer {
    let mut req = Request::builder()
        .method(method)
        .uri(path)
        .header("content-type", "application/json");
    for (k, v) in auth {
        req = req.header(*k, v);
    }
    let req = req
        .body(
            body.map(|b| Body::from(b.to_string()))
                .unwrap_or_else(Body::empty),
        )
        .unwrap();
    let resp = h.core.router().oneshot(req).await.unwrap();
    let status = resp.status();
    let headers = resp.headers().clone();
    let bytes = resp.into_body().collect().await.unwrap().to_bytes();
    let body = if bytes.is_empty() {
        Value::Null
    } else {
        serde_json::from_slice(&bytes).unwrap()
    };
    Answer {
        status,
        headers,
        body,
    }
}

async fn send(h: &Harness, auth: &[(&'static str, String)], body: Value) -> Answer {
    call(h, Method::POST, "/api/v1/send", auth, Some(body)).await
}

async fn send_record(h: &Harness, id: &str) -> SendRecord {
    let a = call(
        h,
        Method::GET,
        &format!("/api/v1/send/{id}"),
        &alerts(),
        None,
    )
    .await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.body);
    serde_json::from_value(a.body).unwrap()
}

/// Asserts a 400 (or `status`) naming `field`, whose message mentions `mentions`.
fn assert_refused(a: &Answer, status: StatusCode, field: &str, mentions: &str) {
    assert_eq!(a.status, status, "{}", a.body);
    assert_eq!(a.body["field"], field, "{}", a.body);
    let msg = a.body["error"]
        .as_str()
        .or(a.body["message"].as_str())
        .unwrap_or_default();
    assert!(
        msg.contains(mentions),
        "{msg:?} should mention {mentions:?}"
    );
}

/// A tracing writer into a shared buffer.
#[derive(Clone, Default)]
struct Logs(Arc<Mutex<Vec<u8>>>);

impl std::io::Write for Logs {
    fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(b);
        Ok(b.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl<'a> tracing_subscriber::fmt::MakeWriter<'a> for Logs {
    type Writer = Logs;
    fn make_writer(&'a self) -> Logs {
        self.clone()
    }
}

fn counter(
    snapshot: &metrics_util::debugging::Snapshotter,
    name: &str,
    label: (&str, &str),
) -> u64 {
    snapshot
        .snapshot()
        .into_vec()
        .into_iter()
        .filter(|(k, _, _, _)| {
            k.key().name() == name
                && k.key()
                    .labels()
                    .any(|l| l.key() == label.0 && l.value() == label.1)
        })
        .map(|(_, _, _, v)| match v {
            metrics_util::debugging::DebugValue::Counter(c) => c,
            _ => 0,
        })
        .sum()
}

#[tokio::test]
async fn wrong_credentials_get_401_with_www_authenticate_logged_and_counted() {
    let h = harness("auth");
    let recorder = metrics_util::debugging::DebuggingRecorder::new();
    let snapshot = recorder.snapshotter();
    let _metrics = metrics::set_default_local_recorder(&recorder);
    let logs = Logs::default();
    let _log = tracing::subscriber::set_default(
        tracing_subscriber::fmt()
            .with_writer(logs.clone())
            .with_ansi(false)
            .finish(),
    );
    let body = json!({"to": ["+33712345678"], "text": "hello"});

    let wrong = vec![("authorization", basic("alerts", "guess"))];
    let a = send(&h, &wrong, body.clone()).await;
    assert_eq!(a.status, StatusCode::UNAUTHORIZED, "{}", a.body);
    let challenge = a.headers["www-authenticate"].to_str().unwrap();
    assert!(challenge.contains("Basic realm=\"smppgw\""), "{challenge}");
    assert!(a.body["error"].as_str().unwrap().contains("wrong password"));
    assert_eq!(
        counter(
            &snapshot,
            "smppgw_http_auth_failures_total",
            ("client", "alerts")
        ),
        1
    );
    let text = String::from_utf8(logs.0.lock().unwrap().clone()).unwrap();
    assert!(
        text.contains("send API authentication failed") && text.contains("alerts"),
        "{text}"
    );
    assert!(
        !text.contains("guess"),
        "the password tried is not logged: {text}"
    );

    for (auth, label) in [
        (vec![], "anonymous"),
        (vec![("authorization", basic("nobody", "x"))], "unknown"),
        (key("key-nope"), "unknown"),
        (vec![("x-api-key", "key-nope".to_string())], "unknown"),
    ] {
        let a = send(&h, &auth, body.clone()).await;
        assert_eq!(a.status, StatusCode::UNAUTHORIZED, "{label}: {}", a.body);
        assert!(a.headers.contains_key("www-authenticate"));
        assert!(
            counter(
                &snapshot,
                "smppgw_http_auth_failures_total",
                ("client", label)
            ) >= 1
        );
    }
    // The Android calls answer in their own error shape.
    let a = call(&h, Method::GET, "/3rdparty/v1/message", &wrong, None).await;
    assert_eq!(a.status, StatusCode::UNAUTHORIZED);
    assert!(a.body["message"]
        .as_str()
        .unwrap()
        .contains("authentication failed"));
    // Nothing was queued by any of them.
    assert!(h.claim_dest("carrier_a", 10, None).await.is_empty());

    // Each way of giving the right credentials works.
    for auth in [
        alerts(),
        key("key-alerts"),
        vec![("x-api-key", "key-alerts".to_string())],
    ] {
        let a = send(&h, &auth, body.clone()).await;
        assert_eq!(a.status, StatusCode::ACCEPTED, "{}", a.body);
    }
}

#[tokio::test]
async fn bad_input_gets_4xx_naming_the_field_and_queues_nothing() {
    let h = harness("input");
    let ok = |extra: Value| {
        let mut b = json!({"to": ["+33712345678"], "text": "hello"});
        for (k, v) in extra.as_object().unwrap() {
            b[k] = v.clone();
        }
        b
    };
    for (body, field, mentions) in [
        (
            ok(json!({"to": ["+33712345678", "0612345678"]})),
            "to[1]",
            "0612345678",
        ),
        (ok(json!({"to": ["+33 7 12"]})), "to[0]", "E.164"),
        (ok(json!({"to": []})), "to", "recipient"),
        (ok(json!({"text": ""})), "text", "empty"),
        (ok(json!({"text": " \n "})), "text", "empty"),
        (json!({"to": ["+33712345678"]}), "text", "text"),
        // 4 segments of 153 septets, 3 allowed.
        (
            ok(json!({"text": "x".repeat(153 * 3 + 1)})),
            "text",
            "4 SMS segments",
        ),
        (ok(json!({"dest_smsc": "nowhere"})), "dest_smsc", "nowhere"),
        (
            ok(json!({"from": "TOO_LONG_SENDER"})),
            "from",
            "TOO_LONG_SENDER",
        ),
        (
            ok(json!({"callback_url": "ftp://hooks.example/x"})),
            "callback_url",
            "ftp",
        ),
        (ok(json!({"colour": "red"})), "colour", "colour"),
    ] {
        let a = send(&h, &alerts(), body.clone()).await;
        assert_refused(&a, StatusCode::BAD_REQUEST, field, mentions);
    }
    // A sender the client may not use: 403.
    let a = send(&h, &alerts(), ok(json!({"from": "BANK"}))).await;
    assert_refused(&a, StatusCode::FORBIDDEN, "from", "BANK");
    // A client pinned to a bind may not name another.
    let a = send(
        &h,
        &key("key-pinned"),
        ok(json!({"dest_smsc": "carrier_a"})),
    )
    .await;
    assert_refused(&a, StatusCode::FORBIDDEN, "dest_smsc", "carrier_c");
    for bind in ["carrier_a", "carrier_b", "carrier_c"] {
        assert!(h.claim_dest(bind, 10, None).await.is_empty(), "{bind}");
    }
    // 3 segments exactly is accepted.
    let a = send(&h, &alerts(), ok(json!({"text": "x".repeat(153 * 3)}))).await;
    assert_eq!(a.status, StatusCode::ACCEPTED, "{}", a.body);
    assert_eq!(a.body["segments"], 3);
}

#[tokio::test]
async fn the_rate_limit_answers_429_with_retry_after_and_refills_with_the_clock() {
    let h = harness("rate");
    let recorder = metrics_util::debugging::DebuggingRecorder::new();
    let snapshot = recorder.snapshotter();
    let _metrics = metrics::set_default_local_recorder(&recorder);
    let body = json!({"to": ["+33712345678"], "text": "hello"});
    let limited = key("key-limited");
    assert_eq!(
        send(&h, &limited, body.clone()).await.status,
        StatusCode::ACCEPTED
    );
    assert_eq!(
        send(&h, &limited, body.clone()).await.status,
        StatusCode::ACCEPTED
    );
    let a = send(&h, &limited, body.clone()).await;
    assert_eq!(a.status, StatusCode::TOO_MANY_REQUESTS, "{}", a.body);
    assert_eq!(a.headers["retry-after"], "1");
    assert_eq!(
        counter(
            &snapshot,
            "smppgw_http_rate_limited_total",
            ("client", "limited")
        ),
        1
    );
    // Another client is not held back.
    assert_eq!(
        send(&h, &alerts(), body.clone()).await.status,
        StatusCode::ACCEPTED
    );
    // Three recipients never fit in a bucket of two: a 400 that says so, not a 429 to retry.
    h.advance(60_000);
    let three = json!({"to": ["+33712345671", "+33712345672", "+33712345673"], "text": "x"});
    assert_refused(
        &send(&h, &limited, three).await,
        StatusCode::BAD_REQUEST,
        "to",
        "split the request",
    );
    // Half a second refills one message at 2 per second.
    assert_eq!(
        send(&h, &limited, body.clone()).await.status,
        StatusCode::ACCEPTED
    );
    assert_eq!(
        send(&h, &limited, body.clone()).await.status,
        StatusCode::ACCEPTED
    );
    assert_eq!(
        send(&h, &limited, body.clone()).await.status,
        StatusCode::TOO_MANY_REQUESTS
    );
    h.advance(500);
    assert_eq!(
        send(&h, &limited, body.clone()).await.status,
        StatusCode::ACCEPTED
    );
    // Exactly the accepted ones were queued.
    assert_eq!(h.claim_dest("carrier_a", 100, None).await.len(), 6);
}

/// A local HTTP server receiving callbacks.
struct Hook {
    url: String,
    /// The bodies it accepted (204).
    got: Arc<Mutex<Vec<Value>>>,
    /// Every attempt, accepted or not.
    calls: Arc<AtomicUsize>,
    /// Attempts still to be answered 500.
    failing: Arc<AtomicUsize>,
}

async fn callback_server(fail_first: usize) -> Hook {
    let got: Arc<Mutex<Vec<Value>>> = Arc::default();
    let calls = Arc::new(AtomicUsize::new(0));
    let failing = Arc::new(AtomicUsize::new(fail_first));
    let (seen, counted, failures) = (Arc::clone(&got), Arc::clone(&calls), Arc::clone(&failing));
    let app = axum::Router::new().route(
        "/hook",
        axum::routing::post(move |axum::Json(v): axum::Json<Value>| {
            let (seen, counted, failures) = (
                Arc::clone(&seen),
                Arc::clone(&counted),
                Arc::clone(&failures),
            );
            async move {
                counted.fetch_add(1, SeqCst);
                if failures
                    .fetch_update(SeqCst, SeqCst, |n| n.checked_sub(1))
                    .is_ok()
                {
                    return StatusCode::INTERNAL_SERVER_ERROR;
                }
                seen.lock().unwrap().push(v);
                StatusCode::NO_CONTENT
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/hook", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await });
    Hook {
        url,
        got,
        calls,
        failing,
    }
}

async fn wait_until(what: &str, cond: impl Fn() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(20);
    while !cond() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test]
async fn a_long_send_goes_out_as_concatenated_parts_and_its_receipts_fire_the_callbacks() {
    let h = Harness::with_config(
        "life",
        EmbeddedConfig {
            callback_retry_base: Duration::from_millis(50),
            ..send_config()
        },
    );
    // The first callback attempt fails: the callback is retried.
    let hook = callback_server(1).await;
    let got = Arc::clone(&hook.got);
    let text: String = "Serveur principal inaccessible. ".repeat(10)[..300].to_string();
    let a = send(
        &h,
        &alerts(),
        json!({"to": ["+33712345678"], "text": text, "from": "ALERTS", "callback_url": hook.url, "reference": "inc-42"}),
    )
    .await;
    assert_eq!(a.status, StatusCode::ACCEPTED, "{}", a.body);
    assert_eq!(a.body["segments"], 2);
    assert_eq!(a.body["reference"], "inc-42");
    let msgs = a.body["messages"].as_array().unwrap();
    assert_eq!(msgs.len(), 1, "one recipient is one message");
    assert_eq!(msgs[0]["to"], "+33712345678");
    assert_eq!(msgs[0]["segments"], 2);
    assert_eq!(msgs[0]["status"], "queued");
    let send_id = msgs[0]["id"].as_str().unwrap().to_string();

    let parts = h.claim_dest("carrier_a", 10, None).await;
    assert_eq!(parts.len(), 2);
    let mut reassembled = String::new();
    let mut reference = None;
    for (i, p) in parts.iter().enumerate() {
        assert_eq!(p.esm_class, 0x40, "UDHI set");
        assert_eq!(p.data_coding, 0);
        assert_eq!(p.registered_delivery, 1);
        assert_eq!(
            p.destination,
            Address {
                addr: "33712345678".into(),
                ton: 1,
                npi: 1
            }
        );
        assert_eq!(
            p.source,
            Address {
                addr: "ALERTS".into(),
                ton: 5,
                npi: 0
            }
        );
        let ud = &p.payload.0;
        assert_eq!(&ud[..3], &[0x05, 0x00, 0x03], "8-bit concatenation UDH");
        assert_eq!((ud[4], ud[5]), (2, i as u8 + 1));
        assert_eq!(
            *reference.get_or_insert(ud[3]),
            ud[3],
            "one reference for both parts"
        );
        reassembled.push_str(p.text.as_deref().unwrap());
    }
    assert_eq!(reassembled, text);
    assert_eq!(parts[0].payload.0.len(), 6 + 153);

    h.events(vec![
        submitted(&parts[0].id, "carrier_a", "c-1"),
        submitted(&parts[1].id, "carrier_a", "c-2"),
    ])
    .await;
    let rec = send_record(&h, &send_id).await;
    assert_eq!(rec.status, MessageStatus::Submitted);
    assert_eq!(rec.segments, 2);
    let last = rec.history.last().unwrap();
    assert_eq!(last.status, MessageStatus::Submitted);
    assert_eq!(last.smsc_message_ids, vec!["c-1", "c-2"]);

    // One part's receipt is not enough; both make the send delivered.
    h.hand_over(vec![receipt(
        &id(900),
        "carrier_a",
        "c-1",
        Some(2),
        "DELIVRD",
    )])
    .await;
    assert_eq!(
        send_record(&h, &send_id).await.status,
        MessageStatus::Submitted
    );
    h.hand_over(vec![receipt(
        &id(901),
        "carrier_a",
        "c-2",
        Some(2),
        "DELIVRD",
    )])
    .await;
    let rec = send_record(&h, &send_id).await;
    assert_eq!(rec.status, MessageStatus::Delivered);
    let statuses: Vec<MessageStatus> = rec.history.iter().map(|e| e.status).collect();
    assert_eq!(
        statuses,
        [
            MessageStatus::Queued,
            MessageStatus::Submitted,
            MessageStatus::Delivered
        ]
    );

    wait_until("two callbacks", || got.lock().unwrap().len() >= 2).await;
    assert_eq!(
        hook.calls.load(SeqCst),
        3,
        "the first attempt failed and was retried"
    );
    let got = got.lock().unwrap().clone();
    assert_eq!(got.len(), 2, "{got:?}");
    assert_eq!(got[0]["status"], "submitted");
    assert_eq!(got[0]["previous_status"], "queued");
    assert_eq!(got[0]["smsc_message_ids"], json!(["c-1", "c-2"]));
    assert_eq!(got[1]["status"], "delivered");
    for c in &got {
        assert_eq!(c["id"], send_id.as_str());
        assert_eq!(c["reference"], "inc-42");
        assert_eq!(c["to"], "+33712345678");
        assert_eq!(c["segments"], 2);
    }
}

#[tokio::test]
async fn a_negative_receipt_makes_the_send_undeliverable_with_the_reason() {
    let h = harness("undeliv");
    let a = send(&h, &alerts(), json!({"to": "+33712345678", "text": "down"})).await;
    assert_eq!(a.status, StatusCode::ACCEPTED, "{}", a.body);
    let send_id = a.body["messages"][0]["id"].as_str().unwrap().to_string();
    let part = h.claim_dest("carrier_a", 1, None).await.remove(0);
    h.events(vec![submitted(&part.id, "carrier_a", "u-1")])
        .await;
    h.hand_over(vec![receipt(
        &id(910),
        "carrier_a",
        "u-1",
        Some(5),
        "UNDELIV",
    )])
    .await;
    let rec = send_record(&h, &send_id).await;
    assert_eq!(rec.status, MessageStatus::Undeliverable);
    assert!(
        rec.reason.as_deref().unwrap().contains("UNDELIV"),
        "{:?}",
        rec.reason
    );
    // Another client cannot read it.
    let a = call(
        &h,
        Method::GET,
        &format!("/api/v1/send/{send_id}"),
        &key("key-limited"),
        None,
    )
    .await;
    assert_eq!(a.status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn a_pinned_client_goes_through_its_bind_whatever_the_routes() {
    let h = harness("pinned");
    let a = send(
        &h,
        &key("key-pinned"),
        json!({"to": ["+33712345678"], "text": "x"}),
    )
    .await;
    assert_eq!(a.status, StatusCode::ACCEPTED, "{}", a.body);
    assert!(h.claim_dest("carrier_a", 10, None).await.is_empty());
    assert_eq!(h.claim_dest("carrier_c", 10, None).await.len(), 1);
    // An unpinned client names a bind itself.
    let a = send(
        &h,
        &alerts(),
        json!({"to": ["+33712345678"], "text": "x", "dest_smsc": "carrier_b"}),
    )
    .await;
    assert_eq!(a.status, StatusCode::ACCEPTED, "{}", a.body);
    assert_eq!(h.claim_dest("carrier_b", 10, None).await.len(), 1);
    // A bind made known at run time can be named.
    let body = json!({"to": ["+33712345678"], "text": "x", "dest_smsc": "carrier_new"});
    assert_eq!(
        send(&h, &alerts(), body.clone()).await.status,
        StatusCode::BAD_REQUEST
    );
    h.core.set_known_dest_smsc(vec!["carrier_new".into()]);
    assert_eq!(send(&h, &alerts(), body).await.status, StatusCode::ACCEPTED);
}

#[tokio::test]
async fn replaced_clients_take_effect_and_bad_ones_are_refused() {
    let h = harness("reload");
    let body = json!({"to": ["+33712345678"], "text": "x"});
    let mut next = clients();
    next[0].password = Some("n3w".into());
    h.core.set_api_clients(next).unwrap();
    assert_eq!(
        send(&h, &alerts(), body.clone()).await.status,
        StatusCode::UNAUTHORIZED
    );
    let fresh = vec![("authorization", basic("alerts", "n3w"))];
    assert_eq!(
        send(&h, &fresh, body.clone()).await.status,
        StatusCode::ACCEPTED
    );
    let mut bad = clients();
    bad[1].api_key = Some("key-alerts".into());
    let err = h.core.set_api_clients(bad).unwrap_err();
    assert_eq!(err.field, "api_clients[1].api_key");
    assert_eq!(
        send(&h, &fresh, body).await.status,
        StatusCode::ACCEPTED,
        "the old list stays"
    );
}

// ----- Android SMS gateway compatible ----------------------------------------------------------

#[tokio::test]
async fn seed_000_request_is_answered_in_the_android_api_shape() {
    let h = harness("android");
    // Seed 000's troubleshooting `curl`: message + phoneNumbers, HTTP Basic.
    let a = call(
        &h,
        Method::POST,
        "/3rdparty/v1/message",
        &alerts(),
        Some(json!({"message": "Test", "phoneNumbers": ["+4366012345678"]})),
    )
    .await;
    assert_eq!(a.status, StatusCode::ACCEPTED, "{}", a.body);
    let msg_id = a.body["id"].as_str().unwrap().to_string();
    assert_eq!(
        a.headers["location"],
        format!("/3rdparty/v1/message/{msg_id}").as_str()
    );
    assert_eq!(a.body["state"], "Pending");
    assert_eq!(a.body["isHashed"], false);
    assert_eq!(a.body["isEncrypted"], false);
    assert_eq!(
        a.body["recipients"],
        json!([{"phoneNumber": "+4366012345678", "state": "Pending"}])
    );
    assert!(a.body["states"]["Pending"].as_str().unwrap().ends_with('Z'));
    assert!(a.body["deviceId"].is_string() && a.body["createdAt"].is_string());

    // The carrier accepts it, then delivers it: Sent, then Delivered.
    let m = h.claim_dest("carrier_a", 1, None).await.remove(0);
    assert_eq!(m.text.as_deref(), Some("Test"));
    assert_eq!(m.destination.addr, "4366012345678");
    h.events(vec![submitted(&m.id, "carrier_a", "a-1")]).await;
    for path in [
        format!("/3rdparty/v1/message/{msg_id}"),
        format!("/3rdparty/v1/messages/{msg_id}"),
    ] {
        let a = call(&h, Method::GET, &path, &alerts(), None).await;
        assert_eq!(a.status, StatusCode::OK, "{}", a.body);
        assert_eq!(a.body["state"], "Sent");
        assert_eq!(a.body["recipients"][0]["state"], "Sent");
    }
    h.hand_over(vec![receipt(
        &id(920),
        "carrier_a",
        "a-1",
        Some(2),
        "DELIVRD",
    )])
    .await;
    let a = call(
        &h,
        Method::GET,
        &format!("/3rdparty/v1/message/{msg_id}"),
        &alerts(),
        None,
    )
    .await;
    assert_eq!(a.body["state"], "Delivered");
    let states = a.body["states"].as_object().unwrap();
    assert!(
        ["Pending", "Sent", "Delivered"]
            .iter()
            .all(|s| states.contains_key(*s)),
        "{states:?}"
    );

    // Seed 000's connection check: GET the list with the same credentials.
    let a = call(&h, Method::GET, "/3rdparty/v1/message", &alerts(), None).await;
    assert_eq!(a.status, StatusCode::OK);
    assert_eq!(a.headers["x-total-count"], "1");
    assert_eq!(a.body[0]["id"], msg_id.as_str());
    // Unknown ids and other clients' messages are 404 in that API's shape.
    let a = call(
        &h,
        Method::GET,
        &format!("/3rdparty/v1/message/{msg_id}"),
        &key("key-limited"),
        None,
    )
    .await;
    assert_eq!(a.status, StatusCode::NOT_FOUND);
    assert!(a.body["message"].is_string());
}

#[tokio::test]
async fn android_requests_are_checked_like_that_api_does() {
    let h = harness("android-input");
    let post = |body: Value| {
        let h = &h;
        async move {
            call(
                h,
                Method::POST,
                "/3rdparty/v1/messages",
                &alerts(),
                Some(body),
            )
            .await
        }
    };
    let a = post(json!({"message": "x", "phoneNumbers": ["+43660", "43660123"]})).await;
    assert_refused(&a, StatusCode::BAD_REQUEST, "phoneNumbers[1]", "43660123");
    assert!(
        a.body.get("error").is_none(),
        "that API's shape: {}",
        a.body
    );
    for (body, field) in [
        (json!({"phoneNumbers": ["+4366012345678"]}), "message"),
        (
            json!({"message": "", "phoneNumbers": ["+4366012345678"]}),
            "message",
        ),
        (json!({"message": "x"}), "phoneNumbers"),
        (
            json!({"message": "x", "textMessage": {"text": "y"}, "phoneNumbers": ["+4366012345678"]}),
            "textMessage",
        ),
        (
            json!({"dataMessage": {"data": "AA==", "port": 1}, "phoneNumbers": ["+4366012345678"]}),
            "dataMessage",
        ),
        (
            json!({"message": "x", "phoneNumbers": ["+4366012345678"], "isEncrypted": true}),
            "isEncrypted",
        ),
        (
            json!({"message": "x", "phoneNumbers": ["+4366012345678"], "ttl": 60, "validUntil": "2099-01-01T00:00:00Z"}),
            "validUntil",
        ),
        (
            json!({"message": "x", "phoneNumbers": ["+4366012345678"], "scheduleAt": "2001-01-01T00:00:00Z"}),
            "scheduleAt",
        ),
        (
            json!({"message": "x".repeat(153 * 10 + 1), "phoneNumbers": ["+4366012345678"]}),
            "message",
        ),
    ] {
        let a = post(body.clone()).await;
        assert_eq!(a.status, StatusCode::BAD_REQUEST, "{body}: {}", a.body);
        assert_eq!(a.body["field"], field, "{body}: {}", a.body);
    }
    assert!(h.claim_dest("carrier_a", 10, None).await.is_empty());

    // A chosen id is kept; used again it is 409, as on that API.
    let body = json!({"id": "order-1234", "textMessage": {"text": "y"}, "phoneNumbers": ["+4366012345678"]});
    let a = post(body.clone()).await;
    assert_eq!(a.status, StatusCode::ACCEPTED, "{}", a.body);
    assert_eq!(a.body["id"], "order-1234");
    assert_eq!(a.headers["location"], "/3rdparty/v1/messages/order-1234");
    let a = post(body).await;
    assert_eq!(a.status, StatusCode::CONFLICT, "{}", a.body);
    assert!(a.body["message"]
        .as_str()
        .unwrap()
        .contains("already exists"));
    assert_eq!(
        h.claim_dest("carrier_a", 10, None).await.len(),
        1,
        "stored once"
    );
}

#[tokio::test]
async fn android_options_map_onto_smpp() {
    let h = harness("android-options");
    let post = |body: Value| {
        let h = &h;
        async move {
            call(
                h,
                Method::POST,
                "/3rdparty/v1/message",
                &alerts(),
                Some(body),
            )
            .await
        }
    };
    // Apprise's json:// body: title + message, phoneNumbers as one string, extra members.
    let a = post(json!({"version": "1.0", "title": "Serveur DOWN", "message": "Serveur principal inaccessible",
                        "attachments": [], "type": "info", "phoneNumbers": "+4366012345678,+4366012345679"})).await;
    assert_eq!(a.status, StatusCode::ACCEPTED, "{}", a.body);
    assert_eq!(a.body["recipients"].as_array().unwrap().len(), 2);
    let got = h.claim_dest("carrier_a", 10, None).await;
    assert_eq!(got.len(), 2);
    assert!(got
        .iter()
        .all(|m| m.text.as_deref() == Some("Serveur DOWN: Serveur principal inaccessible")));
    let done: Vec<Event> = got
        .iter()
        .enumerate()
        .map(|(i, m)| submitted(&m.id, "carrier_a", &format!("ap-{i}")))
        .collect();
    h.events(done).await;

    // No delivery report asked: registered_delivery 0. A ttl: a relative validity period.
    let a = post(json!({"message": "x", "phoneNumbers": ["+4366012345678"], "withDeliveryReport": false, "ttl": 3600})).await;
    assert_eq!(a.status, StatusCode::ACCEPTED, "{}", a.body);
    let m = h.claim_dest("carrier_a", 10, None).await.remove(0);
    assert_eq!(m.registered_delivery, 0);
    assert_eq!(m.validity_period, "000000010000000R");
    h.events(vec![submitted(&m.id, "carrier_a", "ttl-1")]).await;

    // Scheduled: not claimable before its time.
    let at = T0 + 120_000;
    let when = time::OffsetDateTime::from_unix_timestamp((at / 1000) as i64)
        .unwrap()
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap();
    let a =
        post(json!({"message": "later", "phoneNumbers": ["+4366012345678"], "scheduleAt": when}))
            .await;
    assert_eq!(a.status, StatusCode::ACCEPTED, "{}", a.body);
    assert!(h.claim_dest("carrier_a", 10, None).await.is_empty());
    h.advance(120_000);
    assert_eq!(
        h.claim_dest("carrier_a", 10, None).await[0].text.as_deref(),
        Some("later")
    );

    // A permanent failure: Failed, with the error on the recipient.
    let a = post(json!({"message": "y", "phoneNumbers": ["+4366012345678"]})).await;
    let id = a.body["id"].as_str().unwrap().to_string();
    let m = h.claim_dest("carrier_a", 10, None).await.remove(0);
    h.events(vec![failed(&m.id, "carrier_a", 0x0B, false)])
        .await;
    let a = call(
        &h,
        Method::GET,
        &format!("/3rdparty/v1/messages/{id}"),
        &alerts(),
        None,
    )
    .await;
    assert_eq!(a.body["state"], "Failed", "{}", a.body);
    assert!(a.body["recipients"][0]["error"].is_string(), "{}", a.body);

    // The list pages newest first, filters by state, counts all.
    let a = call(
        &h,
        Method::GET,
        "/3rdparty/v1/messages?limit=2&offset=0",
        &alerts(),
        None,
    )
    .await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.body);
    assert_eq!(a.headers["x-total-count"], "4");
    assert_eq!(a.body.as_array().unwrap().len(), 2);
    let a = call(
        &h,
        Method::GET,
        "/3rdparty/v1/messages?state=Failed",
        &alerts(),
        None,
    )
    .await;
    assert_eq!(a.body.as_array().unwrap().len(), 1);
    assert_eq!(a.body[0]["id"], id.as_str());
    let a = call(
        &h,
        Method::GET,
        "/3rdparty/v1/messages?limit=1000",
        &alerts(),
        None,
    )
    .await;
    assert_eq!(a.status, StatusCode::BAD_REQUEST);
    assert_eq!(a.body["field"], "limit");
}

#[tokio::test]
async fn a_callback_not_yet_delivered_goes_out_after_a_restart() {
    let dir = TempDir::new("callback-restart");
    let clock = Arc::new(embedded_core::ManualClock::new(T0));
    let cfg = || EmbeddedConfig {
        callback_retry_base: Duration::from_secs(3600),
        ..send_config()
    };
    let hook = callback_server(usize::MAX).await;
    let first =
        embedded_core::EmbeddedCore::open_with_clock(dir.path(), cfg(), clock.clone()).unwrap();
    let h = Harness {
        core: first,
        clock: clock.clone(),
        dir: TempDir::new("unused"),
    };
    let a = send(
        &h,
        &alerts(),
        json!({"to": ["+33712345678"], "text": "x", "callback_url": hook.url}),
    )
    .await;
    let send_id = a.body["messages"][0]["id"].as_str().unwrap().to_string();
    let part = h.claim_dest("carrier_a", 1, None).await.remove(0);
    h.events(vec![submitted(&part.id, "carrier_a", "r-1")])
        .await;
    wait_until("the first, failing attempt", || {
        hook.calls.load(SeqCst) >= 1
    })
    .await;
    drop(h);

    hook.failing.store(0, SeqCst);
    let second = embedded_core::EmbeddedCore::open_with_clock(dir.path(), cfg(), clock).unwrap();
    let _router = second.router();
    wait_until("the callback after the restart", || {
        !hook.got.lock().unwrap().is_empty()
    })
    .await;
    let got = hook.got.lock().unwrap().clone();
    assert_eq!(got.len(), 1, "{got:?}");
    assert_eq!(got[0]["id"], send_id.as_str());
    assert_eq!(got[0]["status"], "submitted");
}

#[tokio::test]
async fn a_client_callback_url_reports_the_android_requests_that_cannot_name_one() {
    let hook = callback_server(0).await;
    let mut cfg = send_config();
    cfg.api_clients.push(ApiClient {
        name: "hub".into(),
        username: Some("hub".into()),
        password: Some("hub-pw".into()),
        callback_url: Some(hook.url.clone()),
        ..ApiClient::default()
    });
    let h = Harness::with_config("client-callback", cfg);
    let auth = vec![("authorization", basic("hub", "hub-pw"))];
    let a = call(
        &h,
        Method::POST,
        "/3rdparty/v1/message",
        &auth,
        Some(json!({"message": "Test", "phoneNumbers": ["+4366012345678"]})),
    )
    .await;
    assert_eq!(a.status, StatusCode::ACCEPTED, "{}", a.body);
    let batch = a.body["id"].as_str().unwrap().to_string();
    let m = h.claim_dest("carrier_a", 1, None).await.remove(0);
    h.events(vec![submitted(&m.id, "carrier_a", "h-1")]).await;
    h.hand_over(vec![receipt(
        &id(930),
        "carrier_a",
        "h-1",
        Some(2),
        "DELIVRD",
    )])
    .await;
    wait_until("two callbacks", || hook.got.lock().unwrap().len() >= 2).await;
    let got = hook.got.lock().unwrap().clone();
    assert_eq!(
        got.iter()
            .map(|c| c["status"].as_str().unwrap())
            .collect::<Vec<_>>(),
        ["submitted", "delivered"]
    );
    assert!(got
        .iter()
        .all(|c| c["batch_id"] == batch.as_str() && c["to"] == "+4366012345678"));
    // Clients without one get none: the alerts client's sends queue no callback.
    let a = send(&h, &alerts(), json!({"to": ["+33712345678"], "text": "x"})).await;
    let send_id = a.body["messages"][0]["id"].as_str().unwrap().to_string();
    assert!(send_record(&h, &send_id).await.callback_url.is_none());
}
