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

/// A receipt date (SMPP 3.4 Appendix B `submit date` / `done date`) read from the forms carriers
/// send: `YYMMDDhhmm` (10 digits, the spec's), `YYMMDDhhmmss` (12) or `YYYYMMDDhhmmss` (14).
/// Two-digit years are taken as 2000–2099.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ReceiptDate {
    /// Full year, e.g. 2024.
    pub year: u16,
    /// 1–12.
    pub month: u8,
    /// 1–31.
    pub day: u8,
    /// 0–23.
    pub hour: u8,
    /// 0–59.
    pub minute: u8,
    /// 0–59 (0 when the form has no seconds).
    pub second: u8,
}

impl ReceiptDate {
    /// Parses 10, 12 or 14 digits (surrounding whitespace ignored); `None` for any other length,
    /// non-digits or a field out of range.
    pub fn parse(s: &str) -> Option<ReceiptDate> {
        let s = s.trim();
        if !s.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        let d = s.as_bytes();
        let two = |i: usize| (d[i] - b'0') * 10 + (d[i + 1] - b'0');
        let (year, rest) = match d.len() {
            10 | 12 => (2000 + u16::from(two(0)), 2),
            14 => (u16::from(two(0)) * 100 + u16::from(two(2)), 4),
            _ => return None,
        };
        let second = if d.len() == 10 { 0 } else { two(rest + 8) };
        let date = ReceiptDate {
            year,
            month: two(rest),
            day: two(rest + 2),
            hour: two(rest + 4),
            minute: two(rest + 6),
            second,
        };
        let valid = (1..=12).contains(&date.month)
            && (1..=31).contains(&date.day)
            && date.hour < 24
            && date.minute < 60
            && date.second < 60;
        valid.then_some(date)
    }

    /// The spec's form, `YYMMDDhhmm`.
    pub fn to_yymmddhhmm(&self) -> String {
        receipt_date(
            i32::from(self.year),
            self.month,
            self.day,
            self.hour,
            self.minute,
        )
    }
}

impl DeliveryReceipt {
    /// `submit date` read with [`ReceiptDate::parse`].
    pub fn submit_date(&self) -> Option<ReceiptDate> {
        ReceiptDate::parse(&self.submit_date)
    }

    /// `done date` read with [`ReceiptDate::parse`].
    pub fn done_date(&self) -> Option<ReceiptDate> {
        ReceiptDate::parse(&self.done_date)
    }
}

/// How a carrier writes message ids in its receipts compared with its `submit_sm_resp`, so that
/// receipts correlate with the messages they report (per-bind setting `receipt_id_format`;
/// facts §8.4, like Kannel's `msg-id-type`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default, Hash)]
pub enum ReceiptIdFormat {
    /// The receipt carries the id exactly as `submit_sm_resp` gave it (compared as text).
    #[default]
    AsSubmitted,
    /// The receipt writes the id in hexadecimal, `submit_sm_resp` gave it in decimal.
    Hex,
    /// The receipt writes the id in decimal, `submit_sm_resp` gave it in lower-case hexadecimal.
    Decimal,
    /// The receipt writes the id in decimal, `submit_sm_resp` gave it in upper-case hexadecimal.
    DecimalUpperHex,
}

impl ReceiptIdFormat {
    /// The configuration spelling: `"as_submitted"`, `"hex"`, `"decimal"`, `"decimal_upper_hex"`.
    pub fn as_str(self) -> &'static str {
        match self {
            ReceiptIdFormat::AsSubmitted => "as_submitted",
            ReceiptIdFormat::Hex => "hex",
            ReceiptIdFormat::Decimal => "decimal",
            ReceiptIdFormat::DecimalUpperHex => "decimal_upper_hex",
        }
    }

    /// Parses [`ReceiptIdFormat::as_str`]'s spellings, `None` for anything else.
    pub fn parse(s: &str) -> Option<ReceiptIdFormat> {
        Some(match s {
            "as_submitted" => ReceiptIdFormat::AsSubmitted,
            "hex" => ReceiptIdFormat::Hex,
            "decimal" => ReceiptIdFormat::Decimal,
            "decimal_upper_hex" => ReceiptIdFormat::DecimalUpperHex,
            _ => return None,
        })
    }

    /// The receipt's id written as `submit_sm_resp` wrote it, so the core finds the message:
    /// `Hex` reads the id as hexadecimal (any case, leading zeros) and writes it in decimal;
    /// `Decimal` reads decimal (leading zeros) and writes hexadecimal. An id that does not read
    /// in the expected base (or exceeds 128 bits) is returned as received, trimmed: a receipt
    /// is never dropped for its id.
    ///
    /// ```
    /// use smpp_codec::receipt::ReceiptIdFormat;
    /// assert_eq!(ReceiptIdFormat::Hex.to_submitted_form("00A1f"), "2591");
    /// assert_eq!(ReceiptIdFormat::Decimal.to_submitted_form("0002591"), "a1f");
    /// assert_eq!(ReceiptIdFormat::DecimalUpperHex.to_submitted_form("2591"), "A1F");
    /// assert_eq!(ReceiptIdFormat::AsSubmitted.to_submitted_form(" 0A1F "), "0A1F");
    /// ```
    pub fn to_submitted_form(self, receipt_id: &str) -> String {
        let id = receipt_id.trim();
        let digits = |radix: u32| {
            if id.is_empty() || !id.chars().all(|c| c.is_digit(radix)) {
                return None;
            }
            let v = id.trim_start_matches('0');
            if v.is_empty() {
                Some(0)
            } else {
                u128::from_str_radix(v, radix).ok()
            }
        };
        let converted = match self {
            ReceiptIdFormat::AsSubmitted => None,
            ReceiptIdFormat::Hex => digits(16).map(|n| n.to_string()),
            ReceiptIdFormat::Decimal => digits(10).map(|n| format!("{n:x}")),
            ReceiptIdFormat::DecimalUpperHex => digits(10).map(|n| format!("{n:X}")),
        };
        converted.unwrap_or_else(|| id.to_string())
    }
}

/// A receipt as the gateway reads it from a `deliver_sm` or `data_sm` (facts §8): the TLVs
/// `receipted_message_id`, `message_state` and `network_error_code` when present (preferred, as
/// v5.0 says the text is vendor specific), else the Appendix B text.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct ReceiptInfo {
    /// The carrier's id of the message, TLV first, in the form the bind's
    /// [`ReceiptIdFormat`] gives.
    pub message_id: String,
    /// `message_state` (TLV, else from `stat`), `None` when neither says.
    pub message_state: Option<u8>,
    /// `network_error_code` TLV as (network type, code).
    pub network_error_code: Option<(u8, u16)>,
    /// The text fields, when the user data held a receipt text.
    pub text: Option<DeliveryReceipt>,
}

impl ReceiptInfo {
    /// Reads a receipt from a PDU's TLVs and its user data decoded as text (`None` when there is
    /// none). `None` when neither gives an id: the PDU is not a readable receipt (hand it on as
    /// an MO rather than drop it). Works for receipts carried by TLVs only (empty text), by text
    /// only (v3.3 carriers), and in `data_sm` (text in `message_payload`).
    pub fn read(
        text: Option<&str>,
        tlvs: &crate::tlv::Tlvs,
        ids: ReceiptIdFormat,
    ) -> Option<ReceiptInfo> {
        let parsed = text.and_then(DeliveryReceipt::parse);
        let tlv_id = tlvs
            .receipted_message_id()
            .map(|c| c.to_str_lossy().trim().to_string())
            .filter(|s| !s.is_empty());
        let id = tlv_id.or_else(|| parsed.as_ref().map(|r| r.id.clone()))?;
        let message_state = tlvs
            .message_state()
            .or_else(|| parsed.as_ref().and_then(DeliveryReceipt::message_state));
        Some(ReceiptInfo {
            message_id: ids.to_submitted_form(&id),
            message_state,
            network_error_code: tlvs.network_error_code(),
            text: parsed,
        })
    }

    /// `true` when the state is final (message_state 2–6, 8, 9).
    pub fn is_final(&self) -> bool {
        matches!(self.message_state, Some(2..=6 | 8 | 9))
    }
}

/// The `deliver_sm` body of a receipt for a partner (SMPP 3.4 Appendix B, §4.6.1): `esm_class`
/// 0x04, the full standard text in `short_message` (data_coding 0, ASCII), and the TLVs
/// `receipted_message_id`, `message_state` and, when given, `network_error_code`. `source` and
/// `destination` are `(addr, ton, npi)`: the original message's destination and source
/// (swapped, facts §8.1).
pub fn receipt_deliver_sm(
    receipt: &DeliveryReceipt,
    message_state: u8,
    network_error_code: Option<(u8, u16)>,
    source: (&str, u8, u8),
    destination: (&str, u8, u8),
) -> crate::pdu::DeliverSm {
    use crate::tlv::{tags, TlvValue, Tlvs};
    let mut tlvs = Tlvs::new();
    // The id is at most 64 characters (C(65)); longer ids are cut so the TLV stays valid.
    let id: String = receipt.id.chars().take(64).collect();
    let _ = tlvs.push_value(tags::RECEIPTED_MESSAGE_ID, &TlvValue::Text(id.into()));
    let _ = tlvs.push_value(tags::MESSAGE_STATE, &TlvValue::U8(message_state));
    if let Some((network_type, error_code)) = network_error_code {
        let _ = tlvs.push_value(
            tags::NETWORK_ERROR_CODE,
            &TlvValue::NetworkErrorCode {
                network_type,
                error_code,
            },
        );
    }
    let text: String = receipt
        .format()
        .chars()
        .map(|c| {
            if c.is_ascii() && !c.is_ascii_control() {
                c
            } else {
                '?'
            }
        })
        .collect();
    crate::pdu::DeliverSm {
        source_addr: source.0.into(),
        source_addr_ton: source.1,
        source_addr_npi: source.2,
        destination_addr: destination.0.into(),
        dest_addr_ton: destination.1,
        dest_addr_npi: destination.2,
        esm_class: 0x04,
        data_coding: 0,
        short_message: bytes::Bytes::from(text),
        tlvs,
        ..crate::pdu::DeliverSm::default()
    }
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

    #[test]
    fn dates_in_every_form() {
        let d = ReceiptDate::parse("2401311205").unwrap();
        assert_eq!(
            (d.year, d.month, d.day, d.hour, d.minute, d.second),
            (2024, 1, 31, 12, 5, 0)
        );
        let d = ReceiptDate::parse("240131120559").unwrap();
        assert_eq!(d.second, 59);
        let d = ReceiptDate::parse("20240131120559").unwrap();
        assert_eq!((d.year, d.second), (2024, 59));
        assert_eq!(d.to_yymmddhhmm(), "2401311205");
        for bad in [
            "",
            "24013112",
            "2413311205",
            "2401321205",
            "2401312505",
            "240131120560",
            "24O1311205",
            "2024013112055",
        ] {
            assert_eq!(ReceiptDate::parse(bad), None, "{bad}");
        }
        let r = DeliveryReceipt::parse(
            "id:1 submit date:20240131120000 done date:240131120501 stat:DELIVRD",
        )
        .unwrap();
        assert_eq!(r.submit_date().unwrap().year, 2024);
        assert_eq!(r.done_date().unwrap().second, 1);
    }

    #[test]
    fn carrier_variations() {
        // Every variation of issue 3 §9 in one table: (text, id, stat, message_state, err, text).
        type Case<'a> = (&'a str, &'a str, &'a str, Option<u8>, &'a str, &'a str);
        let cases: &[Case<'_>] = &[
            ("id:1234567890 sub:001 dlvrd:001 submit date:2401311200 done date:2401311201 stat:DELIVRD err:000 Text:hi", "1234567890", "DELIVRD", Some(2), "000", "hi"),
            ("id:0000012345 sub:001 dlvrd:000 submit date:2401311200 done date:2401311201 stat:UNDELIV err:001 text:x", "0000012345", "UNDELIV", Some(5), "001", "x"),
            ("id:A1B2C3D4E5 stat:delivrd err:0", "A1B2C3D4E5", "delivrd", Some(2), "0", ""),
            ("ID:a1b2c3 SUB:1 DLVRD:1 SUBMIT DATE:240131120000 DONE DATE:240131120500 STAT:ACKED ERR:000", "a1b2c3", "ACKED", Some(1), "000", ""),
            ("id:77 stat:BUFFRED", "77", "BUFFRED", Some(1), "", ""),
            ("id:77 submit date:20240131120000 done date:20240131120500 stat:EXPIRED err:027 text:", "77", "EXPIRED", Some(3), "027", ""),
            ("id:5 dlvrd:001 stat:REJECTD err:099 smsc:xyz network:20801 text:Hello: world", "5", "REJECTD", Some(8), "099", "Hello: world"),
            ("stat:DELIVRD id:9 err:000", "9", "DELIVRD", Some(2), "000", ""),
        ];
        for &(text, id, stat, state, err, tail) in cases {
            let r = DeliveryReceipt::parse(text).unwrap_or_else(|| panic!("{text}"));
            assert_eq!(r.id, id, "{text}");
            assert_eq!(r.stat, stat, "{text}");
            assert_eq!(r.message_state(), state, "{text}");
            assert_eq!(r.err, err, "{text}");
            assert_eq!(r.text, tail, "{text}");
        }
    }

    #[test]
    fn id_formats() {
        use ReceiptIdFormat::*;
        assert_eq!(Hex.to_submitted_form("1a2B3c"), "1715004");
        assert_eq!(Hex.to_submitted_form("0001A2B3C"), "1715004");
        assert_eq!(Decimal.to_submitted_form("1715004"), "1a2b3c");
        assert_eq!(DecimalUpperHex.to_submitted_form("0001715004"), "1A2B3C");
        assert_eq!(Decimal.to_submitted_form("0"), "0");
        // Not in the expected base, or too large: kept as received.
        assert_eq!(Decimal.to_submitted_form("xyz-1"), "xyz-1");
        assert_eq!(Hex.to_submitted_form("g1"), "g1");
        let huge = "9".repeat(50);
        assert_eq!(Decimal.to_submitted_form(&huge), huge);
        assert_eq!(AsSubmitted.to_submitted_form("0A"), "0A");
        for f in [AsSubmitted, Hex, Decimal, DecimalUpperHex] {
            assert_eq!(ReceiptIdFormat::parse(f.as_str()), Some(f));
        }
        assert_eq!(ReceiptIdFormat::parse("HEX"), None);
    }

    #[test]
    fn receipt_info_prefers_tlvs() {
        use crate::tlv::{tags, Tlvs};
        let text = "id:999 sub:001 dlvrd:001 submit date:2401311200 done date:2401311201 stat:UNDELIV err:001 text:x";
        let mut tlvs = Tlvs::new();
        tlvs.push(tags::RECEIPTED_MESSAGE_ID, b"1a2b3c\0");
        tlvs.push(tags::MESSAGE_STATE, &[2]);
        tlvs.push(tags::NETWORK_ERROR_CODE, &[3, 0, 1]);
        let r = ReceiptInfo::read(Some(text), &tlvs, ReceiptIdFormat::Hex).unwrap();
        assert_eq!(r.message_id, "1715004");
        assert_eq!(r.message_state, Some(2), "TLV wins over stat:UNDELIV");
        assert_eq!(r.network_error_code, Some((3, 1)));
        assert_eq!(r.text.as_ref().unwrap().err, "001");
        assert!(r.is_final());
        // TLVs only (no text at all).
        let r = ReceiptInfo::read(None, &tlvs, ReceiptIdFormat::AsSubmitted).unwrap();
        assert_eq!((r.message_id.as_str(), r.text), ("1a2b3c", None));
        // Text only.
        let r = ReceiptInfo::read(Some(text), &Tlvs::new(), ReceiptIdFormat::AsSubmitted).unwrap();
        assert_eq!((r.message_id.as_str(), r.message_state), ("999", Some(5)));
        // Neither: not a readable receipt.
        assert_eq!(
            ReceiptInfo::read(Some("hello"), &Tlvs::new(), ReceiptIdFormat::AsSubmitted),
            None
        );
        // An empty receipted_message_id falls back to the text.
        let mut t = Tlvs::new();
        t.push(tags::RECEIPTED_MESSAGE_ID, b"\0");
        assert_eq!(
            ReceiptInfo::read(Some(text), &t, ReceiptIdFormat::AsSubmitted)
                .unwrap()
                .message_id,
            "999"
        );
    }

    #[test]
    fn partner_receipt_pdu() {
        let r = DeliveryReceipt {
            id: "01HV0000000000000000000000".into(),
            sub: "1".into(),
            dlvrd: "1".into(),
            submit_date: "2401311200".into(),
            done_date: "2401311201".into(),
            stat: "DELIVRD".into(),
            err: "0".into(),
            text: "Grüße".into(),
        };
        let sm = receipt_deliver_sm(&r, 2, Some((3, 0)), ("447700900001", 1, 1), ("ACME", 5, 0));
        assert_eq!(sm.esm_class, 0x04);
        assert!(sm.is_delivery_receipt());
        assert_eq!(sm.source_addr, "447700900001");
        assert_eq!(sm.destination_addr, "ACME");
        assert_eq!(
            &sm.short_message[..],
            &b"id:01HV0000000000000000000000 sub:001 dlvrd:001 submit date:2401311200 done date:2401311201 stat:DELIVRD err:000 text:Gr??e"[..]
        );
        assert_eq!(
            sm.tlvs.receipted_message_id().unwrap(),
            "01HV0000000000000000000000"
        );
        assert_eq!(sm.tlvs.message_state(), Some(2));
        assert_eq!(sm.tlvs.network_error_code(), Some((3, 0)));
        // It reads back the same.
        let text = String::from_utf8(sm.short_message.to_vec()).unwrap();
        let back = ReceiptInfo::read(Some(&text), &sm.tlvs, ReceiptIdFormat::AsSubmitted).unwrap();
        assert_eq!(back.message_id, r.id);
        assert_eq!(back.message_state, Some(2));
    }
}
