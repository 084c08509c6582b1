//! The admin API (port 8087, loopback by default; the contract is `docs/admin-api.yaml`,
//! also served at `GET /api/v1/openapi.yaml`).
//!
//! Authentication: `Authorization: Bearer <token>` (`[admin] token`, `SMPPGW_ADMIN_TOKEN`, or
//! the token the gateway writes to `data_dir/admin.token` when no credential is configured)
//! or HTTP Basic with `[admin] username`/`password`. Only the health and readiness probes
//! answer without it. Offered credentials are never logged.
//!
//! | call | what |
//! | --- | --- |
//! | `GET /`, `GET /ui/{file}` | the web dashboard's embedded files (no auth; [`crate::dashboard`]) |
//! | `GET /api/v1/health` | liveness (no auth) |
//! | `GET /api/v1/ready` | 200 when the core answers, else 503 (no auth) |
//! | `GET /api/v1/status`, `GET /api/v1/status/{name}` | totals and one row per bind: state, uptime, counters, window, TPS now, sessions |
//! | `GET /api/v1/peers` | every peer, both sides |
//! | `GET/POST /api/v1/peers/{client,server}` | list, add |
//! | `GET/PUT/PATCH/DELETE /api/v1/peers/{client,server}/{name}` | show, replace, change some fields, delete |
//! | `POST /api/v1/peers/{client,server}/{name}/{enable,disable,revert}` | enable, disable, drop the operators' edit (the file applies again) |
//! | `POST /api/v1/binds/{name}/{reconnect,drop}` | reconnect a client bind now; drop a bind's connection(s) at once |
//! | `POST /api/v1/reload` | re-read the configuration file (as `SIGHUP`) |
//! | `GET /api/v1/config` | the configuration in force, secrets masked |
//! | `GET /api/v1/logs` | recent log records (`level`, `since`, `q`, `limit`) |
//! | `GET /api/v1/stream` | server-sent events: `status` snapshots and `log` records, live |
//!
//! Every error is JSON: `{"error": "...", "field": "tps_limit" | null, "problems": [{"key",
//! "reason"}]}` — 400 for a body that does not parse (the field named), 401, 404, 405, 409 for
//! a name taken, 422 for values the configuration rules refuse.
//! Passwords are never returned: peers are shown with `"password": "********"`; a `PUT` or
//! `PATCH` that leaves the password out (or sends that mask) keeps the stored one.

use std::convert::Infallible;
use std::sync::Arc;
use std::time::Duration;

use axum::body::Bytes;
use axum::extract::{Path, Query, Request, State};
use axum::http::{HeaderMap, Method, StatusCode};
use axum::middleware::Next;
use axum::response::sse::{Event as SseEvent, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use smpp_session::LinkState;

use crate::app::Gateway;
use crate::config::{ClientBind, ConfigProblem, ServerBind};
use crate::supervisor::PeerEdit;
use crate::telemetry;

/// The `X-Requested-With` value of the dashboard's calls (`assets/dashboard/app.js`).
pub const DASHBOARD_CALLER: &str = "smppgw-dashboard";

/// What a password (or token) looks like in every answer.
pub const PASSWORD_MASK: &str = "********";

/// The OpenAPI document of this API.
pub const OPENAPI_YAML: &str = include_str!("../../../docs/admin-api.yaml");

/// The admin router. Built without a socket, so handlers are tested with `tower::ServiceExt::oneshot`.
pub fn router(gw: Arc<Gateway>) -> Router {
    let guarded = Router::new()
        .route("/api/v1/status", get(status))
        .route("/api/v1/status/{name}", get(status_one))
        .route("/api/v1/peers", get(all_peers))
        .route("/api/v1/peers/{side}", get(list_peers).post(add_peer))
        .route(
            "/api/v1/peers/{side}/{name}",
            get(show_peer)
                .put(replace_peer)
                .patch(patch_peer)
                .delete(delete_peer),
        )
        .route("/api/v1/peers/{side}/{name}/{action}", post(peer_action))
        .route("/api/v1/binds/{name}/{action}", post(bind_action))
        .route("/api/v1/reload", post(reload))
        .route("/api/v1/config", get(config_in_force))
        .route("/api/v1/logs", get(logs))
        .route("/api/v1/stream", get(stream))
        .merge(crate::admin_cache::routes())
        .route_layer(axum::middleware::from_fn_with_state(gw.clone(), guard));
    Router::new()
        .route("/api/v1/health", get(health))
        .route("/api/v1/ready", get(ready))
        .route(
            "/api/v1/openapi.yaml",
            get(|| async {
                (
                    [(axum::http::header::CONTENT_TYPE, "application/yaml")],
                    OPENAPI_YAML,
                )
            }),
        )
        .merge(crate::dashboard::routes())
        .merge(guarded)
        .fallback(|method: Method, uri: axum::http::Uri| async move {
            error(
                StatusCode::NOT_FOUND,
                format!("no such call: {method} {}", uri.path()),
                None,
            )
        })
        .method_not_allowed_fallback(|method: Method, uri: axum::http::Uri| async move {
            error(
                StatusCode::METHOD_NOT_ALLOWED,
                format!("{method} is not allowed on {}", uri.path()),
                None,
            )
        })
        .with_state(gw)
}

type ApiResult = Result<Response, Response>;

/// An error answer: `{"error", "field", "problems"}`.
pub fn error(status: StatusCode, msg: impl Into<String>, field: Option<&str>) -> Response {
    (
        status,
        Json(json!({"error": msg.into(), "field": field, "problems": []})),
    )
        .into_response()
}

fn problems(list: Vec<ConfigProblem>) -> Response {
    let field = list.first().map(|p| p.key.clone());
    let detail: Vec<Value> = list
        .iter()
        .map(|p| json!({"key": p.key, "reason": p.reason}))
        .collect();
    let msg = list
        .iter()
        .map(|p| p.to_string())
        .collect::<Vec<_>>()
        .join("; ");
    (
        StatusCode::UNPROCESSABLE_ENTITY,
        Json(json!({"error": msg, "field": field, "problems": detail})),
    )
        .into_response()
}

/// Whether the request carries the configured credentials.
pub fn authorized(gw: &Gateway, headers: &HeaderMap) -> bool {
    use base64::Engine as _;
    let cfg = gw.config();
    let Some(value) = headers
        .get(axum::http::header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
    else {
        return false;
    };
    if let Some(given) = value.strip_prefix("Bearer ") {
        let given = given.trim().as_bytes();
        return [
            cfg.admin.token.as_deref(),
            gw.generated_admin_token.as_deref(),
        ]
        .into_iter()
        .flatten()
        .any(|t| constant_time_eq(t.as_bytes(), given));
    }
    if let (Some(user), Some(pass), Some(b64)) = (
        cfg.admin.username.as_deref(),
        cfg.admin.password.as_deref(),
        value.strip_prefix("Basic "),
    ) {
        let Ok(raw) = base64::engine::general_purpose::STANDARD.decode(b64.trim()) else {
            return false;
        };
        let Ok(text) = String::from_utf8(raw) else {
            return false;
        };
        let Some((u, p)) = text.split_once(':') else {
            return false;
        };
        return constant_time_eq(u.as_bytes(), user.as_bytes())
            & constant_time_eq(p.as_bytes(), pass.as_bytes());
    }
    false
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

async fn guard(State(gw): State<Arc<Gateway>>, req: Request, next: Next) -> Response {
    if authorized(&gw, req.headers()) {
        return next.run(req).await;
    }
    // Neither the offered credential nor its absence is worth more than one line.
    tracing::warn!(path = %req.uri().path(), "admin API: request without valid credentials refused");
    let mut r = error(
        StatusCode::UNAUTHORIZED,
        "missing or wrong credentials (Authorization: Bearer <token>, or Basic)",
        Some("Authorization"),
    );
    // A browser answers `Basic` with its own login prompt and holds the request until someone
    // fills it in (headless: forever); the dashboard has its own login page, so its calls (which
    // say so in `X-Requested-With`) are told `Bearer` instead.
    let challenge = if req
        .headers()
        .get("x-requested-with")
        .is_some_and(|v| v.as_bytes() == DASHBOARD_CALLER.as_bytes())
    {
        "Bearer realm=\"smppgw\""
    } else {
        "Basic realm=\"smppgw\""
    };
    r.headers_mut().insert(
        axum::http::header::WWW_AUTHENTICATE,
        axum::http::HeaderValue::from_static(challenge),
    );
    r
}

async fn health(State(gw): State<Arc<Gateway>>) -> Response {
    Json(json!({"status": "ok", "uptime_seconds": gw.started.elapsed().as_secs(), "version": env!("CARGO_PKG_VERSION")})).into_response()
}

async fn ready(State(gw): State<Arc<Gateway>>) -> Response {
    if gw.shutdown.is_cancelled() {
        return (
            StatusCode::SERVICE_UNAVAILABLE,
            Json(json!({"status": "stopping"})),
        )
            .into_response();
    }
    match gw.core.health().await {
        Ok(_) => Json(json!({"status": "ready", "core": gw.core.base_url()})).into_response(),
        Err(e) => (StatusCode::SERVICE_UNAVAILABLE, Json(json!({"status": "core unreachable", "core": gw.core.base_url(), "error": e.to_string()}))).into_response(),
    }
}

/// One bound session of a server peer.
#[derive(Debug, Serialize)]
pub struct SessionStatus {
    /// Process-unique session id.
    pub id: u64,
    /// The partner's address.
    pub remote: String,
    /// transmitter, receiver or transceiver.
    pub bind_type: Option<&'static str>,
    /// The `system_id` it bound with.
    pub system_id: String,
    /// Seconds since it bound.
    pub uptime_seconds: u64,
    /// Our requests awaiting its response now.
    pub in_flight: usize,
    /// Message requests we sent it.
    pub sent: u64,
    /// Message requests it sent us.
    pub received: u64,
}

/// One bind in the status answer.
#[derive(Debug, Serialize)]
pub struct BindStatus {
    /// Peer name.
    pub name: String,
    /// `client` or `server`.
    pub mode: &'static str,
    /// Client binds: `connected`, `connecting`, `disconnected` or `disabled`; server peers:
    /// `connected` (at least one session), `waiting` (nobody bound) or `disabled`.
    pub state: String,
    /// Whether the peer is enabled.
    pub enabled: bool,
    /// Where its definition comes from: `file`, `edited` or `added`.
    pub origin: &'static str,
    /// `system_id` used on the bind.
    pub system_id: String,
    /// Client binds: the SMSC's host.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub host: Option<String>,
    /// Client binds: the SMSC's port.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub port: Option<u16>,
    /// Client binds: transmitter, receiver or transceiver.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub bind_type: Option<&'static str>,
    /// Seconds since the bind came up (server peers: the oldest session; 0 when down).
    pub uptime_seconds: u64,
    /// Bound sessions (server peers may have several).
    pub sessions: usize,
    /// Messages sent on the bind since start (`submit_sm` to a carrier, `deliver_sm` to a partner).
    pub sent: u64,
    /// Messages received on the bind since start.
    pub received: u64,
    /// Sends that failed since start.
    pub failed: u64,
    /// Our requests awaiting a response now (window occupancy).
    pub in_flight: usize,
    /// The window (most requests in flight per session).
    pub window_size: usize,
    /// Messages sent in the last whole second.
    pub tps_now: u64,
    /// Messages received in the last whole second.
    pub tps_in_now: u64,
    /// The TPS limit.
    pub tps_limit: u32,
    /// Why the bind last went down or failed (client binds).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_error: Option<String>,
    /// Server peers: each bound session.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub session_list: Vec<SessionStatus>,
}

/// Totals over all binds, as the seed's live status page shows them.
#[derive(Debug, Serialize)]
pub struct Totals {
    /// Client and server binds configured.
    pub binds: usize,
    /// Client binds connected.
    pub client_connected: usize,
    /// Client binds configured and not connected (disabled ones included).
    pub client_disconnected: usize,
    /// Server peers with at least one bound session.
    pub server_active: usize,
    /// Enabled server peers nobody is bound as.
    pub server_waiting: usize,
}

/// The status answer.
#[derive(Debug, Serialize)]
pub struct Status {
    /// Seconds since start.
    pub uptime_seconds: u64,
    /// This gateway's `smsc_name`.
    pub smsc_name: String,
    /// The core's URL.
    pub core: String,
    /// The SMPP listener (host, port, max_connections).
    pub listen: crate::config::Listen,
    /// Totals.
    pub totals: Totals,
    /// Every configured bind.
    pub binds: Vec<BindStatus>,
}

fn kind_name(k: smpp_codec::types::BindKind) -> &'static str {
    crate::config::BindType::from_kind(k).as_str()
}

/// Build the status (shared by the API, its stream and the dashboard).
pub async fn build_status(gw: &Gateway) -> Status {
    let cfg = gw.config();
    let mut binds = Vec::new();
    for b in &cfg.binds {
        let counters = telemetry::counters(&b.name);
        let (state, last_error, in_flight, uptime) = match gw.client(&b.name).await {
            None => ("disabled".to_string(), None, 0, 0),
            Some(h) => {
                let s = h.status();
                let state = match s.state {
                    LinkState::Bound => "connected",
                    LinkState::Connecting => "connecting",
                    LinkState::Disconnected | LinkState::Stopped => "disconnected",
                };
                let up = if s.state == LinkState::Bound {
                    s.since.elapsed().as_secs()
                } else {
                    0
                };
                (
                    state.to_string(),
                    s.last_error,
                    h.stats()
                        .in_flight
                        .load(std::sync::atomic::Ordering::Relaxed),
                    up,
                )
            }
        };
        binds.push(BindStatus {
            name: b.name.clone(),
            mode: "client",
            sessions: usize::from(state == "connected"),
            state,
            enabled: b.enabled,
            origin: gw.peer_origin(true, &b.name).await,
            system_id: b.system_id.clone(),
            host: Some(b.host.clone()),
            port: Some(b.port),
            bind_type: Some(b.bind_type.as_str()),
            uptime_seconds: uptime,
            sent: counters.sent(),
            received: counters.received(),
            failed: counters.failed(),
            in_flight,
            window_size: b.window_size,
            tps_now: counters.tps_now(),
            tps_in_now: counters.tps_in_now(),
            tps_limit: b.tps_limit,
            last_error,
            session_list: Vec::new(),
        });
    }
    let sessions = gw.registry.snapshot();
    for b in &cfg.server_binds {
        let counters = telemetry::counters(&b.name);
        let mine: Vec<_> = sessions
            .iter()
            .filter(|s| s.info.peer_name == b.name)
            .collect();
        let state = if !b.enabled {
            "disabled"
        } else if mine.is_empty() {
            "waiting"
        } else {
            "connected"
        };
        binds.push(BindStatus {
            name: b.name.clone(),
            mode: "server",
            state: state.into(),
            enabled: b.enabled,
            origin: gw.peer_origin(false, &b.name).await,
            system_id: b.system_id.clone(),
            host: None,
            port: None,
            bind_type: None,
            uptime_seconds: mine.iter().map(|s| s.uptime.as_secs()).max().unwrap_or(0),
            sessions: mine.len(),
            sent: counters.sent(),
            received: counters.received(),
            failed: counters.failed(),
            in_flight: mine.iter().map(|s| s.in_flight).sum(),
            window_size: b.window_size,
            tps_now: counters.tps_now(),
            tps_in_now: counters.tps_in_now(),
            tps_limit: b.tps_limit,
            last_error: None,
            session_list: mine
                .iter()
                .map(|s| SessionStatus {
                    id: s.info.id,
                    remote: s.info.remote.to_string(),
                    bind_type: s.info.kind.map(kind_name),
                    system_id: s.info.system_id.clone(),
                    uptime_seconds: s.uptime.as_secs(),
                    in_flight: s.in_flight,
                    sent: s.sent,
                    received: s.received,
                })
                .collect(),
        });
    }
    let totals = Totals {
        binds: binds.len(),
        client_connected: binds
            .iter()
            .filter(|b| b.mode == "client" && b.state == "connected")
            .count(),
        client_disconnected: binds
            .iter()
            .filter(|b| b.mode == "client" && b.state != "connected")
            .count(),
        server_active: binds
            .iter()
            .filter(|b| b.mode == "server" && b.state == "connected")
            .count(),
        server_waiting: binds
            .iter()
            .filter(|b| b.mode == "server" && b.state == "waiting")
            .count(),
    };
    Status {
        uptime_seconds: gw.started.elapsed().as_secs(),
        smsc_name: cfg.smsc_name.clone(),
        core: gw.core.base_url().to_string(),
        listen: cfg.listen.clone(),
        totals,
        binds,
    }
}

async fn status(State(gw): State<Arc<Gateway>>) -> Response {
    Json(build_status(&gw).await).into_response()
}

async fn status_one(State(gw): State<Arc<Gateway>>, Path(name): Path<String>) -> ApiResult {
    let st = build_status(&gw).await;
    st.binds
        .into_iter()
        .find(|b| b.name == name)
        .map(|b| Json(b).into_response())
        .ok_or_else(|| {
            error(
                StatusCode::NOT_FOUND,
                format!("no bind named {name:?}"),
                Some("name"),
            )
        })
}

/// A peer as shown: its keys, the password masked.
pub fn masked<T: Serialize>(peer: &T) -> Value {
    let mut v = serde_json::to_value(peer).unwrap_or(Value::Null);
    if let Some(o) = v.as_object_mut() {
        if o.contains_key("password") {
            o.insert("password".into(), Value::String(PASSWORD_MASK.into()));
        }
    }
    v
}

async fn shown<T: Serialize>(gw: &Gateway, client: bool, name: &str, peer: &T) -> Value {
    let mut v = masked(peer);
    if let Some(o) = v.as_object_mut() {
        o.insert(
            "origin".into(),
            Value::String(gw.peer_origin(client, name).await.into()),
        );
    }
    v
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Side {
    Client,
    Server,
}

fn side(s: &str) -> Result<Side, Response> {
    match s {
        "client" => Ok(Side::Client),
        "server" => Ok(Side::Server),
        _ => Err(error(
            StatusCode::NOT_FOUND,
            format!("no such peer kind {s:?}: use client or server"),
            Some("side"),
        )),
    }
}

async fn listed(gw: &Gateway, side: Side) -> Vec<Value> {
    let cfg = gw.config();
    let mut out = Vec::new();
    match side {
        Side::Client => {
            for b in &cfg.binds {
                out.push(shown(gw, true, &b.name, b).await);
            }
        }
        Side::Server => {
            for b in &cfg.server_binds {
                out.push(shown(gw, false, &b.name, b).await);
            }
        }
    }
    out
}

async fn all_peers(State(gw): State<Arc<Gateway>>) -> Response {
    Json(json!({"client": listed(&gw, Side::Client).await, "server": listed(&gw, Side::Server).await})).into_response()
}

async fn list_peers(State(gw): State<Arc<Gateway>>, Path(s): Path<String>) -> ApiResult {
    Ok(Json(listed(&gw, side(&s)?).await).into_response())
}

async fn show_peer(
    State(gw): State<Arc<Gateway>>,
    Path((s, name)): Path<(String, String)>,
) -> ApiResult {
    let cfg = gw.config();
    let found = match side(&s)? {
        Side::Client => match cfg.binds.iter().find(|b| b.name == name) {
            Some(b) => Some(shown(&gw, true, &name, b).await),
            None => None,
        },
        Side::Server => match cfg.server_binds.iter().find(|b| b.name == name) {
            Some(b) => Some(shown(&gw, false, &name, b).await),
            None => None,
        },
    };
    found
        .map(|v| Json(v).into_response())
        .ok_or_else(|| not_found(&s, &name))
}

fn not_found(side: &str, name: &str) -> Response {
    error(
        StatusCode::NOT_FOUND,
        format!("no {side} peer named {name:?}"),
        Some("name"),
    )
}

/// The JSON object of a request body; 400 naming the problem when it is not one.
fn body_object(
    headers: &HeaderMap,
    body: &Bytes,
) -> Result<serde_json::Map<String, Value>, Response> {
    if let Some(ct) = headers
        .get(axum::http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
    {
        if !ct.starts_with("application/json") {
            return Err(error(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                format!("the body must be application/json, not {ct}"),
                None,
            ));
        }
    }
    match serde_json::from_slice::<Value>(body) {
        Ok(Value::Object(o)) => Ok(o),
        Ok(_) => Err(error(
            StatusCode::BAD_REQUEST,
            "the body must be a JSON object",
            None,
        )),
        Err(e) => Err(error(
            StatusCode::BAD_REQUEST,
            format!("the body is not JSON: {e}"),
            None,
        )),
    }
}

/// Parse a peer from a JSON object, naming the field at fault (`tps_limit`,
/// `ip_whitelist[0]`, or the unknown key). The mask or an absent password takes `keep`.
fn parse_peer<T: serde::de::DeserializeOwned>(
    mut body: serde_json::Map<String, Value>,
    keep_password: Option<&str>,
) -> Result<T, Response> {
    // `origin` is read-only: what a GET returned can be sent back as it is.
    body.remove("origin");
    if let Some(old) = keep_password {
        let masked_or_absent = body
            .get("password")
            .is_none_or(|p| p.as_str() == Some(PASSWORD_MASK));
        if masked_or_absent {
            body.insert("password".into(), Value::String(old.to_string()));
        }
    }
    let tree = Value::Object(body);
    match crate::config::deserialize_collecting::<T>(tree) {
        (Some(v), list) if list.is_empty() => Ok(v),
        (_, list) => {
            let field = list.first().map(|p| p.key.clone());
            let detail: Vec<Value> = list
                .iter()
                .map(|p| json!({"key": p.key, "reason": p.reason}))
                .collect();
            let msg = list
                .iter()
                .map(|p| p.to_string())
                .collect::<Vec<_>>()
                .join("; ");
            Err((
                StatusCode::BAD_REQUEST,
                Json(json!({"error": msg, "field": field, "problems": detail})),
            )
                .into_response())
        }
    }
}

fn conflict_if_taken(gw: &Gateway, name: &str) -> Result<(), Response> {
    if gw.config().has_peer(name) {
        return Err(error(
            StatusCode::CONFLICT,
            format!(
                "a peer named {name:?} exists (names are unique across client and server peers)"
            ),
            Some("name"),
        ));
    }
    Ok(())
}

async fn add_peer(
    State(gw): State<Arc<Gateway>>,
    Path(s): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> ApiResult {
    let side = side(&s)?;
    let obj = body_object(&headers, &body)?;
    let edit = match side {
        Side::Client => {
            let b: ClientBind = parse_peer(obj, None)?;
            conflict_if_taken(&gw, &b.name)?;
            PeerEdit::Client(b.name.clone(), Some(b))
        }
        Side::Server => {
            let b: ServerBind = parse_peer(obj, None)?;
            conflict_if_taken(&gw, &b.name)?;
            PeerEdit::Server(b.name.clone(), Some(b))
        }
    };
    let name = match &edit {
        PeerEdit::Client(n, _)
        | PeerEdit::Server(n, _)
        | PeerEdit::RevertClient(n)
        | PeerEdit::RevertServer(n) => n.clone(),
    };
    gw.edit_peer(edit).await.map_err(problems)?;
    tracing::info!(peer = %name, side = %s, "peer added through the admin API");
    show_peer(State(gw), Path((s, name)))
        .await
        .map(|r| (StatusCode::CREATED, r).into_response())
}

/// The stored definition of peer `name` as JSON, the real password included (never sent out).
fn stored(
    gw: &Gateway,
    side: Side,
    name: &str,
) -> Option<(serde_json::Map<String, Value>, String)> {
    let cfg = gw.config();
    let (v, pw) = match side {
        Side::Client => cfg
            .binds
            .iter()
            .find(|b| b.name == name)
            .map(|b| (serde_json::to_value(b), b.password.clone()))?,
        Side::Server => cfg
            .server_binds
            .iter()
            .find(|b| b.name == name)
            .map(|b| (serde_json::to_value(b), b.password.clone()))?,
    };
    match v {
        Ok(Value::Object(o)) => Some((o, pw)),
        _ => None,
    }
}

async fn put_definition(
    gw: &Arc<Gateway>,
    side: Side,
    s: &str,
    name: &str,
    obj: serde_json::Map<String, Value>,
    old_password: &str,
) -> ApiResult {
    if obj
        .get("name")
        .and_then(Value::as_str)
        .is_some_and(|n| n != name)
    {
        return Err(error(
            StatusCode::BAD_REQUEST,
            "the name in the body differs from the path; delete and add to rename",
            Some("name"),
        ));
    }
    let mut obj = obj;
    obj.insert("name".into(), Value::String(name.to_string()));
    let edit = match side {
        Side::Client => PeerEdit::Client(
            name.to_string(),
            Some(parse_peer::<ClientBind>(obj, Some(old_password))?),
        ),
        Side::Server => PeerEdit::Server(
            name.to_string(),
            Some(parse_peer::<ServerBind>(obj, Some(old_password))?),
        ),
    };
    gw.edit_peer(edit).await.map_err(problems)?;
    tracing::info!(peer = %name, side = %s, "peer edited through the admin API");
    show_peer(State(gw.clone()), Path((s.to_string(), name.to_string()))).await
}

async fn replace_peer(
    State(gw): State<Arc<Gateway>>,
    Path((s, name)): Path<(String, String)>,
    headers: HeaderMap,
    body: Bytes,
) -> ApiResult {
    let side = side(&s)?;
    let obj = body_object(&headers, &body)?;
    let (_, old_password) = stored(&gw, side, &name).ok_or_else(|| not_found(&s, &name))?;
    put_definition(&gw, side, &s, &name, obj, &old_password).await
}

/// `PATCH`: the given fields replace the stored ones (a JSON merge patch, RFC 7396: `null`
/// puts a field back to its default).
async fn patch_peer(
    State(gw): State<Arc<Gateway>>,
    Path((s, name)): Path<(String, String)>,
    headers: HeaderMap,
    body: Bytes,
) -> ApiResult {
    let side = side(&s)?;
    let patch = body_object(&headers, &body)?;
    let (mut obj, old_password) = stored(&gw, side, &name).ok_or_else(|| not_found(&s, &name))?;
    for (k, v) in patch {
        if v.is_null() {
            obj.remove(&k);
        } else {
            obj.insert(k, v);
        }
    }
    put_definition(&gw, side, &s, &name, obj, &old_password).await
}

async fn delete_peer(
    State(gw): State<Arc<Gateway>>,
    Path((s, name)): Path<(String, String)>,
) -> ApiResult {
    let side = side(&s)?;
    stored(&gw, side, &name).ok_or_else(|| not_found(&s, &name))?;
    let edit = if side == Side::Client {
        PeerEdit::Client(name.clone(), None)
    } else {
        PeerEdit::Server(name.clone(), None)
    };
    gw.edit_peer(edit).await.map_err(problems)?;
    tracing::info!(peer = %name, side = %s, "peer deleted through the admin API");
    Ok(Json(json!({"ok": true, "name": name, "deleted": true})).into_response())
}

async fn peer_action(
    State(gw): State<Arc<Gateway>>,
    Path((s, name, action)): Path<(String, String, String)>,
) -> ApiResult {
    let side = side(&s)?;
    let edit = match action.as_str() {
        "enable" | "disable" => {
            let enabled = action == "enable";
            let (mut obj, _) = stored(&gw, side, &name).ok_or_else(|| not_found(&s, &name))?;
            obj.insert("enabled".into(), Value::Bool(enabled));
            match side {
                Side::Client => PeerEdit::Client(name.clone(), Some(parse_peer(obj, None)?)),
                Side::Server => PeerEdit::Server(name.clone(), Some(parse_peer(obj, None)?)),
            }
        }
        "revert" => {
            if gw.peer_origin(side == Side::Client, &name).await == "file" {
                return Err(error(
                    StatusCode::CONFLICT,
                    format!("{name:?} has no run-time edit to drop: it follows the file"),
                    Some("name"),
                ));
            }
            if side == Side::Client {
                PeerEdit::RevertClient(name.clone())
            } else {
                PeerEdit::RevertServer(name.clone())
            }
        }
        _ => {
            return Err(error(
                StatusCode::NOT_FOUND,
                format!("no action {action:?}: use enable, disable or revert"),
                Some("action"),
            ))
        }
    };
    gw.edit_peer(edit).await.map_err(problems)?;
    tracing::info!(peer = %name, side = %s, action = %action, "peer changed through the admin API");
    let now = match side {
        Side::Client => gw
            .config()
            .binds
            .iter()
            .find(|b| b.name == name)
            .map(|b| b.enabled),
        Side::Server => gw
            .config()
            .server_binds
            .iter()
            .find(|b| b.name == name)
            .map(|b| b.enabled),
    };
    Ok(Json(json!({"ok": true, "name": name, "action": action, "enabled": now, "exists": now.is_some()})).into_response())
}

async fn bind_action(
    State(gw): State<Arc<Gateway>>,
    Path((name, action)): Path<(String, String)>,
) -> ApiResult {
    let cfg = gw.config();
    let is_client = cfg.binds.iter().any(|b| b.name == name);
    let is_server = cfg.server_binds.iter().any(|b| b.name == name);
    if !is_client && !is_server {
        return Err(error(
            StatusCode::NOT_FOUND,
            format!("no bind named {name:?}"),
            Some("name"),
        ));
    }
    let dropped = match (action.as_str(), is_client) {
        ("reconnect", true) => match gw.client(&name).await {
            Some(h) => {
                h.reconnect();
                1
            }
            None => {
                return Err(error(
                    StatusCode::CONFLICT,
                    format!("{name} is disabled: enable it first"),
                    Some("name"),
                ))
            }
        },
        ("reconnect", false) => {
            return Err(error(
                StatusCode::BAD_REQUEST,
                "a server peer's partner binds again by itself; use drop",
                Some("action"),
            ))
        }
        ("drop", true) => match gw.client(&name).await {
            Some(h) => {
                h.drop_connection();
                1
            }
            None => 0,
        },
        ("drop", false) => {
            let n = gw.registry.count(&name);
            gw.registry.drop_peer(&name);
            n
        }
        _ => {
            return Err(error(
                StatusCode::NOT_FOUND,
                format!("no action {action:?}: use reconnect or drop"),
                Some("action"),
            ))
        }
    };
    tracing::warn!(bind = %name, action = %action, "operator action through the admin API");
    Ok(
        Json(json!({"ok": true, "name": name, "action": action, "connections": dropped}))
            .into_response(),
    )
}

async fn reload(State(gw): State<Arc<Gateway>>) -> ApiResult {
    match gw.reload_file().await {
        Ok(()) => Ok(Json(json!({"ok": true})).into_response()),
        Err(list) => {
            for p in &list {
                tracing::error!("configuration not reloaded: {p}");
            }
            Err((StatusCode::UNPROCESSABLE_ENTITY, Json(json!({"error": "configuration not reloaded; nothing changed", "field": null, "problems": list.iter().map(|p| json!({"key": "(file)", "reason": p})).collect::<Vec<_>>()}))).into_response())
        }
    }
}

/// The configuration in force, every password and token masked.
pub fn masked_config(cfg: &crate::config::Config) -> Value {
    let mut v = serde_json::to_value(cfg).unwrap_or(Value::Null);
    fn mask(v: &mut Value) {
        match v {
            Value::Object(o) => {
                for (k, x) in o.iter_mut() {
                    if matches!(k.as_str(), "password" | "token") && !x.is_null() {
                        *x = Value::String(PASSWORD_MASK.into());
                    } else {
                        mask(x);
                    }
                }
            }
            Value::Array(a) => a.iter_mut().for_each(mask),
            _ => {}
        }
    }
    mask(&mut v);
    v
}

async fn config_in_force(State(gw): State<Arc<Gateway>>) -> Response {
    Json(masked_config(&gw.config())).into_response()
}

/// Query of `GET /api/v1/logs` and `GET /api/v1/stream`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LogQuery {
    /// Lowest level shown: trace, debug, info, warn (default for nothing), error.
    pub level: Option<String>,
    /// Only records with a larger `seq`.
    pub since: Option<u64>,
    /// Only records containing this text (case-insensitive).
    pub q: Option<String>,
    /// At most this many (newest), default 200, at most 10000.
    pub limit: Option<usize>,
    /// Stream only: status snapshot period, ms (default 1000, 200..=60000; 0 = no status).
    pub status_ms: Option<u64>,
    /// Stream only: include log records (default true).
    pub logs: Option<bool>,
}

fn min_level(q: &LogQuery) -> Result<u8, Response> {
    match q.level.as_deref() {
        None => Ok(0),
        Some(l) => telemetry::level_rank(l).ok_or_else(|| {
            error(
                StatusCode::BAD_REQUEST,
                format!("unknown level {l:?}: trace, debug, info, warn or error"),
                Some("level"),
            )
        }),
    }
}

fn log_query(
    q: Result<Query<LogQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<LogQuery, Response> {
    q.map(|Query(q)| q).map_err(|e| {
        let text = e.body_text();
        let field = crate::config::quoted_after(&text, "unknown field `")
            .or_else(|| text.split(':').next().map(|s| s.trim().to_string()));
        error(StatusCode::BAD_REQUEST, text, field.as_deref())
    })
}

async fn logs(q: Result<Query<LogQuery>, axum::extract::rejection::QueryRejection>) -> ApiResult {
    let q = log_query(q)?;
    let level = min_level(&q)?;
    let limit = q.limit.unwrap_or(200).clamp(1, 10_000);
    let records = telemetry::log_ring().recent(level, q.since.unwrap_or(0), q.q.as_deref(), limit);
    Ok(Json(json!({"records": records})).into_response())
}

/// `GET /api/v1/stream`: server-sent events for a live dashboard.
/// - `status`: a [`Status`] snapshot at once, then every `status_ms`;
/// - `log`: each new [`telemetry::LogRecord`] passing `level`/`q` (its `id` is the record's
///   `seq`: a client that reconnects with `Last-Event-ID` (or `since`) gets what it missed
///   from the ring first);
/// - `lagged`: the client was too slow and this many records were skipped.
///
/// The stream ends when the gateway stops.
async fn stream(
    State(gw): State<Arc<Gateway>>,
    headers: HeaderMap,
    q: Result<Query<LogQuery>, axum::extract::rejection::QueryRejection>,
) -> ApiResult {
    let q = log_query(q)?;
    let level = min_level(&q)?;
    let status_ms = q.status_ms.unwrap_or(1000);
    if status_ms != 0 && !(200..=60_000).contains(&status_ms) {
        return Err(error(
            StatusCode::BAD_REQUEST,
            "status_ms must be 0 or 200..=60000",
            Some("status_ms"),
        ));
    }
    let want_logs = q.logs.unwrap_or(true);
    let since = headers
        .get("last-event-id")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse().ok())
        .or(q.since);
    // Subscribe before reading the backlog, so that nothing falls between the two.
    let live = telemetry::log_ring().subscribe();
    let backlog: std::collections::VecDeque<telemetry::LogRecord> = match (want_logs, since) {
        (true, Some(since)) => telemetry::log_ring()
            .recent(level, since, q.q.as_deref(), 10_000)
            .into(),
        _ => Default::default(),
    };
    let state = StreamState {
        gw,
        live,
        backlog,
        last_seq: since.unwrap_or(0),
        level,
        text: q.q,
        want_logs,
        tick: (status_ms > 0).then(|| tokio::time::interval(Duration::from_millis(status_ms))),
    };
    let events = futures::stream::unfold(state, |mut st| async move {
        st.next().await.map(|e| (Ok::<_, Infallible>(e), st))
    });
    Ok(Sse::new(events)
        .keep_alive(KeepAlive::default())
        .into_response())
}

struct StreamState {
    gw: Arc<Gateway>,
    live: tokio::sync::broadcast::Receiver<telemetry::LogRecord>,
    backlog: std::collections::VecDeque<telemetry::LogRecord>,
    last_seq: u64,
    level: u8,
    text: Option<String>,
    want_logs: bool,
    tick: Option<tokio::time::Interval>,
}

impl StreamState {
    fn log_event(&mut self, r: &telemetry::LogRecord) -> SseEvent {
        self.last_seq = r.seq;
        SseEvent::default()
            .event("log")
            .id(r.seq.to_string())
            .json_data(r)
            .unwrap_or_default()
    }

    async fn next(&mut self) -> Option<SseEvent> {
        if let Some(r) = self.backlog.pop_front() {
            return Some(self.log_event(&r));
        }
        loop {
            let tick = async {
                match self.tick.as_mut() {
                    Some(t) => {
                        t.tick().await;
                    }
                    None => futures::future::pending::<()>().await,
                }
            };
            let want_logs = self.want_logs;
            tokio::select! {
                _ = self.gw.shutdown.cancelled() => return None,
                _ = tick => {
                    let st = build_status(&self.gw).await;
                    return Some(SseEvent::default().event("status").json_data(st).unwrap_or_default());
                }
                r = self.live.recv(), if want_logs => match r {
                    Ok(rec) if rec.seq > self.last_seq && telemetry::record_matches(&rec, self.level, self.text.as_deref()) => return Some(self.log_event(&rec)),
                    Ok(_) => continue,
                    Err(tokio::sync::broadcast::error::RecvError::Lagged(n)) => return Some(SseEvent::default().event("lagged").data(n.to_string())),
                    Err(tokio::sync::broadcast::error::RecvError::Closed) => return None,
                },
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Config;
    use axum::body::Body;
    use axum::http::Request as HttpRequest;
    use tower::ServiceExt as _;

    const TOKEN: &str = "test-token-0123456789";

    /// A gateway with nothing listening: its core is an address where nothing answers, its
    /// one client bind points at such an address too, and its overrides go to a fresh dir.
    async fn gateway(test: &str) -> (Arc<Gateway>, std::path::PathBuf) {
        let dir = std::env::temp_dir().join(format!("smppgw-admin-{test}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("gw.toml");
        std::fs::write(
            &path,
            format!(
                r#"
api_base_url = "http://127.0.0.1:9"
data_dir = "{data}"
[admin]
token = "{TOKEN}"
username = "ops"
password = "basic-secret"
[[binds]]
name = "carrier"
host = "127.0.0.1"
port = 9
system_id = "gw"
password = "carrier-secret"
reconnect_interval = 3600
[[server_binds]]
name = "partner"
system_id = "partner"
password = "partner-secret"
"#,
                data = dir.join("data").display()
            ),
        )
        .unwrap();
        let cfg = Config::load_with_env(&path, &|_| None).unwrap();
        let core =
            core_bridge::CoreClient::new(&cfg.api_base_url, false, Duration::from_millis(200))
                .unwrap();
        let source = crate::supervisor::ConfigSource {
            path: Some(path),
            file: cfg.clone(),
            overrides: Default::default(),
        };
        let stop = tokio_util::sync::CancellationToken::new();
        let cache = crate::handover::CacheSlot::open(&cfg, core.clone(), stop.clone()).await;
        let gw = Gateway::new(
            cfg.clone(),
            source,
            core,
            cache,
            None,
            None,
            stop,
            tokio_util::task::TaskTracker::new(),
        );
        gw.apply(cfg, false).await;
        (gw, dir)
    }

    async fn call(
        gw: &Arc<Gateway>,
        method: &str,
        uri: &str,
        body: Option<Value>,
    ) -> (StatusCode, Value) {
        call_with(gw, method, uri, body, Some(&format!("Bearer {TOKEN}"))).await
    }

    async fn call_with(
        gw: &Arc<Gateway>,
        method: &str,
        uri: &str,
        body: Option<Value>,
        auth: Option<&str>,
    ) -> (StatusCode, Value) {
        let mut req = HttpRequest::builder().method(method).uri(uri);
        if let Some(a) = auth {
            req = req.header("authorization", a);
        }
        let req = match body {
            Some(b) => req
                .header("content-type", "application/json")
                .body(Body::from(b.to_string()))
                .unwrap(),
            None => req.body(Body::empty()).unwrap(),
        };
        let resp = router(gw.clone()).oneshot(req).await.unwrap();
        let status = resp.status();
        let bytes = axum::body::to_bytes(resp.into_body(), 1 << 20)
            .await
            .unwrap();
        (
            status,
            serde_json::from_slice(&bytes)
                .unwrap_or(Value::String(String::from_utf8_lossy(&bytes).into())),
        )
    }

    #[tokio::test]
    async fn probes_are_open_and_everything_else_needs_credentials() {
        let (gw, _) = gateway("auth").await;
        let (st, body) = call_with(&gw, "GET", "/api/v1/health", None, None).await;
        assert_eq!((st, body["status"].as_str()), (StatusCode::OK, Some("ok")));
        let (st, _) = call_with(&gw, "GET", "/api/v1/ready", None, None).await;
        assert_eq!(
            st,
            StatusCode::SERVICE_UNAVAILABLE,
            "the core at :9 does not answer"
        );
        let (st, body) = call_with(&gw, "GET", "/api/v1/status", None, None).await;
        assert_eq!(st, StatusCode::UNAUTHORIZED);
        assert_eq!(body["field"], "Authorization");
        let (st, _) = call_with(
            &gw,
            "GET",
            "/api/v1/status",
            None,
            Some("Bearer wrong-token-0123456789"),
        )
        .await;
        assert_eq!(st, StatusCode::UNAUTHORIZED);
        let (st, _) = call_with(
            &gw,
            "GET",
            "/api/v1/peers",
            None,
            Some("Basic b3BzOmJhc2ljLXNlY3JldA=="),
        )
        .await; // ops:basic-secret
        assert_eq!(st, StatusCode::OK);
        let (st, _) = call_with(
            &gw,
            "GET",
            "/api/v1/peers",
            None,
            Some("Basic b3BzOndyb25n"),
        )
        .await; // ops:wrong
        assert_eq!(st, StatusCode::UNAUTHORIZED);
        let (st, body) = call(&gw, "GET", "/api/v1/status", None).await;
        assert_eq!(st, StatusCode::OK);
        assert_eq!(body["binds"].as_array().unwrap().len(), 2);
        assert_eq!(body["binds"][1]["state"], "waiting");
        let (st, body) = call(&gw, "GET", "/api/v1/nothing-here", None).await;
        assert_eq!(st, StatusCode::NOT_FOUND);
        assert!(body["error"]
            .as_str()
            .unwrap()
            .contains("/api/v1/nothing-here"));
        let (st, body) = call(&gw, "DELETE", "/api/v1/status", None).await;
        assert_eq!(st, StatusCode::METHOD_NOT_ALLOWED);
        assert!(body["error"].is_string());
    }

    #[tokio::test]
    async fn bad_bodies_get_4xx_naming_the_field() {
        let (gw, _) = gateway("bad").await;
        let base = json!({"name": "p2", "system_id": "p2", "password": "pw"});
        let with = |k: &str, v: Value| {
            let mut b = base.clone();
            b[k] = v;
            b
        };
        let (st, body) = call(
            &gw,
            "POST",
            "/api/v1/peers/server",
            Some(with("tps_limit", json!("fast"))),
        )
        .await;
        assert_eq!(
            (st, body["field"].as_str()),
            (StatusCode::BAD_REQUEST, Some("tps_limit")),
            "{body}"
        );
        let (st, body) = call(
            &gw,
            "POST",
            "/api/v1/peers/server",
            Some(with("tps_limt", json!(5))),
        )
        .await;
        assert_eq!(
            (st, body["field"].as_str()),
            (StatusCode::BAD_REQUEST, Some("tps_limt")),
            "{body}"
        );
        assert!(
            body["error"]
                .as_str()
                .unwrap()
                .contains("did you mean `tps_limit`"),
            "{body}"
        );
        let (st, body) = call(
            &gw,
            "POST",
            "/api/v1/peers/server",
            Some(with("tps_limit", json!(0))),
        )
        .await;
        assert_eq!(
            (st, body["field"].as_str()),
            (StatusCode::UNPROCESSABLE_ENTITY, Some("tps_limit")),
            "{body}"
        );
        let (st, body) = call(
            &gw,
            "POST",
            "/api/v1/peers/server",
            Some(with("ip_whitelist", json!(["10.0.0.0/8", "10.1.2.300"]))),
        )
        .await;
        assert_eq!(
            (st, body["field"].as_str()),
            (StatusCode::UNPROCESSABLE_ENTITY, Some("ip_whitelist[1]")),
            "{body}"
        );
        let (st, body) = call(
            &gw,
            "POST",
            "/api/v1/peers/server",
            Some(with("system_id", json!("partner"))),
        )
        .await;
        assert_eq!(
            (st, body["field"].as_str()),
            (StatusCode::UNPROCESSABLE_ENTITY, Some("system_id")),
            "duplicate system_id: {body}"
        );
        let (st, body) = call(
            &gw,
            "POST",
            "/api/v1/peers/server",
            Some(with("name", json!("carrier"))),
        )
        .await;
        assert_eq!(
            (st, body["field"].as_str()),
            (StatusCode::CONFLICT, Some("name")),
            "{body}"
        );
        let (st, body) = call(
            &gw,
            "POST",
            "/api/v1/peers/client",
            Some(json!({"name": "c2", "system_id": "x", "password": "y"})),
        )
        .await;
        assert_eq!(
            (st, body["field"].as_str()),
            (StatusCode::BAD_REQUEST, Some("host")),
            "missing host: {body}"
        );
        let (st, body) = call(&gw, "POST", "/api/v1/peers/elsewhere", Some(base.clone())).await;
        assert_eq!(
            (st, body["field"].as_str()),
            (StatusCode::NOT_FOUND, Some("side"))
        );
        let (st, _) = call(&gw, "GET", "/api/v1/logs?level=loud", None).await;
        assert_eq!(st, StatusCode::BAD_REQUEST);
        assert!(
            gw.config().server_binds.len() == 1,
            "no refused edit was applied"
        );
    }

    #[tokio::test]
    async fn peers_are_added_edited_disabled_reverted_and_deleted_and_persisted() {
        let (gw, dir) = gateway("crud").await;
        let (st, body) = call(&gw, "POST", "/api/v1/peers/server", Some(json!({"name": "acme", "system_id": "acme", "password": "acme-secret", "ip_whitelist": ["203.0.113.0/24"]}))).await;
        assert_eq!(st, StatusCode::CREATED, "{body}");
        assert_eq!(
            (
                body["password"].as_str(),
                body["origin"].as_str(),
                body["tps_limit"].as_u64()
            ),
            (Some(PASSWORD_MASK), Some("added"), Some(100))
        );
        let saved = std::fs::read_to_string(dir.join("data/peer-overrides.json")).unwrap();
        assert!(saved.contains("\"acme\""), "persisted: {saved}");

        let (st, body) = call(
            &gw,
            "PATCH",
            "/api/v1/peers/server/acme",
            Some(json!({"tps_limit": 7, "password": PASSWORD_MASK})),
        )
        .await;
        assert_eq!(
            (st, body["tps_limit"].as_u64()),
            (StatusCode::OK, Some(7)),
            "{body}"
        );
        let acme = gw
            .config()
            .server_binds
            .iter()
            .find(|b| b.name == "acme")
            .cloned()
            .unwrap();
        assert_eq!(
            (acme.tps_limit, acme.password.as_str()),
            (7, "acme-secret"),
            "PATCH keeps the password it was not given"
        );

        let (st, _) = call(
            &gw,
            "PATCH",
            "/api/v1/peers/server/partner",
            Some(json!({"password": "rotated-secret"})),
        )
        .await;
        assert_eq!(st, StatusCode::OK);
        assert_eq!(
            gw.config()
                .server_binds
                .iter()
                .find(|b| b.name == "partner")
                .unwrap()
                .password,
            "rotated-secret"
        );
        let (_, body) = call(&gw, "GET", "/api/v1/peers/server/partner", None).await;
        assert_eq!(body["origin"], "edited");

        let (st, body) = call(&gw, "POST", "/api/v1/peers/client/carrier/disable", None).await;
        assert_eq!(
            (st, body["enabled"].as_bool()),
            (StatusCode::OK, Some(false)),
            "{body}"
        );
        let (_, status) = call(&gw, "GET", "/api/v1/status/carrier", None).await;
        assert_eq!(status["state"], "disabled");
        assert!(
            gw.client("carrier").await.is_none(),
            "a disabled client bind is stopped"
        );
        let (st, body) = call(&gw, "POST", "/api/v1/peers/client/carrier/revert", None).await;
        assert_eq!(
            (st, body["enabled"].as_bool()),
            (StatusCode::OK, Some(true)),
            "the file's definition is back: {body}"
        );
        assert!(gw.client("carrier").await.is_some());
        let (st, _) = call(&gw, "POST", "/api/v1/peers/client/carrier/revert", None).await;
        assert_eq!(st, StatusCode::CONFLICT, "nothing left to revert");

        let (st, _) = call(&gw, "DELETE", "/api/v1/peers/server/acme", None).await;
        assert_eq!(st, StatusCode::OK);
        let (st, _) = call(&gw, "GET", "/api/v1/peers/server/acme", None).await;
        assert_eq!(st, StatusCode::NOT_FOUND);
        let o =
            crate::supervisor::PeerOverrides::load(&dir.join("data/peer-overrides.json")).unwrap();
        assert_eq!(
            o.server.get("acme"),
            Some(&None),
            "a deleted peer is remembered as deleted"
        );
        assert!(o
            .server
            .get("partner")
            .unwrap()
            .as_ref()
            .is_some_and(|p| p.password == "rotated-secret"));
    }

    #[tokio::test]
    async fn no_secret_leaves_the_api() {
        let (gw, _) = gateway("secrets").await;
        let mut all = String::new();
        for uri in [
            "/api/v1/status",
            "/api/v1/peers",
            "/api/v1/peers/client",
            "/api/v1/peers/server/partner",
            "/api/v1/config",
            "/api/v1/logs?limit=10000",
        ] {
            let (st, body) = call(&gw, "GET", uri, None).await;
            assert_eq!(st, StatusCode::OK, "{uri}");
            all.push_str(&body.to_string());
        }
        for secret in ["carrier-secret", "partner-secret", "basic-secret", TOKEN] {
            assert!(!all.contains(secret), "{secret} leaked");
        }
        assert!(all.contains(PASSWORD_MASK));
    }

    #[tokio::test]
    async fn binds_are_reconnected_and_dropped_by_name() {
        let (gw, _) = gateway("binds").await;
        let (st, body) = call(&gw, "POST", "/api/v1/binds/carrier/reconnect", None).await;
        assert_eq!(
            (st, body["connections"].as_u64()),
            (StatusCode::OK, Some(1))
        );
        let (st, body) = call(&gw, "POST", "/api/v1/binds/partner/drop", None).await;
        assert_eq!(
            (st, body["connections"].as_u64()),
            (StatusCode::OK, Some(0)),
            "nobody bound as partner"
        );
        let (st, _) = call(&gw, "POST", "/api/v1/binds/partner/reconnect", None).await;
        assert_eq!(st, StatusCode::BAD_REQUEST);
        let (st, _) = call(&gw, "POST", "/api/v1/binds/nobody/drop", None).await;
        assert_eq!(st, StatusCode::NOT_FOUND);
    }

    #[tokio::test]
    async fn reload_reports_a_bad_file_and_changes_nothing() {
        let (gw, dir) = gateway("reload").await;
        let path = dir.join("gw.toml");
        let good = std::fs::read_to_string(&path).unwrap();
        std::fs::write(
            &path,
            good.replace("name = \"partner\"", "name = \"partner\"\ntps_limit = 0"),
        )
        .unwrap();
        let (st, body) = call(&gw, "POST", "/api/v1/reload", None).await;
        assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(
            body["problems"][0]["reason"]
                .as_str()
                .unwrap()
                .contains("server_binds[0].tps_limit"),
            "{body}"
        );
        assert_eq!(gw.config().server_binds[0].tps_limit, 100);
        std::fs::write(
            &path,
            good.replace("name = \"partner\"", "name = \"partner\"\ntps_limit = 42"),
        )
        .unwrap();
        let (st, _) = call(&gw, "POST", "/api/v1/reload", None).await;
        assert_eq!(st, StatusCode::OK);
        assert_eq!(gw.config().server_binds[0].tps_limit, 42);
    }

    #[tokio::test]
    async fn the_stream_starts_with_a_status_snapshot() {
        let (gw, _) = gateway("stream").await;
        let req = HttpRequest::builder()
            .uri("/api/v1/stream?logs=false")
            .header("authorization", format!("Bearer {TOKEN}"))
            .body(Body::empty())
            .unwrap();
        let resp = router(gw.clone()).oneshot(req).await.unwrap();
        assert_eq!(resp.status(), StatusCode::OK);
        assert_eq!(resp.headers()["content-type"], "text/event-stream");
        let mut body = resp.into_body().into_data_stream();
        use futures::StreamExt as _;
        let first = tokio::time::timeout(Duration::from_secs(5), body.next())
            .await
            .unwrap()
            .unwrap()
            .unwrap();
        let text = String::from_utf8_lossy(&first);
        assert!(text.starts_with("event: status\ndata: {"), "{text}");
        assert!(text.contains("\"carrier\""), "{text}");
        gw.shutdown.cancel();
        let end = tokio::time::timeout(Duration::from_secs(5), async {
            while let Some(chunk) = body.next().await {
                if chunk.is_err() {
                    break;
                }
            }
        })
        .await;
        assert!(end.is_ok(), "the stream ends when the gateway stops");
    }

    async fn raw(
        gw: &Arc<Gateway>,
        uri: &str,
        auth: Option<&str>,
    ) -> (StatusCode, HeaderMap, Vec<u8>) {
        let mut req = HttpRequest::builder().uri(uri);
        if let Some(a) = auth {
            req = req.header("authorization", a);
        }
        let resp = router(gw.clone())
            .oneshot(req.body(Body::empty()).unwrap())
            .await
            .unwrap();
        let (parts, body) = resp.into_parts();
        (
            parts.status,
            parts.headers,
            axum::body::to_bytes(body, 1 << 22).await.unwrap().to_vec(),
        )
    }

    #[tokio::test]
    async fn the_dashboard_is_served_without_credentials_with_its_content_types() {
        let (gw, _) = gateway("dashboard").await;
        let (st, headers, body) = raw(&gw, "/", None).await;
        assert_eq!(st, StatusCode::OK);
        assert_eq!(headers["content-type"], "text/html; charset=utf-8");
        let html = String::from_utf8(body).unwrap();
        assert!(
            html.starts_with("<!doctype html>") && html.contains("<script src=\"/ui/app.js\""),
            "{html:.200}"
        );
        assert!(headers["content-security-policy"]
            .to_str()
            .unwrap()
            .contains("default-src 'self'"));
        assert_eq!(headers["x-content-type-options"], "nosniff");
        for (uri, ct, needle) in [
            (
                "/ui/app.js",
                "text/javascript; charset=utf-8",
                "/api/v1/stream",
            ),
            ("/ui/app.css", "text/css; charset=utf-8", ".state.connected"),
            ("/ui/favicon.svg", "image/svg+xml", "<svg"),
            (
                "/ui/index.html",
                "text/html; charset=utf-8",
                "id=\"login-form\"",
            ),
            ("/ui/", "text/html; charset=utf-8", "id=\"login-form\""),
        ] {
            let (st, headers, body) = raw(&gw, uri, None).await;
            assert_eq!(
                (st, headers["content-type"].to_str().unwrap()),
                (StatusCode::OK, ct),
                "{uri}"
            );
            assert!(
                String::from_utf8_lossy(&body).contains(needle),
                "{uri} lacks {needle}"
            );
        }
        let (st, _, body) = raw(&gw, "/ui/secrets.toml", None).await;
        assert_eq!(
            st,
            StatusCode::NOT_FOUND,
            "{}",
            String::from_utf8_lossy(&body)
        );
        let (st, _, _) = raw(&gw, "/ui/..%2Fsrc%2Fmain.rs", None).await;
        assert_eq!(st, StatusCode::NOT_FOUND, "only embedded files are served");
    }

    #[tokio::test]
    async fn the_assets_are_embedded_and_reference_nothing_outside() {
        for a in crate::dashboard::ASSETS {
            let on_disk = std::fs::read(
                std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
                    .join("assets/dashboard")
                    .join(a.name),
            )
            .unwrap();
            assert_eq!(
                a.body,
                on_disk.as_slice(),
                "{} is the file in assets/dashboard",
                a.name
            );
            let text = String::from_utf8_lossy(a.body);
            for far in ["http://", "https://", "//cdn", "@import"] {
                let hits: Vec<&str> = text
                    .lines()
                    .filter(|l| l.contains(far) && !l.contains("http://www.w3.org/2000/svg"))
                    .collect();
                assert!(
                    hits.is_empty(),
                    "{} loads something from elsewhere: {hits:?}",
                    a.name
                );
            }
        }
        // Every file the page names is embedded.
        let html = String::from_utf8_lossy(crate::dashboard::asset("index.html").unwrap().body)
            .to_string();
        for part in html.split("\"/ui/").skip(1) {
            let name = part.split('"').next().unwrap();
            assert!(
                crate::dashboard::asset(name).is_some(),
                "index.html names /ui/{name}, not embedded"
            );
        }
    }

    #[tokio::test]
    async fn the_dashboards_data_calls_refuse_without_credentials() {
        let (gw, _) = gateway("dashboard-auth").await;
        // Every call app.js makes.
        for uri in [
            "/api/v1/status",
            "/api/v1/peers/client",
            "/api/v1/peers/server",
            "/api/v1/cache",
            "/api/v1/cache/partner/entries?status=failed_permanent",
            "/api/v1/logs?limit=500",
            "/api/v1/stream?status_ms=1000",
        ] {
            let (st, _, _) = raw(&gw, uri, None).await;
            assert_eq!(st, StatusCode::UNAUTHORIZED, "{uri} without credentials");
            let (st, _, _) = raw(&gw, uri, Some("Bearer not-the-token-at-all")).await;
            assert_eq!(st, StatusCode::UNAUTHORIZED, "{uri} with a wrong token");
        }
        let (st, _, _) = raw(
            &gw,
            "/api/v1/peers/client",
            Some(&format!("Bearer {TOKEN}")),
        )
        .await;
        assert_eq!(st, StatusCode::OK);
    }

    /// A browser holds a request answered 401 with `Basic` behind its own prompt: the
    /// dashboard's calls are challenged with `Bearer`, everyone else's still with `Basic`.
    #[tokio::test]
    async fn dashboard_calls_get_a_challenge_no_browser_prompts_for() {
        let (gw, _) = gateway("dashboard-challenge").await;
        let req = HttpRequest::builder()
            .uri("/api/v1/status")
            .header("x-requested-with", DASHBOARD_CALLER)
            .body(Body::empty())
            .unwrap();
        let resp = router(gw.clone()).oneshot(req).await.unwrap();
        assert_eq!(resp.status(), StatusCode::UNAUTHORIZED);
        assert_eq!(
            resp.headers()["www-authenticate"],
            "Bearer realm=\"smppgw\""
        );
        let (st, headers, _) = raw(&gw, "/api/v1/status", None).await;
        assert_eq!(st, StatusCode::UNAUTHORIZED);
        assert_eq!(headers["www-authenticate"], "Basic realm=\"smppgw\"");
        assert!(
            include_str!("../assets/dashboard/app.js").contains(&format!("\"{DASHBOARD_CALLER}\"")),
            "app.js must send the caller name the guard checks"
        );
    }

    #[tokio::test]
    async fn the_openapi_document_names_every_route() {
        for path in [
            "/api/v1/health",
            "/api/v1/ready",
            "/api/v1/status:",
            "/api/v1/status/{name}",
            "/api/v1/peers:",
            "/api/v1/peers/{side}:",
            "/api/v1/peers/{side}/{name}:",
            "/api/v1/peers/{side}/{name}/{action}",
            "/api/v1/binds/{name}/{action}",
            "/api/v1/reload",
            "/api/v1/config",
            "/api/v1/logs",
            "/api/v1/stream",
        ] {
            assert!(
                OPENAPI_YAML.contains(&format!("  {path}")),
                "docs/admin-api.yaml lacks {path}"
            );
        }
        let (gw, _) = gateway("openapi").await;
        let (st, body) = call_with(&gw, "GET", "/api/v1/openapi.yaml", None, None).await;
        assert_eq!(st, StatusCode::OK);
        assert!(body.as_str().unwrap().starts_with("openapi: 3"));
    }
}
