//! The properties the fuzz targets check on every input, shared by the cargo-fuzz targets
//! (`fuzz/fuzz_targets/*.rs`) and by `tests/fuzz_corpus.rs`, which replays the corpus kept in
//! the repository under `cargo test`.
//!
//! `decode`: the input is a byte stream fed to [`SmppCodec`] (maximum PDU length
//! [`MAX_PDU_LEN`], so nothing larger is ever buffered) in pieces whose sizes come from the
//! input itself. Never a panic; a framing error stops the stream (as a session closes the
//! connection) and carries a generic_nack; every PDU that decodes re-encodes to the same
//! octets; every decode error names the header it came from and, when it may be answered, an
//! answer with a non-zero status for the same sequence number.
//!
//! `text`: the text layer on arbitrary octets: every decoder of [`text`], packing, UDH readers,
//! receipt parsing and reassembly. Never a panic, and what decodes as GSM or UCS-2 re-encodes.

use bytes::{Bytes, BytesMut};
use smpp_codec::codec::SmppCodec;
use smpp_codec::pdu::{DecodeOptions, Frame};
use smpp_codec::receipt::{DeliveryReceipt, ReceiptDate};
use smpp_codec::segment::{InboundPart, Reassembler};
use smpp_codec::text;
use smpp_codec::tlv::Tlvs;
use smpp_codec::udh;
use tokio_util::codec::Decoder;

/// Largest PDU the fuzzed decoder accepts (the length cap of the target).
pub(crate) const MAX_PDU_LEN: usize = 4096;

/// See the module documentation. Returns how many PDUs decoded.
pub(crate) fn decode(data: &[u8]) -> usize {
    let (opts, chunk, stream) = match data.split_first() {
        // The first octet picks the options and the read size, the rest is the stream.
        Some((&ctl, rest)) if !rest.is_empty() => {
            let opts = if ctl & 1 == 0 {
                DecodeOptions::lenient()
            } else {
                DecodeOptions::strict()
            };
            (opts, usize::from(ctl >> 1) + 1, rest)
        }
        _ => (DecodeOptions::lenient(), 1, data),
    };
    let mut codec = SmppCodec::new(MAX_PDU_LEN).with_options(opts);
    let mut buf = BytesMut::new();
    let mut decoded = 0;
    for piece in stream.chunks(chunk) {
        buf.extend_from_slice(piece);
        loop {
            // The codec reserves at most one PDU of MAX_PDU_LEN beyond what was read.
            assert!(
                buf.capacity() <= 2 * (stream.len() + MAX_PDU_LEN),
                "over-allocated: {}",
                buf.capacity()
            );
            match codec.decode(&mut buf) {
                Ok(None) => break,
                Ok(Some(Ok(frame))) => {
                    decoded += 1;
                    let bytes = frame.to_bytes();
                    assert_eq!(bytes.len(), frame.encoded_len());
                    let again = Frame::decode(bytes.clone()).expect("what we encode decodes");
                    assert_eq!(again.to_bytes(), bytes, "encode is stable");
                }
                Ok(Some(Err(e))) => {
                    if let Some(answer) = e.response() {
                        assert_eq!(answer.sequence_number, e.sequence_number);
                        assert!(!answer.command_status.is_ok());
                        assert_eq!(e.command_id & 0x8000_0000, 0, "answered a response");
                        let _ = answer.to_bytes();
                    }
                }
                Err(framing) => {
                    if let Some(nack) = framing.nack() {
                        assert!(!nack.command_status.is_ok());
                    }
                    return decoded;
                }
            }
        }
    }
    // The whole input as one frame, lenient and strict.
    let _ = Frame::decode(Bytes::copy_from_slice(stream));
    let _ = Frame::decode_with(Bytes::copy_from_slice(stream), &DecodeOptions::strict());
    decoded
}

/// See the module documentation.
pub(crate) fn text(data: &[u8]) {
    let dc = data.first().copied().unwrap_or(0);
    let body = data.get(1..).unwrap_or_default();
    for coding in [dc, 0, 1, 3, 8, 0xF1] {
        if let Ok(s) = text::decode(coding, body) {
            if coding == 8 && !s.contains('\u{FFFD}') {
                assert_eq!(text::decode(8, &text::encode(8, &s).unwrap()).unwrap(), s);
            }
        }
    }
    let s = text::gsm7::decode_unpacked(body);
    let _ = text::gsm7::encode_unpacked(&s);
    let (single, locking) = udh::national_language_shifts(body);
    let _ = text::decode_with_shift(0, body, single.or(Some(dc % 4)), locking.or(Some(dc % 4)));
    let unpacked = text::gsm7::unpack(body, usize::from(dc));
    assert!(unpacked.len() <= body.len() * 8 / 7);
    let _ = text::gsm7::unpack_after_udh(body, usize::from(dc % 16), body.len() * 2);
    let _ = udh::concat_info(body);
    if let Some(n) = udh::udh_len(body) {
        assert!(n <= body.len());
    }
    let lossy = String::from_utf8_lossy(body);
    if let Some(r) = DeliveryReceipt::parse(&lossy) {
        let _ = (
            r.message_state(),
            r.submit_date(),
            r.done_date(),
            r.format(),
        );
    }
    let _ = ReceiptDate::parse(&lossy);
    let mut r: Reassembler<usize> = Reassembler::new(std::time::Duration::from_secs(1), 1024);
    let now = std::time::Instant::now();
    let tlvs = Tlvs::new();
    for (i, part) in body.chunks(usize::from(dc % 32) + 1).enumerate() {
        let _ = r.push(
            now,
            "k",
            InboundPart {
                data_coding: dc,
                esm_class: 0x40,
                short_message: part,
                tlvs: &tlvs,
            },
            i,
        );
    }
    let _ = r.expire(now + std::time::Duration::from_secs(2));
    assert_eq!(r.pending_bytes(), 0);
}
