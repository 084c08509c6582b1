//! Translation between SMPP PDUs and the core API's JSON messages. No I/O, no policy: what a
//! peer sent is carried to the core byte for byte (payload, TLVs), with the decoded text and
//! receipt fields added for the core's convenience.

use bytes::Bytes;
use core_bridge::api::{
    Address, Base64Bytes, BindMode, Direction, InboundMessage, OutboundMessage, ReceiptInfo,
    SegmentInfo, TlvJson,
};
use smpp_codec::pdu::{DataSm, Pdu, SubmitSm};
use smpp_codec::receipt::{ReceiptIdFormat, ReceiptInfo as CodecReceipt};
use smpp_codec::segment::{self, SplitMethod, SplitOptions};
use smpp_codec::text::national::NationalShift;
use smpp_codec::text::DefaultAlphabet;
use smpp_codec::tlv::{tags, Tlvs};
use smpp_codec::types::COctetString;
use smpp_codec::{text, udh};

/// A bind's text and long-message settings (config keys `default_alphabet`, `split_method`,
/// `receipt_id_format`; see `config::ClientBind`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct TextSettings {
    /// What `data_coding` 0 means on the bind.
    pub default_alphabet: DefaultAlphabet,
    /// How concatenated messages are expressed on the bind, and how text too long for
    /// `short_message` travels.
    pub split_method: SplitMethod,
    /// How the carrier writes ids in its receipts.
    pub receipt_ids: ReceiptIdFormat,
}

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

/// The text of user data: UDH stripped (its national shift tables applied), data_coding 0 read
/// in the bind's alphabet.
fn decoded_text(
    settings: &TextSettings,
    data_coding: u8,
    esm_class: u8,
    data: &[u8],
) -> Option<String> {
    let (body, shift) = if esm_class & 0x40 != 0 {
        match udh::udh_len(data).and_then(|n| data.get(n..)) {
            Some(body) => (body, NationalShift::from_udh(data)),
            None => (data, NationalShift::NONE),
        }
    } else {
        (data, NationalShift::NONE)
    };
    if shift.is_none() {
        text::decode_with_default(settings.default_alphabet, data_coding, body).ok()
    } else {
        text::decode_with_shift(data_coding, body, shift.single, shift.locking).ok()
    }
}

fn segment(esm_class: u8, data: &[u8], tlvs: &Tlvs) -> Option<SegmentInfo> {
    if esm_class & 0x40 != 0 {
        if let Some(c) = udh::concat_info(data) {
            return Some(SegmentInfo {
                reference: c.reference,
                total: c.total,
                seqnum: c.seqnum,
            });
        }
    }
    tlvs.sar().map(|(reference, total, seqnum)| SegmentInfo {
        reference,
        total,
        seqnum,
    })
}

fn tlv_list(tlvs: &Tlvs) -> Vec<TlvJson> {
    tlvs.iter()
        .map(|t| TlvJson {
            tag: t.tag,
            value: Base64Bytes(t.value.to_vec()),
        })
        .collect()
}

fn addr(a: &COctetString, ton: u8, npi: u8) -> Address {
    Address {
        addr: a.to_str_lossy().into_owned(),
        ton,
        npi,
    }
}

/// Receipt fields, TLVs preferred over the text (facts §8.2), the id in the form the carrier's
/// `submit_sm_resp` used (`receipt_id_format`).
fn receipt_info(text: Option<&str>, tlvs: &Tlvs, ids: ReceiptIdFormat) -> Option<ReceiptInfo> {
    let r = CodecReceipt::read(text, tlvs, ids)?;
    let non_empty = |s: &str| (!s.is_empty()).then(|| s.to_string());
    let t = r.text.as_ref();
    Some(ReceiptInfo {
        receipted_message_id: r.message_id,
        message_state: r.message_state,
        stat: t.and_then(|t| non_empty(&t.stat)),
        err: t.and_then(|t| non_empty(&t.err)),
        submit_date: t.and_then(|t| non_empty(&t.submit_date)),
        done_date: t.and_then(|t| non_empty(&t.done_date)),
    })
}

/// A `submit_sm`/`deliver_sm` body as an inbound message. `direction` is decided by the caller
/// for `submit_sm` (always MT); for `deliver_sm`, use [`inbound_from_deliver`].
pub fn inbound_from_sm(
    id: String,
    direction: Direction,
    sm: &SubmitSm,
    origin: &Origin<'_>,
    received_at_ms: u64,
) -> InboundMessage {
    inbound_from_sm_with(
        id,
        direction,
        sm,
        origin,
        received_at_ms,
        &TextSettings::default(),
    )
}

/// [`inbound_from_sm`] under a bind's [`TextSettings`].
pub fn inbound_from_sm_with(
    id: String,
    direction: Direction,
    sm: &SubmitSm,
    origin: &Origin<'_>,
    received_at_ms: u64,
    settings: &TextSettings,
) -> InboundMessage {
    let data = user_data(&sm.short_message, &sm.tlvs);
    let text = decoded_text(settings, sm.data_coding, sm.esm_class, &data);
    let receipt = if direction == Direction::Receipt {
        receipt_info(text.as_deref(), &sm.tlvs, settings.receipt_ids)
    } else {
        None
    };
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
pub fn inbound_from_deliver(
    id: String,
    sm: &SubmitSm,
    origin: &Origin<'_>,
    received_at_ms: u64,
) -> InboundMessage {
    inbound_from_deliver_with(id, sm, origin, received_at_ms, &TextSettings::default())
}

/// [`inbound_from_deliver`] under a bind's [`TextSettings`].
pub fn inbound_from_deliver_with(
    id: String,
    sm: &SubmitSm,
    origin: &Origin<'_>,
    received_at_ms: u64,
    settings: &TextSettings,
) -> InboundMessage {
    let receipt = is_receipt_class(sm.esm_class) || sm.tlvs.receipted_message_id().is_some();
    let dir = if receipt {
        Direction::Receipt
    } else {
        Direction::Mo
    };
    let mut m = inbound_from_sm_with(id, dir, sm, origin, received_at_ms, settings);
    if receipt && m.receipt.is_none() {
        // A receipt whose id we cannot read is still handed over (as MO) rather than lost.
        m.direction = Direction::Mo;
    }
    m
}

/// A `data_sm` as an inbound message (MT from a partner, MO/receipt from a carrier).
pub fn inbound_from_data_sm(
    id: String,
    partner: bool,
    sm: &DataSm,
    origin: &Origin<'_>,
    received_at_ms: u64,
) -> InboundMessage {
    inbound_from_data_sm_with(
        id,
        partner,
        sm,
        origin,
        received_at_ms,
        &TextSettings::default(),
    )
}

/// [`inbound_from_data_sm`] under a bind's [`TextSettings`].
pub fn inbound_from_data_sm_with(
    id: String,
    partner: bool,
    sm: &DataSm,
    origin: &Origin<'_>,
    received_at_ms: u64,
    settings: &TextSettings,
) -> InboundMessage {
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
        inbound_from_sm_with(id, Direction::Mt, &as_sm, origin, received_at_ms, settings)
    } else {
        inbound_from_deliver_with(id, &as_sm, origin, received_at_ms, settings)
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
    sm_from_outbound_with(m, for_partner, &TextSettings::default())
}

/// [`sm_from_outbound`] under a bind's [`TextSettings`]: text from the core is written in the
/// bind's alphabet for data_coding 0 (or the smallest alphabet that holds it, when the one asked
/// for cannot), and a concatenated part is expressed as the bind's `split_method` says (UDH ⇄ SAR
/// TLVs, [`express_concatenation`]).
pub fn sm_from_outbound_with(
    m: &OutboundMessage,
    for_partner: bool,
    settings: &TextSettings,
) -> Result<SubmitSm, String> {
    let (data_coding, payload): (u8, Vec<u8>) = match (&m.text, m.payload.0.is_empty()) {
        (Some(t), true) => encode_text(t, m.data_coding, settings),
        _ => (m.data_coding, m.payload.0.clone()),
    };
    let mut tlvs = Tlvs::new();
    let (short_message, use_payload_tlv) = if payload.len() > MAX_SHORT_MESSAGE {
        (Bytes::new(), true)
    } else {
        (Bytes::from(payload.clone()), false)
    };
    for t in &m.tlvs {
        if use_payload_tlv && t.tag == tags::MESSAGE_PAYLOAD {
            continue;
        }
        tlvs.try_push(t.tag, &t.value.0)
            .map_err(|e| e.to_string())?;
    }
    if use_payload_tlv {
        tlvs.try_push(tags::MESSAGE_PAYLOAD, &payload)
            .map_err(|e| e.to_string())?;
    }
    let mut sm = SubmitSm {
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
        schedule_delivery_time: if for_partner {
            COctetString::default()
        } else {
            COctetString::from(m.schedule_delivery_time.as_str())
        },
        validity_period: if for_partner {
            COctetString::default()
        } else {
            COctetString::from(m.validity_period.as_str())
        },
        registered_delivery: m.registered_delivery,
        replace_if_present_flag: 0,
        data_coding,
        sm_default_msg_id: 0,
        short_message,
        tlvs,
    };
    express_concatenation(&mut sm, settings.split_method);
    Ok(sm)
}

/// `text` in `data_coding` on this bind (data_coding 0 in the bind's alphabet); when that
/// alphabet cannot hold it, the smallest one that can (GSM, else UCS-2), as the codec chooses.
fn encode_text(t: &str, data_coding: u8, settings: &TextSettings) -> (u8, Vec<u8>) {
    if let Ok(b) = text::encode_with_default(settings.default_alphabet, data_coding, t) {
        return (data_coding, b);
    }
    let opts = SplitOptions {
        method: SplitMethod::MessagePayload,
        default_alphabet: settings.default_alphabet,
        ..SplitOptions::default()
    };
    match segment::split_with(t, &opts)
        .ok()
        .and_then(|parts| parts.into_iter().next())
    {
        Some(p) => {
            let data = p.tlvs.message_payload().unwrap_or(p.short_message);
            (p.data_coding, data.to_vec())
        }
        None => text::choose(t),
    }
}

/// Expresses a concatenated part the way the bind's `split_method` says (facts §7): `sar` turns
/// a UDH whose only element is the concatenation one into the three `sar_*` TLVs (UDHI cleared);
/// `udh`/`udh16` turn SAR TLVs into a UDH at the start of `short_message` (UDHI set; a reference
/// above 255 keeps 16 bits). A UDH with other elements (ports, national tables) stays as it is:
/// SAR TLVs must not be combined with UDHI in GSM (v5.0 §4.8.4.48). `message_payload` and
/// messages that are not concatenated are left untouched.
pub fn express_concatenation(sm: &mut SubmitSm, method: SplitMethod) {
    let udhi = sm.esm_class & 0x40 != 0;
    match method {
        SplitMethod::Sar if udhi && sm.tlvs.sar().is_none() => {
            let ud = sm.short_message.clone();
            let (Some(info), Some(len)) = (udh::concat_info(&ud), udh::udh_len(&ud)) else {
                return;
            };
            let only_concat =
                matches!(len, 6 | 7) && matches!(ud[1], udh::IEI_CONCAT_8 | udh::IEI_CONCAT_16);
            if !only_concat {
                return;
            }
            sm.short_message = ud.slice(len..);
            sm.esm_class &= !0x40;
            sm.tlvs
                .push(tags::SAR_MSG_REF_NUM, &info.reference.to_be_bytes());
            sm.tlvs.push(tags::SAR_TOTAL_SEGMENTS, &[info.total]);
            sm.tlvs.push(tags::SAR_SEGMENT_SEQNUM, &[info.seqnum]);
        }
        SplitMethod::Udh8 | SplitMethod::Udh16 if !udhi => {
            let Some((reference, total, seqnum)) =
                sm.tlvs.sar().filter(|&(_, t, n)| t > 0 && n > 0 && n <= t)
            else {
                return;
            };
            let info = udh::ConcatInfo {
                reference,
                total,
                seqnum,
            };
            let header: Vec<u8> = if method == SplitMethod::Udh8 && reference <= 0xFF {
                info.udh_8bit().to_vec()
            } else {
                info.udh_16bit().to_vec()
            };
            if sm.short_message.len() + header.len() > MAX_SHORT_MESSAGE {
                return;
            }
            sm.short_message = Bytes::from([&header[..], &sm.short_message[..]].concat());
            sm.esm_class |= 0x40;
            for tag in [
                tags::SAR_MSG_REF_NUM,
                tags::SAR_TOTAL_SEGMENTS,
                tags::SAR_SEGMENT_SEQNUM,
            ] {
                sm.tlvs.remove(tag);
            }
        }
        _ => {}
    }
}

/// The outbound PDU: `submit_sm` to a carrier, `deliver_sm` to a partner. Errors as
/// [`sm_from_outbound`].
pub fn pdu_from_outbound(m: &OutboundMessage, for_partner: bool) -> Result<Pdu, String> {
    pdu_from_outbound_with(m, for_partner, &TextSettings::default())
}

/// [`pdu_from_outbound`] under a bind's [`TextSettings`].
pub fn pdu_from_outbound_with(
    m: &OutboundMessage,
    for_partner: bool,
    settings: &TextSettings,
) -> Result<Pdu, String> {
    let sm = sm_from_outbound_with(m, for_partner, settings)?;
    Ok(if for_partner {
        Pdu::DeliverSm(sm)
    } else {
        Pdu::SubmitSm(sm)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn origin() -> Origin<'static> {
        Origin {
            bind_name: "carrier",
            bind_mode: BindMode::Client,
            system_id: "gw",
            frontend: "h_carrier",
        }
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
    fn receipt_ids_take_the_submitted_form() {
        let mut tlvs = Tlvs::new();
        tlvs.push(tags::RECEIPTED_MESSAGE_ID, b"1a2b3c\0");
        let sm = SubmitSm {
            esm_class: 0x04,
            tlvs,
            ..SubmitSm::default()
        };
        let hex = TextSettings {
            receipt_ids: ReceiptIdFormat::Hex,
            ..TextSettings::default()
        };
        let m = inbound_from_deliver_with("x".into(), &sm, &origin(), 1, &hex);
        assert_eq!(m.receipt.unwrap().receipted_message_id, "1715004");
        let m = inbound_from_deliver("x".into(), &sm, &origin(), 1);
        assert_eq!(m.receipt.unwrap().receipted_message_id, "1a2b3c");
        // A receipt in a data_sm, text only, decimal id written back in hex.
        let d = DataSm {
            esm_class: 0x04,
            tlvs: {
                let mut t = Tlvs::new();
                t.push(tags::MESSAGE_PAYLOAD, b"id:0001715004 sub:001 dlvrd:001 submit date:2401311200 done date:240131120100 stat:UNDELIV err:001 text:");
                t
            },
            ..DataSm::default()
        };
        let dec = TextSettings {
            receipt_ids: ReceiptIdFormat::DecimalUpperHex,
            ..TextSettings::default()
        };
        let m = inbound_from_data_sm_with("x".into(), false, &d, &origin(), 1, &dec);
        assert_eq!(m.direction, Direction::Receipt);
        let r = m.receipt.unwrap();
        assert_eq!(
            (
                r.receipted_message_id.as_str(),
                r.message_state,
                r.err.as_deref()
            ),
            ("1A2B3C", Some(5), Some("001"))
        );
    }

    #[test]
    fn default_alphabet_and_national_tables_inbound() {
        let sm = SubmitSm {
            short_message: Bytes::from_static(&[0xE9, 0x40]),
            ..SubmitSm::default()
        };
        // GSM bind: 0xE9 is no septet, 0x40 is '¡'.
        assert_eq!(
            inbound_from_deliver("x".into(), &sm, &origin(), 1)
                .text
                .as_deref(),
            Some("\u{FFFD}¡")
        );
        let latin = TextSettings {
            default_alphabet: DefaultAlphabet::Latin1,
            ..TextSettings::default()
        };
        assert_eq!(
            inbound_from_deliver_with("x".into(), &sm, &origin(), 1, &latin)
                .text
                .as_deref(),
            Some("é@")
        );
        // Turkish locking shift in the UDH.
        let sm = SubmitSm {
            esm_class: 0x40,
            short_message: Bytes::from_static(&[3, 0x25, 1, 1, 0x07, 0x0C]),
            ..SubmitSm::default()
        };
        assert_eq!(
            inbound_from_deliver("x".into(), &sm, &origin(), 1)
                .text
                .as_deref(),
            Some("ığ")
        );
    }

    fn outbound(
        text: Option<&str>,
        payload: Vec<u8>,
        esm_class: u8,
        tlvs: Vec<TlvJson>,
    ) -> OutboundMessage {
        OutboundMessage {
            id: "1".into(),
            kind: Direction::Mt,
            service_type: String::new(),
            source: Address {
                addr: "A".into(),
                ton: 5,
                npi: 0,
            },
            destination: Address {
                addr: "336".into(),
                ton: 1,
                npi: 1,
            },
            esm_class,
            protocol_id: 0,
            priority_flag: 0,
            schedule_delivery_time: String::new(),
            validity_period: String::new(),
            registered_delivery: 1,
            data_coding: 0,
            payload: Base64Bytes(payload),
            text: text.map(str::to_string),
            tlvs,
            lease_until_ms: 0,
            attempts: 0,
        }
    }

    #[test]
    fn outbound_text_in_the_binds_alphabet() {
        let latin = TextSettings {
            default_alphabet: DefaultAlphabet::Latin1,
            ..TextSettings::default()
        };
        let sm =
            sm_from_outbound_with(&outbound(Some("héllo @"), vec![], 0, vec![]), false, &latin)
                .unwrap();
        assert_eq!(
            (sm.data_coding, &sm.short_message[..]),
            (0, &b"h\xE9llo @"[..])
        );
        let sm = sm_from_outbound(&outbound(Some("héllo @"), vec![], 0, vec![]), false).unwrap();
        assert_eq!(
            &sm.short_message[..],
            &[b'h', 0x05, b'l', b'l', b'o', b' ', 0x00]
        );
        // Not in the bind's alphabet: the smallest that holds it.
        let sm = sm_from_outbound_with(&outbound(Some("Привет"), vec![], 0, vec![]), false, &latin)
            .unwrap();
        assert_eq!(sm.data_coding, 8);
        assert_eq!(text::decode(8, &sm.short_message).unwrap(), "Привет");
    }

    #[test]
    fn concatenation_expressed_per_bind() {
        let part = [5u8, 0, 3, 0x2A, 2, 1, b'h', b'i'];
        let sar = TextSettings {
            split_method: SplitMethod::Sar,
            ..TextSettings::default()
        };
        let sm = sm_from_outbound_with(&outbound(None, part.to_vec(), 0x40, vec![]), false, &sar)
            .unwrap();
        assert_eq!(sm.esm_class & 0x40, 0);
        assert_eq!(&sm.short_message[..], b"hi");
        assert_eq!(sm.tlvs.sar(), Some((0x2A, 2, 1)));
        // Back to a UDH for a udh bind; a 16-bit reference keeps 16 bits.
        let mut sm2 = sm.clone();
        express_concatenation(&mut sm2, SplitMethod::Udh8);
        assert_eq!(&sm2.short_message[..], &part[..]);
        assert_eq!(sm2.esm_class & 0x40, 0x40);
        assert_eq!(sm2.tlvs.sar(), None);
        let mut wide = SubmitSm {
            short_message: Bytes::from_static(b"x"),
            ..SubmitSm::default()
        };
        wide.tlvs.push(tags::SAR_MSG_REF_NUM, &[0x12, 0x34]);
        wide.tlvs.push(tags::SAR_TOTAL_SEGMENTS, &[3]);
        wide.tlvs.push(tags::SAR_SEGMENT_SEQNUM, &[3]);
        express_concatenation(&mut wide, SplitMethod::Udh8);
        assert_eq!(&wide.short_message[..], &[6, 8, 4, 0x12, 0x34, 3, 3, b'x']);
        // A UDH with other elements (a port) stays: SAR must not be combined with UDHI.
        let ported = [11u8, 5, 4, 0x0B, 0x84, 0x23, 0xF0, 0, 3, 1, 2, 1, b'x'];
        let sm = sm_from_outbound_with(&outbound(None, ported.to_vec(), 0x40, vec![]), false, &sar)
            .unwrap();
        assert_eq!(&sm.short_message[..], &ported[..]);
        assert_eq!(sm.tlvs.sar(), None);
        // message_payload and the default leave parts alone.
        let sm = sm_from_outbound(&outbound(None, part.to_vec(), 0x40, vec![]), false).unwrap();
        assert_eq!(&sm.short_message[..], &part[..]);
    }

    #[test]
    fn plain_deliver_is_an_mo_with_exact_payload() {
        let sm = SubmitSm {
            data_coding: 8,
            short_message: Bytes::from_static(&[0x04, 0x1F, 0x04, 0x40]),
            ..SubmitSm::default()
        };
        let m = inbound_from_deliver("x".into(), &sm, &origin(), 1);
        assert_eq!(m.direction, Direction::Mo);
        assert_eq!(m.payload.0, vec![0x04, 0x1F, 0x04, 0x40]);
        assert_eq!(m.text.as_deref(), Some("Пр"));
    }

    #[test]
    fn long_payload_goes_into_message_payload() {
        let m = outbound(None, vec![b'a'; 300], 0, vec![]);
        let sm = sm_from_outbound(&m, false).unwrap();
        assert!(sm.short_message.is_empty());
        assert_eq!(sm.tlvs.message_payload().unwrap().len(), 300);
        let too_long = OutboundMessage {
            payload: Base64Bytes(vec![b'a'; 70_000]),
            ..m.clone()
        };
        assert!(sm_from_outbound(&too_long, false).is_err());
        let short = OutboundMessage {
            payload: Base64Bytes(b"hi".to_vec()),
            ..m
        };
        let sm = sm_from_outbound(&short, true).unwrap();
        assert_eq!(&sm.short_message[..], b"hi");
        assert!(sm.tlvs.message_payload().is_none());
    }
}
