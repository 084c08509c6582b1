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
    ($( $(#[$doc:meta])* $name:ident = $value:expr, $wire:literal, $format:ident, $min:expr, $max:expr; )*) => {
        /// TLV tag values (SMPP 3.4 §5.3.2; v5.0 Table 4-60 for the tags marked v5.0).
        ///
        /// Vendor-specific tags use `0x1400..=0x3FFF` (v5.0 Table 4-59); any tag may be carried in
        /// [`Tlvs`](crate::tlv::Tlvs), known or not.
        pub mod tags {
            $( $(#[$doc])* pub const $name: u16 = $value; )*
        }

        /// Every TLV of SMPP 3.4 and 5.0 with its name, value format and allowed value lengths
        /// (SMPP 3.4 §5.3.2, v5.0 Table 4-60 and §4.8.4), sorted by tag.
        pub const DEFINITIONS: &[TlvDef] = &[
            $( TlvDef { tag: $value, name: $wire, format: TlvFormat::$format, min_len: $min, max_len: $max }, )*
        ];

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
    /// `dest_addr_subunit` (§5.3.2.1): 0 unknown, 1 MS display, 2 mobile equipment, 3 smart card, 4 external unit.
    DEST_ADDR_SUBUNIT = 0x0005, "dest_addr_subunit", U8, 1, 1;
    /// `dest_network_type` (§5.3.2.3): 0 unknown, 1 GSM, 2 ANSI-136, 3 IS-95, 4 PDC, 5 PHS, 6 iDEN, 7 AMPS, 8 paging.
    DEST_NETWORK_TYPE = 0x0006, "dest_network_type", U8, 1, 1;
    /// `dest_bearer_type` (§5.3.2.5): 0 unknown, 1 SMS, 2 CSD, 3 packet data, 4 USSD, 5 CDPD, 6 DataTAC, 7 FLEX, 8 cell broadcast.
    DEST_BEARER_TYPE = 0x0007, "dest_bearer_type", U8, 1, 1;
    /// `dest_telematics_id` (§5.3.2.7): octet 1 GSM protocol_id, octet 2 reserved.
    DEST_TELEMATICS_ID = 0x0008, "dest_telematics_id", U16, 2, 2;
    /// `source_addr_subunit` (§5.3.2.2): as dest_addr_subunit.
    SOURCE_ADDR_SUBUNIT = 0x000D, "source_addr_subunit", U8, 1, 1;
    /// `source_network_type` (§5.3.2.4): as dest_network_type.
    SOURCE_NETWORK_TYPE = 0x000E, "source_network_type", U8, 1, 1;
    /// `source_bearer_type` (§5.3.2.6): as dest_bearer_type.
    SOURCE_BEARER_TYPE = 0x000F, "source_bearer_type", U8, 1, 1;
    /// `source_telematics_id` (§5.3.2.8): one octet, unlike dest_telematics_id.
    SOURCE_TELEMATICS_ID = 0x0010, "source_telematics_id", U8, 1, 1;
    /// `qos_time_to_live` (§5.3.2.9): seconds.
    QOS_TIME_TO_LIVE = 0x0017, "qos_time_to_live", U32, 4, 4;
    /// `payload_type` (§5.3.2.10): 0 default/WDP, 1 WCMP.
    PAYLOAD_TYPE = 0x0019, "payload_type", U8, 1, 1;
    /// `additional_status_info_text` (§5.3.2.11): C-Octet String.
    ADDITIONAL_STATUS_INFO_TEXT = 0x001D, "additional_status_info_text", Text, 1, 256;
    /// `receipted_message_id` (§5.3.2.12): C-Octet String: the message_id of submit_sm_resp.
    RECEIPTED_MESSAGE_ID = 0x001E, "receipted_message_id", Text, 1, 65;
    /// `ms_msg_wait_facilities` (§5.3.2.13): bits I00000TT.
    MS_MSG_WAIT_FACILITIES = 0x0030, "ms_msg_wait_facilities", U8, 1, 1;
    /// `privacy_indicator` (§5.3.2.14): 0–3, not restricted … secret.
    PRIVACY_INDICATOR = 0x0201, "privacy_indicator", U8, 1, 1;
    /// `source_subaddress` (§5.3.2.15): octet 1 type (0x80 NSAP even, 0x88 NSAP odd, 0xA0 user specified), then the subaddress.
    SOURCE_SUBADDRESS = 0x0202, "source_subaddress", Prefixed, 2, 23;
    /// `dest_subaddress` (§5.3.2.16): as source_subaddress.
    DEST_SUBADDRESS = 0x0203, "dest_subaddress", Prefixed, 2, 23;
    /// `user_message_reference` (§5.3.2.17): ESME's reference.
    USER_MESSAGE_REFERENCE = 0x0204, "user_message_reference", U16, 2, 2;
    /// `user_response_code` (§5.3.2.18): application specific.
    USER_RESPONSE_CODE = 0x0205, "user_response_code", U8, 1, 1;
    /// `source_port` (§5.3.2.20): application port.
    SOURCE_PORT = 0x020A, "source_port", U16, 2, 2;
    /// `destination_port` (§5.3.2.21; v5.0 name dest_port): application port.
    DESTINATION_PORT = 0x020B, "destination_port", U16, 2, 2;
    /// `sar_msg_ref_num` (§5.3.2.22): reference shared by the segments.
    SAR_MSG_REF_NUM = 0x020C, "sar_msg_ref_num", U16, 2, 2;
    /// `language_indicator` (§5.3.2.19): 0 unspecified, 1 en, 2 fr, 3 es, 4 de, 5 pt.
    LANGUAGE_INDICATOR = 0x020D, "language_indicator", U8, 1, 1;
    /// `sar_total_segments` (§5.3.2.23): 1–255.
    SAR_TOTAL_SEGMENTS = 0x020E, "sar_total_segments", U8, 1, 1;
    /// `sar_segment_seqnum` (§5.3.2.24): 1–255.
    SAR_SEGMENT_SEQNUM = 0x020F, "sar_segment_seqnum", U8, 1, 1;
    /// `sc_interface_version` (§5.3.2.25): 0x34, 0x50.
    SC_INTERFACE_VERSION = 0x0210, "sc_interface_version", U8, 1, 1;
    /// `callback_num_pres_ind` (§5.3.2.37): bits 0000ppss.
    CALLBACK_NUM_PRES_IND = 0x0302, "callback_num_pres_ind", U8, 1, 1;
    /// `callback_num_atag` (§5.3.2.38): octet 1 data_coding, then the display characters.
    CALLBACK_NUM_ATAG = 0x0303, "callback_num_atag", Prefixed, 1, 65;
    /// `number_of_messages` (§5.3.2.39): 0–99.
    NUMBER_OF_MESSAGES = 0x0304, "number_of_messages", U8, 1, 1;
    /// `callback_num` (§5.3.2.36): digit mode, TON, NPI, digits.
    CALLBACK_NUM = 0x0381, "callback_num", CallbackNum, 4, 19;
    /// `dpf_result` (§5.3.2.28): 0 not set, 1 set.
    DPF_RESULT = 0x0420, "dpf_result", U8, 1, 1;
    /// `set_dpf` (§5.3.2.29): 0 not requested, 1 requested.
    SET_DPF = 0x0421, "set_dpf", U8, 1, 1;
    /// `ms_availability_status` (§5.3.2.30): 0 available, 1 denied, 2 unavailable.
    MS_AVAILABILITY_STATUS = 0x0422, "ms_availability_status", U8, 1, 1;
    /// `network_error_code` (§5.3.2.31): network type U8 + error code U16.
    NETWORK_ERROR_CODE = 0x0423, "network_error_code", NetworkErrorCode, 3, 3;
    /// `message_payload` (§5.3.2.32): the user data, up to 65535 octets.
    MESSAGE_PAYLOAD = 0x0424, "message_payload", Octets, 0, 65535;
    /// `delivery_failure_reason` (§5.3.2.33): 0 unavailable, 1 invalid address, 2 permanent, 3 temporary network error.
    DELIVERY_FAILURE_REASON = 0x0425, "delivery_failure_reason", U8, 1, 1;
    /// `more_messages_to_send` (§5.3.2.34): 0 no, 1 yes.
    MORE_MESSAGES_TO_SEND = 0x0426, "more_messages_to_send", U8, 1, 1;
    /// `message_state` (§5.3.2.35): values as §5.2.28: 1 ENROUTE … 8 REJECTED (v5.0: 0 SCHEDULED, 9 SKIPPED).
    MESSAGE_STATE = 0x0427, "message_state", U8, 1, 1;
    /// `congestion_state` (v5.0 §4.8.4.17): 0–100.
    CONGESTION_STATE = 0x0428, "congestion_state", U8, 1, 1;
    /// `ussd_service_op` (§5.3.2.44): 0 PSSD ind … 19 USSN conf.
    USSD_SERVICE_OP = 0x0501, "ussd_service_op", U8, 1, 1;
    /// `broadcast_channel_indicator` (v5.0 §4.8.4.4): 0 basic, 1 extended.
    BROADCAST_CHANNEL_INDICATOR = 0x0600, "broadcast_channel_indicator", U8, 1, 1;
    /// `broadcast_content_type` (v5.0 §4.8.4.5): network type U8 + content type U16.
    BROADCAST_CONTENT_TYPE = 0x0601, "broadcast_content_type", BroadcastContentType, 3, 3;
    /// `broadcast_content_type_info` (v5.0 §4.8.4.6): octet string.
    BROADCAST_CONTENT_TYPE_INFO = 0x0602, "broadcast_content_type_info", Octets, 1, 255;
    /// `broadcast_message_class` (v5.0 §4.8.4.10): 0–3.
    BROADCAST_MESSAGE_CLASS = 0x0603, "broadcast_message_class", U8, 1, 1;
    /// `broadcast_rep_num` (v5.0 §4.8.4.11): repetitions.
    BROADCAST_REP_NUM = 0x0604, "broadcast_rep_num", U16, 2, 2;
    /// `broadcast_frequency_interval` (v5.0 §4.8.4.9): time unit U8 + number U16.
    BROADCAST_FREQUENCY_INTERVAL = 0x0605, "broadcast_frequency_interval", BroadcastFrequencyInterval, 3, 3;
    /// `broadcast_area_identifier` (v5.0 §4.8.4.1): octet 1 format (0 alias, 1 ellipsoid arc, 2 polygon), then the area.
    BROADCAST_AREA_IDENTIFIER = 0x0606, "broadcast_area_identifier", Prefixed, 1, 65535;
    /// `broadcast_error_status` (v5.0 §4.8.4.8): a command_status value.
    BROADCAST_ERROR_STATUS = 0x0607, "broadcast_error_status", U32, 4, 4;
    /// `broadcast_area_success` (v5.0 §4.8.4.2): 0–100 %, 255 not available.
    BROADCAST_AREA_SUCCESS = 0x0608, "broadcast_area_success", U8, 1, 1;
    /// `broadcast_end_time` (v5.0 §4.8.4.7): absolute time, C-Octet String.
    BROADCAST_END_TIME = 0x0609, "broadcast_end_time", Text, 1, 17;
    /// `broadcast_service_group` (v5.0 §4.8.4.12): octet string.
    BROADCAST_SERVICE_GROUP = 0x060A, "broadcast_service_group", Octets, 1, 255;
    /// `billing_identification` (v5.0 §4.8.4.3): octet 1 format, then the billing data.
    BILLING_IDENTIFICATION = 0x060B, "billing_identification", Prefixed, 1, 1024;
    /// `source_network_id` (v5.0 §4.8.4.53): C-Octet String.
    SOURCE_NETWORK_ID = 0x060D, "source_network_id", Text, 7, 65;
    /// `dest_network_id` (v5.0 §4.8.4.22): C-Octet String.
    DEST_NETWORK_ID = 0x060E, "dest_network_id", Text, 7, 65;
    /// `source_node_id` (v5.0 §4.8.4.54): 6 decimal digits.
    SOURCE_NODE_ID = 0x060F, "source_node_id", Octets, 6, 6;
    /// `dest_node_id` (v5.0 §4.8.4.23): 6 decimal digits.
    DEST_NODE_ID = 0x0610, "dest_node_id", Octets, 6, 6;
    /// `dest_addr_np_resolution` (v5.0 §4.8.4.20): 0 no query, 1 not ported, 2 ported.
    DEST_ADDR_NP_RESOLUTION = 0x0611, "dest_addr_np_resolution", U8, 1, 1;
    /// `dest_addr_np_information` (v5.0 §4.8.4.19): number portability data (US LRN).
    DEST_ADDR_NP_INFORMATION = 0x0612, "dest_addr_np_information", Octets, 10, 10;
    /// `dest_addr_np_country` (v5.0 §4.8.4.18): country code.
    DEST_ADDR_NP_COUNTRY = 0x0613, "dest_addr_np_country", Octets, 1, 5;
    /// `display_time` (§5.3.2.26): 0 temporary, 1 default, 2 invoke.
    DISPLAY_TIME = 0x1201, "display_time", U8, 1, 1;
    /// `sms_signal` (§5.3.2.40): CMT-136 alerting.
    SMS_SIGNAL = 0x1203, "sms_signal", U16, 2, 2;
    /// `ms_validity` (§5.3.2.27; v5.0 §4.8.4.34): behaviour U8; v5.0: behaviour 4 + time unit U8 + number U16.
    MS_VALIDITY = 0x1204, "ms_validity", MsValidity, 1, 4;
    /// `alert_on_message_delivery` (§5.3.2.41; v5.0 §4.8.4.2): no value in v3.4; v5.0: 0–3 alert priority.
    ALERT_ON_MESSAGE_DELIVERY = 0x130C, "alert_on_message_delivery", OptionalU8, 0, 1;
    /// `its_reply_type` (§5.3.2.42): 0 digit … 8 continue.
    ITS_REPLY_TYPE = 0x1380, "its_reply_type", U8, 1, 1;
    /// `its_session_info` (§5.3.2.43): session number U8; sequence (bits 7–1) and end-of-session (bit 0).
    ITS_SESSION_INFO = 0x1383, "its_session_info", ItsSessionInfo, 2, 2;
}

/// The definition of a known tag ([`DEFINITIONS`]), `None` for unknown and vendor tags.
pub fn definition(tag: u16) -> Option<&'static TlvDef> {
    DEFINITIONS
        .binary_search_by_key(&tag, |d| d.tag)
        .ok()
        .map(|i| &DEFINITIONS[i])
}

/// How the value of a known TLV is laid out (SMPP 3.4 §5.3.2, v5.0 §4.8.4).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum TlvFormat {
    /// One-octet integer.
    U8,
    /// Two-octet big-endian integer.
    U16,
    /// Four-octet big-endian integer.
    U32,
    /// C-Octet String (NUL-terminated text).
    Text,
    /// Opaque octets.
    Octets,
    /// `network_error_code`: network type U8, error code U16.
    NetworkErrorCode,
    /// `broadcast_content_type`: network type U8, content type U16.
    BroadcastContentType,
    /// `broadcast_frequency_interval`: time unit U8, number U16.
    BroadcastFrequencyInterval,
    /// A one-octet prefix (type, format or data_coding), then octets.
    Prefixed,
    /// `callback_num`: digit mode U8, TON U8, NPI U8, then the digits.
    CallbackNum,
    /// `ms_validity`: behaviour U8, and in v5.0 optionally time unit U8 + number U16.
    MsValidity,
    /// Empty (v3.4) or one octet (v5.0): `alert_on_message_delivery`.
    OptionalU8,
    /// `its_session_info`: session number U8, then sequence (bits 7–1) and end flag (bit 0).
    ItsSessionInfo,
}

/// One row of [`DEFINITIONS`]: a known tag, its spec name, value format and the value lengths
/// (octets, without tag and length) it may have.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TlvDef {
    /// The tag.
    pub tag: u16,
    /// The spec name, e.g. `"message_payload"`.
    pub name: &'static str,
    /// How the value is laid out.
    pub format: TlvFormat,
    /// Fewest value octets allowed.
    pub min_len: u16,
    /// Most value octets allowed.
    pub max_len: u16,
}

/// Allowed value lengths `(min, max)` of a known tag ([`DEFINITIONS`]); `None` for unknown and
/// vendor tags, whose length is free. Used when `DecodeOptions::check_tlv_lengths` is set.
pub fn expected_len(tag: u16) -> Option<(u16, u16)> {
    definition(tag).map(|d| (d.min_len, d.max_len))
}

/// A TLV value read according to its [`TlvFormat`] (see [`Tlvs::typed`], [`Tlv::typed`]).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TlvValue {
    /// No value (`alert_on_message_delivery` in v3.4).
    Empty,
    /// [`TlvFormat::U8`], and the v5.0 one-octet `alert_on_message_delivery`.
    U8(u8),
    /// [`TlvFormat::U16`].
    U16(u16),
    /// [`TlvFormat::U32`].
    U32(u32),
    /// [`TlvFormat::Text`]: the content without its NUL (a missing NUL is tolerated).
    Text(COctetString),
    /// [`TlvFormat::Octets`], and unknown or vendor tags.
    Octets(Bytes),
    /// `network_error_code` (§5.3.2.31).
    NetworkErrorCode {
        /// 1 ANSI-136 access denied, 2 IS-95 access denied, 3 GSM, 4 ANSI-136 cause, 5 IS-95
        /// cause, 6 ANSI-41, 7 SMPP error, 8 message center specific.
        network_type: u8,
        /// The network's error code.
        error_code: u16,
    },
    /// `broadcast_content_type` (v5.0 §4.8.4.5).
    BroadcastContentType {
        /// Network type (0 generic, 1 GSM, 2 TDMA, 3 CDMA).
        network_type: u8,
        /// Content type.
        content_type: u16,
    },
    /// `broadcast_frequency_interval` (v5.0 §4.8.4.9).
    BroadcastFrequencyInterval {
        /// 0x00 as frequently as possible, 0x08 seconds, 0x09 minutes, 0x0A hours, 0x0B days,
        /// 0x0C weeks, 0x0D months, 0x0E years.
        time_unit: u8,
        /// Number of units.
        number: u16,
    },
    /// [`TlvFormat::Prefixed`]: the first octet (subaddress type, `data_coding` of
    /// `callback_num_atag`, area or billing format) and the rest.
    Prefixed {
        /// The first octet.
        prefix: u8,
        /// The octets after it.
        data: Bytes,
    },
    /// `callback_num` (§5.3.2.36).
    CallbackNum {
        /// 0 TBCD, 1 ASCII.
        digit_mode: u8,
        /// TON of the number.
        ton: u8,
        /// NPI of the number.
        npi: u8,
        /// The number's digits.
        number: Bytes,
    },
    /// `ms_validity` (§5.3.2.27; v5.0 §4.8.4.34).
    MsValidity {
        /// 0 store indefinitely, 1 power down, 2 until registration area changes, 3 display
        /// only, 4 relative time period (v5.0).
        behaviour: u8,
        /// v5.0 relative period: time unit and number of units.
        period: Option<(u8, u16)>,
    },
    /// `its_session_info` (§5.3.2.43).
    ItsSessionInfo {
        /// Session number.
        session_number: u8,
        /// Sequence number within the session (bits 7–1 of octet 2).
        sequence_number: u8,
        /// End of session (bit 0 of octet 2).
        end_of_session: bool,
    },
}

impl TlvValue {
    /// Reads `value` in the format of `tag`; an unknown or vendor tag is [`TlvValue::Octets`].
    ///
    /// # Errors
    /// [`DecodeErrorKind::InvalidTlvLength`] when the length is outside the tag's definition
    /// (ESME_RINVPARLEN).
    pub fn decode(tag: u16, value: &Bytes) -> Result<TlvValue, DecodeErrorKind> {
        let Some(def) = definition(tag) else {
            return Ok(TlvValue::Octets(value.clone()));
        };
        let len = value.len();
        let bad_len = || DecodeErrorKind::InvalidTlvLength {
            tag,
            len: len.min(usize::from(u16::MAX)) as u16,
        };
        if len < usize::from(def.min_len) || len > usize::from(def.max_len) {
            return Err(bad_len());
        }
        let u16_at = |i: usize| u16::from_be_bytes([value[i], value[i + 1]]);
        Ok(match def.format {
            TlvFormat::U8 => TlvValue::U8(value[0]),
            TlvFormat::U16 => TlvValue::U16(u16_at(0)),
            TlvFormat::U32 => {
                TlvValue::U32(u32::from_be_bytes([value[0], value[1], value[2], value[3]]))
            }
            TlvFormat::Text => {
                let end = value.iter().position(|&b| b == 0).unwrap_or(len);
                TlvValue::Text(COctetString::from_wire(value.slice(..end)))
            }
            TlvFormat::Octets => TlvValue::Octets(value.clone()),
            TlvFormat::NetworkErrorCode => TlvValue::NetworkErrorCode {
                network_type: value[0],
                error_code: u16_at(1),
            },
            TlvFormat::BroadcastContentType => TlvValue::BroadcastContentType {
                network_type: value[0],
                content_type: u16_at(1),
            },
            TlvFormat::BroadcastFrequencyInterval => TlvValue::BroadcastFrequencyInterval {
                time_unit: value[0],
                number: u16_at(1),
            },
            TlvFormat::Prefixed => TlvValue::Prefixed {
                prefix: value[0],
                data: value.slice(1..),
            },
            TlvFormat::CallbackNum => TlvValue::CallbackNum {
                digit_mode: value[0],
                ton: value[1],
                npi: value[2],
                number: value.slice(3..),
            },
            TlvFormat::MsValidity => match len {
                1 => TlvValue::MsValidity {
                    behaviour: value[0],
                    period: None,
                },
                4 => TlvValue::MsValidity {
                    behaviour: value[0],
                    period: Some((value[1], u16_at(2))),
                },
                _ => return Err(bad_len()),
            },
            TlvFormat::OptionalU8 => match value.first() {
                None => TlvValue::Empty,
                Some(&v) => TlvValue::U8(v),
            },
            TlvFormat::ItsSessionInfo => TlvValue::ItsSessionInfo {
                session_number: value[0],
                sequence_number: value[1] >> 1,
                end_of_session: value[1] & 1 != 0,
            },
        })
    }

    /// The value octets (without tag and length), as [`Tlvs::push_value`] writes them: integers
    /// big-endian, text with its NUL.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut v = Vec::new();
        match self {
            TlvValue::Empty => {}
            TlvValue::U8(x) => v.push(*x),
            TlvValue::U16(x) => v.extend_from_slice(&x.to_be_bytes()),
            TlvValue::U32(x) => v.extend_from_slice(&x.to_be_bytes()),
            TlvValue::Text(t) => {
                v.extend_from_slice(t.as_bytes());
                v.push(0);
            }
            TlvValue::Octets(b) => v.extend_from_slice(b),
            TlvValue::NetworkErrorCode {
                network_type: a,
                error_code: b,
            }
            | TlvValue::BroadcastContentType {
                network_type: a,
                content_type: b,
            }
            | TlvValue::BroadcastFrequencyInterval {
                time_unit: a,
                number: b,
            } => {
                v.push(*a);
                v.extend_from_slice(&b.to_be_bytes());
            }
            TlvValue::Prefixed { prefix, data } => {
                v.push(*prefix);
                v.extend_from_slice(data);
            }
            TlvValue::CallbackNum {
                digit_mode,
                ton,
                npi,
                number,
            } => {
                v.extend_from_slice(&[*digit_mode, *ton, *npi]);
                v.extend_from_slice(number);
            }
            TlvValue::MsValidity { behaviour, period } => {
                v.push(*behaviour);
                if let Some((unit, n)) = period {
                    v.push(*unit);
                    v.extend_from_slice(&n.to_be_bytes());
                }
            }
            TlvValue::ItsSessionInfo {
                session_number,
                sequence_number,
                end_of_session,
            } => {
                v.push(*session_number);
                v.push((sequence_number << 1) | u8::from(*end_of_session));
            }
        }
        v
    }
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

impl Tlv {
    /// The spec name of the tag, `None` for unknown and vendor tags.
    pub fn name(&self) -> Option<&'static str> {
        tag_name(self.tag)
    }

    /// The value in its tag's format ([`TlvValue::decode`]).
    ///
    /// # Errors
    /// [`DecodeErrorKind::InvalidTlvLength`] for a length the tag's definition does not allow.
    pub fn typed(&self) -> Result<TlvValue, DecodeErrorKind> {
        TlvValue::decode(self.tag, &self.value)
    }
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

    /// Appends a TLV with a typed value ([`TlvValue::to_bytes`]).
    ///
    /// # Errors
    /// [`TlvTooLong`] when the value is longer than 65535 octets; nothing is appended then.
    pub fn push_value(&mut self, tag: u16, value: &TlvValue) -> Result<(), TlvTooLong> {
        self.try_push(tag, &value.to_bytes())
    }

    /// The first `tag` TLV in its format (see [`TlvValue::decode`]): `None` when absent,
    /// `Some(Err(_))` when its length does not fit the tag's definition.
    pub fn get_typed(&self, tag: u16) -> Option<Result<TlvValue, DecodeErrorKind>> {
        self.get(tag).map(|v| TlvValue::decode(tag, &v))
    }

    /// Every TLV in wire order with its value in its tag's format (unknown and vendor tags as
    /// [`TlvValue::Octets`]); a known tag with a length its definition forbids yields
    /// `Err(`[`DecodeErrorKind::InvalidTlvLength`]`)` for that entry, the others still read.
    pub fn typed(&self) -> impl Iterator<Item = (Tlv, Result<TlvValue, DecodeErrorKind>)> + '_ {
        self.iter().map(|t| {
            let v = t.typed();
            (t, v)
        })
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
        Some(COctetString::from_wire(v.slice(..end)))
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
    fn definitions_cover_both_versions_sorted_and_named() {
        // 44 TLVs of v3.4 and 20 of v5.0 (facts §4).
        assert_eq!(DEFINITIONS.len(), 64);
        assert!(
            DEFINITIONS.windows(2).all(|w| w[0].tag < w[1].tag),
            "sorted, no duplicates"
        );
        for d in DEFINITIONS {
            assert_eq!(tag_name(d.tag), Some(d.name));
            assert_eq!(tag_by_name(d.name), Some(d.tag));
            assert_eq!(definition(d.tag), Some(d));
            assert!(d.min_len <= d.max_len, "{}", d.name);
            // A value of the smallest allowed length reads, one octet less (where possible) or
            // one more (where the maximum allows no more) does not.
            let ok = Bytes::from(vec![0x31; usize::from(d.min_len)]);
            assert!(TlvValue::decode(d.tag, &ok).is_ok(), "{}", d.name);
            if d.min_len > 0 {
                let short = Bytes::from(vec![0x31; usize::from(d.min_len) - 1]);
                assert!(TlvValue::decode(d.tag, &short).is_err(), "{} short", d.name);
            }
            if d.max_len < u16::MAX {
                let long = Bytes::from(vec![0x31; usize::from(d.max_len) + 1]);
                assert_eq!(
                    TlvValue::decode(d.tag, &long),
                    Err(DecodeErrorKind::InvalidTlvLength {
                        tag: d.tag,
                        len: d.max_len + 1
                    }),
                    "{} long",
                    d.name
                );
            }
        }
        assert_eq!(definition(0x1400), None);
        assert_eq!(definition(0x060C), None, "unassigned in v5.0");
    }

    #[test]
    fn typed_values_round_trip() {
        let cases: Vec<(u16, TlvValue, &[u8])> = vec![
            (tags::MESSAGE_STATE, TlvValue::U8(2), &[2]),
            (tags::SAR_MSG_REF_NUM, TlvValue::U16(0x1234), &[0x12, 0x34]),
            (
                tags::QOS_TIME_TO_LIVE,
                TlvValue::U32(3600),
                &[0, 0, 0x0E, 0x10],
            ),
            (
                tags::RECEIPTED_MESSAGE_ID,
                TlvValue::Text("abc".into()),
                b"abc\0",
            ),
            (
                tags::MESSAGE_PAYLOAD,
                TlvValue::Octets(Bytes::from_static(b"hi")),
                b"hi",
            ),
            (
                tags::NETWORK_ERROR_CODE,
                TlvValue::NetworkErrorCode {
                    network_type: 3,
                    error_code: 0x000B,
                },
                &[3, 0, 0x0B],
            ),
            (
                tags::BROADCAST_CONTENT_TYPE,
                TlvValue::BroadcastContentType {
                    network_type: 1,
                    content_type: 0x0102,
                },
                &[1, 1, 2],
            ),
            (
                tags::BROADCAST_FREQUENCY_INTERVAL,
                TlvValue::BroadcastFrequencyInterval {
                    time_unit: 9,
                    number: 5,
                },
                &[9, 0, 5],
            ),
            (
                tags::DEST_SUBADDRESS,
                TlvValue::Prefixed {
                    prefix: 0xA0,
                    data: Bytes::from_static(b"12"),
                },
                &[0xA0, b'1', b'2'],
            ),
            (
                tags::CALLBACK_NUM,
                TlvValue::CallbackNum {
                    digit_mode: 1,
                    ton: 1,
                    npi: 1,
                    number: Bytes::from_static(b"4477"),
                },
                &[1, 1, 1, b'4', b'4', b'7', b'7'],
            ),
            (
                tags::MS_VALIDITY,
                TlvValue::MsValidity {
                    behaviour: 0,
                    period: None,
                },
                &[0],
            ),
            (
                tags::MS_VALIDITY,
                TlvValue::MsValidity {
                    behaviour: 4,
                    period: Some((9, 30)),
                },
                &[4, 9, 0, 30],
            ),
            (tags::ALERT_ON_MESSAGE_DELIVERY, TlvValue::Empty, &[]),
            (tags::ALERT_ON_MESSAGE_DELIVERY, TlvValue::U8(3), &[3]),
            (
                tags::ITS_SESSION_INFO,
                TlvValue::ItsSessionInfo {
                    session_number: 7,
                    sequence_number: 5,
                    end_of_session: true,
                },
                &[7, 0x0B],
            ),
            (
                0x1400,
                TlvValue::Octets(Bytes::from_static(b"vendor")),
                b"vendor",
            ),
        ];
        let mut tlvs = Tlvs::new();
        for (tag, value, wire) in &cases {
            assert_eq!(value.to_bytes(), *wire, "{tag:#06X}");
            assert_eq!(
                &TlvValue::decode(*tag, &Bytes::copy_from_slice(wire)).unwrap(),
                value
            );
            tlvs.push_value(*tag, value).unwrap();
        }
        let read: Vec<TlvValue> = tlvs.typed().map(|(_, v)| v.unwrap()).collect();
        assert_eq!(read, cases.iter().map(|c| c.1.clone()).collect::<Vec<_>>());
        // ms_validity of 2 octets is neither v3.4's 1 nor v5.0's 4.
        assert!(TlvValue::decode(tags::MS_VALIDITY, &Bytes::from_static(&[4, 9])).is_err());
        // A bad entry does not hide the others.
        let mut t = Tlvs::new();
        t.push(tags::MESSAGE_STATE, &[0, 2]);
        t.push(tags::SOURCE_PORT, &[0, 80]);
        let v: Vec<_> = t.typed().map(|(_, v)| v).collect();
        assert!(v[0].is_err());
        assert_eq!(v[1], Ok(TlvValue::U16(80)));
        assert_eq!(t.get_typed(tags::SOURCE_PORT), Some(Ok(TlvValue::U16(80))));
        assert_eq!(t.get_typed(tags::DESTINATION_PORT), None);
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
