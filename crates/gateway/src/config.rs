//! Configuration: a TOML file with the seed's key names, overridden by the seed's environment
//! variables, then validated as a whole.
//!
//! Sources, later ones winning: built-in defaults → the file → environment variables
//! ([`ENV_OVERRIDES`]: the seed's `API_BASE_URL`, `SMSC_NAME`, `SMPP_POLL_INTERVAL`,
//! `VERIFY_SSL_PEER`, `CACHE_FLUSH_INTERVAL`, `CACHE_MAX_RETRY_ATTEMPTS`,
//! `CACHE_BACKOFF_MULTIPLIER`, `MNESIA_STORAGE_TYPE`/`CACHE_STORAGE_TYPE`, and our `SMPPGW_*`
//! for secrets and logs). Every key is documented in `config/smppgw.example.toml` and
//! `docs/configuration.md`.
//!
//! Loading never stops at the first problem: [`Config::load_with_env`] reports every unknown
//! key, wrong type, out-of-range value, duplicate name, bad CIDR and unusable address at once,
//! each with its key, and a configuration with any problem is never returned — so a bad file
//! cannot half-start the gateway.

use std::collections::HashSet;
use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::{Deserialize, Serialize};
use smpp_codec::types::BindKind;

/// The whole configuration file.
#[derive(Clone, Debug, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// URL of the messaging core, or `"embedded"` for the in-process reference core.
    #[serde(default = "default_api_base_url")]
    pub api_base_url: String,
    /// This gateway's name in the core (seed: `smsc_name`, default `smpp_gateway`).
    #[serde(default = "default_smsc_name")]
    pub smsc_name: String,
    /// Default queue poll interval, ms, for binds without `queue_check_frequency` (seed: 100).
    #[serde(default = "default_poll")]
    pub smpp_poll_interval: u64,
    /// Verify the core's TLS certificate (seed: default false).
    #[serde(default)]
    pub verify_ssl_peer: bool,
    /// Retry cache: how often the flush workers look for due messages, ms (seed: 10000).
    #[serde(default = "default_cache_flush")]
    pub cache_flush_interval: u64,
    /// Retry cache: attempts before `failed_permanent` (seed: 10).
    #[serde(default = "default_cache_attempts")]
    pub cache_max_retry_attempts: u32,
    /// Retry cache: backoff multiplier (seed: 2).
    #[serde(default = "default_cache_multiplier")]
    pub cache_backoff_multiplier: u32,
    /// Retry cache storage: `disk` (seed `disc_copies`) or `memory` (seed `ram_copies`); the
    /// seed's words are accepted too. Env `CACHE_STORAGE_TYPE` or the seed's `MNESIA_STORAGE_TYPE`.
    #[serde(default = "default_storage", alias = "mnesia_storage_type")]
    pub cache_storage_type: String,
    /// Directory of the retry cache (default `data_dir/cache`).
    #[serde(default)]
    pub cache_dir: Option<PathBuf>,
    /// Directory of the gateway's stores (embedded core, retry cache).
    #[serde(default = "default_data_dir")]
    pub data_dir: PathBuf,
    /// Timeout of one call to the core, ms.
    #[serde(default = "default_core_timeout")]
    pub core_timeout_ms: u64,
    /// Largest PDU accepted from any peer, octets.
    #[serde(default = "default_max_pdu")]
    pub max_pdu_len: usize,
    /// On SIGTERM, the longest wait, s, for sessions to unbind and stores to flush before the
    /// process exits anyway (default 30; systemd's `TimeoutStopSec` is above it).
    #[serde(default = "default_shutdown_timeout")]
    pub shutdown_timeout: u64,
    /// SMPP listener of the server binds.
    #[serde(default)]
    pub listen: Listen,
    /// Prometheus `/metrics` listener.
    #[serde(default)]
    pub metrics: Metrics,
    /// Admin API listener.
    #[serde(default)]
    pub admin: Admin,
    /// The embedded core's HTTP listener (used when `api_base_url = "embedded"`).
    #[serde(default)]
    pub embedded_core: EmbeddedCore,
    /// The HTTP send API of the embedded core (`docs/http-api.md`): its listener and limits.
    #[serde(default)]
    pub send_api: SendApi,
    /// Clients of the send API: credentials, allowed senders, rate limit, bind. The send API
    /// listener starts only when there is at least one.
    #[serde(default)]
    pub api_clients: Vec<embedded_core::ApiClient>,
    /// Logging.
    #[serde(default)]
    pub log: Log,
    /// A built-in SMSC simulator started beside the gateway (demo and staging only).
    #[serde(default)]
    pub simulator: Option<Simulator>,
    /// Embedded core MT routes: destination prefix → client bind.
    #[serde(default)]
    pub routes: Vec<RouteCfg>,
    /// Embedded core MO routes: destination prefix → server bind.
    #[serde(default)]
    pub mo_routes: Vec<MoRouteCfg>,
    /// Client binds (we are the ESME).
    #[serde(default)]
    pub binds: Vec<ClientBind>,
    /// Server binds (partners bind to us).
    #[serde(default)]
    pub server_binds: Vec<ServerBind>,
}

/// `[listen]`.
#[derive(Clone, Debug, Deserialize, Serialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct Listen {
    /// Address to listen on (seed default `0.0.0.0`).
    #[serde(default = "default_any")]
    pub host: String,
    /// Port (seed default 2775).
    #[serde(default = "default_smpp_port")]
    pub port: u16,
    /// Most simultaneous connections (seed default 100, range 1–10000).
    #[serde(default = "default_max_conn")]
    pub max_connections: usize,
    /// A connection must bind within this many seconds (session_init_timer).
    #[serde(default = "default_bind_timeout")]
    pub bind_timeout: u64,
    /// `[listen.tls]`: an SMPP-over-TLS listener beside the plain one (absent = none).
    #[serde(default)]
    pub tls: Option<ListenTls>,
    /// Decode strictly what a connection sends before its bind is accepted (the bind itself,
    /// an early `enquire_link`, answered `ESME_RINVBNDSTS`); from the bind on, the peer's own
    /// `strict_pdu` applies. Default `false`.
    #[serde(default)]
    pub strict_pdu: bool,
}

/// `[listen.tls]`: SMPP over TLS for partners, beside the plain listener; `max_connections`
/// counts both.
#[derive(Clone, Debug, Deserialize, Serialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct ListenTls {
    /// Address to listen on (default: `[listen] host`).
    #[serde(default)]
    pub host: Option<String>,
    /// Port (default 3550, the port SMPP-over-TLS clients such as Node `smpp` assume).
    #[serde(default = "default_tls_port")]
    pub port: u16,
    /// PEM certificate chain of the listener, leaf first.
    pub cert_file: PathBuf,
    /// PEM private key of that certificate.
    pub key_file: PathBuf,
    /// PEM CA certificates: when set, partners must present a client certificate they issued.
    #[serde(default)]
    pub client_ca_file: Option<PathBuf>,
}

/// What happens to a message whose request got no response within `response_timeout` (or
/// whose session closed before the response came). Either way the peer may have it.
#[derive(Clone, Copy, Debug, Default, Deserialize, Serialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum TimeoutAction {
    /// Send it again (at least once): resent by the gateway within the lease, then handed back
    /// to the core as a retryable failure. Risk: a duplicate when the peer had it.
    #[default]
    Retry,
    /// Report it to the core as failed, not retryable (at most once). Risk: it is lost when
    /// the peer did not have it.
    Fail,
}

/// What a partner submitting above its `tps_limit` gets.
#[derive(Clone, Copy, Debug, Default, Deserialize, Serialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum TpsExceeded {
    /// The excess is answered `ESME_RTHROTTLED` at once.
    #[default]
    Throttle,
    /// The excess is accepted, its answers held until the next second with room: the partner
    /// is slowed down by its own window.
    Delay,
}

/// `[metrics]`.
#[derive(Clone, Debug, Deserialize, Serialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct Metrics {
    /// Serve `/metrics`.
    #[serde(default = "default_true")]
    pub enabled: bool,
    /// Address (default `0.0.0.0`).
    #[serde(default = "default_any")]
    pub host: String,
    /// Port (default 4000, as the seed).
    #[serde(default = "default_metrics_port")]
    pub port: u16,
}

/// `[admin]`.
#[derive(Clone, Debug, Deserialize, Serialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct Admin {
    /// Serve the admin API.
    #[serde(default = "default_true")]
    pub enabled: bool,
    /// Address (default loopback).
    #[serde(default = "default_loopback")]
    pub host: String,
    /// Port (default 8087, as the seed's web interface).
    #[serde(default = "default_admin_port")]
    pub port: u16,
    /// Bearer token accepted on every admin call except the health/readiness probes.
    #[serde(default)]
    pub token: Option<String>,
    /// HTTP Basic user name accepted (with `password`), for browsers and the dashboard.
    #[serde(default)]
    pub username: Option<String>,
    /// HTTP Basic password.
    #[serde(default)]
    pub password: Option<String>,
    /// PEM certificate chain (leaf first): with `tls_key_file`, the admin API and dashboard
    /// are served over HTTPS only, on the same port.
    #[serde(default)]
    pub tls_cert_file: Option<PathBuf>,
    /// PEM private key of `tls_cert_file` (PKCS#8, PKCS#1 or SEC1).
    #[serde(default)]
    pub tls_key_file: Option<PathBuf>,
}

/// `[embedded_core]`.
#[derive(Clone, Debug, Deserialize, Serialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct EmbeddedCore {
    /// Address of its HTTP API (default loopback).
    #[serde(default = "default_loopback")]
    pub host: String,
    /// Port of its HTTP API (default 8088).
    #[serde(default = "default_core_port")]
    pub port: u16,
    /// Lease of a claim, seconds.
    #[serde(default = "default_lease")]
    pub lease_seconds: u64,
    /// Attempts of a retryable failure before the message fails for good.
    #[serde(default = "default_core_attempts")]
    pub max_attempts: u32,
    /// The gateway's own binds call the core in process (no HTTP, no JSON; default true).
    /// `false` sends them through its HTTP API on `host:port`, as an external frontend would
    /// (benchmarks compare the two). The HTTP API is served either way.
    #[serde(default = "default_true")]
    pub in_process: bool,
}

/// `[send_api]`: the listener of the HTTP send API (`POST /api/v1/send`, the Android SMS
/// gateway compatible `/3rdparty/v1/messages`), served by the embedded core.
#[derive(Clone, Debug, Deserialize, Serialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct SendApi {
    /// Serve it (when `api_base_url = "embedded"` and `[[api_clients]]` has an entry).
    #[serde(default = "default_true")]
    pub enabled: bool,
    /// Address (default loopback; `0.0.0.0` to reach it from other hosts).
    #[serde(default = "default_loopback")]
    pub host: String,
    /// Port (default 8090).
    #[serde(default = "default_send_api_port")]
    pub port: u16,
    /// Most SMS segments of one text; a longer one is refused with 400 (1–255, default 10).
    #[serde(default = "default_max_segments")]
    pub max_segments: u32,
    /// Attempts of one status callback before it is given up (1–100, default 6).
    #[serde(default = "default_callback_attempts")]
    pub callback_max_attempts: u32,
    /// Wait before the second attempt of a callback, s; it doubles each time, at most 300 s
    /// (default 2).
    #[serde(default = "default_callback_retry")]
    pub callback_retry_interval: u64,
    /// Time limit of one callback attempt, s (default 10).
    #[serde(default = "default_callback_timeout")]
    pub callback_timeout: u64,
}

/// `[log]`.
#[derive(Clone, Debug, Deserialize, Serialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct Log {
    /// `text` (human lines) or `json`.
    #[serde(default = "default_log_format")]
    pub format: String,
    /// Filter in `tracing_subscriber::EnvFilter` syntax (default `info`); `RUST_LOG` wins.
    #[serde(default = "default_log_level")]
    pub level: String,
    /// Recent log records kept in memory for the admin API and dashboard (default 1000).
    #[serde(default = "default_ring_size")]
    pub ring_size: usize,
}

/// `[simulator]`: start the built-in SMSC simulator with the gateway (demo only).
#[derive(Clone, Debug, Deserialize, Serialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct Simulator {
    /// SMPP address of the simulator, e.g. `127.0.0.1:2776`.
    pub listen: String,
    /// `system_id` it accepts (any when empty).
    #[serde(default)]
    pub system_id: String,
    /// Password it accepts (any when empty).
    #[serde(default)]
    pub password: String,
    /// Delay of its delivery receipts, ms.
    #[serde(default = "default_receipt_delay")]
    pub receipt_delay_ms: u64,
    /// HTTP control address (MO injection), optional.
    #[serde(default)]
    pub control: Option<String>,
}

/// `[[routes]]`.
#[derive(Clone, Debug, Deserialize, Serialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct RouteCfg {
    /// Destination prefix (empty = every number).
    pub prefix: String,
    /// Client bind name.
    pub dest_smsc: String,
}

/// `[[mo_routes]]`.
#[derive(Clone, Debug, Deserialize, Serialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct MoRouteCfg {
    /// Destination prefix (empty = every number).
    pub prefix: String,
    /// Server bind name.
    pub source_smsc: String,
}

/// The seed's bind types.
#[derive(Clone, Copy, Debug, Deserialize, Serialize, PartialEq, Eq, Hash)]
#[serde(rename_all = "lowercase")]
pub enum BindType {
    /// Sends only (`submit_sm`).
    Transmitter,
    /// Receives only (`deliver_sm`).
    Receiver,
    /// Both.
    Transceiver,
}

impl BindType {
    /// The codec's bind kind.
    pub fn kind(self) -> BindKind {
        match self {
            BindType::Transmitter => BindKind::Transmitter,
            BindType::Receiver => BindKind::Receiver,
            BindType::Transceiver => BindKind::Transceiver,
        }
    }
    /// From the codec's bind kind.
    pub fn from_kind(k: BindKind) -> Self {
        match k {
            BindKind::Transmitter => BindType::Transmitter,
            BindKind::Receiver => BindType::Receiver,
            BindKind::Transceiver => BindType::Transceiver,
        }
    }
    /// The label used in metrics (`transmitter`, …).
    pub fn as_str(self) -> &'static str {
        match self {
            BindType::Transmitter => "transmitter",
            BindType::Receiver => "receiver",
            BindType::Transceiver => "transceiver",
        }
    }
}

/// `[[binds]]`: a client bind (seed "Configuration des liaisons client SMPP").
#[derive(Clone, Debug, Deserialize, Serialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct ClientBind {
    /// Unique name; `dest_smsc` of the MT it sends.
    pub name: String,
    /// Always `client` when given (the seed's `mode: :client`).
    #[serde(default)]
    pub mode: Option<String>,
    /// transmitter, receiver or transceiver.
    #[serde(default = "default_bind_type")]
    pub bind_type: BindType,
    /// The SMSC's host.
    pub host: String,
    /// The SMSC's port (default 2775).
    #[serde(default = "default_smpp_port")]
    pub port: u16,
    /// Bind `system_id` (SMPP 3.4 allows 15 characters; longer ones are sent as given).
    pub system_id: String,
    /// Bind password (SMPP 3.4 allows 8 characters; longer ones are sent as given).
    pub password: String,
    /// Bind `system_type` (default empty).
    #[serde(default)]
    pub system_type: String,
    /// Bind `addr_ton` (0–6).
    #[serde(default)]
    pub addr_ton: u8,
    /// Bind `addr_npi` (0–18).
    #[serde(default)]
    pub addr_npi: u8,
    /// Bind `address_range`.
    #[serde(default)]
    pub address_range: String,
    /// `interface_version` (0x34 = 52; 0x50 = 80 for v5).
    #[serde(default = "default_interface_version")]
    pub interface_version: u8,
    /// Messages per second (seed default 100, range 1–10000).
    #[serde(default = "default_tps")]
    pub tps_limit: u32,
    /// Queue poll interval, ms (100–10000); absent = `smpp_poll_interval`.
    #[serde(default)]
    pub queue_check_frequency: Option<u64>,
    /// `enquire_link` interval, s (0 disables; 0–3600; seed default 60).
    #[serde(default = "default_enquire")]
    pub enquire_link_interval: u64,
    /// Whether the bind connects.
    #[serde(default = "default_true")]
    pub enabled: bool,
    /// Retry cache on this bind.
    #[serde(default)]
    pub cache_enabled: bool,
    /// Decode this peer's PDUs strictly (`smpp_codec::pdu::DecodeOptions::strict`: spec
    /// maximum lengths, final NULs, TLV lengths, sequence number range, `enquire_link` only
    /// once bound…), each deviation answered with its `command_status`. Default `false`:
    /// lenient where real peers deviate harmlessly (`docs/codec.md`).
    #[serde(default)]
    pub strict_pdu: bool,
    /// Retry cache capacity (1–1000000).
    #[serde(default = "default_cache_size")]
    pub cache_max_size: u64,
    /// Retry cache base interval, s.
    #[serde(default = "default_cache_retry")]
    pub cache_retry_interval: u64,
    /// Requests in flight at most (seed: 100).
    #[serde(default = "default_window")]
    pub window_size: usize,
    /// Wait for a response, s.
    #[serde(default = "default_response_timeout")]
    pub response_timeout: u64,
    /// Wait between reconnect attempts, s (seed: 30).
    #[serde(default = "default_reconnect")]
    pub reconnect_interval: u64,
    /// Wait for the bind response, s.
    #[serde(default = "default_bind_timeout")]
    pub bind_timeout: u64,
    /// Wait for an `enquire_link_resp` before the link is declared dead, s (seed: 30).
    #[serde(default = "default_enquire_timeout")]
    pub enquire_link_timeout: u64,
    /// Unanswered requests in a row that drop the session and rebuild it (0 = never).
    #[serde(default = "default_max_timeouts")]
    pub max_consecutive_timeouts: u32,
    /// A request without response: `retry` (at least once) or `fail` (at most once).
    #[serde(default)]
    pub response_timeout_action: TimeoutAction,
    /// Resends by the gateway after a temporary error (or a timeout under `retry`), 1 s, 2 s, 4 s
    /// apart and within the core's lease, before the message goes back to the core.
    #[serde(default = "default_resend_attempts")]
    pub resend_attempts: u32,
    /// Resends of one request after `ESME_RTHROTTLED`/`ESME_RMSGQFUL` before it goes back to
    /// the core.
    #[serde(default = "default_throttle_resends")]
    pub throttle_resends: u32,
    /// Longest wait between attempts while binds keep being refused, s. Unset: 300 s, or
    /// `reconnect_interval` when that is longer ([`ClientBind::reconnect_cap`]).
    #[serde(default)]
    pub reconnect_max_interval: Option<u64>,
    /// Limit of one connection attempt, TLS handshake included, s.
    #[serde(default = "default_connect_timeout")]
    pub connect_timeout: u64,
    /// Disable/shutdown: wait for responses in flight at most this long before `unbind`, s.
    #[serde(default = "default_drain_timeout")]
    pub drain_timeout: u64,
    /// Wait for `unbind_resp` at most this long, s.
    #[serde(default = "default_unbind_timeout")]
    pub unbind_timeout: u64,
    /// Unbind and reconnect after this long without any PDU from the SMSC, s (0 = never).
    #[serde(default)]
    pub inactivity_timeout: u64,
    /// SMPP over TLS to the SMSC.
    #[serde(default)]
    pub tls: bool,
    /// PEM CA certificates that may sign the SMSC's certificate (default: Mozilla's roots).
    #[serde(default)]
    pub tls_ca_file: Option<PathBuf>,
    /// Name checked against the SMSC's certificate and sent as SNI (default: `host`).
    #[serde(default)]
    pub tls_server_name: Option<String>,
    /// PEM client certificate, for SMSCs that require one.
    #[serde(default)]
    pub tls_cert_file: Option<PathBuf>,
    /// PEM private key of the client certificate.
    #[serde(default)]
    pub tls_key_file: Option<PathBuf>,
    /// What `data_coding` 0 means at this SMSC: `gsm7` (default), `latin1` or `ia5`.
    #[serde(default)]
    pub default_alphabet: DefaultAlphabetKey,
    /// How a message too long for one SMS goes to this SMSC: `udh` (8-bit reference, default),
    /// `udh16`, `sar` (TLVs) or `message_payload`.
    #[serde(default)]
    pub split_method: SplitMethodKey,
    /// How this SMSC writes message ids in its receipts compared with `submit_sm_resp`:
    /// `as_submitted` (default), `hex`, `decimal`, `decimal_upper_hex`.
    #[serde(default)]
    pub receipt_id_format: ReceiptIdFormatKey,
}

/// `[[server_binds]]`: a partner allowed to bind to us.
#[derive(Clone, Debug, Deserialize, Serialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct ServerBind {
    /// Unique name; `source_smsc` of the MO and receipts it receives.
    pub name: String,
    /// Expected `system_id`.
    pub system_id: String,
    /// Expected password.
    pub password: String,
    /// Bind types the partner may use.
    #[serde(default = "all_bind_types")]
    pub allowed_bind_types: Vec<BindType>,
    /// Allowed client addresses: IPs or CIDR; empty = any.
    #[serde(default)]
    pub ip_whitelist: Vec<String>,
    /// Allowed `source_addr`: exact (case-sensitive) or `prefix*`; empty = any.
    #[serde(default)]
    pub source_address_whitelist: Vec<String>,
    /// Messages per second both ways: `deliver_sm` we send to this partner, and `submit_sm`
    /// we accept from it (the excess is answered `ESME_RTHROTTLED`).
    #[serde(default = "default_tps")]
    pub tps_limit: u32,
    /// Queue poll interval, ms; absent = `smpp_poll_interval`.
    #[serde(default)]
    pub queue_check_frequency: Option<u64>,
    /// `enquire_link` interval to the partner, s (0 disables).
    #[serde(default = "default_enquire")]
    pub enquire_link_interval: u64,
    /// Whether the partner may bind.
    #[serde(default = "default_true")]
    pub enabled: bool,
    /// Retry cache on this bind.
    #[serde(default)]
    pub cache_enabled: bool,
    /// Decode this peer's PDUs strictly (`smpp_codec::pdu::DecodeOptions::strict`: spec
    /// maximum lengths, final NULs, TLV lengths, sequence number range, `enquire_link` only
    /// once bound…), each deviation answered with its `command_status`. Default `false`:
    /// lenient where real peers deviate harmlessly (`docs/codec.md`).
    #[serde(default)]
    pub strict_pdu: bool,
    /// Retry cache capacity.
    #[serde(default = "default_cache_size")]
    pub cache_max_size: u64,
    /// Retry cache base interval, s.
    #[serde(default = "default_cache_retry")]
    pub cache_retry_interval: u64,
    /// `deliver_sm` in flight per session at most.
    #[serde(default = "default_window")]
    pub window_size: usize,
    /// Wait for a response, s.
    #[serde(default = "default_response_timeout")]
    pub response_timeout: u64,
    /// Sessions this partner may hold at once (any bind type); one more is refused with
    /// `ESME_RBINDFAIL`. Default 10.
    #[serde(default = "default_max_sessions")]
    pub max_sessions: usize,
    /// Close a session that sent nothing for this many seconds (0 = never, the default; our
    /// `enquire_link` already finds dead partners).
    #[serde(default)]
    pub inactivity_timeout: u64,
    /// Wait for an `enquire_link_resp` before the session is declared dead, s (seed: 30).
    #[serde(default = "default_enquire_timeout")]
    pub enquire_link_timeout: u64,
    /// Unanswered `deliver_sm` in a row that close the session (0 = never).
    #[serde(default = "default_max_timeouts")]
    pub max_consecutive_timeouts: u32,
    /// A `deliver_sm` without response: `retry` (at least once) or `fail` (at most once).
    #[serde(default)]
    pub response_timeout_action: TimeoutAction,
    /// Resends by the gateway after a temporary error (or a timeout under `retry`), 1 s, 2 s, 4 s
    /// apart and within the core's lease, before the message goes back to the core.
    #[serde(default = "default_resend_attempts")]
    pub resend_attempts: u32,
    /// Resends of one `deliver_sm` after `ESME_RTHROTTLED`/`ESME_RMSGQFUL`.
    #[serde(default = "default_throttle_resends")]
    pub throttle_resends: u32,
    /// `submit_sm` above `tps_limit`: `throttle` (answer `ESME_RTHROTTLED`) or `delay` (hold the
    /// answers until the next second).
    #[serde(default)]
    pub tps_exceeded: TpsExceeded,
    /// Disable/shutdown: wait for responses in flight at most this long before `unbind`, s.
    #[serde(default = "default_drain_timeout")]
    pub drain_timeout: u64,
    /// Wait for `unbind_resp` at most this long, s.
    #[serde(default = "default_unbind_timeout")]
    pub unbind_timeout: u64,
    /// What `data_coding` 0 means for this partner: `gsm7` (default), `latin1` or `ia5`.
    #[serde(default)]
    pub default_alphabet: DefaultAlphabetKey,
    /// How concatenated messages go to this partner: `udh` (default), `udh16`, `sar` or
    /// `message_payload`.
    #[serde(default)]
    pub split_method: SplitMethodKey,
}

/// The `default_alphabet` key of a bind: what `data_coding` 0 means (facts §6.5).
#[derive(Clone, Copy, Debug, Default, Deserialize, Serialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum DefaultAlphabetKey {
    /// GSM 03.38 (the usual convention).
    #[default]
    Gsm7,
    /// ISO-8859-1.
    Latin1,
    /// IA5 / ASCII.
    Ia5,
}

/// The `split_method` key of a bind (issue 3 §8).
#[derive(Clone, Copy, Debug, Default, Deserialize, Serialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum SplitMethodKey {
    /// UDH with an 8-bit reference (IEI 0x00).
    #[default]
    Udh,
    /// UDH with a 16-bit reference (IEI 0x08).
    Udh16,
    /// `sar_*` TLVs.
    Sar,
    /// One PDU with `message_payload`.
    MessagePayload,
}

/// The `receipt_id_format` key of a client bind (facts §8.4).
#[derive(Clone, Copy, Debug, Default, Deserialize, Serialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum ReceiptIdFormatKey {
    /// Receipts carry the id as `submit_sm_resp` gave it.
    #[default]
    AsSubmitted,
    /// Receipts write it in hex, `submit_sm_resp` in decimal.
    Hex,
    /// Receipts write it in decimal, `submit_sm_resp` in lower-case hex.
    Decimal,
    /// Receipts write it in decimal, `submit_sm_resp` in upper-case hex.
    DecimalUpperHex,
}

impl DefaultAlphabetKey {
    /// The codec's value.
    pub fn to_codec(self) -> smpp_codec::text::DefaultAlphabet {
        use smpp_codec::text::DefaultAlphabet as D;
        match self {
            DefaultAlphabetKey::Gsm7 => D::Gsm7,
            DefaultAlphabetKey::Latin1 => D::Latin1,
            DefaultAlphabetKey::Ia5 => D::Ia5,
        }
    }
}

impl SplitMethodKey {
    /// The codec's value.
    pub fn to_codec(self) -> smpp_codec::segment::SplitMethod {
        use smpp_codec::segment::SplitMethod as S;
        match self {
            SplitMethodKey::Udh => S::Udh8,
            SplitMethodKey::Udh16 => S::Udh16,
            SplitMethodKey::Sar => S::Sar,
            SplitMethodKey::MessagePayload => S::MessagePayload,
        }
    }
}

impl ReceiptIdFormatKey {
    /// The codec's value.
    pub fn to_codec(self) -> smpp_codec::receipt::ReceiptIdFormat {
        use smpp_codec::receipt::ReceiptIdFormat as R;
        match self {
            ReceiptIdFormatKey::AsSubmitted => R::AsSubmitted,
            ReceiptIdFormatKey::Hex => R::Hex,
            ReceiptIdFormatKey::Decimal => R::Decimal,
            ReceiptIdFormatKey::DecimalUpperHex => R::DecimalUpperHex,
        }
    }
}

impl ClientBind {
    /// The text settings of this bind for [`crate::convert`].
    pub fn text_settings(&self) -> crate::convert::TextSettings {
        crate::convert::TextSettings {
            default_alphabet: self.default_alphabet.to_codec(),
            split_method: self.split_method.to_codec(),
            receipt_ids: self.receipt_id_format.to_codec(),
        }
    }
}

impl ServerBind {
    /// The text settings of this bind for [`crate::convert`] (partners send no receipts to us).
    pub fn text_settings(&self) -> crate::convert::TextSettings {
        crate::convert::TextSettings {
            default_alphabet: self.default_alphabet.to_codec(),
            split_method: self.split_method.to_codec(),
            receipt_ids: smpp_codec::receipt::ReceiptIdFormat::AsSubmitted,
        }
    }
}

fn default_api_base_url() -> String {
    "embedded".into()
}
fn default_smsc_name() -> String {
    "smpp_gateway".into()
}
fn default_poll() -> u64 {
    100
}
fn default_cache_flush() -> u64 {
    10_000
}
fn default_cache_attempts() -> u32 {
    10
}
fn default_cache_multiplier() -> u32 {
    2
}
fn default_storage() -> String {
    "disk".into()
}
fn default_data_dir() -> PathBuf {
    PathBuf::from("./data")
}
fn default_core_timeout() -> u64 {
    5_000
}
fn default_max_pdu() -> usize {
    smpp_codec::codec::DEFAULT_MAX_PDU_LEN
}
fn default_any() -> String {
    "0.0.0.0".into()
}
fn default_loopback() -> String {
    "127.0.0.1".into()
}
fn default_smpp_port() -> u16 {
    2775
}
fn default_max_conn() -> usize {
    100
}
fn default_metrics_port() -> u16 {
    4000
}
fn default_admin_port() -> u16 {
    8087
}
fn default_core_port() -> u16 {
    8088
}
fn default_send_api_port() -> u16 {
    8090
}
fn default_max_segments() -> u32 {
    10
}
fn default_callback_attempts() -> u32 {
    6
}
fn default_callback_retry() -> u64 {
    2
}
fn default_callback_timeout() -> u64 {
    10
}
fn default_lease() -> u64 {
    60
}
fn default_core_attempts() -> u32 {
    10
}
fn default_log_format() -> String {
    "text".into()
}
fn default_log_level() -> String {
    "info".into()
}
fn default_ring_size() -> usize {
    1000
}
fn default_shutdown_timeout() -> u64 {
    30
}
fn default_receipt_delay() -> u64 {
    1_000
}
fn default_true() -> bool {
    true
}
fn default_bind_type() -> BindType {
    BindType::Transceiver
}
fn default_interface_version() -> u8 {
    0x34
}
fn default_tps() -> u32 {
    100
}
fn default_enquire() -> u64 {
    60
}
fn default_cache_size() -> u64 {
    10_000
}
fn default_cache_retry() -> u64 {
    60
}
fn default_window() -> usize {
    100
}
fn default_response_timeout() -> u64 {
    30
}
fn default_reconnect() -> u64 {
    30
}
fn default_bind_timeout() -> u64 {
    10
}
fn default_max_sessions() -> usize {
    10
}
fn default_tls_port() -> u16 {
    3550
}
fn default_enquire_timeout() -> u64 {
    30
}
fn default_max_timeouts() -> u32 {
    3
}
fn default_resend_attempts() -> u32 {
    2
}
fn default_throttle_resends() -> u32 {
    5
}
/// `reconnect_max_interval` when unset, s (unless `reconnect_interval` is longer).
pub const DEFAULT_RECONNECT_MAX: u64 = 300;
fn default_connect_timeout() -> u64 {
    10
}
fn default_drain_timeout() -> u64 {
    5
}
fn default_unbind_timeout() -> u64 {
    5
}
fn all_bind_types() -> Vec<BindType> {
    vec![
        BindType::Transmitter,
        BindType::Receiver,
        BindType::Transceiver,
    ]
}

impl Default for Listen {
    fn default() -> Self {
        Listen {
            host: default_any(),
            port: default_smpp_port(),
            max_connections: default_max_conn(),
            bind_timeout: default_bind_timeout(),
            tls: None,
            strict_pdu: false,
        }
    }
}
impl Default for Metrics {
    fn default() -> Self {
        Metrics {
            enabled: true,
            host: default_any(),
            port: default_metrics_port(),
        }
    }
}
impl Admin {
    /// The TLS files of the admin listener, when both are configured.
    pub fn tls_files(&self) -> Option<smpp_session::ServerTlsFiles> {
        Some(smpp_session::ServerTlsFiles {
            cert_file: self.tls_cert_file.clone()?,
            key_file: self.tls_key_file.clone()?,
            client_ca_file: None,
        })
    }

    /// The base URL the CLI uses to reach this admin API: `https` when a certificate is
    /// configured; a wildcard host is reached on loopback.
    pub fn base_url(&self) -> String {
        let host = match self.host.as_str() {
            "0.0.0.0" => "127.0.0.1".to_string(),
            "::" => "[::1]".to_string(),
            h if h.contains(':') => format!("[{h}]"),
            h => h.to_string(),
        };
        let scheme = if self.tls_files().is_some() {
            "https"
        } else {
            "http"
        };
        format!("{scheme}://{host}:{}", self.port)
    }
}
impl Default for Admin {
    fn default() -> Self {
        Admin {
            enabled: true,
            host: default_loopback(),
            port: default_admin_port(),
            token: None,
            username: None,
            password: None,
            tls_cert_file: None,
            tls_key_file: None,
        }
    }
}
impl Default for EmbeddedCore {
    fn default() -> Self {
        EmbeddedCore {
            host: default_loopback(),
            port: default_core_port(),
            lease_seconds: default_lease(),
            max_attempts: default_core_attempts(),
            in_process: true,
        }
    }
}
impl Default for SendApi {
    fn default() -> Self {
        SendApi {
            enabled: true,
            host: default_loopback(),
            port: default_send_api_port(),
            max_segments: default_max_segments(),
            callback_max_attempts: default_callback_attempts(),
            callback_retry_interval: default_callback_retry(),
            callback_timeout: default_callback_timeout(),
        }
    }
}
impl Default for Log {
    fn default() -> Self {
        Log {
            format: default_log_format(),
            level: default_log_level(),
            ring_size: default_ring_size(),
        }
    }
}

/// One problem in a configuration, naming the key.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConfigProblem {
    /// The key at fault, e.g. `server_binds[1].ip_whitelist[0]`.
    pub key: String,
    /// Why it is wrong.
    pub reason: String,
}

impl std::fmt::Display for ConfigProblem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.key, self.reason)
    }
}

/// A configuration that cannot be used, with every problem found.
#[derive(Debug, thiserror::Error)]
#[error("{file}: {}", problems.iter().map(|p| p.to_string()).collect::<Vec<_>>().join("; "))]
pub struct ConfigError {
    /// The file read.
    pub file: String,
    /// Every problem found.
    pub problems: Vec<ConfigProblem>,
}

/// The type of the value an environment variable carries.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EnvKind {
    /// Text, taken as it is.
    Text,
    /// A non-negative integer.
    Integer,
    /// `true`/`false` (also `1`/`0`, `yes`/`no`, `on`/`off`).
    Boolean,
}

/// Environment variables and the key each overrides: the seed's globals ("Variation
/// d'environnement"), then ours (`SMPPGW_*`) so that secrets can live in systemd's
/// `EnvironmentFile` rather than in the configuration file.
pub const ENV_OVERRIDES: &[(&str, &str, EnvKind)] = &[
    ("API_BASE_URL", "api_base_url", EnvKind::Text),
    ("SMSC_NAME", "smsc_name", EnvKind::Text),
    ("SMPP_POLL_INTERVAL", "smpp_poll_interval", EnvKind::Integer),
    ("VERIFY_SSL_PEER", "verify_ssl_peer", EnvKind::Boolean),
    (
        "CACHE_FLUSH_INTERVAL",
        "cache_flush_interval",
        EnvKind::Integer,
    ),
    (
        "CACHE_MAX_RETRY_ATTEMPTS",
        "cache_max_retry_attempts",
        EnvKind::Integer,
    ),
    (
        "CACHE_BACKOFF_MULTIPLIER",
        "cache_backoff_multiplier",
        EnvKind::Integer,
    ),
    ("MNESIA_STORAGE_TYPE", "cache_storage_type", EnvKind::Text),
    ("CACHE_STORAGE_TYPE", "cache_storage_type", EnvKind::Text),
    ("SMPPGW_DATA_DIR", "data_dir", EnvKind::Text),
    ("SMPPGW_ADMIN_TOKEN", "admin.token", EnvKind::Text),
    ("SMPPGW_ADMIN_USERNAME", "admin.username", EnvKind::Text),
    ("SMPPGW_ADMIN_PASSWORD", "admin.password", EnvKind::Text),
    (
        "SMPPGW_ADMIN_TLS_CERT_FILE",
        "admin.tls_cert_file",
        EnvKind::Text,
    ),
    (
        "SMPPGW_ADMIN_TLS_KEY_FILE",
        "admin.tls_key_file",
        EnvKind::Text,
    ),
    ("SMPPGW_LOG_FORMAT", "log.format", EnvKind::Text),
    ("SMPPGW_LOG_LEVEL", "log.level", EnvKind::Text),
];

/// Parse one environment value as `kind`; `Err` says why not.
fn env_value(var: &str, kind: EnvKind, raw: &str) -> Result<config::Value, String> {
    let v = raw.trim();
    Ok(match kind {
        EnvKind::Text => {
            // The seed's Mnesia storage names map onto ours.
            let mapped = match (var, v) {
                ("MNESIA_STORAGE_TYPE", "disc_copies") => "disk",
                ("MNESIA_STORAGE_TYPE", "ram_copies") => "memory",
                _ => v,
            };
            config::Value::from(mapped.to_string())
        }
        EnvKind::Integer => config::Value::from(
            v.parse::<u64>()
                .map_err(|_| "not a non-negative integer".to_string())? as i64,
        ),
        EnvKind::Boolean => config::Value::from(match v.to_ascii_lowercase().as_str() {
            "true" | "1" | "yes" | "on" => true,
            "false" | "0" | "no" | "off" => false,
            _ => return Err("not a boolean (true or false)".into()),
        }),
    })
}

impl Config {
    /// Read `path`, apply environment overrides from `env` (name → value), and validate.
    ///
    /// Every problem is reported at once, each naming its key: syntax errors, unknown keys
    /// (with the closest known key), values of the wrong type, values out of the seed's range,
    /// duplicate peer names, unparsable CIDRs, unusable addresses, bad environment values.
    /// A key set from the environment says so in its reason.
    pub fn load_with_env(
        path: &Path,
        env: &dyn Fn(&str) -> Option<String>,
    ) -> Result<Config, ConfigError> {
        let file = path.display().to_string();
        let fail = |key: &str, reason: String| ConfigError {
            file: file.clone(),
            problems: vec![ConfigProblem {
                key: key.into(),
                reason,
            }],
        };
        if !path.is_file() {
            return Err(fail(
                "(file)",
                if path.exists() {
                    "not a regular file".into()
                } else {
                    "no such file".into()
                },
            ));
        }
        let mut problems = Vec::new();
        let mut from_env: Vec<(&str, &str)> = Vec::new();
        let mut builder = config::Config::builder()
            .add_source(config::File::from(path).format(config::FileFormat::Toml));
        for (var, key, kind) in ENV_OVERRIDES {
            let Some(raw) = env(var) else { continue };
            match env_value(var, *kind, &raw) {
                Ok(value) => {
                    builder = builder
                        .set_override(*key, value)
                        .map_err(|e| fail(key, format!("{var}: {e}")))?;
                    from_env.retain(|(k, _)| k != key);
                    from_env.push((key, var));
                }
                Err(why) => problems.push(ConfigProblem {
                    key: key.to_string(),
                    reason: format!("{why} (set by {var}={raw:?})"),
                }),
            }
        }
        let raw = builder
            .build()
            .map_err(|e| fail("(syntax)", e.to_string()))?;
        let tree: serde_json::Value = raw
            .try_deserialize()
            .map_err(|e| fail("(file)", e.to_string()))?;
        let (cfg, found) = deserialize_collecting::<Config>(tree);
        problems.extend(found);
        if let Some(cfg) = &cfg {
            problems.extend(cfg.validate());
        }
        // One problem per key, and say when the environment set it.
        let mut seen = HashSet::new();
        problems.retain(|p| seen.insert(p.key.clone()));
        for p in &mut problems {
            if let Some((_, var)) = from_env.iter().find(|(k, _)| *k == p.key) {
                p.reason = format!("{} (set by {var})", p.reason);
            }
        }
        match cfg {
            Some(cfg) if problems.is_empty() => Ok(cfg),
            _ => Err(ConfigError { file, problems }),
        }
    }

    /// Read `path` with the process environment.
    pub fn load(path: &Path) -> Result<Config, ConfigError> {
        Self::load_with_env(path, &|k| std::env::var(k).ok())
    }

    /// Every problem of this configuration (empty when it is usable): ranges of the seed,
    /// duplicate names, addresses, references between sections.
    pub fn validate(&self) -> Vec<ConfigProblem> {
        let mut p = Vec::new();
        let mut bad = |key: String, reason: &str| {
            p.push(ConfigProblem {
                key,
                reason: reason.to_string(),
            })
        };
        if self.api_base_url != "embedded" {
            if let Err(why) = check_url(&self.api_base_url) {
                bad(
                    "api_base_url".into(),
                    &format!("must be \"embedded\" or an http(s):// URL: {why}"),
                );
            }
        }
        if self.smsc_name.trim().is_empty() {
            bad("smsc_name".into(), "must not be empty");
        }
        if !(1..=60_000).contains(&self.smpp_poll_interval) {
            bad("smpp_poll_interval".into(), "must be 1..=60000 ms");
        }
        if !(100..=3_600_000).contains(&self.cache_flush_interval) {
            bad("cache_flush_interval".into(), "must be 100..=3600000 ms");
        }
        if !(1..=100).contains(&self.cache_max_retry_attempts) {
            bad("cache_max_retry_attempts".into(), "must be 1..=100");
        }
        if !(1..=10).contains(&self.cache_backoff_multiplier) {
            bad("cache_backoff_multiplier".into(), "must be 1..=10");
        }
        if self
            .cache_storage_type
            .parse::<retry_cache::StorageKind>()
            .is_err()
        {
            bad(
                "cache_storage_type".into(),
                "must be \"disk\" or \"memory\" (or the seed's \"disc_copies\", \"ram_copies\")",
            );
        }
        if self.data_dir.as_os_str().is_empty() {
            bad("data_dir".into(), "must not be empty");
        }
        if !(100..=600_000).contains(&self.core_timeout_ms) {
            bad("core_timeout_ms".into(), "must be 100..=600000 ms");
        }
        if !(1..=600).contains(&self.shutdown_timeout) {
            bad("shutdown_timeout".into(), "must be 1..=600 s");
        }
        if !(16..=1_000_000).contains(&self.max_pdu_len) {
            bad("max_pdu_len".into(), "must be 16..=1000000 octets");
        }
        if !(1..=10_000).contains(&self.listen.max_connections) {
            bad("listen.max_connections".into(), "must be 1..=10000");
        }
        if !(1..=3600).contains(&self.listen.bind_timeout) {
            bad("listen.bind_timeout".into(), "must be 1..=3600 s");
        }
        // Addresses: each must be an IP literal, and no two listeners may share one.
        let mut listeners: Vec<(&str, IpAddr, u16)> = Vec::new();
        let embedded = self.api_base_url == "embedded";
        for (key, host, port, used) in [
            ("listen", &self.listen.host, self.listen.port, true),
            (
                "metrics",
                &self.metrics.host,
                self.metrics.port,
                self.metrics.enabled,
            ),
            (
                "admin",
                &self.admin.host,
                self.admin.port,
                self.admin.enabled,
            ),
            (
                "embedded_core",
                &self.embedded_core.host,
                self.embedded_core.port,
                embedded,
            ),
            (
                "send_api",
                &self.send_api.host,
                self.send_api.port,
                embedded && self.send_api.enabled && !self.api_clients.is_empty(),
            ),
        ] {
            match host.parse::<IpAddr>() {
                Err(_) => bad(
                    format!("{key}.host"),
                    "must be an IP address (e.g. 0.0.0.0, 127.0.0.1, ::)",
                ),
                Ok(ip) if used && port != 0 => {
                    if let Some((other, _, _)) = listeners.iter().find(|(_, oip, oport)| {
                        *oport == port
                            && (*oip == ip || oip.is_unspecified() || ip.is_unspecified())
                    }) {
                        bad(
                            format!("{key}.port"),
                            &format!("{host}:{port} is already used by [{other}]"),
                        );
                    }
                    listeners.push((key, ip, port));
                }
                Ok(_) => {}
            }
        }
        if let Some(sim) = &self.simulator {
            match sim.listen.parse::<std::net::SocketAddr>() {
                Err(_) => bad(
                    "simulator.listen".into(),
                    "must be IP:port, e.g. 127.0.0.1:2776",
                ),
                Ok(a) => {
                    if let Some((other, _, _)) = listeners.iter().find(|(_, ip, port)| {
                        *port == a.port() && (*ip == a.ip() || ip.is_unspecified())
                    }) {
                        bad(
                            "simulator.listen".into(),
                            &format!("{a} is already used by [{other}]"),
                        );
                    }
                }
            }
            if sim
                .control
                .as_deref()
                .is_some_and(|c| c.parse::<std::net::SocketAddr>().is_err())
            {
                bad(
                    "simulator.control".into(),
                    "must be IP:port, e.g. 127.0.0.1:2777",
                );
            }
        }
        if let Some(t) = &self.listen.tls {
            let tls_host = t.host.as_deref().unwrap_or(&self.listen.host);
            match tls_host.parse::<IpAddr>() {
                Err(_) => bad("listen.tls.host".into(), "must be an IP address"),
                Ok(ip) if t.port != 0 => {
                    if let Some((other, _, _)) = listeners.iter().find(|(_, oip, oport)| {
                        *oport == t.port
                            && (*oip == ip || oip.is_unspecified() || ip.is_unspecified())
                    }) {
                        bad(
                            "listen.tls.port".into(),
                            &format!("{tls_host}:{} is already used by [{other}]", t.port),
                        );
                    }
                }
                Ok(_) => bad("listen.tls.port".into(), "must be 1..=65535"),
            }
            let mut file_bad = |key: &str, why: &str| bad(key.to_string(), why);
            check_file(&mut file_bad, "listen.tls.cert_file", &t.cert_file);
            check_file(&mut file_bad, "listen.tls.key_file", &t.key_file);
            if let Some(ca) = &t.client_ca_file {
                check_file(&mut file_bad, "listen.tls.client_ca_file", ca);
            }
            let files = smpp_session::ServerTlsFiles {
                cert_file: t.cert_file.clone(),
                key_file: t.key_file.clone(),
                client_ca_file: t.client_ca_file.clone(),
            };
            if files_exist(&[
                Some(&t.cert_file),
                Some(&t.key_file),
                t.client_ca_file.as_ref(),
            ]) {
                if let Err(e) = smpp_session::tls::server_config(&files) {
                    bad("listen.tls".into(), &e.to_string());
                }
            }
        }
        match (&self.admin.tls_cert_file, &self.admin.tls_key_file) {
            (None, None) => {}
            (Some(_), None) | (None, Some(_)) => bad(
                "admin.tls_key_file".into(),
                "admin.tls_cert_file and admin.tls_key_file go together",
            ),
            (Some(cert), Some(key)) => {
                let mut file_bad = |key: &str, why: &str| bad(key.to_string(), why);
                check_file(&mut file_bad, "admin.tls_cert_file", cert);
                check_file(&mut file_bad, "admin.tls_key_file", key);
                if files_exist(&[Some(cert), Some(key)]) {
                    if let Err(e) =
                        smpp_session::tls::server_config(&self.admin.tls_files().expect("both set"))
                    {
                        bad("admin.tls_cert_file".into(), &e.to_string());
                    }
                }
            }
        }
        if self.admin.username.is_some() != self.admin.password.is_some() {
            bad(
                "admin.password".into(),
                "admin.username and admin.password go together",
            );
        }
        if self
            .admin
            .token
            .as_deref()
            .is_some_and(|t| t.trim().len() < 16)
        {
            bad("admin.token".into(), "must be at least 16 characters");
        }
        if !matches!(self.log.format.as_str(), "text" | "json") {
            bad("log.format".into(), "must be \"text\" or \"json\"");
        }
        if tracing_subscriber::EnvFilter::try_new(&self.log.level).is_err() {
            bad(
                "log.level".into(),
                "not a tracing filter (e.g. \"info\" or \"info,smpp_session=debug\")",
            );
        }
        if !(10..=100_000).contains(&self.log.ring_size) {
            bad("log.ring_size".into(), "must be 10..=100000 records");
        }
        let mut names = HashSet::new();
        for (i, b) in self.binds.iter().enumerate() {
            for (field, reason) in b.problems() {
                bad(format!("binds[{i}].{field}"), &reason);
            }
            if !b.name.is_empty() && !names.insert(b.name.clone()) {
                bad(
                    format!("binds[{i}].name"),
                    "duplicate peer name (names are unique among [[binds]] and [[server_binds]])",
                );
            }
        }
        let mut system_ids = HashSet::new();
        for (i, b) in self.server_binds.iter().enumerate() {
            for (field, reason) in b.problems() {
                bad(format!("server_binds[{i}].{field}"), &reason);
            }
            if !b.name.is_empty() && !names.insert(b.name.clone()) {
                bad(
                    format!("server_binds[{i}].name"),
                    "duplicate peer name (names are unique among [[binds]] and [[server_binds]])",
                );
            }
            if !b.system_id.is_empty() && !system_ids.insert(b.system_id.clone()) {
                bad(
                    format!("server_binds[{i}].system_id"),
                    "duplicate system_id among [[server_binds]] (a bind could not tell them apart)",
                );
            }
        }
        for (i, r) in self.routes.iter().enumerate() {
            if !self.binds.iter().any(|b| b.name == r.dest_smsc) {
                bad(
                    format!("routes[{i}].dest_smsc"),
                    "no [[binds]] entry has this name",
                );
            }
        }
        for (i, r) in self.mo_routes.iter().enumerate() {
            if !self.server_binds.iter().any(|b| b.name == r.source_smsc) {
                bad(
                    format!("mo_routes[{i}].source_smsc"),
                    "no [[server_binds]] entry has this name",
                );
            }
        }
        if !(1..=100).contains(&self.send_api.callback_max_attempts) {
            bad("send_api.callback_max_attempts".into(), "must be 1..=100");
        }
        if !(1..=300).contains(&self.send_api.callback_retry_interval) {
            bad(
                "send_api.callback_retry_interval".into(),
                "must be 1..=300 s",
            );
        }
        if !(1..=300).contains(&self.send_api.callback_timeout) {
            bad("send_api.callback_timeout".into(), "must be 1..=300 s");
        }
        if !self.api_clients.is_empty() && self.api_base_url != "embedded" {
            bad("api_clients".into(), "the send API is served by the embedded core: only with api_base_url = \"embedded\"");
        }
        if let Err(e) = self.embedded_core_config().validate() {
            bad(e.field, &e.reason);
        }
        p
    }

    /// The embedded core's configuration: routes, tuning, and the send API's clients, limits
    /// and the client binds a send may name (every `[[binds]]` name).
    pub fn embedded_core_config(&self) -> embedded_core::EmbeddedConfig {
        embedded_core::EmbeddedConfig {
            routes: self
                .routes
                .iter()
                .map(|r| embedded_core::Route {
                    prefix: r.prefix.clone(),
                    dest_smsc: r.dest_smsc.clone(),
                })
                .collect(),
            mo_routes: self
                .mo_routes
                .iter()
                .map(|r| embedded_core::MoRoute {
                    prefix: r.prefix.clone(),
                    source_smsc: r.source_smsc.clone(),
                })
                .collect(),
            lease: Duration::from_secs(self.embedded_core.lease_seconds.max(1)),
            max_attempts: self.embedded_core.max_attempts,
            api_clients: self.api_clients.clone(),
            max_segments: self.send_api.max_segments,
            known_dest_smsc: self.binds.iter().map(|b| b.name.clone()).collect(),
            callback_max_attempts: self.send_api.callback_max_attempts,
            callback_retry_base: Duration::from_secs(self.send_api.callback_retry_interval),
            callback_timeout: Duration::from_secs(self.send_api.callback_timeout),
            ..embedded_core::EmbeddedConfig::default()
        }
    }

    /// The core's retry cache storage is memory only.
    pub fn cache_in_memory(&self) -> bool {
        self.cache_storage() == retry_cache::StorageKind::Memory
    }

    /// The retry cache's storage type (`cache_storage_type`; disk when unparsable, which
    /// [`validate`](Self::validate) reports).
    pub fn cache_storage(&self) -> retry_cache::StorageKind {
        self.cache_storage_type.parse().unwrap_or_default()
    }

    /// Whether the peer named `name` exists (client or server).
    pub fn has_peer(&self, name: &str) -> bool {
        self.binds.iter().any(|b| b.name == name)
            || self.server_binds.iter().any(|b| b.name == name)
    }
}

impl ClientBind {
    /// The cap of the doubling wait after refused binds, s: `reconnect_max_interval`, or
    /// [`DEFAULT_RECONNECT_MAX`] (at least `reconnect_interval`) when unset.
    pub fn reconnect_cap(&self) -> u64 {
        self.reconnect_max_interval
            .unwrap_or(DEFAULT_RECONNECT_MAX.max(self.reconnect_interval))
    }

    /// This bind's own problems, keyed by field (`port`, `tps_limit`…). Cross-peer checks
    /// (duplicate names) are [`Config::validate`]'s.
    pub fn problems(&self) -> Vec<(String, String)> {
        let mut p = Vec::new();
        let mut bad = |f: &str, r: &str| p.push((f.to_string(), r.to_string()));
        check_name(&mut bad, &self.name);
        if self.mode.as_deref().is_some_and(|m| m != "client") {
            bad(
                "mode",
                "a [[binds]] entry is always mode \"client\" (partners go in [[server_binds]])",
            );
        }
        if let Err(why) = check_host(&self.host) {
            bad("host", &why);
        }
        if self.port == 0 {
            bad("port", "must be 1..=65535");
        }
        if self.system_id.is_empty() {
            bad("system_id", "must not be empty");
        }
        // No length check on system_id/password: SMPP 3.4 says 15/8 characters, but carriers
        // issue longer ones and expect them sent as given. NUL cannot be sent in a C-string.
        for (f, v) in [
            ("system_id", &self.system_id),
            ("password", &self.password),
            ("system_type", &self.system_type),
            ("address_range", &self.address_range),
        ] {
            if v.contains('\0') {
                bad(f, "must not contain NUL");
            }
        }
        if self.addr_ton > 6 {
            bad("addr_ton", "must be 0..=6");
        }
        if self.addr_npi > 18 {
            bad("addr_npi", "must be 0..=18");
        }
        if !matches!(self.interface_version, 0x33 | 0x34 | 0x50) {
            bad(
                "interface_version",
                "must be 51 (0x33), 52 (0x34, SMPP 3.4) or 80 (0x50, SMPP 5.0)",
            );
        }
        check_peer_common(
            &mut bad,
            self.tps_limit,
            self.queue_check_frequency,
            self.enquire_link_interval,
            self.cache_max_size,
            self.cache_retry_interval,
            self.window_size,
            self.response_timeout,
        );
        if !(1..=3600).contains(&self.reconnect_interval) {
            bad("reconnect_interval", "must be 1..=3600 s");
        }
        if !(1..=600).contains(&self.bind_timeout) {
            bad("bind_timeout", "must be 1..=600 s");
        }
        if !(1..=3600).contains(&self.connect_timeout) {
            bad("connect_timeout", "must be 1..=3600 s");
        }
        if let Some(max) = self.reconnect_max_interval {
            if max < self.reconnect_interval || max > 86_400 {
                bad(
                    "reconnect_max_interval",
                    "must be at least reconnect_interval and at most 86400 s",
                );
            }
        }
        check_session_timers(
            &mut bad,
            &SessionTimers {
                response_timeout: self.response_timeout,
                enquire_link_timeout: self.enquire_link_timeout,
                drain_timeout: self.drain_timeout,
                unbind_timeout: self.unbind_timeout,
                resend_attempts: self.resend_attempts,
                throttle_resends: self.throttle_resends,
            },
        );
        if self.tls {
            if self.tls_cert_file.is_some() != self.tls_key_file.is_some() {
                bad("tls_key_file", "tls_cert_file and tls_key_file go together");
            }
            for (key, f) in [
                ("tls_ca_file", &self.tls_ca_file),
                ("tls_cert_file", &self.tls_cert_file),
                ("tls_key_file", &self.tls_key_file),
            ] {
                if let Some(f) = f {
                    check_file(&mut bad, key, f);
                }
            }
            if self
                .tls_server_name
                .as_deref()
                .is_some_and(|n| n.trim().is_empty())
            {
                bad("tls_server_name", "must not be empty");
            } else if files_exist(&[
                self.tls_ca_file.as_ref(),
                self.tls_cert_file.as_ref(),
                self.tls_key_file.as_ref(),
            ]) {
                let files = smpp_session::ClientTlsFiles {
                    ca_file: self.tls_ca_file.clone(),
                    cert_file: self.tls_cert_file.clone(),
                    key_file: self.tls_key_file.clone(),
                };
                if let Err(e) = smpp_session::ClientTls::new(
                    &files,
                    self.tls_server_name.as_deref().unwrap_or(&self.host),
                ) {
                    bad("tls", &e.to_string());
                }
            }
        } else if self.tls_ca_file.is_some()
            || self.tls_cert_file.is_some()
            || self.tls_key_file.is_some()
            || self.tls_server_name.is_some()
        {
            // Credentials would go out in clear text while the operator believes them protected.
            bad(
                "tls",
                "tls_* keys are set but tls = false: set tls = true or remove them",
            );
        }
        p
    }
}

impl ServerBind {
    /// This partner's own problems, keyed by field (`ip_whitelist[0]`, `tps_limit`…).
    pub fn problems(&self) -> Vec<(String, String)> {
        let mut p = Vec::new();
        let mut bad = |f: &str, r: &str| p.push((f.to_string(), r.to_string()));
        check_name(&mut bad, &self.name);
        if self.system_id.is_empty() {
            bad("system_id", "must not be empty");
        }
        if self.password.is_empty() {
            bad(
                "password",
                "must not be empty (a partner without a password could be anyone)",
            );
        }
        for (f, v) in [("system_id", &self.system_id), ("password", &self.password)] {
            if v.contains('\0') {
                bad(f, "must not contain NUL");
            }
        }
        if self.allowed_bind_types.is_empty() {
            bad(
                "allowed_bind_types",
                "must allow at least one of transmitter, receiver, transceiver",
            );
        }
        for (j, net) in self.ip_whitelist.iter().enumerate() {
            if parse_net(net).is_none() {
                bad(
                    &format!("ip_whitelist[{j}]"),
                    &format!(
                        "{net:?} is not an IP address or CIDR (e.g. 192.168.1.0/24, 10.50.1.100)"
                    ),
                );
            }
        }
        for (j, pat) in self.source_address_whitelist.iter().enumerate() {
            if pat.is_empty() || pat.trim_end_matches('*').contains('*') || pat == "*" {
                bad(
                    &format!("source_address_whitelist[{j}]"),
                    "an exact address or \"prefix*\" (one '*', at the end, after a prefix)",
                );
            }
        }
        check_peer_common(
            &mut bad,
            self.tps_limit,
            self.queue_check_frequency,
            self.enquire_link_interval,
            self.cache_max_size,
            self.cache_retry_interval,
            self.window_size,
            self.response_timeout,
        );
        if !(1..=1000).contains(&self.max_sessions) {
            bad("max_sessions", "must be 1..=1000");
        }
        if self.inactivity_timeout > 86_400 {
            bad("inactivity_timeout", "must be 0..=86400 s");
        }
        check_session_timers(
            &mut bad,
            &SessionTimers {
                response_timeout: self.response_timeout,
                enquire_link_timeout: self.enquire_link_timeout,
                drain_timeout: self.drain_timeout,
                unbind_timeout: self.unbind_timeout,
                resend_attempts: self.resend_attempts,
                throttle_resends: self.throttle_resends,
            },
        );
        p
    }
}

/// Peer names end up in URLs, metric labels and `{hostname}_{name}` frontend names.
fn check_name(bad: &mut impl FnMut(&str, &str), name: &str) {
    if name.is_empty() {
        bad("name", "must not be empty");
    } else if name.len() > 64
        || !name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.'))
    {
        bad(
            "name",
            "must be 1 to 64 of A-Z a-z 0-9 _ - . (it names metrics, URLs and frontends)",
        );
    }
}

/// A carrier's host: an IP literal or a DNS name (RFC 1123 labels).
fn check_host(host: &str) -> Result<(), String> {
    if host.is_empty() {
        return Err("must not be empty".into());
    }
    if host.parse::<IpAddr>().is_ok() {
        return Ok(());
    }
    let label_ok = |l: &str| {
        !l.is_empty()
            && l.len() <= 63
            && !l.starts_with('-')
            && !l.ends_with('-')
            && l.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
    };
    if host.len() <= 253 && host.trim_end_matches('.').split('.').all(label_ok) {
        Ok(())
    } else {
        Err(format!("{host:?} is neither an IP address nor a host name"))
    }
}

/// An `http(s)://host[:port][/path]` URL.
fn check_url(url: &str) -> Result<(), String> {
    let parsed = reqwest::Url::parse(url).map_err(|e| e.to_string())?;
    if !matches!(parsed.scheme(), "http" | "https") {
        return Err(format!("scheme {:?} is not http or https", parsed.scheme()));
    }
    if parsed.host_str().is_none_or(str::is_empty) {
        return Err("no host".into());
    }
    Ok(())
}

#[allow(clippy::too_many_arguments)]
fn check_peer_common(
    bad: &mut impl FnMut(&str, &str),
    tps: u32,
    qcf: Option<u64>,
    enquire: u64,
    cache_size: u64,
    cache_retry: u64,
    window: usize,
    response_timeout: u64,
) {
    if !(1..=10_000).contains(&tps) {
        bad("tps_limit", "must be 1..=10000");
    }
    if let Some(q) = qcf {
        if !(100..=10_000).contains(&q) {
            bad("queue_check_frequency", "must be 100..=10000 ms");
        }
    }
    if enquire > 3600 {
        bad("enquire_link_interval", "must be 0..=3600 s");
    }
    if !(1..=1_000_000).contains(&cache_size) {
        bad("cache_max_size", "must be 1..=1000000");
    }
    if !(1..=86_400).contains(&cache_retry) {
        bad("cache_retry_interval", "must be 1..=86400 s");
    }
    if !(1..=10_000).contains(&window) {
        bad("window_size", "must be 1..=10000");
    }
    if !(1..=3600).contains(&response_timeout) {
        bad("response_timeout", "must be 1..=3600 s");
    }
}

/// Deserialize `tree` into `T`, collecting every unknown key and every value of the wrong
/// type instead of stopping at the first: each offending key is reported, taken out (so its
/// default applies) and deserialization tried again. A missing required key is reported and
/// filled with an empty string so that the rest can still be checked. The value comes back
/// with the problems so it can be validated further; it is usable only when there are none.
/// `None` when the problems leave nothing to check.
pub fn deserialize_collecting<T: serde::de::DeserializeOwned>(
    mut tree: serde_json::Value,
) -> (Option<T>, Vec<ConfigProblem>) {
    let mut problems: Vec<ConfigProblem> = Vec::new();
    // Each round removes or fills one key, so the number of rounds is bounded by the keys.
    for _ in 0..500 {
        let err = match serde_path_to_error::deserialize::<_, T>(&tree) {
            Ok(v) => return (Some(v), problems),
            Err(e) => e,
        };
        let mut path: Vec<PathPart> = err
            .path()
            .iter()
            .filter_map(PathPart::from_segment)
            .collect();
        let msg = err.inner().to_string();
        let msg = msg.split(" at line ").next().unwrap_or(&msg).to_string();
        let fixed = if let Some(field) = quoted_after(&msg, "unknown field `") {
            if path.last() != Some(&PathPart::Key(field.clone())) {
                path.push(PathPart::Key(field.clone()));
            }
            let hint = closest(&field, &expected_list(&msg))
                .map(|c| format!("; did you mean `{c}`?"))
                .unwrap_or_default();
            problems.push(ConfigProblem {
                key: render(&path),
                reason: format!("unknown key{hint}"),
            });
            remove_at(&mut tree, &path)
        } else if let Some(field) = quoted_after(&msg, "missing field `") {
            if path.last() != Some(&PathPart::Key(field.clone())) {
                path.push(PathPart::Key(field.clone()));
            }
            problems.push(ConfigProblem {
                key: render(&path),
                reason: "required key is missing".into(),
            });
            set_at(&mut tree, &path, serde_json::Value::String(String::new()))
        } else {
            let reason = msg
                .replace("invalid type:", "wrong type:")
                .replace("invalid value:", "out of range:");
            problems.push(ConfigProblem {
                key: render(&path),
                reason,
            });
            remove_at(&mut tree, &path)
        };
        if !fixed || path.is_empty() {
            break;
        }
        // The same key failing twice means our repair did not help: stop here.
        let last = problems.last().map(|p| p.key.clone()).unwrap_or_default();
        if problems.iter().filter(|p| p.key == last).count() > 1 {
            break;
        }
    }
    (None, problems)
}

/// One step of a key path: a table key or an array index.
#[derive(Clone, Debug, PartialEq, Eq)]
enum PathPart {
    Key(String),
    Index(usize),
}

impl PathPart {
    fn from_segment(s: &serde_path_to_error::Segment) -> Option<Self> {
        match s {
            serde_path_to_error::Segment::Map { key } => Some(PathPart::Key(key.clone())),
            serde_path_to_error::Segment::Seq { index } => Some(PathPart::Index(*index)),
            serde_path_to_error::Segment::Enum { variant } => Some(PathPart::Key(variant.clone())),
            serde_path_to_error::Segment::Unknown => None,
        }
    }
}

/// `binds[0].port`, as the file's keys are written.
fn render(path: &[PathPart]) -> String {
    let mut s = String::new();
    for p in path {
        match p {
            PathPart::Key(k) => {
                if !s.is_empty() {
                    s.push('.');
                }
                s.push_str(k);
            }
            PathPart::Index(i) => s.push_str(&format!("[{i}]")),
        }
    }
    if s.is_empty() {
        "(file)".into()
    } else {
        s
    }
}

fn parent_mut<'a>(
    tree: &'a mut serde_json::Value,
    path: &[PathPart],
) -> Option<&'a mut serde_json::Value> {
    let mut cur = tree;
    for p in path {
        cur = match p {
            PathPart::Key(k) => cur.get_mut(k.as_str())?,
            PathPart::Index(i) => cur.get_mut(*i)?,
        };
    }
    Some(cur)
}

fn remove_at(tree: &mut serde_json::Value, path: &[PathPart]) -> bool {
    let Some((last, parent)) = path.split_last() else {
        return false;
    };
    match (parent_mut(tree, parent), last) {
        (Some(serde_json::Value::Object(m)), PathPart::Key(k)) => m.remove(k).is_some(),
        (Some(serde_json::Value::Array(a)), PathPart::Index(i)) if *i < a.len() => {
            a.remove(*i);
            true
        }
        _ => false,
    }
}

fn set_at(tree: &mut serde_json::Value, path: &[PathPart], v: serde_json::Value) -> bool {
    let Some((PathPart::Key(k), parent)) = path.split_last() else {
        return false;
    };
    match parent_mut(tree, parent) {
        Some(serde_json::Value::Object(m)) => {
            m.insert(k.clone(), v);
            true
        }
        _ => false,
    }
}

/// The text between `prefix` and the next backtick.
pub(crate) fn quoted_after(msg: &str, prefix: &str) -> Option<String> {
    let rest = &msg[msg.find(prefix)? + prefix.len()..];
    Some(rest[..rest.find('`')?].to_string())
}

/// serde's "expected one of `a`, `b`" list.
fn expected_list(msg: &str) -> Vec<String> {
    msg.split_once("expected")
        .map(|(_, rest)| {
            rest.split('`')
                .skip(1)
                .step_by(2)
                .map(str::to_string)
                .collect()
        })
        .unwrap_or_default()
}

/// The candidate closest to `word` by edit distance, when it is close enough to be a typo.
fn closest(word: &str, candidates: &[String]) -> Option<String> {
    fn distance(a: &str, b: &str) -> usize {
        let b: Vec<char> = b.chars().collect();
        let mut row: Vec<usize> = (0..=b.len()).collect();
        for (i, ca) in a.chars().enumerate() {
            let mut prev = row[0];
            row[0] = i + 1;
            for (j, cb) in b.iter().enumerate() {
                let cur = row[j + 1];
                row[j + 1] = (prev + usize::from(ca != *cb))
                    .min(row[j] + 1)
                    .min(row[j + 1] + 1);
                prev = cur;
            }
        }
        row[b.len()]
    }
    candidates
        .iter()
        .map(|c| (distance(word, c), c))
        .filter(|(d, c)| *d <= 2.max(c.len() / 4))
        .min_by_key(|(d, _)| *d)
        .map(|(_, c)| c.clone())
}

/// The timers and counts both kinds of peer share, for validation.
struct SessionTimers {
    response_timeout: u64,
    enquire_link_timeout: u64,
    drain_timeout: u64,
    unbind_timeout: u64,
    resend_attempts: u32,
    throttle_resends: u32,
}

fn check_session_timers(bad: &mut impl FnMut(&str, &str), t: &SessionTimers) {
    for (key, v) in [
        ("response_timeout", t.response_timeout),
        ("enquire_link_timeout", t.enquire_link_timeout),
    ] {
        if !(1..=3600).contains(&v) {
            bad(key, "must be 1..=3600 s");
        }
    }
    for (key, v) in [
        ("drain_timeout", t.drain_timeout),
        ("unbind_timeout", t.unbind_timeout),
    ] {
        if !(1..=300).contains(&v) {
            bad(key, "must be 1..=300 s");
        }
    }
    if t.resend_attempts > 10 {
        bad("resend_attempts", "must be 0..=10");
    }
    if t.throttle_resends > 100 {
        bad("throttle_resends", "must be 0..=100");
    }
}

fn files_exist(files: &[Option<&PathBuf>]) -> bool {
    files.iter().flatten().all(|f| f.is_file())
}

fn check_file(bad: &mut impl FnMut(&str, &str), key: &str, path: &Path) {
    match std::fs::metadata(path) {
        Ok(m) if m.is_file() => {}
        Ok(_) => bad(key, "is not a file"),
        Err(_) => bad(key, "no such file (or not readable)"),
    }
}

/// Parse a whitelist entry: an IP (as /32 or /128) or a CIDR.
pub fn parse_net(s: &str) -> Option<ipnet::IpNet> {
    let s = s.trim();
    s.parse::<ipnet::IpNet>()
        .ok()
        .or_else(|| s.parse::<IpAddr>().ok().map(ipnet::IpNet::from))
}

/// Whether `source` passes the seed's source address whitelist: empty allows all; an entry
/// ending in `*` matches by prefix; any other entry matches exactly, case-sensitive.
pub fn source_allowed(whitelist: &[String], source: &str) -> bool {
    whitelist.is_empty()
        || whitelist.iter().any(|p| match p.strip_suffix('*') {
            Some(prefix) => source.starts_with(prefix),
            None => p == source,
        })
}

/// Whether `ip` passes an IP whitelist (empty allows all). IPv4-mapped IPv6 addresses are
/// compared as IPv4.
pub fn ip_allowed(whitelist: &[String], ip: IpAddr) -> bool {
    let ip = match ip {
        IpAddr::V6(v6) => v6
            .to_ipv4_mapped()
            .map(IpAddr::V4)
            .unwrap_or(IpAddr::V6(v6)),
        v4 => v4,
    };
    whitelist.is_empty()
        || whitelist
            .iter()
            .filter_map(|s| parse_net(s))
            .any(|n| n.contains(&ip))
}

/// Seconds as a `Duration`, `0` meaning "off".
pub fn secs_opt(s: u64) -> Option<Duration> {
    (s > 0).then(|| Duration::from_secs(s))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(dir: &Path, text: &str) -> PathBuf {
        let p = dir.join("t.toml");
        std::fs::write(&p, text).unwrap();
        p
    }

    fn tmpdir(name: &str) -> PathBuf {
        let d = std::env::temp_dir().join(format!("smppgw-cfg-{name}-{}", std::process::id()));
        let _ = std::fs::create_dir_all(&d);
        d
    }

    const MINIMAL: &str = r#"
[[binds]]
name = "carrier"
host = "127.0.0.1"
system_id = "gw"
password = "pw"

[[server_binds]]
name = "partner"
system_id = "p"
password = "x"
"#;

    #[test]
    fn defaults_are_the_seeds() {
        let d = tmpdir("defaults");
        let c = Config::load_with_env(&write(&d, MINIMAL), &|_| None).unwrap();
        assert_eq!(c.api_base_url, "embedded");
        assert_eq!(c.smsc_name, "smpp_gateway");
        assert_eq!(c.smpp_poll_interval, 100);
        assert_eq!(c.cache_flush_interval, 10_000);
        assert_eq!(c.cache_max_retry_attempts, 10);
        assert_eq!(c.cache_backoff_multiplier, 2);
        assert_eq!(
            (
                c.listen.host.as_str(),
                c.listen.port,
                c.listen.max_connections
            ),
            ("0.0.0.0", 2775, 100)
        );
        assert_eq!(c.metrics.port, 4000);
        assert_eq!(c.admin.port, 8087);
        let b = &c.binds[0];
        assert_eq!(
            (
                b.bind_type,
                b.port,
                b.tps_limit,
                b.enquire_link_interval,
                b.cache_max_size,
                b.cache_retry_interval
            ),
            (BindType::Transceiver, 2775, 100, 60, 10_000, 60)
        );
        assert!(b.enabled && !b.cache_enabled);
        assert_eq!(c.server_binds[0].allowed_bind_types.len(), 3);
    }

    #[test]
    fn environment_overrides_globals() {
        let d = tmpdir("env");
        let env = |k: &str| match k {
            "API_BASE_URL" => Some("https://core.example:8443".to_string()),
            "SMPP_POLL_INTERVAL" => Some("250".to_string()),
            "VERIFY_SSL_PEER" => Some("true".to_string()),
            "MNESIA_STORAGE_TYPE" => Some("ram_copies".to_string()),
            _ => None,
        };
        let c = Config::load_with_env(&write(&d, MINIMAL), &env).unwrap();
        assert_eq!(c.api_base_url, "https://core.example:8443");
        assert_eq!(c.smpp_poll_interval, 250);
        assert!(c.verify_ssl_peer);
        assert!(c.cache_in_memory());
    }

    #[test]
    fn problems_name_their_keys() {
        let d = tmpdir("bad");
        let text = format!(
            "{MINIMAL}\n[[server_binds]]\nname = \"partner\"\nsystem_id = \"q\"\npassword = \"x\"\nip_whitelist = [\"10.0.0.0/33\"]\ntps_limit = 0\n[[routes]]\nprefix = \"33\"\ndest_smsc = \"nobody\"\n"
        );
        let err = Config::load_with_env(&write(&d, &text), &|_| None).unwrap_err();
        let keys: Vec<&str> = err.problems.iter().map(|p| p.key.as_str()).collect();
        assert!(keys.contains(&"server_binds[1].name"), "{keys:?}");
        assert!(
            keys.contains(&"server_binds[1].ip_whitelist[0]"),
            "{keys:?}"
        );
        assert!(keys.contains(&"server_binds[1].tps_limit"), "{keys:?}");
        assert!(keys.contains(&"routes[0].dest_smsc"), "{keys:?}");
        assert!(err.to_string().contains("t.toml"));
    }

    #[test]
    fn unknown_key_and_wrong_type_are_refused() {
        let d = tmpdir("unknown");
        let err = Config::load_with_env(&write(&d, "smsc_nam = \"x\"\n"), &|_| None).unwrap_err();
        assert_eq!(err.problems.len(), 1, "{err}");
        assert_eq!(err.problems[0].key, "smsc_nam");
        assert!(
            err.problems[0].reason.contains("did you mean `smsc_name`"),
            "{err}"
        );
        let err =
            Config::load_with_env(&write(&d, "[listen]\nport = \"abc\"\n"), &|_| None).unwrap_err();
        assert_eq!(err.problems[0].key, "listen.port", "{err}");
        assert!(err.problems[0].reason.contains("wrong type"), "{err}");
    }

    /// `[admin] tls_cert_file`/`tls_key_file`: both or neither, existing files, a key that
    /// fits the certificate; with both, the CLI's base URL is https.
    #[test]
    fn admin_tls_files_are_checked() {
        let d = tmpdir("admin-tls");
        let problems = |text: &str| -> Vec<(String, String)> {
            match Config::load_with_env(&write(&d, text), &|_| None) {
                Ok(_) => vec![],
                Err(e) => e
                    .problems
                    .iter()
                    .map(|p| (p.key.clone(), p.reason.clone()))
                    .collect(),
            }
        };
        let got = problems("[admin]\ntls_cert_file = \"/nonexistent/cert.pem\"\n");
        assert!(
            got.iter()
                .any(|(k, r)| k == "admin.tls_key_file" && r.contains("go together")),
            "{got:?}"
        );
        let got = problems("[admin]\ntls_cert_file = \"/nonexistent/cert.pem\"\ntls_key_file = \"/nonexistent/key.pem\"\n");
        assert!(
            got.iter()
                .any(|(k, r)| k == "admin.tls_cert_file" && r.contains("no such file")),
            "{got:?}"
        );
        assert!(
            got.iter()
                .any(|(k, r)| k == "admin.tls_key_file" && r.contains("no such file")),
            "{got:?}"
        );
        // A key that is not the certificate's.
        let one = rcgen::generate_simple_self_signed(vec!["127.0.0.1".to_string()]).unwrap();
        let other = rcgen::generate_simple_self_signed(vec!["127.0.0.1".to_string()]).unwrap();
        std::fs::write(d.join("cert.pem"), one.cert.pem()).unwrap();
        std::fs::write(d.join("key.pem"), one.signing_key.serialize_pem()).unwrap();
        std::fs::write(d.join("other.pem"), other.signing_key.serialize_pem()).unwrap();
        let with = |key: &str| {
            format!(
                "[admin]\ntls_cert_file = \"{}\"\ntls_key_file = \"{}\"\n",
                d.join("cert.pem").display(),
                d.join(key).display()
            )
        };
        let got = problems(&with("other.pem"));
        assert!(
            got.iter().any(|(k, _)| k == "admin.tls_cert_file"),
            "a mismatched key is refused: {got:?}"
        );
        let c = Config::load_with_env(&write(&d, &with("key.pem")), &|_| None).unwrap();
        assert_eq!(c.admin.base_url(), "https://127.0.0.1:8087");
        let plain =
            Config::load_with_env(&write(&d, "[admin]\nhost = \"0.0.0.0\"\n"), &|_| None).unwrap();
        assert_eq!(plain.admin.base_url(), "http://127.0.0.1:8087");
    }

    /// The issue's list, all in one file: every problem is reported in one pass, by key.
    #[test]
    fn every_problem_is_listed_at_once() {
        let d = tmpdir("all");
        let text = r#"
smpp_pol_interval = 100
verify_ssl_peer = "maybe"
[listen]
host = "0.0.0.0:2775"
port = 70000
[admin]
host = "127.0.0.1"
port = 4000
[metrics]
host = "127.0.0.1"
port = 4000
[[binds]]
name = "carrier"
host = "smpp carrier"
system_id = "gw"
password = "pw"
tps_limit = 0
addr_ton = 9
bind_type = "transciever"
[[binds]]
name = "carrier"
host = "10.0.0.1"
system_id = "gw"
password = "pw"
enquire_link_interval = 4000
[[server_binds]]
name = "partner"
system_id = "p"
password = "x"
ip_whitelist = ["10.0.0.0/33", "192.168.1.0/24", "not-an-ip"]
queue_check_frequency = 50
"#;
        let err = Config::load_with_env(&write(&d, text), &|_| None).unwrap_err();
        let got: Vec<(&str, &str)> = err
            .problems
            .iter()
            .map(|p| (p.key.as_str(), p.reason.as_str()))
            .collect();
        let has = |key: &str, words: &str| got.iter().any(|(k, r)| *k == key && r.contains(words));
        for (key, words) in [
            ("smpp_pol_interval", "did you mean `smpp_poll_interval`"),
            ("verify_ssl_peer", "wrong type"),
            ("listen.port", "out of range"),
            ("binds[0].bind_type", "unknown variant"),
            ("listen.host", "must be an IP address"),
            ("admin.port", "already used by [metrics]"),
            ("binds[0].host", "neither an IP address nor a host name"),
            ("binds[0].tps_limit", "1..=10000"),
            ("binds[0].addr_ton", "0..=6"),
            ("binds[1].name", "duplicate peer name"),
            ("binds[1].enquire_link_interval", "0..=3600"),
            (
                "server_binds[0].ip_whitelist[0]",
                "not an IP address or CIDR",
            ),
            (
                "server_binds[0].ip_whitelist[2]",
                "not an IP address or CIDR",
            ),
            ("server_binds[0].queue_check_frequency", "100..=10000"),
        ] {
            assert!(
                has(key, words),
                "no problem {key:?} containing {words:?} in {got:#?}"
            );
        }
        assert!(
            !got.iter()
                .any(|(k, _)| *k == "server_binds[0].ip_whitelist[1]"),
            "a good CIDR was reported: {got:#?}"
        );
        assert!(
            err.to_string()
                .starts_with(&d.join("t.toml").display().to_string()),
            "{err}"
        );
    }

    #[test]
    fn missing_required_keys_are_named_and_the_rest_still_checked() {
        let d = tmpdir("missing");
        let err = Config::load_with_env(
            &write(
                &d,
                "[[binds]]\nname = \"c\"\nsystem_id = \"s\"\npassword = \"p\"\ntps_limit = 0\n",
            ),
            &|_| None,
        )
        .unwrap_err();
        let keys: Vec<&str> = err.problems.iter().map(|p| p.key.as_str()).collect();
        assert!(keys.contains(&"binds[0].host"), "{keys:?}");
        assert!(
            err.problems
                .iter()
                .any(|p| p.key == "binds[0].host" && p.reason.contains("missing")),
            "{err}"
        );
    }

    #[test]
    fn syntax_errors_are_reported_not_panicked() {
        let d = tmpdir("syntax");
        let err = Config::load_with_env(&write(&d, "[[binds]\nname = \n"), &|_| None).unwrap_err();
        assert_eq!(err.problems[0].key, "(syntax)", "{err}");
        let err = Config::load_with_env(&d.join("absent.toml"), &|_| None).unwrap_err();
        assert_eq!(err.problems[0].reason, "no such file");
    }

    #[test]
    fn bad_environment_values_name_the_variable() {
        let d = tmpdir("badenv");
        let env = |k: &str| match k {
            "SMPP_POLL_INTERVAL" => Some("fast".to_string()),
            "VERIFY_SSL_PEER" => Some("perhaps".to_string()),
            "CACHE_MAX_RETRY_ATTEMPTS" => Some("0".to_string()),
            _ => None,
        };
        let err = Config::load_with_env(&write(&d, MINIMAL), &env).unwrap_err();
        let find = |k: &str| {
            err.problems
                .iter()
                .find(|p| p.key == k)
                .map(|p| p.reason.clone())
                .unwrap_or_default()
        };
        assert!(
            find("smpp_poll_interval").contains("SMPP_POLL_INTERVAL"),
            "{err}"
        );
        assert!(find("verify_ssl_peer").contains("not a boolean"), "{err}");
        assert!(
            find("cache_max_retry_attempts").contains("set by CACHE_MAX_RETRY_ATTEMPTS"),
            "{err}"
        );
    }

    #[test]
    fn secrets_and_logs_come_from_the_environment_too() {
        let d = tmpdir("secretenv");
        let env = |k: &str| match k {
            "SMPPGW_ADMIN_TOKEN" => Some("0123456789abcdef-token".to_string()),
            "SMPPGW_LOG_FORMAT" => Some("json".to_string()),
            "SMSC_NAME" => Some("12345".to_string()),
            _ => None,
        };
        let c = Config::load_with_env(&write(&d, MINIMAL), &env).unwrap();
        assert_eq!(c.admin.token.as_deref(), Some("0123456789abcdef-token"));
        assert_eq!(c.log.format, "json");
        assert_eq!(
            c.smsc_name, "12345",
            "a numeric-looking SMSC_NAME stays text"
        );
    }

    #[test]
    fn text_settings_per_bind() {
        let d = tmpdir("text");
        let c = Config::load_with_env(&write(&d, MINIMAL), &|_| None).unwrap();
        assert_eq!(
            c.binds[0].text_settings(),
            crate::convert::TextSettings::default()
        );
        let text = MINIMAL
            .replace("password = \"pw\"", "password = \"pw\"\ndefault_alphabet = \"latin1\"\nsplit_method = \"sar\"\nreceipt_id_format = \"hex\"")
            .replace("password = \"x\"", "password = \"x\"\nsplit_method = \"udh16\"");
        let c = Config::load_with_env(&write(&d, &text), &|_| None).unwrap();
        let t = c.binds[0].text_settings();
        assert_eq!(
            t.default_alphabet,
            smpp_codec::text::DefaultAlphabet::Latin1
        );
        assert_eq!(t.split_method, smpp_codec::segment::SplitMethod::Sar);
        assert_eq!(t.receipt_ids, smpp_codec::receipt::ReceiptIdFormat::Hex);
        assert_eq!(
            c.server_binds[0].text_settings().split_method,
            smpp_codec::segment::SplitMethod::Udh16
        );
        let bad = MINIMAL.replace(
            "password = \"pw\"",
            "password = \"pw\"\nsplit_method = \"tlv\"",
        );
        let err = Config::load_with_env(&write(&d, &bad), &|_| None).unwrap_err();
        assert!(
            err.to_string().contains("split_method") || err.to_string().contains("tlv"),
            "{err}"
        );
    }

    #[test]
    fn shipped_configurations_are_valid() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../config");
        for f in ["demo.toml", "smppgw.example.toml"] {
            let c =
                Config::load_with_env(&root.join(f), &|_| None).unwrap_or_else(|e| panic!("{e}"));
            assert!(!c.binds.is_empty() && !c.server_binds.is_empty(), "{f}");
        }
    }

    #[test]
    fn api_clients_and_send_api_are_read_and_checked_by_key() {
        let d = tmpdir("api-clients");
        let text = format!(
            "{MINIMAL}\n[send_api]\nport = 9999\nmax_segments = 4\n[[api_clients]]\nname = \"mon\"\nusername = \"mon\"\npassword = \"pw\"\nrate_limit = 5\nallowed_senders = [\"ALERTS\"]\ndest_smsc = \"carrier\"\n"
        );
        let c = Config::load_with_env(&write(&d, &text), &|_| None).unwrap();
        assert_eq!(
            (
                c.send_api.port,
                c.send_api.max_segments,
                c.send_api.host.as_str()
            ),
            (9999, 4, "127.0.0.1")
        );
        let ec = c.embedded_core_config();
        assert_eq!(ec.api_clients[0].rate_limit, Some(5.0));
        assert_eq!(ec.known_dest_smsc, vec!["carrier".to_string()]);
        assert_eq!(ec.max_segments, 4);

        let bad = format!(
            "{text}[[api_clients]]\nname = \"other\"\napi_key = \"k\"\ndest_smsc = \"nowhere\"\n"
        );
        let err = Config::load_with_env(&write(&d, &bad), &|_| None).unwrap_err();
        assert!(
            err.problems
                .iter()
                .any(|p| p.key == "api_clients[1].dest_smsc"),
            "{err}"
        );
        let bad = format!("{text}[[api_clients]]\nname = \"mon\"\napi_key = \"k\"\n");
        let err = Config::load_with_env(&write(&d, &bad), &|_| None).unwrap_err();
        assert!(
            err.problems.iter().any(|p| p.key == "api_clients[1].name"),
            "{err}"
        );
        let remote = |k: &str| (k == "API_BASE_URL").then(|| "http://core.example".to_string());
        let err = Config::load_with_env(&write(&d, &text), &remote).unwrap_err();
        assert!(err.problems.iter().any(|p| p.key == "api_clients"), "{err}");
        let err = Config::load_with_env(
            &write(
                &d,
                &format!(
                    "{text}[[api_clients]]\nname = \"x\"\napi_key = \"k2\"\npasword = \"typo\"\n"
                ),
            ),
            &|_| None,
        )
        .unwrap_err();
        assert!(err.to_string().contains("pasword"), "{err}");
    }

    #[test]
    fn source_whitelist_follows_the_seed() {
        let wl: Vec<String> = ["MyBrand", "614*", "+61400000001"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        assert!(source_allowed(&wl, "MyBrand"));
        assert!(!source_allowed(&wl, "mybrand"));
        assert!(!source_allowed(&wl, "MyBrands"));
        assert!(source_allowed(&wl, "61412345678"));
        assert!(!source_allowed(&wl, "61500000001"));
        assert!(source_allowed(&wl, "+61400000001"));
        assert!(!source_allowed(&wl, "OtherBrand"));
        assert!(source_allowed(&[], "anything"));
    }

    #[test]
    fn ip_whitelist_takes_addresses_and_cidrs() {
        let wl: Vec<String> = ["192.168.1.0/24", "10.50.1.100", "2001:db8::/32"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        assert!(ip_allowed(&wl, "192.168.1.77".parse().unwrap()));
        assert!(!ip_allowed(&wl, "192.168.2.1".parse().unwrap()));
        assert!(ip_allowed(&wl, "10.50.1.100".parse().unwrap()));
        assert!(!ip_allowed(&wl, "10.50.1.101".parse().unwrap()));
        assert!(ip_allowed(&wl, "2001:db8::1".parse().unwrap()));
        assert!(ip_allowed(&wl, "::ffff:192.168.1.5".parse().unwrap()));
        assert!(ip_allowed(&[], "8.8.8.8".parse().unwrap()));
        // A single IPv6 address is a /128; IPv6 never matches an IPv4 network and back.
        let v6: Vec<String> = ["::1", "fd00:1::/64"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        assert!(ip_allowed(&v6, "::1".parse().unwrap()));
        assert!(!ip_allowed(&v6, "::2".parse().unwrap()));
        assert!(ip_allowed(&v6, "fd00:1::abcd".parse().unwrap()));
        assert!(!ip_allowed(&v6, "fd00:2::1".parse().unwrap()));
        assert!(!ip_allowed(&v6, "127.0.0.1".parse().unwrap()));
        assert!(!ip_allowed(
            &["0.0.0.0/0".to_string()],
            "2001:db8::1".parse().unwrap()
        ));
    }

    #[test]
    fn session_keys_have_the_documented_defaults() {
        let d = tmpdir("session-defaults");
        let c = Config::load_with_env(&write(&d, MINIMAL), &|_| None).unwrap();
        assert_eq!(c.listen.tls, None);
        assert_eq!(c.listen.bind_timeout, 10);
        let b = &c.binds[0];
        assert_eq!(
            (
                b.window_size,
                b.response_timeout,
                b.enquire_link_timeout,
                b.max_consecutive_timeouts
            ),
            (100, 30, 30, 3)
        );
        assert_eq!(
            (
                b.reconnect_interval,
                b.reconnect_cap(),
                b.connect_timeout,
                b.bind_timeout
            ),
            (30, 300, 10, 10)
        );
        assert_eq!(
            (
                b.drain_timeout,
                b.unbind_timeout,
                b.inactivity_timeout,
                b.throttle_resends,
                b.resend_attempts
            ),
            (5, 5, 0, 5, 2)
        );
        assert_eq!(b.response_timeout_action, TimeoutAction::Retry);
        assert!(!b.tls && b.tls_ca_file.is_none() && b.tls_server_name.is_none());
        let s = &c.server_binds[0];
        assert_eq!(
            (
                s.window_size,
                s.response_timeout,
                s.enquire_link_timeout,
                s.max_sessions,
                s.inactivity_timeout
            ),
            (100, 30, 30, 10, 0)
        );
        assert_eq!(
            (s.tps_exceeded, s.response_timeout_action),
            (TpsExceeded::Throttle, TimeoutAction::Retry)
        );
    }

    #[test]
    fn session_and_tls_keys_are_validated_by_name() {
        let d = tmpdir("session-bad");
        let not_pem = d.join("not-a-cert.pem");
        std::fs::write(&not_pem, "hello").unwrap();
        let text = format!(
            r#"
[listen]
port = 2775
[listen.tls]
port = 2775
cert_file = "{nope}"
key_file = "{not_pem}"

[[binds]]
name = "a"
host = "h"
system_id = "s"
password = "p"
tls_ca_file = "/etc/ssl/ca.pem"
enquire_link_timeout = 0
reconnect_interval = 60
reconnect_max_interval = 30

[[binds]]
name = "b"
host = "h"
system_id = "s"
password = "p"
tls = true
tls_ca_file = "{nope}"
tls_cert_file = "{not_pem}"
interface_version = 0x40

[[server_binds]]
name = "p"
system_id = "p"
password = "x"
drain_timeout = 0
tps_exceeded = "delay"
"#,
            nope = d.join("missing.pem").display(),
            not_pem = not_pem.display()
        );
        let err = Config::load_with_env(&write(&d, &text), &|_| None).unwrap_err();
        let keys: Vec<&str> = err.problems.iter().map(|p| p.key.as_str()).collect();
        for want in [
            "listen.tls.port",
            "listen.tls.cert_file",
            "binds[0].tls",
            "binds[0].enquire_link_timeout",
            "binds[0].reconnect_max_interval",
            "binds[1].tls_ca_file",
            "binds[1].tls_key_file",
            "binds[1].interface_version",
            "server_binds[0].drain_timeout",
        ] {
            assert!(keys.contains(&want), "{want} missing from {keys:?}");
        }
        assert!(
            !keys.iter().any(|k| k.contains("tps_exceeded")),
            "delay is a valid tps_exceeded"
        );
        // An unknown value names its key.
        let err = Config::load_with_env(
            &write(
                &d,
                &format!("{MINIMAL}response_timeout_action = \"maybe\"\n"),
            ),
            &|_| None,
        )
        .unwrap_err();
        assert!(
            err.to_string().contains("response_timeout_action")
                || err.to_string().contains("maybe"),
            "{err}"
        );
        // A PEM file that exists but holds no certificate is caught before start.
        let text = format!(
            "[listen.tls]\nport = 3550\ncert_file = \"{p}\"\nkey_file = \"{p}\"\n",
            p = not_pem.display()
        );
        let err = Config::load_with_env(&write(&d, &text), &|_| None).unwrap_err();
        assert!(
            err.problems
                .iter()
                .any(|p| p.key == "listen.tls" && p.reason.contains("not-a-cert.pem")),
            "{err}"
        );
    }
}
