//! An SMSC simulator: the carrier of the demo configuration, of the tests and of operators'
//! staging setups.
//!
//! It accepts `bind_transmitter`, `bind_receiver` and `bind_transceiver` (checking `system_id`
//! and password when configured), answers `enquire_link` in any state and `unbind` with
//! `unbind_resp`, acks every `submit_sm` (and `data_sm`) with a fresh message id, and — when the
//! submit's `registered_delivery` asks for it — sends a standard delivery receipt after a delay
//! (SMPP 3.4 Appendix B text, `receipted_message_id` and `message_state` TLVs). MO messages are
//! injected through [`SimHandle::inject_mo`] or the HTTP control API:
//!
//! | call | answer |
//! | --- | --- |
//! | `POST /mo` with a [`MoRequest`] | `{"command_status": N}` (the ESME's `deliver_sm_resp`), 503 when no receiver is bound |
//! | `GET /stats` | [`SimStats`] |
//! | `GET /submits` | every [`ReceivedSubmit`], in arrival order |
//!
//! ```no_run
//! # async fn demo() -> Result<(), smsc_sim::SimError> {
//! let mut config = smsc_sim::SimConfig::new("127.0.0.1:2776".parse().unwrap());
//! config.system_id = "gw".into();
//! config.password = "secret".into();
//! config.receipt_delay_ms = 200;
//! let sim = smsc_sim::start(config).await?;
//! println!("SMSC simulator on {}", sim.smpp_addr);
//! // ... bind to it, submit, receive receipts ...
//! sim.shutdown().await;
//! # Ok(()) }
//! ```
//!
//! Dropping the [`SimHandle`] stops the simulator too (without waiting for its tasks).
#![deny(missing_docs)]

mod control;
mod ids;
mod session;

use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use serde::{Deserialize, Serialize};
use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio::task::JoinHandle;

use crate::ids::IdFormat;
use crate::session::Registry;

/// How long [`SimHandle::inject_mo`] waits for the ESME's `deliver_sm_resp`.
pub const MO_RESPONSE_TIMEOUT: Duration = Duration::from_secs(30);

/// Command-line and programmatic settings of the simulator (`smppgw sim smsc ...`).
#[derive(Clone, Debug, clap::Args)]
pub struct SimConfig {
    /// SMPP listen address.
    #[arg(long, default_value = "127.0.0.1:2776")]
    pub listen: SocketAddr,
    /// Accepted system_id (any when empty).
    #[arg(long, default_value_t = String::new())]
    pub system_id: String,
    /// Accepted password (any when empty).
    #[arg(long, default_value_t = String::new())]
    pub password: String,
    /// Delay before the delivery receipt, ms. Receipts are sent only when registered_delivery
    /// asks: bits 0-1 = 1 (always), 2 (on failure, i.e. a stat other than DELIVRD, ACCEPTD or
    /// ENROUTE), 3 (on success, SMPP v5.0).
    #[arg(long, default_value_t = 1000)]
    pub receipt_delay_ms: u64,
    /// stat of the receipts sent: DELIVRD, UNDELIV, EXPIRED, REJECTD, ...
    #[arg(long, default_value = "DELIVRD")]
    pub receipt_stat: String,
    /// How message ids are written: decimal | hex | ulid.
    #[arg(long, default_value = "decimal", value_parser = ["decimal", "hex", "ulid"])]
    pub message_id_format: String,
    /// HTTP control API address (MO injection, stats, submits); none when absent.
    #[arg(long)]
    pub control: Option<SocketAddr>,
    /// Answer submit_sm with this status instead of ESME_ROK (e.g. 0x58 to test throttling);
    /// 0 = ok. Decimal or 0x-prefixed hexadecimal.
    #[arg(long, default_value = "0", value_parser = parse_u32)]
    pub submit_status: u32,
}

fn parse_u32(s: &str) -> Result<u32, String> {
    let s = s.trim();
    let parsed = match s.strip_prefix("0x").or_else(|| s.strip_prefix("0X")) {
        Some(hex) => u32::from_str_radix(hex, 16),
        None => s.parse(),
    };
    parsed.map_err(|e| format!("{s:?} is not a number: {e}"))
}

impl SimConfig {
    /// The defaults of the command line, listening on `listen`.
    pub fn new(listen: SocketAddr) -> Self {
        SimConfig {
            listen,
            system_id: String::new(),
            password: String::new(),
            receipt_delay_ms: 1000,
            receipt_stat: "DELIVRD".into(),
            message_id_format: "decimal".into(),
            control: None,
            submit_status: 0,
        }
    }
}

/// Counters of a running simulator.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SimStats {
    /// Successful binds.
    pub binds: u64,
    /// `submit_sm` (and `data_sm`) received.
    pub submits: u64,
    /// Delivery receipts sent (`deliver_sm` with `esm_class` 0x04).
    pub receipts_sent: u64,
    /// MO messages sent (`deliver_sm` with `esm_class` 0).
    pub mo_sent: u64,
    /// `enquire_link` received.
    pub enquire_links: u64,
}

/// A `submit_sm` (or `data_sm`) as the simulator received it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReceivedSubmit {
    /// The id the simulator answered with (empty when it answered with an error status).
    pub message_id: String,
    /// `source_addr`.
    pub source_addr: String,
    /// `source_addr_ton`.
    pub source_addr_ton: u8,
    /// `source_addr_npi`.
    pub source_addr_npi: u8,
    /// `destination_addr`.
    pub destination_addr: String,
    /// `dest_addr_ton`.
    pub dest_addr_ton: u8,
    /// `dest_addr_npi`.
    pub dest_addr_npi: u8,
    /// `esm_class`.
    pub esm_class: u8,
    /// `registered_delivery`.
    pub registered_delivery: u8,
    /// `data_coding`.
    pub data_coding: u8,
    /// The user data (`short_message`, or `message_payload` when that TLV is present), in
    /// lower-case hexadecimal, UDH included.
    pub short_message_hex: String,
    /// The user data decoded by `data_coding` (UDH skipped), when it is text.
    pub text: Option<String>,
}

/// An MO message to inject (`POST /mo`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct MoRequest {
    /// `source_addr` (the mobile subscriber).
    pub source_addr: String,
    /// `destination_addr` (e.g. a short code).
    pub destination_addr: String,
    /// The text, encoded with `data_coding` (GSM 03.38 when it fits, else UCS-2, when absent).
    pub text: String,
    /// `data_coding`: 0 GSM 03.38, 1 IA5, 3 Latin-1, 8 UCS-2; chosen from the text when absent.
    #[serde(default)]
    pub data_coding: Option<u8>,
}

/// What can go wrong with the simulator.
#[derive(Debug, thiserror::Error)]
pub enum SimError {
    /// A listener could not be opened.
    #[error("cannot listen on {addr}: {source}")]
    Listen {
        /// The address asked for.
        addr: SocketAddr,
        /// Why.
        source: std::io::Error,
    },
    /// A setting is invalid.
    #[error("invalid setting: {0}")]
    Config(String),
    /// No receiver or transceiver session is bound, so an MO cannot be delivered.
    #[error("no bound receiver or transceiver session")]
    NoReceiver,
    /// The MO cannot be sent as asked: an address too long, or a text that `data_coding` cannot
    /// hold.
    #[error("invalid MO: {0}")]
    InvalidMo(String),
    /// The session closed before it answered the `deliver_sm`.
    #[error("the session closed before answering the deliver_sm")]
    SessionClosed,
    /// The ESME did not answer the `deliver_sm` in time.
    #[error("no deliver_sm_resp within {0:?}")]
    Timeout(Duration),
}

#[derive(Default)]
struct Counters {
    binds: AtomicU64,
    submits: AtomicU64,
    receipts_sent: AtomicU64,
    mo_sent: AtomicU64,
    enquire_links: AtomicU64,
}

/// State shared by the listener, the sessions and the control API.
pub(crate) struct Shared {
    pub(crate) config: SimConfig,
    pub(crate) id_format: IdFormat,
    next_id: AtomicU64,
    id_salt: u64,
    counters: Counters,
    submits: Mutex<Vec<ReceivedSubmit>>,
    pub(crate) registry: Mutex<Registry>,
    pub(crate) shutdown: watch::Receiver<bool>,
}

/// Locks a mutex, going on with the data if a panicking thread poisoned it.
pub(crate) fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

impl Shared {
    pub(crate) fn next_message_id(&self) -> String {
        let n = self.next_id.fetch_add(1, Ordering::Relaxed);
        ids::format_id(self.id_format, n, self.id_salt)
    }

    pub(crate) fn stats(&self) -> SimStats {
        let c = &self.counters;
        SimStats {
            binds: c.binds.load(Ordering::Relaxed),
            submits: c.submits.load(Ordering::Relaxed),
            receipts_sent: c.receipts_sent.load(Ordering::Relaxed),
            mo_sent: c.mo_sent.load(Ordering::Relaxed),
            enquire_links: c.enquire_links.load(Ordering::Relaxed),
        }
    }

    pub(crate) fn count_bind(&self) {
        self.counters.binds.fetch_add(1, Ordering::Relaxed);
    }

    pub(crate) fn count_enquire_link(&self) {
        self.counters.enquire_links.fetch_add(1, Ordering::Relaxed);
    }

    pub(crate) fn count_receipt(&self) {
        self.counters.receipts_sent.fetch_add(1, Ordering::Relaxed);
    }

    pub(crate) fn count_mo(&self) {
        self.counters.mo_sent.fetch_add(1, Ordering::Relaxed);
    }

    pub(crate) fn record_submit(&self, submit: ReceivedSubmit) {
        self.counters.submits.fetch_add(1, Ordering::Relaxed);
        lock(&self.submits).push(submit);
    }

    pub(crate) fn submits(&self) -> Vec<ReceivedSubmit> {
        lock(&self.submits).clone()
    }
}

/// A running simulator. Dropping it stops the simulator; [`SimHandle::shutdown`] also waits
/// for its listeners to close.
pub struct SimHandle {
    /// The SMPP address it listens on (the real port when the configuration said port 0).
    pub smpp_addr: SocketAddr,
    /// The HTTP control API address, when one was configured.
    pub control_addr: Option<SocketAddr>,
    shared: Arc<Shared>,
    stop: watch::Sender<bool>,
    tasks: Vec<JoinHandle<()>>,
}

impl std::fmt::Debug for SimHandle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SimHandle")
            .field("smpp_addr", &self.smpp_addr)
            .field("control_addr", &self.control_addr)
            .finish_non_exhaustive()
    }
}

impl SimHandle {
    /// The counters so far.
    pub fn stats(&self) -> SimStats {
        self.shared.stats()
    }

    /// Every `submit_sm` (and `data_sm`) received so far, in arrival order.
    pub fn submits(&self) -> Vec<ReceivedSubmit> {
        self.shared.submits()
    }

    /// Sends an MO `deliver_sm` (`esm_class` 0) to a bound receiver or transceiver session and
    /// returns the `command_status` of its `deliver_sm_resp`.
    ///
    /// # Errors
    /// [`SimError::NoReceiver`] when no such session is bound, [`SimError::InvalidMo`] when an address or
    /// the text does not fit, [`SimError::SessionClosed`] / [`SimError::Timeout`] when no
    /// answer comes (within [`MO_RESPONSE_TIMEOUT`]).
    pub async fn inject_mo(&self, mo: MoRequest) -> Result<u32, SimError> {
        session::inject_mo(&self.shared, mo).await
    }

    /// Stops listening, closes every session and waits for the listeners to finish.
    pub async fn shutdown(mut self) {
        let _ = self.stop.send(true);
        for task in self.tasks.drain(..) {
            let _ = task.await;
        }
    }
}

/// Binds the SMPP listener (and the control API, when configured), starts serving them in the
/// background and returns at once.
///
/// # Errors
/// [`SimError::Listen`] when an address cannot be bound, [`SimError::Config`] for an unknown
/// `message_id_format`.
pub async fn start(config: SimConfig) -> Result<SimHandle, SimError> {
    let id_format = IdFormat::parse(&config.message_id_format).ok_or_else(|| {
        SimError::Config(format!(
            "message_id_format {:?}: expected decimal, hex or ulid",
            config.message_id_format
        ))
    })?;
    if config.receipt_stat.is_empty() || config.receipt_stat.len() > 7 {
        return Err(SimError::Config(format!(
            "receipt_stat {:?}: expected a word of 1 to 7 letters such as DELIVRD",
            config.receipt_stat
        )));
    }
    let listener = TcpListener::bind(config.listen)
        .await
        .map_err(|source| SimError::Listen {
            addr: config.listen,
            source,
        })?;
    let smpp_addr = listener.local_addr().map_err(|source| SimError::Listen {
        addr: config.listen,
        source,
    })?;
    let control_listener = match config.control {
        Some(addr) => {
            let l = TcpListener::bind(addr)
                .await
                .map_err(|source| SimError::Listen { addr, source })?;
            let local = l
                .local_addr()
                .map_err(|source| SimError::Listen { addr, source })?;
            Some((l, local))
        }
        None => None,
    };
    let (stop, shutdown) = watch::channel(false);
    let shared = Arc::new(Shared {
        id_format,
        next_id: AtomicU64::new(ids::counter_base()),
        id_salt: ids::random_u64(),
        counters: Counters::default(),
        submits: Mutex::new(Vec::new()),
        registry: Mutex::new(Registry::default()),
        shutdown,
        config,
    });
    let mut tasks = vec![tokio::spawn(session::accept_loop(
        listener,
        Arc::clone(&shared),
    ))];
    let control_addr = control_listener.map(|(l, addr)| {
        tasks.push(tokio::spawn(control::serve(l, Arc::clone(&shared))));
        addr
    });
    tracing::info!(
        %smpp_addr,
        control = ?control_addr,
        system_id = %shared.config.system_id,
        receipt_delay_ms = shared.config.receipt_delay_ms,
        receipt_stat = %shared.config.receipt_stat,
        "SMSC simulator listening"
    );
    Ok(SimHandle {
        smpp_addr,
        control_addr,
        shared,
        stop,
        tasks,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    #[derive(Parser)]
    struct Cli {
        #[command(flatten)]
        sim: SimConfig,
    }

    #[test]
    fn command_line_defaults_match_new() {
        let cli = Cli::parse_from(["sim"]);
        let new = SimConfig::new("127.0.0.1:2776".parse().unwrap());
        assert_eq!(format!("{:?}", cli.sim), format!("{new:?}"));
    }

    #[test]
    fn command_line_flags() {
        let cli = Cli::parse_from([
            "sim",
            "--listen",
            "127.0.0.1:0",
            "--system-id",
            "gw",
            "--password",
            "pw",
            "--receipt-delay-ms",
            "5",
            "--receipt-stat",
            "UNDELIV",
            "--message-id-format",
            "ulid",
            "--control",
            "127.0.0.1:0",
            "--submit-status",
            "0x58",
        ]);
        let c = cli.sim;
        assert_eq!(c.system_id, "gw");
        assert_eq!(c.password, "pw");
        assert_eq!(c.receipt_delay_ms, 5);
        assert_eq!(c.receipt_stat, "UNDELIV");
        assert_eq!(c.message_id_format, "ulid");
        assert!(c.control.is_some());
        assert_eq!(c.submit_status, 0x58);
        assert!(Cli::try_parse_from(["sim", "--message-id-format", "base64"]).is_err());
        assert_eq!(parse_u32("88"), Ok(88));
    }
}
