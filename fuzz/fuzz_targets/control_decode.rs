//! Mode 6 decoding and reassembly: any bytes give a value or a typed error,
//! never a panic; variable-list parsing of any data never panics.
#![no_main]

use libfuzzer_sys::fuzz_target;
use ntpbox::proto::control::{ControlMessage, Reassembly};
use ntpbox::proto::varlist;

fuzz_target!(|data: &[u8]| {
    // The input is a run of datagrams, each prefixed by a length byte.
    let mut rest = data;
    let mut reassembly = Reassembly::new();
    while let Some((&len, tail)) = rest.split_first() {
        let len = (len as usize).min(tail.len());
        let (datagram, next) = tail.split_at(len);
        rest = next;
        if let Ok(msg) = ControlMessage::decode(datagram) {
            let _ = varlist::parse(msg.data);
            if let Ok(Some(whole)) = reassembly.add(&msg) {
                let _ = varlist::parse(&whole);
            }
        }
    }
});
