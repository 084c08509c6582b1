//! The sled store: restart keeps everything, group commit, clear errors.

mod common;

use std::sync::Arc;

use common::{event, msg, TempDir};
use core_bridge::api::BindMode;
use retry_cache::*;

fn config() -> CacheConfig {
    CacheConfig::default()
        .with_bind("b", BindCacheConfig::enabled())
        .with_bind("c", BindCacheConfig::enabled())
}

async fn open(dir: &TempDir, clock: &ManualClock) -> RetryCache {
    let store = SledStore::open(dir.path()).unwrap();
    RetryCache::open(config(), Arc::new(store), Arc::new(clock.clone()))
        .await
        .unwrap()
}

#[tokio::test]
async fn restart_keeps_everything_and_delivering_becomes_pending() {
    let dir = TempDir::new("restart");
    let clock = ManualClock::new(1_000_000);
    let before = {
        let cache = open(&dir, &clock).await;
        for i in 0..5 {
            cache
                .put("b", BindMode::Server, msg("b", &format!("M{i}")))
                .await
                .unwrap();
        }
        cache
            .put("c", BindMode::Client, event("c", "X1"))
            .await
            .unwrap();
        // Two are being delivered when the process "dies"; one failed for good.
        let taken = cache.take_due("b", clock.now_ms(), 3);
        assert_eq!(taken.len(), 3);
        cache.settle(
            "b",
            vec![(
                taken[0].seq,
                Err(DeliveryError::Permanent("refused".into())),
            )],
            clock.now_ms(),
        );
        assert_eq!(cache.list("b", Some(Status::Delivering)).len(), 2);
        cache.list("b", None)
        // Dropped here without any shutdown: a crash as far as the cache knows.
    };
    let cache = open(&dir, &clock).await;
    let after = cache.list("b", None);
    assert_eq!(after.len(), 5);
    for (a, b) in before.iter().zip(&after) {
        assert_eq!((&a.id, a.seq, &a.item), (&b.id, b.seq, &b.item));
        let expect = if a.status == Status::Delivering {
            Status::Pending
        } else {
            a.status
        };
        assert_eq!(b.status, expect, "{}", a.id);
    }
    assert_eq!(cache.list("b", Some(Status::FailedPermanent))[0].id, "M0");
    assert_eq!(cache.list("c", None)[0].item, event("c", "X1"));
    assert_eq!(
        cache.summary(),
        CacheSummary {
            total: 6,
            pending: 5,
            delivering: 0,
            failed_permanent: 1
        }
    );
    // New entries go after the recovered ones.
    cache
        .put("b", BindMode::Server, msg("b", "NEW"))
        .await
        .unwrap();
    assert_eq!(cache.list("b", None).last().unwrap().id, "NEW");
    // Recovery delivers oldest first (M0 is failed_permanent and stays).
    let ids: Vec<String> = cache
        .take_due("b", clock.now_ms(), 100)
        .into_iter()
        .map(|e| e.id)
        .collect();
    assert_eq!(ids, ["M1", "M2", "M3", "M4", "NEW"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_puts_share_flushes() {
    let dir = TempDir::new("group");
    let clock = ManualClock::new(1_000_000);
    let cache = open(&dir, &clock).await;
    let before = cache.flush_count();
    let puts = 256;
    let mut tasks = Vec::new();
    for i in 0..puts {
        let cache = cache.clone();
        tasks.push(tokio::spawn(async move {
            cache
                .put("b", BindMode::Server, msg("b", &format!("M{i:04}")))
                .await
        }));
    }
    for t in tasks {
        t.await.unwrap().unwrap();
    }
    let flushes = cache.flush_count() - before;
    assert!(flushes >= 1, "every put waited for a flush");
    assert!(
        flushes < puts,
        "{flushes} flushes for {puts} puts: no group commit"
    );
    assert_eq!(cache.count("b"), puts as usize);
    // A lone put costs exactly one flush.
    let before = cache.flush_count();
    cache
        .put("b", BindMode::Server, msg("b", "lone"))
        .await
        .unwrap();
    assert_eq!(cache.flush_count() - before, 1);
}

/// A path that cannot be written for any user: a directory made read-only when that stops us
/// (not root), otherwise a path below a regular file (stops everyone, root included).
fn unwritable(dir: &TempDir) -> std::path::PathBuf {
    use std::os::unix::fs::PermissionsExt;
    let ro = dir.path().join("readonly");
    std::fs::create_dir_all(&ro).unwrap();
    std::fs::set_permissions(&ro, std::fs::Permissions::from_mode(0o500)).unwrap();
    if std::fs::write(ro.join("probe"), b"x").is_err() {
        return ro.join("cache");
    }
    // Running as root: permissions do not stop us.
    let _ = std::fs::remove_file(ro.join("probe"));
    std::fs::set_permissions(&ro, std::fs::Permissions::from_mode(0o700)).unwrap();
    let file = dir.path().join("file");
    std::fs::write(&file, b"not a directory").unwrap();
    file.join("sub")
}

#[tokio::test]
async fn unwritable_directory_is_a_clear_error() {
    let dir = TempDir::new("unwritable");
    let path = unwritable(&dir);
    let err = SledStore::open(&path).unwrap_err();
    assert!(err.is_storage());
    let text = err.to_string();
    assert!(
        text.contains(&path.display().to_string())
            || text.contains(&dir.path().display().to_string()),
        "{text}"
    );
    assert!(matches!(err, CacheError::Io { .. }), "{err:?}");
    // The same through the configuration.
    let err = RetryCache::open_dir(config(), &path).await.unwrap_err();
    assert!(err.to_string().starts_with("retry cache: cannot "), "{err}");
    // Memory storage never touches the directory.
    let cfg = CacheConfig {
        storage: StorageKind::Memory,
        ..config()
    };
    assert_eq!(
        RetryCache::open_dir(cfg, &path).await.unwrap().storage(),
        StorageKind::Memory
    );
    // Restore permissions so the temp dir can be removed.
    use std::os::unix::fs::PermissionsExt;
    let _ = std::fs::set_permissions(
        dir.path().join("readonly"),
        std::fs::Permissions::from_mode(0o700),
    );
}

/// A store whose writes or flushes fail, as a full disk does.
struct FullDisk {
    inner: MemoryStore,
    fail_write: bool,
}

impl CacheStore for FullDisk {
    fn kind(&self) -> StorageKind {
        StorageKind::Disk
    }
    fn load(&self) -> Result<Vec<Entry>, CacheError> {
        self.inner.load()
    }
    fn write(&self, ops: &[Op]) -> Result<(), CacheError> {
        if self.fail_write {
            return Err(CacheError::Io {
                path: "/var/lib/smppgw/cache".into(),
                op: "write to",
                source: std::io::Error::from_raw_os_error(28),
            });
        }
        self.inner.write(ops)
    }
    fn sync(&self) -> SyncFuture {
        let fail = !self.fail_write;
        Box::pin(async move {
            if fail {
                Err(CacheError::Io {
                    path: "/var/lib/smppgw/cache".into(),
                    op: "flush",
                    source: std::io::Error::from_raw_os_error(28),
                })
            } else {
                Ok(())
            }
        })
    }
    fn flush_count(&self) -> u64 {
        0
    }
}

#[tokio::test]
async fn full_disk_during_put_stores_nothing() {
    for fail_write in [true, false] {
        let store = FullDisk {
            inner: MemoryStore::new(),
            fail_write,
        };
        let cache = RetryCache::open(config(), Arc::new(store), Arc::new(ManualClock::new(5)))
            .await
            .unwrap();
        let err = cache
            .put("b", BindMode::Server, msg("b", "M1"))
            .await
            .unwrap_err();
        let text = err.to_string();
        assert!(text.contains("/var/lib/smppgw/cache"), "{text}");
        assert!(
            text.contains("No space left on device") || text.contains("os error 28"),
            "{text}"
        );
        assert_eq!(
            cache.count("b"),
            0,
            "nothing acknowledged, nothing kept (fail_write={fail_write})"
        );
        assert!(
            cache
                .storage_error()
                .is_some_and(|e| e.contains("os error 28")),
            "{:?}",
            cache.storage_error()
        );
    }
}

#[tokio::test]
async fn a_put_that_is_not_durable_evicts_nothing() {
    // One entry cached while the disk worked, in a bind of size 1.
    let inner = MemoryStore::new();
    let size_one = CacheConfig::default().with_bind(
        "b",
        BindCacheConfig {
            max_size: 1,
            ..BindCacheConfig::enabled()
        },
    );
    let clock = Arc::new(ManualClock::new(5));
    RetryCache::open(size_one.clone(), Arc::new(inner.clone()), clock.clone())
        .await
        .unwrap()
        .put("b", BindMode::Server, msg("b", "M0"))
        .await
        .unwrap();
    // Now flushes fail: the put that would evict M0 is refused and M0 stays, in memory and store.
    for fail_write in [false, true] {
        let cache = RetryCache::open(
            size_one.clone(),
            Arc::new(FullDisk {
                inner: inner.clone(),
                fail_write,
            }),
            clock.clone(),
        )
        .await
        .unwrap();
        cache
            .put("b", BindMode::Server, msg("b", "M1"))
            .await
            .unwrap_err();
        let ids: Vec<String> = cache.list("b", None).into_iter().map(|e| e.id).collect();
        assert_eq!(ids, ["M0"], "fail_write={fail_write}");
        let stored: Vec<String> = inner.load().unwrap().into_iter().map(|e| e.id).collect();
        assert_eq!(stored, ["M0"], "fail_write={fail_write}");
    }
}

/// A store whose writes, flushes and opening fail while `full` is set, as on a full disk.
#[derive(Clone, Default)]
struct Flaky {
    inner: MemoryStore,
    full: Arc<std::sync::atomic::AtomicBool>,
}

impl Flaky {
    fn enospc(op: &'static str) -> CacheError {
        CacheError::Io {
            path: "/var/lib/smppgw/cache".into(),
            op,
            source: std::io::Error::from_raw_os_error(28),
        }
    }
    fn is_full(&self) -> bool {
        self.full.load(std::sync::atomic::Ordering::SeqCst)
    }
}

impl CacheStore for Flaky {
    fn kind(&self) -> StorageKind {
        StorageKind::Disk
    }
    fn load(&self) -> Result<Vec<Entry>, CacheError> {
        self.inner.load()
    }
    fn write(&self, ops: &[Op]) -> Result<(), CacheError> {
        if self.is_full() {
            return Err(Self::enospc("write to"));
        }
        self.inner.write(ops)
    }
    fn sync(&self) -> SyncFuture {
        let res = if self.is_full() {
            Err(Self::enospc("flush"))
        } else {
            Ok(())
        };
        Box::pin(async move { res })
    }
    fn flush_count(&self) -> u64 {
        0
    }
}

fn ids(entries: Vec<Entry>) -> Vec<String> {
    entries.into_iter().map(|e| e.id).collect()
}

#[tokio::test]
async fn full_disk_during_run_refuses_puts_keeps_delivering_and_recovers() {
    let store = Flaky::default();
    let opener = store.clone();
    let clock = ManualClock::new(1_000);
    let cfg = CacheConfig::default().with_bind(
        "b",
        BindCacheConfig {
            max_size: 3,
            ..BindCacheConfig::enabled()
        },
    );
    let cache = RetryCache::open_recoverable(
        cfg,
        move || {
            if opener.is_full() {
                Err(Flaky::enospc("open"))
            } else {
                Ok(Arc::new(opener.clone()) as Arc<dyn CacheStore>)
            }
        },
        Arc::new(clock.clone()),
    )
    .await
    .unwrap();
    for id in ["M1", "M2", "M3"] {
        cache
            .put("b", BindMode::Server, msg("b", id))
            .await
            .unwrap();
    }
    store.full.store(true, std::sync::atomic::Ordering::SeqCst);

    // The disk is full: a new message is refused, the acknowledged ones all stay.
    let err = cache
        .put("b", BindMode::Server, msg("b", "M4"))
        .await
        .unwrap_err();
    assert!(err.to_string().contains("No space left on device"), "{err}");
    assert!(cache.storage_error().is_some());
    assert_eq!(ids(cache.list("b", None)), ["M1", "M2", "M3"]);
    // Delivery goes on from memory; the disk keeps what it had.
    let taken = cache.take_due("b", clock.now_ms(), 1);
    assert_eq!(ids(taken.clone()), ["M1"]);
    assert_eq!(
        cache
            .settle("b", vec![(taken[0].seq, Ok(()))], clock.now_ms())
            .delivered,
        1
    );
    assert_eq!(ids(cache.list("b", None)), ["M2", "M3"]);
    assert_eq!(ids(store.inner.load().unwrap()), ["M1", "M2", "M3"]);
    // Repair fails while the disk is still full; puts are still refused.
    assert!(cache.repair().await.is_err());
    assert!(cache
        .put("b", BindMode::Server, msg("b", "M5"))
        .await
        .is_err());

    // Space again: the repair writes memory back to disk and puts work again.
    store.full.store(false, std::sync::atomic::Ordering::SeqCst);
    assert!(cache.repair().await.unwrap());
    assert_eq!(cache.storage_error(), None);
    assert_eq!(ids(store.inner.load().unwrap()), ["M2", "M3"]);
    cache
        .put("b", BindMode::Server, msg("b", "M6"))
        .await
        .unwrap();
    assert_eq!(ids(store.inner.load().unwrap()), ["M2", "M3", "M6"]);
    assert!(!cache.repair().await.unwrap(), "nothing to repair");
}

/// A failed repair leaves the closed placeholder in place; the puts refused by it must not
/// hide the cause the operator needs to see (the admin API and the dashboard show this text).
#[tokio::test]
async fn the_cause_stays_visible_after_a_failed_repair() {
    let store = Flaky::default();
    let opener = store.clone();
    let cfg = CacheConfig::default().with_bind(
        "b",
        BindCacheConfig {
            max_size: 10,
            ..BindCacheConfig::enabled()
        },
    );
    let cache = RetryCache::open_recoverable(
        cfg,
        move || {
            if opener.is_full() {
                Err(Flaky::enospc("open"))
            } else {
                Ok(Arc::new(opener.clone()) as Arc<dyn CacheStore>)
            }
        },
        Arc::new(ManualClock::new(1_000)),
    )
    .await
    .unwrap();
    store.full.store(true, std::sync::atomic::Ordering::SeqCst);
    cache
        .put("b", BindMode::Server, msg("b", "M1"))
        .await
        .unwrap_err();
    cache.repair().await.unwrap_err();
    let err = cache
        .put("b", BindMode::Server, msg("b", "M2"))
        .await
        .unwrap_err();
    assert!(matches!(err, CacheError::Closed), "{err:?}");
    let cause = cache.storage_error().expect("out of order");
    assert!(
        cause.contains("os error 28") || cause.contains("No space left"),
        "{cause}"
    );
}
