//! The flush worker: hands due entries to the core, oldest first, with the seed's schedule
//! (seed 002, "Cache de Messages SMPP" → "CacheFlushWorker", "Comportement de Réessai").
//!
//! Each cycle (every `flush_interval`, and at once when woken by a put or a manual retry):
//! for every bind with due entries, take up to `batch_size` (100) of them oldest first, mark them
//! `delivering`, call the [`Deliver`] function once with the batch, and [`settle`] the outcomes;
//! go on with the next batch of that bind while the previous one was fully delivered (at most
//! `max_batches_per_cycle`). One call per bind is in flight at a time (order is kept); at most
//! `max_concurrent_deliveries` (10) calls across binds.
//!
//! [`settle`]: RetryCache::settle

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

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
                    async move { c.post_messages(m).await.map(|a| a.accepted.into_iter().map(|a| a.id).collect()) }
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
pub async fn deliver_via<PM, FM, PE, FE>(items: Vec<Item>, post_messages: PM, post_events: PE) -> Vec<DeliveryResult>
where
    PM: Fn(Vec<InboundMessage>) -> FM,
    FM: Future<Output = Result<Vec<String>, CoreError>>,
    PE: Fn(Vec<Event>) -> FE,
    FE: Future<Output = Result<(), CoreError>>,
{
    let mut results: Vec<DeliveryResult> = vec![Err(DeliveryError::Retryable("not attempted".into())); items.len()];
    let mut msgs = Vec::new();
    let mut evts = Vec::new();
    for (i, it) in items.into_iter().enumerate() {
        match it {
            Item::Message(m) => msgs.push((i, m)),
            Item::Event(e) => evts.push((i, e)),
        }
    }
    let listed = |ids: &[String], m: &InboundMessage| -> DeliveryResult {
        if ids.iter().any(|id| *id == m.id) {
            Ok(())
        } else {
            Err(DeliveryError::Retryable(format!("core answer does not list message {}", m.id)))
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
                    results[*i] = post_events(vec![ev.clone()]).await.map_err(|e| classify(&e));
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
    /// Start the flush worker on the current tokio runtime: one cycle at once (recovery after a
    /// restart), then one every `flush_interval` (read again each time) or when woken
    /// ([`wake`](Self::wake), each put when `wake_on_put`). Sleeps use tokio time, so
    /// `tokio::time::pause` drives it in tests.
    pub fn spawn_worker(&self, deliver: Arc<dyn Deliver>) -> WorkerHandle {
        let (stop, mut stopped) = watch::channel(false);
        let cache = self.clone();
        let task = tokio::spawn(async move {
            loop {
                let r = cache.flush_once(&deliver).await;
                if r.batches > 0 {
                    tracing::debug!(batches = r.batches, delivered = r.outcome.delivered, retried = r.outcome.retried,
                        failed_permanent = r.outcome.failed_permanent, "retry cache: flush cycle");
                }
                let interval = cache.config().flush_interval;
                tokio::select! {
                    _ = tokio::time::sleep(interval) => {}
                    _ = cache.inner.wake.notified() => {}
                    _ = stopped.changed() => break,
                }
            }
        });
        WorkerHandle { stop, task }
    }

    /// One flush cycle over every bind, at the cache clock's time. See the module doc.
    pub async fn flush_once(&self, deliver: &Arc<dyn Deliver>) -> FlushReport {
        let cfg = self.config();
        let calls = Arc::new(Semaphore::new(cfg.max_concurrent_deliveries.max(1)));
        let mut tasks = JoinSet::new();
        for bind in self.binds() {
            let (cache, deliver, calls, cfg) = (self.clone(), deliver.clone(), calls.clone(), cfg.clone());
            tasks.spawn(async move {
                let mut report = FlushReport::default();
                for _ in 0..cfg.max_batches_per_cycle {
                    let Ok(_permit) = calls.acquire().await else { break };
                    let batch = match cache.take_due(&bind, cache.now_ms(), cfg.batch_size) {
                        Ok(b) if b.is_empty() => break,
                        Ok(b) => b,
                        Err(e) => {
                            tracing::error!(bind = %bind, error = %e, "retry cache: cannot take due entries");
                            break;
                        }
                    };
                    let seqs: Vec<u64> = batch.iter().map(|e| e.seq).collect();
                    let mut results = deliver.deliver(batch.into_iter().map(|e| e.item).collect()).await.into_iter();
                    report.batches += 1;
                    let outcomes = seqs
                        .into_iter()
                        .map(|s| (s, results.next().unwrap_or(Err(DeliveryError::Retryable("no result from delivery".into())))))
                        .collect();
                    match cache.settle(&bind, outcomes, cache.now_ms()) {
                        Ok(r) => {
                            report.outcome.add(&r);
                            if r.any_failure() {
                                break;
                            }
                        }
                        Err(e) => {
                            tracing::error!(bind = %bind, error = %e, "retry cache: cannot record delivery outcomes");
                            break;
                        }
                    }
                }
                report
            });
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
            // Only the worker delivers, and every task has ended: what is still `delivering`
            // belonged to the failed task.
            if let Err(e) = self.requeue_delivering() {
                tracing::error!(error = %e, "retry cache: cannot requeue entries");
            }
        }
        total
    }
}
