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
/// Histogram (ours): latency of core API calls, seconds, label `call` (`claim`,
/// `post_messages`, `post_events`, `register`, `health`).
pub const CORE_API_LATENCY: &str = "smppgw_core_api_duration_seconds";
/// Counter (ours): core API calls that failed, labels `call` and `reason`
/// (`connection_refused`, `timeout`, `http_5xx`, `http_4xx`, `parse_error`, `other`).
pub const CORE_API_ERRORS: &str = "smppgw_core_api_errors_total";
/// Histogram (ours): request → response latency of our `submit_sm`/`deliver_sm`, seconds,
/// whatever the response's status; connection labels.
pub const RESPONSE_LATENCY: &str = "smppgw_response_latency_seconds";
/// Counter (ours): our requests the peer answered `ESME_RTHROTTLED`/`ESME_RMSGQFUL` (the
/// bind pauses, then resends in order).
pub const THROTTLED: &str = "smppgw_throttled_total";
/// Counter (ours): the partner's `submit_sm`/`data_sm` we refused, labels `bind_name`, `mode`,
/// `system_id` and `reason` (`throttled`: over its `tps_limit`; `source_address`: not in
/// its whitelist; `core_unavailable`; `core_refused`).
pub const INBOUND_REFUSED: &str = "smppgw_inbound_refused_total";
/// Counter (ours): the partner's `submit_sm`/`data_sm` over its `tps_limit` whose answer was
/// held until its second (`tps_exceeded = "delay"`), labels as [`INBOUND_REFUSED`] with
/// `reason` `tps_limit`.
pub const INBOUND_DELAYED: &str = "smppgw_inbound_delayed_total";
/// Histogram (ours): requests in flight on the bind, this one included, each time one is
/// sent (window occupancy; the window is `window_size`).
pub const WINDOW_OCCUPANCY: &str = "smppgw_window_occupancy";
/// Gauge (ours): requests in flight on the bind now.
pub const WINDOW_IN_FLIGHT: &str = "smppgw_window_in_flight";
/// Gauge (ours): 1 when the peer is enabled in the configuration in force, 0 when disabled
/// or deleted — so that alerts can leave peers taken down on purpose alone. Labels
/// `bind_name`, `mode`.
pub const PEER_ENABLED: &str = "smppgw_peer_enabled";

/// Every metric name this gateway exports (the seed's, then ours): dashboards and alert
/// rules are checked against it.
pub const ALL_METRICS: &[&str] = &[
    CONNECTION_STATUS,
    MESSAGES_SENT,
    MESSAGES_RECEIVED,
    DELIVERY_FAILURES,
    BIND_SUCCESS,
    BIND_FAILURES,
    CONNECTION_ATTEMPTS,
    DISCONNECTIONS,
    ENQUIRE_LINK_SENT,
    ENQUIRE_LINK_RECEIVED,
    UPTIME_SECONDS,
    CACHE_SIZE,
    CACHE_DELIVERED,
    CACHE_RETRY,
    CACHE_PERMANENT_FAILURES,
    CACHE_OVERFLOW,
    CORE_API_LATENCY,
    CORE_API_ERRORS,
    RESPONSE_LATENCY,
    THROTTLED,
    INBOUND_REFUSED,
    INBOUND_DELAYED,
    WINDOW_OCCUPANCY,
    WINDOW_IN_FLIGHT,
    PEER_ENABLED,
];

/// Messages per whole second, without a lock: the current second (Unix), its count, and the
/// count of the second before.
#[derive(Debug, Default)]
struct RateMeter {
    second: AtomicU64,
    in_second: AtomicU64,
    in_previous: AtomicU64,
}

impl RateMeter {
    fn count(&self, now: u64) {
        let cur = self.second.load(Ordering::Relaxed);
        if now != cur
            && self
                .second
                .compare_exchange(cur, now, Ordering::Relaxed, Ordering::Relaxed)
                .is_ok()
        {
            let last = self.in_second.swap(0, Ordering::Relaxed);
            self.in_previous
                .store(if now == cur + 1 { last } else { 0 }, Ordering::Relaxed);
        }
        self.in_second.fetch_add(1, Ordering::Relaxed);
    }

    /// Messages in the last whole second before `now`.
    fn last_second(&self, now: u64) -> u64 {
        let cur = self.second.load(Ordering::Relaxed);
        if now == cur {
            self.in_previous.load(Ordering::Relaxed)
        } else if now == cur + 1 {
            self.in_second.load(Ordering::Relaxed)
        } else {
            0
        }
    }
}

/// Counters of one bind kept for the status API and dashboard (Prometheus has its own).
#[derive(Debug, Default)]
pub struct BindCounters {
    sent: AtomicU64,
    received: AtomicU64,
    failed: AtomicU64,
    sent_rate: RateMeter,
    received_rate: RateMeter,
}

fn unix_second() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
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
        self.sent_rate.last_second(unix_second())
    }
    /// Messages received during the last whole second.
    pub fn tps_in_now(&self) -> u64 {
        self.received_rate.last_second(unix_second())
    }
    fn count_send(&self) {
        self.sent.fetch_add(1, Ordering::Relaxed);
        self.sent_rate.count(unix_second());
    }
    fn count_receive(&self) {
        self.received.fetch_add(1, Ordering::Relaxed);
        self.received_rate.count(unix_second());
    }
}

/// The status counters of bind `name` (created on first use, kept for the process's life).
pub fn counters(name: &str) -> Arc<BindCounters> {
    static ALL: OnceLock<Mutex<HashMap<String, Arc<BindCounters>>>> = OnceLock::new();
    let mut map = ALL
        .get_or_init(Default::default)
        .lock()
        .unwrap_or_else(|p| p.into_inner());
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
    /// Binds refused before a peer is known (unknown `system_id`) are counted under
    /// [`UNKNOWN_PEER`] with an empty `system_id`: what a stranger sends never becomes a
    /// label value, so scanning cannot grow the number of series.
    pub fn server(name: &str, system_id: &str) -> Self {
        let (name, system_id) = if name.is_empty() {
            (UNKNOWN_PEER, "")
        } else {
            (name, system_id)
        };
        BindLabels(
            vec![
                Label::new("bind_name", name.to_string()),
                Label::new("mode", "server"),
                Label::new("system_id", system_id.to_string()),
            ],
            counters(name),
        )
    }

    /// Add one to counter `name` (and to the status counters for sent/received/failures).
    pub fn inc(&self, name: &'static str) {
        match name {
            MESSAGES_SENT => self.1.count_send(),
            MESSAGES_RECEIVED => self.1.count_receive(),
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

    /// Add one to counter `name` with one more label (e.g. `reason`).
    pub fn inc_with(&self, name: &'static str, key: &'static str, value: &'static str) {
        let mut labels = self.0.clone();
        labels.push(Label::new(key, value));
        counter!(name, labels).increment(1);
    }

    /// The `bind_name` and `mode` labels only (for [`PEER_ENABLED`]).
    pub fn set_enabled(&self, enabled: bool) {
        let short: Vec<Label> = self
            .0
            .iter()
            .filter(|l| matches!(l.key(), "bind_name" | "mode"))
            .cloned()
            .collect();
        gauge!(PEER_ENABLED, short).set(if enabled { 1.0 } else { 0.0 });
    }

    /// The status counters of this bind.
    pub fn counters(&self) -> &BindCounters {
        &self.1
    }
}

/// `bind_name` of binds refused before any peer matched.
pub const UNKNOWN_PEER: &str = "unknown";

/// The `reason` label of a failed core call: what the seed's log alerts look for
/// ("api.*connection refused", "api.*timeout", "api.*http 503", "api.*parse error").
pub fn core_error_reason(e: &core_bridge::CoreError) -> &'static str {
    use core_bridge::CoreError;
    match e {
        CoreError::Unreachable { reason, .. }
            if reason.contains("timeout") || reason.contains("timed out") =>
        {
            "timeout"
        }
        CoreError::Unreachable { reason, .. } if reason.contains("connection refused") => {
            "connection_refused"
        }
        CoreError::Unreachable { .. } => "other",
        CoreError::Status { status, .. } if *status >= 500 => "http_5xx",
        CoreError::Status { .. } => "http_4xx",
        CoreError::Decode { .. } => "parse_error",
    }
}

/// Record one core API call's latency and, on failure, count it by reason.
pub fn core_call<T>(call: &'static str, seconds: f64, result: &Result<T, core_bridge::CoreError>) {
    histogram!(CORE_API_LATENCY, "call" => call).record(seconds);
    if let Err(e) = result {
        counter!(CORE_API_ERRORS, "call" => call, "reason" => core_error_reason(e)).increment(1);
    }
}

/// Install the tracing subscriber: human lines or JSON on stderr, filtered by `level` unless
/// `RUST_LOG` is set; every record that passes the filter is also kept in [`log_ring`] (the
/// last `ring_size`) for the admin API's `/api/v1/logs` and its live stream.
pub fn init_logging(format: &str, level: &str, ring_size: usize) {
    use tracing_subscriber::layer::SubscriberExt as _;
    use tracing_subscriber::util::SubscriberInitExt as _;
    use tracing_subscriber::EnvFilter;
    log_ring().set_capacity(ring_size);
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(level));
    let ansi = std::io::IsTerminal::is_terminal(&std::io::stderr())
        && std::env::var_os("NO_COLOR").is_none();
    let registry = tracing_subscriber::registry().with(filter).with(RingLayer);
    // A log line that cannot be written (stderr redirected to a file on a full disk) is lost,
    // never fatal: tracing-subscriber would otherwise report it with eprintln!, which panics.
    let _ = if format == "json" {
        registry
            .with(
                tracing_subscriber::fmt::layer()
                    .json()
                    .with_writer(std::io::stderr)
                    .log_internal_errors(false),
            )
            .try_init()
    } else {
        registry
            .with(
                tracing_subscriber::fmt::layer()
                    .with_writer(std::io::stderr)
                    .with_ansi(ansi)
                    .log_internal_errors(false),
            )
            .try_init()
    };
}

/// One log record as the admin API shows it.
#[derive(Clone, Debug, serde::Serialize, PartialEq)]
pub struct LogRecord {
    /// Increasing number of the record since start (to resume a stream: `since`).
    pub seq: u64,
    /// When, Unix ms.
    pub at_ms: u64,
    /// `ERROR`, `WARN`, `INFO`, `DEBUG` or `TRACE`.
    pub level: String,
    /// The module that logged it.
    pub target: String,
    /// The message.
    pub message: String,
    /// The other fields, as text.
    pub fields: serde_json::Map<String, serde_json::Value>,
}

/// Numeric severity of a level name, higher is more severe (`None` for an unknown name).
pub fn level_rank(level: &str) -> Option<u8> {
    match level.to_ascii_uppercase().as_str() {
        "TRACE" => Some(0),
        "DEBUG" => Some(1),
        "INFO" => Some(2),
        "WARN" | "WARNING" => Some(3),
        "ERROR" => Some(4),
        _ => None,
    }
}

/// The bounded ring of recent log records, and a broadcast of new ones.
pub struct LogRing {
    inner: Mutex<RingInner>,
    live: tokio::sync::broadcast::Sender<LogRecord>,
}

struct RingInner {
    records: std::collections::VecDeque<LogRecord>,
    capacity: usize,
    next_seq: u64,
}

impl LogRing {
    fn new(capacity: usize) -> Self {
        LogRing {
            inner: Mutex::new(RingInner {
                records: Default::default(),
                capacity,
                next_seq: 1,
            }),
            live: tokio::sync::broadcast::channel(1024).0,
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, RingInner> {
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Keep at most `n` records (at least 1).
    pub fn set_capacity(&self, n: usize) {
        let mut g = self.lock();
        g.capacity = n.max(1);
        while g.records.len() > g.capacity {
            g.records.pop_front();
        }
    }

    /// Add a record (its `seq` is assigned here) and broadcast it.
    pub fn push(&self, mut r: LogRecord) {
        let mut g = self.lock();
        r.seq = g.next_seq;
        g.next_seq += 1;
        if g.records.len() >= g.capacity {
            g.records.pop_front();
        }
        g.records.push_back(r.clone());
        drop(g);
        let _ = self.live.send(r);
    }

    /// Records with `seq > since`, at `min_level` or above, containing `contains` (case
    /// insensitive, in the message or a field), the last `limit` of them, oldest first.
    pub fn recent(
        &self,
        min_level: u8,
        since: u64,
        contains: Option<&str>,
        limit: usize,
    ) -> Vec<LogRecord> {
        let g = self.lock();
        let mut out: Vec<LogRecord> = g
            .records
            .iter()
            .rev()
            .filter(|r| r.seq > since && record_matches(r, min_level, contains))
            .take(limit)
            .cloned()
            .collect();
        out.reverse();
        out
    }

    /// New records as they come.
    pub fn subscribe(&self) -> tokio::sync::broadcast::Receiver<LogRecord> {
        self.live.subscribe()
    }
}

/// Whether `r` passes a level and text filter.
pub fn record_matches(r: &LogRecord, min_level: u8, contains: Option<&str>) -> bool {
    if level_rank(&r.level).unwrap_or(0) < min_level {
        return false;
    }
    match contains.map(str::to_lowercase) {
        None => true,
        Some(needle) => {
            r.message.to_lowercase().contains(&needle)
                || r.fields
                    .values()
                    .any(|v| v.to_string().to_lowercase().contains(&needle))
        }
    }
}

/// The process's log ring.
pub fn log_ring() -> &'static LogRing {
    static RING: OnceLock<LogRing> = OnceLock::new();
    RING.get_or_init(|| LogRing::new(1000))
}

/// The `tracing` layer that copies records into [`log_ring`].
struct RingLayer;

impl<S: tracing::Subscriber> tracing_subscriber::Layer<S> for RingLayer {
    fn on_event(
        &self,
        event: &tracing::Event<'_>,
        _ctx: tracing_subscriber::layer::Context<'_, S>,
    ) {
        let mut v = FieldVisitor::default();
        event.record(&mut v);
        let meta = event.metadata();
        let at_ms = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_millis() as u64)
            .unwrap_or(0);
        log_ring().push(LogRecord {
            seq: 0,
            at_ms,
            level: meta.level().to_string(),
            target: meta.target().to_string(),
            message: v.message,
            fields: v.fields,
        });
    }
}

#[derive(Default)]
struct FieldVisitor {
    message: String,
    fields: serde_json::Map<String, serde_json::Value>,
}

impl tracing::field::Visit for FieldVisitor {
    fn record_debug(&mut self, field: &tracing::field::Field, value: &dyn std::fmt::Debug) {
        self.record_str(field, &format!("{value:?}"));
    }
    fn record_str(&mut self, field: &tracing::field::Field, value: &str) {
        if field.name() == "message" {
            self.message = value.to_string();
        } else {
            self.fields.insert(
                field.name().to_string(),
                serde_json::Value::String(value.to_string()),
            );
        }
    }
    fn record_i64(&mut self, field: &tracing::field::Field, value: i64) {
        self.fields.insert(field.name().to_string(), value.into());
    }
    fn record_u64(&mut self, field: &tracing::field::Field, value: u64) {
        self.fields.insert(field.name().to_string(), value.into());
    }
    fn record_bool(&mut self, field: &tracing::field::Field, value: bool) {
        self.fields.insert(field.name().to_string(), value.into());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rec(level: &str, message: &str) -> LogRecord {
        LogRecord {
            seq: 0,
            at_ms: 0,
            level: level.into(),
            target: "t".into(),
            message: message.into(),
            fields: Default::default(),
        }
    }

    #[test]
    fn the_ring_keeps_the_last_records_and_filters_them() {
        let ring = LogRing::new(3);
        for (l, m) in [
            ("INFO", "one"),
            ("WARN", "two"),
            ("ERROR", "three"),
            ("DEBUG", "four"),
        ] {
            ring.push(rec(l, m));
        }
        let all: Vec<String> = ring
            .recent(0, 0, None, 100)
            .into_iter()
            .map(|r| r.message)
            .collect();
        assert_eq!(
            all,
            ["two", "three", "four"],
            "capacity 3 keeps the newest three, oldest first"
        );
        let warn: Vec<String> = ring
            .recent(level_rank("warn").unwrap(), 0, None, 100)
            .into_iter()
            .map(|r| r.message)
            .collect();
        assert_eq!(warn, ["two", "three"]);
        let since: Vec<u64> = ring
            .recent(0, 3, None, 100)
            .into_iter()
            .map(|r| r.seq)
            .collect();
        assert_eq!(since, [4], "seq numbers go on across evictions");
        assert_eq!(
            ring.recent(0, 0, Some("THR"), 100).len(),
            1,
            "text filter is case-insensitive"
        );
        assert_eq!(
            ring.recent(0, 0, None, 1)[0].message,
            "four",
            "limit keeps the newest"
        );
    }

    #[test]
    fn the_ring_layer_captures_message_level_and_fields() {
        use tracing_subscriber::layer::SubscriberExt as _;
        let sub = tracing_subscriber::registry().with(RingLayer);
        let marker = format!("ring-layer-test-{}", std::process::id());
        tracing::subscriber::with_default(sub, || {
            tracing::warn!(bind = "carrier", attempts = 3u64, "{marker} happened")
        });
        let got = log_ring().recent(0, 0, Some(&marker), 10);
        assert_eq!(got.len(), 1, "{got:?}");
        assert_eq!(got[0].level, "WARN");
        assert_eq!(got[0].message, format!("{marker} happened"));
        assert_eq!(got[0].fields["bind"], "carrier");
        assert_eq!(got[0].fields["attempts"], 3);
    }

    #[test]
    fn the_rate_meter_reports_the_last_whole_second() {
        let m = RateMeter::default();
        for _ in 0..3 {
            m.count(100);
        }
        assert_eq!(m.last_second(100), 0, "second 100 is not over yet");
        assert_eq!(m.last_second(101), 3);
        m.count(101);
        assert_eq!(m.last_second(101), 3, "the second before 101 had 3");
        assert_eq!(m.last_second(102), 1);
        assert_eq!(m.last_second(105), 0, "an idle bind shows 0");
    }

    #[test]
    fn strangers_never_become_label_values() {
        let l = BindLabels::server("", "random-scanner-id");
        assert!(l
            .0
            .iter()
            .any(|x| x.key() == "bind_name" && x.value() == UNKNOWN_PEER));
        assert!(l.0.iter().all(|x| x.value() != "random-scanner-id"));
    }

    #[test]
    fn core_errors_are_classified_as_the_seeds_log_alerts_read_them() {
        use core_bridge::CoreError;
        let un = |r: &str| CoreError::Unreachable {
            url: "u".into(),
            reason: r.into(),
        };
        assert_eq!(core_error_reason(&un("timeout")), "timeout");
        assert_eq!(
            core_error_reason(&un("connection refused or failed (x)")),
            "connection_refused"
        );
        assert_eq!(
            core_error_reason(&CoreError::Status {
                url: "u".into(),
                status: 503,
                body: String::new()
            }),
            "http_5xx"
        );
    }
}
