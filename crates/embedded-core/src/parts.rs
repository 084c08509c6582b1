//! Cutting a text into SMS segments for the send API: GSM 03.38 when every character is in it
//! (160 septets alone, 153 per part of a concatenated message; an extension character is
//! never cut in two), else UCS-2 (70 code units alone, 67 per part; a surrogate pair is never
//! cut). Parts get an 8-bit concatenation UDH (`05 00 03 ref total seq`, `esm_class` 0x40).

use smpp_codec::text::{self, gsm7};
use smpp_codec::udh::ConcatInfo;

/// `esm_class` UDHI bit: the user data starts with a header.
pub(crate) const ESM_CLASS_UDHI: u8 = 0x40;

/// A text cut into segments, without headers yet.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Segments {
    /// `data_coding`: 0x00 (GSM 03.38, unpacked septets) or 0x08 (UCS-2).
    pub(crate) data_coding: u8,
    /// Each segment's user data (without UDH) and its text.
    pub(crate) chunks: Vec<(Vec<u8>, String)>,
}

impl Segments {
    /// How many SMS the text takes.
    pub(crate) fn count(&self) -> usize {
        self.chunks.len()
    }

    /// The user data of part `index` (0-based) with the UDH of concatenated message
    /// `reference` when there are several parts, and its `esm_class`.
    pub(crate) fn part(&self, index: usize, reference: u8) -> (Vec<u8>, u8) {
        let (data, _) = &self.chunks[index];
        if self.chunks.len() == 1 {
            return (data.clone(), 0);
        }
        let info = ConcatInfo {
            reference: u16::from(reference),
            total: self.chunks.len().min(255) as u8,
            seqnum: (index + 1).min(255) as u8,
        };
        let mut out = info.udh_8bit().to_vec();
        out.extend_from_slice(data);
        (out, ESM_CLASS_UDHI)
    }
}

/// Cuts `s` into segments in the smallest alphabet that holds it.
pub(crate) fn split(s: &str) -> Segments {
    if gsm7::septet_len(s).is_some() {
        let total = gsm7::septet_len(s).unwrap_or(0);
        let chunks = pack(s, total, 160, 153, |c| gsm7::char_septets(c).unwrap_or(1), |t| {
            gsm7::encode_unpacked(t).unwrap_or_default()
        });
        Segments {
            data_coding: 0x00,
            chunks,
        }
    } else {
        let total = s.encode_utf16().count();
        let chunks = pack(s, total, 70, 67, char::len_utf16, |t| {
            text::encode(0x08, t).unwrap_or_default()
        });
        Segments {
            data_coding: 0x08,
            chunks,
        }
    }
}

/// Groups the characters of `s` (of `total` units) into chunks of at most `single` units when
/// it fits in one, else `per_part`, never cutting a character.
fn pack(
    s: &str,
    total: usize,
    single: usize,
    per_part: usize,
    units: impl Fn(char) -> usize,
    encode: impl Fn(&str) -> Vec<u8>,
) -> Vec<(Vec<u8>, String)> {
    if total <= single {
        return vec![(encode(s), s.to_string())];
    }
    let mut out = Vec::new();
    let mut current = String::new();
    let mut used = 0;
    for c in s.chars() {
        let n = units(c);
        if used + n > per_part {
            out.push((encode(&current), std::mem::take(&mut current)));
            used = 0;
        }
        current.push(c);
        used += n;
    }
    if !current.is_empty() {
        out.push((encode(&current), current));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gsm_limits_and_extension_characters() {
        assert_eq!(split(&"a".repeat(160)).count(), 1);
        let two = split(&"a".repeat(161));
        assert_eq!(two.count(), 2);
        assert_eq!(two.chunks[0].0.len(), 153);
        assert_eq!(split(&"a".repeat(300)).count(), 2);
        assert_eq!(split(&"a".repeat(307)).count(), 3);
        // 152 plain + one '€' (2 septets) does not fit in a 153-septet part.
        let s = format!("{}€{}", "a".repeat(152), "b".repeat(10));
        let seg = split(&s);
        assert_eq!(seg.data_coding, 0);
        assert_eq!(seg.chunks[0].1.len(), 152);
        assert!(seg.chunks[1].1.starts_with('€'));
        let (ud, esm) = seg.part(1, 7);
        assert_eq!(&ud[..6], &[5, 0, 3, 7, 2, 2]);
        assert_eq!(esm, 0x40);
        assert_eq!(split("hi").part(0, 1), (b"hi".to_vec(), 0));
    }

    #[test]
    fn ucs2_limits_and_surrogate_pairs() {
        assert_eq!(split(&"é€ж".repeat(23)).count(), 1);
        let seg = split(&"ж".repeat(71));
        assert_eq!((seg.data_coding, seg.count()), (8, 2));
        assert_eq!(seg.chunks[0].0.len(), 134);
        let emoji = format!("{}😀", "ж".repeat(66));
        let seg = split(&format!("{emoji}x{}", "ж".repeat(10)));
        assert_eq!(seg.chunks[0].1.chars().count(), 66, "the pair moves to part 2");
    }
}
