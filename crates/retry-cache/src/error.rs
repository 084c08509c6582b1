//! Errors of the retry cache.

use std::path::PathBuf;

/// Why the cache could not do what was asked.
///
/// Every storage error names the path and the cause, so that an operator reading the log knows
/// which directory is unwritable or which disk is full. On any error from
/// [`RetryCache::put`](crate::RetryCache::put) the message is **not** stored: the gateway must
/// answer the peer with a temporary status (`ESME_RX_T_APPN`/`ESME_RSYSERR`) and acknowledge
/// nothing.
#[derive(Debug, thiserror::Error)]
pub enum CacheError {
    /// An I/O error of the store: the directory cannot be created or written, the disk is full,
    /// a flush failed.
    #[error("retry cache: cannot {op} {}: {source}", path.display())]
    Io {
        /// The store's directory (or the file inside it).
        path: PathBuf,
        /// What was being done: `create directory`, `open`, `write to`, `flush` …
        op: &'static str,
        /// The operating system's error (e.g. `Permission denied (os error 13)`,
        /// `No space left on device (os error 28)`).
        #[source]
        source: std::io::Error,
    },
    /// The store reported something other than an I/O error (corruption, unsupported format).
    #[error("retry cache: store at {} failed to {op}: {reason}", path.display())]
    Storage {
        /// The store's directory.
        path: PathBuf,
        /// What was being done.
        op: &'static str,
        /// What the store said.
        reason: String,
    },
    /// An entry could not be encoded or a stored entry could not be decoded.
    #[error("retry cache: entry encoding: {0}")]
    Encoding(String),
    /// The cache is not enabled for this bind (`cache_enabled = false`).
    #[error("retry cache: not enabled for bind {bind}")]
    Disabled {
        /// The bind's name.
        bind: String,
    },
    /// The configuration is invalid.
    #[error(transparent)]
    Config(#[from] crate::config::ConfigError),
    /// The store's writer stopped (the cache is shutting down).
    #[error("retry cache: store closed")]
    Closed,
}

impl CacheError {
    /// True for errors of the storage itself (I/O, corruption), as opposed to a disabled bind.
    pub fn is_storage(&self) -> bool {
        matches!(
            self,
            CacheError::Io { .. } | CacheError::Storage { .. } | CacheError::Closed
        )
    }
}
