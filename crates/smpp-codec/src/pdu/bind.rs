//! Bind family: `bind_transmitter`, `bind_receiver`, `bind_transceiver` and their responses
//! (SMPP 3.4 §4.1).

use super::{Body, DecodeErrorKind, Field};
use crate::tlv::{tags, Tlvs};
use crate::types::COctetString;
use crate::wire::{max, Reader, Writer};

/// Body of `bind_transmitter` (§4.1.1), `bind_receiver` (§4.1.3) and `bind_transceiver`
/// (§4.1.5); the three are identical on the wire.
///
/// Wire layout: `system_id C(16)`, `password C(9)`, `system_type C(13)`, `interface_version U8`,
/// `addr_ton U8`, `addr_npi U8`, `address_range C(41)`; no TLVs.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Bind {
    /// Identifies the ESME to the SMSC, at most 15 characters (C(16)).
    pub system_id: COctetString,
    /// Password, at most 8 characters (C(9)).
    pub password: COctetString,
    /// Type of ESME, at most 12 characters (C(13)); often empty.
    pub system_type: COctetString,
    /// SMPP version supported by the ESME (§5.2.4): 0x34 for v3.4, 0x50 for v5.0, ≤ 0x33 older.
    pub interface_version: u8,
    /// TON of `address_range` (§5.2.5).
    pub addr_ton: u8,
    /// NPI of `address_range` (§5.2.6).
    pub addr_npi: u8,
    /// Addresses served by this ESME (receiver/transceiver), at most 40 characters (C(41)).
    pub address_range: COctetString,
}

impl Default for Bind {
    /// Empty strings, `interface_version` 0x34, TON/NPI 0.
    fn default() -> Self {
        Bind {
            system_id: COctetString::default(),
            password: COctetString::default(),
            system_type: COctetString::default(),
            interface_version: 0x34,
            addr_ton: 0,
            addr_npi: 0,
            address_range: COctetString::default(),
        }
    }
}

impl Body for Bind {
    fn decode(r: &mut Reader<'_>) -> Result<Self, DecodeErrorKind> {
        let system_id = r.cstr(Field::SystemId, max::SYSTEM_ID)?;
        let password = r.cstr(Field::Password, max::PASSWORD)?;
        let system_type = r.cstr(Field::SystemType, max::SYSTEM_TYPE)?;
        let interface_version = r.u8(Field::InterfaceVersion)?;
        let addr_ton = r.u8(Field::AddrTon)?;
        let addr_npi = r.u8(Field::AddrNpi)?;
        let address_range = r.cstr_last(Field::AddressRange, max::ADDRESS_RANGE)?;
        // Checked before the value is built, so it is built in the return slot.
        r.finish()?;
        Ok(Bind {
            system_id,
            password,
            system_type,
            interface_version,
            addr_ton,
            addr_npi,
            address_range,
        })
    }

    fn encoded_len(&self) -> usize {
        self.system_id.wire_len()
            + self.password.wire_len()
            + self.system_type.wire_len()
            + 3
            + self.address_range.wire_len()
    }

    fn encode(&self, dst: &mut Writer<'_>) {
        dst.cstr(&self.system_id);
        dst.cstr(&self.password);
        dst.cstr(&self.system_type);
        dst.u8(self.interface_version);
        dst.address(self.addr_ton, self.addr_npi, &self.address_range);
    }
}

/// Body of `bind_transmitter_resp` (§4.1.2), `bind_receiver_resp` (§4.1.4) and
/// `bind_transceiver_resp` (§4.1.6).
///
/// Wire layout: `system_id C(16)` (the SMSC's id), then TLVs (usually `sc_interface_version`).
/// Error responses may omit the body; it then decodes as `Default`.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct BindResp {
    /// The SMSC's identifier, at most 15 characters (C(16)).
    pub system_id: COctetString,
    /// Optional parameters; `sc_interface_version` (0x0210) tells the SMSC's SMPP version.
    pub tlvs: Tlvs,
}

impl Body for BindResp {
    fn decode(r: &mut Reader<'_>) -> Result<Self, DecodeErrorKind> {
        let resp = BindResp {
            system_id: r.cstr_last(Field::SystemId, max::SYSTEM_ID)?,
            tlvs: r.tlvs()?,
        };
        if r.opts().reject_newer_sc_interface_version {
            if let Some(v) = resp.tlvs.sc_interface_version() {
                if v > r.opts().interface_version {
                    return Err(DecodeErrorKind::InvalidTlvValue {
                        tag: tags::SC_INTERFACE_VERSION,
                        value: u32::from(v),
                    });
                }
            }
        }
        Ok(resp)
    }

    fn encoded_len(&self) -> usize {
        self.system_id.wire_len() + self.tlvs.encoded_len()
    }

    fn encode(&self, dst: &mut Writer<'_>) {
        dst.cstr(&self.system_id);
        dst.slice(self.tlvs.as_bytes());
    }
}

/// Body of `outbind` (SMPP 3.4 §4.1.7): the SMSC asks a receiver ESME to bind. There is no
/// `outbind_resp`; the ESME answers with `bind_receiver` or `bind_transceiver`.
///
/// Wire layout: `system_id C(16)` (the SMSC's id), `password C(9)`; no TLVs.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct Outbind {
    /// The SMSC's identifier, at most 15 characters (C(16)).
    pub system_id: COctetString,
    /// Password, at most 8 characters (C(9)).
    pub password: COctetString,
}

impl Body for Outbind {
    fn decode(r: &mut Reader<'_>) -> Result<Self, DecodeErrorKind> {
        let b = Outbind {
            system_id: r.cstr(Field::SystemId, max::SYSTEM_ID)?,
            password: r.cstr_last(Field::Password, max::PASSWORD)?,
        };
        r.finish()?;
        Ok(b)
    }

    fn encoded_len(&self) -> usize {
        self.system_id.wire_len() + self.password.wire_len()
    }

    fn encode(&self, dst: &mut Writer<'_>) {
        dst.cstr(&self.system_id);
        dst.cstr(&self.password);
    }
}
