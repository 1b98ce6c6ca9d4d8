//! Associations come and go: from ntp.conf lines, from names resolved
//! (servers, peers, pools), from packets (passive peers, broadcast
//! servers), and they are demobilised when a kiss or a timeout says so.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};

use super::assoc::{event, Assoc, LocalDriver, Options, Role};
use super::core::{Engine, Name, NO_DRIFT_SIGMA, RESOLVE_RETRY, RESOLVE_RETRY_MAX};
use super::estimator::Estimator;
use super::{Action, Level};
use crate::config::{Association, AssociationKind, Family, Host, Refclock, Target, NTP_PORT};
use crate::proto::RefId;

/// Classic's stratum for the local clock driver without a fudge.
pub const LOCAL_CLOCK_DEFAULT_STRATUM: u8 = 5;
/// A pool whose member was dropped looks for a replacement this soon.
const POOL_REFILL_DELAY: f64 = 5.0;

impl Engine {
    /// The associations of ntp.conf, at start-up.
    pub(super) fn mobilize_configured(&mut self, out: &mut Vec<Action>) {
        let lines = self.config.associations.clone();
        for line in &lines {
            match &line.target {
                Target::Refclock(clock) if clock.is_local() => self.mobilize_local(line, *clock),
                Target::Refclock(clock) => self.log(
                    out,
                    Level::Warning,
                    format!(
                        "{}: reference clock {clock}: driver {} is not supported (only the local clock, 127.127.1.u)",
                        line.origin, clock.driver
                    ),
                ),
                Target::Network { host, port, family } => {
                    let role = match line.kind {
                        AssociationKind::Server | AssociationKind::Pool => Role::Client,
                        AssociationKind::Peer => Role::SymmetricActive,
                        AssociationKind::Broadcast => Role::BroadcastServer,
                        AssociationKind::ManycastClient => {
                            self.log(
                                out,
                                Level::Warning,
                                format!("{}: manycastclient is not supported", line.origin),
                            );
                            continue;
                        }
                    };
                    let port = port.unwrap_or(NTP_PORT);
                    let options = Options::from_config(&line.options);
                    match host {
                        Host::Ip(ip) if line.kind != AssociationKind::Pool => {
                            let addr = SocketAddr::new(*ip, port);
                            if self.find(addr).is_some() {
                                self.log(
                                    out,
                                    Level::Warning,
                                    format!("{}: duplicate association {addr} ignored", line.origin),
                                );
                                continue;
                            }
                            self.mobilize(role, addr, options, true, out);
                        }
                        host => {
                            let name = host.to_string();
                            if line.kind == AssociationKind::Pool {
                                self.mobilize_pool_prototype(&name, port, options);
                            }
                            self.names.push(Name {
                                name,
                                line: line.clone(),
                                port,
                                family: *family,
                                next: Some(self.t),
                                retry: RESOLVE_RETRY,
                                done: false,
                            });
                        }
                    }
                }
            }
        }
    }

    /// A new association; returns its index.
    pub(super) fn mobilize(
        &mut self,
        role: Role,
        addr: SocketAddr,
        options: Options,
        configured: bool,
        out: &mut Vec<Action>,
    ) -> usize {
        let id = self.new_id();
        let mut a = Assoc::new(id, role, addr, options, self.t);
        a.configured = configured;
        a.estimator = self.new_estimator();
        let spread = if options.iburst {
            super::assoc::IBURST_START_SECS
        } else {
            super::assoc::START_SPREAD_SECS
        };
        a.next_poll = match role {
            Role::Pool => None,
            Role::SymmetricPassive | Role::BroadcastClient => Some(self.t + self.random()),
            _ => Some(self.t + spread * self.random()),
        };
        a.event(event::MOBILIZE);
        let word = self.peer_status(&a).word();
        self.log(
            out,
            Level::Info,
            format!("{} {word:04x} 81 mobilize assoc {id}", addr.ip()),
        );
        self.assocs.push(a);
        self.assocs.len() - 1
    }

    /// An estimator for a new source: the frequency the clock runs at
    /// now is the best guess of what this source will show.
    fn new_estimator(&self) -> Estimator {
        let e = if self.discipline.is_set() {
            Estimator::new(
                self.discipline.freq_ppm() * 1e-6,
                super::core::DRIFT_FILE_SIGMA,
            )
        } else {
            match self.initial_freq_ppm() {
                Some(ppm) => Estimator::new(ppm * 1e-6, super::core::DRIFT_FILE_SIGMA),
                None => Estimator::new(0.0, NO_DRIFT_SIGMA),
            }
        };
        match self.config.tinker.huffpuff {
            Some(secs) if secs > 0.0 => e.with_window(secs),
            _ => e,
        }
    }

    fn mobilize_local(&mut self, line: &Association, clock: Refclock) {
        let fudge = self.config.fudge(clock);
        // Stratum 0 would read as a kiss-o'-death on the wire: a local
        // clock fudged to 0 serves as a primary server, stratum 1.
        let stratum = fudge
            .and_then(|f| f.stratum)
            .unwrap_or(LOCAL_CLOCK_DEFAULT_STRATUM)
            .clamp(1, 15);
        let refid = fudge
            .and_then(|f| f.refid.as_deref())
            .map_or(RefId(*b"LOCL"), RefId::from_ascii);
        let addr = SocketAddr::new(
            IpAddr::V4(Ipv4Addr::new(127, 127, clock.driver, clock.unit)),
            NTP_PORT,
        );
        let id = self.new_id();
        let mut options = Options::from_config(&line.options);
        options.maxpoll = options.minpoll;
        let mut a = Assoc::new(id, Role::LocalClock, addr, options, self.t);
        a.driver = Some(LocalDriver { stratum, refid });
        a.stratum = stratum;
        a.refid = refid;
        a.next_poll = Some(self.t);
        a.event(event::MOBILIZE);
        self.assocs.push(a);
    }

    fn mobilize_pool_prototype(&mut self, name: &str, port: u16, options: Options) {
        let id = self.new_id();
        let addr = SocketAddr::new(IpAddr::V4(Ipv4Addr::UNSPECIFIED), port);
        let mut a = Assoc::new(id, Role::Pool, addr, options, self.t);
        a.hostname = Some(name.to_string());
        a.refid = RefId(*b"POOL");
        a.pool = Some(name.to_string());
        self.assocs.push(a);
    }

    /// The answer to a `Resolve`.
    pub(super) fn on_resolved(&mut self, name: &str, addrs: &[IpAddr], out: &mut Vec<Action>) {
        for n in 0..self.names.len() {
            if self.names[n].name != name || self.names[n].next.is_some() || self.names[n].done {
                continue;
            }
            let family = self.names[n].family;
            let port = self.names[n].port;
            let usable: Vec<SocketAddr> = addrs
                .iter()
                .filter(|ip| family.is_none_or(|f| Family::of(**ip) == f))
                .map(|ip| SocketAddr::new(*ip, port))
                .collect();
            if usable.is_empty() {
                let retry = self.names[n].retry;
                self.names[n].next = Some(self.t + retry);
                self.names[n].retry = (retry * 2.0).min(RESOLVE_RETRY_MAX);
                self.log(
                    out,
                    Level::Notice,
                    format!("{name}: no usable address; trying again in {retry:.0} s"),
                );
                continue;
            }
            self.names[n].retry = RESOLVE_RETRY;
            let line = self.names[n].line.clone();
            let options = Options::from_config(&line.options);
            if line.kind == AssociationKind::Pool {
                self.add_pool_members(name, &usable, options, out);
                continue;
            }
            let Some(addr) = usable.iter().copied().find(|a| self.find(*a).is_none()) else {
                continue;
            };
            let role = match line.kind {
                AssociationKind::Peer => Role::SymmetricActive,
                AssociationKind::Broadcast => Role::BroadcastServer,
                _ => Role::Client,
            };
            let i = self.mobilize(role, addr, options, true, out);
            self.assocs[i].hostname = Some(name.to_string());
            self.names[n].done = true;
        }
    }

    fn add_pool_members(
        &mut self,
        name: &str,
        addrs: &[SocketAddr],
        options: Options,
        out: &mut Vec<Action>,
    ) {
        let limit = self.settled.select.maxclock;
        for &addr in addrs {
            let sources = self
                .assocs
                .iter()
                .filter(|a| matches!(a.role, Role::Client | Role::SymmetricActive))
                .count();
            if sources >= limit {
                break;
            }
            if self.find(addr).is_some() {
                continue;
            }
            let i = self.mobilize(Role::Client, addr, options, false, out);
            self.assocs[i].pool = Some(name.to_string());
            self.assocs[i].hostname = Some(name.to_string());
        }
    }

    /// Removes association `i` (a kiss, a timeout, a pool member gone).
    pub(super) fn demobilize(&mut self, i: usize, why: &str, out: &mut Vec<Action>) {
        let mut a = self.assocs.remove(i);
        a.event(event::DEMOBILIZE);
        let word = self.peer_status(&a).word();
        self.log(
            out,
            Level::Info,
            format!(
                "{} {word:04x} 82 demobilize assoc {} ({why})",
                a.addr.ip(),
                a.id
            ),
        );
        if self.sys.peer == Some(a.id) {
            self.sys.peer = None;
        }
        if let Some(pool) = a.pool {
            for n in self.names.iter_mut().filter(|n| n.name == pool) {
                if n.next.is_none() {
                    n.next = Some(self.t + POOL_REFILL_DELAY);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::parse_str;
    use crate::engine::{Event, PeerKind, Start};
    use crate::proto::UnixTime;

    fn engine(conf: &str) -> Engine {
        let l = parse_str(conf, std::path::Path::new("t.conf"));
        Engine::new(
            &l.config,
            Start {
                precision: -20,
                panic_gate: false,
                slew_only: false,
                once: false,
                drift_ppm: None,
                seed: 1,
            },
        )
    }

    const T0: UnixTime = UnixTime::EPOCH;

    #[test]
    fn pools_resolve_and_add_members() {
        let mut e = engine("pool pool.example.org iburst\n");
        let out = e.handle(Event::TimerFired, T0);
        assert!(out.contains(&Action::Resolve {
            name: "pool.example.org".into()
        }));
        let addrs: Vec<IpAddr> = ["192.0.2.1", "192.0.2.2", "2001:db8::1"]
            .iter()
            .map(|a| a.parse().unwrap())
            .collect();
        e.handle(
            Event::Resolved {
                name: "pool.example.org",
                addrs: &addrs,
            },
            T0,
        );
        let peers = e.peers();
        assert_eq!(peers.len(), 4);
        assert_eq!(peers[0].kind, PeerKind::Pool);
        assert_eq!(peers[0].hostname.as_deref(), Some("pool.example.org"));
        assert!(peers[1..].iter().all(|p| p.kind == PeerKind::Unicast));
    }

    #[test]
    fn a_name_that_does_not_resolve_is_retried() {
        let mut e = engine("server ntp.example.org\n");
        e.handle(Event::TimerFired, T0);
        let out = e.handle(
            Event::Resolved {
                name: "ntp.example.org",
                addrs: &[],
            },
            T0,
        );
        assert!(out.contains(&Action::ArmTimer(T0.add_secs_f64(RESOLVE_RETRY))) || !out.is_empty());
        let out = e.handle(Event::TimerFired, T0.add_secs_f64(RESOLVE_RETRY));
        assert!(out.contains(&Action::Resolve {
            name: "ntp.example.org".into()
        }));
        let ip: IpAddr = "192.0.2.9".parse().unwrap();
        e.handle(
            Event::Resolved {
                name: "ntp.example.org",
                addrs: &[ip],
            },
            T0.add_secs_f64(65.0),
        );
        let p = e.peers();
        assert_eq!(p.len(), 1);
        assert_eq!(p[0].srcadr, SocketAddr::new(ip, 123));
        assert_eq!(p[0].hostname.as_deref(), Some("ntp.example.org"));
    }
}
