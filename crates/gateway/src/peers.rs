//! The two sides of the gateway as [`SessionHandler`]s: server binds (partners submit MT, we
//! push MO and receipts) and client binds (we submit MT to carriers, they deliver MO and
//! receipts). Both hand what they receive to the core before they answer it.

use std::net::SocketAddr;
use std::sync::Arc;

use core_bridge::api::{new_message_id, now_ms, BindMode};
use futures::future::BoxFuture;
use smpp_codec::pdu::{Bind, Frame, Pdu};
use smpp_codec::status::CommandStatus;
use smpp_codec::types::BindKind;
use smpp_session::{BindGrant, InboundReply, LinkEvent, SessionConfig, SessionHandler, SessionInfo};

use crate::app::Gateway;
use crate::config::{ip_allowed, secs_opt, source_allowed, BindType, ServerBind};
use crate::convert::{self, Origin};
use crate::telemetry::{self, BindLabels};

/// Session timers of a server bind.
pub fn server_session_config(b: &ServerBind, bind_timeout_s: u64) -> SessionConfig {
    SessionConfig {
        enquire_link_interval: secs_opt(b.enquire_link_interval),
        response_timeout: std::time::Duration::from_secs(b.response_timeout.max(1)),
        window_size: b.window_size,
        bind_timeout: std::time::Duration::from_secs(bind_timeout_s.max(1)),
        inactivity_timeout: secs_opt(b.inactivity_timeout),
        max_consecutive_timeouts: 3,
    }
}

/// The SMSC side: one handler for every partner session.
pub struct ServerSide {
    /// The gateway.
    pub gw: Arc<Gateway>,
    /// Each partner's `submit_sm` rate, over all its sessions (the seed's per-second window).
    pub submit_rate: std::sync::Mutex<std::collections::HashMap<String, smpp_session::TpsWindow>>,
}

impl ServerSide {
    /// A handler for `gw`'s partners.
    pub fn new(gw: Arc<Gateway>) -> Self {
        ServerSide { gw, submit_rate: Default::default() }
    }

    /// Take one slot of `peer`'s per-second window (`tps_limit` read live, so an edit applies
    /// to the next PDU); false when the partner is over its limit.
    fn within_rate(&self, peer: &str, tps_limit: u32) -> bool {
        let mut map = self.submit_rate.lock().unwrap_or_else(|p| p.into_inner());
        let w = map.entry(peer.to_string()).or_insert_with(|| smpp_session::TpsWindow::new(tps_limit));
        w.set_limit(tps_limit);
        w.try_acquire(tokio::time::Instant::now().into_std()).is_ok()
    }
}

impl ServerSide {
    fn labels(peer: &str, system_id: &str) -> BindLabels {
        BindLabels::server(peer, system_id)
    }
}

impl SessionHandler for ServerSide {
    fn authenticate(&self, remote: SocketAddr, kind: BindKind, bind: &Bind) -> Result<BindGrant, CommandStatus> {
        let cfg = self.gw.config();
        let system_id = bind.system_id.to_str_lossy();
        let refuse = |peer: &str, status: CommandStatus, why: &str| {
            tracing::warn!(%remote, system_id = %system_id, peer, "bind refused: {why} ({status})");
            Self::labels(peer, &system_id).inc(telemetry::BIND_FAILURES);
            Err(status)
        };
        let Some(peer) = cfg.server_binds.iter().find(|b| b.system_id.as_bytes() == bind.system_id.as_bytes()) else {
            return refuse("", CommandStatus::ESME_RINVSYSID, "unknown system_id");
        };
        if peer.password.as_bytes() != bind.password.as_bytes() {
            return refuse(&peer.name, CommandStatus::ESME_RINVPASWD, "wrong password");
        }
        if !peer.enabled {
            return refuse(&peer.name, CommandStatus::ESME_RBINDFAIL, "peer disabled");
        }
        if !ip_allowed(&peer.ip_whitelist, remote.ip()) {
            return refuse(&peer.name, CommandStatus::ESME_RBINDFAIL, "address not in ip_whitelist");
        }
        if !peer.allowed_bind_types.contains(&BindType::from_kind(kind)) {
            return refuse(&peer.name, CommandStatus::ESME_RBINDFAIL, "bind type not in allowed_bind_types");
        }
        if self.gw.registry.count(&peer.name) >= peer.max_sessions {
            return refuse(&peer.name, CommandStatus::ESME_RBINDFAIL, "max_sessions reached");
        }
        tracing::info!(%remote, peer = %peer.name, system_id = %system_id, bind_type = BindType::from_kind(kind).as_str(), "partner bound");
        Ok(BindGrant { peer_name: peer.name.clone(), config: server_session_config(peer, cfg.listen.bind_timeout), tps_limit: peer.tps_limit })
    }

    fn on_message(&self, session: Arc<SessionInfo>, frame: Frame) -> BoxFuture<'static, InboundReply> {
        let gw = self.gw.clone();
        let cfg = gw.config();
        let (whitelist, tps_limit) = cfg
            .server_binds
            .iter()
            .find(|b| b.name == session.peer_name)
            .map(|b| (b.source_address_whitelist.clone(), b.tps_limit))
            .unwrap_or_default();
        let within_rate = tps_limit == 0 || self.within_rate(&session.peer_name, tps_limit);
        Box::pin(async move {
            let labels = Self::labels(&session.peer_name, &session.system_id);
            labels.inc(telemetry::MESSAGES_RECEIVED);
            if !within_rate {
                labels.inc(telemetry::THROTTLED);
                tracing::debug!(peer = %session.peer_name, tps_limit, "submit over tps_limit answered ESME_RTHROTTLED");
                return InboundReply::error(CommandStatus::ESME_RTHROTTLED);
            }
            let source = match &frame.pdu {
                Pdu::SubmitSm(sm) => sm.source_addr.to_str_lossy().into_owned(),
                Pdu::DataSm(sm) => sm.source_addr.to_str_lossy().into_owned(),
                _ => return InboundReply::error(CommandStatus::ESME_RINVCMDID),
            };
            if !source_allowed(&whitelist, &source) {
                tracing::warn!("SMPP Server: Rejecting submit_sm from {} - source_addr '{}' not in whitelist", session.peer_name, source);
                return InboundReply::error(CommandStatus::ESME_RINVSRCADR);
            }
            let frontend = gw.frontend(&session.peer_name);
            let origin = Origin { bind_name: &session.peer_name, bind_mode: BindMode::Server, system_id: &session.system_id, frontend: &frontend };
            let id = new_message_id();
            let settings = gw.config().server_binds.iter().find(|b| b.name == session.peer_name).map(|b| b.text_settings()).unwrap_or_default();
            let msg = match &frame.pdu {
                Pdu::SubmitSm(sm) => convert::inbound_from_sm_with(id.clone(), core_bridge::api::Direction::Mt, sm, &origin, now_ms(), &settings),
                Pdu::DataSm(sm) => convert::inbound_from_data_sm_with(id.clone(), true, sm, &origin, now_ms(), &settings),
                _ => return InboundReply::error(CommandStatus::ESME_RINVCMDID),
            };
            match gw.handover.hand_over(msg).await {
                Ok(_) => InboundReply::ok(id),
                Err(e) if e.is_retryable() => {
                    tracing::warn!(peer = %session.peer_name, error = %e, "submit_sm not accepted: core unavailable; answered ESME_RSYSERR");
                    InboundReply::error(CommandStatus::ESME_RSYSERR)
                }
                Err(e) => {
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
                labels.inc(telemetry::BIND_SUCCESS);
                labels.set(telemetry::CONNECTION_STATUS, 1.0);
            }
            LinkEvent::Closed(_) => {
                labels.inc(telemetry::DISCONNECTIONS);
                // The session is already out of the registry here.
                let up = self.gw.registry.count(&session.peer_name) > 0;
                labels.set(telemetry::CONNECTION_STATUS, if up { 1.0 } else { 0.0 });
            }
            LinkEvent::EnquireLinkSent => labels.inc(telemetry::ENQUIRE_LINK_SENT),
            LinkEvent::EnquireLinkAnswered => labels.inc(telemetry::ENQUIRE_LINK_RECEIVED),
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
    fn on_message(&self, session: Arc<SessionInfo>, frame: Frame) -> BoxFuture<'static, InboundReply> {
        let gw = self.gw.clone();
        let name = self.name.clone();
        let labels = self.labels.clone();
        Box::pin(async move {
            labels.inc(telemetry::MESSAGES_RECEIVED);
            let frontend = gw.frontend(&name);
            let origin = Origin { bind_name: &name, bind_mode: BindMode::Client, system_id: &session.system_id, frontend: &frontend };
            let id = new_message_id();
            let settings = gw.config().binds.iter().find(|b| b.name == name).map(|b| b.text_settings()).unwrap_or_default();
            let msg = match &frame.pdu {
                Pdu::DeliverSm(sm) => convert::inbound_from_deliver_with(id, sm, &origin, now_ms(), &settings),
                Pdu::DataSm(sm) => convert::inbound_from_data_sm_with(id, false, sm, &origin, now_ms(), &settings),
                _ => return InboundReply::error(CommandStatus::ESME_RINVCMDID),
            };
            match gw.handover.hand_over(msg).await {
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
            LinkEvent::BindFailed(_) => l.inc(telemetry::BIND_FAILURES),
            LinkEvent::Closed(_) => {
                l.inc(telemetry::DISCONNECTIONS);
                l.set(telemetry::CONNECTION_STATUS, 0.0);
                l.set(telemetry::UPTIME_SECONDS, 0.0);
            }
            LinkEvent::EnquireLinkSent => l.inc(telemetry::ENQUIRE_LINK_SENT),
            LinkEvent::EnquireLinkAnswered => l.inc(telemetry::ENQUIRE_LINK_RECEIVED),
            LinkEvent::ConnectFailed(_) => l.set(telemetry::CONNECTION_STATUS, 0.0),
            _ => {}
        }
    }
}
