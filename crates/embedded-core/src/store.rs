//! The sled layout, and [`Tx`]: read-your-writes staging of one operation, committed as one
//! sled transaction so that a crash never leaves a record without its queue entry.
//!
//! # Trees
//!
//! | tree | key | value |
//! | --- | --- | --- |
//! | `messages` | message id (UTF-8) | [`MessageRecord`] as JSON |
//! | `queues` | `d` or `s`, bind name, `0x00`, message id | [`QueueEntry`]: 8-byte big-endian `available_at_ms`, 1 state byte |
//! | `smsc_ids` | client bind, `0x00`, form byte, carrier id | MT message id |
//! | `orphans` | client bind, `0x00`, form byte, carrier id, `0x00`, receipt id | empty |
//! | `sends` | send id (one recipient of a send API request) | [`crate::send::SendRecord`] as JSON |
//! | `batches` | batch id (one send API request) | [`crate::send::BatchRecord`] as JSON |
//! | `callbacks` | ULID (order of the status changes) | a status callback not yet delivered nor given up, as JSON |
//!
//! `queues` holds one entry per message that waits to be sent or is leased; `d` keys are the
//! MT queues of client binds (`dest_smsc`), `s` keys the MO/receipt queues of server binds
//! (`source_smsc`). Within a queue the keys sort by message id, so a prefix scan yields the
//! oldest ULID first, and the value says when the entry can next be claimed without reading
//! the record. The form byte of the id trees is `X` (the id as written), `D` (the id read as a
//! decimal number) or `H` (read as hexadecimal), see [`crate::ids`].

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard};

use sled::Transactional as _;

use crate::error::CoreStoreError;
use crate::record::MessageRecord;

/// The trees of the store, in the order of [`Store::trees`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum TreeId {
    Messages = 0,
    Queues = 1,
    SmscIds = 2,
    Orphans = 3,
    Sends = 4,
    Batches = 5,
    Callbacks = 6,
}

/// sled's page cache limit (its default is 1 GiB, too much for a component of the gateway).
const STORE_CACHE_BYTES: u64 = 128 * 1024 * 1024;

const TREE_NAMES: [&str; 7] = [
    "messages",
    "queues",
    "smsc_ids",
    "orphans",
    "sends",
    "batches",
    "callbacks",
];

/// A queue: the MT queue of a client bind, or the MO/receipt queue of a server bind.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub(crate) enum QueueName {
    /// `dest_smsc`: a client bind.
    Dest(String),
    /// `source_smsc`: a server bind.
    Source(String),
}

impl QueueName {
    /// Every key of this queue starts with this.
    pub(crate) fn prefix(&self) -> Vec<u8> {
        let (tag, name) = match self {
            QueueName::Dest(n) => (b'd', n),
            QueueName::Source(n) => (b's', n),
        };
        let mut k = Vec::with_capacity(name.len() + 2);
        k.push(tag);
        k.extend_from_slice(name.as_bytes());
        k.push(0);
        k
    }

    /// The key of message `id` in this queue.
    pub(crate) fn key(&self, id: &str) -> Vec<u8> {
        let mut k = self.prefix();
        k.extend_from_slice(id.as_bytes());
        k
    }

    /// The queue of a key of the `queues` tree.
    pub(crate) fn of_key(key: &[u8]) -> Option<QueueName> {
        let (&tag, rest) = key.split_first()?;
        let end = rest.iter().position(|&b| b == 0)?;
        let name = String::from_utf8_lossy(&rest[..end]).into_owned();
        match tag {
            b'd' => Some(QueueName::Dest(name)),
            b's' => Some(QueueName::Source(name)),
            _ => None,
        }
    }
}

/// What a queue entry's state byte says.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum EntryState {
    /// Waiting to be claimed (from `available_at_ms` on).
    Ready = 0,
    /// Leased until `available_at_ms`.
    Leased = 1,
    /// Waiting for a retry time (`available_at_ms`).
    Delayed = 2,
}

/// The value of a `queues` entry.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct QueueEntry {
    /// Claimable from this time on, milliseconds since the Unix epoch.
    pub(crate) available_at_ms: u64,
    pub(crate) state: EntryState,
}

impl QueueEntry {
    pub(crate) fn encode(self) -> Vec<u8> {
        let mut v = self.available_at_ms.to_be_bytes().to_vec();
        v.push(self.state as u8);
        v
    }

    /// `None` when the value is not 9 bytes.
    pub(crate) fn decode(v: &[u8]) -> Option<QueueEntry> {
        let at: [u8; 8] = v.get(..8)?.try_into().ok()?;
        let state = match v.get(8)? {
            0 => EntryState::Ready,
            1 => EntryState::Leased,
            _ => EntryState::Delayed,
        };
        Some(QueueEntry {
            available_at_ms: u64::from_be_bytes(at),
            state,
        })
    }
}

/// The sled database and its trees.
pub(crate) struct Store {
    path: PathBuf,
    db: sled::Db,
    trees: [sled::Tree; 7],
    /// Serialises every read-modify-write of the store (hand-over, claim, events), so that a
    /// [`Tx`] never conflicts and two claims never lease the same message.
    lock: Mutex<()>,
    /// Group commit: one sled flush at a time, shared by every caller that waits for it.
    flusher: Arc<GroupFlush>,
}

/// Group commit of sled flushes.
///
/// Why not `Db::flush_async` from every request: sled 0.34's concurrent `flush_async` calls
/// can wait on each other forever under a few hundred concurrent hand-overs (sled issue #1308,
/// seen here as hand-overs that never answered). Here one synchronous `Db::flush` runs at a
/// time on the blocking pool; a caller that arrives while it runs waits for the *next* flush
/// (which starts after its writes), and every caller that arrived meanwhile shares that one.
/// The flush loop runs in its own task, so a cancelled request (a client that hung up) never
/// leaves the flusher marked as running.
struct GroupFlush {
    state: Mutex<FlushState>,
    /// `(generation of the last finished flush, its outcome)`.
    done: tokio::sync::watch::Sender<(u64, Result<(), String>)>,
}

#[derive(Default)]
struct FlushState {
    /// Flushes started so far (the generation of the latest).
    started: u64,
    /// Whether the flush task is running.
    running: bool,
    /// The highest generation a waiter needs.
    wanted: u64,
}

impl GroupFlush {
    fn new() -> GroupFlush {
        GroupFlush {
            state: Mutex::new(FlushState::default()),
            done: tokio::sync::watch::channel((0, Ok(()))).0,
        }
    }

    fn state(&self) -> MutexGuard<'_, FlushState> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Waits until a flush that started after this call has finished; its outcome.
    async fn flush(self: &Arc<Self>, db: &sled::Db) -> Result<(), String> {
        let mut rx = self.done.subscribe();
        let target = {
            let mut s = self.state();
            // A flush running now may have started before our writes: we need the next one.
            let target = s.started + 1;
            s.wanted = s.wanted.max(target);
            if !s.running {
                s.running = true;
                let me = Arc::clone(self);
                let db = db.clone();
                tokio::spawn(async move { me.run(db).await });
            }
            target
        };
        loop {
            {
                let seen = rx.borrow_and_update();
                if seen.0 >= target {
                    return seen.1.clone();
                }
            }
            if rx.changed().await.is_err() {
                return Err("the flush task ended".to_owned());
            }
        }
    }

    /// Runs flushes until no waiter needs another one.
    async fn run(self: Arc<Self>, db: sled::Db) {
        loop {
            let generation = {
                let mut s = self.state();
                if s.wanted <= s.started {
                    s.running = false;
                    return;
                }
                s.started += 1;
                s.started
            };
            let db2 = db.clone();
            let outcome = match tokio::task::spawn_blocking(move || db2.flush()).await {
                Ok(Ok(_)) => Ok(()),
                Ok(Err(e)) => Err(e.to_string()),
                Err(e) => Err(format!("flush task failed: {e}")),
            };
            drop(self.done.send_replace((generation, outcome)));
        }
    }
}

impl Store {
    /// Opens or creates the sled database in `dir`.
    pub(crate) fn open(dir: &Path) -> Result<Store, CoreStoreError> {
        let err = |e: &dyn std::fmt::Display| CoreStoreError::Open {
            path: dir.to_path_buf(),
            reason: e.to_string(),
        };
        std::fs::create_dir_all(dir).map_err(|e| err(&e))?;
        let db = open_waiting_for_lock(dir).map_err(|e| err(&e))?;
        let open = |name: &str| db.open_tree(name).map_err(|e| err(&e));
        let trees = [
            open(TREE_NAMES[0])?,
            open(TREE_NAMES[1])?,
            open(TREE_NAMES[2])?,
            open(TREE_NAMES[3])?,
            open(TREE_NAMES[4])?,
            open(TREE_NAMES[5])?,
            open(TREE_NAMES[6])?,
        ];
        Ok(Store {
            path: dir.to_path_buf(),
            db,
            trees,
            lock: Mutex::new(()),
            flusher: Arc::new(GroupFlush::new()),
        })
    }

    /// The store directory.
    pub(crate) fn path(&self) -> &Path {
        &self.path
    }

    pub(crate) fn tree(&self, t: TreeId) -> &sled::Tree {
        &self.trees[t as usize]
    }

    /// Takes the write lock. A panic while it was held does not poison the store: the
    /// transaction of that operation was simply not committed.
    pub(crate) fn lock(&self) -> MutexGuard<'_, ()> {
        self.lock.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Starts staging one operation.
    pub(crate) fn begin(&self) -> Tx<'_> {
        Tx {
            store: self,
            records: BTreeMap::new(),
            raw: BTreeMap::new(),
            touched_sends: BTreeSet::new(),
        }
    }

    /// Makes everything written so far durable (a group commit: see [`GroupFlush`]).
    pub(crate) async fn flush(&self) -> Result<(), CoreStoreError> {
        self.flusher
            .flush(&self.db)
            .await
            .map_err(|reason| CoreStoreError::Flush {
                path: self.path.clone(),
                reason,
            })
    }

    /// Reads one record, outside any operation.
    pub(crate) fn record(&self, id: &str) -> Result<Option<MessageRecord>, CoreStoreError> {
        match self
            .tree(TreeId::Messages)
            .get(id.as_bytes())
            .map_err(|e| CoreStoreError::storage("read", e))?
        {
            None => Ok(None),
            Some(v) => decode_record(id.as_bytes(), &v).map(Some),
        }
    }

    /// Every record, newest id first.
    pub(crate) fn records_newest_first(
        &self,
    ) -> impl Iterator<Item = Result<MessageRecord, CoreStoreError>> + '_ {
        self.tree(TreeId::Messages).iter().rev().map(|item| {
            let (k, v) = item.map_err(|e| CoreStoreError::storage("scan", e))?;
            decode_record(&k, &v)
        })
    }
}

pub(crate) fn decode_record(key: &[u8], v: &[u8]) -> Result<MessageRecord, CoreStoreError> {
    serde_json::from_slice(v).map_err(|e| CoreStoreError::Corrupt {
        key: String::from_utf8_lossy(key).into_owned(),
        reason: e.to_string(),
    })
}

/// Keys and values, in key order.
pub(crate) type KeyValues = Vec<(Vec<u8>, Vec<u8>)>;

/// The writes of one operation, readable before they are committed.
pub(crate) struct Tx<'s> {
    store: &'s Store,
    records: BTreeMap<String, MessageRecord>,
    raw: BTreeMap<(TreeId, Vec<u8>), Option<Vec<u8>>>,
    /// Sends (send API) one of whose parts this operation wrote.
    touched_sends: BTreeSet<String>,
}

impl Tx<'_> {
    /// The record `id` as this operation sees it.
    pub(crate) fn record(&self, id: &str) -> Result<Option<MessageRecord>, CoreStoreError> {
        match self.records.get(id) {
            Some(r) => Ok(Some(r.clone())),
            None => self.store.record(id),
        }
    }

    /// Whether a record `id` exists (stored, or staged by this operation).
    pub(crate) fn exists(&self, id: &str) -> Result<bool, CoreStoreError> {
        if self.records.contains_key(id) {
            return Ok(true);
        }
        self.store
            .tree(TreeId::Messages)
            .contains_key(id.as_bytes())
            .map_err(|e| CoreStoreError::storage("read", e))
    }

    /// Stages a record write.
    pub(crate) fn put_record(&mut self, rec: MessageRecord) {
        if let Some(send) = &rec.send_id {
            self.touched_sends.insert(send.clone());
        }
        self.records.insert(rec.message.id.clone(), rec);
    }

    /// One value as this operation sees it.
    pub(crate) fn get(&self, t: TreeId, key: &[u8]) -> Result<Option<Vec<u8>>, CoreStoreError> {
        if let Some(v) = self.raw.get(&(t, key.to_vec())) {
            return Ok(v.clone());
        }
        Ok(self
            .store
            .tree(t)
            .get(key)
            .map_err(|e| CoreStoreError::storage("read", e))?
            .map(|v| v.to_vec()))
    }

    /// The keys (and values) under `prefix`, as this operation sees them, in key order.
    pub(crate) fn scan_prefix(
        &self,
        t: TreeId,
        prefix: &[u8],
    ) -> Result<KeyValues, CoreStoreError> {
        let mut seen: BTreeMap<Vec<u8>, Option<Vec<u8>>> = BTreeMap::new();
        for item in self.store.tree(t).scan_prefix(prefix) {
            let (k, v) = item.map_err(|e| CoreStoreError::storage("scan", e))?;
            seen.insert(k.to_vec(), Some(v.to_vec()));
        }
        for ((tree, k), v) in &self.raw {
            if *tree == t && k.starts_with(prefix) {
                seen.insert(k.clone(), v.clone());
            }
        }
        Ok(seen
            .into_iter()
            .filter_map(|(k, v)| v.map(|v| (k, v)))
            .collect())
    }

    pub(crate) fn put(&mut self, t: TreeId, key: Vec<u8>, value: Vec<u8>) {
        self.raw.insert((t, key), Some(value));
    }

    pub(crate) fn del(&mut self, t: TreeId, key: Vec<u8>) {
        self.raw.insert((t, key), None);
    }

    /// The sends one of whose parts was written so far, forgetting them.
    pub(crate) fn take_touched_sends(&mut self) -> BTreeSet<String> {
        std::mem::take(&mut self.touched_sends)
    }

    /// True when nothing was staged.
    pub(crate) fn is_empty(&self) -> bool {
        self.records.is_empty() && self.raw.is_empty()
    }

    /// Writes everything staged in one sled transaction (all or nothing, also across a crash).
    /// Durability needs a [`Store::flush`] afterwards.
    pub(crate) fn commit(self) -> Result<(), CoreStoreError> {
        let Tx {
            store,
            records,
            mut raw,
            ..
        } = self;
        for (id, rec) in records {
            let json =
                serde_json::to_vec(&rec).map_err(|e| CoreStoreError::storage("encode", e))?;
            raw.insert((TreeId::Messages, id.into_bytes()), Some(json));
        }
        if raw.is_empty() {
            return Ok(());
        }
        // Only the trees this operation touches take part: a sled transaction locks every tree
        // it names, and a hand-over touches two of the seven. One tree alone is written as one
        // atomic `Batch`, which costs less than a transaction.
        let touched: BTreeSet<TreeId> = raw.keys().map(|(t, _)| *t).collect();
        if touched.len() == 1 {
            let t = *touched.iter().next().expect("one tree");
            let mut batch = sled::Batch::default();
            for ((_, k), v) in raw {
                match v {
                    Some(v) => batch.insert(k, v),
                    None => batch.remove(k),
                }
            }
            return store
                .tree(t)
                .apply_batch(batch)
                .map_err(|e| CoreStoreError::storage("write", e));
        }
        let order: Vec<TreeId> = touched.into_iter().collect();
        let trees: Vec<&sled::Tree> = order.iter().map(|t| store.tree(*t)).collect();
        trees
            .as_slice()
            .transaction(|tt| {
                for ((t, k), v) in &raw {
                    let slot = order.iter().position(|o| o == t).expect("touched tree");
                    let tree = &tt[slot];
                    match v {
                        Some(v) => {
                            tree.insert(k.as_slice(), v.as_slice())?;
                        }
                        None => {
                            tree.remove(k.as_slice())?;
                        }
                    }
                }
                Ok::<(), sled::transaction::ConflictableTransactionError<()>>(())
            })
            .map_err(|e| match e {
                sled::transaction::TransactionError::Abort(()) => {
                    CoreStoreError::storage("write", "aborted")
                }
                sled::transaction::TransactionError::Storage(e) => {
                    CoreStoreError::storage("write", e)
                }
            })
    }
}

/// How long [`Store::open`] waits for another holder of the store's file lock to let go (a
/// previous process still exiting, or a core of this process still dropping its last tasks).
const LOCK_WAIT: std::time::Duration = std::time::Duration::from_secs(5);

/// Opens sled at `dir`, retrying while its file lock is held by someone else, for at most
/// [`LOCK_WAIT`]; any other error is returned at once.
fn open_waiting_for_lock(dir: &Path) -> sled::Result<sled::Db> {
    let start = std::time::Instant::now();
    loop {
        match sled::Config::new()
            .path(dir)
            .cache_capacity(STORE_CACHE_BYTES)
            // Hand-overs append (ids are ULIDs): favour write throughput over compaction.
            .mode(sled::Mode::HighThroughput)
            .open()
        {
            // sled reports a held lock as an `Other` I/O error with this text (sled 0.34.7,
            // `Config::try_lock`); the version is pinned, so the text is stable.
            Err(sled::Error::Io(e))
                if e.to_string().contains("could not acquire lock")
                    && start.elapsed() < LOCK_WAIT =>
            {
                std::thread::sleep(std::time::Duration::from_millis(20));
            }
            other => return other,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn queue_keys_sort_by_id_within_a_queue_and_name_their_queue() {
        let q = QueueName::Dest("carrier".into());
        let a = q.key("01A");
        let b = q.key("01B");
        assert!(a < b);
        assert!(a.starts_with(&q.prefix()));
        assert!(!QueueName::Dest("carrier2".into())
            .key("0")
            .starts_with(&q.prefix()));
        assert_eq!(QueueName::of_key(&a), Some(q));
        assert_eq!(
            QueueName::of_key(&QueueName::Source("p".into()).key("x")),
            Some(QueueName::Source("p".into()))
        );
    }

    #[test]
    fn queue_entry_round_trips() {
        let e = QueueEntry {
            available_at_ms: 1_700_000_000_123,
            state: EntryState::Leased,
        };
        assert_eq!(QueueEntry::decode(&e.encode()), Some(e));
        assert_eq!(QueueEntry::decode(&[1, 2]), None);
    }

    /// Hundreds of concurrent flushes, each after its own write, all finish and leave every
    /// write durable: the hang of concurrent `flush_async` (sled #1308) cannot come back.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn concurrent_flushes_share_commits_and_all_finish() {
        let dir = std::env::temp_dir().join(format!("smppgw-flush-{}", ulid::Ulid::new()));
        let store = Arc::new(Store::open(&dir).unwrap());
        let mut tasks = Vec::new();
        for i in 0..400u32 {
            let store = Arc::clone(&store);
            tasks.push(tokio::spawn(async move {
                store
                    .tree(TreeId::Messages)
                    .insert(i.to_be_bytes(), &b"x"[..])
                    .unwrap();
                store.flush().await
            }));
        }
        let all = tokio::time::timeout(std::time::Duration::from_secs(60), async {
            for t in tasks {
                t.await.unwrap().unwrap();
            }
        })
        .await;
        assert!(all.is_ok(), "concurrent flushes did not all finish");
        let started = store.flusher.state().started;
        assert!(
            started >= 1 && started < 400,
            "{started} flushes for 400 callers: no grouping"
        );
        assert_eq!(store.tree(TreeId::Messages).len(), 400);
        drop(store);
        let _ = std::fs::remove_dir_all(&dir);
    }
}
