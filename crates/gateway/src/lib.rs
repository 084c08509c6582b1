//! smppgw, the gateway (layer 5 of `DESIGN.md`): configuration, the supervisor that runs the
//! binds, the queue workers that feed them from the core, the admin API, metrics and the CLI.
//!
//! # Layout
//! - [`config`]: the TOML file with the seed's keys, environment overrides, validation.
//! - [`app`]: start, run and stop everything; the queue workers.
//! - [`supervisor`]: peers at run time (apply a configuration, operators' overrides, SIGHUP).
//! - [`peers`]: the server-bind and client-bind session handlers.
//! - [`convert`]: PDU ⇄ core API message translation.
//! - [`pdu_json`]: PDUs as JSON for `smppgw pdu decode` / `encode`.
//! - [`handover`]: coalescing hand-over of messages, batched events, the retry cache behind them.
//! - [`admin`]: the admin API; [`admin_cache`]: its retry cache operations.
//! - [`dashboard`]: the web dashboard's embedded assets, served by the admin router.
//! - [`cache_cli`]: `smppgw cache …`, the retry cache's operations through the admin API.
//! - [`telemetry`]: metric names (the seed's) and logging.
#![deny(missing_docs)]

pub mod admin;
pub mod admin_cache;
pub mod admin_tls;
pub mod app;
pub mod cache_cli;
pub mod cli_out;
pub mod config;
pub mod convert;
pub mod dashboard;
pub mod handover;
pub mod pdu_json;
pub mod peers;
pub mod supervisor;
pub mod telemetry;
