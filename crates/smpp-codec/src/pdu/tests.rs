//! Byte-exact vectors and decode-error behaviour of every PDU in [`Pdu`].

use bytes::{Bytes, BytesMut};

use super::*;
use crate::tlv::{tags, Tlvs};
use crate::types::COctetString;

/// A PDU from its header fields and body pieces; `command_length` computed here, independently of
/// the encoder.
fn pdu(id: u32, status: u32, seq: u32, body: &[&[u8]]) -> Bytes {
    let body: Vec<u8> = body.concat();
    let mut v = Vec::new();
    v.extend_from_slice(&((16 + body.len()) as u32).to_be_bytes());
    v.extend_from_slice(&id.to_be_bytes());
    v.extend_from_slice(&status.to_be_bytes());
    v.extend_from_slice(&seq.to_be_bytes());
    v.extend_from_slice(&body);
    Bytes::from(v)
}

/// Asserts that `bytes` decodes to `frame` and that `frame` encodes to `bytes`.
fn vector(bytes: &Bytes, frame: &Frame) {
    assert_eq!(&Frame::decode(bytes.clone()).unwrap(), frame);
    assert_eq!(
        Frame::decode_with(bytes.clone(), &DecodeOptions::strict()).unwrap(),
        *frame
    );
    assert_eq!(frame.encoded_len(), bytes.len());
    assert_eq!(&frame.to_bytes(), bytes);
}

fn decode_err(bytes: Bytes) -> DecodeError {
    Frame::decode(bytes).unwrap_err()
}

fn strict_err(bytes: Bytes) -> DecodeError {
    Frame::decode_with(bytes, &DecodeOptions::strict()).unwrap_err()
}

fn sample_submit() -> SubmitSm {
    SubmitSm {
        source_addr_ton: 1,
        source_addr_npi: 1,
        source_addr: "447700900000".into(),
        dest_addr_ton: 1,
        dest_addr_npi: 1,
        destination_addr: "447700900001".into(),
        registered_delivery: 1,
        short_message: Bytes::from_static(b"Hello"),
        ..SubmitSm::default()
    }
}

const SUBMIT_BODY: &[&[u8]] = &[
    b"\0",
    &[1, 1],
    b"447700900000\0",
    &[1, 1],
    b"447700900001\0",
    &[0, 0, 0],
    b"\0",
    b"\0",
    &[1, 0, 0, 0],
    &[5],
    b"Hello",
];

// ---------------------------------------------------------------------------------------------
// Vectors

#[test]
fn bind_transmitter_v5_sample() {
    // The v5.0 §3.2.2 sample, octet for octet (facts §1.1).
    let bytes = Bytes::from_static(&[
        0x00, 0x00, 0x00, 0x2F, 0x00, 0x00, 0x00, 0x02, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
        0x01, b'S', b'M', b'P', b'P', b'3', b'T', b'E', b'S', b'T', 0x00, b's', b'e', b'c', b'r',
        b'e', b't', b'0', b'8', 0x00, b'S', b'U', b'B', b'M', b'I', b'T', b'1', 0x00, 0x50, 0x01,
        0x01, 0x00,
    ]);
    let frame = Frame::new(
        1,
        Pdu::BindTransmitter(Bind {
            system_id: "SMPP3TEST".into(),
            password: "secret08".into(),
            system_type: "SUBMIT1".into(),
            interface_version: 0x50,
            addr_ton: 1,
            addr_npi: 1,
            address_range: "".into(),
        }),
    );
    vector(&bytes, &frame);
    assert_eq!(frame.encoded_len(), 0x2F);
}

#[test]
fn bind_receiver_and_transceiver_vectors() {
    let body: &[&[u8]] = &[b"esme\0", b"pw\0", b"\0", &[0x34, 0, 0], b"^44\0"];
    let bind = Bind {
        system_id: "esme".into(),
        password: "pw".into(),
        system_type: "".into(),
        interface_version: 0x34,
        addr_ton: 0,
        addr_npi: 0,
        address_range: "^44".into(),
    };
    vector(
        &pdu(1, 0, 9, body),
        &Frame::new(9, Pdu::BindReceiver(bind.clone())),
    );
    vector(
        &pdu(9, 0, 10, body),
        &Frame::new(10, Pdu::BindTransceiver(bind)),
    );
}

#[test]
fn bind_resp_vectors() {
    let mut tlvs = Tlvs::new();
    tlvs.push(tags::SC_INTERFACE_VERSION, &[0x34]);
    let resp = BindResp {
        system_id: "SMSC".into(),
        tlvs,
    };
    let body: &[&[u8]] = &[b"SMSC\0", &[0x02, 0x10, 0x00, 0x01, 0x34]];
    let bytes = pdu(0x8000_0002, 0, 1, body);
    assert_eq!(bytes.len(), 26);
    vector(
        &bytes,
        &Frame::new(1, Pdu::BindTransmitterResp(resp.clone())),
    );
    vector(
        &pdu(0x8000_0001, 0, 2, body),
        &Frame::new(2, Pdu::BindReceiverResp(resp.clone())),
    );
    vector(
        &pdu(0x8000_0009, 0, 3, body),
        &Frame::new(3, Pdu::BindTransceiverResp(resp.clone())),
    );
    let Pdu::BindTransceiverResp(r) = Frame::decode(pdu(0x8000_0009, 0, 3, body)).unwrap().pdu
    else {
        panic!("wrong variant")
    };
    assert_eq!(r.tlvs.sc_interface_version(), Some(0x34));
}

#[test]
fn header_only_vectors() {
    for (id, p) in [
        (0x0000_0006, Pdu::Unbind),
        (0x8000_0006, Pdu::UnbindResp),
        (0x0000_0015, Pdu::EnquireLink),
        (0x8000_0015, Pdu::EnquireLinkResp),
    ] {
        vector(&pdu(id, 0, 0x7FFF_FFFF, &[]), &Frame::new(0x7FFF_FFFF, p));
    }
    vector(
        &pdu(0x8000_0000, 3, 5, &[]),
        &Frame::with_status(5, CommandStatus::ESME_RINVCMDID, Pdu::GenericNack),
    );
}

#[test]
fn submit_sm_vector() {
    let bytes = pdu(4, 0, 2, SUBMIT_BODY);
    assert_eq!(bytes.len(), 0x3E);
    vector(&bytes, &Frame::new(2, Pdu::SubmitSm(sample_submit())));
}

#[test]
fn submit_sm_full_fields_vector() {
    let mut tlvs = Tlvs::new();
    tlvs.push(tags::USER_MESSAGE_REFERENCE, &[0x00, 0x07]);
    let sm = SubmitSm {
        service_type: "CMT".into(),
        source_addr_ton: 5,
        source_addr_npi: 0,
        source_addr: "ACME".into(),
        dest_addr_ton: 1,
        dest_addr_npi: 1,
        destination_addr: "15551234567".into(),
        esm_class: 0x40,
        protocol_id: 0x7F,
        priority_flag: 3,
        schedule_delivery_time: "240131120000000+".into(),
        validity_period: "000001000000000R".into(),
        registered_delivery: 0x11,
        replace_if_present_flag: 1,
        data_coding: 8,
        sm_default_msg_id: 0,
        short_message: Bytes::from_static(&[0x05, 0x00, 0x03, 0x01, 0x02, 0x01, 0x00, 0x41]),
        tlvs,
    };
    let bytes = pdu(
        4,
        0,
        77,
        &[
            b"CMT\0",
            &[5, 0],
            b"ACME\0",
            &[1, 1],
            b"15551234567\0",
            &[0x40, 0x7F, 3],
            b"240131120000000+\0",
            b"000001000000000R\0",
            &[0x11, 1, 8, 0],
            &[8, 0x05, 0x00, 0x03, 0x01, 0x02, 0x01, 0x00, 0x41],
            &[0x02, 0x04, 0x00, 0x02, 0x00, 0x07],
        ],
    );
    vector(&bytes, &Frame::new(77, Pdu::SubmitSm(sm)));
}

#[test]
fn submit_sm_resp_vectors() {
    let bytes = pdu(0x8000_0004, 0, 2, &[b"abc123\0"]);
    assert_eq!(bytes.len(), 0x17);
    vector(
        &bytes,
        &Frame::new(
            2,
            Pdu::SubmitSmResp(SubmitSmResp {
                message_id: "abc123".into(),
                tlvs: Tlvs::new(),
            }),
        ),
    );
    let mut tlvs = Tlvs::new();
    tlvs.push(tags::DELIVERY_FAILURE_REASON, &[2]);
    vector(
        &pdu(0x8000_0103, 0, 3, &[b"m-1\0", &[0x04, 0x25, 0, 1, 2]]),
        &Frame::new(
            3,
            Pdu::DataSmResp(DataSmResp {
                message_id: "m-1".into(),
                tlvs,
            }),
        ),
    );
}

#[test]
fn deliver_sm_receipt_vector() {
    let text = b"id:0123456789 sub:001 dlvrd:001 submit date:2401311200 done date:2401311201 stat:DELIVRD err:000 text:Hello";
    let mut tlvs = Tlvs::new();
    tlvs.push(tags::RECEIPTED_MESSAGE_ID, b"75BCD15\0");
    tlvs.push(tags::MESSAGE_STATE, &[2]);
    let sm = DeliverSm {
        source_addr_ton: 1,
        source_addr_npi: 1,
        source_addr: "447700900001".into(),
        dest_addr_ton: 1,
        dest_addr_npi: 1,
        destination_addr: "447700900000".into(),
        esm_class: 0x04,
        short_message: Bytes::from_static(text),
        tlvs,
        ..DeliverSm::default()
    };
    let bytes = pdu(
        5,
        0,
        8,
        &[
            b"\0",
            &[1, 1],
            b"447700900001\0",
            &[1, 1],
            b"447700900000\0",
            &[0x04, 0, 0],
            b"\0",
            b"\0",
            &[0, 0, 0, 0],
            &[text.len() as u8],
            text,
            &[0x00, 0x1E, 0x00, 0x08],
            b"75BCD15\0",
            &[0x04, 0x27, 0x00, 0x01, 0x02],
        ],
    );
    vector(&bytes, &Frame::new(8, Pdu::DeliverSm(sm)));
    let Pdu::DeliverSm(d) = Frame::decode(bytes).unwrap().pdu else {
        panic!("wrong variant")
    };
    assert!(d.is_delivery_receipt());
    assert!(!d.is_intermediate_notification());
    assert_eq!(d.tlvs.receipted_message_id().unwrap(), "75BCD15");
    assert_eq!(d.tlvs.message_state(), Some(2));
    let receipt =
        crate::receipt::DeliveryReceipt::parse(std::str::from_utf8(&d.short_message).unwrap())
            .unwrap();
    assert_eq!(receipt.id, "0123456789");
}

#[test]
fn deliver_sm_resp_vector() {
    let bytes = pdu(0x8000_0005, 0, 8, &[b"\0"]);
    assert_eq!(bytes.len(), 17);
    vector(
        &bytes,
        &Frame::new(8, Pdu::DeliverSmResp(DeliverSmResp::default())),
    );
    // v5 may put an id there: kept.
    let f = Frame::decode(pdu(0x8000_0005, 0, 8, &[b"xyz\0"])).unwrap();
    assert_eq!(
        f.pdu,
        Pdu::DeliverSmResp(DeliverSmResp {
            message_id: "xyz".into()
        })
    );
}

#[test]
fn data_sm_vector() {
    let mut tlvs = Tlvs::new();
    tlvs.push(tags::MESSAGE_PAYLOAD, b"payload text");
    tlvs.push(tags::SAR_MSG_REF_NUM, &[0x01, 0x02]);
    tlvs.push(tags::SAR_TOTAL_SEGMENTS, &[2]);
    tlvs.push(tags::SAR_SEGMENT_SEQNUM, &[1]);
    let dsm = DataSm {
        service_type: "WAP".into(),
        source_addr_ton: 2,
        source_addr_npi: 8,
        source_addr: "12345".into(),
        dest_addr_ton: 1,
        dest_addr_npi: 1,
        destination_addr: "4915112345678".into(),
        esm_class: 3,
        registered_delivery: 1,
        data_coding: 4,
        tlvs,
    };
    let bytes = pdu(
        0x103,
        0,
        4,
        &[
            b"WAP\0",
            &[2, 8],
            b"12345\0",
            &[1, 1],
            b"4915112345678\0",
            &[3, 1, 4],
            &[0x04, 0x24, 0x00, 0x0C],
            b"payload text",
            &[0x02, 0x0C, 0x00, 0x02, 0x01, 0x02],
            &[0x02, 0x0E, 0x00, 0x01, 0x02],
            &[0x02, 0x0F, 0x00, 0x01, 0x01],
        ],
    );
    vector(&bytes, &Frame::new(4, Pdu::DataSm(dsm)));
    let Pdu::DataSm(d) = Frame::decode(bytes).unwrap().pdu else {
        panic!("wrong variant")
    };
    assert_eq!(d.tlvs.message_payload().unwrap(), &b"payload text"[..]);
    assert_eq!(d.tlvs.sar(), Some((0x0102, 2, 1)));
}

// ---------------------------------------------------------------------------------------------
// Zero-copy, TLV preservation, encoding details

#[test]
fn decoding_slices_the_frame() {
    let bytes = pdu(4, 0, 2, SUBMIT_BODY);
    let range = bytes.as_ptr_range();
    let Pdu::SubmitSm(sm) = Frame::decode(bytes.clone()).unwrap().pdu else {
        panic!("wrong variant")
    };
    assert!(range.contains(&sm.short_message.as_ptr()));
    assert!(range.contains(&sm.source_addr.as_bytes().as_ptr()));
    assert!(range.contains(&sm.destination_addr.as_bytes().as_ptr()));
}

#[test]
fn unknown_tlvs_survive_decode_encode_byte_for_byte() {
    let mut body: Vec<&[u8]> = SUBMIT_BODY.to_vec();
    // Vendor TLVs (India DLT style), a zero-length TLV and a known one, in odd order.
    body.push(&[0x14, 0x01, 0x00, 0x03, b'T', b'I', b'D']);
    body.push(&[0x13, 0x0C, 0x00, 0x00]);
    body.push(&[0x80, 0x81, 0x00, 0x02, 0xAB, 0xCD]);
    body.push(&[0x14, 0x00, 0x00, 0x05, b'P', b'E', b'-', b'I', b'D']);
    let bytes = pdu(4, 0, 99, &body);
    let frame = Frame::decode(bytes.clone()).unwrap();
    assert_eq!(frame.to_bytes(), bytes);
    let Pdu::SubmitSm(sm) = &frame.pdu else {
        panic!("wrong variant")
    };
    let tags: Vec<u16> = sm.tlvs.iter().map(|t| t.tag).collect();
    assert_eq!(tags, [0x1401, 0x130C, 0x8081, 0x1400]);
    assert_eq!(sm.tlvs.get(0x1400).unwrap(), &b"PE-ID"[..]);
    assert_eq!(sm.tlvs.get(0x130C).unwrap().len(), 0);
}

#[test]
fn encode_appends_and_reserves_once() {
    let f = Frame::new(2, Pdu::SubmitSm(sample_submit()));
    let mut dst = BytesMut::from(&b"xx"[..]);
    f.encode(&mut dst);
    assert_eq!(&dst[..2], b"xx");
    assert_eq!(&dst[2..], &pdu(4, 0, 2, SUBMIT_BODY)[..]);
    assert_eq!(f.to_bytes().len(), f.encoded_len());
}

#[test]
fn interior_nul_and_long_short_message_stay_well_formed() {
    let mut sm = sample_submit();
    sm.source_addr = COctetString::from(&b"12\x0034"[..]);
    sm.short_message = Bytes::from(vec![b'x'; 300]);
    let f = Frame::new(1, Pdu::SubmitSm(sm));
    let bytes = f.to_bytes();
    assert_eq!(bytes.len(), f.encoded_len());
    let Pdu::SubmitSm(back) = Frame::decode(bytes).unwrap().pdu else {
        panic!("wrong variant")
    };
    assert_eq!(back.source_addr, "12");
    assert_eq!(back.short_message.len(), 255);
}

#[test]
fn set_user_data_moves_long_data_to_message_payload() {
    let mut sm = SubmitSm::default();
    sm.set_user_data(Bytes::from(vec![1u8; 254])).unwrap();
    assert_eq!(sm.short_message.len(), 254);
    assert!(sm.tlvs.message_payload().is_none());
    sm.set_user_data(Bytes::from(vec![2u8; 255])).unwrap();
    assert!(sm.short_message.is_empty());
    assert_eq!(sm.tlvs.message_payload().unwrap().len(), 255);
    assert_eq!(sm.user_data().len(), 255);
    sm.set_user_data(Bytes::from_static(b"hi")).unwrap();
    assert_eq!(sm.user_data(), &b"hi"[..]);
    assert!(sm.tlvs.is_empty());
    assert!(sm.set_user_data(Bytes::from(vec![0u8; 65536])).is_err());
    assert_eq!(sm.short_message, &b"hi"[..]);
}

// ---------------------------------------------------------------------------------------------
// Pdu helpers

#[test]
fn pdu_helpers() {
    let bind = Pdu::BindTransceiver(Bind::default());
    assert_eq!(bind.command_id(), 9);
    assert_eq!(bind.bind_kind(), Some(BindKind::Transceiver));
    assert!(!bind.is_response());
    assert_eq!(
        bind.empty_response(),
        Some(Pdu::BindTransceiverResp(BindResp::default()))
    );
    assert_eq!(
        Pdu::BindReceiverResp(BindResp::default()).bind_kind(),
        Some(BindKind::Receiver)
    );
    assert_eq!(Pdu::EnquireLink.bind_kind(), None);
    assert!(Pdu::GenericNack.is_response());
    assert_eq!(Pdu::GenericNack.empty_response(), None);
    assert_eq!(Pdu::EnquireLinkResp.empty_response(), None);
    assert_eq!(Pdu::Unbind.empty_response(), Some(Pdu::UnbindResp));
    assert_eq!(
        Pdu::EnquireLink.empty_response(),
        Some(Pdu::EnquireLinkResp)
    );
    assert_eq!(
        Pdu::SubmitSm(SubmitSm::default()).empty_response(),
        Some(Pdu::SubmitSmResp(SubmitSmResp::default()))
    );
    assert_eq!(
        Pdu::DeliverSm(SubmitSm::default()).empty_response(),
        Some(Pdu::DeliverSmResp(DeliverSmResp::default()))
    );
    assert_eq!(
        Pdu::DataSm(DataSm::default()).empty_response(),
        Some(Pdu::DataSmResp(DataSmResp::default()))
    );
    assert_eq!(Pdu::DataSm(DataSm::default()).name(), "data_sm");
    // Every response answers the request it is named after.
    for req in [
        Pdu::BindTransmitter(Bind::default()),
        Pdu::BindReceiver(Bind::default()),
        Pdu::BindTransceiver(Bind::default()),
        Pdu::Unbind,
        Pdu::EnquireLink,
        Pdu::SubmitSm(SubmitSm::default()),
        Pdu::DeliverSm(SubmitSm::default()),
        Pdu::DataSm(DataSm::default()),
    ] {
        let resp = req.empty_response().unwrap();
        assert_eq!(resp.command_id(), req.command_id() | 0x8000_0000);
        assert!(resp.is_response());
        assert_eq!(resp.bind_kind(), req.bind_kind());
    }
}

// ---------------------------------------------------------------------------------------------
// Errors

#[test]
fn unknown_command_id_answers_generic_nack_with_same_sequence() {
    let e = decode_err(pdu(0x0000_0077, 0, 4242, &[b"junk"]));
    assert_eq!(
        e.kind,
        DecodeErrorKind::UnknownCommandId { command_id: 0x77 }
    );
    assert_eq!(e.status(), CommandStatus::ESME_RINVCMDID);
    assert!(e.answer_with_generic_nack());
    assert_eq!(
        e.response(),
        Some(Frame::with_status(
            4242,
            CommandStatus::ESME_RINVCMDID,
            Pdu::GenericNack
        ))
    );
    assert_eq!(
        e.to_string(),
        "unknown command_id 0x00000077 in unknown command (sequence_number 4242)"
    );
}

#[test]
fn unknown_response_id_is_never_answered() {
    let e = decode_err(pdu(0x8000_0077, 0, 4, &[]));
    assert!(e.answer_with_generic_nack());
    assert_eq!(e.response(), None);
}

#[test]
fn unreadable_header() {
    let e = decode_err(Bytes::from_static(&[0, 0, 0, 16, 0, 0, 0, 0x15, 0, 0]));
    assert_eq!(e.kind, DecodeErrorKind::HeaderTooShort { len: 10 });
    assert_eq!((e.command_id, e.sequence_number), (0, 0));
    assert_eq!(e.status(), CommandStatus::ESME_RINVCMDLEN);
    assert_eq!(
        e.response().unwrap(),
        Frame::with_status(0, CommandStatus::ESME_RINVCMDLEN, Pdu::GenericNack)
    );
    assert_eq!(
        decode_err(Bytes::new()).kind,
        DecodeErrorKind::HeaderTooShort { len: 0 }
    );
}

#[test]
fn command_length_mismatch() {
    let mut v = pdu(0x15, 0, 3, &[]).to_vec();
    v[3] = 20;
    let e = decode_err(Bytes::from(v));
    assert_eq!(
        e.kind,
        DecodeErrorKind::CommandLengthMismatch {
            command_length: 20,
            frame_len: 16
        }
    );
    assert_eq!(e.status(), CommandStatus::ESME_RINVCMDLEN);
    assert_eq!(
        e.response().unwrap(),
        Frame::with_status(3, CommandStatus::ESME_RINVCMDLEN, Pdu::GenericNack)
    );
}

#[test]
fn truncated_bind_answers_bind_resp() {
    // Body stops after the password.
    let e = decode_err(pdu(2, 0, 12, &[b"sys\0", b"pw\0"]));
    assert_eq!(
        e.kind,
        DecodeErrorKind::MissingNul {
            field: Field::SystemType
        }
    );
    assert_eq!(e.status(), CommandStatus::ESME_RINVCMDLEN);
    assert!(!e.answer_with_generic_nack());
    assert_eq!(
        e.response().unwrap(),
        Frame::with_status(
            12,
            CommandStatus::ESME_RINVCMDLEN,
            Pdu::BindTransmitterResp(BindResp::default())
        )
    );
    let e = decode_err(pdu(1, 0, 13, &[b"sys\0", b"pw\0", b"\0", &[0x34]]));
    assert_eq!(
        e.kind,
        DecodeErrorKind::Truncated {
            field: Field::AddrTon
        }
    );
    assert_eq!(
        e.response().unwrap().pdu,
        Pdu::BindReceiverResp(BindResp::default())
    );
}

#[test]
fn truncated_submit_sm_at_every_length() {
    let full = pdu(4, 0, 2, SUBMIT_BODY);
    for cut in 16..full.len() - 5 {
        let mut v = full[..cut].to_vec();
        v[..4].copy_from_slice(&(cut as u32).to_be_bytes());
        let e = decode_err(Bytes::from(v));
        assert_eq!(e.sequence_number, 2);
        assert_eq!(e.command_id, 4);
        let resp = e.response().unwrap();
        assert_eq!(
            resp.pdu,
            Pdu::SubmitSmResp(SubmitSmResp::default()),
            "cut {cut}"
        );
        assert!(
            [
                CommandStatus::ESME_RINVCMDLEN,
                CommandStatus::ESME_RINVMSGLEN
            ]
            .contains(&resp.command_status),
            "cut {cut}: {e}"
        );
    }
}

#[test]
fn short_message_length_beyond_body() {
    let mut body = SUBMIT_BODY.to_vec();
    body[9] = &[6]; // sm_length 6, only 5 octets follow
    let e = decode_err(pdu(4, 0, 3, &body));
    assert_eq!(
        e.kind,
        DecodeErrorKind::ShortMessageLength {
            sm_length: 6,
            available: 5
        }
    );
    assert_eq!(e.status(), CommandStatus::ESME_RINVMSGLEN);
    assert_eq!(
        e.response().unwrap(),
        Frame::with_status(
            3,
            CommandStatus::ESME_RINVMSGLEN,
            Pdu::SubmitSmResp(SubmitSmResp::default())
        )
    );
    // deliver_sm answers with deliver_sm_resp.
    let e = decode_err(pdu(5, 0, 3, &body));
    assert_eq!(
        e.response().unwrap().pdu,
        Pdu::DeliverSmResp(DeliverSmResp::default())
    );
}

#[test]
fn stray_tlv_octets() {
    for stray in [&[0x14][..], &[0x14, 0x00], &[0x14, 0x00, 0x00]] {
        let mut body = SUBMIT_BODY.to_vec();
        body.push(&[0x04, 0x27, 0x00, 0x01, 0x02]);
        body.push(stray);
        let e = decode_err(pdu(4, 0, 3, &body));
        assert_eq!(
            e.kind,
            DecodeErrorKind::TrailingTlvOctets { len: stray.len() }
        );
        assert_eq!(e.status(), CommandStatus::ESME_RINVOPTPARSTREAM);
        assert_eq!(
            e.response().unwrap(),
            Frame::with_status(
                3,
                CommandStatus::ESME_RINVOPTPARSTREAM,
                Pdu::SubmitSmResp(SubmitSmResp::default())
            )
        );
    }
}

#[test]
fn tlv_running_past_the_end() {
    let mut body = SUBMIT_BODY.to_vec();
    body.push(&[0x04, 0x24, 0x00, 0x10, b'a', b'b']);
    let e = decode_err(pdu(4, 0, 3, &body));
    assert_eq!(
        e.kind,
        DecodeErrorKind::TlvOverrun {
            tag: 0x0424,
            len: 16,
            available: 2
        }
    );
    assert_eq!(e.status(), CommandStatus::ESME_RINVOPTPARSTREAM);
    // Same in data_sm, answered with data_sm_resp.
    let e = decode_err(pdu(
        0x103,
        0,
        4,
        &[
            b"\0",
            &[0, 0],
            b"1\0",
            &[0, 0],
            b"2\0",
            &[0, 0, 0],
            &[0x04, 0x24, 0xFF, 0xFF],
        ],
    ));
    assert_eq!(e.status(), CommandStatus::ESME_RINVOPTPARSTREAM);
    assert_eq!(
        e.response().unwrap().pdu,
        Pdu::DataSmResp(DataSmResp::default())
    );
}

#[test]
fn strict_lengths_give_field_codes_lenient_accepts() {
    let long_id = b"a-system-id-of-25-octets!\0";
    let bytes = pdu(2, 0, 5, &[long_id, b"pw\0", b"\0", &[0x34, 0, 0], b"\0"]);
    let lenient = Frame::decode(bytes.clone()).unwrap();
    let Pdu::BindTransmitter(b) = lenient.pdu else {
        panic!("wrong variant")
    };
    assert_eq!(b.system_id, "a-system-id-of-25-octets!");
    let e = strict_err(bytes);
    assert_eq!(
        e.kind,
        DecodeErrorKind::FieldTooLong {
            field: Field::SystemId,
            max: 16
        }
    );
    assert_eq!(e.status(), CommandStatus::ESME_RINVSYSID);
    assert_eq!(
        e.response().unwrap(),
        Frame::with_status(
            5,
            CommandStatus::ESME_RINVSYSID,
            Pdu::BindTransmitterResp(BindResp::default())
        )
    );
    // 15 characters is the most system_id may have.
    let ok = pdu(
        2,
        0,
        5,
        &[b"123456789012345\0", b"pw\0", b"\0", &[0x34, 0, 0], b"\0"],
    );
    assert!(Frame::decode_with(ok, &DecodeOptions::strict()).is_ok());

    let e = strict_err(pdu(
        9,
        0,
        5,
        &[b"id\0", b"password9\0", b"\0", &[0x34, 0, 0], b"\0"],
    ));
    assert_eq!(e.status(), CommandStatus::ESME_RINVPASWD);
    let e = strict_err(pdu(
        9,
        0,
        5,
        &[b"id\0", b"pw\0", b"system-type-13\0", &[0x34, 0, 0], b"\0"],
    ));
    assert_eq!(e.status(), CommandStatus::ESME_RINVSYSTYP);
}

#[test]
fn strict_time_fields() {
    let mut body = SUBMIT_BODY.to_vec();
    body[6] = b"2401311200\0"; // 10 characters
    assert!(Frame::decode(pdu(4, 0, 3, &body)).is_ok());
    let e = strict_err(pdu(4, 0, 3, &body));
    assert_eq!(
        e.kind,
        DecodeErrorKind::InvalidTime {
            field: Field::ScheduleDeliveryTime,
            len: 10
        }
    );
    assert_eq!(e.status(), CommandStatus::ESME_RINVSCHED);
    let mut body = SUBMIT_BODY.to_vec();
    body[7] = b"12345678901234567890\0";
    let e = strict_err(pdu(4, 0, 3, &body));
    assert_eq!(e.status(), CommandStatus::ESME_RINVEXPIRY);
    let mut body = SUBMIT_BODY.to_vec();
    body[2] = b"123456789012345678901\0";
    assert_eq!(
        strict_err(pdu(4, 0, 3, &body)).status(),
        CommandStatus::ESME_RINVSRCADR
    );
    let mut body = SUBMIT_BODY.to_vec();
    body[0] = b"SERVICE\0";
    assert_eq!(
        strict_err(pdu(4, 0, 3, &body)).status(),
        CommandStatus::ESME_RINVSERTYP
    );
}

#[test]
fn strict_tlv_lengths() {
    let mut body = SUBMIT_BODY.to_vec();
    body.push(&[0x02, 0x0C, 0x00, 0x01, 0x07]); // sar_msg_ref_num must be 2 octets
    assert!(Frame::decode(pdu(4, 0, 3, &body)).is_ok());
    let e = strict_err(pdu(4, 0, 3, &body));
    assert_eq!(
        e.kind,
        DecodeErrorKind::InvalidTlvLength {
            tag: 0x020C,
            len: 1
        }
    );
    assert_eq!(e.status(), CommandStatus::ESME_RINVPARLEN);
}

#[test]
fn trailing_octets_after_tlv_free_bodies() {
    let bytes = pdu(0x15, 0, 3, &[b"xx"]);
    assert_eq!(Frame::decode(bytes.clone()).unwrap().pdu, Pdu::EnquireLink);
    let e = strict_err(bytes);
    assert_eq!(e.kind, DecodeErrorKind::TrailingOctets { len: 2 });
    assert_eq!(
        e.response().unwrap(),
        Frame::with_status(3, CommandStatus::ESME_RINVCMDLEN, Pdu::EnquireLinkResp)
    );
    let bind = pdu(
        2,
        0,
        5,
        &[b"id\0", b"pw\0", b"\0", &[0x34, 0, 0], b"\0", &[0x02, 0x10]],
    );
    assert!(Frame::decode(bind.clone()).is_ok());
    assert_eq!(
        strict_err(bind).kind,
        DecodeErrorKind::TrailingOctets { len: 2 }
    );
}

#[test]
fn missing_final_nul_is_lenient() {
    let bytes = pdu(0x8000_0004, 0, 2, &[b"abc"]);
    let f = Frame::decode(bytes.clone()).unwrap();
    assert_eq!(
        f.pdu,
        Pdu::SubmitSmResp(SubmitSmResp {
            message_id: "abc".into(),
            tlvs: Tlvs::new()
        })
    );
    let e = strict_err(bytes);
    assert_eq!(
        e.kind,
        DecodeErrorKind::MissingNul {
            field: Field::MessageId
        }
    );
    // A response is never answered.
    assert!(e.answer_with_generic_nack());
    assert_eq!(e.response(), None);

    // bind without its final NUL, and an old-style bind without address_range at all.
    let f = Frame::decode(pdu(
        2,
        0,
        1,
        &[b"id\0", b"pw\0", b"\0", &[0x34, 1, 1], b"12"],
    ))
    .unwrap();
    let Pdu::BindTransmitter(b) = f.pdu else {
        panic!("wrong variant")
    };
    assert_eq!(b.address_range, "12");
    let f = Frame::decode(pdu(2, 0, 1, &[b"id\0", b"pw\0", b"\0", &[0x33, 1, 1]])).unwrap();
    let Pdu::BindTransmitter(b) = f.pdu else {
        panic!("wrong variant")
    };
    assert_eq!(b.interface_version, 0x33);
    assert!(b.address_range.is_empty());
    // A missing NUL in a field that is not the last is an error even in lenient mode.
    let e = decode_err(pdu(2, 0, 1, &[b"id-without-nul"]));
    assert_eq!(
        e.kind,
        DecodeErrorKind::MissingNul {
            field: Field::SystemId
        }
    );
}

#[test]
fn error_responses_with_and_without_body() {
    // 16-octet error response.
    let f = Frame::decode(pdu(0x8000_0004, 0x58, 7, &[])).unwrap();
    assert_eq!(f.command_status, CommandStatus::ESME_RTHROTTLED);
    assert_eq!(f.sequence_number, 7);
    assert_eq!(f.pdu, Pdu::SubmitSmResp(SubmitSmResp::default()));
    // Error response with a (valid) body: kept.
    let f = Frame::decode(pdu(0x8000_0004, 0x45, 7, &[b"id9\0"])).unwrap();
    assert_eq!(
        f.pdu,
        Pdu::SubmitSmResp(SubmitSmResp {
            message_id: "id9".into(),
            tlvs: Tlvs::new()
        })
    );
    // Error response with an unparsable body (stray TLV octets): body ignored.
    let f = Frame::decode(pdu(0x8000_0004, 0x45, 7, &[b"\0", &[1, 2]])).unwrap();
    assert_eq!(f.pdu, Pdu::SubmitSmResp(SubmitSmResp::default()));
    // Same in strict mode.
    let f = Frame::decode_with(pdu(0x8000_0002, 0x0E, 1, &[]), &DecodeOptions::strict()).unwrap();
    assert_eq!(f.command_status, CommandStatus::ESME_RINVPASWD);
    assert_eq!(f.pdu, Pdu::BindTransmitterResp(BindResp::default()));
    for id in [
        0x8000_0001,
        0x8000_0009,
        0x8000_0005,
        0x8000_0103,
        0x8000_0006,
        0x8000_0015,
    ] {
        let f = Frame::decode(pdu(id, 0x08, 1, &[b"\x01\x02\x03"])).unwrap();
        assert_eq!(f.command_id(), id);
        assert_eq!(f.command_status, CommandStatus::ESME_RSYSERR);
    }
    // generic_nack carrying a body is still a generic_nack.
    let f = Frame::decode(pdu(0x8000_0000, 0x03, 1, &[b"\0"])).unwrap();
    assert_eq!(f.pdu, Pdu::GenericNack);
}

#[test]
fn ok_response_without_body() {
    let bytes = pdu(0x8000_0004, 0, 2, &[]);
    assert_eq!(
        Frame::decode(bytes.clone()).unwrap().pdu,
        Pdu::SubmitSmResp(SubmitSmResp::default())
    );
    assert_eq!(
        strict_err(bytes).kind,
        DecodeErrorKind::MissingNul {
            field: Field::MessageId
        }
    );
}

#[test]
fn ok_response_with_bad_body_is_an_error_that_is_not_answered() {
    let e = decode_err(pdu(0x8000_0004, 0, 2, &[b"id\0", &[0x00]]));
    assert_eq!(e.kind, DecodeErrorKind::TrailingTlvOctets { len: 1 });
    assert!(e.answer_with_generic_nack());
    assert_eq!(e.response(), None);
}

#[test]
fn decode_options_defaults() {
    assert_eq!(DecodeOptions::default(), DecodeOptions::lenient());
    assert_ne!(DecodeOptions::default(), DecodeOptions::strict());
    let o = DecodeOptions {
        check_tlv_lengths: true,
        ..DecodeOptions::default()
    };
    assert!(o.check_tlv_lengths && !o.enforce_max_lengths);
}

// ---------------------------------------------------------------------------------------------
// The other PDUs: outbind, submit_multi, query/cancel/replace, alert_notification, broadcast

#[test]
fn outbind_vector_and_error() {
    vector(
        &pdu(0x0B, 0, 1, &[b"SMSC\0", b"secret\0"]),
        &Frame::new(
            1,
            Pdu::Outbind(Outbind {
                system_id: "SMSC".into(),
                password: "secret".into(),
            }),
        ),
    );
    assert_eq!(Pdu::Outbind(Outbind::default()).empty_response(), None);
    // No outbind_resp exists: a bad outbind is answered with generic_nack.
    let e = decode_err(pdu(0x0B, 0, 2, &[b"SMSC"]));
    assert_eq!(e.status(), CommandStatus::ESME_RINVCMDLEN);
    assert!(e.answer_with_generic_nack());
    assert_eq!(
        e.response().unwrap(),
        Frame::with_status(2, CommandStatus::ESME_RINVCMDLEN, Pdu::GenericNack)
    );
}

#[test]
fn query_sm_vectors() {
    vector(
        &pdu(0x03, 0, 6, &[b"msg-1\0", &[1, 1], b"447700900000\0"]),
        &Frame::new(
            6,
            Pdu::QuerySm(QuerySm {
                message_id: "msg-1".into(),
                source_addr_ton: 1,
                source_addr_npi: 1,
                source_addr: "447700900000".into(),
            }),
        ),
    );
    vector(
        &pdu(
            0x8000_0003,
            0,
            6,
            &[b"msg-1\0", b"240131120000000+\0", &[2, 0]],
        ),
        &Frame::new(
            6,
            Pdu::QuerySmResp(QuerySmResp {
                message_id: "msg-1".into(),
                final_date: "240131120000000+".into(),
                message_state: 2,
                error_code: 0,
            }),
        ),
    );
    assert_eq!(
        Pdu::QuerySm(QuerySm::default()).empty_response(),
        Some(Pdu::QuerySmResp(QuerySmResp::default()))
    );
    let e = decode_err(pdu(0x03, 0, 6, &[b"msg-1\0", &[1]]));
    assert_eq!(
        e.response().unwrap(),
        Frame::with_status(
            6,
            CommandStatus::ESME_RINVCMDLEN,
            Pdu::QuerySmResp(QuerySmResp::default())
        )
    );
}

#[test]
fn cancel_and_replace_vectors() {
    vector(
        &pdu(
            0x08,
            0,
            7,
            &[b"\0", b"abc\0", &[1, 1], b"111\0", &[1, 1], b"222\0"],
        ),
        &Frame::new(
            7,
            Pdu::CancelSm(CancelSm {
                message_id: "abc".into(),
                source_addr_ton: 1,
                source_addr_npi: 1,
                source_addr: "111".into(),
                dest_addr_ton: 1,
                dest_addr_npi: 1,
                destination_addr: "222".into(),
                ..CancelSm::default()
            }),
        ),
    );
    vector(
        &pdu(0x8000_0008, 0, 7, &[]),
        &Frame::new(7, Pdu::CancelSmResp),
    );
    vector(
        &pdu(
            0x07,
            0,
            8,
            &[
                b"abc\0",
                &[1, 1],
                b"111\0",
                b"\0",
                b"000001000000000R\0",
                &[1, 0, 2],
                b"hi",
            ],
        ),
        &Frame::new(
            8,
            Pdu::ReplaceSm(ReplaceSm {
                message_id: "abc".into(),
                source_addr_ton: 1,
                source_addr_npi: 1,
                source_addr: "111".into(),
                validity_period: "000001000000000R".into(),
                registered_delivery: 1,
                short_message: Bytes::from_static(b"hi"),
                ..ReplaceSm::default()
            }),
        ),
    );
    vector(
        &pdu(0x8000_0007, 0, 8, &[]),
        &Frame::new(8, Pdu::ReplaceSmResp),
    );
    assert_eq!(
        Pdu::CancelSm(CancelSm::default()).empty_response(),
        Some(Pdu::CancelSmResp)
    );
    assert_eq!(
        Pdu::ReplaceSm(ReplaceSm::default()).empty_response(),
        Some(Pdu::ReplaceSmResp)
    );
    let e = decode_err(pdu(
        0x07,
        0,
        8,
        &[b"abc\0", &[1, 1], b"111\0", b"\0", b"\0", &[1, 0, 9], b"hi"],
    ));
    assert_eq!(e.status(), CommandStatus::ESME_RINVMSGLEN);
    assert_eq!(e.response().unwrap().pdu, Pdu::ReplaceSmResp);
}

#[test]
fn submit_multi_vectors() {
    let sm = SubmitMulti {
        source_addr_ton: 5,
        source_addr: "ACME".into(),
        dest_addresses: vec![
            DestAddress::Sme {
                dest_addr_ton: 1,
                dest_addr_npi: 1,
                destination_addr: "111".into(),
            },
            DestAddress::DistributionList("staff".into()),
        ],
        data_coding: 3,
        short_message: Bytes::from_static(b"Hi all"),
        ..SubmitMulti::default()
    };
    let body: &[&[u8]] = &[
        b"\0",
        &[5, 0],
        b"ACME\0",
        &[2],
        &[1, 1, 1],
        b"111\0",
        &[2],
        b"staff\0",
        &[0, 0, 0],
        b"\0",
        b"\0",
        &[0, 0, 3, 0],
        &[6],
        b"Hi all",
    ];
    vector(&pdu(0x21, 0, 9, body), &Frame::new(9, Pdu::SubmitMulti(sm)));

    let resp = SubmitMultiResp {
        message_id: "m9".into(),
        unsuccess_smes: vec![UnsuccessSme {
            dest_addr_ton: 1,
            dest_addr_npi: 1,
            destination_addr: "111".into(),
            error_status_code: CommandStatus::ESME_RINVDSTADR,
        }],
        tlvs: Tlvs::new(),
    };
    vector(
        &pdu(
            0x8000_0021,
            0,
            9,
            &[b"m9\0", &[1], &[1, 1], b"111\0", &[0, 0, 0, 0x0B]],
        ),
        &Frame::new(9, Pdu::SubmitMultiResp(resp)),
    );
    // Some SMSCs end the response after message_id.
    let f = Frame::decode(pdu(0x8000_0021, 0, 9, &[b"m9\0"])).unwrap();
    assert_eq!(
        f.pdu,
        Pdu::SubmitMultiResp(SubmitMultiResp {
            message_id: "m9".into(),
            ..SubmitMultiResp::default()
        })
    );

    // dest_flag 3 does not exist.
    let mut bad = body.to_vec();
    bad[6] = &[3];
    let e = decode_err(pdu(0x21, 0, 9, &bad));
    assert_eq!(
        e.kind,
        DecodeErrorKind::InvalidValue {
            field: Field::DestFlag,
            value: 3
        }
    );
    assert_eq!(
        e.response().unwrap(),
        Frame::with_status(
            9,
            CommandStatus::ESME_RINVDESTFLAG,
            Pdu::SubmitMultiResp(SubmitMultiResp::default())
        )
    );
    // A huge number_of_dests with no data behind it fails cleanly.
    let e = decode_err(pdu(0x21, 0, 9, &[b"\0", &[5, 0], b"ACME\0", &[255]]));
    assert_eq!(
        e.kind,
        DecodeErrorKind::Truncated {
            field: Field::DestFlag
        }
    );
}

#[test]
fn alert_notification_vector() {
    let mut tlvs = Tlvs::new();
    tlvs.push(tags::MS_AVAILABILITY_STATUS, &[0]);
    vector(
        &pdu(
            0x102,
            0,
            10,
            &[
                &[1, 1],
                b"447700900000\0",
                &[0, 0],
                b"esme\0",
                &[0x04, 0x22, 0, 1, 0],
            ],
        ),
        &Frame::new(
            10,
            Pdu::AlertNotification(AlertNotification {
                source_addr_ton: 1,
                source_addr_npi: 1,
                source_addr: "447700900000".into(),
                esme_addr_ton: 0,
                esme_addr_npi: 0,
                esme_addr: "esme".into(),
                tlvs,
            }),
        ),
    );
    assert_eq!(
        Pdu::AlertNotification(AlertNotification::default()).empty_response(),
        None
    );
}

#[test]
fn broadcast_vectors() {
    let mut tlvs = Tlvs::new();
    tlvs.push(tags::BROADCAST_AREA_IDENTIFIER, &[0, b'A']);
    tlvs.push(tags::BROADCAST_CONTENT_TYPE, &[1, 0, 1]);
    tlvs.push(tags::BROADCAST_REP_NUM, &[0, 1]);
    tlvs.push(tags::BROADCAST_FREQUENCY_INTERVAL, &[9, 0, 5]);
    let bsm = BroadcastSm {
        source_addr: "CB".into(),
        priority_flag: 1,
        data_coding: 0,
        tlvs,
        ..BroadcastSm::default()
    };
    let body: &[&[u8]] = &[
        b"\0",
        &[0, 0],
        b"CB\0",
        b"\0",
        &[1],
        b"\0",
        b"\0",
        &[0, 0, 0],
        &[0x06, 0x06, 0, 2, 0, b'A'],
        &[0x06, 0x01, 0, 3, 1, 0, 1],
        &[0x06, 0x04, 0, 2, 0, 1],
        &[0x06, 0x05, 0, 3, 9, 0, 5],
    ];
    vector(
        &pdu(0x111, 0, 11, body),
        &Frame::new(11, Pdu::BroadcastSm(bsm)),
    );
    // Without its mandatory TLVs: lenient accepts, strict answers ESME_RMISSINGOPTPARAM.
    let bare = pdu(0x111, 0, 11, &body[..8]);
    assert!(Frame::decode(bare.clone()).is_ok());
    let e = strict_err(bare);
    assert_eq!(e.kind, DecodeErrorKind::MissingTlv { tag: 0x0606 });
    assert_eq!(
        e.response().unwrap(),
        Frame::with_status(
            11,
            CommandStatus::ESME_RMISSINGOPTPARAM,
            Pdu::BroadcastSmResp(BroadcastSmResp::default())
        )
    );

    vector(
        &pdu(0x8000_0111, 0, 11, &[b"b1\0"]),
        &Frame::new(
            11,
            Pdu::BroadcastSmResp(BroadcastSmResp {
                message_id: "b1".into(),
                tlvs: Tlvs::new(),
            }),
        ),
    );
    vector(
        &pdu(0x112, 0, 12, &[b"b1\0", &[0, 0], b"CB\0"]),
        &Frame::new(
            12,
            Pdu::QueryBroadcastSm(QueryBroadcastSm {
                message_id: "b1".into(),
                source_addr: "CB".into(),
                ..QueryBroadcastSm::default()
            }),
        ),
    );
    let mut tlvs = Tlvs::new();
    tlvs.push(tags::MESSAGE_STATE, &[1]);
    vector(
        &pdu(0x8000_0112, 0, 12, &[b"b1\0", &[0x04, 0x27, 0, 1, 1]]),
        &Frame::new(
            12,
            Pdu::QueryBroadcastSmResp(QueryBroadcastSmResp {
                message_id: "b1".into(),
                tlvs,
            }),
        ),
    );
    vector(
        &pdu(0x113, 0, 13, &[b"\0", b"b1\0", &[0, 0], b"CB\0"]),
        &Frame::new(
            13,
            Pdu::CancelBroadcastSm(CancelBroadcastSm {
                message_id: "b1".into(),
                source_addr: "CB".into(),
                ..CancelBroadcastSm::default()
            }),
        ),
    );
    vector(
        &pdu(0x8000_0113, 0, 13, &[]),
        &Frame::new(13, Pdu::CancelBroadcastSmResp),
    );
}

#[test]
fn every_known_request_has_the_right_response() {
    use crate::command::{command_name, response_id};
    for id in 0u32..0x200 {
        let Some(name) = command_name(id) else {
            continue;
        };
        match response_id(id) {
            Some(resp) => {
                let empty = Pdu::empty_for_id(resp).unwrap_or_else(|| panic!("{name}"));
                assert_eq!(empty.command_id(), resp);
                assert_eq!(empty.name(), format!("{name}_resp"));
            }
            None => assert!(id == 0x0B || id == 0x102, "{name}"),
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Leniency per bind (issue 3 §4): each deviation passes lenient and fails strict with its status.

#[test]
fn long_system_id_and_password_lenient_strict() {
    let body: &[&[u8]] = &[
        b"a_system_id_of_22_char\0",
        b"password_12\0",
        b"\0",
        &[0x34, 0, 0],
        b"\0",
    ];
    let f = Frame::decode(pdu(9, 0, 1, body)).unwrap();
    let Pdu::BindTransceiver(b) = f.pdu else {
        panic!("wrong variant")
    };
    assert_eq!(b.system_id, "a_system_id_of_22_char");
    assert_eq!(b.password, "password_12");
    let e = strict_err(pdu(9, 0, 1, body));
    assert_eq!(e.status(), CommandStatus::ESME_RINVSYSID);
    assert_eq!(
        e.response().unwrap(),
        Frame::with_status(
            1,
            CommandStatus::ESME_RINVSYSID,
            Pdu::BindTransceiverResp(BindResp::default())
        )
    );
    let body: &[&[u8]] = &[b"id\0", b"password_12\0", b"\0", &[0x34, 0, 0], b"\0"];
    assert_eq!(
        strict_err(pdu(2, 0, 1, body)).status(),
        CommandStatus::ESME_RINVPASWD
    );
}

#[test]
fn sequence_numbers_beyond_the_spec_range() {
    // A peer that wraps at 2^32: lenient echoes the number, strict reports it.
    for seq in [0x8000_0000u32, 0xFFFF_FFFF] {
        let bytes = pdu(0x15, 0, seq, &[]);
        assert_eq!(Frame::decode(bytes.clone()).unwrap().sequence_number, seq);
        let e = strict_err(bytes);
        assert_eq!(
            e.kind,
            DecodeErrorKind::InvalidSequenceNumber {
                sequence_number: seq
            }
        );
        assert_eq!(e.status(), CommandStatus::ESME_RSYSERR);
        assert_eq!(
            e.response().unwrap(),
            Frame::with_status(seq, CommandStatus::ESME_RSYSERR, Pdu::EnquireLinkResp)
        );
    }
    // 0 only in a generic_nack; the top of the range is fine.
    assert!(strict_err(pdu(0x15, 0, 0, &[])).status() == CommandStatus::ESME_RSYSERR);
    assert!(Frame::decode_with(pdu(0x8000_0000, 2, 0, &[]), &DecodeOptions::strict()).is_ok());
    assert!(Frame::decode_with(
        pdu(0x15, 0, MAX_SEQUENCE_NUMBER, &[]),
        &DecodeOptions::strict()
    )
    .is_ok());
}

#[test]
fn newer_sc_interface_version_lenient_strict() {
    let body: &[&[u8]] = &[b"SMSC\0", &[0x02, 0x10, 0x00, 0x01, 0x50]];
    let bytes = pdu(0x8000_0009, 0, 1, body);
    let f = Frame::decode(bytes.clone()).unwrap();
    let Pdu::BindTransceiverResp(r) = f.pdu else {
        panic!("wrong variant")
    };
    assert_eq!(r.tlvs.sc_interface_version(), Some(0x50));
    let e = strict_err(bytes.clone());
    assert_eq!(
        e.kind,
        DecodeErrorKind::InvalidTlvValue {
            tag: tags::SC_INTERFACE_VERSION,
            value: 0x50
        }
    );
    assert_eq!(e.status(), CommandStatus::ESME_RINVOPTPARAMVAL);
    assert_eq!(e.response(), None, "a response is never answered");
    // Strict, but we bound as v5.0: fine.
    let v5 = DecodeOptions::strict().with_interface_version(0x50);
    assert!(Frame::decode_with(bytes, &v5).is_ok());
    // An error bind_resp is not checked.
    let err_resp = pdu(0x8000_0009, 0x0D, 1, body);
    assert!(Frame::decode_with(err_resp, &DecodeOptions::strict()).is_ok());
}

#[test]
fn enquire_link_before_bind_is_a_session_decision() {
    let lenient = DecodeOptions::lenient();
    let strict = DecodeOptions::strict();
    assert!(lenient.allowed_before_bind(crate::command::command_id::ENQUIRE_LINK));
    assert!(!strict.allowed_before_bind(crate::command::command_id::ENQUIRE_LINK));
    assert!(!strict.allowed_before_bind(crate::command::command_id::ENQUIRE_LINK_RESP));
    for id in [1u32, 2, 9, 0xB, 0x8000_0000, 0x8000_0009] {
        assert!(strict.allowed_before_bind(id), "{id:#x}");
    }
    for id in [4u32, 5, 0x103, 6] {
        assert!(!lenient.allowed_before_bind(id), "{id:#x}");
    }
    assert_eq!(DecodeOptions::for_mode(true), strict);
    assert_eq!(DecodeOptions::for_mode(false), lenient);
}

#[test]
fn alphanumeric_sender_with_at_sign_keeps_its_c_string() {
    // '@' is septet 0x00 in GSM 03.38: a C-Octet String is never GSM-encoded, so "Info@Home"
    // travels as 0x40 and its NUL is the real end of the field (issue 3 §6).
    let sm = SubmitSm {
        source_addr_ton: 5,
        source_addr: "Info@Home".into(),
        destination_addr: "447700900123".into(),
        ..SubmitSm::default()
    };
    let bytes = Frame::new(1, Pdu::SubmitSm(sm.clone())).to_bytes();
    let body = &bytes[16..];
    assert_eq!(&body[3..13], b"Info@Home\0");
    let Pdu::SubmitSm(back) = Frame::decode(bytes).unwrap().pdu else {
        panic!("submit_sm")
    };
    assert_eq!(back.source_addr, "Info@Home");
    assert_eq!(back.destination_addr, "447700900123");
}
