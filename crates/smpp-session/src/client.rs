//! Client binds: the gateway as ESME, bound out to a carrier's SMSC.
//!
//! [`spawn_client`] starts one task per bind that connects, binds, runs the session and, after
//! any loss, reconnects every `reconnect_interval` (seed: 30 s) — never in a tight loop, and
//! without blocking the gateway's start when the carrier is down. Requests are sent through the
//! returned [`ClientHandle`]; while the link is not bound they fail at once with
//! [`SendFailure::NotBound`] so nothing waits on a dead carrier.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use smpp_codec::pdu::{Bind, Frame, Pdu};
use smpp_codec::types::{BindKind, COctetString};
use tokio::net::TcpStream;
use tokio::sync::{mpsc, oneshot, watch};
use tokio_util::sync::CancellationToken;

use crate::driver::{framed, next_session_id, Conn, Control, LinkEvent, SendFailure, SendRequest, SessionHandler, SessionInfo, SessionStats};
use crate::machine::{CloseReason, Role, Session, SessionConfig};
use crate::tps::TpsWindow;

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
    /// Wait between connection attempts after a failure or loss (seed: 30 s).
    pub reconnect_interval: Duration,
    /// Limit of one TCP connect.
    pub connect_timeout: Duration,
    /// Delay before the first attempt (the seed's staggered start: 500 ms apart).
    pub start_delay: Duration,
    /// Largest PDU accepted from the SMSC, octets.
    pub max_pdu_len: usize,
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
        if self.status.borrow().state != LinkState::Bound {
            return Err(SendFailure::NotBound);
        }
        let (reply, rx) = oneshot::channel();
        if self.sends.send(SendRequest { pdu, reply }).await.is_err() {
            return Err(SendFailure::NotBound);
        }
        rx.await.unwrap_or(Err(SendFailure::Closed("bind task stopped".into())))
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

    /// Drop the current connection (if any) and connect again now.
    pub fn reconnect(&self) {
        let _ = self.control.send(ClientControl::Reconnect);
    }

    /// Drop the current connection at once, without unbind; the bind reconnects on schedule.
    pub fn drop_connection(&self) {
        let _ = self.control.send(ClientControl::Session(Control::Drop));
    }

    /// New timers, window and TPS limit for the running session.
    pub fn update_session(&self, config: SessionConfig, tps_limit: u32) {
        let _ = self.control.send(ClientControl::Session(Control::Update(config, tps_limit)));
    }

    /// Stop for good without waiting: unbind (after in-flight responses, bounded) and close.
    pub fn stop(&self) {
        self.stop.cancel();
    }

    /// Wait until the bind has stopped for good (after shutdown was requested).
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

/// Start a client bind. It connects after `config.start_delay`, and keeps reconnecting until
/// [`ClientHandle::shutdown`] (or `shutdown` is cancelled).
pub fn spawn_client(config: ClientConfig, handler: Arc<dyn SessionHandler>, shutdown: &CancellationToken) -> ClientHandle {
    let (sends_tx, sends_rx) = mpsc::channel(config.session.window_size.max(1));
    let (control_tx, control_rx) = mpsc::unbounded_channel();
    let (status_tx, status_rx) = watch::channel(LinkStatus {
        state: LinkState::Disconnected,
        last_error: None,
        since: tokio::time::Instant::now(),
    });
    let stats = Arc::new(SessionStats::default());
    let stop = shutdown.child_token();
    let task = tokio::spawn(run_client(config, handler, sends_rx, control_rx, status_tx, stats.clone(), stop.clone()));
    ClientHandle { sends: sends_tx, control: control_tx, status: status_rx, stats, stop, task }
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
    });
}

async fn run_client(
    config: ClientConfig,
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
    };
    let mut wait = config.start_delay;
    let mut session_config = config.session.clone();
    let mut tps_limit = config.tps_limit;
    loop {
        // Wait before the attempt; fail sends meanwhile; honour reconnect and stop.
        let deadline = tokio::time::Instant::now() + wait;
        loop {
            tokio::select! {
                _ = stop.cancelled() => {
                    set_status(&status, LinkState::Stopped, None);
                    return;
                }
                _ = tokio::time::sleep_until(deadline) => break,
                c = control.recv() => match c {
                    Some(ClientControl::Reconnect) => break,
                    Some(ClientControl::Session(Control::Update(cfg, tps))) => {
                        session_config = cfg;
                        tps_limit = tps;
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
        wait = config.reconnect_interval;

        set_status(&status, LinkState::Connecting, None);
        handler.on_event(&info, &LinkEvent::Connecting);
        let addr = format!("{}:{}", config.host, config.port);
        let stream = match tokio::time::timeout(config.connect_timeout, TcpStream::connect(&addr)).await {
            Ok(Ok(s)) => s,
            Ok(Err(e)) => {
                let why = format!("connect to {addr} failed: {e}");
                tracing::warn!(bind = %config.name, "{why}; retrying in {:?}", wait);
                handler.on_event(&info, &LinkEvent::ConnectFailed(why.clone()));
                set_status(&status, LinkState::Disconnected, Some(why));
                continue;
            }
            Err(_) => {
                let why = format!("connect to {addr} timed out after {:?}", config.connect_timeout);
                tracing::warn!(bind = %config.name, "{why}; retrying in {:?}", wait);
                handler.on_event(&info, &LinkEvent::ConnectFailed(why.clone()));
                set_status(&status, LinkState::Disconnected, Some(why));
                continue;
            }
        };
        let _ = stream.set_nodelay(true);
        info.id = next_session_id();
        info.kind = None;
        info.remote = stream.peer_addr().unwrap_or(placeholder);

        let mut session = Session::new(Role::Esme, session_config.clone(), tokio::time::Instant::now().into_std());
        session.bind(tokio::time::Instant::now().into_std(), config.kind, config.bind_body());
        let bound_status = status.clone();
        let conn = Conn {
            framed: framed(stream, config.max_pdu_len),
            session,
            info: Arc::new(info.clone()),
            handler: handler.clone(),
            tps: TpsWindow::new(tps_limit),
            stats: stats.clone(),
            our_system_id: config.system_id.clone(),
            on_bound: Some(Box::new(move |_| set_status(&bound_status, LinkState::Bound, None))),
        };
        // Route client controls to the session while it runs.
        let (sess_ctl_tx, mut sess_ctl_rx) = mpsc::unbounded_channel();
        let mut reconnect_now = false;
        let reason = {
            let run = conn.run(&mut sends, &mut sess_ctl_rx, &stop);
            tokio::pin!(run);
            loop {
                tokio::select! {
                    r = &mut run => break r,
                    c = control.recv() => match c {
                        Some(ClientControl::Reconnect) => {
                            reconnect_now = true;
                            let _ = sess_ctl_tx.send(Control::Unbind);
                        }
                        Some(ClientControl::Session(Control::Update(cfg, tps))) => {
                            session_config = cfg.clone();
                            tps_limit = tps;
                            let _ = sess_ctl_tx.send(Control::Update(cfg, tps));
                        }
                        Some(ClientControl::Session(c)) => { let _ = sess_ctl_tx.send(c); }
                        None => { let _ = sess_ctl_tx.send(Control::Unbind); }
                    }
                }
            }
        };
        let failed_bind = matches!(reason, CloseReason::BindRejected(_) | CloseReason::BindTimeout);
        if failed_bind {
            tracing::warn!(bind = %config.name, system_id = %config.system_id, "bind failed: {reason}; retrying in {:?}", wait);
            handler.on_event(&info, &LinkEvent::BindFailed(reason.to_string()));
        } else {
            tracing::info!(bind = %config.name, "session closed: {reason}");
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
