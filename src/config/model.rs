//! The typed configuration: what an ntp.conf says, after parsing and before
//! any name is resolved or socket opened.

use std::net::IpAddr;
use std::path::PathBuf;

use super::auth::Key;
use super::restrict::Restriction;

/// The NTP port (RFC 5905).
pub const NTP_PORT: u16 = 123;

/// Which address family a `-4`/`-6` qualifier asks for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Family {
    V4,
    V6,
}

impl Family {
    pub fn of(addr: IpAddr) -> Family {
        match addr {
            IpAddr::V4(_) => Family::V4,
            IpAddr::V6(_) => Family::V6,
        }
    }
}

/// A host as written: an address, or a name resolved when the daemon starts.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Host {
    Ip(IpAddr),
    Name(String),
}

impl std::fmt::Display for Host {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Host::Ip(ip) => write!(f, "{ip}"),
            Host::Name(name) => f.write_str(name),
        }
    }
}

/// A reference clock address, 127.127.TYPE.UNIT.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Refclock {
    pub driver: u8,
    pub unit: u8,
}

impl Refclock {
    /// Driver type 1: the undisciplined local clock, `LOCAL(0)`.
    pub const LOCAL_DRIVER: u8 = 1;

    pub fn is_local(&self) -> bool {
        self.driver == Self::LOCAL_DRIVER
    }
}

impl std::fmt::Display for Refclock {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "127.127.{}.{}", self.driver, self.unit)
    }
}

/// What a `server`/`peer`/`pool` line points at.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Target {
    /// A network host, with the port when the line gives one (`HOST:PORT`,
    /// `[V6]:PORT`, an ntpbox extension), and the `-4`/`-6` qualifier.
    Network {
        host: Host,
        port: Option<u16>,
        family: Option<Family>,
    },
    Refclock(Refclock),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AssociationKind {
    Server,
    Peer,
    Pool,
    Broadcast,
    ManycastClient,
}

impl AssociationKind {
    pub fn keyword(self) -> &'static str {
        match self {
            AssociationKind::Server => "server",
            AssociationKind::Peer => "peer",
            AssociationKind::Pool => "pool",
            AssociationKind::Broadcast => "broadcast",
            AssociationKind::ManycastClient => "manycastclient",
        }
    }
}

/// Options of an association line, as classic ntpd takes them.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct AssociationOptions {
    pub prefer: bool,
    pub iburst: bool,
    pub burst: bool,
    /// log2 seconds.
    pub minpoll: Option<u8>,
    /// log2 seconds.
    pub maxpoll: Option<u8>,
    pub key: Option<u32>,
    pub version: Option<u8>,
    pub noselect: bool,
    /// Always survive the selection algorithm ("truechimer").
    pub truechimer: bool,
    pub preempt: bool,
    pub xleave: bool,
    /// Reference clock driver mode.
    pub mode: Option<u32>,
    /// Broadcast/manycast time-to-live.
    pub ttl: Option<u8>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Association {
    pub kind: AssociationKind,
    pub target: Target,
    pub options: AssociationOptions,
    /// Where it was configured, for messages.
    pub origin: Origin,
}

/// Where a directive was written: file and 1-based line.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Origin {
    pub file: PathBuf,
    pub line: usize,
}

impl std::fmt::Display for Origin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}:{}", self.file.display(), self.line)
    }
}

/// A `fudge` line: which clock, its settings, and where it was written.
#[derive(Clone, Debug, PartialEq)]
pub struct FudgeEntry {
    pub clock: Refclock,
    pub fudge: Fudge,
    pub origin: Origin,
}

/// `fudge 127.127.T.U ...`: reference clock calibration.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Fudge {
    pub time1: Option<f64>,
    pub time2: Option<f64>,
    pub stratum: Option<u8>,
    pub refid: Option<String>,
    pub flags: [Option<bool>; 4],
    pub minjitter: Option<f64>,
}

/// `discard`: the rate limits behind `restrict ... limited`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Discard {
    /// log2 of the minimum average interval between requests, seconds.
    pub average: u8,
    /// The minimum interval between two requests, seconds.
    pub minimum: u32,
    /// Monitor threshold (kept for `ntpq`; classic uses it to decide when
    /// to start monitoring at all).
    pub monitor: u32,
}

impl Default for Discard {
    /// Classic ntpd's defaults: average 2^3 = 8 s, minimum 2 s, monitor 3000.
    fn default() -> Discard {
        Discard {
            average: 3,
            minimum: 2,
            monitor: 3000,
        }
    }
}

/// `tinker`: clock discipline constants, in classic's units (seconds, ppm).
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Tinker {
    pub allan: Option<f64>,
    pub dispersion: Option<f64>,
    pub freq: Option<f64>,
    pub huffpuff: Option<f64>,
    pub panic: Option<f64>,
    pub step: Option<f64>,
    pub stepback: Option<f64>,
    pub stepfwd: Option<f64>,
    pub stepout: Option<f64>,
    pub tick: Option<f64>,
}

/// `tos`: selection and orphan-mode parameters.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Tos {
    pub beacon: Option<f64>,
    pub ceiling: Option<u8>,
    pub cohort: Option<bool>,
    pub floor: Option<u8>,
    pub maxclock: Option<u32>,
    pub maxdist: Option<f64>,
    pub minclock: Option<u32>,
    pub mindist: Option<f64>,
    pub minsane: Option<u32>,
    /// Orphan mode: serve at this stratum when no source is usable.
    pub orphan: Option<u8>,
    /// Seconds to wait for a source before becoming an orphan parent.
    pub orphanwait: Option<f64>,
    pub bcpollbstep: Option<u32>,
}

/// The switches of `enable`/`disable`, with classic ntpd's defaults.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SystemFlags {
    pub auth: bool,
    pub bclient: bool,
    pub calibrate: bool,
    /// Hand the phase-locked loop to the kernel (ntp_adjtime with STA_PLL).
    /// Classic ntpd does so by default; ntpbox only when ntp.conf says
    /// `enable kernel`, because its own discipline, which steers the
    /// kernel's tick and frequency, is more accurate (see engine::discipline).
    pub kernel: bool,
    pub mode7: bool,
    /// Keep the MRU list of clients (needed for rate limiting).
    pub monitor: bool,
    /// Discipline the clock at all. `disable ntp`: never touch it.
    pub ntp: bool,
    pub stats: bool,
    pub pps: bool,
}

impl Default for SystemFlags {
    fn default() -> SystemFlags {
        SystemFlags {
            auth: true,
            bclient: false,
            calibrate: false,
            kernel: false,
            mode7: false,
            monitor: true,
            ntp: true,
            stats: true,
            pps: false,
        }
    }
}

/// `interface listen|ignore|drop WHAT`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum InterfaceAction {
    Listen,
    Ignore,
    Drop,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum InterfaceMatch {
    All,
    Ipv4,
    Ipv6,
    Wildcard,
    /// An interface name such as `eth0` (a trailing `*` matches a prefix).
    Name(String),
    /// An address, or a prefix `ADDR/BITS`.
    Prefix {
        addr: IpAddr,
        bits: u8,
    },
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct InterfaceRule {
    pub action: InterfaceAction,
    pub what: InterfaceMatch,
}

/// `filegen NAME ...`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Filegen {
    pub name: String,
    pub file: Option<String>,
    pub kind: Option<String>,
    pub link: Option<bool>,
    pub enable: Option<bool>,
}

/// `mru ...`: bounds of the table of recent clients.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct MruLimits {
    pub maxdepth: Option<u32>,
    pub mindepth: Option<u32>,
    pub maxage: Option<u32>,
    pub maxmem: Option<u32>,
}

/// `driftfile FILE [TOLERANCE]`.
#[derive(Clone, Debug, PartialEq)]
pub struct Driftfile {
    pub path: PathBuf,
    pub tolerance: Option<f64>,
}

/// A line naming key IDs: its origin, directive and the IDs.
#[derive(Clone, Debug, PartialEq)]
pub struct KeyRef {
    pub origin: Origin,
    pub directive: &'static str,
    pub ids: Vec<u32>,
}

#[derive(Clone, Debug, Default, PartialEq)]
pub struct Config {
    pub associations: Vec<Association>,
    pub fudges: Vec<FudgeEntry>,
    pub restrictions: Vec<Restriction>,
    pub discard: Discard,
    pub driftfile: Option<Driftfile>,
    pub keys: Option<PathBuf>,
    /// The keys read from the keys file.
    pub keyring: Vec<Key>,
    pub trusted_keys: Vec<u32>,
    pub request_key: Option<u32>,
    pub control_key: Option<u32>,
    /// Where `trustedkey`, `requestkey` and `controlkey` name keys, checked
    /// against the keys file once everything is read (the `keys` line may
    /// come after them).
    pub key_refs: Vec<KeyRef>,
    pub statistics: Vec<String>,
    pub statsdir: Option<PathBuf>,
    pub filegens: Vec<Filegen>,
    pub logfile: Option<PathBuf>,
    pub logconfig: Vec<String>,
    pub tinker: Tinker,
    pub tos: Tos,
    pub flags: SystemFlags,
    pub interfaces: Vec<InterfaceRule>,
    pub broadcast_client: bool,
    pub multicast_clients: Vec<IpAddr>,
    pub manycast_servers: Vec<IpAddr>,
    pub leapfile: Option<PathBuf>,
    pub pidfile: Option<PathBuf>,
    pub mru: MruLimits,
    /// `port N` (ntpbox extension): the UDP port served.
    pub port: Option<u16>,
}

impl Config {
    /// The local clock driver (`server 127.127.1.0`), if configured.
    pub fn local_clock(&self) -> Option<&Association> {
        self.associations.iter().find(|a| {
            matches!(a.target, Target::Refclock(r) if r.is_local()) && !a.options.noselect
        })
    }

    /// The fudge settings of a reference clock.
    pub fn fudge(&self, clock: Refclock) -> Option<&Fudge> {
        self.fudges
            .iter()
            .rev()
            .find(|e| e.clock == clock)
            .map(|e| &e.fudge)
    }

    /// Network sources (server/peer/pool lines that are not refclocks).
    pub fn network_sources(&self) -> impl Iterator<Item = &Association> {
        self.associations
            .iter()
            .filter(|a| matches!(a.target, Target::Network { .. }))
    }
}
