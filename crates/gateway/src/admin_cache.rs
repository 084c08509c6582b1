//! The retry cache's operations in the admin API (seed 002, "Cache de Messages SMPP" →
//! "Surveillance", "Interventions Manuelles"; `docs/retry-cache.md`). Same authentication and
//! error shape as the rest of the admin API ([`crate::admin`]).
//!
//! | call | what |
//! | --- | --- |
//! | `GET /api/v1/cache` | storage, directory, health; totals; one line per bind (total, pending, delivering, failed permanent, max size, utilisation %) |
//! | `GET /api/v1/cache/{bind}/entries?status=&limit=&offset=` | the bind's entries, oldest first (`status`: `pending`, `delivering`, `failed_permanent`; `limit` default 100, at most 10 000) |
//! | `POST /api/v1/cache/{bind}/entries/{id}/retry` | retry one entry now (`pending`, retry count 0) |
//! | `DELETE /api/v1/cache/{bind}/entries/{id}` | delete one entry |
//! | `POST /api/v1/cache/{bind}/pending/retry` | every `pending` entry of the bind due now, retry counts kept ("deliver now" once the core is back) |
//! | `POST /api/v1/cache/{bind}/failed/retry` | retry every `failed_permanent` entry of the bind |
//! | `DELETE /api/v1/cache/{bind}/failed` | delete every `failed_permanent` entry of the bind |
//!
//! 404 for a bind that is neither configured nor in the cache, or an id with no entry; 503
//! while the cache is unavailable (the answer says why); 500 when the store fails the change.

use std::sync::Arc;

use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get, post};
use axum::{Json, Router};
use retry_cache::{BindSummary, CacheSummary, Entry, Item, RetryCache, Status};
use serde::{Deserialize, Serialize};
use serde_json::json;

use crate::app::Gateway;

/// The cache routes, to be merged into the admin router.
pub fn routes() -> Router<Arc<Gateway>> {
    Router::new()
        .route("/api/v1/cache", get(summary))
        .route("/api/v1/cache/{bind}/entries", get(entries))
        .route("/api/v1/cache/{bind}/entries/{id}", delete(delete_one))
        .route("/api/v1/cache/{bind}/entries/{id}/retry", post(retry_one))
        .route("/api/v1/cache/{bind}/failed", delete(delete_failed))
        .route("/api/v1/cache/{bind}/failed/retry", post(retry_failed))
        .route("/api/v1/cache/{bind}/pending/retry", post(retry_pending))
}

type ApiResult = Result<Response, Response>;

fn error(status: StatusCode, msg: impl Into<String>, field: Option<&str>) -> Response {
    (status, Json(json!({"error": msg.into(), "field": field}))).into_response()
}

fn guard(gw: &Gateway, headers: &HeaderMap) -> Result<(), Response> {
    if crate::admin::authorized(gw, headers) {
        return Ok(());
    }
    tracing::warn!("admin API: request without valid credentials refused");
    let mut r = error(
        StatusCode::UNAUTHORIZED,
        "missing or wrong credentials (Bearer token or Basic auth)",
        Some("Authorization"),
    );
    r.headers_mut().insert(
        axum::http::header::WWW_AUTHENTICATE,
        axum::http::HeaderValue::from_static("Basic realm=\"smppgw\""),
    );
    Err(r)
}

/// `GET /api/v1/cache`.
#[derive(Debug, Serialize)]
pub struct CacheView {
    /// `disk` or `memory`.
    pub storage: &'static str,
    /// The cache's directory (disk storage).
    pub dir: String,
    /// The cache is open and its store works.
    pub available: bool,
    /// Why it is not, when it is not (directory unwritable, disk full …).
    pub error: Option<String>,
    /// Totals over every bind.
    pub summary: CacheSummary,
    /// One line per bind with the cache enabled or entries cached.
    pub binds: Vec<BindSummary>,
}

fn open_cache(gw: &Gateway) -> Result<RetryCache, Response> {
    let slot = gw.handover.cache();
    slot.get().ok_or_else(|| {
        error(
            StatusCode::SERVICE_UNAVAILABLE,
            format!(
                "retry cache unavailable: {}",
                slot.error().unwrap_or_default()
            ),
            None,
        )
    })
}

async fn summary(State(gw): State<Arc<Gateway>>, headers: HeaderMap) -> ApiResult {
    guard(&gw, &headers)?;
    let slot = gw.handover.cache();
    let cfg = slot.config();
    let (summary, binds) = match slot.get() {
        Some(c) => {
            let mut binds = c.by_bind();
            for b in &mut binds {
                b.mode = b.mode.or_else(|| slot.mode(&b.bind_name));
            }
            (c.summary(), binds)
        }
        None => {
            let mut binds: Vec<BindSummary> = cfg
                .binds
                .iter()
                .filter(|(_, b)| b.enabled)
                .map(|(name, b)| BindSummary {
                    bind_name: name.clone(),
                    mode: b.mode,
                    enabled: true,
                    total: 0,
                    pending: 0,
                    delivering: 0,
                    failed_permanent: 0,
                    max_size: b.max_size,
                    utilisation_percent: 0.0,
                })
                .collect();
            binds.sort_by(|a, b| a.bind_name.cmp(&b.bind_name));
            (CacheSummary::default(), binds)
        }
    };
    let error = slot.error();
    Ok(Json(CacheView {
        storage: cfg.storage.as_str(),
        dir: slot.dir().display().to_string(),
        available: error.is_none(),
        error,
        summary,
        binds,
    })
    .into_response())
}

/// Query of `GET /api/v1/cache/{bind}/entries`.
#[derive(Debug, Deserialize)]
pub struct EntriesQuery {
    /// Only entries with this status.
    pub status: Option<String>,
    /// Most entries in the answer (default 100, at most 10 000).
    pub limit: Option<usize>,
    /// Entries to skip first (default 0).
    pub offset: Option<usize>,
}

/// One entry as the API shows it.
#[derive(Debug, Serialize)]
pub struct EntryView {
    /// The message's gateway-assigned id (the id the peer was given); for an event,
    /// `{message_id}:{type}`.
    pub id: String,
    /// Order in the cache.
    pub seq: u64,
    /// `message` or `event`.
    pub kind: &'static str,
    /// `pending`, `delivering` or `failed_permanent`.
    pub status: Status,
    /// Failed deliveries so far.
    pub retry_count: u32,
    /// Not delivered before, ms since the Unix epoch, and as UTC text.
    pub next_retry_at_ms: u64,
    /// `next_retry_at_ms` as `YYYY-MM-DD HH:MM:SSZ`.
    pub next_retry_at: String,
    /// The last delivery error.
    pub last_error: Option<String>,
    /// When it was cached, ms since the Unix epoch.
    pub created_at_ms: u64,
    /// Messages: `mt`, `mo` or `receipt`; events: `submitted`, `delivered_to_esme`, `failed`, `receipt`.
    pub what: String,
    /// Messages: source address.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub source_addr: Option<String>,
    /// Messages: destination address.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub destination_addr: Option<String>,
    /// Messages: the decoded text, cut to 160 characters.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub text: Option<String>,
}

fn view(e: Entry) -> EntryView {
    let (kind, what, source_addr, destination_addr, text) = match &e.item {
        Item::Message(m) => (
            "message",
            serde_json::to_value(m.direction)
                .ok()
                .and_then(|v| v.as_str().map(str::to_string))
                .unwrap_or_default(),
            Some(m.source.addr.clone()),
            Some(m.destination.addr.clone()),
            m.text.as_ref().map(|t| t.chars().take(160).collect()),
        ),
        Item::Event(_) => (
            "event",
            e.id.rsplit_once(':')
                .map(|(_, t)| t.to_string())
                .unwrap_or_default(),
            None,
            None,
            None,
        ),
    };
    EntryView {
        id: e.id,
        seq: e.seq,
        kind,
        status: e.status,
        retry_count: e.retry_count,
        next_retry_at: retry_cache::clock::format_utc(e.next_retry_at_ms),
        next_retry_at_ms: e.next_retry_at_ms,
        last_error: e.last_error,
        created_at_ms: e.created_at_ms,
        what,
        source_addr,
        destination_addr,
        text,
    }
}

/// 404 unless `bind` is a configured peer or has entries.
fn known_bind(gw: &Gateway, cache: &RetryCache, bind: &str) -> Result<(), Response> {
    let cfg = gw.config();
    let configured =
        cfg.binds.iter().any(|b| b.name == bind) || cfg.server_binds.iter().any(|b| b.name == bind);
    if configured || cache.count(bind) > 0 {
        Ok(())
    } else {
        Err(error(
            StatusCode::NOT_FOUND,
            format!("no bind named {bind:?} (configured or in the cache)"),
            Some("bind"),
        ))
    }
}

fn parse_status(s: &str) -> Result<Status, Response> {
    match s {
        "pending" => Ok(Status::Pending),
        "delivering" => Ok(Status::Delivering),
        "failed_permanent" | "failed" => Ok(Status::FailedPermanent),
        _ => Err(error(
            StatusCode::BAD_REQUEST,
            format!("status {s:?}: use pending, delivering or failed_permanent"),
            Some("status"),
        )),
    }
}

async fn entries(
    State(gw): State<Arc<Gateway>>,
    Path(bind): Path<String>,
    Query(q): Query<EntriesQuery>,
    headers: HeaderMap,
) -> ApiResult {
    guard(&gw, &headers)?;
    let cache = open_cache(&gw)?;
    known_bind(&gw, &cache, &bind)?;
    let status = q.status.as_deref().map(parse_status).transpose()?;
    let limit = q.limit.unwrap_or(100).min(10_000);
    let all = cache.list(&bind, status);
    let total = all.len();
    let shown: Vec<EntryView> = all
        .into_iter()
        .skip(q.offset.unwrap_or(0))
        .take(limit)
        .map(view)
        .collect();
    Ok(Json(json!({"bind_name": bind, "total": total, "entries": shown})).into_response())
}

fn store_failed(e: retry_cache::CacheError) -> Response {
    error(StatusCode::INTERNAL_SERVER_ERROR, e.to_string(), None)
}

async fn retry_one(
    State(gw): State<Arc<Gateway>>,
    Path((bind, id)): Path<(String, String)>,
    headers: HeaderMap,
) -> ApiResult {
    guard(&gw, &headers)?;
    let cache = open_cache(&gw)?;
    known_bind(&gw, &cache, &bind)?;
    let n = cache.retry(&bind, &id).await.map_err(store_failed)?;
    if n == 0 {
        return Err(error(
            StatusCode::NOT_FOUND,
            format!("no entry {id:?} of {bind} to retry (unknown, or being delivered)"),
            Some("id"),
        ));
    }
    tracing::warn!(bind = %bind, message_id = %id, "operator: cached message {id} of {bind} retried now");
    Ok(Json(json!({"ok": true, "bind_name": bind, "id": id, "retried": n})).into_response())
}

async fn delete_one(
    State(gw): State<Arc<Gateway>>,
    Path((bind, id)): Path<(String, String)>,
    headers: HeaderMap,
) -> ApiResult {
    guard(&gw, &headers)?;
    let cache = open_cache(&gw)?;
    known_bind(&gw, &cache, &bind)?;
    let n = cache.delete(&bind, &id).await.map_err(store_failed)?;
    if n == 0 {
        return Err(error(
            StatusCode::NOT_FOUND,
            format!("no entry {id:?} of {bind}"),
            Some("id"),
        ));
    }
    tracing::warn!(bind = %bind, message_id = %id, "operator: cached message {id} of {bind} deleted");
    Ok(Json(json!({"ok": true, "bind_name": bind, "id": id, "deleted": n})).into_response())
}

async fn retry_failed(
    State(gw): State<Arc<Gateway>>,
    Path(bind): Path<String>,
    headers: HeaderMap,
) -> ApiResult {
    guard(&gw, &headers)?;
    let cache = open_cache(&gw)?;
    known_bind(&gw, &cache, &bind)?;
    let n = cache.retry_all_failed(&bind).await.map_err(store_failed)?;
    tracing::warn!(bind = %bind, count = n, "operator: {n} failed_permanent messages of {bind} retried now");
    Ok(Json(json!({"ok": true, "bind_name": bind, "retried": n})).into_response())
}

async fn retry_pending(
    State(gw): State<Arc<Gateway>>,
    Path(bind): Path<String>,
    headers: HeaderMap,
) -> ApiResult {
    guard(&gw, &headers)?;
    let cache = open_cache(&gw)?;
    known_bind(&gw, &cache, &bind)?;
    let n = cache.retry_pending_now(&bind).await.map_err(store_failed)?;
    tracing::warn!(bind = %bind, count = n, "operator: {n} pending messages of {bind} due now");
    Ok(Json(json!({"ok": true, "bind_name": bind, "retried": n})).into_response())
}

async fn delete_failed(
    State(gw): State<Arc<Gateway>>,
    Path(bind): Path<String>,
    headers: HeaderMap,
) -> ApiResult {
    guard(&gw, &headers)?;
    let cache = open_cache(&gw)?;
    known_bind(&gw, &cache, &bind)?;
    let n = cache.delete_all_failed(&bind).await.map_err(store_failed)?;
    tracing::warn!(bind = %bind, count = n, "operator: {n} failed_permanent messages of {bind} deleted");
    Ok(Json(json!({"ok": true, "bind_name": bind, "deleted": n})).into_response())
}
