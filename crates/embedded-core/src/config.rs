//! Routing and tuning: [`EmbeddedConfig`], and the longest-prefix match over its routes.

use std::time::Duration;

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
}

impl Default for EmbeddedConfig {
    fn default() -> Self {
        EmbeddedConfig {
            routes: Vec::new(),
            mo_routes: Vec::new(),
            lease: Duration::from_secs(60),
            max_attempts: 10,
            retry_base: Duration::from_secs(5),
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
