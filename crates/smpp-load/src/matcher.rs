//! Message ids given in `submit_sm_resp` and receipts received for them, across every session
//! of a run: what is lost (a receipt missing) and what is duplicated (an id given twice, two
//! receipts for one id).
//!
//! Ids are kept as 64-bit FNV-1a hashes (8 octets each; two distinct ids collide with
//! probability ~n²/2⁶⁵, 3·10⁻⁶ at 10 million) in 64 shards, each behind its own mutex, so that
//! the readers of several sessions rarely wait for each other. A receipt can overtake the
//! response of its message when the two come on different sessions; it is then remembered and
//! matched when the id is given.

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;

use serde::Serialize;

const SHARDS: usize = 64;

/// Identity hasher: the keys are hashes already.
#[derive(Default)]
struct IdHasher(u64);

impl Hasher for IdHasher {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for b in bytes {
            self.0 = (self.0 << 8) | u64::from(*b);
        }
    }
    fn write_u64(&mut self, n: u64) {
        self.0 = n;
    }
}

type Map = HashMap<u64, State, BuildHasherDefault<IdHasher>>;

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum State {
    /// Given in a response, no receipt yet.
    Given,
    /// Given and receipted.
    Receipted,
    /// A receipt came before any response gave the id.
    ReceiptFirst,
}

/// The 64-bit FNV-1a hash of an id, with a final mix so shards are spread evenly.
pub fn id_hash(id: &[u8]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in id {
        h ^= u64::from(*b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    // splitmix64 finaliser
    h ^= h >> 30;
    h = h.wrapping_mul(0xbf58_476d_1ce4_e5b9);
    h ^= h >> 27;
    h = h.wrapping_mul(0x94d0_49bb_1331_11eb);
    h ^ (h >> 31)
}

/// Ids and receipts of one run, shared by every session (`Sync`).
pub struct Matcher {
    shards: Vec<Mutex<Map>>,
    given: AtomicU64,
    duplicate_ids: AtomicU64,
    receipts: AtomicU64,
    duplicate_receipts: AtomicU64,
}

impl Default for Matcher {
    fn default() -> Self {
        Matcher::new()
    }
}

/// What the matcher counted.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct MatchCounts {
    /// Distinct ids given in `submit_sm_resp` with `ESME_ROK`.
    pub ids_given: u64,
    /// Ids given a second time (by any session).
    pub duplicate_ids: u64,
    /// Receipts matched to a distinct given id (first receipt of each id).
    pub receipts_matched: u64,
    /// Receipts for an id already receipted.
    pub duplicate_receipts: u64,
    /// Receipts whose id no response gave (at the time of the count).
    pub unknown_receipts: u64,
    /// Given ids without a receipt.
    pub missing_receipts: u64,
}

impl Matcher {
    /// An empty matcher.
    pub fn new() -> Self {
        Matcher {
            shards: (0..SHARDS).map(|_| Mutex::new(Map::default())).collect(),
            given: AtomicU64::new(0),
            duplicate_ids: AtomicU64::new(0),
            receipts: AtomicU64::new(0),
            duplicate_receipts: AtomicU64::new(0),
        }
    }

    fn shard(&self, h: u64) -> std::sync::MutexGuard<'_, Map> {
        self.shards[(h % SHARDS as u64) as usize]
            .lock()
            .unwrap_or_else(|p| p.into_inner())
    }

    /// An id given in a `submit_sm_resp` (`ESME_ROK`). Returns `false` when it was given before
    /// (a duplicate id).
    pub fn given(&self, id: &[u8]) -> bool {
        let h = id_hash(id);
        let mut m = self.shard(h);
        match m.get(&h).copied() {
            None => {
                m.insert(h, State::Given);
                drop(m);
                self.given.fetch_add(1, Ordering::Relaxed);
                true
            }
            Some(State::ReceiptFirst) => {
                m.insert(h, State::Receipted);
                drop(m);
                self.given.fetch_add(1, Ordering::Relaxed);
                self.receipts.fetch_add(1, Ordering::Relaxed);
                true
            }
            Some(_) => {
                drop(m);
                self.duplicate_ids.fetch_add(1, Ordering::Relaxed);
                false
            }
        }
    }

    /// A receipt for `id`. Returns `false` when the id had a receipt already (a duplicate).
    pub fn receipt(&self, id: &[u8]) -> bool {
        let h = id_hash(id);
        let mut m = self.shard(h);
        match m.get(&h).copied() {
            Some(State::Given) => {
                m.insert(h, State::Receipted);
                drop(m);
                self.receipts.fetch_add(1, Ordering::Relaxed);
                true
            }
            None => {
                m.insert(h, State::ReceiptFirst);
                true
            }
            Some(_) => {
                drop(m);
                self.duplicate_receipts.fetch_add(1, Ordering::Relaxed);
                false
            }
        }
    }

    /// Receipts matched so far (cheap: one atomic load; for progress and completion).
    pub fn receipts_matched(&self) -> u64 {
        self.receipts.load(Ordering::Relaxed)
    }

    /// Every count; walks the shards for the unknown receipts.
    pub fn counts(&self) -> MatchCounts {
        let unknown = self
            .shards
            .iter()
            .map(|s| {
                let m = s.lock().unwrap_or_else(|p| p.into_inner());
                m.values().filter(|v| **v == State::ReceiptFirst).count() as u64
            })
            .sum();
        let ids_given = self.given.load(Ordering::Relaxed);
        let receipts_matched = self.receipts.load(Ordering::Relaxed);
        MatchCounts {
            ids_given,
            duplicate_ids: self.duplicate_ids.load(Ordering::Relaxed),
            receipts_matched,
            duplicate_receipts: self.duplicate_receipts.load(Ordering::Relaxed),
            unknown_receipts: unknown,
            missing_receipts: ids_given.saturating_sub(receipts_matched),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn receipts_match_given_ids_and_duplicates_are_counted() {
        let m = Matcher::new();
        assert!(m.given(b"a1"));
        assert!(m.given(b"a2"));
        assert!(m.given(b"a3"));
        assert!(!m.given(b"a2"), "an id given twice");
        assert!(m.receipt(b"a1"));
        assert!(!m.receipt(b"a1"), "a second receipt for a1");
        assert!(m.receipt(b"a3"));
        let c = m.counts();
        assert_eq!(
            c,
            MatchCounts {
                ids_given: 3,
                duplicate_ids: 1,
                receipts_matched: 2,
                duplicate_receipts: 1,
                unknown_receipts: 0,
                missing_receipts: 1,
            }
        );
    }

    #[test]
    fn a_receipt_before_its_response_is_matched_later() {
        let m = Matcher::new();
        assert!(m.receipt(b"early"));
        assert_eq!(m.counts().unknown_receipts, 1);
        assert_eq!(m.receipts_matched(), 0);
        assert!(m.given(b"early"));
        let c = m.counts();
        assert_eq!(
            (
                c.ids_given,
                c.receipts_matched,
                c.unknown_receipts,
                c.missing_receipts
            ),
            (1, 1, 0, 0)
        );
        assert!(!m.receipt(b"early"), "then a second receipt is a duplicate");
        assert!(!m.given(b"early"), "and the id given again a duplicate id");
    }

    #[test]
    fn a_receipt_for_an_id_never_given_stays_unknown() {
        let m = Matcher::new();
        m.given(b"x");
        m.receipt(b"y");
        let c = m.counts();
        assert_eq!(
            (c.unknown_receipts, c.missing_receipts, c.receipts_matched),
            (1, 1, 0)
        );
    }

    #[test]
    fn hashes_differ_for_close_ids() {
        let ids: Vec<Vec<u8>> = (0..10_000u32)
            .map(|i| format!("{i:x}").into_bytes())
            .collect();
        let mut hashes: Vec<u64> = ids.iter().map(|i| id_hash(i)).collect();
        hashes.sort_unstable();
        hashes.dedup();
        assert_eq!(hashes.len(), 10_000);
    }

    #[test]
    fn concurrent_sessions_count_exactly() {
        let m = std::sync::Arc::new(Matcher::new());
        let threads: Vec<_> = (0..4)
            .map(|t| {
                let m = m.clone();
                std::thread::spawn(move || {
                    for i in 0..5_000u32 {
                        let id = format!("{t}-{i}");
                        m.given(id.as_bytes());
                        m.receipt(id.as_bytes());
                    }
                })
            })
            .collect();
        for t in threads {
            t.join().unwrap();
        }
        let c = m.counts();
        assert_eq!(
            (
                c.ids_given,
                c.receipts_matched,
                c.duplicate_ids,
                c.duplicate_receipts
            ),
            (20_000, 20_000, 0, 0)
        );
    }
}
