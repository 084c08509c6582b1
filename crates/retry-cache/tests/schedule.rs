//! The seed's schedule with explicit time: 60, 120, 240 … s, `failed_permanent` after the last
//! retry, a manual retry then delivers; overflow evicts the oldest and counts it; metrics.

mod common;

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;

use common::{msg, runtime, TestRecorder};
use core_bridge::api::BindMode;
use retry_cache::*;

const T0: u64 = 1_769_949_296_000;

fn config() -> CacheConfig {
    CacheConfig {
        storage: StorageKind::Memory,
        ..CacheConfig::default()
    }
    .with_bind("b", BindCacheConfig::enabled())
}

/// A delivery function that fails (retryable) while `down` is set, and counts calls.
fn core(down: Arc<AtomicBool>, calls: Arc<AtomicUsize>) -> Arc<dyn Deliver> {
    Arc::new(move |items: Vec<Item>| {
        calls.fetch_add(1, Ordering::SeqCst);
        let down = down.load(Ordering::SeqCst);
        async move {
            items
                .iter()
                .map(|_| {
                    if down {
                        Err(DeliveryError::Retryable("core unreachable".into()))
                    } else {
                        Ok(())
                    }
                })
                .collect()
        }
    })
}

#[test]
fn backoff_schedule_then_failed_permanent_then_manual_retry_delivers() {
    let rec = TestRecorder::default();
    metrics::with_local_recorder(&rec, || {
        runtime().block_on(async {
            let clock = ManualClock::new(T0);
            let cache = RetryCache::open(
                config(),
                Arc::new(MemoryStore::new()),
                Arc::new(clock.clone()),
            )
            .await
            .unwrap();
            let (down, calls) = (
                Arc::new(AtomicBool::new(true)),
                Arc::new(AtomicUsize::new(0)),
            );
            let deliver = core(down.clone(), calls.clone());
            cache
                .put("b", BindMode::Server, msg("b", "M1"))
                .await
                .unwrap();

            // The first attempt is at once; then retry n waits 60 × 2^n s.
            let mut waits = Vec::new();
            for attempt in 0..=10u32 {
                let r = cache.flush_once(&deliver).await;
                assert_eq!(r.batches, 1, "attempt {attempt}");
                let e = &cache.list("b", None)[0];
                if attempt < 10 {
                    assert_eq!((e.status, e.retry_count), (Status::Pending, attempt + 1));
                    let wait = e.next_retry_at_ms - clock.now_ms();
                    waits.push(wait / 1000);
                    // One millisecond early: not due.
                    clock.advance(wait - 1);
                    assert_eq!(cache.flush_once(&deliver).await.batches, 0);
                    clock.advance(1);
                } else {
                    assert_eq!(e.status, Status::FailedPermanent);
                    assert_eq!(e.retry_count, 10);
                    assert_eq!(e.last_error.as_deref(), Some("core unreachable"));
                }
            }
            assert_eq!(
                waits,
                [60, 120, 240, 480, 960, 1920, 3840, 7680, 15_360, 30_720]
            );
            assert_eq!(calls.load(Ordering::SeqCst), 11);
            // failed_permanent is never retried by itself.
            clock.advance(100_000_000);
            assert_eq!(cache.flush_once(&deliver).await.batches, 0);
            assert_eq!(
                cache.summary(),
                CacheSummary {
                    total: 1,
                    pending: 0,
                    delivering: 0,
                    failed_permanent: 1
                }
            );

            // Manual retry: pending, count 0, due now; the core is back: delivered and removed.
            down.store(false, Ordering::SeqCst);
            assert_eq!(cache.retry_all_failed("b").await.unwrap(), 1);
            let e = &cache.list("b", None)[0];
            assert_eq!(
                (
                    e.status,
                    e.retry_count,
                    e.next_retry_at_ms,
                    e.last_error.clone()
                ),
                (Status::Pending, 0, clock.now_ms(), None)
            );
            let r = cache.flush_once(&deliver).await;
            assert_eq!(r.outcome.delivered, 1);
            assert_eq!(cache.count("b"), 0);
        });
    });
    assert_eq!(rec.counter("smpp_cache_retry_total{bind_name=b}"), 10);
    assert_eq!(
        rec.counter("smpp_cache_permanent_failures_total{bind_name=b}"),
        1
    );
    assert_eq!(rec.counter("smpp_cache_delivered_total{bind_name=b}"), 1);
    assert_eq!(rec.gauge("smpp_cache_size{bind_name=b,mode=server}"), 0.0);
}

#[test]
fn overflow_evicts_the_oldest_and_counts_it() {
    let rec = TestRecorder::default();
    metrics::with_local_recorder(&rec, || {
        runtime().block_on(async {
            let cfg = CacheConfig {
                storage: StorageKind::Memory,
                ..CacheConfig::default()
            }
            .with_bind(
                "b",
                BindCacheConfig {
                    max_size: 3,
                    ..BindCacheConfig::enabled()
                },
            );
            let cache = RetryCache::open(
                cfg,
                Arc::new(MemoryStore::new()),
                Arc::new(ManualClock::new(T0)),
            )
            .await
            .unwrap();
            for i in 1..=5 {
                cache
                    .put("b", BindMode::Client, msg("b", &format!("M{i}")))
                    .await
                    .unwrap();
            }
            let ids: Vec<String> = cache.list("b", None).into_iter().map(|e| e.id).collect();
            assert_eq!(ids, ["M3", "M4", "M5"]);
            let line = &cache.by_bind()[0];
            assert_eq!(
                (line.total, line.max_size, line.utilisation_percent),
                (3, 3, 100.0)
            );
            assert_eq!(line.mode, Some(BindMode::Client));
        });
    });
    assert_eq!(rec.counter("smpp_cache_overflow_total{bind_name=b}"), 2);
    assert_eq!(rec.gauge("smpp_cache_size{bind_name=b,mode=client}"), 3.0);
}

#[test]
fn oldest_first_and_newer_entries_never_overtake_a_waiting_one() {
    runtime().block_on(async {
        let clock = ManualClock::new(T0);
        let cache = RetryCache::open(
            config(),
            Arc::new(MemoryStore::new()),
            Arc::new(clock.clone()),
        )
        .await
        .unwrap();
        let seen = Arc::new(std::sync::Mutex::new(Vec::<String>::new()));
        let down = Arc::new(AtomicBool::new(true));
        let deliver: Arc<dyn Deliver> = {
            let (seen, down) = (seen.clone(), down.clone());
            Arc::new(move |items: Vec<Item>| {
                let ok = !down.load(Ordering::SeqCst);
                if ok {
                    seen.lock().unwrap().extend(items.iter().map(Item::id));
                }
                async move {
                    items
                        .iter()
                        .map(|_| {
                            if ok {
                                Ok(())
                            } else {
                                Err(DeliveryError::Retryable("down".into()))
                            }
                        })
                        .collect()
                }
            })
        };
        for i in 0..150 {
            cache
                .put("b", BindMode::Server, msg("b", &format!("A{i:03}")))
                .await
                .unwrap();
        }
        // Core down: the first batch (100, the seed's batch) fails and waits 60 s; the rest
        // stays behind it.
        let r = cache.flush_once(&deliver).await;
        assert_eq!((r.batches, r.outcome.retried), (1, 100));
        for i in 0..10 {
            cache
                .put("b", BindMode::Server, msg("b", &format!("B{i:03}")))
                .await
                .unwrap();
        }
        clock.advance(59_000);
        assert_eq!(
            cache.flush_once(&deliver).await.batches,
            0,
            "nothing overtakes the waiting head"
        );
        down.store(false, Ordering::SeqCst);
        clock.advance(1_000);
        let r = cache.flush_once(&deliver).await;
        assert_eq!((r.batches, r.outcome.delivered), (2, 160));
        let seen = seen.lock().unwrap().clone();
        let mut sorted = seen.clone();
        sorted.sort();
        assert_eq!(seen, sorted, "delivered in insertion order");
    });
}

#[test]
fn permanent_refusal_fails_at_once_and_admin_operations() {
    runtime().block_on(async {
        let clock = ManualClock::new(T0);
        let cache = RetryCache::open(
            config(),
            Arc::new(MemoryStore::new()),
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
        let deliver: Arc<dyn Deliver> = Arc::new(|items: Vec<Item>| async move {
            items
                .iter()
                .map(|i| {
                    if i.id() == "M2" {
                        Ok(())
                    } else {
                        Err(DeliveryError::Permanent("http 422".into()))
                    }
                })
                .collect()
        });
        let r = cache.flush_once(&deliver).await;
        assert_eq!((r.outcome.delivered, r.outcome.failed_permanent), (1, 2));
        let failed: Vec<String> = cache
            .list("b", Some(Status::FailedPermanent))
            .into_iter()
            .map(|e| e.id)
            .collect();
        assert_eq!(failed, ["M1", "M3"]);
        assert_eq!(cache.retry("b", "M3").await.unwrap(), 1);
        assert_eq!(cache.retry("b", "nope").await.unwrap(), 0);
        assert_eq!(cache.list("b", Some(Status::Pending)).len(), 1);
        // "Deliver now": pending entries due at once, their retry counts kept.
        let deliver_fail: Arc<dyn Deliver> = Arc::new(|items: Vec<Item>| async move {
            items
                .iter()
                .map(|_| Err(DeliveryError::Retryable("down".into())))
                .collect()
        });
        assert_eq!(cache.flush_once(&deliver_fail).await.outcome.retried, 1);
        let waiting = &cache.list("b", Some(Status::Pending))[0];
        assert_eq!((waiting.id.as_str(), waiting.retry_count), ("M3", 1));
        assert!(waiting.next_retry_at_ms > clock.now_ms());
        assert_eq!(
            cache.flush_once(&deliver_fail).await.batches,
            0,
            "not due yet"
        );
        assert_eq!(cache.retry_pending_now("b").await.unwrap(), 1);
        assert_eq!(
            cache.retry_pending_now("b").await.unwrap(),
            0,
            "already due"
        );
        let due = &cache.list("b", Some(Status::Pending))[0];
        assert_eq!((due.retry_count, due.next_retry_at_ms), (1, clock.now_ms()));
        assert_eq!(cache.flush_once(&deliver_fail).await.batches, 1, "due now");
        assert_eq!(cache.list("b", Some(Status::Pending))[0].retry_count, 2);
        assert_eq!(cache.delete_all_failed("b").await.unwrap(), 1);
        assert_eq!(cache.delete("b", "M3").await.unwrap(), 1);
        assert_eq!(cache.summary(), CacheSummary::default());
        // Disabled binds refuse puts.
        let err = cache
            .put("other", BindMode::Client, msg("other", "X"))
            .await
            .unwrap_err();
        assert!(matches!(err, CacheError::Disabled { .. }), "{err}");
        assert!(!err.is_storage());
    });
}

/// The worker's own loop, on tokio's paused clock: the first attempt at once, then retries at
/// exactly 60, 60 + 120 and 60 + 120 + 240 s, delivered at the fourth attempt.
#[tokio::test(start_paused = true)]
async fn the_worker_loop_retries_at_the_seeds_times() {
    let clock = TokioClock::new();
    let cfg = CacheConfig {
        storage: StorageKind::Memory,
        flush_interval: std::time::Duration::from_secs(7),
        ..CacheConfig::default()
    }
    .with_bind("b", BindCacheConfig::enabled());
    let cache = RetryCache::open(cfg, Arc::new(MemoryStore::new()), Arc::new(clock))
        .await
        .unwrap();
    let t0 = tokio::time::Instant::now();
    let attempts = Arc::new(std::sync::Mutex::new(Vec::<u128>::new()));
    let deliver: Arc<dyn Deliver> = {
        let attempts = attempts.clone();
        Arc::new(move |items: Vec<Item>| {
            let n = {
                let mut a = attempts.lock().unwrap();
                a.push(t0.elapsed().as_millis());
                a.len()
            };
            async move {
                items
                    .iter()
                    .map(|_| {
                        if n < 4 {
                            Err(DeliveryError::Retryable("core unreachable".into()))
                        } else {
                            Ok(())
                        }
                    })
                    .collect()
            }
        })
    };
    cache
        .put("b", BindMode::Server, msg("b", "M1"))
        .await
        .unwrap();
    let worker = cache.spawn_worker(deliver);
    while cache.count("b") > 0 {
        tokio::time::sleep(std::time::Duration::from_secs(1)).await;
        assert!(
            t0.elapsed() < std::time::Duration::from_secs(3600),
            "never delivered: {:?}",
            attempts.lock().unwrap()
        );
    }
    worker.shutdown().await;
    assert_eq!(*attempts.lock().unwrap(), [0, 60_000, 180_000, 420_000]);
}

/// At most `max_concurrent_deliveries` calls at once over all binds, and one per bind.
#[tokio::test(start_paused = true)]
async fn the_worker_bounds_concurrent_calls() {
    let cfg = ["a", "b", "c", "d"].iter().fold(
        CacheConfig {
            storage: StorageKind::Memory,
            batch_size: 2,
            max_concurrent_deliveries: 2,
            ..CacheConfig::default()
        },
        |c, b| c.with_bind(*b, BindCacheConfig::enabled()),
    );
    let cache = RetryCache::open(
        cfg,
        Arc::new(MemoryStore::new()),
        Arc::new(TokioClock::new()),
    )
    .await
    .unwrap();
    for b in ["a", "b", "c", "d"] {
        for i in 0..6 {
            cache
                .put(b, BindMode::Server, msg(b, &format!("{b}{i}")))
                .await
                .unwrap();
        }
    }
    let in_flight = Arc::new(std::sync::Mutex::new((
        0usize,
        0usize,
        std::collections::HashMap::<String, usize>::new(),
    )));
    let deliver: Arc<dyn Deliver> = {
        let in_flight = in_flight.clone();
        Arc::new(move |items: Vec<Item>| {
            let bind = match &items[0] {
                Item::Message(m) => m.bind_name.clone(),
                Item::Event(e) => e.bind_name.clone(),
            };
            {
                let mut g = in_flight.lock().unwrap();
                g.0 += 1;
                g.1 = g.1.max(g.0);
                let per = g.2.entry(bind.clone()).or_default();
                *per += 1;
                assert_eq!(*per, 1, "two calls at once for bind {bind}");
            }
            let in_flight = in_flight.clone();
            async move {
                tokio::time::sleep(std::time::Duration::from_millis(100)).await;
                let mut g = in_flight.lock().unwrap();
                g.0 -= 1;
                *g.2.get_mut(&bind).unwrap() -= 1;
                items.iter().map(|_| Ok(())).collect()
            }
        })
    };
    let worker = cache.spawn_worker(deliver);
    let t0 = tokio::time::Instant::now();
    while cache.summary().total > 0 {
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        assert!(
            t0.elapsed() < std::time::Duration::from_secs(60),
            "not delivered"
        );
    }
    worker.shutdown().await;
    assert_eq!(
        in_flight.lock().unwrap().1,
        2,
        "the limit of 2 calls at once was reached, never passed"
    );
}
