//! NTP packet decoding: any bytes give a value or a typed error, never a
//! panic; whatever decodes re-encodes to the same bytes.
#![no_main]

use libfuzzer_sys::fuzz_target;
use ntpbox::proto::Packet;

fuzz_target!(|data: &[u8]| {
    if let Ok(packet) = Packet::decode(data) {
        assert_eq!(packet.to_vec(), data, "decode then encode must be the identity");
    }
});
