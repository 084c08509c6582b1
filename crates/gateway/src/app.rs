//! The running gateway: starts the core (embedded or remote), the listener, the client binds
//! (staggered 500 ms apart), the queue workers, registration heartbeats, metrics and the admin
//! API, and stops them in order on SIGTERM.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use anyhow::Context as _;
use core_bridge::api::{
    now_ms, BindMode, ClaimRequest, Event, EventKind, FrontendRegistration, OutboundMessage,
};
use core_bridge::CoreClient;
use smpp_codec::pdu::Pdu;
use smpp_codec::status::CommandStatus;
use smpp_session::{
    ClientConfig, ClientHandle, ClientTls, ClientTlsFiles, ConnectionLimit, Endpoint, LinkState,
    ListenerConfig, SendFailure, ServerTlsFiles, SessionConfig, SessionRegistry,
};
use tokio::sync::Semaphore;
use tokio_util::sync::CancellationToken;

use crate::config::{secs_opt, ClientBind, Config, ListenTls, TimeoutAction};
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
    /// `max_connections` over the plain and TLS listeners (open and refused counts).
    pub connections: ConnectionLimit,
    hostname: String,
    /// Cancelled on shutdown.
    pub shutdown: CancellationToken,
    /// Notified when the set of enabled peers changed: register them with the core now.
    pub register_now: Arc<tokio::sync::Notify>,
    /// The admin token made at start when the file configures no credential
    /// ([`admin_token_file`]).
    pub generated_admin_token: Option<String>,
}

impl Gateway {
    /// The shared state of a gateway with nothing running yet: [`Gateway::apply`] starts the
    /// binds; listeners are the caller's (so that tests can build one without any socket).
    pub fn new(
        config: Config,
        source: crate::supervisor::ConfigSource,
        core: CoreClient,
        cache: crate::handover::CacheSlot,
        embedded: Option<embedded_core::EmbeddedCore>,
        generated_admin_token: Option<String>,
        shutdown: CancellationToken,
        tasks: tokio_util::task::TaskTracker,
    ) -> Arc<Gateway> {
        Arc::new(Gateway {
            connections: ConnectionLimit::new(config.listen.max_connections),
            config: RwLock::new(Arc::new(config)),
            source: tokio::sync::Mutex::new(source),
            runtimes: tokio::sync::Mutex::new(Default::default()),
            apply_lock: tokio::sync::Mutex::new(()),
            embedded,
            tasks,
            started: Instant::now(),
            handover: Handover::start(core.clone(), cache.clone()),
            events: EventSink::start(core.clone(), cache),
            core,
            registry: SessionRegistry::new(),
            hostname: hostname::get()
                .map(|h| h.to_string_lossy().into_owned())
                .unwrap_or_else(|_| "smppgw".into()),
            shutdown,
            register_now: Default::default(),
            generated_admin_token,
        })
    }

    /// The configuration in force.
    pub fn config(&self) -> Arc<Config> {
        self.config
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    /// `{hostname}_{peer}`: how this gateway names a peer to the core (seed: frontend registration).
    pub fn frontend(&self, peer: &str) -> String {
        format!("{}_{}", self.hostname, peer)
    }

    /// Replace the configuration in force (readers see the new one from their next read).
    pub(crate) fn set_config(&self, c: Config) {
        self.handover.cache().configure(&c);
        *self.config.write().unwrap_or_else(|p| p.into_inner()) = Arc::new(c);
    }

    /// The handle of client bind `name`, if running.
    pub async fn client(&self, name: &str) -> Option<Arc<ClientHandle>> {
        self.runtimes
            .lock()
            .await
            .clients
            .get(name)
            .map(|r| r.handle.clone())
    }
}

/// The TLS configuration of a client bind with `tls = true` (`None` without TLS). Errors name
/// the file and what is wrong with it.
pub fn client_tls(b: &ClientBind) -> Result<Option<ClientTls>, smpp_session::TlsError> {
    if !b.tls {
        return Ok(None);
    }
    let files = ClientTlsFiles {
        ca_file: b.tls_ca_file.clone(),
        cert_file: b.tls_cert_file.clone(),
        key_file: b.tls_key_file.clone(),
    };
    ClientTls::new(&files, b.tls_server_name.as_deref().unwrap_or(&b.host)).map(Some)
}

/// The session's view of a client bind: timers, window, TPS, retry schedule and TLS.
pub fn client_config(
    b: &ClientBind,
    start_delay: Duration,
    max_pdu_len: usize,
) -> Result<ClientConfig, smpp_session::TlsError> {
    let secs = |s: u64| Duration::from_secs(s.max(1));
    Ok(ClientConfig {
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
            enquire_link_timeout: secs(b.enquire_link_timeout),
            response_timeout: secs(b.response_timeout),
            window_size: b.window_size,
            bind_timeout: secs(b.bind_timeout),
            inactivity_timeout: secs_opt(b.inactivity_timeout),
            max_consecutive_timeouts: b.max_consecutive_timeouts,
            unbind_timeout: secs(b.unbind_timeout),
            drain_timeout: secs(b.drain_timeout),
            throttle_resends: b.throttle_resends,
            decode: crate::peers::decode_options(b.strict_pdu, b.interface_version),
        },
        tps_limit: b.tps_limit,
        reconnect_interval: secs(b.reconnect_interval),
        reconnect_max_interval: secs(b.reconnect_cap()),
        connect_timeout: secs(b.connect_timeout),
        start_delay,
        max_pdu_len,
        tls: client_tls(b)?,
    })
}

/// Serves `app` on `listener` (plain TCP or [`crate::admin_tls::TlsListener`]) until `stop`.
async fn serve_until<L>(listener: L, app: axum::Router, stop: CancellationToken)
where
    L: axum::serve::Listener,
    L::Addr: std::fmt::Debug,
{
    let _ = axum::serve(listener, app)
        .with_graceful_shutdown(async move { stop.cancelled().await })
        .await;
}

/// The TLS acceptor of `[listen.tls]`.
pub fn listen_tls(t: &ListenTls) -> Result<smpp_session::tls::TlsAcceptor, smpp_session::TlsError> {
    smpp_session::tls::acceptor(&ServerTlsFiles {
        cert_file: t.cert_file.clone(),
        key_file: t.key_file.clone(),
        client_ca_file: t.client_ca_file.clone(),
    })
}

/// Statuses after which trying again later may succeed (SMPP 3.4 §5.1.3 meanings).
pub fn is_temporary(status: CommandStatus) -> bool {
    matches!(
        status,
        CommandStatus::ESME_RSYSERR
            | CommandStatus::ESME_RMSGQFUL
            | CommandStatus::ESME_RTHROTTLED
            | CommandStatus::ESME_RX_T_APPN
    )
}

fn event(gw: &Gateway, bind: &str, message_id: &str, kind: EventKind) -> Event {
    Event {
        message_id: message_id.to_string(),
        frontend: gw.frontend(bind),
        bind_name: bind.to_string(),
        kind,
        at_ms: now_ms(),
    }
}

fn failed(status: u32, retryable: bool, reason: String) -> EventKind {
    EventKind::Failed {
        command_status: status,
        retryable,
        reason,
    }
}

/// A started gateway; [`Running::stop`] unbinds everything and stops it.
pub struct Running {
    /// The shared state.
    pub gw: Arc<Gateway>,
    /// The SMPP listener's address.
    pub smpp_addr: SocketAddr,
    /// The SMPP-over-TLS listener's address, when `[listen.tls]` is configured.
    pub smpp_tls_addr: Option<SocketAddr>,
    /// The core's base URL (the embedded core's loopback URL when embedded).
    pub core_url: String,
    /// The admin API's address, when enabled.
    pub admin_addr: Option<SocketAddr>,
    /// The simulator's SMPP address, when `[simulator]` is configured.
    pub sim_addr: Option<SocketAddr>,
    /// The send API's address, when it is served (embedded core with `[[api_clients]]`).
    pub send_api_addr: Option<SocketAddr>,
    sim: Option<smsc_sim::SimHandle>,
    embedded: Option<embedded_core::EmbeddedCore>,
}

/// Start everything from the file at `path` and run until SIGTERM/SIGINT; SIGHUP re-reads the
/// file.
pub async fn run(config: Config, path: PathBuf) -> anyhow::Result<()> {
    let running = start_from(config, Some(path)).await?;
    wait_for_signal(&running.gw).await;
    if running.stop().await {
        Ok(())
    } else {
        anyhow::bail!("shutdown was not clean (see the log)")
    }
}

/// Start everything from a configuration that came from no file (tests).
pub async fn start(config: Config) -> anyhow::Result<Running> {
    start_from(config, None).await
}

/// Start everything; returns once every listener is bound (client binds connect in the
/// background, so a carrier that is down does not hold the start). The operators' peer
/// overrides under `data_dir` are laid over `file`.
pub async fn start_from(file: Config, path: Option<PathBuf>) -> anyhow::Result<Running> {
    let overrides_path = crate::supervisor::PeerOverrides::path(&file.data_dir);
    let overrides = crate::supervisor::PeerOverrides::load(&overrides_path)
        .map_err(|e| anyhow::anyhow!("peer overrides: {e}"))?;
    let config = overrides.apply(&file);
    let problems = config.validate();
    if !problems.is_empty() {
        let list: Vec<String> = problems.iter().map(|p| p.to_string()).collect();
        anyhow::bail!(
            "{} with the run-time peer edits of {}: {}",
            path.as_ref()
                .map(|p| p.display().to_string())
                .unwrap_or_default(),
            overrides_path.display(),
            list.join("; ")
        );
    }
    let shutdown = CancellationToken::new();
    let tasks = tokio_util::task::TaskTracker::new();

    // Metrics first, so nothing that happens at start is missed.
    if config.metrics.enabled {
        let addr: SocketAddr = format!("{}:{}", config.metrics.host, config.metrics.port)
            .parse()
            .context("metrics address")?;
        metrics_exporter_prometheus::PrometheusBuilder::new()
            .with_http_listener(addr)
            .set_buckets(&[
                0.0005, 0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
            ])
            .context("metrics buckets")?
            .install()
            .with_context(|| format!("cannot serve /metrics on {addr}"))?;
        tracing::info!(%addr, "metrics on /metrics");
    }

    // The core: embedded (called in process by our binds, and served over HTTP) or remote.
    let mut embedded = None;
    let mut send_api_addr = None;
    let api_url = if config.api_base_url == "embedded" {
        let dir = config.data_dir.join("core");
        std::fs::create_dir_all(&dir)
            .with_context(|| format!("cannot create {}", dir.display()))?;
        let core_cfg = config.embedded_core_config();
        let core = embedded_core::EmbeddedCore::open(&dir, core_cfg)
            .with_context(|| format!("cannot open the embedded core in {}", dir.display()))?;
        let addr = format!(
            "{}:{}",
            config.embedded_core.host, config.embedded_core.port
        );
        let listener = tokio::net::TcpListener::bind(&addr)
            .await
            .with_context(|| format!("embedded core cannot listen on {addr}"))?;
        let url = format!("http://{}", listener.local_addr()?);
        let stop = shutdown.clone();
        let served = core.clone();
        tokio::spawn(async move {
            if let Err(e) =
                embedded_core::serve(listener, served, async move { stop.cancelled().await }).await
            {
                tracing::error!(error = %e, "embedded core stopped");
            }
        });
        tracing::info!(%url, "embedded core serving");
        if config.send_api.enabled && !config.api_clients.is_empty() {
            let addr = format!("{}:{}", config.send_api.host, config.send_api.port);
            let listener = tokio::net::TcpListener::bind(&addr)
                .await
                .with_context(|| format!("send API cannot listen on {addr}"))?;
            let bound = listener.local_addr()?;
            let app = core.send_router();
            let stop = shutdown.clone();
            tokio::spawn(async move {
                if let Err(e) = axum::serve(listener, app)
                    .with_graceful_shutdown(async move { stop.cancelled().await })
                    .await
                {
                    tracing::error!(error = %e, "send API stopped");
                }
            });
            tracing::info!(addr = %bound, clients = config.api_clients.len(), "send API (POST /api/v1/send, /3rdparty/v1/messages)");
            send_api_addr = Some(bound);
        }
        embedded = Some(core);
        url
    } else {
        config.api_base_url.clone()
    };
    let core_timeout = Duration::from_millis(config.core_timeout_ms);
    let core = match &embedded {
        // The embedded core's own binds skip HTTP and JSON: the same operations, called directly.
        Some(local) if config.embedded_core.in_process => {
            let local: Arc<dyn core_bridge::InProcessCore> = Arc::new(local.clone());
            CoreClient::in_process(&api_url, local, core_timeout)
        }
        _ => CoreClient::new(&api_url, config.verify_ssl_peer, core_timeout),
    }
    .context("core client")?;
    if core.is_in_process() {
        tracing::info!("the binds call the embedded core in process");
    }
    match core.health().await {
        Ok(h) => tracing::info!(url = %api_url, status = %h.status, "core reachable"),
        Err(e) => {
            tracing::warn!(url = %api_url, error = %e, "core not reachable at start; binds start anyway")
        }
    }

    // The retry cache (seed "Cache de Messages SMPP"): opened before any bind accepts a message.
    let cache = crate::handover::CacheSlot::open(&config, core.clone(), shutdown.clone()).await;

    // The demo's carrier.
    let mut sim = None;
    if let Some(s) = &config.simulator {
        let mut sc = smsc_sim::SimConfig::new(s.listen.parse().context("simulator.listen")?);
        sc.system_id = s.system_id.clone();
        sc.password = s.password.clone();
        sc.receipt_delay_ms = s.receipt_delay_ms;
        sc.control = s
            .control
            .as_deref()
            .map(str::parse)
            .transpose()
            .context("simulator.control")?;
        let handle = smsc_sim::start(sc)
            .await
            .context("cannot start the simulator")?;
        tracing::info!(addr = %handle.smpp_addr, "SMSC simulator running");
        sim = Some(handle);
    }

    let generated_admin_token = if config.admin.enabled
        && config.admin.token.is_none()
        && config.admin.username.is_none()
    {
        let (path, token) = admin_token_file(&config.data_dir)?;
        tracing::info!(file = %path.display(), "admin API: no credential configured; using the token in this file (mode 0600)");
        Some(token)
    } else {
        None
    };
    let source = crate::supervisor::ConfigSource {
        path,
        file,
        overrides,
    };
    let gw = Gateway::new(
        config.clone(),
        source,
        core,
        cache,
        embedded.clone(),
        generated_admin_token,
        shutdown.clone(),
        tasks.clone(),
    );

    // Server binds: the plain listener and, with [listen.tls], a TLS one beside it, under one
    // max_connections.
    let listen_addr = format!("{}:{}", config.listen.host, config.listen.port);
    let listener = tokio::net::TcpListener::bind(&listen_addr)
        .await
        .with_context(|| format!("cannot listen for SMPP on {listen_addr}"))?;
    let smpp_addr = listener.local_addr()?;
    tracing::info!(addr = %smpp_addr, "SMPP listener");
    let mut endpoints = vec![Endpoint::plain(listener)];
    let mut smpp_tls_addr = None;
    if let Some(t) = &config.listen.tls {
        let acceptor = listen_tls(t).map_err(|e| anyhow::anyhow!("listen.tls: {e}"))?;
        let addr = format!(
            "{}:{}",
            t.host.as_deref().unwrap_or(&config.listen.host),
            t.port
        );
        let listener = tokio::net::TcpListener::bind(&addr)
            .await
            .with_context(|| format!("cannot listen for SMPP over TLS on {addr}"))?;
        let local = listener.local_addr()?;
        tracing::info!(addr = %local, client_certificates = t.client_ca_file.is_some(), "SMPP over TLS listener");
        smpp_tls_addr = Some(local);
        endpoints.push(Endpoint::tls(listener, acceptor));
    }
    let lcfg = ListenerConfig {
        our_system_id: config.smsc_name.chars().take(15).collect(),
        session: SessionConfig {
            bind_timeout: Duration::from_secs(config.listen.bind_timeout.max(1)),
            decode: crate::peers::decode_options(config.listen.strict_pdu, 0x34),
            ..SessionConfig::default()
        },
        max_pdu_len: config.max_pdu_len,
    };
    let server_handler = Arc::new(ServerSide::new(gw.clone()));
    tasks.spawn(smpp_session::serve(
        endpoints,
        gw.connections.clone(),
        lcfg,
        server_handler,
        gw.registry.clone(),
        shutdown.clone(),
    ));

    // Binds and their queue workers; client binds start 500 ms apart.
    gw.apply(config.clone(), true).await;

    tasks.spawn(heartbeat(gw.clone()));
    tasks.spawn(uptime(gw.clone()));
    let mut admin_addr = None;
    if config.admin.enabled {
        let addr = format!("{}:{}", config.admin.host, config.admin.port);
        let listener = tokio::net::TcpListener::bind(&addr)
            .await
            .with_context(|| format!("admin API cannot listen on {addr}"))?;
        admin_addr = Some(listener.local_addr()?);
        let app = crate::admin::router(gw.clone());
        let stop = shutdown.clone();
        if let Some(files) = config.admin.tls_files() {
            // HTTPS only on this port: a certificate is configured (issue 7, seed "Interface web").
            let acceptor = smpp_session::tls::acceptor(&files)
                .map_err(|e| anyhow::anyhow!("admin.tls_cert_file: {e}"))?;
            let tls = crate::admin_tls::TlsListener::new(listener, acceptor, shutdown.clone())
                .context("admin API (HTTPS)")?;
            tasks.spawn(serve_until(tls, app, stop));
            tracing::info!(%addr, "admin API and dashboard (HTTPS)");
        } else {
            tasks.spawn(serve_until(listener, app, stop));
            tracing::info!(%addr, "admin API and dashboard (HTTP)");
        }
    }
    tasks.close();
    let sim_addr = sim.as_ref().map(|s| s.smpp_addr);
    Ok(Running {
        gw,
        smpp_addr,
        smpp_tls_addr,
        core_url: api_url,
        admin_addr,
        sim_addr,
        send_api_addr,
        sim,
        embedded,
    })
}

impl Running {
    /// The built-in simulator, when `[simulator]` is configured.
    pub fn simulator(&self) -> Option<&smsc_sim::SimHandle> {
        self.sim.as_ref()
    }

    /// Stop: the listener stops accepting, every session unbinds, workers end, the embedded
    /// core flushes — all within `shutdown_timeout`. Returns false when that bound was hit
    /// (what was left is abandoned: the core's leases bring unreported messages back).
    pub async fn stop(self) -> bool {
        let Running {
            gw, sim, embedded, ..
        } = self;
        let limit = Duration::from_secs(gw.config().shutdown_timeout.max(1));
        let t0 = Instant::now();
        let tasks = gw.tasks.clone();
        tracing::info!(
            ?limit,
            "shutting down: no new connections; unbinding every session"
        );
        gw.shutdown.cancel();
        let orderly = async {
            gw.stop_all_clients().await;
            tasks.wait().await;
            // What the cache holds is on disk already; this stops its worker and flushes.
            gw.handover.cache().shutdown().await;
            if let Some(s) = sim {
                s.shutdown().await;
            }
        };
        let mut clean = tokio::time::timeout(limit, orderly).await.is_ok();
        if !clean {
            tracing::error!(
                ?limit,
                "sessions and tasks did not stop within shutdown_timeout; stopping anyway"
            );
        }
        if let Some(core) = embedded {
            // The store's flush gets what is left of the bound, and at least 2 s.
            let rest = limit
                .saturating_sub(t0.elapsed())
                .max(Duration::from_secs(2));
            match tokio::time::timeout(rest, core.flush()).await {
                Ok(Ok(())) => {}
                Ok(Err(e)) => {
                    clean = false;
                    tracing::error!(error = %e, "embedded core flush failed");
                }
                Err(_) => {
                    clean = false;
                    tracing::error!("embedded core flush did not finish in time");
                }
            }
        }
        tracing::info!(
            elapsed_ms = t0.elapsed().as_millis() as u64,
            clean,
            "stopped"
        );
        clean
    }
}

/// The admin token used when the file configures no credential: read from
/// `data_dir/admin.token`, or made (128 random bits, hex) and written there with mode 0600,
/// so that the admin API is never open and the CLI on the same host finds the token.
pub fn admin_token_file(data_dir: &std::path::Path) -> anyhow::Result<(PathBuf, String)> {
    let path = data_dir.join("admin.token");
    if let Ok(t) = std::fs::read_to_string(&path) {
        let t = t.trim().to_string();
        if t.len() >= 16 {
            return Ok((path, t));
        }
    }
    let mut bytes = [0u8; 16];
    {
        use std::io::Read as _;
        std::fs::File::open("/dev/urandom")
            .and_then(|mut f| f.read_exact(&mut bytes))
            .context("cannot read /dev/urandom for the admin token")?;
    }
    let token: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
    std::fs::create_dir_all(data_dir)
        .with_context(|| format!("cannot create {}", data_dir.display()))?;
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt as _;
        opts.mode(0o600);
    }
    {
        use std::io::Write as _;
        let mut f = opts
            .open(&path)
            .with_context(|| format!("cannot write {}", path.display()))?;
        f.write_all(token.as_bytes())?;
        f.sync_all()?;
    }
    Ok((path, token))
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
pub(crate) async fn queue_worker(
    gw: Arc<Gateway>,
    name: String,
    target: Target,
    labels: BindLabels,
    window_size: usize,
    poll: Duration,
    per_claim: usize,
    policy: SendPolicy,
    stop: CancellationToken,
) {
    let window = Arc::new(Semaphore::new(window_size));
    let frontend = gw.frontend(&name);
    let mut status = match &target {
        Target::Carrier(h) => Some(h.subscribe()),
        Target::Partner => None,
    };
    // The long poll's wait does not follow the poll interval: a core that long-polls answers the
    // moment a message arrives, so a longer wait costs no latency and spares an idle bind ten
    // empty claims a second (S4 idle CPU, docs/performance.md). The interval paces cores that
    // answer at once (below).
    let wait_ms = MAX_CLAIM_WAIT_MS.min(gw.config().core_timeout_ms / 2) as u32;
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
            let Ok(p) = window.clone().acquire_owned().await else {
                return;
            };
            drop(p);
            continue;
        }
        let (dest_smsc, source_smsc) = match &target {
            Target::Carrier(_) => (Some(name.clone()), None),
            Target::Partner => (None, Some(name.clone())),
        };
        let req = ClaimRequest {
            frontend: frontend.clone(),
            dest_smsc,
            source_smsc,
            limit: free as u32,
            lease_seconds: None,
            wait_ms: Some(wait_ms),
        };
        let t0 = Instant::now();
        let claimed = gw.core.claim(&req).await;
        telemetry::core_call("claim", t0.elapsed().as_secs_f64(), &claimed);
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
            let Ok(permit) = window.clone().acquire_owned().await else {
                return;
            };
            let occupancy = window_size - window.available_permits();
            labels.observe(telemetry::WINDOW_OCCUPANCY, occupancy as f64);
            labels.set(telemetry::WINDOW_IN_FLIGHT, occupancy as f64);
            let partner = matches!(target, Target::Partner);
            // The bind's text settings (alphabet of data_coding 0, how long messages go), read
            // per message so that an edit applies to the next one.
            let settings = {
                let cfg = gw.config();
                if partner {
                    cfg.server_binds
                        .iter()
                        .find(|b| b.name == name)
                        .map(|b| b.text_settings())
                } else {
                    cfg.binds
                        .iter()
                        .find(|b| b.name == name)
                        .map(|b| b.text_settings())
                }
                .unwrap_or_default()
            };
            let pdu = match convert::pdu_from_outbound_with(&m, partner, &settings) {
                Ok(p) => p,
                Err(why) => {
                    unsendable(&gw, &name, &labels, &m, why);
                    continue;
                }
            };
            // Queued here, one after the other, so the session sends them in the core's order;
            // their answers are awaited concurrently. Nothing goes out after the lease ends:
            // the core may have handed the message to someone else by then.
            let lease_end = tokio::time::Instant::now()
                + Duration::from_millis(m.lease_until_ms.saturating_sub(now_ms()));
            let first = match &target {
                Target::Carrier(h) => h.queue(pdu.clone(), Some(lease_end)).await,
                Target::Partner => {
                    gw.registry
                        .queue_deliver(&name, pdu.clone(), Some(lease_end))
                        .await
                }
            };
            let (gw, name, labels, target, window) = (
                gw.clone(),
                name.clone(),
                labels.clone(),
                target.clone(),
                window.clone(),
            );
            tokio::spawn(async move {
                let first = async move {
                    match first {
                        Ok(reply) => reply.await,
                        Err(e) => Err(e),
                    }
                };
                let kind = match &target {
                    // Each resend goes to the partner's least busy receiving session, so it may
                    // use another session than the one that failed.
                    Target::Partner => {
                        send_until_done(&name, &labels, &m, policy, true, first, || {
                            gw.registry.deliver(&name, pdu.clone())
                        })
                        .await
                    }
                    Target::Carrier(h) => {
                        send_until_done(&name, &labels, &m, policy, false, first, || {
                            h.send(pdu.clone())
                        })
                        .await
                    }
                };
                gw.events.report(event(&gw, &name, &m.id, kind));
                drop(permit);
                labels.set(
                    telemetry::WINDOW_IN_FLIGHT,
                    (window_size - window.available_permits()) as f64,
                );
            });
        }
    }
}

/// A message the core asked us to send that SMPP cannot carry: reported failed for good.
fn unsendable(gw: &Gateway, name: &str, labels: &BindLabels, m: &OutboundMessage, why: String) {
    tracing::warn!(bind = %name, message_id = %m.id, "cannot send: {why}");
    labels.inc(telemetry::DELIVERY_FAILURES);
    gw.events.report(event(
        gw,
        name,
        &m.id,
        failed(CommandStatus::ESME_RINVMSGLEN.0, false, why),
    ));
}

/// How a queue worker treats a message that failed on its bind (from the bind's keys).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SendPolicy {
    /// `response_timeout_action`.
    pub timeout_action: TimeoutAction,
    /// `resend_attempts`.
    pub resend_attempts: u32,
    /// `response_timeout`: a resend is only tried when its answer can come within the lease.
    pub response_timeout: Duration,
}

/// First wait before the gateway resends a message itself; doubles with each resend.
pub const RESEND_BACKOFF: Duration = Duration::from_secs(1);

/// What one attempt's outcome means for the message.
#[derive(Debug, PartialEq, Eq)]
enum Verdict {
    Done(EventKind),
    /// Worth sending again (temporary error, not sent, or no response under `retry`); the
    /// event to report if no resend is possible.
    Again(EventKind),
}

/// The verdict on one attempt. `partner` marks `deliver_sm` to a partner, where every error
/// but `ESME_RX_P_APPN`/`ESME_RX_R_APPN` is temporary (the partner refuses for now).
fn judge(
    outcome: Result<smpp_codec::pdu::Frame, SendFailure>,
    policy: SendPolicy,
    partner: bool,
) -> Verdict {
    match outcome {
        Ok(frame) if frame.command_status.is_ok() => Verdict::Done(match &frame.pdu {
            Pdu::SubmitSmResp(r) => EventKind::Submitted {
                smsc_message_id: r.message_id.to_str_lossy().into_owned(),
            },
            _ => EventKind::DeliveredToEsme,
        }),
        Ok(frame) => {
            let st = frame.command_status;
            let name =
                smpp_codec::command::command_name(frame.pdu.command_id()).unwrap_or("response");
            let temporary = if partner {
                !matches!(
                    st,
                    CommandStatus::ESME_RX_P_APPN | CommandStatus::ESME_RX_R_APPN
                )
            } else {
                is_temporary(st)
            };
            let kind = failed(st.0, temporary, format!("{name} {st}"));
            if temporary {
                Verdict::Again(kind)
            } else {
                Verdict::Done(kind)
            }
        }
        Err(SendFailure::NotBound) => {
            Verdict::Again(failed(0, true, "not sent: bind not bound".into()))
        }
        // The lease is over: only the core may decide who sends it now.
        Err(SendFailure::Expired) => {
            Verdict::Done(failed(0, true, "not sent before the lease ended".into()))
        }
        Err(e) => match policy.timeout_action {
            TimeoutAction::Retry => {
                Verdict::Again(failed(0, true, format!("{e}; the peer may have it")))
            }
            TimeoutAction::Fail => Verdict::Done(failed(
                0,
                false,
                format!("{e}; the peer may have it, not resent (response_timeout_action = fail)"),
            )),
        },
    }
}

/// Send `m` with `send` until it is done: accepted, refused for good, or out of resends
/// (`resend_attempts`, 1 s then doubling, and never past the lease minus a response
/// timeout, so that no other gateway can be sending it meanwhile). Throttling is seen here
/// only once the session gave up resending (it resends throttled requests itself, in order,
/// and reports each refusal as `LinkEvent::Throttled`, counted in `smppgw_throttled_total`).
async fn send_until_done<F, Fut, First>(
    name: &str,
    labels: &BindLabels,
    m: &OutboundMessage,
    policy: SendPolicy,
    partner: bool,
    first: First,
    mut send: F,
) -> EventKind
where
    First: std::future::Future<Output = Result<smpp_codec::pdu::Frame, SendFailure>>,
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<smpp_codec::pdu::Frame, SendFailure>>,
{
    let mut resends = 0u32;
    let mut backoff = RESEND_BACKOFF;
    let mut t0 = Instant::now();
    let mut outcome = first.await;
    // Whether any attempt went on the wire (NotBound and Expired sent nothing).
    let mut on_wire = false;
    loop {
        let not_sent = matches!(&outcome, Err(SendFailure::NotBound | SendFailure::Expired));
        on_wire |= !not_sent;
        if outcome.is_ok() {
            // Every answer, whatever its status: the peer's response time.
            labels.observe(telemetry::RESPONSE_LATENCY, t0.elapsed().as_secs_f64());
        }
        let (kind, done) = match judge(outcome, policy, partner) {
            Verdict::Done(kind) => (kind, true),
            Verdict::Again(kind) => {
                let lease_left = Duration::from_millis(m.lease_until_ms.saturating_sub(now_ms()));
                if resends < policy.resend_attempts
                    && backoff + policy.response_timeout < lease_left
                {
                    resends += 1;
                    if let EventKind::Failed { reason, .. } = &kind {
                        tracing::info!(bind = %name, message_id = %m.id, "{reason}; resending in {}s ({resends} of {})", backoff.as_secs(), policy.resend_attempts);
                    }
                    tokio::time::sleep(backoff).await;
                    backoff *= 2;
                    t0 = Instant::now();
                    outcome = send().await;
                    continue;
                }
                (kind, false)
            }
        };
        // One message counts once: sent when any attempt went on the wire, and a failure when
        // its final outcome is one (the seed's success rate is (sent − failures) / sent).
        if on_wire {
            labels.inc(telemetry::MESSAGES_SENT);
        }
        if let EventKind::Failed { reason, .. } = &kind {
            if on_wire {
                labels.inc(telemetry::DELIVERY_FAILURES);
            }
            if done {
                tracing::warn!(bind = %name, message_id = %m.id, "failed: {reason}");
            } else {
                tracing::warn!(bind = %name, message_id = %m.id, "{reason}; handed back to the core for a later retry");
            }
        }
        return kind;
    }
}

/// The registration of every enabled peer, each as `{hostname}_{peer_name}` (seed 002,
/// "Enregistrement Frontend").
pub fn registrations(cfg: &Config, frontend: impl Fn(&str) -> String) -> Vec<FrontendRegistration> {
    let clients = cfg
        .binds
        .iter()
        .filter(|b| b.enabled)
        .map(|b| (b.name.as_str(), BindMode::Client));
    let servers = cfg
        .server_binds
        .iter()
        .filter(|b| b.enabled)
        .map(|b| (b.name.as_str(), BindMode::Server));
    clients
        .chain(servers)
        .map(|(name, mode)| FrontendRegistration {
            frontend: frontend(name),
            bind_name: name.to_string(),
            bind_mode: mode,
            smsc_name: cfg.smsc_name.clone(),
        })
        .collect()
}

/// Register every enabled peer at once, then every `period` (the seed's 60 s heartbeat; the
/// core expires a frontend after 90 s), and again as soon as `wake` is notified (a peer was
/// added or enabled: it should not wait up to a minute to be routed to). The first success
/// of each frontend is logged at info, the first failure of an outage at warn (the seed's
/// troubleshooting looks for "frontend_register" in the logs).
pub async fn heartbeat_loop<F, Fut>(
    period: Duration,
    wake: Arc<tokio::sync::Notify>,
    stop: CancellationToken,
    current: impl Fn() -> Vec<FrontendRegistration>,
    register: F,
) where
    F: Fn(FrontendRegistration) -> Fut,
    Fut: std::future::Future<Output = Result<(), String>>,
{
    let mut failing: std::collections::HashSet<String> = Default::default();
    let mut registered: std::collections::HashSet<String> = Default::default();
    loop {
        for reg in current() {
            let frontend = reg.frontend.clone();
            match register(reg).await {
                Ok(()) => {
                    if failing.remove(&frontend) || registered.insert(frontend.clone()) {
                        tracing::info!(%frontend, "frontend_register: registered with the core");
                    }
                }
                Err(e) => {
                    if failing.insert(frontend.clone()) {
                        tracing::warn!(%frontend, error = %e, "frontend_register failed; retrying every heartbeat");
                    }
                }
            }
        }
        tokio::select! {
            _ = stop.cancelled() => return,
            _ = tokio::time::sleep(period) => {}
            _ = wake.notified() => {}
        }
    }
}

async fn heartbeat(gw: Arc<Gateway>) {
    let core = gw.core.clone();
    let g = gw.clone();
    heartbeat_loop(
        HEARTBEAT,
        gw.register_now.clone(),
        gw.shutdown.clone(),
        move || registrations(&g.config(), |p| g.frontend(p)),
        move |reg| {
            let core = core.clone();
            async move {
                let t0 = Instant::now();
                let res = core.register(&reg).await;
                telemetry::core_call("register", t0.elapsed().as_secs_f64(), &res);
                res.map(|_| ()).map_err(|e| e.to_string())
            }
        },
    )
    .await;
}

/// Keep `smpp_uptime_seconds` current.
async fn uptime(gw: Arc<Gateway>) {
    loop {
        let cfg = gw.config();
        for b in &cfg.binds {
            if let Some(h) = gw.client(&b.name).await {
                let s = h.status();
                let up = if s.state == LinkState::Bound {
                    s.since.elapsed().as_secs_f64()
                } else {
                    0.0
                };
                BindLabels::client(&b.name, &b.host, b.port, b.bind_type.as_str(), &b.system_id)
                    .set(telemetry::UPTIME_SECONDS, up.floor());
            }
        }
        let sessions = gw.registry.snapshot();
        for b in &cfg.server_binds {
            let up = sessions
                .iter()
                .filter(|s| s.info.peer_name == b.name)
                .map(|s| s.uptime.as_secs_f64())
                .fold(0.0, f64::max);
            BindLabels::server(&b.name, &b.system_id).set(telemetry::UPTIME_SECONDS, up.floor());
        }
        if !sleep_or_stop(&gw.shutdown, Duration::from_secs(5)).await {
            return;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Mutex;

    fn cfg() -> Config {
        let dir = std::env::temp_dir().join(format!("smppgw-app-hb-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let p = dir.join("c.toml");
        std::fs::write(
            &p,
            "smsc_name = \"gw_prod\"\n[[binds]]\nname = \"carrier\"\nhost = \"h\"\nsystem_id = \"s\"\npassword = \"p\"\n[[binds]]\nname = \"spare\"\nhost = \"h\"\nsystem_id = \"s\"\npassword = \"p\"\nenabled = false\n[[server_binds]]\nname = \"acme\"\nsystem_id = \"a\"\npassword = \"p\"\n",
        )
        .unwrap();
        Config::load_with_env(&p, &|_| None).unwrap()
    }

    #[test]
    fn every_enabled_peer_is_registered_as_hostname_underscore_name() {
        let regs = registrations(&cfg(), |p| format!("gwhost_{p}"));
        let got: Vec<(&str, &str, BindMode, &str)> = regs
            .iter()
            .map(|r| {
                (
                    r.frontend.as_str(),
                    r.bind_name.as_str(),
                    r.bind_mode,
                    r.smsc_name.as_str(),
                )
            })
            .collect();
        assert_eq!(
            got,
            vec![
                ("gwhost_carrier", "carrier", BindMode::Client, "gw_prod"),
                ("gwhost_acme", "acme", BindMode::Server, "gw_prod")
            ],
            "the disabled peer is not registered"
        );
    }

    /// With the clock paused: registrations at once, then every 60 s, and at once when woken.
    #[tokio::test(start_paused = true)]
    async fn the_heartbeat_is_every_60_s_and_at_once_when_peers_change() {
        let seen: Arc<Mutex<Vec<(Duration, String)>>> = Default::default();
        let wake = Arc::new(tokio::sync::Notify::new());
        let stop = CancellationToken::new();
        let t0 = tokio::time::Instant::now();
        let c = cfg();
        let log = seen.clone();
        let task = tokio::spawn(heartbeat_loop(
            HEARTBEAT,
            wake.clone(),
            stop.clone(),
            move || registrations(&c, |p| format!("h_{p}")),
            move |r| {
                let log = log.clone();
                async move {
                    log.lock().unwrap().push((t0.elapsed(), r.frontend));
                    Ok(())
                }
            },
        ));
        let times = |s: &Arc<Mutex<Vec<(Duration, String)>>>| {
            s.lock()
                .unwrap()
                .iter()
                .map(|(t, _)| t.as_secs())
                .collect::<Vec<_>>()
        };
        tokio::time::sleep(Duration::from_secs(59)).await;
        assert_eq!(
            times(&seen),
            vec![0, 0],
            "both peers at start, nothing more before 60 s"
        );
        tokio::time::sleep(Duration::from_secs(2)).await;
        assert_eq!(times(&seen), vec![0, 0, 60, 60]);
        tokio::time::sleep(Duration::from_secs(9)).await;
        wake.notify_one();
        tokio::time::sleep(Duration::from_millis(1)).await;
        assert_eq!(
            times(&seen),
            vec![0, 0, 60, 60, 70, 70],
            "a change registers at once"
        );
        tokio::time::sleep(Duration::from_secs(60)).await;
        assert_eq!(
            times(&seen).len(),
            8,
            "and the period starts again from there"
        );
        stop.cancel();
        task.await.unwrap();
        assert_eq!(seen.lock().unwrap()[0].1, "h_carrier");
    }

    use smpp_codec::pdu::{DeliverSmResp, Frame, SubmitSmResp};
    use std::sync::atomic::{AtomicU32, Ordering};

    fn policy(timeout_action: TimeoutAction, resend_attempts: u32) -> SendPolicy {
        SendPolicy {
            timeout_action,
            resend_attempts,
            response_timeout: Duration::from_secs(10),
        }
    }

    fn submit_resp(status: CommandStatus) -> Result<Frame, SendFailure> {
        Ok(Frame::with_status(
            1,
            status,
            Pdu::SubmitSmResp(SubmitSmResp {
                message_id: "C-9".into(),
                ..Default::default()
            }),
        ))
    }

    fn deliver_resp(status: CommandStatus) -> Result<Frame, SendFailure> {
        Ok(Frame::with_status(
            1,
            status,
            Pdu::DeliverSmResp(DeliverSmResp::default()),
        ))
    }

    fn retryable(v: &Verdict) -> Option<bool> {
        match v {
            Verdict::Done(EventKind::Failed { retryable, .. })
            | Verdict::Again(EventKind::Failed { retryable, .. }) => Some(*retryable),
            _ => None,
        }
    }

    #[test]
    fn a_timeout_is_resent_or_failed_as_response_timeout_action_says() {
        for failure in [
            SendFailure::Timeout,
            SendFailure::Closed("enquire_link timeout".into()),
        ] {
            let v = judge(Err(failure.clone()), policy(TimeoutAction::Retry, 2), false);
            assert!(
                matches!(v, Verdict::Again(_)) && retryable(&v) == Some(true),
                "{failure}: {v:?}"
            );
            let v = judge(Err(failure.clone()), policy(TimeoutAction::Fail, 2), false);
            assert!(
                matches!(&v, Verdict::Done(EventKind::Failed { retryable: false, reason, .. }) if reason.contains("may have it")),
                "{failure}: {v:?}"
            );
        }
        // Not sent at all: always safe to send again, whatever the policy.
        let v = judge(
            Err(SendFailure::NotBound),
            policy(TimeoutAction::Fail, 2),
            false,
        );
        assert!(matches!(v, Verdict::Again(_)) && retryable(&v) == Some(true));
        // Not sent before the lease ended: back to the core, never resent by us.
        let v = judge(
            Err(SendFailure::Expired),
            policy(TimeoutAction::Retry, 2),
            false,
        );
        assert!(matches!(v, Verdict::Done(_)) && retryable(&v) == Some(true));
    }

    #[test]
    fn answers_are_judged_by_status_and_side() {
        let p = policy(TimeoutAction::Retry, 2);
        assert_eq!(
            judge(submit_resp(CommandStatus::ESME_ROK), p, false),
            Verdict::Done(EventKind::Submitted {
                smsc_message_id: "C-9".into()
            })
        );
        assert_eq!(
            judge(deliver_resp(CommandStatus::ESME_ROK), p, true),
            Verdict::Done(EventKind::DeliveredToEsme)
        );
        // A carrier's temporary error is tried again; a permanent one ends it.
        assert!(matches!(
            judge(submit_resp(CommandStatus::ESME_RSYSERR), p, false),
            Verdict::Again(_)
        ));
        let v = judge(submit_resp(CommandStatus::ESME_RINVDSTADR), p, false);
        assert!(
            matches!(
                &v,
                Verdict::Done(EventKind::Failed {
                    command_status: 0x0B,
                    retryable: false,
                    ..
                })
            ),
            "{v:?}"
        );
        // A partner's refusal is temporary unless it says "permanent" or "reject".
        assert!(matches!(
            judge(deliver_resp(CommandStatus::ESME_RX_T_APPN), p, true),
            Verdict::Again(_)
        ));
        assert!(matches!(
            judge(deliver_resp(CommandStatus::ESME_RSYSERR), p, true),
            Verdict::Again(_)
        ));
        for st in [CommandStatus::ESME_RX_P_APPN, CommandStatus::ESME_RX_R_APPN] {
            assert_eq!(retryable(&judge(deliver_resp(st), p, true)), Some(false));
            assert!(matches!(judge(deliver_resp(st), p, true), Verdict::Done(_)));
        }
    }

    fn leased_for(secs: u64) -> OutboundMessage {
        serde_json::from_value(serde_json::json!({
            "id": "m-1", "kind": "mo", "source": {"addr": "33600000001"}, "destination": {"addr": "1234"},
            "payload": "", "lease_until_ms": now_ms() + secs * 1000
        }))
        .unwrap()
    }

    /// `send_until_done` with `send` as the first attempt too.
    async fn run<F, Fut>(
        labels: &BindLabels,
        m: &OutboundMessage,
        policy: SendPolicy,
        partner: bool,
        mut send: F,
    ) -> EventKind
    where
        F: FnMut() -> Fut,
        Fut: std::future::Future<Output = Result<Frame, SendFailure>>,
    {
        let first = send();
        send_until_done("p", labels, m, policy, partner, first, send).await
    }

    #[tokio::test(start_paused = true)]
    async fn resends_back_off_and_stop_at_the_attempts_or_the_lease() {
        let labels = BindLabels::server("p", "p");
        // A partner busy twice, then accepting: delivered after 1 s and 2 s waits.
        let calls = AtomicU32::new(0);
        let t0 = tokio::time::Instant::now();
        let kind = run(
            &labels,
            &leased_for(60),
            policy(TimeoutAction::Retry, 2),
            true,
            || {
                let n = calls.fetch_add(1, Ordering::SeqCst);
                async move {
                    deliver_resp(if n < 2 {
                        CommandStatus::ESME_RX_T_APPN
                    } else {
                        CommandStatus::ESME_ROK
                    })
                }
            },
        )
        .await;
        assert_eq!(kind, EventKind::DeliveredToEsme);
        assert_eq!(
            (calls.load(Ordering::SeqCst), t0.elapsed()),
            (3, Duration::from_secs(3))
        );
        // Out of attempts: handed back to the core, retryable.
        let calls = AtomicU32::new(0);
        let kind = run(
            &labels,
            &leased_for(60),
            policy(TimeoutAction::Retry, 2),
            true,
            || {
                calls.fetch_add(1, Ordering::SeqCst);
                async { deliver_resp(CommandStatus::ESME_RX_T_APPN) }
            },
        )
        .await;
        assert!(
            matches!(
                kind,
                EventKind::Failed {
                    retryable: true,
                    command_status: 0x64,
                    ..
                }
            ),
            "{kind:?}"
        );
        assert_eq!(calls.load(Ordering::SeqCst), 3);
        // A lease too short for another response timeout: no resend, another gateway may get it.
        let calls = AtomicU32::new(0);
        let kind = run(
            &labels,
            &leased_for(5),
            policy(TimeoutAction::Retry, 2),
            true,
            || {
                calls.fetch_add(1, Ordering::SeqCst);
                async { Err(SendFailure::Timeout) }
            },
        )
        .await;
        assert!(matches!(
            kind,
            EventKind::Failed {
                retryable: true,
                ..
            }
        ));
        assert_eq!(calls.load(Ordering::SeqCst), 1);
        // fail: a timeout is never resent.
        let calls = AtomicU32::new(0);
        let kind = run(
            &labels,
            &leased_for(60),
            policy(TimeoutAction::Fail, 2),
            false,
            || {
                calls.fetch_add(1, Ordering::SeqCst);
                async { Err(SendFailure::Timeout) }
            },
        )
        .await;
        assert!(matches!(
            kind,
            EventKind::Failed {
                retryable: false,
                ..
            }
        ));
        assert_eq!(calls.load(Ordering::SeqCst), 1);
    }
}
