//! User data header (GSM 03.40 / 3GPP TS 23.040 §9.2.3.24) at the start of `short_message` or
//! `message_payload` when `esm_class` has UDHI (0x40, SMPP 3.4 §5.2.12).
//!
//! Layout: `UDHL` (octets that follow in the header), then information elements, each
//! `IEI U8`, `IEDL U8`, `IED (IEDL octets)`. Concatenation uses IEI 0x00 (8-bit reference,
//! `05 00 03 RR TT NN`) or IEI 0x08 (16-bit reference, `06 08 04 RH RL TT NN`).

/// IEI of concatenated short messages with an 8-bit reference (TS 23.040 §9.2.3.24.1).
pub const IEI_CONCAT_8: u8 = 0x00;
/// IEI of concatenated short messages with a 16-bit reference (TS 23.040 §9.2.3.24.8).
pub const IEI_CONCAT_16: u8 = 0x08;

/// IEI of the national language single shift (TS 23.040 §9.2.3.24.15), 1 octet: language id.
pub const IEI_NATIONAL_SINGLE_SHIFT: u8 = 0x24;
/// IEI of the national language locking shift (TS 23.040 §9.2.3.24.16), 1 octet: language id.
pub const IEI_NATIONAL_LOCKING_SHIFT: u8 = 0x25;

/// The national language shifts a UDH selects, as `(single, locking)` language identifiers
/// (IEI 0x24 and 0x25; identifiers in [`crate::text::national`]), for
/// [`crate::text::decode_with_shift`]. `(None, None)` when the UDH is malformed or has neither
/// element; an element whose length is not 1 is ignored.
pub fn national_language_shifts(user_data: &[u8]) -> (Option<u8>, Option<u8>) {
    let Some(elements) = elements(user_data) else {
        return (None, None);
    };
    let find = |iei: u8| {
        elements
            .iter()
            .find_map(|&(i, d)| (i == iei && d.len() == 1).then(|| d[0]))
    };
    (
        find(IEI_NATIONAL_SINGLE_SHIFT),
        find(IEI_NATIONAL_LOCKING_SHIFT),
    )
}

/// Concatenation info from a UDH (TS 23.040 §9.2.3.24.1 / .8): which part of which message this
/// is. For an 8-bit reference, `reference` is 0–255.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ConcatInfo {
    /// Reference shared by all parts of one message.
    pub reference: u16,
    /// Total number of parts, 1–255.
    pub total: u8,
    /// This part's number, 1–`total`.
    pub seqnum: u8,
}

impl ConcatInfo {
    /// The 6-octet UDH (8-bit reference, IEI 0x00) for this part; `reference` is cut to its low
    /// octet.
    pub fn udh_8bit(&self) -> [u8; 6] {
        [
            5,
            IEI_CONCAT_8,
            3,
            self.reference as u8,
            self.total,
            self.seqnum,
        ]
    }

    /// The 7-octet UDH (16-bit reference, IEI 0x08) for this part.
    pub fn udh_16bit(&self) -> [u8; 7] {
        let [hi, lo] = self.reference.to_be_bytes();
        [6, IEI_CONCAT_16, 4, hi, lo, self.total, self.seqnum]
    }
}

/// Iterates the information elements of a well-formed UDH as `(iei, data)`; `None` when the
/// header is malformed (UDHL beyond the data, or an element running past the header).
fn elements(user_data: &[u8]) -> Option<Vec<(u8, &[u8])>> {
    let (&udhl, rest) = user_data.split_first()?;
    let mut header = rest.get(..usize::from(udhl))?;
    let mut out = Vec::new();
    while !header.is_empty() {
        let [iei, len, tail @ ..] = header else {
            return None;
        };
        let data = tail.get(..usize::from(*len))?;
        out.push((*iei, data));
        header = &tail[usize::from(*len)..];
    }
    Some(out)
}

/// Concatenation info from the UDH at the start of `user_data`: IEI 0x00 (8-bit reference) or
/// 0x08 (16-bit reference); other elements are skipped. `None` when the UDH is malformed, has no
/// concatenation element, or that element is invalid (wrong length, part 0, total 0, part >
/// total). The caller checks UDHI in `esm_class` first.
pub fn concat_info(user_data: &[u8]) -> Option<ConcatInfo> {
    let (iei, data) = elements(user_data)?
        .into_iter()
        .find(|(iei, _)| *iei == IEI_CONCAT_8 || *iei == IEI_CONCAT_16)?;
    let info = match (iei, data) {
        (IEI_CONCAT_8, &[r, total, seqnum]) => ConcatInfo {
            reference: u16::from(r),
            total,
            seqnum,
        },
        (IEI_CONCAT_16, &[hi, lo, total, seqnum]) => ConcatInfo {
            reference: u16::from_be_bytes([hi, lo]),
            total,
            seqnum,
        },
        _ => return None,
    };
    (info.total != 0 && info.seqnum != 0 && info.seqnum <= info.total).then_some(info)
}

/// Octets the UDH takes at the start of `user_data` (UDHL + 1), if it is well formed: UDHL
/// within the data and its information elements exactly filling it. Text starts at this offset.
pub fn udh_len(user_data: &[u8]) -> Option<usize> {
    elements(user_data)?;
    Some(usize::from(user_data[0]) + 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn eight_bit_reference() {
        let ud = [0x05, 0x00, 0x03, 0xAB, 0x03, 0x02, b'h', b'i'];
        assert_eq!(
            concat_info(&ud),
            Some(ConcatInfo {
                reference: 0xAB,
                total: 3,
                seqnum: 2
            })
        );
        assert_eq!(udh_len(&ud), Some(6));
    }

    #[test]
    fn sixteen_bit_reference_after_other_element() {
        // Port element (IEI 0x05, 4 octets) first, then the 16-bit concat element.
        let ud = [
            0x0C, 0x05, 0x04, 0x0B, 0x84, 0x23, 0xF0, 0x08, 0x04, 0x12, 0x34, 0x02, 0x01, b'x',
        ];
        assert_eq!(
            concat_info(&ud),
            Some(ConcatInfo {
                reference: 0x1234,
                total: 2,
                seqnum: 1
            })
        );
        assert_eq!(udh_len(&ud), Some(13));
    }

    #[test]
    fn rejects_invalid_parts() {
        assert_eq!(concat_info(&[0x05, 0x00, 0x03, 1, 3, 0]), None, "part 0");
        assert_eq!(concat_info(&[0x05, 0x00, 0x03, 1, 0, 1]), None, "total 0");
        assert_eq!(
            concat_info(&[0x05, 0x00, 0x03, 1, 2, 3]),
            None,
            "part > total"
        );
        assert_eq!(concat_info(&[0x05, 0x00, 0x04, 1, 2, 3]), None, "bad IEDL");
        assert!(concat_info(&[0x05, 0x00, 0x03, 1, 3, 3]).is_some());
    }

    #[test]
    fn malformed_headers() {
        assert_eq!(udh_len(&[]), None);
        assert_eq!(udh_len(&[0x05, 0x00, 0x03, 1]), None, "UDHL beyond data");
        assert_eq!(udh_len(&[0x03, 0x00, 0x03, 1]), None, "IE beyond UDHL");
        assert_eq!(udh_len(&[0x01, 0x00]), None, "lone IEI");
        assert_eq!(udh_len(&[0x00, b'a']), Some(1), "empty header");
        assert_eq!(concat_info(&[0x02, 0x70, 0x00]), None, "no concat IE");
        assert_eq!(udh_len(&[0x02, 0x70, 0x00]), Some(3));
    }

    #[test]
    fn national_language_elements() {
        // Single shift Turkish, locking shift Portuguese, then an 8-bit concat element.
        let ud = [
            0x0B, 0x24, 0x01, 0x01, 0x25, 0x01, 0x03, 0x00, 0x03, 7, 2, 1, 0x41,
        ];
        assert_eq!(national_language_shifts(&ud), (Some(1), Some(3)));
        assert_eq!(concat_info(&ud).unwrap().reference, 7);
        assert_eq!(
            national_language_shifts(&[0x03, 0x25, 0x01, 0x02]),
            (None, Some(2))
        );
        assert_eq!(
            national_language_shifts(&[0x04, 0x24, 0x02, 1, 2]),
            (None, None),
            "bad IEDL"
        );
        assert_eq!(
            national_language_shifts(&[0x05, 0x24]),
            (None, None),
            "malformed"
        );
        assert_eq!(national_language_shifts(&[5, 0, 3, 1, 2, 1]), (None, None));
    }

    #[test]
    fn builders_round_trip() {
        let info = ConcatInfo {
            reference: 0x0102,
            total: 4,
            seqnum: 4,
        };
        assert_eq!(info.udh_16bit(), [6, 8, 4, 1, 2, 4, 4]);
        assert_eq!(concat_info(&info.udh_16bit()), Some(info));
        assert_eq!(info.udh_8bit(), [5, 0, 3, 2, 4, 4]);
        assert_eq!(concat_info(&info.udh_8bit()).unwrap().reference, 2);
    }
}
