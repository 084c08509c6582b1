//! Hand-over of received messages to the core, the events the gateway owes it, and the retry
//! cache behind both (seed 002, "Cache de Messages SMPP"; `docs/retry-cache.md`).
//!
//! [`Handover`] coalesces concurrent hand-overs into one `POST /api/v1/messages` (up to
//! `MAX_BATCH` messages), the way a database groups commits: while one call is in flight the
//! next messages queue up and leave together, so HTTP's per-request cost is shared under load
//! while a lone message still leaves at once. Each caller waits for its own message's answer.
//!
//! [`Handover::accept`] is what the binds call. A message is acknowledged to the peer only once
//! it is durable somewhere:
//!
//! - the core answered it (stored or duplicate): it is in the core;
//! - or, on a bind with `cache_enabled`, the core could not take it (unreachable, timeout, 5xx)
//!   and it is flushed to the retry cache (group commit: concurrent puts share one fsync);
//! - and while the bind's cache still holds messages to deliver, a new message goes to the
//!   cache directly, behind them, so that the core receives the bind's messages in the order
//!   they were accepted.
//!
//! Anything else (the core down and the cache off, full disk, unwritable directory) is refused
//! with a temporary status, so the peer keeps the message and sends it again.
//!
//! [`EventSink`] sends events in batches. While the core is unreachable, events of binds with
//! `cache_enabled` are parked in the retry cache (durable, delivered by the flush worker with
//! the seed's backoff); other events are retried from memory with backoff, in order.

use std::path::PathBuf;
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, Instant};

use core_bridge::api::{AcceptStatus, BindMode, Event, InboundMessage};
use core_bridge::{CoreClient, CoreError};
use retry_cache::{BindCacheConfig, CacheConfig, Item, RetryCache, StorageKind, WorkerHandle};
use tokio::sync::{mpsc, oneshot, Semaphore};
use tokio_util::sync::CancellationToken;

use crate::config::Config;
use crate::telemetry;

/// Most messages in one hand-over call.
pub const MAX_BATCH: usize = 100;
/// Most hand-over calls in flight at once.
pub const MAX_CONCURRENT_CALLS: usize = 8;

type Waiter = (
    InboundMessage,
    oneshot::Sender<Result<AcceptStatus, CoreError>>,
);

/// Coalescing hand-over of inbound messages, with the retry cache behind it. Cheap to clone.
#[derive(Clone, Debug)]
pub struct Handover {
    tx: mpsc::Sender<Waiter>,
    cache: CacheSlot,
}

/// Where an accepted message is now.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Accepted {
    /// The core has it (stored, or a duplicate of one it has).
    Core(AcceptStatus),
    /// It is on disk (or in memory, `cache_storage_type = "memory"`) in the retry cache.
    Cached,
}

/// Why a message was not accepted; the peer is answered accordingly.
#[derive(Debug, thiserror::Error)]
pub enum Refusal {
    /// Try again later (core unreachable and the cache off or unusable): a temporary SMPP
    /// status (`ESME_RSYSERR` to a partner, `ESME_RX_T_APPN` to a carrier).
    #[error("temporary: {0}")]
    Temporary(String),
    /// The core refused the message itself (a 4xx): trying again cannot help.
    #[error("refused by the core: {0}")]
    Permanent(String),
}

impl Handover {
    /// Start the dispatcher on the current runtime; `cache` is consulted per bind.
    pub fn start(core: CoreClient, cache: CacheSlot) -> Self {
        let (tx, rx) = mpsc::channel(MAX_BATCH * MAX_CONCURRENT_CALLS * 4);
        tokio::spawn(dispatch(core, rx));
        Handover { tx, cache }
    }

    /// The retry cache behind this hand-over.
    pub fn cache(&self) -> &CacheSlot {
        &self.cache
    }

    /// Hand `msg` to the core and wait for its answer (stored or duplicate). No cache.
    pub async fn hand_over(&self, msg: InboundMessage) -> Result<AcceptStatus, CoreError> {
        let (tx, rx) = oneshot::channel();
        let unavailable = || CoreError::Unreachable {
            url: "(hand-over)".into(),
            reason: "gateway shutting down".into(),
        };
        self.tx.send((msg, tx)).await.map_err(|_| unavailable())?;
        rx.await.unwrap_or_else(|_| Err(unavailable()))
    }

    /// Make `msg`, received on `bind` (`mode`), durable in the core or in the retry cache; see
    /// the module documentation. `Ok` means the peer may be answered `ESME_ROK`.
    pub async fn accept(
        &self,
        bind: &str,
        mode: BindMode,
        msg: InboundMessage,
    ) -> Result<Accepted, Refusal> {
        if !self.cache.enabled(bind) {
            return match self.hand_over(msg).await {
                Ok(s) => Ok(Accepted::Core(s)),
                Err(e) if e.is_retryable() => Err(Refusal::Temporary(e.to_string())),
                Err(e) => Err(Refusal::Permanent(e.to_string())),
            };
        }
        if let Some(cache) = self.cache.get() {
            if cache.has_undelivered(bind) {
                return cache.put(bind, mode, Item::Message(msg)).await.map(|()| Accepted::Cached).map_err(|e| {
                    Refusal::Temporary(format!("earlier messages of {bind} wait in the retry cache, which cannot take this one: {e}"))
                });
            }
        }
        match self.hand_over(msg.clone()).await {
            Ok(s) => Ok(Accepted::Core(s)),
            Err(e) if !e.is_retryable() => Err(Refusal::Permanent(e.to_string())),
            Err(core) => match self.cache.get() {
                // The core may have stored it all the same (a timeout after it did): the cached
                // copy carries the same id, which the core then answers as a duplicate.
                Some(cache) => cache
                    .put(bind, mode, Item::Message(msg))
                    .await
                    .map(|()| Accepted::Cached)
                    .map_err(|e| {
                        Refusal::Temporary(format!(
                            "{core}; and the retry cache cannot take it: {e}"
                        ))
                    }),
                None => Err(Refusal::Temporary(format!(
                    "{core}; and the retry cache is unavailable: {}",
                    self.cache.error().unwrap_or_default()
                ))),
            },
        }
    }
}

async fn dispatch(core: CoreClient, mut rx: mpsc::Receiver<Waiter>) {
    let calls = Arc::new(Semaphore::new(MAX_CONCURRENT_CALLS));
    while let Some(first) = rx.recv().await {
        // Wait for a free call slot first: while we wait, more messages gather in the channel.
        let Ok(permit) = calls.clone().acquire_owned().await else {
            return;
        };
        let mut batch = vec![first];
        while batch.len() < MAX_BATCH {
            match rx.try_recv() {
                Ok(w) => batch.push(w),
                Err(_) => break,
            }
        }
        let core = core.clone();
        tokio::spawn(async move {
            let (msgs, waiters): (Vec<_>, Vec<_>) = batch.into_iter().unzip();
            let ids: Vec<String> = msgs.iter().map(|m| m.id.clone()).collect();
            let t0 = Instant::now();
            let res = core.post_messages(msgs).await;
            telemetry::core_call("post_messages", t0.elapsed().as_secs_f64(), &res);
            match res {
                Ok(ans) => {
                    for (id, w) in ids.iter().zip(waiters) {
                        let status = ans.accepted.iter().find(|a| &a.id == id).map(|a| a.status);
                        let _ = w.send(status.ok_or_else(|| CoreError::Decode {
                            url: core.base_url().to_string(),
                            reason: format!("answer does not list message {id}"),
                        }));
                    }
                }
                Err(e) => {
                    tracing::warn!(error = %e, count = ids.len(), "hand-over to the core failed");
                    for w in waiters {
                        let _ = w.send(Err(clone_error(&e)));
                    }
                }
            }
            drop(permit);
        });
    }
}

fn clone_error(e: &CoreError) -> CoreError {
    match e {
        CoreError::Unreachable { url, reason } => CoreError::Unreachable {
            url: url.clone(),
            reason: reason.clone(),
        },
        CoreError::Status { url, status, body } => CoreError::Status {
            url: url.clone(),
            status: *status,
            body: body.clone(),
        },
        CoreError::Decode { url, reason } => CoreError::Decode {
            url: url.clone(),
            reason: reason.clone(),
        },
    }
}

/// Batched, retried delivery of events to the core. Cheap to clone.
#[derive(Clone, Debug)]
pub struct EventSink {
    tx: mpsc::UnboundedSender<Event>,
}

impl EventSink {
    /// Start the sender on the current runtime; events of binds with `cache_enabled` are parked
    /// in `cache` while the core is unreachable.
    pub fn start(core: CoreClient, cache: CacheSlot) -> Self {
        let (tx, rx) = mpsc::unbounded_channel();
        tokio::spawn(send_events(core, cache, rx));
        EventSink { tx }
    }

    /// Queue an event; it is sent as soon as possible, in order, and kept while the core is down.
    pub fn report(&self, event: Event) {
        if self.tx.send(event).is_err() {
            tracing::error!("event sender stopped; event lost");
        }
    }
}

/// Put the events of binds with a usable cache into it; return the others (and those the
/// cache refused), in order. With `only_behind`, only the events of binds whose cache still
/// holds entries to deliver (they must queue behind them) are put.
async fn park(cache: &CacheSlot, events: Vec<Event>, only_behind: bool) -> Vec<Event> {
    let Some(c) = cache.get() else { return events };
    let mut kept = Vec::new();
    let mut puts = Vec::new();
    for ev in events {
        let bind = ev.bind_name.clone();
        let wanted = cache.enabled(&bind) && (!only_behind || c.has_undelivered(&bind));
        match cache.mode(&bind) {
            Some(mode) if wanted => {
                let c = c.clone();
                puts.push(async move {
                    let r = c.put(&bind, mode, Item::Event(ev.clone())).await;
                    (ev, r)
                });
            }
            _ => kept.push(ev),
        }
    }
    // Concurrent puts share flushes; each put takes its place in its bind's order when first
    // polled, which join_all does in order.
    for (ev, r) in futures::future::join_all(puts).await {
        if let Err(e) = r {
            tracing::warn!(error = %e, message_id = %ev.message_id, "event not cached; kept in memory");
            kept.push(ev);
        }
    }
    kept
}

async fn send_events(core: CoreClient, cache: CacheSlot, mut rx: mpsc::UnboundedReceiver<Event>) {
    while let Some(first) = rx.recv().await {
        let mut batch = vec![first];
        while batch.len() < 500 {
            match rx.try_recv() {
                Ok(e) => batch.push(e),
                Err(_) => break,
            }
        }
        batch = park(&cache, batch, true).await;
        let mut delay = Duration::from_millis(200);
        while !batch.is_empty() {
            let t0 = Instant::now();
            let res = core.post_events(batch.clone()).await;
            telemetry::core_call("post_events", t0.elapsed().as_secs_f64(), &res);
            match res {
                Ok(_) => break,
                Err(e) if e.is_retryable() => {
                    batch = park(&cache, batch, false).await;
                    if batch.is_empty() {
                        tracing::warn!(error = %e, "events not delivered to the core; kept in the retry cache");
                        break;
                    }
                    tracing::warn!(error = %e, count = batch.len(), "events not delivered to the core; retrying in {:?}", delay);
                    tokio::time::sleep(delay).await;
                    delay = (delay * 2).min(Duration::from_secs(30));
                }
                Err(e) => {
                    // The core refused the batch (e.g. an unknown message id): retrying the same
                    // batch cannot succeed; send the events one by one so the good ones land.
                    tracing::warn!(error = %e, "core refused an event batch; sending events one by one");
                    for ev in batch.drain(..) {
                        if let Err(e) = core.post_events(vec![ev.clone()]).await {
                            tracing::error!(error = %e, message_id = %ev.message_id, "core refused event; dropped");
                        }
                    }
                    break;
                }
            }
        }
    }
}

/// The retry cache's settings from the gateway's configuration: the seed's globals, and for
/// every peer `cache_enabled`, `cache_max_size`, `cache_retry_interval` and its mode.
pub fn cache_config(c: &Config) -> CacheConfig {
    let mut cfg = CacheConfig {
        flush_interval: Duration::from_millis(c.cache_flush_interval.max(1)),
        max_retry_attempts: c.cache_max_retry_attempts,
        backoff_multiplier: c.cache_backoff_multiplier.max(1),
        storage: c.cache_storage(),
        ..CacheConfig::default()
    };
    let peer = |enabled, max_size: u64, retry: u64, mode| BindCacheConfig {
        enabled,
        max_size: usize::try_from(max_size.max(1)).unwrap_or(usize::MAX),
        retry_interval: Duration::from_secs(retry.max(1)),
        mode: Some(mode),
    };
    for b in &c.binds {
        cfg.binds.insert(
            b.name.clone(),
            peer(
                b.cache_enabled,
                b.cache_max_size,
                b.cache_retry_interval,
                BindMode::Client,
            ),
        );
    }
    for b in &c.server_binds {
        cfg.binds.insert(
            b.name.clone(),
            peer(
                b.cache_enabled,
                b.cache_max_size,
                b.cache_retry_interval,
                BindMode::Server,
            ),
        );
    }
    cfg
}

/// Where the retry cache lives: `cache_dir`, else `data_dir/cache`.
pub fn cache_dir(c: &Config) -> PathBuf {
    c.cache_dir
        .clone()
        .unwrap_or_else(|| c.data_dir.join("cache"))
}

/// The gateway's retry cache: open, or not (yet) — its directory unwritable at start, say —
/// with the reason, opened again in the background until it works. Cheap to clone.
#[derive(Clone, Debug)]
pub struct CacheSlot {
    inner: Arc<SlotInner>,
}

#[derive(Debug)]
struct SlotInner {
    cache: RwLock<Option<RetryCache>>,
    config: RwLock<CacheConfig>,
    error: RwLock<Option<String>>,
    dir: PathBuf,
    worker: Mutex<Option<WorkerHandle>>,
}

impl CacheSlot {
    /// Open the cache of `config` (in [`cache_dir`]) and start its flush worker delivering to
    /// `core`. When it cannot be opened, the error is logged (naming the directory and the
    /// cause) and kept for the admin API, and opening is tried again every
    /// `cache_flush_interval` until it works or `stop` is cancelled; meanwhile binds with
    /// `cache_enabled` still hand messages to the core and refuse them with a temporary status
    /// when the core cannot take them.
    pub async fn open(config: &Config, core: CoreClient, stop: CancellationToken) -> Self {
        let cfg = cache_config(config);
        let slot = CacheSlot {
            inner: Arc::new(SlotInner {
                cache: RwLock::new(None),
                config: RwLock::new(cfg.clone()),
                error: RwLock::new(None),
                dir: cache_dir(config),
                worker: Mutex::new(None),
            }),
        };
        if !slot.try_open(&core).await {
            let (slot, core) = (slot.clone(), core.clone());
            tokio::spawn(async move {
                loop {
                    let wait = slot.config().flush_interval;
                    tokio::select! {
                        _ = stop.cancelled() => return,
                        _ = tokio::time::sleep(wait) => {}
                    }
                    if slot.try_open(&core).await {
                        return;
                    }
                }
            });
        }
        slot
    }

    async fn try_open(&self, core: &CoreClient) -> bool {
        let cfg = self.config();
        let storage = cfg.storage;
        match RetryCache::open_dir(cfg.clone(), &self.inner.dir).await {
            Ok(cache) => {
                // Enabled binds show in smpp_cache_size from the start.
                let _ = cache.reconfigure(self.config());
                let worker = cache.spawn_worker(Arc::new(CoreDelivery(core.clone())));
                *self.inner.worker.lock().unwrap_or_else(|p| p.into_inner()) = Some(worker);
                *self.inner.cache.write().unwrap_or_else(|p| p.into_inner()) = Some(cache);
                let was_broken = self
                    .inner
                    .error
                    .write()
                    .unwrap_or_else(|p| p.into_inner())
                    .take()
                    .is_some();
                if storage == StorageKind::Disk {
                    tracing::info!(dir = %self.inner.dir.display(), "retry cache on disk in {}{}", self.inner.dir.display(), if was_broken { " (opened after earlier failures)" } else { "" });
                } else {
                    tracing::info!("retry cache in memory only (cache_storage_type = \"memory\"): lost on restart");
                }
                true
            }
            Err(e) => {
                let text = e.to_string();
                let mut err = self.inner.error.write().unwrap_or_else(|p| p.into_inner());
                if err.as_deref() != Some(text.as_str()) {
                    tracing::error!(dir = %self.inner.dir.display(), error = %text,
                        "retry cache unavailable: {text}; binds with cache_enabled refuse messages the core cannot take (temporary status) until it opens; trying again every cache_flush_interval");
                }
                *err = Some(text);
                false
            }
        }
    }

    /// The cache, when open.
    pub fn get(&self) -> Option<RetryCache> {
        self.inner
            .cache
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    /// Why the cache is not usable now: it could not be opened, or its store is out of order
    /// (disk full …). `None` when it works.
    pub fn error(&self) -> Option<String> {
        match self.get() {
            Some(c) => c.storage_error(),
            None => self
                .inner
                .error
                .read()
                .unwrap_or_else(|p| p.into_inner())
                .clone(),
        }
    }

    /// The cache's directory.
    pub fn dir(&self) -> &std::path::Path {
        &self.inner.dir
    }

    /// The settings in force.
    pub fn config(&self) -> CacheConfig {
        self.inner
            .config
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    /// Whether `bind` has `cache_enabled`.
    pub fn enabled(&self, bind: &str) -> bool {
        self.inner
            .config
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .binds
            .get(bind)
            .is_some_and(|b| b.enabled)
    }

    /// `bind`'s mode, when it is a configured peer.
    pub fn mode(&self, bind: &str) -> Option<BindMode> {
        self.inner
            .config
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .binds
            .get(bind)
            .and_then(|b| b.mode)
    }

    /// Take the cache settings of a new gateway configuration (peers edited, file re-read).
    /// The storage type and directory apply at the next start.
    pub fn configure(&self, config: &Config) {
        let cfg = cache_config(config);
        if let Some(c) = self.get() {
            if let Err(e) = c.reconfigure(cfg.clone()) {
                tracing::error!(error = %e, "retry cache settings not applied");
                return;
            }
        }
        *self.inner.config.write().unwrap_or_else(|p| p.into_inner()) = cfg;
    }

    /// Stop the flush worker (after its current batch) and flush what it settled.
    pub async fn shutdown(&self) {
        let worker = self
            .inner
            .worker
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .take();
        if let Some(w) = worker {
            w.shutdown().await;
        }
        if let Some(c) = self.get() {
            if let Err(e) = c.sync().await {
                tracing::error!(error = %e, "retry cache: final flush failed");
            }
        }
    }
}

/// The flush worker's delivery: `POST /api/v1/messages` and `POST /api/v1/events` with the
/// semantics of [`retry_cache::deliver_via`], timed in `smppgw_core_api_duration_seconds`.
struct CoreDelivery(CoreClient);

impl retry_cache::Deliver for CoreDelivery {
    fn deliver(&self, items: Vec<Item>) -> retry_cache::DeliverFuture {
        let (c1, c2) = (self.0.clone(), self.0.clone());
        Box::pin(async move {
            retry_cache::deliver_via(
                items,
                move |m| {
                    let c = c1.clone();
                    async move {
                        let t0 = Instant::now();
                        let r = c.post_messages(m).await;
                        telemetry::core_call("post_messages", t0.elapsed().as_secs_f64(), &r);
                        r.map(|a| a.accepted.into_iter().map(|a| a.id).collect())
                    }
                },
                move |e| {
                    let c = c2.clone();
                    async move {
                        let t0 = Instant::now();
                        let r = c.post_events(e).await;
                        telemetry::core_call("post_events", t0.elapsed().as_secs_f64(), &r);
                        r.map(|_| ())
                    }
                },
            )
            .await
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn load(name: &str, text: &str) -> Result<Config, crate::config::ConfigError> {
        let dir =
            std::env::temp_dir().join(format!("smppgw-handover-{name}-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let p = dir.join("c.toml");
        std::fs::write(&p, text).unwrap();
        Config::load_with_env(&p, &|_| None)
    }

    const PEERS: &str = r#"
[[binds]]
name = "carrier"
host = "127.0.0.1"
system_id = "gw"
password = "pw"
cache_enabled = true
cache_max_size = 5
cache_retry_interval = 30

[[server_binds]]
name = "partner"
system_id = "p"
password = "x"
"#;

    #[test]
    fn cache_settings_follow_the_gateway_configuration() {
        let c = load("map", &format!("cache_flush_interval = 5000\ncache_max_retry_attempts = 3\ncache_backoff_multiplier = 3\nmnesia_storage_type = \"ram_copies\"\ndata_dir = \"/srv/gw\"\n{PEERS}")).unwrap();
        let cfg = cache_config(&c);
        assert_eq!(cfg.flush_interval, Duration::from_secs(5));
        assert_eq!(
            (cfg.max_retry_attempts, cfg.backoff_multiplier, cfg.storage),
            (3, 3, StorageKind::Memory)
        );
        let carrier = cfg.bind("carrier");
        assert_eq!(
            (
                carrier.enabled,
                carrier.max_size,
                carrier.retry_interval,
                carrier.mode
            ),
            (true, 5, Duration::from_secs(30), Some(BindMode::Client))
        );
        let partner = cfg.bind("partner");
        assert_eq!(
            (
                partner.enabled,
                partner.max_size,
                partner.retry_interval,
                partner.mode
            ),
            (
                false,
                10_000,
                Duration::from_secs(60),
                Some(BindMode::Server)
            )
        );
        // 30 s × 3^n.
        assert_eq!(cfg.backoff("carrier", 2), Duration::from_secs(270));
        assert_eq!(cache_dir(&c), PathBuf::from("/srv/gw/cache"));
        let c = load("dir", &format!("cache_dir = \"/mnt/fast/cache\"\n{PEERS}")).unwrap();
        assert_eq!(cache_dir(&c), PathBuf::from("/mnt/fast/cache"));
        assert_eq!(cache_config(&c).storage, StorageKind::Disk);
    }

    #[test]
    fn bad_cache_settings_name_their_keys() {
        let err = load(
            "bad",
            &format!(
                "cache_storage_type = \"tape\"\ncache_flush_interval = 0\n{}",
                PEERS.replace("cache_retry_interval = 30", "cache_retry_interval = 0")
            ),
        )
        .unwrap_err();
        let keys: Vec<&str> = err.problems.iter().map(|p| p.key.as_str()).collect();
        assert!(keys.contains(&"cache_storage_type"), "{keys:?}");
        assert!(keys.contains(&"cache_flush_interval"), "{keys:?}");
        assert!(keys.contains(&"binds[0].cache_retry_interval"), "{keys:?}");
        // The seed's words are storage types too.
        for word in ["disc_copies", "ram_copies", "disk", "memory"] {
            load(word, &format!("cache_storage_type = \"{word}\"\n{PEERS}"))
                .unwrap_or_else(|e| panic!("{word}: {e}"));
        }
    }
}
