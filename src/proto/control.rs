//! NTP control messages (mode 6): the 12-byte header, fragmentation and
//! reassembly, padding and the optional MAC.
//!
//! Layout (RFC 1305 appendix B, as ntpd and ntpq speak it):
//! ```text
//!  0: LI(2) VN(3) mode=6(3)   1: R(1) E(1) M(1) opcode(5)
//!  2: sequence(16)            4: status(16)
//!  6: association ID(16)      8: offset(16)   10: count(16)
//! 12: data (count bytes), zero-padded to 4 bytes; then optionally
//!     key ID(32) + digest, after padding to 8 bytes when authenticated.
//! ```

use std::fmt;

use super::packet::{Digest, MacField};

pub const CONTROL_HEADER_LEN: usize = 12;
/// The most data one fragment carries: ntpd's CTL_MAX_DATA_LEN, which keeps
/// a response fragment (with MAC) inside a 512-byte datagram.
pub const MAX_FRAGMENT_DATA: usize = 468;
/// ntpq gives up on a response of more fragments than this (MAXFRAGS).
pub const MAX_FRAGMENTS: usize = 32;
/// The NTP mode number of control messages.
pub const CONTROL_MODE: u8 = 6;

/// Control opcodes.
pub mod opcode {
    pub const READSTAT: u8 = 1;
    pub const READVAR: u8 = 2;
    pub const WRITEVAR: u8 = 3;
    pub const READCLOCK: u8 = 4;
    pub const WRITECLOCK: u8 = 5;
    pub const SETTRAP: u8 = 6;
    pub const ASYNCMSG: u8 = 7;
    pub const CONFIGURE: u8 = 8;
    pub const SAVECONFIG: u8 = 9;
    pub const READ_MRU: u8 = 10;
    pub const READ_ORDLIST_A: u8 = 11;
    pub const REQ_NONCE: u8 = 12;
    pub const UNSETTRAP: u8 = 31;
}

/// Error codes carried in the status field when the E bit is set.
pub mod error_code {
    pub const UNSPEC: u16 = 0;
    pub const PERMISSION: u16 = 1;
    pub const BADFMT: u16 = 2;
    pub const BADOP: u16 = 3;
    pub const BADASSOC: u16 = 4;
    pub const UNKNOWNVAR: u16 = 5;
    pub const BADVALUE: u16 = 6;
    pub const ADMINISTRATIVE: u16 = 7;

    /// ntpq's words for each code.
    pub fn describe(code: u16) -> &'static str {
        match code {
            PERMISSION => "Permission denied",
            BADFMT => "Request was badly formatted",
            BADOP => "Server doesn't implement this opcode",
            BADASSOC => "Association ID unknown",
            UNKNOWNVAR => "Variable unknown",
            BADVALUE => "Illegal value for variable",
            ADMINISTRATIVE => "Server administratively prohibited",
            _ => "Unspecified error",
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ControlError {
    TooShort(usize),
    NotControl {
        mode: u8,
    },
    BadVersion(u8),
    /// `count` runs past the end of the datagram.
    BadCount {
        count: usize,
        available: usize,
    },
    /// Bytes after the data that are neither padding nor a MAC.
    BadTrailer(usize),
    /// More data than one fragment may carry.
    Oversized(usize),
    BufferTooSmall,
}

impl fmt::Display for ControlError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ControlError::TooShort(n) => {
                write!(
                    f,
                    "control message too short ({n} bytes, need {CONTROL_HEADER_LEN})"
                )
            }
            ControlError::NotControl { mode } => write!(f, "mode {mode} is not a control message"),
            ControlError::BadVersion(v) => write!(f, "unsupported NTP version {v}"),
            ControlError::BadCount { count, available } => {
                write!(
                    f,
                    "count {count} exceeds the {available} data bytes received"
                )
            }
            ControlError::BadTrailer(n) => write!(f, "{n} trailing bytes are not a MAC"),
            ControlError::Oversized(n) => write!(f, "{n} data bytes exceed one fragment"),
            ControlError::BufferTooSmall => write!(f, "output buffer too small"),
        }
    }
}

impl std::error::Error for ControlError {}

/// One mode 6 datagram. `data` borrows from the datagram when decoded.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ControlMessage<'a> {
    pub leap: u8,
    pub version: u8,
    /// R bit: set in responses.
    pub response: bool,
    /// E bit: the status field holds an error code.
    pub error: bool,
    /// M bit: more fragments follow.
    pub more: bool,
    pub opcode: u8,
    pub sequence: u16,
    pub status: u16,
    pub association_id: u16,
    /// Byte offset of this fragment's data in the whole response.
    pub offset: u16,
    pub data: &'a [u8],
    pub mac: Option<MacField>,
}

fn round_up(n: usize, to: usize) -> usize {
    n.div_ceil(to) * to
}

impl<'a> ControlMessage<'a> {
    /// A request as ntpq sends it (version 2, like ntpq, so that old
    /// servers answer too).
    pub fn request(opcode: u8, sequence: u16, association_id: u16, data: &'a [u8]) -> Self {
        ControlMessage {
            leap: 0,
            version: 2,
            response: false,
            error: false,
            more: false,
            opcode,
            sequence,
            status: 0,
            association_id,
            offset: 0,
            data,
            mac: None,
        }
    }

    pub fn decode(bytes: &'a [u8]) -> Result<ControlMessage<'a>, ControlError> {
        if bytes.len() < CONTROL_HEADER_LEN {
            return Err(ControlError::TooShort(bytes.len()));
        }
        let mode = bytes[0] & 7;
        if mode != CONTROL_MODE {
            return Err(ControlError::NotControl { mode });
        }
        let version = (bytes[0] >> 3) & 7;
        if !(1..=4).contains(&version) {
            return Err(ControlError::BadVersion(version));
        }
        let word = |i: usize| u16::from_be_bytes([bytes[i], bytes[i + 1]]);
        let count = word(10) as usize;
        let available = bytes.len() - CONTROL_HEADER_LEN;
        if count > available {
            return Err(ControlError::BadCount { count, available });
        }
        let data = &bytes[CONTROL_HEADER_LEN..CONTROL_HEADER_LEN + count];
        let mac = parse_mac(bytes, CONTROL_HEADER_LEN + count)?;
        Ok(ControlMessage {
            leap: bytes[0] >> 6,
            version,
            response: bytes[1] & 0x80 != 0,
            error: bytes[1] & 0x40 != 0,
            more: bytes[1] & 0x20 != 0,
            opcode: bytes[1] & 0x1f,
            sequence: word(2),
            status: word(4),
            association_id: word(6),
            offset: word(8),
            data,
            mac,
        })
    }

    /// Header, data and padding: what a MAC covers. Padded to 4 bytes, or to
    /// 8 when a MAC follows, as ntpq and ntpd do.
    pub fn authenticated_len(&self) -> usize {
        let align = if self.mac.is_some() { 8 } else { 4 };
        round_up(CONTROL_HEADER_LEN + self.data.len(), align)
    }

    pub fn encoded_len(&self) -> usize {
        self.authenticated_len() + self.mac.map_or(0, |m| m.encoded_len())
    }

    pub fn encode_into(&self, buf: &mut [u8]) -> Result<usize, ControlError> {
        if self.data.len() > u16::MAX as usize {
            return Err(ControlError::Oversized(self.data.len()));
        }
        let len = self.encoded_len();
        let out = buf.get_mut(..len).ok_or(ControlError::BufferTooSmall)?;
        out.fill(0);
        out[0] = (self.leap << 6) | ((self.version & 7) << 3) | CONTROL_MODE;
        out[1] = (u8::from(self.response) << 7)
            | (u8::from(self.error) << 6)
            | (u8::from(self.more) << 5)
            | (self.opcode & 0x1f);
        out[2..4].copy_from_slice(&self.sequence.to_be_bytes());
        out[4..6].copy_from_slice(&self.status.to_be_bytes());
        out[6..8].copy_from_slice(&self.association_id.to_be_bytes());
        out[8..10].copy_from_slice(&self.offset.to_be_bytes());
        out[10..12].copy_from_slice(&(self.data.len() as u16).to_be_bytes());
        out[CONTROL_HEADER_LEN..CONTROL_HEADER_LEN + self.data.len()].copy_from_slice(self.data);
        let mac_at = self.authenticated_len();
        match self.mac {
            None => {}
            Some(MacField::CryptoNak) => {}
            Some(MacField::Mac { key_id, digest }) => {
                out[mac_at..mac_at + 4].copy_from_slice(&key_id.to_be_bytes());
                out[mac_at + 4..].copy_from_slice(digest.as_bytes());
            }
        }
        Ok(len)
    }

    pub fn to_vec(&self) -> Vec<u8> {
        let mut buf = vec![0; self.encoded_len()];
        let _ = self.encode_into(&mut buf);
        buf
    }
}

/// The MAC after the data, if any. Padding may be to 4 or to 8 bytes, and
/// some senders add none after the last fragment: accept what classic
/// implementations produce, reject anything else.
fn parse_mac(bytes: &[u8], data_end: usize) -> Result<Option<MacField>, ControlError> {
    let rest = bytes.len() - data_end;
    // A MAC follows the data padded to 8 bytes (ntpd and ntpq both look
    // for it there); some senders pad to 4 only, which is tried second.
    // Looking at the 4-byte boundary first would read an MD5 MAC after
    // 8-byte padding as a SHA1 one starting in the padding, with key 0.
    for start in [round_up(data_end, 8), round_up(data_end, 4)] {
        let Some(tail) = bytes.get(start..) else {
            continue;
        };
        // Zeros are padding, never a MAC: key ID 0 is no key.
        if (tail.len() == 20 || tail.len() == 24) && tail.iter().any(|&b| b != 0) {
            let key_id = u32::from_be_bytes([tail[0], tail[1], tail[2], tail[3]]);
            let digest = Digest::new(&tail[4..]).ok_or(ControlError::BadTrailer(rest))?;
            return Ok(Some(MacField::Mac { key_id, digest }));
        }
    }
    // Only padding may remain: up to the next 8-byte boundary of any
    // bytes (ntpsec 1.2.2 pads with whatever was in its buffer, as the
    // reference capture shows, and ntpq ignores them), or zeros of any
    // length (Debian's ntpstat sends a 576-byte request with count 0).
    if rest < 8 || bytes[data_end..].iter().all(|&b| b == 0) {
        Ok(None)
    } else {
        Err(ControlError::BadTrailer(rest))
    }
}

/// Splits response data into fragments of at most `max` bytes, breaking
/// after a variable separator where one is near, as ntpd does, so that no
/// `name=value` item straddles two datagrams when it can be helped.
/// Yields (offset, chunk, more).
pub fn fragments(data: &[u8], max: usize) -> impl Iterator<Item = (usize, &[u8], bool)> {
    let max = max.max(1);
    let mut at = 0;
    let mut done = false;
    std::iter::from_fn(move || {
        if done {
            return None;
        }
        let left = data.len() - at;
        if left <= max {
            done = true;
            return Some((at, &data[at..], false));
        }
        let window = &data[at..at + max];
        let cut = window
            .iter()
            .rposition(|&b| b == b',')
            .map_or(max, |i| i + 1);
        let chunk = &data[at..at + cut];
        let offset = at;
        at += cut;
        Some((offset, chunk, true))
    })
}

/// Why a response could not be reassembled.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ReassemblyError {
    /// The server answered with the E bit: its error code.
    Server(u16),
    /// Two fragments overlap with different contents.
    Overlap { offset: usize },
    /// More fragments, or more data, than any real response has.
    TooLarge,
}

impl fmt::Display for ReassemblyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ReassemblyError::Server(code) => f.write_str(error_code::describe(*code)),
            ReassemblyError::Overlap { offset } => {
                write!(f, "fragments overlap at offset {offset}")
            }
            ReassemblyError::TooLarge => write!(f, "response has too many fragments"),
        }
    }
}

impl std::error::Error for ReassemblyError {}

/// Collects the fragments of one response, in any order, ignoring exact
/// duplicates, until every byte from 0 to the last fragment's end is there.
#[derive(Clone, Debug, Default)]
pub struct Reassembly {
    /// (offset, data), kept sorted by offset.
    pieces: Vec<(usize, Vec<u8>)>,
    /// The end offset, once the fragment without the M bit has arrived.
    end: Option<usize>,
    /// Status and association ID of the first fragment.
    pub status: u16,
    pub association_id: u16,
}

impl Reassembly {
    pub fn new() -> Reassembly {
        Reassembly::default()
    }

    /// Adds a fragment of the response (the caller has matched sequence
    /// and opcode). Returns the whole data once complete.
    pub fn add(&mut self, msg: &ControlMessage<'_>) -> Result<Option<Vec<u8>>, ReassemblyError> {
        if msg.error {
            return Err(ReassemblyError::Server(msg.status));
        }
        let offset = msg.offset as usize;
        let end = offset + msg.data.len();
        if self.pieces.is_empty() {
            self.status = msg.status;
            self.association_id = msg.association_id;
        }
        if !msg.more {
            self.end = Some(end);
        }
        match self.pieces.binary_search_by_key(&offset, |(o, _)| *o) {
            Ok(i) if self.pieces[i].1 == msg.data => return Ok(self.complete()),
            Ok(_) => return Err(ReassemblyError::Overlap { offset }),
            Err(i) => {
                let overlaps_prev = i > 0 && {
                    let (o, d) = &self.pieces[i - 1];
                    o + d.len() > offset
                };
                let overlaps_next = self.pieces.get(i).is_some_and(|(o, _)| *o < end);
                if overlaps_prev || overlaps_next {
                    return Err(ReassemblyError::Overlap { offset });
                }
                if self.pieces.len() >= MAX_FRAGMENTS {
                    return Err(ReassemblyError::TooLarge);
                }
                self.pieces.insert(i, (offset, msg.data.to_vec()));
            }
        }
        Ok(self.complete())
    }

    /// The byte ranges still missing, for a client that wants to report them.
    pub fn is_complete(&self) -> bool {
        self.end.is_some_and(|end| self.covered() == end)
    }

    /// How many contiguous bytes from offset 0 have arrived.
    fn covered(&self) -> usize {
        let mut at = 0;
        for (o, d) in &self.pieces {
            if *o != at {
                break;
            }
            at += d.len();
        }
        at
    }

    fn complete(&self) -> Option<Vec<u8>> {
        if !self.is_complete() {
            return None;
        }
        Some(
            self.pieces
                .iter()
                .flat_map(|(_, d)| d.iter().copied())
                .collect(),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_captured_ntpq_request_decodes() {
        // ntpq's READVAR request from the reference capture: 0x16 0x02, seq 1.
        let bytes = [0x16, 0x02, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0];
        let m = ControlMessage::decode(&bytes).unwrap();
        assert_eq!(
            (m.version, m.opcode, m.sequence, m.response),
            (2, opcode::READVAR, 1, false)
        );
        assert!(m.data.is_empty() && m.mac.is_none());
        assert_eq!(
            ControlMessage::request(opcode::READVAR, 1, 0, b"").to_vec(),
            bytes
        );
    }

    #[test]
    fn data_is_padded_to_four_bytes_and_count_is_exact() {
        let m = ControlMessage {
            response: true,
            status: 0x0615,
            ..ControlMessage::request(2, 7, 0, b"leap=0")
        };
        let bytes = m.to_vec();
        assert_eq!(bytes.len(), 20);
        assert_eq!(&bytes[10..12], &[0, 6]);
        assert_eq!(&bytes[18..], &[0, 0]);
        assert_eq!(ControlMessage::decode(&bytes).unwrap(), m);
    }

    #[test]
    fn a_mac_follows_padding_to_eight_bytes() {
        let digest = Digest::new(&[0xab; 20]).unwrap();
        let m = ControlMessage {
            mac: Some(MacField::Mac { key_id: 1, digest }),
            ..ControlMessage::request(opcode::WRITEVAR, 3, 0, b"leap=0")
        };
        let bytes = m.to_vec();
        assert_eq!(m.authenticated_len(), 24);
        assert_eq!(bytes.len(), 48);
        assert_eq!(ControlMessage::decode(&bytes).unwrap(), m);
    }

    #[test]
    fn padding_bytes_need_not_be_zero() {
        // ntpsec's answer to `rv 0 leap,stratum` (reference capture #6):
        // 19 data bytes, then a pad byte of 0x1a.
        let bytes = [
            0x16, 0x82, 0, 2, 0, 0x16, 0, 0, 0, 0, 0, 0x13, b'l', b'e', b'a', b'p', b'=', b'0',
            b',', b' ', b's', b't', b'r', b'a', b't', b'u', b'm', b'=', b'3', b'\r', b'\n', 0x1a,
        ];
        let m = ControlMessage::decode(&bytes).unwrap();
        assert_eq!(m.data, b"leap=0, stratum=3\r\n");
        assert!(m.mac.is_none());
    }

    #[test]
    fn a_16_byte_mac_after_8_byte_padding_keeps_its_key_id() {
        // 12-byte header + 7 bytes of data: padded to 24, then key 1 and
        // an MD5 digest (the fuzz_props regression).
        let digest = Digest::new(&[0x5a; 16]).unwrap();
        let m = ControlMessage {
            mac: Some(MacField::Mac { key_id: 1, digest }),
            ..ControlMessage::request(opcode::READ_ORDLIST_A, 1, 0, b"ifstats")
        };
        let bytes = m.to_vec();
        assert_eq!(bytes.len(), 44);
        assert_eq!(ControlMessage::decode(&bytes).unwrap(), m);
        // 20 or 24 zero bytes after the data are padding, not key 0.
        let mut padded = ControlMessage::request(opcode::READVAR, 1, 0, b"").to_vec();
        padded.resize(CONTROL_HEADER_LEN + 24, 0);
        assert_eq!(ControlMessage::decode(&padded).unwrap().mac, None);
    }

    #[test]
    fn debian_ntpstats_zero_padded_request_decodes() {
        // READVAR, sequence 1, count 0, then zeros up to 576 bytes.
        let mut bytes = vec![0u8; 576];
        bytes[..4].copy_from_slice(&[0x16, 0x02, 0x00, 0x01]);
        let m = ControlMessage::decode(&bytes).unwrap();
        assert_eq!(
            (m.opcode, m.sequence, m.data.len()),
            (opcode::READVAR, 1, 0)
        );
        assert!(m.mac.is_none());
    }

    #[test]
    fn bad_counts_and_trailers_are_typed_errors() {
        let mut bytes = ControlMessage::request(2, 1, 0, b"abcd").to_vec();
        bytes[11] = 200;
        assert_eq!(
            ControlMessage::decode(&bytes),
            Err(ControlError::BadCount {
                count: 200,
                available: 4
            })
        );
        let mut junk = ControlMessage::request(2, 1, 0, b"abcd").to_vec();
        junk.extend_from_slice(&[1; 9]);
        assert_eq!(
            ControlMessage::decode(&junk),
            Err(ControlError::BadTrailer(9))
        );
        assert_eq!(
            ControlMessage::decode(&[0x16; 11]),
            Err(ControlError::TooShort(11))
        );
        assert_eq!(
            ControlMessage::decode(&[0x1b, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]),
            Err(ControlError::NotControl { mode: 3 })
        );
    }

    fn fragment_messages(data: &[u8], max: usize) -> Vec<ControlMessage<'_>> {
        fragments(data, max)
            .map(|(offset, chunk, more)| ControlMessage {
                response: true,
                more,
                offset: offset as u16,
                ..ControlMessage::request(opcode::READVAR, 9, 0, chunk)
            })
            .collect()
    }

    #[test]
    fn fragments_break_after_commas_and_reassemble_in_any_order() {
        let data = b"version=\"ntpd\", leap=0, stratum=2, refid=10.0.0.1, offset=0.001";
        let frags = fragment_messages(data, 20);
        assert!(frags.len() > 2);
        for f in &frags[..frags.len() - 1] {
            assert!(
                f.data.ends_with(b","),
                "{:?}",
                String::from_utf8_lossy(f.data)
            );
            assert!(f.more);
        }
        let mut r = Reassembly::new();
        let mut order: Vec<_> = frags.iter().rev().collect();
        order.insert(1, &frags[1]); // a duplicate
        let mut result = None;
        for f in order {
            assert!(result.is_none(), "complete too early");
            result = r.add(f).unwrap();
        }
        assert_eq!(result.unwrap(), data);
    }

    #[test]
    fn a_missing_fragment_leaves_the_response_incomplete() {
        let data = b"a=1, b=2, c=3, d=4, e=5, f=6";
        let frags = fragment_messages(data, 8);
        let mut r = Reassembly::new();
        for (i, f) in frags.iter().enumerate() {
            if i != 1 {
                assert_eq!(r.add(f).unwrap(), None);
            }
        }
        assert!(!r.is_complete());
        assert_eq!(r.add(&frags[1]).unwrap().unwrap(), data);
    }

    #[test]
    fn conflicting_overlap_and_server_errors_are_reported() {
        let a = ControlMessage {
            response: true,
            more: true,
            ..ControlMessage::request(2, 1, 0, b"abcd")
        };
        let b = ControlMessage {
            offset: 2,
            ..ControlMessage {
                response: true,
                ..ControlMessage::request(2, 1, 0, b"zzzz")
            }
        };
        let mut r = Reassembly::new();
        r.add(&a).unwrap();
        assert_eq!(r.add(&b), Err(ReassemblyError::Overlap { offset: 2 }));
        let e = ControlMessage {
            error: true,
            status: error_code::BADASSOC,
            ..a
        };
        assert_eq!(
            Reassembly::new().add(&e),
            Err(ReassemblyError::Server(error_code::BADASSOC))
        );
        assert_eq!(
            ReassemblyError::Server(4).to_string(),
            "Association ID unknown"
        );
    }
}
