//! The HTTP surface: the axum router over [`Engine`], JSON parsing that names the field at
//! fault, and the mapping of errors to status codes (400 bad request, 404 unknown message,
//! 503 store failure).

use std::collections::BTreeMap;
use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::rejection::QueryRejection;
use axum::extract::{DefaultBodyLimit, Path, Query, State};
use axum::http::{StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use core_bridge::api::{
    AcceptedBatch, Ack, ClaimRequest, ClaimResponse, Direction, ErrorBody, Event, EventKind,
    FrontendRegistration, Health, InboundMessage, PATH_CLAIM, PATH_EVENTS, PATH_HEALTH,
    PATH_MESSAGES, PATH_REGISTER,
};
use serde::de::DeserializeOwned;
use serde_json::Value;

use crate::engine::{Engine, ListFilter};
use crate::error::CoreStoreError;
use crate::record::{MessageRecord, MessageStatus};
use crate::store::QueueName;
use crate::views::{FrontendList, MessageList, Stats};

/// `GET` one record.
pub(crate) const PATH_MESSAGE: &str = "/api/v1/messages/{id}";
/// `POST` one event.
pub(crate) const PATH_MESSAGE_EVENTS: &str = "/api/v1/messages/{id}/events";
/// `GET` the live frontends.
pub(crate) const PATH_FRONTENDS: &str = "/api/v1/frontends";
/// `GET` counts.
pub(crate) const PATH_STATS: &str = "/api/v1/stats";

/// Largest request body: a batch of 1000 long messages fits with room to spare.
const BODY_LIMIT: usize = 32 * 1024 * 1024;
/// Largest request body on the send API's own listener (reachable by API clients): 1000
/// recipients and a 255-segment text fit.
const SEND_BODY_LIMIT: usize = 1024 * 1024;
/// Most records one `GET /api/v1/messages` answers.
const LIST_MAX: usize = 10_000;
/// Records answered when `limit` is absent.
const LIST_DEFAULT: usize = 100;
/// Most messages of one claim.
const CLAIM_MAX: u32 = 1000;
/// Longest long-poll wait of one claim, ms.
const CLAIM_MAX_WAIT_MS: u32 = 30_000;

/// An error answer: a status code and an [`ErrorBody`].
#[derive(Debug)]
pub(crate) struct ApiError {
    status: StatusCode,
    body: ErrorBody,
    /// Extra answer headers (`WWW-Authenticate`, `Retry-After`).
    headers: Vec<(axum::http::HeaderName, String)>,
    /// The Android SMS gateway API's error shape (`{"message", "field"}`) instead of ours.
    android: bool,
}

impl ApiError {
    pub(crate) fn new(status: StatusCode, error: impl Into<String>, field: Option<String>) -> Self {
        ApiError {
            status,
            body: ErrorBody {
                error: error.into(),
                field,
            },
            headers: Vec::new(),
            android: false,
        }
    }

    /// Renders this error in the Android SMS gateway API's shape: `{"message": …}` (its
    /// `ErrorResponse`), with our `field` beside it.
    pub(crate) fn android(mut self) -> Self {
        self.android = true;
        self
    }

    /// Adds an answer header.
    pub(crate) fn with_header(mut self, name: axum::http::HeaderName, value: String) -> Self {
        self.headers.push((name, value));
        self
    }

    pub(crate) fn bad(error: impl Into<String>, field: &str) -> Self {
        ApiError::new(StatusCode::BAD_REQUEST, error, Some(field.to_string()))
    }
}

impl From<CoreStoreError> for ApiError {
    fn from(e: CoreStoreError) -> Self {
        tracing::error!(error = %e, "embedded core store failure");
        let status = match e {
            CoreStoreError::Corrupt { .. } => StatusCode::INTERNAL_SERVER_ERROR,
            _ => StatusCode::SERVICE_UNAVAILABLE,
        };
        ApiError::new(status, e.to_string(), None)
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let mut r = if self.android {
            let mut v = serde_json::json!({ "message": self.body.error });
            if let Some(f) = self.body.field {
                v["field"] = Value::String(f);
            }
            (self.status, Json(v)).into_response()
        } else {
            (self.status, Json(self.body)).into_response()
        };
        for (name, value) in self.headers {
            if let Ok(v) = axum::http::HeaderValue::from_str(&value) {
                r.headers_mut().append(name, v);
            }
        }
        r
    }
}

pub(crate) type ApiResult<T> = Result<Json<T>, ApiError>;

/// The router of every call, over `engine`.
pub(crate) fn router(engine: Arc<Engine>) -> Router {
    Router::new()
        .route(PATH_MESSAGES, post(post_messages).get(list_messages))
        .route(PATH_MESSAGE, get(get_message))
        .route(PATH_MESSAGE_EVENTS, post(post_event))
        .route(PATH_EVENTS, post(post_events))
        .route(PATH_CLAIM, post(claim))
        .route(PATH_HEALTH, get(health))
        .route(PATH_REGISTER, post(register))
        .route(PATH_FRONTENDS, get(frontends))
        .route(PATH_STATS, get(stats))
        .merge(crate::send_http::routes())
        .fallback(no_such_path)
        .layer(DefaultBodyLimit::max(BODY_LIMIT))
        .with_state(engine)
}

/// Runs `f` on a blocking thread (the store may do disk I/O).
pub(crate) async fn blocking<T: Send + 'static>(
    engine: &Arc<Engine>,
    f: impl FnOnce(&Engine) -> Result<T, CoreStoreError> + Send + 'static,
) -> Result<T, ApiError> {
    let engine = Arc::clone(engine);
    match tokio::task::spawn_blocking(move || f(&engine)).await {
        Ok(r) => r.map_err(ApiError::from),
        Err(e) => {
            tracing::error!(error = %e, "embedded core operation panicked");
            Err(ApiError::new(
                StatusCode::INTERNAL_SERVER_ERROR,
                format!("internal error: {e}"),
                None,
            ))
        }
    }
}

pub(crate) async fn flush(engine: &Engine) -> Result<(), ApiError> {
    engine.store.flush().await.map_err(ApiError::from)
}

// ----- JSON parsing --------------------------------------------------------------------------

pub(crate) fn parse_json(body: &[u8]) -> Result<Value, ApiError> {
    serde_json::from_slice(body).map_err(|e| {
        ApiError::new(
            StatusCode::BAD_REQUEST,
            format!("request body is not valid JSON: {e}"),
            None,
        )
    })
}

/// The field named by a serde "missing field `x`" message.
fn missing_field(msg: &str) -> Option<String> {
    let rest = msg.split("missing field `").nth(1)?;
    Some(rest.split('`').next()?.to_string())
}

/// Which member of object `v` makes it fail to deserialise as `T`: the missing one, else the
/// one whose removal makes it succeed, else a required one whose removal turns the error into
/// "missing" (the `type` tag of an event last, as removing it always does that).
fn culprit<T: DeserializeOwned>(v: &Value, err: &serde_json::Error) -> Option<String> {
    if let Some(f) = missing_field(&err.to_string()) {
        return Some(f);
    }
    if err.to_string().starts_with("unknown variant") && v.get("type").is_some() {
        return Some("type".into());
    }
    let Value::Object(map) = v else { return None };
    let without = |k: &str| {
        let mut probe = map.clone();
        probe.remove(k);
        T::deserialize(&Value::Object(probe))
    };
    let mut keys: Vec<&String> = map.keys().collect();
    keys.sort_by_key(|k| k.as_str() == "type");
    if let Some(k) = keys.iter().find(|k| without(k).is_ok()) {
        return Some(k.to_string());
    }
    keys.iter()
        .find(|k| {
            without(k)
                .err()
                .and_then(|e| missing_field(&e.to_string()))
                .as_deref()
                == Some(k.as_str())
        })
        .map(|k| k.to_string())
}

/// The members of an [`Event`] outside its flattened kind.
#[derive(serde::Deserialize)]
struct EventHead {
    message_id: String,
    frontend: String,
    bind_name: String,
    at_ms: u64,
}

/// An [`Event`], parsed in two steps so that an error names the field at fault (a flattened
/// enum hides it from serde's own error).
fn parse_event(v: &Value, prefix: &str) -> Result<Event, ApiError> {
    let head: EventHead = parse_as(v, prefix, "event")?;
    let kind: EventKind = parse_as(v, prefix, "event")?;
    Ok(Event {
        message_id: head.message_id,
        frontend: head.frontend,
        bind_name: head.bind_name,
        kind,
        at_ms: head.at_ms,
    })
}

fn join(prefix: &str, field: &str) -> String {
    if prefix.is_empty() {
        field.to_string()
    } else {
        format!("{prefix}.{field}")
    }
}

/// Deserialises `v` as `T`; the error names the field at fault, under `prefix`.
pub(crate) fn parse_as<T: DeserializeOwned>(
    v: &Value,
    prefix: &str,
    what: &str,
) -> Result<T, ApiError> {
    T::deserialize(v).map_err(|e| {
        let field = match culprit::<T>(v, &e) {
            Some(f) => Some(join(prefix, &f)),
            None if prefix.is_empty() => None,
            None => Some(prefix.to_string()),
        };
        let at = field
            .as_deref()
            .map(|f| format!(" ({f})"))
            .unwrap_or_default();
        ApiError::new(
            StatusCode::BAD_REQUEST,
            format!("invalid {what}{at}: {e}"),
            field,
        )
    })
}

/// The members of array `key` of a batch object, each parsed by `parse` (paths
/// `key[i].field`).
fn parse_batch<T>(
    v: &Value,
    key: &str,
    parse: impl Fn(&Value, &str) -> Result<T, ApiError>,
) -> Result<Vec<T>, ApiError> {
    let Some(items) = v.get(key) else {
        return Err(ApiError::bad(format!("missing field `{key}`"), key));
    };
    let Value::Array(items) = items else {
        return Err(ApiError::bad(format!("`{key}` must be an array"), key));
    };
    items
        .iter()
        .enumerate()
        .map(|(i, item)| parse(item, &format!("{key}[{i}]")))
        .collect()
}

/// `InboundBatch` or a single `InboundMessage`.
fn parse_inbound(body: &[u8]) -> Result<Vec<InboundMessage>, ApiError> {
    // Fast path: a well-formed batch straight from the bytes (the gateway's hand-overs). Only a
    // body that does not parse this way takes the slower path through a `Value`, which names
    // the field at fault.
    if let Ok(batch) = serde_json::from_slice::<core_bridge::api::InboundBatch>(body) {
        check_ids(&batch.messages, Some("messages"))?;
        return Ok(batch.messages);
    }
    let v = parse_json(body)?;
    let (messages, prefix): (Vec<InboundMessage>, Option<&str>) = match &v {
        Value::Object(map) if map.contains_key("messages") => (
            parse_batch(&v, "messages", |m, p| parse_as(m, p, "message"))?,
            Some("messages"),
        ),
        Value::Object(_) => (vec![parse_as(&v, "", "message")?], None),
        _ => {
            return Err(ApiError::new(
                StatusCode::BAD_REQUEST,
                "expected an InboundBatch or an InboundMessage object",
                None,
            ))
        }
    };
    check_ids(&messages, prefix)?;
    Ok(messages)
}

/// Every message id must be non-empty; the error names `messages[i].id` (or `id`).
fn check_ids(messages: &[InboundMessage], prefix: Option<&str>) -> Result<(), ApiError> {
    for (i, m) in messages.iter().enumerate() {
        if m.id.trim().is_empty() {
            let field = prefix
                .map(|p| format!("{p}[{i}].id"))
                .unwrap_or_else(|| "id".into());
            return Err(ApiError::new(
                StatusCode::BAD_REQUEST,
                "message id must not be empty",
                Some(field),
            ));
        }
    }
    Ok(())
}

// ----- handlers ------------------------------------------------------------------------------

async fn post_messages(State(engine): State<Arc<Engine>>, body: Bytes) -> ApiResult<AcceptedBatch> {
    let messages = parse_inbound(&body)?;
    hand_over(&engine, messages).await.map(Json)
}

// ----- the operations, typed: shared by the HTTP handlers and the in-process calls -----------

/// Stores a hand-over (ids already checked) and makes it durable before answering.
pub(crate) async fn hand_over(
    engine: &Arc<Engine>,
    messages: Vec<InboundMessage>,
) -> Result<AcceptedBatch, ApiError> {
    let (accepted, changed) = blocking(engine, move |e| e.hand_over(messages)).await?;
    // Always flush: a duplicate may be the twin of a hand-over whose flush is still running.
    flush(engine).await?;
    if changed {
        engine.changed.notify_waiters();
    }
    Ok(AcceptedBatch { accepted })
}

async fn claim(State(engine): State<Arc<Engine>>, body: Bytes) -> ApiResult<ClaimResponse> {
    let req: ClaimRequest = parse_as(&parse_json(&body)?, "", "claim")?;
    claim_queue(&engine, req).await.map(Json)
}

/// A claim: checks the request as the API documents, then leases (long-polling up to
/// `wait_ms`).
pub(crate) async fn claim_queue(
    engine: &Arc<Engine>,
    req: ClaimRequest,
) -> Result<ClaimResponse, ApiError> {
    let queue = match (req.dest_smsc, req.source_smsc) {
        (Some(d), None) if !d.is_empty() => QueueName::Dest(d),
        (None, Some(s)) if !s.is_empty() => QueueName::Source(s),
        (Some(_), Some(_)) => {
            return Err(ApiError::bad(
                "exactly one of dest_smsc and source_smsc may be set, not both",
                "source_smsc",
            ))
        }
        (Some(_), None) => return Err(ApiError::bad("dest_smsc must not be empty", "dest_smsc")),
        (None, Some(_)) => {
            return Err(ApiError::bad(
                "source_smsc must not be empty",
                "source_smsc",
            ))
        }
        (None, None) => {
            return Err(ApiError::bad(
                "one of dest_smsc and source_smsc is required",
                "dest_smsc",
            ))
        }
    };
    if !(1..=CLAIM_MAX).contains(&req.limit) {
        return Err(ApiError::bad(
            format!("limit must be 1..={CLAIM_MAX}, not {}", req.limit),
            "limit",
        ));
    }
    if req.lease_seconds == Some(0) {
        return Err(ApiError::bad(
            "lease_seconds must be at least 1",
            "lease_seconds",
        ));
    }
    let lease_ms = req.lease_seconds.map(|s| u64::from(s) * 1000);
    let frontend = req.frontend;
    let limit = req.limit as usize;
    let wait = std::time::Duration::from_millis(u64::from(
        req.wait_ms.unwrap_or(0).min(CLAIM_MAX_WAIT_MS),
    ));
    let deadline = tokio::time::Instant::now() + wait;
    let messages = loop {
        // Register for wake-ups before looking, so an enqueue between the look and the wait
        // is not missed.
        let changed = engine.changed.notified();
        tokio::pin!(changed);
        changed.as_mut().enable();
        let (q, f) = (queue.clone(), frontend.clone());
        let messages = blocking(engine, move |e| e.claim(&q, &f, limit, lease_ms)).await?;
        if !messages.is_empty() || tokio::time::Instant::now() >= deadline {
            break messages;
        }
        // Long poll: wait for something new (or the deadline), then look once more.
        if tokio::time::timeout_at(deadline, changed).await.is_err() {
            let (q, f) = (queue.clone(), frontend.clone());
            break blocking(engine, move |e| e.claim(&q, &f, limit, lease_ms)).await?;
        }
    };
    if !messages.is_empty() {
        flush(engine).await?;
    }
    Ok(ClaimResponse { messages })
}

pub(crate) async fn apply_events(
    engine: &Arc<Engine>,
    events: Vec<Event>,
    field: impl Fn(usize) -> String,
) -> Result<Ack, ApiError> {
    let outcome = blocking(engine, move |e| e.apply_events(events)).await?;
    if outcome.applied > 0 {
        flush(engine).await?;
        // Events can queue messages (receipts for partners, retries).
        engine.changed.notify_waiters();
    }
    if let Some((first, _)) = outcome.unknown.first() {
        let ids: Vec<&str> = outcome.unknown.iter().map(|(_, id)| id.as_str()).collect();
        tracing::warn!(?ids, "events about unknown messages");
        return Err(ApiError::new(
            StatusCode::NOT_FOUND,
            format!("unknown message id(s): {}", ids.join(", ")),
            Some(field(*first)),
        ));
    }
    Ok(Ack { ok: true })
}

async fn post_event(
    State(engine): State<Arc<Engine>>,
    Path(id): Path<String>,
    body: Bytes,
) -> ApiResult<Ack> {
    let v = parse_json(&body)?;
    let mut event = parse_event(&v, "")?;
    if event.message_id.is_empty() {
        event.message_id = id.clone();
    } else if event.message_id != id {
        return Err(ApiError::bad(
            format!(
                "message_id {:?} does not match the path's {:?}",
                event.message_id, id
            ),
            "message_id",
        ));
    }
    apply_events(&engine, vec![event], |_| "message_id".to_string())
        .await
        .map(Json)
}

async fn post_events(State(engine): State<Arc<Engine>>, body: Bytes) -> ApiResult<Ack> {
    let events = parse_batch(&parse_json(&body)?, "events", parse_event)?;
    apply_events(&engine, events, |i| format!("events[{i}].message_id"))
        .await
        .map(Json)
}

async fn health() -> Json<Health> {
    Json(Health {
        status: "ok".into(),
    })
}

async fn register(State(engine): State<Arc<Engine>>, body: Bytes) -> ApiResult<Ack> {
    let reg: FrontendRegistration = parse_as(&parse_json(&body)?, "", "registration")?;
    register_frontend(&engine, reg).map(Json)
}

pub(crate) fn register_frontend(
    engine: &Engine,
    reg: FrontendRegistration,
) -> Result<Ack, ApiError> {
    if reg.frontend.trim().is_empty() {
        return Err(ApiError::bad("frontend must not be empty", "frontend"));
    }
    engine.register(reg);
    Ok(Ack { ok: true })
}

// ----- in process ------------------------------------------------------------------------------

impl ApiError {
    /// The error a [`core_bridge::CoreClient`] would have made of this answer over HTTP.
    pub(crate) fn into_core_error(self, path: &str) -> core_bridge::CoreError {
        core_bridge::CoreError::Status {
            url: format!("embedded{path}"),
            status: self.status.as_u16(),
            body: core_bridge::cut_error_body(
                serde_json::to_string(&self.body).unwrap_or_default(),
            ),
        }
    }
}

impl core_bridge::InProcessCore for crate::EmbeddedCore {
    fn post_messages(
        &self,
        messages: Vec<InboundMessage>,
    ) -> core_bridge::CoreFuture<'_, AcceptedBatch> {
        Box::pin(async move {
            let run = async {
                check_ids(&messages, Some("messages"))?;
                hand_over(&self.engine, messages).await
            };
            run.await
                .map_err(|e| e.into_core_error(core_bridge::api::PATH_MESSAGES))
        })
    }

    fn claim(&self, req: ClaimRequest) -> core_bridge::CoreFuture<'_, ClaimResponse> {
        Box::pin(async move {
            claim_queue(&self.engine, req)
                .await
                .map_err(|e| e.into_core_error(core_bridge::api::PATH_CLAIM))
        })
    }

    fn post_events(&self, events: Vec<Event>) -> core_bridge::CoreFuture<'_, Ack> {
        Box::pin(async move {
            apply_events(&self.engine, events, |i| format!("events[{i}].message_id"))
                .await
                .map_err(|e| e.into_core_error(core_bridge::api::PATH_EVENTS))
        })
    }

    fn register(&self, reg: FrontendRegistration) -> core_bridge::CoreFuture<'_, Ack> {
        Box::pin(async move {
            register_frontend(&self.engine, reg)
                .map_err(|e| e.into_core_error(core_bridge::api::PATH_REGISTER))
        })
    }
}

async fn frontends(State(engine): State<Arc<Engine>>) -> Json<FrontendList> {
    Json(engine.frontends())
}

async fn get_message(
    State(engine): State<Arc<Engine>>,
    Path(id): Path<String>,
) -> ApiResult<MessageRecord> {
    let wanted = id.clone();
    match blocking(&engine, move |e| e.record(&wanted)).await? {
        Some(rec) => Ok(Json(rec)),
        None => Err(ApiError::new(
            StatusCode::NOT_FOUND,
            format!("unknown message id {id:?}"),
            Some("id".into()),
        )),
    }
}

async fn list_messages(
    State(engine): State<Arc<Engine>>,
    query: Result<Query<BTreeMap<String, String>>, QueryRejection>,
) -> ApiResult<MessageList> {
    let Query(q) =
        query.map_err(|e| ApiError::new(StatusCode::BAD_REQUEST, e.body_text(), None))?;
    let mut filter = ListFilter {
        limit: LIST_DEFAULT,
        ..ListFilter::default()
    };
    if let Some(d) = q.get("direction") {
        let d: Direction = serde_json::from_value(Value::String(d.clone())).map_err(|_| {
            ApiError::bad(
                format!("direction must be mt, mo or receipt, not {d:?}"),
                "direction",
            )
        })?;
        filter.direction = Some(d);
    }
    if let Some(s) = q.get("status") {
        filter.status = Some(
            MessageStatus::parse(s)
                .ok_or_else(|| ApiError::bad(format!("unknown status {s:?}"), "status"))?,
        );
    }
    if let Some(l) = q.get("limit") {
        filter.limit = l
            .parse::<usize>()
            .ok()
            .filter(|n| (1..=LIST_MAX).contains(n))
            .ok_or_else(|| {
                ApiError::bad(format!("limit must be 1..={LIST_MAX}, not {l:?}"), "limit")
            })?;
    }
    filter.bind_name = q.get("bind_name").cloned();
    filter.dest_smsc = q.get("dest_smsc").cloned();
    filter.source_smsc = q.get("source_smsc").cloned();
    let messages = blocking(&engine, move |e| e.list(&filter)).await?;
    Ok(Json(MessageList { messages }))
}

async fn stats(State(engine): State<Arc<Engine>>) -> ApiResult<Stats> {
    Ok(Json(blocking(&engine, |e| e.stats()).await?))
}

/// The router of the send API calls only, over `engine`.
pub(crate) fn send_router(engine: Arc<Engine>) -> Router {
    crate::send_http::routes()
        .fallback(no_such_path)
        .layer(DefaultBodyLimit::max(SEND_BODY_LIMIT))
        .with_state(engine)
}

async fn no_such_path(uri: Uri) -> ApiError {
    ApiError::new(
        StatusCode::NOT_FOUND,
        format!("no such path: {}", uri.path()),
        None,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn culprit_names_missing_and_mistyped_fields() {
        let v: Value = serde_json::json!({"frontend": "f", "limit": "ten"});
        let err = ClaimRequest::deserialize(&v).unwrap_err();
        assert_eq!(culprit::<ClaimRequest>(&v, &err).as_deref(), Some("limit"));
        let v: Value = serde_json::json!({"limit": 3});
        let err = ClaimRequest::deserialize(&v).unwrap_err();
        assert_eq!(
            culprit::<ClaimRequest>(&v, &err).as_deref(),
            Some("frontend")
        );
    }

    #[test]
    fn store_failures_are_retryable_5xx_answers() {
        let e = ApiError::from(CoreStoreError::storage("write", "disk full"));
        assert_eq!(e.status, StatusCode::SERVICE_UNAVAILABLE);
        assert!(e.body.error.contains("disk full"), "{}", e.body.error);
        let e = ApiError::from(CoreStoreError::Corrupt {
            key: "k".into(),
            reason: "eof".into(),
        });
        assert_eq!(e.status, StatusCode::INTERNAL_SERVER_ERROR);
    }

    use serde::Deserialize as _;
}
