//! The files operators install beside the binary are checked by the tools that will read them:
//! the systemd unit by `systemd-analyze verify`, the alert rules by `promtool check rules` and
//! `promtool test rules`, the Grafana dashboard's queries by `promtool` too (as recording rules),
//! and every metric they name against the metrics the gateway exports. The configuration
//! reference is checked against the configuration's keys.
//!
//! `scripts/test.sh` installs `promtool` (Debian's `prometheus` package); where a tool cannot
//! run here, its test says so on stderr and checks the rest.

use std::path::{Path, PathBuf};
use std::process::Command;

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .canonicalize()
        .unwrap()
}

fn read(rel: &str) -> String {
    std::fs::read_to_string(repo().join(rel)).unwrap_or_else(|e| panic!("{rel}: {e}"))
}

fn tool(name: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|d| d.join(name))
        .find(|p| p.is_file())
}

fn scratch(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("smppgw-ops-files-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

#[test]
fn the_systemd_unit_has_what_operations_rely_on() {
    let unit = read("systemd/smppgw.service");
    for line in [
        "User=smppgw",
        "StateDirectory=smppgw",
        "ProtectSystem=strict",
        "NoNewPrivileges=true",
        "LimitNOFILE=65536",
        "EnvironmentFile=-/etc/smppgw/smppgw.env",
        "ExecReload=/bin/kill -HUP $MAINPID",
        "ExecStartPre=/usr/bin/smppgw check-config /etc/smppgw/smppgw.toml",
        "KillSignal=SIGTERM",
        "RestartPreventExitStatus=2",
    ] {
        assert!(
            unit.lines().any(|l| l.trim() == line),
            "systemd/smppgw.service lacks {line:?}"
        );
    }
    // TimeoutStopSec leaves the gateway's own shutdown bound (default 30 s) time to finish.
    let stop: u64 = unit
        .lines()
        .find_map(|l| l.strip_prefix("TimeoutStopSec="))
        .and_then(|v| v.trim().parse().ok())
        .expect("TimeoutStopSec");
    assert!(
        stop > 30,
        "TimeoutStopSec={stop} must exceed the default shutdown_timeout of 30 s"
    );
}

#[test]
fn systemd_analyze_verifies_the_unit() {
    let Some(analyze) = tool("systemd-analyze") else {
        eprintln!("SKIPPED systemd_analyze_verifies_the_unit: systemd-analyze is not installed here (Debian package systemd)");
        return;
    };
    let dir = scratch("systemd");
    // The unit names /usr/bin/smppgw; point it at the binary under test so that the executable
    // exists where systemd-analyze looks.
    let unit =
        read("systemd/smppgw.service").replace("/usr/bin/smppgw", env!("CARGO_BIN_EXE_smppgw"));
    let good = dir.join("smppgw.service");
    std::fs::write(&good, &unit).unwrap();
    let out = Command::new(&analyze)
        .arg("verify")
        .arg(&good)
        .output()
        .unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        out.status.success() && !text.contains("smppgw.service:"),
        "systemd-analyze verify failed:\n{text}"
    );
    // And it does catch a broken unit, so its silence above means something.
    let broken = dir.join("broken.service");
    std::fs::write(
        &broken,
        unit.replace("ExecStart=", "ExecStart=relative/smppgw "),
    )
    .unwrap();
    let out = Command::new(&analyze)
        .arg("verify")
        .arg(&broken)
        .output()
        .unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        !out.status.success() || text.contains("broken.service"),
        "a broken unit passed systemd-analyze verify:\n{text}"
    );
}

/// Every `smpp_*`/`smppgw_*` name in `text`, histogram suffixes removed.
fn metric_names(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let bytes = text.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        if !text.is_char_boundary(i) {
            i += 1;
            continue;
        }
        let starts = (text[i..].starts_with("smpp_") || text[i..].starts_with("smppgw_"))
            && (i == 0 || !(bytes[i - 1].is_ascii_alphanumeric() || bytes[i - 1] == b'_'));
        if starts {
            let end = text[i..]
                .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
                .map_or(text.len(), |n| i + n);
            let mut name = text[i..end].to_string();
            for suffix in ["_bucket", "_sum", "_count"] {
                if let Some(base) = name.strip_suffix(suffix) {
                    if gateway::telemetry::ALL_METRICS.contains(&base) {
                        name = base.to_string();
                    }
                }
            }
            out.push(name);
            i = end;
        } else {
            i += 1;
        }
    }
    out
}

#[test]
fn rules_and_dashboard_name_only_metrics_the_gateway_exports() {
    for file in [
        "docs/prometheus/smpp-alerts.yml",
        "docs/prometheus/smpp-alerts.test.yml",
        "docs/grafana/smppgw-dashboard.json",
        "docs/monitoring.md",
    ] {
        let names = metric_names(&read(file));
        assert!(!names.is_empty(), "{file} names no metric");
        // The seed's rule group is called smpp_gateway; it is not a metric.
        for n in names.into_iter().filter(|n| n != "smpp_gateway") {
            assert!(
                gateway::telemetry::ALL_METRICS.contains(&n.as_str()),
                "{file} names {n}, which smppgw does not export"
            );
        }
    }
    // The seed's metric names, every one of them, are exported and documented.
    let monitoring = read("docs/monitoring.md");
    for n in &gateway::telemetry::ALL_METRICS[..16] {
        assert!(n.starts_with("smpp_"));
        assert!(
            monitoring.contains(&format!("`{n}`")),
            "docs/monitoring.md does not document {n}"
        );
    }
}

/// The dashboard's queries, each as it is written in the JSON.
fn dashboard_queries() -> Vec<(String, String)> {
    let dash: serde_json::Value = serde_json::from_str(&read("docs/grafana/smppgw-dashboard.json"))
        .expect("the dashboard is JSON");
    assert_eq!(dash["uid"], "smppgw");
    let mut out = Vec::new();
    for p in dash["panels"].as_array().expect("panels") {
        assert!(
            p["gridPos"]["w"].as_u64().is_some(),
            "panel {} has no gridPos",
            p["title"]
        );
        for t in p["targets"].as_array().expect("targets") {
            out.push((
                p["title"].as_str().unwrap_or("").to_string(),
                t["expr"].as_str().expect("expr").to_string(),
            ));
        }
    }
    assert!(out.len() >= 10, "a dashboard of {} queries", out.len());
    out
}

#[test]
fn promtool_checks_and_tests_the_alert_rules_and_the_dashboard_queries() {
    let queries = dashboard_queries();
    let Some(promtool) = tool("promtool") else {
        eprintln!("SKIPPED promtool checks: promtool is not installed (Debian package prometheus; scripts/test.sh installs it)");
        return;
    };
    let dir = repo().join("docs/prometheus");
    for args in [
        vec!["check", "rules", "smpp-alerts.yml"],
        vec!["test", "rules", "smpp-alerts.test.yml"],
    ] {
        let out = Command::new(&promtool)
            .args(&args)
            .current_dir(&dir)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "promtool {args:?}:\n{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }
    // Each dashboard query as a recording rule: promtool parses every one of them.
    let scratch = scratch("dashboard");
    let mut rules = String::from("groups:\n  - name: dashboard\n    rules:\n");
    for (i, (_, expr)) in queries.iter().enumerate() {
        rules.push_str(&format!(
            "      - record: dashboard:query{i}\n        expr: {}\n",
            serde_json::to_string(expr).unwrap()
        ));
    }
    let path = scratch.join("dashboard-rules.yml");
    std::fs::write(&path, &rules).unwrap();
    let out = Command::new(&promtool)
        .args(["check", "rules"])
        .arg(&path)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "a dashboard query does not parse:\n{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    // promtool does refuse a bad query, so its success above means something.
    std::fs::write(&path, "groups:\n  - name: bad\n    rules:\n      - record: bad:query\n        expr: \"rate(smpp_messages_sent_total[5m]\"\n").unwrap();
    let out = Command::new(&promtool)
        .args(["check", "rules"])
        .arg(&path)
        .output()
        .unwrap();
    assert!(
        !out.status.success(),
        "promtool accepted a query with an unclosed parenthesis"
    );
}

/// Every key of the configuration, as a dotted path (`listen.port`, `binds.tps_limit`).
fn config_keys() -> Vec<String> {
    let cfg =
        gateway::config::Config::load_with_env(&repo().join("config/smppgw.example.toml"), &|_| {
            None
        })
        .expect("the example configuration loads");
    let v = serde_json::to_value(&cfg).unwrap();
    let mut keys = Vec::new();
    fn walk(prefix: &str, v: &serde_json::Value, keys: &mut Vec<String>) {
        match v {
            serde_json::Value::Object(o) => {
                for (k, x) in o {
                    let path = if prefix.is_empty() {
                        k.clone()
                    } else {
                        format!("{prefix}.{k}")
                    };
                    match x {
                        serde_json::Value::Object(_) => walk(&path, x, keys),
                        serde_json::Value::Array(a) if a.first().is_some_and(|e| e.is_object()) => {
                            walk(&path, &a[0], keys)
                        }
                        _ => keys.push(path),
                    }
                }
            }
            _ => {}
        }
    }
    walk("", &v, &mut keys);
    keys
}

#[test]
fn every_configuration_key_is_in_the_example_and_the_reference() {
    let example = read("config/smppgw.example.toml");
    let reference = read("docs/configuration.md");
    let keys = config_keys();
    assert!(keys.len() > 60, "{keys:?}");
    for key in keys {
        let leaf = key.rsplit('.').next().unwrap();
        let written = example.lines().any(|l| {
            let l = l.trim_start_matches(['#', ' ']);
            l.starts_with(&format!("{leaf} ="))
                || l.starts_with(&format!("{leaf}="))
                || l.starts_with(&format!("[{leaf}]"))
                || l.starts_with(&format!("[[{leaf}]]"))
        });
        assert!(written, "config/smppgw.example.toml does not show {key}");
        assert!(
            reference.contains(&format!("`{leaf}`")),
            "docs/configuration.md does not describe {key}"
        );
    }
    for (var, _, _) in gateway::config::ENV_OVERRIDES {
        assert!(
            reference.contains(&format!("`{var}`")),
            "docs/configuration.md does not list {var}"
        );
    }
}
