//! Framing of the SMPP byte stream for `tokio_util::codec` (SMPP 3.4 §3.2: every PDU starts with
//! its total length, `command_length`, as a U32).
//!
//! [`SmppCodec`] reads `command_length` from the first 4 octets and checks it (at least 16, at most
//! the configured maximum) *before* buffering the body; then it reserves room, waits for the whole
//! PDU, splits it off without copying and hands it to [`Frame::decode_with`]. A bad PDU inside a
//! well-framed stream is an `Ok(Some(Err(DecodeError)))` item; only a `command_length` that makes
//! the stream impossible to resynchronise is a [`FramingError`].

use bytes::{Buf, BytesMut};
use tokio_util::codec::{Decoder, Encoder};

use crate::pdu::{DecodeError, DecodeOptions, Frame, Pdu, HEADER_LEN};
use crate::status::CommandStatus;

/// Default maximum `command_length` in octets: room for a 64 KiB `message_payload` TLV plus the
/// header and mandatory fields. The spec sets no maximum (facts §9.5); peers cap much lower.
pub const DEFAULT_MAX_PDU_LEN: usize = 70_000;

/// `tokio_util` decoder/encoder of SMPP PDUs (SMPP 3.4 §3.2).
///
/// Decoding checks `command_length` (≥ 16, ≤ the maximum) from the first 4 octets before the body
/// is buffered, reserves space, waits for the whole PDU, `split_to().freeze()`s it and decodes it
/// with [`Frame::decode_with`]. Encoding writes [`Frame::encode`].
#[derive(Clone, Debug)]
pub struct SmppCodec {
    max_len: usize,
    options: DecodeOptions,
}

impl SmppCodec {
    /// A codec accepting PDUs of at most `max_pdu_len` octets (`command_length`, header
    /// included), with lenient [`DecodeOptions`]. Values below 16 are raised to 16.
    pub fn new(max_pdu_len: usize) -> Self {
        SmppCodec {
            max_len: max_pdu_len.max(HEADER_LEN),
            options: DecodeOptions::default(),
        }
    }

    /// Replaces the [`DecodeOptions`] used for each PDU.
    pub fn with_options(mut self, options: DecodeOptions) -> Self {
        self.options = options;
        self
    }

    /// Changes the [`DecodeOptions`] from the next PDU on (an SMSC learns who its peer is,
    /// and so which options apply, only from the bind).
    pub fn set_options(&mut self, options: DecodeOptions) {
        self.options = options;
    }

    /// The [`DecodeOptions`] in force.
    pub fn options(&self) -> &DecodeOptions {
        &self.options
    }

    /// The maximum `command_length` accepted, in octets.
    pub fn max_pdu_len(&self) -> usize {
        self.max_len
    }
}

impl Default for SmppCodec {
    /// [`SmppCodec::new`]`(`[`DEFAULT_MAX_PDU_LEN`]`)`.
    fn default() -> Self {
        SmppCodec::new(DEFAULT_MAX_PDU_LEN)
    }
}

/// A stream error: the byte stream cannot be resynchronised and must be closed (after sending
/// [`FramingError::nack`], if any) (SMPP 3.4 §2.8; v5.0 §2.8.2).
#[derive(Debug, thiserror::Error)]
pub enum FramingError {
    /// `command_length` (the value) is below the 16-octet header, so not even the header can be
    /// trusted; the nack carries sequence_number 0 (v5.0 §4.7.24).
    #[error("command_length {0} is below the 16-octet header")]
    TooShort(u32),
    /// `command_length` exceeds the configured maximum. Reported once the 16 header octets are
    /// buffered, so the nack can echo the header's `sequence_number`.
    #[error("command_length {len} exceeds the maximum of {max}")]
    TooLong {
        /// The header's `command_length`.
        len: u32,
        /// The configured maximum.
        max: usize,
        /// The header's `sequence_number`, for the nack.
        sequence_number: u32,
    },
    /// The underlying transport failed.
    #[error(transparent)]
    Io(#[from] std::io::Error),
}

impl FramingError {
    /// The generic_nack to send before closing: status ESME_RINVCMDLEN, the header's
    /// `sequence_number` for `TooLong`, 0 for `TooShort`; `None` for I/O errors.
    pub fn nack(&self) -> Option<Frame> {
        let seq = match self {
            FramingError::TooShort(_) => 0,
            FramingError::TooLong {
                sequence_number, ..
            } => *sequence_number,
            FramingError::Io(_) => return None,
        };
        Some(Frame::with_status(
            seq,
            CommandStatus::ESME_RINVCMDLEN,
            Pdu::GenericNack,
        ))
    }
}

impl Decoder for SmppCodec {
    type Item = Result<Frame, DecodeError>;
    type Error = FramingError;

    fn decode(&mut self, src: &mut BytesMut) -> Result<Option<Self::Item>, FramingError> {
        if src.len() < 4 {
            src.reserve(HEADER_LEN - src.len());
            return Ok(None);
        }
        let len = (&src[..4]).get_u32();
        if (len as usize) < HEADER_LEN {
            return Err(FramingError::TooShort(len));
        }
        if len as usize > self.max_len {
            if src.len() < HEADER_LEN {
                src.reserve(HEADER_LEN - src.len());
                return Ok(None);
            }
            let sequence_number = (&src[12..16]).get_u32();
            return Err(FramingError::TooLong {
                len,
                max: self.max_len,
                sequence_number,
            });
        }
        let len = len as usize;
        if src.len() < len {
            src.reserve(len - src.len());
            return Ok(None);
        }
        let frame = src.split_to(len).freeze();
        Ok(Some(Frame::decode_with(frame, &self.options)))
    }
}

impl Encoder<Frame> for SmppCodec {
    type Error = std::io::Error;

    fn encode(&mut self, item: Frame, dst: &mut BytesMut) -> Result<(), std::io::Error> {
        item.encode(dst);
        Ok(())
    }
}

impl<'a> Encoder<&'a Frame> for SmppCodec {
    type Error = std::io::Error;

    fn encode(&mut self, item: &'a Frame, dst: &mut BytesMut) -> Result<(), std::io::Error> {
        item.encode(dst);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use bytes::{BufMut, Bytes};

    use super::*;
    use crate::command::command_id as c;
    use crate::pdu::{DecodeErrorKind, SubmitSm};

    fn submit(seq: u32, text: &'static [u8]) -> Frame {
        Frame::new(
            seq,
            Pdu::SubmitSm(SubmitSm {
                source_addr: "1000".into(),
                destination_addr: "2000".into(),
                short_message: Bytes::from_static(text),
                ..SubmitSm::default()
            }),
        )
    }

    fn next(codec: &mut SmppCodec, buf: &mut BytesMut) -> Option<Frame> {
        codec.decode(buf).unwrap().map(|item| item.unwrap())
    }

    #[test]
    fn one_pdu_split_across_reads() {
        let f = submit(1, b"hello there");
        let bytes = f.to_bytes();
        let mut codec = SmppCodec::default();
        let mut buf = BytesMut::new();
        for (i, b) in bytes.iter().enumerate() {
            assert_eq!(
                next(&mut codec, &mut buf),
                None,
                "complete after {i} octets"
            );
            buf.put_u8(*b);
        }
        assert_eq!(next(&mut codec, &mut buf), Some(f));
        assert!(buf.is_empty());
        assert_eq!(next(&mut codec, &mut buf), None);
    }

    #[test]
    fn several_pdus_in_one_read() {
        let frames = [
            submit(1, b"one"),
            Frame::new(2, Pdu::EnquireLink),
            submit(3, b"three"),
            Frame::with_status(3, CommandStatus::ESME_RTHROTTLED, Pdu::GenericNack),
        ];
        let mut codec = SmppCodec::default();
        let mut buf = BytesMut::new();
        for f in &frames {
            codec.encode(f, &mut buf).unwrap();
        }
        // Plus the first half of another PDU.
        let tail = Frame::new(9, Pdu::Unbind).to_bytes();
        buf.put_slice(&tail[..7]);
        for f in &frames {
            assert_eq!(next(&mut codec, &mut buf).as_ref(), Some(f));
        }
        assert_eq!(next(&mut codec, &mut buf), None);
        buf.put_slice(&tail[7..]);
        assert_eq!(next(&mut codec, &mut buf), Some(Frame::new(9, Pdu::Unbind)));
    }

    #[test]
    fn bad_pdu_is_an_item_and_the_stream_goes_on() {
        let mut buf = BytesMut::new();
        buf.put_u32(16);
        buf.put_u32(0x0000_0077);
        buf.put_u32(0);
        buf.put_u32(55);
        Frame::new(56, Pdu::EnquireLink).encode(&mut buf);
        let mut codec = SmppCodec::default();
        let err = codec.decode(&mut buf).unwrap().unwrap().unwrap_err();
        assert_eq!(err.sequence_number, 55);
        assert_eq!(
            err.kind,
            DecodeErrorKind::UnknownCommandId { command_id: 0x77 }
        );
        assert_eq!(
            err.response().unwrap(),
            Frame::with_status(55, CommandStatus::ESME_RINVCMDID, Pdu::GenericNack)
        );
        assert_eq!(
            next(&mut codec, &mut buf),
            Some(Frame::new(56, Pdu::EnquireLink))
        );
    }

    #[test]
    fn command_length_below_header() {
        let mut codec = SmppCodec::default();
        let mut buf = BytesMut::from(&[0u8, 0, 0, 15, 0, 0, 0, 0x15][..]);
        let err = codec.decode(&mut buf).unwrap_err();
        assert!(matches!(err, FramingError::TooShort(15)));
        assert_eq!(
            err.nack().unwrap(),
            Frame::with_status(0, CommandStatus::ESME_RINVCMDLEN, Pdu::GenericNack)
        );
        assert_eq!(
            err.to_string(),
            "command_length 15 is below the 16-octet header"
        );
        let mut buf = BytesMut::from(&[0u8, 0, 0, 0][..]);
        assert!(matches!(
            codec.decode(&mut buf),
            Err(FramingError::TooShort(0))
        ));
    }

    #[test]
    fn command_length_above_maximum_is_refused_before_buffering() {
        let mut codec = SmppCodec::new(1000);
        assert_eq!(codec.max_pdu_len(), 1000);
        let mut buf = BytesMut::new();
        buf.put_u32(0x7FFF_FFFF);
        buf.put_u32(c::SUBMIT_SM);
        // Header incomplete: wait for the sequence number, without reserving for the body.
        assert!(codec.decode(&mut buf).unwrap().is_none());
        assert!(buf.capacity() < 1000);
        buf.put_u32(0);
        buf.put_u32(4711);
        let err = codec.decode(&mut buf).unwrap_err();
        assert!(matches!(
            err,
            FramingError::TooLong {
                len: 0x7FFF_FFFF,
                max: 1000,
                sequence_number: 4711
            }
        ));
        assert!(buf.capacity() < 1000);
        assert_eq!(
            err.nack().unwrap(),
            Frame::with_status(4711, CommandStatus::ESME_RINVCMDLEN, Pdu::GenericNack)
        );
        assert_eq!(
            err.to_string(),
            "command_length 2147483647 exceeds the maximum of 1000"
        );
    }

    #[test]
    fn maximum_is_inclusive_and_body_space_reserved() {
        let f = submit(1, b"x");
        let len = f.encoded_len();
        let mut codec = SmppCodec::new(len);
        let bytes = f.to_bytes();
        let mut buf = BytesMut::from(&bytes[..16]);
        assert!(codec.decode(&mut buf).unwrap().is_none());
        assert!(buf.capacity() >= len, "reserved room for the whole PDU");
        buf.put_slice(&bytes[16..]);
        assert_eq!(next(&mut codec, &mut buf), Some(f.clone()));
        let mut codec = SmppCodec::new(len - 1);
        let mut buf = BytesMut::from(&bytes[..]);
        assert!(matches!(
            codec.decode(&mut buf),
            Err(FramingError::TooLong { .. })
        ));
    }

    #[test]
    fn io_errors_have_no_nack_and_defaults() {
        let err = FramingError::from(std::io::Error::other("boom"));
        assert!(err.nack().is_none());
        assert_eq!(SmppCodec::default().max_pdu_len(), DEFAULT_MAX_PDU_LEN);
        assert_eq!(SmppCodec::new(3).max_pdu_len(), 16);
    }

    #[test]
    fn strict_options_reach_the_decoder() {
        let mut buf = BytesMut::new();
        buf.put_u32(18);
        buf.put_u32(c::ENQUIRE_LINK);
        buf.put_u32(0);
        buf.put_u32(1);
        buf.put_u16(0);
        let mut lenient_buf = buf.clone();
        let mut codec = SmppCodec::default().with_options(DecodeOptions::strict());
        assert!(codec.decode(&mut buf).unwrap().unwrap().is_err());
        let mut lenient = SmppCodec::default();
        assert!(lenient.decode(&mut lenient_buf).unwrap().unwrap().is_ok());
    }

    #[test]
    fn encoder_writes_frames() {
        let f = submit(5, b"abc");
        let mut codec = SmppCodec::default();
        let mut a = BytesMut::new();
        codec.encode(f.clone(), &mut a).unwrap();
        let mut b = BytesMut::new();
        codec.encode(&f, &mut b).unwrap();
        assert_eq!(a, b);
        assert_eq!(a.freeze(), f.to_bytes());
    }
}
