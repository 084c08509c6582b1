//! Client binds: the gateway as ESME, bound out to a carrier's SMSC.
//!
//! [`spawn_client`] starts one task per bind that connects (TCP, or TLS over TCP), binds, runs
//! the session and, after any loss, connects again — never in a tight loop, and without
//! holding the gateway's start when the carrier is down. The schedule:
//!
//! - the first attempt waits `start_delay` (the seed's staggered start, 500 ms apart);
//! - after a failed connection (refused, unreachable, timeout, TLS handshake) or the loss of
//!   a bound session, the next attempt comes `reconnect_interval` later (seed: every 30 s);
//! - after a refused bind (`ESME_RBINDFAIL`, `ESME_RINVPASWD`, `ESME_RINVSYSID`,
//!   `ESME_RALYBND`, …) or a bind left unanswered, the wait doubles with each refusal in a
//!   row — `reconnect_interval`, ×2, ×4 … up to `reconnect_max_interval` — so wrong
//!   credentials do not hammer a carrier that may lock the account; a successful bind resets
//!   it.
//!
//! Every failure is logged with its reason and the time to the next attempt, and reported
//! through [`SessionHandler::on_event`]. Requests are sent through the returned
//! [`ClientHandle`]; while the link is not bound they fail at once with
//! [`SendFailure::NotBound`] so nothing waits on a dead carrier.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use futures::future::BoxFuture;
use smpp_codec::pdu::{Bind, Frame, Pdu};
use smpp_codec::types::{BindKind, COctetString};
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::TcpStream;
use tokio::sync::{mpsc, oneshot, watch};
use tokio_util::sync::CancellationToken;

use crate::driver::{
    framed, next_session_id, now, Conn, Control, LinkEvent, Reply, SendFailure, SendRequest,
    SessionHandler, SessionInfo, SessionStats,
};
use crate::machine::{CloseReason, Role, Session, SessionConfig};
use crate::tls::ClientTls;
use crate::tps::TpsLimiter;

/// Everything one client bind needs (the seed's `[[binds]]` keys plus timers).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ClientConfig {
    /// The bind's name (`name`).
    pub name: String,
    /// The SMSC's host name or address.
    pub host: String,
    /// The SMSC's port.
    pub port: u16,
    /// transmitter, receiver or transceiver.
    pub kind: BindKind,
    /// `system_id` sent in the bind.
    pub system_id: String,
    /// `password` sent in the bind.
    pub password: String,
    /// `system_type` sent in the bind.
    pub system_type: String,
    /// `interface_version` sent in the bind (0x34; 0x50 for v5).
    pub interface_version: u8,
    /// `addr_ton` of the bind.
    pub addr_ton: u8,
    /// `addr_npi` of the bind.
    pub addr_npi: u8,
    /// `address_range` of the bind.
    pub address_range: String,
    /// Timers and window.
    pub session: SessionConfig,
    /// `submit_sm` per second (0 = unlimited).
    pub tps_limit: u32,
    /// Wait before the next attempt after a failed connection or a lost session (seed: 30 s);
    /// also the first wait after a refused bind.
    pub reconnect_interval: Duration,
    /// Longest wait between attempts while binds keep being refused.
    pub reconnect_max_interval: Duration,
    /// Limit of one connection attempt, TLS handshake included.
    pub connect_timeout: Duration,
    /// Delay before the first attempt (the seed's staggered start: 500 ms apart).
    pub start_delay: Duration,
    /// Largest PDU accepted from the SMSC, octets.
    pub max_pdu_len: usize,
    /// SMPP over TLS when set.
    pub tls: Option<ClientTls>,
}

impl ClientConfig {
    fn bind_body(&self) -> Bind {
        Bind {
            system_id: COctetString::from(self.system_id.as_str()),
            password: COctetString::from(self.password.as_str()),
            system_type: COctetString::from(self.system_type.as_str()),
            interface_version: self.interface_version,
            addr_ton: self.addr_ton,
            addr_npi: self.addr_npi,
            address_range: COctetString::from(self.address_range.as_str()),
        }
    }

    /// The wait before the next attempt after `refusals` refused binds in a row (≥ 1).
    pub fn refused_bind_wait(&self, refusals: u32) -> Duration {
        let cap = self.reconnect_max_interval.max(self.reconnect_interval);
        let factor = 1u32
            .checked_shl(refusals.saturating_sub(1))
            .unwrap_or(u32::MAX);
        self.reconnect_interval
            .checked_mul(factor)
            .map_or(cap, |d| d.min(cap))
    }
}

/// A byte stream a session can run on: TCP, TLS over TCP, or an in-memory duplex in tests.
pub trait Stream: AsyncRead + AsyncWrite + Unpin + Send + 'static {}
impl<T: AsyncRead + AsyncWrite + Unpin + Send + 'static> Stream for T {}

/// An open connection to the SMSC.
pub struct Connected {
    /// The stream.
    pub stream: Box<dyn Stream>,
    /// The SMSC's address.
    pub remote: SocketAddr,
    /// Whether `stream` is TLS.
    pub tls: bool,
}

/// Opens the connection of a client bind. [`TcpConnector`] is the real one; tests supply
/// in-memory streams.
pub trait Connector: Send + Sync + 'static {
    /// Connect to the SMSC of `config`; `Err` says why not, for the log. The caller bounds
    /// the attempt by `connect_timeout`.
    fn connect(&self, config: &ClientConfig) -> BoxFuture<'static, Result<Connected, String>>;
}

/// TCP to `host:port`, then TLS when the bind has `tls`.
#[derive(Clone, Copy, Debug, Default)]
pub struct TcpConnector;

impl Connector for TcpConnector {
    fn connect(&self, config: &ClientConfig) -> BoxFuture<'static, Result<Connected, String>> {
        let addr = format!("{}:{}", config.host, config.port);
        let tls = config.tls.clone();
        Box::pin(async move {
            let tcp = TcpStream::connect(&addr)
                .await
                .map_err(|e| format!("connect to {addr} failed: {e}"))?;
            let _ = tcp.set_nodelay(true);
            let remote = tcp
                .peer_addr()
                .map_err(|e| format!("connect to {addr} failed: {e}"))?;
            match tls {
                None => Ok(Connected {
                    stream: Box::new(tcp),
                    remote,
                    tls: false,
                }),
                Some(t) => {
                    let stream = t
                        .connector()
                        .connect(t.server_name.clone(), tcp)
                        .await
                        .map_err(|e| format!("TLS handshake with {addr} failed: {e}"))?;
                    Ok(Connected {
                        stream: Box::new(stream),
                        remote,
                        tls: true,
                    })
                }
            }
        })
    }
}

/// The link's state as seen by workers and the status API.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum LinkState {
    /// Waiting before the next attempt.
    Disconnected,
    /// Connecting or binding.
    Connecting,
    /// Bound; requests may be sent.
    Bound,
    /// Stopped for good (disabled or shut down).
    Stopped,
}

/// The link's state with the last error and when it changed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LinkStatus {
    /// The state.
    pub state: LinkState,
    /// Why the link last went down or failed to come up.
    pub last_error: Option<String>,
    /// When the state last changed (tokio clock).
    pub since: tokio::time::Instant,
    /// While `Disconnected`: when the next attempt starts.
    pub next_attempt: Option<tokio::time::Instant>,
    /// Refused binds in a row (reset by a successful bind).
    pub refused_binds: u32,
}

/// Handle of a running client bind.
#[derive(Debug)]
pub struct ClientHandle {
    sends: mpsc::Sender<SendRequest>,
    control: mpsc::UnboundedSender<ClientControl>,
    status: watch::Receiver<LinkStatus>,
    stats: Arc<SessionStats>,
    stop: CancellationToken,
    task: tokio::task::JoinHandle<()>,
}

#[derive(Debug)]
enum ClientControl {
    Session(Control),
    Reconnect,
}

impl ClientHandle {
    /// Send a request (`submit_sm`, `data_sm`) and wait for its response. Fails at once with
    /// `NotBound` when the link is down; the window and `tps_limit` pace it otherwise.
    pub async fn send(&self, pdu: Pdu) -> Result<Frame, SendFailure> {
        self.queue(pdu, None).await?.await
    }

    /// Queue a request on the bind (waiting only for room in its queue) and return its
    /// [`Reply`]. Requests queued one after the other are sent in that order. With a
    /// `deadline` (the core's lease), it is not sent, nor sent again after throttling, from
    /// then on: the answer is then the peer's last refusal or [`SendFailure::Expired`].
    pub async fn queue(
        &self,
        pdu: Pdu,
        deadline: Option<tokio::time::Instant>,
    ) -> Result<Reply, SendFailure> {
        if self.status.borrow().state != LinkState::Bound {
            return Err(SendFailure::NotBound);
        }
        let (reply, rx) = oneshot::channel();
        if self
            .sends
            .send(SendRequest {
                pdu,
                reply,
                deadline: deadline.map(|d| d.into_std()),
            })
            .await
            .is_err()
        {
            return Err(SendFailure::NotBound);
        }
        Ok(Reply(rx))
    }

    /// The current link status.
    pub fn status(&self) -> LinkStatus {
        self.status.borrow().clone()
    }

    /// A receiver that sees every status change.
    pub fn subscribe(&self) -> watch::Receiver<LinkStatus> {
        self.status.clone()
    }

    /// Live counters (in flight, sent, received).
    pub fn stats(&self) -> Arc<SessionStats> {
        self.stats.clone()
    }

    /// Unbind the current session (if any) and connect again now.
    pub fn reconnect(&self) {
        let _ = self.control.send(ClientControl::Reconnect);
    }

    /// Drop the current connection at once, without unbind; the bind reconnects on schedule.
    pub fn drop_connection(&self) {
        let _ = self.control.send(ClientControl::Session(Control::Drop));
    }

    /// New timers, window and TPS limit for the running session.
    pub fn update_session(&self, config: SessionConfig, tps_limit: u32) {
        let _ = self
            .control
            .send(ClientControl::Session(Control::Update(config, tps_limit)));
    }

    /// Stop for good without waiting: finish in flight (bounded), unbind and close.
    pub fn stop(&self) {
        self.stop.cancel();
    }

    /// Wait until the bind has stopped for good (after a stop was requested).
    pub async fn wait_stopped(&self) {
        let mut rx = self.status.clone();
        let _ = rx.wait_for(|s| s.state == LinkState::Stopped).await;
    }

    /// Stop for good: finish in-flight requests (bounded), unbind, close, and wait for the task.
    pub async fn shutdown(self) {
        self.stop.cancel();
        let _ = self.task.await;
    }
}

/// Start a client bind over TCP (or TLS). It connects after `config.start_delay`, and keeps
/// reconnecting until [`ClientHandle::shutdown`] (or `shutdown` is cancelled).
pub fn spawn_client(
    config: ClientConfig,
    handler: Arc<dyn SessionHandler>,
    shutdown: &CancellationToken,
) -> ClientHandle {
    spawn_client_with(config, Arc::new(TcpConnector), handler, shutdown)
}

/// [`spawn_client`] with its own way of connecting (tests: in-memory streams).
pub fn spawn_client_with(
    config: ClientConfig,
    connector: Arc<dyn Connector>,
    handler: Arc<dyn SessionHandler>,
    shutdown: &CancellationToken,
) -> ClientHandle {
    let (sends_tx, sends_rx) = mpsc::channel(config.session.window_size.max(1));
    let (control_tx, control_rx) = mpsc::unbounded_channel();
    let (status_tx, status_rx) = watch::channel(LinkStatus {
        state: LinkState::Disconnected,
        last_error: None,
        since: tokio::time::Instant::now(),
        next_attempt: None,
        refused_binds: 0,
    });
    let stats = Arc::new(SessionStats::default());
    let stop = shutdown.child_token();
    let task = tokio::spawn(run_client(
        config,
        connector,
        handler,
        sends_rx,
        control_rx,
        status_tx,
        stats.clone(),
        stop.clone(),
    ));
    ClientHandle {
        sends: sends_tx,
        control: control_tx,
        status: status_rx,
        stats,
        stop,
        task,
    }
}

fn set_status(tx: &watch::Sender<LinkStatus>, state: LinkState, last_error: Option<String>) {
    tx.send_modify(|s| {
        if s.state != state {
            s.since = tokio::time::Instant::now();
        }
        s.state = state;
        if last_error.is_some() {
            s.last_error = last_error;
        }
        s.next_attempt = None;
    });
}

fn human(d: Duration) -> String {
    if d.subsec_millis() == 0 {
        format!("{}s", d.as_secs())
    } else {
        format!("{:.1}s", d.as_secs_f64())
    }
}

#[allow(clippy::too_many_arguments)]
async fn run_client(
    config: ClientConfig,
    connector: Arc<dyn Connector>,
    handler: Arc<dyn SessionHandler>,
    mut sends: mpsc::Receiver<SendRequest>,
    mut control: mpsc::UnboundedReceiver<ClientControl>,
    status: watch::Sender<LinkStatus>,
    stats: Arc<SessionStats>,
    stop: CancellationToken,
) {
    let placeholder: SocketAddr = ([0, 0, 0, 0], 0).into();
    let mut info = SessionInfo {
        id: 0,
        peer_name: config.name.clone(),
        role: Role::Esme,
        kind: None,
        system_id: config.system_id.clone(),
        remote: placeholder,
        tls: config.tls.is_some(),
    };
    let target = format!("{}:{}", config.host, config.port);
    let mut wait = config.start_delay;
    let mut session_config = config.session.clone();
    let tps = TpsLimiter::new(config.tps_limit);
    let mut refusals: u32 = 0;
    loop {
        // Wait before the attempt; fail sends meanwhile; honour reconnect and stop.
        let deadline = tokio::time::Instant::now() + wait;
        status.send_modify(|s| s.next_attempt = Some(deadline));
        loop {
            tokio::select! {
                _ = stop.cancelled() => {
                    set_status(&status, LinkState::Stopped, None);
                    return;
                }
                _ = tokio::time::sleep_until(deadline) => break,
                c = control.recv() => match c {
                    Some(ClientControl::Reconnect) => break,
                    Some(ClientControl::Session(Control::Update(cfg, limit))) => {
                        session_config = cfg;
                        tps.set_limit(limit);
                    }
                    Some(ClientControl::Session(_)) => {}
                    None => {
                        set_status(&status, LinkState::Stopped, None);
                        return;
                    }
                },
                Some(req) = sends.recv() => {
                    let _ = req.reply.send(Err(SendFailure::NotBound));
                }
            }
        }

        set_status(&status, LinkState::Connecting, None);
        handler.on_event(&info, &LinkEvent::Connecting);
        let attempt = tokio::select! {
            _ = stop.cancelled() => {
                set_status(&status, LinkState::Stopped, None);
                return;
            }
            a = tokio::time::timeout(config.connect_timeout, connector.connect(&config)) => a,
        };
        let connected = match attempt {
            Ok(Ok(c)) => c,
            failed => {
                let why = match failed {
                    Ok(Err(why)) => why,
                    _ => format!(
                        "connect to {target} timed out after {}",
                        human(config.connect_timeout)
                    ),
                };
                wait = config.reconnect_interval;
                tracing::warn!(bind = %config.name, "{why}; next attempt in {}", human(wait));
                handler.on_event(&info, &LinkEvent::ConnectFailed(why.clone()));
                set_status(&status, LinkState::Disconnected, Some(why));
                continue;
            }
        };
        info.id = next_session_id();
        info.kind = None;
        info.remote = connected.remote;
        info.tls = connected.tls;

        let mut session = Session::new(Role::Esme, session_config.clone(), now());
        session.bind(now(), config.kind, config.bind_body());
        let bound_status = status.clone();
        let conn = Conn {
            framed: framed(connected.stream, config.max_pdu_len, session_config.decode),
            session,
            info: Arc::new(info.clone()),
            handler: handler.clone(),
            tps: tps.clone(),
            stats: stats.clone(),
            our_system_id: config.system_id.clone(),
            on_bound: Some(Box::new(move |_| {
                bound_status.send_modify(|s| s.refused_binds = 0);
                set_status(&bound_status, LinkState::Bound, None);
            })),
            admit: None,
        };
        // Route client controls to the session while it runs.
        let (sess_ctl_tx, mut sess_ctl_rx) = mpsc::unbounded_channel();
        let mut reconnect_now = false;
        let (reason, _) = {
            let run = conn.run(&mut sends, &mut sess_ctl_rx, &stop);
            tokio::pin!(run);
            let mut control_open = true;
            loop {
                tokio::select! {
                    r = &mut run => break r,
                    c = control.recv(), if control_open => match c {
                        Some(ClientControl::Reconnect) => {
                            reconnect_now = true;
                            let _ = sess_ctl_tx.send(Control::Unbind);
                        }
                        Some(ClientControl::Session(Control::Update(cfg, limit))) => {
                            session_config = cfg.clone();
                            let _ = sess_ctl_tx.send(Control::Update(cfg, limit));
                        }
                        Some(ClientControl::Session(c)) => { let _ = sess_ctl_tx.send(c); }
                        None => {
                            control_open = false;
                            let _ = sess_ctl_tx.send(Control::Unbind);
                        }
                    }
                }
            }
        };
        let was_bound = status.borrow().state == LinkState::Bound;
        let refused = matches!(
            reason,
            CloseReason::BindRejected(_) | CloseReason::BindTimeout
        );
        if refused {
            refusals += 1;
            wait = config.refused_bind_wait(refusals);
            status.send_modify(|s| s.refused_binds = refusals);
            tracing::warn!(
                bind = %config.name, remote = %target, system_id = %config.system_id,
                "{reason}; next attempt in {} ({refusals} refused in a row)", human(wait)
            );
            handler.on_event(&info, &LinkEvent::BindFailed(reason.to_string()));
        } else {
            if was_bound {
                refusals = 0;
            }
            wait = config.reconnect_interval;
            if !stop.is_cancelled() {
                tracing::warn!(bind = %config.name, remote = %target, "session closed: {reason}; next attempt in {}", human(wait));
            } else {
                tracing::info!(bind = %config.name, remote = %target, "session closed: {reason}");
            }
        }
        handler.on_event(&info, &LinkEvent::Closed(reason.clone()));
        set_status(&status, LinkState::Disconnected, Some(reason.to_string()));
        if stop.is_cancelled() {
            set_status(&status, LinkState::Stopped, None);
            return;
        }
        if reconnect_now {
            wait = Duration::ZERO;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cfg(interval: u64, max: u64) -> ClientConfig {
        ClientConfig {
            name: "c".into(),
            host: "h".into(),
            port: 1,
            kind: BindKind::Transceiver,
            system_id: "s".into(),
            password: "p".into(),
            system_type: String::new(),
            interface_version: 0x34,
            addr_ton: 0,
            addr_npi: 0,
            address_range: String::new(),
            session: SessionConfig::default(),
            tps_limit: 0,
            reconnect_interval: Duration::from_secs(interval),
            reconnect_max_interval: Duration::from_secs(max),
            connect_timeout: Duration::from_secs(10),
            start_delay: Duration::ZERO,
            max_pdu_len: 4096,
            tls: None,
        }
    }

    #[test]
    fn refused_binds_back_off_from_the_reconnect_interval_to_the_cap() {
        let c = cfg(30, 300);
        let waits: Vec<u64> = (1..=7).map(|n| c.refused_bind_wait(n).as_secs()).collect();
        assert_eq!(waits, vec![30, 60, 120, 240, 300, 300, 300]);
        assert_eq!(c.refused_bind_wait(1_000).as_secs(), 300);
        // A cap below the interval never makes the wait shorter than the interval.
        assert_eq!(cfg(30, 10).refused_bind_wait(5).as_secs(), 30);
    }
}
