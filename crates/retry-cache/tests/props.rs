//! Random sequences of put / take / settle (ack, retryable, permanent) / time / restart /
//! manual retry / delete, compared with a plain in-memory model, for both stores.

mod common;

use std::sync::Arc;

use common::{msg, runtime, TempDir};
use core_bridge::api::BindMode;
use proptest::prelude::*;
use retry_cache::*;

const BINDS: [&str; 2] = ["alpha", "beta"];
const MAX_SIZE: usize = 5;
const MAX_RETRIES: u32 = 2;
const INTERVAL_MS: u64 = 60_000;

#[derive(Clone, Debug)]
enum Step {
    Put(usize),
    Take(usize, usize),
    /// Settle every delivering entry of a bind; outcome i of the list for entry i (cycled):
    /// 0 ack, 1 retryable, 2 permanent.
    Settle(usize, Vec<u8>),
    Advance(u64),
    Restart,
    RetryAll(usize),
    DeleteFailed(usize),
}

fn step() -> impl Strategy<Value = Step> {
    prop_oneof![
        4 => (0..2usize).prop_map(Step::Put),
        3 => (0..2usize, 1..4usize).prop_map(|(b, n)| Step::Take(b, n)),
        3 => (0..2usize, prop::collection::vec(0..3u8, 1..4)).prop_map(|(b, o)| Step::Settle(b, o)),
        2 => prop_oneof![Just(0u64), Just(59_999), Just(60_000), Just(120_000), 0..300_000u64].prop_map(Step::Advance),
        1 => Just(Step::Restart),
        1 => (0..2usize).prop_map(Step::RetryAll),
        1 => (0..2usize).prop_map(Step::DeleteFailed),
    ]
}

#[derive(Clone, Debug, PartialEq)]
struct M {
    id: String,
    status: Status,
    retry_count: u32,
    next: u64,
}

#[derive(Default)]
struct Model {
    binds: [Vec<M>; 2],
    counter: usize,
}

impl Model {
    fn put(&mut self, b: usize, now: u64) -> String {
        self.counter += 1;
        let id = format!("{}-{:05}", BINDS[b], self.counter);
        let q = &mut self.binds[b];
        while q.len() >= MAX_SIZE {
            q.remove(0);
        }
        q.push(M {
            id: id.clone(),
            status: Status::Pending,
            retry_count: 0,
            next: now,
        });
        id
    }

    fn take(&mut self, b: usize, now: u64, limit: usize) -> Vec<String> {
        let mut out = Vec::new();
        for e in &mut self.binds[b] {
            if out.len() >= limit {
                break;
            }
            match e.status {
                Status::FailedPermanent => continue,
                Status::Delivering => break,
                Status::Pending if e.next > now => break,
                Status::Pending => {
                    e.status = Status::Delivering;
                    out.push(e.id.clone());
                }
            }
        }
        out
    }

    fn settle(&mut self, b: usize, outcomes: &[u8], now: u64) {
        let mut i = 0;
        self.binds[b].retain_mut(|e| {
            if e.status != Status::Delivering {
                return true;
            }
            let o = outcomes[i % outcomes.len()];
            i += 1;
            match o {
                0 => return false,
                1 if e.retry_count < MAX_RETRIES => {
                    e.next = now + INTERVAL_MS * 2u64.pow(e.retry_count);
                    e.retry_count += 1;
                    e.status = Status::Pending;
                }
                _ => e.status = Status::FailedPermanent,
            }
            true
        });
    }
}

fn outcome(o: u8) -> DeliveryResult {
    match o {
        0 => Ok(()),
        1 => Err(DeliveryError::Retryable("down".into())),
        _ => Err(DeliveryError::Permanent("refused".into())),
    }
}

fn config() -> CacheConfig {
    let b = BindCacheConfig {
        enabled: true,
        max_size: MAX_SIZE,
        retry_interval: std::time::Duration::from_millis(INTERVAL_MS),
        mode: None,
    };
    CacheConfig {
        max_retry_attempts: MAX_RETRIES,
        ..CacheConfig::default()
    }
    .with_bind(BINDS[0], b.clone())
    .with_bind(BINDS[1], b)
}

/// How a test opens (and reopens) the store.
type Opener = dyn Fn() -> Arc<dyn CacheStore>;

fn run(steps: Vec<Step>, opener: &Opener) -> Result<(), TestCaseError> {
    runtime().block_on(async {
        let clock = ManualClock::new(1_000_000);
        let mut cache = Some(
            RetryCache::open(config(), opener(), Arc::new(clock.clone()))
                .await
                .unwrap(),
        );
        let mut model = Model::default();
        for s in steps {
            let c = cache.as_ref().unwrap();
            let now = clock.now_ms();
            match &s {
                Step::Put(b) => {
                    let id = model.put(*b, now);
                    c.put(BINDS[*b], BindMode::Server, msg(BINDS[*b], &id))
                        .await
                        .unwrap();
                }
                Step::Take(b, n) => {
                    let got: Vec<String> = c
                        .take_due(BINDS[*b], now, *n)
                        .into_iter()
                        .map(|e| e.id)
                        .collect();
                    prop_assert_eq!(got, model.take(*b, now, *n));
                }
                Step::Settle(b, os) => {
                    let delivering = c.list(BINDS[*b], Some(Status::Delivering));
                    let outcomes = delivering
                        .iter()
                        .enumerate()
                        .map(|(i, e)| (e.seq, outcome(os[i % os.len()])))
                        .collect();
                    c.settle(BINDS[*b], outcomes, now);
                    model.settle(*b, os, now);
                }
                Step::Advance(ms) => clock.advance(*ms),
                Step::Restart => {
                    drop(cache.take());
                    for q in &mut model.binds {
                        for e in q.iter_mut().filter(|e| e.status == Status::Delivering) {
                            e.status = Status::Pending;
                        }
                    }
                    cache = Some(
                        RetryCache::open(config(), opener(), Arc::new(clock.clone()))
                            .await
                            .unwrap(),
                    );
                }
                Step::RetryAll(b) => {
                    let n = c.retry_all_failed(BINDS[*b]).await.unwrap();
                    let mut m = 0;
                    for e in model.binds[*b]
                        .iter_mut()
                        .filter(|e| e.status == Status::FailedPermanent)
                    {
                        *e = M {
                            id: e.id.clone(),
                            status: Status::Pending,
                            retry_count: 0,
                            next: now,
                        };
                        m += 1;
                    }
                    prop_assert_eq!(n, m);
                }
                Step::DeleteFailed(b) => {
                    let n = c.delete_all_failed(BINDS[*b]).await.unwrap();
                    let before = model.binds[*b].len();
                    model.binds[*b].retain(|e| e.status != Status::FailedPermanent);
                    prop_assert_eq!(n, before - model.binds[*b].len());
                }
            }
            let c = cache.as_ref().unwrap();
            for (i, bind) in BINDS.iter().enumerate() {
                let got: Vec<M> = c
                    .list(bind, None)
                    .into_iter()
                    .map(|e| M {
                        id: e.id,
                        status: e.status,
                        retry_count: e.retry_count,
                        next: e.next_retry_at_ms,
                    })
                    .collect();
                prop_assert_eq!(&got, &model.binds[i], "after {:?}", s);
            }
            let total: usize = model.binds.iter().map(Vec::len).sum();
            prop_assert_eq!(c.summary().total, total);
        }
        Ok(())
    })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 128, ..ProptestConfig::default() })]

    #[test]
    fn memory_store_matches_the_model(steps in prop::collection::vec(step(), 1..60)) {
        let store = MemoryStore::new();
        run(steps, &move || Arc::new(store.clone()) as Arc<dyn CacheStore>)?;
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 24, ..ProptestConfig::default() })]

    #[test]
    fn sled_store_matches_the_model(steps in prop::collection::vec(step(), 1..40)) {
        let dir = TempDir::new("prop");
        let path = dir.path().to_path_buf();
        run(steps, &move || Arc::new(SledStore::open(&path).unwrap()) as Arc<dyn CacheStore>)?;
    }
}
