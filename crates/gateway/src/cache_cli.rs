//! `smppgw cache …`: the retry cache's operations from the command line, through the admin API
//! of a running gateway ([`crate::admin_cache`]).
//!
//! The admin API's address and credentials come from the gateway's configuration file
//! (`[admin]` host, port, token or username/password), or from `--url` / `--token` /
//! `--user` + `--password` (environment `SMPPGW_ADMIN_URL`, `SMPPGW_ADMIN_TOKEN`).

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Subcommand};
use serde_json::Value;

use crate::config::Config;
use crate::{out, outln};

/// `smppgw cache`: see the retry cache of a running gateway and act on it.
#[derive(Debug, Args)]
pub struct CacheArgs {
    /// The gateway's configuration file (for the admin API's address and credentials).
    #[arg(long, short, default_value = "config/demo.toml")]
    pub config: PathBuf,
    /// The admin API's base URL, instead of the one in the configuration.
    #[arg(long, env = "SMPPGW_ADMIN_URL")]
    pub url: Option<String>,
    /// Bearer token, instead of `[admin] token`.
    #[arg(long, env = "SMPPGW_ADMIN_TOKEN", hide_env_values = true)]
    pub token: Option<String>,
    /// HTTP Basic user, instead of `[admin] username`.
    #[arg(long)]
    pub user: Option<String>,
    /// HTTP Basic password, instead of `[admin] password`.
    #[arg(long, hide_env_values = true)]
    pub password: Option<String>,
    /// Print the admin API's JSON answer as it is.
    #[arg(long)]
    pub json: bool,
    /// What to do (default: `summary`).
    #[command(subcommand)]
    pub action: Option<CacheAction>,
}

/// One operation.
#[derive(Debug, Subcommand)]
pub enum CacheAction {
    /// Totals and one line per bind: total, pending, failed permanent, max size, utilisation.
    Summary,
    /// The entries of one bind, oldest first.
    List {
        /// The bind's name.
        bind: String,
        /// Only `pending`, `delivering` or `failed_permanent` entries.
        #[arg(long)]
        status: Option<String>,
        /// Most entries shown.
        #[arg(long, default_value_t = 100)]
        limit: usize,
    },
    /// Retry one entry now (status pending, retry count 0).
    Retry {
        /// The bind's name.
        bind: String,
        /// The message id (as given to the peer).
        id: String,
    },
    /// Deliver every pending entry of a bind now instead of waiting for its backoff (retry
    /// counts kept), e.g. once the core is back.
    RetryPending {
        /// The bind's name.
        bind: String,
    },
    /// Retry every failed_permanent entry of a bind now.
    RetryFailed {
        /// The bind's name.
        bind: String,
    },
    /// Delete one entry.
    Delete {
        /// The bind's name.
        bind: String,
        /// The message id.
        id: String,
    },
    /// Delete every failed_permanent entry of a bind.
    DeleteFailed {
        /// The bind's name.
        bind: String,
    },
}

struct Target {
    base: String,
    token: Option<String>,
    basic: Option<(String, String)>,
    http: reqwest::Client,
}

/// The HTTP client of the CLI's admin calls (30 s timeout). When the configuration gives the
/// admin listener a certificate (`[admin] tls_cert_file`), that certificate is trusted
/// besides the Mozilla roots, so a self-signed one works from the same host.
///
/// Errors: the certificate file cannot be read or holds no PEM certificate.
pub fn admin_http_client(cfg: Option<&Config>) -> Result<reqwest::Client, String> {
    let mut b = reqwest::Client::builder().timeout(std::time::Duration::from_secs(30));
    if let Some(path) = cfg.and_then(|c| c.admin.tls_cert_file.as_ref()) {
        let pem = std::fs::read(path)
            .map_err(|e| format!("admin.tls_cert_file {}: {e}", path.display()))?;
        let certs = reqwest::Certificate::from_pem_bundle(&pem)
            .map_err(|e| format!("admin.tls_cert_file {}: {e}", path.display()))?;
        for cert in certs {
            b = b.add_root_certificate(cert);
        }
    }
    b.build().map_err(|e| e.to_string())
}

fn target(args: &CacheArgs) -> Result<Target, String> {
    // The file is needed for the address, or for credentials not given; with --url given, a
    // file that cannot be read only means no credentials from it.
    let needs_file = args.url.is_none() || (args.token.is_none() && args.user.is_none());
    let from_file = if needs_file {
        match Config::load(&args.config) {
            Ok(c) => Some(c),
            Err(_) if args.url.is_some() => None,
            Err(e) => {
                let problems: Vec<String> = e.problems.iter().map(|p| p.to_string()).collect();
                return Err(format!(
                    "{}: {} (give --url to skip the file)",
                    e.file,
                    problems.join("; ")
                ));
            }
        }
    } else {
        None
    };
    let base = match (&args.url, &from_file) {
        (Some(u), _) => u.trim_end_matches('/').to_string(),
        (None, Some(c)) => c.admin.base_url(),
        (None, None) => return Err("no admin API address: give --url or --config".into()),
    };
    let token = args
        .token
        .clone()
        .or_else(|| from_file.as_ref().and_then(|c| c.admin.token.clone()));
    let basic = match (&args.user, &args.password) {
        (Some(u), Some(p)) => Some((u.clone(), p.clone())),
        (Some(_), None) | (None, Some(_)) => return Err("--user and --password go together".into()),
        (None, None) => from_file
            .as_ref()
            .and_then(|c| c.admin.username.clone().zip(c.admin.password.clone())),
    };
    let http = admin_http_client(from_file.as_ref())?;
    Ok(Target {
        base,
        token,
        basic,
        http,
    })
}

fn seg(s: &str) -> String {
    // Path segments: bind names and ids are plain words, but escape what would break a URL.
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' | b':' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// Run `smppgw cache …`; prints the result, returns the exit code (0 done, 1 the gateway said
/// no or could not be reached, 2 bad arguments or configuration).
pub fn run(args: CacheArgs) -> ExitCode {
    let t = match target(&args) {
        Ok(t) => t,
        Err(e) => {
            eprintln!("smppgw cache: {e}");
            return ExitCode::from(2);
        }
    };
    let action = args.action.unwrap_or(CacheAction::Summary);
    let (method, path) = match &action {
        CacheAction::Summary => (reqwest::Method::GET, "/api/v1/cache".to_string()),
        CacheAction::List {
            bind,
            status,
            limit,
        } => {
            let mut p = format!("/api/v1/cache/{}/entries?limit={limit}", seg(bind));
            if let Some(s) = status {
                p.push_str(&format!("&status={}", seg(s)));
            }
            (reqwest::Method::GET, p)
        }
        CacheAction::Retry { bind, id } => (
            reqwest::Method::POST,
            format!("/api/v1/cache/{}/entries/{}/retry", seg(bind), seg(id)),
        ),
        CacheAction::RetryPending { bind } => (
            reqwest::Method::POST,
            format!("/api/v1/cache/{}/pending/retry", seg(bind)),
        ),
        CacheAction::RetryFailed { bind } => (
            reqwest::Method::POST,
            format!("/api/v1/cache/{}/failed/retry", seg(bind)),
        ),
        CacheAction::Delete { bind, id } => (
            reqwest::Method::DELETE,
            format!("/api/v1/cache/{}/entries/{}", seg(bind), seg(id)),
        ),
        CacheAction::DeleteFailed { bind } => (
            reqwest::Method::DELETE,
            format!("/api/v1/cache/{}/failed", seg(bind)),
        ),
    };
    let rt = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("smppgw cache: cannot start the runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    let url = format!("{}{path}", t.base);
    let answer = rt.block_on(async {
        let mut req = t.http.request(method, &url);
        if let Some(tok) = &t.token {
            req = req.bearer_auth(tok);
        } else if let Some((u, p)) = &t.basic {
            req = req.basic_auth(u, Some(p));
        }
        let resp = req.send().await.map_err(|e| {
            format!(
                "cannot reach the admin API at {url}: {}",
                crate::cli_out::error_chain(&e)
            )
        })?;
        let status = resp.status();
        let body: Value = resp
            .json()
            .await
            .map_err(|e| format!("{url}: answer is not JSON: {e}"))?;
        Ok::<_, String>((status, body))
    });
    let (status, body) = match answer {
        Ok(a) => a,
        Err(e) => {
            eprintln!("smppgw cache: {e}");
            return ExitCode::FAILURE;
        }
    };
    if args.json {
        outln!(
            "{}",
            serde_json::to_string_pretty(&body).unwrap_or_default()
        );
    }
    if !status.is_success() {
        eprintln!(
            "smppgw cache: {} {}",
            status.as_u16(),
            body["error"].as_str().unwrap_or("(no error text)")
        );
        return ExitCode::FAILURE;
    }
    if !args.json {
        out!("{}", render(&action, &body));
    }
    ExitCode::SUCCESS
}

fn n(v: &Value) -> u64 {
    v.as_u64().unwrap_or(0)
}

fn s(v: &Value) -> &str {
    v.as_str().unwrap_or("")
}

/// The human form of an answer.
fn render(action: &CacheAction, body: &Value) -> String {
    use std::fmt::Write as _;
    let mut out = String::new();
    match action {
        CacheAction::Summary => {
            let health = if body["available"].as_bool() == Some(true) {
                "available".to_string()
            } else {
                format!("UNAVAILABLE: {}", s(&body["error"]))
            };
            let _ = writeln!(
                out,
                "retry cache: {} ({}) — {health}",
                s(&body["storage"]),
                s(&body["dir"])
            );
            let t = &body["summary"];
            let _ = writeln!(
                out,
                "total {}  pending {}  delivering {}  failed_permanent {}",
                n(&t["total"]),
                n(&t["pending"]),
                n(&t["delivering"]),
                n(&t["failed_permanent"])
            );
            let _ = writeln!(
                out,
                "{:<24} {:<7} {:>8} {:>8} {:>8} {:>9} {:>7}",
                "BIND", "MODE", "TOTAL", "PENDING", "FAILED", "MAX", "USED"
            );
            for b in body["binds"].as_array().into_iter().flatten() {
                let _ = writeln!(
                    out,
                    "{:<24} {:<7} {:>8} {:>8} {:>8} {:>9} {:>6.1}%",
                    s(&b["bind_name"]),
                    s(&b["mode"]),
                    n(&b["total"]),
                    n(&b["pending"]),
                    n(&b["failed_permanent"]),
                    n(&b["max_size"]),
                    b["utilisation_percent"].as_f64().unwrap_or(0.0)
                );
            }
        }
        CacheAction::List { .. } => {
            let entries = body["entries"].as_array().cloned().unwrap_or_default();
            let _ = writeln!(
                out,
                "{}: {} entries ({} shown)",
                s(&body["bind_name"]),
                n(&body["total"]),
                entries.len()
            );
            let _ = writeln!(
                out,
                "{:<34} {:<8} {:<17} {:>7}  {:<21} LAST ERROR",
                "ID", "KIND", "STATUS", "RETRIES", "NEXT RETRY"
            );
            for e in entries {
                let _ = writeln!(
                    out,
                    "{:<34} {:<8} {:<17} {:>7}  {:<21} {}",
                    s(&e["id"]),
                    s(&e["what"]),
                    s(&e["status"]),
                    n(&e["retry_count"]),
                    s(&e["next_retry_at"]),
                    s(&e["last_error"])
                );
            }
        }
        CacheAction::Retry { bind, id } => {
            let _ = writeln!(
                out,
                "{bind}: {id} will be retried now ({} entries)",
                n(&body["retried"])
            );
        }
        CacheAction::RetryPending { bind } => {
            let _ = writeln!(
                out,
                "{bind}: {} pending entries will be delivered now",
                n(&body["retried"])
            );
        }
        CacheAction::RetryFailed { bind } => {
            let _ = writeln!(
                out,
                "{bind}: {} failed_permanent entries will be retried now",
                n(&body["retried"])
            );
        }
        CacheAction::Delete { bind, id } => {
            let _ = writeln!(
                out,
                "{bind}: {id} deleted ({} entries)",
                n(&body["deleted"])
            );
        }
        CacheAction::DeleteFailed { bind } => {
            let _ = writeln!(
                out,
                "{bind}: {} failed_permanent entries deleted",
                n(&body["deleted"])
            );
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn summary_renders_one_line_per_bind() {
        let body = serde_json::json!({
            "storage": "disk", "dir": "/var/lib/smppgw/cache", "available": true, "error": null,
            "summary": {"total": 42, "pending": 40, "delivering": 0, "failed_permanent": 2},
            "binds": [{"bind_name": "partner", "mode": "server", "total": 42, "pending": 40, "failed_permanent": 2,
                       "max_size": 10000, "utilisation_percent": 0.42}]
        });
        let text = render(&CacheAction::Summary, &body);
        assert!(
            text.contains("total 42  pending 40  delivering 0  failed_permanent 2"),
            "{text}"
        );
        let line = text.lines().find(|l| l.starts_with("partner")).unwrap();
        let cols: Vec<&str> = line.split_whitespace().collect();
        assert_eq!(
            cols,
            ["partner", "server", "42", "40", "2", "10000", "0.4%"]
        );
        let down = serde_json::json!({"storage": "disk", "dir": "/x", "available": false, "error": "retry cache: cannot create directory /x: File exists", "summary": {}, "binds": []});
        assert!(render(&CacheAction::Summary, &down)
            .contains("UNAVAILABLE: retry cache: cannot create directory /x"));
    }

    #[test]
    fn path_segments_are_escaped() {
        assert_eq!(seg("01J0ABC:submitted"), "01J0ABC:submitted");
        assert_eq!(seg("a b/c"), "a%20b%2Fc");
    }
}
