//! Carrier message ids: how a receipt's `receipted_message_id` is matched with the
//! `smsc_message_id` of a `submitted` event on the same client bind.
//!
//! Carriers are not consistent: some write the id in hexadecimal in `submit_sm_resp` and in
//! decimal in the receipt (or the reverse), some pad with zeros. So an id is indexed under up to
//! three forms: `X` + the id as written (trimmed), `D` + its value read as a decimal number, and
//! `H` + its value read as hexadecimal (values as decimal text; ids whose value does not fit 128
//! bits are indexed as written only). Looking up tries, best first: the same text, the same
//! number in the same base, then the same number across bases.

/// How a lookup key relates the two ids.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Match {
    /// The same text.
    Exact,
    /// The same number written in the same base (leading zeros or letter case differ).
    SameBase,
    /// The same number, one id written in decimal and the other in hexadecimal.
    CrossBase,
}

fn decimal(id: &str) -> Option<u128> {
    if id.is_empty() || !id.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    id.parse().ok()
}

fn hexadecimal(id: &str) -> Option<u128> {
    if id.is_empty() || !id.bytes().all(|b| b.is_ascii_hexdigit()) {
        return None;
    }
    let digits = id.trim_start_matches('0');
    if digits.is_empty() {
        return Some(0);
    }
    u128::from_str_radix(digits, 16).ok()
}

/// True when `id` can only be hexadecimal (it has a letter a–f).
pub(crate) fn has_hex_letter(id: &str) -> bool {
    id.bytes().any(|b| matches!(b, b'a'..=b'f' | b'A'..=b'F'))
}

fn key(bind: &str, form: u8, body: &str) -> Vec<u8> {
    let mut k = Vec::with_capacity(bind.len() + body.len() + 2);
    k.extend_from_slice(bind.as_bytes());
    k.push(0);
    k.push(form);
    k.extend_from_slice(body.as_bytes());
    k
}

/// The keys under which carrier id `id` of client bind `bind` is indexed.
pub(crate) fn index_keys(bind: &str, id: &str) -> Vec<Vec<u8>> {
    let id = id.trim();
    let mut keys = vec![key(bind, b'X', id)];
    if let Some(n) = decimal(id) {
        keys.push(key(bind, b'D', &n.to_string()));
    }
    if let Some(n) = hexadecimal(id) {
        keys.push(key(bind, b'H', &n.to_string()));
    }
    keys
}

/// The keys under which a counterpart of carrier id `id` may be indexed, best match first.
/// The relation is symmetric: it serves a receipt looking for its MT and an MT looking for
/// receipts that came before its `submitted` event.
pub(crate) fn lookup_keys(bind: &str, id: &str) -> Vec<(Vec<u8>, Match)> {
    let id = id.trim();
    let dec = decimal(id).map(|n| n.to_string());
    let hex = hexadecimal(id).map(|n| n.to_string());
    let mut out: Vec<(Vec<u8>, Match)> = vec![(key(bind, b'X', id), Match::Exact)];
    let candidates = [
        (b'D', dec.as_deref(), Match::SameBase),
        (b'H', hex.as_deref(), Match::SameBase),
        (b'H', dec.as_deref(), Match::CrossBase),
        (b'D', hex.as_deref(), Match::CrossBase),
    ];
    for (form, body, m) in candidates {
        if let Some(body) = body {
            let k = key(bind, form, body);
            if !out.iter().any(|(seen, _)| *seen == k) {
                out.push((k, m));
            }
        }
    }
    out
}

/// Whether a match of `m` between ids `a` and `b` is believable on its own. A cross-base match
/// between two all-digit ids is a guess (`"10"` in hex is `"16"` in decimal, and both are
/// ordinary decimal ids), so callers accept it only with more evidence.
pub(crate) fn convincing(m: Match, a: &str, b: &str) -> bool {
    match m {
        Match::Exact | Match::SameBase => true,
        Match::CrossBase => has_hex_letter(a) || has_hex_letter(b),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Whether ids `a` (indexed) and `b` (looked up) meet, and how.
    fn meet(a: &str, b: &str) -> Option<Match> {
        let idx = index_keys("bind", a);
        lookup_keys("bind", b)
            .into_iter()
            .find(|(k, _)| idx.contains(k))
            .map(|(_, m)| m)
    }

    #[test]
    fn exact_first_then_same_number() {
        assert_eq!(meet("abc-1", "abc-1"), Some(Match::Exact));
        assert_eq!(meet("00123", "123"), Some(Match::SameBase));
        assert_eq!(meet("0A1B", "a1b"), Some(Match::SameBase));
        assert_eq!(meet("abc-1", "abc-2"), None);
    }

    #[test]
    fn hex_and_decimal_meet_both_ways() {
        // 0x1F4 = 500
        assert_eq!(meet("1F4", "500"), Some(Match::CrossBase));
        assert_eq!(meet("500", "1f4"), Some(Match::CrossBase));
        assert_eq!(meet("0001f4", "0500"), Some(Match::CrossBase));
        assert_eq!(meet("1F4", "501"), None);
        assert!(convincing(Match::CrossBase, "1F4", "500"));
        // 0x10 = 16: plausible only with more evidence.
        assert_eq!(meet("10", "16"), Some(Match::CrossBase));
        assert!(!convincing(Match::CrossBase, "10", "16"));
    }

    #[test]
    fn binds_do_not_meet_and_huge_ids_match_exactly_only() {
        let idx = index_keys("a", "123");
        assert!(!lookup_keys("b", "123").iter().any(|(k, _)| idx.contains(k)));
        let big = "9".repeat(60);
        assert_eq!(index_keys("a", &big).len(), 1);
        assert_eq!(meet(&big, &big), Some(Match::Exact));
    }
}
