//! Clients of the HTTP send API: [`ApiClient`] (configuration), authentication of a request
//! (HTTP Basic, `Authorization: Bearer`, `X-API-Key`) and each client's rate limit (a token
//! bucket read on the core's clock).

use std::collections::HashMap;
use std::sync::Mutex;

use axum::http::HeaderMap;
use serde::{Deserialize, Serialize};

/// One client of the HTTP send API (`[[api_clients]]` in the gateway's TOML).
///
/// A client authenticates with HTTP Basic (`username` + `password`), with a key
/// (`Authorization: Bearer <api_key>` or `X-API-Key: <api_key>`), or with either when both are
/// set. Its `Debug` output hides the password and the key.
#[derive(Clone, PartialEq, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct ApiClient {
    /// Name of the client, unique: logs, metrics label `client`, the `system_id` of its messages.
    pub name: String,
    /// User name of HTTP Basic authentication (needs `password`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub username: Option<String>,
    /// Password of HTTP Basic authentication.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub password: Option<String>,
    /// Key accepted as `Authorization: Bearer <key>` or `X-API-Key: <key>`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub api_key: Option<String>,
    /// Sender ids (`from`) this client may use, besides `default_sender`. Empty: only the
    /// default sender.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub allowed_senders: Vec<String>,
    /// Sender id used when a request has no `from`. When absent, the first allowed sender, else
    /// an empty `source_addr` (the carrier's default).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub default_sender: Option<String>,
    /// Most messages per second (one recipient of a request is one message), as a token bucket
    /// holding at most one second's worth; a request that does not fit answers 429. Absent:
    /// unlimited.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rate_limit: Option<f64>,
    /// Client bind (`[[binds]]` name) its messages take. Absent: the MT routes (`[[routes]]`)
    /// by destination prefix. A request's own `dest_smsc` wins over both.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dest_smsc: Option<String>,
    /// Where the status changes of this client's sends are POSTed when a request names no
    /// `callback_url` of its own (the Android SMS gateway API has no such field). Absent: none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub callback_url: Option<String>,
}

impl std::fmt::Debug for ApiClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let hidden = |o: &Option<String>| o.as_ref().map(|_| "<hidden>");
        f.debug_struct("ApiClient")
            .field("name", &self.name)
            .field("username", &self.username)
            .field("password", &hidden(&self.password))
            .field("api_key", &hidden(&self.api_key))
            .field("allowed_senders", &self.allowed_senders)
            .field("default_sender", &self.default_sender)
            .field("rate_limit", &self.rate_limit)
            .field("dest_smsc", &self.dest_smsc)
            .field("callback_url", &self.callback_url)
            .finish()
    }
}

impl ApiClient {
    /// Whether `from` may be used by this client.
    pub(crate) fn may_send_as(&self, from: &str) -> bool {
        self.default_sender.as_deref() == Some(from)
            || self.allowed_senders.iter().any(|s| s == from)
    }

    /// The sender of a request without `from`.
    pub(crate) fn implied_sender(&self) -> Option<&str> {
        self.default_sender
            .as_deref()
            .or_else(|| self.allowed_senders.first().map(String::as_str))
    }
}

/// Why a request was not authenticated (never carries the secret).
#[derive(Debug)]
pub(crate) struct AuthFailure {
    /// Metric label: the client's name when the user name or key named a known client,
    /// `unknown` for an unknown user, `anonymous` without credentials.
    pub(crate) label: String,
    /// For the log and the answer.
    pub(crate) reason: &'static str,
    /// The user name tried, for the log.
    pub(crate) username: Option<String>,
}

/// A token bucket: `tokens` at `at_ms`, refilled at `rate` per second up to `rate.max(1)`.
#[derive(Debug)]
struct Bucket {
    tokens: f64,
    at_ms: u64,
}

/// The configured clients, indexed for authentication, with their rate buckets.
#[derive(Debug, Default)]
pub(crate) struct Clients {
    list: Vec<ApiClient>,
    by_user: HashMap<String, usize>,
    buckets: Mutex<HashMap<usize, Bucket>>,
}

/// Constant-time equality of two secrets (the time depends on the lengths only).
fn same_secret(a: &[u8], b: &[u8]) -> bool {
    let mut diff = a.len() ^ b.len();
    for (i, x) in a.iter().enumerate() {
        let y = b.get(i % b.len().max(1)).copied().unwrap_or(0);
        diff |= usize::from(x ^ y);
    }
    diff == 0
}

impl Clients {
    pub(crate) fn new(list: &[ApiClient]) -> Clients {
        let by_user = list
            .iter()
            .enumerate()
            .filter_map(|(i, c)| c.username.clone().map(|u| (u, i)))
            .collect();
        Clients {
            list: list.to_vec(),
            by_user,
            buckets: Mutex::new(HashMap::new()),
        }
    }

    pub(crate) fn get(&self, i: usize) -> &ApiClient {
        &self.list[i]
    }

    /// The client a request's headers authenticate, by index.
    pub(crate) fn authenticate(&self, headers: &HeaderMap) -> Result<usize, AuthFailure> {
        let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
        let fail = |label: &str, reason, username: Option<&str>| AuthFailure {
            label: label.to_string(),
            reason,
            username: username.map(str::to_string),
        };
        if let Some(auth) = header("authorization") {
            let (scheme, value) = auth.trim().split_once(' ').unwrap_or((auth.trim(), ""));
            let value = value.trim();
            if scheme.eq_ignore_ascii_case("basic") {
                use base64::Engine as _;
                let decoded = base64::engine::general_purpose::STANDARD
                    .decode(value)
                    .ok()
                    .and_then(|b| String::from_utf8(b).ok());
                let Some((user, pass)) = decoded.as_deref().and_then(|d| d.split_once(':')) else {
                    return Err(fail("unknown", "malformed Basic credentials", None));
                };
                let Some(&i) = self.by_user.get(user) else {
                    return Err(fail("unknown", "unknown user", Some(user)));
                };
                let client = &self.list[i];
                let expected = client.password.as_deref().unwrap_or("");
                return if !expected.is_empty() && same_secret(pass.as_bytes(), expected.as_bytes())
                {
                    Ok(i)
                } else {
                    Err(fail(&client.name, "wrong password", Some(user)))
                };
            }
            if scheme.eq_ignore_ascii_case("bearer") {
                return self.by_key(value);
            }
            return Err(fail("unknown", "unsupported authorization scheme", None));
        }
        if let Some(key) = header("x-api-key") {
            return self.by_key(key.trim());
        }
        Err(fail("anonymous", "no credentials", None))
    }

    fn by_key(&self, key: &str) -> Result<usize, AuthFailure> {
        // Compare with every key, so that the time does not tell which one nearly matched.
        let mut found = None;
        for (i, c) in self.list.iter().enumerate() {
            if let Some(k) = c.api_key.as_deref() {
                if !k.is_empty() && same_secret(key.as_bytes(), k.as_bytes()) {
                    found = Some(i);
                }
            }
        }
        found.ok_or(AuthFailure {
            label: "unknown".into(),
            reason: "unknown API key",
            username: None,
        })
    }

    /// The most messages client `i`'s bucket holds (one second's worth, at least 1), `None`
    /// when it has no rate limit: a request with more recipients can never pass.
    pub(crate) fn burst(&self, i: usize) -> Option<usize> {
        let rate = self.list[i]
            .rate_limit
            .filter(|r| r.is_finite() && *r > 0.0)?;
        Some(rate.max(1.0).floor() as usize)
    }

    /// Takes `n` messages from client `i`'s bucket at `now_ms`; `Err(seconds to wait)` when
    /// they do not fit (or never can: more than one second's worth).
    pub(crate) fn take(&self, i: usize, n: usize, now_ms: u64) -> Result<(), u64> {
        let Some(rate) = self.list[i]
            .rate_limit
            .filter(|r| r.is_finite() && *r > 0.0)
        else {
            return Ok(());
        };
        let capacity = rate.max(1.0);
        let mut buckets = self.buckets.lock().unwrap_or_else(|p| p.into_inner());
        let bucket = buckets.entry(i).or_insert(Bucket {
            tokens: capacity,
            at_ms: now_ms,
        });
        let elapsed = now_ms.saturating_sub(bucket.at_ms) as f64 / 1000.0;
        bucket.tokens = (bucket.tokens + elapsed * rate).min(capacity);
        bucket.at_ms = bucket.at_ms.max(now_ms);
        let n = n as f64;
        if n <= bucket.tokens {
            bucket.tokens -= n;
            return Ok(());
        }
        let missing = (n.min(capacity) - bucket.tokens).max(0.0);
        Err((missing / rate).ceil().max(1.0) as u64)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn client(rate: Option<f64>) -> ApiClient {
        ApiClient {
            name: "c".into(),
            username: Some("u".into()),
            password: Some("p".into()),
            api_key: Some("k123".into()),
            rate_limit: rate,
            ..ApiClient::default()
        }
    }

    #[test]
    fn secrets_compare_exactly() {
        assert!(same_secret(b"abc", b"abc"));
        assert!(!same_secret(b"abc", b"abd"));
        assert!(!same_secret(b"abc", b"abcd"));
        assert!(!same_secret(b"", b"a"));
        assert!(same_secret(b"", b""));
    }

    #[test]
    fn token_bucket_refills_with_the_clock() {
        let c = Clients::new(&[client(Some(2.0))]);
        assert!(c.take(0, 1, 0).is_ok());
        assert!(c.take(0, 1, 0).is_ok());
        assert_eq!(c.take(0, 1, 0), Err(1));
        assert!(c.take(0, 1, 500).is_ok());
        assert!(
            c.take(0, 3, 10_000).is_err(),
            "more than a second's worth never fits"
        );
        let unlimited = Clients::new(&[client(None)]);
        assert!(unlimited.take(0, 1000, 0).is_ok());
        assert_eq!((c.burst(0), unlimited.burst(0)), (Some(2), None));
        assert_eq!(Clients::new(&[client(Some(0.5))]).burst(0), Some(1));
    }

    #[test]
    fn debug_hides_secrets() {
        let s = format!("{:?}", client(None));
        assert!(!s.contains("k123") && !s.contains("\"p\""), "{s}");
    }
}
