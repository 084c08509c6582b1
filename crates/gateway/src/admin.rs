//! The admin API (port 8087, loopback by default): health and live status of every bind.
//! With `[admin] token` set, every call but `/api/v1/health` needs `Authorization: Bearer
//! <token>`. Tested without a socket through [`router`].

use std::sync::Arc;
use std::time::Instant;

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use serde::Serialize;
use smpp_session::LinkState;

use crate::app::Gateway;

#[derive(Clone)]
struct AdminState {
    gw: Arc<Gateway>,
    started: Instant,
}

/// One bind in the status answer.
#[derive(Debug, Serialize)]
pub struct BindStatus {
    /// Peer name.
    pub name: String,
    /// `client` or `server`.
    pub mode: &'static str,
    /// `connected`, `connecting`, `disconnected`, `stopped`, `waiting` (server, nobody bound),
    /// or `disabled`.
    pub state: String,
    /// Bound sessions (server binds; 0/1 for client binds).
    pub sessions: usize,
    /// Requests awaiting responses.
    pub in_flight: usize,
    /// The last error, client binds.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_error: Option<String>,
}

/// The status answer.
#[derive(Debug, Serialize)]
pub struct Status {
    /// Seconds since start.
    pub uptime_seconds: u64,
    /// The core's URL.
    pub core: String,
    /// Every configured bind.
    pub binds: Vec<BindStatus>,
}

/// The admin router.
pub fn router(gw: Arc<Gateway>, started: Instant) -> Router {
    Router::new()
        .route("/api/v1/health", get(|| async { Json(serde_json::json!({"status": "ok"})) }))
        .route("/api/v1/status", get(status))
        .with_state(AdminState { gw, started })
}

fn authorized(gw: &Gateway, headers: &HeaderMap) -> bool {
    let cfg = gw.config();
    let Some(token) = cfg.admin.token.as_deref() else { return true };
    headers
        .get(axum::http::header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .is_some_and(|t| t == token)
}

async fn status(State(st): State<AdminState>, headers: HeaderMap) -> Response {
    if !authorized(&st.gw, &headers) {
        return (StatusCode::UNAUTHORIZED, Json(serde_json::json!({"error": "missing or wrong bearer token", "field": "Authorization"}))).into_response();
    }
    let cfg = st.gw.config();
    let mut binds = Vec::new();
    for b in &cfg.binds {
        let (state, last_error, in_flight) = match st.gw.client(&b.name) {
            None => ("disabled".to_string(), None, 0),
            Some(h) => {
                let s = h.status();
                let state = match s.state {
                    LinkState::Bound => "connected",
                    LinkState::Connecting => "connecting",
                    LinkState::Disconnected => "disconnected",
                    LinkState::Stopped => "stopped",
                };
                (state.to_string(), s.last_error, h.stats().in_flight.load(std::sync::atomic::Ordering::Relaxed))
            }
        };
        binds.push(BindStatus { name: b.name.clone(), mode: "client", sessions: usize::from(state == "connected"), state, in_flight, last_error });
    }
    let sessions = st.gw.registry.snapshot();
    for b in &cfg.server_binds {
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
            sessions: mine.len(),
            in_flight: mine.iter().map(|s| s.in_flight).sum(),
            last_error: None,
        });
    }
    Json(Status { uptime_seconds: st.started.elapsed().as_secs(), core: st.gw.core.base_url().to_string(), binds }).into_response()
}
