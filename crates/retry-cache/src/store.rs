//! Storage behind a trait: [`CacheStore`], with [`MemoryStore`] here and
//! [`SledStore`](crate::SledStore) on disk.
//!
//! A store is dumb: it keeps entries by `(bind_name, seq)` and makes what was written durable
//! on request. The cache keeps its own index in memory and writes through to the store, so a
//! store is read only once, at open ([`CacheStore::load`]).

use std::collections::BTreeMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex};

use crate::config::StorageKind;
use crate::entry::{decode, encode, store_key, Entry};
use crate::CacheError;

/// A future that resolves when everything written before it was asked for is durable.
pub type SyncFuture = Pin<Box<dyn Future<Output = Result<(), CacheError>> + Send + 'static>>;

/// One change, part of an atomic [`CacheStore::write`].
#[derive(Clone, Debug)]
// Most ops are puts: boxing the entry would add an allocation per write and gain nothing.
#[allow(clippy::large_enum_variant)]
pub enum Op {
    /// Insert or replace the entry at `(entry.bind_name, entry.seq)`.
    Put(Entry),
    /// Remove the entry at `(bind_name, seq)`, if any.
    Remove {
        /// Bind name.
        bind_name: String,
        /// Sequence number.
        seq: u64,
    },
}

/// Persistence of cache entries.
pub trait CacheStore: Send + Sync + 'static {
    /// Disk or memory.
    fn kind(&self) -> StorageKind;

    /// Every stored entry, ordered by bind name and then `seq` (oldest first).
    ///
    /// # Errors
    /// I/O errors naming the path; [`CacheError::Encoding`] for an entry that cannot be read.
    fn load(&self) -> Result<Vec<Entry>, CacheError>;

    /// Apply `ops` atomically (all or none). Not necessarily durable yet: see [`sync`](Self::sync).
    ///
    /// # Errors
    /// I/O errors (e.g. disk full) naming the path.
    fn write(&self, ops: &[Op]) -> Result<(), CacheError>;

    /// Make every write done before this call durable. Concurrent callers may share one flush
    /// (group commit). A memory store resolves at once.
    fn sync(&self) -> SyncFuture;

    /// How many flushes to stable storage were made so far (0 for a memory store). For tests and
    /// benchmarks of group commit.
    fn flush_count(&self) -> u64;
}

/// Entries in memory only (seed `ram_copies`). Cheap to clone; clones share the entries, so a
/// [`RetryCache`](crate::RetryCache) reopened over a clone sees what the previous one left (as a
/// process restart would with a disk store — used by tests).
#[derive(Clone, Debug, Default)]
pub struct MemoryStore {
    map: Arc<Mutex<BTreeMap<Vec<u8>, Vec<u8>>>>,
}

impl MemoryStore {
    /// An empty store.
    pub fn new() -> Self {
        Self::default()
    }
}

impl CacheStore for MemoryStore {
    fn kind(&self) -> StorageKind {
        StorageKind::Memory
    }

    fn load(&self) -> Result<Vec<Entry>, CacheError> {
        let map = self.map.lock().unwrap_or_else(|p| p.into_inner());
        map.values().map(|v| decode(v)).collect()
    }

    fn write(&self, ops: &[Op]) -> Result<(), CacheError> {
        // Encode first so that an encoding error changes nothing.
        let mut encoded = Vec::with_capacity(ops.len());
        for op in ops {
            encoded.push(match op {
                Op::Put(e) => (store_key(&e.bind_name, e.seq), Some(encode(e)?)),
                Op::Remove { bind_name, seq } => (store_key(bind_name, *seq), None),
            });
        }
        let mut map = self.map.lock().unwrap_or_else(|p| p.into_inner());
        for (k, v) in encoded {
            match v {
                Some(v) => map.insert(k, v),
                None => map.remove(&k),
            };
        }
        Ok(())
    }

    fn sync(&self) -> SyncFuture {
        Box::pin(async { Ok(()) })
    }

    fn flush_count(&self) -> u64 {
        0
    }
}
