//! System-wide directives: `tinker`, `tos`, `enable`/`disable`, `mru` and
//! `interface`.

use std::net::IpAddr;

use super::address::{family_bits, prefix_len};
use super::args::Args;
use super::model::{
    Family, InterfaceAction, InterfaceMatch, InterfaceRule, MruLimits, SystemFlags, Tinker, Tos,
};

/// The highest stratum a server can have (16 is "unsynchronised").
const MAX_STRATUM: u8 = 15;

pub fn parse_tinker(args: &mut Args, t: &mut Tinker) -> Result<(), String> {
    if args.is_empty() {
        return Err("tinker: expected at least one of allan, dispersion, freq, huffpuff, panic, step, stepback, stepfwd, stepout, tick".into());
    }
    while let Some(word) = args.next_word() {
        let value = Some(match word {
            "allan" | "dispersion" | "freq" | "huffpuff" | "panic" | "step" | "stepback"
            | "stepfwd" | "stepout" | "tick" => args.float(word)?,
            _ => return Err(args.unknown(word)),
        });
        let slot = match word {
            "allan" => &mut t.allan,
            "dispersion" => &mut t.dispersion,
            "freq" => &mut t.freq,
            "huffpuff" => &mut t.huffpuff,
            "panic" => &mut t.panic,
            "step" => &mut t.step,
            "stepback" => &mut t.stepback,
            "stepfwd" => &mut t.stepfwd,
            "stepout" => &mut t.stepout,
            _ => &mut t.tick,
        };
        // The frequency is signed (ppm, like the drift file); the rest are
        // thresholds and times.
        if word != "freq" && value.is_some_and(|v| v < 0.0) {
            return Err(format!("tinker {word}: must not be negative"));
        }
        *slot = value;
    }
    Ok(())
}

pub fn parse_tos(args: &mut Args, t: &mut Tos) -> Result<(), String> {
    if args.is_empty() {
        return Err(
            "tos: expected at least one option (orphan, minclock, minsane, maxdist, ...)".into(),
        );
    }
    while let Some(word) = args.next_word() {
        match word {
            "beacon" => t.beacon = Some(args.float(word)?),
            "ceiling" => t.ceiling = Some(args.value_in(word, 1..=MAX_STRATUM)?),
            "cohort" => t.cohort = Some(args.value_in::<u8>(word, 0..=1)? == 1),
            "floor" => t.floor = Some(args.value_in(word, 0..=MAX_STRATUM)?),
            "maxclock" => t.maxclock = Some(args.value_in(word, 1..=u32::MAX)?),
            "maxdist" => t.maxdist = Some(positive(args, word)?),
            "minclock" => t.minclock = Some(args.value_in(word, 1..=u32::MAX)?),
            "mindist" => t.mindist = Some(positive(args, word)?),
            "minsane" => t.minsane = Some(args.value_in(word, 0..=u32::MAX)?),
            "orphan" => t.orphan = Some(args.value_in(word, 1..=MAX_STRATUM)?),
            "orphanwait" => t.orphanwait = Some(positive(args, word)?),
            "bcpollbstep" => t.bcpollbstep = Some(args.value_in(word, 0..=4)?),
            // 4.2.8 `basedate YYYY-MM-DD`: the era pivot; ntpbox pivots on
            // its build-independent rule, so the value is checked only.
            "basedate" => {
                let d = args.value_text(word)?;
                if !is_iso_date(d) {
                    return Err(format!("tos basedate: \"{d}\" is not a date YYYY-MM-DD"));
                }
            }
            _ => return Err(args.unknown(word)),
        }
    }
    Ok(())
}

fn positive(args: &mut Args, word: &str) -> Result<f64, String> {
    let v = args.float(word)?;
    if v < 0.0 {
        return Err(format!("{} {word}: must not be negative", args.directive()));
    }
    Ok(v)
}

fn is_iso_date(d: &str) -> bool {
    let b = d.as_bytes();
    b.len() == 10
        && b[4] == b'-'
        && b[7] == b'-'
        && b.iter()
            .enumerate()
            .all(|(i, c)| i == 4 || i == 7 || c.is_ascii_digit())
}

/// `enable|disable FLAG ...`.
pub fn parse_enable(args: &mut Args, on: bool, flags: &mut SystemFlags) -> Result<(), String> {
    if args.is_empty() {
        return Err(format!(
            "{}: expected a flag (ntp, kernel, monitor, stats, ...)",
            args.directive()
        ));
    }
    while let Some(word) = args.next_word() {
        match word {
            "auth" => flags.auth = on,
            "bclient" => flags.bclient = on,
            "calibrate" => flags.calibrate = on,
            "kernel" => flags.kernel = on,
            "mode7" => flags.mode7 = on,
            "monitor" => flags.monitor = on,
            "ntp" => flags.ntp = on,
            "stats" => flags.stats = on,
            "pps" => flags.pps = on,
            // 4.2.8p11 switches about when to drop symmetric associations
            // after authentication failures; no symmetric mode here yet.
            "peer_clear_digest_early"
            | "unpeer_crypto_early"
            | "unpeer_crypto_nak_early"
            | "unpeer_digest_early" => {}
            _ => return Err(format!("{}: unknown flag \"{word}\"", args.directive())),
        }
    }
    Ok(())
}

pub fn parse_mru(args: &mut Args, m: &mut MruLimits) -> Result<(), String> {
    if args.is_empty() {
        return Err("mru: expected maxdepth, mindepth, maxage, maxmem, ...".into());
    }
    while let Some(word) = args.next_word() {
        let value = args.value_in(word, 0..=u32::MAX)?;
        match word {
            "maxdepth" => m.maxdepth = Some(value),
            "mindepth" => m.mindepth = Some(value),
            "maxage" => m.maxage = Some(value),
            "maxmem" => m.maxmem = Some(value),
            // Allocation granularity: ntpbox allocates the table once.
            "initalloc" | "initmem" | "incalloc" | "incmem" => {}
            _ => return Err(args.unknown(word)),
        }
    }
    Ok(())
}

/// `interface|nic listen|ignore|drop all|ipv4|ipv6|wildcard|NAME|ADDR[/BITS]`.
pub fn parse_interface(args: &mut Args) -> Result<InterfaceRule, String> {
    let directive = args.directive();
    let action = match args.required("action (listen, ignore or drop)")? {
        "listen" => InterfaceAction::Listen,
        "ignore" => InterfaceAction::Ignore,
        "drop" => InterfaceAction::Drop,
        other => {
            return Err(format!(
                "{directive}: \"{other}\" is not listen, ignore or drop"
            ))
        }
    };
    let word = args.required("interface (all, ipv4, ipv6, wildcard, a name or an address)")?;
    let what = match word {
        "all" => InterfaceMatch::All,
        "ipv4" => InterfaceMatch::Ipv4,
        "ipv6" => InterfaceMatch::Ipv6,
        "wildcard" => InterfaceMatch::Wildcard,
        _ => parse_interface_word(directive, word)?,
    };
    args.finish()?;
    Ok(InterfaceRule { action, what })
}

fn parse_interface_word(directive: &str, word: &str) -> Result<InterfaceMatch, String> {
    let (addr_word, bits) = match word.split_once('/') {
        Some((a, b)) => (a, Some(b)),
        None => (word, None),
    };
    if let Ok(addr) = addr_word.parse::<IpAddr>() {
        let max = family_bits(Family::of(addr));
        let bits = prefix_len(directive, bits, max)?;
        return Ok(InterfaceMatch::Prefix { addr, bits });
    }
    let name_ok = !word.is_empty()
        && word.len() <= libc::IFNAMSIZ
        && word
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-_.:@*".contains(&b));
    if bits.is_some() || !name_ok {
        return Err(format!(
            "{directive}: \"{word}\" is not an interface name or address"
        ));
    }
    Ok(InterfaceMatch::Name(word.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn words(line: &str) -> Vec<String> {
        line.split_whitespace().map(String::from).collect()
    }

    #[test]
    fn tinker_and_tos() {
        let mut t = Tinker::default();
        parse_tinker(
            &mut Args::new("tinker", &words("panic 0 step 0.5 stepout 900")),
            &mut t,
        )
        .unwrap();
        assert_eq!(
            (t.panic, t.step, t.stepout),
            (Some(0.0), Some(0.5), Some(900.0))
        );
        assert!(parse_tinker(&mut Args::new("tinker", &words("stpe 1")), &mut t).is_err());
        assert!(parse_tinker(&mut Args::new("tinker", &words("step")), &mut t).is_err());
        let mut tos = Tos::default();
        parse_tos(
            &mut Args::new(
                "tos",
                &words("orphan 10 orphanwait 0 minclock 2 minsane 1 maxdist 1.5"),
            ),
            &mut tos,
        )
        .unwrap();
        assert_eq!(tos.orphan, Some(10));
        assert_eq!(tos.maxdist, Some(1.5));
        assert!(parse_tos(&mut Args::new("tos", &words("orphan 16")), &mut tos).is_err());
    }

    #[test]
    fn enable_disable_and_interfaces() {
        let mut f = SystemFlags::default();
        parse_enable(
            &mut Args::new("disable", &words("ntp kernel")),
            false,
            &mut f,
        )
        .unwrap();
        assert!(!f.ntp && !f.kernel && f.monitor);
        assert!(parse_enable(&mut Args::new("disable", &words("ntpd")), false, &mut f).is_err());
        let r = parse_interface(&mut Args::new("interface", &words("listen 127.0.0.1"))).unwrap();
        assert_eq!(r.action, InterfaceAction::Listen);
        assert!(matches!(r.what, InterfaceMatch::Prefix { bits: 32, .. }));
        let r = parse_interface(&mut Args::new("interface", &words("ignore wildcard"))).unwrap();
        assert_eq!(r.what, InterfaceMatch::Wildcard);
        let r = parse_interface(&mut Args::new("nic", &words("drop eth0"))).unwrap();
        assert_eq!(r.what, InterfaceMatch::Name("eth0".into()));
        assert!(parse_interface(&mut Args::new("interface", &words("allow all"))).is_err());
        assert!(parse_interface(&mut Args::new("interface", &words("listen"))).is_err());
    }
}
