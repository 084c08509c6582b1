//! The HTTP send API (`docs/http-api.md`): `POST /api/v1/send`, `GET /api/v1/send/{id}`, and
//! the Android SMS gateway compatible `POST /3rdparty/v1/message`,
//! `GET /3rdparty/v1/message[/{id}]`. Every call authenticates an [`ApiClient`](crate::ApiClient)
//! first (401 otherwise), then checks the request (4xx naming the field), then the client's
//! rate limit (429), then stores the messages (202).

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

use crate::engine::{Engine, SendPlan, Stored};
use crate::http::{blocking, flush, parse_as, parse_json, ApiError};
use crate::parts;
use crate::record::MessageStatus;
use crate::send::{self, Api, BatchRecord, SendRecord};

/// `POST` a send.
pub(crate) const PATH_SEND: &str = "/api/v1/send";
/// `GET` one send's status.
pub(crate) const PATH_SEND_ONE: &str = "/api/v1/send/{id}";
/// `POST` a message, `GET` the latest ones (Android SMS gateway API).
pub(crate) const PATH_ANDROID: &str = "/3rdparty/v1/message";
/// `GET` one message's state (Android SMS gateway API).
pub(crate) const PATH_ANDROID_ONE: &str = "/3rdparty/v1/message/{id}";

/// Most recipients of one request.
const MAX_RECIPIENTS: usize = 1000;
/// Longest `reference`.
const MAX_REFERENCE: usize = 256;
/// Batches `GET /3rdparty/v1/message` lists.
const ANDROID_LIST: usize = 50;

pub(crate) fn routes() -> Router<Arc<Engine>> {
    Router::new()
        .route(PATH_SEND, post(post_send))
        .route(PATH_SEND_ONE, get(get_send))
        .route(PATH_ANDROID, post(post_android).get(list_android))
        .route(PATH_ANDROID_ONE, get(get_android))
}

/// `POST /api/v1/send`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct SendRequest {
    to: Vec<String>,
    text: String,
    #[serde(default)]
    from: Option<String>,
    #[serde(default)]
    dest_smsc: Option<String>,
    #[serde(default)]
    callback_url: Option<String>,
    #[serde(default)]
    reference: Option<String>,
}

/// One recipient of the answer to `POST /api/v1/send`.
#[derive(Debug, Serialize)]
struct SendAccepted {
    id: String,
    to: String,
    segments: u32,
    status: MessageStatus,
}

/// The answer to `POST /api/v1/send`.
#[derive(Debug, Serialize)]
struct SendAnswer {
    batch_id: String,
    segments: u32,
    #[serde(skip_serializing_if = "Option::is_none")]
    reference: Option<String>,
    messages: Vec<SendAccepted>,
}

/// What both APIs ask, before checking.
struct Input {
    numbers: Vec<String>,
    numbers_field: &'static str,
    text: String,
    text_field: &'static str,
    from: Option<String>,
    dest_smsc: Option<String>,
    callback_url: Option<String>,
    reference: Option<String>,
    validity_period: String,
    batch_id: Option<String>,
    api: Api,
}

/// The client the request's credentials name; a failure is logged (without the secret),
/// counted in `smppgw_http_auth_failures_total{client}` and answered 401.
fn authenticate(engine: &Engine, headers: &HeaderMap, path: &str) -> Result<usize, ApiError> {
    engine.clients.authenticate(headers).map_err(|f| {
        tracing::warn!(client = %f.label, username = ?f.username, reason = f.reason, path, "send API authentication failed");
        metrics::counter!("smppgw_http_auth_failures_total", "client" => f.label.clone())
            .increment(1);
        ApiError::new(
            StatusCode::UNAUTHORIZED,
            format!("authentication failed: {}", f.reason),
            None,
        )
        .with_header(
            header::WWW_AUTHENTICATE,
            "Basic realm=\"smppgw\", Bearer realm=\"smppgw\"".into(),
        )
    })
}

/// Checks `input` for client `ci` and makes the plan (4xx naming the field), then takes the
/// messages from the client's rate limit (429).
fn plan(engine: &Engine, ci: usize, input: Input) -> Result<SendPlan, ApiError> {
    let client = engine.clients.get(ci);
    let nf = input.numbers_field;
    if input.numbers.is_empty() {
        return Err(ApiError::bad("at least one recipient is required", nf));
    }
    if input.numbers.len() > MAX_RECIPIENTS {
        return Err(ApiError::bad(
            format!("at most {MAX_RECIPIENTS} recipients per request"),
            nf,
        ));
    }
    let mut digits = Vec::with_capacity(input.numbers.len());
    for (i, n) in input.numbers.iter().enumerate() {
        digits.push(send::e164(n).map_err(|e| ApiError::bad(e, &format!("{nf}[{i}]")))?);
    }
    if input.text.trim().is_empty() {
        return Err(ApiError::bad("text must not be empty", input.text_field));
    }
    let segments = parts::split(&input.text).map_err(|e| ApiError::bad(e.to_string(), input.text_field))?;
    if segments.count() > engine.max_segments as usize {
        return Err(ApiError::bad(
            format!(
                "text needs {} segments, more than the {} allowed",
                segments.count(),
                engine.max_segments
            ),
            input.text_field,
        ));
    }
    let from = match input.from {
        Some(f) if !client.may_send_as(&f) => {
            return Err(ApiError::new(
                StatusCode::FORBIDDEN,
                format!("sender {f:?} is not allowed for client {}", client.name),
                Some("from".into()),
            ))
        }
        Some(f) => f,
        None => client.implied_sender().unwrap_or("").to_string(),
    };
    let source = send::source_address(&from).map_err(|e| ApiError::bad(e, "from"))?;
    let fixed = match (&input.dest_smsc, &client.dest_smsc) {
        (Some(d), _) if !engine.dest_known(d) => {
            return Err(ApiError::bad(
                format!("unknown dest_smsc {d:?}: not a client bind of this gateway"),
                "dest_smsc",
            ))
        }
        (Some(d), Some(own)) if d != own => {
            return Err(ApiError::new(
                StatusCode::FORBIDDEN,
                format!("client {} may only send through {own:?}", client.name),
                Some("dest_smsc".into()),
            ))
        }
        (Some(d), _) | (None, Some(d)) => Some(d.clone()),
        (None, None) => None,
    };
    let mut recipients = Vec::with_capacity(digits.len());
    for (i, (n, d)) in input.numbers.iter().zip(digits).enumerate() {
        let dest = match &fixed {
            Some(f) => f.clone(),
            None => engine.route_mt(&d).ok_or_else(|| {
                ApiError::bad(
                    format!("no route for {n}: no [[routes]] prefix matches and no dest_smsc"),
                    &format!("{nf}[{i}]"),
                )
            })?,
        };
        recipients.push((n.clone(), d, dest));
    }
    if let Some(url) = &input.callback_url {
        let ok = reqwest::Url::parse(url)
            .map(|u| matches!(u.scheme(), "http" | "https") && u.host().is_some())
            .unwrap_or(false);
        if !ok {
            return Err(ApiError::bad(
                format!("callback_url {url:?} is not an http(s) URL"),
                "callback_url",
            ));
        }
    }
    if input.reference.as_ref().is_some_and(|r| r.len() > MAX_REFERENCE) {
        return Err(ApiError::bad(
            format!("reference is longer than {MAX_REFERENCE} bytes"),
            "reference",
        ));
    }
    if let Err(wait) = engine.clients.take(ci, recipients.len(), engine.now()) {
        tracing::info!(client = %client.name, messages = recipients.len(), "send API rate limit");
        return Err(ApiError::new(
            StatusCode::TOO_MANY_REQUESTS,
            format!(
                "rate limit of client {}: {} message(s) per second",
                client.name,
                client.rate_limit.unwrap_or(0.0)
            ),
            None,
        )
        .with_header(header::RETRY_AFTER, wait.to_string()));
    }
    Ok(SendPlan {
        batch_id: input.batch_id,
        api: input.api,
        client: client.name.clone(),
        recipients,
        from,
        source,
        text: input.text,
        segments,
        reference: input.reference,
        callback_url: input.callback_url,
        validity_period: input.validity_period,
    })
}

/// Stores the plan, flushes, wakes waiting claims.
async fn store(engine: &Arc<Engine>, plan: SendPlan) -> Result<Stored, ApiError> {
    let stored = blocking(engine, move |e| e.submit_send(plan)).await?;
    if matches!(stored, Stored::New(..)) {
        flush(engine).await?;
        engine.changed.notify_waiters();
    }
    Ok(stored)
}

async fn post_send(
    State(engine): State<Arc<Engine>>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    let ci = authenticate(&engine, &headers, PATH_SEND)?;
    let req: SendRequest = parse_as(&parse_json(&body)?, "", "send request")?;
    let input = Input {
        numbers: req.to,
        numbers_field: "to",
        text: req.text,
        text_field: "text",
        from: req.from,
        dest_smsc: req.dest_smsc,
        callback_url: req.callback_url,
        reference: req.reference.clone(),
        validity_period: String::new(),
        batch_id: None,
        api: Api::Send,
    };
    let plan = plan(&engine, ci, input)?;
    let Stored::New(batch, sends) = store(&engine, plan).await? else {
        return Err(ApiError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "batch id collision",
            None,
        ));
    };
    let segments = sends.first().map_or(0, |s| s.segments);
    let answer = SendAnswer {
        batch_id: batch.id,
        segments,
        reference: req.reference,
        messages: sends
            .into_iter()
            .map(|s| SendAccepted {
                id: s.id,
                to: s.to,
                segments: s.segments,
                status: s.status,
            })
            .collect(),
    };
    Ok((StatusCode::ACCEPTED, Json(answer)).into_response())
}

async fn get_send(
    State(engine): State<Arc<Engine>>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Result<Json<SendRecord>, ApiError> {
    let ci = authenticate(&engine, &headers, PATH_SEND_ONE)?;
    let name = engine.clients.get(ci).name.clone();
    let wanted = id.clone();
    match blocking(&engine, move |e| e.send_record(&wanted)).await? {
        Some(s) if s.client == name => Ok(Json(s)),
        _ => Err(ApiError::new(
            StatusCode::NOT_FOUND,
            format!("unknown send id {id:?}"),
            Some("id".into()),
        )),
    }
}

// ----- Android SMS gateway compatible ----------------------------------------------------------

/// The Android API's view of a batch: `id`, `state`, `recipients` with their states.
fn android_view(batch: &BatchRecord, sends: &[SendRecord]) -> Value {
    let recipients: Vec<Value> = sends
        .iter()
        .map(|s| {
            let state = send::android_state(s.status);
            json!({
                "phoneNumber": s.to,
                "state": state,
                "error": if state == "Failed" { s.reason.clone().or_else(|| Some(s.status.to_string())) } else { None },
            })
        })
        .collect();
    let states: Vec<&str> = sends.iter().map(|s| send::android_state(s.status)).collect();
    json!({
        "id": batch.id,
        "state": send::android_batch_state(&states),
        "isHashed": false,
        "isEncrypted": false,
        "recipients": recipients,
    })
}

fn string_field(map: &serde_json::Map<String, Value>, key: &str) -> Result<Option<String>, ApiError> {
    match map.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.clone())),
        Some(_) => Err(ApiError::bad(format!("{key} must be a string"), key)),
    }
}

/// The recipients: an array of strings, or one string of numbers separated by commas, `;` or
/// spaces (as Apprise's `:phoneNumbers=` payload mapping sends them).
fn phone_numbers(map: &serde_json::Map<String, Value>) -> Result<Vec<String>, ApiError> {
    const F: &str = "phoneNumbers";
    match map.get(F) {
        None | Some(Value::Null) => Err(ApiError::bad("missing field `phoneNumbers`", F)),
        Some(Value::String(s)) => Ok(s
            .split(|c: char| c == ',' || c == ';' || c.is_whitespace())
            .filter(|p| !p.is_empty())
            .map(str::to_string)
            .collect()),
        Some(Value::Array(items)) => items
            .iter()
            .enumerate()
            .map(|(i, v)| {
                v.as_str()
                    .map(str::to_string)
                    .ok_or_else(|| ApiError::bad("must be a string", &format!("{F}[{i}]")))
            })
            .collect(),
        Some(_) => Err(ApiError::bad("phoneNumbers must be an array of strings", F)),
    }
}

/// `POST /3rdparty/v1/message`: `{"message", "phoneNumbers", "id"?, "ttl"?, "validUntil"?, …}`.
/// Also takes Apprise's `json://` payload: its `title`, when not empty, goes before the
/// message as `title: message`; members this API does not know (`version`, `type`,
/// `attachments`, `simNumber`, `withDeliveryReport`, `priority` …) are ignored.
async fn post_android(
    State(engine): State<Arc<Engine>>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    let ci = authenticate(&engine, &headers, PATH_ANDROID)?;
    let v = parse_json(&body)?;
    let Value::Object(map) = &v else {
        return Err(ApiError::bad("the body must be a JSON object", "message"));
    };
    let message = string_field(map, "message")?
        .ok_or_else(|| ApiError::bad("missing field `message`", "message"))?;
    let text = match string_field(map, "title")? {
        Some(t) if !t.trim().is_empty() && !message.trim().is_empty() => format!("{t}: {message}"),
        _ => message,
    };
    let numbers = phone_numbers(map)?;
    if map.get("isEncrypted").and_then(Value::as_bool) == Some(true) {
        return Err(ApiError::bad("encrypted messages are not supported", "isEncrypted"));
    }
    let batch_id = string_field(map, "id")?.filter(|s| !s.is_empty());
    if let Some(id) = &batch_id {
        let ok = id.len() <= 36 && id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
        if !ok {
            return Err(ApiError::bad("id must be 1 to 36 letters, digits, '-' or '_'", "id"));
        }
    }
    let ttl = match map.get("ttl") {
        None | Some(Value::Null) => None,
        Some(t) => Some(t.as_u64().filter(|&t| t > 0).ok_or_else(|| {
            ApiError::bad("ttl must be a positive number of seconds", "ttl")
        })?),
    };
    let ttl = match (ttl, string_field(map, "validUntil")?) {
        (Some(t), _) => Some(t),
        (None, Some(until)) => {
            let at = time::OffsetDateTime::parse(&until, &time::format_description::well_known::Rfc3339)
                .map_err(|e| ApiError::bad(format!("validUntil is not an RFC 3339 time: {e}"), "validUntil"))?;
            let at_ms = (at.unix_timestamp_nanos() / 1_000_000).max(0) as u64;
            let left = at_ms.saturating_sub(engine.now()) / 1000;
            if left == 0 {
                return Err(ApiError::bad("validUntil is in the past", "validUntil"));
            }
            Some(left)
        }
        (None, None) => None,
    };
    let input = Input {
        numbers,
        numbers_field: "phoneNumbers",
        text,
        text_field: "message",
        from: None,
        dest_smsc: None,
        callback_url: None,
        reference: None,
        validity_period: ttl.map(send::relative_validity).unwrap_or_default(),
        batch_id,
        api: Api::Android,
    };
    let client = engine.clients.get(ci).name.clone();
    let plan = plan(&engine, ci, input)?;
    match store(&engine, plan).await? {
        Stored::New(batch, sends) => {
            Ok((StatusCode::ACCEPTED, Json(android_view(&batch, &sends))).into_response())
        }
        Stored::Existing(batch) if batch.client == client => {
            let id = batch.id.clone();
            let found = blocking(&engine, move |e| e.batch(&id)).await?;
            let (batch, sends) = found.unwrap_or((batch, Vec::new()));
            Ok((StatusCode::OK, Json(android_view(&batch, &sends))).into_response())
        }
        Stored::Existing(_) => Err(ApiError::new(
            StatusCode::CONFLICT,
            "id is already used by another client",
            Some("id".into()),
        )),
    }
}

async fn get_android(
    State(engine): State<Arc<Engine>>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let ci = authenticate(&engine, &headers, PATH_ANDROID_ONE)?;
    let name = engine.clients.get(ci).name.clone();
    let wanted = id.clone();
    match blocking(&engine, move |e| e.batch(&wanted)).await? {
        Some((batch, sends)) if batch.client == name => Ok(Json(android_view(&batch, &sends))),
        _ => Err(ApiError::new(
            StatusCode::NOT_FOUND,
            format!("unknown message id {id:?}"),
            Some("id".into()),
        )),
    }
}

/// `GET /3rdparty/v1/message`: the client's latest messages (also a credentials check, as
/// seed 000 uses it).
async fn list_android(
    State(engine): State<Arc<Engine>>,
    headers: HeaderMap,
) -> Result<Json<Value>, ApiError> {
    let ci = authenticate(&engine, &headers, PATH_ANDROID)?;
    let name = engine.clients.get(ci).name.clone();
    let batches = blocking(&engine, move |e| e.batches_of(&name, Api::Android, ANDROID_LIST)).await?;
    Ok(Json(Value::Array(
        batches.iter().map(|(b, s)| android_view(b, s)).collect(),
    )))
}
