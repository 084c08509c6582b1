//! The retry cache of smppgw (layer 3 of `DESIGN.md`, beside `core-bridge`).
//!
//! Seed 002, section "Cache de Messages SMPP": a bind with `cache_enabled` keeps accepting
//! messages while the messaging core is unreachable. Each accepted message (and each event the
//! gateway owes the core) is stored per bind, durably before the peer is answered, and a flush
//! worker delivers it later, oldest first, waiting `cache_retry_interval ×
//! cache_backoff_multiplier^n` before retry n (60, 120, 240 … s) and marking it
//! `failed_permanent` after `cache_max_retry_attempts` retries. See `docs/retry-cache.md`.
//!
//! # Layout
//! - [`RetryCache`]: the cache (put, summary, list, retry, delete) and its worker
//!   ([`RetryCache::spawn_worker`], [`RetryCache::flush_once`]);
//! - [`CacheStore`]: storage, with [`SledStore`] (disk, group commit) and [`MemoryStore`];
//! - [`CacheConfig`] / [`BindCacheConfig`]: the seed's keys and defaults;
//! - [`Deliver`] / [`CoreDelivery`]: how cached items reach the core;
//! - [`Clock`]: injected time.
//!
//! # Metrics (`metrics` facade, the seed's names)
//! `smpp_cache_size{bind_name,mode}` (gauge), `smpp_cache_delivered_total{bind_name}`,
//! `smpp_cache_retry_total{bind_name}`, `smpp_cache_permanent_failures_total{bind_name}`,
//! `smpp_cache_overflow_total{bind_name}` (counters).
#![deny(missing_docs)]

pub mod cache;
pub mod clock;
pub mod config;
pub mod entry;
pub mod error;
pub mod sled_store;
pub mod store;
pub mod worker;

pub use cache::{BindSummary, CacheSummary, RetryCache, SettleReport};
pub use clock::{Clock, ManualClock, SystemClock, TokioClock};
pub use config::{BindCacheConfig, CacheConfig, ConfigError, StorageKind};
pub use entry::{Entry, Item, Status};
pub use error::CacheError;
pub use sled_store::SledStore;
pub use store::{CacheStore, MemoryStore, Op, SyncFuture};
pub use worker::{
    deliver_via, CoreDelivery, Deliver, DeliverFuture, DeliveryError, DeliveryResult, FlushReport,
    WorkerHandle,
};
