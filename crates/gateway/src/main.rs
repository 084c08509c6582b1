//! `smppgw`: the command line. `run` and `check-config` work on a configuration file; `status`,
//! `peers`, `binds`, `reload` and `logs` are clients of a running gateway's admin API
//! (`docs/admin-api.yaml`); `sim` runs the SMSC simulator.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand};
use gateway::config::Config;
use gateway::outln;

/// With `--features mimalloc`, mimalloc instead of glibc's malloc: the hand-over path allocates
/// and frees many short-lived buffers across threads (JSON bodies, sled nodes), where glibc
/// spent about a tenth of the gateway's CPU; but idle binds cost more memory with it
/// (docs/dependencies.md, docs/performance.md).
#[cfg(feature = "mimalloc")]
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// smppgw — an SMPP gateway between carriers' SMSCs, partners' ESMEs and a messaging core.
///
/// Carriers are client binds ([[binds]]: we bind to their SMSC as an ESME); partners are
/// server peers ([[server_binds]]: they bind to us on [listen]). Everything received goes to
/// the messaging core (api_base_url) before it is acknowledged.
#[derive(Debug, Parser)]
#[command(name = "smppgw", version)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run the gateway (logs on stderr; SIGHUP re-reads the file; SIGTERM unbinds every session and stops).
    ///
    /// A configuration with any problem starts nothing: the problems are printed, exit code 2.
    Run {
        /// The TOML configuration file.
        #[arg(long, short, default_value = "config/demo.toml", env = "SMPPGW_CONFIG")]
        config: PathBuf,
    },
    /// Validate a configuration file (with the environment's overrides) without starting anything.
    ///
    /// Lists every problem at once, one per line as `FILE: KEY: REASON` — unknown keys, wrong
    /// types, values out of range, duplicate names, bad CIDRs, unusable addresses. Exit code 0
    /// when the file is usable, 2 when not.
    CheckConfig {
        /// The TOML configuration file.
        file: PathBuf,
    },
    /// Show the live status of every bind (state, uptime, counters, window, TPS now).
    Status {
        #[command(flatten)]
        api: ApiArgs,
        /// Only this bind.
        name: Option<String>,
        /// Print the API's JSON instead of a table.
        #[arg(long)]
        json: bool,
    },
    /// List, show, add, change, enable, disable, revert or delete peers at run time.
    ///
    /// Changes apply at once, are persisted in data_dir/peer-overrides.json and override the
    /// file's definition of the same name (also across restarts) until `revert`.
    Peers {
        #[command(flatten)]
        api: ApiArgs,
        #[command(subcommand)]
        action: PeersAction,
    },
    /// Operator actions on running binds: reconnect now, or drop the connection(s) at once.
    Binds {
        #[command(flatten)]
        api: ApiArgs,
        #[command(subcommand)]
        action: BindsAction,
    },
    /// Make the running gateway re-read its configuration file (as `systemctl reload`, SIGHUP).
    Reload {
        #[command(flatten)]
        api: ApiArgs,
    },
    /// Show recent log records kept by the running gateway.
    Logs {
        #[command(flatten)]
        api: ApiArgs,
        /// Lowest level: trace, debug, info, warn, error.
        #[arg(long)]
        level: Option<String>,
        /// Only records containing this text.
        #[arg(long)]
        grep: Option<String>,
        /// At most this many records (the newest).
        #[arg(long, default_value_t = 100)]
        limit: usize,
    },
    /// The retry cache of a running gateway, through its admin API: summary, list, retry, delete.
    Cache(gateway::cache_cli::CacheArgs),
    /// Decode a PDU to JSON, or encode JSON back to a PDU (for captures).
    Pdu {
        #[command(subcommand)]
        action: PduAction,
    },
    /// Simulators for demos, tests and staging.
    Sim {
        #[command(subcommand)]
        kind: SimKind,
    },
}

/// How to reach the running gateway's admin API.
#[derive(Debug, Args)]
struct ApiArgs {
    /// The gateway's configuration file: its [admin] address and credentials, and its data_dir
    /// (where the generated admin.token is) are used.
    #[arg(
        long,
        short,
        global = true,
        default_value = "/etc/smppgw/smppgw.toml",
        env = "SMPPGW_CONFIG"
    )]
    config: PathBuf,
    /// The admin API's base URL, e.g. http://127.0.0.1:8087 (default: from the configuration).
    #[arg(long, global = true, env = "SMPPGW_ADMIN_URL")]
    url: Option<String>,
    /// Bearer token (default: [admin] token, then data_dir/admin.token).
    #[arg(
        long,
        global = true,
        env = "SMPPGW_ADMIN_TOKEN",
        hide_env_values = true
    )]
    token: Option<String>,
}

#[derive(Debug, Subcommand)]
enum PeersAction {
    /// List the peers of one side (client or server), or of both.
    List {
        /// client or server.
        side: Option<String>,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Show one peer (password masked).
    Show {
        /// client or server.
        side: String,
        /// The peer's name.
        name: String,
    },
    /// Add a peer: `smppgw peers add client name=vodafone_uk host=smpp.vodafone.co.uk system_id=u password=p tps_limit:=100`.
    ///
    /// `key=value` sets a text value, `key:=json` a JSON value (numbers, booleans, lists:
    /// `ip_whitelist:='["203.0.113.0/24"]'`). Keys are those of the configuration file.
    Add {
        /// client or server.
        side: String,
        /// key=value or key:=json pairs.
        #[arg(required = true)]
        fields: Vec<String>,
    },
    /// Change some keys of a peer: `smppgw peers set server partner_acme password=new-secret tps_limit:=50`.
    Set {
        /// client or server.
        side: String,
        /// The peer's name.
        name: String,
        /// key=value or key:=json pairs (key:=null puts a key back to its default).
        #[arg(required = true)]
        fields: Vec<String>,
    },
    /// Enable a peer (a client bind connects; a server peer accepts binds again).
    Enable {
        /// client or server.
        side: String,
        /// The peer's name.
        name: String,
    },
    /// Disable a peer for maintenance (it unbinds at once and refuses binds; its definition is kept).
    Disable {
        /// client or server.
        side: String,
        /// The peer's name.
        name: String,
    },
    /// Drop the run-time edit of a peer: the file's definition applies again.
    Revert {
        /// client or server.
        side: String,
        /// The peer's name.
        name: String,
    },
    /// Delete a peer (its sessions are dropped).
    Delete {
        /// client or server.
        side: String,
        /// The peer's name.
        name: String,
    },
}

#[derive(Debug, Subcommand)]
enum BindsAction {
    /// A client bind drops its connection and connects again now.
    Reconnect {
        /// The bind's name.
        name: String,
    },
    /// Close the bind's connection(s) at once, without unbind (the seed's "Drop Connection").
    Drop {
        /// The bind's name.
        name: String,
    },
}

impl PduAction {
    fn into_args(self) -> gateway::pdu_json::CliArgs {
        match self {
            PduAction::Decode {
                hex,
                strict,
                default_alphabet,
            } => gateway::pdu_json::CliArgs::Decode {
                hex,
                strict,
                default_alphabet,
            },
            PduAction::Encode {
                file,
                default_alphabet,
            } => gateway::pdu_json::CliArgs::Encode {
                file,
                default_alphabet,
            },
        }
    }
}

#[derive(Debug, Subcommand)]
enum SimKind {
    /// An SMSC that accepts binds, acks submit_sm, sends delivery receipts and injects MO.
    Smsc(smsc_sim::SimConfig),
}

#[derive(Debug, Subcommand)]
enum PduAction {
    /// Print the PDU given in hex as JSON (fields named as in the SMPP spec, text decoded).
    Decode {
        /// The whole PDU in hex, command_length first (spaces, colons and `0x` are ignored);
        /// `-` or nothing reads it from stdin.
        hex: Option<String>,
        /// Apply every strict check (DecodeOptions::strict) instead of the lenient defaults.
        #[arg(long)]
        strict: bool,
        /// What data_coding 0 means: gsm7 (default), latin1 or ia5.
        #[arg(long, default_value = "gsm7")]
        default_alphabet: String,
    },
    /// Read a PDU as JSON (as `pdu decode` prints it) and print it in hex.
    Encode {
        /// The JSON file; `-` or nothing reads stdin.
        file: Option<PathBuf>,
        /// What data_coding 0 means for texts given without hex: gsm7 (default), latin1 or ia5.
        #[arg(long, default_value = "gsm7")]
        default_alphabet: String,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        Command::Pdu { action } => gateway::pdu_json::run_cli(action.into_args()),
        Command::CheckConfig { file } => match Config::load(&file) {
            Ok(c) => {
                outln!(
                    "{}: OK ({} client binds, {} server binds)",
                    file.display(),
                    c.binds.len(),
                    c.server_binds.len()
                );
                ExitCode::SUCCESS
            }
            Err(e) => {
                for p in &e.problems {
                    eprintln!("{}: {p}", e.file);
                }
                eprintln!(
                    "{}: {} problem(s); nothing would start",
                    e.file,
                    e.problems.len()
                );
                ExitCode::from(2)
            }
        },
        Command::Run { config } => {
            let cfg = match Config::load(&config) {
                Ok(c) => c,
                Err(e) => {
                    for p in &e.problems {
                        eprintln!("{}: {p}", e.file);
                    }
                    eprintln!(
                        "smppgw: configuration refused ({} problem(s)), nothing started.",
                        e.problems.len()
                    );
                    return ExitCode::from(2);
                }
            };
            gateway::telemetry::init_logging(&cfg.log.format, &cfg.log.level, cfg.log.ring_size);
            let Some(rt) = runtime() else {
                return ExitCode::FAILURE;
            };
            match rt.block_on(gateway::app::run(cfg, config)) {
                Ok(()) => ExitCode::SUCCESS,
                Err(e) => {
                    tracing::error!("fatal: {e:#}");
                    eprintln!("smppgw: {e:#}");
                    ExitCode::FAILURE
                }
            }
        }
        Command::Cache(args) => gateway::cache_cli::run(args),
        Command::Status { api, name, json } => admin_call(&api, |c| async move {
            let path = match &name {
                Some(n) => format!("/api/v1/status/{n}"),
                None => "/api/v1/status".into(),
            };
            let v = c.call(reqwest::Method::GET, &path, None).await?;
            if json {
                outln!("{}", serde_json::to_string_pretty(&v).unwrap_or_default());
            } else if name.is_some() {
                print_binds(std::slice::from_ref(&v));
            } else {
                let t = &v["totals"];
                outln!(
                    "smppgw {} — up {}s, core {} — client binds: {} connected, {} not; server peers: {} active, {} waiting",
                    v["smsc_name"].as_str().unwrap_or(""),
                    v["uptime_seconds"],
                    v["core"].as_str().unwrap_or(""),
                    t["client_connected"],
                    t["client_disconnected"],
                    t["server_active"],
                    t["server_waiting"]
                );
                print_binds(v["binds"].as_array().map(Vec::as_slice).unwrap_or(&[]));
            }
            Ok(())
        }),
        Command::Peers { api, action } => admin_call(&api, |c| async move {
            use reqwest::Method;
            let (method, path, body) = match &action {
                PeersAction::List { side: Some(s), .. } => {
                    (Method::GET, format!("/api/v1/peers/{s}"), None)
                }
                PeersAction::List { side: None, .. } => (Method::GET, "/api/v1/peers".into(), None),
                PeersAction::Show { side, name } => {
                    (Method::GET, format!("/api/v1/peers/{side}/{name}"), None)
                }
                PeersAction::Add { side, fields } => (
                    Method::POST,
                    format!("/api/v1/peers/{side}"),
                    Some(parse_fields(fields)?),
                ),
                PeersAction::Set { side, name, fields } => (
                    Method::PATCH,
                    format!("/api/v1/peers/{side}/{name}"),
                    Some(parse_fields(fields)?),
                ),
                PeersAction::Enable { side, name } => (
                    Method::POST,
                    format!("/api/v1/peers/{side}/{name}/enable"),
                    None,
                ),
                PeersAction::Disable { side, name } => (
                    Method::POST,
                    format!("/api/v1/peers/{side}/{name}/disable"),
                    None,
                ),
                PeersAction::Revert { side, name } => (
                    Method::POST,
                    format!("/api/v1/peers/{side}/{name}/revert"),
                    None,
                ),
                PeersAction::Delete { side, name } => {
                    (Method::DELETE, format!("/api/v1/peers/{side}/{name}"), None)
                }
            };
            let v = c.call(method, &path, body).await?;
            match &action {
                PeersAction::List { json: false, .. } => print_peers(&v),
                _ => outln!("{}", serde_json::to_string_pretty(&v).unwrap_or_default()),
            }
            Ok(())
        }),
        Command::Binds { api, action } => admin_call(&api, |c| async move {
            let path = match &action {
                BindsAction::Reconnect { name } => format!("/api/v1/binds/{name}/reconnect"),
                BindsAction::Drop { name } => format!("/api/v1/binds/{name}/drop"),
            };
            let v = c.call(reqwest::Method::POST, &path, None).await?;
            outln!(
                "{}: {} ({} connection(s))",
                v["name"].as_str().unwrap_or(""),
                v["action"].as_str().unwrap_or(""),
                v["connections"]
            );
            Ok(())
        }),
        Command::Reload { api } => admin_call(&api, |c| async move {
            c.call(reqwest::Method::POST, "/api/v1/reload", None)
                .await?;
            outln!("configuration re-read");
            Ok(())
        }),
        Command::Logs {
            api,
            level,
            grep,
            limit,
        } => admin_call(&api, |c| async move {
            let mut path = format!("/api/v1/logs?limit={limit}");
            if let Some(l) = &level {
                path.push_str(&format!("&level={l}"));
            }
            if let Some(g) = &grep {
                path.push_str(&format!("&q={}", urlencode(g)));
            }
            let v = c.call(reqwest::Method::GET, &path, None).await?;
            for r in v["records"].as_array().into_iter().flatten() {
                let fields: Vec<String> = r["fields"]
                    .as_object()
                    .into_iter()
                    .flatten()
                    .map(|(k, v)| {
                        format!(
                            "{k}={}",
                            v.as_str()
                                .map(str::to_string)
                                .unwrap_or_else(|| v.to_string())
                        )
                    })
                    .collect();
                outln!(
                    "{} {:5} {} {}",
                    r["at_ms"],
                    r["level"].as_str().unwrap_or(""),
                    r["message"].as_str().unwrap_or(""),
                    fields.join(" ")
                );
            }
            Ok(())
        }),
        Command::Sim {
            kind: SimKind::Smsc(sc),
        } => {
            gateway::telemetry::init_logging("text", "info", 100);
            let Some(rt) = runtime() else {
                return ExitCode::FAILURE;
            };
            rt.block_on(async move {
                match smsc_sim::start(sc).await {
                    Ok(h) => {
                        eprintln!(
                            "SMSC simulator on {} (control: {:?})",
                            h.smpp_addr, h.control_addr
                        );
                        let _ = tokio::signal::ctrl_c().await;
                        h.shutdown().await;
                        ExitCode::SUCCESS
                    }
                    Err(e) => {
                        eprintln!("smppgw sim smsc: {e}");
                        ExitCode::FAILURE
                    }
                }
            })
        }
    }
}

fn runtime() -> Option<tokio::runtime::Runtime> {
    match tokio::runtime::Runtime::new() {
        Ok(rt) => Some(rt),
        Err(e) => {
            eprintln!("smppgw: cannot start the runtime: {e}");
            None
        }
    }
}

/// A client of the admin API.
struct AdminClient {
    base: String,
    token: Option<String>,
    basic: Option<(String, String)>,
    http: reqwest::Client,
}

impl AdminClient {
    /// From the flags, the environment and the gateway's configuration file.
    fn new(api: &ApiArgs) -> Result<Self, String> {
        let cfg = Config::load(&api.config);
        if cfg.is_err() && (api.url.is_none() || api.token.is_none()) {
            let why = cfg
                .as_ref()
                .err()
                .map(|e| e.to_string())
                .unwrap_or_default();
            return Err(format!(
                "cannot read {}: {why}\n(give --config FILE, or --url and --token)",
                api.config.display()
            ));
        }
        let cfg = cfg.ok();
        let base = match (&api.url, &cfg) {
            (Some(u), _) => u.trim_end_matches('/').to_string(),
            (None, Some(c)) => c.admin.base_url(),
            (None, None) => unreachable!("checked above"),
        };
        let token = api
            .token
            .clone()
            .or_else(|| cfg.as_ref().and_then(|c| c.admin.token.clone()))
            .or_else(|| {
                let c = cfg.as_ref()?;
                std::fs::read_to_string(c.data_dir.join("admin.token"))
                    .ok()
                    .map(|t| t.trim().to_string())
            });
        let basic = cfg
            .as_ref()
            .and_then(|c| Some((c.admin.username.clone()?, c.admin.password.clone()?)));
        let http = gateway::cache_cli::admin_http_client(cfg.as_ref())?;
        Ok(AdminClient {
            base,
            token,
            basic,
            http,
        })
    }

    /// One call; the JSON answer, or the API's error (with each problem) as text.
    async fn call(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<serde_json::Value>,
    ) -> Result<serde_json::Value, String> {
        let mut req = self.http.request(method, format!("{}{path}", self.base));
        if let Some(t) = &self.token {
            req = req.bearer_auth(t);
        } else if let Some((u, p)) = &self.basic {
            req = req.basic_auth(u, Some(p));
        }
        if let Some(b) = body {
            req = req.json(&b);
        }
        let resp = req.send().await.map_err(|e| {
            format!(
                "cannot reach the admin API at {}: {}",
                self.base,
                gateway::cli_out::error_chain(&e)
            )
        })?;
        let status = resp.status();
        let v: serde_json::Value = resp.json().await.unwrap_or(serde_json::Value::Null);
        if status.is_success() {
            return Ok(v);
        }
        let mut msg = format!("{status}: {}", v["error"].as_str().unwrap_or("(no detail)"));
        let problems = v["problems"].as_array().cloned().unwrap_or_default();
        if problems.len() > 1 {
            for p in problems {
                msg.push_str(&format!(
                    "\n  {}: {}",
                    p["key"].as_str().unwrap_or(""),
                    p["reason"].as_str().unwrap_or("")
                ));
            }
        }
        Err(msg)
    }
}

fn admin_call<F, Fut>(api: &ApiArgs, f: F) -> ExitCode
where
    F: FnOnce(AdminClient) -> Fut,
    Fut: std::future::Future<Output = Result<(), String>>,
{
    let client = match AdminClient::new(api) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("smppgw: {e}");
            return ExitCode::from(2);
        }
    };
    let Some(rt) = runtime() else {
        return ExitCode::FAILURE;
    };
    match rt.block_on(f(client)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("smppgw: {e}");
            ExitCode::FAILURE
        }
    }
}

/// `key=text` and `key:=json` pairs as one JSON object.
fn parse_fields(fields: &[String]) -> Result<serde_json::Value, String> {
    let mut out = serde_json::Map::new();
    for f in fields {
        if let Some((k, raw)) = f.split_once(":=") {
            let v = serde_json::from_str(raw)
                .map_err(|e| format!("{k}: {raw:?} is not JSON ({e}); use {k}=text for text"))?;
            out.insert(k.to_string(), v);
        } else if let Some((k, v)) = f.split_once('=') {
            out.insert(k.to_string(), serde_json::Value::String(v.to_string()));
        } else {
            return Err(format!("{f:?}: expected key=value or key:=json"));
        }
    }
    Ok(serde_json::Value::Object(out))
}

fn urlencode(s: &str) -> String {
    s.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

fn print_binds(binds: &[serde_json::Value]) {
    outln!(
        "{:<20} {:<6} {:<12} {:>8} {:>8} {:>9} {:>7} {:>9} {:>9}  {}",
        "NAME",
        "MODE",
        "STATE",
        "UPTIME",
        "SENT",
        "RECEIVED",
        "FAILED",
        "WINDOW",
        "TPS",
        "WHERE"
    );
    for b in binds {
        let place = match b["mode"].as_str() {
            Some("client") => format!(
                "{}:{} ({})",
                b["host"].as_str().unwrap_or(""),
                b["port"],
                b["bind_type"].as_str().unwrap_or("")
            ),
            _ => format!("{} session(s)", b["sessions"]),
        };
        outln!(
            "{:<20} {:<6} {:<12} {:>7}s {:>8} {:>9} {:>7} {:>4}/{:<4} {:>4}/{:<4}  {}",
            b["name"].as_str().unwrap_or(""),
            b["mode"].as_str().unwrap_or(""),
            b["state"].as_str().unwrap_or(""),
            b["uptime_seconds"],
            b["sent"],
            b["received"],
            b["failed"],
            b["in_flight"],
            b["window_size"],
            b["tps_now"],
            b["tps_limit"],
            place
        );
        if let Some(e) = b["last_error"].as_str() {
            outln!("{:<20} last error: {e}", "");
        }
    }
}

fn print_peers(v: &serde_json::Value) {
    let mut rows: Vec<(&str, &serde_json::Value)> = Vec::new();
    if let Some(list) = v.as_array() {
        rows.extend(list.iter().map(|p| {
            (
                if p.get("host").is_some() {
                    "client"
                } else {
                    "server"
                },
                p,
            )
        }));
    } else {
        for side in ["client", "server"] {
            rows.extend(v[side].as_array().into_iter().flatten().map(|p| (side, p)));
        }
    }
    outln!(
        "{:<20} {:<6} {:<8} {:<7} {:<16} {:>5}  {}",
        "NAME",
        "SIDE",
        "ENABLED",
        "ORIGIN",
        "SYSTEM_ID",
        "TPS",
        "WHERE"
    );
    for (side, p) in rows {
        let place = if side == "client" {
            format!("{}:{}", p["host"].as_str().unwrap_or(""), p["port"])
        } else {
            let wl: Vec<&str> = p["ip_whitelist"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|x| x.as_str())
                .collect();
            if wl.is_empty() {
                "any address".into()
            } else {
                wl.join(",")
            }
        };
        outln!(
            "{:<20} {:<6} {:<8} {:<7} {:<16} {:>5}  {}",
            p["name"].as_str().unwrap_or(""),
            side,
            p["enabled"],
            p["origin"].as_str().unwrap_or(""),
            p["system_id"].as_str().unwrap_or(""),
            p["tps_limit"],
            place
        );
    }
}
