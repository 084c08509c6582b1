//! The REST client of the messaging core API.
//!
//! One [`CoreClient`] is shared by every bind (it is cheap to clone: it holds a connection pool).
//! Every call has a timeout; a call that fails says whether trying again may help
//! ([`CoreError::is_retryable`]), which is how the gateway decides between a temporary SMPP
//! error (`ESME_RX_T_APPN`, `ESME_RSYSERR`) and a permanent one.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use serde::de::DeserializeOwned;
use serde::Serialize;

use crate::api::*;

/// Why a call to the core failed.
#[derive(Debug, thiserror::Error)]
pub enum CoreError {
    /// The core could not be reached (refused, reset, DNS, TLS) or did not answer in time.
    #[error("api: core unreachable at {url}: {reason}")]
    Unreachable {
        /// The URL called.
        url: String,
        /// What the transport said.
        reason: String,
    },
    /// The core answered with an HTTP error status.
    #[error("api: http {status} from {url}: {body}")]
    Status {
        /// The URL called.
        url: String,
        /// HTTP status code.
        status: u16,
        /// The answer's body, cut to 512 characters.
        body: String,
    },
    /// The core answered 2xx with a body that is not the expected JSON.
    #[error("api: parse error from {url}: {reason}")]
    Decode {
        /// The URL called.
        url: String,
        /// What was wrong with the body.
        reason: String,
    },
}

impl CoreError {
    /// True when the same call may succeed later: transport errors, timeouts, 5xx, 408 and 429.
    /// A 4xx other than those means the request itself is wrong and will be refused again.
    pub fn is_retryable(&self) -> bool {
        match self {
            CoreError::Unreachable { .. } | CoreError::Decode { .. } => true,
            CoreError::Status { status, .. } => *status >= 500 || *status == 408 || *status == 429,
        }
    }
}

/// A boxed future of an [`InProcessCore`] call.
pub type CoreFuture<'a, T> = Pin<Box<dyn Future<Output = Result<T, CoreError>> + Send + 'a>>;

/// A core that lives in this process (the embedded core, `api_base_url = "embedded"`), called
/// directly: the same operations and the same answers as over HTTP (`docs/core-api.yaml`),
/// without the HTTP request, the JSON encoding and the loopback socket. Errors are the ones
/// the HTTP API would answer, as [`CoreError::Status`] with its status code and JSON body, so
/// [`CoreError::is_retryable`] decides the same way on both paths.
pub trait InProcessCore: Send + Sync + std::fmt::Debug + 'static {
    /// `POST /api/v1/messages`.
    fn post_messages(&self, messages: Vec<InboundMessage>) -> CoreFuture<'_, AcceptedBatch>;
    /// `POST /api/v1/queue/claim`.
    fn claim(&self, req: ClaimRequest) -> CoreFuture<'_, ClaimResponse>;
    /// `POST /api/v1/events`.
    fn post_events(&self, events: Vec<Event>) -> CoreFuture<'_, Ack>;
    /// `POST /api/v1/frontends/register`.
    fn register(&self, reg: FrontendRegistration) -> CoreFuture<'_, Ack>;
}

/// Client of one messaging core, addressed by `api_base_url`, or of the embedded core in
/// this process ([`CoreClient::in_process`]).
#[derive(Clone, Debug)]
pub struct CoreClient {
    base: String,
    http: reqwest::Client,
    local: Option<Arc<dyn InProcessCore>>,
    timeout: Duration,
}

impl CoreClient {
    /// A client for `base_url` (e.g. `https://core.example.com:8443`; a trailing `/` is
    /// ignored). `verify_ssl_peer = false` accepts any certificate, as the seed's
    /// `verify_ssl_peer` says. `timeout` bounds every call.
    pub fn new(
        base_url: &str,
        verify_ssl_peer: bool,
        timeout: Duration,
    ) -> Result<Self, CoreError> {
        let http = reqwest::Client::builder()
            .timeout(timeout)
            .connect_timeout(timeout.min(Duration::from_secs(5)))
            .pool_max_idle_per_host(64)
            .tcp_nodelay(true)
            .danger_accept_invalid_certs(!verify_ssl_peer)
            .build()
            .map_err(|e| CoreError::Unreachable {
                url: base_url.to_string(),
                reason: e.to_string(),
            })?;
        Ok(CoreClient {
            base: base_url.trim_end_matches('/').to_string(),
            http,
            local: None,
            timeout,
        })
    }

    /// A client whose calls go to `core` directly. `base_url` is where the same core also
    /// answers over HTTP (shown in status and logs; [`health`](Self::health) still asks
    /// there, so a probe sees what external frontends see).
    pub fn in_process(
        base_url: &str,
        core: Arc<dyn InProcessCore>,
        timeout: Duration,
    ) -> Result<Self, CoreError> {
        let mut c = CoreClient::new(base_url, true, timeout)?;
        c.local = Some(core);
        Ok(c)
    }

    /// True when calls go to a core in this process rather than over HTTP.
    pub fn is_in_process(&self) -> bool {
        self.local.is_some()
    }

    /// The base URL this client calls.
    pub fn base_url(&self) -> &str {
        &self.base
    }

    /// Hand messages to the core (`POST /api/v1/messages`). Returns one [`Accepted`] per
    /// message; a duplicate id is a success.
    pub async fn post_messages(
        &self,
        messages: Vec<InboundMessage>,
    ) -> Result<AcceptedBatch, CoreError> {
        if let Some(core) = &self.local {
            return self
                .bounded(PATH_MESSAGES, core.post_messages(messages))
                .await;
        }
        self.post(PATH_MESSAGES, &InboundBatch { messages }).await
    }

    /// Lease messages to send (`POST /api/v1/queue/claim`).
    pub async fn claim(&self, req: &ClaimRequest) -> Result<ClaimResponse, CoreError> {
        if let Some(core) = &self.local {
            return self.bounded(PATH_CLAIM, core.claim(req.clone())).await;
        }
        self.post(PATH_CLAIM, req).await
    }

    /// Report events (`POST /api/v1/events`).
    pub async fn post_events(&self, events: Vec<Event>) -> Result<Ack, CoreError> {
        if let Some(core) = &self.local {
            return self.bounded(PATH_EVENTS, core.post_events(events)).await;
        }
        self.post(PATH_EVENTS, &EventBatch { events }).await
    }

    /// Register or heartbeat one frontend (`POST /api/v1/frontends/register`).
    pub async fn register(&self, reg: &FrontendRegistration) -> Result<Ack, CoreError> {
        if let Some(core) = &self.local {
            return self
                .bounded(PATH_REGISTER, core.register(reg.clone()))
                .await;
        }
        self.post(PATH_REGISTER, reg).await
    }

    /// Liveness of the core (`GET /api/v1/system/health`).
    pub async fn health(&self) -> Result<Health, CoreError> {
        let url = format!("{}{}", self.base, PATH_HEALTH);
        let resp = self
            .http
            .get(&url)
            .send()
            .await
            .map_err(|e| transport(&url, e))?;
        read_json(&url, resp).await
    }

    /// An in-process call, bounded by the same timeout as an HTTP one.
    async fn bounded<T>(&self, path: &str, call: CoreFuture<'_, T>) -> Result<T, CoreError> {
        match tokio::time::timeout(self.timeout, call).await {
            Ok(r) => r,
            Err(_) => Err(CoreError::Unreachable {
                url: format!("{}{}", self.base, path),
                reason: "timeout".into(),
            }),
        }
    }

    async fn post<B: Serialize + ?Sized, R: DeserializeOwned>(
        &self,
        path: &str,
        body: &B,
    ) -> Result<R, CoreError> {
        let url = format!("{}{}", self.base, path);
        let resp = self
            .http
            .post(&url)
            .json(body)
            .send()
            .await
            .map_err(|e| transport(&url, e))?;
        read_json(&url, resp).await
    }
}

/// The most of an error answer's body kept in [`CoreError::Status`], bytes.
pub const ERROR_BODY_MAX: usize = 512;

/// `body` cut to at most [`ERROR_BODY_MAX`] bytes, on a character boundary (a cut inside a
/// multi-byte character would panic in `String::truncate`).
pub fn cut_error_body(mut body: String) -> String {
    let mut end = body.len().min(ERROR_BODY_MAX);
    while !body.is_char_boundary(end) {
        end -= 1;
    }
    body.truncate(end);
    body
}

fn transport(url: &str, e: reqwest::Error) -> CoreError {
    let reason = if e.is_timeout() {
        "timeout".to_string()
    } else if e.is_connect() {
        format!("connection refused or failed ({e})")
    } else {
        e.to_string()
    };
    CoreError::Unreachable {
        url: url.to_string(),
        reason,
    }
}

async fn read_json<R: DeserializeOwned>(
    url: &str,
    resp: reqwest::Response,
) -> Result<R, CoreError> {
    let status = resp.status();
    let bytes = resp.bytes().await.map_err(|e| transport(url, e))?;
    if !status.is_success() {
        return Err(CoreError::Status {
            url: url.to_string(),
            status: status.as_u16(),
            body: cut_error_body(String::from_utf8_lossy(&bytes).into_owned()),
        });
    }
    serde_json::from_slice(&bytes).map_err(|e| CoreError::Decode {
        url: url.to_string(),
        reason: e.to_string(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_bodies_are_cut_on_a_character_boundary() {
        // 511 ASCII bytes then "é" (2 bytes): byte 512 is inside it.
        let body = format!("{}é and more", "x".repeat(511));
        let cut = cut_error_body(body);
        assert_eq!(cut.len(), 511);
        assert!(cut.chars().all(|c| c == 'x'));
        assert_eq!(cut_error_body("short".into()), "short");
        assert_eq!(cut_error_body("é".repeat(400)).len(), 512);
    }

    #[test]
    fn retryable_classification() {
        let st = |status| CoreError::Status {
            url: "u".into(),
            status,
            body: String::new(),
        };
        assert!(st(503).is_retryable());
        assert!(st(429).is_retryable());
        assert!(!st(400).is_retryable());
        assert!(!st(422).is_retryable());
        assert!(CoreError::Unreachable {
            url: "u".into(),
            reason: "x".into()
        }
        .is_retryable());
    }

    #[tokio::test]
    async fn unreachable_core_is_a_retryable_error() {
        // Port 9 on loopback: nothing listens there in the test environment.
        let c = CoreClient::new("http://127.0.0.1:9/", true, Duration::from_secs(2)).unwrap();
        let err = c.health().await.unwrap_err();
        assert!(matches!(err, CoreError::Unreachable { .. }), "{err}");
        assert!(err.is_retryable());
    }

    #[tokio::test]
    async fn posts_json_and_reads_the_answer() {
        use axum::{routing::post, Json, Router};
        let app = Router::new().route(
            PATH_MESSAGES,
            post(|Json(b): Json<InboundBatch>| async move {
                Json(AcceptedBatch {
                    accepted: b
                        .messages
                        .iter()
                        .map(|m| Accepted {
                            id: m.id.clone(),
                            status: AcceptStatus::Stored,
                        })
                        .collect(),
                })
            }),
        );
        let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = l.local_addr().unwrap();
        tokio::spawn(async move { axum::serve(l, app).await.unwrap() });
        let c = CoreClient::new(&format!("http://{addr}"), true, Duration::from_secs(2)).unwrap();
        let msg = InboundMessage {
            id: new_message_id(),
            direction: Direction::Mt,
            bind_name: "p".into(),
            bind_mode: BindMode::Server,
            system_id: "s".into(),
            frontend: "h_p".into(),
            service_type: String::new(),
            source: Address {
                addr: "A".into(),
                ton: 5,
                npi: 0,
            },
            destination: Address {
                addr: "336".into(),
                ton: 1,
                npi: 1,
            },
            esm_class: 0,
            protocol_id: 0,
            priority_flag: 0,
            schedule_delivery_time: String::new(),
            validity_period: String::new(),
            registered_delivery: 1,
            data_coding: 0,
            text: Some("hi".into()),
            payload: Base64Bytes(b"hi".to_vec()),
            tlvs: vec![],
            receipt: None,
            segment: None,
            received_at_ms: now_ms(),
        };
        let ans = c.post_messages(vec![msg.clone()]).await.unwrap();
        assert_eq!(
            ans.accepted,
            vec![Accepted {
                id: msg.id,
                status: AcceptStatus::Stored
            }]
        );
        let err = c
            .claim(&ClaimRequest {
                frontend: "f".into(),
                dest_smsc: Some("x".into()),
                source_smsc: None,
                limit: 1,
                lease_seconds: None,
                wait_ms: None,
            })
            .await
            .unwrap_err();
        assert!(
            matches!(err, CoreError::Status { status: 404, .. }),
            "{err}"
        );
    }
}
