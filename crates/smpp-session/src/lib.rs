//! SMPP bind sessions, both sides (layer 2 of `DESIGN.md`).
//!
//! # Layout
//! - [`machine`]: the sans-IO state machine of one bind ([`Session`]), driven with an explicit
//!   `now`; every timer (bind, response, `enquire_link`, inactivity) is data, so it is tested
//!   without sleeping.
//! - [`tps`]: the seed's per-second TPS window.
//! - [`driver`]: the thin tokio shell that owns one framed stream and runs a [`Session`]
//!   against the application's [`SessionHandler`].
//! - [`client`]: client binds (we are the ESME): connect (TCP or TLS), bind, reconnect on a
//!   schedule (every 30 s; refused binds back off).
//! - [`server`]: server binds (we are the SMSC): plain and TLS listeners under one
//!   `max_connections`, admission, [`SessionRegistry`].
//! - [`tls`]: rustls configurations from PEM files, both sides.
//!
//! This crate knows SMPP and TCP; it knows nothing of HTTP, the messaging core or metrics —
//! the gateway sees what happens through [`SessionHandler::on_event`].
#![deny(missing_docs)]

pub mod client;
pub mod driver;
pub mod machine;
pub mod server;
pub mod tls;
pub mod tps;

pub use client::{
    spawn_client, spawn_client_with, ClientConfig, ClientHandle, Connected, Connector, LinkState,
    LinkStatus, Stream, TcpConnector,
};
pub use driver::{
    BindGrant, InboundReply, LinkEvent, Reply, SendFailure, SessionHandler, SessionInfo,
    SessionStats,
};
pub use machine::{CloseReason, Event, Role, SendError, Session, SessionConfig, State};
pub use server::{
    run_server_session, serve, ConnectionLimit, Endpoint, ListenerConfig, SessionRegistry,
    SessionSnapshot,
};
pub use tls::{ClientTls, ClientTlsFiles, ServerTlsFiles, TlsError};
pub use tps::{TpsLimiter, TpsWindow};
