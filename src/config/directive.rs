//! One ntp.conf line: the keyword picks the parser, which updates the
//! configuration or asks the loader to read another file.

use std::path::PathBuf;

use super::address;
use super::args::Args;
use super::assoc::{parse_association, parse_fudge};
use super::auth::{missing_keys, parse_single_key, parse_trustedkey};
use super::model::{AssociationKind, Config, Driftfile, FudgeEntry, KeyRef, Origin, Target};
use super::monitoring::{parse_filegen, parse_logconfig, parse_statistics};
use super::restrict::{parse_discard, parse_restrict};
use super::system::{parse_enable, parse_interface, parse_mru, parse_tinker, parse_tos};

/// What the loader must do after a line was applied.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum FollowUp {
    None,
    Include(PathBuf),
    ReadKeys(PathBuf),
}

/// Directives of classic ntpd that ntpbox accepts but does not implement:
/// each gets a warning and is ignored, as the issue asks.
const NOT_IMPLEMENTED: &[(&str, &str)] = &[
    ("crypto", "Autokey public-key authentication"),
    ("revoke", "Autokey public-key authentication"),
    ("automax", "Autokey public-key authentication"),
    ("ident", "Autokey public-key authentication"),
    ("keysdir", "Autokey public-key authentication"),
    ("setvar", "setting mode 6 system variables"),
    ("trap", "mode 6 traps"),
    ("phone", "the modem reference clock"),
    ("rlimit", "resource limits"),
    ("saveconfigdir", "saving the configuration"),
    ("calldelay", "the modem reference clock"),
    ("broadcastdelay", "broadcast mode"),
    ("ttl", "manycast"),
    ("qos", "IP QoS marking"),
    ("dscp", "IP QoS marking"),
    ("reset", "counter resets"),
    ("unconfig", "run-time configuration"),
    ("unpeer", "run-time configuration"),
    ("unrestrict", "run-time configuration"),
    ("nonvolatile", "the nonvolatile drift threshold"),
    ("leapsmearinterval", "leap smearing"),
    ("ntpsigndsocket", "MS-SNTP signing"),
    ("device", "reference clock devices"),
    ("refclock", "reference clock drivers"),
    ("nts", "Network Time Security"),
    ("ntsserver", "Network Time Security"),
    ("ntsclient", "Network Time Security"),
];

/// Applies one line's words (`words[0]` is the keyword) to `config`.
pub fn apply(
    words: &[String],
    origin: &Origin,
    config: &mut Config,
    warnings: &mut Vec<String>,
) -> Result<FollowUp, String> {
    let Some((keyword, rest)) = words.split_first() else {
        return Ok(FollowUp::None);
    };
    let keyword = keyword.as_str();
    let mut args = Args::new(keyword, rest);
    let kind = match keyword {
        "server" => Some(AssociationKind::Server),
        "peer" => Some(AssociationKind::Peer),
        "pool" => Some(AssociationKind::Pool),
        "broadcast" => Some(AssociationKind::Broadcast),
        "manycastclient" => Some(AssociationKind::ManycastClient),
        _ => None,
    };
    if let Some(kind) = kind {
        let mut assoc = parse_association(kind, &mut args, warnings)?;
        assoc.origin = origin.clone();
        add_association(assoc, config, warnings);
        return Ok(FollowUp::None);
    }
    match keyword {
        "fudge" => {
            if let Some((clock, fudge)) = parse_fudge(&mut args, warnings)? {
                config.fudges.push(FudgeEntry {
                    clock,
                    fudge,
                    origin: origin.clone(),
                });
            }
        }
        "restrict" => {
            let mut r = parse_restrict(&mut args)?;
            r.origin = origin.clone();
            config.restrictions.push(r);
        }
        "discard" => parse_discard(&mut args, &mut config.discard)?,
        "driftfile" => {
            let path = PathBuf::from(args.required("file name")?);
            let tolerance = match args.peek() {
                Some(_) => Some(args.float("tolerance")?),
                None => None,
            };
            args.finish()?;
            config.driftfile = Some(Driftfile { path, tolerance });
        }
        "includefile" => return Ok(FollowUp::Include(single_path(&mut args)?)),
        "keys" => {
            let path = single_path(&mut args)?;
            config.keys = Some(path.clone());
            return Ok(FollowUp::ReadKeys(path));
        }
        "trustedkey" | "requestkey" | "controlkey" => {
            let ids = match keyword {
                "trustedkey" => parse_trustedkey(&mut args)?,
                _ => vec![parse_single_key(&mut args)?],
            };
            let directive = match keyword {
                "trustedkey" => "trustedkey",
                "requestkey" => "requestkey",
                _ => "controlkey",
            };
            config.key_refs.push(KeyRef {
                origin: origin.clone(),
                directive,
                ids: ids.clone(),
            });
            match keyword {
                "trustedkey" => config.trusted_keys.extend(ids),
                "requestkey" => config.request_key = ids.first().copied(),
                _ => config.control_key = ids.first().copied(),
            }
        }
        "statistics" => config.statistics.extend(parse_statistics(&mut args)?),
        "statsdir" => config.statsdir = Some(single_path(&mut args)?),
        "filegen" => config.filegens.push(parse_filegen(&mut args)?),
        "logfile" => config.logfile = Some(single_path(&mut args)?),
        "logconfig" => config.logconfig.extend(parse_logconfig(&mut args)?),
        "tinker" => parse_tinker(&mut args, &mut config.tinker)?,
        "tos" => parse_tos(&mut args, &mut config.tos)?,
        "enable" => parse_enable(&mut args, true, &mut config.flags)?,
        "disable" => parse_enable(&mut args, false, &mut config.flags)?,
        "interface" | "nic" => config.interfaces.push(parse_interface(&mut args)?),
        "broadcastclient" => {
            if args.peek() == Some("novolley") {
                args.next_word();
            }
            args.finish()?;
            config.broadcast_client = true;
        }
        "multicastclient" | "manycastserver" => {
            let mut addrs: Vec<std::net::IpAddr> = Vec::new();
            while let Some(word) = args.next_word() {
                addrs
                    .push(word.parse().map_err(|_| {
                        format!("{keyword}: \"{word}\" is not a multicast address")
                    })?);
            }
            if keyword == "manycastserver" && addrs.is_empty() {
                return Err("manycastserver: missing address".into());
            }
            warnings.push(not_yet(keyword, "multicast and manycast"));
            let list = match keyword {
                "multicastclient" => &mut config.multicast_clients,
                _ => &mut config.manycast_servers,
            };
            list.extend(addrs);
        }
        "leapfile" => config.leapfile = Some(single_path(&mut args)?),
        "pidfile" => config.pidfile = Some(single_path(&mut args)?),
        "mru" => parse_mru(&mut args, &mut config.mru)?,
        "port" => {
            let word = args.required("port number")?;
            config.port = Some(address::parse_port(word).map_err(|e| format!("port: {e}"))?);
            args.finish()?;
        }
        _ => match NOT_IMPLEMENTED.iter().find(|(k, _)| *k == keyword) {
            Some((_, what)) => warnings.push(format!(
                "{keyword}: {what} is not implemented by ntpbox; line ignored"
            )),
            None => return Err(format!("unknown directive \"{keyword}\"")),
        },
    }
    Ok(FollowUp::None)
}

fn single_path(args: &mut Args) -> Result<PathBuf, String> {
    let path = args.required("file name")?;
    args.finish()?;
    Ok(PathBuf::from(path))
}

fn not_yet(keyword: &str, what: &str) -> String {
    format!("{keyword}: {what} is not implemented by ntpbox yet; line ignored")
}

fn add_association(
    assoc: super::model::Association,
    config: &mut Config,
    warnings: &mut Vec<String>,
) {
    let keyword = assoc.kind.keyword();
    match (&assoc.kind, &assoc.target) {
        (super::model::AssociationKind::Broadcast, _) => {
            warnings.push(not_yet(keyword, "broadcast server mode"));
        }
        (super::model::AssociationKind::ManycastClient, _) => {
            warnings.push(not_yet(keyword, "manycast client mode"));
        }
        (_, Target::Refclock(clock)) if !clock.is_local() => {
            warnings.push(format!(
                "server {clock}: reference clock driver {} is not implemented by ntpbox (only the local clock, 127.127.1.u); line ignored",
                clock.driver
            ));
        }
        _ => config.associations.push(assoc),
    }
}

/// Checks that hold across lines, once the whole configuration is read:
/// (where, warning) pairs.
pub fn cross_checks(config: &Config) -> Vec<(Origin, String)> {
    let mut found = Vec::new();
    // As classic ntpd complains of a trusted key it has no secret for.
    for r in &config.key_refs {
        let keys_file = config.keys.as_deref();
        if let Some(w) = missing_keys(r.directive, &r.ids, keys_file, &config.keyring) {
            found.push((r.origin.clone(), w));
        }
    }
    for entry in &config.fudges {
        let clock = entry.clock;
        let configured = config
            .associations
            .iter()
            .any(|a| a.target == Target::Refclock(clock));
        if !configured {
            found.push((
                entry.origin.clone(),
                format!("fudge {clock}: no \"server {clock}\" line configures this clock, so the fudge has no effect"),
            ));
        }
    }
    found
}
