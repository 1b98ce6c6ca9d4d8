//! Truncated, garbage and oversized packets: dropped without a word, and
//! the daemon keeps serving.

use crate::client::{request, Client, REPLY_WAIT};
use crate::daemon::Daemon;
use crate::serve::LOCAL_CLOCK_10;

/// A small deterministic generator, so a failure can be replayed.
struct XorShift(u64);

impl XorShift {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    fn bytes(&mut self, n: usize) -> Vec<u8> {
        (0..n).map(|_| self.next() as u8).collect()
    }
}

fn hostile_packets() -> Vec<Vec<u8>> {
    let mut rng = XorShift(0x9e37_79b9_7f4a_7c15);
    let valid = request(4, 1);
    let mut packets = vec![
        Vec::new(),
        vec![0x23],
        valid[..47].to_vec(),
        vec![0u8; 48],                     // version 0, mode 0
        vec![0x3b; 48],                    // version 7
        vec![0x26; 48],                    // mode 6 (control), garbage body
        vec![0x27; 48],                    // mode 7
        [&valid[..], &[0xff; 7]].concat(), // a trailer that is neither field nor MAC
        [&valid[..], &[0x01, 0x04, 0xff, 0xff], &[0u8; 60][..]].concat(), // field past the end
        vec![0x23; 3000],                  // larger than any NTP packet
        vec![0xe3; 65000],                 // near the UDP maximum
    ];
    for _ in 0..200 {
        let len = (rng.next() % 200) as usize;
        packets.push(rng.bytes(len));
    }
    packets
}

#[test]
fn hostile_packets_get_no_reply_no_log_line_and_serving_goes_on() {
    let mut d = Daemon::start(LOCAL_CLOCK_10);
    let lines_before = d.log().lines().count();
    let packets = hostile_packets();
    // Random bytes that happen to decode as a client request are answered:
    // they go from their own socket, whose replies nobody checks.
    let random = Client::bind("127.0.0.1");
    for p in &packets {
        random.send(p, d.addr());
    }
    // The malformed ones get nothing, and none of it stops the daemon.
    let c = Client::bind("127.0.0.1");
    for p in &packets[..11] {
        c.send(p, d.addr());
        assert_eq!(
            c.receive(d.addr(), std::time::Duration::from_millis(50)),
            None,
            "{:02x?}",
            &p[..p.len().min(8)]
        );
    }
    assert!(d.is_running(), "{}", d.log());
    let r = c.ask(d.addr(), REPLY_WAIT).expect("still serving");
    assert_eq!(r.stratum, 10);
    assert_eq!(
        d.log().lines().count(),
        lines_before,
        "nothing logged per packet:\n{}",
        d.log()
    );
    let status = d.stop_with(libc::SIGTERM);
    assert_eq!(status.code(), Some(0));
    let last = d.messages().pop().unwrap();
    assert!(last.contains(" malformed"), "{last}");
}

#[test]
fn a_flood_of_garbage_from_many_sources_is_survived() {
    let mut d = Daemon::start(LOCAL_CLOCK_10);
    let mut rng = XorShift(42);
    for i in 1..=20u8 {
        let c = Client::bind(&format!("127.0.{i}.1"));
        for _ in 0..100 {
            let len = (rng.next() % 100) as usize;
            c.send(&rng.bytes(len), d.addr());
        }
    }
    assert!(d.is_running());
    // The flood overflows the socket's receive queue, and a request sent
    // into a full queue is lost like any UDP packet: ask as a client would,
    // a few times, once the daemon has worked through the backlog.
    for source in ["127.0.0.1", "127.0.0.2"] {
        let c = Client::bind(source);
        let answered = (0..5).any(|_| {
            c.ask(d.addr(), std::time::Duration::from_millis(500))
                .is_some()
        });
        assert!(
            answered,
            "{source} got no reply after the flood:\n{}",
            d.log()
        );
    }
}
