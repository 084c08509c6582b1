//! The messaging logic: hand-over, routing, claims, events and receipt correlation.
//!
//! Every operation runs synchronously under the store's write lock (callers run it on a
//! blocking thread), stages its writes in a [`Tx`] and commits them as one atomic write batch.
//! Durability (flush) is the caller's business, after the lock is released, so that concurrent
//! hand-overs share fsyncs.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, RwLock};

use core_bridge::api::{
    AcceptStatus, Accepted, Direction, Event, EventKind, FrontendRegistration, InboundMessage,
    OutboundMessage, ReceiptInfo,
};

use crate::callbacks::{self, CallbackJob, Outbox};
use crate::clients::Clients;
use crate::clock::Clock;
use crate::config::{EmbeddedConfig, MoRoute, Route, RoutingTable};
use crate::error::CoreStoreError;
use crate::ids;
use crate::parts::Segments;
use crate::receipts::{self, state, Outcome};
use crate::record::{MessageRecord, MessageStatus, Origin};
use crate::send::{self, Api, BatchRecord, SendHistoryEntry, SendPart, SendRecord};
use crate::store::{EntryState, QueueEntry, QueueName, Store, TreeId, Tx};
use crate::views::{FrontendInfo, FrontendList, QueueStats, Stats};

/// Longest wait between two attempts of a message.
const RETRY_CAP_MS: u64 = 5 * 60 * 1000;
/// A frontend expires this long after its last heartbeat.
const FRONTEND_TTL_MS: u64 = 90_000;
/// `message_payload` (SMPP 3.4 §5.3.2.32): the payload travels in `payload`, not twice.
const TAG_MESSAGE_PAYLOAD: u16 = 0x0424;

/// Which records `GET /api/v1/messages` lists.
#[derive(Clone, Debug, Default)]
pub(crate) struct ListFilter {
    pub(crate) direction: Option<Direction>,
    pub(crate) bind_name: Option<String>,
    pub(crate) status: Option<MessageStatus>,
    pub(crate) dest_smsc: Option<String>,
    pub(crate) source_smsc: Option<String>,
    pub(crate) limit: usize,
}

/// A `failed` event's details.
#[derive(Clone, Copy)]
struct Failure<'a> {
    command_status: u32,
    retryable: bool,
    reason: &'a str,
}

/// What a batch of events did.
#[derive(Debug, Default)]
pub(crate) struct EventsOutcome {
    /// Events applied (their message exists).
    pub(crate) applied: usize,
    /// `(index in the batch, message id)` of events about unknown messages; not applied.
    pub(crate) unknown: Vec<(usize, String)>,
}

pub(crate) struct Engine {
    pub(crate) store: Store,
    /// Woken whenever something may have become claimable (long-poll claims wait on it).
    pub(crate) changed: tokio::sync::Notify,
    routes: RwLock<RoutingTable>,
    lease_ms: u64,
    max_attempts: u32,
    retry_base_ms: u64,
    clock: Arc<dyn Clock>,
    frontends: Mutex<BTreeMap<String, FrontendInfo>>,
    ids: Mutex<ulid::Generator>,
    /// Send API clients (replaced as a whole when the configuration is reloaded).
    clients: RwLock<Arc<Clients>>,
    /// Most segments of one send.
    pub(crate) max_segments: u32,
    /// Client binds a send may name besides the routes' `dest_smsc`.
    known_dest: RwLock<Vec<String>>,
    /// Status callbacks waiting for the dispatcher.
    pub(crate) callbacks: Outbox,
    /// Next concatenation reference (8-bit UDH).
    udh_reference: std::sync::atomic::AtomicU8,
}

/// A checked send request, ready to be stored.
pub(crate) struct SendPlan {
    /// A batch id the client chose (Android API `id`), else a new one.
    pub(crate) batch_id: Option<String>,
    pub(crate) api: Api,
    pub(crate) client: String,
    /// `(number as given, destination digits, client bind)` per recipient.
    pub(crate) recipients: Vec<(String, String, String)>,
    pub(crate) from: String,
    pub(crate) source: core_bridge::api::Address,
    pub(crate) segments: Segments,
    pub(crate) reference: Option<String>,
    pub(crate) callback_url: Option<String>,
    pub(crate) validity_period: String,
    /// `registered_delivery` of the parts: 1 (a receipt, final or failure), or 0 when the
    /// client asked for no delivery report.
    pub(crate) registered_delivery: u8,
    /// Not claimable before this time (ms since the epoch), when the client scheduled it.
    pub(crate) not_before_ms: Option<u64>,
}

/// What storing a send did.
pub(crate) enum Stored {
    /// A new batch and its sends.
    New(BatchRecord, Vec<SendRecord>),
    /// The batch id existed already: nothing new was stored.
    Existing,
}

fn millis(d: std::time::Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX)
}

impl Engine {
    pub(crate) fn new(store: Store, config: &EmbeddedConfig, clock: Arc<dyn Clock>) -> Engine {
        let callbacks = Outbox::new(
            callbacks::Settings {
                max_attempts: config.callback_max_attempts,
                retry_base: config.callback_retry_base,
                timeout: config.callback_timeout,
            },
            store.tree(TreeId::Callbacks).clone(),
        );
        Engine {
            store,
            changed: tokio::sync::Notify::new(),
            routes: RwLock::new(RoutingTable::new(&config.routes, &config.mo_routes)),
            lease_ms: millis(config.lease).max(1),
            max_attempts: config.max_attempts,
            retry_base_ms: millis(config.retry_base),
            clock,
            frontends: Mutex::new(BTreeMap::new()),
            ids: Mutex::new(ulid::Generator::new()),
            clients: RwLock::new(Arc::new(Clients::new(&config.api_clients))),
            max_segments: config.max_segments,
            known_dest: RwLock::new(config.known_dest_smsc.clone()),
            callbacks,
            udh_reference: std::sync::atomic::AtomicU8::new(
                (core_bridge::api::now_ms() % 251) as u8,
            ),
        }
    }

    /// Whether `name` is a client bind a send may name: a known bind or a route's target.
    pub(crate) fn dest_known(&self, name: &str) -> bool {
        self.known_dest
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .iter()
            .any(|d| d == name)
            || self.routes().has_dest(name)
    }

    /// Replaces the client binds a send may name.
    pub(crate) fn set_known_dest(&self, names: Vec<String>) {
        *self.known_dest.write().unwrap_or_else(|p| p.into_inner()) = names;
    }

    /// The send API clients in force now.
    pub(crate) fn clients(&self) -> Arc<Clients> {
        Arc::clone(&self.clients.read().unwrap_or_else(|p| p.into_inner()))
    }

    /// Replaces the send API clients (their rate buckets start full).
    pub(crate) fn set_clients(&self, list: &[crate::ApiClient]) {
        *self.clients.write().unwrap_or_else(|p| p.into_inner()) = Arc::new(Clients::new(list));
    }

    /// The client bind the MT routes give `number`.
    pub(crate) fn route_mt(&self, number: &str) -> Option<String> {
        self.routes().route_mt(number).map(str::to_string)
    }

    pub(crate) fn now(&self) -> u64 {
        self.clock.now_ms()
    }

    pub(crate) fn set_routes(&self, routes: &[Route], mo_routes: &[MoRoute]) {
        let table = RoutingTable::new(routes, mo_routes);
        *self.routes.write().unwrap_or_else(|p| p.into_inner()) = table;
    }

    fn routes(&self) -> std::sync::RwLockReadGuard<'_, RoutingTable> {
        self.routes.read().unwrap_or_else(|p| p.into_inner())
    }

    /// A new id for a record the core makes (a ULID, increasing within a millisecond).
    fn new_id(&self) -> String {
        let mut generator = self.ids.lock().unwrap_or_else(|p| p.into_inner());
        generator
            .generate()
            .unwrap_or_else(|_| ulid::Ulid::new())
            .to_string()
    }

    // ----- hand-over -------------------------------------------------------------------------

    /// Stores each message once (by id), routes it and queues what must be sent. Returns one
    /// answer per message, in order. One transaction for the whole batch.
    pub(crate) fn hand_over(
        &self,
        messages: Vec<InboundMessage>,
    ) -> Result<(Vec<Accepted>, bool), CoreStoreError> {
        let mut index = self.store.lock();
        let now = self.now();
        let mut tx = self.store.begin();
        let mut answers = Vec::with_capacity(messages.len());
        for m in messages {
            let id = m.id.clone();
            if tx.exists(&id)? {
                tracing::debug!(%id, "hand-over of a known id: duplicate");
                answers.push(Accepted {
                    id,
                    status: AcceptStatus::Duplicate,
                });
                continue;
            }
            match m.direction {
                Direction::Mt => self.accept_mt(&mut tx, m, now),
                Direction::Mo => self.accept_mo(&mut tx, m, now),
                Direction::Receipt => self.accept_receipt(&mut tx, m, now)?,
            }
            answers.push(Accepted {
                id,
                status: AcceptStatus::Stored,
            });
        }
        let jobs = self.settle_sends(&mut tx, now)?;
        let changed = !tx.is_empty();
        tx.commit(&mut index)?;
        self.callbacks.push(jobs);
        Ok((answers, changed))
    }

    fn accept_mt(&self, tx: &mut Tx<'_>, m: InboundMessage, now: u64) {
        let route = self
            .routes()
            .route_mt(&m.destination.addr)
            .map(str::to_string);
        let mut rec = new_record(m, Origin::Gateway);
        match route {
            Some(dest) => {
                rec.push(MessageStatus::Queued, now, format!("routed to {dest}"));
                enqueue(tx, &QueueName::Dest(dest.clone()), &rec.message.id, now);
                rec.dest_smsc = Some(dest);
                tx.put_record(rec);
            }
            None => {
                tracing::warn!(id = %rec.message.id, destination = %rec.message.destination.addr, "MT without route: failed");
                rec.reason = Some("no route".into());
                rec.push(MessageStatus::Failed, now, "no route");
                if receipts::wants_receipt(rec.message.registered_delivery, false) {
                    let outcome = Outcome {
                        state: state::UNDELIVERABLE,
                        err: "000",
                        done_date: None,
                    };
                    self.queue_partner_receipt(tx, &mut rec, &outcome, now);
                }
                tx.put_record(rec);
            }
        }
    }

    fn accept_mo(&self, tx: &mut Tx<'_>, m: InboundMessage, now: u64) {
        let route = self
            .routes()
            .route_mo(&m.destination.addr)
            .map(str::to_string);
        let mut rec = new_record(m, Origin::Gateway);
        match route {
            Some(source) => {
                rec.push(MessageStatus::Queued, now, format!("routed to {source}"));
                enqueue(tx, &QueueName::Source(source.clone()), &rec.message.id, now);
                rec.source_smsc = Some(source);
            }
            None => {
                tracing::warn!(id = %rec.message.id, destination = %rec.message.destination.addr, "MO without route: failed");
                rec.reason = Some("no MO route".into());
                rec.push(MessageStatus::Failed, now, "no MO route");
            }
        }
        tx.put_record(rec);
    }

    fn accept_receipt(
        &self,
        tx: &mut Tx<'_>,
        m: InboundMessage,
        now: u64,
    ) -> Result<(), CoreStoreError> {
        let mut rec = new_record(m, Origin::Gateway);
        let bind = rec.message.bind_name.clone();
        let info = rec
            .message
            .receipt
            .clone()
            .filter(|i| !i.receipted_message_id.trim().is_empty());
        let Some(info) = info else {
            tracing::warn!(id = %rec.message.id, %bind, "receipt without a receipted message id: kept as orphan");
            let why = "receipt without a receipted message id".to_string();
            rec.reason = Some(why.clone());
            rec.push(MessageStatus::OrphanReceipt, now, why);
            tx.put_record(rec);
            return Ok(());
        };
        let carrier_id = info.receipted_message_id.trim().to_string();
        match self.find_mt(tx, &bind, &carrier_id)? {
            Some(mt) => {
                rec.original_id = Some(mt.message.id.clone());
                rec.push(
                    MessageStatus::Correlated,
                    now,
                    format!("matched MT {}", mt.message.id),
                );
                let via = format!("carrier receipt {}", rec.message.id);
                tx.put_record(rec);
                self.apply_receipt(tx, mt, &info, &via, now);
            }
            None => {
                tracing::warn!(id = %rec.message.id, %bind, %carrier_id, "receipt matches no submitted MT: kept as orphan");
                let why = format!("no MT submitted on {bind} with carrier id {carrier_id}");
                rec.reason = Some(why.clone());
                rec.push(MessageStatus::OrphanReceipt, now, why);
                for mut k in ids::index_keys(&bind, &carrier_id) {
                    k.push(0);
                    k.extend_from_slice(rec.message.id.as_bytes());
                    tx.put(TreeId::Orphans, k, Vec::new());
                }
                tx.put_record(rec);
            }
        }
        Ok(())
    }

    /// The MT submitted on `bind` whose carrier id matches `carrier_id`, best match first.
    fn find_mt(
        &self,
        tx: &Tx<'_>,
        bind: &str,
        carrier_id: &str,
    ) -> Result<Option<MessageRecord>, CoreStoreError> {
        for (key, how) in ids::lookup_keys(bind, carrier_id) {
            let Some(v) = tx.get(TreeId::SmscIds, &key)? else {
                continue;
            };
            let Some(mt) = tx.record(&String::from_utf8_lossy(&v))? else {
                continue;
            };
            let theirs = mt.smsc_message_id.as_deref().unwrap_or("");
            // A doubtful cross-base match is taken only by an MT still waiting for its receipt.
            if ids::convincing(how, theirs, carrier_id) || mt.status == MessageStatus::Submitted {
                return Ok(Some(mt));
            }
        }
        Ok(None)
    }

    /// Records a carrier receipt on its MT and, when final and asked for, queues the partner's
    /// receipt. `via` says where the receipt came from, for the history.
    fn apply_receipt(
        &self,
        tx: &mut Tx<'_>,
        mut mt: MessageRecord,
        info: &ReceiptInfo,
        via: &str,
        now: u64,
    ) {
        let st = receipts::state_of(info);
        let label = match (&info.stat, st) {
            (Some(s), _) => s.clone(),
            (None, Some(s)) => format!("message_state {s}"),
            (None, None) => "without state".to_string(),
        };
        if mt.message.direction != Direction::Mt || mt.origin == Origin::Core {
            mt.note(now, format!("receipt {label} ({via}) ignored: not an MT"));
        } else if mt.status.is_final() {
            mt.note(
                now,
                format!("receipt {label} ({via}) after the final status; ignored"),
            );
        } else {
            mt.carrier_receipt = Some(info.clone());
            match st.and_then(|s| receipts::final_status(s).map(|f| (s, f))) {
                None => mt.note(now, format!("receipt {label} ({via})")),
                Some((s, status)) => {
                    if mt.status.is_pending() {
                        dequeue(tx, &mt);
                        mt.lease_until_ms = None;
                    }
                    mt.push(status, now, format!("receipt {label} ({via})"));
                    let delivered = status == MessageStatus::Delivered;
                    if mt.origin == Origin::Gateway
                        && receipts::wants_receipt(mt.message.registered_delivery, delivered)
                    {
                        let err = info
                            .err
                            .as_deref()
                            .map(str::trim)
                            .filter(|e| !e.is_empty())
                            .unwrap_or("000");
                        let outcome = Outcome {
                            state: s,
                            err,
                            done_date: info.done_date.as_deref(),
                        };
                        self.queue_partner_receipt(tx, &mut mt, &outcome, now);
                    }
                }
            }
        }
        tx.put_record(mt);
    }

    /// Queues the receipt for the partner who sent `mt` (once per MT).
    fn queue_partner_receipt(
        &self,
        tx: &mut Tx<'_>,
        mt: &mut MessageRecord,
        outcome: &Outcome<'_>,
        now: u64,
    ) {
        if mt.partner_receipt_id.is_some() {
            return;
        }
        let receipt = receipts::partner_receipt(mt, outcome, self.new_id(), now);
        let bind = mt.message.bind_name.clone();
        enqueue(
            tx,
            &QueueName::Source(bind.clone()),
            &receipt.message.id,
            now,
        );
        mt.note(
            now,
            format!(
                "receipt {} queued for the partner on {bind}",
                receipt.message.id
            ),
        );
        mt.partner_receipt_id = Some(receipt.message.id.clone());
        tx.put_record(receipt);
    }

    // ----- claims ----------------------------------------------------------------------------

    /// Leases up to `limit` claimable messages of `queue`, oldest id first, each until
    /// now + `lease_ms` (the configured lease when `None`).
    pub(crate) fn claim(
        &self,
        queue: &QueueName,
        frontend: &str,
        limit: usize,
        lease_ms: Option<u64>,
    ) -> Result<Vec<OutboundMessage>, CoreStoreError> {
        let mut index = self.store.lock();
        let now = self.now();
        let until = now.saturating_add(lease_ms.unwrap_or(self.lease_ms));
        let mut tx = self.store.begin();
        let mut out = Vec::new();
        for (id, entry) in index.entries(queue) {
            if out.len() >= limit {
                break;
            }
            if entry.available_at_ms > now {
                continue;
            }
            let key = queue.key(id);
            let mut rec = match tx.record(id)? {
                Some(rec) if rec.status.is_pending() => rec,
                _ => {
                    // Left behind by an operation that settled the message: drop it.
                    tx.del(TreeId::Queues, key);
                    continue;
                }
            };
            if rec.status == MessageStatus::Leased && rec.lease_until_ms.is_some_and(|u| u <= now) {
                tracing::info!(%id, leased_to = ?rec.leased_to, "lease ended without an event: back in the queue");
            }
            rec.attempts = rec.attempts.saturating_add(1);
            rec.lease_until_ms = Some(until);
            rec.leased_to = Some(frontend.to_string());
            rec.push(
                MessageStatus::Leased,
                now,
                format!("claimed by {frontend} (attempt {})", rec.attempts),
            );
            tx.put(
                TreeId::Queues,
                key,
                QueueEntry {
                    available_at_ms: until,
                    state: EntryState::Leased,
                }
                .encode(),
            );
            out.push(outbound(&rec));
            tx.put_record(rec);
        }
        tx.commit(&mut index)?;
        Ok(out)
    }

    // ----- events ----------------------------------------------------------------------------

    /// Applies events in order; events about unknown messages are skipped and reported.
    pub(crate) fn apply_events(&self, events: Vec<Event>) -> Result<EventsOutcome, CoreStoreError> {
        let mut index = self.store.lock();
        let now = self.now();
        let mut tx = self.store.begin();
        let mut outcome = EventsOutcome::default();
        for (i, ev) in events.into_iter().enumerate() {
            match tx.record(&ev.message_id)? {
                None => outcome.unknown.push((i, ev.message_id)),
                Some(rec) => {
                    self.apply_event(&mut tx, rec, ev, now)?;
                    outcome.applied += 1;
                }
            }
        }
        let jobs = self.settle_sends(&mut tx, now)?;
        tx.commit(&mut index)?;
        self.callbacks.push(jobs);
        Ok(outcome)
    }

    fn apply_event(
        &self,
        tx: &mut Tx<'_>,
        mut rec: MessageRecord,
        ev: Event,
        now: u64,
    ) -> Result<(), CoreStoreError> {
        let bind = if ev.bind_name.is_empty() {
            rec.dest_smsc
                .clone()
                .or_else(|| rec.source_smsc.clone())
                .unwrap_or_default()
        } else {
            ev.bind_name.clone()
        };
        match ev.kind {
            EventKind::Submitted { smsc_message_id } => {
                let sid = smsc_message_id.trim().to_string();
                let new_id = rec.smsc_message_id.as_deref() != Some(sid.as_str());
                if rec.status.is_pending() {
                    dequeue(tx, &rec);
                    rec.lease_until_ms = None;
                    rec.push(
                        MessageStatus::Submitted,
                        now,
                        format!("submitted on {bind} as {sid:?}"),
                    );
                } else if new_id {
                    rec.note(
                        now,
                        format!("submitted on {bind} as {sid:?} while {}", rec.status),
                    );
                }
                let index = new_id && !sid.is_empty();
                if new_id {
                    rec.smsc_message_id = Some(sid.clone());
                }
                if index {
                    for k in ids::index_keys(&bind, &sid) {
                        tx.put(TreeId::SmscIds, k, rec.message.id.as_bytes().to_vec());
                    }
                }
                let id = rec.message.id.clone();
                tx.put_record(rec);
                if index {
                    self.adopt_orphans(tx, &bind, &sid, &id, now)?;
                }
            }
            EventKind::DeliveredToEsme => {
                if rec.status.is_pending() {
                    dequeue(tx, &rec);
                    rec.lease_until_ms = None;
                    rec.push(
                        MessageStatus::DeliveredToEsme,
                        now,
                        format!("acknowledged on {bind}"),
                    );
                } else if rec.status != MessageStatus::DeliveredToEsme {
                    rec.note(
                        now,
                        format!("delivered_to_esme on {bind} while {}; ignored", rec.status),
                    );
                }
                tx.put_record(rec);
            }
            EventKind::Failed {
                command_status,
                retryable,
                reason,
            } => {
                self.fail(
                    tx,
                    rec,
                    &bind,
                    &Failure {
                        command_status,
                        retryable,
                        reason: &reason,
                    },
                    now,
                );
            }
            EventKind::Receipt(info) => {
                self.apply_receipt(tx, rec, &info, &format!("receipt event on {bind}"), now);
            }
        }
        Ok(())
    }

    fn fail(
        &self,
        tx: &mut Tx<'_>,
        mut rec: MessageRecord,
        bind: &str,
        failure: &Failure<'_>,
        now: u64,
    ) {
        let Failure {
            command_status,
            retryable,
            reason,
        } = *failure;
        let detail = format!("failed on {bind}: command_status 0x{command_status:08X} {reason}");
        if !rec.status.is_pending() {
            rec.note(now, format!("{detail}, while {}; ignored", rec.status));
            tx.put_record(rec);
            return;
        }
        if retryable && rec.attempts < self.max_attempts {
            let delay = self.retry_delay_ms(rec.attempts);
            rec.not_before_ms = now.saturating_add(delay);
            rec.lease_until_ms = None;
            rec.push(
                MessageStatus::Queued,
                now,
                format!(
                    "{detail}; retry in {} ms (attempt {} of {})",
                    delay, rec.attempts, self.max_attempts
                ),
            );
            if let Some(q) = queue_of(&rec) {
                let entry = QueueEntry {
                    available_at_ms: rec.not_before_ms,
                    state: EntryState::Delayed,
                };
                tx.put(TreeId::Queues, q.key(&rec.message.id), entry.encode());
            }
            tx.put_record(rec);
            return;
        }
        dequeue(tx, &rec);
        rec.lease_until_ms = None;
        let why = if retryable {
            format!("{detail}; gave up after {} attempts", rec.attempts)
        } else {
            format!("{detail}; permanent")
        };
        tracing::warn!(id = %rec.message.id, %bind, "{why}");
        rec.reason = Some(why.clone());
        rec.push(MessageStatus::Failed, now, why);
        if rec.message.direction == Direction::Mt
            && rec.origin == Origin::Gateway
            && receipts::wants_receipt(rec.message.registered_delivery, false)
        {
            let st = if !retryable && command_status != 0 {
                state::REJECTED
            } else {
                state::UNDELIVERABLE
            };
            let err = format!("{:03}", command_status % 1000);
            let outcome = Outcome {
                state: st,
                err: &err,
                done_date: None,
            };
            self.queue_partner_receipt(tx, &mut rec, &outcome, now);
        }
        tx.put_record(rec);
    }

    /// `retry_base` · 2^(attempts-1), at most 5 minutes.
    fn retry_delay_ms(&self, attempts: u32) -> u64 {
        let exp = attempts.saturating_sub(1).min(40);
        self.retry_base_ms
            .saturating_mul(1u64 << exp)
            .min(RETRY_CAP_MS)
    }

    /// Matches the receipts that arrived before MT `mt_id` was reported submitted as `sid`.
    fn adopt_orphans(
        &self,
        tx: &mut Tx<'_>,
        bind: &str,
        sid: &str,
        mt_id: &str,
        now: u64,
    ) -> Result<(), CoreStoreError> {
        let mut found: BTreeMap<String, MessageRecord> = BTreeMap::new();
        for (key, how) in ids::lookup_keys(bind, sid) {
            let mut prefix = key;
            prefix.push(0);
            for (k, _) in tx.scan_prefix(TreeId::Orphans, &prefix)? {
                let rid = String::from_utf8_lossy(&k[prefix.len()..]).into_owned();
                if found.contains_key(&rid) {
                    continue;
                }
                match tx.record(&rid)? {
                    Some(r) if r.status == MessageStatus::OrphanReceipt => {
                        let theirs = r
                            .message
                            .receipt
                            .as_ref()
                            .map(|i| i.receipted_message_id.clone())
                            .unwrap_or_default();
                        if ids::convincing(how, sid, theirs.trim()) {
                            found.insert(rid, r);
                        }
                    }
                    _ => tx.del(TreeId::Orphans, k),
                }
            }
        }
        // Oldest receipt first, so that a final state is not overtaken by an earlier ENROUTE.
        for (rid, mut r) in found {
            let Some(info) = r.message.receipt.clone() else {
                continue;
            };
            for mut k in ids::index_keys(&r.message.bind_name, info.receipted_message_id.trim()) {
                k.push(0);
                k.extend_from_slice(rid.as_bytes());
                tx.del(TreeId::Orphans, k);
            }
            tracing::info!(receipt = %rid, mt = %mt_id, "orphan receipt matched once its MT was submitted");
            r.original_id = Some(mt_id.to_string());
            r.reason = None;
            r.push(
                MessageStatus::Correlated,
                now,
                format!("matched MT {mt_id} when it was submitted"),
            );
            tx.put_record(r);
            if let Some(mt) = tx.record(mt_id)? {
                self.apply_receipt(tx, mt, &info, &format!("carrier receipt {rid}"), now);
            }
        }
        Ok(())
    }

    // ----- send API --------------------------------------------------------------------------

    /// Stores a checked send request: a batch, one send per recipient, one queued MT per
    /// segment of each send. One transaction.
    pub(crate) fn submit_send(&self, plan: SendPlan) -> Result<Stored, CoreStoreError> {
        let mut index = self.store.lock();
        let now = self.now();
        let mut tx = self.store.begin();
        let batch_id = match plan.batch_id {
            Some(id) => {
                if get_json::<BatchRecord>(&tx, TreeId::Batches, &id)?.is_some() {
                    return Ok(Stored::Existing);
                }
                id
            }
            None => self.new_id(),
        };
        let total = plan.segments.count();
        let mut batch = BatchRecord {
            id: batch_id.clone(),
            client: plan.client.clone(),
            api: plan.api,
            created_at_ms: now,
            sends: Vec::new(),
        };
        let mut sends = Vec::new();
        for (to, digits, dest) in plan.recipients {
            let send_id = self.new_id();
            let reference = self
                .udh_reference
                .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            let mut parts = Vec::with_capacity(total);
            for index in 0..total {
                let (payload, esm_class) = plan.segments.part(index, reference);
                let part_text = plan.segments.text(index).to_string();
                let message = core_bridge::api::InboundMessage {
                    id: self.new_id(),
                    direction: Direction::Mt,
                    bind_name: format!("api:{}", plan.client),
                    bind_mode: core_bridge::api::BindMode::Server,
                    system_id: plan.client.clone(),
                    frontend: "http-send-api".into(),
                    service_type: String::new(),
                    source: plan.source.clone(),
                    destination: core_bridge::api::Address {
                        addr: digits.clone(),
                        ton: 1,
                        npi: 1,
                    },
                    esm_class,
                    protocol_id: 0,
                    priority_flag: 0,
                    schedule_delivery_time: String::new(),
                    validity_period: plan.validity_period.clone(),
                    registered_delivery: plan.registered_delivery,
                    data_coding: plan.segments.data_coding(),
                    text: Some(part_text),
                    payload: core_bridge::api::Base64Bytes(payload),
                    tlvs: Vec::new(),
                    receipt: None,
                    segment: (total > 1).then(|| core_bridge::api::SegmentInfo {
                        reference: u16::from(reference),
                        total: total.min(255) as u8,
                        seqnum: (index + 1).min(255) as u8,
                    }),
                    received_at_ms: now,
                };
                let mut rec = new_record(message, Origin::Api);
                rec.send_id = Some(send_id.clone());
                rec.push(
                    MessageStatus::Queued,
                    now,
                    format!(
                        "send {send_id} part {} of {total} from API client {}; queued for {dest}",
                        index + 1,
                        plan.client
                    ),
                );
                let claimable_at = plan.not_before_ms.map_or(now, |t| t.max(now));
                enqueue(
                    &mut tx,
                    &QueueName::Dest(dest.clone()),
                    &rec.message.id,
                    claimable_at,
                );
                rec.dest_smsc = Some(dest.clone());
                parts.push(SendPart {
                    id: rec.message.id.clone(),
                    seqnum: (index + 1) as u32,
                    status: MessageStatus::Queued,
                    smsc_message_id: None,
                    reason: None,
                });
                tx.put_record(rec);
            }
            let send = SendRecord {
                id: send_id.clone(),
                batch_id: batch_id.clone(),
                client: plan.client.clone(),
                to: to.clone(),
                from: plan.from.clone(),
                reference: plan.reference.clone(),
                callback_url: plan.callback_url.clone(),
                dest_smsc: dest.clone(),
                data_coding: plan.segments.data_coding(),
                segments: total as u32,
                status: MessageStatus::Queued,
                reason: None,
                created_at_ms: now,
                updated_at_ms: now,
                history: vec![SendHistoryEntry {
                    status: MessageStatus::Queued,
                    at_ms: now,
                    detail: format!(
                        "accepted from {}: {total} segment(s) queued for {dest}",
                        plan.client
                    ),
                    smsc_message_ids: Vec::new(),
                }],
                parts,
            };
            put_json(&mut tx, TreeId::Sends, &send_id, &send)?;
            batch.sends.push((to, send_id));
            sends.push(send);
        }
        // The parts were just written as queued: nothing to settle.
        let _ = tx.take_touched_sends();
        put_json(&mut tx, TreeId::Batches, &batch_id, &batch)?;
        tx.commit(&mut index)?;
        tracing::info!(batch = %batch_id, client = %batch.client, recipients = sends.len(), segments = total, "send accepted");
        Ok(Stored::New(batch, sends))
    }

    /// Recomputes the status of every send whose parts this operation wrote; answers the
    /// callbacks of those whose status changed.
    fn settle_sends(&self, tx: &mut Tx<'_>, now: u64) -> Result<Vec<CallbackJob>, CoreStoreError> {
        let mut jobs = Vec::new();
        for send_id in tx.take_touched_sends() {
            let Some(mut send) = get_json::<SendRecord>(tx, TreeId::Sends, &send_id)? else {
                continue;
            };
            for part in &mut send.parts {
                if let Some(rec) = tx.record(&part.id)? {
                    part.status = match rec.status {
                        MessageStatus::Leased => MessageStatus::Queued,
                        s => s,
                    };
                    part.smsc_message_id = rec.smsc_message_id.clone();
                    part.reason = rec.reason.clone().or_else(|| {
                        rec.carrier_receipt.as_ref().and_then(|r| {
                            (rec.status.is_final() && rec.status != MessageStatus::Delivered).then(
                                || {
                                    format!(
                                        "receipt {} err {}",
                                        r.stat.as_deref().unwrap_or("-"),
                                        r.err.as_deref().unwrap_or("-")
                                    )
                                },
                            )
                        })
                    });
                }
            }
            let (status, reason) = send::aggregate(&send.parts);
            if status != send.status && !send.status.is_final() {
                let previous = send.status;
                let ids = send.smsc_message_ids();
                let detail = match (&reason, status) {
                    (Some(r), _) => r.clone(),
                    (None, MessageStatus::Submitted) => {
                        format!("accepted by the carrier on {}", send.dest_smsc)
                    }
                    (None, MessageStatus::Delivered) => "delivered (carrier receipt)".into(),
                    (None, s) => s.to_string(),
                };
                send.status = status;
                send.reason = reason.clone();
                send.updated_at_ms = now;
                send.history.push(SendHistoryEntry {
                    status,
                    at_ms: now,
                    detail: detail.clone(),
                    smsc_message_ids: ids.clone(),
                });
                if let Some(url) = &send.callback_url {
                    let key = self.new_id();
                    let job = CallbackJob {
                        key: key.clone(),
                        send_id: send.id.clone(),
                        url: url.clone(),
                        body: serde_json::json!({
                            "id": send.id,
                            "batch_id": send.batch_id,
                            "reference": send.reference,
                            "to": send.to,
                            "status": status,
                            "previous_status": previous,
                            "segments": send.segments,
                            "smsc_message_ids": ids,
                            "reason": reason,
                            "detail": detail,
                            "at_ms": now,
                        }),
                    };
                    // Committed with the status change, removed once delivered or given up.
                    put_json(tx, TreeId::Callbacks, &key, &job)?;
                    jobs.push(job);
                }
                tracing::info!(send = %send.id, %previous, %status, "send status changed");
            }
            put_json(tx, TreeId::Sends, &send_id, &send)?;
        }
        Ok(jobs)
    }

    /// One send.
    pub(crate) fn send_record(&self, id: &str) -> Result<Option<SendRecord>, CoreStoreError> {
        let tx = self.store.begin();
        get_json(&tx, TreeId::Sends, id)
    }

    /// One batch and its sends.
    pub(crate) fn batch(
        &self,
        id: &str,
    ) -> Result<Option<(BatchRecord, Vec<SendRecord>)>, CoreStoreError> {
        let tx = self.store.begin();
        let Some(batch) = get_json::<BatchRecord>(&tx, TreeId::Batches, id)? else {
            return Ok(None);
        };
        let mut sends = Vec::new();
        for (_, send_id) in &batch.sends {
            if let Some(s) = get_json(&tx, TreeId::Sends, send_id)? {
                sends.push(s);
            }
        }
        Ok(Some((batch, sends)))
    }

    /// Every batch of `client`, newest first (by acceptance time, then id). Scans the
    /// `batches` tree: the embedded core is for one machine's traffic.
    pub(crate) fn batches_of(
        &self,
        client: &str,
    ) -> Result<Vec<(BatchRecord, Vec<SendRecord>)>, CoreStoreError> {
        let mut out = Vec::new();
        for item in self.store.tree(TreeId::Batches).iter() {
            let (k, v) = item?;
            let batch: BatchRecord = decode_json(&k, &v)?;
            if batch.client == client {
                if let Some(found) = self.batch(&batch.id)? {
                    out.push(found);
                }
            }
        }
        out.sort_by(|a, b| (b.0.created_at_ms, &b.0.id).cmp(&(a.0.created_at_ms, &a.0.id)));
        Ok(out)
    }

    // ----- reading ---------------------------------------------------------------------------

    /// One record, with the status as seen now.
    pub(crate) fn record(&self, id: &str) -> Result<Option<MessageRecord>, CoreStoreError> {
        let now = self.now();
        Ok(self.store.record(id)?.map(|mut r| {
            r.status = r.status_at(now);
            r
        }))
    }

    /// Records matching `filter`, newest id first.
    pub(crate) fn list(&self, filter: &ListFilter) -> Result<Vec<MessageRecord>, CoreStoreError> {
        let now = self.now();
        let mut out = Vec::new();
        for rec in self.store.records_newest_first() {
            if out.len() >= filter.limit {
                break;
            }
            let mut rec = rec?;
            rec.status = rec.status_at(now);
            let keep = filter.direction.is_none_or(|d| rec.message.direction == d)
                && filter
                    .bind_name
                    .as_ref()
                    .is_none_or(|b| rec.message.bind_name == *b)
                && filter.status.is_none_or(|s| rec.status == s)
                && filter
                    .dest_smsc
                    .as_ref()
                    .is_none_or(|q| rec.dest_smsc.as_ref() == Some(q))
                && filter
                    .source_smsc
                    .as_ref()
                    .is_none_or(|q| rec.source_smsc.as_ref() == Some(q));
            if keep {
                out.push(rec);
            }
        }
        Ok(out)
    }

    /// Counts per status and per queue.
    pub(crate) fn stats(&self) -> Result<Stats, CoreStoreError> {
        let now = self.now();
        let mut stats = Stats::default();
        for rec in self.store.records_newest_first() {
            let rec = rec?;
            stats.messages += 1;
            *stats
                .by_status
                .entry(rec.status_at(now).as_str().to_string())
                .or_default() += 1;
        }
        let index = self.store.lock();
        for (q, entries) in index.queues() {
            let counts: &mut QueueStats = match q {
                QueueName::Dest(n) => stats.dest_smsc.entry(n.clone()).or_default(),
                QueueName::Source(n) => stats.source_smsc.entry(n.clone()).or_default(),
            };
            for e in entries.values() {
                match e.state {
                    EntryState::Leased if e.available_at_ms > now => counts.leased += 1,
                    EntryState::Delayed if e.available_at_ms > now => {
                        counts.queued += 1;
                        counts.delayed += 1;
                    }
                    _ => counts.queued += 1,
                }
            }
        }
        Ok(stats)
    }

    // ----- frontends -------------------------------------------------------------------------

    pub(crate) fn register(&self, reg: FrontendRegistration) {
        let now = self.now();
        let mut map = self.frontends.lock().unwrap_or_else(|p| p.into_inner());
        map.retain(|_, f| f.expires_at_ms > now);
        let known = map.contains_key(&reg.frontend);
        if !known {
            tracing::info!(frontend = %reg.frontend, bind = %reg.bind_name, "frontend registered");
        }
        map.insert(
            reg.frontend.clone(),
            FrontendInfo {
                frontend: reg.frontend,
                bind_name: reg.bind_name,
                bind_mode: reg.bind_mode,
                smsc_name: reg.smsc_name,
                last_seen_ms: now,
                expires_at_ms: now.saturating_add(FRONTEND_TTL_MS),
            },
        );
    }

    pub(crate) fn frontends(&self) -> FrontendList {
        let now = self.now();
        let map = self.frontends.lock().unwrap_or_else(|p| p.into_inner());
        FrontendList {
            frontends: map
                .values()
                .filter(|f| f.expires_at_ms > now)
                .cloned()
                .collect(),
        }
    }
}

fn decode_json<T: serde::de::DeserializeOwned>(key: &[u8], v: &[u8]) -> Result<T, CoreStoreError> {
    serde_json::from_slice(v).map_err(|e| CoreStoreError::Corrupt {
        key: String::from_utf8_lossy(key).into_owned(),
        reason: e.to_string(),
    })
}

fn get_json<T: serde::de::DeserializeOwned>(
    tx: &Tx<'_>,
    tree: TreeId,
    key: &str,
) -> Result<Option<T>, CoreStoreError> {
    tx.get(tree, key.as_bytes())?
        .map(|v| decode_json(key.as_bytes(), &v))
        .transpose()
}

fn put_json<T: serde::Serialize>(
    tx: &mut Tx<'_>,
    tree: TreeId,
    key: &str,
    value: &T,
) -> Result<(), CoreStoreError> {
    let v = serde_json::to_vec(value).map_err(|e| CoreStoreError::storage("encode", e))?;
    tx.put(tree, key.as_bytes().to_vec(), v);
    Ok(())
}

fn new_record(message: InboundMessage, origin: Origin) -> MessageRecord {
    MessageRecord {
        message,
        origin,
        status: MessageStatus::Queued,
        dest_smsc: None,
        source_smsc: None,
        smsc_message_id: None,
        attempts: 0,
        lease_until_ms: None,
        leased_to: None,
        not_before_ms: 0,
        reason: None,
        carrier_receipt: None,
        original_id: None,
        partner_receipt_id: None,
        history: Vec::new(),
        send_id: None,
    }
}

/// The queue a record waits in.
fn queue_of(rec: &MessageRecord) -> Option<QueueName> {
    match (&rec.dest_smsc, &rec.source_smsc) {
        (Some(d), _) => Some(QueueName::Dest(d.clone())),
        (None, Some(s)) => Some(QueueName::Source(s.clone())),
        (None, None) => None,
    }
}

fn enqueue(tx: &mut Tx<'_>, queue: &QueueName, id: &str, now: u64) {
    tx.put(
        TreeId::Queues,
        queue.key(id),
        QueueEntry {
            available_at_ms: now,
            state: EntryState::Ready,
        }
        .encode(),
    );
}

fn dequeue(tx: &mut Tx<'_>, rec: &MessageRecord) {
    if let Some(q) = queue_of(rec) {
        tx.del(TreeId::Queues, q.key(&rec.message.id));
    }
}

/// What the gateway must send for a leased record.
fn outbound(rec: &MessageRecord) -> OutboundMessage {
    let m = &rec.message;
    let has_payload = !m.payload.0.is_empty();
    OutboundMessage {
        id: m.id.clone(),
        kind: m.direction,
        service_type: m.service_type.clone(),
        source: m.source.clone(),
        destination: m.destination.clone(),
        esm_class: m.esm_class,
        protocol_id: m.protocol_id,
        priority_flag: m.priority_flag,
        schedule_delivery_time: m.schedule_delivery_time.clone(),
        validity_period: m.validity_period.clone(),
        registered_delivery: m.registered_delivery,
        data_coding: m.data_coding,
        payload: m.payload.clone(),
        text: m.text.clone(),
        tlvs: m
            .tlvs
            .iter()
            .filter(|t| !(has_payload && t.tag == TAG_MESSAGE_PAYLOAD))
            .cloned()
            .collect(),
        lease_until_ms: rec.lease_until_ms.unwrap_or(0),
        attempts: rec.attempts.saturating_sub(1),
    }
}
