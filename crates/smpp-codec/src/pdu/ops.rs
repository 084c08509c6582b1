//! Operations on submitted messages: `query_sm` (SMPP 3.4 §4.8), `cancel_sm` (§4.9),
//! `replace_sm` (§4.10), and the SMSC's `alert_notification` (§4.12).

use bytes::Bytes;

use super::{Body, DecodeErrorKind, Field};
use crate::tlv::Tlvs;
use crate::types::COctetString;
use crate::wire::{max, short_message_len, Reader, Writer};

/// Body of `query_sm` (SMPP 3.4 §4.8.1): asks the state of a message submitted earlier.
///
/// Wire layout: `message_id C(65)`, `source_addr_ton U8`, `source_addr_npi U8`,
/// `source_addr C(21)`; no TLVs.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct QuerySm {
    /// The SMSC's id of the message (from `submit_sm_resp`), at most 64 characters.
    pub message_id: COctetString,
    /// TON of `source_addr` (§5.2.5).
    pub source_addr_ton: u8,
    /// NPI of `source_addr` (§5.2.6).
    pub source_addr_npi: u8,
    /// Originator of the message as submitted, at most 20 characters (C(21)).
    pub source_addr: COctetString,
}

impl Body for QuerySm {
    fn decode(r: &mut Reader<'_>) -> Result<Self, DecodeErrorKind> {
        let b = QuerySm {
            message_id: r.cstr(Field::MessageId, max::MESSAGE_ID)?,
            source_addr_ton: r.u8(Field::SourceAddrTon)?,
            source_addr_npi: r.u8(Field::SourceAddrNpi)?,
            source_addr: r.cstr_last(Field::SourceAddr, max::ADDR_21)?,
        };
        r.finish()?;
        Ok(b)
    }

    fn encoded_len(&self) -> usize {
        self.message_id.wire_len() + 2 + self.source_addr.wire_len()
    }

    fn encode(&self, dst: &mut Writer<'_>) {
        dst.cstr(&self.message_id);
        dst.address(
            self.source_addr_ton,
            self.source_addr_npi,
            &self.source_addr,
        );
    }
}

/// Body of `query_sm_resp` (SMPP 3.4 §4.8.2).
///
/// Wire layout: `message_id C(65)`, `final_date C(1|17)`, `message_state U8`, `error_code U8`;
/// no TLVs.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct QuerySmResp {
    /// The queried message's id.
    pub message_id: COctetString,
    /// When the message reached its final state (§7.1.1), empty if not final yet.
    pub final_date: COctetString,
    /// Current state (§5.2.28): 1 ENROUTE … 8 REJECTED.
    pub message_state: u8,
    /// Network-specific error code, 0 if none (§5.2.31).
    pub error_code: u8,
}

impl Body for QuerySmResp {
    fn decode(r: &mut Reader<'_>) -> Result<Self, DecodeErrorKind> {
        let b = QuerySmResp {
            message_id: r.cstr(Field::MessageId, max::MESSAGE_ID)?,
            final_date: r.time(Field::FinalDate)?,
            message_state: r.u8(Field::MessageState)?,
            error_code: r.u8(Field::ErrorCode)?,
        };
        r.finish()?;
        Ok(b)
    }

    fn encoded_len(&self) -> usize {
        self.message_id.wire_len() + self.final_date.wire_len() + 2
    }

    fn encode(&self, dst: &mut Writer<'_>) {
        dst.cstr(&self.message_id);
        dst.cstr(&self.final_date);
        dst.u8(self.message_state);
        dst.u8(self.error_code);
    }
}

/// Body of `cancel_sm` (SMPP 3.4 §4.9.1): cancels one message (by `message_id`) or all messages
/// matching the addresses (empty `message_id`). `cancel_sm_resp` is header only.
///
/// Wire layout: `service_type C(6)`, `message_id C(65)`, `source_addr_ton U8`,
/// `source_addr_npi U8`, `source_addr C(21)`, `dest_addr_ton U8`, `dest_addr_npi U8`,
/// `destination_addr C(21)`; no TLVs.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct CancelSm {
    /// Service type (§5.2.11), at most 5 characters.
    pub service_type: COctetString,
    /// Id of the message to cancel; empty = all matching messages.
    pub message_id: COctetString,
    /// TON of `source_addr`.
    pub source_addr_ton: u8,
    /// NPI of `source_addr`.
    pub source_addr_npi: u8,
    /// Originator of the message(s), at most 20 characters.
    pub source_addr: COctetString,
    /// TON of `destination_addr`.
    pub dest_addr_ton: u8,
    /// NPI of `destination_addr`.
    pub dest_addr_npi: u8,
    /// Recipient of the message(s), at most 20 characters (decoded leniently up to 64).
    pub destination_addr: COctetString,
}

impl Body for CancelSm {
    fn decode(r: &mut Reader<'_>) -> Result<Self, DecodeErrorKind> {
        let b = CancelSm {
            service_type: r.cstr(Field::ServiceType, max::SERVICE_TYPE)?,
            message_id: r.cstr(Field::MessageId, max::MESSAGE_ID)?,
            source_addr_ton: r.u8(Field::SourceAddrTon)?,
            source_addr_npi: r.u8(Field::SourceAddrNpi)?,
            source_addr: r.cstr(Field::SourceAddr, max::ADDR_21)?,
            dest_addr_ton: r.u8(Field::DestAddrTon)?,
            dest_addr_npi: r.u8(Field::DestAddrNpi)?,
            destination_addr: r.cstr_last(Field::DestinationAddr, max::ADDR_21)?,
        };
        r.finish()?;
        Ok(b)
    }

    fn encoded_len(&self) -> usize {
        self.service_type.wire_len()
            + self.message_id.wire_len()
            + 2
            + self.source_addr.wire_len()
            + 2
            + self.destination_addr.wire_len()
    }

    fn encode(&self, dst: &mut Writer<'_>) {
        dst.cstr(&self.service_type);
        dst.cstr(&self.message_id);
        dst.address(
            self.source_addr_ton,
            self.source_addr_npi,
            &self.source_addr,
        );
        dst.address(
            self.dest_addr_ton,
            self.dest_addr_npi,
            &self.destination_addr,
        );
    }
}

/// Body of `replace_sm` (SMPP 3.4 §4.10.1): replaces a submitted message that is still pending.
/// `replace_sm_resp` is header only.
///
/// Wire layout: `message_id C(65)`, `source_addr_ton U8`, `source_addr_npi U8`,
/// `source_addr C(21)`, `schedule_delivery_time C(1|17)`, `validity_period C(1|17)`,
/// `registered_delivery U8`, `sm_default_msg_id U8`, `sm_length U8`,
/// `short_message O(sm_length)`, then TLVs (v5.0: `message_payload`).
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct ReplaceSm {
    /// Id of the message to replace.
    pub message_id: COctetString,
    /// TON of `source_addr`.
    pub source_addr_ton: u8,
    /// NPI of `source_addr`.
    pub source_addr_npi: u8,
    /// Originator of the message, at most 20 characters.
    pub source_addr: COctetString,
    /// New scheduled delivery time (§7.1.1); empty = keep.
    pub schedule_delivery_time: COctetString,
    /// New validity period (§7.1.1); empty = keep.
    pub validity_period: COctetString,
    /// New receipt request bits (§5.2.17).
    pub registered_delivery: u8,
    /// New canned message id (§5.2.20).
    pub sm_default_msg_id: u8,
    /// New user data, 0–255 octets.
    pub short_message: Bytes,
    /// Optional parameters.
    pub tlvs: Tlvs,
}

impl Body for ReplaceSm {
    fn decode(r: &mut Reader<'_>) -> Result<Self, DecodeErrorKind> {
        Ok(ReplaceSm {
            message_id: r.cstr(Field::MessageId, max::MESSAGE_ID)?,
            source_addr_ton: r.u8(Field::SourceAddrTon)?,
            source_addr_npi: r.u8(Field::SourceAddrNpi)?,
            source_addr: r.cstr(Field::SourceAddr, max::ADDR_21)?,
            schedule_delivery_time: r.time(Field::ScheduleDeliveryTime)?,
            validity_period: r.time(Field::ValidityPeriod)?,
            registered_delivery: r.u8(Field::RegisteredDelivery)?,
            sm_default_msg_id: r.u8(Field::SmDefaultMsgId)?,
            short_message: r.short_message()?,
            tlvs: r.tlvs()?,
        })
    }

    fn encoded_len(&self) -> usize {
        self.message_id.wire_len()
            + 2
            + self.source_addr.wire_len()
            + self.schedule_delivery_time.wire_len()
            + self.validity_period.wire_len()
            + 2
            + short_message_len(&self.short_message)
            + self.tlvs.encoded_len()
    }

    fn encode(&self, dst: &mut Writer<'_>) {
        dst.cstr(&self.message_id);
        dst.address(
            self.source_addr_ton,
            self.source_addr_npi,
            &self.source_addr,
        );
        dst.cstr(&self.schedule_delivery_time);
        dst.cstr(&self.validity_period);
        dst.u8(self.registered_delivery);
        dst.u8(self.sm_default_msg_id);
        dst.short_message(&self.short_message);
        dst.slice(self.tlvs.as_bytes());
    }
}

/// Body of `alert_notification` (SMPP 3.4 §4.12.1): the SMSC tells a receiver ESME that a mobile
/// became available. There is no response PDU.
///
/// Wire layout: `source_addr_ton U8`, `source_addr_npi U8`, `source_addr C(65)`,
/// `esme_addr_ton U8`, `esme_addr_npi U8`, `esme_addr C(65)`, then TLVs
/// (`ms_availability_status`).
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct AlertNotification {
    /// TON of `source_addr`.
    pub source_addr_ton: u8,
    /// NPI of `source_addr`.
    pub source_addr_npi: u8,
    /// The mobile that became available, at most 64 characters.
    pub source_addr: COctetString,
    /// TON of `esme_addr`.
    pub esme_addr_ton: u8,
    /// NPI of `esme_addr`.
    pub esme_addr_npi: u8,
    /// The ESME address that asked for the alert, at most 64 characters.
    pub esme_addr: COctetString,
    /// Optional parameters (`ms_availability_status`).
    pub tlvs: Tlvs,
}

impl Body for AlertNotification {
    fn decode(r: &mut Reader<'_>) -> Result<Self, DecodeErrorKind> {
        Ok(AlertNotification {
            source_addr_ton: r.u8(Field::SourceAddrTon)?,
            source_addr_npi: r.u8(Field::SourceAddrNpi)?,
            source_addr: r.cstr(Field::SourceAddr, max::ADDR_65)?,
            esme_addr_ton: r.u8(Field::EsmeAddrTon)?,
            esme_addr_npi: r.u8(Field::EsmeAddrNpi)?,
            esme_addr: r.cstr_last(Field::EsmeAddr, max::ADDR_65)?,
            tlvs: r.tlvs()?,
        })
    }

    fn encoded_len(&self) -> usize {
        2 + self.source_addr.wire_len() + 2 + self.esme_addr.wire_len() + self.tlvs.encoded_len()
    }

    fn encode(&self, dst: &mut Writer<'_>) {
        dst.address(
            self.source_addr_ton,
            self.source_addr_npi,
            &self.source_addr,
        );
        dst.address(self.esme_addr_ton, self.esme_addr_npi, &self.esme_addr);
        dst.slice(self.tlvs.as_bytes());
    }
}
