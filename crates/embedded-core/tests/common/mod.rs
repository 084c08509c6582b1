//! Helpers of the embedded core's tests: a core on a temporary directory with a manual clock,
//! one-shot HTTP calls through its router, and message builders.
#![allow(dead_code, unreachable_pub)]

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use axum::body::Body;
use axum::http::{Method, Request, StatusCode};
use core_bridge::api::*;
use embedded_core::{EmbeddedConfig, EmbeddedCore, ManualClock, MessageRecord, MoRoute, Route};
use http_body_util::BodyExt as _;
use serde_json::Value;
use tower::ServiceExt as _;

/// The manual clock's start: 2023-11-14 22:13:20 UTC.
pub const T0: u64 = 1_700_000_000_000;

/// A directory removed on drop.
pub struct TempDir(pub PathBuf);

impl TempDir {
    pub fn new(name: &str) -> TempDir {
        let dir = std::env::temp_dir().join(format!("embedded-core-{name}-{}", ulid::Ulid::new()));
        TempDir(dir)
    }

    pub fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Routes of every test: MT `33` → `carrier_a`, `336` → `carrier_b`; MO `700` → `partner_mo`,
/// `70` → `partner_other`.
pub fn config() -> EmbeddedConfig {
    EmbeddedConfig {
        routes: vec![
            Route {
                prefix: "33".into(),
                dest_smsc: "carrier_a".into(),
            },
            Route {
                prefix: "336".into(),
                dest_smsc: "carrier_b".into(),
            },
        ],
        mo_routes: vec![
            MoRoute {
                prefix: "700".into(),
                source_smsc: "partner_mo".into(),
            },
            MoRoute {
                prefix: "70".into(),
                source_smsc: "partner_other".into(),
            },
        ],
        ..EmbeddedConfig::default()
    }
}

/// A core on its own directory with a manual clock at [`T0`].
pub struct Harness {
    pub core: EmbeddedCore,
    pub clock: Arc<ManualClock>,
    pub dir: TempDir,
}

impl Harness {
    pub fn new(name: &str) -> Harness {
        Harness::with_config(name, config())
    }

    pub fn with_config(name: &str, cfg: EmbeddedConfig) -> Harness {
        let dir = TempDir::new(name);
        let clock = Arc::new(ManualClock::new(T0));
        let core = EmbeddedCore::open_with_clock(dir.path(), cfg, clock.clone()).expect("open");
        Harness { core, clock, dir }
    }

    pub fn advance(&self, ms: u64) {
        self.clock.advance(Duration::from_millis(ms));
    }

    /// One call through the router: the status and the JSON body (`Null` when empty).
    pub async fn call(
        &self,
        method: Method,
        path: &str,
        body: Option<Value>,
    ) -> (StatusCode, Value) {
        call_raw(&self.core, method, path, body.map(|b| b.to_string())).await
    }

    pub async fn get(&self, path: &str) -> (StatusCode, Value) {
        self.call(Method::GET, path, None).await
    }

    pub async fn post(&self, path: &str, body: Value) -> (StatusCode, Value) {
        self.call(Method::POST, path, Some(body)).await
    }

    /// Hands messages over; asserts a 200 and returns the answers.
    pub async fn hand_over(&self, messages: Vec<InboundMessage>) -> AcceptedBatch {
        let (st, v) = self
            .post(
                PATH_MESSAGES,
                serde_json::to_value(InboundBatch { messages }).unwrap(),
            )
            .await;
        assert_eq!(st, StatusCode::OK, "{v}");
        serde_json::from_value(v).unwrap()
    }

    /// Claims from a client bind's queue; asserts a 200.
    pub async fn claim_dest(
        &self,
        bind: &str,
        limit: u32,
        lease_seconds: Option<u32>,
    ) -> Vec<OutboundMessage> {
        self.claim(ClaimRequest {
            frontend: "host_gw".into(),
            dest_smsc: Some(bind.into()),
            source_smsc: None,
            limit,
            lease_seconds,
            wait_ms: None,
        })
        .await
    }

    /// Claims from a server bind's queue; asserts a 200.
    pub async fn claim_source(&self, bind: &str, limit: u32) -> Vec<OutboundMessage> {
        self.claim(ClaimRequest {
            frontend: "host_gw".into(),
            dest_smsc: None,
            source_smsc: Some(bind.into()),
            limit,
            lease_seconds: None,
            wait_ms: None,
        })
        .await
    }

    pub async fn claim(&self, req: ClaimRequest) -> Vec<OutboundMessage> {
        let (st, v) = self
            .post(PATH_CLAIM, serde_json::to_value(req).unwrap())
            .await;
        assert_eq!(st, StatusCode::OK, "{v}");
        serde_json::from_value::<ClaimResponse>(v).unwrap().messages
    }

    /// Posts events as a batch; asserts a 200.
    pub async fn events(&self, events: Vec<Event>) {
        let (st, v) = self
            .post(
                PATH_EVENTS,
                serde_json::to_value(EventBatch { events }).unwrap(),
            )
            .await;
        assert_eq!(st, StatusCode::OK, "{v}");
    }

    /// The stored record; panics if unknown.
    pub async fn record(&self, id: &str) -> MessageRecord {
        let (st, v) = self.get(&format!("/api/v1/messages/{id}")).await;
        assert_eq!(st, StatusCode::OK, "{v}");
        serde_json::from_value(v).unwrap()
    }
}

pub async fn call_raw(
    core: &EmbeddedCore,
    method: Method,
    path: &str,
    body: Option<String>,
) -> (StatusCode, Value) {
    let req = Request::builder()
        .method(method)
        .uri(path)
        .header("content-type", "application/json")
        .body(body.map(Body::from).unwrap_or_else(Body::empty))
        .unwrap();
    let resp = core.router().oneshot(req).await.unwrap();
    let status = resp.status();
    let bytes = resp.into_body().collect().await.unwrap().to_bytes();
    let v = if bytes.is_empty() {
        Value::Null
    } else {
        serde_json::from_slice(&bytes)
            .unwrap_or(Value::String(String::from_utf8_lossy(&bytes).into_owned()))
    };
    (status, v)
}

/// A ULID-shaped id that sorts by `n` (same timestamp, counter in the random part).
pub fn id(n: u64) -> String {
    ulid::Ulid::from_parts(T0, u128::from(n)).to_string()
}

/// An MT from partner bind `partner_1` (`ACME`, alphanumeric) to `dest` (international).
pub fn mt(id: &str, dest: &str, registered_delivery: u8, text: &str) -> InboundMessage {
    InboundMessage {
        id: id.into(),
        direction: Direction::Mt,
        bind_name: "partner_1".into(),
        bind_mode: BindMode::Server,
        system_id: "acme".into(),
        frontend: "host_partner_1".into(),
        service_type: String::new(),
        source: Address {
            addr: "ACME".into(),
            ton: 5,
            npi: 0,
        },
        destination: Address {
            addr: dest.into(),
            ton: 1,
            npi: 1,
        },
        esm_class: 0,
        protocol_id: 0,
        priority_flag: 0,
        schedule_delivery_time: String::new(),
        validity_period: String::new(),
        registered_delivery,
        data_coding: 0,
        text: Some(text.into()),
        payload: Base64Bytes(text.as_bytes().to_vec()),
        tlvs: vec![],
        receipt: None,
        segment: None,
        // 2024-02-29 23:59:30 UTC
        received_at_ms: 1_709_251_170_000,
    }
}

/// An MO from carrier bind `carrier_a` to `dest`.
pub fn mo(id: &str, dest: &str, data_coding: u8, payload: &[u8]) -> InboundMessage {
    InboundMessage {
        direction: Direction::Mo,
        bind_name: "carrier_a".into(),
        bind_mode: BindMode::Client,
        system_id: "carrier".into(),
        frontend: "host_carrier_a".into(),
        source: Address {
            addr: "33699887766".into(),
            ton: 1,
            npi: 1,
        },
        destination: Address {
            addr: dest.into(),
            ton: 0,
            npi: 1,
        },
        data_coding,
        text: None,
        payload: Base64Bytes(payload.to_vec()),
        ..mt(id, dest, 0, "")
    }
}

/// A carrier receipt on client bind `bind` about carrier id `carrier_id`.
pub fn receipt(
    id: &str,
    bind: &str,
    carrier_id: &str,
    state: Option<u8>,
    stat: &str,
) -> InboundMessage {
    let text = format!("id:{carrier_id} sub:001 dlvrd:001 submit date:2402292359 done date:2403010001 stat:{stat} err:000 text:");
    InboundMessage {
        direction: Direction::Receipt,
        bind_name: bind.into(),
        bind_mode: BindMode::Client,
        system_id: "carrier".into(),
        frontend: format!("host_{bind}"),
        source: Address {
            addr: "33612345678".into(),
            ton: 1,
            npi: 1,
        },
        destination: Address {
            addr: "ACME".into(),
            ton: 5,
            npi: 0,
        },
        esm_class: 0x04,
        text: Some(text.clone()),
        payload: Base64Bytes(text.into_bytes()),
        receipt: Some(ReceiptInfo {
            receipted_message_id: carrier_id.into(),
            message_state: state,
            stat: Some(stat.into()),
            err: Some("000".into()),
            submit_date: Some("2402292359".into()),
            done_date: Some("2403010001".into()),
        }),
        ..mt(id, "ACME", 0, "")
    }
}

pub fn event(message_id: &str, bind: &str, kind: EventKind) -> Event {
    Event {
        message_id: message_id.into(),
        frontend: "host_gw".into(),
        bind_name: bind.into(),
        kind,
        at_ms: T0,
    }
}

pub fn submitted(message_id: &str, bind: &str, smsc_id: &str) -> Event {
    event(
        message_id,
        bind,
        EventKind::Submitted {
            smsc_message_id: smsc_id.into(),
        },
    )
}

pub fn failed(message_id: &str, bind: &str, command_status: u32, retryable: bool) -> Event {
    event(
        message_id,
        bind,
        EventKind::Failed {
            command_status,
            retryable,
            reason: "test".into(),
        },
    )
}

/// The TLV `tag` of `m`, if present.
pub fn tlv(m: &OutboundMessage, tag: u16) -> Option<Vec<u8>> {
    m.tlvs
        .iter()
        .find(|t| t.tag == tag)
        .map(|t| t.value.0.clone())
}
