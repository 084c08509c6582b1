//! SMPP sessions of the simulator: the accept loop, one task per connection, and the routing of
//! receipts and MO messages to bound receiver sessions.

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::fmt::Write as _;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use futures::{SinkExt, StreamExt};
use smpp_codec::codec::SmppCodec;
use smpp_codec::pdu::{BindResp, DeliverSm, Frame, Pdu, SubmitSm, SubmitSmResp};
use smpp_codec::receipt::DeliveryReceipt;
use smpp_codec::status::CommandStatus;
use smpp_codec::tlv::{tags, Tlvs};
use smpp_codec::types::BindKind;
use smpp_codec::{text, udh};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{mpsc, oneshot, watch};
use tokio_util::codec::Framed;

use crate::ids::{now_unix_secs, receipt_date_of};
use crate::{lock, MoRequest, ReceivedSubmit, Shared, SimError, MO_RESPONSE_TIMEOUT};

/// The `system_id` the simulator gives in its bind responses.
const SMSC_SYSTEM_ID: &str = "smscsim";

/// Bound sessions and the receipts waiting for a receiver.
#[derive(Default)]
pub(crate) struct Registry {
    sessions: BTreeMap<u64, BoundSession>,
    pending: VecDeque<Receipt>,
    next_session: u64,
}

struct BoundSession {
    system_id: String,
    kind: BindKind,
    tx: mpsc::UnboundedSender<Outbound>,
}

/// A delivery receipt on its way to a session of `system_id`.
struct Receipt {
    system_id: String,
    message_id: String,
    sm: DeliverSm,
}

/// What a session task is asked to send.
enum Outbound {
    Receipt(Receipt),
    Mo {
        sm: DeliverSm,
        reply: oneshot::Sender<u32>,
    },
}

/// A `deliver_sm` sent and not answered yet.
enum InFlight {
    Receipt(Box<Receipt>),
    Mo(oneshot::Sender<u32>),
}

/// Sends `receipt` to a bound receiver/transceiver session of its `system_id` (`preferred`
/// first), or keeps it until one binds.
fn route_receipt(shared: &Shared, receipt: Receipt, preferred: Option<u64>) {
    let mut reg = lock(&shared.registry);
    let mut receipt = receipt;
    let candidates: Vec<u64> = preferred
        .into_iter()
        .chain(reg.sessions.keys().copied())
        .collect();
    for id in candidates {
        let Some(s) = reg.sessions.get(&id) else {
            continue;
        };
        if !s.kind.can_receive() || s.system_id != receipt.system_id {
            continue;
        }
        match s.tx.send(Outbound::Receipt(receipt)) {
            Ok(()) => return,
            Err(mpsc::error::SendError(back)) => match back {
                Outbound::Receipt(r) => receipt = r,
                Outbound::Mo { .. } => return,
            },
        }
    }
    tracing::info!(
        message_id = %receipt.message_id,
        system_id = %receipt.system_id,
        "no receiver bound: receipt kept until one binds"
    );
    reg.pending.push_back(receipt);
}

/// Sends an MO to some bound receiver/transceiver session and waits for its answer.
pub(crate) async fn inject_mo(shared: &Shared, mo: MoRequest) -> Result<u32, SimError> {
    for (name, value) in [
        ("source_addr", &mo.source_addr),
        ("destination_addr", &mo.destination_addr),
    ] {
        if value.len() > 20 || !value.is_ascii() {
            return Err(SimError::InvalidMo(format!(
                "{name} {value:?}: at most 20 ASCII characters"
            )));
        }
    }
    let (data_coding, octets) = match mo.data_coding {
        Some(dc) => (
            dc,
            text::encode(dc, &mo.text).map_err(|e| SimError::InvalidMo(e.to_string()))?,
        ),
        None => text::choose(&mo.text),
    };
    let mut sm = DeliverSm {
        source_addr: mo.source_addr.as_str().into(),
        destination_addr: mo.destination_addr.as_str().into(),
        data_coding,
        ..DeliverSm::default()
    };
    sm.set_user_data(Bytes::from(octets))
        .map_err(|e| SimError::InvalidMo(e.to_string()))?;

    let (reply, answer) = oneshot::channel();
    {
        let reg = lock(&shared.registry);
        let mut out = Some(Outbound::Mo { sm, reply });
        for s in reg.sessions.values().filter(|s| s.kind.can_receive()) {
            match s.tx.send(out.take().expect("an MO to send")) {
                Ok(()) => break,
                Err(mpsc::error::SendError(back)) => out = Some(back),
            }
        }
        if out.is_some() {
            return Err(SimError::NoReceiver);
        }
    }
    match tokio::time::timeout(MO_RESPONSE_TIMEOUT, answer).await {
        Ok(Ok(status)) => Ok(status),
        Ok(Err(_)) => Err(SimError::SessionClosed),
        Err(_) => Err(SimError::Timeout(MO_RESPONSE_TIMEOUT)),
    }
}

/// Accepts connections until shutdown.
pub(crate) async fn accept_loop(listener: TcpListener, shared: Arc<Shared>) {
    let mut shutdown = shared.shutdown.clone();
    loop {
        tokio::select! {
            _ = shutdown.changed() => break,
            accepted = listener.accept() => match accepted {
                Ok((socket, peer)) => {
                    let id = {
                        let mut reg = lock(&shared.registry);
                        reg.next_session += 1;
                        reg.next_session
                    };
                    tokio::spawn(run_session(Arc::clone(&shared), socket, peer, id));
                }
                Err(e) => {
                    tracing::warn!(error = %e, "accept failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
            },
        }
    }
    tracing::info!("SMSC simulator stopped listening");
}

struct Session {
    id: u64,
    peer: SocketAddr,
    bound: Option<(BindKind, String)>,
    seq: u32,
    in_flight: HashMap<u32, InFlight>,
    tx: mpsc::UnboundedSender<Outbound>,
}

impl Session {
    fn next_seq(&mut self) -> u32 {
        self.seq = if self.seq >= 0x7FFF_FFFF {
            1
        } else {
            self.seq + 1
        };
        self.seq
    }
}

/// What to do after a PDU from the ESME.
struct Step {
    replies: Vec<Frame>,
    close: bool,
}

impl Step {
    fn reply(frame: Frame) -> Self {
        Step {
            replies: vec![frame],
            close: false,
        }
    }
    fn reply_and_close(frame: Frame) -> Self {
        Step {
            replies: vec![frame],
            close: true,
        }
    }
    fn nothing() -> Self {
        Step {
            replies: Vec::new(),
            close: false,
        }
    }
}

async fn run_session(shared: Arc<Shared>, socket: TcpStream, peer: SocketAddr, id: u64) {
    tracing::debug!(session = id, %peer, "connection accepted");
    let mut framed = Framed::new(socket, SmppCodec::default());
    let (tx, mut rx) = mpsc::unbounded_channel::<Outbound>();
    let mut shutdown: watch::Receiver<bool> = shared.shutdown.clone();
    let mut s = Session {
        id,
        peer,
        bound: None,
        seq: 0,
        in_flight: HashMap::new(),
        tx,
    };
    loop {
        tokio::select! {
            _ = shutdown.changed() => break,
            incoming = framed.next() => {
                let frame = match incoming {
                    None => break,
                    Some(Err(e)) => {
                        tracing::warn!(session = id, %peer, error = %e, "framing lost: closing");
                        if let Some(nack) = e.nack() {
                            let _ = framed.send(nack).await;
                        }
                        break;
                    }
                    Some(Ok(Err(e))) => {
                        tracing::info!(session = id, %peer, error = %e, "undecodable PDU");
                        if let Some(answer) = e.response() {
                            if framed.send(answer).await.is_err() {
                                break;
                            }
                        }
                        continue;
                    }
                    Some(Ok(Ok(frame))) => frame,
                };
                let step = handle(&shared, &mut s, frame);
                let mut failed = false;
                for reply in step.replies {
                    if framed.send(reply).await.is_err() {
                        failed = true;
                        break;
                    }
                }
                if failed || step.close {
                    break;
                }
            }
            Some(out) = rx.recv() => {
                let seq = s.next_seq();
                let (sm, entry, is_receipt) = match out {
                    Outbound::Receipt(r) => (r.sm.clone(), InFlight::Receipt(Box::new(r)), true),
                    Outbound::Mo { sm, reply } => (sm, InFlight::Mo(reply), false),
                };
                s.in_flight.insert(seq, entry);
                if framed.send(Frame::new(seq, Pdu::DeliverSm(sm))).await.is_err() {
                    break;
                }
                if is_receipt {
                    shared.count_receipt();
                } else {
                    shared.count_mo();
                }
                tracing::debug!(session = id, seq, receipt = is_receipt, "deliver_sm sent");
            }
        }
    }
    // Unregister, then hand what this session did not deliver to the others (or keep it).
    lock(&shared.registry).sessions.remove(&id);
    rx.close();
    let mut leftovers = Vec::new();
    while let Ok(out) = rx.try_recv() {
        if let Outbound::Receipt(r) = out {
            leftovers.push(r);
        }
    }
    for (_, entry) in s.in_flight.drain() {
        if let InFlight::Receipt(r) = entry {
            leftovers.push(*r);
        }
    }
    for r in leftovers {
        route_receipt(&shared, r, None);
    }
    tracing::info!(session = id, %peer, bound = ?s.bound.as_ref().map(|b| b.0), "session closed");
}

fn handle(shared: &Arc<Shared>, s: &mut Session, frame: Frame) -> Step {
    let seq = frame.sequence_number;
    match frame.pdu {
        Pdu::BindTransmitter(ref b) | Pdu::BindReceiver(ref b) | Pdu::BindTransceiver(ref b) => {
            let kind = frame.pdu.bind_kind().expect("a bind has a kind");
            let system_id = b.system_id.to_str_lossy().into_owned();
            let password = b.password.to_str_lossy().into_owned();
            bind(shared, s, seq, kind, system_id, &password)
        }
        Pdu::EnquireLink => {
            shared.count_enquire_link();
            Step::reply(Frame::new(seq, Pdu::EnquireLinkResp))
        }
        Pdu::Unbind => {
            tracing::info!(session = s.id, peer = %s.peer, "unbind");
            lock(&shared.registry).sessions.remove(&s.id);
            Step::reply_and_close(Frame::new(seq, Pdu::UnbindResp))
        }
        Pdu::SubmitSm(sm) => {
            if !s.bound.as_ref().is_some_and(|b| b.0.can_transmit()) {
                return Step::reply(Frame::with_status(
                    seq,
                    CommandStatus::ESME_RINVBNDSTS,
                    Pdu::SubmitSmResp(SubmitSmResp::default()),
                ));
            }
            let (status, resp) = submit(shared, s, sm);
            Step::reply(Frame::with_status(seq, status, Pdu::SubmitSmResp(resp)))
        }
        Pdu::DataSm(d) => {
            if !s.bound.as_ref().is_some_and(|b| b.0.can_transmit()) {
                return Step::reply(Frame::with_status(
                    seq,
                    CommandStatus::ESME_RINVBNDSTS,
                    Pdu::DataSmResp(SubmitSmResp::default()),
                ));
            }
            // Treated as a submit_sm with the same addresses and user data.
            let sm = SubmitSm {
                service_type: d.service_type,
                source_addr_ton: d.source_addr_ton,
                source_addr_npi: d.source_addr_npi,
                source_addr: d.source_addr,
                dest_addr_ton: d.dest_addr_ton,
                dest_addr_npi: d.dest_addr_npi,
                destination_addr: d.destination_addr,
                esm_class: d.esm_class,
                registered_delivery: d.registered_delivery,
                data_coding: d.data_coding,
                tlvs: d.tlvs,
                ..SubmitSm::default()
            };
            let (status, resp) = submit(shared, s, sm);
            Step::reply(Frame::with_status(seq, status, Pdu::DataSmResp(resp)))
        }
        Pdu::DeliverSmResp(_) | Pdu::GenericNack => {
            match s.in_flight.remove(&seq) {
                Some(InFlight::Mo(reply)) => {
                    let _ = reply.send(frame.command_status.0);
                }
                Some(InFlight::Receipt(r)) => {
                    tracing::debug!(
                        message_id = %r.message_id,
                        status = frame.command_status.0,
                        "receipt answered"
                    );
                }
                None => {
                    tracing::debug!(session = s.id, seq, "answer to nothing in flight: ignored")
                }
            }
            Step::nothing()
        }
        ref pdu if pdu.is_response() => Step::nothing(),
        ref pdu => match pdu.empty_response() {
            // A request an ESME does not send to an SMSC (e.g. deliver_sm).
            Some(resp) => Step::reply(Frame::with_status(
                seq,
                CommandStatus::ESME_RINVBNDSTS,
                resp,
            )),
            None => Step::reply(Frame::with_status(
                seq,
                CommandStatus::ESME_RINVCMDID,
                Pdu::GenericNack,
            )),
        },
    }
}

fn bind_resp(kind: BindKind, resp: BindResp) -> Pdu {
    match kind {
        BindKind::Transmitter => Pdu::BindTransmitterResp(resp),
        BindKind::Receiver => Pdu::BindReceiverResp(resp),
        BindKind::Transceiver => Pdu::BindTransceiverResp(resp),
    }
}

fn bind(
    shared: &Arc<Shared>,
    s: &mut Session,
    seq: u32,
    kind: BindKind,
    system_id: String,
    password: &str,
) -> Step {
    let cfg = &shared.config;
    let refusal = if s.bound.is_some() {
        Some(CommandStatus::ESME_RALYBND)
    } else if !cfg.system_id.is_empty() && system_id != cfg.system_id {
        Some(CommandStatus::ESME_RINVSYSID)
    } else if !cfg.password.is_empty() && password != cfg.password {
        Some(CommandStatus::ESME_RINVPASWD)
    } else {
        None
    };
    if let Some(status) = refusal {
        tracing::info!(session = s.id, peer = %s.peer, %system_id, kind = %kind, status = status.0, "bind refused");
        let frame = Frame::with_status(seq, status, bind_resp(kind, BindResp::default()));
        // Already bound: answer and carry on; bad credentials: answer and close.
        return if status == CommandStatus::ESME_RALYBND {
            Step::reply(frame)
        } else {
            Step::reply_and_close(frame)
        };
    }
    tracing::info!(session = s.id, peer = %s.peer, %system_id, kind = %kind, "bound");
    shared.count_bind();
    s.bound = Some((kind, system_id.clone()));
    let mut tlvs = Tlvs::new();
    tlvs.push(tags::SC_INTERFACE_VERSION, &[0x34]);
    let resp = BindResp {
        system_id: SMSC_SYSTEM_ID.into(),
        tlvs,
    };
    {
        let mut reg = lock(&shared.registry);
        reg.sessions.insert(
            s.id,
            BoundSession {
                system_id: system_id.clone(),
                kind,
                tx: s.tx.clone(),
            },
        );
        if kind.can_receive() {
            // Receipts kept for this system_id go to this session now.
            let (mine, others): (VecDeque<Receipt>, VecDeque<Receipt>) = reg
                .pending
                .drain(..)
                .partition(|r| r.system_id == system_id);
            reg.pending = others;
            for r in mine {
                let _ = s.tx.send(Outbound::Receipt(r));
            }
        }
    }
    Step::reply(Frame::new(seq, bind_resp(kind, resp)))
}

/// Records a submit, answers it and schedules its receipt.
fn submit(shared: &Arc<Shared>, s: &Session, sm: SubmitSm) -> (CommandStatus, SubmitSmResp) {
    let cfg = &shared.config;
    let status = CommandStatus(cfg.submit_status);
    let message_id = if status.is_ok() {
        shared.next_message_id()
    } else {
        String::new()
    };
    let user_data = sm.user_data();
    let text_start = if sm.has_udh() {
        udh::udh_len(&user_data).unwrap_or(0)
    } else {
        0
    };
    let decoded = text::decode(
        sm.data_coding,
        &user_data[text_start.min(user_data.len())..],
    )
    .ok();
    let mut hex = String::with_capacity(user_data.len() * 2);
    for b in user_data.iter() {
        let _ = write!(hex, "{b:02x}");
    }
    let record = ReceivedSubmit {
        message_id: message_id.clone(),
        source_addr: sm.source_addr.to_str_lossy().into_owned(),
        source_addr_ton: sm.source_addr_ton,
        source_addr_npi: sm.source_addr_npi,
        destination_addr: sm.destination_addr.to_str_lossy().into_owned(),
        dest_addr_ton: sm.dest_addr_ton,
        dest_addr_npi: sm.dest_addr_npi,
        esm_class: sm.esm_class,
        registered_delivery: sm.registered_delivery,
        data_coding: sm.data_coding,
        short_message_hex: hex,
        text: decoded.clone(),
    };
    tracing::info!(
        session = s.id,
        %message_id,
        source = %record.source_addr,
        destination = %record.destination_addr,
        data_coding = sm.data_coding,
        registered_delivery = sm.registered_delivery,
        status = status.0,
        "submit_sm"
    );
    shared.record_submit(record);
    if !status.is_ok() {
        return (status, SubmitSmResp::default());
    }
    let stat = cfg.receipt_stat.to_ascii_uppercase();
    let state = DeliveryReceipt {
        stat: stat.clone(),
        ..DeliveryReceipt::default()
    }
    .message_state()
    .unwrap_or(7);
    let success = state == 2;
    let failure = !matches!(state, 1 | 2 | 6);
    let wanted = match sm.registered_delivery & 0x03 {
        1 => true,
        2 => failure,
        3 => success,
        _ => false,
    };
    if wanted {
        if let Some((_, system_id)) = &s.bound {
            schedule_receipt(
                Arc::clone(shared),
                s.id,
                system_id.clone(),
                message_id.clone(),
                sm,
                decoded.unwrap_or_default(),
                stat,
                state,
            );
        }
    }
    (
        status,
        SubmitSmResp {
            message_id: message_id.as_str().into(),
            tlvs: Tlvs::new(),
        },
    )
}

/// `s` encoded in GSM 03.38 (unpacked), characters outside it written as `?`.
fn gsm_lossy(s: &str) -> Vec<u8> {
    let mut out = Vec::with_capacity(s.len());
    let mut buf = [0u8; 4];
    for ch in s.chars() {
        match text::encode(text::data_coding::SMSC_DEFAULT, ch.encode_utf8(&mut buf)) {
            Ok(octets) => out.extend_from_slice(&octets),
            Err(_) => out.push(b'?'),
        }
    }
    out
}

#[allow(clippy::too_many_arguments)]
fn schedule_receipt(
    shared: Arc<Shared>,
    session: u64,
    system_id: String,
    message_id: String,
    submit: SubmitSm,
    text: String,
    stat: String,
    state: u8,
) {
    let submitted = now_unix_secs();
    let delay = Duration::from_millis(shared.config.receipt_delay_ms);
    let mut shutdown = shared.shutdown.clone();
    tokio::spawn(async move {
        tokio::select! {
            _ = shutdown.changed() => return,
            _ = tokio::time::sleep(delay) => {}
        }
        let body = DeliveryReceipt {
            id: message_id.clone(),
            sub: "001".into(),
            dlvrd: if state == 2 { "001" } else { "000" }.into(),
            submit_date: receipt_date_of(submitted),
            done_date: receipt_date_of(now_unix_secs()),
            stat,
            err: "000".into(),
            text: text.chars().take(20).collect(),
        }
        .format();
        let mut tlvs = Tlvs::new();
        let mut id_c = message_id.clone().into_bytes();
        id_c.push(0);
        tlvs.push(tags::RECEIPTED_MESSAGE_ID, &id_c);
        tlvs.push(tags::MESSAGE_STATE, &[state]);
        let sm = DeliverSm {
            source_addr_ton: submit.dest_addr_ton,
            source_addr_npi: submit.dest_addr_npi,
            source_addr: submit.destination_addr.clone(),
            dest_addr_ton: submit.source_addr_ton,
            dest_addr_npi: submit.source_addr_npi,
            destination_addr: submit.source_addr.clone(),
            esm_class: 0x04,
            data_coding: text::data_coding::SMSC_DEFAULT,
            short_message: Bytes::from(gsm_lossy(&body)),
            tlvs,
            ..DeliverSm::default()
        };
        let receipt = Receipt {
            system_id,
            message_id,
            sm,
        };
        route_receipt(&shared, receipt, Some(session));
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lossy_gsm() {
        assert_eq!(gsm_lossy("a{€"), vec![b'a', 0x1B, 0x28, 0x1B, 0x65]);
        assert_eq!(gsm_lossy("жa"), vec![b'?', b'a']);
    }
}
