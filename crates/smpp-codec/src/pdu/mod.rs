//! PDUs (SMPP 3.4 §4): the 16-octet header (§3.2) in [`Frame`], the body in [`Pdu`].
//!
//! Bodies are grouped by family, one module each: binds and outbind ([`Bind`], [`BindResp`],
//! [`Outbind`], §4.1), message submission and delivery ([`SubmitSm`], [`DataSm`] and their
//! responses, §4.4, §4.6, §4.7), `submit_multi` ([`SubmitMulti`], §4.5), operations on submitted
//! messages ([`QuerySm`], [`CancelSm`], [`ReplaceSm`], §4.8–4.10) and [`AlertNotification`]
//! (§4.12), and the v5.0 broadcast PDUs ([`BroadcastSm`] …). Header-only PDUs (unbind,
//! enquire_link, generic_nack, cancel_sm_resp, replace_sm_resp, cancel_broadcast_sm_resp) are
//! unit variants of [`Pdu`].
//!
//! Decoding ([`Frame::decode`]) takes one complete PDU, exactly `command_length` octets, as
//! [`Bytes`] and slices every variable-length field out of it without copying. Encoding
//! ([`Frame::encode`]) computes the length first, reserves once and writes.

mod bind;
mod broadcast;
mod error;
mod multi;
mod ops;
mod sm;
#[cfg(test)]
mod tests;

use bytes::{Bytes, BytesMut};

pub use self::bind::{Bind, BindResp, Outbind};
pub use self::broadcast::{
    BroadcastSm, BroadcastSmResp, CancelBroadcastSm, QueryBroadcastSm, QueryBroadcastSmResp,
};
pub use self::error::{DecodeError, DecodeErrorKind, DecodeOptions, Field};
pub use self::multi::{DestAddress, SubmitMulti, SubmitMultiResp, UnsuccessSme};
pub use self::ops::{AlertNotification, CancelSm, QuerySm, QuerySmResp, ReplaceSm};
pub use self::sm::{DataSm, DataSmResp, DeliverSm, DeliverSmResp, SubmitSm, SubmitSmResp};

use crate::command::{command_id as c, command_name};
use crate::status::CommandStatus;
use crate::types::BindKind;
use crate::wire::{self, Reader, Writer};

/// Octets in the PDU header: `command_length`, `command_id`, `command_status`,
/// `sequence_number`, each a U32 (SMPP 3.4 §3.2).
pub const HEADER_LEN: usize = 16;

/// Highest valid `sequence_number`; the next after it is 1 (SMPP 3.4 §5.1.4, v5.0 §4.7.24).
pub const MAX_SEQUENCE_NUMBER: u32 = 0x7FFF_FFFF;

/// Decoding and encoding of one body layout.
trait Body: Sized {
    fn decode(r: &mut Reader<'_>) -> Result<Self, DecodeErrorKind>;
    fn encoded_len(&self) -> usize;
    /// Writes exactly `encoded_len()` octets.
    fn encode(&self, dst: &mut Writer<'_>);
}

/// Every PDU this crate decodes and encodes, by `command_id` (SMPP 3.4 §4, §5.1.2.1).
///
/// Header-only PDUs (`unbind`, `unbind_resp`, `enquire_link`, `enquire_link_resp`,
/// `generic_nack`) are unit variants; `command_status` and `sequence_number` live in [`Frame`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Pdu {
    /// `bind_transmitter` (0x00000002, §4.1.1).
    BindTransmitter(Bind),
    /// `bind_transmitter_resp` (0x80000002, §4.1.2).
    BindTransmitterResp(BindResp),
    /// `bind_receiver` (0x00000001, §4.1.3).
    BindReceiver(Bind),
    /// `bind_receiver_resp` (0x80000001, §4.1.4).
    BindReceiverResp(BindResp),
    /// `bind_transceiver` (0x00000009, §4.1.5).
    BindTransceiver(Bind),
    /// `bind_transceiver_resp` (0x80000009, §4.1.6).
    BindTransceiverResp(BindResp),
    /// `unbind` (0x00000006, §4.2.1), header only.
    Unbind,
    /// `unbind_resp` (0x80000006, §4.2.2), header only.
    UnbindResp,
    /// `enquire_link` (0x00000015, §4.11.1), header only.
    EnquireLink,
    /// `enquire_link_resp` (0x80000015, §4.11.2), header only.
    EnquireLinkResp,
    /// `generic_nack` (0x80000000, §4.3.1), header only; the error is in `command_status`.
    GenericNack,
    /// `submit_sm` (0x00000004, §4.4.1).
    SubmitSm(SubmitSm),
    /// `submit_sm_resp` (0x80000004, §4.4.2).
    SubmitSmResp(SubmitSmResp),
    /// `deliver_sm` (0x00000005, §4.6.1).
    DeliverSm(DeliverSm),
    /// `deliver_sm_resp` (0x80000005, §4.6.2).
    DeliverSmResp(DeliverSmResp),
    /// `data_sm` (0x00000103, §4.7.1).
    DataSm(DataSm),
    /// `data_sm_resp` (0x80000103, §4.7.2).
    DataSmResp(DataSmResp),
    /// `outbind` (0x0000000B, §4.1.7); no response PDU.
    Outbind(Outbind),
    /// `submit_multi` (0x00000021, §4.5.1).
    SubmitMulti(SubmitMulti),
    /// `submit_multi_resp` (0x80000021, §4.5.2).
    SubmitMultiResp(SubmitMultiResp),
    /// `query_sm` (0x00000003, §4.8.1).
    QuerySm(QuerySm),
    /// `query_sm_resp` (0x80000003, §4.8.2).
    QuerySmResp(QuerySmResp),
    /// `cancel_sm` (0x00000008, §4.9.1).
    CancelSm(CancelSm),
    /// `cancel_sm_resp` (0x80000008, §4.9.2), header only.
    CancelSmResp,
    /// `replace_sm` (0x00000007, §4.10.1).
    ReplaceSm(ReplaceSm),
    /// `replace_sm_resp` (0x80000007, §4.10.2), header only.
    ReplaceSmResp,
    /// `alert_notification` (0x00000102, §4.12.1); no response PDU.
    AlertNotification(AlertNotification),
    /// `broadcast_sm` (0x00000111, v5.0 §4.4.1.1).
    BroadcastSm(BroadcastSm),
    /// `broadcast_sm_resp` (0x80000111, v5.0 §4.4.1.2).
    BroadcastSmResp(BroadcastSmResp),
    /// `query_broadcast_sm` (0x00000112, v5.0 §4.6.1.1).
    QueryBroadcastSm(QueryBroadcastSm),
    /// `query_broadcast_sm_resp` (0x80000112, v5.0 §4.6.1.3).
    QueryBroadcastSmResp(QueryBroadcastSmResp),
    /// `cancel_broadcast_sm` (0x00000113, v5.0 §4.6.2.1).
    CancelBroadcastSm(CancelBroadcastSm),
    /// `cancel_broadcast_sm_resp` (0x80000113, v5.0 §4.6.2.3), header only.
    CancelBroadcastSmResp,
}

impl Pdu {
    /// The `command_id` of this PDU (SMPP 3.4 §5.1.2.1).
    pub fn command_id(&self) -> u32 {
        match self {
            Pdu::BindTransmitter(_) => c::BIND_TRANSMITTER,
            Pdu::BindTransmitterResp(_) => c::BIND_TRANSMITTER_RESP,
            Pdu::BindReceiver(_) => c::BIND_RECEIVER,
            Pdu::BindReceiverResp(_) => c::BIND_RECEIVER_RESP,
            Pdu::BindTransceiver(_) => c::BIND_TRANSCEIVER,
            Pdu::BindTransceiverResp(_) => c::BIND_TRANSCEIVER_RESP,
            Pdu::Unbind => c::UNBIND,
            Pdu::UnbindResp => c::UNBIND_RESP,
            Pdu::EnquireLink => c::ENQUIRE_LINK,
            Pdu::EnquireLinkResp => c::ENQUIRE_LINK_RESP,
            Pdu::GenericNack => c::GENERIC_NACK,
            Pdu::SubmitSm(_) => c::SUBMIT_SM,
            Pdu::SubmitSmResp(_) => c::SUBMIT_SM_RESP,
            Pdu::DeliverSm(_) => c::DELIVER_SM,
            Pdu::DeliverSmResp(_) => c::DELIVER_SM_RESP,
            Pdu::DataSm(_) => c::DATA_SM,
            Pdu::DataSmResp(_) => c::DATA_SM_RESP,
            Pdu::Outbind(_) => c::OUTBIND,
            Pdu::SubmitMulti(_) => c::SUBMIT_MULTI,
            Pdu::SubmitMultiResp(_) => c::SUBMIT_MULTI_RESP,
            Pdu::QuerySm(_) => c::QUERY_SM,
            Pdu::QuerySmResp(_) => c::QUERY_SM_RESP,
            Pdu::CancelSm(_) => c::CANCEL_SM,
            Pdu::CancelSmResp => c::CANCEL_SM_RESP,
            Pdu::ReplaceSm(_) => c::REPLACE_SM,
            Pdu::ReplaceSmResp => c::REPLACE_SM_RESP,
            Pdu::AlertNotification(_) => c::ALERT_NOTIFICATION,
            Pdu::BroadcastSm(_) => c::BROADCAST_SM,
            Pdu::BroadcastSmResp(_) => c::BROADCAST_SM_RESP,
            Pdu::QueryBroadcastSm(_) => c::QUERY_BROADCAST_SM,
            Pdu::QueryBroadcastSmResp(_) => c::QUERY_BROADCAST_SM_RESP,
            Pdu::CancelBroadcastSm(_) => c::CANCEL_BROADCAST_SM,
            Pdu::CancelBroadcastSmResp => c::CANCEL_BROADCAST_SM_RESP,
        }
    }

    /// The spec name, e.g. `"submit_sm_resp"`.
    pub fn name(&self) -> &'static str {
        command_name(self.command_id()).unwrap_or("unknown")
    }

    /// `true` for responses: bit 31 of `command_id` set, `generic_nack` included (§5.1.2.1).
    pub fn is_response(&self) -> bool {
        crate::command::is_response_id(self.command_id())
    }

    /// The bind kind of the three bind requests and their responses, else `None` (§4.1).
    pub fn bind_kind(&self) -> Option<BindKind> {
        match self {
            Pdu::BindTransmitter(_) | Pdu::BindTransmitterResp(_) => Some(BindKind::Transmitter),
            Pdu::BindReceiver(_) | Pdu::BindReceiverResp(_) => Some(BindKind::Receiver),
            Pdu::BindTransceiver(_) | Pdu::BindTransceiverResp(_) => Some(BindKind::Transceiver),
            _ => None,
        }
    }

    /// The response PDU answering this request, with an empty body (e.g. `SubmitSm` →
    /// `SubmitSmResp` with an empty `message_id`); put the status in the [`Frame`]. `None` for
    /// responses (generic_nack included) and for `outbind` and `alert_notification`, which have
    /// no response.
    pub fn empty_response(&self) -> Option<Pdu> {
        if self.is_response() {
            return None;
        }
        crate::command::response_id(self.command_id()).and_then(Pdu::empty_for_id)
    }

    /// The PDU with `command_id` `id` and an empty body, for ids whose body has a `Default`
    /// (responses and header-only PDUs).
    pub(crate) fn empty_for_id(id: u32) -> Option<Pdu> {
        Some(match id {
            c::BIND_TRANSMITTER_RESP => Pdu::BindTransmitterResp(BindResp::default()),
            c::BIND_RECEIVER_RESP => Pdu::BindReceiverResp(BindResp::default()),
            c::BIND_TRANSCEIVER_RESP => Pdu::BindTransceiverResp(BindResp::default()),
            c::UNBIND => Pdu::Unbind,
            c::UNBIND_RESP => Pdu::UnbindResp,
            c::ENQUIRE_LINK => Pdu::EnquireLink,
            c::ENQUIRE_LINK_RESP => Pdu::EnquireLinkResp,
            c::GENERIC_NACK => Pdu::GenericNack,
            c::SUBMIT_SM_RESP => Pdu::SubmitSmResp(SubmitSmResp::default()),
            c::DELIVER_SM_RESP => Pdu::DeliverSmResp(DeliverSmResp::default()),
            c::DATA_SM_RESP => Pdu::DataSmResp(DataSmResp::default()),
            c::SUBMIT_MULTI_RESP => Pdu::SubmitMultiResp(SubmitMultiResp::default()),
            c::QUERY_SM_RESP => Pdu::QuerySmResp(QuerySmResp::default()),
            c::CANCEL_SM_RESP => Pdu::CancelSmResp,
            c::REPLACE_SM_RESP => Pdu::ReplaceSmResp,
            c::BROADCAST_SM_RESP => Pdu::BroadcastSmResp(BroadcastSmResp::default()),
            c::QUERY_BROADCAST_SM_RESP => {
                Pdu::QueryBroadcastSmResp(QueryBroadcastSmResp::default())
            }
            c::CANCEL_BROADCAST_SM_RESP => Pdu::CancelBroadcastSmResp,
            _ => return None,
        })
    }

    /// Octets of the body (everything after the 16-octet header).
    pub fn body_len(&self) -> usize {
        match self {
            Pdu::BindTransmitter(b) | Pdu::BindReceiver(b) | Pdu::BindTransceiver(b) => {
                b.encoded_len()
            }
            Pdu::BindTransmitterResp(b)
            | Pdu::BindReceiverResp(b)
            | Pdu::BindTransceiverResp(b) => b.encoded_len(),
            Pdu::Unbind
            | Pdu::UnbindResp
            | Pdu::EnquireLink
            | Pdu::EnquireLinkResp
            | Pdu::GenericNack
            | Pdu::CancelSmResp
            | Pdu::ReplaceSmResp
            | Pdu::CancelBroadcastSmResp => 0,
            Pdu::SubmitSm(b) | Pdu::DeliverSm(b) => b.encoded_len(),
            Pdu::SubmitSmResp(b) | Pdu::DataSmResp(b) => b.encoded_len(),
            Pdu::DeliverSmResp(b) => b.encoded_len(),
            Pdu::DataSm(b) => b.encoded_len(),
            Pdu::Outbind(b) => b.encoded_len(),
            Pdu::SubmitMulti(b) => b.encoded_len(),
            Pdu::SubmitMultiResp(b) => b.encoded_len(),
            Pdu::QuerySm(b) => b.encoded_len(),
            Pdu::QuerySmResp(b) => b.encoded_len(),
            Pdu::CancelSm(b) => b.encoded_len(),
            Pdu::ReplaceSm(b) => b.encoded_len(),
            Pdu::AlertNotification(b) => b.encoded_len(),
            Pdu::BroadcastSm(b) => b.encoded_len(),
            Pdu::BroadcastSmResp(b) | Pdu::QueryBroadcastSmResp(b) => b.encoded_len(),
            Pdu::QueryBroadcastSm(b) => b.encoded_len(),
            Pdu::CancelBroadcastSm(b) => b.encoded_len(),
        }
    }

    fn encode_body(&self, dst: &mut Writer<'_>) {
        match self {
            Pdu::BindTransmitter(b) | Pdu::BindReceiver(b) | Pdu::BindTransceiver(b) => {
                b.encode(dst)
            }
            Pdu::BindTransmitterResp(b)
            | Pdu::BindReceiverResp(b)
            | Pdu::BindTransceiverResp(b) => b.encode(dst),
            Pdu::Unbind
            | Pdu::UnbindResp
            | Pdu::EnquireLink
            | Pdu::EnquireLinkResp
            | Pdu::GenericNack
            | Pdu::CancelSmResp
            | Pdu::ReplaceSmResp
            | Pdu::CancelBroadcastSmResp => {}
            Pdu::SubmitSm(b) | Pdu::DeliverSm(b) => b.encode(dst),
            Pdu::SubmitSmResp(b) | Pdu::DataSmResp(b) => b.encode(dst),
            Pdu::DeliverSmResp(b) => b.encode(dst),
            Pdu::DataSm(b) => b.encode(dst),
            Pdu::Outbind(b) => b.encode(dst),
            Pdu::SubmitMulti(b) => b.encode(dst),
            Pdu::SubmitMultiResp(b) => b.encode(dst),
            Pdu::QuerySm(b) => b.encode(dst),
            Pdu::QuerySmResp(b) => b.encode(dst),
            Pdu::CancelSm(b) => b.encode(dst),
            Pdu::ReplaceSm(b) => b.encode(dst),
            Pdu::AlertNotification(b) => b.encode(dst),
            Pdu::BroadcastSm(b) => b.encode(dst),
            Pdu::BroadcastSmResp(b) | Pdu::QueryBroadcastSmResp(b) => b.encode(dst),
            Pdu::QueryBroadcastSm(b) => b.encode(dst),
            Pdu::CancelBroadcastSm(b) => b.encode(dst),
        }
    }

    /// `true` for the PDUs that are only a header (no body at all).
    #[inline]
    pub fn is_header_only(&self) -> bool {
        matches!(
            self,
            Pdu::Unbind
                | Pdu::UnbindResp
                | Pdu::EnquireLink
                | Pdu::EnquireLinkResp
                | Pdu::GenericNack
                | Pdu::CancelSmResp
                | Pdu::ReplaceSmResp
                | Pdu::CancelBroadcastSmResp
        )
    }

    /// The header-only PDU with `command_id`, `None` for PDUs with a body.
    #[inline]
    fn header_only(command_id: u32) -> Option<Pdu> {
        Some(match command_id {
            c::ENQUIRE_LINK => Pdu::EnquireLink,
            c::ENQUIRE_LINK_RESP => Pdu::EnquireLinkResp,
            c::UNBIND => Pdu::Unbind,
            c::UNBIND_RESP => Pdu::UnbindResp,
            c::GENERIC_NACK => Pdu::GenericNack,
            c::CANCEL_SM_RESP => Pdu::CancelSmResp,
            c::REPLACE_SM_RESP => Pdu::ReplaceSmResp,
            c::CANCEL_BROADCAST_SM_RESP => Pdu::CancelBroadcastSmResp,
            _ => return None,
        })
    }

    /// Decodes the body of PDU `command_id` from `r`.
    fn decode_body(
        command_id: u32,
        status: CommandStatus,
        r: &mut Reader<'_>,
    ) -> Result<Pdu, DecodeErrorKind> {
        Ok(match command_id {
            c::BIND_TRANSMITTER => Pdu::BindTransmitter(Bind::decode(r)?),
            c::BIND_RECEIVER => Pdu::BindReceiver(Bind::decode(r)?),
            c::BIND_TRANSCEIVER => Pdu::BindTransceiver(Bind::decode(r)?),
            c::BIND_TRANSMITTER_RESP => Pdu::BindTransmitterResp(response_body(r, status)?),
            c::BIND_RECEIVER_RESP => Pdu::BindReceiverResp(response_body(r, status)?),
            c::BIND_TRANSCEIVER_RESP => Pdu::BindTransceiverResp(response_body(r, status)?),
            c::UNBIND => header_only(r, Pdu::Unbind)?,
            c::ENQUIRE_LINK => header_only(r, Pdu::EnquireLink)?,
            c::UNBIND_RESP => header_only_response(r, status, Pdu::UnbindResp)?,
            c::ENQUIRE_LINK_RESP => header_only_response(r, status, Pdu::EnquireLinkResp)?,
            c::GENERIC_NACK => header_only_response(r, status, Pdu::GenericNack)?,
            c::SUBMIT_SM => Pdu::SubmitSm(SubmitSm::decode(r)?),
            c::DELIVER_SM => Pdu::DeliverSm(DeliverSm::decode(r)?),
            c::DATA_SM => Pdu::DataSm(DataSm::decode(r)?),
            c::SUBMIT_SM_RESP => Pdu::SubmitSmResp(response_body(r, status)?),
            c::DELIVER_SM_RESP => Pdu::DeliverSmResp(response_body(r, status)?),
            c::DATA_SM_RESP => Pdu::DataSmResp(response_body(r, status)?),
            c::OUTBIND => Pdu::Outbind(Outbind::decode(r)?),
            c::SUBMIT_MULTI => Pdu::SubmitMulti(SubmitMulti::decode(r)?),
            c::SUBMIT_MULTI_RESP => Pdu::SubmitMultiResp(response_body(r, status)?),
            c::QUERY_SM => Pdu::QuerySm(QuerySm::decode(r)?),
            c::QUERY_SM_RESP => Pdu::QuerySmResp(response_body(r, status)?),
            c::CANCEL_SM => Pdu::CancelSm(CancelSm::decode(r)?),
            c::CANCEL_SM_RESP => header_only_response(r, status, Pdu::CancelSmResp)?,
            c::REPLACE_SM => Pdu::ReplaceSm(ReplaceSm::decode(r)?),
            c::REPLACE_SM_RESP => header_only_response(r, status, Pdu::ReplaceSmResp)?,
            c::ALERT_NOTIFICATION => Pdu::AlertNotification(AlertNotification::decode(r)?),
            c::BROADCAST_SM => Pdu::BroadcastSm(BroadcastSm::decode(r)?),
            c::BROADCAST_SM_RESP => Pdu::BroadcastSmResp(response_body(r, status)?),
            c::QUERY_BROADCAST_SM => Pdu::QueryBroadcastSm(QueryBroadcastSm::decode(r)?),
            c::QUERY_BROADCAST_SM_RESP => Pdu::QueryBroadcastSmResp(response_body(r, status)?),
            c::CANCEL_BROADCAST_SM => Pdu::CancelBroadcastSm(CancelBroadcastSm::decode(r)?),
            c::CANCEL_BROADCAST_SM_RESP => {
                header_only_response(r, status, Pdu::CancelBroadcastSmResp)?
            }
            id if command_name(id).is_some() => return Err(DecodeErrorKind::UnsupportedCommand),
            id => return Err(DecodeErrorKind::UnknownCommandId { command_id: id }),
        })
    }
}

/// A header-only request: extra octets are ignored unless `reject_trailing_octets`.
fn header_only(r: &mut Reader<'_>, pdu: Pdu) -> Result<Pdu, DecodeErrorKind> {
    r.finish()?;
    Ok(pdu)
}

/// A header-only response: as [`header_only`], and any body is ignored when the status is an
/// error (SMPP 3.4 §3.3).
fn header_only_response(
    r: &mut Reader<'_>,
    status: CommandStatus,
    pdu: Pdu,
) -> Result<Pdu, DecodeErrorKind> {
    if !status.is_ok() {
        return Ok(pdu);
    }
    header_only(r, pdu)
}

/// A response body: an absent body decodes as `Default` (always for error responses, for
/// `ESME_ROK` unless `require_ok_response_body` is set), and an unparsable body of an error
/// response is ignored (SMPP 3.4 §3.3; v5.0 §3.2.1.3).
fn response_body<T: Body + Default>(
    r: &mut Reader<'_>,
    status: CommandStatus,
) -> Result<T, DecodeErrorKind> {
    if r.remaining() == 0 && (!status.is_ok() || !r.opts().require_ok_response_body) {
        return Ok(T::default());
    }
    match T::decode(r) {
        Ok(body) => Ok(body),
        Err(_) if !status.is_ok() => Ok(T::default()),
        Err(e) => Err(e),
    }
}

/// A whole PDU: the header fields (SMPP 3.4 §3.2) and the body. `command_length` and
/// `command_id` are implied by `pdu`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Frame {
    /// `command_status` (§5.1.3): `ESME_ROK` in requests, the result in responses.
    pub command_status: CommandStatus,
    /// `sequence_number` (§5.1.4): 1–0x7FFFFFFF, echoed in the response.
    pub sequence_number: u32,
    /// Command and body.
    pub pdu: Pdu,
}

impl Frame {
    /// A frame with status `ESME_ROK`.
    pub fn new(sequence_number: u32, pdu: Pdu) -> Self {
        Frame {
            command_status: CommandStatus::ESME_ROK,
            sequence_number,
            pdu,
        }
    }

    /// A frame with the given status (for responses).
    pub fn with_status(sequence_number: u32, status: CommandStatus, pdu: Pdu) -> Self {
        Frame {
            command_status: status,
            sequence_number,
            pdu,
        }
    }

    /// The `command_id` of [`Frame::pdu`].
    pub fn command_id(&self) -> u32 {
        self.pdu.command_id()
    }

    /// Decodes one complete PDU with lenient [`DecodeOptions`]; `frame` is exactly
    /// `command_length` octets (as cut by [`crate::codec::SmppCodec`]). Field data is sliced
    /// from `frame`, not copied.
    ///
    /// # Errors
    /// A [`DecodeError`] carrying the header's `command_id` and `sequence_number` (0 and 0 if
    /// the header is unreadable) and what was wrong; [`DecodeError::response`] builds the answer.
    #[inline]
    pub fn decode(frame: Bytes) -> Result<Frame, DecodeError> {
        Self::decode_with(frame, &DecodeOptions::LENIENT)
    }

    /// [`Frame::decode`] with explicit [`DecodeOptions`].
    ///
    /// # Errors
    /// As [`Frame::decode`].
    #[inline]
    pub fn decode_with(frame: Bytes, opts: &DecodeOptions) -> Result<Frame, DecodeError> {
        Self::decode_from(&frame, opts)
    }

    /// [`Frame::decode_with`] on a frame the caller keeps: field data is sliced from `frame`
    /// (each slice shares its buffer), the frame itself is only borrowed.
    ///
    /// # Errors
    /// As [`Frame::decode`].
    #[inline]
    pub fn decode_from(frame: &Bytes, opts: &DecodeOptions) -> Result<Frame, DecodeError> {
        // Header-only PDUs (enquire_link, unbind, their responses, generic_nack) and bodiless
        // error responses are the most frequent PDUs of an idle link: built in place.
        if let Some(h) = frame.first_chunk::<HEADER_LEN>() {
            let [command_length, command_id, status, sequence_number] = wire::header16(h);
            if frame.len() == HEADER_LEN
                && command_length as usize == HEADER_LEN
                && !opts.reject_sequence_number_out_of_range
            {
                if let Some(pdu) = Pdu::header_only(command_id) {
                    return Ok(Frame {
                        command_status: CommandStatus(status),
                        sequence_number,
                        pdu,
                    });
                }
            }
        }
        Self::decode_general(frame, opts)
    }

    fn decode_general(frame: &Bytes, opts: &DecodeOptions) -> Result<Frame, DecodeError> {
        let Some([command_length, command_id, status, sequence_number]) = wire::header(frame)
        else {
            return Err(DecodeError {
                command_id: 0,
                sequence_number: 0,
                kind: DecodeErrorKind::HeaderTooShort { len: frame.len() },
            });
        };
        let err = |kind| DecodeError {
            command_id,
            sequence_number,
            kind,
        };
        if command_length as usize != frame.len() {
            return Err(err(DecodeErrorKind::CommandLengthMismatch {
                command_length,
                frame_len: frame.len(),
            }));
        }
        if opts.reject_sequence_number_out_of_range
            && (sequence_number > MAX_SEQUENCE_NUMBER
                || (sequence_number == 0 && command_id != c::GENERIC_NACK))
        {
            return Err(err(DecodeErrorKind::InvalidSequenceNumber {
                sequence_number,
            }));
        }
        let command_status = CommandStatus(status);
        let mut r = Reader::new(frame, HEADER_LEN, opts);
        match Pdu::decode_body(command_id, command_status, &mut r) {
            Ok(pdu) => Ok(Frame {
                command_status,
                sequence_number,
                pdu,
            }),
            Err(kind) => Err(err(kind)),
        }
    }

    /// Total octets on the wire: the 16-octet header plus the body (the `command_length` value).
    pub fn encoded_len(&self) -> usize {
        HEADER_LEN + self.pdu.body_len()
    }

    /// Appends the PDU to `dst`: computes the length first, grows `dst` once, then writes.
    pub fn encode(&self, dst: &mut BytesMut) {
        self.encode_len(self.encoded_len(), dst);
    }

    /// The 16 header octets of a `len`-octet PDU.
    #[inline]
    fn header(&self, len: usize) -> [u8; HEADER_LEN] {
        let mut h = [0u8; HEADER_LEN];
        h[0..4].copy_from_slice(&(len as u32).to_be_bytes());
        h[4..8].copy_from_slice(&self.pdu.command_id().to_be_bytes());
        h[8..12].copy_from_slice(&self.command_status.0.to_be_bytes());
        h[12..16].copy_from_slice(&self.sequence_number.to_be_bytes());
        h
    }

    /// Writes the `len`-octet PDU (`len` = [`Frame::encoded_len`]) at the end of `dst`.
    fn encode_len(&self, len: usize, dst: &mut BytesMut) {
        if len == HEADER_LEN {
            dst.extend_from_slice(&self.header(len));
            return;
        }
        let start = dst.len();
        dst.resize(start + len, 0);
        let mut w = Writer::new(&mut dst[start..]);
        w.slice(&self.header(len));
        self.pdu.encode_body(&mut w);
        debug_assert_eq!(w.written(), len, "encoded_len and encode disagree");
    }

    /// The encoded PDU in a buffer of exactly [`Frame::encoded_len`] octets.
    pub fn to_bytes(&self) -> Bytes {
        if self.pdu.is_header_only() {
            return Bytes::copy_from_slice(&self.header(HEADER_LEN));
        }
        let len = self.encoded_len();
        let mut dst = BytesMut::with_capacity(len);
        self.encode_len(len, &mut dst);
        dst.freeze()
    }
}
