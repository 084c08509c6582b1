//! Peers at run time: the supervisor that brings running binds in line with the configuration,
//! and the persisted overrides that operators' edits leave.
//!
//! The configuration in force is the file's, with the peers edited through the admin API laid
//! over it (seed 002: peers edited in the web interface take effect at once, survive restarts
//! and override the file). Overrides are kept per peer in `data_dir/peer-overrides.json`: an
//! edited or added peer replaces the file's peer of that name; a deleted one hides it. Peers
//! nobody edited follow the file, so `SIGHUP` after a file edit applies it.
//!
//! What a change does (seed 002, "Modifier une connexion existante"):
//! - a client bind whose parameters changed reconnects with the new ones; a disabled or deleted
//!   one unbinds and stops;
//! - a server peer's new password or whitelists apply to the next bind / next PDU (they are read
//!   live); its new TPS and timers apply to live sessions at once; a disabled peer's sessions
//!   unbind; a deleted peer's sessions are dropped.

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use serde::{Deserialize, Serialize};
use smpp_session::{spawn_client, ClientHandle};
use tokio_util::sync::CancellationToken;

use crate::app::{
    client_config, poll_interval, queue_worker, Gateway, SendPolicy, Target, STAGGER,
};
use crate::config::{ClientBind, Config, ServerBind};
use crate::peers::{server_session_config, ClientSide};
use crate::telemetry::{self, BindLabels};

/// Operators' edits, per peer name: `Some` = this definition, `None` = deleted.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct PeerOverrides {
    /// Client binds.
    #[serde(default)]
    pub client: BTreeMap<String, Option<ClientBind>>,
    /// Server binds.
    #[serde(default)]
    pub server: BTreeMap<String, Option<ServerBind>>,
}

impl PeerOverrides {
    /// The file holding the overrides under `data_dir`.
    pub fn path(data_dir: &Path) -> PathBuf {
        data_dir.join("peer-overrides.json")
    }

    /// Read the overrides; none when the file does not exist.
    pub fn load(path: &Path) -> Result<Self, String> {
        match std::fs::read(path) {
            Ok(bytes) => {
                serde_json::from_slice(&bytes).map_err(|e| format!("{}: {e}", path.display()))
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Self::default()),
            Err(e) => Err(format!("{}: {e}", path.display())),
        }
    }

    /// Write the overrides atomically (temporary file, fsync, rename).
    pub fn save(&self, path: &Path) -> Result<(), String> {
        use std::io::Write as _;
        let tmp = path.with_extension("json.tmp");
        let write = || -> std::io::Result<()> {
            if let Some(dir) = path.parent() {
                std::fs::create_dir_all(dir)?;
            }
            let mut f = std::fs::File::create(&tmp)?;
            f.write_all(&serde_json::to_vec_pretty(self).map_err(std::io::Error::other)?)?;
            f.sync_all()?;
            std::fs::rename(&tmp, path)
        };
        write().map_err(|e| format!("cannot write {}: {e}", path.display()))
    }

    /// `file` with these overrides laid over its peers.
    pub fn apply(&self, file: &Config) -> Config {
        let mut c = file.clone();
        c.binds = merge(&file.binds, &self.client, |b| &b.name);
        c.server_binds = merge(&file.server_binds, &self.server, |b| &b.name);
        c
    }
}

fn merge<T: Clone>(
    file: &[T],
    over: &BTreeMap<String, Option<T>>,
    name: impl Fn(&T) -> &String,
) -> Vec<T> {
    let mut out: Vec<T> = Vec::new();
    for p in file {
        match over.get(name(p)) {
            None => out.push(p.clone()),
            Some(Some(edited)) => out.push(edited.clone()),
            Some(None) => {}
        }
    }
    for (n, p) in over {
        if let Some(p) = p {
            if !file.iter().any(|f| name(f) == n) {
                out.push(p.clone());
            }
        }
    }
    out
}

/// A running client bind.
pub(crate) struct ClientRuntime {
    pub(crate) handle: Arc<ClientHandle>,
    pub(crate) config: ClientBind,
    /// Stops the bind (and its worker).
    stop: CancellationToken,
    /// Stops the queue worker only (restarted when its parameters change).
    worker_stop: CancellationToken,
}

/// A running server bind's queue worker.
pub(crate) struct ServerRuntime {
    config: ServerBind,
    stop: CancellationToken,
}

/// The binds running now.
#[derive(Default)]
pub(crate) struct Runtimes {
    pub(crate) clients: HashMap<String, ClientRuntime>,
    servers: HashMap<String, ServerRuntime>,
    /// Every peer name ever applied, with its mode: a deleted peer's `smppgw_peer_enabled`
    /// goes to 0.
    known: HashMap<String, BindLabels>,
}

/// What an edit of a client bind asks of the running bind.
#[derive(Debug, PartialEq, Eq)]
pub enum ClientChange {
    /// Nothing that the bind uses changed.
    None,
    /// Timers, window, TPS or poll interval: applied to the live session, no reconnect.
    Live,
    /// Where or how it binds: unbind and bind again with the new parameters.
    Reconnect,
}

/// Classify the edit `old` → `new` of a client bind (seed 002: "la connexion se reconnecte
/// automatiquement avec les nouveaux paramètres" — for what the bind itself carries; a TPS
/// or timer change does not need the link dropped).
pub fn client_change(old: &ClientBind, new: &ClientBind) -> ClientChange {
    fn bind_params(b: &ClientBind) -> impl PartialEq + '_ {
        (
            (
                &b.host,
                b.port,
                &b.system_id,
                &b.password,
                &b.system_type,
                b.addr_ton,
                b.addr_npi,
                &b.address_range,
            ),
            (
                b.interface_version,
                b.bind_type,
                b.bind_timeout,
                b.reconnect_interval,
                b.enabled,
            ),
            (
                b.reconnect_max_interval,
                b.connect_timeout,
                b.throttle_resends,
                b.max_consecutive_timeouts,
                b.drain_timeout,
                b.unbind_timeout,
            ),
            (
                b.tls,
                &b.tls_ca_file,
                &b.tls_server_name,
                &b.tls_cert_file,
                &b.tls_key_file,
            ),
        )
    }
    if bind_params(old) != bind_params(new) {
        ClientChange::Reconnect
    } else if old != new {
        ClientChange::Live
    } else {
        ClientChange::None
    }
}

/// How the queue worker of client bind `b` treats a failed `submit_sm` (its keys).
fn send_policy_client(b: &ClientBind) -> SendPolicy {
    SendPolicy {
        timeout_action: b.response_timeout_action,
        resend_attempts: b.resend_attempts,
        response_timeout: Duration::from_secs(b.response_timeout.max(1)),
    }
}

/// What an edit of a server peer asks of its live sessions.
#[derive(Debug, PartialEq, Eq)]
pub enum ServerChange {
    /// Nothing live changes (a new password applies to the next bind).
    None,
    /// New TPS, timers or window for the live sessions.
    Live,
    /// Who may be bound changed (`system_id`, `ip_whitelist`, `allowed_bind_types`): live
    /// sessions unbind, and their next bind is checked against the new rules.
    Rebind,
}

/// Classify the edit `old` → `new` of a server peer. The password and the source address
/// whitelist are read at each bind / PDU, so they need nothing here.
pub fn server_change(old: &ServerBind, new: &ServerBind) -> ServerChange {
    if old.system_id != new.system_id
        || old.ip_whitelist != new.ip_whitelist
        || old.allowed_bind_types != new.allowed_bind_types
    {
        ServerChange::Rebind
    } else if (
        old.tps_limit,
        old.enquire_link_interval,
        old.window_size,
        old.response_timeout,
        old.inactivity_timeout,
        old.queue_check_frequency,
        old.strict_pdu,
    ) != (
        new.tps_limit,
        new.enquire_link_interval,
        new.window_size,
        new.response_timeout,
        new.inactivity_timeout,
        new.queue_check_frequency,
        new.strict_pdu,
    ) {
        ServerChange::Live
    } else {
        ServerChange::None
    }
}

impl Gateway {
    /// Make `new` the configuration in force and bring every bind in line with it. `stagger`
    /// spaces the start of client binds 500 ms apart (the seed's staggered start). Callers
    /// hold `apply_lock` so that two changes are applied in the order they were made.
    pub async fn apply(self: &Arc<Self>, new: Config, stagger: bool) {
        self.set_config(new.clone());
        if let Some(core) = &self.embedded {
            core.set_routes(
                new.routes
                    .iter()
                    .map(|r| embedded_core::Route {
                        prefix: r.prefix.clone(),
                        dest_smsc: r.dest_smsc.clone(),
                    })
                    .collect(),
                new.mo_routes
                    .iter()
                    .map(|r| embedded_core::MoRoute {
                        prefix: r.prefix.clone(),
                        source_smsc: r.source_smsc.clone(),
                    })
                    .collect(),
            );
            core.set_known_dest_smsc(new.binds.iter().map(|b| b.name.clone()).collect());
            if let Err(e) = core.set_api_clients(new.api_clients.clone()) {
                tracing::error!(error = %e, "send API clients not replaced; the previous ones stay");
            }
        }
        let mut rt = self.runtimes.lock().await;

        // Client binds: stop what is gone, disabled or re-parametered; update what changed
        // live; start what is wanted and absent.
        let wanted: HashMap<&str, &ClientBind> = new
            .binds
            .iter()
            .filter(|b| b.enabled)
            .map(|b| (b.name.as_str(), b))
            .collect();
        let names: Vec<String> = rt.clients.keys().cloned().collect();
        for name in names {
            let change = match (wanted.get(name.as_str()), rt.clients.get(&name)) {
                (Some(b), Some(r)) => client_change(&r.config, b),
                (None, Some(_)) => ClientChange::Reconnect,
                _ => continue,
            };
            match change {
                ClientChange::None => {}
                ClientChange::Live => {
                    let b = wanted[name.as_str()];
                    let Some(r) = rt.clients.get_mut(&name) else {
                        continue;
                    };
                    tracing::info!(bind = %name, "client bind: new TPS/timers/window applied to the live session");
                    match client_config(b, Duration::ZERO, new.max_pdu_len) {
                        Ok(c) => r.handle.update_session(c.session, b.tps_limit),
                        // Only the session's timers, TPS and window are used here; TLS files
                        // changed since validation would make this fail.
                        Err(e) => {
                            tracing::error!(bind = %name, "new session settings not applied: TLS: {e}")
                        }
                    }
                    r.worker_stop.cancel();
                    r.worker_stop = r.stop.child_token();
                    let labels = BindLabels::client(
                        &b.name,
                        &b.host,
                        b.port,
                        b.bind_type.as_str(),
                        &b.system_id,
                    );
                    let poll = poll_interval(&new, b.queue_check_frequency);
                    self.tasks.spawn(queue_worker(
                        self.clone(),
                        b.name.clone(),
                        Target::Carrier(r.handle.clone()),
                        labels,
                        b.window_size,
                        poll,
                        b.tps_limit.max(1) as usize,
                        send_policy_client(b),
                        r.worker_stop.clone(),
                    ));
                    r.config = b.clone();
                }
                ClientChange::Reconnect => {
                    let Some(r) = rt.clients.remove(&name) else {
                        continue;
                    };
                    let why = if wanted.contains_key(name.as_str()) {
                        "its bind parameters changed: binding again"
                    } else {
                        "disabled or deleted: unbinding"
                    };
                    tracing::info!(bind = %name, "client bind stopping: {why}");
                    r.stop.cancel();
                    r.handle.stop();
                    // In-flight answers (drain_timeout), then unbind_resp (unbind_timeout).
                    let bound =
                        Duration::from_secs(r.config.drain_timeout + r.config.unbind_timeout + 2);
                    if tokio::time::timeout(bound, r.handle.wait_stopped())
                        .await
                        .is_err()
                    {
                        tracing::warn!(bind = %name, "client bind did not unbind within {}s", bound.as_secs());
                    }
                    BindLabels::client(
                        &r.config.name,
                        &r.config.host,
                        r.config.port,
                        r.config.bind_type.as_str(),
                        &r.config.system_id,
                    )
                    .set(telemetry::CONNECTION_STATUS, 0.0);
                }
            }
        }
        let mut started = 0u32;
        for b in new.binds.iter().filter(|b| b.enabled) {
            if rt.clients.contains_key(&b.name) {
                continue;
            }
            let delay = if stagger {
                STAGGER * started
            } else {
                Duration::ZERO
            };
            started += 1;
            let labels =
                BindLabels::client(&b.name, &b.host, b.port, b.bind_type.as_str(), &b.system_id);
            labels.set(telemetry::CONNECTION_STATUS, 0.0);
            let handler = Arc::new(ClientSide {
                gw: self.clone(),
                name: b.name.clone(),
                labels: labels.clone(),
            });
            let cfg = match client_config(b, delay, new.max_pdu_len) {
                Ok(c) => c,
                Err(e) => {
                    // Validation reads the same files; this is a file changed since.
                    tracing::error!(bind = %b.name, "not started: TLS: {e}");
                    continue;
                }
            };
            let stop = self.shutdown.child_token();
            let worker_stop = stop.child_token();
            let handle = Arc::new(spawn_client(cfg, handler, &stop));
            let poll = poll_interval(&new, b.queue_check_frequency);
            self.tasks.spawn(queue_worker(
                self.clone(),
                b.name.clone(),
                Target::Carrier(handle.clone()),
                labels,
                b.window_size,
                poll,
                b.tps_limit.max(1) as usize,
                send_policy_client(b),
                worker_stop.clone(),
            ));
            rt.clients.insert(
                b.name.clone(),
                ClientRuntime {
                    handle,
                    config: b.clone(),
                    stop,
                    worker_stop,
                },
            );
        }

        // Server binds.
        let wanted: HashMap<&str, &ServerBind> = new
            .server_binds
            .iter()
            .map(|b| (b.name.as_str(), b))
            .collect();
        let names: Vec<String> = rt.servers.keys().cloned().collect();
        for name in names {
            let keep = wanted.get(name.as_str()).filter(|b| b.enabled);
            let Some(r) = rt.servers.get(&name) else {
                continue;
            };
            match keep {
                None => {
                    if wanted.contains_key(name.as_str()) {
                        tracing::info!(peer = %name, "server peer disabled: unbinding its sessions; new binds are refused");
                        self.registry.unbind_peer(&name);
                    } else {
                        tracing::info!(peer = %name, "server peer deleted: dropping its sessions");
                        self.registry.drop_peer(&name);
                    }
                    r.stop.cancel();
                    rt.servers.remove(&name);
                }
                Some(b) => {
                    match server_change(&r.config, b) {
                        ServerChange::Rebind => {
                            tracing::info!(peer = %name, "server peer: system_id, ip_whitelist or allowed_bind_types changed; live sessions unbind and rebind under the new rules");
                            self.registry.unbind_peer(&name);
                        }
                        ServerChange::Live => {
                            self.registry.update_peer(
                                &name,
                                &server_session_config(b, new.listen.bind_timeout),
                                b.tps_limit,
                            );
                        }
                        ServerChange::None => {}
                    }
                    if b.window_size != r.config.window_size
                        || b.queue_check_frequency != r.config.queue_check_frequency
                        || b.response_timeout_action != r.config.response_timeout_action
                        || b.resend_attempts != r.config.resend_attempts
                        || b.response_timeout != r.config.response_timeout
                    {
                        r.stop.cancel();
                        rt.servers.remove(&name);
                    } else if let Some(r) = rt.servers.get_mut(&name) {
                        r.config = (*b).clone();
                    }
                }
            }
        }
        for b in new.server_binds.iter().filter(|b| b.enabled) {
            if rt.servers.contains_key(&b.name) {
                continue;
            }
            let labels = BindLabels::server(&b.name, &b.system_id);
            if self.registry.count(&b.name) == 0 {
                labels.set(telemetry::CONNECTION_STATUS, 0.0);
            }
            let stop = self.shutdown.child_token();
            let poll = poll_interval(&new, b.queue_check_frequency);
            let policy = SendPolicy {
                timeout_action: b.response_timeout_action,
                resend_attempts: b.resend_attempts,
                response_timeout: Duration::from_secs(b.response_timeout.max(1)),
            };
            self.tasks.spawn(queue_worker(
                self.clone(),
                b.name.clone(),
                Target::Partner,
                labels,
                b.window_size,
                poll,
                1000,
                policy,
                stop.clone(),
            ));
            rt.servers.insert(
                b.name.clone(),
                ServerRuntime {
                    config: b.clone(),
                    stop,
                },
            );
        }

        // smppgw_peer_enabled for every peer, deleted ones included.
        let mut present: HashMap<String, (BindLabels, bool)> = HashMap::new();
        for b in &new.binds {
            present.insert(
                b.name.clone(),
                (
                    BindLabels::client(
                        &b.name,
                        &b.host,
                        b.port,
                        b.bind_type.as_str(),
                        &b.system_id,
                    ),
                    b.enabled,
                ),
            );
        }
        for b in &new.server_binds {
            present.insert(
                b.name.clone(),
                (BindLabels::server(&b.name, &b.system_id), b.enabled),
            );
        }
        for (name, labels) in &rt.known {
            if !present.contains_key(name) {
                labels.set_enabled(false);
            }
        }
        for (name, (labels, enabled)) in present {
            labels.set_enabled(enabled);
            rt.known.insert(name, labels);
        }
        drop(rt);
        self.register_now.notify_one();
    }

    /// Stop every client bind (unbind, bounded by the caller) — used at shutdown.
    pub(crate) async fn stop_all_clients(&self) {
        let rt = self.runtimes.lock().await;
        for r in rt.clients.values() {
            r.handle.stop();
        }
        futures::future::join_all(rt.clients.values().map(|r| r.handle.wait_stopped())).await;
    }

    /// Re-read the configuration file (`SIGHUP`, `POST /api/v1/reload`): peers nobody edited
    /// follow the file, edited ones keep their overrides. A file with problems changes
    /// nothing; the problems are returned (and logged by the caller). Keys that only a
    /// restart can change are named in the log.
    pub async fn reload_file(self: &Arc<Self>) -> Result<(), Vec<String>> {
        let _order = self.apply_lock.lock().await;
        let Some(path) = self.source.lock().await.path.clone() else {
            return Err(vec![
                "no configuration file to re-read (started without one)".into(),
            ]);
        };
        let file = match Config::load(&path) {
            Ok(c) => c,
            Err(e) => {
                return Err(e
                    .problems
                    .iter()
                    .map(|p| format!("{}: {p}", e.file))
                    .collect())
            }
        };
        let mut src = self.source.lock().await;
        let candidate = src.overrides.apply(&file);
        let problems = candidate.validate();
        if !problems.is_empty() {
            return Err(problems
                .iter()
                .map(|p| format!("{} (with the run-time peer edits): {p}", path.display()))
                .collect());
        }
        let old = self.config();
        let mut candidate = candidate;
        for (key, changed) in [
            ("listen", old.listen != candidate.listen),
            ("metrics", old.metrics != candidate.metrics),
            ("admin", old.admin != candidate.admin),
            (
                "embedded_core",
                old.embedded_core != candidate.embedded_core,
            ),
            ("api_base_url", old.api_base_url != candidate.api_base_url),
            (
                "verify_ssl_peer",
                old.verify_ssl_peer != candidate.verify_ssl_peer,
            ),
            (
                "core_timeout_ms",
                old.core_timeout_ms != candidate.core_timeout_ms,
            ),
            ("data_dir", old.data_dir != candidate.data_dir),
            ("log", old.log != candidate.log),
            ("simulator", old.simulator != candidate.simulator),
        ] {
            if changed {
                tracing::warn!(key, "changed in the file: takes effect at the next restart");
            }
        }
        // What only a restart changes stays as it runs, so that status tells the truth.
        candidate.listen = old.listen.clone();
        candidate.metrics = old.metrics.clone();
        candidate.admin = old.admin.clone();
        candidate.embedded_core = old.embedded_core.clone();
        candidate.api_base_url = old.api_base_url.clone();
        candidate.verify_ssl_peer = old.verify_ssl_peer;
        candidate.core_timeout_ms = old.core_timeout_ms;
        candidate.data_dir = old.data_dir.clone();
        candidate.log = old.log.clone();
        candidate.simulator = old.simulator.clone();
        src.file = file;
        drop(src);
        self.apply(candidate, false).await;
        tracing::info!(file = %path.display(), "configuration re-read");
        Ok(())
    }

    /// Change one peer (add, replace, delete, or drop the operator's edit) as an operator's
    /// edit: validated like the file, persisted, then applied. Errors list every problem; a
    /// problem of the edited peer is keyed by its field (`tps_limit`, `ip_whitelist[0]`).
    pub async fn edit_peer(
        self: &Arc<Self>,
        edit: PeerEdit,
    ) -> Result<(), Vec<crate::config::ConfigProblem>> {
        let _order = self.apply_lock.lock().await;
        let mut src = self.source.lock().await;
        let mut overrides = src.overrides.clone();
        let edited = match &edit {
            PeerEdit::Client(name, def) => {
                overrides.client.insert(name.clone(), def.clone());
                def.as_ref().map(|d| d.problems())
            }
            PeerEdit::Server(name, def) => {
                overrides.server.insert(name.clone(), def.clone());
                def.as_ref().map(|d| d.problems())
            }
            PeerEdit::RevertClient(name) => {
                overrides.client.remove(name);
                None
            }
            PeerEdit::RevertServer(name) => {
                overrides.server.remove(name);
                None
            }
        };
        if let Some(own) = edited.filter(|p| !p.is_empty()) {
            return Err(own
                .into_iter()
                .map(|(key, reason)| crate::config::ConfigProblem { key, reason })
                .collect());
        }
        let mut candidate = overrides.apply(&src.file);
        // Keep what only a restart changes as it runs (the file may have been edited since).
        let running = self.config();
        candidate.listen = running.listen.clone();
        candidate.admin = running.admin.clone();
        candidate.metrics = running.metrics.clone();
        let problems = candidate.validate();
        if !problems.is_empty() {
            return Err(problems
                .into_iter()
                .map(|p| relative_problem(p, &edit, &candidate))
                .collect());
        }
        let path = PeerOverrides::path(&candidate.data_dir);
        if let Err(e) = overrides.save(&path) {
            return Err(vec![crate::config::ConfigProblem {
                key: "(store)".into(),
                reason: e,
            }]);
        }
        src.overrides = overrides;
        drop(src);
        self.apply(candidate, false).await;
        Ok(())
    }

    /// Where each peer's definition in force comes from: `file`, `edited` (an operator's
    /// edit overrides the file's) or `added` (only in the operators' edits).
    pub async fn peer_origin(&self, client: bool, name: &str) -> &'static str {
        let src = self.source.lock().await;
        let (edited, in_file) = if client {
            (
                src.overrides.client.contains_key(name),
                src.file.binds.iter().any(|b| b.name == name),
            )
        } else {
            (
                src.overrides.server.contains_key(name),
                src.file.server_binds.iter().any(|b| b.name == name),
            )
        };
        match (edited, in_file) {
            (false, _) => "file",
            (true, true) => "edited",
            (true, false) => "added",
        }
    }
}

/// A problem of the whole configuration, re-keyed by field when it is about the edited peer
/// (`server_binds[3].system_id` → `system_id`), so that an API client can point at the field.
fn relative_problem(
    p: crate::config::ConfigProblem,
    edit: &PeerEdit,
    c: &Config,
) -> crate::config::ConfigProblem {
    let prefix = match edit {
        PeerEdit::Client(name, Some(_)) => c
            .binds
            .iter()
            .position(|b| &b.name == name)
            .map(|i| format!("binds[{i}].")),
        PeerEdit::Server(name, Some(_)) => c
            .server_binds
            .iter()
            .position(|b| &b.name == name)
            .map(|i| format!("server_binds[{i}].")),
        _ => None,
    };
    match prefix.and_then(|pre| p.key.strip_prefix(&pre).map(str::to_string)) {
        Some(field) => crate::config::ConfigProblem {
            key: field,
            reason: p.reason,
        },
        None => p,
    }
}

/// One operator edit.
#[derive(Clone, Debug)]
pub enum PeerEdit {
    /// Client bind `name` becomes this definition (`None` deletes it).
    Client(String, Option<ClientBind>),
    /// Server bind `name` becomes this definition (`None` deletes it).
    Server(String, Option<ServerBind>),
    /// Drop the operators' edit of client bind `name`: the file's definition applies again.
    RevertClient(String),
    /// Drop the operators' edit of server peer `name`.
    RevertServer(String),
}

/// Where the configuration came from: the file (as last read) and the operators' overrides.
pub struct ConfigSource {
    /// The file, when the gateway was started from one.
    pub path: Option<PathBuf>,
    /// The file's content as last read.
    pub file: Config,
    /// Operators' edits.
    pub overrides: PeerOverrides,
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A configuration with client binds `a` and `b`, from a file of its own (tests run in
    /// parallel: a shared file could be read half-written).
    fn cfg(test: &str) -> Config {
        let dir = std::env::temp_dir().join(format!("smppgw-ovr-{test}-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let p = dir.join("c.toml");
        std::fs::write(
            &p,
            "[[binds]]\nname = \"a\"\nhost = \"h\"\nsystem_id = \"s\"\npassword = \"p\"\n[[binds]]\nname = \"b\"\nhost = \"h\"\nsystem_id = \"s\"\npassword = \"p\"\n",
        )
        .unwrap();
        Config::load_with_env(&p, &|_| None).unwrap()
    }

    #[test]
    fn overrides_replace_hide_and_add_peers_by_name() {
        let file = cfg("replace");
        let mut o = PeerOverrides::default();
        let mut edited = file.binds[0].clone();
        edited.port = 9999;
        o.client.insert("a".into(), Some(edited));
        o.client.insert("b".into(), None);
        let mut added = file.binds[0].clone();
        added.name = "c".into();
        o.client.insert("c".into(), Some(added));
        let c = o.apply(&file);
        let names: Vec<&str> = c.binds.iter().map(|b| b.name.as_str()).collect();
        assert_eq!(names, vec!["a", "c"]);
        assert_eq!(c.binds[0].port, 9999);
    }

    #[test]
    fn overrides_survive_a_save_and_load() {
        let file = cfg("save");
        let mut o = PeerOverrides::default();
        o.client.insert("b".into(), None);
        o.client.insert("a".into(), Some(file.binds[0].clone()));
        let path = std::env::temp_dir().join(format!(
            "smppgw-ovr-save-{}/peer-overrides.json",
            std::process::id()
        ));
        o.save(&path).unwrap();
        assert_eq!(PeerOverrides::load(&path).unwrap(), o);
        assert_eq!(
            PeerOverrides::load(&path.with_file_name("absent.json")).unwrap(),
            PeerOverrides::default()
        );
    }
}

#[cfg(test)]
mod change_tests {
    use super::*;

    fn client() -> ClientBind {
        serde_json::from_value(
            serde_json::json!({"name": "c", "host": "h", "system_id": "s", "password": "p"}),
        )
        .unwrap()
    }
    fn server() -> ServerBind {
        serde_json::from_value(serde_json::json!({"name": "p", "system_id": "s", "password": "p"}))
            .unwrap()
    }

    #[test]
    fn client_edits_reconnect_only_for_what_the_bind_carries() {
        let old = client();
        assert_eq!(client_change(&old, &old), ClientChange::None);
        for edit in [
            |b: &mut ClientBind| b.host = "other".into(),
            |b: &mut ClientBind| b.port = 2776,
            |b: &mut ClientBind| b.system_id = "t".into(),
            |b: &mut ClientBind| b.password = "q".into(),
            |b: &mut ClientBind| b.system_type = "OTP".into(),
            |b: &mut ClientBind| b.addr_ton = 1,
            |b: &mut ClientBind| b.bind_type = crate::config::BindType::Transmitter,
            |b: &mut ClientBind| b.enabled = false,
        ] {
            let mut new = old.clone();
            edit(&mut new);
            assert_eq!(
                client_change(&old, &new),
                ClientChange::Reconnect,
                "{new:?}"
            );
        }
        for edit in [
            |b: &mut ClientBind| b.tps_limit = 5,
            |b: &mut ClientBind| b.window_size = 10,
            |b: &mut ClientBind| b.enquire_link_interval = 30,
            |b: &mut ClientBind| b.queue_check_frequency = Some(500),
        ] {
            let mut new = old.clone();
            edit(&mut new);
            assert_eq!(client_change(&old, &new), ClientChange::Live, "{new:?}");
        }
    }

    #[test]
    fn server_edits_rebind_only_when_who_may_bind_changed() {
        let old = server();
        let mut pw = old.clone();
        pw.password = "new".into();
        pw.source_address_whitelist = vec!["MyBrand".into()];
        assert_eq!(
            server_change(&old, &pw),
            ServerChange::None,
            "password and source whitelist are read at each bind / PDU"
        );
        let mut tps = old.clone();
        tps.tps_limit = 5;
        assert_eq!(server_change(&old, &tps), ServerChange::Live);
        let mut ip = old.clone();
        ip.ip_whitelist = vec!["10.0.0.0/8".into()];
        assert_eq!(server_change(&old, &ip), ServerChange::Rebind);
        let mut sid = old.clone();
        sid.system_id = "other".into();
        assert_eq!(server_change(&old, &sid), ServerChange::Rebind);
    }
}
