//! The daemon's loop: one thread around poll(2). Ready sockets are drained
//! in batches (recvmmsg), each request answered by the responder from the
//! engine's current state, the replies stamped with the transmit time as
//! late as possible and sent in one sendmmsg. Timers the engine arms are
//! the poll timeout. A stop signal ends the loop.

use std::net::SocketAddr;
use std::os::fd::AsRawFd;

use super::control::{Context, Control};
use super::engine::{Action, Engine, Event};
use super::listen::Listener;
use super::log::Logger;
use super::server::respond::stamp_transmit;
use super::server::{Outcome, Responder};
use super::signals::StopSignals;
use super::time::{monotonic, realtime};
use crate::net::batch::{RecvBatch, SendBatch};
use crate::proto::{NtpTimestamp, UnixTime};

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
    next_timer: Option<UnixTime>,
    recv: RecvBatch,
    send: SendBatch,
    /// Per committed reply: does it still need its transmit timestamp?
    stamp: Vec<bool>,
    pollfds: Vec<libc::pollfd>,
}

impl<'a, E: Engine> Loop<'a, E> {
    pub fn new(
        listeners: &'a [Listener],
        responder: &'a mut Responder,
        engine: &'a mut E,
        log: &'a mut Logger,
        control: Control,
    ) -> Loop<'a, E> {
        Loop {
            listeners,
            responder,
            engine,
            log,
            control,
            next_timer: None,
            recv: RecvBatch::new(BATCH),
            send: SendBatch::new(BATCH),
            stamp: vec![false; BATCH],
            pollfds: Vec::with_capacity(listeners.len() + 1),
        }
    }

    /// Runs until a stop signal; returns its number.
    pub fn run(&mut self, signals: &StopSignals) -> i32 {
        let now = realtime();
        let actions = self.engine.handle(Event::TimerFired, now);
        self.carry_out(actions);
        self.pollfds.push(pollfd(signals.fd()));
        for l in self.listeners {
            self.pollfds.push(pollfd(l.socket.as_raw_fd()));
        }
        loop {
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
                    return signal;
                }
            }
            for i in 0..self.listeners.len() {
                if self.pollfds[i + 1].revents & (libc::POLLIN | libc::POLLERR) != 0 {
                    self.drain(i);
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

    /// Answers what is queued on listener `i`, batch by batch.
    fn drain(&mut self, i: usize) {
        let listeners = self.listeners;
        let listener = &listeners[i];
        for _ in 0..BATCHES_PER_WAKE {
            let received = match self.recv.recv(&listener.socket) {
                Ok(0) => break,
                Ok(n) => n,
                Err(e) => {
                    self.log
                        .debug(&format!("recvmmsg on {}: {e}", listener.name));
                    break;
                }
            };
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
                    Outcome::Reply { len, stamp } => {
                        self.stamp[self.send.len()] = stamp;
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
                let transmit = NtpTimestamp::from_unix(realtime());
                for (reply, &stamp) in self.send.committed_mut().zip(&self.stamp) {
                    if stamp {
                        stamp_transmit(reply, transmit);
                    }
                }
                if let Err(e) = self.send.flush(&listener.socket) {
                    self.log
                        .debug(&format!("sendmmsg on {}: {e}", listener.name));
                }
            }
            for (from, rx, bytes) in passed {
                if bytes.first().map(|b| b & 7) == Some(CONTROL_MODE) {
                    self.control_request(listener, from, rx, &bytes);
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
                break;
            }
        }
    }

    /// Answers a mode 6 request from the socket it came in on.
    fn control_request(
        &mut self,
        listener: &Listener,
        from: SocketAddr,
        rx: UnixTime,
        bytes: &[u8],
    ) {
        let mut replies = Vec::new();
        let cx = Context {
            from,
            to: listener.socket.local_addr(),
            now: rx,
            view: &*self.engine,
            server: self.responder,
        };
        self.control.respond(bytes, &cx, &mut replies);
        for reply in replies {
            if let Err(e) = listener.socket.send_to(&reply, from) {
                self.log.debug(&format!("sendto {from}: {e}"));
            }
        }
    }

    fn carry_out(&mut self, actions: Vec<Action>) {
        for action in actions {
            match action {
                Action::Log(line) => self.log.notice(&line),
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
            }
        }
    }

    /// Sends an engine packet from the first serving socket of its family.
    fn send_one(&mut self, to: SocketAddr, bytes: &[u8]) {
        let Some(l) = self
            .listeners
            .iter()
            .find(|l| l.serve && l.socket.local_addr().is_ipv4() == to.is_ipv4())
        else {
            self.log.debug(&format!("no socket to send to {to}"));
            return;
        };
        if let Err(e) = l.socket.send_to(bytes, to) {
            self.log.debug(&format!("sendto {to}: {e}"));
        }
    }
}

fn pollfd(fd: std::os::fd::RawFd) -> libc::pollfd {
    libc::pollfd {
        fd,
        events: libc::POLLIN,
        revents: 0,
    }
}
