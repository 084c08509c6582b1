//! Delivery-receipt text (SMPP 3.4 Appendix B), carried in the `short_message` (or
//! `message_payload`) of a `deliver_sm` whose `esm_class` message type is 0x04:
//!
//! ```text
//! id:IIIIIIIIII sub:SSS dlvrd:DDD submit date:YYMMDDhhmm done date:YYMMDDhhmm stat:DDDDDDD err:E text: . . .
//! ```
//!
//! The format is a convention, not a grammar (v5.0 calls it vendor specific), so the parser is
//! tolerant: keys in any case, fields missing or extra, `text` as the free tail. Prefer the
//! `receipted_message_id` / `message_state` TLVs when present ([`crate::tlv::Tlvs`]).

/// The fields of a delivery receipt (SMPP 3.4 Appendix B, Table B-1), as text. Empty strings for
/// fields the receipt did not have.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct DeliveryReceipt {
    /// `id`: the SMSC message id (Appendix B says 10 decimal digits; many SMSCs use hex or
    /// longer ids; kept verbatim, leading zeros included).
    pub id: String,
    /// `sub`: number of messages originally submitted (3 digits).
    pub sub: String,
    /// `dlvrd`: number of messages delivered (3 digits).
    pub dlvrd: String,
    /// `submit date`: `YYMMDDhhmm` (some SMSCs add seconds: 12 digits).
    pub submit_date: String,
    /// `done date`: `YYMMDDhhmm` when the final state was reached.
    pub done_date: String,
    /// `stat`: final status, e.g. `DELIVRD` (Table B-2).
    pub stat: String,
    /// `err`: network- or SMSC-specific error code, usually 3 digits.
    pub err: String,
    /// `text`: the first 20 characters of the original message (the tail of the receipt).
    pub text: String,
}

/// Keys recognised before `text:`, lower case, with the field each fills.
const KEYS: &[(&str, Key)] = &[
    ("id:", Key::Id),
    ("sub:", Key::Sub),
    ("dlvrd:", Key::Dlvrd),
    ("submit date:", Key::SubmitDate),
    ("submit_date:", Key::SubmitDate),
    ("submitdate:", Key::SubmitDate),
    ("done date:", Key::DoneDate),
    ("done_date:", Key::DoneDate),
    ("donedate:", Key::DoneDate),
    ("stat:", Key::Stat),
    ("err:", Key::Err),
];

#[derive(Clone, Copy, PartialEq, Eq)]
enum Key {
    Id,
    Sub,
    Dlvrd,
    SubmitDate,
    DoneDate,
    Stat,
    Err,
}

/// Byte offset of the first occurrence of `key` in `hay` (both lower-case ASCII where it
/// matters) that starts the string or follows whitespace, searching `hay[..limit]`.
fn find_key(hay: &str, key: &str, limit: usize) -> Option<usize> {
    let mut from = 0;
    while let Some(pos) = hay[from..limit].find(key).map(|p| p + from) {
        let boundary = pos == 0 || hay[..pos].ends_with(|c: char| c.is_whitespace());
        if boundary {
            return Some(pos);
        }
        from = pos + 1;
        // `find` returned a char boundary; step past it safely.
        while !hay.is_char_boundary(from) {
            from += 1;
        }
    }
    None
}

impl DeliveryReceipt {
    /// Parses receipt text (SMPP 3.4 Appendix B). Keys are matched case-insensitively at the
    /// start of the text or after whitespace (`Text:`/`text:`, `submit date:`/`submit_date:`);
    /// fields may be missing, reordered or mixed with vendor keys; each value runs to the next
    /// whitespace; `text:` takes the whole tail, spaces and colons included.
    ///
    /// Returns `None` unless an `id:` key is present.
    pub fn parse(s: &str) -> Option<DeliveryReceipt> {
        // ASCII lower-casing keeps byte offsets, so positions found in `lower` index `s`.
        let lower = s.to_ascii_lowercase();
        let (text_pos, text) = match find_key(&lower, "text:", lower.len()) {
            Some(p) => (p, s[p + 5..].to_string()),
            None => (s.len(), String::new()),
        };
        let mut r = DeliveryReceipt {
            text,
            ..DeliveryReceipt::default()
        };
        let mut have_id = false;
        for &(key, which) in KEYS {
            let Some(pos) = find_key(&lower, key, text_pos) else {
                continue;
            };
            let value = Self::value_at(&s[..text_pos], pos + key.len());
            let slot = match which {
                Key::Id => {
                    have_id = true;
                    &mut r.id
                }
                Key::Sub => &mut r.sub,
                Key::Dlvrd => &mut r.dlvrd,
                Key::SubmitDate => &mut r.submit_date,
                Key::DoneDate => &mut r.done_date,
                Key::Stat => &mut r.stat,
                Key::Err => &mut r.err,
            };
            if slot.is_empty() {
                *slot = value.to_string();
            }
        }
        have_id.then_some(r)
    }

    /// The value starting at byte `start` of `s`: up to the next whitespace. A value separated
    /// from its key by spaces (`id: 123`) is accepted unless the next word is itself a key
    /// (contains ':'), in which case the value is empty.
    fn value_at(s: &str, start: usize) -> &str {
        let rest = &s[start..];
        let trimmed = rest.trim_start();
        let word_end = trimmed.find(char::is_whitespace).unwrap_or(trimmed.len());
        let word = &trimmed[..word_end];
        if trimmed.len() != rest.len() && word.contains(':') {
            ""
        } else {
            word
        }
    }

    /// The standard form (SMPP 3.4 Appendix B):
    /// `id:{id} sub:{sub} dlvrd:{dlvrd} submit date:{submit_date} done date:{done_date} stat:{stat} err:{err} text:{text}`.
    ///
    /// `sub`, `dlvrd` and `err` are zero-padded to 3 digits when numeric, and written as `000`
    /// when empty; `text` is cut to its first 20 characters.
    pub fn format(&self) -> String {
        fn pad3(v: &str) -> String {
            if v.is_empty() {
                "000".to_string()
            } else if v.bytes().all(|b| b.is_ascii_digit()) {
                format!("{v:0>3}")
            } else {
                v.to_string()
            }
        }
        let text: String = self.text.chars().take(20).collect();
        format!(
            "id:{} sub:{} dlvrd:{} submit date:{} done date:{} stat:{} err:{} text:{}",
            self.id,
            pad3(&self.sub),
            pad3(&self.dlvrd),
            self.submit_date,
            self.done_date,
            self.stat,
            pad3(&self.err),
            text
        )
    }

    /// The `message_state` (SMPP 3.4 §5.2.28) matching `stat`, case-insensitively: ENROUTE 1,
    /// DELIVRD 2, EXPIRED 3, DELETED 4, UNDELIV 5, ACCEPTD 6, UNKNOWN 7, REJECTD 8; the
    /// in-progress spellings ACKED, BUFFRED, BUFFERD → 1; also the long forms (DELIVERED,
    /// UNDELIVERABLE, ACCEPTED, REJECTED, …) and v5.0 SCHEDULED 0 / SKIPPED 9. `None` otherwise.
    pub fn message_state(&self) -> Option<u8> {
        let stat = self.stat.trim().to_ascii_uppercase();
        Some(match stat.as_str() {
            "SCHEDULED" => 0,
            "ENROUTE" | "ACKED" | "BUFFRED" | "BUFFERD" | "BUFFERED" => 1,
            "DELIVRD" | "DELIVERED" => 2,
            "EXPIRED" => 3,
            "DELETED" => 4,
            "UNDELIV" | "UNDELIVERABLE" => 5,
            "ACCEPTD" | "ACCEPTED" => 6,
            "UNKNOWN" => 7,
            "REJECTD" | "REJECTED" => 8,
            "SKIPPED" => 9,
            _ => return None,
        })
    }

    /// `true` when `stat` names a final state (message_state 2–6, 8, 9; SMPP 3.4 §5.2.28, v5.0
    /// §4.7.15).
    pub fn is_final(&self) -> bool {
        matches!(self.message_state(), Some(2..=6 | 8 | 9))
    }
}

/// The Appendix B `stat` word for a `message_state` (SMPP 3.4 §5.2.28): 1 → `ENROUTE`,
/// 2 → `DELIVRD`, 3 → `EXPIRED`, 4 → `DELETED`, 5 → `UNDELIV`, 6 → `ACCEPTD`, 7 → `UNKNOWN`,
/// 8 → `REJECTD`; v5.0's 0 (scheduled) → `ENROUTE`, 9 → `SKIPPED`; anything else → `UNKNOWN`.
pub fn stat_for_message_state(state: u8) -> &'static str {
    match state {
        0 | 1 => "ENROUTE",
        2 => "DELIVRD",
        3 => "EXPIRED",
        4 => "DELETED",
        5 => "UNDELIV",
        6 => "ACCEPTD",
        8 => "REJECTD",
        9 => "SKIPPED",
        _ => "UNKNOWN",
    }
}

/// A receipt date `YYMMDDhhmm` (SMPP 3.4 Appendix B) from calendar fields; the year is taken
/// modulo 100. Values are not validated, only zero-padded to 2 digits each.
pub fn receipt_date(year: i32, month: u8, day: u8, hour: u8, minute: u8) -> String {
    format!(
        "{:02}{:02}{:02}{:02}{:02}",
        year.rem_euclid(100),
        month,
        day,
        hour,
        minute
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_standard() {
        let r = DeliveryReceipt::parse(
            "id:0123456789 sub:001 dlvrd:001 submit date:2401311200 done date:2401311201 stat:DELIVRD err:000 Text:Hello world: hi",
        )
        .unwrap();
        assert_eq!(r.id, "0123456789");
        assert_eq!(r.sub, "001");
        assert_eq!(r.dlvrd, "001");
        assert_eq!(r.submit_date, "2401311200");
        assert_eq!(r.done_date, "2401311201");
        assert_eq!(r.stat, "DELIVRD");
        assert_eq!(r.err, "000");
        assert_eq!(r.text, "Hello world: hi");
        assert_eq!(r.message_state(), Some(2));
        assert!(r.is_final());
    }

    #[test]
    fn parse_variations() {
        // Hex id, lower-case text key, 12-digit dates, upper-case keys elsewhere.
        let r = DeliveryReceipt::parse(
            "ID:7f3a9c0e SUB:1 DLVRD:0 Submit Date:240131120059 DONE DATE:240131120130 STAT:UNDELIV ERR:0B1 text:x",
        )
        .unwrap();
        assert_eq!(r.id, "7f3a9c0e");
        assert_eq!(r.sub, "1");
        assert_eq!(r.submit_date, "240131120059");
        assert_eq!(r.done_date, "240131120130");
        assert_eq!(r.stat, "UNDELIV");
        assert_eq!(r.err, "0B1");
        assert_eq!(r.text, "x");
        assert_eq!(r.message_state(), Some(5));

        // Missing fields, vendor key, no text.
        let r = DeliveryReceipt::parse("id:42 vendor:abc stat:ACKED").unwrap();
        assert_eq!(r.id, "42");
        assert_eq!(r.sub, "");
        assert_eq!(r.stat, "ACKED");
        assert_eq!(r.text, "");
        assert_eq!(r.message_state(), Some(1));
        assert!(!r.is_final());

        // Keys inside the text tail are not fields; "xid:" is not "id:".
        let r = DeliveryReceipt::parse("xid:9 id:1 stat:DELIVRD text:stat:REJECTD id:2").unwrap();
        assert_eq!(r.id, "1");
        assert_eq!(r.stat, "DELIVRD");
        assert_eq!(r.text, "stat:REJECTD id:2");

        // Space after the colon; empty value followed by another key.
        let r = DeliveryReceipt::parse("id: 77 sub: dlvrd:001").unwrap();
        assert_eq!(r.id, "77");
        assert_eq!(r.sub, "");
        assert_eq!(r.dlvrd, "001");

        // underscore date keys
        let r = DeliveryReceipt::parse("id:1 submit_date:2401010000 done_date:2401010001").unwrap();
        assert_eq!(r.submit_date, "2401010000");
        assert_eq!(r.done_date, "2401010001");
    }

    #[test]
    fn parse_needs_id() {
        assert_eq!(DeliveryReceipt::parse("stat:DELIVRD err:000"), None);
        assert_eq!(DeliveryReceipt::parse(""), None);
        assert_eq!(DeliveryReceipt::parse("text:id:5"), None);
        assert!(DeliveryReceipt::parse("Ünïcode id:5 text:é").is_some());
    }

    #[test]
    fn format_standard_form() {
        let r = DeliveryReceipt {
            id: "123".into(),
            sub: "1".into(),
            dlvrd: "1".into(),
            submit_date: receipt_date(2024, 1, 31, 12, 0),
            done_date: receipt_date(2024, 1, 31, 12, 5),
            stat: stat_for_message_state(2).into(),
            err: "0".into(),
            text: "This text is longer than twenty characters".into(),
        };
        let s = r.format();
        assert_eq!(
            s,
            "id:123 sub:001 dlvrd:001 submit date:2401311200 done date:2401311205 stat:DELIVRD err:000 text:This text is longer "
        );
        let back = DeliveryReceipt::parse(&s).unwrap();
        assert_eq!(back.id, "123");
        assert_eq!(back.sub, "001");
        assert_eq!(back.done_date, "2401311205");
        assert_eq!(back.text, "This text is longer ");
        let odd = DeliveryReceipt {
            id: "x".into(),
            err: "ABC".into(),
            ..Default::default()
        };
        assert_eq!(
            odd.format(),
            "id:x sub:000 dlvrd:000 submit date: done date: stat: err:ABC text:"
        );
    }

    #[test]
    fn states_and_dates() {
        for (state, stat) in [
            (1, "ENROUTE"),
            (2, "DELIVRD"),
            (3, "EXPIRED"),
            (4, "DELETED"),
            (5, "UNDELIV"),
            (6, "ACCEPTD"),
            (7, "UNKNOWN"),
            (8, "REJECTD"),
        ] {
            assert_eq!(stat_for_message_state(state), stat);
            let r = DeliveryReceipt {
                stat: stat.into(),
                ..Default::default()
            };
            assert_eq!(r.message_state(), Some(state));
        }
        for s in ["BUFFRED", "bufferd", "acked"] {
            let r = DeliveryReceipt {
                stat: s.into(),
                ..Default::default()
            };
            assert_eq!(r.message_state(), Some(1), "{s}");
        }
        let r = DeliveryReceipt {
            stat: "WHATEVER".into(),
            ..Default::default()
        };
        assert_eq!(r.message_state(), None);
        assert_eq!(stat_for_message_state(200), "UNKNOWN");
        assert_eq!(receipt_date(1999, 12, 31, 23, 59), "9912312359");
        assert_eq!(receipt_date(2005, 3, 4, 5, 6), "0503040506");
    }
}
