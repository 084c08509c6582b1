//! What the cache holds: [`Entry`], its [`Item`] and its [`Status`].

use core_bridge::api::{BindMode, Event, EventKind, InboundMessage};
use serde::{Deserialize, Serialize};

/// Where an entry is in its life (seed: "Transitions de Statut"):
///
/// ```text
/// pending → delivering → delivered (removed)
///                      → pending           (retryable failure, with backoff)
///                      → failed_permanent  (after the last retry, or a permanent failure)
/// failed_permanent → pending               (manual retry)
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    /// Waiting for `next_retry_at_ms`.
    Pending,
    /// Handed to the delivery function; back to `pending` if the process dies meanwhile.
    Delivering,
    /// Out of retries, or refused for good; kept for review until retried or deleted.
    FailedPermanent,
}

impl Status {
    /// `pending`, `delivering` or `failed_permanent`.
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Pending => "pending",
            Status::Delivering => "delivering",
            Status::FailedPermanent => "failed_permanent",
        }
    }
}

/// What is cached: a message for `POST /api/v1/messages` or an event for `POST /api/v1/events`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", content = "body", rename_all = "snake_case")]
// Most items are messages: boxing them would add an allocation per entry and gain nothing.
#[allow(clippy::large_enum_variant)]
pub enum Item {
    /// A message a peer handed us (partner `submit_sm`, carrier `deliver_sm`, receipt).
    Message(InboundMessage),
    /// A report the gateway owes the core (`submitted`, `failed`, `delivered_to_esme`, receipt).
    Event(Event),
}

impl Item {
    /// The entry id: a message's gateway-assigned id (the id the peer was given, and the
    /// core's idempotency key); for an event, `{message_id}:{type}` with `type` one of
    /// `submitted`, `delivered_to_esme`, `failed`, `receipt`.
    pub fn id(&self) -> String {
        match self {
            Item::Message(m) => m.id.clone(),
            Item::Event(e) => {
                let t = match e.kind {
                    EventKind::Submitted { .. } => "submitted",
                    EventKind::DeliveredToEsme => "delivered_to_esme",
                    EventKind::Failed { .. } => "failed",
                    EventKind::Receipt(_) => "receipt",
                };
                format!("{}:{t}", e.message_id)
            }
        }
    }
}

/// One cached item with its delivery state.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Entry {
    /// Order key, unique in the cache, increasing with insertion: FIFO per bind is by `seq`.
    pub seq: u64,
    /// See [`Item::id`]. Operations by id (retry, delete) act on every entry of the bind with it.
    pub id: String,
    /// The bind it was received on (or the event is about).
    pub bind_name: String,
    /// Client or server bind (the `mode` label of `smpp_cache_size`).
    pub mode: BindMode,
    /// The message or event.
    pub item: Item,
    /// Where it is in its life.
    pub status: Status,
    /// Failed deliveries so far (reset by a manual retry).
    pub retry_count: u32,
    /// Not delivered before this time, ms since the Unix epoch.
    pub next_retry_at_ms: u64,
    /// The last delivery error, if any.
    pub last_error: Option<String>,
    /// When it was cached, ms since the Unix epoch.
    pub created_at_ms: u64,
}

/// Separator between the bind name and the sequence number in store keys; never in UTF-8.
const KEY_SEP: u8 = 0xFF;

/// The store key of an entry: `bind_name` bytes, `0xFF`, `seq` as 8 big-endian bytes — so a
/// byte-ordered store lists each bind's entries contiguously and oldest first.
pub fn store_key(bind: &str, seq: u64) -> Vec<u8> {
    let mut k = Vec::with_capacity(bind.len() + 9);
    k.extend_from_slice(bind.as_bytes());
    k.push(KEY_SEP);
    k.extend_from_slice(&seq.to_be_bytes());
    k
}

/// The JSON bytes stored for an entry.
pub fn encode(entry: &Entry) -> Result<Vec<u8>, crate::CacheError> {
    serde_json::to_vec(entry)
        .map_err(|e| crate::CacheError::Encoding(format!("entry {}: {e}", entry.id)))
}

/// An entry from its stored bytes.
pub fn decode(bytes: &[u8]) -> Result<Entry, crate::CacheError> {
    serde_json::from_slice(bytes)
        .map_err(|e| crate::CacheError::Encoding(format!("stored entry: {e}")))
}
