//! The NTP engine, sans-IO: associations and their poll timers, the clock
//! filter, selection/cluster/combine, and the clock discipline.
//!
//! Its inputs are events (a packet received with its receive timestamp, a
//! timer firing, a name resolved) and the current reading of the clock it
//! disciplines; its outputs are actions (send this packet, arm a timer,
//! step, set the rate, save the drift, log a line). It never reads a clock,
//! opens a socket or touches a file: `applets::ntpd` drives it with the real
//! sockets and the Linux clock, `engine::sim` with a simulated network and
//! `SimClock`, and `ntpd -q` with the same loop as the daemon.
//!
//! This file is the engine's face; the machinery lives in the submodules:
//!
//! - `core`: `Engine`, the event dispatch and the timers;
//! - `mobilize`, `assoc`, `transmit`, `receive`: associations (servers,
//!   pools, symmetric peers, broadcast, the local clock driver), polling,
//!   the packet tests;
//! - `filter`, `select`, `update`: the clock filter, selection / cluster /
//!   combine, the system peer, orphan mode and the system variables;
//! - `estimator`, `timescale`, `discipline`: how the clock's error is
//!   estimated and removed (the module docs say how and why);
//! - `stats`, `views`: the statistics lines and what mode 6 shows;
//! - `sim`: the simulation harness of the accuracy tests.
//!
//! The daemon calls `Engine::new(&config, start)`, then `handle(event,
//! now)` for a first `TimerFired` at start-up, for every packet that is not
//! a client request or mode 6/7, for each `TimerFired` and each answer to
//! a `Resolve`, and carries out the actions in order; `system()` gives what
//! replies advertise, `peers()`/`peer(id)` what mode 6 shows, and
//! `save_drift_now(now)` the drift file's value on demand (at shutdown, or
//! a forced save).

pub mod assoc;
mod core;
pub mod discipline;
pub mod estimator;
pub mod filter;
pub mod leapfile;
mod mobilize;
mod receive;
pub mod select;
pub mod sim;
pub mod stats;
pub mod timescale;
mod transmit;
mod update;
mod views;

pub use self::core::Engine;

use std::net::{IpAddr, SocketAddr};

use crate::proto::status::{PeerStatus, SystemStatus};
use crate::proto::{Leap, NtpTimestamp, RefId, UnixTime};

/// How the daemon was started: what ntp.conf cannot say.
#[derive(Clone, Copy, Debug)]
pub struct Start {
    /// log2 seconds of the clock reading's precision.
    pub precision: i8,
    /// `-g`: allow one first correction beyond the panic threshold.
    pub panic_gate: bool,
    /// `-x`: slew, never step (up to the 600 s step threshold), at 500 ppm.
    pub slew_only: bool,
    /// `-q`: set the clock once, through the full filter, then exit.
    pub once: bool,
    /// The frequency read from the drift file, ppm, if there was one.
    pub drift_ppm: Option<f64>,
    /// Seeds the random choices (initial poll delay, transmit cookies).
    /// The daemon takes it from getrandom; simulations fix it.
    pub seed: u64,
}

/// What the daemon hands the engine.
#[derive(Clone, Copy, Debug)]
pub enum Event<'a> {
    /// A packet for the engine: a server's reply (mode 4), a symmetric
    /// (1/2) or broadcast (5) packet. Client requests and mode 6/7 never
    /// come here.
    Received {
        from: SocketAddr,
        to: SocketAddr,
        /// Receive timestamp, by the disciplined clock.
        rx: UnixTime,
        bytes: &'a [u8],
    },
    /// The earliest timer the engine armed has come due.
    TimerFired,
    /// The answer to `Action::Resolve` with the same `name`.
    Resolved { name: &'a str, addrs: &'a [IpAddr] },
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Level {
    Error,
    Warning,
    Notice,
    Info,
    Debug,
}

/// The classic statistics files.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StatsFile {
    Loopstats,
    Peerstats,
}

impl StatsFile {
    pub fn name(self) -> &'static str {
        match self {
            StatsFile::Loopstats => "loopstats",
            StatsFile::Peerstats => "peerstats",
        }
    }
}

/// The kernel's view of synchronisation, for `ntp_adjtime`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct KernelSync {
    /// Clear STA_UNSYNC: the kernel may then write the RTC every 11 minutes.
    pub synchronised: bool,
    /// STA_PLL: the kernel's PLL disciplines (`enable kernel`).
    pub pll: bool,
    /// STA_INS / STA_DEL: a leap second is due at the end of the UTC day.
    pub leap: Leap,
    /// Seconds.
    pub maxerror: f64,
    /// Seconds.
    pub esterror: f64,
    /// The PLL time constant, as ntp_adjtime takes it.
    pub time_constant: i64,
}

/// What the engine asks the daemon to do, in order.
#[derive(Clone, Debug, PartialEq)]
pub enum Action {
    /// Send a packet now (the transmit timestamp in it is already final).
    Send { to: SocketAddr, bytes: Vec<u8> },
    /// Deliver `TimerFired` at this clock reading (the earliest one armed
    /// wins; the engine re-arms on every `TimerFired`).
    ArmTimer(UnixTime),
    /// Jump the clock by this many seconds.
    Step(f64),
    /// Set the whole rate correction, ppm (`Clock::set_rate`, within
    /// ±`clock::MAX_RATE_PPM`).
    SetRate(f64),
    /// `enable kernel`: hand this offset, seconds, to the kernel PLL.
    KernelPllOffset(f64),
    /// Tell the kernel the synchronisation state (`Clock::set_kernel_status`).
    KernelSync(KernelSync),
    /// Write the drift file (atomically), ppm.
    SaveDrift(f64),
    /// Append one line to a statistics file (in the classic format).
    Stats { file: StatsFile, line: String },
    /// One line for the log, in the classic words.
    Log { level: Level, text: String },
    /// Resolve a host name (pool and server names); answer with `Resolved`.
    Resolve { name: String },
    /// Stop the daemon with this exit status (`-q` done, or the panic
    /// threshold crossed), after logging `Log` actions before it.
    Exit(i32),
}

/// What client replies advertise, and mode 6 reads as system variables.
#[derive(Clone, Debug, PartialEq)]
pub struct SystemVars {
    pub status: SystemStatus,
    pub leap: Leap,
    pub stratum: u8,
    pub precision: i8,
    /// Seconds.
    pub root_delay: f64,
    /// Seconds.
    pub root_dispersion: f64,
    pub refid: RefId,
    pub reference_time: NtpTimestamp,
    /// The association ID of the system peer, 0 if none.
    pub peer: u16,
    /// The time constant (log2 s) and its minimum.
    pub tc: u8,
    pub mintc: u8,
    /// Last clock offset, seconds.
    pub offset: f64,
    /// Frequency correction, ppm.
    pub frequency: f64,
    /// Seconds.
    pub sys_jitter: f64,
    /// Seconds.
    pub clk_jitter: f64,
    /// ppm.
    pub clk_wander: f64,
    /// TAI-UTC, seconds, from the leapfile (0 if unknown).
    pub tai: i32,
    /// Time of the next/last leap second and the leapfile's expiry, if known.
    pub leapsec: Option<NtpTimestamp>,
    pub expire: Option<NtpTimestamp>,
}

/// The `t` column of `ntpq -p`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PeerKind {
    /// `u`: a unicast server.
    Unicast,
    /// `p`: a pool prototype (its members are `u`).
    Pool,
    /// `s`: symmetric peer.
    Symmetric,
    /// `b`: broadcast client or server.
    Broadcast,
    /// `l`: the local clock driver (a reference clock).
    Local,
}

/// One association, as mode 6 shows it.
#[derive(Clone, Debug, PartialEq)]
pub struct PeerVars {
    pub assoc_id: u16,
    pub status: PeerStatus,
    pub kind: PeerKind,
    /// The name written in ntp.conf, when it was a name.
    pub hostname: Option<String>,
    pub srcadr: SocketAddr,
    pub dstadr: Option<SocketAddr>,
    pub leap: Leap,
    pub stratum: u8,
    pub precision: i8,
    /// Seconds.
    pub root_delay: f64,
    /// Seconds.
    pub root_dispersion: f64,
    pub refid: RefId,
    pub reference_time: NtpTimestamp,
    /// When the last valid packet arrived (clock reading), if ever.
    pub rec: Option<UnixTime>,
    pub reach: u8,
    pub unreach: u32,
    /// Host and peer mode (3 client, 1/2 symmetric, ...).
    pub hmode: u8,
    pub pmode: u8,
    /// log2 s.
    pub hpoll: i8,
    pub ppoll: i8,
    pub headway: u32,
    /// The packet test bits that failed on the last packet (0: none).
    pub flash: u16,
    pub keyid: u32,
    /// Seconds.
    pub offset: f64,
    /// Seconds.
    pub delay: f64,
    /// Seconds.
    pub dispersion: f64,
    /// Seconds.
    pub jitter: f64,
    /// The clock filter, newest first: seconds.
    pub filter_delay: [f64; 8],
    pub filter_offset: [f64; 8],
    pub filter_dispersion: [f64; 8],
}

#[cfg(test)]
mod tests;
