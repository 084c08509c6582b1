//! Optional parameters, "TLVs" (SMPP 3.4 §3.2.4 format, §5.3 tags; v5.0 Table 4-60 for the
//! v5 tags).
//!
//! On the wire a TLV is `tag U16`, `length U16` (of the value only), `value` (length octets), all
//! big-endian. TLVs follow a PDU's mandatory fields, in any order. [`Tlvs`] keeps that region as
//! one validated, zero-copy buffer, so vendor TLVs this crate does not know re-encode byte for
//! byte.

use std::fmt;

use bytes::{BufMut, Bytes, BytesMut};

use crate::pdu::DecodeErrorKind;
use crate::types::COctetString;
use crate::wire;

macro_rules! tags {
    ($( $(#[$doc:meta])* $name:ident = $value:expr, $wire:literal; )*) => {
        /// TLV tag values (SMPP 3.4 §5.3.2; v5.0 Table 4-60 for the tags marked v5.0).
        ///
        /// Vendor-specific tags use `0x1400..=0x3FFF` (v5.0 Table 4-59); any tag may be carried in
        /// [`Tlvs`](crate::tlv::Tlvs), known or not.
        pub mod tags {
            $( $(#[$doc])* pub const $name: u16 = $value; )*
        }

        /// The spec name of a TLV tag (`"receipted_message_id"`), or `None` for an unknown or
        /// vendor tag (SMPP 3.4 §5.3.2, v5.0 Table 4-60).
        pub fn tag_name(tag: u16) -> Option<&'static str> {
            match tag {
                $( $value => Some($wire), )*
                _ => None,
            }
        }

        /// The tag named `name` (`"message_payload"`, as [`tag_name`] spells it), or `None`.
        pub fn tag_by_name(name: &str) -> Option<u16> {
            match name {
                $( $wire => Some($value), )*
                _ => None,
            }
        }
    };
}

tags! {
    /// `dest_addr_subunit` (§5.3.2.1), U8.
    DEST_ADDR_SUBUNIT = 0x0005, "dest_addr_subunit";
    /// `dest_network_type` (§5.3.2.3), U8.
    DEST_NETWORK_TYPE = 0x0006, "dest_network_type";
    /// `dest_bearer_type` (§5.3.2.5), U8.
    DEST_BEARER_TYPE = 0x0007, "dest_bearer_type";
    /// `dest_telematics_id` (§5.3.2.7), U16.
    DEST_TELEMATICS_ID = 0x0008, "dest_telematics_id";
    /// `source_addr_subunit` (§5.3.2.2), U8.
    SOURCE_ADDR_SUBUNIT = 0x000D, "source_addr_subunit";
    /// `source_network_type` (§5.3.2.4), U8.
    SOURCE_NETWORK_TYPE = 0x000E, "source_network_type";
    /// `source_bearer_type` (§5.3.2.6), U8.
    SOURCE_BEARER_TYPE = 0x000F, "source_bearer_type";
    /// `source_telematics_id` (§5.3.2.8), U8.
    SOURCE_TELEMATICS_ID = 0x0010, "source_telematics_id";
    /// `qos_time_to_live` (§5.3.2.9), U32 seconds.
    QOS_TIME_TO_LIVE = 0x0017, "qos_time_to_live";
    /// `payload_type` (§5.3.2.10), U8.
    PAYLOAD_TYPE = 0x0019, "payload_type";
    /// `additional_status_info_text` (§5.3.2.11), C-Octet String ≤ 256.
    ADDITIONAL_STATUS_INFO_TEXT = 0x001D, "additional_status_info_text";
    /// `receipted_message_id` (§5.3.2.12), C-Octet String ≤ 65.
    RECEIPTED_MESSAGE_ID = 0x001E, "receipted_message_id";
    /// `ms_msg_wait_facilities` (§5.3.2.13), U8 bit field.
    MS_MSG_WAIT_FACILITIES = 0x0030, "ms_msg_wait_facilities";
    /// `privacy_indicator` (§5.3.2.14), U8.
    PRIVACY_INDICATOR = 0x0201, "privacy_indicator";
    /// `source_subaddress` (§5.3.2.15), 2–23 octets.
    SOURCE_SUBADDRESS = 0x0202, "source_subaddress";
    /// `dest_subaddress` (§5.3.2.16), 2–23 octets.
    DEST_SUBADDRESS = 0x0203, "dest_subaddress";
    /// `user_message_reference` (§5.3.2.17), U16.
    USER_MESSAGE_REFERENCE = 0x0204, "user_message_reference";
    /// `user_response_code` (§5.3.2.18), U8.
    USER_RESPONSE_CODE = 0x0205, "user_response_code";
    /// `source_port` (§5.3.2.20), U16.
    SOURCE_PORT = 0x020A, "source_port";
    /// `destination_port` (§5.3.2.21; v5.0 name `dest_port`), U16.
    DESTINATION_PORT = 0x020B, "destination_port";
    /// `sar_msg_ref_num` (§5.3.2.22), U16.
    SAR_MSG_REF_NUM = 0x020C, "sar_msg_ref_num";
    /// `language_indicator` (§5.3.2.19), U8.
    LANGUAGE_INDICATOR = 0x020D, "language_indicator";
    /// `sar_total_segments` (§5.3.2.23), U8 1–255.
    SAR_TOTAL_SEGMENTS = 0x020E, "sar_total_segments";
    /// `sar_segment_seqnum` (§5.3.2.24), U8 1–255.
    SAR_SEGMENT_SEQNUM = 0x020F, "sar_segment_seqnum";
    /// `sc_interface_version` (§5.3.2.25), U8 (0x34, 0x50).
    SC_INTERFACE_VERSION = 0x0210, "sc_interface_version";
    /// `callback_num_pres_ind` (§5.3.2.37), U8 bit field.
    CALLBACK_NUM_PRES_IND = 0x0302, "callback_num_pres_ind";
    /// `callback_num_atag` (§5.3.2.38), ≤ 65 octets.
    CALLBACK_NUM_ATAG = 0x0303, "callback_num_atag";
    /// `number_of_messages` (§5.3.2.39), U8 0–99.
    NUMBER_OF_MESSAGES = 0x0304, "number_of_messages";
    /// `callback_num` (§5.3.2.36), 4–19 octets.
    CALLBACK_NUM = 0x0381, "callback_num";
    /// `dpf_result` (§5.3.2.28), U8.
    DPF_RESULT = 0x0420, "dpf_result";
    /// `set_dpf` (§5.3.2.29), U8.
    SET_DPF = 0x0421, "set_dpf";
    /// `ms_availability_status` (§5.3.2.30), U8.
    MS_AVAILABILITY_STATUS = 0x0422, "ms_availability_status";
    /// `network_error_code` (§5.3.2.31), 3 octets: type U8 + code U16.
    NETWORK_ERROR_CODE = 0x0423, "network_error_code";
    /// `message_payload` (§5.3.2.32), octet string up to 65535 octets.
    MESSAGE_PAYLOAD = 0x0424, "message_payload";
    /// `delivery_failure_reason` (§5.3.2.33), U8.
    DELIVERY_FAILURE_REASON = 0x0425, "delivery_failure_reason";
    /// `more_messages_to_send` (§5.3.2.34), U8.
    MORE_MESSAGES_TO_SEND = 0x0426, "more_messages_to_send";
    /// `message_state` (§5.3.2.35), U8, values as §5.2.28.
    MESSAGE_STATE = 0x0427, "message_state";
    /// `congestion_state` (v5.0 §4.8.4.17), U8 0–100.
    CONGESTION_STATE = 0x0428, "congestion_state";
    /// `ussd_service_op` (§5.3.2.44), U8.
    USSD_SERVICE_OP = 0x0501, "ussd_service_op";
    /// `broadcast_channel_indicator` (v5.0), U8.
    BROADCAST_CHANNEL_INDICATOR = 0x0600, "broadcast_channel_indicator";
    /// `broadcast_content_type` (v5.0), 3 octets.
    BROADCAST_CONTENT_TYPE = 0x0601, "broadcast_content_type";
    /// `broadcast_content_type_info` (v5.0), 1–255 octets.
    BROADCAST_CONTENT_TYPE_INFO = 0x0602, "broadcast_content_type_info";
    /// `broadcast_message_class` (v5.0), U8.
    BROADCAST_MESSAGE_CLASS = 0x0603, "broadcast_message_class";
    /// `broadcast_rep_num` (v5.0), U16.
    BROADCAST_REP_NUM = 0x0604, "broadcast_rep_num";
    /// `broadcast_frequency_interval` (v5.0), 3 octets.
    BROADCAST_FREQUENCY_INTERVAL = 0x0605, "broadcast_frequency_interval";
    /// `broadcast_area_identifier` (v5.0), variable.
    BROADCAST_AREA_IDENTIFIER = 0x0606, "broadcast_area_identifier";
    /// `broadcast_error_status` (v5.0), U32 command_status.
    BROADCAST_ERROR_STATUS = 0x0607, "broadcast_error_status";
    /// `broadcast_area_success` (v5.0), U8.
    BROADCAST_AREA_SUCCESS = 0x0608, "broadcast_area_success";
    /// `broadcast_end_time` (v5.0), time string.
    BROADCAST_END_TIME = 0x0609, "broadcast_end_time";
    /// `broadcast_service_group` (v5.0), 1–255 octets.
    BROADCAST_SERVICE_GROUP = 0x060A, "broadcast_service_group";
    /// `billing_identification` (v5.0), 1–1024 octets.
    BILLING_IDENTIFICATION = 0x060B, "billing_identification";
    /// `source_network_id` (v5.0), C-Octet String 7–65.
    SOURCE_NETWORK_ID = 0x060D, "source_network_id";
    /// `dest_network_id` (v5.0), C-Octet String 7–65.
    DEST_NETWORK_ID = 0x060E, "dest_network_id";
    /// `source_node_id` (v5.0), 6 decimal digits.
    SOURCE_NODE_ID = 0x060F, "source_node_id";
    /// `dest_node_id` (v5.0), 6 decimal digits.
    DEST_NODE_ID = 0x0610, "dest_node_id";
    /// `dest_addr_np_resolution` (v5.0), U8.
    DEST_ADDR_NP_RESOLUTION = 0x0611, "dest_addr_np_resolution";
    /// `dest_addr_np_information` (v5.0), 10 octets.
    DEST_ADDR_NP_INFORMATION = 0x0612, "dest_addr_np_information";
    /// `dest_addr_np_country` (v5.0), 1–5 octets.
    DEST_ADDR_NP_COUNTRY = 0x0613, "dest_addr_np_country";
    /// `display_time` (§5.3.2.26), U8.
    DISPLAY_TIME = 0x1201, "display_time";
    /// `sms_signal` (§5.3.2.40), U16.
    SMS_SIGNAL = 0x1203, "sms_signal";
    /// `ms_validity` (§5.3.2.27), U8 (v5.0: 1 or 4 octets).
    MS_VALIDITY = 0x1204, "ms_validity";
    /// `alert_on_message_delivery` (§5.3.2.41), no value (v5.0: 0 or 1 octet).
    ALERT_ON_MESSAGE_DELIVERY = 0x130C, "alert_on_message_delivery";
    /// `its_reply_type` (§5.3.2.42), U8.
    ITS_REPLY_TYPE = 0x1380, "its_reply_type";
    /// `its_session_info` (§5.3.2.43), 2 octets.
    ITS_SESSION_INFO = 0x1383, "its_session_info";
}

/// Allowed value lengths `(min, max)` of a known tag, as in the facts table (SMPP 3.4 §5.3.2,
/// v5.0 Table 4-60); `None` for tags whose length is free or unknown. Used only when
/// `DecodeOptions::check_tlv_lengths` is set.
pub fn expected_len(tag: u16) -> Option<(u16, u16)> {
    use tags::*;
    Some(match tag {
        DEST_ADDR_SUBUNIT
        | DEST_NETWORK_TYPE
        | DEST_BEARER_TYPE
        | SOURCE_ADDR_SUBUNIT
        | SOURCE_NETWORK_TYPE
        | SOURCE_BEARER_TYPE
        | SOURCE_TELEMATICS_ID
        | PAYLOAD_TYPE
        | MS_MSG_WAIT_FACILITIES
        | PRIVACY_INDICATOR
        | USER_RESPONSE_CODE
        | LANGUAGE_INDICATOR
        | SAR_TOTAL_SEGMENTS
        | SAR_SEGMENT_SEQNUM
        | SC_INTERFACE_VERSION
        | CALLBACK_NUM_PRES_IND
        | NUMBER_OF_MESSAGES
        | DPF_RESULT
        | SET_DPF
        | MS_AVAILABILITY_STATUS
        | DELIVERY_FAILURE_REASON
        | MORE_MESSAGES_TO_SEND
        | MESSAGE_STATE
        | CONGESTION_STATE
        | USSD_SERVICE_OP
        | BROADCAST_CHANNEL_INDICATOR
        | BROADCAST_MESSAGE_CLASS
        | BROADCAST_AREA_SUCCESS
        | DEST_ADDR_NP_RESOLUTION
        | DISPLAY_TIME
        | ITS_REPLY_TYPE => (1, 1),
        DEST_TELEMATICS_ID
        | USER_MESSAGE_REFERENCE
        | SOURCE_PORT
        | DESTINATION_PORT
        | SAR_MSG_REF_NUM
        | SMS_SIGNAL
        | ITS_SESSION_INFO
        | BROADCAST_REP_NUM => (2, 2),
        NETWORK_ERROR_CODE | BROADCAST_CONTENT_TYPE | BROADCAST_FREQUENCY_INTERVAL => (3, 3),
        QOS_TIME_TO_LIVE | BROADCAST_ERROR_STATUS => (4, 4),
        ADDITIONAL_STATUS_INFO_TEXT => (1, 256),
        RECEIPTED_MESSAGE_ID => (1, 65),
        SOURCE_SUBADDRESS | DEST_SUBADDRESS => (2, 23),
        CALLBACK_NUM_ATAG => (0, 65),
        CALLBACK_NUM => (4, 19),
        MS_VALIDITY => (1, 4),
        ALERT_ON_MESSAGE_DELIVERY => (0, 1),
        BROADCAST_CONTENT_TYPE_INFO | BROADCAST_SERVICE_GROUP => (1, 255),
        BILLING_IDENTIFICATION => (1, 1024),
        SOURCE_NETWORK_ID | DEST_NETWORK_ID => (7, 65),
        SOURCE_NODE_ID | DEST_NODE_ID => (6, 6),
        DEST_ADDR_NP_INFORMATION => (10, 10),
        DEST_ADDR_NP_COUNTRY => (1, 5),
        _ => return None,
    })
}

/// One TLV (SMPP 3.4 §3.2.4.1): `tag` and its `value` (the length is `value.len()`), the value
/// sliced zero-copy from the frame.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Tlv {
    /// Tag (see [`tags`]).
    pub tag: u16,
    /// Value octets, without tag and length.
    pub value: Bytes,
}

/// A TLV value longer than the 65535 octets its U16 length can express (SMPP 3.4 §3.2.4.1).
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[error("TLV 0x{tag:04X} value of {len} octets exceeds the 65535-octet maximum")]
pub struct TlvTooLong {
    /// Tag of the rejected TLV.
    pub tag: u16,
    /// Length of the rejected value in octets.
    pub len: usize,
}

/// All TLVs of one PDU (SMPP 3.4 §3.2.4), kept as the validated raw TLV region, in wire order.
///
/// Zero-copy (the region is a slice of the received frame) and without a `Vec`. Unknown and
/// vendor TLVs are kept byte for byte and re-encode identically. Lookups walk the region, which is
/// fine for the handful of TLVs a PDU carries. Equality compares the raw region, so two `Tlvs`
/// holding the same TLVs in another order are not equal.
#[derive(Clone, PartialEq, Eq, Default)]
pub struct Tlvs {
    raw: Bytes,
}

impl Tlvs {
    /// No TLVs.
    pub fn new() -> Self {
        Tlvs { raw: Bytes::new() }
    }

    /// Wraps a raw TLV region after checking its framing: every TLV's length must fit, and no
    /// 1–3 stray octets may follow the last one (SMPP 3.4 §3.2.4; v5.0 §2.11.1).
    ///
    /// # Errors
    /// [`DecodeErrorKind::TrailingTlvOctets`] or [`DecodeErrorKind::TlvOverrun`]
    /// (both ESME_RINVOPTPARSTREAM).
    pub fn from_raw(raw: Bytes) -> Result<Tlvs, DecodeErrorKind> {
        Self::from_raw_with(raw, false)
    }

    /// Like [`Tlvs::from_raw`]; with `check_lengths`, known tags must also have the value length
    /// of [`expected_len`] ([`DecodeErrorKind::InvalidTlvLength`], ESME_RINVPARLEN).
    pub fn from_raw_with(raw: Bytes, check_lengths: bool) -> Result<Tlvs, DecodeErrorKind> {
        let mut rest: &[u8] = &raw;
        while !rest.is_empty() {
            let parsed = wire::be_u16(rest)
                .and_then(|(r, tag)| wire::be_u16(r).map(|(r, len)| (r, tag, len)));
            let Some((after, tag, len)) = parsed else {
                return Err(DecodeErrorKind::TrailingTlvOctets { len: rest.len() });
            };
            if usize::from(len) > after.len() {
                return Err(DecodeErrorKind::TlvOverrun {
                    tag,
                    len,
                    available: after.len(),
                });
            }
            if check_lengths {
                if let Some((min, max)) = expected_len(tag) {
                    if len < min || len > max {
                        return Err(DecodeErrorKind::InvalidTlvLength { tag, len });
                    }
                }
            }
            rest = &after[usize::from(len)..];
        }
        Ok(Tlvs { raw })
    }

    /// The raw TLV region as it goes on the wire.
    pub fn as_bytes(&self) -> &Bytes {
        &self.raw
    }

    /// The TLVs in wire order. Values are zero-copy slices.
    pub fn iter(&self) -> impl Iterator<Item = Tlv> + '_ {
        TlvIter {
            raw: &self.raw,
            pos: 0,
        }
    }

    /// The value of the first TLV with `tag`, if any.
    pub fn get(&self, tag: u16) -> Option<Bytes> {
        self.iter().find(|t| t.tag == tag).map(|t| t.value)
    }

    /// `true` when a TLV with `tag` is present.
    pub fn contains(&self, tag: u16) -> bool {
        self.iter().any(|t| t.tag == tag)
    }

    /// The first `tag` value read as a big-endian unsigned integer of 1 to 8 octets (integer TLVs
    /// are decoded by their actual length, v5.0 §3.1). `None` when absent, empty or longer.
    pub fn get_uint(&self, tag: u16) -> Option<u64> {
        let v = self.get(tag)?;
        if v.is_empty() || v.len() > 8 {
            return None;
        }
        Some(v.iter().fold(0u64, |acc, &b| (acc << 8) | u64::from(b)))
    }

    /// The first `tag` value as a U8, `None` when absent or its value does not fit in one octet.
    pub fn get_u8(&self, tag: u16) -> Option<u8> {
        self.get_uint(tag).and_then(|v| u8::try_from(v).ok())
    }

    /// The first `tag` value as a U16, `None` when absent or its value does not fit.
    pub fn get_u16(&self, tag: u16) -> Option<u16> {
        self.get_uint(tag).and_then(|v| u16::try_from(v).ok())
    }

    /// Appends a TLV (used when building PDUs).
    ///
    /// # Panics
    /// When `value` is longer than 65535 octets; use [`Tlvs::try_push`] for untrusted sizes.
    pub fn push(&mut self, tag: u16, value: &[u8]) {
        if let Err(e) = self.try_push(tag, value) {
            panic!("{e}");
        }
    }

    /// Appends a TLV.
    ///
    /// # Errors
    /// [`TlvTooLong`] when `value` is longer than 65535 octets; nothing is appended then.
    pub fn try_push(&mut self, tag: u16, value: &[u8]) -> Result<(), TlvTooLong> {
        let len = u16::try_from(value.len()).map_err(|_| TlvTooLong {
            tag,
            len: value.len(),
        })?;
        let mut buf = BytesMut::with_capacity(self.raw.len() + 4 + value.len());
        buf.put_slice(&self.raw);
        buf.put_u16(tag);
        buf.put_u16(len);
        buf.put_slice(value);
        self.raw = buf.freeze();
        Ok(())
    }

    /// Removes every TLV with `tag`; returns how many were removed.
    pub fn remove(&mut self, tag: u16) -> usize {
        let removed = self.iter().filter(|t| t.tag == tag).count();
        if removed > 0 {
            let mut buf = BytesMut::with_capacity(self.raw.len());
            for t in self.iter().filter(|t| t.tag != tag) {
                buf.put_u16(t.tag);
                buf.put_u16(t.value.len() as u16);
                buf.put_slice(&t.value);
            }
            self.raw = buf.freeze();
        }
        removed
    }

    /// Replaces every TLV with `tag` by one TLV with `value`, appended at the end.
    ///
    /// # Panics
    /// When `value` is longer than 65535 octets.
    pub fn set(&mut self, tag: u16, value: &[u8]) {
        self.remove(tag);
        self.push(tag, value);
    }

    /// `true` when there are no TLVs.
    pub fn is_empty(&self) -> bool {
        self.raw.is_empty()
    }

    /// Number of TLVs.
    pub fn len(&self) -> usize {
        self.iter().count()
    }

    /// Octets the TLVs take on the wire (tags, lengths and values).
    pub fn encoded_len(&self) -> usize {
        self.raw.len()
    }

    /// Writes the TLV region as is.
    pub fn encode(&self, dst: &mut BytesMut) {
        dst.put_slice(&self.raw);
    }

    /// `receipted_message_id` (0x001E, SMPP 3.4 §5.3.2.12): the value up to its NUL (a missing
    /// NUL is tolerated).
    pub fn receipted_message_id(&self) -> Option<COctetString> {
        let v = self.get(tags::RECEIPTED_MESSAGE_ID)?;
        let end = v.iter().position(|&b| b == 0).unwrap_or(v.len());
        Some(COctetString(v.slice(..end)))
    }

    /// `message_state` (0x0427, SMPP 3.4 §5.3.2.35; values §5.2.28: 1 ENROUTE … 8 REJECTED).
    pub fn message_state(&self) -> Option<u8> {
        self.get_u8(tags::MESSAGE_STATE)
    }

    /// `message_payload` (0x0424, SMPP 3.4 §5.3.2.32): the user data, zero-copy.
    pub fn message_payload(&self) -> Option<Bytes> {
        self.get(tags::MESSAGE_PAYLOAD)
    }

    /// `(sar_msg_ref_num, sar_total_segments, sar_segment_seqnum)` (0x020C/0x020E/0x020F,
    /// SMPP 3.4 §5.3.2.22–24), only when all three are present and readable.
    pub fn sar(&self) -> Option<(u16, u8, u8)> {
        Some((
            self.get_u16(tags::SAR_MSG_REF_NUM)?,
            self.get_u8(tags::SAR_TOTAL_SEGMENTS)?,
            self.get_u8(tags::SAR_SEGMENT_SEQNUM)?,
        ))
    }

    /// `sc_interface_version` (0x0210, SMPP 3.4 §5.3.2.25), e.g. 0x34.
    pub fn sc_interface_version(&self) -> Option<u8> {
        self.get_u8(tags::SC_INTERFACE_VERSION)
    }

    /// `network_error_code` (0x0423, SMPP 3.4 §5.3.2.31) as `(network type, error code)`; needs
    /// exactly 3 octets.
    pub fn network_error_code(&self) -> Option<(u8, u16)> {
        let v = self.get(tags::NETWORK_ERROR_CODE)?;
        match v[..] {
            [t, hi, lo] => Some((t, u16::from_be_bytes([hi, lo]))),
            _ => None,
        }
    }
}

impl fmt::Debug for Tlvs {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        struct Entry(Tlv);
        impl fmt::Debug for Entry {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                match tag_name(self.0.tag) {
                    Some(n) => write!(f, "{n}(0x{:04X})={:?}", self.0.tag, self.0.value),
                    None => write!(f, "0x{:04X}={:?}", self.0.tag, self.0.value),
                }
            }
        }
        f.debug_list().entries(self.iter().map(Entry)).finish()
    }
}

impl<'a> IntoIterator for &'a Tlvs {
    type Item = Tlv;
    type IntoIter = Box<dyn Iterator<Item = Tlv> + 'a>;
    fn into_iter(self) -> Self::IntoIter {
        Box::new(self.iter())
    }
}

/// Walks a region already validated by [`Tlvs::from_raw_with`] (or built by `push`); stops at
/// anything malformed rather than panicking.
struct TlvIter<'a> {
    raw: &'a Bytes,
    pos: usize,
}

impl Iterator for TlvIter<'_> {
    type Item = Tlv;

    fn next(&mut self) -> Option<Tlv> {
        let rest = self.raw.get(self.pos..)?;
        let (after, tag) = wire::be_u16(rest)?;
        let (after, len) = wire::be_u16(after)?;
        let len = usize::from(len);
        if len > after.len() {
            self.pos = self.raw.len();
            return None;
        }
        let start = self.pos + 4;
        self.pos = start + len;
        Some(Tlv {
            tag,
            value: self.raw.slice(start..start + len),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn push_get_and_accessors() {
        let mut t = Tlvs::new();
        assert!(t.is_empty());
        t.push(tags::RECEIPTED_MESSAGE_ID, b"abc123\0");
        t.push(tags::MESSAGE_STATE, &[2]);
        t.push(tags::SAR_MSG_REF_NUM, &[0x12, 0x34]);
        t.push(tags::SAR_TOTAL_SEGMENTS, &[3]);
        assert_eq!(t.sar(), None, "needs all three");
        t.push(tags::SAR_SEGMENT_SEQNUM, &[2]);
        t.push(tags::SC_INTERFACE_VERSION, &[0x34]);
        t.push(tags::NETWORK_ERROR_CODE, &[3, 0, 11]);
        assert_eq!(t.receipted_message_id().unwrap(), "abc123");
        assert_eq!(t.message_state(), Some(2));
        assert_eq!(t.sar(), Some((0x1234, 3, 2)));
        assert_eq!(t.sc_interface_version(), Some(0x34));
        assert_eq!(t.network_error_code(), Some((3, 11)));
        assert_eq!(t.message_payload(), None);
        assert_eq!(t.len(), 7);
        assert_eq!(t.encoded_len(), 7 * 4 + 7 + 1 + 2 + 1 + 1 + 1 + 3);
        assert_eq!(&t.as_bytes()[..11], b"\x00\x1e\x00\x07abc123\0");
    }

    #[test]
    fn receipted_message_id_without_nul() {
        let mut t = Tlvs::new();
        t.push(tags::RECEIPTED_MESSAGE_ID, b"xyz");
        assert_eq!(t.receipted_message_id().unwrap(), "xyz");
    }

    #[test]
    fn get_returns_first_and_remove_set() {
        let mut t = Tlvs::new();
        t.push(0x1400, b"one");
        t.push(0x1401, b"x");
        t.push(0x1400, b"two");
        assert_eq!(t.get(0x1400).unwrap(), &b"one"[..]);
        assert_eq!(t.remove(0x1400), 2);
        assert_eq!(t.len(), 1);
        assert!(!t.contains(0x1400));
        t.set(0x1401, b"y");
        assert_eq!(t.get(0x1401).unwrap(), &b"y"[..]);
        assert_eq!(t.len(), 1);
    }

    #[test]
    fn integer_tlvs_by_actual_length() {
        let mut t = Tlvs::new();
        t.push(tags::MESSAGE_STATE, &[0, 5]);
        assert_eq!(t.message_state(), Some(5));
        let mut t = Tlvs::new();
        t.push(tags::MESSAGE_STATE, &[1, 5]);
        assert_eq!(t.message_state(), None);
        let mut t = Tlvs::new();
        t.push(tags::MESSAGE_STATE, &[]);
        assert_eq!(t.message_state(), None);
    }

    #[test]
    fn from_raw_validates_framing() {
        assert!(Tlvs::from_raw(Bytes::from_static(&[0x14, 0, 0, 1, 9])).is_ok());
        assert_eq!(
            Tlvs::from_raw(Bytes::from_static(&[0x14, 0, 0, 1, 9, 0xAA])),
            Err(DecodeErrorKind::TrailingTlvOctets { len: 1 })
        );
        assert_eq!(
            Tlvs::from_raw(Bytes::from_static(&[0x14, 0, 0, 3, 9])),
            Err(DecodeErrorKind::TlvOverrun {
                tag: 0x1400,
                len: 3,
                available: 1
            })
        );
        assert!(Tlvs::from_raw(Bytes::from_static(&[0x04, 0x27, 0, 2, 0, 1])).is_ok());
        assert_eq!(
            Tlvs::from_raw_with(Bytes::from_static(&[0x04, 0x27, 0, 2, 0, 1]), true),
            Err(DecodeErrorKind::InvalidTlvLength {
                tag: 0x0427,
                len: 2
            })
        );
    }

    #[test]
    fn try_push_rejects_oversized_values() {
        let mut t = Tlvs::new();
        let big = vec![0u8; 65536];
        assert_eq!(
            t.try_push(tags::MESSAGE_PAYLOAD, &big),
            Err(TlvTooLong {
                tag: 0x0424,
                len: 65536
            })
        );
        assert!(t.is_empty());
        assert!(t.try_push(tags::MESSAGE_PAYLOAD, &big[..65535]).is_ok());
        assert_eq!(t.message_payload().unwrap().len(), 65535);
    }

    #[test]
    fn names_and_debug() {
        assert_eq!(tag_name(0x001E), Some("receipted_message_id"));
        assert_eq!(tag_name(0x1400), None);
        assert_eq!(tag_by_name("message_payload"), Some(0x0424));
        assert_eq!(tag_by_name("sar_segment_seqnum"), Some(0x020F));
        assert_eq!(tag_by_name("nope"), None);
        let mut t = Tlvs::new();
        t.push(tags::MESSAGE_STATE, &[2]);
        t.push(0x1400, b"v");
        assert_eq!(
            format!("{t:?}"),
            "[message_state(0x0427)=b\"\\x02\", 0x1400=b\"v\"]"
        );
    }
}
