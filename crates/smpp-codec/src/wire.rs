//! Internal wire helpers: a cursor over one frame's body that hands out zero-copy slices, built on
//! nom's *complete* parsers (running out of input inside a whole frame is a length error, never
//! "need more bytes"), and the matching writers. Nothing here is public: nom's types stay inside.

use bytes::{BufMut, Bytes, BytesMut};
use nom::error::Error as NomError;
use nom::IResult;

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

type Res<'a, T> = IResult<&'a [u8], T, NomError<&'a [u8]>>;

/// Cursor over `frame[pos..end]`, the body of one PDU.
pub(crate) struct Reader<'a> {
    frame: &'a Bytes,
    pos: usize,
    end: usize,
    opts: &'a DecodeOptions,
}

impl<'a> Reader<'a> {
    pub(crate) fn new(frame: &'a Bytes, start: usize, opts: &'a DecodeOptions) -> Self {
        let end = frame.len();
        let pos = start.min(end);
        Reader {
            frame,
            pos,
            end,
            opts,
        }
    }

    pub(crate) fn opts(&self) -> &DecodeOptions {
        self.opts
    }

    fn rest(&self) -> &'a [u8] {
        &self.frame[self.pos..self.end]
    }

    pub(crate) fn remaining(&self) -> usize {
        self.end - self.pos
    }

    /// Applies a nom parser to the rest and advances past what it consumed.
    fn run<T>(
        &mut self,
        field: Field,
        parser: impl FnOnce(&'a [u8]) -> Res<'a, T>,
    ) -> Result<T, DecodeErrorKind> {
        let rest = self.rest();
        match parser(rest) {
            Ok((left, value)) => {
                self.pos += rest.len() - left.len();
                Ok(value)
            }
            Err(_) => Err(DecodeErrorKind::Truncated { field }),
        }
    }

    pub(crate) fn u8(&mut self, field: Field) -> Result<u8, DecodeErrorKind> {
        self.run(field, nom::number::complete::be_u8)
    }

    pub(crate) fn u32(&mut self, field: Field) -> Result<u32, DecodeErrorKind> {
        self.run(field, nom::number::complete::be_u32)
    }

    /// `n` octets, zero-copy.
    pub(crate) fn octets(&mut self, n: usize, field: Field) -> Result<Bytes, DecodeErrorKind> {
        let start = self.pos;
        self.run(field, |i| nom::bytes::complete::take(n)(i))?;
        Ok(self.frame.slice(start..self.pos))
    }

    /// A C-Octet String of at most `max` octets including the NUL (SMPP 3.4 §3.1).
    ///
    /// Lenient (default): the NUL may be anywhere in the rest of the body. Strict
    /// (`enforce_max_lengths`): it must be within the first `max` octets.
    pub(crate) fn cstr(
        &mut self,
        field: Field,
        max: usize,
    ) -> Result<COctetString, DecodeErrorKind> {
        self.cstr_inner(field, max, false)
    }

    /// Like [`Reader::cstr`], for the last field of a body: unless `require_final_nul` is set, a
    /// body that ends without the NUL yields the remaining octets as the value.
    pub(crate) fn cstr_last(
        &mut self,
        field: Field,
        max: usize,
    ) -> Result<COctetString, DecodeErrorKind> {
        self.cstr_inner(field, max, !self.opts.require_final_nul)
    }

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
        let parsed: Res<'a, &'a [u8]> = nom::bytes::complete::take_till(|b| b == 0)(window)
            .and_then(|(left, content)| {
                if left.is_empty() {
                    // No NUL in the window: report as an error for the caller to classify.
                    Err(nom::Err::Error(NomError::new(
                        left,
                        nom::error::ErrorKind::Char,
                    )))
                } else {
                    Ok((left, content))
                }
            });
        match parsed {
            Ok((_, content)) => {
                let value = self.frame.slice_ref(content);
                self.pos += content.len() + 1;
                Ok(COctetString(value))
            }
            Err(_) if self.opts.enforce_max_lengths && rest.len() >= max => {
                Err(DecodeErrorKind::FieldTooLong { field, max })
            }
            Err(_) if accept_unterminated => {
                let value = self.frame.slice(self.pos..self.end);
                self.pos = self.end;
                Ok(COctetString(value))
            }
            Err(_) => Err(DecodeErrorKind::MissingNul { field }),
        }
    }

    /// A time field `C(1|17)` (SMPP 3.4 §7.1.1): empty or 16 characters. The length is checked only
    /// in strict mode.
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
    pub(crate) fn tlvs(&mut self) -> Result<Tlvs, DecodeErrorKind> {
        let raw = self.frame.slice(self.pos..self.end);
        self.pos = self.end;
        Tlvs::from_raw_with(raw, self.opts.check_tlv_lengths)
    }

    /// For bodies without TLVs: octets left after the last mandatory field are ignored unless
    /// `reject_trailing_octets` is set.
    pub(crate) fn finish(&mut self) -> Result<(), DecodeErrorKind> {
        let left = self.remaining();
        if left > 0 && self.opts.reject_trailing_octets {
            return Err(DecodeErrorKind::TrailingOctets { len: left });
        }
        self.pos = self.end;
        Ok(())
    }
}

/// Big-endian u16/u32 reads over a plain slice (for TLV walking), via nom.
pub(crate) fn be_u16(input: &[u8]) -> Option<(&[u8], u16)> {
    nom::number::complete::be_u16::<_, NomError<&[u8]>>(input).ok()
}

/// Reads the four u32 header fields of a PDU (SMPP 3.4 §3.2).
pub(crate) fn header(input: &[u8]) -> Option<[u32; 4]> {
    let (i, a) = nom::number::complete::be_u32::<_, NomError<&[u8]>>(input).ok()?;
    let (i, b) = nom::number::complete::be_u32::<_, NomError<&[u8]>>(i).ok()?;
    let (i, c) = nom::number::complete::be_u32::<_, NomError<&[u8]>>(i).ok()?;
    let (_, d) = nom::number::complete::be_u32::<_, NomError<&[u8]>>(i).ok()?;
    Some([a, b, c, d])
}

/// Writes a C-Octet String: content (up to any interior NUL) and the terminating NUL.
pub(crate) fn put_cstr(dst: &mut BytesMut, s: &COctetString) {
    dst.put_slice(s.wire_content());
    dst.put_u8(0);
}

/// Writes `sm_length` and `short_message`, cut at 255 octets (the most a U8 length can say).
pub(crate) fn put_short_message(dst: &mut BytesMut, sm: &[u8]) {
    let sm = &sm[..sm.len().min(255)];
    dst.put_u8(sm.len() as u8);
    dst.put_slice(sm);
}

/// Octets [`put_short_message`] writes.
pub(crate) fn short_message_len(sm: &[u8]) -> usize {
    1 + sm.len().min(255)
}
