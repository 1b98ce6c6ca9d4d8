//! No allocation per packet on the server's hot path: receiving a batch,
//! answering each request (restrict lookup, MRU update, reply encoding),
//! stamping and sending the replies. A counting global allocator watches
//! the steady state after the first (setup) round.

use std::alloc::{GlobalAlloc, Layout, System};
use std::net::UdpSocket;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use ntpbox::applets::ntpd::server::respond::{stamp_transmit, MAX_REPLY_LEN};
use ntpbox::applets::ntpd::server::{AccessTable, Mru, Outcome, Responder, SystemState};
use ntpbox::config::parse_str;
use ntpbox::net::batch::{RecvBatch, SendBatch, ServerSocket};
use ntpbox::proto::{NtpTimestamp, UnixTime};

struct Counting;

static ALLOCATIONS: AtomicUsize = AtomicUsize::new(0);

// SAFETY: forwards to the system allocator, only counting calls.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        ALLOCATIONS.fetch_add(1, Ordering::SeqCst);
        System.alloc(layout)
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        System.dealloc(ptr, layout)
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        ALLOCATIONS.fetch_add(1, Ordering::SeqCst);
        System.realloc(ptr, layout, new_size)
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

const BATCH: usize = 32;
const ROUNDS: usize = 20;

#[test]
fn serving_a_batch_allocates_nothing() {
    let loaded = parse_str(
        "restrict default kod limited nomodify\nrestrict 127.0.0.1\nrestrict 10.0.0.0 mask 255.0.0.0 noserve\n",
        std::path::Path::new("t.conf"),
    );
    let (access, _) = AccessTable::build(&loaded.config.restrictions, |_| Err(String::new()));
    let mut responder = Responder::new(
        access,
        Some(Mru::with_capacity(1024)),
        loaded.config.discard,
    );
    let system = SystemState::unsynchronised(-20);
    let server = ServerSocket::bind("127.0.0.1:0".parse().unwrap()).unwrap();
    let client = UdpSocket::bind("127.0.0.1:0").unwrap();
    client
        .set_read_timeout(Some(Duration::from_secs(2)))
        .unwrap();
    let mut recv = RecvBatch::new(BATCH);
    let mut send = SendBatch::new(BATCH);
    let mut request = [0u8; 48];
    request[0] = 0x23;
    let mut reply = [0u8; 128];
    let mut counts = Vec::with_capacity(ROUNDS);
    for round in 0..ROUNDS {
        for _ in 0..BATCH {
            client.send_to(&request, server.local_addr()).unwrap();
        }
        let mut got = 0;
        let before = ALLOCATIONS.load(Ordering::SeqCst);
        while got < BATCH {
            let n = recv.recv(&server).unwrap();
            got += n;
            for k in 0..n {
                let d = recv.get(k).unwrap();
                let from = d.from.unwrap();
                let rx = NtpTimestamp::from_unix(d.kernel_rx.unwrap_or(UnixTime::EPOCH));
                let out = send.next_buffer().unwrap();
                assert!(out.len() >= MAX_REPLY_LEN);
                if let Outcome::Reply { len, .. } =
                    responder.respond(d.bytes, from, rx, round as f64, &system, out)
                {
                    send.commit(len, from);
                }
            }
            for (r, _) in send.committed_mut() {
                stamp_transmit(r, NtpTimestamp::from_bits(1));
            }
            send.flush(&server).unwrap();
        }
        counts.push(ALLOCATIONS.load(Ordering::SeqCst) - before);
        for _ in 0..BATCH {
            client.recv_from(&mut reply).unwrap();
        }
    }
    assert_eq!(responder.counters.replied, (ROUNDS * BATCH) as u64);
    // The MRU table allocates nothing per client either: it was sized once.
    assert!(
        counts.iter().all(|&c| c == 0),
        "allocations per round: {counts:?}"
    );
}
