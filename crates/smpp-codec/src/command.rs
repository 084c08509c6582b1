//! `command_id` values (SMPP 3.4 §5.1.2.1, Table 5-1; v5.0 Table 4-44 for the broadcast PDUs).
//!
//! A response's id is its request's id with bit 31 set (`id | 0x8000_0000`).

/// `command_id` constants, one per PDU (SMPP 3.4 §5.1.2.1; v5.0 Table 4-44 for `*BROADCAST*`).
///
/// Requests lie in `0x0000_0000..=0x0000_01FF`, responses in `0x8000_0000..=0x8000_01FF`.
/// `OUTBIND` and `ALERT_NOTIFICATION` have no response; `GENERIC_NACK` has no request.
pub mod command_id {
    /// Bit 31: set in every response `command_id` (SMPP 3.4 §5.1.2.1).
    pub const RESPONSE_BIT: u32 = 0x8000_0000;

    /// `generic_nack` (§4.3.1): negative acknowledgement of an unparseable or unknown PDU.
    pub const GENERIC_NACK: u32 = 0x8000_0000;
    /// `bind_receiver` (§4.1.3).
    pub const BIND_RECEIVER: u32 = 0x0000_0001;
    /// `bind_receiver_resp` (§4.1.4).
    pub const BIND_RECEIVER_RESP: u32 = 0x8000_0001;
    /// `bind_transmitter` (§4.1.1).
    pub const BIND_TRANSMITTER: u32 = 0x0000_0002;
    /// `bind_transmitter_resp` (§4.1.2).
    pub const BIND_TRANSMITTER_RESP: u32 = 0x8000_0002;
    /// `query_sm` (§4.8.1).
    pub const QUERY_SM: u32 = 0x0000_0003;
    /// `query_sm_resp` (§4.8.2).
    pub const QUERY_SM_RESP: u32 = 0x8000_0003;
    /// `submit_sm` (§4.4.1).
    pub const SUBMIT_SM: u32 = 0x0000_0004;
    /// `submit_sm_resp` (§4.4.2).
    pub const SUBMIT_SM_RESP: u32 = 0x8000_0004;
    /// `deliver_sm` (§4.6.1).
    pub const DELIVER_SM: u32 = 0x0000_0005;
    /// `deliver_sm_resp` (§4.6.2).
    pub const DELIVER_SM_RESP: u32 = 0x8000_0005;
    /// `unbind` (§4.2.1).
    pub const UNBIND: u32 = 0x0000_0006;
    /// `unbind_resp` (§4.2.2).
    pub const UNBIND_RESP: u32 = 0x8000_0006;
    /// `replace_sm` (§4.10.1).
    pub const REPLACE_SM: u32 = 0x0000_0007;
    /// `replace_sm_resp` (§4.10.2).
    pub const REPLACE_SM_RESP: u32 = 0x8000_0007;
    /// `cancel_sm` (§4.9.1).
    pub const CANCEL_SM: u32 = 0x0000_0008;
    /// `cancel_sm_resp` (§4.9.2).
    pub const CANCEL_SM_RESP: u32 = 0x8000_0008;
    /// `bind_transceiver` (§4.1.5).
    pub const BIND_TRANSCEIVER: u32 = 0x0000_0009;
    /// `bind_transceiver_resp` (§4.1.6).
    pub const BIND_TRANSCEIVER_RESP: u32 = 0x8000_0009;
    /// `outbind` (§4.1.7); has no response PDU.
    pub const OUTBIND: u32 = 0x0000_000B;
    /// `enquire_link` (§4.11.1).
    pub const ENQUIRE_LINK: u32 = 0x0000_0015;
    /// `enquire_link_resp` (§4.11.2).
    pub const ENQUIRE_LINK_RESP: u32 = 0x8000_0015;
    /// `submit_multi` (§4.5.1).
    pub const SUBMIT_MULTI: u32 = 0x0000_0021;
    /// `submit_multi_resp` (§4.5.2).
    pub const SUBMIT_MULTI_RESP: u32 = 0x8000_0021;
    /// `alert_notification` (§4.12.1); has no response PDU.
    pub const ALERT_NOTIFICATION: u32 = 0x0000_0102;
    /// `data_sm` (§4.7.1).
    pub const DATA_SM: u32 = 0x0000_0103;
    /// `data_sm_resp` (§4.7.2).
    pub const DATA_SM_RESP: u32 = 0x8000_0103;
    /// `broadcast_sm` (v5.0 §4.4.1.1).
    pub const BROADCAST_SM: u32 = 0x0000_0111;
    /// `broadcast_sm_resp` (v5.0 §4.4.1.2).
    pub const BROADCAST_SM_RESP: u32 = 0x8000_0111;
    /// `query_broadcast_sm` (v5.0 §4.6.1.1).
    pub const QUERY_BROADCAST_SM: u32 = 0x0000_0112;
    /// `query_broadcast_sm_resp` (v5.0 §4.6.1.3).
    pub const QUERY_BROADCAST_SM_RESP: u32 = 0x8000_0112;
    /// `cancel_broadcast_sm` (v5.0 §4.6.2.1).
    pub const CANCEL_BROADCAST_SM: u32 = 0x0000_0113;
    /// `cancel_broadcast_sm_resp` (v5.0 §4.6.2.3).
    pub const CANCEL_BROADCAST_SM_RESP: u32 = 0x8000_0113;
}

use command_id as c;

/// The spec name of a `command_id` (`"submit_sm_resp"`), or `None` for a reserved/unknown id
/// (SMPP 3.4 §5.1.2.1).
pub fn command_name(id: u32) -> Option<&'static str> {
    Some(match id {
        c::GENERIC_NACK => "generic_nack",
        c::BIND_RECEIVER => "bind_receiver",
        c::BIND_RECEIVER_RESP => "bind_receiver_resp",
        c::BIND_TRANSMITTER => "bind_transmitter",
        c::BIND_TRANSMITTER_RESP => "bind_transmitter_resp",
        c::QUERY_SM => "query_sm",
        c::QUERY_SM_RESP => "query_sm_resp",
        c::SUBMIT_SM => "submit_sm",
        c::SUBMIT_SM_RESP => "submit_sm_resp",
        c::DELIVER_SM => "deliver_sm",
        c::DELIVER_SM_RESP => "deliver_sm_resp",
        c::UNBIND => "unbind",
        c::UNBIND_RESP => "unbind_resp",
        c::REPLACE_SM => "replace_sm",
        c::REPLACE_SM_RESP => "replace_sm_resp",
        c::CANCEL_SM => "cancel_sm",
        c::CANCEL_SM_RESP => "cancel_sm_resp",
        c::BIND_TRANSCEIVER => "bind_transceiver",
        c::BIND_TRANSCEIVER_RESP => "bind_transceiver_resp",
        c::OUTBIND => "outbind",
        c::ENQUIRE_LINK => "enquire_link",
        c::ENQUIRE_LINK_RESP => "enquire_link_resp",
        c::SUBMIT_MULTI => "submit_multi",
        c::SUBMIT_MULTI_RESP => "submit_multi_resp",
        c::ALERT_NOTIFICATION => "alert_notification",
        c::DATA_SM => "data_sm",
        c::DATA_SM_RESP => "data_sm_resp",
        c::BROADCAST_SM => "broadcast_sm",
        c::BROADCAST_SM_RESP => "broadcast_sm_resp",
        c::QUERY_BROADCAST_SM => "query_broadcast_sm",
        c::QUERY_BROADCAST_SM_RESP => "query_broadcast_sm_resp",
        c::CANCEL_BROADCAST_SM => "cancel_broadcast_sm",
        c::CANCEL_BROADCAST_SM_RESP => "cancel_broadcast_sm_resp",
        _ => return None,
    })
}

/// Every `command_id` this crate knows (SMPP 3.4 §5.1.2.1 and the v5.0 broadcast PDUs).
pub const ALL_COMMAND_IDS: [u32; 33] = [
    c::GENERIC_NACK,
    c::BIND_RECEIVER,
    c::BIND_RECEIVER_RESP,
    c::BIND_TRANSMITTER,
    c::BIND_TRANSMITTER_RESP,
    c::QUERY_SM,
    c::QUERY_SM_RESP,
    c::SUBMIT_SM,
    c::SUBMIT_SM_RESP,
    c::DELIVER_SM,
    c::DELIVER_SM_RESP,
    c::UNBIND,
    c::UNBIND_RESP,
    c::REPLACE_SM,
    c::REPLACE_SM_RESP,
    c::CANCEL_SM,
    c::CANCEL_SM_RESP,
    c::BIND_TRANSCEIVER,
    c::BIND_TRANSCEIVER_RESP,
    c::OUTBIND,
    c::ENQUIRE_LINK,
    c::ENQUIRE_LINK_RESP,
    c::SUBMIT_MULTI,
    c::SUBMIT_MULTI_RESP,
    c::ALERT_NOTIFICATION,
    c::DATA_SM,
    c::DATA_SM_RESP,
    c::BROADCAST_SM,
    c::BROADCAST_SM_RESP,
    c::QUERY_BROADCAST_SM,
    c::QUERY_BROADCAST_SM_RESP,
    c::CANCEL_BROADCAST_SM,
    c::CANCEL_BROADCAST_SM_RESP,
];

/// The `command_id` named `name` (`"submit_sm_resp"`, as [`command_name`] spells it), or `None`.
pub fn command_id_by_name(name: &str) -> Option<u32> {
    ALL_COMMAND_IDS
        .iter()
        .copied()
        .find(|&id| command_name(id) == Some(name))
}

/// `true` when bit 31 of `id` is set, i.e. the id names a response (generic_nack included)
/// (SMPP 3.4 §5.1.2.1).
pub fn is_response_id(id: u32) -> bool {
    id & c::RESPONSE_BIT != 0
}

/// The `command_id` of the response answering request `id`, or `None` when `id` is a response,
/// unknown, or a request that has no response (`outbind`, `alert_notification`)
/// (SMPP 3.4 §5.1.2.1).
pub fn response_id(id: u32) -> Option<u32> {
    if is_response_id(id) || id == c::OUTBIND || id == c::ALERT_NOTIFICATION {
        return None;
    }
    let resp = id | c::RESPONSE_BIT;
    command_name(resp).map(|_| resp)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn by_name_inverts_command_name() {
        for id in ALL_COMMAND_IDS {
            assert_eq!(command_id_by_name(command_name(id).unwrap()), Some(id));
        }
        assert_eq!(command_id_by_name("data_sm"), Some(0x103));
        assert_eq!(command_id_by_name("nope"), None);
    }

    #[test]
    fn names() {
        assert_eq!(command_name(0x8000_0004), Some("submit_sm_resp"));
        assert_eq!(command_name(0x0000_0103), Some("data_sm"));
        assert_eq!(command_name(0x0000_000A), None);
        assert_eq!(command_name(0x8000_000B), None);
        assert_eq!(command_name(0x8000_0102), None);
    }

    #[test]
    fn response_ids() {
        assert_eq!(response_id(c::SUBMIT_SM), Some(c::SUBMIT_SM_RESP));
        assert_eq!(response_id(c::BROADCAST_SM), Some(c::BROADCAST_SM_RESP));
        assert_eq!(response_id(c::OUTBIND), None);
        assert_eq!(response_id(c::ALERT_NOTIFICATION), None);
        assert_eq!(response_id(c::SUBMIT_SM_RESP), None);
        assert_eq!(response_id(0x77), None);
        assert!(is_response_id(c::GENERIC_NACK));
        assert!(!is_response_id(c::ENQUIRE_LINK));
    }
}
