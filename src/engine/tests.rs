//! The engine as the daemon sees it: events in, actions out.

use std::net::{IpAddr, SocketAddr};

use super::*;
use crate::config::parse_str;
use crate::proto::status::select;
use crate::proto::{Header, Mode, NtpShort, NtpTimestamp, Packet, RefId};

const SERVER: &str = "192.0.2.1:123";
const CLIENT: &str = "192.0.2.100:123";

fn t0() -> UnixTime {
    UnixTime::new(1_767_225_600, 0)
}

fn start() -> Start {
    Start {
        precision: -20,
        panic_gate: false,
        slew_only: false,
        once: false,
        drift_ppm: None,
        seed: 7,
    }
}

fn engine(conf: &str) -> Engine {
    engine_with(conf, start())
}

fn engine_with(conf: &str, start: Start) -> Engine {
    let l = parse_str(conf, std::path::Path::new("t.conf"));
    Engine::new(&l.config, start)
}

fn at(secs: f64) -> UnixTime {
    t0().add_secs_f64(secs)
}

fn addr(s: &str) -> SocketAddr {
    s.parse().unwrap()
}

/// The packets sent.
fn sent(actions: &[Action]) -> Vec<(SocketAddr, Header)> {
    actions
        .iter()
        .filter_map(|a| match a {
            Action::Send { to, bytes } => Some((*to, Header::decode(bytes).unwrap())),
            _ => None,
        })
        .collect()
}

fn timer(actions: &[Action]) -> Option<UnixTime> {
    actions.iter().rev().find_map(|a| match a {
        Action::ArmTimer(t) => Some(*t),
        _ => None,
    })
}

fn logs(actions: &[Action]) -> Vec<String> {
    actions
        .iter()
        .filter_map(|a| match a {
            Action::Log { text, .. } => Some(text.clone()),
            _ => None,
        })
        .collect()
}

/// Runs timers until the engine sends something (at most `limit` s).
fn until_sent(e: &mut Engine, mut now: UnixTime, limit: f64) -> (UnixTime, Vec<Action>) {
    let end = now.add_secs_f64(limit);
    let mut actions = e.handle(Event::TimerFired, now);
    while sent(&actions).is_empty() {
        let next = timer(&actions).expect("a timer is armed");
        assert!(next <= end, "nothing sent by {end}");
        now = next;
        actions = e.handle(Event::TimerFired, now);
    }
    (now, actions)
}

/// A server's reply to `request`, its clock `error` seconds off, the
/// request taking `delay` each way.
fn reply(request: &Header, sent_at: UnixTime, delay: f64, error: f64) -> (UnixTime, Vec<u8>) {
    let t2 = NtpTimestamp::from_unix(sent_at.add_secs_f64(delay + error));
    let h = Header {
        mode: Mode::Server,
        stratum: 1,
        precision: -20,
        poll: request.poll,
        root_dispersion: NtpShort::from_secs_f64(1e-4),
        reference_id: RefId(*b"GPS\0"),
        reference_ts: t2.add_secs_f64(-5.0),
        origin_ts: request.transmit_ts,
        receive_ts: t2,
        transmit_ts: t2.add_secs_f64(1e-5),
        ..Header::default()
    };
    (
        sent_at.add_secs_f64(2.0 * delay + 1e-5),
        Packet::new(h).to_vec(),
    )
}

fn deliver(e: &mut Engine, bytes: &[u8], rx: UnixTime) -> Vec<Action> {
    e.handle(
        Event::Received {
            from: addr(SERVER),
            to: addr(CLIENT),
            rx,
            bytes,
        },
        rx,
    )
}

fn only_peer(e: &Engine) -> PeerVars {
    let p = e.peers();
    assert_eq!(p.len(), 1, "{p:?}");
    p.into_iter().next().unwrap()
}

#[test]
fn a_client_request_carries_only_a_random_cookie() {
    let mut e = engine("server 192.0.2.1 iburst\n");
    let (_, actions) = until_sent(&mut e, t0(), 2.0);
    let packets = sent(&actions);
    assert_eq!(packets.len(), 1);
    let (to, h) = packets[0];
    assert_eq!(to, addr(SERVER));
    assert_eq!((h.mode, h.version, h.stratum), (Mode::Client, 4, 0));
    assert!(h.origin_ts.is_zero() && h.receive_ts.is_zero() && h.reference_ts.is_zero());
    // the transmit field is not our clock: it is nowhere near t0()
    let seen_as = h.transmit_ts.to_unix(t0()).secs_since(t0());
    assert!(seen_as.abs() > 10.0 || h.transmit_ts.fraction() != 0);
    // and it differs from one request to the next
    let mut other = engine_with("server 192.0.2.1 iburst\n", Start { seed: 8, ..start() });
    let (_, a2) = until_sent(&mut other, t0(), 2.0);
    assert_ne!(sent(&a2)[0].1.transmit_ts, h.transmit_ts);
}

#[test]
fn iburst_sends_eight_two_seconds_apart() {
    let mut e = engine("server 192.0.2.1 iburst\n");
    let (mut now, mut actions) = until_sent(&mut e, t0(), 2.0);
    let mut times = vec![now];
    for _ in 0..7 {
        now = timer(&actions).unwrap();
        actions = e.handle(Event::TimerFired, now);
        assert_eq!(sent(&actions).len(), 1);
        times.push(now);
    }
    for w in times.windows(2) {
        assert!((w[1].secs_since(w[0]) - 2.0).abs() < 1e-6);
    }
    // then the poll interval, 64 s and a little more
    let next = timer(&actions).unwrap().secs_since(now);
    assert!((64.0..68.0).contains(&next), "{next}");
}

#[test]
fn without_iburst_the_first_poll_comes_within_16_s() {
    for seed in 1..20 {
        let mut e = engine_with("server 192.0.2.1\n", Start { seed, ..start() });
        let (now, _) = until_sent(&mut e, t0(), 16.0);
        assert!(now.secs_since(t0()) < 16.0);
    }
}

#[test]
fn a_genuine_reply_is_used_once() {
    let mut e = engine("server 192.0.2.1 iburst\n");
    let (now, actions) = until_sent(&mut e, t0(), 2.0);
    let request = sent(&actions)[0].1;
    let (rx, bytes) = reply(&request, now, 0.01, 0.002);
    deliver(&mut e, &bytes, rx);
    let p = only_peer(&e);
    assert_eq!(p.reach, 1);
    assert_eq!((p.stratum, p.refid), (1, RefId(*b"GPS\0")));
    assert!((p.offset - 0.002).abs() < 1e-6, "{}", p.offset);
    assert!((p.delay - 0.02).abs() < 1e-6, "{}", p.delay);
    // the same packet again: a duplicate, nothing changes
    deliver(&mut e, &bytes, rx.add_secs_f64(0.001));
    let again = only_peer(&e);
    assert_eq!(again.flash, assoc::flash::DUPLICATE);
    assert_eq!(again.filter_offset, p.filter_offset);
}

#[test]
fn forged_and_replayed_replies_change_nothing() {
    let mut e = engine("server 192.0.2.1 iburst\n");
    let (now, actions) = until_sent(&mut e, t0(), 2.0);
    let request = sent(&actions)[0].1;
    // an off-path forgery guesses the origin wrong
    let mut forged_request = request;
    forged_request.transmit_ts = NtpTimestamp::from_bits(request.transmit_ts.bits() ^ 1);
    let (rx, forged) = reply(&forged_request, now, 0.01, 5.0);
    deliver(&mut e, &forged, rx);
    let p = only_peer(&e);
    assert_eq!((p.reach, p.stratum, p.flash), (0, 16, assoc::flash::BOGUS));
    // a kiss with the wrong origin is no kiss either
    let mut kiss = Header::decode(&forged).unwrap();
    kiss.stratum = 0;
    kiss.reference_id = RefId(*b"DENY");
    deliver(&mut e, &Packet::new(kiss).to_vec(), rx);
    assert_eq!(only_peer(&e).refid, RefId(*b"INIT"));
    // the genuine reply still works
    let (rx, genuine) = reply(&request, now, 0.01, 0.0);
    deliver(&mut e, &genuine, rx);
    assert_eq!(only_peer(&e).reach, 1);
    // replayed later, with a new transmit time, it has no request to match
    let mut replay = Header::decode(&genuine).unwrap();
    replay.transmit_ts = replay.transmit_ts.add_secs_f64(1.0);
    replay.receive_ts = replay.receive_ts.add_secs_f64(1.0);
    let before = only_peer(&e);
    deliver(&mut e, &Packet::new(replay).to_vec(), rx.add_secs_f64(1.0));
    let after = only_peer(&e);
    assert_eq!(after.flash, assoc::flash::BOGUS);
    assert_eq!(after.filter_offset, before.filter_offset);
}

#[test]
fn unsynchronised_servers_are_reachable_but_not_used() {
    let mut e = engine("server 192.0.2.1 iburst\n");
    let (now, actions) = until_sent(&mut e, t0(), 2.0);
    let request = sent(&actions)[0].1;
    let (rx, bytes) = reply(&request, now, 0.01, 0.0);
    let mut h = Header::decode(&bytes).unwrap();
    h.leap = Leap::Unsynchronized;
    h.stratum = 16;
    deliver(&mut e, &Packet::new(h).to_vec(), rx);
    let p = only_peer(&e);
    assert_eq!(p.reach, 1);
    assert_eq!(p.flash, assoc::flash::UNSYNC_PEER);
    assert_eq!(p.filter_delay, [0.0; 8]);
}

fn kiss(code: &[u8; 4]) -> (Engine, Vec<Action>, UnixTime) {
    let mut e = engine("server 192.0.2.1 iburst\n");
    let (now, actions) = until_sent(&mut e, t0(), 2.0);
    let request = sent(&actions)[0].1;
    let (rx, bytes) = reply(&request, now, 0.01, 0.0);
    let mut h = Header::decode(&bytes).unwrap();
    h.stratum = 0;
    h.leap = Leap::Unsynchronized;
    h.reference_id = RefId(*code);
    let out = deliver(&mut e, &Packet::new(h).to_vec(), rx);
    (e, out, rx)
}

#[test]
fn a_rate_kiss_slows_the_polls() {
    let (e, out, rx) = kiss(b"RATE");
    let p = only_peer(&e);
    assert!(p.hpoll > 6, "{}", p.hpoll);
    assert_eq!(p.status.last_event(), "rate_exceeded");
    assert!(logs(&out).iter().any(|l| l.contains("RATE")));
    // the burst is over: the next poll is a poll interval away
    let next = timer(&out).unwrap().secs_since(rx);
    assert!(next >= 127.0, "{next}");
}

#[test]
fn deny_and_rstr_stop_the_polls() {
    for code in [b"DENY", b"RSTR"] {
        let (mut e, out, _) = kiss(code);
        let p = only_peer(&e);
        assert_eq!(p.refid, RefId(*code));
        assert_eq!(p.status.last_event(), "access_denied");
        let mut armed = timer(&out);
        for _ in 0..50 {
            let Some(t) = armed else { break };
            let out = e.handle(Event::TimerFired, t);
            assert!(sent(&out).is_empty());
            armed = timer(&out);
        }
    }
}

#[test]
fn an_unreachable_server_backs_off() {
    let mut e = engine("server 192.0.2.1\n");
    let mut now = t0();
    let mut out = e.handle(Event::TimerFired, now);
    let mut polls = Vec::new();
    for _ in 0..40 {
        now = timer(&out).unwrap();
        out = e.handle(Event::TimerFired, now);
        if !sent(&out).is_empty() {
            polls.push(now);
        }
    }
    let gaps: Vec<f64> = polls.windows(2).map(|w| w[1].secs_since(w[0])).collect();
    assert!(gaps[0] < 70.0, "{gaps:?}");
    assert!(*gaps.last().unwrap() > 1000.0, "{gaps:?}");
    assert_eq!(only_peer(&e).hpoll, 10);
}

#[test]
fn the_local_clock_serves_at_its_fudged_stratum() {
    let mut e = engine("server 127.127.1.0\nfudge 127.127.1.0 stratum 10\n");
    assert_eq!(e.system().stratum, 16);
    let out = e.handle(Event::TimerFired, t0());
    assert!(logs(&out).contains(&"synchronized to LOCAL(0), stratum 10".to_string()));
    assert_eq!(timer(&out), Some(at(64.0)));
    let s = e.system();
    assert_eq!(
        (s.leap, s.stratum, s.refid),
        (Leap::NoWarning, 10, RefId(*b"LOCL"))
    );
    assert_eq!(s.reference_time, NtpTimestamp::from_unix(t0()));
    assert!((s.root_dispersion - 0.01).abs() < 1e-4);
    let p = only_peer(&e);
    assert_eq!((p.kind, p.status.tally()), (PeerKind::Local, '*'));
}

#[test]
fn local_clock_defaults_and_fudged_refid() {
    let mut e = engine("server 127.127.1.0 minpoll 4\n");
    e.handle(Event::TimerFired, t0());
    assert_eq!(e.system().stratum, 5);
    let mut e = engine("server 127.127.1.0\nfudge 127.127.1.0 stratum 0 refid GPS\n");
    e.handle(Event::TimerFired, t0());
    let s = e.system();
    assert_eq!((s.stratum, s.refid), (1, RefId(*b"GPS\0")));
    let mut e = engine("server 127.127.1.0 noselect\n");
    e.handle(Event::TimerFired, t0());
    assert_eq!(e.system().leap, Leap::Unsynchronized);
}

#[test]
fn a_real_server_beats_the_local_clock() {
    let mut e =
        engine("server 192.0.2.1 iburst\nserver 127.127.1.0\nfudge 127.127.1.0 stratum 10\n");
    let mut now = t0();
    let mut out = e.handle(Event::TimerFired, now);
    assert_eq!(e.system().stratum, 10);
    for _ in 0..30 {
        now = timer(&out).unwrap();
        out = e.handle(Event::TimerFired, now);
        for (_, request) in sent(&out) {
            let (rx, bytes) = reply(&request, now, 0.001, 0.0);
            deliver(&mut e, &bytes, rx);
        }
    }
    let s = e.system();
    assert_eq!((s.stratum, s.refid), (2, RefId([192, 0, 2, 1])));
    let peers = e.peers();
    let local = peers.iter().find(|p| p.kind == PeerKind::Local).unwrap();
    assert_eq!(local.status.select, select::REJECT);
}

#[test]
fn orphan_mode_waits_then_serves() {
    let mut e = engine("tos orphan 12 orphanwait 30\n");
    let out = e.handle(Event::TimerFired, t0());
    assert_eq!(timer(&out), Some(at(30.0)));
    assert_eq!(e.system().leap, Leap::Unsynchronized);
    e.handle(Event::TimerFired, at(30.0));
    let s = e.system();
    assert_eq!((s.stratum, s.refid), (12, RefId([127, 0, 0, 1])));
}

#[test]
fn with_nothing_reachable_it_stays_unsynchronised() {
    let mut e = engine("server 192.0.2.1 iburst\n");
    e.handle(Event::TimerFired, t0());
    let s = e.system();
    assert_eq!(
        (s.leap, s.stratum, s.refid, s.reference_time),
        (
            Leap::Unsynchronized,
            16,
            RefId(*b"INIT"),
            NtpTimestamp::ZERO
        )
    );
    assert_eq!(s.status.word() >> 14, 3);
}

/// Feeds replies from a server `error` seconds off until the engine
/// stops or `secs` pass; returns every action.
fn sync(e: &mut Engine, error: f64, secs: f64) -> Vec<Action> {
    let mut now = t0();
    let mut all = Vec::new();
    let mut out = e.handle(Event::TimerFired, now);
    loop {
        all.extend(out.iter().cloned());
        if out.iter().any(|a| matches!(a, Action::Exit(_))) {
            return all;
        }
        let Some(next) = timer(&out) else {
            return all;
        };
        if next.secs_since(t0()) > secs {
            return all;
        }
        now = next;
        out = e.handle(Event::TimerFired, now);
        for (_, request) in sent(&out) {
            // the engine's own corrections are not simulated here: the
            // server stays `error` ahead of the readings
            let (rx, bytes) = reply(&request, now, 0.001, error);
            let more = deliver(e, &bytes, rx);
            all.append(&mut out);
            out = more;
        }
    }
}

#[test]
fn once_slews_a_small_offset_then_exits() {
    let mut e = engine_with(
        "server 192.0.2.1 iburst\n",
        Start {
            once: true,
            ..start()
        },
    );
    let all = sync(&mut e, 0.05, 100.0);
    let text = logs(&all);
    assert!(
        text.contains(&"ntpd: time slew +0.050000 s".to_string()),
        "{text:?}"
    );
    assert_eq!(all.last(), Some(&Action::Exit(0)));
    assert!(!all.iter().any(|a| matches!(a, Action::Step(_))));
}

#[test]
fn once_steps_a_large_offset_then_exits() {
    let mut e = engine_with(
        "server 192.0.2.1 iburst\n",
        Start {
            once: true,
            ..start()
        },
    );
    let all = sync(&mut e, 3.0, 100.0);
    assert!(logs(&all).contains(&"ntpd: time set +3.000000 s".to_string()));
    assert!(
        all.contains(&Action::Step(3.000000000000000))
            || all
                .iter()
                .any(|a| matches!(a, Action::Step(s) if (s - 3.0).abs() < 1e-6))
    );
    assert_eq!(all.last(), Some(&Action::Exit(0)));
}

#[test]
fn statistics_only_when_configured() {
    let mut e = engine("server 192.0.2.1 iburst\n");
    let all = sync(&mut e, 0.0, 30.0);
    assert!(!all.iter().any(|a| matches!(a, Action::Stats { .. })));
    let mut e = engine("server 192.0.2.1 iburst\nstatistics loopstats peerstats\n");
    let all = sync(&mut e, 0.0, 30.0);
    let lines: Vec<(StatsFile, &String)> = all
        .iter()
        .filter_map(|a| match a {
            Action::Stats { file, line } => Some((*file, line)),
            _ => None,
        })
        .collect();
    let peer = lines.iter().find(|l| l.0 == StatsFile::Peerstats).unwrap();
    let fields: Vec<&str> = peer.1.split(' ').collect();
    assert_eq!(fields.len(), 8);
    assert_eq!(fields[0], "61041");
    assert_eq!(fields[2], "192.0.2.1");
    let lp = lines.iter().find(|l| l.0 == StatsFile::Loopstats).unwrap();
    assert_eq!(lp.1.split(' ').count(), 7);
}

#[test]
fn the_drift_is_saved_hourly_and_on_demand() {
    let mut e = engine_with(
        "server 192.0.2.1 iburst\ndriftfile /var/lib/ntp/drift\n",
        Start {
            drift_ppm: Some(12.5),
            ..start()
        },
    );
    assert!(e.save_drift_now(t0()).is_empty());
    let all = sync(&mut e, 0.0, 3700.0);
    let saves: Vec<f64> = all
        .iter()
        .filter_map(|a| match a {
            Action::SaveDrift(ppm) => Some(*ppm),
            _ => None,
        })
        .collect();
    assert_eq!(saves.len(), 1, "{saves:?}");
    assert!((saves[0] - 12.5).abs() < 1.0, "{saves:?}");
    assert!(matches!(
        e.save_drift_now(at(3700.0))[..],
        [Action::SaveDrift(_)]
    ));
    // the first thing the engine did was to set the drift file's frequency
    assert_eq!(
        all.iter().find(|a| matches!(a, Action::SetRate(_))),
        Some(&Action::SetRate(12.5))
    );
    // without a driftfile line, never
    let mut e = engine("server 192.0.2.1 iburst\n");
    let all = sync(&mut e, 0.0, 3700.0);
    assert!(!all.iter().any(|a| matches!(a, Action::SaveDrift(_))));
    assert!(e.save_drift_now(at(3700.0)).is_empty());
}

#[test]
fn disable_ntp_measures_without_touching_the_clock() {
    let mut e = engine("server 192.0.2.1 iburst\ndisable ntp\n");
    let all = sync(&mut e, 0.5, 100.0);
    assert!(!all.iter().any(|a| matches!(
        a,
        Action::Step(_) | Action::SetRate(_) | Action::KernelSync(_) | Action::KernelPllOffset(_)
    )));
    let s = e.system();
    assert_eq!(s.stratum, 2);
    assert!((s.offset - 0.5).abs() < 1e-3, "{}", s.offset);
}

#[test]
fn kernel_mode_hands_offsets_to_the_kernel_pll() {
    let mut e = engine("server 192.0.2.1 iburst\nenable kernel\n");
    let all = sync(&mut e, 0.01, 100.0);
    assert!(all
        .iter()
        .any(|a| matches!(a, Action::KernelPllOffset(o) if (o - 0.01).abs() < 1e-3)));
    assert!(all
        .iter()
        .any(|a| matches!(a, Action::KernelSync(k) if k.pll && k.synchronised)));
}

#[test]
fn a_synchronised_clock_tells_the_kernel() {
    let mut e = engine("server 192.0.2.1 iburst\n");
    let all = sync(&mut e, 0.0, 100.0);
    let first = all.iter().find_map(|a| match a {
        Action::KernelSync(k) => Some(*k),
        _ => None,
    });
    assert!(!first.unwrap().synchronised);
    let last = all.iter().rev().find_map(|a| match a {
        Action::KernelSync(k) => Some(*k),
        _ => None,
    });
    let k = last.unwrap();
    assert!(k.synchronised && !k.pll);
    assert!(k.maxerror > 0.0 && k.maxerror < 1.0);
    assert!(logs(&all).contains(&"synchronized to 192.0.2.1, stratum 2".to_string()));
}

/// Two engines in symmetric mode, one with a local clock to give.
#[test]
fn symmetric_peers_synchronise() {
    let a_addr = addr("192.0.2.10:123");
    let b_addr = addr("192.0.2.11:123");
    let mut a = engine(
        "peer 192.0.2.11 iburst minpoll 4\nserver 127.127.1.0\nfudge 127.127.1.0 stratum 5\n",
    );
    let mut b = engine_with(
        "peer 192.0.2.10 iburst minpoll 4\n",
        Start { seed: 9, ..start() },
    );
    let mut ta = a.handle(Event::TimerFired, t0());
    let mut tb = b.handle(Event::TimerFired, t0());
    let mut now;
    for _ in 0..400 {
        let next_a = timer(&ta).unwrap();
        let next_b = timer(&tb).unwrap();
        let (from_a, out) = if next_a <= next_b {
            now = next_a;
            (true, a.handle(Event::TimerFired, now))
        } else {
            now = next_b;
            (false, b.handle(Event::TimerFired, now))
        };
        let packets: Vec<(SocketAddr, Vec<u8>)> = out
            .iter()
            .filter_map(|x| match x {
                Action::Send { to, bytes } => Some((*to, bytes.clone())),
                _ => None,
            })
            .collect();
        if from_a {
            ta = out;
        } else {
            tb = out;
        }
        for (to, bytes) in packets {
            let rx = now.add_secs_f64(0.0005);
            let (target, from, t) = if to == b_addr {
                (&mut b, a_addr, &mut tb)
            } else {
                (&mut a, b_addr, &mut ta)
            };
            let more = target.handle(
                Event::Received {
                    from,
                    to,
                    rx,
                    bytes: &bytes,
                },
                rx,
            );
            if let Some(arm) = timer(&more) {
                if timer(t).is_none_or(|old| arm < old) {
                    t.push(Action::ArmTimer(arm));
                }
            }
        }
        if now.secs_since(t0()) > 600.0 {
            break;
        }
    }
    let pb = b.peers();
    assert_eq!(pb[0].kind, PeerKind::Symmetric);
    assert!(pb[0].reach != 0);
    assert_eq!(b.system().stratum, 6, "{:?}", b.system());
    assert_eq!(pb[0].status.tally(), '*');
    assert_eq!(a.peers()[0].hmode, 1);
}

#[test]
fn an_unknown_symmetric_peer_gets_a_passive_association() {
    let mut e = engine("server 127.127.1.0\n");
    e.handle(Event::TimerFired, t0());
    let h = Header {
        mode: Mode::SymmetricActive,
        stratum: 3,
        poll: 6,
        transmit_ts: NtpTimestamp::from_unix(t0()),
        ..Header::default()
    };
    let out = deliver(&mut e, &Packet::new(h).to_vec(), at(0.5));
    let peers = e.peers();
    let passive = peers.iter().find(|p| p.srcadr == addr(SERVER)).unwrap();
    assert_eq!((passive.hmode, passive.kind), (2, PeerKind::Symmetric));
    assert!(!passive.status.is_listed() || passive.status.bits & 0x10 == 0);
    // it answers soon, echoing the peer's transmit time
    let mut out = out;
    let mut answer = sent(&out);
    while answer.is_empty() {
        let t = timer(&out).unwrap();
        out = e.handle(Event::TimerFired, t);
        answer = sent(&out);
    }
    assert_eq!(answer[0].1.mode, Mode::SymmetricPassive);
    assert_eq!(answer[0].1.origin_ts, h.transmit_ts);
}

#[test]
fn a_broadcast_client_listens_and_calibrates() {
    // (`broadcastclient` in ntp.conf is to set this flag)
    let mut config = parse_str("", std::path::Path::new("t.conf")).config;
    config.broadcast_client = true;
    let mut e = Engine::new(&config, start());
    e.handle(Event::TimerFired, t0());
    let h = Header {
        mode: Mode::Broadcast,
        stratum: 2,
        poll: 6,
        precision: -20,
        reference_id: RefId([192, 0, 2, 50]),
        reference_ts: NtpTimestamp::from_unix(t0()),
        transmit_ts: NtpTimestamp::from_unix(at(0.1)),
        ..Header::default()
    };
    let mut out = deliver(&mut e, &Packet::new(h).to_vec(), at(0.102));
    let p = only_peer(&e);
    assert_eq!((p.kind, p.reach), (PeerKind::Broadcast, 1));
    let mut volley = sent(&out);
    while volley.is_empty() {
        let t = timer(&out).unwrap();
        out = e.handle(Event::TimerFired, t);
        volley = sent(&out);
    }
    assert_eq!(volley[0].1.mode, Mode::Client);
    // an older broadcast is a replay
    let mut old = h;
    old.transmit_ts = NtpTimestamp::from_unix(at(0.05));
    deliver(&mut e, &Packet::new(old).to_vec(), at(0.2));
    assert_eq!(only_peer(&e).flash, assoc::flash::BOGUS);
}

#[test]
fn unreachable_pool_members_are_replaced() {
    let mut e = engine("pool pool.example.org iburst\n");
    let out = e.handle(Event::TimerFired, t0());
    assert!(out.contains(&Action::Resolve {
        name: "pool.example.org".into()
    }));
    let first: Vec<IpAddr> = vec!["192.0.2.1".parse().unwrap()];
    let mut out = e.handle(
        Event::Resolved {
            name: "pool.example.org",
            addrs: &first,
        },
        t0(),
    );
    let mut now = t0();
    let mut resolved_again = false;
    for _ in 0..200 {
        let Some(t) = timer(&out) else { break };
        now = t;
        out = e.handle(Event::TimerFired, now);
        if out.iter().any(|a| matches!(a, Action::Resolve { .. })) {
            resolved_again = true;
            break;
        }
    }
    assert!(resolved_again, "no re-resolve by {now}");
    assert!(!e.peers().iter().any(|p| p.srcadr == addr(SERVER)));
    let second: Vec<IpAddr> = vec!["192.0.2.2".parse().unwrap()];
    e.handle(
        Event::Resolved {
            name: "pool.example.org",
            addrs: &second,
        },
        now,
    );
    assert!(e.peers().iter().any(|p| p.srcadr == addr("192.0.2.2:123")));
}

#[test]
fn a_panic_is_final_unless_g() {
    let mut e = engine("server 192.0.2.1 iburst\n");
    let all = sync(&mut e, -1500.0, 100.0);
    assert_eq!(all.last(), Some(&Action::Exit(1)));
    assert!(logs(&all)
        .iter()
        .any(|l| l.starts_with("time correction of 1500 seconds exceeds sanity limit (1000)")));
    // after exiting, the engine does nothing more
    assert!(e.handle(Event::TimerFired, at(200.0)).is_empty());
}

#[test]
fn huff_n_puff_takes_the_queueing_off_the_classic_offset() {
    let mut e = engine("server 192.0.2.1 iburst\ntinker huffpuff 7200\n");
    e.handle(Event::TimerFired, t0());
    e.assocs[0].filter.delay = 0.010;
    assert_eq!(e.huff_n_puff(0, 0.004), 0.004);
    e.assocs[0].filter.delay = 0.030;
    assert!((e.huff_n_puff(0, 0.012) - 0.002).abs() < 1e-12);
    assert!((e.huff_n_puff(0, -0.012) + 0.002).abs() < 1e-12);
    let mut plain = engine("server 192.0.2.1 iburst\n");
    plain.handle(Event::TimerFired, t0());
    assert_eq!(plain.huff_n_puff(0, 0.012), 0.012);
}

#[test]
fn tinker_freq_sets_the_first_frequency() {
    let mut e = engine("server 192.0.2.1\ntinker freq 21.5\n");
    let out = e.handle(Event::TimerFired, t0());
    assert!(out.contains(&Action::SetRate(21.5)));
    assert!((e.system().frequency - 21.5).abs() < 1e-9);
}

#[test]
fn packets_cannot_mobilise_without_bound() {
    let mut e = engine("server 127.127.1.0\n");
    e.handle(Event::TimerFired, t0());
    for k in 0..500u32 {
        let h = Header {
            mode: Mode::SymmetricActive,
            stratum: 3,
            poll: 6,
            transmit_ts: NtpTimestamp::from_unix(at(f64::from(k))),
            ..Header::default()
        };
        let from = SocketAddr::new(IpAddr::from([198, 51, (k >> 8) as u8, k as u8]), 123);
        e.handle(
            Event::Received {
                from,
                to: addr(CLIENT),
                rx: at(f64::from(k)),
                bytes: &Packet::new(h).to_vec(),
            },
            at(f64::from(k)),
        );
    }
    assert_eq!(e.peers().len(), 1 + receive::MAX_EPHEMERAL);
}

#[test]
fn a_duplicate_line_is_one_association() {
    let mut e = engine("server 192.0.2.1\nserver 192.0.2.1 iburst\n");
    let out = e.handle(Event::TimerFired, t0());
    assert_eq!(e.peers().len(), 1);
    assert!(logs(&out)
        .iter()
        .any(|l| l.contains("duplicate association 192.0.2.1:123")));
}

/// `server ... key 7` with key 7 (SHA1) trusted: the engine and a keyring
/// holding the same secret, to sign the server's replies with.
fn keyed_engine() -> (Engine, crate::auth::Keyring) {
    let mut l = parse_str(
        "server 192.0.2.1 iburst key 7\n",
        std::path::Path::new("t.conf"),
    );
    let key = crate::config::Key {
        id: 7,
        algorithm: crate::auth::Algorithm::Sha1,
        secret: b"shared secret".to_vec(),
        access: Vec::new(),
        line: 1,
    };
    l.config.keyring.push(key);
    l.config.trusted_keys.push(7);
    let ring = crate::auth::Keyring::from_config(&l.config.keyring, &[7]).unwrap();
    (Engine::new(&l.config, start()), ring)
}

#[test]
fn a_keyed_association_shows_authentication_in_its_status_word() {
    use crate::proto::status::peer_bits::{AUTHENTIC, AUTH_ENABLED};
    let (mut e, ring) = keyed_engine();
    let (now, actions) = until_sent(&mut e, t0(), 2.0);
    assert_eq!(
        only_peer(&e).status.bits & (AUTH_ENABLED | AUTHENTIC),
        AUTH_ENABLED
    );
    // A signed reply: used, and the association is authentic.
    let request = sent(&actions)[0].1;
    let (rx, mut bytes) = reply(&request, now, 0.01, 0.002);
    let header = bytes.clone();
    ring.sign(7, &header, &mut bytes).unwrap();
    deliver(&mut e, &bytes, rx);
    let p = only_peer(&e);
    assert_eq!(p.reach, 1);
    assert_eq!(
        p.status.bits & (AUTH_ENABLED | AUTHENTIC),
        AUTH_ENABLED | AUTHENTIC
    );
    // An unsigned one: refused with the AUTH flash, and no longer authentic.
    let (now, actions) = until_sent(&mut e, rx, 4.0);
    let request = sent(&actions)[0].1;
    let (rx, bytes) = reply(&request, now, 0.01, 0.002);
    deliver(&mut e, &bytes, rx);
    let p = only_peer(&e);
    assert_eq!(p.flash, assoc::flash::AUTH);
    assert_eq!(p.reach, 1);
    assert_eq!(p.status.bits & (AUTH_ENABLED | AUTHENTIC), AUTH_ENABLED);
}
