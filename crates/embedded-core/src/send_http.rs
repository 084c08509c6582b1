//! The HTTP send API (`docs/http-api.md`, `docs/http-api.yaml`): `POST /api/v1/send`,
//! `GET /api/v1/send/{id}`, and the Android SMS gateway compatible calls
//! `POST /3rdparty/v1/messages`, `GET /3rdparty/v1/messages[/{id}]` (also under the older
//! singular `/3rdparty/v1/message`, which seed 000 uses).
//!
//! Every call authenticates an [`ApiClient`](crate::ApiClient) first (401 otherwise), then
//! checks the request (400/403 naming the field), then the client's rate limit (429), then
//! stores the messages (202). The Android calls answer in that API's shapes (its
//! `MessageState`, and `{"message": …}` for errors), taken from its public documentation and
//! client libraries.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{header, HeaderMap, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

use crate::clients::Clients;
use crate::engine::{Engine, SendPlan, Stored};
use crate::http::{blocking, flush, parse_as, parse_json, ApiError};
use crate::parts;
use crate::record::MessageStatus;
use crate::send::{self, Api, BatchRecord, SendRecord};
use crate::ApiClient;

/// `POST` a send.
pub(crate) const PATH_SEND: &str = "/api/v1/send";
/// `GET` one send's status.
pub(crate) const PATH_SEND_ONE: &str = "/api/v1/send/{id}";
/// `POST` a message, `GET` the latest ones (Android SMS gateway API, current path).
pub(crate) const PATH_ANDROID: &str = "/3rdparty/v1/messages";
/// `GET` one message's state (Android SMS gateway API, current path).
pub(crate) const PATH_ANDROID_ONE: &str = "/3rdparty/v1/messages/{id}";
/// The older singular paths of the same calls (seed 000's `curl` and Apprise entry).
pub(crate) const PATH_ANDROID_OLD: &str = "/3rdparty/v1/message";
/// See [`PATH_ANDROID_OLD`].
pub(crate) const PATH_ANDROID_OLD_ONE: &str = "/3rdparty/v1/message/{id}";

/// Most recipients of one request (the Android API allows 100 per message; ours more).
const MAX_RECIPIENTS: usize = 1000;
/// Most recipients of one Android API message, as that API's validator says.
const ANDROID_MAX_RECIPIENTS: usize = 100;
/// Longest `reference`.
const MAX_REFERENCE: usize = 256;
/// Longest Android message `id`, as that API's validator says.
const ANDROID_MAX_ID: usize = 36;
/// Default and largest page of `GET /3rdparty/v1/messages`, as that API's.
const ANDROID_PAGE: usize = 50;
const ANDROID_PAGE_MAX: usize = 100;

pub(crate) fn routes() -> Router<Arc<Engine>> {
    Router::new()
        .route(PATH_SEND, post(post_send))
        .route(PATH_SEND_ONE, get(get_send))
        .route(PATH_ANDROID, post(post_android).get(list_android))
        .route(PATH_ANDROID_ONE, get(get_android))
        .route(PATH_ANDROID_OLD, post(post_android).get(list_android))
        .route(PATH_ANDROID_OLD_ONE, get(get_android))
}

/// The authenticated client of a request, in the client list in force when it arrived.
struct Caller {
    clients: Arc<Clients>,
    index: usize,
}

impl Caller {
    fn client(&self) -> &ApiClient {
        self.clients.get(self.index)
    }
}

/// The client the request's credentials name; a failure is logged (without the secret),
/// counted in `smppgw_http_auth_failures_total{client}` and answered 401 with
/// `WWW-Authenticate`.
fn authenticate(engine: &Engine, headers: &HeaderMap, path: &str) -> Result<Caller, ApiError> {
    let clients = engine.clients();
    match clients.authenticate(headers) {
        Ok(index) => Ok(Caller { clients, index }),
        Err(f) => {
            tracing::warn!(client = %f.label, username = ?f.username, reason = f.reason, path, "send API authentication failed");
            metrics::counter!("smppgw_http_auth_failures_total", "client" => f.label.clone())
                .increment(1);
            Err(ApiError::new(
                StatusCode::UNAUTHORIZED,
                format!("authentication failed: {}", f.reason),
                None,
            )
            .with_header(
                header::WWW_AUTHENTICATE,
                "Basic realm=\"smppgw\", Bearer realm=\"smppgw\"".into(),
            ))
        }
    }
}

/// What both APIs ask, before checking.
struct Input {
    numbers: Vec<String>,
    numbers_field: &'static str,
    max_recipients: usize,
    text: String,
    text_field: &'static str,
    from: Option<String>,
    dest_smsc: Option<String>,
    callback_url: Option<String>,
    reference: Option<String>,
    validity_period: String,
    batch_id: Option<String>,
    api: Api,
    registered_delivery: u8,
    not_before_ms: Option<u64>,
}

impl Input {
    fn new(api: Api, numbers: Vec<String>, text: String) -> Input {
        let (numbers_field, text_field, max_recipients) = match api {
            Api::Send => ("to", "text", MAX_RECIPIENTS),
            Api::Android => ("phoneNumbers", "message", ANDROID_MAX_RECIPIENTS),
        };
        Input {
            numbers,
            numbers_field,
            max_recipients,
            text,
            text_field,
            from: None,
            dest_smsc: None,
            callback_url: None,
            reference: None,
            validity_period: String::new(),
            batch_id: None,
            api,
            registered_delivery: 1,
            not_before_ms: None,
        }
    }
}

/// Checks `input` for `caller` and makes the plan (4xx naming the field), then takes the
/// messages from the client's rate limit (429 with `Retry-After`, logged and counted in
/// `smppgw_http_rate_limited_total{client}`).
fn plan(engine: &Engine, caller: &Caller, input: Input) -> Result<SendPlan, ApiError> {
    let client = caller.client();
    let nf = input.numbers_field;
    if input.numbers.is_empty() {
        return Err(ApiError::bad("at least one recipient is required", nf));
    }
    if input.numbers.len() > input.max_recipients {
        return Err(ApiError::bad(
            format!("at most {} recipients per request", input.max_recipients),
            nf,
        ));
    }
    let mut digits = Vec::with_capacity(input.numbers.len());
    for (i, n) in input.numbers.iter().enumerate() {
        let field = format!("{nf}[{i}]");
        digits.push(send::e164(n).map_err(|e| ApiError::bad(format!("{field}: {e}"), &field))?);
    }
    if input.text.trim().is_empty() {
        return Err(ApiError::bad(
            format!("{}: the text must not be empty", input.text_field),
            input.text_field,
        ));
    }
    let segments = parts::split(&input.text)
        .map_err(|e| ApiError::bad(format!("{}: {e}", input.text_field), input.text_field))?;
    if segments.count() > engine.max_segments as usize {
        return Err(ApiError::bad(
            format!(
                "{}: the text needs {} SMS segments, more than the {} allowed",
                input.text_field,
                segments.count(),
                engine.max_segments
            ),
            input.text_field,
        ));
    }
    if let Some(f) = &input.from {
        send::source_address(f).map_err(|e| ApiError::bad(format!("from: {e}"), "from"))?;
    }
    let from = match input.from {
        Some(f) if !client.may_send_as(&f) => {
            return Err(ApiError::new(
                StatusCode::FORBIDDEN,
                format!(
                    "from: sender {f:?} is not allowed for client {}",
                    client.name
                ),
                Some("from".into()),
            ))
        }
        Some(f) => f,
        None => client.implied_sender().unwrap_or("").to_string(),
    };
    let source =
        send::source_address(&from).map_err(|e| ApiError::bad(format!("from: {e}"), "from"))?;
    let fixed = match (&input.dest_smsc, &client.dest_smsc) {
        (Some(d), _) if !engine.dest_known(d) => {
            return Err(ApiError::bad(
                format!("dest_smsc: unknown dest_smsc {d:?}: not a client bind of this gateway"),
                "dest_smsc",
            ))
        }
        (Some(d), Some(own)) if d != own => {
            return Err(ApiError::new(
                StatusCode::FORBIDDEN,
                format!(
                    "dest_smsc: client {} may only send through {own:?}",
                    client.name
                ),
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
                let field = format!("{nf}[{i}]");
                ApiError::bad(
                    format!(
                        "{field}: no route for {n}: no [[routes]] prefix matches and no dest_smsc"
                    ),
                    &field,
                )
            })?,
        };
        recipients.push((n.clone(), d, dest));
    }
    if let Some(url) = &input.callback_url {
        if !send::is_http_url(url) {
            return Err(ApiError::bad(
                format!("callback_url: {url:?} is not an http(s) URL"),
                "callback_url",
            ));
        }
    }
    if input
        .reference
        .as_ref()
        .is_some_and(|r| r.len() > MAX_REFERENCE)
    {
        return Err(ApiError::bad(
            format!("reference: longer than {MAX_REFERENCE} bytes"),
            "reference",
        ));
    }
    if let Some(burst) = caller.clients.burst(caller.index) {
        if recipients.len() > burst {
            return Err(ApiError::bad(
                format!(
                    "{nf}: {} recipients are more than the rate limit of client {} lets through at once ({burst}); split the request",
                    recipients.len(),
                    client.name
                ),
                nf,
            ));
        }
    }
    if let Err(wait) = caller
        .clients
        .take(caller.index, recipients.len(), engine.now())
    {
        tracing::warn!(client = %client.name, messages = recipients.len(), retry_after_s = wait, "send API rate limit exceeded");
        metrics::counter!("smppgw_http_rate_limited_total", "client" => client.name.clone())
            .increment(1);
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
        segments,
        reference: input.reference,
        callback_url: input.callback_url.or_else(|| client.callback_url.clone()),
        validity_period: input.validity_period,
        registered_delivery: input.registered_delivery,
        not_before_ms: input.not_before_ms,
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

// ----- POST /api/v1/send -----------------------------------------------------------------------

/// `POST /api/v1/send`. `to` is an array of E.164 numbers (one string is taken as one number).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct SendRequest {
    to: Recipients,
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

#[derive(Debug, Deserialize)]
#[serde(untagged)]
enum Recipients {
    Many(Vec<String>),
    One(String),
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

async fn post_send(
    State(engine): State<Arc<Engine>>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    let caller = authenticate(&engine, &headers, PATH_SEND)?;
    let req: SendRequest = parse_as(&parse_json(&body)?, "", "send request")?;
    let numbers = match req.to {
        Recipients::Many(v) => v,
        Recipients::One(s) => vec![s],
    };
    let mut input = Input::new(Api::Send, numbers, req.text);
    input.from = req.from;
    input.dest_smsc = req.dest_smsc;
    input.callback_url = req.callback_url;
    input.reference = req.reference.clone();
    let plan = plan(&engine, &caller, input)?;
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
    let caller = authenticate(&engine, &headers, PATH_SEND_ONE)?;
    let name = caller.client().name.clone();
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

/// RFC 3339 (UTC) of a time in ms since the epoch.
fn rfc3339(ms: u64) -> String {
    time::OffsetDateTime::from_unix_timestamp_nanos(i128::from(ms) * 1_000_000)
        .ok()
        .and_then(|t| {
            t.format(&time::format_description::well_known::Rfc3339)
                .ok()
        })
        .unwrap_or_default()
}

fn parse_rfc3339(s: &str, field: &str) -> Result<u64, ApiError> {
    let at = time::OffsetDateTime::parse(s, &time::format_description::well_known::Rfc3339)
        .map_err(|e| ApiError::bad(format!("{field}: not an RFC 3339 time: {e}"), field))?;
    Ok((at.unix_timestamp_nanos() / 1_000_000).max(0) as u64)
}

/// The Android API's `MessageState` of a batch: `id`, `deviceId` (here: the client bind it
/// goes through), `state`, `isHashed`, `isEncrypted`, `recipients` (`phoneNumber`, `state`,
/// `error` when failed), `states` (first time each state was reached, RFC 3339) and
/// `createdAt`.
fn android_view(batch: &BatchRecord, sends: &[SendRecord]) -> Value {
    let recipients: Vec<Value> = sends
        .iter()
        .map(|s| {
            let state = send::android_state(s.status);
            let mut r = json!({ "phoneNumber": s.to, "state": state });
            if state == "Failed" {
                r["error"] =
                    Value::String(s.reason.clone().unwrap_or_else(|| s.status.to_string()));
            }
            r
        })
        .collect();
    let states: Vec<&str> = sends
        .iter()
        .map(|s| send::android_state(s.status))
        .collect();
    let history: serde_json::Map<String, Value> = send::android_state_times(sends)
        .into_iter()
        .map(|(k, at)| (k.to_string(), Value::String(rfc3339(at))))
        .collect();
    json!({
        "id": batch.id,
        "deviceId": sends.first().map(|s| s.dest_smsc.as_str()).unwrap_or(""),
        "state": send::android_batch_state(&states),
        "isHashed": false,
        "isEncrypted": false,
        "recipients": recipients,
        "states": history,
        "createdAt": rfc3339(batch.created_at_ms),
    })
}

fn string_field(
    map: &serde_json::Map<String, Value>,
    key: &str,
) -> Result<Option<String>, ApiError> {
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
        None | Some(Value::Null) => Err(ApiError::bad("phoneNumbers: missing field", F)),
        Some(Value::String(s)) => Ok(s
            .split(|c: char| c == ',' || c == ';' || c.is_whitespace())
            .filter(|p| !p.is_empty())
            .map(str::to_string)
            .collect()),
        Some(Value::Array(items)) => items
            .iter()
            .enumerate()
            .map(|(i, v)| {
                let field = format!("{F}[{i}]");
                v.as_str()
                    .map(str::to_string)
                    .ok_or_else(|| ApiError::bad(format!("{field}: must be a string"), &field))
            })
            .collect(),
        Some(_) => Err(ApiError::bad(
            "phoneNumbers: must be an array of strings",
            F,
        )),
    }
}

/// The text of an Android request: exactly one of `message` (deprecated there, what seed 000
/// sends) and `textMessage.text`. An Apprise `json://` payload also carries `title`: when not
/// empty it goes before the message as `title: message`, as seed 000's template writes it.
fn android_text(map: &serde_json::Map<String, Value>) -> Result<String, ApiError> {
    for unsupported in ["dataMessage", "mmsMessage", "hashedMessage"] {
        if map.get(unsupported).is_some_and(|v| !v.is_null()) {
            return Err(ApiError::bad(
                format!("{unsupported}: only text messages are supported"),
                unsupported,
            ));
        }
    }
    let message = string_field(map, "message")?;
    let text_message = match map.get("textMessage") {
        None | Some(Value::Null) => None,
        Some(Value::Object(t)) => Some(match t.get("text") {
            Some(Value::String(s)) => s.clone(),
            _ => {
                return Err(ApiError::bad(
                    "textMessage.text: must be a string",
                    "textMessage.text",
                ))
            }
        }),
        Some(_) => {
            return Err(ApiError::bad(
                "textMessage: must be an object",
                "textMessage",
            ))
        }
    };
    let text = match (message, text_message) {
        (Some(m), None) if !m.is_empty() => m,
        (None, Some(t)) => return Ok(t),
        (Some(m), None) => m,
        (Some(_), Some(_)) => {
            return Err(ApiError::bad(
                "textMessage: give exactly one of message and textMessage",
                "textMessage",
            ))
        }
        (None, None) => {
            return Err(ApiError::bad(
                "message: missing field (or textMessage.text)",
                "message",
            ))
        }
    };
    Ok(match string_field(map, "title")? {
        Some(t) if !t.trim().is_empty() && !text.trim().is_empty() => format!("{t}: {text}"),
        _ => text,
    })
}

/// `POST /3rdparty/v1/messages` (and `/message`).
async fn post_android(
    State(engine): State<Arc<Engine>>,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    match android_send(&engine, &uri, &headers, &body).await {
        Ok(r) => r,
        Err(e) => e.android().into_response(),
    }
}

/// The fields of that API's `Message`: `message` | `textMessage`, `phoneNumbers`, `id`,
/// `ttl` | `validUntil`, `withDeliveryReport`, `isEncrypted`, `scheduleAt`. `simNumber`,
/// `deviceId`, `priority` and Apprise's `version`, `type`, `attachments` are accepted and
/// ignored (one carrier bind is not a phone with SIM cards), as are the query parameters.
async fn android_send(
    engine: &Arc<Engine>,
    uri: &Uri,
    headers: &HeaderMap,
    body: &[u8],
) -> Result<Response, ApiError> {
    let caller = authenticate(engine, headers, uri.path())?;
    let v = parse_json(body)?;
    let Value::Object(map) = &v else {
        return Err(ApiError::bad(
            "message: the body must be a JSON object",
            "message",
        ));
    };
    let text = android_text(map)?;
    let numbers = phone_numbers(map)?;
    if map.get("isEncrypted").and_then(Value::as_bool) == Some(true) {
        return Err(ApiError::bad(
            "isEncrypted: encrypted messages are not supported",
            "isEncrypted",
        ));
    }
    let batch_id = string_field(map, "id")?.filter(|s| !s.is_empty());
    if let Some(id) = &batch_id {
        let ok = id.chars().count() <= ANDROID_MAX_ID
            && !id
                .chars()
                .any(|c| c.is_control() || c == '/' || c == '?' || c == '#');
        if !ok {
            return Err(ApiError::bad(
                format!("id: at most {ANDROID_MAX_ID} characters, without '/', '?', '#' or control characters"),
                "id",
            ));
        }
    }
    let ttl =
        match map.get("ttl") {
            None | Some(Value::Null) => None,
            Some(t) => Some(t.as_u64().filter(|&t| t > 0).ok_or_else(|| {
                ApiError::bad("ttl: must be a positive number of seconds", "ttl")
            })?),
        };
    let until = string_field(map, "validUntil")?;
    let ttl = match (ttl, until) {
        (Some(_), Some(_)) => {
            return Err(ApiError::bad(
                "validUntil: ttl and validUntil are mutually exclusive",
                "validUntil",
            ))
        }
        (Some(t), None) => Some(t),
        (None, Some(until)) => {
            let left = parse_rfc3339(&until, "validUntil")?.saturating_sub(engine.now()) / 1000;
            if left == 0 {
                return Err(ApiError::bad("validUntil: in the past", "validUntil"));
            }
            Some(left)
        }
        (None, None) => None,
    };
    let not_before_ms = match string_field(map, "scheduleAt")? {
        None => None,
        Some(at) => {
            let at = parse_rfc3339(&at, "scheduleAt")?;
            if at <= engine.now() {
                return Err(ApiError::bad(
                    "scheduleAt: must be in the future",
                    "scheduleAt",
                ));
            }
            Some(at)
        }
    };
    let with_report = match map.get("withDeliveryReport") {
        None | Some(Value::Null) => true,
        Some(Value::Bool(b)) => *b,
        Some(_) => {
            return Err(ApiError::bad(
                "withDeliveryReport: must be true or false",
                "withDeliveryReport",
            ))
        }
    };
    let mut input = Input::new(Api::Android, numbers, text);
    input.validity_period = ttl.map(send::relative_validity).unwrap_or_default();
    input.batch_id = batch_id;
    input.registered_delivery = u8::from(with_report);
    input.not_before_ms = not_before_ms;
    let plan = plan(engine, &caller, input)?;
    match store(engine, plan).await? {
        Stored::New(batch, sends) => {
            let location = format!("{}/{}", uri.path().trim_end_matches('/'), batch.id);
            let mut r = (StatusCode::ACCEPTED, Json(android_view(&batch, &sends))).into_response();
            if let Ok(v) = header::HeaderValue::from_str(&location) {
                r.headers_mut().insert(header::LOCATION, v);
            }
            Ok(r)
        }
        // As that API: an id already used answers 409 (here whoever used it; another client
        // learns nothing more about it).
        Stored::Existing => Err(ApiError::new(
            StatusCode::CONFLICT,
            "message with the same id already exists",
            Some("id".into()),
        )),
    }
}

/// `GET /3rdparty/v1/messages/{id}` (and `/message/{id}`).
async fn get_android(
    State(engine): State<Arc<Engine>>,
    uri: Uri,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Response {
    let found = async {
        let caller = authenticate(&engine, &headers, uri.path())?;
        let name = caller.client().name.clone();
        let wanted = id.clone();
        match blocking(&engine, move |e| e.batch(&wanted)).await? {
            Some((batch, sends)) if batch.client == name => Ok(android_view(&batch, &sends)),
            _ => Err(ApiError::new(
                StatusCode::NOT_FOUND,
                format!("message {id:?} not found"),
                Some("id".into()),
            )),
        }
    };
    match found.await {
        Ok(v) => Json(v).into_response(),
        Err(e) => e.android().into_response(),
    }
}

/// The query of `GET /3rdparty/v1/messages`: `limit` (1..=100, default 50), `offset`, `state`
/// (`Pending`, `Sent`, `Delivered`, `Failed`…), `from`/`to` (RFC 3339, on `createdAt`).
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
struct ListQuery {
    limit: Option<usize>,
    offset: Option<usize>,
    state: Option<String>,
    from: Option<String>,
    to: Option<String>,
    // Accepted and ignored, as on that API when it does not apply here.
    #[allow(dead_code)]
    device_id: Option<String>,
    #[allow(dead_code)]
    include_content: Option<bool>,
    #[allow(dead_code)]
    sort: Option<String>,
}

/// `GET /3rdparty/v1/messages` (and `/message`, which seed 000 uses as its credentials check):
/// the client's messages, newest first, with `X-Total-Count`.
async fn list_android(
    State(engine): State<Arc<Engine>>,
    uri: Uri,
    headers: HeaderMap,
    query: Result<Query<ListQuery>, axum::extract::rejection::QueryRejection>,
) -> Response {
    let listed = async {
        let caller = authenticate(&engine, &headers, uri.path())?;
        let Query(q) = query.map_err(|e| ApiError::bad(format!("query: {e}"), "query"))?;
        let limit = q.limit.unwrap_or(ANDROID_PAGE);
        if !(1..=ANDROID_PAGE_MAX).contains(&limit) {
            return Err(ApiError::bad(
                format!("limit: must be 1..={ANDROID_PAGE_MAX}"),
                "limit",
            ));
        }
        let from = q
            .from
            .as_deref()
            .map(|s| parse_rfc3339(s, "from"))
            .transpose()?;
        let to =
            q.to.as_deref()
                .map(|s| parse_rfc3339(s, "to"))
                .transpose()?;
        let name = caller.client().name.clone();
        let mut all = blocking(&engine, move |e| e.batches_of(&name)).await?;
        all.retain(|(b, _)| {
            from.is_none_or(|f| b.created_at_ms >= f) && to.is_none_or(|t| b.created_at_ms <= t)
        });
        let mut views: Vec<Value> = all.iter().map(|(b, s)| android_view(b, s)).collect();
        if let Some(state) = &q.state {
            views.retain(|v| v["state"].as_str() == Some(state.as_str()));
        }
        let total = views.len();
        let page: Vec<Value> = views
            .into_iter()
            .skip(q.offset.unwrap_or(0))
            .take(limit)
            .collect();
        let mut r = Json(Value::Array(page)).into_response();
        r.headers_mut()
            .insert("x-total-count", header::HeaderValue::from(total));
        Ok::<Response, ApiError>(r)
    };
    match listed.await {
        Ok(r) => r,
        Err(e) => e.android().into_response(),
    }
}
