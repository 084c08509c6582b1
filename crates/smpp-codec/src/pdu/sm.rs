//! Message submission and delivery: `submit_sm` / `deliver_sm` (SMPP 3.4 §4.4, §4.6) and their
//! responses, and `data_sm` (§4.7).

use bytes::Bytes;

use super::{Body, DecodeErrorKind, Field};
use crate::tlv::{tags, Tlvs};
use crate::types::COctetString;
use crate::wire::{max, short_message_len, Reader, Writer};

/// Body of `submit_sm` (SMPP 3.4 §4.4.1) and of `deliver_sm` (§4.6.1), which has the same layout.
///
/// Wire layout: `service_type C(6)`, `source_addr_ton U8`, `source_addr_npi U8`,
/// `source_addr C(21)`, `dest_addr_ton U8`, `dest_addr_npi U8`, `destination_addr C(21)`,
/// `esm_class U8`, `protocol_id U8`, `priority_flag U8`, `schedule_delivery_time C(1|17)`,
/// `validity_period C(1|17)`, `registered_delivery U8`, `replace_if_present_flag U8`,
/// `data_coding U8`, `sm_default_msg_id U8`, `sm_length U8`, `short_message O(sm_length)`, TLVs.
///
/// In `deliver_sm` the two time fields, `replace_if_present_flag` and `sm_default_msg_id` are
/// unused and should be NULL/0 (§4.6.1). `short_message` holds at most 255 octets (its length is a
/// U8; v3.4 says 254); longer user data goes in the `message_payload` TLV with an empty
/// `short_message` (see [`SubmitSm::set_user_data`]). The encoder cuts `short_message` at 255
/// octets.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct SubmitSm {
    /// Service type (§5.2.11), at most 5 characters (C(6)); empty = SMSC default.
    pub service_type: COctetString,
    /// TON of `source_addr` (§5.2.5).
    pub source_addr_ton: u8,
    /// NPI of `source_addr` (§5.2.6).
    pub source_addr_npi: u8,
    /// Originator address, at most 20 characters (C(21)).
    pub source_addr: COctetString,
    /// TON of `destination_addr` (§5.2.5).
    pub dest_addr_ton: u8,
    /// NPI of `destination_addr` (§5.2.6).
    pub dest_addr_npi: u8,
    /// Recipient address, at most 20 characters (C(21)).
    pub destination_addr: COctetString,
    /// Messaging mode, message type and GSM features (§5.2.12): 0x04 = delivery receipt,
    /// 0x40 = UDHI.
    pub esm_class: u8,
    /// GSM TP-PID (§5.2.13).
    pub protocol_id: u8,
    /// Priority 0–3 (§5.2.14).
    pub priority_flag: u8,
    /// Scheduled delivery, empty or 16 characters `YYMMDDhhmmsstnnp` (§7.1.1).
    pub schedule_delivery_time: COctetString,
    /// Validity period, empty or 16 characters, absolute or relative (`…R`) (§7.1.1).
    pub validity_period: COctetString,
    /// Receipt / acknowledgement request bits (§5.2.17): 0x01 receipt on success or failure.
    pub registered_delivery: u8,
    /// 1 = replace an existing message (§5.2.18).
    pub replace_if_present_flag: u8,
    /// Data coding scheme of `short_message` (§5.2.19), see [`crate::text::data_coding`].
    pub data_coding: u8,
    /// Canned message id, 0 = none (§5.2.20).
    pub sm_default_msg_id: u8,
    /// User data, 0–255 octets, zero-copy from the frame (§5.2.21–22).
    pub short_message: Bytes,
    /// Optional parameters (§4.4.1 / §4.6.1 TLV tables).
    pub tlvs: Tlvs,
}

/// Body of `deliver_sm` (SMPP 3.4 §4.6.1): same layout as `submit_sm`.
pub type DeliverSm = SubmitSm;

impl SubmitSm {
    /// The user data: `message_payload` if that TLV is present, else `short_message`
    /// (§5.3.2.32: the two are never both used).
    pub fn user_data(&self) -> Bytes {
        self.tlvs
            .message_payload()
            .unwrap_or_else(|| self.short_message.clone())
    }

    /// Puts `data` into `short_message` when it fits (≤ 254 octets, the v3.4 limit), else into a
    /// `message_payload` TLV (≤ 65535 octets) with an empty `short_message`. Any earlier
    /// `message_payload` is removed.
    ///
    /// # Errors
    /// [`crate::tlv::TlvTooLong`] when `data` is longer than 65535 octets (nothing is changed).
    pub fn set_user_data(&mut self, data: Bytes) -> Result<(), crate::tlv::TlvTooLong> {
        if data.len() > 65535 {
            return Err(crate::tlv::TlvTooLong {
                tag: tags::MESSAGE_PAYLOAD,
                len: data.len(),
            });
        }
        self.tlvs.remove(tags::MESSAGE_PAYLOAD);
        if data.len() <= 254 {
            self.short_message = data;
        } else {
            self.short_message = Bytes::new();
            self.tlvs.push(tags::MESSAGE_PAYLOAD, &data);
        }
        Ok(())
    }

    /// `true` when `esm_class` marks an SMSC delivery receipt: message type bits (mask 0x3C) equal
    /// 0x04 (§5.2.12). UDHI and mode bits are ignored, so 0x44 is a receipt too.
    pub fn is_delivery_receipt(&self) -> bool {
        self.esm_class & 0x3C == 0x04
    }

    /// `true` when `esm_class` marks an intermediate delivery notification (message type 0x20,
    /// §5.2.12).
    pub fn is_intermediate_notification(&self) -> bool {
        self.esm_class & 0x3C == 0x20
    }

    /// `true` when `esm_class` has UDHI (0x40): the user data starts with a user data header.
    pub fn has_udh(&self) -> bool {
        self.esm_class & 0x40 != 0
    }
}

impl Body for SubmitSm {
    fn decode(r: &mut Reader<'_>) -> Result<Self, DecodeErrorKind> {
        Ok(SubmitSm {
            service_type: r.cstr(Field::ServiceType, max::SERVICE_TYPE)?,
            source_addr_ton: r.u8(Field::SourceAddrTon)?,
            source_addr_npi: r.u8(Field::SourceAddrNpi)?,
            source_addr: r.cstr(Field::SourceAddr, max::ADDR_21)?,
            dest_addr_ton: r.u8(Field::DestAddrTon)?,
            dest_addr_npi: r.u8(Field::DestAddrNpi)?,
            destination_addr: r.cstr(Field::DestinationAddr, max::ADDR_21)?,
            esm_class: r.u8(Field::EsmClass)?,
            protocol_id: r.u8(Field::ProtocolId)?,
            priority_flag: r.u8(Field::PriorityFlag)?,
            schedule_delivery_time: r.time(Field::ScheduleDeliveryTime)?,
            validity_period: r.time(Field::ValidityPeriod)?,
            registered_delivery: r.u8(Field::RegisteredDelivery)?,
            replace_if_present_flag: r.u8(Field::ReplaceIfPresentFlag)?,
            data_coding: r.u8(Field::DataCoding)?,
            sm_default_msg_id: r.u8(Field::SmDefaultMsgId)?,
            short_message: r.short_message()?,
            tlvs: r.tlvs()?,
        })
    }

    fn encoded_len(&self) -> usize {
        self.service_type.wire_len()
            + 2
            + self.source_addr.wire_len()
            + 2
            + self.destination_addr.wire_len()
            + 3
            + self.schedule_delivery_time.wire_len()
            + self.validity_period.wire_len()
            + 4
            + short_message_len(&self.short_message)
            + self.tlvs.encoded_len()
    }

    fn encode(&self, dst: &mut Writer<'_>) {
        dst.cstr(&self.service_type);
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
        dst.u8(self.esm_class);
        dst.u8(self.protocol_id);
        dst.u8(self.priority_flag);
        dst.cstr(&self.schedule_delivery_time);
        dst.cstr(&self.validity_period);
        dst.u8(self.registered_delivery);
        dst.u8(self.replace_if_present_flag);
        dst.u8(self.data_coding);
        dst.u8(self.sm_default_msg_id);
        dst.short_message(&self.short_message);
        dst.slice(self.tlvs.as_bytes());
    }
}

/// Body of `submit_sm_resp` (SMPP 3.4 §4.4.2) and `data_sm_resp` (§4.7.2).
///
/// Wire layout: `message_id C(65)`, then TLVs (v5.0; `data_sm_resp` in v3.4). An error response
/// without a body (16-octet PDU) decodes as `Default`.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct SubmitSmResp {
    /// The SMSC's id for the message, at most 64 characters (C(65)); opaque text.
    pub message_id: COctetString,
    /// Optional parameters (e.g. `network_error_code`, `delivery_failure_reason`).
    pub tlvs: Tlvs,
}

/// Body of `data_sm_resp` (SMPP 3.4 §4.7.2): same layout as `submit_sm_resp`.
pub type DataSmResp = SubmitSmResp;

impl Body for SubmitSmResp {
    fn decode(r: &mut Reader<'_>) -> Result<Self, DecodeErrorKind> {
        Ok(SubmitSmResp {
            message_id: r.cstr_last(Field::MessageId, max::MESSAGE_ID)?,
            tlvs: r.tlvs()?,
        })
    }

    fn encoded_len(&self) -> usize {
        self.message_id.wire_len() + self.tlvs.encoded_len()
    }

    fn encode(&self, dst: &mut Writer<'_>) {
        dst.cstr(&self.message_id);
        dst.slice(self.tlvs.as_bytes());
    }
}

/// Body of `deliver_sm_resp` (SMPP 3.4 §4.6.2).
///
/// Wire layout: `message_id C(1)` in v3.4 (unused, always NULL); v5.0 allows up to C(65), so it is
/// decoded up to 65 octets and kept. Octets after it (v5.0 TLVs) are ignored when decoding.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct DeliverSmResp {
    /// Unused; should be empty.
    pub message_id: COctetString,
}

impl Body for DeliverSmResp {
    fn decode(r: &mut Reader<'_>) -> Result<Self, DecodeErrorKind> {
        let message_id = r.cstr_last(Field::MessageId, max::MESSAGE_ID)?;
        r.finish()?;
        Ok(DeliverSmResp { message_id })
    }

    fn encoded_len(&self) -> usize {
        self.message_id.wire_len()
    }

    fn encode(&self, dst: &mut Writer<'_>) {
        dst.cstr(&self.message_id);
    }
}

/// Body of `data_sm` (SMPP 3.4 §4.7.1).
///
/// Wire layout: `service_type C(6)`, `source_addr_ton U8`, `source_addr_npi U8`,
/// `source_addr C(65)`, `dest_addr_ton U8`, `dest_addr_npi U8`, `destination_addr C(65)`,
/// `esm_class U8`, `registered_delivery U8`, `data_coding U8`, TLVs. There is no
/// `short_message`: user data travels in the `message_payload` TLV.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct DataSm {
    /// Service type (§5.2.11), at most 5 characters (C(6)).
    pub service_type: COctetString,
    /// TON of `source_addr` (§5.2.5).
    pub source_addr_ton: u8,
    /// NPI of `source_addr` (§5.2.6).
    pub source_addr_npi: u8,
    /// Originator address, at most 64 characters (C(65)).
    pub source_addr: COctetString,
    /// TON of `destination_addr` (§5.2.5).
    pub dest_addr_ton: u8,
    /// NPI of `destination_addr` (§5.2.6).
    pub dest_addr_npi: u8,
    /// Recipient address, at most 64 characters (C(65)).
    pub destination_addr: COctetString,
    /// Messaging mode and message type (§5.2.12).
    pub esm_class: u8,
    /// Receipt / acknowledgement request bits (§5.2.17).
    pub registered_delivery: u8,
    /// Data coding scheme of the payload (§5.2.19).
    pub data_coding: u8,
    /// Optional parameters; `message_payload` carries the user data.
    pub tlvs: Tlvs,
}

impl Body for DataSm {
    fn decode(r: &mut Reader<'_>) -> Result<Self, DecodeErrorKind> {
        Ok(DataSm {
            service_type: r.cstr(Field::ServiceType, max::SERVICE_TYPE)?,
            source_addr_ton: r.u8(Field::SourceAddrTon)?,
            source_addr_npi: r.u8(Field::SourceAddrNpi)?,
            source_addr: r.cstr(Field::SourceAddr, max::ADDR_65)?,
            dest_addr_ton: r.u8(Field::DestAddrTon)?,
            dest_addr_npi: r.u8(Field::DestAddrNpi)?,
            destination_addr: r.cstr(Field::DestinationAddr, max::ADDR_65)?,
            esm_class: r.u8(Field::EsmClass)?,
            registered_delivery: r.u8(Field::RegisteredDelivery)?,
            data_coding: r.u8(Field::DataCoding)?,
            tlvs: r.tlvs()?,
        })
    }

    fn encoded_len(&self) -> usize {
        self.service_type.wire_len()
            + 2
            + self.source_addr.wire_len()
            + 2
            + self.destination_addr.wire_len()
            + 3
            + self.tlvs.encoded_len()
    }

    fn encode(&self, dst: &mut Writer<'_>) {
        dst.cstr(&self.service_type);
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
        dst.u8(self.esm_class);
        dst.u8(self.registered_delivery);
        dst.u8(self.data_coding);
        dst.slice(self.tlvs.as_bytes());
    }
}
