//! Property tests over the public API: `Frame::decode(encode(f)) == f` for arbitrary field values,
//! and no panic on arbitrary or mutated input.

use bytes::{Bytes, BytesMut};
use proptest::prelude::*;
use smpp_codec::codec::SmppCodec;
use smpp_codec::pdu::{
    AlertNotification, Bind, BindResp, BroadcastSm, BroadcastSmResp, CancelBroadcastSm, CancelSm,
    DataSm, DecodeOptions, DeliverSmResp, DestAddress, Frame, Outbind, Pdu, QueryBroadcastSm,
    QueryBroadcastSmResp, QuerySm, QuerySmResp, ReplaceSm, SubmitMulti, SubmitMultiResp, SubmitSm,
    SubmitSmResp, UnsuccessSme,
};
use smpp_codec::status::CommandStatus;
use smpp_codec::text;
use smpp_codec::tlv::Tlvs;
use smpp_codec::types::COctetString;
use tokio_util::codec::Decoder;

/// A C-Octet String of at most `max - 1` octets, none of them NUL (spec maximum `max` with NUL).
fn cstr(max: usize) -> impl Strategy<Value = COctetString> {
    proptest::collection::vec(1u8..=255, 0..max).prop_map(COctetString::from)
}

/// Empty or 16 characters, as the time fields allow.
fn time() -> impl Strategy<Value = COctetString> {
    prop_oneof![
        Just(COctetString::default()),
        proptest::collection::vec(1u8..=255, 16).prop_map(COctetString::from),
    ]
}

fn tlvs() -> impl Strategy<Value = Tlvs> {
    proptest::collection::vec(
        (any::<u16>(), proptest::collection::vec(any::<u8>(), 0..40)),
        0..5,
    )
    .prop_map(|list| {
        let mut t = Tlvs::new();
        for (tag, value) in list {
            t.push(tag, &value);
        }
        t
    })
}

prop_compose! {
    fn submit_sm()(
        service_type in cstr(6),
        source in (any::<u8>(), any::<u8>(), cstr(21)),
        dest in (any::<u8>(), any::<u8>(), cstr(21)),
        flags in (any::<u8>(), any::<u8>(), any::<u8>()),
        schedule_delivery_time in time(),
        validity_period in time(),
        more in (any::<u8>(), any::<u8>(), any::<u8>(), any::<u8>()),
        short_message in proptest::collection::vec(any::<u8>(), 0..=255),
        tlvs in tlvs(),
    ) -> SubmitSm {
        SubmitSm {
            service_type,
            source_addr_ton: source.0,
            source_addr_npi: source.1,
            source_addr: source.2,
            dest_addr_ton: dest.0,
            dest_addr_npi: dest.1,
            destination_addr: dest.2,
            esm_class: flags.0,
            protocol_id: flags.1,
            priority_flag: flags.2,
            schedule_delivery_time,
            validity_period,
            registered_delivery: more.0,
            replace_if_present_flag: more.1,
            data_coding: more.2,
            sm_default_msg_id: more.3,
            short_message: Bytes::from(short_message),
            tlvs,
        }
    }
}

prop_compose! {
    fn data_sm()(
        service_type in cstr(6),
        source in (any::<u8>(), any::<u8>(), cstr(65)),
        dest in (any::<u8>(), any::<u8>(), cstr(65)),
        flags in (any::<u8>(), any::<u8>(), any::<u8>()),
        tlvs in tlvs(),
    ) -> DataSm {
        DataSm {
            service_type,
            source_addr_ton: source.0,
            source_addr_npi: source.1,
            source_addr: source.2,
            dest_addr_ton: dest.0,
            dest_addr_npi: dest.1,
            destination_addr: dest.2,
            esm_class: flags.0,
            registered_delivery: flags.1,
            data_coding: flags.2,
            tlvs,
        }
    }
}

prop_compose! {
    fn bind()(
        system_id in cstr(16),
        password in cstr(9),
        system_type in cstr(13),
        nums in (any::<u8>(), any::<u8>(), any::<u8>()),
        address_range in cstr(41),
    ) -> Bind {
        Bind {
            system_id,
            password,
            system_type,
            interface_version: nums.0,
            addr_ton: nums.1,
            addr_npi: nums.2,
            address_range,
        }
    }
}

fn dest_address() -> impl Strategy<Value = DestAddress> {
    prop_oneof![
        (any::<u8>(), any::<u8>(), cstr(21)).prop_map(|(ton, npi, addr)| DestAddress::Sme {
            dest_addr_ton: ton,
            dest_addr_npi: npi,
            destination_addr: addr,
        }),
        cstr(21).prop_map(DestAddress::DistributionList),
    ]
}

fn submit_multi() -> impl Strategy<Value = SubmitMulti> {
    (
        submit_sm(),
        proptest::collection::vec(dest_address(), 0..10),
    )
        .prop_map(|(sm, dests)| SubmitMulti {
            service_type: sm.service_type,
            source_addr_ton: sm.source_addr_ton,
            source_addr_npi: sm.source_addr_npi,
            source_addr: sm.source_addr,
            dest_addresses: dests,
            esm_class: sm.esm_class,
            protocol_id: sm.protocol_id,
            priority_flag: sm.priority_flag,
            schedule_delivery_time: sm.schedule_delivery_time,
            validity_period: sm.validity_period,
            registered_delivery: sm.registered_delivery,
            replace_if_present_flag: sm.replace_if_present_flag,
            data_coding: sm.data_coding,
            sm_default_msg_id: sm.sm_default_msg_id,
            short_message: sm.short_message,
            tlvs: sm.tlvs,
        })
}

fn resp_body() -> impl Strategy<Value = SubmitSmResp> {
    (cstr(65), tlvs()).prop_map(|(message_id, tlvs)| SubmitSmResp { message_id, tlvs })
}

fn bind_resp() -> impl Strategy<Value = BindResp> {
    (cstr(16), tlvs()).prop_map(|(system_id, tlvs)| BindResp { system_id, tlvs })
}

fn submit_multi_resp() -> impl Strategy<Value = SubmitMultiResp> {
    (
        cstr(65),
        proptest::collection::vec((any::<u8>(), any::<u8>(), cstr(21), any::<u32>()), 0..6),
        tlvs(),
    )
        .prop_map(|(message_id, list, tlvs)| SubmitMultiResp {
            message_id,
            unsuccess_smes: list
                .into_iter()
                .map(|(ton, npi, addr, code)| UnsuccessSme {
                    dest_addr_ton: ton,
                    dest_addr_npi: npi,
                    destination_addr: addr,
                    error_status_code: CommandStatus(code),
                })
                .collect(),
            tlvs,
        })
}

fn ops() -> impl Strategy<Value = Pdu> {
    prop_oneof![
        (cstr(65), any::<u8>(), any::<u8>(), cstr(21)).prop_map(|(message_id, ton, npi, addr)| {
            Pdu::QuerySm(QuerySm {
                message_id,
                source_addr_ton: ton,
                source_addr_npi: npi,
                source_addr: addr,
            })
        }),
        (cstr(65), time(), any::<u8>(), any::<u8>()).prop_map(
            |(message_id, final_date, st, ec)| {
                Pdu::QuerySmResp(QuerySmResp {
                    message_id,
                    final_date,
                    message_state: st,
                    error_code: ec,
                })
            }
        ),
        (cstr(6), cstr(65), submit_sm()).prop_map(|(service_type, message_id, sm)| {
            Pdu::CancelSm(CancelSm {
                service_type,
                message_id,
                source_addr_ton: sm.source_addr_ton,
                source_addr_npi: sm.source_addr_npi,
                source_addr: sm.source_addr,
                dest_addr_ton: sm.dest_addr_ton,
                dest_addr_npi: sm.dest_addr_npi,
                destination_addr: sm.destination_addr,
            })
        }),
        (cstr(65), submit_sm()).prop_map(|(message_id, sm)| {
            Pdu::ReplaceSm(ReplaceSm {
                message_id,
                source_addr_ton: sm.source_addr_ton,
                source_addr_npi: sm.source_addr_npi,
                source_addr: sm.source_addr,
                schedule_delivery_time: sm.schedule_delivery_time,
                validity_period: sm.validity_period,
                registered_delivery: sm.registered_delivery,
                sm_default_msg_id: sm.sm_default_msg_id,
                short_message: sm.short_message,
                tlvs: sm.tlvs,
            })
        }),
        (data_sm(), cstr(65), cstr(65)).prop_map(|(d, src, esme)| {
            Pdu::AlertNotification(AlertNotification {
                source_addr_ton: d.source_addr_ton,
                source_addr_npi: d.source_addr_npi,
                source_addr: src,
                esme_addr_ton: d.dest_addr_ton,
                esme_addr_npi: d.dest_addr_npi,
                esme_addr: esme,
                tlvs: d.tlvs,
            })
        }),
        (cstr(16), cstr(9)).prop_map(|(system_id, password)| Pdu::Outbind(Outbind {
            system_id,
            password
        })),
    ]
}

fn broadcast() -> impl Strategy<Value = Pdu> {
    prop_oneof![
        (submit_sm(), cstr(65)).prop_map(|(sm, message_id)| Pdu::BroadcastSm(BroadcastSm {
            service_type: sm.service_type,
            source_addr_ton: sm.source_addr_ton,
            source_addr_npi: sm.source_addr_npi,
            source_addr: sm.source_addr,
            message_id,
            priority_flag: sm.priority_flag,
            schedule_delivery_time: sm.schedule_delivery_time,
            validity_period: sm.validity_period,
            replace_if_present_flag: sm.replace_if_present_flag,
            data_coding: sm.data_coding,
            sm_default_msg_id: sm.sm_default_msg_id,
            tlvs: sm.tlvs,
        })),
        (cstr(65), tlvs()).prop_map(|(message_id, tlvs)| Pdu::BroadcastSmResp(BroadcastSmResp {
            message_id,
            tlvs
        })),
        (cstr(65), tlvs()).prop_map(|(message_id, tlvs)| Pdu::QueryBroadcastSmResp(
            QueryBroadcastSmResp { message_id, tlvs }
        )),
        (cstr(65), any::<u8>(), any::<u8>(), cstr(21), tlvs()).prop_map(
            |(message_id, ton, npi, addr, tlvs)| Pdu::QueryBroadcastSm(QueryBroadcastSm {
                message_id,
                source_addr_ton: ton,
                source_addr_npi: npi,
                source_addr: addr,
                tlvs,
            })
        ),
        (
            cstr(6),
            cstr(65),
            any::<u8>(),
            any::<u8>(),
            cstr(21),
            tlvs()
        )
            .prop_map(|(service_type, message_id, ton, npi, addr, tlvs)| {
                Pdu::CancelBroadcastSm(CancelBroadcastSm {
                    service_type,
                    message_id,
                    source_addr_ton: ton,
                    source_addr_npi: npi,
                    source_addr: addr,
                    tlvs,
                })
            }),
    ]
}

/// Every PDU type of [`Pdu`], with arbitrary field values within the spec maxima.
fn pdu() -> impl Strategy<Value = Pdu> {
    prop_oneof![
        submit_sm().prop_map(Pdu::SubmitSm),
        submit_sm().prop_map(Pdu::DeliverSm),
        data_sm().prop_map(Pdu::DataSm),
        bind().prop_map(Pdu::BindTransmitter),
        bind().prop_map(Pdu::BindReceiver),
        bind().prop_map(Pdu::BindTransceiver),
        bind_resp().prop_map(Pdu::BindTransmitterResp),
        bind_resp().prop_map(Pdu::BindReceiverResp),
        bind_resp().prop_map(Pdu::BindTransceiverResp),
        resp_body().prop_map(Pdu::SubmitSmResp),
        resp_body().prop_map(Pdu::DataSmResp),
        cstr(65).prop_map(|message_id| Pdu::DeliverSmResp(DeliverSmResp { message_id })),
        submit_multi().prop_map(Pdu::SubmitMulti),
        submit_multi_resp().prop_map(Pdu::SubmitMultiResp),
        ops(),
        broadcast(),
        prop::sample::select(vec![
            Pdu::EnquireLink,
            Pdu::EnquireLinkResp,
            Pdu::Unbind,
            Pdu::UnbindResp,
            Pdu::GenericNack,
            Pdu::CancelSmResp,
            Pdu::ReplaceSmResp,
            Pdu::CancelBroadcastSmResp,
        ]),
    ]
}

fn assert_round_trip(frame: &Frame) -> Result<(), TestCaseError> {
    let bytes = frame.to_bytes();
    prop_assert_eq!(bytes.len(), frame.encoded_len());
    prop_assert_eq!(&Frame::decode(bytes.clone()).unwrap(), frame);
    // Values within the spec maxima also pass every strict check except TLV lengths
    // (the TLVs here are arbitrary, so they may break a known tag's length).
    let mut strict = DecodeOptions::strict();
    strict.check_tlv_lengths = false;
    strict.reject_sequence_number_out_of_range = false;
    strict.reject_newer_sc_interface_version = false;
    prop_assert_eq!(&Frame::decode_with(bytes, &strict).unwrap(), frame);
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    /// decode(encode(pdu)) == pdu for every PDU type, any status and sequence number.
    #[test]
    fn every_pdu_round_trips(p in pdu(), seq in any::<u32>(), status in prop_oneof![Just(0u32), any::<u32>()]) {
        let frame = Frame::with_status(seq, CommandStatus(status), p);
        let bytes = frame.to_bytes();
        prop_assert_eq!(bytes.len(), frame.encoded_len());
        prop_assert_eq!(&Frame::decode(bytes).unwrap(), &frame);
    }

    #[test]
    fn submit_sm_round_trips(sm in submit_sm(), seq in 1u32..=0x7FFF_FFFF) {
        assert_round_trip(&Frame::new(seq, Pdu::SubmitSm(sm)))?;
    }

    #[test]
    fn deliver_sm_round_trips(sm in submit_sm(), seq in any::<u32>()) {
        assert_round_trip(&Frame::new(seq, Pdu::DeliverSm(sm)))?;
    }

    #[test]
    fn data_sm_round_trips(d in data_sm(), seq in any::<u32>()) {
        assert_round_trip(&Frame::new(seq, Pdu::DataSm(d)))?;
    }

    #[test]
    fn bind_round_trips(b in bind(), seq in any::<u32>()) {
        assert_round_trip(&Frame::new(seq, Pdu::BindTransmitter(b.clone())))?;
        assert_round_trip(&Frame::new(seq, Pdu::BindReceiver(b.clone())))?;
        assert_round_trip(&Frame::new(seq, Pdu::BindTransceiver(b)))?;
    }

    #[test]
    fn submit_multi_round_trips(m in submit_multi(), seq in any::<u32>()) {
        assert_round_trip(&Frame::new(seq, Pdu::SubmitMulti(m)))?;
    }

    /// Several frames concatenated and fed in arbitrary chunk sizes come out of the codec intact.
    #[test]
    fn codec_reassembles_any_chunking(
        pdus in proptest::collection::vec((pdu(), any::<u32>()), 1..6),
        chunk in 1usize..64,
    ) {
        let frames: Vec<Frame> = pdus.into_iter().map(|(p, s)| Frame::new(s, p)).collect();
        let mut wire = BytesMut::new();
        for f in &frames {
            f.encode(&mut wire);
        }
        let mut codec = SmppCodec::default();
        let mut buf = BytesMut::new();
        let mut out = Vec::new();
        for piece in wire.chunks(chunk) {
            buf.extend_from_slice(piece);
            while let Some(item) = codec.decode(&mut buf).unwrap() {
                out.push(item.unwrap());
            }
        }
        prop_assert!(buf.is_empty());
        prop_assert_eq!(out, frames);
    }

    /// Arbitrary octets never panic the decoder, and whatever decodes re-encodes to something
    /// that decodes to the same frame.
    #[test]
    fn arbitrary_input_never_panics(data in proptest::collection::vec(any::<u8>(), 0..300)) {
        let _ = Frame::decode(Bytes::from(data.clone()));
        let _ = Frame::decode_with(Bytes::from(data.clone()), &DecodeOptions::strict());
        let mut codec = SmppCodec::new(400);
        let mut buf = BytesMut::from(&data[..]);
        while let Ok(Some(_)) = codec.decode(&mut buf) {}
    }

    /// A valid header with a known command id and a random body: never panics; when it decodes,
    /// the re-encoding decodes to the same frame.
    #[test]
    fn random_bodies_for_known_commands(
        id in prop::sample::select(vec![
            0x1u32, 0x2, 0x9, 0x4, 0x5, 0x6, 0x15, 0x103,
            0x8000_0000, 0x8000_0001, 0x8000_0002, 0x8000_0009, 0x8000_0004,
            0x8000_0005, 0x8000_0006, 0x8000_0015, 0x8000_0103,
            0x3, 0x7, 0x8, 0xB, 0x21, 0x102, 0x111, 0x112, 0x113,
            0x8000_0003, 0x8000_0007, 0x8000_0008, 0x8000_0021, 0x8000_0111, 0x8000_0112,
            0x8000_0113, 0x77, 0x8000_0077,
        ]),
        status in prop_oneof![Just(0u32), any::<u32>()],
        seq in any::<u32>(),
        body in proptest::collection::vec(prop_oneof![3 => Just(0u8), 7 => any::<u8>()], 0..200),
    ) {
        let mut v = Vec::with_capacity(16 + body.len());
        v.extend_from_slice(&((16 + body.len()) as u32).to_be_bytes());
        v.extend_from_slice(&id.to_be_bytes());
        v.extend_from_slice(&status.to_be_bytes());
        v.extend_from_slice(&seq.to_be_bytes());
        v.extend_from_slice(&body);
        for opts in [DecodeOptions::default(), DecodeOptions::strict()] {
            match Frame::decode_with(Bytes::from(v.clone()), &opts) {
                Ok(frame) => {
                    prop_assert_eq!(frame.sequence_number, seq);
                    prop_assert_eq!(frame.command_status, CommandStatus(status));
                    prop_assert_eq!(frame.command_id(), id);
                    let again = Frame::decode(frame.to_bytes()).unwrap();
                    prop_assert_eq!(again, frame);
                }
                Err(e) => {
                    prop_assert_eq!(e.sequence_number, seq);
                    prop_assert_eq!(e.command_id, id);
                    if let Some(resp) = e.response() {
                        prop_assert!(id & 0x8000_0000 == 0, "answered a response");
                        prop_assert_eq!(resp.sequence_number, seq);
                        prop_assert_eq!(resp.command_status, e.status());
                        prop_assert!(!resp.command_status.is_ok());
                    }
                }
            }
        }
    }

    /// Every truncation of a valid PDU (with command_length fixed up) decodes or fails cleanly.
    #[test]
    fn truncations_fail_cleanly(sm in submit_sm(), cut in any::<prop::sample::Index>()) {
        let bytes = Frame::new(1, Pdu::SubmitSm(sm)).to_bytes();
        let n = 16 + cut.index(bytes.len() - 16 + 1);
        let mut v = bytes[..n].to_vec();
        v[..4].copy_from_slice(&(n as u32).to_be_bytes());
        let _ = Frame::decode(Bytes::from(v));
    }

    /// Text: every GSM-encodable string round trips through data_coding 0, and any string through
    /// UCS-2.
    #[test]
    fn text_round_trips(s in "\\PC{0,40}") {
        let ucs2 = text::encode(8, &s).unwrap();
        prop_assert_eq!(text::decode(8, &ucs2).unwrap(), s.clone());
        let (dc, bytes) = text::choose(&s);
        prop_assert_eq!(text::decode(dc, &bytes).unwrap(), s.clone());
        if let Ok(gsm) = text::gsm7::encode_unpacked(&s) {
            prop_assert_eq!(dc, 0);
            prop_assert_eq!(Some(gsm.len()), text::gsm7::septet_len(&s));
            let packed = text::gsm7::pack(&gsm);
            prop_assert_eq!(text::gsm7::unpack(&packed, gsm.len()), gsm);
        } else {
            prop_assert_eq!(dc, 8);
        }
    }

    /// The receipt parser never panics and always finds the id it was given.
    #[test]
    fn receipt_parse_is_total(s in "\\PC{0,80}", id in "[0-9A-Fa-f]{1,20}") {
        let _ = smpp_codec::receipt::DeliveryReceipt::parse(&s);
        let text = format!("id:{id} {s}");
        let r = smpp_codec::receipt::DeliveryReceipt::parse(&text);
        prop_assert!(r.is_some());
    }

    /// UDH helpers never panic.
    #[test]
    fn udh_is_total(data in proptest::collection::vec(any::<u8>(), 0..40)) {
        let _ = smpp_codec::udh::concat_info(&data);
        if let Some(n) = smpp_codec::udh::udh_len(&data) {
            prop_assert!(n <= data.len());
        }
    }
}
