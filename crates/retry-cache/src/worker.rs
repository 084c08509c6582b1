//! The flush worker: hands due entries to the core, oldest first, with the seed's schedule
//! (seed 002, "Cache de Messages SMPP" → "CacheFlushWorker", "Comportement de Réessai").
//!
//! One loop per bind (the seed's "GenServer par bind"). Each cycle (when the bind's oldest
//! entry is due, at most every `flush_interval`, and at once when woken by a put or a manual
//! retry): take up to `batch_size` (100) due entries oldest first, mark them `delivering`, call
//! the [`Deliver`] function once with the batch, and [`settle`] the outcomes; go on with the
//! next batch while the previous one was fully delivered (at most `max_batches_per_cycle`).
//! One call per bind is in flight at a time (order is kept); at most
//! `max_concurrent_deliveries` (10) calls across binds.
//!
//! [`settle`]: RetryCache::settle

use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use core_bridge::api::{Event, InboundMessage};
use core_bridge::{CoreClient, CoreError};
use serde::Serialize;
use tokio::sync::{watch, Semaphore};
use tokio::task::JoinSet;

use crate::cache::{RetryCache, SettleReport};
use crate::entry::Item;

/// Why one item was not delivered.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum DeliveryError {
    /// Try again later (core unreachable, timeout, 5xx, 408, 429): back to `pending` with backoff.
    #[error("retryable: {0}")]
    Retryable(String),
    /// Trying again cannot help (the core refused this item, 4xx): `failed_permanent` at once.
    #[error("permanent: {0}")]
    Permanent(String),
}

/// The outcome of delivering one item.
pub type DeliveryResult = Result<(), DeliveryError>;

/// What a [`Deliver`] call returns: one result per item, in the order of the items.
pub type DeliverFuture = Pin<Box<dyn Future<Output = Vec<DeliveryResult>> + Send + 'static>>;

/// The delivery function the worker calls with a batch of items of one bind, oldest first.
///
/// It must return one result per item, in order; a missing result counts as retryable. Any
/// `Fn(Vec<Item>) -> impl Future<Output = Vec<DeliveryResult>>` closure is a `Deliver`;
/// [`CoreDelivery`] is the one that calls the messaging core.
pub trait Deliver: Send + Sync + 'static {
    /// Deliver `items`.
    fn deliver(&self, items: Vec<Item>) -> DeliverFuture;
}

impl<F, Fut> Deliver for F
where
    F: Fn(Vec<Item>) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Vec<DeliveryResult>> + Send + 'static,
{
    fn deliver(&self, items: Vec<Item>) -> DeliverFuture {
        Box::pin(self(items))
    }
}

/// Delivery to the messaging core: messages with `POST /api/v1/messages`
/// ([`CoreClient::post_messages`]), events with `POST /api/v1/events`
/// ([`CoreClient::post_events`]), one call for each kind present in the batch, each kind in
/// order.
///
/// A message counts as delivered when the answer lists its id (stored or duplicate: the id is
/// the idempotency key). A retryable [`CoreError`] (`is_retryable`) fails the whole call as
/// [`DeliveryError::Retryable`]. A non-retryable error (a 4xx) on a call of several items is
/// retried item by item, so that one bad item does not condemn the others; on one item it is
/// [`DeliveryError::Permanent`].
#[derive(Clone, Debug)]
pub struct CoreDelivery {
    client: CoreClient,
}

impl CoreDelivery {
    /// Deliver through `client`.
    pub fn new(client: CoreClient) -> Self {
        CoreDelivery { client }
    }
}

impl Deliver for CoreDelivery {
    fn deliver(&self, items: Vec<Item>) -> DeliverFuture {
        let c = self.client.clone();
        let c2 = self.client.clone();
        Box::pin(async move {
            deliver_via(
                items,
                move |m| {
                    let c = c.clone();
                    async move {
                        c.post_messages(m)
                            .await
                            .map(|a| a.accepted.into_iter().map(|a| a.id).collect())
                    }
                },
                move |e| {
                    let c = c2.clone();
                    async move { c.post_events(e).await.map(|_| ()) }
                },
            )
            .await
        })
    }
}

fn classify(e: &CoreError) -> DeliveryError {
    if e.is_retryable() {
        DeliveryError::Retryable(e.to_string())
    } else {
        DeliveryError::Permanent(e.to_string())
    }
}

/// The logic of [`CoreDelivery`] over any two calls: `post_messages` answers the ids it
/// accepted; `post_events` answers success or failure. Public so that the gateway can wrap its
/// own calls (with timing metrics) and keep these semantics.
pub async fn deliver_via<PM, FM, PE, FE>(
    items: Vec<Item>,
    post_messages: PM,
    post_events: PE,
) -> Vec<DeliveryResult>
where
    PM: Fn(Vec<InboundMessage>) -> FM,
    FM: Future<Output = Result<Vec<String>, CoreError>>,
    PE: Fn(Vec<Event>) -> FE,
    FE: Future<Output = Result<(), CoreError>>,
{
    let mut results: Vec<DeliveryResult> =
        vec![Err(DeliveryError::Retryable("not attempted".into())); items.len()];
    let mut msgs = Vec::new();
    let mut evts = Vec::new();
    for (i, it) in items.into_iter().enumerate() {
        match it {
            Item::Message(m) => msgs.push((i, m)),
            Item::Event(e) => evts.push((i, e)),
        }
    }
    let listed = |ids: &[String], m: &InboundMessage| -> DeliveryResult {
        if ids.contains(&m.id) {
            Ok(())
        } else {
            Err(DeliveryError::Retryable(format!(
                "core answer does not list message {}",
                m.id
            )))
        }
    };
    if !msgs.is_empty() {
        match post_messages(msgs.iter().map(|(_, m)| m.clone()).collect()).await {
            Ok(ids) => {
                for (i, m) in &msgs {
                    results[*i] = listed(&ids, m);
                }
            }
            Err(e) if e.is_retryable() || msgs.len() == 1 => {
                for (i, _) in &msgs {
                    results[*i] = Err(classify(&e));
                }
            }
            Err(_) => {
                for (i, m) in &msgs {
                    results[*i] = match post_messages(vec![m.clone()]).await {
                        Ok(ids) => listed(&ids, m),
                        Err(e) => Err(classify(&e)),
                    };
                }
            }
        }
    }
    if !evts.is_empty() {
        match post_events(evts.iter().map(|(_, e)| e.clone()).collect()).await {
            Ok(()) => {
                for (i, _) in &evts {
                    results[*i] = Ok(());
                }
            }
            Err(e) if e.is_retryable() || evts.len() == 1 => {
                for (i, _) in &evts {
                    results[*i] = Err(classify(&e));
                }
            }
            Err(_) => {
                for (i, ev) in &evts {
                    results[*i] = post_events(vec![ev.clone()])
                        .await
                        .map_err(|e| classify(&e));
                }
            }
        }
    }
    results
}

/// What one flush cycle did.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct FlushReport {
    /// Delivery calls made.
    pub batches: usize,
    /// Entries delivered, retried later, and failed for good.
    pub outcome: SettleReport,
}

/// A running flush worker. Dropping the handle leaves the worker running; call
/// [`shutdown`](Self::shutdown) to stop it.
#[derive(Debug)]
pub struct WorkerHandle {
    stop: watch::Sender<bool>,
    task: tokio::task::JoinHandle<()>,
}

impl WorkerHandle {
    /// Stop the worker after its current cycle and wait for it.
    pub async fn shutdown(self) {
        let _ = self.stop.send(true);
        let _ = self.task.await;
    }
}

impl RetryCache {
    /// Start the flush worker on the current tokio runtime: one loop per bind (every bind that
    /// holds entries or has the cache enabled; a bind that gets its first entry gets its loop at
    /// once). A bind's loop delivers what is due at once (recovery after a restart), then sleeps
    /// until its oldest entry is due, at most `flush_interval` (read again each time), or until
    /// woken ([`wake_bind`](Self::wake_bind), each put when `wake_on_put`, a manual retry).
    /// At most `max_concurrent_deliveries` calls are in flight across binds. While the store is
    /// out of order the worker tries to [`repair`](Self::repair) it every `flush_interval`.
    /// A loop whose delivery panicked is restarted, its `delivering` entries `pending` again.
    ///
    /// Sleeps use tokio time, so `tokio::time::pause` drives it in tests (with a
    /// [`TokioClock`](crate::TokioClock)).
    pub fn spawn_worker(&self, deliver: Arc<dyn Deliver>) -> WorkerHandle {
        let (stop, stopped) = watch::channel(false);
        let task = tokio::spawn(self.clone().supervise(deliver, stopped));
        WorkerHandle { stop, task }
    }

    /// Every bind that holds entries or has the cache enabled, in name order.
    fn worker_binds(&self) -> Vec<String> {
        let mut names: std::collections::BTreeSet<String> = self.binds().into_iter().collect();
        names.extend(
            self.config()
                .binds
                .into_iter()
                .filter(|(_, c)| c.enabled)
                .map(|(n, _)| n),
        );
        names.into_iter().collect()
    }

    async fn supervise(self, deliver: Arc<dyn Deliver>, mut stopped: watch::Receiver<bool>) {
        let calls = Arc::new(Semaphore::new(
            self.config().max_concurrent_deliveries.max(1),
        ));
        let mut loops: JoinSet<()> = JoinSet::new();
        let mut by_task: HashMap<tokio::task::Id, String> = HashMap::new();
        loop {
            for bind in self.worker_binds() {
                if !by_task.values().any(|b| *b == bind) {
                    let task = loops.spawn(self.clone().bind_loop(
                        bind.clone(),
                        deliver.clone(),
                        calls.clone(),
                        stopped.clone(),
                    ));
                    by_task.insert(task.id(), bind);
                }
            }
            if self.storage_error().is_some() {
                if let Err(e) = self.repair().await {
                    tracing::warn!(error = %e, "retry cache: store still out of order; new messages are refused with a temporary status");
                }
            }
            let interval = self.config().flush_interval;
            tokio::select! {
                _ = tokio::time::sleep(interval) => {}
                _ = self.inner.binds_changed.notified() => {}
                Some(ended) = loops.join_next_with_id() => {
                    let id = match &ended { Ok((id, ())) => *id, Err(e) => e.id() };
                    let bind = by_task.remove(&id).unwrap_or_default();
                    if let Err(e) = ended {
                        tracing::error!(bind = %bind, error = %e, "retry cache: the flush loop of {bind} failed; restarting it");
                        self.requeue_delivering(Some(&bind));
                    }
                }
                _ = stopped.changed() => break,
            }
        }
        while loops.join_next().await.is_some() {}
    }

    async fn bind_loop(
        self,
        bind: String,
        deliver: Arc<dyn Deliver>,
        calls: Arc<Semaphore>,
        mut stopped: watch::Receiver<bool>,
    ) {
        let wake = self.bind_wake(&bind);
        loop {
            if *stopped.borrow() {
                return;
            }
            let r = self.flush_bind(&bind, &deliver, &calls).await;
            if r.batches > 0 {
                tracing::debug!(bind = %bind, batches = r.batches, delivered = r.outcome.delivered, retried = r.outcome.retried,
                    failed_permanent = r.outcome.failed_permanent, "retry cache: flush cycle");
            }
            let interval = self.config().flush_interval;
            let wait = match self.next_due_ms(&bind) {
                Some(due) => Duration::from_millis(due.saturating_sub(self.now_ms())).min(interval),
                None => interval,
            };
            tokio::select! {
                _ = tokio::time::sleep(wait) => {}
                _ = wake.notified() => {}
                _ = stopped.changed() => return,
            }
        }
    }

    /// One flush cycle of one bind at the cache clock's time: batches of up to `batch_size`
    /// due entries, oldest first, one call at a time (each holding one of `calls`), while each
    /// batch is fully delivered, at most `max_batches_per_cycle`.
    pub async fn flush_bind(
        &self,
        bind: &str,
        deliver: &Arc<dyn Deliver>,
        calls: &Arc<Semaphore>,
    ) -> FlushReport {
        let cfg = self.config();
        let mut report = FlushReport::default();
        for _ in 0..cfg.max_batches_per_cycle {
            let Ok(_permit) = calls.acquire().await else {
                break;
            };
            let batch = self.take_due(bind, self.now_ms(), cfg.batch_size);
            if batch.is_empty() {
                break;
            }
            let seqs: Vec<u64> = batch.iter().map(|e| e.seq).collect();
            let mut results = deliver
                .deliver(batch.into_iter().map(|e| e.item).collect())
                .await
                .into_iter();
            report.batches += 1;
            let outcomes = seqs
                .into_iter()
                .map(|s| {
                    (
                        s,
                        results.next().unwrap_or(Err(DeliveryError::Retryable(
                            "no result from delivery".into(),
                        ))),
                    )
                })
                .collect();
            let r = self.settle(bind, outcomes, self.now_ms());
            report.outcome.add(&r);
            if r.any_failure() {
                break;
            }
        }
        report
    }

    /// One flush cycle over every bind that holds entries, at the cache clock's time (what the
    /// worker's loops do, all at once; for tests and tools). See [`flush_bind`](Self::flush_bind).
    pub async fn flush_once(&self, deliver: &Arc<dyn Deliver>) -> FlushReport {
        let calls = Arc::new(Semaphore::new(
            self.config().max_concurrent_deliveries.max(1),
        ));
        let mut tasks = JoinSet::new();
        for bind in self.binds() {
            let (cache, deliver, calls) = (self.clone(), deliver.clone(), calls.clone());
            tasks.spawn(async move { cache.flush_bind(&bind, &deliver, &calls).await });
        }
        let mut total = FlushReport::default();
        let mut panicked = false;
        while let Some(r) = tasks.join_next().await {
            match r {
                Ok(r) => {
                    total.batches += r.batches;
                    total.outcome.add(&r.outcome);
                }
                Err(e) => {
                    tracing::error!(error = %e, "retry cache: a delivery task failed");
                    panicked = true;
                }
            }
        }
        if panicked {
            // Every task has ended: what is still `delivering` belonged to the failed one.
            self.requeue_delivering(None);
        }
        total
    }
}
