//! Configuration: a TOML file with the seed's key names, overridden by the seed's environment
//! variables, then validated as a whole.
//!
//! Sources, later ones winning: built-in defaults → the file → environment variables
//! (`API_BASE_URL`, `SMSC_NAME`, `SMPP_POLL_INTERVAL`, `VERIFY_SSL_PEER`, `CACHE_FLUSH_INTERVAL`,
//! `CACHE_MAX_RETRY_ATTEMPTS`, `CACHE_BACKOFF_MULTIPLIER`, `CACHE_STORAGE_TYPE` — the seed's
//! `MNESIA_STORAGE_TYPE` is accepted too). Every key is documented in
//! `config/smppgw.example.toml` and `docs/configuration.md`.

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
    /// Retry cache storage: `disk` (seed `disc_copies`) or `memory` (seed `ram_copies`).
    #[serde(default = "default_storage", alias = "mnesia_storage_type")]
    pub cache_storage_type: String,
    /// Directory of the gateway's stores (embedded core, retry cache).
    #[serde(default = "default_data_dir")]
    pub data_dir: PathBuf,
    /// Timeout of one call to the core, ms.
    #[serde(default = "default_core_timeout")]
    pub core_timeout_ms: u64,
    /// Largest PDU accepted from any peer, octets.
    #[serde(default = "default_max_pdu")]
    pub max_pdu_len: usize,
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
fn all_bind_types() -> Vec<BindType> {
    vec![BindType::Transmitter, BindType::Receiver, BindType::Transceiver]
}

impl Default for Listen {
    fn default() -> Self {
        Listen { host: default_any(), port: default_smpp_port(), max_connections: default_max_conn(), bind_timeout: default_bind_timeout() }
    }
}
impl Default for Metrics {
    fn default() -> Self {
        Metrics { enabled: true, host: default_any(), port: default_metrics_port() }
    }
}
impl Default for Admin {
    fn default() -> Self {
        Admin { enabled: true, host: default_loopback(), port: default_admin_port(), token: None, username: None, password: None }
    }
}
impl Default for EmbeddedCore {
    fn default() -> Self {
        EmbeddedCore { host: default_loopback(), port: default_core_port(), lease_seconds: default_lease(), max_attempts: default_core_attempts() }
    }
}
impl Default for Log {
    fn default() -> Self {
        Log { format: default_log_format(), level: default_log_level() }
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

/// Environment variables of the seed and the global key each overrides.
pub const ENV_OVERRIDES: &[(&str, &str)] = &[
    ("API_BASE_URL", "api_base_url"),
    ("SMSC_NAME", "smsc_name"),
    ("SMPP_POLL_INTERVAL", "smpp_poll_interval"),
    ("VERIFY_SSL_PEER", "verify_ssl_peer"),
    ("CACHE_FLUSH_INTERVAL", "cache_flush_interval"),
    ("CACHE_MAX_RETRY_ATTEMPTS", "cache_max_retry_attempts"),
    ("CACHE_BACKOFF_MULTIPLIER", "cache_backoff_multiplier"),
    ("MNESIA_STORAGE_TYPE", "cache_storage_type"),
    ("CACHE_STORAGE_TYPE", "cache_storage_type"),
];

impl Config {
    /// Read `path`, apply environment overrides from `env` (name → value), and validate.
    pub fn load_with_env(path: &Path, env: &dyn Fn(&str) -> Option<String>) -> Result<Config, ConfigError> {
        let file = path.display().to_string();
        let fail = |key: &str, reason: String| ConfigError { file: file.clone(), problems: vec![ConfigProblem { key: key.into(), reason }] };
        if !path.exists() {
            return Err(fail("(file)", "no such file".into()));
        }
        let mut builder = config::Config::builder().add_source(config::File::from(path).format(config::FileFormat::Toml));
        for (var, key) in ENV_OVERRIDES {
            if let Some(v) = env(var) {
                let value = match (*var, v.as_str()) {
                    ("MNESIA_STORAGE_TYPE", "disc_copies") => "disk".to_string(),
                    ("MNESIA_STORAGE_TYPE", "ram_copies") => "memory".to_string(),
                    _ => v,
                };
                builder = builder.set_override(*key, value).map_err(|e| fail(var, e.to_string()))?;
            }
        }
        let raw = builder.build().map_err(|e| fail("(file)", e.to_string()))?;
        let cfg: Config = raw.try_deserialize().map_err(|e| {
            let text = e.to_string();
            let key = text.rsplit_once(" for key `").map(|(_, k)| k.trim_end_matches('`').to_string()).unwrap_or_else(|| "(file)".into());
            fail(&key, text)
        })?;
        let problems = cfg.validate();
        if problems.is_empty() {
            Ok(cfg)
        } else {
            Err(ConfigError { file, problems })
        }
    }

    /// Read `path` with the process environment.
    pub fn load(path: &Path) -> Result<Config, ConfigError> {
        Self::load_with_env(path, &|k| std::env::var(k).ok())
    }

    /// Every problem of this configuration (empty when it is usable).
    pub fn validate(&self) -> Vec<ConfigProblem> {
        let mut p = Vec::new();
        let mut bad = |key: String, reason: &str| p.push(ConfigProblem { key, reason: reason.to_string() });
        if self.api_base_url != "embedded" && !(self.api_base_url.starts_with("http://") || self.api_base_url.starts_with("https://")) {
            bad("api_base_url".into(), "must be \"embedded\" or an http(s):// URL");
        }
        if !(1..=60_000).contains(&self.smpp_poll_interval) {
            bad("smpp_poll_interval".into(), "must be 1..=60000 ms");
        }
        if !matches!(self.cache_storage_type.as_str(), "disk" | "memory") {
            bad("cache_storage_type".into(), "must be \"disk\" or \"memory\"");
        }
        if self.cache_backoff_multiplier < 1 {
            bad("cache_backoff_multiplier".into(), "must be at least 1");
        }
        if !(1..=10_000).contains(&self.listen.max_connections) {
            bad("listen.max_connections".into(), "must be 1..=10000");
        }
        for (key, host) in [("listen.host", &self.listen.host), ("metrics.host", &self.metrics.host), ("admin.host", &self.admin.host), ("embedded_core.host", &self.embedded_core.host)] {
            if host.parse::<IpAddr>().is_err() {
                bad(key.into(), "must be an IP address");
            }
        }
        if !(1..=1_000_000).contains(&self.max_pdu_len) || self.max_pdu_len < 16 {
            bad("max_pdu_len".into(), "must be 16..=1000000 octets");
        }
        if self.admin.username.is_some() != self.admin.password.is_some() {
            bad("admin.password".into(), "username and password go together");
        }
        if !matches!(self.log.format.as_str(), "text" | "json") {
            bad("log.format".into(), "must be \"text\" or \"json\"");
        }
        let mut names = HashSet::new();
        for (i, b) in self.binds.iter().enumerate() {
            let k = |f: &str| format!("binds[{i}].{f}");
            if b.name.trim().is_empty() {
                bad(k("name"), "must not be empty");
            } else if !names.insert(b.name.clone()) {
                bad(k("name"), "duplicate peer name");
            }
            if b.mode.as_deref().is_some_and(|m| m != "client") {
                bad(k("mode"), "a [[binds]] entry is always mode \"client\"");
            }
            if b.host.trim().is_empty() {
                bad(k("host"), "must not be empty");
            }
            if b.port == 0 {
                bad(k("port"), "must be 1..=65535");
            }
            check_peer_common(&mut bad, &k, b.tps_limit, b.queue_check_frequency, b.enquire_link_interval, b.cache_max_size, b.window_size);
            if b.addr_ton > 6 {
                bad(k("addr_ton"), "must be 0..=6");
            }
            if b.addr_npi > 18 {
                bad(k("addr_npi"), "must be 0..=18");
            }
            // No length check on system_id/password: SMPP 3.4 says 15/8 characters, but
            // carriers issue longer ones and expect them sent as given.
        }
        let mut system_ids = HashSet::new();
        for (i, b) in self.server_binds.iter().enumerate() {
            let k = |f: &str| format!("server_binds[{i}].{f}");
            if b.name.trim().is_empty() {
                bad(k("name"), "must not be empty");
            } else if !names.insert(b.name.clone()) {
                bad(k("name"), "duplicate peer name");
            }
            if b.system_id.is_empty() {
                bad(k("system_id"), "must not be empty");
            } else if !system_ids.insert(b.system_id.clone()) {
                bad(k("system_id"), "duplicate system_id among server binds");
            }
            if b.allowed_bind_types.is_empty() {
                bad(k("allowed_bind_types"), "must allow at least one bind type");
            }
            for (j, net) in b.ip_whitelist.iter().enumerate() {
                if parse_net(net).is_none() {
                    bad(format!("server_binds[{i}].ip_whitelist[{j}]"), "not an IP address or CIDR");
                }
            }
            for (j, pat) in b.source_address_whitelist.iter().enumerate() {
                if pat.is_empty() || pat.trim_end_matches('*').contains('*') {
                    bad(format!("server_binds[{i}].source_address_whitelist[{j}]"), "empty, or '*' other than at the end");
                }
            }
            check_peer_common(&mut bad, &k, b.tps_limit, b.queue_check_frequency, b.enquire_link_interval, b.cache_max_size, b.window_size);
            if !(1..=1000).contains(&b.max_sessions) {
                bad(k("max_sessions"), "must be 1..=1000");
            }
        }
        for (i, r) in self.routes.iter().enumerate() {
            if !self.binds.iter().any(|b| b.name == r.dest_smsc) {
                bad(format!("routes[{i}].dest_smsc"), "no [[binds]] entry has this name");
            }
        }
        for (i, r) in self.mo_routes.iter().enumerate() {
            if !self.server_binds.iter().any(|b| b.name == r.source_smsc) {
                bad(format!("mo_routes[{i}].source_smsc"), "no [[server_binds]] entry has this name");
            }
        }
        p
    }

    /// The core's retry cache storage is memory only.
    pub fn cache_in_memory(&self) -> bool {
        self.cache_storage_type == "memory"
    }
}

fn check_peer_common(bad: &mut impl FnMut(String, &str), k: &dyn Fn(&str) -> String, tps: u32, qcf: Option<u64>, enquire: u64, cache_size: u64, window: usize) {
    if !(1..=10_000).contains(&tps) {
        bad(k("tps_limit"), "must be 1..=10000");
    }
    if let Some(q) = qcf {
        if !(100..=10_000).contains(&q) {
            bad(k("queue_check_frequency"), "must be 100..=10000 ms");
        }
    }
    if enquire > 3600 {
        bad(k("enquire_link_interval"), "must be 0..=3600 s");
    }
    if !(1..=1_000_000).contains(&cache_size) {
        bad(k("cache_max_size"), "must be 1..=1000000");
    }
    if !(1..=10_000).contains(&window) {
        bad(k("window_size"), "must be 1..=10000");
    }
}

/// Parse a whitelist entry: an IP (as /32 or /128) or a CIDR.
pub fn parse_net(s: &str) -> Option<ipnet::IpNet> {
    let s = s.trim();
    s.parse::<ipnet::IpNet>().ok().or_else(|| s.parse::<IpAddr>().ok().map(ipnet::IpNet::from))
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
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map(IpAddr::V4).unwrap_or(IpAddr::V6(v6)),
        v4 => v4,
    };
    whitelist.is_empty() || whitelist.iter().filter_map(|s| parse_net(s)).any(|n| n.contains(&ip))
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
        assert_eq!((c.listen.host.as_str(), c.listen.port, c.listen.max_connections), ("0.0.0.0", 2775, 100));
        assert_eq!(c.metrics.port, 4000);
        assert_eq!(c.admin.port, 8087);
        let b = &c.binds[0];
        assert_eq!((b.bind_type, b.port, b.tps_limit, b.enquire_link_interval, b.cache_max_size, b.cache_retry_interval), (BindType::Transceiver, 2775, 100, 60, 10_000, 60));
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
        assert!(keys.contains(&"server_binds[1].ip_whitelist[0]"), "{keys:?}");
        assert!(keys.contains(&"server_binds[1].tps_limit"), "{keys:?}");
        assert!(keys.contains(&"routes[0].dest_smsc"), "{keys:?}");
        assert!(err.to_string().contains("t.toml"));
    }

    #[test]
    fn unknown_key_and_wrong_type_are_refused() {
        let d = tmpdir("unknown");
        let err = Config::load_with_env(&write(&d, "smsc_nam = \"x\"\n"), &|_| None).unwrap_err();
        assert!(err.to_string().contains("smsc_nam"), "{err}");
        let err = Config::load_with_env(&write(&d, "[listen]\nport = \"abc\"\n"), &|_| None).unwrap_err();
        assert!(err.to_string().contains("port"), "{err}");
    }

    #[test]
    fn text_settings_per_bind() {
        let d = tmpdir("text");
        let c = Config::load_with_env(&write(&d, MINIMAL), &|_| None).unwrap();
        assert_eq!(c.binds[0].text_settings(), crate::convert::TextSettings::default());
        let text = MINIMAL
            .replace("password = \"pw\"", "password = \"pw\"\ndefault_alphabet = \"latin1\"\nsplit_method = \"sar\"\nreceipt_id_format = \"hex\"")
            .replace("password = \"x\"", "password = \"x\"\nsplit_method = \"udh16\"");
        let c = Config::load_with_env(&write(&d, &text), &|_| None).unwrap();
        let t = c.binds[0].text_settings();
        assert_eq!(t.default_alphabet, smpp_codec::text::DefaultAlphabet::Latin1);
        assert_eq!(t.split_method, smpp_codec::segment::SplitMethod::Sar);
        assert_eq!(t.receipt_ids, smpp_codec::receipt::ReceiptIdFormat::Hex);
        assert_eq!(c.server_binds[0].text_settings().split_method, smpp_codec::segment::SplitMethod::Udh16);
        let bad = MINIMAL.replace("password = \"pw\"", "password = \"pw\"\nsplit_method = \"tlv\"");
        let err = Config::load_with_env(&write(&d, &bad), &|_| None).unwrap_err();
        assert!(err.to_string().contains("split_method") || err.to_string().contains("tlv"), "{err}");
    }

    #[test]
    fn shipped_configurations_are_valid() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../config");
        for f in ["demo.toml", "smppgw.example.toml"] {
            let c = Config::load_with_env(&root.join(f), &|_| None).unwrap_or_else(|e| panic!("{e}"));
            assert!(!c.binds.is_empty() && !c.server_binds.is_empty(), "{f}");
        }
    }

    #[test]
    fn source_whitelist_follows_the_seed() {
        let wl: Vec<String> = ["MyBrand", "614*", "+61400000001"].iter().map(|s| s.to_string()).collect();
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
        let wl: Vec<String> = ["192.168.1.0/24", "10.50.1.100", "2001:db8::/32"].iter().map(|s| s.to_string()).collect();
        assert!(ip_allowed(&wl, "192.168.1.77".parse().unwrap()));
        assert!(!ip_allowed(&wl, "192.168.2.1".parse().unwrap()));
        assert!(ip_allowed(&wl, "10.50.1.100".parse().unwrap()));
        assert!(!ip_allowed(&wl, "10.50.1.101".parse().unwrap()));
        assert!(ip_allowed(&wl, "2001:db8::1".parse().unwrap()));
        assert!(ip_allowed(&wl, "::ffff:192.168.1.5".parse().unwrap()));
        assert!(ip_allowed(&[], "8.8.8.8".parse().unwrap()));
    }
}
