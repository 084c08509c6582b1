//! Configuration of the cache, with the seed's keys and defaults (seed 002, "Cache de Messages
//! SMPP" → "Configuration").
//!
//! | seed key | here | default |
//! | --- | --- | --- |
//! | `cache_flush_interval` (ms), env `CACHE_FLUSH_INTERVAL` | [`CacheConfig::flush_interval`] | 10 000 ms |
//! | `cache_max_retry_attempts`, env `CACHE_MAX_RETRY_ATTEMPTS` | [`CacheConfig::max_retry_attempts`] | 10 |
//! | `cache_backoff_multiplier`, env `CACHE_BACKOFF_MULTIPLIER` | [`CacheConfig::backoff_multiplier`] | 2 |
//! | `mnesia_storage_type`, env `CACHE_STORAGE_TYPE` or `MNESIA_STORAGE_TYPE` | [`CacheConfig::storage`] | disk |
//! | per bind `cache_enabled` | [`BindCacheConfig::enabled`] | false |
//! | per bind `cache_max_size` | [`BindCacheConfig::max_size`] | 10 000 |
//! | per bind `cache_retry_interval` (s) | [`BindCacheConfig::retry_interval`] | 60 s |

use std::collections::HashMap;
use std::fmt;
use std::str::FromStr;
use std::time::Duration;

use serde::{Deserialize, Serialize};

/// Seed default of `cache_flush_interval`, ms.
pub const DEFAULT_FLUSH_INTERVAL_MS: u64 = 10_000;
/// Seed default of `cache_max_retry_attempts`.
pub const DEFAULT_MAX_RETRY_ATTEMPTS: u32 = 10;
/// Seed default of `cache_backoff_multiplier`.
pub const DEFAULT_BACKOFF_MULTIPLIER: u32 = 2;
/// Seed default of `cache_max_size`, entries per bind.
pub const DEFAULT_MAX_SIZE: usize = 10_000;
/// Seed default of `cache_retry_interval`, seconds.
pub const DEFAULT_RETRY_INTERVAL_S: u64 = 60;
/// Seed: entries handed to the core per batch ("100 messages par cycle").
pub const DEFAULT_BATCH_SIZE: usize = 100;
/// Seed: delivery calls in flight at once per worker ("max 10 appels API simultanés").
pub const DEFAULT_MAX_CONCURRENT_DELIVERIES: usize = 10;

/// Where entries live.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StorageKind {
    /// On disk (sled), flushed before a put returns; survives restarts (seed `disc_copies`).
    #[default]
    #[serde(alias = "disc_copies", alias = "disc")]
    Disk,
    /// Memory only: fast, lost on restart (seed `ram_copies`).
    #[serde(alias = "ram_copies", alias = "ram")]
    Memory,
}

impl StorageKind {
    /// `disk` or `memory`.
    pub fn as_str(self) -> &'static str {
        match self {
            StorageKind::Disk => "disk",
            StorageKind::Memory => "memory",
        }
    }
}

impl fmt::Display for StorageKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for StorageKind {
    type Err = ConfigError;

    /// Accepts `disk`, `disc_copies`, `memory`, `ram_copies` (any case, surrounding blanks ignored).
    fn from_str(s: &str) -> Result<Self, ConfigError> {
        match s.trim().to_ascii_lowercase().as_str() {
            "disk" | "disc" | "disc_copies" => Ok(StorageKind::Disk),
            "memory" | "ram" | "ram_copies" => Ok(StorageKind::Memory),
            _ => Err(ConfigError {
                key: "cache_storage_type",
                reason: format!("{s:?} is not one of disk, memory, disc_copies, ram_copies"),
            }),
        }
    }
}

/// A configuration value that is out of range or unparsable.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("retry cache configuration: {key}: {reason}")]
pub struct ConfigError {
    /// The key (or environment variable) at fault.
    pub key: &'static str,
    /// What is wrong.
    pub reason: String,
}

/// Per-bind settings (`[[binds]]` / `[[server_binds]]` keys `cache_*`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct BindCacheConfig {
    /// `cache_enabled`: puts are accepted for this bind (seed default: false). Entries already
    /// cached for a bind that is disabled later are still delivered.
    pub enabled: bool,
    /// `cache_max_size`: most entries kept for this bind; a put at the limit evicts the oldest
    /// (seed default 10 000). At least 1.
    pub max_size: usize,
    /// `cache_retry_interval`: the base of the backoff (seed default 60 s).
    pub retry_interval: Duration,
    /// Client or server bind, when known (shown in the summary before anything is cached).
    #[serde(default)]
    pub mode: Option<core_bridge::api::BindMode>,
}

impl Default for BindCacheConfig {
    fn default() -> Self {
        BindCacheConfig {
            enabled: false,
            max_size: DEFAULT_MAX_SIZE,
            retry_interval: Duration::from_secs(DEFAULT_RETRY_INTERVAL_S),
            mode: None,
        }
    }
}

impl BindCacheConfig {
    /// Enabled, with the seed's size and interval.
    pub fn enabled() -> Self {
        BindCacheConfig {
            enabled: true,
            ..Self::default()
        }
    }
}

/// The whole cache's configuration: globals and one [`BindCacheConfig`] per bind name.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CacheConfig {
    /// `cache_flush_interval`: how often the flush worker looks for due entries (seed 10 000 ms).
    pub flush_interval: Duration,
    /// `cache_max_retry_attempts`: retries after the first failed delivery before an entry
    /// becomes `failed_permanent` (seed 10). So an entry is tried at most `1 + max_retry_attempts`
    /// times, waiting `retry_interval × multiplier^n` before retry n (n = 0 … max − 1).
    pub max_retry_attempts: u32,
    /// `cache_backoff_multiplier` (seed 2; 1 = constant interval). At least 1.
    pub backoff_multiplier: u32,
    /// Storage type (seed `mnesia_storage_type`).
    pub storage: StorageKind,
    /// Most entries handed to the delivery function in one call (seed 100).
    pub batch_size: usize,
    /// Most delivery calls in flight at once across binds (seed 10). One bind has at most one
    /// call in flight, which keeps its entries in order.
    pub max_concurrent_deliveries: usize,
    /// Most batches one bind delivers in one flush cycle; the rest waits for the next cycle
    /// (default 100, i.e. 10 000 entries with `batch_size` 100).
    pub max_batches_per_cycle: usize,
    /// Wake the worker on each put, so an entry goes to the core at once when the core is up,
    /// instead of waiting up to `flush_interval` (default true).
    pub wake_on_put: bool,
    /// Per-bind settings; a bind not listed gets [`BindCacheConfig::default`] (disabled).
    pub binds: HashMap<String, BindCacheConfig>,
}

impl Default for CacheConfig {
    fn default() -> Self {
        CacheConfig {
            flush_interval: Duration::from_millis(DEFAULT_FLUSH_INTERVAL_MS),
            max_retry_attempts: DEFAULT_MAX_RETRY_ATTEMPTS,
            backoff_multiplier: DEFAULT_BACKOFF_MULTIPLIER,
            storage: StorageKind::Disk,
            batch_size: DEFAULT_BATCH_SIZE,
            max_concurrent_deliveries: DEFAULT_MAX_CONCURRENT_DELIVERIES,
            max_batches_per_cycle: 100,
            wake_on_put: true,
            binds: HashMap::new(),
        }
    }
}

impl CacheConfig {
    /// The settings of `bind` (defaults when it is not listed).
    pub fn bind(&self, bind: &str) -> BindCacheConfig {
        self.binds.get(bind).cloned().unwrap_or_default()
    }

    /// Set one bind's settings (builder style).
    pub fn with_bind(mut self, bind: impl Into<String>, cfg: BindCacheConfig) -> Self {
        self.binds.insert(bind.into(), cfg);
        self
    }

    /// The wait before retry `retry_count` of an entry of `bind`:
    /// `retry_interval × backoff_multiplier^retry_count`, saturating (60, 120, 240 … s with the
    /// seed's defaults).
    pub fn backoff(&self, bind: &str, retry_count: u32) -> Duration {
        let base = self
            .bind(bind)
            .retry_interval
            .as_millis()
            .min(u128::from(u64::MAX)) as u64;
        let factor = u64::from(self.backoff_multiplier.max(1))
            .checked_pow(retry_count)
            .unwrap_or(u64::MAX);
        Duration::from_millis(base.saturating_mul(factor))
    }

    /// Check ranges: `max_size ≥ 1`, `backoff_multiplier ≥ 1`, `batch_size ≥ 1`,
    /// `max_concurrent_deliveries ≥ 1`, `max_batches_per_cycle ≥ 1`, `flush_interval > 0`.
    pub fn validate(&self) -> Result<(), ConfigError> {
        let bad = |key, reason: &str| {
            Err(ConfigError {
                key,
                reason: reason.to_string(),
            })
        };
        if self.flush_interval.is_zero() {
            return bad("cache_flush_interval", "must be more than 0 ms");
        }
        if self.backoff_multiplier < 1 {
            return bad("cache_backoff_multiplier", "must be at least 1");
        }
        if self.batch_size < 1
            || self.max_concurrent_deliveries < 1
            || self.max_batches_per_cycle < 1
        {
            return bad(
                "batch_size",
                "batch size, concurrency and batches per cycle must be at least 1",
            );
        }
        if self.binds.values().any(|b| b.max_size < 1) {
            return bad("cache_max_size", "must be at least 1");
        }
        Ok(())
    }

    /// Apply the seed's environment variables through `lookup` (pass `|k| std::env::var(k).ok()`):
    /// `CACHE_FLUSH_INTERVAL` (ms), `CACHE_MAX_RETRY_ATTEMPTS`, `CACHE_BACKOFF_MULTIPLIER`,
    /// `MNESIA_STORAGE_TYPE` (`disc_copies`|`ram_copies`) and then `CACHE_STORAGE_TYPE`
    /// (`disk`|`memory`, or the seed's words), which wins when both are set.
    ///
    /// Errors name the variable and the value that could not be parsed.
    pub fn apply_env(
        &mut self,
        lookup: impl Fn(&str) -> Option<String>,
    ) -> Result<(), ConfigError> {
        fn num<T: FromStr>(key: &'static str, v: &str) -> Result<T, ConfigError> {
            v.trim().parse().map_err(|_| ConfigError {
                key,
                reason: format!("{v:?} is not a non-negative integer"),
            })
        }
        if let Some(v) = lookup("CACHE_FLUSH_INTERVAL") {
            self.flush_interval = Duration::from_millis(num("CACHE_FLUSH_INTERVAL", &v)?);
        }
        if let Some(v) = lookup("CACHE_MAX_RETRY_ATTEMPTS") {
            self.max_retry_attempts = num("CACHE_MAX_RETRY_ATTEMPTS", &v)?;
        }
        if let Some(v) = lookup("CACHE_BACKOFF_MULTIPLIER") {
            self.backoff_multiplier = num("CACHE_BACKOFF_MULTIPLIER", &v)?;
        }
        for key in ["MNESIA_STORAGE_TYPE", "CACHE_STORAGE_TYPE"] {
            if let Some(v) = lookup(key) {
                self.storage = v.parse().map_err(|e: ConfigError| ConfigError {
                    key,
                    reason: e.reason,
                })?;
            }
        }
        self.validate()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seed_defaults_and_schedule() {
        let c = CacheConfig::default().with_bind("b", BindCacheConfig::enabled());
        assert_eq!(c.flush_interval, Duration::from_millis(10_000));
        assert_eq!(
            (c.max_retry_attempts, c.backoff_multiplier, c.storage),
            (10, 2, StorageKind::Disk)
        );
        assert_eq!(c.bind("b").max_size, 10_000);
        assert!(!c.bind("other").enabled);
        let s: Vec<u64> = (0..10).map(|n| c.backoff("b", n).as_secs()).collect();
        assert_eq!(
            s,
            [60, 120, 240, 480, 960, 1920, 3840, 7680, 15_360, 30_720]
        );
        assert_eq!(c.backoff("b", 200), Duration::from_millis(u64::MAX));
    }

    #[test]
    fn environment_overrides() {
        let mut c = CacheConfig::default();
        let env = |k: &str| match k {
            "CACHE_FLUSH_INTERVAL" => Some("5000".to_string()),
            "CACHE_MAX_RETRY_ATTEMPTS" => Some("3".to_string()),
            "CACHE_BACKOFF_MULTIPLIER" => Some("3".to_string()),
            "MNESIA_STORAGE_TYPE" => Some("ram_copies".to_string()),
            _ => None,
        };
        c.apply_env(env).unwrap();
        assert_eq!(c.flush_interval, Duration::from_millis(5000));
        assert_eq!(
            (c.max_retry_attempts, c.backoff_multiplier, c.storage),
            (3, 3, StorageKind::Memory)
        );
        // CACHE_STORAGE_TYPE wins over the seed's variable.
        let env2 = |k: &str| match k {
            "MNESIA_STORAGE_TYPE" => Some("ram_copies".to_string()),
            "CACHE_STORAGE_TYPE" => Some("disk".to_string()),
            _ => None,
        };
        c.apply_env(env2).unwrap();
        assert_eq!(c.storage, StorageKind::Disk);
        let err = c
            .apply_env(|k| (k == "CACHE_STORAGE_TYPE").then(|| "tape".to_string()))
            .unwrap_err();
        assert_eq!(err.key, "CACHE_STORAGE_TYPE");
        let err = c
            .apply_env(|k| (k == "CACHE_BACKOFF_MULTIPLIER").then(|| "0".to_string()))
            .unwrap_err();
        assert_eq!(err.key, "cache_backoff_multiplier");
        let err = c
            .apply_env(|k| (k == "CACHE_FLUSH_INTERVAL").then(|| "soon".to_string()))
            .unwrap_err();
        assert!(err.to_string().contains("CACHE_FLUSH_INTERVAL"), "{err}");
    }

    #[test]
    fn storage_kind_words() {
        for (w, k) in [
            ("disk", StorageKind::Disk),
            ("disc_copies", StorageKind::Disk),
            ("Memory", StorageKind::Memory),
            ("ram_copies", StorageKind::Memory),
        ] {
            assert_eq!(w.parse::<StorageKind>().unwrap(), k);
        }
        let k: StorageKind = serde_json::from_str("\"ram_copies\"").unwrap();
        assert_eq!(k, StorageKind::Memory);
    }
}
