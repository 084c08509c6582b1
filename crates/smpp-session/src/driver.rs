//! The thin tokio shell around one [`Session`]: it owns the framed stream, feeds the state
//! machine with frames, commands and one timer, writes what it asks, and hands message PDUs to
//! the application's [`SessionHandler`].
//!
//! What the shell adds to the state machine:
//! - **Back-pressure.** At most `window_size` of the peer's message requests are with the
//!   application at once; past that the shell stops reading the socket, so a flooding peer is
//!   slowed by TCP rather than by memory.
//! - **TPS.** Our requests draw from a [`TpsLimiter`] (the seed's per-second window), shared by
//!   every session of one partner.
//! - **Throttling.** A response `ESME_RTHROTTLED` or `ESME_RMSGQFUL` pauses the whole stream
//!   (1 s, doubling while the peer insists, at most 30 s). After the pause the refused requests
//!   are sent again one at a time, oldest first, each waiting for its answer, and only then do
//!   newer requests flow again through the full window: what the peer refused keeps its order
//!   and goes before anything newer. (Requests already in flight when the refusal came cannot
//!   be recalled; they are answered as they are.) After `throttle_resends` resends of one
//!   request, or past its deadline, the refusal goes to the application.
//! - **Stalled writes.** A write that cannot complete within `response_timeout` (the peer
//!   stopped reading: half-open TCP, a stuck process) closes the connection, so a dead peer
//!   cannot hold the session — and its timers — forever.
//! - **Orderly end.** On disable or shutdown it stops taking new requests, waits up to
//!   `drain_timeout` for responses to the ones in flight, sends `unbind`, waits up to
//!   `unbind_timeout` for `unbind_resp`, and closes.

use std::collections::{BTreeMap, HashMap};
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use futures::future::BoxFuture;
use futures::stream::FuturesUnordered;
use futures::{FutureExt as _, SinkExt, StreamExt};
use smpp_codec::codec::SmppCodec;
use smpp_codec::pdu::{Bind, DeliverSmResp, Frame, Pdu, SubmitSmResp};
use smpp_codec::status::CommandStatus;
use smpp_codec::types::{BindKind, COctetString};
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::sync::{mpsc, oneshot};
use tokio_util::codec::Framed;
use tokio_util::sync::CancellationToken;

use crate::machine::{CloseReason, Event, Role, Session, SessionConfig};
use crate::tps::TpsLimiter;

/// Most responses written together when many answers are ready at once (bounds the time one
/// session spends before it reads again).
const MAX_ANSWERS_PER_WRITE: usize = 256;

/// Most new requests taken from the queue for one write (the window bounds them too).
const MAX_REQUESTS_PER_WRITE: usize = 256;

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
    /// Whether the connection is SMPP over TLS.
    pub tls: bool,
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
        InboundReply {
            status: CommandStatus::ESME_ROK,
            message_id: message_id.into(),
        }
    }
    /// An error answer.
    pub fn error(status: CommandStatus) -> Self {
        InboundReply {
            status,
            message_id: String::new(),
        }
    }
}

/// What an accepted bind is granted (SMSC side).
#[derive(Clone, Debug)]
pub struct BindGrant {
    /// The configured peer the credentials belong to.
    pub peer_name: String,
    /// Timers and window for this session.
    pub config: SessionConfig,
    /// The window our `deliver_sm` to this peer draw from; give every session of one peer
    /// the same limiter so that its `tps_limit` holds over all of them.
    pub tps: TpsLimiter,
    /// Sessions this peer may hold at once (0 = no limit); checked and counted atomically
    /// when the session registers, so simultaneous binds cannot exceed it.
    pub max_sessions: usize,
}

/// Something worth counting or logging happened on a link.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum LinkEvent {
    /// ESME side: a connection attempt starts.
    Connecting,
    /// ESME side: the attempt failed (refused, unreachable, timeout, TLS handshake).
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
    /// The peer sent a request the session refused (wrong state, unsupported operation).
    Refused {
        /// Its `command_id`.
        command_id: u32,
        /// The status it was answered with.
        status: CommandStatus,
    },
}

/// The application side of sessions. One handler may serve many sessions.
pub trait SessionHandler: Send + Sync + 'static {
    /// SMSC side: check a bind. `Err(status)` refuses it with that status.
    fn authenticate(
        &self,
        remote: SocketAddr,
        kind: BindKind,
        bind: &Bind,
    ) -> Result<BindGrant, CommandStatus> {
        let _ = (remote, kind, bind);
        Err(CommandStatus::ESME_RBINDFAIL)
    }

    /// A message request from the peer, allowed in this state. The future's answer becomes the
    /// response; until it resolves the peer waits (this is how "ack only after the core has
    /// it" is kept).
    fn on_message(
        &self,
        session: Arc<SessionInfo>,
        frame: Frame,
    ) -> BoxFuture<'static, InboundReply>;

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
    /// Its deadline passed before it could be sent (it waited behind a pause or a full
    /// window); nothing was sent.
    #[error("not sent: its deadline passed while it waited")]
    Expired,
}

impl SendFailure {
    /// Whether the peer may have received the request (so sending it again risks a
    /// duplicate): true for [`SendFailure::Timeout`] and [`SendFailure::Closed`].
    pub fn delivery_unknown(&self) -> bool {
        matches!(self, SendFailure::Timeout | SendFailure::Closed(_))
    }
}

/// The answer to a request already queued on a session: resolves to the response, or to why
/// none came. Queuing first and awaiting later lets a caller hand requests over in a fixed
/// order while their answers come back in any order.
#[derive(Debug)]
pub struct Reply(pub(crate) oneshot::Receiver<Result<Frame, SendFailure>>);

impl std::future::Future for Reply {
    type Output = Result<Frame, SendFailure>;

    fn poll(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Self::Output> {
        std::pin::Pin::new(&mut self.0)
            .poll(cx)
            .map(|r| r.unwrap_or(Err(SendFailure::Closed("session ended".into()))))
    }
}

/// A request to send on a session, answered through `reply`.
#[derive(Debug)]
pub(crate) struct SendRequest {
    pub(crate) pdu: Pdu,
    pub(crate) reply: oneshot::Sender<Result<Frame, SendFailure>>,
    /// Not sent (nor sent again after throttling) from this instant on.
    pub(crate) deadline: Option<Instant>,
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

/// The session clock: tokio's (so that tests can pause it), as a std `Instant`.
pub(crate) fn now() -> Instant {
    tokio::time::Instant::now().into_std()
}

/// First pause after the peer answers `ESME_RTHROTTLED`/`ESME_RMSGQFUL`; it doubles while
/// the peer keeps throttling, up to [`THROTTLE_PAUSE_MAX`], and returns to this after an
/// accepted request.
pub const THROTTLE_PAUSE_MIN: Duration = Duration::from_secs(1);
/// Longest pause after throttling.
pub const THROTTLE_PAUSE_MAX: Duration = Duration::from_secs(30);

/// Called once when a client session becomes bound.
pub(crate) type OnBound = Box<dyn FnOnce(&SessionInfo) + Send>;
/// Server side: register an accepted bind (false = the peer's `max_sessions` is reached).
pub(crate) type Admit = Box<dyn FnOnce(&SessionInfo, &BindGrant) -> bool + Send>;

pub(crate) struct Conn<IO> {
    pub(crate) framed: Framed<IO, SmppCodec>,
    pub(crate) session: Session,
    pub(crate) info: Arc<SessionInfo>,
    pub(crate) handler: Arc<dyn SessionHandler>,
    pub(crate) tps: TpsLimiter,
    pub(crate) stats: Arc<SessionStats>,
    pub(crate) our_system_id: String,
    pub(crate) on_bound: Option<OnBound>,
    pub(crate) admit: Option<Admit>,
}

type InboundFuture = BoxFuture<'static, (Pdu, u32, InboundReply)>;

/// A request of ours on its way: what to send again if the peer throttles it.
struct Waiter {
    pdu: Pdu,
    reply: oneshot::Sender<Result<Frame, SendFailure>>,
    deadline: Option<Instant>,
    throttled: u32,
    last_answer: Option<Frame>,
}

impl Waiter {
    fn new(req: SendRequest) -> Self {
        Waiter {
            pdu: req.pdu,
            reply: req.reply,
            deadline: req.deadline,
            throttled: 0,
            last_answer: None,
        }
    }

    fn expired(&self, now: Instant) -> bool {
        self.deadline.is_some_and(|d| now >= d)
    }

    /// Give up on a request that cannot be sent (again) in time: the peer's last refusal if
    /// there was one, else `Expired`.
    fn give_up(self) {
        let answer = self
            .last_answer
            .map(Ok)
            .unwrap_or(Err(SendFailure::Expired));
        let _ = self.reply.send(answer);
    }
}

impl<IO: AsyncRead + AsyncWrite + Unpin> Conn<IO> {
    /// Drive the session until it closes. `sends` and `control` feed it; `shutdown` starts an
    /// orderly unbind. Returns why it closed and what was last known of the peer.
    pub(crate) async fn run(
        mut self,
        sends: &mut mpsc::Receiver<SendRequest>,
        control: &mut mpsc::UnboundedReceiver<Control>,
        shutdown: &CancellationToken,
    ) -> (CloseReason, Arc<SessionInfo>) {
        let mut inbound: FuturesUnordered<InboundFuture> = FuturesUnordered::new();
        // Requests in flight, by token. Tokens grow with each new request; a resend keeps its
        // token, so ordering by token is ordering by first send.
        let mut waiters: HashMap<u64, Waiter> = HashMap::new();
        // Throttled requests waiting for the pause to end, oldest first.
        let mut resend: BTreeMap<u64, Waiter> = BTreeMap::new();
        // The resend in flight: nothing else starts until it is answered.
        let mut recovering: Option<u64> = None;
        let mut next_token: u64 = 1;
        // A new request taken from `sends` while the TPS window was used up.
        let mut held: Option<Waiter> = None;
        // Sending pauses until this instant: the TPS window is used up, or the peer throttled us.
        let mut pause_until: Option<Instant> = None;
        let mut throttle_backoff = THROTTLE_PAUSE_MIN;
        // Orderly end in progress: stop sending, wait for in-flight responses until then.
        let mut draining: Option<Instant> = None;
        let mut stopping = false;
        let mut control_open = true;
        let mut sends_open = true;

        let reason = 'outer: loop {
            // 1. Write what the state machine queued.
            if let Err(why) = self.flush().await {
                break 'outer why;
            }
            // 2. Act on its events.
            while let Some(ev) = self.session.poll_event() {
                match ev {
                    Event::BindRequested {
                        sequence_number,
                        kind,
                        bind,
                    } => self.answer_bind(sequence_number, kind, &bind),
                    Event::Bound {
                        kind, system_id, ..
                    } => {
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
                        let resp = frame.pdu.empty_response().unwrap_or(Pdu::GenericNack);
                        let fut = self.handler.on_message(self.info.clone(), frame);
                        inbound.push(Box::pin(async move { (resp, seq, fut.await) }));
                    }
                    Event::Response { token, frame } => {
                        self.stats
                            .in_flight
                            .store(self.session.in_flight(), Ordering::Relaxed);
                        if recovering == Some(token) {
                            recovering = None;
                        }
                        let Some(mut w) = waiters.remove(&token) else {
                            continue;
                        };
                        if matches!(
                            frame.command_status,
                            CommandStatus::ESME_RTHROTTLED | CommandStatus::ESME_RMSGQFUL
                        ) {
                            // The peer asks us to slow down: pause the whole stream, longer each
                            // time it insists, and send this request again first.
                            let until = now() + throttle_backoff;
                            pause_until = Some(pause_until.map_or(until, |t| t.max(until)));
                            self.handler
                                .on_event(&self.info, &LinkEvent::Throttled(throttle_backoff));
                            throttle_backoff = (throttle_backoff * 2).min(THROTTLE_PAUSE_MAX);
                            let in_time = w.deadline.is_none_or(|d| until < d);
                            if in_time && w.throttled < self.session.config().throttle_resends {
                                w.throttled += 1;
                                w.last_answer = Some(frame);
                                resend.insert(token, w);
                                continue;
                            }
                        } else if frame.command_status.is_ok() {
                            throttle_backoff = THROTTLE_PAUSE_MIN;
                        }
                        let _ = w.reply.send(Ok(frame));
                    }
                    Event::Timeout { token, .. } => {
                        self.stats
                            .in_flight
                            .store(self.session.in_flight(), Ordering::Relaxed);
                        if recovering == Some(token) {
                            recovering = None;
                        }
                        if let Some(w) = waiters.remove(&token) {
                            let _ = w.reply.send(Err(SendFailure::Timeout));
                        }
                        self.handler
                            .on_event(&self.info, &LinkEvent::ResponseTimeout);
                    }
                    // Answered with the close reason once the loop ends (see below).
                    Event::Abandoned { .. } => {}
                    Event::EnquireLinkSent => self
                        .handler
                        .on_event(&self.info, &LinkEvent::EnquireLinkSent),
                    Event::EnquireLinkAnswered => self
                        .handler
                        .on_event(&self.info, &LinkEvent::EnquireLinkAnswered),
                    Event::EnquireLinkReceived => self
                        .handler
                        .on_event(&self.info, &LinkEvent::EnquireLinkReceived),
                    Event::Refused {
                        command_id,
                        sequence_number,
                        status,
                    } => {
                        tracing::debug!(peer = %self.info.peer_name, remote = %self.info.remote, command_id, sequence_number, %status, "request refused");
                        self.handler
                            .on_event(&self.info, &LinkEvent::Refused { command_id, status });
                    }
                    Event::Closed(r) => {
                        let _ = self.flush().await;
                        break 'outer r;
                    }
                }
            }
            if let Err(why) = self.flush().await {
                break 'outer why;
            }

            // 3. Orderly end: once in-flight responses are in (or the drain time is up),
            //    unbind; the state machine bounds the wait for unbind_resp.
            if let Some(limit) = draining {
                let idle = self.session.in_flight() == 0 && inbound.is_empty();
                if self.session.is_bound() && (idle || now() >= limit) {
                    self.session.unbind(now());
                    draining = None;
                    continue;
                }
            }

            // 4. Start what may start: throttled resends first (oldest first), then a held
            //    request, then new ones from `sends`.
            let now_i = now();
            if pause_until.is_some_and(|t| now_i >= t) {
                pause_until = None;
            }
            let may_start = pause_until.is_none()
                && recovering.is_none()
                && draining.is_none()
                && !stopping
                && self.session.is_bound()
                && self.session.window_available();
            if may_start {
                if let Some((&token, w)) = resend.first_key_value() {
                    if w.expired(now_i) {
                        if let Some(w) = resend.remove(&token) {
                            w.give_up();
                        }
                        continue;
                    }
                    match self.tps.try_acquire(now_i) {
                        Ok(()) => {
                            if let Some(w) = resend.remove(&token) {
                                self.start(now_i, token, w, &mut waiters);
                                recovering = waiters.contains_key(&token).then_some(token);
                            }
                            continue;
                        }
                        Err(at) => pause_until = Some(at),
                    }
                } else if let Some(w) = held.take() {
                    if w.expired(now_i) {
                        w.give_up();
                        continue;
                    }
                    match self.tps.try_acquire(now_i) {
                        Ok(()) => {
                            let token = next_token;
                            next_token += 1;
                            self.start(now_i, token, w, &mut waiters);
                            continue;
                        }
                        Err(at) => {
                            pause_until = Some(at);
                            held = Some(w);
                        }
                    }
                }
            }
            let can_take = sends_open
                && (stopping
                    || (may_start && pause_until.is_none() && held.is_none() && resend.is_empty()));

            // 5. Wait for the next input.
            let can_read = inbound.len() < self.session.config().window_size.max(1);
            let timer = self.session.poll_timeout();
            let wake = [timer, pause_until, draining].into_iter().flatten().min();
            let sleep = async {
                match wake {
                    Some(t) => tokio::time::sleep_until(tokio::time::Instant::from_std(t)).await,
                    None => futures::future::pending::<()>().await,
                }
            };
            let drain_for = self.session.config().drain_timeout;
            let mut begin_end = |session: &mut Session, stopping: &mut bool| {
                *stopping = true;
                if session.is_bound() {
                    draining = Some(now() + drain_for);
                } else {
                    session.unbind(now());
                }
            };

            tokio::select! {
                biased;
                _ = shutdown.cancelled(), if !stopping => begin_end(&mut self.session, &mut stopping),
                c = control.recv(), if control_open => match c {
                    Some(Control::Unbind) => {
                        if !stopping {
                            begin_end(&mut self.session, &mut stopping);
                        }
                    }
                    Some(Control::Drop) => self.session.drop_connection(),
                    Some(Control::Update(cfg, tps)) => {
                        self.framed.codec_mut().set_options(cfg.decode);
                        self.session.set_config(cfg, now());
                        self.tps.set_limit(tps);
                    }
                    // The owner is gone: end politely.
                    None => {
                        control_open = false;
                        if !stopping {
                            begin_end(&mut self.session, &mut stopping);
                        }
                    }
                },
                Some((resp, seq, reply)) = inbound.next(), if !inbound.is_empty() => {
                    let pdu = response_for(resp, &reply);
                    self.session.respond(seq, reply.status, pdu);
                    // Answers that completed together (one hand-over batch of the core) leave
                    // in one write, not one write (and one TCP segment) each.
                    for _ in 1..MAX_ANSWERS_PER_WRITE {
                        let Some(Some((resp, seq, reply))) = inbound.next().now_or_never() else {
                            break;
                        };
                        let pdu = response_for(resp, &reply);
                        self.session.respond(seq, reply.status, pdu);
                    }
                }
                item = self.framed.next(), if can_read => match item {
                    Some(Ok(Ok(frame))) => self.session.handle_frame(now(), frame),
                    Some(Ok(Err(decode_error))) => {
                        tracing::warn!(peer = %self.info.peer_name, remote = %self.info.remote, error = %decode_error, "undecodable PDU answered");
                        self.session.handle_decode_error(now(), &decode_error);
                    }
                    Some(Err(smpp_codec::codec::FramingError::Io(e))) => {
                        // A TLS peer that closes without close_notify is an ordinary end of stream.
                        let why = if e.kind() == std::io::ErrorKind::UnexpectedEof { "connection closed by peer".to_string() } else { format!("read failed: {e}") };
                        break 'outer CloseReason::Transport(why);
                    }
                    Some(Err(framing)) => {
                        tracing::warn!(peer = %self.info.peer_name, remote = %self.info.remote, error = %framing, "framing lost; closing");
                        if let Some(nack) = framing.nack() {
                            let write = self.framed.send(nack);
                            let _ = tokio::time::timeout(self.session.config().response_timeout, write).await;
                        }
                        break 'outer CloseReason::Transport(framing.to_string());
                    }
                    None => break 'outer CloseReason::Transport("connection closed by peer".into()),
                },
                req = sends.recv(), if can_take => match req {
                    // Ending: new work is refused at once, unsent.
                    Some(req) if stopping => {
                        let _ = req.reply.send(Err(SendFailure::NotBound));
                    }
                    Some(req) => {
                        // Requests queued together (one claim of the core) leave in one write:
                        // take those already waiting while the window and the TPS allow.
                        let mut next_req = Some(req);
                        let mut taken = 0;
                        while let Some(req) = next_req.take() {
                            taken += 1;
                            let w = Waiter::new(req);
                            let t = now();
                            if w.expired(t) {
                                w.give_up();
                            } else {
                                match self.tps.try_acquire(t) {
                                    Ok(()) => {
                                        let token = next_token;
                                        next_token += 1;
                                        self.start(t, token, w, &mut waiters);
                                    }
                                    Err(at) => {
                                        pause_until = Some(at);
                                        held = Some(w);
                                        break;
                                    }
                                }
                            }
                            if taken < MAX_REQUESTS_PER_WRITE && self.session.window_available() {
                                next_req = sends.try_recv().ok();
                            }
                        }
                    }
                    None => {
                        sends_open = false;
                        if !stopping {
                            begin_end(&mut self.session, &mut stopping);
                        }
                    }
                },
                _ = sleep => self.session.handle_timeout(now()),
            }
        };

        // Whatever is still waiting will never be answered on this connection.
        let why = reason.to_string();
        for (_, w) in waiters.drain() {
            let _ = w.reply.send(Err(SendFailure::Closed(why.clone())));
        }
        // Throttled requests were refused by the peer: hand back its last answer.
        for (_, w) in std::mem::take(&mut resend) {
            w.give_up();
        }
        if let Some(w) = held.take() {
            let _ = w.reply.send(Err(SendFailure::NotBound));
        }
        self.stats.in_flight.store(0, Ordering::Relaxed);
        let close = SinkExt::<Frame>::close(&mut self.framed);
        let _ = tokio::time::timeout(Duration::from_secs(1), close).await;
        (reason, self.info)
    }

    /// SMSC side: authenticate a bind, register it, and answer it.
    fn answer_bind(&mut self, sequence_number: u32, kind: BindKind, bind: &Bind) {
        let remote = self.info.remote;
        let mut info = (*self.info).clone();
        info.system_id = bind.system_id.to_str_lossy().into_owned();
        let refused = match self.handler.authenticate(remote, kind, bind) {
            Ok(grant) => {
                info.peer_name = grant.peer_name.clone();
                info.kind = Some(kind);
                let admitted = self.admit.take().is_none_or(|admit| admit(&info, &grant));
                if admitted {
                    self.info = Arc::new(info);
                    // The peer is known from here on: its decode options apply.
                    self.framed.codec_mut().set_options(grant.config.decode);
                    self.session.set_config(grant.config, now());
                    self.tps = grant.tps;
                    let our = self.our_system_id.clone();
                    self.session.accept_bind(
                        now(),
                        sequence_number,
                        kind,
                        &our,
                        bind.system_id.clone(),
                    );
                    return;
                }
                tracing::warn!(%remote, peer = %grant.peer_name, system_id = %info.system_id, max_sessions = grant.max_sessions, "bind refused: max_sessions reached ({})", CommandStatus::ESME_RBINDFAIL);
                info.kind = None;
                CommandStatus::ESME_RBINDFAIL
            }
            Err(status) => status,
        };
        self.info = Arc::new(info);
        self.handler
            .on_event(&self.info, &LinkEvent::BindFailed(refused.to_string()));
        self.session.reject_bind(sequence_number, kind, refused);
    }

    fn start(&mut self, now: Instant, token: u64, w: Waiter, waiters: &mut HashMap<u64, Waiter>) {
        match self.session.send_request(now, w.pdu.clone(), token) {
            Ok(_) => {
                if w.throttled == 0 {
                    self.stats.sent.fetch_add(1, Ordering::Relaxed);
                }
                waiters.insert(token, w);
                self.stats
                    .in_flight
                    .store(self.session.in_flight(), Ordering::Relaxed);
            }
            Err(_) => {
                let _ = w.reply.send(Err(SendFailure::NotBound));
            }
        }
    }

    /// Write every queued frame. A peer that does not read for `response_timeout` is dead
    /// (or half-open): give up on it rather than block the session's timers.
    async fn flush(&mut self) -> Result<(), CloseReason> {
        if !self.session.has_transmit() && self.framed.write_buffer().is_empty() {
            return Ok(());
        }
        let limit = self.session.config().response_timeout;
        let write = async {
            while let Some(frame) = self.session.poll_transmit() {
                self.framed.feed(frame).await?;
            }
            SinkExt::<Frame>::flush(&mut self.framed).await
        };
        match tokio::time::timeout(limit, write).await {
            Ok(Ok(())) => Ok(()),
            Ok(Err(e)) => Err(CloseReason::Transport(format!("write failed: {e}"))),
            Err(_) => Err(CloseReason::Transport(format!(
                "write stalled for {}s: the peer is not reading",
                limit.as_secs()
            ))),
        }
    }
}

/// The response to a message request: `resp` is its empty `*_resp`, filled with the
/// application's `message_id` where the PDU carries one.
fn response_for(resp: Pdu, reply: &InboundReply) -> Pdu {
    let id = || COctetString::from(reply.message_id.as_str());
    match resp {
        Pdu::SubmitSmResp(r) => Pdu::SubmitSmResp(SubmitSmResp {
            message_id: id(),
            ..r
        }),
        Pdu::DataSmResp(r) => Pdu::DataSmResp(SubmitSmResp {
            message_id: id(),
            ..r
        }),
        Pdu::DeliverSmResp(_) => Pdu::DeliverSmResp(DeliverSmResp::default()),
        other => other,
    }
}

/// A new framed stream with the codec's maximum PDU length and decode options.
pub(crate) fn framed<IO: AsyncRead + AsyncWrite>(
    io: IO,
    max_pdu_len: usize,
    options: smpp_codec::pdu::DecodeOptions,
) -> Framed<IO, SmppCodec> {
    Framed::new(io, SmppCodec::new(max_pdu_len).with_options(options))
}
