//! The sled store: restart keeps everything, group commit, clear errors.

mod common;

use std::sync::Arc;

use common::{event, msg, TempDir};
use core_bridge::api::BindMode;
use retry_cache::*;

fn config() -> CacheConfig {
    CacheConfig::default().with_bind("b", BindCacheConfig::enabled()).with_bind("c", BindCacheConfig::enabled())
}

async fn open(dir: &TempDir, clock: &ManualClock) -> RetryCache {
    let store = SledStore::open(dir.path()).unwrap();
    RetryCache::open(config(), Arc::new(store), Arc::new(clock.clone())).await.unwrap()
}

#[tokio::test]
async fn restart_keeps_everything_and_delivering_becomes_pending() {
    let dir = TempDir::new("restart");
    let clock = ManualClock::new(1_000_000);
    let before = {
        let cache = open(&dir, &clock).await;
        for i in 0..5 {
            cache.put("b", BindMode::Server, msg("b", &format!("M{i}"))).await.unwrap();
        }
        cache.put("c", BindMode::Client, event("c", "X1")).await.unwrap();
        // Two are being delivered when the process "dies"; one failed for good.
        let taken = cache.take_due("b", clock.now_ms(), 3).unwrap();
        assert_eq!(taken.len(), 3);
        cache
            .settle("b", vec![(taken[0].seq, Err(DeliveryError::Permanent("refused".into())))], clock.now_ms())
            .unwrap();
        assert_eq!(cache.list("b", Some(Status::Delivering)).len(), 2);
        cache.list("b", None)
        // Dropped here without any shutdown: a crash as far as the cache knows.
    };
    let cache = open(&dir, &clock).await;
    let after = cache.list("b", None);
    assert_eq!(after.len(), 5);
    for (a, b) in before.iter().zip(&after) {
        assert_eq!((&a.id, a.seq, &a.item), (&b.id, b.seq, &b.item));
        let expect = if a.status == Status::Delivering { Status::Pending } else { a.status };
        assert_eq!(b.status, expect, "{}", a.id);
    }
    assert_eq!(cache.list("b", Some(Status::FailedPermanent))[0].id, "M0");
    assert_eq!(cache.list("c", None)[0].item, event("c", "X1"));
    assert_eq!(cache.summary(), CacheSummary { total: 6, pending: 5, delivering: 0, failed_permanent: 1 });
    // New entries go after the recovered ones.
    cache.put("b", BindMode::Server, msg("b", "NEW")).await.unwrap();
    assert_eq!(cache.list("b", None).last().unwrap().id, "NEW");
    // Recovery delivers oldest first (M0 is failed_permanent and stays).
    let ids: Vec<String> = cache.take_due("b", clock.now_ms(), 100).unwrap().into_iter().map(|e| e.id).collect();
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
        tasks.push(tokio::spawn(async move { cache.put("b", BindMode::Server, msg("b", &format!("M{i:04}"))).await }));
    }
    for t in tasks {
        t.await.unwrap().unwrap();
    }
    let flushes = cache.flush_count() - before;
    assert!(flushes >= 1, "every put waited for a flush");
    assert!(flushes < puts, "{flushes} flushes for {puts} puts: no group commit");
    assert_eq!(cache.count("b"), puts as usize);
    // A lone put costs exactly one flush.
    let before = cache.flush_count();
    cache.put("b", BindMode::Server, msg("b", "lone")).await.unwrap();
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
    assert!(text.contains(&path.display().to_string()) || text.contains(&dir.path().display().to_string()), "{text}");
    assert!(matches!(err, CacheError::Io { .. }), "{err:?}");
    // The same through the configuration.
    let err = RetryCache::open_dir(config(), &path).await.unwrap_err();
    assert!(err.to_string().starts_with("retry cache: cannot "), "{err}");
    // Memory storage never touches the directory.
    let cfg = CacheConfig { storage: StorageKind::Memory, ..config() };
    assert_eq!(RetryCache::open_dir(cfg, &path).await.unwrap().storage(), StorageKind::Memory);
    // Restore permissions so the temp dir can be removed.
    use std::os::unix::fs::PermissionsExt;
    let _ = std::fs::set_permissions(dir.path().join("readonly"), std::fs::Permissions::from_mode(0o700));
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
        let store = FullDisk { inner: MemoryStore::new(), fail_write };
        let cache = RetryCache::open(config(), Arc::new(store), Arc::new(ManualClock::new(5))).await.unwrap();
        let err = cache.put("b", BindMode::Server, msg("b", "M1")).await.unwrap_err();
        let text = err.to_string();
        assert!(text.contains("/var/lib/smppgw/cache"), "{text}");
        assert!(text.contains("No space left on device") || text.contains("os error 28"), "{text}");
        assert_eq!(cache.count("b"), 0, "nothing acknowledged, nothing kept (fail_write={fail_write})");
    }
}
