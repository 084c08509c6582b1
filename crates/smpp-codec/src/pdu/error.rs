//! Decode errors and options (SMPP 3.4 §2.8 error handling, §5.1.3 status codes).

use std::fmt;

use crate::command::{command_name, is_response_id, response_id};
use crate::pdu::{Frame, Pdu};
use crate::status::CommandStatus;

/// How forgiving [`Frame::decode_with`] is: one set per bind (issue 3 §4; facts §9.2).
///
/// Every flag turns one check on. `Default` (all off, used by [`Frame::decode`]) is lenient on
/// every point where real peers deviate harmlessly; [`DecodeOptions::strict`] turns every check
/// on and reports each deviation as a [`DecodeError`] carrying the status to answer with.
///
/// | deviation seen in the wild | flag (strict) | error kind → status |
/// | --- | --- | --- |
/// | `system_id`, `password` (any C-Octet String) longer than its spec maximum | `enforce_max_lengths` | [`DecodeErrorKind::FieldTooLong`] → ESME_RINVSYSID, ESME_RINVPASWD, … |
/// | time fields neither empty nor 16 characters | `enforce_max_lengths` | [`DecodeErrorKind::InvalidTime`] → ESME_RINVSCHED / ESME_RINVEXPIRY |
/// | the body's last C-Octet String without its NUL | `require_final_nul` | [`DecodeErrorKind::MissingNul`] → ESME_RINVCMDLEN |
/// | octets after the last field of a TLV-free body | `reject_trailing_octets` | [`DecodeErrorKind::TrailingOctets`] → ESME_RINVCMDLEN |
/// | a known TLV with a length its definition forbids | `check_tlv_lengths` | [`DecodeErrorKind::InvalidTlvLength`] → ESME_RINVPARLEN |
/// | `ESME_ROK` response without its body | `require_ok_response_body` | [`DecodeErrorKind::MissingNul`] → (responses are never answered) |
/// | v5.0 mandatory TLVs absent | `require_mandatory_tlvs` | [`DecodeErrorKind::MissingTlv`] → ESME_RMISSINGOPTPARAM |
/// | `sc_interface_version` 0x50 answering a 3.4 bind | `reject_newer_sc_interface_version` | [`DecodeErrorKind::InvalidTlvValue`] → ESME_RINVOPTPARAMVAL |
/// | `sequence_number` above 0x7FFFFFFF (peer wraps at 2^32), or 0 outside generic_nack | `reject_sequence_number_out_of_range` | [`DecodeErrorKind::InvalidSequenceNumber`] → ESME_RSYSERR |
/// | `enquire_link` before bind | `reject_enquire_link_before_bind` | enforced by the session with [`DecodeOptions::allowed_before_bind`] (the codec has no state) → ESME_RINVBNDSTS |
///
/// Our own sequence numbers never exceed 0x7FFFFFFF whatever these flags say (the session wraps
/// them to 1, SMPP 3.4 §5.1.4, v5.0 §4.7.24).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DecodeOptions {
    /// C-Octet Strings must end within their spec maximum (e.g. `system_id` in 16 octets
    /// including the NUL) and time fields must be empty or 16 characters (SMPP 3.4 §4 tables,
    /// §7.1.1). Off: a NUL anywhere in the rest of the body ends the field.
    pub enforce_max_lengths: bool,
    /// The last C-Octet String of a body must have its NUL. Off: a body that ends without it
    /// yields the remaining octets as the value.
    pub require_final_nul: bool,
    /// Reject octets after the last mandatory field of a PDU that takes no TLVs (bind,
    /// header-only PDUs, deliver_sm_resp). Off: they are ignored.
    pub reject_trailing_octets: bool,
    /// Known TLV tags must have a value length their definition allows
    /// ([`crate::tlv::expected_len`], → ESME_RINVPARLEN). Off: any length is accepted, and the
    /// typed accessors ([`crate::tlv::Tlvs::typed`]) report the values they cannot read.
    pub check_tlv_lengths: bool,
    /// A response whose `command_status` is `ESME_ROK` must have its body. Off: a missing body
    /// decodes as empty. Error responses are always accepted without a body (SMPP 3.4 §3.3).
    pub require_ok_response_body: bool,
    /// TLVs the spec makes mandatory must be present (the v5.0 `broadcast_sm` ones) (→
    /// ESME_RMISSINGOPTPARAM). Off: their absence is left to the application.
    pub require_mandatory_tlvs: bool,
    /// A bind response's `sc_interface_version` must not exceed [`DecodeOptions::interface_version`]
    /// (an SMSC answering a 3.4 bind with 0x50). Off: accepted; the session keeps speaking the
    /// version it bound with (SMPP 3.4 §5.3.2.25, v5.0 §2.11.2).
    pub reject_newer_sc_interface_version: bool,
    /// `sequence_number` must lie in 0x00000001–0x7FFFFFFF (0 is allowed in generic_nack only)
    /// (SMPP 3.4 §5.1.4, v5.0 §4.7.24). Off: any value is accepted and echoed, as peers that
    /// wrap at 2^32 need.
    pub reject_sequence_number_out_of_range: bool,
    /// `enquire_link` in the OPEN state (before bind) is refused (v3.4 Table 2-1 allows it only
    /// when bound; v5.0 in every state). The codec has no session state: the session applies it
    /// through [`DecodeOptions::allowed_before_bind`].
    pub reject_enquire_link_before_bind: bool,
    /// The `interface_version` this side bound with (0x34 = v3.4, 0x50 = v5.0), against which
    /// `reject_newer_sc_interface_version` checks. Default 0x34.
    pub interface_version: u8,
}

impl Default for DecodeOptions {
    /// [`DecodeOptions::lenient`].
    fn default() -> Self {
        DecodeOptions::lenient()
    }
}

impl DecodeOptions {
    /// [`DecodeOptions::lenient`] as a constant.
    pub const LENIENT: DecodeOptions = DecodeOptions::lenient();

    /// Everything lenient (the default), `interface_version` 0x34.
    pub const fn lenient() -> Self {
        DecodeOptions {
            enforce_max_lengths: false,
            require_final_nul: false,
            reject_trailing_octets: false,
            check_tlv_lengths: false,
            require_ok_response_body: false,
            require_mandatory_tlvs: false,
            reject_newer_sc_interface_version: false,
            reject_sequence_number_out_of_range: false,
            reject_enquire_link_before_bind: false,
            interface_version: 0x34,
        }
    }

    /// Every check on, `interface_version` 0x34.
    pub const fn strict() -> Self {
        DecodeOptions {
            enforce_max_lengths: true,
            require_final_nul: true,
            reject_trailing_octets: true,
            check_tlv_lengths: true,
            require_ok_response_body: true,
            require_mandatory_tlvs: true,
            reject_newer_sc_interface_version: true,
            reject_sequence_number_out_of_range: true,
            reject_enquire_link_before_bind: true,
            interface_version: 0x34,
        }
    }

    /// [`DecodeOptions::strict`] when `strict`, else [`DecodeOptions::lenient`]: the per-bind
    /// `strict_pdu` setting of the gateway.
    pub fn for_mode(strict: bool) -> Self {
        if strict {
            DecodeOptions::strict()
        } else {
            DecodeOptions::lenient()
        }
    }

    /// The same options with `interface_version` set (the version of this bind).
    pub fn with_interface_version(mut self, version: u8) -> Self {
        self.interface_version = version;
        self
    }

    /// Whether a PDU with `command_id` may be received before the session is bound (state
    /// OPEN): the bind requests and their responses, `outbind` and `generic_nack` always;
    /// `enquire_link` and its response unless `reject_enquire_link_before_bind` is set (SMPP 3.4
    /// Table 2-1; v5.0 Table 2-1 allows them in every state). Anything else gets
    /// ESME_RINVBNDSTS.
    pub fn allowed_before_bind(&self, command_id: u32) -> bool {
        use crate::command::command_id as c;
        match command_id {
            c::BIND_TRANSMITTER
            | c::BIND_RECEIVER
            | c::BIND_TRANSCEIVER
            | c::BIND_TRANSMITTER_RESP
            | c::BIND_RECEIVER_RESP
            | c::BIND_TRANSCEIVER_RESP
            | c::OUTBIND
            | c::GENERIC_NACK => true,
            c::ENQUIRE_LINK | c::ENQUIRE_LINK_RESP => !self.reject_enquire_link_before_bind,
            _ => false,
        }
    }
}

/// A mandatory body field, named as in SMPP 3.4 §4 (used in [`DecodeErrorKind`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
#[allow(missing_docs)] // each variant is the spec field of the same name
pub enum Field {
    SystemId,
    Password,
    SystemType,
    InterfaceVersion,
    AddrTon,
    AddrNpi,
    AddressRange,
    ServiceType,
    SourceAddrTon,
    SourceAddrNpi,
    SourceAddr,
    DestAddrTon,
    DestAddrNpi,
    DestinationAddr,
    EsmClass,
    ProtocolId,
    PriorityFlag,
    ScheduleDeliveryTime,
    ValidityPeriod,
    RegisteredDelivery,
    ReplaceIfPresentFlag,
    DataCoding,
    SmDefaultMsgId,
    SmLength,
    ShortMessage,
    MessageId,
    NumberOfDests,
    DestFlag,
    DlName,
    NoUnsuccess,
    ErrorStatusCode,
    FinalDate,
    MessageState,
    ErrorCode,
    EsmeAddrTon,
    EsmeAddrNpi,
    EsmeAddr,
}

impl Field {
    /// The spec name, e.g. `"system_id"`.
    pub fn name(self) -> &'static str {
        use Field::*;
        match self {
            SystemId => "system_id",
            Password => "password",
            SystemType => "system_type",
            InterfaceVersion => "interface_version",
            AddrTon => "addr_ton",
            AddrNpi => "addr_npi",
            AddressRange => "address_range",
            ServiceType => "service_type",
            SourceAddrTon => "source_addr_ton",
            SourceAddrNpi => "source_addr_npi",
            SourceAddr => "source_addr",
            DestAddrTon => "dest_addr_ton",
            DestAddrNpi => "dest_addr_npi",
            DestinationAddr => "destination_addr",
            EsmClass => "esm_class",
            ProtocolId => "protocol_id",
            PriorityFlag => "priority_flag",
            ScheduleDeliveryTime => "schedule_delivery_time",
            ValidityPeriod => "validity_period",
            RegisteredDelivery => "registered_delivery",
            ReplaceIfPresentFlag => "replace_if_present_flag",
            DataCoding => "data_coding",
            SmDefaultMsgId => "sm_default_msg_id",
            SmLength => "sm_length",
            ShortMessage => "short_message",
            MessageId => "message_id",
            NumberOfDests => "number_of_dests",
            DestFlag => "dest_flag",
            DlName => "dl_name",
            NoUnsuccess => "no_unsuccess",
            ErrorStatusCode => "error_status_code",
            FinalDate => "final_date",
            MessageState => "message_state",
            ErrorCode => "error_code",
            EsmeAddrTon => "esme_addr_ton",
            EsmeAddrNpi => "esme_addr_npi",
            EsmeAddr => "esme_addr",
        }
    }

    /// The status that reports a malformed value of this field (SMPP 3.4 §5.1.3), e.g.
    /// `system_id` → ESME_RINVSYSID; ESME_RSYSERR for fields without a specific code.
    pub fn status(self) -> CommandStatus {
        use Field::*;
        match self {
            SystemId => CommandStatus::ESME_RINVSYSID,
            Password => CommandStatus::ESME_RINVPASWD,
            SystemType => CommandStatus::ESME_RINVSYSTYP,
            InterfaceVersion | AddrTon | AddrNpi | AddressRange => CommandStatus::ESME_RBINDFAIL,
            ServiceType => CommandStatus::ESME_RINVSERTYP,
            SourceAddrTon => CommandStatus::ESME_RINVSRCTON,
            SourceAddrNpi => CommandStatus::ESME_RINVSRCNPI,
            SourceAddr | EsmeAddr => CommandStatus::ESME_RINVSRCADR,
            DestAddrTon => CommandStatus::ESME_RINVDSTTON,
            DestAddrNpi => CommandStatus::ESME_RINVDSTNPI,
            DestinationAddr => CommandStatus::ESME_RINVDSTADR,
            EsmClass => CommandStatus::ESME_RINVESMCLASS,
            PriorityFlag => CommandStatus::ESME_RINVPRTFLG,
            ScheduleDeliveryTime => CommandStatus::ESME_RINVSCHED,
            ValidityPeriod => CommandStatus::ESME_RINVEXPIRY,
            RegisteredDelivery => CommandStatus::ESME_RINVREGDLVFLG,
            ReplaceIfPresentFlag => CommandStatus::ESME_RINVREPFLAG,
            SmDefaultMsgId => CommandStatus::ESME_RINVDFTMSGID,
            SmLength | ShortMessage => CommandStatus::ESME_RINVMSGLEN,
            MessageId => CommandStatus::ESME_RINVMSGID,
            NumberOfDests => CommandStatus::ESME_RINVNUMDESTS,
            DestFlag => CommandStatus::ESME_RINVDESTFLAG,
            DlName => CommandStatus::ESME_RINVDLNAME,
            _ => CommandStatus::ESME_RSYSERR,
        }
    }
}

impl fmt::Display for Field {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// What was wrong with a PDU (SMPP 3.4 §2.8, v5.0 §2.11.1). [`DecodeErrorKind::status`] maps
/// each to the `command_status` to answer with.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum DecodeErrorKind {
    /// Fewer than the 16 header octets (SMPP 3.4 §3.2). → ESME_RINVCMDLEN, generic_nack with
    /// sequence_number 0.
    #[error("PDU of {len} octets is shorter than the 16-octet header")]
    HeaderTooShort {
        /// Octets given.
        len: usize,
    },
    /// `command_length` differs from the octets of the frame (SMPP 3.4 §3.2). → ESME_RINVCMDLEN,
    /// generic_nack.
    #[error("command_length {command_length} does not match the {frame_len}-octet PDU")]
    CommandLengthMismatch {
        /// The header's `command_length`.
        command_length: u32,
        /// Octets given.
        frame_len: usize,
    },
    /// `command_id` is reserved or unknown (SMPP 3.4 §5.1.2.1). → ESME_RINVCMDID, generic_nack.
    #[error("unknown command_id 0x{command_id:08X}")]
    UnknownCommandId {
        /// The header's `command_id`.
        command_id: u32,
    },
    /// A known `command_id` this crate has no [`Pdu`] variant for (none at present; kept for
    /// ids a later spec adds). → ESME_RINVCMDID, generic_nack.
    #[error("unsupported command")]
    UnsupportedCommand,
    /// The body ends before this field (SMPP 3.4 §3.2). → ESME_RINVCMDLEN.
    #[error("body ends before {field}")]
    Truncated {
        /// The field that is missing.
        field: Field,
    },
    /// The body ends inside this C-Octet String: no NUL follows it (SMPP 3.4 §3.1).
    /// → ESME_RINVCMDLEN.
    #[error("{field} has no terminating NUL")]
    MissingNul {
        /// The unterminated field.
        field: Field,
    },
    /// (strict) A C-Octet String longer than its spec maximum. → the field's own code
    /// ([`Field::status`]), e.g. ESME_RINVSYSID.
    #[error("{field} exceeds its maximum of {max} octets including the NUL")]
    FieldTooLong {
        /// The field.
        field: Field,
        /// Its spec maximum in octets, NUL included.
        max: usize,
    },
    /// (strict) A time field that is neither empty nor 16 characters (SMPP 3.4 §7.1.1).
    /// → ESME_RINVSCHED / ESME_RINVEXPIRY.
    #[error("{field} has {len} characters, expected 0 or 16")]
    InvalidTime {
        /// The field.
        field: Field,
        /// Its length in characters.
        len: usize,
    },
    /// `sm_length` is larger than the octets left in the body (SMPP 3.4 §4.4.1).
    /// → ESME_RINVMSGLEN.
    #[error("sm_length {sm_length} exceeds the {available} octets left in the body")]
    ShortMessageLength {
        /// The declared `sm_length`.
        sm_length: u8,
        /// Octets left after `sm_length`.
        available: usize,
    },
    /// A value this crate cannot represent or that the spec forbids (e.g. an unknown
    /// `dest_flag`). → the field's own code.
    #[error("invalid {field} value {value}")]
    InvalidValue {
        /// The field.
        field: Field,
        /// The offending value.
        value: u32,
    },
    /// 1–3 octets after the last TLV, too few for a TLV header (v5.0 §2.11.1).
    /// → ESME_RINVOPTPARSTREAM.
    #[error("{len} stray octets after the last TLV")]
    TrailingTlvOctets {
        /// Number of stray octets.
        len: usize,
    },
    /// A TLV's length runs past the end of the PDU (v5.0 §2.11.1). → ESME_RINVOPTPARSTREAM.
    #[error("TLV 0x{tag:04X} length {len} runs past the end of the PDU ({available} octets left)")]
    TlvOverrun {
        /// The TLV's tag.
        tag: u16,
        /// Its declared length.
        len: u16,
        /// Octets left after its header.
        available: usize,
    },
    /// (strict) A known TLV with a length its definition does not allow. → ESME_RINVPARLEN.
    #[error("TLV 0x{tag:04X} has invalid length {len}")]
    InvalidTlvLength {
        /// The TLV's tag.
        tag: u16,
        /// Its length.
        len: u16,
    },
    /// (strict) A TLV the PDU must carry is absent (v5.0 §2.11.1). → ESME_RMISSINGOPTPARAM.
    #[error("mandatory TLV 0x{tag:04X} is missing")]
    MissingTlv {
        /// The missing tag.
        tag: u16,
    },
    /// (strict) A TLV value the options refuse, e.g. `sc_interface_version` 0x50 answering a
    /// 3.4 bind. → ESME_RINVOPTPARAMVAL.
    #[error("TLV 0x{tag:04X} has invalid value {value}")]
    InvalidTlvValue {
        /// The TLV's tag.
        tag: u16,
        /// The offending value.
        value: u32,
    },
    /// (strict) `sequence_number` outside 0x00000001–0x7FFFFFFF, or 0 in a PDU other than
    /// generic_nack (SMPP 3.4 §5.1.4). → ESME_RSYSERR (the spec has no specific code).
    #[error("sequence_number {sequence_number:#010X} is outside 0x00000001..=0x7FFFFFFF")]
    InvalidSequenceNumber {
        /// The header's `sequence_number`.
        sequence_number: u32,
    },
    /// (strict) Octets after the last field of a PDU that takes no TLVs. → ESME_RINVCMDLEN.
    #[error("{len} unexpected octets after the last field")]
    TrailingOctets {
        /// Number of extra octets.
        len: usize,
    },
}

impl DecodeErrorKind {
    /// The `command_status` answering this error (SMPP 3.4 §5.1.3; v5.0 §2.11.1 for TLVs).
    pub fn status(&self) -> CommandStatus {
        use DecodeErrorKind::*;
        match self {
            HeaderTooShort { .. }
            | CommandLengthMismatch { .. }
            | Truncated { .. }
            | MissingNul { .. }
            | TrailingOctets { .. } => CommandStatus::ESME_RINVCMDLEN,
            UnknownCommandId { .. } | UnsupportedCommand => CommandStatus::ESME_RINVCMDID,
            FieldTooLong { field, .. } | InvalidTime { field, .. } | InvalidValue { field, .. } => {
                field.status()
            }
            ShortMessageLength { .. } => CommandStatus::ESME_RINVMSGLEN,
            TrailingTlvOctets { .. } | TlvOverrun { .. } => CommandStatus::ESME_RINVOPTPARSTREAM,
            InvalidTlvLength { .. } => CommandStatus::ESME_RINVPARLEN,
            MissingTlv { .. } => CommandStatus::ESME_RMISSINGOPTPARAM,
            InvalidTlvValue { .. } => CommandStatus::ESME_RINVOPTPARAMVAL,
            InvalidSequenceNumber { .. } => CommandStatus::ESME_RSYSERR,
        }
    }

    /// `true` for errors that make the PDU unidentifiable (header, length, command id): these
    /// are answered with generic_nack (SMPP 3.4 §4.3.1).
    fn needs_generic_nack(&self) -> bool {
        use DecodeErrorKind::*;
        matches!(
            self,
            HeaderTooShort { .. }
                | CommandLengthMismatch { .. }
                | UnknownCommandId { .. }
                | UnsupportedCommand
        )
    }
}

/// Why a PDU could not be decoded (SMPP 3.4 §2.8). Once the header is read it carries the
/// `command_id` and `sequence_number` needed to answer; both are 0 when the header itself was
/// unreadable.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{kind} in {} (sequence_number {sequence_number})", command_name(*command_id).unwrap_or("unknown command"))]
pub struct DecodeError {
    /// The header's `command_id` (0 if unreadable).
    pub command_id: u32,
    /// The header's `sequence_number` (0 if unreadable).
    pub sequence_number: u32,
    /// What was wrong.
    pub kind: DecodeErrorKind,
}

impl DecodeError {
    /// The status to answer with: ESME_RINVCMDLEN, ESME_RINVCMDID, ESME_RINVMSGLEN,
    /// ESME_RINVOPTPARSTREAM, ESME_RINVPARLEN, a field-specific code (e.g. a too-long
    /// `system_id` in a bind → ESME_RINVSYSID), else ESME_RSYSERR (SMPP 3.4 §5.1.3).
    pub fn status(&self) -> CommandStatus {
        self.kind.status()
    }

    /// Whether the answer is a generic_nack (SMPP 3.4 §4.3.1) rather than the command's own
    /// `*_resp`: the command id is unknown or unsupported, the header or length is unreadable,
    /// the command has no response PDU (outbind, alert_notification), or the offending PDU is
    /// itself a response (then [`DecodeError::response`] is `None`: never answer a response).
    pub fn answer_with_generic_nack(&self) -> bool {
        self.kind.needs_generic_nack()
            || is_response_id(self.command_id)
            || response_id(self.command_id).is_none()
    }

    /// The response frame to send back: generic_nack or the command's own `*_resp` with an empty
    /// body, carrying [`DecodeError::status`] and the offending `sequence_number`. `None` when
    /// the offending PDU is a response (never answer a response, SMPP 3.4 §2.8).
    pub fn response(&self) -> Option<Frame> {
        if is_response_id(self.command_id) {
            return None;
        }
        let pdu = if self.answer_with_generic_nack() {
            Pdu::GenericNack
        } else {
            response_id(self.command_id).and_then(Pdu::empty_for_id)?
        };
        Some(Frame::with_status(self.sequence_number, self.status(), pdu))
    }
}
