//! The admin API (port 8087, loopback by default; `docs/admin-api.yaml`).
//!
//! Authentication: `Authorization: Bearer <[admin] token>` or HTTP Basic with
//! `[admin] username`/`password`. Without any credential configured, every call but the health
//! and readiness probes is refused (401) — an admin API is never open by accident.
//!
//! | call | what |
//! | --- | --- |
//! | `GET /api/v1/health` | liveness (no auth) |
//! | `GET /api/v1/ready` | 200 when the core answers, else 503 (no auth) |
//! | `GET /api/v1/status` | totals and one row per bind: state, uptime, counters, window, TPS now |
//! | `GET/POST /api/v1/peers/{client,server}` | list, add |
//! | `GET/PUT/DELETE /api/v1/peers/{client,server}/{name}` | show, replace, delete |
//! | `POST /api/v1/peers/{client,server}/{name}/{enable,disable}` | enable, disable |
//! | `POST /api/v1/binds/{name}/reconnect` | a client bind reconnects now |
//! | `POST /api/v1/binds/{name}/drop` | drop the connection(s) of a bind at once |
//!
//! Bad requests get a 4xx with `{"error": …, "field": …, "problems": [{key, reason}]}`.
//! Passwords are never returned: peers are shown with `"password": "********"`, and a `PUT`
//! that leaves the password out (or sends that mask) keeps the stored one.

use std::sync::Arc;

use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Serialize;
use serde_json::{json, Value};
use smpp_session::LinkState;

use crate::app::Gateway;
use crate::config::{ClientBind, ConfigProblem, ServerBind};
use crate::supervisor::PeerEdit;
use crate::telemetry;

/// What a password looks like in every answer.
pub const PASSWORD_MASK: &str = "********";

/// The admin router.
pub fn router(gw: Arc<Gateway>) -> Router {
    Router::new()
        .route("/api/v1/health", get(|| async { Json(json!({"status": "ok"})) }))
        .route("/api/v1/ready", get(ready))
        .route("/api/v1/status", get(status))
        .route("/api/v1/peers/{side}", get(list_peers).post(add_peer))
        .route("/api/v1/peers/{side}/{name}", get(show_peer).put(replace_peer).delete(delete_peer))
        .route("/api/v1/peers/{side}/{name}/{action}", post(peer_action))
        .route("/api/v1/binds/{name}/{action}", post(bind_action))
        .merge(crate::admin_cache::routes())
        .with_state(gw)
}

type ApiResult = Result<Response, Response>;

fn error(status: StatusCode, msg: impl Into<String>, field: Option<&str>) -> Response {
    (status, Json(json!({"error": msg.into(), "field": field}))).into_response()
}

fn problems(list: Vec<ConfigProblem>) -> Response {
    // Report the field of the edited peer when the problem is about one (`binds[2].port` → `port`).
    let field = list.first().map(|p| p.key.rsplit_once('.').map(|(_, f)| f.to_string()).unwrap_or_else(|| p.key.clone()));
    let detail: Vec<Value> = list.iter().map(|p| json!({"key": p.key, "reason": p.reason})).collect();
    let msg = list.iter().map(|p| p.to_string()).collect::<Vec<_>>().join("; ");
    (StatusCode::UNPROCESSABLE_ENTITY, Json(json!({"error": msg, "field": field, "problems": detail}))).into_response()
}

/// Whether the request carries the configured credentials.
pub fn authorized(gw: &Gateway, headers: &HeaderMap) -> bool {
    use base64::Engine as _;
    let cfg = gw.config();
    let Some(value) = headers.get(axum::http::header::AUTHORIZATION).and_then(|v| v.to_str().ok()) else { return false };
    if let (Some(token), Some(given)) = (cfg.admin.token.as_deref(), value.strip_prefix("Bearer ")) {
        return constant_time_eq(token.as_bytes(), given.trim().as_bytes());
    }
    if let (Some(user), Some(pass), Some(b64)) = (cfg.admin.username.as_deref(), cfg.admin.password.as_deref(), value.strip_prefix("Basic ")) {
        let Ok(raw) = base64::engine::general_purpose::STANDARD.decode(b64.trim()) else { return false };
        let Ok(text) = String::from_utf8(raw) else { return false };
        let Some((u, p)) = text.split_once(':') else { return false };
        return constant_time_eq(u.as_bytes(), user.as_bytes()) & constant_time_eq(p.as_bytes(), pass.as_bytes());
    }
    false
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

fn guard(gw: &Gateway, headers: &HeaderMap) -> Result<(), Response> {
    if authorized(gw, headers) {
        return Ok(());
    }
    tracing::warn!("admin API: request without valid credentials refused");
    let mut r = error(StatusCode::UNAUTHORIZED, "missing or wrong credentials (Bearer token or Basic auth)", Some("Authorization"));
    r.headers_mut().insert(axum::http::header::WWW_AUTHENTICATE, axum::http::HeaderValue::from_static("Basic realm=\"smppgw\""));
    Err(r)
}

async fn ready(State(gw): State<Arc<Gateway>>) -> Response {
    match gw.core.health().await {
        Ok(_) => Json(json!({"status": "ready"})).into_response(),
        Err(e) => (StatusCode::SERVICE_UNAVAILABLE, Json(json!({"status": "core unreachable", "error": e.to_string()}))).into_response(),
    }
}

/// One bind in the status answer.
#[derive(Debug, Serialize)]
pub struct BindStatus {
    /// Peer name.
    pub name: String,
    /// `client` or `server`.
    pub mode: &'static str,
    /// `connected`, `connecting`, `disconnected`, `waiting` (server peer, nobody bound) or `disabled`.
    pub state: String,
    /// `system_id` used on the bind.
    pub system_id: String,
    /// Client binds: the SMSC's host and port, and the bind type.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub host: Option<String>,
    /// Client binds: the SMSC's port.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub port: Option<u16>,
    /// Client binds: transmitter, receiver or transceiver.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub bind_type: Option<&'static str>,
    /// Seconds since the bind came up (0 when down).
    pub uptime_seconds: u64,
    /// Bound sessions (server peers may have several).
    pub sessions: usize,
    /// Messages sent on the bind since start.
    pub sent: u64,
    /// Messages received on the bind since start.
    pub received: u64,
    /// Sends that failed since start.
    pub failed: u64,
    /// Requests awaiting a response now.
    pub in_flight: usize,
    /// The window (most requests in flight per session).
    pub window_size: usize,
    /// Messages sent in the last whole second.
    pub tps_now: u64,
    /// The TPS limit.
    pub tps_limit: u32,
    /// Why the bind last went down or failed, client binds.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_error: Option<String>,
}

/// Totals over all binds, as the seed's live status page shows them.
#[derive(Debug, Serialize)]
pub struct Totals {
    /// Client binds connected.
    pub client_connected: usize,
    /// Client binds configured and not connected.
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
    /// The core's URL.
    pub core: String,
    /// The SMPP listener.
    pub listen: crate::config::Listen,
    /// Totals.
    pub totals: Totals,
    /// Every configured bind.
    pub binds: Vec<BindStatus>,
}

/// Build the status (shared by the API and the dashboard).
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
                let up = if s.state == LinkState::Bound { s.since.elapsed().as_secs() } else { 0 };
                (state.to_string(), s.last_error, h.stats().in_flight.load(std::sync::atomic::Ordering::Relaxed), up)
            }
        };
        binds.push(BindStatus {
            name: b.name.clone(),
            mode: "client",
            sessions: usize::from(state == "connected"),
            state,
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
            tps_limit: b.tps_limit,
            last_error,
        });
    }
    let sessions = gw.registry.snapshot();
    for b in &cfg.server_binds {
        let counters = telemetry::counters(&b.name);
        let mine: Vec<_> = sessions.iter().filter(|s| s.info.peer_name == b.name).collect();
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
            tps_limit: b.tps_limit,
            last_error: None,
        });
    }
    let totals = Totals {
        client_connected: binds.iter().filter(|b| b.mode == "client" && b.state == "connected").count(),
        client_disconnected: binds.iter().filter(|b| b.mode == "client" && b.state != "connected").count(),
        server_active: binds.iter().filter(|b| b.mode == "server" && b.state == "connected").count(),
        server_waiting: binds.iter().filter(|b| b.mode == "server" && b.state == "waiting").count(),
    };
    Status { uptime_seconds: gw.started.elapsed().as_secs(), core: gw.core.base_url().to_string(), listen: cfg.listen.clone(), totals, binds }
}

async fn status(State(gw): State<Arc<Gateway>>, headers: HeaderMap) -> ApiResult {
    guard(&gw, &headers)?;
    Ok(Json(build_status(&gw).await).into_response())
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

#[derive(Clone, Copy, PartialEq, Eq)]
enum Side {
    Client,
    Server,
}

fn side(s: &str) -> Result<Side, Response> {
    match s {
        "client" => Ok(Side::Client),
        "server" => Ok(Side::Server),
        _ => Err(error(StatusCode::NOT_FOUND, format!("no such peer kind {s:?}: use client or server"), Some("side"))),
    }
}

async fn list_peers(State(gw): State<Arc<Gateway>>, Path(s): Path<String>, headers: HeaderMap) -> ApiResult {
    guard(&gw, &headers)?;
    let cfg = gw.config();
    let list: Vec<Value> = match side(&s)? {
        Side::Client => cfg.binds.iter().map(masked).collect(),
        Side::Server => cfg.server_binds.iter().map(masked).collect(),
    };
    Ok(Json(list).into_response())
}

async fn show_peer(State(gw): State<Arc<Gateway>>, Path((s, name)): Path<(String, String)>, headers: HeaderMap) -> ApiResult {
    guard(&gw, &headers)?;
    let cfg = gw.config();
    let found = match side(&s)? {
        Side::Client => cfg.binds.iter().find(|b| b.name == name).map(masked),
        Side::Server => cfg.server_binds.iter().find(|b| b.name == name).map(masked),
    };
    found.map(|v| Json(v).into_response()).ok_or_else(|| error(StatusCode::NOT_FOUND, format!("no {s} peer named {name:?}"), Some("name")))
}

/// Parse a peer from a JSON body; a missing or masked password is taken from `keep`.
fn parse_peer<T: serde::de::DeserializeOwned>(mut body: Value, keep_password: Option<&str>) -> Result<T, Response> {
    if let (Some(o), Some(old)) = (body.as_object_mut(), keep_password) {
        let masked_or_absent = o.get("password").is_none_or(|p| p.as_str() == Some(PASSWORD_MASK));
        if masked_or_absent {
            o.insert("password".into(), Value::String(old.to_string()));
        }
    }
    serde_json::from_value(body).map_err(|e| {
        let text = e.to_string();
        // serde names the field in its messages: "missing field `host`", "unknown field `hots`".
        let field = text.split('`').nth(1).map(str::to_string);
        error(StatusCode::BAD_REQUEST, text, field.as_deref())
    })
}

async fn add_peer(State(gw): State<Arc<Gateway>>, Path(s): Path<String>, headers: HeaderMap, Json(body): Json<Value>) -> ApiResult {
    guard(&gw, &headers)?;
    let cfg = gw.config();
    let edit = match side(&s)? {
        Side::Client => {
            let b: ClientBind = parse_peer(body, None)?;
            if cfg.binds.iter().any(|x| x.name == b.name) || cfg.server_binds.iter().any(|x| x.name == b.name) {
                return Err(error(StatusCode::CONFLICT, format!("a peer named {:?} exists", b.name), Some("name")));
            }
            PeerEdit::Client(b.name.clone(), Some(b))
        }
        Side::Server => {
            let b: ServerBind = parse_peer(body, None)?;
            if cfg.binds.iter().any(|x| x.name == b.name) || cfg.server_binds.iter().any(|x| x.name == b.name) {
                return Err(error(StatusCode::CONFLICT, format!("a peer named {:?} exists", b.name), Some("name")));
            }
            PeerEdit::Server(b.name.clone(), Some(b))
        }
    };
    let name = match &edit {
        PeerEdit::Client(n, _) | PeerEdit::Server(n, _) => n.clone(),
    };
    gw.edit_peer(edit).await.map_err(problems)?;
    tracing::info!(peer = %name, side = %s, "peer added through the admin API");
    Ok((StatusCode::CREATED, Json(json!({"ok": true, "name": name}))).into_response())
}

async fn replace_peer(State(gw): State<Arc<Gateway>>, Path((s, name)): Path<(String, String)>, headers: HeaderMap, Json(body): Json<Value>) -> ApiResult {
    guard(&gw, &headers)?;
    let cfg = gw.config();
    let not_found = || error(StatusCode::NOT_FOUND, format!("no {s} peer named {name:?}"), Some("name"));
    let edit = match side(&s)? {
        Side::Client => {
            let old = cfg.binds.iter().find(|b| b.name == name).ok_or_else(not_found)?;
            let b: ClientBind = parse_peer(body, Some(&old.password))?;
            if b.name != name {
                return Err(error(StatusCode::BAD_REQUEST, "the name in the body differs from the path; delete and add to rename", Some("name")));
            }
            PeerEdit::Client(name.clone(), Some(b))
        }
        Side::Server => {
            let old = cfg.server_binds.iter().find(|b| b.name == name).ok_or_else(not_found)?;
            let b: ServerBind = parse_peer(body, Some(&old.password))?;
            if b.name != name {
                return Err(error(StatusCode::BAD_REQUEST, "the name in the body differs from the path; delete and add to rename", Some("name")));
            }
            PeerEdit::Server(name.clone(), Some(b))
        }
    };
    gw.edit_peer(edit).await.map_err(problems)?;
    tracing::info!(peer = %name, side = %s, "peer edited through the admin API");
    Ok(Json(json!({"ok": true, "name": name})).into_response())
}

async fn delete_peer(State(gw): State<Arc<Gateway>>, Path((s, name)): Path<(String, String)>, headers: HeaderMap) -> ApiResult {
    guard(&gw, &headers)?;
    let cfg = gw.config();
    let exists = match side(&s)? {
        Side::Client => cfg.binds.iter().any(|b| b.name == name),
        Side::Server => cfg.server_binds.iter().any(|b| b.name == name),
    };
    if !exists {
        return Err(error(StatusCode::NOT_FOUND, format!("no {s} peer named {name:?}"), Some("name")));
    }
    let edit = if side(&s)? == Side::Client { PeerEdit::Client(name.clone(), None) } else { PeerEdit::Server(name.clone(), None) };
    gw.edit_peer(edit).await.map_err(problems)?;
    tracing::info!(peer = %name, side = %s, "peer deleted through the admin API");
    Ok(Json(json!({"ok": true, "name": name})).into_response())
}

async fn peer_action(State(gw): State<Arc<Gateway>>, Path((s, name, action)): Path<(String, String, String)>, headers: HeaderMap) -> ApiResult {
    guard(&gw, &headers)?;
    let enabled = match action.as_str() {
        "enable" => true,
        "disable" => false,
        _ => return Err(error(StatusCode::NOT_FOUND, format!("no action {action:?}: use enable or disable"), Some("action"))),
    };
    let cfg = gw.config();
    let not_found = || error(StatusCode::NOT_FOUND, format!("no {s} peer named {name:?}"), Some("name"));
    let edit = match side(&s)? {
        Side::Client => {
            let mut b = cfg.binds.iter().find(|b| b.name == name).cloned().ok_or_else(not_found)?;
            b.enabled = enabled;
            PeerEdit::Client(name.clone(), Some(b))
        }
        Side::Server => {
            let mut b = cfg.server_binds.iter().find(|b| b.name == name).cloned().ok_or_else(not_found)?;
            b.enabled = enabled;
            PeerEdit::Server(name.clone(), Some(b))
        }
    };
    gw.edit_peer(edit).await.map_err(problems)?;
    tracing::info!(peer = %name, side = %s, enabled, "peer {action}d through the admin API");
    Ok(Json(json!({"ok": true, "name": name, "enabled": enabled})).into_response())
}

async fn bind_action(State(gw): State<Arc<Gateway>>, Path((name, action)): Path<(String, String)>, headers: HeaderMap) -> ApiResult {
    guard(&gw, &headers)?;
    let cfg = gw.config();
    let is_client = cfg.binds.iter().any(|b| b.name == name);
    let is_server = cfg.server_binds.iter().any(|b| b.name == name);
    if !is_client && !is_server {
        return Err(error(StatusCode::NOT_FOUND, format!("no bind named {name:?}"), Some("name")));
    }
    match (action.as_str(), is_client) {
        ("reconnect", true) => match gw.client(&name).await {
            Some(h) => h.reconnect(),
            None => return Err(error(StatusCode::CONFLICT, format!("{name} is disabled"), Some("name"))),
        },
        ("reconnect", false) => return Err(error(StatusCode::BAD_REQUEST, "a server peer reconnects itself; use drop", Some("action"))),
        ("drop", true) => {
            if let Some(h) = gw.client(&name).await {
                h.drop_connection();
            }
        }
        ("drop", false) => gw.registry.drop_peer(&name),
        _ => return Err(error(StatusCode::NOT_FOUND, format!("no action {action:?}: use reconnect or drop"), Some("action"))),
    }
    tracing::warn!(bind = %name, action = %action, "operator action through the admin API");
    Ok(Json(json!({"ok": true, "name": name, "action": action})).into_response())
}
