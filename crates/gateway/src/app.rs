//! The running gateway: starts the core (embedded or remote), the listener, the client binds
//! (staggered 500 ms apart), the queue workers, registration heartbeats, metrics and the admin
//! API, and stops them in order on SIGTERM.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use anyhow::Context as _;
use core_bridge::api::{now_ms, BindMode, ClaimRequest, Event, EventKind, FrontendRegistration, OutboundMessage};
use core_bridge::CoreClient;
use smpp_codec::pdu::Pdu;
use smpp_codec::status::CommandStatus;
use smpp_session::{ClientConfig, ClientHandle, LinkState, ListenerConfig, SendFailure, SessionConfig, SessionRegistry};
use tokio::sync::Semaphore;
use tokio_util::sync::CancellationToken;

use crate::config::{secs_opt, ClientBind, Config};
use crate::convert;
use crate::handover::{EventSink, Handover};
use crate::peers::ServerSide;
use crate::telemetry::{self, BindLabels};

/// Delay between the starts of two client binds (seed: staggered start, 500 ms).
pub const STAGGER: Duration = Duration::from_millis(500);
/// Registration heartbeat period (seed: 60 s; the core expires a frontend after 90 s).
pub const HEARTBEAT: Duration = Duration::from_secs(60);

/// Shared state of the running gateway.
pub struct Gateway {
    config: RwLock<Arc<Config>>,
    /// The file and the operators' overrides the configuration in force was built from.
    pub(crate) source: tokio::sync::Mutex<crate::supervisor::ConfigSource>,
    /// The binds running now.
    pub(crate) runtimes: tokio::sync::Mutex<crate::supervisor::Runtimes>,
    /// Serializes configuration changes.
    pub(crate) apply_lock: tokio::sync::Mutex<()>,
    /// The embedded core, when `api_base_url = "embedded"`.
    pub(crate) embedded: Option<embedded_core::EmbeddedCore>,
    /// Every long-running task (workers, listeners).
    pub(crate) tasks: tokio_util::task::TaskTracker,
    /// When the gateway started.
    pub started: Instant,
    /// The core's client.
    pub core: CoreClient,
    /// Coalescing hand-over of received messages.
    pub handover: Handover,
    /// Events owed to the core.
    pub events: EventSink,
    /// Bound server sessions.
    pub registry: SessionRegistry,
    hostname: String,
    /// Cancelled on shutdown.
    pub shutdown: CancellationToken,
}

impl Gateway {
    /// The configuration in force.
    pub fn config(&self) -> Arc<Config> {
        self.config.read().unwrap_or_else(|p| p.into_inner()).clone()
    }

    /// `{hostname}_{peer}`: how this gateway names a peer to the core (seed: frontend registration).
    pub fn frontend(&self, peer: &str) -> String {
        format!("{}_{}", self.hostname, peer)
    }

    /// Replace the configuration in force (readers see the new one from their next read).
    pub(crate) fn set_config(&self, c: Config) {
        *self.config.write().unwrap_or_else(|p| p.into_inner()) = Arc::new(c);
    }

    /// The handle of client bind `name`, if running.
    pub async fn client(&self, name: &str) -> Option<Arc<ClientHandle>> {
        self.runtimes.lock().await.clients.get(name).map(|r| r.handle.clone())
    }
}

/// Session timers of a client bind.
pub fn client_config(b: &ClientBind, start_delay: Duration, max_pdu_len: usize) -> ClientConfig {
    ClientConfig {
        name: b.name.clone(),
        host: b.host.clone(),
        port: b.port,
        kind: b.bind_type.kind(),
        system_id: b.system_id.clone(),
        password: b.password.clone(),
        system_type: b.system_type.clone(),
        interface_version: b.interface_version,
        addr_ton: b.addr_ton,
        addr_npi: b.addr_npi,
        address_range: b.address_range.clone(),
        session: SessionConfig {
            enquire_link_interval: secs_opt(b.enquire_link_interval),
            response_timeout: Duration::from_secs(b.response_timeout.max(1)),
            window_size: b.window_size,
            bind_timeout: Duration::from_secs(b.bind_timeout.max(1)),
            inactivity_timeout: None,
            max_consecutive_timeouts: 3,
        },
        tps_limit: b.tps_limit,
        reconnect_interval: Duration::from_secs(b.reconnect_interval.max(1)),
        connect_timeout: Duration::from_secs(10),
        start_delay,
        max_pdu_len,
    }
}

/// Statuses after which trying again later may succeed (SMPP 3.4 §5.1.3 meanings).
pub fn is_temporary(status: CommandStatus) -> bool {
    matches!(
        status,
        CommandStatus::ESME_RSYSERR | CommandStatus::ESME_RMSGQFUL | CommandStatus::ESME_RTHROTTLED | CommandStatus::ESME_RX_T_APPN
    )
}

fn event(gw: &Gateway, bind: &str, message_id: &str, kind: EventKind) -> Event {
    Event { message_id: message_id.to_string(), frontend: gw.frontend(bind), bind_name: bind.to_string(), kind, at_ms: now_ms() }
}

fn failed(status: u32, retryable: bool, reason: String) -> EventKind {
    EventKind::Failed { command_status: status, retryable, reason }
}

/// A started gateway; [`Running::stop`] unbinds everything and stops it.
pub struct Running {
    /// The shared state.
    pub gw: Arc<Gateway>,
    /// The SMPP listener's address.
    pub smpp_addr: SocketAddr,
    /// The core's base URL (the embedded core's loopback URL when embedded).
    pub core_url: String,
    /// The admin API's address, when enabled.
    pub admin_addr: Option<SocketAddr>,
    /// The simulator's SMPP address, when `[simulator]` is configured.
    pub sim_addr: Option<SocketAddr>,
    sim: Option<smsc_sim::SimHandle>,
    embedded: Option<embedded_core::EmbeddedCore>,
}

/// Start everything from the file at `path` and run until SIGTERM/SIGINT; SIGHUP re-reads the
/// file.
pub async fn run(config: Config, path: PathBuf) -> anyhow::Result<()> {
    let running = start_from(config, Some(path)).await?;
    wait_for_signal(&running.gw).await;
    running.stop().await;
    Ok(())
}

/// Start everything from a configuration that came from no file (tests).
pub async fn start(config: Config) -> anyhow::Result<Running> {
    start_from(config, None).await
}

/// Start everything; returns once every listener is bound (client binds connect in the
/// background, so a carrier that is down does not hold the start). The operators' peer
/// overrides under `data_dir` are laid over `file`.
pub async fn start_from(file: Config, path: Option<PathBuf>) -> anyhow::Result<Running> {
    let started = Instant::now();
    let overrides_path = crate::supervisor::PeerOverrides::path(&file.data_dir);
    let overrides = crate::supervisor::PeerOverrides::load(&overrides_path).map_err(|e| anyhow::anyhow!("peer overrides: {e}"))?;
    let config = overrides.apply(&file);
    let problems = config.validate();
    if !problems.is_empty() {
        let list: Vec<String> = problems.iter().map(|p| p.to_string()).collect();
        anyhow::bail!("{} with the run-time peer edits of {}: {}", path.as_ref().map(|p| p.display().to_string()).unwrap_or_default(), overrides_path.display(), list.join("; "));
    }
    let shutdown = CancellationToken::new();
    let tasks = tokio_util::task::TaskTracker::new();

    // Metrics first, so nothing that happens at start is missed.
    if config.metrics.enabled {
        let addr: SocketAddr = format!("{}:{}", config.metrics.host, config.metrics.port).parse().context("metrics address")?;
        metrics_exporter_prometheus::PrometheusBuilder::new()
            .with_http_listener(addr)
            .set_buckets(&[0.0005, 0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0])
            .context("metrics buckets")?
            .install()
            .with_context(|| format!("cannot serve /metrics on {addr}"))?;
        tracing::info!(%addr, "metrics on /metrics");
    }

    // The core: embedded (in-process, over loopback HTTP) or remote.
    let mut embedded = None;
    let api_url = if config.api_base_url == "embedded" {
        let dir = config.data_dir.join("core");
        std::fs::create_dir_all(&dir).with_context(|| format!("cannot create {}", dir.display()))?;
        let core_cfg = embedded_core::EmbeddedConfig {
            routes: config.routes.iter().map(|r| embedded_core::Route { prefix: r.prefix.clone(), dest_smsc: r.dest_smsc.clone() }).collect(),
            mo_routes: config.mo_routes.iter().map(|r| embedded_core::MoRoute { prefix: r.prefix.clone(), source_smsc: r.source_smsc.clone() }).collect(),
            lease: Duration::from_secs(config.embedded_core.lease_seconds.max(1)),
            max_attempts: config.embedded_core.max_attempts,
            ..embedded_core::EmbeddedConfig::default()
        };
        let core = embedded_core::EmbeddedCore::open(&dir, core_cfg).with_context(|| format!("cannot open the embedded core in {}", dir.display()))?;
        let addr = format!("{}:{}", config.embedded_core.host, config.embedded_core.port);
        let listener = tokio::net::TcpListener::bind(&addr).await.with_context(|| format!("embedded core cannot listen on {addr}"))?;
        let url = format!("http://{}", listener.local_addr()?);
        let stop = shutdown.clone();
        let served = core.clone();
        tokio::spawn(async move {
            if let Err(e) = embedded_core::serve(listener, served, async move { stop.cancelled().await }).await {
                tracing::error!(error = %e, "embedded core stopped");
            }
        });
        tracing::info!(%url, "embedded core serving");
        embedded = Some(core);
        url
    } else {
        config.api_base_url.clone()
    };
    let core = CoreClient::new(&api_url, config.verify_ssl_peer, Duration::from_millis(config.core_timeout_ms)).context("core client")?;
    match core.health().await {
        Ok(h) => tracing::info!(url = %api_url, status = %h.status, "core reachable"),
        Err(e) => tracing::warn!(url = %api_url, error = %e, "core not reachable at start; binds start anyway"),
    }

    // The demo's carrier.
    let mut sim = None;
    if let Some(s) = &config.simulator {
        let mut sc = smsc_sim::SimConfig::new(s.listen.parse().context("simulator.listen")?);
        sc.system_id = s.system_id.clone();
        sc.password = s.password.clone();
        sc.receipt_delay_ms = s.receipt_delay_ms;
        sc.control = s.control.as_deref().map(str::parse).transpose().context("simulator.control")?;
        let handle = smsc_sim::start(sc).await.context("cannot start the simulator")?;
        tracing::info!(addr = %handle.smpp_addr, "SMSC simulator running");
        sim = Some(handle);
    }

    let gw = Arc::new(Gateway {
        config: RwLock::new(Arc::new(config.clone())),
        source: tokio::sync::Mutex::new(crate::supervisor::ConfigSource { path, file, overrides }),
        runtimes: tokio::sync::Mutex::new(Default::default()),
        apply_lock: tokio::sync::Mutex::new(()),
        embedded: embedded.clone(),
        tasks: tasks.clone(),
        started,
        handover: Handover::start(core.clone()),
        events: EventSink::start(core.clone()),
        core,
        registry: SessionRegistry::new(),
        hostname: hostname::get().map(|h| h.to_string_lossy().into_owned()).unwrap_or_else(|_| "smppgw".into()),
        shutdown: shutdown.clone(),
    });

    // Server binds.
    let listen_addr = format!("{}:{}", config.listen.host, config.listen.port);
    let listener = tokio::net::TcpListener::bind(&listen_addr).await.with_context(|| format!("cannot listen for SMPP on {listen_addr}"))?;
    let smpp_addr = listener.local_addr()?;
    tracing::info!(addr = %smpp_addr, "SMPP listener");
    let lcfg = ListenerConfig {
        max_connections: config.listen.max_connections,
        our_system_id: config.smsc_name.chars().take(15).collect(),
        session: SessionConfig { bind_timeout: Duration::from_secs(config.listen.bind_timeout.max(1)), ..SessionConfig::default() },
        max_pdu_len: config.max_pdu_len,
    };
    let server_handler = Arc::new(ServerSide::new(gw.clone()));
    tasks.spawn(smpp_session::serve(listener, lcfg, server_handler, gw.registry.clone(), shutdown.clone()));

    // Binds and their queue workers; client binds start 500 ms apart.
    gw.apply(config.clone(), true).await;

    tasks.spawn(heartbeat(gw.clone()));
    tasks.spawn(uptime(gw.clone()));
    let mut admin_addr = None;
    if config.admin.enabled {
        let addr = format!("{}:{}", config.admin.host, config.admin.port);
        let listener = tokio::net::TcpListener::bind(&addr).await.with_context(|| format!("admin API cannot listen on {addr}"))?;
        admin_addr = Some(listener.local_addr()?);
        let app = crate::admin::router(gw.clone());
        let stop = shutdown.clone();
        tasks.spawn(async move {
            let _ = axum::serve(listener, app).with_graceful_shutdown(async move { stop.cancelled().await }).await;
        });
        tracing::info!(%addr, "admin API");
    }
    tasks.close();
    let sim_addr = sim.as_ref().map(|s| s.smpp_addr);
    Ok(Running { gw, smpp_addr, core_url: api_url, admin_addr, sim_addr, sim, embedded })
}

impl Running {
    /// The built-in simulator, when `[simulator]` is configured.
    pub fn simulator(&self) -> Option<&smsc_sim::SimHandle> {
        self.sim.as_ref()
    }

    /// Stop: every session unbinds (bounded), workers end, the embedded core flushes.
    pub async fn stop(self) {
        let Running { gw, sim, embedded, .. } = self;
        let tasks = gw.tasks.clone();
        tracing::info!("shutting down: unbinding every session");
        gw.shutdown.cancel();
        gw.stop_all_clients().await;
        if tokio::time::timeout(Duration::from_secs(20), tasks.wait()).await.is_err() {
            tracing::warn!("some tasks did not stop within 20 s");
        }
        if let Some(s) = sim {
            s.shutdown().await;
        }
        if let Some(core) = embedded {
            if let Err(e) = core.flush().await {
                tracing::error!(error = %e, "embedded core flush failed");
            }
        }
        tracing::info!("stopped");
    }
}

async fn wait_for_signal(gw: &Arc<Gateway>) {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        let mut term = signal(SignalKind::terminate()).expect("SIGTERM handler");
        // SIGHUP re-reads the file (systemd's ExecReload); it never stops the gateway.
        let mut hup = signal(SignalKind::hangup()).expect("SIGHUP handler");
        loop {
            tokio::select! {
                _ = term.recv() => return,
                _ = tokio::signal::ctrl_c() => return,
                _ = hup.recv() => {
                    tracing::info!("SIGHUP: re-reading the configuration file");
                    if let Err(problems) = gw.reload_file().await {
                        for p in problems {
                            tracing::error!("configuration not reloaded: {p}");
                        }
                    }
                }
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = gw;
        let _ = tokio::signal::ctrl_c().await;
    }
}

/// The poll interval of a bind: its `queue_check_frequency`, else `smpp_poll_interval`.
pub(crate) fn poll_interval(config: &Config, qcf: Option<u64>) -> Duration {
    Duration::from_millis(qcf.unwrap_or(config.smpp_poll_interval).max(1))
}

async fn sleep_or_stop(stop: &CancellationToken, d: Duration) -> bool {
    tokio::select! {
        _ = stop.cancelled() => false,
        _ = tokio::time::sleep(d) => true,
    }
}

/// What a queue worker feeds.
#[derive(Clone)]
pub(crate) enum Target {
    /// A client bind: MT for a carrier (`dest_smsc`).
    Carrier(Arc<ClientHandle>),
    /// A server bind: MO and receipts for a partner (`source_smsc`).
    Partner,
}

/// Longest long-poll wait a worker asks of the core, ms.
const MAX_CLAIM_WAIT_MS: u64 = 1_000;

/// One bind's queue worker: while the bind can send, lease messages from the core (long
/// poll), send each within the window, and report the outcome. A partner without a receiving
/// session, or a carrier not bound, claims nothing: its messages stay queued in the core.
#[allow(clippy::too_many_arguments)]
pub(crate) async fn queue_worker(gw: Arc<Gateway>, name: String, target: Target, labels: BindLabels, window_size: usize, poll: Duration, per_claim: usize, stop: CancellationToken) {
    let window = Arc::new(Semaphore::new(window_size));
    let frontend = gw.frontend(&name);
    let mut status = match &target {
        Target::Carrier(h) => Some(h.subscribe()),
        Target::Partner => None,
    };
    let wait_ms = (poll.as_millis() as u64).min(MAX_CLAIM_WAIT_MS).min(gw.config().core_timeout_ms / 2) as u32;
    let mut error_logged = false;
    loop {
        if stop.is_cancelled() {
            return;
        }
        let ready = match &target {
            Target::Carrier(h) => h.status().state == LinkState::Bound,
            Target::Partner => gw.registry.has_receiver(&name),
        };
        if !ready {
            let link_change = async {
                match status.as_mut() {
                    Some(s) => {
                        let _ = s.changed().await;
                    }
                    None => futures::future::pending::<()>().await,
                }
            };
            tokio::select! {
                _ = stop.cancelled() => return,
                _ = link_change => {}
                _ = tokio::time::sleep(poll) => {}
            }
            continue;
        }
        let free = window.available_permits().min(per_claim).min(1000);
        if free == 0 {
            // Wait for one slot, then claim what is free.
            let Ok(p) = window.clone().acquire_owned().await else { return };
            drop(p);
            continue;
        }
        let (dest_smsc, source_smsc) = match &target {
            Target::Carrier(_) => (Some(name.clone()), None),
            Target::Partner => (None, Some(name.clone())),
        };
        let req = ClaimRequest { frontend: frontend.clone(), dest_smsc, source_smsc, limit: free as u32, lease_seconds: None, wait_ms: Some(wait_ms) };
        let t0 = Instant::now();
        let claimed = gw.core.claim(&req).await;
        telemetry::core_call("claim", t0.elapsed().as_secs_f64(), claimed.is_ok());
        let messages = match claimed {
            Ok(r) => {
                error_logged = false;
                r.messages
            }
            Err(e) => {
                if !error_logged {
                    tracing::warn!(bind = %name, error = %e, "claim failed");
                    error_logged = true;
                }
                if !sleep_or_stop(&stop, poll).await {
                    return;
                }
                continue;
            }
        };
        if messages.is_empty() {
            // A core without long poll answers at once: keep to the poll interval.
            let rest = poll.saturating_sub(t0.elapsed());
            if !rest.is_zero() && !sleep_or_stop(&stop, rest).await {
                return;
            }
            continue;
        }
        for m in messages {
            let Ok(permit) = window.clone().acquire_owned().await else { return };
            let (gw, name, labels, target) = (gw.clone(), name.clone(), labels.clone(), target.clone());
            tokio::spawn(async move {
                match &target {
                    Target::Carrier(h) => submit_one(&gw, &name, h, &labels, m).await,
                    Target::Partner => deliver_one(&gw, &name, &labels, m).await,
                }
                drop(permit);
            });
        }
    }
}

/// A message the core asked us to send that SMPP cannot carry: reported failed for good.
fn unsendable(gw: &Gateway, name: &str, labels: &BindLabels, m: &OutboundMessage, why: String) {
    tracing::warn!(bind = %name, message_id = %m.id, "cannot send: {why}");
    labels.inc(telemetry::DELIVERY_FAILURES);
    gw.events.report(event(gw, name, &m.id, failed(CommandStatus::ESME_RINVMSGLEN.0, false, why)));
}

async fn submit_one(gw: &Gateway, name: &str, handle: &ClientHandle, labels: &BindLabels, m: OutboundMessage) {
    let settings = gw.config().binds.iter().find(|b| b.name == name).map(|b| b.text_settings()).unwrap_or_default();
    let pdu = match convert::pdu_from_outbound_with(&m, false, &settings) {
        Ok(p) => p,
        Err(why) => return unsendable(gw, name, labels, &m, why),
    };
    let kind = send_with_throttle_retry(name, labels, &m, || handle.send(pdu.clone()), |frame| match &frame.pdu {
        Pdu::SubmitSmResp(r) => Some(r.message_id.to_str_lossy().into_owned()),
        _ => None,
    })
    .await;
    gw.events.report(event(gw, name, &m.id, kind));
}

/// Resends after a throttling answer: the session has paused the whole bind's stream (see
/// `smpp_session::driver::THROTTLE_PAUSE_MIN`), so the message goes again after the pause,
/// in order, instead of failing. Gives up after [`MAX_THROTTLE_RESENDS`] (the core retries it
/// later).
async fn send_with_throttle_retry<F, Fut>(name: &str, labels: &BindLabels, m: &OutboundMessage, mut send: F, ok_id: impl Fn(&smpp_codec::pdu::Frame) -> Option<String>) -> EventKind
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<smpp_codec::pdu::Frame, SendFailure>>,
{
    let mut resends = 0;
    loop {
        let t0 = Instant::now();
        return match send().await {
            Ok(frame) if frame.command_status.is_ok() => {
                labels.observe(telemetry::RESPONSE_LATENCY, t0.elapsed().as_secs_f64());
                labels.inc(telemetry::MESSAGES_SENT);
                match ok_id(&frame) {
                    Some(id) => EventKind::Submitted { smsc_message_id: id },
                    None => EventKind::DeliveredToEsme,
                }
            }
            Ok(frame) => {
                let st = frame.command_status;
                if matches!(st, CommandStatus::ESME_RTHROTTLED | CommandStatus::ESME_RMSGQFUL) {
                    labels.inc(telemetry::THROTTLED);
                    if resends < MAX_THROTTLE_RESENDS {
                        resends += 1;
                        continue;
                    }
                }
                labels.inc(telemetry::DELIVERY_FAILURES);
                tracing::warn!(bind = %name, message_id = %m.id, status = %st, "refused by the peer");
                failed(st.0, is_temporary(st), format!("{} {st}", smpp_codec::command::command_name(frame.pdu.command_id()).unwrap_or("response")))
            }
            Err(SendFailure::NotBound) => failed(0, true, "bind not bound".into()),
            Err(e) => {
                labels.inc(telemetry::DELIVERY_FAILURES);
                tracing::warn!(bind = %name, message_id = %m.id, error = %e, "no response");
                failed(0, true, e.to_string())
            }
        };
    }
}

/// Resends of one message after throttling answers before it is handed back to the core.
pub const MAX_THROTTLE_RESENDS: u32 = 5;

async fn deliver_one(gw: &Gateway, name: &str, labels: &BindLabels, m: OutboundMessage) {
    let settings = gw.config().server_binds.iter().find(|b| b.name == name).map(|b| b.text_settings()).unwrap_or_default();
    let pdu = match convert::pdu_from_outbound_with(&m, true, &settings) {
        Ok(p) => p,
        Err(why) => return unsendable(gw, name, labels, &m, why),
    };
    let mut kind = send_with_throttle_retry(name, labels, &m, || gw.registry.deliver(name, pdu.clone()), |_| None).await;
    // RX_P_APPN / RX_R_APPN: the partner refuses this message for good.
    if let EventKind::Failed { command_status, retryable, .. } = &mut kind {
        if matches!(CommandStatus(*command_status), CommandStatus::ESME_RX_P_APPN | CommandStatus::ESME_RX_R_APPN) {
            *retryable = false;
        } else if *command_status != 0 {
            *retryable = true;
        }
    }
    gw.events.report(event(gw, name, &m.id, kind));
}

/// Register every enabled peer with the core now and every 60 s.
async fn heartbeat(gw: Arc<Gateway>) {
    loop {
        let cfg = gw.config();
        let peers = cfg
            .binds
            .iter()
            .filter(|b| b.enabled)
            .map(|b| (b.name.clone(), BindMode::Client))
            .chain(cfg.server_binds.iter().filter(|b| b.enabled).map(|b| (b.name.clone(), BindMode::Server)));
        for (name, mode) in peers {
            let reg = FrontendRegistration { frontend: gw.frontend(&name), bind_name: name.clone(), bind_mode: mode, smsc_name: cfg.smsc_name.clone() };
            if let Err(e) = gw.core.register(&reg).await {
                tracing::debug!(peer = %name, error = %e, "frontend registration failed");
            }
        }
        if !sleep_or_stop(&gw.shutdown, HEARTBEAT).await {
            return;
        }
    }
}

/// Keep `smpp_uptime_seconds` current.
async fn uptime(gw: Arc<Gateway>) {
    loop {
        let cfg = gw.config();
        for b in &cfg.binds {
            if let Some(h) = gw.client(&b.name).await {
                let s = h.status();
                let up = if s.state == LinkState::Bound { s.since.elapsed().as_secs_f64() } else { 0.0 };
                BindLabels::client(&b.name, &b.host, b.port, b.bind_type.as_str(), &b.system_id).set(telemetry::UPTIME_SECONDS, up.floor());
            }
        }
        let sessions = gw.registry.snapshot();
        for b in &cfg.server_binds {
            let up = sessions.iter().filter(|s| s.info.peer_name == b.name).map(|s| s.uptime.as_secs_f64()).fold(0.0, f64::max);
            BindLabels::server(&b.name, &b.system_id).set(telemetry::UPTIME_SECONDS, up.floor());
        }
        if !sleep_or_stop(&gw.shutdown, Duration::from_secs(5)).await {
            return;
        }
    }
}
