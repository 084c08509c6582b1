//! The two sides of the gateway as [`SessionHandler`]s: server binds (partners submit MT, we
//! push MO and receipts) and client binds (we submit MT to carriers, they deliver MO and
//! receipts). Both hand what they receive to the core before they answer it.

use std::net::SocketAddr;
use std::sync::Arc;

use core_bridge::api::{new_message_id, now_ms, BindMode};
use futures::future::BoxFuture;
use smpp_codec::pdu::{Bind, DecodeOptions, Frame, Pdu};
use smpp_codec::status::CommandStatus;
use smpp_codec::types::BindKind;
use smpp_session::{
    BindGrant, InboundReply, LinkEvent, SessionConfig, SessionHandler, SessionInfo, TpsLimiter,
};

use crate::app::Gateway;
use crate::config::{ip_allowed, secs_opt, source_allowed, BindType, ServerBind, TpsExceeded};
use crate::convert::{self, Origin};
use crate::handover::Refusal;
use crate::telemetry::{self, BindLabels};

/// Session timers of a server bind.
pub fn server_session_config(b: &ServerBind, bind_timeout_s: u64) -> SessionConfig {
    let secs = |s: u64| std::time::Duration::from_secs(s.max(1));
    SessionConfig {
        enquire_link_interval: secs_opt(b.enquire_link_interval),
        enquire_link_timeout: secs(b.enquire_link_timeout),
        response_timeout: secs(b.response_timeout),
        window_size: b.window_size,
        bind_timeout: secs(bind_timeout_s),
        inactivity_timeout: secs_opt(b.inactivity_timeout),
        max_consecutive_timeouts: b.max_consecutive_timeouts,
        unbind_timeout: secs(b.unbind_timeout),
        drain_timeout: secs(b.drain_timeout),
        throttle_resends: b.throttle_resends,
        decode: decode_options(b.strict_pdu, 0x34),
    }
}

/// The codec options of a bind: `strict_pdu` picks [`DecodeOptions::strict`] or
/// [`DecodeOptions::lenient`]; `interface_version` is the version this side binds with (a
/// client bind's key; 0x34 for what partners send), against which a strict client bind checks
/// the SMSC's `sc_interface_version`.
pub fn decode_options(strict_pdu: bool, interface_version: u8) -> DecodeOptions {
    DecodeOptions::for_mode(strict_pdu).with_interface_version(interface_version)
}

/// One per-peer window per partner, shared by all of the partner's sessions.
#[derive(Default)]
pub struct PeerWindows(std::sync::Mutex<std::collections::HashMap<String, TpsLimiter>>);

impl PeerWindows {
    /// `peer`'s window, its limit set to `tps_limit` (read live, so an edit applies to the next
    /// message).
    pub fn get(&self, peer: &str, tps_limit: u32) -> TpsLimiter {
        let mut map = self.0.lock().unwrap_or_else(|p| p.into_inner());
        let w = map
            .entry(peer.to_string())
            .or_insert_with(|| TpsLimiter::new(tps_limit))
            .clone();
        w.set_limit(tps_limit);
        w
    }
}

/// The SMSC side: one handler for every partner session.
pub struct ServerSide {
    /// The gateway.
    pub gw: Arc<Gateway>,
    /// Each partner's `submit_sm` rate, over all its sessions (the seed's per-second window).
    pub submit_rate: PeerWindows,
    /// Each partner's `deliver_sm` rate, over all its sessions.
    pub deliver_rate: PeerWindows,
}

/// How a partner's `submit_sm` fits its `tps_limit`.
#[derive(Debug, PartialEq, Eq)]
enum Rate {
    Within,
    Over,
    WaitUntil(std::time::Instant),
}

/// Place one `submit_sm` of `peer` at `now` in its per-second window: within it, over it
/// (`throttle`), or in the first later second with room (`delay`).
fn place(
    windows: &PeerWindows,
    peer: &str,
    tps_limit: u32,
    mode: TpsExceeded,
    now: std::time::Instant,
) -> Rate {
    if tps_limit == 0 {
        return Rate::Within;
    }
    let w = windows.get(peer, tps_limit);
    match mode {
        TpsExceeded::Throttle => match w.try_acquire(now) {
            Ok(()) => Rate::Within,
            Err(_) => Rate::Over,
        },
        TpsExceeded::Delay => match w.reserve(now) {
            at if at <= now => Rate::Within,
            at => Rate::WaitUntil(at),
        },
    }
}

impl ServerSide {
    /// A handler for `gw`'s partners.
    pub fn new(gw: Arc<Gateway>) -> Self {
        ServerSide {
            gw,
            submit_rate: PeerWindows::default(),
            deliver_rate: PeerWindows::default(),
        }
    }

    fn rate(&self, peer: &str, tps_limit: u32, mode: TpsExceeded) -> Rate {
        place(
            &self.submit_rate,
            peer,
            tps_limit,
            mode,
            tokio::time::Instant::now().into_std(),
        )
    }
}

impl ServerSide {
    fn labels(peer: &str, system_id: &str) -> BindLabels {
        BindLabels::server(peer, system_id)
    }
}

impl SessionHandler for ServerSide {
    fn authenticate(
        &self,
        remote: SocketAddr,
        kind: BindKind,
        bind: &Bind,
    ) -> Result<BindGrant, CommandStatus> {
        let cfg = self.gw.config();
        let system_id = bind.system_id.to_str_lossy();
        let refuse = |peer: &str, status: CommandStatus, why: &str| {
            tracing::warn!(%remote, system_id = %system_id, peer, "bind refused: {why} ({status})");
            Self::labels(peer, &system_id).inc(telemetry::BIND_FAILURES);
            Err(status)
        };
        let Some(peer) = cfg
            .server_binds
            .iter()
            .find(|b| b.system_id.as_bytes() == bind.system_id.as_bytes())
        else {
            return refuse("", CommandStatus::ESME_RINVSYSID, "unknown system_id");
        };
        if peer.password.as_bytes() != bind.password.as_bytes() {
            return refuse(&peer.name, CommandStatus::ESME_RINVPASWD, "wrong password");
        }
        if !peer.enabled {
            return refuse(&peer.name, CommandStatus::ESME_RBINDFAIL, "peer disabled");
        }
        if !ip_allowed(&peer.ip_whitelist, remote.ip()) {
            return refuse(
                &peer.name,
                CommandStatus::ESME_RBINDFAIL,
                "address not in ip_whitelist",
            );
        }
        if !peer.allowed_bind_types.contains(&BindType::from_kind(kind)) {
            return refuse(
                &peer.name,
                CommandStatus::ESME_RBINDFAIL,
                "bind type not in allowed_bind_types",
            );
        }
        // max_sessions is checked, atomically with the registration, by the session layer.
        tracing::debug!(%remote, peer = %peer.name, system_id = %system_id, bind_type = BindType::from_kind(kind).as_str(), "partner credentials accepted");
        Ok(BindGrant {
            peer_name: peer.name.clone(),
            config: server_session_config(peer, cfg.listen.bind_timeout),
            tps: self.deliver_rate.get(&peer.name, peer.tps_limit),
            max_sessions: peer.max_sessions,
        })
    }

    fn on_message(
        &self,
        session: Arc<SessionInfo>,
        frame: Frame,
    ) -> BoxFuture<'static, InboundReply> {
        let gw = self.gw.clone();
        let cfg = gw.config();
        let (whitelist, tps_limit, mode) = cfg
            .server_binds
            .iter()
            .find(|b| b.name == session.peer_name)
            .map(|b| {
                (
                    b.source_address_whitelist.clone(),
                    b.tps_limit,
                    b.tps_exceeded,
                )
            })
            .unwrap_or_default();
        // Placed now, in arrival order, before any waiting.
        let rate = self.rate(&session.peer_name, tps_limit, mode);
        Box::pin(async move {
            let labels = Self::labels(&session.peer_name, &session.system_id);
            labels.inc(telemetry::MESSAGES_RECEIVED);
            match rate {
                Rate::Within => {}
                Rate::Over => {
                    labels.inc_with(telemetry::INBOUND_REFUSED, "reason", "throttled");
                    tracing::debug!(peer = %session.peer_name, tps_limit, "submit over tps_limit answered ESME_RTHROTTLED");
                    return InboundReply::error(CommandStatus::ESME_RTHROTTLED);
                }
                Rate::WaitUntil(at) => {
                    // tps_exceeded = "delay": the answer waits for its second; the session's
                    // window then stops reading, which slows the partner down.
                    labels.inc_with(telemetry::INBOUND_DELAYED, "reason", "tps_limit");
                    tokio::time::sleep_until(tokio::time::Instant::from_std(at)).await;
                }
            }
            let source = match &frame.pdu {
                Pdu::SubmitSm(sm) => sm.source_addr.to_str_lossy().into_owned(),
                Pdu::DataSm(sm) => sm.source_addr.to_str_lossy().into_owned(),
                _ => return InboundReply::error(CommandStatus::ESME_RINVCMDID),
            };
            if !source_allowed(&whitelist, &source) {
                labels.inc_with(telemetry::INBOUND_REFUSED, "reason", "source_address");
                tracing::warn!(
                    "SMPP Server: Rejecting submit_sm from {} - source_addr '{}' not in whitelist",
                    session.peer_name,
                    source
                );
                return InboundReply::error(CommandStatus::ESME_RINVSRCADR);
            }
            let frontend = gw.frontend(&session.peer_name);
            let origin = Origin {
                bind_name: &session.peer_name,
                bind_mode: BindMode::Server,
                system_id: &session.system_id,
                frontend: &frontend,
            };
            let id = new_message_id();
            let settings = gw
                .config()
                .server_binds
                .iter()
                .find(|b| b.name == session.peer_name)
                .map(|b| b.text_settings())
                .unwrap_or_default();
            let msg = match &frame.pdu {
                Pdu::SubmitSm(sm) => convert::inbound_from_sm_with(
                    id.clone(),
                    core_bridge::api::Direction::Mt,
                    sm,
                    &origin,
                    now_ms(),
                    &settings,
                ),
                Pdu::DataSm(sm) => convert::inbound_from_data_sm_with(
                    id.clone(),
                    true,
                    sm,
                    &origin,
                    now_ms(),
                    &settings,
                ),
                _ => return InboundReply::error(CommandStatus::ESME_RINVCMDID),
            };
            // ESME_ROK only once the message is in the core or on disk in the retry cache.
            match gw
                .handover
                .accept(&session.peer_name, BindMode::Server, msg)
                .await
            {
                Ok(_) => InboundReply::ok(id),
                Err(Refusal::Temporary(e)) => {
                    labels.inc_with(telemetry::INBOUND_REFUSED, "reason", "core_unavailable");
                    tracing::warn!(peer = %session.peer_name, error = %e, "submit_sm not accepted: core unavailable; answered ESME_RSYSERR");
                    InboundReply::error(CommandStatus::ESME_RSYSERR)
                }
                Err(Refusal::Permanent(e)) => {
                    labels.inc_with(telemetry::INBOUND_REFUSED, "reason", "core_refused");
                    tracing::warn!(peer = %session.peer_name, error = %e, "submit_sm refused by the core");
                    InboundReply::error(CommandStatus::ESME_RSUBMITFAIL)
                }
            }
        })
    }

    fn on_event(&self, session: &SessionInfo, event: &LinkEvent) {
        if session.peer_name.is_empty() {
            return;
        }
        let labels = Self::labels(&session.peer_name, &session.system_id);
        match event {
            LinkEvent::Bound => {
                // Logged here, once the session layer registered it (max_sessions passed).
                let bind_type = session
                    .kind
                    .map(|k| BindType::from_kind(k).as_str())
                    .unwrap_or("?");
                tracing::info!(remote = %session.remote, peer = %session.peer_name, system_id = %session.system_id, bind_type, tls = session.tls, "partner bound");
                labels.inc(telemetry::BIND_SUCCESS);
                labels.set(telemetry::CONNECTION_STATUS, 1.0);
            }
            LinkEvent::Closed(why) => {
                tracing::info!(peer = %session.peer_name, remote = %session.remote, reason = ?why, "partner session closed");
                labels.inc(telemetry::DISCONNECTIONS);
                // The session is already out of the registry here.
                let up = self.gw.registry.count(&session.peer_name) > 0;
                labels.set(telemetry::CONNECTION_STATUS, if up { 1.0 } else { 0.0 });
            }
            LinkEvent::EnquireLinkSent => labels.inc(telemetry::ENQUIRE_LINK_SENT),
            LinkEvent::EnquireLinkAnswered => labels.inc(telemetry::ENQUIRE_LINK_RECEIVED),
            // Authentication refusals are counted in `authenticate`; this one is max_sessions.
            LinkEvent::BindFailed(_) => labels.inc(telemetry::BIND_FAILURES),
            LinkEvent::Throttled(_) => labels.inc(telemetry::THROTTLED),
            LinkEvent::Refused { command_id, status } => {
                tracing::info!(peer = %session.peer_name, remote = %session.remote, command = smpp_codec::command::command_name(*command_id).unwrap_or("unknown"), %status, "request refused");
            }
            _ => {}
        }
    }
}

/// The ESME side: one handler per client bind.
pub struct ClientSide {
    /// The gateway.
    pub gw: Arc<Gateway>,
    /// The bind's name.
    pub name: String,
    /// Its metric labels.
    pub labels: BindLabels,
}

impl SessionHandler for ClientSide {
    fn on_message(
        &self,
        session: Arc<SessionInfo>,
        frame: Frame,
    ) -> BoxFuture<'static, InboundReply> {
        let gw = self.gw.clone();
        let name = self.name.clone();
        let labels = self.labels.clone();
        Box::pin(async move {
            labels.inc(telemetry::MESSAGES_RECEIVED);
            let frontend = gw.frontend(&name);
            let origin = Origin {
                bind_name: &name,
                bind_mode: BindMode::Client,
                system_id: &session.system_id,
                frontend: &frontend,
            };
            let id = new_message_id();
            let settings = gw
                .config()
                .binds
                .iter()
                .find(|b| b.name == name)
                .map(|b| b.text_settings())
                .unwrap_or_default();
            let msg = match &frame.pdu {
                Pdu::DeliverSm(sm) => {
                    convert::inbound_from_deliver_with(id, sm, &origin, now_ms(), &settings)
                }
                Pdu::DataSm(sm) => {
                    convert::inbound_from_data_sm_with(id, false, sm, &origin, now_ms(), &settings)
                }
                _ => return InboundReply::error(CommandStatus::ESME_RINVCMDID),
            };
            // Receipts too: ESME_ROK only once the core or the retry cache has it.
            match gw.handover.accept(&name, BindMode::Client, msg).await {
                Ok(_) => InboundReply::ok(""),
                Err(e) => {
                    // The carrier keeps the message and redelivers it later.
                    tracing::warn!(bind = %name, error = %e, "deliver_sm not accepted: core unavailable; answered ESME_RX_T_APPN");
                    InboundReply::error(CommandStatus::ESME_RX_T_APPN)
                }
            }
        })
    }

    fn on_event(&self, _session: &SessionInfo, event: &LinkEvent) {
        let l = &self.labels;
        match event {
            LinkEvent::Connecting => l.inc(telemetry::CONNECTION_ATTEMPTS),
            LinkEvent::Bound => {
                tracing::info!(bind = %self.name, "bound to SMSC");
                l.inc(telemetry::BIND_SUCCESS);
                l.set(telemetry::CONNECTION_STATUS, 1.0);
            }
            LinkEvent::BindFailed(_) => {
                // The session layer logs it once, with the next attempt's time:
                // "bind refused: <status>; next attempt in …".
                l.inc(telemetry::BIND_FAILURES);
            }
            LinkEvent::Closed(why) => {
                tracing::info!(bind = %self.name, reason = ?why, "disconnected from SMSC");
                l.inc(telemetry::DISCONNECTIONS);
                l.set(telemetry::CONNECTION_STATUS, 0.0);
                l.set(telemetry::UPTIME_SECONDS, 0.0);
            }
            LinkEvent::EnquireLinkSent => l.inc(telemetry::ENQUIRE_LINK_SENT),
            LinkEvent::EnquireLinkAnswered => l.inc(telemetry::ENQUIRE_LINK_RECEIVED),
            LinkEvent::ConnectFailed(_) => l.set(telemetry::CONNECTION_STATUS, 0.0),
            LinkEvent::Throttled(_) => l.inc(telemetry::THROTTLED),
            LinkEvent::Refused { command_id, status } => {
                tracing::info!(bind = %self.name, command = smpp_codec::command::command_name(*command_id).unwrap_or("unknown"), %status, "request from the SMSC refused");
            }
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::{Duration, Instant};

    #[test]
    fn over_tps_is_throttled_or_delayed_as_configured_per_partner() {
        let w = PeerWindows::default();
        let t0 = Instant::now();
        let throttle: Vec<Rate> = (0..4)
            .map(|_| place(&w, "a", 3, TpsExceeded::Throttle, t0))
            .collect();
        assert_eq!(
            throttle,
            vec![Rate::Within, Rate::Within, Rate::Within, Rate::Over]
        );
        // Another partner has its own window.
        assert_eq!(place(&w, "b", 1, TpsExceeded::Throttle, t0), Rate::Within);
        assert_eq!(place(&w, "b", 1, TpsExceeded::Throttle, t0), Rate::Over);
        // Delay: the excess is placed in the next seconds, in order.
        let delayed: Vec<Rate> = (0..5)
            .map(|_| place(&w, "c", 2, TpsExceeded::Delay, t0))
            .collect();
        let s = Duration::from_secs(1);
        assert_eq!(
            delayed,
            vec![
                Rate::Within,
                Rate::Within,
                Rate::WaitUntil(t0 + s),
                Rate::WaitUntil(t0 + s),
                Rate::WaitUntil(t0 + 2 * s)
            ]
        );
        // A new limit applies to the next PDU; 0 is no limit.
        assert_eq!(place(&w, "a", 4, TpsExceeded::Throttle, t0), Rate::Within);
        assert_eq!(place(&w, "a", 0, TpsExceeded::Throttle, t0), Rate::Within);
        assert_eq!(
            place(&w, "a", 4, TpsExceeded::Throttle, t0 + s),
            Rate::Within
        );
    }

    #[test]
    fn every_session_of_a_partner_draws_from_one_deliver_window() {
        let w = PeerWindows::default();
        let a = w.get("p", 10);
        let b = w.get("p", 20);
        assert!(a.same_as(&b));
        assert_eq!(a.limit(), 20, "the latest tps_limit applies");
        assert!(!a.same_as(&w.get("q", 10)));
    }
}
