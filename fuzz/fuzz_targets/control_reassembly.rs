//! Mode 6 fragment reassembly: a response split as ntpd splits it, with the
//! fragments sent through the wire format and delivered in any order, with
//! duplicates, reassembles to exactly the original data (when it has no
//! more fragments than a response may have).
#![no_main]

use libfuzzer_sys::fuzz_target;
use ntpbox::proto::control::{
    fragments, ControlMessage, Reassembly, ReassemblyError, MAX_FRAGMENTS,
};

/// The opcode of the responses built here (read variables).
const READ_VARIABLES: u8 = 2;

fuzz_target!(|input: &[u8]| {
    // [fragment size - 1] [n] [n delivery-order bytes] [data...]
    let Some((&size, rest)) = input.split_first() else {
        return;
    };
    let Some((&order_len, rest)) = rest.split_first() else {
        return;
    };
    let (order, data) = rest.split_at((order_len as usize).min(rest.len()));
    if data.len() > u16::MAX as usize {
        return;
    }
    let pieces: Vec<(usize, &[u8], bool)> = fragments(data, size as usize + 1).collect();
    // The order bytes pick fragments (repeats are duplicates); then every
    // fragment once more, last first, so that all of them arrive.
    let deliveries = order
        .iter()
        .map(|&b| b as usize % pieces.len())
        .chain((0..pieces.len()).rev());
    let mut reassembly = Reassembly::new();
    let mut whole = None;
    for i in deliveries {
        let (offset, chunk, more) = pieces[i];
        let mut msg = ControlMessage::request(READ_VARIABLES, 1, 0, chunk);
        msg.response = true;
        msg.more = more;
        msg.offset = offset as u16;
        let wire = msg.to_vec();
        let decoded = ControlMessage::decode(&wire).expect("what we encode decodes");
        assert_eq!(decoded, msg, "encode then decode is the identity");
        match reassembly.add(&decoded) {
            Ok(Some(data)) => {
                whole = Some(data);
                break;
            }
            Ok(None) => {}
            Err(ReassemblyError::TooLarge) => {
                assert!(pieces.len() > MAX_FRAGMENTS, "refused {} fragments", pieces.len());
                return;
            }
            Err(e) => panic!("fragments of one response: {e}"),
        }
    }
    assert_eq!(whole.as_deref(), Some(data), "reassembled data differs");
});
