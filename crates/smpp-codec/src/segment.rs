//! Long messages: counting characters and segments as handsets do, splitting text into the parts
//! of a concatenated message, and reassembling inbound parts (facts §6.4, §7; 3GPP TS 23.040
//! §9.2.3.24.1 / .8 / .15–16; SMPP 3.4 §5.3.2.22–24 and §5.3.2.32).
//!
//! Capacities per SMS (140 octets of TP-UD):
//!
//! | alphabet | single SMS | per part, 6-octet UDH (8-bit ref, or SAR) | per part, 7-octet UDH (16-bit ref) |
//! | --- | --- | --- | --- |
//! | GSM 03.38 | 160 septets | 153 | 152 |
//! | 8-bit (IA5, Latin-1, binary) | 140 octets | 134 | 133 |
//! | UCS-2 | 70 UTF-16 units | 67 | 66 |
//!
//! National language shift elements (3 octets each in the UDH) take their room too: a Turkish
//! single shift costs a single SMS 5 septets (155 left) and a part 3 more (150 with an 8-bit
//! reference).
//!
//! A part never ends between the two septets of an extension character (ESC + code) nor between
//! the two halves of a UTF-16 surrogate pair, so a part may hold one unit less than its capacity.
//! GSM text is produced **unpacked** (one septet per octet, the SMPP convention, facts §6.5); the
//! SMSC packs it and adds the fill bits.
//!
//! Per-bind settings ([`SplitOptions`]): how long messages are split ([`SplitMethod`]), what
//! `data_coding` 0 means on the bind ([`DefaultAlphabet`]) and which national language tables
//! the carrier's handsets may use.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use bytes::Bytes;

use crate::text::national::NationalShift;
use crate::text::{self, data_coding as dc, gsm7, DefaultAlphabet, TextError};
use crate::tlv::{tags, Tlvs};
use crate::udh;

/// esm_class UDHI bit (SMPP 3.4 §5.2.12): `short_message` starts with a user data header.
const UDHI: u8 = 0x40;

/// Octets of TP-UD in one SMS (TS 23.040 §9.2.3.16).
const TP_UD_OCTETS: usize = 140;

/// The most octets a `message_payload` TLV can carry (its length is a U16, SMPP 3.4 §3.2.4.1).
const MAX_PAYLOAD: usize = 65_535;

/// How a long message is split (per bind setting `split_method`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default, Hash)]
pub enum SplitMethod {
    /// A 6-octet UDH with IEI 0x00 and an 8-bit reference (`05 00 03 RR TT NN`) at the start of
    /// each part's `short_message`, `esm_class` UDHI set (TS 23.040 §9.2.3.24.1).
    #[default]
    Udh8,
    /// A 7-octet UDH with IEI 0x08 and a 16-bit reference (`06 08 04 RH RL TT NN`), UDHI set
    /// (TS 23.040 §9.2.3.24.8). One unit less per part than [`SplitMethod::Udh8`] for GSM.
    Udh16,
    /// The `sar_msg_ref_num` / `sar_total_segments` / `sar_segment_seqnum` TLVs (SMPP 3.4
    /// §5.3.2.22–24), no UDH: the SMSC builds the UDH, so parts hold what a 6-octet UDH leaves.
    Sar,
    /// One PDU whose `message_payload` TLV (SMPP 3.4 §5.3.2.32) holds the whole text, up to
    /// 65535 octets; the SMSC splits it.
    MessagePayload,
}

impl SplitMethod {
    /// The configuration spelling: `"udh"` (8-bit reference), `"udh16"`, `"sar"`,
    /// `"message_payload"`.
    pub fn as_str(self) -> &'static str {
        match self {
            SplitMethod::Udh8 => "udh",
            SplitMethod::Udh16 => "udh16",
            SplitMethod::Sar => "sar",
            SplitMethod::MessagePayload => "message_payload",
        }
    }

    /// Parses [`SplitMethod::as_str`]'s spellings (`"udh8"` is accepted for `"udh"`), `None`
    /// for anything else.
    pub fn parse(s: &str) -> Option<SplitMethod> {
        Some(match s {
            "udh" | "udh8" => SplitMethod::Udh8,
            "udh16" => SplitMethod::Udh16,
            "sar" => SplitMethod::Sar,
            "message_payload" | "payload" => SplitMethod::MessagePayload,
            _ => return None,
        })
    }

    /// Octets of the concatenation element a part carries in its UDH on the air (IEI, length,
    /// data): 5 for the 8-bit reference (also what the SMSC adds for SAR), 6 for the 16-bit one.
    fn concat_ie_octets(self) -> usize {
        match self {
            SplitMethod::Udh16 => 6,
            _ => 5,
        }
    }

    /// `true` when we write the UDH ourselves (so national shift elements can go in it).
    fn writes_udh(self) -> bool {
        matches!(self, SplitMethod::Udh8 | SplitMethod::Udh16)
    }
}

/// The per-bind settings of [`split_with`] and [`count_with`].
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct SplitOptions {
    /// How a text longer than one SMS is split.
    pub method: SplitMethod,
    /// The `data_coding` to write; `None` chooses the smallest alphabet that holds the text
    /// (GSM 03.38, then GSM with an allowed national table, then UCS-2).
    pub data_coding: Option<u8>,
    /// The concatenation reference (its low 8 bits with [`SplitMethod::Udh8`]).
    pub reference: u16,
    /// What `data_coding` 0 means on this bind: with [`DefaultAlphabet::Latin1`] or
    /// [`DefaultAlphabet::Ia5`], GSM text is written in that alphabet (the SMSC converts it) and
    /// only characters both alphabets hold choose `data_coding` 0.
    pub default_alphabet: DefaultAlphabet,
    /// National language tables the carrier's handsets support ([`crate::text::national`]
    /// identifiers),
    /// tried when the default GSM alphabet cannot hold the text (the one taking the fewest
    /// segments wins). Only with the
    /// UDH methods and [`DefaultAlphabet::Gsm7`]: the tables are signalled in the UDH.
    pub national_languages: Vec<u8>,
}

/// How a text counts on a handset.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SmsCount {
    /// The alphabet chosen: 0x00 (GSM 03.38) or 0x08 (UCS-2), see [`text::data_coding`].
    pub data_coding: u8,
    /// National language tables used (GSM only), [`NationalShift::NONE`] otherwise.
    pub shift: NationalShift,
    /// Length of the text in the alphabet's units: septets for GSM (extension characters count
    /// 2), UTF-16 code units for UCS-2 (characters outside the BMP count 2), octets for 8-bit.
    pub units: usize,
    /// Number of SMS the text takes (at least 1, also for the empty text).
    pub segments: usize,
    /// Capacity in `units` of each segment: the single-SMS capacity (160 / 70 / 140, less any
    /// national shift elements) when the text fits in one SMS, else the per-part capacity of the
    /// method (153 / 152, 67 / 66, 134 / 133). For [`SplitMethod::MessagePayload`] beyond one SMS
    /// it is `units`.
    pub per_segment: usize,
}

/// The units of each alphabet (see the table in the module documentation).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Alphabet {
    /// GSM 03.38: unit = septet on the air.
    Gsm,
    /// One octet per character: IA5, Latin-1, 8-bit.
    Octet,
    /// UCS-2 / UTF-16BE: unit = UTF-16 code unit = two octets.
    Ucs2,
}

impl Alphabet {
    fn of(data_coding: u8) -> Alphabet {
        match data_coding {
            dc::UCS2 => Alphabet::Ucs2,
            d if d == dc::SMSC_DEFAULT || (0xF0..=0xF3).contains(&d) => Alphabet::Gsm,
            _ => Alphabet::Octet,
        }
    }

    /// Units left in one SMS after a UDH of `udh` octets (UDHL included; 0 = no UDH). For GSM
    /// the UDH takes ⌈8·udh/7⌉ septets, the fill bits included: 6 → 7, 7 → 8 (facts §6.3).
    fn capacity(self, udh: usize) -> usize {
        match self {
            Alphabet::Gsm => 160 - (udh * 8).div_ceil(7),
            Alphabet::Octet => TP_UD_OCTETS - udh,
            Alphabet::Ucs2 => (TP_UD_OCTETS - udh) / 2,
        }
    }
}

/// Octets of a UDH holding `ie_octets` of information elements: 0 when there are none, else the
/// UDHL octet plus the elements.
fn udh_octets(ie_octets: usize) -> usize {
    if ie_octets == 0 {
        0
    } else {
        1 + ie_octets
    }
}

/// Greedy packing of characters of `sizes` units into parts of `cap` units, never splitting a
/// character; returns the number of characters in each part.
fn pack_chars(sizes: &[usize], cap: usize) -> Vec<usize> {
    let mut parts = Vec::new();
    let (mut chars, mut used) = (0usize, 0usize);
    for &size in sizes {
        if used + size > cap && chars > 0 {
            parts.push(chars);
            chars = 0;
            used = 0;
        }
        chars += 1;
        used += size;
    }
    if chars > 0 || parts.is_empty() {
        parts.push(chars);
    }
    parts
}

/// One way of writing the text, with its units per character.
#[derive(Clone, Debug)]
struct Candidate {
    data_coding: u8,
    shift: NationalShift,
    sizes: Vec<usize>,
}

impl Candidate {
    fn alphabet(&self) -> Alphabet {
        Alphabet::of(self.data_coding)
    }

    fn units(&self) -> usize {
        self.sizes.iter().sum()
    }

    /// Number of characters in each segment under `method` (one entry when it fits one SMS or
    /// goes in `message_payload`), and the per-segment capacity.
    fn layout(&self, method: SplitMethod) -> (Vec<usize>, usize) {
        let alphabet = self.alphabet();
        let shift_ie = self.shift.udh_elements().len();
        let single = alphabet.capacity(udh_octets(shift_ie));
        if self.units() <= single {
            return (vec![self.sizes.len()], single);
        }
        if method == SplitMethod::MessagePayload {
            return (vec![self.sizes.len()], self.units());
        }
        let cap = alphabet.capacity(udh_octets(method.concat_ie_octets() + shift_ie));
        (pack_chars(&self.sizes, cap), cap)
    }
}

/// GSM septets of each character of `s` under `shift`, `None` when one is not in the tables.
fn gsm_sizes(s: &str, shift: NationalShift) -> Option<Vec<usize>> {
    s.chars()
        .map(|c| gsm7::char_septets_with_shift(c, shift.single, shift.locking))
        .collect()
}

fn ucs2(s: &str) -> Candidate {
    Candidate {
        data_coding: dc::UCS2,
        shift: NationalShift::NONE,
        sizes: s.chars().map(char::len_utf16).collect(),
    }
}

/// The default-alphabet candidate when the bind can carry it: GSM septets on the air, and the
/// text must also be writable in the bind's data_coding 0 alphabet.
fn gsm_default(s: &str, default: DefaultAlphabet) -> Option<Candidate> {
    let sizes = gsm_sizes(s, NationalShift::NONE)?;
    if default != DefaultAlphabet::Gsm7 && text::encode_with_default(default, 0, s).is_err() {
        return None;
    }
    Some(Candidate {
        data_coding: dc::SMSC_DEFAULT,
        shift: NationalShift::NONE,
        sizes,
    })
}

/// The national-table candidate taking the fewest segments (then the fewest elements).
fn gsm_national(s: &str, opts: &SplitOptions) -> Option<Candidate> {
    if !opts.method.writes_udh() || opts.default_alphabet != DefaultAlphabet::Gsm7 {
        return None;
    }
    opts.national_languages
        .iter()
        .flat_map(|&lang| NationalShift::candidates(lang))
        .filter_map(|shift| {
            Some(Candidate {
                data_coding: dc::SMSC_DEFAULT,
                shift,
                sizes: gsm_sizes(s, shift)?,
            })
        })
        .min_by_key(|c| (c.layout(opts.method).0.len(), c.shift.udh_elements().len()))
}

/// How `text` will be written under `opts`.
fn plan(text: &str, opts: &SplitOptions) -> Result<Candidate, TextError> {
    match opts.data_coding {
        None => Ok(gsm_default(text, opts.default_alphabet)
            .or_else(|| gsm_national(text, opts))
            .unwrap_or_else(|| ucs2(text))),
        Some(d) => match Alphabet::of(d) {
            Alphabet::Ucs2 => Ok(ucs2(text)),
            Alphabet::Gsm => {
                // data_coding 0 follows the bind's default alphabet; 0xF0–0xF3 are always GSM.
                let default = if d == dc::SMSC_DEFAULT {
                    opts.default_alphabet
                } else {
                    DefaultAlphabet::Gsm7
                };
                if let Some(mut c) = gsm_default(text, default) {
                    c.data_coding = d;
                    return Ok(c);
                }
                if let Some(mut c) = gsm_national(text, opts) {
                    c.data_coding = d;
                    return Ok(c);
                }
                // Report the first character the alphabet cannot hold.
                text::encode_with_default(default, d, text)?;
                gsm7::encode_unpacked(text)?;
                unreachable_text_error(text)
            }
            Alphabet::Octet => {
                text::encode(d, text)?;
                Ok(Candidate {
                    data_coding: d,
                    shift: NationalShift::NONE,
                    sizes: vec![1; text.chars().count()],
                })
            }
        },
    }
}

/// Only reached if the checks above disagree; reported as the text's first character.
fn unreachable_text_error(text: &str) -> Result<Candidate, TextError> {
    Err(TextError::Unencodable {
        ch: text.chars().next().unwrap_or('\u{0}'),
        index: 0,
        alphabet: "GSM 03.38",
    })
}

/// The octets of `chunk` written as `candidate` says, on a bind whose data_coding 0 is
/// `default`.
fn encode_chunk(
    candidate: &Candidate,
    chunk: &str,
    default: DefaultAlphabet,
) -> Result<Vec<u8>, TextError> {
    let NationalShift { single, locking } = candidate.shift;
    match Alphabet::of(candidate.data_coding) {
        Alphabet::Gsm if !candidate.shift.is_none() => {
            gsm7::encode_unpacked_with_shift(chunk, single, locking)
        }
        Alphabet::Gsm if candidate.data_coding == dc::SMSC_DEFAULT => {
            text::encode_with_default(default, 0, chunk)
        }
        _ => text::encode(candidate.data_coding, chunk),
    }
}

/// Count `text` as handsets do in the smallest alphabet (GSM 03.38 else UCS-2): 160/153/152
/// septets, 70/67/66 UCS-2 units; `method` decides the UDH size (Udh16 → 7-octet UDH);
/// MessagePayload → always 1 segment. Same as [`count_with`] with only `method` set.
///
/// Segments are counted by packing whole characters, exactly as [`split`] does, so an extension
/// character or a surrogate pair that would straddle a boundary moves to the next segment.
///
/// ```
/// use smpp_codec::segment::{count, SplitMethod};
/// let c = count(&"a".repeat(161), SplitMethod::Udh8);
/// assert_eq!((c.data_coding, c.units, c.segments, c.per_segment), (0, 161, 2, 153));
/// ```
pub fn count(text: &str, method: SplitMethod) -> SmsCount {
    count_with(
        text,
        &SplitOptions {
            method,
            ..SplitOptions::default()
        },
    )
}

/// Count `text` under a bind's settings (see [`SplitOptions`]). A `data_coding` the text cannot
/// be written in counts as UCS-2.
pub fn count_with(text: &str, opts: &SplitOptions) -> SmsCount {
    let c = plan(text, opts).unwrap_or_else(|_| ucs2(text));
    let (parts, per_segment) = c.layout(opts.method);
    SmsCount {
        data_coding: c.data_coding,
        shift: c.shift,
        units: c.units(),
        segments: parts.len(),
        per_segment,
    }
}

/// One part ready to put in a submit_sm/deliver_sm.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Part {
    /// `data_coding` of the part (SMPP 3.4 §5.2.19); the same for every part of a message.
    pub data_coding: u8,
    /// 0x40 (UDHI) when `short_message` starts with a UDH, else 0; OR it into `esm_class`.
    pub esm_class_bits: u8,
    /// The `short_message` octets: UDH (if any) then the encoded text — except for
    /// [`SplitMethod::MessagePayload`], where it is empty when the text did not fit one SMS.
    pub short_message: Bytes,
    /// SAR TLVs ([`SplitMethod::Sar`]) or `message_payload` ([`SplitMethod::MessagePayload`]).
    pub tlvs: Tlvs,
}

/// Encode and split `text` (data_coding `None` → smallest alphabet; `Some(dc)` → that alphabet
/// or [`TextError`]). Same as [`split_with`] with `method`, `data_coding` and `reference` set and
/// the other settings at their defaults (GSM for data_coding 0, no national tables).
///
/// # Errors
/// As [`split_with`].
///
/// ```
/// use smpp_codec::segment::{split, SplitMethod};
/// let parts = split(&"x".repeat(300), None, SplitMethod::Udh8, 0x2A).unwrap();
/// assert_eq!(parts.len(), 2);
/// assert_eq!(&parts[1].short_message[..6], &[5, 0, 3, 0x2A, 2, 2]);
/// ```
pub fn split(
    text: &str,
    data_coding: Option<u8>,
    method: SplitMethod,
    reference: u16,
) -> Result<Vec<Part>, TextError> {
    split_with(
        text,
        &SplitOptions {
            method,
            data_coding,
            reference,
            ..SplitOptions::default()
        },
    )
}

/// Encode and split `text` under a bind's settings. GSM text is unpacked septets (SMPP
/// convention), or the bind's data_coding 0 alphabet. A part never splits an escape pair or a
/// UTF-16 surrogate pair. One part without concatenation when it fits in one SMS (with a UDH only
/// for national shift elements). Parts are numbered from 1.
///
/// Supported `data_coding` values are the text alphabets of [`text::encode`]: 0x00 and 0xF0–0xF3
/// (GSM 03.38), 0x01 (IA5), 0x03 (Latin-1), 0x08 (UCS-2).
///
/// # Errors
/// [`TextError::Unencodable`] / [`TextError::NotText`] from [`text::encode`];
/// [`TextError::TooLong`] when the text needs more than 255 parts or, for
/// [`SplitMethod::MessagePayload`], more than 65535 octets.
pub fn split_with(text: &str, opts: &SplitOptions) -> Result<Vec<Part>, TextError> {
    Ok(chunk(text, opts)?.parts(opts.reference))
}

/// One segment's share of a text: its characters and their encoded octets (no UDH).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Chunk {
    /// The characters this segment carries.
    pub text: String,
    /// Their octets in the chosen alphabet, without any UDH.
    pub user_data: Bytes,
}

/// A text cut into segments once, to be numbered later with any number of references (one per
/// recipient): see [`chunk`] and [`Chunks::part`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Chunks {
    data_coding: u8,
    shift: NationalShift,
    method: SplitMethod,
    /// The text fits one SMS (no concatenation).
    single: bool,
    chunks: Vec<Chunk>,
}

impl Chunks {
    /// Number of parts (1 when the text fits one SMS or goes whole in `message_payload`).
    pub fn len(&self) -> usize {
        self.chunks.len()
    }

    /// Never `true`: even the empty text is one part.
    pub fn is_empty(&self) -> bool {
        self.chunks.is_empty()
    }

    /// The `data_coding` of every part.
    pub fn data_coding(&self) -> u8 {
        self.data_coding
    }

    /// The national language tables used (GSM only).
    pub fn shift(&self) -> NationalShift {
        self.shift
    }

    /// The segments' characters and octets, in order.
    pub fn chunks(&self) -> &[Chunk] {
        &self.chunks
    }

    /// Part `index` (0-based) of the message numbered `reference` (its low 8 bits with
    /// [`SplitMethod::Udh8`]): UDH or SAR TLVs per the method, the national shift elements in the
    /// UDH, or the whole text in `message_payload`.
    ///
    /// # Panics
    /// When `index >= self.len()`.
    pub fn part(&self, index: usize, reference: u16) -> Part {
        let body = &self.chunks[index].user_data;
        let shift_ie = self.shift.udh_elements();
        let data_coding = self.data_coding;
        if self.chunks.len() == 1 {
            if !self.single {
                // MessagePayload: the whole text in one TLV.
                let mut tlvs = Tlvs::new();
                tlvs.push(tags::MESSAGE_PAYLOAD, body);
                return Part {
                    data_coding,
                    esm_class_bits: 0,
                    short_message: Bytes::new(),
                    tlvs,
                };
            }
            if shift_ie.is_empty() {
                return Part {
                    data_coding,
                    esm_class_bits: 0,
                    short_message: body.clone(),
                    tlvs: Tlvs::new(),
                };
            }
            let mut v = Vec::with_capacity(1 + shift_ie.len() + body.len());
            v.push(shift_ie.len() as u8);
            v.extend_from_slice(&shift_ie);
            v.extend_from_slice(body);
            return Part {
                data_coding,
                esm_class_bits: UDHI,
                short_message: Bytes::from(v),
                tlvs: Tlvs::new(),
            };
        }
        let info = udh::ConcatInfo {
            reference,
            total: self.chunks.len() as u8,
            seqnum: index as u8 + 1,
        };
        let mut tlvs = Tlvs::new();
        let (esm_class_bits, short_message) = match self.method {
            SplitMethod::Udh8 | SplitMethod::Udh16 => {
                let concat: &[u8] = if self.method == SplitMethod::Udh8 {
                    &info.udh_8bit()[1..]
                } else {
                    &info.udh_16bit()[1..]
                };
                let mut v = Vec::with_capacity(1 + concat.len() + shift_ie.len() + body.len());
                v.push((concat.len() + shift_ie.len()) as u8);
                v.extend_from_slice(concat);
                v.extend_from_slice(&shift_ie);
                v.extend_from_slice(body);
                (UDHI, Bytes::from(v))
            }
            SplitMethod::Sar | SplitMethod::MessagePayload => {
                tlvs.push(tags::SAR_MSG_REF_NUM, &reference.to_be_bytes());
                tlvs.push(tags::SAR_TOTAL_SEGMENTS, &[info.total]);
                tlvs.push(tags::SAR_SEGMENT_SEQNUM, &[info.seqnum]);
                (0, body.clone())
            }
        };
        Part {
            data_coding,
            esm_class_bits,
            short_message,
            tlvs,
        }
    }

    /// Every part of the message numbered `reference`.
    pub fn parts(&self, reference: u16) -> Vec<Part> {
        (0..self.len()).map(|i| self.part(i, reference)).collect()
    }
}

/// Encodes and cuts `text` under a bind's settings (as [`split_with`], which is `chunk` then
/// [`Chunks::parts`]); `opts.reference` is not used: each [`Chunks::part`] call gives its own.
///
/// # Errors
/// As [`split_with`].
pub fn chunk(text: &str, opts: &SplitOptions) -> Result<Chunks, TextError> {
    let candidate = plan(text, opts)?;
    let (counts, cap) = candidate.layout(opts.method);
    let shift_ie = candidate.shift.udh_elements().len();
    let single = candidate.units() <= candidate.alphabet().capacity(udh_octets(shift_ie));
    if counts.len() == 1 {
        let encoded = encode_chunk(&candidate, text, opts.default_alphabet)?;
        if !single && encoded.len() > MAX_PAYLOAD {
            return Err(TextError::TooLong {
                len: encoded.len(),
                max: MAX_PAYLOAD,
            });
        }
        return Ok(Chunks {
            data_coding: candidate.data_coding,
            shift: candidate.shift,
            method: opts.method,
            single,
            chunks: vec![Chunk {
                text: text.to_string(),
                user_data: Bytes::from(encoded),
            }],
        });
    }
    if counts.len() > 255 {
        return Err(TextError::TooLong {
            len: candidate.units(),
            max: 255 * cap,
        });
    }
    let mut chunks = Vec::with_capacity(counts.len());
    let mut rest = text;
    for &n in &counts {
        let end = rest.char_indices().nth(n).map_or(rest.len(), |(b, _)| b);
        let (piece, tail) = rest.split_at(end);
        rest = tail;
        chunks.push(Chunk {
            text: piece.to_string(),
            user_data: Bytes::from(encode_chunk(&candidate, piece, opts.default_alphabet)?),
        });
    }
    Ok(Chunks {
        data_coding: candidate.data_coding,
        shift: candidate.shift,
        method: opts.method,
        single: false,
        chunks,
    })
}

/// One inbound part as the reassembler reads it: the fields of a `deliver_sm`, `submit_sm` or
/// `data_sm` that carry concatenation and user data.
#[derive(Clone, Copy, Debug)]
pub struct InboundPart<'a> {
    /// `data_coding` of the part.
    pub data_coding: u8,
    /// `esm_class`: UDHI (0x40) says `short_message` starts with a UDH.
    pub esm_class: u8,
    /// `short_message` (empty for `data_sm`).
    pub short_message: &'a [u8],
    /// The PDU's TLVs (SAR, `message_payload`).
    pub tlvs: &'a Tlvs,
}

/// A whole inbound message, as [`Reassembler::push`] hands it on, with the parts it was made of.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Reassembled<T> {
    /// `data_coding` of the first part (§5.2.19); decode with [`Reassembled::text`].
    pub data_coding: u8,
    /// National language tables the first part's UDH selected.
    pub shift: NationalShift,
    /// User data of every part in order, UDH stripped.
    pub user_data: Vec<u8>,
    /// What the caller gave with each part (e.g. its frame), in part order; one entry for a
    /// message that was not concatenated.
    pub parts: Vec<T>,
    /// The concatenation reference (8-bit references as 0–255), `None` when not concatenated.
    pub reference: Option<u16>,
}

impl<T> Reassembled<T> {
    /// The message text: `user_data` decoded by `data_coding` (data_coding 0 in the bind's
    /// `default` alphabet) with the national tables of [`Reassembled::shift`].
    ///
    /// # Errors
    /// As [`text::decode`] (binary codings, odd UCS-2 length).
    pub fn text(&self, default: DefaultAlphabet) -> Result<String, TextError> {
        if self.shift.is_none() {
            text::decode_with_default(default, self.data_coding, &self.user_data)
        } else {
            text::decode_with_shift(
                self.data_coding,
                &self.user_data,
                self.shift.single,
                self.shift.locking,
            )
        }
    }
}

/// What became of a part offered to [`Reassembler::push`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Pushed<T> {
    /// The message is whole (this was its last missing part, or it was never concatenated).
    Complete(Reassembled<T>),
    /// Held until the other parts arrive.
    Pending,
    /// A part with this number is already held: this copy is handed back (the first copy wins).
    Duplicate(T),
    /// Holding it would exceed the memory cap: handed back, nothing stored, so the caller can
    /// pass it on alone rather than lose it.
    Refused(T),
}

/// An incomplete message dropped by [`Reassembler::expire`], with the parts it had: the caller
/// passes them on one by one so that nothing is lost.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Expired<T> {
    /// The key given with the parts.
    pub key: String,
    /// The concatenation reference.
    pub reference: u16,
    /// The total number of parts announced.
    pub total: u8,
    /// The parts received, as `(seqnum, item)`, in part order.
    pub parts: Vec<(u8, T)>,
}

/// Which kind of concatenation a part used; parts of one message share it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
enum ConcatKind {
    Udh8,
    Udh16,
    Sar,
}

#[derive(Clone, Debug, PartialEq, Eq, Hash)]
struct PartialKey {
    key: String,
    kind: ConcatKind,
    reference: u16,
    total: u8,
}

#[derive(Debug)]
struct Partial<T> {
    started: Instant,
    data_coding: u8,
    shift: NationalShift,
    /// Index `seqnum - 1`: user data and the caller's item.
    parts: Vec<Option<(Vec<u8>, T)>>,
    received: usize,
    bytes: usize,
}

/// Reassembly of inbound parts — UDH with 8- or 16-bit reference, SAR TLVs, or one
/// `message_payload` — arriving in any order, with extra UDH elements present, under a timeout and
/// a memory cap.
///
/// Parts belong together when they share the caller's `key` (e.g. `"source|destination|bind"`),
/// the kind of concatenation, the reference and the total. Each part carries an item `T` of the
/// caller's (its frame, sequence number, …) that comes back with the whole message, so the caller
/// can acknowledge and record every part. The memory cap counts the user-data octets held
/// ([`Reassembler::pending_bytes`]); a part that would take it past `max_bytes` is refused
/// ([`Pushed::Refused`]) unless it completes its message. No clock is read: callers pass `now`.
#[derive(Debug)]
pub struct Reassembler<T = ()> {
    timeout: Duration,
    max_bytes: usize,
    pending: HashMap<PartialKey, Partial<T>>,
    bytes: usize,
}

/// Concatenation of one part: kind, reference, total, seqnum.
type Concat = (ConcatKind, u16, u8, u8);

/// Concatenation of one inbound part; its user data; and the national tables its UDH selects.
fn concat_of<'a>(part: &InboundPart<'a>) -> (Option<Concat>, UserData<'a>, NationalShift) {
    let sm = part.short_message;
    let payload = part.tlvs.message_payload();
    // UDHI applies to whichever field carries the user data.
    let (data, owned) = match payload {
        Some(p) if sm.is_empty() => (None, Some(p)),
        _ => (Some(sm), None),
    };
    if part.esm_class & UDHI != 0 {
        let ud: &[u8] = data.unwrap_or_else(|| owned.as_deref().unwrap_or_default());
        if let Some(len) = udh::udh_len(ud) {
            let shift = NationalShift::from_udh(ud);
            let info = udh::concat_info(ud).map(|i| {
                let kind = if concat_iei(ud) == Some(udh::IEI_CONCAT_16) {
                    ConcatKind::Udh16
                } else {
                    ConcatKind::Udh8
                };
                (kind, i.reference, i.total, i.seqnum)
            });
            let body = match (data, &owned) {
                (Some(sm), _) => UserData::Borrowed(&sm[len..]),
                (None, Some(p)) => UserData::Owned(p.slice(len..)),
                (None, None) => UserData::Borrowed(&[]),
            };
            return (info, body, shift);
        }
    }
    let body = match (data, owned) {
        (Some(sm), _) => UserData::Borrowed(sm),
        (None, Some(p)) => UserData::Owned(p),
        (None, None) => UserData::Borrowed(&[]),
    };
    let sar = part
        .tlvs
        .sar()
        .filter(|&(_, total, seq)| total != 0 && seq != 0 && seq <= total)
        .map(|(r, total, seq)| (ConcatKind::Sar, r, total, seq));
    (sar, body, NationalShift::NONE)
}

/// The IEI of the first concatenation element of a well-formed UDH.
fn concat_iei(user_data: &[u8]) -> Option<u8> {
    let len = udh::udh_len(user_data)?;
    let mut h = &user_data[1..len];
    while let [iei, l, rest @ ..] = h {
        if *iei == udh::IEI_CONCAT_8 || *iei == udh::IEI_CONCAT_16 {
            return Some(*iei);
        }
        h = rest.get(usize::from(*l)..)?;
    }
    None
}

enum UserData<'a> {
    Borrowed(&'a [u8]),
    Owned(Bytes),
}

impl UserData<'_> {
    fn as_slice(&self) -> &[u8] {
        match self {
            UserData::Borrowed(b) => b,
            UserData::Owned(b) => b,
        }
    }
}

impl<T> Reassembler<T> {
    /// A reassembler that drops incomplete messages `timeout` after their first part arrived
    /// (see [`Reassembler::expire`]) and holds at most `max_bytes` octets of user data.
    pub fn new(timeout: Duration, max_bytes: usize) -> Self {
        Reassembler {
            timeout,
            max_bytes,
            pending: HashMap::new(),
            bytes: 0,
        }
    }

    /// Offer one part with the caller's `item`; `key` identifies the sender/recipient pair.
    ///
    /// Concatenation is read from the UDH when `esm_class` has UDHI (0x40) — IEI 0x00 or 0x08,
    /// wherever it is among the elements, national shift elements noted — else from the three
    /// SAR TLVs (all must be present and consistent). The user data is `short_message` without
    /// its UDH, or `message_payload` (without its UDH) when `short_message` is empty. A
    /// malformed UDH is treated as no UDH (the octets are kept). A part that is not concatenated,
    /// or is part 1 of 1, is [`Pushed::Complete`] at once.
    pub fn push(&mut self, now: Instant, key: &str, part: InboundPart<'_>, item: T) -> Pushed<T> {
        let (concat, data, shift) = concat_of(&part);
        let data = data.as_slice();
        let Some((kind, reference, total, seqnum)) = concat.filter(|c| c.2 > 1) else {
            return Pushed::Complete(Reassembled {
                data_coding: part.data_coding,
                shift,
                user_data: data.to_vec(),
                parts: vec![item],
                reference: concat.map(|c| c.1),
            });
        };
        let pkey = PartialKey {
            key: key.to_owned(),
            kind,
            reference,
            total,
        };
        let idx = usize::from(seqnum - 1);
        if let Some(p) = self.pending.get(&pkey) {
            if p.parts[idx].is_some() {
                return Pushed::Duplicate(item);
            }
            if p.received + 1 == usize::from(total) {
                let Some(mut p) = self.pending.remove(&pkey) else {
                    return Pushed::Refused(item);
                };
                self.bytes -= p.bytes;
                p.parts[idx] = Some((data.to_vec(), item));
                let mut user_data = Vec::with_capacity(p.bytes + data.len());
                let mut items = Vec::with_capacity(p.parts.len());
                for (d, it) in p.parts.into_iter().flatten() {
                    user_data.extend_from_slice(&d);
                    items.push(it);
                }
                return Pushed::Complete(Reassembled {
                    data_coding: p.data_coding,
                    shift: p.shift,
                    user_data,
                    parts: items,
                    reference: Some(reference),
                });
            }
        }
        if self.bytes + data.len() > self.max_bytes {
            return Pushed::Refused(item);
        }
        let p = self.pending.entry(pkey).or_insert_with(|| Partial {
            started: now,
            data_coding: part.data_coding,
            shift,
            parts: std::iter::repeat_with(|| None)
                .take(usize::from(total))
                .collect(),
            received: 0,
            bytes: 0,
        });
        if seqnum == 1 {
            p.data_coding = part.data_coding;
            p.shift = shift;
        }
        p.parts[idx] = Some((data.to_vec(), item));
        p.received += 1;
        p.bytes += data.len();
        self.bytes += data.len();
        Pushed::Pending
    }

    /// Drops the incomplete messages whose first part arrived more than `timeout` before `now`,
    /// and returns them with their parts, for the caller to pass on one by one.
    pub fn expire(&mut self, now: Instant) -> Vec<Expired<T>> {
        let timeout = self.timeout;
        let old: Vec<PartialKey> = self
            .pending
            .iter()
            .filter(|(_, p)| now.saturating_duration_since(p.started) > timeout)
            .map(|(k, _)| k.clone())
            .collect();
        let mut out = Vec::with_capacity(old.len());
        for k in old {
            if let Some(p) = self.pending.remove(&k) {
                self.bytes -= p.bytes;
                let parts = p
                    .parts
                    .into_iter()
                    .enumerate()
                    .filter_map(|(i, slot)| slot.map(|(_, item)| (i as u8 + 1, item)))
                    .collect();
                out.push(Expired {
                    key: k.key,
                    reference: k.reference,
                    total: k.total,
                    parts,
                });
            }
        }
        out
    }

    /// When the oldest incomplete message expires (its first part's arrival + timeout), for
    /// the caller's timer; `None` when nothing is pending.
    pub fn next_expiry(&self) -> Option<Instant> {
        self.pending
            .values()
            .map(|p| p.started + self.timeout)
            .min()
    }

    /// Octets of user data held for incomplete messages.
    pub fn pending_bytes(&self) -> usize {
        self.bytes
    }

    /// Number of incomplete messages held.
    pub fn pending_messages(&self) -> usize {
        self.pending.len()
    }
}
#[cfg(test)]
mod tests {
    use super::*;
    use crate::text::national;

    fn gsm(n: usize) -> String {
        "a".repeat(n)
    }

    #[test]
    fn gsm_single_and_two_parts() {
        let c = count(&gsm(160), SplitMethod::Udh8);
        assert_eq!(
            c,
            SmsCount {
                data_coding: 0,
                shift: NationalShift::NONE,
                units: 160,
                segments: 1,
                per_segment: 160
            }
        );
        let parts = split(&gsm(160), None, SplitMethod::Udh8, 1).unwrap();
        assert_eq!(parts.len(), 1);
        assert_eq!(parts[0].esm_class_bits, 0);
        assert_eq!(parts[0].short_message.len(), 160);
        assert!(parts[0].tlvs.is_empty());

        let c = count(&gsm(161), SplitMethod::Udh8);
        assert_eq!((c.units, c.segments, c.per_segment), (161, 2, 153));
        let parts = split(&gsm(161), None, SplitMethod::Udh8, 1).unwrap();
        assert_eq!(parts.len(), 2);
        assert_eq!(parts[0].short_message.len(), 6 + 153);
        assert_eq!(parts[1].short_message.len(), 6 + 8);
    }

    #[test]
    fn extension_characters_count_twice() {
        assert_eq!(count("€", SplitMethod::Udh8).units, 2);
        assert_eq!(count("a€{", SplitMethod::Udh8).units, 5);
        // 159 + € = 161 septets: two segments, though 160 characters.
        let s = format!("{}€", gsm(159));
        let c = count(&s, SplitMethod::Udh8);
        assert_eq!((c.data_coding, c.units, c.segments), (0, 161, 2));
    }

    #[test]
    fn escape_pair_never_split() {
        // 152 'a' then '€': the pair would take septets 153–154 of part 1, so it moves.
        let s = format!("{}€{}", gsm(152), gsm(10));
        let parts = split(&s, None, SplitMethod::Udh8, 7).unwrap();
        assert_eq!(parts.len(), 2);
        assert_eq!(parts[0].short_message.len(), 6 + 152);
        assert_eq!(&parts[1].short_message[6..8], &[0x1B, 0x65]);
        let c = count(&s, SplitMethod::Udh8);
        assert_eq!(c.segments, 2);
        // Every part's text decodes by itself.
        let joined: String = parts
            .iter()
            .map(|p| text::decode(0, &p.short_message[6..]).unwrap())
            .collect();
        assert_eq!(joined, s);
    }

    #[test]
    fn ucs2_limits() {
        let s70 = "ж".repeat(70);
        let c = count(&s70, SplitMethod::Udh8);
        assert_eq!(
            (c.data_coding, c.units, c.segments, c.per_segment),
            (8, 70, 1, 70)
        );
        let s71 = "ж".repeat(71);
        let c = count(&s71, SplitMethod::Udh8);
        assert_eq!((c.units, c.segments, c.per_segment), (71, 2, 67));
        let parts = split(&s71, None, SplitMethod::Udh8, 3).unwrap();
        assert_eq!(parts.len(), 2);
        assert_eq!(parts[0].data_coding, 8);
        assert_eq!(parts[0].short_message.len(), 6 + 134);
        assert_eq!(parts[1].short_message.len(), 6 + 8);
        assert_eq!(count(&s71, SplitMethod::Udh16).per_segment, 66);
    }

    #[test]
    fn surrogate_pair_never_split() {
        // 66 'ж' (66 units) then an emoji (2 units): 68 > 67, so the emoji moves to part 2.
        let s = format!("{}😀{}", "ж".repeat(66), "ж".repeat(10));
        let c = count(&s, SplitMethod::Udh8);
        assert_eq!((c.units, c.segments), (78, 2));
        let parts = split(&s, None, SplitMethod::Udh8, 3).unwrap();
        assert_eq!(parts[0].short_message.len(), 6 + 132);
        assert_eq!(&parts[1].short_message[6..10], &[0xD8, 0x3D, 0xDE, 0x00]);
        for p in &parts {
            assert!(!text::decode(8, &p.short_message[6..])
                .unwrap()
                .contains('\u{FFFD}'));
        }
    }

    #[test]
    fn three_hundred_gsm_chars_udh8() {
        let s = gsm(300);
        let parts = split(&s, None, SplitMethod::Udh8, 0x1A7).unwrap();
        assert_eq!(parts.len(), 2);
        assert_eq!(
            &parts[0].short_message[..6],
            &[0x05, 0x00, 0x03, 0xA7, 0x02, 0x01]
        );
        assert_eq!(
            &parts[1].short_message[..6],
            &[0x05, 0x00, 0x03, 0xA7, 0x02, 0x02]
        );
        assert_eq!(parts[0].short_message.len(), 6 + 153);
        assert_eq!(parts[1].short_message.len(), 6 + 147);
        for p in &parts {
            assert_eq!(p.esm_class_bits, 0x40);
            assert_eq!(p.data_coding, 0);
            assert!(p.tlvs.is_empty());
        }
    }

    #[test]
    fn udh16_capacity() {
        let c = count(&gsm(305), SplitMethod::Udh16);
        assert_eq!((c.segments, c.per_segment), (3, 152));
        assert_eq!(count(&gsm(304), SplitMethod::Udh16).segments, 2);
        assert_eq!(count(&gsm(304), SplitMethod::Udh8).segments, 2);
        let parts = split(&gsm(305), None, SplitMethod::Udh16, 0xBEEF).unwrap();
        assert_eq!(parts.len(), 3);
        assert_eq!(&parts[0].short_message[..7], &[6, 8, 4, 0xBE, 0xEF, 3, 1]);
        assert_eq!(parts[0].short_message.len(), 7 + 152);
        assert_eq!(parts[2].short_message.len(), 7 + 1);
        assert!(parts.iter().all(|p| p.esm_class_bits == 0x40));
    }

    #[test]
    fn sar_parts_carry_tlvs_and_no_udh() {
        let parts = split(&gsm(200), None, SplitMethod::Sar, 0x0102).unwrap();
        assert_eq!(parts.len(), 2);
        for (i, p) in parts.iter().enumerate() {
            assert_eq!(p.esm_class_bits, 0);
            assert_eq!(p.tlvs.sar(), Some((0x0102, 2, i as u8 + 1)));
            assert!(p.short_message.iter().all(|&b| b == b'a'));
        }
        assert_eq!(parts[0].short_message.len(), 153);
        assert_eq!(parts[1].short_message.len(), 47);
    }

    #[test]
    fn message_payload_is_one_part() {
        let c = count(&gsm(1000), SplitMethod::MessagePayload);
        assert_eq!((c.segments, c.units, c.per_segment), (1, 1000, 1000));
        let parts = split(&gsm(1000), None, SplitMethod::MessagePayload, 0).unwrap();
        assert_eq!(parts.len(), 1);
        assert!(parts[0].short_message.is_empty());
        assert_eq!(parts[0].tlvs.message_payload().unwrap().len(), 1000);
        assert_eq!(parts[0].esm_class_bits, 0);
        // Fits in one SMS: plain short_message.
        let parts = split("hi", None, SplitMethod::MessagePayload, 0).unwrap();
        assert_eq!(&parts[0].short_message[..], b"hi");
        assert!(parts[0].tlvs.is_empty());
        assert_eq!(
            split(&gsm(70_000), None, SplitMethod::MessagePayload, 0),
            Err(TextError::TooLong {
                len: 70_000,
                max: 65_535
            })
        );
    }

    #[test]
    fn explicit_coding_and_errors() {
        let parts = split("héllo", Some(dc::LATIN1), SplitMethod::Udh8, 0).unwrap();
        assert_eq!(&parts[0].short_message[..], b"h\xE9llo");
        assert_eq!(parts[0].data_coding, 3);
        let parts = split(&gsm(141), Some(dc::IA5), SplitMethod::Udh8, 0).unwrap();
        assert_eq!(parts.len(), 2);
        assert_eq!(parts[0].short_message.len(), 140);
        assert!(matches!(
            split("ж", Some(0), SplitMethod::Udh8, 0),
            Err(TextError::Unencodable { ch: 'ж', .. })
        ));
        assert_eq!(
            split("x", Some(0x04), SplitMethod::Udh8, 0),
            Err(TextError::NotText(0x04))
        );
        assert!(matches!(
            split(&gsm(153 * 256), None, SplitMethod::Udh8, 0),
            Err(TextError::TooLong { .. })
        ));
        assert_eq!(
            split(&gsm(153 * 255), None, SplitMethod::Udh8, 0)
                .unwrap()
                .len(),
            255
        );
    }

    #[test]
    fn empty_text() {
        let c = count("", SplitMethod::Udh8);
        assert_eq!((c.units, c.segments), (0, 1));
        let parts = split("", None, SplitMethod::Udh8, 0).unwrap();
        assert_eq!(parts.len(), 1);
        assert!(parts[0].short_message.is_empty());
    }

    fn now() -> Instant {
        Instant::now()
    }

    fn inbound(p: &Part) -> InboundPart<'_> {
        InboundPart {
            data_coding: p.data_coding,
            esm_class: p.esm_class_bits,
            short_message: &p.short_message,
            tlvs: &p.tlvs,
        }
    }

    /// Pushes `p` (tagged with its own short_message) and returns the whole message, if complete.
    fn push_part(r: &mut Reassembler<Bytes>, t: Instant, p: &Part) -> Option<Reassembled<Bytes>> {
        match r.push(t, "a|b|bind", inbound(p), p.short_message.clone()) {
            Pushed::Complete(m) => Some(m),
            _ => None,
        }
    }

    fn raw(
        r: &mut Reassembler<Bytes>,
        t: Instant,
        key: &str,
        dc: u8,
        esm: u8,
        sm: &[u8],
        tlvs: &Tlvs,
    ) -> Option<Reassembled<Bytes>> {
        let part = InboundPart {
            data_coding: dc,
            esm_class: esm,
            short_message: sm,
            tlvs,
        };
        match r.push(t, key, part, Bytes::copy_from_slice(sm)) {
            Pushed::Complete(m) => Some(m),
            _ => None,
        }
    }

    #[test]
    fn reassembles_out_of_order_with_duplicates() {
        let s: String = (0..400)
            .map(|i| char::from(b'a' + (i % 26) as u8))
            .collect();
        let parts = split(&s, None, SplitMethod::Udh8, 9).unwrap();
        assert_eq!(parts.len(), 3);
        let mut r = Reassembler::new(Duration::from_secs(60), 10_000);
        let t = now();
        assert_eq!(push_part(&mut r, t, &parts[2]), None);
        assert_eq!(r.pending_bytes(), parts[2].short_message.len() - 6);
        assert_eq!(push_part(&mut r, t, &parts[0]), None);
        assert_eq!(push_part(&mut r, t, &parts[0]), None, "duplicate ignored");
        let whole = push_part(&mut r, t, &parts[1]).unwrap();
        assert_eq!(
            whole.parts,
            vec![
                parts[0].short_message.clone(),
                parts[1].short_message.clone(),
                parts[2].short_message.clone()
            ]
        );
        assert_eq!(whole.reference, Some(9));
        assert_eq!(whole.data_coding, 0);
        assert_eq!(text::decode(0, &whole.user_data).unwrap(), s);
        assert_eq!(r.pending_bytes(), 0);
    }

    #[test]
    fn reassembles_16_bit_refs_and_keeps_refs_apart() {
        let a = split(&gsm(200), None, SplitMethod::Udh16, 0x1234).unwrap();
        let b = split(&"b".repeat(200), None, SplitMethod::Udh16, 0x1334).unwrap();
        let mut r = Reassembler::new(Duration::from_secs(60), 10_000);
        let t = now();
        assert_eq!(push_part(&mut r, t, &a[0]), None);
        assert_eq!(push_part(&mut r, t, &b[1]), None);
        let whole = push_part(&mut r, t, &a[1]).unwrap();
        assert_eq!(whole.reference, Some(0x1234));
        assert_eq!(whole.user_data, gsm(200).into_bytes());
        let whole = push_part(&mut r, t, &b[0]).unwrap();
        assert_eq!(whole.user_data, "b".repeat(200).into_bytes());
        // Same 16-bit ref from another sender stays apart.
        assert_eq!(
            raw(&mut r, t, "x", 0, 0x40, &a[0].short_message, &Tlvs::new()),
            None
        );
        assert_eq!(push_part(&mut r, t, &a[1]), None);
    }

    #[test]
    fn reassembles_sar() {
        let parts = split(&"ж".repeat(100), None, SplitMethod::Sar, 77).unwrap();
        assert_eq!(parts.len(), 2);
        let mut r = Reassembler::new(Duration::from_secs(60), 10_000);
        let t = now();
        assert_eq!(push_part(&mut r, t, &parts[1]), None);
        let whole = push_part(&mut r, t, &parts[0]).unwrap();
        assert_eq!(whole.data_coding, 8);
        assert_eq!(whole.reference, Some(77));
        assert_eq!(text::decode(8, &whole.user_data).unwrap(), "ж".repeat(100));
    }

    #[test]
    fn extra_udh_element_before_concat() {
        // Port IE (0x05, 4 octets) then the 8-bit concat IE.
        let mk = |n: u8, body: &[u8]| {
            let mut v = vec![
                0x0B, 0x05, 0x04, 0x0B, 0x84, 0x23, 0xF0, 0x00, 0x03, 0x42, 2, n,
            ];
            v.extend_from_slice(body);
            v
        };
        let mut r = Reassembler::new(Duration::from_secs(60), 10_000);
        let t = now();
        assert_eq!(
            raw(&mut r, t, "k", 4, 0x40, &mk(2, b"world"), &Tlvs::new()),
            None
        );
        let whole = raw(&mut r, t, "k", 4, 0x40, &mk(1, b"hello "), &Tlvs::new()).unwrap();
        assert_eq!(whole.user_data, b"hello world");
        assert_eq!(whole.reference, Some(0x42));
        assert_eq!(whole.parts.len(), 2);
    }

    #[test]
    fn single_parts_return_at_once() {
        let mut r = Reassembler::new(Duration::from_secs(60), 10_000);
        let t = now();
        let whole = raw(&mut r, t, "k", 0, 0, b"plain", &Tlvs::new()).unwrap();
        assert_eq!(
            whole,
            Reassembled {
                data_coding: 0,
                shift: NationalShift::NONE,
                user_data: b"plain".to_vec(),
                parts: vec![Bytes::from_static(b"plain")],
                reference: None
            }
        );
        // message_payload with an empty short_message.
        let mut tlvs = Tlvs::new();
        tlvs.push(tags::MESSAGE_PAYLOAD, b"payload");
        assert_eq!(
            raw(&mut r, t, "k", 0, 0, b"", &tlvs).unwrap().user_data,
            b"payload"
        );
        // UDHI with only a port element: UDH stripped, one part.
        let whole = raw(
            &mut r,
            t,
            "k",
            4,
            0x40,
            &[0x06, 0x05, 0x04, 0, 1, 0, 2, 0xAA],
            &Tlvs::new(),
        )
        .unwrap();
        assert_eq!((whole.user_data, whole.reference), (vec![0xAA], None));
        // A 1-of-1 concatenated part.
        let whole = raw(
            &mut r,
            t,
            "k",
            0,
            0x40,
            &[5, 0, 3, 9, 1, 1, b'x'],
            &Tlvs::new(),
        )
        .unwrap();
        assert_eq!((whole.user_data, whole.reference), (b"x".to_vec(), Some(9)));
        // UDHI set but malformed UDH: data kept as is.
        let whole = raw(&mut r, t, "k", 0, 0x40, &[9, 0, b'x'], &Tlvs::new()).unwrap();
        assert_eq!(whole.user_data, vec![9, 0, b'x']);
        assert_eq!(r.pending_bytes(), 0);
    }

    #[test]
    fn timeout_expiry_hands_back_the_parts() {
        let parts = split(&gsm(400), None, SplitMethod::Udh8, 5).unwrap();
        let mut r = Reassembler::new(Duration::from_secs(30), 10_000);
        let t0 = now();
        assert_eq!(r.next_expiry(), None);
        assert_eq!(push_part(&mut r, t0, &parts[0]), None);
        assert_eq!(
            push_part(&mut r, t0 + Duration::from_secs(5), &parts[2]),
            None
        );
        assert_eq!(r.next_expiry(), Some(t0 + Duration::from_secs(30)));
        assert!(
            r.expire(t0 + Duration::from_secs(30)).is_empty(),
            "not older yet"
        );
        assert_eq!(r.pending_bytes(), 153 + 94);
        let expired = r.expire(t0 + Duration::from_secs(31));
        assert_eq!(
            expired,
            vec![Expired {
                key: "a|b|bind".into(),
                reference: 5,
                total: 3,
                parts: vec![
                    (1, parts[0].short_message.clone()),
                    (3, parts[2].short_message.clone())
                ],
            }]
        );
        assert_eq!((r.pending_bytes(), r.pending_messages()), (0, 0));
        // The late second part now starts a new partial instead of completing.
        assert_eq!(
            push_part(&mut r, t0 + Duration::from_secs(32), &parts[1]),
            None
        );
        assert_eq!(r.pending_bytes(), 153);
    }

    #[test]
    fn memory_cap_refuses_and_hands_back() {
        let a = split(&gsm(300), None, SplitMethod::Udh8, 1).unwrap();
        let b = split(&gsm(300), None, SplitMethod::Udh8, 2).unwrap();
        let mut r: Reassembler<u32> = Reassembler::new(Duration::from_secs(60), 200);
        let t = now();
        assert_eq!(r.push(t, "k", inbound(&a[0]), 10), Pushed::Pending);
        assert_eq!(r.pending_bytes(), 153);
        // Another message's part would exceed 200 octets: refused, handed back, nothing stored.
        assert_eq!(r.push(t, "k", inbound(&b[0]), 20), Pushed::Refused(20));
        assert_eq!(r.push(t, "k", inbound(&b[1]), 21), Pushed::Refused(21));
        assert_eq!(r.pending_bytes(), 153);
        // A duplicate comes back too.
        assert_eq!(r.push(t, "k", inbound(&a[0]), 11), Pushed::Duplicate(11));
        // The part that completes `a` is accepted: it needs no storage.
        let Pushed::Complete(whole) = r.push(t, "k", inbound(&a[1]), 12) else {
            panic!("complete expected")
        };
        assert_eq!(whole.user_data.len(), 300);
        assert_eq!(whole.parts, vec![10, 12]);
        assert_eq!(r.pending_bytes(), 0);
        // Now there is room for b again.
        assert_eq!(r.push(t, "k", inbound(&b[0]), 20), Pushed::Pending);
        assert_eq!(r.pending_bytes(), 153);
    }

    #[test]
    fn reassembles_udh_inside_message_payload() {
        // Two parts, each a data_sm-like PDU whose message_payload starts with the UDH.
        let parts = split(&gsm(200), None, SplitMethod::Udh16, 0x0BEE).unwrap();
        let mut r = Reassembler::new(Duration::from_secs(60), 10_000);
        let t = now();
        let mut got = None;
        for p in parts.iter().rev() {
            let mut tlvs = Tlvs::new();
            tlvs.push(tags::MESSAGE_PAYLOAD, &p.short_message);
            got = raw(&mut r, t, "k", 0, 0x40, b"", &tlvs);
        }
        let whole = got.unwrap();
        assert_eq!(whole.user_data, gsm(200).into_bytes());
        assert_eq!(whole.reference, Some(0x0BEE));
    }

    fn turkish() -> SplitOptions {
        SplitOptions {
            national_languages: vec![national::TURKISH],
            ..SplitOptions::default()
        }
    }

    #[test]
    fn national_tables_chosen_only_when_they_help() {
        // Plain GSM text: the default alphabet, no UDH.
        let c = count_with("hello", &turkish());
        assert_eq!(
            (c.data_coding, c.shift, c.segments),
            (0, NationalShift::NONE, 1)
        );
        // Turkish letters: GSM with the Turkish single shift beats UCS-2.
        let s = "Günaydın, çalışma şöyle";
        assert_eq!(
            count(s, SplitMethod::Udh8).data_coding,
            8,
            "without national tables"
        );
        let c = count_with(s, &turkish());
        assert_eq!(c.data_coding, 0);
        assert!(!c.shift.is_none());
        assert_eq!(c.segments, 1);
        let parts = split_with(s, &turkish()).unwrap();
        assert_eq!(parts.len(), 1);
        assert_eq!(parts[0].esm_class_bits, 0x40, "the shift travels in a UDH");
        let ud = &parts[0].short_message;
        let shift = NationalShift::from_udh(ud);
        assert_eq!(shift, c.shift);
        let n = udh::udh_len(ud).unwrap();
        assert_eq!(
            text::decode_with_shift(0, &ud[n..], shift.single, shift.locking).unwrap(),
            s
        );
        // Not available with SAR (no UDH of ours) nor on a Latin-1 bind.
        let sar = SplitOptions {
            method: SplitMethod::Sar,
            ..turkish()
        };
        assert_eq!(count_with(s, &sar).data_coding, 8);
        let latin = SplitOptions {
            default_alphabet: DefaultAlphabet::Latin1,
            ..turkish()
        };
        assert_eq!(count_with(s, &latin).data_coding, 8);
    }

    #[test]
    fn national_shift_capacity_and_reassembly() {
        // Locking shift only (3-octet element): a single SMS holds 160 - ⌈4·8/7⌉ = 155 septets.
        let s: String = "ı".repeat(155);
        let c = count_with(&s, &turkish());
        assert_eq!(
            c.shift,
            NationalShift {
                single: None,
                locking: Some(national::TURKISH)
            }
        );
        assert_eq!((c.units, c.segments, c.per_segment), (155, 1, 155));
        // One more: parts with an 8-bit reference and the locking element: UDH 1+5+3 = 9 octets
        // → 160 - ⌈72/7⌉ = 149 septets per part.
        let s: String = "ı".repeat(156);
        let c = count_with(&s, &turkish());
        assert_eq!((c.segments, c.per_segment), (2, 149));
        let parts = split_with(
            &s,
            &SplitOptions {
                reference: 0x33,
                ..turkish()
            },
        )
        .unwrap();
        assert_eq!(parts.len(), 2);
        assert_eq!(
            &parts[0].short_message[..9],
            &[8, 0, 3, 0x33, 2, 1, 0x25, 1, 1]
        );
        assert_eq!(parts[0].short_message.len(), 9 + 149);
        let mut r = Reassembler::new(Duration::from_secs(60), 10_000);
        let t = now();
        assert_eq!(push_part(&mut r, t, &parts[1]), None);
        let whole = push_part(&mut r, t, &parts[0]).unwrap();
        assert_eq!(whole.shift, c.shift);
        assert_eq!(whole.text(DefaultAlphabet::Gsm7).unwrap(), s);
    }

    #[test]
    fn default_alphabet_of_the_bind() {
        // A Latin-1 bind writes data_coding 0 text in Latin-1; the air still counts GSM septets.
        let latin = SplitOptions {
            default_alphabet: DefaultAlphabet::Latin1,
            ..SplitOptions::default()
        };
        let parts = split_with("héllo @ {x}", &latin).unwrap();
        assert_eq!(parts[0].data_coding, 0);
        assert_eq!(&parts[0].short_message[..], b"h\xE9llo @ {x}");
        let c = count_with("{x}", &latin);
        assert_eq!(
            c.units, 5,
            "extension characters still count twice on the air"
        );
        // '€' is GSM but not Latin-1: such a bind gets UCS-2.
        assert_eq!(split_with("5€", &latin).unwrap()[0].data_coding, 8);
        // Explicit data_coding 0 on a Latin-1 bind.
        let explicit = SplitOptions {
            data_coding: Some(0),
            ..latin.clone()
        };
        assert_eq!(
            &split_with("é", &explicit).unwrap()[0].short_message[..],
            &[0xE9]
        );
        assert!(split_with("€", &explicit).is_err());
        let parts = split_with(&"é".repeat(161), &latin).unwrap();
        assert_eq!(parts.len(), 2);
        assert_eq!(parts[0].short_message.len(), 6 + 153);
        // The same on a GSM bind: é is septet 0x05.
        assert_eq!(
            &split_with("é", &SplitOptions::default()).unwrap()[0].short_message[..],
            &[0x05]
        );
    }

    #[test]
    fn chunk_once_number_per_recipient() {
        let text = format!("{}€{}", gsm(152), gsm(10));
        let c = chunk(&text, &SplitOptions::default()).unwrap();
        assert_eq!((c.len(), c.data_coding()), (2, 0));
        assert_eq!(c.chunks()[0].text, gsm(152));
        assert!(c.chunks()[1].text.starts_with('€'));
        assert_eq!(&c.chunks()[1].user_data[..2], &[0x1B, 0x65]);
        let a = c.parts(7);
        let b = c.parts(8);
        assert_eq!(&a[1].short_message[..6], &[5, 0, 3, 7, 2, 2]);
        assert_eq!(&b[1].short_message[..6], &[5, 0, 3, 8, 2, 2]);
        assert_eq!(a, split(&text, None, SplitMethod::Udh8, 7).unwrap());
        // One SMS: no UDH whatever the reference.
        let one = chunk("hi", &SplitOptions::default()).unwrap();
        assert_eq!(one.part(0, 99).short_message, Bytes::from_static(b"hi"));
        assert_eq!(one.part(0, 99).esm_class_bits, 0);
        assert!(!one.is_empty());
    }

    #[test]
    fn split_method_names() {
        for m in [
            SplitMethod::Udh8,
            SplitMethod::Udh16,
            SplitMethod::Sar,
            SplitMethod::MessagePayload,
        ] {
            assert_eq!(SplitMethod::parse(m.as_str()), Some(m));
        }
        assert_eq!(SplitMethod::parse("udh8"), Some(SplitMethod::Udh8));
        assert_eq!(SplitMethod::parse("tlv"), None);
    }
}
