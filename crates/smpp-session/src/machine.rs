//! The sans-IO session state machine: one SMPP bind, either side, with explicit time.
//!
//! Inputs are method calls that take `now` ([`Session::handle_frame`],
//! [`Session::handle_decode_error`], [`Session::handle_timeout`], [`Session::send_request`],
//! [`Session::respond`], [`Session::bind`], [`Session::accept_bind`], [`Session::unbind`]).
//! Outputs are polled: [`Session::poll_transmit`] (frames to write), [`Session::poll_event`]
//! (what the application must know or answer) and [`Session::poll_timeout`] (when to call
//! `handle_timeout` next). After every input, drain transmit and events, then re-arm the timer.
//!
//! States follow SMPP 3.4 §2.2 / v5 §2.3: `Open` (TCP up, not bound) → `Binding` (ESME sent a
//! bind) → `Bound(kind)` → `Unbinding` → `Closed`.
//!
//! Rules enforced here (SMPP 3.4 §2.3, §2.8, v5 Table 2-1, facts §9):
//! - `enquire_link` is answered in every state, echoing its sequence number;
//! - `unbind` is answered with `unbind_resp` and the session closes;
//! - a request the peer may not send in this state or role — anything but bind,
//!   `enquire_link`, `unbind` and `generic_nack` before bind, `submit_sm` on a receiver
//!   session, `deliver_sm` on a transmitter — is answered with its own response carrying
//!   `ESME_RINVBNDSTS`; one that is allowed but that this gateway does not serve (`query_sm`,
//!   `cancel_sm`, `replace_sm`, `submit_multi`, the v5 broadcast operations) gets its own
//!   response with `ESME_RINVCMDID`; `outbind` and `alert_notification` have no response;
//! - a second bind on a bound session gets `ESME_RALYBND`;
//! - responses are matched to requests by `sequence_number`, a `generic_nack` included; a
//!   response to nothing we sent is dropped, never answered;
//! - a request without an answer within `response_timeout` is reported as timed out; after
//!   `max_consecutive_timeouts` of them in a row the session closes (a silent peer);
//! - `enquire_link` is sent once the link has been idle (nothing received) for
//!   `enquire_link_interval`; one unanswered within `enquire_link_timeout` closes the session
//!   (this is how a half-open TCP connection is found);
//! - nothing received for `inactivity_timeout` starts an `unbind` (bounded by
//!   `unbind_timeout`), then the session closes;
//! - an SMSC-side session that is not bound within `bind_timeout` closes (session_init_timer).

use std::collections::{HashMap, VecDeque};
use std::time::{Duration, Instant};

use smpp_codec::command::command_id as cid;
use smpp_codec::pdu::{Bind, BindResp, DecodeError, DecodeOptions, Frame, Pdu};
use smpp_codec::status::CommandStatus;
use smpp_codec::tlv::{tags, Tlvs};
use smpp_codec::types::{BindKind, COctetString};

/// Which side of the protocol this session plays.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Role {
    /// We are the ESME (we bound out to an SMSC).
    Esme,
    /// We are the SMSC (a partner ESME bound to us).
    Smsc,
}

/// Session state (SMPP 3.4 §2.2).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum State {
    /// Connected, not bound.
    Open,
    /// ESME side: bind sent, waiting for its response.
    Binding,
    /// Bound as transmitter, receiver or transceiver.
    Bound(BindKind),
    /// `unbind` sent, waiting for `unbind_resp`.
    Unbinding,
    /// Finished: the shell flushes what is left to transmit and closes the connection.
    Closed,
}

/// Timers and limits of one session. Defaults follow the seed where it speaks (window 100,
/// `enquire_link` every 60 s, a 30 s `enquire_link` timeout).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SessionConfig {
    /// Send `enquire_link` after this long without receiving anything; `None` disables it
    /// (seed: `enquire_link_interval`, 0 disables, default 60 s).
    pub enquire_link_interval: Option<Duration>,
    /// How long an `enquire_link` may wait for its answer before the link is declared dead
    /// (seed: "le délai d'attente par défaut est de 30 secondes").
    pub enquire_link_timeout: Duration,
    /// How long a request of ours (`submit_sm`, `deliver_sm`, `data_sm`) waits for its
    /// response (default 30 s).
    pub response_timeout: Duration,
    /// Most requests of ours awaiting a response at once (default 100, the seed's in-flight cap).
    pub window_size: usize,
    /// ESME: how long to wait for the bind response; SMSC: how long a connection may stay
    /// unbound, TLS handshake included (session_init_timer). Default 10 s.
    pub bind_timeout: Duration,
    /// Unbind and close after this long without receiving any PDU; `None` = never (default).
    pub inactivity_timeout: Option<Duration>,
    /// Close after this many requests in a row timed out; 0 = never (default 3).
    pub max_consecutive_timeouts: u32,
    /// How long our `unbind` waits for `unbind_resp` before the connection is closed anyway
    /// (default 5 s).
    pub unbind_timeout: Duration,
    /// Shell: on disable or shutdown, how long to wait for responses to requests in flight
    /// before unbinding (default 5 s).
    pub drain_timeout: Duration,
    /// Shell: how many times one request is sent again after `ESME_RTHROTTLED` or
    /// `ESME_RMSGQFUL` before that answer goes to the application (default 5).
    pub throttle_resends: u32,
    /// How the peer's PDUs are decoded: lenient (default) or strict, per bind
    /// (`strict_pdu`; `smpp_codec::pdu::DecodeOptions`). Besides the codec's own checks, the
    /// session applies [`DecodeOptions::allowed_before_bind`]: with
    /// `reject_enquire_link_before_bind`, an `enquire_link` before the bind is answered
    /// `ESME_RINVBNDSTS` (SMPP 3.4 Table 2-1).
    pub decode: DecodeOptions,
}

impl Default for SessionConfig {
    fn default() -> Self {
        SessionConfig {
            enquire_link_interval: Some(Duration::from_secs(60)),
            enquire_link_timeout: Duration::from_secs(30),
            response_timeout: Duration::from_secs(30),
            window_size: 100,
            bind_timeout: Duration::from_secs(10),
            inactivity_timeout: None,
            max_consecutive_timeouts: 3,
            unbind_timeout: DEFAULT_UNBIND_TIMEOUT,
            drain_timeout: Duration::from_secs(5),
            throttle_resends: 5,
            decode: DecodeOptions::lenient(),
        }
    }
}

/// Why a session closed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CloseReason {
    /// The peer sent `unbind` (answered).
    PeerUnbound,
    /// We unbound (answered, or the answer did not come in time).
    Unbound,
    /// The bind was refused with this status (ESME side: by the SMSC; SMSC side: by us).
    BindRejected(CommandStatus),
    /// The bind did not complete within `bind_timeout`.
    BindTimeout,
    /// An `enquire_link` went unanswered: the connection is dead or half-open.
    EnquireLinkTimeout,
    /// Nothing received for `inactivity_timeout` (we unbound, or tried to).
    Inactivity,
    /// `max_consecutive_timeouts` requests in a row went unanswered.
    RepeatedTimeouts,
    /// The application asked to drop the connection.
    Dropped,
    /// The connection failed or the peer closed it (set by the shell, not the state machine).
    Transport(String),
}

impl std::fmt::Display for CloseReason {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            CloseReason::PeerUnbound => f.write_str("peer sent unbind"),
            CloseReason::Unbound => f.write_str("unbound"),
            CloseReason::BindRejected(s) => write!(f, "bind refused: {s}"),
            CloseReason::BindTimeout => f.write_str("bind timeout"),
            CloseReason::EnquireLinkTimeout => f.write_str("enquire_link timeout"),
            CloseReason::Inactivity => f.write_str("inactivity timeout"),
            CloseReason::RepeatedTimeouts => f.write_str("repeated response timeouts"),
            CloseReason::Dropped => f.write_str("connection dropped by operator"),
            CloseReason::Transport(why) => f.write_str(why),
        }
    }
}

/// What the application must know or answer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Event {
    /// SMSC side: a bind request; answer with [`Session::accept_bind`] or [`Session::reject_bind`].
    BindRequested {
        /// Its sequence number, to echo.
        sequence_number: u32,
        /// Transmitter, receiver or transceiver.
        kind: BindKind,
        /// The bind body (credentials, system_type, address range).
        bind: Bind,
    },
    /// The session is bound.
    Bound {
        /// The bind type.
        kind: BindKind,
        /// ESME side: the SMSC's `system_id`; SMSC side: the partner's.
        system_id: COctetString,
        /// ESME side: `sc_interface_version` of the bind response, when present.
        sc_interface_version: Option<u8>,
    },
    /// A message-carrying request (`submit_sm`, `deliver_sm`, `data_sm`) allowed in this
    /// state; answer with [`Session::respond`] using its sequence number.
    Request(Frame),
    /// The response to a request sent with [`Session::send_request`] (`generic_nack` included).
    Response {
        /// The token given to `send_request`.
        token: u64,
        /// The response frame.
        frame: Frame,
    },
    /// A request of ours got no response within `response_timeout`.
    Timeout {
        /// The token given to `send_request`.
        token: u64,
        /// Its sequence number.
        sequence_number: u32,
    },
    /// The session closed while a request of ours awaited its response (SMPP v5 §2.6: it will
    /// never be answered); the peer may or may not have it.
    Abandoned {
        /// The token given to `send_request`.
        token: u64,
        /// Its sequence number.
        sequence_number: u32,
    },
    /// We sent an `enquire_link`.
    EnquireLinkSent,
    /// The peer answered our `enquire_link`.
    EnquireLinkAnswered,
    /// The peer sent an `enquire_link` (already answered).
    EnquireLinkReceived,
    /// The peer sent a request this session refused (wrong state, unsupported); already
    /// answered with `status`.
    Refused {
        /// The request's `command_id`.
        command_id: u32,
        /// Its sequence number.
        sequence_number: u32,
        /// The status it was answered with.
        status: CommandStatus,
    },
    /// The session closed; flush transmit and close the connection.
    Closed(CloseReason),
}

/// Why a request could not be sent now.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum SendError {
    /// Not bound, or the bind type does not allow this PDU in our role.
    #[error("session not bound for this operation")]
    NotBound,
    /// `window_size` requests already await responses.
    #[error("window full")]
    WindowFull,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Origin {
    User(u64),
    Bind,
    EnquireLink,
    Unbind,
}

#[derive(Clone, Copy, Debug)]
struct Pending {
    origin: Origin,
}

/// Default wait for `unbind_resp` before the connection is closed anyway.
pub const DEFAULT_UNBIND_TIMEOUT: Duration = Duration::from_secs(5);

/// Highest sequence number; the next one after it is 1 (SMPP 3.4 §5.1.4, v5 §4.7.24).
pub const MAX_SEQUENCE: u32 = 0x7FFF_FFFF;

/// How a request from the peer is treated in the current role and state.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Admission {
    /// Hand it to the application.
    Serve,
    /// Answer with its own response carrying this status.
    Refuse(CommandStatus),
    /// No response exists (outbind, alert_notification): drop it.
    Ignore,
}

/// The operation matrix for requests the peer sends (SMPP v5 Table 2-1; v3.4 Table 2-1 where
/// they agree): may the peer of a `role` session in `state` send `command_id`, and do we serve
/// it? Bind, unbind, enquire_link and generic_nack are handled before this is asked.
fn admission(role: Role, state: State, command_id: u32) -> Admission {
    let kind = match state {
        State::Bound(k) => Some(k),
        _ => None,
    };
    let peer_transmits = matches!(kind, Some(BindKind::Transmitter | BindKind::Transceiver));
    let peer_receives = matches!(kind, Some(BindKind::Receiver | BindKind::Transceiver));
    match (role, command_id) {
        (_, cid::OUTBIND | cid::ALERT_NOTIFICATION) => Admission::Ignore,
        // The peer is an ESME: it submits on transmitter and transceiver sessions.
        (Role::Smsc, cid::SUBMIT_SM | cid::DATA_SM) if peer_transmits => Admission::Serve,
        (
            Role::Smsc,
            cid::SUBMIT_MULTI
            | cid::QUERY_SM
            | cid::CANCEL_SM
            | cid::REPLACE_SM
            | cid::BROADCAST_SM
            | cid::QUERY_BROADCAST_SM
            | cid::CANCEL_BROADCAST_SM,
        ) if peer_transmits => Admission::Refuse(CommandStatus::ESME_RINVCMDID),
        // The peer is an SMSC: it delivers on sessions we bound as receiver or transceiver.
        (Role::Esme, cid::DELIVER_SM | cid::DATA_SM) if peer_receives => Admission::Serve,
        _ => Admission::Refuse(CommandStatus::ESME_RINVBNDSTS),
    }
}

/// One bind's protocol state. See the module documentation for how to drive it.
#[derive(Debug)]
pub struct Session {
    role: Role,
    state: State,
    config: SessionConfig,
    next_sequence: u32,
    pending: HashMap<u32, Pending>,
    // (deadline, sequence_number), sorted by deadline (see push_request).
    deadlines: VecDeque<(Instant, u32)>,
    user_pending: usize,
    transmit: VecDeque<Frame>,
    events: VecDeque<Event>,
    enquire_at: Option<Instant>,
    enquire_pending: bool,
    bind_deadline: Option<Instant>,
    inactive_at: Option<Instant>,
    consecutive_timeouts: u32,
    // Why we started unbinding: reported when the unbind completes.
    unbind_reason: Option<CloseReason>,
}

impl Session {
    /// A new session on a fresh connection at `now`. SMSC side starts the session_init timer.
    pub fn new(role: Role, config: SessionConfig, now: Instant) -> Self {
        let bind_deadline = (role == Role::Smsc).then(|| now + config.bind_timeout);
        let inactive_at = config.inactivity_timeout.map(|d| now + d);
        Session {
            role,
            state: State::Open,
            config,
            next_sequence: 1,
            pending: HashMap::new(),
            deadlines: VecDeque::new(),
            user_pending: 0,
            transmit: VecDeque::new(),
            events: VecDeque::new(),
            enquire_at: None,
            enquire_pending: false,
            bind_deadline,
            inactive_at,
            consecutive_timeouts: 0,
            unbind_reason: None,
        }
    }

    /// The current state.
    pub fn state(&self) -> State {
        self.state
    }

    /// The role.
    pub fn role(&self) -> Role {
        self.role
    }

    /// The configuration in force.
    pub fn config(&self) -> &SessionConfig {
        &self.config
    }

    /// Replace timers and window at run time: a changed `enquire_link_interval` or
    /// `inactivity_timeout` is re-armed from `now`; timeouts apply to the next request.
    pub fn set_config(&mut self, config: SessionConfig, now: Instant) {
        if self.config.enquire_link_interval != config.enquire_link_interval
            && self.is_bound()
            && !self.enquire_pending
        {
            self.enquire_at = config.enquire_link_interval.map(|d| now + d);
        }
        if self.config.inactivity_timeout != config.inactivity_timeout {
            self.inactive_at = config.inactivity_timeout.map(|d| now + d);
        }
        self.config = config;
    }

    /// True when bound (any kind).
    pub fn is_bound(&self) -> bool {
        matches!(self.state, State::Bound(_))
    }

    /// Requests of ours (sent with `send_request`) awaiting a response.
    pub fn in_flight(&self) -> usize {
        self.user_pending
    }

    /// True when one more request fits in the window.
    pub fn window_available(&self) -> bool {
        self.user_pending < self.config.window_size
    }

    /// Whether this session may send `command_id` as a request now (state and bind type).
    pub fn may_send(&self, command_id: u32) -> bool {
        let State::Bound(kind) = self.state else {
            return false;
        };
        match (self.role, command_id) {
            (Role::Esme, cid::SUBMIT_SM | cid::DATA_SM) => kind != BindKind::Receiver,
            (Role::Smsc, cid::DELIVER_SM | cid::DATA_SM) => kind != BindKind::Transmitter,
            _ => false,
        }
    }

    fn next_seq(&mut self) -> u32 {
        let s = self.next_sequence;
        self.next_sequence = if s >= MAX_SEQUENCE { 1 } else { s + 1 };
        s
    }

    fn push_request(&mut self, now: Instant, pdu: Pdu, origin: Origin) -> u32 {
        let timeout = match origin {
            Origin::Bind => self.config.bind_timeout,
            Origin::Unbind => self.config.unbind_timeout,
            Origin::EnquireLink => self.config.enquire_link_timeout,
            Origin::User(_) => self.config.response_timeout,
        };
        let seq = self.next_seq();
        let deadline = now + timeout;
        self.pending.insert(seq, Pending { origin });
        // Most requests share one timeout, so appending keeps the queue sorted; a request with
        // a shorter timeout (unbind, enquire_link) is placed where it belongs.
        if self
            .deadlines
            .back()
            .is_some_and(|&(last, _)| last > deadline)
        {
            let at = self.deadlines.partition_point(|&(d, _)| d <= deadline);
            self.deadlines.insert(at, (deadline, seq));
        } else {
            self.deadlines.push_back((deadline, seq));
        }
        if matches!(origin, Origin::User(_)) {
            self.user_pending += 1;
        }
        self.transmit.push_back(Frame::new(seq, pdu));
        seq
    }

    /// ESME side: send a bind of `kind` with `bind`'s fields. Only in `Open`.
    pub fn bind(&mut self, now: Instant, kind: BindKind, bind: Bind) {
        debug_assert_eq!(self.role, Role::Esme);
        if self.state != State::Open {
            return;
        }
        let pdu = match kind {
            BindKind::Transmitter => Pdu::BindTransmitter(bind),
            BindKind::Receiver => Pdu::BindReceiver(bind),
            BindKind::Transceiver => Pdu::BindTransceiver(bind),
        };
        self.push_request(now, pdu, Origin::Bind);
        self.bind_deadline = Some(now + self.config.bind_timeout);
        self.state = State::Binding;
    }

    /// SMSC side: accept the bind `sequence_number` of `kind`, answering with our `system_id`
    /// and `sc_interface_version` 0x34.
    pub fn accept_bind(
        &mut self,
        now: Instant,
        sequence_number: u32,
        kind: BindKind,
        our_system_id: &str,
        peer_system_id: COctetString,
    ) {
        if self.state != State::Open {
            return;
        }
        let mut tlvs = Tlvs::new();
        tlvs.push(tags::SC_INTERFACE_VERSION, &[0x34]);
        let body = BindResp {
            system_id: COctetString::from(our_system_id),
            tlvs,
        };
        self.transmit
            .push_back(Frame::new(sequence_number, bind_resp(kind, body)));
        self.become_bound(now, kind, peer_system_id, None);
    }

    /// SMSC side: refuse the bind `sequence_number` with `status`; the session then closes.
    pub fn reject_bind(&mut self, sequence_number: u32, kind: BindKind, status: CommandStatus) {
        self.transmit.push_back(Frame::with_status(
            sequence_number,
            status,
            bind_resp(kind, BindResp::default()),
        ));
        self.close(CloseReason::BindRejected(status));
    }

    fn become_bound(
        &mut self,
        now: Instant,
        kind: BindKind,
        system_id: COctetString,
        sc_interface_version: Option<u8>,
    ) {
        self.state = State::Bound(kind);
        self.bind_deadline = None;
        self.enquire_at = self.config.enquire_link_interval.map(|d| now + d);
        self.events.push_back(Event::Bound {
            kind,
            system_id,
            sc_interface_version,
        });
    }

    /// Send a request (`submit_sm`, `deliver_sm`, `data_sm`) tagged with `token`; its response
    /// comes back as [`Event::Response`] with that token, or [`Event::Timeout`].
    pub fn send_request(&mut self, now: Instant, pdu: Pdu, token: u64) -> Result<u32, SendError> {
        if !self.may_send(pdu.command_id()) {
            return Err(SendError::NotBound);
        }
        if !self.window_available() {
            return Err(SendError::WindowFull);
        }
        Ok(self.push_request(now, pdu, Origin::User(token)))
    }

    /// Answer the peer's request `sequence_number` with `status` and `pdu` (the `_resp`).
    pub fn respond(&mut self, sequence_number: u32, status: CommandStatus, pdu: Pdu) {
        if self.state == State::Closed {
            return;
        }
        self.transmit
            .push_back(Frame::with_status(sequence_number, status, pdu));
    }

    /// Start an orderly unbind: send `unbind` and wait (`unbind_timeout`) for `unbind_resp`.
    /// Before bind, close at once.
    pub fn unbind(&mut self, now: Instant) {
        self.unbind_because(now, CloseReason::Unbound);
    }

    fn unbind_because(&mut self, now: Instant, reason: CloseReason) {
        match self.state {
            State::Bound(_) => {
                self.push_request(now, Pdu::Unbind, Origin::Unbind);
                self.state = State::Unbinding;
                self.unbind_reason = Some(reason);
            }
            State::Open | State::Binding => self.close(reason),
            State::Unbinding | State::Closed => {}
        }
    }

    /// Close at once without unbinding (operator's drop connection).
    pub fn drop_connection(&mut self) {
        self.close(CloseReason::Dropped);
    }

    fn close(&mut self, reason: CloseReason) {
        if self.state == State::Closed {
            return;
        }
        self.state = State::Closed;
        // Every request of ours still waiting will never be answered (v5 §2.6).
        let mut waiting: Vec<(u32, Pending)> = self.pending.drain().collect();
        waiting.sort_by_key(|(seq, _)| *seq);
        for (seq, p) in waiting {
            if let Origin::User(token) = p.origin {
                self.events.push_back(Event::Abandoned {
                    token,
                    sequence_number: seq,
                });
            }
        }
        self.deadlines.clear();
        self.user_pending = 0;
        self.events.push_back(Event::Closed(reason));
    }

    /// A decoded frame arrived at `now`.
    pub fn handle_frame(&mut self, now: Instant, frame: Frame) {
        if self.state == State::Closed {
            return;
        }
        self.heard_from_peer(now);
        if frame.pdu.is_response() {
            self.handle_response(now, frame);
        } else {
            self.handle_request(now, frame);
        }
    }

    /// Anything received proves the link alive: re-arm the inactivity timer and, unless an
    /// `enquire_link` of ours is waiting, push the next one back.
    fn heard_from_peer(&mut self, now: Instant) {
        self.inactive_at = self.config.inactivity_timeout.map(|d| now + d);
        if self.is_bound() && !self.enquire_pending {
            self.enquire_at = self.config.enquire_link_interval.map(|d| now + d);
        }
    }

    /// Drop answered requests from the front of the deadline queue so `poll_timeout` names a
    /// live deadline.
    fn prune_deadlines(&mut self) {
        while let Some(&(_, seq)) = self.deadlines.front() {
            if self.pending.contains_key(&seq) {
                break;
            }
            self.deadlines.pop_front();
        }
    }

    fn handle_response(&mut self, now: Instant, frame: Frame) {
        let removed = self.pending.remove(&frame.sequence_number);
        self.prune_deadlines();
        let Some(p) = removed else {
            // A response to nothing we sent (late after a timeout, or a confused peer): never
            // answer a response; drop it.
            tracing::debug!(
                seq = frame.sequence_number,
                id = frame.pdu.command_id(),
                "unexpected response ignored"
            );
            return;
        };
        match p.origin {
            Origin::User(token) => {
                self.user_pending -= 1;
                self.consecutive_timeouts = 0;
                self.events.push_back(Event::Response { token, frame });
            }
            Origin::EnquireLink => {
                self.enquire_pending = false;
                self.enquire_at = self.config.enquire_link_interval.map(|d| now + d);
                self.events.push_back(Event::EnquireLinkAnswered);
            }
            Origin::Unbind => {
                let reason = self.unbind_reason.take().unwrap_or(CloseReason::Unbound);
                self.close(reason);
            }
            Origin::Bind => {
                if frame.command_status.is_ok() && !matches!(frame.pdu, Pdu::GenericNack) {
                    let (kind, body) = match &frame.pdu {
                        Pdu::BindTransmitterResp(b) => (BindKind::Transmitter, b),
                        Pdu::BindReceiverResp(b) => (BindKind::Receiver, b),
                        Pdu::BindTransceiverResp(b) => (BindKind::Transceiver, b),
                        _ => {
                            self.close(CloseReason::BindRejected(CommandStatus::ESME_RBINDFAIL));
                            return;
                        }
                    };
                    let version = body.tlvs.sc_interface_version();
                    let system_id = body.system_id.clone();
                    self.become_bound(now, kind, system_id, version);
                } else {
                    let status = if frame.command_status.is_ok() {
                        CommandStatus::ESME_RBINDFAIL
                    } else {
                        frame.command_status
                    };
                    self.close(CloseReason::BindRejected(status));
                }
            }
        }
    }

    fn handle_request(&mut self, _now: Instant, frame: Frame) {
        let seq = frame.sequence_number;
        match &frame.pdu {
            Pdu::EnquireLink
                if matches!(self.state, State::Open | State::Binding)
                    && !self.config.decode.allowed_before_bind(cid::ENQUIRE_LINK) =>
            {
                self.refuse(seq, &frame.pdu, CommandStatus::ESME_RINVBNDSTS);
            }
            Pdu::EnquireLink => {
                self.transmit
                    .push_back(Frame::new(seq, Pdu::EnquireLinkResp));
                self.events.push_back(Event::EnquireLinkReceived);
            }
            Pdu::Unbind => {
                self.transmit.push_back(Frame::new(seq, Pdu::UnbindResp));
                self.close(CloseReason::PeerUnbound);
            }
            Pdu::BindTransmitter(_) | Pdu::BindReceiver(_) | Pdu::BindTransceiver(_) => {
                let kind = frame.pdu.bind_kind().unwrap_or(BindKind::Transceiver);
                match (self.role, self.state) {
                    (Role::Smsc, State::Open) => {
                        let (Pdu::BindTransmitter(bind)
                        | Pdu::BindReceiver(bind)
                        | Pdu::BindTransceiver(bind)) = frame.pdu
                        else {
                            return;
                        };
                        self.events.push_back(Event::BindRequested {
                            sequence_number: seq,
                            kind,
                            bind,
                        });
                    }
                    (Role::Smsc, State::Bound(_) | State::Unbinding) => {
                        self.refuse(seq, &frame.pdu, CommandStatus::ESME_RALYBND)
                    }
                    // An SMSC does not bind to its ESME.
                    _ => self.refuse(seq, &frame.pdu, CommandStatus::ESME_RINVBNDSTS),
                }
            }
            // A generic_nack with nothing pending is dropped (never answer a response).
            Pdu::GenericNack => {}
            other => match admission(self.role, self.state, other.command_id()) {
                Admission::Serve => self.events.push_back(Event::Request(frame)),
                Admission::Refuse(status) => self.refuse(seq, other, status),
                // No response exists for these (SMPP 3.4 §4.1.7, §4.12): never answer them. We
                // do not take outbinds (client binds connect themselves), and
                // alert_notification carries nothing the core needs.
                Admission::Ignore => tracing::debug!(
                    id = other.command_id(),
                    "alert_notification/outbind ignored"
                ),
            },
        }
    }

    /// Answer request `seq` with its own empty response carrying `status` (generic_nack when
    /// it has none), and tell the application.
    fn refuse(&mut self, seq: u32, request: &Pdu, status: CommandStatus) {
        let resp = request.empty_response().unwrap_or(Pdu::GenericNack);
        self.transmit
            .push_back(Frame::with_status(seq, status, resp));
        self.events.push_back(Event::Refused {
            command_id: request.command_id(),
            sequence_number: seq,
            status,
        });
    }

    /// A PDU that could not be decoded: answer it as the codec says (generic_nack or the
    /// command's own response with the status of the fault).
    pub fn handle_decode_error(&mut self, now: Instant, error: &DecodeError) {
        if self.state == State::Closed {
            return;
        }
        self.heard_from_peer(now);
        if let Some(resp) = error.response() {
            self.transmit.push_back(resp);
        }
    }

    /// Fire every timer due at `now`.
    pub fn handle_timeout(&mut self, now: Instant) {
        if self.state == State::Closed {
            return;
        }
        if let Some(d) = self.bind_deadline {
            if now >= d && matches!(self.state, State::Open | State::Binding) {
                self.close(CloseReason::BindTimeout);
                return;
            }
        }
        while let Some(&(deadline, seq)) = self.deadlines.front() {
            if deadline > now {
                break;
            }
            self.deadlines.pop_front();
            let Some(p) = self.pending.remove(&seq) else {
                continue;
            };
            self.prune_deadlines();
            match p.origin {
                Origin::User(token) => {
                    self.user_pending -= 1;
                    self.consecutive_timeouts += 1;
                    self.events.push_back(Event::Timeout {
                        token,
                        sequence_number: seq,
                    });
                    if self.config.max_consecutive_timeouts > 0
                        && self.consecutive_timeouts >= self.config.max_consecutive_timeouts
                    {
                        self.close(CloseReason::RepeatedTimeouts);
                        return;
                    }
                }
                Origin::EnquireLink => {
                    self.close(CloseReason::EnquireLinkTimeout);
                    return;
                }
                Origin::Unbind => {
                    let reason = self.unbind_reason.take().unwrap_or(CloseReason::Unbound);
                    self.close(reason);
                    return;
                }
                Origin::Bind => {
                    self.close(CloseReason::BindTimeout);
                    return;
                }
            }
        }
        if let Some(d) = self.inactive_at {
            if now >= d && self.state != State::Unbinding {
                self.inactive_at = None;
                self.unbind_because(now, CloseReason::Inactivity);
                return;
            }
        }
        if let (Some(at), State::Bound(_)) = (self.enquire_at, self.state) {
            if now >= at && !self.enquire_pending {
                self.push_request(now, Pdu::EnquireLink, Origin::EnquireLink);
                self.enquire_pending = true;
                self.enquire_at = None;
                self.events.push_back(Event::EnquireLinkSent);
            }
        }
    }

    /// The next instant `handle_timeout` must be called at, if any timer is armed.
    pub fn poll_timeout(&self) -> Option<Instant> {
        if self.state == State::Closed {
            return None;
        }
        let mut next: Option<Instant> = None;
        let mut consider = |t: Option<Instant>| {
            if let Some(t) = t {
                next = Some(next.map_or(t, |n: Instant| n.min(t)));
            }
        };
        consider(self.deadlines.front().map(|d| d.0));
        match self.state {
            State::Open | State::Binding => {
                consider(self.bind_deadline);
                consider(self.inactive_at);
            }
            State::Bound(_) => {
                consider(self.enquire_at);
                consider(self.inactive_at);
            }
            State::Unbinding | State::Closed => {}
        }
        next
    }

    /// Whether frames wait to be written.
    pub fn has_transmit(&self) -> bool {
        !self.transmit.is_empty()
    }

    /// The next frame to write, oldest first.
    pub fn poll_transmit(&mut self) -> Option<Frame> {
        self.transmit.pop_front()
    }

    /// The next event for the application.
    pub fn poll_event(&mut self) -> Option<Event> {
        self.events.pop_front()
    }
}

fn bind_resp(kind: BindKind, body: BindResp) -> Pdu {
    match kind {
        BindKind::Transmitter => Pdu::BindTransmitterResp(body),
        BindKind::Receiver => Pdu::BindReceiverResp(body),
        BindKind::Transceiver => Pdu::BindTransceiverResp(body),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use smpp_codec::pdu::{SubmitSm, SubmitSmResp};

    fn cfg() -> SessionConfig {
        SessionConfig {
            window_size: 2,
            ..SessionConfig::default()
        }
    }

    fn bind_body() -> Bind {
        Bind {
            system_id: "gw".into(),
            password: "pw".into(),
            system_type: "".into(),
            interface_version: 0x34,
            addr_ton: 0,
            addr_npi: 0,
            address_range: "".into(),
        }
    }

    fn drain(s: &mut Session) -> (Vec<Frame>, Vec<Event>) {
        let mut f = Vec::new();
        while let Some(x) = s.poll_transmit() {
            f.push(x);
        }
        let mut e = Vec::new();
        while let Some(x) = s.poll_event() {
            e.push(x);
        }
        (f, e)
    }

    /// An ESME session bound as `kind` at `t0`.
    fn bound_esme(t0: Instant, kind: BindKind) -> Session {
        let mut s = Session::new(Role::Esme, cfg(), t0);
        s.bind(t0, kind, bind_body());
        let (f, _) = drain(&mut s);
        let seq = f[0].sequence_number;
        let resp = match kind {
            BindKind::Transmitter => Pdu::BindTransmitterResp(BindResp::default()),
            BindKind::Receiver => Pdu::BindReceiverResp(BindResp::default()),
            BindKind::Transceiver => Pdu::BindTransceiverResp(BindResp::default()),
        };
        s.handle_frame(t0, Frame::new(seq, resp));
        let (_, e) = drain(&mut s);
        assert!(matches!(e[0], Event::Bound { kind: k, .. } if k == kind));
        s
    }

    #[test]
    fn esme_bind_sends_the_configured_bind_and_binds_on_ok() {
        let t0 = Instant::now();
        let mut s = Session::new(Role::Esme, cfg(), t0);
        s.bind(t0, BindKind::Transceiver, bind_body());
        assert_eq!(s.state(), State::Binding);
        let (f, _) = drain(&mut s);
        assert_eq!(f.len(), 1);
        assert!(matches!(&f[0].pdu, Pdu::BindTransceiver(b) if b.system_id.as_bytes() == b"gw"));
        let mut tlvs = Tlvs::new();
        tlvs.push(tags::SC_INTERFACE_VERSION, &[0x34]);
        s.handle_frame(
            t0,
            Frame::new(
                f[0].sequence_number,
                Pdu::BindTransceiverResp(BindResp {
                    system_id: "SMSC".into(),
                    tlvs,
                }),
            ),
        );
        let (_, e) = drain(&mut s);
        assert_eq!(
            e,
            vec![Event::Bound {
                kind: BindKind::Transceiver,
                system_id: "SMSC".into(),
                sc_interface_version: Some(0x34)
            }]
        );
        assert_eq!(s.state(), State::Bound(BindKind::Transceiver));
    }

    #[test]
    fn refused_bind_closes_with_the_status() {
        let t0 = Instant::now();
        let mut s = Session::new(Role::Esme, cfg(), t0);
        s.bind(t0, BindKind::Transmitter, bind_body());
        let (f, _) = drain(&mut s);
        s.handle_frame(
            t0,
            Frame::with_status(
                f[0].sequence_number,
                CommandStatus::ESME_RINVPASWD,
                Pdu::BindTransmitterResp(BindResp::default()),
            ),
        );
        let (_, e) = drain(&mut s);
        assert_eq!(
            e,
            vec![Event::Closed(CloseReason::BindRejected(
                CommandStatus::ESME_RINVPASWD
            ))]
        );
        // A generic_nack answering the bind is a refusal too.
        let mut s = Session::new(Role::Esme, cfg(), t0);
        s.bind(t0, BindKind::Transmitter, bind_body());
        let (f, _) = drain(&mut s);
        s.handle_frame(
            t0,
            Frame::with_status(
                f[0].sequence_number,
                CommandStatus::ESME_RINVCMDID,
                Pdu::GenericNack,
            ),
        );
        assert_eq!(
            drain(&mut s).1,
            vec![Event::Closed(CloseReason::BindRejected(
                CommandStatus::ESME_RINVCMDID
            ))]
        );
    }

    #[test]
    fn bind_without_answer_times_out() {
        let t0 = Instant::now();
        let mut s = Session::new(Role::Esme, cfg(), t0);
        s.bind(t0, BindKind::Transceiver, bind_body());
        drain(&mut s);
        assert_eq!(s.poll_timeout(), Some(t0 + Duration::from_secs(10)));
        s.handle_timeout(t0 + Duration::from_secs(9));
        assert!(drain(&mut s).1.is_empty());
        s.handle_timeout(t0 + Duration::from_secs(10));
        assert_eq!(
            drain(&mut s).1,
            vec![Event::Closed(CloseReason::BindTimeout)]
        );
    }

    #[test]
    fn smsc_session_init_timer_closes_an_unbound_connection() {
        let t0 = Instant::now();
        let mut s = Session::new(Role::Smsc, cfg(), t0);
        assert_eq!(s.poll_timeout(), Some(t0 + Duration::from_secs(10)));
        s.handle_timeout(t0 + Duration::from_secs(10));
        assert_eq!(
            drain(&mut s).1,
            vec![Event::Closed(CloseReason::BindTimeout)]
        );
    }

    #[test]
    fn enquire_link_is_answered_in_every_state_with_its_sequence() {
        let t0 = Instant::now();
        let mut s = Session::new(Role::Smsc, cfg(), t0);
        s.handle_frame(t0, Frame::new(77, Pdu::EnquireLink));
        let (f, e) = drain(&mut s);
        assert_eq!(f, vec![Frame::new(77, Pdu::EnquireLinkResp)]);
        assert_eq!(e, vec![Event::EnquireLinkReceived]);
        let mut s = bound_esme(t0, BindKind::Receiver);
        s.handle_frame(t0, Frame::new(0x7FFF_FFFF, Pdu::EnquireLink));
        assert_eq!(
            drain(&mut s).0,
            vec![Frame::new(0x7FFF_FFFF, Pdu::EnquireLinkResp)]
        );
    }

    #[test]
    fn strict_decode_options_refuse_enquire_link_before_bind_only() {
        let t0 = Instant::now();
        let strict = SessionConfig {
            decode: DecodeOptions::strict(),
            ..cfg()
        };
        let mut s = Session::new(Role::Smsc, strict.clone(), t0);
        s.handle_frame(t0, Frame::new(9, Pdu::EnquireLink));
        let (f, _) = drain(&mut s);
        assert_eq!(
            f,
            vec![Frame::with_status(
                9,
                CommandStatus::ESME_RINVBNDSTS,
                Pdu::EnquireLinkResp
            )]
        );
        // Once bound, a strict session answers it as always.
        let mut s = bound_smsc(t0, BindKind::Transceiver, strict);
        s.handle_frame(t0, Frame::new(10, Pdu::EnquireLink));
        assert_eq!(drain(&mut s).0, vec![Frame::new(10, Pdu::EnquireLinkResp)]);
    }

    #[test]
    fn enquire_link_every_interval_and_silence_closes() {
        let t0 = Instant::now();
        let mut s = bound_esme(t0, BindKind::Transceiver);
        assert_eq!(s.poll_timeout(), Some(t0 + Duration::from_secs(60)));
        let t1 = t0 + Duration::from_secs(60);
        s.handle_timeout(t1);
        let (f, e) = drain(&mut s);
        assert!(matches!(
            f[..],
            [Frame {
                pdu: Pdu::EnquireLink,
                ..
            }]
        ));
        assert_eq!(e, vec![Event::EnquireLinkSent]);
        s.handle_frame(t1, Frame::new(f[0].sequence_number, Pdu::EnquireLinkResp));
        assert_eq!(drain(&mut s).1, vec![Event::EnquireLinkAnswered]);
        // The next one goes unanswered (half-open TCP): the session closes at its deadline.
        let t2 = t1 + Duration::from_secs(60);
        s.handle_timeout(t2);
        drain(&mut s);
        s.handle_timeout(t2 + Duration::from_secs(29));
        assert!(drain(&mut s).1.is_empty());
        s.handle_timeout(t2 + Duration::from_secs(30));
        assert_eq!(
            drain(&mut s).1,
            vec![Event::Closed(CloseReason::EnquireLinkTimeout)]
        );
    }

    #[test]
    fn message_pdus_need_the_right_bind_state() {
        let t0 = Instant::now();
        // Before bind.
        let mut s = Session::new(Role::Smsc, cfg(), t0);
        s.handle_frame(t0, Frame::new(5, Pdu::SubmitSm(SubmitSm::default())));
        let (f, e) = drain(&mut s);
        assert_eq!(
            e,
            vec![Event::Refused {
                command_id: smpp_codec::command::command_id::SUBMIT_SM,
                sequence_number: 5,
                status: CommandStatus::ESME_RINVBNDSTS
            }]
        );
        assert_eq!(
            f,
            vec![Frame::with_status(
                5,
                CommandStatus::ESME_RINVBNDSTS,
                Pdu::SubmitSmResp(SubmitSmResp::default())
            )]
        );
        // submit_sm on a receiver session.
        let mut s = Session::new(Role::Smsc, cfg(), t0);
        s.handle_frame(t0, Frame::new(1, Pdu::BindReceiver(bind_body())));
        let Some(Event::BindRequested {
            sequence_number,
            kind,
            ..
        }) = s.poll_event()
        else {
            panic!("no bind request")
        };
        s.accept_bind(t0, sequence_number, kind, "smppgw", "gw".into());
        let (f, e) = drain(&mut s);
        assert!(
            matches!(&f[0], Frame { sequence_number: 1, pdu: Pdu::BindReceiverResp(r), .. } if r.tlvs.sc_interface_version() == Some(0x34))
        );
        assert!(matches!(
            e[0],
            Event::Bound {
                kind: BindKind::Receiver,
                ..
            }
        ));
        s.handle_frame(t0, Frame::new(2, Pdu::SubmitSm(SubmitSm::default())));
        assert_eq!(
            drain(&mut s).0,
            vec![Frame::with_status(
                2,
                CommandStatus::ESME_RINVBNDSTS,
                Pdu::SubmitSmResp(SubmitSmResp::default())
            )]
        );
        // A second bind on a bound session.
        s.handle_frame(t0, Frame::new(3, Pdu::BindTransmitter(bind_body())));
        assert_eq!(
            drain(&mut s).0,
            vec![Frame::with_status(
                3,
                CommandStatus::ESME_RALYBND,
                Pdu::BindTransmitterResp(BindResp::default())
            )]
        );
        // The SMSC may deliver on a receiver session but not submit.
        assert!(s.may_send(smpp_codec::command::command_id::DELIVER_SM));
        assert!(!s.may_send(smpp_codec::command::command_id::SUBMIT_SM));
    }

    #[test]
    fn window_limits_requests_and_responses_free_it() {
        let t0 = Instant::now();
        let mut s = bound_esme(t0, BindKind::Transmitter);
        let a = s
            .send_request(t0, Pdu::SubmitSm(SubmitSm::default()), 1)
            .unwrap();
        let b = s
            .send_request(t0, Pdu::SubmitSm(SubmitSm::default()), 2)
            .unwrap();
        assert_ne!(a, b);
        assert_eq!(
            s.send_request(t0, Pdu::SubmitSm(SubmitSm::default()), 3),
            Err(SendError::WindowFull)
        );
        // deliver_sm is not ours to send as ESME.
        assert_eq!(
            s.send_request(t0, Pdu::DeliverSm(SubmitSm::default()), 4),
            Err(SendError::NotBound)
        );
        // Answers in any order; a generic_nack is matched by sequence number.
        s.handle_frame(
            t0,
            Frame::with_status(b, CommandStatus::ESME_RTHROTTLED, Pdu::GenericNack),
        );
        s.handle_frame(
            t0,
            Frame::new(
                a,
                Pdu::SubmitSmResp(SubmitSmResp {
                    message_id: "42".into(),
                    ..Default::default()
                }),
            ),
        );
        let (_, e) = drain(&mut s);
        assert_eq!(e.len(), 2);
        assert!(
            matches!(&e[0], Event::Response { token: 2, frame } if frame.command_status == CommandStatus::ESME_RTHROTTLED)
        );
        assert!(
            matches!(&e[1], Event::Response { token: 1, frame } if matches!(&frame.pdu, Pdu::SubmitSmResp(r) if r.message_id.as_bytes() == b"42"))
        );
        assert!(s.window_available());
        assert_eq!(s.in_flight(), 0);
    }

    #[test]
    fn unanswered_requests_time_out_and_repeated_timeouts_close() {
        let t0 = Instant::now();
        let mut c = cfg();
        c.window_size = 10;
        c.enquire_link_interval = None;
        let mut s = Session::new(Role::Esme, c, t0);
        s.bind(t0, BindKind::Transmitter, bind_body());
        let (f, _) = drain(&mut s);
        s.handle_frame(
            t0,
            Frame::new(
                f[0].sequence_number,
                Pdu::BindTransmitterResp(BindResp::default()),
            ),
        );
        drain(&mut s);
        for token in 1..=3 {
            s.send_request(
                t0 + Duration::from_secs(token),
                Pdu::SubmitSm(SubmitSm::default()),
                token,
            )
            .unwrap();
        }
        drain(&mut s);
        s.handle_timeout(t0 + Duration::from_secs(31));
        let (_, e) = drain(&mut s);
        assert!(matches!(e[..], [Event::Timeout { token: 1, .. }]));
        s.handle_timeout(t0 + Duration::from_secs(40));
        let (_, e) = drain(&mut s);
        assert!(
            matches!(
                e[..],
                [
                    Event::Timeout { token: 2, .. },
                    Event::Timeout { token: 3, .. },
                    Event::Closed(CloseReason::RepeatedTimeouts)
                ]
            ),
            "{e:?}"
        );
    }

    #[test]
    fn peer_unbind_is_answered_and_closes() {
        let t0 = Instant::now();
        let mut s = bound_esme(t0, BindKind::Transceiver);
        s.handle_frame(t0, Frame::new(9, Pdu::Unbind));
        let (f, e) = drain(&mut s);
        assert_eq!(f, vec![Frame::new(9, Pdu::UnbindResp)]);
        assert_eq!(e, vec![Event::Closed(CloseReason::PeerUnbound)]);
    }

    #[test]
    fn our_unbind_waits_for_unbind_resp() {
        let t0 = Instant::now();
        let mut s = bound_esme(t0, BindKind::Transceiver);
        s.unbind(t0);
        let (f, _) = drain(&mut s);
        assert!(matches!(
            f[..],
            [Frame {
                pdu: Pdu::Unbind,
                ..
            }]
        ));
        assert_eq!(s.state(), State::Unbinding);
        s.handle_frame(t0, Frame::new(f[0].sequence_number, Pdu::UnbindResp));
        assert_eq!(drain(&mut s).1, vec![Event::Closed(CloseReason::Unbound)]);
    }

    #[test]
    fn unbind_gives_up_after_its_own_short_timeout() {
        let t0 = Instant::now();
        let mut s = bound_esme(t0, BindKind::Transmitter);
        s.send_request(t0, Pdu::SubmitSm(SubmitSm::default()), 1)
            .unwrap();
        s.unbind(t0 + Duration::from_secs(1));
        drain(&mut s);
        assert_eq!(
            s.poll_timeout(),
            Some(t0 + Duration::from_secs(1) + DEFAULT_UNBIND_TIMEOUT)
        );
        s.handle_timeout(t0 + Duration::from_secs(1) + DEFAULT_UNBIND_TIMEOUT);
        let (_, e) = drain(&mut s);
        // The submit still waiting is reported, then the session closes.
        assert_eq!(
            e,
            vec![
                Event::Abandoned {
                    token: 1,
                    sequence_number: 2
                },
                Event::Closed(CloseReason::Unbound)
            ]
        );
    }

    #[test]
    fn sequence_numbers_wrap_after_0x7fffffff() {
        let t0 = Instant::now();
        let mut s = bound_esme(t0, BindKind::Transmitter);
        s.next_sequence = MAX_SEQUENCE;
        let a = s
            .send_request(t0, Pdu::SubmitSm(SubmitSm::default()), 1)
            .unwrap();
        let b = s
            .send_request(t0, Pdu::SubmitSm(SubmitSm::default()), 2)
            .unwrap();
        assert_eq!((a, b), (MAX_SEQUENCE, 1));
    }

    #[test]
    fn a_response_to_nothing_is_ignored_not_answered() {
        let t0 = Instant::now();
        let mut s = bound_esme(t0, BindKind::Transmitter);
        s.handle_frame(
            t0,
            Frame::new(12345, Pdu::SubmitSmResp(SubmitSmResp::default())),
        );
        let (f, e) = drain(&mut s);
        assert!(f.is_empty() && e.is_empty());
    }

    /// An SMSC-side session bound as `kind` at `t0`.
    fn bound_smsc(t0: Instant, kind: BindKind, config: SessionConfig) -> Session {
        let mut s = Session::new(Role::Smsc, config, t0);
        let pdu = match kind {
            BindKind::Transmitter => Pdu::BindTransmitter(bind_body()),
            BindKind::Receiver => Pdu::BindReceiver(bind_body()),
            BindKind::Transceiver => Pdu::BindTransceiver(bind_body()),
        };
        s.handle_frame(t0, Frame::new(1, pdu));
        let Some(Event::BindRequested {
            sequence_number,
            kind,
            ..
        }) = s.poll_event()
        else {
            panic!("no bind request")
        };
        s.accept_bind(t0, sequence_number, kind, "smppgw", "gw".into());
        drain(&mut s);
        s
    }

    /// What `s` answers to request `pdu` with sequence 42: the frames written and the events.
    fn answer(s: &mut Session, t: Instant, pdu: Pdu) -> (Vec<Frame>, Vec<Event>) {
        s.handle_frame(t, Frame::new(42, pdu));
        drain(s)
    }

    #[test]
    fn the_operation_matrix_answers_every_request_by_role_and_state() {
        use smpp_codec::pdu::{
            AlertNotification, CancelSm, DataSm, DataSmResp, DeliverSmResp, QuerySm, QuerySmResp,
            ReplaceSm, SubmitMulti, SubmitMultiResp,
        };
        let t0 = Instant::now();
        // (frames written, status) expected for a refused request.
        type Refusal = (Vec<Frame>, CommandStatus);
        let refused =
            |status, resp: Pdu| -> Refusal { (vec![Frame::with_status(42, status, resp)], status) };
        let cases: Vec<(&str, Session, Pdu, Option<Refusal>)> = vec![
            // SMSC side, partner bound as transmitter: ours to serve, or allowed but unsupported.
            (
                "smsc tx query_sm",
                bound_smsc(t0, BindKind::Transmitter, cfg()),
                Pdu::QuerySm(QuerySm::default()),
                Some(refused(
                    CommandStatus::ESME_RINVCMDID,
                    Pdu::QuerySmResp(QuerySmResp::default()),
                )),
            ),
            (
                "smsc tx cancel_sm",
                bound_smsc(t0, BindKind::Transmitter, cfg()),
                Pdu::CancelSm(CancelSm::default()),
                Some(refused(CommandStatus::ESME_RINVCMDID, Pdu::CancelSmResp)),
            ),
            (
                "smsc tx replace_sm",
                bound_smsc(t0, BindKind::Transmitter, cfg()),
                Pdu::ReplaceSm(ReplaceSm::default()),
                Some(refused(CommandStatus::ESME_RINVCMDID, Pdu::ReplaceSmResp)),
            ),
            (
                "smsc trx submit_multi",
                bound_smsc(t0, BindKind::Transceiver, cfg()),
                Pdu::SubmitMulti(SubmitMulti::default()),
                Some(refused(
                    CommandStatus::ESME_RINVCMDID,
                    Pdu::SubmitMultiResp(SubmitMultiResp::default()),
                )),
            ),
            // The partner may not deliver to us, nor query on a receiver session.
            (
                "smsc trx deliver_sm",
                bound_smsc(t0, BindKind::Transceiver, cfg()),
                Pdu::DeliverSm(SubmitSm::default()),
                Some(refused(
                    CommandStatus::ESME_RINVBNDSTS,
                    Pdu::DeliverSmResp(DeliverSmResp::default()),
                )),
            ),
            (
                "smsc rx query_sm",
                bound_smsc(t0, BindKind::Receiver, cfg()),
                Pdu::QuerySm(QuerySm::default()),
                Some(refused(
                    CommandStatus::ESME_RINVBNDSTS,
                    Pdu::QuerySmResp(QuerySmResp::default()),
                )),
            ),
            (
                "smsc rx data_sm",
                bound_smsc(t0, BindKind::Receiver, cfg()),
                Pdu::DataSm(DataSm::default()),
                Some(refused(
                    CommandStatus::ESME_RINVBNDSTS,
                    Pdu::DataSmResp(DataSmResp::default()),
                )),
            ),
            // Before bind.
            (
                "smsc open data_sm",
                Session::new(Role::Smsc, cfg(), t0),
                Pdu::DataSm(DataSm::default()),
                Some(refused(
                    CommandStatus::ESME_RINVBNDSTS,
                    Pdu::DataSmResp(DataSmResp::default()),
                )),
            ),
            (
                "smsc open query_sm",
                Session::new(Role::Smsc, cfg(), t0),
                Pdu::QuerySm(QuerySm::default()),
                Some(refused(
                    CommandStatus::ESME_RINVBNDSTS,
                    Pdu::QuerySmResp(QuerySmResp::default()),
                )),
            ),
            // ESME side: the SMSC delivers on receiving binds only, and never submits to us.
            (
                "esme tx deliver_sm",
                bound_esme(t0, BindKind::Transmitter),
                Pdu::DeliverSm(SubmitSm::default()),
                Some(refused(
                    CommandStatus::ESME_RINVBNDSTS,
                    Pdu::DeliverSmResp(DeliverSmResp::default()),
                )),
            ),
            (
                "esme trx submit_sm",
                bound_esme(t0, BindKind::Transceiver),
                Pdu::SubmitSm(SubmitSm::default()),
                Some(refused(
                    CommandStatus::ESME_RINVBNDSTS,
                    Pdu::SubmitSmResp(SubmitSmResp::default()),
                )),
            ),
            (
                "esme trx bind",
                bound_esme(t0, BindKind::Transceiver),
                Pdu::BindTransceiver(bind_body()),
                Some(refused(
                    CommandStatus::ESME_RINVBNDSTS,
                    Pdu::BindTransceiverResp(BindResp::default()),
                )),
            ),
            // No response PDU exists for these: nothing is written.
            (
                "esme rx alert_notification",
                bound_esme(t0, BindKind::Receiver),
                Pdu::AlertNotification(AlertNotification::default()),
                None,
            ),
            (
                "smsc open generic_nack",
                Session::new(Role::Smsc, cfg(), t0),
                Pdu::GenericNack,
                None,
            ),
        ];
        for (name, mut s, pdu, want) in cases {
            let (frames, events) = answer(&mut s, t0, pdu.clone());
            match want {
                Some((want_frames, status)) => {
                    assert_eq!(frames, want_frames, "{name}");
                    assert_eq!(
                        events,
                        vec![Event::Refused {
                            command_id: pdu.command_id(),
                            sequence_number: 42,
                            status
                        }],
                        "{name}"
                    );
                }
                None => assert!(
                    frames.is_empty() && events.is_empty(),
                    "{name}: {frames:?} {events:?}"
                ),
            }
            assert_ne!(
                s.state(),
                State::Closed,
                "{name}: a refused request does not end the session"
            );
        }
        // What is served reaches the application as a request, unanswered until it answers.
        for (name, mut s, pdu) in [
            (
                "esme rx deliver_sm",
                bound_esme(t0, BindKind::Receiver),
                Pdu::DeliverSm(SubmitSm::default()),
            ),
            (
                "esme trx data_sm",
                bound_esme(t0, BindKind::Transceiver),
                Pdu::DataSm(DataSm::default()),
            ),
            (
                "smsc tx submit_sm",
                bound_smsc(t0, BindKind::Transmitter, cfg()),
                Pdu::SubmitSm(SubmitSm::default()),
            ),
            (
                "smsc trx data_sm",
                bound_smsc(t0, BindKind::Transceiver, cfg()),
                Pdu::DataSm(DataSm::default()),
            ),
        ] {
            let (frames, events) = answer(&mut s, t0, pdu.clone());
            assert!(frames.is_empty(), "{name}: {frames:?}");
            assert_eq!(events, vec![Event::Request(Frame::new(42, pdu))], "{name}");
        }
    }

    #[test]
    fn unbind_before_bind_is_answered_and_closes() {
        let t0 = Instant::now();
        let mut s = Session::new(Role::Smsc, cfg(), t0);
        let (f, e) = answer(&mut s, t0, Pdu::Unbind);
        assert_eq!(f, vec![Frame::new(42, Pdu::UnbindResp)]);
        assert_eq!(e, vec![Event::Closed(CloseReason::PeerUnbound)]);
    }

    #[test]
    fn enquire_link_goes_out_only_after_an_idle_interval_and_one_at_a_time() {
        let t0 = Instant::now();
        let mut c = cfg();
        c.enquire_link_timeout = Duration::from_secs(5);
        let mut s = bound_smsc(t0, BindKind::Receiver, c);
        assert_eq!(s.poll_timeout(), Some(t0 + Duration::from_secs(60)));
        // Traffic from the peer pushes the keep-alive back: the link is not idle.
        let t1 = t0 + Duration::from_secs(50);
        s.handle_frame(t1, Frame::new(7, Pdu::EnquireLink));
        drain(&mut s);
        assert_eq!(s.poll_timeout(), Some(t1 + Duration::from_secs(60)));
        s.handle_timeout(t0 + Duration::from_secs(60));
        assert!(
            drain(&mut s).0.is_empty(),
            "nothing is due at t0 + 60 s any more"
        );
        let t2 = t1 + Duration::from_secs(60);
        s.handle_timeout(t2);
        let (f, e) = drain(&mut s);
        assert!(matches!(
            f[..],
            [Frame {
                pdu: Pdu::EnquireLink,
                ..
            }]
        ));
        assert_eq!(e, vec![Event::EnquireLinkSent]);
        // While it waits for its answer, traffic does not start another one.
        s.handle_frame(t2 + Duration::from_secs(1), Frame::new(8, Pdu::EnquireLink));
        drain(&mut s);
        assert_eq!(
            s.poll_timeout(),
            Some(t2 + Duration::from_secs(5)),
            "the enquire_link_timeout, not the response_timeout"
        );
        s.handle_timeout(t2 + Duration::from_secs(5));
        let (f, e) = drain(&mut s);
        assert!(f.is_empty());
        assert_eq!(e, vec![Event::Closed(CloseReason::EnquireLinkTimeout)]);
    }

    #[test]
    fn enquire_link_interval_off_sends_none() {
        let t0 = Instant::now();
        let mut c = cfg();
        c.enquire_link_interval = None;
        let mut s = bound_smsc(t0, BindKind::Transceiver, c);
        assert_eq!(s.poll_timeout(), None);
        s.handle_timeout(t0 + Duration::from_secs(3600));
        assert_eq!(drain(&mut s), (vec![], vec![]));
    }

    #[test]
    fn inactivity_unbinds_politely_then_closes() {
        let t0 = Instant::now();
        let mut c = cfg();
        c.enquire_link_interval = None;
        c.inactivity_timeout = Some(Duration::from_secs(120));
        c.unbind_timeout = Duration::from_secs(3);
        // A peer that answers the unbind.
        let mut s = bound_smsc(t0, BindKind::Transceiver, c.clone());
        s.handle_frame(
            t0 + Duration::from_secs(100),
            Frame::new(5, Pdu::EnquireLink),
        );
        drain(&mut s);
        s.handle_timeout(t0 + Duration::from_secs(120));
        assert_eq!(
            drain(&mut s),
            (vec![], vec![]),
            "traffic at +100 s re-armed the timer"
        );
        let t1 = t0 + Duration::from_secs(220);
        assert_eq!(s.poll_timeout(), Some(t1));
        s.handle_timeout(t1);
        let (f, _) = drain(&mut s);
        assert!(matches!(
            f[..],
            [Frame {
                pdu: Pdu::Unbind,
                ..
            }]
        ));
        assert_eq!(s.state(), State::Unbinding);
        s.handle_frame(t1, Frame::new(f[0].sequence_number, Pdu::UnbindResp));
        assert_eq!(
            drain(&mut s).1,
            vec![Event::Closed(CloseReason::Inactivity)]
        );
        // A dead one: closed when the unbind_timeout runs out.
        let mut s = bound_smsc(t0, BindKind::Transceiver, c);
        s.handle_timeout(t0 + Duration::from_secs(120));
        drain(&mut s);
        assert_eq!(s.poll_timeout(), Some(t0 + Duration::from_secs(123)));
        s.handle_timeout(t0 + Duration::from_secs(123));
        assert_eq!(
            drain(&mut s).1,
            vec![Event::Closed(CloseReason::Inactivity)]
        );
    }

    #[test]
    fn a_response_resets_the_run_of_timeouts() {
        let t0 = Instant::now();
        let mut c = cfg();
        c.window_size = 10;
        c.enquire_link_interval = None;
        let mut s = bound_smsc(t0, BindKind::Receiver, c);
        let sec = Duration::from_secs;
        s.send_request(t0, Pdu::DeliverSm(SubmitSm::default()), 1)
            .unwrap();
        s.send_request(t0, Pdu::DeliverSm(SubmitSm::default()), 2)
            .unwrap();
        let c3 = s
            .send_request(t0 + sec(1), Pdu::DeliverSm(SubmitSm::default()), 3)
            .unwrap();
        drain(&mut s);
        s.handle_timeout(t0 + sec(30));
        let (_, e) = drain(&mut s);
        assert!(
            matches!(
                e[..],
                [
                    Event::Timeout { token: 1, .. },
                    Event::Timeout { token: 2, .. }
                ]
            ),
            "{e:?}"
        );
        // One answered: the run of timeouts starts again.
        s.handle_frame(
            t0 + sec(30),
            Frame::new(c3, Pdu::DeliverSmResp(Default::default())),
        );
        drain(&mut s);
        s.send_request(t0 + sec(31), Pdu::DeliverSm(SubmitSm::default()), 4)
            .unwrap();
        s.send_request(t0 + sec(31), Pdu::DeliverSm(SubmitSm::default()), 5)
            .unwrap();
        s.handle_timeout(t0 + sec(61));
        let (_, e) = drain(&mut s);
        assert!(
            matches!(
                e[..],
                [
                    Event::Timeout { token: 4, .. },
                    Event::Timeout { token: 5, .. }
                ]
            ),
            "{e:?}"
        );
        assert_ne!(s.state(), State::Closed);
        s.send_request(t0 + sec(62), Pdu::DeliverSm(SubmitSm::default()), 6)
            .unwrap();
        s.handle_timeout(t0 + sec(92));
        let (_, e) = drain(&mut s);
        assert!(
            matches!(
                e[..],
                [
                    Event::Timeout { token: 6, .. },
                    Event::Closed(CloseReason::RepeatedTimeouts)
                ]
            ),
            "{e:?}"
        );
    }

    #[test]
    fn late_responses_after_a_timeout_are_dropped_and_the_session_goes_on() {
        let t0 = Instant::now();
        let mut s = bound_esme(t0, BindKind::Transmitter);
        let seq = s
            .send_request(t0, Pdu::SubmitSm(SubmitSm::default()), 1)
            .unwrap();
        drain(&mut s);
        s.handle_timeout(t0 + Duration::from_secs(30));
        assert_eq!(
            drain(&mut s).1,
            vec![Event::Timeout {
                token: 1,
                sequence_number: seq
            }]
        );
        s.handle_frame(
            t0 + Duration::from_secs(31),
            Frame::new(seq, Pdu::SubmitSmResp(SubmitSmResp::default())),
        );
        assert_eq!(drain(&mut s), (vec![], vec![]));
        assert!(s
            .send_request(
                t0 + Duration::from_secs(32),
                Pdu::SubmitSm(SubmitSm::default()),
                2
            )
            .is_ok());
    }

    #[test]
    fn a_closing_session_reports_every_request_still_waiting() {
        let t0 = Instant::now();
        let mut s = bound_esme(t0, BindKind::Transmitter);
        let a = s
            .send_request(t0, Pdu::SubmitSm(SubmitSm::default()), 10)
            .unwrap();
        let b = s
            .send_request(t0, Pdu::SubmitSm(SubmitSm::default()), 11)
            .unwrap();
        drain(&mut s);
        s.handle_frame(t0, Frame::new(99, Pdu::Unbind));
        let (f, e) = drain(&mut s);
        assert_eq!(f, vec![Frame::new(99, Pdu::UnbindResp)]);
        assert_eq!(
            e,
            vec![
                Event::Abandoned {
                    token: 10,
                    sequence_number: a
                },
                Event::Abandoned {
                    token: 11,
                    sequence_number: b
                },
                Event::Closed(CloseReason::PeerUnbound)
            ]
        );
        assert_eq!(s.in_flight(), 0);
    }
}
