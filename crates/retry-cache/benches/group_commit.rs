//! Benchmark (not a test): durable puts per second into a disk cache (`SledStore`) by the
//! number of puts waiting at once, and how many puts share one flush (group commit).
//!
//! `cargo bench -p retry-cache --bench group_commit [-- SECONDS]` (default 5 s per level). Each
//! level opens a fresh store in the system temp dir; a put returns only once flushed.

use std::sync::Arc;
use std::time::{Duration, Instant};

use core_bridge::api::{Address, Base64Bytes, BindMode, Direction, InboundMessage};
use retry_cache::{BindCacheConfig, CacheConfig, Item, RetryCache, SledStore, SystemClock};

fn msg(id: String) -> Item {
    let text = "bench message 00000001";
    Item::Message(InboundMessage {
        id,
        direction: Direction::Mt,
        bind_name: "b".into(),
        bind_mode: BindMode::Server,
        system_id: "partner".into(),
        frontend: "host_b".into(),
        service_type: String::new(),
        source: Address {
            addr: "33600000001".into(),
            ton: 1,
            npi: 1,
        },
        destination: Address {
            addr: "33700000001".into(),
            ton: 1,
            npi: 1,
        },
        esm_class: 0,
        protocol_id: 0,
        priority_flag: 0,
        schedule_delivery_time: String::new(),
        validity_period: String::new(),
        registered_delivery: 0,
        data_coding: 0,
        text: Some(text.into()),
        payload: Base64Bytes(text.as_bytes().to_vec()),
        tlvs: vec![],
        receipt: None,
        segment: None,
        received_at_ms: 1,
    })
}

async fn level(concurrency: usize, seconds: u64) -> (f64, f64) {
    let dir = std::env::temp_dir().join(format!(
        "retry-cache-bench-{}-{concurrency}",
        std::process::id()
    ));
    let _ = std::fs::remove_dir_all(&dir);
    let cfg = CacheConfig::default().with_bind(
        "b",
        BindCacheConfig {
            max_size: 10_000_000,
            ..BindCacheConfig::enabled()
        },
    );
    let cache = RetryCache::open(
        cfg,
        Arc::new(SledStore::open(&dir).expect("open")),
        Arc::new(SystemClock),
    )
    .await
    .expect("cache");
    let flushes = cache.flush_count();
    let t0 = Instant::now();
    let tasks: Vec<_> = (0..concurrency)
        .map(|t| {
            let c = cache.clone();
            tokio::spawn(async move {
                let mut n = 0u64;
                while t0.elapsed() < Duration::from_secs(seconds) {
                    c.put("b", BindMode::Server, msg(format!("{t}-{n}")))
                        .await
                        .expect("put");
                    n += 1;
                }
                n
            })
        })
        .collect();
    let mut puts = 0;
    for t in tasks {
        puts += t.await.expect("task");
    }
    let elapsed = t0.elapsed().as_secs_f64();
    let per_flush = puts as f64 / (cache.flush_count() - flushes).max(1) as f64;
    drop(cache);
    let _ = std::fs::remove_dir_all(&dir);
    (puts as f64 / elapsed, per_flush)
}

#[tokio::main]
async fn main() {
    let seconds = std::env::args()
        .skip(1)
        .find_map(|a| a.parse().ok())
        .unwrap_or(5);
    println!("| puts waiting at once | durable puts/s | vs. 1 at a time | puts per flush |");
    println!("| ---: | ---: | ---: | ---: |");
    let mut reference = None;
    for c in [1, 10, 100, 400] {
        let (rate, per_flush) = level(c, seconds).await;
        let r = *reference.get_or_insert(rate);
        println!("| {c} | {rate:.0} | {:.1} | {per_flush:.1} |", rate / r);
    }
}
