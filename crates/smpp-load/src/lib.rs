//! The load tool of the benchmarks (issue 8, `docs/performance.md` "Scenarios").
//!
//! Four roles, one binary (`smpp-load`):
//!
//! | module | role |
//! | --- | --- |
//! | [`esme`] | an ESME: binds several sessions, submits N `submit_sm` with a window and a total TPS cap, waits for every response and (asked) every delivery receipt, measures `submit_sm → resp` latency |
//! | [`sink`] | an SMSC that binds anyone and acks every `submit_sm` at once (unique ids), optionally sending a receipt back after a delay |
//! | [`idle`] | N binds held open, answering `enquire_link` (RSS per bind) |
//! | [`smpp34_sink`] | the `smpp34` crate's server acking every `submit_sm`: the comparison of S1 |
//!
//! The pure parts are here too: [`stats`] (latency percentiles), [`matcher`] (message ids given
//! and receipts received: losses and duplicates), [`wire`] (the PDUs the tool writes, encoded
//! with `smpp-codec` once and patched per message).
#![deny(missing_docs)]

pub mod esme;
pub mod idle;
pub mod matcher;
pub mod sink;
pub mod smpp34_sink;
pub mod stats;
pub mod wire;

/// Waits for SIGTERM or SIGINT (Ctrl-C).
///
/// # Errors
/// When the signal handlers cannot be installed.
pub async fn terminated() -> std::io::Result<()> {
    use tokio::signal::unix::{signal, SignalKind};
    let mut term = signal(SignalKind::terminate())?;
    let mut int = signal(SignalKind::interrupt())?;
    tokio::select! {
        _ = term.recv() => {}
        _ = int.recv() => {}
    }
    Ok(())
}
