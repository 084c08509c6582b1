//! JSON types of the messaging core API (`docs/core-api.yaml`).
//!
//! Every path below is relative to `api_base_url`:
//!
//! | call | body | answer |
//! | --- | --- | --- |
//! | `POST /api/v1/messages` | [`InboundBatch`] (or one [`InboundMessage`]) | [`AcceptedBatch`] |
//! | `POST /api/v1/queue/claim` | [`ClaimRequest`] | [`ClaimResponse`] |
//! | `POST /api/v1/messages/{id}/events` | [`Event`] | [`Ack`] |
//! | `POST /api/v1/events` | [`EventBatch`] | [`Ack`] |
//! | `GET /api/v1/system/health` | – | [`Health`] |
//! | `POST /api/v1/frontends/register` | [`FrontendRegistration`] | [`Ack`] |
//!
//! The gateway-assigned [`InboundMessage::id`] is the idempotency key: a core stores a repeated
//! id once and answers it as [`AcceptStatus::Duplicate`], so a retry after a lost answer never
//! creates a second message.

use serde::{Deserialize, Serialize};

/// Path of the single-event call (`POST`); `{id}` is the message id.
pub const PATH_MESSAGE_EVENTS: &str = "/api/v1/messages/{id}/events";
/// Path of the hand-over call (`POST`).
pub const PATH_MESSAGES: &str = "/api/v1/messages";
/// Path of the claim call (`POST`).
pub const PATH_CLAIM: &str = "/api/v1/queue/claim";
/// Path of the batched events call (`POST`).
pub const PATH_EVENTS: &str = "/api/v1/events";
/// Path of the health call (`GET`).
pub const PATH_HEALTH: &str = "/api/v1/system/health";
/// Path of the frontend registration and heartbeat call (`POST`).
pub const PATH_REGISTER: &str = "/api/v1/frontends/register";

/// Raw octets carried as standard base64 in JSON.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Base64Bytes(pub Vec<u8>);

impl Serialize for Base64Bytes {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use base64::Engine as _;
        s.serialize_str(&base64::engine::general_purpose::STANDARD.encode(&self.0))
    }
}

impl<'de> Deserialize<'de> for Base64Bytes {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        use base64::Engine as _;
        let text = String::deserialize(d)?;
        base64::engine::general_purpose::STANDARD
            .decode(text.as_bytes())
            .map(Base64Bytes)
            .map_err(serde::de::Error::custom)
    }
}

impl From<&[u8]> for Base64Bytes {
    fn from(b: &[u8]) -> Self {
        Base64Bytes(b.to_vec())
    }
}

/// What kind of message the gateway received or must send.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Direction {
    /// Mobile terminated: a partner's `submit_sm`/`data_sm`, to be sent to a carrier.
    Mt,
    /// Mobile originated: a carrier's `deliver_sm`/`data_sm` that is not a receipt.
    Mo,
    /// A delivery receipt (`esm_class` message type 0x04, or receipt TLVs).
    Receipt,
}

/// Which side of SMPP a bind is on.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum BindMode {
    /// The gateway is the ESME (a `[[binds]]` entry, bound out to a carrier's SMSC).
    Client,
    /// The gateway is the SMSC (a `[[server_binds]]` entry, a partner bound to us).
    Server,
}

impl BindMode {
    /// The label used in metrics and logs (`client` or `server`, as the seed).
    pub fn as_str(self) -> &'static str {
        match self {
            BindMode::Client => "client",
            BindMode::Server => "server",
        }
    }
}

/// An SMPP address: digits or alphanumeric text with its TON and NPI (SMPP 3.4 §5.2.5–5.2.6).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Address {
    /// The address as sent on the wire (`source_addr`, `destination_addr`).
    pub addr: String,
    /// Type of number (0 unknown, 1 international, 5 alphanumeric …).
    #[serde(default)]
    pub ton: u8,
    /// Numbering plan indicator (0 unknown, 1 ISDN/E.164 …).
    #[serde(default)]
    pub npi: u8,
}

/// One TLV (optional parameter) kept byte for byte.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TlvJson {
    /// The TLV tag (SMPP 3.4 §5.3.2).
    pub tag: u16,
    /// The TLV value octets.
    pub value: Base64Bytes,
}

/// What a delivery receipt said, parsed by the gateway (TLVs preferred over the text).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReceiptInfo {
    /// The carrier's message id the receipt is about (`receipted_message_id` or `id:`).
    pub receipted_message_id: String,
    /// `message_state` (SMPP 3.4 §5.2.28): 2 delivered, 5 undeliverable …, if known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message_state: Option<u8>,
    /// The `stat:` word of the text (`DELIVRD`, `UNDELIV` …), if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stat: Option<String>,
    /// The `err:` value of the text, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub err: Option<String>,
    /// `submit date:` as written by the carrier.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub submit_date: Option<String>,
    /// `done date:` as written by the carrier.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub done_date: Option<String>,
}

/// Concatenation information of one segment, when the message is a part of a longer one.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SegmentInfo {
    /// The reference shared by every part.
    pub reference: u16,
    /// Number of parts, 1..=255.
    pub total: u8,
    /// This part's number, 1..=total.
    pub seqnum: u8,
}

/// A message the gateway received from a peer and hands to the core.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct InboundMessage {
    /// Gateway-assigned id (ULID). It is the `message_id` the partner was given for an MT,
    /// and the idempotency key of the hand-over.
    pub id: String,
    /// MT, MO or receipt.
    pub direction: Direction,
    /// The name of the bind it came in on (`[[binds]]` or `[[server_binds]]` `name`).
    pub bind_name: String,
    /// Whether that bind is a client or a server bind.
    pub bind_mode: BindMode,
    /// The `system_id` of the session it came in on.
    pub system_id: String,
    /// This gateway instance and peer, as `{hostname}_{peer_name}`.
    pub frontend: String,
    /// `service_type`.
    #[serde(default)]
    pub service_type: String,
    /// `source_addr` with TON/NPI.
    pub source: Address,
    /// `destination_addr` with TON/NPI.
    pub destination: Address,
    /// `esm_class` as received.
    #[serde(default)]
    pub esm_class: u8,
    /// `protocol_id`.
    #[serde(default)]
    pub protocol_id: u8,
    /// `priority_flag`.
    #[serde(default)]
    pub priority_flag: u8,
    /// `schedule_delivery_time` (empty = immediate).
    #[serde(default)]
    pub schedule_delivery_time: String,
    /// `validity_period` (empty = SMSC default).
    #[serde(default)]
    pub validity_period: String,
    /// `registered_delivery`.
    #[serde(default)]
    pub registered_delivery: u8,
    /// `data_coding` of [`payload`](Self::payload).
    #[serde(default)]
    pub data_coding: u8,
    /// The user data decoded to text, when `data_coding` is a text alphabet we decode.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub text: Option<String>,
    /// The user data exactly as received (`short_message`, or `message_payload` when
    /// `short_message` was empty), UDH included when `esm_class` has UDHI set.
    pub payload: Base64Bytes,
    /// Every TLV of the PDU, in wire order, byte for byte.
    #[serde(default)]
    pub tlvs: Vec<TlvJson>,
    /// For [`Direction::Receipt`]: what the receipt said.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub receipt: Option<ReceiptInfo>,
    /// Concatenation info when this is one part of a longer message.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub segment: Option<SegmentInfo>,
    /// When the gateway received it, milliseconds since the Unix epoch.
    pub received_at_ms: u64,
}

/// A batch of hand-overs (`POST /api/v1/messages`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct InboundBatch {
    /// The messages, each with its own idempotency key.
    pub messages: Vec<InboundMessage>,
}

/// What the core did with one handed-over message.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AcceptStatus {
    /// Stored now.
    Stored,
    /// That id was stored before; nothing new was stored.
    Duplicate,
}

/// The core's answer for one message of a batch.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Accepted {
    /// The message id.
    pub id: String,
    /// Stored or duplicate.
    pub status: AcceptStatus,
}

/// The core's answer to `POST /api/v1/messages`. Every message of the batch is listed; a
/// message the core refused makes the whole call fail with a 4xx instead.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AcceptedBatch {
    /// One entry per message, in request order.
    pub accepted: Vec<Accepted>,
}

/// `POST /api/v1/queue/claim`: lease up to `limit` messages for one bind.
///
/// Exactly one of `dest_smsc` (a client bind: MT to send to a carrier) and `source_smsc`
/// (a server bind: MO and receipts to push to a partner) is set.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClaimRequest {
    /// `{hostname}_{peer_name}` of the claiming gateway.
    pub frontend: String,
    /// Client bind name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dest_smsc: Option<String>,
    /// Server bind name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source_smsc: Option<String>,
    /// Most messages to return, 1..=1000.
    pub limit: u32,
    /// How long the lease lasts, seconds; the core picks its default when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lease_seconds: Option<u32>,
    /// Long poll: when nothing is claimable, the core may hold the answer up to this many
    /// milliseconds and answer as soon as something arrives. A core that ignores it answers
    /// at once; the gateway then waits its poll interval itself.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub wait_ms: Option<u32>,
}

/// A message the core wants sent, leased to the claiming frontend until `lease_until_ms`.
/// Until an event settles it, it is redelivered after the lease ends.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct OutboundMessage {
    /// The core's id for this send; events name it.
    pub id: String,
    /// What it is: an MT for a carrier, or an MO or receipt for a partner.
    pub kind: Direction,
    /// `service_type`.
    #[serde(default)]
    pub service_type: String,
    /// `source_addr` with TON/NPI.
    pub source: Address,
    /// `destination_addr` with TON/NPI.
    pub destination: Address,
    /// `esm_class` to send (0x04 for a receipt, 0x40 when the payload starts with a UDH).
    #[serde(default)]
    pub esm_class: u8,
    /// `protocol_id`.
    #[serde(default)]
    pub protocol_id: u8,
    /// `priority_flag`.
    #[serde(default)]
    pub priority_flag: u8,
    /// `schedule_delivery_time`.
    #[serde(default)]
    pub schedule_delivery_time: String,
    /// `validity_period`.
    #[serde(default)]
    pub validity_period: String,
    /// `registered_delivery`.
    #[serde(default)]
    pub registered_delivery: u8,
    /// `data_coding` of the payload.
    #[serde(default)]
    pub data_coding: u8,
    /// The user data to send; longer than 254 octets goes out in `message_payload`.
    pub payload: Base64Bytes,
    /// The text, for logs and for cores that leave `payload` empty; when `payload` is empty the
    /// gateway encodes this text itself in `data_coding`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub text: Option<String>,
    /// TLVs to send, in order.
    #[serde(default)]
    pub tlvs: Vec<TlvJson>,
    /// End of the lease, milliseconds since the Unix epoch.
    pub lease_until_ms: u64,
    /// How many times it was claimed before.
    #[serde(default)]
    pub attempts: u32,
}

/// The answer to a claim.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClaimResponse {
    /// Leased messages, oldest first.
    pub messages: Vec<OutboundMessage>,
}

/// What happened to a message, reported by the gateway.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum EventKind {
    /// The carrier accepted an MT (`submit_sm_resp` with `ESME_ROK`).
    Submitted {
        /// The carrier's `message_id`; its receipts will name it.
        smsc_message_id: String,
    },
    /// A partner acked an MO or receipt (`deliver_sm_resp` with `ESME_ROK`).
    DeliveredToEsme,
    /// Sending failed.
    Failed {
        /// The `command_status` the peer answered with, or 0 when no answer came.
        command_status: u32,
        /// Whether the core should try again later (throttling, timeouts, temporary errors).
        retryable: bool,
        /// Human-readable reason.
        reason: String,
    },
    /// A receipt, for cores that take receipts as events rather than as messages.
    Receipt(ReceiptInfo),
}

/// One event about one message.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Event {
    /// The message the event is about.
    pub message_id: String,
    /// `{hostname}_{peer_name}` of the reporting gateway.
    pub frontend: String,
    /// The bind it happened on.
    pub bind_name: String,
    /// What happened.
    #[serde(flatten)]
    pub kind: EventKind,
    /// When, milliseconds since the Unix epoch.
    pub at_ms: u64,
}

/// `POST /api/v1/events`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct EventBatch {
    /// The events, applied in order.
    pub events: Vec<Event>,
}

/// A plain acknowledgement.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Ack {
    /// Always true on success.
    pub ok: bool,
}

/// `GET /api/v1/system/health`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Health {
    /// `"ok"` when the core accepts work.
    pub status: String,
}

/// `POST /api/v1/frontends/register`: registration and heartbeat of one peer, every 60 s; the
/// core expires it after 90 s without one (seed 002, glossary "Frontend Registration").
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct FrontendRegistration {
    /// `{hostname}_{peer_name}`.
    pub frontend: String,
    /// The peer's name.
    pub bind_name: String,
    /// Client or server.
    pub bind_mode: BindMode,
    /// `smsc_name` of this gateway.
    pub smsc_name: String,
}

/// The error body of any 4xx/5xx answer.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErrorBody {
    /// What was wrong.
    pub error: String,
    /// The request field at fault, when one is.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
}

/// Milliseconds since the Unix epoch, from the system clock.
pub fn now_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0)
}

/// A new gateway-assigned message id (ULID: 26 characters, sortable by time), strictly
/// increasing within this process, also within one millisecond: the core's queues and the
/// retry cache deliver oldest id first, so ids must follow the order messages arrived in.
pub fn new_message_id() -> String {
    static IDS: std::sync::Mutex<Option<ulid::Generator>> = std::sync::Mutex::new(None);
    let mut ids = IDS.lock().unwrap_or_else(|p| p.into_inner());
    ids.get_or_insert_with(ulid::Generator::new)
        .generate()
        // The random part overflowed within one millisecond (2^80 ids): a plain new ULID.
        .unwrap_or_else(|_| ulid::Ulid::new())
        .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn message_ids_increase_in_the_order_they_are_made() {
        let ids: Vec<String> = (0..10_000).map(|_| new_message_id()).collect();
        assert!(
            ids.windows(2).all(|w| w[0] < w[1]),
            "ids out of order within a millisecond"
        );
        assert!(ids.iter().all(|id| id.len() == 26));
    }

    #[test]
    fn event_kind_is_flattened_with_a_type_tag() {
        let e = Event {
            message_id: "m1".into(),
            frontend: "h_b".into(),
            bind_name: "b".into(),
            kind: EventKind::Failed {
                command_status: 0x58,
                retryable: true,
                reason: "x".into(),
            },
            at_ms: 5,
        };
        let v = serde_json::to_value(&e).unwrap();
        assert_eq!(v["type"], "failed");
        assert_eq!(v["command_status"], 0x58);
        let back: Event = serde_json::from_value(v).unwrap();
        assert_eq!(back, e);
    }

    #[test]
    fn payload_is_base64_and_round_trips() {
        let b = Base64Bytes(vec![0, 1, 0xff]);
        let s = serde_json::to_string(&b).unwrap();
        assert_eq!(s, "\"AAH/\"");
        assert_eq!(serde_json::from_str::<Base64Bytes>(&s).unwrap(), b);
        assert!(serde_json::from_str::<Base64Bytes>("\"!!\"").is_err());
    }
}
