//! `submit_multi` and `submit_multi_resp` (SMPP 3.4 §4.5): one message to up to 254 (v5.0: 255)
//! destinations.

use bytes::Bytes;

use super::{Body, DecodeErrorKind, Field};
use crate::status::CommandStatus;
use crate::tlv::Tlvs;
use crate::types::COctetString;
use crate::wire::{max, short_message_len, Reader, Writer};

/// One destination of `submit_multi` (SMPP 3.4 §4.5.1.1), chosen by `dest_flag`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum DestAddress {
    /// `dest_flag` 0x01: an SME address: `dest_addr_ton U8`, `dest_addr_npi U8`,
    /// `destination_addr C(21)`.
    Sme {
        /// TON (§5.2.5).
        dest_addr_ton: u8,
        /// NPI (§5.2.6).
        dest_addr_npi: u8,
        /// Address, at most 20 characters.
        destination_addr: COctetString,
    },
    /// `dest_flag` 0x02: a distribution list name, `dl_name C(21)`.
    DistributionList(COctetString),
}

impl DestAddress {
    fn encoded_len(&self) -> usize {
        match self {
            DestAddress::Sme {
                destination_addr, ..
            } => 3 + destination_addr.wire_len(),
            DestAddress::DistributionList(name) => 1 + name.wire_len(),
        }
    }
}

/// Body of `submit_multi` (SMPP 3.4 §4.5.1).
///
/// Wire layout: `service_type C(6)`, `source_addr_ton U8`, `source_addr_npi U8`,
/// `source_addr C(21)`, `number_of_dests U8`, `number_of_dests` × [`DestAddress`], then
/// `esm_class` … `short_message` as in `submit_sm`, then TLVs. At most 255 destinations are
/// encoded (the count is a U8); the spec allows 254 in v3.4.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct SubmitMulti {
    /// Service type (§5.2.11).
    pub service_type: COctetString,
    /// TON of `source_addr`.
    pub source_addr_ton: u8,
    /// NPI of `source_addr`.
    pub source_addr_npi: u8,
    /// Originator address, at most 20 characters.
    pub source_addr: COctetString,
    /// The destinations (`number_of_dests` is their count).
    pub dest_addresses: Vec<DestAddress>,
    /// As in `submit_sm` (§5.2.12).
    pub esm_class: u8,
    /// GSM TP-PID (§5.2.13).
    pub protocol_id: u8,
    /// Priority 0–3 (§5.2.14).
    pub priority_flag: u8,
    /// Scheduled delivery (§7.1.1), empty = immediate.
    pub schedule_delivery_time: COctetString,
    /// Validity period (§7.1.1), empty = SMSC default.
    pub validity_period: COctetString,
    /// Receipt request bits (§5.2.17).
    pub registered_delivery: u8,
    /// Replace flag (§5.2.18).
    pub replace_if_present_flag: u8,
    /// Data coding scheme (§5.2.19).
    pub data_coding: u8,
    /// Canned message id (§5.2.20).
    pub sm_default_msg_id: u8,
    /// User data, 0–255 octets.
    pub short_message: Bytes,
    /// Optional parameters.
    pub tlvs: Tlvs,
}

impl Body for SubmitMulti {
    fn decode(r: &mut Reader<'_>) -> Result<Self, DecodeErrorKind> {
        let service_type = r.cstr(Field::ServiceType, max::SERVICE_TYPE)?;
        let source_addr_ton = r.u8(Field::SourceAddrTon)?;
        let source_addr_npi = r.u8(Field::SourceAddrNpi)?;
        let source_addr = r.cstr(Field::SourceAddr, max::ADDR_21)?;
        let count = usize::from(r.u8(Field::NumberOfDests)?);
        // Each destination takes at least 2 octets: never reserve more than the body can hold.
        let mut dest_addresses = Vec::with_capacity(count.min(r.remaining() / 2));
        for _ in 0..count {
            let flag = r.u8(Field::DestFlag)?;
            dest_addresses.push(match flag {
                1 => DestAddress::Sme {
                    dest_addr_ton: r.u8(Field::DestAddrTon)?,
                    dest_addr_npi: r.u8(Field::DestAddrNpi)?,
                    destination_addr: r.cstr(Field::DestinationAddr, max::ADDR_21)?,
                },
                2 => DestAddress::DistributionList(r.cstr(Field::DlName, max::ADDR_21)?),
                other => {
                    return Err(DecodeErrorKind::InvalidValue {
                        field: Field::DestFlag,
                        value: u32::from(other),
                    })
                }
            });
        }
        Ok(SubmitMulti {
            service_type,
            source_addr_ton,
            source_addr_npi,
            source_addr,
            dest_addresses,
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
            + 1
            + self
                .dest_addresses
                .iter()
                .take(255)
                .map(DestAddress::encoded_len)
                .sum::<usize>()
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
        let dests = &self.dest_addresses[..self.dest_addresses.len().min(255)];
        dst.u8(dests.len() as u8);
        for d in dests {
            match d {
                DestAddress::Sme {
                    dest_addr_ton,
                    dest_addr_npi,
                    destination_addr,
                } => {
                    dst.u8(1);
                    dst.address(*dest_addr_ton, *dest_addr_npi, destination_addr);
                }
                DestAddress::DistributionList(name) => {
                    dst.u8(2);
                    dst.cstr(name);
                }
            }
        }
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

/// A destination `submit_multi` could not serve (SMPP 3.4 §4.5.2, `unsuccess_sme`).
///
/// Wire layout: `dest_addr_ton U8`, `dest_addr_npi U8`, `destination_addr C(21)`,
/// `error_status_code U32`.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct UnsuccessSme {
    /// TON of the address.
    pub dest_addr_ton: u8,
    /// NPI of the address.
    pub dest_addr_npi: u8,
    /// The address.
    pub destination_addr: COctetString,
    /// Why it failed, a `command_status` value (§5.1.3).
    pub error_status_code: CommandStatus,
}

/// Body of `submit_multi_resp` (SMPP 3.4 §4.5.2).
///
/// Wire layout: `message_id C(65)`, `no_unsuccess U8`, `no_unsuccess` × [`UnsuccessSme`], then
/// TLVs (v5.0). A body that ends right after `message_id` (as some SMSCs send) decodes with an
/// empty list. At most 255 entries are encoded.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct SubmitMultiResp {
    /// The SMSC's id for the message.
    pub message_id: COctetString,
    /// Destinations that failed.
    pub unsuccess_smes: Vec<UnsuccessSme>,
    /// Optional parameters.
    pub tlvs: Tlvs,
}

impl Body for SubmitMultiResp {
    fn decode(r: &mut Reader<'_>) -> Result<Self, DecodeErrorKind> {
        let message_id = r.cstr_last(Field::MessageId, max::MESSAGE_ID)?;
        if r.remaining() == 0 {
            return Ok(SubmitMultiResp {
                message_id,
                ..SubmitMultiResp::default()
            });
        }
        let count = usize::from(r.u8(Field::NoUnsuccess)?);
        // Each entry takes at least 7 octets.
        let mut unsuccess_smes = Vec::with_capacity(count.min(r.remaining() / 7));
        for _ in 0..count {
            unsuccess_smes.push(UnsuccessSme {
                dest_addr_ton: r.u8(Field::DestAddrTon)?,
                dest_addr_npi: r.u8(Field::DestAddrNpi)?,
                destination_addr: r.cstr(Field::DestinationAddr, max::ADDR_21)?,
                error_status_code: CommandStatus(r.u32(Field::ErrorStatusCode)?),
            });
        }
        Ok(SubmitMultiResp {
            message_id,
            unsuccess_smes,
            tlvs: r.tlvs()?,
        })
    }

    fn encoded_len(&self) -> usize {
        self.message_id.wire_len()
            + 1
            + self
                .unsuccess_smes
                .iter()
                .take(255)
                .map(|u| 6 + u.destination_addr.wire_len())
                .sum::<usize>()
            + self.tlvs.encoded_len()
    }

    fn encode(&self, dst: &mut Writer<'_>) {
        dst.cstr(&self.message_id);
        let list = &self.unsuccess_smes[..self.unsuccess_smes.len().min(255)];
        dst.u8(list.len() as u8);
        for u in list {
            dst.address(u.dest_addr_ton, u.dest_addr_npi, &u.destination_addr);
            dst.u32(u.error_status_code.0);
        }
        dst.slice(self.tlvs.as_bytes());
    }
}
