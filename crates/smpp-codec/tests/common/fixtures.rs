//! The PDUs of the benchmarks and of the cross-implementation tests (issue 3 §11–12), built with
//! our encoder; the tests check that `rusmpp` and `smpp34` decode each of them to the same values
//! and re-encode the same bytes, so every implementation is measured on identical input.

use bytes::Bytes;
use smpp_codec::pdu::{Bind, DataSm, Frame, Pdu, SubmitSm};
use smpp_codec::text;
use smpp_codec::tlv::{tags, Tlvs};

/// 160 GSM 03.38 characters, one full SMS.
pub(crate) const TEXT_160: &str = "The quick brown fox jumps over the lazy dog; 0123456789 @ SMPP gateway benchmark text that fills exactly one hundred and sixty GSM characters of a single SMS!!!";

/// Receipt text of the deliver_sm fixture (SMPP 3.4 Appendix B).
pub(crate) const RECEIPT_TEXT: &str = "id:1234567890 sub:001 dlvrd:001 submit date:2401311200 done date:2401311201 stat:DELIVRD err:000 text:The quick brown fox";

/// `submit_sm` with 160 GSM characters (unpacked, data_coding 0), receipt requested.
pub(crate) fn submit_sm() -> Frame {
    let sm = text::encode(0, TEXT_160).expect("GSM text");
    assert_eq!(sm.len(), 160);
    Frame::new(
        1,
        Pdu::SubmitSm(SubmitSm {
            service_type: "".into(),
            source_addr_ton: 5,
            source_addr_npi: 0,
            source_addr: "ACMEBANK".into(),
            dest_addr_ton: 1,
            dest_addr_npi: 1,
            destination_addr: "447700900123".into(),
            registered_delivery: 1,
            short_message: Bytes::from(sm),
            ..SubmitSm::default()
        }),
    )
}

/// `deliver_sm` carrying a delivery receipt: text plus `receipted_message_id` and
/// `message_state` TLVs.
pub(crate) fn deliver_sm_receipt() -> Frame {
    let mut tlvs = Tlvs::new();
    tlvs.push(tags::RECEIPTED_MESSAGE_ID, b"1234567890\0");
    tlvs.push(tags::MESSAGE_STATE, &[2]);
    Frame::new(
        2,
        Pdu::DeliverSm(SubmitSm {
            source_addr_ton: 1,
            source_addr_npi: 1,
            source_addr: "447700900123".into(),
            dest_addr_ton: 5,
            dest_addr_npi: 0,
            destination_addr: "ACMEBANK".into(),
            esm_class: 0x04,
            short_message: Bytes::from_static(RECEIPT_TEXT.as_bytes()),
            tlvs,
            ..SubmitSm::default()
        }),
    )
}

/// `data_sm` with TLVs: `message_payload`, `source_port`, `destination_port`,
/// `user_message_reference`, `more_messages_to_send`.
pub(crate) fn data_sm() -> Frame {
    let mut tlvs = Tlvs::new();
    tlvs.push(tags::SOURCE_PORT, &[0x23, 0xF0]);
    tlvs.push(tags::DESTINATION_PORT, &[0x0B, 0x84]);
    tlvs.push(tags::USER_MESSAGE_REFERENCE, &[0x00, 0x2A]);
    tlvs.push(tags::MORE_MESSAGES_TO_SEND, &[0]);
    tlvs.push(
        tags::MESSAGE_PAYLOAD,
        b"A data_sm payload of a few dozen octets for the benchmark.",
    );
    Frame::new(
        3,
        Pdu::DataSm(DataSm {
            service_type: "WAP".into(),
            source_addr_ton: 1,
            source_addr_npi: 1,
            source_addr: "447700900123".into(),
            dest_addr_ton: 1,
            dest_addr_npi: 1,
            destination_addr: "447700900456".into(),
            esm_class: 0,
            registered_delivery: 1,
            data_coding: 4,
            tlvs,
        }),
    )
}

/// `bind_transceiver` (v3.4).
pub(crate) fn bind_transceiver() -> Frame {
    Frame::new(
        4,
        Pdu::BindTransceiver(Bind {
            system_id: "smppclient1".into(),
            password: "password".into(),
            system_type: "VMA".into(),
            interface_version: 0x34,
            addr_ton: 1,
            addr_npi: 1,
            address_range: "".into(),
        }),
    )
}

/// `enquire_link`.
pub(crate) fn enquire_link() -> Frame {
    Frame::new(5, Pdu::EnquireLink)
}

/// Every fixture with its benchmark name.
pub(crate) fn all() -> Vec<(&'static str, Frame)> {
    vec![
        ("submit_sm_160_gsm", submit_sm()),
        ("deliver_sm_receipt", deliver_sm_receipt()),
        ("data_sm_tlvs", data_sm()),
        ("bind_transceiver", bind_transceiver()),
        ("enquire_link", enquire_link()),
    ]
}
