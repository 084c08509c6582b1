//! [`CoreStoreError`]: what can go wrong with the embedded core's store.

use std::path::PathBuf;

/// A failure of the embedded core's store (fjall). The HTTP API answers these with 503 (or 500
/// for [`CoreStoreError::Corrupt`]) and an `ErrorBody`, which the gateway treats as retryable.
#[derive(Debug, thiserror::Error)]
pub enum CoreStoreError {
    /// The store could not be opened or created (permissions, disk, a store locked by another
    /// process, an incompatible on-disk format).
    #[error("embedded core: cannot open store at {}: {reason}", path.display())]
    Open {
        /// The store directory.
        path: PathBuf,
        /// What fjall (or sled, migrating an older store) or the file system said.
        reason: String,
    },
    /// A read or write failed while the store was open.
    #[error("embedded core: store {op} failed: {reason}")]
    Storage {
        /// The operation (`"read"`, `"write"`, `"scan"` …).
        op: &'static str,
        /// What the store said.
        reason: String,
    },
    /// Flushing to disk failed.
    #[error("embedded core: flush of {} failed: {reason}", path.display())]
    Flush {
        /// The store directory.
        path: PathBuf,
        /// What the store said.
        reason: String,
    },
    /// The configuration was refused (see [`crate::EmbeddedConfig::validate`]).
    #[error(transparent)]
    Config(#[from] crate::config::ConfigError),
    /// A stored value does not decode (written by an incompatible version, or damaged).
    #[error("embedded core: stored value {key:?} does not decode: {reason}")]
    Corrupt {
        /// The key of the value, printable.
        key: String,
        /// The decode error.
        reason: String,
    },
}

impl CoreStoreError {
    pub(crate) fn storage(op: &'static str, e: impl std::fmt::Display) -> Self {
        CoreStoreError::Storage {
            op,
            reason: e.to_string(),
        }
    }
}
