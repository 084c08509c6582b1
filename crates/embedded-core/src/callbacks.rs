//! Status callbacks of the send API: every status change of a send with a `callback_url` is
//! POSTed there as JSON.
//!
//! - **Durable.** A callback is written to the `callbacks` tree in the same transaction as the
//!   status change that causes it, and removed only once delivered or given up. Callbacks still
//!   pending when the process stops are sent again after a restart (their attempts count anew).
//! - **Ordered.** The callbacks of one send go out one after the other, oldest first; those of
//!   different sends in parallel.
//! - **Retried.** An attempt that fails (no answer within `callback_timeout`, or not 2xx) is
//!   retried after `callback_retry_base`, doubling each time (at most 5 minutes), up to
//!   `callback_max_attempts` attempts; then the callback is given up: logged, counted in
//!   `smppgw_http_callback_failures_total`, removed. The send's status stays readable with
//!   `GET /api/v1/send/{id}`.
//!
//! The waits use tokio's clock, so tests drive them with a paused clock; the HTTP side is a
//! [`Transport`], reqwest in production.

use std::collections::{HashMap, VecDeque};
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde::{Deserialize, Serialize};
use serde_json::Value;
use tokio::sync::mpsc;

use crate::store::Tree;

/// Longest wait between two attempts.
const RETRY_CAP: Duration = Duration::from_secs(300);

/// One callback to deliver, as stored in the `callbacks` tree.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub(crate) struct CallbackJob {
    /// Its key in the `callbacks` tree (a ULID: the order of the status changes).
    pub(crate) key: String,
    /// The send it reports on (callbacks of one send are delivered in key order).
    pub(crate) send_id: String,
    /// Where to POST.
    pub(crate) url: String,
    /// The JSON body.
    pub(crate) body: Value,
}

/// How callbacks are retried.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Settings {
    pub(crate) max_attempts: u32,
    pub(crate) retry_base: Duration,
    pub(crate) timeout: Duration,
}

/// A future the [`Transport`] answers.
pub(crate) type PostFuture<'a> = Pin<Box<dyn Future<Output = Result<u16, String>> + Send + 'a>>;

/// Sends one callback attempt: the HTTP status of the answer, or why there was none.
pub(crate) trait Transport: Send + Sync + 'static {
    fn post<'a>(&'a self, url: &'a str, body: &'a Value) -> PostFuture<'a>;
}

/// The production transport: reqwest with a timeout per attempt.
struct HttpTransport(reqwest::Client);

impl Transport for HttpTransport {
    fn post<'a>(&'a self, url: &'a str, body: &'a Value) -> PostFuture<'a> {
        Box::pin(async move {
            match self.0.post(url).json(body).send().await {
                Ok(r) => Ok(r.status().as_u16()),
                Err(e) => Err(e.to_string()),
            }
        })
    }
}

/// Where the engine drops callbacks after committing them (from any thread); a dispatcher task,
/// started by the first router, delivers them.
pub(crate) struct Outbox {
    tx: mpsc::UnboundedSender<CallbackJob>,
    rx: Mutex<Option<mpsc::UnboundedReceiver<CallbackJob>>>,
    settings: Settings,
    /// The `callbacks` tree, shared with the dispatcher; taken out when the outbox (the core)
    /// is dropped, so that deliveries still under way do not hold the store open.
    tree: SharedTree,
    transport: Mutex<Option<Arc<dyn Transport>>>,
}

type SharedTree = Arc<Mutex<Option<Tree>>>;

impl Drop for Outbox {
    fn drop(&mut self) {
        self.tree.lock().unwrap_or_else(|p| p.into_inner()).take();
    }
}

impl std::fmt::Debug for Outbox {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Outbox")
            .field("settings", &self.settings)
            .field(
                "pending",
                &self
                    .tree
                    .lock()
                    .unwrap_or_else(|p| p.into_inner())
                    .as_ref()
                    .map(|t| t.len().ok()),
            )
            .finish_non_exhaustive()
    }
}

type Chains = Arc<Mutex<HashMap<String, VecDeque<CallbackJob>>>>;

impl Outbox {
    /// An outbox over the `callbacks` tree; the callbacks a previous run left there are queued
    /// first, in order.
    pub(crate) fn new(settings: Settings, tree: Tree) -> Outbox {
        let (tx, rx) = mpsc::unbounded_channel();
        let mut resumed = 0usize;
        for item in tree.iter() {
            let Ok((k, v)) = item else { continue };
            match serde_json::from_slice::<CallbackJob>(&v) {
                Ok(job) => {
                    resumed += 1;
                    let _ = tx.send(job);
                }
                Err(e) => {
                    tracing::warn!(key = %String::from_utf8_lossy(&k), error = %e, "unreadable status callback dropped");
                    let _ = tree.remove(&k);
                }
            }
        }
        if resumed > 0 {
            tracing::info!(
                callbacks = resumed,
                "status callbacks of the previous run resumed"
            );
        }
        Outbox {
            tx,
            rx: Mutex::new(Some(rx)),
            settings,
            tree: Arc::new(Mutex::new(Some(tree))),
            transport: Mutex::new(None),
        }
    }

    /// Replaces the transport (tests), before [`start`](Self::start).
    #[cfg(test)]
    pub(crate) fn set_transport(&self, t: Arc<dyn Transport>) {
        *self.transport.lock().unwrap_or_else(|p| p.into_inner()) = Some(t);
    }

    /// Hands committed callbacks to the dispatcher.
    pub(crate) fn push(&self, jobs: Vec<CallbackJob>) {
        for job in jobs {
            // Only fails once the runtime that ran the dispatcher is gone; the job stays in
            // the tree and goes out at the next start.
            if self.tx.send(job).is_err() {
                tracing::warn!(
                    "status callback kept for the next start: the dispatcher has stopped"
                );
            }
        }
    }

    /// Starts the dispatcher on the current tokio runtime, once. Without a runtime, callbacks
    /// wait (stored) until a later call finds one.
    pub(crate) fn start(&self) {
        let Ok(handle) = tokio::runtime::Handle::try_current() else {
            return;
        };
        let Some(rx) = self.rx.lock().unwrap_or_else(|p| p.into_inner()).take() else {
            return;
        };
        let transport = self
            .transport
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone();
        let transport = match transport {
            Some(t) => t,
            None => match reqwest::Client::builder()
                .timeout(self.settings.timeout)
                .user_agent(concat!("smppgw/", env!("CARGO_PKG_VERSION")))
                .build()
            {
                Ok(c) => Arc::new(HttpTransport(c)),
                Err(e) => {
                    tracing::error!(error = %e, "status callbacks disabled: no HTTP client");
                    return;
                }
            },
        };
        handle.spawn(dispatch(
            rx,
            self.settings,
            transport,
            Arc::clone(&self.tree),
        ));
    }
}

async fn dispatch(
    mut rx: mpsc::UnboundedReceiver<CallbackJob>,
    settings: Settings,
    transport: Arc<dyn Transport>,
    tree: SharedTree,
) {
    let chains: Chains = Arc::default();
    while let Some(job) = rx.recv().await {
        let mut map = chains.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(queue) = map.get_mut(&job.send_id) {
            // A delivery for this send is under way: this one follows it.
            queue.push_back(job);
            continue;
        }
        map.insert(job.send_id.clone(), VecDeque::new());
        drop(map);
        tokio::spawn(chain(
            job,
            Arc::clone(&chains),
            Arc::clone(&transport),
            Arc::clone(&tree),
            settings,
        ));
    }
}

/// Delivers `job`, then the callbacks of the same send queued meanwhile, in order.
async fn chain(
    mut job: CallbackJob,
    chains: Chains,
    transport: Arc<dyn Transport>,
    tree: SharedTree,
    settings: Settings,
) {
    loop {
        deliver(transport.as_ref(), &job, settings).await;
        // With the core closed meanwhile, the callback stays stored and goes out again at the
        // next start: at least once.
        let removed = match tree.lock().unwrap_or_else(|p| p.into_inner()).as_ref() {
            Some(t) => t.remove(job.key.as_bytes()).map_err(|e| e.to_string()),
            None => Err("the core is closed".into()),
        };
        if let Err(e) = removed {
            tracing::warn!(key = %job.key, error = %e, "status callback done but not removed: it will be sent again after a restart");
        }
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

/// Attempts `job` until it is answered 2xx or `max_attempts` failed. True when delivered.
async fn deliver(transport: &dyn Transport, job: &CallbackJob, settings: Settings) -> bool {
    let attempts = settings.max_attempts.max(1);
    let mut wait = settings.retry_base;
    for attempt in 1..=attempts {
        let outcome =
            match tokio::time::timeout(settings.timeout, transport.post(&job.url, &job.body)).await
            {
                Ok(r) => r,
                Err(_) => Err(format!(
                    "no answer within {} ms",
                    settings.timeout.as_millis()
                )),
            };
        let why = match outcome {
            Ok(status) if (200..300).contains(&status) => {
                tracing::debug!(send = %job.send_id, url = %job.url, attempt, "status callback delivered");
                return true;
            }
            Ok(status) => format!("answered {status}"),
            Err(e) => e,
        };
        if attempt == attempts {
            tracing::warn!(send = %job.send_id, url = %job.url, attempt, error = %why, "status callback given up");
            metrics::counter!("smppgw_http_callback_failures_total").increment(1);
            return false;
        }
        tracing::info!(send = %job.send_id, url = %job.url, attempt, error = %why, retry_in_ms = wait.as_millis() as u64, "status callback failed; will retry");
        tokio::time::sleep(wait).await;
        wait = (wait * 2).min(RETRY_CAP);
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::time::Instant;

    /// A transport answering from a script (one status per attempt, `0` = no answer at all),
    /// recording each attempt with the paused clock's time.
    struct Scripted {
        answers: Mutex<VecDeque<u16>>,
        seen: Mutex<Vec<(Duration, String, Value)>>,
        start: Instant,
    }

    impl Scripted {
        fn new(answers: &[u16]) -> Arc<Scripted> {
            Arc::new(Scripted {
                answers: Mutex::new(answers.iter().copied().collect()),
                seen: Mutex::new(Vec::new()),
                start: Instant::now(),
            })
        }

        fn seen(&self) -> Vec<(Duration, String, Value)> {
            self.seen.lock().unwrap().clone()
        }
    }

    impl Transport for Scripted {
        fn post<'a>(&'a self, url: &'a str, body: &'a Value) -> PostFuture<'a> {
            Box::pin(async move {
                self.seen.lock().unwrap().push((
                    self.start.elapsed(),
                    url.to_string(),
                    body.clone(),
                ));
                let answer = self.answers.lock().unwrap().pop_front().unwrap_or(200);
                match answer {
                    0 => std::future::pending().await,
                    s => Ok(s),
                }
            })
        }
    }

    fn settings(max_attempts: u32) -> Settings {
        Settings {
            max_attempts,
            retry_base: Duration::from_secs(2),
            timeout: Duration::from_secs(10),
        }
    }

    fn job(key: &str, send: &str, status: &str) -> CallbackJob {
        CallbackJob {
            key: key.into(),
            send_id: send.into(),
            url: format!("http://hooks.invalid/{send}"),
            body: serde_json::json!({ "id": send, "status": status }),
        }
    }

    fn tree() -> Tree {
        Tree::temporary("callbacks")
    }

    fn store(tree: &Tree, j: &CallbackJob) {
        tree.insert(j.key.as_bytes(), &serde_json::to_vec(j).unwrap())
            .unwrap();
    }

    /// Lets the paused runtime run until `cond` holds (time advances only when every task is
    /// idle, so this never waits on the wall clock).
    async fn until(cond: impl Fn() -> bool) {
        for _ in 0..10_000 {
            if cond() {
                return;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("condition not reached");
    }

    #[tokio::test(start_paused = true)]
    async fn failed_attempts_back_off_doubling_then_succeed() {
        // 500, no answer (times out after 10 s), 404, then 204.
        let t = Scripted::new(&[500, 0, 404, 204]);
        let tr = tree();
        let j = job("01", "s1", "delivered");
        store(&tr, &j);
        let outbox = Outbox::new(settings(6), tr.clone());
        outbox.set_transport(t.clone());
        outbox.start();
        until(|| tr.is_empty()).await;
        let times: Vec<u64> = t.seen().iter().map(|s| s.0.as_millis() as u64).collect();
        // 0; +2 s; the second attempt times out after 10 s, then +4 s; +8 s.
        assert_eq!(times, vec![0, 2_000, 16_000, 24_000]);
        assert!(t.seen().iter().all(|s| s.2 == j.body && s.1 == j.url));
    }

    #[tokio::test(start_paused = true)]
    async fn a_callback_is_given_up_after_max_attempts_and_removed() {
        let t = Scripted::new(&[503, 503, 503, 200]);
        let tr = tree();
        store(&tr, &job("01", "s1", "submitted"));
        let outbox = Outbox::new(settings(3), tr.clone());
        outbox.set_transport(t.clone());
        outbox.start();
        until(|| tr.is_empty()).await;
        tokio::time::sleep(Duration::from_secs(600)).await;
        assert_eq!(t.seen().len(), 3, "no fourth attempt");
    }

    #[tokio::test(start_paused = true)]
    async fn callbacks_of_one_send_keep_their_order_across_retries() {
        // The first callback of s1 fails twice; s1's second one must wait for it, while s2's
        // goes out at once.
        let t = Scripted::new(&[500, 200, 500, 200, 200]);
        let tr = tree();
        let outbox = Outbox::new(settings(6), tr.clone());
        outbox.set_transport(t.clone());
        outbox.start();
        let jobs = vec![
            job("01", "s1", "submitted"),
            job("02", "s2", "submitted"),
            job("03", "s1", "delivered"),
        ];
        for j in &jobs {
            store(&tr, j);
        }
        outbox.push(jobs);
        until(|| tr.is_empty()).await;
        let s1: Vec<String> = t
            .seen()
            .iter()
            .filter(|s| s.2["id"] == "s1")
            .map(|s| s.2["status"].as_str().unwrap().to_string())
            .collect();
        let last_submitted = s1.iter().rposition(|s| s == "submitted").unwrap();
        let first_delivered = s1.iter().position(|s| s == "delivered").unwrap();
        assert!(last_submitted < first_delivered, "{s1:?}");
        let s2_at = t.seen().iter().find(|s| s.2["id"] == "s2").unwrap().0;
        assert_eq!(
            s2_at,
            Duration::ZERO,
            "another send's callback does not wait"
        );
    }

    #[tokio::test(start_paused = true)]
    async fn callbacks_left_by_a_previous_run_are_sent_in_order() {
        let t = Scripted::new(&[]);
        let tr = tree();
        store(&tr, &job("02", "s1", "delivered"));
        store(&tr, &job("01", "s1", "submitted"));
        // Undecodable leftovers are dropped, not retried forever.
        tr.insert(b"00", b"not json").unwrap();
        let outbox = Outbox::new(settings(6), tr.clone());
        outbox.set_transport(t.clone());
        outbox.start();
        until(|| tr.is_empty()).await;
        let order: Vec<Value> = t.seen().iter().map(|s| s.2["status"].clone()).collect();
        assert_eq!(order, vec!["submitted", "delivered"]);
    }
}
