//! Delivery receipts: what a carrier's receipt means for an MT, and the receipt the core makes
//! for the partner who sent the MT (SMPP 3.4 Appendix B text, `receipted_message_id` and
//! `message_state` TLVs).

use core_bridge::api::{Base64Bytes, BindMode, Direction, InboundMessage, ReceiptInfo, TlvJson};
use smpp_codec::receipt::{receipt_date, stat_for_message_state, DeliveryReceipt};

use crate::record::{MessageRecord, MessageStatus, Origin};

/// `message_state` values (SMPP 3.4 §5.2.28; 9 is SMPP 5.0's SKIPPED).
pub(crate) mod state {
    pub(crate) const DELIVERED: u8 = 2;
    pub(crate) const UNDELIVERABLE: u8 = 5;
    pub(crate) const REJECTED: u8 = 8;
}

/// `receipted_message_id` (SMPP 3.4 §5.3.2.12).
const TAG_RECEIPTED_MESSAGE_ID: u16 = smpp_codec::tlv::tags::RECEIPTED_MESSAGE_ID;
/// `message_state` (SMPP 3.4 §5.3.2.35).
const TAG_MESSAGE_STATE: u16 = smpp_codec::tlv::tags::MESSAGE_STATE;

/// The `esm_class` of a delivery receipt (message type "SMSC delivery receipt").
pub(crate) const ESM_CLASS_RECEIPT: u8 = 0x04;

/// The `message_state` a receipt reports: its `message_state`, else the meaning of its `stat`
/// word (the codec's reading: the Appendix B abbreviations, their long forms and common
/// variants).
pub(crate) fn state_of(info: &ReceiptInfo) -> Option<u8> {
    if let Some(s) = info.message_state {
        return Some(s);
    }
    let stat = info.stat.as_deref()?;
    DeliveryReceipt {
        stat: stat.to_string(),
        ..DeliveryReceipt::default()
    }
    .message_state()
}

/// The final status of an MT for a final `message_state`; `None` for the intermediate ones
/// (SCHEDULED 0, ENROUTE 1, ACCEPTED 6) and for values outside SMPP.
pub(crate) fn final_status(state: u8) -> Option<MessageStatus> {
    Some(match state {
        2 => MessageStatus::Delivered,
        3 => MessageStatus::Expired,
        4 => MessageStatus::Deleted,
        5 => MessageStatus::Undeliverable,
        7 => MessageStatus::Unknown,
        8 => MessageStatus::Rejected,
        9 => MessageStatus::Skipped,
        _ => return None,
    })
}

/// Whether a partner who sent `registered_delivery` wants a receipt for a final outcome:
/// bits 0–1 = 1 on any final outcome, 2 on failure only, 3 on success only (SMPP 5.0).
pub(crate) fn wants_receipt(registered_delivery: u8, delivered: bool) -> bool {
    match registered_delivery & 0x03 {
        1 => true,
        2 => !delivered,
        3 => delivered,
        _ => false,
    }
}

/// `YYMMDDhhmm` (UTC) of a time in milliseconds since the Unix epoch.
pub(crate) fn date_of_ms(ms: u64) -> String {
    let nanos = i128::from(ms) * 1_000_000;
    let t = time::OffsetDateTime::from_unix_timestamp_nanos(nanos)
        .unwrap_or(time::OffsetDateTime::UNIX_EPOCH);
    receipt_date(t.year(), u8::from(t.month()), t.day(), t.hour(), t.minute())
}

/// The first 20 characters of `text`, with anything outside printable ASCII replaced by `?`
/// so that the receipt stays ASCII (it is sent with `data_coding` 0).
fn receipt_text(text: Option<&str>) -> String {
    text.unwrap_or("")
        .chars()
        .take(20)
        .map(|c| {
            if c.is_ascii_graphic() || c == ' ' {
                c
            } else {
                '?'
            }
        })
        .collect()
}

/// What the partner receipt says.
pub(crate) struct Outcome<'a> {
    /// The `message_state` to report (2 delivered, 5 undeliverable, 8 rejected …).
    pub(crate) state: u8,
    /// The `err:` value (3 digits).
    pub(crate) err: &'a str,
    /// The carrier's `done date:`, if it gave one.
    pub(crate) done_date: Option<&'a str>,
}

/// The receipt for the partner who sent `mt`, as a new record with id `id`, queued for the
/// partner's server bind (`mt.bind_name`) at `now_ms`.
pub(crate) fn partner_receipt(
    mt: &MessageRecord,
    outcome: &Outcome<'_>,
    id: String,
    now_ms: u64,
) -> MessageRecord {
    let m = &mt.message;
    let delivered = outcome.state == state::DELIVERED;
    let text = DeliveryReceipt {
        id: m.id.clone(),
        sub: "001".into(),
        dlvrd: if delivered { "001" } else { "000" }.into(),
        submit_date: date_of_ms(m.received_at_ms),
        done_date: match outcome.done_date {
            Some(d) if !d.trim().is_empty() => d.trim().to_string(),
            _ => date_of_ms(now_ms),
        },
        stat: stat_for_message_state(outcome.state).to_string(),
        err: outcome.err.to_string(),
        text: receipt_text(m.text.as_deref()),
    }
    .format();
    let mut receipted = m.id.as_bytes().to_vec();
    receipted.push(0);
    let message = InboundMessage {
        id,
        direction: Direction::Receipt,
        bind_name: m.bind_name.clone(),
        bind_mode: BindMode::Server,
        system_id: m.system_id.clone(),
        frontend: String::new(),
        service_type: String::new(),
        source: m.destination.clone(),
        destination: m.source.clone(),
        esm_class: ESM_CLASS_RECEIPT,
        protocol_id: 0,
        priority_flag: 0,
        schedule_delivery_time: String::new(),
        validity_period: String::new(),
        registered_delivery: 0,
        data_coding: 0,
        payload: Base64Bytes(text.as_bytes().to_vec()),
        text: Some(text),
        tlvs: vec![
            TlvJson {
                tag: TAG_RECEIPTED_MESSAGE_ID,
                value: Base64Bytes(receipted),
            },
            TlvJson {
                tag: TAG_MESSAGE_STATE,
                value: Base64Bytes(vec![outcome.state]),
            },
        ],
        receipt: None,
        segment: None,
        received_at_ms: now_ms,
    };
    let mut rec = MessageRecord {
        message,
        origin: Origin::Core,
        status: MessageStatus::Queued,
        dest_smsc: None,
        source_smsc: Some(m.bind_name.clone()),
        smsc_message_id: None,
        attempts: 0,
        lease_until_ms: None,
        leased_to: None,
        not_before_ms: 0,
        reason: None,
        carrier_receipt: None,
        original_id: Some(m.id.clone()),
        partner_receipt_id: None,
        history: Vec::new(),
        send_id: None,
    };
    rec.push(
        MessageStatus::Queued,
        now_ms,
        format!(
            "receipt {} for MT {} queued for {}",
            stat_for_message_state(outcome.state),
            m.id,
            m.bind_name
        ),
    );
    rec
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn states_from_tlv_or_stat_word() {
        let info = |state: Option<u8>, stat: Option<&str>| ReceiptInfo {
            receipted_message_id: "x".into(),
            message_state: state,
            stat: stat.map(str::to_string),
            ..ReceiptInfo::default()
        };
        assert_eq!(state_of(&info(Some(5), Some("DELIVRD"))), Some(5));
        assert_eq!(state_of(&info(None, Some("delivrd"))), Some(2));
        assert_eq!(state_of(&info(None, Some("UNDELIV"))), Some(5));
        assert_eq!(state_of(&info(None, Some("ACCEPTD"))), Some(6));
        assert_eq!(state_of(&info(None, Some("what"))), None);
        assert_eq!(state_of(&info(None, None)), None);
        assert_eq!(final_status(2), Some(MessageStatus::Delivered));
        assert_eq!(final_status(1), None);
        assert_eq!(final_status(6), None);
        assert_eq!(final_status(8), Some(MessageStatus::Rejected));
    }

    #[test]
    fn registered_delivery_bits() {
        assert!(wants_receipt(1, true) && wants_receipt(1, false));
        assert!(!wants_receipt(2, true) && wants_receipt(2, false));
        assert!(wants_receipt(3, true) && !wants_receipt(3, false));
        assert!(!wants_receipt(0, false) && !wants_receipt(0x10, false));
        assert!(wants_receipt(0x11, true));
    }

    #[test]
    fn dates_are_utc_minutes() {
        // 2024-02-29 23:59:30 UTC
        assert_eq!(date_of_ms(1_709_251_170_000), "2402292359");
        assert_eq!(
            receipt_text(Some("héllo wörld, this is longer than twenty")),
            "h?llo w?rld, this is"
        );
        assert_eq!(receipt_text(None), "");
    }
}
