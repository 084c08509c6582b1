//! [`SledStore`]: entries on disk in sled (`=0.34.7`), with group commit.
//!
//! Layout: one sled database in the cache directory; entries in the tree `entries`, keyed by
//! [`store_key`](crate::entry::store_key), valued by the entry's JSON. The default tree holds a
//! probe key written and flushed at open, so an unwritable directory or a full disk is found
//! at start rather than at the first message.
//!
//! Group commit: [`CacheStore::sync`] hands a waiter to one committer thread. The thread takes
//! every waiter queued so far, flushes once (`Db::flush`, an fsync), and answers them all. A
//! write made before its waiter was queued is covered by that flush, so under load many puts
//! share one fsync while a lone put still waits for exactly one.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{mpsc, Arc};
use std::thread::JoinHandle;

use tokio::sync::oneshot;

use crate::config::StorageKind;
use crate::entry::{decode, encode, store_key, Entry};
use crate::store::{CacheStore, Op, SyncFuture};
use crate::CacheError;

type Waiter = oneshot::Sender<Result<(), CacheError>>;

/// On-disk store (seed `disc_copies`). Dropping it stops the committer and closes the database,
/// so the same directory can be opened again at once.
#[derive(Debug)]
pub struct SledStore {
    path: PathBuf,
    db: sled::Db,
    entries: sled::Tree,
    flushes: Arc<AtomicU64>,
    committer: Option<mpsc::Sender<Waiter>>,
    thread: Option<JoinHandle<()>>,
}

impl SledStore {
    /// Open (creating if needed) the store in directory `path`. Blocks up to 5 s while the
    /// directory is locked (a handle dropped a moment ago, or another process).
    ///
    /// # Errors
    /// [`CacheError::Io`] naming `path` when the directory cannot be created, the database
    /// cannot be opened (permissions, lock held by another process), or the probe write and
    /// flush fail (read-only file system, disk full); [`CacheError::Storage`] for other sled
    /// errors (corruption).
    pub fn open(path: impl AsRef<Path>) -> Result<Self, CacheError> {
        let path = path.as_ref().to_path_buf();
        std::fs::create_dir_all(&path).map_err(|source| CacheError::Io {
            path: path.clone(),
            op: "create directory",
            source,
        })?;
        let db = open_db(&path)?;
        let entries = db
            .open_tree("entries")
            .map_err(|e| sled_error(&path, "open", e))?;
        db.insert(b"probe", &core_bridge::api::now_ms().to_be_bytes()[..])
            .map_err(|e| sled_error(&path, "write to", e))?;
        db.flush().map_err(|e| sled_error(&path, "flush", e))?;

        let flushes = Arc::new(AtomicU64::new(1));
        let (tx, rx) = mpsc::channel::<Waiter>();
        let thread = {
            let db = db.clone();
            let flushes = flushes.clone();
            let thread_path = path.clone();
            std::thread::Builder::new()
                .name("retry-cache-commit".into())
                .spawn(move || commit_loop(&db, &thread_path, &flushes, &rx))
                .map_err(|source| CacheError::Io {
                    path: path.clone(),
                    op: "start committer for",
                    source,
                })?
        };
        Ok(SledStore {
            path,
            db,
            entries,
            flushes,
            committer: Some(tx),
            thread: Some(thread),
        })
    }

    /// The directory of the store.
    pub fn path(&self) -> &Path {
        &self.path
    }
}

/// How long [`SledStore::open`] waits for the directory's lock: sled's background threads may
/// hold it a moment after the previous handle in this process was dropped.
const LOCK_WAIT: std::time::Duration = std::time::Duration::from_secs(5);

fn open_db(path: &Path) -> Result<sled::Db, CacheError> {
    let deadline = std::time::Instant::now() + LOCK_WAIT;
    loop {
        match sled::Config::new()
            .path(path)
            .cache_capacity(64 * 1024 * 1024)
            .open()
        {
            Ok(db) => return Ok(db),
            // sled words a lock held elsewhere as "could not acquire lock on …: Os { code: 11 … }".
            Err(sled::Error::Io(e))
                if plain_io_error(&e).kind() == std::io::ErrorKind::WouldBlock =>
            {
                if std::time::Instant::now() >= deadline {
                    return Err(CacheError::Io {
                        path: path.to_path_buf(),
                        op: "lock (is another smppgw using it?)",
                        source: plain_io_error(&e),
                    });
                }
                std::thread::sleep(std::time::Duration::from_millis(20));
            }
            Err(e) => return Err(sled_error(path, "open", e)),
        }
    }
}

fn commit_loop(db: &sled::Db, path: &Path, flushes: &AtomicU64, rx: &mpsc::Receiver<Waiter>) {
    while let Ok(first) = rx.recv() {
        let mut waiters = vec![first];
        waiters.extend(rx.try_iter());
        let res = db.flush();
        flushes.fetch_add(1, Ordering::Relaxed);
        match res {
            Ok(_) => {
                for w in waiters {
                    let _ = w.send(Ok(()));
                }
            }
            Err(e) => {
                let reason = e.to_string();
                tracing::error!(path = %path.display(), error = %reason, "retry cache: flush failed");
                for w in waiters {
                    let _ = w.send(Err(sled_error(path, "flush", clone_sled_error(&e))));
                }
            }
        }
    }
}

fn clone_sled_error(e: &sled::Error) -> sled::Error {
    match e {
        sled::Error::Io(io) => sled::Error::Io(plain_io_error(io)),
        other => sled::Error::Unsupported(other.to_string()),
    }
}

/// The operating system's error as the OS words it ("No space left on device (os error 28)").
///
/// After a first I/O error sled keeps it and answers every later call with a copy whose text
/// is the original's `Debug` form (`Os { code: 28, kind: StorageFull, message: "…" }`); the
/// code is taken back from that text so that the log reads like any other I/O error.
fn plain_io_error(io: &std::io::Error) -> std::io::Error {
    if let Some(code) = io.raw_os_error() {
        return std::io::Error::from_raw_os_error(code);
    }
    let text = io.to_string();
    let code = text
        .split_once("code: ")
        .and_then(|(_, rest)| rest.split(|c: char| !c.is_ascii_digit()).next())
        .and_then(|d| d.parse::<i32>().ok());
    match code {
        Some(code) => std::io::Error::from_raw_os_error(code),
        None => std::io::Error::new(io.kind(), text),
    }
}

fn sled_error(path: &Path, op: &'static str, e: sled::Error) -> CacheError {
    match e {
        sled::Error::Io(source) => CacheError::Io {
            path: path.to_path_buf(),
            op,
            source: plain_io_error(&source),
        },
        other => CacheError::Storage {
            path: path.to_path_buf(),
            op,
            reason: other.to_string(),
        },
    }
}

impl CacheStore for SledStore {
    fn kind(&self) -> StorageKind {
        StorageKind::Disk
    }

    fn load(&self) -> Result<Vec<Entry>, CacheError> {
        self.entries
            .iter()
            .map(|kv| {
                let (_, v) = kv.map_err(|e| sled_error(&self.path, "read", e))?;
                decode(&v)
            })
            .collect()
    }

    fn write(&self, ops: &[Op]) -> Result<(), CacheError> {
        // One change (the common put): a plain insert. sled's batches take its process-wide
        // concurrency lock exclusively, and its flush holds that lock shared for the whole
        // fsync, so a batch waits for every flush in progress: plain inserts do not, which is
        // what lets many puts share one flush (4-5× the puts per second under load).
        if let [op] = ops {
            let res = match op {
                Op::Put(e) => self
                    .entries
                    .insert(store_key(&e.bind_name, e.seq), encode(e)?)
                    .map(drop),
                Op::Remove { bind_name, seq } => {
                    self.entries.remove(store_key(bind_name, *seq)).map(drop)
                }
            };
            return res.map_err(|e| sled_error(&self.path, "write to", e));
        }
        let mut batch = sled::Batch::default();
        for op in ops {
            match op {
                Op::Put(e) => batch.insert(store_key(&e.bind_name, e.seq), encode(e)?),
                Op::Remove { bind_name, seq } => batch.remove(store_key(bind_name, *seq)),
            }
        }
        self.entries
            .apply_batch(batch)
            .map_err(|e| sled_error(&self.path, "write to", e))
    }

    fn sync(&self) -> SyncFuture {
        let (tx, rx) = oneshot::channel();
        let queued = self
            .committer
            .as_ref()
            .map(|c| c.send(tx).is_ok())
            .unwrap_or(false);
        Box::pin(async move {
            if !queued {
                return Err(CacheError::Closed);
            }
            rx.await.unwrap_or(Err(CacheError::Closed))
        })
    }

    fn flush_count(&self) -> u64 {
        self.flushes.load(Ordering::Relaxed)
    }
}

impl Drop for SledStore {
    fn drop(&mut self) {
        // Stop the committer (it answers what is queued first) and wait for it, so that its
        // handle on the database is gone when we return; then flush what is left.
        self.committer.take();
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
        if let Err(e) = self.db.flush() {
            tracing::error!(path = %self.path.display(), error = %e, "retry cache: final flush failed");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sled_copies_of_io_errors_read_like_the_os_error() {
        let copy = std::io::Error::new(
            std::io::ErrorKind::StorageFull,
            "Os { code: 28, kind: StorageFull, message: \"No space left on device\" }",
        );
        let plain = plain_io_error(&copy);
        assert_eq!(plain.raw_os_error(), Some(28));
        assert!(
            plain
                .to_string()
                .contains("No space left on device (os error 28)"),
            "{plain}"
        );
        let other = plain_io_error(&std::io::Error::other("weird"));
        assert_eq!(other.to_string(), "weird");
    }
}
