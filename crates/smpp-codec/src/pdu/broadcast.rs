//! v5.0 cell-broadcast PDUs: `broadcast_sm` (v5.0 §4.4.1), `query_broadcast_sm` (§4.6.1) and
//! `cancel_broadcast_sm` (§4.6.2), with their responses.
//!
//! Their mandatory TLVs are checked only when `DecodeOptions::require_mandatory_tlvs` is set
//! ([`DecodeErrorKind::MissingTlv`], ESME_RMISSINGOPTPARAM).

use super::{Body, DecodeErrorKind, Field};
use crate::tlv::{tags, Tlvs};
use crate::types::COctetString;
use crate::wire::{max, Reader, Writer};

/// Fails with [`DecodeErrorKind::MissingTlv`] for the first of `required` absent from `tlvs`,
/// when the options ask for it.
fn require(r: &Reader<'_>, tlvs: &Tlvs, required: &[u16]) -> Result<(), DecodeErrorKind> {
    if r.opts().require_mandatory_tlvs {
        if let Some(&tag) = required.iter().find(|&&t| !tlvs.contains(t)) {
            return Err(DecodeErrorKind::MissingTlv { tag });
        }
    }
    Ok(())
}

/// Body of `broadcast_sm` (v5.0 §4.4.1.1).
///
/// Wire layout: `service_type C(6)`, `source_addr_ton U8`, `source_addr_npi U8`,
/// `source_addr C(21)`, `message_id C(65)`, `priority_flag U8`, `schedule_delivery_time C(1|17)`,
/// `validity_period C(1|17)`, `replace_if_present_flag U8`, `data_coding U8`,
/// `sm_default_msg_id U8`, then TLVs; `broadcast_area_identifier`, `broadcast_content_type`,
/// `broadcast_rep_num` and `broadcast_frequency_interval` are mandatory.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct BroadcastSm {
    /// Service type.
    pub service_type: COctetString,
    /// TON of `source_addr`.
    pub source_addr_ton: u8,
    /// NPI of `source_addr`.
    pub source_addr_npi: u8,
    /// Originator address, at most 20 characters.
    pub source_addr: COctetString,
    /// Id of a broadcast to replace, else empty.
    pub message_id: COctetString,
    /// Priority (v5.0 §4.7.19).
    pub priority_flag: u8,
    /// Scheduled start (time format of §4.7.23.1).
    pub schedule_delivery_time: COctetString,
    /// Validity period.
    pub validity_period: COctetString,
    /// Replace flag.
    pub replace_if_present_flag: u8,
    /// Data coding scheme.
    pub data_coding: u8,
    /// Canned message id.
    pub sm_default_msg_id: u8,
    /// TLVs, including the mandatory broadcast ones and `message_payload`.
    pub tlvs: Tlvs,
}

impl Body for BroadcastSm {
    fn decode(r: &mut Reader<'_>) -> Result<Self, DecodeErrorKind> {
        let b = BroadcastSm {
            service_type: r.cstr(Field::ServiceType, max::SERVICE_TYPE)?,
            source_addr_ton: r.u8(Field::SourceAddrTon)?,
            source_addr_npi: r.u8(Field::SourceAddrNpi)?,
            source_addr: r.cstr(Field::SourceAddr, max::ADDR_21)?,
            message_id: r.cstr(Field::MessageId, max::MESSAGE_ID)?,
            priority_flag: r.u8(Field::PriorityFlag)?,
            schedule_delivery_time: r.time(Field::ScheduleDeliveryTime)?,
            validity_period: r.time(Field::ValidityPeriod)?,
            replace_if_present_flag: r.u8(Field::ReplaceIfPresentFlag)?,
            data_coding: r.u8(Field::DataCoding)?,
            sm_default_msg_id: r.u8(Field::SmDefaultMsgId)?,
            tlvs: r.tlvs()?,
        };
        require(
            r,
            &b.tlvs,
            &[
                tags::BROADCAST_AREA_IDENTIFIER,
                tags::BROADCAST_CONTENT_TYPE,
                tags::BROADCAST_REP_NUM,
                tags::BROADCAST_FREQUENCY_INTERVAL,
            ],
        )?;
        Ok(b)
    }

    fn encoded_len(&self) -> usize {
        self.service_type.wire_len()
            + 2
            + self.source_addr.wire_len()
            + self.message_id.wire_len()
            + 1
            + self.schedule_delivery_time.wire_len()
            + self.validity_period.wire_len()
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
        dst.cstr(&self.message_id);
        dst.u8(self.priority_flag);
        dst.cstr(&self.schedule_delivery_time);
        dst.cstr(&self.validity_period);
        dst.u8(self.replace_if_present_flag);
        dst.u8(self.data_coding);
        dst.u8(self.sm_default_msg_id);
        dst.slice(self.tlvs.as_bytes());
    }
}

/// Body of `broadcast_sm_resp` (v5.0 §4.4.1.2) and of `query_broadcast_sm_resp`
/// (v5.0 §4.6.1.3): `message_id C(65)`, then TLVs.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct BroadcastSmResp {
    /// The MC's id of the broadcast.
    pub message_id: COctetString,
    /// TLVs (`broadcast_error_status`, `failed_broadcast_area_identifier`; for the query
    /// response `message_state`, `broadcast_area_identifier`, `broadcast_area_success`).
    pub tlvs: Tlvs,
}

/// Body of `query_broadcast_sm_resp` (v5.0 §4.6.1.3): same layout as `broadcast_sm_resp`.
pub type QueryBroadcastSmResp = BroadcastSmResp;

impl Body for BroadcastSmResp {
    fn decode(r: &mut Reader<'_>) -> Result<Self, DecodeErrorKind> {
        Ok(BroadcastSmResp {
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

/// Body of `query_broadcast_sm` (v5.0 §4.6.1.1): `message_id C(65)`, `source_addr_ton U8`,
/// `source_addr_npi U8`, `source_addr C(21)`, then TLVs (`user_message_reference`).
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct QueryBroadcastSm {
    /// Id of the broadcast.
    pub message_id: COctetString,
    /// TON of `source_addr`.
    pub source_addr_ton: u8,
    /// NPI of `source_addr`.
    pub source_addr_npi: u8,
    /// Originator address.
    pub source_addr: COctetString,
    /// Optional parameters.
    pub tlvs: Tlvs,
}

impl Body for QueryBroadcastSm {
    fn decode(r: &mut Reader<'_>) -> Result<Self, DecodeErrorKind> {
        Ok(QueryBroadcastSm {
            message_id: r.cstr(Field::MessageId, max::MESSAGE_ID)?,
            source_addr_ton: r.u8(Field::SourceAddrTon)?,
            source_addr_npi: r.u8(Field::SourceAddrNpi)?,
            source_addr: r.cstr_last(Field::SourceAddr, max::ADDR_21)?,
            tlvs: r.tlvs()?,
        })
    }

    fn encoded_len(&self) -> usize {
        self.message_id.wire_len() + 2 + self.source_addr.wire_len() + self.tlvs.encoded_len()
    }

    fn encode(&self, dst: &mut Writer<'_>) {
        dst.cstr(&self.message_id);
        dst.address(
            self.source_addr_ton,
            self.source_addr_npi,
            &self.source_addr,
        );
        dst.slice(self.tlvs.as_bytes());
    }
}

/// Body of `cancel_broadcast_sm` (v5.0 §4.6.2.1): `service_type C(6)`, `message_id C(65)`,
/// `source_addr_ton U8`, `source_addr_npi U8`, `source_addr C(21)`, then TLVs
/// (`broadcast_content_type`, `user_message_reference`). `cancel_broadcast_sm_resp` is header
/// only.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct CancelBroadcastSm {
    /// Service type.
    pub service_type: COctetString,
    /// Id of the broadcast; empty = all matching.
    pub message_id: COctetString,
    /// TON of `source_addr`.
    pub source_addr_ton: u8,
    /// NPI of `source_addr`.
    pub source_addr_npi: u8,
    /// Originator address.
    pub source_addr: COctetString,
    /// Optional parameters.
    pub tlvs: Tlvs,
}

impl Body for CancelBroadcastSm {
    fn decode(r: &mut Reader<'_>) -> Result<Self, DecodeErrorKind> {
        Ok(CancelBroadcastSm {
            service_type: r.cstr(Field::ServiceType, max::SERVICE_TYPE)?,
            message_id: r.cstr(Field::MessageId, max::MESSAGE_ID)?,
            source_addr_ton: r.u8(Field::SourceAddrTon)?,
            source_addr_npi: r.u8(Field::SourceAddrNpi)?,
            source_addr: r.cstr_last(Field::SourceAddr, max::ADDR_21)?,
            tlvs: r.tlvs()?,
        })
    }

    fn encoded_len(&self) -> usize {
        self.service_type.wire_len()
            + self.message_id.wire_len()
            + 2
            + self.source_addr.wire_len()
            + self.tlvs.encoded_len()
    }

    fn encode(&self, dst: &mut Writer<'_>) {
        dst.cstr(&self.service_type);
        dst.cstr(&self.message_id);
        dst.address(
            self.source_addr_ton,
            self.source_addr_npi,
            &self.source_addr,
        );
        dst.slice(self.tlvs.as_bytes());
    }
}
