//! A deterministic simulation of the engine at work: the engine, a
//! simulated clock (`SimClock`), a simulated network and simulated
//! servers with perfect clocks (or a fixed error).
//!
//! Time is virtual. The harness moves true time from one event to the
//! next (a packet arriving, the engine's timer, a sampling instant),
//! delivers `TimerFired` when the simulated clock reaches the reading the
//! engine armed, and applies `Step`/`SetRate` to the simulated clock as the
//! daemon applies them to the kernel's. Each direction of the network
//! delays a packet by `base + scale * Exp(1)`, plus, for a fraction of the
//! packets, a uniform extra delay in one direction. One seed fixes the
//! whole run, so the accuracy tests are exact and fast (20000 simulated
//! seconds take a fraction of a second).

use std::collections::BinaryHeap;
use std::net::{IpAddr, SocketAddr};

use super::{Action, Engine, Event, Level, Start, StatsFile};
use crate::clock::sim::SimClockParams;
use crate::clock::{Clock, SimClock, SimRng};
use crate::config::parse_str;
use crate::proto::{Header, Leap, Mode, NtpShort, NtpTimestamp, Packet, RefId, UnixTime};

/// The server's time between receiving a request and sending the reply.
const SERVER_TURNAROUND: f64 = 5e-6;
/// Offsets are recorded this often, true seconds.
const SAMPLE_EVERY: f64 = 1.0;
/// Far more loop turns than any scenario needs (a few per second).
const MAX_ITERATIONS: u64 = 50_000_000;
/// True time is whole nanoseconds: events this close are due.
const TIME_SLACK: f64 = 1e-8;
/// The address the simulated client sends from.
pub const CLIENT_ADDR: &str = "192.0.2.100:123";

/// A simulated NTP server.
#[derive(Clone, Debug)]
pub struct SimServer {
    pub addr: SocketAddr,
    /// Its clock minus true time, seconds.
    pub error: f64,
    pub stratum: u8,
    pub refid: RefId,
    pub leap: Leap,
    /// Answer every request with this kiss code instead of the time.
    pub kiss: Option<RefId>,
}

impl SimServer {
    /// A stratum-1 server with a perfect clock at `addr` ("192.0.2.1:123").
    pub fn perfect(addr: &str) -> SimServer {
        SimServer {
            addr: addr
                .parse()
                .unwrap_or_else(|_| SocketAddr::from(([192, 0, 2, 1], 123))),
            error: 0.0,
            stratum: 1,
            refid: RefId(*b"GPS\0"),
            leap: Leap::NoWarning,
            kiss: None,
        }
    }

    pub fn with_error(mut self, error: f64) -> SimServer {
        self.error = error;
        self
    }

    fn answer(&self, request: &Header, received: UnixTime, sent: UnixTime) -> Vec<u8> {
        let t2 = NtpTimestamp::from_unix(received.add_secs_f64(self.error));
        let t3 = NtpTimestamp::from_unix(sent.add_secs_f64(self.error));
        let mut h = Header {
            leap: self.leap,
            version: request.version,
            mode: Mode::Server,
            stratum: self.stratum,
            poll: request.poll,
            precision: -20,
            root_delay: NtpShort::default(),
            root_dispersion: NtpShort::from_secs_f64(1e-5),
            reference_id: self.refid,
            reference_ts: t2.add_secs_f64(-8.0),
            origin_ts: request.transmit_ts,
            receive_ts: t2,
            transmit_ts: t3,
        };
        if let Some(code) = self.kiss {
            h.leap = Leap::Unsynchronized;
            h.stratum = 0;
            h.reference_id = code;
        }
        Packet::new(h).to_vec()
    }
}

/// How the simulated network delays packets.
#[derive(Clone, Copy, Debug)]
pub struct Network {
    /// The minimum one-way delay, seconds.
    pub base: f64,
    /// The mean exponential queueing delay, each way, seconds.
    pub scale: f64,
    /// The fraction of exchanges that get an extra delay...
    pub spike_fraction: f64,
    /// ... uniform up to this many seconds, on the way back only.
    pub spike_max: f64,
}

impl Network {
    /// The standard network: 100 µs + 100 µs * Exp(1) each way.
    pub fn standard() -> Network {
        Network {
            base: 100e-6,
            scale: 100e-6,
            spike_fraction: 0.0,
            spike_max: 0.0,
        }
    }
}

/// One simulated run.
#[derive(Clone, Debug)]
pub struct Scenario {
    /// ntp.conf as text.
    pub config: String,
    pub start: Start,
    pub clock: SimClockParams,
    pub network: Network,
    pub servers: Vec<SimServer>,
    /// True-time windows (seconds from the start) when nothing gets through.
    pub outages: Vec<(f64, f64)>,
    /// True seconds to run.
    pub duration: f64,
    /// Answers to `Resolve`.
    pub names: Vec<(String, Vec<IpAddr>)>,
}

impl Scenario {
    /// The standard scenario: one server `iburst minpoll 6 maxpoll
    /// 6`, the client clock 100 ppm fast with a random walk of 1e-9/s and
    /// 0.1 s ahead, 20000 s.
    pub fn standard(seed: u64) -> Scenario {
        Scenario {
            config: "server 192.0.2.1 iburst minpoll 6 maxpoll 6\n".to_string(),
            start: Start {
                precision: -23,
                panic_gate: false,
                slew_only: false,
                once: false,
                drift_ppm: None,
                seed,
            },
            clock: SimClockParams {
                initial_offset: 0.1,
                frequency_error_ppm: 100.0,
                wander_per_second: 1e-9,
                seed: seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) ^ 0x5eed,
                ..SimClockParams::default()
            },
            network: Network::standard(),
            servers: vec![SimServer::perfect("192.0.2.1:123")],
            outages: Vec::new(),
            duration: 20_000.0,
            names: Vec::new(),
        }
    }
}

/// What a run did.
pub struct Run {
    /// (true seconds since the start, clock minus true time), every second.
    pub offsets: Vec<(f64, f64)>,
    /// (true seconds, level, text) of every log line.
    pub logs: Vec<(f64, Level, String)>,
    /// The engine asked to exit: (true seconds, status).
    pub exit: Option<(f64, i32)>,
    /// Every step applied, seconds.
    pub steps: Vec<f64>,
    /// The largest |rate| set, ppm.
    pub max_rate_ppm: f64,
    /// The largest rate set beyond the frequency correction, ppm: what
    /// removing offsets took.
    pub max_extra_ppm: f64,
    /// Residual frequency error at the end: oscillator plus the engine's
    /// frequency correction, ppm.
    pub freq_error_ppm: f64,
    pub stats: Vec<(StatsFile, String)>,
    pub drift_saves: Vec<f64>,
    /// Packets sent by the engine.
    pub sent: usize,
    pub engine: Engine,
}

impl Run {
    /// True seconds after which |offset| stayed below `threshold` to the
    /// end; None if it never settled.
    pub fn settled_after(&self, threshold: f64) -> Option<f64> {
        let last_bad = self
            .offsets
            .iter()
            .rev()
            .find(|(_, o)| o.abs() >= threshold)
            .map(|(t, _)| *t);
        match last_bad {
            None => self.offsets.first().map(|(t, _)| *t),
            Some(t) if t >= self.offsets.last().map_or(0.0, |l| l.0) => None,
            Some(t) => Some(t + SAMPLE_EVERY),
        }
    }

    fn window(&self, from: f64, to: f64) -> impl Iterator<Item = f64> + '_ {
        self.offsets
            .iter()
            .filter(move |(t, _)| *t >= from && *t <= to)
            .map(|(_, o)| *o)
    }

    pub fn rms(&self, from: f64, to: f64) -> f64 {
        let (n, sum) = self
            .window(from, to)
            .fold((0usize, 0.0), |(n, s), o| (n + 1, s + o * o));
        if n == 0 {
            f64::NAN
        } else {
            (sum / n as f64).sqrt()
        }
    }

    pub fn max_abs(&self, from: f64, to: f64) -> f64 {
        self.window(from, to).fold(0.0, |m: f64, o| m.max(o.abs()))
    }

    pub fn offset_at(&self, t: f64) -> Option<f64> {
        self.offsets.iter().find(|(s, _)| *s >= t).map(|(_, o)| *o)
    }

    pub fn logged(&self, needle: &str) -> Option<&str> {
        self.logs
            .iter()
            .map(|(_, _, text)| text.as_str())
            .find(|text| text.contains(needle))
    }
}

/// A packet on its way to the engine.
#[derive(PartialEq)]
struct Delivery {
    /// True seconds since the start.
    at: f64,
    seq: u64,
    from: SocketAddr,
    bytes: Vec<u8>,
}

impl Eq for Delivery {}

impl Ord for Delivery {
    fn cmp(&self, other: &Delivery) -> std::cmp::Ordering {
        // BinaryHeap is a max-heap: the earliest delivery must be greatest.
        other
            .at
            .total_cmp(&self.at)
            .then_with(|| other.seq.cmp(&self.seq))
    }
}

impl PartialOrd for Delivery {
    fn partial_cmp(&self, other: &Delivery) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

struct World<'a> {
    scenario: &'a Scenario,
    clock: SimClock,
    net_rng: SimRng,
    origin: UnixTime,
    queue: BinaryHeap<Delivery>,
    seq: u64,
    timer: Option<UnixTime>,
    run: Run,
}

impl World<'_> {
    fn elapsed(&self) -> f64 {
        self.clock.true_time().secs_since(self.origin)
    }

    fn in_outage(&self, at: f64) -> bool {
        self.scenario
            .outages
            .iter()
            .any(|&(a, b)| at >= a && at < b)
    }

    fn one_way(&mut self) -> f64 {
        let n = &self.scenario.network;
        n.base + n.scale * self.net_rng.exponential()
    }

    /// Applies the engine's actions; returns the names it asked to resolve.
    fn carry_out(&mut self, actions: Vec<Action>) -> Vec<String> {
        let mut names = Vec::new();
        for action in actions {
            match action {
                Action::Send { to, bytes } => {
                    self.run.sent += 1;
                    self.transmit(to, &bytes);
                }
                Action::ArmTimer(at) => {
                    if self.timer.is_none_or(|t| at < t) {
                        self.timer = Some(at);
                    }
                }
                Action::Step(dt) => {
                    let _ = self.clock.step(dt);
                    self.run.steps.push(dt);
                }
                Action::SetRate(ppm) => {
                    self.run.max_rate_ppm = self.run.max_rate_ppm.max(ppm.abs());
                    let extra = (ppm - self.run.engine.system().frequency).abs();
                    self.run.max_extra_ppm = self.run.max_extra_ppm.max(extra);
                    let _ = self.clock.set_rate(ppm);
                }
                Action::KernelPllOffset(dt) => {
                    let _ = self.clock.pll_offset(dt);
                }
                Action::KernelSync(_) => {}
                Action::SaveDrift(ppm) => self.run.drift_saves.push(ppm),
                Action::Stats { file, line } => self.run.stats.push((file, line)),
                Action::Log { level, text } => {
                    let t = self.elapsed();
                    self.run.logs.push((t, level, text));
                }
                Action::Resolve { name } => names.push(name),
                Action::Exit(status) => {
                    if self.run.exit.is_none() {
                        self.run.exit = Some((self.elapsed(), status));
                    }
                }
            }
        }
        names
    }

    /// A packet from the engine to a simulated server.
    fn transmit(&mut self, to: SocketAddr, bytes: &[u8]) {
        let now = self.elapsed();
        let Some(server) = self.scenario.servers.iter().find(|s| s.addr == to).cloned() else {
            return;
        };
        let out = self.one_way();
        let mut back = self.one_way();
        let n = self.scenario.network;
        if n.spike_fraction > 0.0 && self.net_rng.uniform() < n.spike_fraction {
            back += n.spike_max * self.net_rng.uniform();
        }
        if self.in_outage(now) || self.in_outage(now + out) {
            return;
        }
        let Ok(request) = Header::decode(bytes) else {
            return;
        };
        if request.mode != Mode::Client {
            return;
        }
        let received = self.origin.add_secs_f64(now + out);
        let sent = received.add_secs_f64(SERVER_TURNAROUND);
        let reply = server.answer(&request, received, sent);
        self.seq += 1;
        self.queue.push(Delivery {
            at: now + out + SERVER_TURNAROUND + back,
            seq: self.seq,
            from: server.addr,
            bytes: reply,
        });
    }
}

/// Runs a scenario to its end (or the engine's exit).
pub fn run(scenario: &Scenario) -> Run {
    let loaded = parse_str(&scenario.config, std::path::Path::new("sim.conf"));
    let engine = Engine::new(&loaded.config, scenario.start);
    let clock = SimClock::new(scenario.clock);
    let origin = clock.true_time();
    let mut world = World {
        scenario,
        clock,
        net_rng: SimRng::new(scenario.start.seed ^ 0x6e65_7477_6f72_6b21),
        origin,
        queue: BinaryHeap::new(),
        seq: 0,
        timer: None,
        run: Run {
            offsets: Vec::new(),
            logs: Vec::new(),
            exit: None,
            steps: Vec::new(),
            max_rate_ppm: 0.0,
            max_extra_ppm: 0.0,
            freq_error_ppm: 0.0,
            stats: Vec::new(),
            drift_saves: Vec::new(),
            sent: 0,
            engine,
        },
    };
    let client: SocketAddr = CLIENT_ADDR
        .parse()
        .unwrap_or_else(|_| SocketAddr::from(([0; 4], 123)));
    let mut next_sample = 0.0;
    let mut pending_names: Vec<String> = Vec::new();
    let now = world.clock_now();
    let actions = world.run.engine.handle(Event::TimerFired, now);
    pending_names.extend(world.carry_out(actions));
    let mut iterations = 0u64;
    while world.run.exit.is_none() {
        iterations += 1;
        if iterations > MAX_ITERATIONS {
            // A harness bug, not a result: say so rather than spin.
            panic!("the simulation made no progress at {} s", world.elapsed());
        }
        for name in std::mem::take(&mut pending_names) {
            let addrs = scenario
                .names
                .iter()
                .find(|(n, _)| *n == name)
                .map(|(_, a)| a.clone())
                .unwrap_or_default();
            let now = world.clock_now();
            let actions = world.run.engine.handle(
                Event::Resolved {
                    name: &name,
                    addrs: &addrs,
                },
                now,
            );
            pending_names.extend(world.carry_out(actions));
        }
        let elapsed = world.elapsed();
        if elapsed >= scenario.duration {
            break;
        }
        let timer_at = world.timer.map(|at| {
            let rate = 1.0 + world.clock.frequency_error_ppm() * 1e-6;
            elapsed + (at.secs_since(world.clock_now()) / rate).max(0.0)
        });
        let delivery_at = world.queue.peek().map(|d| d.at);
        let next = [
            Some(next_sample),
            timer_at,
            delivery_at,
            Some(scenario.duration),
        ]
        .into_iter()
        .flatten()
        .fold(f64::INFINITY, f64::min);
        if next > elapsed + TIME_SLACK {
            world.clock.advance(next - elapsed);
        }
        let elapsed = world.elapsed();
        if elapsed >= next_sample - TIME_SLACK {
            world.run.offsets.push((next_sample, world.clock.offset()));
            next_sample += SAMPLE_EVERY;
        }
        while world
            .queue
            .peek()
            .is_some_and(|d| d.at <= elapsed + TIME_SLACK)
        {
            let Some(d) = world.queue.pop() else { break };
            let now = world.clock_now();
            let actions = world.run.engine.handle(
                Event::Received {
                    from: d.from,
                    to: client,
                    rx: now,
                    bytes: &d.bytes,
                },
                now,
            );
            pending_names.extend(world.carry_out(actions));
        }
        if let Some(at) = world.timer {
            let now = world.clock_now();
            if now >= at {
                world.timer = None;
                let actions = world.run.engine.handle(Event::TimerFired, now);
                pending_names.extend(world.carry_out(actions));
            } else if timer_at.is_some_and(|t| t <= elapsed + TIME_SLACK) {
                // The rate guess fell a little short: nudge true time on.
                world.clock.advance(at.secs_since(now).max(1e-9));
            }
        }
    }
    let natural = world.clock.frequency_error_ppm() - world.clock.rate().unwrap_or(0.0);
    world.run.freq_error_ppm = natural + world.run.engine.system().frequency;
    world.run
}

impl World<'_> {
    fn clock_now(&self) -> UnixTime {
        self.clock.now().unwrap_or(UnixTime::EPOCH)
    }
}
