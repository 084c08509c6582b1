//! Prometheus metrics (the seed's names and labels, `DESIGN.md` "Metrics") and logging setup.
//!
//! Names are constants here so tests and dashboards refer to one spelling. Connection-level
//! metrics carry `bind_name`, `mode`, `system_id`, and for client binds also `host`, `port`
//! and `bind_type`, as the seed's monitoring guide lists them.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock};

use metrics::{counter, gauge, histogram, Label};

/// Gauge: 1 connected, 0 disconnected.
pub const CONNECTION_STATUS: &str = "smpp_connection_status";
/// Counter: messages sent on a bind (`submit_sm` to carriers, `deliver_sm` to partners).
pub const MESSAGES_SENT: &str = "smpp_messages_sent_total";
/// Counter: messages received on a bind (`submit_sm` from partners, `deliver_sm` from carriers).
pub const MESSAGES_RECEIVED: &str = "smpp_messages_received_total";
/// Counter: sends answered with an error or not answered.
pub const DELIVERY_FAILURES: &str = "smpp_delivery_failures_total";
/// Counter: successful binds.
pub const BIND_SUCCESS: &str = "smpp_bind_success_total";
/// Counter: refused or timed-out binds.
pub const BIND_FAILURES: &str = "smpp_bind_failures_total";
/// Counter: TCP connection attempts (client binds).
pub const CONNECTION_ATTEMPTS: &str = "smpp_connection_attempts_total";
/// Counter: sessions that ended.
pub const DISCONNECTIONS: &str = "smpp_disconnection_total";
/// Counter: `enquire_link` sent.
pub const ENQUIRE_LINK_SENT: &str = "smpp_enquire_link_sent_total";
/// Counter: `enquire_link_resp` received (the seed's definition).
pub const ENQUIRE_LINK_RECEIVED: &str = "smpp_enquire_link_received_total";
/// Gauge: seconds the bind has been up.
pub const UPTIME_SECONDS: &str = "smpp_uptime_seconds";
/// Gauge: messages in the retry cache.
pub const CACHE_SIZE: &str = "smpp_cache_size";
/// Counter: cached messages delivered to the core.
pub const CACHE_DELIVERED: &str = "smpp_cache_delivered_total";
/// Counter: cache retry attempts.
pub const CACHE_RETRY: &str = "smpp_cache_retry_total";
/// Counter: cached messages marked `failed_permanent`.
pub const CACHE_PERMANENT_FAILURES: &str = "smpp_cache_permanent_failures_total";
/// Counter: cached messages evicted because the cache was full.
pub const CACHE_OVERFLOW: &str = "smpp_cache_overflow_total";
/// Histogram (ours): latency of core API calls, seconds, label `call`.
pub const CORE_API_LATENCY: &str = "smppgw_core_api_duration_seconds";
/// Counter (ours): core API calls that failed, label `call`.
pub const CORE_API_ERRORS: &str = "smppgw_core_api_errors_total";
/// Histogram (ours): request → response latency of our `submit_sm`/`deliver_sm`, seconds.
pub const RESPONSE_LATENCY: &str = "smppgw_response_latency_seconds";
/// Counter (ours): requests answered `ESME_RTHROTTLED`/`ESME_RMSGQFUL` by the peer.
pub const THROTTLED: &str = "smppgw_throttled_total";

/// Counters of one bind kept for the status API and dashboard (Prometheus has its own).
#[derive(Debug, Default)]
pub struct BindCounters {
    sent: AtomicU64,
    received: AtomicU64,
    failed: AtomicU64,
    // TPS meter: the current whole second (Unix), sends in it, sends in the one before.
    second: AtomicU64,
    in_second: AtomicU64,
    in_previous: AtomicU64,
}

fn unix_second() -> u64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0)
}

impl BindCounters {
    /// Messages sent since start.
    pub fn sent(&self) -> u64 {
        self.sent.load(Ordering::Relaxed)
    }
    /// Messages received since start.
    pub fn received(&self) -> u64 {
        self.received.load(Ordering::Relaxed)
    }
    /// Failed sends since start.
    pub fn failed(&self) -> u64 {
        self.failed.load(Ordering::Relaxed)
    }
    /// Messages sent during the last whole second.
    pub fn tps_now(&self) -> u64 {
        let now = unix_second();
        let cur = self.second.load(Ordering::Relaxed);
        if now == cur {
            self.in_previous.load(Ordering::Relaxed)
        } else if now == cur + 1 {
            self.in_second.load(Ordering::Relaxed)
        } else {
            0
        }
    }
    fn count_send(&self) {
        self.sent.fetch_add(1, Ordering::Relaxed);
        let now = unix_second();
        let cur = self.second.load(Ordering::Relaxed);
        if now != cur && self.second.compare_exchange(cur, now, Ordering::Relaxed, Ordering::Relaxed).is_ok() {
            let last = self.in_second.swap(0, Ordering::Relaxed);
            self.in_previous.store(if now == cur + 1 { last } else { 0 }, Ordering::Relaxed);
        }
        self.in_second.fetch_add(1, Ordering::Relaxed);
    }
}

/// The status counters of bind `name` (created on first use, kept for the process's life).
pub fn counters(name: &str) -> Arc<BindCounters> {
    static ALL: OnceLock<Mutex<HashMap<String, Arc<BindCounters>>>> = OnceLock::new();
    let mut map = ALL.get_or_init(Default::default).lock().unwrap_or_else(|p| p.into_inner());
    map.entry(name.to_string()).or_default().clone()
}

/// The labels of one bind's connection metrics, and its status counters.
#[derive(Clone, Debug)]
pub struct BindLabels(Vec<Label>, Arc<BindCounters>);

impl BindLabels {
    /// Labels of a client bind.
    pub fn client(name: &str, host: &str, port: u16, bind_type: &str, system_id: &str) -> Self {
        BindLabels(
            vec![
            Label::new("bind_name", name.to_string()),
            Label::new("mode", "client"),
            Label::new("host", host.to_string()),
            Label::new("port", port.to_string()),
            Label::new("bind_type", bind_type.to_string()),
            Label::new("system_id", system_id.to_string()),
            ],
            counters(name),
        )
    }

    /// Labels of a server bind (the seed gives host/port/bind_type for client binds only).
    pub fn server(name: &str, system_id: &str) -> Self {
        BindLabels(
            vec![Label::new("bind_name", name.to_string()), Label::new("mode", "server"), Label::new("system_id", system_id.to_string())],
            counters(name),
        )
    }

    /// Add one to counter `name` (and to the status counters for sent/received/failures).
    pub fn inc(&self, name: &'static str) {
        match name {
            MESSAGES_SENT => self.1.count_send(),
            MESSAGES_RECEIVED => {
                self.1.received.fetch_add(1, Ordering::Relaxed);
            }
            DELIVERY_FAILURES => {
                self.1.failed.fetch_add(1, Ordering::Relaxed);
            }
            _ => {}
        }
        counter!(name, self.0.clone()).increment(1);
    }

    /// Set gauge `name`.
    pub fn set(&self, name: &'static str, v: f64) {
        gauge!(name, self.0.clone()).set(v);
    }

    /// Record one observation in histogram `name`.
    pub fn observe(&self, name: &'static str, v: f64) {
        histogram!(name, self.0.clone()).record(v);
    }
}

/// Record one core API call's latency and, on failure, count it.
pub fn core_call(call: &'static str, seconds: f64, ok: bool) {
    histogram!(CORE_API_LATENCY, "call" => call).record(seconds);
    if !ok {
        counter!(CORE_API_ERRORS, "call" => call).increment(1);
    }
}

/// Install the tracing subscriber: human lines or JSON on stderr, filtered by `level` unless
/// `RUST_LOG` is set.
pub fn init_logging(format: &str, level: &str) {
    use tracing_subscriber::EnvFilter;
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(level));
    let ansi = std::io::IsTerminal::is_terminal(&std::io::stderr());
    // A log line that cannot be written (stderr redirected to a file on a full disk) is lost,
    // never fatal: tracing-subscriber would otherwise report it with eprintln!, which panics.
    let builder = tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr).with_ansi(ansi).log_internal_errors(false);
    let _ = if format == "json" { builder.json().try_init() } else { builder.try_init() };
}
