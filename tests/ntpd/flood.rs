//! A million hostile packets: random and mutated, every mode, truncated,
//! extension-field bombs, bad MACs. The daemon stays up, keeps answering a
//! legitimate client throughout, serves the same time state afterwards, and
//! its memory stays where it was.

use std::time::{Duration, Instant};

use crate::client::{request, Client, Reply};
use crate::daemon::{status_field, Daemon};
use crate::serve::LOCAL_CLOCK_10;

/// The floor for the flood.
const FLOOD_PACKETS: usize = 1_000_000;
/// A legitimate request goes out every this many hostile ones.
const PROBE_EVERY: usize = 50_000;
/// How long a probe may take to be answered (with retries): the flood
/// fills the socket's queue, and a request sent into a full queue is lost
/// as any UDP packet can be.
const PROBE_PATIENCE: Duration = Duration::from_secs(3);
/// The bound on the whole flood, so the test always ends.
const FLOOD_TIME_LIMIT: Duration = Duration::from_secs(120);
/// RSS may grow at most this fraction (the 10%).
const RSS_GROWTH_LIMIT: f64 = 0.10;
/// Sources the flood comes from, 127.0.F.1.
const FLOOD_SOURCES: u8 = 16;

/// SplitMix64: deterministic, so a failure replays.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }

    fn fill(&mut self, buf: &mut [u8]) {
        for b in buf {
            *b = self.next() as u8;
        }
    }
}

/// One hostile packet of kind `k` into `buf`; returns its length.
fn hostile(rng: &mut Rng, buf: &mut Vec<u8>) {
    buf.clear();
    let valid = request(4, rng.next());
    match rng.below(7) {
        // Random bytes of random length.
        0 => {
            buf.resize(rng.below(600), 0);
            rng.fill(buf);
        }
        // A valid header with every mode and version, random body.
        1 => {
            buf.extend_from_slice(&valid);
            rng.fill(&mut buf[1..]);
            buf[0] = (rng.next() as u8 & 0xc0) | ((rng.below(8) as u8) << 3) | rng.below(8) as u8;
        }
        // Truncated requests.
        2 => buf.extend_from_slice(&valid[..rng.below(48)]),
        // An extension-field bomb: many fields, some with absurd lengths.
        3 => {
            buf.extend_from_slice(&valid);
            for _ in 0..rng.below(60) {
                let len = if rng.below(4) == 0 {
                    rng.next() as u16
                } else {
                    16 + 4 * rng.below(8) as u16
                };
                buf.extend_from_slice(&(rng.next() as u16).to_be_bytes());
                buf.extend_from_slice(&len.to_be_bytes());
                let body = usize::from(len.saturating_sub(4)).min(64);
                let start = buf.len();
                buf.resize(start + body, 0);
                rng.fill(&mut buf[start..]);
            }
        }
        // Bad MACs: a key ID and a digest of each classic length.
        4 => {
            buf.extend_from_slice(&valid);
            buf.extend_from_slice(&(rng.next() as u32).to_be_bytes());
            let digest = [0usize, 16, 20, 24, 28][rng.below(5)];
            let start = buf.len();
            buf.resize(start + digest, 0);
            rng.fill(&mut buf[start..]);
        }
        // Mutations of a valid request: a few flipped bytes.
        5 => {
            buf.extend_from_slice(&valid);
            for _ in 0..1 + rng.below(4) {
                let i = rng.below(48);
                buf[i] ^= rng.next() as u8 | 1;
            }
        }
        // Server replies, symmetric and broadcast packets nobody asked for.
        _ => {
            buf.extend_from_slice(&valid);
            rng.fill(&mut buf[1..]);
            buf[0] = 0x20 | [1u8, 2, 4, 5][rng.below(4)];
            buf[1] = 1 + rng.below(15) as u8;
        }
    }
}

fn rss_kib(pid: u32) -> u64 {
    // `VmRSS:     5944 kB`
    status_field(pid, "VmRSS:")
        .split_whitespace()
        .next()
        .and_then(|v| v.parse().ok())
        .expect("VmRSS")
}

fn probe(c: &Client, d: &Daemon) -> Option<Reply> {
    let deadline = Instant::now() + PROBE_PATIENCE;
    while Instant::now() < deadline {
        if let Some(r) = c.ask(d.addr(), Duration::from_millis(200)) {
            return Some(r);
        }
    }
    None
}

#[test]
fn a_million_hostile_packets_change_nothing() {
    let mut d = Daemon::start(LOCAL_CLOCK_10);
    let legit = Client::bind("127.0.0.1");
    let before = probe(&legit, &d).expect("served before the flood");
    // Let the daemon settle (its first replies allocate what they need).
    for _ in 0..100 {
        legit.ask(d.addr(), Duration::from_millis(200));
    }
    let rss_before = rss_kib(d.pid());
    let sources: Vec<Client> = (1..=FLOOD_SOURCES)
        .map(|f| Client::bind(&format!("127.0.{f}.1")))
        .collect();
    let mut rng = Rng(0x5eed);
    let mut buf = Vec::with_capacity(4096);
    let started = Instant::now();
    let mut probes = 0;
    for i in 0..FLOOD_PACKETS {
        hostile(&mut rng, &mut buf);
        sources[i % sources.len()].send(&buf, d.addr());
        if i % PROBE_EVERY == PROBE_EVERY - 1 {
            let r = probe(&legit, &d);
            assert!(
                r.is_some(),
                "no reply after {i} hostile packets\n{}",
                d.log()
            );
            probes += 1;
        }
        assert!(
            started.elapsed() < FLOOD_TIME_LIMIT,
            "the flood took too long: {i} packets"
        );
    }
    let elapsed = started.elapsed();
    assert!(d.is_running(), "{}", d.log());
    let after = probe(&legit, &d).expect("served after the flood");
    assert_eq!(
        (after.leap, after.stratum, after.refid),
        (before.leap, before.stratum, before.refid),
        "the time state changed"
    );
    let rss_after = rss_kib(d.pid());
    let growth = rss_after as f64 / rss_before as f64 - 1.0;
    eprintln!(
        "flood: {FLOOD_PACKETS} packets in {:.1} s ({:.0}/s), {probes} probes answered, RSS {rss_before} -> {rss_after} KiB ({:+.1}%)",
        elapsed.as_secs_f64(),
        FLOOD_PACKETS as f64 / elapsed.as_secs_f64(),
        growth * 100.0
    );
    assert!(
        growth <= RSS_GROWTH_LIMIT,
        "RSS grew {rss_before} -> {rss_after} KiB"
    );
    let status = d.stop_with(libc::SIGTERM);
    assert_eq!(status.code(), Some(0), "{}", d.log());
}
