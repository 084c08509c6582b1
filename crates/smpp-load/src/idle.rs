//! Idle mode: open `binds` sessions, hold them, answer `enquire_link` (scenario S4: RSS per
//! bind and idle CPU of the gateway).

use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::sync::Arc;

use bytes::BytesMut;
use serde::Serialize;
use smpp_codec::types::BindKind;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::sync::Semaphore;
use tokio_util::sync::CancellationToken;

use crate::esme::connect_and_bind;
use crate::wire::{self, id};

/// What idle mode does.
#[derive(Clone, Debug)]
pub struct IdleConfig {
    /// `host:port` to bind to.
    pub addr: String,
    /// Sessions to open.
    pub binds: usize,
    /// Bind type.
    pub bind: BindKind,
    /// system_ids; bind i uses `system_ids[i % len]`.
    pub system_ids: Vec<String>,
    /// One password, or one per system_id.
    pub passwords: Vec<String>,
    /// Binds being opened at once at most.
    pub connect_concurrency: usize,
}

/// Counters of idle mode (its JSON output).
#[derive(Clone, Debug, Default, Serialize)]
pub struct IdleStats {
    /// "idle".
    pub mode: &'static str,
    /// Binds asked for.
    pub binds: usize,
    /// Binds acknowledged with ESME_ROK.
    pub bound: u64,
    /// Binds that failed (connect or refusal).
    pub failed: u64,
    /// Sessions the other end closed (or unbound) while held.
    pub closed: u64,
    /// `enquire_link` answered.
    pub enquire_links: u64,
    /// The first bind failure, if any.
    pub first_error: Option<String>,
}

/// Live counters.
#[derive(Default)]
pub struct IdleCounters {
    bound: AtomicU64,
    failed: AtomicU64,
    closed: AtomicU64,
    enquire_links: AtomicU64,
    first_error: std::sync::Mutex<Option<String>>,
}

impl IdleCounters {
    /// Snapshot for `binds` asked.
    pub fn snapshot(&self, binds: usize) -> IdleStats {
        IdleStats {
            mode: "idle",
            binds,
            bound: self.bound.load(Relaxed),
            failed: self.failed.load(Relaxed),
            closed: self.closed.load(Relaxed),
            enquire_links: self.enquire_links.load(Relaxed),
            first_error: self
                .first_error
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .clone(),
        }
    }
}

/// Opens every bind (at most `connect_concurrency` at once) and returns when each is bound or
/// failed; the sessions stay open, answering `enquire_link`, until `stop` is cancelled (then
/// they are dropped without unbind).
pub async fn open(cfg: &IdleConfig, stop: CancellationToken) -> Arc<IdleCounters> {
    let counters = Arc::new(IdleCounters::default());
    let gate = Arc::new(Semaphore::new(cfg.connect_concurrency.max(1)));
    let mut started = Vec::with_capacity(cfg.binds);
    for i in 0..cfg.binds {
        let sid = cfg.system_ids[i % cfg.system_ids.len()].clone();
        let pw = if cfg.passwords.len() == 1 {
            cfg.passwords[0].clone()
        } else {
            cfg.passwords[i % cfg.passwords.len()].clone()
        };
        let (addr, kind, gate, counters, stop) = (
            cfg.addr.clone(),
            cfg.bind,
            gate.clone(),
            counters.clone(),
            stop.clone(),
        );
        let (tx, rx) = tokio::sync::oneshot::channel::<()>();
        started.push(rx);
        tokio::spawn(async move {
            let permit = gate.acquire_owned().await;
            let bound = connect_and_bind(&addr, kind, &sid, &pw).await;
            drop(permit);
            let (stream, mut buf) = match bound {
                Ok(b) => b,
                Err(e) => {
                    counters.failed.fetch_add(1, Relaxed);
                    let mut first = counters
                        .first_error
                        .lock()
                        .unwrap_or_else(|p| p.into_inner());
                    first.get_or_insert_with(|| format!("{e:#}"));
                    drop(first);
                    let _ = tx.send(());
                    return;
                }
            };
            counters.bound.fetch_add(1, Relaxed);
            let _ = tx.send(());
            hold(stream, &mut buf, &counters, stop).await;
        });
    }
    for rx in started {
        let _ = rx.await;
    }
    counters
}

async fn hold(
    mut s: tokio::net::TcpStream,
    buf: &mut BytesMut,
    counters: &IdleCounters,
    stop: CancellationToken,
) {
    let mut out = BytesMut::new();
    loop {
        while let Some((len, cid, _status, seq)) = wire::header(buf) {
            let len = len as usize;
            if len < 16 || buf.len() < len {
                break;
            }
            let _ = buf.split_to(len);
            match cid {
                id::ENQUIRE_LINK => {
                    counters.enquire_links.fetch_add(1, Relaxed);
                    wire::put_header_only(&mut out, id::ENQUIRE_LINK | id::RESPONSE, 0, seq);
                }
                id::UNBIND => {
                    wire::put_header_only(&mut out, id::UNBIND_RESP, 0, seq);
                    let _ = s.write_all(&out).await;
                    counters.closed.fetch_add(1, Relaxed);
                    return;
                }
                id::DELIVER_SM => wire::put_cstr_resp(&mut out, id::DELIVER_SM_RESP, 0, seq, b""),
                _ => {}
            }
        }
        if !out.is_empty() {
            if s.write_all(&out).await.is_err() {
                counters.closed.fetch_add(1, Relaxed);
                return;
            }
            out.clear();
        }
        // Keep the buffer small while idle: 10 000 of them.
        if buf.capacity() > 4096 && buf.is_empty() {
            *buf = BytesMut::new();
        }
        tokio::select! {
            r = s.read_buf(buf) => match r {
                Ok(0) | Err(_) => {
                    counters.closed.fetch_add(1, Relaxed);
                    return;
                }
                Ok(_) => {}
            },
            _ = stop.cancelled() => return,
        }
    }
}
