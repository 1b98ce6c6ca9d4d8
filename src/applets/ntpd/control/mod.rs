//! Mode 6 control messages (ntpq, ntpstat): the daemon's side.
//!
//! A request is decoded (`reply`), its source admitted or not (`policy`:
//! loopback always, remote clients only when a restrict line names them,
//! and then within a byte budget), and answered by opcode:
//! * READSTAT: the association list with peer status words (`peer`);
//! * READVAR: the system variables and counters at association 0
//!   (`system`, `stats`), a peer's variables at its association ID;
//! * READCLOCK: a reference clock's variables (`clock`);
//! * REQ_NONCE and READ_MRU: the recent-client list, behind a nonce that
//!   proves the client's address (`nonce`, `mru`);
//! * WRITEVAR, WRITECLOCK, CONFIGURE, SAVECONFIG and READ_ORDLIST_A need
//!   a MAC by the `controlkey`; without one they are refused with
//!   CERR_PERMISSION. With one: `leap` at association 0 is writable,
//!   nothing else (CERR_PERMISSION, as classic for read-only variables);
//!   CONFIGURE is answered with a line of text saying that configuration
//!   is not changed at run time (classic answers a refused configuration
//!   in text too, so both ntpqs print it); READ_ORDLIST_A gets the socket
//!   list or the restrict table (`ordlist`); SAVECONFIG is not served
//!   (CERR_BADOP);
//! * anything else (traps included) is CERR_BADOP.
//!
//! Authentication is classic's and NTPsec's: a request whose MAC verifies
//! with any trusted key is authenticated, and every datagram of its
//! answer (errors too) is signed with that key, so that ntpq (ntpsec's
//! checks the MAC of every answer when it has a keys file) can trust it.
//! Only the control key may write. A MAC that does not verify changes
//! nothing: the answer is the unauthenticated one, unsigned.

mod clock;
mod format;
mod mru;
mod nonce;
mod ordlist;
mod peer;
mod policy;
mod reply;
mod stats;
mod system;
mod vars;

#[cfg(test)]
mod tests;

use std::net::SocketAddr;

use super::engine::View;
use super::server::Responder;
use super::time;
use crate::auth::{Keyring, KEY_ID_LEN};
use crate::config::{Config, RestrictFlags};
use crate::engine::{PeerKind, SystemVars};
use crate::proto::control::{error_code, opcode, ControlMessage, CONTROL_HEADER_LEN};
use crate::proto::{MacField, NtpTimestamp, UnixTime};

use self::clock::Clocks;
use self::nonce::Nonces;
pub use self::ordlist::Interface;
use self::policy::{Admission, Explicit, RateLimit};
use self::reply::Response;
use self::system::HostInfo;

/// Signed responses are padded to 8 bytes before the MAC.
const MAC_ALIGN: usize = 8;
/// The answer to an authenticated CONFIGURE: ntpbox ntpd reads its
/// configuration from ntp.conf only. Text ends with CR LF, as classic's.
const NO_RUNTIME_CONFIG: &[u8] =
    b"runtime configuration is not supported: edit ntp.conf and restart ntpd\r\n";

/// The mode 6 server: its state (nonces, counters) between requests.
pub struct Control {
    host: HostInfo,
    clocks: Clocks,
    explicit: Explicit,
    rate: RateLimit,
    nonces: Nonces,
    /// When serving started, on both clocks: uptime, and the MRU list's
    /// monotonic times as wall-clock timestamps.
    base: mru::TimeBase,
    keyring: Keyring,
    control_key: Option<u32>,
    /// Mode 6 requests received (`ss_numctlreq`).
    requests: u64,
    /// Authenticated writes for the loop to carry out on the engine.
    writes: Vec<Write>,
}

/// A change an authenticated request asked for, for the loop to carry out
/// (or, for runtime configuration, to log as refused).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Write {
    /// `leap=N` at association 0: the leap warning to advertise.
    Leap(crate::proto::Leap),
    /// A CONFIGURE (`ntpq :config`) signed with the control key: refused,
    /// and worth a line in the log, since the administrator expected a
    /// change.
    ConfigureRefused,
}

/// What `Control::respond` may read besides the engine's variables.
pub struct Context<'a> {
    /// The address the request came from and the one it was sent to.
    pub from: SocketAddr,
    pub to: SocketAddr,
    /// The clock reading when the request arrived.
    pub now: UnixTime,
    pub view: &'a dyn View,
    /// Request counters, the MRU list and the access table.
    pub server: &'a Responder,
    /// The open sockets and their counters, in the log's numbering.
    pub interfaces: &'a [Interface],
}

/// What one request gets.
enum Outcome {
    /// These datagrams (text, binary or an error).
    Reply(Vec<Vec<u8>>),
    /// Nothing at all (a READ_MRU without a valid nonce).
    Silence,
}

impl Control {
    pub fn new(config: &Config) -> Control {
        Control::with_base(
            config,
            mru::TimeBase {
                mono: time::monotonic(),
                wall: time::realtime(),
            },
            Nonces::new(),
        )
    }

    fn with_base(config: &Config, base: mru::TimeBase, nonces: Nonces) -> Control {
        // A broken keys file was reported when the daemon loaded it; here
        // it only means no request can be authenticated.
        let keyring =
            Keyring::from_config(&config.keyring, &config.trusted_keys).unwrap_or_default();
        Control {
            host: HostInfo::of_this_machine(),
            clocks: Clocks::from_config(config),
            explicit: Explicit::from_restrictions(&config.restrictions),
            rate: RateLimit::new(),
            nonces,
            base,
            keyring,
            control_key: config.control_key,
            requests: 0,
            writes: Vec::new(),
        }
    }

    /// Answers one mode 6 request: each reply datagram is pushed on `out`.
    pub fn respond(&mut self, request: &[u8], cx: &Context<'_>, out: &mut Vec<Vec<u8>>) {
        self.respond_at(request, cx, time::monotonic(), out);
    }

    /// `respond` at monotonic time `mono` (tests give it).
    fn respond_at(&mut self, request: &[u8], cx: &Context<'_>, mono: f64, out: &mut Vec<Vec<u8>>) {
        let Some(msg) = reply::decode_request(request) else {
            return;
        };
        self.requests += 1;
        let admission = self.explicit.admission(cx.from.ip(), cx.from.port());
        if admission == Admission::Refused {
            return;
        }
        let key = self.authenticated(request, &msg, cx.from);
        // Signed with the control key: the request may write.
        let control = key.is_some() && key == self.control_key;
        let mut datagrams = match self.answer(&msg, control, cx, mono) {
            Outcome::Reply(d) => d,
            Outcome::Silence => return,
        };
        if let Some(key_id) = key {
            for d in &mut datagrams {
                self.sign(key_id, d);
            }
        }
        if admission == Admission::Limited {
            let bytes = datagrams.iter().map(Vec::len).sum();
            if !self.rate.allow(cx.from.ip(), bytes, mono) {
                return;
            }
        }
        out.extend(datagrams);
    }

    /// The ID of the trusted key whose MAC the request carries, when the
    /// MAC verifies.
    fn authenticated(
        &self,
        bytes: &[u8],
        msg: &ControlMessage<'_>,
        from: SocketAddr,
    ) -> Option<u32> {
        // Without a MAC field where the decoder looks, there is none.
        let Some(MacField::Mac { .. }) = msg.mac else {
            return None;
        };
        // The MAC covers everything before its key ID. Every ntpq pads the
        // data to 8 bytes before it; a sender that padded to 4 puts it 4
        // bytes earlier, where a 20-byte SHA1 MAC looks, from the 8-byte
        // boundary, like a 16-byte one: both places are tried.
        let data_end = CONTROL_HEADER_LEN + msg.data.len();
        let after_8 = data_end.next_multiple_of(8);
        let after_4 = data_end.next_multiple_of(4);
        let starts = std::iter::once(after_8).chain((after_4 != after_8).then_some(after_4));
        starts.into_iter().find_map(|at| {
            let key_id = u32::from_be_bytes(bytes.get(at..at + KEY_ID_LEN)?.try_into().ok()?);
            let mac = bytes.get(at + KEY_ID_LEN..)?;
            self.keyring
                .verify_from(from.ip(), &bytes[..at], key_id, mac)
                .is_authentic()
                .then_some(key_id)
        })
    }

    /// Pads a response datagram to 8 bytes and appends key ID and MAC.
    fn sign(&self, key_id: u32, datagram: &mut Vec<u8>) {
        datagram.resize(datagram.len().next_multiple_of(MAC_ALIGN), 0);
        let covered = datagram.clone();
        // The key verified the request a moment ago, so it exists.
        let _ = self.keyring.sign(key_id, &covered, datagram);
    }

    fn answer(
        &mut self,
        msg: &ControlMessage<'_>,
        control: bool,
        cx: &Context<'_>,
        mono: f64,
    ) -> Outcome {
        let system = cx.view.system_vars();
        let response = Response::new(msg, system.leap);
        let result = match msg.opcode {
            opcode::READSTAT => self.read_status(msg, &system, cx, &response),
            opcode::READVAR => self.read_variables(msg, &system, cx, mono, &response),
            opcode::READCLOCK => self.read_clock(msg, cx, &response),
            opcode::REQ_NONCE => Ok(self.issue_nonce(cx, &response)),
            opcode::READ_MRU => return self.read_mru(msg, cx, mono, &response),
            opcode::WRITEVAR if control => self.write_variables(msg, &response),
            opcode::CONFIGURE if control => {
                self.writes.push(Write::ConfigureRefused);
                Ok(response.text(0, 0, NO_RUNTIME_CONFIG))
            }
            opcode::READ_ORDLIST_A if control => self.read_ordlist(msg, cx, mono, &response),
            opcode::WRITEVAR
            | opcode::WRITECLOCK
            | opcode::CONFIGURE
            | opcode::SAVECONFIG
            | opcode::READ_ORDLIST_A
                if !control =>
            {
                Err(error_code::PERMISSION)
            }
            // Clocks are not writable either.
            opcode::WRITECLOCK => Err(error_code::PERMISSION),
            _ => Err(error_code::BADOP),
        };
        Outcome::Reply(result.unwrap_or_else(|code| vec![response.error(code)]))
    }

    /// READSTAT: at association 0 the list of (association ID, status);
    /// at a peer, its status and all its variables (as classic).
    fn read_status(
        &self,
        msg: &ControlMessage<'_>,
        system: &SystemVars,
        cx: &Context<'_>,
        response: &Response<'_>,
    ) -> Result<Vec<Vec<u8>>, u16> {
        let peers = cx.view.peer_vars();
        let status = system.status.word();
        if msg.association_id == 0 {
            return Ok(response.binary(status, 0, &peer::status_list(&peers)));
        }
        let p = find_peer(&peers, msg.association_id)?;
        let text = vars::render(&peer::PeerSet { peer: p }, &[])?;
        Ok(response.text(p.status.word(), p.assoc_id, &text))
    }

    /// READVAR: the system variables and counters, or a peer's variables.
    fn read_variables(
        &self,
        msg: &ControlMessage<'_>,
        system: &SystemVars,
        cx: &Context<'_>,
        mono: f64,
        response: &Response<'_>,
    ) -> Result<Vec<Vec<u8>>, u16> {
        let names = vars::requested_names(msg.data);
        if msg.association_id != 0 {
            let peers = cx.view.peer_vars();
            let p = find_peer(&peers, msg.association_id)?;
            let text = vars::render(&peer::PeerSet { peer: p }, &names)?;
            return Ok(response.text(p.status.word(), p.assoc_id, &text));
        }
        let sys = system::SystemSet {
            vars: system,
            host: &self.host,
            now: cx.now,
            refclock_peer: system.peer != 0
                && cx
                    .view
                    .peer_vars()
                    .iter()
                    .any(|p| p.assoc_id == system.peer && p.kind == PeerKind::Local),
        };
        let mru = cx.server.mru();
        let counters = stats::StatsSet {
            counters: &cx.server.counters,
            mru,
            uptime: mono - self.base.mono,
            control_requests: self.requests,
            oldest_age: mru.and_then(|m| m.iter().last()).map(|e| mono - e.last),
        };
        let text = vars::render(&vars::Chain(&sys, &counters), &names)?;
        Ok(response.text(system.status.word(), 0, &text))
    }

    /// READ_ORDLIST_A signed with the control key: the socket list or the
    /// restrict table.
    fn read_ordlist(
        &self,
        msg: &ControlMessage<'_>,
        cx: &Context<'_>,
        mono: f64,
        response: &Response<'_>,
    ) -> Result<Vec<Vec<u8>>, u16> {
        let text = match ordlist::which(msg.data)? {
            ordlist::List::Interfaces => {
                ordlist::interfaces(cx.interfaces, &cx.view.peer_vars(), mono)
            }
            ordlist::List::Restrictions => ordlist::restrictions(cx.server.access().rows()),
        };
        Ok(response.text(0, 0, &text))
    }

    /// READCLOCK: the variables of a reference clock association, or at
    /// association 0 of the system peer's clock (else the first clock).
    fn read_clock(
        &self,
        msg: &ControlMessage<'_>,
        cx: &Context<'_>,
        response: &Response<'_>,
    ) -> Result<Vec<Vec<u8>>, u16> {
        let peers = cx.view.peer_vars();
        let is_clock = |p: &&crate::engine::PeerVars| peer::refclock_of(p.srcadr).is_some();
        let p = if msg.association_id == 0 {
            let sys_peer = cx.view.system_vars().peer;
            peers
                .iter()
                .filter(is_clock)
                .find(|p| p.assoc_id == sys_peer)
                .or_else(|| peers.iter().find(is_clock))
        } else {
            peers
                .iter()
                .find(|p| p.assoc_id == msg.association_id)
                .filter(is_clock)
        }
        .ok_or(error_code::BADASSOC)?;
        let (driver, unit) = peer::refclock_of(p.srcadr).ok_or(error_code::BADASSOC)?;
        let set = self.clocks.get(driver, unit).ok_or(error_code::BADASSOC)?;
        let text = vars::render(&set, &vars::requested_names(msg.data))?;
        Ok(response.text(clock::CLOCK_STATUS, p.assoc_id, &text))
    }

    /// REQ_NONCE: `nonce=...` for this client's address and port.
    fn issue_nonce(&self, cx: &Context<'_>, response: &Response<'_>) -> Vec<Vec<u8>> {
        let nonce = self.nonces.issue(cx.from, NtpTimestamp::from_unix(cx.now));
        let text = format!("nonce={nonce}\r\n");
        response.text(0, 0, text.as_bytes())
    }

    /// READ_MRU: silence without a valid nonce (as classic: an answer would
    /// go to an address that may be forged), CERR_PERMISSION under
    /// `restrict ... nomrulist`.
    fn read_mru(
        &self,
        msg: &ControlMessage<'_>,
        cx: &Context<'_>,
        mono: f64,
        response: &Response<'_>,
    ) -> Outcome {
        let now = NtpTimestamp::from_unix(cx.now);
        let query = match mru::Query::parse(msg.data) {
            Ok(q) => q,
            Err(code) => return self.after_nonce(msg.data, cx, now, response.error(code)),
        };
        let Some(nonce) = &query.nonce else {
            return Outcome::Silence;
        };
        if self.nonces.check(nonce, cx.from, now).is_err() {
            return Outcome::Silence;
        }
        let flags = cx.server.access().lookup(cx.from.ip(), cx.from.port());
        if flags.contains(RestrictFlags::NOMRULIST) {
            return Outcome::Reply(vec![response.error(error_code::PERMISSION)]);
        }
        let next_nonce = self.nonces.issue(cx.from, now);
        let moment = mru::Moment {
            mru: cx.server.mru(),
            base: self.base,
            mono_now: mono,
            next_nonce: &next_nonce,
        };
        Outcome::Reply(match mru::answer(&query, &moment) {
            Ok(text) => response.text(0, 0, &text),
            Err(code) => vec![response.error(code)],
        })
    }

    /// A badly formed READ_MRU gets its error only if it carries a valid
    /// nonce; otherwise silence, like every unproven READ_MRU.
    fn after_nonce(
        &self,
        data: &[u8],
        cx: &Context<'_>,
        now: NtpTimestamp,
        error: Vec<u8>,
    ) -> Outcome {
        let valid = crate::proto::varlist::parse(data).iter().any(|v| {
            v.name == "nonce"
                && v.value
                    .as_deref()
                    .is_some_and(|n| self.nonces.check(n, cx.from, now).is_ok())
        });
        if valid {
            Outcome::Reply(vec![error])
        } else {
            Outcome::Silence
        }
    }
}

impl Control {
    /// The writes authenticated requests asked for since the last call.
    pub fn take_writes(&mut self) -> Vec<Write> {
        std::mem::take(&mut self.writes)
    }

    /// An authenticated WRITEVAR. Only `leap` at association 0 is
    /// writable, as in classic ntpd (0: none, 1: insert, 2: delete a second
    /// at the end of the month's last day); the answer is an empty response.
    fn write_variables(
        &mut self,
        msg: &ControlMessage<'_>,
        response: &Response<'_>,
    ) -> Result<Vec<Vec<u8>>, u16> {
        let vars = crate::proto::varlist::parse(msg.data);
        let [var] = vars.as_slice() else {
            return Err(write_refusal(msg));
        };
        if msg.association_id != 0 || var.name != "leap" {
            return Err(write_refusal(msg));
        }
        let leap = match var.value.as_deref().map(str::trim) {
            Some("0" | "00") => crate::proto::Leap::NoWarning,
            Some("1" | "01") => crate::proto::Leap::AddSecond,
            Some("2" | "10") => crate::proto::Leap::DeleteSecond,
            _ => return Err(error_code::BADVALUE),
        };
        self.writes.push(Write::Leap(leap));
        Ok(response.text(0, 0, b""))
    }
}

/// An authenticated WRITEVAR: every variable here is read-only, so a known
/// name is CERR_PERMISSION and an unknown one CERR_UNKNOWNVAR (classic's
/// order of checks); only association 0 has writable variables in classic.
fn write_refusal(msg: &ControlMessage<'_>) -> u16 {
    if msg.association_id != 0 {
        return error_code::PERMISSION;
    }
    let known = |name: &str| system::DEFAULTS.contains(&name);
    if vars::requested_names(msg.data).iter().all(|n| known(n)) {
        error_code::PERMISSION
    } else {
        error_code::UNKNOWNVAR
    }
}

fn find_peer(peers: &[crate::engine::PeerVars], id: u16) -> Result<&crate::engine::PeerVars, u16> {
    peers
        .iter()
        .find(|p| p.assoc_id == id)
        .ok_or(error_code::BADASSOC)
}
