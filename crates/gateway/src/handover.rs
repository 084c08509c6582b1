//! Hand-over of received messages to the core, and the events the gateway owes it.
//!
//! [`Handover`] coalesces concurrent hand-overs into one `POST /api/v1/messages` (up to
//! `MAX_BATCH` messages), the way a database groups commits: while one call is in flight the
//! next messages queue up and leave together, so HTTP's per-request cost is shared under load
//! while a lone message still leaves at once. Each caller waits for its own message's answer,
//! so a partner is acked only after the core has the message.
//!
//! [`EventSink`] sends events in batches and retries them with backoff while the core is
//! unreachable, in order.

use std::time::{Duration, Instant};

use core_bridge::api::{AcceptStatus, Event, InboundMessage};
use core_bridge::{CoreClient, CoreError};
use tokio::sync::{mpsc, oneshot, Semaphore};
use std::sync::Arc;

use crate::telemetry;

/// Most messages in one hand-over call.
pub const MAX_BATCH: usize = 100;
/// Most hand-over calls in flight at once.
pub const MAX_CONCURRENT_CALLS: usize = 8;

type Waiter = (InboundMessage, oneshot::Sender<Result<AcceptStatus, CoreError>>);

/// Coalescing hand-over of inbound messages. Cheap to clone.
#[derive(Clone, Debug)]
pub struct Handover {
    tx: mpsc::Sender<Waiter>,
}

impl Handover {
    /// Start the dispatcher on the current runtime.
    pub fn start(core: CoreClient) -> Self {
        let (tx, rx) = mpsc::channel(MAX_BATCH * MAX_CONCURRENT_CALLS * 4);
        tokio::spawn(dispatch(core, rx));
        Handover { tx }
    }

    /// Hand `msg` to the core and wait for its answer (stored or duplicate).
    pub async fn hand_over(&self, msg: InboundMessage) -> Result<AcceptStatus, CoreError> {
        let (tx, rx) = oneshot::channel();
        let unavailable = || CoreError::Unreachable { url: "(hand-over)".into(), reason: "gateway shutting down".into() };
        self.tx.send((msg, tx)).await.map_err(|_| unavailable())?;
        rx.await.unwrap_or_else(|_| Err(unavailable()))
    }
}

async fn dispatch(core: CoreClient, mut rx: mpsc::Receiver<Waiter>) {
    let calls = Arc::new(Semaphore::new(MAX_CONCURRENT_CALLS));
    while let Some(first) = rx.recv().await {
        // Wait for a free call slot first: while we wait, more messages gather in the channel.
        let Ok(permit) = calls.clone().acquire_owned().await else { return };
        let mut batch = vec![first];
        while batch.len() < MAX_BATCH {
            match rx.try_recv() {
                Ok(w) => batch.push(w),
                Err(_) => break,
            }
        }
        let core = core.clone();
        tokio::spawn(async move {
            let (msgs, waiters): (Vec<_>, Vec<_>) = batch.into_iter().unzip();
            let ids: Vec<String> = msgs.iter().map(|m| m.id.clone()).collect();
            let t0 = Instant::now();
            let res = core.post_messages(msgs).await;
            telemetry::core_call("post_messages", t0.elapsed().as_secs_f64(), &res);
            match res {
                Ok(ans) => {
                    for (id, w) in ids.iter().zip(waiters) {
                        let status = ans.accepted.iter().find(|a| &a.id == id).map(|a| a.status);
                        let _ = w.send(status.ok_or_else(|| CoreError::Decode {
                            url: core.base_url().to_string(),
                            reason: format!("answer does not list message {id}"),
                        }));
                    }
                }
                Err(e) => {
                    tracing::warn!(error = %e, count = ids.len(), "hand-over to the core failed");
                    for w in waiters {
                        let _ = w.send(Err(clone_error(&e)));
                    }
                }
            }
            drop(permit);
        });
    }
}

fn clone_error(e: &CoreError) -> CoreError {
    match e {
        CoreError::Unreachable { url, reason } => CoreError::Unreachable { url: url.clone(), reason: reason.clone() },
        CoreError::Status { url, status, body } => CoreError::Status { url: url.clone(), status: *status, body: body.clone() },
        CoreError::Decode { url, reason } => CoreError::Decode { url: url.clone(), reason: reason.clone() },
    }
}

/// Batched, retried delivery of events to the core. Cheap to clone.
#[derive(Clone, Debug)]
pub struct EventSink {
    tx: mpsc::UnboundedSender<Event>,
}

impl EventSink {
    /// Start the sender on the current runtime.
    pub fn start(core: CoreClient) -> Self {
        let (tx, rx) = mpsc::unbounded_channel();
        tokio::spawn(send_events(core, rx));
        EventSink { tx }
    }

    /// Queue an event; it is sent as soon as possible, in order, retried while the core is down.
    pub fn report(&self, event: Event) {
        if self.tx.send(event).is_err() {
            tracing::error!("event sender stopped; event lost");
        }
    }
}

async fn send_events(core: CoreClient, mut rx: mpsc::UnboundedReceiver<Event>) {
    while let Some(first) = rx.recv().await {
        let mut batch = vec![first];
        while batch.len() < 500 {
            match rx.try_recv() {
                Ok(e) => batch.push(e),
                Err(_) => break,
            }
        }
        let mut delay = Duration::from_millis(200);
        loop {
            let t0 = Instant::now();
            let res = core.post_events(batch.clone()).await;
            telemetry::core_call("post_events", t0.elapsed().as_secs_f64(), &res);
            match res {
                Ok(_) => break,
                Err(e) if e.is_retryable() => {
                    tracing::warn!(error = %e, count = batch.len(), "events not delivered to the core; retrying in {:?}", delay);
                    tokio::time::sleep(delay).await;
                    delay = (delay * 2).min(Duration::from_secs(30));
                }
                Err(e) => {
                    // The core refused the batch (e.g. an unknown message id): retrying the same
                    // batch cannot succeed; send the events one by one so the good ones land.
                    tracing::warn!(error = %e, "core refused an event batch; sending events one by one");
                    for ev in batch.drain(..) {
                        if let Err(e) = core.post_events(vec![ev.clone()]).await {
                            tracing::error!(error = %e, message_id = %ev.message_id, "core refused event; dropped");
                        }
                    }
                    break;
                }
            }
        }
    }
}
