//! Server binds: the gateway as SMSC, partners' ESMEs bound to it.
//!
//! [`serve`] accepts connections up to `max_connections` (one over the limit is closed at once
//! and logged), runs one session per connection, asks the [`SessionHandler`] to authenticate
//! each bind, and registers bound sessions in a [`SessionRegistry`] through which the gateway
//! pushes `deliver_sm` (MO and receipts) to the partner's receiver and transceiver sessions.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use smpp_codec::pdu::{Frame, Pdu};
use smpp_codec::types::BindKind;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::TcpListener;
use tokio::sync::{mpsc, oneshot, Semaphore};
use tokio_util::sync::CancellationToken;

use crate::driver::{framed, next_session_id, Conn, Control, LinkEvent, SendFailure, SendRequest, SessionHandler, SessionInfo, SessionStats};
use crate::machine::{Role, Session, SessionConfig};
use crate::tps::TpsWindow;

/// Listener settings (the seed's `[listen]`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ListenerConfig {
    /// Most connections at once, bound or not (seed default 100).
    pub max_connections: usize,
    /// The `system_id` we answer binds with.
    pub our_system_id: String,
    /// Timers of a session before its bind is accepted (`bind_timeout` is the session_init
    /// timer); after the bind, the [`crate::BindGrant`]'s config applies.
    pub session: SessionConfig,
    /// Largest PDU accepted, octets.
    pub max_pdu_len: usize,
}

/// One bound session as the registry shows it.
#[derive(Clone, Debug)]
pub struct SessionSnapshot {
    /// Session info (peer name, bind type, system_id, remote address).
    pub info: SessionInfo,
    /// Requests of ours awaiting a response.
    pub in_flight: usize,
    /// Message requests we sent on it.
    pub sent: u64,
    /// Message requests received on it.
    pub received: u64,
    /// How long it has been bound.
    pub uptime: Duration,
}

#[derive(Debug)]
struct Entry {
    info: SessionInfo,
    sends: mpsc::Sender<SendRequest>,
    control: mpsc::UnboundedSender<Control>,
    stats: Arc<SessionStats>,
    since: tokio::time::Instant,
}

/// The bound server sessions, by peer name. Cheap to clone.
#[derive(Clone, Debug, Default)]
pub struct SessionRegistry {
    inner: Arc<Mutex<HashMap<String, Vec<Entry>>>>,
    rr: Arc<AtomicUsize>,
}

impl SessionRegistry {
    /// An empty registry.
    pub fn new() -> Self {
        Self::default()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, Vec<Entry>>> {
        // A poisoned lock only means another thread panicked while holding it; the map itself
        // is still consistent (every mutation is a single push or retain).
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn insert(&self, entry: Entry) {
        self.lock().entry(entry.info.peer_name.clone()).or_default().push(entry);
    }

    fn remove(&self, peer: &str, id: u64) {
        let mut map = self.lock();
        if let Some(v) = map.get_mut(peer) {
            v.retain(|e| e.info.id != id);
            if v.is_empty() {
                map.remove(peer);
            }
        }
    }

    /// Bound sessions of `peer`.
    pub fn count(&self, peer: &str) -> usize {
        self.lock().get(peer).map_or(0, Vec::len)
    }

    /// True when `peer` has a session that can take `deliver_sm` (receiver or transceiver).
    pub fn has_receiver(&self, peer: &str) -> bool {
        self.lock().get(peer).is_some_and(|v| v.iter().any(|e| can_receive(&e.info)))
    }

    /// Free window slots over `peer`'s receiving sessions.
    pub fn receive_capacity(&self, peer: &str, window: usize) -> usize {
        self.lock().get(peer).map_or(0, |v| {
            v.iter()
                .filter(|e| can_receive(&e.info))
                .map(|e| window.saturating_sub(e.stats.in_flight.load(Ordering::Relaxed)))
                .sum()
        })
    }

    /// Snapshots of every bound session, grouped by nothing, ordered by peer then id.
    pub fn snapshot(&self) -> Vec<SessionSnapshot> {
        let map = self.lock();
        let now = tokio::time::Instant::now();
        let mut out: Vec<SessionSnapshot> = map
            .values()
            .flatten()
            .map(|e| SessionSnapshot {
                info: e.info.clone(),
                in_flight: e.stats.in_flight.load(Ordering::Relaxed),
                sent: e.stats.sent.load(Ordering::Relaxed),
                received: e.stats.received.load(Ordering::Relaxed),
                uptime: now.saturating_duration_since(e.since),
            })
            .collect();
        out.sort_by(|a, b| (&a.info.peer_name, a.info.id).cmp(&(&b.info.peer_name, b.info.id)));
        out
    }

    /// Send `pdu` (a `deliver_sm` or `data_sm`) to one of `peer`'s receiving sessions — the one
    /// with the fewest requests in flight, ties broken round robin — and wait for its response.
    pub async fn deliver(&self, peer: &str, pdu: Pdu) -> Result<Frame, SendFailure> {
        let sends = {
            let map = self.lock();
            let candidates: Vec<&Entry> = map.get(peer).map(|v| v.iter().filter(|e| can_receive(&e.info)).collect()).unwrap_or_default();
            if candidates.is_empty() {
                return Err(SendFailure::NotBound);
            }
            let start = self.rr.fetch_add(1, Ordering::Relaxed);
            let n = candidates.len();
            let best = (0..n)
                .map(|i| candidates[(start + i) % n])
                .min_by_key(|e| e.stats.in_flight.load(Ordering::Relaxed))
                .map(|e| e.sends.clone());
            match best {
                Some(s) => s,
                None => return Err(SendFailure::NotBound),
            }
        };
        let (reply, rx) = oneshot::channel();
        sends.send(SendRequest { pdu, reply }).await.map_err(|_| SendFailure::NotBound)?;
        rx.await.unwrap_or(Err(SendFailure::Closed("session ended".into())))
    }

    /// Close every session of `peer` at once (operator's "drop connection", peer deleted).
    pub fn drop_peer(&self, peer: &str) {
        for e in self.lock().get(peer).into_iter().flatten() {
            let _ = e.control.send(Control::Drop);
        }
    }

    /// Unbind every session of `peer` (peer disabled).
    pub fn unbind_peer(&self, peer: &str) {
        for e in self.lock().get(peer).into_iter().flatten() {
            let _ = e.control.send(Control::Unbind);
        }
    }

    /// Apply new timers, window and TPS to every live session of `peer`.
    pub fn update_peer(&self, peer: &str, config: &SessionConfig, tps_limit: u32) {
        for e in self.lock().get(peer).into_iter().flatten() {
            let _ = e.control.send(Control::Update(config.clone(), tps_limit));
        }
    }
}

fn can_receive(info: &SessionInfo) -> bool {
    matches!(info.kind, Some(BindKind::Receiver | BindKind::Transceiver))
}

/// Accept partners on `listener` until `shutdown` is cancelled; then every session unbinds and
/// this returns when they have all ended.
pub async fn serve(listener: TcpListener, config: ListenerConfig, handler: Arc<dyn SessionHandler>, registry: SessionRegistry, shutdown: CancellationToken) {
    let slots = Arc::new(Semaphore::new(config.max_connections));
    let tracker = tokio_util::task::TaskTracker::new();
    loop {
        let accepted = tokio::select! {
            _ = shutdown.cancelled() => break,
            a = listener.accept() => a,
        };
        let (stream, remote) = match accepted {
            Ok(a) => a,
            Err(e) => {
                // Out of file descriptors and the like: pause instead of spinning.
                tracing::error!(error = %e, "accept failed");
                tokio::time::sleep(Duration::from_millis(100)).await;
                continue;
            }
        };
        let Ok(permit) = slots.clone().try_acquire_owned() else {
            tracing::warn!(%remote, max_connections = config.max_connections, "connection refused: max_connections reached");
            drop(stream);
            continue;
        };
        let _ = stream.set_nodelay(true);
        let cfg = config.clone();
        let handler = handler.clone();
        let registry = registry.clone();
        let shutdown = shutdown.clone();
        tracker.spawn(async move {
            run_server_session(stream, remote, cfg, handler, registry, shutdown).await;
            drop(permit);
        });
    }
    // Stop accepting at once: new connections are refused while the live sessions unbind.
    drop(listener);
    tracker.close();
    tracker.wait().await;
}

/// Run one server session on any byte stream (a TCP or TLS stream, or an in-memory duplex in
/// tests) until it ends.
pub async fn run_server_session<IO: AsyncRead + AsyncWrite + Unpin>(
    io: IO,
    remote: SocketAddr,
    config: ListenerConfig,
    handler: Arc<dyn SessionHandler>,
    registry: SessionRegistry,
    shutdown: CancellationToken,
) {
    let info = SessionInfo { id: next_session_id(), peer_name: String::new(), role: Role::Smsc, kind: None, system_id: String::new(), remote };
    let window = config.session.window_size.max(1);
    let (sends_tx, mut sends_rx) = mpsc::channel(window);
    let (control_tx, mut control_rx) = mpsc::unbounded_channel();
    let stats = Arc::new(SessionStats::default());
    let reg = registry.clone();
    let reg_stats = stats.clone();
    let on_bound = Box::new(move |info: &SessionInfo| {
        reg.insert(Entry { info: info.clone(), sends: sends_tx, control: control_tx, stats: reg_stats, since: tokio::time::Instant::now() });
    });
    let now = tokio::time::Instant::now().into_std();
    let conn = Conn {
        framed: framed(io, config.max_pdu_len),
        session: Session::new(Role::Smsc, config.session.clone(), now),
        info: Arc::new(info.clone()),
        handler: handler.clone(),
        tps: TpsWindow::new(0),
        stats,
        our_system_id: config.our_system_id.clone(),
        on_bound: Some(on_bound),
    };
    tracing::debug!(%remote, session = info.id, "connection accepted");
    let reason = conn.run(&mut sends_rx, &mut control_rx, &shutdown).await;
    // The registry entry (if bound) is keyed by the peer name the bind got.
    let peer = {
        let map = registry.lock();
        map.iter().find(|(_, v)| v.iter().any(|e| e.info.id == info.id)).map(|(k, _)| k.clone())
    };
    let mut final_info = info.clone();
    if let Some(p) = peer {
        registry.remove(&p, info.id);
        final_info.peer_name = p;
    }
    tracing::info!(%remote, peer = %final_info.peer_name, "server session closed: {reason}");
    handler.on_event(&final_info, &LinkEvent::Closed(reason));
}
