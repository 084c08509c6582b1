//! The bridge between smppgw and the messaging core (layer 3 of `DESIGN.md`).
//!
//! # Layout
//! - [`api`]: the JSON types of the messaging core API, shared with the embedded core so that
//!   both ends of the contract are one definition. Written up as OpenAPI in `docs/core-api.yaml`.
//! - [`client`]: the REST client the gateway uses to hand messages to the core, claim what it
//!   must send, and report what happened.
//!
//! This crate knows nothing of SMPP sessions: it speaks JSON over HTTP and nothing else.
#![deny(missing_docs)]

pub mod api;
pub mod client;

pub use api::*;
pub use client::{cut_error_body, CoreClient, CoreError, CoreFuture, InProcessCore};
