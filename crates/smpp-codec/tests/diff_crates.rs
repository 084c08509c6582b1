//! Differential tests against the Rust SMPP crates `rusmpp` (owned and borrowed decoders of
//! `rusmpp-core`) and `smpp34` (issue 3 §11): the same bytes decode to the same field values in
//! every implementation, and each re-encodes exactly the bytes it was given.

mod common;

use bytes::BytesMut;
use common::fixtures;
use smpp_codec::pdu::{Frame, Pdu};

use rusmpp::decode::DecodeWithLength as _;
use rusmpp::encode::{Encode as _, Length as _};

/// rusmpp (owned): decode the PDU after its 4-octet command_length, as its codec does.
fn rusmpp_decode(bytes: &[u8]) -> rusmpp::Command {
    let mut buf = BytesMut::from(&bytes[4..]);
    let (cmd, size) = rusmpp::Command::decode(&mut buf, bytes.len() - 4).expect("rusmpp decodes");
    assert_eq!(size, bytes.len() - 4);
    cmd
}

fn rusmpp_encode(cmd: &rusmpp::Command) -> Vec<u8> {
    let len = cmd.length();
    let mut out = vec![0u8; 4 + len];
    out[..4].copy_from_slice(&((4 + len) as u32).to_be_bytes());
    let n = cmd.encode(&mut out[4..]);
    assert_eq!(n, len);
    out
}

#[test]
fn rusmpp_reads_and_writes_the_same_bytes() {
    for (name, frame) in fixtures::all() {
        let bytes = frame.to_bytes();
        let cmd = rusmpp_decode(&bytes);
        assert_eq!(cmd.sequence_number, frame.sequence_number, "{name}");
        assert_eq!(u32::from(cmd.id()), frame.command_id(), "{name}");
        assert_eq!(
            rusmpp_encode(&cmd),
            bytes.to_vec(),
            "{name}: rusmpp re-encodes the same bytes"
        );
        // And what rusmpp writes, we read back to the same frame.
        assert_eq!(
            Frame::decode(rusmpp_encode(&cmd).into()).unwrap(),
            frame,
            "{name}"
        );
    }
}

#[test]
fn rusmpp_field_values() {
    use rusmpp::Pdu as R;
    let f = fixtures::submit_sm();
    let Pdu::SubmitSm(ours) = &f.pdu else {
        unreachable!()
    };
    let Some(R::SubmitSm(theirs)) = rusmpp_decode(&f.to_bytes()).pdu().cloned() else {
        panic!("rusmpp: not a submit_sm")
    };
    assert_eq!(
        theirs.source_addr.as_str().as_bytes(),
        ours.source_addr.as_bytes(),
        "source_addr"
    );
    assert_eq!(u8::from(theirs.source_addr_ton), ours.source_addr_ton);
    assert_eq!(
        theirs.destination_addr.as_str().as_bytes(),
        ours.destination_addr.as_bytes()
    );
    assert_eq!(u8::from(theirs.dest_addr_npi), ours.dest_addr_npi);
    assert_eq!(
        u8::from(theirs.registered_delivery),
        ours.registered_delivery
    );
    assert_eq!(u8::from(theirs.data_coding), ours.data_coding);
    assert_eq!(theirs.short_message().as_ref(), &ours.short_message[..]);

    let f = fixtures::deliver_sm_receipt();
    let Pdu::DeliverSm(ours) = &f.pdu else {
        unreachable!()
    };
    let Some(R::DeliverSm(theirs)) = rusmpp_decode(&f.to_bytes()).pdu().cloned() else {
        panic!("rusmpp: not a deliver_sm")
    };
    assert_eq!(u8::from(theirs.esm_class), ours.esm_class);
    assert_eq!(theirs.short_message().as_ref(), &ours.short_message[..]);
    let their_tags: Vec<u16> = theirs.tlvs().iter().map(|t| u16::from(t.tag())).collect();
    let our_tags: Vec<u16> = ours.tlvs.iter().map(|t| t.tag).collect();
    assert_eq!(their_tags, our_tags);

    let f = fixtures::data_sm();
    let Pdu::DataSm(ours) = &f.pdu else {
        unreachable!()
    };
    let Some(R::DataSm(theirs)) = rusmpp_decode(&f.to_bytes()).pdu().cloned() else {
        panic!("rusmpp: not a data_sm")
    };
    assert_eq!(
        theirs.source_addr.as_str().as_bytes(),
        ours.source_addr.as_bytes()
    );
    let their: Vec<(u16, u16)> = theirs
        .tlvs()
        .iter()
        .map(|t| (u16::from(t.tag()), t.value_length()))
        .collect();
    let our: Vec<(u16, u16)> = ours
        .tlvs
        .iter()
        .map(|t| (t.tag, t.value.len() as u16))
        .collect();
    assert_eq!(their, our);

    let f = fixtures::bind_transceiver();
    let Pdu::BindTransceiver(ours) = &f.pdu else {
        unreachable!()
    };
    let Some(R::BindTransceiver(theirs)) = rusmpp_decode(&f.to_bytes()).pdu().cloned() else {
        panic!("rusmpp: not a bind_transceiver")
    };
    assert_eq!(
        theirs.system_id.as_str().as_bytes(),
        ours.system_id.as_bytes()
    );
    assert_eq!(
        theirs.password.as_str().as_bytes(),
        ours.password.as_bytes()
    );
    assert_eq!(
        theirs.system_type.as_str().as_bytes(),
        ours.system_type.as_bytes()
    );
    assert_eq!(u8::from(theirs.interface_version), ours.interface_version);
}

#[test]
fn rusmpp_core_borrowed_decoder_agrees() {
    for (name, frame) in fixtures::all() {
        let bytes = frame.to_bytes();
        let (cmd, size) = <rusmpp_core::command::borrowed::Command<'_, 16> as rusmpp_core::decode::borrowed::DecodeWithLength<'_>>::decode(&bytes[4..], bytes.len() - 4)
            .unwrap_or_else(|e| panic!("{name}: {e:?}"));
        assert_eq!(size, bytes.len() - 4, "{name}");
        assert_eq!(cmd.sequence_number, frame.sequence_number, "{name}");
        assert_eq!(u32::from(cmd.id()), frame.command_id(), "{name}");
    }
}

#[test]
fn smpp34_reads_and_writes_the_same_bytes() {
    use smpp34::CommandHeader;
    let f = fixtures::submit_sm();
    let Pdu::SubmitSm(ours) = &f.pdu else {
        unreachable!()
    };
    let bytes = f.to_bytes();
    let theirs = smpp34::submit_sm::decode(CommandHeader::decode(&bytes).unwrap(), &bytes).unwrap();
    assert_eq!(theirs.source_addr, ours.source_addr.to_str_lossy());
    assert_eq!(theirs.source_addr_ton, ours.source_addr_ton);
    assert_eq!(
        theirs.destination_addr,
        ours.destination_addr.to_str_lossy()
    );
    assert_eq!(theirs.registered_delivery, ours.registered_delivery);
    assert_eq!(theirs.data_coding, ours.data_coding);
    assert_eq!(theirs.short_message, ours.short_message.to_vec());
    assert_eq!(theirs.encode(), bytes.to_vec());

    let f = fixtures::deliver_sm_receipt();
    let Pdu::DeliverSm(ours) = &f.pdu else {
        unreachable!()
    };
    let bytes = f.to_bytes();
    let theirs =
        smpp34::deliver_sm::decode(CommandHeader::decode(&bytes).unwrap(), &bytes).unwrap();
    assert_eq!(theirs.esm_class, ours.esm_class);
    assert_eq!(theirs.short_message, ours.short_message.to_vec());
    let their: Vec<(u16, Vec<u8>)> = theirs
        .tlvs
        .iter()
        .map(|t| (t.tag, t.value.clone()))
        .collect();
    let our: Vec<(u16, Vec<u8>)> = ours
        .tlvs
        .iter()
        .map(|t| (t.tag, t.value.to_vec()))
        .collect();
    assert_eq!(their, our);
    assert_eq!(theirs.encode(), bytes.to_vec());

    let f = fixtures::data_sm();
    let Pdu::DataSm(ours) = &f.pdu else {
        unreachable!()
    };
    let bytes = f.to_bytes();
    let theirs = smpp34::data_sm::decode(CommandHeader::decode(&bytes).unwrap(), &bytes).unwrap();
    assert_eq!(theirs.service_type, ours.service_type.to_str_lossy());
    assert_eq!(theirs.data_coding, ours.data_coding);
    let their: Vec<(u16, Vec<u8>)> = theirs
        .tlvs
        .iter()
        .map(|t| (t.tag, t.value.clone()))
        .collect();
    let our: Vec<(u16, Vec<u8>)> = ours
        .tlvs
        .iter()
        .map(|t| (t.tag, t.value.to_vec()))
        .collect();
    assert_eq!(their, our);
    assert_eq!(theirs.encode(), bytes.to_vec());

    let f = fixtures::bind_transceiver();
    let Pdu::BindTransceiver(ours) = &f.pdu else {
        unreachable!()
    };
    let bytes = f.to_bytes();
    let theirs =
        smpp34::bind_transceiver::decode(CommandHeader::decode(&bytes).unwrap(), &bytes).unwrap();
    assert_eq!(theirs.system_id, ours.system_id.to_str_lossy());
    assert_eq!(theirs.password, ours.password.to_str_lossy());
    assert_eq!(theirs.interface_version, ours.interface_version);
    assert_eq!(theirs.encode(), bytes.to_vec());

    let bytes = fixtures::enquire_link().to_bytes();
    let theirs =
        smpp34::enquire_link::decode(CommandHeader::decode(&bytes).unwrap(), &bytes).unwrap();
    assert_eq!(theirs.encode(), bytes.to_vec());
}
