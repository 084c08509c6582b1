//! The store layout, and [`Tx`]: read-your-writes staging of one operation, committed as one
//! atomic write batch so that a crash never leaves a record without its queue entry.
//!
//! # Engine
//!
//! The store is a fjall database (an LSM tree with a write-ahead journal) in the `fjall`
//! subdirectory of the store directory. Why fjall and not sled, which held it before:
//! the same hand-over writes cost about a sixth of sled's CPU (`docs/performance.md`), and
//! a batch across trees is atomic without a transaction. A store left by sled is copied over
//! once at open ([`migrate_from_sled`]); sled's files are then moved to `sled-migrated/`.
//!
//! # Trees
//!
//! Each tree is a fjall keyspace.
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
//!
//! The `queues` tree is also held in memory ([`QueueIndex`], read once at open and kept in
//! step by every commit): claims and statistics never scan the tree, whose deleted entries
//! an LSM tree keeps as tombstones until compaction.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard};

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

/// fjall's block cache (its default is 32 MiB).
const STORE_CACHE_BYTES: u64 = 64 * 1024 * 1024;

/// The subdirectory of the store directory that holds the fjall database.
const FJALL_DIR: &str = "fjall";

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

/// One tree of the store (a fjall keyspace). Cheap to clone; a clone is the same tree.
#[derive(Clone)]
pub(crate) struct Tree(fjall::Keyspace);

/// A key and its value as read from a tree (the bytes are shared with fjall's block cache).
pub(crate) type Pair = (fjall::Slice, fjall::Slice);

impl Tree {
    /// The value of `key`.
    pub(crate) fn get(&self, key: &[u8]) -> Result<Option<fjall::Slice>, CoreStoreError> {
        self.0
            .get(key)
            .map_err(|e| CoreStoreError::storage("read", e))
    }

    /// Whether `key` has a value.
    pub(crate) fn contains_key(&self, key: &[u8]) -> Result<bool, CoreStoreError> {
        self.0
            .contains_key(key)
            .map_err(|e| CoreStoreError::storage("read", e))
    }

    /// Every key and value, in key order (`.rev()` for the reverse).
    pub(crate) fn iter(
        &self,
    ) -> impl DoubleEndedIterator<Item = Result<Pair, CoreStoreError>> + 'static {
        self.0.iter().map(|g| {
            g.into_inner()
                .map_err(|e| CoreStoreError::storage("scan", e))
        })
    }

    /// The keys under `prefix` and their values, in key order.
    pub(crate) fn scan_prefix(
        &self,
        prefix: &[u8],
    ) -> impl DoubleEndedIterator<Item = Result<Pair, CoreStoreError>> + 'static {
        self.0.prefix(prefix).map(|g| {
            g.into_inner()
                .map_err(|e| CoreStoreError::storage("scan", e))
        })
    }

    /// Writes one value at once, outside any [`Tx`] (tests; durable after the next
    /// [`Store::flush`]).
    #[cfg(test)]
    pub(crate) fn insert(&self, key: &[u8], value: &[u8]) -> Result<(), CoreStoreError> {
        self.0
            .insert(key, value)
            .map_err(|e| CoreStoreError::storage("write", e))
    }

    /// Removes one key at once, outside any [`Tx`].
    pub(crate) fn remove(&self, key: &[u8]) -> Result<(), CoreStoreError> {
        self.0
            .remove(key)
            .map_err(|e| CoreStoreError::storage("write", e))
    }

    /// The number of keys (a full scan: for tests and diagnostics).
    pub(crate) fn len(&self) -> Result<usize, CoreStoreError> {
        self.0.len().map_err(|e| CoreStoreError::storage("scan", e))
    }

    /// Whether the tree holds no key (tests; panics on a read error).
    #[cfg(test)]
    pub(crate) fn is_empty(&self) -> bool {
        self.0.is_empty().expect("read of a test tree")
    }

    /// A tree of its own temporary database under the system's temporary directory, removed
    /// when the last clone is dropped (tests).
    #[cfg(test)]
    pub(crate) fn temporary(name: &str) -> Tree {
        let dir = std::env::temp_dir().join(format!("smppgw-tree-{}", ulid::Ulid::new()));
        let db = fjall::Database::builder(&dir)
            .temporary(true)
            .open()
            .expect("temporary fjall database");
        Tree(
            db.keyspace(name, fjall::KeyspaceCreateOptions::default)
                .expect("temporary keyspace"),
        )
    }
}

/// The `queues` tree in memory: per queue, its entries by message id (so oldest ULID first).
///
/// Read once when the store opens, then changed only by [`Tx::commit`], after the write batch
/// it mirrors has been committed, and only under the store's write lock: it is always what the
/// tree holds. It costs about 100 bytes per waiting or leased message.
#[derive(Debug, Default)]
pub(crate) struct QueueIndex {
    queues: BTreeMap<QueueName, BTreeMap<String, QueueEntry>>,
}

impl QueueIndex {
    /// Applies one write of the `queues` tree (`None`: a removal). Keys that name no queue,
    /// and values that do not decode, are left out as a claim would skip them.
    fn apply(&mut self, key: &[u8], value: Option<&[u8]>) {
        let Some(queue) = QueueName::of_key(key) else {
            return;
        };
        let id = String::from_utf8_lossy(&key[queue.prefix().len()..]).into_owned();
        match value.and_then(QueueEntry::decode) {
            Some(entry) => {
                self.queues.entry(queue).or_default().insert(id, entry);
            }
            None => {
                if let Some(q) = self.queues.get_mut(&queue) {
                    q.remove(&id);
                    if q.is_empty() {
                        self.queues.remove(&queue);
                    }
                }
            }
        }
    }

    /// The entries of `queue`, by message id.
    pub(crate) fn entries<'a>(
        &'a self,
        queue: &QueueName,
    ) -> impl Iterator<Item = (&'a String, &'a QueueEntry)> + 'a {
        self.queues.get(queue).into_iter().flatten()
    }

    /// Every queue and its entries.
    pub(crate) fn queues(
        &self,
    ) -> impl Iterator<Item = (&QueueName, &BTreeMap<String, QueueEntry>)> {
        self.queues.iter()
    }
}

/// The fjall database and its trees.
pub(crate) struct Store {
    path: PathBuf,
    db: fjall::Database,
    trees: [Tree; 7],
    /// Serialises every read-modify-write of the store (hand-over, claim, events), so that a
    /// [`Tx`] never works on stale reads and two claims never lease the same message; it
    /// guards the queue index, which only a commit changes.
    lock: Mutex<QueueIndex>,
    /// Group commit: one journal fsync at a time, shared by every caller that waits for it.
    flusher: Arc<GroupFlush>,
}

/// Group commit of journal fsyncs.
///
/// One `Database::persist` runs at a time on the blocking pool; a caller that arrives while it
/// runs waits for the *next* one (which starts after its writes), and every caller that
/// arrived meanwhile shares that one: N concurrent hand-overs cost one or two fsyncs, not N.
/// (This was first built because sled 0.34's concurrent `flush_async` calls could wait on
/// each other forever, sled issue #1308.) The loop runs in its own task, so a cancelled
/// request (a client that hung up) never leaves the flusher marked as running.
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
    async fn flush(self: &Arc<Self>, db: &fjall::Database) -> Result<(), String> {
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
    async fn run(self: Arc<Self>, db: fjall::Database) {
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
            let outcome =
                match tokio::task::spawn_blocking(move || db2.persist(fjall::PersistMode::SyncAll))
                    .await
                {
                    Ok(Ok(())) => Ok(()),
                    Ok(Err(e)) => Err(e.to_string()),
                    Err(e) => Err(format!("flush task failed: {e}")),
                };
            drop(self.done.send_replace((generation, outcome)));
        }
    }
}

impl Store {
    /// Opens or creates the store in `dir` (the fjall database in its `fjall` subdirectory),
    /// first copying over a store that sled left there ([`migrate_from_sled`]).
    pub(crate) fn open(dir: &Path) -> Result<Store, CoreStoreError> {
        let err = |e: &dyn std::fmt::Display| CoreStoreError::Open {
            path: dir.to_path_buf(),
            reason: e.to_string(),
        };
        std::fs::create_dir_all(dir).map_err(|e| err(&e))?;
        migrate_from_sled(dir).map_err(|e| err(&e))?;
        let db = open_waiting_for_lock(&dir.join(FJALL_DIR)).map_err(|e| err(&e))?;
        let open = |name: &str| {
            db.keyspace(name, fjall::KeyspaceCreateOptions::default)
                .map(Tree)
                .map_err(|e| err(&e))
        };
        let trees = [
            open(TREE_NAMES[0])?,
            open(TREE_NAMES[1])?,
            open(TREE_NAMES[2])?,
            open(TREE_NAMES[3])?,
            open(TREE_NAMES[4])?,
            open(TREE_NAMES[5])?,
            open(TREE_NAMES[6])?,
        ];
        let mut index = QueueIndex::default();
        for item in trees[TreeId::Queues as usize].iter() {
            let (k, v) = item.map_err(|e| err(&e))?;
            index.apply(&k, Some(&v));
        }
        Ok(Store {
            path: dir.to_path_buf(),
            db,
            trees,
            lock: Mutex::new(index),
            flusher: Arc::new(GroupFlush::new()),
        })
    }

    /// The store directory.
    pub(crate) fn path(&self) -> &Path {
        &self.path
    }

    pub(crate) fn tree(&self, t: TreeId) -> &Tree {
        &self.trees[t as usize]
    }

    /// Takes the write lock, with the queue index it guards. A panic while it was held does
    /// not poison the store: the batch of that operation was simply not committed, and the
    /// index changes only after a commit.
    pub(crate) fn lock(&self) -> MutexGuard<'_, QueueIndex> {
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
        match self.tree(TreeId::Messages).get(id.as_bytes())? {
            None => Ok(None),
            Some(v) => decode_record(id.as_bytes(), &v).map(Some),
        }
    }

    /// Every record, newest id first.
    pub(crate) fn records_newest_first(
        &self,
    ) -> impl Iterator<Item = Result<MessageRecord, CoreStoreError>> + '_ {
        self.tree(TreeId::Messages).iter().rev().map(|item| {
            let (k, v) = item?;
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
        Ok(self.store.tree(t).get(key)?.map(|v| v.to_vec()))
    }

    /// The keys (and values) under `prefix`, as this operation sees them, in key order.
    pub(crate) fn scan_prefix(
        &self,
        t: TreeId,
        prefix: &[u8],
    ) -> Result<KeyValues, CoreStoreError> {
        let mut seen: BTreeMap<Vec<u8>, Option<Vec<u8>>> = BTreeMap::new();
        for item in self.store.tree(t).scan_prefix(prefix) {
            let (k, v) = item?;
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

    /// Writes everything staged as one atomic fjall write batch (all or nothing, also across
    /// a crash), then applies its `queues` writes to `index` (the index behind the write lock
    /// the caller holds). Durability needs a [`Store::flush`] afterwards.
    pub(crate) fn commit(self, index: &mut QueueIndex) -> Result<(), CoreStoreError> {
        let Tx {
            store,
            records,
            raw,
            ..
        } = self;
        if records.is_empty() && raw.is_empty() {
            return Ok(());
        }
        let mut batch = store.db.batch();
        for (id, rec) in records {
            let json =
                serde_json::to_vec(&rec).map_err(|e| CoreStoreError::storage("encode", e))?;
            batch.insert(&store.tree(TreeId::Messages).0, id.into_bytes(), json);
        }
        let mut queue_writes = Vec::new();
        for ((t, k), v) in raw {
            if t == TreeId::Queues {
                queue_writes.push((k.clone(), v.clone()));
            }
            let keyspace = &store.tree(t).0;
            match v {
                Some(v) => batch.insert(keyspace, k, v),
                None => batch.remove(keyspace, k),
            }
        }
        batch
            .commit()
            .map_err(|e| CoreStoreError::storage("write", e))?;
        for (k, v) in queue_writes {
            index.apply(&k, v.as_deref());
        }
        Ok(())
    }
}

/// How long [`Store::open`] waits for another holder of the store's file lock to let go (a
/// previous process still exiting, or a core of this process still dropping its last tasks).
const LOCK_WAIT: std::time::Duration = std::time::Duration::from_secs(5);

/// Opens fjall at `dir`, retrying while its file lock is held by someone else, for at most
/// [`LOCK_WAIT`]; any other error is returned at once.
fn open_waiting_for_lock(dir: &Path) -> fjall::Result<fjall::Database> {
    let start = std::time::Instant::now();
    loop {
        match fjall::Database::builder(dir)
            .cache_size(STORE_CACHE_BYTES)
            .open()
        {
            Err(fjall::Error::Locked) if start.elapsed() < LOCK_WAIT => {
                std::thread::sleep(std::time::Duration::from_millis(20));
            }
            other => return other,
        }
    }
}

/// The files sled 0.34 keeps in its directory.
fn is_sled_file(name: &str) -> bool {
    matches!(name, "conf" | "db" | "blobs") || name.starts_with("snap.")
}

/// Where sled's files go once their content was copied.
const SLED_MIGRATED_DIR: &str = "sled-migrated";

/// Copies a store that sled left in `dir` (its `conf` and `db` files) into a new fjall
/// database, then moves sled's files to `dir/sled-migrated/` (kept, not deleted: the operator
/// removes them once satisfied). Does nothing when there is no sled store.
///
/// Crash-safe: the copy is built in `fjall.migrating` and renamed to `fjall` only once
/// complete and persisted; a copy left unfinished by a crash is made again from the start, and
/// sled's files are moved only after the rename.
///
/// Errors: sled's or fjall's, or the file system's, as text.
fn migrate_from_sled(dir: &Path) -> Result<(), String> {
    let target = dir.join(FJALL_DIR);
    let has_sled = dir.join("conf").is_file() && dir.join("db").is_file();
    if !has_sled {
        return Ok(());
    }
    if !target.exists() {
        let partial = dir.join("fjall.migrating");
        if partial.exists() {
            std::fs::remove_dir_all(&partial)
                .map_err(|e| format!("removing {}: {e}", partial.display()))?;
        }
        let sled_db = sled::Config::new()
            .path(dir)
            .open()
            .map_err(|e| format!("opening the sled store to migrate it: {e}"))?;
        let db = fjall::Database::builder(&partial)
            .open()
            .map_err(|e| format!("creating {}: {e}", partial.display()))?;
        let mut copied = 0usize;
        for name in TREE_NAMES {
            let from = sled_db
                .open_tree(name)
                .map_err(|e| format!("sled tree {name}: {e}"))?;
            let to = db
                .keyspace(name, fjall::KeyspaceCreateOptions::default)
                .map_err(|e| format!("fjall keyspace {name}: {e}"))?;
            let mut batch = db.batch();
            for item in from.iter() {
                let (k, v) = item.map_err(|e| format!("reading sled tree {name}: {e}"))?;
                batch.insert(&to, k.to_vec(), v.to_vec());
                copied += 1;
                if batch.len() >= 10_000 {
                    std::mem::replace(&mut batch, db.batch())
                        .commit()
                        .map_err(|e| format!("writing fjall keyspace {name}: {e}"))?;
                }
            }
            batch
                .commit()
                .map_err(|e| format!("writing fjall keyspace {name}: {e}"))?;
        }
        db.persist(fjall::PersistMode::SyncAll)
            .map_err(|e| format!("persisting {}: {e}", partial.display()))?;
        drop(db);
        drop(sled_db);
        std::fs::rename(&partial, &target).map_err(|e| {
            format!(
                "renaming {} to {}: {e}",
                partial.display(),
                target.display()
            )
        })?;
        tracing::info!(path = %dir.display(), values = copied, "embedded core store migrated from sled to fjall");
    }
    let keep = dir.join(SLED_MIGRATED_DIR);
    std::fs::create_dir_all(&keep).map_err(|e| format!("creating {}: {e}", keep.display()))?;
    let entries = std::fs::read_dir(dir).map_err(|e| format!("listing {}: {e}", dir.display()))?;
    for entry in entries {
        let entry = entry.map_err(|e| format!("listing {}: {e}", dir.display()))?;
        let name = entry.file_name();
        if is_sled_file(&name.to_string_lossy()) {
            std::fs::rename(entry.path(), keep.join(&name)).map_err(|e| {
                format!(
                    "moving {} to {}: {e}",
                    entry.path().display(),
                    keep.display()
                )
            })?;
        }
    }
    tracing::warn!(kept = %keep.display(), "sled's files of the migrated store were kept; remove them once the gateway runs well");
    Ok(())
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

    fn temp_dir(what: &str) -> PathBuf {
        std::env::temp_dir().join(format!("smppgw-{what}-{}", ulid::Ulid::new()))
    }

    /// Every commit keeps the in-memory queue index what the `queues` tree holds, and a store
    /// opened again reads the same index back from the tree.
    #[test]
    fn the_queue_index_follows_commits_and_is_read_back_at_open() {
        let dir = temp_dir("index");
        let dest = QueueName::Dest("carrier".into());
        let source = QueueName::Source("partner".into());
        let entry = |at, state| QueueEntry {
            available_at_ms: at,
            state,
        };
        let snapshot = |index: &QueueIndex| -> Vec<(QueueName, String, QueueEntry)> {
            index
                .queues()
                .flat_map(|(q, m)| m.iter().map(move |(id, e)| (q.clone(), id.clone(), *e)))
                .collect()
        };
        let expected = {
            let store = Store::open(&dir).unwrap();
            let mut index = store.lock();
            let mut tx = store.begin();
            tx.put(
                TreeId::Queues,
                dest.key("01B"),
                entry(5, EntryState::Ready).encode(),
            );
            tx.put(
                TreeId::Queues,
                dest.key("01A"),
                entry(7, EntryState::Leased).encode(),
            );
            tx.put(
                TreeId::Queues,
                source.key("01C"),
                entry(9, EntryState::Delayed).encode(),
            );
            tx.commit(&mut index).unwrap();
            let mut tx = store.begin();
            tx.del(TreeId::Queues, source.key("01C"));
            tx.put(
                TreeId::Queues,
                dest.key("01B"),
                entry(6, EntryState::Leased).encode(),
            );
            tx.commit(&mut index).unwrap();
            let seen = snapshot(&index);
            assert_eq!(
                seen,
                vec![
                    (
                        dest.clone(),
                        "01A".to_string(),
                        entry(7, EntryState::Leased)
                    ),
                    (
                        dest.clone(),
                        "01B".to_string(),
                        entry(6, EntryState::Leased)
                    ),
                ],
                "oldest id first, the removal and the rewrite applied"
            );
            assert_eq!(index.entries(&source).count(), 0);
            assert_eq!(store.tree(TreeId::Queues).len().unwrap(), 2);
            seen
        };
        let store = Store::open(&dir).unwrap();
        assert_eq!(snapshot(&store.lock()), expected);
        drop(store);
        let _ = std::fs::remove_dir_all(&dir);
    }

    /// A store that sled left is copied into fjall once: every tree's values are there, the
    /// queue index is read from them, sled's files are kept aside in `sled-migrated/`, and
    /// opening again neither copies nor loses anything.
    #[test]
    fn a_sled_store_is_migrated_once_and_kept_aside() {
        let dir = temp_dir("migrate");
        let queue = QueueName::Dest("carrier".into());
        let ready = QueueEntry {
            available_at_ms: 42,
            state: EntryState::Ready,
        };
        {
            let db = sled::Config::new().path(&dir).open().unwrap();
            let messages = db.open_tree("messages").unwrap();
            for i in 0..25_000u32 {
                messages
                    .insert(format!("m{i:05}"), format!("{{\"n\":{i}}}").as_bytes())
                    .unwrap();
            }
            db.open_tree("queues")
                .unwrap()
                .insert(queue.key("m00007"), ready.encode())
                .unwrap();
            db.open_tree("callbacks")
                .unwrap()
                .insert("cb1", &b"{}"[..])
                .unwrap();
            db.flush().unwrap();
        }
        assert!(dir.join("db").is_file() && dir.join("conf").is_file());
        // What a crash in the middle of an earlier copy leaves: made again from the start.
        std::fs::create_dir_all(dir.join("fjall.migrating").join("unfinished")).unwrap();
        for round in 0..2 {
            let store = Store::open(&dir).unwrap();
            let messages = store.tree(TreeId::Messages);
            assert_eq!(messages.len().unwrap(), 25_000, "round {round}");
            assert_eq!(
                messages.get(b"m24999").unwrap().as_deref(),
                Some(&b"{\"n\":24999}"[..])
            );
            assert_eq!(store.tree(TreeId::Callbacks).len().unwrap(), 1);
            let index = store.lock();
            let entries: Vec<_> = index.entries(&queue).collect();
            assert_eq!(entries, vec![(&"m00007".to_string(), &ready)]);
            drop(index);
            drop(store);
            assert!(!dir.join("db").exists() && !dir.join("conf").exists());
            assert!(dir.join(SLED_MIGRATED_DIR).join("db").is_file());
            assert!(dir.join(FJALL_DIR).is_dir() && !dir.join("fjall.migrating").exists());
        }
        let _ = std::fs::remove_dir_all(&dir);
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
                    .insert(&i.to_be_bytes(), b"x")
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
            (1..400).contains(&started),
            "{started} flushes for 400 callers: no grouping"
        );
        assert_eq!(store.tree(TreeId::Messages).len().unwrap(), 400);
        drop(store);
        let _ = std::fs::remove_dir_all(&dir);
    }
}
