//! The HTTP send API's records: a **batch** is one request, a **send** is one recipient of it
//! (its id is what `POST /api/v1/send` answers per recipient), a **part** is one SMS segment
//! of a send: an MT [`MessageRecord`](crate::MessageRecord) with `origin` `api` that flows
//! through the ordinary queues, claims, events and receipts.
//!
//! A send's status is the aggregate of its parts' ([`aggregate`]): `failed` (or
//! `undeliverable`, `expired`, `rejected` … as the carrier said) as soon as one part ends so,
//! `delivered` when every part is, `submitted` once every part was accepted by the carrier,
//! `queued` before.

use core_bridge::api::Address;
use serde::{Deserialize, Serialize};

use crate::record::MessageStatus;

/// One step of a send's life (`GET /api/v1/send/{id}` `history`, and the callback body).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SendHistoryEntry {
    /// The send's status after this step.
    pub status: MessageStatus,
    /// When, milliseconds since the Unix epoch.
    pub at_ms: u64,
    /// What happened, for people.
    pub detail: String,
    /// The carrier's message ids of the parts, once submitted.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub smsc_message_ids: Vec<String>,
}

/// One SMS segment of a send, as the send record sees it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SendPart {
    /// The MT message id (`GET /api/v1/messages/{id}`).
    pub id: String,
    /// 1-based part number.
    pub seqnum: u32,
    /// The part's status (`leased` is shown as `queued`).
    pub status: MessageStatus,
    /// The carrier's message id, once submitted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub smsc_message_id: Option<String>,
    /// Why it failed, when it did.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

/// One recipient of a send API request: `GET /api/v1/send/{id}` answers it as JSON.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SendRecord {
    /// The send id.
    pub id: String,
    /// The request (batch) it belongs to.
    pub batch_id: String,
    /// The API client that sent it.
    pub client: String,
    /// The recipient, E.164 as given.
    pub to: String,
    /// The sender id used (empty: the carrier's default).
    pub from: String,
    /// The client's own reference, if it gave one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reference: Option<String>,
    /// Where status changes are POSTed, if anywhere.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub callback_url: Option<String>,
    /// The client bind it is queued for.
    pub dest_smsc: String,
    /// `data_coding` of the parts (0 GSM 03.38, 8 UCS-2).
    pub data_coding: u8,
    /// Number of SMS segments.
    pub segments: u32,
    /// The aggregate status.
    pub status: MessageStatus,
    /// Why it failed, when it did.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// When it was accepted, milliseconds since the Unix epoch.
    pub created_at_ms: u64,
    /// When the status last changed.
    pub updated_at_ms: u64,
    /// Every status change, oldest first.
    pub history: Vec<SendHistoryEntry>,
    /// The segments.
    pub parts: Vec<SendPart>,
}

impl SendRecord {
    /// The carrier ids of the parts known so far, in part order.
    pub fn smsc_message_ids(&self) -> Vec<String> {
        self.parts
            .iter()
            .filter_map(|p| p.smsc_message_id.clone())
            .collect()
    }
}

/// Which API a batch came in through (its answers differ).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub(crate) enum Api {
    /// `POST /api/v1/send`.
    Send,
    /// `POST /3rdparty/v1/message` (Android SMS gateway compatible).
    Android,
}

/// One request: its recipients' sends.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct BatchRecord {
    pub(crate) id: String,
    pub(crate) client: String,
    pub(crate) api: Api,
    pub(crate) created_at_ms: u64,
    /// `(recipient, send id)` in request order.
    pub(crate) sends: Vec<(String, String)>,
}

/// The aggregate status of a send from its parts' statuses, and the reason of the part that
/// decided a failure.
pub(crate) fn aggregate(parts: &[SendPart]) -> (MessageStatus, Option<String>) {
    if let Some(p) = parts
        .iter()
        .find(|p| p.status.is_final() && p.status != MessageStatus::Delivered)
    {
        let why = p
            .reason
            .clone()
            .unwrap_or_else(|| format!("part {} {}", p.seqnum, p.status));
        return (p.status, Some(why));
    }
    if parts.iter().all(|p| p.status == MessageStatus::Delivered) {
        return (MessageStatus::Delivered, None);
    }
    let sent = |s| matches!(s, MessageStatus::Submitted | MessageStatus::Delivered);
    if parts.iter().all(|p| sent(p.status)) {
        return (MessageStatus::Submitted, None);
    }
    (MessageStatus::Queued, None)
}

/// A recipient checked as E.164: `+`, then 2 to 15 digits, the first not 0. Answers the
/// digits (the SMPP `destination_addr`, TON 1 international, NPI 1 E.164).
pub(crate) fn e164(number: &str) -> Result<String, String> {
    let digits = number
        .strip_prefix('+')
        .ok_or_else(|| format!("{number:?} is not an E.164 number: it must start with '+'"))?;
    let ok = (2..=15).contains(&digits.len())
        && digits.bytes().all(|b| b.is_ascii_digit())
        && !digits.starts_with('0');
    if ok {
        Ok(digits.to_string())
    } else {
        Err(format!(
            "{number:?} is not an E.164 number: '+' then 2 to 15 digits, the first not 0"
        ))
    }
}

/// The SMPP source address of a sender id: `+` and digits → international (TON 1, NPI 1);
/// up to 8 digits → a short code (TON 3, NPI 0); more digits → TON 1, NPI 1; letters →
/// alphanumeric (TON 5, NPI 0, at most 11 characters); empty → the carrier's default.
pub(crate) fn source_address(from: &str) -> Result<Address, String> {
    let addr = |a: &str, ton, npi| {
        Ok(Address {
            addr: a.to_string(),
            ton,
            npi,
        })
    };
    if from.is_empty() {
        return addr("", 0, 0);
    }
    if let Some(digits) = from.strip_prefix('+') {
        return e164(from).and_then(|_| addr(digits, 1, 1));
    }
    if from.bytes().all(|b| b.is_ascii_digit()) {
        return match from.len() {
            1..=8 => addr(from, 3, 0),
            9..=15 => addr(from, 1, 1),
            _ => Err(format!("sender {from:?} has more than 15 digits")),
        };
    }
    let printable = from
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || " .-_&".contains(c));
    if printable && from.chars().count() <= 11 {
        addr(from, 5, 0)
    } else {
        Err(format!(
            "sender {from:?} is neither a number nor an alphanumeric id of at most 11 letters, digits, spaces or .-_&"
        ))
    }
}

/// Whether `url` is an absolute http(s) URL with a host (a callback address).
pub(crate) fn is_http_url(url: &str) -> bool {
    reqwest::Url::parse(url)
        .map(|u| matches!(u.scheme(), "http" | "https") && u.host().is_some())
        .unwrap_or(false)
}

/// The SMPP relative `validity_period` (`YYMMDDhhmmss000R`) of a time to live in seconds.
pub(crate) fn relative_validity(ttl_seconds: u64) -> String {
    let s = ttl_seconds.min(99 * 365 * 86_400);
    let (days, rest) = (s / 86_400, s % 86_400);
    let (years, days) = (days / 365, days % 365);
    let (months, days) = (days / 30, days % 30);
    format!(
        "{:02}{:02}{:02}{:02}{:02}{:02}000R",
        years,
        months,
        days,
        rest / 3600,
        rest % 3600 / 60,
        rest % 60
    )
}

/// The Android SMS gateway's state word (`ProcessState`) for a send status: queued →
/// `Pending`, accepted by the carrier → `Sent`, delivered → `Delivered`, any failure or
/// negative receipt → `Failed`.
pub(crate) fn android_state(status: MessageStatus) -> &'static str {
    match status {
        MessageStatus::Queued | MessageStatus::Leased => "Pending",
        MessageStatus::Submitted => "Sent",
        MessageStatus::Delivered => "Delivered",
        _ => "Failed",
    }
}

/// The state of an Android message (one request) from its recipients' states, by the rules
/// of that API's documentation ("Status Tracking", multiple recipients): any `Pending` →
/// `Pending`; any `Processed` → `Processed`; all `Delivered` → `Delivered`; all `Failed` →
/// `Failed`; otherwise `Sent`.
pub(crate) fn android_batch_state(states: &[&str]) -> &'static str {
    if states.is_empty() || states.contains(&"Pending") {
        "Pending"
    } else if states.contains(&"Processed") {
        "Processed"
    } else if states.iter().all(|s| *s == "Delivered") {
        "Delivered"
    } else if states.iter().all(|s| *s == "Failed") {
        "Failed"
    } else {
        "Sent"
    }
}

/// The `states` history of an Android message: for each state a recipient reached, the first
/// time one did (ms since the epoch).
pub(crate) fn android_state_times(
    sends: &[SendRecord],
) -> std::collections::BTreeMap<&'static str, u64> {
    let mut out = std::collections::BTreeMap::new();
    for s in sends {
        for h in &s.history {
            let at = out.entry(android_state(h.status)).or_insert(h.at_ms);
            *at = (*at).min(h.at_ms);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn part(status: MessageStatus) -> SendPart {
        SendPart {
            id: "p".into(),
            seqnum: 1,
            status,
            smsc_message_id: None,
            reason: None,
        }
    }

    #[test]
    fn aggregate_of_parts() {
        use MessageStatus::*;
        let agg =
            |s: &[MessageStatus]| aggregate(&s.iter().map(|&s| part(s)).collect::<Vec<_>>()).0;
        assert_eq!(agg(&[Queued, Leased]), Queued);
        assert_eq!(agg(&[Submitted, Leased]), Queued);
        assert_eq!(agg(&[Submitted, Delivered]), Submitted);
        assert_eq!(agg(&[Delivered, Delivered]), Delivered);
        assert_eq!(agg(&[Delivered, Undeliverable]), Undeliverable);
        assert_eq!(agg(&[Queued, Failed]), Failed);
    }

    #[test]
    fn numbers_and_senders() {
        assert_eq!(e164("+33612345678").unwrap(), "33612345678");
        for bad in [
            "33612345678",
            "+0612",
            "+3361234567890123",
            "+33 6",
            "+",
            "+3",
        ] {
            assert!(e164(bad).is_err(), "{bad}");
        }
        assert_eq!(source_address("+4412").unwrap().ton, 1);
        assert_eq!(source_address("36180").unwrap().ton, 3);
        assert_eq!(source_address("ALERTS").unwrap().ton, 5);
        assert!(source_address("TWELVE_CHARS").is_err());
        assert_eq!(source_address("").unwrap().addr, "");
        assert_eq!(relative_validity(3600), "000000010000000R");
        assert_eq!(relative_validity(86_400 * 2 + 61), "000002000101000R");
    }

    #[test]
    fn android_states() {
        assert_eq!(android_batch_state(&["Sent", "Delivered"]), "Sent");
        assert_eq!(
            android_batch_state(&["Delivered", "Delivered"]),
            "Delivered"
        );
        assert_eq!(android_batch_state(&["Pending", "Failed"]), "Pending");
        assert_eq!(android_batch_state(&["Delivered", "Failed"]), "Sent");
        assert_eq!(android_batch_state(&["Failed", "Failed"]), "Failed");
        assert_eq!(android_batch_state(&[]), "Pending");
        assert_eq!(android_state(MessageStatus::Undeliverable), "Failed");
    }
}
