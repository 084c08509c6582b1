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

use crate::app::{client_config, poll_interval, queue_worker, Gateway, SendPolicy, Target, STAGGER};
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
            Ok(bytes) => serde_json::from_slice(&bytes).map_err(|e| format!("{}: {e}", path.display())),
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

fn merge<T: Clone>(file: &[T], over: &BTreeMap<String, Option<T>>, name: impl Fn(&T) -> &String) -> Vec<T> {
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
    stop: CancellationToken,
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
}

impl Gateway {
    /// Make `new` the configuration in force and bring every bind in line with it. `stagger`
    /// spaces the start of client binds 500 ms apart (the seed's staggered start).
    pub async fn apply(self: &Arc<Self>, new: Config, stagger: bool) {
        self.set_config(new.clone());
        if let Some(core) = &self.embedded {
            core.set_routes(
                new.routes.iter().map(|r| embedded_core::Route { prefix: r.prefix.clone(), dest_smsc: r.dest_smsc.clone() }).collect(),
                new.mo_routes.iter().map(|r| embedded_core::MoRoute { prefix: r.prefix.clone(), source_smsc: r.source_smsc.clone() }).collect(),
            );
        }
        let mut rt = self.runtimes.lock().await;

        // Client binds: stop what is gone, disabled or changed; start what is wanted and absent.
        let wanted: HashMap<&str, &ClientBind> = new.binds.iter().filter(|b| b.enabled).map(|b| (b.name.as_str(), b)).collect();
        let stale: Vec<String> = rt.clients.iter().filter(|(n, r)| wanted.get(n.as_str()).is_none_or(|b| **b != r.config)).map(|(n, _)| n.clone()).collect();
        for name in stale {
            if let Some(r) = rt.clients.remove(&name) {
                tracing::info!(bind = %name, "client bind stopping (disabled, deleted or edited)");
                r.stop.cancel();
                r.handle.stop();
                // In-flight answers (drain_timeout), then unbind_resp (unbind_timeout).
                let bound = Duration::from_secs(r.config.drain_timeout + r.config.unbind_timeout + 2);
                if tokio::time::timeout(bound, r.handle.wait_stopped()).await.is_err() {
                    tracing::warn!(bind = %name, "client bind did not unbind within {}s", bound.as_secs());
                }
                BindLabels::client(&r.config.name, &r.config.host, r.config.port, r.config.bind_type.as_str(), &r.config.system_id).set(telemetry::CONNECTION_STATUS, 0.0);
            }
        }
        let mut started = 0u32;
        for b in new.binds.iter().filter(|b| b.enabled) {
            if rt.clients.contains_key(&b.name) {
                continue;
            }
            let delay = if stagger { STAGGER * started } else { Duration::ZERO };
            started += 1;
            let labels = BindLabels::client(&b.name, &b.host, b.port, b.bind_type.as_str(), &b.system_id);
            labels.set(telemetry::CONNECTION_STATUS, 0.0);
            let handler = Arc::new(ClientSide { gw: self.clone(), name: b.name.clone(), labels: labels.clone() });
            let cfg = match client_config(b, delay, new.max_pdu_len) {
                Ok(c) => c,
                Err(e) => {
                    // Validation reads the same files; this is a file changed since.
                    tracing::error!(bind = %b.name, "not started: TLS: {e}");
                    continue;
                }
            };
            let stop = self.shutdown.child_token();
            let handle = Arc::new(spawn_client(cfg, handler, &stop));
            let poll = poll_interval(&new, b.queue_check_frequency);
            let policy = SendPolicy { timeout_action: b.response_timeout_action, resend_attempts: b.resend_attempts, response_timeout: Duration::from_secs(b.response_timeout.max(1)) };
            self.tasks.spawn(queue_worker(self.clone(), b.name.clone(), Target::Carrier(handle.clone()), labels, b.window_size, poll, b.tps_limit.max(1) as usize, policy, stop.clone()));
            rt.clients.insert(b.name.clone(), ClientRuntime { handle, config: b.clone(), stop });
        }

        // Server binds.
        let wanted: HashMap<&str, &ServerBind> = new.server_binds.iter().map(|b| (b.name.as_str(), b)).collect();
        let names: Vec<String> = rt.servers.keys().cloned().collect();
        for name in names {
            let keep = wanted.get(name.as_str()).filter(|b| b.enabled);
            let Some(r) = rt.servers.get(&name) else { continue };
            match keep {
                None => {
                    if wanted.contains_key(name.as_str()) {
                        tracing::info!(peer = %name, "server peer disabled: unbinding its sessions");
                        self.registry.unbind_peer(&name);
                    } else {
                        tracing::info!(peer = %name, "server peer deleted: dropping its sessions");
                        self.registry.drop_peer(&name);
                    }
                    r.stop.cancel();
                    rt.servers.remove(&name);
                }
                Some(b) if **b != r.config => {
                    // Live sessions take the new TPS and timers now; credentials and
                    // whitelists are read at the next bind / PDU.
                    self.registry.update_peer(&name, &server_session_config(b, new.listen.bind_timeout), b.tps_limit);
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
                Some(_) => {}
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
            let policy = SendPolicy { timeout_action: b.response_timeout_action, resend_attempts: b.resend_attempts, response_timeout: Duration::from_secs(b.response_timeout.max(1)) };
            self.tasks.spawn(queue_worker(self.clone(), b.name.clone(), Target::Partner, labels, b.window_size, poll, 1000, policy, stop.clone()));
            rt.servers.insert(b.name.clone(), ServerRuntime { config: b.clone(), stop });
        }
    }

    /// Stop every client bind (unbind, bounded wait) — used at shutdown.
    pub(crate) async fn stop_all_clients(&self) {
        let rt = self.runtimes.lock().await;
        for r in rt.clients.values() {
            r.handle.stop();
        }
        let all = futures::future::join_all(rt.clients.values().map(|r| r.handle.wait_stopped()));
        if tokio::time::timeout(Duration::from_secs(20), all).await.is_err() {
            tracing::warn!("some client binds did not unbind within 20 s");
        }
    }

    /// Re-read the configuration file (`SIGHUP`): peers nobody edited follow the file, edited
    /// ones keep their overrides. A file with problems changes nothing; each is logged.
    pub async fn reload_file(self: &Arc<Self>) -> Result<(), Vec<String>> {
        let Some(path) = self.source.lock().await.path.clone() else {
            return Err(vec!["no configuration file to re-read".into()]);
        };
        let file = match Config::load(&path) {
            Ok(c) => c,
            Err(e) => return Err(e.problems.iter().map(|p| format!("{}: {p}", e.file)).collect()),
        };
        let mut src = self.source.lock().await;
        let candidate = src.overrides.apply(&file);
        let problems = candidate.validate();
        if !problems.is_empty() {
            return Err(problems.iter().map(|p| format!("{} (with run-time edits): {p}", path.display())).collect());
        }
        let old = self.config();
        for (key, changed) in [
            ("listen", old.listen != candidate.listen),
            ("metrics", old.metrics != candidate.metrics),
            ("admin", old.admin != candidate.admin),
            ("api_base_url", old.api_base_url != candidate.api_base_url),
            ("data_dir", old.data_dir != candidate.data_dir),
        ] {
            if changed {
                tracing::warn!(key, "changed in the file: takes effect at the next restart");
            }
        }
        src.file = file;
        drop(src);
        self.apply(candidate, false).await;
        tracing::info!(file = %path.display(), "configuration re-read");
        Ok(())
    }

    /// Change one peer (add, replace, delete) as an operator's edit: validated like the file,
    /// persisted, then applied. Errors list every problem, keyed by field.
    pub async fn edit_peer(self: &Arc<Self>, edit: PeerEdit) -> Result<(), Vec<crate::config::ConfigProblem>> {
        let mut src = self.source.lock().await;
        let mut overrides = src.overrides.clone();
        match edit {
            PeerEdit::Client(name, def) => {
                overrides.client.insert(name, def);
            }
            PeerEdit::Server(name, def) => {
                overrides.server.insert(name, def);
            }
        }
        let candidate = overrides.apply(&src.file);
        let problems = candidate.validate();
        if !problems.is_empty() {
            return Err(problems);
        }
        let path = PeerOverrides::path(&candidate.data_dir);
        if let Err(e) = overrides.save(&path) {
            return Err(vec![crate::config::ConfigProblem { key: "(store)".into(), reason: e }]);
        }
        src.overrides = overrides;
        drop(src);
        self.apply(candidate, false).await;
        Ok(())
    }
}

/// One operator edit.
#[derive(Clone, Debug)]
pub enum PeerEdit {
    /// Client bind `name` becomes this definition (`None` deletes it).
    Client(String, Option<ClientBind>),
    /// Server bind `name` becomes this definition (`None` deletes it).
    Server(String, Option<ServerBind>),
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
        let path = std::env::temp_dir().join(format!("smppgw-ovr-save-{}/peer-overrides.json", std::process::id()));
        o.save(&path).unwrap();
        assert_eq!(PeerOverrides::load(&path).unwrap(), o);
        assert_eq!(PeerOverrides::load(&path.with_file_name("absent.json")).unwrap(), PeerOverrides::default());
    }
}
