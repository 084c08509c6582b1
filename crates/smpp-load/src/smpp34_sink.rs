//! The comparison of scenario S1: an ack-only SMSC built with the `smpp34` crate's own server
//! ([`smpp34::SmppServer`] with a listener that accepts every bind and answers every
//! `submit_sm` with `ESME_ROK`), as that crate's `perf_smsc` example does; it counts what it
//! acknowledged. Under the same load as the gateway, it tells what the fastest Rust SMPP stack
//! we know does with nothing behind it.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::sync::Arc;

use async_trait::async_trait;
use smpp34::{
    bind_receiver, bind_receiver_resp, bind_transceiver, bind_transceiver_resp, bind_transmitter,
    bind_transmitter_resp, submit_sm, submit_sm_resp, SmppConnectionInformation, SmppServer,
    SmppServerListener,
};

/// Counts acknowledged `submit_sm`.
#[derive(Default)]
pub struct AckAll {
    /// `submit_sm` acknowledged.
    pub submits: AtomicU64,
    /// Binds accepted.
    pub binds: AtomicU64,
}

#[async_trait]
impl SmppServerListener for AckAll {
    async fn on_bind_transmitter(
        &self,
        req: bind_transmitter,
        _c: &SmppConnectionInformation,
        _s: &String,
    ) -> bind_transmitter_resp {
        self.binds.fetch_add(1, Relaxed);
        req.accept("SMPP34".to_string(), Some(0x34))
    }
    async fn on_bind_receiver(
        &self,
        req: bind_receiver,
        _c: &SmppConnectionInformation,
        _s: &String,
    ) -> bind_receiver_resp {
        self.binds.fetch_add(1, Relaxed);
        req.accept("SMPP34".to_string(), Some(0x34))
    }
    async fn on_bind_transceiver(
        &self,
        req: bind_transceiver,
        _c: &SmppConnectionInformation,
        _s: &String,
    ) -> bind_transceiver_resp {
        self.binds.fetch_add(1, Relaxed);
        req.accept("SMPP34".to_string(), Some(0x34))
    }
    async fn on_submit_sm(
        &self,
        req: submit_sm,
        _c: &SmppConnectionInformation,
        _s: &String,
    ) -> submit_sm_resp {
        let n = self.submits.fetch_add(1, Relaxed);
        req.accept(n.to_string())
    }
}

/// Starts the smpp34 server on `addr` and returns its counters (it runs until the process ends).
pub async fn start(addr: SocketAddr) -> Arc<AckAll> {
    let counters = Arc::new(AckAll::default());
    let mut server = SmppServer::new(addr.ip(), addr.port(), counters.clone());
    server.start().await;
    // The server object owns the accept loop; keep it alive for the life of the process.
    std::mem::forget(server);
    counters
}
