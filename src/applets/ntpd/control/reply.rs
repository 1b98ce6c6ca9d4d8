//! Reading a request and writing its response datagrams.

use crate::proto::control::{
    fragments, ControlError, ControlMessage, CONTROL_HEADER_LEN, MAX_FRAGMENT_DATA,
};
use crate::proto::Leap;

/// Requests are padded to 4 bytes, 8 before a MAC.
const REQUEST_ALIGN: usize = 4;

/// Decodes a request. Debian's ntpstat sends its 12-byte READVAR inside a
/// 576-byte datagram of zeros: zeros after the data are padding, however
/// many. Responses (R bit), fragments of requests (M bit, a non-zero
/// offset) and error-flagged messages are not requests; None for those,
/// and for anything that is not a mode 6 message.
pub fn decode_request(bytes: &[u8]) -> Option<ControlMessage<'_>> {
    let msg = match ControlMessage::decode(bytes) {
        Ok(m) => m,
        Err(ControlError::BadTrailer(_)) => {
            let count = usize::from(u16::from_be_bytes([bytes[10], bytes[11]]));
            let end = (CONTROL_HEADER_LEN + count).next_multiple_of(REQUEST_ALIGN);
            if bytes.get(end..)?.iter().any(|&b| b != 0) {
                return None;
            }
            ControlMessage::decode(&bytes[..end]).ok()?
        }
        Err(_) => return None,
    };
    if msg.response || msg.more || msg.error || msg.offset != 0 {
        return None;
    }
    Some(msg)
}

/// The response datagrams to one request, built in order.
pub struct Response<'r> {
    request: &'r ControlMessage<'r>,
    /// The system's leap indicator, which every response carries.
    leap: Leap,
}

impl<'r> Response<'r> {
    pub fn new(request: &'r ControlMessage<'r>, leap: Leap) -> Response<'r> {
        Response { request, leap }
    }

    fn header(&self, status: u16, association_id: u16) -> ControlMessage<'r> {
        ControlMessage {
            leap: self.leap.bits(),
            // The request's own version, as classic answers.
            version: self.request.version,
            response: true,
            error: false,
            more: false,
            opcode: self.request.opcode,
            sequence: self.request.sequence,
            status,
            association_id,
            offset: 0,
            data: &[],
            mac: None,
        }
    }

    /// A text answer (a variable list), split after item separators.
    pub fn text(&self, status: u16, association_id: u16, data: &[u8]) -> Vec<Vec<u8>> {
        let head = self.header(status, association_id);
        fragments(data, MAX_FRAGMENT_DATA)
            .map(|(offset, chunk, more)| datagram(head, offset, chunk, more))
            .collect()
    }

    /// A binary answer (READSTAT's pairs), split at fixed sizes so that
    /// no pair straddles two datagrams (468 is a multiple of 4).
    pub fn binary(&self, status: u16, association_id: u16, data: &[u8]) -> Vec<Vec<u8>> {
        let head = self.header(status, association_id);
        if data.is_empty() {
            return vec![datagram(head, 0, data, false)];
        }
        let chunks = data.len().div_ceil(MAX_FRAGMENT_DATA);
        data.chunks(MAX_FRAGMENT_DATA)
            .enumerate()
            .map(|(i, chunk)| datagram(head, i * MAX_FRAGMENT_DATA, chunk, i + 1 < chunks))
            .collect()
    }

    /// The E bit with a CERR_ code in the status word's high byte, no data
    /// (classic's ctl_error): 12 bytes, never more than the request.
    pub fn error(&self, code: u16) -> Vec<u8> {
        let head = ControlMessage {
            error: true,
            status: code << 8,
            ..self.header(0, self.request.association_id)
        };
        head.to_vec()
    }
}

fn datagram(head: ControlMessage<'_>, offset: usize, data: &[u8], more: bool) -> Vec<u8> {
    ControlMessage {
        more,
        // Mode 6 offsets are 16-bit; responses are bounded far below that
        // (32 fragments of 468 bytes).
        offset: offset as u16,
        data,
        ..head
    }
    .to_vec()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::proto::control::{opcode, Reassembly};

    #[test]
    fn ntpstats_padded_request_decodes() {
        let mut bytes = vec![0u8; 576];
        bytes[..4].copy_from_slice(&[0x16, 0x02, 0x00, 0x01]);
        let m = decode_request(&bytes).expect("a request");
        assert_eq!(
            (m.opcode, m.sequence, m.data.len()),
            (opcode::READVAR, 1, 0)
        );
        bytes[575] = 1;
        assert_eq!(decode_request(&bytes), None, "junk is not padding");
    }

    #[test]
    fn responses_and_fragments_are_not_requests() {
        let req = ControlMessage::request(opcode::READVAR, 1, 0, b"");
        assert!(decode_request(&req.to_vec()).is_some());
        for m in [
            ControlMessage {
                response: true,
                ..req
            },
            ControlMessage { more: true, ..req },
            ControlMessage { offset: 4, ..req },
        ] {
            assert_eq!(decode_request(&m.to_vec()), None);
        }
        assert_eq!(decode_request(&[0x16, 0x02]), None);
        assert_eq!(decode_request(&[0x1b; 48]), None, "mode 3");
    }

    #[test]
    fn long_answers_are_fragmented_and_reassemble() {
        let req = ControlMessage::request(opcode::READVAR, 9, 0, b"");
        let text: Vec<u8> = (0..200)
            .flat_map(|i| format!("v{i}={i}, ").into_bytes())
            .collect();
        let dgrams = Response::new(&req, Leap::NoWarning).text(0x0615, 0, &text);
        assert!(dgrams.len() >= 4);
        let mut r = Reassembly::new();
        let mut whole = None;
        for d in dgrams.iter().rev() {
            assert!(d.len() <= CONTROL_HEADER_LEN + MAX_FRAGMENT_DATA);
            let m = ControlMessage::decode(d).unwrap();
            assert_eq!((m.sequence, m.status, m.response), (9, 0x0615, true));
            whole = r.add(&m).unwrap().or(whole);
        }
        assert_eq!(whole.unwrap(), text);
    }

    #[test]
    fn binary_answers_split_on_pairs_and_errors_are_12_bytes() {
        let req = ControlMessage::request(opcode::READSTAT, 3, 0, b"");
        let data = vec![0x2c; 4 * 200];
        let d = Response::new(&req, Leap::NoWarning).binary(0x0615, 0, &data);
        let sizes: Vec<usize> = d
            .iter()
            .map(|d| ControlMessage::decode(d).unwrap().data.len())
            .collect();
        assert_eq!(sizes, [468, 332]);
        let e = Response::new(&req, Leap::Unsynchronized).error(4);
        assert_eq!(e, [0xd6, 0xc1, 0, 3, 4, 0, 0, 0, 0, 0, 0, 0]);
    }
}
