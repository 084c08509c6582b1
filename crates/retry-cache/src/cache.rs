//! [`RetryCache`]: the per-bind FIFO of entries, its operations, metrics and log lines.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard, RwLock};

use core_bridge::api::BindMode;
use serde::Serialize;
use tokio::sync::Notify;

use crate::clock::{format_utc, Clock, SystemClock};
use crate::config::{BindCacheConfig, CacheConfig, StorageKind};
use crate::entry::{Entry, Item, Status};
use crate::store::{CacheStore, MemoryStore, Op};
use crate::worker::{DeliveryError, DeliveryResult};
use crate::{CacheError, SledStore};

/// Totals over every bind (seed: `get_cache_summary`).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct CacheSummary {
    /// Entries in the cache.
    pub total: usize,
    /// Entries waiting for delivery (`pending`).
    pub pending: usize,
    /// Entries being delivered now.
    pub delivering: usize,
    /// Entries out of retries, kept for review.
    pub failed_permanent: usize,
}

/// One bind's line of the summary (seed: `get_cache_by_bind`).
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct BindSummary {
    /// The bind's name.
    pub bind_name: String,
    /// Client or server (`None` for an enabled bind that never cached anything).
    pub mode: Option<BindMode>,
    /// `cache_enabled` of the bind now.
    pub enabled: bool,
    /// Entries of the bind.
    pub total: usize,
    /// Of which `pending`.
    pub pending: usize,
    /// Of which `delivering`.
    pub delivering: usize,
    /// Of which `failed_permanent`.
    pub failed_permanent: usize,
    /// `cache_max_size` of the bind.
    pub max_size: usize,
    /// `total / max_size × 100`, 0.0 ..= 100.0.
    pub utilisation_percent: f64,
}

/// What [`RetryCache::settle`] did.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct SettleReport {
    /// Entries delivered and removed.
    pub delivered: usize,
    /// Entries back to `pending` with backoff.
    pub retried: usize,
    /// Entries that became `failed_permanent`.
    pub failed_permanent: usize,
}

impl SettleReport {
    /// True when some entry was not delivered.
    pub fn any_failure(&self) -> bool {
        self.retried + self.failed_permanent > 0
    }

    pub(crate) fn add(&mut self, o: &SettleReport) {
        self.delivered += o.delivered;
        self.retried += o.retried;
        self.failed_permanent += o.failed_permanent;
    }
}

struct BindState {
    mode: BindMode,
    entries: BTreeMap<u64, Entry>,
}

struct State {
    binds: BTreeMap<String, BindState>,
    next_seq: u64,
}

/// Opens the store again after an I/O error (see [`RetryCache::repair`]).
type Reopen = Box<dyn Fn() -> Result<Arc<dyn CacheStore>, CacheError> + Send + Sync>;

pub(crate) struct Inner {
    /// The store in use; replaced by [`RetryCache::repair`] after an I/O error.
    store: RwLock<Arc<dyn CacheStore>>,
    kind: StorageKind,
    reopen: Option<Reopen>,
    /// The last storage error while the store is out of order; `None` when it works.
    broken: Mutex<Option<String>>,
    clock: Arc<dyn Clock>,
    config: RwLock<CacheConfig>,
    state: Mutex<State>,
    /// One wake-up per bind, for its flush loop.
    wakes: Mutex<HashMap<String, Arc<Notify>>>,
    /// Notified when a bind gets its first entry (the worker starts a loop for it).
    pub(crate) binds_changed: Notify,
}

/// The store used while a failed one is being reopened: every write fails with
/// [`CacheError::Closed`].
struct ClosedStore(StorageKind);

impl CacheStore for ClosedStore {
    fn kind(&self) -> StorageKind {
        self.0
    }
    fn load(&self) -> Result<Vec<Entry>, CacheError> {
        Ok(Vec::new())
    }
    fn write(&self, _ops: &[Op]) -> Result<(), CacheError> {
        Err(CacheError::Closed)
    }
    fn sync(&self) -> crate::store::SyncFuture {
        Box::pin(async { Err(CacheError::Closed) })
    }
    fn flush_count(&self) -> u64 {
        0
    }
}

/// The retry cache: per-bind FIFOs of [`Entry`] over a [`CacheStore`], with the seed's
/// schedule. Cheap to clone (an `Arc` inside); every clone is the same cache.
///
/// Seed 002, "Cache de Messages SMPP": a bind with `cache_enabled` keeps accepting messages
/// while the core is down; they are delivered later, oldest first, with exponential backoff.
///
/// Concurrency: operations lock one in-memory index briefly and write through to the store
/// under that lock (so memory and store agree); [`put`](Self::put) then waits for durability
/// outside the lock, where concurrent puts share one flush.
#[derive(Clone)]
pub struct RetryCache {
    pub(crate) inner: Arc<Inner>,
}

impl std::fmt::Debug for RetryCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RetryCache")
            .field("storage", &self.inner.kind)
            .finish_non_exhaustive()
    }
}

fn gauge_size(bind: &str, mode: BindMode, n: usize) {
    metrics::gauge!("smpp_cache_size", "bind_name" => bind.to_string(), "mode" => mode.as_str())
        .set(n as f64);
}

impl RetryCache {
    /// Open the cache the configuration asks for: a [`SledStore`] in `dir` for
    /// [`StorageKind::Disk`], a fresh [`MemoryStore`] for [`StorageKind::Memory`] (then `dir`
    /// is not touched), with the system clock.
    ///
    /// # Errors
    /// As [`SledStore::open`] and [`RetryCache::open`].
    ///
    /// A disk cache opened this way [repairs](Self::repair) itself after an I/O error by
    /// opening the directory again.
    pub async fn open_dir(config: CacheConfig, dir: impl AsRef<Path>) -> Result<Self, CacheError> {
        match config.storage {
            StorageKind::Disk => {
                let dir: PathBuf = dir.as_ref().to_path_buf();
                let reopen: Reopen =
                    Box::new(move || Ok(Arc::new(SledStore::open(&dir)?) as Arc<dyn CacheStore>));
                Self::open_recoverable(config, reopen, Arc::new(SystemClock)).await
            }
            StorageKind::Memory => {
                Self::open(config, Arc::new(MemoryStore::new()), Arc::new(SystemClock)).await
            }
        }
    }

    /// Open the cache over the store `reopen` opens, and keep `reopen` to open it again after
    /// an I/O error (see [`repair`](Self::repair)).
    ///
    /// # Errors
    /// As [`open`](Self::open), and `reopen`'s error.
    pub async fn open_recoverable(
        config: CacheConfig,
        reopen: impl Fn() -> Result<Arc<dyn CacheStore>, CacheError> + Send + Sync + 'static,
        clock: Arc<dyn Clock>,
    ) -> Result<Self, CacheError> {
        let reopen: Reopen = Box::new(reopen);
        let store = reopen()?;
        Self::open_inner(config, store, clock, Some(reopen)).await
    }

    /// Open the cache over `store`: load every entry, turn those left `delivering` by a crash
    /// back to `pending` (made durable before returning), and set `smpp_cache_size`.
    ///
    /// # Errors
    /// [`CacheError::Config`] for an invalid configuration; the store's errors.
    pub async fn open(
        config: CacheConfig,
        store: Arc<dyn CacheStore>,
        clock: Arc<dyn Clock>,
    ) -> Result<Self, CacheError> {
        Self::open_inner(config, store, clock, None).await
    }

    async fn open_inner(
        config: CacheConfig,
        store: Arc<dyn CacheStore>,
        clock: Arc<dyn Clock>,
        reopen: Option<Reopen>,
    ) -> Result<Self, CacheError> {
        config.validate().map_err(CacheError::Config)?;
        let loaded = store.load()?;
        let mut binds: BTreeMap<String, BindState> = BTreeMap::new();
        let mut next_seq = 0;
        let mut ops = Vec::new();
        for mut e in loaded {
            next_seq = next_seq.max(e.seq + 1);
            if e.status == Status::Delivering {
                e.status = Status::Pending;
                ops.push(Op::Put(e.clone()));
            }
            let b = binds
                .entry(e.bind_name.clone())
                .or_insert_with(|| BindState {
                    mode: e.mode,
                    entries: BTreeMap::new(),
                });
            b.entries.insert(e.seq, e);
        }
        if !ops.is_empty() {
            tracing::info!(
                count = ops.len(),
                "retry cache: entries left delivering by a stop are pending again"
            );
            store.write(&ops)?;
            store.sync().await?;
        }
        for (name, b) in &binds {
            gauge_size(name, b.mode, b.entries.len());
            tracing::info!(bind = %name, count = b.entries.len(), "retry cache: {} entries recovered for {name}", b.entries.len());
        }
        Ok(RetryCache {
            inner: Arc::new(Inner {
                kind: store.kind(),
                store: RwLock::new(store),
                reopen,
                broken: Mutex::new(None),
                clock,
                config: RwLock::new(config),
                state: Mutex::new(State { binds, next_seq }),
                wakes: Mutex::new(HashMap::new()),
                binds_changed: Notify::new(),
            }),
        })
    }

    fn state(&self) -> MutexGuard<'_, State> {
        self.inner.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn store(&self) -> Arc<dyn CacheStore> {
        self.inner
            .store
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    /// Record that the store failed (logged once per failure period); cleared by
    /// [`repair`](Self::repair).
    fn mark_broken(&self, err: &CacheError) {
        if !err.is_storage() {
            return;
        }
        let mut b = self.inner.broken.lock().unwrap_or_else(|p| p.into_inner());
        if b.is_none() {
            tracing::error!(error = %err, "retry cache: store out of order; new messages are refused with a temporary status until it can be written again");
        } else if matches!(err, CacheError::Closed) {
            // While `repair` swaps stores a put meets the closed placeholder: that is not news,
            // and the operator must keep seeing the cause (disk full, unwritable directory).
            return;
        }
        *b = Some(err.to_string());
    }

    /// The storage error that put the store out of order, while it is; `None` when it works.
    /// While out of order, puts fail (the gateway answers peers with a temporary status) and
    /// what is cached is still delivered from memory.
    pub fn storage_error(&self) -> Option<String> {
        self.inner
            .broken
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    /// After a storage error, open the store again and write the whole in-memory index to it,
    /// so that the disk holds exactly what the cache holds; then puts work again. Does nothing
    /// (returns `Ok(false)`) when the store works or cannot be reopened (a cache made with
    /// [`open`](Self::open)). The flush worker calls it every `flush_interval` while the store
    /// is out of order. `Ok(true)` when repaired.
    ///
    /// # Errors
    /// The store's errors (the disk still full, the directory still unwritable); the cache
    /// stays out of order and refuses puts.
    pub async fn repair(&self) -> Result<bool, CacheError> {
        if self.inner.reopen.is_none() || self.storage_error().is_none() {
            return Ok(false);
        }
        // Close the failed store first: sled locks its directory.
        *self.inner.store.write().unwrap_or_else(|p| p.into_inner()) =
            Arc::new(ClosedStore(self.inner.kind));
        let inner = self.inner.clone();
        let opened = tokio::task::spawn_blocking(move || inner.reopen.as_ref().map(|f| f()))
            .await
            .map_err(|e| CacheError::Storage {
                path: PathBuf::new(),
                op: "reopen",
                reason: e.to_string(),
            })
            .and_then(|r| r.unwrap_or(Err(CacheError::Closed)));
        let fresh = opened.inspect_err(|e| self.mark_broken(e))?;
        let on_disk = fresh.load().inspect_err(|e| self.mark_broken(e))?;
        let count = {
            let st = self.state();
            let live: HashSet<(&str, u64)> = st
                .binds
                .iter()
                .flat_map(|(n, b)| b.entries.keys().map(move |s| (n.as_str(), *s)))
                .collect();
            let mut ops: Vec<Op> = on_disk
                .iter()
                .filter(|e| !live.contains(&(e.bind_name.as_str(), e.seq)))
                .map(|e| Op::Remove {
                    bind_name: e.bind_name.clone(),
                    seq: e.seq,
                })
                .collect();
            ops.extend(
                st.binds
                    .values()
                    .flat_map(|b| b.entries.values().cloned().map(Op::Put)),
            );
            fresh.write(&ops).inspect_err(|e| self.mark_broken(e))?;
            // Installed under the state lock: every later write goes to the fresh store.
            *self.inner.store.write().unwrap_or_else(|p| p.into_inner()) = fresh.clone();
            live.len()
        };
        fresh.sync().await.inspect_err(|e| self.mark_broken(e))?;
        *self.inner.broken.lock().unwrap_or_else(|p| p.into_inner()) = None;
        tracing::info!(
            entries = count,
            "retry cache: store writable again; {count} entries written back"
        );
        Ok(true)
    }

    /// The wake-up of `bind`'s flush loop.
    pub(crate) fn bind_wake(&self, bind: &str) -> Arc<Notify> {
        self.inner
            .wakes
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .entry(bind.to_string())
            .or_default()
            .clone()
    }

    /// The configuration now.
    pub fn config(&self) -> CacheConfig {
        self.inner
            .config
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    /// One bind's settings now.
    pub fn bind_config(&self, bind: &str) -> BindCacheConfig {
        self.inner
            .config
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .bind(bind)
    }

    /// Replace one bind's settings at run time (a peer edited through the admin API). A smaller
    /// `max_size` takes effect at the next put; disabling a bind stops new puts but its entries
    /// are still delivered.
    pub fn set_bind_config(&self, bind: &str, cfg: BindCacheConfig) {
        self.inner
            .config
            .write()
            .unwrap_or_else(|p| p.into_inner())
            .binds
            .insert(bind.to_string(), cfg);
    }

    /// Replace the whole configuration at run time (the gateway's configuration was edited or
    /// re-read); the storage type stays what it was at open. Every enabled bind shows in
    /// `smpp_cache_size`, 0 when it holds nothing.
    ///
    /// # Errors
    /// [`CacheError::Config`] for an invalid configuration; nothing changes then.
    pub fn reconfigure(&self, mut config: CacheConfig) -> Result<(), CacheError> {
        config.validate().map_err(CacheError::Config)?;
        config.storage = self.inner.kind;
        {
            let st = self.state();
            for (name, c) in config.binds.iter().filter(|(_, c)| c.enabled) {
                if let (None, Some(mode)) = (st.binds.get(name), c.mode) {
                    gauge_size(name, mode, 0);
                }
            }
        }
        *self.inner.config.write().unwrap_or_else(|p| p.into_inner()) = config;
        Ok(())
    }

    /// Make every write so far durable (at shutdown: what the worker settled is flushed too, so
    /// a restart does not deliver it again).
    ///
    /// # Errors
    /// The store's errors.
    pub async fn sync(&self) -> Result<(), CacheError> {
        self.store()
            .sync()
            .await
            .inspect_err(|e| self.mark_broken(e))
    }

    /// Whether puts are accepted for `bind` (`cache_enabled`).
    pub fn is_enabled(&self, bind: &str) -> bool {
        self.bind_config(bind).enabled
    }

    /// Disk or memory.
    pub fn storage(&self) -> StorageKind {
        self.inner.kind
    }

    /// Flushes to stable storage so far (see [`CacheStore::flush_count`]).
    pub fn flush_count(&self) -> u64 {
        self.store().flush_count()
    }

    /// Now, by the cache's clock (ms since the Unix epoch).
    pub fn now_ms(&self) -> u64 {
        self.inner.clock.now_ms()
    }

    /// Wake every bind's flush loop now (a bind's loop also wakes on each put when
    /// `wake_on_put`, and after a manual retry).
    pub fn wake(&self) {
        for n in self
            .inner
            .wakes
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .values()
        {
            n.notify_one();
        }
    }

    /// Wake `bind`'s flush loop now.
    pub fn wake_bind(&self, bind: &str) {
        self.bind_wake(bind).notify_one();
    }

    /// Whether `bind` holds entries still to deliver (`pending` or `delivering`;
    /// `failed_permanent` ones wait for an operator and do not count). While it does, a new
    /// message of the bind must be cached behind them rather than handed to the core directly,
    /// so that the bind's messages reach the core in the order they were accepted.
    pub fn has_undelivered(&self, bind: &str) -> bool {
        self.state().binds.get(bind).is_some_and(|b| {
            b.entries
                .values()
                .any(|e| e.status != Status::FailedPermanent)
        })
    }

    /// When the oldest entry of `bind` still to deliver is due (ms since the Unix epoch);
    /// `None` when there is none or it is being delivered.
    pub fn next_due_ms(&self, bind: &str) -> Option<u64> {
        let st = self.state();
        let head = st
            .binds
            .get(bind)?
            .entries
            .values()
            .find(|e| e.status != Status::FailedPermanent)?;
        (head.status == Status::Pending).then_some(head.next_retry_at_ms)
    }

    /// Cache `item` for `bind` (`mode` is the bind's side), due for delivery now.
    ///
    /// With a disk store it returns only once the entry is flushed to disk; concurrent puts
    /// share flushes. When the bind holds `max_size` entries already, the oldest are evicted
    /// first (`smpp_cache_overflow_total` +1 each, log "Cache overflow for {bind}: oldest
    /// message dropped").
    ///
    /// # Errors
    /// [`CacheError::Disabled`] when `cache_enabled` is false for `bind`; storage errors (the
    /// path and cause: unwritable, disk full). On error the entry is not in the cache and must
    /// not be acknowledged to the peer.
    pub async fn put(&self, bind: &str, mode: BindMode, item: Item) -> Result<(), CacheError> {
        let cfg = self.bind_config(bind);
        if !cfg.enabled {
            return Err(CacheError::Disabled {
                bind: bind.to_string(),
            });
        }
        let now = self.now_ms();
        let id = item.id();
        let store = self.store();
        let (seq, evicted, size, mode, new_bind) = {
            let mut st = self.state();
            let seq = st.next_seq;
            let new_bind = !st.binds.contains_key(bind);
            let b = st
                .binds
                .entry(bind.to_string())
                .or_insert_with(|| BindState {
                    mode,
                    entries: BTreeMap::new(),
                });
            let mut ops = Vec::new();
            let mut evicted = Vec::new();
            while b.entries.len() >= cfg.max_size.max(1) {
                let Some((s, e)) = b.entries.pop_first() else {
                    break;
                };
                ops.push(Op::Remove {
                    bind_name: bind.to_string(),
                    seq: s,
                });
                evicted.push(e);
            }
            let entry = Entry {
                seq,
                id: id.clone(),
                bind_name: bind.to_string(),
                mode,
                item,
                status: Status::Pending,
                retry_count: 0,
                next_retry_at_ms: now,
                last_error: None,
                created_at_ms: now,
            };
            ops.push(Op::Put(entry.clone()));
            if let Err(e) = store.write(&ops) {
                for old in evicted {
                    b.entries.insert(old.seq, old);
                }
                drop(st);
                self.mark_broken(&e);
                return Err(e);
            }
            b.entries.insert(seq, entry);
            let (size, mode) = (b.entries.len(), b.mode);
            st.next_seq += 1;
            (seq, evicted, size, mode, new_bind)
        };
        if self.inner.kind == StorageKind::Disk {
            if let Err(err) = store.sync().await {
                // Not durable: take it back so it is neither acknowledged nor delivered, and
                // keep the entries its eviction would have dropped.
                let mut st = self.state();
                if let Some(b) = st.binds.get_mut(bind) {
                    let mut ops = Vec::new();
                    if b.entries.remove(&seq).is_some() {
                        ops.push(Op::Remove {
                            bind_name: bind.to_string(),
                            seq,
                        });
                    }
                    for old in evicted {
                        ops.push(Op::Put(old.clone()));
                        b.entries.insert(old.seq, old);
                    }
                    let _ = store.write(&ops);
                    gauge_size(bind, b.mode, b.entries.len());
                }
                drop(st);
                self.mark_broken(&err);
                return Err(err);
            }
        }
        for e in &evicted {
            metrics::counter!("smpp_cache_overflow_total", "bind_name" => bind.to_string())
                .increment(1);
            tracing::warn!(bind = %bind, message_id = %e.id, "Cache overflow for {bind}: oldest message dropped ({})", e.id);
        }
        gauge_size(bind, mode, size);
        tracing::info!(bind = %bind, message_id = %id, "Message {id} cached for {bind}");
        if new_bind {
            self.inner.binds_changed.notify_one();
        }
        if self
            .inner
            .config
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .wake_on_put
        {
            self.wake_bind(bind);
        }
        Ok(())
    }

    /// Binds that hold at least one entry, in name order.
    pub fn binds(&self) -> Vec<String> {
        self.state()
            .binds
            .iter()
            .filter(|(_, b)| !b.entries.is_empty())
            .map(|(n, _)| n.clone())
            .collect()
    }

    /// Take up to `limit` entries of `bind` due at `now_ms`, oldest first, and mark them
    /// `delivering`.
    ///
    /// To keep each bind in order, the due entries are the oldest `pending` ones up to the first
    /// entry that is `delivering` or `pending` but not yet due (`failed_permanent` entries are
    /// skipped): a newer entry never overtakes an older one that waits for its retry.
    ///
    /// A storage error does not stop delivery: it is recorded ([`storage_error`](Self::storage_error))
    /// and the entries are delivered from memory (on disk they stay `pending`, as a restart
    /// would make them anyway).
    pub fn take_due(&self, bind: &str, now_ms: u64, limit: usize) -> Vec<Entry> {
        let mut st = self.state();
        let Some(b) = st.binds.get_mut(bind) else {
            return Vec::new();
        };
        let mut taken = Vec::new();
        for e in b.entries.values() {
            if taken.len() >= limit {
                break;
            }
            match e.status {
                Status::FailedPermanent => continue,
                Status::Delivering => break,
                Status::Pending if e.next_retry_at_ms > now_ms => break,
                Status::Pending => {
                    let mut e = e.clone();
                    e.status = Status::Delivering;
                    taken.push(e);
                }
            }
        }
        if taken.is_empty() {
            return taken;
        }
        let ops: Vec<Op> = taken.iter().cloned().map(Op::Put).collect();
        if let Err(e) = self.store().write(&ops) {
            // The status on disk stays `pending`, which is what a restart would make of
            // `delivering` anyway: deliver from memory all the same.
            self.mark_broken(&e);
        }
        for e in &taken {
            b.entries.insert(e.seq, e.clone());
        }
        taken
    }

    /// Record the outcome of delivering entries of `bind` (by `seq`) at `now_ms`:
    ///
    /// - `Ok` → removed (`smpp_cache_delivered_total`, log "Cached message {id} delivered successfully");
    /// - `Retryable` with `retry_count < max_retry_attempts` → `pending`, due at
    ///   `now_ms + retry_interval × multiplier^retry_count`, `retry_count + 1`
    ///   (`smpp_cache_retry_total`, warning with the next time);
    /// - `Retryable` at the last attempt, or `Permanent` → `failed_permanent`
    ///   (`smpp_cache_permanent_failures_total`, error line).
    ///
    /// An entry no longer in the cache (deleted or evicted meanwhile) or no longer `delivering`
    /// is left alone. The store write is not flushed: after a crash a delivered entry may be
    /// delivered again, which the core's idempotency makes harmless.
    ///
    /// A storage error is recorded ([`storage_error`](Self::storage_error)); the in-memory state
    /// is updated all the same (after a restart a delivered entry would be delivered again,
    /// which the core's idempotency makes harmless).
    pub fn settle(
        &self,
        bind: &str,
        outcomes: Vec<(u64, DeliveryResult)>,
        now_ms: u64,
    ) -> SettleReport {
        let cfg = self.config();
        let max = cfg.max_retry_attempts;
        let mut report = SettleReport::default();
        let mut ops = Vec::new();
        let mut st = self.state();
        let Some(b) = st.binds.get_mut(bind) else {
            return report;
        };
        for (seq, outcome) in outcomes {
            let Some(e) = b.entries.get_mut(&seq) else {
                continue;
            };
            if e.status != Status::Delivering {
                continue;
            }
            let id = e.id.clone();
            match outcome {
                Ok(()) => {
                    b.entries.remove(&seq);
                    ops.push(Op::Remove {
                        bind_name: bind.to_string(),
                        seq,
                    });
                    report.delivered += 1;
                    metrics::counter!("smpp_cache_delivered_total", "bind_name" => bind.to_string()).increment(1);
                    tracing::info!(bind = %bind, message_id = %id, "Cached message {id} delivered successfully");
                }
                Err(DeliveryError::Retryable(reason)) if e.retry_count < max => {
                    let wait = cfg
                        .backoff(bind, e.retry_count)
                        .as_millis()
                        .min(u128::from(u64::MAX)) as u64;
                    e.retry_count += 1;
                    e.status = Status::Pending;
                    e.next_retry_at_ms = now_ms.saturating_add(wait);
                    e.last_error = Some(reason.clone());
                    ops.push(Op::Put(e.clone()));
                    report.retried += 1;
                    metrics::counter!("smpp_cache_retry_total", "bind_name" => bind.to_string())
                        .increment(1);
                    let (n, at) = (e.retry_count, format_utc(e.next_retry_at_ms));
                    tracing::warn!(bind = %bind, message_id = %id, error = %reason,
                        "Delivery failed for message {id} (retry {n}/{max}), next retry at {at}");
                }
                Err(DeliveryError::Retryable(reason) | DeliveryError::Permanent(reason)) => {
                    e.status = Status::FailedPermanent;
                    e.last_error = Some(reason.clone());
                    ops.push(Op::Put(e.clone()));
                    report.failed_permanent += 1;
                    metrics::counter!("smpp_cache_permanent_failures_total", "bind_name" => bind.to_string()).increment(1);
                    if e.retry_count >= max {
                        tracing::error!(bind = %bind, message_id = %id, error = %reason,
                            "Message {id} exceeded the maximum number of retries ({max}), marked failed_permanent");
                    } else {
                        tracing::error!(bind = %bind, message_id = %id, error = %reason,
                            "Message {id} refused by the core for good, marked failed_permanent");
                    }
                }
            }
        }
        gauge_size(bind, b.mode, b.entries.len());
        // Written under the state lock, so that no operation on the same entries lands on disk
        // in between in the other order.
        if !ops.is_empty() {
            if let Err(e) = self.store().write(&ops) {
                self.mark_broken(&e);
            }
        }
        report
    }

    /// Turn every `delivering` entry back to `pending` (what [`open`](Self::open) does after a
    /// crash; the worker calls it after a delivery task of `bind` panicked, `None` for every
    /// bind). Returns how many. A storage error is recorded, not returned.
    pub fn requeue_delivering(&self, bind: Option<&str>) -> usize {
        let mut st = self.state();
        let mut ops = Vec::new();
        for (_, b) in st
            .binds
            .iter_mut()
            .filter(|(n, _)| bind.is_none_or(|w| w == n.as_str()))
        {
            for e in b
                .entries
                .values_mut()
                .filter(|e| e.status == Status::Delivering)
            {
                e.status = Status::Pending;
                ops.push(Op::Put(e.clone()));
            }
        }
        if let Err(e) = self.store().write(&ops) {
            self.mark_broken(&e);
        }
        ops.len()
    }

    /// Totals over every bind.
    pub fn summary(&self) -> CacheSummary {
        let st = self.state();
        let mut s = CacheSummary::default();
        for e in st.binds.values().flat_map(|b| b.entries.values()) {
            s.total += 1;
            match e.status {
                Status::Pending => s.pending += 1,
                Status::Delivering => s.delivering += 1,
                Status::FailedPermanent => s.failed_permanent += 1,
            }
        }
        s
    }

    /// One line per bind that holds entries or has the cache enabled, in name order.
    pub fn by_bind(&self) -> Vec<BindSummary> {
        let cfg = self.config();
        let st = self.state();
        let mut names: Vec<&String> = st
            .binds
            .iter()
            .filter(|(_, b)| !b.entries.is_empty())
            .map(|(n, _)| n)
            .collect();
        names.extend(cfg.binds.iter().filter(|(_, c)| c.enabled).map(|(n, _)| n));
        let names: std::collections::BTreeSet<&String> = names.into_iter().collect();
        names
            .into_iter()
            .map(|name| {
                let c = cfg.bind(name);
                let b = st.binds.get(name);
                let mut line = BindSummary {
                    bind_name: name.clone(),
                    mode: b.map(|b| b.mode),
                    enabled: c.enabled,
                    total: 0,
                    pending: 0,
                    delivering: 0,
                    failed_permanent: 0,
                    max_size: c.max_size,
                    utilisation_percent: 0.0,
                };
                for e in b.into_iter().flat_map(|b| b.entries.values()) {
                    line.total += 1;
                    match e.status {
                        Status::Pending => line.pending += 1,
                        Status::Delivering => line.delivering += 1,
                        Status::FailedPermanent => line.failed_permanent += 1,
                    }
                }
                line.utilisation_percent =
                    (line.total as f64 * 100.0 / c.max_size.max(1) as f64).min(100.0);
                line
            })
            .collect()
    }

    /// Entries of `bind` (seed: `count_cached_messages`).
    pub fn count(&self, bind: &str) -> usize {
        self.state().binds.get(bind).map_or(0, |b| b.entries.len())
    }

    /// Entries of `bind`, oldest first, only those with `status` when given.
    pub fn list(&self, bind: &str, status: Option<Status>) -> Vec<Entry> {
        let st = self.state();
        st.binds
            .get(bind)
            .map(|b| {
                b.entries
                    .values()
                    .filter(|e| status.is_none_or(|s| e.status == s))
                    .cloned()
                    .collect()
            })
            .unwrap_or_default()
    }

    /// Apply `change` to the entries of `bind` that `pick` selects, write and flush them.
    async fn update(
        &self,
        bind: &str,
        pick: impl Fn(&Entry) -> bool,
        change: impl Fn(&mut Entry) -> bool,
    ) -> Result<usize, CacheError> {
        let store = self.store();
        let n = {
            let mut st = self.state();
            let Some(b) = st.binds.get_mut(bind) else {
                return Ok(0);
            };
            let mut ops = Vec::new();
            let mut next = b.entries.clone();
            let mut removed = HashSet::new();
            for e in next.values_mut().filter(|e| pick(e)) {
                if change(e) {
                    ops.push(Op::Put(e.clone()));
                } else {
                    removed.insert(e.seq);
                    ops.push(Op::Remove {
                        bind_name: bind.to_string(),
                        seq: e.seq,
                    });
                }
            }
            if ops.is_empty() {
                return Ok(0);
            }
            store.write(&ops).inspect_err(|e| self.mark_broken(e))?;
            next.retain(|s, _| !removed.contains(s));
            b.entries = next;
            gauge_size(bind, b.mode, b.entries.len());
            ops.len()
        };
        if self.inner.kind == StorageKind::Disk {
            store.sync().await.inspect_err(|e| self.mark_broken(e))?;
        }
        Ok(n)
    }

    fn reset_for_retry(now: u64) -> impl Fn(&mut Entry) -> bool {
        move |e| {
            e.status = Status::Pending;
            e.retry_count = 0;
            e.next_retry_at_ms = now;
            e.last_error = None;
            true
        }
    }

    /// Manual retry of the entries of `bind` with `id` that are `failed_permanent` or `pending`:
    /// `pending`, `retry_count` 0, due now (seed "Forcer le Réessai"). Returns how many; wakes
    /// the worker.
    ///
    /// # Errors
    /// Storage errors.
    pub async fn retry(&self, bind: &str, id: &str) -> Result<usize, CacheError> {
        let now = self.now_ms();
        let n = self
            .update(
                bind,
                |e| e.id == id && e.status != Status::Delivering,
                Self::reset_for_retry(now),
            )
            .await?;
        self.wake_bind(bind);
        Ok(n)
    }

    /// Manual retry of every `failed_permanent` entry of `bind`. Returns how many.
    ///
    /// # Errors
    /// Storage errors.
    pub async fn retry_all_failed(&self, bind: &str) -> Result<usize, CacheError> {
        let now = self.now_ms();
        let n = self
            .update(
                bind,
                |e| e.status == Status::FailedPermanent,
                Self::reset_for_retry(now),
            )
            .await?;
        self.wake_bind(bind);
        Ok(n)
    }

    /// Make every `pending` entry of `bind` due now, keeping its retry count: an operator's
    /// "deliver now" once the core is back, instead of waiting for the backoff. Returns how
    /// many; wakes the bind's flush loop.
    ///
    /// # Errors
    /// Storage errors.
    pub async fn retry_pending_now(&self, bind: &str) -> Result<usize, CacheError> {
        let now = self.now_ms();
        let n = self
            .update(
                bind,
                |e| e.status == Status::Pending && e.next_retry_at_ms > now,
                |e| {
                    e.next_retry_at_ms = now;
                    true
                },
            )
            .await?;
        self.wake_bind(bind);
        Ok(n)
    }

    /// Delete the entries of `bind` with `id`, whatever their status. Returns how many.
    ///
    /// # Errors
    /// Storage errors.
    pub async fn delete(&self, bind: &str, id: &str) -> Result<usize, CacheError> {
        self.update(bind, |e| e.id == id, |_| false).await
    }

    /// Delete every `failed_permanent` entry of `bind` (seed "Effacer les Messages Échoués").
    /// Returns how many.
    ///
    /// # Errors
    /// Storage errors.
    pub async fn delete_all_failed(&self, bind: &str) -> Result<usize, CacheError> {
        self.update(bind, |e| e.status == Status::FailedPermanent, |_| false)
            .await
    }
}
