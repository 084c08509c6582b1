//! Server binds: the gateway as SMSC, partners' ESMEs bound to it.
//!
//! [`serve`] accepts connections on one or more [`Endpoint`]s — the plain listener and,
//! beside it, a TLS one — under one [`ConnectionLimit`] (`max_connections`, counted over
//! both). A connection over the limit is closed at once and logged (one line per second at
//! most under a flood, with the count of the others). Each accepted connection runs one
//! session; a TLS one first completes its handshake within the session-init timer
//! (`bind_timeout`), which then also bounds the bind. The [`SessionHandler`] authenticates
//! each bind; accepted sessions are registered in a [`SessionRegistry`] — atomically
//! against the peer's `max_sessions` — through which the gateway pushes `deliver_sm` (MO and
//! receipts) to the partner's receiver and transceiver sessions.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use smpp_codec::pdu::{Frame, Pdu};
use smpp_codec::types::BindKind;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::TcpListener;
use tokio::sync::{mpsc, oneshot, Semaphore};
use tokio_util::sync::CancellationToken;

use crate::driver::{
    framed, next_session_id, now, Admit, Conn, Control, LinkEvent, Reply, SendFailure, SendRequest,
    SessionHandler, SessionInfo, SessionStats,
};
use crate::machine::{Role, Session, SessionConfig};
use crate::tls::TlsAcceptor;
use crate::tps::TpsLimiter;

/// Listener settings shared by every endpoint (the seed's `[listen]`, less the addresses).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ListenerConfig {
    /// The `system_id` we answer binds with.
    pub our_system_id: String,
    /// Timers of a session before its bind is accepted (`bind_timeout` is the session_init
    /// timer, TLS handshake included); after the bind, the [`crate::BindGrant`]'s config
    /// applies.
    pub session: SessionConfig,
    /// Largest PDU accepted, octets.
    pub max_pdu_len: usize,
}

/// One listening socket: plain SMPP, or SMPP over TLS.
pub struct Endpoint {
    /// The bound listener.
    pub listener: TcpListener,
    /// The TLS acceptor, for an SMPP-over-TLS endpoint.
    pub tls: Option<TlsAcceptor>,
}

impl Endpoint {
    /// A plain SMPP endpoint.
    pub fn plain(listener: TcpListener) -> Self {
        Endpoint {
            listener,
            tls: None,
        }
    }

    /// An SMPP-over-TLS endpoint.
    pub fn tls(listener: TcpListener, acceptor: TlsAcceptor) -> Self {
        Endpoint {
            listener,
            tls: Some(acceptor),
        }
    }
}

/// `max_connections`: the connections open at once over every endpoint, bound or not
/// (seed default 100). Cheap to clone; clones share the count.
#[derive(Clone, Debug)]
pub struct ConnectionLimit {
    slots: Arc<Semaphore>,
    max: usize,
    refused: Arc<AtomicU64>,
    report: Arc<Mutex<RefusalReport>>,
}

#[derive(Debug, Default)]
struct RefusalReport {
    last_line: Option<Instant>,
    unreported: u64,
}

/// At most one "refused" log line per this period; the others are counted in the next line.
const REFUSAL_LOG_PERIOD: Duration = Duration::from_secs(1);

impl ConnectionLimit {
    /// A limit of `max` connections at once.
    pub fn new(max: usize) -> Self {
        ConnectionLimit {
            slots: Arc::new(Semaphore::new(max)),
            max,
            refused: Arc::default(),
            report: Arc::default(),
        }
    }

    /// The limit.
    pub fn max(&self) -> usize {
        self.max
    }

    /// Connections open now.
    pub fn open(&self) -> usize {
        self.max - self.slots.available_permits()
    }

    /// Connections refused since start because the limit was reached.
    pub fn refused(&self) -> u64 {
        self.refused.load(Ordering::Relaxed)
    }

    fn refuse(&self, remote: SocketAddr) {
        self.refused.fetch_add(1, Ordering::Relaxed);
        let mut r = self.report.lock().unwrap_or_else(|p| p.into_inner());
        let t = now();
        if r.last_line
            .is_some_and(|l| t.duration_since(l) < REFUSAL_LOG_PERIOD)
        {
            r.unreported += 1;
            return;
        }
        let others = std::mem::take(&mut r.unreported);
        r.last_line = Some(t);
        drop(r);
        if others == 0 {
            tracing::warn!(%remote, max_connections = self.max, "connection refused and closed: max_connections reached");
        } else {
            tracing::warn!(%remote, max_connections = self.max, "connection refused and closed: max_connections reached ({others} more refused in the last second)");
        }
    }
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

    /// Register `entry` unless its peer already holds `max_sessions` (0 = no limit); the
    /// check and the insert happen under one lock, so simultaneous binds cannot exceed it.
    fn try_insert(&self, entry: Entry, max_sessions: usize) -> bool {
        let mut map = self.lock();
        let list = map.entry(entry.info.peer_name.clone()).or_default();
        if max_sessions > 0 && list.len() >= max_sessions {
            return false;
        }
        list.push(entry);
        true
    }

    fn remove(&self, id: u64) -> Option<String> {
        let mut map = self.lock();
        let peer = map
            .iter()
            .find(|(_, v)| v.iter().any(|e| e.info.id == id))
            .map(|(k, _)| k.clone())?;
        if let Some(v) = map.get_mut(&peer) {
            v.retain(|e| e.info.id != id);
            if v.is_empty() {
                map.remove(&peer);
            }
        }
        Some(peer)
    }

    /// Bound sessions of `peer`.
    pub fn count(&self, peer: &str) -> usize {
        self.lock().get(peer).map_or(0, Vec::len)
    }

    /// True when `peer` has a session that can take `deliver_sm` (receiver or transceiver).
    pub fn has_receiver(&self, peer: &str) -> bool {
        self.lock()
            .get(peer)
            .is_some_and(|v| v.iter().any(|e| can_receive(&e.info)))
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

    /// Snapshots of every bound session, ordered by peer then id.
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
        self.queue_deliver(peer, pdu, None).await?.await
    }

    /// Queue `pdu` on one of `peer`'s receiving sessions (chosen as [`SessionRegistry::deliver`]
    /// does) and return its [`Reply`]; requests queued one after the other on a session are sent
    /// in that order. `deadline` as for [`crate::ClientHandle::queue`].
    pub async fn queue_deliver(
        &self,
        peer: &str,
        pdu: Pdu,
        deadline: Option<tokio::time::Instant>,
    ) -> Result<Reply, SendFailure> {
        let sends = {
            let map = self.lock();
            let candidates: Vec<&Entry> = map
                .get(peer)
                .map(|v| v.iter().filter(|e| can_receive(&e.info)).collect())
                .unwrap_or_default();
            if candidates.is_empty() {
                return Err(SendFailure::NotBound);
            }
            let start = self.rr.fetch_add(1, Ordering::Relaxed);
            let n = candidates.len();
            let best = (0..n)
                .map(|i| candidates[(start + i) % n])
                .min_by_key(|e| {
                    e.stats.in_flight.load(Ordering::Relaxed)
                        + (e.sends.max_capacity() - e.sends.capacity())
                })
                .map(|e| e.sends.clone());
            match best {
                Some(s) => s,
                None => return Err(SendFailure::NotBound),
            }
        };
        let (reply, rx) = oneshot::channel();
        sends
            .send(SendRequest {
                pdu,
                reply,
                deadline: deadline.map(|d| d.into_std()),
            })
            .await
            .map_err(|_| SendFailure::NotBound)?;
        Ok(Reply(rx))
    }

    /// Close every session of `peer` at once (operator's "drop connection", peer deleted).
    pub fn drop_peer(&self, peer: &str) {
        for e in self.lock().get(peer).into_iter().flatten() {
            let _ = e.control.send(Control::Drop);
        }
    }

    /// Unbind every session of `peer` (peer disabled): each stops taking requests, waits
    /// (bounded) for its in-flight responses, unbinds and closes.
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

/// Accept partners on every endpoint until `shutdown` is cancelled; then every session
/// unbinds and this returns when they have all ended.
pub async fn serve(
    endpoints: Vec<Endpoint>,
    limit: ConnectionLimit,
    config: ListenerConfig,
    handler: Arc<dyn SessionHandler>,
    registry: SessionRegistry,
    shutdown: CancellationToken,
) {
    let tracker = tokio_util::task::TaskTracker::new();
    for ep in endpoints {
        let (limit, config, handler, registry, shutdown, sessions) = (
            limit.clone(),
            config.clone(),
            handler.clone(),
            registry.clone(),
            shutdown.clone(),
            tracker.clone(),
        );
        tracker.spawn(accept_loop(
            ep, limit, config, handler, registry, shutdown, sessions,
        ));
    }
    tracker.close();
    tracker.wait().await;
}

async fn accept_loop(
    ep: Endpoint,
    limit: ConnectionLimit,
    config: ListenerConfig,
    handler: Arc<dyn SessionHandler>,
    registry: SessionRegistry,
    shutdown: CancellationToken,
    sessions: tokio_util::task::TaskTracker,
) {
    loop {
        let accepted = tokio::select! {
            _ = shutdown.cancelled() => return,
            a = ep.listener.accept() => a,
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
        let Ok(permit) = limit.slots.clone().try_acquire_owned() else {
            limit.refuse(remote);
            drop(stream);
            continue;
        };
        let accepted_at = now();
        let _ = stream.set_nodelay(true);
        let (cfg, handler, registry, shutdown, tls) = (
            config.clone(),
            handler.clone(),
            registry.clone(),
            shutdown.clone(),
            ep.tls.clone(),
        );
        sessions.spawn(async move {
            let _permit = permit;
            match tls {
                None => run_session(stream, remote, false, accepted_at, cfg, handler, registry, shutdown).await,
                Some(acceptor) => {
                    let limit = cfg.session.bind_timeout;
                    let handshake = tokio::select! {
                        _ = shutdown.cancelled() => return,
                        h = tokio::time::timeout(limit, acceptor.accept(stream)) => h,
                    };
                    match handshake {
                        Ok(Ok(tls_stream)) => run_session(tls_stream, remote, true, accepted_at, cfg, handler, registry, shutdown).await,
                        Ok(Err(e)) => tracing::warn!(%remote, error = %e, "TLS handshake failed; connection closed"),
                        Err(_) => tracing::warn!(%remote, "TLS handshake not completed within the session-init timer ({}s); connection closed", limit.as_secs()),
                    }
                }
            }
        });
    }
}

/// Run one server session on any byte stream (a TCP or TLS stream, or an in-memory duplex in
/// tests) until it ends; its session-init timer starts now.
pub async fn run_server_session<IO: AsyncRead + AsyncWrite + Unpin>(
    io: IO,
    remote: SocketAddr,
    config: ListenerConfig,
    handler: Arc<dyn SessionHandler>,
    registry: SessionRegistry,
    shutdown: CancellationToken,
) {
    run_session(
        io,
        remote,
        false,
        now(),
        config,
        handler,
        registry,
        shutdown,
    )
    .await
}

#[allow(clippy::too_many_arguments)]
async fn run_session<IO: AsyncRead + AsyncWrite + Unpin>(
    io: IO,
    remote: SocketAddr,
    tls: bool,
    accepted_at: Instant,
    config: ListenerConfig,
    handler: Arc<dyn SessionHandler>,
    registry: SessionRegistry,
    shutdown: CancellationToken,
) {
    let info = SessionInfo {
        id: next_session_id(),
        peer_name: String::new(),
        role: Role::Smsc,
        kind: None,
        system_id: String::new(),
        remote,
        tls,
    };
    let window = config.session.window_size.max(1);
    let (sends_tx, mut sends_rx) = mpsc::channel(window);
    let (control_tx, mut control_rx) = mpsc::unbounded_channel();
    let stats = Arc::new(SessionStats::default());
    let reg = registry.clone();
    let reg_stats = stats.clone();
    let admit: Admit = Box::new(move |info: &SessionInfo, grant| {
        let entry = Entry {
            info: info.clone(),
            sends: sends_tx,
            control: control_tx,
            stats: reg_stats,
            since: tokio::time::Instant::now(),
        };
        reg.try_insert(entry, grant.max_sessions)
    });
    let conn = Conn {
        framed: framed(io, config.max_pdu_len, config.session.decode),
        session: Session::new(Role::Smsc, config.session.clone(), accepted_at),
        info: Arc::new(info.clone()),
        handler: handler.clone(),
        tps: TpsLimiter::new(0),
        stats,
        our_system_id: config.our_system_id.clone(),
        on_bound: None,
        admit: Some(admit),
    };
    tracing::debug!(%remote, session = info.id, tls, "connection accepted");
    let (reason, last) = conn.run(&mut sends_rx, &mut control_rx, &shutdown).await;
    registry.remove(info.id);
    if last.peer_name.is_empty() {
        tracing::info!(%remote, system_id = %last.system_id, "unbound connection closed: {reason}");
    } else {
        tracing::info!(%remote, peer = %last.peer_name, system_id = %last.system_id, "server session closed: {reason}");
    }
    handler.on_event(&last, &LinkEvent::Closed(reason));
}
