//! Routing and tuning: [`EmbeddedConfig`], and the longest-prefix match over its routes.

use std::time::Duration;

use crate::clients::ApiClient;

/// Routing and tuning of the embedded core.
#[derive(Clone, Debug)]
pub struct EmbeddedConfig {
    /// MT routes: destination prefix -> `dest_smsc` (client bind name). Longest prefix wins. A
    /// leading `+` on the number (and on the prefix) is ignored; the empty prefix matches every
    /// number (a default route).
    pub routes: Vec<Route>,
    /// MO routes: destination prefix -> `source_smsc` (server bind name). Longest prefix wins,
    /// with the same rules as [`routes`](Self::routes).
    pub mo_routes: Vec<MoRoute>,
    /// Default lease of a claim (a claim may ask for another with `lease_seconds`). Millisecond
    /// resolution. Default 60 s.
    pub lease: Duration,
    /// How many times a message may be claimed before a retryable failure makes it fail for
    /// good (`attempts` counts claims). Default 10.
    pub max_attempts: u32,
    /// Delay before the first retry after a retryable failure; it doubles with each attempt and
    /// is capped at 5 minutes. Default 5 s.
    pub retry_base: Duration,
    /// Clients of the HTTP send API (`POST /api/v1/send`, `POST /3rdparty/v1/message`). None:
    /// every send call answers 401.
    pub api_clients: Vec<ApiClient>,
    /// Most segments of one text sent through the send API; a longer text answers 400
    /// (`text`). 1..=255, default 10.
    pub max_segments: u32,
    /// Client binds (`[[binds]]` names) a send may name as `dest_smsc`, besides those the MT
    /// routes name.
    pub known_dest_smsc: Vec<String>,
    /// Attempts of one status callback (`callback_url`) before it is given up. Default 6.
    pub callback_max_attempts: u32,
    /// Wait before the second attempt of a callback; it doubles with each attempt, capped at
    /// 5 minutes. Default 2 s.
    pub callback_retry_base: Duration,
    /// Time limit of one callback attempt. Default 10 s.
    pub callback_timeout: Duration,
}

/// A configuration the embedded core refuses: the field at fault and why.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("embedded core configuration: {field}: {reason}")]
pub struct ConfigError {
    /// The field, e.g. `api_clients[1].password`.
    pub field: String,
    /// What is wrong with it.
    pub reason: String,
}

impl EmbeddedConfig {
    /// Checks the send API settings: `max_segments` in 1..=255; each client named, uniquely,
    /// with a user name and password, or a key, or both (no user name or key shared by two
    /// clients); rate limits positive; default and allowed senders valid sender ids; a
    /// client's `dest_smsc` a known client bind when any are known.
    ///
    /// Errors: the first [`ConfigError`] found.
    pub fn validate(&self) -> Result<(), ConfigError> {
        let bad = |field: String, reason: &str| {
            Err(ConfigError {
                field,
                reason: reason.to_string(),
            })
        };
        if !(1..=255).contains(&self.max_segments) {
            return bad("max_segments".into(), "must be 1..=255");
        }
        let table = RoutingTable::new(&self.routes, &self.mo_routes);
        let any_known = !self.known_dest_smsc.is_empty() || !self.routes.is_empty();
        let mut names = std::collections::HashSet::new();
        let mut users = std::collections::HashSet::new();
        let mut keys = std::collections::HashSet::new();
        for (i, c) in self.api_clients.iter().enumerate() {
            let f = |k: &str| format!("api_clients[{i}].{k}");
            if c.name.trim().is_empty() {
                return bad(f("name"), "must not be empty");
            }
            if !names.insert(c.name.as_str()) {
                return bad(f("name"), "is used by another client");
            }
            match (&c.username, &c.password) {
                (Some(u), _) if u.is_empty() || u.contains(':') => {
                    return bad(f("username"), "must be non-empty, without ':'")
                }
                (Some(_), None) => return bad(f("password"), "is required with a username"),
                (Some(_), Some(p)) if p.is_empty() => {
                    return bad(f("password"), "must not be empty")
                }
                (None, Some(_)) => return bad(f("username"), "is required with a password"),
                _ => {}
            }
            if let Some(u) = &c.username {
                if !users.insert(u.as_str()) {
                    return bad(f("username"), "is used by another client");
                }
            }
            match &c.api_key {
                Some(k) if k.trim().is_empty() => return bad(f("api_key"), "must not be empty"),
                Some(k) if !keys.insert(k.as_str()) => {
                    return bad(f("api_key"), "is used by another client")
                }
                _ => {}
            }
            if c.username.is_none() && c.api_key.is_none() {
                return bad(f("username"), "a client needs username/password or api_key");
            }
            if let Some(r) = c.rate_limit {
                if !(r.is_finite() && r > 0.0) {
                    return bad(
                        f("rate_limit"),
                        "must be a positive number of messages per second",
                    );
                }
            }
            if let Some(s) = &c.default_sender {
                if let Err(e) = crate::send::source_address(s) {
                    return bad(f("default_sender"), &e);
                }
            }
            for (j, s) in c.allowed_senders.iter().enumerate() {
                if let Err(e) = crate::send::source_address(s) {
                    return bad(f(&format!("allowed_senders[{j}]")), &e);
                }
            }
            if let Some(u) = &c.callback_url {
                if !crate::send::is_http_url(u) {
                    return bad(f("callback_url"), "must be an http(s) URL");
                }
            }
            if let Some(d) = &c.dest_smsc {
                if any_known && !self.known_dest_smsc.contains(d) && !table.has_dest(d) {
                    return bad(
                        f("dest_smsc"),
                        "is neither a known client bind nor a route's dest_smsc",
                    );
                }
            }
        }
        Ok(())
    }
}

impl Default for EmbeddedConfig {
    fn default() -> Self {
        EmbeddedConfig {
            routes: Vec::new(),
            mo_routes: Vec::new(),
            lease: Duration::from_secs(60),
            max_attempts: 10,
            retry_base: Duration::from_secs(5),
            api_clients: Vec::new(),
            max_segments: 10,
            known_dest_smsc: Vec::new(),
            callback_max_attempts: 6,
            callback_retry_base: Duration::from_secs(2),
            callback_timeout: Duration::from_secs(10),
        }
    }
}

/// One MT route: numbers starting with `prefix` go to the client bind `dest_smsc`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Route {
    /// Destination prefix (digits; a leading `+` is ignored; empty = every number).
    pub prefix: String,
    /// Name of the client bind (`[[binds]]` `name`) that sends these messages to a carrier.
    pub dest_smsc: String,
}

/// One MO route: numbers starting with `prefix` go to the server bind `source_smsc`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MoRoute {
    /// Destination prefix (digits; a leading `+` is ignored; empty = every number).
    pub prefix: String,
    /// Name of the server bind (`[[server_binds]]` `name`) the partner is bound on.
    pub source_smsc: String,
}

/// Both route tables, normalised: prefixes without `+`, longest first.
#[derive(Clone, Debug, Default)]
pub(crate) struct RoutingTable {
    mt: Vec<(String, String)>,
    mo: Vec<(String, String)>,
}

impl RoutingTable {
    pub(crate) fn new(routes: &[Route], mo_routes: &[MoRoute]) -> Self {
        RoutingTable {
            mt: sorted(
                routes
                    .iter()
                    .map(|r| (r.prefix.as_str(), r.dest_smsc.as_str())),
            ),
            mo: sorted(
                mo_routes
                    .iter()
                    .map(|r| (r.prefix.as_str(), r.source_smsc.as_str())),
            ),
        }
    }

    /// The client bind for an MT to `number`, if a route matches.
    pub(crate) fn route_mt(&self, number: &str) -> Option<&str> {
        longest(&self.mt, number)
    }

    /// Whether some MT route sends to client bind `name`.
    pub(crate) fn has_dest(&self, name: &str) -> bool {
        self.mt.iter().any(|(_, d)| d == name)
    }

    /// The server bind for an MO to `number`, if a route matches.
    pub(crate) fn route_mo(&self, number: &str) -> Option<&str> {
        longest(&self.mo, number)
    }
}

fn strip_plus(s: &str) -> &str {
    s.trim().strip_prefix('+').unwrap_or(s.trim())
}

fn sorted<'a>(it: impl Iterator<Item = (&'a str, &'a str)>) -> Vec<(String, String)> {
    let mut v: Vec<(String, String)> = it
        .map(|(p, t)| (strip_plus(p).to_string(), t.to_string()))
        .collect();
    // Longest prefix first; among equal prefixes the first configured one wins (stable sort).
    v.sort_by_key(|r| std::cmp::Reverse(r.0.len()));
    v
}

fn longest<'a>(table: &'a [(String, String)], number: &str) -> Option<&'a str> {
    let number = strip_plus(number);
    table
        .iter()
        .find(|(p, _)| number.starts_with(p.as_str()))
        .map(|(_, t)| t.as_str())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn r(p: &str, d: &str) -> Route {
        Route {
            prefix: p.into(),
            dest_smsc: d.into(),
        }
    }

    #[test]
    fn longest_prefix_wins_and_plus_is_ignored() {
        let t = RoutingTable::new(&[r("33", "a"), r("+336", "b"), r("44", "c")], &[]);
        assert_eq!(t.route_mt("33612345678"), Some("b"));
        assert_eq!(t.route_mt("+33612345678"), Some("b"));
        assert_eq!(t.route_mt("3312345678"), Some("a"));
        assert_eq!(t.route_mt("4420"), Some("c"));
        assert_eq!(t.route_mt("1555"), None);
    }

    #[test]
    fn empty_prefix_is_a_default_route_and_first_of_equals_wins() {
        let t = RoutingTable::new(&[r("", "default"), r("1", "x"), r("1", "y")], &[]);
        assert_eq!(t.route_mt("1555"), Some("x"));
        assert_eq!(t.route_mt("999"), Some("default"));
        let mo = RoutingTable::new(
            &[],
            &[MoRoute {
                prefix: "700".into(),
                source_smsc: "p".into(),
            }],
        );
        assert_eq!(mo.route_mo("7001"), Some("p"));
        assert_eq!(mo.route_mo("7011"), None);
        assert_eq!(mo.route_mt("7001"), None);
    }
}
