//! `server`, `peer`, `pool`, `broadcast`, `manycastclient` and `fudge`.
//!
//! `server [-4|-6] HOST[:PORT] [prefer] [iburst] [burst] [minpoll N]
//! [maxpoll N] [key N] [version N] [noselect] [true] ...`. An address of the
//! form 127.127.TYPE.UNIT is a reference clock; type 1 is the local clock.

use super::address::{parse_host_port, refclock_of};
use super::args::Args;
use super::model::{
    Association, AssociationKind, AssociationOptions, Fudge, Host, Origin, Refclock, Target,
};
use super::restrict::family_qualifier;

/// Poll exponents classic ntpd accepts: 2^3 = 8 s to 2^17 s (36 h).
const MIN_POLL: u8 = 3;
const MAX_POLL: u8 = 17;
/// Symmetric key IDs are 1 to 65535 (classic NTP_MAXKEY).
pub const MAX_KEY_ID: u32 = 65535;
/// A reference clock's stratum: 0 to 15 (16 means unsynchronised).
const MAX_REFCLOCK_STRATUM: u8 = 15;
/// A refid is at most four ASCII characters.
const REFID_LEN: usize = 4;

pub fn parse_association(
    kind: AssociationKind,
    args: &mut Args,
    warnings: &mut Vec<String>,
) -> Result<Association, String> {
    let mut family = None;
    let mut word = args.required("address")?;
    if let Some(f) = family_qualifier(word) {
        family = Some(f);
        word = args.required("address")?;
    }
    let keyword = kind.keyword();
    let (host, port) = parse_host_port(word).map_err(|e| format!("{keyword}: {e}"))?;
    if let (Host::Ip(ip), Some(f)) = (&host, family) {
        if super::model::Family::of(*ip) != f {
            return Err(format!(
                "{keyword}: {ip} does not match the -4/-6 qualifier"
            ));
        }
    }
    let target = match refclock_of(&host) {
        Some(clock) => {
            if kind != AssociationKind::Server {
                return Err(format!(
                    "{keyword}: {clock} is a reference clock; use \"server {clock}\""
                ));
            }
            if port.is_some() {
                return Err(format!("{keyword}: a reference clock has no port"));
            }
            Target::Refclock(clock)
        }
        None => Target::Network { host, port, family },
    };
    let options = parse_options(kind, args, warnings)?;
    Ok(Association {
        kind,
        target,
        options,
        origin: Origin::default(),
    })
}

fn parse_options(
    kind: AssociationKind,
    args: &mut Args,
    warnings: &mut Vec<String>,
) -> Result<AssociationOptions, String> {
    let keyword = kind.keyword();
    let mut o = AssociationOptions::default();
    while let Some(word) = args.next_word() {
        match word {
            "prefer" => o.prefer = true,
            "iburst" => o.iburst = true,
            "burst" => o.burst = true,
            "noselect" => o.noselect = true,
            "true" => o.truechimer = true,
            "preempt" => o.preempt = true,
            "xleave" => {
                o.xleave = true;
                warnings.push(format!(
                    "{keyword} xleave: interleaved mode is not implemented; using basic mode"
                ));
            }
            "autokey" => warnings.push(format!(
                "{keyword} autokey: Autokey is not implemented by ntpbox; option ignored"
            )),
            "minpoll" => o.minpoll = Some(args.value_in("minpoll", MIN_POLL..=MAX_POLL)?),
            "maxpoll" => o.maxpoll = Some(args.value_in("maxpoll", MIN_POLL..=MAX_POLL)?),
            "key" => o.key = Some(args.value_in("key", 1..=MAX_KEY_ID)?),
            "version" => o.version = Some(args.value_in("version", 1..=4)?),
            "mode" => o.mode = Some(args.value_in("mode", 0..=u32::MAX)?),
            "ttl" => o.ttl = Some(args.value_in("ttl", 0..=255)?),
            // 4.2.8 `bias SECONDS`: a fixed offset correction. Accepted.
            "bias" => {
                args.float("bias")?;
            }
            _ => return Err(format!("{keyword}: unknown option \"{word}\"")),
        }
    }
    if let (Some(min), Some(max)) = (o.minpoll, o.maxpoll) {
        if min > max {
            return Err(format!(
                "{keyword}: minpoll {min} is greater than maxpoll {max}"
            ));
        }
    }
    Ok(o)
}

/// `fudge 127.127.T.U [time1 S] [time2 S] [stratum N] [refid ID]
/// [flag1 0|1] ... [flag4 0|1] [minjitter S]`.
/// Returns None (with a warning) for an address that is not a reference
/// clock: classic ntpd logs that and ignores the line, and the seeds have
/// such lines.
pub fn parse_fudge(
    args: &mut Args,
    warnings: &mut Vec<String>,
) -> Result<Option<(Refclock, Fudge)>, String> {
    let word = args.required("reference clock address (127.127.TYPE.UNIT)")?;
    let (host, port) = parse_host_port(word).map_err(|e| format!("fudge: {e}"))?;
    let mut fudge = Fudge::default();
    while let Some(option) = args.next_word() {
        match option {
            "time1" => fudge.time1 = Some(args.float("time1")?),
            "time2" => fudge.time2 = Some(args.float("time2")?),
            "stratum" => fudge.stratum = Some(args.value_in("stratum", 0..=MAX_REFCLOCK_STRATUM)?),
            "refid" => {
                let id = args.value_text("refid")?;
                if id.is_empty()
                    || id.len() > REFID_LEN
                    || !id.bytes().all(|b| b.is_ascii_graphic())
                {
                    return Err(format!(
                        "fudge refid: \"{id}\" is not 1 to 4 printable ASCII characters"
                    ));
                }
                fudge.refid = Some(id.to_string());
            }
            "flag1" | "flag2" | "flag3" | "flag4" => {
                let index = usize::from(option.as_bytes()[4] - b'1');
                fudge.flags[index] = Some(args.value_in::<u8>(option, 0..=1)? == 1);
            }
            "minjitter" => fudge.minjitter = Some(args.float("minjitter")?),
            _ => return Err(format!("fudge: unknown option \"{option}\"")),
        }
    }
    match refclock_of(&host) {
        Some(clock) if port.is_none() => Ok(Some((clock, fudge))),
        _ => {
            warnings.push(format!(
                "fudge {word}: not a reference clock address (127.127.TYPE.UNIT); line ignored"
            ));
            Ok(None)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::model::Family;

    fn words(line: &str) -> Vec<String> {
        line.split_whitespace().map(String::from).collect()
    }

    fn server(line: &str) -> Result<Association, String> {
        let w = words(line);
        parse_association(
            AssociationKind::Server,
            &mut Args::new("server", &w),
            &mut Vec::new(),
        )
    }

    #[test]
    fn servers_with_options() {
        let a = server("0.cn.pool.ntp.org prefer").unwrap();
        assert!(a.options.prefer);
        assert_eq!(
            a.target,
            Target::Network {
                host: Host::Name("0.cn.pool.ntp.org".into()),
                port: None,
                family: None
            }
        );
        let b = server("-6 [::1]:11123 iburst minpoll 4 maxpoll 6 key 7 version 3 noselect true")
            .unwrap();
        assert_eq!(b.options.minpoll, Some(4));
        assert_eq!(b.options.version, Some(3));
        assert!(b.options.truechimer && b.options.noselect && b.options.iburst);
        assert!(matches!(
            b.target,
            Target::Network {
                port: Some(11123),
                family: Some(Family::V6),
                ..
            }
        ));
        let local = server("127.127.1.0").unwrap();
        assert_eq!(
            local.target,
            Target::Refclock(Refclock { driver: 1, unit: 0 })
        );
    }

    #[test]
    fn server_errors() {
        assert_eq!(server("").unwrap_err(), "server: missing address");
        assert_eq!(
            server("a.b minpoll 2").unwrap_err(),
            "server minpoll: \"2\" is not a number from 3 to 17"
        );
        assert_eq!(
            server("a.b prefre").unwrap_err(),
            "server: unknown option \"prefre\""
        );
        assert!(server("a.b minpoll 8 maxpoll 6")
            .unwrap_err()
            .contains("greater"));
        assert!(server("a.b version 5").is_err());
        assert!(server("-4 ::1").is_err());
        let w = words("127.127.1.0");
        assert!(parse_association(
            AssociationKind::Pool,
            &mut Args::new("pool", &w),
            &mut Vec::new()
        )
        .is_err());
    }

    #[test]
    fn fudge_lines() {
        let w = words("127.127.1.0 stratum 10");
        let (clock, f) = parse_fudge(&mut Args::new("fudge", &w), &mut Vec::new())
            .unwrap()
            .unwrap();
        assert!(clock.is_local());
        assert_eq!(f.stratum, Some(10));
        let mut warnings = Vec::new();
        let w = words("192.168.2.193 stratum 10");
        assert_eq!(
            parse_fudge(&mut Args::new("fudge", &w), &mut warnings).unwrap(),
            None
        );
        assert_eq!(warnings.len(), 1);
        let w = words("127.127.1.0 stratum 16");
        assert!(parse_fudge(&mut Args::new("fudge", &w), &mut Vec::new()).is_err());
        let w = words("127.127.1.0 refid TOOLONG");
        assert!(parse_fudge(&mut Args::new("fudge", &w), &mut Vec::new()).is_err());
        let w = words("127.127.1.0 stratum");
        assert!(parse_fudge(&mut Args::new("fudge", &w), &mut Vec::new()).is_err());
    }
}
