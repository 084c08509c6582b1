//! Status callbacks of the send API: every status change of a send with a `callback_url` is
//! POSTed there as JSON. The callbacks of one send go out one after the other, in order; a
//! callback that fails (no answer, or not 2xx) is retried after `callback_retry_base`, doubling
//! each time (at most 5 minutes), up to `callback_max_attempts`, then given up (logged and
//! counted in `smppgw_http_callback_failures_total`). Callbacks live in memory: those still
//! pending when the process stops are lost (the status stays readable with
//! `GET /api/v1/send/{id}`).

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::Value;
use tokio::sync::mpsc;

/// Longest wait between two attempts.
const RETRY_CAP: Duration = Duration::from_secs(300);

/// One callback to deliver.
#[derive(Clone, Debug)]
pub(crate) struct CallbackJob {
    pub(crate) send_id: String,
    pub(crate) url: String,
    pub(crate) body: Value,
}

/// How callbacks are retried.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Settings {
    pub(crate) max_attempts: u32,
    pub(crate) retry_base: Duration,
    pub(crate) timeout: Duration,
}

/// Where the engine drops callbacks (from any thread); a dispatcher task started on the first
/// router delivers them.
#[derive(Debug)]
pub(crate) struct Outbox {
    tx: mpsc::UnboundedSender<CallbackJob>,
    rx: Mutex<Option<mpsc::UnboundedReceiver<CallbackJob>>>,
    settings: Settings,
}

type Chains = Arc<Mutex<HashMap<String, VecDeque<CallbackJob>>>>;

impl Outbox {
    pub(crate) fn new(settings: Settings) -> Outbox {
        let (tx, rx) = mpsc::unbounded_channel();
        Outbox {
            tx,
            rx: Mutex::new(Some(rx)),
            settings,
        }
    }

    pub(crate) fn push(&self, jobs: Vec<CallbackJob>) {
        for job in jobs {
            // The receiver lives as long as the dispatcher, which lives as long as the runtime.
            if self.tx.send(job).is_err() {
                tracing::warn!("status callback dropped: the dispatcher has stopped");
            }
        }
    }

    /// Starts the dispatcher on the current tokio runtime, once. Without a runtime, callbacks
    /// wait until a later call finds one.
    pub(crate) fn start(&self) {
        let Ok(handle) = tokio::runtime::Handle::try_current() else {
            return;
        };
        let Some(rx) = self.rx.lock().unwrap_or_else(|p| p.into_inner()).take() else {
            return;
        };
        handle.spawn(dispatch(rx, self.settings));
    }
}

async fn dispatch(mut rx: mpsc::UnboundedReceiver<CallbackJob>, settings: Settings) {
    let client = match reqwest::Client::builder()
        .timeout(settings.timeout)
        .user_agent(concat!("smppgw/", env!("CARGO_PKG_VERSION")))
        .build()
    {
        Ok(c) => c,
        Err(e) => {
            tracing::error!(error = %e, "status callbacks disabled: no HTTP client");
            return;
        }
    };
    let chains: Chains = Arc::default();
    while let Some(job) = rx.recv().await {
        let mut map = chains.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(queue) = map.get_mut(&job.send_id) {
            // A delivery for this send is under way: this one follows it.
            queue.push_back(job);
            continue;
        }
        map.insert(job.send_id.clone(), VecDeque::new());
        tokio::spawn(chain(job, Arc::clone(&chains), client.clone(), settings));
    }
}

/// Delivers `job`, then the callbacks of the same send queued meanwhile, in order.
async fn chain(mut job: CallbackJob, chains: Chains, client: reqwest::Client, settings: Settings) {
    loop {
        deliver(&client, &job, settings).await;
        let mut map = chains.lock().unwrap_or_else(|p| p.into_inner());
        match map.get_mut(&job.send_id).and_then(VecDeque::pop_front) {
            Some(next) => job = next,
            None => {
                map.remove(&job.send_id);
                return;
            }
        }
    }
}

async fn deliver(client: &reqwest::Client, job: &CallbackJob, settings: Settings) {
    let attempts = settings.max_attempts.max(1);
    let mut wait = settings.retry_base;
    for attempt in 1..=attempts {
        let outcome = client.post(&job.url).json(&job.body).send().await;
        let why = match outcome {
            Ok(r) if r.status().is_success() => {
                tracing::debug!(send = %job.send_id, url = %job.url, attempt, "status callback delivered");
                return;
            }
            Ok(r) => format!("answered {}", r.status()),
            Err(e) => e.to_string(),
        };
        if attempt == attempts {
            tracing::warn!(send = %job.send_id, url = %job.url, attempt, error = %why, "status callback given up");
            metrics::counter!("smppgw_http_callback_failures_total").increment(1);
            return;
        }
        tracing::info!(send = %job.send_id, url = %job.url, attempt, error = %why, retry_in_ms = wait.as_millis() as u64, "status callback failed; will retry");
        tokio::time::sleep(wait).await;
        wait = (wait * 2).min(RETRY_CAP);
    }
}
