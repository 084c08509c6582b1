//! Sans-IO SMPP codec: the PDUs of SMPP 3.4 (and the v5.0 identifiers) as Rust types, decoded
//! zero-copy from [`bytes::Bytes`] and encoded into [`bytes::BytesMut`], plus the SMS text layer
//! that sits on top of `short_message`.
//!
//! This is layer 1 of the gateway (see `DESIGN.md`): it has no tokio runtime, no clock and does
//! no I/O. The only tokio item it uses is the `tokio_util::codec::{Decoder, Encoder}` pair of
//! traits, so that a session can wrap a socket in `Framed<_, SmppCodec>`.
//!
//! # Layout
//!
//! | module | what it holds | spec |
//! | --- | --- | --- |
//! | [`types`] | [`types::COctetString`] (zero-copy C-Octet String), [`types::BindKind`] | SMPP 3.4 §3.1 |
//! | [`status`] | [`status::CommandStatus`]: every `ESME_R*` code, with names | §5.1.3 |
//! | [`command`] | `command_id` constants and [`command::command_name`] | §5.1.2.1 |
//! | [`tlv`] | [`tlv::Tlvs`], the raw TLV region of a PDU; every TLV of 3.4 and 5.0 in [`tlv::DEFINITIONS`] (name, format, lengths) and typed as [`tlv::TlvValue`] | §3.2, §5.3, v5.0 Table 4-60 |
//! | [`pdu`] | [`pdu::Frame`] (header + [`pdu::Pdu`]), one body module per PDU family (bind, submit/deliver/data, submit_multi, query/cancel/replace/alert, v5.0 broadcast), [`pdu::DecodeError`], [`pdu::DecodeOptions`] (lenient or strict, per bind) | §4 |
//! | [`codec`] | [`codec::SmppCodec`]: `command_length` framing for `tokio_util::codec` | §3.2 |
//! | [`text`] | GSM 03.38 (unpacked and packed, national shift tables), IA5, Latin-1, UCS-2; what data_coding 0 means per bind ([`text::DefaultAlphabet`]) | §5.2.19, TS 23.038 |
//! | [`segment`] | counting, splitting ([`segment::split_with`], [`segment::chunk`]) per bind ([`segment::SplitOptions`]) and reassembling ([`segment::Reassembler`]) long messages | GSM 03.40 §9.2.3.24, §5.3.2.22–24 |
//! | [`udh`] | concatenation info from a user data header | GSM 03.40 §9.2.3.24 |
//! | [`receipt`] | delivery receipts: text parse and format, dates, TLVs first ([`receipt::ReceiptInfo`]), carriers' id formats, partner receipts | Appendix B |
//!
//! Design notes, leniency table and proofs: `docs/codec.md`; the fuzz targets: `fuzz/README.md`.
//!
//! # Decoding in two steps
//!
//! [`codec::SmppCodec`] cuts the byte stream into whole PDUs using `command_length` (checking it
//! against a maximum *before* buffering the body). Each whole PDU is then handed to
//! [`pdu::Frame::decode`], which parses it with complete parsers over exactly that slice. A bad
//! PDU inside a good frame is not a stream error: it yields a [`pdu::DecodeError`] that knows
//! which response to send back ([`pdu::DecodeError::response`]), and the stream goes on.
//!
//! ```
//! use smpp_codec::pdu::{Frame, Pdu};
//!
//! let bytes = Frame::new(7, Pdu::EnquireLink).to_bytes();
//! assert_eq!(&bytes[..], &[0, 0, 0, 16, 0, 0, 0, 0x15, 0, 0, 0, 0, 0, 0, 0, 7]);
//! let frame = Frame::decode(bytes).unwrap();
//! assert_eq!(frame.pdu, Pdu::EnquireLink);
//! ```
#![deny(missing_docs)]

pub mod codec;
pub mod command;
pub mod pdu;
pub mod receipt;
pub mod segment;
pub mod status;
pub mod text;
pub mod tlv;
pub mod types;
pub mod udh;

mod wire;
