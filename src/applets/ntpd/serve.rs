//! The daemon's loop: one thread around poll(2). Ready sockets are drained
//! in batches (recvmmsg), each request answered by the responder from the
//! engine's current state, each reply stamped with the time it leaves
//! (`server::pace`) and the batch sent in one sendmmsg. Under heavy load
//! the loop waits a little between batches (`server::moderate`) so that
//! system calls and wake-ups are paid per batch, not per request. Timers
//! the engine arms are the poll timeout. The engine's clock actions go to
//! `ClockControl`, its drift and statistics lines to their files, its name
//! lookups to the resolver thread. A stop signal, or the engine's `Exit`,
//! ends the loop.

use std::net::SocketAddr;
use std::os::fd::AsRawFd;
use std::path::PathBuf;
use std::time::Duration;

use super::adjust::ClockControl;
use super::control::{Context, Control, Interface, Write};
use super::engine::{Action, Engine, Event, Level};
use super::listen::Listener;
use super::log::{self, Logger};
use super::resolve::Resolver;
use super::server::moderate::Moderation;
use super::server::pace::SendPace;
use super::server::respond::stamp_transmit;
use super::server::{Outcome, Responder};
use super::signals::StopSignals;
use super::stats::Stats;
use super::time::{monotonic, realtime};
use crate::net::batch::{RecvBatch, SendBatch};
use crate::proto::{NtpTimestamp, UnixTime};

/// pollfds: the stop signals, the resolver's wake-up pipe, then listeners.
const FIRST_LISTENER: usize = 2;
/// The NTP mode of control (ntpq) messages.
const CONTROL_MODE: u8 = 6;
/// Datagrams per recvmmsg/sendmmsg call.
pub const BATCH: usize = 64;
/// Batches taken from one socket before looking at the others again, so a
/// flood on one address cannot starve the rest (or the stop signal).
const BATCHES_PER_WAKE: usize = 16;
/// The longest poll without a timer: the loop wakes up now and then anyway.
const IDLE_WAIT_MS: i32 = 60_000;

pub struct Loop<'a, E: Engine> {
    pub listeners: &'a [Listener],
    pub responder: &'a mut Responder,
    pub engine: &'a mut E,
    pub log: &'a mut Logger,
    control: Control,
    /// Per listener, in the same order: what `ntpq ifstats` shows, with
    /// its traffic counters (allocated once, bumped in place).
    interfaces: Vec<Interface>,
    /// The rest of what the engine's actions need.
    pub effects: Effects,
    next_timer: Option<UnixTime>,
    exit: Option<i32>,
    recv: RecvBatch,
    send: SendBatch,
    /// Per committed reply: what it still needs before it goes out.
    finish: Vec<Finish>,
    pace: SendPace,
    pollfds: Vec<libc::pollfd>,
    moderation: Moderation,
    /// Whether waiting between batches is harmless: every serving socket
    /// has kernel receive timestamps (see `moderate`).
    may_moderate: bool,
}

impl<'a, E: Engine> Loop<'a, E> {
    pub fn new(
        listeners: &'a [Listener],
        responder: &'a mut Responder,
        engine: &'a mut E,
        log: &'a mut Logger,
        control: Control,
        effects: Effects,
    ) -> Loop<'a, E> {
        Loop {
            listeners,
            responder,
            engine,
            log,
            control,
            interfaces: listeners.iter().map(interface_of).collect(),
            effects,
            next_timer: None,
            exit: None,
            recv: RecvBatch::new(BATCH),
            send: SendBatch::new(BATCH),
            finish: vec![Finish::Ready; BATCH],
            pace: SendPace::default(),
            pollfds: Vec::with_capacity(listeners.len() + 1),
            moderation: Moderation::new(monotonic()),
            may_moderate: listeners
                .iter()
                .all(|l| !l.serve || l.socket.kernel_timestamps()),
        }
    }

    /// Runs until a stop signal or the engine's `Exit`.
    pub fn run(&mut self, signals: &StopSignals) -> Stop {
        let now = realtime();
        let actions = self.engine.handle(Event::TimerFired, now);
        self.carry_out(actions);
        self.pollfds.push(pollfd(signals.fd()));
        self.pollfds.push(pollfd(self.effects.resolver.fd()));
        for l in self.listeners {
            self.pollfds.push(pollfd(l.socket.as_raw_fd()));
        }
        loop {
            if let Some(status) = self.exit {
                return Stop::Exit(status);
            }
            let timeout = self.poll_timeout();
            // SAFETY: pollfds is a valid array of that many pollfd.
            let n = unsafe {
                libc::poll(
                    self.pollfds.as_mut_ptr(),
                    self.pollfds.len() as libc::nfds_t,
                    timeout,
                )
            };
            if n < 0 {
                let e = std::io::Error::last_os_error();
                if e.kind() != std::io::ErrorKind::Interrupted {
                    self.log.error(&format!("poll: {e}"));
                }
            }
            if self.pollfds[0].revents != 0 {
                if let Some(signal) = signals.received() {
                    return Stop::Signal(signal);
                }
                if signals.take_save_request() {
                    let actions = self.engine.save_drift_now(realtime());
                    self.carry_out(actions);
                }
            }
            if self.pollfds[1].revents != 0 {
                for (name, addrs) in self.effects.resolver.answers() {
                    let event = Event::Resolved {
                        name: &name,
                        addrs: &addrs,
                    };
                    let actions = self.engine.handle(event, realtime());
                    self.carry_out(actions);
                }
            }
            let mut taken = 0;
            let mut emptied = true;
            for i in 0..self.listeners.len() {
                if self.pollfds[i + FIRST_LISTENER].revents & (libc::POLLIN | libc::POLLERR) != 0 {
                    let (n, empty) = self.drain(i);
                    taken += n;
                    emptied &= empty;
                }
            }
            if taken > 0 {
                self.moderation.taken(taken, monotonic());
                match self.moderation.wait_after(taken) {
                    Some(wait) if self.may_moderate && emptied => sleep(wait),
                    _ => {}
                }
            }
            if let Some(at) = self.next_timer {
                let now = realtime();
                if now.secs_since(at) >= 0.0 {
                    self.next_timer = None;
                    let actions = self.engine.handle(Event::TimerFired, now);
                    self.carry_out(actions);
                }
            }
        }
    }

    fn poll_timeout(&self) -> i32 {
        match self.next_timer {
            None => IDLE_WAIT_MS,
            Some(at) => {
                let ms = (at.secs_since(realtime()) * 1000.0).ceil();
                ms.clamp(0.0, f64::from(IDLE_WAIT_MS)) as i32
            }
        }
    }

    /// Answers what is queued on listener `i`, batch by batch: how many
    /// datagrams it took, and whether it left the socket empty.
    fn drain(&mut self, i: usize) -> (usize, bool) {
        let listeners = self.listeners;
        let listener = &listeners[i];
        let mut taken = 0;
        for _ in 0..BATCHES_PER_WAKE {
            let received = match self.recv.recv(&listener.socket) {
                Ok(0) => return (taken, true),
                Ok(n) => n,
                Err(e) => {
                    self.log
                        .debug(&format!("recvmmsg on {}: {e}", listener.name));
                    return (taken, true);
                }
            };
            taken += received;
            self.interfaces[i].received += received as u64;
            if !listener.serve {
                continue;
            }
            // One fallback timestamp per batch, right after the receive,
            // for sockets without kernel timestamps.
            let fallback_rx = realtime();
            let mono = monotonic();
            let system = self.engine.system_state();
            let local = listener.socket.local_addr();
            let mut passed = Vec::new();
            for k in 0..received {
                let Some(d) = self.recv.get(k) else { break };
                let Some(from) = d.from else { continue };
                if d.truncated {
                    self.responder.counters.received += 1;
                    self.responder.counters.malformed += 1;
                    continue;
                }
                let rx = NtpTimestamp::from_unix(d.kernel_rx.unwrap_or(fallback_rx));
                let Some(out) = self.send.next_buffer() else {
                    break;
                };
                match self
                    .responder
                    .respond(d.bytes, from, rx, mono, &system, out)
                {
                    Outcome::Reply { len, stamp, sign } => {
                        self.finish[self.send.len()] = match (stamp, sign) {
                            // The MAC covers the transmit time: signed
                            // once stamped.
                            (_, Some(key_id)) => Finish::StampAndSign(key_id),
                            (true, None) => Finish::Stamp,
                            (false, None) => Finish::Ready,
                        };
                        self.send.commit(len, from);
                    }
                    Outcome::Drop(_) => {}
                    // Rare (not client requests): copying is fine here.
                    Outcome::Pass => {
                        passed.push((from, d.kernel_rx.unwrap_or(fallback_rx), d.bytes.to_vec()))
                    }
                }
            }
            if !self.send.is_empty() {
                self.send_replies(i);
            }
            for (from, rx, bytes) in passed {
                if bytes.first().map(|b| b & 7) == Some(CONTROL_MODE) {
                    self.control_request(i, from, rx, &bytes);
                    continue;
                }
                let event = Event::Received {
                    from,
                    to: local,
                    rx,
                    bytes: &bytes,
                };
                let actions = self.engine.handle(event, realtime());
                self.carry_out(actions);
            }
            if received < BATCH {
                return (taken, true);
            }
        }
        (taken, false)
    }

    /// Stamps each committed reply with the time it will leave (see
    /// `pace`), signs those that need it, and sends them all.
    fn send_replies(&mut self, i: usize) {
        let listener = &self.listeners[i];
        let committed = self.send.len() as u64;
        let start = realtime();
        let started = monotonic();
        for (k, (reply, len)) in self.send.committed_mut().enumerate() {
            let leaves = || NtpTimestamp::from_unix(start.add_secs_f64(self.pace.offset_of(k)));
            match self.finish[k] {
                Finish::Ready => {}
                Finish::Stamp => stamp_transmit(reply, leaves()),
                Finish::StampAndSign(key_id) => {
                    stamp_transmit(reply, leaves());
                    *len = self.responder.sign(key_id, reply);
                }
            }
        }
        let stats = &mut self.interfaces[i];
        match self.send.flush(&listener.socket) {
            Ok(sent) => {
                self.pace.measured(sent, monotonic() - started);
                stats.sent += sent as u64;
                stats.send_failed += committed.saturating_sub(sent as u64);
            }
            Err(e) => {
                stats.send_failed += committed;
                self.log
                    .debug(&format!("sendmmsg on {}: {e}", listener.name));
            }
        }
    }

    /// Answers a mode 6 request from the socket it came in on.
    fn control_request(&mut self, i: usize, from: SocketAddr, rx: UnixTime, bytes: &[u8]) {
        let listener = &self.listeners[i];
        let mut replies = Vec::new();
        let cx = Context {
            from,
            to: listener.socket.local_addr(),
            now: rx,
            view: &*self.engine,
            server: self.responder,
            interfaces: &self.interfaces,
        };
        self.control.respond(bytes, &cx, &mut replies);
        for write in self.control.take_writes() {
            match write {
                Write::Leap(leap) => {
                    self.engine.set_leap_warning(leap);
                    self.log
                        .notice(&format!("mode 6 from {from}: leap warning set to {leap:?}"));
                }
                Write::ConfigureRefused => self.log.notice(&format!(
                    "mode 6 from {from}: runtime configuration refused (not supported): edit the configuration file and restart"
                )),
            }
        }
        for reply in replies {
            self.send_counted(i, &reply, from);
        }
    }

    /// Sends one datagram from listener `i`, counting it on that socket.
    fn send_counted(&mut self, i: usize, bytes: &[u8], to: SocketAddr) {
        match self.listeners[i].socket.send_to(bytes, to) {
            Ok(_) => self.interfaces[i].sent += 1,
            Err(e) => {
                self.interfaces[i].send_failed += 1;
                self.log.debug(&format!("sendto {to}: {e}"));
            }
        }
    }

    fn carry_out(&mut self, actions: Vec<Action>) {
        if actions.is_empty() {
            return;
        }
        for action in actions {
            match self.effects.clock.apply(&action) {
                Ok(true) => {
                    if !self.effects.clock.enabled() {
                        self.log
                            .debug(&format!("disable ntp: not carried out: {action:?}"));
                    }
                    continue;
                }
                Ok(false) => {}
                Err(e) => {
                    self.log.error(&e);
                    continue;
                }
            }
            match action {
                Action::Log { level, text } => self.log.log(log_level(level), &text),
                Action::ArmTimer(at) => {
                    let earlier = match self.next_timer {
                        None => true,
                        Some(t) => at.secs_since(t) < 0.0,
                    };
                    if earlier {
                        self.next_timer = Some(at);
                    }
                }
                Action::Send { to, bytes } => self.send_one(to, &bytes),
                Action::SaveDrift(ppm) => self.save_drift(ppm),
                Action::Stats { file, line } => {
                    if let Some(problem) = self.effects.stats.append(file, &line, realtime()) {
                        self.log.warning(&problem);
                    }
                }
                Action::Resolve { name } => self.effects.resolver.start(name),
                Action::Exit(status) => self.exit = Some(status),
                Action::Step(_)
                | Action::SetRate(_)
                | Action::KernelPllOffset(_)
                | Action::KernelSync(_) => {}
            }
        }
        self.effects
            .clock
            .set_base(self.engine.system_vars().frequency);
    }

    fn save_drift(&mut self, ppm: f64) {
        let Some(path) = &self.effects.driftfile else {
            return;
        };
        if !self.effects.clock.enabled() {
            return;
        }
        if let Err(e) = super::drift::write(path, ppm) {
            self.log.warning(&format!(
                "frequency file {}: cannot write it: {e}",
                path.display()
            ));
        }
    }

    /// Sends an engine packet from the wildcard socket of its family, so
    /// the kernel picks the source address its route to `to` uses (the
    /// reply then comes back to that address's own socket); without a
    /// wildcard socket, from the first serving socket of the family.
    fn send_one(&mut self, to: SocketAddr, bytes: &[u8]) {
        let family = |l: &Listener| l.socket.local_addr().is_ipv4() == to.is_ipv4();
        let listeners = self.listeners;
        let wildcard = listeners
            .iter()
            .position(|l| family(l) && l.socket.local_addr().ip().is_unspecified());
        let Some(i) = wildcard.or_else(|| listeners.iter().position(|l| family(l) && l.serve))
        else {
            self.log.debug(&format!("no socket to send to {to}"));
            return;
        };
        self.send_counted(i, bytes, to);
    }
}

/// A listener as `ntpq ifstats` shows it, its counters at zero.
fn interface_of(l: &Listener) -> Interface {
    Interface {
        number: l.number,
        name: l.name.clone(),
        addr: l.socket.local_addr(),
        serving: l.serve,
        flags: l.flags,
        opened: l.opened,
        received: 0,
        sent: 0,
        send_failed: 0,
    }
}

/// What a committed reply still needs before it goes out.
#[derive(Clone, Copy, Debug)]
enum Finish {
    Ready,
    /// Its transmit timestamp.
    Stamp,
    /// Its transmit timestamp, then the MAC of this key.
    StampAndSign(u32),
}

/// Why the loop ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Stop {
    Signal(i32),
    /// The engine asked to stop (`-q` done, panic threshold): exit status.
    Exit(i32),
}

/// What the loop needs to carry out the engine's actions besides sockets.
pub struct Effects {
    pub clock: ClockControl,
    pub stats: Stats,
    pub driftfile: Option<PathBuf>,
    pub resolver: Resolver,
}

fn log_level(level: Level) -> log::Level {
    match level {
        Level::Error => log::Level::Error,
        Level::Warning => log::Level::Warning,
        Level::Notice => log::Level::Notice,
        Level::Info => log::Level::Info,
        Level::Debug => log::Level::Debug,
    }
}

fn pollfd(fd: std::os::fd::RawFd) -> libc::pollfd {
    libc::pollfd {
        fd,
        events: libc::POLLIN,
        revents: 0,
    }
}

/// Sleeps for `d`; a signal cuts it short, which is what the loop wants.
fn sleep(d: Duration) {
    let ts = libc::timespec {
        tv_sec: d.as_secs() as libc::time_t,
        tv_nsec: d.subsec_nanos() as libc::c_long,
    };
    // SAFETY: ts is a valid timespec; the remainder is not wanted.
    unsafe { libc::nanosleep(&ts, std::ptr::null_mut()) };
}
