//! The PDUs the tool writes: encoded once with `smpp-codec` ([`Frame::encode`]) and patched per
//! message (the `sequence_number`, octets 12–15 of the header), so that a submit costs a copy.

use bytes::{BufMut, BytesMut};
use smpp_codec::pdu::{Bind, Frame, Pdu, SubmitSm, HEADER_LEN};
use smpp_codec::types::{BindKind, COctetString};

/// Octets of the header that hold `sequence_number`.
const SEQ: std::ops::Range<usize> = 12..16;

/// `command_id`s (SMPP 3.4 §5.1.2.1): the codec's constants, and the response bit as
/// `RESPONSE`.
pub mod id {
    pub use smpp_codec::command::command_id::*;
    /// Response bit of every response `command_id`.
    pub const RESPONSE: u32 = RESPONSE_BIT;
}

/// The four header fields of a PDU: (`command_length`, `command_id`, `command_status`,
/// `sequence_number`). `None` below 16 octets.
#[inline]
pub fn header(b: &[u8]) -> Option<(u32, u32, u32, u32)> {
    let h = b.get(..HEADER_LEN)?;
    let w = |i: usize| u32::from_be_bytes([h[i], h[i + 1], h[i + 2], h[i + 3]]);
    Some((w(0), w(4), w(8), w(12)))
}

/// Writes `seq` into the header of the PDU that starts at `pdu[0]`.
#[inline]
pub fn set_sequence(pdu: &mut [u8], seq: u32) {
    pdu[SEQ].copy_from_slice(&seq.to_be_bytes());
}

/// Appends a header-only PDU (enquire_link, unbind, their responses, generic_nack).
#[inline]
pub fn put_header_only(dst: &mut BytesMut, command_id: u32, status: u32, seq: u32) {
    dst.reserve(HEADER_LEN);
    dst.put_u32(HEADER_LEN as u32);
    dst.put_u32(command_id);
    dst.put_u32(status);
    dst.put_u32(seq);
}

/// Appends a response whose body is one C-Octet String (`submit_sm_resp`, `deliver_sm_resp`,
/// bind responses): `text` must hold no NUL.
#[inline]
pub fn put_cstr_resp(dst: &mut BytesMut, command_id: u32, status: u32, seq: u32, text: &[u8]) {
    let len = HEADER_LEN + text.len() + 1;
    dst.reserve(len);
    dst.put_u32(len as u32);
    dst.put_u32(command_id);
    dst.put_u32(status);
    dst.put_u32(seq);
    dst.put_slice(text);
    dst.put_u8(0);
}

/// A bind request of `kind` with sequence_number 1.
pub fn bind(kind: BindKind, system_id: &str, password: &str) -> BytesMut {
    let b = Bind {
        system_id: COctetString::new(system_id.as_bytes().to_vec()),
        password: COctetString::new(password.as_bytes().to_vec()),
        ..Bind::default()
    };
    let pdu = match kind {
        BindKind::Transmitter => Pdu::BindTransmitter(b),
        BindKind::Receiver => Pdu::BindReceiver(b),
        BindKind::Transceiver => Pdu::BindTransceiver(b),
    };
    let mut dst = BytesMut::new();
    Frame::new(1, pdu).encode(&mut dst);
    dst
}

/// Templates of the `submit_sm` the ESME sends: `variants` destinations
/// `"{d}{destination}"` for d in 0..variants (so that gateway routes by first digit can spread
/// them over several carrier binds), data_coding 0, `text` in `short_message`.
#[derive(Clone, Debug)]
pub struct SubmitTemplates {
    pdus: Vec<BytesMut>,
}

impl SubmitTemplates {
    /// Encodes the templates. `variants` is 1–10.
    pub fn new(
        source: &str,
        destination: &str,
        variants: u32,
        registered_delivery: bool,
        text: &[u8],
    ) -> Self {
        let pdus = (0..variants.clamp(1, 10))
            .map(|d| {
                let dest = if variants <= 1 {
                    destination.to_string()
                } else {
                    format!("{d}{destination}")
                };
                let sm = SubmitSm {
                    source_addr_ton: 1,
                    source_addr_npi: 1,
                    source_addr: COctetString::new(source.as_bytes().to_vec()),
                    dest_addr_ton: 1,
                    dest_addr_npi: 1,
                    destination_addr: COctetString::new(dest.into_bytes()),
                    registered_delivery: u8::from(registered_delivery),
                    short_message: bytes::Bytes::copy_from_slice(text),
                    ..SubmitSm::default()
                };
                let mut dst = BytesMut::new();
                Frame::new(1, Pdu::SubmitSm(sm)).encode(&mut dst);
                dst
            })
            .collect();
        SubmitTemplates { pdus }
    }

    /// Appends submit number `n` (its destination variant is `n % variants`) with `seq`.
    #[inline]
    pub fn put(&self, dst: &mut BytesMut, n: u64, seq: u32) {
        let t = &self.pdus[(n % self.pdus.len() as u64) as usize];
        let start = dst.len();
        dst.extend_from_slice(t);
        set_sequence(&mut dst[start..], seq);
    }

    /// Octets of the first template.
    pub fn len(&self) -> usize {
        self.pdus[0].len()
    }

    /// Never true (there is at least one template).
    pub fn is_empty(&self) -> bool {
        false
    }
}

/// Writes `n` in lower-case hex into `buf` (no leading zeros, "0" for 0); returns the octets used.
#[inline]
pub fn hex(n: u64, buf: &mut [u8; 16]) -> &[u8] {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut i = 16;
    let mut v = n;
    loop {
        i -= 1;
        buf[i] = DIGITS[(v & 0xf) as usize];
        v >>= 4;
        if v == 0 {
            break;
        }
    }
    &buf[i..]
}

#[cfg(test)]
mod tests {
    use super::*;
    use smpp_codec::pdu::Frame;

    #[test]
    fn templates_decode_with_the_patched_sequence_and_destination() {
        let t = SubmitTemplates::new("1234", "33600000000", 10, true, b"hello");
        let mut dst = BytesMut::new();
        t.put(&mut dst, 13, 77);
        let f = Frame::decode(dst.freeze()).unwrap();
        assert_eq!(f.sequence_number, 77);
        let Pdu::SubmitSm(sm) = f.pdu else {
            panic!("not a submit_sm")
        };
        assert_eq!(sm.destination_addr.as_bytes(), b"333600000000");
        assert_eq!(sm.registered_delivery, 1);
        assert_eq!(&sm.short_message[..], b"hello");
    }

    #[test]
    fn hand_written_responses_decode() {
        let mut dst = BytesMut::new();
        put_cstr_resp(&mut dst, id::SUBMIT_SM_RESP, 0, 9, b"abc");
        put_header_only(&mut dst, id::ENQUIRE_LINK, 0, 10);
        let first = dst.split_to(20).freeze();
        let f = Frame::decode(first).unwrap();
        assert_eq!(f.sequence_number, 9);
        let Pdu::SubmitSmResp(r) = f.pdu else {
            panic!("not a submit_sm_resp")
        };
        assert_eq!(r.message_id.as_bytes(), b"abc");
        assert_eq!(header(&dst), Some((16, id::ENQUIRE_LINK, 0, 10)));
        assert_eq!(Frame::decode(dst.freeze()).unwrap().pdu, Pdu::EnquireLink);
    }

    #[test]
    fn hex_digits() {
        let mut b = [0u8; 16];
        assert_eq!(hex(0, &mut b), b"0");
        assert_eq!(hex(0xab12, &mut b), b"ab12");
        assert_eq!(hex(u64::MAX, &mut b), b"ffffffffffffffff");
    }
}
