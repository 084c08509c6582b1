//! Field types shared by many PDUs: the C-Octet String (SMPP 3.4 §3.1) and the bind kind
//! (§4.1).

use std::borrow::Cow;
use std::fmt;

use bytes::Bytes;

use crate::command::command_id as c;

/// A C-Octet String (SMPP 3.4 §3.1, "C-Octet String"): the content **without** its terminating
/// NUL.
///
/// Decoded values are sliced zero-copy from the received frame. On the wire the field is the
/// content followed by one `0x00`; an empty value is the single octet `0x00`. The spec's
/// maximum sizes (e.g. `C(16)` for `system_id`: at most 15 characters) are checked by the decoder
/// only in strict mode ([`crate::pdu::DecodeOptions`]); the encoder writes whatever it is given.
///
/// The content never contains NUL: every constructor keeps only the octets before the first NUL
/// it is given (so the PDU stays well formed), once, when the value is made; encoding is then a
/// plain copy.
#[derive(Clone, PartialEq, Eq, Hash, Default)]
pub struct COctetString(Bytes);

impl COctetString {
    /// Wraps `b` (content without NUL; anything from the first NUL on is dropped). Cheap for
    /// `Bytes` and `&'static` data.
    pub fn new(b: impl Into<Bytes>) -> Self {
        let b: Bytes = b.into();
        match b.iter().position(|&x| x == 0) {
            Some(n) => COctetString(b.slice(..n)),
            None => COctetString(b),
        }
    }

    /// Wraps octets known to hold no NUL (the decoder's slices).
    #[inline]
    pub(crate) fn from_wire(b: Bytes) -> Self {
        debug_assert!(!b.contains(&0));
        COctetString(b)
    }

    /// The content octets, without the NUL.
    #[inline]
    pub fn as_bytes(&self) -> &[u8] {
        &self.0
    }

    /// The content as text; octets that are not UTF-8 become U+FFFD. Borrowed when valid.
    pub fn to_str_lossy(&self) -> Cow<'_, str> {
        String::from_utf8_lossy(&self.0)
    }

    /// `true` for the empty string (a lone NUL on the wire, the SMPP "NULL" value).
    #[inline]
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Length of the content in octets, without the NUL.
    #[inline]
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Octets this string takes on the wire: content + 1 for the terminator.
    #[inline]
    pub fn wire_len(&self) -> usize {
        self.0.len() + 1
    }

    /// The underlying shared buffer (content without NUL).
    pub fn into_bytes(self) -> Bytes {
        self.0
    }
}

impl fmt::Debug for COctetString {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&*self.to_str_lossy(), f)
    }
}

impl fmt::Display for COctetString {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_str_lossy())
    }
}

impl From<&str> for COctetString {
    fn from(s: &str) -> Self {
        COctetString::new(Bytes::copy_from_slice(s.as_bytes()))
    }
}

impl From<String> for COctetString {
    fn from(s: String) -> Self {
        COctetString::new(Bytes::from(s))
    }
}

impl From<&String> for COctetString {
    fn from(s: &String) -> Self {
        COctetString::from(s.as_str())
    }
}

impl From<&'static [u8]> for COctetString {
    fn from(b: &'static [u8]) -> Self {
        COctetString::new(Bytes::from_static(b))
    }
}

impl<const N: usize> From<&'static [u8; N]> for COctetString {
    fn from(b: &'static [u8; N]) -> Self {
        COctetString::new(Bytes::from_static(b))
    }
}

impl From<Vec<u8>> for COctetString {
    fn from(b: Vec<u8>) -> Self {
        COctetString::new(Bytes::from(b))
    }
}

impl From<Bytes> for COctetString {
    fn from(b: Bytes) -> Self {
        COctetString::new(b)
    }
}

impl PartialEq<str> for COctetString {
    fn eq(&self, other: &str) -> bool {
        self.as_bytes() == other.as_bytes()
    }
}

impl PartialEq<&str> for COctetString {
    fn eq(&self, other: &&str) -> bool {
        self.as_bytes() == other.as_bytes()
    }
}

/// Which session a bind asks for (SMPP 3.4 §4.1): `bind_transmitter` (ESME sends),
/// `bind_receiver` (ESME receives) or `bind_transceiver` (both).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum BindKind {
    /// `bind_transmitter` (0x00000002): the ESME submits messages.
    Transmitter,
    /// `bind_receiver` (0x00000001): the ESME receives messages and receipts.
    Receiver,
    /// `bind_transceiver` (0x00000009): both directions on one connection.
    Transceiver,
}

impl BindKind {
    /// `command_id` of the bind request for this kind.
    pub fn command_id(self) -> u32 {
        match self {
            BindKind::Transmitter => c::BIND_TRANSMITTER,
            BindKind::Receiver => c::BIND_RECEIVER,
            BindKind::Transceiver => c::BIND_TRANSCEIVER,
        }
    }

    /// `command_id` of the bind response for this kind.
    pub fn resp_command_id(self) -> u32 {
        self.command_id() | c::RESPONSE_BIT
    }

    /// The kind named by a bind request or bind response `command_id`, else `None`.
    pub fn from_command_id(id: u32) -> Option<BindKind> {
        match id & !c::RESPONSE_BIT {
            c::BIND_TRANSMITTER => Some(BindKind::Transmitter),
            c::BIND_RECEIVER => Some(BindKind::Receiver),
            c::BIND_TRANSCEIVER => Some(BindKind::Transceiver),
            _ => None,
        }
    }

    /// `true` when a session of this kind may submit (transmitter, transceiver).
    pub fn can_transmit(self) -> bool {
        matches!(self, BindKind::Transmitter | BindKind::Transceiver)
    }

    /// `true` when a session of this kind may receive (receiver, transceiver).
    pub fn can_receive(self) -> bool {
        matches!(self, BindKind::Receiver | BindKind::Transceiver)
    }

    /// Lower-case name: `"transmitter"`, `"receiver"` or `"transceiver"`.
    pub fn as_str(self) -> &'static str {
        match self {
            BindKind::Transmitter => "transmitter",
            BindKind::Receiver => "receiver",
            BindKind::Transceiver => "transceiver",
        }
    }
}

impl fmt::Display for BindKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn c_octet_string_basics() {
        let s = COctetString::from("SMPP3TEST");
        assert_eq!(s.len(), 9);
        assert_eq!(s.wire_len(), 10);
        assert!(!s.is_empty());
        assert_eq!(s.as_bytes(), b"SMPP3TEST");
        assert_eq!(format!("{s:?}"), "\"SMPP3TEST\"");
        assert_eq!(s, "SMPP3TEST");
        assert!(COctetString::default().is_empty());
        assert_eq!(COctetString::default().wire_len(), 1);
        assert_eq!(
            COctetString::from(String::from("a")),
            COctetString::new("a")
        );
        assert_eq!(COctetString::from(&b"ab"[..]).as_bytes(), b"ab");
        assert_eq!(COctetString::from(b"ab").as_bytes(), b"ab");
        assert_eq!(COctetString::from(vec![0xFFu8]).to_str_lossy(), "\u{FFFD}");
    }

    #[test]
    fn interior_nul_is_cut_at_construction() {
        let s = COctetString::from(&b"ab\0cd"[..]);
        assert_eq!(s.as_bytes(), b"ab");
        assert_eq!(s.wire_len(), 3);
        assert_eq!(COctetString::from("x\0y").as_bytes(), b"x");
        assert_eq!(COctetString::from(vec![0u8, 1]).len(), 0);
    }

    #[test]
    fn bind_kind_ids() {
        assert_eq!(BindKind::Transmitter.command_id(), 2);
        assert_eq!(BindKind::Receiver.command_id(), 1);
        assert_eq!(BindKind::Transceiver.resp_command_id(), 0x8000_0009);
        assert_eq!(
            BindKind::from_command_id(0x8000_0001),
            Some(BindKind::Receiver)
        );
        assert_eq!(BindKind::from_command_id(4), None);
        assert!(BindKind::Transceiver.can_receive() && BindKind::Transceiver.can_transmit());
        assert!(!BindKind::Receiver.can_transmit());
        assert!(!BindKind::Transmitter.can_receive());
    }
}
