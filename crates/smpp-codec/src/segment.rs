//! Long messages: counting characters and segments as handsets do, splitting text into the parts
//! of a concatenated message, and reassembling inbound parts (facts §6.4, §7; 3GPP TS 23.040
//! §9.2.3.24.1 / .8; SMPP 3.4 §5.3.2.22–24 and §5.3.2.32).
//!
//! Capacities per SMS (140 octets of TP-UD):
//!
//! | alphabet | single SMS | per part, 6-octet UDH (8-bit ref, or SAR) | per part, 7-octet UDH (16-bit ref) |
//! | --- | --- | --- | --- |
//! | GSM 03.38 | 160 septets | 153 | 152 |
//! | 8-bit (IA5, Latin-1, binary) | 140 octets | 134 | 133 |
//! | UCS-2 | 70 UTF-16 units | 67 | 66 |
//!
//! A part never ends between the two septets of an extension character (ESC + code) nor between
//! the two halves of a UTF-16 surrogate pair, so a part may hold one unit less than its capacity.
//! GSM text is produced **unpacked** (one septet per octet, the SMPP convention, facts §6.5); the
//! SMSC packs it and adds the fill bits.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use bytes::Bytes;

use crate::text::{self, data_coding as dc, gsm7, TextError};
use crate::tlv::{tags, Tlvs};
use crate::udh;

/// esm_class UDHI bit (SMPP 3.4 §5.2.12): `short_message` starts with a user data header.
const UDHI: u8 = 0x40;

/// Octets of TP-UD in one SMS (TS 23.040 §9.2.3.16).
const TP_UD_OCTETS: usize = 140;

/// The most octets a `message_payload` TLV can carry (its length is a U16, SMPP 3.4 §3.2.4.1).
const MAX_PAYLOAD: usize = 65_535;

/// How a long message is split (per bind setting).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
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

/// How a text counts on a handset.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SmsCount {
    /// The alphabet chosen: 0x00 (GSM 03.38) or 0x08 (UCS-2), see [`text::data_coding`].
    pub data_coding: u8,
    /// Length of the text in the alphabet's units: septets for GSM (extension characters count
    /// 2), UTF-16 code units for UCS-2 (characters outside the BMP count 2), octets for 8-bit.
    pub units: usize,
    /// Number of SMS the text takes (at least 1, also for the empty text).
    pub segments: usize,
    /// Capacity in `units` of each segment: the single-SMS capacity (160 / 70 / 140) when the text
    /// fits in one SMS, else the per-part capacity of the method (153 / 152, 67 / 66,
    /// 134 / 133). For [`SplitMethod::MessagePayload`] beyond one SMS it is `units`.
    pub per_segment: usize,
}

/// The units of each alphabet (see the table in the module documentation).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Alphabet {
    /// GSM 03.38 unpacked: unit = septet = one octet of `short_message`.
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

    /// Octets per unit.
    fn unit_octets(self) -> usize {
        match self {
            Alphabet::Ucs2 => 2,
            _ => 1,
        }
    }

    /// Units in one SMS without UDH.
    fn single(self) -> usize {
        match self {
            Alphabet::Gsm => 160,
            Alphabet::Octet => TP_UD_OCTETS,
            Alphabet::Ucs2 => 70,
        }
    }

    /// Units left in one SMS after a UDH of `udh` octets. For GSM the UDH takes
    /// ⌈8·udh/7⌉ septets (the fill bits included): 6 → 7, 7 → 8 (facts §6.3).
    fn with_udh(self, udh: usize) -> usize {
        match self {
            Alphabet::Gsm => 160 - (udh * 8).div_ceil(7),
            Alphabet::Octet => TP_UD_OCTETS - udh,
            Alphabet::Ucs2 => (TP_UD_OCTETS - udh) / 2,
        }
    }
}

impl SplitMethod {
    /// Octets of the UDH a part carries on the air (the SMSC adds a 6-octet one for SAR).
    fn udh_octets(self) -> usize {
        match self {
            SplitMethod::Udh16 => 7,
            _ => 6,
        }
    }
}

/// Greedy packing of characters of `sizes` units into parts of `cap` units, never splitting a
/// character; returns the number of characters in each part.
fn pack_chars(sizes: impl Iterator<Item = usize>, cap: usize) -> Vec<usize> {
    let mut parts = Vec::new();
    let (mut chars, mut used) = (0usize, 0usize);
    for size in sizes {
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

/// Units of each character of `s` in `alphabet` (characters outside GSM count 1 there; callers
/// encode first, so that does not happen).
fn unit_sizes(s: &str, alphabet: Alphabet) -> Vec<usize> {
    match alphabet {
        Alphabet::Gsm => s
            .chars()
            .map(|c| gsm7::char_septets(c).unwrap_or(1))
            .collect(),
        Alphabet::Octet => s.chars().map(|_| 1).collect(),
        Alphabet::Ucs2 => s.chars().map(char::len_utf16).collect(),
    }
}

/// Count `text` as handsets do in the smallest alphabet (GSM 03.38 else UCS-2): 160/153/152
/// septets, 70/67/66 UCS-2 units; `method` decides the UDH size (Udh16 → 7-octet UDH);
/// MessagePayload → always 1 segment.
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
    let (data_coding, alphabet) = match gsm7::septet_len(text) {
        Some(_) => (dc::SMSC_DEFAULT, Alphabet::Gsm),
        None => (dc::UCS2, Alphabet::Ucs2),
    };
    count_in(text, data_coding, alphabet, method)
}

fn count_in(text: &str, data_coding: u8, alphabet: Alphabet, method: SplitMethod) -> SmsCount {
    let sizes = unit_sizes(text, alphabet);
    let units: usize = sizes.iter().sum();
    let single = alphabet.single();
    let (segments, per_segment) = if units <= single {
        (1, single)
    } else if method == SplitMethod::MessagePayload {
        (1, units)
    } else {
        let cap = alphabet.with_udh(method.udh_octets());
        (pack_chars(sizes.into_iter(), cap).len(), cap)
    };
    SmsCount {
        data_coding,
        units,
        segments,
        per_segment,
    }
}

/// One part ready to put in a submit_sm/deliver_sm.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Part {
    /// `data_coding` of the part (SMPP 3.4 §5.2.19); the same for every part of a message.
    pub data_coding: u8,
    /// 0x40 when short_message starts with a UDH, else 0
    pub esm_class_bits: u8,
    /// The `short_message` octets: UDH (if any) then the encoded text, at most 140 octets — except
    /// for [`SplitMethod::MessagePayload`], where it is empty when the text did not fit one SMS.
    pub short_message: Bytes,
    /// SAR TLVs (Sar) or message_payload (MessagePayload; short_message empty then)
    pub tlvs: Tlvs,
}

/// Encode and split `text` (data_coding None → smallest alphabet; Some(dc) → that alphabet or
/// TextError). GSM text is unpacked septets (SMPP convention). A part never splits an escape pair
/// or a UTF-16 surrogate pair. `reference` is the concatenation reference (low 8 bits for Udh8).
/// One part without UDH/TLVs when it fits in one SMS.
///
/// Supported `data_coding` values are the text alphabets of [`text::encode`]: 0x00 and 0xF0–0xF3
/// (GSM 03.38), 0x01 (IA5), 0x03 (Latin-1), 0x08 (UCS-2). Parts are numbered from 1.
///
/// # Errors
/// [`TextError::Unencodable`] / [`TextError::NotText`] from [`text::encode`];
/// [`TextError::TooLong`] when the text needs more than 255 parts or, for
/// [`SplitMethod::MessagePayload`], more than 65535 octets.
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
    let (data_coding, encoded) = match data_coding {
        Some(d) => (d, text::encode(d, text)?),
        None => text::choose(text),
    };
    let alphabet = Alphabet::of(data_coding);
    let unit = alphabet.unit_octets();
    if encoded.len() <= alphabet.single() * unit {
        return Ok(vec![Part {
            data_coding,
            esm_class_bits: 0,
            short_message: Bytes::from(encoded),
            tlvs: Tlvs::new(),
        }]);
    }
    if method == SplitMethod::MessagePayload {
        if encoded.len() > MAX_PAYLOAD {
            return Err(TextError::TooLong {
                len: encoded.len(),
                max: MAX_PAYLOAD,
            });
        }
        let mut tlvs = Tlvs::new();
        tlvs.push(tags::MESSAGE_PAYLOAD, &encoded);
        return Ok(vec![Part {
            data_coding,
            esm_class_bits: 0,
            short_message: Bytes::new(),
            tlvs,
        }]);
    }
    let cap = alphabet.with_udh(method.udh_octets());
    let sizes = unit_sizes(text, alphabet);
    let chunks = pack_chars(sizes.iter().copied(), cap);
    let total = u8::try_from(chunks.len()).map_err(|_| TextError::TooLong {
        len: encoded.len(),
        max: 255 * cap * unit,
    })?;
    let mut parts = Vec::with_capacity(chunks.len());
    let (mut char_pos, mut octet_pos) = (0usize, 0usize);
    for (i, &n) in chunks.iter().enumerate() {
        let octets: usize = sizes[char_pos..char_pos + n].iter().sum::<usize>() * unit;
        let body = &encoded[octet_pos..octet_pos + octets];
        char_pos += n;
        octet_pos += octets;
        let info = udh::ConcatInfo {
            reference,
            total,
            seqnum: i as u8 + 1,
        };
        let mut tlvs = Tlvs::new();
        let (esm_class_bits, short_message) = match method {
            SplitMethod::Udh8 => (UDHI, [&info.udh_8bit()[..], body].concat()),
            SplitMethod::Udh16 => (UDHI, [&info.udh_16bit()[..], body].concat()),
            _ => {
                tlvs.push(tags::SAR_MSG_REF_NUM, &reference.to_be_bytes());
                tlvs.push(tags::SAR_TOTAL_SEGMENTS, &[total]);
                tlvs.push(tags::SAR_SEGMENT_SEQNUM, &[info.seqnum]);
                (0, body.to_vec())
            }
        };
        parts.push(Part {
            data_coding,
            esm_class_bits,
            short_message: Bytes::from(short_message),
            tlvs,
        });
    }
    Ok(parts)
}

/// A whole inbound message, as handed on by [`Reassembler::push`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Reassembled {
    /// `data_coding` of the first part (§5.2.19); decode `user_data` with [`text::decode`].
    pub data_coding: u8,
    /// user data of every part in order, UDH stripped
    pub user_data: Vec<u8>,
    /// Number of parts joined (1 for a message that was not concatenated).
    pub parts: usize,
    /// The concatenation reference (8-bit references as 0–255), `None` when not concatenated.
    pub reference: Option<u16>,
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
struct Partial {
    started: Instant,
    data_coding: u8,
    /// Index `seqnum - 1`.
    parts: Vec<Option<Vec<u8>>>,
    received: usize,
    bytes: usize,
}

/// Reassembly of inbound parts (UDH 8/16-bit, SAR TLVs; message_payload needs none), in any order,
/// extra UDH elements tolerated, under a timeout and a memory cap.
///
/// Parts belong together when they share the caller's `key`, the kind of concatenation (8-bit
/// UDH, 16-bit UDH, SAR), the reference and the total. A part whose number was already received
/// is ignored (the first copy wins). The memory cap counts the user-data octets held
/// ([`Reassembler::pending_bytes`]); a part that would take it past `max_bytes` is refused (not
/// stored) unless it completes its message. No clock is read: callers pass `now`.
#[derive(Debug)]
pub struct Reassembler {
    timeout: Duration,
    max_bytes: usize,
    pending: HashMap<PartialKey, Partial>,
    bytes: usize,
}

/// Concatenation of one inbound part: kind, reference, total, seqnum and its user data.
fn concat_of<'a>(
    esm_class: u8,
    short_message: &'a [u8],
    tlvs: &Tlvs,
) -> (Option<(ConcatKind, u16, u8, u8)>, UserData<'a>) {
    if esm_class & UDHI != 0 {
        if let Some(len) = udh::udh_len(short_message) {
            let data = UserData::Borrowed(&short_message[len..]);
            let info = udh::concat_info(short_message).map(|i| {
                let kind = if concat_iei(short_message) == Some(udh::IEI_CONCAT_16) {
                    ConcatKind::Udh16
                } else {
                    ConcatKind::Udh8
                };
                (kind, i.reference, i.total, i.seqnum)
            });
            return (info, data);
        }
    }
    let data = match tlvs.message_payload() {
        Some(p) if short_message.is_empty() => UserData::Owned(p),
        _ => UserData::Borrowed(short_message),
    };
    let sar = tlvs
        .sar()
        .filter(|&(_, total, seq)| total != 0 && seq != 0 && seq <= total)
        .map(|(r, total, seq)| (ConcatKind::Sar, r, total, seq));
    (sar, data)
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

impl Reassembler {
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

    /// Offer one part; `key` identifies the sender/recipient pair (e.g. "src|dst|bind"); returns
    /// the whole message when its last part arrives. Parts not concatenated return at once as a
    /// 1-part message.
    ///
    /// Concatenation is read from the UDH when `esm_class` has UDHI (0x40) — IEI 0x00 or 0x08,
    /// wherever it is among the elements — else from the three SAR TLVs (all must be present).
    /// The user data is `short_message` without its UDH, or `message_payload` when
    /// `short_message` is empty. A malformed UDH is treated as no UDH (the octets are kept).
    /// Returns `None` while parts are missing, for a duplicate part, and for a part refused by
    /// the memory cap.
    pub fn push(
        &mut self,
        now: Instant,
        key: &str,
        data_coding: u8,
        esm_class: u8,
        short_message: &[u8],
        tlvs: &Tlvs,
    ) -> Option<Reassembled> {
        let (concat, data) = concat_of(esm_class, short_message, tlvs);
        let data = data.as_slice();
        let Some((kind, reference, total, seqnum)) = concat.filter(|c| c.2 > 1) else {
            return Some(Reassembled {
                data_coding,
                user_data: data.to_vec(),
                parts: 1,
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
                return None;
            }
            if p.received + 1 == usize::from(total) {
                let mut p = self.pending.remove(&pkey)?;
                self.bytes -= p.bytes;
                p.parts[idx] = Some(data.to_vec());
                let user_data = p.parts.into_iter().flatten().flatten().collect();
                return Some(Reassembled {
                    data_coding: p.data_coding,
                    user_data,
                    parts: usize::from(total),
                    reference: Some(reference),
                });
            }
        }
        if self.bytes + data.len() > self.max_bytes {
            return None;
        }
        let p = self.pending.entry(pkey).or_insert_with(|| Partial {
            started: now,
            data_coding,
            parts: vec![None; usize::from(total)],
            received: 0,
            bytes: 0,
        });
        if seqnum == 1 {
            p.data_coding = data_coding;
        }
        p.parts[idx] = Some(data.to_vec());
        p.received += 1;
        p.bytes += data.len();
        self.bytes += data.len();
        None
    }

    /// Drop incomplete messages older than the timeout; returns how many were dropped (their parts
    /// are lost only from the reassembler: callers keep the parts themselves).
    ///
    /// A message is older than the timeout when more than `timeout` has passed since its first
    /// part arrived.
    pub fn expire(&mut self, now: Instant) -> usize {
        let before = self.pending.len();
        let timeout = self.timeout;
        let mut freed = 0;
        self.pending.retain(|_, p| {
            let keep = now.saturating_duration_since(p.started) <= timeout;
            if !keep {
                freed += p.bytes;
            }
            keep
        });
        self.bytes -= freed;
        before - self.pending.len()
    }

    /// Octets of user data held for incomplete messages.
    pub fn pending_bytes(&self) -> usize {
        self.bytes
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
        assert_eq!((c.data_coding, c.units, c.segments, c.per_segment), (8, 70, 1, 70));
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
            assert!(!text::decode(8, &p.short_message[6..]).unwrap().contains('\u{FFFD}'));
        }
    }

    #[test]
    fn three_hundred_gsm_chars_udh8() {
        let s = gsm(300);
        let parts = split(&s, None, SplitMethod::Udh8, 0x1A7).unwrap();
        assert_eq!(parts.len(), 2);
        assert_eq!(&parts[0].short_message[..6], &[0x05, 0x00, 0x03, 0xA7, 0x02, 0x01]);
        assert_eq!(&parts[1].short_message[..6], &[0x05, 0x00, 0x03, 0xA7, 0x02, 0x02]);
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
        assert_eq!(split(&gsm(153 * 255), None, SplitMethod::Udh8, 0).unwrap().len(), 255);
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

    fn push_part(r: &mut Reassembler, t: Instant, p: &Part) -> Option<Reassembled> {
        r.push(t, "a|b|bind", p.data_coding, p.esm_class_bits, &p.short_message, &p.tlvs)
    }

    #[test]
    fn reassembles_out_of_order_with_duplicates() {
        let s: String = (0..400).map(|i| char::from(b'a' + (i % 26) as u8)).collect();
        let parts = split(&s, None, SplitMethod::Udh8, 9).unwrap();
        assert_eq!(parts.len(), 3);
        let mut r = Reassembler::new(Duration::from_secs(60), 10_000);
        let t = now();
        assert_eq!(push_part(&mut r, t, &parts[2]), None);
        assert_eq!(r.pending_bytes(), parts[2].short_message.len() - 6);
        assert_eq!(push_part(&mut r, t, &parts[0]), None);
        assert_eq!(push_part(&mut r, t, &parts[0]), None, "duplicate ignored");
        let whole = push_part(&mut r, t, &parts[1]).unwrap();
        assert_eq!(whole.parts, 3);
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
        assert_eq!(r.push(t, "x", 0, 0x40, &a[0].short_message, &Tlvs::new()), None);
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
            let mut v = vec![0x0B, 0x05, 0x04, 0x0B, 0x84, 0x23, 0xF0, 0x00, 0x03, 0x42, 2, n];
            v.extend_from_slice(body);
            v
        };
        let mut r = Reassembler::new(Duration::from_secs(60), 10_000);
        let t = now();
        assert_eq!(r.push(t, "k", 4, 0x40, &mk(2, b"world"), &Tlvs::new()), None);
        let whole = r.push(t, "k", 4, 0x40, &mk(1, b"hello "), &Tlvs::new()).unwrap();
        assert_eq!(whole.user_data, b"hello world");
        assert_eq!(whole.reference, Some(0x42));
        assert_eq!(whole.parts, 2);
    }

    #[test]
    fn single_parts_return_at_once() {
        let mut r = Reassembler::new(Duration::from_secs(60), 10_000);
        let t = now();
        let whole = r.push(t, "k", 0, 0, b"plain", &Tlvs::new()).unwrap();
        assert_eq!(
            whole,
            Reassembled {
                data_coding: 0,
                user_data: b"plain".to_vec(),
                parts: 1,
                reference: None
            }
        );
        // message_payload with an empty short_message.
        let mut tlvs = Tlvs::new();
        tlvs.push(tags::MESSAGE_PAYLOAD, b"payload");
        assert_eq!(r.push(t, "k", 0, 0, b"", &tlvs).unwrap().user_data, b"payload");
        // UDHI with only a port element: UDH stripped, one part.
        let whole = r
            .push(t, "k", 4, 0x40, &[0x06, 0x05, 0x04, 0, 1, 0, 2, 0xAA], &Tlvs::new())
            .unwrap();
        assert_eq!((whole.user_data, whole.reference), (vec![0xAA], None));
        // A 1-of-1 concatenated part.
        let whole = r.push(t, "k", 0, 0x40, &[5, 0, 3, 9, 1, 1, b'x'], &Tlvs::new()).unwrap();
        assert_eq!((whole.user_data, whole.reference), (b"x".to_vec(), Some(9)));
        // UDHI set but malformed UDH: data kept as is.
        let whole = r.push(t, "k", 0, 0x40, &[9, 0, b'x'], &Tlvs::new()).unwrap();
        assert_eq!(whole.user_data, vec![9, 0, b'x']);
        assert_eq!(r.pending_bytes(), 0);
    }

    #[test]
    fn timeout_expiry() {
        let parts = split(&gsm(300), None, SplitMethod::Udh8, 5).unwrap();
        let mut r = Reassembler::new(Duration::from_secs(30), 10_000);
        let t0 = now();
        assert_eq!(push_part(&mut r, t0, &parts[0]), None);
        assert_eq!(r.expire(t0 + Duration::from_secs(30)), 0, "not older yet");
        assert_eq!(r.pending_bytes(), 153);
        assert_eq!(r.expire(t0 + Duration::from_secs(31)), 1);
        assert_eq!(r.pending_bytes(), 0);
        // The late second part now starts a new partial instead of completing.
        assert_eq!(push_part(&mut r, t0 + Duration::from_secs(32), &parts[1]), None);
        assert_eq!(r.pending_bytes(), 147);
    }

    #[test]
    fn memory_cap_refuses_new_partials() {
        let a = split(&gsm(300), None, SplitMethod::Udh8, 1).unwrap();
        let b = split(&gsm(300), None, SplitMethod::Udh8, 2).unwrap();
        let mut r = Reassembler::new(Duration::from_secs(60), 200);
        let t = now();
        assert_eq!(push_part(&mut r, t, &a[0]), None);
        assert_eq!(r.pending_bytes(), 153);
        // Another message's part would exceed 200 octets: refused, nothing stored.
        assert_eq!(push_part(&mut r, t, &b[0]), None);
        assert_eq!(r.pending_bytes(), 153);
        assert_eq!(push_part(&mut r, t, &b[1]), None);
        assert_eq!(r.pending_bytes(), 153, "b[1] refused too");
        // The part that completes `a` is accepted: it needs no storage.
        let whole = push_part(&mut r, t, &a[1]).unwrap();
        assert_eq!(whole.user_data.len(), 300);
        assert_eq!(r.pending_bytes(), 0);
        // Now there is room for b again.
        assert_eq!(push_part(&mut r, t, &b[0]), None);
        assert_eq!(r.pending_bytes(), 153);
    }
}
