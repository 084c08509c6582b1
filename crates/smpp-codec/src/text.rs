//! The SMS text layer: turning `short_message` / `message_payload` octets into text and back,
//! according to `data_coding` (SMPP 3.4 §5.2.19).
//!
//! | data_coding | alphabet | here |
//! | --- | --- | --- |
//! | 0x00 | SMSC default, taken as GSM 03.38 unpacked (one septet per octet) | [`gsm7`] |
//! | 0x01 | IA5 / ASCII | octets 0x00–0x7F |
//! | 0x03 | Latin-1 (ISO-8859-1) | U+0000–U+00FF |
//! | 0x08 | UCS-2, sent as UTF-16BE (surrogate pairs kept) | |
//! | 0xF0–0xF3 | GSM message class 0–3, default alphabet | [`gsm7`] |
//! | 0x02, 0x04, 0xF4–0xF7, … | binary or unsupported | [`TextError::NotText`] |

pub mod national;

/// `data_coding` values (SMPP 3.4 §5.2.19) that this module knows.
pub mod data_coding {
    /// 0x00: SMSC default alphabet (taken as GSM 03.38 unpacked).
    pub const SMSC_DEFAULT: u8 = 0x00;
    /// 0x01: IA5 (CCITT T.50) / ASCII.
    pub const IA5: u8 = 0x01;
    /// 0x02: octet unspecified (8-bit binary), TDMA/CDMA.
    pub const OCTET_UNSPECIFIED_2: u8 = 0x02;
    /// 0x03: Latin-1 (ISO-8859-1).
    pub const LATIN1: u8 = 0x03;
    /// 0x04: octet unspecified (8-bit binary), all technologies.
    pub const OCTET_UNSPECIFIED: u8 = 0x04;
    /// 0x08: UCS-2 (ISO/IEC-10646), big-endian; UTF-16BE in practice.
    pub const UCS2: u8 = 0x08;
    /// 0xF0: GSM message class 0 ("flash"), default alphabet (GSM 03.38 §4 coding group 1111).
    pub const GSM_CLASS_0: u8 = 0xF0;
}

/// Why text could not be encoded or decoded.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum TextError {
    /// A character has no code in the chosen alphabet. `index` is its byte offset in the input.
    #[error("character {ch:?} at index {index} cannot be encoded in {alphabet}")]
    Unencodable {
        /// The character.
        ch: char,
        /// Byte offset of the character in the input `&str`.
        index: usize,
        /// Alphabet name: `"GSM 03.38"`, `"IA5"` or `"Latin-1"`.
        alphabet: &'static str,
    },
    /// UCS-2 text must have an even number of octets.
    #[error("odd number of octets ({0}) in UCS-2 text")]
    OddUcs2Length(usize),
    /// The `data_coding` names binary data or an alphabet this module does not handle.
    #[error("data_coding 0x{0:02X} is not a text alphabet")]
    NotText(u8),
    /// The encoded text is too long for the chosen form: more than 255 concatenated parts, or
    /// more than the 65535 octets of a `message_payload` TLV ([`crate::segment::split`]).
    #[error("encoded text of {len} octets exceeds the maximum of {max}")]
    TooLong {
        /// Octets of the encoded text.
        len: usize,
        /// The most octets the chosen form can carry.
        max: usize,
    },
}

/// GSM 03.38 (3GPP TS 23.038 §6.2.1) default alphabet and extension table.
///
/// SMPP carries GSM text **unpacked**: one septet per octet, high bit 0 (facts §6.5). Characters of
/// the extension table take two septets, `0x1B` (ESC) then their code. [`pack`](gsm7::pack) and
/// [`unpack`](gsm7::unpack) convert to and from the 7-bit packed form used on the air interface
/// and in USSD.
pub mod gsm7 {
    use super::TextError;

    /// The escape septet that introduces an extension-table character.
    pub const ESC: u8 = 0x1B;

    const ALPHABET: &str = "GSM 03.38";

    /// Basic table, septet value → character (TS 23.038 §6.2.1). Index 0x1B is ESC, never
    /// produced from this table.
    pub(super) const BASIC: [char; 128] = [
        '@', '£', '$', '¥', 'è', 'é', 'ù', 'ì', 'ò', 'Ç', '\n', 'Ø', 'ø', '\r', 'Å', 'å', //
        'Δ', '_', 'Φ', 'Γ', 'Λ', 'Ω', 'Π', 'Ψ', 'Σ', 'Θ', 'Ξ', '\u{1B}', 'Æ', 'æ', 'ß',
        'É', //
        ' ', '!', '"', '#', '¤', '%', '&', '\'', '(', ')', '*', '+', ',', '-', '.', '/', //
        '0', '1', '2', '3', '4', '5', '6', '7', '8', '9', ':', ';', '<', '=', '>', '?', //
        '¡', 'A', 'B', 'C', 'D', 'E', 'F', 'G', 'H', 'I', 'J', 'K', 'L', 'M', 'N', 'O', //
        'P', 'Q', 'R', 'S', 'T', 'U', 'V', 'W', 'X', 'Y', 'Z', 'Ä', 'Ö', 'Ñ', 'Ü', '§', //
        '¿', 'a', 'b', 'c', 'd', 'e', 'f', 'g', 'h', 'i', 'j', 'k', 'l', 'm', 'n', 'o', //
        'p', 'q', 'r', 's', 't', 'u', 'v', 'w', 'x', 'y', 'z', 'ä', 'ö', 'ñ', 'ü', 'à', //
    ];

    /// Extension table (after ESC): code → character (TS 23.038 §6.2.1.1).
    pub(super) const EXTENSION: [(u8, char); 10] = [
        (0x0A, '\u{0C}'),
        (0x14, '^'),
        (0x28, '{'),
        (0x29, '}'),
        (0x2F, '\\'),
        (0x3C, '['),
        (0x3D, '~'),
        (0x3E, ']'),
        (0x40, '|'),
        (0x65, '€'),
    ];

    /// ASCII → basic-table septet, 0xFF where ASCII has no basic-table code.
    const ASCII_TO_BASIC: [u8; 128] = {
        let mut t = [0xFFu8; 128];
        let mut i = 0;
        while i < 128 {
            let ch = BASIC[i] as u32;
            if ch < 128 && i != ESC as usize {
                t[ch as usize] = i as u8;
            }
            i += 1;
        }
        t
    };

    /// The basic-table septet of `ch`, if any.
    fn basic_code(ch: char) -> Option<u8> {
        let cp = ch as u32;
        if cp < 128 {
            let code = ASCII_TO_BASIC[cp as usize];
            return (code != 0xFF).then_some(code);
        }
        BASIC
            .iter()
            .position(|&c| c == ch)
            .filter(|&i| i != ESC as usize)
            .map(|i| i as u8)
    }

    /// The extension-table code of `ch` (to follow ESC), if any.
    fn extension_code(ch: char) -> Option<u8> {
        EXTENSION
            .iter()
            .find(|&&(_, c)| c == ch)
            .map(|&(code, _)| code)
    }

    /// Septets of `ch`: 1 (basic table), 2 (extension table) or `None` (not in GSM 03.38).
    pub fn char_septets(ch: char) -> Option<usize> {
        if basic_code(ch).is_some() {
            Some(1)
        } else if extension_code(ch).is_some() {
            Some(2)
        } else {
            None
        }
    }

    /// Encodes `s` as unpacked septets, one per octet (ESC + code for extension characters).
    ///
    /// # Errors
    /// [`TextError::Unencodable`] for the first character outside the basic and extension
    /// tables (e.g. `` ` `` or any non-Latin script), with its byte offset.
    pub fn encode_unpacked(s: &str) -> Result<Vec<u8>, TextError> {
        let mut out = Vec::with_capacity(s.len());
        for (index, ch) in s.char_indices() {
            if let Some(code) = basic_code(ch) {
                out.push(code);
            } else if let Some(code) = extension_code(ch) {
                out.push(ESC);
                out.push(code);
            } else {
                return Err(TextError::Unencodable {
                    ch,
                    index,
                    alphabet: ALPHABET,
                });
            }
        }
        Ok(out)
    }

    /// Decodes unpacked septets (one per octet). Never fails: ESC followed by a code without an
    /// extension character gives that code's basic-table character, ESC ESC and a lone trailing
    /// ESC give a space (TS 23.038 §6.2.1.1), and octets above 0x7F give U+FFFD.
    pub fn decode_unpacked(b: &[u8]) -> String {
        decode_unpacked_with_shift(b, None, None)
    }

    /// Decodes unpacked septets with national language tables (TS 23.038 §6.2.1.2.4, Annex A):
    /// `locking` replaces the basic table, `single` the extension table reached by ESC; each is
    /// a language identifier from [`super::national`] (as carried by UDH IEIs 0x25 and 0x24),
    /// `None` or an unsupported identifier meaning the default table. The rules of
    /// [`decode_unpacked`] apply, with the locking table standing in for the basic table.
    pub fn decode_unpacked_with_shift(b: &[u8], single: Option<u8>, locking: Option<u8>) -> String {
        let basic = super::national::locking_table(locking);
        let ext = super::national::single_table(single);
        let ext_char = |code: u8| ext.iter().find(|&&(c, _)| c == code).map(|&(_, ch)| ch);
        let mut out = String::with_capacity(b.len());
        let mut i = 0;
        while i < b.len() {
            let code = b[i];
            i += 1;
            if code == ESC {
                match b.get(i).copied() {
                    None => out.push(' '),
                    Some(ESC) => {
                        out.push(' ');
                        i += 1;
                    }
                    Some(next) => {
                        i += 1;
                        out.push(match ext_char(next) {
                            Some(ch) => ch,
                            None if next < 0x80 => basic[next as usize],
                            None => char::REPLACEMENT_CHARACTER,
                        });
                    }
                }
            } else if code < 0x80 {
                out.push(basic[code as usize]);
            } else {
                out.push(char::REPLACEMENT_CHARACTER);
            }
        }
        out
    }

    /// Encodes `s` as unpacked septets with national language tables (see
    /// [`decode_unpacked_with_shift`]): each character is looked up in the locking table (or
    /// the default basic table), then in the single shift table (or the default extension
    /// table), as ESC + code.
    ///
    /// # Errors
    /// [`TextError::Unencodable`] for the first character in neither table.
    pub fn encode_unpacked_with_shift(
        s: &str,
        single: Option<u8>,
        locking: Option<u8>,
    ) -> Result<Vec<u8>, TextError> {
        if single.is_none() && locking.is_none() {
            return encode_unpacked(s);
        }
        let basic = super::national::locking_table(locking);
        let ext = super::national::single_table(single);
        let mut out = Vec::with_capacity(s.len());
        for (index, ch) in s.char_indices() {
            if let Some(code) = basic
                .iter()
                .position(|&c| c == ch)
                .filter(|&i| i != ESC as usize)
            {
                out.push(code as u8);
            } else if let Some(&(code, _)) = ext.iter().find(|&&(_, c)| c == ch) {
                out.push(ESC);
                out.push(code);
            } else {
                return Err(TextError::Unencodable {
                    ch,
                    index,
                    alphabet: ALPHABET,
                });
            }
        }
        Ok(out)
    }

    /// Septets of `ch` under national language tables (see [`encode_unpacked_with_shift`]): 1 in
    /// the locking (or default basic) table, 2 in the single shift (or default extension) table,
    /// `None` in neither.
    pub fn char_septets_with_shift(
        ch: char,
        single: Option<u8>,
        locking: Option<u8>,
    ) -> Option<usize> {
        if single.is_none() && locking.is_none() {
            return char_septets(ch);
        }
        let basic = super::national::locking_table(locking);
        if basic
            .iter()
            .enumerate()
            .any(|(i, &c)| c == ch && i != ESC as usize)
        {
            return Some(1);
        }
        let ext = super::national::single_table(single);
        ext.iter().any(|&(_, c)| c == ch).then_some(2)
    }

    /// Septets `s` takes in GSM 03.38 (extension characters count 2), or `None` if some
    /// character cannot be encoded. Use it for segment limits (160 / 153 / 152 septets, facts §6.4).
    pub fn septet_len(s: &str) -> Option<usize> {
        s.chars().map(char_septets).sum()
    }

    /// Packs septets (low 7 bits of each octet) LSB-first into octets (GSM 03.38 §6.1.2.1.1):
    /// septet *i* starts at bit 7·*i*. Output length is ⌈7·n/8⌉. `"Hello"` → `C8 32 9B FD 06`.
    pub fn pack(septets: &[u8]) -> Vec<u8> {
        pack_at(septets, 0)
    }

    /// Unpacks `septet_count` septets from packed octets (inverse of [`pack`]). The count is
    /// needed because trailing zero bits look like '@'; it is capped at what `packed` holds
    /// (⌊8·len/7⌋), so this never reads past the input.
    pub fn unpack(packed: &[u8], septet_count: usize) -> Vec<u8> {
        unpack_at(packed, 0, septet_count)
    }

    /// Septets a UDH of `udh_len` octets (UDHL octet included) occupies in packed user data,
    /// fill bits included: ⌈8·udh_len/7⌉ (TS 23.040 §9.2.3.24). 6 → 7, 7 → 8, 12 → 14.
    pub fn udh_septets(udh_len: usize) -> usize {
        (udh_len * 8).div_ceil(7)
    }

    /// Fill bits (0–6) between a UDH of `udh_len` octets and the first packed septet, so that the
    /// text starts on a septet boundary (TS 23.040 §9.2.3.24): 6-octet UDH → 1, 7-octet → 0.
    pub fn fill_bits(udh_len: usize) -> usize {
        udh_septets(udh_len) * 7 - udh_len * 8
    }

    /// Packed user data with a UDH: `udh` (UDHL octet included) as is, then `septets` packed
    /// from the next septet boundary (after [`fill_bits`] zero bits). TP-UDL, in septets, is
    /// [`udh_septets`]`(udh.len()) + septets.len()`.
    ///
    /// ```
    /// use smpp_codec::text::gsm7;
    /// let ud = gsm7::pack_after_udh(&[5, 0, 3, 1, 2, 1], b"Hi");
    /// // One fill bit, then H (0x48) and i (0x69): 0x48 << 1 = 0x90, then 0x69 on the next octet.
    /// assert_eq!(ud, [5, 0, 3, 1, 2, 1, 0x90, 0x69]);
    /// ```
    pub fn pack_after_udh(udh: &[u8], septets: &[u8]) -> Vec<u8> {
        let mut out = udh.to_vec();
        out.extend_from_slice(&pack_at(septets, fill_bits(udh.len())));
        out
    }

    /// The `septet_count` text septets of packed user data that starts with a UDH of `udh_len`
    /// octets (inverse of [`pack_after_udh`]; `septet_count` excludes the UDH's septets). Capped
    /// at what `user_data` holds; never panics.
    pub fn unpack_after_udh(user_data: &[u8], udh_len: usize, septet_count: usize) -> Vec<u8> {
        let Some(rest) = user_data.get(udh_len..) else {
            return Vec::new();
        };
        unpack_at(rest, fill_bits(udh_len), septet_count)
    }

    /// Packs `septets` starting `offset` bits (0–7) into the output.
    fn pack_at(septets: &[u8], offset: usize) -> Vec<u8> {
        let mut out = vec![0u8; (offset + septets.len() * 7).div_ceil(8)];
        for (i, &s) in septets.iter().enumerate() {
            let s = u16::from(s & 0x7F);
            let bit = offset + i * 7;
            let (byte, shift) = (bit / 8, bit % 8);
            let v = s << shift;
            out[byte] |= v as u8;
            if shift > 1 {
                out[byte + 1] |= (v >> 8) as u8;
            }
        }
        out
    }

    /// Unpacks up to `count` septets starting `offset` bits into `packed`.
    fn unpack_at(packed: &[u8], offset: usize, count: usize) -> Vec<u8> {
        let count = count.min((packed.len() * 8).saturating_sub(offset) / 7);
        let mut out = Vec::with_capacity(count);
        for i in 0..count {
            let bit = offset + i * 7;
            let (byte, shift) = (bit / 8, bit % 8);
            let lo = u16::from(packed[byte]);
            let hi = packed.get(byte + 1).map_or(0, |&b| u16::from(b));
            out.push((((hi << 8) | lo) >> shift) as u8 & 0x7F);
        }
        out
    }
}

fn is_gsm_coding(data_coding: u8) -> bool {
    data_coding == data_coding::SMSC_DEFAULT || (0xF0..=0xF3).contains(&data_coding)
}

/// Decodes user data according to `data_coding` (SMPP 3.4 §5.2.19): 0x00 and 0xF0–0xF3 as
/// GSM 03.38 unpacked, 0x01 as IA5/ASCII (octets above 0x7F → U+FFFD), 0x03 as Latin-1, 0x08 as
/// UTF-16BE (surrogate pairs joined, lone surrogates → U+FFFD). Strip any UDH first
/// ([`crate::udh::udh_len`]).
///
/// # Errors
/// [`TextError::OddUcs2Length`] for UCS-2 with an odd octet count; [`TextError::NotText`] for
/// binary and unsupported codings.
pub fn decode(data_coding: u8, bytes: &[u8]) -> Result<String, TextError> {
    match data_coding {
        dc if is_gsm_coding(dc) => Ok(gsm7::decode_unpacked(bytes)),
        data_coding::IA5 => Ok(bytes
            .iter()
            .map(|&b| {
                if b < 0x80 {
                    char::from(b)
                } else {
                    char::REPLACEMENT_CHARACTER
                }
            })
            .collect()),
        data_coding::LATIN1 => Ok(bytes.iter().map(|&b| char::from(b)).collect()),
        data_coding::UCS2 => {
            if !bytes.len().is_multiple_of(2) {
                return Err(TextError::OddUcs2Length(bytes.len()));
            }
            let units = bytes
                .chunks_exact(2)
                .map(|p| u16::from_be_bytes([p[0], p[1]]));
            Ok(char::decode_utf16(units)
                .map(|r| r.unwrap_or(char::REPLACEMENT_CHARACTER))
                .collect())
        }
        other => Err(TextError::NotText(other)),
    }
}

/// Encodes `s` for `data_coding` (SMPP 3.4 §5.2.19): GSM 03.38 unpacked for 0x00 and 0xF0–0xF3,
/// ASCII for 0x01, Latin-1 for 0x03, UTF-16BE for 0x08.
///
/// # Errors
/// [`TextError::Unencodable`] for a character outside the alphabet (non-ASCII for IA5, above
/// U+00FF for Latin-1, outside GSM 03.38); [`TextError::NotText`] for other codings.
pub fn encode(data_coding: u8, s: &str) -> Result<Vec<u8>, TextError> {
    match data_coding {
        dc if is_gsm_coding(dc) => gsm7::encode_unpacked(s),
        data_coding::IA5 => narrow(s, 0x7F, "IA5"),
        data_coding::LATIN1 => narrow(s, 0xFF, "Latin-1"),
        data_coding::UCS2 => Ok(s.encode_utf16().flat_map(u16::to_be_bytes).collect()),
        other => Err(TextError::NotText(other)),
    }
}

/// One octet per character, each at most `max`.
fn narrow(s: &str, max: u32, alphabet: &'static str) -> Result<Vec<u8>, TextError> {
    s.char_indices()
        .map(|(index, ch)| {
            if (ch as u32) <= max {
                Ok(ch as u8)
            } else {
                Err(TextError::Unencodable {
                    ch,
                    index,
                    alphabet,
                })
            }
        })
        .collect()
}

/// The smallest alphabet that holds `s`, and `s` encoded in it: GSM 03.38 (`data_coding` 0x00)
/// when every character is in the basic or extension table, else UCS-2 (0x08).
pub fn choose(s: &str) -> (u8, Vec<u8>) {
    match gsm7::encode_unpacked(s) {
        Ok(b) => (data_coding::SMSC_DEFAULT, b),
        Err(_) => (
            data_coding::UCS2,
            encode(data_coding::UCS2, s).unwrap_or_default(),
        ),
    }
}

/// Like [`decode`], with the national language shift tables a UDH selected (IEI 0x24 `single`,
/// IEI 0x25 `locking`, language identifiers of [`national`]; read them with
/// [`crate::udh::national_language_shifts`]). The shifts apply to the GSM codings (0x00,
/// 0xF0–0xF3), and to IA5 (0x01) when a shift is given: the shift elements exist only for GSM
/// 7-bit text, and some implementations (the Node `smpp` package) label such text 0x01. Other
/// codings decode as [`decode`] does.
///
/// # Errors
/// As [`decode`].
pub fn decode_with_shift(
    data_coding: u8,
    bytes: &[u8],
    single: Option<u8>,
    locking: Option<u8>,
) -> Result<String, TextError> {
    let shifted = single.is_some() || locking.is_some();
    if is_gsm_coding(data_coding) || (shifted && data_coding == data_coding::IA5) {
        Ok(gsm7::decode_unpacked_with_shift(bytes, single, locking))
    } else {
        decode(data_coding, bytes)
    }
}

/// What `data_coding` 0 ("SMSC default alphabet", SMPP 3.4 §5.2.19) means on a bind: carriers
/// differ (facts §6.5), so this is a per-bind setting.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum DefaultAlphabet {
    /// GSM 03.38, unpacked (the usual convention).
    #[default]
    Gsm7,
    /// ISO-8859-1, one octet per character (as data_coding 0x03).
    Latin1,
    /// IA5 / ASCII (as data_coding 0x01).
    Ia5,
}

impl DefaultAlphabet {
    /// The `data_coding` whose alphabet data_coding 0 stands for: 0x00, 0x03 or 0x01.
    fn effective(self, data_coding: u8) -> u8 {
        match (data_coding, self) {
            (self::data_coding::SMSC_DEFAULT, DefaultAlphabet::Latin1) => self::data_coding::LATIN1,
            (self::data_coding::SMSC_DEFAULT, DefaultAlphabet::Ia5) => self::data_coding::IA5,
            (dc, _) => dc,
        }
    }
}

/// [`decode`] with data_coding 0 read in the bind's `default` alphabet; other codings as
/// [`decode`]. `decode_with_default(DefaultAlphabet::Latin1, 0, b"\xE9")` is `"é"`.
///
/// # Errors
/// As [`decode`].
pub fn decode_with_default(
    default: DefaultAlphabet,
    data_coding: u8,
    bytes: &[u8],
) -> Result<String, TextError> {
    decode(default.effective(data_coding), bytes)
}

/// [`encode`] with data_coding 0 written in the bind's `default` alphabet.
///
/// # Errors
/// As [`encode`].
pub fn encode_with_default(
    default: DefaultAlphabet,
    data_coding: u8,
    s: &str,
) -> Result<Vec<u8>, TextError> {
    encode(default.effective(data_coding), s)
}

/// Decodes data_coding 0 user data as Latin-1 (for SMSCs that use ISO-8859-1 as their default
/// alphabet); same as `decode_with_default(DefaultAlphabet::Latin1, 0, bytes)`. Never fails.
pub fn decode_dc0_as_latin1(bytes: &[u8]) -> String {
    bytes.iter().map(|&b| char::from(b)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gsm_round_trip_extension_and_basic() {
        let s = "{}[]~€ @£$¥èé \\^|\u{0C}";
        let b = gsm7::encode_unpacked(s).unwrap();
        assert_eq!(
            &b[..12],
            &[0x1B, 0x28, 0x1B, 0x29, 0x1B, 0x3C, 0x1B, 0x3E, 0x1B, 0x3D, 0x1B, 0x65]
        );
        assert_eq!(&b[12..19], &[0x20, 0x00, 0x01, 0x02, 0x03, 0x04, 0x05]);
        assert_eq!(gsm7::decode_unpacked(&b), s);
        assert_eq!(gsm7::septet_len(s), Some(6 * 2 + 7 + 1 + 4 * 2));
    }

    #[test]
    fn gsm_table_cells() {
        assert_eq!(gsm7::encode_unpacked("§").unwrap(), [0x5F]);
        assert_eq!(gsm7::encode_unpacked("_").unwrap(), [0x11]);
        assert_eq!(gsm7::encode_unpacked("¤").unwrap(), [0x24]);
        assert_eq!(gsm7::encode_unpacked("à").unwrap(), [0x7F]);
        assert_eq!(gsm7::encode_unpacked("\n\r").unwrap(), [0x0A, 0x0D]);
        assert_eq!(gsm7::encode_unpacked("\u{0C}").unwrap(), [0x1B, 0x0A]);
        assert_eq!(gsm7::decode_unpacked(&[0x10, 0x1F, 0x40, 0x60]), "ΔÉ¡¿");
        let all: Vec<u8> = (0u8..128).filter(|&c| c != 0x1B).collect();
        let text = gsm7::decode_unpacked(&all);
        assert_eq!(gsm7::encode_unpacked(&text).unwrap(), all);
    }

    #[test]
    fn gsm_unencodable() {
        assert_eq!(
            gsm7::encode_unpacked("ab`c"),
            Err(TextError::Unencodable {
                ch: '`',
                index: 2,
                alphabet: "GSM 03.38"
            })
        );
        assert_eq!(gsm7::septet_len("Привет"), None);
        assert_eq!(gsm7::char_septets('€'), Some(2));
        assert_eq!(gsm7::char_septets('A'), Some(1));
    }

    #[test]
    fn gsm_escape_decoding_rules() {
        assert_eq!(gsm7::decode_unpacked(&[0x41, 0x1B]), "A ");
        assert_eq!(gsm7::decode_unpacked(&[0x1B, 0x41]), "A");
        assert_eq!(gsm7::decode_unpacked(&[0x1B, 0x1B, 0x41]), " A");
        assert_eq!(gsm7::decode_unpacked(&[0x41, 0x80]), "A\u{FFFD}");
        assert_eq!(gsm7::decode_unpacked(&[0x1B, 0x80]), "\u{FFFD}");
    }

    #[test]
    fn pack_hello() {
        let septets = gsm7::encode_unpacked("Hello").unwrap();
        assert_eq!(septets, b"Hello");
        let packed = gsm7::pack(&septets);
        assert_eq!(packed, [0xC8, 0x32, 0x9B, 0xFD, 0x06]);
        assert_eq!(gsm7::unpack(&packed, 5), septets);
    }

    #[test]
    fn pack_unpack_boundaries() {
        for n in 0..=24usize {
            let septets: Vec<u8> = (0..n).map(|i| ((i * 37 + 11) % 128) as u8).collect();
            let packed = gsm7::pack(&septets);
            assert_eq!(packed.len(), (n * 7).div_ceil(8));
            assert_eq!(gsm7::unpack(&packed, n), septets, "n = {n}");
        }
        // 8 septets fill exactly 7 octets.
        assert_eq!(gsm7::pack(&[0x7F; 8]), [0xFF; 7]);
        // A count beyond the input is capped, not a panic.
        assert_eq!(gsm7::unpack(&[0xC8], 100), [0x48]);
        assert!(gsm7::unpack(&[], 3).is_empty());
    }

    #[test]
    fn ucs2_surrogates() {
        let s = "A😀é";
        let b = encode(data_coding::UCS2, s).unwrap();
        assert_eq!(b, [0x00, 0x41, 0xD8, 0x3D, 0xDE, 0x00, 0x00, 0xE9]);
        assert_eq!(decode(data_coding::UCS2, &b).unwrap(), s);
        assert_eq!(
            decode(data_coding::UCS2, &[0xD8, 0x3D, 0x00, 0x41]).unwrap(),
            "\u{FFFD}A"
        );
        assert_eq!(
            decode(data_coding::UCS2, &[0x00, 0x41, 0x00]),
            Err(TextError::OddUcs2Length(3))
        );
    }

    #[test]
    fn ia5_and_latin1() {
        assert_eq!(encode(data_coding::IA5, "Hi~").unwrap(), b"Hi~");
        assert_eq!(
            encode(data_coding::IA5, "hé"),
            Err(TextError::Unencodable {
                ch: 'é',
                index: 1,
                alphabet: "IA5"
            })
        );
        assert_eq!(encode(data_coding::LATIN1, "hé").unwrap(), [b'h', 0xE9]);
        assert_eq!(decode(data_coding::LATIN1, &[b'h', 0xE9]).unwrap(), "hé");
        assert!(matches!(
            encode(data_coding::LATIN1, "€"),
            Err(TextError::Unencodable { ch: '€', .. })
        ));
        assert_eq!(
            decode(data_coding::IA5, &[b'a', 0xE9]).unwrap(),
            "a\u{FFFD}"
        );
    }

    #[test]
    fn codings_dispatch() {
        assert_eq!(decode(0xF1, &[0x00]).unwrap(), "@");
        assert_eq!(decode(0x00, &[0x00]).unwrap(), "@");
        assert_eq!(decode(0x04, b"x"), Err(TextError::NotText(0x04)));
        assert_eq!(decode(0x02, b"x"), Err(TextError::NotText(0x02)));
        assert_eq!(decode(0xF4, b"x"), Err(TextError::NotText(0xF4)));
        assert_eq!(encode(0xF0, "@").unwrap(), [0x00]);
        assert_eq!(encode(0x04, "x"), Err(TextError::NotText(0x04)));
    }

    #[test]
    fn choose_picks_smallest() {
        assert_eq!(
            choose("Hello {€}"),
            (0x00, gsm7::encode_unpacked("Hello {€}").unwrap())
        );
        let (dc, b) = choose("Привет");
        assert_eq!(dc, 0x08);
        assert_eq!(decode(dc, &b).unwrap(), "Привет");
        assert_eq!(choose("a`").0, 0x08);
    }

    #[test]
    fn national_turkish() {
        // Locking shift: ğ at 0x0C, ş at 0x1D, ı at 0x07, İ at 0x40, ç at 0x60.
        let b = [0x0C, 0x1D, 0x07, 0x40, 0x60, 0x04];
        assert_eq!(
            gsm7::decode_unpacked_with_shift(&b, None, Some(1)),
            "ğşıİç€"
        );
        assert_eq!(
            gsm7::decode_unpacked(&b),
            "øæì¡¿è",
            "same octets in the default table"
        );
        // Single shift: ESC 0x67 = ğ, ESC 0x73 = ş, ESC 0x63 = ç, ESC 0x65 = €.
        let b = [0x1B, 0x67, 0x1B, 0x73, 0x1B, 0x63, 0x1B, 0x65, 0x1B, 0x28];
        assert_eq!(decode_with_shift(0, &b, Some(1), None).unwrap(), "ğşç€{");
        assert_eq!(
            gsm7::encode_unpacked_with_shift("ğş", Some(1), None).unwrap(),
            [0x1B, 0x67, 0x1B, 0x73]
        );
        assert_eq!(
            gsm7::encode_unpacked_with_shift("ğşa", Some(1), Some(1)).unwrap(),
            [0x0C, 0x1D, 0x61]
        );
        assert!(gsm7::encode_unpacked("ğ").is_err());
        // Unknown codes after ESC fall back to the locking table.
        assert_eq!(
            decode_with_shift(0, &[0x1B, 0x0C], Some(1), Some(1)).unwrap(),
            "ğ"
        );
    }

    #[test]
    fn national_spanish() {
        let b = [0x1B, 0x09, 0x1B, 0x61, 0x1B, 0x41, 0x1B, 0x75, 0x1B, 0x6F];
        assert_eq!(decode_with_shift(0xF1, &b, Some(2), None).unwrap(), "çáÁúó");
        // Spanish has no locking shift table: the default basic table stays.
        assert_eq!(
            decode_with_shift(0, &[0x7F, 0x0C], None, Some(2)).unwrap(),
            "àø"
        );
        assert_eq!(
            gsm7::encode_unpacked_with_shift("ñá", Some(2), Some(2)).unwrap(),
            [0x7D, 0x1B, 0x61]
        );
        // Without the single shift, ESC 0x61 is just 'a'.
        assert_eq!(decode(0, &[0x1B, 0x61]).unwrap(), "a");
    }

    #[test]
    fn national_portuguese() {
        // Locking shift: ã 0x7B, õ 0x7C, ê 0x04, ç 0x09, Ã 0x5B, º 0x24.
        let b = [0x7B, 0x7C, 0x04, 0x09, 0x5B, 0x24];
        assert_eq!(decode_with_shift(0, &b, None, Some(3)).unwrap(), "ãõêçÃº");
        // Single shift: ESC 0x7B = ã, ESC 0x05 = ê, ESC 0x7F = â.
        assert_eq!(
            decode_with_shift(0, &[0x1B, 0x7B, 0x1B, 0x05, 0x1B, 0x7F], Some(3), None).unwrap(),
            "ãêâ"
        );
        let s = "Não há ações";
        let b = gsm7::encode_unpacked_with_shift(s, Some(3), Some(3)).unwrap();
        assert_eq!(gsm7::decode_unpacked_with_shift(&b, Some(3), Some(3)), s);
        // Shifts do not touch other codings, but IA5 with a shift is GSM (Node smpp writes it).
        assert_eq!(
            decode_with_shift(8, &[0, 0x41], Some(3), Some(3)).unwrap(),
            "A"
        );
        assert_eq!(decode_with_shift(3, &[0x7B], None, Some(3)).unwrap(), "{");
        assert_eq!(decode_with_shift(1, &[0x7B], None, Some(3)).unwrap(), "ã");
        assert_eq!(decode_with_shift(1, &[0x7B], None, None).unwrap(), "{");
    }

    #[test]
    fn packed_with_fill_bits() {
        assert_eq!(gsm7::udh_septets(6), 7);
        assert_eq!(gsm7::fill_bits(6), 1);
        assert_eq!(gsm7::udh_septets(7), 8);
        assert_eq!(gsm7::fill_bits(7), 0);
        assert_eq!(gsm7::fill_bits(12), 2);
        let udh = [5, 0, 3, 0x42, 2, 1];
        let ud = gsm7::pack_after_udh(&udh, b"Hello");
        assert_eq!(&ud[..6], &udh);
        // 'H' (0x48) starts after one fill bit: octet 6 = 0x48 << 1.
        assert_eq!(ud[6], 0x90);
        assert_eq!(ud.len(), 11, "84 bits");
        assert_eq!(gsm7::unpack_after_udh(&ud, 6, 5), b"Hello");
        // 7-octet UDH: no fill bits, text packs as without UDH.
        let udh16 = [6, 8, 4, 0, 1, 2, 1];
        let ud = gsm7::pack_after_udh(&udh16, b"Hello");
        assert_eq!(&ud[7..], &gsm7::pack(b"Hello")[..]);
        assert_eq!(gsm7::unpack_after_udh(&ud, 7, 5), b"Hello");
        for n in 0..=20usize {
            let septets: Vec<u8> = (0..n).map(|i| ((i * 53 + 7) % 128) as u8).collect();
            for udh_len in 1..=12usize {
                let udh = vec![0xAAu8; udh_len];
                let ud = gsm7::pack_after_udh(&udh, &septets);
                assert_eq!(ud.len(), ((gsm7::udh_septets(udh_len) + n) * 7).div_ceil(8));
                assert_eq!(
                    gsm7::unpack_after_udh(&ud, udh_len, n),
                    septets,
                    "n={n} udh={udh_len}"
                );
            }
        }
        assert!(gsm7::unpack_after_udh(&[1, 2], 6, 5).is_empty());
    }

    #[test]
    fn default_alphabet_setting() {
        assert_eq!(decode(0x03, &[0xE9, b'!']).unwrap(), "é!");
        assert_eq!(decode_dc0_as_latin1(&[0xE9, 0x40]), "é@");
        assert_eq!(
            decode_with_default(DefaultAlphabet::Latin1, 0, &[0xE9]).unwrap(),
            "é"
        );
        assert_eq!(
            decode_with_default(DefaultAlphabet::Gsm7, 0, &[0x05]).unwrap(),
            "é"
        );
        assert_eq!(
            decode_with_default(DefaultAlphabet::Ia5, 0, &[0x40]).unwrap(),
            "@"
        );
        assert_eq!(
            decode_with_default(DefaultAlphabet::Latin1, 8, &[0, 0x41]).unwrap(),
            "A"
        );
        assert_eq!(
            encode_with_default(DefaultAlphabet::Latin1, 0, "@é").unwrap(),
            [0x40, 0xE9]
        );
        assert_eq!(
            encode_with_default(DefaultAlphabet::Gsm7, 0, "@é").unwrap(),
            [0x00, 0x05]
        );
        assert_eq!(
            encode_with_default(DefaultAlphabet::Ia5, 0, "@").unwrap(),
            [0x40]
        );
        assert_eq!(DefaultAlphabet::default(), DefaultAlphabet::Gsm7);
    }
}
