//! The NTP packet (RFC 5905 §7.3): the 48-byte header, RFC 7822 extension
//! fields, and the optional MAC.
//!
//! Decoding borrows from the input and allocates nothing, so a server can
//! parse every request on its hot path; encoding writes into a caller buffer.

use std::fmt;

use super::refid::{KissCode, RefId};
use super::timestamp::{NtpShort, NtpTimestamp};

/// Length of the fixed header.
pub const HEADER_LEN: usize = 48;
/// Key ID plus the longest digest classic ntpd sends (SHA1, 20 bytes).
pub const MAX_MAC_LEN: usize = 4 + MAX_DIGEST_LEN;
/// The longest digest a MAC carries: SHA1's, or longer digests truncated.
pub const MAX_DIGEST_LEN: usize = 20;
/// A crypto-NAK is a MAC field holding only a zero key ID.
pub const CRYPTO_NAK_LEN: usize = 4;
/// RFC 7822: an extension field is at least 16 bytes (type, length, 12 of
/// value) and its length is a multiple of 4.
pub const MIN_EXTENSION_LEN: usize = 16;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
pub enum Leap {
    #[default]
    NoWarning,
    /// The last minute of the day has 61 seconds.
    AddSecond,
    /// The last minute of the day has 59 seconds.
    DeleteSecond,
    /// The clock is not synchronised ("alarm").
    Unsynchronized,
}

impl Leap {
    pub fn from_bits(bits: u8) -> Leap {
        match bits & 3 {
            0 => Leap::NoWarning,
            1 => Leap::AddSecond,
            2 => Leap::DeleteSecond,
            _ => Leap::Unsynchronized,
        }
    }

    pub fn bits(self) -> u8 {
        self as u8
    }
}

/// Association modes (RFC 5905 Figure 10).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Mode {
    Reserved,
    SymmetricActive,
    SymmetricPassive,
    Client,
    Server,
    Broadcast,
    /// NTP control messages (mode 6): a different layout, see `control`.
    Control,
    /// ntpd's private mode 7: obsolete and never answered.
    Private,
}

impl Mode {
    pub fn from_bits(bits: u8) -> Mode {
        match bits & 7 {
            0 => Mode::Reserved,
            1 => Mode::SymmetricActive,
            2 => Mode::SymmetricPassive,
            3 => Mode::Client,
            4 => Mode::Server,
            5 => Mode::Broadcast,
            6 => Mode::Control,
            _ => Mode::Private,
        }
    }

    pub fn bits(self) -> u8 {
        self as u8
    }
}

/// Why bytes are not a usable NTP time packet.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PacketError {
    /// Fewer than 48 bytes.
    TooShort(usize),
    /// Version 0 or above 4.
    BadVersion(u8),
    /// Mode 0, 6 or 7: not a time packet (mode 6 has its own decoder).
    NotTimeMode(u8),
    /// An extension field whose length is below 16, not a multiple of 4, or
    /// runs past the end of the packet.
    BadExtension { offset: usize },
    /// Trailing bytes that are neither extension fields nor a MAC.
    BadTrailer(usize),
    /// The output buffer is too small.
    BufferTooSmall,
}

impl fmt::Display for PacketError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PacketError::TooShort(n) => {
                write!(f, "packet too short ({n} bytes, need {HEADER_LEN})")
            }
            PacketError::BadVersion(v) => write!(f, "unsupported NTP version {v}"),
            PacketError::NotTimeMode(m) => write!(f, "mode {m} is not an NTP time packet"),
            PacketError::BadExtension { offset } => {
                write!(f, "malformed extension field at byte {offset}")
            }
            PacketError::BadTrailer(n) => {
                write!(
                    f,
                    "{n} trailing bytes are neither extension fields nor a MAC"
                )
            }
            PacketError::BufferTooSmall => write!(f, "output buffer too small"),
        }
    }
}

impl std::error::Error for PacketError {}

/// The fixed 48-byte header.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Header {
    pub leap: Leap,
    /// 1 to 4.
    pub version: u8,
    pub mode: Mode,
    pub stratum: u8,
    /// log2 of the poll interval in seconds.
    pub poll: i8,
    /// log2 of the clock precision in seconds.
    pub precision: i8,
    pub root_delay: NtpShort,
    pub root_dispersion: NtpShort,
    pub reference_id: RefId,
    pub reference_ts: NtpTimestamp,
    pub origin_ts: NtpTimestamp,
    pub receive_ts: NtpTimestamp,
    pub transmit_ts: NtpTimestamp,
}

impl Default for Header {
    fn default() -> Header {
        Header {
            leap: Leap::NoWarning,
            version: 4,
            mode: Mode::Client,
            stratum: 0,
            poll: 0,
            precision: 0,
            root_delay: NtpShort::default(),
            root_dispersion: NtpShort::default(),
            reference_id: RefId::default(),
            reference_ts: NtpTimestamp::ZERO,
            origin_ts: NtpTimestamp::ZERO,
            receive_ts: NtpTimestamp::ZERO,
            transmit_ts: NtpTimestamp::ZERO,
        }
    }
}

impl Header {
    /// A client request (mode 3) carrying `transmit` as its transmit
    /// timestamp, which the server echoes as the origin.
    pub fn client_request(version: u8, transmit: NtpTimestamp) -> Header {
        Header {
            version,
            mode: Mode::Client,
            transmit_ts: transmit,
            ..Header::default()
        }
    }

    /// The kiss code, if this is a kiss-o'-death packet (stratum 0).
    pub fn kiss_code(&self) -> Option<KissCode> {
        self.reference_id.kiss_code(self.stratum)
    }

    /// Decodes the header from the first 48 bytes.
    pub fn decode(bytes: &[u8]) -> Result<Header, PacketError> {
        let b: &[u8; HEADER_LEN] = bytes
            .get(..HEADER_LEN)
            .and_then(|h| h.try_into().ok())
            .ok_or(PacketError::TooShort(bytes.len()))?;
        let version = (b[0] >> 3) & 7;
        if !(1..=4).contains(&version) {
            return Err(PacketError::BadVersion(version));
        }
        let mode = Mode::from_bits(b[0]);
        if matches!(mode, Mode::Reserved | Mode::Control | Mode::Private) {
            return Err(PacketError::NotTimeMode(mode.bits()));
        }
        let u32_at = |i: usize| u32::from_be_bytes([b[i], b[i + 1], b[i + 2], b[i + 3]]);
        let ts_at =
            |i: usize| NtpTimestamp::from_bits(((u32_at(i) as u64) << 32) | u32_at(i + 4) as u64);
        Ok(Header {
            leap: Leap::from_bits(b[0] >> 6),
            version,
            mode,
            stratum: b[1],
            poll: b[2] as i8,
            precision: b[3] as i8,
            root_delay: NtpShort::from_bits(u32_at(4)),
            root_dispersion: NtpShort::from_bits(u32_at(8)),
            reference_id: RefId([b[12], b[13], b[14], b[15]]),
            reference_ts: ts_at(16),
            origin_ts: ts_at(24),
            receive_ts: ts_at(32),
            transmit_ts: ts_at(40),
        })
    }

    pub fn encode(&self) -> [u8; HEADER_LEN] {
        let mut b = [0u8; HEADER_LEN];
        b[0] = (self.leap.bits() << 6) | ((self.version & 7) << 3) | self.mode.bits();
        b[1] = self.stratum;
        b[2] = self.poll as u8;
        b[3] = self.precision as u8;
        b[4..8].copy_from_slice(&self.root_delay.bits().to_be_bytes());
        b[8..12].copy_from_slice(&self.root_dispersion.bits().to_be_bytes());
        b[12..16].copy_from_slice(&self.reference_id.0);
        b[16..24].copy_from_slice(&self.reference_ts.bits().to_be_bytes());
        b[24..32].copy_from_slice(&self.origin_ts.bits().to_be_bytes());
        b[32..40].copy_from_slice(&self.receive_ts.bits().to_be_bytes());
        b[40..48].copy_from_slice(&self.transmit_ts.bits().to_be_bytes());
        b
    }
}

/// The MAC field at the end of a packet.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum MacField {
    /// Key ID plus a 16-byte (MD5, AES-CMAC) or 20-byte (SHA1) digest.
    Mac { key_id: u32, digest: Digest },
    /// A zero key ID alone: the server could not authenticate the request.
    CryptoNak,
}

impl MacField {
    pub fn encoded_len(&self) -> usize {
        match self {
            MacField::Mac { digest, .. } => 4 + digest.len(),
            MacField::CryptoNak => CRYPTO_NAK_LEN,
        }
    }
}

/// A MAC digest of 16 or 20 bytes, stored inline so decoding never allocates.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct Digest {
    bytes: [u8; MAX_DIGEST_LEN],
    len: u8,
}

impl Digest {
    /// Digests of 16 or 20 bytes; anything else is not a MAC classic sends.
    pub fn new(bytes: &[u8]) -> Option<Digest> {
        if bytes.len() != 16 && bytes.len() != 20 {
            return None;
        }
        let mut d = Digest {
            bytes: [0; MAX_DIGEST_LEN],
            len: bytes.len() as u8,
        };
        d.bytes[..bytes.len()].copy_from_slice(bytes);
        Some(d)
    }

    pub fn as_bytes(&self) -> &[u8] {
        &self.bytes[..self.len as usize]
    }

    #[allow(clippy::len_without_is_empty)]
    pub fn len(&self) -> usize {
        self.len as usize
    }
}

impl fmt::Debug for Digest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for b in self.as_bytes() {
            write!(f, "{b:02x}")?;
        }
        Ok(())
    }
}

/// The extension fields of a packet, validated but not interpreted: no
/// extension is used by ntpbox yet, so they are skipped as RFC 7822 allows.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub struct Extensions<'a> {
    raw: &'a [u8],
}

impl<'a> Extensions<'a> {
    pub fn raw(&self) -> &'a [u8] {
        self.raw
    }

    pub fn is_empty(&self) -> bool {
        self.raw.is_empty()
    }

    /// (field type, value) of each field.
    pub fn iter(&self) -> impl Iterator<Item = (u16, &'a [u8])> + 'a {
        let mut rest = self.raw;
        std::iter::from_fn(move || {
            let (kind, len) = field_head(rest)?;
            let value = &rest[4..len];
            rest = &rest[len..];
            Some((kind, value))
        })
    }

    /// Validates a run of extension fields: every one well-formed, and
    /// together covering `raw` exactly.
    pub fn parse(raw: &'a [u8], base_offset: usize) -> Result<Extensions<'a>, PacketError> {
        let mut at = 0;
        while at < raw.len() {
            match field_head(&raw[at..]) {
                Some((_, len)) => at += len,
                None => {
                    return Err(PacketError::BadExtension {
                        offset: base_offset + at,
                    })
                }
            }
        }
        Ok(Extensions { raw })
    }
}

/// The type and total length of the extension field at the start of `bytes`,
/// if it is well-formed.
fn field_head(bytes: &[u8]) -> Option<(u16, usize)> {
    let head = bytes.get(..4)?;
    let kind = u16::from_be_bytes([head[0], head[1]]);
    let len = u16::from_be_bytes([head[2], head[3]]) as usize;
    (len >= MIN_EXTENSION_LEN && len % 4 == 0 && len <= bytes.len()).then_some((kind, len))
}

/// A whole NTP time packet.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Packet<'a> {
    pub header: Header,
    pub extensions: Extensions<'a>,
    pub mac: Option<MacField>,
}

impl<'a> Packet<'a> {
    pub fn new(header: Header) -> Packet<'static> {
        Packet {
            header,
            extensions: Extensions::default(),
            mac: None,
        }
    }

    /// Decodes a packet. Per RFC 7822, trailing data of at most 24 bytes is a
    /// MAC; anything longer starts with extension fields.
    pub fn decode(bytes: &'a [u8]) -> Result<Packet<'a>, PacketError> {
        let header = Header::decode(bytes)?;
        let trailer = &bytes[HEADER_LEN..];
        let mac_len = mac_len_of(trailer)?;
        let (ext_raw, mac_raw) = trailer.split_at(trailer.len() - mac_len);
        let extensions = Extensions::parse(ext_raw, HEADER_LEN)?;
        let mac = match mac_raw.len() {
            0 => None,
            CRYPTO_NAK_LEN => Some(MacField::CryptoNak),
            n => {
                let key_id = u32::from_be_bytes([mac_raw[0], mac_raw[1], mac_raw[2], mac_raw[3]]);
                let digest = Digest::new(&mac_raw[4..]).ok_or(PacketError::BadTrailer(n))?;
                Some(MacField::Mac { key_id, digest })
            }
        };
        Ok(Packet {
            header,
            extensions,
            mac,
        })
    }

    /// The number of leading bytes a MAC covers: header plus extensions.
    pub fn authenticated_len(&self) -> usize {
        HEADER_LEN + self.extensions.raw.len()
    }

    pub fn encoded_len(&self) -> usize {
        self.authenticated_len() + self.mac.map_or(0, |m| m.encoded_len())
    }

    /// Writes the packet into `buf`, returning the number of bytes written.
    pub fn encode_into(&self, buf: &mut [u8]) -> Result<usize, PacketError> {
        let len = self.encoded_len();
        let out = buf.get_mut(..len).ok_or(PacketError::BufferTooSmall)?;
        out[..HEADER_LEN].copy_from_slice(&self.header.encode());
        let mac_at = self.authenticated_len();
        out[HEADER_LEN..mac_at].copy_from_slice(self.extensions.raw);
        match self.mac {
            None => {}
            Some(MacField::CryptoNak) => out[mac_at..].copy_from_slice(&[0; CRYPTO_NAK_LEN]),
            Some(MacField::Mac { key_id, digest }) => {
                out[mac_at..mac_at + 4].copy_from_slice(&key_id.to_be_bytes());
                out[mac_at + 4..].copy_from_slice(digest.as_bytes());
            }
        }
        Ok(len)
    }

    pub fn to_vec(&self) -> Vec<u8> {
        let mut buf = vec![0; self.encoded_len()];
        // The buffer has exactly the encoded length, so this cannot fail.
        let _ = self.encode_into(&mut buf);
        buf
    }
}

/// How many of the trailing bytes after the header are the MAC field.
fn mac_len_of(trailer: &[u8]) -> Result<usize, PacketError> {
    match trailer.len() {
        0 => Ok(0),
        // A 4-byte trailer is a crypto-NAK only when the key ID is zero.
        CRYPTO_NAK_LEN if trailer == [0; 4] => Ok(CRYPTO_NAK_LEN),
        n @ (20 | 24) => Ok(n),
        n if n <= MAX_MAC_LEN => Err(PacketError::BadTrailer(n)),
        // Extension fields follow the header; whatever is left after the last
        // one that fits is the MAC (or nothing).
        n => {
            let mut at = 0;
            while n - at > MAX_MAC_LEN {
                let (_, len) = field_head(&trailer[at..]).ok_or(PacketError::BadExtension {
                    offset: HEADER_LEN + at,
                })?;
                at += len;
            }
            match n - at {
                0 | 20 | 24 => Ok(n - at),
                CRYPTO_NAK_LEN if trailer[at..] == [0; 4] => Ok(CRYPTO_NAK_LEN),
                rest => Err(PacketError::BadTrailer(rest)),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample_header() -> Header {
        Header {
            leap: Leap::NoWarning,
            version: 4,
            mode: Mode::Server,
            stratum: 2,
            poll: 6,
            precision: -23,
            root_delay: NtpShort::from_bits(0x0000_0123),
            root_dispersion: NtpShort::from_bits(0x0000_0456),
            reference_id: RefId([127, 0, 0, 1]),
            reference_ts: NtpTimestamp::from_bits(0xecc0_a8ba_0000_0001),
            origin_ts: NtpTimestamp::from_bits(0xecc0_a8bb_1111_1111),
            receive_ts: NtpTimestamp::from_bits(0xecc0_a8bb_2222_2222),
            transmit_ts: NtpTimestamp::from_bits(0xecc0_a8bb_3333_3333),
        }
    }

    #[test]
    fn header_fields_sit_where_rfc5905_puts_them() {
        let b = sample_header().encode();
        assert_eq!(b[0], 0b00_100_100);
        assert_eq!(&b[1..4], &[2, 6, 0xe9]);
        assert_eq!(&b[12..16], &[127, 0, 0, 1]);
        assert_eq!(
            &b[40..48],
            &[0xec, 0xc0, 0xa8, 0xbb, 0x33, 0x33, 0x33, 0x33]
        );
    }

    #[test]
    fn a_sntp_client_request_decodes() {
        let mut b = [0u8; 48];
        b[0] = 0x23; // LI 0, VN 4, mode 3
        b[40] = 0xec;
        let p = Packet::decode(&b).unwrap();
        assert_eq!(p.header.mode, Mode::Client);
        assert_eq!(p.header.version, 4);
        assert_eq!(p.header.transmit_ts.era_secs(), 0xec00_0000);
        assert!(p.mac.is_none());
    }

    #[test]
    fn short_and_non_time_packets_are_typed_errors() {
        assert_eq!(Packet::decode(&[0x23; 47]), Err(PacketError::TooShort(47)));
        let mut b = [0u8; 48];
        b[0] = 0x26; // mode 6
        assert_eq!(Packet::decode(&b), Err(PacketError::NotTimeMode(6)));
        b[0] = 0x3b; // version 7
        assert_eq!(Packet::decode(&b), Err(PacketError::BadVersion(7)));
    }

    #[test]
    fn macs_and_crypto_nak_are_recognised() {
        let h = sample_header().encode();
        let mut md5 = h.to_vec();
        md5.extend_from_slice(&7u32.to_be_bytes());
        md5.extend_from_slice(&[0xaa; 16]);
        let p = Packet::decode(&md5).unwrap();
        assert_eq!(p.mac.unwrap().encoded_len(), 20);
        assert!(matches!(p.mac, Some(MacField::Mac { key_id: 7, .. })));
        assert_eq!(p.authenticated_len(), 48);

        let mut nak = h.to_vec();
        nak.extend_from_slice(&[0; 4]);
        assert_eq!(Packet::decode(&nak).unwrap().mac, Some(MacField::CryptoNak));

        let mut odd = h.to_vec();
        odd.extend_from_slice(&[1; 12]);
        assert_eq!(Packet::decode(&odd), Err(PacketError::BadTrailer(12)));
    }

    #[test]
    fn extension_fields_are_skipped_and_a_mac_after_them_is_found() {
        let mut b = sample_header().encode().to_vec();
        // one 28-byte field of type 0x0104, then a SHA1 MAC
        b.extend_from_slice(&[0x01, 0x04, 0x00, 28]);
        b.extend_from_slice(&[0x55; 24]);
        b.extend_from_slice(&9u32.to_be_bytes());
        b.extend_from_slice(&[0xbb; 20]);
        let p = Packet::decode(&b).unwrap();
        let fields: Vec<_> = p.extensions.iter().collect();
        assert_eq!(fields.len(), 1);
        assert_eq!(fields[0].0, 0x0104);
        assert_eq!(fields[0].1.len(), 24);
        assert!(matches!(p.mac, Some(MacField::Mac { key_id: 9, .. })));
        assert_eq!(p.to_vec(), b);
    }

    #[test]
    fn an_extension_field_running_past_the_end_is_rejected() {
        let mut b = sample_header().encode().to_vec();
        b.extend_from_slice(&[0x01, 0x04, 0x01, 0x00]); // claims 256 bytes
        b.extend_from_slice(&[0; 28]);
        assert_eq!(
            Packet::decode(&b),
            Err(PacketError::BadExtension { offset: 48 })
        );
    }

    #[test]
    fn encode_into_a_short_buffer_is_an_error() {
        let p = Packet::new(sample_header());
        assert_eq!(
            p.encode_into(&mut [0u8; 47]),
            Err(PacketError::BufferTooSmall)
        );
        assert_eq!(p.encode_into(&mut [0u8; 64]), Ok(48));
    }
}
