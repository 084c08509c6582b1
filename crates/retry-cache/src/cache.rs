//! [`RetryCache`]: the per-bind FIFO of entries, its operations, metrics and log lines.

use std::collections::{BTreeMap, HashSet};
use std::path::Path;
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

pub(crate) struct Inner {
    store: Arc<dyn CacheStore>,
    clock: Arc<dyn Clock>,
    config: RwLock<CacheConfig>,
    state: Mutex<State>,
    pub(crate) wake: Notify,
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
        f.debug_struct("RetryCache").field("storage", &self.inner.store.kind()).finish_non_exhaustive()
    }
}

fn gauge_size(bind: &str, mode: BindMode, n: usize) {
    metrics::gauge!("smpp_cache_size", "bind_name" => bind.to_string(), "mode" => mode.as_str()).set(n as f64);
}

impl RetryCache {
    /// Open the cache the configuration asks for: a [`SledStore`] in `dir` for
    /// [`StorageKind::Disk`], a fresh [`MemoryStore`] for [`StorageKind::Memory`] (then `dir`
    /// is not touched), with the system clock.
    ///
    /// # Errors
    /// As [`SledStore::open`] and [`RetryCache::open`].
    pub async fn open_dir(config: CacheConfig, dir: impl AsRef<Path>) -> Result<Self, CacheError> {
        let store: Arc<dyn CacheStore> = match config.storage {
            StorageKind::Disk => Arc::new(SledStore::open(dir)?),
            StorageKind::Memory => Arc::new(MemoryStore::new()),
        };
        Self::open(config, store, Arc::new(SystemClock)).await
    }

    /// Open the cache over `store`: load every entry, turn those left `delivering` by a crash
    /// back to `pending` (made durable before returning), and set `smpp_cache_size`.
    ///
    /// # Errors
    /// [`CacheError::Config`] for an invalid configuration; the store's errors.
    pub async fn open(config: CacheConfig, store: Arc<dyn CacheStore>, clock: Arc<dyn Clock>) -> Result<Self, CacheError> {
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
            let b = binds.entry(e.bind_name.clone()).or_insert_with(|| BindState { mode: e.mode, entries: BTreeMap::new() });
            b.entries.insert(e.seq, e);
        }
        if !ops.is_empty() {
            tracing::info!(count = ops.len(), "retry cache: entries left delivering by a stop are pending again");
            store.write(&ops)?;
            store.sync().await?;
        }
        for (name, b) in &binds {
            gauge_size(name, b.mode, b.entries.len());
            tracing::info!(bind = %name, count = b.entries.len(), "retry cache: {} entries recovered for {name}", b.entries.len());
        }
        Ok(RetryCache {
            inner: Arc::new(Inner {
                store,
                clock,
                config: RwLock::new(config),
                state: Mutex::new(State { binds, next_seq }),
                wake: Notify::new(),
            }),
        })
    }

    fn state(&self) -> MutexGuard<'_, State> {
        self.inner.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The configuration now.
    pub fn config(&self) -> CacheConfig {
        self.inner.config.read().unwrap_or_else(|p| p.into_inner()).clone()
    }

    /// One bind's settings now.
    pub fn bind_config(&self, bind: &str) -> BindCacheConfig {
        self.inner.config.read().unwrap_or_else(|p| p.into_inner()).bind(bind)
    }

    /// Replace one bind's settings at run time (a peer edited through the admin API). A smaller
    /// `max_size` takes effect at the next put; disabling a bind stops new puts but its entries
    /// are still delivered.
    pub fn set_bind_config(&self, bind: &str, cfg: BindCacheConfig) {
        self.inner.config.write().unwrap_or_else(|p| p.into_inner()).binds.insert(bind.to_string(), cfg);
    }

    /// Whether puts are accepted for `bind` (`cache_enabled`).
    pub fn is_enabled(&self, bind: &str) -> bool {
        self.bind_config(bind).enabled
    }

    /// Disk or memory.
    pub fn storage(&self) -> StorageKind {
        self.inner.store.kind()
    }

    /// Flushes to stable storage so far (see [`CacheStore::flush_count`]).
    pub fn flush_count(&self) -> u64 {
        self.inner.store.flush_count()
    }

    /// Now, by the cache's clock (ms since the Unix epoch).
    pub fn now_ms(&self) -> u64 {
        self.inner.clock.now_ms()
    }

    /// Wake the flush worker now (it also wakes on each put when `wake_on_put`).
    pub fn wake(&self) {
        self.inner.wake.notify_one();
    }

    /// Cache `item` for `bind` (`mode` is the bind's side), due for delivery now.
    ///
    /// With a disk store it returns only once the entry is flushed to disk; concurrent puts
    /// share flushes. When the bind holds `max_size` entries already, the oldest are evicted
    /// first (`smpp_cache_overflow_total` +1 each, log "cache overflow for {bind}: oldest
    /// message dropped").
    ///
    /// # Errors
    /// [`CacheError::Disabled`] when `cache_enabled` is false for `bind`; storage errors (the
    /// path and cause: unwritable, disk full). On error the entry is not in the cache and must
    /// not be acknowledged to the peer.
    pub async fn put(&self, bind: &str, mode: BindMode, item: Item) -> Result<(), CacheError> {
        let cfg = self.bind_config(bind);
        if !cfg.enabled {
            return Err(CacheError::Disabled { bind: bind.to_string() });
        }
        let now = self.now_ms();
        let id = item.id();
        let (seq, evicted, size, mode) = {
            let mut st = self.state();
            let seq = st.next_seq;
            let b = st.binds.entry(bind.to_string()).or_insert_with(|| BindState { mode, entries: BTreeMap::new() });
            let mut ops = Vec::new();
            let mut evicted = Vec::new();
            while b.entries.len() >= cfg.max_size.max(1) {
                let Some((s, e)) = b.entries.pop_first() else { break };
                ops.push(Op::Remove { bind_name: bind.to_string(), seq: s });
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
            if let Err(e) = self.inner.store.write(&ops) {
                for old in evicted {
                    b.entries.insert(old.seq, old);
                }
                return Err(e);
            }
            b.entries.insert(seq, entry);
            let (size, mode) = (b.entries.len(), b.mode);
            st.next_seq += 1;
            (seq, evicted, size, mode)
        };
        for e in &evicted {
            metrics::counter!("smpp_cache_overflow_total", "bind_name" => bind.to_string()).increment(1);
            tracing::warn!(bind = %bind, message_id = %e.id, "cache overflow for {bind}: oldest message dropped");
        }
        if self.inner.store.kind() == StorageKind::Disk {
            if let Err(err) = self.inner.store.sync().await {
                // Not durable: take it back so it is neither acknowledged nor delivered.
                let mut st = self.state();
                if let Some(b) = st.binds.get_mut(bind) {
                    if b.entries.remove(&seq).is_some() {
                        let _ = self.inner.store.write(&[Op::Remove { bind_name: bind.to_string(), seq }]);
                    }
                    gauge_size(bind, b.mode, b.entries.len());
                }
                return Err(err);
            }
        }
        gauge_size(bind, mode, size);
        tracing::info!(bind = %bind, message_id = %id, "message {id} cached for {bind}");
        if self.config().wake_on_put {
            self.wake();
        }
        Ok(())
    }

    /// Binds that hold at least one entry, in name order.
    pub fn binds(&self) -> Vec<String> {
        self.state().binds.iter().filter(|(_, b)| !b.entries.is_empty()).map(|(n, _)| n.clone()).collect()
    }

    /// Take up to `limit` entries of `bind` due at `now_ms`, oldest first, and mark them
    /// `delivering`.
    ///
    /// To keep each bind in order, the due entries are the oldest `pending` ones up to the first
    /// entry that is `delivering` or `pending` but not yet due (`failed_permanent` entries are
    /// skipped): a newer entry never overtakes an older one that waits for its retry.
    ///
    /// # Errors
    /// Storage errors; then nothing is marked.
    pub fn take_due(&self, bind: &str, now_ms: u64, limit: usize) -> Result<Vec<Entry>, CacheError> {
        let mut st = self.state();
        let Some(b) = st.binds.get_mut(bind) else { return Ok(Vec::new()) };
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
            return Ok(taken);
        }
        let ops: Vec<Op> = taken.iter().cloned().map(Op::Put).collect();
        self.inner.store.write(&ops)?;
        for e in &taken {
            b.entries.insert(e.seq, e.clone());
        }
        Ok(taken)
    }

    /// Record the outcome of delivering entries of `bind` (by `seq`) at `now_ms`:
    ///
    /// - `Ok` → removed (`smpp_cache_delivered_total`, log "cached message {id} delivered");
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
    /// # Errors
    /// Storage errors; the in-memory state is updated all the same.
    pub fn settle(&self, bind: &str, outcomes: Vec<(u64, DeliveryResult)>, now_ms: u64) -> Result<SettleReport, CacheError> {
        let cfg = self.config();
        let max = cfg.max_retry_attempts;
        let mut report = SettleReport::default();
        let mut ops = Vec::new();
        let mut st = self.state();
        let Some(b) = st.binds.get_mut(bind) else { return Ok(report) };
        for (seq, outcome) in outcomes {
            let Some(e) = b.entries.get_mut(&seq) else { continue };
            if e.status != Status::Delivering {
                continue;
            }
            let id = e.id.clone();
            match outcome {
                Ok(()) => {
                    b.entries.remove(&seq);
                    ops.push(Op::Remove { bind_name: bind.to_string(), seq });
                    report.delivered += 1;
                    metrics::counter!("smpp_cache_delivered_total", "bind_name" => bind.to_string()).increment(1);
                    tracing::info!(bind = %bind, message_id = %id, "cached message {id} delivered");
                }
                Err(DeliveryError::Retryable(reason)) if e.retry_count < max => {
                    let wait = cfg.backoff(bind, e.retry_count).as_millis().min(u128::from(u64::MAX)) as u64;
                    e.retry_count += 1;
                    e.status = Status::Pending;
                    e.next_retry_at_ms = now_ms.saturating_add(wait);
                    e.last_error = Some(reason.clone());
                    ops.push(Op::Put(e.clone()));
                    report.retried += 1;
                    metrics::counter!("smpp_cache_retry_total", "bind_name" => bind.to_string()).increment(1);
                    let (n, at) = (e.retry_count, format_utc(e.next_retry_at_ms));
                    tracing::warn!(bind = %bind, message_id = %id, error = %reason,
                        "delivery of message {id} failed (retry {n}/{max}), next retry at {at}");
                }
                Err(DeliveryError::Retryable(reason) | DeliveryError::Permanent(reason)) => {
                    e.status = Status::FailedPermanent;
                    e.last_error = Some(reason.clone());
                    ops.push(Op::Put(e.clone()));
                    report.failed_permanent += 1;
                    metrics::counter!("smpp_cache_permanent_failures_total", "bind_name" => bind.to_string()).increment(1);
                    if e.retry_count >= max {
                        tracing::error!(bind = %bind, message_id = %id, error = %reason,
                            "message {id} exceeded the maximum number of retries ({max}), marked failed_permanent");
                    } else {
                        tracing::error!(bind = %bind, message_id = %id, error = %reason,
                            "message {id} refused permanently by the core, marked failed_permanent");
                    }
                }
            }
        }
        gauge_size(bind, b.mode, b.entries.len());
        drop(st);
        if !ops.is_empty() {
            self.inner.store.write(&ops)?;
        }
        Ok(report)
    }

    /// Turn every `delivering` entry back to `pending` (what [`open`](Self::open) does after a
    /// crash; the worker calls it after a delivery task panicked). Returns how many.
    ///
    /// # Errors
    /// Storage errors.
    pub fn requeue_delivering(&self) -> Result<usize, CacheError> {
        let mut st = self.state();
        let mut ops = Vec::new();
        for b in st.binds.values_mut() {
            for e in b.entries.values_mut().filter(|e| e.status == Status::Delivering) {
                e.status = Status::Pending;
                ops.push(Op::Put(e.clone()));
            }
        }
        self.inner.store.write(&ops)?;
        Ok(ops.len())
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
        let mut names: Vec<&String> = st.binds.iter().filter(|(_, b)| !b.entries.is_empty()).map(|(n, _)| n).collect();
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
                line.utilisation_percent = (line.total as f64 * 100.0 / c.max_size.max(1) as f64).min(100.0);
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
            .map(|b| b.entries.values().filter(|e| status.map_or(true, |s| e.status == s)).cloned().collect())
            .unwrap_or_default()
    }

    /// Apply `change` to the entries of `bind` that `pick` selects, write and flush them.
    async fn update(
        &self,
        bind: &str,
        pick: impl Fn(&Entry) -> bool,
        change: impl Fn(&mut Entry) -> bool,
    ) -> Result<usize, CacheError> {
        let n = {
            let mut st = self.state();
            let Some(b) = st.binds.get_mut(bind) else { return Ok(0) };
            let mut ops = Vec::new();
            let mut next = b.entries.clone();
            let mut removed = HashSet::new();
            for e in next.values_mut().filter(|e| pick(e)) {
                if change(e) {
                    ops.push(Op::Put(e.clone()));
                } else {
                    removed.insert(e.seq);
                    ops.push(Op::Remove { bind_name: bind.to_string(), seq: e.seq });
                }
            }
            if ops.is_empty() {
                return Ok(0);
            }
            self.inner.store.write(&ops)?;
            next.retain(|s, _| !removed.contains(s));
            b.entries = next;
            gauge_size(bind, b.mode, b.entries.len());
            ops.len()
        };
        if self.inner.store.kind() == StorageKind::Disk {
            self.inner.store.sync().await?;
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
            .update(bind, |e| e.id == id && e.status != Status::Delivering, Self::reset_for_retry(now))
            .await?;
        self.wake();
        Ok(n)
    }

    /// Manual retry of every `failed_permanent` entry of `bind`. Returns how many.
    ///
    /// # Errors
    /// Storage errors.
    pub async fn retry_all_failed(&self, bind: &str) -> Result<usize, CacheError> {
        let now = self.now_ms();
        let n = self.update(bind, |e| e.status == Status::FailedPermanent, Self::reset_for_retry(now)).await?;
        self.wake();
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
        self.update(bind, |e| e.status == Status::FailedPermanent, |_| false).await
    }
}
