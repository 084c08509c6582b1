//! ESME mode: `sessions` binds submit `messages` `submit_sm` in total, each session with at
//! most `window` unanswered, all together at most `tps` per second, and wait for every
//! response and (with `registered_delivery`) every receipt.
//!
//! Each session has a writer task (submits batched into one buffer and written with one
//! `write_all` while window permits are free, the `sequence_number` patched into a template)
//! and a reader task (responses matched to their send time by `sequence_number`, a slot per
//! message, no lock). Latency is `submit_sm` written → `submit_sm_resp` read, in ns, per
//! session in an HdrHistogram merged at the end ([`crate::stats`]). Ids and receipts are
//! matched across sessions by [`crate::matcher::Matcher`].

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{bail, Context};
use bytes::BytesMut;
use serde::Serialize;
use smpp_codec::pdu::{Frame, Pdu};
use smpp_codec::receipt::{ReceiptIdFormat, ReceiptInfo};
use smpp_codec::types::BindKind;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::tcp::{OwnedReadHalf, OwnedWriteHalf};
use tokio::net::TcpStream;
use tokio::sync::{mpsc, Semaphore};
use tokio_util::sync::CancellationToken;

use crate::matcher::{MatchCounts, Matcher};
use crate::stats::{Latencies, LatencySummary};
use crate::wire::{self, id, SubmitTemplates};

/// Largest PDU the reader accepts, octets.
const MAX_PDU: usize = 70_000;
/// A batch of submits is written once it reaches this many octets.
const BATCH_OCTETS: usize = 64 * 1024;

/// What an ESME run does. Build it, call [`EsmeConfig::validate`], then [`run`].
#[derive(Clone, Debug)]
pub struct EsmeConfig {
    /// `host:port` of the SMSC (sink, gateway, smpp34 server).
    pub addr: String,
    /// Bind type of the submitting sessions (transmitter or transceiver).
    pub bind: BindKind,
    /// Submitting sessions.
    pub sessions: usize,
    /// Extra `bind_receiver` sessions that only take receipts (for `bind = transmitter`).
    pub receivers: usize,
    /// system_ids; session i uses `system_ids[i % len]`.
    pub system_ids: Vec<String>,
    /// Passwords: one for all, or one per system_id.
    pub passwords: Vec<String>,
    /// `submit_sm` in total, spread evenly over the sessions.
    pub messages: u64,
    /// Unanswered `submit_sm` per session at most.
    pub window: usize,
    /// Total submits per second at most (`None`: as fast as the window allows).
    pub tps: Option<f64>,
    /// Ask for a receipt (`registered_delivery` = 1) and wait for one per `ESME_ROK`.
    pub registered_delivery: bool,
    /// Give up after this long without any response or receipt.
    pub timeout: Duration,
    /// Give up after this long in all, from the first submit (`None`: no limit); a gateway
    /// answering errors slowly makes progress and would never hit `timeout`.
    pub max_duration: Option<Duration>,
    /// Destinations `"{d}{destination}"`, d in 0..variants (1 = `destination` as given).
    pub destination_variants: u32,
    /// `source_addr` of the submits.
    pub source: String,
    /// `destination_addr` of the submits (after the variant digit).
    pub destination: String,
    /// Octets of `short_message` (GSM text "x…", ≤ 254).
    pub text_len: usize,
    /// Record every id given, to find duplicates (always on with receipts).
    pub track_ids: bool,
    /// A progress line on stderr every second.
    pub progress: bool,
    /// Binds being opened at once at most.
    pub connect_concurrency: usize,
}

impl Default for EsmeConfig {
    fn default() -> Self {
        EsmeConfig {
            addr: "127.0.0.1:2775".into(),
            bind: BindKind::Transceiver,
            sessions: 1,
            receivers: 0,
            system_ids: vec!["load".into()],
            passwords: vec!["load".into()],
            messages: 1000,
            window: 100,
            tps: None,
            registered_delivery: false,
            timeout: Duration::from_secs(10),
            max_duration: None,
            destination_variants: 1,
            source: "12345".into(),
            destination: "33600000000".into(),
            text_len: 20,
            track_ids: true,
            progress: false,
            connect_concurrency: 200,
        }
    }
}

impl EsmeConfig {
    /// Messages of session `i` (the remainder goes to the first sessions).
    pub fn messages_of(&self, i: usize) -> u64 {
        if i >= self.sessions {
            return 0;
        }
        let n = self.sessions as u64;
        self.messages / n + u64::from((i as u64) < self.messages % n)
    }

    /// Credentials of session `i`.
    pub fn credentials_of(&self, i: usize) -> (&str, &str) {
        let sid = &self.system_ids[i % self.system_ids.len()];
        let pw = if self.passwords.len() == 1 {
            &self.passwords[0]
        } else {
            &self.passwords[i % self.passwords.len()]
        };
        (sid, pw)
    }

    /// Checks the combination.
    ///
    /// # Errors
    /// A sentence saying what is wrong.
    pub fn validate(&self) -> Result<(), String> {
        if self.sessions == 0 {
            return Err("--sessions must be at least 1".into());
        }
        if self.window == 0 || self.window > 1_000_000 {
            return Err("--window must be 1..=1000000".into());
        }
        if let Some(t) = self.tps {
            if !(t.is_finite() && t > 0.0) {
                return Err("--tps must be a positive number".into());
            }
        }
        if self.system_ids.is_empty() || self.passwords.is_empty() {
            return Err("--system-id and --password need at least one value each".into());
        }
        if self.passwords.len() != 1 && self.passwords.len() != self.system_ids.len() {
            return Err(format!(
                "{} passwords for {} system_ids: give one password, or one per system_id",
                self.passwords.len(),
                self.system_ids.len()
            ));
        }
        if self.bind == BindKind::Receiver {
            return Err(
                "--bind rx cannot submit: use tx or trx (and --receivers for rx sessions)".into(),
            );
        }
        if self.registered_delivery && self.bind == BindKind::Transmitter && self.receivers == 0 {
            return Err("--registered-delivery with --bind tx needs --receivers N (receipts come to receivers)".into());
        }
        if !(1..=10).contains(&self.destination_variants) {
            return Err("--destination-variants must be 1..=10".into());
        }
        if self.text_len > 254 {
            return Err("--text-len must be at most 254".into());
        }
        if self.timeout.is_zero() {
            return Err("--timeout must be positive".into());
        }
        if self.messages_of(0) >= u64::from(smpp_codec::pdu::MAX_SEQUENCE_NUMBER) {
            return Err("too many messages per session for one sequence number space".into());
        }
        Ok(())
    }
}

/// Outcome of a run (the `--json` output).
#[derive(Clone, Debug, Serialize)]
pub struct EsmeReport {
    /// "esme".
    pub mode: &'static str,
    /// Submitting sessions.
    pub sessions: usize,
    /// Receiver sessions.
    pub receivers: usize,
    /// Messages asked for.
    pub messages: u64,
    /// Window per session.
    pub window: usize,
    /// TPS cap, if any.
    pub tps_cap: Option<f64>,
    /// Receipts asked for.
    pub registered_delivery: bool,
    /// `submit_sm` written.
    pub sent: u64,
    /// Responses (`submit_sm_resp` or `generic_nack`) matched to a submit.
    pub responses: u64,
    /// Responses with `ESME_ROK`.
    pub ok: u64,
    /// Other responses by `command_status` ("0x00000058": count).
    pub errors: BTreeMap<String, u64>,
    /// Submits never answered.
    pub lost_responses: u64,
    /// Responses whose sequence_number matched no unanswered submit (duplicates or strays).
    pub unexpected_responses: u64,
    /// Seconds from the first submit to the last response.
    pub duration_s: f64,
    /// Responses per second over `duration_s`.
    pub throughput_per_s: f64,
    /// `submit_sm → resp` latency.
    pub latency: LatencySummary,
    /// Ids and receipts.
    pub ids: MatchCounts,
    /// Seconds from the first submit to the last receipt (0 without receipts).
    pub receipts_duration_s: f64,
    /// Non-receipt `deliver_sm` received.
    pub mo_received: u64,
    /// Stopped by `timeout` before everything came.
    pub timed_out: bool,
    /// No loss, no duplicate, no timeout.
    pub passed: bool,
}

impl EsmeReport {
    /// A table for people.
    pub fn table(&self) -> String {
        let mut s = String::new();
        let mut row = |k: &str, v: String| s.push_str(&format!("{k:<28} {v}\n"));
        row(
            "sessions (+receivers)",
            format!("{} (+{})", self.sessions, self.receivers),
        );
        row(
            "window / tps cap",
            format!(
                "{} / {}",
                self.window,
                self.tps_cap.map_or("none".into(), |t| format!("{t}"))
            ),
        );
        row(
            "sent / responses / ok",
            format!("{} / {} / {}", self.sent, self.responses, self.ok),
        );
        row(
            "throughput",
            format!(
                "{:.0} resp/s over {:.3} s",
                self.throughput_per_s, self.duration_s
            ),
        );
        let l = &self.latency;
        row(
            "latency p50/p99/p99.9/max",
            format!(
                "{:.1} / {:.1} / {:.1} / {:.1} µs",
                l.p50_us, l.p99_us, l.p999_us, l.max_us
            ),
        );
        row(
            "errors by command_status",
            if self.errors.is_empty() {
                "none".into()
            } else {
                format!("{:?}", self.errors)
            },
        );
        row(
            "lost / unexpected responses",
            format!("{} / {}", self.lost_responses, self.unexpected_responses),
        );
        row(
            "ids given / duplicate ids",
            format!("{} / {}", self.ids.ids_given, self.ids.duplicate_ids),
        );
        if self.registered_delivery {
            row(
                "receipts matched/missing",
                format!(
                    "{} / {} (duplicates {}, unknown {}) in {:.3} s",
                    self.ids.receipts_matched,
                    self.ids.missing_receipts,
                    self.ids.duplicate_receipts,
                    self.ids.unknown_receipts,
                    self.receipts_duration_s
                ),
            );
        }
        row("timed out", self.timed_out.to_string());
        row(
            "result",
            if self.passed {
                "PASS".into()
            } else {
                "FAIL (loss or duplication)".into()
            },
        );
        s
    }
}

/// Counters shared by every session of a run.
struct Global {
    epoch: Instant,
    sent: AtomicU64,
    responses: AtomicU64,
    ok: AtomicU64,
    unexpected: AtomicU64,
    mo: AtomicU64,
    last_response_ns: AtomicU64,
    last_receipt_ns: AtomicU64,
    matcher: Matcher,
    track_ids: bool,
}

impl Global {
    fn now_ns(&self) -> u64 {
        self.epoch.elapsed().as_nanos() as u64 + 1
    }
}

/// One session's window and send times.
struct Session {
    /// Send time (ns since the epoch, +1) of the unanswered submit with sequence_number i;
    /// 0 = none.
    sent_at: Vec<AtomicU64>,
    window: Semaphore,
}

/// What a reader hands back.
#[derive(Default)]
struct ReaderResult {
    latencies: Latencies,
    errors: BTreeMap<u32, u64>,
}

/// Connects and binds; returns the stream and what was read after the bind response.
pub async fn connect_and_bind(
    addr: &str,
    kind: BindKind,
    system_id: &str,
    password: &str,
) -> anyhow::Result<(TcpStream, BytesMut)> {
    let mut s = TcpStream::connect(addr)
        .await
        .with_context(|| format!("connect {addr}"))?;
    s.set_nodelay(true)?;
    s.write_all(&wire::bind(kind, system_id, password)).await?;
    let mut buf = BytesMut::with_capacity(4096);
    loop {
        if let Some((len, cid, status, _seq)) = wire::header(&buf) {
            let len = len as usize;
            if buf.len() >= len {
                let frame = buf.split_to(len);
                if cid == kind.resp_command_id() {
                    if status != 0 {
                        bail!(
                            "bind {} as {system_id:?} refused: command_status 0x{status:08x}",
                            kind.as_str()
                        );
                    }
                    return Ok((s, buf));
                }
                if cid == id::GENERIC_NACK {
                    bail!("bind answered by generic_nack 0x{status:08x}");
                }
                drop(frame);
                continue;
            }
        }
        if s.read_buf(&mut buf).await? == 0 {
            bail!("connection closed before the bind response ({system_id:?})");
        }
    }
}

#[allow(clippy::too_many_arguments)]
async fn writer(
    mut w: OwnedWriteHalf,
    session: Arc<Session>,
    global: Arc<Global>,
    templates: Arc<SubmitTemplates>,
    messages: u64,
    first: u64,
    pacing: Option<(Instant, f64)>,
    mut ctrl: mpsc::UnboundedReceiver<BytesMut>,
) -> std::io::Result<()> {
    let mut buf = BytesMut::with_capacity(BATCH_OCTETS + 1024);
    let mut sent = 0u64;
    let mut held = 0usize; // window permits acquired and not yet used
    loop {
        while let Ok(b) = ctrl.try_recv() {
            buf.extend_from_slice(&b);
        }
        let mut next_due = None;
        if sent < messages {
            let now = Instant::now();
            let stamp = now.duration_since(global.epoch).as_nanos() as u64 + 1;
            let before = sent;
            while sent < messages && buf.len() < BATCH_OCTETS {
                if let Some((start, interval_ns)) = pacing {
                    let due = start + Duration::from_nanos((sent as f64 * interval_ns) as u64);
                    if due > now {
                        next_due = Some(due);
                        break;
                    }
                }
                if held > 0 {
                    held -= 1;
                } else {
                    match session.window.try_acquire() {
                        Ok(p) => p.forget(),
                        Err(_) => break,
                    }
                }
                let seq = (sent + 1) as u32;
                session.sent_at[seq as usize].store(stamp, Relaxed);
                templates.put(&mut buf, first + sent, seq);
                sent += 1;
            }
            if sent > before {
                global.sent.fetch_add(sent - before, Relaxed);
            }
        }
        if !buf.is_empty() {
            w.write_all(&buf).await?;
            buf.clear();
            continue;
        }
        let want_permit = sent < messages && next_due.is_none() && held == 0;
        tokio::select! {
            biased;
            m = ctrl.recv() => match m {
                Some(b) => buf.extend_from_slice(&b),
                None => break,
            },
            p = session.window.acquire(), if want_permit => {
                if let Ok(p) = p {
                    p.forget();
                    held += 1;
                }
            }
            _ = tokio::time::sleep_until(next_due.unwrap_or_else(Instant::now).into()), if next_due.is_some() => {}
        }
    }
    let _ = w.shutdown().await;
    Ok(())
}

async fn reader(
    mut r: OwnedReadHalf,
    mut buf: BytesMut,
    session: Arc<Session>,
    global: Arc<Global>,
    ctrl: mpsc::UnboundedSender<BytesMut>,
    stop: CancellationToken,
) -> ReaderResult {
    let mut res = ReaderResult::default();
    let mut out = BytesMut::new();
    'read: loop {
        let now_ns = global.now_ns();
        let (mut responses, mut ok, mut receipts) = (0u64, 0u64, false);
        while let Some((len, cid, status, seq)) = wire::header(&buf) {
            let len = len as usize;
            if !(16..=MAX_PDU).contains(&len) {
                eprintln!("smpp-load: bad command_length {len}: closing the session");
                break 'read;
            }
            if buf.len() < len {
                buf.reserve(len - buf.len());
                break;
            }
            let frame = buf.split_to(len);
            match cid {
                id::SUBMIT_SM_RESP | id::GENERIC_NACK => {
                    let t = session
                        .sent_at
                        .get(seq as usize)
                        .map_or(0, |a| a.swap(0, Relaxed));
                    if t == 0 {
                        global.unexpected.fetch_add(1, Relaxed);
                        continue;
                    }
                    res.latencies.record(now_ns.saturating_sub(t));
                    session.window.add_permits(1);
                    responses += 1;
                    if status == 0 && cid == id::SUBMIT_SM_RESP {
                        ok += 1;
                        if global.track_ids {
                            let body = &frame[16..];
                            let end = body.iter().position(|b| *b == 0).unwrap_or(body.len());
                            global.matcher.given(&body[..end]);
                        }
                    } else {
                        *res.errors.entry(status).or_default() += 1;
                    }
                }
                id::DELIVER_SM => {
                    wire::put_cstr_resp(&mut out, id::DELIVER_SM_RESP, 0, seq, b"");
                    match Frame::decode(frame.freeze()) {
                        Ok(Frame {
                            pdu: Pdu::DeliverSm(sm),
                            ..
                        }) if sm.is_delivery_receipt() => {
                            let text = std::str::from_utf8(&sm.short_message).ok();
                            match ReceiptInfo::read(text, &sm.tlvs, ReceiptIdFormat::AsSubmitted) {
                                Some(info) => {
                                    global.matcher.receipt(info.message_id.as_bytes());
                                    receipts = true;
                                }
                                None => {
                                    global.mo.fetch_add(1, Relaxed);
                                }
                            }
                        }
                        _ => {
                            global.mo.fetch_add(1, Relaxed);
                        }
                    }
                }
                id::ENQUIRE_LINK => {
                    wire::put_header_only(&mut out, id::ENQUIRE_LINK | id::RESPONSE, 0, seq)
                }
                id::UNBIND => {
                    wire::put_header_only(&mut out, id::UNBIND_RESP, 0, seq);
                    let _ = ctrl.send(std::mem::take(&mut out));
                    break 'read;
                }
                id::UNBIND_RESP => break 'read,
                c if c & id::RESPONSE == 0 => {
                    wire::put_header_only(&mut out, id::GENERIC_NACK, 0x03, seq)
                }
                _ => {}
            }
        }
        if responses > 0 {
            global.responses.fetch_add(responses, Relaxed);
            global.ok.fetch_add(ok, Relaxed);
            global.last_response_ns.fetch_max(now_ns, Relaxed);
        }
        if receipts {
            global.last_receipt_ns.fetch_max(now_ns, Relaxed);
        }
        if !out.is_empty() {
            let _ = ctrl.send(std::mem::take(&mut out));
        }
        tokio::select! {
            n = r.read_buf(&mut buf) => match n {
                Ok(0) | Err(_) => break,
                Ok(_) => {}
            },
            _ = stop.cancelled() => break,
        }
    }
    res
}

/// Runs the load: binds every session, submits, waits, unbinds, reports.
///
/// # Errors
/// A bind that fails (nothing is submitted then); loss is not an error but
/// [`EsmeReport::passed`] = false.
pub async fn run(cfg: &EsmeConfig) -> anyhow::Result<EsmeReport> {
    let text = vec![b'x'; cfg.text_len];
    let templates = Arc::new(SubmitTemplates::new(
        &cfg.source,
        &cfg.destination,
        cfg.destination_variants,
        cfg.registered_delivery,
        &text,
    ));
    let total_sessions = cfg.sessions + cfg.receivers;

    // Bind everything first, at most connect_concurrency at once.
    let gate = Arc::new(Semaphore::new(cfg.connect_concurrency.max(1)));
    let mut binds = Vec::with_capacity(total_sessions);
    for i in 0..total_sessions {
        let (kind, (sid, pw)) = if i < cfg.sessions {
            (cfg.bind, cfg.credentials_of(i))
        } else {
            (BindKind::Receiver, cfg.credentials_of(i - cfg.sessions))
        };
        let (addr, sid, pw, gate) = (
            cfg.addr.clone(),
            sid.to_string(),
            pw.to_string(),
            gate.clone(),
        );
        binds.push(tokio::spawn(async move {
            let _p = gate.acquire_owned().await;
            connect_and_bind(&addr, kind, &sid, &pw).await
        }));
    }
    let mut streams = Vec::with_capacity(total_sessions);
    for (i, b) in binds.into_iter().enumerate() {
        streams.push(b.await?.with_context(|| format!("session {i}"))?);
    }

    let global = Arc::new(Global {
        epoch: Instant::now(),
        sent: AtomicU64::new(0),
        responses: AtomicU64::new(0),
        ok: AtomicU64::new(0),
        unexpected: AtomicU64::new(0),
        mo: AtomicU64::new(0),
        last_response_ns: AtomicU64::new(0),
        last_receipt_ns: AtomicU64::new(0),
        matcher: Matcher::new(),
        track_ids: cfg.track_ids || cfg.registered_delivery,
    });
    let stop = CancellationToken::new();
    let per_session_interval = cfg.tps.map(|t| 1e9 * cfg.sessions as f64 / t);
    let mut readers = Vec::new();
    let mut writers = Vec::new();
    let mut ctrls = Vec::new();
    let mut first = 0u64;
    for (i, (stream, rest)) in streams.into_iter().enumerate() {
        let messages = cfg.messages_of(i);
        let session = Arc::new(Session {
            sent_at: (0..messages + 2).map(|_| AtomicU64::new(0)).collect(),
            window: Semaphore::new(cfg.window),
        });
        let (rd, wr) = stream.into_split();
        let (tx, rx) = mpsc::unbounded_channel();
        // Sessions start spread over one interval so that paced sends do not all fall on the
        // same instant.
        let pacing = per_session_interval.map(|iv| {
            (
                global.epoch + Duration::from_nanos((iv * i as f64 / cfg.sessions as f64) as u64),
                iv,
            )
        });
        writers.push(tokio::spawn(writer(
            wr,
            session.clone(),
            global.clone(),
            templates.clone(),
            messages,
            first,
            pacing,
            rx,
        )));
        readers.push(tokio::spawn(reader(
            rd,
            rest,
            session,
            global.clone(),
            tx.clone(),
            stop.clone(),
        )));
        ctrls.push(tx);
        first += messages;
    }

    // Wait for everything, or for `timeout` without progress.
    let mut last_progress = Instant::now();
    let mut last_seen = (0u64, 0u64);
    let mut last_line = Instant::now();
    let mut timed_out = false;
    loop {
        tokio::time::sleep(Duration::from_millis(20)).await;
        let responses = global.responses.load(Relaxed);
        let receipts = global.matcher.receipts_matched();
        let ok = global.ok.load(Relaxed);
        if responses >= cfg.messages && (!cfg.registered_delivery || receipts >= ok) {
            break;
        }
        if (responses, receipts) != last_seen {
            last_seen = (responses, receipts);
            last_progress = Instant::now();
        } else if last_progress.elapsed() >= cfg.timeout {
            timed_out = true;
            break;
        }
        if cfg
            .max_duration
            .is_some_and(|m| global.epoch.elapsed() >= m)
        {
            timed_out = true;
            break;
        }
        if cfg.progress && last_line.elapsed() >= Duration::from_secs(1) {
            last_line = Instant::now();
            let s = global.epoch.elapsed().as_secs_f64();
            eprintln!(
                "smpp-load: {:.0} s  sent {}  responses {}/{}  receipts {}  ({:.0} resp/s)",
                s,
                global.sent.load(Relaxed),
                responses,
                cfg.messages,
                receipts,
                responses as f64 / s.max(1e-9)
            );
        }
    }

    // Unbind every session; wait a little for the answers, then stop the readers.
    for (i, tx) in ctrls.iter().enumerate() {
        let mut b = BytesMut::new();
        wire::put_header_only(&mut b, id::UNBIND, 0, (cfg.messages_of(i) + 1) as u32);
        let _ = tx.send(b);
    }
    drop(ctrls);
    let deadline = tokio::time::Instant::now() + Duration::from_secs(2);
    let mut latencies = Latencies::new();
    let mut errors: BTreeMap<String, u64> = BTreeMap::new();
    let mut cancel_at_deadline = Some(stop.clone());
    for mut r in readers {
        let res = tokio::select! {
            res = &mut r => res,
            _ = tokio::time::sleep_until(deadline), if cancel_at_deadline.is_some() => {
                if let Some(s) = cancel_at_deadline.take() { s.cancel(); }
                r.await
            }
        };
        if let Ok(res) = res {
            latencies.merge(&res.latencies);
            for (k, v) in res.errors {
                *errors.entry(format!("0x{k:08x}")).or_default() += v;
            }
        }
    }
    stop.cancel();
    for w in writers {
        w.abort();
    }

    let sent = global.sent.load(Relaxed);
    let responses = global.responses.load(Relaxed);
    let ok = global.ok.load(Relaxed);
    let unexpected = global.unexpected.load(Relaxed);
    let ids = global.matcher.counts();
    let duration_s = global.last_response_ns.load(Relaxed) as f64 / 1e9;
    let receipts_duration_s = global.last_receipt_ns.load(Relaxed) as f64 / 1e9;
    let lost = cfg.messages.saturating_sub(responses);
    let receipts_ok = !cfg.registered_delivery
        || (ids.missing_receipts == 0
            && ids.duplicate_receipts == 0
            && ids.unknown_receipts == 0
            && ids.receipts_matched == ok);
    let passed =
        !timed_out && lost == 0 && unexpected == 0 && ids.duplicate_ids == 0 && receipts_ok;
    Ok(EsmeReport {
        mode: "esme",
        sessions: cfg.sessions,
        receivers: cfg.receivers,
        messages: cfg.messages,
        window: cfg.window,
        tps_cap: cfg.tps,
        registered_delivery: cfg.registered_delivery,
        sent,
        responses,
        ok,
        errors,
        lost_responses: lost,
        unexpected_responses: unexpected,
        duration_s,
        throughput_per_s: if duration_s > 0.0 {
            responses as f64 / duration_s
        } else {
            0.0
        },
        latency: latencies.summary(),
        ids,
        receipts_duration_s,
        mo_received: global.mo.load(Relaxed),
        timed_out,
        passed,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cfg() -> EsmeConfig {
        EsmeConfig::default()
    }

    #[test]
    fn messages_are_spread_with_the_remainder_first() {
        let c = EsmeConfig {
            sessions: 3,
            messages: 10,
            ..cfg()
        };
        assert_eq!(
            (0..3).map(|i| c.messages_of(i)).collect::<Vec<_>>(),
            vec![4, 3, 3]
        );
        assert_eq!(c.messages_of(3), 0, "receivers submit nothing");
    }

    #[test]
    fn credentials_cycle_and_one_password_serves_all() {
        let c = EsmeConfig {
            sessions: 4,
            system_ids: vec!["a".into(), "b".into()],
            passwords: vec!["p".into()],
            ..cfg()
        };
        assert_eq!(c.credentials_of(0), ("a", "p"));
        assert_eq!(c.credentials_of(3), ("b", "p"));
        let c = EsmeConfig {
            system_ids: vec!["a".into(), "b".into()],
            passwords: vec!["pa".into(), "pb".into()],
            ..cfg()
        };
        assert_eq!(c.credentials_of(1), ("b", "pb"));
    }

    #[test]
    fn validation_refuses_what_cannot_run() {
        assert_eq!(cfg().validate(), Ok(()));
        let bad = [
            EsmeConfig {
                sessions: 0,
                ..cfg()
            },
            EsmeConfig { window: 0, ..cfg() },
            EsmeConfig {
                tps: Some(0.0),
                ..cfg()
            },
            EsmeConfig {
                tps: Some(f64::NAN),
                ..cfg()
            },
            EsmeConfig {
                system_ids: vec!["a".into(), "b".into(), "c".into()],
                passwords: vec!["x".into(), "y".into()],
                ..cfg()
            },
            EsmeConfig {
                bind: BindKind::Receiver,
                ..cfg()
            },
            EsmeConfig {
                bind: BindKind::Transmitter,
                registered_delivery: true,
                ..cfg()
            },
            EsmeConfig {
                destination_variants: 11,
                ..cfg()
            },
            EsmeConfig {
                text_len: 255,
                ..cfg()
            },
            EsmeConfig {
                timeout: Duration::ZERO,
                ..cfg()
            },
        ];
        for c in bad {
            assert!(c.validate().is_err(), "{c:?} should be refused");
        }
        let ok = EsmeConfig {
            bind: BindKind::Transmitter,
            registered_delivery: true,
            receivers: 1,
            ..cfg()
        };
        assert_eq!(ok.validate(), Ok(()));
    }
}
