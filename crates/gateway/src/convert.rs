//! Translation between SMPP PDUs and the core API's JSON messages. No I/O, no policy: what a
//! peer sent is carried to the core byte for byte (payload, TLVs), with the decoded text and
//! receipt fields added for the core's convenience.

use bytes::Bytes;
use core_bridge::api::{Address, Base64Bytes, BindMode, Direction, InboundMessage, OutboundMessage, ReceiptInfo, SegmentInfo, TlvJson};
use smpp_codec::pdu::{DataSm, Pdu, SubmitSm};
use smpp_codec::receipt::DeliveryReceipt;
use smpp_codec::tlv::{tags, Tlvs};
use smpp_codec::types::COctetString;
use smpp_codec::{text, udh};

/// Where a message came in.
#[derive(Clone, Debug)]
pub struct Origin<'a> {
    /// Bind name.
    pub bind_name: &'a str,
    /// Client or server bind.
    pub bind_mode: BindMode,
    /// The session's `system_id`.
    pub system_id: &'a str,
    /// `{hostname}_{bind_name}`.
    pub frontend: &'a str,
}

/// Largest `short_message`; longer user data goes in `message_payload` (SMPP 3.4 §5.2.21).
pub const MAX_SHORT_MESSAGE: usize = 254;

/// `esm_class` message type of an SMSC delivery receipt / intermediate notification
/// (SMPP 3.4 §5.2.12); 0x08 and 0x10 are SME acknowledgements, treated as receipts too.
fn is_receipt_class(esm_class: u8) -> bool {
    matches!(esm_class & 0x3C, 0x04 | 0x08 | 0x10 | 0x20)
}

fn user_data(short_message: &Bytes, tlvs: &Tlvs) -> Bytes {
    if short_message.is_empty() {
        tlvs.message_payload().unwrap_or_default()
    } else {
        short_message.clone()
    }
}

fn decoded_text(data_coding: u8, esm_class: u8, data: &[u8]) -> Option<String> {
    let body = if esm_class & 0x40 != 0 { udh::udh_len(data).and_then(|n| data.get(n..)).unwrap_or(data) } else { data };
    text::decode(data_coding, body).ok()
}

fn segment(esm_class: u8, data: &[u8], tlvs: &Tlvs) -> Option<SegmentInfo> {
    if esm_class & 0x40 != 0 {
        if let Some(c) = udh::concat_info(data) {
            return Some(SegmentInfo { reference: c.reference, total: c.total, seqnum: c.seqnum });
        }
    }
    tlvs.sar().map(|(reference, total, seqnum)| SegmentInfo { reference, total, seqnum })
}

fn tlv_list(tlvs: &Tlvs) -> Vec<TlvJson> {
    tlvs.iter().map(|t| TlvJson { tag: t.tag, value: Base64Bytes(t.value.to_vec()) }).collect()
}

fn addr(a: &COctetString, ton: u8, npi: u8) -> Address {
    Address { addr: a.to_str_lossy().into_owned(), ton, npi }
}

/// Receipt fields, TLVs preferred over the text (facts §8.2).
fn receipt_info(text: Option<&str>, tlvs: &Tlvs) -> Option<ReceiptInfo> {
    let parsed = text.and_then(DeliveryReceipt::parse);
    let tlv_id = tlvs.receipted_message_id().map(|c| c.to_str_lossy().into_owned());
    let id = tlv_id.or_else(|| parsed.as_ref().map(|r| r.id.clone()))?;
    let state = tlvs.message_state().or_else(|| parsed.as_ref().and_then(|r| r.message_state()));
    let non_empty = |s: &str| (!s.is_empty()).then(|| s.to_string());
    Some(ReceiptInfo {
        receipted_message_id: id,
        message_state: state,
        stat: parsed.as_ref().and_then(|r| non_empty(&r.stat)),
        err: parsed.as_ref().and_then(|r| non_empty(&r.err)),
        submit_date: parsed.as_ref().and_then(|r| non_empty(&r.submit_date)),
        done_date: parsed.as_ref().and_then(|r| non_empty(&r.done_date)),
    })
}

/// A `submit_sm`/`deliver_sm` body as an inbound message. `direction` is decided by the caller
/// for `submit_sm` (always MT); for `deliver_sm`, use [`inbound_from_deliver`].
pub fn inbound_from_sm(id: String, direction: Direction, sm: &SubmitSm, origin: &Origin<'_>, received_at_ms: u64) -> InboundMessage {
    let data = user_data(&sm.short_message, &sm.tlvs);
    let text = decoded_text(sm.data_coding, sm.esm_class, &data);
    let receipt = if direction == Direction::Receipt { receipt_info(text.as_deref(), &sm.tlvs) } else { None };
    InboundMessage {
        id,
        direction,
        bind_name: origin.bind_name.to_string(),
        bind_mode: origin.bind_mode,
        system_id: origin.system_id.to_string(),
        frontend: origin.frontend.to_string(),
        service_type: sm.service_type.to_str_lossy().into_owned(),
        source: addr(&sm.source_addr, sm.source_addr_ton, sm.source_addr_npi),
        destination: addr(&sm.destination_addr, sm.dest_addr_ton, sm.dest_addr_npi),
        esm_class: sm.esm_class,
        protocol_id: sm.protocol_id,
        priority_flag: sm.priority_flag,
        schedule_delivery_time: sm.schedule_delivery_time.to_str_lossy().into_owned(),
        validity_period: sm.validity_period.to_str_lossy().into_owned(),
        registered_delivery: sm.registered_delivery,
        data_coding: sm.data_coding,
        segment: segment(sm.esm_class, &data, &sm.tlvs),
        text,
        payload: Base64Bytes(data.to_vec()),
        tlvs: tlv_list(&sm.tlvs),
        receipt,
        received_at_ms,
    }
}

/// A carrier's `deliver_sm`: a receipt when `esm_class` says so or receipt TLVs are present,
/// otherwise an MO.
pub fn inbound_from_deliver(id: String, sm: &SubmitSm, origin: &Origin<'_>, received_at_ms: u64) -> InboundMessage {
    let receipt = is_receipt_class(sm.esm_class) || sm.tlvs.receipted_message_id().is_some();
    let dir = if receipt { Direction::Receipt } else { Direction::Mo };
    let mut m = inbound_from_sm(id, dir, sm, origin, received_at_ms);
    if receipt && m.receipt.is_none() {
        // A receipt whose id we cannot read is still handed over (as MO) rather than lost.
        m.direction = Direction::Mo;
    }
    m
}

/// A `data_sm` as an inbound message (MT from a partner, MO/receipt from a carrier).
pub fn inbound_from_data_sm(id: String, partner: bool, sm: &DataSm, origin: &Origin<'_>, received_at_ms: u64) -> InboundMessage {
    let as_sm = SubmitSm {
        service_type: sm.service_type.clone(),
        source_addr_ton: sm.source_addr_ton,
        source_addr_npi: sm.source_addr_npi,
        source_addr: sm.source_addr.clone(),
        dest_addr_ton: sm.dest_addr_ton,
        dest_addr_npi: sm.dest_addr_npi,
        destination_addr: sm.destination_addr.clone(),
        esm_class: sm.esm_class,
        registered_delivery: sm.registered_delivery,
        data_coding: sm.data_coding,
        tlvs: sm.tlvs.clone(),
        ..SubmitSm::default()
    };
    if partner {
        inbound_from_sm(id, Direction::Mt, &as_sm, origin, received_at_ms)
    } else {
        inbound_from_deliver(id, &as_sm, origin, received_at_ms)
    }
}

/// Build the `submit_sm` (to a carrier) or `deliver_sm` (to a partner) body for an outbound
/// message. User data longer than 254 octets goes into `message_payload`. When the core sent
/// text without payload, the text is encoded in `data_coding` (or the smallest alphabet when
/// that fails).
///
/// Errors: a TLV (or the user data) longer than a TLV can carry (65 535 octets); the message
/// cannot be sent as SMPP and is reported failed (`ESME_RINVMSGLEN`).
pub fn sm_from_outbound(m: &OutboundMessage, for_partner: bool) -> Result<SubmitSm, String> {
    let (data_coding, payload): (u8, Vec<u8>) = match (&m.text, m.payload.0.is_empty()) {
        (Some(t), true) => match text::encode(m.data_coding, t) {
            Ok(b) => (m.data_coding, b),
            Err(_) => text::choose(t),
        },
        _ => (m.data_coding, m.payload.0.clone()),
    };
    let mut tlvs = Tlvs::new();
    let (short_message, use_payload_tlv) = if payload.len() > MAX_SHORT_MESSAGE { (Bytes::new(), true) } else { (Bytes::from(payload.clone()), false) };
    for t in &m.tlvs {
        if use_payload_tlv && t.tag == tags::MESSAGE_PAYLOAD {
            continue;
        }
        tlvs.try_push(t.tag, &t.value.0).map_err(|e| e.to_string())?;
    }
    if use_payload_tlv {
        tlvs.try_push(tags::MESSAGE_PAYLOAD, &payload).map_err(|e| e.to_string())?;
    }
    Ok(SubmitSm {
        service_type: COctetString::from(m.service_type.as_str()),
        source_addr_ton: m.source.ton,
        source_addr_npi: m.source.npi,
        source_addr: COctetString::from(m.source.addr.as_str()),
        dest_addr_ton: m.destination.ton,
        dest_addr_npi: m.destination.npi,
        destination_addr: COctetString::from(m.destination.addr.as_str()),
        esm_class: m.esm_class,
        protocol_id: m.protocol_id,
        priority_flag: m.priority_flag,
        // deliver_sm: schedule/validity unused and NULL (SMPP 3.4 §4.6.1).
        schedule_delivery_time: if for_partner { COctetString::default() } else { COctetString::from(m.schedule_delivery_time.as_str()) },
        validity_period: if for_partner { COctetString::default() } else { COctetString::from(m.validity_period.as_str()) },
        registered_delivery: m.registered_delivery,
        replace_if_present_flag: 0,
        data_coding,
        sm_default_msg_id: 0,
        short_message,
        tlvs,
    })
}

/// The outbound PDU: `submit_sm` to a carrier, `deliver_sm` to a partner. Errors as
/// [`sm_from_outbound`].
pub fn pdu_from_outbound(m: &OutboundMessage, for_partner: bool) -> Result<Pdu, String> {
    let sm = sm_from_outbound(m, for_partner)?;
    Ok(if for_partner { Pdu::DeliverSm(sm) } else { Pdu::SubmitSm(sm) })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn origin() -> Origin<'static> {
        Origin { bind_name: "carrier", bind_mode: BindMode::Client, system_id: "gw", frontend: "h_carrier" }
    }

    #[test]
    fn receipt_prefers_tlvs_and_reads_the_text() {
        let mut tlvs = Tlvs::new();
        tlvs.push(tags::RECEIPTED_MESSAGE_ID, b"ABC123\0");
        tlvs.push(tags::MESSAGE_STATE, &[2]);
        let sm = SubmitSm {
            esm_class: 0x04,
            short_message: Bytes::from_static(b"id:999 sub:001 dlvrd:001 submit date:2511211200 done date:2511211201 stat:DELIVRD err:000 text:hi"),
            tlvs,
            ..SubmitSm::default()
        };
        let m = inbound_from_deliver("x".into(), &sm, &origin(), 1);
        assert_eq!(m.direction, Direction::Receipt);
        let r = m.receipt.unwrap();
        assert_eq!(r.receipted_message_id, "ABC123");
        assert_eq!(r.message_state, Some(2));
        assert_eq!(r.stat.as_deref(), Some("DELIVRD"));
        assert_eq!(r.done_date.as_deref(), Some("2511211201"));
    }

    #[test]
    fn plain_deliver_is_an_mo_with_exact_payload() {
        let sm = SubmitSm { data_coding: 8, short_message: Bytes::from_static(&[0x04, 0x1F, 0x04, 0x40]), ..SubmitSm::default() };
        let m = inbound_from_deliver("x".into(), &sm, &origin(), 1);
        assert_eq!(m.direction, Direction::Mo);
        assert_eq!(m.payload.0, vec![0x04, 0x1F, 0x04, 0x40]);
        assert_eq!(m.text.as_deref(), Some("Пр"));
    }

    #[test]
    fn long_payload_goes_into_message_payload() {
        let m = OutboundMessage {
            id: "1".into(),
            kind: Direction::Mt,
            service_type: String::new(),
            source: Address { addr: "A".into(), ton: 5, npi: 0 },
            destination: Address { addr: "336".into(), ton: 1, npi: 1 },
            esm_class: 0,
            protocol_id: 0,
            priority_flag: 0,
            schedule_delivery_time: String::new(),
            validity_period: String::new(),
            registered_delivery: 1,
            data_coding: 0,
            payload: Base64Bytes(vec![b'a'; 300]),
            text: None,
            tlvs: vec![],
            lease_until_ms: 0,
            attempts: 0,
        };
        let sm = sm_from_outbound(&m, false).unwrap();
        assert!(sm.short_message.is_empty());
        assert_eq!(sm.tlvs.message_payload().unwrap().len(), 300);
        let too_long = OutboundMessage { payload: Base64Bytes(vec![b'a'; 70_000]), ..m.clone() };
        assert!(sm_from_outbound(&too_long, false).is_err());
        let short = OutboundMessage { payload: Base64Bytes(b"hi".to_vec()), ..m };
        let sm = sm_from_outbound(&short, true).unwrap();
        assert_eq!(&sm.short_message[..], b"hi");
        assert!(sm.tlvs.message_payload().is_none());
    }
}
