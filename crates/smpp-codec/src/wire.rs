//! Internal wire helpers: a cursor over one frame's body that hands out zero-copy slices (running
//! out of input inside a whole frame is a length error, never "need more bytes"), nom's
//! *complete* parsers for the header and the TLV framing, and the matching writers. Nothing here
//! is public: nom's types stay inside.

use bytes::Bytes;
use nom::error::Error as NomError;

use crate::pdu::{DecodeErrorKind, DecodeOptions, Field};
use crate::tlv::Tlvs;
use crate::types::COctetString;

/// Octets a spec C-Octet String field may take including its NUL (SMPP 3.4 §4 tables).
pub(crate) mod max {
    pub(crate) const SYSTEM_ID: usize = 16;
    pub(crate) const PASSWORD: usize = 9;
    pub(crate) const SYSTEM_TYPE: usize = 13;
    pub(crate) const ADDRESS_RANGE: usize = 41;
    pub(crate) const SERVICE_TYPE: usize = 6;
    pub(crate) const ADDR_21: usize = 21;
    pub(crate) const ADDR_65: usize = 65;
    pub(crate) const TIME: usize = 17;
    pub(crate) const MESSAGE_ID: usize = 65;
}

/// Cursor over `frame[pos..]`, the body of one PDU.
///
/// The hot path (one call per field of every PDU) is plain slice indexing, checked once per
/// field, so that a decode costs a few instructions per octet; nom parses the header and the
/// TLV framing (see [`header`], [`be_u16`]).
pub(crate) struct Reader<'a> {
    frame: &'a Bytes,
    pos: usize,
    opts: &'a DecodeOptions,
}

impl<'a> Reader<'a> {
    #[inline]
    pub(crate) fn new(frame: &'a Bytes, start: usize, opts: &'a DecodeOptions) -> Self {
        let pos = start.min(frame.len());
        Reader { frame, pos, opts }
    }

    #[inline]
    pub(crate) fn opts(&self) -> &DecodeOptions {
        self.opts
    }

    #[inline]
    fn rest(&self) -> &'a [u8] {
        let frame: &'a [u8] = self.frame;
        &frame[self.pos..]
    }

    #[inline]
    pub(crate) fn remaining(&self) -> usize {
        self.frame.len() - self.pos
    }

    #[inline]
    pub(crate) fn u8(&mut self, field: Field) -> Result<u8, DecodeErrorKind> {
        match self.frame.get(self.pos) {
            Some(&b) => {
                self.pos += 1;
                Ok(b)
            }
            None => Err(DecodeErrorKind::Truncated { field }),
        }
    }

    #[inline]
    pub(crate) fn u32(&mut self, field: Field) -> Result<u32, DecodeErrorKind> {
        match self.rest().first_chunk::<4>() {
            Some(b) => {
                self.pos += 4;
                Ok(u32::from_be_bytes(*b))
            }
            None => Err(DecodeErrorKind::Truncated { field }),
        }
    }

    /// `n` octets, zero-copy.
    #[inline]
    pub(crate) fn octets(&mut self, n: usize, field: Field) -> Result<Bytes, DecodeErrorKind> {
        if n > self.remaining() {
            return Err(DecodeErrorKind::Truncated { field });
        }
        let start = self.pos;
        self.pos += n;
        Ok(self.frame.slice(start..self.pos))
    }

    /// A C-Octet String of at most `max` octets including the NUL (SMPP 3.4 §3.1).
    ///
    /// Lenient (default): the NUL may be anywhere in the rest of the body. Strict
    /// (`enforce_max_lengths`): it must be within the first `max` octets.
    #[inline]
    pub(crate) fn cstr(
        &mut self,
        field: Field,
        max: usize,
    ) -> Result<COctetString, DecodeErrorKind> {
        self.cstr_inner(field, max, false)
    }

    /// Like [`Reader::cstr`], for the last field of a body: unless `require_final_nul` is set, a
    /// body that ends without the NUL yields the remaining octets as the value.
    #[inline]
    pub(crate) fn cstr_last(
        &mut self,
        field: Field,
        max: usize,
    ) -> Result<COctetString, DecodeErrorKind> {
        self.cstr_inner(field, max, !self.opts.require_final_nul)
    }

    #[inline]
    fn cstr_inner(
        &mut self,
        field: Field,
        max: usize,
        accept_unterminated: bool,
    ) -> Result<COctetString, DecodeErrorKind> {
        let rest = self.rest();
        let window = if self.opts.enforce_max_lengths {
            &rest[..rest.len().min(max)]
        } else {
            rest
        };
        match window.iter().position(|&b| b == 0) {
            Some(n) => {
                let start = self.pos;
                self.pos += n + 1;
                Ok(COctetString::from_wire(self.frame.slice(start..start + n)))
            }
            None => self.unterminated(field, max, accept_unterminated),
        }
    }

    /// No NUL where the field may end: too long (strict), the unterminated last field
    /// (lenient), or a missing NUL.
    #[cold]
    fn unterminated(
        &mut self,
        field: Field,
        max: usize,
        accept_unterminated: bool,
    ) -> Result<COctetString, DecodeErrorKind> {
        if self.opts.enforce_max_lengths && self.remaining() >= max {
            return Err(DecodeErrorKind::FieldTooLong { field, max });
        }
        if accept_unterminated {
            let value = self.frame.slice(self.pos..);
            self.pos = self.frame.len();
            return Ok(COctetString::from_wire(value));
        }
        Err(DecodeErrorKind::MissingNul { field })
    }

    /// A time field `C(1|17)` (SMPP 3.4 §7.1.1): empty or 16 characters. The length is checked only
    /// in strict mode.
    #[inline]
    pub(crate) fn time(&mut self, field: Field) -> Result<COctetString, DecodeErrorKind> {
        let value = self.cstr(field, max::TIME)?;
        if self.opts.enforce_max_lengths && !(value.is_empty() || value.len() == 16) {
            return Err(DecodeErrorKind::InvalidTime {
                field,
                len: value.len(),
            });
        }
        Ok(value)
    }

    /// `sm_length` followed by `short_message` (SMPP 3.4 §4.4.1 fields 17–18).
    #[inline]
    pub(crate) fn short_message(&mut self) -> Result<Bytes, DecodeErrorKind> {
        let len = self.u8(Field::SmLength)? as usize;
        if len > self.remaining() {
            return Err(DecodeErrorKind::ShortMessageLength {
                sm_length: len as u8,
                available: self.remaining(),
            });
        }
        self.octets(len, Field::ShortMessage)
    }

    /// The TLV region: everything left in the body, validated, kept zero-copy.
    #[inline]
    pub(crate) fn tlvs(&mut self) -> Result<Tlvs, DecodeErrorKind> {
        let raw = self.frame.slice(self.pos..);
        self.pos = self.frame.len();
        Tlvs::from_raw_with(raw, self.opts.check_tlv_lengths)
    }

    /// For bodies without TLVs: octets left after the last mandatory field are ignored unless
    /// `reject_trailing_octets` is set.
    #[inline]
    pub(crate) fn finish(&mut self) -> Result<(), DecodeErrorKind> {
        let left = self.remaining();
        if left > 0 && self.opts.reject_trailing_octets {
            return Err(DecodeErrorKind::TrailingOctets { len: left });
        }
        self.pos = self.frame.len();
        Ok(())
    }
}

/// Big-endian u16/u32 reads over a plain slice (for TLV walking), via nom.
pub(crate) fn be_u16(input: &[u8]) -> Option<(&[u8], u16)> {
    nom::number::complete::be_u16::<_, NomError<&[u8]>>(input).ok()
}

/// The four u32 header fields of a PDU from its 16 header octets (SMPP 3.4 §3.2).
#[inline]
pub(crate) fn header16(h: &[u8; 16]) -> [u32; 4] {
    let word = |i: usize| u32::from_be_bytes([h[i], h[i + 1], h[i + 2], h[i + 3]]);
    [word(0), word(4), word(8), word(12)]
}

/// Reads the four u32 header fields of a PDU (SMPP 3.4 §3.2).
pub(crate) fn header(input: &[u8]) -> Option<[u32; 4]> {
    let (i, a) = nom::number::complete::be_u32::<_, NomError<&[u8]>>(input).ok()?;
    let (i, b) = nom::number::complete::be_u32::<_, NomError<&[u8]>>(i).ok()?;
    let (i, c) = nom::number::complete::be_u32::<_, NomError<&[u8]>>(i).ok()?;
    let (_, d) = nom::number::complete::be_u32::<_, NomError<&[u8]>>(i).ok()?;
    Some([a, b, c, d])
}

/// Writes a PDU into a buffer already sized to it (see `Frame::encode`): each write is a
/// bounds-checked copy, with no capacity check or reallocation on the way.
pub(crate) struct Writer<'a> {
    buf: &'a mut [u8],
    pos: usize,
}

impl<'a> Writer<'a> {
    #[inline]
    pub(crate) fn new(buf: &'a mut [u8]) -> Self {
        Writer { buf, pos: 0 }
    }

    /// Octets written so far.
    #[inline]
    pub(crate) fn written(&self) -> usize {
        self.pos
    }

    #[inline]
    pub(crate) fn u8(&mut self, v: u8) {
        self.buf[self.pos] = v;
        self.pos += 1;
    }

    #[inline]
    pub(crate) fn u32(&mut self, v: u32) {
        self.slice(&v.to_be_bytes());
    }

    #[inline]
    pub(crate) fn slice(&mut self, s: &[u8]) {
        let end = self.pos + s.len();
        self.buf[self.pos..end].copy_from_slice(s);
        self.pos = end;
    }

    /// A C-Octet String: content and the terminating NUL.
    #[inline]
    pub(crate) fn cstr(&mut self, s: &COctetString) {
        self.slice(s.as_bytes());
        self.u8(0);
    }

    /// An address triple: TON, NPI, then the address as a C-Octet String (SMPP 3.4 §5.2.5–8).
    #[inline]
    pub(crate) fn address(&mut self, ton: u8, npi: u8, addr: &COctetString) {
        self.u8(ton);
        self.u8(npi);
        self.cstr(addr);
    }

    /// `sm_length` and `short_message`, cut at 255 octets (the most a U8 length can say).
    #[inline]
    pub(crate) fn short_message(&mut self, sm: &[u8]) {
        let sm = &sm[..sm.len().min(255)];
        self.u8(sm.len() as u8);
        self.slice(sm);
    }
}

/// Octets [`Writer::short_message`] writes.
#[inline]
pub(crate) fn short_message_len(sm: &[u8]) -> usize {
    1 + sm.len().min(255)
}
