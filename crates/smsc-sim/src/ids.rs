//! Message ids and wall-clock helpers of the simulator: no dependency beyond `std`.

use std::collections::hash_map::RandomState;
use std::hash::{BuildHasher, Hasher};
use std::time::{SystemTime, UNIX_EPOCH};

/// How the simulator writes the message ids of its `submit_sm_resp`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum IdFormat {
    /// Decimal digits (10 of them from the start value on), as SMPP 3.4 Appendix B shows.
    Decimal,
    /// Lower-case hexadecimal, zero-padded to 10 digits.
    Hex,
    /// A ULID: 26 Crockford base-32 characters, time-ordered.
    Ulid,
}

impl IdFormat {
    /// Parses `decimal`, `hex` or `ulid` (case-insensitive).
    pub(crate) fn parse(s: &str) -> Option<IdFormat> {
        match s.to_ascii_lowercase().as_str() {
            "decimal" | "dec" => Some(IdFormat::Decimal),
            "hex" | "hexadecimal" => Some(IdFormat::Hex),
            "ulid" => Some(IdFormat::Ulid),
            _ => None,
        }
    }
}

/// 64 random-ish bits from the standard library's per-process hash seed and the clock.
pub(crate) fn random_u64() -> u64 {
    let mut h = RandomState::new().build_hasher();
    h.write_u128(now_unix_nanos());
    h.finish()
}

/// A start value for the decimal/hex id counter: in `1_000_000_000..2_000_000_000`, so that
/// ids are 10 digits long and differ from one run to the next.
pub(crate) fn counter_base() -> u64 {
    1_000_000_000 + random_u64() % 1_000_000_000
}

fn now_unix_nanos() -> u128 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or(0)
}

/// Seconds since the Unix epoch, now.
pub(crate) fn now_unix_secs() -> i64 {
    (now_unix_nanos() / 1_000_000_000) as i64
}

const CROCKFORD: &[u8; 32] = b"0123456789ABCDEFGHJKMNPQRSTVWXYZ";

/// Writes `counter` as a message id in `format`. `salt` makes ULIDs of different runs differ.
pub(crate) fn format_id(format: IdFormat, counter: u64, salt: u64) -> String {
    match format {
        IdFormat::Decimal => counter.to_string(),
        IdFormat::Hex => format!("{counter:010x}"),
        IdFormat::Ulid => {
            let millis = (now_unix_nanos() / 1_000_000) & ((1 << 48) - 1);
            // 80 random bits: 16 from the salt, 64 from the salt mixed with the counter (unique
            // within the run because the counter is).
            let low = (salt ^ 0x9E37_79B9_7F4A_7C15).wrapping_add(counter) as u128;
            let value = (millis << 80) | (((salt >> 48) as u128) << 64) | low;
            (0..26)
                .map(|i| {
                    let shift = 5 * (25 - i);
                    char::from(CROCKFORD[((value >> shift) & 0x1F) as usize])
                })
                .collect()
        }
    }
}

/// Calendar date and time (UTC) of a Unix timestamp: (year, month, day, hour, minute).
pub(crate) fn utc_fields(unix_secs: i64) -> (i32, u8, u8, u8, u8) {
    let days = unix_secs.div_euclid(86_400);
    let secs = unix_secs.rem_euclid(86_400);
    // Days since 1970-01-01 to a proleptic Gregorian date (the "civil from days" algorithm).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = (doy - (153 * mp + 2) / 5 + 1) as u8;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u8;
    let year = (yoe + era * 400 + i64::from(month <= 2)) as i32;
    (
        year,
        month,
        day,
        (secs / 3_600) as u8,
        (secs % 3_600 / 60) as u8,
    )
}

/// `YYMMDDhhmm` (UTC) of a Unix timestamp, as receipts write dates (SMPP 3.4 Appendix B).
pub(crate) fn receipt_date_of(unix_secs: i64) -> String {
    let (y, mo, d, h, mi) = utc_fields(unix_secs);
    smpp_codec::receipt::receipt_date(y, mo, d, h, mi)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn civil_dates() {
        assert_eq!(utc_fields(0), (1970, 1, 1, 0, 0));
        // 2000-02-29 12:34 UTC
        assert_eq!(utc_fields(951_827_640), (2000, 2, 29, 12, 34));
        // 2024-12-31 23:59 UTC
        assert_eq!(utc_fields(1_735_689_540), (2024, 12, 31, 23, 59));
        assert_eq!(receipt_date_of(1_735_689_540), "2412312359");
    }

    #[test]
    fn id_formats() {
        assert_eq!(format_id(IdFormat::Decimal, 1_234_567_890, 7), "1234567890");
        assert_eq!(format_id(IdFormat::Hex, 255, 7), "00000000ff");
        let a = format_id(IdFormat::Ulid, 1, 42);
        let b = format_id(IdFormat::Ulid, 2, 42);
        assert_eq!(a.len(), 26);
        assert!(a.bytes().all(|c| CROCKFORD.contains(&c)));
        assert_ne!(a, b);
        assert!(counter_base() >= 1_000_000_000 && counter_base() < 2_000_000_000);
        assert_eq!(IdFormat::parse("HEX"), Some(IdFormat::Hex));
        assert_eq!(IdFormat::parse("base64"), None);
    }
}
