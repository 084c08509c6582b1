//! National language shift tables of GSM 03.38 (3GPP TS 23.038 §6.2.1.2.4, Annex A), for the
//! languages the gateway supports: Turkish, Spanish and Portuguese.
//!
//! A message selects them with UDH information elements (TS 23.040 §9.2.3.24.15–16):
//! IEI 0x24 (national language **single** shift: replaces the extension table reached by ESC)
//! and IEI 0x25 (national language **locking** shift: replaces the basic table), each with one
//! octet, the language identifier below. Read them with
//! [`crate::udh::national_language_shifts`]; decode with [`super::decode_with_shift`] or
//! [`super::gsm7::decode_unpacked_with_shift`].
//!
//! | id | language | single shift (A.2) | locking shift (A.3) |
//! | --- | --- | --- | --- |
//! | 1 | Turkish | A.2.1 | A.3.1 |
//! | 2 | Spanish | A.2.2 | none defined: the default basic table stays |
//! | 3 | Portuguese | A.2.3 | A.3.3 |
//!
//! Other identifiers (Indian languages, …) are not supported: they fall back to the default
//! tables.

use super::gsm7::BASIC;

/// Language identifier of Turkish (TS 23.038 §6.2.1.2.4).
pub const TURKISH: u8 = 1;
/// Language identifier of Spanish (TS 23.038 §6.2.1.2.4).
pub const SPANISH: u8 = 2;
/// Language identifier of Portuguese (TS 23.038 §6.2.1.2.4).
pub const PORTUGUESE: u8 = 3;

/// The national language tables a message uses (TS 23.038 §6.2.1.2.4): `single` replaces the
/// extension table (UDH IEI 0x24), `locking` the basic table (UDH IEI 0x25); `None` keeps the
/// default table. Identifiers as [`TURKISH`], [`SPANISH`], [`PORTUGUESE`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
pub struct NationalShift {
    /// Language of the single shift table (IEI 0x24), if any.
    pub single: Option<u8>,
    /// Language of the locking shift table (IEI 0x25), if any.
    pub locking: Option<u8>,
}

impl NationalShift {
    /// No national table: the default alphabet.
    pub const NONE: NationalShift = NationalShift {
        single: None,
        locking: None,
    };

    /// `true` when neither table is selected.
    pub fn is_none(&self) -> bool {
        self.single.is_none() && self.locking.is_none()
    }

    /// The UDH information elements selecting these tables (TS 23.040 §9.2.3.24.15–16):
    /// `24 01 id` and/or `25 01 id`, without the UDHL octet.
    pub fn udh_elements(&self) -> Vec<u8> {
        let mut v = Vec::with_capacity(6);
        if let Some(id) = self.single {
            v.extend_from_slice(&[crate::udh::IEI_NATIONAL_SINGLE_SHIFT, 1, id]);
        }
        if let Some(id) = self.locking {
            v.extend_from_slice(&[crate::udh::IEI_NATIONAL_LOCKING_SHIFT, 1, id]);
        }
        v
    }

    /// The tables a UDH selects (see [`crate::udh::national_language_shifts`]).
    pub fn from_udh(user_data: &[u8]) -> NationalShift {
        let (single, locking) = crate::udh::national_language_shifts(user_data);
        NationalShift { single, locking }
    }

    /// The candidate table combinations for `language`: single shift alone, and where the
    /// language has a locking table, locking alone and both (TS 23.038 Annex A).
    pub fn candidates(language: u8) -> Vec<NationalShift> {
        let mut v = vec![NationalShift {
            single: Some(language),
            locking: None,
        }];
        if has_locking_table(language) {
            v.push(NationalShift {
                single: None,
                locking: Some(language),
            });
            v.push(NationalShift {
                single: Some(language),
                locking: Some(language),
            });
        }
        v
    }
}

/// `true` for the languages with a locking shift table here (Turkish, Portuguese; Spanish has
/// none in TS 23.038).
pub fn has_locking_table(id: u8) -> bool {
    matches!(id, TURKISH | PORTUGUESE)
}

/// The English name of a supported language identifier, `None` for others.
pub fn language_name(id: u8) -> Option<&'static str> {
    match id {
        TURKISH => Some("Turkish"),
        SPANISH => Some("Spanish"),
        PORTUGUESE => Some("Portuguese"),
        _ => None,
    }
}

/// Turkish locking shift table (TS 23.038 A.3.1): the default basic table with eight cells
/// changed.
const TURKISH_LOCKING: [char; 128] = {
    let mut t = BASIC;
    t[0x04] = '€';
    t[0x07] = 'ı';
    t[0x0B] = 'Ğ';
    t[0x0C] = 'ğ';
    t[0x1C] = 'Ş';
    t[0x1D] = 'ş';
    t[0x40] = 'İ';
    t[0x60] = 'ç';
    t
};

/// Portuguese locking shift table (TS 23.038 A.3.3).
const PORTUGUESE_LOCKING: [char; 128] = {
    let mut t = BASIC;
    t[0x04] = 'ê';
    t[0x06] = 'ú';
    t[0x07] = 'í';
    t[0x08] = 'ó';
    t[0x09] = 'ç';
    t[0x0B] = 'Ô';
    t[0x0C] = 'ô';
    t[0x0E] = 'Á';
    t[0x0F] = 'á';
    t[0x12] = 'ª';
    t[0x13] = 'Ç';
    t[0x14] = 'À';
    t[0x15] = '∞';
    t[0x16] = '^';
    t[0x17] = '\\';
    t[0x18] = '€';
    t[0x19] = 'Ó';
    t[0x1A] = '|';
    t[0x1C] = 'Â';
    t[0x1D] = 'â';
    t[0x1E] = 'Ê';
    t[0x24] = 'º';
    t[0x40] = 'Í';
    t[0x5B] = 'Ã';
    t[0x5C] = 'Õ';
    t[0x5D] = 'Ú';
    t[0x60] = '~';
    t[0x7B] = 'ã';
    t[0x7C] = 'õ';
    t[0x7D] = '`';
    t
};

/// Turkish single shift table (TS 23.038 A.2.1): code after ESC → character.
const TURKISH_SINGLE: &[(u8, char)] = &[
    (0x0A, '\u{0C}'),
    (0x14, '^'),
    (0x28, '{'),
    (0x29, '}'),
    (0x2F, '\\'),
    (0x3C, '['),
    (0x3D, '~'),
    (0x3E, ']'),
    (0x40, '|'),
    (0x47, 'Ğ'),
    (0x49, 'İ'),
    (0x53, 'Ş'),
    (0x63, 'ç'),
    (0x65, '€'),
    (0x67, 'ğ'),
    (0x69, 'ı'),
    (0x73, 'ş'),
];

/// Spanish single shift table (TS 23.038 A.2.2).
const SPANISH_SINGLE: &[(u8, char)] = &[
    (0x09, 'ç'),
    (0x0A, '\u{0C}'),
    (0x14, '^'),
    (0x28, '{'),
    (0x29, '}'),
    (0x2F, '\\'),
    (0x3C, '['),
    (0x3D, '~'),
    (0x3E, ']'),
    (0x40, '|'),
    (0x41, 'Á'),
    (0x49, 'Í'),
    (0x4F, 'Ó'),
    (0x55, 'Ú'),
    (0x61, 'á'),
    (0x65, '€'),
    (0x69, 'í'),
    (0x6F, 'ó'),
    (0x75, 'ú'),
];

/// Portuguese single shift table (TS 23.038 A.2.3).
const PORTUGUESE_SINGLE: &[(u8, char)] = &[
    (0x05, 'ê'),
    (0x09, 'ç'),
    (0x0A, '\u{0C}'),
    (0x0B, 'Ô'),
    (0x0C, 'ô'),
    (0x0E, 'Á'),
    (0x0F, 'á'),
    (0x12, 'Φ'),
    (0x13, 'Γ'),
    (0x14, '^'),
    (0x15, 'Ω'),
    (0x16, 'Π'),
    (0x17, 'Ψ'),
    (0x18, 'Σ'),
    (0x19, 'Θ'),
    (0x1F, 'Ê'),
    (0x28, '{'),
    (0x29, '}'),
    (0x2F, '\\'),
    (0x3C, '['),
    (0x3D, '~'),
    (0x3E, ']'),
    (0x40, '|'),
    (0x41, 'À'),
    (0x49, 'Í'),
    (0x4F, 'Ó'),
    (0x55, 'Ú'),
    (0x5B, 'Ã'),
    (0x5C, 'Õ'),
    (0x61, 'Â'),
    (0x65, '€'),
    (0x69, 'í'),
    (0x6F, 'ó'),
    (0x75, 'ú'),
    (0x7B, 'ã'),
    (0x7C, 'õ'),
    (0x7F, 'â'),
];

/// The basic table in force under locking shift `id` (`None` or an unsupported id: the default).
pub(super) fn locking_table(id: Option<u8>) -> &'static [char; 128] {
    match id {
        Some(TURKISH) => &TURKISH_LOCKING,
        Some(PORTUGUESE) => &PORTUGUESE_LOCKING,
        _ => &BASIC,
    }
}

/// The single shift (extension) table in force under single shift `id`.
pub(super) fn single_table(id: Option<u8>) -> &'static [(u8, char)] {
    match id {
        Some(TURKISH) => TURKISH_SINGLE,
        Some(SPANISH) => SPANISH_SINGLE,
        Some(PORTUGUESE) => PORTUGUESE_SINGLE,
        _ => &super::gsm7::EXTENSION,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tables_keep_esc_and_are_distinct_where_expected() {
        for t in [&TURKISH_LOCKING, &PORTUGUESE_LOCKING] {
            assert_eq!(t[0x1B], '\u{1B}', "ESC stays at 0x1B");
            assert_eq!(t[0x41], 'A');
            assert_eq!(t[0x20], ' ');
        }
        // No character appears twice in a locking table (else encoding would be ambiguous).
        for t in [&TURKISH_LOCKING, &PORTUGUESE_LOCKING] {
            for (i, a) in t.iter().enumerate() {
                assert!(!t[i + 1..].contains(a), "{a:?} twice");
            }
        }
        assert_eq!(locking_table(Some(SPANISH)), &BASIC);
        assert_eq!(locking_table(Some(9)), &BASIC);
        assert_eq!(single_table(Some(9)), &super::super::gsm7::EXTENSION[..]);
        assert_eq!(language_name(TURKISH), Some("Turkish"));
        assert_eq!(language_name(PORTUGUESE), Some("Portuguese"));
        assert_eq!(language_name(SPANISH), Some("Spanish"));
        assert_eq!(language_name(4), None);
    }
}
