//! Sink mode: an SMSC that binds anyone and acknowledges every `submit_sm` at once with a
//! unique message id (`{connection:x}-{n:x}`), optionally sending a delivery receipt back on the
//! same session `receipt_delay` later; it counts what it received.
//!
//! One task per connection reads whatever is available, answers every whole PDU in it into one
//! buffer and writes that buffer once (responses are batched as the requests came).

use std::collections::VecDeque;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::sync::Arc;
use std::time::Duration;

use bytes::BytesMut;
use serde::Serialize;
use smpp_codec::pdu::{Frame, Pdu};
use smpp_codec::receipt::{receipt_deliver_sm, DeliveryReceipt};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::time::Instant;

use crate::wire::{self, id};

/// Largest PDU accepted, octets.
const MAX_PDU: usize = 70_000;

/// What the sink does.
#[derive(Clone, Debug)]
pub struct SinkConfig {
    /// Address to listen on (`127.0.0.1:0` picks a port; see `port_file`).
    pub listen: String,
    /// Send a receipt for every `submit_sm` with `registered_delivery` bit 0 set.
    pub receipts: bool,
    /// Delay before a receipt is sent.
    pub receipt_delay: Duration,
    /// Receipts unanswered per connection at most (more wait in the queue).
    pub receipt_window: usize,
    /// The `system_id` in bind responses.
    pub system_id: String,
    /// Write [`SinkStats`] as JSON here every second and at exit.
    pub report_file: Option<PathBuf>,
    /// Write the port listened on here once listening.
    pub port_file: Option<PathBuf>,
}

/// Counters of the sink (the `--json` / `--report-file` output).
#[derive(Debug, Default)]
pub struct SinkCounters {
    connections: AtomicU64,
    binds: AtomicU64,
    submits: AtomicU64,
    submit_resps: AtomicU64,
    receipts_sent: AtomicU64,
    receipt_resps: AtomicU64,
    receipt_errors: AtomicU64,
    unbinds: AtomicU64,
    other: AtomicU64,
}

/// A snapshot of [`SinkCounters`].
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct SinkStats {
    /// "sink".
    pub mode: &'static str,
    /// Connections accepted.
    pub connections: u64,
    /// Binds acknowledged.
    pub binds: u64,
    /// `submit_sm` received.
    pub submits: u64,
    /// `submit_sm_resp` written.
    pub submit_resps: u64,
    /// Receipts (`deliver_sm`) written.
    pub receipts_sent: u64,
    /// `deliver_sm_resp` received with `ESME_ROK`.
    pub receipt_resps: u64,
    /// `deliver_sm_resp` received with another status.
    pub receipt_errors: u64,
    /// Receipts not yet answered or not yet sent at the time of the snapshot (those of closed
    /// sessions included: they are lost).
    pub receipts_pending: u64,
    /// `unbind` received.
    pub unbinds: u64,
    /// Other PDUs received.
    pub other: u64,
}

impl SinkCounters {
    /// A snapshot.
    pub fn snapshot(&self, pending: u64) -> SinkStats {
        SinkStats {
            mode: "sink",
            connections: self.connections.load(Relaxed),
            binds: self.binds.load(Relaxed),
            submits: self.submits.load(Relaxed),
            submit_resps: self.submit_resps.load(Relaxed),
            receipts_sent: self.receipts_sent.load(Relaxed),
            receipt_resps: self.receipt_resps.load(Relaxed),
            receipt_errors: self.receipt_errors.load(Relaxed),
            receipts_pending: pending,
            unbinds: self.unbinds.load(Relaxed),
            other: self.other.load(Relaxed),
        }
    }
}

/// A running sink.
pub struct Sink {
    /// Its counters.
    pub counters: Arc<SinkCounters>,
    pending: Arc<AtomicU64>,
    /// The address it listens on.
    pub local_addr: std::net::SocketAddr,
}

impl Sink {
    /// The counters now.
    pub fn stats(&self) -> SinkStats {
        self.counters.snapshot(self.pending.load(Relaxed))
    }
}

/// Binds the listener and spawns the accept loop.
///
/// # Errors
/// When the address cannot be listened on.
pub async fn start(cfg: SinkConfig) -> std::io::Result<Sink> {
    let listener = TcpListener::bind(&cfg.listen).await?;
    let local_addr = listener.local_addr()?;
    if let Some(p) = &cfg.port_file {
        std::fs::write(p, local_addr.port().to_string())?;
    }
    let counters = Arc::new(SinkCounters::default());
    let pending = Arc::new(AtomicU64::new(0));
    let cfg = Arc::new(cfg);
    {
        let (counters, pending, cfg) = (counters.clone(), pending.clone(), cfg.clone());
        tokio::spawn(async move {
            loop {
                let Ok((s, _)) = listener.accept().await else {
                    continue;
                };
                let conn = counters.connections.fetch_add(1, Relaxed);
                let (counters, pending, cfg) = (counters.clone(), pending.clone(), cfg.clone());
                tokio::spawn(async move {
                    let _ = connection(s, conn, &cfg, &counters, &pending).await;
                });
            }
        });
    }
    if let Some(path) = cfg.report_file.clone() {
        let (counters, pending) = (counters.clone(), pending.clone());
        tokio::spawn(async move {
            loop {
                tokio::time::sleep(Duration::from_secs(1)).await;
                let _ = write_report(&path, &counters.snapshot(pending.load(Relaxed)));
            }
        });
    }
    Ok(Sink {
        counters,
        pending,
        local_addr,
    })
}

/// Writes `stats` as JSON to `path` (through a temporary file, so a reader never sees half).
///
/// # Errors
/// I/O errors.
pub fn write_report(path: &std::path::Path, stats: &SinkStats) -> std::io::Result<()> {
    let tmp = path.with_extension("tmp");
    std::fs::write(
        &tmp,
        serde_json::to_vec(stats).map_err(std::io::Error::other)?,
    )?;
    std::fs::rename(tmp, path)
}

/// The receipt `deliver_sm` for a decoded `submit_sm`, with sequence_number 0 (patched when sent).
fn receipt_for(frame: BytesMut, message_id: &[u8]) -> Option<BytesMut> {
    let Ok(Frame {
        pdu: Pdu::SubmitSm(sm),
        ..
    }) = Frame::decode(frame.freeze())
    else {
        return None;
    };
    if sm.registered_delivery & 0x03 == 0 {
        return None;
    }
    let text: String = String::from_utf8_lossy(&sm.short_message)
        .chars()
        .take(20)
        .collect();
    let r = DeliveryReceipt {
        id: String::from_utf8_lossy(message_id).into_owned(),
        sub: "001".into(),
        dlvrd: "001".into(),
        submit_date: "2601010000".into(),
        done_date: "2601010000".into(),
        stat: "DELIVRD".into(),
        err: "000".into(),
        text,
    };
    let dsm = receipt_deliver_sm(
        &r,
        2,
        None,
        (
            &sm.destination_addr.to_str_lossy(),
            sm.dest_addr_ton,
            sm.dest_addr_npi,
        ),
        (
            &sm.source_addr.to_str_lossy(),
            sm.source_addr_ton,
            sm.source_addr_npi,
        ),
    );
    let mut out = BytesMut::new();
    Frame::new(0, Pdu::DeliverSm(dsm)).encode(&mut out);
    Some(out)
}

async fn connection(
    s: TcpStream,
    conn: u64,
    cfg: &SinkConfig,
    counters: &SinkCounters,
    pending: &AtomicU64,
) -> std::io::Result<()> {
    s.set_nodelay(true)?;
    let (mut rd, mut wr) = s.into_split();
    let mut rbuf = BytesMut::with_capacity(64 * 1024);
    let mut out = BytesMut::with_capacity(64 * 1024);
    let mut n = 0u64;
    let mut hexbuf = [0u8; 16];
    let mut idbuf = Vec::with_capacity(40);
    let mut conn_hex = Vec::new();
    conn_hex.extend_from_slice(wire::hex(conn, &mut hexbuf));
    conn_hex.push(b'-');
    let mut queue: VecDeque<(Instant, BytesMut)> = VecDeque::new();
    let mut in_flight = 0usize;
    let mut seq = 0u32;
    let mut closing = false;
    loop {
        let now = Instant::now();
        while in_flight < cfg.receipt_window && queue.front().is_some_and(|(due, _)| *due <= now) {
            let (_, mut pdu) = queue.pop_front().expect("front checked");
            seq = if seq >= 0x7FFF_FFFF { 1 } else { seq + 1 };
            wire::set_sequence(&mut pdu, seq);
            out.extend_from_slice(&pdu);
            in_flight += 1;
            counters.receipts_sent.fetch_add(1, Relaxed);
        }
        if !out.is_empty() {
            wr.write_all(&out).await?;
            out.clear();
        }
        if closing {
            break;
        }
        let next_due = if in_flight < cfg.receipt_window {
            queue.front().map(|(d, _)| *d)
        } else {
            None
        };
        tokio::select! {
            r = rd.read_buf(&mut rbuf) => {
                if r? == 0 {
                    break;
                }
            }
            _ = tokio::time::sleep_until(next_due.unwrap_or(now)), if next_due.is_some() => continue,
        }
        let (mut submits, mut receipt_resps) = (0u64, 0u64);
        while let Some((len, cid, status, sq)) = wire::header(&rbuf) {
            let len = len as usize;
            if !(16..=MAX_PDU).contains(&len) {
                return Ok(());
            }
            if rbuf.len() < len {
                rbuf.reserve(len - rbuf.len());
                break;
            }
            let frame = rbuf.split_to(len);
            match cid {
                id::SUBMIT_SM => {
                    submits += 1;
                    n += 1;
                    idbuf.clear();
                    idbuf.extend_from_slice(&conn_hex);
                    idbuf.extend_from_slice(wire::hex(n, &mut hexbuf));
                    wire::put_cstr_resp(&mut out, id::SUBMIT_SM_RESP, 0, sq, &idbuf);
                    if cfg.receipts {
                        if let Some(r) = receipt_for(frame, &idbuf) {
                            queue.push_back((Instant::now() + cfg.receipt_delay, r));
                            pending.fetch_add(1, Relaxed);
                        }
                    }
                }
                id::DELIVER_SM_RESP => {
                    in_flight = in_flight.saturating_sub(1);
                    pending.fetch_sub(1, Relaxed);
                    if status == 0 {
                        receipt_resps += 1;
                    } else {
                        counters.receipt_errors.fetch_add(1, Relaxed);
                    }
                }
                id::BIND_RECEIVER | id::BIND_TRANSMITTER | id::BIND_TRANSCEIVER => {
                    counters.binds.fetch_add(1, Relaxed);
                    wire::put_cstr_resp(
                        &mut out,
                        cid | id::RESPONSE,
                        0,
                        sq,
                        cfg.system_id.as_bytes(),
                    );
                }
                id::ENQUIRE_LINK => wire::put_header_only(&mut out, cid | id::RESPONSE, 0, sq),
                id::UNBIND => {
                    counters.unbinds.fetch_add(1, Relaxed);
                    wire::put_header_only(&mut out, id::UNBIND_RESP, 0, sq);
                    closing = true;
                }
                c if c & id::RESPONSE == 0 => {
                    counters.other.fetch_add(1, Relaxed);
                    wire::put_header_only(&mut out, id::GENERIC_NACK, 0x03, sq);
                }
                _ => {
                    counters.other.fetch_add(1, Relaxed);
                }
            }
        }
        if submits > 0 {
            counters.submits.fetch_add(submits, Relaxed);
            counters.submit_resps.fetch_add(submits, Relaxed);
        }
        if receipt_resps > 0 {
            counters.receipt_resps.fetch_add(receipt_resps, Relaxed);
        }
    }
    // Receipts still queued or unanswered on a closed session stay counted as pending.
    Ok(())
}
