//! `command_status` values (SMPP 3.4 §5.1.3, Table 5-2; v5.0 Table 4-45 for the `0x100..` codes).
//!
//! [`CommandStatus`] is a newtype over the raw `u32`, so codes this crate does not know (SMSC
//! vendor codes `0x400..=0x4FF`, reserved values) pass through decoding and encoding unchanged.

use std::fmt;

/// The `command_status` header field (SMPP 3.4 §5.1.3): a 4-octet result code, 0 in requests and
/// `ESME_ROK` or an error in responses.
///
/// A newtype rather than an enum so that unknown vendor codes survive a decode → encode trip.
/// Use the associated constants (`CommandStatus::ESME_RTHROTTLED`) for known codes,
/// [`CommandStatus::name`] to look a code's name up, and `Display` for logs.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
pub struct CommandStatus(pub u32);

macro_rules! statuses {
    ($( $(#[$doc:meta])* $name:ident = $value:expr; )*) => {
        impl CommandStatus {
            $( $(#[$doc])* pub const $name: CommandStatus = CommandStatus($value); )*

            /// The `ESME_R*` name of this code (v3.4 spelling, e.g. `"ESME_RTHROTTLED"`), or `None`
            /// for a reserved or vendor-specific value.
            pub fn name(self) -> Option<&'static str> {
                match self.0 {
                    $( $value => Some(stringify!($name)), )*
                    _ => None,
                }
            }

            /// The code named `name` (`"ESME_RTHROTTLED"`, exact spelling as [`CommandStatus::name`]),
            /// or `None` for an unknown name.
            pub fn from_name(name: &str) -> Option<CommandStatus> {
                match name {
                    $( stringify!($name) => Some(CommandStatus::$name), )*
                    _ => None,
                }
            }
        }

        #[cfg(test)]
        pub(crate) const ALL: &[CommandStatus] = &[$( CommandStatus::$name, )*];
    };
}

statuses! {
    /// 0x00000000: no error.
    ESME_ROK = 0x0000_0000;
    /// 0x00000001: message length is invalid (`short_message` / `message_payload`).
    ESME_RINVMSGLEN = 0x0000_0001;
    /// 0x00000002: command length is invalid.
    ESME_RINVCMDLEN = 0x0000_0002;
    /// 0x00000003: invalid or unsupported command id.
    ESME_RINVCMDID = 0x0000_0003;
    /// 0x00000004: incorrect bind status for the given command (wrong session state).
    ESME_RINVBNDSTS = 0x0000_0004;
    /// 0x00000005: ESME already in bound state.
    ESME_RALYBND = 0x0000_0005;
    /// 0x00000006: invalid `priority_flag`.
    ESME_RINVPRTFLG = 0x0000_0006;
    /// 0x00000007: invalid `registered_delivery`.
    ESME_RINVREGDLVFLG = 0x0000_0007;
    /// 0x00000008: system error.
    ESME_RSYSERR = 0x0000_0008;
    /// 0x0000000A: invalid source address.
    ESME_RINVSRCADR = 0x0000_000A;
    /// 0x0000000B: invalid destination address.
    ESME_RINVDSTADR = 0x0000_000B;
    /// 0x0000000C: invalid `message_id`.
    ESME_RINVMSGID = 0x0000_000C;
    /// 0x0000000D: bind failed (also used for wrong credentials).
    ESME_RBINDFAIL = 0x0000_000D;
    /// 0x0000000E: invalid password.
    ESME_RINVPASWD = 0x0000_000E;
    /// 0x0000000F: invalid `system_id`.
    ESME_RINVSYSID = 0x0000_000F;
    /// 0x00000011: `cancel_sm` failed.
    ESME_RCANCELFAIL = 0x0000_0011;
    /// 0x00000013: `replace_sm` failed.
    ESME_RREPLACEFAIL = 0x0000_0013;
    /// 0x00000014: message queue full.
    ESME_RMSGQFUL = 0x0000_0014;
    /// 0x00000015: invalid `service_type`.
    ESME_RINVSERTYP = 0x0000_0015;
    /// 0x00000033: invalid `number_of_dests` (`submit_multi`).
    ESME_RINVNUMDESTS = 0x0000_0033;
    /// 0x00000034: invalid distribution list name.
    ESME_RINVDLNAME = 0x0000_0034;
    /// 0x00000040: invalid `dest_flag` (`submit_multi`).
    ESME_RINVDESTFLAG = 0x0000_0040;
    /// 0x00000042: invalid submit-with-replace request (`replace_if_present_flag` set).
    ESME_RINVSUBREP = 0x0000_0042;
    /// 0x00000043: invalid `esm_class`.
    ESME_RINVESMCLASS = 0x0000_0043;
    /// 0x00000044: cannot submit to a distribution list.
    ESME_RCNTSUBDL = 0x0000_0044;
    /// 0x00000045: `submit_sm` / `submit_multi` failed.
    ESME_RSUBMITFAIL = 0x0000_0045;
    /// 0x00000048: invalid source address TON.
    ESME_RINVSRCTON = 0x0000_0048;
    /// 0x00000049: invalid source address NPI.
    ESME_RINVSRCNPI = 0x0000_0049;
    /// 0x00000050: invalid destination address TON.
    ESME_RINVDSTTON = 0x0000_0050;
    /// 0x00000051: invalid destination address NPI.
    ESME_RINVDSTNPI = 0x0000_0051;
    /// 0x00000053: invalid `system_type`.
    ESME_RINVSYSTYP = 0x0000_0053;
    /// 0x00000054: invalid `replace_if_present_flag`.
    ESME_RINVREPFLAG = 0x0000_0054;
    /// 0x00000055: invalid number of messages.
    ESME_RINVNUMMSGS = 0x0000_0055;
    /// 0x00000058: throttling error (the ESME exceeded its allowed message rate).
    ESME_RTHROTTLED = 0x0000_0058;
    /// 0x00000061: invalid `schedule_delivery_time`.
    ESME_RINVSCHED = 0x0000_0061;
    /// 0x00000062: invalid `validity_period` (expiry time).
    ESME_RINVEXPIRY = 0x0000_0062;
    /// 0x00000063: predefined message invalid or not found (`sm_default_msg_id`).
    ESME_RINVDFTMSGID = 0x0000_0063;
    /// 0x00000064: ESME receiver temporary application error (retry later).
    ESME_RX_T_APPN = 0x0000_0064;
    /// 0x00000065: ESME receiver permanent application error (stop for this destination).
    ESME_RX_P_APPN = 0x0000_0065;
    /// 0x00000066: ESME receiver rejects this message (do not retry it).
    ESME_RX_R_APPN = 0x0000_0066;
    /// 0x00000067: `query_sm` failed.
    ESME_RQUERYFAIL = 0x0000_0067;
    /// 0x000000C0: error in the optional part of the PDU body (TLV stream; v5 `ESME_RINVTLVSTREAM`).
    ESME_RINVOPTPARSTREAM = 0x0000_00C0;
    /// 0x000000C1: optional parameter not allowed (v5 `ESME_RTLVNOTALLWD`).
    ESME_ROPTPARNOTALLWD = 0x0000_00C1;
    /// 0x000000C2: invalid parameter (TLV) length (v5 `ESME_RINVTLVLEN`).
    ESME_RINVPARLEN = 0x0000_00C2;
    /// 0x000000C3: expected optional parameter missing (v5 `ESME_RMISSINGTLV`).
    ESME_RMISSINGOPTPARAM = 0x0000_00C3;
    /// 0x000000C4: invalid optional parameter value (v5 `ESME_RINVTLVVAL`).
    ESME_RINVOPTPARAMVAL = 0x0000_00C4;
    /// 0x000000FE: delivery failure (transaction mode, `data_sm_resp` / `submit_sm_resp`).
    ESME_RDELIVERYFAILURE = 0x0000_00FE;
    /// 0x000000FF: unknown error.
    ESME_RUNKNOWNERR = 0x0000_00FF;
    /// 0x00000100 (v5.0): ESME not authorised to use the specified `service_type`.
    ESME_RSERTYPUNAUTH = 0x0000_0100;
    /// 0x00000101 (v5.0): ESME prohibited from using the specified operation.
    ESME_RPROHIBITED = 0x0000_0101;
    /// 0x00000102 (v5.0): specified `service_type` is unavailable.
    ESME_RSERTYPUNAVAIL = 0x0000_0102;
    /// 0x00000103 (v5.0): specified `service_type` is denied.
    ESME_RSERTYPDENIED = 0x0000_0103;
    /// 0x00000104 (v5.0): invalid data coding scheme.
    ESME_RINVDCS = 0x0000_0104;
    /// 0x00000105 (v5.0): source address subunit is invalid.
    ESME_RINVSRCADDRSUBUNIT = 0x0000_0105;
    /// 0x00000106 (v5.0): destination address subunit is invalid.
    ESME_RINVDSTADDRSUBUNIT = 0x0000_0106;
    /// 0x00000107 (v5.0): broadcast frequency interval is invalid.
    ESME_RINVBCASTFREQINT = 0x0000_0107;
    /// 0x00000108 (v5.0): broadcast alias name is invalid.
    ESME_RINVBCASTALIAS_NAME = 0x0000_0108;
    /// 0x00000109 (v5.0): broadcast area format is invalid.
    ESME_RINVBCASTAREAFMT = 0x0000_0109;
    /// 0x0000010A (v5.0): number of broadcast areas is invalid.
    ESME_RINVNUMBCAST_AREAS = 0x0000_010A;
    /// 0x0000010B (v5.0): broadcast content type is invalid.
    ESME_RINVBCASTCNTTYPE = 0x0000_010B;
    /// 0x0000010C (v5.0): broadcast message class is invalid.
    ESME_RINVBCASTMSGCLASS = 0x0000_010C;
    /// 0x0000010D (v5.0): `broadcast_sm` failed.
    ESME_RBCASTFAIL = 0x0000_010D;
    /// 0x0000010E (v5.0): `query_broadcast_sm` failed.
    ESME_RBCASTQUERYFAIL = 0x0000_010E;
    /// 0x0000010F (v5.0): `cancel_broadcast_sm` failed.
    ESME_RBCASTCANCELFAIL = 0x0000_010F;
    /// 0x00000110 (v5.0): number of repeated broadcasts is invalid.
    ESME_RINVBCAST_REP = 0x0000_0110;
    /// 0x00000111 (v5.0): broadcast service group is invalid.
    ESME_RINVBCASTSRVGRP = 0x0000_0111;
    /// 0x00000112 (v5.0): broadcast channel indicator is invalid.
    ESME_RINVBCASTCHANIND = 0x0000_0112;
}

impl CommandStatus {
    /// `true` for `ESME_ROK` (0), the only success code.
    pub fn is_ok(self) -> bool {
        self.0 == 0
    }

    /// `true` for the SMSC vendor-specific range `0x400..=0x4FF` (SMPP 3.4 Table 5-2).
    pub fn is_vendor_specific(self) -> bool {
        (0x400..=0x4FF).contains(&self.0)
    }
}

impl From<u32> for CommandStatus {
    fn from(value: u32) -> Self {
        CommandStatus(value)
    }
}

impl From<CommandStatus> for u32 {
    fn from(value: CommandStatus) -> Self {
        value.0
    }
}

/// `ESME_RTHROTTLED (0x00000058)` for a known code, `0x00000401` for an unknown one.
impl fmt::Display for CommandStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.name() {
            Some(name) => write!(f, "{name} (0x{:08X})", self.0),
            None => write!(f, "0x{:08X}", self.0),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_values_follow_the_facts_table() {
        assert_eq!(CommandStatus::ESME_RINVSERTYP.0, 0x15);
        assert_eq!(CommandStatus::ESME_RINVDSTTON.0, 0x50);
        assert_eq!(CommandStatus::ESME_RINVDSTNPI.0, 0x51);
        assert_eq!(CommandStatus::ESME_RINVSYSTYP.0, 0x53);
        assert_eq!(CommandStatus::ESME_RINVREPFLAG.0, 0x54);
        assert_eq!(CommandStatus::ESME_RTHROTTLED.0, 0x58);
        assert_eq!(CommandStatus::ESME_RINVOPTPARSTREAM.0, 0xC0);
        assert_eq!(CommandStatus::ESME_RX_T_APPN.0, 0x64);
        assert_eq!(CommandStatus(0x58).name(), Some("ESME_RTHROTTLED"));
        assert_eq!(CommandStatus(0x09).name(), None);
        assert_eq!(CommandStatus(0x112).name(), Some("ESME_RINVBCASTCHANIND"));
    }

    #[test]
    fn from_name_inverts_name() {
        for &st in ALL {
            assert_eq!(CommandStatus::from_name(st.name().unwrap()), Some(st));
        }
        assert_eq!(
            CommandStatus::from_name("ESME_RTHROTTLED"),
            Some(CommandStatus(0x58))
        );
        assert_eq!(CommandStatus::from_name("esme_rthrottled"), None);
    }

    #[test]
    fn every_name_is_unique_and_round_trips() {
        for (i, a) in ALL.iter().enumerate() {
            let name = a.name().unwrap();
            assert!(name.starts_with("ESME_R"), "{name}");
            for b in &ALL[i + 1..] {
                assert_ne!(a.0, b.0, "{name} duplicated");
            }
        }
        assert_eq!(ALL.len(), 48 + 19);
    }

    #[test]
    fn display_and_is_ok() {
        assert_eq!(
            CommandStatus::ESME_RTHROTTLED.to_string(),
            "ESME_RTHROTTLED (0x00000058)"
        );
        assert_eq!(CommandStatus(0x401).to_string(), "0x00000401");
        assert!(CommandStatus::ESME_ROK.is_ok());
        assert!(CommandStatus::default().is_ok());
        assert!(!CommandStatus::ESME_RSYSERR.is_ok());
        assert!(CommandStatus(0x401).is_vendor_specific());
        assert!(!CommandStatus(0x58).is_vendor_specific());
    }
}
