//! The stored record of a message ([`MessageRecord`]) and its status ([`MessageStatus`]).
//!
//! `GET /api/v1/messages/{id}` answers a [`MessageRecord`] as JSON: the fields of the
//! [`InboundMessage`] the gateway handed over, flattened, followed by what the core did with it.

use core_bridge::api::{InboundMessage, ReceiptInfo};
use serde::{Deserialize, Serialize};

/// Where a message is in its life. Serialised in `snake_case` (`"queued"`, `"orphan_receipt"` …).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MessageStatus {
    /// In a queue, waiting to be claimed (possibly not before a retry time).
    Queued,
    /// Claimed; leased to a frontend until `lease_until_ms`. Reported as `queued` once the
    /// lease has ended without an event.
    Leased,
    /// An MT the carrier accepted (`submit_sm_resp` OK); waiting for its receipt.
    Submitted,
    /// An MT whose carrier receipt said delivered (`message_state` 2, `DELIVRD`). Final.
    Delivered,
    /// An MT whose carrier receipt said expired (3, `EXPIRED`). Final.
    Expired,
    /// An MT whose carrier receipt said deleted (4, `DELETED`). Final.
    Deleted,
    /// An MT whose carrier receipt said undeliverable (5, `UNDELIV`). Final.
    Undeliverable,
    /// An MT whose carrier receipt said unknown (7, `UNKNOWN`). Final.
    Unknown,
    /// An MT whose carrier receipt said rejected (8, `REJECTD`). Final.
    Rejected,
    /// An MT whose carrier receipt said skipped (9, SMPP 5.0). Final.
    Skipped,
    /// Could not be sent, for good: no route, a permanent error, or too many attempts. Final.
    Failed,
    /// An MO or a receipt the partner acknowledged (`deliver_sm_resp` OK). Final.
    DeliveredToEsme,
    /// A carrier receipt that matched no submitted MT (yet). It is matched later if the
    /// `submitted` event of its MT arrives after it.
    OrphanReceipt,
    /// A carrier receipt matched to its MT (`original_id`). Final.
    Correlated,
}

impl MessageStatus {
    /// The `snake_case` name, as in JSON.
    pub fn as_str(self) -> &'static str {
        match self {
            MessageStatus::Queued => "queued",
            MessageStatus::Leased => "leased",
            MessageStatus::Submitted => "submitted",
            MessageStatus::Delivered => "delivered",
            MessageStatus::Expired => "expired",
            MessageStatus::Deleted => "deleted",
            MessageStatus::Undeliverable => "undeliverable",
            MessageStatus::Unknown => "unknown",
            MessageStatus::Rejected => "rejected",
            MessageStatus::Skipped => "skipped",
            MessageStatus::Failed => "failed",
            MessageStatus::DeliveredToEsme => "delivered_to_esme",
            MessageStatus::OrphanReceipt => "orphan_receipt",
            MessageStatus::Correlated => "correlated",
        }
    }

    /// Parses the `snake_case` name; `None` for anything else.
    pub fn parse(s: &str) -> Option<Self> {
        serde_json::from_value(serde_json::Value::String(s.to_string())).ok()
    }

    /// True while the message is in a queue (queued or leased).
    pub fn is_pending(self) -> bool {
        matches!(self, MessageStatus::Queued | MessageStatus::Leased)
    }

    /// True when nothing more will happen to the message (an orphan receipt is not final: it
    /// may still be matched).
    pub fn is_final(self) -> bool {
        !matches!(
            self,
            MessageStatus::Queued
                | MessageStatus::Leased
                | MessageStatus::Submitted
                | MessageStatus::OrphanReceipt
        )
    }
}

impl std::fmt::Display for MessageStatus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Who created a record.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Origin {
    /// Handed over by the gateway (`POST /api/v1/messages`).
    Gateway,
    /// Made by the core: a delivery receipt queued for a partner.
    Core,
    /// Made by the core for the HTTP send API: one part of a send ([`MessageRecord::send_id`]).
    /// Its receipts update the send's status; no receipt is queued for a partner.
    Api,
}

/// One step of a message's life.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct HistoryEntry {
    /// The status after this step.
    pub status: MessageStatus,
    /// When, milliseconds since the Unix epoch (the core's clock).
    pub at_ms: u64,
    /// What happened, for people (`"routed to carrier1"`, `"no route"`, `"receipt ENROUTE"` …).
    pub detail: String,
}

/// A message as the embedded core stores it (JSON in the store; `GET /api/v1/messages/{id}`).
///
/// For a receipt the core makes for a partner, the message fields describe the receipt
/// (`direction` `receipt`, `bind_name` = the partner's server bind, addresses swapped,
/// `esm_class` 4, the receipt text as `payload`) and `origin` is [`Origin::Core`].
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct MessageRecord {
    /// The message as handed over (flattened into this object in JSON).
    #[serde(flatten)]
    pub message: InboundMessage,
    /// Who made the record.
    pub origin: Origin,
    /// Where the message is now.
    pub status: MessageStatus,
    /// For an MT: the client bind it is queued for (`null` when no route matched).
    #[serde(default)]
    pub dest_smsc: Option<String>,
    /// For an MO or a receipt for a partner: the server bind it is queued for.
    #[serde(default)]
    pub source_smsc: Option<String>,
    /// For an MT: the carrier's `message_id` from the `submitted` event.
    #[serde(default)]
    pub smsc_message_id: Option<String>,
    /// How many times it was claimed.
    #[serde(default)]
    pub attempts: u32,
    /// End of the current lease, milliseconds since the Unix epoch (while leased).
    #[serde(default)]
    pub lease_until_ms: Option<u64>,
    /// The frontend holding the current (or last) lease.
    #[serde(default)]
    pub leased_to: Option<String>,
    /// Not claimable before this time (a retry's backoff), milliseconds since the Unix epoch.
    #[serde(default)]
    pub not_before_ms: u64,
    /// Why it failed or was not matched, when it did or was not.
    #[serde(default)]
    pub reason: Option<String>,
    /// For an MT: the last carrier receipt recorded on it.
    #[serde(default)]
    pub carrier_receipt: Option<ReceiptInfo>,
    /// For a receipt (a carrier's once matched, or one made for a partner): the MT it is about.
    #[serde(default)]
    pub original_id: Option<String>,
    /// For an MT: the id of the receipt queued for the partner, once one is.
    #[serde(default)]
    pub partner_receipt_id: Option<String>,
    /// Every step, oldest first.
    #[serde(default)]
    pub history: Vec<HistoryEntry>,
    /// For a part of a send made by the HTTP send API ([`Origin::Api`]): the send's id
    /// (`GET /api/v1/send/{id}`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub send_id: Option<String>,
}

impl MessageRecord {
    /// The status as seen at `now_ms`: a `leased` message whose lease has ended is `queued`.
    pub fn status_at(&self, now_ms: u64) -> MessageStatus {
        match (self.status, self.lease_until_ms) {
            (MessageStatus::Leased, Some(until)) if until <= now_ms => MessageStatus::Queued,
            (s, _) => s,
        }
    }

    pub(crate) fn push(&mut self, status: MessageStatus, at_ms: u64, detail: impl Into<String>) {
        self.status = status;
        self.history.push(HistoryEntry {
            status,
            at_ms,
            detail: detail.into(),
        });
    }

    /// A history entry that does not change the status.
    pub(crate) fn note(&mut self, at_ms: u64, detail: impl Into<String>) {
        self.history.push(HistoryEntry {
            status: self.status,
            at_ms,
            detail: detail.into(),
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn status_names_round_trip() {
        for s in [
            MessageStatus::Queued,
            MessageStatus::DeliveredToEsme,
            MessageStatus::OrphanReceipt,
            MessageStatus::Undeliverable,
        ] {
            assert_eq!(MessageStatus::parse(s.as_str()), Some(s));
            assert_eq!(serde_json::to_value(s).unwrap(), s.as_str());
        }
        assert_eq!(MessageStatus::parse("nonsense"), None);
        assert!(MessageStatus::Failed.is_final());
        assert!(!MessageStatus::Submitted.is_final());
        assert!(MessageStatus::Leased.is_pending());
    }
}
