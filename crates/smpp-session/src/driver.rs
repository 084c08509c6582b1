//! The thin tokio shell around one [`Session`]: it owns the framed stream, feeds the state
//! machine with frames, commands and one timer, writes what it asks, and hands message PDUs to
//! the application's [`SessionHandler`].
//!
//! Back-pressure: at most `window_size` of the peer's message requests are with the application
//! at once; past that the shell stops reading the socket, so a flooding peer is slowed by TCP
//! rather than by memory.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use futures::future::BoxFuture;
use futures::stream::FuturesUnordered;
use futures::{SinkExt, StreamExt};
use smpp_codec::codec::SmppCodec;
use smpp_codec::pdu::{Bind, DeliverSmResp, Frame, Pdu, SubmitSmResp};
use smpp_codec::status::CommandStatus;
use smpp_codec::types::{BindKind, COctetString};
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::sync::{mpsc, oneshot};
use tokio_util::codec::Framed;
use tokio_util::sync::CancellationToken;

use crate::machine::{CloseReason, Event, Role, Session, SessionConfig};
use crate::tps::TpsWindow;

/// Who is on the other end of a session, as known so far.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SessionInfo {
    /// Unique id of this session within the process.
    pub id: u64,
    /// The configured peer's name (`[[binds]]`/`[[server_binds]]` `name`); empty on the SMSC
    /// side until the bind is accepted.
    pub peer_name: String,
    /// ESME or SMSC.
    pub role: Role,
    /// The bind type, once bound.
    pub kind: Option<BindKind>,
    /// The ESME's `system_id` (ours on a client bind, the partner's on a server bind).
    pub system_id: String,
    /// The remote socket address.
    pub remote: SocketAddr,
}

/// The application's answer to a message request (`submit_sm`, `deliver_sm`, `data_sm`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct InboundReply {
    /// `command_status` of the response.
    pub status: CommandStatus,
    /// `message_id` of a `submit_sm_resp`/`data_sm_resp` (ignored for `deliver_sm_resp`).
    pub message_id: String,
}

impl InboundReply {
    /// A successful answer carrying `message_id`.
    pub fn ok(message_id: impl Into<String>) -> Self {
        InboundReply { status: CommandStatus::ESME_ROK, message_id: message_id.into() }
    }
    /// An error answer.
    pub fn error(status: CommandStatus) -> Self {
        InboundReply { status, message_id: String::new() }
    }
}

/// What an accepted bind is granted (SMSC side).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BindGrant {
    /// The configured peer the credentials belong to.
    pub peer_name: String,
    /// Timers and window for this session.
    pub config: SessionConfig,
    /// `deliver_sm` per second to this peer's session (0 = unlimited).
    pub tps_limit: u32,
}

/// Something worth counting or logging happened on a link.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum LinkEvent {
    /// ESME side: a TCP connection attempt starts.
    Connecting,
    /// ESME side: the attempt failed (refused, unreachable, timeout).
    ConnectFailed(String),
    /// The session is bound.
    Bound,
    /// The bind was refused (by the SMSC on a client bind; by us on a server bind).
    BindFailed(String),
    /// The session ended.
    Closed(CloseReason),
    /// We sent an `enquire_link`.
    EnquireLinkSent,
    /// The peer answered our `enquire_link`.
    EnquireLinkAnswered,
    /// The peer sent an `enquire_link`.
    EnquireLinkReceived,
    /// A request of ours got no response in time.
    ResponseTimeout,
    /// The peer answered `ESME_RTHROTTLED`/`ESME_RMSGQFUL`; sending pauses this long.
    Throttled(Duration),
}

/// The application side of sessions. One handler may serve many sessions.
pub trait SessionHandler: Send + Sync + 'static {
    /// SMSC side: check a bind. `Err(status)` refuses it with that status.
    fn authenticate(&self, remote: SocketAddr, kind: BindKind, bind: &Bind) -> Result<BindGrant, CommandStatus> {
        let _ = (remote, kind, bind);
        Err(CommandStatus::ESME_RBINDFAIL)
    }

    /// A message request from the peer, allowed in this state. The future's answer becomes the
    /// response; until it resolves the peer waits (this is how "ack only after the core has
    /// it" is kept).
    fn on_message(&self, session: Arc<SessionInfo>, frame: Frame) -> BoxFuture<'static, InboundReply>;

    /// Link events, for metrics and logs.
    fn on_event(&self, session: &SessionInfo, event: &LinkEvent) {
        let _ = (session, event);
    }
}

/// Why a request of ours did not get a response.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum SendFailure {
    /// The link is not bound (or the bind type does not allow it); nothing was sent.
    #[error("not bound")]
    NotBound,
    /// Sent, but no response came within the response timeout; the peer may or may not have it.
    #[error("no response within the response timeout")]
    Timeout,
    /// The connection closed before the response came; the peer may or may not have it.
    #[error("connection closed before the response: {0}")]
    Closed(String),
}

/// A request to send on a session, answered through `reply`.
#[derive(Debug)]
pub(crate) struct SendRequest {
    pub(crate) pdu: Pdu,
    pub(crate) reply: oneshot::Sender<Result<Frame, SendFailure>>,
}

/// Control of a running session.
#[derive(Debug)]
pub(crate) enum Control {
    /// Stop taking new requests, wait (bounded) for responses, unbind.
    Unbind,
    /// Close at once.
    Drop,
    /// New timers/window and TPS limit.
    Update(SessionConfig, u32),
}

/// Live counters of one session, shared with the registry and status API.
#[derive(Debug, Default)]
pub struct SessionStats {
    /// Requests of ours awaiting responses.
    pub in_flight: AtomicUsize,
    /// Message requests we sent.
    pub sent: AtomicU64,
    /// Message requests we received.
    pub received: AtomicU64,
}

static NEXT_SESSION_ID: AtomicU64 = AtomicU64::new(1);

/// A fresh process-unique session id.
pub(crate) fn next_session_id() -> u64 {
    NEXT_SESSION_ID.fetch_add(1, Ordering::Relaxed)
}

fn now() -> Instant {
    tokio::time::Instant::now().into_std()
}

/// First pause after the peer answers `ESME_RTHROTTLED`/`ESME_RMSGQFUL`; it doubles while
/// the peer keeps throttling, up to [`THROTTLE_PAUSE_MAX`].
pub const THROTTLE_PAUSE_MIN: Duration = Duration::from_secs(1);
/// Longest pause after throttling.
pub const THROTTLE_PAUSE_MAX: Duration = Duration::from_secs(30);

/// How long shutdown waits for our in-flight requests before it unbinds.
const DRAIN_LIMIT: Duration = Duration::from_secs(5);

/// Called once when the session becomes bound (used by the server to register it).
pub(crate) type OnBound = Box<dyn FnOnce(&SessionInfo) + Send>;

pub(crate) struct Conn<IO> {
    pub(crate) framed: Framed<IO, SmppCodec>,
    pub(crate) session: Session,
    pub(crate) info: Arc<SessionInfo>,
    pub(crate) handler: Arc<dyn SessionHandler>,
    pub(crate) tps: TpsWindow,
    pub(crate) stats: Arc<SessionStats>,
    pub(crate) our_system_id: String,
    pub(crate) on_bound: Option<OnBound>,
}

type InboundFuture = BoxFuture<'static, (u32, u32, InboundReply)>;

impl<IO: AsyncRead + AsyncWrite + Unpin> Conn<IO> {
    /// Drive the session until it closes. `sends` and `control` feed it; `shutdown` starts an
    /// orderly unbind.
    pub(crate) async fn run(
        mut self,
        sends: &mut mpsc::Receiver<SendRequest>,
        control: &mut mpsc::UnboundedReceiver<Control>,
        shutdown: &CancellationToken,
    ) -> CloseReason {
        let mut inbound: FuturesUnordered<InboundFuture> = FuturesUnordered::new();
        let mut waiters: HashMap<u64, oneshot::Sender<Result<Frame, SendFailure>>> = HashMap::new();
        let mut next_token: u64 = 1;
        let mut held: Option<SendRequest> = None;
        // Sending pauses until this instant: the TPS window is used up, or the peer throttled us.
        let mut tps_until: Option<Instant> = None;
        let mut throttle_backoff = THROTTLE_PAUSE_MIN;
        let mut draining: Option<Instant> = None;
        let mut shutdown_seen = false;

        let reason = 'outer: loop {
            // 1. Write what the state machine queued.
            if let Err(e) = self.flush().await {
                break 'outer CloseReason::Transport(format!("write failed: {e}"));
            }
            // 2. Act on its events.
            while let Some(ev) = self.session.poll_event() {
                match ev {
                    Event::BindRequested { sequence_number, kind, bind } => {
                        let remote = self.info.remote;
                        match self.handler.authenticate(remote, kind, &bind) {
                            Ok(grant) => {
                                let mut info = (*self.info).clone();
                                info.peer_name = grant.peer_name.clone();
                                info.system_id = bind.system_id.to_str_lossy().into_owned();
                                self.info = Arc::new(info);
                                self.session.set_config(grant.config, now());
                                self.tps.set_limit(grant.tps_limit);
                                let our = self.our_system_id.clone();
                                self.session.accept_bind(now(), sequence_number, kind, &our, bind.system_id.clone());
                            }
                            Err(status) => {
                                let mut info = (*self.info).clone();
                                info.system_id = bind.system_id.to_str_lossy().into_owned();
                                self.info = Arc::new(info);
                                self.handler.on_event(&self.info, &LinkEvent::BindFailed(status.to_string()));
                                self.session.reject_bind(sequence_number, kind, status);
                            }
                        }
                    }
                    Event::Bound { kind, system_id, .. } => {
                        let mut info = (*self.info).clone();
                        info.kind = Some(kind);
                        if self.session.role() == Role::Smsc {
                            info.system_id = system_id.to_str_lossy().into_owned();
                        }
                        self.info = Arc::new(info);
                        if let Some(cb) = self.on_bound.take() {
                            cb(&self.info);
                        }
                        self.handler.on_event(&self.info, &LinkEvent::Bound);
                    }
                    Event::Request(frame) => {
                        self.stats.received.fetch_add(1, Ordering::Relaxed);
                        let seq = frame.sequence_number;
                        let id = frame.pdu.command_id();
                        let fut = self.handler.on_message(self.info.clone(), frame);
                        inbound.push(Box::pin(async move { (seq, id, fut.await) }));
                    }
                    Event::Response { token, frame } => {
                        self.stats.in_flight.store(self.session.in_flight(), Ordering::Relaxed);
                        if matches!(frame.command_status, CommandStatus::ESME_RTHROTTLED | CommandStatus::ESME_RMSGQFUL) {
                            // The peer asks us to slow down: pause the whole stream, longer each
                            // time it insists, and tell the application (which resends in order).
                            let until = now() + throttle_backoff;
                            tps_until = Some(tps_until.map_or(until, |t| t.max(until)));
                            self.handler.on_event(&self.info, &LinkEvent::Throttled(throttle_backoff));
                            throttle_backoff = (throttle_backoff * 2).min(THROTTLE_PAUSE_MAX);
                        } else if frame.command_status.is_ok() {
                            throttle_backoff = THROTTLE_PAUSE_MIN;
                        }
                        if let Some(w) = waiters.remove(&token) {
                            let _ = w.send(Ok(frame));
                        }
                    }
                    Event::Timeout { token, .. } => {
                        self.stats.in_flight.store(self.session.in_flight(), Ordering::Relaxed);
                        let closed = self.session.state() == crate::machine::State::Closed;
                        if let Some(w) = waiters.remove(&token) {
                            let failure = if closed { SendFailure::Closed("session closed".into()) } else { SendFailure::Timeout };
                            let _ = w.send(Err(failure));
                        }
                        if !closed {
                            self.handler.on_event(&self.info, &LinkEvent::ResponseTimeout);
                        }
                    }
                    Event::EnquireLinkSent => self.handler.on_event(&self.info, &LinkEvent::EnquireLinkSent),
                    Event::EnquireLinkAnswered => self.handler.on_event(&self.info, &LinkEvent::EnquireLinkAnswered),
                    Event::EnquireLinkReceived => self.handler.on_event(&self.info, &LinkEvent::EnquireLinkReceived),
                    Event::Closed(r) => {
                        let _ = self.flush().await;
                        break 'outer r;
                    }
                }
            }
            if let Err(e) = self.flush().await {
                break 'outer CloseReason::Transport(format!("write failed: {e}"));
            }

            // 3. Orderly shutdown: drain, then unbind.
            if let Some(limit) = draining {
                if self.session.is_bound() && (self.session.in_flight() == 0 || now() >= limit) && inbound.is_empty() {
                    self.session.unbind(now());
                    draining = None;
                    continue;
                }
            }

            // 4. Wait for the next input.
            let now_i = now();
            if let Some(t) = tps_until {
                if now_i >= t {
                    tps_until = None;
                }
            }
            if let Some(req) = held.take() {
                if tps_until.is_none() {
                    match self.tps.try_acquire(now_i) {
                        Ok(()) => {
                            self.start_request(now_i, req, &mut waiters, &mut next_token);
                            continue;
                        }
                        Err(at) => {
                            tps_until = Some(at);
                            held = Some(req);
                        }
                    }
                } else {
                    held = Some(req);
                }
            }
            let can_send = draining.is_none()
                && !shutdown_seen
                && held.is_none()
                && tps_until.is_none()
                && self.session.is_bound()
                && self.session.window_available();
            let can_read = inbound.len() < self.session.config().window_size.max(1);
            let timer = self.session.poll_timeout();
            let wake = [timer, tps_until, draining].into_iter().flatten().min();
            let sleep = async {
                match wake {
                    Some(t) => tokio::time::sleep_until(tokio::time::Instant::from_std(t)).await,
                    None => futures::future::pending::<()>().await,
                }
            };

            tokio::select! {
                biased;
                _ = shutdown.cancelled(), if !shutdown_seen => {
                    shutdown_seen = true;
                    if self.session.is_bound() {
                        draining = Some(now() + DRAIN_LIMIT);
                    } else {
                        self.session.unbind(now());
                    }
                }
                c = control.recv() => match c {
                    Some(Control::Unbind) => {
                        if self.session.is_bound() {
                            draining = Some(now() + DRAIN_LIMIT);
                        } else {
                            self.session.unbind(now());
                        }
                    }
                    Some(Control::Drop) => self.session.drop_connection(),
                    Some(Control::Update(cfg, tps)) => {
                        self.session.set_config(cfg, now());
                        self.tps.set_limit(tps);
                    }
                    None => {
                        // The owner is gone: unbind politely.
                        if !shutdown_seen {
                            shutdown_seen = true;
                            draining = Some(now() + DRAIN_LIMIT);
                        }
                    }
                },
                Some((seq, id, reply)) = inbound.next(), if !inbound.is_empty() => {
                    let pdu = response_for(id, &reply);
                    self.session.respond(seq, reply.status, pdu);
                }
                item = self.framed.next(), if can_read => match item {
                    Some(Ok(Ok(frame))) => self.session.handle_frame(now(), frame),
                    Some(Ok(Err(decode_error))) => {
                        tracing::warn!(peer = %self.info.peer_name, remote = %self.info.remote, error = %decode_error, "undecodable PDU answered");
                        self.session.handle_decode_error(now(), &decode_error);
                    }
                    Some(Err(framing)) => {
                        tracing::warn!(peer = %self.info.peer_name, remote = %self.info.remote, error = %framing, "framing lost; closing");
                        if let Some(nack) = framing.nack() {
                            let _ = self.framed.send(nack).await;
                        }
                        break 'outer CloseReason::Transport(framing.to_string());
                    }
                    None => break 'outer CloseReason::Transport("connection closed by peer".into()),
                },
                req = sends.recv(), if can_send => match req {
                    Some(req) => match self.tps.try_acquire(now()) {
                        Ok(()) => self.start_request(now(), req, &mut waiters, &mut next_token),
                        Err(at) => {
                            tps_until = Some(at);
                            held = Some(req);
                        }
                    },
                    None => {
                        if !shutdown_seen {
                            shutdown_seen = true;
                            draining = Some(now() + DRAIN_LIMIT);
                        }
                    }
                },
                _ = sleep => self.session.handle_timeout(now()),
            }
        };

        // Whatever is still waiting will never be answered on this connection.
        let why = reason.to_string();
        for (_, w) in waiters.drain() {
            let _ = w.send(Err(SendFailure::Closed(why.clone())));
        }
        if let Some(req) = held.take() {
            let _ = req.reply.send(Err(SendFailure::NotBound));
        }
        self.stats.in_flight.store(0, Ordering::Relaxed);
        let _ = SinkExt::<Frame>::close(&mut self.framed).await;
        reason
    }

    fn start_request(
        &mut self,
        now: Instant,
        req: SendRequest,
        waiters: &mut HashMap<u64, oneshot::Sender<Result<Frame, SendFailure>>>,
        next_token: &mut u64,
    ) {
        let token = *next_token;
        *next_token += 1;
        match self.session.send_request(now, req.pdu, token) {
            Ok(_) => {
                waiters.insert(token, req.reply);
                self.stats.sent.fetch_add(1, Ordering::Relaxed);
                self.stats.in_flight.store(self.session.in_flight(), Ordering::Relaxed);
            }
            Err(_) => {
                let _ = req.reply.send(Err(SendFailure::NotBound));
            }
        }
    }

    async fn flush(&mut self) -> std::io::Result<()> {
        let mut wrote = false;
        while let Some(frame) = self.session.poll_transmit() {
            self.framed.feed(frame).await?;
            wrote = true;
        }
        if wrote {
            SinkExt::<Frame>::flush(&mut self.framed).await?;
        }
        Ok(())
    }
}

fn response_for(command_id: u32, reply: &InboundReply) -> Pdu {
    use smpp_codec::command::command_id as c;
    match command_id {
        c::DELIVER_SM => Pdu::DeliverSmResp(DeliverSmResp::default()),
        c::DATA_SM => Pdu::DataSmResp(SubmitSmResp { message_id: COctetString::from(reply.message_id.as_str()), ..Default::default() }),
        _ => Pdu::SubmitSmResp(SubmitSmResp { message_id: COctetString::from(reply.message_id.as_str()), ..Default::default() }),
    }
}

/// A new framed stream with the codec's maximum PDU length.
pub(crate) fn framed<IO: AsyncRead + AsyncWrite>(io: IO, max_pdu_len: usize) -> Framed<IO, SmppCodec> {
    Framed::new(io, SmppCodec::new(max_pdu_len))
}
