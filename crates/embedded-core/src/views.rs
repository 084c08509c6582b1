//! JSON answers of the embedded core's own calls (for tests and operators), beyond the core API:
//! `GET /api/v1/messages`, `GET /api/v1/stats`, `GET /api/v1/frontends`.

use std::collections::BTreeMap;

use core_bridge::api::BindMode;
use serde::{Deserialize, Serialize};

use crate::record::MessageRecord;

/// `GET /api/v1/messages?direction=&bind_name=&status=&dest_smsc=&source_smsc=&limit=`:
/// matching records, newest first.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct MessageList {
    /// The records (at most `limit`, default 100, at most 10 000).
    pub messages: Vec<MessageRecord>,
}

/// The counts of one queue.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct QueueStats {
    /// Waiting to be claimed, including those waiting for a retry time.
    pub queued: u64,
    /// Of `queued`: waiting for a retry time.
    pub delayed: u64,
    /// Leased, lease running.
    pub leased: u64,
}

/// `GET /api/v1/stats`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Stats {
    /// Number of stored records.
    pub messages: u64,
    /// Records per status (`"queued"`, `"delivered"` …; a `leased` record whose lease ended
    /// counts as `queued`).
    pub by_status: BTreeMap<String, u64>,
    /// MT queues, per client bind name.
    pub dest_smsc: BTreeMap<String, QueueStats>,
    /// MO and receipt queues, per server bind name.
    pub source_smsc: BTreeMap<String, QueueStats>,
}

/// One registered frontend (`POST /api/v1/frontends/register`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct FrontendInfo {
    /// `{hostname}_{peer_name}`.
    pub frontend: String,
    /// The peer's name.
    pub bind_name: String,
    /// Client or server.
    pub bind_mode: BindMode,
    /// `smsc_name` of the gateway.
    pub smsc_name: String,
    /// Last registration or heartbeat, milliseconds since the Unix epoch.
    pub last_seen_ms: u64,
    /// When it expires without another heartbeat (`last_seen_ms` + 90 s).
    pub expires_at_ms: u64,
}

/// `GET /api/v1/frontends`: the live frontends, by name.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct FrontendList {
    /// Frontends whose last heartbeat is less than 90 s old, sorted by name.
    pub frontends: Vec<FrontendInfo>,
}
