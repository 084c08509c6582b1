//! Cutting a text into SMS segments for the send API, with the codec's segmentation
//! ([`smpp_codec::segment::chunk`]): GSM 03.38 when every character is in it (160 septets alone,
//! 153 per part of a concatenated message; an extension character is never cut in two), else
//! UCS-2 (70 code units alone, 67 per part; a surrogate pair is never cut). Parts get an 8-bit
//! concatenation UDH (`05 00 03 ref total seq`, `esm_class` 0x40), one reference per recipient.

use smpp_codec::segment::{self, Chunks, SplitOptions};
use smpp_codec::text::TextError;

/// A text cut into segments, numbered per recipient with [`Segments::part`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Segments(Chunks);

impl Segments {
    /// How many SMS the text takes.
    pub(crate) fn count(&self) -> usize {
        self.0.len()
    }

    /// `data_coding`: 0x00 (GSM 03.38, unpacked septets) or 0x08 (UCS-2).
    pub(crate) fn data_coding(&self) -> u8 {
        self.0.data_coding()
    }

    /// The characters of part `index` (0-based).
    pub(crate) fn text(&self, index: usize) -> &str {
        &self.0.chunks()[index].text
    }

    /// The user data of part `index` (0-based) with the UDH of concatenated message
    /// `reference` when there are several parts, and its `esm_class`.
    pub(crate) fn part(&self, index: usize, reference: u8) -> (Vec<u8>, u8) {
        let p = self.0.part(index, u16::from(reference));
        (p.short_message.to_vec(), p.esm_class_bits)
    }
}

/// Cuts `s` into segments in the smallest alphabet that holds it.
///
/// # Errors
/// [`TextError::TooLong`] when it needs more than 255 parts.
pub(crate) fn split(s: &str) -> Result<Segments, TextError> {
    segment::chunk(s, &SplitOptions::default()).map(Segments)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn split(s: &str) -> Segments {
        super::split(s).unwrap()
    }

    #[test]
    fn gsm_limits_and_extension_characters() {
        assert_eq!(split(&"a".repeat(160)).count(), 1);
        let two = split(&"a".repeat(161));
        assert_eq!(two.count(), 2);
        assert_eq!(two.part(0, 1).0.len(), 6 + 153);
        assert_eq!(split(&"a".repeat(300)).count(), 2);
        assert_eq!(split(&"a".repeat(307)).count(), 3);
        // 152 plain + one '€' (2 septets) does not fit in a 153-septet part.
        let s = format!("{}€{}", "a".repeat(152), "b".repeat(10));
        let seg = split(&s);
        assert_eq!(seg.data_coding(), 0);
        assert_eq!(seg.text(0).len(), 152);
        assert!(seg.text(1).starts_with('€'));
        let (ud, esm) = seg.part(1, 7);
        assert_eq!(&ud[..6], &[5, 0, 3, 7, 2, 2]);
        assert_eq!(esm, 0x40);
        assert_eq!(split("hi").part(0, 1), (b"hi".to_vec(), 0));
    }

    #[test]
    fn ucs2_limits_and_surrogate_pairs() {
        assert_eq!(split(&"é€ж".repeat(23)).count(), 1);
        let seg = split(&"ж".repeat(71));
        assert_eq!((seg.data_coding(), seg.count()), (8, 2));
        assert_eq!(seg.part(0, 0).0.len(), 6 + 134);
        let emoji = format!("{}😀", "ж".repeat(66));
        let seg = split(&format!("{emoji}x{}", "ж".repeat(10)));
        assert_eq!(seg.text(0).chars().count(), 66, "the pair moves to part 2");
    }

    #[test]
    fn too_long_is_an_error() {
        assert!(super::split(&"a".repeat(153 * 256)).is_err());
    }
}
