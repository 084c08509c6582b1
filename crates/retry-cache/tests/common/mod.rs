//! Helpers shared by the integration tests.
#![allow(dead_code, unreachable_pub)]

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use core_bridge::api::{
    Address, Base64Bytes, BindMode, Direction, Event, EventKind, InboundMessage,
};
use metrics::{Counter, Gauge, Histogram, Key, KeyName, Metadata, Recorder, SharedString, Unit};
use retry_cache::Item;

/// A fresh directory under the system temp dir (removed by [`TempDir`]'s drop).
pub struct TempDir(pub PathBuf);

impl TempDir {
    pub fn new(tag: &str) -> Self {
        static N: AtomicU64 = AtomicU64::new(0);
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_nanos();
        let p = std::env::temp_dir().join(format!(
            "retry-cache-{tag}-{}-{}-{nanos}",
            std::process::id(),
            N.fetch_add(1, Ordering::SeqCst)
        ));
        std::fs::create_dir_all(&p).unwrap();
        TempDir(p)
    }

    pub fn path(&self) -> &std::path::Path {
        &self.0
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// An inbound message with id `id` on `bind`.
pub fn msg(bind: &str, id: &str) -> Item {
    Item::Message(InboundMessage {
        id: id.to_string(),
        direction: Direction::Mt,
        bind_name: bind.to_string(),
        bind_mode: BindMode::Server,
        system_id: "partner".into(),
        frontend: format!("host_{bind}"),
        service_type: String::new(),
        source: Address {
            addr: "SENDER".into(),
            ton: 5,
            npi: 0,
        },
        destination: Address {
            addr: "33612345678".into(),
            ton: 1,
            npi: 1,
        },
        esm_class: 0,
        protocol_id: 0,
        priority_flag: 0,
        schedule_delivery_time: String::new(),
        validity_period: String::new(),
        registered_delivery: 1,
        data_coding: 0,
        text: Some("hello".into()),
        payload: Base64Bytes(b"hello".to_vec()),
        tlvs: vec![],
        receipt: None,
        segment: None,
        received_at_ms: 1,
    })
}

/// An event about message `id`.
pub fn event(bind: &str, id: &str) -> Item {
    Item::Event(Event {
        message_id: id.to_string(),
        frontend: format!("host_{bind}"),
        bind_name: bind.to_string(),
        kind: EventKind::Submitted {
            smsc_message_id: "abc".into(),
        },
        at_ms: 2,
    })
}

/// A recorder that keeps counters and gauges by `name{k=v,…}`, for `metrics::with_local_recorder`.
#[derive(Default)]
pub struct TestRecorder {
    values: Mutex<HashMap<String, Arc<AtomicU64>>>,
}

fn render(key: &Key) -> String {
    let labels: Vec<String> = key
        .labels()
        .map(|l| format!("{}={}", l.key(), l.value()))
        .collect();
    format!("{}{{{}}}", key.name(), labels.join(","))
}

impl TestRecorder {
    fn slot(&self, key: &Key) -> Arc<AtomicU64> {
        self.values
            .lock()
            .unwrap()
            .entry(render(key))
            .or_default()
            .clone()
    }

    /// A counter's value (0 when never touched).
    pub fn counter(&self, rendered: &str) -> u64 {
        self.values
            .lock()
            .unwrap()
            .get(rendered)
            .map_or(0, |v| v.load(Ordering::SeqCst))
    }

    /// A gauge's value (NaN when never set).
    pub fn gauge(&self, rendered: &str) -> f64 {
        self.values
            .lock()
            .unwrap()
            .get(rendered)
            .map_or(f64::NAN, |v| f64::from_bits(v.load(Ordering::SeqCst)))
    }
}

impl Recorder for TestRecorder {
    fn describe_counter(&self, _: KeyName, _: Option<Unit>, _: SharedString) {}
    fn describe_gauge(&self, _: KeyName, _: Option<Unit>, _: SharedString) {}
    fn describe_histogram(&self, _: KeyName, _: Option<Unit>, _: SharedString) {}
    fn register_counter(&self, key: &Key, _: &Metadata<'_>) -> Counter {
        Counter::from_arc(self.slot(key))
    }
    fn register_gauge(&self, key: &Key, _: &Metadata<'_>) -> Gauge {
        Gauge::from_arc(self.slot(key))
    }
    fn register_histogram(&self, _: &Key, _: &Metadata<'_>) -> Histogram {
        Histogram::noop()
    }
}

/// A current-thread runtime with tokio time enabled.
pub fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
}
