//! The state ntpq keeps between commands: the open host, the association
//! list of the last `associations`, the variable list of `addvars`, the
//! output mode, and where output goes.

use std::io::{self, Write};

use super::auth::{signer, AuthSettings};
use super::host::{Family, HostSpec};
use super::names::Names;
use super::session::{OpenError, QueryError, Response, Session};
use crate::proto::control::opcode;
use crate::proto::status::PeerStatus;

/// One entry of the association list (READSTAT).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Association {
    pub id: u16,
    pub status: u16,
}

impl Association {
    pub fn peer_status(self) -> PeerStatus {
        PeerStatus::from_word(self.status)
    }
}

pub struct Shell {
    pub session: Option<Session>,
    pub family: Family,
    pub names: Names,
    /// `-w`: long remote names get a line of their own.
    pub wide: bool,
    /// `raw`/`cooked`.
    pub raw: bool,
    /// `-d` count.
    pub debug: u32,
    /// The host arguments (for the width of the server column).
    pub hosts: Vec<HostSpec>,
    /// The last association list, sorted by ID (for `&N`).
    pub associations: Vec<Association>,
    /// `addvars` list: names with optional values.
    pub varlist: Vec<(String, Option<String>)>,
    pub auth: AuthSettings,
    /// Reading commands at the `ntpq> ` prompt (`:config` points at
    /// syntax errors under the typed line).
    pub interactive: bool,
    /// Where command output goes (stdout, or a `> file` redirection).
    pub out: Box<dyn Write>,
    /// Set by `quit`.
    pub quit: bool,
}

impl Shell {
    pub fn new(numeric: bool, wide: bool, debug: u32, family: Family) -> Shell {
        Shell {
            session: None,
            family,
            names: Names::new(numeric),
            wide,
            raw: false,
            debug,
            hosts: Vec::new(),
            associations: Vec::new(),
            varlist: Vec::new(),
            auth: AuthSettings::default(),
            interactive: false,
            out: Box::new(io::BufWriter::new(io::stdout())),
            quit: false,
        }
    }

    /// Whether several hosts were named (then output says which is which).
    pub fn many_hosts(&self) -> bool {
        self.hosts.len() > 1
    }

    /// The current host's name, as messages give it.
    pub fn host_name(&self) -> String {
        self.session
            .as_ref()
            .map_or_else(String::new, |s| s.name.clone())
    }

    /// Opens HOST, closing any host open before. Prints why not and
    /// returns false on failure, as ntpq's openhost does.
    pub fn open_host(&mut self, spec: &HostSpec) -> bool {
        match Session::open(spec, self.family) {
            Ok(mut session) => {
                session.debug = self.debug;
                if let Some(old) = &self.session {
                    session.timeout = old.timeout;
                    session.version = old.version;
                }
                self.session = Some(session);
                self.associations.clear();
                true
            }
            Err(OpenError::Host(e)) => {
                self.flush();
                eprintln!("{e}");
                false
            }
            Err(OpenError::Socket(e)) => {
                self.flush();
                eprintln!("ntpq: socket: {}", super::session::words(&e));
                false
            }
        }
    }

    /// A query that prints ntpq's `***` line on failure (doquery). Signed
    /// only after `authenticate yes`.
    pub fn query(&mut self, op: u8, association: u16, data: &[u8]) -> Option<Response> {
        let sign = self.auth.always;
        self.send(op, association, data, sign)
            .map_err(|e| self.report(&e, association))
            .ok()
    }

    /// A request ntpd takes only signed with its control key (writes,
    /// configuration, the ordered lists); prints why on failure.
    pub fn query_signed(&mut self, op: u8, association: u16, data: &[u8]) -> Option<Response> {
        self.send(op, association, data, true)
            .map_err(|e| self.report(&e, association))
            .ok()
    }

    /// A query whose failure the caller reports (doqueryex quiet).
    pub fn query_quietly(
        &mut self,
        op: u8,
        association: u16,
        data: &[u8],
    ) -> Result<Response, QueryError> {
        let sign = self.auth.always;
        self.send(op, association, data, sign)
    }

    fn send(
        &mut self,
        op: u8,
        association: u16,
        data: &[u8],
        sign: bool,
    ) -> Result<Response, QueryError> {
        self.flush();
        if self.session.is_none() {
            eprintln!("***No host open, use `host' command");
            return Err(QueryError::Io);
        }
        let signer = if sign {
            // The messages of a missing key are printed by `signer`.
            Some(signer(&mut self.auth).ok_or(QueryError::Io)?)
        } else {
            None
        };
        let session = self.session.as_mut().ok_or(QueryError::Io)?;
        session.query(op, association, data, signer.as_ref())
    }

    /// Prints the `***` line for a failed query.
    pub fn report(&mut self, e: &QueryError, association: u16) {
        if let Some(line) = e.describe(association) {
            self.flush();
            let prefix = if self.many_hosts() {
                format!("server={} ", self.host_name())
            } else {
                String::new()
            };
            eprintln!("{prefix}{line}");
        }
    }

    /// Fetches the association list (READSTAT) into `associations`.
    /// Prints what ntpq prints when there is none; false then.
    pub fn fetch_associations(&mut self) -> bool {
        let Some(r) = self.query(opcode::READSTAT, 0, &[]) else {
            return false;
        };
        let server = if self.many_hosts() {
            format!("server={} ", self.host_name())
        } else {
            String::new()
        };
        if r.data.is_empty() {
            self.say(&format!("{server}No association ID's returned\n"));
            return false;
        }
        if r.data.len() % 4 != 0 {
            self.flush();
            eprintln!(
                "{server}***Server returned {} octets, should be multiple of 4",
                r.data.len()
            );
            return false;
        }
        let mut list: Vec<Association> = r
            .data
            .chunks_exact(4)
            .map(|c| Association {
                id: u16::from_be_bytes([c[0], c[1]]),
                status: u16::from_be_bytes([c[2], c[3]]),
            })
            .collect();
        list.sort_by_key(|a| a.id);
        if self.debug > 0 {
            eprintln!("{} associations total", list.len());
        }
        self.associations = list;
        true
    }

    /// Writes command output.
    pub fn say(&mut self, text: &str) {
        let _ = self.out.write_all(text.as_bytes());
    }

    /// Flushes command output (before anything goes to stderr, so that a
    /// terminal shows both in order).
    pub fn flush(&mut self) {
        let _ = self.out.flush();
    }

    /// Prints an error line on stderr, after the output so far.
    pub fn error(&mut self, text: &str) {
        self.flush();
        eprintln!("{text}");
    }
}
