//! The embedded messaging core (layer 4 of `DESIGN.md`): a small reference implementation of
//! the messaging core API, used when the gateway's `api_base_url = "embedded"`. The gateway
//! serves it on a loopback port ([`serve`]) and talks to it over HTTP exactly as to a
//! production core. It knows nothing of SMPP sessions.
//!
//! # Layout
//!
//! | module | what it holds |
//! | --- | --- |
//! | `config` | [`EmbeddedConfig`], [`Route`], [`MoRoute`]; longest-prefix routing |
//! | `clock` | [`Clock`], [`SystemClock`], [`ManualClock`]: every time reading is injected |
//! | `record` | [`MessageRecord`], [`MessageStatus`], [`HistoryEntry`]: what is stored per message |
//! | `store` | the fjall trees (layout below), the in-memory queue index, a staging area committed as one atomic batch, the one-time migration of a sled store |
//! | `ids` | carrier message ids: exact, same-number and hex/decimal matching |
//! | `receipts` | receipt states, and the receipts queued for partners |
//! | `engine` | hand-over, routing, claims and leases, events, retries, correlation |
//! | `http` | the axum router ([`EmbeddedCore::router`]) and error answers |
//! | `views` | JSON answers of the operator calls ([`MessageList`], [`Stats`], [`FrontendList`]) |
//! | `clients` | [`ApiClient`]: send API credentials, senders, rate limit (token bucket) |
//! | `send` | [`SendRecord`]: one recipient of a send, its parts and aggregate status |
//! | `parts` | cutting a text into GSM 03.38 / UCS-2 segments with concatenation UDH |
//! | `send_http` | the send API handlers, Android SMS gateway compatible calls included |
//! | `callbacks` | status callbacks: ordered per send, retried with backoff |
//!
//! # Calls
//!
//! The core API of `core_bridge::api` (`POST /api/v1/messages`, `/api/v1/queue/claim`,
//! `/api/v1/events`, `/api/v1/messages/{id}/events`, `/api/v1/frontends/register`,
//! `GET /api/v1/system/health`), and for tests and operators `GET /api/v1/messages/{id}`
//! ([`MessageRecord`]), `GET /api/v1/messages?direction=&bind_name=&status=&dest_smsc=&source_smsc=&limit=`
//! ([`MessageList`], newest first, default limit 100), `GET /api/v1/stats` ([`Stats`]) and
//! `GET /api/v1/frontends` ([`FrontendList`]). Errors answer an `ErrorBody`: 400 naming the
//! field at fault, 404 for an unknown message id, 503 when the store fails (retryable).
//!
//! The send API (`docs/http-api.md`, `docs/http-api.yaml`), for alerting systems, on the same
//! router and on [`EmbeddedCore::send_router`] alone: `POST /api/v1/send`
//! `{to: [E.164…], text, from?, dest_smsc?, callback_url?, reference?}` (202: one id per
//! recipient and the number of segments), `GET /api/v1/send/{id}` ([`SendRecord`]: aggregate
//! status and history), and the Android SMS gateway compatible `POST /3rdparty/v1/messages`
//! `{message | textMessage, phoneNumbers, …}`, `GET /3rdparty/v1/messages[/{id}]` (also under
//! the older `/3rdparty/v1/message`), answering that API's `MessageState`. Each call
//! authenticates an [`ApiClient`] (Basic, Bearer or `X-API-Key`; else 401 with
//! `WWW-Authenticate`, a warning and `smppgw_http_auth_failures_total{client}`), checks its
//! input (400/403 naming the field) and its rate limit (429 with `Retry-After`,
//! `smppgw_http_rate_limited_total{client}`). Each segment of each recipient becomes a queued
//! MT (`origin` `api`, `registered_delivery` 1, UDH and `esm_class` 0x40 when concatenated)
//! that the gateway claims like any other; the carrier's receipts update the send, and
//! `callback_url` gets every status change (stored with the change, retried with backoff).
//!
//! # What it does
//!
//! - A hand-over is stored once per id (a repeated id is answered `duplicate`) and flushed to
//!   disk before the answer. An MT is routed by the longest prefix of its destination to a
//!   client bind's queue (`dest_smsc`); an MO to a server bind's queue (`source_smsc`). With no
//!   route the message is kept as `failed`.
//! - A claim leases the oldest claimable messages of one queue. A lease that ends without an
//!   event makes the message claimable again; a retryable failure delays it by
//!   `retry_base`·2^(attempts−1) (at most 5 minutes) until `max_attempts`.
//! - A carrier receipt is matched with the MT whose `submitted` event reported the same carrier
//!   id on the same client bind (also across hex and decimal). When the partner asked for it
//!   (`registered_delivery`), a receipt naming the partner's message id is queued for the
//!   partner's server bind. Unmatched receipts are kept as `orphan_receipt`, and matched if
//!   their MT's `submitted` event comes later.
//!
//! # Store layout
//!
//! A fjall database in `<dir>/fjall`, one keyspace per tree. A store that sled wrote in `<dir>`
//! (before fjall) is copied over at the first open and sled's files moved to
//! `<dir>/sled-migrated/`. The queues are also held in memory, read at open.
//!
//! | tree | key | value |
//! | --- | --- | --- |
//! | `messages` | message id | [`MessageRecord`] as JSON |
//! | `queues` | `d`/`s` + bind name + `0x00` + message id | claimable-from time (8 bytes BE ms) + state byte |
//! | `smsc_ids` | client bind + `0x00` + form (`X` as written, `D` decimal value, `H` hex value) + carrier id | MT id |
//! | `orphans` | client bind + `0x00` + form + carrier id + `0x00` + receipt id | empty |
//! | `sends` | send id | [`SendRecord`] as JSON |
//! | `batches` | batch id (one send request) | its client, API and `(recipient, send id)` list as JSON |
//! | `callbacks` | ULID | a status callback not yet delivered nor given up |
#![deny(missing_docs)]

mod callbacks;
mod clients;
mod clock;
mod config;
mod engine;
mod error;
mod http;
mod ids;
mod parts;
mod receipts;
mod record;
mod send;
mod send_http;
mod store;
mod views;

use std::future::Future;
use std::path::Path;
use std::sync::Arc;

pub use clients::ApiClient;
pub use clock::{Clock, ManualClock, SystemClock};
pub use config::{ConfigError, EmbeddedConfig, MoRoute, Route};
pub use error::CoreStoreError;
pub use record::{HistoryEntry, MessageRecord, MessageStatus, Origin};
pub use send::{SendHistoryEntry, SendPart, SendRecord};
pub use views::{FrontendInfo, FrontendList, MessageList, QueueStats, Stats};

use engine::Engine;
use store::Store;

/// The embedded core: durable queues (fjall), routing, receipt correlation. Cheap to clone (an
/// `Arc` inside); every clone is the same core.
#[derive(Clone)]
pub struct EmbeddedCore {
    engine: Arc<Engine>,
}

impl std::fmt::Debug for EmbeddedCore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EmbeddedCore")
            .field("path", &self.engine.store.path())
            .finish_non_exhaustive()
    }
}

impl EmbeddedCore {
    /// Opens (or creates) the store under `dir` (a directory, created if missing; the fjall
    /// database lives in its `fjall` subdirectory, and a store sled left in `dir` is migrated
    /// first), with the system clock.
    ///
    /// Errors: [`CoreStoreError::Open`] naming `dir` and the cause (permissions, a store held
    /// by another process, an incompatible format).
    pub fn open(dir: &Path, config: EmbeddedConfig) -> Result<Self, CoreStoreError> {
        Self::open_with_clock(dir, config, Arc::new(SystemClock))
    }

    /// As [`open`](Self::open), reading the time from `clock` (leases, retry delays, frontend
    /// expiry, history and receipt dates). Tests pass a [`ManualClock`].
    pub fn open_with_clock(
        dir: &Path,
        config: EmbeddedConfig,
        clock: Arc<dyn Clock>,
    ) -> Result<Self, CoreStoreError> {
        config.validate()?;
        let store = Store::open(dir)?;
        tracing::info!(path = %dir.display(), routes = config.routes.len(), mo_routes = config.mo_routes.len(), "embedded core opened");
        Ok(EmbeddedCore {
            engine: Arc::new(Engine::new(store, &config, clock)),
        })
    }

    /// The axum router serving the API (paths of `core_bridge::api`, the operator calls and
    /// the send API listed in the crate docs). No socket: testable with
    /// `tower::ServiceExt::oneshot`. Called within a tokio runtime, it also starts the
    /// dispatcher of status callbacks (once per core).
    pub fn router(&self) -> axum::Router {
        self.engine.callbacks.start();
        http::router(Arc::clone(&self.engine))
    }

    /// The router of the send API alone (`/api/v1/send…`, `/3rdparty/v1/message…`), for a
    /// listener reachable by API clients that must not reach the core API. Starts the
    /// callback dispatcher as [`router`](Self::router) does.
    pub fn send_router(&self) -> axum::Router {
        self.engine.callbacks.start();
        http::send_router(Arc::clone(&self.engine))
    }

    /// The send `id` of the send API (as `GET /api/v1/send/{id}` answers it), `None` if
    /// unknown. Reads the store on the calling thread.
    ///
    /// Errors: [`CoreStoreError::Storage`] or [`CoreStoreError::Corrupt`].
    pub fn send_record(&self, id: &str) -> Result<Option<SendRecord>, CoreStoreError> {
        self.engine.send_record(id)
    }

    /// Replaces the client binds (`[[binds]]` names) a send may name as `dest_smsc` besides
    /// the routes' targets (see [`EmbeddedConfig::known_dest_smsc`]).
    pub fn set_known_dest_smsc(&self, names: Vec<String>) {
        self.engine.set_known_dest(names);
    }

    /// Replaces the clients of the send API (a configuration reload). Requests under way
    /// finish with the clients they started with; rate limits start anew.
    ///
    /// Errors: the [`ConfigError`] of [`EmbeddedConfig::validate`] for these clients, naming
    /// `api_clients[i].key`; the clients in force are then kept.
    pub fn set_api_clients(&self, clients: Vec<ApiClient>) -> Result<(), ConfigError> {
        let check = EmbeddedConfig {
            api_clients: clients,
            ..EmbeddedConfig::default()
        };
        check.validate()?;
        self.engine.set_clients(&check.api_clients);
        tracing::info!(
            clients = check.api_clients.len(),
            "send API clients replaced"
        );
        Ok(())
    }

    /// Replaces the MT and MO routes. Applies to messages handed over from now on; queued
    /// messages keep their queue.
    pub fn set_routes(&self, routes: Vec<Route>, mo_routes: Vec<MoRoute>) {
        tracing::info!(
            routes = routes.len(),
            mo_routes = mo_routes.len(),
            "embedded core routes replaced"
        );
        self.engine.set_routes(&routes, &mo_routes);
    }

    /// Makes the store's journal durable (fsync; called at shutdown; every accepted hand-over is already flushed).
    ///
    /// Errors: [`CoreStoreError::Flush`] naming the store directory.
    pub async fn flush(&self) -> Result<(), CoreStoreError> {
        self.engine.store.flush().await
    }

    /// The store directory.
    pub fn path(&self) -> &Path {
        self.engine.store.path()
    }

    /// The stored record of message `id` (as `GET /api/v1/messages/{id}` answers it), `None`
    /// if unknown. Reads the store on the calling thread.
    ///
    /// Errors: [`CoreStoreError::Storage`] or [`CoreStoreError::Corrupt`].
    pub fn message(&self, id: &str) -> Result<Option<MessageRecord>, CoreStoreError> {
        self.engine.record(id)
    }
}

/// Serves `core` on `listener` until `shutdown` resolves, then lets open requests finish and
/// flushes the store.
///
/// Errors: the listener's I/O errors, or the final flush's (as [`std::io::Error`]).
pub async fn serve(
    listener: tokio::net::TcpListener,
    core: EmbeddedCore,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    if let Ok(addr) = listener.local_addr() {
        tracing::info!(%addr, "embedded core listening");
    }
    // Without TCP_NODELAY, a response written in two segments waits for the client's delayed
    // ACK (~40 ms on Linux) before its second segment leaves: every hand-over would pay it.
    use axum::serve::ListenerExt as _;
    let listener = listener.tap_io(|tcp| {
        let _ = tcp.set_nodelay(true);
    });
    axum::serve(listener, core.router())
        .with_graceful_shutdown(shutdown)
        .await?;
    core.flush().await.map_err(std::io::Error::other)
}
